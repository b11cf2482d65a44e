/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Destination scopes (--dst PREFIX): which prefixes bind ports, their scope
 * tables (pinned as scope_N, and in the "scopes" map the program reads), the
 * two prefix lists, and the marks in the port table that send a key's lookups
 * through them (see SKSTEER_SCOPED in sksteer_abi.h). Scope 0 is "every address":
 * the port table itself, or, for a marked key, scope table 0.
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
struct scopes {
	/* scope S's prefix (family 0: no such scope); first, for live.h's transitional name */
	struct prefix prefix[SKSTEER_SCOPES];
	volatile uint8_t *table[SKSTEER_SCOPES]; /* mapped, or a reader's copy; NULL: none */
	int fd[SKSTEER_SCOPES]; /* writers only; 0 when not open */
	uint32_t list; /* the prefix list lookups use (prefix_list) */
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

/*
 * A reader's copy of a packed table (value_size 8) or one of layout 2 (1), from map fd:
 * the port table's or a scope table's.
 */
volatile uint8_t *table_copy(int fd, uint32_t value_size);

/* Opens (or, for a reader, copies) the pinned scope tables and reads the prefixes. */
int scopes_read(struct live *l, char *err, size_t errlen);

/* Reads which prefix each scope has, from the prefix lists (a tracer, when one is new). */
void scopes_read_prefixes(struct live *l);

/* Unmaps what scopes_read() and scope_get() mapped; closes their fds. */
void scopes_close(struct live *l);

/* The scope of prefix p (NULL or family 0: scope 0); -1 when it binds nothing yet. */
int scope_find(const struct live *l, const struct prefix *p);

/*
 * The scope of prefix p, found or made: its table, pinned, in the program's
 * map, then in the prefix lists. -1 with err when that fails or all
 * SKSTEER_PREFIXES of its family are taken.
 */
int scope_get(struct live *l, const struct prefix *p, char *err, size_t errlen);

/*
 * Sets key's route in scope: one byte store that a lookup sees whole. A key
 * a prefix binds for the first time is marked (its unscoped route moved to
 * scope table 0 first); one no prefix binds any more gets its route back.
 */
void scope_set_route(struct live *l, int scope, uint32_t key, uint8_t route);

/* Scopes that bind no port any more go: out of the lists first, then their tables. */
void scopes_gc(struct live *l);

/* How many more prefixes of family (AF_INET, AF_INET6) may bind ports. */
int scopes_room(const struct live *l, int family);

/* Scopes 1.. in use, in the order --list shows them (most specific first). n returned. */
int scopes_in_order(const struct live *l, int *order);

#endif /* __SKSTEER_SCOPES_H */
