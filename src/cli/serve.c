// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --serve-metrics ADDR:PORT: --metrics over HTTP for Prometheus, of one
 * namespace or (--all-netns) of every one with pins, read afresh each scrape.
 * One thread, non-blocking sockets, a deadline per connection: a client that
 * sends slowly, or never reads, holds one slot until its deadline, never the
 * others. Once listening, the process keeps CAP_BPF alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "input.h"
#include "privileges.h"
#include "serve.h"
#include "show.h"
#include "signals.h"

#define CLIENTS SERVER_CLIENTS
#define REQUEST_MAX 8192 /* a request's line and headers */
#define REQUEST_MS 10000 /* to send them */
#define RESPONSE_MS 30000 /* to take the response */
#define DRAIN_MS 1000 /* to read what a client sent beyond its request, once answered */
#define ACCEPTS 16 /* a round: a flood of connections does not keep the others waiting */
#define BACKOFF_MS 100 /* out of descriptors: accept again this much later */
/* a scrape waits this long for a writer's lock (--wait), each namespace 1 s with --all-netns */
#define LOCK_WAIT_S 5

struct server {
	int fd;
	struct args a; /* with the lock's wait a scrape's */
	uint64_t ino; /* the namespace, by its pins' inode (not --all-netns) */
	server_extra_fn extra;
	void *ctx;
	uint64_t accept_ms; /* not before this: out of descriptors */
	struct client {
		int fd; /* -1: a free slot */
		uint64_t since_ms, deadline_ms;
		size_t len; /* of the request so far */
		char *out; /* the response: NULL while the request is read */
		size_t out_len, sent;
		bool draining; /* answered: what else it sent is read, so that close sends no RST */
		char req[REQUEST_MAX +
			 2]; /* one byte past the limit tells it was passed, and a NUL */
	} cs[CLIENTS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void drop(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->draining = false;
}

/*
 * The metrics, read now, into body: 200; or 500 with the reason in err
 * (Prometheus then marks the target down). With --all-netns, a namespace that
 * cannot be read is said on stderr, left out and counted
 * (sksteer_netns_unreadable); the pins that cannot be listed at all are a 500.
 */
static int scrape(const struct server *s, FILE *body, char *err, size_t errlen)
{
	const struct args *a = &s->a;
	struct sksteer_ns_opts opts = {
		.sz = sizeof(opts),
		.read_only = true,
		.brief = true, /* owners, other programs: not metrics */
		.lock_wait_s = options_lock_wait(a), /* server_open() set --wait */
		.stop = &stop_requested,
	};
	struct sksteer_ns *ns;
	int ret;

	if (a->all_netns) {
		ret = all_netns_metrics(a, body, err, errlen);
	} else {
		ret = sksteer_ns__open_pinned(s->ino, &opts, &ns);
		if (ret)
			snprintf(err, errlen, "%s", cli_message(a, ret));
		else
			ret = metrics_one(ns, body, err, errlen);
		sksteer_ns__close(ns);
	}
	if (ret < 0)
		return 500;
	if (s->extra)
		s->extra(s->ctx, body);
	return 200;
}

/* The metrics, or why not, into body: the status */
static int metrics(const struct server *s, FILE *body)
{
	char err[1024] = "", *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int status = f ? scrape(s, f, err, sizeof(err)) : 500;

	if (f && fclose(f))
		status = 500;
	if (status == 200)
		fwrite(text, 1, len, body);
	else
		fprintf(body, "sksteer: %s\n", err[0] ? err : "out of memory");
	free(text);
	return status;
}

/* The response to the request in c->req, whole, in c->out */
static void respond(struct client *c, const struct server *s)
{
	static const char *const reasons[] = { [200] = "OK",
					       [400] = "Bad Request",
					       [404] = "Not Found",
					       [405] = "Method Not Allowed",
					       [431] = "Request Header Fields Too Large",
					       [500] = "Internal Server Error" };
	char method[16] = "", path[256] = "", *text = NULL;
	size_t len = 0;
	FILE *body = open_memstream(&text, &len);
	bool head = false, asked;
	int status, n;

	if (!body)
		return;
	asked = sscanf(c->req, "%15s %255s HTTP/1.%*c", method, path) == 2;
	path[strcspn(path, "?")] = '\0'; /* a query asks nothing of us */
	if (c->len > REQUEST_MAX) {
		status = 431;
		fputs("the request's headers are too long\n", body);
	} else if (!asked) {
		status = 400;
		fputs("not an HTTP request\n", body);
	} else if (strcmp(method, "GET") && !(head = !strcmp(method, "HEAD"))) {
		status = 405;
		fputs("sksteer serves GET /metrics\n", body);
	} else if (strcmp(path, "/metrics") && strcmp(path, "/")) {
		status = 404;
		fputs("sksteer serves its metrics at /metrics\n", body);
	} else if (!strcmp(path, "/")) {
		status = 200;
		fputs("sksteer: the metrics are at /metrics\n", body);
	} else {
		status = metrics(s, body);
	}
	if (fclose(body) || !text) {
		free(text);
		return;
	}
	n = asprintf(
		&c->out,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n"
		"\r\n%s",
		status, reasons[status],
		status == 200 && strcmp(path, "/") ? "text/plain; version=0.0.4; charset=utf-8" :
						     "text/plain; charset=utf-8",
		strlen(text), status == 405 ? "Allow: GET, HEAD\r\n" : "", head ? "" : text);
	free(text);
	if (n < 0) {
		c->out = NULL;
		return;
	}
	c->out_len = (size_t)n;
	c->deadline_ms = now_ms() + RESPONSE_MS;
}

/* A request read as far as it came: once its headers end (or overflow), answered. */
static void on_readable(struct client *c, const struct server *s)
{
	ssize_t n = read(c->fd, c->req + c->len, REQUEST_MAX + 1 - c->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone, or closed before asking */
		drop(c);
		return;
	}
	if (c->draining) {
		c->len = 0; /* read and forgotten */
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (c->len > REQUEST_MAX || strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
		respond(c, s);
		if (!c->out)
			drop(c); /* out of memory: the client sees the connection close */
	}
}

static void on_writable(struct client *c)
{
	ssize_t n = send(c->fd, c->out + c->sent, c->out_len - c->sent, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		drop(c);
		return;
	}
	c->sent += (size_t)n;
	if (c->sent < c->out_len)
		return;
	/* closing with unread bytes would send RST, and a reset can lose the answer in flight */
	shutdown(c->fd, SHUT_WR);
	free(c->out);
	c->out = NULL;
	c->draining = true;
	c->len = 0;
	c->deadline_ms = now_ms() + DRAIN_MS;
}

/*
 * A slot for a new connection: a free one, else the oldest's that has not
 * asked yet (one that waits for its answer, or drains, is served first)
 */
static struct client *slot(struct client *cs)
{
	struct client *oldest = NULL;

	for (int i = 0; i < CLIENTS; i++) {
		if (cs[i].fd < 0)
			return &cs[i];
		if (!oldest ||
		    (!cs[i].out && !cs[i].draining &&
		     (oldest->out || oldest->draining || cs[i].since_ms < oldest->since_ms)))
			oldest = &cs[i];
	}
	drop(oldest);
	return oldest;
}

static void on_connect(struct server *s)
{
	int fd;

	for (int i = 0; i < ACCEPTS; i++) {
		struct client *c;

		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				s->accept_ms =
					now_ms() + BACKOFF_MS; /* else poll() wakes at once */
			return;
		}
		c = slot(s->cs);
		c->fd = fd;
		c->len = c->sent = c->out_len = 0;
		c->since_ms = now_ms();
		c->deadline_ms = c->since_ms + REQUEST_MS;
		on_readable(c, s); /* a request sent with the connection is answered now */
	}
}

void server_poll(struct server *s, struct pollfd *p, int *timeout_ms)
{
	uint64_t now = now_ms();
	bool accepting = now >= s->accept_ms;

	p[0] = (struct pollfd){ .fd = accepting ? s->fd : -1, .events = POLLIN };
	if (!accepting && (int)(s->accept_ms - now) < *timeout_ms)
		*timeout_ms = (int)(s->accept_ms - now);
	for (int i = 0; i < CLIENTS; i++) {
		const struct client *c = &s->cs[i];

		p[i + 1] = (struct pollfd){ .fd = c->fd, .events = c->out ? POLLOUT : POLLIN };
		if (c->fd >= 0 &&
		    (c->deadline_ms <= now || (int)(c->deadline_ms - now) < *timeout_ms))
			*timeout_ms = c->deadline_ms > now ? (int)(c->deadline_ms - now) : 0;
	}
}

void server_serve(struct server *s, const struct pollfd *p)
{
	for (int i = 0; i < CLIENTS; i++) {
		struct client *c = &s->cs[i];

		if (c->fd >= 0 && p[i + 1].revents && c->out)
			on_writable(c);
		else if (c->fd >= 0 && p[i + 1].revents)
			on_readable(c, s);
		/* after its bytes are read: a scrape that took long is nobody's fault */
		if (c->fd >= 0 && c->deadline_ms <= now_ms())
			drop(c); /* too slow to ask, to take the answer, or to end */
	}
	if (p[0].revents & POLLIN)
		on_connect(s);
}

/* The namespace a single-namespace server reads: by its pins' inode, so it never holds it */
static int namespace_inode(const struct args *a, uint64_t *ino, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (a->all_netns)
		return 0;
	if (a->netns_arg) {
		if (input_netns(a->netns_arg, &fd, ino, err, errlen))
			return -1;
		close(fd);
		return 0;
	}
	if (stat("/proc/self/ns/net", &st)) {
		snprintf(err, errlen, "cannot read this process's network namespace: %s",
			 strerror(errno));
		return -1;
	}
	*ino = st.st_ino;
	return 0;
}

struct server *server_open(const struct args *a, server_extra_fn extra, void *ctx, char *err,
			   size_t errlen)
{
	struct listen_opts lo = { .option = "--serve-metrics", .backlog = 128, .v6only = -1 };
	struct server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->a = *a;
	s->extra = extra;
	s->ctx = ctx;
	/* a scrape waits a little for a writer's lock, and says why it got none (a watcher's
	 * --wait is for its applies) */
	if (!s->a.wait_given || a->config.watch) {
		s->a.wait_given = true;
		s->a.wait_s = a->all_netns ? 1 : LOCK_WAIT_S;
	}
	for (int i = 0; i < CLIENTS; i++)
		s->cs[i].fd = -1;
	if (namespace_inode(a, &s->ino, err, errlen) ||
	    (s->fd = handover_listen(&a->serve, &lo, err, errlen)) < 0) {
		free(s);
		return NULL;
	}
	fcntl(s->fd, F_SETFL, O_NONBLOCK);
	return s;
}

void server_close(struct server *s)
{
	if (!s)
		return;
	for (int i = 0; i < CLIENTS; i++)
		drop(&s->cs[i]);
	close(s->fd);
	free(s);
}

/*
 * Whether the pins are this process's to read (a user without CAP_BPF: of the
 * group they were given to), said once now rather than as a 500 each scrape.
 * Other failures (a writer holding the lock) may pass: each scrape says them.
 */
static int can_read(const struct server *s, char *err, size_t errlen)
{
	struct sksteer_ns_opts opts = { .sz = sizeof(opts), .read_only = true, .brief = true };
	struct sksteer_ns *ns = NULL;
	uint64_t *inodes = NULL;
	int ret;

	if (s->a.all_netns) {
		ret = sksteer_pinned_netns(&inodes);
		free(inodes);
	} else {
		ret = sksteer_ns__open_pinned(s->ino, &opts, &ns);
		sksteer_ns__close(ns);
	}
	if (ret != -EACCES && ret != -EPERM)
		return 0;
	snprintf(err, errlen, "%s", cli_message(&s->a, ret));
	return -1;
}

int cmd_serve(const struct args *a, char *err, size_t errlen)
{
	struct server *s = server_open(a, NULL, NULL, err, errlen);
	struct pollfd p[SERVER_FDS];

	if (!s)
		return -1;
	if (privileges_keep_bpf(err, errlen) || can_read(s, err, errlen)) {
		server_close(s);
		return -1;
	}
	while (!stop_requested) {
		int timeout_ms = 1000;

		server_poll(s, p, &timeout_ms);
		if (poll(p, SERVER_FDS, timeout_ms) >= 0)
			server_serve(s, p);
	}
	server_close(s);
	return 0;
}
