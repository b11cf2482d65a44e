// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Paths from the command line, taken in without blocking; see input.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "input.h"
#include "signals.h"
#include "stop.h"

/*
 * A million bindings in each family, at about 80 bytes a line, stay under
 * this; anything larger is something else.
 */
#define CONFIG_MAX_MIB 256
#define CONFIG_MAX_BYTES ((size_t)CONFIG_MAX_MIB << 20)
#define CHUNK 65536
#define POLL_STEP_MS 100 /* how soon a signal that comes just before poll() is seen */

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static const char *file_kind(int fd, mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return fd >= 0 && isatty(fd) ? "a terminal" : "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return S_ISREG(mode) ? "a regular file" : "a special file";
}

/* /dev/null reads as empty at once: the empty configuration, which detaches. */
static bool is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

/*
 * What path names, looked at through O_PATH: nothing is opened, so a FIFO
 * cannot block the run and a device cannot act on being opened (a watchdog
 * arms). 0, or -1 with errno.
 */
static int look(const char *path, struct stat *st, struct statfs *fs)
{
	int fd = open(path, O_PATH | O_CLOEXEC), saved;

	if (fd < 0)
		return -1;
	if (!fstat(fd, st) && !fstatfs(fd, fs)) {
		close(fd);
		return 0;
	}
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * path opened for reading, if it is still the file look() saw: a path swapped
 * meanwhile is refused. O_NONBLOCK and O_NOCTTY all the same, so that even
 * then opening cannot block or take a terminal. fd, or -1 with errno.
 */
static int open_looked(const char *path, const struct stat *seen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

static uint64_t now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

struct text {
	const char *name; /* "the configuration FILE", "standard input" */
	char *buf;
	size_t len, cap;
};

/* One line for input over CONFIG_MAX_BYTES; size: a regular file's, 0 for a stream's. */
static int too_large(const char *name, uint64_t size, char *err, size_t errlen)
{
	char bytes[48] = "";

	if (size)
		snprintf(bytes, sizeof(bytes), " (%llu bytes)", (unsigned long long)size);
	snprintf(err, errlen, "%s is larger than %d MiB%s: not a sksteer configuration", name,
		 CONFIG_MAX_MIB, bytes);
	return -1;
}

/* A regular file over the limit, refused before it is read. */
static int file_too_large(const char *name, const struct stat *st, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size <= CONFIG_MAX_BYTES)
		return 0;
	return too_large(name, (uint64_t)st->st_size, err, errlen);
}

/* Room for another chunk. 0, or -1 with err. */
static int grow(struct text *t, char *err, size_t errlen)
{
	size_t cap;
	char *more;

	if (t->len < t->cap)
		return 0;
	if (t->cap > CONFIG_MAX_BYTES) /* one byte past it read: the end was not there */
		return too_large(t->name, 0, err, errlen);
	/* doubling: a file of a million lines is not copied a chunk at a time */
	cap = t->cap ? 2 * t->cap : CHUNK;
	cap = cap > CONFIG_MAX_BYTES ? CONFIG_MAX_BYTES + 1 : cap;
	more = realloc(t->buf, cap);
	if (!more) {
		snprintf(err, errlen, "cannot read %s: out of memory", t->name);
		return -1;
	}
	t->buf = more;
	t->cap = cap;
	return 0;
}

/*
 * All of fd, to its end, within wait_s seconds. poll() first: a pipe whose
 * writer stalls never blocks a read, and a signal ends the wait at once (poll
 * is never restarted); a regular file is always ready. 0, or -1 with err.
 */
static int read_all(int fd, struct text *t, unsigned int wait_s, char *err, size_t errlen)
{
	uint64_t deadline = now_ms() + (uint64_t)wait_s * 1000;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	for (;;) {
		if (stop_check("while reading the configuration", err, errlen) ||
		    grow(t, err, errlen))
			return -1;
		if (now_ms() >= deadline) {
			snprintf(err, errlen,
				 "%s did not end within %u s: close it once the configuration is "
				 "written, or give --wait SECONDS to wait longer",
				 t->name, wait_s);
			return -1;
		}
		if (poll(&pfd, 1, POLL_STEP_MS) <= 0)
			continue; /* nothing yet, or a signal: seen above */
		n = read(fd, t->buf + t->len, t->cap - t->len);
		if (!n)
			return 0;
		if (n > 0)
			t->len += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			break;
	}
	snprintf(err, errlen, "cannot read %s: %s", t->name, strerror(errno));
	return -1;
}

/* The configuration file at path, opened if it is one (or /dev/null). fd, or -1 with err. */
static int open_config(const char *path, char *err, size_t errlen)
{
	struct statfs fs;
	struct stat st;
	int fd;

	if (look(path, &st, &fs)) {
		snprintf(err, errlen, "cannot read the configuration %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !is_dev_null(&st)) {
		snprintf(err, errlen,
			 "the configuration %s is %s, not a file: give a configuration file "
			 "(sksteer.conf(5)), or pipe it into --config -",
			 path, file_kind(-1, st.st_mode));
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > CONFIG_MAX_BYTES) {
		char name[PATH_MAX + 32];

		snprintf(name, sizeof(name), "the configuration %s", path);
		return file_too_large(name, &st, err, errlen);
	}
	fd = open_looked(path, &st);
	if (fd < 0)
		snprintf(err, errlen, "cannot read the configuration %s: %s", path,
			 strerror(errno));
	return fd;
}

/*
 * Standard input for --config -: a pipe, whose writer has until the deadline,
 * or a regular file. A terminal would wait for a human to type a file and
 * Ctrl-D, a socket for whatever its peer does: refused. 0, or -1 with err.
 */
static int check_stdin(char *err, size_t errlen)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st)) {
		snprintf(err, errlen,
			 "--config - reads standard input, and it is not open: pipe the "
			 "configuration in (--config - <FILE), or give --config FILE");
		return -1;
	}
	if (S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || is_dev_null(&st))
		return file_too_large("standard input", &st, err, errlen);
	snprintf(err, errlen,
		 "--config - reads standard input, and it is %s: pipe the configuration in "
		 "(--config - <FILE), or give --config FILE",
		 file_kind(STDIN_FILENO, st.st_mode));
	return -1;
}

