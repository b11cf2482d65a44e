// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Where pins live: a bpffs that outlives the run. Finds it, mounts it where a
 * run must pin and none is mounted, and reaches through `ip netns exec` to the
 * mount namespace ip was run from; see bpffs.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bpffs.h"
#include "sockets.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define BPFFS "/sys/fs/bpf"

static bool is_bpffs(const char *path)
{
	struct statfs fs;

	return !statfs(path, &fs) && fs.f_type == BPF_FS_MAGIC;
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

/* The source of the sysfs mounted on /sys (the last, topmost one), from mountinfo. */
static bool sysfs_source(char *src, size_t len)
{
	char line[4096], mnt[PATH_MAX], type[64], source[256];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTS */
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(dash, " - %63s %255s", type, source) != 2)
			continue;
		if (!strcmp(mnt, "/sys") && !strcmp(type, "sysfs")) {
			snprintf(src, len, "%s", source);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * `ip netns exec NAME` runs its command in a new mount namespace, gone when
 * the command exits, with a sysfs mounted on /sys whose source is NAME. It is
 * that for sure when /run/netns/NAME is the network namespace we are in.
 */
static bool under_ip_netns_exec(void)
{
	char name[256], path[PATH_MAX];
	struct stat ns, named;

	if (!sysfs_source(name, sizeof(name)) || !strcmp(name, "sysfs") || strchr(name, '/'))
		return false;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return !stat("/proc/thread-self/ns/net", &ns) && !stat(path, &named) &&
	       ns.st_ino == named.st_ino && ns.st_dev == named.st_dev;
}

/* The nearest ancestor in another mount namespace: the one that ran `ip netns exec`. 0 if none. */
static pid_t outer_process(void)
{
	struct stat ours, theirs;
	char path[64];

	if (stat("/proc/self/ns/mnt", &ours))
		return 0;
	for (pid_t pid = getppid(); pid > 0; pid = parent_of(pid)) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		if (stat(path, &theirs))
			return 0;
		if (theirs.st_ino != ours.st_ino)
			return pid;
		if (pid == 1)
			break;
	}
	return 0;
}

pid_t ip_netns_exec_outer(void)
{
	return under_ip_netns_exec() ? outer_process() : 0;
}

/* Mounts bpffs on /sys/fs/bpf in the mount namespace of pid (0: our own). 0 or an errno. */
static int mount_bpffs(pid_t pid)
{
	char path[64];
	int status, fd;
	pid_t child;

	if (!pid)
		return mount("bpf", BPFFS, "bpf", 0, "mode=0700") ? errno : 0;
	/* setns() into a mount namespace needs a single-threaded process: a child */
	child = fork();
	if (child < 0)
		return errno;
	if (!child) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNS) || mount("bpf", BPFFS, "bpf", 0, "mode=0700"))
			_exit(errno & 0x7f);
		_exit(0);
	}
	if (waitpid(child, &status, 0) < 0)
		return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

static void mount_failed(int errnum, const char *where, char *err, size_t errlen)
{
	snprintf(err, errlen, "bpffs is not mounted on %s and sksteer could not mount it (%s): %s",
		 where, strerror(errnum),
		 errnum == EPERM ?
			 "run sksteer as root (mounting needs CAP_SYS_ADMIN), or mount it "
			 "once with 'mount -t bpf bpf " BPFFS "'" :
			 "mount it with 'mount -t bpf bpf " BPFFS "'");
}

/* See bpffs.h. */
const char *bpffs_root(bool mount, char *buf, size_t len, char *err, size_t errlen)
{
	pid_t outer;
	int ret;

	err[0] = '\0';
	if (is_bpffs(BPFFS))
		return BPFFS;
	if (!under_ip_netns_exec()) {
		if (!mount)
			return NULL;
		ret = mount_bpffs(0);
		if (!ret && is_bpffs(BPFFS))
			return BPFFS;
		mount_failed(ret ? ret : ENODEV, BPFFS, err, errlen);
		return NULL;
	}
	outer = ip_netns_exec_outer();
	if (!outer) {
		snprintf(err, errlen,
			 "under 'ip netns exec', sksteer cannot reach the bpffs of the namespace "
			 "ip was run from (pins made here would vanish at exit): open it by path "
			 "from outside instead");
		return NULL;
	}
	snprintf(buf, len, "/proc/%d/root" BPFFS, outer);
	if (is_bpffs(buf))
		return buf;
	if (!mount)
		return NULL;
	ret = mount_bpffs(outer);
	if (!ret && is_bpffs(buf))
		return buf;
	mount_failed(ret ? ret : ENODEV, "the host's " BPFFS, err, errlen);
	return NULL;
}
