// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The command line's voice: the one line an error gets, and the library's
 * messages completed with the option that helps (the library names none).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "escape.h"

int cli_fail(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fputs("sksteer: ", stderr);
	esc_fputs(ESC_TEXT, n < 0 ? "out of memory" : msg, stderr);
	fputc('\n', stderr);
	if (n >= 0)
		free(msg);
	return 1;
}

const char *netns_name(const struct args *a)
{
	static char name[PATH_MAX + 32];

	if (!a->netns_arg)
		return "this network namespace";
	snprintf(name, sizeof(name), "network namespace %s", a->netns_arg);
	return name;
}

const char *cli_message(const struct args *a, int ret)
{
	return sksteer_errmsg();
}
