// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for the port-list, address and prefix parsers (make fuzz).
 * Besides crashes it checks round trips: what parses, printed and parsed again,
 * is the same; and a prefix holds its own address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

static void check_ports(const char *text)
{
	struct portset set, again;
	char err[512], *out;
	size_t len;

	if (parse_ports(text, &set, err, sizeof(err)))
		return;
	len = format_ports(&set, NULL, 0) + 1;
	out = malloc(len);
	format_ports(&set, out, len);
	if (parse_ports(out, &again, err, sizeof(err)) || memcmp(&set, &again, sizeof(set))) {
		fprintf(stderr, "port list '%s' printed as '%s' does not parse back\n", text, out);
		abort();
	}
	free(out);
}

static void check_target(const char *text)
{
	struct sksteer_target t, again;
	char err[512], out[TARGET_STRLEN];

	if (parse_target(text, &t, err, sizeof(err)))
		return;
	format_target(&t, out, sizeof(out));
	if (parse_target(out, &again, err, sizeof(err)) || !target_equal(&t, &again)) {
		fprintf(stderr, "target '%s' printed as '%s' does not parse back\n", text, out);
		abort();
	}
}

static void check_prefix(const char *text)
{
	struct prefix p, again;
	char err[512], out[PREFIX_STRLEN];

	if (parse_prefix(text, &p, err, sizeof(err)))
		return;
	format_prefix(&p, out, sizeof(out));
	if (parse_prefix(out, &again, err, sizeof(err)) || !prefix_equal(&p, &again)) {
		fprintf(stderr, "prefix '%s' printed as '%s' does not parse back\n", text, out);
		abort();
	}
	if (!prefix_holds(&p, p.family, p.addr) || !prefix_covers(&p, &again)) {
		fprintf(stderr, "prefix '%s' does not hold its own address\n", text);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char text[512];

	if (size >= sizeof(text))
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_ports(text);
	check_target(text);
	check_prefix(text);
	return 0;
}
