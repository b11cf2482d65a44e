/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A configuration planned against the live steering (planning.c): the plan,
 * and what apply.c takes to apply it. apply.h gives the rest of the changes.
 */
#ifndef __SKSTEER_PLANNING_H
#define __SKSTEER_PLANNING_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
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
	gid_t gid; /* want's group (access.h); 0: none */
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

/*
 * What applying the plan would write to the kernel, counted by running the apply dry (l->dry)
 * on a reader's state, into *u: exactly what plan_apply() counts for --verbose. 0; 1 where
 * it would not be exact (nothing steered yet, pins an upgrade changes), -1 with err.
 */
struct live_updates;
int plan_dry_count(struct live *l, const struct plan *p, struct live_updates *u, char *err,
		   size_t errlen);

/* The plan's changes as --dry-run prints them, on out (NULL: counted only); how many. */
int plan_diff(const struct plan *p, FILE *out);

void plan_free(struct plan *p);

/* A line's follow options as follow_set() takes them. */
int follow_mode(const struct config_target *t);

/* The live steering as a configuration, sorted. 0, or -1 with err. */
int config_from_live(const struct live *l, struct config *cfg, char *err, size_t errlen);

/* The live state to plan against: read from the pins, or empty where there are none. */
int open_for_plan(struct live *l, char *err, size_t errlen);

#endif /* __SKSTEER_PLANNING_H */
