// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-lookup cost of sk_lookup programs with BPF_PROG_TEST_RUN: the harness
 * floor (an empty program), the seed's design taken literally (u16 hash +
 * one-entry sockmap), and sksteer's programs: `sksteer` as it always runs,
 * the same built with no tracing code at all (`sksteer-notrace`, the reference
 * for "tracing off costs nothing"), and `sksteer_trace`, which `--trace` swaps
 * in. Each is
 * measured for a steered hit and a pass-through miss with 1, 1,000 and 65,535
 * ports configured, and sksteer's also with those ports spread over 255
 * targets; best of several runs of REPEAT lookups each.
 *
 *   lookup OUTPUT_DIR [REPEAT]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sksteer_abi.h"
#include "bindings_maps.h"

#define RUNS 5
#define HIT_PORT 443
#define MISS_PORT 9

static unsigned int repeat = 1000000;
static int target_fd;

struct prog {
	const char *name;
	struct bpf_object *obj;
	int fd;
	struct ring_buffer *rb; /* tracing instance: drained between batches */
};

static void die(const char *what)
{
	fprintf(stderr, "lookup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listener(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16))
		die("listener");
	return fd;
}

static int drain(void *ctx, void *data, size_t size)
{
	return 0;
}

/* Loads program `prog` of object `file`; the whole object shares one set of maps. */
static struct prog load(const char *dir, const char *file, const char *prog, const char *name)
{
	struct bpf_program *p_;
	struct prog p = { .name = name };
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	p.obj = bpf_object__open_file(path, NULL);
	if (!p.obj)
		die(path);
	bpf_object__for_each_program(p_, p.obj)
		bpf_program__set_autoload(p_, !strcmp(bpf_program__name(p_), prog));
	if (bpf_object__load(p.obj))
		die(path);
	p.fd = bpf_program__fd(bpf_object__find_program_by_name(p.obj, prog));
	if (strstr(prog, "trace")) {
		struct bpf_map *map = bpf_object__find_map_by_name(p.obj, "events");

		p.rb = ring_buffer__new(bpf_map__fd(map), drain, NULL, NULL);
	}
	return p;
}

static int map_fd(const struct prog *p, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(p->obj, name);

	return map ? bpf_map__fd(map) : -1;
}

/*
 * Sets key's owner in an sksteer port table: an element per key (layout 2,
 * sksteer-0.2) or eight keys packed per element (layout 3 on).
 */
static void put_owner(const struct prog *p, uint32_t key, uint8_t slot)
{
	struct bpf_map *map = bpf_object__find_map_by_name(p->obj, "ports");
	int fd = bpf_map__fd(map);
	uint32_t elem = key / SKSTEER_KEYS_PER_ELEM;
	uint8_t owners[SKSTEER_KEYS_PER_ELEM];

	if (bpf_map__value_size(map) == 1) {
		bpf_map_update_elem(fd, &key, &slot, BPF_ANY);
		return;
	}
	if (bpf_map_lookup_elem(fd, &elem, owners))
		die("port table");
	owners[key % SKSTEER_KEYS_PER_ELEM] = slot;
	bpf_map_update_elem(fd, &elem, owners, BPF_ANY);
}

/* Route r of an sksteer with routes (layout 3): both families to target slot. */
static void put_route(const struct prog *p, uint32_t r, uint8_t slot)
{
	struct sksteer_route e = { .slot = slot, .owner = { slot } };
	int fd = map_fd(p, "routes");

	for (uint32_t key = 2 * r; fd >= 0 && key <= 2 * r + 1; key++)
		bpf_map_update_elem(fd, &key, &e, BPF_ANY);
}

/*
 * The two-LPM baseline: one binding per port on every IPv4 address (0.0.0.0/0,
 * mapped: a /96 of IPv6), as that design holds a port list, all to one socket.
 */
static void configure_twolpm(const struct prog *p, unsigned int n, bool miss)
{
	struct {
		uint32_t prefixlen;
		uint8_t protocol;
		uint16_t port;
		uint32_t addr[4];
	} __attribute__((packed)) key = {}, next;
	struct {
		uint32_t id, prefixlen;
	} b = { 0, 96 };
	int fd = map_fd(p, "twolpm_bindings");
	uint64_t sock = (uint64_t)target_fd;
	uint32_t zero = 0;

	while (!bpf_map_get_next_key(fd, NULL, &next))
		bpf_map_delete_elem(fd, &next);
	key.prefixlen = 8 + 16 + 96;
	key.protocol = IPPROTO_TCP;
	key.addr[2] = htonl(0x0000ffff);
	for (uint32_t port = 1; port <= 65535; port++) {
		if ((port > n && port != HIT_PORT) || (miss && port == MISS_PORT))
			continue;
		key.port = (uint16_t)port;
		bpf_map_update_elem(fd, &key, &b, BPF_ANY);
	}
	bpf_map_update_elem(map_fd(p, "twolpm_sockets"), &zero, &sock, BPF_ANY);
}

/*
 * Configures ports 1..n (and the hit port, but never the miss port when
 * measuring misses), over `targets` targets that all hold the same listener.
 */
static void configure(const struct prog *p, unsigned int n, unsigned int targets, bool miss)
{
	uint64_t sock = (uint64_t)target_fd;
	uint32_t zero = 0;
	int ports, sockets;

	if (!strcmp(p->name, "floor"))
		return;
	if (!strcmp(p->name, "two-LPM")) {
		configure_twolpm(p, n, miss);
		return;
	}
	if (!strcmp(p->name, "seed-literal")) {
		ports = map_fd(p, "seed_ports");
		sockets = map_fd(p, "seed_socket");
		for (uint16_t port = 1; port != 0; port++) {
			bool want = port <= n || port == HIT_PORT;

			if (port == MISS_PORT && miss)
				want = false;
			if (want)
				bpf_map_update_elem(ports, &port, &(uint8_t){ 1 }, BPF_ANY);
			else
				bpf_map_delete_elem(ports, &port);
		}
		bpf_map_update_elem(sockets, &zero, &sock, BPF_ANY);
		return;
	}
	sockets = map_fd(p, "targets");
	for (uint32_t port = 1; port <= 65535; port++) {
		bool want = port <= n || port == HIT_PORT;
		uint8_t slot;

		if (port == MISS_PORT && miss)
			want = false;
		slot = want ? (uint8_t)(port % targets + 1) : 0;
		put_owner(p, port, slot);
	}
	for (uint32_t t = 1; t <= targets; t++) {
		bpf_map_update_elem(sockets, &t, &sock, BPF_ANY);
		put_route(p, t, (uint8_t)t);
	}
}

/* ns per lookup of protocol proto to dst:port (dst in host byte order): the best of RUNS runs */
static double measure_at(const struct prog *p, uint16_t port, uint32_t proto, uint32_t dst)
{
	struct bpf_sk_lookup ctx = {
		.family = AF_INET,
		.protocol = proto,
		.remote_ip4 = htonl(0x7f000001),
		.remote_port = htons(40000),
		.local_ip4 = htonl(dst),
		.local_port = port,
	};
	double best = 1e18;

	for (int run = 0; run < RUNS; run++) {
		/* a tracing instance's ring buffer holds ~3,500 events: drain it between batches */
		unsigned int batch = p->rb ? 2000 : repeat, done = 0;
		double total = 0;

		while (done < repeat) {
			LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx,
				    .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
				    .ctx_size_out = sizeof(ctx), .repeat = batch);

			struct timespec a, b;

			ctx.cookie = 0;
			/* wall time, for sub-ns resolution: the syscall's own cost spreads over the batch */
			clock_gettime(CLOCK_MONOTONIC, &a);
			if (bpf_prog_test_run_opts(p->fd, &opts))
				die("BPF_PROG_TEST_RUN");
			clock_gettime(CLOCK_MONOTONIC, &b);
			total += (double)(b.tv_sec - a.tv_sec) * 1e9 +
				 (double)(b.tv_nsec - a.tv_nsec);
			done += batch;
			if (p->rb)
				ring_buffer__consume(p->rb);
		}
		if (total / done < best)
			best = total / done;
	}
	return best;
}

