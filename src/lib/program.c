// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The lookup program's lifecycle: load against the pins, attach, swap; see program.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "build.h"
#include "layout.h"
#include "live.h"
#include "slots.h"
#include "program.h"
#include "routes.h"
#include "sksteer.skel.h"
#include "view.h"

static struct bpf_map *skel_map(struct sksteer_bpf *skel, enum pinned_map m)
{
	return bpf_object__find_map_by_name(skel->obj, pinned_map_names[m]);
}

/*
 * The record that the link runs this build's program (build.h), pinned as
 * "build": the program, and the pinned maps (in enum pinned_map's order).
 */
#define BUILD_PIN "build"
_Static_assert(NR_MAPS <= BUILD_MAPS, "a build record holds every pinned map");

/* This build's lookup program: its BPF object, which holds the maps' definitions and the layout */
static uint64_t this_build(void)
{
	static uint64_t id;

	return build_once(&id, sksteer_bpf__elf_bytes);
}

/*
 * Whether the pins run this build's program with the maps pinned now, as a
 * run of this build recorded, with nothing for program_sync() to do: the
 * layout is this build's, no map is missing, no tracer is recorded (a live
 * one holds the link; a dead one's program must go), and neither the link's
 * program nor any pin changed since. Asks the kernel for ids only.
 */
static bool pins_current(struct live *l)
{
	struct build_record now, had;
	struct sksteer_tracer t;

	if (!l->pins.live || (l->pins.mode == PINS_READ && !l->dry) || layout_from(&l->layout) ||
	    layout_pinned(&l->layout) != SKSTEER_LAYOUT || layout_upgraded(&l->layout))
		return false;
	for (int m = 0; m < NR_MAPS; m++)
		if (l->fds[m] < 0 && !MAP_LEGACY(m))
			return false;
	if (live_tracer(l, &t))
		return false;
	build_start(&now, this_build(), l->fds, NR_MAPS);
	return !build_read(&l->pins, BUILD_PIN, &had) && build_same(&now, &had) &&
	       build_link_current(&l->pins, &had, "link", 0);
}

/* Records that the link runs this build's program (once it does), with the maps in l->fds. */
static void record_build(struct live *l)
{
	struct build_record now;

	build_start(&now, this_build(), l->fds, NR_MAPS);
	build_note(&l->pins, &now, "link", 0);
	build_write(&l->pins, BUILD_PIN, &now);
}

/*
 * What program_load() returns when the pins run this build's program: it
 * stands for that program, and nothing was loaded (no kernel BTF parsed, no
 * verifier run). program_sync() has nothing to swap for it.
 */
static struct sksteer_bpf pinned_program;

/* A pinned map this build cannot use as it is means the map layout changed. */
static int reuse_map(struct live *l, struct bpf_map *map, int fd, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != bpf_map__type(map) ||
	    info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map) ||
	    info.map_flags != bpf_map__map_flags(map)) {
		snprintf(err, errlen,
			 "the steering pinned in %s comes from an incompatible sksteer version "
			 "(map '%s' differs): detach all steering here, then apply the "
			 "configuration again",
			 l->pins.dir, bpf_map__name(map));
		return -1;
	}
	return bpf_map__reuse_fd(map, fd);
}

static int pin_map(struct live *l, int m, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (bpf_obj_pin(l->fds[m], pin_path(&l->pins, pinned_map_names[m], path, sizeof(path)))) {
		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
		return -1;
	}
	pin_restrict(&l->pins, pinned_map_names[m]);
	return 0;
}

/*
 * Migration from layout 2, step 1 of 2: copies the live port table (one
 * element per key) into the new, packed one this load made, and works on the
 * new one from now on. The old one still steers until program_sync() swaps
 * the program.
 */
static int migrate_table(struct live *l, int old_fd, char *err, size_t errlen)
{
	volatile uint8_t *packed = mmap(NULL, SKSTEER_PORT_KEYS, PROT_READ | PROT_WRITE, MAP_SHARED,
					l->fds[MAP_PORTS], 0);

	if (packed == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the new port table: %s", strerror(errno));
		return -1;
	}
	/* layout 2's slots become routes of their own (routes_read() made them so) */
	if (routes_write_all(l)) {
		snprintf(err, errlen, "cannot write the routes: %s", strerror(errno));
		munmap((void *)packed, SKSTEER_PORT_KEYS);
		return -1;
	}
	for (size_t key = 0; key < SKSTEER_PORT_KEYS; key++)
		packed[key] = port_route(l, (uint32_t)key);
	live_take_table(l, packed);
	close(old_fd);
	layout_migrate(&l->layout);
	return 0;
}

