// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The follower's lifecycle against the pins, and what it reports; see follow.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "build.h"
#include "cgroup.h"
#include "escape.h"
#include "find.h"
#include "follow.h"
#include "follow.skel.h"
#include "parse.h"

#define ADDRS_PIN "follow_addrs"
#define STATS_PIN "follow_stats"
#define EVENTS_PIN "follow_events"
#define LINK_PIN "follow" /* the instance on the hierarchy's root; "follow-INODE" on a cgroup */
#define BUILD_PIN "follow_build"
#define MAX_INSTANCES 16

/*
 * Which build's follower each link runs (build.h), pinned as "follow_build":
 * each instance's program, and the maps they all use. A run of the same build
 * that finds every link it needs running a recorded program loads none.
 */
_Static_assert(MAX_INSTANCES <= BUILD_LINKS, "a build record holds every instance");

static uint64_t this_build(void)
{
	static uint64_t id;

	return build_once(&id, follow_bpf__elf_bytes);
}

/* A record of this build's follower, with the maps every instance uses, to fill. */
static void build_follower(const struct live *l, int addrs, int stats, int events,
			   struct build_record *r)
{
	const int fds[] = { l->fds[MAP_TARGETS],
			    l->fds[MAP_TARGET_FLAGS],
			    l->fds[MAP_STANDBY],
			    l->fds[MAP_TRACER],
			    addrs,
			    stats,
			    events };

	build_start(r, this_build(), fds, sizeof(fds) / sizeof(fds[0]));
}

/*
 * A cgroup path that a configuration file can hold (--save writes it as a
 * word): no white space, no control byte, nothing that is no UTF-8. A
 * backslash is fine (systemd's names have \x2d); only it grows when escaped.
 */
static int cgroup_savable(const char *path, char *err, size_t errlen)
{
	size_t backslashes = 0;

	for (const char *c = path ? path : ""; *c; c++)
		backslashes += *c == '\\';
	if (!path ||
	    (!strpbrk(path, " \t") && esc_len(ESC_TEXT, path) == strlen(path) + backslashes))
		return 0;
	snprintf(err, errlen,
		 "follow_cgroup %s: the path holds white space, a control character or bytes "
		 "that are no UTF-8, which a configuration file cannot hold: give the cgroup a "
		 "plain name",
		 path);
	return -1;
}

/*
 * The cgroup path (absolute under the cgroup2 mount, or relative to the
 * hierarchy's root) as a directory fd, its inode (the instance's id) and its
 * path from the root ("/system.slice/x.service"). "/" or "" is the root: id 0.
 */
static int cgroup_resolve(const char *path, uint64_t *id, char *rel, size_t rellen, char *err,
			  size_t errlen)
{
	char root[PATH_MAX];
	const char *p = path ? path : "";
	size_t rootlen;
	struct stat st;
	int rfd = cgroup_root_open(root, sizeof(root)), fd;

	if (rfd < 0) {
		snprintf(err, errlen,
			 "follow needs the cgroup v2 hierarchy, and none is mounted here (no "
			 "cgroup2 in /proc/self/mountinfo): mount it (mount -t cgroup2 none "
			 "/sys/fs/cgroup/unified), or steer to TARGET anew after each restart of "
			 "the server (the sksteer-follow@ unit does)");
		return -1;
	}
	rootlen = strlen(root);
	if (!strncmp(p, root, rootlen) && (p[rootlen] == '/' || !p[rootlen]))
		p += rootlen;
	while (*p == '/')
		p++;
	snprintf(rel, rellen, "/%s", p);
	if (rel[1] && rel[strlen(rel) - 1] == '/')
		rel[strlen(rel) - 1] = '\0';
	if (!*p) {
		*id = 0;
		return rfd;
	}
	fd = openat(rfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(rfd);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen,
			 "follow_cgroup %s: %s in the cgroup v2 hierarchy at %s: give a cgroup "
			 "that exists (e.g. /system.slice/haproxy.service)",
			 path, strerror(errno), root);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*id = st.st_ino;
	return fd;
}

