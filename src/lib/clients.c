// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The UDP client watcher: see clients.h, and clients.bpf.c for the rule itself. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "clients.h"
#include "escape.h"
#include "print.h"
#include "scopes.h"
#include "clients.skel.h"
#include "live.h"
#include "sockets.h"
#include "view.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/*
 * The watcher's links, in the order they are attached and pinned: the socket
 * release first (nothing recorded can outlive its socket), the sends last.
 * The last one pinned marks a complete watcher. Watchers of layout 4 and
 * before (which kept ports, not replies) pinned theirs as watch_*.
 */
static const char *const watch_pins[] = {
	"udp_watch_release", "udp_watch_bind4",	   "udp_watch_bind6",	 "udp_watch_bound4",
	"udp_watch_bound6",  "udp_watch_sendmsg4", "udp_watch_sendmsg6",
};
static const char *const old_watch_pins[] = {
	"watch_release", "watch_bind4", "watch_bind6", "watch_sendmsg4", "watch_sendmsg6",
};
#define NR_WATCH (sizeof(watch_pins) / sizeof(watch_pins[0]))
#define NR_OLD_WATCH (sizeof(old_watch_pins) / sizeof(old_watch_pins[0]))
#define ADOPTED_PIN "udp_adopted"
#define STATS_PIN "udp_watch_stats"
#define TABLE_PIN "udp_awaited"
#define COUNTS_BYTES (65536 / SKSTEER_CLIENTS_PER_ELEM * sizeof(uint64_t))

bool ephemeral_range(unsigned int *lo, unsigned int *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	bool ok = f && fscanf(f, "%u %u", lo, hi) == 2 && *lo && *lo <= *hi && *hi <= 65535;

	if (f)
		fclose(f);
	if (!ok)
		*lo = *hi = 0;
	return ok;
}

bool ephemeral_overlap(const struct portset *p, unsigned int lo, unsigned int hi,
		       struct portset *overlap)
{
	bool any = false;

	for (unsigned int port = lo; lo && port <= hi; port++) {
		if (!portset_has(p, port))
			continue;
		any = true;
		if (!overlap)
			break;
		portset_add(overlap, port);
	}
	return any;
}

static bool pinned(const struct live *l, const char *name)
{
	struct stat st;

	return !fstatat(l->pins.dir_fd, name, &st, 0);
}

static bool watching(const struct live *l)
{
	return l->clients.dry_watch || pinned(l, watch_pins[NR_WATCH - 1]);
}

/* Any link of a watcher: this one's, complete or cut short, or an older sksteer's. */
static bool any_watcher(const struct live *l)
{
	for (size_t i = 0; i < NR_WATCH; i++)
		if (pinned(l, watch_pins[i]))
			return true;
	for (size_t i = 0; i < NR_OLD_WATCH; i++)
		if (pinned(l, old_watch_pins[i]))
			return true;
	return false;
}

static struct bpf_program *watch_prog(struct clients_bpf *skel, size_t i)
{
	struct bpf_program *progs[NR_WATCH] = {
		skel->progs.socket_closes, skel->progs.server_binds4, skel->progs.server_binds6,
		skel->progs.server_bound4, skel->progs.server_bound6, skel->progs.client_sends4,
		skel->progs.client_sends6,
	};

	return progs[i];
}

/* Before 5.14, the kernel tells the namespace's cookie only to a BPF program: ask one. */
static int probe_netns_cookie(int cgroup_fd, uint64_t *cookie)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct clients_bpf *skel = NULL;
	struct bpf_link *link = NULL;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = -1;

	if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(s, (struct sockaddr *)&sin, &len))
		goto out;
	skel = clients_bpf__open();
	if (!skel)
		goto out;
	skel->rodata->probe_port = ntohs(sin.sin_port);
	for (size_t i = 0; i < NR_WATCH; i++)
		bpf_program__set_autoload(watch_prog(skel, i), false);
	if (clients_bpf__load(skel))
		goto out;
	link = bpf_program__attach_cgroup(skel->progs.netns_probe, cgroup_fd);
	if (!link)
		goto out;
	/* the hook runs before routing: a loopback that is down does not matter */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sendto(s, "", 0, MSG_DONTWAIT, (struct sockaddr *)&sin, sizeof(sin));
	*cookie = skel->bss->probed_cookie;
	ret = *cookie ? 0 : -1;
