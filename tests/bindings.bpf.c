// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The bindings table's lookup (src/bpf/bindings.bpf.h) alone, for the
 * differential check (tests/bindings_check.c): each run records the route
 * the table gave, which the check compares with the model's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bindings.bpf.h"

__u32 chosen; /* the route of the last run */

SEC("sk_lookup")
int bindings_check(struct bpf_sk_lookup *ctx)
{
	__u32 udp = ctx->protocol == 17;

	if (ctx->family == 2 /* AF_INET */) {
		chosen = bindings_route4(ctx->local_ip4, ctx->local_port, udp);
	} else {
		__u64 a01 = (__u64)ctx->local_ip6[0] << 32 | ctx->local_ip6[1];
		__u64 a23 = (__u64)ctx->local_ip6[2] << 32 | ctx->local_ip6[3];

		chosen = bindings_route6(a01, a23, ctx->local_port, udp);
	}
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