/*
 * Migration, step 2 of 2, once the new program runs: the new maps replace the
 * old pins (rename(2) replaces a pin atomically), the old trace ring buffer
 * goes, and the layout is pinned last: a run cut short before it migrates
 * again, from the old table, which nothing changed.
 */
static int commit_layout(struct live *l, char *err, size_t errlen)
{
	static const enum pinned_map order[] = { MAP_PORTS, MAP_LAYOUT };
	char path[PATH_MAX], tmp[PATH_MAX];
	uint32_t zero = 0, layout = SKSTEER_LAYOUT;

	if (live_update(l, MAP_LAYOUT, &zero, &layout)) {
		snprintf(err, errlen, "cannot record the map layout: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *name = pinned_map_names[order[i]];

		/* bpffs takes no dots in names */
		snprintf(tmp, sizeof(tmp), "%s_new", pin_path(&l->pins, name, path, sizeof(path)));
		unlink(tmp);
		if (!bpf_obj_pin(l->fds[order[i]], tmp)) {
			/* its modes before it takes the name: a group reader never finds it closed */
			pin_restrict(&l->pins, strrchr(tmp, '/') + 1);
			if (!rename(tmp, path))
				continue;
		}
		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	unlinkat(l->pins.dir_fd, "events", 0);
	layout_commit(&l->layout);
	return 0;
}

/* A map this load made, which older pins lacked: pinned now, unless it waits for the migration. */
static int new_map(struct live *l, struct sksteer_bpf *skel, int m, char *err, size_t errlen)
{
	uint32_t zero = 0, layout = SKSTEER_LAYOUT;

	l->fds[m] = dup(bpf_map__fd(skel_map(skel, m)));
	if (m == MAP_LAYOUT)
		live_update(l, m, &zero, &layout);
	if (l->pins.live)
		layout_add_map(&l->layout);
	if (!l->pins.live || (layout_from(&l->layout) == 2 && (m == MAP_PORTS || m == MAP_LAYOUT)))
		return 0;
	return pin_map(l, m, err, errlen);
}

/*
 * Loads the program against the pinned maps (or new ones). Loading changes
 * nothing that runs: the live program changes only in program_attach() and
 * program_sync(). Pins of layout 2 get a new, packed port table here, filled
 * from the live one (see migrate_table()).
 */
static struct sksteer_bpf *load(struct live *l, bool trace, char *err, size_t errlen)
{
	struct sksteer_bpf *skel = sksteer_bpf__open();
	int ret, old_ports = -1;

	if (!skel) {
		snprintf(err, errlen, "cannot open the BPF program: %s", strerror(errno));
		return NULL;
	}
	/* the plain program, or the tracing instance of the same code */
	bpf_program__set_autoload(skel->progs.sksteer, !trace);
	bpf_program__set_autoload(skel->progs.sksteer_trace, trace);
	if (layout_from(&l->layout) == 2 && l->pins.mode != PINS_READ) {
		old_ports = l->fds[MAP_PORTS];
		l->fds[MAP_PORTS] = -1;
	}
	for (int m = 0; m < NR_MAPS; m++)
		if (l->fds[m] >= 0 && !MAP_LEGACY(m) &&
		    reuse_map(l, skel_map(skel, m), l->fds[m], err, errlen))
			goto fail;
	ret = sksteer_bpf__load(skel);
	if (ret) {
		snprintf(
			err, errlen,
			"the kernel refused the BPF program: %s (run with -v for the verifier log)",
			strerror(-ret));
		goto fail;
	}
	/* new maps: all of them on a first run, those that older pins lack on a later one */
	for (int m = 0; m < NR_MAPS; m++)
		if (l->fds[m] < 0 && !MAP_LEGACY(m) && new_map(l, skel, m, err, errlen))
			goto fail;
	if (old_ports >= 0 && migrate_table(l, old_ports, err, errlen))
		goto fail;
	/*
	 * Layouts 3 to 5: the maps they lacked are made; the new layout is pinned
	 * once the program runs (and, from 4, the UDP client watcher is replaced:
	 * clients_sync()). From 4 and 5, the prefixes' bindings go to the bindings
	 * table now, for the new program to find when it runs; their old maps go
	 * once it does (program_sync()).
	 */
	if ((layout_from(&l->layout) == 3 || layout_pinned(&l->layout) == 4 ||
	     layout_pinned(&l->layout) == 5) &&
	    l->pins.mode != PINS_READ) {
		layout_migrate(&l->layout);
		if (scopes_write(l, err, errlen))
			goto fail;
	}
	return skel;
fail:
	if (old_ports >= 0 && l->fds[MAP_PORTS] < 0)
		l->fds[MAP_PORTS] = old_ports; /* as it was */
	sksteer_bpf__destroy(skel);
	return NULL;
}

bool program_dry_load(struct live *l)
{
	return (l->program_current = pins_current(l));
}

struct sksteer_bpf *program_load(struct live *l, bool trace, char *err, size_t errlen)
{
	l->program_current = !trace && pins_current(l);
	if (l->program_current)
		return &pinned_program;
	return load(l, trace, err, errlen);
}

static int prog_tag(int prog_fd, __u8 tag[BPF_TAG_SIZE])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	memcpy(tag, info.tag, BPF_TAG_SIZE);
	return 0;
}

/* The tag of the program a pinned link runs. */
static int link_prog_tag(int link_fd, __u8 tag[BPF_TAG_SIZE])
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int prog_fd, ret;

	if (bpf_obj_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
	if (prog_fd < 0)
		return -errno;
	ret = prog_tag(prog_fd, tag);
	close(prog_fd);
	return ret;
}

/*
 * Steering is live: when the pinned link runs a program from another build,
 * or a tracing instance whose tracer died, swap ours in. The link update is
 * atomic, so steering never pauses. A live tracer's program is left alone.
 * Once ours runs, the pins record it, for the next run to find (pins_current()).
 */
int program_sync(struct live *l, struct sksteer_bpf *skel, char *err, size_t errlen)
{
	int prog_fd, link_fd, tracer, ret;
	__u8 live_tag[BPF_TAG_SIZE], our_tag[BPF_TAG_SIZE];
	bool same;
	struct sksteer_tracer t;
	char path[PATH_MAX];

	if (skel == &pinned_program)
		return 0; /* it runs there */
	prog_fd = bpf_program__fd(skel->progs.sksteer);
	tracer = live_tracer(l, &t);
	if (tracer == 1 && layout_migrated(&l->layout)) {
		snprintf(
			err, errlen,
			"pid %u is tracing this namespace, and upgrading its maps needs the tracing "
			"program out: stop the tracer, then run again",
			t.pid);
		return -1;
	}
	if (tracer == 1)
		return 0;
	link_fd = bpf_obj_get(pin_path(&l->pins, "link", path, sizeof(path)));
	if (link_fd < 0) {
		snprintf(err, errlen, "cannot open the pinned link %s: %s", path, strerror(errno));
		return -1;
	}
	ret = prog_tag(prog_fd, our_tag);
	/* reading the live program by id needs CAP_SYS_ADMIN: without it, ours goes in unasked */
	/* a program of the same tag may still use maps this run replaced */
	same = !ret && !tracer && !layout_maps_added(&l->layout) &&
	       !link_prog_tag(link_fd, live_tag) && !memcmp(live_tag, our_tag, BPF_TAG_SIZE);
	if (!ret && !same && bpf_link_update(link_fd, prog_fd, NULL))
		ret = -errno;
	if (!ret && tracer < 0)
		ret = live_set_tracer(l, 0);
	close(link_fd);
	if (ret) {
		snprintf(err, errlen, "cannot update the steering program: %s", strerror(-ret));
		return -1;
	}
	if (layout_migrated(&l->layout) &&
	    (commit_layout(l, err, errlen) || live_drop_empty(l, err, errlen)))
		return -1;
	store_drop_legacy(l); /* layout 4-5's prefix lists and tables, once ours runs */
	record_build(l);
	return 0;
}

/* First run in this namespace: attach, then pin the maps and, last, the link. */
int program_attach(struct live *l, struct sksteer_bpf *skel, char *err, size_t errlen)
{
	struct bpf_link *link;
	char path[PATH_MAX];
	int netns, ret = 0;

	if (skel == &pinned_program) { /* it stands for the program of live pins */
		snprintf(err, errlen, "the program runs in this namespace already");
		return -1;
	}
	netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns < 0) {
		snprintf(err, errlen, "cannot open this network namespace: %s", strerror(errno));
		return -1;
	}
	link = bpf_program__attach_netns(skel->progs.sksteer, netns);
	close(netns);
	if (!link) {
		snprintf(err, errlen, "cannot attach to this network namespace: %s",
			 strerror(errno));
		return -1;
	}
	for (int m = 0; m < NR_MAPS && !ret; m++)
		ret = MAP_LEGACY(m) ? 0 : pin_map(l, m, err, errlen);
	if (!ret && bpf_link__pin(link, pin_path(&l->pins, "link", path, sizeof(path)))) {
		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(errno));
		ret = -1;
	}
	if (ret) {
		pins_remove(&l->pins);
	} else {
		pin_restrict(&l->pins, "link");
		l->pins.live = true;
		record_build(l);
	}
	bpf_link__destroy(link); /* our reference only; the pin keeps it attached */
	return ret ? -1 : 0;
}

