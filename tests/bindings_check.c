// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The differential check of the bindings table (make test: tests/64-bindings.t):
 * random bindings with nested and overlapping prefixes of every length, both
 * families and protocols, built by the library (src/lib/bindings.c), put in
 * the maps (bindings_maps.c), and looked up through BPF_PROG_TEST_RUN of the
 * real lookup (tests/bindings.bpf.c), each verdict held to the plain model
 * (bindings_model.c) and to the library's own walk of the table. make bench runs
 * it at a million bindings. Then six switches between sets of bindings that
 * differ in 1% of the bindings, at most 1,000 (in routes alone, or in prefixes
 * too: each made in the table
 * in use, by generation) while a thread hammers lookups: a verdict the sets
 * agree on never changes, and one that moves is always the old route or the new.
 *
 *   bindings_check OBJECT BINDINGS LOOKUPS [SEED]
 *
 * TAP on stdout; exit 1 on a mismatch, 2 when it cannot run.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bindings_maps.h"
#include "bindings_model.h"

static int tap;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		exit(1);
}

static void die(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(2);
}

struct program {
	struct bpf_object *obj;
	int prog, bss;
	struct bindings_maps maps;
};

static int fd_of(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		die(name);
	return bpf_map__fd(m);
}

static struct program load(const char *path)
{
	struct program p = { .obj = bpf_object__open_file(path, NULL) };

	if (!p.obj || bpf_object__load(p.obj))
		die(path);
	p.prog = bpf_program__fd(bpf_object__find_program_by_name(p.obj, "bindings_check"));
	p.bss = fd_of(p.obj, ".bss");
	p.maps = (struct bindings_maps){ .tables4 = fd_of(p.obj, "tables4"),
					 .tables6 = fd_of(p.obj, "tables6"),
					 .ranges = fd_of(p.obj, "table_ranges"),
					 .metas = fd_of(p.obj, "table_metas"),
					 .sel = fd_of(p.obj, "table_sel") };
	return p;
}

/* The route the program gives (family, proto, dst, port). */
static uint8_t program_route(const struct program *p, int family, int proto, const uint8_t *dst,
			     uint16_t port)
{
	struct bpf_sk_lookup ctx = { .family = (__u32)family,
				     .protocol = (__u32)proto,
				     .remote_port = htons(40000),
				     .local_port = port };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	__u32 zero = 0, chosen = 0;

	if (family == AF_INET) {
		memcpy(&ctx.local_ip4, dst, 4);
		ctx.remote_ip4 = htonl(0x7f000001);
	} else {
		memcpy(ctx.local_ip6, dst, 16);
		ctx.remote_ip6[3] = htonl(1);
	}
	if (bpf_prog_test_run_opts(p->prog, &opts) || bpf_map_lookup_elem(p->bss, &zero, &chosen))
		die("BPF_PROG_TEST_RUN");
	return (uint8_t)chosen;
}

static void build(struct binding *b, size_t n, uint64_t seed, struct bindings_table *t)
{
	char err[256];

	for (int f = 0; f < 2; f++)
		if (bindings_build(b, n, f ? AF_INET6 : AF_INET, seed, NULL, &t[f], err,
				   sizeof(err))) {
			printf("Bail out! build: %s\n", err);
			exit(2);
		}
}

static void publish(const struct program *p, const struct bindings_table *t)
{
	char err[256];

	for (int f = 0; f < 2; f++)
		if (bindings_publish(&p->maps, &t[f], NULL, err, sizeof(err))) {
			printf("Bail out! publish: %s\n", err);
			exit(2);
		}
}

/* lookups through the program, the library's walk and the model: mismatches of each */
static void compare(const struct program *p, const struct binding *b, size_t n,
		    const struct bindings_table *t, size_t lookups, uint64_t *s, size_t *bad,
		    size_t *routed)
{
	bad[0] = bad[1] = *routed = 0;
	for (size_t i = 0; i < lookups; i++) {
		int f = (int)(model_rand(s) & 1), family = f ? AF_INET6 : AF_INET;
		int proto = model_rand(s) % 4 ? IPPROTO_TCP : IPPROTO_UDP;
		uint8_t dst[16] = { 0 }, want, got, walked;
		uint16_t port;

		model_random_lookup(family, dst, &port, s);
		/* past 20,000 bindings the brute force takes minutes: the model length by length */
		want = n <= 20000 ? model_route(b, n, family, proto, dst, port) :
				    model_route_sorted(b, n, family, proto, dst, port);
		got = program_route(p, family, proto, dst, port);
		walked = bindings_table_route(&t[f], proto, dst, port);
		*routed += want != 0;
		if (got != want && bad[0]++ < 3) {
			char text[INET6_ADDRSTRLEN];

			inet_ntop(family, dst, text, sizeof(text));
			printf("# %s %s port %u: model %u, program %u\n", text,
			       proto == IPPROTO_UDP ? "UDP" : "TCP", port, want, got);
		}
		bad[1] += walked != want;
	}
}

