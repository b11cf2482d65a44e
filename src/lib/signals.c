// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The signals that ask a run to stop; see signals.h. */
#include <signal.h>
#include <stdio.h>
#include "signals.h"

volatile bool stop_requested;
static volatile sig_atomic_t caught, dealt_with, last_signal;

static void on_signal(int sig)
{
	last_signal = sig;
	caught++; /* the others are blocked meanwhile (sa_mask): no increment is lost */
	stop_requested = true;
}

void stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* a caller may have them blocked (the mask outlives exec): they would never arrive */
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
}

bool stop_pending(void)
{
	return caught != dealt_with;
}

void stop_dealt_with(void)
{
	dealt_with = caught;
}

const char *stop_signal(void)
{
	switch (last_signal) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	}
	return "a signal";
}

int stop_check(const char *what, char *err, size_t errlen)
{
	if (!stop_pending())
		return 0;
	snprintf(err, errlen, "interrupted by %s%s%s: nothing changed", stop_signal(),
		 *what ? " " : "", what);
	return -1;
}
