// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The whole lookup held to a plain model: sksteer.bpf.c as the tool loaded it
 * (port table, marks, bindings table, fall-through to every address, the
 * targets' sockets), not the bindings table alone (bindings_check.c).
 *
 *   steer_check gen SEED N
 *	a configuration file of N random bindings (protocol, prefix or every
 *	address, port range) over the 14 targets below: both families and
 *	protocols, prefixes of every length nested around a few bases, no
 *	(protocol, prefix, port) bound twice.
 *   steer_check run LINK TARGETS CONF N SEED
 *	N random lookups through BPF_PROG_TEST_RUN of the program in the link
 *	pinned at LINK, each socket chosen held to CONF's most specific binding
 *	(TARGETS: "TARGET COOKIE" lines, from --list --json). Exit 0 when every
 *	verdict is the model's; else the first ten that are not, and 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "parse.h"

#define PORTS_TOP 32000 /* below the ephemeral range: no UDP client rule */

/*
 * the targets, where tests/64-bindings.t's servers listen. The IPv6 ones are
 * at ::1, never dual-stack: the tool sends no IPv4 lookup to them, so the
 * model keeps each family's bindings to itself.
 */
static const char *const targets[] = {
	"tcp 127.0.0.1:9201", "tcp 127.0.0.1:9202", "tcp 127.0.0.1:9203", "tcp 127.0.0.1:9204",
	"tcp 127.0.0.1:9205", "tcp 127.0.0.1:9206", "tcp [::1]:9211",	  "tcp [::1]:9212",
	"tcp [::1]:9213",     "udp 127.0.0.1:9221", "udp 127.0.0.1:9222", "udp 127.0.0.1:9223",
	"udp [::1]:9231",     "udp [::1]:9232",
};
#define NTARGETS (int)(sizeof(targets) / sizeof(targets[0]))

struct bind {
	int proto, family, target;
	struct prefix dst; /* family 0: every address */
	unsigned int lo, hi;
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int target_proto(int t)
{
	return targets[t][0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
}

static int target_family(int t)
{
	return strchr(targets[t], '[') ? AF_INET6 : AF_INET;
}

static void mask(struct prefix *p)
{
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = p->len > 8 * i ? p->len - 8 * i : 0;

		p->addr[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
	}
}

/* a random address of family around one of 8 bases: 10.B.x.x, 2001:db8:B::x */
static void random_addr(uint64_t *s, int family, uint8_t *addr)
{
	uint64_t r = rnd(s), base = r % 8;

	memset(addr, 0, 16);
	if (family == AF_INET) {
		addr[0] = 10;
		addr[1] = (uint8_t)base;
		for (int i = 2; i < 4; i++)
			addr[i] = (uint8_t)(rnd(s) % 4 ? rnd(s) % 4 : rnd(s));
		return;
	}
	addr[0] = 0x20, addr[1] = 0x01, addr[2] = 0x0d, addr[3] = 0xb8, addr[5] = (uint8_t)base;
	for (int i = 6; i < 16; i++)
		addr[i] = (uint8_t)(rnd(s) % 4 ? rnd(s) % 4 : rnd(s));
}

static void random_range(uint64_t *s, unsigned int *lo, unsigned int *hi)
{
	unsigned int width = rnd(s) % 2 ? 1 : rnd(s) % 3 ? 1 + rnd(s) % 16 : 1 + rnd(s) % 2000;

	/* most within 1-200, so that prefixes overlap; never 9000-9299, where the targets are */
	*lo = rnd(s) % 3 ? 1 + rnd(s) % 200 : 1 + rnd(s) % (PORTS_TOP - 1);
	*hi = *lo + width - 1 > PORTS_TOP ? PORTS_TOP : *lo + width - 1;
	if (*lo <= 9299 && *hi >= 9000) {
		if (*lo < 9000) {
			*hi = 8999;
		} else {
			*lo = 9300;
			*hi = *hi < 9300 ? 9300 : *hi;
		}
	}
}

static bool same_space(const struct bind *a, const struct bind *b)
{
	return a->proto == b->proto && a->family == b->family && prefix_equal(&a->dst, &b->dst);
}

static int gen(uint64_t seed, size_t n)
{
	struct bind *b = calloc(n + 1, sizeof(*b));
	uint64_t s = seed;
	size_t made = 0;

	if (!b)
		return 1;
	for (size_t tries = 0; made < n && tries < 20 * n; tries++) {
		struct bind x = { .target = (int)(rnd(&s) % NTARGETS) };
		bool clash = false;

		x.proto = target_proto(x.target);
		x.family = target_family(x.target);
		if (rnd(&s) % 20) { /* 1 in 20 for every address */
			x.dst.family = (uint8_t)x.family;
			x.dst.len = (uint8_t)(rnd(&s) % ((x.family == AF_INET ? 32 : 128) + 1));
			random_addr(&s, x.family, x.dst.addr);
			mask(&x.dst);
		}
		random_range(&s, &x.lo, &x.hi);
		/* no (protocol, prefix, port) twice, not even for one target */
		for (size_t i = 0; i < made && !clash; i++)
			clash = same_space(&b[i], &x) && b[i].lo <= x.hi && x.lo <= b[i].hi;
		if (!clash)
			b[made++] = x;
	}
	/* one line per (target, prefix): its ranges */
	for (size_t i = 0; i < made; i++) {
		char dst[64];

		if (!b[i].proto)
			continue;
		printf("%s %u-%u", targets[b[i].target], b[i].lo, b[i].hi);
		for (size_t j = i + 1; j < made; j++) {
			if (b[j].proto && b[j].target == b[i].target && same_space(&b[i], &b[j])) {
				printf(",%u-%u", b[j].lo, b[j].hi);
				b[j].proto = 0;
			}
		}
		if (b[i].dst.family)
			printf(" dst=%s", format_prefix(&b[i].dst, dst, sizeof(dst)));
		putchar('\n');
	}
	free(b);
	return 0;
}

/* CONF's lines as bindings, one a range; -1 on a line it cannot read */
static int read_conf(const char *path, struct bind **out, size_t *n)
{
	char line[1 << 16], err[256];
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	*out = NULL;
	*n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char proto[8], addr[64], ports[sizeof(line)], dst[64] = "";
		struct bind x = {};
		struct portset set;
		unsigned int lo, hi;
		int t;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%7s %63s %65535s dst=%63s", proto, addr, ports, dst) < 3)
			break;
		for (t = 0; t < NTARGETS; t++)
			if (!strncmp(targets[t], line, strlen(targets[t])) &&
			    line[strlen(targets[t])] == ' ')
				break;
		if (t == NTARGETS || parse_ports(ports, &set, err, sizeof(err)) ||
		    (dst[0] && parse_prefix(dst, &x.dst, err, sizeof(err))))
			break;
		x.target = t;
		x.proto = target_proto(t);
		x.family = target_family(t);
		for (lo = 1; portset_range(&set, &lo, &hi); lo = hi + 1) {
			if (*n == cap) {
				struct bind *more =
					realloc(*out, (cap ? 2 * cap : 1024) * sizeof(**out));

				if (!more) {
					fclose(f);
					return -1; /* *out is the caller's to free */
				}
				*out = more;
				cap = cap ? 2 * cap : 1024;
			}
			x.lo = lo;
			x.hi = hi;
			(*out)[(*n)++] = x;
			if (hi == 65535)
				break;
		}
	}
	if (!f)
		return -1;
	if (!feof(f)) { /* a line it could not read, or no memory */
		fprintf(stderr, "%s: not a file of steer_check gen, at: %s", path, line);
		fclose(f);
		free(*out);
		*out = NULL;
		return -1;
	}
	fclose(f);
	return 0;
}

/* the target of the most specific binding of (proto, family, dst, port); -1: none */
static int model(const struct bind *b, size_t n, int proto, int family, const uint8_t *dst,
		 unsigned int port)
{
	int best = -2, target = -1;

	for (size_t i = 0; i < n; i++) {
		int len = b[i].dst.family ? b[i].dst.len : -1;

		if (b[i].proto != proto || b[i].family != family || len <= best || port < b[i].lo ||
		    port > b[i].hi || (b[i].dst.family && !prefix_holds(&b[i].dst, family, dst)))
			continue;
		best = len;
		target = b[i].target;
	}
	return target;
}

/* TARGETS' cookies, by target index; 0 where it has none */
static int read_cookies(const char *path, uint64_t *cookies)
{
	char name[64];
	unsigned long long cookie;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %llu", name, &cookie) == 2) {
		for (int t = 0; t < NTARGETS; t++) {
			const char *addr = strchr(targets[t], ' ') + 1;
			bool udp = target_proto(t) == IPPROTO_UDP;

			if (udp ? !strncmp(name, "udp:", 4) && !strcmp(name + 4, addr) :
				  !strcmp(name, addr))
				cookies[t] = cookie;
		}
	}
	fclose(f);
	return 0;
}

static int prog_of_link(const char *pin)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int link = bpf_obj_get(pin), prog;

	if (link < 0 || bpf_obj_get_info_by_fd(link, &info, &len))
		return -1;
	prog = bpf_prog_get_fd_by_id(info.prog_id);
	close(link);
	return prog;
}

