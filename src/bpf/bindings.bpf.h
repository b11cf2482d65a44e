/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The scoped lookup at scale: which route the bindings table (bindings_abi.h)
 * gives a destination and port. Included by the programs that search it; the
 * maps are theirs, the loader fills them.
 *
 * The probes are BPF-global functions, verified once each rather than once
 * per call site: the search calls them up to 10 times and the fall-through
 * up to 129. They take the IPv6 address as two scalars, as 5.10 refuses a
 * global function that takes a pointer to the sk_lookup context.
 */
#ifndef __SKSTEER_BINDINGS_BPF_H
#define __SKSTEER_BINDINGS_BPF_H

#include "bindings_abi.h"

/*
 * The inner arrays' templates, with sizes and no BTF types: the loader makes
 * the arrays without BTF, and 6.1 finds an array with a struct's BTF
 * incompatible with one without (their timer offsets differ), where 5.10
 * and later kernels do not look.
 */
struct bindings_table4 {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct sksteer_bucket4));
};

struct bindings_table6 {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct sksteer_bucket6));
};

struct bindings_run {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct sksteer_range));
};

/* each family's two tables (sel), and their ranges arrays (2 * family + sel) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct bindings_table4);
} tables4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct bindings_table6);
} tables6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct bindings_run);
} table_ranges SEC(".maps");

/* 2 * family + sel: the metas; and sel, per family, which half is in use */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct sksteer_table_meta);
} table_metas SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} table_sel SEC(".maps");

/* An index the verifier sees bounded by 255, whatever it proved before. */
static __always_inline __u64 byte_index(__u32 i)
{
	__u64 ii = i;

	barrier_var(ii);
	return ii & 0xff;
}

/*
 * What a probe answers: 0 for a miss; else bit 63, the entry's flags (bits
 * 16-23), its link or bmp (bits 8-15), and for a real prefix the route its
 * list gives the port (bits 0-7, 0 when it binds none).
 */
#define HIT(v, route) \
	(1ULL << 63 | (__u64)SKSTEER_E_FLAGS(v) << 16 | (__u64)SKSTEER_E_LINK(v) << 8 | (route))
#define HIT_FLAGS(r) ((__u32)((r) >> 16) & 0xff)
#define HIT_LINK(r) ((__u32)((r) >> 8) & 0xff)

/* an SKSTEER_E_MULTI prefix: binary search of its run */
static __always_inline __u32 run_route(__u64 v, __u32 port, __u32 which)
{
	__u32 lo = SKSTEER_E_RUN(v), hi = lo + SKSTEER_E_RUN_LEN(v);
	void *run = bpf_map_lookup_elem(&table_ranges, &which);

	if (!run)
		return 0;
	for (int s = 0; s < SKSTEER_RUN_STEPS; s++) {
		struct sksteer_range *r;
		__u32 mid;

		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		r = bpf_map_lookup_elem(run, &mid);
		if (!r)
			break;
		if (port < r->lo)
			hi = mid;
		else if (port > r->hi)
			lo = mid + 1;
		else
			return r->route;
	}
	return 0;
}

/*
 * The route a found entry's list gives port: its inline ranges, first match
 * (their bounds packed 16 bits each, range q at bit 16q), or its run. A
 * global function, verified once rather than once for every slot a probe
 * may find the entry in.
 */
__attribute__((noinline)) __u64 bindings_entry(__u64 v, __u64 los, __u64 his, __u32 port,
					       __u32 which)
{
	__u32 cnt = SKSTEER_E_COUNT(v);

	if (!(SKSTEER_E_FLAGS(v) & SKSTEER_E_REAL))
		return HIT(v, 0);
	if (SKSTEER_E_FLAGS(v) & SKSTEER_E_MULTI)
		return HIT(v, run_route(v, port, which));
#pragma unroll
	for (__u32 q = 0; q < SKSTEER_INLINE6; q++)
		if (q < cnt && port >= ((los >> (16 * q)) & 0xffff) &&
		    port <= ((his >> (16 * q)) & 0xffff))
			return HIT(v, (v >> (8 * q)) & 0xff);
	return HIT(v, 0);
}

