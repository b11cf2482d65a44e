/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Whole array maps read at once: a reader of many namespaces pays one
 * syscall a map, not one an element.
 */
#ifndef __SKSTEER_ARRAYS_H
#define __SKSTEER_ARRAYS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Elements 0 to n-1 of array map fd into values, each elem_bytes as the kernel
 * copies them (a per-CPU map's: its value size rounded up to 8, times the
 * possible CPUs): in batches where the kernel has them (5.6), else one by
 * one. 0, or -errno.
 */
int array_read(int fd, uint32_t n, size_t elem_bytes, void *values);

#endif /* __SKSTEER_ARRAYS_H */
