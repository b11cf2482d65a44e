// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The lookup program of sksteer 0.2, frozen: the baseline `make bench` measures
 * this version's changes against (the UDP client rule). Not used by the tool.
 *
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

#define EEXIST 17
#define EPROTOTYPE 91
#define ESOCKTNOSUPPORT 94
#define EAFNOSUPPORT 97

/*
 * (protocol bit << 16 | port) -> slot of the owning target, 0 if none.
 * Mmapable: the loader reads and changes it in place, one byte store per port.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SKSTEER_PORT_KEYS);
	__type(key, __u32);
	__type(value, __u8);
} ports SEC(".maps");

#include "targets.bpf.h"

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

/* slot -> SKSTEER_* target flags, read only once the port is known to be steered */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} target_flags SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void trace(struct bpf_sk_lookup *ctx, __u8 verdict, __u32 slot, long err)
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
static __always_inline int refuse(struct bpf_sk_lookup *ctx, __u32 slot, const bool tracing)
{
	bool preempted = ctx->sk;

	count_ext(slot, !preempted);
	if (tracing)
		trace(ctx, preempted ? SKSTEER_PREEMPTED : SKSTEER_REFUSED, slot, 0);
	return preempted ? SK_PASS : SK_DROP;
}

/*
 * The whole per-lookup path. `tracing` is a compile-time constant: the program
 * that normally runs is built with false and holds no tracing code at all.
 */
static __always_inline int steer(struct bpf_sk_lookup *ctx, const bool tracing)
{
	__u32 key = ctx->local_port | SKSTEER_PROTO_BIT(ctx->protocol);
	struct sksteer_stats *st;
	struct bpf_sock *sk;
	__u32 slot = 0, *flags;
	__u8 *owner;
	long err;

	owner = bpf_map_lookup_elem(&ports, &key);
	if (owner)
		slot = *owner;
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
			trace(ctx, SKSTEER_PASS, 0, 0);
		return SK_PASS;
	}

	flags = bpf_map_lookup_elem(&target_flags, &slot);
	sk = bpf_map_lookup_elem(&targets, &slot);
	if (!sk) {
		/* fail-closed, unless an earlier program chose: sksteer never overrides one */
		if (flags && (*flags & SKSTEER_FAIL_CLOSED))
			return refuse(ctx, slot, tracing);
		st->no_target++;
		if (tracing)
			trace(ctx, SKSTEER_NO_TARGET, slot, 0);
		return SK_PASS;
	}

	err = bpf_sk_assign(ctx, sk, flags ? *flags & SKSTEER_ASSIGN_FLAGS : 0);
	bpf_sk_release(sk);
	if (err == -EEXIST) {
		count_ext(slot, false);
		if (tracing)
			trace(ctx, SKSTEER_PREEMPTED, slot, 0);
		return SK_PASS;
	}
	if (err) {
		/* e.g. an IPv4 lookup for an IPv6-only target: the kernel decides */
		count_error(st, err);
		if (tracing)
			trace(ctx, SKSTEER_ERROR, slot, err);
		return SK_PASS;
	}

	st->steered++;
	if (tracing)
		trace(ctx, SKSTEER_STEERED, slot, 0);
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
