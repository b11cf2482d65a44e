// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The public handle of one network namespace (struct sksteer_ns): opened from
 * the caller's namespace, a path or a descriptor; its pin directory locked
 * while open; the thread's settings (stop flag, lock wait) and its namespace
 * entered around each operation, and left again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include "ns.h"
#include "print.h"
#include "stop.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

const char *sksteer_version(void)
{
	return SKSTEER_VERSION;
}

/* A field of an opts struct the caller's build has: sz covers it. */

int ns_begin(struct sksteer_ns *ns, struct ns_call *call, int enter, char *err, size_t errlen)
{
	call->stop = stop_source(ns->stop);
	call->lock_wait_s = pins_lock_wait_s;
	call->own = -1;
	pins_lock_wait_s = (unsigned int)ns->lock_wait_s;
	if (enter == NS_ENTER && ns->outside) {
		/* no descriptor to enter it by: what runs inside would run in ours */
		snprintf(err, errlen,
			 "network namespace %llu was opened by its pins' inode, and cannot be "
			 "entered: open it by path",
			 (unsigned long long)ns->l.pins.netns_ino);
		ns_end(call);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (enter == NS_STAY || ns->netns_fd < 0)
		return 0;
	call->own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (call->own >= 0 && !setns(ns->netns_fd, CLONE_NEWNET))
		return 0;
	if (call->own >= 0 && enter == NS_TRY) {
		/* a reader without CAP_SYS_ADMIN stays outside: it needs only the pins */
		close(call->own);
		call->own = -1;
		return 0;
	}
	snprintf(err, errlen, "cannot enter network namespace %llu: %s",
		 (unsigned long long)ns->l.pins.netns_ino, strerror(errno));
	if (call->own >= 0)
		close(call->own);
	call->own = -1;
	ns_end(call);
	return -1;
}

void ns_end(struct ns_call *call)
{
	if (call->own >= 0) {
		/* back to the thread's own: it was ours a moment ago, so this cannot fail */
		setns(call->own, CLONE_NEWNET);
		close(call->own);
		call->own = -1;
	}
	stop_source(call->stop);
	pins_lock_wait_s = call->lock_wait_s;
}

int ns_create(struct sksteer_ns *ns, char *err, size_t errlen)
{
	uint64_t ino = ns->l.pins.netns_ino;

	if (ns->read_only) {
		snprintf(err, errlen, "the namespace was opened read-only: open it to change");
		errno = EPERM;
		return -1;
	}
	if (ns->l.pins.dir_fd >= 0) {
		/* once a handle: pins of namespaces that died, as a first change sweeps them */
		if (!ns->swept)
			pins_sweep(&ns->l.pins);
		ns->swept = true;
		return 0;
	}
	ns->swept = true;
	return pins_open(&ns->l.pins, ino, PINS_CREATE, err, errlen) < 0 ? -1 : 0;
}

int ns_fail(int ret, const char *err)
{
	return lib_error(ret < 0 ? ret : -EINVAL, err);
}

/* The errno a failure left, as -errno; -EIO where the failure set none. */
int ns_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static int open_ns(int netns_fd, uint64_t ino, const struct sksteer_ns_opts *opts,
		   struct sksteer_ns **out)
{
	struct sksteer_ns *ns = calloc(1, sizeof(*ns));
	char err[1024] = "";
	struct ns_call call;
	int ret;

	*out = NULL;
	if (!ns) {
		if (netns_fd >= 0)
			close(netns_fd);
		return lib_error(-ENOMEM, "out of memory");
	}
	for (int i = 0; i < NR_MAPS; i++)
		ns->l.fds[i] = -1;
	ns->netns_fd = netns_fd;
	ns->read_only = OPTS_GET(opts, read_only, false);
	ns->lock_wait_s = OPTS_GET(opts, lock_wait_s, 0);
	ns->lock_wait_s = ns->lock_wait_s < 0 ? 0 : ns->lock_wait_s ?: PINS_LOCK_WAIT_S;
	ns->stop = (volatile int *)OPTS_GET(opts, stop, NULL);
	ns->brief = OPTS_GET(opts, brief, false);
	ns_begin(ns, &call, NS_STAY, err, sizeof(err));
	ret = pins_open(&ns->l.pins, ino, ns->read_only ? PINS_READ : PINS_CHANGE, err,
			sizeof(err));
	errno = ret < 0 && errno == EWOULDBLOCK ? EBUSY : errno;
	/* the maps are read by the first call that needs them: --detach works on pins it cannot */
	ns_end(&call);
	if (ret < 0) {
		ret = lib_error(ns_errno(), err);
		sksteer_ns__close(ns);
		return ret;
	}
	*out = ns;
	return 0;
}

int sksteer_ns__open(const char *netns_path, const struct sksteer_ns_opts *opts,
		     struct sksteer_ns **ns)
{
	struct stat st;
	char err[PATH_MAX + 128];
	int fd, ret;

	if (!netns_path) {
		if (stat("/proc/thread-self/ns/net", &st))
			return lib_error(ns_errno(), "cannot identify this network namespace");
		return open_ns(-1, st.st_ino, opts, ns);
	}
	/* O_NONBLOCK: a FIFO put there does not hold the caller up */
	fd = open(netns_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = ns_errno();
		snprintf(err, sizeof(err), "%s: %s", netns_path, strerror(-ret));
		return lib_error(ret, err);
	}
	ret = sksteer_ns__open_fd(fd, opts, ns);
	close(fd);
	return ret;
}

int sksteer_ns__open_fd(int netns_fd, const struct sksteer_ns_opts *opts, struct sksteer_ns **ns)
{
	struct statfs fs;
	struct stat st;
	int fd;

	*ns = NULL;
	if (fstatfs(netns_fd, &fs) || fstat(netns_fd, &st) || fs.f_type != NSFS_MAGIC ||
	    ioctl(netns_fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return lib_error(-EINVAL, "not a network namespace: give /run/netns/NAME, "
					  "/proc/PID/ns/net or a descriptor of one");
	fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return lib_error(ns_errno(), "cannot keep the namespace's descriptor");
	return open_ns(fd, st.st_ino, opts, ns);
}

static int cmp_ino(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Whether dir/name holds pins (a link or the port table): an empty one may be a first run's. */
static bool has_pins(int base_fd, const char *name)
{
	static const char *const pins[] = { "link", "ports" };
	char path[NAME_MAX + 16];
	struct stat st;

	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", name, pins[i]);
		if (!fstatat(base_fd, path, &st, 0))
			return true;
	}
	return false;
}

int sksteer_pinned_netns(uint64_t **inodes)
{
	char base[PATH_MAX], err[PATH_MAX + 128];
	size_t n = 0, cap = 0;
	unsigned long long ino;
	struct dirent *de;
	uint64_t *more;
	int ret;
	DIR *d;

	*inodes = NULL;
	ret = pins_base(base, sizeof(base), err, sizeof(err));
	if (ret)
		return ret > 0 ? 0 : lib_error(ns_errno(), err);
	d = opendir(base);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, sizeof(err),
			 "cannot list %s: %s: list it as root, or as a member of the group it was "
			 "given to (the first given with sksteer --group)",
			 base, strerror(errno));
		return lib_error(ns_errno(), err);
	}
	while ((de = readdir(d))) {
		char tail;

		if (strncmp(de->d_name, "netns-", 6) || de->d_name[6] < '0' ||
		    de->d_name[6] > '9' || sscanf(de->d_name, "netns-%llu%c", &ino, &tail) != 1 ||
		    !has_pins(dirfd(d), de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			more = realloc(*inodes, cap * sizeof(**inodes));
			if (!more) {
				closedir(d);
				free(*inodes);
				*inodes = NULL;
				return lib_error(-ENOMEM, "out of memory");
			}
			*inodes = more;
		}
		(*inodes)[n++] = ino;
	}
	closedir(d);
	if (n)
		qsort(*inodes, n, sizeof(**inodes), cmp_ino);
	return (int)n;
}

int sksteer_ns__open_pinned(uint64_t inode, const struct sksteer_ns_opts *opts,
			    struct sksteer_ns **ns)
{
	int ret;

	*ns = NULL;
	if (!OPTS_GET(opts, read_only, false))
		return lib_error(-EINVAL, "a namespace opened by its pins' inode is read-only: "
					  "open it by path to change it");
	ret = open_ns(-1, inode, opts, ns);
	if (!ret) /* its sockets are not in a dump of ours */
		(*ns)->outside = true;
	return ret;
}

void sksteer_ns__close(struct sksteer_ns *ns)
{
	if (!ns)
		return;
	live_close(&ns->l);
	if (ns->netns_fd >= 0)
		close(ns->netns_fd);
	free(ns);
}

int sksteer_ns__call(struct sksteer_ns *ns, int (*fn)(void *ctx), void *ctx)
{
	struct ns_call call;
	char err[256];
	int ret;

	errno = 0;
	if (ns_begin(ns, &call, NS_ENTER, err, sizeof(err)))
		return lib_error(ns_errno(), err);
	ret = fn(ctx);
	ns_end(&call);
	return ret;
}

uint64_t sksteer_ns__inode(const struct sksteer_ns *ns)
{
	return ns->l.pins.netns_ino;
}

bool sksteer_ns__steering(const struct sksteer_ns *ns)
{
	return ns->l.pins.live;
}
