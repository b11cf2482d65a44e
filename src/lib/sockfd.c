// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A socket given by descriptor (a caller's, --fd, --systemd, --listen): its
 * address and state read from the descriptor, and checked to be one sksteer
 * can steer to; see sockfd.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/sockios.h>
#include "parse.h"
#include "sockfd.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef SIOCGSKNS
#define SIOCGSKNS 0x894C
#endif

#define UDP_UNCONNECTED 7 /* TCP_CLOSE: what sock_diag reports for a bound UDP socket */

static int sockopt_int(int fd, int level, int name, int *value)
{
	socklen_t len = sizeof(*value);

	*value = 0;
	return getsockopt(fd, level, name, value, &len);
}

static const char *file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a pipe";
	if (S_ISCHR(mode))
		return "a character device (a terminal?)";
	return "not a socket";
}

/* The socket's address: family, port and address of getsockname(). */
static int local_address(int fd, struct sksteer_target *t)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	memset(t->addr, 0, sizeof(t->addr));
	t->family = (uint8_t)ss.ss_family;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		t->port = ntohs(s4->sin_port);
		memcpy(t->addr, &s4->sin_addr, 4);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

		t->port = ntohs(s6->sin6_port);
		memcpy(t->addr, &s6->sin6_addr, 16);
	}
	return 0;
}

int sock_from_fd(int fd, const char *what, uint64_t netns_ino, struct sock_info *s, char *err,
		 size_t errlen)
{
	char name[TARGET_STRLEN], dev[IF_NAMESIZE];
	int domain, type, proto, listening, v6only = 0, ifindex = 0, ns;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(s->cookie), plen = sizeof(peer);
	struct stat st;

	memset(s, 0, sizeof(*s));
	if (fstat(fd, &st)) {
		snprintf(err, errlen,
			 "%s is not an open descriptor of this process: pass the socket down to it "
			 "as descriptor %d",
			 what, fd);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
			 "%s is %s: give the descriptor of a listening TCP socket or a bound UDP "
			 "socket",
			 what, file_kind(st.st_mode));
		return -1;
	}
	if (sockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &domain) ||
	    sockopt_int(fd, SOL_SOCKET, SO_TYPE, &type) ||
	    sockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &proto) ||
	    (domain != AF_INET && domain != AF_INET6) ||
	    !((type == SOCK_STREAM && proto == IPPROTO_TCP) ||
	      (type == SOCK_DGRAM && proto == IPPROTO_UDP))) {
		snprintf(err, errlen,
			 "%s is not a TCP or UDP socket of IPv4 or IPv6 (a Unix socket?): give the "
			 "descriptor of a listening TCP socket or a bound UDP socket",
			 what);
		return -1;
	}
	s->addr.proto = (uint8_t)proto;
	if (local_address(fd, &s->addr) || !s->addr.port) {
		snprintf(err, errlen,
			 "%s is a %s socket that is not bound to an address: bind it (and, for "
			 "TCP, listen) before handing it to sksteer",
			 what, proto == IPPROTO_TCP ? "TCP" : "UDP");
		return -1;
	}
	format_target(&s->addr, name, sizeof(name));
	if (proto == IPPROTO_TCP &&
	    (sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening) || !listening)) {
		snprintf(err, errlen,
			 "%s is a TCP socket at %s that is not listening (%s): give the "
			 "descriptor of a listening socket, after listen()",
			 what, name,
			 getpeername(fd, (struct sockaddr *)&peer, &plen) ? "not yet listen()ed" :
									    "a connection");
		return -1;
	}
	if (proto == IPPROTO_UDP && !getpeername(fd, (struct sockaddr *)&peer, &plen)) {
		snprintf(err, errlen,
			 "%s is a connected UDP socket at %s: it receives from one peer only; give "
			 "the descriptor of a bound, unconnected UDP socket",
			 what, name);
		return -1;
	}
	sockopt_int(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex);
	if (ifindex > 0) {
		if (!if_indextoname((unsigned int)ifindex, dev))
			snprintf(dev, sizeof(dev), "%d", ifindex);
		snprintf(err, errlen,
			 "%s: the socket at %s is bound to device %s (SO_BINDTODEVICE), and "
			 "steering would hand it connections that arrive on every device: bind it "
			 "without a device",
			 what, name, dev);
		return -1;
	}
	/* the socket's own network namespace must be the one steered */
	ns = ioctl(fd, SIOCGSKNS);
	if (ns >= 0) {
		struct stat nst;

		if (!fstat(ns, &nst) && (uint64_t)nst.st_ino != netns_ino) {
			close(ns);
			snprintf(err, errlen,
				 "%s: the socket at %s belongs to network namespace %llu, not to "
				 "the one steered here (%llu): steer in the socket's namespace",
				 what, name, (unsigned long long)nst.st_ino,
				 (unsigned long long)netns_ino);
			return -1;
		}
		close(ns);
	}
	if (domain == AF_INET6)
		sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &s->cookie, &len))
		s->cookie = 0;
	s->inode = (uint32_t)st.st_ino;
	s->uid = st.st_uid;
	s->state = proto == IPPROTO_TCP ? TCP_LISTEN : UDP_UNCONNECTED;
	s->v6only = v6only;
	s->held = true;
	s->fd = fd;
	return 0;
}

/* LISTEN_FDS, if it is meant for this process (LISTEN_PID). -1 with err set otherwise. */
