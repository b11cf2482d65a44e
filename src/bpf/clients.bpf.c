// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The UDP client watcher: which replies other programs' UDP client sockets of
 * this network namespace await right now.
 *
 * UDP has no listen state, so sk_lookup runs before the kernel finds an
 * unconnected socket: steering a UDP port range that overlaps the ephemeral
 * range would take the replies meant for another program's client socket
 * (a resolver's answers). A connected socket needs nothing: the kernel finds
 * it before sk_lookup runs. For unconnected ones, these programs, attached to
 * the cgroup v2 root, keep the table of awaited replies (clients_abi.h) that
 * sksteer.bpf.c consults:
 *   - a socket that sends from a port the kernel gave it (cgroup/sendmsg4,
 *     /sendmsg6) claims that port, and awaits replies from the peer it sent
 *     to, by address and port, for SKSTEER_UDP_REPLY_S after each send;
 *   - a socket bound explicitly to a non-zero port (cgroup/bind4, /bind6) is
 *     a server, never a client: what it held as a client is given back, and
 *     once its bind succeeds (cgroup/post_bind4, /post_bind6) a claim another
 *     socket left on that port (by disconnecting) is void;
 *   - a socket that sends from a new port (it disconnected, and the kernel
 *     gave it another) gives back the old port and its peers;
 *   - a closing socket (cgroup/sock_release) gives back all it held.
 * So a datagram reaches a client socket instead of the target only when it
 * comes from the address and port that socket sent to, lately, from the port
 * it still holds. Entries are bounded in all, per user and per socket; a send
 * that finds no room is not recorded (its replies go to the target), and
 * counted. Nothing evicts another socket's entries.
 * One instance runs per steered namespace; each sees every namespace's
 * sockets and keeps only its own, by the namespace's cookie.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sksteer_abi.h"
#include "clients_abi.h"

#define IPPROTO_UDP 17
#define AF_INET 2
#define AF_INET6 10
#define EEXIST 17
#define REPLY_NS (SKSTEER_UDP_REPLY_S * 1000000000ULL)

/* the namespace this instance watches: fixed for the program's life */
const volatile __u64 netns_cookie = 0;

enum role_kind {
	ROLE_CLIENT = 1,
	ROLE_SERVER = 2, /* bound explicitly, or made one by --force: never a client */
};

struct peer_slot {
	struct sksteer_awaited key; /* family 0: unused */
	__u64 until; /* as the table has it */
};

/* What the watcher knows of a socket of this namespace. Lives and dies with the socket. */
struct sock_role {
	__u32 kind;
	__u32 port; /* the port it holds as a client, while claimed */
	__u32 uid; /* whose budget its entries use */
	__u32 claimed; /* its claim of port is counted in the budget */
	__u64 cookie;
	struct peer_slot peers[SKSTEER_UDP_PEERS];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_role);
} udp_roles SEC(".maps");

struct awaited_table awaited SEC(".maps");

/* uid -> entries its sockets have in the table */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} budgets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sksteer_udp_watch);
} watch_stats SEC(".maps");

/*
 * Socket cookie -> SKSTEER_UDP_SERVER: sockets on ports that --force took
 * (the loader adds them: it cannot give another process's socket storage).
 * Taken when they next write the table, or close.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SKSTEER_UDP_ADOPTED);
	__type(key, __u64);
	__type(value, __u32);
} udp_adopted SEC(".maps");

static __always_inline bool ours(void *ctx)
{
	return bpf_get_netns_cookie(ctx) == netns_cookie;
}

static __always_inline struct sksteer_udp_watch *counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&watch_stats, &zero);
}

/* Marks port as held by a client (delta 1) or not (-1) for the lookup's first read. */
static __always_inline void mark(__u32 port, int delta)
{
	__u32 elem = port / SKSTEER_CLIENTS_PER_ELEM;
	__u64 *counts = bpf_map_lookup_elem(&udp_clients, &elem);

	if (!counts)
		return;
	/* never above 15 nor below 0, which would borrow from the next port */
	if (delta > 0 && SKSTEER_CLIENTS_COUNT(*counts, port) < 15)
		__sync_fetch_and_add(counts, SKSTEER_CLIENTS_ONE(port));
	else if (delta < 0 && SKSTEER_CLIENTS_COUNT(*counts, port))
		__sync_fetch_and_add(counts, -SKSTEER_CLIENTS_ONE(port));
}

