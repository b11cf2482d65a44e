/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SIGINT, SIGTERM and SIGHUP ask a run to stop. A run stops at a safe point
 * only: every wait (standard input, another run's lock, a late server, a
 * trace) ends at once, and a run that has not begun to change the steering
 * stops before it does; one that has begun finishes the change (milliseconds)
 * and then exits. So a stopped run leaves the steering as it was, or as it
 * asked, never half-way.
 */
#ifndef __SKSTEER_SIGNALS_H
#define __SKSTEER_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>

/* Set by the first of those signals: what --trace streams until. */
extern volatile bool stop_requested;

/*
 * Catches SIGINT, SIGTERM and SIGHUP from now on, even where the caller left
 * them ignored or blocked (handlers restart system calls).
 */
void stop_on_signals(void);

/* Whether a signal came that nobody has dealt with yet (see stop_dealt_with()). */
bool stop_pending(void);

/* The signals so far are dealt with (a tracer stopping): the next one counts again. */
void stop_dealt_with(void);

/* "SIGTERM": the last of them caught. */
const char *stop_signal(void);

/*
 * At a point where nothing is changed yet: with a signal pending, -1 with
 * "interrupted by SIGTERM WHAT: nothing changed" in err; else 0.
 */
int stop_check(const char *what, char *err, size_t errlen);

#endif /* __SKSTEER_SIGNALS_H */
