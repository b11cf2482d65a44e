// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pinned state of a namespace: the pin directory and its lock; see pins.h (bpffs.c finds bpffs). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bpffs.h"
#include "kernel.h"
#include "pins.h"
#include "stop.h"
#include "sockets.h"

__thread unsigned int pins_lock_wait_s = PINS_LOCK_WAIT_S;

const char *const pinned_map_names[NR_MAPS] = {
	[MAP_PORTS] = "ports",
	[MAP_TARGETS] = "targets",
	[MAP_STATS] = "stats",
	[MAP_TARGET_ADDRS] = "target_addrs",
	[MAP_TRACER] = "tracer",
	[MAP_TARGET_INFO] = "target_info",
	[MAP_TARGET_FLAGS] = "target_flags",
	[MAP_STATS_EXT] = "stats_ext",
	[MAP_UDP_CLIENTS] = "udp_clients",
	[MAP_LAYOUT] = "layout",
	[MAP_STANDBY] = "standby",
	[MAP_ROUTES] = "routes",
	[MAP_SCOPES] = "scopes",
	[MAP_PREFIXES] = "prefixes",
	[MAP_PREFIX_LIST] = "prefix_list",
	[MAP_UDP_REPLIES] = "udp_replies",
	[MAP_TABLES4] = "tables4",
	[MAP_TABLES6] = "tables6",
	[MAP_TABLE_RANGES] = "table_ranges",
	[MAP_TABLE_METAS] = "table_metas",
	[MAP_TABLE_SEL] = "table_sel",
};

char *pin_path(const struct pins *p, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", p->dir, name);
	return buf;
}

int pins_obj_fd(const struct pins *p, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = p->mode == PINS_READ ? BPF_F_RDONLY : 0);
	char path[PATH_MAX];
	int fd = bpf_obj_get_opts(pin_path(p, name, path, sizeof(path)), &opts);

	return fd < 0 ? -errno : fd;
}

int pins_map_fd(const struct pins *p, enum pinned_map m)
{
	return pins_obj_fd(p, pinned_map_names[m]);
}

int pin_replace(const struct pins *p, int fd, const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX];

	/* bpffs takes no dots in names; rename(2) replaces a pin atomically */
	snprintf(tmp, sizeof(tmp), "%s_new", pin_path(p, name, path, sizeof(path)));
	unlink(tmp);
	if (bpf_obj_pin(fd, tmp))
		return -errno;
	/* its modes before it takes the name: a group reader never finds it closed */
	pin_restrict(p, strrchr(tmp, '/') + 1);
	if (rename(tmp, path)) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

void pin_restrict(const struct pins *p, const char *name)
{
	char path[PATH_MAX];

	pin_path(p, name, path, sizeof(path));
	if (p->gid && chown(path, (uid_t)-1, p->gid))
		return; /* left the owner's alone: a reader of the group is refused, not misled */
	chmod(path, p->gid ? 0640 : 0600);
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
	rewinddir(d); /* the offset is p->dir_fd's, wherever another reader left it */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(p->dir_fd, de->d_name, 0);
	closedir(d);
}

/* The follower's links (src/lib/follow.c), "follow" and "follow-CGROUP", off their cgroups. */
static void detach_followers(struct pins *p)
{
	struct dirent *de;
	char path[PATH_MAX];
	int fd = dup(p->dir_fd), link;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (d)
		rewinddir(d); /* the offset is shared with dir_fd: others may have read it */
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, "follow") && strncmp(de->d_name, "follow-", 7))
			continue;
		link = bpf_obj_get(pin_path(p, de->d_name, path, sizeof(path)));
		if (link >= 0) {
			bpf_link_detach(link);
			close(link);
		}
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
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
	detach_followers(p);
	unlink_all(p);
	p->live = false;
	p->created = true; /* so that pins_close() removes the empty directory */
	return 0;
}