int follow_check(const struct pins *p, const struct sksteer_target *t, int mode, const char *cgroup,
		 char *err, size_t errlen)
{
	char name[TARGET_STRLEN], rel[128];
	struct follow_bpf *skel;
	bool runs;
	uint64_t id;
	int fd, ret;

	if (mode != FOLLOW_ON && mode != FOLLOW_GROUP)
		return 0;
	format_target(t, name, sizeof(name));
	if (t->proto != IPPROTO_TCP) {
		snprintf(err, errlen,
			 "follow %s: the kernel tells BPF of TCP listen() calls only, not of UDP "
			 "binds: after the server re-binds, steer to %s anew (the sksteer-follow@ "
			 "unit does on restarts)",
			 name, name);
		return -1;
	}
	/* a kernel that runs this build's follower on the root here needs no asking */
	runs = build_runs(p, BUILD_PIN, this_build(), LINK_PIN, 0);
	ret = runs ? 1 : libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SOCK_OPS, NULL);
	if (ret <= 0) {
		snprintf(err, errlen,
			 "follow: this kernel cannot run sock_ops programs (%s): steer to %s anew "
			 "after each restart of the server instead",
			 ret ? strerror(-ret) : "not supported", name);
		return -1;
	}
	fd = cgroup_savable(cgroup, err, errlen) ?
		     -1 :
		     cgroup_resolve(cgroup, &id, rel, sizeof(rel), err, errlen);
	if (fd < 0)
		return -1;
	close(fd);
	/* the verifier's word before anything changes: a trial load, with maps of its own */
	skel = runs ? NULL : follow_bpf__open_and_load();
	if (!runs && !skel) {
		snprintf(err, errlen,
			 "follow: the kernel refused the follower program (%s; the debug messages "
			 "have the verifier log): steer to %s anew after each restart of the "
			 "server instead",
			 strerror(errno), name);
		return -1;
	}
	follow_bpf__destroy(skel);
	if (strlen(rel) >= sizeof(((struct sksteer_follow *)0)->cgroup_path)) {
		snprintf(err, errlen, "follow_cgroup %s: the path is too long (127 bytes at most)",
			 cgroup);
		return -1;
	}
	return 0;
}

static int pin_fd(const struct live *l, const char *name, bool rdonly)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = rdonly ? BPF_F_RDONLY : 0);
	char path[PATH_MAX];

	return bpf_obj_get_opts(pin_path(&l->pins, name, path, sizeof(path)), &opts);
}

