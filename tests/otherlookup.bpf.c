// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Another program's sk_lookup hook, for tests: assigns its own socket for one port. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} port SEC(".maps");

SEC("sk_lookup")
int otherlookup(struct bpf_sk_lookup *ctx)
{
	__u32 zero = 0, *p = bpf_map_lookup_elem(&port, &zero);
	struct bpf_sock *sk;

	if (!p || ctx->local_port != *p)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&sock, &zero);
	if (!sk)
		return SK_PASS;
	bpf_sk_assign(ctx, sk, 0); /* fails (EEXIST) where an earlier program chose */
	bpf_sk_release(sk);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
