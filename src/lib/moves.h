/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Applying changes to the live state (src/lib/moves.c): one change, a whole configuration's
 * at once (targets removed: slots.h).
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

#endif /* __SKSTEER_MOVES_H */
