// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "follow_abi.h"
#include "scopes.h"
#include "trace.h"

static const char *const verdicts[] = {
	[SKSTEER_STEERED] = "steered",
	[SKSTEER_PASS] = "pass",
	[SKSTEER_NO_TARGET] = "no-target",
	[SKSTEER_ERROR] = "error",
	[SKSTEER_REFUSED] = "refused",
	[SKSTEER_PREEMPTED] = "preempted",
	[SKSTEER_CLIENT] = "client",
	/* the follower's (src/follow.bpf.c): a new socket at a target's address */
	[SKSTEER_TAKEOVER] = "takeover",
	[SKSTEER_TAKEOVER_REFUSED] = "no-takeover",
};
#define NR_VERDICTS (sizeof(verdicts) / sizeof(verdicts[0]))

/* "1.2.3.4:80" or "[::1]:80" */
static char *format_endpoint(const struct sksteer_event *e, const __u32 *ip, __u16 port, char *buf,
			     size_t len)
{
	struct sksteer_target t = { .family = e->family, .port = port };

	memcpy(t.addr, ip, sizeof(t.addr));
	return format_target(&t, buf, len);
}

static const char *target_name(const struct trace_out *o, const struct sksteer_event *e, char *buf,
			       size_t len)
{
	struct sksteer_target t;
	__u32 slot = e->slot;

	if (!slot)
		return NULL;
	/* the target as it is now; it is removed only after its ports are */
	if (bpf_map_lookup_elem(o->live->fds[MAP_TARGET_ADDRS], &slot, &t) || !t.proto)
		return "?";
	return format_target(&t, buf, len);
}

/* The prefix whose binding chose the target: NULL for an unscoped one. */
static const char *scope_name(const struct trace_out *o, const struct sksteer_event *e, char *buf,
			      size_t len)
{
	struct live *l = o->live;

	if (!e->scope || e->scope >= SKSTEER_SCOPES)
		return NULL;
	/* a prefix that came after the tracer started, or took the scope of one that went */
	if (!prefix_holds(&l->scope_prefix[e->scope], e->family, (const uint8_t *)e->local_ip))
		scopes_read_prefixes(l);
	if (!l->scope_prefix[e->scope].family)
		return "?";
	return format_prefix(&l->scope_prefix[e->scope], buf, len);
}

