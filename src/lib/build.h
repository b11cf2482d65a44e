/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which build's programs the pins run: records pinned next to them (one-element
 * arrays that only the loader reads), written once a build's programs run in
 * their links, so that a later run of the same build need not load and verify
 * them only to find them there. The kernel's ids of the objects (each link's
 * program, the maps the programs use) tell whether anything changed since: a
 * program swapped by a tracer or another build's run, a pin replaced.
 */
#ifndef __SKSTEER_BUILD_H
#define __SKSTEER_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pins.h"

#define BUILD_MAPS 24
#define BUILD_LINKS 16

struct build_record {
	uint64_t id; /* build_id() of the programs' object */
	uint32_t nmaps, nlinks;
	uint32_t map_ids[BUILD_MAPS]; /* the maps the programs use, in the caller's order */
	struct build_link {
		uint64_t instance; /* which of the caller's programs (instances differ in rodata) */
		uint64_t cgroup_id; /* a cgroup link's cgroup as the kernel names it; else 0 */
		uint32_t prog_id;
		uint32_t pad;
	} links[BUILD_LINKS];
};

/* A BPF object's build id: a hash of its bytes and of the libbpf that loads them. */
uint64_t build_id(const void *obj, size_t len);

/*
 * The build id of a skeleton's object (elf_bytes: its NAME__elf_bytes()), hashed
 * once into *cache: threads that race store the same value.
 */
uint64_t build_once(uint64_t *cache, const void *(*elf_bytes)(size_t *len));

/* A record of build id to fill, with the maps behind fds[0..n) (-1: none, id 0). */
void build_start(struct build_record *r, uint64_t id, const int *fds, int n);

/* Record name as pinned in p, into had: 0, or -1 if none (or not in this format) is. */
int build_read(const struct pins *p, const char *name, struct build_record *had);

/* Whether had is of now's build with now's maps (none replaced since). */
bool build_same(const struct build_record *now, const struct build_record *had);

/* Whether the link pinned as link runs the program had recorded for instance. */
bool build_link_current(const struct pins *p, const struct build_record *had, const char *link,
			uint64_t instance);

/*
 * Whether p (may be NULL, or not open) holds record name of build id, whose
 * program for instance runs in the link pinned as link: the maps are no part
 * of it (the kernel took that program there, which is all a trial load proves).
 */
bool build_runs(const struct pins *p, const char *name, uint64_t id, const char *link,
		uint64_t instance);

/* Notes in r the program that the link pinned as link runs now, for instance. */
void build_note(const struct pins *p, struct build_record *r, const char *link, uint64_t instance);

/*
 * Pins r as record name, a new map (pinned once whole) where none of its size
 * is. Best effort: without a record, the next run loads and checks its
 * programs, as every run did before records.
 */
void build_write(const struct pins *p, const char *name, const struct build_record *r);

#endif /* __SKSTEER_BUILD_H */
