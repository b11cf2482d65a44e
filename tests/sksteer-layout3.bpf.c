// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The lookup program of map layout 3 (sksteer before --dst, beacdbb), frozen
 * for tests/67-upgrade.t: tests/oldsteer.c pins steering with it, and the
 * current sksteer upgrades those pins while it runs. Its maps are the ones that
 * sksteer pinned, by name, type and size; so everything it used from the
 * headers, which later layouts change, is copied here. Left out: the tracing
 * instance and its ring buffer (never pinned). Not used by the tool. Built by
 * clang 14, its program has the tag of the one layout 3 ran (eda5a617737049e4).
 *
 * What makes it layout 3 for the upgrade: the port table holds routes only.
 * It knows no prefix mark (255 was "reserved"): a key marked for a prefix is a
 * route to no target here, so its connections are left to the kernel. The
 * current sksteer must swap its own program in before it marks any key.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define EEXIST 17
#define EPROTOTYPE 91
#define ESOCKTNOSUPPORT 94
#define EAFNOSUPPORT 97

#define SKSTEER_SLOTS 256
#define SKSTEER_PORT_KEYS (2 * 65536)
#define SKSTEER_PROTO_BIT(proto) (((proto)&0x10) << 12)
#define SKSTEER_KEYS_PER_ELEM 8
#define SKSTEER_PORT_ELEMS (SKSTEER_PORT_KEYS / SKSTEER_KEYS_PER_ELEM)
#define SKSTEER_ROUTES 256
#define SKSTEER_ASSIGN_FLAGS 2
#define SKSTEER_FAIL_CLOSED (1U << 8)
#define SKSTEER_FOLLOW (1U << 9)
#define SKSTEER_CLIENTS_SHIFT 16
#define SKSTEER_CLIENTS_FROM(flags) ((flags) >> SKSTEER_CLIENTS_SHIFT)
#define SKSTEER_CLIENTS_PER_ELEM 16
#define SKSTEER_CLIENTS_COUNT(elem, port) (((elem) >> ((port) % 16 * 4)) & 0xf)

struct sksteer_route {
	__u8 slot;
	__u8 owner[2];
	__u8 pad;
};

struct sksteer_stats {
	__u64 steered;
	__u64 passed;
	__u64 no_target;
	__u64 err_family;
	__u64 err_proto;
	__u64 err_state;
	__u64 err_other;
	__u64 events_lost;
};

struct sksteer_stats_ext {
	__u64 refused;
	__u64 preempted;
};

struct sksteer_target {
	__u8 proto;
	__u8 family;
	__u16 port;
	__u8 addr[16];
};

struct sksteer_target_info {
	__u32 uid;
	__u32 flags;
	__u64 ports[65536 / 64];
};

struct sksteer_tracer {
	__u32 pid;
	__u32 pad;
	__u64 start_time;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SKSTEER_PORT_ELEMS);
	__type(key, __u32);
	__type(value, __u64);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} layout SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 65536 / SKSTEER_CLIENTS_PER_ELEM);
	__type(key, __u32);
	__type(value, __u64);
} udp_clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, struct sksteer_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, struct sksteer_stats_ext);
} stats_ext SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SKSTEER_ROUTES);
	__type(key, __u32);
	__type(value, struct sksteer_route);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} target_flags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} standby SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, struct sksteer_target);
} target_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sksteer_tracer);
} tracer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, struct sksteer_target_info);
} target_info SEC(".maps");

static __always_inline void count_error(struct sksteer_stats *st, long err)
{
	switch (err) {
	case -EAFNOSUPPORT:
		st->err_family++;
		break;
	case -EPROTOTYPE:
		st->err_proto++;
		break;
	case -ESOCKTNOSUPPORT:
		st->err_state++;
		break;
	default:
		st->err_other++;
	}
}

static __always_inline bool clients_hold(__u32 port)
{
	__u32 elem = port / SKSTEER_CLIENTS_PER_ELEM;
	__u64 *counts = bpf_map_lookup_elem(&udp_clients, &elem);

	return counts && SKSTEER_CLIENTS_COUNT(*counts, port);
}

static __always_inline void count_ext(__u32 slot, bool refused)
{
	struct sksteer_stats_ext *ext = bpf_map_lookup_elem(&stats_ext, &slot);

	if (!ext)
		return;
	if (refused)
		ext->refused++;
	else
		ext->preempted++;
}

static __always_inline int refuse(struct bpf_sk_lookup *ctx, __u32 slot)
{
	bool preempted = ctx->sk;

	count_ext(slot, !preempted);
	return preempted ? SK_PASS : SK_DROP;
}

static __always_inline int steer(struct bpf_sk_lookup *ctx)
{
	__u32 port = ctx->local_port;
	__u32 key = port | SKSTEER_PROTO_BIT(ctx->protocol);
	__u32 elem = key / SKSTEER_KEYS_PER_ELEM;
	struct sksteer_route *route;
	struct sksteer_stats *st;
	struct bpf_sock *sk;
	__u32 slot = 0, flags = 0, r = 0, *f;
	__u8 *routes_of;
	long err;

	routes_of = bpf_map_lookup_elem(&ports, &elem);
	if (routes_of)
		r = routes_of[key % SKSTEER_KEYS_PER_ELEM];
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
		if (!ctx->remote_port)
			return SK_PASS;
		st->passed++;
		return SK_PASS;
	}

	f = bpf_map_lookup_elem(&target_flags, &slot);
	if (f)
		flags = *f;
	if (SKSTEER_CLIENTS_FROM(flags) && port >= SKSTEER_CLIENTS_FROM(flags) &&
	    clients_hold(port)) {
		st->passed++;
		return SK_PASS;
	}
	sk = bpf_map_lookup_elem(&targets, &slot);
	if (!sk && (flags & SKSTEER_FOLLOW))
		sk = bpf_map_lookup_elem(&standby, &slot);
	if (!sk) {
		if (flags & SKSTEER_FAIL_CLOSED)
			return refuse(ctx, slot);
		st->no_target++;
		return SK_PASS;
	}

	err = bpf_sk_assign(ctx, sk, flags & SKSTEER_ASSIGN_FLAGS);
	bpf_sk_release(sk);
	if (err == -EEXIST) {
		count_ext(slot, false);
		return SK_PASS;
	}
	if (err) {
		count_error(st, err);
		return SK_PASS;
	}

	st->steered++;
	return SK_PASS;
}

SEC("sk_lookup")
int sksteer(struct bpf_sk_lookup *ctx)
{
	return steer(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
