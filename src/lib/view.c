// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Reading the live state: the pinned maps opened and read into struct live (live.h), and what
 * the rest asks of it (targets, their ports, flags, sockets and records, the tracer).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "layout.h"
#include "routes.h"
#include "arrays.h"
#include "scope_runs.h"
#include "scope_store.h"
#include "scopes.h"
#include "sockets.h"
#include "view.h"

/* The packed table: one byte per key, the layout a reader's copy always has. */
#define TABLE_BYTES ((size_t)SKSTEER_PORT_KEYS)

/*
 * A reader's port table, mapped read-only (no write can be made through it, nor
 * added later): a copy reads 16,384 elements through the kernel, a mapping none.
 * mmap() shares only what a descriptor may write, so it maps one opened for
 * that, then closes it. NULL where the pin is not writable (a group reader).
 */
static volatile uint8_t *map_for_reading(const struct live *l)
{
	char path[PATH_MAX];
	int fd = bpf_obj_get(pin_path(&l->pins, pinned_map_names[MAP_PORTS], path, sizeof(path)));
	void *t;

	if (fd < 0)
		return NULL;
	t = mmap(NULL, l->table_len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return t == MAP_FAILED ? NULL : t;
}

int live_read(struct live *l, char *err, size_t errlen)
{
	int ret =
		array_read(l->fds[MAP_TARGET_ADDRS], SKSTEER_SLOTS, sizeof(l->addrs[0]), l->addrs);

	if (ret) {
		snprintf(err, errlen, "cannot read the pinned targets: %s", strerror(-ret));
		return -1;
	}
	if (layout_read(l, err, errlen))
		return -1;
	live_unmap(
		l); /* the empty table of a read made before the pins were there (live_empty()) */
	l->stride = layout_from(&l->layout) == 2 ? 8 : 1;
	l->table_len = TABLE_BYTES * l->stride;
	/* a dry apply writes the table: a copy */
	if (l->pins.mode == PINS_READ && l->stride == 1 && !l->dry &&
	    (l->table = map_for_reading(l))) {
		l->table_copied = false;
	} else if (l->pins.mode == PINS_READ || l->dry) {
		l->table = table_copy(l->fds[MAP_PORTS], layout_from(&l->layout) == 2 ? 1 : 8);
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
	ret = routes_read(l);
	if (ret) {
		snprintf(err, errlen, "cannot read the pinned routes: %s", strerror(-ret));
		return -1;
	}
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
			snprintf(
				err, errlen,
				"the steering pinned in %s is incomplete (no '%s': %s): detach all "
				"steering here, then apply the configuration again",
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
	l->table_copied = false;
}

void live_take_table(struct live *l, volatile uint8_t *table)
{
	live_unmap(l);
	l->table = table;
	l->table_len = TABLE_BYTES;
	l->stride = 1;
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

/* Whether target slot owns run r (for sockets of its family). */
static bool owns_run(const struct live *l, int slot, const struct scope_run *r)
{
	return route_pair(&l->routes, r->route)[family_index(l->addrs[slot].family)] == slot;
}

void live_scope_ports(const struct live *l, int slot, int scope, struct portset *out)
{
	uint32_t base = port_key(l->addrs[slot].proto, 0), n;
	const struct scope_run *run = scope_runs(&l->scopes, scope, &n);

	memset(out, 0, sizeof(*out));
	if (!scope) {
		for (unsigned int port = 1; port <= 65535; port++)
			if (scope_port_owner(l, 0, base + port, slot) == slot)
				portset_add(out, port);
		return;
	}
	/* the runs in the target's protocol, cut to it */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t lo = run[i].lo > base ? run[i].lo : base;
		uint32_t hi = run[i].hi < base + 65535 ? run[i].hi : base + 65535;

		if (lo <= hi && owns_run(l, slot, &run[i]))
			portset_add_range(out, lo - base, hi - base);
	}
}

bool live_scope_has(const struct live *l, int slot, int scope)
{
	uint32_t base = port_key(l->addrs[slot].proto, 0), n;
	const struct scope_run *run = scope_runs(&l->scopes, scope, &n);

	for (uint32_t i = 0; i < n; i++)
		if (run[i].hi >= base && run[i].lo <= base + 65535 && owns_run(l, slot, &run[i]))
			return true;
	return false;
}

void live_marked(const struct live *l, int proto, struct portset *out)
{
	uint32_t base = port_key(proto, 0);

	memset(out, 0, sizeof(*out));
	for (unsigned int port = 1; port <= 65535; port++)
		if (route_is_mark(l, *port_byte(l, base + port)))
			portset_add(out, port);
}

int live_marks_missing(const struct live *l)
{
	uint8_t *bound = bound_keys(&l->scopes);
	int missing = 0;

	if (!bound)
		return -1;
	for (uint32_t key = 0; key < SKSTEER_PORT_KEYS && !missing; key++)
		missing = bound[key] && !route_is_mark(l, *port_byte(l, key));
	free(bound);
	return missing;
}

void live_ports(const struct live *l, int slot, struct portset *out)
{
	live_scope_ports(l, slot, 0, out);
}

void live_ports_any(const struct live *l, int slot, struct portset *out)
{
	struct portset more;

	live_scope_ports(l, slot, 0, out);
	for (int scope = 1; scope < scopes_end(&l->scopes); scope++) {
		if (!live_scope_has(l, slot, scope))
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

bool sock_is_target(const struct live *l, uint64_t cookie)
{
	for (int slot = 1; slot < SKSTEER_SLOTS; slot++)
		if (l->addrs[slot].proto && live_cookie(l, slot) == cookie)
			return true;
	return false;
}

uint32_t live_flags(const struct live *l, int slot)
{
	uint32_t key = (uint32_t)slot, flags = 0;

	if (l->dry &&
	    l->dry_flags.set[slot]) /* written by the dry apply: as the kernel would hold */
		return l->dry_flags.flags[slot];
	bpf_map_lookup_elem(l->fds[MAP_TARGET_FLAGS], &key, &flags);
	return flags;
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

void stats_add(struct sksteer_stats *sum, const struct sksteer_stats *s)
{
	const __u64 *from = (const __u64 *)s;
	__u64 *to = (__u64 *)sum;

	for (size_t i = 0; i < sizeof(*s) / sizeof(__u64); i++)
		to[i] += from[i];
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

int live_empty(struct live *l, char *err, size_t errlen)
{
	int ret;

	memset(l->addrs, 0, sizeof(l->addrs));
	live_unmap(l); /* read before, on this handle */
	l->table = calloc(TABLE_BYTES, 1);
	l->table_copied = l->table != NULL;
	l->stride = 1;
	if (!l->table) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = routes_read(l);
	if (ret)
		snprintf(err, errlen, "cannot read the pinned routes: %s", strerror(-ret));
	return ret ? -1 : 0;
}
