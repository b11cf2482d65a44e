// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libsksteer in threads: two threads with a handle each, changing the same
 * namespace in turns (the pin directory's lock serialises them), and two
 * threads steering two namespaces at once (each change lands in its own, and
 * each thread is back in its own namespace after every call). The threads
 * record; the main thread reports.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "libtest.h"

#define ROUNDS 20

struct worker {
	const char *path; /* the namespace (NULL: the process's) */
	const char *target, *other; /* its target, and the other worker's (same namespace) */
	int base; /* its ports: base to base + round, in round */
	uint64_t ino; /* the namespace's inode, as the status must say */
	uint64_t status_ino; /* ... and as it said */
	uint64_t home; /* the thread's own namespace */
	int lfd; /* its target's socket, made in the namespace */
	int calls, failures, ebusy, strayed; /* strayed: left out of its own namespace */
	int unlocked; /* rounds whose handle was opened before the pins were there */
	int reached; /* the last port, connected to from inside the namespace */
	char failure[512]; /* the first failure */
	bool errmsg_own; /* sksteer_errmsg() is this thread's */
};

static void failed(struct worker *w, int ret, const char *what)
{
	if (ret == -EBUSY)
		w->ebusy++;
	else
		w->failures++;
	if (!w->failure[0] && ret)
		snprintf(w->failure, sizeof(w->failure), "%s: %d: %s", what, ret, sksteer_errmsg());
	else if (!w->failure[0])
		snprintf(w->failure, sizeof(w->failure), "%s", what);
}

/* A call made: counted, and this thread must be in its own namespace after it. */
static void called(struct worker *w)
{
	w->calls++;
	if (thread_netns() != w->home)
		w->strayed++;
}

/* The ports of target in ns's configuration ("" if none), in buf; 0 or -errno */
static int ports_of(struct sksteer_ns *ns, struct worker *w, const char *target, char *buf,
		    size_t len)
{
	struct sksteer_config *cfg;
	char *text = NULL, *line, *save, want[80];
	int ret = sksteer_ns__config(ns, &cfg);

	called(w);
	buf[0] = '\0';
	if (!ret)
		ret = sksteer_config__text(cfg, &text);
	sksteer_config__free(cfg);
	if (ret)
		return ret;
	/* "tcp 127.0.0.1:9100 7100-7105 ..." */
	snprintf(want, sizeof(want), "tcp %s ", target);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, want, strlen(want)))
			snprintf(buf, len, "%.*s", (int)strcspn(line + strlen(want), " "),
				 line + strlen(want));
	free(text);
	return 0;
}

/* A failure of this thread's own: its sksteer_errmsg() says it, whatever others fail meanwhile */
static bool own_error(const char *ports)
{
	struct sksteer_binding bad = { .sz = sizeof(bad), .target = "127.0.0.1:1", .ports = ports };
	struct sksteer_config *cfg = NULL;
	bool own;

	if (sksteer_config__new(&cfg))
		return false;
	own = sksteer_config__add(cfg, &bad) == -EINVAL;
	sksteer_config__free(cfg);
	return own;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char ports[32], got[64], other[64], other_after[64], mine[8];
	struct sksteer_status *st;
	struct sksteer_change ch;
	struct sksteer_ns *ns;
	bool steering;
	int ret;

	w->home = thread_netns();
	snprintf(mine, sizeof(mine), "%dx", w->base);
	w->errmsg_own = own_error(mine);
	for (int round = 0; round < ROUNDS; round++) {
		ns = ns_open(w->path, false);
		called(w);
		if (!ns) {
			failed(w, -EIO, "open");
			continue;
		}
		if (w->lfd < 0) { /* its target's socket, in the namespace */
			w->lfd = make_socket(ns, SOCK_STREAM, 9200);
			called(w);
			if (w->lfd < 0)
				failed(w, w->lfd, "a socket in the namespace");
		}
		snprintf(ports, sizeof(ports), round ? "%d-%d" : "%d", w->base, w->base + round);
		ch = (struct sksteer_change){ .sz = sizeof(ch),
					      .target = w->target,
					      .ports = ports };
		other[0] = other_after[0] = '\0';
		steering = sksteer_ns__steering(ns);
		if (w->other && (ret = ports_of(ns, w, w->other, other, sizeof(other))))
			failed(w, ret, "status before");
		ret = sksteer_ns__change(ns, &ch);
		called(w);
		if (ret)
			failed(w, ret, "change");
		ret = ports_of(ns, w, w->target, got, sizeof(got));
		if (ret)
			failed(w, ret, "configuration after");
		else if (strcmp(got, ports)) {
			char what[128];

			snprintf(what, sizeof(what), "after the change, its ports are '%s', not %s",
				 got, ports);
			failed(w, 0, what);
		}
		/*
		 * While this handle holds the lock, the other thread changes nothing. A
		 * handle opened before the pins were there takes it at its first change
		 * only (sksteer.h): what it read before may have changed, not checked then.
		 */
		if (!steering)
			w->unlocked++;
		else if (w->other &&
			 (ret = ports_of(ns, w, w->other, other_after, sizeof(other_after))))
			failed(w, ret, "the other's");
		else if (strcmp(other, other_after))
			failed(w, 0, "the other target changed while this handle was open");
		sksteer_ns__close(ns);
		called(w);
	}
	w->errmsg_own &= strstr(sksteer_errmsg(), mine) != NULL;
	ns = ns_open(w->path, true);
	called(w);
	if (ns && !sksteer_ns__status(ns, &st)) {
		w->status_ino = sksteer_status__ns(st)->netns;
		sksteer_status__free(st);
	}
	called(w);
	w->reached = ns ? reach(ns, w->lfd, w->base + ROUNDS - 1) : -EIO;
	called(w);
	sksteer_ns__close(ns);
	return NULL;
}

