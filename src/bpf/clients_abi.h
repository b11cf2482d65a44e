/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the UDP client watcher (clients.bpf.c) keeps and the lookup program
 * (sksteer.bpf.c) reads for UDP ports in the ephemeral range:
 *   - udp_clients: per port, whether a client socket holds it (a 4-bit count,
 *     sixteen ports to an element, port P in bits 4 * (P % 16) of element
 *     P / 16). 32 KB; an array, so that the lookup reads it with an inlined
 *     access, and only the ports it marks cost more;
 *   - the table of awaited replies (struct sksteer_awaited): which socket
 *     holds a marked port, and the peers it sent to. The watcher makes it;
 *     the lookup reaches it through slot 0 of the udp_replies array of maps,
 *     so that a namespace without a watcher pins no table at all.
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

/*
 * Entries are made as sockets send: no memory for the ones that never do.
 * Sizes, not types: an inner map's key type reaches no BTF of its own.
 */
struct awaited_table {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SKSTEER_UDP_AWAITED);
	__uint(key_size, sizeof(struct sksteer_awaited));
	__uint(value_size, sizeof(__u64));
};

#endif /* __SKSTEER_CLIENTS_BPF_H */
