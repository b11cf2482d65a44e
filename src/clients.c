// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The UDP client watcher: see clients.h, and clients.bpf.c for the rule itself. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
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
#include "scopes.h"
#include "clients.skel.h"
#include "sockets.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/*
 * The watcher's links, in the order they are attached and pinned: the socket
 * release first (nothing recorded can outlive its socket), the sends last.
 * The last one pinned marks a complete watcher.
 */
static const char *const watch_pins[] = {
	"watch_release", "watch_bind4", "watch_bind6", "watch_sendmsg4", "watch_sendmsg6",
};
#define NR_WATCH (sizeof(watch_pins) / sizeof(watch_pins[0]))
#define ADOPTED_PIN "udp_adopted"
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

static bool watching(const struct live *l)
{
	struct stat st;

	return !fstatat(l->pins.dir_fd, watch_pins[NR_WATCH - 1], &st, 0);
}

static struct bpf_program *watch_prog(struct clients_bpf *skel, size_t i)
{
	struct bpf_program *progs[NR_WATCH] = {
		skel->progs.socket_closes, skel->progs.server_binds4, skel->progs.server_binds6,
		skel->progs.client_sends4, skel->progs.client_sends6,
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

/* The watcher this run loaded and has not attached yet (see clients_start()). */
static struct clients_bpf *pending;
static int pending_cgroup = -1;
static char pending_root[PATH_MAX];

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
	uint64_t *counts;

	drop_pending();
	for (size_t i = NR_WATCH; i-- > 0;)
		unlinkat(l->pins.dir_fd, watch_pins[i], 0);
	unlinkat(l->pins.dir_fd, ADOPTED_PIN, 0);
	/* the watcher is gone: its counts would be stale when one starts again */
	counts = l->fds[MAP_UDP_CLIENTS] >= 0 ? map_counts(l) : NULL;
	if (counts) {
		memset(counts, 0, COUNTS_BYTES);
		munmap(counts, COUNTS_BYTES);
	}
}

/*
 * Loads the watcher for this namespace and pins its map of adopted sockets;
 * watch_attach() attaches it, once clients_adopt() has counted the sockets
 * there already: so none is counted twice (by both).
 */
static int watch_load(struct live *l, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint64_t cookie;

	unwatch(l); /* a watcher cut short by a crash */
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
	    clients_bpf__load(pending) ||
	    bpf_obj_pin(bpf_map__fd(pending->maps.udp_adopted),
			pin_path(&l->pins, ADOPTED_PIN, path, sizeof(path))))
		goto fail;
	pin_restrict(&l->pins, ADOPTED_PIN);
	return 0;
fail:
	snprintf(err, errlen, "cannot load the UDP client watcher: %s", strerror(errno));
	unwatch(l);
	return -1;
}

static int watch_attach(struct live *l, char *err, size_t errlen)
{
	char path[PATH_MAX];

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
	l->clients_from = (uint16_t)lo;
	l->clients_to = (uint16_t)hi;
	return 0;
}

int clients_start(struct live *l, char *err, size_t errlen)
{
	if (!l->clients_from || watching(l))
		return 0;
	if (l->fds[MAP_UDP_CLIENTS] < 0) {
		snprintf(err, errlen, "the pinned maps lack udp_clients");
		return -1;
	}
	return watch_load(l, err, errlen);
}

int clients_attach(struct live *l, char *err, size_t errlen)
{
	return watch_attach(l, err, errlen);
}

/*
 * Counts socket s (on port, in the range) as a client, or with --force makes
 * it a server from now on, through udp_adopted: the watcher cannot give
 * another process's socket storage. A port counted already (a client that
 * sent since the watcher started) is not counted twice; with --force, that
 * count is taken back.
 */
