// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Destination scopes: see scopes.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "live.h"
#include "kernel.h"
#include "scope_store.h"
#include "scopes.h"
#include "scope_runs.h"

#define TABLE_BYTES ((size_t)SKSTEER_PORT_KEYS)
#define TABLE0 "scope_0"

/*
 * Opens scope table 0's pin: mapped for a writer, copied for a reader (none where no key is
 * marked: it is read for marked keys alone). 1 if there is none.
 */
static int open_table0(struct live *l)
{
	void *t;
	int fd = pins_obj_fd(&l->pins, TABLE0);

	if (fd < 0)
		return fd == -ENOENT ? 1 : -1;
	/* a reader's port table (a copy or a mapping) that marks no key: table 0 goes unread */
	if (l->pins.mode == PINS_READ && !l->dry &&
	    !memchr((const void *)l->table, SKSTEER_SCOPED, SKSTEER_PORT_KEYS)) {
		close(fd);
		return 0;
	}
	if (l->pins.mode == PINS_READ || l->dry) { /* a dry apply's: written, a copy */
		l->scopes.table0 = table_copy(fd, 8);
		close(fd);
		return l->scopes.table0 ? 0 : -1;
	}
	t = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t == MAP_FAILED) {
		close(fd);
		return -1;
	}
	l->scopes.table0 = t;
	l->scopes.fd0 = fd;
	return 0;
}

static void close_table0(struct live *l)
{
	if (l->scopes.table0 && l->scopes.fd0 > 0)
		munmap((void *)l->scopes.table0, TABLE_BYTES);
	else
		free((void *)l->scopes.table0);
	if (l->scopes.fd0 > 0)
		close(l->scopes.fd0);
	l->scopes.fd0 = 0;
	l->scopes.table0 = NULL;
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
	return live_update(l, MAP_SCOPES, &key, &l->scopes.fd0);
}

static uint32_t prefix_hash(const struct prefix *p)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ p->family ^ (uint64_t)p->len << 8;

	for (int i = 0; i < (p->family == AF_INET ? 4 : 16); i++)
		h = (h ^ p->addr[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ h >> 29);
}

/* Puts scope id in the index, which has room. */
static void index_put(struct scopes *sc, int id)
{
	uint32_t mask = sc->index_cap - 1, i = prefix_hash(&sc->s[id].prefix) & mask;

	while (sc->index[i])
		i = (i + 1) & mask;
	sc->index[i] = id;
}

/* The index made again, with room for want prefixes: -1 when out of memory. */
static int index_rebuild(struct scopes *sc, uint32_t want)
{
	uint32_t cap = 64;
	int *index;

	while (cap < 2 * want + 2)
		cap *= 2;
	index = calloc(cap, sizeof(*index));
	if (!index)
		return -1;
	free(sc->index);
	sc->index = index;
	sc->index_cap = cap;
	for (int id = 1; id < sc->n; id++)
		if (sc->s[id].prefix.family)
			index_put(sc, id);
	return 0;
}

static int prefixes(const struct scopes *sc)
{
	return sc->count[0] + sc->count[1];
}

/* The scope of p, made in this process's memory (no runs yet); -1 when out of memory. */
static int new_scope(struct live *l, const struct prefix *p)
{
	struct scopes *sc = &l->scopes;
	int id;

	if ((uint32_t)prefixes(sc) + 1 > sc->index_cap / 2 &&
	    index_rebuild(sc, (uint32_t)prefixes(sc) + 1))
		return -1;
	if (sc->nfree) {
		id = sc->free_ids[--sc->nfree];
	} else {
		if (!sc->n)
			sc->n = 1; /* id 0: every address */
		if (sc->n >= sc->cap) {
			int cap = sc->cap ? 2 * sc->cap : 64;
			struct scope *s = realloc(sc->s, (size_t)cap * sizeof(*s));

			if (!s)
				return -1;
			memset(s + sc->cap, 0, (size_t)(cap - sc->cap) * sizeof(*s));
			if (!sc->cap)
				s[0] = (struct scope){};
			sc->s = s;
			sc->cap = cap;
		}
		id = sc->n++;
	}
	sc->s[id] = (struct scope){ .prefix = *p };
	sc->count[family_index(p->family)]++;
	index_put(sc, id);
	return id;
}

/* Frees scope id (no runs left); the index is made again by the caller. */
static int drop_scope(struct scopes *sc, int id)
{
	int *f = sc->free_ids;

	if (!(sc->nfree % 64) && !(f = realloc(f, (size_t)(sc->nfree + 64) * sizeof(*f))))
		return -1;
	sc->free_ids = f;
	sc->count[family_index(sc->s[id].prefix.family)]--;
	free(sc->s[id].runs);
	sc->s[id] = (struct scope){};
	sc->free_ids[sc->nfree++] = id;
	return 0;
}

static void free_scopes(struct scopes *sc)
{
	for (int id = 1; id < sc->n; id++)
		free(sc->s[id].runs);
	free(sc->s);
	free(sc->free_ids);
	free(sc->index);
	*sc = (struct scopes){ .table0 = sc->table0, .fd0 = sc->fd0 };
}

