/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SIGINT, SIGTERM and SIGHUP ask a run to stop at its next safe point: they
 * set the flag the library heeds (src/lib/stop.h, struct sksteer_ns_opts'
 * stop) to the signal's number; stop_check() and stop_signal() read it. A
 * server or a watcher takes SIGHUP as a reload instead.
 */
#ifndef __SKSTEER_SIGNALS_H
#define __SKSTEER_SIGNALS_H

/* The flag: 0, or the last of those signals caught and not yet dealt with. */
extern volatile int stop_requested;

/*
 * Catches SIGINT, SIGTERM and SIGHUP from now on, even where the caller left
 * them ignored or blocked (handlers restart system calls), into stop_requested.
 */
void stop_on_signals(void);

/* Set by SIGHUP once reload_on_sighup() is called: 0, or 1 until dealt with. */
extern volatile int reload_requested;

/*
 * For the long-running commands: SIGHUP asks for a reload (reload_requested)
 * instead of a stop, so that it never interrupts the work in progress.
 */
void reload_on_sighup(void);

#endif /* __SKSTEER_SIGNALS_H */
