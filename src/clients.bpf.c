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
 * A port two client sockets share (SO_REUSEADDR) is let go with the first.
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
 * Socket cookie -> the port a client socket holds (recorded at its first
 * send), or SKSTEER_UDP_SERVER for sockets bound explicitly and those --force
 * took ports from (the loader adds those). The release hook cannot read a
 * socket's port, so it finds it here. Allocated per entry, freed on close.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SKSTEER_UDP_SOCKETS);
	__type(key, __u64);
	__type(value, __u32);
} udp_sockets SEC(".maps");

static __always_inline bool ours(void *ctx)
{
	return bpf_get_netns_cookie(ctx) == netns_cookie;
}

static __always_inline int client_sends(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	__u64 cookie;
	__u32 port;
	__u8 one = 1;

	if (!sk || ctx->protocol != IPPROTO_UDP || !ours(ctx))
		return 1;
	/* one lookup per datagram once a socket is known: a client or a server */
	cookie = bpf_get_socket_cookie(ctx);
	if (bpf_map_lookup_elem(&udp_sockets, &cookie))
		return 1;
	port = sk->src_port;
	if (!bpf_map_update_elem(&udp_sockets, &cookie, &port, BPF_NOEXIST))
		bpf_map_update_elem(&udp_clients, &port, &one, BPF_ANY);
	return 1;
}

static __always_inline int server_binds(struct bpf_sock_addr *ctx)
{
	__u32 server = SKSTEER_UDP_SERVER;
	__u64 cookie;

	if (ctx->protocol != IPPROTO_UDP || !ctx->user_port || !ours(ctx))
		return 1;
	cookie = bpf_get_socket_cookie(ctx);
	bpf_map_update_elem(&udp_sockets, &cookie, &server, BPF_ANY);
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
	__u64 cookie;
	__u32 *port;

	if (sk->protocol != IPPROTO_UDP || !ours(sk))
		return 1;
	cookie = bpf_get_socket_cookie(sk);
	port = bpf_map_lookup_elem(&udp_sockets, &cookie);
	if (!port)
		return 1;
	if (*port != SKSTEER_UDP_SERVER)
		bpf_map_delete_elem(&udp_clients, port);
	bpf_map_delete_elem(&udp_sockets, &cookie);
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
