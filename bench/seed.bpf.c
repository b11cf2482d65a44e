// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The seed's design, literally: a u16-keyed hash of ports and a one-entry
 * sockmap. The baseline that sksteer's program is measured against; never
 * used by the tool.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seed_socket SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65535);
	__type(key, __u16);
	__type(value, __u8);
} seed_ports SEC(".maps");

SEC("sk_lookup")
int seed(struct bpf_sk_lookup *ctx)
{
	__u16 port = ctx->local_port;
	struct bpf_sock *sk;
	__u32 zero = 0;

	if (!bpf_map_lookup_elem(&seed_ports, &port))
		return SK_PASS;
	sk = bpf_map_lookup_elem(&seed_socket, &zero);
	if (!sk)
		return SK_PASS;
	bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
