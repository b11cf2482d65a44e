// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sksteer's lookup path with the scoped part on the bindings table
 * (src/bpf/bindings.bpf.h): the packed port table, whose SKSTEER_SCOPED mark
 * sends a key to the table's search, else to its unscoped route; the routes,
 * the per-slot per-CPU counters, the sockmap and bpf_sk_assign, as
 * sksteer.bpf.c does them. What bench/scale.c measures against the two-LPM
 * dispatcher holding the same bindings; never used by the tool.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sksteer_abi.h"
#include "bindings.bpf.h"

struct port_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SKSTEER_PORT_ELEMS);
	__type(key, __u32);
	__type(value, __u64);
};

struct port_table ports SEC(".maps");
struct port_table unscoped SEC(".maps"); /* the unscoped routes of marked keys */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SKSTEER_ROUTES);
	__type(key, __u32);
	__type(value, struct sksteer_route);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, struct sksteer_stats);
} stats SEC(".maps");

#include "targets.bpf.h"

static __always_inline __u32 port_route(void *table, __u32 key)
{
	__u32 elem = key / SKSTEER_KEYS_PER_ELEM;
	__u8 *bytes = bpf_map_lookup_elem(table, &elem);

	return bytes ? bytes[key % SKSTEER_KEYS_PER_ELEM] : 0;
}

SEC("sk_lookup")
int scaled(struct bpf_sk_lookup *ctx)
{
	__u32 port = ctx->local_port, udp = ctx->protocol == 17;
	__u32 key = port | SKSTEER_PROTO_BIT(ctx->protocol), r, slot = 0;
	struct sksteer_route *route;
	struct sksteer_stats *st;
	struct bpf_sock *sk;

	r = port_route(&ports, key);
	if (r == SKSTEER_SCOPED) {
		if (ctx->family == 2 /* AF_INET */) {
			r = bindings_route4(ctx->local_ip4, port, udp);
		} else {
			__u64 a01 = (__u64)ctx->local_ip6[0] << 32 | ctx->local_ip6[1];
			__u64 a23 = (__u64)ctx->local_ip6[2] << 32 | ctx->local_ip6[3];

			r = bindings_route6(a01, a23, port, udp);
		}
		if (!r)
			r = port_route(&unscoped, key);
	}
	if (r) {
		r = 2 * r + (ctx->family == 10 /* AF_INET6 */);
		route = bpf_map_lookup_elem(&routes, &r);
		if (route)
			slot = route->slot;
	}
	st = bpf_map_lookup_elem(&stats, &slot);
	if (!st)
		return SK_PASS;
	if (!slot) {
		st->passed++;
		return SK_PASS;
	}
	sk = bpf_map_lookup_elem(&targets, &slot);
	if (!sk) {
		st->no_target++;
		return SK_PASS;
	}
	if (bpf_sk_assign(ctx, sk, 0))
		st->err_other++;
	else
		st->steered++;
	bpf_sk_release(sk);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