static bool is_empty(int dir_fd)
{
	struct dirent *de;
	bool empty = true;
	int fd = dup(dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	while (d && empty && (de = readdir(d)))
		empty = de->d_name[0] == '.';
	if (d) {
		rewinddir(d); /* the offset is dir_fd's too */
		closedir(d);
	} else if (fd >= 0)
		close(fd);
	return empty;
}

/* Whether fd is a BPF link, by its anonymous inode's name (no bpf() call tells). */
static bool is_link(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return true; /* no /proc: the link calls below tell as they can */
	target[n] = '\0';
	return !strcmp(target, "anon_inode:bpf-link");
}

/*
 * A reader that may not open the link: opening one takes write access, which
 * a group's reader (access.h) lacks (EACCES); the link's pin stands for it, as
 * the namespace it names is the one the directory is named after. Before 5.19,
 * kernel.unprivileged_bpf_disabled closes bpf() to a process without CAP_BPF
 * altogether (EPERM): said so, as the kernel does not.
 */
static int unseen_link(struct pins *p, int errnum, char *err, size_t errlen)
{
	char value[16] = "?";
	struct stat st;
	FILE *f;

	if (errnum == EACCES) {
		p->live = !fstatat(p->dir_fd, "link", &st, 0);
		p->stale = !p->live && !fstatat(p->dir_fd, "ports", &st, 0);
		return 0;
	}
	f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "re");
	if (f && fgets(value, sizeof(value), f))
		value[strcspn(value, "\n")] = '\0';
	if (f)
		fclose(f);
	if (kernel_at_least(5, 19) || !strcmp(value, "0")) {
		snprintf(err, errlen,
			 "bpf() was refused (%s): not by this kernel's sysctl, so by a seccomp "
			 "filter or a security module (a container runtime's default profile): "
			 "allow bpf(), or read the pins with CAP_BPF",
			 strerror(errnum));
		errno = errnum;
		return -1;
	}
	snprintf(err, errlen,
		 "this kernel lets no process without CAP_BPF use bpf(), not even to read pins "
		 "(kernel.unprivileged_bpf_disabled is %s; from Linux 5.19 on it no longer covers "
		 "reading): read them with CAP_BPF, or set it to 0, which also lets every user "
		 "load BPF programs",
		 value);
	errno = errnum;
	return -1;
}

/*
 * Pins left by a namespace that is gone (its inode number now reused), by a
 * run that died before it pinned the link, or whose link someone detached,
 * steer nothing. A run that changes things clears them; a reader only notes it.
 * A map or program pinned in the link's place is refused: taken for stale
 * pins, everything would be cleared while the link, pinned elsewhere, steers on.
 */
