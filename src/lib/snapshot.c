// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The public status snapshot (struct sksteer_status): what a namespace
 * steers and how its lookups went, as data, from status.c's collection.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "access.h"
#include "applied.h"
#include "ns.h"
#include "print.h"
#include "status.h"

struct sksteer_status {
	struct sksteer_ns_status ns;
	char pin_dir[PATH_MAX];
	char group[64];
	struct apply_record applied;
	int ntargets;
	struct sksteer_target_status *targets;
};

/* A target's passed lookups are the UDP replies it left to client sockets. */
static void counters(const struct sksteer_stats *s, const struct sksteer_stats_ext *ext,
		     bool target, struct sksteer_counters *out)
{
	*out = (struct sksteer_counters){
		.steered = s->steered,
		.passed = target ? 0 : s->passed,
		.no_target = s->no_target,
		.refused = ext->refused,
		.preempted = ext->preempted,
		.to_clients = target ? s->passed : 0,
		.err_family = s->err_family,
		.err_proto = s->err_proto,
		.err_state = s->err_state,
		.err_other = s->err_other,
	};
}

static void follow(const struct follow_info *fi, struct sksteer_follow_status *out)
{
	*out = (struct sksteer_follow_status){
		.on = fi->mode != FOLLOW_OFF,
		.group = fi->mode == FOLLOW_GROUP,
		.attached = fi->attached,
		.uid = fi->uid,
		.takeovers = fi->stats.followed,
		.refused_uid = fi->stats.refused_uid,
		.refused_cgroup = fi->stats.refused_cgroup,
		.errors = fi->stats.errors,
		.last_refused_uid = fi->stats.last_refused_uid,
		.standby = fi->standby,
		.standby_serves = fi->standby_serves,
	};
	snprintf(out->cgroup, sizeof(out->cgroup), "%s", fi->cgroup);
}

/* Ports the target was given but does not own, and the reverse (--check). */
static int drift(const struct live *l, int slot, struct sksteer_target_status *out)
{
	struct portset wanted, owned, lost, extra;

	if (live_wanted(l, slot, &wanted))
		return 0; /* pinned by an older sksteer: nothing recorded to compare with */
	live_ports(l, slot, &owned);
	portset_andnot(&wanted, &owned, &lost);
	portset_andnot(&owned, &wanted, &extra);
	out->nlost = portset_count(&lost);
	out->nextra = portset_count(&extra);
	out->lost_ports = ports_text(&lost);
	out->extra_ports = ports_text(&extra);
	return out->lost_ports && out->extra_ports ? 0 : -ENOMEM;
}

/* A prefix's line of the status: its ports, or (lost) those the port table does not mark. */
static int scoped(const struct dst_ports *d, bool lost, struct sksteer_scoped *out)
{
	const char *ports = lost ? d->lost : d->ports;

	format_prefix(&d->dst, out->dst, sizeof(out->dst));
	out->nports = lost ? d->nlost : d->nports;
	out->ports = strdup(ports ? ports : "");
	return out->ports ? 0 : -ENOMEM;
}