/* One more entry for uid, within its budget: one user cannot fill the table. */
static __always_inline bool budget_take(__u32 uid)
{
	struct sksteer_udp_watch *c = counters();
	__u32 *n = bpf_map_lookup_elem(&budgets, &uid), zero = 0;

	if (!n) {
		bpf_map_update_elem(&budgets, &uid, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&budgets, &uid);
	}
	if (n && *n < SKSTEER_UDP_PER_UID) {
		__sync_fetch_and_add(n, 1);
		return true;
	}
	if (c && n)
		c->over_budget++;
	else if (c)
		c->full++; /* no room for another user */
	return false;
}

static __always_inline void budget_give(__u32 uid)
{
	__u32 *n = bpf_map_lookup_elem(&budgets, &uid);

	if (n && *n)
		__sync_fetch_and_add(n, -1);
}

/* A peer entry of role's socket, in its budget; false when there is no room. */
static __always_inline bool peer_add(struct sock_role *role, struct sksteer_awaited *key,
				     __u64 until)
{
	struct sksteer_udp_watch *c;

	if (!budget_take(role->uid))
		return false;
	if (!bpf_map_update_elem(&awaited, key, &until, BPF_NOEXIST))
		return true;
	budget_give(role->uid);
	c = counters();
	if (c)
		c->full++;
	return false;
}

static __always_inline void peer_drop(struct sock_role *role, struct peer_slot *p)
{
	if (!p->key.family)
		return;
	bpf_map_delete_elem(&awaited, &p->key);
	budget_give(role->uid);
	p->key.family = 0;
}

/* A claim, which another socket's may be in place of: taken out only if it is the cookie's. */
static __always_inline void claim_drop(__u32 port, __u64 cookie, bool own)
{
	struct sksteer_awaited key = { .addr = { port } };
	__u64 *holder = bpf_map_lookup_elem(&awaited, &key);

	if (!holder || (*holder == cookie) != own)
		return;
	/* the entry goes before the mark: a lookup between sees a mark and no claim, no reply */
	if (!bpf_map_delete_elem(&awaited, &key))
		mark(port, -1);
}

/*
 * The socket's port is its own now (the kernel gave it to this socket
 * alone): a claim that a disconnected socket left on it is taken over.
 */
static __always_inline bool claim(struct sock_role *role, __u32 port)
{
	struct sksteer_awaited key = { .addr = { port } };
	struct sksteer_udp_watch *c;
	__u64 *holder;
	long err;

	if (!role->claimed && !budget_take(role->uid))
		return false;
	err = bpf_map_update_elem(&awaited, &key, &role->cookie, BPF_NOEXIST);
	if (!err) {
		mark(port, 1);
	} else if (err == -EEXIST && (holder = bpf_map_lookup_elem(&awaited, &key))) {
		*holder = role->cookie;
	} else {
		budget_give(role->uid); /* the one charge the claim had, or had just taken */
		role->claimed = 0;
		c = counters();
		if (c)
			c->full++;
		return false;
	}
	role->port = port;
	role->claimed = 1;
	return true;
}

/* Whether the socket's claim of port is in the table, its own. */
static __always_inline bool claim_held(struct sock_role *role, __u32 port)
{
	struct sksteer_awaited key = { .addr = { port } };
	__u64 *holder;

	if (!role->claimed)
		return false;
	holder = bpf_map_lookup_elem(&awaited, &key);
	return holder && *holder == role->cookie;
}

/* Gives back role's port and peers: datagrams to them are the target's again. */
static __always_inline void release(struct sock_role *role)
{
	for (int i = 0; i < SKSTEER_UDP_PEERS; i++)
		peer_drop(role, &role->peers[i]);
	if (!role->claimed)
		return;
	claim_drop(role->port, role->cookie, true);
	budget_give(role->uid);
	role->claimed = 0;
}

