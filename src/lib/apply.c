// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Changes against the live steering: plans, single changes, edits and detaching; see apply.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "access.h"
#include "apply.h"
#include "planning.h"
#include "scopes.h"
#include "clients.h"
#include "follow.h"
#include "print.h"
#include "program.h"
#include "stop.h"
#include "slots.h"
#include "sockets.h"
#include "view.h"

static const struct portset no_ports;

/* Prints the plan of a dry run. 1 if anything would change, 0 if not, -1 with err. */
static int print_plan(const struct config *have, const struct config *want, FILE *out, char *err,
		      size_t errlen)
{
	int lines = config_diff(have, want, out);

	if (lines < 0 || fflush(out)) {
		snprintf(err, errlen, "cannot print the changes: %s",
			 lines < 0 ? "out of memory" : strerror(errno));
		return -1;
	}
	return lines > 0;
}

/*
 * What one run changes, in the lifecycle every change goes through
 * (change()): a whole plan, or one target's change.
 */
struct step {
	const char *stop_point; /* the last point a signal stops it at: "before steering" */
	/* what the change needs known first (the UDP client watcher loads for it); may be NULL */
	int (*prepare)(struct live *l, struct step *s, char *err, size_t errlen);
	/* the targets' maps changed, once the program and the maps are in place */
	int (*apply)(struct live *l, struct step *s, char *err, size_t errlen);
	/* the follow options set, once the program runs */
	int (*follow)(struct live *l, struct step *s, char *err, size_t errlen);
	const struct change *c; /* the changes, for the UDP client watcher's warnings */
	int n;
	void *ctx;
};

/* --verbose: the kernel's share of a change, which grows with what changed, not with the whole */
static void updates_print(const struct live_updates *u)
{
	pr_debug(
		"kernel updates %zu: port table bytes %zu, bindings table stores %zu (whole tables "
		"switched %zu), other map entries %zu",
		u->keys + u->bindings + u->tables + u->entries, u->keys, u->bindings, u->tables,
		u->entries);
}

/*
 * The lifecycle: the program loaded against the pins (and swapped in first
 * where an upgrade's maps need it), the step's change made on the maps,
 * then the program attached (a first run) or swapped in, the follow options
 * set and the follower and the UDP client watcher brought in step. A run
 * that leaves nothing to steer removes the program and the pins, as
 * --detach. 0, or -1 with err.
 */

static int change(struct live *l, struct step *s, char *err, size_t errlen)
{
	struct sksteer_bpf *skel;
	int ret = -1, only;

	if (l->pins.live && l->fds[MAP_PORTS] < 0 && live_open(l, err, errlen))
		return -1;
	l->updates = (struct live_updates){};
	skel = program_load(l, false, err, errlen);
	if (!skel)
		return -1;
	/* loading changed nothing that runs: the last point to stop at with nothing changed */
	if (stop_check(s->stop_point, err, errlen))
		goto out;
	/* an upgraded program runs before the maps change in ways only it can read */
	if (l->pins.live && layout_upgraded(&l->layout) && program_sync(l, skel, err, errlen))
		goto out;
	/* a first run (planned against an empty state): now the maps program_load() made */
	if (!l->pins.live) {
		live_unmap(l);
		l->table_copied = false; /* live_read() maps the table */
		if (live_read(l, err, errlen))
			goto out;
	}
	if ((s->prepare && s->prepare(l, s, err, errlen)) || clients_start(l, err, errlen) ||
	    s->apply(l, s, err, errlen))
		goto out;
	if (!live_count(l, &only)) {
		/* nothing left to steer: as --detach, the program goes and the pins with it */
		pins_remove(&l->pins);
		ret = 0;
	} else if (l->pins.live) {
		ret = program_sync(l, skel, err, errlen);
	} else {
		ret = program_attach(l, skel, err, errlen);
	}
	/* the follow options, then the follower in step with every target */
	if (!ret && l->pins.live)
		ret = s->follow(l, s, err, errlen);
	if (!ret && l->pins.live)
		ret = follow_sync(l, err, errlen);
	if (!ret && live_count(l, &only))
		clients_done(l, s->c, s->n);
	if (!ret)
		updates_print(&l->updates);
out:
	program_free(skel);
	return ret;
}

static int plan_set(struct live *l, struct step *s, char *err, size_t errlen)
{
	const struct plan *p = s->ctx;

	return p->n ? live_apply_set(l, p->c, p->socks, p->n, err, errlen) : 0;
}

