/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The bindings table: destination-scoped bindings at an edge proxy's scale
 * (a million (protocol, prefix, port range) -> route), as the lookup
 * (bindings.bpf.h) searches it and the loader (src/lib/bindings.c) builds it.
 *
 * Per family, one open-addressed hash table of buckets of SKSTEER_BUCKET
 * entries, in an mmapable array sized to need. An entry is keyed by
 * (protocol, prefix length, address masked to the length). It is either
 *   - a real prefix, one that binds ports: its ports are a short list of
 *     ranges kept in the entry, in priority order (its own, then its
 *     parent's when both fit), or, when it has more of its own than fit
 *     (SKSTEER_E_MULTI), a sorted run of struct sksteer_range in the
 *     family's ranges array; or
 *   - a marker (SKSTEER_E_MARK without SKSTEER_E_REAL), for the search.
 *
 * The search is a binary search over the prefix lengths present
 * (Waldvogel et al., "Scalable high speed IP routing lookups", 1997): the
 * meta holds a search tree over them, chosen by the loader. A miss goes to
 * the shorter side; a hit with SKSTEER_E_MARK to the longer side; a hit
 * without it stops. A marker carries its bmp, the length of the longest real
 * prefix holding it, so the search ends knowing the longest real prefix
 * that holds the destination: 6 probes at most in IPv4 (8 in IPv6) with a
 * balanced tree, however many prefixes and lengths.
 *
 * Most specific wins, per port: the longest real prefix's list decides; a
 * port it does not bind falls to its link, the next real prefix whose list
 * has not been copied into it, and so on; the unscoped route comes last
 * (the program's, not this table's).
 *
 * The entry's value word (one 8-byte store publishes it):
 *   inline (not SKSTEER_E_MULTI): bits 0-31 the route of each inline range
 *     (byte i for range i), bits 32-35 their count (0 for a marker), bits
 *     36-39 how many of them are the prefix's own (the loader's, to read the
 *     bindings back: the rest are copies);
 *   SKSTEER_E_MULTI: bits 0-23 the index of the run, bits 24-39 its length;
 *   bits 40-47 the prefix length, bits 48-55 the flags, bits 56-63 the link
 *   (a real prefix) or the bmp (a marker): SKSTEER_NO_LEN for none.
 * A value word of 0 is an empty entry: a probe stops there.
 *
 * A change of some bindings is made in the table in use, by generation
 * (bit 1 of table_sel; bit 0 is the half): the entries that change are
 * written as new copies into empty entries or tombstones, hidden from the
 * generation in use (SKSTEER_E_HIDE0 << gen), and the entries they replace
 * are hidden from the next; one store to table_sel switches lookups to it,
 * so each lookup sees the old bindings or the new, whole. Once no lookup of
 * the old generation can run, the replaced entries become tombstones
 * (SKSTEER_TOMBSTONE: a probe goes on past them, none matches them) and the
 * new ones lose their hide bit. At rest no entry hides.
 */
#ifndef __SKSTEER_BINDINGS_ABI_H
#define __SKSTEER_BINDINGS_ABI_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define SKSTEER_E_USED 1
#define SKSTEER_E_UDP 4
#define SKSTEER_E_MULTI 8
#define SKSTEER_E_REAL 16
#define SKSTEER_E_MARK 32
#define SKSTEER_E_HIDE0 64 /* hidden from lookups of generation 0; HIDE0 << 1 from those of 1 */
#define SKSTEER_NO_LEN 0xff
/* an entry no lookup matches: used, of a length no address has */
#define SKSTEER_TOMBSTONE ((__u64)SKSTEER_E_USED << 48 | (__u64)SKSTEER_NO_LEN << 40)

#define SKSTEER_E_ROUTES(v) ((__u32)(v))
#define SKSTEER_E_COUNT(v) ((__u32)((v) >> 32) & 0xf)
#define SKSTEER_E_OWN(v) ((__u32)((v) >> 36) & 0xf)
#define SKSTEER_E_RUN(v) ((__u32)(v)&0xffffff)
#define SKSTEER_E_RUN_LEN(v) ((__u32)((v) >> 24) & 0xffff)
#define SKSTEER_E_FLAGS(v) ((__u32)((v) >> 48) & 0xff)
#define SKSTEER_E_LINK(v) ((__u32)((v) >> 56))
/* (length | (USED, UDP) << 8): what a probe compares, one word */
#define SKSTEER_E_KEY(v) ((__u32)((v) >> 40) & 0x5ff)
/* the same, with the entry's hide bit for generation gen: a hidden entry never matches */
#define SKSTEER_E_KEY_IN(v, gen) ((__u32)((v) >> 40) & (0x5ff | SKSTEER_E_HIDE0 << 8 << (gen)))
#define SKSTEER_KEY(len, udp) ((__u32)(len) | (SKSTEER_E_USED | ((udp) ? SKSTEER_E_UDP : 0)) << 8)

