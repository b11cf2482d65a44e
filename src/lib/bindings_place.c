// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The bindings table's hash (bindings_parts.h): entries placed in buckets,
 * reseeded until each is within SKSTEER_PROBES buckets of its home; the
 * lookup of bindings.bpf.h done again here on the table in memory, so that
 * the checks can hold the builder to the program's own steps; and the
 * bindings read back from a table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "bindings_parts.h"

#define LOAD 0.6 /* entries per entry room */

int place_entry_cmp(const void *x, const void *y)
{
	const struct place_entry *p = x, *q = y;
	uint32_t kp = SKSTEER_E_KEY(p->val), kq = SKSTEER_E_KEY(q->val);

	if (kp != kq)
		return kp < kq ? -1 : 1;
	return memcmp(p->addr, q->addr, 16);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t word(const uint8_t *addr, int w)
{
	uint32_t v;

	memcpy(&v, addr + 4 * w, 4);
	return v;
}

uint32_t place_home(const struct bindings_table *t, const uint8_t *addr, uint32_t key)
{
	const struct sksteer_table_meta *m = &t->meta;

	if (t->family == AF_INET)
		return sksteer_hash4(word(addr, 0), key, m->m1, m->m2, m->buckets);
	return sksteer_hash6(word(addr, 0), word(addr, 1), word(addr, 2), word(addr, 3), key, m->m1,
			     m->m2, m->buckets);
}

size_t place_entry_size(int family)
{
	return family == AF_INET ? sizeof(struct sksteer_entry4) : sizeof(struct sksteer_entry6);
}

void place_get(int family, const void *at, struct place_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (family == AF_INET) {
		const struct sksteer_entry4 *s = at;

		memcpy(e->addr, &s->addr, 4);
		memcpy(e->lo, s->lo, sizeof(s->lo));
		memcpy(e->hi, s->hi, sizeof(s->hi));
		e->val = s->val;
	} else {
		const struct sksteer_entry6 *s = at;

		memcpy(e->addr, s->addr, 16);
		memcpy(e->lo, s->lo, sizeof(s->lo));
		memcpy(e->hi, s->hi, sizeof(s->hi));
		e->val = s->val;
	}
}

void place_put(int family, void *at, const struct place_entry *e)
{
	if (family == AF_INET) {
		struct sksteer_entry4 *s = at;

		s->addr = word(e->addr, 0);
		memcpy(s->lo, e->lo, sizeof(s->lo));
		memcpy(s->hi, e->hi, sizeof(s->hi));
		s->val = e->val;
	} else {
		struct sksteer_entry6 *s = at;

		memcpy(s->addr, e->addr, 16);
		memcpy(s->lo, e->lo, sizeof(s->lo));
		memcpy(s->hi, e->hi, sizeof(s->hi));
		s->val = e->val;
	}
}

/* One try with the meta's hash: false when some entry is past SKSTEER_PROBES buckets. */
static bool try_place(struct bindings_table *t, const struct place_entry *e, size_t n)
{
	size_t esz = place_entry_size(t->family);

	t->meta.probes = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t k = place_home(t, e[i].addr, SKSTEER_E_KEY(e[i].val)), j;

		for (j = 0; j < SKSTEER_PROBES; j++) {
			uint8_t *bucket = (uint8_t *)t->buckets + (size_t)(k + j) * t->bucket_size;
			int s;

			for (s = 0; s < SKSTEER_BUCKET; s++)
				if (!*(uint64_t *)(bucket + s * esz))
					break;
			if (s < SKSTEER_BUCKET) {
				place_put(t->family, bucket + s * esz, &e[i]);
				break;
			}
		}
		if (j == SKSTEER_PROBES)
			return false;
		if (j + 1 > t->meta.probes)
			t->meta.probes = j + 1;
	}
	return true;
}