int input_config(const char *path, unsigned int wait_s, char **text, size_t *len, char *err,
		 size_t errlen)
{
	bool in = !strcmp(path, "-");
	char name[PATH_MAX + 32];
	struct text t = { .name = name };
	int fd, ret;

	if (in)
		snprintf(name, sizeof(name), "standard input");
	else
		snprintf(name, sizeof(name), "the configuration %s", path);
	fd = in ? STDIN_FILENO : open_config(path, err, errlen);
	if (fd < 0 || (in && check_stdin(err, errlen)))
		return -1;
	ret = read_all(fd, &t, wait_s, err, errlen);
	if (!in)
		close(fd);
	if (ret) {
		free(t.buf);
		return -1;
	}
	*text = t.buf;
	*len = t.len;
	return 0;
}

int input_netns(const char *path, int *fd, uint64_t *ino, char *err, size_t errlen)
{
	struct statfs fs;
	struct stat st;

	*fd = -1;
	if (look(path, &st, &fs) ||
	    (fs.f_type == NSFS_MAGIC && (*fd = open_looked(path, &st)) < 0)) {
		snprintf(err, errlen, "--netns %s: %s: give /run/netns/NAME or /proc/PID/ns/net",
			 path, strerror(errno));
		return -1;
	}
	/* only a file of nsfs was opened: opening a namespace does nothing */
	if (*fd < 0 || ioctl(*fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		snprintf(err, errlen,
			 "--netns %s is not a network namespace: give /run/netns/NAME, "
			 "/proc/PID/ns/net or a bind mount of one",
			 path);
		return -1;
	}
	*ino = st.st_ino;
	return 0;
}
