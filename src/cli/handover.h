/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Sockets handed to sksteer instead of found by address: --fd N (a descriptor
 * inherited from the caller, or named in LISTEN_FDNAMES), --systemd (the
 * socket of a socket-activated service, LISTEN_FDS) and --listen ADDR (sksteer
 * makes the socket). Owns finding the descriptor, creating one, and the exec
 * of CMD with the socket passed the systemd way (fd 3, LISTEN_FDS, LISTEN_PID,
 * LISTEN_FDNAMES). The library reads and checks the socket (src/lib/sockfd.c).
 */
#ifndef __SKSTEER_HANDOVER_H
#define __SKSTEER_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "parse.h"

/* The first descriptor systemd passes (SD_LISTEN_FDS_START). */
#define HANDOVER_FDS_START 3

/*
 * The descriptor --fd ARG means: a number, or a name in LISTEN_FDNAMES. With
 * ARG NULL (--systemd), the one socket systemd passed. -1 with err set.
 */
int handover_resolve(const char *arg, char *err, size_t errlen);

struct listen_opts {
	const char *option; /* what messages call the socket: "--listen" (NULL) */
	int backlog;
	bool reuseport;
	int v6only; /* -1: the system's default (net.ipv6.bindv6only); 0 or 1 */
};

/*
 * Makes the socket of --listen (or --serve-metrics): bound (and listening for
 * TCP) at t. fd, or -1 with err.
 */
int handover_listen(const struct sksteer_target *t, const struct listen_opts *o, char *err,
		    size_t errlen);

/* Whether argv[0] can be executed (looked up in PATH as execvp does). 0, or -1 with err. */
int handover_exec_check(char *const argv[], char *err, size_t errlen);

/*
 * Execs argv. With fd >= 0 (--listen), the socket becomes fd 3 and LISTEN_FDS=1,
 * LISTEN_PID (our pid, which is CMD's after exec) and LISTEN_FDNAMES=name are
 * set; with fd < 0 (--fd, --systemd) the environment is passed on as it is.
 * Returns only on failure, with err set.
 */
int handover_exec(int fd, const char *name, char *const argv[], char *err, size_t errlen);

#endif /* __SKSTEER_HANDOVER_H */
