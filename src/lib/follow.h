/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Following a target's address (--follow): the sock_ops follower
 * (src/follow.bpf.c) loaded, attached to the cgroup v2 hierarchy and pinned in
 * the namespace's pin directory ("follow", "follow-CGROUP" links; the
 * "follow_addrs" and "follow_stats" maps), kept in step with the targets that
 * follow, each target's standby (a sibling at its address, in the "standby"
 * sockmap the lookup program reads while the target's socket is gone), and
 * what --list, --save and the configuration files show of it.
 * Pins without these (older sksteer) work as they are; they are made when a
 * target first follows, and removed when none does any more, or by --detach.
 */
#ifndef __SKSTEER_FOLLOW_H
#define __SKSTEER_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "steer.h"
#include "follow_abi.h"

enum { FOLLOW_KEEP, FOLLOW_ON, FOLLOW_GROUP, FOLLOW_OFF };

/*
 * Whether target t can follow on this host (TCP, cgroup v2, sock_ops, the
 * cgroup exists), before anything changes. mode FOLLOW_*. Where the pins p
 * (may be NULL) run this build's follower, the kernel is not asked to load it
 * again. 0, or -1 with err.
 */
int follow_check(const struct pins *p, const struct sksteer_target *t, int mode, const char *cgroup,
		 char *err, size_t errlen);

/*
 * Sets target t's following (mode FOLLOW_ON, FOLLOW_GROUP or FOLLOW_OFF; t NULL
 * or FOLLOW_KEEP: none), then brings the follower in step with every target:
 * loaded, attached and pinned while a target follows, its maps current (the
 * uid a socket needs), swapped for this build's, and removed when none
 * follows. 0, or -1 with err.
 */
int follow_update(struct live *l, const struct sksteer_target *t, int mode, const char *cgroup,
		  char *err, size_t errlen);

/* The two halves of follow_update(): target t's flags (and cgroup), then the follower. */
int follow_set(struct live *l, const struct sksteer_target *t, int mode, const char *cgroup,
	       char *err, size_t errlen);
int follow_sync(struct live *l, char *err, size_t errlen);

/* The follower's ring buffer, for --trace to read too: a new fd, or -1 when none is pinned. */
int follow_events_fd(const struct live *l);

struct follow_info {
	int mode; /* FOLLOW_ON, FOLLOW_GROUP, or FOLLOW_OFF */
	char cgroup[128]; /* "" for any */
	uint32_t uid;
	struct sksteer_follow_stats stats;
	bool attached; /* the follower's link is pinned and attached */
	uint64_t standby; /* the cookie of the sibling in the standby sockmap, 0 if none */
	bool standby_serves; /* the target's socket is gone: the standby gets the connections */
};

/* What target slot follows, read from the pins (read-only is enough). */
void follow_info(const struct live *l, int slot, struct follow_info *out);

#endif /* __SKSTEER_FOLLOW_H */
