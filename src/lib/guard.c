// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The checks a change must pass before anything changes: ports other targets own, sockets
 * that would lose their connections, a new socket's owner, a prefix of the wrong family.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "clients.h"
#include "guard.h"
#include "scopes.h"
#include "sockets.h"
#include "view.h"

/* How many conflicting sockets a refusal names before it says "and N more". */
#define NAMED_MAX 3

/* Whether cookie is one of the target sockets (the new one included). */
static bool is_target_socket(const uint64_t *cookies, uint64_t cookie)
{
	for (int slot = 0; slot < SKSTEER_SLOTS; slot++)
		if (cookies[slot] == cookie)
			return true;
	return false;
}

/* Ports of c that another target owns in the same scope: refused unless --force. */
int guard_conflicts(const struct live *l, const struct change *c, int slot, int scope, char *err,
		    size_t errlen)
{
	char name[TARGET_STRLEN], list[256], dst[PREFIX_STRLEN];
	size_t used = 0;
	int owners = 0;

	err[0] = '\0';
	format_prefix(c->dst ? c->dst : &(struct prefix){}, dst, sizeof(dst));
	for (int other = 1; other < SKSTEER_SLOTS; other++) {
		struct portset taken = {};
		bool any = false;
		uint32_t base;

		/* an IPv4 socket and an IPv6 one share ports: each gets its family's lookups */
		if (other == slot || l->addrs[other].proto != c->target->proto ||
		    l->addrs[other].family != c->target->family)
			continue;
		base = port_key(c->target->proto, 0);
		for (unsigned int port = 1; port <= 65535; port++) {
			if (scope_port_owner(l, scope, base + port, other) == other &&
			    portset_has(c->ports, port)) {
				portset_add(&taken, port);
				any = true;
			}
		}
		if (!any)
			continue;
		format_ports(&taken, list, sizeof(list));
		format_target(&l->addrs[other], name, sizeof(name));
		used += (size_t)snprintf(err + used, used < errlen ? errlen - used : 0,
					 "%sports %s%s%s belong to target %s", owners++ ? "; " : "",
					 list, scope ? " for dst " : "", scope ? dst : "", name);
	}
	if (!owners)
		return 0;
	format_target(c->target, name, sizeof(name));
	snprintf(err + used, used < errlen ? errlen - used : 0,
		 " (force the change to move them to %s)", name);
	errno = EEXIST; /* the library's callers tell refusals apart by errno */
	return -1;
}

/*
 * A UDP socket loses nothing to steering when it is connected (the kernel
 * finds those before sk_lookup runs), or when it is unconnected in the
 * ephemeral range while the client watcher runs (clients_adopt() keeps its
 * port its own).
 */
static bool keeps_port(const struct live *l, const struct sock_info *s)
{
	if (s->addr.proto != IPPROTO_UDP)
		return false;
	return s->state != UDP_CLOSE || clients_in_range(&l->clients, s->addr.port);
}

/*
 * Whether socket s gets lookups of the family target t would take: an IPv4
 * socket no IPv6 ones, an IPv6-only socket no IPv4 ones.
 */
static bool same_family(const struct sock_info *s, const struct sksteer_target *t)
{
	if (t->family == AF_INET6)
		return s->addr.family == AF_INET6;
	return s->addr.family == AF_INET || !s->v6only;
}

/*
 * Whether socket s gets connections for destinations in c's prefix: it is
 * bound to an address in it, or to the wildcard. Every socket, without one.
 */
