// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The public single changes of a namespace (struct sksteer_change): one
 * target's ports, socket, options and following, made or planned, and
 * detaching (the mechanism is src/lib/apply.c's change_run(), change_plan()
 * and detach_run()).
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "access.h"
#include "applied.h"
#include "config.h"
#include "apply.h"
#include "follow.h"
#include "sockfd.h"
#include "ns.h"
#include "plan.h"
#include "print.h"
#include "sockets.h"

/* A public change, parsed: what change_run() takes. */
struct parsed {
	struct change c;
	struct sksteer_target target;
	struct portset ports, add_set, remove_set;
	const struct portset *add, *remove; /* the sets, or NULL: no edit */
	struct prefix dst;
	struct sock_info given;
	int follow;
	const char *cgroup;
};

/* Parses what ch says into p. 0, or -errno with err. */
static int parse(const struct sksteer_ns *ns, const struct sksteer_change *ch, struct parsed *p,
		 char *err, size_t errlen)
{
	unsigned int flags = OPTS_GET(ch, flags, 0);
	const char *target = OPTS_GET(ch, target, NULL), *ports = OPTS_GET(ch, ports, NULL);
	const char *add = OPTS_GET(ch, add, NULL), *remove = OPTS_GET(ch, remove, NULL);
	const char *dst = OPTS_GET(ch, dst, NULL), *name = OPTS_GET(ch, socket_name, NULL);
	char fd_name[32];

	memset(p, 0, sizeof(*p));
	p->c.force = flags & SKSTEER_CHANGE_FORCE;
	p->c.fail_closed = flags & SKSTEER_CHANGE_FAIL_CLOSED ? FAIL_CLOSED_ON :
			   flags & SKSTEER_CHANGE_FAIL_OPEN   ? FAIL_CLOSED_OFF :
								FAIL_CLOSED_KEEP;
	p->follow = flags & SKSTEER_CHANGE_NO_FOLLOW	? FOLLOW_OFF :
		    flags & SKSTEER_CHANGE_FOLLOW_GROUP ? FOLLOW_GROUP :
		    flags & SKSTEER_CHANGE_FOLLOW	? FOLLOW_ON :
							  FOLLOW_KEEP;
	p->cgroup = OPTS_GET(ch, follow_cgroup, NULL);
	if (ports && parse_ports(ports, &p->ports, err, errlen))
		return -EINVAL;
	if ((add && parse_ports(add, &p->add_set, err, errlen)) ||
	    (remove && parse_ports(remove, &p->remove_set, err, errlen)))
		return -EINVAL;
	p->add = add ? &p->add_set : NULL;
	p->remove = remove ? &p->remove_set : NULL;
	if (dst && parse_prefix(dst, &p->dst, err, errlen))
		return -EINVAL;
	p->c.dst = &p->dst;
	p->c.ports = ports ? &p->ports : NULL;
	if (target && parse_target(target, &p->target, err, errlen))
		return -EINVAL;
	if (flags & SKSTEER_CHANGE_FD) {
		int fd = OPTS_GET(ch, socket_fd, -1);

		snprintf(fd_name, sizeof(fd_name), "descriptor %d", fd);
		if (sock_from_fd(fd, name ? name : fd_name, sksteer_ns__inode(ns), &p->given, err,
				 errlen))
			return -EINVAL;
		if (!target)
			p->target = p->given.addr;
		p->c.given = &p->given;
	}
	if (target || (flags & SKSTEER_CHANGE_FD)) {
		p->c.target = &p->target;
		p->c.new_socket = true;
		p->c.restart = flags & SKSTEER_CHANGE_RESTART;
	}
	if (p->follow != FOLLOW_KEEP && p->c.target &&
	    follow_check(&ns->l.pins, p->c.target, p->follow, p->cgroup, err, errlen))
		return -EINVAL;
	return 0;
}

/*
 * ch parsed into a new *p, and the thread in ns's namespace for it. 0, or
 * -errno with err (then there is nothing to end or free).
 */
static int begin(struct sksteer_ns *ns, const struct sksteer_change *ch, struct parsed **p,
		 struct ns_call *call, char *err, size_t errlen)
{
	int ret;

