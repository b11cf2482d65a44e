/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where the bindings of destination prefixes live in the kernel (scopes.c
 * keeps them per prefix while a run works): the bindings table
 * (bindings_abi.h), each family's half in use pinned as table4_H, table6_H
 * and ranges_N beside the maps that name them, read when a run starts and
 * changed in place or swapped in whole; and, to migrate them, the
 * prefix lists and scope tables of layouts 4 and 5.
 */
#ifndef __SKSTEER_SCOPE_STORE_H
#define __SKSTEER_SCOPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bindings.h"

struct live;

/* struct live's store: scope_store.c's alone. */
struct store {
	struct bindings_table live[2]; /* a writer's: each family's table in use, as last read */
	uint32_t gen[2]; /* the generation each family's lookups use, as last read */
	bool legacy; /* what was read came from the maps of layout 4 or 5 */
};

/*
 * A reader's copy of a packed table (value_size 8) or one of layout 2 (1), from map fd:
 * the port table's or scope table 0's (and layout 4-5's other scope tables).
 */
volatile uint8_t *table_copy(int fd, uint32_t value_size);

/*
 * The bindings of every prefix, read from the pins (layout 6's table, or the
 * lists and tables of layout 4 or 5): appended to *b (malloc'd), *n of them.
 * 0, or -1 with one line in err.
 */
int store_read(struct live *l, struct binding **b, size_t *n, char *err, size_t errlen);

/*
 * Makes b (sorted here) what lookups see: per family, in the table in use
 * where the change fits it, only the entries that change written (by
 * generation: bindings_delta()); else a new table swapped in whole. 0, or
 * -1 with one line in err (b is not in place then: lookups see what they did).
 */
int store_write(struct live *l, struct binding *b, size_t n, char *err, size_t errlen);

/*
 * Once the migrated program runs: the maps of layout 4 and 5 go, after a
 * grace period (and any such table a run cut short left pinned).
 */
void store_drop_legacy(struct live *l);

/* Frees what store_read() and store_write() kept. */
void store_close(struct live *l);

#endif /* __SKSTEER_SCOPE_STORE_H */
