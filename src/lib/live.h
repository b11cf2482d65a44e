/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * struct live: one namespace's steering as this process holds it (the pinned maps, the
 * targets, the port table), and the lookups through its tables. Types and inline code only:
 * view.c reads it, guard.c checks changes against it, moves.c makes them.
 */
#ifndef __SKSTEER_LIVE_H
#define __SKSTEER_LIVE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <bpf/bpf.h>
#include "clients.h"
#include "layout.h"
#include "parse.h"
#include "pins.h"
#include "routes.h"
#include "scope_store.h"
#include "scopes.h"

/* What a change wrote to the kernel (--verbose prints it): counted where each write is made. */
struct live_updates {
	size_t keys; /* bytes of the port table and of scope table 0 */
	size_t bindings; /* entries and ranges stored into a bindings table, in use or staged */
	size_t tables; /* bindings tables switched to whole */
	size_t entries; /* entries of the other maps: targets, routes, flags, records, counters */
};

struct live {
	struct pins pins;
	int fds[NR_MAPS]; /* map fds; -1 until open */
	struct sksteer_target addrs[SKSTEER_SLOTS]; /* proto 0: free slot */
	/*
	 * The port table, mapped into our memory: the program reads the same bytes.
	 * One array element per key; the owner's slot is its first byte. view.c
	 * maps it; the rest reach a key's byte through port_byte().
	 */
	volatile uint8_t *table;
	size_t table_len;
	unsigned int stride; /* bytes from one key's owner to the next: 1, or 8 in layout 2 */
	bool table_copied; /* a reader's copy (PINS_READ), always packed, not a mapping */
	/*
	 * The link runs this build's program (program_load() found it so): one that reads the
	 * bindings table's generations, which a change made in place needs (scope_store.c).
	 */
	bool program_current;
	/*
	 * A dry apply (apply.c's, for --dry-run): every write to the kernel counted as the
	 * apply would make it, and skipped; what the apply writes in memory is a private copy.
	 */
	bool dry;
	struct {
		bool set[SKSTEER_SLOTS];
		uint32_t flags[SKSTEER_SLOTS];
	} dry_flags; /* the targets' flags a dry apply would have written: live_flags() reads them */
	/*
	 * Each module's own state, declared in its header: only that module's
	 * functions touch its fields; the rest ask its accessors.
	 */
	struct live_updates updates;
	struct layout layout; /* layout.h */
	struct clients clients; /* clients.h */
	struct routes routes; /* routes.h */
	struct scopes scopes; /* scopes.h */
	struct store store; /* scope_store.h */
};

/*
 * A dry apply's update (the flags kept, for live_flags()) and delete (whether the kernel's
 * would succeed), neither made: 0, or -1 with errno as the kernel's would fail (dry.c).
 */
struct live;
int dry_update(struct live *l, int map, const void *key, const void *value);
int dry_delete(int fd, const void *key);

/* An entry of map (enum pinned_map) written, and counted. bpf_map_update_elem()'s return. */
static inline int live_update(struct live *l, int map, const void *key, const void *value)
{
	int ret = l->dry ? dry_update(l, map, key, value) :
			   bpf_map_update_elem(l->fds[map], key, value, BPF_ANY);

	l->updates.entries += !ret;
	return ret;
}

/* ... and deleted. */
static inline int live_delete(struct live *l, int map, const void *key)
{
	int ret = l->dry ? dry_delete(l->fds[map], key) : bpf_map_delete_elem(l->fds[map], key);

	l->updates.entries += !ret;
	return ret;
}

/* Key's byte in the port table: its route, or a mark (view.c maps the table, or copies it). */
static inline volatile uint8_t *port_byte(const struct live *l, uint32_t key)
{
	return l->table + (size_t)key * l->stride;
}

/* Whether a port table byte marks a key with scoped bindings (layout 4; a route before). */
static inline bool route_is_mark(const struct live *l, uint8_t b)
{
	return b == SKSTEER_SCOPED && !layout_from(&l->layout);
}

/*
 * The route key has in scope (0: every address, however the port table
 * holds it; -1: a scope not made yet, which has none).
 */
static inline uint8_t scope_route(const struct live *l, int scope, uint32_t key)
{
	uint8_t b;

	if (scope)
		return scope_key_route(&l->scopes, scope, key);
	b = *port_byte(l, key);
	return route_is_mark(l, b) ? scope0_route(&l->scopes, key) : b;
}

/* The unscoped route of key (layout 2: a target slot, its own route). */
static inline uint8_t port_route(const struct live *l, uint32_t key)
{
	return scope_route(l, 0, key);
}

/* The target of the given socket family that owns key in scope, or 0. */
static inline uint8_t scope_owner(const struct live *l, int scope, uint32_t key, int family)
{
	return route_pair(&l->routes, scope_route(l, scope, key))[family_index(family)];
}

/* The target of the given socket family that owns key, or 0. */
static inline uint8_t port_owner(const struct live *l, uint32_t key, int family)
{
	return scope_owner(l, 0, key, family);
}

/* The owner of key among targets of the family of target slot's socket. */
static inline uint8_t slot_port_owner(const struct live *l, uint32_t key, int slot)
{
	return port_owner(l, key, l->addrs[slot].family);
}

/* As slot_port_owner(), in scope. */
static inline uint8_t scope_port_owner(const struct live *l, int scope, uint32_t key, int slot)
{
	return scope_owner(l, scope, key, l->addrs[slot].family);
}

struct sock_info;

struct change {
	const struct sksteer_target *target;
	const struct prefix *dst; /* --dst: the ports bind for these destinations only; NULL: all */
	const struct portset *ports; /* NULL: keep the target's ports */
	bool new_socket; /* resolve the target's socket afresh */
	bool restart; /* -s alone: the new socket alone, not its SO_REUSEPORT group */
	enum { FAIL_CLOSED_KEEP, FAIL_CLOSED_ON, FAIL_CLOSED_OFF } fail_closed;
	bool force; /* take ports from other targets and from other listeners */
	const struct sock_info *given; /* handed over (--fd, --listen, --systemd): not looked up */
};

static inline uint32_t port_key(int proto, unsigned int port)
{
	return SKSTEER_PROTO_BIT((uint32_t)proto) | port;
}

#endif /* __SKSTEER_LIVE_H */
