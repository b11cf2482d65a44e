/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A target's slot in the live state (src/lib/slots.c): its ports in a scope,
 * its record and flags, and its removal. What applying changes (moves.c) is
 * made of.
 */
#ifndef __SKSTEER_SLOTS_H
#define __SKSTEER_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "live.h"

/* Gives target slot the ports it does not own yet in scope (every gain of a change). */
int slot_gain_ports(struct live *l, int slot, int scope, const struct portset *ports);

/*
 * Gives target slot exactly ports in scope: first every port it gains (new
 * ones, and ones moved from other targets, each in one store), then it lets
 * go of the ports it loses, so a port kept throughout is never unsteered.
 */
int slot_set_ports(struct live *l, int slot, int scope, const struct portset *ports);

/* A slot no target has, or -1 */
int slot_unused(const struct live *l);

/* err for a route table that cannot hold a change (errno ENOMEM: out of memory); -1 */
int slot_no_routes(char *err, size_t errlen);

/* Records what is known of target slot: its ports, the uid of its socket (NULL/0: keep). */
int slot_record(struct live *l, uint32_t slot, const struct portset *ports, uint32_t uid,
		bool set_uid);

/* Ports moved away from other targets (--force) leave their recorded ports too. */
int slot_forget_moved(struct live *l, int slot, const struct portset *moved);

/* Target slot's flags (BPF_SK_LOOKUP_F_NO_REUSEPORT, SKSTEER_FAIL_CLOSED...) */
int slot_set_flags(struct live *l, uint32_t slot, uint32_t flags);

/* Removes the targets left without ports */
int slot_drop_empty(struct live *l, char *err, size_t errlen);

/* Removes target slot: its ports first, then its socket and bookkeeping. */
int live_remove(struct live *l, int slot, char *err, size_t errlen);

/* Removes target slot's ports for destinations in dst; the target too if none are left. */
int live_remove_scope(struct live *l, int slot, const struct prefix *dst, char *err, size_t errlen);

/* Removes the targets left without ports; during a migration, only once the new program runs. */
int live_drop_empty(struct live *l, char *err, size_t errlen);

#endif /* __SKSTEER_SLOTS_H */
