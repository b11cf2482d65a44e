// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A change of bindings made in the table in use (bindings.h): the entries
 * of the new bindings, made with the live table's search tree, against the
 * live table's entries, key by key; an entry that is new or differs is
 * written as a new copy into the first empty entry or tombstone of its probe
 * sequence, hidden from the generation in use, and the one it replaces is
 * hidden from the next (bindings_abi.h); a run goes where no entry shown
 * uses the ranges. Nothing else is written, so a change of one
 * binding among a million makes a handful of stores, and each lookup still
 * sees the old bindings or the new, whole.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bindings.h"
#include "bindings_parts.h"

/* a live entry: its key, body and value word, and where it is */
struct old_entry {
	struct place_entry e;
	size_t slot;
};

struct delta_work {
	const struct bindings_table *live;
	struct bindings_table built; /* the new entries' runs */
	struct bindings_delta *d;
	uint8_t *taken; /* slots this change fills, a bit each */
	uint8_t *runs; /* ranges an entry shown uses or this change fills, a byte each */
	uint32_t cursor; /* where the search for room for a run goes on */
	size_t cap_prepare, cap_settle, tombstones;
	uint64_t hide_now, hide_next; /* the value word's hide bits for the two generations */
};

static int old_cmp(const void *x, const void *y)
{
	return place_entry_cmp(&((const struct old_entry *)x)->e,
			       &((const struct old_entry *)y)->e);
}

static int store(struct bindings_store **s, size_t *n, size_t *cap, struct bindings_store x)
{
	if (*n == *cap) {
		size_t grown = *cap ? 2 * *cap : 64;
		struct bindings_store *more = realloc(*s, grown * sizeof(**s));

		if (!more)
			return -ENOMEM;
		*s = more;
		*cap = grown;
	}
	(*s)[(*n)++] = x;
	return 0;
}

static int prepare(struct delta_work *w, size_t offset, uint64_t value, bool in_ranges)
{
	return store(&w->d->prepare, &w->d->nprepare, &w->cap_prepare,
		     (struct bindings_store){
			     .value = value, .offset = offset, .in_ranges = in_ranges });
}

static int settle(struct delta_work *w, size_t offset, uint64_t value)
{
	return store(&w->d->settle, &w->d->nsettle, &w->cap_settle,
		     (struct bindings_store){ .value = value, .offset = offset });
}

static size_t slots_of(const struct bindings_table *t)
{
	return ((size_t)t->meta.buckets + SKSTEER_PROBES) * SKSTEER_BUCKET;
}

static const void *slot_at(const struct bindings_table *t, size_t slot)
{
	return (const uint8_t *)t->buckets + slot / SKSTEER_BUCKET * t->bucket_size +
	       slot % SKSTEER_BUCKET * place_entry_size(t->family);
}

static size_t slot_offset(const struct bindings_table *t, size_t slot)
{
	return (size_t)((const uint8_t *)slot_at(t, slot) - (const uint8_t *)t->buckets);
}

/* The live entries, sorted by key: -EAGAIN if one hides (a change was cut short). */
static int live_entries(struct delta_work *w, struct old_entry **out, size_t *n)
{
	const struct bindings_table *t = w->live;
	size_t slots = slots_of(t), k = 0;
	struct old_entry *o = calloc(slots, sizeof(*o));

	if (!o)
		return -ENOMEM;
	for (size_t s = 0; s < slots; s++) {
		uint64_t v = *(const uint64_t *)slot_at(t, s);

		if (!v)
			continue;
		if (v == SKSTEER_TOMBSTONE) {
			w->tombstones++;
			continue;
		}
		if (SKSTEER_E_FLAGS(v) & (SKSTEER_E_HIDE0 | SKSTEER_E_HIDE0 << 1)) {
			free(o);
			return -EAGAIN;
		}
		place_get(t->family, slot_at(t, s), &o[k].e);
		o[k++].slot = s;
		/* a run no entry shown uses is free: no lookup reads it since the last change */
		if (SKSTEER_E_FLAGS(v) & SKSTEER_E_MULTI)
			for (uint64_t r = SKSTEER_E_RUN(v);
			     r < (uint64_t)SKSTEER_E_RUN(v) + SKSTEER_E_RUN_LEN(v) &&
			     r < t->ranges_room;
			     r++)
				w->runs[r] = 1;
	}
	qsort(o, k, sizeof(*o), old_cmp);
	*out = o;
	*n = k;
	return 0;
}

