// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The plain model of most specific wins, and random bindings: see bindings_model.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "bindings_model.h"

unsigned int model_bases = 16;

bool model_holds(const struct binding *b, const uint8_t *dst)
{
	for (unsigned int i = 0; i < (b->family == AF_INET ? 4u : 16u); i++) {
		unsigned int bits = b->len > 8 * i ? b->len - 8 * i : 0;
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		if ((dst[i] & m) != b->addr[i])
			return false;
	}
	return true;
}

uint8_t model_route(const struct binding *b, size_t n, int family, int proto, const uint8_t *dst,
		    uint16_t port)
{
	int best = -1;
	uint8_t route = 0;

	for (size_t i = 0; i < n; i++)
		if (b[i].family == family && b[i].proto == proto && b[i].len > best &&
		    port >= b[i].lo && port <= b[i].hi && model_holds(&b[i], dst)) {
			best = b[i].len;
			route = b[i].route;
		}
	return route;
}

static void mask(uint8_t *addr, int family, unsigned int len)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = len > 8 * i ? len - 8 * i : 0;

		addr[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
	if (family == AF_INET)
		memset(addr + 4, 0, 12);
}

/* the first binding of (family, proto, len, addr masked to len) in sorted b, or n */
static size_t first_of(const struct binding *b, size_t n, struct binding key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(&b[mid], &key, offsetof(struct binding, route));

		if (!r)
			r = memcmp(b[mid].addr, key.addr, 16);
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint8_t model_route_sorted(const struct binding *b, size_t n, int family, int proto,
			   const uint8_t *dst, uint16_t port)
{
	for (int len = family == AF_INET ? 32 : 128; len >= 0; len--) {
		struct binding key = { .family = (uint8_t)family,
				       .proto = (uint8_t)proto,
				       .len = (uint8_t)len };
		size_t i;

		memcpy(key.addr, dst, family == AF_INET ? 4 : 16);
		mask(key.addr, family, (unsigned int)len);
		for (i = first_of(b, n, key);
		     i < n && !memcmp(&b[i], &key, offsetof(struct binding, route)) &&
		     !memcmp(b[i].addr, key.addr, 16);
		     i++)
			if (port >= b[i].lo && port <= b[i].hi)
				return b[i].route;
	}
	return 0;
}

uint64_t model_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* base k of the family: fixed, so that prefixes nest around them */
static void base(int family, unsigned int k, uint8_t *addr)
{
	uint64_t s = 0x5eed0000 + k + (family == AF_INET6 ? 1000 : 0);

	memset(addr, 0, 16);
	for (unsigned int i = 0; i < (family == AF_INET ? 4u : 16u); i += 8) {
		uint64_t r = model_rand(&s);

		memcpy(addr + i, &r, family == AF_INET ? 4 : 8);
	}
}

void model_random_lookup(int family, uint8_t *dst, uint16_t *port, uint64_t *s)
{
	uint64_t r = model_rand(s);
	unsigned int bytes = family == AF_INET ? 4 : 16;

	base(family, (unsigned int)(r % model_bases), dst);
	if (r >> 60 == 0) {
		for (unsigned int i = 0; i < bytes; i++)
			dst[i] = (uint8_t)model_rand(s);
	} else {
		/* flip a few low bits: still under most of the base's prefixes */
		unsigned int bit = (unsigned int)(model_rand(s) % (8 * bytes));

		dst[bytes - 1 - bit / 8 % bytes] ^= (uint8_t)(1u << bit % 8);
		if (r >> 59 & 1)
			dst[bytes - 1] ^= (uint8_t)(model_rand(s));
	}
	*port = (uint16_t)(model_rand(s) % 8 ? 1 + model_rand(s) % 64 : 1 + model_rand(s) % 65535);
}

static int cmp(const void *x, const void *y)
{
	const struct binding *p = x, *q = y;
	int r = memcmp(p, q, offsetof(struct binding, route));

	if (!r)
		r = memcmp(p->addr, q->addr, 16);
	return r ? r : p->lo - q->lo;
}

/* Drops bindings of a prefix that overlap the one before: a port has one route a prefix. */
size_t model_distinct(struct binding *b, size_t n)
{
	size_t kept = 0;

	qsort(b, n, sizeof(*b), cmp);
	for (size_t i = 0; i < n; i++) {
		if (kept && !memcmp(&b[i], &b[kept - 1], offsetof(struct binding, route)) &&
		    !memcmp(b[i].addr, b[kept - 1].addr, 16) && b[i].lo <= b[kept - 1].hi)
			continue;
		b[kept++] = b[i];
	}
	return kept;
}

static size_t generate(struct binding *b, size_t n, uint64_t *s)
{
	size_t made = 0;

	while (made < n) {
		int family = model_rand(s) & 1 ? AF_INET6 : AF_INET;
		unsigned int maxlen = family == AF_INET ? 32 : 128, ranges;
		struct binding p = { .family = (uint8_t)family };
		uint16_t at = 0;

		p.proto = model_rand(s) % 4 ? IPPROTO_TCP : IPPROTO_UDP;
		p.len = (uint8_t)(model_rand(s) % (maxlen + 1));
		model_random_lookup(family, p.addr, &at, s);
		mask(p.addr, family, p.len);
		ranges = 1 + (unsigned int)(model_rand(s) % 5);
		at = 0;
		for (unsigned int k = 0; k < ranges && made < n && at < 65535; k++) {
			/* a wide range, to the top sometimes: under the shortest prefixes it would hide the rest */
			if (p.len > maxlen / 4 && model_rand(s) % 10 == 0) {
				p.lo = (uint16_t)(at + 1);
				p.hi = model_rand(s) & 1 ? 65535 :
							   (uint16_t)(p.lo + model_rand(s) % 1000);
				if (p.hi < p.lo)
					p.hi = 65535;
			} else {
				p.lo = (uint16_t)(at + 1 + model_rand(s) % 16);
				p.hi = (uint16_t)(p.lo + model_rand(s) % 4);
			}
			if (p.lo <= at || p.hi < p.lo)
				break;
			p.route = (uint8_t)(1 + model_rand(s) % 254);
			b[made++] = p;
			at = p.hi;
		}
	}
	return made;
}

size_t model_random_bindings(struct binding *b, size_t n, uint64_t *s)
{
	size_t made = 0;

	/* a prefix drawn twice keeps its first ranges: draw again for the ones dropped */
	for (int round = 0; made < n && round < 8; round++)
		made = model_distinct(b, made + generate(b + made, n - made, s));
	return made;
}
