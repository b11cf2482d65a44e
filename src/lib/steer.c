// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The live configuration of a namespace: targets and ports, read and changed; see steer.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clients.h"
#include "find.h"
#include "routes.h"
#include "scopes.h"
#include "sockets.h"
#include "steer.h"

/* How many conflicting sockets a refusal names before it says "and N more". */
#define NAMED_MAX 3

/* The packed table: one byte per key, the layout a reader's copy always has. */
#define TABLE_BYTES ((size_t)SKSTEER_PORT_KEYS)

/*
 * Makes target slot (0: none) the owner of key in scope for sockets of
 * family. One byte of a table changes (see route_set_owner()): a lookup sees
 * the old owner or the new one, never a mix and never a gap.
 */
static int set_owner(struct live *l, int scope, uint32_t key, int family, uint8_t slot)
{
	return route_set_owner(l, scope, key, family, slot);
}

/*
 * A read-only fd cannot be mapped shared (the kernel requires VM_SHARED), so
 * readers take a copy: one batch lookup of the whole table, packed whatever
 * the layout (value_size 8: eight keys an element; 1: layout 2, one a key).
 */
volatile uint8_t *table_copy(int fd, uint32_t value_size)
{
	uint32_t per_elem = value_size == 1 ? 1 : SKSTEER_KEYS_PER_ELEM;
	uint32_t elems = SKSTEER_PORT_KEYS / per_elem, *keys = malloc(elems * sizeof(*keys));
	uint8_t *copy = calloc(TABLE_BYTES, 1), *values = malloc(TABLE_BYTES);
	uint32_t out, count = 0;
	void *in = NULL;

	while (copy && values && keys && count < elems) {
		__u32 n = elems - count;
		int ret = bpf_map_lookup_batch(fd, in, &out, keys + count,
					       values + (size_t)count * per_elem, &n, NULL);

		count += n;
		in = &out;
		if (ret && errno == ENOENT)
			break;
		if (ret)
			goto fail;
	}
	if (!copy || !values || !keys)
		goto fail;
	for (uint32_t i = 0; i < count; i++)
		memcpy(copy + (size_t)keys[i] * per_elem, values + (size_t)i * per_elem, per_elem);
	free(keys);
	free(values);
	return copy;
fail:
	free(copy);
	free(keys);
	free(values);
	return NULL;
}

/*
 * Which layout the pins have: l->layout_from is 2 or 3 for older ones
 * (migrated when the run changes anything), 0 for layout 4 (whose port table
 * and prefixes are ours: only the UDP client rule's map is new) and ours.
 */
static int pinned_layout(struct live *l, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	uint32_t zero = 0, v = 0;
	__u32 len = sizeof(info);

	l->layout_from = 0;
	l->layout_pinned = 0;
	if (l->fds[MAP_LAYOUT] >= 0 && !bpf_map_lookup_elem(l->fds[MAP_LAYOUT], &zero, &v) &&
	    v > SKSTEER_LAYOUT) {
		snprintf(
			err, errlen,
			"the steering pinned in %s comes from a newer sksteer (map layout %u; this "
			"one knows up to %u): use that sksteer, or run 'sksteer --detach' and "
			"apply the configuration again",
			l->pins.dir, v, SKSTEER_LAYOUT);
		return -1;
	}
	if (bpf_obj_get_info_by_fd(l->fds[MAP_PORTS], &info, &len)) {
		snprintf(err, errlen, "cannot read the pinned port table: %s", strerror(errno));
		return -1;
	}
	/*
	 * Layout 3 differs only in the maps scoped bindings add, layout 4 in the
	 * UDP client rule's: made, and the program swapped (program_load()).
	 */
	if (v >= 3 && info.value_size == 8 && info.max_entries == SKSTEER_PORT_ELEMS) {
		l->layout_from = v == 3 ? 3 : 0;
		l->layout_pinned = v;
		return 0;
	}
	if (l->fds[MAP_LAYOUT] < 0 && info.value_size == 1 &&
	    info.max_entries == SKSTEER_PORT_KEYS) {
		l->layout_from = 2;
		return 0;
	}
	snprintf(err, errlen,
		 "the steering pinned in %s has a map layout this sksteer does not know (map "
		 "'ports' differs): use the sksteer that made it, or run 'sksteer --detach' and "
		 "apply the configuration again",
		 l->pins.dir);
	return -1;
}

