/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The checks a change must pass before anything changes (src/lib/guard.c): live_check() for a
 * whole configuration's lines, each check alone for live_apply() (moves.c).
 */
#ifndef __SKSTEER_GUARD_H
#define __SKSTEER_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "live.h"

/*
 * The checks live_apply() makes before it changes anything, for change c,
 * changing nothing. With moves, ports that other targets own are no conflict:
 * a whole configuration says where each port goes. With other, a new socket is
 * one other than the target's current one where there is one, as for -s alone.
 * The socket the change would take goes into *sock (cookie 0: none to take).
 * 0, or -1 with err.
 */
int live_check(const struct live *l, const struct change *c, bool moves, bool other,
	       struct sock_info *sock, char *err, size_t errlen);

/* Ports of c that another target than slot owns in scope: refused unless --force. 0 or -1. */
int guard_conflicts(const struct live *l, const struct change *c, int slot, int scope, char *err,
		    size_t errlen);

/* Whether sock, the new socket of target slot (name), has its old socket's owner. 0 or -1. */
int guard_owner(const struct live *l, int slot, const struct sock_info *sock, const char *name,
		char *err, size_t errlen);

/* Whether c's prefix is of a family c's target's socket (sock) gets at all. 0 or -1. */
int guard_family(const struct change *c, const struct sock_info *sock, char *err, size_t errlen);

/*
 * Whether other sockets listen on (or are bound to) ports c would newly steer in scope;
 * new_cookie is the socket c takes. 0 or -1 with err naming them.
 */
int guard_hijack(const struct live *l, const struct change *c, int scope, uint64_t new_cookie,
		 char *err, size_t errlen);

#endif /* __SKSTEER_GUARD_H */
