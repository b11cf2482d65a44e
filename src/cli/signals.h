/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * SIGINT, SIGTERM and SIGHUP ask a run to stop at its next safe point: they
 * set the flag the library heeds (src/lib/stop.h, struct sksteer_ns_opts'
 * stop) to the signal's number.
 */
#ifndef __SKSTEER_SIGNALS_H
#define __SKSTEER_SIGNALS_H

#include <stddef.h>

/* The flag: 0, or the last of those signals caught and not yet dealt with. */
extern volatile int stop_requested;

/*
 * Catches SIGINT, SIGTERM and SIGHUP from now on, even where the caller left
 * them ignored or blocked (handlers restart system calls), into stop_requested.
 */
void stop_on_signals(void);

/* "SIGTERM": the signal in stop_requested. */
const char *stop_signal_name(void);

/*
 * At a point where nothing is changed yet: with a signal caught, -1 with
 * "interrupted by SIGTERM WHAT: nothing changed" in err; else 0.
 */
int stop_said(const char *what, char *err, size_t errlen);

#endif /* __SKSTEER_SIGNALS_H */
