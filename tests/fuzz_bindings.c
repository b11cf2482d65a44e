// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: random add/remove sequences of bindings against the plain
 * model (bindings_model.c). Each 8 input bytes are one step: add a binding
 * (prefixes nest around four addresses a family), or remove one. After the
 * steps, both families' tables are built (src/lib/bindings.c) and looked up
 * by the library's walk of the table, the lookup of bindings.bpf.h step for
 * step: at each binding's edges and at addresses the input picks, the route
 * must be the model's; read back, the tables give the bindings again. Then
 * some bindings go, some move and some come, made in the table in place
 * (bindings_delta.c) where they fit: the generation in use still gives the
 * old verdicts, the next the new, and once settled both give the new; three
 * such changes in a row (tombstones and runs reused, the generations back and
 * forth, a change that does not fit built anew). An
 * add that binds a port its prefix binds already must be refused by the
 * build, naming it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "bindings_model.h"

#define MOST 96

static void base(int family, unsigned int k, uint8_t *addr)
{
	static const uint8_t v4[4][4] = {
		{ 198, 51, 100, 7 }, { 198, 51, 101, 9 }, { 203, 0, 113, 77 }, { 10, 1, 2, 3 }
	};

	memset(addr, 0, 16);
	if (family == AF_INET) {
		memcpy(addr, v4[k % 4], 4);
		return;
	}
	addr[0] = 0x20, addr[1] = 0x01, addr[2] = 0x0d, addr[3] = 0xb8;
	addr[5] = (uint8_t)(k % 4);
	addr[15] = (uint8_t)(k % 4 * 17 + 1);
}

static void mask(uint8_t *addr, unsigned int len)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = len > 8 * i ? len - 8 * i : 0;

		addr[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

static bool overlaps(const struct binding *b, size_t n, const struct binding *x)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].family == x->family && b[i].proto == x->proto && b[i].len == x->len &&
		    !memcmp(b[i].addr, x->addr, 16) && x->lo <= b[i].hi && b[i].lo <= x->hi)
			return true;
	return false;
}

/* step bytes: op, family/proto/base, len, lo (2), span, route, spare */
static struct binding decode(const uint8_t *s)
{
	struct binding x = { .family = s[1] & 1 ? AF_INET6 : AF_INET };
	unsigned int maxlen = x.family == AF_INET ? 32 : 128, span = s[5];

	x.proto = s[1] & 2 ? IPPROTO_UDP : IPPROTO_TCP;
	x.len = (uint8_t)(s[2] % (maxlen + 1));
	base(x.family, s[1] >> 2, x.addr);
	mask(x.addr, x.len);
	x.lo = (uint16_t)(1 + (s[3] | s[4] << 8) % 64);
	if (s[4] & 0x80) /* now and then a range to the top */
		x.lo = (uint16_t)(1 + (s[3] | (s[4] & 0x7f) << 8) % 65535);
	x.hi = span == 255 ? 65535 : (uint16_t)(x.lo + span % 8 > 65535 ? 65535 : x.lo + span % 8);
	x.route = (uint8_t)(1 + s[6] % 254);
	return x;
}

/* The build refuses b plus x, x binding a port b's prefix binds. */
static void expect_refused(const struct binding *b, size_t n, const struct binding *x)
{
	struct binding copy[MOST + 1];
	struct bindings_table t;
	char err[256] = "";

	memcpy(copy, b, n * sizeof(*b));
	copy[n] = *x;
	if (bindings_build(copy, n + 1, x->family, 1, NULL, &t, err, sizeof(err)) != -EINVAL ||
	    !strstr(err, "twice"))
		abort();
}

static void check_at(const struct binding *b, size_t n, const struct bindings_table *t,
		     const uint8_t *dst, uint16_t port)
{
	for (int proto = IPPROTO_TCP; proto <= IPPROTO_UDP; proto += IPPROTO_UDP - IPPROTO_TCP)
		if (bindings_table_route(t, proto, dst, port) !=
		    model_route(b, n, t->family, proto, dst, port))
			abort();
}

