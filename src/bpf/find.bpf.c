// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Puts one target socket into the targets sockmap, from inside the kernel.
 *
 * The loader has chosen the socket (by sock_diag, in the target's network
 * namespace) and loads this object with what to look for in .rodata: the
 * address, the state, the socket's cookie, and the slot to put it in. That is
 * configuration fixed for the life of one loaded program, which runs once.
 * The object is separate from sksteer.bpf.c so that the lookup program, which
 * every run loads, carries none of it.
 *
 * Two ways in, by kernel:
 * - find_tcp/find_udp: socket iterators over the namespace of the process that
 *   reads them. Safe from Linux 6.5 on; before, iter/tcp runs with the
 *   socket's lock held and the sockmap update takes it again.
 * - find_by_lookup: a tc program run once with BPF_PROG_TEST_RUN that asks the
 *   kernel's own lookup (bpf_sk_lookup_tcp/udp) for ADDR:PORT, trying source
 *   addresses until the reuseport group hands out the wanted member.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "sksteer_abi.h"

#define AF_INET 2
#define AF_INET6 10
#define TC_ACT_OK 0
#define LOOKUP_TRIES 64
#define CURRENT_NETNS (-1L) /* BPF_F_CURRENT_NETNS, which not every vmlinux.h has */

/*
 * The iterators' contexts, as the kernel defines them: not every vmlinux.h
 * carries them (libbpf's arm64 one does not), and CO-RE relocates the fields.
 */
struct bpf_iter__tcp___local {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	uid_t uid;
} __attribute__((preserve_access_index));

struct bpf_iter__udp___local {
	struct bpf_iter_meta *meta;
	struct udp_sock *udp_sk;
	uid_t uid;
	int bucket;
} __attribute__((preserve_access_index));

/* Set through the skeleton before load. Addresses in network byte order. */
const volatile __u64 want_cookie;
const volatile __u32 want_addr[4]; /* IPv4 in [0] */
const volatile __u32 want_slot;
const volatile __u16 want_port; /* host byte order */
const volatile __u8 want_family;
const volatile __u8 want_state; /* TCP_LISTEN, or TCP_CLOSE for an unconnected UDP socket */

/* The live sockmap, reused from the pins. */
#include "targets.bpf.h"

/* What the run found: 1 once the socket is in the sockmap; the error of the update. */
__u32 found;
__s32 update_err;

static __always_inline bool same_address(const struct sock_common *skc)
{
	if (skc->skc_family != want_family || skc->skc_num != want_port ||
	    skc->skc_state != want_state)
		return false;
	if (want_family == AF_INET)
		return skc->skc_rcv_saddr == want_addr[0];
	return skc->skc_v6_rcv_saddr.in6_u.u6_addr32[0] == want_addr[0] &&
	       skc->skc_v6_rcv_saddr.in6_u.u6_addr32[1] == want_addr[1] &&
	       skc->skc_v6_rcv_saddr.in6_u.u6_addr32[2] == want_addr[2] &&
	       skc->skc_v6_rcv_saddr.in6_u.u6_addr32[3] == want_addr[3];
}

static __always_inline void put(void *sk)
{
	__u32 slot = want_slot;
	long err = bpf_map_update_elem(&targets, &slot, sk, BPF_ANY);

	if (err)
		update_err = err;
	else
		found = 1;
}

SEC("iter/tcp")
int find_tcp(struct bpf_iter__tcp___local *ctx)
{
	struct sock_common *skc = ctx->sk_common;

	if (!skc || found || !same_address(skc) || bpf_get_socket_cookie(skc) != want_cookie)
		return 0;
	put(skc);
	return 0;
}

SEC("iter/udp")
int find_udp(struct bpf_iter__udp___local *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct sock *sk;

	if (!udp || found)
		return 0;
	sk = &udp->inet.sk;
	if (!same_address(&sk->__sk_common) || bpf_get_socket_cookie(sk) != want_cookie)
		return 0;
	put(sk);
	return 0;
}

/* The cookie of a socket the lookup returned; 0 where this kernel cannot say (IPv4 UDP). */
static __always_inline __u64 cookie_of(struct bpf_sock *sk)
{
	struct tcp_sock *tcp;
	struct udp6_sock *udp6;

	if (want_state == 10 /* TCP_LISTEN */) {
		tcp = bpf_skc_to_tcp_sock(sk);
		return tcp ? tcp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter : 0;
	}
	udp6 = bpf_skc_to_udp6_sock(sk);
	return udp6 ? udp6->udp.inet.sk.__sk_common.skc_cookie.counter : 0;
}

static __always_inline bool lookup_matches(struct bpf_sock *sk)
{
	__u64 cookie = cookie_of(sk);

	if (cookie)
		return cookie == want_cookie;
	/* no cookie to compare (IPv4 UDP): the exact address has to do */
	return sk->family == want_family && sk->src_port == want_port &&
	       sk->src_ip4 == want_addr[0];
}

SEC("tc")
int find_by_lookup(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	__u32 size;

	/*
	 * Source port 0, which no packet has: the sk_lookup hook runs for these
	 * lookups too, and sksteer's program tells them from traffic by it.
	 */
	if (want_family == AF_INET) {
		tuple.ipv4.daddr = want_addr[0];
		tuple.ipv4.dport = bpf_htons(want_port);
		size = sizeof(tuple.ipv4);
	} else {
		tuple.ipv6.daddr[0] = want_addr[0];
		tuple.ipv6.daddr[1] = want_addr[1];
		tuple.ipv6.daddr[2] = want_addr[2];
		tuple.ipv6.daddr[3] = want_addr[3];
		tuple.ipv6.dport = bpf_htons(want_port);
		size = sizeof(tuple.ipv6);
	}
	/*
	 * A reuseport group picks its member by a hash of the tuple: vary the
	 * source address (127.0.0.N, ::N). 64 tries reach a given member of a
	 * 16-socket group with 98% odds; the verifier walks every iteration, so
	 * more cost load time.
	 */
	for (int i = 1; i <= LOOKUP_TRIES && !found; i++) {
		struct bpf_sock *sk;

		if (want_family == AF_INET)
			tuple.ipv4.saddr = bpf_htonl(0x7f000000 | i);
		else
			tuple.ipv6.saddr[3] = bpf_htonl(i);
		if (want_state == 10)
			sk = bpf_sk_lookup_tcp(skb, &tuple, size, CURRENT_NETNS, 0);
		else
			sk = bpf_sk_lookup_udp(skb, &tuple, size, CURRENT_NETNS, 0);
		if (!sk)
			break;
		if (lookup_matches(sk))
			put(sk);
		bpf_sk_release(sk);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
