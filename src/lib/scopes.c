// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Destination scopes: see scopes.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "live.h"
#include "kernel.h"
#include "scope_store.h"
#include "scopes.h"

#define TABLE_BYTES ((size_t)SKSTEER_PORT_KEYS)
#define TABLE0 "scope_0"

/* Opens scope table 0's pin: mapped for a writer, copied for a reader. 1 if there is none. */
static int open_table0(struct live *l)
{
	void *t;
	int fd = pins_obj_fd(&l->pins, TABLE0);

	if (fd < 0)
		return fd == -ENOENT ? 1 : -1;
	if (l->pins.mode == PINS_READ) {
		l->scopes.table[0] = table_copy(fd, 8);
		close(fd);
		return l->scopes.table[0] ? 0 : -1;
	}
	t = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		close(fd);
		return -1;
	}
	l->scopes.table[0] = t;
	l->scopes.fd0 = fd;
	return 0;
}

static void close_table(struct live *l, int scope)
{
	if (scope == 0 && l->scopes.table[0] && l->scopes.fd0 > 0)
		munmap((void *)l->scopes.table[0], TABLE_BYTES);
	else
		free((void *)l->scopes.table[scope]);
	if (scope == 0 && l->scopes.fd0 > 0)
		close(l->scopes.fd0);
	if (scope == 0)
		l->scopes.fd0 = 0;
	l->scopes.table[scope] = NULL;
}

/*
 * A pinned table 0 is in the program's map too: a run cut short between the
 * pin and the map (make_table0() pins first, drop_table0() takes it out of
 * the map first) left a table the loader sees and lookups do not. Putting the
 * same map in its slot again changes nothing for a lookup.
 */
static int relist_table0(struct live *l)
{
	uint32_t key = 0;

	if (l->fds[MAP_SCOPES] < 0)
		return 0;
	return bpf_map_update_elem(l->fds[MAP_SCOPES], &key, &l->scopes.fd0, BPF_ANY);
}

/* The scope of p, made in this process's memory (no table yet); -1 when none is free. */
static int new_scope(struct live *l, const struct prefix *p)
{
	for (int s = 1; s < SCOPES_MAX; s++)
		if (!l->scopes.prefix[s].family) {
			l->scopes.table[s] = calloc(TABLE_BYTES, 1);
			if (!l->scopes.table[s])
				return -1;
			l->scopes.prefix[s] = *p;
			return s;
		}
	return -1;
}

/* The bindings read from the pins, into scopes and their tables. */
static int take_bindings(struct live *l, const struct binding *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct prefix p = { .family = b[i].family, .len = b[i].len };
		uint32_t base = port_key(b[i].proto, 0);
		int s;

		memcpy(p.addr, b[i].addr, sizeof(p.addr));
		s = scope_find(l, &p);
		if (s < 0 && (s = new_scope(l, &p)) < 0)
			return -1;
		for (uint32_t port = b[i].lo; port <= b[i].hi; port++)
			l->scopes.table[s][base + port] = b[i].route;
	}
	return 0;
}

/* The prefixes' bindings, read from the pins into scopes 1.. */
static int read_bindings(struct live *l, char *err, size_t errlen)
{
	struct binding *b = NULL;
	size_t n = 0;
	int ret = store_read(l, &b, &n, err, errlen);

	if (!ret && take_bindings(l, b, n)) {
		snprintf(err, errlen,
			 "out of memory, or more prefixes in %s than this sksteer takes",
			 l->pins.dir);
		ret = -1;
	}
	free(b);
	/* from the maps of layout 4 or 5: they go to the bindings table (program_load()) */
	l->scopes.dirty = l->store.legacy;
	return ret;
}

int scopes_read(struct live *l, char *err, size_t errlen)
{
	int ret;

	scopes_close(l); /* a state read afresh (--wait's, a first run's) */
	memset(l->scopes.prefix, 0, sizeof(l->scopes.prefix));
	if (layout_from(&l->layout))
		return 0; /* no prefixes before layout 4 */
	ret = open_table0(l);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read the pinned scope table %s/%s: %s", l->pins.dir,
			 TABLE0, strerror(errno));
		return -1;
	}
	if (!ret && l->pins.mode != PINS_READ && relist_table0(l)) {
		snprintf(err, errlen, "cannot give the lookup program scope table 0: %s",
			 strerror(errno));
		return -1;
	}
	return read_bindings(l, err, errlen);
}

