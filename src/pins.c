// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pins.h"
#include "sockets.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define BPFFS "/sys/fs/bpf"

const char *const pinned_map_names[NR_MAPS] = {
	[MAP_PORTS] = "ports",	 [MAP_TARGETS] = "targets",
	[MAP_STATS] = "stats",	 [MAP_TARGET_ADDRS] = "target_addrs",
	[MAP_TRACER] = "tracer", [MAP_EVENTS] = "events",
};

static bool is_bpffs(const char *path)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == BPF_FS_MAGIC;
}

/* 1: this process is in the mount namespace of pid 1; 0: it is not; -1: cannot tell */
static int in_init_mount_ns(void)
{
	char ours[64], init[64];
	ssize_t a = readlink("/proc/self/ns/mnt", ours, sizeof(ours) - 1);
	ssize_t b = readlink("/proc/1/ns/mnt", init, sizeof(init) - 1);

	if (a < 0 || b < 0)
		return -1;
	return a == b && !memcmp(ours, init, (size_t)a);
}

static pid_t parent_of(pid_t pid)
{
	char buf[512];
	const char *fields = proc_stat_fields(pid, buf, sizeof(buf));
	int ppid = 0;

	if (fields)
		sscanf(fields, " %*c %d", &ppid);
	return ppid;
}

/*
 * Pins must outlive this process, so they go into the host's bpffs. Under
 * `ip netns exec` this process has a private mount namespace with a fresh
 * /sys: a bpffs mounted there would vanish at exit, and steering with it. The
 * host's bpffs is still reachable through the root of an ancestor process.
 */
static const char *bpffs_root(char *buf, size_t len, char *err, size_t errlen)
{
	if (is_bpffs(BPFFS))
		return BPFFS;
	if (in_init_mount_ns() == 1) {
		if (!mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
			return BPFFS;
		snprintf(err, errlen,
			 "bpffs is not mounted at " BPFFS " and mounting it failed (%s): mount it "
			 "with 'mount -t bpf bpf " BPFFS "'",
			 strerror(errno));
		return NULL;
	}
	for (pid_t pid = getppid(); pid > 0; pid = parent_of(pid)) {
		snprintf(buf, len, "/proc/%d/root" BPFFS, pid);
		if (is_bpffs(buf))
			return buf;
		if (pid == 1)
			break;
	}
	snprintf(err, errlen,
		 "bpffs is not mounted at " BPFFS " in this mount namespace nor on the host "
		 "(under 'ip netns exec'?): mount it on the host with 'mount -t bpf bpf " BPFFS
		 "', or enter the network namespace with 'nsenter --net=/run/netns/NAME'");
	return NULL;
}

char *pin_path(const struct pins *p, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->dir, name);
	return buf;
}

int pins_map_fd(const struct pins *p, enum pinned_map m)
{
	char path[PATH_MAX];
	int fd = bpf_obj_get(pin_path(p, pinned_map_names[m], path, sizeof(path)));

	return fd < 0 ? -errno : fd;
}

void pin_restrict(const struct pins *p, const char *name)
{
	char path[PATH_MAX];

	chmod(pin_path(p, name, path, sizeof(path)), 0600);
}

/* The netns a pinned link is attached to; 0 once that namespace is gone. */
static uint64_t link_netns(int link_fd)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len) || info.type != BPF_LINK_TYPE_NETNS)
		return 0;
	return info.netns.netns_ino;
}

static void unlink_all(struct pins *p)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(p->dir_fd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(p->dir_fd, de->d_name, 0);
	closedir(d);
}

int pins_remove(struct pins *p)
{
	char path[PATH_MAX];
	int link = bpf_obj_get(pin_path(p, "link", path, sizeof(path)));

	/* Detach first: a tracer may hold another reference to the link. */
	if (link >= 0) {
		bpf_link_detach(link);
		close(link);
	}
	unlink_all(p);
	p->live = false;
	p->created = true; /* so that pins_close() removes the empty directory */
	return 0;
}

