// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The signals that ask a run to stop; see signals.h. */
#include <signal.h>
#include "signals.h"
#include "stop.h"

volatile int stop_requested;
volatile int reload_requested;

static void on_signal(int sig)
{
	stop_requested = sig;
}

static void on_hangup(int sig)
{
	(void)sig;
	reload_requested = 1;
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
	/* what the library heeds in this thread outside a handle's calls too (stop.h) */
	stop_source(&stop_requested);
}

void reload_on_sighup(void)
{
	struct sigaction sa = { .sa_handler = on_hangup, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}
