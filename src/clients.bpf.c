// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The UDP client watcher: which ports of this network namespace other
 * programs' UDP client sockets hold right now.
 *
 * UDP has no listen state, so sk_lookup runs before the kernel finds an
 * unconnected socket: steering a UDP port range that overlaps the ephemeral
 * range would take the replies meant for another program's client socket
 * (a resolver's answers). These programs, attached to the cgroup v2 root, keep
 * the udp_clients map that sksteer.bpf.c consults for such ports:
 *   - an unconnected UDP socket that sends (cgroup/sendmsg4, /sendmsg6) holds
 *     its port: the kernel gave it one (autobind) before the hook runs;
 *   - a socket bound explicitly to a non-zero port (cgroup/bind4, /bind6) is
 *     a server, never a client: steering keeps its port (the hijack guard,
 *     or --force, already decided about it);
 *   - a closing UDP socket (cgroup/sock_release) lets go of its port.
 * Ports are counted, so a port two client sockets share (SO_REUSEADDR) stays
 * theirs until both are gone.
 * One instance runs per steered namespace; each sees every namespace's
 * sockets and keeps only its own, by the namespace's cookie.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sksteer.h"
#include "clients.bpf.h"

#define IPPROTO_UDP 17

/* the namespace this instance watches: fixed for the program's life */
const volatile __u64 netns_cookie = 0;

/*
 * What the watcher knows of a socket of this namespace: the port it holds as
 * a client (recorded at its first send), or SKSTEER_UDP_SERVER (bound
 * explicitly). Lives and dies with the socket.
 */
struct sock_role {
	__u32 port;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_role);
} udp_roles SEC(".maps");

/*
 * Socket cookie -> port or SKSTEER_UDP_SERVER, for the sockets that were there
 * before the watcher started (the loader adds them: it cannot give another
 * process's socket storage): counted down when they close, or moved into
 * their socket storage when they send.
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

/* One more (delta 1) or one fewer (-1) client socket on port. */
static __always_inline void count(__u32 port, int delta)
{
	__u32 elem = port / SKSTEER_CLIENTS_PER_ELEM;
	__u64 *counts = bpf_map_lookup_elem(&udp_clients, &elem);

	if (!counts)
		return;
	/* 15 sockets on one port at most; never below 0, which would borrow from the next port */
	if (delta > 0 && SKSTEER_CLIENTS_COUNT(*counts, port) < 15)
		__sync_fetch_and_add(counts, SKSTEER_CLIENTS_ONE(port));
	else if (delta < 0 && SKSTEER_CLIENTS_COUNT(*counts, port))
		__sync_fetch_and_add(counts, -SKSTEER_CLIENTS_ONE(port));
}

static __always_inline int client_sends(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	struct sock_role *role;
	__u32 *adopted;
	__u64 cookie;

	if (!sk || ctx->protocol != IPPROTO_UDP || !ours(ctx))
		return 1;
	/* one lookup per datagram once a socket is known: a client or a server */
	if (bpf_sk_storage_get(&udp_roles, sk, 0, 0))
		return 1;
	role = bpf_sk_storage_get(&udp_roles, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!role)
		return 1;
	cookie = bpf_get_socket_cookie(ctx);
	adopted = bpf_map_lookup_elem(&udp_adopted, &cookie);
	if (adopted) {
		/* counted (or made a server) by the loader already */
		role->port = *adopted;
		bpf_map_delete_elem(&udp_adopted, &cookie);
		return 1;
	}
	role->port = sk->src_port;
	count(role->port, 1);
	return 1;
}

static __always_inline int server_binds(struct bpf_sock_addr *ctx)
{
	struct sock_role *role;

	if (!ctx->sk || ctx->protocol != IPPROTO_UDP || !ctx->user_port || !ours(ctx))
		return 1;
	role = bpf_sk_storage_get(&udp_roles, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (role)
		role->port = SKSTEER_UDP_SERVER;
	return 1;
}

SEC("cgroup/sendmsg4")
int client_sends4(struct bpf_sock_addr *ctx)
{
	return client_sends(ctx);
}

SEC("cgroup/sendmsg6")
int client_sends6(struct bpf_sock_addr *ctx)
{
	return client_sends(ctx);
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

SEC("cgroup/sock_release")
int socket_closes(struct bpf_sock *sk)
{
	struct sock_role *role;
	__u32 *adopted;
	__u64 cookie;

	if (sk->protocol != IPPROTO_UDP || !ours(sk))
		return 1;
	role = bpf_sk_storage_get(&udp_roles, sk, 0, 0);
	if (role) {
		if (role->port != SKSTEER_UDP_SERVER)
			count(role->port, -1);
		return 1;
	}
	cookie = bpf_get_socket_cookie(sk);
	adopted = bpf_map_lookup_elem(&udp_adopted, &cookie);
	if (!adopted)
		return 1;
	if (*adopted != SKSTEER_UDP_SERVER)
		count(*adopted, -1);
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
