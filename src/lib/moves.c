// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Applying changes to the live state: ports that move between targets, targets added,
 * their sockets and flags (each slot's ports and records: slots.c); never a steered port
 * unsteered on the way.
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
#include "moves.h"
#include "routes.h"
#include "scopes.h"
#include "slots.h"
#include "sockets.h"
#include "view.h"

/*
 * A UDP target whose ports overlap the ephemeral range, while the client
 * watcher runs: the first port the lookup program checks for client sockets.
 */
static uint32_t target_clients_from(const struct live *l, const struct change *c, int slot)
{
	struct portset now;
	const struct portset *ports = c->ports;

	if (c->target->proto != IPPROTO_UDP || !clients_on(&l->clients))
		return 0;
	if (!ports) {
		live_ports(l, slot, &now);
		ports = &now;
	}
	return clients_first(&l->clients, ports);
}

/* The target's flags after change c (a new socket, --fail-closed or --fail-open). */
static uint32_t new_flags(const struct live *l, int slot, uint32_t flags, const struct change *c,
			  bool new_socket)
{
	flags &= (1U << SKSTEER_CLIENTS_SHIFT) - 1;
	flags |= target_clients_from(l, c, slot) << SKSTEER_CLIENTS_SHIFT;
	if (new_socket)
		flags = (flags & ~SKSTEER_ASSIGN_FLAGS) |
			(c->restart ? BPF_SK_LOOKUP_F_NO_REUSEPORT : 0);
	if (c->fail_closed == FAIL_CLOSED_ON)
		flags |= SKSTEER_FAIL_CLOSED;
	else if (c->fail_closed == FAIL_CLOSED_OFF)
		flags &= ~SKSTEER_FAIL_CLOSED;
	return flags;
}

static int apply_one(struct live *l, const struct change *c, char *err, size_t errlen)
{
	int slot = live_find(l, c->target), ret, scope = scope_find(l, c->dst);
	struct sock_info sock = {};
	uint32_t old_flags, key;
	char name[TARGET_STRLEN];

	format_target(c->target, name, sizeof(name));
	if (slot < 0 && !c->ports) {
		snprintf(err, errlen, "%s is not a target in this namespace: give its ports", name);
		return -1;
	}
	if (c->ports && !c->force && guard_conflicts(l, c, slot, scope, err, errlen))
		return -1;
	if (slot < 0 || c->new_socket) {
		/* -s alone means "the owner restarted": prefer a socket other than the current one */
		uint64_t avoid = slot > 0 && !c->ports ? live_cookie(l, slot) : 0;

		/* a socket handed over by its holder is its own proof of ownership */
		if (c->given)
			sock = *c->given;
		else if (target_choose(c->target, avoid, &sock, err, errlen))
			return -1;
		if (slot > 0 && !c->force && !c->given &&
		    guard_owner(l, slot, &sock, name, err, errlen))
			return -1;
	}
	if (c->ports && guard_family(c, &sock, err, errlen))
		return -1;
	if (c->ports && !c->force && guard_hijack(l, c, scope, sock.cookie, err, errlen))
		return -1;
	/* a prefix that binds nothing yet gets its scope now, before anything else changes */
	if (c->ports && scope < 0 && (scope = scope_get(l, c->dst, err, errlen)) < 0)
		return -1;
	if (slot < 0) {
		slot = slot_unused(l);
		if (slot < 0) {
			snprintf(err, errlen, "all %d target slots are in use: detach one first",
				 SKSTEER_RETIRED_SLOT - 1);
			return -1;
		}
	}

	/*
	 * From here on, the maps change; nothing points at a new slot until its
	 * ports do. The sockmap swaps an old socket out in the same update.
	 */
	old_flags = live_flags(l, slot);
	ret = slot_set_flags(l, (uint32_t)slot, new_flags(l, slot, old_flags, c, sock.cookie != 0));
	if (ret) {
		snprintf(err, errlen, "cannot set the flags of %s: %s", name, strerror(-ret));
		return -1;
	}
	/*
	 * Putting into a sockmap slot the socket it already holds loses the entry's
	 * link to the socket on kernels without 75e072a390da ("bpf, sockmap: Fix
	 * update element with same", 2024; Debian 11's 5.10 lacks it): the entry
	 * then outlives the socket's close, and its ports black-hole. Skip it.
	 */
	if (sock.cookie && sock.cookie != live_cookie(l, slot)) {
		if (!l->dry &&
		    target_install(l->fds[MAP_TARGETS], (uint32_t)slot, &sock, err, errlen)) {
			slot_set_flags(l, (uint32_t)slot, old_flags); /* as it was */
			return -1;
		}
		l->updates.entries++;
	}
	key = (uint32_t)slot;
	if (live_update(l, MAP_TARGET_ADDRS, &key, c->target)) {
		snprintf(err, errlen, "cannot record target %s: %s", name, strerror(errno));
		return -1;
	}
	l->addrs[slot] = *c->target;
	/*
	 * Recorded before the ports change: a run cut short leaves a difference
	 * --check sees. Only unscoped ports are recorded.
	 */
	ret = slot_record(l, (uint32_t)slot, scope ? NULL : c->ports, sock.uid, sock.cookie != 0);
	if (!ret && c->ports && c->force && !scope)
		ret = slot_forget_moved(l, slot, c->ports);
	if (ret) {
		snprintf(err, errlen, "cannot record target %s: %s", name, strerror(-ret));
		return -1;
	}
	if (c->ports) {
		clients_adopt(l, c, slot);
		if (clients_attach(l, err, errlen))
			return -1;
		if (slot_set_ports(l, slot, scope, c->ports))
			return slot_no_routes(err, errlen);
	}
	if (live_drop_empty(l, err, errlen) || scopes_gc(l, err, errlen))
		return -1;
	routes_gc(l);
	return 0;
}

int live_apply(struct live *l, const struct change *c, char *err, size_t errlen)
{
	int ret = apply_one(l, c, err, errlen);
	char ignored[8];

	/* a prefix's scope made for a change that failed after */
	if (ret && c->dst && c->dst->family)
		scopes_gc(l, ignored, sizeof(ignored));
	return ret;
}

/*
 * Whole configurations (src/lib/apply.c) check every target before anything
 * changes (live_check(), guard.c), then apply them together: the functions below.
 */

/* Gives each target in slots[] the socket live_check() chose, its flags and its record. */
static int install_set(struct live *l, const struct change *c, const struct sock_info *socks,
		       const int *slots, int n, char *err, size_t errlen)
{
	char name[TARGET_STRLEN];
	bool done[SKSTEER_SLOTS] = {};
	int ret = 0;

	for (int i = 0; i < n; i++) {
		uint32_t slot = (uint32_t)slots[i], old;
		bool swap, scoped = c[i].dst && c[i].dst->family;

		/* a target's next prefix: its socket, flags and record are in place */
		if (done[slot] && scoped)
			continue;
		done[slot] = true;
		old = live_flags(l, slots[i]);
		swap = socks[i].cookie && socks[i].cookie != live_cookie(l, slots[i]);

		format_target(c[i].target, name, sizeof(name));
		ret = slot_set_flags(l, slot, new_flags(l, slots[i], old, &c[i], swap));
		if (ret) {
			snprintf(err, errlen, "cannot set the flags of %s: %s", name,
				 strerror(-ret));
			return -1;
		}
		if (swap && !l->dry &&
		    target_install(l->fds[MAP_TARGETS], slot, &socks[i], err, errlen)) {
			slot_set_flags(l, slot, old);
			return -1;
		}
		l->updates.entries += swap;
		if (!l->addrs[slot].proto && live_update(l, MAP_TARGET_ADDRS, &slot, c[i].target))
			ret = -errno;
		if (!ret)
			ret = slot_record(l, slot, scoped ? NULL : c[i].ports, socks[i].uid,
					  socks[i].cookie != 0);
		if (ret) {
			snprintf(err, errlen, "cannot record target %s: %s", name, strerror(-ret));
			return -1;
		}
		l->addrs[slot] = *c[i].target;
	}
	return 0;
}

static int cmp_line_prefix(const void *a, const void *b, void *lines)
{
	const struct change *c = lines;

	return prefix_cmp(c[*(const int *)a].dst, c[*(const int *)b].dst);
}

/* The lines of c with a prefix, sorted by it (a prefix's lines side by side): *m, malloc'd. */
static int *lines_by_prefix(const struct change *c, int n, int *m)
{
	int *idx = malloc(((size_t)n + 1) * sizeof(*idx));

	*m = 0;
	for (int i = 0; idx && i < n; i++)
		if (c[i].dst && c[i].dst->family)
			idx[(*m)++] = i;
	if (idx)
		qsort_r(idx, (size_t)*m, sizeof(*idx), cmp_line_prefix, (void *)c);
	return idx;
}

/* The end of the run of idx's lines from `from` with one prefix; *kept: one keeps ports there. */
static int prefix_lines(const struct change *c, const int *idx, int m, int from, bool *kept)
{
	int end = from;

	*kept = false;
	for (; end < m && prefix_equal(c[idx[end]].dst, c[idx[from]].dst); end++)
		*kept |= !portset_empty(c[idx[end]].ports);
	return end;
}

/*
 * A configuration that swaps prefixes while all SCOPED_PREFIXES of a family
 * are taken: the ports of prefixes that no line keeps let go first, so that
 * their scopes are free for the new ones (those destinations fall back to a
 * less specific binding a moment early). Only when room is short; sorted, not
 * line against line, so a million lines cost n log n.
 */
static void free_prefixes(struct live *l, const struct change *c, const int *slots, int n)
{
	static const struct portset empty;
	int need[2] = {}, m, end, *idx;
	char ignored[8];
	bool kept;

	/* room for a new prefix a line, and more: the usual case, without counting */
	if (n <= scopes_room(l, AF_INET) && n <= scopes_room(l, AF_INET6))
		return;
	idx = lines_by_prefix(c, n, &m);
	if (!idx)
		return; /* scope_get() runs out of room, and says so */
	for (int g = 0; g < m; g = end) {
		end = prefix_lines(c, idx, m, g, &kept);
		if (kept && scope_find(l, c[idx[g]].dst) < 0)
			need[c[idx[g]].dst->family == AF_INET6]++;
	}
	if (need[0] <= scopes_room(l, AF_INET) && need[1] <= scopes_room(l, AF_INET6)) {
		free(idx);
		return;
	}
	for (int g = 0; g < m; g = end) {
		int scope = scope_find(l, c[idx[g]].dst);

		end = prefix_lines(c, idx, m, g, &kept);
		for (int i = g; scope > 0 && !kept && i < end; i++)
			slot_set_ports(l, slots[idx[i]], scope, &empty);
	}
	free(idx);
	scopes_gc(l, ignored,
		  sizeof(ignored)); /* the end of the change writes them if this fails */
}

int live_apply_set(struct live *l, const struct change *c, const struct sock_info *socks, int n,
		   char *err, size_t errlen)
{
	int *slots = calloc((size_t)n + 1, sizeof(*slots));
	int *scopes = calloc((size_t)n + 1, sizeof(*scopes));
	bool taken[SKSTEER_SLOTS] = {};
	struct sksteer_target pending[SKSTEER_SLOTS]; /* a new slot's target */
	int ret = -1;

	if (!slots || !scopes) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* slots first, new ones included, so that running out changes nothing */
	for (int i = 0; i < n; i++) {
		slots[i] = live_find(l, c[i].target);
		/* a target's lines for several prefixes: one slot */
		for (int s = 1; slots[i] < 0 && s < SKSTEER_RETIRED_SLOT; s++)
			if (taken[s] && !l->addrs[s].proto &&
			    target_equal(&pending[s], c[i].target))
				slots[i] = s;
		for (int s = 1; slots[i] < 0 && s < SKSTEER_RETIRED_SLOT; s++)
			if (!l->addrs[s].proto && !taken[s])
				slots[i] = s;
		if (slots[i] < 0) {
			n = -1;
		} else {
			taken[slots[i]] = true;
			pending[slots[i]] = *c[i].target;
		}
	}
	if (n < 0) {
		snprintf(err, errlen, "all %d target slots are in use: detach one first",
			 SKSTEER_RETIRED_SLOT - 1);
		goto out;
	}
	free_prefixes(l, c, slots, n);
	/* the scopes of prefixes that bind nothing yet: made before anything else changes */
	for (int i = 0; i < n; i++) {
		/* a line that only lets go makes no scope: its prefix may be gone already */
		if (portset_empty(c[i].ports))
			scopes[i] = scope_find(l, c[i].dst);
		else if ((scopes[i] = scope_get(l, c[i].dst, err, errlen)) < 0) {
			char ignored[8];

			scopes_gc(l, ignored,
				  sizeof(ignored)); /* those made for earlier lines, empty */
			goto out;
		}
	}
	if (install_set(l, c, socks, slots, n, err, errlen)) {
		char ignored[8];

		slot_drop_empty(l, ignored, sizeof(ignored)); /* new slots that got no ports */
		scopes_gc(l, ignored, sizeof(ignored));
		goto out;
	}
	for (int i = 0; i < n; i++)
		clients_adopt(l, &c[i], slots[i]);
	if (clients_attach(l, err, errlen))
		goto out;
	/* every gain before any loss: a port moving between targets changes owner in one store */
	for (int i = 0; i < n; i++) {
		if (slot_gain_ports(l, slots[i], scopes[i], c[i].ports)) {
			slot_no_routes(err, errlen);
			goto out;
		}
	}
	/*
	 * No store of the losses may become visible before one of the gains: the
	 * prefixes' gains are written, then the losses begin.
	 */
	if (scopes_write(l, err, errlen))
		goto out;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (int i = 0; i < n; i++) { /* gains nothing now: only lets go */
		if (slot_set_ports(l, slots[i], scopes[i], c[i].ports)) {
			slot_no_routes(err, errlen);
			goto out;
		}
	}
	if (live_drop_empty(l, err, errlen) || scopes_gc(l, err, errlen))
		goto out;
	routes_gc(l);
	ret = 0;
out:
	free(slots);
	free(scopes);
	return ret;
}
