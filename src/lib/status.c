// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* What a namespace steers and how its lookups went, read from the pins; see status.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "arrays.h"
#include "scopes.h"
#include "status.h"

/*
 * A per-CPU counter map read whole (zeros if the map is missing): each slot's
 * counters summed over the CPUs into sums (size bytes a slot). The map's own
 * value size is used, so pins of an older layout read correctly into what
 * they have. 0, or -errno.
 */
static int sum_counters(int fd, void *sums, size_t size, int ncpus)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	uint64_t *out = sums, *buf;
	size_t n, per_slot;
	int ret;

	memset(sums, 0, size * SKSTEER_SLOTS);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	n = (info.value_size + 7) / 8; /* per-CPU values are 8-byte aligned */
	per_slot = n * 8 * (size_t)ncpus;
	buf = malloc(per_slot * SKSTEER_SLOTS);
	if (!buf)
		return -ENOMEM;
	ret = array_read(fd, SKSTEER_SLOTS, per_slot, buf);
	for (size_t slot = 0; !ret && slot < SKSTEER_SLOTS; slot++)
		for (int cpu = 0; cpu < ncpus; cpu++)
			for (size_t i = 0; i < n && i < size / 8; i++)
				out[slot * (size / 8) + i] +=
					buf[slot * n * (size_t)ncpus + (size_t)cpu * n + i];
	free(buf);
	return ret;
}

/* Address, state and owner of the socket in the target's slot, matched by cookie. */
static void find_socket(const struct live *l, struct target_status *t, bool owners)
{
	struct sock_list socks;

	t->cookie = live_cookie(l, t->slot);
	t->alive = t->cookie != 0;
	/* cookies are unique across namespaces: a dump of another namespace just finds nothing */
	if (!t->alive || !owners || sockets_dump(t->addr.proto, &socks))
		return;
	for (size_t i = 0; i < socks.n; i++)
		if (socks.socks[i].cookie == t->cookie &&
		    socket_owner(socks.socks[i].inode, l->pins.netns_ino, &t->owner))
			t->owner.pid = 0;
	sock_list_free(&socks);
}

static void read_program(const struct live *l, struct status *st)
{
	struct bpf_link_info link = {};
	struct bpf_prog_info prog = {};
	__u32 len = sizeof(link);
	char path[PATH_MAX];
	int fd;

	fd = bpf_obj_get(pin_path(&l->pins, "link", path, sizeof(path)));
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &link, &len)) {
		st->prog_id = link.prog_id;
		st->link_id = link.id;
	}
	close(fd);
	fd = bpf_prog_get_fd_by_id(st->prog_id);
	if (fd < 0)
		return;
	len = sizeof(prog);
	if (!bpf_obj_get_info_by_fd(fd, &prog, &len)) {
		snprintf(st->prog_name, sizeof(st->prog_name), "%s", prog.name);
		for (int i = 0; i < BPF_TAG_SIZE; i++)
			snprintf(st->prog_tag + 2 * i, 3, "%02x", prog.tag[i]);
	}
	close(fd);
}

static void prog_name(uint32_t prog_id, char *name, size_t len)
{
	struct bpf_prog_info prog = {};
	__u32 size = sizeof(prog);
	int fd = bpf_prog_get_fd_by_id(prog_id);

	snprintf(name, len, "?");
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &prog, &size))
		snprintf(name, len, "%s", prog.name);
	if (fd >= 0)
		close(fd);
}

/*
 * The other sk_lookup links of the namespace. They run in the order they were
 * attached, and link ids grow in that order: a lower id runs before sksteer.
 * Walking links by id needs CAP_SYS_ADMIN.
 */
static void read_others(const struct live *l, struct status *st)
{
	__u32 id = 0;

	while (st->nothers < (int)(sizeof(st->others) / sizeof(st->others[0]))) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		struct other_program *o;
		int fd;

		if (bpf_link_get_next_id(id, &id)) {
			st->others_unknown = errno == EPERM;
			return;
		}
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_NETNS &&
		    info.netns.attach_type == BPF_SK_LOOKUP &&
		    info.netns.netns_ino == l->pins.netns_ino && id != st->link_id) {
			o = &st->others[st->nothers++];
			o->link_id = id;
			o->prog_id = info.prog_id;
			o->before = id < st->link_id;
			prog_name(info.prog_id, o->name, sizeof(o->name));
		}
		close(fd);
	}
}

char *ports_text(const struct portset *ports)
{
	size_t len = format_ports(ports, NULL, 0) + 1;
	char *text = malloc(len);

	if (text)
		format_ports(ports, text, len);
	return text;
}

/*
 * The target's ports for each destination prefix that binds some, and those
 * of them whose key the port table does not mark (marked: proto's marked keys;
 * NULL when every key a prefix binds is marked, as it almost always is).
 */
