/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Where pins live: the bpffs a run uses (bpffs.c). */
#ifndef __SKSTEER_BPFFS_H
#define __SKSTEER_BPFFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Where pins go: a bpffs that outlives this process. /sys/fs/bpf is used when
 * it is one, and is made one when a run must pin and it is not (mount set); a
 * mount in this mount namespace lasts as long as the namespace (the host's, or
 * a container's). Under `ip netns exec` our mount namespace ends with this run,
 * so pins go to the bpffs of the namespace ip was started from, reached
 * through an ancestor's root (in buf). Returns the path, NULL with err set, or
 * NULL with err empty when there is no bpffs and mount is not set.
 */
const char *bpffs_root(bool mount, char *buf, size_t len, char *err, size_t errlen);

/*
 * Under `ip netns exec`, which runs us in a mount namespace of our own that
 * ends with this run: the ancestor ip was run from, whose mounts (bpffs,
 * cgroup2) outlive us. 0 when not under `ip netns exec`, or it is not found.
 */
pid_t ip_netns_exec_outer(void);

#endif /* __SKSTEER_BPFFS_H */
