// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Target sockets found with sock_diag, and their owners in /proc; see sockets.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "parse.h"
#include "sockets.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static void add_sock(struct sock_list *list, const struct inet_diag_msg *m, int proto, int len)
{
	struct sock_info *s = &list->socks[list->n++];
	struct rtattr *attr;

	memset(s, 0, sizeof(*s));
	s->addr.proto = (uint8_t)proto;
	s->addr.family = m->idiag_family;
	s->addr.port = ntohs(m->id.idiag_sport);
	memcpy(s->addr.addr, m->id.idiag_src, m->idiag_family == AF_INET ? 4 : 16);
	s->cookie = m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	s->inode = m->idiag_inode;
	s->uid = m->idiag_uid;
	s->ifindex = m->id.idiag_if;
	s->state = m->idiag_state;
	len -= (int)NLMSG_LENGTH(sizeof(*m));
	for (attr = (struct rtattr *)(m + 1); RTA_OK(attr, len); attr = RTA_NEXT(attr, len))
		if (attr->rta_type == INET_DIAG_SKV6ONLY)
			s->v6only = *(uint8_t *)RTA_DATA(attr);
}

/* Reads one dump's answers. 1 when the dump is done, 0 for more, negative errno on error. */
static int read_dump(int nl, struct sock_list *list, size_t *cap, int proto)
{
	static __thread char buf[32768] __attribute__((aligned(4))); /* per thread */
	ssize_t n = recv(nl, buf, sizeof(buf), 0);
	struct nlmsghdr *h;

	if (n < 0)
		return -errno;
	for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error ? e->error : -EIO;
		}
		if (list->n == *cap) {
			struct sock_info *grown;

			*cap = *cap ? *cap * 2 : 64;
			grown = realloc(list->socks, *cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			list->socks = grown;
		}
		add_sock(list, NLMSG_DATA(h), proto, (int)h->nlmsg_len);
	}
	return 0;
}

static int dump_family(int nl, int family, int proto, struct sock_list *list, size_t *cap)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = (uint8_t)family,
		       .sdiag_protocol = (uint8_t)proto,
		       /* TCP: listeners; UDP: all, since any bound UDP socket owns its port */
		       .idiag_states = proto == IPPROTO_TCP ? 1U << TCP_LISTEN : ~0U },
	};
	int ret;

	if (send(nl, &req, sizeof(req), 0) < 0)
		return -errno;
	while (!(ret = read_dump(nl, list, cap, proto)))
		;
	return ret < 0 ? ret : 0;
}

/* sockets_hold(): each protocol's dump, taken once while held (per thread, as handles are). */
static __thread struct {
	int depth;
	bool have[2];
	struct sock_list list[2];
} held;

void sockets_hold(void)
{
	held.depth++;
}

void sockets_release(void)
{
	if (--held.depth)
		return;
	for (int i = 0; i < 2; i++) {
		sock_list_free(&held.list[i]);
		held.have[i] = false;
	}
}

static int dump(int proto, struct sock_list *list);

int sockets_dump(int proto, struct sock_list *list)
{
	int i = proto == IPPROTO_UDP, ret;

	if (!held.depth)
		return dump(proto, list);
	if (!held.have[i]) {
		ret = dump(proto, &held.list[i]);
		if (ret)
			return ret;
		held.have[i] = true;
	}
	list->n = held.list[i].n;
	list->socks = malloc((list->n + 1) * sizeof(*list->socks));
	if (!list->socks)
		return -ENOMEM;
	if (list->n)
		memcpy(list->socks, held.list[i].socks, list->n * sizeof(*list->socks));
	return 0;
}

static int dump(int proto, struct sock_list *list)
{
	size_t cap = 0;
	int nl, ret;

	list->socks = NULL;
	list->n = 0;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	ret = dump_family(nl, AF_INET, proto, list, &cap);
	if (!ret)
		ret = dump_family(nl, AF_INET6, proto, list, &cap);
	close(nl);
	if (ret)
		sock_list_free(list);
	return ret;
}

void sock_list_free(struct sock_list *list)
{
	free(list->socks);
	list->socks = NULL;
	list->n = 0;
}

bool sock_can_be_target(const struct sock_info *s, const struct sksteer_target *t)
{
	uint8_t want = t->proto == IPPROTO_TCP ? TCP_LISTEN : UDP_CLOSE;

	return s->state == want && target_equal(&s->addr, t);
}

static int fd_is_socket(int dirfd, const char *name, const char *want)
{
	char link[64];
	ssize_t n = readlinkat(dirfd, name, link, sizeof(link) - 1);

	if (n < 0)
		return 0;
	link[n] = '\0';
	return !strcmp(link, want);
}

const char *proc_stat_fields(pid_t pid, char *buf, size_t len)
{
	char path[64], *end = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (fgets(buf, (int)len, f))
		end = strrchr(buf, ')');
	fclose(f);
	return end ? end + 1 : NULL;
}

void proc_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(comm, 1, len - 1, f);
		fclose(f);
	}
	/*
	 * The name as the process gave it (prctl PR_SET_NAME takes any bytes, a
	 * newline too): the kernel's own newline ends it. Whoever prints it
	 * escapes it (src/lib/escape.h), so that JSON gives back every byte it can.
	 */
	if (n && comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
}

/* Looks through one process's fds for the socket. */
static int scan_process(pid_t pid, const char *want, struct owner *owner)
{
	char path[64];
	struct dirent *fde;
	int found = 0;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	fds = opendir(path);
	if (!fds)
		return 0;
	while (!found && (fde = readdir(fds))) {
		if (fde->d_name[0] == '.' || !fd_is_socket(dirfd(fds), fde->d_name, want))
			continue;
		owner->pid = pid;
		owner->fd = atoi(fde->d_name);
		proc_comm(pid, owner->comm, sizeof(owner->comm));
		found = 1;
	}
	closedir(fds);
	return found;
}

