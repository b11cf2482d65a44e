/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The live configuration of one namespace: which targets exist and which ports
 * each one owns, read from and written to the pinned maps.
 */
#ifndef __SKSTEER_STEER_H
#define __SKSTEER_STEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "parse.h"
#include "pins.h"

struct live {
	struct pins pins;
	int fds[NR_MAPS]; /* map fds; -1 until open */
	struct sksteer_target addrs[SKSTEER_SLOTS]; /* proto 0: free slot */
	/*
	 * The port table, mapped into our memory: the program reads the same bytes.
	 * One array element per key; the owner's slot is its first byte.
	 */
	volatile uint8_t *table;
	size_t table_len;
	unsigned int stride; /* bytes from one key's owner to the next: 1, or 8 in layout 2 */
	bool table_copied; /* a reader's copy (PINS_READ), always packed, not a mapping */
	/*
	 * Pins of an older layout (2), which program_load() migrates; then
	 * migrated, until program_sync() has swapped the program and re-pinned.
	 */
	int layout_from;
	unsigned int layout_pinned; /* the layout map's value; 0 before layout 3 */
	bool migrated;
	bool maps_added; /* maps older pins lacked were made: the live program must change */
	/* the ephemeral range while the UDP client watcher runs (clients.h); 0: it does not */
	uint16_t clients_from, clients_to;
	/* route -> its AF_INET and AF_INET6 target (src/routes.c); in use or free */
	uint8_t pairs[SKSTEER_ROUTES][2];
	bool route_used[SKSTEER_ROUTES];
	/*
	 * Destination scopes (src/scopes.c): scope S's prefix (family 0: no such
	 * scope) and table (mapped, or a reader's copy; NULL: none). Table 0
	 * holds the unscoped routes of keys the port table marks.
	 */
	struct prefix scope_prefix[SKSTEER_SCOPES];
	volatile uint8_t *scope_table[SKSTEER_SCOPES];
	int scope_fd[SKSTEER_SCOPES]; /* writers only; 0 when not open */
	uint32_t list; /* the prefix list lookups use (prefix_list) */
};

/* Whether a port table byte marks a key with scoped bindings (layout 4; a route before). */
static inline bool route_is_mark(const struct live *l, uint8_t b)
{
	return b == SKSTEER_SCOPED && !l->layout_from;
}

/*
 * The route key has in scope (0: every address, however the port table
 * holds it; -1: a scope not made yet, which has none).
 */
static inline uint8_t scope_route(const struct live *l, int scope, uint32_t key)
{
	uint8_t b;

	if (scope)
		return scope > 0 && l->scope_table[scope] ? l->scope_table[scope][key] : 0;
	b = l->table[(size_t)key * l->stride];
	if (!route_is_mark(l, b))
		return b;
	return l->scope_table[0] ? l->scope_table[0][key] : 0;
}

/* The unscoped route of key (layout 2: a target slot, its own route). */
static inline uint8_t port_route(const struct live *l, uint32_t key)
{
	return scope_route(l, 0, key);
}

/* 0 for AF_INET, 1 for AF_INET6: which of a route's two targets a socket family is. */
static inline int family_index(int family)
{
	return family == 10 /* AF_INET6 */;
}

/* The target of the given socket family that owns key, or 0. */
static inline uint8_t port_owner(const struct live *l, uint32_t key, int family)
{
	return l->pairs[port_route(l, key)][family_index(family)];
}

/* The owner of key among targets of the family of target slot's socket. */
static inline uint8_t slot_port_owner(const struct live *l, uint32_t key, int slot)
{
	return port_owner(l, key, l->addrs[slot].family);
}

/* As slot_port_owner(), in scope. */
static inline uint8_t scope_port_owner(const struct live *l, int scope, uint32_t key, int slot)
{
	return l->pairs[scope_route(l, scope, key)][family_index(l->addrs[slot].family)];
}

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

/* Opens the pinned maps (those older pins lack stay -1) and reads them. 0 or -1 with err. */
int live_open(struct live *l, char *err, size_t errlen);