static void adopt(uint64_t *counts, int adopted, const struct sock_info *s, bool force)
{
	uint32_t port = s->addr.port, role = force ? SKSTEER_UDP_SERVER : port;
	uint64_t *elem = &counts[port / SKSTEER_CLIENTS_PER_ELEM];
	bool counted = SKSTEER_CLIENTS_COUNT(__atomic_load_n(elem, __ATOMIC_RELAXED), port);

	if (counted == force &&
	    !bpf_map_update_elem(adopted, &s->cookie, &role, force ? BPF_ANY : BPF_NOEXIST))
		__atomic_fetch_add(elem,
				   force ? -SKSTEER_CLIENTS_ONE(port) : SKSTEER_CLIENTS_ONE(port),
				   __ATOMIC_RELAXED);
	else if (force)
		bpf_map_update_elem(adopted, &s->cookie, &role, BPF_ANY);
}

void clients_adopt(struct live *l, const struct change *c, int slot)
{
	uint32_t base = port_key(IPPROTO_UDP, 0);
	char path[PATH_MAX];
	struct sock_list socks;
	uint64_t *counts;
	int adopted, scope = scope_find(l, c->dst);

	if (!c->ports || c->target->proto != IPPROTO_UDP || !l->clients_from)
		return;
	adopted = bpf_obj_get(pin_path(&l->pins, ADOPTED_PIN, path, sizeof(path)));
	counts = adopted >= 0 ? map_counts(l) : NULL;
	if (counts && !sockets_dump(IPPROTO_UDP, &socks)) {
		for (size_t i = 0; i < socks.n; i++) {
			const struct sock_info *s = &socks.socks[i];
			uint32_t port = s->addr.port;

			if (s->state == UDP_CLOSE && portset_has(c->ports, port) &&
			    port >= l->clients_from && port <= l->clients_to &&
			    scope_port_owner(l, scope, base + port, slot) != slot &&
			    !sock_is_target(l, s->cookie))
				adopt(counts, adopted, s, c->force);
		}
		sock_list_free(&socks);
	}
	if (counts)
		munmap(counts, COUNTS_BYTES);
	if (adopted >= 0)
		close(adopted);
}

/* The first port to check for clients on target slot's ports, as things are now. */
static uint32_t wanted_from(struct live *l, int slot, bool watched)
{
	struct portset ports;

	if (l->addrs[slot].proto != IPPROTO_UDP || !watched || !l->clients_from)
		return 0;
	live_ports_any(l, slot, &ports); /* every address's and every prefix's */
	return ephemeral_overlap(&ports, l->clients_from, l->clients_to, NULL) ? l->clients_from :
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
		l->clients_from = (uint16_t)lo;
		l->clients_to = (uint16_t)hi;
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
			bpf_map_update_elem(l->fds[MAP_TARGET_FLAGS], &slot, &want, BPF_ANY);
	}
	if (!watched && watching(l))
		unwatch(l);
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
		fprintf(stderr,
			"sksteer: warning: UDP ports %s%s are in the ephemeral range %u-%u "
			"(net.ipv4.ip_local_port_range): while another program's UDP client socket "
			"holds one of them, datagrams to it go to that socket, not to the target\n",
			list, cut ? "..." : "", lo, hi);
	else
		fprintf(stderr,
			"sksteer: warning: UDP ports %s%s are in the ephemeral range %u-%u "
			"(net.ipv4.ip_local_port_range) and cgroup v2 is not mounted, so sksteer "
			"cannot tell other programs' UDP client sockets: replies to them on these "
			"ports go to the target (mount cgroup2 and run sksteer again)\n",
			list, cut ? "..." : "", lo, hi);
}

void clients_done(struct live *l, const struct change *c, int n)
{
	char msg[512];

	msg[0] = '\0';
	if (clients_sync(l, msg, sizeof(msg)) && msg[0]) {
		fputs("sksteer: warning: ", stderr);
		esc_fputs(ESC_TEXT, msg, stderr); /* it may quote a path: one line all the same */
		fputc('\n', stderr);
	}
	for (int i = 0; i < n; i++)
		clients_warn(l, &c[i]);
}
