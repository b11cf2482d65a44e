// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pinned record of the last apply; see applied.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "applied.h"

/* Only a one-element array of the record's size is ours: older or foreign pins are ignored. */
static int open_record(const struct pins *p)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = pins_obj_fd(p, APPLIED_PIN);

	if (fd >= 0 && (bpf_obj_get_info_by_fd(fd, &info, &len) ||
			info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(uint32_t) ||
			info.value_size != sizeof(struct apply_record) || info.max_entries != 1)) {
		close(fd);
		return -1;
	}
	return fd < 0 ? -1 : fd;
}

/* A new record, pinned once whole, where none of this size is */
static void create(const struct pins *p, const struct apply_record *r)
{
	char path[PATH_MAX];
	int fd;

	unlinkat(p->dir_fd, APPLIED_PIN, 0);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sksteer_applied", sizeof(uint32_t), sizeof(*r), 1,
			    NULL);
	if (fd < 0)
		return;
	if (!bpf_map_update_elem(fd, &(uint32_t){ 0 }, r, BPF_ANY) &&
	    !bpf_obj_pin(fd, pin_path(p, APPLIED_PIN, path, sizeof(path))))
		pin_restrict(p, APPLIED_PIN);
	close(fd);
}

void applied_note(const struct pins *p, int result, const char *error)
{
	struct apply_record r = {};
	struct timespec now;
	struct stat st;
	int fd;

	/*
	 * No link pinned: nothing steers here (a first apply that failed), nothing
	 * to tell of. A stop (a signal) is no failure of what was asked.
	 */
	if (p->mode == PINS_READ || p->dir_fd < 0 || fstatat(p->dir_fd, "link", &st, 0) ||
	    result == -EINTR)
		return;
	fd = open_record(p);
	if (fd >= 0 && bpf_map_lookup_elem(fd, &(uint32_t){ 0 }, &r))
		memset(&r, 0, sizeof(r));
	clock_gettime(CLOCK_REALTIME, &now);
	r.at_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	r.result = result;
	r.seq++;
	if (result) {
		r.failed++;
		snprintf(r.error, sizeof(r.error), "%s",
			 error && *error ? error : strerror(-result));
	} else {
		r.applied++;
		r.ok_at_ns = r.at_ns;
		r.error[0] = '\0';
	}
	if (fd < 0 || bpf_map_update_elem(fd, &(uint32_t){ 0 }, &r, BPF_ANY))
		create(p, &r);
	if (fd >= 0)
		close(fd);
}

int applied_read(const struct pins *p, struct apply_record *r)
{
	struct apply_record again = {};
	int fd = open_record(p), ret = -1;

	if (fd < 0)
		return -1;
	/* a copy taken while a writer writes may be torn: two copies alike are whole */
	for (int i = 0; i < 8 && ret; i++)
		if (!bpf_map_lookup_elem(fd, &(uint32_t){ 0 }, r) &&
		    !bpf_map_lookup_elem(fd, &(uint32_t){ 0 }, &again) &&
		    !memcmp(r, &again, sizeof(again)))
			ret = 0;
	r->error[sizeof(r->error) - 1] = '\0';
	close(fd);
	return ret;
}
