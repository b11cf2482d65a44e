// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * netpeer: the real sockets the tests and benchmarks need.
 *
 *   netpeer serve  [--udp] [--v6only] [--reuseport] [--label=NAME] [--device=IF] ADDR:PORT
 *       TCP: listen; answer each connection with the local port it arrived on
 *       ("NAME:PORT" with --label).
 *       UDP: answer each datagram with the port it was sent to, from that port.
 *       Prints "ready" once listening; runs until killed.
 *       With --run=CMD: before accepting, runs /bin/sh -c CMD with the socket as fd 3
 *       (a server that hands its socket to sksteer --fd 3) and fails if CMD does.
 *   netpeer activated [--label=NAME]
 *       A socket-activated server: checks LISTEN_PID (its pid), LISTEN_FDS=1 and fd 3
 *       (a listening TCP or bound UDP socket), then serves on fd 3 as serve does; the
 *       label is LISTEN_FDNAMES unless given. Exit 4 with a line if the checks fail.
 *   netpeer connect [--udp [--sendto] [--from=PORT]] ADDR:PORT
 *       Prints the server's answer, or "refused" (exit 1) / "timeout" (exit 2: none
 *       within 2 s).
 *       --sendto: as an unconnected UDP client (a resolver's kind): sendto(), which
 *       gets an ephemeral port, then recvfrom(); --from: bound to PORT first.
 *   netpeer client [--from=PORT] [--every=MS] ADDR:PORT
 *       A UDP client socket that sends to ADDR:PORT unconnected (once, or every MS),
 *       prints "ready PORT" (its own port), then "got TEXT" for each datagram it gets.
 *       SIGUSR1: one more send, then "quiet", and no send after it.
 *   netpeer loop [--udp] --expect=ANSWER... ADDR:PORT STOPFILE
 *       Connects again and again until STOPFILE exists; prints "ok N fail M wrong K"
 *       (a failure: refused, or no answer within 10 s).
 *       An answer that is none of the ANSWERs (as serve gives them: "LABEL:PORT" or
 *       "PORT"; --expect up to 4 times) is wrong: the wrong server, or the wrong port.
 *       Prints "ready" after the first expected answer, and on stderr the first
 *       failure and the first wrong answer.
 *   netpeer rate ADDR:PORT SECONDS
 *       Sequential connect + RST close for SECONDS; prints connections per second.
 *   netpeer takeover [--reuseport] ADDR:PORT DIAL N
 *       N times: a new socket listens at ADDR:PORT (the last one closed first, unless
 *       --reuseport), and connections to DIAL (a port steered to ADDR:PORT) are tried
 *       until one reaches it; prints the time from listen() to that accept, in
 *       microseconds, one line each.
 *   netpeer crowd ADDR:PORT N
 *       N TCP listeners on ADDR, ports PORT to PORT+N-1 (benchmarks); "ready", then waits.
 *   netpeer hold ADDR:PORT N
 *       N open descriptors of /dev/null (ADDR:PORT unused); "ready", then waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "parse.h"

static bool udp, v6only, reuseport, unconnected;
static unsigned int from_port; /* connect, client --from */
static unsigned int every_ms; /* client --every */
static const char *label; /* serve: answers "LABEL:PORT" instead of "PORT" */
static const char *device; /* serve: SO_BINDTODEVICE */
static const char *run; /* serve: a command to run with the socket as fd 3 before serving */
#define EXPECT_MAX 4
static const char *expect[EXPECT_MAX]; /* loop: the answers that count as ok */
static int expects;

static socklen_t to_sockaddr(const struct sksteer_target *t, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (t->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		memcpy(&s6->sin6_addr, t->addr, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(t->port);
	memcpy(&s4->sin_addr, t->addr, 4);
	return sizeof(*s4);
}

static unsigned int sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void die(const char *what)
{
	perror(what);
	exit(3);
}

static int bound_socket(const struct sksteer_target *t)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(t, &ss);
	int one = 1, v6 = v6only;
	int fd = socket(t->family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (device)
		setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device));
	if (t->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6, sizeof(v6));
	if (bind(fd, (struct sockaddr *)&ss, len))
		die("bind");
	return fd;
}

static void format_reply(char *buf, size_t len, unsigned int port)
{
	if (label)
		snprintf(buf, len, "%s:%u\n", label, port);
	else
		snprintf(buf, len, "%u\n", port);
}

/* An IPv4 client seen by a dual-stack socket has a v4-mapped address: reply over IPv4. */
static void unmap_v4(struct sockaddr_storage *peer, socklen_t *len, sa_family_t reply_family)
{
	struct sockaddr_in6 s6 = *(struct sockaddr_in6 *)peer;
	struct sockaddr_in *s4 = (struct sockaddr_in *)peer;

	if (reply_family != AF_INET || peer->ss_family != AF_INET6)
		return;
	memset(s4, 0, sizeof(*s4));
	s4->sin_family = AF_INET;
	s4->sin_port = s6.sin6_port;
	memcpy(&s4->sin_addr, &s6.sin6_addr.s6_addr[12], 4);
	*len = sizeof(*s4);
}

/* Replies from the address and port the datagram was sent to, as a UDP server behind sksteer must. */
static void udp_answer(int fd)
{
	struct sockaddr_storage peer, dst = {};
	char buf[512], cbuf[256], reply[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_name = &peer,
			      .msg_namelen = sizeof(peer),
			      .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	int one = 1, out;

	if (recvmsg(fd, &msg, 0) < 0)
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_ORIGDSTADDR) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR))
			memcpy(&dst, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
	format_reply(reply, sizeof(reply), sockaddr_port(&dst));
	unmap_v4(&peer, &msg.msg_namelen, dst.ss_family);
	out = socket(dst.ss_family, SOCK_DGRAM, 0);
	setsockopt(out, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(out, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	/* a port another socket holds alone cannot answer: no reply from some other port */
	if (bind(out, (struct sockaddr *)&dst,
		 dst.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					     sizeof(struct sockaddr_in)))
		perror("bind reply");
	else
		sendto(out, reply, strlen(reply), 0, (struct sockaddr *)&peer, msg.msg_namelen);
	close(out);
}

static __attribute__((noreturn)) void serve_fd(int fd);

/* The socket as fd 3 of /bin/sh -c run; 0 if it succeeded. */
static int run_with_socket(int fd)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		/* a server killed by the tests takes CMD (and what it execs) with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (dup2(fd, 3) < 0)
			die("dup2");
		execl("/bin/sh", "sh", "-c", run, (char *)NULL);
		die("exec");
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static __attribute__((noreturn)) void serve(const struct sksteer_target *t)
{
	int fd = bound_socket(t), one = 1;

	if (udp) {
		setsockopt(fd, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
		if (t->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof(one));
	} else if (listen(fd, 4096)) {
		die("listen");
	}
	if (run && run_with_socket(fd)) {
		fprintf(stderr, "netpeer: %s failed\n", run);
		exit(3);
	}
	serve_fd(fd);
}

static __attribute__((noreturn)) void serve_fd(int fd)
{
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct sockaddr_storage local;
		socklen_t len = sizeof(local);
		char reply[64];
		int c;

		if (udp) {
			udp_answer(fd);
			continue;
		}
		c = accept(fd, NULL, NULL);
		if (c < 0)
			continue;
		getsockname(c, (struct sockaddr *)&local, &len);
		format_reply(reply, sizeof(reply), sockaddr_port(&local));
		if (write(c, reply, strlen(reply)) < 0)
			perror("write");
		close(c);
	}
}

/* Whether the kernel gave the socket the address it connected to. */
static bool self_connected(int fd, const struct sockaddr_storage *peer, socklen_t len)
{
	struct sockaddr_storage own;
	socklen_t own_len = sizeof(own);

	return !from_port && !getsockname(fd, (struct sockaddr *)&own, &own_len) &&
	       own_len == len && !memcmp(&own, peer, len);
}

static unsigned int self_dials; /* of this exchange, so far */

/* One exchange: 0 with the answer in buf, 1 refused, 2 no answer within wait_ms. */
static int exchange(const struct sksteer_target *t, char *buf, size_t len, int wait_ms)
{
	struct sockaddr_storage ss;
	socklen_t sslen = to_sockaddr(t, &ss);
	struct linger rst = { 1, 0 };
	struct pollfd p = { .events = POLLIN };
	ssize_t n;
	int ret = 0;

	p.fd = socket(t->family, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (p.fd < 0)
		die("socket");
	if (from_port) {
		struct sockaddr_storage any;
		struct sksteer_target wild = { .family = t->family, .port = (uint16_t)from_port };

		if (bind(p.fd, (struct sockaddr *)&any, to_sockaddr(&wild, &any)))
			die("bind --from");
	}
	if (unconnected) {
		if (sendto(p.fd, "?", 1, 0, (struct sockaddr *)&ss, sslen) < 0) {
			ret = 1;
			goto out;
		}
	} else if (connect(p.fd, (struct sockaddr *)&ss, sslen)) {
		ret = errno == ECONNREFUSED ? 1 : 2;
		goto out;
	} else if (self_connected(p.fd, &ss, sslen) && self_dials < 16) {
		/*
		 * A dialled port in the ephemeral range can be the one the kernel picks
		 * for us: TCP's simultaneous open then connects the socket to itself,
		 * and no server ever answers. Dial again from another port.
		 */
		setsockopt(p.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
		close(p.fd);
		self_dials++;
		ret = exchange(t, buf, len, wait_ms);
		self_dials = 0;
		return ret;
	}
	if (udp && !unconnected && send(p.fd, "?", 1, 0) < 0) {
		ret = 1;
		goto out;
	}
	if (poll(&p, 1, wait_ms) != 1) {
		ret = 2;
		goto out;
	}
	n = recv(p.fd, buf, len - 1, 0);
	if (n <= 0) {
		ret = errno == ECONNREFUSED || errno == ECONNRESET || n == 0 ? 1 : 2;
		goto out;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/*
	 * The server closes after its answer: take its FIN before closing, or
	 * it arrives at a closed port and is one more lookup for the counters.
	 */
	while (!udp && poll(&p, 1, 500) == 1 && recv(p.fd, buf + n, len - 1 - (size_t)n, 0) > 0)
		;
out:
	/* RST close: no TIME_WAIT build-up in loops */
	setsockopt(p.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(p.fd);
	return ret;
}

static volatile sig_atomic_t quiet_asked;

static void ask_quiet(int sig)
{
	(void)sig;
	quiet_asked = 1;
}

static __attribute__((noreturn)) void client(const struct sksteer_target *t)
{
	struct sigaction quiet_sa = { .sa_handler = ask_quiet };
	bool quiet = false;
	struct sockaddr_storage ss, own;
	socklen_t sslen = to_sockaddr(t, &ss), len = sizeof(own);
	struct pollfd p = { .events = POLLIN };
	char buf[512];

	p.fd = socket(t->family, SOCK_DGRAM, 0);
	if (p.fd < 0)
		die("socket");
	if (from_port) {
		struct sksteer_target wild = { .family = t->family, .port = (uint16_t)from_port };
		int one = 1;

		/* so that a UDP server that gets this port's datagrams can answer from it */
		setsockopt(p.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(p.fd, (struct sockaddr *)&own, to_sockaddr(&wild, &own)))
			die("bind --from");
	}
	sigaction(SIGUSR1, &quiet_sa, NULL);
	sendto(p.fd, "?", 1, 0, (struct sockaddr *)&ss, sslen);
	getsockname(p.fd, (struct sockaddr *)&own, &len);
	printf("ready %u\n", sockaddr_port(&own));
	fflush(stdout);
	for (;;) {
		int ready = poll(&p, 1, every_ms && !quiet ? (int)every_ms : -1);
		ssize_t n;

		/* a test that must know the last send was made, and that none follows */
		if (quiet_asked && !quiet) {
			sendto(p.fd, "?", 1, 0, (struct sockaddr *)&ss, sslen);
			puts("quiet");
			fflush(stdout);
			quiet = true;
		}
		if (ready != 1) {
			if (!ready && !quiet)
				sendto(p.fd, "?", 1, 0, (struct sockaddr *)&ss, sslen);
			continue;
		}
		n = recv(p.fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue; /* ICMP port unreachable for a send */
		buf[n] = '\0';
		printf("got %s\n", buf);
		fflush(stdout);
	}
}

static bool expected(const char *answer)
{
	for (int i = 0; i < expects; i++)
		if (!strcmp(answer, expect[i]))
			return true;
	return false;
}

/*
 * A connection that succeeds is not enough: steering that sends a port to the
 * wrong server, even for a moment, connects fine. So each answer must be one
 * the caller expects, or it counts as wrong.
 */
static int loop(const struct sksteer_target *t, const char *stopfile)
{
	long ok = 0, failed = 0, wrong = 0;
	char buf[256];
	int ret;

	if (!expects) {
		fprintf(stderr, "netpeer: loop needs --expect=ANSWER: who must answer\n");
		return 3;
	}
	while (access(stopfile, F_OK)) {
		/*
		 * A late answer is not a lost one: on an emulated CPU under load a
		 * reloading proxy's new process took over 2 s to accept (tests/76 in
		 * two VMs at once). Lost stays lost: it never comes.
		 */
		ret = exchange(t, buf, sizeof(buf), 10000);
		if (ret) {
			if (!failed++)
				fprintf(stderr, "netpeer loop: first failure: %s (after %ld ok)\n",
					ret == 1 ? "refused" : "timeout", ok);
		} else if (!expected(buf)) {
			if (!wrong++)
				fprintf(stderr,
					"netpeer loop: first wrong answer: \"%s\" (after %ld ok)\n",
					buf, ok);
		} else if (!ok++) {
			/* loop_start waits for it: the loop works before what it watches */
			puts("ready");
			fflush(stdout);
		}
	}
	printf("ok %ld fail %ld wrong %ld\n", ok, failed, wrong);
	return failed || wrong ? 1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rate(const struct sksteer_target *t, double seconds)
{
	struct sockaddr_storage ss;
	socklen_t sslen = to_sockaddr(t, &ss);
	struct linger rst = { 1, 0 };
	double start = now(), end;
	long n = 0, failed = 0;

	do {
		for (int i = 0; i < 100; i++, n++) {
			int fd = socket(t->family, SOCK_STREAM, 0);

			if (connect(fd, (struct sockaddr *)&ss, sslen))
				failed++;
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
			close(fd);
		}
		end = now();
	} while (end - start < seconds);
	printf("%.0f\n", (double)n / (end - start));
	return failed ? 1 : 0;
}

/* crowd and hold: what a busy host has open, for the benchmarks */
static __attribute__((noreturn)) void crowd(struct sksteer_target *t, long n, bool files)
{
	struct rlimit lim;

	/* the soft limit only: raising the hard one needs CAP_SYS_RESOURCE, which sandboxes drop */
	if (getrlimit(RLIMIT_NOFILE, &lim) || lim.rlim_max < (rlim_t)n + 64)
		die("crowd, hold: N must stay below the hard RLIMIT_NOFILE (ulimit -Hn)");
	lim.rlim_cur = (rlim_t)n + 64;
	if (setrlimit(RLIMIT_NOFILE, &lim))
		die("setrlimit");
	for (long i = 0; i < n; i++, t->port++) {
		int fd = files ? open("/dev/null", O_RDONLY) : bound_socket(t);

		if (fd < 0 || (!files && listen(fd, 16)))
			die(files ? "open" : "listen");
	}
	puts("ready");
	fflush(stdout);
	for (;;)
		pause();
}

/* Checks what systemd's socket activation promises, then serves fd 3. */
static __attribute__((noreturn)) void activated(void)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	const char *names = getenv("LISTEN_FDNAMES");
	int type = 0, acc = 0;
	socklen_t len = sizeof(type);

	if (!pid || atol(pid) != (long)getpid()) {
		printf("LISTEN_PID=%s, not my pid %d\n", pid ? pid : "(unset)", (int)getpid());
		exit(4);
	}
	if (!fds || strcmp(fds, "1")) {
		printf("LISTEN_FDS=%s, not 1\n", fds ? fds : "(unset)");
		exit(4);
	}
	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    (type == SOCK_STREAM &&
	     (len = sizeof(acc), getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) || !acc))) {
		printf("fd 3 is not a listening socket\n");
		exit(4);
	}
	udp = type == SOCK_DGRAM;
	if (!label)
		label = names;
	if (udp) {
		int one = 1;

		setsockopt(3, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
		setsockopt(3, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof(one));
	}
	serve_fd(3);
}

/* One connection attempt to dial; whether lfd accepted it (within 20 ms). */
static bool reached(int lfd, const struct sksteer_target *dial)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(dial, &ss);
	struct linger rst = { 1, 0 };
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd = socket(dial->family, SOCK_STREAM, 0), c = -1;

	if (!connect(fd, (struct sockaddr *)&ss, len) && poll(&p, 1, 20) == 1)
		c = accept(lfd, NULL, NULL);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(fd);
	if (c >= 0)
		close(c);
	return c >= 0;
}

static int takeover(const struct sksteer_target *t, const struct sksteer_target *dial, long n)
{
	int prev = -1;

	for (long i = 0; i < n; i++) {
		int fd;
		double t0;

		if (!reuseport && prev >= 0)
			close(prev);
		fd = bound_socket(t);
		t0 = now();
		if (listen(fd, 128))
			die("listen");
		for (int tries = 0; !reached(fd, dial); tries++)
			if (tries > 5000) {
				fprintf(stderr, "netpeer: no connection reached the new socket\n");
				return 1;
			}
		printf("%.1f\n", (now() - t0) * 1e6);
		if (reuseport && prev >= 0)
			close(prev);
		prev = fd;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sksteer_target t;
	char err[256], buf[256];
	int i = 2, ret;

	if (argc >= 2 && !strcmp(argv[1], "activated")) {
		if (argc == 3 && !strncmp(argv[2], "--label=", 8))
			label = argv[2] + 8;
		activated();
	}
	if (argc < 3)
		goto usage;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (!strcmp(argv[i], "--udp"))
			udp = true;
		else if (!strcmp(argv[i], "--sendto"))
			unconnected = udp = true;
		else if (!strncmp(argv[i], "--every=", 8))
			every_ms = (unsigned int)atoi(argv[i] + 8);
		else if (!strncmp(argv[i], "--from=", 7))
			from_port = (unsigned int)atoi(argv[i] + 7);
		else if (!strcmp(argv[i], "--v6only"))
			v6only = true;
		else if (!strcmp(argv[i], "--reuseport"))
			reuseport = true;
		else if (!strncmp(argv[i], "--label=", 8))
			label = argv[i] + 8;
		else if (!strncmp(argv[i], "--device=", 9))
			device = argv[i] + 9;
		else if (!strncmp(argv[i], "--run=", 6))
			run = argv[i] + 6;
		else if (!strncmp(argv[i], "--expect=", 9) && expects < EXPECT_MAX)
			expect[expects++] = argv[i] + 9;
		else
			goto usage;
	}
	if (i >= argc || parse_target(argv[i], &t, err, sizeof(err))) {
		fprintf(stderr, "netpeer: %s\n", i < argc ? err : "missing ADDR:PORT");
		return 3;
	}
	if (!strcmp(argv[1], "serve"))
		serve(&t);
	if (!strcmp(argv[1], "client"))
		client(&t);
	if (!strcmp(argv[1], "connect")) {
		ret = exchange(&t, buf, sizeof(buf), 2000);
		puts(ret == 0 ? buf : ret == 1 ? "refused" : "timeout");
		return ret;
	}
	if (!strcmp(argv[1], "loop") && i + 1 < argc)
		return loop(&t, argv[i + 1]);
	if (!strcmp(argv[1], "takeover") && i + 2 < argc) {
		struct sksteer_target dial;

		if (parse_target(argv[i + 1], &dial, err, sizeof(err))) {
			fprintf(stderr, "netpeer: %s\n", err);
			return 3;
		}
		return takeover(&t, &dial, atol(argv[i + 2]));
	}
	if (!strcmp(argv[1], "rate") && i + 1 < argc)
		return rate(&t, atof(argv[i + 1]));
	if ((!strcmp(argv[1], "crowd") || !strcmp(argv[1], "hold")) && i + 1 < argc)
		crowd(&t, atol(argv[i + 1]), !strcmp(argv[1], "hold"));
usage:
	fprintf(stderr,
		"usage: netpeer serve|connect|client|loop|rate|crowd|hold [--udp] [--sendto] [--from=PORT] "
		"[--every=MS] [--v6only] [--reuseport] "
		"[--device=IF] [--expect=ANSWER] ADDR:PORT [STOPFILE|SECONDS|N]\n");
	return 3;
}
