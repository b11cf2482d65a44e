// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Destination scopes: see scopes.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "live.h"
#include "kernel.h"
#include "scopes.h"

#define TABLE_BYTES ((size_t)SKSTEER_PORT_KEYS)

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

static void scope_pin_name(int scope, char *buf, size_t len)
{
	snprintf(buf, len, "scope_%d", scope);
}

/* Prefix p as list entries: address and mask, network byte order, 32 bits a word. */
static void prefix_words(const struct prefix *p, __u32 *addr, __u32 *mask, int words)
{
	for (int w = 0; w < words; w++) {
		int bits = p->len - 32 * w;
		uint32_t m = bits >= 32 ? 0xffffffffu : bits <= 0 ? 0 : ~(0xffffffffu >> bits);

		memcpy(&addr[w], p->addr + 4 * w, 4);
		mask[w] = htonl(m);
	}
}

/* The prefix of a list entry, from its address and mask. */
static void entry_prefix(struct prefix *p, int family, const __u32 *addr, const __u32 *mask,
			 int words)
{
	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	for (int w = 0; w < words; w++) {
		memcpy(p->addr + 4 * w, &addr[w], 4);
		p->len = (uint8_t)(p->len + __builtin_popcount(mask[w]));
	}
}

/* Which prefix each scope has, from the list in use. */
void scopes_read_prefixes(struct live *l)
{
	uint32_t zero = 0;

	memset(l->scopes.prefix, 0, sizeof(l->scopes.prefix));
	l->scopes.list = 0;
	if (l->fds[MAP_PREFIX_LIST] >= 0)
		bpf_map_lookup_elem(l->fds[MAP_PREFIX_LIST], &zero, &l->scopes.list);
	l->scopes.list &= 1;
	for (uint32_t i = l->scopes.list; i == l->scopes.list && l->fds[MAP_PREFIXES] >= 0; i++) {
		struct sksteer_prefixes list;

		if (bpf_map_lookup_elem(l->fds[MAP_PREFIXES], &i, &list))
			continue;
		for (uint32_t k = 0; k < list.n4 && k < SKSTEER_PREFIXES; k++)
			if (list.v4[k].scope && list.v4[k].scope < SKSTEER_SCOPES)
				entry_prefix(&l->scopes.prefix[list.v4[k].scope], AF_INET,
					     &list.v4[k].addr, &list.v4[k].mask, 1);
		for (uint32_t k = 0; k < list.n6 && k < SKSTEER_PREFIXES; k++)
			if (list.v6[k].scope && list.v6[k].scope < SKSTEER_SCOPES)
				entry_prefix(&l->scopes.prefix[list.v6[k].scope], AF_INET6,
					     list.v6[k].addr, list.v6[k].mask, 4);
	}
}

/* Opens scope's pinned table: mapped for a writer, copied for a reader. 1 if there is none. */
static int open_table(struct live *l, int scope)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts,
		    .file_flags = l->pins.mode == PINS_READ ? BPF_F_RDONLY : 0);
	char name[32], path[PATH_MAX];
	void *t;
	int fd;

	scope_pin_name(scope, name, sizeof(name));
	fd = bpf_obj_get_opts(pin_path(&l->pins, name, path, sizeof(path)), &opts);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (l->pins.mode == PINS_READ) {
		l->scopes.table[scope] = table_copy(fd, 8);
		close(fd);
		return l->scopes.table[scope] ? 0 : -1;
	}
	t = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		close(fd);
		return -1;
	}
	l->scopes.table[scope] = t;
	l->scopes.fd[scope] = fd;
	return 0;
}

static void close_table(struct live *l, int scope);
static void drop_table(struct live *l, int scope);

/*
 * A pinned table is in the program's map too: a run cut short between the
 * pin and the map (make_table() pins first, drop_table() takes it out of the
 * map first) left a table the loader sees and lookups do not, so that the
 * keys it holds steered nowhere (table 0: the unscoped routes of marked keys).
 * Putting the same map in its slot again changes nothing for a lookup.
 */
static int relist_table(struct live *l, int scope)
{
	uint32_t key = (uint32_t)scope;

	if (l->fds[MAP_SCOPES] < 0)
		return 0;
	return bpf_map_update_elem(l->fds[MAP_SCOPES], &key, &l->scopes.fd[scope], BPF_ANY);
}

