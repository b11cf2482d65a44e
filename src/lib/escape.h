/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Escaping what sksteer did not write itself (a process name, a path, a
 * command-line argument, a message that quotes one) for where it is printed.
 * Whatever the bytes, the result is well-formed UTF-8 with no control
 * character: a record stays one line, and nothing reaches a terminal as an
 * escape sequence. Pure, so fuzzable (tests/fuzz_escape.c).
 */
#ifndef __SKSTEER_ESCAPE_H
#define __SKSTEER_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

enum esc_style {
	/*
	 * --list and messages: printable ASCII and UTF-8 as they are, a backslash
	 * as \\, any other byte as \xHH: a control, one that is no UTF-8, and
	 * those of a character that acts (a C1 control, a line separator, a
	 * bidirectional override). Reversible: every input has its own output.
	 */
	ESC_TEXT,
	/*
	 * The inside of a JSON string (RFC 8259): " and \ escaped, a control or a
	 * character that acts as \uXXXX, other UTF-8 as it is, so that it decodes
	 * to the input; a byte that is no UTF-8 decodes to U+FFFD (JSON text is
	 * UTF-8: it has no other way).
	 */
	ESC_JSON,
	/*
	 * A Prometheus label value: ESC_TEXT's form, with \ and " escaped as the
	 * exposition format wants (its parsers refuse any other escape, \x too).
	 */
	ESC_PROM,
};

/* Room for a string of n bytes (its NUL included) escaped in any style: six per byte. */
#define ESC_SIZE(n) (6 * (n))

/* s escaped into buf (len bytes, NUL-terminated), cut before an escape that does not fit: buf */
char *esc(enum esc_style style, const char *s, char *buf, size_t len);

/* The length of s escaped, without the NUL: equal to strlen(s) when nothing needs escaping. */
size_t esc_len(enum esc_style style, const char *s);

/* s escaped onto f, however long. */
void esc_fputs(enum esc_style style, const char *s, FILE *f);

#endif /* __SKSTEER_ESCAPE_H */