	*p = calloc(1, sizeof(**p));
	if (!*p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = parse(ns, ch, *p, err, errlen);
	if (!ret && ns_begin(ns, call, NS_ENTER, err, errlen))
		ret = -EPERM;
	if (ret) {
		free(*p);
		*p = NULL;
	}
	return ret;
}

int sksteer_ns__change(struct sksteer_ns *ns, const struct sksteer_change *ch)
{
	struct parsed *p;
	struct ns_call call;
	char err[1024] = "";
	int ret = begin(ns, ch, &p, &call, err, sizeof(err));

	if (ret) {
		applied_note(&ns->l.pins, ret, err); /* a change that cannot be made failed too */
		return lib_error(ret, err);
	}
	errno = 0;
	if (ns_create(ns, err, sizeof(err)) ||
	    change_run(&ns->l, &p->c, p->add, p->remove, p->follow, p->cgroup, err, sizeof(err)))
		ret = ns_errno();
	ns_end(&call);
	free(p);
	applied_note(&ns->l.pins, ret, err);
	return ret ? lib_error(ret, err) : 0;
}

int sksteer_ns__plan_change(struct sksteer_ns *ns, const struct sksteer_change *ch,
			    struct sksteer_plan **plan)
{
	char err[1024] = "", *text = NULL, ignored[256];
	struct live_updates u;
	struct parsed *p;
	struct ns_call call;
	size_t len = 0;
	FILE *f;
	int ret, changes = 0;

	*plan = NULL;
	ret = begin(ns, ch, &p, &call, err, sizeof(err));
	if (ret)
		return lib_error(ret, err);
	f = open_memstream(&text, &len);
	errno = 0;
	if (!f)
		ret = -ENOMEM;
	else if ((changes = change_dry_run(&ns->l, &p->c, p->add, p->remove, f, err, sizeof(err))) <
		 0)
		ret = ns_errno();
	/*
	 * What the change would write to the kernel: best effort, as a whole plan's, and on a
	 * handle opened read-only alone (a write the dry apply failed to skip is refused there).
	 */
	if (changes > 0 &&
	    (!ns->read_only || change_dry_count(&ns->l, &p->c, p->add, p->remove, p->follow,
						p->cgroup, &u, ignored, sizeof(ignored))))
		changes = 0;
	ns_end(&call);
	if (f && fclose(f) && !ret)
		ret = -ENOMEM;
	if (!ret)
		ret = plan_of_text(ns, text, changes > 0 ? &u : NULL, plan);
	free(text);
	free(p);
	return ret ? lib_error(ret, err[0] ? err : "out of memory") : 0;
}

int sksteer_ns__steer_fd(struct sksteer_ns *ns, int fd, const char *ports)
{
	struct sksteer_change ch = {
		.sz = sizeof(ch),
		.socket_fd = fd,
		.ports = ports,
		.flags = SKSTEER_CHANGE_FD,
	};

	if (!ports)
		return lib_error(-EINVAL, "no ports given");
	return sksteer_ns__change(ns, &ch);
}

int sksteer_ns__detach(struct sksteer_ns *ns, const char *target, const char *dst)
{
	struct sksteer_target t;
	struct prefix prefix;
	struct ns_call call;
	char err[1024] = "";
	int ret;

	if (ns->read_only)
		return lib_error(-EPERM, "the namespace was opened read-only: open it to change");
	if (target && parse_target(target, &t, err, sizeof(err)))
		return lib_error(-EINVAL, err);
	if (dst && parse_prefix(dst, &prefix, err, sizeof(err)))
		return lib_error(-EINVAL, err);
	if (!ns->l.pins.live) {
		if (!target)
			return 0; /* nothing to undo: detaching everything twice is fine */
		snprintf(err, sizeof(err), "%s is not a target here: nothing is steered", target);
		return lib_error(-ENOENT, err);
	}
	ns_begin(ns, &call, NS_STAY, err, sizeof(err));
	errno = 0;
	ret = detach_run(&ns->l, target ? &t : NULL, dst ? &prefix : NULL, err, sizeof(err)) ?
		      ns_errno() :
		      0;
	ns_end(&call);
	applied_note(&ns->l.pins, ret, err); /* a target's detach (all of it leaves no pins) */
	return ret ? lib_error(ret, err) : 0;
}

int sksteer_ns__set_group(struct sksteer_ns *ns, const char *group)
{
	char err[1024] = "";
	gid_t gid = 0;

	if (ns->read_only)
		return lib_error(-EPERM, "the namespace was opened read-only: open it to change");
	if (group && *group && (!config_group_valid(group) || group_gid(group, &gid))) {
		snprintf(err, sizeof(err),
			 "unknown group '%.64s' (not in /etc/group): create it ('groupadd %.64s'), "
			 "or give its number",
			 group, group);
		return lib_error(-ENOENT, err);
	}
	if (ns_create(ns, err, sizeof(err)) || pins_share(&ns->l.pins, gid, err, sizeof(err)))
		return ns_fail(ns_errno(), err);
	return 0;
}