int live_read(struct live *l, char *err, size_t errlen)
{
	for (uint32_t slot = 0; slot < SKSTEER_SLOTS; slot++) {
		if (bpf_map_lookup_elem(l->fds[MAP_TARGET_ADDRS], &slot, &l->addrs[slot])) {
			snprintf(err, errlen, "cannot read the pinned targets: %s",
				 strerror(errno));
			return -1;
		}
	}
	if (pinned_layout(l, err, errlen))
		return -1;
	live_unmap(l); /* the empty table of a read made before the pins were there (live_empty()) */
	l->stride = l->layout_from == 2 ? 8 : 1;
	l->table_len = TABLE_BYTES * l->stride;
	if (l->pins.mode == PINS_READ) {
		l->table = table_copy(l->fds[MAP_PORTS], l->layout_from == 2 ? 1 : 8);
		l->table_copied = l->table != NULL;
		l->stride = 1;
	} else {
		l->table_copied = false;
		l->table = mmap(NULL, l->table_len, PROT_READ | PROT_WRITE, MAP_SHARED,
				l->fds[MAP_PORTS], 0);
		if (l->table == MAP_FAILED)
			l->table = NULL;
	}
	if (!l->table) {
		snprintf(err, errlen, "cannot read the pinned port table: %s", strerror(errno));
		return -1;
	}
	routes_read(l);
	return scopes_read(l, err, errlen);
}

int live_open(struct live *l, char *err, size_t errlen)
{
	if (l->fds[MAP_PORTS] >= 0)
		return 0; /* already open */
	for (int m = 0; m < NR_MAPS; m++) {
		l->fds[m] = pins_map_fd(&l->pins, m);
		if (l->fds[m] == -ENOENT && MAP_OPTIONAL(m))
			l->fds[m] = -1; /* pinned by an older sksteer: made on the next change */
		else if (l->fds[m] == -EMFILE || l->fds[m] == -ENFILE || l->fds[m] == -ENOMEM) {
			/* not the pins' fault: never advise --detach for it */
			snprintf(err, errlen, "cannot open the pinned map %s/%s: %s", l->pins.dir,
				 pinned_map_names[m], strerror(-l->fds[m]));
			return -1;
		} else if (l->fds[m] < 0) {
			snprintf(err, errlen,
				 "the steering pinned in %s is incomplete (no '%s': %s): run "
				 "'sksteer --detach', then apply the configuration again",
				 l->pins.dir, pinned_map_names[m], strerror(-l->fds[m]));
			return -1;
		}
	}
	return live_read(l, err, errlen);
}

void live_close(struct live *l)
{
	scopes_close(l);
	live_unmap(l);
	for (int m = 0; m < NR_MAPS; m++)
		if (l->fds[m] >= 0)
			close(l->fds[m]);
	pins_close(&l->pins);
}

void live_unmap(struct live *l)
{
	if (l->table && l->table_copied)
		free((void *)l->table);
	else if (l->table)
		munmap((void *)l->table, l->table_len);
	l->table = NULL;
}

int live_find(const struct live *l, const struct sksteer_target *t)
{
	for (int slot = 1; slot < SKSTEER_SLOTS; slot++)
		if (l->addrs[slot].proto && target_equal(&l->addrs[slot], t))
			return slot;
	return -1;
}

int live_count(const struct live *l, int *only)
{
	int n = 0;

	for (int slot = 1; slot < SKSTEER_SLOTS; slot++) {
		if (l->addrs[slot].proto) {
			n++;
			*only = slot;
		}
	}
	return n;
}

void live_scope_ports(const struct live *l, int slot, int scope, struct portset *out)
{
	uint32_t base = port_key(l->addrs[slot].proto, 0);

	memset(out, 0, sizeof(*out));
	for (unsigned int port = 1; port <= 65535; port++)
		if (scope_port_owner(l, scope, base + port, slot) == slot)
			portset_add(out, port);
}

void live_ports(const struct live *l, int slot, struct portset *out)
{
	live_scope_ports(l, slot, 0, out);
}