int place_entries(struct bindings_table *t, const struct place_entry *e, size_t n, uint64_t seed,
		  const struct sksteer_table_meta *like)
{
	uint32_t buckets = (uint32_t)((double)n / LOAD / SKSTEER_BUCKET) + 1;

	/* like's hash, where its size holds these entries at no more than the usual load */
	if (like && like->buckets >= buckets) {
		t->meta.buckets = like->buckets;
		t->meta.m1 = like->m1;
		t->meta.m2 = like->m2;
		t->buckets = calloc((size_t)like->buckets + SKSTEER_PROBES, t->bucket_size);
		if (!t->buckets)
			return -ENOMEM;
		if (try_place(t, e, n))
			return 0;
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
	for (int tries = 1;; tries++) {
		t->meta.buckets = buckets;
		t->meta.m1 = splitmix(&seed) | 1;
		t->meta.m2 = splitmix(&seed) | 1;
		free(t->buckets);
		t->buckets = calloc((size_t)buckets + SKSTEER_PROBES, t->bucket_size);
		if (!t->buckets)
			return -ENOMEM;
		if (try_place(t, e, n))
			return 0;
		if (tries % 2 == 0)
			buckets += buckets / 8 + 1;
	}
}

void bindings_table_free(struct bindings_table *t)
{
	free(t->buckets);
	free(t->ranges);
	t->buckets = NULL;
	t->ranges = NULL;
	t->nranges = 0;
	t->ranges_room = 0;
}

size_t bindings_table_bytes(const struct bindings_table *t)
{
	size_t nr = t->ranges_room ? t->ranges_room : t->nranges ? t->nranges : 1;

	return ((size_t)t->meta.buckets + SKSTEER_PROBES) * t->bucket_size +
	       nr * sizeof(struct sksteer_range);
}

/* ---- the lookup of bindings.bpf.h, on the table in memory ---- */

#define HIT(v, route)                                                                         \
	(1ULL << 63 | (uint64_t)SKSTEER_E_FLAGS(v) << 16 | (uint64_t)SKSTEER_E_LINK(v) << 8 | \
	 (route))
#define HIT_FLAGS(r) ((uint32_t)((r) >> 16) & 0xff)
#define HIT_LINK(r) ((uint32_t)((r) >> 8) & 0xff)

static uint32_t run_route(const struct bindings_table *t, uint64_t v, uint16_t port)
{
	uint32_t lo = SKSTEER_E_RUN(v), hi = lo + SKSTEER_E_RUN_LEN(v);

	for (int s = 0; s < SKSTEER_RUN_STEPS && lo < hi && hi <= t->nranges; s++) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct sksteer_range *r = &t->ranges[mid];

		if (port < r->lo)
			hi = mid;
		else if (port > r->hi)
			lo = mid + 1;
		else
			return r->route;
	}
	return 0;
}

static uint64_t list_route(const struct bindings_table *t, uint64_t v, const uint16_t *lo,
			   const uint16_t *hi, uint16_t port)
{
	uint32_t fit = t->family == AF_INET ? SKSTEER_INLINE4 : SKSTEER_INLINE6;

	if (!(SKSTEER_E_FLAGS(v) & SKSTEER_E_REAL))
		return HIT(v, 0);
	if (SKSTEER_E_FLAGS(v) & SKSTEER_E_MULTI)
		return HIT(v, run_route(t, v, port));
	for (uint32_t q = 0; q < fit; q++)
		if (q < SKSTEER_E_COUNT(v) && port >= lo[q] && port <= hi[q])
			return HIT(v, (v >> (8 * q)) & 0xff);
	return HIT(v, 0);
}

static uint64_t probe(const struct bindings_table *t, uint32_t len, const uint8_t *dst, int udp,
		      uint16_t port)
{
	uint32_t want = SKSTEER_KEY(len, udp), k;
	size_t esz = place_entry_size(t->family);
	uint8_t masked[16] = { 0 };

	memcpy(masked, dst, t->family == AF_INET ? 4 : 16);
	mask_prefix(masked, len);
	k = place_home(t, masked, want);
	for (uint32_t j = 0; j < SKSTEER_PROBES && j < t->meta.probes; j++, k++) {
		const uint8_t *bucket = (const uint8_t *)t->buckets + (size_t)k * t->bucket_size;

		for (int s = 0; s < SKSTEER_BUCKET; s++) {
			const void *at = bucket + s * esz;
			uint64_t v = *(const uint64_t *)at;

			if (!v)
				return 0;
			if (SKSTEER_E_KEY_IN(v, t->gen & 1) != want)
				continue;
			if (t->family == AF_INET) {
				const struct sksteer_entry4 *e = at;

				if (e->addr == word(masked, 0))
					return list_route(t, v, e->lo, e->hi, port);
			} else {
				const struct sksteer_entry6 *e = at;

				if (!memcmp(e->addr, masked, 16))
					return list_route(t, v, e->lo, e->hi, port);
			}
		}
	}
	return 0;
}

