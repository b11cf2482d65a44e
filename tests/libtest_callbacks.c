// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libsksteer's callbacks, tested: tracing with a lookup callback (ended by
 * its return or by the handle's stop flag, the plain program back after),
 * and warnings through the print callback, and nowhere without one.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "libtest.h"

#define A "127.0.0.1:9000"

/* 8: tracing with a callback, ended by the callback or by the stop flag */
struct trace_run {
	volatile int stop; /* the handle's stop flag */
	bool stop_it; /* the connector ends the trace with the flag, not the callback */
	int events, reached;
	char first[160]; /* the first event */
	bool seen_tracing; /* the status showed the tracing program */
	int tracer_pid;
	int done; /* the trace returned */
	int lfd; /* A's listening socket */
};

static int on_lookup(void *ctx, const struct sksteer_lookup *lk)
{
	struct trace_run *t = ctx;

	if (__atomic_fetch_add(&t->events, 1, __ATOMIC_SEQ_CST) == 0)
		snprintf(t->first, sizeof(t->first), "%s %s port %u", lk->verdict,
			 lk->target ?: "-", lk->local_port);
	return t->stop_it ? 0 : 1;
}

static bool trace_done(struct trace_run *t)
{
	return __atomic_load_n(&t->done, __ATOMIC_SEQ_CST);
}

/*
 * Once the tracing program runs, connects to 8003; ends the trace if the
 * callback did not. Every wait is bounded, and ends when the trace does.
 */
static void *connector(void *arg)
{
	struct sksteer_ns_opts nowait = { .sz = sizeof(nowait),
					  .read_only = true,
					  .lock_wait_s = -1 };
	struct timespec step = { .tv_nsec = 5000000 };
	struct trace_run *t = arg;
	struct sksteer_status *st;
	struct sksteer_ns *ro;

	for (int i = 0; i < 2000 && !t->seen_tracing && !trace_done(t); i++) {
		/* not waiting for the lock: a tracer holds it only to swap programs, but a
		 * trace that failed holds it until the main thread is done with this one */
		if (!sksteer_ns__open(NULL, &nowait, &ro) && !sksteer_ns__status(ro, &st)) {
			t->seen_tracing =
				!strcmp(sksteer_status__ns(st)->prog_name, "sksteer_trace");
			t->tracer_pid = sksteer_status__ns(st)->tracer_pid;
			sksteer_status__free(st);
		}
		sksteer_ns__close(ro);
		if (!t->seen_tracing)
			nanosleep(&step, NULL);
	}
	t->reached = reach(NULL, t->lfd, 8003);
	/* the event comes through the ring buffer: a bound, in case it never does */
	for (int i = 0; i < 2000 && !t->stop_it && !trace_done(t) &&
			!__atomic_load_n(&t->events, __ATOMIC_SEQ_CST);
	     i++)
		nanosleep(&step, NULL);
	if (t->stop_it || !__atomic_load_n(&t->events, __ATOMIC_SEQ_CST))
		t->stop = SIGINT;
	return NULL;
}

void test_trace(int la, bool stop_it)
{
	struct trace_run *t = calloc(1, sizeof(*t));
	struct sksteer_ns_opts o = { .sz = sizeof(o),
				     .lock_wait_s = LOCK_WAIT_S,
				     .stop = &t->stop };
	const char *how = stop_it ? "the stop flag" : "the callback";
	struct sksteer_status *st;
	struct sksteer_ns *ns;
	uint32_t prog_id = 0;
	pthread_t th;
	uint64_t lost = 99;
	int ret;

	t->stop_it = stop_it;
	t->lfd = la;
	if (sksteer_ns__open(NULL, &o, &ns))
		bail_out("cannot open the namespace to trace");
	if (!sksteer_ns__status(ns, &st)) {
		prog_id = sksteer_status__ns(st)->prog_id;
		sksteer_status__free(st);
	}
	pthread_create(&th, NULL, connector, t);
	ret = sksteer_ns__trace(ns, on_lookup, t, &lost);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	if (ret < 0)
		diag("trace: %d: %s", ret, sksteer_errmsg());
	if (stop_it) {
		is_int(ret, 0, "a trace ended by the stop flag returns 0");
		is_int(t->stop, 0, "and clears the flag");
	} else {
		is_int(ret, 1, "a trace ended by the callback returns its value");
	}
	ok(t->seen_tracing, "while it ran, the tracing program was in the link (%s)", how);
	is_int(t->tracer_pid, getpid(), "and this process was the tracer");
	is_int(t->reached, 8003, "a connection to 8003 reached A meanwhile");
	is_str(t->first, "steered " A " port 8003", "the first event is its lookup");
	is_int(lost, 0, "no event was lost");
	if (!sksteer_ns__status(ns, &st)) {
		const struct sksteer_ns_status *n = sksteer_status__ns(st);

		if (!ok(!strcmp(n->prog_name, "sksteer") && n->prog_id == prog_id && !n->tracer_pid,
			"afterwards the plain program is back in the link, and no tracer"))
			diag("program %s, id %u (was %u), tracer %d", n->prog_name, n->prog_id,
			     prog_id, n->tracer_pid);
		sksteer_status__free(st);
	}
	sksteer_ns__close(ns);
	free(t);
}

/* 7: warnings go to the print callback, and nowhere without one */
static int warnings;
static char warning[1024];

static int on_print(enum sksteer_print_level level, const char *fmt, va_list ap)
{
	if (level == SKSTEER_WARN && !warnings++)
		vsnprintf(warning, sizeof(warning), fmt, ap);
	return 0;
}

void test_print(struct sksteer_ns *ns)
{
	struct sksteer_change ch = { .sz = sizeof(ch), .target = "udp:127.0.0.1:9300" };
	unsigned int lo = 32768, hi = 60999;
	char ports[32], port[8];
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int u = make_socket(NULL, SOCK_DGRAM, 9300);

	if (!f || fscanf(f, "%u %u", &lo, &hi) != 2)
		diag("ip_local_port_range unread: taking %u-%u", lo, hi);
	if (f)
		fclose(f);
	snprintf(ports, sizeof(ports), "%u", lo + 10);
	snprintf(port, sizeof(port), "%u", lo + 10);
	ch.ports = ports;
	/* no callback: the warning goes nowhere (standard output is checked at the end) */
	is_int(sksteer_ns__change(ns, &ch), 0, "steer UDP port %s, in the ephemeral range", ports);
	is_int(reach_udp(u, 9301, (int)lo + 10), (int)lo + 10,
	       "a datagram to it reaches the target");
	ok(sksteer_set_print(on_print) == NULL, "no print callback was set");
	snprintf(ports, sizeof(ports), "%u-%u", lo + 10, lo + 11);
	is_int(sksteer_ns__change(ns, &ch), 0, "steer UDP ports %s, with a print callback", ports);
	is_int(warnings, 1, "the callback got one warning");
	ok(strstr(warning, "ephemeral range") && strstr(warning, port),
	   "about the ephemeral range and the port");
	if (!ok(names_no_option(warning), "naming no command-line option"))
		diag("warning: '%s'", warning);
	ch.ports = "53";
	is_int(sksteer_ns__change(ns, &ch), 0, "steer UDP port 53 instead");
	is_int(warnings, 1, "no warning for it");
	ok(sksteer_set_print(NULL) == on_print, "sksteer_set_print() gives back the callback");
	is_int(sksteer_ns__detach(ns, "udp:127.0.0.1:9300", NULL), 0, "detach the UDP target");
	close(u);
}