static __always_inline bool same_peer(const struct sksteer_awaited *a,
				      const struct sksteer_awaited *b)
{
	return a->family == b->family && a->port == b->port && a->addr[0] == b->addr[0] &&
	       a->addr[1] == b->addr[1] && a->addr[2] == b->addr[2] && a->addr[3] == b->addr[3];
}

/*
 * Whether --force made this socket a server since it first sent (the loader
 * took its claim out, and left its cookie in udp_adopted): then it gives back
 * the rest. Asked before the table is written, not per datagram.
 */
static __always_inline bool forced(struct sock_role *role)
{
	if (!bpf_map_lookup_elem(&udp_adopted, &role->cookie))
		return false;
	bpf_map_delete_elem(&udp_adopted, &role->cookie);
	release(role);
	role->kind = ROLE_SERVER;
	return true;
}

/*
 * Replies from peer are awaited for REPLY_NS from now. The table is written
 * when the peer is new, and then at most every half window (not per
 * datagram); a socket's ninth peer takes the place of its least recent one.
 */
static __always_inline void await_reply(struct sock_role *role, struct sksteer_awaited *peer)
{
	__u64 now = bpf_ktime_get_ns(), until = now + REPLY_NS, *v;
	__u32 use = SKSTEER_UDP_PEERS, oldest = 0;

	for (__u32 i = 0; i < SKSTEER_UDP_PEERS; i++) {
		struct peer_slot *p = &role->peers[i];

		if (!p->key.family) {
			use = use == SKSTEER_UDP_PEERS ? i : use;
			continue;
		}
		if (same_peer(&p->key, peer)) {
			if ((__s64)(p->until - now) >= (__s64)(REPLY_NS / 2) || forced(role))
				return;
			v = bpf_map_lookup_elem(&awaited, &p->key);
			if (v)
				*v = until;
			p->until = until;
			return;
		}
		if (p->until < role->peers[oldest & (SKSTEER_UDP_PEERS - 1)].until)
			oldest = i;
	}
	if (forced(role))
		return;
	if (use >= SKSTEER_UDP_PEERS) {
		use = oldest & (SKSTEER_UDP_PEERS - 1);
		peer_drop(role, &role->peers[use]);
	}
	use &= SKSTEER_UDP_PEERS - 1;
	if (peer_add(role, peer, until)) {
		role->peers[use].key = *peer;
		role->peers[use].until = until;
	}
}

_Static_assert((SKSTEER_UDP_PEERS & (SKSTEER_UDP_PEERS - 1)) == 0,
	       "a socket's peers are indexed by a mask");

/* The socket's role, made at its first sight: a client, unless --force made it a server. */
static __always_inline struct sock_role *role_of(void *ctx, struct bpf_sock *sk)
{
	struct sock_role *role = bpf_sk_storage_get(&udp_roles, sk, 0, 0);
	__u32 *adopted;
	__u64 cookie;

	if (role)
		return role;
	role = bpf_sk_storage_get(&udp_roles, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!role)
		return NULL;
	cookie = bpf_get_socket_cookie(ctx);
	role->cookie = cookie;
	role->uid = (__u32)bpf_get_current_uid_gid();
	role->kind = ROLE_CLIENT;
	adopted = bpf_map_lookup_elem(&udp_adopted, &cookie);
	if (adopted) {
		role->kind = ROLE_SERVER;
		bpf_map_delete_elem(&udp_adopted, &cookie);
	}
	return role;
}