void scopes_refresh(struct live *l)
{
	char ignored[8];

	for (int s = 1; s < SCOPES_MAX; s++)
		close_table(l, s);
	memset(l->scopes.prefix, 0, sizeof(l->scopes.prefix));
	store_close(l);
	read_bindings(l, ignored, sizeof(ignored));
}

void scopes_close(struct live *l)
{
	for (int s = 0; s < SCOPES_MAX; s++)
		close_table(l, s);
	store_close(l);
}

/* Makes scope table 0: a packed array, mapped, pinned, then in the program's map. */
static int make_table0(struct live *l, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	char path[PATH_MAX];
	uint32_t key = 0;
	void *t;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, TABLE0, 4, 8, SKSTEER_PORT_ELEMS, &opts);
	if (fd < 0) {
		snprintf(err, errlen, "cannot make a scope table: %s", strerror(errno));
		return -1;
	}
	t = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		snprintf(err, errlen, "cannot map a scope table: %s", strerror(errno));
		close(fd);
		return -1;
	}
	l->scopes.table[0] = t;
	l->scopes.fd0 = fd;
	/* pinned first: a run cut short leaves a pin the next one finds, never a lost map */
	unlinkat(l->pins.dir_fd, TABLE0, 0);
	if (bpf_obj_pin(fd, pin_path(&l->pins, TABLE0, path, sizeof(path))) ||
	    bpf_map_update_elem(l->fds[MAP_SCOPES], &key, &fd, BPF_ANY)) {
		snprintf(err, errlen, "cannot pin the scope table %s: %s", path, strerror(errno));
		unlinkat(l->pins.dir_fd, TABLE0, 0);
		close_table(l, 0);
		return -1;
	}
	pin_restrict(&l->pins, TABLE0);
	return 0;
}

