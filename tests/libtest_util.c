// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The library tests' helpers (see libtest.h): TAP lines, real sockets made in
 * a handle's namespace, and the steering of a namespace as comparable text.
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "libtest.h"

FILE *tap; /* set by main: standard output as it was, before the library's is captured */
int tap_tests, tap_failed;
static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;

static bool vtest(bool pass, const char *directive, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&tap_lock);
	tap_tests++;
	if (!pass && !directive)
		tap_failed++;
	fprintf(tap, "%sok %d - ", pass ? "" : "not ", tap_tests);
	vfprintf(tap, fmt, ap);
	fprintf(tap, "%s%s\n", directive ? " # TODO " : "", directive ? directive : "");
	fflush(tap);
	pthread_mutex_unlock(&tap_lock);
	return pass;
}

bool ok(bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtest(pass, NULL, fmt, ap);
	va_end(ap);
	return pass;
}

bool todo(bool pass, const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtest(pass, why, fmt, ap);
	va_end(ap);
	return pass;
}

void diag(const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&tap_lock);
	/* every line of it a comment */
	for (char *l = line, *nl; l; l = nl) {
		nl = strchr(l, '\n');
		if (nl)
			*nl++ = '\0';
		fprintf(tap, "#   %s\n", l);
	}
	fflush(tap);
	pthread_mutex_unlock(&tap_lock);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&tap_lock);
	fprintf(tap, "ok %d # SKIP ", ++tap_tests);
	va_start(ap, fmt);
	vfprintf(tap, fmt, ap);
	va_end(ap);
	fprintf(tap, "\n");
	fflush(tap);
	pthread_mutex_unlock(&tap_lock);
}

void bail_out(const char *fmt, ...)
{
	va_list ap;

	fprintf(tap, "Bail out! ");
	va_start(ap, fmt);
	vfprintf(tap, fmt, ap);
	va_end(ap);
	fprintf(tap, " (%s)\n", sksteer_errmsg());
	fflush(tap);
	exit(1);
}

void section(const char *name)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec)
		diag("(%lld ms)", (long long)(now.tv_sec - last.tv_sec) * 1000 +
					  (now.tv_nsec - last.tv_nsec) / 1000000);
	last = now;
	if (name)
		diag("--- %s", name);
}

bool is_int(long long got, long long want, const char *fmt, ...)
{
	bool pass = got == want;
	va_list ap;

	va_start(ap, fmt);
	vtest(pass, NULL, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("expected %lld, got %lld (%s)", want, got,
		     got < 0 && got > -4096 ? strerror((int)-got) : "-");
	return pass;
}

bool is_str(const char *got, const char *want, const char *fmt, ...)
{
	bool pass = got && want && !strcmp(got, want);
	va_list ap;

	va_start(ap, fmt);
	vtest(pass, NULL, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("expected '%s'\ngot      '%s'", want ? want : "(null)", got ? got : "(null)");
	return pass;
}

bool names_no_option(const char *msg)
{
	return msg[0] && !strchr(msg, '\n') && !strstr(msg, "--") && !strstr(msg, "-p ") &&
	       !strstr(msg, "-s ") && !strstr(msg, " -v") && !strstr(msg, "with -");
}

void is_error(int ret, int err, const char *what, const char *desc)
{
	const char *msg = sksteer_errmsg();

	is_int(ret, -err, "%s: -%s", desc, strerrorname_np(err) ?: "?");
	if (!ok(strstr(msg, what) && names_no_option(msg),
		"%s: one line naming '%s' and no command-line option", desc, what))
		diag("errmsg: '%s'", msg);
}

struct sksteer_ns *ns_open(const char *path, bool read_only)
{
	struct sksteer_ns_opts o = {
		.sz = sizeof(o),
		.read_only = read_only,
		.lock_wait_s = LOCK_WAIT_S,
	};
	struct sksteer_ns *ns;
	int ret = sksteer_ns__open(path, &o, &ns);

	if (ret) {
		diag("sksteer_ns__open(%s): %s: %s", path ? path : "NULL", strerror(-ret),
		     sksteer_errmsg());
		return NULL;
	}
	return ns;
}

bool pins_gone(const char *dir, bool or_empty)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT;
	while (empty && (de = readdir(d)))
		empty = de->d_name[0] == '.';
	closedir(d);
	return or_empty && empty;
}

uint64_t thread_netns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? 0 : st.st_ino;
}

