// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A bindings table into the maps the lookup reads: see bindings_maps.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include "bindings_maps.h"
#include "kernel.h"

/* An mmapable inner array of n values of size, holding data (NULL: zeros); its fd, or a negative errno. */
static int array_of(const char *name, size_t size, size_t n, const void *data)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	size_t bytes = size * n;
	void *mem;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, (__u32)size, (__u32)n, &opts);
	if (fd < 0)
		return -errno;
	if (!data)
		return fd;
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	memcpy(mem, data, bytes);
	munmap(mem, bytes);
	return fd;
}

static int fail(int ret, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot %s for the bindings table: %s", what, strerror(-ret));
	return ret;
}

size_t bindings_stage_stores(const struct bindings_table *t)
{
	return (size_t)t->meta.buckets + SKSTEER_PROBES + (t->ranges_room ? t->ranges_room : 1) + 3;
}

size_t bindings_delta_stores(const struct bindings_delta *d, __u32 probes)
{
	if (!d->nprepare && !d->nsettle)
		return 0;
	return (d->probes > probes) + d->nprepare + 1 + d->nsettle;
}

int bindings_stage(const struct bindings_maps *m, const struct bindings_table *t, int *fds,
		   __u32 *half, size_t *updates, char *err, size_t errlen)
{
	__u32 fam = t->family == AF_INET6, at, nr = t->ranges_room ? t->ranges_room : 1;
	int table, ranges;

	if (bpf_map_lookup_elem(m->sel, &fam, half))
		return fail(-errno, "read the table in use", err, errlen);
	*half = !(*half & 1);
	at = 2 * fam + *half;
	grace_period();
	table = array_of(fam ? "sksteer_table6" : "sksteer_table4", t->bucket_size,
			 (size_t)t->meta.buckets + SKSTEER_PROBES, t->buckets);
	if (table < 0)
		return fail(table, "make an array", err, errlen);
	ranges = array_of("sksteer_ranges", sizeof(struct sksteer_range), nr,
			  t->ranges_room ? (const void *)t->ranges : NULL);
	if (ranges < 0) {
		close(table);
		return fail(ranges, "make an array", err, errlen);
	}
	if (bpf_map_update_elem(fam ? m->tables6 : m->tables4, half, &table, BPF_ANY) ||
	    bpf_map_update_elem(m->ranges, &at, &ranges, BPF_ANY) ||
	    bpf_map_update_elem(m->metas, &at, &t->meta, BPF_ANY)) {
		int ret = fail(-errno, "stage the table", err, errlen);

		close(table);
		close(ranges);
		return ret;
	}
	if (updates)
		*updates += bindings_stage_stores(t);
	fds[0] = table, fds[1] = ranges;
	return 0;
}

int bindings_switch(const struct bindings_maps *m, int family, __u32 half, char *err, size_t errlen)
{
	__u32 fam = family == AF_INET6;

	if (bpf_map_update_elem(m->sel, &fam, &half, BPF_ANY))
		return fail(-errno, "switch tables", err, errlen);
	return 0;
}

int bindings_publish(const struct bindings_maps *m, const struct bindings_table *t, size_t *updates,
		     char *err, size_t errlen)
{
	int fds[2] = { -1, -1 }, ret;
	__u32 half = 0;

	ret = bindings_stage(m, t, fds, &half, updates, err, errlen);
	if (!ret)
		ret = bindings_switch(m, t->family, half, err, errlen);
	if (!ret && updates)
		(*updates)++;
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}

/* A copy of array fd's values (value_size size, checked): *n of them, read in batches. */
static void *array_copy(int fd, size_t size, size_t *n, int *ret)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info), count = 0, out, *keys = NULL;
	uint8_t *copy = NULL;
	void *in = NULL;

	*n = 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*ret = -errno;
		return NULL;
	}
	if (info.value_size != size) { /* not a table this build knows */
		*ret = -EINVAL;
		return NULL;
	}
	keys = malloc((size_t)info.max_entries * sizeof(*keys));
	copy = malloc((size_t)info.max_entries * size);
	*ret = keys && copy ? 0 : -ENOMEM;
	while (!*ret && count < info.max_entries) {
		__u32 got = info.max_entries - count;

		if (bpf_map_lookup_batch(fd, in, &out, keys + count, copy + (size_t)count * size,
					 &got, NULL) &&
		    errno != ENOENT)
			*ret = -errno;
		count += got;
		in = &out;
		if (!got)
			break;
	}
	free(keys);
	if (!*ret && count != info.max_entries)
		*ret = -EIO;
	if (*ret) {
		free(copy);
		return NULL;
	}
	*n = count;
	return copy;
}

