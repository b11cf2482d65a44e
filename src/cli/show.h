/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What --list, --list --json, --metrics and --check share: a status snapshot, and its JSON. */
#ifndef __SKSTEER_SHOW_H
#define __SKSTEER_SHOW_H

#include <stdio.h>
#include <sksteer/sksteer.h>

/* The namespace's status. 0, or -1 with the library's message in err. */
int show_status(struct sksteer_ns *ns, struct sksteer_status **st, char *err, size_t errlen);

/* --list --json: one document, on f. */
void show_json(const struct sksteer_status *st, FILE *f);

#endif /* __SKSTEER_SHOW_H */