static double measure_proto(const struct prog *p, uint16_t port, uint32_t proto)
{
	return measure_at(p, port, proto, 0x7f000001);
}

static double measure(const struct prog *p, uint16_t port)
{
	return measure_proto(p, port, IPPROTO_TCP);
}

/*
 * TCP and UDP, this version against 0.2 and 0.3: slot 1 a TCP listener on
 * HIT_PORT, slot 2 a UDP socket on UDP_PORT (outside the ephemeral range) and
 * on EPHEMERAL_PORT, with the UDP client rule on from EPHEMERAL_FROM (0.3 and
 * this version). A client socket holds CLIENT_PORT, and another REPLY_PORT;
 * the second sent to the lookups' source (127.0.0.1:40000), the first did not.
 * 0.3 left both ports to their clients; this version leaves only the reply.
 */
#define UDP_PORT 53
#define EPHEMERAL_FROM 32768
#define EPHEMERAL_PORT 40000
#define CLIENT_PORT 40001
#define REPLY_PORT 40002

static void hold(int clients, uint32_t port)
{
	uint32_t elem = port / SKSTEER_CLIENTS_PER_ELEM;
	uint64_t counts = 0;

	bpf_map_lookup_elem(clients, &elem, &counts);
	counts += SKSTEER_CLIENTS_ONE(port);
	bpf_map_update_elem(clients, &elem, &counts, BPF_ANY);
}

