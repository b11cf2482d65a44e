// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sksteer: hand connections for listed ports to one listening socket.
 *
 * Runs at the sk_lookup hook, before the kernel's own socket lookup. A port
 * that a target owns is assigned to that target's socket; everything else is
 * left to the kernel (SK_PASS without an assignment), so sksteer never drops
 * or black-holes traffic it does not own.
 *
 * There is no global configuration to set before load: everything that
 * changes lives in the pinned maps, so that runs change it in place. Tracing,
 * the one switch, is compiled into a second program (sksteer_trace) rather
 * than read from .rodata: a .rodata flag left its loads in the running
 * program (see BENCHMARKS.md).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "sksteer_abi.h"
#include "follow_abi.h"

#define EEXIST 17
#define EPROTOTYPE 91
#define ESOCKTNOSUPPORT 94
#define EAFNOSUPPORT 97

/*
 * (protocol bit << 16 | port) -> slot of the owning target, 0 if none: byte
 * key % 8 of element key / 8. Mmapable: the loader reads and changes it in
 * place, one byte store per port.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SKSTEER_PORT_ELEMS);
	__type(key, __u32);
	__type(value, __u64);
} ports SEC(".maps");

/* SKSTEER_LAYOUT, written by the loader; the program never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} layout SEC(".maps");

#include "targets.bpf.h"
#include "clients_abi.h"

/* slot 0: the UDP client watcher's table of awaited replies, while a watcher runs */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct awaited_table);
} udp_replies SEC(".maps");

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

/* route * 2 + (IPv6) -> the target that family's lookups go to */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SKSTEER_ROUTES);
	__type(key, __u32);
	__type(value, struct sksteer_route);
} routes SEC(".maps");

/* A scope table: as the port table; slot 0 holds the unscoped routes of marked keys. */
struct scope_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SKSTEER_PORT_ELEMS);
	__type(key, __u32);
	__type(value, __u64);
};

/*
 * Made by the loader only while some prefix binds a port. Slots 1-32 were the
 * prefixes' own tables before layout 6; the size stays so that pins carry over.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, SKSTEER_SCOPES);
	__type(key, __u32);
	__array(values, struct scope_table);
} scopes SEC(".maps");

/* the bindings of destination prefixes, and their search (src/bpf/bindings.bpf.h) */
#include "bindings.bpf.h"

#include "target_state.bpf.h"

/* The loader's bookkeeping, pinned with the rest; the program never reads these. */
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

/* slot -> what the loader records of its target; allocated per target, not for all slots */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, struct sksteer_target_info);
} target_info SEC(".maps");

/* Only the tracing instance writes it: each tracer gets its own, never pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void trace(struct bpf_sk_lookup *ctx, __u8 verdict, __u32 slot, long err,
				  __u8 scope)
{
	struct sksteer_event *e;
	__u32 zero = 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		struct sksteer_stats *st = bpf_map_lookup_elem(&stats, &zero);

		if (st)
			st->events_lost++;
		return;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->family = ctx->family;
	e->proto = ctx->protocol;
	if (ctx->family == 2 /* AF_INET */) {
		e->remote_ip[0] = ctx->remote_ip4;
		e->local_ip[0] = ctx->local_ip4;
		e->remote_ip[1] = e->remote_ip[2] = e->remote_ip[3] = 0;
		e->local_ip[1] = e->local_ip[2] = e->local_ip[3] = 0;
	} else {
		/* one load per field: the verifier refuses ctx reads through a moved pointer */
		e->remote_ip[0] = ctx->remote_ip6[0];
		e->remote_ip[1] = ctx->remote_ip6[1];
		e->remote_ip[2] = ctx->remote_ip6[2];
		e->remote_ip[3] = ctx->remote_ip6[3];
		e->local_ip[0] = ctx->local_ip6[0];
		e->local_ip[1] = ctx->local_ip6[1];
		e->local_ip[2] = ctx->local_ip6[2];
		e->local_ip[3] = ctx->local_ip6[3];
	}
	e->remote_port = bpf_ntohs(ctx->remote_port);
	e->local_port = ctx->local_port;
	/* ingress_ifindex came in 5.17: older kernels report none (0, never a real ifindex) */
	e->ifindex = bpf_core_field_exists(ctx->ingress_ifindex) ? ctx->ingress_ifindex : 0;
	e->verdict = verdict;
	e->slot = slot;
	e->scope = scope;
	e->err = err;
	bpf_ringbuf_submit(e, 0);
}

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

