/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The cgroup v2 hierarchy: where it is mounted, found from mountinfo (never a
 * fixed path: /sys/fs/cgroup on most hosts, /sys/fs/cgroup/unified on hybrid
 * ones, and hidden under `ip netns exec`, which remounts /sys).
 */
#ifndef __SKSTEER_CGROUP_H
#define __SKSTEER_CGROUP_H

#include <stddef.h>

/*
 * Opens the root of the cgroup v2 hierarchy (the root this process can see:
 * a container's own, under a cgroup namespace). Returns a directory fd and
 * its path in path; -1 with errno ENOENT when cgroup v2 is not mounted.
 */
int cgroup_root_open(char *path, size_t len);

#endif /* __SKSTEER_CGROUP_H */