/* each line's follow options */
static int plan_follow(struct live *l, struct step *s, char *err, size_t errlen)
{
	const struct config *want = &((const struct plan *)s->ctx)->want;
	int ret = 0;

	/* sorted: a target's lines side by side, with the same options */
	for (int i = 0; !ret && i < want->n; i++)
		if (!i || !target_equal(&want->t[i].addr, &want->t[i - 1].addr))
			ret = follow_set(l, &want->t[i].addr, follow_mode(&want->t[i]),
					 want->t[i].follow_cgroup, err, errlen);
	return ret;
}

/*
 * A dry apply's start: the live state read again into private copies the apply may write
 * (l->dry), and whether bindings change in place decided as program_load() decides. 0; 1
 * where it would not count exactly (nothing steered yet, pins an upgrade changes: the apply
 * loads the program and makes maps); -1 with err.
 */
static int dry_begin(struct live *l, char *err, size_t errlen)
{
	if (!l->pins.live || layout_from(&l->layout) || layout_upgraded(&l->layout) ||
	    layout_pinned(&l->layout) != SKSTEER_LAYOUT)
		return 1;
	/* a map older pins lack is made and pinned by the apply's load */
	for (int m = 0; m < NR_MAPS; m++)
		if (l->fds[m] < 0 && !MAP_LEGACY(m))
			return 1;
	l->dry = true;
	l->updates = (struct live_updates){};
	memset(&l->dry_flags, 0, sizeof(l->dry_flags));
	if (live_read(l, err, errlen))
		return -1;
	program_dry_load(l);
	return 0;
}

/* Its end: the counts into *u, and the live state read again as the handle's reader had it. */
static int dry_end(struct live *l, struct live_updates *u, char *err, size_t errlen)
{
	*u = l->updates;
	l->updates = (struct live_updates){};
	l->dry = false;
	l->program_current = false;
	clients_dry_end(&l->clients);
	memset(&l->dry_flags, 0, sizeof(l->dry_flags));
	return live_read(l, err, errlen);
}

/*
 * change() made dry (l->dry, live.h): the step's change on a copy of the state, each write
 * counted and none made; the program's load, attach and sync, the follower's maps and the
 * UDP client watcher's program left alone (they write no counted entry where the pins are
 * current).
 * The counts into *u; 0, 1 where they would not be exact, -1 with err.
 */
static int dry_change(struct live *l, struct step *s, struct live_updates *u, char *err,
		      size_t errlen)
{
	int ret = dry_begin(l, err, errlen), only;
	char ignored[256] = "";

	if (ret > 0)
		return 1;
	if (!ret && s->prepare && s->prepare(l, s, err, errlen))
		ret = -1;
	if (!ret && (clients_start(l, err, errlen) || s->apply(l, s, err, errlen)))
		ret = -1;
	if (!ret && live_count(l, &only) &&
	    (s->follow(l, s, err, errlen) || follow_sync(l, err, errlen)))
		ret = -1;
	/* the watcher in step (clients_done()); its warnings are the plan's to give */
	if (!ret && live_count(l, &only))
		clients_sync(l, ignored, sizeof(ignored));
	/* the state as it was read, for the handle's next reader, whatever the dry apply did */
	if (dry_end(l, u, ret ? ignored : err, ret ? sizeof(ignored) : errlen))
		ret = -1;
	return ret;
}

int plan_dry_count(struct live *l, const struct plan *p, struct live_updates *u, char *err,
		   size_t errlen)
{
	struct step s = {
		.apply = plan_set,
		.follow = plan_follow,
		.c = p->c,
		.n = p->n,
		.ctx = (void *)p,
	};

	return p->nothing ? 1 : dry_change(l, &s, u, err, errlen);
}

int plan_apply(struct live *l, const struct plan *p, char *err, size_t errlen)
{
	struct step s = {
		.stop_point = "before applying",
		.apply = plan_set,
		.follow = plan_follow,
		.c = p->c,
		.n = p->n,
		.ctx = (void *)p,
	};
	gid_t was = l->pins.gid;
	char ignored[256];
	int ret;

	/* the group first: refused (no CAP_CHOWN), it leaves nothing changed */
	if (pins_share(&l->pins, p->gid, err, errlen))
		return -1;
	ret = change(l, &s, err, errlen);
	if (ret)
		pins_share(&l->pins, was, ignored, sizeof(ignored));
	return ret;
}

