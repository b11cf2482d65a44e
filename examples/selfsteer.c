// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * selfsteer: a server that steers its own ports with libsksteer, no sksteer
 * command involved. It binds one TCP socket, steers a port range to it,
 * answers each connection with the port the client dialled ("8042\n"), and
 * leaves the steering pinned when it exits: the next run (a restart) takes
 * the ports over again with its new socket.
 *
 *   selfsteer [ADDR:PORT [PORTS]]    default: 127.0.0.1:9100 8000-8099
 *
 * Build it against the installed library:
 *   cc selfsteer.c $(pkg-config --cflags --libs libsksteer) -o selfsteer
 * It needs root (CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON). SIGTERM or SIGINT end it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll, accept4 */
#endif
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sksteer/sksteer.h>

/* set by SIGTERM and SIGINT: ends the serving loop, and any wait of the library's */
static volatile int stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* The library prints nothing itself: its warnings come here. */
static int print_fn(enum sksteer_print_level level, const char *format, va_list args)
{
	if (level == SKSTEER_DEBUG)
		return 0;
	fputs("selfsteer: ", stderr);
	return vfprintf(stderr, format, args);
}

/* A listening TCP socket at "ADDR:PORT" ("[::1]:PORT" for IPv6), or -1. */
static int listen_at(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	char host[64], *colon;
	struct addrinfo *ai;
	int fd, one = 1, err;

	snprintf(host, sizeof(host), "%s", addr);
	colon = strrchr(host, ':');
	if (!colon) {
		fprintf(stderr, "selfsteer: %s: expected ADDR:PORT\n", addr);
		return -1;
	}
	*colon = '\0';
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		fprintf(stderr, "selfsteer: %s: %s\n", addr, gai_strerror(err));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128)) {
		fprintf(stderr, "selfsteer: %s: %s\n", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Steers ports to fd, in this process's network namespace; the steering stays pinned. */
static int steer(int fd, const char *ports)
{
	struct sksteer_ns_opts opts = { .sz = sizeof(opts), .stop = &stop };
	struct sksteer_ns *ns;
	int err;

	err = sksteer_ns__open(NULL, &opts, &ns);
	if (!err)
		err = sksteer_ns__steer_fd(ns, fd, ports);
	/* the handle holds the namespace's lock: close it at once, not at exit */
	sksteer_ns__close(ns);
	if (err)
		fprintf(stderr, "selfsteer: steering %s: %s\n", ports, sksteer_errmsg());
	return err;
}

/* Answers one connection with the local port it arrived on: the port the client dialled. */
static void answer(int fd)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} local = { .in6 = { .sin6_family = AF_UNSPEC } };
	socklen_t len = sizeof(local);
	unsigned int port = 0;
	char buf[16];
	int n;

	if (!getsockname(fd, &local.sa, &len))
		port = ntohs(local.sa.sa_family == AF_INET6 ? local.in6.sin6_port :
							      local.in.sin_port);
	n = snprintf(buf, sizeof(buf), "%u\n", port);
	if (write(fd, buf, (size_t)n) != n)
		fprintf(stderr, "selfsteer: answering: %s\n", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9100";
	const char *ports = argc > 2 ? argv[2] : "8000-8099";
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: waits end */
	sigset_t term, orig;
	int fd;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: selfsteer [ADDR:PORT [PORTS]]\n");
		return 2;
	}
	sksteer_set_print(print_fn);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fd = listen_at(addr);
	if (fd < 0 || steer(fd, ports))
		return 1;
	printf("selfsteer: ready: %s serves ports %s (libsksteer %s)\n", addr, ports,
	       sksteer_version());
	fflush(stdout);

	/* the signals come only inside ppoll(): none is lost between the check and the wait */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &orig);
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int c;

		if (ppoll(&p, 1, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "selfsteer: poll: %s\n", strerror(errno));
			return 1;
		}
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue; /* the client gave up already */
		answer(c);
		close(c);
	}
	/* The steering stays: its ports are left to the kernel until a new run steers them. */
	close(fd);
	return 0;
}
