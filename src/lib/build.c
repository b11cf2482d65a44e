// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The records of which build's programs the pins run; see build.h. */
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "build.h"
#include "records.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* FNV-1a: nothing to fear from two builds' objects, and no library to link */
static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

uint64_t build_id(const void *obj, size_t len)
{
	uint64_t h = fnv(FNV_OFFSET, obj, len);

	/* the object's programs and map definitions, as this libbpf relocates and loads them */
	h = (h ^ libbpf_major_version()) * FNV_PRIME;
	return (h ^ libbpf_minor_version()) * FNV_PRIME;
}

uint64_t build_once(uint64_t *cache, const void *(*elf_bytes)(size_t *len))
{
	uint64_t v = __atomic_load_n(cache, __ATOMIC_RELAXED);
	const void *obj;
	size_t len;

	if (!v) {
		obj = elf_bytes(&len);
		v = build_id(obj, len);
		__atomic_store_n(cache, v, __ATOMIC_RELAXED);
	}
	return v;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

void build_start(struct build_record *r, uint64_t id, const int *fds, int n)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	for (int i = 0; i < n && i < BUILD_MAPS; i++)
		r->map_ids[r->nmaps++] = map_id(fds[i]);
}

/*
 * The program that the link pinned as name runs, and for a cgroup link, its
 * cgroup; 0 for none, and for a cgroup link whose cgroup is gone (it runs on
 * nothing).
 */
static uint32_t link_prog(const struct pins *p, const char *name, uint64_t *cgroup_id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd = bpf_obj_get(pin_path(p, name, path, sizeof(path)));

	*cgroup_id = 0;
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.prog_id = 0;
	else if (info.type == BPF_LINK_TYPE_CGROUP)
		*cgroup_id = info.cgroup.cgroup_id;
	if (info.type == BPF_LINK_TYPE_CGROUP && !*cgroup_id)
		info.prog_id = 0;
	close(fd);
	return info.prog_id;
}

int build_read(const struct pins *p, const char *name, struct build_record *had)
{
	return pin_record_read(p, name, had, sizeof(*had));
}

bool build_same(const struct build_record *now, const struct build_record *had)
{
	return had->id == now->id && had->nmaps == now->nmaps &&
	       !memcmp(had->map_ids, now->map_ids, sizeof(now->map_ids));
}

bool build_link_current(const struct pins *p, const struct build_record *had, const char *link,
			uint64_t instance)
{
	uint64_t cgroup;
	uint32_t prog = link_prog(p, link, &cgroup);

	for (uint32_t i = 0; prog && i < had->nlinks && i < BUILD_LINKS; i++)
		if (had->links[i].prog_id == prog && had->links[i].instance == instance &&
		    had->links[i].cgroup_id == cgroup)
			return true;
	return false;
}

bool build_runs(const struct pins *p, const char *name, uint64_t id, const char *link,
		uint64_t instance)
{
	struct build_record had;

	return p && p->dir_fd >= 0 && !build_read(p, name, &had) && had.id == id &&
	       build_link_current(p, &had, link, instance);
}

void build_note(const struct pins *p, struct build_record *r, const char *link, uint64_t instance)
{
	struct build_link *k = &r->links[r->nlinks];

	if (r->nlinks >= BUILD_LINKS)
		return;
	k->instance = instance;
	k->prog_id = link_prog(p, link, &k->cgroup_id);
	r->nlinks += k->prog_id != 0;
}

void build_write(const struct pins *p, const char *name, const struct build_record *r)
{
	pin_record_write(p, name, r, sizeof(*r));
}
