/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Changes against the live steering: the live state read as a configuration,
 * a whole configuration planned (every line checked before anything changes)
 * and applied, one target's change made or planned, the ports an edit leaves a
 * target, detaching, and waiting for servers that bind late.
 */
#ifndef __SKSTEER_APPLY_H
#define __SKSTEER_APPLY_H

#include <stdbool.h>
#include <stdio.h>
#include "config.h"
#include "steer.h"

struct apply_opts {
	bool dry_run; /* plan only: with no pins, against the empty state */
	bool force; /* as if every line said force */
	bool new_sockets; /* take another socket at a target's address if any */
	unsigned int wait_s; /* seconds to wait for every target to listen */
};

/* The live steering as a configuration, sorted (empty where nothing is steered). 0 or -1. */
int live_config(struct live *l, struct config *cfg, char *err, size_t errlen);

/*
 * A configuration checked against the live state, and the changes that make
 * the live state what it says (the targets that change, then those that go).
 */
struct plan {
	struct config want, have; /* sorted; have is the live state's */
	struct change *c;
	struct sock_info *socks; /* the socket live_check() chose for each change */
	int n;
	bool nothing; /* nothing is steered and nothing is to be: no pins to make */
};

/*
 * Plans want (taken over: left empty) against the live state: waits for the
 * targets to listen first (o->wait_s), then checks every line as the run
 * would, changing nothing. 0, or -1 with "FILE:LINE: ..." in err.
 */
int plan_make(struct live *l, struct config *want, const struct apply_opts *o, struct plan *p,
	      char *err, size_t errlen);

/* Applies the plan under the guarantees of live_apply_set(), loading and attaching as -p does. */
int plan_apply(struct live *l, const struct plan *p, char *err, size_t errlen);

/* The plan's changes as --dry-run prints them, on out (NULL: counted only); how many. */
int plan_diff(const struct plan *p, FILE *out);

void plan_free(struct plan *p);

/*
 * --dry-run of a run with -p, -s, --add or --remove: the checks of change c
 * and the changes it would make, on out (c->target NULL: the only target).
 * add and remove may be NULL. 0 in sync, 1 changes, -1 with err.
 */
int change_dry_run(struct live *l, const struct change *given, const struct portset *add,
		   const struct portset *remove, FILE *out, char *err, size_t errlen);

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
