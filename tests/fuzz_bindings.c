// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: random add/remove sequences of bindings against the plain
 * model (bindings_model.c). Each 8 input bytes are one step: add a binding
 * (prefixes nest around four addresses a family), or remove one. After the
 * steps, both families' tables are built (src/lib/bindings.c) and looked up
 * by the library's walk of the table, the lookup of bindings.bpf.h step for
 * step: at each binding's edges and at addresses the input picks, the route
 * must be the model's; read back, the tables give the bindings again; new
 * routes for some are made in place, and give the new table exactly. An add that binds a port its prefix binds already
 * must be refused by the build, naming it.
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

/*
 * New routes for some bindings, built like t: the change is made in place, and t with its
 * stores made is the new table, byte for byte.
 */
static void reroute(const struct binding *b, size_t n, const struct bindings_table *t,
		    const uint8_t *data, size_t size)
{
	struct binding moved[MOST];
	struct bindings_table now, live = *t;
	struct bindings_store *st;
	size_t ns, bytes = ((size_t)t->meta.buckets + SKSTEER_PROBES) * t->bucket_size;
	char err[256];

	memcpy(moved, b, n * sizeof(*b));
	for (size_t i = 0; i < n; i++)
		if (data[i % size] & 1)
			moved[i].route = (uint8_t)(1 + (moved[i].route + data[i % size]) % 254);
	if (bindings_build(moved, n, t->family, 0, t, &now, err, sizeof(err)) ||
	    bindings_table_patch(t, &now, &st, &ns))
		abort();
	live.buckets = malloc(bytes);
	live.ranges = malloc(t->nranges * sizeof(*t->ranges) + 1);
	memcpy(live.buckets, t->buckets, bytes);
	memcpy(live.ranges, t->ranges, t->nranges * sizeof(*t->ranges));
	bindings_stores_apply(st, ns, live.buckets, live.ranges);
	if (memcmp(live.buckets, now.buckets, bytes) ||
	    memcmp(live.ranges, now.ranges, t->nranges * sizeof(*t->ranges)))
		abort();
	free(st);
	bindings_table_free(&live);
	bindings_table_free(&now);
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
	for (size_t i = 0; i < n; i++) {
		const struct bindings_table *tt = &t[b[i].family == AF_INET6];
		uint8_t dst[16];

		memcpy(dst, b[i].addr, 16);
		for (unsigned int k = 0; k < 4; k++) {
			check_at(b, n, tt, dst, b[i].lo);
			check_at(b, n, tt, dst, b[i].hi);
			check_at(b, n, tt, dst, (uint16_t)(b[i].lo - 1));
			check_at(b, n, tt, dst, (uint16_t)(b[i].hi + 1));
			/* a host under the prefix, then one just past it */
			dst[(b[i].family == AF_INET ? 3 : 15) - k % 2] ^=
				(uint8_t)(data[i % size] | 1);
			if (b[i].len && k == 2)
				dst[(b[i].len - 1) / 8] ^= (uint8_t)(0x80 >> ((b[i].len - 1) % 8));
		}
	}
	for (unsigned int k = 0; k < 8; k++) {
		uint8_t dst[16];

		base(k & 1 ? AF_INET6 : AF_INET, k / 2, dst);
		check_at(b, n, &t[k & 1], dst, (uint16_t)(1 + k * 7));
	}
	read_back(copy, n, t);
	for (int f = 0; f < 2; f++)
		reroute(b, n, &t[f], data, size);
	bindings_table_free(&t[0]);
	bindings_table_free(&t[1]);
	return 0;
}