static void format_time(const struct trace_out *o, __u64 mono_ns, bool iso, char *buf, size_t len)
{
	int64_t ns = (int64_t)mono_ns + o->realtime_offset_ns;
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;

	if (iso) {
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

void trace_header(const struct trace_out *o)
{
	if (o->json)
		return;
	fprintf(o->f, "%-12s %-5s %-21s %-21s %-10s %s\n", "TIME", "PROTO", "SRC", "DST", "VERDICT",
		"TARGET");
	fflush(o->f);
}

int trace_event(const struct trace_out *o, const struct sksteer_event *e)
{
	char when[64], src[TARGET_STRLEN], dst[TARGET_STRLEN], tname[TARGET_STRLEN], verdict[48];
	char pname[PREFIX_STRLEN];
	const char *proto = e->proto == 17 ? "udp" : "tcp", *target, *prefix;
	const char *errname = e->err ? strerrorname_np(-e->err) : NULL;

	format_time(o, e->time_ns, o->json, when, sizeof(when));
	if (e->verdict >= SKSTEER_TAKEOVER) /* the follower's: the socket's uid, no peer */
		snprintf(src, sizeof(src), "uid %u", e->remote_ip[0]);
	else
		format_endpoint(e, e->remote_ip, e->remote_port, src, sizeof(src));
	format_endpoint(e, e->local_ip, e->local_port, dst, sizeof(dst));
	target = target_name(o, e, tname, sizeof(tname));
	prefix = scope_name(o, e, pname, sizeof(pname));
	if (o->json) {
		fprintf(o->f,
			"{\"time\":\"%s\",\"family\":\"%s\",\"proto\":\"%s\",\"src\":\"%s\","
			"\"dst\":\"%s\",\"verdict\":\"%s\",",
			when, e->family == AF_INET6 ? "ipv6" : "ipv4", proto, src, dst,
			verdicts[e->verdict % NR_VERDICTS]);
		if (target)
			fprintf(o->f, "\"target\":\"%s\",", target);
		else
			fprintf(o->f, "\"target\":null,");

		/* 0: the kernel does not say (bpf_sk_lookup.ingress_ifindex came in 5.17) */
		if (e->ifindex)
			fprintf(o->f, "\"ifindex\":%u", e->ifindex);
		else
			fprintf(o->f, "\"ifindex\":null");
		if (e->err)
			fprintf(o->f, ",\"errno\":%d,\"error\":\"%s\"", -e->err,
				errname ? errname : "?");
		if (e->verdict >= SKSTEER_TAKEOVER)
			fprintf(o->f, ",\"uid\":%u", e->remote_ip[0]);
		/* the prefix whose binding chose the target; null for an unscoped one */
		if (prefix)
			fprintf(o->f, ",\"dst_prefix\":\"%s\"", prefix);
		else
			fprintf(o->f, ",\"dst_prefix\":null");
		fputs("}\n", o->f);
	} else {
		if (e->err)
			snprintf(verdict, sizeof(verdict), "error:%s", errname ? errname : "?");
		else
			snprintf(verdict, sizeof(verdict), "%s",
				 verdicts[e->verdict % NR_VERDICTS]);
		/* a scoped binding: the prefix that chose the target, after it */
		fprintf(o->f, "%-12s %-5s %-21s %-21s %-10s %s%s%s\n", when, proto, src, dst,
			verdict, target ? target : "-", prefix ? " for " : "",
			prefix ? prefix : "");
	}
	return fflush(o->f) || ferror(o->f) ? -1 : 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	if (size < sizeof(struct sksteer_event))
		return 0;
	/* a negative return stops ring_buffer__poll(): the reader has gone */
	return trace_event(ctx, data) ? -EPIPE : 0;
}

/* Steering detached under us (sksteer --detach elsewhere): nothing left to trace. */
static bool link_detached(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(link_fd, &info, &len) || !info.netns.netns_ino;
}

int trace_stream(struct trace_out *o, int events_fd, int more_fd, int link_fd,
		 volatile int *exiting, char *err, size_t errlen)
{
	struct ring_buffer *rb = ring_buffer__new(events_fd, on_event, o, NULL);
	int ret = 0, polls = 0;

	if (rb && more_fd >= 0 && ring_buffer__add(rb, more_fd, on_event, o)) {
		ring_buffer__free(rb);
		rb = NULL;
	}
	if (!rb) {
		snprintf(err, errlen, "cannot read the event ring buffer: %s", strerror(errno));
		return -1;
	}
	trace_header(o);
	while (!*exiting) {
		ret = ring_buffer__poll(rb, 100);
		if (ret == -EINTR) {
			ret = 0;
			continue;
		}
		if (ret == -EPIPE) {
			ret = 0; /* stdout closed: stop quietly */
			break;
		}
		if (ret < 0) {
			snprintf(err, errlen, "reading events failed: %s", strerror(-ret));
			break;
		}
		ret = 0;
		if (++polls % 10 == 0 && link_detached(link_fd)) {
			snprintf(err, errlen,
				 "steering in this namespace was detached; trace ends");
			ret = -1;
			break;
		}
	}
	/* stopped by a signal: what the program submitted before it still gets out */
	if (!ret && *exiting && ring_buffer__consume(rb) == -EPIPE)
		ret = 0;
	ring_buffer__free(rb);
	return ret;
}

uint64_t events_lost(int stats_fd)
{
	int ncpus = libbpf_num_possible_cpus();
	struct sksteer_stats *per_cpu;
	uint64_t lost = 0;

	if (ncpus <= 0)
		return 0;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (per_cpu && !bpf_map_lookup_elem(stats_fd, &(__u32){ 0 }, per_cpu))
		for (int i = 0; i < ncpus; i++)
			lost += per_cpu[i].events_lost;
	free(per_cpu);
	return lost;
}