static int cmp(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct binding));
}

/* The tables in the maps, read back, are the bindings b. */
static bool read_back(const struct program *p, const struct binding *b, size_t n)
{
	struct binding *got = NULL, *want = malloc((n + 1) * sizeof(*b));
	size_t ngot = 0;
	bool same;
	char err[256];

	if (!want)
		die("malloc");
	memcpy(want, b, n * sizeof(*b));

	for (int f = 0; f < 2; f++) {
		struct bindings_table t;

		if (bindings_fetch(&p->maps, f ? AF_INET6 : AF_INET, &t, err, sizeof(err))) {
			printf("# %s\n", err);
			return false;
		}
		if (bindings_table_read(&t, &got, &ngot))
			die("read");
		bindings_table_free(&t);
	}
	qsort(got, ngot, sizeof(*got), cmp);
	qsort(want, n, sizeof(*want), cmp);
	same = ngot == n && !memcmp(got, want, n * sizeof(*want));
	free(got);
	free(want);
	return same;
}

/* what the hammer looks up: a destination, and the routes it may get */
struct probe {
	int family, proto;
	uint8_t dst[16];
	uint16_t port;
	uint8_t a, b;
};

struct hammer {
	const struct program *p;
	const struct probe *probes;
	size_t n, runs, wrong;
	volatile int stop;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;

	for (size_t i = 0; !h->stop; i = (i + 1) % h->n) {
		const struct probe *q = &h->probes[i];
		uint8_t got = program_route(h->p, q->family, q->proto, q->dst, q->port);

		h->wrong += got != q->a && got != q->b;
		h->runs++;
	}
	return NULL;
}

/* c: b with `count` changes, routes alone (each a new route), or also prefixes added and gone */
static size_t changed(const struct binding *b, size_t n, struct binding *c, size_t count,
		      bool routes_only, uint64_t *s)
{
	size_t m = n;

	memcpy(c, b, n * sizeof(*b));
	for (size_t k = 0; k < count; k++) {
		size_t i = model_rand(s) % m;

		if (routes_only || k % 2) {
			c[i].route = (uint8_t)(1 + (c[i].route + model_rand(s) % 253) % 254);
		} else if (k % 4 == 0) {
			c[i] = c[--m]; /* gone */
		} else { /* a new /32 or /128 under a drawn prefix, on its first port */
			c[m] = c[i];
			c[m].len = c[m].family == AF_INET ? 32 : 128;
			c[m].addr[c[m].family == AF_INET ? 3 : 15] ^=
				(uint8_t)(1 + model_rand(s) % 255);
			c[m].hi = c[m].lo;
			m++;
		}
	}
	return model_distinct(c, m);
}

/* Makes b the tables in use, like the live ones: in place or swapped, which *in_place says. */
static size_t switch_to(const struct program *p, struct binding *b, size_t n, bool *in_place)
{
	size_t updates = 0;
	char err[256];

	*in_place = true;
	for (int f = 0; f < 2; f++) {
		struct bindings_table live;
		bool here;

		if (bindings_fetch(&p->maps, f ? AF_INET6 : AF_INET, &live, err, sizeof(err)) ||
		    bindings_update(&p->maps, &live, b, n, &updates, &here, err, sizeof(err))) {
			printf("Bail out! switch: %s\n", err);
			exit(2);
		}
		*in_place &= here;
		bindings_table_free(&live);
	}
	return updates;
}

