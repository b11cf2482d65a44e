/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Configuration files (sksteer.conf(5)): the whole steering of a namespace as
 * text, one target and its ports per line. Owns the format: parsing with
 * FILE:LINE errors, the canonical form --save prints, and the changes that turn
 * one configuration into another, as --dry-run prints them. No syscalls, so
 * fuzzable (tests/fuzz_config.c).
 */
#ifndef __SKSTEER_CONFIG_H
#define __SKSTEER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "parse.h"

/* Options of a target line. */
#define CONFIG_FAIL_CLOSED (1U << 0) /* kept in the pinned state (SKSTEER_FAIL_CLOSED) */
#define CONFIG_FORCE (1U << 1) /* how to apply the line, not state: --save never writes it */
#define CONFIG_FOLLOW (1U << 2) /* follow: kept in the pinned state (src/lib/follow.c) */
#define CONFIG_FOLLOW_GROUP (1U << 3) /* follow=group */

/* What the planner found of a target's socket, for the diff. */
enum config_socket {
	CONFIG_SOCKET_KEEP, /* the socket it has, or a new target */
	CONFIG_SOCKET_OTHER, /* another socket listens at its address: it is taken */
	CONFIG_SOCKET_GONE, /* its socket is gone: the one listening now is taken */
};

/*
 * One line: a target's ports for every destination, or with dst=PREFIX for
 * destinations in PREFIX only (a target has a line per prefix it binds ports
 * for; the lines of one target carry the same options). tests/fuzz_config.c's
 * same() compares each field: a new one goes there too.
 */
struct config_target {
	struct sksteer_target addr;
	struct prefix dst; /* family 0: every destination */
	const struct portset *ports; /* shared (config_index.h): config_ports() gives one */
	unsigned int options; /* CONFIG_* */
	char follow_cgroup[128]; /* follow-cgroup=PATH, "" for none */
	unsigned int line; /* in the file; 0 for the live state */
	enum config_socket socket;
};

struct config_index;
struct config_pool;

#define CONFIG_GROUP_LEN 33 /* a group's name: 32 bytes at most, as groupadd allows */

/*
 * Whether name can name a group: 1 to 32 of letters, digits, '.', '_', '-' and
 * a trailing '$', not starting with '-' (what groupadd takes), or a number.
 */
bool config_group_valid(const char *name);

struct config {
	const char *name; /* the file's name for messages: "FILE:LINE: ..." */
	struct config_target *t;
	int n, cap;
	int ntargets; /* config_parse(): how many targets the lines name */
	bool sorted; /* config_sort() ran, and no line came after */
	/*
	 * "group NAME": the group that may read the pins too (access.h), as given
	 * (a name or a number; "" for none: "root" and "0" are none), and its line.
	 */
	char group[CONFIG_GROUP_LEN];
	unsigned int group_line;
	struct config_index *index; /* config.c's: the lines by target and by port space */
	struct config_pool *pool; /* the port sets its lines share (config_index.h) */
};

/* The most targets a configuration may have: the slots a namespace has for them. */
#define CONFIG_MAX_TARGETS (SKSTEER_RETIRED_SLOT - 1)

/*
 * Parses a whole file (len bytes of text, not NUL-terminated) into cfg, sorted.
 * Checks everything that needs no system: the syntax, the addresses and port
 * lists, a target given twice, a port given to two targets. On error returns -1
 * with one line "NAME:LINE: what is wrong" in err; cfg is then empty.
 */
int config_parse(struct config *cfg, const char *name, const char *text, size_t len, char *err,
		 size_t errlen);

void config_free(struct config *cfg);

/*
 * Adds one line (NUL-terminated and writable; blank lines and comments add
 * nothing), with config_parse()'s checks against the lines before it; cfg is
 * left unsorted. 0, or -1 with "NAME:LINE: ..." in err and cfg as it was.
 */
int config_parse_line(struct config *cfg, unsigned int line, char *text, char *err, size_t errlen);

/* Appends a copy of t (its ports held: a set of any configuration's). 0, or -1 when out of memory. */
int config_add(struct config *cfg, const struct config_target *t);

/* set as a line's ports: shared with cfg's lines that have the same; NULL when out of memory. */
const struct portset *config_ports(struct config *cfg, const struct portset *set);

/* Line i's ports made set. 0, or -1 when out of memory. */
int config_set_ports(struct config *cfg, int i, const struct portset *set);

/*
 * Lines in their canonical order: TCP before UDP, IPv4 before IPv6, then by
 * address; a target's line for every destination before its dst= lines.
 */
void config_sort(struct config *cfg);

/* The index of target addr's line for destination prefix dst (NULL: every one) in cfg, or -1. */
int config_find(const struct config *cfg, const struct sksteer_target *addr,
		const struct prefix *dst);

/* The canonical text of cfg, as --save prints it: a comment, then one line per target. */
void config_write(const struct config *cfg, FILE *f);

/*
 * The changes that turn have into want, one line each, grouped by target in
 * canonical order:
 *   + tcp 127.0.0.1:9002 7000-7099 fail-closed (new target)
 *   + tcp 127.0.0.1:9000 8100-8199        ports steered that were not
 *   ~ tcp 127.0.0.1:9000 443 (from 127.0.0.1:9001)   moved, one store each
 *   - tcp 127.0.0.1:9000 81               ports given back to the kernel
 *   - tcp 127.0.0.1:9001 5000-6000 (target removed)
 *   ~ tcp 127.0.0.1:9000 fail-closed (was fail-open)
 *   ~ tcp 127.0.0.1:9000 new socket (its socket is gone)
 *   ~ tcp 127.0.0.1:9000 new socket (another one listens there)
 *   ~ group monitoring (was none)   who may read the pins besides their owner
 * Both must be sorted. f may be NULL to count only. Returns the number of lines, or -1 when
 * out of memory.
 */
int config_diff(const struct config *have, const struct config *want, FILE *f);

#endif /* __SKSTEER_CONFIG_H */
