/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the BPF program and the loader agree on: map layout, counters, trace events. */
#ifndef __SKSTEER_H
#define __SKSTEER_H

/*
 * A target is a listening (TCP) or bound (UDP) socket. Each one lives in a
 * slot: its index in the "targets" sockmap. Slot 0 is never a target, so a
 * zero byte in the port table means "not steered".
 */
#define SKSTEER_SLOTS 256

/*
 * The last slot is never a target either: it keeps the counters of targets
 * that were removed, so that the namespace's totals never go down.
 */
#define SKSTEER_RETIRED_SLOT (SKSTEER_SLOTS - 1)

/*
 * The port table is an array indexed by (protocol bit << 16 | port), so the
 * per-lookup port check is an array access the verifier inlines instead of a
 * hash helper call. Bit 4 of the IP protocol number tells UDP (17) from
 * TCP (6), which makes the key computation branch-free.
 */
#define SKSTEER_PORT_KEYS (2 * 65536)
#define SKSTEER_PROTO_BIT(proto) (((proto)&0x10) << 12)

/*
 * The table packs eight keys into each 8-byte array element, so that key K's
 * owner is byte K of the (mmapped) table: 128 KB for both protocols, where an
 * element per key took 1 MB (an array rounds each value up to 8 bytes).
 */
#define SKSTEER_KEYS_PER_ELEM 8

/*
 * Since layout 3 the port table holds a route, not a target: route R sends
 * IPv4 lookups to the target in entry 2R of the routes map and IPv6 lookups to
 * the one in entry 2R + 1. So one service may have an IPv4 socket and an
 * IPv6-only one on the same ports (nginx's listen 80; listen [::]:80;), and a
 * lone socket (dual-stack or not) gets both families, as before. Route 0 is
 * "not steered"; 255 marks a key with destination-scoped bindings.
 */
#define SKSTEER_ROUTES 256

struct sksteer_route {
	__u8 slot; /* the target this family's lookups go to */
	__u8 owner[2]; /* the loader's: the AF_INET and the AF_INET6 target (0: none) */
	__u8 pad;
};
#define SKSTEER_PORT_ELEMS (SKSTEER_PORT_KEYS / SKSTEER_KEYS_PER_ELEM)

/*
 * Destination-scoped bindings (--dst PREFIX). A key some prefix binds holds
 * SKSTEER_SCOPED in the port table instead of a route: the lookup then asks
 * the bindings table (bindings_abi.h, since layout 6) for the route of the
 * most specific prefix that holds the destination and binds the key; if none
 * does, the key's unscoped route, which scope table 0 (slot 0 of the "scopes"
 * map) holds while the port table holds the mark. Unscoped keys cost what
 * they did.
 *
 * Layouts 4 and 5 held the prefixes in two lists (the "prefixes" map, which
 * prefix_list[0] picks) and each prefix's ports in a scope table of its own
 * (slots 1-32 of "scopes"): read once, to migrate them.
 */
#define SKSTEER_SCOPED 255
#define SKSTEER_PREFIXES 16 /* per family, in the lists of layouts 4 and 5 */
/* the "scopes" map's slots: 0, the unscoped routes of marked keys; layouts 4-5, one per prefix */
#define SKSTEER_SCOPES (1 + 2 * SKSTEER_PREFIXES)

struct sksteer_prefix4 {
	__u32 addr; /* network byte order, host bits clear */
	__u32 mask;
	__u32 scope; /* its table in the "scopes" map */
};

struct sksteer_prefix6 {
	__u32 addr[4];
	__u32 mask[4];
	__u32 scope;
};

/* One prefix list of layouts 4 and 5: each family's prefixes, most specific (longest) first. */
struct sksteer_prefixes {
	__u32 n4, n6;
	struct sksteer_prefix4 v4[SKSTEER_PREFIXES];
	struct sksteer_prefix6 v6[SKSTEER_PREFIXES];
};

