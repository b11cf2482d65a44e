// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A change of routes alone, made in the table in use (bindings.h): the
 * stores that turn one table into another built with the same hash, when
 * they differ in routes and nothing else. Each store is one a lookup sees
 * whole, so a binding that moves between targets changes owner in one step
 * and is never unsteered; anything else is swapped in whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "bindings.h"

static int add(struct bindings_store **s, size_t *n, size_t *cap, struct bindings_store x)
{
	if (*n == *cap) {
		size_t grown = *cap ? 2 * *cap : 256;
		struct bindings_store *more = realloc(*s, grown * sizeof(**s));

		if (!more)
			return -ENOMEM;
		*s = more;
		*cap = grown;
	}
	(*s)[(*n)++] = x;
	return 0;
}

/* An entry's stores: none, its value word, or -EAGAIN when more than routes differ. */
static int entry_stores(const uint8_t *was, const uint8_t *now, size_t size, size_t offset,
			struct bindings_store **s, size_t *n, size_t *cap)
{
	uint64_t v0, v1;

	if (!memcmp(was, now, size))
		return 0;
	memcpy(&v0, was, 8);
	memcpy(&v1, now, 8);
	/* the same key, bounds and shape: only an inline prefix's route bytes may differ */
	if (memcmp(was + 8, now + 8, size - 8) || (v0 >> 32) != (v1 >> 32) ||
	    !(SKSTEER_E_FLAGS(v0) & SKSTEER_E_REAL) || SKSTEER_E_FLAGS(v0) & SKSTEER_E_MULTI)
		return -EAGAIN;
	return add(s, n, cap, (struct bindings_store){ .value = v1, .offset = offset });
}

int bindings_table_patch(const struct bindings_table *live, const struct bindings_table *t,
			 struct bindings_store **stores, size_t *n)
{
	size_t esz = t->family == AF_INET ? sizeof(struct sksteer_entry4) :
					    sizeof(struct sksteer_entry6);
	size_t entries = ((size_t)t->meta.buckets + SKSTEER_PROBES) * SKSTEER_BUCKET, cap = 0;
	int ret = 0;

	*stores = NULL;
	*n = 0;
	if (live->family != t->family || !live->buckets || !t->buckets ||
	    memcmp(&live->meta, &t->meta, sizeof(t->meta)) || live->nranges != t->nranges)
		return -EAGAIN;
	for (size_t i = 0; !ret && i < entries; i++)
		ret = entry_stores((const uint8_t *)live->buckets + i * esz,
				   (const uint8_t *)t->buckets + i * esz, esz, i * esz, stores, n,
				   &cap);
	for (uint32_t i = 0; !ret && i < t->nranges; i++) {
		const struct sksteer_range *a = &live->ranges[i], *b = &t->ranges[i];

		if (a->lo != b->lo || a->hi != b->hi)
			ret = -EAGAIN;
		else if (a->route != b->route)
			ret = add(stores, n, &cap,
				  (struct bindings_store){
					  .value = b->route,
					  .in_ranges = 1,
					  .offset = i * sizeof(*b) +
						    offsetof(struct sksteer_range, route) });
	}
	if (ret) {
		free(*stores);
		*stores = NULL;
		*n = 0;
	}
	return ret;
}

void bindings_stores_apply(const struct bindings_store *s, size_t n, void *buckets, void *ranges)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].in_ranges)
			__atomic_store_n((uint8_t *)ranges + s[i].offset, (uint8_t)s[i].value,
					 __ATOMIC_RELEASE);
		else
			__atomic_store_n((uint64_t *)((uint8_t *)buckets + s[i].offset), s[i].value,
					 __ATOMIC_RELEASE);
	}
}