static int cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct binding));
}

/* Both tables read back give the bindings they were built from, no more, no less. */
static void read_back(struct binding *built, size_t n, const struct bindings_table *t)
{
	struct binding *b = NULL;
	size_t got = 0;

	if (bindings_table_read(&t[0], &b, &got) || bindings_table_read(&t[1], &b, &got) ||
	    got != n)
		abort();
	if (n) {
		qsort(b, n, sizeof(*b), cmp);
		qsort(built, n, sizeof(*b), cmp);
		if (memcmp(b, built, n * sizeof(*b)))
			abort();
	}
	free(b);
}

/* t against the model b, at each binding of at's edges, hosts under and past it, and the bases. */
static void check_table(const struct binding *b, size_t n, const struct binding *at, size_t nat,
			const struct bindings_table *t, const uint8_t *data, size_t size)
{
	uint8_t dst[16];

	for (size_t i = 0; i < nat; i++) {
		if (at[i].family != t->family)
			continue;
		memcpy(dst, at[i].addr, 16);
		for (unsigned int k = 0; k < 4; k++) {
			check_at(b, n, t, dst, at[i].lo);
			check_at(b, n, t, dst, at[i].hi);
			check_at(b, n, t, dst, (uint16_t)(at[i].lo - 1));
			check_at(b, n, t, dst, (uint16_t)(at[i].hi + 1));
			/* a host under the prefix, then one just past it */
			dst[(at[i].family == AF_INET ? 3 : 15) - k % 2] ^=
				(uint8_t)(data[i % size] | 1);
			if (at[i].len && k == 2)
				dst[(at[i].len - 1) / 8] ^=
					(uint8_t)(0x80 >> ((at[i].len - 1) % 8));
		}
	}
	for (unsigned int k = 0; k < 4; k++) {
		base(t->family, k, dst);
		check_at(b, n, t, dst, (uint16_t)(1 + k * 7));
	}
}

/* b changed as the input says: some bindings gone, some rerouted, some new. Into c: how many. */
static size_t changed(const struct binding *b, size_t n, struct binding *c, const uint8_t *data,
		      size_t size, unsigned int round)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t d = data[(i * 7 + 3 + round * 11) % size];

		if (d % 5 == 0)
			continue;
		c[m] = b[i];
		if (d % 5 == 1)
			c[m].route = (uint8_t)(1 + (c[m].route + d) % 254);
		m++;
	}
	for (size_t at = round % 3 * 8; at + 8 <= size && m < MOST; at += 24) {
		struct binding x = decode(data + at);
		unsigned int maxlen = x.family == AF_INET ? 32 : 128;

		x.len = (uint8_t)((x.len + data[at + 7]) % (maxlen + 1));
		/* mostly a length the table has: a new one is swapped in whole */
		for (size_t i = data[at + 6] % (n + 1), k = 0; k < n && data[at + 7] % 4; k++)
			if (b[(i + k) % n].family == x.family) {
				x.len = b[(i + k) % n].len;
				break;
			}
		base(x.family, data[at + 1] >> 2, x.addr);
		mask(x.addr, x.len);
		if (!overlaps(c, m, &x))
			c[m++] = x;
	}
	return m;
}

static struct bindings_table copy_of(const struct bindings_table *t)
{
	struct bindings_table c = *t;
	size_t bytes = ((size_t)t->meta.buckets + SKSTEER_PROBES) * t->bucket_size;
	size_t room = t->ranges_room ? t->ranges_room : 1;

	c.buckets = malloc(bytes);
	c.ranges = calloc(room, sizeof(*c.ranges));
	if (!c.buckets || !c.ranges)
		abort();
	memcpy(c.buckets, t->buckets, bytes);
	memcpy(c.ranges, t->ranges, t->nranges * sizeof(*t->ranges));
	return c;
}