/* This version's table: socket `cookie` holds port and awaits replies from peer_port. */
static void await(int table, uint64_t cookie, uint32_t port, uint16_t peer_port)
{
	struct sksteer_awaited claim = { .addr = { port } }, peer = {
		.cookie = cookie,
		.addr = { htonl(0x7f000001) },
		.port = htons(peer_port),
		.family = AF_INET,
	};
	uint64_t never = UINT64_MAX;

	if (bpf_map_update_elem(table, &claim, &cookie, BPF_ANY) ||
	    bpf_map_update_elem(table, &peer, &never, BPF_ANY))
		die("the table of awaited replies");
}

static void configure_clients(const struct prog *p)
{
	uint32_t two = 2, zero = 0, flags = EPHEMERAL_FROM << SKSTEER_CLIENTS_SHIFT;
	int clients = map_fd(p, "udp_clients"), replies = map_fd(p, "udp_replies"), table;

	if (clients < 0) /* 0.2: no rule */
		return;
	bpf_map_update_elem(map_fd(p, "target_flags"), &two, &flags, BPF_ANY);
	hold(clients, CLIENT_PORT);
	hold(clients, REPLY_PORT);
	if (replies < 0) /* 0.3: ports, not replies */
		return;
	table = bpf_map_create(
		BPF_MAP_TYPE_HASH, "awaited", sizeof(struct sksteer_awaited), sizeof(uint64_t),
		SKSTEER_UDP_AWAITED,
		&(struct bpf_map_create_opts){ .sz = sizeof(struct bpf_map_create_opts),
					       .map_flags = BPF_F_NO_PREALLOC });
	if (table < 0)
		die("the table of awaited replies");
	await(table, 1, CLIENT_PORT, 53);
	await(table, 2, REPLY_PORT, 40000);
	if (bpf_map_update_elem(replies, &zero, &table, BPF_ANY))
		die("udp_replies");
	close(table);
}

static void configure_protocols(const struct prog *p, int udp_fd)
{
	uint32_t one = 1, two = 2;
	uint64_t tcp_sock = (uint64_t)target_fd, udp_sock = (uint64_t)udp_fd;

	if (!strcmp(p->name, "floor"))
		return;
	put_owner(p, SKSTEER_PROTO_BIT(IPPROTO_TCP) | HIT_PORT, 1);
	put_owner(p, SKSTEER_PROTO_BIT(IPPROTO_UDP) | UDP_PORT, 2);
	put_owner(p, SKSTEER_PROTO_BIT(IPPROTO_UDP) | EPHEMERAL_PORT, 2);
	put_owner(p, SKSTEER_PROTO_BIT(IPPROTO_UDP) | CLIENT_PORT, 2);
	put_owner(p, SKSTEER_PROTO_BIT(IPPROTO_UDP) | REPLY_PORT, 2);
	bpf_map_update_elem(map_fd(p, "targets"), &one, &tcp_sock, BPF_ANY);
	bpf_map_update_elem(map_fd(p, "targets"), &two, &udp_sock, BPF_ANY);
	put_route(p, 1, 1);
	put_route(p, 2, 2);
	configure_clients(p);
}

static int udp_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
		die("udp socket");
	return fd;
}

