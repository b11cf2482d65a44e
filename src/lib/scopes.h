/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Destination scopes (--dst PREFIX): which prefixes bind ports, each one's
 * table of routes by key while a run works (this process's memory, written
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
 * The destination scopes (struct live's scopes): scopes.c's alone, asked
 * through the functions below. Table 0 holds the unscoped routes of keys the
 * port table marks.
 */
/* scope 0, and SCOPED_PREFIXES (parse.h) of each family */
#define SCOPES_MAX (1 + 2 * SCOPED_PREFIXES)

struct scopes {
	/* scope S's prefix (family 0: no such scope); first, for live.h's transitional name */
	struct prefix prefix[SCOPES_MAX];
	/* 0: mapped, or a reader's copy; the others, this process's; NULL: none */
	volatile uint8_t *table[SCOPES_MAX];
	int fd0; /* scope table 0's, writers only; 0 when not open */
	bool dirty; /* tables 1.. changed since the bindings table was written */
};

/* Scope's prefix (family 0: no such scope). */
static inline const struct prefix *scope_prefix(const struct scopes *scopes, int scope)
{
	return &scopes->prefix[scope];
}

/* Scope's table, each key's route in it (NULL: the scope has none). */
static inline const volatile uint8_t *scope_table(const struct scopes *scopes, int scope)
{
	return scopes->table[scope];
}

/* Whether scope has a table: a prefix that binds ports (scope 0: some prefix binds them). */
static inline bool scope_has_table(const struct scopes *scopes, int scope)
{
	return scopes->table[scope] != NULL;
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
 * Sets key's route in scope. Scope 0's is one byte store that a lookup sees
 * whole; another scope's, lookups see when the scopes are written
 * (scopes_write()). A key a prefix binds for the first time is marked (its
 * unscoped route moved to scope table 0 first: until the write, its lookups
 * find no new binding and take that route, as before); one no prefix binds
 * any more gets its route back.
 */
void scope_set_route(struct live *l, int scope, uint32_t key, uint8_t route);

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

/* Scopes 1.. in use, in the order --list shows them (most specific first). n returned. */
int scopes_in_order(const struct live *l, int *order);

#endif /* __SKSTEER_SCOPES_H */