/*
 * Whether the datagram is a reply to another program's UDP client socket
 * (clients.bpf.c): the socket that holds the port sent to the datagram's
 * source address and port within SKSTEER_UDP_REPLY_S. A port no client holds
 * costs one inlined array read; only held ports read the table.
 */
static __always_inline bool reply_to_client(struct bpf_sk_lookup *ctx, __u32 port)
{
	__u32 elem = port / SKSTEER_CLIENTS_PER_ELEM, zero = 0;
	__u64 *held = bpf_map_lookup_elem(&udp_clients, &elem), *holder, *until;
	struct sksteer_awaited key = {};
	void *table;

	if (!held || !SKSTEER_CLIENTS_COUNT(*held, port))
		return false;
	table = bpf_map_lookup_elem(&udp_replies, &zero);
	if (!table)
		return false;
	key.addr[0] = port;
	holder = bpf_map_lookup_elem(table, &key);
	if (!holder)
		return false;
	key.cookie = *holder;
	key.port = ctx->remote_port;
	key.family = (__u8)ctx->family;
	if (ctx->family == 2 /* AF_INET */) {
		key.addr[0] = ctx->remote_ip4;
	} else {
		key.addr[0] = ctx->remote_ip6[0];
		key.addr[1] = ctx->remote_ip6[1];
		key.addr[2] = ctx->remote_ip6[2];
		key.addr[3] = ctx->remote_ip6[3];
	}
	until = bpf_map_lookup_elem(table, &key);
	return until && bpf_ktime_get_ns() < *until;
}

/* The unscoped route of a marked key: scope table 0's. */
static __always_inline __u32 unscoped_route(__u32 key)
{
	__u32 elem = key / SKSTEER_KEYS_PER_ELEM, zero = 0;
	__u8 *bytes;
	void *table;

	table = bpf_map_lookup_elem(&scopes, &zero);
	if (!table)
		return 0;
	bytes = bpf_map_lookup_elem(table, &elem);
	return bytes ? bytes[key % SKSTEER_KEYS_PER_ELEM] : 0;
}

/*
 * A key some destination prefix binds: the route of the most specific prefix
 * that holds the destination and binds the key (bit 8 set: a prefix chose),
 * else the key's unscoped route. The bindings table's search costs the same
 * probes at any number of prefixes; only lookups of marked keys pay for it.
 */
static __always_inline int sksteer_scoped(struct bpf_sk_lookup *ctx, __u32 key)
{
	__u32 port = key & 0xffff, udp = key >> 16, r;

	if (ctx->family == 2 /* AF_INET */) {
		r = bindings_route4(ctx->local_ip4, port, udp);
	} else {
		/* one load per field: the verifier refuses ctx reads through a moved pointer */
		__u64 a01 = (__u64)ctx->local_ip6[0] << 32 | ctx->local_ip6[1];
		__u64 a23 = (__u64)ctx->local_ip6[2] << 32 | ctx->local_ip6[3];

		r = bindings_route6(a01, a23, port, udp);
	}
	return r ? (int)(r | 1 << 8) : (int)unscoped_route(key);
}

/* refused or preempted: rare paths, with counters of their own */
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

/* A fail-closed target without its socket: drop, unless an earlier program chose. */
static __always_inline int refuse(struct bpf_sk_lookup *ctx, __u32 slot, __u8 scope,
				  const bool tracing)
{
	bool preempted = ctx->sk;

	count_ext(slot, !preempted);
	if (tracing)
		trace(ctx, preempted ? SKSTEER_PREEMPTED : SKSTEER_REFUSED, slot, 0, scope);
	return preempted ? SK_PASS : SK_DROP;
}

/*
 * The whole per-lookup path. `tracing` is a compile-time constant: the program
 * that normally runs is built with false and holds no tracing code at all.
 */