/* the cookie of the socket the program chose for the lookup; 0: none; -1: test runs unsupported */
static long long lookup(int prog, int proto, int family, const uint8_t *dst, unsigned int port)
{
	struct bpf_sk_lookup ctx = { .family = (__u32)family, .protocol = (__u32)proto };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx, .ctx_size_out = sizeof(ctx));

	ctx.local_port = port;
	ctx.remote_port = htons(40000);
	if (family == AF_INET) {
		memcpy(&ctx.local_ip4, dst, 4);
		ctx.remote_ip4 = htonl(0x0a640001);
	} else {
		memcpy(ctx.local_ip6, dst, 16);
		ctx.remote_ip6[0] = htonl(0x20010db8), ctx.remote_ip6[3] = htonl(1);
	}
	if (bpf_prog_test_run_opts(prog, &opts))
		return -1;
	return (long long)ctx.cookie;
}

static int run(const char *link, const char *targets_file, const char *conf, size_t n,
	       uint64_t seed)
{
	uint64_t cookies[NTARGETS] = {}, s = seed;
	size_t nb, wrong = 0, steered = 0;
	struct bind *b;
	int prog = prog_of_link(link);

	if (prog < 0 || read_cookies(targets_file, cookies) || read_conf(conf, &b, &nb))
		return fprintf(stderr, "cannot read %s, %s or %s\n", link, targets_file, conf), 2;
	for (size_t i = 0; i < n; i++) {
		const struct bind *near = nb ? &b[rnd(&s) % nb] : NULL;
		int t = (int)(rnd(&s) % NTARGETS), proto = target_proto(t),
		    family = target_family(t);
		unsigned int port;
		uint8_t dst[16];
		long long got, want;
		int m;

		/* most near a binding: its protocol, an address in its prefix, a port by its range */
		if (near && rnd(&s) % 4) {
			proto = near->proto, family = near->family;
			random_addr(&s, family, dst);
			for (unsigned int k = 0; near->dst.family && k < near->dst.len; k++) {
				uint8_t bit = (uint8_t)(0x80 >> (k % 8));

				dst[k / 8] = (uint8_t)((dst[k / 8] & ~bit) |
						       (near->dst.addr[k / 8] & bit));
			}
			/* its range and a port either side: lo - 1 to hi + 1, within 1-65535 */
			port = near->lo + (unsigned int)(rnd(&s) % (near->hi - near->lo + 3));
			port = port > 1 ? port - 1 : 1;
			port = port > 65535 ? 65535 : port;
		} else {
			random_addr(&s, family, dst);
			port = 1 + (unsigned int)(rnd(&s) % PORTS_TOP);
		}
		m = model(b, nb, proto, family, dst, port);
		want = m < 0 ? 0 : (long long)cookies[m];
		got = lookup(prog, proto, family, dst, port);
		if (got == -1 && !i)
			return fprintf(stderr, "BPF_PROG_TEST_RUN of sk_lookup: %s\n",
				       strerror(errno)),
			       3;
		steered += want != 0;
		if (got != want && wrong++ < 10) {
			char text[64];

			inet_ntop(family, dst, text, sizeof(text));
			printf("# %s %s port %u: got cookie %lld, the model's %lld (%s)\n",
			       proto == IPPROTO_UDP ? "udp" : "tcp", text, port, got, want,
			       m < 0 ? "none" : targets[m]);
		}
	}
	printf("# %zu bindings, %zu lookups, %zu steered by the model, %zu wrong\n", nb, n, steered,
	       wrong);
	free(b);
	close(prog);
	/* a check that steered nothing checked nothing */
	return wrong || !steered ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "gen"))
		return gen(strtoull(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
	if (argc == 7 && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], argv[4], strtoul(argv[5], NULL, 0),
			   strtoull(argv[6], NULL, 0));
	fprintf(stderr, "usage: steer_check gen SEED N | run LINK TARGETS CONF N SEED\n");
	return 2;
}