/* Whether the process is in the network namespace with that inode */
static bool in_netns(const char *pid, uint64_t netns_ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	return !stat(path, &st) && st.st_ino == netns_ino;
}

int socket_owner(uint32_t inode, uint64_t netns_ino, struct owner *owner)
{
	char want[32];
	struct dirent *de;
	int found = 0;
	DIR *proc;

	snprintf(want, sizeof(want), "socket:[%u]", inode);
	proc = opendir("/proc");
	if (!proc)
		return -errno;
	/* the processes in the socket's namespace first (one stat each), then every one */
	for (int pass = netns_ino ? 0 : 1; !found && pass < 2; pass++) {
		rewinddir(proc);
		while (!found && (de = readdir(proc))) {
			pid_t pid = atoi(de->d_name);

			if (pid > 0 && pid != getpid() && (pass || in_netns(de->d_name, netns_ino)))
				found = scan_process(pid, want, owner);
		}
	}
	closedir(proc);
	/*
	 * The caller last: the CLI holds only copies of another process's socket,
	 * but a program that steers its own socket is its owner.
	 */
	if (!found)
		found = scan_process(getpid(), want, owner);
	return found ? 0 : -ENOENT;
}

static int steal_fd(const struct owner *owner)
{
	int pidfd, fd;

	pidfd = (int)syscall(SYS_pidfd_open, owner->pid, 0);
	if (pidfd < 0)
		return -errno;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, owner->fd, 0);
	if (fd < 0)
		fd = -errno;
	close(pidfd);
	return fd;
}

static uint64_t fd_cookie(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len))
		return 0;
	return cookie;
}

/* The best candidate for t: not avoid_cookie if possible, then the newest (highest inode). */
static const struct sock_info *pick(const struct sock_list *l, const struct sksteer_target *t,
				    uint64_t avoid_cookie)
{
	const struct sock_info *best = NULL;

	for (size_t i = 0; i < l->n; i++) {
		const struct sock_info *s = &l->socks[i];
		bool s_new, best_new;

		if (!sock_can_be_target(s, t))
			continue;
		s_new = s->cookie != avoid_cookie;
		best_new = best && best->cookie != avoid_cookie;
		if (!best || (s_new && !best_new) || (s_new == best_new && s->inode > best->inode))
			best = s;
	}
	return best;
}

/* "nothing listens at X": with a hint when something uses the same port elsewhere. */
static void explain_missing(const struct sock_list *l, const struct sksteer_target *t, char *err,
			    size_t errlen)
{
	char want[TARGET_STRLEN], other[TARGET_STRLEN];
	const char *what = t->proto == IPPROTO_TCP ? "listens" : "is bound";

	format_target(t, want, sizeof(want));
	for (size_t i = 0; i < l->n; i++) {
		if (l->socks[i].addr.port != t->port)
			continue;
		format_target(&l->socks[i].addr, other, sizeof(other));
		snprintf(err, errlen,
			 "nothing %s at %s in this network namespace, but %s does: give that "
			 "address as the target",
			 what, want, other);
		return;
	}
	snprintf(err, errlen,
		 "nothing %s at %s in this network namespace: start the server first (check with "
		 "'ss -%cln')",
		 what, want, t->proto == IPPROTO_TCP ? 't' : 'u');
}

int target_choose(const struct sksteer_target *t, uint64_t avoid_cookie, struct sock_info *out,
		  char *err, size_t errlen)
{
	char name[TARGET_STRLEN], dev[IF_NAMESIZE];
	const struct sock_info *s;
	struct sock_list l;
	int ret;

	format_target(t, name, sizeof(name));
	ret = sockets_dump(t->proto, &l);
	if (ret) {
		snprintf(err, errlen, "cannot list sockets with sock_diag: %s", strerror(-ret));
		return -1;
	}
	s = pick(&l, t, avoid_cookie);
	if (!s) {
		explain_missing(&l, t, err, errlen);
		sock_list_free(&l);
		return -1;
	}
	*out = *s;
	sock_list_free(&l);
	/* sk_lookup does not look at devices: steering would feed it every device's traffic */
	if (out->ifindex) {
		if (!if_indextoname(out->ifindex, dev))
			snprintf(dev, sizeof(dev), "%u", out->ifindex);
		snprintf(err, errlen,
			 "the socket at %s is bound to device %s (SO_BINDTODEVICE), and steering "
			 "would hand it connections that arrive on every device: bind it without a "
			 "device",
			 name, dev);
		return -1;
	}
	return 0;
}

int socket_dup(const struct sock_info *s, char *err, size_t errlen)
{
	char name[TARGET_STRLEN];
	struct owner owner = { .fd = -1 };
	int fd;

	format_target(&s->addr, name, sizeof(name));
	if (socket_owner(s->inode, 0, &owner)) {
		snprintf(err, errlen,
			 "no process owning the socket at %s can be seen (in another PID "
			 "namespace, or not without CAP_SYS_PTRACE): let the kernel find it "
			 "(SKSTEER_FIND=iter or lookup)",
			 name);
		return -1;
	}
	fd = steal_fd(&owner);
	if (fd < 0) {
		snprintf(err, errlen, "cannot take the socket at %s from pid %d (%s): %s", name,
			 owner.pid, owner.comm, strerror(-fd));
		return -1;
	}
	/* the owner may have closed and reused the fd number since we looked */
	if (fd_cookie(fd) != s->cookie) {
		close(fd);
		snprintf(err, errlen,
			 "the socket at %s changed while sksteer looked at it; run again", name);
		return -1;
	}
	return fd;
}
