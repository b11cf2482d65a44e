// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The UDP client watcher: see clients.h, and clients.bpf.c for the rule itself. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "clients.h"
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
#define SOCKETS_PIN "udp_sockets"

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

static void unwatch(struct live *l)
{
	uint32_t key, next;

	for (size_t i = NR_WATCH; i-- > 0;)
		unlinkat(l->pins.dir_fd, watch_pins[i], 0);
	unlinkat(l->pins.dir_fd, SOCKETS_PIN, 0);
	/* what is recorded now would be stale when a watcher starts again */
	while (l->fds[MAP_UDP_CLIENTS] >= 0 &&
	       !bpf_map_get_next_key(l->fds[MAP_UDP_CLIENTS], NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(l->fds[MAP_UDP_CLIENTS], &key))
			break;
	}
}

/* Loads the watcher for this namespace, attaches it to the cgroup v2 root and pins it. */
static int watch(struct live *l, char *err, size_t errlen)
{
	char root[PATH_MAX], path[PATH_MAX];
	struct clients_bpf *skel = NULL;
	uint64_t cookie;
	int cgroup_fd, ret = 1;

	cgroup_fd = cgroup_root_open(root, sizeof(root));
	if (cgroup_fd < 0) {
		snprintf(err, errlen,
			 "cgroup v2 is not mounted, so sksteer cannot tell other programs' UDP "
			 "client sockets: replies to them on these ports go to the target (mount "
			 "it, e.g. 'mount -t cgroup2 none /sys/fs/cgroup', and run sksteer again)");
		return 1;
	}
	unwatch(l); /* a watcher cut short by a crash */
	if (netns_cookie(cgroup_fd, &cookie)) {
		snprintf(err, errlen,
			 "cannot learn this network namespace's cookie: replies to other "
			 "programs' UDP client sockets on these ports go to the target");
		goto out;
	}
	skel = clients_bpf__open();
	if (!skel)
		goto fail;
	skel->rodata->netns_cookie = cookie;
	bpf_program__set_autoload(skel->progs.netns_probe, false);
	if (bpf_map__reuse_fd(skel->maps.udp_clients, l->fds[MAP_UDP_CLIENTS]) ||
	    clients_bpf__load(skel))
		goto fail;
	if (bpf_obj_pin(bpf_map__fd(skel->maps.udp_sockets),
			pin_path(&l->pins, SOCKETS_PIN, path, sizeof(path))))
		goto fail;
	pin_restrict(&l->pins, SOCKETS_PIN);
	for (size_t i = 0; i < NR_WATCH; i++) {
		struct bpf_link *link = bpf_program__attach_cgroup(watch_prog(skel, i), cgroup_fd);

		if (!link ||
		    bpf_link__pin(link, pin_path(&l->pins, watch_pins[i], path, sizeof(path)))) {
			bpf_link__destroy(link);
			goto fail;
		}
		pin_restrict(&l->pins, watch_pins[i]);
		bpf_link__destroy(link); /* the pin holds it */
	}
	ret = 0;
	goto out;
fail:
	snprintf(err, errlen,
		 "cannot attach the UDP client watcher to the cgroup v2 root %s (%s): replies to "
		 "other programs' UDP client sockets on these ports go to the target",
		 root, strerror(errno));
	unwatch(l);
out:
	clients_bpf__destroy(skel);
	close(cgroup_fd);
	return ret;
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
		live_ports(l, slot, buf);
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
	if (l->fds[MAP_UDP_CLIENTS] < 0 || watch(l, err, errlen)) {
		if (l->fds[MAP_UDP_CLIENTS] < 0)
			snprintf(err, errlen, "the pinned maps lack udp_clients");
		return -1;
	}
	return 0;
}

void clients_adopt(struct live *l, const struct change *c, int slot)
{
	uint32_t base = port_key(IPPROTO_UDP, 0), server = SKSTEER_UDP_SERVER;
	char path[PATH_MAX];
	struct sock_list socks;
	uint8_t one = 1;
	int sockets;

	if (!c->ports || c->target->proto != IPPROTO_UDP || !l->clients_from)
		return;
	sockets = bpf_obj_get(pin_path(&l->pins, SOCKETS_PIN, path, sizeof(path)));
	if (sockets < 0 || sockets_dump(IPPROTO_UDP, &socks)) {
		if (sockets >= 0)
			close(sockets);
		return;
	}
	for (size_t i = 0; i < socks.n; i++) {
		const struct sock_info *s = &socks.socks[i];
		uint32_t port = s->addr.port;

		if (s->state != UDP_CLOSE || !portset_has(c->ports, port) ||
		    port < l->clients_from || port > l->clients_to ||
		    port_owner(l, base + port) == slot || sock_is_target(l, s->cookie))
			continue;
		if (c->force) {
			/* a server from now on; a send since the watcher started made it a client */
			bpf_map_update_elem(sockets, &s->cookie, &server, BPF_ANY);
			bpf_map_delete_elem(l->fds[MAP_UDP_CLIENTS], &port);
		} else {
			/* as if it had sent: its release lets go of the port */
			bpf_map_update_elem(sockets, &s->cookie, &port, BPF_NOEXIST);
			bpf_map_update_elem(l->fds[MAP_UDP_CLIENTS], &port, &one, BPF_ANY);
		}
	}
	close(sockets);
	sock_list_free(&socks);
}

/* The first port to check for clients on target slot's ports, as things are now. */
static uint32_t wanted_from(struct live *l, int slot, bool watched)
{
	struct portset ports;

	if (l->addrs[slot].proto != IPPROTO_UDP || !watched || !l->clients_from)
		return 0;
	live_ports(l, slot, &ports);
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
	if (clients_sync(l, msg, sizeof(msg)) && msg[0])
		fprintf(stderr, "sksteer: warning: %s\n", msg);
	for (int i = 0; i < n; i++)
		clients_warn(l, &c[i]);
}
