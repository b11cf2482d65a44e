// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A configuration planned against the live steering: the live state read as
 * a configuration, every line checked as the run would check it (nothing
 * changed), the waiting for servers that bind late, and the plan's diff.
 * apply.c applies plans; see planning.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "access.h"
#include "follow.h"
#include "planning.h"
#include "sockets.h"
#include "stop.h"

#define WAIT_STEP_NS 100000000L

static const struct portset no_ports;

#define FOLLOW_OPTIONS (CONFIG_FOLLOW | CONFIG_FOLLOW_GROUP)

/* A line's follow options as follow_set() takes them. */
int follow_mode(const struct config_target *t)
{
	if (!(t->options & CONFIG_FOLLOW))
		return FOLLOW_OFF;
	return t->options & CONFIG_FOLLOW_GROUP ? FOLLOW_GROUP : FOLLOW_ON;
}

/* Target slot's follow options, as a line gives them. */
static void follow_options(const struct live *l, int slot, struct config_target *t)
{
	struct follow_info fi;

	follow_info(l, slot, &fi);
	if (fi.mode != FOLLOW_OFF)
		t->options |= CONFIG_FOLLOW | (fi.mode == FOLLOW_GROUP ? CONFIG_FOLLOW_GROUP : 0);
	snprintf(t->follow_cgroup, sizeof(t->follow_cgroup), "%s", fi.cgroup);
}

/* The live steering as a configuration, sorted. 0, or -1 with err. */
int config_from_live(const struct live *l, struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "live";
	group_name(l->pins.gid, cfg->group, sizeof(cfg->group));
	for (int slot = 1; slot < SKSTEER_RETIRED_SLOT; slot++) {
		struct config_target t = { .addr = l->addrs[slot] };
		struct portset ports;
		bool scoped = false;

		if (!t.addr.proto)
			continue;
		if (live_flags(l, slot) & SKSTEER_FAIL_CLOSED)
			t.options |= CONFIG_FAIL_CLOSED;
		follow_options(l, slot, &t);
		/* a line per prefix the target has ports for, and one for every destination */
		for (int scope = scopes_end(&l->scopes) - 1; scope >= 0; scope--) {
			if (scope && !live_scope_has(l, slot, scope))
				continue;
			live_scope_ports(l, slot, scope, &ports);
			t.dst = *scope_prefix(&l->scopes, scope);
			t.ports = config_ports(cfg, &ports);
			if (!t.ports ||
			    ((scope || !scoped || !portset_empty(&ports)) && config_add(cfg, &t))) {
				config_free(cfg);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			scoped |= scope > 0;
		}
	}
	config_sort(cfg);
	return 0;
}

/* The live state to plan against: read from the pins, or empty where there are none. */
int open_for_plan(struct live *l, char *err, size_t errlen)
{
	if (l->pins.live)
		return l->fds[MAP_PORTS] >= 0 ? 0 : live_open(l, err, errlen);
	return live_empty(l, err, errlen);
}

int live_config(struct live *l, struct config *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	return open_for_plan(l, err, errlen) || config_from_live(l, cfg, err, errlen) ? -1 : 0;
}

/* Whether a socket listens (TCP) or is bound (UDP) at every target's address. */
static bool all_listening(const struct config *cfg)
{
	struct sock_list socks[2] = {};
	bool all = !sockets_dump(IPPROTO_TCP, &socks[0]) && !sockets_dump(IPPROTO_UDP, &socks[1]);

	for (int i = 0; all && i < cfg->n; i++) {
		const struct sock_list *list = &socks[cfg->t[i].addr.proto == IPPROTO_UDP];

		all = false;
		for (size_t k = 0; !all && k < list->n; k++)
			all = sock_can_be_target(&list->socks[k], &cfg->t[i].addr);
	}
	sock_list_free(&socks[0]);
	sock_list_free(&socks[1]);
	return all;
}

static uint64_t now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
}

