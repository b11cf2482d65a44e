// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The commands that change steering, or plan a change: -p/-s (with --fd,
 * --systemd, --listen, and CMD), --config, --dry-run and --detach, each made
 * of the library's calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "access.h"
#include "commands.h"
#include "input.h"
#include "signals.h"
#include "stop.h"

/* --config's input (read_config()) */
static char *config_text;
static size_t config_len;

/* --listen's socket, made in the namespace, for CMD */
static int listen_fd = -1;

/* The namespace's handle (lock_wait_s as sksteer_ns_opts has it): 0, or -1 with err */
static int open_ns(const struct args *a, bool read_only, int lock_wait_s, struct sksteer_ns **ns,
		   char *err, size_t errlen)
{
	struct sksteer_ns_opts opts = {
		.sz = sizeof(opts),
		.read_only = read_only,
		.lock_wait_s = lock_wait_s,
		.stop = &stop_requested,
	};
	uint64_t ino;
	int fd, ret;

	*ns = NULL;
	if (!a->netns_arg) {
		ret = sksteer_ns__open(NULL, &opts, ns);
	} else {
		if (input_netns(a->netns_arg, &fd, &ino, err, errlen))
			return -1;
		ret = sksteer_ns__open_fd(fd, &opts, ns);
		close(fd);
	}
	if (ret)
		snprintf(err, errlen, "%s", cli_message(a, ret));
	return ret ? -1 : 0;
}

int cmd_open_ns(const struct args *a, bool read_only, struct sksteer_ns **ns)
{
	char err[1024];

	if (open_ns(a, read_only, options_lock_wait(a), ns, err, sizeof(err)))
		return cli_fail("%s", err);
	return 0;
}

int cmd_config_text(const struct args *a, char **text, size_t *len, char *err, size_t errlen)
{
	unsigned int wait_s = a->wait_s > INPUT_WAIT_S ? a->wait_s : INPUT_WAIT_S;

	if (!input_config(a->config.file, wait_s, text, len, err, errlen))
		return 0;
	return strcmp(a->config.file, "-") && access(a->config.file, F_OK) ? -ENOENT : -EINVAL;
}

int cmd_read_config(const struct args *a)
{
	char err[1024];
	int ret;

	if (!a->config.file)
		return 0;
	ret = cmd_config_text(a, &config_text, &config_len, err, sizeof(err));
	if (!ret)
		return 0;
	cli_fail("%s", err);
	if (!a->dry_run)
		cmd_record_failure(a, ret, err);
	return 1;
}

void cmd_record_failure(const struct args *a, int ret, const char *msg)
{
	struct sksteer_ns *ns = NULL;

	/* quietly, and never waiting: the run has said what failed, and must end now */
	if (ret != -EINTR && !open_ns(a, false, -1, &ns, NULL, 0))
		sksteer_ns__apply_failed(ns, ret, msg);
	sksteer_ns__close(ns);
}
void cmd_free_config(void)
{
	free(config_text);
	config_text = NULL;
}

/* The library's message for failure ret, into err; -1. */
static int said(const struct args *a, int ret, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", cli_message(a, ret));
	return -1;
}

struct listen_call {
	const struct args *a;
	char err[1024];
};

static int make_listener(void *ctx)
{
	struct listen_call *c = ctx;

	return handover_listen(&c->a->steer.target, &c->a->handover.listen, c->err, sizeof(c->err));
}

/* --fd, --systemd: the descriptor (cmd_handover()), and how messages name it */
static int handover_fd = -1;
static char handover_what[320];

int cmd_handover(const struct args *a)
{
	const struct handover_opts *h = &a->handover;
	char err[1024], msg[1024];

	if (h->cmd && handover_exec_check(h->cmd, err, sizeof(err)))
		return cli_fail("%s", err);
	if (!h->fd_arg && !h->systemd)
		return 0;
	handover_fd = handover_resolve(h->systemd ? NULL : h->fd_arg, err, sizeof(err));
	if (handover_fd < 0)
		return cli_fail("%s", err);
	if (h->systemd)
		snprintf(handover_what, sizeof(handover_what), "--systemd: descriptor %d",
			 handover_fd);
	else if (handover_fd != atoi(h->fd_arg))
		snprintf(handover_what, sizeof(handover_what), "--fd %s (descriptor %d)", h->fd_arg,
			 handover_fd);
	else
		snprintf(handover_what, sizeof(handover_what), "--fd %s", h->fd_arg);
	/* before this run opens anything that could take the number of one that is not open */
	if (fcntl(handover_fd, F_GETFD) < 0) {
		snprintf(msg, sizeof(msg),
			 "%s is not an open descriptor of this process: pass the socket down to it "
			 "as descriptor %d",
			 handover_what, handover_fd);
		return cli_fail("%s", cli_say(msg));
	}
	return 0;
}

/*
 * The socket to steer to: cmd_handover()'s descriptor, or --listen's, made in
 * the namespace. -1 with err.
 */