uint8_t bindings_table_route(const struct bindings_table *t, int proto, const uint8_t *dst,
			     uint16_t port)
{
	const struct sksteer_table_meta *m = &t->meta;
	uint32_t at = m->root, bmp = SKSTEER_NO_LEN, hit_len = SKSTEER_NO_LEN;
	uint32_t most = t->family == AF_INET ? SKSTEER_DEPTH4 : SKSTEER_DEPTH6;
	uint32_t lens = t->family == AF_INET ? SKSTEER_LENS4 : SKSTEER_LENS6;
	int udp = proto == IPPROTO_UDP;
	uint64_t r, hit = 0;

	if (!t->buckets)
		return 0;
	for (uint32_t d = 0; d < most && at != SKSTEER_NO_LEN; d++) {
		uint32_t len = m->lens[at & 0xff];

		r = probe(t, len, dst, udp, port);
		if (!r) {
			at = m->left[at & 0xff];
			continue;
		}
		if (HIT_FLAGS(r) & SKSTEER_E_REAL) {
			bmp = hit_len = len;
			hit = r;
		} else {
			bmp = HIT_LINK(r);
		}
		if (!(HIT_FLAGS(r) & SKSTEER_E_MARK))
			break;
		at = m->right[at & 0xff];
	}
	if (bmp == SKSTEER_NO_LEN)
		return 0;
	r = bmp == hit_len ? hit : probe(t, bmp, dst, udp, port);
	for (uint32_t h = 0; h < lens && r; h++) {
		uint8_t route = (uint8_t)r;

		if (route)
			return route;
		if (HIT_LINK(r) == SKSTEER_NO_LEN)
			return 0;
		r = probe(t, HIT_LINK(r), dst, udp, port);
	}
	return 0;
}

/* ---- the bindings back from the table ---- */

int bindings_append(struct binding **b, size_t *n, size_t *cap, const struct binding *x)
{
	if (*n == *cap) {
		size_t grown = *cap ? 2 * *cap : 1024;
		struct binding *more = realloc(*b, grown * sizeof(**b));

		if (!more)
			return -ENOMEM;
		*b = more;
		*cap = grown;
	}
	(*b)[(*n)++] = *x;
	return 0;
}

/* An entry's own bindings: its run, or the first SKSTEER_E_OWN of its inline ranges. */
static int read_entry(const struct bindings_table *t, const void *at, struct binding **b, size_t *n,
		      size_t *cap)
{
	uint64_t v = *(const uint64_t *)at;
	const uint16_t *lo, *hi;
	struct binding x = { .family = (uint8_t)t->family };
	int ret = 0;

	/* markers, tombstones, and entries the generation in use does not see */
	if (!(SKSTEER_E_FLAGS(v) & SKSTEER_E_REAL) ||
	    SKSTEER_E_FLAGS(v) & (SKSTEER_E_HIDE0 << (t->gen & 1)))
		return 0;
	x.proto = SKSTEER_E_FLAGS(v) & SKSTEER_E_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	x.len = (uint8_t)(v >> 40);
	if (t->family == AF_INET) {
		const struct sksteer_entry4 *e = at;

		memcpy(x.addr, &e->addr, 4);
		lo = e->lo, hi = e->hi;
	} else {
		const struct sksteer_entry6 *e = at;

		memcpy(x.addr, e->addr, 16);
		lo = e->lo, hi = e->hi;
	}
	if (SKSTEER_E_FLAGS(v) & SKSTEER_E_MULTI) {
		for (uint32_t k = SKSTEER_E_RUN(v);
		     !ret && k < SKSTEER_E_RUN(v) + SKSTEER_E_RUN_LEN(v) && k < t->nranges; k++) {
			x.lo = t->ranges[k].lo, x.hi = t->ranges[k].hi,
			x.route = t->ranges[k].route;
			ret = bindings_append(b, n, cap, &x);
		}
		return ret;
	}
	for (uint32_t k = 0; !ret && k < SKSTEER_E_OWN(v) && k < SKSTEER_INLINE6; k++) {
		x.lo = lo[k], x.hi = hi[k], x.route = (uint8_t)(v >> (8 * k));
		ret = bindings_append(b, n, cap, &x);
	}
	return ret;
}

int bindings_table_read(const struct bindings_table *t, struct binding **b, size_t *n)
{
	size_t esz = place_entry_size(t->family), cap = *n;
	int ret = 0;

	for (size_t k = 0; !ret && t->buckets && k < (size_t)t->meta.buckets + SKSTEER_PROBES; k++)
		for (int s = 0; !ret && s < SKSTEER_BUCKET; s++)
			ret = read_entry(t,
					 (const uint8_t *)t->buckets + k * t->bucket_size + s * esz,
					 b, n, &cap);
	return ret;
}
