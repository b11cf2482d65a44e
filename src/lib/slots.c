// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A target's slot in the live state: the ports it owns in each scope (gained
 * before lost, so a port kept is never unsteered), its record, its flags, and
 * its removal with its counters kept in the retired slot. See slots.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clients.h"
#include "find.h"
#include "guard.h"
#include "routes.h"
#include "scopes.h"
#include "slots.h"
#include "sockets.h"
#include "view.h"

/*
 * Makes target slot (0: none) the owner of ports in scope for sockets of the
 * slot's family, a range at a time. One byte of a table changes per key (see
 * route_set_owner()): a lookup sees the old owner or the new one, never a mix
 * and never a gap.
 */
static int set_owner(struct live *l, int scope, int slot, const struct portset *ports,
		     uint8_t owner)
{
	uint32_t base = port_key(l->addrs[slot].proto, 0);
	unsigned int lo, hi;

	if (portset_empty(ports))
		return 0; /* the usual case for a line that changes nothing: no word scanned twice */
	for (lo = 1; portset_range(ports, &lo, &hi); lo = hi + 1)
		if (route_set_owner(l, scope, base + lo, base + hi, l->addrs[slot].family, owner))
			return -1;
	return 0;
}

/* Gives target slot the ports it does not own yet in scope (every gain of a change). */
int slot_gain_ports(struct live *l, int slot, int scope, const struct portset *ports)
{
	struct portset gain;

	live_scope_ports(l, slot, scope, &gain);
	portset_andnot(ports, &gain, &gain);
	return set_owner(l, scope, slot, &gain, (uint8_t)slot);
}

int slot_unused(const struct live *l)
{
	for (int slot = 1; slot < SKSTEER_RETIRED_SLOT; slot++)
		if (!l->addrs[slot].proto)
			return slot;
	return -1;
}

/*
 * Gives target slot exactly the given ports: first every port it gains (new
 * ones, and ones moved from other targets, each in one store), then it lets
 * go of the ports it loses, so a port kept throughout is never unsteered.
 */
int slot_set_ports(struct live *l, int slot, int scope, const struct portset *ports)
{
	struct portset lose;

	if (slot_gain_ports(l, slot, scope, ports))
		return -1;
	/* no store of the second pass may become visible before one of the first */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	live_scope_ports(l, slot, scope, &lose);
	portset_andnot(&lose, ports, &lose);
	return set_owner(l, scope, slot, &lose, 0);
}

