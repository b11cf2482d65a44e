/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The metrics' HTTP server (--serve-metrics), polled by whoever runs it: the
 * server alone (cmd_serve()), or a watcher between its applies (watch.c).
 */
#ifndef __SKSTEER_SERVE_H
#define __SKSTEER_SERVE_H

#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include "options.h"

#define SERVER_CLIENTS 64 /* at once: past that, the oldest goes */
#define SERVER_FDS (SERVER_CLIENTS + 1) /* what server_poll() fills */

struct server;

/* Series of the caller's own, added to each scrape (the watcher's file) */
typedef void (*server_extra_fn)(void *ctx, FILE *f);

/*
 * Listens at a->serve, for the metrics of a's namespace (--netns, or this
 * one) or of every one (--all-netns), plus extra's (may be NULL). NULL, with
 * one line in err.
 */
struct server *server_open(const struct args *a, server_extra_fn extra, void *ctx, char *err,
			   size_t errlen);

/* Its descriptors into p[0..SERVER_FDS), and *timeout_ms cut to its nearest deadline */
void server_poll(struct server *s, struct pollfd *p, int *timeout_ms);

/* Serves what poll() found in p */
void server_serve(struct server *s, const struct pollfd *p);

void server_close(struct server *s);

#endif /* __SKSTEER_SERVE_H */
