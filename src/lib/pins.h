/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned state of one network namespace: a directory in bpffs named after
 * the namespace, holding the netns link and the maps. Whoever holds its lock
 * may change it.
 */
#ifndef __SKSTEER_PINS_H
#define __SKSTEER_PINS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The maps, by the names they have in sksteer.bpf.c and in the pin directory. */
enum pinned_map {
	MAP_PORTS,
	MAP_TARGETS,
	MAP_STATS,
	MAP_TARGET_ADDRS,
	MAP_TRACER,
	MAP_TARGET_INFO, /* added in 0.2: created when older pins lack it */
	MAP_TARGET_FLAGS, /* added in 0.2 */
	MAP_STATS_EXT, /* added in 0.2 */
	MAP_UDP_CLIENTS, /* added in 0.3 */
	MAP_LAYOUT, /* added with layout 3: pins without it have layout 2 */
	MAP_STANDBY, /* added with --follow (src/lib/follow.c) */
	MAP_ROUTES, /* added with layout 3 */
	MAP_SCOPES, /* added with layout 4: slot 0, scope table 0 (pinned as scope_0) */
	MAP_PREFIXES, /* layouts 4 and 5 only: read to migrate them */
	MAP_PREFIX_LIST, /* layouts 4 and 5 only */
	MAP_UDP_REPLIES, /* added with layout 5: slot 0, the UDP client watcher's table */
	MAP_TABLES4, /* added with layout 6: the bindings table (bindings_abi.h) */
	MAP_TABLES6, /* added with layout 6 */
	MAP_TABLE_RANGES, /* added with layout 6 */
	MAP_TABLE_METAS, /* added with layout 6 */
	MAP_TABLE_SEL, /* added with layout 6 */
	NR_MAPS
};
/*
 * Maps that pins of an older sksteer may lack (0.1 had the ones before): made
 * when missing. (Layout 2 also pinned the trace ring buffer, "events".)
 */
#define MAP_OPTIONAL(m) ((m) >= MAP_TARGET_INFO)
/*
 * Maps of older layouts that this build's program lacks: opened when pinned,
 * to migrate what they hold, never made; unpinned once migrated.
 */
#define MAP_LEGACY(m) ((m) == MAP_PREFIXES || (m) == MAP_PREFIX_LIST)
extern const char *const pinned_map_names[NR_MAPS];

enum pins_mode {
	PINS_READ, /* look only: shared lock, read-only map fds, nothing mounted or cleared */
	PINS_CHANGE, /* change what is there: exclusive lock */
	PINS_CREATE, /* and create it, mounting bpffs if needed */
};

struct pins {
	char dir[PATH_MAX];
	int dir_fd; /* open and flock()ed while we work */
	uint64_t netns_ino;
	enum pins_mode mode;
	bool live; /* a link is pinned and attached to the namespace: it is steered */
	bool stale; /* pins are there, but their link is gone or detached */
	bool created; /* made or emptied by this run: removed again if left empty */
	gid_t gid; /* the group that may read the pins too (access.h); 0: none */
	/*
	 * A group member's read: it may not take the lock (the directory is not
	 * its to open), so it waits for no writer to hold it, and reads.
	 */
	bool unlocked;
};

/*
 * Finds (with PINS_CREATE, mounting bpffs if needed) and locks the pin
 * directory of network namespace netns_ino. Returns 0; 1 when there is no
 * directory and mode is not PINS_CREATE; -1 with one line in err.
 */
int pins_open(struct pins *p, uint64_t netns_ino, enum pins_mode mode, char *err, size_t errlen);

/*
 * How long a run waits for another run's lock on the pin directory before it
 * gives up with one line (--wait SECONDS; PINS_LOCK_WAIT_S by default): no
 * run blocks for ever behind a run that hangs.
 */
#define PINS_LOCK_WAIT_S 10
extern __thread unsigned int pins_lock_wait_s; /* per thread: each handle sets its own */

/* flock(op) on the directory, for at most pins_lock_wait_s; 0, or -1 with one line in err. */
int pins_lock(struct pins *p, int op, char *err, size_t errlen);

/*
 * The directory of every namespace's pin directory (ROOT/sksteer) into buf: 0; 1 where no
 * bpffs is mounted (nothing is pinned); -1 with one line in err. Mounts nothing.
 */
int pins_base(char *buf, size_t len, char *err, size_t errlen);

/*
 * Removes the pin directories of namespaces that are gone (their links steer
 * nothing), as a first run's pins_open() does, but p's.
 */
void pins_sweep(const struct pins *p);

/* Unlocks; removes the directory again if this run created it and left it empty. */
void pins_close(struct pins *p);

/* dir/name into buf */
char *pin_path(const struct pins *p, const char *name, char *buf, size_t len);

/* Opens a pinned map, read-only in PINS_READ mode; -errno on failure. */
int pins_map_fd(const struct pins *p, enum pinned_map m);

/* As pins_map_fd(), for the pin called name. */
int pins_obj_fd(const struct pins *p, const char *name);

/* Pins fd as name, in place of what was (in one rename), root only. 0 or -errno. */
int pin_replace(const struct pins *p, int fd, const char *name);

/* Stops steering at once (detaches the link, even if a tracer holds it) and removes every pin. */
int pins_remove(struct pins *p);

/* Makes a pinned object its owner's alone, and readable by p's group if it has one. */
void pin_restrict(const struct pins *p, const char *name);

#endif /* __SKSTEER_PINS_H */
