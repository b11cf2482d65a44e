/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Configuration files against the live steering: the live state read as a
 * configuration (--save), a whole file checked before anything changes and
 * then applied (--config), the plan --dry-run prints, the ports --add and
 * --remove leave a target, and waiting for servers that bind late (--wait).
 */
#ifndef __SKSTEER_APPLY_H
#define __SKSTEER_APPLY_H

#include <stdbool.h>
#include <stdio.h>
#include "config.h"
#include "steer.h"

struct apply_opts {
	const char *file; /* --config FILE, or "-" for standard input: its name in messages */
	const char *text; /* its len bytes, read whole before the lock (input.h) */
	size_t len;
	bool dry_run; /* print the plan on out, change nothing */
	bool force; /* --force: as if every line said force */
	bool new_sockets; /* --new-sockets: take another socket at a target's address if any */
	unsigned int wait_s; /* --wait: seconds to wait for every target to listen */
	FILE *out;
};

/*
 * --save: the live steering in the file format, on f. l is as pins_open()
 * left it (PINS_READ). 0, or -1 with err.
 */
int config_save(struct live *l, FILE *f, char *err, size_t errlen);

/*
 * --config: makes the live steering what the file says, under the guarantees
 * of live_apply_set(), loading and attaching the program as a run with -p
 * does. Every line is checked first: an error names FILE:LINE and nothing
 * changes. With dry_run (l opened PINS_READ), prints the changes instead.
 * 0 when done or in sync, 1 when a dry run found changes, -1 with err.
 */
int config_run(struct live *l, const struct apply_opts *o, char *err, size_t errlen);

/*
 * --dry-run of a run with -p, -s, --add or --remove: the checks of change c
 * and the changes it would make, on out (c->target NULL: the only target).
 * add and remove may be NULL. 0 in sync, 1 changes, -1 with err.
 */
int change_dry_run(struct live *l, const struct change *given, const struct portset *add,
		   const struct portset *remove, FILE *out, char *err, size_t errlen);

/*
 * --add and --remove: the ports target t has (none if new), plus add, minus
 * remove, into out. Refuses to remove ports t does not have, and to leave t
 * without ports. 0, or -1 with err.
 */
int ports_edit(const struct live *l, const struct sksteer_target *t, const struct portset *add,
	       const struct portset *remove, struct portset *out, char *err, size_t errlen);

#endif /* __SKSTEER_APPLY_H */
