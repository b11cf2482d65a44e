/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The udp_clients map, as both BPF objects declare it: clients.bpf.c keeps it
 * (reusing the pinned one), sksteer.bpf.c reads it for UDP ports in the
 * ephemeral range. A 4-bit count per port (host order) of the client sockets
 * holding it, sixteen ports to an element: port P's count is bits
 * 4 * (P % 16) of element P / 16. 32 KB; an array, so that the lookup program
 * reads it with an inlined access, and mmapable, so that the loader can count
 * the clients that were there before the watcher.
 */
#ifndef __SKSTEER_CLIENTS_BPF_H
#define __SKSTEER_CLIENTS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 65536 / SKSTEER_CLIENTS_PER_ELEM);
	__type(key, __u32);
	__type(value, __u64);
} udp_clients SEC(".maps");

#endif /* __SKSTEER_CLIENTS_BPF_H */