static int handover_socket(struct sksteer_ns *ns, const struct args *a, const char **what,
			   char *err, size_t errlen)
{
	struct listen_call call = { .a = a };
	static char listen_what[320];
	int fd;

	*what = handover_what;
	if (!a->handover.listen_arg)
		return handover_fd;
	fd = sksteer_ns__call(ns, make_listener, &call);
	if (fd < 0 && call.err[0])
		snprintf(err, errlen, "%s", call.err);
	else if (fd < 0)
		return said(a, fd, err, errlen);
	listen_fd = fd;
	snprintf(listen_what, sizeof(listen_what), "--listen %s", a->handover.listen_arg);
	*what = listen_what;
	return fd;
}

/* The change -p, -s, --add, --remove, --dst and the rest ask for. */
static void change_of(const struct args *a, struct sksteer_change *ch)
{
	const struct steer_opts *s = &a->steer;
	static const unsigned int follow[] = {
		[FOLLOW_ON] = SKSTEER_CHANGE_FOLLOW,
		[FOLLOW_GROUP] = SKSTEER_CHANGE_FOLLOW | SKSTEER_CHANGE_FOLLOW_GROUP,
		[FOLLOW_OFF] = SKSTEER_CHANGE_NO_FOLLOW,
	};
	bool edit = s->add_arg || s->remove_arg;

	*ch = (struct sksteer_change){
		.sz = sizeof(*ch),
		.target = options_handover(a) ? NULL : s->target_arg,
		.ports = edit ? NULL : s->ports_arg,
		.add = s->add_arg,
		.remove = s->remove_arg,
		.dst = s->dst_arg,
		.follow_cgroup = s->follow_cgroup,
		.flags = follow[s->follow] | (s->force ? SKSTEER_CHANGE_FORCE : 0),
	};
	if (s->fail_closed)
		ch->flags |=
			s->fail_closed == 1 ? SKSTEER_CHANGE_FAIL_CLOSED : SKSTEER_CHANGE_FAIL_OPEN;
	/* -s alone: the new socket alone, not its SO_REUSEPORT group (a restart) */
	if (s->target_arg && !s->ports_arg)
		ch->flags |= SKSTEER_CHANGE_RESTART;
}

/* The group the pins are given to now, "" for none, into buf. */
static char *group_of(struct sksteer_ns *ns, char *buf, size_t len)
{
	struct sksteer_status *st;

	buf[0] = '\0';
	if (!sksteer_ns__status(ns, &st)) {
		snprintf(buf, len, "%s", sksteer_status__ns(st)->group);
		sksteer_status__free(st);
	}
	return buf;
}

/* -p and/or -s (or --fd, --systemd, --listen), --add, --remove: one target's change. */
int cmd_steer(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	struct sksteer_change ch;
	char was[64];
	int ret;

	change_of(a, &ch);
	if (options_handover(a)) {
		ch.socket_fd = handover_socket(ns, a, &ch.socket_name, err, errlen);
		if (ch.socket_fd < 0)
			return -1;
		ch.flags |= SKSTEER_CHANGE_FD;
	}
	if (stop_check("", err, errlen))
		return -1;
	/* the group first, so that a refusal there changes nothing; undone if the change fails */
	if (a->group_arg) {
		group_of(ns, was, sizeof(was));
		ret = sksteer_ns__set_group(ns, a->group_arg);
		if (ret)
			return said(a, ret, err, errlen);
	}
	ret = sksteer_ns__change(ns, &ch);
	if (ret && a->group_arg)
		sksteer_ns__set_group(ns, was);
	if (ret)
		return said(a, ret, err, errlen);
	/* a run stopped once its change is made: no tracing, no CMD */
	if (a->trace && !stop_requested)
		return cmd_trace(ns, a, err, errlen);
	if (a->handover.cmd && stop_requested) {
		snprintf(err, errlen,
			 "interrupted by %s once the steering was in place: %s not "
			 "started",
			 stop_signal(), a->handover.cmd[0]);
		return -1;
	}
	return 0;
}

int cmd_exec(const struct args *a, char *err, size_t errlen)
{
	const struct handover_opts *h = &a->handover;

	return handover_exec(h->listen_arg ? listen_fd : -1, h->fdname ? h->fdname : "sksteer",
			     h->cmd, err, errlen);
}

/*
 * Prints a plan's changes, then (where the library counted them) the kernel updates the
 * apply would make, in -v's words; 2 when there are any changes (the exit code), 0 in sync.
 */
static int print_plan(struct sksteer_plan *plan, char *err, size_t errlen)
{
	int n = plan ? sksteer_plan__changes(plan) : 0;
	struct sksteer_updates u;

	for (int i = 0; i < n; i++)
		printf("%s\n", sksteer_plan__change(plan, i));
	if (n && !sksteer_plan__updates(plan, &u))
		printf("kernel updates %zu: port table bytes %zu, bindings table stores %zu (whole "
		       "tables switched %zu), other map entries %zu\n",
		       u.total, u.port_table_bytes, u.bindings_stores, u.tables_switched,
		       u.other_entries);
	sksteer_plan__free(plan);
	if (fflush(stdout)) {
		snprintf(err, errlen, "cannot print the changes: %m");
		return -1;
	}
	return n ? 2 : 0;
}

