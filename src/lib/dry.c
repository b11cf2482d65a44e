// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A dry apply's map writes (l->dry, live.h): updates and deletes answered as the kernel
 * would, none made. The apply's other writes are skipped where they are made; apply.c runs it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "live.h"

int dry_update(struct live *l, int map, const void *key, const void *value)
{
	uint32_t slot;

	if (l->fds[map] < 0) {
		errno = EBADF;
		return -1;
	}
	memcpy(&slot, key, sizeof(slot));
	if (map == MAP_TARGET_FLAGS && slot < SKSTEER_SLOTS) {
		l->dry_flags.set[slot] = true;
		memcpy(&l->dry_flags.flags[slot], value, sizeof(uint32_t));
	}
	return 0;
}

int dry_delete(int fd, const void *key)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int ncpus = libbpf_num_possible_cpus(), ret;
	void *value;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	/* an array's entries are never deleted: the kernel says EINVAL, and nothing is counted */
	if (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		errno = EINVAL;
		return -1;
	}
	/* an entry that is there goes; one that is not fails, as the kernel's delete would */
	value = calloc(ncpus > 0 ? (size_t)ncpus : 1, ((size_t)info.value_size + 7) / 8 * 8 + 8);
	if (!value) {
		errno = ENOMEM;
		return -1;
	}
	ret = bpf_map_lookup_elem(fd, key, value);
	free(value);
	/* a sockmap's entry read as an fd (4-byte values) cannot be: it is there */
	return ret && errno != ENOSPC ? -1 : 0;
}