static int check_live(struct pins *p, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int link = bpf_obj_get(pin_path(p, "link", path, sizeof(path)));
	struct stat st;

	if (link < 0 && p->mode == PINS_READ && (errno == EACCES || errno == EPERM))
		return unseen_link(p, errno, err, errlen);
	if (link >= 0 && !is_link(link)) {
		close(link);
		snprintf(err, errlen,
			 "the pin %s is not a link (something else was pinned in its place): "
			 "remove it ('rm %s') and apply the configuration again",
			 path, path);
		return -1;
	}
	p->live = link >= 0 && link_netns(link) == p->netns_ino;
	if (link >= 0)
		close(link);
	if (p->live)
		return 0;
	p->stale = !fstatat(p->dir_fd, "ports", &st, 0) || !fstatat(p->dir_fd, "link", &st, 0);
	if (p->mode != PINS_READ) {
		unlink_all(p);
		p->created = true;
	}
	return 0;
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
		/*
		 * An empty directory holds no memory, and may be a first run's that
		 * waits unlocked (--wait) before it pins anything: left alone.
		 */
		if (!is_empty(p.dir_fd) && !flock(p.dir_fd, LOCK_EX | LOCK_NB)) {
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

int pins_base(char *buf, size_t len, char *err, size_t errlen)
{
	char rootbuf[PATH_MAX];
	const char *root = bpffs_root(false, rootbuf, sizeof(rootbuf), err, errlen);

	if (!root)
		return err[0] ? -1 : 1;
	snprintf(buf, len, "%s/sksteer", root);
	return 0;
}

void pins_sweep(const struct pins *p)
{
	char base[PATH_MAX], *slash;

	snprintf(base, sizeof(base), "%s", p->dir);
	slash = strrchr(base, '/');
	if (!slash)
		return;
	*slash = '\0';
	remove_stale(base, p);
}

/*
 * Who holds a lock on the directory (with writers, an exclusive one), from
 * /proc/locks; 0 if unseen (none, or in another PID namespace).
 */
static pid_t lock_holder(int dir_fd, bool writers, char *comm, size_t len)
{
	char line[256], kind[16];
	unsigned int maj, min;
	unsigned long ino;
	struct stat st;
	pid_t pid = 0;
	int holder;
	FILE *f;

	if (comm)
		comm[0] = '\0';
	if (fstat(dir_fd, &st) || !(f = fopen("/proc/locks", "re")))
		return 0;
	/* "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF"; a waiter's line has "->" */
	while (!pid && fgets(line, sizeof(line), f)) {
		if (strstr(line, "->") || sscanf(line, "%*d: FLOCK %*s %15s %d %x:%x:%lu", kind,
						 &holder, &maj, &min, &ino) != 5)
			continue;
		if (ino == st.st_ino && maj == major(st.st_dev) && min == minor(st.st_dev) &&
		    holder > 0 && holder != getpid() && (!writers || !strcmp(kind, "WRITE")))
			pid = holder;
	}
	fclose(f);
	if (pid &&
	    comm) /* any bytes a process named itself: the message that quotes it escapes them */
		proc_comm(pid, comm, len);
	return pid;
}

/* The lock taken (op), or for a group reader, which takes none, no writer holding it. */
static int try_lock(struct pins *p, int op)
{
	if (!p->unlocked)
		return flock(p->dir_fd, op | LOCK_NB);
	if (!lock_holder(p->dir_fd, true, NULL, 0))
		return 0;
	errno = EWOULDBLOCK;
	return -1;
}

static uint64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/*
 * Polled with LOCK_NB rather than a blocking flock() under an alarm: no timer
 * or signal disposition to set and restore, and a signal (Ctrl-C, whose
 * handler restarts system calls, but never nanosleep()) ends the wait instead
 * of being swallowed. The flag is checked at every step too: a signal that
 * comes between two sleeps would otherwise wait out the whole --wait.
 * The step grows to 32 ms: a waiter behind a long run costs nearly nothing,
 * one behind a short run gets in soon after.
 */
int pins_lock(struct pins *p, int op, char *err, size_t errlen)
{
	struct timespec step = { .tv_nsec = 1000000 };
	uint64_t deadline = now_ms() + (uint64_t)pins_lock_wait_s * 1000;
	char comm[32], who[64] = "", what[PATH_MAX + 64];
	pid_t pid;

	while (try_lock(p, op)) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "cannot lock the pin directory %s: %s", p->dir,
				 strerror(errno));
			return -1;
		}
		if (stop_pending()) {
			snprintf(what, sizeof(what), "while waiting for another run's lock on %s",
				 p->dir);
			return stop_check(what, err, errlen);
		}
		if (now_ms() >= deadline)
			break;
		nanosleep(&step, NULL); /* ended early by a signal: seen above */
		if (step.tv_nsec < 32000000)
			step.tv_nsec *= 2;
	}
	if (!try_lock(p, op))
		return 0;
	pid = lock_holder(p->dir_fd, p->unlocked, comm, sizeof(comm));
	if (pid)
		snprintf(who, sizeof(who), " (pid %d%s%s)", pid, comm[0] ? ", " : "", comm);
	snprintf(err, errlen,
		 "another run%s holds the lock on %s (waited %u s): wait for it to finish, or wait "
		 "longer",
		 who, p->dir, pins_lock_wait_s);
	return -1;
}

