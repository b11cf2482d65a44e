/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Changes against the live steering: a whole configuration's plan applied
 * (planned by planning.h's plan_make(), every line checked before anything
 * changes), one target's change made or planned, the ports an edit leaves a
 * target, and detaching.
 */
#ifndef __SKSTEER_APPLY_H
#define __SKSTEER_APPLY_H

#include <stdbool.h>
#include <stdio.h>
#include "config.h"
#include "planning.h"
#include "steer.h"

/*
 * --dry-run of a run with -p, -s, --add or --remove: the checks of change c
 * and the changes it would make, on out (c->target NULL: the only target).
 * add and remove may be NULL. 0 in sync, 1 changes, -1 with err.
 */
int change_dry_run(struct live *l, const struct change *given, const struct portset *add,
		   const struct portset *remove, FILE *out, char *err, size_t errlen);

/*
 * The kernel updates change_run() would make for that change (follow and cgroup as it takes
 * them), counted by running it dry on a reader's state, into *u (plan_dry_count()'s way).
 * 0; 1 where it would not count exactly; -1 with err.
 */
int change_dry_count(struct live *l, const struct change *given, const struct portset *add,
		     const struct portset *remove, int follow, const char *cgroup,
		     struct live_updates *u, char *err, size_t errlen);

/*
 * One change (-p, -s, --add, --remove, --follow): the program loaded (and
 * swapped in first where the pins need it), the change applied under
 * live_apply()'s guarantees, the program attached on a first run, the follow
 * mode (FOLLOW_*) set and the UDP client watcher brought in step. With
 * c->target NULL, the only target; with add or remove, the ports it has,
 * edited. 0, or -1 with err.
 */
int change_run(struct live *l, struct change *c, const struct portset *add,
	       const struct portset *remove, int follow, const char *cgroup, char *err,
	       size_t errlen);

/*
 * --detach: ends steering to target t (NULL: all of it, the pins too), or t's
 * bindings for prefix dst only (NULL: all of t's). The pins go with the last
 * target. 0, or -1 with err.
 */
int detach_run(struct live *l, const struct sksteer_target *t, const struct prefix *dst, char *err,
	       size_t errlen);

/*
 * --add and --remove: the ports target t has for destinations in dst (NULL:
 * every one; none if new), plus add, minus remove, into out. Refuses to remove
 * ports t does not have there, and to leave it without ports there. 0, or -1
 * with err.
 */
int ports_edit(const struct live *l, const struct sksteer_target *t, const struct prefix *dst,
	       const struct portset *add, const struct portset *remove, struct portset *out,
	       char *err, size_t errlen);

#endif /* __SKSTEER_APPLY_H */
