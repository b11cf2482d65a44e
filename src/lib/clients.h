/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The UDP client watcher of one namespace (clients.bpf.c on the cgroup v2
 * root): while a UDP target's ports overlap the ephemeral range
 * (net.ipv4.ip_local_port_range), it keeps the table of replies that other
 * programs' UDP client sockets await, and the lookup program leaves those
 * replies to them. Owns the udp_watch_* pins, udp_awaited and udp_adopted.
 */
#ifndef __SKSTEER_CLIENTS_H
#define __SKSTEER_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "parse.h"

struct change;
struct live;

/*
 * The ephemeral range while the UDP client watcher runs, or a change plans it
 * (struct live's clients): clients.c's alone, asked through the functions
 * below. from 0: it does not.
 */
struct clients {
	uint16_t from, to;
	/* a dry apply's watcher (l->dry), never loaded: 1 as if loaded, 2 as if attached */
	int dry_watch;
};

/* The namespace's ephemeral range; false (and 0-0) when it cannot be read. */
bool ephemeral_range(unsigned int *lo, unsigned int *hi);

/* The ports of p in lo-hi into overlap (may be NULL); whether there are any. */
bool ephemeral_overlap(const struct portset *p, unsigned int lo, unsigned int hi,
		       struct portset *overlap);

/* A dry apply's end: the watcher it would have loaded forgotten. */
static inline void clients_dry_end(struct clients *cl)
{
	cl->dry_watch = 0;
}

/* Whether the watcher runs for this run's changes (or one of them plans it). */
static inline bool clients_on(const struct clients *cl)
{
	return cl->from != 0;
}

/* Whether port is in the range the watcher keeps client replies in, while it runs. */
static inline bool clients_in_range(const struct clients *cl, unsigned int port)
{
	return cl->from && port >= cl->from && port <= cl->to;
}

/*
 * The first port the lookup program checks for client sockets, for a UDP
 * target with ports: the range's, if they overlap it; else 0.
 */
static inline uint32_t clients_first(const struct clients *cl, const struct portset *ports)
{
	return ephemeral_overlap(ports, cl->from, cl->to, NULL) ? cl->from : 0;
}

/*
 * Before change c is checked: when it gives a UDP target ephemeral ports and
 * the watcher runs or can run here, sets l->clients (the range), so that the
 * checks and the target's flags count on the rule. Changes nothing. Returns
 * 1 when c needs the rule and it cannot run here (no cgroup v2), else 0.
 */
int clients_plan(struct live *l, const struct change *c);

/*
 * Once the maps are loaded: loads the watcher if the plan needs it and none
 * runs. clients_attach() attaches it, after clients_adopt(). 0 or -1 with err.
 */
int clients_start(struct live *l, char *err, size_t errlen);
int clients_attach(struct live *l, char *err, size_t errlen);

/*
 * Sockets already bound on ports that change c is about to steer: unconnected
 * UDP sockets in the ephemeral range keep replies to what they send, as any
 * client, unless --force takes their ports (then they are servers to the
 * watcher, and keep nothing).
 */
void clients_adopt(struct live *l, const struct change *c, int slot);

/*
 * After a change: brings every UDP target's flags in line with the ephemeral
 * range as it is now (targets pinned by an older sksteer, a range changed
 * since), attaching the watcher when one needs it, and detaching it when
 * none does. 0, or 1 with err when the watcher could not attach (a warning).
 */
int clients_sync(struct live *l, char *err, size_t errlen);

/* The UDP client watcher's state, for --list and --metrics. */
struct clients_status {
	bool watching;
	unsigned int awaited; /* entries in the table: client sockets' ports and peers */
	uint64_t full; /* sends not recorded since the watcher started: the table was full */
	uint64_t over_budget; /* ... their user had SKSTEER_UDP_PER_UID entries already */
};

/* Reads it from the pins (read-only); watching false when no watcher runs. */
void clients_status(const struct live *l, struct clients_status *cs);

/* What steering UDP ports in the ephemeral range means here, on stderr. */
void clients_warn(const struct live *l, const struct change *c);

/* After a run changed targets c[0..n): clients_sync(), and the warnings. */
void clients_done(struct live *l, const struct change *c, int n);

#endif /* __SKSTEER_CLIENTS_H */
