/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Finding sockets in this network namespace (sock_diag) and the processes that own them. */
#ifndef __SKSTEER_SOCKETS_H
#define __SKSTEER_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sksteer_abi.h"

#define UDP_CLOSE 7 /* sock_diag's state of an unconnected UDP socket (TCP_CLOSE) */

/* A socket as sock_diag reports it. */
struct sock_info {
	struct sksteer_target addr; /* local address; proto and family filled in */
	uint64_t cookie;
	uint32_t inode;
	uint32_t uid; /* of the socket (its creator, as ss -e shows) */
	uint32_t ifindex; /* SO_BINDTODEVICE, 0 if none */
	uint8_t state; /* TCP_LISTEN, TCP_CLOSE (unconnected UDP), ... */
	bool v6only;
	bool held; /* fd is this process's descriptor of it (--fd, --listen): no lookup needed */
	int fd;
};

struct sock_list {
	struct sock_info *socks;
	size_t n;
};

/*
 * Every TCP listener (proto IPPROTO_TCP) or every UDP socket (IPPROTO_UDP) of
 * this network namespace, both address families. 0 or a negative errno.
 */
int sockets_dump(int proto, struct sock_list *list);

/*
 * Between sockets_hold() and sockets_release() (nested), sockets_dump() gives
 * copies of one dump per protocol: a plan checks its 100,000 lines against
 * one look at the sockets, not one each.
 */
void sockets_hold(void);
void sockets_release(void);
void sock_list_free(struct sock_list *list);

/* The sockets that could serve as target t: listening TCP / unconnected UDP at exactly t. */
bool sock_can_be_target(const struct sock_info *s, const struct sksteer_target *t);

struct owner {
	pid_t pid;
	int fd; /* the socket's fd number in that process */
	char comm[32]; /* raw: escape it to print it */
};

/* The name of process pid (/proc/PID/comm) as its bytes, "" if gone; len > 16 holds it all. */
void proc_comm(pid_t pid, char *comm, size_t len);

/*
 * The fields of /proc/PID/stat from field 3 (state) on, read into buf: comm,
 * field 2, may hold anything, so they start after its last ')'. NULL if gone.
 */
const char *proc_stat_fields(pid_t pid, char *buf, size_t len);

/*
 * Finds a process holding socket inode: among the processes in the network namespace with
 * inode netns_ino first (0: no such pass), then among all. 0, or -ENOENT when none can be seen.
 */
int socket_owner(uint32_t inode, uint64_t netns_ino, struct owner *owner);

/*
 * Chooses the socket for target t in this network namespace, with sock_diag:
 * listening (TCP) or unconnected (UDP) at exactly t. Among several (SO_REUSEPORT)
 * it prefers the newest one whose cookie is not avoid_cookie. A socket bound to
 * a device is refused. 0, or -1 with one line in err.
 */
int target_choose(const struct sksteer_target *t, uint64_t avoid_cookie, struct sock_info *out,
		  char *err, size_t errlen);

/*
 * The last resort: finds the owner of socket s in /proc and duplicates its fd
 * with pidfd_getfd (CAP_SYS_PTRACE; the owner must be visible in our PID
 * namespace). Returns the fd, or -1 with one line in err.
 */
int socket_dup(const struct sock_info *s, char *err, size_t errlen);

#endif /* __SKSTEER_SOCKETS_H */