out:
	bpf_link__destroy(link);
	clients_bpf__destroy(skel);
	if (s >= 0)
		close(s);
	return ret;
}

static int netns_cookie(int cgroup_fd, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	ret = s >= 0 && !getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) ? 0 : -1;
	if (s >= 0)
		close(s);
	return ret ? probe_netns_cookie(cgroup_fd, cookie) : 0;
}

/* The watcher this thread loaded and has not attached yet (see clients_start()). */
static __thread struct clients_bpf *pending;
static __thread int pending_cgroup = -1;
static __thread char pending_root[PATH_MAX];

static void drop_pending(void)
{
	clients_bpf__destroy(pending);
	pending = NULL;
	if (pending_cgroup >= 0)
		close(pending_cgroup);
	pending_cgroup = -1;
}

/* The per-port client counts, mapped; NULL on failure. */
static uint64_t *map_counts(const struct live *l)
{
	void *p = mmap(NULL, COUNTS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		       l->fds[MAP_UDP_CLIENTS], 0);

	return p == MAP_FAILED ? NULL : p;
}

static void unwatch(struct live *l)
{
	uint32_t zero = 0;
	uint64_t *counts;

	l->clients.dry_watch = 0;
	if (!l->dry)
		drop_pending();
	for (size_t i = NR_WATCH; !l->dry && i-- > 0;)
		unlinkat(l->pins.dir_fd, watch_pins[i], 0);
	for (size_t i = NR_OLD_WATCH; !l->dry && i-- > 0;)
		unlinkat(l->pins.dir_fd, old_watch_pins[i], 0);
	if (!l->dry) {
		unlinkat(l->pins.dir_fd, ADOPTED_PIN, 0);
		unlinkat(l->pins.dir_fd, STATS_PIN, 0);
		unlinkat(l->pins.dir_fd, TABLE_PIN, 0);
	}
	/* no watcher, no replies: lookups stop at the marks, then at the first read */
	if (l->fds[MAP_UDP_REPLIES] >= 0)
		live_delete(l, MAP_UDP_REPLIES, &zero);
	/* the watcher is gone: its marks would be stale when one starts again */
	counts = l->fds[MAP_UDP_CLIENTS] >= 0 && !l->dry ? map_counts(l) : NULL;
	if (counts) {
		memset(counts, 0, COUNTS_BYTES);
		munmap(counts, COUNTS_BYTES);
	}
}

/* The watcher's maps that the loader reads (--list) or writes (--force), pinned. */
static int pin_watch_maps(struct live *l, struct clients_bpf *skel)
{
	char path[PATH_MAX];

	const struct {
		const char *name;
		const struct bpf_map *map;
	} pins[] = {
		{ ADOPTED_PIN, skel->maps.udp_adopted },
		{ STATS_PIN, skel->maps.watch_stats },
		{ TABLE_PIN, skel->maps.awaited },
	};

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		if (bpf_obj_pin(bpf_map__fd(pins[i].map),
				pin_path(&l->pins, pins[i].name, path, sizeof(path))))
			return -1;
		pin_restrict(&l->pins, pins[i].name);
	}
	return 0;
}

/*
 * Loads the watcher for this namespace and pins its maps; watch_attach()
 * attaches it, once clients_adopt() has marked the sockets that --force made
 * servers.
 */
