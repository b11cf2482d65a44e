/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What a namespace steers and how it goes, read from the pins (sksteer_ns__status()). */
#ifndef __SKSTEER_STATUS_H
#define __SKSTEER_STATUS_H

#include <stdio.h>
#include "clients.h"
#include "follow.h"
#include "sockets.h"
#include "steer.h"

struct target_status {
	int slot;
	struct sksteer_target addr;
	char *ports; /* compact ranges */
	unsigned int nports;
	bool alive; /* the socket is still in the sockmap */
	bool socket_only; /* after a restart: not the rest of its SO_REUSEPORT group */
	bool fail_closed; /* its ports are refused while its socket is gone */
	unsigned int
		clients_from; /* UDP: replies to client sockets are theirs from here up; 0: no */
	uint64_t cookie;
	struct owner owner; /* pid 0: not found */
	struct sksteer_stats stats; /* summed over CPUs */
	struct sksteer_stats_ext ext;
	struct follow_info follow; /* --follow: src/lib/follow.c */
	/* ports bound for destination prefixes only (--dst), most specific prefix first */
	struct dst_ports {
		struct prefix dst;
		char *ports;
		unsigned int nports;
		char *lost; /* ports the port table does not mark: their lookups miss the prefix */
		unsigned int nlost;
	} * dst; /* malloc'd, ndst of them */
	int ndst;
};

struct status {
	uint64_t netns;
	const char *pin_dir;
	int ntargets;
	struct target_status targets[SKSTEER_SLOTS];
	struct sksteer_stats totals; /* every slot, including lookups for unsteered ports */
	struct sksteer_stats_ext totals_ext;
	uint32_t prog_id;
	char prog_name[16];
	char prog_tag[17];
	uint32_t tracer; /* pid of a live tracer, or 0 */
	uint32_t link_id;
	/* other sk_lookup programs attached to the namespace; unknown without CAP_SYS_ADMIN */
	struct other_program {
		uint32_t link_id, prog_id;
		char name[16];
		bool before; /* runs before sksteer's: its choice preempts sksteer's */
	} others[16];
	int nothers;
	bool others_unknown;
	struct clients_status clients; /* the UDP client watcher's table */
};

/* "80,443", malloc()ed; NULL when out of memory */
char *ports_text(const struct portset *ports);

/* What status_collect() reads beyond the pins: each costs a scan of the host */
#define STATUS_OWNERS 1 /* the targets' owners: a socket dump a target */
#define STATUS_OTHERS 2 /* the namespace's other sk_lookup programs: every link */

/* Reads everything from the pinned maps and the kernel, and what flags ask. 0 or -1 with err. */
int status_collect(const struct live *l, struct status *st, unsigned int flags, char *err,
		   size_t errlen);
void status_free(struct status *st);

#endif /* __SKSTEER_STATUS_H */
