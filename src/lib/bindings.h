/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Destination-scoped bindings at scale: from a list of (protocol, prefix,
 * port range) -> route to the bindings table (src/bpf/bindings_abi.h) that
 * the lookup searches, one family at a time, in memory; and the same search
 * in userspace, for the checks. Pure: no BPF, no kernel; bindings_maps.c
 * puts a table where the program reads it.
 */
#ifndef __SKSTEER_BINDINGS_H
#define __SKSTEER_BINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bindings_abi.h"

/* One binding: the route of a (protocol, destination prefix, port range). */
struct binding {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t len; /* the prefix length */
	uint8_t route; /* 1 to 254 */
	uint16_t lo, hi; /* the ports, 1 <= lo <= hi */
	uint8_t addr[16]; /* network byte order, host bits clear; IPv4 in the first 4 bytes */
};

/* What a build made, for --verbose and the benchmarks. */
struct bindings_stats {
	size_t prefixes; /* real entries */
	size_t markers; /* marker-only entries */
	size_t marked; /* real entries that are markers too */
	size_t multi; /* prefixes with a run */
	size_t inherited; /* prefixes that hold their parent's list */
	uint32_t depth; /* the search tree's */
};

/* One family's table, as the kernel maps hold it. */
struct bindings_table {
	int family;
	struct sksteer_table_meta meta;
	void *buckets; /* meta.buckets + SKSTEER_PROBES buckets */
	size_t bucket_size;
	struct sksteer_range *ranges;
	uint32_t nranges; /* in use: the runs end there */
	uint32_t ranges_room; /* the array's size (0: nranges, or 1 when there are none) */
	uint32_t gen; /* the generation lookups use (table_sel's bit 1) */
	struct bindings_stats stats;
};

/*
 * Builds family's table from the bindings of that family in b (sorted in
 * place; the other family's are ignored). seed picks the hash (0: any);
 * like, when not NULL, is the table in use: its hash and size are kept where
 * they fit. 0, or -EINVAL with one line in err naming the
 * binding at fault: a prefix with host bits, a range inside out, a route out
 * of 1-254, a (protocol, prefix, port) bound twice; -ENOMEM.
 */
int bindings_build(struct binding *b, size_t n, int family, uint64_t seed,
		   const struct bindings_table *like, struct bindings_table *t, char *err,
		   size_t errlen);

/* What a build holds: its buckets and ranges, freed. */
void bindings_table_free(struct bindings_table *t);

/* Bytes the table's arrays take (buckets and ranges), as the kernel's arrays round them. */
size_t bindings_table_bytes(const struct bindings_table *t);

/*
 * The route the table gives (protocol, destination, port), 0 for none: the
 * lookup of bindings.bpf.h, step for step. dst is network order, IPv4 in
 * the first 4 bytes.
 */
uint8_t bindings_table_route(const struct bindings_table *t, int proto, const uint8_t *dst,
			     uint16_t port);

/* Appends x to *b (malloc'd, *cap of room, *n used), grown as needed. 0 or -ENOMEM. */
int bindings_append(struct binding **b, size_t *n, size_t *cap, const struct binding *x);

/*
 * The bindings t holds, read back from its entries: each prefix's own ranges,
 * not the copies its entry holds of its parent's. Appended to *b (a malloc'd
 * array of *n, grown as needed), in table order. 0 or -ENOMEM.
 */
int bindings_table_read(const struct bindings_table *t, struct binding **b, size_t *n);

/* One store of a change made in place: an aligned 8-byte word, made whole. */
struct bindings_store {
	uint64_t value;
	size_t offset; /* into the buckets, or into the ranges */
	uint8_t in_ranges; /* a range of a run, not a word of an entry */
};

/*
 * A change of bindings made in the table in use (bindings_delta.c), by
 * generation (bindings_abi.h): only the entries that change are written.
 */
struct bindings_delta {
	struct bindings_store *prepare; /* new entries and runs, hidden; old ones hidden from gen */
	struct bindings_store *settle; /* once no lookup of the old generation runs */
	size_t nprepare, nsettle;
	uint32_t gen; /* the generation lookups switch to */
	uint32_t nranges; /* the ranges in use after */
	uint32_t probes; /* the buckets a lookup must read after (the meta's, raised first) */
	size_t written, retired; /* entries */
};

/*
 * The delta that makes family's bindings in b (sorted in place) what live's
 * lookups see, with live's hash, size and search tree. 0 (no stores: no
 * change); -EAGAIN when the change does not fit live and the table must be
 * built and swapped in whole: a new prefix length, no empty entry within
 * SKSTEER_PROBES buckets of a home, no room for a run, an eighth of the entries
 * tombstones, an entry hidden (a change cut short); -EINVAL with one line in
 * err as bindings_build(); -ENOMEM.
 */
int bindings_delta(const struct bindings_table *live, struct binding *b, size_t n,
		   struct bindings_delta *d, char *err, size_t errlen);

void bindings_delta_free(struct bindings_delta *d);

/* Makes the stores, each whole (release order), into the arrays at buckets and ranges. */
void bindings_stores_apply(const struct bindings_store *s, size_t n, void *buckets, void *ranges);

/* Whether an entry of t hides from a generation: a change in place is under way, or cut short. */
bool bindings_table_hides(const struct bindings_table *t);

/* Makes d in t, the table in memory it was made from: both phases, and the generation. */
void bindings_delta_commit(struct bindings_table *t, const struct bindings_delta *d);

#endif /* __SKSTEER_BINDINGS_H */