/*
 * The layout of the pinned maps, pinned with them (the "layout" map). sksteer
 * migrates pins of an older layout in place, and refuses a newer one.
 *   2 (0.2): the port table with one element per key; no "layout" map.
 *   3: the packed port table of routes (struct sksteer_route); the trace ring
 *      buffer is the tracer's, not pinned.
 *   4: destination-scoped bindings: the "scopes" and "prefixes" maps, and
 *      marks in the port table (SKSTEER_SCOPED); layout 3 pins gain the maps.
 *   5: the UDP client rule keeps replies, not ports: udp_clients counts claims,
 *      and "udp_replies" (an array of maps) holds the watcher's table of
 *      awaited replies; layout 4 pins gain the map, and their watcher is
 *      replaced.
 *   6: destination-scoped bindings in the bindings table (bindings_abi.h:
 *      tables4, tables6, table_ranges, table_metas, table_sel, and the
 *      tables' halves pinned as table4_H, table6_H, ranges_N) instead of the
 *      prefix lists and scope tables 1-32; scope table 0 stays. Layout 4 and
 *      5 pins gain the maps, their prefixes' bindings are copied in before the
 *      new program runs, and the old maps go once it does.
 */
#define SKSTEER_LAYOUT 6U

/*
 * Per-CPU counters, one set per slot. Slot 0 holds what belongs to no target:
 * lookups for ports nobody steers, and trace events the ring buffer could not
 * take.
 */
struct sksteer_stats {
	__u64 steered;
	__u64 passed;
	__u64 no_target;
	__u64 err_family; /* EAFNOSUPPORT: IPv4 lookup for an IPv6-only target, or the reverse */
	__u64 err_proto; /* EPROTOTYPE: protocol does not match the target's */
	__u64 err_state; /* ESOCKTNOSUPPORT: target no longer listening / bound */
	__u64 err_other;
	__u64 events_lost;
};

/*
 * Per-target flags the program passes to bpf_sk_assign(): after a restart
 * (-s alone), BPF_SK_LOOKUP_F_NO_REUSEPORT sends every connection to the new
 * socket, not to any member of its SO_REUSEPORT group (the old process too).
 */
#define SKSTEER_ASSIGN_FLAGS 2 /* the flags a target may have: BPF_SK_LOOKUP_F_NO_REUSEPORT */

/*
 * Not for bpf_sk_assign(): while the target's socket is gone, refuse its
 * ports (SK_DROP: TCP answers RST) instead of leaving them to the kernel.
 */
#define SKSTEER_FAIL_CLOSED (1U << 8)

/*
 * UDP targets whose ports overlap the ephemeral range: bits 16-31 of their
 * flags hold the range's first port (0: not such a target). On their ports
 * from there up, a datagram that is a reply to another program's UDP client
 * socket (clients.bpf.h) is left to that socket.
 */
#define SKSTEER_CLIENTS_SHIFT 16
#define SKSTEER_CLIENTS_FROM(flags) ((flags) >> SKSTEER_CLIENTS_SHIFT)

/*
 * udp_clients: a 4-bit count per port, sixteen ports to an element, of the
 * client sockets that hold the port (0 or 1: a port has one claim at most).
 */
#define SKSTEER_CLIENTS_PER_ELEM 16
#define SKSTEER_CLIENTS_COUNT(elem, port) (((elem) >> ((port) % 16 * 4)) & 0xf)
#define SKSTEER_CLIENTS_ONE(port) (1ULL << ((port) % 16 * 4))

/*
 * The replies the watcher awaits, in one hash (clients.bpf.h), keyed by
 * struct sksteer_awaited:
 *   - a claim, family 0: the port in addr[0] (host order) -> the cookie of
 *     the client socket that holds the port now;
 *   - a peer, family AF_INET or AF_INET6: (client socket cookie, the peer's
 *     address and port) -> until when (CLOCK_MONOTONIC ns) a datagram from the
 *     peer is a reply. IPv4-mapped IPv6 peers are kept as AF_INET.
 * Bounded: SKSTEER_UDP_AWAITED entries in all, SKSTEER_UDP_PER_UID for the
 * sockets of one user, SKSTEER_UDP_PEERS per socket (it forgets its
 * least recent peer first).
 */
