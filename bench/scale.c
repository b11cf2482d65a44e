// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * make bench's scale table (issue 27): the bindings table (src/lib/bindings.c,
 * looked up by bench/scaled.bpf.c, sksteer's path with it) against the
 * two-LPM dispatcher (bench/twolpm.bpf.c, the production peer's design)
 * holding the same bindings, at 16 to 1,000,000 bindings: per-lookup cost
 * above the floor (bench/floor.bpf.c) for a /32 binding, a /24 binding, an
 * address no prefix holds, and a port the /32 does not bind (it falls to the
 * /24); kernel memory per binding (fdinfo memlock); the table's build time.
 *
 *   scale DIR [N...]    DIR holds the .bpf.o files; N bindings (default 16, 1,000, 100,000
 *                       and 1,000,000, and IPv6 at 100,000), the workload: a /24
 *                       (/48) on every port for each of N/3 prefixes, a /32 (/128) inside
 *                       each on 80 and 443
 *   scale DIR --flat    the table's own cost at 1,000,000 bindings against 1,000, side by
 *                       side in one run, IPv4 and IPv6
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sksteer_abi.h"
#include "bindings_maps.h"

#define ROUNDS 5
#define REPEAT 20000
#define FLAT_ROUNDS 8
#define FLAT_REPEAT 4000
#define FLAT_ADDRS 32

static const char *dir;
static int sock_fd;

static void die(const char *what)
{
	fprintf(stderr, "scale: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct prog {
	struct bpf_object *obj;
	int fd;
};

static int map_fd(const struct prog *p, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(p->obj, name);

	if (!m)
		die(name);
	return bpf_map__fd(m);
}

static struct prog load(const char *file, const char *name)
{
	char path[512];
	struct prog p;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	p.obj = bpf_object__open_file(path, NULL);
	if (!p.obj || bpf_object__load(p.obj))
		die(path);
	p.fd = bpf_program__fd(bpf_object__find_program_by_name(p.obj, name));
	return p;
}

static unsigned long long memlock(int fd)
{
	unsigned long long v = 0;
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* the memlock of the inner map in slot `at` of an array of maps */
static unsigned long long inner_memlock(int outer, __u32 at)
{
	unsigned long long v;
	__u32 id = 0;
	int fd;

	if (bpf_map_lookup_elem(outer, &at, &id))
		return 0;
	fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return 0;
	v = memlock(fd);
	close(fd);
	return v;
}

struct lookup {
	const char *what;
	int family;
	uint16_t port;
	uint8_t dst[16];
};

static double measure(const struct prog *p, const struct lookup *l, __u32 repeat)
{
	struct bpf_sk_lookup ctx = { .family = (__u32)l->family,
				     .protocol = IPPROTO_TCP,
				     .remote_port = htons(40000),
				     .local_port = l->port };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx, .ctx_size_out = sizeof(ctx), .repeat = repeat);

	if (l->family == AF_INET) {
		memcpy(&ctx.local_ip4, l->dst, 4);
		ctx.remote_ip4 = htonl(0x7f000001);
	} else {
		memcpy(ctx.local_ip6, l->dst, 16);
		ctx.remote_ip6[3] = htonl(1);
	}
	if (bpf_prog_test_run_opts(p->fd, &opts))
		die("BPF_PROG_TEST_RUN");
	return (double)opts.duration;
}

/* the k-th /24 of IPv4 (a permutation of 2^24), or /48 of IPv6 */
static void outer_prefix(int family, uint32_t k, uint8_t *a)
{
	uint32_t x = k * 2654435761u;

	memset(a, 0, 16);
	if (family == AF_INET) {
		uint32_t v = htonl((x & 0xffffff) << 8);

		memcpy(a, &v, 4);
		return;
	}
	a[0] = 0x20, a[1] = 0x01, a[2] = (uint8_t)(x >> 24), a[3] = (uint8_t)(x >> 16);
	a[4] = (uint8_t)(x >> 8), a[5] = (uint8_t)x;
}

/* the workload: K = n/3 outer prefixes on every port, a /32 (/128) inside on 80, 443 */
static size_t workload(int family, size_t n, struct binding *b)
{
	size_t k = n > 5 ? (n - 2) / 3 : 1, made = 0; /* two-LPM adds the unscoped 2: 1M fits */

	for (uint32_t i = 0; i < k; i++) {
		struct binding o = { .family = (uint8_t)family,
				     .proto = IPPROTO_TCP,
				     .len = family == AF_INET ? 24 : 48,
				     .lo = 1,
				     .hi = 65535,
				     .route = (uint8_t)(2 + i % 100) };

		outer_prefix(family, i, o.addr);
		b[made++] = o;
		o.len = family == AF_INET ? 32 : 128;
		o.addr[family == AF_INET ? 3 : 15] = (uint8_t)(1 + i % 253);
		o.route = (uint8_t)(102 + i % 100);
		o.lo = o.hi = 80;
		b[made++] = o;
		o.lo = o.hi = 443;
		b[made++] = o;
	}
	return made;
}

struct tkey {
	__u32 prefixlen;
	__u8 protocol;
	__u16 port;
	__u32 addr[4];
} __attribute__((packed));

static void twolpm_put(int fd, const struct binding *b, uint16_t port)
{
	struct tkey k = { .protocol = b->proto, .port = port };
	struct {
		__u32 id, prefixlen;
	} v = { b->route, b->len };

	if (b->family == AF_INET6) {
		memcpy(k.addr, b->addr, 16);
	} else {
		k.addr[2] = htonl(0xffff);
		memcpy(&k.addr[3], b->addr, 4);
		v.prefixlen = 96u + b->len;
	}
	k.prefixlen = 8 + 16 + v.prefixlen;
	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
		die("twolpm_bindings");
}

/* the two-LPM dispatcher: a binding on every port is its port 0, others one entry a port */
static void fill_twolpm(const struct prog *p, const struct binding *b, size_t n)
{
	int fd = map_fd(p, "twolpm_bindings");
	struct binding any = { .proto = IPPROTO_TCP, .route = 1 };

	for (size_t i = 0; i < n; i++)
		if (b[i].lo == 1 && b[i].hi == 65535)
			twolpm_put(fd, &b[i], 0);
		else
			for (uint32_t port = b[i].lo; port <= b[i].hi; port++)
				twolpm_put(fd, &b[i], (uint16_t)port);
	any.family = AF_INET; /* the unscoped binding: every TCP port, route 1 */
	twolpm_put(fd, &any, 0);
	any.family = AF_INET6;
	twolpm_put(fd, &any, 0);
	for (__u32 r = 1; r < 255; r++) {
		__u64 s = (__u64)sock_fd;

		bpf_map_update_elem(map_fd(p, "twolpm_sockets"), &r, &s, BPF_ANY);
	}
}

static struct bindings_maps maps_of(const struct prog *p)
{
	return (struct bindings_maps){ .tables4 = map_fd(p, "tables4"),
				       .tables6 = map_fd(p, "tables6"),
				       .ranges = map_fd(p, "table_ranges"),
				       .metas = map_fd(p, "table_metas"),
				       .sel = map_fd(p, "table_sel") };
}

/* sksteer's side: every TCP port marked scoped, unscoped route 1, routes to slot 1 */
static void fill_front(const struct prog *p)
{
	size_t bytes = SKSTEER_PORT_KEYS;
	uint8_t *ports, *unscoped;
	__u32 slot = 1;
	__u64 s = (__u64)sock_fd;

	ports = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd(p, "ports"), 0);
	unscoped = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd(p, "unscoped"), 0);
	if (ports == MAP_FAILED || unscoped == MAP_FAILED)
		die("mmap");
	for (uint32_t port = 1; port < 65536; port++) {
		ports[port] = SKSTEER_SCOPED;
		unscoped[port] = 1;
	}
	munmap(ports, bytes);
	munmap(unscoped, bytes);
	for (__u32 r = 2; r < 2 * SKSTEER_ROUTES; r++) {
		struct sksteer_route route = { .slot = 1 };

		bpf_map_update_elem(map_fd(p, "routes"), &r, &route, BPF_ANY);
	}
	if (bpf_map_update_elem(map_fd(p, "targets"), &slot, &s, BPF_ANY))
		die("targets");
}