static int watch_load(struct live *l, char *err, size_t errlen)
{
	uint64_t cookie;

	unwatch(l); /* a watcher cut short by a crash */
	if (l->dry) { /* a dry apply's: loaded, as far as what it counts goes */
		l->clients.dry_watch = 1;
		return 0;
	}
	pending_cgroup = cgroup_root_open(pending_root, sizeof(pending_root));
	if (pending_cgroup < 0) {
		snprintf(err, errlen,
			 "cgroup v2 is not mounted, so sksteer cannot tell other programs' UDP "
			 "client sockets: replies to them on these ports go to the target (mount "
			 "it, e.g. 'mount -t cgroup2 none /sys/fs/cgroup', and run sksteer again)");
		return -1;
	}
	if (netns_cookie(pending_cgroup, &cookie)) {
		snprintf(err, errlen, "cannot learn this network namespace's cookie: %s",
			 strerror(errno));
		drop_pending();
		return -1;
	}
	pending = clients_bpf__open();
	if (!pending)
		goto fail;
	pending->rodata->netns_cookie = cookie;
	bpf_program__set_autoload(pending->progs.netns_probe, false);
	if (bpf_map__reuse_fd(pending->maps.udp_clients, l->fds[MAP_UDP_CLIENTS]) ||
	    clients_bpf__load(pending) || pin_watch_maps(l, pending))
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot load the UDP client watcher: %s", strerror(errno));
	unwatch(l);
	return -1;
}

static int watch_attach(struct live *l, char *err, size_t errlen)
{
	int table = pending ? bpf_map__fd(pending->maps.awaited) : -1;
	char path[PATH_MAX];
	uint32_t zero = 0;

	if (l->dry) { /* the replies map's entry a dry apply's watcher would be given, counted */
		if (l->clients.dry_watch != 1)
			return 0;
		l->clients.dry_watch = 2;
		return live_update(l, MAP_UDP_REPLIES, &zero, &zero);
	}
	/* the lookups' way to the table, before anything can be put in it */
	if (pending && live_update(l, MAP_UDP_REPLIES, &zero, &table)) {
		snprintf(err, errlen, "cannot give the lookup program the UDP client table: %s",
			 strerror(errno));
		unwatch(l);
		return -1;
	}
	for (size_t i = 0; pending && i < NR_WATCH; i++) {
		struct bpf_link *link =
			bpf_program__attach_cgroup(watch_prog(pending, i), pending_cgroup);

		if (!link ||
		    bpf_link__pin(link, pin_path(&l->pins, watch_pins[i], path, sizeof(path)))) {
			snprintf(
				err, errlen,
				"cannot attach the UDP client watcher to the cgroup v2 root %s: %s",
				pending_root, strerror(errno));
			bpf_link__destroy(link);
			unwatch(l);
			return -1;
		}
		pin_restrict(&l->pins, watch_pins[i]);
		bpf_link__destroy(link); /* the pin holds it */
	}
	drop_pending();
	return 0;
}

static int watch(struct live *l, char *err, size_t errlen)
{
	return watch_load(l, err, errlen) || watch_attach(l, err, errlen) ? -1 : 0;
}

/* The ports target change c leaves its target with: c's, or the ones it has. */
static const struct portset *final_ports(const struct live *l, const struct change *c,
					 struct portset *buf)
{
	int slot;

	if (c->ports)
		return c->ports;
	memset(buf, 0, sizeof(*buf));
	slot = live_find(l, c->target);
	if (slot > 0)
		live_ports_any(l, slot, buf);
	return buf;
}