/* The target of a run without -s: the only one there is. NULL with err. */
static const struct sksteer_target *only_target(const struct live *l, char *err, size_t errlen)
{
	int only = 0, n = live_count(l, &only);

	if (n == 1)
		return &l->addrs[only];
	snprintf(err, errlen, "%s: name the target",
		 n ? "several targets are steered here" : "nothing is steered here yet");
	return NULL;
}

/* want = have with change c made (sock: the socket live_check() chose), sorted. */
static int config_change(const struct live *l, const struct config *have, const struct change *c,
			 const struct sock_info *sock, struct config *want)
{
	struct config_target t = { .addr = *c->target };
	int slot = live_find(l, c->target), i;

	memset(want, 0, sizeof(*want));
	memcpy(want->group, have->group, sizeof(want->group)); /* a change keeps who reads */
	for (i = 0; i < have->n; i++) {
		struct portset left;

		t = have->t[i];
		if (c->ports && c->force && t.addr.proto == c->target->proto && !t.dst.family &&
		    !target_equal(&t.addr, c->target)) {
			portset_andnot(t.ports, c->ports, &left); /* moved away */
			if (!(t.ports = config_ports(want, &left)))
				return -1;
		}
		if (!portset_empty(t.ports) && config_add(want, &t))
			return -1;
	}
	i = config_find(want, c->target, c->dst);
	if (i < 0) {
		t = (struct config_target){ .addr = *c->target,
					    .ports = config_ports(want, &no_ports) };
		if (c->dst)
			t.dst = *c->dst;
		if (!t.ports || config_add(want, &t))
			return -1;
		i = want->n - 1;
	}
	if (!want->t) /* config_add() made it: tells the analyzer so */
		return -1;
	if (c->ports && config_set_ports(want, i, c->ports))
		return -1;
	if (c->fail_closed == FAIL_CLOSED_ON)
		want->t[i].options |= CONFIG_FAIL_CLOSED;
	else if (c->fail_closed == FAIL_CLOSED_OFF)
		want->t[i].options &= ~CONFIG_FAIL_CLOSED;
	if (slot > 0 && sock->cookie && sock->cookie != live_cookie(l, slot))
		want->t[i].socket = live_cookie(l, slot) ? CONFIG_SOCKET_OTHER : CONFIG_SOCKET_GONE;
	config_sort(want);
	return 0;
}

int change_dry_run(struct live *l, const struct change *given, const struct portset *add,
		   const struct portset *remove, FILE *out, char *err, size_t errlen)
{
	struct config have = {}, want = {};
	struct change mine = *given, *c = &mine; /* c->ports may point at ports, below */
	struct portset ports;
	struct sock_info sock;
	int ret = -1;

	if (open_for_plan(l, err, errlen))
		return -1;
	if (!c->target && !(c->target = only_target(l, err, errlen)))
		return -1;
	if (add || remove) {
		if (ports_edit(l, c->target, c->dst, add, remove, &ports, err, errlen))
			return -1;
		c->ports = &ports;
	}
	clients_plan(l, c);
	if (live_check(l, c, false, false, &sock, err, errlen) ||
	    config_from_live(l, &have, err, errlen))
		return -1;
	if (config_change(l, &have, c, &sock, &want))
		snprintf(err, errlen, "out of memory");
	else
		ret = print_plan(&have, &want, out, err, errlen);
	config_free(&have);
	config_free(&want);
	return ret;
}

/* One target's change: what change_run() was asked. */
struct one {
	struct change *c;
	const struct portset *add, *remove;
	struct portset ports; /* the target's ports, edited */
	int follow;
	const char *cgroup;
};

/* the target (the only one, if none is named), its ports edited, the UDP client rule planned */
static int one_prepare(struct live *l, struct step *s, char *err, size_t errlen)
{
	struct one *o = s->ctx;
	struct change *c = o->c;

	if (!c->target && !(c->target = only_target(l, err, errlen)))
		return -1;
	/* --add, --remove: the ports the target has, edited */
	if (o->add || o->remove) {
		if (ports_edit(l, c->target, c->dst, o->add, o->remove, &o->ports, err, errlen))
			return -1;
		c->ports = &o->ports;
	}
	clients_plan(l, c);
	return 0;
}

static int one_apply(struct live *l, struct step *s, char *err, size_t errlen)
{
	return live_apply(l, ((struct one *)s->ctx)->c, err, errlen);
}

