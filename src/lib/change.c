// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The public single changes of a namespace: steering ports to a socket given
 * by descriptor, following a target's address, and detaching (the mechanism
 * is src/lib/apply.c's change_run() and detach_run()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "apply.h"
#include "follow.h"
#include "handover.h"
#include "ns.h"
#include "print.h"
#include "sockets.h"

#define OPTS_HAS(opts, field)                                                               \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field))
#define OPTS_GET(opts, field, fallback) (OPTS_HAS(opts, field) ? (opts)->field : (fallback))

/* Only handles opened to change may. */
static int writable(const struct sksteer_ns *ns)
{
	return ns->read_only ? lib_error(-EPERM, "the namespace was opened read-only: open it to "
						 "change") :
			       0;
}

/* One change under ns's settings, in its namespace. */
static int run(struct sksteer_ns *ns, struct change *c, int follow, const char *cgroup)
{
	struct ns_call call;
	char err[1024] = "";
	int ret;

	if (ns_begin(ns, &call, true, err, sizeof(err)))
		return lib_error(-EPERM, err);
	errno = 0;
	ret = change_run(&ns->l, c, NULL, NULL, follow, cgroup, err, sizeof(err)) ? ns_errno() : 0;
	ns_end(&call);
	return ret ? lib_error(ret, err) : 0;
}

int sksteer_ns__steer_fd(struct sksteer_ns *ns, int fd, const char *ports,
			 const struct sksteer_steer_opts *opts)
{
	const char *dst = OPTS_GET(opts, dst, NULL);
	struct change c = {
		.new_socket = true,
		.force = OPTS_GET(opts, force, false),
		.fail_closed = OPTS_GET(opts, fail_closed, false) ? FAIL_CLOSED_ON : FAIL_CLOSED_OFF,
	};
	struct portset set;
	struct prefix prefix = {};
	struct sock_info given;
	char err[1024], what[32];
	int ret = writable(ns);

	if (ret)
		return ret;
	if (!ports || parse_ports(ports, &set, err, sizeof(err)))
		return lib_error(-EINVAL, ports ? err : "no ports given");
	if (dst && parse_prefix(dst, &prefix, err, sizeof(err)))
		return lib_error(-EINVAL, err);
	snprintf(what, sizeof(what), "descriptor %d", fd);
	if (handover_from_fd(fd, what, sksteer_ns__inode(ns), &given, err, sizeof(err)))
		return lib_error(-EINVAL, err);
	c.target = &given.addr;
	c.given = &given;
	c.ports = &set;
	c.dst = &prefix;
	return run(ns, &c, FOLLOW_KEEP, NULL);
}

int sksteer_ns__follow(struct sksteer_ns *ns, const char *target, unsigned int flags,
		       const char *cgroup)
{
	int mode = !(flags & SKSTEER_BIND_FOLLOW) ? FOLLOW_OFF :
		   flags & SKSTEER_BIND_FOLLOW_GROUP ? FOLLOW_GROUP :
						       FOLLOW_ON;
	struct sksteer_target t;
	struct change c = { .target = &t };
	char err[1024];
	int ret = writable(ns);

	if (ret)
		return ret;
	if (!target || parse_target(target, &t, err, sizeof(err)))
		return lib_error(-EINVAL, target ? err : "no target given");
	if (live_find(&ns->l, &t) < 0) {
		snprintf(err, sizeof(err), "%s is not a target in this namespace", target);
		return lib_error(-ENOENT, err);
	}
	if (follow_check(&t, mode, cgroup, err, sizeof(err)))
		return lib_error(-EINVAL, err);
	return run(ns, &c, mode, cgroup);
}

int sksteer_ns__detach(struct sksteer_ns *ns, const char *target, const char *dst)
{
	struct sksteer_target t;
	struct prefix prefix;
	struct ns_call call;
	char err[1024] = "";
	int ret = writable(ns);

	if (ret)
		return ret;
	if (target && parse_target(target, &t, err, sizeof(err)))
		return lib_error(-EINVAL, err);
	if (dst && parse_prefix(dst, &prefix, err, sizeof(err)))
		return lib_error(-EINVAL, err);
	if (!ns->l.pins.live) {
		if (!target)
			return 0; /* nothing to undo: detaching everything twice is fine */
		snprintf(err, sizeof(err), "%s is not a target in this namespace: nothing is "
					   "steered there", target);
		return lib_error(-ENOENT, err);
	}
	ns_begin(ns, &call, false, err, sizeof(err));
	errno = 0;
	ret = detach_run(&ns->l, target ? &t : NULL, dst ? &prefix : NULL, err, sizeof(err)) ?
		      ns_errno() :
		      0;
	ns_end(&call);
	return ret ? lib_error(ret, err) : 0;
}
