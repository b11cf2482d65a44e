// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The bindings of destination prefixes in the kernel: see scope_store.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "arrays.h"
#include "bindings_maps.h"
#include "kernel.h"
#include "live.h"
#include "scope_store.h"

#define TABLE_BYTES ((size_t)SKSTEER_PORT_KEYS)

volatile uint8_t *table_copy(int fd, uint32_t value_size)
{
	uint32_t per_elem = value_size == 1 ? 1 : SKSTEER_KEYS_PER_ELEM;
	uint8_t *copy = calloc(TABLE_BYTES, 1);
	int ret = copy ? array_read(fd, SKSTEER_PORT_KEYS / per_elem, per_elem, copy) : -ENOMEM;

	if (ret) {
		free(copy);
		errno = -ret;
		return NULL;
	}
	return copy;
}

static struct bindings_maps maps_of(const struct live *l)
{
	return (struct bindings_maps){ .tables4 = l->fds[MAP_TABLES4],
				       .tables6 = l->fds[MAP_TABLES6],
				       .ranges = l->fds[MAP_TABLE_RANGES],
				       .metas = l->fds[MAP_TABLE_METAS],
				       .sel = l->fds[MAP_TABLE_SEL] };
}

/* The pins of a family's half: its table and its ranges. */
static void half_names(int fam, uint32_t half, char *table, char *ranges, size_t len)
{
	snprintf(table, len, "table%d_%u", fam ? 6 : 4, half);
	snprintf(ranges, len, "ranges_%u", 2 * fam + half);
}

/* The family's half in use: its meta, and fds of its pinned arrays (-1: none yet). */
static int open_half(struct live *l, int fam, struct sksteer_table_meta *meta, int *fds, char *err,
		     size_t errlen)
{
	char table[32], ranges[32];
	__u32 f = (__u32)fam, half = 0, at;

	fds[0] = fds[1] = -1;
	if (bpf_map_lookup_elem(l->fds[MAP_TABLE_SEL], &f, &half))
		goto fail;
	l->store.gen[fam] = half >> 1 & 1;
	half &= 1;
	at = 2 * f + half;
	if (bpf_map_lookup_elem(l->fds[MAP_TABLE_METAS], &at, meta))
		goto fail;
	if (!meta->n)
		return 0; /* no prefix of the family binds */
	half_names(fam, half, table, ranges, sizeof(table));
	fds[0] = pins_obj_fd(&l->pins, table);
	fds[1] = pins_obj_fd(&l->pins, ranges);
	if (fds[0] >= 0 && fds[1] >= 0)
		return 0;
	errno = fds[0] < 0 ? -fds[0] : -fds[1];
fail:
	snprintf(err, errlen, "cannot read the pinned bindings table in %s: %s", l->pins.dir,
		 strerror(errno));
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	fds[0] = fds[1] = -1;
	return -1;
}

/*
 * The family's table in use, copied into t (t->buckets NULL: none). A reader
 * takes no lock: a copy made while a writer changes the table in place (some
 * entry hides) is made again, a moment later, a few times.
 */
static int copy_table(struct live *l, int fam, struct bindings_table *t, char *err, size_t errlen)
{
	struct timespec pause = { .tv_nsec = 2 * 1000 * 1000 };

	for (int tries = 0;; tries++) {
		struct sksteer_table_meta meta;
		int fds[2], ret;

		memset(t, 0, sizeof(*t));
		if (open_half(l, fam, &meta, fds, err, errlen))
			return -1;
		if (fds[0] < 0)
			return 0;
		ret = bindings_copy_in(fds[0], fds[1], &meta, fam ? AF_INET6 : AF_INET, t, err,
				       errlen);
		t->gen = l->store.gen[fam];
		close(fds[0]);
		close(fds[1]);
		if (ret)
			return -1;
		if (l->pins.mode != PINS_READ || tries == 50 || !bindings_table_hides(t))
			return 0;
		bindings_table_free(t);
		nanosleep(&pause, NULL);
	}
}

