/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Records pinned beside a namespace's maps, read and written under its lock. */
#ifndef __SKSTEER_RECORDS_H
#define __SKSTEER_RECORDS_H

#include <stddef.h>
#include "pins.h"

/*
 * Records pinned beside the maps, read by the loader and the readers alone
 * (which build runs: build.c; the last apply: applied.c): one-element arrays
 * of a record's size. pin_record_read() copies the one pinned as name into
 * value (0), or finds none of that size (-1, older or foreign pins ignored);
 * pin_record_write() stores value in it, or pins a new one, whole, where none
 * of that size is. Best effort: what a record says is no part of the steering.
 */
int pin_record_read(const struct pins *p, const char *name, void *value, size_t size);
void pin_record_write(const struct pins *p, const char *name, const void *value, size_t size);

#endif /* __SKSTEER_RECORDS_H */
