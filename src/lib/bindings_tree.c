// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The search tree over a family's prefix lengths (bindings_parts.h). A
 * prefix at length index t needs an entry at L[r] for every tree node r on
 * its path where the search goes right (r < t): a real prefix there, or a
 * marker. Markers at short lengths are shared by every prefix under them;
 * at long lengths they are not. So the tree is chosen for the fewest marker
 * entries: a dynamic program over intervals of lengths, where a root r of
 * the interval (i, j] costs the distinct addresses masked to L[r] among the
 * prefixes at r+1..j that are not real prefixes themselves.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "bindings_parts.h"

#define INF (UINT64_MAX >> 2)
/* past this many (prefix, length) pairs the program takes seconds: a balanced tree */
#define DP_WORK_MAX 4000000ULL

struct dp {
	uint32_t nl, depth;
	uint64_t *cost; /* [i][k][d]: the interval of k lengths from i, at most d deep */
	uint8_t *root;
	uint32_t *marks; /* [r][j]: the markers root r costs for lengths r+1..j */
};

static size_t at3(const struct dp *dp, uint32_t i, uint32_t k, uint32_t d)
{
	return ((size_t)i * (dp->nl + 1) + k) * (dp->depth + 1) + d;
}

static uint8_t balanced(struct sksteer_table_meta *m, uint32_t lo, uint32_t hi)
{
	uint32_t mid;

	if (lo >= hi)
		return SKSTEER_NO_LEN;
	mid = (lo + hi) / 2;
	m->left[mid] = balanced(m, lo, mid);
	m->right[mid] = balanced(m, mid + 1, hi);
	return (uint8_t)mid;
}

static uint32_t depth_of(const struct sksteer_table_meta *m, uint32_t at)
{
	uint32_t l, r;

	if (at == SKSTEER_NO_LEN)
		return 0;
	l = depth_of(m, m->left[at]);
	r = depth_of(m, m->right[at]);
	return 1 + (l > r ? l : r);
}

static int cmp_tp(const void *x, const void *y)
{
	const struct tree_prefix *p = x, *q = y;

	if (p->proto != q->proto)
		return p->proto - q->proto;
	if (p->at != q->at)
		return p->at - q->at;
	return memcmp(p->addr, q->addr, 16);
}

/* keys of one length sorted by address, the smallest index of a key first */
static int cmp_key(const void *x, const void *y)
{
	const struct tree_prefix *p = x, *q = y;
	int r = p->proto - q->proto;

	if (!r)
		r = memcmp(p->addr, q->addr, 16);
	return r ? r : p->at - q->at;
}

static bool is_real(const struct tree_prefix *tp, size_t n, struct tree_prefix key)
{
	return bsearch(&key, tp, n, sizeof(*tp), cmp_tp) != NULL;
}

/* marks[r][*]: each distinct key masked to L[r], counted at the smallest index holding it */
static int count_marks(const struct tree_prefix *tp, size_t n, const struct sksteer_table_meta *m,
		       struct dp *dp)
{
	struct tree_prefix *k = malloc((n + 1) * sizeof(*k));
	uint32_t *hist = malloc((dp->nl + 1) * sizeof(*hist));

	if (!k || !hist) {
		free(k);
		free(hist);
		return -ENOMEM;
	}
	for (uint32_t r = 0; r + 1 < dp->nl; r++) {
		size_t nk = 0;

		memset(hist, 0, (dp->nl + 1) * sizeof(*hist));
		for (size_t i = 0; i < n; i++) {
			if (tp[i].at <= r)
				continue;
			k[nk] = tp[i];
			mask_prefix(k[nk++].addr, m->lens[r]);
		}
		qsort(k, nk, sizeof(*k), cmp_key);
		for (size_t i = 0; i < nk; i++) {
			struct tree_prefix key = k[i];

			if (i && k[i].proto == k[i - 1].proto &&
			    !memcmp(k[i].addr, k[i - 1].addr, 16))
				continue;
			key.at = (uint8_t)r;
			if (!is_real(tp, n, key))
				hist[k[i].at]++;
		}
		for (uint32_t j = r + 1, run = 0; j < dp->nl; j++)
			dp->marks[(size_t)r * dp->nl + j] = run += hist[j];
	}
	free(k);
	free(hist);
	return 0;
}

static void solve(struct dp *dp)
{
	for (uint32_t i = 0; i <= dp->nl; i++)
		for (uint32_t d = 0; d <= dp->depth; d++)
			dp->cost[at3(dp, i, 0, d)] = 0;
	for (uint32_t k = 1; k <= dp->nl; k++)
		for (uint32_t i = 0; i + k <= dp->nl; i++) {
			uint32_t j = i + k - 1;

			dp->cost[at3(dp, i, k, 0)] = INF;
			for (uint32_t d = 1; d <= dp->depth; d++) {
				uint64_t best = INF;
				uint8_t root = (uint8_t)j;

				for (uint32_t r = i; r <= j; r++) {
					uint64_t v =
						(r < j ? dp->marks[(size_t)r * dp->nl + j] : 0) +
						dp->cost[at3(dp, i, r - i, d - 1)] +
						dp->cost[at3(dp, r + 1, j - r, d - 1)];

					if (v <=
					    best) { /* ties: the longer root, closer to longest first */
						best = v;
						root = (uint8_t)r;
					}
				}
				dp->cost[at3(dp, i, k, d)] = best;
				dp->root[at3(dp, i, k, d)] = root;
			}
		}
}

static uint8_t rebuild(const struct dp *dp, struct sksteer_table_meta *m, uint32_t i, uint32_t k,
		       uint32_t d)
{
	uint8_t r;

	if (!k)
		return SKSTEER_NO_LEN;
	r = dp->root[at3(dp, i, k, d)];
	m->left[r] = rebuild(dp, m, i, r - i, d - 1);
	m->right[r] = rebuild(dp, m, r + 1, i + k - 1 - r, d - 1);
	return r;
}

int tree_fewest_markers(const struct tree_prefix *tp, size_t n, int family,
			struct sksteer_table_meta *m, uint32_t *depth)
{
	uint32_t most = family == AF_INET ? SKSTEER_DEPTH4 : SKSTEER_DEPTH6;
	struct dp dp = { .nl = m->n };
	size_t cells;
	int ret = 0;

	memset(m->left, SKSTEER_NO_LEN, sizeof(m->left));
	memset(m->right, SKSTEER_NO_LEN, sizeof(m->right));
	while ((1u << dp.depth) <= dp.nl)
		dp.depth++;
	dp.depth = dp.depth + 2 > most ? most : dp.depth + 2;
	if (dp.nl < 2 || (uint64_t)(dp.nl - 1) * n > DP_WORK_MAX) {
		m->root = balanced(m, 0, dp.nl);
		goto out;
	}
	cells = (size_t)(dp.nl + 1) * (dp.nl + 1) * (dp.depth + 1);
	dp.cost = malloc(cells * sizeof(*dp.cost));
	dp.root = malloc(cells);
	dp.marks = calloc((size_t)dp.nl * dp.nl, sizeof(*dp.marks));
	if (!dp.cost || !dp.root || !dp.marks) {
		ret = -ENOMEM;
		goto out;
	}
	ret = count_marks(tp, n, m, &dp);
	if (ret)
		goto out;
	solve(&dp);
	m->root = rebuild(&dp, m, 0, dp.nl, dp.depth);
out:
	*depth = depth_of(m, m->root);
	free(dp.cost);
	free(dp.root);
	free(dp.marks);
	return ret;
}
