// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for what --fd and --systemd parse (make fuzz): the --fd
 * argument (a number or a name) against LISTEN_FDS, LISTEN_PID and
 * LISTEN_FDNAMES, which come from whoever started sksteer. The input is four
 * NUL-separated fields: the argument ("" for --systemd) and the three
 * variables (a field that is absent leaves its variable unset; "$" in
 * LISTEN_PID stands for our pid). Besides crashes it checks that a refusal is
 * one line, that a number is taken as it is, and that a name or --systemd
 * gives exactly the descriptor sd_listen_fds(3) says: a name's is the one at
 * its place in LISTEN_FDNAMES, and nothing is given when LISTEN_PID names
 * another process. Each name or --systemd that is given a descriptor is tried
 * again with our parent's pid in LISTEN_PID, which must be refused.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h> /* before handover.h: sksteer_abi.h uses the kernel types */
#include "handover.h"

static const char *field(const char **p, const char *end)
{
	const char *f = *p;
	const char *nul;

	if (f >= end)
		return NULL;
	nul = memchr(f, '\0', (size_t)(end - f));
	*p = nul ? nul + 1 : end;
	return f;
}

/* Sets (or, for NULL, unsets) variable name; returns the value set. */
static const char *set(const char *name, const char *value, char *buf, size_t len)
{
	if (!value) {
		unsetenv(name);
		return NULL;
	}
	if (!strcmp(name, "LISTEN_PID") && !strcmp(value, "$")) {
		snprintf(buf, len, "%d", (int)getpid());
		value = buf;
	}
	setenv(name, value, 1);
	return value;
}

/*
 * The descriptor name (NULL: --systemd) should get, by sd_listen_fds(3), or -1: LISTEN_FDS
 * counts the sockets, from 1 to 1000 (handover.c's bound); they are ours when LISTEN_PID is our
 * pid, or unset or empty (handover.c's choice: sd_listen_fds(3) passes none then); --systemd takes
 * the one socket; a name takes the descriptor at the first place it has in LISTEN_FDNAMES,
 * colon separated and counted from SD_LISTEN_FDS_START, among the LISTEN_FDS passed.
 */
static int expected(const char *name, const char *fds, const char *pid, const char *names)
{
	char *end;
	long n;
	int i = 0;

	if (!fds || !*fds)
		return -1;
	n = strtol(fds, &end, 10);
	if (*end || n < 1 || n > 1000)
		return -1;
	if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
		return -1;
	if (!name)
		return n == 1 ? HANDOVER_FDS_START : -1;
	for (const char *p = names; p && i < n; i++) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);

		if (len == strlen(name) && !memcmp(p, name, len))
			return HANDOVER_FDS_START + i;
		if (!colon)
			break;
		p = colon + 1;
	}
	return -1;
}

/*
 * What sksteer does when started by a child of the service, not the service: the sockets are
 * not its own, whatever their names, and the refusal says why. (The next input sets LISTEN_PID
 * again.)
 */
static void check_other_pid(const char *arg)
{
	char other[32], err[1024];
	int fd;

	snprintf(other, sizeof(other), "%d", (int)getppid());
	setenv("LISTEN_PID", other, 1);
	err[0] = '\0';
	fd = handover_resolve(arg, err, sizeof(err));
	if (fd >= 0 || !strstr(err, "LISTEN_PID")) {
		fprintf(stderr,
			"'%s' with LISTEN_PID=%s, another process's, gave descriptor %d: %s\n",
			arg ? arg : "", other, fd, err);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char text[512], err[1024], ours[32];
	const char *p = text, *end, *arg, *fds, *pid, *names;
	char *num_end;
	long n;
	int fd, want;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	end = text + size;
	arg = field(&p, end);
	fds = set("LISTEN_FDS", field(&p, end), NULL, 0);
	pid = set("LISTEN_PID", field(&p, end), ours, sizeof(ours));
	names = set("LISTEN_FDNAMES", field(&p, end), NULL, 0);
	if (arg && !*arg)
		arg = NULL; /* --systemd */
	err[0] = '\0';
	fd = handover_resolve(arg, err, sizeof(err));
	/* (a message quotes what it refuses: a newline given is a newline printed) */
	if (fd < 0 && (!err[0] || (strchr(err, '\n') && !memchr(text, '\n', size)))) {
		fprintf(stderr, "a refusal that is not one line: '%s'\n", err);
		abort();
	}
	/* a number: that descriptor, whatever was passed, if it can be one */
	n = arg ? strtol(arg, &num_end, 10) : 0;
	if (arg && *arg && !*num_end) {
		if (fd != (n >= 0 && n <= INT_MAX ? n : -1)) {
			fprintf(stderr, "--fd %s gave descriptor %d\n", arg, fd);
			abort();
		}
		return 0;
	}
	/* a name, or --systemd: exactly the descriptor passed for it, or a refusal if none */
	want = expected(arg, fds, pid, names);
	if (fd != want) {
		fprintf(stderr,
			"'%s' with LISTEN_FDS=%s LISTEN_PID=%s LISTEN_FDNAMES=%s gave descriptor %d, "
			"not %d (%s)\n",
			arg ? arg : "(--systemd)", fds ? fds : "(unset)", pid ? pid : "(unset)",
			names ? names : "(unset)", fd, want, fd < 0 ? err : "");
		abort();
	}
	if (fd >= 0)
		check_other_pid(arg);
	return 0;
}