/* The bindings read from the pins, into scopes and their runs (no mark changes). */
static int take_bindings(struct live *l, const struct binding *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct prefix p = { .family = b[i].family, .len = b[i].len };
		uint32_t base = port_key(b[i].proto, 0);
		struct scope *s;
		int id;

		memcpy(p.addr, b[i].addr, sizeof(p.addr));
		id = scope_find(l, &p);
		if (id < 0 && (id = new_scope(l, &p)) < 0)
			return -1;
		s = &l->scopes.s[id];
		if (runs_reserve(s, 2))
			return -1;
		runs_set(s, base + b[i].lo, base + b[i].hi, b[i].route);
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
		snprintf(err, errlen, "out of memory reading the %zu bindings in %s", n,
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
	if (layout_from(&l->layout))
		return 0; /* no prefixes before layout 4 */
	ret = open_table0(l);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read the pinned scope table %s/%s: %s", l->pins.dir,
			 TABLE0, strerror(errno));
		return -1;
	}
	if (!ret && l->pins.mode != PINS_READ && !l->dry && relist_table0(l)) {
		snprintf(err, errlen, "cannot give the lookup program scope table 0: %s",
			 strerror(errno));
		return -1;
	}
	return read_bindings(l, err, errlen);
}

void scopes_refresh(struct live *l)
{
	char ignored[8];

	free_scopes(&l->scopes);
	store_close(l);
	read_bindings(l, ignored, sizeof(ignored));
}

void scopes_close(struct live *l)
{
	free_scopes(&l->scopes);
	close_table0(l);
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

	if (l->dry) { /* a dry apply's: in memory, and the map's entry counted */
		l->scopes.table0 = calloc(TABLE_BYTES, 1);
		if (!l->scopes.table0)
			snprintf(err, errlen, "out of memory");
		return l->scopes.table0 ? live_update(l, MAP_SCOPES, &key, &key) : -1;
	}
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
	l->scopes.table0 = t;
	l->scopes.fd0 = fd;
	/* pinned first: a run cut short leaves a pin the next one finds, never a lost map */
	unlinkat(l->pins.dir_fd, TABLE0, 0);
	if (bpf_obj_pin(fd, pin_path(&l->pins, TABLE0, path, sizeof(path))) ||
	    live_update(l, MAP_SCOPES, &key, &fd)) {
		snprintf(err, errlen, "cannot pin the scope table %s: %s", path, strerror(errno));
		unlinkat(l->pins.dir_fd, TABLE0, 0);
		close_table0(l);
		return -1;
	}
	pin_restrict(&l->pins, TABLE0);
	return 0;
}

/* As --list shows prefixes (prefix_cmp()): longest first, stable among equal lengths. */
static int cmp_specific(const void *pa, const void *pb, void *arg)
{
	const struct scope *s = arg;

	return prefix_cmp(&s[*(const int *)pa].prefix, &s[*(const int *)pb].prefix);
}

int *scopes_in_order(const struct live *l, int *n)
{
	int *order = malloc(((size_t)prefixes(&l->scopes) + 1) * sizeof(*order));

	*n = 0;
	for (int s = 1; order && s < l->scopes.n; s++)
		if (l->scopes.s[s].prefix.family)
			order[(*n)++] = s;
	if (order)
		qsort_r(order, (size_t)*n, sizeof(*order), cmp_specific, l->scopes.s);
	return order;
}

int scopes_room(const struct live *l, int family)
{
	return SCOPED_PREFIXES - l->scopes.count[family_index(family)];
}

int scope_find(const struct live *l, const struct prefix *p)
{
	const struct scopes *sc = &l->scopes;
	uint32_t mask, i;

	if (!p || !p->family)
		return 0;
	if (!sc->index_cap)
		return -1;
	mask = sc->index_cap - 1;
	for (i = prefix_hash(p) & mask; sc->index[i]; i = (i + 1) & mask)
		if (prefix_equal(&sc->s[sc->index[i]].prefix, p))
			return sc->index[i];
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
	if (scopes_room(l, p->family) <= 0) {
		snprintf(err, errlen,
			 "dst %s: at most %d destination prefixes per address family can bind "
			 "ports: remove one first (the status lists them)",
			 name, SCOPED_PREFIXES);
		return -1;
	}
	if (!l->scopes.table0 && make_table0(l, err, errlen))
		return -1;
	ret = new_scope(l, p);
	if (ret < 0)
		snprintf(err, errlen, "dst %s: out of memory", name);
	return ret;
}

uint32_t scope_same_route(const struct live *l, int scope, uint32_t key, uint32_t hi)
{
	const struct scope *s;
	uint32_t i;

	if (scope <= 0 || scope >= l->scopes.n)
		return key;
	s = &l->scopes.s[scope];
	i = scope_run_at(s, key);
	if (i < s->n && s->runs[i].lo <= key) /* in run i */
		return s->runs[i].hi < hi ? s->runs[i].hi : hi;
	/* in the gap before run i */
	return i < s->n && s->runs[i].lo - 1 < hi ? s->runs[i].lo - 1 : hi;
}

