/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The command line's mistakes, each told in one line whatever it quotes:
 * argp's messages with the message escaped as text (src/lib/escape.h), and the
 * options getopt would name raw, found and named escaped before it can.
 */
#ifndef __SKSTEER_USAGE_H
#define __SKSTEER_USAGE_H

#include <argp.h>

/* argp_failure() with the message escaped: "sksteer: MESSAGE", exit 64. */
void usage_fail(const struct argp_state *state, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* argp_error() with the message escaped: "sksteer: MESSAGE", the "Try --help" line, exit 64. */
void usage_error(const struct argp_state *state, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Before argp_parse(argp, ARGP_IN_ORDER): an option it does not know, or a
 * byte after '-' that is no option, that would need escaping is named escaped,
 * with the "Try --help" line, and the process exits 64; any other mistake is
 * left to argp. After an option in cmd_keys (0-terminated), the first
 * argument that is no option begins a command, whose options are its own.
 */
void usage_check_options(const struct argp *argp, const int *cmd_keys, int argc, char **argv);

#endif /* __SKSTEER_USAGE_H */
