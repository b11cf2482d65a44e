// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tracing a namespace's lookups (sksteer_ns__trace()): a tracing instance of
 * the program swapped into the link, its ring buffer (and the follower's)
 * read, each event handed to the caller as a struct sksteer_lookup, and the
 * plain program put back.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "follow.h"
#include "ns.h"
#include "print.h"
#include "program.h"
#include "scopes.h"
#include "stop.h"

static const char *const verdicts[] = {
	[SKSTEER_STEERED] = "steered",
	[SKSTEER_PASS] = "pass",
	[SKSTEER_NO_TARGET] = "no-target",
	[SKSTEER_ERROR] = "error",
	[SKSTEER_REFUSED] = "refused",
	[SKSTEER_PREEMPTED] = "preempted",
	[SKSTEER_CLIENT] = "client",
	/* the follower's (src/bpf/follow.bpf.c): a new socket at a target's address */
	[SKSTEER_TAKEOVER] = "takeover",
	[SKSTEER_TAKEOVER_REFUSED] = "no-takeover",
};
#define NR_VERDICTS (sizeof(verdicts) / sizeof(verdicts[0]))

struct reader {
	struct live *l;
	sksteer_lookup_fn_t fn;
	void *ctx;
	int ret; /* fn's non-zero return, which ended the trace */
};

/* The target as it is now; it is removed only after its ports are. */
static const char *target_name(const struct live *l, const struct sksteer_event *e, char *buf,
			       size_t len)
{
	struct sksteer_target t;
	__u32 slot = e->slot;

	if (!slot)
		return NULL;
	if (bpf_map_lookup_elem(l->fds[MAP_TARGET_ADDRS], &slot, &t) || !t.proto)
		return "?";
	return format_target(&t, buf, len);
}

/* The most specific scope that holds the lookup's destination and binds its port; 0: none. */
static int deciding_scope(const struct live *l, const struct sksteer_event *e)
{
	uint32_t key = port_key(e->proto, e->local_port);
	int max = e->family == AF_INET6 ? 128 : 32;
	struct prefix p = { .family = e->family };

	/* longest first, one hash lookup a length: at a million prefixes as at ten */
	memcpy(p.addr, e->local_ip, (size_t)max / 8);
	for (int len = max; len >= 0; len--) {
		int s;

		if (len < max)
			p.addr[len / 8] &= (uint8_t) ~(0x80 >> (len % 8));
		p.len = (uint8_t)len;
		s = scope_find(l, &p);
		if (s > 0 && scope_key_route(&l->scopes, s, key))
			return s;
	}
	return 0;
}

/* The prefix whose binding chose the target: NULL for an unscoped one. */
static const char *scope_name(struct live *l, const struct sksteer_event *e, char *buf, size_t len)
{
	int scope;

	if (!e->scope)
		return NULL;
	/* the most specific binding decides: a prefix that came after the tracer started, read */
	scope = deciding_scope(l, e);
	if (!scope ||
	    scope_port_owner(l, scope, port_key(e->proto, e->local_port), e->slot) != e->slot) {
		scopes_refresh(l);
		scope = deciding_scope(l, e);
	}
	if (!scope)
		return "?";
	return format_prefix(scope_prefix(&l->scopes, scope), buf, len);
}

static int on_event(void *ctx, void *data, size_t size)
{
	char target[TARGET_STRLEN], prefix[PREFIX_STRLEN];
	const struct sksteer_event *e = data;
	struct reader *r = ctx;
	struct sksteer_lookup lk;

	if (size < sizeof(*e))
		return 0;
	lk = (struct sksteer_lookup){
		.time_ns = e->time_ns,
		.family = e->family,
		.proto = e->proto,
		.remote_port = e->remote_port,
		.local_port = e->local_port,
		.verdict = verdicts[e->verdict % NR_VERDICTS] ?: "?",
		.takeover = e->verdict >= SKSTEER_TAKEOVER,
		.err = e->err,
		.ifindex = e->ifindex,
		.target = target_name(r->l, e, target, sizeof(target)),
		.dst = scope_name(r->l, e, prefix, sizeof(prefix)),
	};
	memcpy(lk.local_addr, e->local_ip, sizeof(lk.local_addr));
	if (lk.takeover) /* the follower's: the socket's uid, no peer */
		lk.uid = e->remote_ip[0];
	else
		memcpy(lk.remote_addr, e->remote_ip, sizeof(lk.remote_addr));
	r->ret = r->fn(r->ctx, &lk);
	/* a negative return stops ring_buffer__poll() */
	return r->ret ? -ECANCELED : 0;
}

/* Steering detached under us (sksteer --detach elsewhere): nothing left to trace. */
static bool link_detached(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(link_fd, &info, &len) || !info.netns.netns_ino;
}

/* Streams events until a stop, fn's say, or a detach. 0, fn's value, or -errno with err. */
static int stream(struct reader *r, int events_fd, int more_fd, int link_fd, char *err,
		  size_t errlen)
{
	struct ring_buffer *rb = ring_buffer__new(events_fd, on_event, r, NULL);
	int ret = 0, polls = 0;

	if (rb && more_fd >= 0 && ring_buffer__add(rb, more_fd, on_event, r)) {
		ring_buffer__free(rb);
		rb = NULL;
	}
	if (!rb) {
		ret = ns_errno();
		snprintf(err, errlen, "cannot read the event ring buffer: %s", strerror(-ret));
		return ret;
	}
	while (!stop_pending()) {
		ret = ring_buffer__poll(rb, 100);
		if (ret == -EINTR) {
			ret = 0;
			continue;
		}
		if (ret == -ECANCELED) /* fn said so */
			break;
		if (ret < 0) {
			snprintf(err, errlen, "reading events failed: %s", strerror(-ret));
			break;
		}
		ret = 0;
		if (++polls % 10 == 0 && link_detached(link_fd)) {
			snprintf(err, errlen,
				 "steering in this namespace was detached; trace ends");
			ret = -ENOLINK;
			break;
		}
	}
	/* stopped: what the program submitted before still gets out */
	if (ret != -ECANCELED && stop_pending())
		ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return ret == -ECANCELED ? r->ret : ret;
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

/*
 * Other runs may change the configuration meanwhile: the lock is released
 * while streaming, and taken again to swap the plain program back.
 */
static int trace(struct sksteer_ns *ns, struct reader *r, uint64_t *lost, char *err, size_t errlen)
{
	struct live *l = &ns->l;
	uint64_t before;
	struct tracing t;
	int ret, follow_fd;

	if (!l->pins.live) {
		snprintf(err, errlen, "nothing is steered in this namespace, so nothing to trace");
		return -ENOENT;
	}
	if (l->fds[MAP_PORTS] < 0 && live_open(l, err, errlen))
		return ns_errno();
	before = events_lost(l->fds[MAP_STATS]);
	if (program_trace_begin(l, &t, err, errlen))
		return ns_errno();
	flock(l->pins.dir_fd, LOCK_UN);
	follow_fd = follow_events_fd(l);
	ret = stream(r, t.events_fd, follow_fd, t.link_fd, err, errlen);
	if (follow_fd >= 0)
		close(follow_fd);
	/*
	 * The stop that ended the stream asked for this: the wait for the lock
	 * ends at the next one only. Without the lock the tracing program stays;
	 * the next run puts a plain one back.
	 */
	stop_dealt_with();
	if (pins_lock(&l->pins, LOCK_EX, err, errlen)) {
		program_trace_free(&t);
		if (stop_pending())
			snprintf(err, errlen,
				 "interrupted by %s while waiting for the lock to put the plain "
				 "program back: the next run that changes steering does so",
				 stop_signal());
		return -EINTR;
	}
	program_trace_end(l, &t);
	if (lost)
		*lost = events_lost(l->fds[MAP_STATS]) - before;
	return ret;
}

int sksteer_ns__trace(struct sksteer_ns *ns, sksteer_lookup_fn_t fn, void *ctx, uint64_t *lost)
{
	struct reader r = { .l = &ns->l, .fn = fn, .ctx = ctx };
	struct ns_call call;
	char err[1024] = "";
	int ret;

	if (lost)
		*lost = 0;
	if (ns->read_only)
		return lib_error(-EPERM, "tracing swaps programs: open the namespace to change");
	ns_begin(ns, &call, NS_STAY, err, sizeof(err));
	ret = trace(ns, &r, lost, err, sizeof(err));
	ns_end(&call);
	return ret < 0 && err[0] ? lib_error(ret, err) : ret;
}