static void compare_protocols(const char *dir)
{
	static const struct {
		const char *what;
		uint32_t proto;
		uint16_t port;
	} cases[] = {
		{ "tcp, steered", IPPROTO_TCP, HIT_PORT },
		{ "udp, steered (port outside the range)", IPPROTO_UDP, UDP_PORT },
		{ "udp, steered (in the range, no client)", IPPROTO_UDP, EPHEMERAL_PORT },
		{ "udp, a client's port, no reply (now: steered)", IPPROTO_UDP, CLIENT_PORT },
		{ "udp, a reply to a client (left to it)", IPPROTO_UDP, REPLY_PORT },
	};
	struct prog progs[4] = {
		load(dir, "floor.bpf.o", "floor_prog", "floor"),
		load(dir, "sksteer-0.2.bpf.o", "sksteer", "sksteer-0.2"),
		load(dir, "sksteer-0.3.bpf.o", "sksteer", "sksteer-0.3"),
		load(dir, "sksteer.bpf.o", "sksteer", "sksteer"),
	};
	int udp_fd = udp_socket();

	for (int i = 0; i < 4; i++)
		configure_protocols(&progs[i], udp_fd);
	printf("\nTCP and UDP lookups, this version against 0.2 (no UDP client rule) and 0.3 (the rule "
	       "by port), the rule on from port %u\n",
	       EPHEMERAL_FROM);
	printf("%-46s %8s %8s %8s %8s  %7s %7s\n", "lookup", "floor ns", "0.2 ns", "0.3 ns",
	       "now ns", "now/0.2", "now/0.3");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double ns[4];

		for (int i = 0; i < 4; i++)
			ns[i] = measure_proto(&progs[i], cases[c].port, cases[c].proto);
		printf("%-46s %8.1f %8.1f %8.1f %8.1f  %7.2f %7.2f\n", cases[c].what, ns[0], ns[1],
		       ns[2], ns[3], (ns[3] - ns[0]) / (ns[1] - ns[0]),
		       (ns[3] - ns[0]) / (ns[2] - ns[0]));
	}
	printf("now/0.2, now/0.3: cost above the floor, this version relative to each (1.00: "
	       "unchanged).\n");
	close(udp_fd);
}

/*
 * Scoped lookups (--dst): 16 IPv4 prefixes, 127.1.0.0/16 > 127.1.2.0/24 >
 * 127.1.2.3/32 nested and 13 other /24s (10.0.N.0/24), over 65,535 unscoped
 * ports. SCOPED_PORT is bound on every prefix and unscoped; WIDE_PORT on the
 * /16 only. Both designs hold the same bindings (sksteer's in the bindings
 * table, built by the library as a run builds it).
 */
#define SCOPED_PORT 8443
#define WIDE_PORT 8080
#define NPREFIXES 16

struct bench_prefix {
	uint32_t addr; /* host byte order */
	unsigned int len;
};

static void bench_prefixes(struct bench_prefix *pf)
{
	pf[0] = (struct bench_prefix){ 0x7f010203, 32 };
	for (int i = 1; i <= 13; i++)
		pf[i] = (struct bench_prefix){ 0x0a000000 | (uint32_t)i << 8, 24 };
	pf[14] = (struct bench_prefix){ 0x7f010200, 24 };
	pf[15] = (struct bench_prefix){ 0x7f010000, 16 };
}

/* Sets byte key of a packed table (map fd) to route. */
static void put_byte(int fd, uint32_t key, uint8_t route)
{
	uint32_t elem = key / SKSTEER_KEYS_PER_ELEM;
	uint8_t bytes[SKSTEER_KEYS_PER_ELEM] = {};

	bpf_map_lookup_elem(fd, &elem, bytes);
	bytes[key % SKSTEER_KEYS_PER_ELEM] = route;
	if (bpf_map_update_elem(fd, &elem, bytes, BPF_ANY))
		die("scope table");
}