/*
 * --config FILE's plan (of text, len): every line checked against the live
 * state first. 0, or the library's negative errno with err.
 */
static int config_plan(struct sksteer_ns *ns, const struct args *a, const char *text, size_t len,
		       struct sksteer_plan **plan, char *err, size_t errlen)
{
	struct sksteer_plan_opts opts = {
		.sz = sizeof(opts),
		.force = a->steer.force,
		.new_sockets = a->config.new_sockets,
		.wait_s = a->wait_s,
	};
	const char *name = strcmp(a->config.file, "-") ? a->config.file : "<stdin>";
	struct sksteer_config *cfg;
	int ret = sksteer_config__parse(name, text, len, &cfg);

	if (!ret)
		ret = sksteer_ns__plan(ns, cfg, &opts, plan);
	else if (!a->dry_run) /* a failed apply, for whoever monitors: the plan's say so too */
		sksteer_ns__apply_failed(ns, ret, sksteer_errmsg());
	sksteer_config__free(cfg);
	if (ret)
		said(a, ret, err, errlen);
	return ret;
}

/* --group's change, printed as a plan's line would be ("~ group NAME (was OLD)"): 1, or 0 none */
static int group_change(struct sksteer_ns *ns, const struct args *a)
{
	char want[64], was[64];
	gid_t gid = 0;
	int changed;

	if (!a->group_arg)
		return 0;
	group_gid(a->group_arg, &gid);
	group_name(gid, want, sizeof(want));
	group_of(ns, was, sizeof(was));
	changed = strcmp(want, was) != 0;
	if (changed)
		printf("~ group %s (was %s)\n", want[0] ? want : "none", was[0] ? was : "none");
	return changed;
}

/* --group alone needs steering to share: as said by the run and its --dry-run alike */
static int group_alone_refused(struct sksteer_ns *ns, const struct args *a, char *err,
			       size_t errlen)
{
	if (a->steer.ports_arg || a->steer.target_arg || sksteer_ns__steering(ns))
		return 0;
	snprintf(err, errlen,
		 "nothing is steered in %s: --group shares the steering's pins: give it with -p "
		 "and -s (or as 'group NAME' in a configuration file)",
		 netns_name(a));
	return -1;
}

int cmd_dry_run(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	struct sksteer_plan *plan = NULL; /* none for --group alone */
	struct sksteer_change ch;
	int ret, group;

	if (a->config.file)
		return config_plan(ns, a, config_text, config_len, &plan, err, errlen) ?
			       -1 :
			       print_plan(plan, err, errlen);
	if (group_alone_refused(ns, a, err, errlen))
		return -1;
	change_of(a, &ch);
	if (a->steer.ports_arg || a->steer.target_arg) {
		ret = sksteer_ns__plan_change(ns, &ch, &plan);
		if (ret)
			return said(a, ret, err, errlen);
	}
	group = group_change(ns, a);
	ret = print_plan(plan, err, errlen);
	return ret < 0 ? ret : ret || group ? 2 : 0;
}

/* --group alone: the pins of what is steered shared with a group, or no more. */
int cmd_group(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	int ret;

	if (group_alone_refused(ns, a, err, errlen))
		return -1;
	ret = sksteer_ns__set_group(ns, a->group_arg);
	return ret ? said(a, ret, err, errlen) : 0;
}

int cmd_apply_config(struct sksteer_ns *ns, const struct args *a, const char *text, size_t len,
		     char *err, size_t errlen)
{
	struct sksteer_plan *plan;
	int ret = config_plan(ns, a, text, len, &plan, err, errlen);

	if (ret)
		return ret;
	ret = sksteer_ns__apply(ns, plan);
	sksteer_plan__free(plan);
	if (ret)
		said(a, ret, err, errlen);
	return ret;
}

int cmd_config(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	if (cmd_apply_config(ns, a, config_text, config_len, err, errlen))
		return -1;
	if (a->trace && !stop_requested)
		return cmd_trace(ns, a, err, errlen);
	return 0;
}

int cmd_detach(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	int ret;

	if (!sksteer_ns__steering(ns)) {
		/* nothing to undo: detaching everything twice is not an error */
		if (!a->steer.target_arg)
			return 0;
		snprintf(err, errlen, "%s is not a target in %s: nothing is steered there",
			 a->steer.target_arg, netns_name(a));
		return -1;
	}
	if (stop_check("", err, errlen))
		return -1;
	ret = sksteer_ns__detach(ns, a->steer.target_arg, a->steer.dst_arg);
	return ret ? said(a, ret, err, errlen) : 0;
}