/* Layout 6: each family's table in use, read back. */
static int read_tables(struct live *l, struct binding **b, size_t *n, char *err, size_t errlen)
{
	for (int fam = 0; fam < 2; fam++) {
		struct bindings_table t;

		if (copy_table(l, fam, &t, err, errlen))
			return -1;
		if (!t.buckets)
			continue;
		if (bindings_table_read(&t, b, n)) {
			bindings_table_free(&t);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (l->pins.mode == PINS_READ && !l->dry) /* a dry apply writes its copy */
			bindings_table_free(&t);
		else
			l->store.live[fam] = t;
	}
	return 0;
}

/* A prefix of layout 4-5's list, from its address and mask words. */
static void list_prefix(struct binding *x, int family, const __u32 *addr, const __u32 *mask,
			int words)
{
	memset(x, 0, sizeof(*x));
	x->family = (uint8_t)family;
	for (int w = 0; w < words; w++) {
		memcpy(x->addr + 4 * w, &addr[w], 4);
		x->len = (uint8_t)(x->len + __builtin_popcount(mask[w]));
	}
}

/*
 * A per-key table of routes (layout 4-5's scope table) as the bindings of
 * prefix x: its runs of one route, per protocol, appended to *b (malloc'd,
 * *cap of room, *n used). 0 or -ENOMEM.
 */
static int table_bindings(const volatile uint8_t *t, struct binding x, struct binding **b,
			  size_t *n, size_t *cap)
{
	for (uint32_t key = 1, end; key < SKSTEER_PORT_KEYS; key = end) {
		uint32_t proto_end = key < 65536 ? 65536 : SKSTEER_PORT_KEYS;

		for (end = key + 1; end < proto_end && t[end] == t[key]; end++)
			;
		if (!t[key] || (key & 0xffff) == 0)
			continue;
		x.proto = key < 65536 ? IPPROTO_TCP : IPPROTO_UDP;
		x.lo = (uint16_t)key, x.hi = (uint16_t)(end - 1);
		x.route = t[key];
		if (bindings_append(b, n, cap, &x))
			return -ENOMEM;
	}
	return 0;
}

/* Layouts 4 and 5: the prefix list in use, and each prefix's scope table. */
static int read_legacy(struct live *l, struct binding **b, size_t *n, char *err, size_t errlen)
{
	struct binding prefix[SKSTEER_SCOPES] = {};
	struct sksteer_prefixes list;
	uint32_t zero = 0, in_use = 0;
	size_t cap = *n;

	if (bpf_map_lookup_elem(l->fds[MAP_PREFIX_LIST], &zero, &in_use))
		in_use = 0;
	in_use &= 1;
	if (bpf_map_lookup_elem(l->fds[MAP_PREFIXES], &in_use, &list))
		return 0;
	for (uint32_t k = 0; k < list.n4 && k < SKSTEER_PREFIXES; k++)
		if (list.v4[k].scope && list.v4[k].scope < SKSTEER_SCOPES)
			list_prefix(&prefix[list.v4[k].scope], AF_INET, &list.v4[k].addr,
				    &list.v4[k].mask, 1);
	for (uint32_t k = 0; k < list.n6 && k < SKSTEER_PREFIXES; k++)
		if (list.v6[k].scope && list.v6[k].scope < SKSTEER_SCOPES)
			list_prefix(&prefix[list.v6[k].scope], AF_INET6, list.v6[k].addr,
				    list.v6[k].mask, 4);
	for (int s = 1; s < SKSTEER_SCOPES; s++) {
		volatile uint8_t *t;
		char name[32];
		int fd, ret;

		if (!prefix[s].family)
			continue;
		snprintf(name, sizeof(name), "scope_%d", s);
		fd = pins_obj_fd(&l->pins, name);
		if (fd == -ENOENT)
			continue;
		t = fd >= 0 ? table_copy(fd, 8) : NULL;
		if (fd >= 0)
			close(fd);
		ret = t ? table_bindings(t, prefix[s], b, n, &cap) : -1;
		free((void *)t);
		if (ret) {
			snprintf(err, errlen, "cannot read the pinned scope table %s/%s",
				 l->pins.dir, name);
			return -1;
		}
	}
	l->store.legacy = true;
	return 0;
}

int store_read(struct live *l, struct binding **b, size_t *n, char *err, size_t errlen)
{
	if (layout_pinned(&l->layout) < SKSTEER_LAYOUT && l->fds[MAP_PREFIXES] >= 0 &&
	    l->fds[MAP_PREFIX_LIST] >= 0)
		return read_legacy(l, b, n, err, errlen);
	if (l->fds[MAP_TABLE_SEL] < 0 || l->fds[MAP_TABLE_METAS] < 0)
		return 0; /* pins of a layout before prefixes */
	return read_tables(l, b, n, err, errlen);
}

/*
 * t's arrays (fds), staged in half, pinned as that half's before lookups use
 * it: a run cut short before the switch leaves the half in use and its pins
 * as they were.
 */
static int pin_half(struct live *l, int fam, __u32 half, const int *fds, char *err, size_t errlen)
{
	char table[32], ranges[32];
	int ret;

	half_names(fam, half, table, ranges, sizeof(table));
	ret = pin_replace(&l->pins, fds[0], table);
	if (!ret)
		ret = pin_replace(&l->pins, fds[1], ranges);
	if (ret)
		snprintf(err, errlen, "cannot pin the bindings table in %s: %s", l->pins.dir,
			 strerror(-ret));
	return ret ? -1 : 0;
}

/* t staged, pinned, then switched to. */
static int swap_in(struct live *l, int fam, const struct bindings_table *t, char *err,
		   size_t errlen)
{
	struct bindings_maps m = maps_of(l);
	int fds[2] = { -1, -1 }, ret;
	__u32 half = 0;

	if (l->dry) { /* counted as bindings_stage() counts, and the switch */
		l->updates.bindings += bindings_stage_stores(t);
		l->updates.tables++;
		return 0;
	}
	ret = bindings_stage(&m, t, fds, &half, &l->updates.bindings, err, errlen);
	if (!ret)
		ret = pin_half(l, fam, half, fds, err, errlen);
	if (!ret)
		ret = bindings_switch(&m, t->family, half, err, errlen);
	if (!ret)
		l->updates.tables++;
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret ? -1 : 0;
}

/* Whether the kernel's table in use (its generation and meta) is live, the copy read. */
static bool same_table(const struct bindings_table *live, uint32_t gen,
		       const struct sksteer_table_meta *meta)
{
	struct sksteer_table_meta m = *meta;

	m.probes = live->meta.probes; /* raised in place, and read back so */
	return gen == live->gen && !memcmp(&m, &live->meta, sizeof(m));
}

/* write_in_place() of a dry apply: d counted as bindings_delta_make() counts it, not made. */
static int dry_in_place(struct live *l, struct bindings_table *live, struct bindings_delta *d)
{
	/* no table in use after all; or no grace period the kernel waits for (the apply's own test) */
	if (!live->meta.n || ((d->nprepare || d->nsettle) && grace_period())) {
		bindings_delta_free(d);
		return 1;
	}
	l->updates.bindings += bindings_delta_stores(d, live->meta.probes);
	bindings_delta_commit(live, d);
	bindings_delta_free(d);
	return 0;
}

/* b made in the table in use, by generation (bindings_delta()): 1 if it does not fit. */
static int write_in_place(struct live *l, int fam, struct binding *b, size_t n, char *err,
			  size_t errlen)
{
	struct bindings_table *live = &l->store.live[fam];
	struct bindings_maps m = maps_of(l);
	struct sksteer_table_meta meta;
	struct bindings_delta d;
	int fds[2], ret;

	/* the program in the link may be an older build's, blind to generations: swapped in whole */
	if (!live->buckets || !l->program_current)
		return 1;
	ret = bindings_delta(live, b, n, &d, err, errlen);
	if (ret == -EAGAIN)
		return 1;
	if (ret)
		return -1;
	if (l->dry) /* the copy is the table in use, as the kernel would hold it by now */
		return dry_in_place(l, live, &d);
	ret = open_half(l, fam, &meta, fds, err, errlen);
	/* no table in use after all, or not the one read (another writer's since): whole */
	if (!ret && (fds[0] < 0 || !same_table(live, l->store.gen[fam], &meta)))
		ret = 1;
	else if (!ret)
		ret = bindings_delta_make(&m, live->family, fds[0], fds[1], &d,
					  &l->updates.bindings, err, errlen);
	if (ret == -ESTALE || ret == -EOPNOTSUPP)
		ret = 1;
	if (!ret)
		bindings_delta_commit(live, &d);
	else if (ret < 0)
		bindings_table_free(live); /* the kernel's may be part way: read it again */
	ret = ret < 0 ? -1 : ret;
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	bindings_delta_free(&d);
	return ret;
}

/*
 * The hash seed of a whole table: the family's bindings', in any order. A dry apply builds
 * the table the apply then builds, bucket for bucket, so that what is written into it after,
 * in place, is counted as the apply counts it (a probe raised, or not).
 */
_Static_assert(sizeof(struct binding) == 24, "a binding's bytes are its fields, no padding");

static uint64_t seed_of(const struct binding *b, size_t n, int fam)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)&b[i];
		uint64_t h = 0xcbf29ce484222325ULL;

		if (b[i].family != (fam ? AF_INET6 : AF_INET))
			continue;
		for (size_t k = 0; k < sizeof(b[i]); k++)
			h = (h ^ p[k]) * 0x100000001b3ULL;
		seed += h ^ h >> 31;
	}
	return seed | 1; /* 0 would ask for any */
}

