// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for what --fd and --systemd parse (make fuzz): the --fd
 * argument (a number or a name) against LISTEN_FDS, LISTEN_PID and
 * LISTEN_FDNAMES, which come from whoever started sksteer. The input is four
 * NUL-separated fields: the argument ("" for --systemd) and the three
 * variables (a field that is absent leaves its variable unset; "$" in
 * LISTEN_PID stands for our pid). Besides crashes it checks that a refusal is
 * one line, that a number is taken as it is, and that a name or --systemd
 * gives one of the descriptors passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h> /* before handover.h: sksteer.h uses the kernel types */
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

static void set(const char *name, const char *value)
{
	char pid[32];

	if (!value) {
		unsetenv(name);
		return;
	}
	if (!strcmp(name, "LISTEN_PID") && !strcmp(value, "$")) {
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		value = pid;
	}
	setenv(name, value, 1);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char text[512], err[1024];
	const char *p = text, *end, *arg, *fds;
	char *num_end;
	long n;
	int fd;

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	end = text + size;
	arg = field(&p, end);
	fds = field(&p, end);
	set("LISTEN_FDS", fds);
	set("LISTEN_PID", field(&p, end));
	set("LISTEN_FDNAMES", field(&p, end));
	if (arg && !*arg)
		arg = NULL; /* --systemd */
	err[0] = '\0';
	fd = handover_resolve(arg, err, sizeof(err));
	if (fd < 0) {
		/* (a message quotes what it refuses: a newline given is a newline printed) */
		if (!err[0] || (strchr(err, '\n') && !memchr(text, '\n', size))) {
			fprintf(stderr, "a refusal that is not one line: '%s'\n", err);
			abort();
		}
		return 0;
	}
	n = arg ? strtol(arg, &num_end, 10) : 0;
	if (arg && *arg && !*num_end) {
		if (fd != n) {
			fprintf(stderr, "--fd %s gave descriptor %d\n", arg, fd);
			abort();
		}
		return 0;
	}
	/* a name, or --systemd: one of the LISTEN_FDS descriptors from 3 on */
	if (!fds || fd < HANDOVER_FDS_START || fd >= HANDOVER_FDS_START + atoi(fds)) {
		fprintf(stderr, "'%s' with LISTEN_FDS=%s gave descriptor %d\n", arg ? arg : "",
			fds ? fds : "(unset)", fd);
		abort();
	}
	return 0;
}