static int listener(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0 || listen(fd, 1))
		die("listener");
	(void)a;
	return fd;
}

/*
 * The four lookups of a row, into the workload b of n bindings: to the first /32 (/128) on a
 * port it binds, and on one it does not; into its /24 (/48) outside the /32; past every outer
 * prefix of n (and so of any smaller workload, whose prefixes are the first of the same list).
 */
static void the_lookups(int family, size_t n, const struct binding *b, struct lookup *l)
{
	static const char *const what[2][4] = { { "/32 binds it", "/32 holds, not the port",
						  "/24 binds it", "no prefix holds it" },
						{ "/128 binds it", "/128 holds, not the port",
						  "/48 binds it", "no prefix holds it" } };
	int fam = family == AF_INET6;

	for (int i = 0; i < 4; i++) {
		l[i] = (struct lookup){ .what = what[fam][i], .family = family };
		memcpy(l[i].dst, b[i == 3 ? 0 : 1].addr, 16); /* the first /32 */
		l[i].port = i == 1 ? 8080 : 80;
	}
	l[2].dst[fam ? 15 : 3] ^= 0x80; /* in the /24 (/48), not its /32 */
	outer_prefix(family, (uint32_t)(n / 3 + 7), l[3].dst); /* past every outer prefix */
	l[3].dst[fam ? 15 : 3] = 1;
}

