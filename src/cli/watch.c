// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --config FILE --watch: FILE applied, then applied again whenever it changes
 * (rewritten in place, renamed over by an editor, or swapped in by a
 * Kubernetes ConfigMap's ..data symlink in its directory) or on SIGHUP, until
 * SIGTERM, which leaves the steering in place. A file that fails, to read, to
 * parse or to apply, keeps the steering as it was: one line on stderr, the
 * failure recorded in the pins, and the next good file is applied. With
 * --serve-metrics the same process serves the metrics, with the file's
 * applies. The lock is taken for each apply alone.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "commands.h"
#include "privileges.h"
#include "serve.h"
#include "show.h"
#include "signals.h"

#define SETTLE_MS 100 /* from an event to the read: a burst of events is one change ... */
#define SETTLE_MAX_MS 1000 /* ... read this long after its first event at the latest */
#define WRITING_MS \
	2000 /* FILE being written: read once closed, or this long after its last write */
#define POLL_MS 2000 /* FILE looked at anyway: what inotify cannot see (a parent's symlink) */
#define RETRY_MS 1000 /* an apply that failed, not for the file's fault, is tried again ... */
#define RETRY_MAX_MS 60000 /* ... each wait twice the last, up to this */
/* what in a directory may change FILE: a rename (an editor's, a ..data swap), a rewrite */
#define EVENTS                                                                              \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
	 IN_DELETE_SELF | IN_MOVE_SELF)

struct watch {
	const struct args *a;
	int fd; /* inotify's */
	int wd[2]; /* FILE's directory, and the directory FILE leads to (a symlink's target's) */
	char name[2][NAME_MAX + 1]; /* FILE's name in each */
	bool unwatched; /* said that a directory cannot be watched */
	char *seen; /* the text last applied, or tried: the same again is no change */
	size_t seen_len;
	bool gone; /* FILE's absence was said */
	bool writing; /* FILE written to (or made), not yet closed */
	uint64_t wrote_ms; /* ... last */
	uint64_t first_ms, settle_ms; /* a change's first event, and when to read; 0: none */
	uint64_t poll_ms; /* when to look at FILE next */
	struct stat st; /* what FILE led to when last looked at */
	char real[PATH_MAX];
	uint64_t retry_ms, backoff_ms; /* a failed apply's next try; 0: none */
	char said[1024]; /* its failure, said once: its retries fail quietly alike */
	struct applies applies; /* for --serve-metrics */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Watches the directory of path as watch i, and notes path's name there.
 * inotify watches inodes: a directory made anew at the same path is a new
 * watch, and a directory watched twice (FILE a plain file: both watches are
 * its directory) is one, removed only once neither watch holds it.
 */
static void watch_dir(struct watch *w, int i, const char *path)
{
	char dir[PATH_MAX], name[PATH_MAX];
	int wd;

	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(name, sizeof(name), "%s", path);
	snprintf(w->name[i], sizeof(w->name[i]), "%s", basename(name));
	wd = inotify_add_watch(w->fd, dirname(dir), EVENTS | IN_ONLYDIR);
	if (wd < 0 && errno != ENOENT && !w->unwatched) {
		/* ENOSPC: fs.inotify.max_user_watches, shared by every process of the uid */
		cli_fail("warning: cannot watch %s for changes: %s: they are seen by looking at %s "
			 "every %d s instead",
			 dir, strerror(errno), w->a->config.file, POLL_MS / 1000);
		w->unwatched = true;
	}
	if (w->wd[i] >= 0 && w->wd[i] != wd && w->wd[i] != w->wd[!i])
		inotify_rm_watch(w->fd, w->wd[i]);
	w->wd[i] = wd;
}

/* FILE's directory, and the one FILE leads to now (a ConfigMap's: new at each update) */
static void watch_dirs(struct watch *w)
{
	char real[PATH_MAX];

	watch_dir(w, 0, w->a->config.file);
	watch_dir(w, 1, realpath(w->a->config.file, real) ? real : w->a->config.file);
}

/* A change is pending: FILE is read SETTLE_MS after the last event, SETTLE_MAX_MS at most */
static void pending(struct watch *w, uint64_t now)
{
	if (!w->first_ms)
		w->first_ms = now;
	w->settle_ms = now + SETTLE_MS < w->first_ms + SETTLE_MAX_MS ? now + SETTLE_MS :
								       w->first_ms + SETTLE_MAX_MS;
}

/* Whether the event is about FILE itself (in its directory, or where it leads) */
static bool about_file(const struct watch *w, const struct inotify_event *e)
{
	return e->len && ((e->wd == w->wd[0] && !strcmp(e->name, w->name[0])) ||
			  (e->wd == w->wd[1] && !strcmp(e->name, w->name[1])));
}

static void on_event(struct watch *w, const struct inotify_event *e, uint64_t now)
{
	if (e->mask & IN_IGNORED) { /* its directory went: watched again at the next look */
		for (int i = 0; i < 2; i++)
			if (w->wd[i] == e->wd)
				w->wd[i] = -1;
		return;
	}
	/* FILE written in place, or made: read once its writer closes it (a half is no file) */
	if (about_file(w, e) && (e->mask & (IN_MODIFY | IN_CREATE)) && !(e->mask & IN_ISDIR)) {
		w->writing = true;
		w->wrote_ms = now;
	} else if (about_file(w, e) && (e->mask & IN_CLOSE_WRITE)) {
		w->writing = false;
	} else if (e->mask & IN_MODIFY) {
		return; /* another file's writes */
	}
	pending(w, now);
}

static void on_events(struct watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	uint64_t now = now_ms();
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			p += sizeof(*e) + e->len;
			on_event(w, e, now); /* IN_Q_OVERFLOW too: something changed */
		}
}