int bindings_copy_in(int table_fd, int ranges_fd, const struct sksteer_table_meta *meta, int family,
		     struct bindings_table *t, char *err, size_t errlen)
{
	size_t buckets = 0, ranges = 0;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->family = family;
	t->bucket_size = family == AF_INET6 ? sizeof(struct sksteer_bucket6) :
					      sizeof(struct sksteer_bucket4);
	t->meta = *meta;
	t->buckets = array_copy(table_fd, t->bucket_size, &buckets, &ret);
	if (!ret)
		t->ranges = array_copy(ranges_fd, sizeof(struct sksteer_range), &ranges, &ret);
	if (!ret && buckets != (size_t)meta->buckets + SKSTEER_PROBES)
		ret = -EINVAL;
	if (ret) {
		bindings_table_free(t);
		return fail(ret, "read the table", err, errlen);
	}
	/* the runs end at the last range in use: past it, room (lo 0 is no port) */
	t->ranges_room = (uint32_t)ranges;
	while (ranges && !t->ranges[ranges - 1].lo)
		ranges--;
	t->nranges = (uint32_t)ranges;
	return 0;
}

/* The inner array in slot `at` of outer, by id (CAP_SYS_ADMIN): its fd, or -errno. */
static int inner_fd(int outer, __u32 at)
{
	__u32 id = 0;
	int fd;

	if (bpf_map_lookup_elem(outer, &at, &id))
		return -errno;
	fd = bpf_map_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

int bindings_fetch(const struct bindings_maps *m, int family, struct bindings_table *t, char *err,
		   size_t errlen)
{
	__u32 fam = family == AF_INET6, half = 0, at;
	struct sksteer_table_meta meta;
	int table, ranges = -1, ret;

	memset(t, 0, sizeof(*t));
	t->family = family;
	t->bucket_size = fam ? sizeof(struct sksteer_bucket6) : sizeof(struct sksteer_bucket4);
	t->meta.root = SKSTEER_NO_LEN;
	if (bpf_map_lookup_elem(m->sel, &fam, &half))
		return fail(-errno, "read the table in use", err, errlen);
	at = 2 * fam + (half & 1);
	if (bpf_map_lookup_elem(m->metas, &at, &meta))
		return fail(-errno, "read the table's meta", err, errlen);
	table = inner_fd(fam ? m->tables6 : m->tables4, half & 1);
	if (table == -ENOENT)
		return 0; /* none yet: no bindings */
	if (table >= 0)
		ranges = inner_fd(m->ranges, at);
	ret = table < 0 ? table : ranges;
	if (ret >= 0)
		ret = bindings_copy_in(table, ranges, &meta, family, t, err, errlen);
	if (ret >= 0)
		t->gen = half >> 1 & 1;
	else
		fail(ret, "open the table", err, errlen);
	if (table >= 0)
		close(table);
	if (ranges >= 0)
		close(ranges);
	return ret < 0 ? ret : 0;
}

/* Array fd mapped writable: its address and *bytes; NULL on error (*ret). */
static void *map_array(int fd, size_t *bytes, int *ret)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	void *mem;

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*ret = -errno;
		return NULL;
	}
	*bytes = (size_t)info.value_size * info.max_entries;
	mem = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		*ret = -errno;
		return NULL;
	}
	return mem;
}

/* Whether every store of d lands inside arrays of these sizes (the ones d was made for). */
static bool stores_fit(const struct bindings_delta *d, size_t table_bytes, size_t ranges_bytes)
{
	const struct bindings_store *all[2] = { d->prepare, d->settle };
	size_t n[2] = { d->nprepare, d->nsettle };

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < n[k]; i++)
			if (all[k][i].offset + 8 >
			    (all[k][i].in_ranges ? ranges_bytes : table_bytes))
				return false;
	return true;
}

/*
 * The meta of the family's half in use with probes raised to `probes`: more
 * buckets read change no verdict (a probe stops at an empty entry), and no
 * lookup sees a byte of the meta but that field's change.
 */
static int raise_probes(const struct bindings_maps *m, __u32 fam, __u32 half, __u32 probes,
			size_t *updates)
{
	struct sksteer_table_meta meta;
	__u32 at = 2 * fam + half;

	if (bpf_map_lookup_elem(m->metas, &at, &meta))
		return -errno;
	if (meta.probes >= probes)
		return 0;
	meta.probes = probes;
	if (bpf_map_update_elem(m->metas, &at, &meta, BPF_ANY))
		return -errno;
	if (updates)
		(*updates)++;
	return 0;
}