/* One probe of the IPv4 table: the entry (protocol, len, dst masked to len). */
__attribute__((noinline)) __u64 bindings_probe4(__u32 dst, __u32 which, __u32 len, __u32 port_udp)
{
	__u32 meta_at = which & 1, want, k, gen, port = port_udp & 0xffff;
	struct sksteer_table_meta *m = bpf_map_lookup_elem(&table_metas, &meta_at);
	struct sksteer_entry4 *e;
	void *table;
	__u64 v;

	if (!m || len > 32)
		return 0;
	table = bpf_map_lookup_elem(&tables4, &meta_at);
	if (!table)
		return 0;
	dst &= bpf_htonl((__u32)(0xffffffffULL << (32 - (len & 63))));
	want = SKSTEER_KEY(len, port_udp >> 16);
	gen = (which >> 1) & 1;
	k = sksteer_hash4(dst, want, m->m1, m->m2, m->buckets);
	for (__u32 j = 0; j < SKSTEER_PROBES && j < m->probes; j++, k++) {
		struct sksteer_bucket4 *b = bpf_map_lookup_elem(table, &k);

		if (!b)
			return 0;
#pragma unroll
		for (int s = 0; s < SKSTEER_BUCKET; s++) {
			e = &b->e[s];
			v = e->val;
			if (!v)
				return 0;
			if (SKSTEER_E_KEY_IN(v, gen) == want && e->addr == dst)
				return bindings_entry(
					v, e->lo[0] | (__u64)e->lo[1] << 16 | (__u64)e->lo[2] << 32,
					e->hi[0] | (__u64)e->hi[1] << 16 | (__u64)e->hi[2] << 32,
					port, meta_at);
		}
	}
	return 0;
}

static __always_inline __u32 word_mask(__u32 len, __u32 w)
{
	__u32 b = len > 32 * w ? len - 32 * w : 0;

	return bpf_htonl((__u32)(0xffffffffULL << (32 - (b > 32 ? 32 : b))));
}

/* One probe of the IPv6 table; the address as two scalars (see above). */
__attribute__((noinline)) __u64 bindings_probe6(__u64 a01, __u64 a23, __u32 which, __u32 len,
						__u32 port_udp)
{
	__u32 meta_at = 2 + (which & 1), at = which & 1, a0, a1, a2, a3, want, k, gen;
	struct sksteer_table_meta *m = bpf_map_lookup_elem(&table_metas, &meta_at);
	__u32 port = port_udp & 0xffff;
	struct sksteer_entry6 *e;
	void *table;
	__u64 v;

	if (!m || len > 128)
		return 0;
	table = bpf_map_lookup_elem(&tables6, &at);
	if (!table)
		return 0;
	a0 = (__u32)(a01 >> 32) & word_mask(len, 0);
	a1 = (__u32)a01 & word_mask(len, 1);
	a2 = (__u32)(a23 >> 32) & word_mask(len, 2);
	a3 = (__u32)a23 & word_mask(len, 3);
	want = SKSTEER_KEY(len, port_udp >> 16);
	gen = (which >> 1) & 1;
	k = sksteer_hash6(a0, a1, a2, a3, want, m->m1, m->m2, m->buckets);
	for (__u32 j = 0; j < SKSTEER_PROBES && j < m->probes; j++, k++) {
		struct sksteer_bucket6 *b = bpf_map_lookup_elem(table, &k);

		if (!b)
			return 0;
#pragma unroll
		for (int s = 0; s < SKSTEER_BUCKET; s++) {
			e = &b->e[s];
			v = e->val;
			if (!v)
				return 0;
			if (SKSTEER_E_KEY_IN(v, gen) == want &&
			    !((e->addr[0] ^ a0) | (e->addr[1] ^ a1) | (e->addr[2] ^ a2) |
			      (e->addr[3] ^ a3)))
				return bindings_entry(
					v,
					e->lo[0] | (__u64)e->lo[1] << 16 | (__u64)e->lo[2] << 32 |
						(__u64)e->lo[3] << 48,
					e->hi[0] | (__u64)e->hi[1] << 16 | (__u64)e->hi[2] << 32 |
						(__u64)e->hi[3] << 48,
					port, meta_at);
		}
	}
	return 0;
}

