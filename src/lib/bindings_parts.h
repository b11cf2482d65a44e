/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The builder's parts (bindings.c uses them): the search tree over the
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
