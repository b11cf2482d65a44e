// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Records pinned beside the maps (which build runs, the last apply); see records.h. */
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "records.h"

/* A pinned record: only a one-element array of a record's size is one of ours. */
static int record_open(const struct pins *p, const char *name, size_t size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = pins_obj_fd(p, name);

	if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &info, &len) ||
			info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(uint32_t) ||
			info.value_size != size || info.max_entries != 1)) {
		close(fd);
		return -1;
	}
	return fd < 0 ? -1 : fd;
}

int pin_record_read(const struct pins *p, const char *name, void *value, size_t size)
{
	int fd = record_open(p, name, size), ret;

	if (fd < 0)
		return -1;
	ret = bpf_map_lookup_elem(fd, &(uint32_t){ 0 }, value) ? -1 : 0;
	close(fd);
	return ret;
}

void pin_record_write(const struct pins *p, const char *name, const void *value, size_t size)
{
	char path[PATH_MAX];
	int fd = record_open(p, name, size);

	if (fd >= 0 && !bpf_map_update_elem(fd, &(uint32_t){ 0 }, value, BPF_ANY)) {
		close(fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	/* none yet, or another build's of another size: a new one, pinned once it is whole */
	unlinkat(p->dir_fd, name, 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sksteer_record", sizeof(uint32_t), (__u32)size, 1,
			    NULL);
	if (fd < 0)
		return;
	if (!bpf_map_update_elem(fd, &(uint32_t){ 0 }, value, BPF_ANY) &&
	    !bpf_obj_pin(fd, pin_path(p, name, path, sizeof(path))))
		pin_restrict(p, name);
	close(fd);
}
