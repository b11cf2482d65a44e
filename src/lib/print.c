// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The print callback and this thread's last error message; see print.h. */
#include <stdarg.h>
#include <stdio.h>
#include "print.h"

static sksteer_print_fn_t print_fn;
static __thread char last_error[1024];

sksteer_print_fn_t sksteer_set_print(sksteer_print_fn_t fn)
{
	return __atomic_exchange_n(&print_fn, fn, __ATOMIC_SEQ_CST);
}

void pr_print(enum sksteer_print_level level, const char *fmt, ...)
{
	sksteer_print_fn_t fn = __atomic_load_n(&print_fn, __ATOMIC_SEQ_CST);
	va_list ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	fn(level, fmt, ap);
	va_end(ap);
}

const char *sksteer_errmsg(void)
{
	return last_error;
}

void lib_set_error(const char *msg)
{
	snprintf(last_error, sizeof(last_error), "%s", msg);
}