/*
 * The search: down the tree over the present lengths (left on a miss, right
 * on a hit with a mark) to the longest real prefix holding the destination;
 * then its list decides, else its link's, and so on. PROBE(len) probes the
 * family's table.
 */
#define SEARCH(PROBE, DEPTH, LENS)                                          \
	do {                                                                \
		__u32 at, bmp = SKSTEER_NO_LEN, hit_len = SKSTEER_NO_LEN;   \
		__u64 r, hit = 0;                                           \
                                                                            \
		if (!m || !m->n) /* no prefix of the family binds */        \
			return 0;                                           \
		at = m->root;                                               \
		for (int d = 0; d < (DEPTH) && at != SKSTEER_NO_LEN; d++) { \
			__u32 len = m->lens[byte_index(at)];                \
                                                                            \
			r = PROBE(len);                                     \
			if (!r) {                                           \
				at = m->left[byte_index(at)];               \
				continue;                                   \
			}                                                   \
			if (HIT_FLAGS(r) & SKSTEER_E_REAL) {                \
				bmp = hit_len = len;                        \
				hit = r;                                    \
			} else {                                            \
				bmp = HIT_LINK(r);                          \
			}                                                   \
			if (!(HIT_FLAGS(r) & SKSTEER_E_MARK))               \
				break;                                      \
			at = m->right[byte_index(at)];                      \
		}                                                           \
		if (bmp == SKSTEER_NO_LEN)                                  \
			return 0;                                           \
		r = bmp == hit_len ? hit : PROBE(bmp);                      \
		for (int h = 0; h < (LENS) && r; h++) {                     \
			if (r & 0xff)                                       \
				return r & 0xff;                            \
			if (HIT_LINK(r) == SKSTEER_NO_LEN)                  \
				return 0;                                   \
			r = PROBE(HIT_LINK(r));                             \
		}                                                           \
		return 0;                                                   \
	} while (0)

/* The half of family's table in use and its generation (table_sel): bit 0 and bit 1. */
static __always_inline __u32 table_in_use(__u32 family_index)
{
	__u32 *s = bpf_map_lookup_elem(&table_sel, &family_index);

	return s ? *s & 3 : 0;
}

/* The route the bindings give an IPv4 destination (network order) and port: 0 for none. */
static __always_inline __u32 bindings_route4(__u32 dst, __u32 port, __u32 udp)
{
	__u32 which = table_in_use(0), meta_at = which & 1, pu = port | udp << 16;
	struct sksteer_table_meta *m = bpf_map_lookup_elem(&table_metas, &meta_at);

#define PROBE4(len) bindings_probe4(dst, which, len, pu)
	SEARCH(PROBE4, SKSTEER_DEPTH4, SKSTEER_LENS4);
#undef PROBE4
}

/* As bindings_route4(), for an IPv6 destination in two halves (network order words). */
static __always_inline __u32 bindings_route6(__u64 a01, __u64 a23, __u32 port, __u32 udp)
{
	__u32 which = table_in_use(1), meta_at = 2 + (which & 1), pu = port | udp << 16;
	struct sksteer_table_meta *m = bpf_map_lookup_elem(&table_metas, &meta_at);

#define PROBE6(len) bindings_probe6(a01, a23, which, len, pu)
	SEARCH(PROBE6, SKSTEER_DEPTH6, SKSTEER_LENS6);
#undef PROBE6
}

#undef HIT
#undef SEARCH

#endif /* __SKSTEER_BINDINGS_BPF_H */
