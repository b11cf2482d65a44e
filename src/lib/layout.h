/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map layout of the pins: which one they have, read when they are opened
 * (src/lib/layout.c), and a migration's progress from an older one to this
 * build's (program_load() and program_sync() move it on, src/lib/program.c).
 */
#ifndef __SKSTEER_LAYOUT_H
#define __SKSTEER_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

struct live;

struct layout {
	/*
	 * Pins of an older layout (2), which program_load() migrates; then
	 * migrated, until program_sync() has swapped the program and re-pinned.
	 * (These two first: live.h's transitional names for them overlay them.)
	 */
	bool migrated;
	bool maps_added; /* maps older pins lacked were made: the live program must change */
	int from; /* 2 or 3: the older layout the pins have; 0: layout 4 or this build's */
	unsigned int pinned; /* the layout map's value; 0 before layout 3 */
};

/* Reads which layout the pins in l have, into l->layout. 0, or -1 with err: one it does not know. */
int layout_read(struct live *l, char *err, size_t errlen);

/* 2 or 3 for pins of an older layout, not migrated yet; 0 for layout 4 and this build's. */
static inline int layout_from(const struct layout *lo)
{
	return lo->from;
}

/* The layout map's value; 0 before layout 3. */
static inline unsigned int layout_pinned(const struct layout *lo)
{
	return lo->pinned;
}

/* Whether the maps were migrated and the program that reads them is not in the link yet. */
static inline bool layout_migrated(const struct layout *lo)
{
	return lo->migrated;
}

/* Whether maps older live pins lacked were made: the live program, which lacks them, must change. */
static inline bool layout_maps_added(const struct layout *lo)
{
	return lo->maps_added;
}

/*
 * Whether this run's program must run before the maps change: they were migrated, or maps
 * older pins lacked were made (which the live program does not read).
 */
static inline bool layout_upgraded(const struct layout *lo)
{
	return lo->migrated || lo->maps_added;
}

/* The maps are migrated to this build's layout, until program_sync() commits it. */
static inline void layout_migrate(struct layout *lo)
{
	lo->from = 0;
	lo->migrated = true;
}

/* The migrated layout is pinned and its program runs. */
static inline void layout_commit(struct layout *lo)
{
	lo->migrated = false;
}

/* A map older live pins lacked was made. */
static inline void layout_add_map(struct layout *lo)
{
	lo->maps_added = true;
}

#endif /* __SKSTEER_LAYOUT_H */