/*
 * Pins left by a namespace that is gone (its inode number now reused) or by a
 * run that died before it pinned the link describe nothing live: clear them.
 */
static void check_live(struct pins *p)
{
	char path[PATH_MAX];
	int link = bpf_obj_get(pin_path(p, "link", path, sizeof(path)));

	p->live = link >= 0 && link_netns(link) == p->netns_ino;
	if (link >= 0)
		close(link);
	if (!p->live) {
		unlink_all(p);
		p->created = true;
	}
}

/*
 * Removes the pin directories of namespaces that are gone: their links steer
 * nothing, yet their maps hold memory. Directories in use by a run are skipped.
 */
static void remove_stale(const char *base, const struct pins *ours)
{
	struct dirent *de;
	DIR *d = opendir(base);

	while (d && (de = readdir(d))) {
		char path[PATH_MAX];
		struct pins p = {};
		int link;

		if (strncmp(de->d_name, "netns-", 6))
			continue;
		snprintf(p.dir, sizeof(p.dir), "%s/%s", base, de->d_name);
		if (!strcmp(p.dir, ours->dir))
			continue;
		p.dir_fd = open(p.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p.dir_fd < 0)
			continue;
		if (!flock(p.dir_fd, LOCK_EX | LOCK_NB)) {
			link = bpf_obj_get(pin_path(&p, "link", path, sizeof(path)));
			if (link < 0 || !link_netns(link)) {
				unlink_all(&p);
				rmdir(p.dir);
			}
			if (link >= 0)
				close(link);
		}
		close(p.dir_fd);
	}
	if (d)
		closedir(d);
}

/* Opens and locks the directory; retries if a concurrent run removed it meanwhile. */
static int lock_dir(struct pins *p, bool create, char *err, size_t errlen)
{
	for (;;) {
		struct stat a, b;

		if (create) {
			if (!mkdir(p->dir, 0700))
				p->created = true;
			else if (errno != EEXIST)
				goto fail;
		}
		p->dir_fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->dir_fd < 0) {
			if (errno == ENOENT && !create)
				return 1;
			goto fail;
		}
		if (flock(p->dir_fd, LOCK_EX))
			goto fail;
		if (!fstat(p->dir_fd, &a) && !stat(p->dir, &b) && a.st_ino == b.st_ino &&
		    a.st_nlink > 0)
			return 0;
		close(p->dir_fd);
		p->created = false;
	}
fail:
	snprintf(err, errlen, "cannot use the pin directory %s: %s", p->dir, strerror(errno));
	return -1;
}

int pins_open(struct pins *p, bool create, char *err, size_t errlen)
{
	char base[PATH_MAX], rootbuf[PATH_MAX];
	const char *root;
	struct stat ns;
	int ret;

	memset(p, 0, sizeof(*p));
	p->dir_fd = -1;
	if (stat("/proc/self/ns/net", &ns)) {
		snprintf(err, errlen, "cannot identify this network namespace: %s",
			 strerror(errno));
		return -1;
	}
	p->netns_ino = ns.st_ino;
	root = bpffs_root(rootbuf, sizeof(rootbuf), err, errlen);
	if (!root)
		return -1;
	snprintf(base, sizeof(base), "%s/sksteer", root);
	if (create && mkdir(base, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", base, strerror(errno));
		return -1;
	}
	snprintf(p->dir, sizeof(p->dir), "%s/netns-%llu", base, (unsigned long long)p->netns_ino);
	if (create)
		remove_stale(base, p);
	ret = lock_dir(p, create, err, errlen);
	if (ret)
		return ret;
	check_live(p);
	return 0;
}

void pins_close(struct pins *p)
{
	if (p->dir_fd < 0)
		return;
	/* rmdir fails, as it should, while pins remain */
	if (p->created && !p->live)
		rmdir(p->dir);
	close(p->dir_fd);
	p->dir_fd = -1;
}