/*
 * --wait: a server that binds late (its unit "started" before it listens) is
 * waited for, up to secs, with the pin directory closed so that other runs and
 * --list go on meanwhile; then opened and read afresh, since those runs may
 * have made, changed or removed the pins. What is still missing then is
 * reported by the checks.
 */
static int wait_listening(struct live *l, const struct config *cfg, unsigned int secs, char *err,
			  size_t errlen)
{
	struct timespec step = { .tv_nsec = WAIT_STEP_NS };
	uint64_t deadline = now_ns() + (uint64_t)secs * 1000000000;
	enum pins_mode mode = l->pins.mode;
	uint64_t ino = l->pins.netns_ino;

	if (all_listening(cfg))
		return 0;
	pins_close(&l->pins);
	while (!all_listening(cfg) && now_ns() < deadline) {
		if (stop_check("while waiting for the targets to listen", err, errlen))
			return -1;
		nanosleep(&step, NULL);
	}
	return pins_open(&l->pins, ino, mode, err, errlen) < 0 ? -1 : 0;
}

/* Whether target slot's options are line t's: fail-closed, follow and its cgroup. */
static bool same_options(const struct live *l, int slot, const struct config_target *t)
{
	struct config_target follow = {};

	follow_options(l, slot, &follow);
	return !(live_flags(l, slot) & SKSTEER_FAIL_CLOSED) == !(t->options & CONFIG_FAIL_CLOSED) &&
	       (follow.options & FOLLOW_OPTIONS) == (t->options & FOLLOW_OPTIONS) &&
	       !strcmp(follow.follow_cgroup, t->follow_cgroup);
}

/*
 * What the live state has of target t, as a configuration line would give it.
 * *known: the slot whose options were last read (*same: whether they are t's),
 * so that a target's many lines read them once.
 */
static bool same_as_live(const struct live *l, int slot, const struct config_target *t, int *known,
			 bool *same)
{
	struct portset ports, recorded;
	int scope = scope_find(l, &t->dst);

	if (scope < 0)
		return false; /* a prefix that binds nothing yet */
	/*
	 * A run cut short after recording a target's ports (its own, or others'
	 * that --force took) and before the table changed leaves records that the
	 * table does not agree with: applying the target again records it afresh.
	 */
	if (!scope && !live_wanted(l, slot, &recorded) &&
	    memcmp(&recorded, t->ports, sizeof(recorded)))
		return false;
	live_scope_ports(l, slot, scope, &ports);
	if (memcmp(&ports, t->ports, sizeof(ports)))
		return false;
	if (*known != slot) {
		*known = slot;
		*same = same_options(l, slot, t);
	}
	return *same;
}

void plan_free(struct plan *p)
{
	free(p->c);
	free(p->socks);
	config_free(&p->have);
	config_free(&p->want);
	memset(p, 0, sizeof(*p));
}

/*
 * Checks every target of want against the live state, as the run would, and
 * collects the changes: targets that are new, whose ports, options or socket
 * change, and those the file leaves out. A target keeps its socket while it
 * lives, so applying a file twice changes nothing; when it is gone (the
 * server restarted), the one listening at its address now is taken. With
 * new_sockets, another socket at its address is taken even while its own
 * lives (a server that re-binds on reload, the old process still draining).
 * 0, or -1 with "FILE:LINE: ..." in err.
 */
static int check_lines(struct live *l, struct config *want, const struct config *have,
		       const struct apply_opts *o, struct plan *p, char *err, size_t errlen);

static int plan_changes(struct live *l, struct config *want, const struct config *have,
			const struct apply_opts *o, struct plan *p, char *err, size_t errlen)
{
	int ret;

	/* the sockets as they are now, dumped once for every line */
	sockets_hold();
	ret = check_lines(l, want, have, o, p, err, errlen);
	sockets_release();
	return ret;
}