static __always_inline int steer(struct bpf_sk_lookup *ctx, const bool tracing)
{
	__u32 port = ctx->local_port;
	__u32 key = port | SKSTEER_PROTO_BIT(ctx->protocol);
	__u32 elem = key / SKSTEER_KEYS_PER_ELEM;
	struct sksteer_route *route;
	struct sksteer_stats *st;
	struct bpf_sock *sk;
	__u32 slot = 0, flags = 0, r = 0, *f;
	__u8 *routes_of, scope = 0;
	long err;

	routes_of = bpf_map_lookup_elem(&ports, &elem);
	if (routes_of)
		r = routes_of[key % SKSTEER_KEYS_PER_ELEM];
	if (r == SKSTEER_SCOPED) {
		r = (__u32)sksteer_scoped(ctx, key);
		scope = (__u8)(r >> 8);
		r &= 0xff;
	}
	if (r) {
		/* the route's target for this lookup's family: one array access */
		r = 2 * r + (ctx->family == 10 /* AF_INET6 */);
		route = bpf_map_lookup_elem(&routes, &r);
		if (route)
			slot = route->slot;
	}
	st = bpf_map_lookup_elem(&stats, &slot);
	if (!st)
		return SK_PASS;

	if (!slot) {
		/*
		 * Source port 0 is sksteer's own lookup (find.bpf.c, the way before
		 * 6.5), whose bpf_sk_lookup_tcp() runs this hook too: not traffic.
		 */
		if (!ctx->remote_port)
			return SK_PASS;
		st->passed++;
		if (tracing)
			trace(ctx, SKSTEER_PASS, 0, 0, scope);
		return SK_PASS;
	}

	/* the target's flags: the follower (src/follow.bpf.c) changes them too */
	f = bpf_map_lookup_elem(&target_flags, &slot);
	if (f)
		flags = *f;
	/*
	 * A UDP target over the ephemeral range: a reply to another program's
	 * client socket is that socket's; every other datagram, the target's.
	 */
	if (SKSTEER_CLIENTS_FROM(flags) && port >= SKSTEER_CLIENTS_FROM(flags) &&
	    reply_to_client(ctx, port)) {
		st->passed++;
		if (tracing)
			trace(ctx, SKSTEER_CLIENT, slot, 0, scope);
		return SK_PASS;
	}
	sk = bpf_map_lookup_elem(&targets, &slot);
	if (!sk && (flags & SKSTEER_FOLLOW))
		sk = bpf_map_lookup_elem(&standby, &slot);
	if (!sk) {
		/* fail-closed, unless an earlier program chose: sksteer never overrides one */
		if (flags & SKSTEER_FAIL_CLOSED)
			return refuse(ctx, slot, scope, tracing);
		st->no_target++;
		if (tracing)
			trace(ctx, SKSTEER_NO_TARGET, slot, 0, scope);
		return SK_PASS;
	}

	err = bpf_sk_assign(ctx, sk, flags & SKSTEER_ASSIGN_FLAGS);
	bpf_sk_release(sk);
	if (err == -EEXIST) {
		count_ext(slot, false);
		if (tracing)
			trace(ctx, SKSTEER_PREEMPTED, slot, 0, scope);
		return SK_PASS;
	}
	if (err) {
		/* e.g. an IPv4 lookup for an IPv6-only target: the kernel decides */
		count_error(st, err);
		if (tracing)
			trace(ctx, SKSTEER_ERROR, slot, err, scope);
		return SK_PASS;
	}

	st->steered++;
	if (tracing)
		trace(ctx, SKSTEER_STEERED, slot, 0, scope);
	return SK_PASS;
}

/* What runs in the netns link, always. */
SEC("sk_lookup")
int sksteer(struct bpf_sk_lookup *ctx)
{
	return steer(ctx, false);
}

#ifndef SKSTEER_NO_TRACE
/* What `sksteer --trace` swaps into the link while it streams events. */
SEC("sk_lookup")
int sksteer_trace(struct bpf_sk_lookup *ctx)
{
	return steer(ctx, true);
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
