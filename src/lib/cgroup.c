// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Finding the cgroup v2 hierarchy; see cgroup.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include "cgroup.h"
#include "bpffs.h"
#include "pins.h"

/*
 * The mount point of cgroup2 in the mountinfo at path. A mount of the
 * hierarchy's root ("/" in field 4) beats a bind mount of a subtree, which
 * would cover only part of the processes.
 */
static bool cgroup2_mount(const char *mountinfo, char *mnt, size_t len)
{
	char line[4096], root[PATH_MAX], point[PATH_MAX], type[64];
	bool found = false;
	FILE *f = fopen(mountinfo, "re");

	while (f && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTS */
		const char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %4095s %4095s", root, point) != 2 ||
		    sscanf(dash, " - %63s", type) != 1 || strcmp(type, "cgroup2"))
			continue;
		/* mountinfo escapes blanks as \040: such a mount point is not one we can use */
		if (strchr(point, '\\'))
			continue;
		if (!found || !strcmp(root, "/")) {
			snprintf(mnt, len, "%s", point);
			found = true;
			if (!strcmp(root, "/"))
				break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

int cgroup_root_open(char *path, size_t len)
{
	char mnt[PATH_MAX], info[64];
	pid_t outer;

	if (cgroup2_mount("/proc/self/mountinfo", mnt, sizeof(mnt))) {
		snprintf(path, len, "%s", mnt);
		return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	/* under `ip netns exec` the hierarchy is mounted where ip was run from */
	outer = ip_netns_exec_outer();
	snprintf(info, sizeof(info), "/proc/%d/mountinfo", outer);
	if (outer > 0 && cgroup2_mount(info, mnt, sizeof(mnt))) {
		snprintf(path, len, "/proc/%d/root%s", outer, mnt);
		return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	errno = ENOENT;
	return -1;
}