static bool in_scope(const struct sock_info *s, const struct change *c)
{
	static const uint8_t any[16];
	const struct prefix *p = c->dst;

	if (!p || !p->family)
		return true;
	if (!memcmp(s->addr.addr, any, sizeof(any)))
		return true;
	if (s->addr.family == AF_INET6 && p->family == AF_INET &&
	    !memcmp(s->addr.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
		return prefix_holds(p, AF_INET, s->addr.addr + 12); /* IPv4-mapped */
	return prefix_holds(p, s->addr.family, s->addr.addr);
}

/*
 * A prefix of a family the target's socket never gets: an IPv6 prefix for an
 * IPv4 socket, an IPv4 one for an IPv6-only socket. It would take those
 * destinations' lookups from any less specific binding, and fail them all.
 */
int guard_family(const struct change *c, const struct sock_info *sock, char *err, size_t errlen)
{
	char name[TARGET_STRLEN], dst[PREFIX_STRLEN];
	bool v6 = c->dst && c->dst->family == AF_INET6, v4 = c->dst && c->dst->family == AF_INET;

	if (!(v6 && c->target->family == AF_INET) &&
	    !(v4 && c->target->family == AF_INET6 && sock->cookie && sock->v6only))
		return 0;
	snprintf(err, errlen,
		 "dst %s: target %s is an %s socket and never gets connections to %s "
		 "addresses: give it a prefix of its own family",
		 format_prefix(c->dst, dst, sizeof(dst)),
		 format_target(c->target, name, sizeof(name)), v6 ? "IPv4" : "IPv6-only",
		 v6 ? "IPv6" : "IPv4");
	errno = EAFNOSUPPORT;
	return -1;
}

/* Other sockets that listen on (or are bound to) ports c would newly steer. */
int guard_hijack(const struct live *l, const struct change *c, int scope, uint64_t new_cookie,
		 char *err, size_t errlen)
{
	uint32_t base = port_key(c->target->proto, 0);
	struct portset hit = {};
	char named[256] = "", list[256], addr[TARGET_STRLEN];
	uint64_t cookies[SKSTEER_SLOTS] = { new_cookie };
	size_t used = 0;
	struct sock_list socks;
	bool cookies_read = false;
	int n = 0, ret;

	ret = sockets_dump(c->target->proto, &socks);
	if (ret) {
		snprintf(err, errlen, "cannot list sockets with sock_diag: %s", strerror(-ret));
		return -1;
	}
	for (size_t i = 0; i < socks.n; i++) {
		const struct sock_info *s = &socks.socks[i];
		struct owner o = { .comm = "?" };

		if (!s->addr.port || !portset_has(c->ports, s->addr.port) || !in_scope(s, c) ||
		    port_owner(l, base + s->addr.port, c->target->family) ||
		    scope_owner(l, scope, base + s->addr.port, c->target->family) ||
		    !same_family(s, c->target))
			continue;
		/* the targets' cookies, read once a socket could be hit (a file's lines: rarely) */
		for (int slot = 1; !cookies_read && slot < SKSTEER_SLOTS; slot++)
			if (l->addrs[slot].proto)
				cookies[slot] = live_cookie(l, slot);
		cookies_read = true;
		if (is_target_socket(cookies, s->cookie) || keeps_port(l, s))
			continue;
		portset_add(&hit, s->addr.port);
		if (n++ >= NAMED_MAX)
			continue;
		if (socket_owner(s->inode, 0, &o))
			o.pid = 0;
		used += (size_t)snprintf(
			named + used, used < sizeof(named) ? sizeof(named) - used : 0,
			"%s%s (%s, pid %d)", n > 1 ? ", " : "",
			format_target(&s->addr, addr, sizeof(addr)), o.comm, o.pid);
	}
	sock_list_free(&socks);
	if (!n)
		return 0;
	format_ports(&hit, list, sizeof(list));
	snprintf(err, errlen,
		 "refusing to steer port%s %s: %s%s already use%s %s and would lose %s "
		 "connections (force the change to steer anyway)",
		 portset_count(&hit) > 1 ? "s" : "", list, named, n > NAMED_MAX ? " and more" : "",
		 n > 1 ? "" : "s", portset_count(&hit) > 1 ? "them" : "it",
		 n > 1 ? "their" : "its");
	errno = EADDRINUSE;
	return -1;
}

/*
 * A target's new socket must belong to the user whose socket it replaces: on a
 * shared host anyone may bind 127.0.0.1:9000 while the proxy restarts.
 */
int guard_owner(const struct live *l, int slot, const struct sock_info *sock, const char *name,
		char *err, size_t errlen)
{
	struct sksteer_target_info info;

	if (live_info(l, slot, &info) || !(info.flags & SKSTEER_INFO_UID) || info.uid == sock->uid)
		return 0;
	snprintf(err, errlen,
		 "refusing to steer to the socket now at %s: it belongs to uid %u, the socket it "
		 "would replace to uid %u (force the change if the new owner is right)",
		 name, sock->uid, info.uid);
	errno = EPERM;
	return -1;
}

int live_check(const struct live *l, const struct change *c, bool moves, bool other,
	       struct sock_info *sock, char *err, size_t errlen)
{
	int slot = live_find(l, c->target), scope = scope_find(l, c->dst);
	char name[TARGET_STRLEN];

	memset(sock, 0, sizeof(*sock));
	format_target(c->target, name, sizeof(name));
	if (slot < 0 && !c->ports) {
		snprintf(err, errlen, "%s is not a target in this namespace: give its ports", name);
		errno = ENOENT;
		return -1;
	}
	if (c->ports && !c->force && !moves && guard_conflicts(l, c, slot, scope, err, errlen))
		return -1;
	if (slot < 0 || c->new_socket) {
		uint64_t avoid = slot > 0 && (!c->ports || other) ? live_cookie(l, slot) : 0;

		if (target_choose(c->target, avoid, sock, err, errlen))
			return -1;
		if (slot > 0 && !c->force && guard_owner(l, slot, sock, name, err, errlen))
			return -1;
	}
	if (c->ports && guard_family(c, sock, err, errlen))
		return -1;
	return c->ports && !c->force ? guard_hijack(l, c, scope, sock->cookie, err, errlen) : 0;
}