void live_ports_any(const struct live *l, int slot, struct portset *out)
{
	struct portset more;

	live_scope_ports(l, slot, 0, out);
	for (int scope = 1; scope < SKSTEER_SCOPES; scope++) {
		if (!l->scope_table[scope])
			continue;
		live_scope_ports(l, slot, scope, &more);
		portset_or(out, &more);
	}
}

uint64_t live_cookie(const struct live *l, int slot)
{
	uint32_t key = (uint32_t)slot;
	uint64_t cookie = 0;

	if (bpf_map_lookup_elem(l->fds[MAP_TARGETS], &key, &cookie))
		return 0;
	return cookie;
}

/* Whether cookie is one of the target sockets (the new one included). */
static bool is_target_socket(const uint64_t *cookies, uint64_t cookie)
{
	for (int slot = 0; slot < SKSTEER_SLOTS; slot++)
		if (cookies[slot] == cookie)
			return true;
	return false;
}

bool sock_is_target(const struct live *l, uint64_t cookie)
{
	for (int slot = 1; slot < SKSTEER_SLOTS; slot++)
		if (l->addrs[slot].proto && live_cookie(l, slot) == cookie)
			return true;
	return false;
}

/* Ports of c that another target owns in the same scope: refused unless --force. */
static int check_conflicts(const struct live *l, const struct change *c, int slot, int scope,
			   char *err, size_t errlen)
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
					 list, scope ? " for --dst " : "", scope ? dst : "", name);
	}
	if (!owners)
		return 0;
	format_target(c->target, name, sizeof(name));
	snprintf(err + used, used < errlen ? errlen - used : 0, " (use --force to move them to %s)",
		 name);
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
	return s->state != UDP_CLOSE || (l->clients_from && s->addr.port >= l->clients_from &&
					 s->addr.port <= l->clients_to);
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
static int check_family(const struct change *c, const struct sock_info *sock, char *err,
			size_t errlen)
{
	char name[TARGET_STRLEN], dst[PREFIX_STRLEN];
	bool v6 = c->dst && c->dst->family == AF_INET6, v4 = c->dst && c->dst->family == AF_INET;

	if (!(v6 && c->target->family == AF_INET) &&
	    !(v4 && c->target->family == AF_INET6 && sock->cookie && sock->v6only))
		return 0;
	snprintf(err, errlen,
		 "--dst %s: target %s is an %s socket and never gets connections to %s "
		 "addresses: give it a prefix of its own family",
		 format_prefix(c->dst, dst, sizeof(dst)),
		 format_target(c->target, name, sizeof(name)), v6 ? "IPv4" : "IPv6-only",
		 v6 ? "IPv6" : "IPv4");
	return -1;
}

/* Other sockets that listen on (or are bound to) ports c would newly steer. */
static int check_hijack(const struct live *l, const struct change *c, int scope,
			uint64_t new_cookie, char *err, size_t errlen)
{
	uint32_t base = port_key(c->target->proto, 0);
	struct portset hit = {};
	char named[256] = "", list[256], addr[TARGET_STRLEN];
	uint64_t cookies[SKSTEER_SLOTS] = { new_cookie };
	size_t used = 0;
	struct sock_list socks;
	int n = 0, ret;

	/* slot 0 is never a target: it holds the new socket's cookie */
	for (int slot = 1; slot < SKSTEER_SLOTS; slot++)
		if (l->addrs[slot].proto)
			cookies[slot] = live_cookie(l, slot);
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
		    l->pairs[scope_route(l, scope, base + s->addr.port)]
			    [family_index(c->target->family)] ||
		    is_target_socket(cookies, s->cookie) || keeps_port(l, s) ||
		    !same_family(s, c->target))
			continue;
		portset_add(&hit, s->addr.port);
		if (n++ >= NAMED_MAX)
			continue;
		if (socket_owner(s->inode, &o))
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
		 "connections (use --force to steer anyway)",
		 portset_count(&hit) > 1 ? "s" : "", list, named, n > NAMED_MAX ? " and more" : "",
		 n > 1 ? "" : "s", portset_count(&hit) > 1 ? "them" : "it",
		 n > 1 ? "their" : "its");
	return -1;
}

