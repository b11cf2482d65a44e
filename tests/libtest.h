/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the library tests (tests/libtest*.c) share: TAP output, real sockets
 * in a namespace of a handle, and handles opened for a test.
 */
#ifndef __SKSTEER_LIBTEST_H
#define __SKSTEER_LIBTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sksteer/sksteer.h>

#define LOCK_WAIT_S 60 /* generous: a test's handles wait for each other, never time out */

/* --- TAP: every check is one line; descriptions are printf formats ------------------------ */
__attribute__((format(printf, 2, 3))) bool ok(bool pass, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) bool is_int(long long got, long long want, const char *fmt,
						  ...);
__attribute__((format(printf, 3, 4))) bool is_str(const char *got, const char *want,
						  const char *fmt, ...);
/* a check of a known bug: "not ok ... # TODO why" passes the suite until it is fixed */
__attribute__((format(printf, 3, 4))) bool todo(bool pass, const char *why, const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void diag(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void skip(const char *fmt, ...);
/* a comment naming what comes, and how long what came before took */
void section(const char *name);
__attribute__((noreturn, format(printf, 1, 2))) void bail_out(const char *fmt, ...);

/* ret is -err and sksteer_errmsg() one line that names what and no command-line option */
void is_error(int ret, int err, const char *what, const char *desc);
/* sksteer_errmsg() names no command-line option ("--force", "-p ", "-s ") and is one line */
bool names_no_option(const char *msg);

/* --- handles and namespaces ---------------------------------------------------------------- */
/* A handle on the namespace at path (NULL: this thread's), waiting LOCK_WAIT_S; NULL on failure */
struct sksteer_ns *ns_open(const char *path, bool read_only);
/* dir is absent (or, with or_empty, empty): a namespace's pins are gone */
bool pins_gone(const char *dir, bool or_empty);
/* The inode of this thread's network namespace */
uint64_t thread_netns(void);

/* --- sockets ------------------------------------------------------------------------------- */
/* A socket made in ns (NULL: here): SOCK_STREAM listening at 127.0.0.1:port, SOCK_DGRAM bound
 * there (port 0: neither); the descriptor or -errno */
int make_socket(struct sksteer_ns *ns, int type, int port);
/*
 * Connects to 127.0.0.1:port from a TCP socket made in ns (NULL: here), and accepts on lfd:
 * the local port of the accepted connection, -ECONNREFUSED when nothing took it,
 * -ETIMEDOUT when lfd got nothing (another socket did).
 */
int reach(struct sksteer_ns *ns, int lfd, int port);
/* Sends a datagram to 127.0.0.1:port from 127.0.0.1:from; the port udp_fd got it at, or -errno */
int reach_udp(int udp_fd, int from, int port);

/* --- the steering as text: compared before and after --------------------------------------- */
/* ns's configuration, and every target's ports and state, but no counters; free() it */
char *steering_state(struct sksteer_ns *ns);
const struct sksteer_target_status *target_of(const struct sksteer_status *st, const char *name);

/* tests/libtest_callbacks.c: la is target A's (127.0.0.1:9000) listening socket, steered 8003 */
void test_trace(int la, bool stop_it);
void test_print(struct sksteer_ns *ns);

/* tests/libtest_threads.c */
void test_threads_one_namespace(void);
void test_threads_two_namespaces(const char *netns2);

#endif /* __SKSTEER_LIBTEST_H */
