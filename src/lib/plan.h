/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What src/lib/plan.c offers the library's other public parts. */
#ifndef __SKSTEER_PLAN_H
#define __SKSTEER_PLAN_H

#include <sksteer/sksteer.h>

struct live_updates;

/*
 * A plan for reading only, whose changes are text's lines (as --dry-run
 * prints them), made on ns, with the kernel updates applying it would make
 * (NULL: not counted). 0, or -ENOMEM.
 */
int plan_of_text(const struct sksteer_ns *ns, char *text, const struct live_updates *u,
		 struct sksteer_plan **plan);

#endif /* __SKSTEER_PLAN_H */
