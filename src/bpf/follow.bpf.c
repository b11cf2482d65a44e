// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sksteer_follow: steering that follows a target's address, in the kernel.
 *
 * A sock_ops program on the cgroup v2 hierarchy (its root, or a cgroup the
 * operator names). When a TCP socket starts listening (BPF_SOCK_OPS_TCP_LISTEN_CB,
 * in the listen() call of its owner) at the address of a target that follows
 * (SKSTEER_FOLLOW in target_flags) in this instance's network namespace, and
 * it is entitled (the uid of the socket it replaces; the cgroup, by where the
 * instance is attached), it takes the target's slot in the targets sockmap,
 * which the lookup program already reads: nothing is added to the per-lookup
 * path. It also becomes the target's standby if it has none (see below). A
 * refused takeover is counted. Nothing runs in userspace meanwhile.
 *
 * Fixed per loaded instance, in .rodata: the network namespace (its inode) and
 * the cgroup the instance is attached to (0: the root). Programs of a cgroup
 * run before those of its ancestors, so an instance on a target's cgroup has
 * taken the socket (taken_cookie) before the root's instance sees it; the root
 * instance counts a listen from anywhere else as a refused takeover.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sksteer_abi.h"
#include "follow_abi.h"

#define AF_INET 2

/*
 * The socket's network namespace: declared here (CO-RE relocates it), since
 * not every vmlinux.h has possible_net_t's member (libbpf's arm64 one lacks it).
 */
struct net___follow {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct sock_common___follow {
	struct {
		struct net___follow *net;
	} skc_net;
} __attribute__((preserve_access_index));

static __always_inline __u32 netns_of(struct tcp_sock *tp)
{
	struct sock_common___follow *skc = (void *)&tp->inet_conn.icsk_inet.sk.__sk_common;

	return skc->skc_net.net->ns.inum;
}

const volatile __u32 netns_ino;
const volatile __u64 cgroup_id;

/* The live maps, reused from the pins: declared as sksteer.bpf.c declares them. */
#include "targets.bpf.h"
#include "target_state.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, struct sksteer_target);
	__type(value, struct sksteer_follow);
} follow_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SKSTEER_SLOTS);
	__type(key, __u32);
	__type(value, struct sksteer_follow_stats);
} follow_stats SEC(".maps");

/*
 * The follower's own ring buffer (pinned as follow_events: each tracer has
 * its own, which this program loaded once cannot know), which --trace reads
 * too; and the tracer, reused from the pins: events only while one runs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} follow_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sksteer_tracer);
} tracer SEC(".maps");

static __always_inline void trace(const struct sksteer_target *key, __u8 verdict, __u32 slot,
				  __u32 uid)
{
	struct sksteer_tracer *t;
	struct sksteer_event *e;
	__u32 zero = 0;

	t = bpf_map_lookup_elem(&tracer, &zero);
	if (!t || !t->pid)
		return;
	e = bpf_ringbuf_reserve(&follow_events, sizeof(*e), 0);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_ns();
	__builtin_memcpy(e->local_ip, key->addr, sizeof(e->local_ip));
	e->remote_ip[0] = uid;
	e->local_port = key->port;
	e->family = key->family;
	e->proto = key->proto;
	e->verdict = verdict;
	e->slot = (__u8)slot;
	e->scope = 0;
	bpf_ringbuf_submit(e, 0);
}

SEC("sockops")
int sksteer_follow(struct bpf_sock_ops *ctx)
{
	struct sksteer_target key = { .proto = 6 /* IPPROTO_TCP */ };
	struct sksteer_follow_stats *st;
	struct sksteer_follow *f;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	__u32 slot, *flags, uid, ip4, addr[4];
	__u64 cookie;

	if (ctx->op != BPF_SOCK_OPS_TCP_LISTEN_CB)
		return 1;
	sk = ctx->sk;
	if (!sk)
		return 1;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || netns_of(tp) != netns_ino)
		return 1;
	key.family = (__u8)ctx->family;
	key.port = (__u16)ctx->local_port;
	/* every field read unconditionally: the verifier refuses ctx reads through a moved pointer */
	ip4 = ctx->local_ip4;
	barrier_var(ip4);
	addr[0] = ctx->local_ip6[0];
	addr[1] = ctx->local_ip6[1];
	addr[2] = ctx->local_ip6[2];
	addr[3] = ctx->local_ip6[3];
	barrier_var(addr[0]);
	barrier_var(addr[1]);
	barrier_var(addr[2]);
	barrier_var(addr[3]);
	if (key.family == AF_INET) {
		addr[0] = ip4;
		addr[1] = addr[2] = addr[3] = 0;
	}
	__builtin_memcpy(key.addr, addr, sizeof(addr));
	f = bpf_map_lookup_elem(&follow_addrs, &key);
	if (!f)
		return 1;
	slot = f->slot;
	st = bpf_map_lookup_elem(&follow_stats, &slot);
	flags = bpf_map_lookup_elem(&target_flags, &slot);
	if (!st || !flags || !(*flags & SKSTEER_FOLLOW))
		return 1;
	cookie = bpf_get_socket_cookie(ctx);
	if (f->cgroup != cgroup_id) {
		/* the target's own instance ran first: what it did not take is refused */
		if (!cgroup_id && f->taken_cookie != cookie) {
			__sync_fetch_and_add(&st->refused_cgroup, 1);
			trace(&key, SKSTEER_TAKEOVER_REFUSED, slot,
			      tp->inet_conn.icsk_inet.sk.sk_uid.val);
		}
		return 1;
	}
	uid = tp->inet_conn.icsk_inet.sk.sk_uid.val;
	if (uid != f->uid) {
		__sync_fetch_and_add(&st->refused_uid, 1);
		st->last_refused_uid = uid;
		trace(&key, SKSTEER_TAKEOVER_REFUSED, slot, uid);
		return 1;
	}
	/* a restart: the new socket alone; a worker group: the whole group */
	if (*flags & SKSTEER_FOLLOW_GROUP)
		*flags &= ~(__u32)BPF_SK_LOOKUP_F_NO_REUSEPORT;
	else
		*flags |= BPF_SK_LOOKUP_F_NO_REUSEPORT;
	if (bpf_sock_map_update(ctx, &targets, &slot, BPF_ANY)) {
		__sync_fetch_and_add(&st->errors, 1);
		return 1;
	}
	/*
	 * The standby keeps the oldest socket that still listens: when the one
	 * taken now closes while that one lives (a reload that failed, a worker
	 * that quit), its sibling gets the connections.
	 */
	bpf_sock_map_update(ctx, &standby, &slot, BPF_NOEXIST);
	f->taken_cookie = cookie;
	st->last_ns = bpf_ktime_get_ns();
	__sync_fetch_and_add(&st->followed, 1);
	trace(&key, SKSTEER_TAKEOVER, slot, uid);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