/* Key's unscoped route moved to scope table 0, then the mark that sends lookups there. */
static void mark(struct live *l, uint32_t key)
{
	volatile uint8_t *main = port_byte(l, key);

	if (route_is_mark(l, *main))
		return;
	l->updates.keys += 2;
	l->scopes.table0[key] = *main;
	/* the unscoped route is in place before the mark that sends lookups to it */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*main = SKSTEER_SCOPED;
}

int scope_set_routes(struct live *l, int scope, uint32_t lo, uint32_t hi, uint8_t route)
{
	struct scopes *sc = &l->scopes;
	struct scope *s;

	if (!scope) {
		for (uint32_t key = lo; key <= hi; key++) {
			volatile uint8_t *main = port_byte(l, key);
			volatile uint8_t *b = route_is_mark(l, *main) ? &sc->table0[key] : main;

			if (*b != route) {
				*b = route;
				l->updates.keys++;
			}
		}
		return 0;
	}
	s = &sc->s[scope];
	/* the pieces' room first: a failure changes nothing */
	if (runs_reserve(s, 2)) {
		errno = ENOMEM;
		return -1;
	}
	runs_set(s, lo, hi, route);
	sc->dirty = true;
	return 0;
}

/* Takes scope table 0 out of the program's map, unpins and closes it. */
static void drop_table0(struct live *l)
{
	uint32_t key = 0;

	live_delete(l, MAP_SCOPES, &key);
	if (!l->dry)
		unlinkat(l->pins.dir_fd, TABLE0, 0);
	close_table0(l);
}

/*
 * The marks in step with the prefixes' runs: a key some prefix binds is
 * marked, its unscoped route moved to scope table 0 first (before the runs
 * are written: until then its lookups find no new binding and take that
 * route, as before); with unmark, a mark no prefix needs any more gets its
 * route back (scope table 0 keeps it: a lookup that read the mark just before
 * may read it still; scopes_gc() drops the table only after a grace period,
 * and marking rewrites it first). This also repairs what a run cut short
 * between two stores left. -1 when out of memory.
 */
static int sync_marks(struct live *l, bool unmark)
{
	uint8_t *bound;

	if (!l->scopes.table0)
		return 0;
	bound = bound_keys(&l->scopes);
	if (!bound)
		return -1;
	for (uint32_t key = 0; key < SKSTEER_PORT_KEYS; key++) {
		if (bound[key])
			mark(l, key);
		else if (unmark && route_is_mark(l, *port_byte(l, key))) {
			*port_byte(l, key) = l->scopes.table0[key];
			l->updates.keys++;
		}
	}
	free(bound);
	return 0;
}

/* Each scope's runs as bindings, split by protocol: *n of them, malloc'd. */
static struct binding *scope_bindings(const struct live *l, size_t *n)
{
	const struct scopes *sc = &l->scopes;
	size_t cap = 1;
	struct binding *b;

	for (int id = 1; id < sc->n; id++)
		cap += 2 * sc->s[id].n;
	b = malloc(cap * sizeof(*b));
	*n = 0;
	for (int id = 1; b && id < sc->n; id++) {
		const struct scope *s = &sc->s[id];
		struct binding x = { .family = s->prefix.family, .len = s->prefix.len };

		memcpy(x.addr, s->prefix.addr, sizeof(x.addr));
		for (uint32_t i = 0; i < s->n; i++) {
			for (uint32_t lo = s->runs[i].lo, hi; lo <= s->runs[i].hi; lo = hi + 1) {
				hi = lo < 65536 && s->runs[i].hi >= 65536 ? 65535 : s->runs[i].hi;
				if (!(lo & 0xffff) && lo == hi)
					continue; /* port 0 binds nothing */
				x.proto = lo < 65536 ? IPPROTO_TCP : IPPROTO_UDP;
				x.lo = (uint16_t)(lo & 0xffff) ? (uint16_t)lo : 1;
				x.hi = (uint16_t)hi;
				x.route = s->runs[i].route;
				b[(*n)++] = x;
			}
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
	b = sync_marks(l, false) ? NULL : scope_bindings(l, &n);
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
	struct scopes *sc = &l->scopes;
	bool dropped = false;
	int ret;

	if ((l->pins.mode == PINS_READ && !l->dry) || layout_from(&l->layout))
		return 0;
	/* what a migration cut short left of layout 4-5's maps (the migration's own: program.c) */
	if (!l->dry && layout_pinned(&l->layout) == SKSTEER_LAYOUT && !layout_migrated(&l->layout))
		store_drop_legacy(l);
	if (sync_marks(l, true)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int id = 1; id < sc->n; id++) {
		if (!sc->s[id].prefix.family || sc->s[id].n)
			continue;
		if (drop_scope(sc, id)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		dropped = true;
		sc->dirty = true;
	}
	if (dropped && index_rebuild(sc, (uint32_t)prefixes(sc))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = scopes_write(l, err, errlen);
	/* with the last mark gone, a lookup that read it may still read table 0 */
	if (!ret && !prefixes(sc) && sc->table0) {
		if (!l->dry)
			grace_period();
		drop_table0(l);
	}
	return ret;
}
