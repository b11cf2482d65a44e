/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The plain model the bindings table is held to (tests/bindings_check.c,
 * tests/fuzz_bindings.c): most specific wins, by brute force over the list;
 * and random bindings with nested and overlapping prefixes of every length.
 */
#ifndef __SKSTEER_BINDINGS_MODEL_H
#define __SKSTEER_BINDINGS_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "bindings.h"

/* The route of the longest prefix of b that holds (family, proto, dst) and binds port; 0: none. */
uint8_t model_route(const struct binding *b, size_t n, int family, int proto, const uint8_t *dst,
		    uint16_t port);

/*
 * The same verdict for b sorted as model_distinct() leaves it, length by
 * length from the longest: fast enough for a million bindings.
 */
uint8_t model_route_sorted(const struct binding *b, size_t n, int family, int proto,
			   const uint8_t *dst, uint16_t port);

/* Whether b's prefix holds dst (b's family). */
bool model_holds(const struct binding *b, const uint8_t *dst);

/* How many addresses a family's random prefixes nest around (default 16). */
extern unsigned int model_bases;

/* A small deterministic generator (splitmix64). */
uint64_t model_rand(uint64_t *state);

/*
 * n random bindings: both families and protocols, every prefix length,
 * addresses nested around a few bases, 1-5 disjoint ranges a prefix (most
 * within ports 1-64, so that prefixes overlap, some 1-65535). Returns how
 * many it made (<= n), into b.
 */
size_t model_random_bindings(struct binding *b, size_t n, uint64_t *state);

/* Sorts b and drops the bindings of a prefix that overlap an earlier one: how many are left. */
size_t model_distinct(struct binding *b, size_t n);

/* A destination near the bases (or anywhere, one time in eight), and a port to look up. */
void model_random_lookup(int family, uint8_t *dst, uint16_t *port, uint64_t *state);

#endif