int scopes_read(struct live *l, char *err, size_t errlen)
{
	memset(l->scopes.prefix, 0, sizeof(l->scopes.prefix));
	if (layout_from(&l->layout))
		return 0; /* no prefixes before layout 4 */
	scopes_read_prefixes(l);
	for (int s = 0; s < SKSTEER_SCOPES; s++) {
		int ret = open_table(l, s);

		if (ret < 0) {
			snprintf(err, errlen, "cannot read the pinned scope table %s/scope_%d: %s",
				 l->pins.dir, s, strerror(errno));
			return -1;
		}
		/*
		 * A table no list names (a run cut short between making it and
		 * listing its prefix) binds nothing a lookup can reach: a reader
		 * ignores it, a writer removes it.
		 */
		if (!ret && s && !l->scopes.prefix[s].family) {
			if (l->pins.mode == PINS_READ)
				close_table(l, s);
			else
				drop_table(l, s);
		} else if (!ret && l->pins.mode != PINS_READ && relist_table(l, s)) {
			snprintf(err, errlen, "cannot give the lookup program scope table %d: %s",
				 s, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void close_table(struct live *l, int scope)
{
	if (l->scopes.table[scope] && l->scopes.fd[scope] > 0)
		munmap((void *)l->scopes.table[scope], TABLE_BYTES);
	else if (l->scopes.table[scope])
		free((void *)l->scopes.table[scope]);
	if (l->scopes.fd[scope] > 0)
		close(l->scopes.fd[scope]);
	l->scopes.table[scope] = NULL;
	l->scopes.fd[scope] = 0;
}

void scopes_close(struct live *l)
{
	for (int s = 0; s < SKSTEER_SCOPES; s++)
		close_table(l, s);
}

/* Makes scope's table: a packed array, mapped, pinned, then in the program's map. */
static int make_table(struct live *l, int scope, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	char name[32], path[PATH_MAX];
	uint32_t key = (uint32_t)scope;
	void *t;
	int fd;

	scope_pin_name(scope, name, sizeof(name));
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, 8, SKSTEER_PORT_ELEMS, &opts);
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
	l->scopes.table[scope] = t;
	l->scopes.fd[scope] = fd;
	/* pinned first: a run cut short leaves a pin the next one finds, never a lost map */
	unlinkat(l->pins.dir_fd, name, 0);
	if (bpf_obj_pin(fd, pin_path(&l->pins, name, path, sizeof(path))) ||
	    bpf_map_update_elem(l->fds[MAP_SCOPES], &key, &fd, BPF_ANY)) {
		snprintf(err, errlen, "cannot pin the scope table %s: %s", path, strerror(errno));
		unlinkat(l->pins.dir_fd, name, 0);
		close_table(l, scope);
		return -1;
	}
	pin_restrict(&l->pins, name);
	return 0;
}

/* One list of the scopes in use, each family's most specific first. */
static void build_list(const struct live *l, struct sksteer_prefixes *list)
{
	int order[SKSTEER_SCOPES], n = scopes_in_order(l, order);

	memset(list, 0, sizeof(*list));
	for (int i = 0; i < n; i++) {
		const struct prefix *p = &l->scopes.prefix[order[i]];

		if (p->family == AF_INET) {
			struct sksteer_prefix4 *e = &list->v4[list->n4++];

			prefix_words(p, &e->addr, &e->mask, 1);
			e->scope = (__u32)order[i];
		} else {
			struct sksteer_prefix6 *e = &list->v6[list->n6++];

			prefix_words(p, e->addr, e->mask, 4);
			e->scope = (__u32)order[i];
		}
	}
}

/*
 * Writes the scopes in use into the list lookups do not use, then switches
 * lookups to it in one store: each sees one whole list. The list written was
 * in use until the last switch, perhaps moments ago by another run: a grace
 * period first, so that no lookup still reads it while it changes.
 */
static int write_lists(struct live *l)
{
	struct sksteer_prefixes list;
	uint32_t next = !l->scopes.list, zero = 0;

	build_list(l, &list);
	grace_period();
	if (bpf_map_update_elem(l->fds[MAP_PREFIXES], &next, &list, BPF_ANY) ||
	    bpf_map_update_elem(l->fds[MAP_PREFIX_LIST], &zero, &next, BPF_ANY))
		return -errno;
	l->scopes.list = next;
	return 0;
}

int scopes_in_order(const struct live *l, int *order)
{
	int n = 0;

	for (int s = 1; s < SKSTEER_SCOPES; s++)
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

	for (int s = 1; s < SKSTEER_SCOPES; s++)
		n += l->scopes.prefix[s].family == family;
	return n;
}

int scopes_room(const struct live *l, int family)
{
	return SKSTEER_PREFIXES - family_count(l, family);
}

int scope_find(const struct live *l, const struct prefix *p)
{
	if (!p || !p->family)
		return 0;
	for (int s = 1; s < SKSTEER_SCOPES; s++)
		if (prefix_equal(&l->scopes.prefix[s], p))
			return s;
	return -1;
}

int scope_get(struct live *l, const struct prefix *p, char *err, size_t errlen)
{
	char name[PREFIX_STRLEN];
	int free_s = 0, ret = scope_find(l, p);

	if (ret >= 0)
		return ret;
	for (int s = SKSTEER_SCOPES - 1; s > 0; s--)
		if (!l->scopes.prefix[s].family)
			free_s = s;
	format_prefix(p, name, sizeof(name));
	if (l->fds[MAP_SCOPES] < 0 || l->fds[MAP_PREFIXES] < 0 || l->fds[MAP_PREFIX_LIST] < 0 ||
	    layout_from(&l->layout)) {
		snprintf(err, errlen, "dst %s: the steering program was not upgraded", name);
		return -1;
	}
	if (!free_s || family_count(l, p->family) >= SKSTEER_PREFIXES) {
		snprintf(err, errlen,
			 "dst %s: at most %d destination prefixes per address family can bind "
			 "ports: remove one first (the status lists them)",
			 name, SKSTEER_PREFIXES);
		return -1;
	}
	if (!l->scopes.table[0] && make_table(l, 0, err, errlen))
		return -1;
	if (l->scopes.table[free_s])
		close_table(l, free_s); /* a table left by a run cut short: start afresh */
	if (make_table(l, free_s, err, errlen))
		return -1;
	l->scopes.prefix[free_s] = *p;
	ret = write_lists(l);
	if (ret) {
		snprintf(err, errlen, "dst %s: cannot write the prefix list: %s", name,
			 strerror(-ret));
		return -1;
	}
	return free_s;
}

static bool any_scope_binds(const struct live *l, uint32_t key)
{
	for (int s = 1; s < SKSTEER_SCOPES; s++)
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

/* Takes scope's table out of the program's map, unpins and closes it. */
static void drop_table(struct live *l, int scope)
{
	char name[32];
	uint32_t key = (uint32_t)scope;

	scope_pin_name(scope, name, sizeof(name));
	bpf_map_delete_elem(l->fds[MAP_SCOPES], &key);
	unlinkat(l->pins.dir_fd, name, 0);
	close_table(l, scope);
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

void scopes_gc(struct live *l)
{
	bool dropped = false, any = false;

	if (l->pins.mode == PINS_READ || layout_from(&l->layout))
		return;
	repair_marks(l);
	for (int s = 1; s < SKSTEER_SCOPES; s++) {
		bool used = false;

		for (uint32_t key = 0; l->scopes.table[s] && !used && key < SKSTEER_PORT_KEYS;
		     key++)
			used = l->scopes.table[s][key] != 0;
		any |= used;
		if (used || (!l->scopes.prefix[s].family && !l->scopes.table[s]))
			continue;
		memset(&l->scopes.prefix[s], 0, sizeof(l->scopes.prefix[s]));
		dropped = true;
	}
	/* out of the list first, then a grace period: no lookup still reads a table that goes */
	if (dropped && l->fds[MAP_PREFIXES] >= 0)
		write_lists(l);
	/* and with the last mark gone, a lookup that read it may still read table 0 */
	if (dropped || (!any && l->scopes.table[0])) {
		grace_period();
		for (int s = 1; s < SKSTEER_SCOPES; s++)
			if (l->scopes.table[s] && !l->scopes.prefix[s].family)
				drop_table(l, s);
		if (!any && l->scopes.table[0])
			drop_table(l, 0);
	}
}
