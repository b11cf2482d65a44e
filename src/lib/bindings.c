// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The bindings table's builder (see bindings.h): prefixes from bindings,
 * each prefix's list and link, the search tree over the lengths with the
 * fewest markers, the markers, and the table itself (bindings_tree.c, bindings_place.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "bindings.h"
#include "bindings_parts.h"
#include "parse.h"

#define NONE UINT32_MAX

/* the family's prefixes: runs of bindings with the same (protocol, length, address) */
struct prefixes {
	const struct binding *b;
	uint32_t *first, *count, *parent, *link;
	uint8_t *multi, *marked, *nlist;
	struct place_entry *list; /* each prefix's list: lo, hi and routes */
	size_t n;
	int family;
	uint8_t lens[SKSTEER_LENS6]; /* ascending */
	uint32_t nlens, pos[SKSTEER_LENS6];
};

static int cmp_prefix(const struct binding *p, const struct binding *q)
{
	if (p->proto != q->proto)
		return p->proto - q->proto;
	if (p->len != q->len)
		return p->len - q->len;
	return memcmp(p->addr, q->addr, 16);
}

static int cmp_binding(const void *x, const void *y)
{
	const struct binding *p = x, *q = y;
	int r = p->family - q->family;

	if (!r)
		r = cmp_prefix(p, q);
	return r ? r : p->lo - q->lo;
}

static const char *proto_name(int proto)
{
	return proto == IPPROTO_UDP ? "UDP" : "TCP";
}

static int refuse(const struct binding *b, const char *what, char *err, size_t errlen)
{
	struct prefix p = { .family = b->family, .len = b->len };
	char text[64];

	memcpy(p.addr, b->addr, 16);
	format_prefix(&p, text, sizeof(text));
	snprintf(err, errlen, "%s %s ports %u-%u: %s", text, proto_name(b->proto), b->lo, b->hi,
		 what);
	return -EINVAL;
}

/* One binding on its own: a prefix of its family, clear host bits, a range, a route. */
static int check_one(const struct binding *b, char *err, size_t errlen)
{
	uint8_t masked[16];

	memcpy(masked, b->addr, 16);
	mask_prefix(masked, b->len);
	if (b->proto != IPPROTO_TCP && b->proto != IPPROTO_UDP)
		return refuse(b, "the protocol is neither TCP nor UDP", err, errlen);
	if (b->len > (b->family == AF_INET ? 32 : 128))
		return refuse(b, "the prefix is longer than its family's addresses", err, errlen);
	if (memcmp(masked, b->addr, 16))
		return refuse(b, "the address has bits set past the prefix length", err, errlen);
	if (!b->lo || b->lo > b->hi)
		return refuse(
			b, "the range is empty or inside out (it must run up from port 1 or more)",
			err, errlen);
	if (!b->route || b->route == 0xff)
		return refuse(b, "the route is not one of 1-254", err, errlen);
	return 0;
}

/* Sorts b, checks the family's bindings, and splits them into prefixes. */
static int make_prefixes(struct binding *b, size_t n, int family, struct prefixes *ps, char *err,
			 size_t errlen)
{
	size_t from = 0, to;
	bool seen[SKSTEER_LENS6] = {};

	qsort(b, n, sizeof(*b), cmp_binding);
	while (from < n && b[from].family != family)
		from++;
	for (to = from; to < n && b[to].family == family; to++) {
		int ret = check_one(&b[to], err, errlen);

		if (ret)
			return ret;
		if (to > from && !cmp_prefix(&b[to], &b[to - 1]) && b[to].lo <= b[to - 1].hi)
			return refuse(&b[to], "the prefix binds one of these ports twice", err,
				      errlen);
	}
	ps->b = b + from;
	ps->family = family;
	ps->first = calloc(to - from + 1, sizeof(uint32_t));
	ps->count = calloc(to - from + 1, sizeof(uint32_t));
	if (!ps->first || !ps->count)
		return -ENOMEM;
	for (size_t i = from; i < to; i++) {
		if (i > from && !cmp_prefix(&b[i], &b[i - 1])) {
			ps->count[ps->n - 1]++;
			continue;
		}
		ps->first[ps->n] = (uint32_t)(i - from);
		ps->count[ps->n++] = 1;
		seen[b[i].len] = true;
	}
	for (unsigned int len = 0; len < SKSTEER_LENS6; len++)
		if (seen[len]) {
			ps->pos[len] = ps->nlens;
			ps->lens[ps->nlens++] = (uint8_t)len;
		}
	return 0;
}

static const struct binding *head(const struct prefixes *ps, uint32_t i)
{
	return &ps->b[ps->first[i]];
}

/* The prefix (proto, len, addr masked to len): its index, or NONE. */
static uint32_t find(const struct prefixes *ps, int proto, unsigned int len, const uint8_t *addr)
{
	struct binding key = { .family = (uint8_t)ps->family,
			       .proto = (uint8_t)proto,
			       .len = (uint8_t)len };
	size_t lo = 0, hi = ps->n;

	memcpy(key.addr, addr, 16);
	mask_prefix(key.addr, len);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = cmp_prefix(head(ps, (uint32_t)mid), &key);

		if (!r)
			return (uint32_t)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* Each prefix's parent: the longest shorter prefix of its protocol that holds it. */
static void find_parents(struct prefixes *ps)
{
	for (uint32_t i = 0; i < ps->n; i++) {
		const struct binding *b = head(ps, i);

		ps->parent[i] = NONE;
		for (uint32_t k = ps->pos[b->len]; k-- > 0;) {
			uint32_t p = find(ps, b->proto, ps->lens[k], b->addr);

			if (p != NONE) {
				ps->parent[i] = p;
				break;
			}
		}
	}
}

/*
 * Each prefix's list and link, shortest first (so a parent's is there): its
 * own ranges, then its parent's list when both fit in an entry; a prefix
 * with more ranges than fit has a run and no list.
 */
static void make_lists(struct prefixes *ps, struct bindings_stats *st)
{
	const uint32_t fit = ps->family == AF_INET ? SKSTEER_INLINE4 : SKSTEER_INLINE6;

	for (uint32_t i = 0; i < ps->n; i++) {
		struct place_entry *l = &ps->list[i];
		uint32_t q = ps->parent[i];

		ps->link[i] = SKSTEER_NO_LEN;
		if (ps->count[i] > fit) {
			ps->multi[i] = 1;
			st->multi++;
			if (q != NONE)
				ps->link[i] = head(ps, q)->len;
			continue;
		}
		for (uint32_t k = 0; k < ps->count[i]; k++) {
			l->lo[k] = head(ps, i)[k].lo;
			l->hi[k] = head(ps, i)[k].hi;
			l->routes |= (uint32_t)head(ps, i)[k].route << (8 * k);
		}
		ps->nlist[i] = (uint8_t)ps->count[i];
		if (q == NONE)
			continue;
		if (ps->multi[q] || ps->nlist[i] + ps->nlist[q] > fit) {
			ps->link[i] = head(ps, q)->len;
			continue;
		}
		for (uint32_t k = 0; k < ps->nlist[q]; k++, ps->nlist[i]++) {
			l->lo[ps->nlist[i]] = ps->list[q].lo[k];
			l->hi[ps->nlist[i]] = ps->list[q].hi[k];
			l->routes |= (ps->list[q].routes >> (8 * k) & 0xff) << (8 * ps->nlist[i]);
		}
		ps->link[i] = ps->link[q];
		st->inherited++;
	}
}

/* A prefix's own ranges, as the ranges array holds a run. */
static uint32_t put_run(const struct prefixes *ps, uint32_t i, struct sksteer_range *r)
{
	for (uint32_t k = 0; k < ps->count[i]; k++)
		r[k] = (struct sksteer_range){ .lo = head(ps, i)[k].lo,
					       .hi = head(ps, i)[k].hi,
					       .route = head(ps, i)[k].route };
	return ps->count[i];
}

/* The real entries: each prefix with its list or run, its link, and its mark. */
static int real_entries(const struct prefixes *ps, struct bindings_table *t, struct place_entry *e)
{
	uint32_t total = 0;

	for (uint32_t i = 0; i < ps->n; i++)
		total += ps->multi[i] ? ps->count[i] : 0;
	if (total >= SKSTEER_RANGES_MAX)
		return -E2BIG;
	/* room for the runs of changes made in place (bindings_delta.c) */
	t->ranges_room = total + total / 8 + (total ? 16 : 1);
	if (t->ranges_room > SKSTEER_RANGES_MAX)
		t->ranges_room = SKSTEER_RANGES_MAX;
	t->ranges = calloc(t->ranges_room, sizeof(*t->ranges));
	if (!t->ranges)
		return -ENOMEM;
	for (uint32_t i = 0; i < ps->n; i++) {
		const struct binding *b = head(ps, i);
		uint64_t flags = SKSTEER_E_USED | SKSTEER_E_REAL |
				 (b->proto == IPPROTO_UDP ? SKSTEER_E_UDP : 0) |
				 (ps->marked[i] ? SKSTEER_E_MARK : 0);

		e[i] = ps->list[i];
		memcpy(e[i].addr, b->addr, 16);
		e[i].val = (uint64_t)b->len << 40 | (uint64_t)ps->link[i] << 56;
		if (ps->multi[i]) {
			e[i].val |= t->nranges | (uint64_t)ps->count[i] << 24 |
				    (flags | SKSTEER_E_MULTI) << 48;
			t->nranges += put_run(ps, i, t->ranges + t->nranges);
		} else {
			e[i].val |= e[i].routes | (uint64_t)ps->nlist[i] << 32 |
				    (uint64_t)ps->count[i] << 36 | flags << 48;
		}
	}
	return 0;
}

/*
 * The markers: where the search for a prefix goes right (to longer lengths)
 * it needs an entry at that length holding the prefix; a real one is marked,
 * else a marker with its bmp, the longest real prefix holding it (the
 * first ancestor no longer than it). Sorted, duplicates dropped.
 */
static int make_markers(struct prefixes *ps, const struct sksteer_table_meta *m,
			struct place_entry **out, size_t *nout)
{
	struct place_entry *mk = NULL;
	size_t n = 0, cap = 0, kept = 0;

	for (uint32_t i = 0; i < ps->n; i++) {
		const struct binding *b = head(ps, i);
		uint32_t target = ps->pos[b->len], at = m->root;

		while (at != SKSTEER_NO_LEN && at != target) {
			uint32_t len = m->lens[at], q = i, real;

			if (at > target) {
				at = m->left[at];
				continue;
			}
			at = m->right[at];
			real = find(ps, b->proto, len, b->addr);
			if (real != NONE) {
				ps->marked[real] = 1;
				continue;
			}
			while (q != NONE && head(ps, q)->len > len)
				q = ps->parent[q];
			if (n == cap) {
				struct place_entry *grown;

				cap = cap ? 2 * cap : 1024;
				grown = realloc(mk, cap * sizeof(*mk));
				if (!grown) {
					free(mk);
					return -ENOMEM;
				}
				mk = grown;
			}
			mk[n] = (struct place_entry){ 0 };
			memcpy(mk[n].addr, b->addr, 16);
			mask_prefix(mk[n].addr, len);
			mk[n].val = (uint64_t)len << 40 |
				    (uint64_t)(SKSTEER_E_USED | SKSTEER_E_MARK |
					       (b->proto == IPPROTO_UDP ? SKSTEER_E_UDP : 0))
					    << 48 |
				    (uint64_t)(q != NONE ? head(ps, q)->len : SKSTEER_NO_LEN) << 56;
			n++;
		}
	}
	if (n)
		qsort(mk, n, sizeof(*mk), place_entry_cmp);
	for (size_t i = 0; i < n; i++)
		if (!kept || place_entry_cmp(&mk[i], &mk[kept - 1]))
			mk[kept++] = mk[i];
	*out = mk;
	*nout = kept;
	return 0;
}

static void free_prefixes(struct prefixes *ps)
{
	free(ps->first);
	free(ps->count);
	free(ps->parent);
	free(ps->link);
	free(ps->multi);
	free(ps->marked);
	free(ps->nlist);
	free(ps->list);
}

static int alloc_prefixes(struct prefixes *ps)
{
	size_t n = ps->n + 1;

	ps->parent = calloc(n, sizeof(uint32_t));
	ps->link = calloc(n, sizeof(uint32_t));
	ps->multi = calloc(n, 1);
	ps->marked = calloc(n, 1);
	ps->nlist = calloc(n, 1);
	ps->list = calloc(n, sizeof(*ps->list));
	return ps->parent && ps->link && ps->multi && ps->marked && ps->nlist && ps->list ? 0 :
											    -ENOMEM;
}

/* The prefixes' lengths and protocols with their (masked) addresses, for the tree. */
static int tree_of(const struct prefixes *ps, struct sksteer_table_meta *m, uint32_t *depth)
{
	struct tree_prefix *tp = calloc(ps->n + 1, sizeof(*tp));
	int ret;

	if (!tp)
		return -ENOMEM;
	for (uint32_t i = 0; i < ps->n; i++) {
		tp[i].proto = head(ps, i)->proto;
		tp[i].at = (uint8_t)ps->pos[head(ps, i)->len];
		memcpy(tp[i].addr, head(ps, i)->addr, 16);
	}
	m->n = ps->nlens;
	memcpy(m->lens, ps->lens, ps->nlens);
	ret = tree_fewest_markers(tp, ps->n, ps->family, m, depth);
	free(tp);
	return ret;
}

/*
 * The depth of m's search tree below node at (SKSTEER_NO_LEN: none); past
 * SKSTEER_DEPTH6 for a tree the lookup cannot walk (a node out of m's
 * lengths, a cycle).
 */
static uint32_t tree_depth(const struct sksteer_table_meta *m, uint32_t at, uint32_t level)
{
	uint32_t l, r;

	if (at == SKSTEER_NO_LEN)
		return level;
	if (at >= m->n || level > SKSTEER_DEPTH6)
		return SKSTEER_DEPTH6 + 1;
	l = tree_depth(m, m->left[at], level + 1);
	r = tree_depth(m, m->right[at], level + 1);
	return l > r ? l : r;
}

/*
 * The lengths and search tree of tree kept: -EAGAIN if ps has a length tree
 * lacks, or tree is not one the lookup can walk (read from the kernel, it is
 * checked as any input).
 */
static int keep_tree(struct prefixes *ps, const struct sksteer_table_meta *tree,
		     struct sksteer_table_meta *m, uint32_t *depth)
{
	uint32_t most = ps->family == AF_INET ? 32 : 128;

	if (tree->n > most + 1 || tree_depth(tree, tree->root, 0) >
					  (ps->family == AF_INET ? SKSTEER_DEPTH4 : SKSTEER_DEPTH6))
		return -EAGAIN;
	for (uint32_t k = 0; k < tree->n; k++)
		if (tree->lens[k] > most || (k && tree->lens[k] <= tree->lens[k - 1]))
			return -EAGAIN;
	for (uint32_t i = 0; i < ps->nlens; i++) {
		uint32_t k = 0;

		while (k < tree->n && tree->lens[k] != ps->lens[i])
			k++;
		if (k == tree->n)
			return -EAGAIN;
	}
	ps->nlens = tree->n;
	for (uint32_t k = 0; k < tree->n; k++) {
		ps->lens[k] = tree->lens[k];
		ps->pos[tree->lens[k]] = k;
	}
	*m = *tree;
	*depth = tree_depth(tree, tree->root, 0);
	return 0;
}

int bindings_entries(struct binding *b, size_t n, const struct sksteer_table_meta *tree,
		     struct bindings_table *t, struct place_entry **e, size_t *ne, char *err,
		     size_t errlen)
{
	struct place_entry *mk = NULL;
	struct prefixes ps = { 0 };
	size_t nmk = 0;
	int ret;

	*e = NULL;
	*ne = 0;
	ret = make_prefixes(b, n, t->family, &ps, err, errlen);
	if (!ret)
		ret = alloc_prefixes(&ps);
	if (ret)
		goto out;
	if (tree)
		ret = keep_tree(&ps, tree, &t->meta, &t->stats.depth);
	if (ret)
		goto out;
	find_parents(&ps);
	make_lists(&ps, &t->stats);
	if (!tree)
		ret = tree_of(&ps, &t->meta, &t->stats.depth);
	if (!ret)
		ret = make_markers(&ps, &t->meta, &mk, &nmk);
	if (ret)
		goto out;
	*e = calloc(ps.n + nmk + 1, sizeof(**e));
	ret = *e ? real_entries(&ps, t, *e) : -ENOMEM;
	if (ret)
		goto out;
	if (nmk)
		memcpy(*e + ps.n, mk, nmk * sizeof(*mk));
	*ne = ps.n + nmk;
	t->stats.prefixes = ps.n;
	t->stats.markers = nmk;
	for (uint32_t i = 0; i < ps.n; i++)
		t->stats.marked += ps.marked[i];
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory for the bindings table");
	else if (ret == -E2BIG)
		snprintf(err, errlen, "more than %u port ranges in prefixes of over %u ranges",
			 SKSTEER_RANGES_MAX - 1,
			 (unsigned int)(t->family == AF_INET ? SKSTEER_INLINE4 : SKSTEER_INLINE6));
	if (ret) {
		free(*e);
		*e = NULL;
		*ne = 0;
	}
	free(mk);
	free_prefixes(&ps);
	return ret;
}

int bindings_build(struct binding *b, size_t n, int family, uint64_t seed,
		   const struct bindings_table *like, struct bindings_table *t, char *err,
		   size_t errlen)
{
	struct place_entry *e;
	size_t ne;
	int ret;

	memset(t, 0, sizeof(*t));
	t->family = family;
	t->bucket_size =
		family == AF_INET ? sizeof(struct sksteer_bucket4) : sizeof(struct sksteer_bucket6);
	ret = bindings_entries(b, n, NULL, t, &e, &ne, err, errlen);
	if (!ret)
		ret = place_entries(t, e, ne, seed, like ? &like->meta : NULL);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory for the bindings table");
	if (ret)
		bindings_table_free(t);
	free(e);
	return ret;
}