int program_trace_begin(struct live *l, struct tracing *t, char *err, size_t errlen)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	struct sksteer_tracer who;
	char path[PATH_MAX];

	memset(t, 0, sizeof(*t));
	t->link_fd = t->before_fd = -1;
	if (live_tracer(l, &who) == 1) {
		snprintf(err, errlen,
			 "pid %u is tracing this namespace already: one tracer at a time", who.pid);
		return -1;
	}
	/* a tracer that died left its program running: put a plain one back first */
	t->plain = load(l, false, err, errlen);
	if (!t->plain || program_sync(l, t->plain, err, errlen))
		goto fail;
	t->tracing = load(l, true, err, errlen);
	if (!t->tracing)
		goto fail;
	t->events_fd = bpf_map__fd(t->tracing->maps.events);
	t->link_fd = bpf_obj_get(pin_path(&l->pins, "link", path, sizeof(path)));
	if (t->link_fd < 0 || bpf_obj_get_info_by_fd(t->link_fd, &info, &len)) {
		snprintf(err, errlen, "cannot open the pinned link %s: %s", path, strerror(errno));
		goto fail;
	}
	/*
	 * What runs now goes back afterwards. Reading it by id needs CAP_SYS_ADMIN;
	 * without, this build's plain program, which program_sync() made the same.
	 */
	t->before_fd = bpf_prog_get_fd_by_id(info.prog_id);
	if (t->before_fd < 0)
		t->before_fd = dup(bpf_program__fd(t->plain->progs.sksteer));
	/* without it, nothing could be put back: never swap then */
	if (t->before_fd < 0) {
		snprintf(err, errlen, "cannot keep the running program to put back: %s",
			 strerror(errno));
		goto fail;
	}
	if (live_set_tracer(l, getpid()) ||
	    bpf_link_update(t->link_fd, bpf_program__fd(t->tracing->progs.sksteer_trace), NULL)) {
		snprintf(err, errlen, "cannot swap in the tracing program: %s", strerror(errno));
		live_set_tracer(l, 0);
		goto fail;
	}
	return 0;
fail:
	program_trace_end(l, t);
	return -1;
}

void program_trace_end(struct live *l, struct tracing *t)
{
	if (t->before_fd >= 0 && t->tracing) {
		bpf_link_update(t->link_fd, t->before_fd,
				NULL); /* fails only if detached meanwhile */
		live_set_tracer(l, 0);
	}
	program_trace_free(t);
}

void program_trace_free(struct tracing *t)
{
	if (t->before_fd >= 0)
		close(t->before_fd);
	if (t->link_fd >= 0)
		close(t->link_fd);
	sksteer_bpf__destroy(t->tracing);
	sksteer_bpf__destroy(t->plain);
	memset(t, 0, sizeof(*t));
	t->link_fd = t->before_fd = -1;
}

void program_free(struct sksteer_bpf *skel)
{
	if (skel != &pinned_program)
		sksteer_bpf__destroy(skel);
}