/* Whether FILE leads elsewhere, or changed, since the last look: what no event tells */
static bool looked_changed(struct watch *w)
{
	char real[PATH_MAX] = "";
	struct stat st = {};
	bool changed;

	if (!realpath(w->a->config.file, real) || stat(real, &st))
		real[0] = '\0';
	changed = strcmp(real, w->real) || st.st_dev != w->st.st_dev || st.st_ino != w->st.st_ino ||
		  st.st_size != w->st.st_size || st.st_mtim.tv_sec != w->st.st_mtim.tv_sec ||
		  st.st_mtim.tv_nsec != w->st.st_mtim.tv_nsec;
	memcpy(w->real, real, sizeof(real));
	w->st = st;
	return changed;
}

static void count(struct watch *w, bool ok)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	w->applies.last_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	w->applies.last_ok = ok;
	if (ok) {
		w->applies.last_ok_ns = w->applies.last_ns;
		w->applies.applied++;
	} else {
		w->applies.failed++;
	}
}

/* text applied, taking the lock for that alone: 0, or the negative errno, said why */
static int apply(struct watch *w, const char *text, size_t len)
{
	struct sksteer_ns *ns = NULL;
	char err[1024] = "";
	int ret;

	if (cmd_open_ns(w->a, false, &ns))
		return -EAGAIN; /* said; the namespace's lock, say: tried again */
	ret = privileges_kernel(sksteer_ns__steering(ns)) ?
		      -EPERM :
		      cmd_apply_config(ns, w->a, text, len, err, sizeof(err));
	sksteer_ns__close(ns);
	if (ret && err[0] && strcmp(err, w->said))
		cli_fail("%s", err);
	snprintf(w->said, sizeof(w->said), "%s", ret ? err : "");
	return ret;
}

/*
 * An apply that failed is tried again, with the same text, unless the text
 * was at fault (-EINVAL: it does not parse, or says what cannot be): a
 * target's server that starts after the watcher, a lock held for a while.
 */
static void retry_later(struct watch *w, int ret)
{
	if (!ret || ret == -EINVAL || ret == -EINTR) {
		w->retry_ms = w->backoff_ms = 0;
		return;
	}
	w->backoff_ms = !w->backoff_ms			 ? RETRY_MS :
			w->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
							   w->backoff_ms * 2;
	w->retry_ms = now_ms() + w->backoff_ms;
}

