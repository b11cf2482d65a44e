/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Destination scopes (--dst PREFIX): which prefixes bind ports, each one's
 * routes as runs of keys while a run works (this process's memory, written
 * to the bindings table when a change is done: scope_store.h), and the marks
 * in the port table that send a key's lookups through them (see
 * SKSTEER_SCOPED in sksteer_abi.h). Scope 0 is "every address": the port
 * table itself, or, for a marked key, scope table 0 (pinned as scope_0).
 */
#ifndef __SKSTEER_SCOPES_H
#define __SKSTEER_SCOPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "parse.h"

struct live;

/*
 * A prefix's routes: runs of keys (port_key()) with one route each, sorted,
 * disjoint, and merged where two touch with the same route. A prefix on every
 * port is one run, not 65,535 keys.
 */
struct scope_run {
	uint32_t lo, hi; /* keys */
	uint8_t route; /* never 0: a key no run holds has none */
};

struct scope {
	struct prefix prefix; /* family 0: a free id */
	struct scope_run *runs;
	uint32_t n, cap;
};

/*
 * The destination scopes (struct live's scopes): scopes.c's alone, asked
 * through the functions below. Scope 0 is every address; scope table 0 holds
 * the unscoped routes of keys the port table marks.
 */
struct scopes {
	struct scope *s; /* by id; s[0] has no prefix and no runs */
	int n, cap; /* ids 0..n-1 made */
	int *free_ids, nfree;
	int count[2]; /* prefixes of each family (family_index()) */
	int *index; /* open addressing: prefix -> id, 0 empty */
	uint32_t index_cap; /* a power of 2, over twice the prefixes */
	volatile uint8_t *table0; /* mapped, or a reader's copy; NULL: none */
	int fd0; /* scope table 0's, writers only; 0 when not open */
	bool dirty; /* the runs changed since the bindings table was written */
};

static const struct prefix scope_every_address;

/* Scope's prefix (family 0: every address, or no such scope). */
static inline const struct prefix *scope_prefix(const struct scopes *scopes, int scope)
{
	return scope > 0 && scope < scopes->n ? &scopes->s[scope].prefix : &scope_every_address;
}

/* One past the last scope id: loops over scopes run 1..scopes_end()-1, skipping free ids. */
static inline int scopes_end(const struct scopes *scopes)
{
	return scopes->n ? scopes->n : 1;
}

/* Scope's runs (n of them); scope > 0. */
static inline const struct scope_run *scope_runs(const struct scopes *scopes, int scope,
						 uint32_t *n)
{
	*n = scope > 0 && scope < scopes->n ? scopes->s[scope].n : 0;
	return *n ? scopes->s[scope].runs : NULL;
}

/* The index of the first run of scope that ends at key or after (n: none). */
static inline uint32_t scope_run_at(const struct scope *s, uint32_t key)
{
	uint32_t lo = 0, hi = s->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->runs[mid].hi < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Key's route in scope > 0 (0: none). */
static inline uint8_t scope_key_route(const struct scopes *scopes, int scope, uint32_t key)
{
	const struct scope *s;
	uint32_t i;

	if (scope <= 0 || scope >= scopes->n)
		return 0;
	s = &scopes->s[scope];
	i = scope_run_at(s, key);
	return i < s->n && s->runs[i].lo <= key ? s->runs[i].route : 0;
}

/* Key's unscoped route when the port table marks it (scope table 0). */
static inline uint8_t scope0_route(const struct scopes *scopes, uint32_t key)
{
	return scopes->table0 ? scopes->table0[key] : 0;
}

/* Opens (or, for a reader, copies) scope table 0 and reads the prefixes' bindings. */
int scopes_read(struct live *l, char *err, size_t errlen);

/* Reads the prefixes' bindings again (a tracer, when a lookup names one it does not know). */
void scopes_refresh(struct live *l);

/* Frees and unmaps what scopes_read() and scope_get() made; closes their fds. */
void scopes_close(struct live *l);

/* The scope of prefix p (NULL or family 0: scope 0); -1 when it binds nothing yet. */
int scope_find(const struct live *l, const struct prefix *p);

/*
 * The scope of prefix p, found or made (with scope table 0, pinned, when it
 * is the first). -1 with err when that fails or all SCOPED_PREFIXES of its
 * family are taken.
 */
int scope_get(struct live *l, const struct prefix *p, char *err, size_t errlen);

/*
 * Sets the route of keys lo..hi in scope. Scope 0's is one byte store a key
 * that a lookup sees whole; another scope's, lookups see when the scopes are
 * written (scopes_write(), which first marks the keys prefixes bind: until
 * the write, a newly marked key's lookups find no new binding and take its
 * unscoped route, as before); scopes_gc() unmarks keys no prefix binds any
 * more. -1 (errno ENOMEM) with nothing changed.
 */
int scope_set_routes(struct live *l, int scope, uint32_t lo, uint32_t hi, uint8_t route);

/* The last key from key up to hi that has key's route in scope (scope 0: key itself). */
uint32_t scope_same_route(const struct live *l, int scope, uint32_t key, uint32_t hi);

/*
 * Makes the scopes' routes what lookups see, at once (the bindings table,
 * in place or swapped whole). 0, or -1 with err.
 */
int scopes_write(struct live *l, char *err, size_t errlen);

/*
 * The end of a change: scopes that bind no port any more go, the scopes are
 * written, and scope table 0 goes with the last of them. 0, or -1 with err
 * (the bindings table could not be written: lookups see what they did).
 */
int scopes_gc(struct live *l, char *err, size_t errlen);

/* How many more prefixes of family (AF_INET, AF_INET6) may bind ports. */
int scopes_room(const struct live *l, int family);

/*
 * Scopes 1.. in use, in the order --list shows them (most specific first):
 * malloc'd, *n of them; NULL when out of memory (or none: *n 0).
 */
int *scopes_in_order(const struct live *l, int *n);

#endif /* __SKSTEER_SCOPES_H */