static int write_family(struct live *l, int fam, struct binding *b, size_t n, char *err,
			size_t errlen)
{
	struct bindings_table t;
	int ret = write_in_place(l, fam, b, n, err, errlen);

	if (ret <= 0)
		return ret;
	if (bindings_build(b, n, fam ? AF_INET6 : AF_INET, seed_of(b, n, fam), NULL, &t, err,
			   errlen))
		return -1;
	if (swap_in(l, fam, &t, err, errlen)) {
		bindings_table_free(&t);
		return -1;
	}
	bindings_table_free(&l->store.live[fam]);
	l->store.live[fam] = t;
	return 0;
}

int store_write(struct live *l, struct binding *b, size_t n, char *err, size_t errlen)
{
	if (l->fds[MAP_TABLE_SEL] < 0) {
		snprintf(err, errlen, "the steering program was not upgraded");
		return -1;
	}
	for (int fam = 0; fam < 2; fam++) {
		bool any = false;

		for (size_t i = 0; i < n && !any; i++)
			any = b[i].family == (fam ? AF_INET6 : AF_INET);
		/* a family no prefix ever bound keeps no table */
		if ((any || l->store.live[fam].buckets) && write_family(l, fam, b, n, err, errlen))
			return -1;
	}
	return 0;
}

/* Whether scope table s of layout 4-5 is pinned still. */
static bool legacy_table(const struct live *l, uint32_t s)
{
	char name[32];

	snprintf(name, sizeof(name), "scope_%u", s);
	return !faccessat(l->pins.dir_fd, name, F_OK, 0);
}

void store_drop_legacy(struct live *l)
{
	bool any = l->fds[MAP_PREFIXES] >= 0 || l->fds[MAP_PREFIX_LIST] >= 0;

	for (uint32_t s = 1; !any && s < SKSTEER_SCOPES; s++)
		any = legacy_table(l, s);
	if (!any)
		return;
	/* the old program may still be finishing a lookup through them */
	grace_period();
	for (uint32_t s = 1; s < SKSTEER_SCOPES; s++) {
		char name[32];

		snprintf(name, sizeof(name), "scope_%u", s);
		if (l->fds[MAP_SCOPES] >= 0)
			bpf_map_delete_elem(l->fds[MAP_SCOPES], &s);
		unlinkat(l->pins.dir_fd, name, 0);
	}
	for (int m = MAP_PREFIXES; m <= MAP_PREFIX_LIST; m++) {
		unlinkat(l->pins.dir_fd, pinned_map_names[m], 0);
		if (l->fds[m] >= 0)
			close(l->fds[m]);
		l->fds[m] = -1;
	}
	l->store.legacy = false;
}

void store_close(struct live *l)
{
	bindings_table_free(&l->store.live[0]);
	bindings_table_free(&l->store.live[1]);
}
