/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The command line: its options (argp), grouped by the commands they belong
 * to, and the combinations that make sense. A mistake exits 64 with one line.
 */
#ifndef __SKSTEER_OPTIONS_H
#define __SKSTEER_OPTIONS_H

#include <stdbool.h>
#include "handover.h"
#include "parse.h"

/* Following (--follow[=group], --no-follow, --follow-cgroup); in sksteer.h's flag terms. */
enum { FOLLOW_KEEP, FOLLOW_ON, FOLLOW_GROUP, FOLLOW_OFF };

/* -p, -s, --add, --remove, --dst, --fail-*, --force, --follow: one target's change. */
struct steer_opts {
	const char *ports_arg, *target_arg, *add_arg, *remove_arg, *dst_arg;
	struct sksteer_target target; /* -s, --listen: parsed */
	int fail_closed; /* 0: keep, 1: --fail-closed, 2: --fail-open */
	bool force;
	int follow; /* FOLLOW_* */
	const char *follow_cgroup;
};

/* --fd, --systemd, --listen, and CMD to exec with the socket. */
struct handover_opts {
	const char *fd_arg, *listen_arg, *fdname;
	bool systemd;
	struct listen_opts listen;
	char **cmd;
};

/* --config FILE, --new-sockets, --watch. */
struct config_opts {
	const char *file;
	bool new_sockets;
	bool watch; /* --watch: applied again whenever it changes */
};

struct args {
	/* what to do: one of these, or a change (steer) */
	bool list, metrics, check, save, detach, dry_run, trace;
	bool json; /* --list and --trace: JSON */
	struct steer_opts steer;
	struct handover_opts handover;
	struct config_opts config;
	/* every command's */
	const char *netns_arg;
	bool all_netns; /* --list, --metrics, --check: every namespace with pins */
	const char *serve_arg; /* --serve-metrics ADDR:PORT */
	struct sksteer_target serve; /* ... parsed */
	const char *netns_label; /* with --all-netns, the namespace at hand's name; else NULL */
	unsigned int wait_s; /* --wait; 0 with wait_given: no waiting */
	bool wait_given;
	bool verbose;
	const char *group_arg; /* --group NAME: who may read the pins too */
};

/* Parses argv into a; exits 64 with one line on a mistake. */
void options_parse(int argc, char **argv, struct args *a);

/* --list, --metrics, --check and --save change nothing: read-only pins, CAP_BPF alone. */
bool options_read_only(const struct args *a);

/* --wait as struct sksteer_ns_opts' lock_wait_s: 0 (the library's) unless given; -1 for 0 */
int options_lock_wait(const struct args *a);

/* Whether a run names the socket by descriptor (--fd, --systemd, --listen). */
bool options_handover(const struct args *a);

#endif /* __SKSTEER_OPTIONS_H */