static bool same_run(const struct delta_work *w, uint64_t was, uint64_t now)
{
	if (SKSTEER_E_RUN_LEN(was) != SKSTEER_E_RUN_LEN(now) ||
	    (uint64_t)SKSTEER_E_RUN(was) + SKSTEER_E_RUN_LEN(was) > w->live->nranges)
		return false;
	return !memcmp(&w->live->ranges[SKSTEER_E_RUN(was)], &w->built.ranges[SKSTEER_E_RUN(now)],
		       SKSTEER_E_RUN_LEN(now) * sizeof(struct sksteer_range));
}

/* Whether the live entry is the new one: its word (a run by its contents) and its ranges. */
static bool same_entry(const struct delta_work *w, const struct place_entry *was,
		       const struct place_entry *now)
{
	if (SKSTEER_E_FLAGS(now->val) & SKSTEER_E_MULTI)
		return (was->val & ~0xffffffULL) == (now->val & ~0xffffffULL) &&
		       same_run(w, was->val, now->val);
	return was->val == now->val && !memcmp(was->lo, now->lo, sizeof(was->lo)) &&
	       !memcmp(was->hi, now->hi, sizeof(was->hi));
}

/*
 * Whether a slot can take a new entry: empty, or a tombstone (no lookup reads
 * it: it was hidden from the generation in use before the last change
 * settled), and not taken by this change.
 */
static bool is_free(struct delta_work *w, size_t s)
{
	uint64_t v = *(const uint64_t *)slot_at(w->live, s);

	if (w->taken[s / 8] & 1 << s % 8 || (v && v != SKSTEER_TOMBSTONE))
		return false;
	w->tombstones -= v == SKSTEER_TOMBSTONE;
	return true;
}

/* The first slot of e's probe sequence free for it: -EAGAIN past the last. */
static int free_slot(struct delta_work *w, const struct place_entry *e, size_t *slot)
{
	const struct bindings_table *t = w->live;
	uint32_t home = place_home(t, e->addr, SKSTEER_E_KEY(e->val));

	for (uint32_t j = 0; j < SKSTEER_PROBES; j++)
		for (size_t s = (size_t)(home + j) * SKSTEER_BUCKET;
		     s < (size_t)(home + j + 1) * SKSTEER_BUCKET; s++)
			if (is_free(w, s)) {
				w->taken[s / 8] |= (uint8_t)(1 << s % 8);
				*slot = s;
				/* the lookups' probes reach it before it is shown (bindings_delta_make()) */
				if (j + 1 > w->d->probes)
					w->d->probes = j + 1;
				return 0;
			}
	return -EAGAIN;
}

/* Room for a run of len ranges that no entry shown uses, from the cursor on: its index. */
static int64_t run_room(struct delta_work *w, uint32_t len)
{
	uint32_t room = w->live->ranges_room;

	for (int pass = 0; pass < 2; pass++) {
		uint64_t from = pass ? 0 : w->cursor, to = pass ? (uint64_t)w->cursor + len : room;

		for (uint64_t r = from, got = 0; r < to && r < room; r++) {
			got = w->runs[r] ? 0 : got + 1;
			if (got == len) {
				memset(w->runs + r + 1 - len, 1, len);
				w->cursor = (uint32_t)(r + 1);
				return (int64_t)(r + 1 - len);
			}
		}
	}
	return -EAGAIN;
}

/* A new entry (or a new copy of a changed one): its run placed, its words, hidden from now. */
static int write_new(struct delta_work *w, const struct place_entry *now)
{
	const struct bindings_table *t = w->live;
	size_t esz = place_entry_size(t->family), slot;
	uint8_t bytes[sizeof(struct sksteer_entry6)];
	struct place_entry e = *now;
	int ret = free_slot(w, &e, &slot);

	if (!ret && SKSTEER_E_FLAGS(e.val) & SKSTEER_E_MULTI) {
		uint32_t len = SKSTEER_E_RUN_LEN(e.val);
		int64_t at = run_room(w, len);

		if (at < 0)
			return (int)at;
		for (uint32_t k = 0; !ret && k < len; k++) {
			uint64_t word;

			memcpy(&word, &w->built.ranges[SKSTEER_E_RUN(e.val) + k], 8);
			ret = prepare(w, ((size_t)at + k) * 8, word, true);
		}
		e.val = (e.val & ~0xffffffULL) | (uint64_t)at;
		if (at + len > w->d->nranges)
			w->d->nranges = (uint32_t)(at + len);
	}
	if (ret)
		return ret;
	place_put(t->family, bytes, &e);
	/* the body first, then the word that makes it an entry */
	for (size_t at = 8; !ret && at < esz; at += 8) {
		uint64_t word;

		memcpy(&word, bytes + at, 8);
		ret = prepare(w, slot_offset(t, slot) + at, word, false);
	}
	if (!ret)
		ret = prepare(w, slot_offset(t, slot), e.val | w->hide_now, false);
	if (!ret)
		ret = settle(w, slot_offset(t, slot), e.val);
	w->d->written++;
	return ret;
}

