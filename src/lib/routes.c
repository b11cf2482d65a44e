// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Routes: see routes.h. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "arrays.h"
#include "live.h"
#include "routes.h"
#include "scopes.h"

/* The last usable route: the bytes above it mark keys with scoped bindings. */
#define LAST_ROUTE (SKSTEER_SCOPED - 1)

/* Writes route r's two entries: each family's lookups to its own target, else to the other. */
static int write_route(struct live *l, uint32_t r)
{
	const uint8_t *own = l->routes.pairs[r];

	if (l->fds[MAP_ROUTES] < 0)
		return 0; /* layout 2: no routes yet, migrated when the program is loaded */
	for (int fam = 0; fam < 2; fam++) {
		uint32_t key = 2 * r + (uint32_t)fam;
		uint8_t slot = own[fam] ? own[fam] : own[!fam];
		struct sksteer_route e = {
			.slot = slot,
			.owner = { own[0], own[1] },
		};

		if (live_update(l, MAP_ROUTES, &key, &e))
			return -errno;
	}
	return 0;
}

int routes_read(struct live *l)
{
	/* each route's owners, as its first entry (2r, AF_INET lookups') holds them */
	struct sksteer_route e[2 * SKSTEER_ROUTES];
	int ret;

	memset(l->routes.pairs, 0, sizeof(l->routes.pairs));
	memset(l->routes.used, 0, sizeof(l->routes.used));
	if (layout_from(&l->layout) == 2 || l->fds[MAP_ROUTES] < 0) {
		for (int slot = 1; slot < SKSTEER_SLOTS && slot <= LAST_ROUTE; slot++) {
			if (!l->addrs[slot].proto)
				continue;
			l->routes.pairs[slot][family_index(l->addrs[slot].family)] = (uint8_t)slot;
			l->routes.used[slot] = true;
		}
		return 0;
	}
	ret = array_read(l->fds[MAP_ROUTES], 2 * SKSTEER_ROUTES, sizeof(e[0]), e);
	if (ret) /* all unused would let a writer give a route in use to another pair */
		return ret;
	for (uint32_t r = 1; r <= LAST_ROUTE; r++) {
		l->routes.pairs[r][0] = e[2 * r].owner[0];
		l->routes.pairs[r][1] = e[2 * r].owner[1];
		l->routes.used[r] = e[2 * r].owner[0] || e[2 * r].owner[1];
	}
	return 0;
}

/* The route of pair own, in use already or made now; 0 for no owner, -1 when none is free. */
static int route_for(struct live *l, const uint8_t own[2])
{
	int free_r = 0;

	if (!own[0] && !own[1])
		return 0;
	for (int r = 1; r <= LAST_ROUTE; r++) {
		if (l->routes.used[r] && l->routes.pairs[r][0] == own[0] &&
		    l->routes.pairs[r][1] == own[1])
			return r;
		if (!l->routes.used[r] && !free_r)
			free_r = r;
	}
	if (!free_r) {
		errno = ENOSPC;
		return -1;
	}
	l->routes.pairs[free_r][0] = own[0];
	l->routes.pairs[free_r][1] = own[1];
	l->routes.used[free_r] = true;
	if (write_route(l, (uint32_t)free_r)) {
		l->routes.used[free_r] = false;
		return -1;
	}
	return free_r;
}

int route_set_owner(struct live *l, int scope, uint32_t lo, uint32_t hi, int family, uint8_t slot)
{
	for (uint32_t key = lo, end; key <= hi; key = end + 1) {
		const uint8_t *now = l->routes.pairs[scope_route(l, scope, key)];
		uint8_t own[2] = { now[0], now[1] };
		int r;

		/* keys with one route now get one route after */
		end = scope_same_route(l, scope, key, hi);
		own[family_index(family)] = slot;
		r = route_for(l, own);
		/* one byte a key: a lookup sees the old route or the new one, whose entries are written */
		if (r < 0 || scope_set_routes(l, scope, key, end, (uint8_t)r))
			return -1;
	}
	return 0;
}

void routes_gc(struct live *l)
{
	bool used[SKSTEER_ROUTES] = {};

	/* the port table's 131,072 keys, and each prefix's runs */
	for (uint32_t key = 0; key < SKSTEER_PORT_KEYS; key++)
		used[scope_route(l, 0, key)] = true;
	for (int scope = 1; scope < scopes_end(&l->scopes); scope++) {
		uint32_t n;
		const struct scope_run *run = scope_runs(&l->scopes, scope, &n);

		for (uint32_t i = 0; i < n; i++)
			used[run[i].route] = true;
	}
	for (uint32_t r = 1; r <= LAST_ROUTE; r++) {
		struct sksteer_route none = {};

		if (!l->routes.used[r] || used[r])
			continue;
		l->routes.used[r] = false;
		memset(l->routes.pairs[r], 0, sizeof(l->routes.pairs[r]));
		for (uint32_t key = 2 * r; l->fds[MAP_ROUTES] >= 0 && key <= 2 * r + 1; key++)
			live_update(l, MAP_ROUTES, &key, &none);
	}
}

int routes_write_all(struct live *l)
{
	for (uint32_t r = 1; r <= LAST_ROUTE; r++) {
		int ret = l->routes.used[r] ? write_route(l, r) : 0;

		if (ret)
			return ret;
	}
	return 0;
}
