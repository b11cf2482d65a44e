/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The record of the last apply, pinned beside the maps as "applied": when a
 * configuration or a change was last applied, whether it took, and why not.
 * Whoever monitors the namespace (--metrics, --serve-metrics, --list --json)
 * reads it from the pins, so it tells of every writer, not only of itself.
 */
#ifndef __SKSTEER_APPLIED_H
#define __SKSTEER_APPLIED_H

#include <stdint.h>
#include "pins.h"

#define APPLIED_PIN "applied"

struct apply_record {
	uint64_t at_ns; /* CLOCK_REALTIME of the last apply, taken or not */
	uint64_t ok_at_ns; /* ... of the last that took; 0: none did */
	uint64_t applied, failed; /* applies that took, and that failed, since the pins were made */
	int32_t result; /* 0, or the failure's negative errno */
	uint32_t pad;
	char error[200]; /* the failure's message; "" */
};

/*
 * Notes an apply's result (0, or -errno with its message) in pins locked for
 * a change. Best effort: the steering is what it is whether or not the record
 * says so; nothing is pinned in a directory that holds no steering.
 */
void applied_note(const struct pins *p, int result, const char *error);

/* The record pinned in p into r: 0, or -1 if none is (pins of an older sksteer). */
int applied_read(const struct pins *p, struct apply_record *r);

#endif /* __SKSTEER_APPLIED_H */