static int free_slot(const struct live *l)
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
static int set_ports(struct live *l, int slot, int scope, const struct portset *ports)
{
	uint32_t base = port_key(l->addrs[slot].proto, 0);
	int family = l->addrs[slot].family;

	for (unsigned int port = 1; port <= 65535; port++)
		if (portset_has(ports, port) &&
		    scope_port_owner(l, scope, base + port, slot) != slot &&
		    set_owner(l, scope, base + port, family, (uint8_t)slot))
			return -1;
	/* no store of the second pass may become visible before one of the first */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned int port = 1; port <= 65535; port++)
		if (!portset_has(ports, port) &&
		    scope_port_owner(l, scope, base + port, slot) == slot &&
		    set_owner(l, scope, base + port, family, 0))
			return -1;
	return 0;
}

static int no_routes(char *err, size_t errlen)
{
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

void stats_add(struct sksteer_stats *sum, const struct sksteer_stats *s)
{
	const __u64 *from = (const __u64 *)s;
	__u64 *to = (__u64 *)sum;

	for (size_t i = 0; i < sizeof(*s) / sizeof(__u64); i++)
		to[i] += from[i];
}

int live_info(const struct live *l, int slot, struct sksteer_target_info *info)
{
	uint32_t key = (uint32_t)slot;

	memset(info, 0, sizeof(*info));
	if (l->fds[MAP_TARGET_INFO] < 0 || bpf_map_lookup_elem(l->fds[MAP_TARGET_INFO], &key, info))
		return -1;
	return 0;
}

int live_wanted(const struct live *l, int slot, struct portset *out)
{
	struct sksteer_target_info info;

	if (live_info(l, slot, &info) || !(info.flags & SKSTEER_INFO_PORTS))
		return -1;
	memcpy(out->bits, info.ports, sizeof(out->bits));
	return 0;
}

/* Records what is known of target slot: its ports, the uid of its socket (NULL/0: keep). */
static int record(struct live *l, uint32_t slot, const struct portset *ports, uint32_t uid,
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
	return bpf_map_update_elem(l->fds[MAP_TARGET_INFO], &slot, &info, BPF_ANY) ? -errno : 0;
}

static int forget(struct live *l, uint32_t slot)
{
	if (l->fds[MAP_TARGET_INFO] < 0)
		return 0;
	return bpf_map_delete_elem(l->fds[MAP_TARGET_INFO], &slot) && errno != ENOENT ? -errno : 0;
}

/* Ports moved away from other targets (--force) leave their recorded ports too. */
static int forget_moved(struct live *l, int slot, const struct portset *moved)
{
	for (int other = 1; other < SKSTEER_SLOTS; other++) {
		struct portset ports;
		int ret;

		if (other == slot || l->addrs[other].proto != l->addrs[slot].proto ||
		    live_wanted(l, other, &ports))
			continue;
		for (size_t i = 0; i < sizeof(ports.bits) / sizeof(ports.bits[0]); i++)
			ports.bits[i] &= ~moved->bits[i];
		ret = record(l, (uint32_t)other, &ports, 0, false);
		if (ret)
			return ret;
	}
	return 0;
}

/* When a process started, in clock ticks since boot: tells a reused pid from the original. */
static uint64_t proc_start_time(pid_t pid)
{
	char buf[1024];
	const char *fields = proc_stat_fields(pid, buf, sizeof(buf));
	unsigned long long start = 0;

	/* field 22, the 20th after the comm */
	if (fields)
		sscanf(fields,
		       " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
		       "%*d %*d %*d %llu",
		       &start);
	return start;
}

int live_tracer(const struct live *l, struct sksteer_tracer *t)
{
	if (bpf_map_lookup_elem(l->fds[MAP_TRACER], &(uint32_t){ 0 }, t) || !t->pid)
		return 0;
	/* a start time that cannot be read (0) is no proof that the tracer lives */
	uint64_t now = proc_start_time((pid_t)t->pid);

	return now && now == t->start_time ? 1 : -1;
}

int live_set_tracer(struct live *l, pid_t pid)
{
	struct sksteer_tracer t = { .pid = (uint32_t)pid };

	if (pid)
		t.start_time = proc_start_time(pid);
	return bpf_map_update_elem(l->fds[MAP_TRACER], &(uint32_t){ 0 }, &t, BPF_ANY) ? -errno : 0;
}

static int set_flags(struct live *l, uint32_t slot, uint32_t flags);

int live_remove(struct live *l, int slot, char *err, size_t errlen)
{
	struct sksteer_target none = {};
	struct portset empty = {};
	uint32_t key = (uint32_t)slot;
	int ret = 0;

	/* removing frees routes: only a route in use remains */
	for (int scope = 0; scope < SKSTEER_SCOPES; scope++)
		if ((!scope || l->scope_table[scope]) && set_ports(l, slot, scope, &empty))
			return no_routes(err, errlen);
	/* a sockmap answers EINVAL for a slot whose socket is already gone */
	if (bpf_map_delete_elem(l->fds[MAP_TARGETS], &key) && errno != ENOENT && errno != EINVAL)
		ret = -errno;
	if (!ret)
		ret = retire_counters(l->fds[MAP_STATS], key);
	if (!ret)
		ret = retire_counters(l->fds[MAP_STATS_EXT], key);
	if (!ret)
		ret = set_flags(l, key, 0);
	if (!ret)
		ret = forget(l, key);
	if (!ret && bpf_map_update_elem(l->fds[MAP_TARGET_ADDRS], &key, &none, BPF_ANY))
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "cannot remove a target from the pinned maps: %s",
			 strerror(-ret));
		return -1;
	}
	l->addrs[slot] = none;
	scopes_gc(l);
	routes_gc(l);
	return 0;
}