struct sksteer_awaited {
	__u64 cookie; /* the client socket's; 0 for a claim */
	__u32 addr[4]; /* network byte order; IPv4 in addr[0] */
	__u16 port; /* the peer's, network byte order */
	__u8 family;
	__u8 pad[5];
};

#define SKSTEER_UDP_AWAITED 16384U
#define SKSTEER_UDP_PER_UID 1024U
#define SKSTEER_UDP_PEERS 8U
#define SKSTEER_UDP_REPLY_S 30U /* a peer's datagrams are replies this long after a send to it */

/* The watcher's counters (per CPU), pinned as udp_watch_stats. */
struct sksteer_udp_watch {
	__u64 full; /* sends not recorded: the table was full */
	__u64 over_budget; /* sends not recorded: their user had SKSTEER_UDP_PER_UID entries */
};

/* Sockets made servers by --force before the watcher saw them (udp_adopted) */
#define SKSTEER_UDP_ADOPTED 4096U
#define SKSTEER_UDP_SERVER 0 /* udp_adopted's value */

/*
 * Counters added in 0.2, per CPU and slot, in a map of their own: pins of 0.1
 * upgrade in place, and they are counted only on the paths that need them.
 */
struct sksteer_stats_ext {
	__u64 refused; /* fail-closed: SK_DROP while the target's socket was gone */
	__u64 preempted; /* an earlier sk_lookup program had chosen a socket already */
};

/* Where a target listens. Only userspace reads it; the program never does. */
struct sksteer_target {
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP; 0 marks a free slot */
	__u8 family; /* AF_INET or AF_INET6 */
	__u16 port; /* host byte order */
	__u8 addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/*
 * What the loader records of a target beyond its address: the ports it was
 * last given (one bit each: what --check compares the port table with), and
 * the uid that owned its socket (a socket of another user does not take its
 * place without --force). Only userspace reads it.
 */
struct sksteer_target_info {
	__u32 uid;
	__u32 flags; /* SKSTEER_INFO_* */
	__u64 ports[65536 / 64];
};

#define SKSTEER_INFO_PORTS 1 /* ports is set */
#define SKSTEER_INFO_UID 2 /* uid is set */

/* Who is tracing, so that a tracer killed with SIGKILL can be noticed and undone. */
struct sksteer_tracer {
	__u32 pid;
	__u32 pad;
	__u64 start_time; /* field 22 of /proc/PID/stat, to tell a reused pid */
};

enum sksteer_verdict {
	SKSTEER_STEERED = 0,
	SKSTEER_PASS = 1, /* port not listed */
	SKSTEER_NO_TARGET = 2, /* the target's socket is gone */
	SKSTEER_ERROR = 3, /* bpf_sk_assign failed; errno in err */
	SKSTEER_REFUSED = 4, /* fail-closed target without its socket: dropped */
	SKSTEER_PREEMPTED = 5, /* an earlier sk_lookup program chose a socket */
	SKSTEER_CLIENT = 6, /* a reply to another program's UDP client socket: left to it */
	/* 7 and 8: the follower's (src/follow_maps.h) */
};

struct sksteer_event {
	__u64 time_ns; /* CLOCK_MONOTONIC */
	__u32 remote_ip[4]; /* network byte order; IPv4 in [0] */
	__u32 local_ip[4];
	__u32 ifindex;
	__s32 err; /* negative errno for SKSTEER_ERROR, else 0 */
	__u16 remote_port; /* host byte order */
	__u16 local_port;
	__u8 family;
	__u8 proto;
	__u8 verdict;
	__u8 slot;
	__u8 scope; /* 1: a binding of a destination prefix chose the target; 0: an unscoped one */
	__u8 pad[7];
};

#endif /* __SKSTEER_H */