static void report(const struct worker *w, const char *who)
{
	if (!is_int(w->failures + w->ebusy, 0, "%s: none of its %d calls failed", who, w->calls))
		diag("%d failures, %d -EBUSY; the first: %s", w->failures, w->ebusy, w->failure);
	if (w->unlocked)
		diag("%s: %d of its handles opened before the pins were there", who, w->unlocked);
	is_int((long long)w->status_ino, (long long)w->ino, "%s: the status names its namespace",
	       who);
	is_int(w->strayed, 0, "%s: after every call, the thread was in its own namespace", who);
	is_int(w->reached, w->base + ROUNDS - 1, "%s: port %d reaches its socket, from inside", who,
	       w->base + ROUNDS - 1);
	ok(w->errmsg_own, "%s: its sksteer_errmsg() was its own failure's throughout", who);
}

/* Runs both workers at once; this thread's own last error stays its own meanwhile */
static void run(struct worker *w, const char *what)
{
	pthread_t th[2];

	own_error("main");
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, work, &w[i]))
			bail_out("pthread_create");
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (!ok(strstr(sksteer_errmsg(), "'main'") != NULL,
		"%s: the main thread's sksteer_errmsg() is still its own", what))
		diag("errmsg: '%s'", sksteer_errmsg());
}

/* Detaches the namespace at path: its pins must go */
static void detach(const char *path, const char *name)
{
	struct sksteer_ns *ns = ns_open(path, false);
	struct sksteer_status *st;
	char dir[4096] = "";

	if (ns && !sksteer_ns__status(ns, &st)) {
		snprintf(dir, sizeof(dir), "%s", sksteer_status__ns(st)->pin_dir);
		sksteer_status__free(st);
	}
	is_int(ns ? sksteer_ns__detach(ns, NULL, NULL) : -EIO, 0, "detach %s", name);
	sksteer_ns__close(ns);
	ok(dir[0] && pins_gone(dir, false), "its pins are gone (%s)", dir);
}

void test_threads_one_namespace(void)
{
	struct worker w[2] = {
		{ .target = "127.0.0.1:9100", .other = "127.0.0.1:9101", .base = 7100 },
		{ .target = "127.0.0.1:9101", .other = "127.0.0.1:9100", .base = 7300 },
	};
	const struct sksteer_target_status *t;
	struct sksteer_status *st;
	struct sksteer_ns *ns;

	/* the workers find their targets by address: these sockets */
	w[0].lfd = make_socket(NULL, SOCK_STREAM, 9100);
	w[1].lfd = make_socket(NULL, SOCK_STREAM, 9101);
	w[0].ino = w[1].ino = thread_netns();
	run(w, "one namespace");
	report(&w[0], "one namespace, the first thread");
	report(&w[1], "one namespace, the second thread");
	ns = ns_open(NULL, true);
	if (ns && !sksteer_ns__status(ns, &st)) {
		is_int(sksteer_status__targets(st), 2, "at the end, two targets");
		t = target_of(st, "127.0.0.1:9100");
		is_str(t ? t->ports : NULL, "7100-7119", "the first thread's, with its last ports");
		t = target_of(st, "127.0.0.1:9101");
		is_str(t ? t->ports : NULL, "7300-7319", "the second's, with its last ports");
		sksteer_status__free(st);
	}
	is_int(reach(NULL, w[0].lfd, 7100), 7100, "7100 reaches the first target's socket");
	is_int(reach(NULL, w[1].lfd, 7319), 7319, "7319 the second's");
	sksteer_ns__close(ns);
	for (int i = 0; i < 2; i++)
		close(w[i].lfd);
	detach(NULL, "this namespace");
}

void test_threads_two_namespaces(const char *netns2)
{
	/* the same target address in both, each with a socket there: none may be mixed up */
	struct worker w[2] = {
		{ .target = "127.0.0.1:9200", .base = 6200, .lfd = -1 },
		{ .path = netns2, .target = "127.0.0.1:9200", .base = 6300, .lfd = -1 },
	};
	struct sksteer_ns *ns2;
	struct stat s;

	w[0].ino = thread_netns();
	w[1].ino = stat(netns2, &s) ? 0 : s.st_ino;
	run(w, "two namespaces");
	report(&w[0], "two namespaces, the thread steering this one");
	report(&w[1], "two namespaces, the thread steering the other");
	/* each namespace has only its own thread's ports */
	is_int(reach(NULL, w[0].lfd, 6300), -ECONNREFUSED,
	       "the other's ports are not steered here");
	ns2 = ns_open(netns2, true);
	is_int(ns2 ? reach(ns2, w[1].lfd, 6200) : -EIO, -ECONNREFUSED,
	       "this one's are not steered in the other");
	is_int(ns2 ? reach(ns2, w[1].lfd, 6300) : -EIO, 6300,
	       "and its own are, from a socket made there with sksteer_ns__call()");
	is_int(thread_netns(), w[0].ino, "the main thread is in its own namespace");
	sksteer_ns__close(ns2);
	for (int i = 0; i < 2; i++)
		if (w[i].lfd >= 0)
			close(w[i].lfd);
	detach(NULL, "this namespace");
	detach(netns2, "the other namespace");
}