static int drop_empty_targets(struct live *l, char *err, size_t errlen);

int live_remove_scope(struct live *l, int slot, const struct prefix *dst, char *err, size_t errlen)
{
	int scope = scope_find(l, dst);
	struct portset empty = {}, had;
	char name[TARGET_STRLEN], pname[PREFIX_STRLEN];

	if (scope > 0)
		live_scope_ports(l, slot, scope, &had);
	if (scope <= 0 || !portset_count(&had)) {
		snprintf(err, errlen,
			 "target %s has no ports for --dst %s (sksteer --list shows them)",
			 format_target(&l->addrs[slot], name, sizeof(name)),
			 format_prefix(dst, pname, sizeof(pname)));
		return -1;
	}
	if (set_ports(l, slot, scope, &empty))
		return no_routes(err, errlen);
	if (live_drop_empty(l, err, errlen))
		return -1;
	scopes_gc(l);
	routes_gc(l);
	return 0;
}

/* Targets that lost their last port to another one (--force) are removed. */
static int drop_empty_targets(struct live *l, char *err, size_t errlen)
{
	unsigned int owned[SKSTEER_SLOTS] = {};

	for (int scope = 0; scope < SKSTEER_SCOPES; scope++) {
		for (uint32_t key = 0; key < SKSTEER_PORT_KEYS; key++) {
			const uint8_t *own;

			if (scope && !l->scope_table[scope])
				break;
			own = l->pairs[scope_route(l, scope, key)];
			owned[own[0]]++;
			owned[own[1]]++;
		}
	}
	for (int slot = 1; slot < SKSTEER_SLOTS; slot++)
		if (l->addrs[slot].proto && !owned[slot] && live_remove(l, slot, err, errlen))
			return -1;
	return 0;
}

/*
 * During a migration (l->migrated) the old program still runs, with the old
 * table, until program_sync() swaps the new one in: a target that lost its
 * ports in the new table keeps its socket until then, or the old program's
 * ports for it would fail meanwhile (and for good, if the run died there).
 */
int live_drop_empty(struct live *l, char *err, size_t errlen)
{
	return l->migrated ? 0 : drop_empty_targets(l, err, errlen);
}

/*
 * A target's new socket must belong to the user whose socket it replaces: on a
 * shared host anyone may bind 127.0.0.1:9000 while the proxy restarts.
 */
static int check_owner(const struct live *l, int slot, const struct sock_info *sock,
		       const char *name, char *err, size_t errlen)
{
	struct sksteer_target_info info;

	if (live_info(l, slot, &info) || !(info.flags & SKSTEER_INFO_UID) || info.uid == sock->uid)
		return 0;
	snprintf(err, errlen,
		 "refusing to steer to the socket now at %s: it belongs to uid %u, the socket it "
		 "would replace to uid %u (use --force if the new owner is right)",
		 name, sock->uid, info.uid);
	return -1;
}

