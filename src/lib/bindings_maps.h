/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Puts a bindings table (bindings.h) where the lookup (bindings.bpf.h) reads
 * it: the half of the family's maps no lookup uses, then one switch.
 */
#ifndef __SKSTEER_BINDINGS_MAPS_H
#define __SKSTEER_BINDINGS_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include "bindings.h"

/* The maps of bindings.bpf.h, by fd. */
struct bindings_maps {
	int tables4, tables6; /* arrays of maps: the two halves of each family's table */
	int ranges; /* array of maps: 2 * family + half */
	int metas; /* 2 * family + half */
	int sel; /* family -> the half in use */
};

/*
 * Makes t its family's table: new arrays sized to it, filled through mmap,
 * put in the half no lookup uses with its meta, then sel switched in one
 * store. Each lookup sees the old table or the new one, whole. Waits a
 * grace period first, as the unused half may have been in use moments ago.
 * One writer at a time (the caller's lock). *updates counts the kernel
 * writes it made. 0 or a negative errno, with one line in err.
 */
int bindings_publish(const struct bindings_maps *m, const struct bindings_table *t, size_t *updates,
		     char *err, size_t errlen);

/*
 * The kernel writes bindings_stage() makes for t (its arrays' entries and 3 map entries), and
 * those bindings_delta_make() makes for d in a table whose meta has probes: what a dry apply
 * counts (scope_store.c) without making them.
 */
size_t bindings_stage_stores(const struct bindings_table *t);
size_t bindings_delta_stores(const struct bindings_delta *d, __u32 probes);

/*
 * bindings_publish() in two steps, for a caller that records the new arrays
 * (pins them) before lookups use them: stage t in the half no lookup uses
 * (*half; fds receives its arrays, the caller's to close), then switch the
 * family's lookups to it.
 */
int bindings_stage(const struct bindings_maps *m, const struct bindings_table *t, int *fds,
		   __u32 *half, size_t *updates, char *err, size_t errlen);
int bindings_switch(const struct bindings_maps *m, int family, __u32 half, char *err,
		    size_t errlen);

/*
 * The table whose arrays are table_fd and ranges_fd (read-only fds will do),
 * with meta, copied into t (malloc'd: bindings_table_free()). 0 or a negative
 * errno, with one line in err.
 */
int bindings_copy_in(int table_fd, int ranges_fd, const struct sksteer_table_meta *meta, int family,
		     struct bindings_table *t, char *err, size_t errlen);

/*
 * The family's table in use, copied from the maps into t (malloc'd: free it
 * with bindings_table_free()), its arrays found by id (CAP_SYS_ADMIN). 0 or a
 * negative errno, with one line in err.
 */
int bindings_fetch(const struct bindings_maps *m, int family, struct bindings_table *t, char *err,
		   size_t errlen);

/*
 * Makes d (bindings_delta()) in the family's table in use, whose arrays are
 * table_fd and ranges_fd: its new entries written, hidden; a grace period;
 * lookups switched to its generation in one store; a grace period; the old
 * entries tombstoned and the new ones shown to both generations. Each
 * lookup sees the old bindings or the new. One writer at a time. *updates
 * counts the kernel writes. 0; -ESTALE when the table in use is not the one
 * d was made from, -EOPNOTSUPP when the kernel cannot wait for a grace period
 * (membarrier refused): lookups see what they did, and a table swapped in
 * whole is the way (err not set for those two); or a negative errno, with one
 * line in err.
 */
int bindings_delta_make(const struct bindings_maps *m, int family, int table_fd, int ranges_fd,
			const struct bindings_delta *d, size_t *updates, char *err, size_t errlen);

/*
 * Makes the family's bindings in b (sorted here) what its lookups see, given
 * live, the table in use (bindings_fetch()), which becomes the new one: in
 * place where the change fits it (bindings_delta()), else built and swapped
 * in whole. *in_place says which; *updates counts the kernel writes. 0 or a
 * negative errno, with one line in err.
 */
int bindings_update(const struct bindings_maps *m, struct bindings_table *live, struct binding *b,
		    size_t n, size_t *updates, bool *in_place, char *err, size_t errlen);

#endif /* __SKSTEER_BINDINGS_MAPS_H */
