/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Reading the live state (src/lib/view.c): the pinned maps opened and read into struct live,
 * and what the rest asks of it.
 */
#ifndef __SKSTEER_VIEW_H
#define __SKSTEER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "live.h"

/* Opens the pinned maps (those older pins lack stay -1) and reads them. 0 or -1 with err. */
int live_open(struct live *l, char *err, size_t errlen);

/* Closes what live_open() and the rest opened, the pin directory included. */
void live_close(struct live *l);

/* Reads the targets and maps the port table, from the map fds in l->fds. 0 or -1 with err. */
int live_read(struct live *l, char *err, size_t errlen);

/* The state of a namespace where nothing is steered, to plan against without pins. */
int live_empty(struct live *l, char *err, size_t errlen);

/* Unmaps (or frees the copy of) the port table. */
void live_unmap(struct live *l);

/* The port table is table from now on (packed, mapped: a migration's new one); the old one goes. */
void live_take_table(struct live *l, volatile uint8_t *table);

/* The slot of target t, or -1. */
int live_find(const struct live *l, const struct sksteer_target *t);

/* Number of targets. *only receives the slot of the last one found. */
int live_count(const struct live *l, int *only);

/* Whether cookie is the socket of one of the targets. */
bool sock_is_target(const struct live *l, uint64_t cookie);

/* The ports target slot owns (for every destination address). */
void live_ports(const struct live *l, int slot, struct portset *out);

/* The ports target slot owns for any destination: every address's and every prefix's. */
void live_ports_any(const struct live *l, int slot, struct portset *out);

/* The ports target slot owns in scope. */
void live_scope_ports(const struct live *l, int slot, int scope, struct portset *out);

/* Whether target slot owns any port in scope > 0 (cheap: its runs, not its ports). */
bool live_scope_has(const struct live *l, int slot, int scope);

/* proto's ports whose port table byte is a mark: lookups there search the prefixes' bindings */
void live_marked(const struct live *l, int proto, struct portset *out);

/* Whether some key a prefix binds is not marked (its lookups miss the prefixes); -1: no memory */
int live_marks_missing(const struct live *l);

/* The flags the program passes to bpf_sk_assign() for target slot. */
uint32_t live_flags(const struct live *l, int slot);

/* Cookie of the socket in slot, 0 if the socket is gone. */
uint64_t live_cookie(const struct live *l, int slot);

/* What is recorded of target slot. 0, or -1 if nothing is (pins of an older sksteer). */
int live_info(const struct live *l, int slot, struct sksteer_target_info *info);

/* The ports target slot was last given, into out. 0, or -1 if not recorded. */
int live_wanted(const struct live *l, int slot, struct portset *out);

/* sum += s, field by field */
void stats_add(struct sksteer_stats *sum, const struct sksteer_stats *s);

/*
 * The tracer recorded in the pinned map: 1 if its process lives (t filled in),
 * 0 if none is recorded, -1 if the recorded one died without cleaning up.
 */
int live_tracer(const struct live *l, struct sksteer_tracer *t);

/* Records this process as the tracer, or none with pid 0. */
int live_set_tracer(struct live *l, pid_t pid);

#endif /* __SKSTEER_VIEW_H */