static bool cgroup2_mounted(void)
{
	char root[PATH_MAX];
	int fd = cgroup_root_open(root, sizeof(root));

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int clients_plan(struct live *l, const struct change *c)
{
	unsigned int lo, hi;
	struct portset buf;

	if (c->target->proto != IPPROTO_UDP || !ephemeral_range(&lo, &hi) ||
	    !ephemeral_overlap(final_ports(l, c, &buf), lo, hi, NULL))
		return 0;
	if (!watching(l) && !cgroup2_mounted())
		return 1;
	l->clients.from = (uint16_t)lo;
	l->clients.to = (uint16_t)hi;
	return 0;
}

int clients_start(struct live *l, char *err, size_t errlen)
{
	if (!l->clients.from || watching(l))
		return 0;
	if (l->fds[MAP_UDP_CLIENTS] < 0 || l->fds[MAP_UDP_REPLIES] < 0) {
		snprintf(err, errlen, "the pinned maps lack udp_clients or udp_replies");
		return -1;
	}
	return watch_load(l, err, errlen);
}

int clients_attach(struct live *l, char *err, size_t errlen)
{
	return watch_attach(l, err, errlen);
}

/*
 * With --force, socket s (unconnected, on a port c takes) is a server to the
 * watcher from now on, through udp_adopted: the watcher cannot give another
 * process's socket storage. A claim it made as a client goes at once, so that
 * its replies are the target's; the watcher drops the rest when the socket
 * next writes the table. False when udp_adopted is full.
 */
static bool make_server(int adopted, int table, uint64_t *counts, const struct sock_info *s)
{
	struct sksteer_awaited claim = { .addr = { s->addr.port } };
	uint32_t server = SKSTEER_UDP_SERVER, port = s->addr.port;
	uint64_t holder;

	if (bpf_map_update_elem(adopted, &s->cookie, &server, BPF_ANY))
		return false;
	if (table >= 0 && !bpf_map_lookup_elem(table, &claim, &holder) && holder == s->cookie &&
	    !bpf_map_delete_elem(table, &claim))
		__atomic_fetch_add(&counts[port / SKSTEER_CLIENTS_PER_ELEM],
				   -SKSTEER_CLIENTS_ONE(port), __ATOMIC_RELAXED);
	return true;
}

static int watch_map(const struct live *l, const char *name)
{
	char path[PATH_MAX];

	return bpf_obj_get(pin_path(&l->pins, name, path, sizeof(path)));
}

/*
 * Unconnected UDP sockets in the range on the ports change c takes may be
 * clients or servers bound there before (the watcher cannot tell): either way
 * they keep only replies to what they send from now on. With --force they are
 * servers, and keep nothing.
 */
void clients_adopt(struct live *l, const struct change *c, int slot)
{
	uint32_t base = port_key(IPPROTO_UDP, 0);
	int adopted, table, scope = scope_find(l, c->dst);
	size_t unmarked = 0;
	struct sock_list socks;
	uint64_t *counts;

	if (!c->force || !c->ports || c->target->proto != IPPROTO_UDP || !l->clients.from || l->dry)
		return;
	adopted = watch_map(l, ADOPTED_PIN);
	table = watch_map(l, TABLE_PIN);
	counts = adopted >= 0 ? map_counts(l) : NULL;
	if (counts && !sockets_dump(IPPROTO_UDP, &socks)) {
		for (size_t i = 0; i < socks.n; i++) {
			const struct sock_info *s = &socks.socks[i];
			uint32_t port = s->addr.port;

			if (s->state == UDP_CLOSE && portset_has(c->ports, port) &&
			    port >= l->clients.from && port <= l->clients.to &&
			    scope_port_owner(l, scope, base + port, slot) != slot &&
			    !sock_is_target(l, s->cookie) &&
			    !make_server(adopted, table, counts, s))
				unmarked++;
		}
		sock_list_free(&socks);
	}
	if (unmarked)
		pr_warn("%zu sockets on the ports a forced change takes could not be made "
			"servers to the UDP client watcher (%u at most): they keep replies to what "
			"they send",
			unmarked, SKSTEER_UDP_ADOPTED);
	if (counts)
		munmap(counts, COUNTS_BYTES);
	if (table >= 0)
		close(table);
	if (adopted >= 0)
		close(adopted);
}

/* The first port to check for clients on target slot's ports, as things are now. */
static uint32_t wanted_from(struct live *l, int slot, bool watched)
{
	struct portset ports;

	if (l->addrs[slot].proto != IPPROTO_UDP || !watched || !l->clients.from)
		return 0;
	live_ports_any(l, slot, &ports); /* every address's and every prefix's */
	return ephemeral_overlap(&ports, l->clients.from, l->clients.to, NULL) ? l->clients.from :
										 0;
}

int clients_sync(struct live *l, char *err, size_t errlen)
{
	unsigned int lo, hi;
	bool need = false, watched = watching(l);
	int ret = 0;

	if (l->fds[MAP_TARGET_FLAGS] < 0 || l->fds[MAP_UDP_CLIENTS] < 0)
		return 0;
	if (ephemeral_range(&lo, &hi)) {
		l->clients.from = (uint16_t)lo;
		l->clients.to = (uint16_t)hi;
	}
	for (int slot = 1; slot < SKSTEER_SLOTS && !need; slot++)
		need = wanted_from(l, slot, true) != 0;
	/* without cgroup v2, clients_warn() says what that means */
	if (need && !watched)
		ret = cgroup2_mounted() ? watch(l, err, errlen) : 1;
	watched = need && !ret;
	for (uint32_t slot = 1; slot < SKSTEER_SLOTS; slot++) {
		uint32_t flags = live_flags(l, (int)slot), want;

		if (!l->addrs[slot].proto)
			continue;
		want = (flags & ((1U << SKSTEER_CLIENTS_SHIFT) - 1)) |
		       wanted_from(l, (int)slot, watched) << SKSTEER_CLIENTS_SHIFT;
		if (want != flags)
			live_update(l, MAP_TARGET_FLAGS, &slot, &want);
	}
	if (!watched && any_watcher(l))
		unwatch(l); /* none is needed, or an older sksteer's kept ports, not replies */
	return ret;
}

void clients_warn(const struct live *l, const struct change *c)
{
	struct portset overlap = {};
	unsigned int lo, hi;
	char list[64];
	bool cut;

	if (!c->ports || c->target->proto != IPPROTO_UDP || !ephemeral_range(&lo, &hi) ||
	    !ephemeral_overlap(c->ports, lo, hi, &overlap))
		return;
	cut = format_ports(&overlap, list, sizeof(list)) >= sizeof(list);
	if (watching(l))
		pr_warn("UDP ports %s%s are in the ephemeral range %u-%u "
			"(net.ipv4.ip_local_port_range): a reply to another program's UDP client "
			"socket on one of them (from the address and port it sent to, within %u s) "
			"goes to that socket, not to the target",
			list, cut ? "..." : "", lo, hi, SKSTEER_UDP_REPLY_S);
	else
		pr_warn("UDP ports %s%s are in the ephemeral range %u-%u "
			"(net.ipv4.ip_local_port_range) and cgroup v2 is not mounted, so sksteer "
			"cannot tell other programs' UDP client sockets: replies to them on these "
			"ports go to the target (mount cgroup2 and run sksteer again)",
			list, cut ? "..." : "", lo, hi);
}

void clients_done(struct live *l, const struct change *c, int n)
{
	char msg[512];

	msg[0] = '\0';
	if (clients_sync(l, msg, sizeof(msg)) && msg[0])
		pr_warn("%s", msg);
	for (int i = 0; i < n; i++)
		clients_warn(l, &c[i]);
}

/* Entries in the table: a walk of its keys, done for --list only (16,384 at most). */
static unsigned int count_entries(int fd)
{
	struct sksteer_awaited key, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (n < SKSTEER_UDP_AWAITED && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

static int watch_map_read(const struct live *l, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];

	return bpf_obj_get_opts(pin_path(&l->pins, name, path, sizeof(path)), &opts);
}

void clients_status(const struct live *l, struct clients_status *cs)
{
	int ncpus = libbpf_num_possible_cpus(), table, stats;
	struct sksteer_udp_watch *per_cpu;
	uint32_t zero = 0;

	memset(cs, 0, sizeof(*cs));
	cs->watching = watching(l);
	if (!cs->watching || ncpus <= 0)
		return;
	table = watch_map_read(l, TABLE_PIN);
	if (table >= 0) {
		cs->awaited = count_entries(table);
		close(table);
	}
	stats = watch_map_read(l, STATS_PIN);
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (stats >= 0 && per_cpu && !bpf_map_lookup_elem(stats, &zero, per_cpu)) {
		for (int c = 0; c < ncpus; c++) {
			cs->full += per_cpu[c].full;
			cs->over_budget += per_cpu[c].over_budget;
		}
	}
	free(per_cpu);
	if (stats >= 0)
		close(stats);
}
