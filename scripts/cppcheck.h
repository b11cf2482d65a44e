/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* make lint: libbpf's macros as cppcheck needs them (it reads no system header). */
#define LIBBPF_OPTS(TYPE, NAME, ...) struct TYPE NAME = { __VA_ARGS__ }
