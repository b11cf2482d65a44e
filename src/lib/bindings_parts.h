/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The builder's parts (bindings.c and bindings_delta.c use them): the
 * entries of a list of bindings (bindings.c), the search tree over the
 * lengths (bindings_tree.c) and the placement of entries in the hash table
 * (bindings_place.c).
 */
#ifndef __SKSTEER_BINDINGS_PARTS_H
#define __SKSTEER_BINDINGS_PARTS_H

#include "bindings.h"

/* Clears the bits of a 16-byte address past len (an IPv4 one's last 12 bytes too). */
static inline void mask_prefix(uint8_t *addr, unsigned int len)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = len > 8 * i ? len - 8 * i : 0;

		addr[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

/* An entry before placement: its value word, key address and inline ranges. */
struct place_entry {
	uint64_t val;
	uint8_t addr[16];
	uint16_t lo[SKSTEER_INLINE6], hi[SKSTEER_INLINE6];
	uint32_t routes; /* the builder's: the inline routes, a byte each */
};

/* Orders entries by (protocol, length, address): equal is the same key. */
int place_entry_cmp(const void *x, const void *y);

/* The home bucket of the entry (addr, key) in t's table (t's hash and size). */
uint32_t place_home(const struct bindings_table *t, const uint8_t *addr, uint32_t key);

/* The size of one of family's entries in a bucket. */
size_t place_entry_size(int family);

/* Writes e at `at`, an entry of a table of family: its body, then its value word. */
void place_put(int family, void *at, const struct place_entry *e);

/* The entry at `at` as a place_entry (its routes left 0). */
void place_get(int family, const void *at, struct place_entry *e);

/*
 * The entries of the family's bindings in b (sorted in place, checked as
 * bindings_build() checks them): *e (malloc'd, *ne of them, unplaced), and
 * t's search tree, runs and stats (t->family set). With tree, its lengths
 * and search tree are kept: -EAGAIN when b has a length tree does not.
 * 0, -EINVAL with one line in err, -E2BIG, -ENOMEM.
 */
int bindings_entries(struct binding *b, size_t n, const struct sksteer_table_meta *tree,
		     struct bindings_table *t, struct place_entry **e, size_t *ne, char *err,
		     size_t errlen);

/*
 * Places n entries in t's table (t->family, t->bucket_size set): every entry
 * within SKSTEER_PROBES buckets of its home, about 60% full; sets the meta's
 * hash and sizes. With like, its hash and size first, where the entries fit
 * them: the same entries then land where like's table has them. seed 0:
 * any. 0 or -ENOMEM.
 */
int place_entries(struct bindings_table *t, const struct place_entry *e, size_t n, uint64_t seed,
		  const struct sksteer_table_meta *like);

/* A real prefix as the tree sees it: its protocol, length's index and address. */
struct tree_prefix {
	uint8_t proto, at;
	uint8_t addr[16];
};

/*
 * The search tree over m's lengths (m->lens, m->n) with the fewest marker
 * entries for these prefixes (sorted by protocol, length, address), among
 * the trees no deeper than the balanced one plus two levels; a balanced one
 * where that would take long. Sets m->root, left and right; *depth. 0 or
 * -ENOMEM.
 */
int tree_fewest_markers(const struct tree_prefix *tp, size_t n, int family,
			struct sksteer_table_meta *m, uint32_t *depth);

#endif /* __SKSTEER_BINDINGS_PARTS_H */