int bindings_delta_make(const struct bindings_maps *m, int family, int table_fd, int ranges_fd,
			const struct bindings_delta *d, size_t *updates, char *err, size_t errlen)
{
	size_t table_bytes = 0, ranges_bytes = 0;
	__u32 fam = family == AF_INET6, sel = 0;
	void *table, *ranges = NULL;
	int ret = 0;

	if (!d->nprepare && !d->nsettle)
		return 0;
	if (bpf_map_lookup_elem(m->sel, &fam, &sel))
		return fail(-errno, "read the table in use", err, errlen);
	/* the table in use is not the one d was made from (another writer's): nothing written */
	if ((sel >> 1 & 1) == d->gen)
		return -ESTALE;
	table = map_array(table_fd, &table_bytes, &ret);
	if (table)
		ranges = map_array(ranges_fd, &ranges_bytes, &ret);
	if (!ranges) {
		if (table)
			munmap(table, table_bytes);
		return fail(ret, "map the table in use", err, errlen);
	}
	if (!stores_fit(d, table_bytes, ranges_bytes))
		ret = -ESTALE;
	else if ((ret = raise_probes(m, fam, sel & 1, d->probes, updates)))
		fail(ret, "raise the table's probes", err, errlen);
	if (!ret) {
		bindings_stores_apply(d->prepare, d->nprepare, table, ranges);
		/*
		 * Every lookup after this sees the new entries whole, before any can match
		 * them. Without a grace period the kernel waited for, none is switched to:
		 * the hidden entries stay hidden, and the caller swaps a whole table in.
		 */
		if (grace_period())
			ret = -EOPNOTSUPP;
	}
	if (ret) {
		munmap(table, table_bytes);
		munmap(ranges, ranges_bytes);
		return ret;
	}
	sel = (sel & 1) | d->gen << 1;
	if (bpf_map_update_elem(m->sel, &fam, &sel, BPF_ANY))
		ret = fail(-errno, "switch generations", err, errlen);
	/* no lookup of the old generation runs: its entries go, the new ones stop hiding */
	if (!ret) {
		grace_period();
		bindings_stores_apply(d->settle, d->nsettle, table, ranges);
		if (updates)
			*updates += d->nprepare + 1 + d->nsettle;
	}
	munmap(table, table_bytes);
	munmap(ranges, ranges_bytes);
	return ret;
}

/* b built into a new table and swapped in whole: live becomes it. */
static int swap_whole(const struct bindings_maps *m, struct bindings_table *live, struct binding *b,
		      size_t n, size_t *updates, char *err, size_t errlen)
{
	struct bindings_table t;
	int ret = bindings_build(b, n, live->family, 0, NULL, &t, err, errlen);

	if (!ret)
		ret = bindings_publish(m, &t, updates, err, errlen);
	if (ret) {
		bindings_table_free(&t);
		return ret;
	}
	bindings_table_free(live);
	*live = t;
	return 0;
}

int bindings_update(const struct bindings_maps *m, struct bindings_table *live, struct binding *b,
		    size_t n, size_t *updates, bool *in_place, char *err, size_t errlen)
{
	__u32 fam = live->family == AF_INET6, half = 0;
	struct bindings_delta d;
	int table = -1, ranges = -1, ret;

	*in_place = false;
	ret = bindings_delta(live, b, n, &d, err, errlen);
	if (ret == -EAGAIN)
		return swap_whole(m, live, b, n, updates, err, errlen);
	if (ret)
		return ret;
	if (bpf_map_lookup_elem(m->sel, &fam, &half))
		ret = -errno;
	half &= 1;
	if (!ret && (table = inner_fd(fam ? m->tables6 : m->tables4, half)) < 0)
		ret = table;
	if (!ret && (ranges = inner_fd(m->ranges, 2 * fam + half)) < 0)
		ret = ranges;
	if (ret)
		fail(ret, "open the table in use", err, errlen);
	else
		ret = bindings_delta_make(m, live->family, table, ranges, &d, updates, err, errlen);
	if (!ret) {
		*in_place = true;
		bindings_delta_commit(live, &d);
	} else if (ret == -ESTALE || ret == -EOPNOTSUPP) {
		ret = swap_whole(m, live, b, n, updates, err, errlen);
	}
	if (table >= 0)
		close(table);
	if (ranges >= 0)
		close(ranges);
	bindings_delta_free(&d);
	return ret;
}