/*
 * sksteer's lookup path (scaled.bpf.o) with the table of the workload of *n bindings in place
 * (b: the workload; *n: how many it made); *build_ms: the table's build and publishing.
 */
static struct prog table_of(int family, size_t *n, struct binding *b, double *build_ms)
{
	struct binding *copy = calloc(*n + 3, sizeof(*b));
	struct prog p = load("scaled.bpf.o", "scaled");
	struct bindings_maps m = maps_of(&p);
	struct bindings_table t;
	char err[256];
	double t0;

	if (!copy)
		die("calloc");
	*n = workload(family, *n, b);
	memcpy(copy, b, *n * sizeof(*b));
	t0 = now_ms();
	if (bindings_build(copy, *n, family, 0, NULL, &t, err, sizeof(err)) ||
	    bindings_publish(&m, &t, NULL, err, sizeof(err))) {
		fprintf(stderr, "scale: %s\n", err);
		exit(1);
	}
	*build_ms = now_ms() - t0;
	fill_front(&p);
	bindings_table_free(&t);
	free(copy);
	return p;
}

/*
 * "From 1,000 to 1,000,000 bindings it stays within 1.2x of itself": the table at both sizes
 * loaded side by side. A lookup's cost depends on how full the buckets it probes are, which
 * the hash's seed (random each build) decides: each kind of lookup is made to FLAT_ADDRS
 * addresses (the first prefixes, in both tables), each measured on the floor and on both sizes
 * in turn (the sizes' order alternating), round after round, so that the machine's drift falls
 * on both alike. The mean over the addresses of each one's best, and the ratio of
 * 1,000,000's to 1,000's, whole and above the floor.
 */
static void flat(int family)
{
	static const size_t sizes[2] = { 1000, 1000000 };
	struct binding *b[2];
	struct prog floor_p = load("floor.bpf.o", "floor_prog"), ours[2];
	struct lookup l[FLAT_ADDRS][4];
	double best[FLAT_ADDRS][4][3], mean[4][3] = { { 0 } };

	for (int s = 0; s < 2; s++) {
		size_t n = sizes[s];
		double ms;

		b[s] = calloc(n + 3, sizeof(*b[s]));
		if (!b[s])
			die("calloc");
		ours[s] = table_of(family, &n, b[s], &ms);
	}
	/* the a-th address of each kind: the a-th prefix's, past every prefix the a-th */
	for (int a = 0; a < FLAT_ADDRS; a++)
		the_lookups(family, sizes[1] + 3 * (size_t)a, b[1] + 3 * a, l[a]);
	for (int a = 0; a < FLAT_ADDRS; a++)
		for (int i = 0; i < 4; i++)
			for (int k = 0; k < 3; k++)
				best[a][i][k] = 1e18;
	for (int r = 0; r < FLAT_ROUNDS; r++)
		for (int a = 0; a < FLAT_ADDRS; a++)
			for (int i = 0; i < 4; i++)
				for (int k = 0; k < 3; k++) {
					/* the floor, then the two sizes in this round's order */
					int which = k == 0 ? 0 : 1 + ((k - 1) ^ (r & 1));
					const struct prog *p = which ? &ours[which - 1] : &floor_p;
					double ns = measure(p, &l[a][i], FLAT_REPEAT);

					if (ns < best[a][i][which])
						best[a][i][which] = ns;
				}
	for (int a = 0; a < FLAT_ADDRS; a++)
		for (int i = 0; i < 4; i++)
			for (int k = 0; k < 3; k++)
				mean[i][k] += best[a][i][k] / FLAT_ADDRS;
	for (int i = 0; i < 4; i++) {
		double small = mean[i][1] - mean[i][0], big = mean[i][2] - mean[i][0];

		printf("%s  %-24s %6.1f %8.1f %10.1f   %5.2f  %5.2f\n",
		       family == AF_INET6 ? "IPv6" : "IPv4", l[0][i].what, mean[i][0], mean[i][1],
		       mean[i][2], mean[i][2] / mean[i][1], small > 0 ? big / small : 0);
	}
	for (int s = 0; s < 2; s++) {
		bpf_object__close(ours[s].obj);
		free(b[s]);
	}
	bpf_object__close(floor_p.obj);
}