static __always_inline int client_sends(struct bpf_sock_addr *ctx, const bool v6)
{
	struct sksteer_awaited peer = {};
	struct bpf_sock *sk = ctx->sk;
	struct sock_role *role;
	__u32 port;

	if (!sk || ctx->protocol != IPPROTO_UDP || !ours(ctx))
		return 1;
	role = role_of(ctx, sk);
	if (!role || role->kind != ROLE_CLIENT)
		return 1;
	port = sk->src_port;
	/*
	 * One lookup per send. The claim is not there when the socket is new, when
	 * it disconnected and the kernel gave it another port, when --force made it
	 * a server, or when a server sharing the port (SO_REUSEADDR: the target
	 * answering from it) voided the claim as it bound.
	 */
	if (!claim_held(role, port)) {
		if (forced(role))
			return 1;
		if (role->claimed && role->port != port)
			release(role);
		if (!claim(role, port))
			return 1;
	}
	peer.cookie = role->cookie;
	peer.port = (__u16)ctx->user_port;
	peer.family = AF_INET;
	if (!v6) {
		peer.addr[0] = ctx->user_ip4;
	} else if (!ctx->user_ip6[0] && !ctx->user_ip6[1] &&
		   ctx->user_ip6[2] == bpf_htonl(0xffff)) {
		/* an IPv4-mapped peer answers over IPv4, as the lookup sees it */
		peer.addr[0] = ctx->user_ip6[3];
	} else {
		peer.family = AF_INET6;
		peer.addr[0] = ctx->user_ip6[0];
		peer.addr[1] = ctx->user_ip6[1];
		peer.addr[2] = ctx->user_ip6[2];
		peer.addr[3] = ctx->user_ip6[3];
	}
	await_reply(role, &peer);
	return 1;
}

/* Before an explicit bind: the socket is a server from now on. */
static __always_inline int server_binds(struct bpf_sock_addr *ctx)
{
	struct sock_role *role;

	if (!ctx->sk || ctx->protocol != IPPROTO_UDP || !ctx->user_port || !ours(ctx))
		return 1;
	role = role_of(ctx, ctx->sk);
	if (!role)
		return 1;
	if (role->kind == ROLE_CLIENT)
		release(role); /* a client that disconnected, binding now */
	role->kind = ROLE_SERVER;
	return 1;
}

/* After a bind succeeded: a server holds the port, so no client does. */
static __always_inline int server_bound(struct bpf_sock *sk)
{
	struct sock_role *role;

	if (sk->protocol != IPPROTO_UDP || !ours(sk))
		return 1;
	role = bpf_sk_storage_get(&udp_roles, sk, 0, 0);
	if (role && role->kind == ROLE_SERVER)
		claim_drop(sk->src_port, role->cookie, false);
	return 1;
}

SEC("cgroup/sendmsg4")
int client_sends4(struct bpf_sock_addr *ctx)
{
	return client_sends(ctx, false);
}

SEC("cgroup/sendmsg6")
int client_sends6(struct bpf_sock_addr *ctx)
{
	return client_sends(ctx, true);
}

SEC("cgroup/bind4")
int server_binds4(struct bpf_sock_addr *ctx)
{
	return server_binds(ctx);
}

SEC("cgroup/bind6")
int server_binds6(struct bpf_sock_addr *ctx)
{
	return server_binds(ctx);
}

SEC("cgroup/post_bind4")
int server_bound4(struct bpf_sock *sk)
{
	return server_bound(sk);
}

SEC("cgroup/post_bind6")
int server_bound6(struct bpf_sock *sk)
{
	return server_bound(sk);
}

SEC("cgroup/sock_release")
int socket_closes(struct bpf_sock *sk)
{
	struct sock_role *role;
	__u64 cookie;

	if (sk->protocol != IPPROTO_UDP || !ours(sk))
		return 1;
	role = bpf_sk_storage_get(&udp_roles, sk, 0, 0);
	if (role) {
		if (role->kind == ROLE_CLIENT)
			release(role);
		return 1;
	}
	cookie = bpf_get_socket_cookie(sk);
	bpf_map_delete_elem(&udp_adopted, &cookie);
	return 1;
}

/*
 * Before 5.14 (no SO_NETNS_COOKIE) the loader asks the kernel for its
 * namespace's cookie with this: it sends one datagram from a socket bound to
 * probe_port to that same port, and reads probed_cookie.
 */
const volatile __u16 probe_port = 0;
__u64 probed_cookie = 0;

SEC("cgroup/sendmsg4")
int netns_probe(struct bpf_sock_addr *ctx)
{
	if (ctx->sk && ctx->sk->src_port == probe_port && ctx->user_port == bpf_htons(probe_port))
		probed_cookie = bpf_get_netns_cookie(ctx);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
