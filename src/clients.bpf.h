/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The udp_clients map, as both BPF objects declare it: clients.bpf.c keeps it
 * (reusing the pinned one), sksteer.bpf.c reads it for UDP ports in the
 * ephemeral range. Port (host order) -> 1 while another program's UDP client
 * socket holds it. Allocated per entry: it costs nothing until clients send.
 */
#ifndef __SKSTEER_CLIENTS_BPF_H
#define __SKSTEER_CLIENTS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} udp_clients SEC(".maps");

#endif /* __SKSTEER_CLIENTS_BPF_H */