/* Closes what live_open() and the rest opened, the pin directory included. */
void live_close(struct live *l);

/* Reads the targets and maps the port table, from the map fds in l->fds. 0 or -1 with err. */
int live_read(struct live *l, char *err, size_t errlen);

/* Whether cookie is the socket of one of the targets. */
bool sock_is_target(const struct live *l, uint64_t cookie);

/* The slot of target t, or -1. */
int live_find(const struct live *l, const struct sksteer_target *t);

/* Number of targets. *only receives the slot of the last one found. */
int live_count(const struct live *l, int *only);

/* The ports target slot owns (for every destination address). */
void live_ports(const struct live *l, int slot, struct portset *out);

/* The ports target slot owns for any destination: every address's and every prefix's. */
void live_ports_any(const struct live *l, int slot, struct portset *out);

/* The ports target slot owns in scope. */
void live_scope_ports(const struct live *l, int slot, int scope, struct portset *out);

/* The flags the program passes to bpf_sk_assign() for target slot. */
uint32_t live_flags(const struct live *l, int slot);

/* Cookie of the socket in slot, 0 if the socket is gone. */
uint64_t live_cookie(const struct live *l, int slot);

/*
 * Applies one change: a port that stays steered is never unsteered on the way,
 * a port that moves changes owner in one map update. 0, or -1 with err and
 * nothing changed.
 */
int live_apply(struct live *l, const struct change *c, char *err, size_t errlen);

/*
 * The tracer recorded in the pinned map: 1 if its process lives (t filled in),
 * 0 if none is recorded, -1 if the recorded one died without cleaning up.
 */
int live_tracer(const struct live *l, struct sksteer_tracer *t);

/* Records this process as the tracer, or none with pid 0. */
int live_set_tracer(struct live *l, pid_t pid);

/* What is recorded of target slot. 0, or -1 if nothing is (pins of an older sksteer). */
int live_info(const struct live *l, int slot, struct sksteer_target_info *info);

/* The ports target slot was last given, into out. 0, or -1 if not recorded. */
int live_wanted(const struct live *l, int slot, struct portset *out);

/* sum += s, field by field */
void stats_add(struct sksteer_stats *sum, const struct sksteer_stats *s);

/* Unmaps (or frees the copy of) the port table. */
void live_unmap(struct live *l);

/* Removes target slot: its ports first, then its socket and bookkeeping. */
int live_remove(struct live *l, int slot, char *err, size_t errlen);

/* Removes target slot's ports for destinations in dst; the target too if none are left. */
int live_remove_scope(struct live *l, int slot, const struct prefix *dst, char *err, size_t errlen);

struct sock_info;

/*
 * The checks live_apply() makes before it changes anything, for change c,
 * changing nothing. With moves, ports that other targets own are no conflict:
 * a whole configuration says where each port goes. With other, a new socket is
 * one other than the target's current one where there is one, as for -s alone.
 * The socket the change would take goes into *sock (cookie 0: none to take).
 * 0, or -1 with err.
 */
int live_check(const struct live *l, const struct change *c, bool moves, bool other,
	       struct sock_info *sock, char *err, size_t errlen);

/*
 * Applies n changes (each with ports) as one, with the sockets live_check()
 * chose for them: every target first gains its new ports (a port that moves
 * changes owner in one store), then lets go of those it loses; targets left
 * without ports are removed. So however ports move between targets, a port
 * that stays steered is never unsteered on the way. A target keeps its socket's
 * flags unless its socket changes. 0, or -1 with err.
 */
int live_apply_set(struct live *l, const struct change *c, const struct sock_info *socks, int n,
		   char *err, size_t errlen);

/* The state of a namespace where nothing is steered, to plan against without pins. */
int live_empty(struct live *l, char *err, size_t errlen);

/* Removes the targets left without ports; during a migration, only once the new program runs. */
int live_drop_empty(struct live *l, char *err, size_t errlen);

#endif /* __SKSTEER_STEER_H */