static struct sockaddr_in loopback(int port)
{
	return (struct sockaddr_in){
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
}

struct sock_req {
	int type, port, fd;
};

static int sock_make(void *ctx)
{
	struct sock_req *r = ctx;
	struct sockaddr_in a = loopback(r->port);
	int one = 1;

	r->fd = socket(AF_INET, r->type | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return -errno;
	if (!r->port)
		return 0;
	setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(r->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (r->type == SOCK_STREAM && listen(r->fd, 64))) {
		int err = -errno;

		close(r->fd);
		r->fd = -1;
		return err;
	}
	return 0;
}

int make_socket(struct sksteer_ns *ns, int type, int port)
{
	struct sock_req r = { .type = type, .port = port, .fd = -1 };
	int ret = ns ? sksteer_ns__call(ns, sock_make, &r) : sock_make(&r);

	return ret < 0 ? ret : r.fd;
}

int reach(struct sksteer_ns *ns, int lfd, int port)
{
	struct sockaddr_in a = loopback(port);
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	socklen_t len = sizeof(a);
	int c = make_socket(ns, SOCK_STREAM, 0), s, ret;

	if (c < 0)
		return c;
	if (connect(c, (struct sockaddr *)&a, sizeof(a))) {
		ret = -errno;
		close(c);
		return ret;
	}
	/* connected: the server's side waits in the backlog of the socket that took it */
	ret = poll(&p, 1, 5000);
	s = ret == 1 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
	close(c);
	if (s < 0)
		return ret == 1 ? -errno : -ETIMEDOUT;
	ret = getsockname(s, (struct sockaddr *)&a, &len) ? -errno : ntohs(a.sin_port);
	close(s);
	return ret;
}

int reach_udp(int udp_fd, int from, int port)
{
	struct sockaddr_in a = loopback(port), dst;
	struct pollfd p = { .fd = udp_fd, .events = POLLIN };
	char buf[16], cbuf[CMSG_SPACE(sizeof(dst))];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	int c = make_socket(NULL, SOCK_DGRAM, from), one = 1, ret = -ENOMSG;

	if (c < 0)
		return c;
	setsockopt(udp_fd, SOL_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
	if (sendto(c, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1) {
		ret = -errno;
		close(c);
		return ret;
	}
	close(c);
	if (poll(&p, 1, 5000) != 1)
		return -ETIMEDOUT;
	if (recvmsg(udp_fd, &m, MSG_DONTWAIT) < 0)
		return -errno;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_IP && h->cmsg_type == IP_ORIGDSTADDR) {
			memcpy(&dst, CMSG_DATA(h), sizeof(dst));
			ret = ntohs(dst.sin_port);
		}
	return ret;
}

const struct sksteer_target_status *target_of(const struct sksteer_status *st, const char *name)
{
	for (int i = 0; i < sksteer_status__targets(st); i++)
		if (!strcmp(sksteer_status__target(st, i)->target, name))
			return sksteer_status__target(st, i);
	return NULL;
}

char *steering_state(struct sksteer_ns *ns)
{
	struct sksteer_config *cfg = NULL;
	struct sksteer_status *st = NULL;
	char *text = NULL, *out = NULL;
	size_t len = 0;
	FILE *f;

	if (sksteer_ns__config(ns, &cfg) || sksteer_config__text(cfg, &text) ||
	    sksteer_ns__status(ns, &st) || !(f = open_memstream(&out, &len))) {
		diag("reading the steering: %s", sksteer_errmsg());
		goto out;
	}
	fprintf(f, "%s", text);
	const struct sksteer_ns_status *n = sksteer_status__ns(st);

	fprintf(f, "steering %d prog %u link %u\n", n->steering, n->prog_id, n->link_id);
	for (int i = 0; i < sksteer_status__targets(st); i++) {
		const struct sksteer_target_status *t = sksteer_status__target(st, i);

		fprintf(f, "%s ports %s (%u) up %d fail-closed %d cookie %llu lost '%s' extra '%s'",
			t->target, t->ports, t->nports, t->up, t->fail_closed,
			(unsigned long long)t->cookie, t->lost_ports ?: "", t->extra_ports ?: "");
		for (int d = 0; d < t->nscoped; d++)
			fprintf(f, " dst %s %s", t->scoped[d].dst, t->scoped[d].ports);
		fprintf(f, "\n");
	}
	fclose(f);
out:
	free(text);
	sksteer_config__free(cfg);
	sksteer_status__free(st);
	return out;
}
