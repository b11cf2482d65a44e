/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the follower (src/bpf/follow.bpf.c) and the loader (src/lib/follow.c) agree on:
 * the follow flags a target has in target_flags, and the follower's own maps.
 */
#ifndef __SKSTEER_FOLLOW_MAPS_H
#define __SKSTEER_FOLLOW_MAPS_H

/*
 * Bits of target_flags (next to SKSTEER_FAIL_CLOSED; the lookup program passes
 * only SKSTEER_ASSIGN_FLAGS to bpf_sk_assign()). SKSTEER_FOLLOW: a new socket
 * listening at the target's address takes its slot, and alone gets the
 * connections (BPF_SK_LOOKUP_F_NO_REUSEPORT); with SKSTEER_FOLLOW_GROUP they
 * are spread over its SO_REUSEPORT group.
 */
#define SKSTEER_FOLLOW (1U << 9)
#define SKSTEER_FOLLOW_GROUP (1U << 10)

/* follow_addrs: the address of a following target (struct sksteer_target) -> this */
struct sksteer_follow {
	__u32 slot;
	__u32 uid; /* the uid a socket must have to take over: the one it replaces */
	__u64 cgroup; /* 0: any process; else the cgroup (its inode) whose follower takes over */
	__u64 taken_cookie; /* the socket last taken, so that other instances do not count it */
	char cgroup_path[128]; /* as given, for --list and --save */
};

/* follow_stats: per slot */
struct sksteer_follow_stats {
	__u64 followed; /* takeovers */
	__u64 refused_uid; /* a socket of another uid listened at the address */
	__u64 refused_cgroup; /* a socket from outside the target's cgroup */
	__u64 errors; /* the sockmap update failed */
	__u64 last_ns; /* CLOCK_MONOTONIC of the last takeover */
	__u32 last_refused_uid;
	__u32 pad;
};

/*
 * Verdicts of the follower's events in the ring buffer (after enum
 * sksteer_verdict), written while a tracer runs: a takeover, and one refused.
 * local_ip/local_port are the new socket's address, remote_ip[0] its uid.
 */
#define SKSTEER_TAKEOVER 7
#define SKSTEER_TAKEOVER_REFUSED 8

#endif /* __SKSTEER_FOLLOW_MAPS_H */