/*
 * After a restart the new socket alone gets the connections (the old process
 * drains); otherwise the kernel spreads them over the socket's SO_REUSEPORT
 * group, as it does without sksteer. Set before the socket changes: until
 * then the flag applies to the old socket, which is just as right.
 */
static int set_flags(struct live *l, uint32_t slot, uint32_t flags)
{
	if (l->fds[MAP_TARGET_FLAGS] < 0)
		return flags ? -EOPNOTSUPP : 0; /* pins of 0.1, not changed by this run */
	return bpf_map_update_elem(l->fds[MAP_TARGET_FLAGS], &slot, &flags, BPF_ANY) ? -errno : 0;
}

/*
 * A UDP target whose ports overlap the ephemeral range, while the client
 * watcher runs: the first port the lookup program checks for client sockets.
 */
static uint32_t clients_from(const struct live *l, const struct change *c, int slot)
{
	struct portset now;
	const struct portset *ports = c->ports;

	if (c->target->proto != IPPROTO_UDP || !l->clients_from)
		return 0;
	if (!ports) {
		live_ports(l, slot, &now);
		ports = &now;
	}
	return ephemeral_overlap(ports, l->clients_from, l->clients_to, NULL) ? l->clients_from : 0;
}

/* The target's flags after change c (a new socket, --fail-closed or --fail-open). */
static uint32_t new_flags(const struct live *l, int slot, uint32_t flags, const struct change *c,
			  bool new_socket)
{
	flags &= (1U << SKSTEER_CLIENTS_SHIFT) - 1;
	flags |= clients_from(l, c, slot) << SKSTEER_CLIENTS_SHIFT;
	if (new_socket)
		flags = (flags & ~SKSTEER_ASSIGN_FLAGS) |
			(c->restart ? BPF_SK_LOOKUP_F_NO_REUSEPORT : 0);
	if (c->fail_closed == FAIL_CLOSED_ON)
		flags |= SKSTEER_FAIL_CLOSED;
	else if (c->fail_closed == FAIL_CLOSED_OFF)
		flags &= ~SKSTEER_FAIL_CLOSED;
	return flags;
}

uint32_t live_flags(const struct live *l, int slot)
{
	uint32_t key = (uint32_t)slot, flags = 0;

	bpf_map_lookup_elem(l->fds[MAP_TARGET_FLAGS], &key, &flags);
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
		snprintf(err, errlen,
			 "%s is not a target in this namespace: give its ports with -p", name);
		return -1;
	}
	if (c->ports && !c->force && check_conflicts(l, c, slot, scope, err, errlen))
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
		    check_owner(l, slot, &sock, name, err, errlen))
			return -1;
	}
	if (c->ports && check_family(c, &sock, err, errlen))
		return -1;
	if (c->ports && !c->force && check_hijack(l, c, scope, sock.cookie, err, errlen))
		return -1;
	/* a prefix that binds nothing yet gets its scope now, before anything else changes */
	if (c->ports && scope < 0 && (scope = scope_get(l, c->dst, err, errlen)) < 0)
		return -1;
	if (slot < 0) {
		slot = free_slot(l);
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
	ret = set_flags(l, (uint32_t)slot, new_flags(l, slot, old_flags, c, sock.cookie != 0));
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
	if (sock.cookie && sock.cookie != live_cookie(l, slot) &&
	    target_install(l->fds[MAP_TARGETS], (uint32_t)slot, &sock, err, errlen)) {
		set_flags(l, (uint32_t)slot, old_flags); /* as it was */
		return -1;
	}
	key = (uint32_t)slot;
	if (bpf_map_update_elem(l->fds[MAP_TARGET_ADDRS], &key, c->target, BPF_ANY)) {
		snprintf(err, errlen, "cannot record target %s: %s", name, strerror(errno));
		return -1;
	}
	l->addrs[slot] = *c->target;
	/*
	 * Recorded before the ports change: a run cut short leaves a difference
	 * --check sees. Only unscoped ports are recorded.
	 */
	ret = record(l, (uint32_t)slot, scope ? NULL : c->ports, sock.uid, sock.cookie != 0);
	if (!ret && c->ports && c->force && !scope)
		ret = forget_moved(l, slot, c->ports);
	if (ret) {
		snprintf(err, errlen, "cannot record target %s: %s", name, strerror(-ret));
		return -1;
	}
	if (c->ports) {
		clients_adopt(l, c, slot);
		if (clients_attach(l, err, errlen))
			return -1;
		if (set_ports(l, slot, scope, c->ports))
			return no_routes(err, errlen);
	}
	if (live_drop_empty(l, err, errlen))
		return -1;
	scopes_gc(l);
	routes_gc(l);
	return 0;
}

