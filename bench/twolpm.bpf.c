// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The production peer's design, written here from its description (Cloudflare's
 * tubular: bindings of protocol, destination prefix and port to a destination,
 * most specific wins): an LPM trie keyed by (protocol, port, address) is looked
 * up twice per lookup, with the port and with the wildcard port 0, the more
 * specific answer wins, a per-CPU counter is bumped, and the destination's
 * socket is assigned. The baseline `make bench` measures sksteer against; never
 * used by the tool.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct binding_key {
	__u32 prefixlen; /* over what follows: 8 (protocol) + 16 (port) + 128 (address) */
	__u8 protocol;
	__u16 port;
	__u32 addr[4]; /* IPv4 mapped into IPv6 */
} __attribute__((packed));

struct binding {
	__u32 id; /* the destination: its socket and counters */
	__u32 prefixlen;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1000000);
	__type(key, struct binding_key);
	__type(value, struct binding);
} twolpm_bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} twolpm_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} twolpm_lookups SEC(".maps");

SEC("sk_lookup")
int twolpm(struct bpf_sk_lookup *ctx)
{
	struct binding_key key = {
		.prefixlen = 8 + 16 + 128,
		.protocol = (__u8)ctx->protocol,
		.port = (__u16)ctx->local_port,
	};
	const struct binding *b, *wild;
	__u32 ip4, ip6[4];
	struct bpf_sock *sk;
	__u64 *n;

	/* every field read unconditionally: the verifier refuses ctx reads through a moved pointer */
	ip4 = ctx->local_ip4;
	ip6[0] = ctx->local_ip6[0];
	ip6[1] = ctx->local_ip6[1];
	ip6[2] = ctx->local_ip6[2];
	ip6[3] = ctx->local_ip6[3];
	barrier_var(ip4);
	barrier_var(ip6[0]);
	barrier_var(ip6[1]);
	barrier_var(ip6[2]);
	barrier_var(ip6[3]);
	if (ctx->family == 2 /* AF_INET */) {
		key.addr[2] = bpf_htonl(0x0000ffff);
		key.addr[3] = ip4;
	} else {
		key.addr[0] = ip6[0];
		key.addr[1] = ip6[1];
		key.addr[2] = ip6[2];
		key.addr[3] = ip6[3];
	}
	b = bpf_map_lookup_elem(&twolpm_bindings, &key);
	key.port = 0;
	wild = bpf_map_lookup_elem(&twolpm_bindings, &key);
	if (!b || (wild && wild->prefixlen > b->prefixlen))
		b = wild;
	if (!b)
		return SK_PASS;
	n = bpf_map_lookup_elem(&twolpm_lookups, &b->id);
	if (!n)
		return SK_DROP;
	(*n)++;
	sk = bpf_map_lookup_elem(&twolpm_sockets, &b->id);
	if (!sk)
		return SK_PASS;
	bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
