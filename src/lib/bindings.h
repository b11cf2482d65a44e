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
	uint32_t nranges;
	struct bindings_stats stats;
};

/*
 * Builds family's table from the bindings of that family in b (sorted in
 * place; the other family's are ignored). seed picks the hash (0: any);
 * like, when not NULL, is the table in use: its hash and size are kept where
 * they fit, so that a change of routes alone can be made in place
 * (bindings_table_patch()). 0, or -EINVAL with one line in err naming the
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

/* One store of a change made in place: see bindings_table_patch(). */
struct bindings_store {
	uint64_t value;
	size_t offset; /* into the buckets (an entry's value word), or into the ranges */
	uint8_t in_ranges; /* a run's route byte, not a value word */
};

/*
 * The stores that turn live into t in place (bindings_patch.c): when t was
 * built like live (its hash and size) and differs from it in routes alone,
 * one store per prefix entry or run range whose route changed: an aligned
 * 8-byte value word, or a byte. 0 with *stores (malloc'd) and *n; -EAGAIN
 * when they differ in more than routes (t must be swapped in whole); -ENOMEM.
 */
int bindings_table_patch(const struct bindings_table *live, const struct bindings_table *t,
			 struct bindings_store **stores, size_t *n);

/* Makes the stores, each whole (release order), into the arrays at buckets and ranges. */
void bindings_stores_apply(const struct bindings_store *s, size_t n, void *buckets, void *ranges);

#endif /* __SKSTEER_BINDINGS_H */