/* A live entry that goes: hidden from the next generation, then a tombstone. */
static int retire(struct delta_work *w, const struct old_entry *o)
{
	size_t at = slot_offset(w->live, o->slot);
	int ret = prepare(w, at, o->e.val | w->hide_next, false);

	w->d->retired++;
	return ret ? ret : settle(w, at, SKSTEER_TOMBSTONE);
}

/* The two sorted lists, key by key: the new and changed written, the gone and changed retired. */
static int merge(struct delta_work *w, const struct old_entry *o, size_t no,
		 const struct place_entry *e, size_t ne)
{
	size_t i = 0, j = 0;
	int ret = 0;

	while (!ret && (i < no || j < ne)) {
		int c = i == no ? 1 : j == ne ? -1 : place_entry_cmp(&o[i].e, &e[j]);

		if (c < 0) {
			ret = retire(w, &o[i++]);
		} else if (c > 0) {
			ret = write_new(w, &e[j++]);
		} else {
			if (!same_entry(w, &o[i].e, &e[j])) {
				ret = write_new(w, &e[j]);
				if (!ret)
					ret = retire(w, &o[i]);
			}
			i++, j++;
		}
	}
	return ret;
}

int bindings_delta(const struct bindings_table *live, struct binding *b, size_t n,
		   struct bindings_delta *d, char *err, size_t errlen)
{
	struct delta_work w = { .live = live, .d = d };
	struct place_entry *e = NULL;
	struct old_entry *o = NULL;
	size_t ne = 0, no = 0;
	int ret;

	memset(d, 0, sizeof(*d));
	if (!live->buckets || live->meta.root == SKSTEER_NO_LEN || !live->meta.n)
		return -EAGAIN;
	w.built.family = live->family;
	w.built.bucket_size = live->bucket_size;
	ret = bindings_entries(b, n, &live->meta, &w.built, &e, &ne, err, errlen);
	w.taken = calloc(slots_of(live) / 8 + 1, 1);
	w.runs = calloc((size_t)live->ranges_room + 1, 1);
	if (!ret && (!w.taken || !w.runs))
		ret = -ENOMEM;
	if (!ret)
		ret = live_entries(&w, &o, &no);
	if (!ret) {
		qsort(e, ne, sizeof(*e), place_entry_cmp);
		d->gen = !(live->gen & 1);
		d->nranges = live->nranges;
		d->probes = live->meta.probes;
		w.hide_now = (uint64_t)(SKSTEER_E_HIDE0 << (live->gen & 1)) << 48;
		w.hide_next = (uint64_t)(SKSTEER_E_HIDE0 << d->gen) << 48;
		ret = merge(&w, o, no, e, ne);
	}
	/* past an eighth of the entries in tombstones, a whole table is cheaper to search */
	if (!ret && (w.tombstones + d->retired) * 8 > slots_of(live))
		ret = -EAGAIN;
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory for the bindings table");
	if (ret)
		bindings_delta_free(d);
	free(w.taken);
	free(w.runs);
	free(o);
	free(e);
	bindings_table_free(&w.built);
	return ret;
}

void bindings_delta_free(struct bindings_delta *d)
{
	free(d->prepare);
	free(d->settle);
	memset(d, 0, sizeof(*d));
}

void bindings_stores_apply(const struct bindings_store *s, size_t n, void *buckets, void *ranges)
{
	for (size_t i = 0; i < n; i++)
		__atomic_store_n(
			(uint64_t *)((uint8_t *)(s[i].in_ranges ? ranges : buckets) + s[i].offset),
			s[i].value, __ATOMIC_RELEASE);
}

void bindings_delta_commit(struct bindings_table *t, const struct bindings_delta *d)
{
	if (!d->nprepare && !d->nsettle)
		return;
	bindings_stores_apply(d->prepare, d->nprepare, t->buckets, t->ranges);
	bindings_stores_apply(d->settle, d->nsettle, t->buckets, t->ranges);
	t->gen = d->gen;
	t->nranges = d->nranges;
	t->meta.probes = d->probes;
}

bool bindings_table_hides(const struct bindings_table *t)
{
	for (size_t s = 0; t->buckets && s < slots_of(t); s++)
		if (SKSTEER_E_FLAGS(*(const uint64_t *)slot_at(t, s)) &
		    (SKSTEER_E_HIDE0 | SKSTEER_E_HIDE0 << 1))
			return true;
	return false;
}
