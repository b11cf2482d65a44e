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

/*
 * --list, --save and messages print port lists into fixed buffers: cut short,
 * a NUL-terminated prefix that ends at an item, and the full length returned.
 */
static void check_cut(const struct portset *set, const char *full, size_t full_len)
{
	static const size_t sizes[] = { 0, 1, 2, 6, 12, 64 };
	char buf[64];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i], got;

		memset(buf, 'x', sizeof(buf));
		if (format_ports(set, buf, len) != full_len) {
			fprintf(stderr, "'%s' into %zu bytes: another length\n", full, len);
			abort();
		}
		if (!len)
			continue;
		got = strnlen(buf, len);
		if (got == len || strncmp(buf, full, got) ||
		    (full[got] && full[got] != ',' && got)) {
			fprintf(stderr, "'%s' into %zu bytes gave '%.*s'\n", full, len, (int)len,
				buf);
			abort();
		}
	}
}

/* A set counts what it has, and never port 0. */
static void check_count(const struct portset *set)
{
	unsigned int n = 0;

	for (unsigned int port = 0; port <= 65535; port++)
		n += portset_has(set, port);
	if (n != portset_count(set) || portset_has(set, 0)) {
		fprintf(stderr, "a set of %u ports counts %u\n", n, portset_count(set));
		abort();
	}
}

/* The printed form is canonical: parsed and printed again, the same bytes, also cut short. */
static void check_fixed_point(const char *out)
{
	struct sksteer_target t;
	char err[512], again[TARGET_STRLEN], cut[12];

	if (parse_target(out, &t, err, sizeof(err)))
		return; /* the round trip below tells */
	format_target(&t, again, sizeof(again));
	format_target(&t, cut, sizeof(cut));
	if (strcmp(out, again) || strncmp(out, cut, sizeof(cut) - 1)) {
		fprintf(stderr, "target printed as '%s', then '%s' ('%s' cut short)\n", out, again,
			cut);
		abort();
	}
}

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
	check_cut(&set, out, len - 1);
	check_count(&set);
	free(out);
}

static void check_target(const char *text)
{
	struct sksteer_target t, again;
	char err[512], out[TARGET_STRLEN];

	if (parse_target(text, &t, err, sizeof(err)))
		return;
	format_target(&t, out, sizeof(out));
	check_fixed_point(out);
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