int live_apply(struct live *l, const struct change *c, char *err, size_t errlen)
{
	int ret = apply_one(l, c, err, errlen);

	if (ret && c->dst && c->dst->family)
		scopes_gc(l); /* a prefix's scope made for a change that failed after */
	return ret;
}

/*
 * Whole configurations (src/apply.c) check every target before anything
 * changes, then apply them together: the functions below.
 */

int live_check(const struct live *l, const struct change *c, bool moves, bool other,
	       struct sock_info *sock, char *err, size_t errlen)
{
	int slot = live_find(l, c->target), scope = scope_find(l, c->dst);
	char name[TARGET_STRLEN];

	memset(sock, 0, sizeof(*sock));
	format_target(c->target, name, sizeof(name));
	if (slot < 0 && !c->ports) {
		snprintf(err, errlen,
			 "%s is not a target in this namespace: give its ports with -p", name);
		return -1;
	}
	if (c->ports && !c->force && !moves && check_conflicts(l, c, slot, scope, err, errlen))
		return -1;
	if (slot < 0 || c->new_socket) {
		uint64_t avoid = slot > 0 && (!c->ports || other) ? live_cookie(l, slot) : 0;

		if (target_choose(c->target, avoid, sock, err, errlen))
			return -1;
		if (slot > 0 && !c->force && check_owner(l, slot, sock, name, err, errlen))
			return -1;
	}
	if (c->ports && check_family(c, sock, err, errlen))
		return -1;
	return c->ports && !c->force ? check_hijack(l, c, scope, sock->cookie, err, errlen) : 0;
}

/* Gives each target in slots[] the socket live_check() chose, its flags and its record. */
static int install_set(struct live *l, const struct change *c, const struct sock_info *socks,
		       const int *slots, int n, char *err, size_t errlen)
{
	char name[TARGET_STRLEN];
	int ret = 0;

	for (int i = 0; i < n; i++) {
		uint32_t slot = (uint32_t)slots[i], old = live_flags(l, slots[i]);
		bool swap = socks[i].cookie && socks[i].cookie != live_cookie(l, slots[i]);

		format_target(c[i].target, name, sizeof(name));
		ret = set_flags(l, slot, new_flags(l, slots[i], old, &c[i], swap));
		if (ret) {
			snprintf(err, errlen, "cannot set the flags of %s: %s", name,
				 strerror(-ret));
			return -1;
		}
		if (swap && target_install(l->fds[MAP_TARGETS], slot, &socks[i], err, errlen)) {
			set_flags(l, slot, old);
			return -1;
		}
		if (!l->addrs[slot].proto &&
		    bpf_map_update_elem(l->fds[MAP_TARGET_ADDRS], &slot, c[i].target, BPF_ANY))
			ret = -errno;
		if (!ret)
			ret = record(l, slot, c[i].dst && c[i].dst->family ? NULL : c[i].ports,
				     socks[i].uid, socks[i].cookie != 0);
		if (ret) {
			snprintf(err, errlen, "cannot record target %s: %s", name, strerror(-ret));
			return -1;
		}
		l->addrs[slot] = *c[i].target;
	}
	return 0;
}

/*
 * A configuration that swaps prefixes while all SKSTEER_PREFIXES of a family
 * are taken: the ports of prefixes that no line keeps let go first, so that
 * their scopes are free for the new ones (those destinations fall back to a
 * less specific binding a moment early). Only when room is short.
 */
