// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Who may read a namespace's pins: a group's name and number, its modes; see access.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "access.h"
#include "config.h"

#define GROUP_FILE "/etc/group"

/* A number that names a gid, all digits: 0 with *gid, or -1. */
static int gid_number(const char *s, gid_t *gid)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n >= (gid_t)-1)
		return -1;
	*gid = (gid_t)n;
	return 0;
}

/*
 * Walks /etc/group's "name:password:gid:members" lines for the one whose name
 * is name (or, with name NULL, whose gid is *gid): 0 with both set, or -1.
 */
static int group_line(const char *name, gid_t *gid, char *found, size_t len)
{
	char line[4096];
	FILE *f = fopen(GROUP_FILE, "re");
	int ret = -1;

	while (f && ret && fgets(line, sizeof(line), f)) {
		char *rest = line, *n = strsep(&rest, ":"), *num;
		gid_t g;

		strsep(&rest, ":"); /* the password, often empty */
		num = strsep(&rest, ":\n");
		if (!num || gid_number(num, &g) || !*n)
			continue;
		if (name ? !strcmp(n, name) : g == *gid) {
			*gid = g;
			snprintf(found, len, "%s", n);
			ret = 0;
		}
	}
	if (f)
		fclose(f);
	return ret;
}

int group_gid(const char *name, gid_t *gid)
{
	char found[256];

	if (!gid_number(name, gid) || !group_line(name, gid, found, sizeof(found)))
		return 0;
	return -ENOENT;
}

char *group_name(gid_t gid, char *buf, size_t len)
{
	if (!gid)
		snprintf(buf, len, "%s", "");
	/* a name a configuration could not take back is given as the number */
	else if (group_line(NULL, &gid, buf, len) || !config_group_valid(buf))
		snprintf(buf, len, "%u", (unsigned int)gid);
	return buf;
}

/* Every pin in the directory made mode, for group gid. 0, or -1 with errno. */
static int set_pins(const struct pins *p, gid_t gid, mode_t mode)
{
	struct dirent *de;
	int fd = dup(p->dir_fd), ret = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d); /* the offset is dir_fd's, wherever another reader left it */
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    (fchownat(p->dir_fd, de->d_name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) ||
		     fchmodat(p->dir_fd, de->d_name, mode, 0)))
			ret = -1;
	closedir(d);
	return ret;
}

/* dir's mode with add's bits too, if it lacks one. 0, or -1 with errno. */
static int add_mode(const char *dir, mode_t add)
{
	struct stat st;

	if (stat(dir, &st))
		return -1;
	return (st.st_mode & add) == add ? 0 : chmod(dir, (st.st_mode & 07777) | add);
}

/*
 * The way from bpffs's root to the pin directory, for the group: the root
 * passable by everyone (what 'chmod o+x' would make it: it stays unlistable,
 * and whatever lies below keeps its own modes), the directory of every
 * namespace's pins listed by the group (--all-netns) where no other group has
 * it, else passable. 0, or -1 with errno.
 */
static int open_way(const struct pins *p, gid_t gid)
{
	char base[PATH_MAX], *slash;
	struct stat st;

	snprintf(base, sizeof(base), "%s", p->dir);
	slash = strrchr(base, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (stat(base, &st))
		return -1;
	if (st.st_gid == getegid() || st.st_gid == gid) {
		if (chown(base, (uid_t)-1, gid) || add_mode(base, 0750))
			return -1;
	} else if (add_mode(base, 0001)) {
		return -1;
	}
	slash = strrchr(base, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return add_mode(base, 0011);
}

static int share_failed(const struct pins *p, gid_t gid, char *err, size_t errlen)
{
	char name[256];
	int e = errno;

	if (gid)
		snprintf(err, errlen, "cannot give group %s read access to %s: %s%s",
			 group_name(gid, name, sizeof(name)), p->dir, strerror(e),
			 e == EPERM ? ": giving pins to a group takes CAP_CHOWN (run sksteer as "
				      "root)" :
				      "");
	else
		snprintf(err, errlen, "cannot take the group's read access to %s back: %s", p->dir,
			 strerror(e));
	errno = e;
	return -1;
}

int pins_share(struct pins *p, gid_t gid, char *err, size_t errlen)
{
	if (!gid && !p->gid)
		return 0;
	if (gid) {
		/*
		 * The door shut while another group has it; the directory the group's,
		 * the pins, the way in, the door. Each time, for the same group too: a
		 * pin a failed chown or an older sksteer left its owner's is mended.
		 */
		if ((p->gid && p->gid != gid && fchmod(p->dir_fd, 0700)) ||
		    fchown(p->dir_fd, (uid_t)-1, gid) || set_pins(p, gid, 0640) ||
		    open_way(p, gid) || fchmod(p->dir_fd, 0710))
			return share_failed(p, gid, err, errlen);
	} else {
		/* the door first: a group member already in reads on, but opens nothing more */
		if (fchmod(p->dir_fd, 0700) || fchown(p->dir_fd, (uid_t)-1, getegid()) ||
		    set_pins(p, getegid(), 0600))
			return share_failed(p, gid, err, errlen);
	}
	p->gid = gid;
	return 0;
}