/* The target's prefixes (lost: those with ports the port table does not mark, --check). */
static int scoped_all(const struct target_status *t, bool lost, struct sksteer_scoped **out, int *n)
{
	int want = 0;

	for (int d = 0; d < t->ndst; d++)
		want += !lost || t->dst[d].nlost;
	*out = calloc((size_t)want + 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (int d = 0; d < t->ndst; d++) {
		if (lost && !t->dst[d].nlost)
			continue;
		if (scoped(&t->dst[d], lost, &(*out)[(*n)++]))
			return -ENOMEM; /* counted: freed with the rest */
	}
	return 0;
}

static int target(const struct live *l, const struct target_status *t,
		  struct sksteer_target_status *out)
{
	format_target(&t->addr, out->target, sizeof(out->target));
	out->proto = t->addr.proto;
	out->family = t->addr.family;
	out->port = t->addr.port;
	out->ports = strdup(t->ports ? t->ports : "");
	out->nports = t->nports;
	out->up = t->alive;
	out->fail_closed = t->fail_closed;
	out->socket_only = t->socket_only;
	out->clients_from = t->clients_from;
	out->cookie = t->cookie;
	out->owner_pid = t->owner.pid;
	memcpy(out->owner_comm, t->owner.comm, sizeof(out->owner_comm));
	counters(&t->stats, &t->ext, true, &out->counters);
	follow(&t->follow, &out->follow);
	if (!out->ports)
		return -ENOMEM;
	return scoped_all(t, false, &out->scoped, &out->nscoped)		  ?:
		       scoped_all(t, true, &out->scoped_lost, &out->nscoped_lost) ?:
		       drift(l, t->slot, out);
}

static int namespace(const struct status *raw, struct sksteer_status *st)
{
	struct sksteer_ns_status *ns = &st->ns;

	ns->steering = true;
	counters(&raw->totals, &raw->totals_ext, false, &ns->totals);
	ns->events_lost = raw->totals.events_lost;
	ns->prog_id = raw->prog_id;
	ns->link_id = raw->link_id;
	memcpy(ns->prog_name, raw->prog_name, sizeof(ns->prog_name));
	memcpy(ns->prog_tag, raw->prog_tag, sizeof(ns->prog_tag));
	ns->tracer_pid = (int)raw->tracer;
	ns->others_unknown = raw->others_unknown;
	ns->others = calloc((size_t)raw->nothers + 1, sizeof(*ns->others));
	if (!ns->others)
		return -ENOMEM;
	for (int i = 0; i < raw->nothers; i++) {
		ns->others[i].link_id = raw->others[i].link_id;
		ns->others[i].prog_id = raw->others[i].prog_id;
		ns->others[i].before = raw->others[i].before;
		memcpy(ns->others[i].name, raw->others[i].name, sizeof(ns->others[i].name));
	}
	ns->nothers = raw->nothers;
	ns->udp_watching = raw->clients.watching;
	ns->udp_awaited = raw->clients.awaited;
	ns->udp_awaited_max = SKSTEER_UDP_AWAITED;
	ns->udp_awaited_per_user = SKSTEER_UDP_PER_UID;
	ns->udp_unrecorded_full = raw->clients.full;
	ns->udp_unrecorded_over_budget = raw->clients.over_budget;
	return 0;
}

static int collect(struct sksteer_ns *ns, struct sksteer_status *st, char *err, size_t errlen)
{
	struct status *raw = calloc(1, sizeof(*raw));
	int ret = -ENOMEM;

	if (!raw)
		return -ENOMEM;
	if ((ns->l.fds[MAP_PORTS] < 0 && live_open(&ns->l, err, errlen)) ||
	    status_collect(&ns->l, raw,
			   (ns->brief || ns->outside ? 0 : STATUS_OWNERS) |
				   (ns->brief ? 0 : STATUS_OTHERS),
			   err, errlen)) {
		status_free(raw);
		free(raw);
		return ns_errno();
	}
	st->targets = calloc((size_t)raw->ntargets + 1, sizeof(*st->targets));
	if (!st->targets)
		goto out;
	for (int i = 0; i < raw->ntargets; i++) {
		st->ntargets++;
		if (target(&ns->l, &raw->targets[i], &st->targets[i]))
			goto out;
	}
	ret = namespace(raw, st);
out:
	status_free(raw);
	free(raw);
	return ret;
}

/* The pinned record of the last apply, where there is one */
static void last_apply(struct sksteer_ns *ns, struct sksteer_status *st)
{
	struct sksteer_ns_status *n = &st->ns;

	n->last_apply_error = st->applied.error;
	if (applied_read(&ns->l.pins, &st->applied)) {
		memset(&st->applied, 0, sizeof(st->applied));
		return;
	}
	n->last_apply_ns = st->applied.at_ns;
	n->last_apply_ok_ns = st->applied.ok_at_ns;
	n->last_apply_result = st->applied.result;
	n->applies = st->applied.applied;
	n->apply_failures = st->applied.failed;
}

int sksteer_ns__status(struct sksteer_ns *ns, struct sksteer_status **out)
{
	struct sksteer_status *st = calloc(1, sizeof(*st));
	struct ns_call call;
	char err[1024] = "";
	int ret = 0;

	*out = NULL;
	if (!st)
		return lib_error(-ENOMEM, "out of memory");
	st->ns.netns = sksteer_ns__inode(ns);
	snprintf(st->pin_dir, sizeof(st->pin_dir), "%s", ns->l.pins.dir);
	st->ns.pin_dir = st->pin_dir;
	st->ns.stale = ns->l.pins.stale;
	st->ns.group = group_name(ns->l.pins.gid, st->group, sizeof(st->group));
	last_apply(ns, st);
	if (ns->l.pins.live) {
		/* inside, sock_diag finds the owners of the targets' sockets */
		ns_begin(ns, &call, ns->brief ? NS_STAY : NS_TRY, err, sizeof(err));
		ret = collect(ns, st, err, sizeof(err));
		ns_end(&call);
	}
	if (ret) {
		sksteer_status__free(st);
		return lib_error(ret, err[0] ? err : "out of memory");
	}
	*out = st;
	return 0;
}

const struct sksteer_ns_status *sksteer_status__ns(const struct sksteer_status *st)
{
	return &st->ns;
}

int sksteer_status__targets(const struct sksteer_status *st)
{
	return st->ntargets;
}

const struct sksteer_target_status *sksteer_status__target(const struct sksteer_status *st, int i)
{
	return i >= 0 && i < st->ntargets ? &st->targets[i] : NULL;
}

void sksteer_status__free(struct sksteer_status *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->ntargets; i++) {
		struct sksteer_target_status *t = &st->targets[i];

		free(t->ports);
		for (int d = 0; t->scoped && d < t->nscoped; d++)
			free(t->scoped[d].ports);
		for (int d = 0; t->scoped_lost && d < t->nscoped_lost; d++)
			free(t->scoped_lost[d].ports);
		free(t->scoped_lost);
		free(t->scoped);
		free(t->lost_ports);
		free(t->extra_ports);
	}
	free(st->targets);
	free(st->ns.others);
	free(st);
}
