/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The library's voice: the print callback (sksteer_set_print(), the only
 * process-wide state) for warnings and debug lines, and the message of this
 * thread's last failure (sksteer_errmsg()).
 */
#ifndef __SKSTEER_PRINT_H
#define __SKSTEER_PRINT_H

#include <sksteer/sksteer.h>

/* A line to the print callback, without its newline. */
void pr_print(enum sksteer_print_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define pr_warn(...) pr_print(SKSTEER_WARN, __VA_ARGS__)
#define pr_debug(...) pr_print(SKSTEER_DEBUG, __VA_ARGS__)

/* Records msg as this thread's last failure. */
void lib_set_error(const char *msg);

/* Records msg as this thread's last failure; returns err (a negative errno). */
static inline int lib_error(int err, const char *msg)
{
	lib_set_error(msg);
	return err;
}

#endif /* __SKSTEER_PRINT_H */
