/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The targets sockmap, slot -> target socket, as both BPF objects declare it:
 * sksteer.bpf.c steers to it, find.bpf.c puts sockets into it (reusing the
 * pinned one). The kernel drops an entry when its socket closes.
 */
#ifndef __SKSTEER_TARGETS_BPF_H
#define __SKSTEER_TARGETS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} targets SEC(".maps");

#endif /* __SKSTEER_TARGETS_BPF_H */
