// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Which targets and bindings --list shows: all of them, -s TARGET's, or those
 * that can serve an address in --dst PREFIX (tubectl bindings' rule: a prefix
 * inside PREFIX or around it, and every binding for every address).
 */
#include <stdio.h>
#include <string.h>
#include "show.h"

int list_view_make(const struct args *a, struct list_view *v)
{
	char err[128];

	*v = (struct list_view){};
	if (a->steer.target_arg) {
		format_target(&a->steer.target, v->target, sizeof(v->target));
		v->by_target = true;
	}
	if (a->steer.dst_arg) {
		if (parse_prefix(a->steer.dst_arg, &v->dst, err, sizeof(err)))
			return -1; /* options.c checked it */
		v->by_dst = true;
	}
	return 0;
}

static bool overlaps(const struct prefix *a, const struct prefix *b)
{
	return prefix_covers(a, b) || prefix_covers(b, a);
}

bool list_view_dst(const struct list_view *v, const struct sksteer_scoped *s)
{
	struct prefix p;
	char err[128];

	if (!v->by_dst)
		return true;
	return !parse_prefix(s->dst, &p, err, sizeof(err)) && overlaps(&v->dst, &p);
}

/* An IPv6 target that may get IPv4 too: a dual-stack [::] socket, or an IPv4-mapped address. */
static bool takes_ipv4(const struct sksteer_target_status *t)
{
	const char *addr = strncmp(t->target, "udp:", 4) ? t->target : t->target + 4;

	return !strncmp(addr, "[::]:", 5) || !strncmp(addr, "[::ffff:", 8);
}

bool list_view_every_address(const struct list_view *v, const struct sksteer_target_status *t)
{
	if (v->by_dst)
		return t->nports && (t->family == v->dst.family || takes_ipv4(t));
	/* a target bound for prefixes only has no line for every address */
	return t->nports || !t->nscoped;
}

bool list_view_target(const struct list_view *v, const struct sksteer_target_status *t)
{
	if (v->by_target && strcmp(v->target, t->target))
		return false;
	if (!v->by_dst || list_view_every_address(v, t))
		return true;
	for (int d = 0; d < t->nscoped; d++)
		if (list_view_dst(v, &t->scoped[d]))
			return true;
	return false;
}

bool list_view_each_prefix(const struct list_view *v, const struct sksteer_target_status *t)
{
	return v->by_target || v->by_dst || t->nscoped <= LIST_PREFIXES;
}

unsigned int list_bindings(const char *ports)
{
	unsigned int n = *ports ? 1 : 0;

	for (; *ports; ports++)
		n += *ports == ',';
	return n;
}
