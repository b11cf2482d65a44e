/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Routes: which target each family's lookups of a port go to. The port table
 * holds a route per port; a route names the AF_INET target and the AF_INET6
 * target that own the port (either may be missing; then the other gets both
 * families, as a lone socket always did). Owns the routes map and the choice
 * of route ids; moves.c changes owners through route_set_owner().
 */
#ifndef __SKSTEER_ROUTES_H
#define __SKSTEER_ROUTES_H

#include <stdbool.h>
#include <stdint.h>
#include "sksteer_abi.h"

struct live;

/* The routes in use (struct live's routes): routes.c's alone, asked through route_pair(). */
struct routes {
	uint8_t pairs[SKSTEER_ROUTES][2]; /* route -> its AF_INET and AF_INET6 target */
	bool used[SKSTEER_ROUTES]; /* in use, or free */
};

/* Route r's AF_INET and AF_INET6 target (0: none; then the other gets both families). */
static inline const uint8_t *route_pair(const struct routes *routes, uint8_t r)
{
	return routes->pairs[r];
}

/* 0 for AF_INET, 1 for AF_INET6: which of a route's two targets a socket family is. */
static inline int family_index(int family)
{
	return family == 10 /* AF_INET6 */;
}

/*
 * Reads the routes (l->routes) from the routes map, or, for
 * pins of layout 2 (no routes map; the table holds target slots), makes each
 * target's slot its own route. 0, or -errno.
 */
int routes_read(struct live *l);

/*
 * Makes target slot (0: none) the owner of keys lo..hi in scope
 * (src/lib/scopes.h) for sockets of family: per stretch of keys with one
 * route, the route of the new pair, found or made (its map entries written
 * first), then the table's bytes, one a key. -1 (and errno ENOSPC) when no
 * route is free, ENOMEM when a prefix's runs cannot grow.
 */
int route_set_owner(struct live *l, int scope, uint32_t lo, uint32_t hi, int family, uint8_t slot);

/* Frees the routes no port uses any more (after a change has moved every port). */
void routes_gc(struct live *l);

/* Writes every route in use into the routes map (a migration's new map). */
int routes_write_all(struct live *l);

#endif /* __SKSTEER_ROUTES_H */