static int check_lines(struct live *l, struct config *want, const struct config *have,
		       const struct apply_opts *o, struct plan *p, char *err, size_t errlen)
{
	char msg[768];
	int known = 0; /* same_as_live()'s */
	bool same = false;

	p->c = calloc((size_t)(want->n + have->n) + 1, sizeof(*p->c));
	p->socks = calloc((size_t)(want->n + have->n) + 1, sizeof(*p->socks));
	if (!p->c || !p->socks) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < want->n; i++) {
		struct config_target *w = &want->t[i];
		struct change c = {
			.target = &w->addr,
			.dst = &w->dst,
			.ports = w->ports,
			.fail_closed =
				w->options & CONFIG_FAIL_CLOSED ? FAIL_CLOSED_ON : FAIL_CLOSED_OFF,
			.force = o->force || (w->options & CONFIG_FORCE),
		};
		int slot = live_find(l, &w->addr);
		uint64_t cookie = slot > 0 ? live_cookie(l, slot) : 0;

		c.new_socket = !cookie || o->new_sockets;
		clients_plan(l, &c);
		if (live_check(l, &c, true, o->new_sockets, &p->socks[p->n], msg, sizeof(msg)) ||
		    follow_check(&l->pins, &w->addr, follow_mode(w), w->follow_cgroup, msg,
				 sizeof(msg))) {
			snprintf(err, errlen, "%s:%u: %s", want->name, w->line, msg);
			return -1;
		}
		if (slot > 0 && p->socks[p->n].cookie && p->socks[p->n].cookie != cookie)
			w->socket = cookie ? CONFIG_SOCKET_OTHER : CONFIG_SOCKET_GONE;
		if (slot < 0 || w->socket != CONFIG_SOCKET_KEEP ||
		    !same_as_live(l, slot, w, &known, &same))
			p->c[p->n++] = c;
	}
	for (int i = 0; i < have->n; i++) {
		if (config_find(want, &have->t[i].addr, &have->t[i].dst) >= 0)
			continue;
		p->c[p->n].target = &have->t[i].addr;
		p->c[p->n].dst = &have->t[i].dst;
		p->c[p->n++].ports = &no_ports;
	}
	return 0;
}

/* want's group by its number, and named as the live state names it. 0, or -1 with err. */
static int plan_group(struct config *want, gid_t *gid, char *err, size_t errlen)
{
	*gid = 0;
	if (!want->group[0])
		return 0;
	if (group_gid(want->group, gid)) {
		/* FILE:LINE where a file gave it; sksteer_config__set_group()'s has no line */
		int n = want->group_line ?
				snprintf(err, errlen, "%s:%u: ", want->name, want->group_line) :
				0;

		snprintf(err + n, errlen - (size_t)n,
			 "unknown group '%s' (not in /etc/group): create it ('groupadd %s'), or "
			 "give its number",
			 want->group, want->group);
		errno = ENOENT;
		return -1;
	}
	group_name(*gid, want->group, sizeof(want->group));
	return 0;
}

int plan_make(struct live *l, struct config *want, const struct apply_opts *o, struct plan *p,
	      char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->want = *want;
	memset(want, 0, sizeof(*want));
	config_sort(&p->want);
	if (plan_group(&p->want, &p->gid, err, errlen))
		return -1;
	if (!p->want.n && !l->pins.live) {
		p->want.group[0] = '\0'; /* no pins to give: in sync, as the apply finds it */
		p->gid = 0;
	}
	if (o->wait_s && wait_listening(l, &p->want, o->wait_s, err, errlen))
		return -1;
	if (!p->want.n && !l->pins.live && !o->dry_run) {
		p->nothing = true; /* nothing steered, nothing to steer: no pins made */
		return 0;
	}
	if (open_for_plan(l, err, errlen) || config_from_live(l, &p->have, err, errlen) ||
	    plan_changes(l, &p->want, &p->have, o, p, err, errlen))
		return -1;
	return 0;
}

int plan_diff(const struct plan *p, FILE *out)
{
	return p->nothing ? 0 : config_diff(&p->have, &p->want, out);
}
