// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What sksteer says about a command line it cannot take, one line each
 * whatever it quotes; see usage.h.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "usage.h"

#define MSGLEN 1024
#define PROGRAM_NAME 0x10001 /* argp's --program-name: the prefix of its messages */

static char *escaped(const char *fmt, va_list ap, char *buf, size_t len)
{
	char msg[MSGLEN];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return esc(ESC_TEXT, msg, buf, len);
}

void usage_fail(const struct argp_state *state, const char *fmt, ...)
{
	char buf[ESC_SIZE(MSGLEN)];
	va_list ap;

	va_start(ap, fmt);
	escaped(fmt, ap, buf, sizeof(buf));
	va_end(ap);
	argp_failure(state, 64, 0, "%s", buf);
}

void usage_error(const struct argp_state *state, const char *fmt, ...)
{
	char buf[ESC_SIZE(MSGLEN)];
	va_list ap;

	va_start(ap, fmt);
	escaped(fmt, ap, buf, sizeof(buf));
	va_end(ap);
	argp_error(state, "%s", buf);
}

/* "sksteer: MESSAGE 'WHAT'" escaped, argp's "Try --help" line, exit 64 */
static void refuse(const struct argp *argp, char *name, const char *message, const char *what)
{
	fprintf(stderr, "%s: %s '", name, message);
	esc_fputs(ESC_TEXT, what, stderr);
	fputs("'\n", stderr);
	argp_help(argp, stderr, ARGP_HELP_SEE, name);
	exit(64);
}

/*
 * getopt's tables as argp makes them from argp->options and its own (--help,
 * --usage, --version, and the hidden --program-name and --HANG, which take an
 * argument): "-" first, for the arguments in order (ARGP_IN_ORDER). A long
 * option's val is its key; argp's own have 0x10000, no key of sksteer's.
 */
static void getopt_tables(const struct argp *argp, struct option *longs, char *shorts)
{
	static const struct option own[] = {
		{ "help", no_argument, NULL, 0x10000 },
		{ "usage", no_argument, NULL, 0x10000 },
		{ "version", no_argument, NULL, 0x10000 },
		{ "program-name", required_argument, NULL, PROGRAM_NAME },
		{ "HANG", optional_argument, NULL, 0x10000 },
		{},
	};
	size_t n = 0, len = 0;

	shorts[len++] = '-';
	for (const struct argp_option *o = argp->options; o->name || o->key || o->doc; o++) {
		int has = !o->arg			 ? no_argument :
			  o->flags & OPTION_ARG_OPTIONAL ? optional_argument :
							   required_argument;

		if (o->name)
			longs[n++] = (struct option){ o->name, has, NULL, o->key };
		if (o->key > ' ' && o->key < 0x7f) {
			shorts[len++] = (char)o->key;
			/* "p:" takes an argument, "p::" may */
			for (int i = 0; i < has; i++)
				shorts[len++] = ':';
		}
	}
	shorts[len] = '\0';
	memcpy(longs + n, own, sizeof(own));
}

static bool needs_escaping(const char *s)
{
	return esc_len(ESC_TEXT, s) != strlen(s);
}

/*
 * getopt names an option it does not know as it was given ("unrecognized
 * option '--x'", "invalid option -- 'x'"), before argp could escape it: a
 * newline in it makes two lines, an escape sequence reaches the terminal.
 * A silent pass of getopt over the same options finds the first mistake;
 * if getopt would print it raw, it is named escaped here instead.
 */
void usage_check_options(const struct argp *argp, const int *cmd_keys, int argc, char **argv)
{
	const struct argp_option *o = argp->options;
	const char *what = NULL, *arg = NULL;
	char *shorts, letter[2] = "";
	struct option *longs;
	bool cmd_next = false;
	size_t nopts = 0;
	int c;

	while (o[nopts].name || o[nopts].key || o[nopts].doc)
		nopts++;
	/* argp's own five and the end; a letter, and two ':' at most, for each option */
	longs = calloc(nopts + 6, sizeof(*longs));
	shorts = malloc(3 * nopts + 2);
	if (!longs || !shorts)
		goto out; /* argp parses all the same */
	getopt_tables(argp, longs, shorts);
	opterr = 0;
	optind = 0; /* glibc: start afresh */
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		for (const int *k = cmd_keys; *k; k++)
			cmd_next |= c == *k;
		if (c == 1 && cmd_next)
			break; /* CMD [ARGS...]: argp gives them to the command */
		if (c == PROGRAM_NAME && needs_escaping(optarg)) {
			what = "--program-name: a name that prints as it is, not";
			arg = optarg;
			break;
		}
		if (c != '?')
			continue;
		/* optopt 0: a long option it does not know, whose name goes into the message */
		if (!optopt && needs_escaping(argv[optind - 1])) {
			what = "unrecognized option";
			arg = argv[optind - 1];
		}
		/* a byte that is no option: a control, or (negative, as a char) one of UTF-8 */
		if (optopt && (optopt < ' ' || optopt == 0x7f)) {
			what = "invalid option --";
			letter[0] = (char)optopt;
			arg = letter;
		}
		break; /* argp tells the first mistake, and needs no escaping for it */
	}
	opterr = 1;
	optind = 0;
out:
	free(longs);
	free(shorts);
	/* after the tables are freed: refuse() exits */
	if (what)
		refuse(argp, argv[0], what, arg);
}