static int collect_dst(const struct live *l, const int *order, int n, const struct portset *marked,
		       struct target_status *t)
{
	int have = 0;

	for (int i = 0; i < n; i++)
		have += live_scope_has(l, t->slot, order[i]);
	t->dst = calloc((size_t)have + 1, sizeof(*t->dst));
	for (int i = 0; t->dst && i < n; i++) {
		struct dst_ports *d = &t->dst[t->ndst];
		struct portset ports, lost;

		if (!live_scope_has(l, t->slot, order[i]))
			continue;
		live_scope_ports(l, t->slot, order[i], &ports);
		d->nports = portset_count(&ports);
		d->dst = *scope_prefix(&l->scopes, order[i]);
		d->ports = ports_text(&ports);
		if (marked) {
			portset_andnot(&ports, marked, &lost);
			d->nlost = portset_count(&lost);
			d->lost = d->nlost ? ports_text(&lost) : NULL;
		}
		t->ndst++;
		if (!d->ports || (d->nlost && !d->lost))
			return -1;
	}
	return t->dst ? 0 : -1;
}

int status_collect(const struct live *l, struct status *st, unsigned int flags, char *err,
		   size_t errlen)
{
	int ncpus = libbpf_num_possible_cpus();
	struct sksteer_stats *stats = calloc(SKSTEER_SLOTS, sizeof(*stats));
	struct sksteer_stats_ext *ext = calloc(SKSTEER_SLOTS, sizeof(*ext));
	struct sksteer_tracer tracer;
	int norder, *order, ret = -ENOMEM;
	struct portset marked[2]; /* TCP's, UDP's */
	int gaps;

	memset(st, 0, sizeof(*st));
	st->netns = l->pins.netns_ino;
	st->pin_dir = l->pins.dir;
	if (ncpus > 0 && stats && ext) {
		ret = sum_counters(l->fds[MAP_STATS], stats, sizeof(*stats), ncpus);
		if (!ret)
			ret = sum_counters(l->fds[MAP_STATS_EXT], ext, sizeof(*ext), ncpus);
	}
	if (ret) {
		snprintf(err, errlen, "cannot read the counters: %s",
			 strerror(ncpus < 0 ? -ncpus : -ret));
		free(stats);
		free(ext);
		return -1;
	}
	order = scopes_in_order(l, &norder); /* the prefixes as --list shows them */
	/* a prefix's ports that lost their marks are looked for only when some key did */
	gaps = norder ? live_marks_missing(l) : 0;
	if (gaps > 0) {
		live_marked(l, IPPROTO_TCP, &marked[0]);
		live_marked(l, IPPROTO_UDP, &marked[1]);
	}
	for (int slot = 0; slot < SKSTEER_SLOTS; slot++) {
		struct target_status *t = &st->targets[st->ntargets];
		struct portset ports;

		stats_add(&st->totals, &stats[slot]);
		st->totals_ext.refused += ext[slot].refused;
		st->totals_ext.preempted += ext[slot].preempted;
		if (!slot || !l->addrs[slot].proto)
			continue;
		t->slot = slot;
		t->addr = l->addrs[slot];
		t->stats = stats[slot];
		t->ext = ext[slot];
		live_ports(l, slot, &ports);
		t->nports = portset_count(&ports);
		t->socket_only = live_flags(l, slot) & BPF_SK_LOOKUP_F_NO_REUSEPORT;
		t->fail_closed = live_flags(l, slot) & SKSTEER_FAIL_CLOSED;
		t->clients_from = SKSTEER_CLIENTS_FROM(live_flags(l, slot));
		follow_info(l, slot, &t->follow);
		t->ports = ports_text(&ports);
		st->ntargets++;
		if (!order || gaps < 0 ||
		    collect_dst(l, order, norder,
				gaps ? &marked[t->addr.proto == IPPROTO_UDP] : NULL, t)) {
			snprintf(err, errlen, "out of memory");
			free(stats);
			free(ext);
			free(order);
			return -1;
		}
		find_socket(l, t, flags & STATUS_OWNERS);
	}
	free(stats);
	free(ext);
	free(order);
	read_program(l, st);
	if (flags & STATUS_OTHERS)
		read_others(l, st);
	clients_status(l, &st->clients);
	if (live_tracer(l, &tracer) == 1)
		st->tracer = tracer.pid;
	return 0;
}

void status_free(struct status *st)
{
	for (int i = 0; i < st->ntargets; i++) {
		free(st->targets[i].ports);
		for (int d = 0; d < st->targets[i].ndst; d++) {
			free(st->targets[i].dst[d].ports);
			free(st->targets[i].dst[d].lost);
		}
		free(st->targets[i].dst);
	}
}
