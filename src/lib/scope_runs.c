// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A prefix's runs of keys, and the keys some prefix binds: see scope_runs.h. */
#include <stdlib.h>
#include <string.h>
#include "scope_runs.h"

/* Room for more runs in s (n more at most). */
int runs_reserve(struct scope *s, uint32_t more)
{
	uint32_t cap = s->cap ? s->cap : 4;
	struct scope_run *r;

	if (s->n + more <= s->cap)
		return 0;
	while (cap < s->n + more)
		cap *= 2;
	r = realloc(s->runs, cap * sizeof(*r));
	if (!r)
		return -1;
	s->runs = r;
	s->cap = cap;
	return 0;
}

/*
 * Keys lo..hi get route (0: none) in s: the runs they cut are trimmed, the
 * new one merged with its neighbours where they touch with the same route.
 */
int runs_set(struct scope *s, uint32_t lo, uint32_t hi, uint8_t route)
{
	struct scope_run piece[3];
	uint32_t i = scope_run_at(s, lo), j = i, np = 0;

	while (j < s->n && s->runs[j].lo <= hi)
		j++;
	if (i < j && s->runs[i].lo < lo)
		piece[np++] = (struct scope_run){ s->runs[i].lo, lo - 1, s->runs[i].route };
	if (route)
		piece[np++] = (struct scope_run){ lo, hi, route };
	if (i < j && s->runs[j - 1].hi > hi)
		piece[np++] = (struct scope_run){ hi + 1, s->runs[j - 1].hi, s->runs[j - 1].route };
	/* neighbours that touch with the same route join */
	if (np && i > 0 && s->runs[i - 1].hi + 1 == piece[0].lo &&
	    s->runs[i - 1].route == piece[0].route)
		piece[0].lo = s->runs[--i].lo;
	if (np && j < s->n && piece[np - 1].hi + 1 == s->runs[j].lo &&
	    s->runs[j].route == piece[np - 1].route)
		piece[np - 1].hi = s->runs[j++].hi;
	for (uint32_t k = 1; k < np; k++) {
		if (piece[k - 1].hi + 1 == piece[k].lo && piece[k - 1].route == piece[k].route) {
			piece[k - 1].hi = piece[k].hi;
			memmove(&piece[k], &piece[k + 1], (np - k - 1) * sizeof(piece[0]));
			np--, k--;
		}
	}
	if (np > j - i && runs_reserve(s, np - (j - i)))
		return -1;
	memmove(&s->runs[i + np], &s->runs[j], (s->n - j) * sizeof(s->runs[0]));
	memcpy(&s->runs[i], piece, np * sizeof(piece[0]));
	s->n = s->n + np - (j - i);
	return 0;
}

/*
 * Which keys some prefix binds: bytes, SKSTEER_PORT_KEYS of them, malloc'd
 * (NULL: out of memory). Counted from the runs, not kept per key: a prefix on
 * every port changes two counts, not 65,535.
 */
uint8_t *bound_keys(const struct scopes *sc)
{
	int32_t *diff = calloc(SKSTEER_PORT_KEYS + 1, sizeof(*diff));
	uint8_t *bound = malloc(SKSTEER_PORT_KEYS);
	int32_t depth = 0;

	for (int id = 1; diff && bound && id < sc->n; id++) {
		for (uint32_t i = 0; i < sc->s[id].n; i++) {
			diff[sc->s[id].runs[i].lo]++;
			diff[sc->s[id].runs[i].hi + 1]--;
		}
	}
	for (uint32_t key = 0; diff && bound && key < SKSTEER_PORT_KEYS; key++) {
		depth += diff[key];
		bound[key] = depth > 0;
	}
	free(diff);
	if (!diff) {
		free(bound);
		return NULL;
	}
	return bound;
}
