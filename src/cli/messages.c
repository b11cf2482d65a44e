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

	if (!a->netns_arg && !a->netns_label)
		return "this network namespace";
	snprintf(name, sizeof(name), "network namespace %s",
		 a->netns_label ? a->netns_label : a->netns_arg);
	return name;
}

/*
 * The library's advice, in its own terms, and the command line's way to
 * follow it. "^" anchors a phrase at the start (the field a value came from,
 * named as the option that gives it); "%s" stands for one word (a target, a
 * descriptor), repeated as the option needs it.
 */
static const struct {
	const char *lib, *cli;
} phrases[] = {
	{ "^dst ", "--dst " },
	{ "^follow_cgroup ", "--follow-cgroup " },
	{ "^follow ", "--follow " },
	{ "^follow:", "--follow:" },
	{ " for dst ", " for --dst " },
	{ "force the change", "use --force" },
	{ "a forced change takes", "--force takes" },
	{ "detach all steering here", "run 'sksteer --detach'" },
	{ "to stop steering to it, detach %s",
	  "to stop steering to it, run 'sksteer --detach -s %s'" },
	{ "detach %s from dst ", "run sksteer --detach -s %s --dst " },
	{ "steer to %s anew", "run 'sksteer -s %s'" },
	{ "follow with cgroup %s again", "run sksteer with --follow --follow-cgroup %s again" },
	{ "(the status lists them)", "(sksteer --list shows them)" },
	{ "(see the status)", "(see sksteer --list)" },
	{ "the debug messages have the verifier log", "run with -v for the verifier log" },
	{ "or wait longer", "or give --wait SECONDS to wait longer" },
	{ "open it by path from outside instead",
	  "run 'sksteer --netns /run/netns/NAME ...' from outside instead" },
	{ "descriptor of this process: pass the socket down to it as descriptor %s",
	  "descriptor of sksteer: pass the socket down to it as descriptor %s (e.g. 'sksteer "
	  "--fd %s ... %s<&SOCKET' in a shell)" },
	{ "steer in the socket's namespace",
	  "run sksteer in the socket's namespace, or with --netns" },
	{ "give that address as the target", "give that address with -s" },
	{ "name the target", "name the target with -s" },
	{ "give its ports", "give its ports with -p" },
	{ "so nothing to trace", "so nothing to trace: steer with -p and -s first" },
};

/* msg with lib's phrase (at its first place) as cli says it, into out. Whether it was there. */
static bool translate(const char *msg, const char *lib, const char *cli, char *out, size_t len)
{
	const char *hole = strstr(lib, "%s"), *at, *end;
	size_t pre = hole ? (size_t)(hole - lib) : strlen(lib), arg = 0;
	bool anchored = lib[0] == '^';
	char *o = out;

	if (anchored) {
		lib++, pre--;
		at = strncmp(msg, lib, pre) ? NULL : msg;
	} else {
		at = memmem(msg, strlen(msg), lib, pre);
	}
	if (!at)
		return false;
	end = at + pre;
	if (hole) { /* one word, then the rest of the phrase */
		arg = strcspn(end, " ");
		if (strncmp(end + arg, hole + 2, strlen(hole + 2)))
			return false;
		end += arg + strlen(hole + 2);
	}
	o += snprintf(o, len, "%.*s", (int)(at - msg), msg);
	for (const char *c = cli; *c && (size_t)(o - out) < len - 1; c++) {
		if (c[0] == '%' && c[1] == 's') {
			o += snprintf(o, len - (size_t)(o - out), "%.*s", (int)arg, at + pre);
			c++;
		} else {
			*o++ = *c;
		}
	}
	snprintf(o, len - (size_t)(o - out), "%s", end);
	return true;
}

const char *cli_say(const char *msg)
{
	static char one[2048], other[2048];
	char *cur = one, *next = other, *swap;

	snprintf(cur, sizeof(one), "%s", msg);
	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
		if (!translate(cur, phrases[i].lib, phrases[i].cli, next, sizeof(one)))
			continue;
		swap = cur;
		cur = next;
		next = swap;
	}
	return cur;
}

const char *cli_message(const struct args *a, int ret)
{
	return cli_say(sksteer_errmsg());
}