static void free_prefixes(struct live *l, const struct change *c, const int *slots, int n)
{
	static const struct portset empty;
	int need[2] = {};

	for (int i = 0; i < n; i++) {
		bool first = c[i].dst && c[i].dst->family && scope_find(l, c[i].dst) < 0 &&
			     portset_count(c[i].ports);

		for (int j = 0; first && j < i; j++)
			first = !(c[j].dst && prefix_equal(c[j].dst, c[i].dst));
		if (first)
			need[c[i].dst->family == AF_INET6]++;
	}
	if (need[0] <= scopes_room(l, AF_INET) && need[1] <= scopes_room(l, AF_INET6))
		return;
	for (int i = 0; i < n; i++) {
		int scope = scope_find(l, c[i].dst);
		bool kept = false;

		for (int j = 0; scope > 0 && !kept && j < n; j++)
			kept = c[j].dst && prefix_equal(c[j].dst, c[i].dst) &&
			       portset_count(c[j].ports);
		if (scope > 0 && !kept)
			set_ports(l, slots[i], scope, &empty);
	}
	scopes_gc(l);
}

int live_apply_set(struct live *l, const struct change *c, const struct sock_info *socks, int n,
		   char *err, size_t errlen)
{
	int *slots = calloc((size_t)n + 1, sizeof(*slots));
	int *scopes = calloc((size_t)n + 1, sizeof(*scopes));
	bool taken[SKSTEER_SLOTS] = {};
	int ret = -1;

	if (!slots || !scopes) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* slots first, new ones included, so that running out changes nothing */
	for (int i = 0; i < n; i++) {
		slots[i] = live_find(l, c[i].target);
		/* a target's lines for several prefixes: one slot */
		for (int j = 0; slots[i] < 0 && j < i; j++)
			if (target_equal(c[j].target, c[i].target))
				slots[i] = slots[j];
		for (int s = 1; slots[i] < 0 && s < SKSTEER_RETIRED_SLOT; s++)
			if (!l->addrs[s].proto && !taken[s])
				slots[i] = s;
		if (slots[i] < 0)
			n = -1;
		else
			taken[slots[i]] = true;
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
		if (!portset_count(c[i].ports))
			scopes[i] = scope_find(l, c[i].dst);
		else if ((scopes[i] = scope_get(l, c[i].dst, err, errlen)) < 0) {
			scopes_gc(l); /* those made for earlier lines, still empty */
			goto out;
		}
	}
	if (install_set(l, c, socks, slots, n, err, errlen)) {
		char ignored[8];

		drop_empty_targets(l, ignored, sizeof(ignored)); /* new slots that got no ports */
		scopes_gc(l);
		goto out;
	}
	for (int i = 0; i < n; i++)
		clients_adopt(l, &c[i], slots[i]);
	if (clients_attach(l, err, errlen))
		goto out;
	/* every gain before any loss: a port moving between targets changes owner in one store */
	for (int i = 0; i < n; i++) {
		uint32_t base = port_key(c[i].target->proto, 0);

		for (unsigned int port = 1; port <= 65535; port++)
			if (portset_has(c[i].ports, port) &&
			    scope_port_owner(l, scopes[i], base + port, slots[i]) != slots[i] &&
			    set_owner(l, scopes[i], base + port, c[i].target->family,
				      (uint8_t)slots[i])) {
				no_routes(err, errlen);
				goto out;
			}
	}
	/* no store of the losses may become visible before one of the gains */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (int i = 0; i < n; i++) { /* gains nothing now: only lets go */
		if (set_ports(l, slots[i], scopes[i], c[i].ports)) {
			no_routes(err, errlen);
			goto out;
		}
	}
	if (live_drop_empty(l, err, errlen))
		goto out;
	scopes_gc(l);
	routes_gc(l);
	ret = 0;
out:
	free(slots);
	free(scopes);
	return ret;
}

int live_empty(struct live *l, char *err, size_t errlen)
{
	memset(l->addrs, 0, sizeof(l->addrs));
	live_unmap(l); /* read before, on this handle */
	l->table = calloc(TABLE_BYTES, 1);
	l->table_copied = l->table != NULL;
	l->stride = 1;
	routes_read(l);
	if (l->table)
		return 0;
	snprintf(err, errlen, "out of memory");
	return -1;
}
