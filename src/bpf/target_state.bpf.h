/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A target's state that both sksteer.bpf.c (which steers by it) and
 * follow.bpf.c (which changes it when a proxy restarts) declare, reused from
 * the pins: its flags, and the sibling socket that serves while its own is gone.
 */
#ifndef __SKSTEER_TARGET_STATE_BPF_H
#define __SKSTEER_TARGET_STATE_BPF_H

/* slot -> SKSTEER_* target flags, read only once the port is known to be steered */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} target_flags SEC(".maps");

/*
 * slot -> a sibling of a following target's socket, at its address (put there
 * by follow.bpf.c, the first entitled one to listen): steered to while the
 * target's own socket is gone. Read only on that path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} standby SEC(".maps");

#endif /* __SKSTEER_TARGET_STATE_BPF_H */