/* Opens and locks the directory; retries if a concurrent run removed it meanwhile. */
static int lock_dir(struct pins *p, char *err, size_t errlen)
{
	bool create = p->mode == PINS_CREATE;

	for (;;) {
		struct stat a, b;

		if (create) {
			if (!mkdir(p->dir, 0700))
				p->created = true;
			else if (errno != EEXIST)
				goto fail;
		}
		p->dir_fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (p->dir_fd < 0 && errno == EACCES && p->mode == PINS_READ) {
			/* a group's reader (access.h): the directory is its to pass, not to open */
			struct stat st;

			p->dir_fd = open(p->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
			/* which takes no permission on it: finding "." in it takes passing it */
			if (p->dir_fd >= 0 && fstatat(p->dir_fd, ".", &st, 0)) {
				close(p->dir_fd);
				p->dir_fd = -1;
			}
			p->unlocked = p->dir_fd >= 0;
		}
		if (p->dir_fd < 0) {
			if (errno == ENOENT && !create)
				return 1;
			goto fail;
		}
		/* readers share the lock: they never see a change half made */
		if (pins_lock(p, p->mode == PINS_READ ? LOCK_SH : LOCK_EX, err, errlen)) {
			close(p->dir_fd);
			p->dir_fd = -1;
			return -1;
		}
		if (!fstat(p->dir_fd, &a) && !stat(p->dir, &b) && a.st_ino == b.st_ino &&
		    a.st_nlink > 0)
			return 0;
		close(p->dir_fd);
		p->created = false;
	}
fail:
	if (errno == EACCES && p->mode == PINS_READ)
		snprintf(err, errlen,
			 "cannot read the pins in %s: %s: read them as root, or as a member of the "
			 "group they were given to (sksteer --group NAME)",
			 p->dir, strerror(errno));
	else
		snprintf(err, errlen, "cannot use the pin directory %s: %s", p->dir,
			 strerror(errno));
	return -1;
}

/*
 * Pins are root's and nobody else may write them: whoever can replace a pin
 * can put a map of theirs (a socket of theirs) behind the steering. A pin
 * directory owned by another user, or writable by others, is refused.
 */
static int check_owner(const char *dir, const struct stat *st, enum pins_mode mode, char *err,
		       size_t errlen)
{
	/* a reader of root's pins may be another user: a member of their group */
	bool owner = st->st_uid == geteuid() || (mode == PINS_READ && !st->st_uid);

	if (owner && !(st->st_mode & 0022))
		return 0;
	snprintf(err, errlen,
		 "the pin directory %s is %s (sksteer's pins are its owner's alone): make it "
		 "'chown %u %s && chmod 0700 %s', or remove it if you did not make it",
		 dir, !owner ? "owned by another user" : "writable by others",
		 (unsigned int)geteuid(), dir, dir);
	return -1;
}

int pins_open(struct pins *p, uint64_t netns_ino, enum pins_mode mode, char *err, size_t errlen)
{
	char base[PATH_MAX], rootbuf[PATH_MAX];
	const char *root;
	struct stat st;
	int ret;

	memset(p, 0, sizeof(*p));
	p->dir_fd = -1;
	p->netns_ino = netns_ino;
	p->mode = mode;
	root = bpffs_root(mode == PINS_CREATE, rootbuf, sizeof(rootbuf), err, errlen);
	if (!root)
		return err[0] ? -1 : 1;
	/* a run that changes would fail half-way (a --detach would leave every pin behind) */
	if (mode != PINS_READ && access(root, W_OK) && errno == EROFS) {
		snprintf(err, errlen,
			 "bpffs is mounted read-only on %s, and sksteer changes its pins there: "
			 "remount it read-write ('mount -o remount,rw %s')",
			 root, root);
		return -1;
	}
	snprintf(base, sizeof(base), "%s/sksteer", root);
	if (mode == PINS_CREATE && mkdir(base, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", base, strerror(errno));
		return -1;
	}
	if (!stat(base, &st) && check_owner(base, &st, mode, err, errlen))
		return -1;
	snprintf(p->dir, sizeof(p->dir), "%s/netns-%llu", base, (unsigned long long)netns_ino);
	if (mode == PINS_CREATE)
		remove_stale(base, p);
	ret = lock_dir(p, err, errlen);
	if (ret)
		return ret;
	if (!fstat(p->dir_fd, &st)) {
		if (check_owner(p->dir, &st, mode, err, errlen)) {
			pins_close(p);
			return -1;
		}
		p->gid = st.st_mode & 0010 ? st.st_gid : 0;
	}
	if (check_live(p, err, errlen)) {
		pins_close(p);
		return -1;
	}
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