/* the follow mode asked for, if any */
static int one_follow(struct live *l, struct step *s, char *err, size_t errlen)
{
	const struct one *o = s->ctx;

	return follow_set(l, o->c->target, o->follow, o->cgroup, err, errlen);
}

int change_run(struct live *l, struct change *c, const struct portset *add,
	       const struct portset *remove, int follow, const char *cgroup, char *err,
	       size_t errlen)
{
	struct one o = { .c = c, .add = add, .remove = remove, .follow = follow, .cgroup = cgroup };
	struct step s = {
		.stop_point = "before steering",
		.prepare = one_prepare,
		.apply = one_apply,
		.follow = one_follow,
		.c = c,
		.n = 1,
		.ctx = &o,
	};
	int ret = change(l, &s, err, errlen);

	if (c->ports == &o.ports)
		c->ports = NULL;
	return ret;
}

int change_dry_count(struct live *l, const struct change *given, const struct portset *add,
		     const struct portset *remove, int follow, const char *cgroup,
		     struct live_updates *u, char *err, size_t errlen)
{
	struct change mine = *given;
	struct one o = {
		.c = &mine, .add = add, .remove = remove, .follow = follow, .cgroup = cgroup
	};
	struct step s = {
		.prepare = one_prepare,
		.apply = one_apply,
		.follow = one_follow,
		.c = &mine,
		.n = 1,
		.ctx = &o,
	};

	return dry_change(l, &s, u, err, errlen);
}

int detach_run(struct live *l, const struct sksteer_target *t, const struct prefix *dst, char *err,
	       size_t errlen)
{
	char name[TARGET_STRLEN];
	int slot;

	if (!t)
		return pins_remove(&l->pins) ? -1 : 0;
	if (l->fds[MAP_PORTS] < 0 && live_open(l, err, errlen))
		return -1;
	slot = live_find(l, t);
	if (slot < 0) {
		snprintf(err, errlen, "%s is not a target in this namespace",
			 format_target(t, name, sizeof(name)));
		errno = ENOENT;
		return -1;
	}
	if (dst ? live_remove_scope(l, slot, dst, err, errlen) : live_remove(l, slot, err, errlen))
		return -1;
	if (!live_count(l, &slot))
		pins_remove(&l->pins);
	else if (follow_update(l, NULL, FOLLOW_KEEP, NULL, err, errlen))
		return -1;
	else
		clients_done(l, NULL, 0);
	return 0;
}

int ports_edit(const struct live *l, const struct sksteer_target *t, const struct prefix *dst,
	       const struct portset *add, const struct portset *remove, struct portset *out,
	       char *err, size_t errlen)
{
	int slot = live_find(l, t), scope = scope_find(l, dst);
	char name[TARGET_STRLEN], list[128], where[PREFIX_STRLEN + 16] = "";
	struct portset odd;

	memset(out, 0, sizeof(*out));
	format_target(t, name, sizeof(name));
	if (dst && dst->family) {
		strcpy(where, " for dst ");
		format_prefix(dst, where + 9, sizeof(where) - 9);
	}
	if (slot > 0 && scope >= 0)
		live_scope_ports(l, slot, scope, out);
	if (add && remove && portset_and(add, remove, &odd)) {
		format_ports(&odd, list, sizeof(list));
		snprintf(err, errlen, "ports %s are both added and removed: give each once", list);
		return -1;
	}
	if (remove && slot < 0) {
		snprintf(err, errlen, "%s is not a target in this namespace: nothing to remove",
			 name);
		return -1;
	}
	if (remove) {
		portset_andnot(remove, out, &odd);
		if (!portset_empty(&odd)) {
			format_ports(&odd, list, sizeof(list));
			snprintf(err, errlen,
				 "port%s %s %s not steered to %s%s: nothing to remove there (see "
				 "the status)",
				 portset_count(&odd) > 1 ? "s" : "", list,
				 portset_count(&odd) > 1 ? "are" : "is", name, where);
			return -1;
		}
		portset_andnot(out, remove, out);
	}
	if (add)
		portset_or(out, add);
	if (portset_empty(out) && where[0]) {
		snprintf(err, errlen,
			 "that leaves %s without ports%s: to stop steering to it there, detach %s "
			 "from dst %s",
			 name, where, name, where + 9);
		return -1;
	}
	if (portset_empty(out)) {
		snprintf(err, errlen,
			 "that leaves %s without ports: to stop steering to it, detach %s", name,
			 name);
		return -1;
	}
	return 0;
}