static void configure_scoped_sksteer(const struct prog *p)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	struct bindings_maps maps = { .tables4 = map_fd(p, "tables4"),
				      .tables6 = map_fd(p, "tables6"),
				      .ranges = map_fd(p, "table_ranges"),
				      .metas = map_fd(p, "table_metas"),
				      .sel = map_fd(p, "table_sel") };
	uint32_t tcp = SKSTEER_PROTO_BIT(IPPROTO_TCP), zero = 0;
	struct binding b[NPREFIXES + 1] = {};
	struct bench_prefix pf[NPREFIXES];
	struct bindings_table t;
	char err[256];
	int table0;

	configure(p, 65535, 1, false);
	bench_prefixes(pf);
	for (int i = 0; i < NPREFIXES; i++) {
		uint32_t addr = htonl(pf[i].addr);

		b[i] = (struct binding){ .family = AF_INET,
					 .proto = IPPROTO_TCP,
					 .len = (uint8_t)pf[i].len,
					 .lo = SCOPED_PORT,
					 .hi = SCOPED_PORT,
					 .route = 1 };
		memcpy(b[i].addr, &addr, 4);
	}
	b[NPREFIXES] = b[NPREFIXES - 1]; /* the /16 */
	b[NPREFIXES].lo = b[NPREFIXES].hi = WIDE_PORT;
	if (bindings_build(b, NPREFIXES + 1, AF_INET, 1, NULL, &t, err, sizeof(err)) ||
	    bindings_publish(&maps, &t, NULL, err, sizeof(err))) {
		fprintf(stderr, "lookup: %s\n", err);
		exit(1);
	}
	bindings_table_free(&t);
	/* the marked keys: their unscoped route moves to scope table 0 */
	table0 = bpf_map_create(BPF_MAP_TYPE_ARRAY, "scope", 4, 8, SKSTEER_PORT_ELEMS, &opts);
	if (table0 < 0 || bpf_map_update_elem(map_fd(p, "scopes"), &zero, &table0, 0))
		die("scopes");
	put_byte(table0, tcp | SCOPED_PORT, 1);
	put_byte(table0, tcp | WIDE_PORT, 1);
	put_owner(p, tcp | SCOPED_PORT, SKSTEER_SCOPED);
	put_owner(p, tcp | WIDE_PORT, SKSTEER_SCOPED);
}

static void configure_scoped_twolpm(const struct prog *p)
{
	struct {
		uint32_t prefixlen;
		uint8_t protocol;
		uint16_t port;
		uint32_t addr[4];
	} __attribute__((packed)) key = { .protocol = IPPROTO_TCP };
	struct {
		uint32_t id, prefixlen;
	} b = { 0, 0 };
	struct bench_prefix pf[NPREFIXES];
	int fd = map_fd(p, "twolpm_bindings");

	configure_twolpm(p, 65535, false);
	bench_prefixes(pf);
	key.addr[2] = htonl(0x0000ffff);
	for (int i = 0; i < NPREFIXES; i++) {
		key.prefixlen = 8 + 16 + 96 + pf[i].len;
		b.prefixlen = 96 + pf[i].len;
		key.addr[3] = htonl(pf[i].addr);
		key.port = SCOPED_PORT;
		bpf_map_update_elem(fd, &key, &b, BPF_ANY);
		if (pf[i].len == 16) {
			key.port = WIDE_PORT;
			bpf_map_update_elem(fd, &key, &b, BPF_ANY);
		}
	}
}

static void compare_scoped(const char *dir)
{
	static const struct {
		const char *what;
		uint16_t port;
		uint32_t dst;
	} cases[] = {
		{ "unscoped port (no prefix binds it)", 443, 0x7f010203 },
		{ "the /32 binds it", SCOPED_PORT, 0x7f010203 },
		{ "a /24 binds it", SCOPED_PORT, 0x7f010204 },
		{ "only the /16 does (/24 looked up too)", WIDE_PORT, 0x7f010204 },
		{ "no prefix holds the destination", SCOPED_PORT, 0x7f630001 },
	};
	struct prog progs[3] = {
		load(dir, "floor.bpf.o", "floor_prog", "floor"),
		load(dir, "twolpm.bpf.o", "twolpm", "two-LPM"),
		load(dir, "sksteer.bpf.o", "sksteer", "sksteer"),
	};

	configure_scoped_twolpm(&progs[1]);
	configure_scoped_sksteer(&progs[2]);
	printf("\nScoped lookups (--dst): 16 IPv4 prefixes, 65,535 unscoped ports, both designs "
	       "holding the same bindings\n");
	printf("%-40s %8s %8s %8s  %11s\n", "lookup", "floor ns", "2LPM ns", "ours ns",
	       "ours/2LPM");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double ns[3];

		for (int i = 0; i < 3; i++)
			ns[i] = measure_at(&progs[i], cases[c].port, IPPROTO_TCP, cases[c].dst);
		printf("%-40s %8.1f %8.1f %8.1f  %11.2f\n", cases[c].what, ns[0], ns[1], ns[2],
		       (ns[2] - ns[0]) / (ns[1] - ns[0]));
	}
	printf("ours/2LPM: cost above the floor, sksteer relative to the two-LPM design (goal: at "
	       "most 0.50 for scoped lookups).\n");
}