/* Detaches and unpins every follower link not in keep (NULL: all), and with maps, the maps. */
static void unpin(struct live *l, const char *const *keep, int nkeep, bool maps)
{
	struct dirent *de;
	int fd = dup(l->pins.dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (d)
		rewinddir(d); /* the offset is shared with dir_fd: others may have read it */
	while (d && (de = readdir(d))) {
		bool kept = false;
		int link;

		if (strncmp(de->d_name, LINK_PIN, strlen(LINK_PIN)))
			continue;
		if (!strcmp(de->d_name, ADDRS_PIN) || !strcmp(de->d_name, STATS_PIN) ||
		    !strcmp(de->d_name, EVENTS_PIN) || !strcmp(de->d_name, BUILD_PIN)) {
			if (maps)
				unlinkat(l->pins.dir_fd, de->d_name, 0);
			continue;
		}
		for (int i = 0; i < nkeep; i++)
			kept |= !strcmp(keep[i], de->d_name);
		if (kept)
			continue;
		link = pin_fd(l, de->d_name, false);
		if (link >= 0) {
			bpf_link_detach(link);
			close(link);
		}
		unlinkat(l->pins.dir_fd, de->d_name, 0);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
}

/* Loads one instance against the maps; its maps are new where fds[] has -1. */
static struct follow_bpf *load_instance(struct live *l, uint64_t cgroup_id, int addrs_fd,
					int stats_fd, int events_fd, char *err, size_t errlen)
{
	struct follow_bpf *skel = follow_bpf__open();
	int ret;

	if (!skel) {
		snprintf(err, errlen, "cannot open the follower program: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->netns_ino = (uint32_t)l->pins.netns_ino;
	skel->rodata->cgroup_id = cgroup_id;
	ret = bpf_map__reuse_fd(skel->maps.targets, l->fds[MAP_TARGETS]);
	if (!ret)
		ret = bpf_map__reuse_fd(skel->maps.target_flags, l->fds[MAP_TARGET_FLAGS]);
	if (!ret)
		ret = bpf_map__reuse_fd(skel->maps.standby, l->fds[MAP_STANDBY]);
	if (!ret && events_fd >= 0)
		ret = bpf_map__reuse_fd(skel->maps.follow_events, events_fd);
	if (!ret)
		ret = bpf_map__reuse_fd(skel->maps.tracer, l->fds[MAP_TRACER]);
	if (!ret && addrs_fd >= 0)
		ret = bpf_map__reuse_fd(skel->maps.follow_addrs, addrs_fd);
	if (!ret && stats_fd >= 0)
		ret = bpf_map__reuse_fd(skel->maps.follow_stats, stats_fd);
	if (!ret)
		ret = follow_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen,
			 "the kernel refused the follower program: %s (run with -v for the "
			 "verifier log)",
			 strerror(-ret));
		follow_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int pin_new(struct live *l, int fd, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (bpf_obj_pin(fd, pin_path(&l->pins, name, path, sizeof(path)))) {
		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
		return -1;
	}
	pin_restrict(&l->pins, name);
	return 0;
}

/* The instance's link, swapped to prog, or made: attached to the cgroup and pinned. */
static int attach_instance(struct live *l, int prog_fd, uint64_t id, const char *rel,
			   const char *name, char *err, size_t errlen)
{
	char cgerr[256], relbuf[128];
	uint64_t got;
	int link = pin_fd(l, name, false), cg, ret = 0;

	if (link >= 0) {
		if (bpf_link_update(link, prog_fd, NULL))
			ret = -errno;
		close(link);
		if (!ret)
			return 0;
		/* its cgroup went away (the link is defunct): attach anew */
		unlinkat(l->pins.dir_fd, name, 0);
	}
	cg = cgroup_resolve(rel, &got, relbuf, sizeof(relbuf), cgerr, sizeof(cgerr));
	if (cg < 0 || got != id) {
		if (cg >= 0)
			close(cg);
		snprintf(err, errlen,
			 "the cgroup %s is gone, or was made anew: follow with cgroup %s again",
			 rel, rel);
		return -1;
	}
	link = bpf_link_create(prog_fd, cg, BPF_CGROUP_SOCK_OPS, NULL);
	close(cg);
	if (link < 0) {
		snprintf(err, errlen, "cannot attach the follower to the cgroup %s: %s", rel,
			 strerror(errno));
		return -1;
	}
	ret = pin_new(l, link, name, err, errlen);
	close(link);
	return ret;
}

/* The cgroups follow_set() gave targets, until follow_sync() records them. */
static __thread struct {
	bool set;
	uint64_t id;
	char rel[128];
} pending[SKSTEER_SLOTS];

int follow_set(struct live *l, const struct sksteer_target *t, int mode, const char *cgroup,
	       char *err, size_t errlen)
{
	int slot = live_find(l, t);
	uint32_t key32 = (uint32_t)slot, flags;

	if (slot <= 0 || mode == FOLLOW_KEEP || l->fds[MAP_TARGET_FLAGS] < 0)
		return 0;
	flags = live_flags(l, slot) & ~(SKSTEER_FOLLOW | SKSTEER_FOLLOW_GROUP);
	if (mode == FOLLOW_ON)
		flags |= SKSTEER_FOLLOW;
	else if (mode == FOLLOW_GROUP)
		flags |= SKSTEER_FOLLOW | SKSTEER_FOLLOW_GROUP;
	if (mode != FOLLOW_OFF) {
		int fd = cgroup_savable(cgroup, err, errlen) ?
				 -1 :
				 cgroup_resolve(cgroup, &pending[slot].id, pending[slot].rel,
						sizeof(pending[slot].rel), err, errlen);

		if (fd < 0)
			return -1;
		close(fd);
		pending[slot].set = true;
	}
	if (live_update(l, MAP_TARGET_FLAGS, &key32, &flags)) {
		snprintf(err, errlen, "cannot set the flags of the target: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int follow_update(struct live *l, const struct sksteer_target *t, int mode, const char *cgroup,
		  char *err, size_t errlen)
{
	if (t && follow_set(l, t, mode, cgroup, err, errlen))
		return -1;
	return follow_sync(l, err, errlen);
}

/*
 * A following target's standby: its current socket, when it has none, so that
 * a sibling that takes over and then closes hands the connections back. The
 * socket is put there from inside the kernel as the target's own is
 * (src/lib/find.c). Best effort: without a standby, following works as before.
 */
static void standby_fill(struct live *l, int slot)
{
	uint64_t cookie = live_cookie(l, slot), have;
	uint32_t key = (uint32_t)slot;
	struct sock_list socks;
	char ignored[256];

	if (!cookie || !bpf_map_lookup_elem(l->fds[MAP_STANDBY], &key, &have) ||
	    sockets_dump(l->addrs[slot].proto, &socks))
		return;
	for (size_t i = 0; i < socks.n; i++)
		if (socks.socks[i].cookie == cookie)
			target_install(l->fds[MAP_STANDBY], key, &socks.socks[i], ignored,
				       sizeof(ignored));
	sock_list_free(&socks);
}

/*
 * The follower's maps: pinned, or made by loading the root's instance (into
 * *first, which the caller destroys) and pinned. 0, or -1 with err.
 */
static int pin_maps(struct live *l, struct follow_bpf **first, int *addrs, int *stats, int *events,
		    char *err, size_t errlen)
{
	*addrs = pin_fd(l, ADDRS_PIN, false);
	*stats = pin_fd(l, STATS_PIN, false);
	*events = pin_fd(l, EVENTS_PIN, false);
	if (*addrs >= 0 && *stats >= 0 && *events >= 0)
		return 0;
	*first = load_instance(l, 0, *addrs, *stats, *events, err, errlen);
	if (!*first)
		return -1;
	if (*events < 0) {
		*events = dup(bpf_map__fd((*first)->maps.follow_events));
		if (pin_new(l, *events, EVENTS_PIN, err, errlen))
			return -1;
	}
	if (*addrs < 0) {
		*addrs = dup(bpf_map__fd((*first)->maps.follow_addrs));
		if (pin_new(l, *addrs, ADDRS_PIN, err, errlen))
			return -1;
	}
	if (*stats < 0) {
		*stats = dup(bpf_map__fd((*first)->maps.follow_stats));
		if (pin_new(l, *stats, STATS_PIN, err, errlen))
			return -1;
	}
	return 0;
}

int follow_sync(struct live *l, char *err, size_t errlen)
{
	struct {
		uint64_t id;
		char rel[128];
		char name[40];
	} inst[MAX_INSTANCES] = {};
	const char *keep[MAX_INSTANCES];
	int ninst = 1, nfollow = 0, addrs_fd, stats_fd, events_fd, ret = -1;
	struct follow_bpf *first = NULL;
	struct sksteer_target key, next;
	struct build_record had, now;

	if (l->fds[MAP_TARGET_FLAGS] < 0 || l->fds[MAP_STANDBY] < 0)
		return 0; /* older pins that this run did not change: nothing follows */
	for (int s = 1; s < SKSTEER_SLOTS; s++) {
		uint32_t key = (uint32_t)s;

		if (l->addrs[s].proto && (live_flags(l, s) & SKSTEER_FOLLOW))
			nfollow++;
		else /* a sockmap answers EINVAL for an empty slot */
			live_delete(l, MAP_STANDBY, &key);
	}
	/* a dry apply counts those deletes; the follower's maps, programs and cgroups are not its */
	if (!nfollow || l->dry) {
		if (l->dry)
			memset(pending, 0, sizeof(pending));
		else
			unpin(l, NULL, 0, true);
		return 0;
	}

	if (pin_maps(l, &first, &addrs_fd, &stats_fd, &events_fd, err, errlen))
		goto out;

	/* entries of targets that no longer follow (or are gone) go */
	for (int more = !bpf_map_get_next_key(addrs_fd, NULL, &key); more; key = next) {
		struct sksteer_follow f;
		int s;

		more = !bpf_map_get_next_key(addrs_fd, &key, &next);
		s = bpf_map_lookup_elem(addrs_fd, &key, &f) ? -1 : (int)f.slot;
		if (s <= 0 || s >= SKSTEER_SLOTS || !l->addrs[s].proto ||
		    !target_equal(&l->addrs[s], &key) || !(live_flags(l, s) & SKSTEER_FOLLOW))
			bpf_map_delete_elem(addrs_fd, &key);
	}
	/* every following target: its slot, the uid its socket has, its cgroup */
	snprintf(inst[0].name, sizeof(inst[0].name), LINK_PIN);
	snprintf(inst[0].rel, sizeof(inst[0].rel), "/");
	for (int s = 1; s < SKSTEER_SLOTS; s++) {
		struct sksteer_follow f = {}, old;
		struct sksteer_target_info info;
		bool had;
		int i;

		if (!l->addrs[s].proto || !(live_flags(l, s) & SKSTEER_FOLLOW))
			continue;
		had = !bpf_map_lookup_elem(addrs_fd, &l->addrs[s], &old) && old.slot == (uint32_t)s;
		f.slot = (uint32_t)s;
		if (had) {
			f.cgroup = old.cgroup;
			f.taken_cookie = old.taken_cookie;
			memcpy(f.cgroup_path, old.cgroup_path, sizeof(f.cgroup_path));
		}
		if (pending[s].set) {
			f.cgroup = pending[s].id;
			snprintf(f.cgroup_path, sizeof(f.cgroup_path), "%s",
				 pending[s].id ? pending[s].rel : "");
			pending[s].set = false;
		}
		if (live_info(l, s, &info) || !(info.flags & SKSTEER_INFO_UID)) {
			char name[TARGET_STRLEN];

			snprintf(err, errlen,
				 "target %s: the owner of its socket is not recorded, so no socket "
				 "could be entitled to take over: steer to %s anew once",
				 format_target(&l->addrs[s], name, sizeof(name)), name);
			goto out;
		}
		f.uid = info.uid;
		if (!had) {
			struct sksteer_follow_stats zero = {};
			uint32_t k = (uint32_t)s;

			bpf_map_update_elem(stats_fd, &k, &zero, BPF_ANY);
		}
		standby_fill(l, s);
		if (bpf_map_update_elem(addrs_fd, &l->addrs[s], &f, BPF_ANY)) {
			snprintf(err, errlen, "cannot record what follows: %s", strerror(errno));
			goto out;
		}
		for (i = 0; i < ninst && inst[i].id != f.cgroup; i++)
			;
		if (i == ninst && ninst < MAX_INSTANCES) {
			inst[i].id = f.cgroup;
			snprintf(inst[i].rel, sizeof(inst[i].rel), "%s", f.cgroup_path);
			snprintf(inst[i].name, sizeof(inst[i].name), LINK_PIN "-%llu",
				 (unsigned long long)f.cgroup);
			ninst++;
		}
	}
	/*
	 * One instance per cgroup, and always one on the root: it counts refusals.
	 * Each is loaded unless its link runs what this build recorded, with the
	 * maps it has now; the record is rewritten last, with what runs then.
	 */
	build_follower(l, addrs_fd, stats_fd, events_fd, &now);
	if (build_read(&l->pins, BUILD_PIN, &had) || !build_same(&now, &had))
		had.nlinks = 0;
	for (int i = 0; i < ninst; i++) {
		struct follow_bpf *skel = first;

		keep[i] = inst[i].name;
		if (build_link_current(&l->pins, &had, inst[i].name, inst[i].id)) {
			build_note(&l->pins, &now, inst[i].name, inst[i].id);
			continue;
		}
		if (i || !first)
			skel = load_instance(l, inst[i].id, addrs_fd, stats_fd, events_fd, err,
					     errlen);
		if (!skel)
			goto out;
		ret = attach_instance(l, bpf_program__fd(skel->progs.sksteer_follow), inst[i].id,
				      inst[i].rel, inst[i].name, err, errlen);
		if (skel != first)
			follow_bpf__destroy(skel);
		if (ret)
			goto out;
		build_note(&l->pins, &now, inst[i].name, inst[i].id);
	}
	unpin(l, keep, ninst, false);
	build_write(&l->pins, BUILD_PIN, &now);
	ret = 0;
out:
	follow_bpf__destroy(first);
	if (addrs_fd >= 0)
		close(addrs_fd);
	if (stats_fd >= 0)
		close(stats_fd);
	if (events_fd >= 0)
		close(events_fd);
	return ret ? -1 : 0;
}

void follow_info(const struct live *l, int slot, struct follow_info *out)
{
	uint32_t flags = live_flags(l, slot), key = (uint32_t)slot;
	struct sksteer_follow f;
	int fd;

	memset(out, 0, sizeof(*out));
	out->mode = !(flags & SKSTEER_FOLLOW)	 ? FOLLOW_OFF :
		    flags & SKSTEER_FOLLOW_GROUP ? FOLLOW_GROUP :
						   FOLLOW_ON;
	if (out->mode == FOLLOW_OFF)
		return;
	fd = pin_fd(l, ADDRS_PIN, true);
	if (fd >= 0 && !bpf_map_lookup_elem(fd, &l->addrs[slot], &f) && f.slot == key) {
		snprintf(out->cgroup, sizeof(out->cgroup), "%s", f.cgroup_path);
		out->uid = f.uid;
	}
	if (fd >= 0)
		close(fd);
	fd = pin_fd(l, STATS_PIN, true);
	if (fd >= 0)
		bpf_map_lookup_elem(fd, &key, &out->stats);
	if (fd >= 0)
		close(fd);
	out->attached = !fstatat(l->pins.dir_fd, LINK_PIN, &(struct stat){}, 0);
	if (l->fds[MAP_STANDBY] >= 0 &&
	    !bpf_map_lookup_elem(l->fds[MAP_STANDBY], &key, &out->standby))
		out->standby_serves = !live_cookie(l, slot);
}

int follow_events_fd(const struct live *l)
{
	/* read-write: a ring buffer's reader writes its consumer position */
	return pin_fd(l, EVENTS_PIN, false);
}