/* FILE read, and applied if it changed (or force: SIGHUP, the first time, a retry) */
static void check(struct watch *w, bool force)
{
	char err[1024], msg[1200], *text;
	size_t len;
	int ret;

	w->first_ms = w->settle_ms = 0;
	watch_dirs(w);
	looked_changed(w);
	ret = cmd_config_text(w->a, &text, &len, err, sizeof(err));
	if (ret) {
		/* said once, until it is back: an event a second must not flood the log */
		if (!w->gone || force) {
			snprintf(msg, sizeof(msg), "%s: the steering stays as it was", err);
			cli_fail("%s", msg);
			cmd_record_failure(w->a, ret, msg);
			count(w, false);
		}
		w->gone = true;
		w->retry_ms = 0;
		return;
	}
	/* back: applied whatever its bytes, the failure its absence recorded undone */
	force |= w->gone;
	w->gone = false;
	if (!force && w->seen && w->seen_len == len && !memcmp(w->seen, text, len)) {
		free(text);
		return;
	}
	ret = apply(w, text, len);
	count(w, !ret);
	retry_later(w, ret);
	free(w->seen);
	w->seen = text;
	w->seen_len = len;
}

static void file_series(void *ctx, FILE *f)
{
	const struct watch *w = ctx;

	metrics_file(w->a->config.file, &w->applies, f);
}

/* The nearest of the watcher's deadlines, as poll()'s timeout */
static int timeout(const struct watch *w, uint64_t now)
{
	uint64_t next = w->poll_ms;

	if (w->settle_ms && w->settle_ms < next)
		next = w->settle_ms;
	if (w->retry_ms && w->retry_ms < next)
		next = w->retry_ms;
	return next > now ? (int)(next - now) : 0;
}

/* Whatever is due: a reload, a change settled, a look, a retry */
static void due(struct watch *w)
{
	uint64_t now = now_ms();

	if (reload_requested) {
		reload_requested = 0;
		check(w, true);
	} else if (w->settle_ms && now >= w->settle_ms) {
		/* FILE still being written: wait for its close, a while at most */
		if (w->writing && now < w->wrote_ms + WRITING_MS)
			w->settle_ms = w->wrote_ms + WRITING_MS;
		else
			check(w, false);
	} else if (w->retry_ms && now >= w->retry_ms) {
		check(w, true);
	}
	if (now >= w->poll_ms) {
		w->poll_ms = now + POLL_MS;
		watch_dirs(w); /* a directory made anew is watched again */
		if (looked_changed(w))
			pending(w, now);
	}
}

/* One round: wait for an event, a client, a signal or a deadline, then deal with them */
static void watch_round(struct watch *w, struct server *server)
{
	struct pollfd p[1 + SERVER_FDS] = { { .fd = w->fd, .events = POLLIN } };
	int timeout_ms = timeout(w, now_ms());

	if (server)
		server_poll(server, p + 1, &timeout_ms);
	if (poll(p, server ? 1 + SERVER_FDS : 1, timeout_ms) < 0)
		p[0].revents = 0; /* a signal: a reload is due, or the caller stops */
	if (stop_requested)
		return; /* SIGTERM: no apply begins now (it would only be interrupted) */
	if (p[0].revents & POLLIN)
		on_events(w);
	if (server)
		server_serve(server, p + 1);
	due(w);
}

int cmd_watch(const struct args *a, char *err, size_t errlen)
{
	struct watch w = { .a = a, .wd = { -1, -1 } };
	struct server *server = NULL;

	w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w.fd < 0) {
		snprintf(err, errlen, "--watch: cannot watch %s: %s", a->config.file,
			 strerror(errno));
		return -1;
	}
	if (a->serve_arg && !(server = server_open(a, file_series, &w, err, errlen))) {
		close(w.fd);
		return -1;
	}
	w.poll_ms = now_ms() + POLL_MS;
	check(&w, true);
	while (!stop_requested)
		watch_round(&w, server);
	server_close(server);
	close(w.fd);
	free(w.seen);
	return 0;
}
