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

#include <stdint.h>

struct live;

/*
 * Reads the routes (l->pairs, l->route_used) from the routes map, or, for
 * pins of layout 2 (no routes map; the table holds target slots), makes each
 * target's slot its own route.
 */
void routes_read(struct live *l);

/*
 * Makes target slot (0: none) the owner of key in scope (src/scopes.h) for
 * sockets of family: the route of the new pair, found or made (its map
 * entries written first), then the one byte of the table. -1 (and errno
 * ENOSPC) when no route is free.
 */
int route_set_owner(struct live *l, int scope, uint32_t key, int family, uint8_t slot);

/* Frees the routes no port uses any more (after a change has moved every port). */
void routes_gc(struct live *l);

/* Writes every route in use into the routes map (a migration's new map). */
int routes_write_all(struct live *l);

#endif /* __SKSTEER_ROUTES_H */
