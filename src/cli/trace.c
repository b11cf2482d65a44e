// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `sksteer --trace`: the library's lookup events as text columns or JSON lines. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "commands.h"

struct out {
	FILE *f;
	bool json;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, to date events */
};

static int64_t realtime_offset_ns(void)
{
	struct timespec real, mono;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (int64_t)(real.tv_sec - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
}

/* "1.2.3.4:80" or "[::1]:80" */
static char *endpoint(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	struct sksteer_target t = { .family = (uint8_t)family, .port = port };

	memcpy(t.addr, addr, sizeof(t.addr));
	return format_target(&t, buf, len);
}

static void format_time(const struct out *o, uint64_t mono_ns, char *buf, size_t len)
{
	int64_t ns = (int64_t)mono_ns + o->realtime_offset_ns;
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;

	if (o->json) {
		gmtime_r(&secs, &tm);
		strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf + strlen(buf), len - strlen(buf), ".%06ldZ",
			 (long)(ns % 1000000000 / 1000));
	} else {
		localtime_r(&secs, &tm);
		strftime(buf, len, "%H:%M:%S", &tm);
		snprintf(buf + strlen(buf), len - strlen(buf), ".%03ld",
			 (long)(ns % 1000000000 / 1000000));
	}
}

static void json_line(const struct out *o, const struct sksteer_lookup *e, const char *when,
		      const char *src, const char *dst, const char *errname)
{
	FILE *f = o->f;

	fprintf(f,
		"{\"time\":\"%s\",\"family\":\"%s\",\"proto\":\"%s\",\"src\":\"%s\","
		"\"dst\":\"%s\",\"verdict\":\"%s\",",
		when, e->family == AF_INET6 ? "ipv6" : "ipv4", e->proto == 17 ? "udp" : "tcp", src,
		dst, e->verdict);
	if (e->target)
		fprintf(f, "\"target\":\"%s\",", e->target);
	else
		fprintf(f, "\"target\":null,");
	/* 0: the kernel does not say (bpf_sk_lookup.ingress_ifindex came in 5.17) */
	if (e->ifindex)
		fprintf(f, "\"ifindex\":%u", e->ifindex);
	else
		fprintf(f, "\"ifindex\":null");
	if (e->err)
		fprintf(f, ",\"errno\":%d,\"error\":\"%s\"", -e->err, errname ? errname : "?");
	if (e->takeover)
		fprintf(f, ",\"uid\":%u", e->uid);
	/* the prefix whose binding chose the target; null for an unscoped one */
	if (e->dst)
		fprintf(f, ",\"dst_prefix\":\"%s\"", e->dst);
	else
		fprintf(f, ",\"dst_prefix\":null");
	fputs("}\n", f);
}

/* One line per event, flushed; 1 once the output is gone (a closed pipe): the trace ends. */
static int on_lookup(void *ctx, const struct sksteer_lookup *e)
{
	const struct out *o = ctx;
	char when[64], src[64], dst[64], verdict[48];
	const char *errname = e->err ? strerrorname_np(-e->err) : NULL;

	format_time(o, e->time_ns, when, sizeof(when));
	if (e->takeover) /* the follower's: the socket's uid, no peer */
		snprintf(src, sizeof(src), "uid %u", e->uid);
	else
		endpoint(e->family, e->remote_addr, e->remote_port, src, sizeof(src));
	endpoint(e->family, e->local_addr, e->local_port, dst, sizeof(dst));
	if (o->json) {
		json_line(o, e, when, src, dst, errname);
	} else {
		if (e->err)
			snprintf(verdict, sizeof(verdict), "error:%s", errname ? errname : "?");
		else
			snprintf(verdict, sizeof(verdict), "%s", e->verdict);
		/* a scoped binding: the prefix that chose the target, after it */
		fprintf(o->f, "%-12s %-5s %-21s %-21s %-10s %s%s%s\n", when,
			e->proto == 17 ? "udp" : "tcp", src, dst, verdict,
			e->target ? e->target : "-", e->dst ? " for " : "", e->dst ? e->dst : "");
	}
	return fflush(o->f) || ferror(o->f) ? 1 : 0;
}

/*
 * --trace: stream each lookup until interrupted. Other runs may change the
 * configuration meanwhile: the library releases the lock while streaming.
 */
int cmd_trace(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	struct out o = { .f = stdout, .json = a->json, .realtime_offset_ns = realtime_offset_ns() };
	uint64_t lost = 0;
	int ret;

	if (!o.json && sksteer_ns__steering(ns)) {
		fprintf(o.f, "%-12s %-5s %-21s %-21s %-10s %s\n", "TIME", "PROTO", "SRC", "DST",
			"VERDICT", "TARGET");
		fflush(o.f);
	}
	ret = sksteer_ns__trace(ns, on_lookup, &o, &lost);
	if (ret < 0) {
		snprintf(err, errlen, "%s", cli_message(a, ret));
		return -1;
	}
	/* ret 1: standard output closed, the reader has gone: stop quietly */
	if (a->json)
		printf("{\"events_lost\":%llu}\n", (unsigned long long)lost);
	else if (lost)
		fprintf(stderr, "sksteer: %llu events lost (the ring buffer was full)\n",
			(unsigned long long)lost);
	fflush(stdout);
	return 0;
}