/* ranges a real prefix keeps in its entry: IPv4 entries are 24 bytes, IPv6 40 */
#define SKSTEER_INLINE4 3
#define SKSTEER_INLINE6 4

struct sksteer_entry4 {
	__u64 val;
	__u32 addr; /* masked, network byte order */
	__u16 lo[SKSTEER_INLINE4], hi[SKSTEER_INLINE4];
};

struct sksteer_entry6 {
	__u64 val;
	__u32 addr[4];
	__u16 lo[SKSTEER_INLINE6], hi[SKSTEER_INLINE6];
};

/* the array's element: a bucket, filled front to back (one map lookup reads it) */
#define SKSTEER_BUCKET 8

struct sksteer_bucket4 {
	struct sksteer_entry4 e[SKSTEER_BUCKET];
};

struct sksteer_bucket6 {
	struct sksteer_entry6 e[SKSTEER_BUCKET];
};

/* a range of an SKSTEER_E_MULTI prefix's run: sorted, disjoint */
struct sksteer_range {
	__u16 lo, hi;
	__u8 route;
	__u8 pad[3];
};

/*
 * Buckets a probe reads at most: the loader places every entry within this
 * many buckets of its home, and the table has this many past its last home.
 */
#define SKSTEER_PROBES 8
#define SKSTEER_LENS4 33
#define SKSTEER_LENS6 129
/* the search tree's depth: balanced needs 6 (IPv4) and 8 (IPv6); two more save markers */
#define SKSTEER_DEPTH4 8
#define SKSTEER_DEPTH6 10
/* the binary search over a run: 2^17 > 65,535 ranges */
#define SKSTEER_RUN_STEPS 17
/* the longest run (SKSTEER_E_RUN_LEN) and the ranges array's size (SKSTEER_E_RUN) */
#define SKSTEER_RUN_MAX 65535
#define SKSTEER_RANGES_MAX (1U << 24)

/*
 * One family's meta, double-buffered: element 2 * family + (sel[family] & 1)
 * of the meta map is in use, with the table and ranges array in the same
 * half of their outer maps. A change that does not fit the table in use (a
 * new prefix length, no empty entry near a home, too many tombstones) builds
 * the other half and switches sel in one store, so each lookup sees one whole
 * table, old or new; other changes switch sel's generation (above).
 */
struct sksteer_table_meta {
	__u64 m1, m2; /* the hash's odd multipliers (a rebuild may pick others) */
	__u32 buckets; /* home buckets; the array has SKSTEER_PROBES more */
	__u32 probes; /* the most buckets any entry needs read (<= SKSTEER_PROBES) */
	__u32 root; /* the search tree's root, an index in lens; SKSTEER_NO_LEN: empty */
	__u32 n; /* lengths present */
	/* ascending, and the tree's children (256: an index masked with 0xff is in bounds) */
	__u8 lens[256], left[256], right[256];
};

/* the hash: multiply, xor-shift, multiply; the bucket by multiply-high over `buckets` */
static __always_inline __u32 sksteer_hash4(__u32 addr, __u32 key, __u64 m1, __u64 m2, __u32 buckets)
{
	__u64 h = ((__u64)addr << 32 | key) * m1;

	h ^= h >> 29;
	h *= m2;
	return (__u32)(((h >> 32) * (__u64)buckets) >> 32);
}

static __always_inline __u32 sksteer_hash6(__u32 a0, __u32 a1, __u32 a2, __u32 a3, __u32 key,
					   __u64 m1, __u64 m2, __u32 buckets)
{
	__u64 h = ((__u64)a0 << 32 | a1) * m1;

	h ^= (__u64)a2 << 32 | a3;
	h *= m2;
	h ^= key;
	h ^= h >> 29;
	h *= m1;
	return (__u32)(((h >> 32) * (__u64)buckets) >> 32);
}

#endif /* __SKSTEER_BINDINGS_ABI_H */
