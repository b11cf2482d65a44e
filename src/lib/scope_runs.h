/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A prefix's routes as runs of keys (struct scope in scopes.h): room for
 * more, a range of keys set, and which keys any prefix binds. No syscalls:
 * scopes.c keeps the scopes, this their runs.
 */
#ifndef __SKSTEER_SCOPE_RUNS_H
#define __SKSTEER_SCOPE_RUNS_H

#include <stdint.h>
#include "scopes.h"

/* Room in s for more runs (more at most). 0, or -1 when out of memory. */
int runs_reserve(struct scope *s, uint32_t more);

/*
 * Keys lo..hi get route (0: none) in s: the runs they cut are trimmed, the
 * new one merged with its neighbours where they touch with the same route.
 * Needs room for two runs more (runs_reserve()) to change nothing on failure.
 */
int runs_set(struct scope *s, uint32_t lo, uint32_t hi, uint8_t route);

/*
 * Which keys some prefix binds: bytes, SKSTEER_PORT_KEYS of them, malloc'd
 * (NULL: out of memory). Counted from the runs, not kept per key: a prefix on
 * every port changes two counts, not 65,535.
 */
uint8_t *bound_keys(const struct scopes *sc);

#endif /* __SKSTEER_SCOPE_RUNS_H */
