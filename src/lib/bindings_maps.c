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

int bindings_publish(const struct bindings_maps *m, const struct bindings_table *t, size_t *updates,
		     char *err, size_t errlen)
{
	__u32 fam = t->family == AF_INET6, half = 0, at, nr = t->nranges ? t->nranges : 1;
	int table = -1, ranges = -1, ret = 0;

	if (bpf_map_lookup_elem(m->sel, &fam, &half))
		return fail(-errno, "read the table in use", err, errlen);
	half = !(half & 1);
	at = 2 * fam + half;
	grace_period();
	table = array_of(fam ? "sksteer_table6" : "sksteer_table4", t->bucket_size,
			 (size_t)t->meta.buckets + SKSTEER_PROBES, t->buckets);
	if (table < 0)
		return fail(table, "make an array", err, errlen);
	ranges = array_of("sksteer_ranges", sizeof(struct sksteer_range), nr,
			  t->nranges ? (const void *)t->ranges : NULL);
	if (ranges < 0) {
		ret = fail(ranges, "make an array", err, errlen);
		goto out;
	}
	if (bpf_map_update_elem(fam ? m->tables6 : m->tables4, &half, &table, BPF_ANY) ||
	    bpf_map_update_elem(m->ranges, &at, &ranges, BPF_ANY) ||
	    bpf_map_update_elem(m->metas, &at, &t->meta, BPF_ANY) ||
	    bpf_map_update_elem(m->sel, &fam, &half, BPF_ANY)) {
		ret = fail(-errno, "switch tables", err, errlen);
		goto out;
	}
	if (updates)
		*updates += (size_t)t->meta.buckets + SKSTEER_PROBES + nr + 4;
out:
	close(table);
	if (ranges >= 0)
		close(ranges);
	return ret;
}

/* A copy of the inner array in slot `at` of outer: *n values of size. */
static void *copy_of(int outer, __u32 at, size_t size, size_t *n, int *ret)
{
	struct bpf_map_info info = { 0 };
	__u32 id = 0, len = sizeof(info);
	void *mem, *copy = NULL;
	int fd;

	*n = 0;
	if (bpf_map_lookup_elem(outer, &at, &id)) {
		*ret = errno == ENOENT ? 0 : -errno; /* none yet: no bindings */
		return NULL;
	}
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*ret = -errno;
		goto out;
	}
	if (info.value_size != size) { /* not a table this build knows */
		*ret = -EINVAL;
		goto out;
	}
	mem = mmap(NULL, size * info.max_entries, PROT_READ, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		*ret = -errno;
		goto out;
	}
	copy = malloc(size * info.max_entries);
	if (copy) {
		memcpy(copy, mem, size * info.max_entries);
		*n = info.max_entries;
	}
	*ret = copy ? 0 : -ENOMEM;
	munmap(mem, size * info.max_entries);
out:
	if (fd >= 0)
		close(fd);
	return copy;
}

int bindings_fetch(const struct bindings_maps *m, int family, struct bindings_table *t, char *err,
		   size_t errlen)
{
	__u32 fam = family == AF_INET6, half = 0, at;
	size_t buckets = 0, ranges = 0;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	t->family = family;
	t->bucket_size = fam ? sizeof(struct sksteer_bucket6) : sizeof(struct sksteer_bucket4);
	if (bpf_map_lookup_elem(m->sel, &fam, &half))
		return fail(-errno, "read the table in use", err, errlen);
	half &= 1;
	at = 2 * fam + half;
	if (bpf_map_lookup_elem(m->metas, &at, &t->meta))
		return fail(-errno, "read the table's meta", err, errlen);
	t->buckets = copy_of(fam ? m->tables6 : m->tables4, half, t->bucket_size, &buckets, &ret);
	if (!ret)
		t->ranges = copy_of(m->ranges, at, sizeof(struct sksteer_range), &ranges, &ret);
	if (!ret && t->buckets && buckets != (size_t)t->meta.buckets + SKSTEER_PROBES)
		ret = -EINVAL;
	if (ret) {
		bindings_table_free(t);
		return fail(ret, "read the table", err, errlen);
	}
	t->nranges = (uint32_t)ranges;
	if (!t->buckets)
		memset(&t->meta, 0, sizeof(t->meta)), t->meta.root = SKSTEER_NO_LEN;
	return 0;
}

/* The inner array in slot `at` of outer, mapped writable: its address, *bytes; NULL on error. */
static void *map_inner(int outer, __u32 at, size_t *bytes, int *ret)
{
	struct bpf_map_info info = { 0 };
	__u32 id = 0, len = sizeof(info);
	void *mem = NULL;
	int fd = -1;

	if (bpf_map_lookup_elem(outer, &at, &id) || (fd = bpf_map_get_fd_by_id(id)) < 0 ||
	    bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*ret = -errno;
		goto out;
	}
	*bytes = (size_t)info.value_size * info.max_entries;
	mem = mmap(NULL, *bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		*ret = -errno;
		mem = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	return mem;
}

int bindings_update(const struct bindings_maps *m, const struct bindings_table *live,
		    const struct bindings_table *t, size_t *updates, bool *in_place, char *err,
		    size_t errlen)
{
	__u32 fam = t->family == AF_INET6, half = 0;
	size_t n = 0, table_bytes = 0, ranges_bytes = 0;
	struct bindings_store *stores;
	void *table = NULL, *ranges = NULL;
	int ret;

	*in_place = false;
	ret = bindings_table_patch(live, t, &stores, &n);
	if (ret == -EAGAIN)
		return bindings_publish(m, t, updates, err, errlen);
	if (ret)
		return fail(ret, "compare the tables", err, errlen);
	if (bpf_map_lookup_elem(m->sel, &fam, &half)) {
		ret = fail(-errno, "read the table in use", err, errlen);
		goto out;
	}
	half &= 1;
	table = map_inner(fam ? m->tables6 : m->tables4, half, &table_bytes, &ret);
	if (table)
		ranges = map_inner(m->ranges, 2 * fam + half, &ranges_bytes, &ret);
	if (!table || !ranges) {
		ret = fail(ret, "map the table in use", err, errlen);
		goto out;
	}
	bindings_stores_apply(stores, n, table, ranges);
	*in_place = true;
	if (updates)
		*updates += n;
out:
	if (table)
		munmap(table, table_bytes);
	if (ranges)
		munmap(ranges, ranges_bytes);
	free(stores);
	return ret;
}