static void row(int family, size_t n)
{
	struct binding *b = calloc(n + 3, sizeof(*b));
	struct prog floor_p = load("floor.bpf.o", "floor_prog");
	struct prog two = load("twolpm.bpf.o", "twolpm");
	struct prog ours;
	struct bindings_maps m;
	struct lookup l[4];
	double best[4][3], t0, build_ms, fill_ms;
	unsigned long long two_bytes, our_bytes;
	int fam = family == AF_INET6;

	if (!b)
		die("calloc");
	ours = table_of(family, &n, b, &build_ms);
	m = maps_of(&ours);
	t0 = now_ms();
	fill_twolpm(&two, b, n);
	fill_ms = now_ms() - t0;
	the_lookups(family, n, b, l);
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 3; k++)
			best[i][k] = 1e18;
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < 4; i++) {
			const struct prog *ps[3] = { &floor_p, &two, &ours };

			for (int k = 0; k < 3; k++) {
				double ns = measure(ps[k], &l[i], REPEAT);

				if (ns < best[i][k])
					best[i][k] = ns;
			}
		}
	two_bytes = memlock(map_fd(&two, "twolpm_bindings"));
	our_bytes = inner_memlock(fam ? m.tables6 : m.tables4, 0) +
		    inner_memlock(fam ? m.tables6 : m.tables4, 1) +
		    inner_memlock(m.ranges, 2 * fam) + inner_memlock(m.ranges, 2 * fam + 1);
	for (int i = 0; i < 4; i++) {
		double above2 = best[i][1] - best[i][0], above = best[i][2] - best[i][0];

		printf("%s %9zu  %-24s %6.1f %7.1f %7.1f  %5.2f\n", fam ? "IPv6" : "IPv4", n,
		       l[i].what, best[i][0], best[i][1], best[i][2],
		       above2 > 0 ? above / above2 : 0);
	}
	printf("%s %9zu  memory: two-LPM %.1f B a binding, the table %.1f B; build %.0f ms "
	       "(two-LPM's %zu updates: %.0f ms)\n\n",
	       fam ? "IPv6" : "IPv4", n, (double)two_bytes / n, (double)our_bytes / n, build_ms,
	       n + 2, fill_ms);
	bpf_object__close(floor_p.obj);
	bpf_object__close(two.obj);
	bpf_object__close(ours.obj);
	free(b);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 16, 1000, 100000, 1000000 };

	if (argc < 2) {
		fprintf(stderr, "usage: scale DIR [N...]\n");
		return 2;
	}
	dir = argv[1];
	libbpf_set_print(NULL);
	sock_fd = listener();
	if (argc > 2 && !strcmp(argv[2], "--flat")) {
		printf("From 1,000 to 1,000,000 bindings: the table at both sizes side by side (ns a\n"
		       "lookup: the mean over %d addresses of each one's best of %d rounds of %d;\n"
		       "ratios: 1,000,000's over 1,000's, whole and above the floor)\n\n",
		       FLAT_ADDRS, FLAT_ROUNDS, FLAT_REPEAT);
		printf("family lookup                    floor    1,000  1,000,000   whole  above\n");
		flat(AF_INET);
		flat(AF_INET6);
		return 0;
	}
	printf("Scoped bindings at scale: the bindings table against the two-LPM dispatcher with\n"
	       "the same bindings (BPF_PROG_TEST_RUN, best of %d rounds of %d, ns a lookup; the\n"
	       "ratio is the table's cost above the floor over two-LPM's)\n\n",
	       ROUNDS, REPEAT);
	printf("family bindings  lookup                    floor  two-LPM  table  ratio\n");
	if (argc > 2) {
		for (int i = 2; i < argc; i++)
			row(AF_INET, strtoul(argv[i], NULL, 0));
		return 0;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		row(AF_INET, sizes[i]);
	row(AF_INET6, 100000);
	return 0;
}
