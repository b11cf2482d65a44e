// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Sockets named by --fd and --systemd, made by --listen, and the exec of CMD; see handover.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "handover.h"
#include "parse.h"

static int listen_fds(char *err, size_t errlen)
{
	const char *fds = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID");
	char *end;
	long n;

	if (!fds || !*fds) {
		snprintf(err, errlen,
			 "no sockets were passed (LISTEN_FDS is not set): run sksteer --systemd as "
			 "the main process of a service a .socket unit starts, e.g. "
			 "'ExecStart=sksteer --systemd -p PORTS -- SERVER ...'");
		return -1;
	}
	n = strtol(fds, &end, 10);
	if (*end || n < 1 || n > 1000) {
		snprintf(err, errlen, "LISTEN_FDS=%s is not a count of sockets", fds);
		return -1;
	}
	if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid()) {
		snprintf(err, errlen,
			 "LISTEN_PID=%s is not this process (%d): the sockets in LISTEN_FDS are "
			 "not sksteer's; run it as the service's main process (ExecStart=sksteer "
			 "--systemd -p PORTS -- SERVER ...), not from a child of it",
			 pid, (int)getpid());
		return -1;
	}
	return (int)n;
}

int handover_resolve(const char *arg, char *err, size_t errlen)
{
	const char *names = getenv("LISTEN_FDNAMES");
	char *end;
	long fd;
	int n, i = 0;

	if (arg) {
		fd = strtol(arg, &end, 10);
		if (*arg && !*end) {
			if (fd < 0 || fd > INT_MAX) {
				snprintf(err, errlen, "--fd %s: give a descriptor number", arg);
				return -1;
			}
			return (int)fd;
		}
	}
	/* the --systemd advice listen_fds() gives would not fit a name that is a typo */
	if (arg && !getenv("LISTEN_FDS")) {
		snprintf(err, errlen,
			 "--fd %s: not a descriptor number, and no named sockets were passed "
			 "(LISTEN_FDS is not set): give the descriptor's number, or a name from "
			 "LISTEN_FDNAMES (FileDescriptorName= in a .socket unit)",
			 arg);
		return -1;
	}
	n = listen_fds(err, errlen);
	if (n < 0)
		return -1;
	if (!arg) {
		if (n == 1)
			return HANDOVER_FDS_START;
		snprintf(err, errlen,
			 "%d sockets were passed (LISTEN_FDNAMES=%s): pick one with --fd NAME or "
			 "--fd NUMBER",
			 n, names ? names : "");
		return -1;
	}
	/* a name: its place in LISTEN_FDNAMES, colon separated, is its descriptor */
	for (const char *p = names; p && *p; i++) {
		size_t len = strcspn(p, ":");

		if (len == strlen(arg) && !strncmp(p, arg, len) && i < n)
			return HANDOVER_FDS_START + i;
		p += len + (p[len] == ':');
	}
	snprintf(err, errlen,
		 "--fd %s: no socket of that name was passed (LISTEN_FDNAMES=%s): give one of "
		 "those names (FileDescriptorName= in the .socket unit) or a number",
		 arg, names ? names : "");
	return -1;
}

/* Whether binding port needs CAP_NET_BIND_SERVICE here (1024 if the sysctl cannot be read) */
static bool privileged_port(unsigned int port)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	unsigned int start = 1024;

	if (f && fscanf(f, "%u", &start) != 1)
		start = 1024;
	if (f)
		fclose(f);
	return port < start;
}

int handover_listen(const struct sksteer_target *t, const struct listen_opts *o, char *err,
		    size_t errlen)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	const char *option = o->option ? o->option : "--listen";
	char name[TARGET_STRLEN];
	int one = 1, fd, saved;

	format_target(t, name, sizeof(name));
	fd = socket(t->family, (t->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
		    0);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: cannot make a socket: %s", option, name,
			 strerror(errno));
		return -1;
	}
	if (t->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(t->port);
		memcpy(&s6->sin6_addr, t->addr, 16);
		len = sizeof(*s6);
		if (o->v6only >= 0)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &o->v6only, sizeof(o->v6only));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(t->port);
		memcpy(&s4->sin_addr, t->addr, 4);
		len = sizeof(*s4);
	}
	/* as servers do: a restart binds again at once, past TIME_WAIT */
	if (t->proto == IPPROTO_TCP)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (t->proto == IPPROTO_UDP) {
		/* what a UDP server behind sksteer needs to learn the port a datagram was for */
		setsockopt(fd, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, sizeof(one));
		if (t->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (t->proto == IPPROTO_TCP && listen(fd, o->backlog))) {
		saved = errno;
		close(fd);
		snprintf(err, errlen, "%s %s: %s%s", option, name, strerror(saved),
			 saved == EADDRINUSE && !o->option ?
				 ": another socket is bound there (stop it, give another address, "
				 "or --reuseport if both set SO_REUSEPORT)" :
			 saved == EADDRINUSE ?
				 ": another socket is bound there ('ss -tlnp' shows which): stop "
				 "it, or give another port" :
			 saved == EADDRNOTAVAIL ?
				 ": no interface of this network namespace has that address" :
			 saved == EACCES && privileged_port(t->port) ?
				 ": a port below net.ipv4.ip_unprivileged_port_start needs "
				 "CAP_NET_BIND_SERVICE: give a port from 1024 up, or run with it" :
				 "");
		return -1;
	}
	return fd;
}

int handover_exec_check(char *const argv[], char *err, size_t errlen)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(argv[0], '/')) {
		if (!access(argv[0], X_OK))
			return 0;
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(errno));
		return -1;
	}
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t len = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? p : ".", argv[0]);
		if (!access(buf, X_OK))
			return 0;
		p += len + (p[len] == ':');
	}
	snprintf(err, errlen, "cannot run %s: no such command in PATH", argv[0]);
	return -1;
}

int handover_exec(int fd, const char *name, char *const argv[], char *err, size_t errlen)
{
	char pid[32];

	if (fd >= 0) {
		if (fd != HANDOVER_FDS_START) {
			if (dup2(fd, HANDOVER_FDS_START) < 0) {
				snprintf(err, errlen, "cannot pass the socket as fd 3: %s",
					 strerror(errno));
				return -1;
			}
			close(fd);
		} else {
			fcntl(fd, F_SETFD, 0); /* no FD_CLOEXEC: CMD inherits it */
		}
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_PID", pid, 1);
		setenv("LISTEN_FDNAMES", name, 1);
	}
	execvp(argv[0], argv);
	snprintf(err, errlen, "cannot run %s: %s (the steering is in place)", argv[0],
		 strerror(errno));
	return -1;
}
