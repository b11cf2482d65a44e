// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Output escaping, the one place for it: text (--list, messages), JSON strings
 * and Prometheus label values, character by character; see escape.h.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "escape.h"

/* the longest escape of one character: U+2028 as \\xe2\\x80\\xa8 in a label */
#define UNIT_MAX 16

/* The code point of the well-formed UTF-8 sequence at s (RFC 3629), and its length; 0 if none. */
static int utf8_decode(const unsigned char *s, uint32_t *cp)
{
	int n = s[0] < 0x80 ? 1 :
		s[0] < 0xc2 ? 0 :
		s[0] < 0xe0 ? 2 :
		s[0] < 0xf0 ? 3 :
		s[0] < 0xf5 ? 4 :
			      0;
	/* the lead byte's bits: all of an ASCII one, fewer the longer the sequence */
	uint32_t c = n == 1 ? s[0] : s[0] & (0xff >> (n + 1));

	/* a NUL ends the sequence too: it is no continuation byte */
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms (2-byte ones are refused by their lead byte), surrogates, U+10FFFF on */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) ||
	    c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

/*
 * Characters that act rather than show: C0 and C1 controls and DEL (a newline
 * ends a record, ESC and CSI begin terminal sequences), the line and paragraph
 * separators, and the bidirectional embeddings, overrides and isolates, which
 * reorder the rest of a line as it is shown.
 */
static bool acts(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

static size_t hex_bytes(const unsigned char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[4 * i] = '\\';
		out[4 * i + 1] = 'x';
		out[4 * i + 2] = hex[s[i] >> 4];
		out[4 * i + 3] = hex[s[i] & 0xf];
	}
	return 4 * n;
}

static size_t text_unit(const unsigned char *s, char *out, size_t *took)
{
	uint32_t c;
	int n = utf8_decode(s, &c);

	*took = n ? (size_t)n : 1;
	if (n && c == '\\') {
		memcpy(out, "\\\\", 2);
		return 2;
	}
	if (!n || acts(c))
		return hex_bytes(s, *took, out);
	memcpy(out, s, *took);
	return *took;
}

static size_t json_unit(const unsigned char *s, char *out, size_t *took)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t c;
	int n = utf8_decode(s, &c);

	*took = n ? (size_t)n : 1;
	if (!n) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (!acts(c)) {
		memcpy(out, s, *took);
		return *took;
	}
	memcpy(out, "\\u", 2); /* every character that acts is below U+10000 */
	for (int i = 0; i < 4; i++)
		out[2 + i] = hex[c >> (12 - 4 * i) & 0xf];
	return 6;
}

static size_t prom_unit(const unsigned char *s, char *out, size_t *took)
{
	char text[UNIT_MAX] = ""; /* for make lint: text_unit() writes all it counts */
	size_t n = text_unit(s, text, took), len = 0;

	/* a newline never gets here raw (text has it as \x0a): \n stays the format's */
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\\' || text[i] == '"')
			out[len++] = '\\';
		out[len++] = text[i];
	}
	return len;
}

/* The next character of s escaped into out (UNIT_MAX bytes); *took: the bytes of s it was. */
static size_t unit(enum esc_style style, const unsigned char *s, char *out, size_t *took)
{
	if (style == ESC_JSON)
		return json_unit(s, out, took);
	if (style == ESC_PROM)
		return prom_unit(s, out, took);
	return text_unit(s, out, took);
}

/* The escaped length of s; as much of it as fits whole into buf (len bytes, if any). */
static size_t walk(enum esc_style style, const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t total = 0, used = 0;
	bool cut = !len;

	while (*p) {
		char u[UNIT_MAX];
		size_t took, n = unit(style, p, u, &took);

		/* once one escape did not fit, none after it goes in: the cut is a prefix */
		cut = cut || used + n >= len;
		if (!cut) {
			memcpy(buf + used, u, n);
			used += n;
		}
		total += n;
		p += took;
	}
	if (len)
		buf[used] = '\0';
	return total;
}

char *esc(enum esc_style style, const char *s, char *buf, size_t len)
{
	walk(style, s, buf, len);
	return buf;
}

size_t esc_len(enum esc_style style, const char *s)
{
	return walk(style, s, NULL, 0);
}

void esc_fputs(enum esc_style style, const char *s, FILE *f)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		char u[UNIT_MAX];
		size_t took, n = unit(style, p, u, &took);

		fwrite(u, 1, n, f);
		p += took;
	}
}
