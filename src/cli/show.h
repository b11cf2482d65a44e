/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What --list, --list --json, --metrics and --check share: a status snapshot, and its JSON. */
#ifndef __SKSTEER_SHOW_H
#define __SKSTEER_SHOW_H

#include <stdio.h>
#include <sksteer/sksteer.h>
#include "options.h"
#include "parse.h"

/* Past this many prefixes, --list gives a target's count of them, and -s TARGET each one. */
#define LIST_PREFIXES 16

/* Which targets and bindings --list shows (list_view.c): every one, or -s's, or --dst's. */
struct list_view {
	bool by_target, by_dst;
	char target[64]; /* as the status names it: "udp:127.0.0.1:53" */
	struct prefix dst;
};

/* The view that a's -s TARGET and --dst PREFIX ask for. 0, or -1 (a prefix options.c let by). */
int list_view_make(const struct args *a, struct list_view *v);
/* Whether v shows t at all; its line for every address; a prefix's line; each prefix. */
bool list_view_target(const struct list_view *v, const struct sksteer_target_status *t);
bool list_view_every_address(const struct list_view *v, const struct sksteer_target_status *t);
bool list_view_dst(const struct list_view *v, const struct sksteer_scoped *s);
bool list_view_each_prefix(const struct list_view *v, const struct sksteer_target_status *t);
/* The bindings (port ranges) in a list of ports: "80,443,8000-8999" is 3. */
unsigned int list_bindings(const char *ports);

/* The namespace's status. 0, or -1 with the library's message in err. */
int show_status(struct sksteer_ns *ns, struct sksteer_status **st, char *err, size_t errlen);

/*
 * --list --json: one document, on f, of the targets and bindings v shows; name: the
 * namespace's (--all-netns), or NULL.
 */
void show_json(const struct sksteer_status *st, const struct list_view *v, const char *name,
	       FILE *f);
/* ... of a namespace that steers nothing; stale_pins: where its pins are left, or NULL. */
void show_json_idle(uint64_t ino, const char *name, const char *stale_pins, FILE *f);

/* --metrics (metrics.c): the samples of these namespaces, each family's together. */
struct scrape {
	const struct sksteer_status *st;
	unsigned long long ino;
};
void metrics_print(const struct scrape *sc, size_t nsc, FILE *f);
/* Applies counted: a watcher's of its file (--watch), as its --serve-metrics shows them */
struct applies {
	uint64_t last_ns, last_ok_ns; /* CLOCK_REALTIME; 0: none yet */
	uint64_t applied, failed;
	bool last_ok;
};
void metrics_file(const char *file, const struct applies *fa, FILE *f);

/* --list of a status read already (src/cli/cmd_show.c): 0, or 1 said (-s or --dst: no match) */
int list_status(const struct sksteer_status *st, const struct args *a);

/* One namespace's metrics into f (--metrics, --serve-metrics): 0, or -1 with err */
int metrics_one(struct sksteer_ns *ns, FILE *f, char *err, size_t errlen);

#endif /* __SKSTEER_SHOW_H */