int slot_no_routes(char *err, size_t errlen)
{
	if (errno == ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(err, errlen,
		 "the port table cannot hold this: more than %d different pairs of IPv4 and "
		 "IPv6 targets would share ports",
		 SKSTEER_ROUTES - 2);
	return -1;
}

/*
 * Moves slot's per-CPU u64 counters (in the map fd) into the retired slot, so
 * that the namespace's totals stay where they were. Readers take the lock, so
 * none sees them counted twice.
 */
static int retire_counters(int fd, uint32_t slot)
{
	int ncpus = libbpf_num_possible_cpus();
	uint32_t retired = SKSTEER_RETIRED_SLOT;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	uint64_t *from = NULL, *to = NULL;
	size_t n;
	int ret = 0;

	if (fd < 0)
		return 0; /* a map older pins lack */
	if (ncpus < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return ncpus < 0 ? ncpus : -errno;
	n = (size_t)ncpus * ((info.value_size + 7) / 8); /* per-CPU values are 8-byte aligned */
	from = calloc(n, sizeof(*from));
	to = calloc(n, sizeof(*to));
	if (!from || !to)
		ret = -ENOMEM;
	else if (bpf_map_lookup_elem(fd, &slot, from) || bpf_map_lookup_elem(fd, &retired, to))
		ret = -errno;
	for (size_t i = 0; !ret && i < n; i++)
		to[i] += from[i];
	if (!ret && bpf_map_update_elem(fd, &retired, to, BPF_ANY))
		ret = -errno;
	if (!ret) {
		memset(from, 0, n * sizeof(*from));
		if (bpf_map_update_elem(fd, &slot, from, BPF_ANY))
			ret = -errno;
	}
	free(from);
	free(to);
	return ret;
}

/* Records what is known of target slot: its ports, the uid of its socket (NULL/0: keep). */
int slot_record(struct live *l, uint32_t slot, const struct portset *ports, uint32_t uid,
		bool set_uid)
{
	struct sksteer_target_info info;

	if (l->fds[MAP_TARGET_INFO] < 0)
		return 0; /* older pins without the map; made on the next change */
	live_info(l, (int)slot, &info);
	if (ports) {
		memcpy(info.ports, ports->bits, sizeof(info.ports));
		info.flags |= SKSTEER_INFO_PORTS;
	}
	if (set_uid) {
		info.uid = uid;
		info.flags |= SKSTEER_INFO_UID;
	}
	return live_update(l, MAP_TARGET_INFO, &slot, &info) ? -errno : 0;
}

static int forget(struct live *l, uint32_t slot)
{
	if (l->fds[MAP_TARGET_INFO] < 0)
		return 0;
	return live_delete(l, MAP_TARGET_INFO, &slot) && errno != ENOENT ? -errno : 0;
}

/* Ports moved away from other targets (--force) leave their recorded ports too. */
int slot_forget_moved(struct live *l, int slot, const struct portset *moved)
{
	for (int other = 1; other < SKSTEER_SLOTS; other++) {
		struct portset ports;
		int ret;

		if (other == slot || l->addrs[other].proto != l->addrs[slot].proto ||
		    live_wanted(l, other, &ports))
			continue;
		for (size_t i = 0; i < sizeof(ports.bits) / sizeof(ports.bits[0]); i++)
			ports.bits[i] &= ~moved->bits[i];
		ret = slot_record(l, (uint32_t)other, &ports, 0, false);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * After a restart the new socket alone gets the connections (the old process
 * drains); otherwise the kernel spreads them over the socket's SO_REUSEPORT
 * group, as it does without sksteer. Set before the socket changes: until
 * then the flag applies to the old socket, which is just as right.
 */
int slot_set_flags(struct live *l, uint32_t slot, uint32_t flags)
{
	if (l->fds[MAP_TARGET_FLAGS] < 0)
		return flags ? -EOPNOTSUPP : 0; /* pins of 0.1, not changed by this run */
	return live_update(l, MAP_TARGET_FLAGS, &slot, &flags) ? -errno : 0;
}

int live_remove(struct live *l, int slot, char *err, size_t errlen)
{
	struct sksteer_target none = {};
	struct portset empty = {};
	uint32_t key = (uint32_t)slot;
	int ret = 0;

	/* removing frees routes: only a route in use remains */
	for (int scope = 0; scope < scopes_end(&l->scopes); scope++)
		if ((!scope || live_scope_has(l, slot, scope)) &&
		    slot_set_ports(l, slot, scope, &empty))
			return slot_no_routes(err, errlen);
	/* no lookup may find the slot through a prefix once it is free for another target */
	if (scopes_write(l, err, errlen))
		return -1;
	/* a sockmap answers EINVAL for a slot whose socket is already gone */
	if (live_delete(l, MAP_TARGETS, &key) && errno != ENOENT && errno != EINVAL)
		ret = -errno;
	/* a dry apply counts them below, as made */
	if (!ret && !l->dry)
		ret = retire_counters(l->fds[MAP_STATS], key);
	if (!ret && !l->dry)
		ret = retire_counters(l->fds[MAP_STATS_EXT], key);
	if (!ret)
		l->updates.entries += 4; /* each map's retired slot and the freed one */
	if (!ret)
		ret = slot_set_flags(l, key, 0);
	if (!ret)
		ret = forget(l, key);
	if (!ret && live_update(l, MAP_TARGET_ADDRS, &key, &none))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "cannot remove a target from the pinned maps: %s",
			 strerror(-ret));
		return -1;
	}
	l->addrs[slot] = none;
	if (scopes_gc(l, err, errlen))
		return -1;
	routes_gc(l);
	return 0;
}

/* Targets that lost their last port to another one (--force) are removed. */
int slot_drop_empty(struct live *l, char *err, size_t errlen)
{
	unsigned int owned[SKSTEER_SLOTS] = {};

	for (uint32_t key = 0; key < SKSTEER_PORT_KEYS; key++) {
		const uint8_t *own = route_pair(&l->routes, scope_route(l, 0, key));

		owned[own[0]]++;
		owned[own[1]]++;
	}
	for (int scope = 1; scope < scopes_end(&l->scopes); scope++) {
		uint32_t n;
		const struct scope_run *run = scope_runs(&l->scopes, scope, &n);

		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *own = route_pair(&l->routes, run[i].route);

			owned[own[0]]++;
			owned[own[1]]++;
		}
	}
	for (int slot = 1; slot < SKSTEER_SLOTS; slot++)
		if (l->addrs[slot].proto && !owned[slot] && live_remove(l, slot, err, errlen))
			return -1;
	return 0;
}

int live_remove_scope(struct live *l, int slot, const struct prefix *dst, char *err, size_t errlen)
{
	int scope = scope_find(l, dst);
	struct portset empty = {}, had;
	char name[TARGET_STRLEN], pname[PREFIX_STRLEN];

	if (scope > 0)
		live_scope_ports(l, slot, scope, &had);
	if (scope <= 0 || portset_empty(&had)) {
		snprintf(err, errlen, "target %s has no ports for dst %s (the status lists them)",
			 format_target(&l->addrs[slot], name, sizeof(name)),
			 format_prefix(dst, pname, sizeof(pname)));
		return -1;
	}
	if (slot_set_ports(l, slot, scope, &empty))
		return slot_no_routes(err, errlen);
	if (live_drop_empty(l, err, errlen) || scopes_gc(l, err, errlen))
		return -1;
	routes_gc(l);
	return 0;
}

/*
 * During a migration (layout_migrated()) the old program still runs, with the old
 * table, until program_sync() swaps the new one in: a target that lost its
 * ports in the new table keeps its socket until then, or the old program's
 * ports for it would fail meanwhile (and for good, if the run died there).
 */
int live_drop_empty(struct live *l, char *err, size_t errlen)
{
	return layout_migrated(&l->layout) ? 0 : slot_drop_empty(l, err, errlen);
}
