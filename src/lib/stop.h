/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stopping at a safe point: the caller's stop flag (a signal number its
 * handler sets: struct sksteer_ns_opts' stop), as this thread sees it. Every
 * wait (another run's lock, a late server, a trace) ends once it is set, and
 * a change that has not begun stops before it does; one that has begun
 * finishes (milliseconds). So a stopped change leaves the steering as it was,
 * or as it asked, never half-way.
 */
#ifndef __SKSTEER_STOP_H
#define __SKSTEER_STOP_H

#include <stdbool.h>
#include <stddef.h>

/* The flag this thread's calls heed from now on (NULL: none); returns the one before. */
volatile int *stop_source(volatile int *flag);

/* Whether the flag is set. */
bool stop_pending(void);

/* Clears it: the stop it asked for is done (a trace ended); the next one counts again. */
void stop_dealt_with(void);

/* "SIGTERM": the signal the flag holds. */
const char *stop_signal(void);

/*
 * At a point where nothing is changed yet: with the flag set, -1 with
 * "interrupted by SIGTERM WHAT: nothing changed" in err; else 0.
 */
int stop_check(const char *what, char *err, size_t errlen);

#endif /* __SKSTEER_STOP_H */
