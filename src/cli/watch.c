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
#include "input.h"
#include "privileges.h"
#include "serve.h"
#include "show.h"
#include "signals.h"

#define SETTLE_MS 100 /* from an event to the read: a burst of events is one change */
/* what in FILE's directory may change it: an editor's rename, a ..data swap, a rewrite */
#define EVENTS                                                                                   \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF | \
	 IN_MOVE_SELF)

struct watch {
	const struct args *a;
	int fd; /* inotify's */
	int wd[2]; /* FILE's directory, and where FILE leads (a symlink's target's) */
	char dir[2][PATH_MAX];
	char *seen; /* the text last applied, or tried: the same again is no change */
	size_t seen_len;
	bool gone; /* FILE's absence was said */
	uint64_t settle_ms; /* when to read FILE; 0: no change pending */
	struct file_applies applies; /* for --serve-metrics */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Watches dir as watch i, in place of what it watched */
static void watch_dir(struct watch *w, int i, const char *dir)
{
	if (w->wd[i] >= 0 && !strcmp(w->dir[i], dir))
		return;
	if (w->wd[i] >= 0)
		inotify_rm_watch(w->fd, w->wd[i]);
	snprintf(w->dir[i], sizeof(w->dir[i]), "%s", dir);
	w->wd[i] = inotify_add_watch(w->fd, dir, EVENTS | IN_ONLYDIR);
}

/*
 * FILE's directory, and the directory of where FILE leads now (a ConfigMap's
 * ..data/FILE leads to a new directory at each update), watched again after
 * each read: one that went is watched once it is back.
 */
static void watch_dirs(struct watch *w)
{
	char path[PATH_MAX], real[PATH_MAX];

	snprintf(path, sizeof(path), "%s", w->a->config.file);
	watch_dir(w, 0, dirname(path));
	if (realpath(w->a->config.file, real))
		watch_dir(w, 1, dirname(real));
}

/* The events so far: a change is pending, read once events settle */
static void on_events(struct watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			p += sizeof(*e) + e->len;
			if (e->mask & IN_IGNORED) { /* its directory went: watched again later */
				for (int i = 0; i < 2; i++)
					if (w->wd[i] == e->wd)
						w->wd[i] = -1;
				continue;
			}
			/* a new file is read once its writer closes it (IN_CLOSE_WRITE) */
			if ((e->mask & IN_CREATE) && !(e->mask & IN_ISDIR) && e->len) {
				char path[PATH_MAX * 2];
				struct stat st;
				int i = w->wd[1] == e->wd;

				snprintf(path, sizeof(path), "%s/%s", w->dir[i], e->name);
				if (!lstat(path, &st) && S_ISREG(st.st_mode))
					continue;
			}
			w->settle_ms = now_ms() + SETTLE_MS;
		}
	}
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

/* text applied, taking the lock for that alone: whether it took (said why not) */
static bool apply(struct watch *w, const char *text, size_t len)
{
	struct sksteer_ns *ns = NULL;
	char err[1024] = "";
	int ret;

	if (cmd_open_ns(w->a, false, &ns))
		return false;
	ret = privileges_kernel(sksteer_ns__steering(ns)) ?
		      1 :
		      cmd_apply_config(ns, w->a, text, len, err, sizeof(err));
	sksteer_ns__close(ns);
	if (ret < 0)
		cli_fail("%s", err);
	return !ret;
}

/* FILE read, and applied if it changed (or force: SIGHUP, the first time) */
static void check(struct watch *w, bool force)
{
	const char *file = w->a->config.file;
	char err[1024], msg[1200], *text;
	size_t len;
	bool changed;

	watch_dirs(w);
	if (input_config(file, w->a->wait_s > INPUT_WAIT_S ? w->a->wait_s : INPUT_WAIT_S, &text,
			 &len, err, sizeof(err))) {
		/* said once, until it is back: an event a second must not flood the log */
		if (!w->gone || force) {
			snprintf(msg, sizeof(msg), "%s: the steering stays as it was", err);
			cli_fail("%s", msg);
			cmd_record_failure(w->a, access(file, F_OK) ? -ENOENT : -EINVAL, msg);
			count(w, false);
		}
		w->gone = true;
		return;
	}
	w->gone = false;
	changed = !w->seen || w->seen_len != len || memcmp(w->seen, text, len);
	if (!changed && !force) {
		free(text);
		return;
	}
	count(w, apply(w, text, len));
	free(w->seen);
	w->seen = text;
	w->seen_len = len;
}

static void file_series(void *ctx, FILE *f)
{
	const struct watch *w = ctx;

	metrics_file(w->a->config.file, &w->applies, f);
}

/* One round: wait for an event, a client or a signal, then deal with them */
static void watch_round(struct watch *w, struct server *server)
{
	struct pollfd p[1 + SERVER_FDS] = { { .fd = w->fd, .events = POLLIN } };
	uint64_t now = now_ms();
	int timeout_ms = 1000;

	if (w->settle_ms)
		timeout_ms = w->settle_ms > now ? (int)(w->settle_ms - now) : 0;
	if (server)
		server_poll(server, p + 1, &timeout_ms);
	if (poll(p, server ? 1 + SERVER_FDS : 1, timeout_ms) < 0) {
		if (!reload_requested)
			return; /* SIGTERM: the caller sees it */
		p[0].revents = 0;
	}
	if (p[0].revents & POLLIN)
		on_events(w);
	if (server)
		server_serve(server, p + 1);
	if (reload_requested) {
		reload_requested = 0;
		w->settle_ms = 0;
		check(w, true);
	} else if (w->settle_ms && now_ms() >= w->settle_ms) {
		w->settle_ms = 0;
		check(w, false);
	}
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
	reload_on_sighup();
	check(&w, true);
	while (!stop_requested)
		watch_round(&w, server);
	server_close(server);
	close(w.fd);
	free(w.seen);
	return 0;
}
