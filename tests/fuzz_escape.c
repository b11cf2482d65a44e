// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for output escaping, src/lib/escape.c (make fuzz). Any bytes in:
 * each style's output is well-formed UTF-8 (checked against Unicode's table of
 * well-formed sequences, not escape.c's decoder) with no character that acts
 * (controls, separators, bidirectional overrides); it reads back, text exactly
 * to the input, JSON to the input with U+FFFD for each byte that is no UTF-8,
 * a label to the text form; and cut short, it is a prefix that ends whole.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"

#define MAX_IN 512

static void fail(const char *what, const char *in, const char *out)
{
	fprintf(stderr, "%s\n  in:  '%s'\n  out: '%s'\n", what, in, out);
	abort();
}

/*
 * The length of the well-formed sequence at s, by the Unicode Standard's
 * Table 3-7 (the second byte's range depends on the first), 0 if none.
 */
static int well_formed(const unsigned char *s, uint32_t *cp)
{
	static const struct {
		unsigned char lo, hi, lo2, hi2;
		int n;
	} rows[] = {
		{ 0x00, 0x7f, 0, 0, 1 },       { 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 }, { 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 }, { 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 }, { 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		int n = rows[r].n;

		if (s[0] < rows[r].lo || s[0] > rows[r].hi)
			continue;
		if (n > 1 && (s[1] < rows[r].lo2 || s[1] > rows[r].hi2))
			return 0;
		for (int i = 2; i < n; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return 0;
		*cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
		for (int i = 1; i < n; i++)
			*cp = *cp << 6 | (s[i] & 0x3f);
		return n;
	}
	return 0;
}

/* Well-formed UTF-8, with nothing that would end a line or drive a terminal. */
static void check_shown(const char *in, const char *out)
{
	const unsigned char *p = (const unsigned char *)out;

	while (*p) {
		uint32_t c;
		int n = well_formed(p, &c);

		if (!n)
			fail("not UTF-8", in, out);
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
			fail("a character that acts", in, out);
		p += n;
	}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ESC_TEXT read back: \\ and \xHH (lower case) only. -1 if it is not that form. */
static int unescape_text(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (*s != '\\') {
			out[n++] = *s++;
		} else if (s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else if (s[1] == 'x' && hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
			out[n++] = (char)(hexval(s[2]) << 4 | hexval(s[3]));
			s += 4;
		} else {
			return -1;
		}
	}
	out[n] = '\0';
	return 0;
}

/* A label value read back as the exposition format's parsers do: \\, \" and \n only. */
static int unescape_prom(const char *s, char *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '"' || *s == '\n')
			return -1; /* would end the value, or the line */
		if (*s != '\\') {
			out[n++] = *s;
			continue;
		}
		s++;
		if (*s != '\\' && *s != '"' && *s != 'n')
			return -1;
		out[n++] = *s == 'n' ? '\n' : *s;
	}
	out[n] = '\0';
	return 0;
}

static size_t put_utf8(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | c >> 12);
	out[1] = (char)(0x80 | (c >> 6 & 0x3f));
	out[2] = (char)(0x80 | (c & 0x3f));
	return 3;
}

/* The inside of a JSON string decoded (RFC 8259), as UTF-8. -1 if it is not valid JSON. */
static int decode_json(const char *s, char *out)
{
	static const char simple[] = "\"\\/bfnrt", value[] = "\"\\/\b\f\n\r\t";
	size_t n = 0;

	for (; *s; s++) {
		const char *e;
		uint32_t c = 0;

		if ((unsigned char)*s < 0x20 || *s == '"')
			return -1;
		if (*s != '\\') {
			out[n++] = *s;
			continue;
		}
		s++;
		if (*s && (e = strchr(simple, *s))) {
			out[n++] = value[e - simple];
			continue;
		}
		if (*s != 'u')
			return -1;
		for (int i = 1; i <= 4; i++) {
			if (hexval(s[i]) < 0)
				return -1;
			c = c << 4 | (uint32_t)hexval(s[i]);
		}
		if (c >= 0xd800 && c <= 0xdfff)
			return -1; /* escape.c writes no surrogate: nothing it escapes needs one */
		n += put_utf8(c, out + n);
		s += 4;
	}
	out[n] = '\0';
	return 0;
}

/* What a JSON string of in decodes to: in, each byte of no well-formed sequence as U+FFFD. */
static void expect_json(const char *in, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;

	while (*p) {
		uint32_t c;
		int len = well_formed(p, &c);

		if (len) {
			memcpy(out + n, p, (size_t)len);
			n += (size_t)len;
			p += len;
		} else {
			n += put_utf8(0xfffd, out + n);
			p++;
		}
	}
	out[n] = '\0';
}

/* The full escape, its length, the same bytes through a FILE, and well-formed output. */
static void check_full(enum esc_style style, const char *in, char *out, size_t size)
{
	char *streamed = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&streamed, &len);

	esc(style, in, out, size);
	if (strlen(out) != esc_len(style, in))
		fail("esc_len() is not the length", in, out);
	if (!f)
		abort();
	esc_fputs(style, in, f);
	fclose(f);
	if (strcmp(streamed, out))
		fail("esc_fputs() wrote other bytes", in, streamed);
	free(streamed);
	check_shown(in, out);
}

/* Cut short: a NUL-terminated prefix of the full escape that reads back (no half an escape). */
static void check_cut(enum esc_style style, const char *in, const char *full)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 5, 6, 7, 11, 16, 33 };
	char buf[40], back[40], text[40];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i], got;
		int bad;

		memset(buf, 'x', sizeof(buf));
		esc(style, in, buf, len);
		got = strnlen(buf, len);
		if (got == len || strncmp(buf, full, got))
			fail("cut short: not a prefix", in, buf);
		check_shown(in, buf);
		if (style == ESC_JSON)
			bad = decode_json(buf, back);
		else if (style == ESC_PROM)
			bad = unescape_prom(buf, text) || unescape_text(text, back);
		else
			bad = unescape_text(buf, back);
		if (bad)
			fail("cut short: half an escape", in, buf);
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char in[MAX_IN + 1], text[ESC_SIZE(MAX_IN + 1)], json[ESC_SIZE(MAX_IN + 1)];
	char prom[ESC_SIZE(MAX_IN + 1)], back[ESC_SIZE(MAX_IN + 1)], want[3 * MAX_IN + 1];

	if (size > MAX_IN)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0'; /* a C string: what sksteer escapes ends at its NUL */

	check_full(ESC_TEXT, in, text, sizeof(text));
	if (unescape_text(text, back) || strcmp(back, in))
		fail("text does not read back to the input", in, text);
	check_full(ESC_JSON, in, json, sizeof(json));
	expect_json(in, want);
	if (decode_json(json, back) || strcmp(back, want))
		fail("JSON does not decode to the input", in, json);
	check_full(ESC_PROM, in, prom, sizeof(prom));
	if (unescape_prom(prom, back) || strcmp(back, text))
		fail("a label value does not read back to the text form", in, prom);

	check_cut(ESC_TEXT, in, text);
	check_cut(ESC_JSON, in, json);
	check_cut(ESC_PROM, in, prom);
	return 0;
}
