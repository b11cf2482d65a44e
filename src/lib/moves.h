/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Applying changes to the live state (src/lib/moves.c): one change, a whole configuration's
 * at once, targets removed.
 */
#ifndef __SKSTEER_MOVES_H
#define __SKSTEER_MOVES_H

#include <stddef.h>
#include "live.h"

/*
 * Applies one change: a port that stays steered is never unsteered on the way,
 * a port that moves changes owner in one map update. 0, or -1 with err and
 * nothing changed.
 */
int live_apply(struct live *l, const struct change *c, char *err, size_t errlen);

/*
 * Applies n changes (each with ports) as one, with the sockets live_check()
 * chose for them: every target first gains its new ports (a port that moves
 * changes owner in one store), then lets go of those it loses; targets left
 * without ports are removed. So however ports move between targets, a port
 * that stays steered is never unsteered on the way. A target keeps its socket's
 * flags unless its socket changes. 0, or -1 with err.
 */
int live_apply_set(struct live *l, const struct change *c, const struct sock_info *socks, int n,
		   char *err, size_t errlen);

/* Removes target slot: its ports first, then its socket and bookkeeping. */
int live_remove(struct live *l, int slot, char *err, size_t errlen);

/* Removes target slot's ports for destinations in dst; the target too if none are left. */
int live_remove_scope(struct live *l, int slot, const struct prefix *dst, char *err, size_t errlen);

/* Removes the targets left without ports; during a migration, only once the new program runs. */
int live_drop_empty(struct live *l, char *err, size_t errlen);

#endif /* __SKSTEER_MOVES_H */
