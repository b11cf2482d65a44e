/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The steering program's lifecycle: loading it against the pinned maps (and
 * making the maps older pins lack), attaching and pinning it on a first run,
 * and swapping another build or a tracing instance into the pinned link,
 * atomically, so that steering never pauses. Owns the "build" pin, which says
 * that the link runs this build's program, so that a run need not load it.
 */
#ifndef __SKSTEER_PROGRAM_H
#define __SKSTEER_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

struct live;

struct sksteer_bpf;

/*
 * Loads the plain program (or, with trace, its tracing instance) against the
 * maps in l->fds, creating those that are missing. NULL with err set.
 * Where the live pins already run this build's plain program, as a run of
 * this build recorded in them (the "build" pin), nothing is loaded: the handle
 * returned stands for the pinned program, and program_sync() keeps it.
 */
struct sksteer_bpf *program_load(struct live *l, bool trace, char *err, size_t errlen);

/*
 * program_load() of a dry apply (apply.c), which loads nothing: whether the link runs this
 * build's program with the maps pinned now (l->program_current, set), as program_load() finds.
 */
bool program_dry_load(struct live *l);
void program_free(struct sksteer_bpf *skel);

/* Live steering: swaps the loaded program into the pinned link if another one runs there. */
int program_sync(struct live *l, struct sksteer_bpf *skel, char *err, size_t errlen);

/* A first run: attaches to the current network namespace and pins the maps, then the link. */
int program_attach(struct live *l, struct sksteer_bpf *skel, char *err, size_t errlen);

/* A tracing instance in the pinned link, and what to put back afterwards. */
struct tracing {
	struct sksteer_bpf *plain, *tracing;
	int link_fd;
	int before_fd;
	int events_fd; /* the tracing instance's own ring buffer */
};

/* Swaps a tracing instance in, recording this process as the tracer. -1 with err set. */
int program_trace_begin(struct live *l, struct tracing *t, char *err, size_t errlen);

/* Puts back what ran before, and frees what begin took. */
void program_trace_end(struct live *l, struct tracing *t);

/* What program_trace_end() frees, without the swap: the tracing program stays in the link. */
void program_trace_free(struct tracing *t);

#endif /* __SKSTEER_PROGRAM_H */