int scopes_in_order(const struct live *l, int *order)
{
	int n = 0;

	for (int s = 1; s < SCOPES_MAX; s++)
		if (l->scopes.prefix[s].family)
			order[n++] = s;
	/* longest first; among equal lengths, by address, so that output is stable */
	for (int i = 1; i < n; i++) {
		for (int j = i; j > 0; j--) {
			const struct prefix *a = &l->scopes.prefix[order[j - 1]];
			const struct prefix *b = &l->scopes.prefix[order[j]];
			int tmp;

			if (a->family < b->family ||
			    (a->family == b->family &&
			     (a->len > b->len ||
			      (a->len == b->len && memcmp(a->addr, b->addr, 16) <= 0))))
				break;
			tmp = order[j];
			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	}
	return n;
}

static int family_count(const struct live *l, int family)
{
	int n = 0;

	for (int s = 1; s < SCOPES_MAX; s++)
		n += l->scopes.prefix[s].family == family;
	return n;
}

int scopes_room(const struct live *l, int family)
{
	return SCOPED_PREFIXES - family_count(l, family);
}

int scope_find(const struct live *l, const struct prefix *p)
{
	if (!p || !p->family)
		return 0;
	for (int s = 1; s < SCOPES_MAX; s++)
		if (prefix_equal(&l->scopes.prefix[s], p))
			return s;
	return -1;
}

int scope_get(struct live *l, const struct prefix *p, char *err, size_t errlen)
{
	char name[PREFIX_STRLEN];
	int ret = scope_find(l, p);

	if (ret >= 0)
		return ret;
	format_prefix(p, name, sizeof(name));
	if (l->fds[MAP_SCOPES] < 0 || l->fds[MAP_TABLE_SEL] < 0 || layout_from(&l->layout)) {
		snprintf(err, errlen, "dst %s: the steering program was not upgraded", name);
		return -1;
	}
	if (family_count(l, p->family) >= SCOPED_PREFIXES) {
		snprintf(err, errlen,
			 "dst %s: at most %d destination prefixes per address family can bind "
			 "ports: remove one first (the status lists them)",
			 name, SCOPED_PREFIXES);
		return -1;
	}
	if (!l->scopes.table[0] && make_table0(l, err, errlen))
		return -1;
	ret = new_scope(l, p);
	if (ret < 0)
		snprintf(err, errlen, "dst %s: out of memory", name);
	return ret;
}

static bool any_scope_binds(const struct live *l, uint32_t key)
{
	for (int s = 1; s < SCOPES_MAX; s++)
		if (l->scopes.table[s] && l->scopes.table[s][key])
			return true;
	return false;
}

void scope_set_route(struct live *l, int scope, uint32_t key, uint8_t route)
{
	volatile uint8_t *main = port_byte(l, key), *rest = l->scopes.table[0];

	if (!scope) {
		if (route_is_mark(l, *main))
			rest[key] = route;
		else
			*main = route;
		return;
	}
	l->scopes.table[scope][key] = route;
	l->scopes.dirty = true;
	if (route && !route_is_mark(l, *main)) {
		rest[key] = *main;
		/* the unscoped route is in place before the mark that sends lookups to it */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		*main = SKSTEER_SCOPED;
	} else if (!route && route_is_mark(l, *main) && !any_scope_binds(l, key)) {
		/*
		 * Scope table 0 keeps the route: a lookup that read the mark
		 * just before may read it still (scopes_gc() drops the table
		 * only after a grace period, and marking rewrites it first).
		 */
		*main = rest[key];
	}
}

/* Takes scope table 0 out of the program's map, unpins and closes it. */
static void drop_table0(struct live *l)
{
	uint32_t key = 0;

	bpf_map_delete_elem(l->fds[MAP_SCOPES], &key);
	unlinkat(l->pins.dir_fd, TABLE0, 0);
	close_table(l, 0);
}

/*
 * Repairs what a run cut short between two stores leaves: a mark no prefix
 * needs any more (a scope's route cleared, the key not yet unmarked) gets its
 * route back; a key some prefix binds that is not marked (the scope's route
 * written, the mark not yet) is marked, its route moved to scope table 0 first.
 */
static void repair_marks(struct live *l)
{
	for (uint32_t key = 0; l->scopes.table[0] && key < SKSTEER_PORT_KEYS; key++) {
		volatile uint8_t *main = port_byte(l, key);
		bool marked = route_is_mark(l, *main), bound = any_scope_binds(l, key);

		if (marked && !bound) {
			*main = l->scopes.table[0][key];
		} else if (!marked && bound) {
			l->scopes.table[0][key] = *main;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			*main = SKSTEER_SCOPED;
		}
	}
}

/* Each scope's runs of one route, as bindings: *n of them, malloc'd. */
static struct binding *scope_bindings(const struct live *l, size_t *n)
{
	struct binding *b = malloc(sizeof(*b));
	size_t cap = b ? 1 : 0;

	*n = 0;
	for (int s = 1; b && s < SCOPES_MAX; s++) {
		struct binding x = { .family = l->scopes.prefix[s].family,
				     .len = l->scopes.prefix[s].len };

		memcpy(x.addr, l->scopes.prefix[s].addr, sizeof(x.addr));
		if (x.family && l->scopes.table[s] &&
		    table_bindings(l->scopes.table[s], x, &b, n, &cap)) {
			free(b);
			return NULL;
		}
	}
	return b;
}

int scopes_write(struct live *l, char *err, size_t errlen)
{
	struct binding *b;
	size_t n;
	int ret;

	if (!l->scopes.dirty)
		return 0;
	b = scope_bindings(l, &n);
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = store_write(l, b, n, err, errlen);
	free(b);
	if (!ret)
		l->scopes.dirty = false;
	return ret;
}

int scopes_gc(struct live *l, char *err, size_t errlen)
{
	bool any = false;
	int ret;

	if (l->pins.mode == PINS_READ || layout_from(&l->layout))
		return 0;
	/* what a migration cut short left of layout 4-5's maps (the migration's own: program.c) */
	if (layout_pinned(&l->layout) == SKSTEER_LAYOUT && !layout_migrated(&l->layout))
		store_drop_legacy(l);
	repair_marks(l);
	for (int s = 1; s < SCOPES_MAX; s++) {
		bool used = false;

		for (uint32_t key = 0; l->scopes.table[s] && !used && key < SKSTEER_PORT_KEYS;
		     key++)
			used = l->scopes.table[s][key] != 0;
		any |= used;
		if (used || !l->scopes.prefix[s].family)
			continue;
		memset(&l->scopes.prefix[s], 0, sizeof(l->scopes.prefix[s]));
		close_table(l, s);
		l->scopes.dirty = true;
	}
	ret = scopes_write(l, err, errlen);
	/* with the last mark gone, a lookup that read it may still read table 0 */
	if (!ret && !any && l->scopes.table[0]) {
		grace_period();
		drop_table0(l);
	}
	return ret;
}
