// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The caller's stop flag, per thread; see stop.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include "stop.h"

static __thread volatile int *source;

volatile int *stop_source(volatile int *flag)
{
	volatile int *before = source;

	source = flag;
	return before;
}

bool stop_pending(void)
{
	return source && *source;
}

void stop_dealt_with(void)
{
	if (source)
		*source = 0;
}

const char *stop_signal(void)
{
	switch (source ? *source : 0) {
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
	errno = EINTR; /* what a caller's ns_errno() returns: a stop, not a failure */
	return -1;
}
