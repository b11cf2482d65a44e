// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pins' map layout, and a migration's progress to this build's: see layout.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "layout.h"
#include "live.h"

/*
 * Which layout the pins have: from is 2 or 3 for older ones
 * (migrated when the run changes anything), 0 for layout 4 (whose port table
 * and prefixes are ours: only the UDP client rule's map is new) and ours.
 */
int layout_read(struct live *l, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	uint32_t zero = 0, v = 0;
	__u32 len = sizeof(info);

	l->layout.from = 0;
	l->layout.pinned = 0;
	if (l->fds[MAP_LAYOUT] >= 0 && !bpf_map_lookup_elem(l->fds[MAP_LAYOUT], &zero, &v) &&
	    v > SKSTEER_LAYOUT) {
		snprintf(
			err, errlen,
			"the steering pinned in %s comes from a newer sksteer (map layout %u; this "
			"one knows up to %u): use that sksteer, or detach all steering here and "
			"apply the configuration again",
			l->pins.dir, v, SKSTEER_LAYOUT);
		return -1;
	}
	if (bpf_obj_get_info_by_fd(l->fds[MAP_PORTS], &info, &len)) {
		snprintf(err, errlen, "cannot read the pinned port table: %s", strerror(errno));
		return -1;
	}
	/*
	 * Layout 3 differs only in the maps scoped bindings add, layout 4 in the
	 * UDP client rule's: made, and the program swapped (program_load()).
	 */
	if (v >= 3 && info.value_size == 8 && info.max_entries == SKSTEER_PORT_ELEMS) {
		l->layout.from = v == 3 ? 3 : 0;
		l->layout.pinned = v;
		return 0;
	}
	if (l->fds[MAP_LAYOUT] < 0 && info.value_size == 1 &&
	    info.max_entries == SKSTEER_PORT_KEYS) {
		l->layout.from = 2;
		return 0;
	}
	snprintf(err, errlen,
		 "the steering pinned in %s has a map layout this sksteer does not know (map "
		 "'ports' differs): use the sksteer that made it, or detach all steering here and "
		 "apply the configuration again",
		 l->pins.dir);
	return -1;
}
