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
#include "ns.h"
#include "print.h"
#include "status.h"

struct sksteer_status {
	int ntargets;
	struct sksteer_target_status *targets;
	struct sksteer_counters totals;
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

static int target(const struct target_status *t, struct sksteer_target_status *out)
{
	format_target(&t->addr, out->target, sizeof(out->target));
	out->proto = t->addr.proto;
	out->family = t->addr.family;
	out->ports = strdup(t->ports ? t->ports : "");
	out->nports = t->nports;
	out->up = t->alive;
	out->fail_closed = t->fail_closed;
	out->socket_only = t->socket_only;
	out->follows = t->follow.mode != FOLLOW_OFF;
	out->cookie = t->alive ? t->cookie : 0;
	out->owner_pid = t->owner.pid;
	snprintf(out->owner_comm, sizeof(out->owner_comm), "%s", t->owner.comm);
	counters(&t->stats, &t->ext, true, &out->counters);
	out->scoped = calloc((size_t)t->ndst + 1, sizeof(*out->scoped));
	if (!out->ports || !out->scoped)
		return -ENOMEM;
	for (int d = 0; d < t->ndst; d++) {
		format_prefix(&t->dst[d].dst, out->scoped[d].dst, sizeof(out->scoped[d].dst));
		out->scoped[d].nports = t->dst[d].nports;
		out->scoped[d].ports = strdup(t->dst[d].ports ? t->dst[d].ports : "");
		if (!out->scoped[d].ports)
			return -ENOMEM;
		out->nscoped++;
	}
	return 0;
}

int sksteer_ns__status(struct sksteer_ns *ns, struct sksteer_status **out)
{
	struct sksteer_status *st = calloc(1, sizeof(*st));
	struct status *raw = calloc(1, sizeof(*raw));
	struct ns_call call;
	char err[1024] = "";
	int ret = -ENOMEM;

	*out = NULL;
	if (!st || !raw)
		goto fail;
	if (ns->l.pins.live) {
		ns_begin(ns, &call, false, err, sizeof(err));
		ret = status_collect(&ns->l, raw, err, sizeof(err)) ? ns_errno() : 0;
		ns_end(&call);
		if (ret)
			goto fail;
	}
	ret = -ENOMEM;
	st->targets = calloc((size_t)raw->ntargets + 1, sizeof(*st->targets));
	if (!st->targets)
		goto fail;
	for (int i = 0; i < raw->ntargets; i++) {
		st->ntargets++;
		if (target(&raw->targets[i], &st->targets[i]))
			goto fail;
	}
	counters(&raw->totals, &raw->totals_ext, false, &st->totals);
	status_free(raw);
	free(raw);
	*out = st;
	return 0;
fail:
	if (raw)
		status_free(raw);
	free(raw);
	sksteer_status__free(st);
	return lib_error(ret, err[0] ? err : "out of memory");
}

int sksteer_status__targets(const struct sksteer_status *st)
{
	return st->ntargets;
}

const struct sksteer_target_status *sksteer_status__target(const struct sksteer_status *st, int i)
{
	return i >= 0 && i < st->ntargets ? &st->targets[i] : NULL;
}

const struct sksteer_counters *sksteer_status__totals(const struct sksteer_status *st)
{
	return &st->totals;
}

void sksteer_status__free(struct sksteer_status *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->ntargets; i++) {
		free(st->targets[i].ports);
		for (int d = 0; st->targets[i].scoped && d < st->targets[i].nscoped; d++)
			free(st->targets[i].scoped[d].ports);
		free(st->targets[i].scoped);
	}
	free(st->targets);
	free(st);
}