static unsigned int xlated_len(const struct prog *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(p->fd, &info, &len) ? 0 : info.xlated_prog_len;
}

#define NPROGS 6
/* the baselines with no targets to spread over: the floor, seed-literal, two-LPM */
#define SINGLE(i) ((i) < 2 || (i) == 5)

int main(int argc, char **argv)
{
	static const unsigned int sizes[] = { 1, 1000, 65535, 65535 };
	static const unsigned int ntargets[] = { 1, 1, 1, 255 };
	enum { NSIZES = 4 };
	struct prog progs[NPROGS];
	double ns[NPROGS][NSIZES][2];

	if (argc < 2) {
		fprintf(stderr, "usage: lookup OUTPUT_DIR [REPEAT]\n");
		return 2;
	}
	if (argc > 2)
		repeat = (unsigned int)atoi(argv[2]);
	target_fd = listener();
	progs[0] = load(argv[1], "floor.bpf.o", "floor_prog", "floor");
	progs[1] = load(argv[1], "seed.bpf.o", "seed", "seed-literal");
	progs[2] = load(argv[1], "sksteer-notrace.bpf.o", "sksteer", "sksteer-notrace");
	progs[3] = load(argv[1], "sksteer.bpf.o", "sksteer", "sksteer");
	progs[4] = load(argv[1], "sksteer.bpf.o", "sksteer_trace", "sksteer_trace");
	progs[5] = load(argv[1], "twolpm.bpf.o", "twolpm", "two-LPM");

	for (int s = 0; s < NSIZES; s++) {
		for (int miss = 0; miss < 2; miss++) {
			for (int i = 0; i < NPROGS; i++) {
				/* floor and seed-literal have no targets to spread over */
				if (ntargets[s] > 1 && SINGLE(i))
					continue;
				configure(&progs[i], sizes[s], ntargets[s], miss);
				ns[i][s][miss] = measure(&progs[i], miss ? MISS_PORT : HIT_PORT);
			}
		}
	}

	printf("Per-lookup cost, BPF_PROG_TEST_RUN, best of %d runs of %u lookups\n", RUNS, repeat);
	printf("%-16s %6s %7s  %8s %8s  %9s %9s\n", "program", "ports", "targets", "hit ns",
	       "miss ns", "hit/seed", "miss/seed");
	for (int i = 0; i < NPROGS; i++) {
		for (int s = 0; s < NSIZES; s++) {
			int b = ntargets[s] > 1 ? s - 1 :
						  s; /* the baselines measured for these ports */
			double fh = ns[0][b][0], fm = ns[0][b][1];

			if (ntargets[s] > 1 && SINGLE(i))
				continue;
			printf("%-16s %6u %7u  %8.1f %8.1f", progs[i].name, sizes[s], ntargets[s],
			       ns[i][s][0], ns[i][s][1]);
			if (i == 0)
				printf("  %9s %9s\n", "(floor)", "(floor)");
			else
				printf("  %9.2f %9.2f\n", (ns[i][s][0] - fh) / (ns[1][b][0] - fh),
				       (ns[i][s][1] - fm) / (ns[1][b][1] - fm));
		}
	}
	printf("hit/seed, miss/seed: cost above the floor, relative to the seed-literal program.\n");
	printf("two-LPM: the production peer's design (tubular: two LPM-trie lookups a lookup), "
	       "one binding per port.\n");
	printf("Verified program size: sksteer %u bytes, sksteer-notrace (no tracing code built) %u "
	       "bytes, sksteer_trace %u bytes.\n",
	       xlated_len(&progs[3]), xlated_len(&progs[2]), xlated_len(&progs[4]));
	compare_protocols(argv[1]);
	compare_scoped(argv[1]);
	return 0;
}