static void switching(const struct program *p, struct binding *a, size_t n, uint64_t *s)
{
	size_t count = n / 100 < 1000 ? n / 100 + 1 : 1000;
	struct binding *r = calloc(n + 1, sizeof(*r)), *x = calloc(n + count, sizeof(*x));
	struct probe *probes = calloc(4000, sizeof(*probes));
	size_t nr, nx, np = 0, moving = 0, updates[6];
	struct binding *sets[6];
	size_t sizes[6];
	struct hammer h = { .p = p, .probes = probes };
	bool in_place[6];
	pthread_t th;

	if (!r || !x || !probes)
		die("calloc");
	nr = changed(a, n, r, count, true, s);
	nx = changed(a, n, x, count, false, s);
	/*
	 * lookups whose verdict all three agree on, and some that move in one change: random ones,
	 * and one in four at a binding of x (where a prefix came or went)
	 */
	while (np < 4000) {
		struct probe q = { .family = model_rand(s) & 1 ? AF_INET6 : AF_INET };
		uint8_t in_a, in_r, in_x;
		bool moves;

		q.proto = model_rand(s) % 4 ? IPPROTO_TCP : IPPROTO_UDP;
		model_random_lookup(q.family, q.dst, &q.port, s);
		if (nx && model_rand(s) % 4 == 0) {
			const struct binding *at = &x[model_rand(s) % nx];

			q.family = at->family, q.proto = at->proto, q.port = at->lo;
			memcpy(q.dst, at->addr, 16);
		}
		in_a = model_route_sorted(a, n, q.family, q.proto, q.dst, q.port);
		in_r = model_route_sorted(r, nr, q.family, q.proto, q.dst, q.port);
		in_x = model_route_sorted(x, nx, q.family, q.proto, q.dst, q.port);
		moves = in_r != in_a || in_x != in_a;
		if ((in_r != in_a && in_x != in_a) || (moves ? moving >= 2000 : !in_a))
			continue;
		moving += moves;
		q.a = in_a, q.b = in_r != in_a ? in_r : in_x;
		probes[np++] = q;
	}
	h.n = np;
	if (pthread_create(&th, NULL, hammer, &h))
		die("pthread_create");
	sets[0] = r, sets[1] = a, sets[2] = x, sets[3] = a, sets[4] = r, sets[5] = a;
	sizes[0] = nr, sizes[1] = n, sizes[2] = nx, sizes[3] = n, sizes[4] = nr, sizes[5] = n;
	for (int k = 0; k < 6; k++) {
		struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };

		updates[k] = switch_to(p, sets[k], sizes[k], &in_place[k]);
		nanosleep(&pause, NULL);
	}
	h.stop = 1;
	pthread_join(th, NULL);
	printf("# kernel writes a switch: %zu %zu %zu %zu %zu %zu (in place: %d %d %d %d %d %d)\n",
	       updates[0], updates[1], updates[2], updates[3], updates[4], updates[5], in_place[0],
	       in_place[1], in_place[2], in_place[3], in_place[4], in_place[5]);
	check(in_place[0] && in_place[1] && in_place[4] && in_place[5] && updates[0] < 20 * count,
	      "a change of %zu routes is made in place, a few stores a route (and its copies)",
	      count);
	check(in_place[2] && in_place[3] && updates[2] < 40 * count,
	      "a change of %zu bindings, prefixes added and gone, is made in place too", count);
	check(h.runs > 6 * np / 10 && !h.wrong,
	      "six switches under %zu lookups (%zu of %zu destinations moving): every verdict the old route or the new (%zu not)",
	      h.runs, moving, np, h.wrong);
	free(r);
	free(x);
	free(probes);
}

int main(int argc, char **argv)
{
	size_t n, lookups, bad[2], routed;
	struct bindings_table t[2], first[2];
	struct binding *b, *other;
	struct program p;
	uint64_t s;

	if (argc < 4) {
		fprintf(stderr, "usage: bindings_check OBJECT BINDINGS LOOKUPS [SEED]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	lookups = strtoul(argv[3], NULL, 0);
	s = argc > 4 ? strtoull(argv[4], NULL, 0) : (uint64_t)time(NULL);
	printf("# seed %llu\n", (unsigned long long)s);
	b = calloc(n + 1, sizeof(*b));
	other = calloc(n / 10 + 1, sizeof(*other));
	if (!b || !other)
		die("calloc");
	p = load(argv[1]);
	/* as many prefixes nest around each address at any size: about 600 bindings */
	if (n / 600 > model_bases)
		model_bases = (unsigned int)(n / 600);

	/* a first table, then the one checked: both halves of each family's maps in use once */
	size_t n_other = model_random_bindings(other, n / 10 + 1, &s);
	build(other, n_other, s, first);
	publish(&p, first);
	compare(&p, other, n_other, first, lookups / 10 + 1, &s, bad, &routed);
	check(!bad[0] && !bad[1],
	      "%zu bindings, %zu lookups: the program and the walk agree with the model", n_other,
	      lookups / 10 + 1);

	n = model_random_bindings(b, n, &s);
	build(b, n, s, t);
	publish(&p, t);
	for (int f = 0; f < 2; f++)
		printf("# %s: %zu prefixes, %zu markers, %zu with a run, %zu inherit, depth %u, %u buckets (probes %u), %zu bytes\n",
		       f ? "IPv6" : "IPv4", t[f].stats.prefixes, t[f].stats.markers,
		       t[f].stats.multi, t[f].stats.inherited, t[f].stats.depth, t[f].meta.buckets,
		       t[f].meta.probes, bindings_table_bytes(&t[f]));
	compare(&p, b, n, t, lookups, &s, bad, &routed);
	printf("# %zu of %zu lookups routed\n", routed, lookups);
	check(!bad[0],
	      "%zu bindings, %zu lookups through the program: most specific wins (%zu mismatches)",
	      n, lookups, bad[0]);
	check(!bad[1], "the library's walk of the table agrees with the model (%zu mismatches)",
	      bad[1]);
	check(read_back(&p, b, n),
	      "read back from the kernel's maps, the tables hold the %zu bindings built", n);
	switching(&p, b, n, &s);
	printf("1..%d\n", tap);
	for (int f = 0; f < 2; f++) {
		bindings_table_free(&t[f]);
		bindings_table_free(&first[f]);
	}
	bpf_object__close(p.obj);
	free(b);
	free(other);
	return 0;
}