/*
 * One change of b to c in the table in memory, live, in place (bindings_delta()): with the new
 * entries written and hidden, lookups of the generation in use still give b; of the next, c;
 * once settled, both give c; and the table reads back as c. Where it does not fit, the table
 * built anew from c. Then its runs' end as a reader of the kernel's arrays finds it.
 */
static void one_change(const struct binding *b, size_t n, const struct binding *c, size_t m,
		       struct bindings_table *live, const uint8_t *data, size_t size)
{
	struct binding sorted[MOST], *back = NULL;
	struct bindings_delta d;
	uint32_t was = live->gen;
	size_t got = 0, want = 0;
	char err[256];
	int ret;

	memcpy(sorted, c, m * sizeof(*c));
	ret = bindings_delta(live, sorted, m, &d, err, sizeof(err));
	if (ret == -EAGAIN) {
		bindings_table_free(live);
		if (bindings_build(sorted, m, live->family, 1 + size, NULL, live, err, sizeof(err)))
			abort();
		return;
	}
	if (ret)
		abort();
	bindings_stores_apply(d.prepare, d.nprepare, live->buckets, live->ranges);
	live->nranges = d.nranges; /* the new runs, past the old */
	live->meta.probes = d.probes; /* raised first, as bindings_delta_make() does */
	check_table(b, n, c, m, live, data, size);
	check_table(b, n, b, n, live, data, size);
	live->gen = d.gen;
	check_table(c, m, c, m, live, data, size);
	check_table(c, m, b, n, live, data, size);
	bindings_stores_apply(d.settle, d.nsettle, live->buckets, live->ranges);
	for (int g = 0; g < 2; g++) {
		live->gen = g ? d.gen : was;
		check_table(c, m, c, m, live, data, size);
		check_table(c, m, b, n, live, data, size);
	}
	live->gen = d.gen;
	if (bindings_table_hides(live) || bindings_table_read(live, &back, &got))
		abort();
	for (size_t i = 0; i < m; i++)
		want += c[i].family == live->family;
	if (got != want)
		abort();
	free(back);
	bindings_delta_free(&d);
	while (live->nranges && !live->ranges[live->nranges - 1].lo)
		live->nranges--;
}

/* Three changes in a row on t's table: tombstones and runs reused, generations 0, 1, 0. */
static void change_in_place(const struct binding *b, size_t n, const struct bindings_table *t,
			    const uint8_t *data, size_t size)
{
	struct binding was[MOST], now[MOST];
	struct bindings_table live = copy_of(t);

	memcpy(was, b, n * sizeof(*b));
	for (unsigned int round = 0; round < 3; round++) {
		size_t m = changed(was, n, now, data, size, round);

		one_change(was, n, now, m, &live, data, size);
		memcpy(was, now, m * sizeof(*now));
		n = m;
	}
	bindings_table_free(&live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct binding b[MOST], copy[MOST];
	struct bindings_table t[2];
	size_t n = 0;
	char err[256];

	for (size_t at = 0; at + 8 <= size; at += 8) {
		const uint8_t *s = data + at;
		struct binding x = decode(s);

		if (s[0] % 4 == 3 && n) { /* remove */
			b[s[7] % n] = b[n - 1];
			n--;
		} else if (overlaps(b, n, &x)) {
			expect_refused(b, n, &x);
		} else if (n < MOST) {
			b[n++] = x;
		}
	}
	memcpy(copy, b, n * sizeof(*b)); /* the build sorts: the model keeps its own order */
	for (int f = 0; f < 2; f++)
		if (bindings_build(copy, n, f ? AF_INET6 : AF_INET, 1 + size, NULL, &t[f], err,
				   sizeof(err)))
			abort();
	for (int f = 0; f < 2; f++)
		check_table(b, n, b, n, &t[f], data, size);
	read_back(copy, n, t);
	for (int f = 0; f < 2; f++)
		change_in_place(b, n, &t[f], data, size);
	bindings_table_free(&t[0]);
	bindings_table_free(&t[1]);
	return 0;
}
