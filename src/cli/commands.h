/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The commands (src/cli/main.c's table): each takes the namespace's handle
 * and the options, and returns 0, an exit code > 0 it has said why for, or -1
 * with one line in err that main prints.
 */
#ifndef __SKSTEER_COMMANDS_H
#define __SKSTEER_COMMANDS_H

#include <stddef.h>
#include <stdio.h>
#include <sksteer/sksteer.h>
#include "options.h"

#define CMD_READ_ONLY (1U << 0) /* read-only pins, never enters the namespace: CAP_BPF alone */
#define CMD_PLANS (1U << 1) /* read-only pins, but finds sockets inside the namespace */
#define CMD_CHANGES (1U << 2) /* changes steering: CAP_NET_ADMIN */
#define CMD_LOADS (1U << 3) /* loads programs: CAP_PERFMON; the kernel is checked first */
#define CMD_MAKES (1U << 4) /* may make the pins: a first run */

struct cmd {
	const char *name; /* as messages name it */
	unsigned int flags; /* CMD_* */
	int (*fn)(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
};

/* src/cli/cmd_show.c: --list (text; --json in json.c), --check, --save */
int cmd_list(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
int cmd_check(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
int cmd_save(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
/* src/cli/metrics.c */
int cmd_metrics(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
/* src/cli/cmd_change.c: -p/-s, --dry-run, --detach, --config, --group alone */
int cmd_steer(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
int cmd_dry_run(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
int cmd_detach(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
int cmd_config(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
int cmd_group(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);
/*
 * A configuration's text (--config FILE's, --watch's) planned and applied: 0,
 * or the library's negative errno with err (-EINVAL: the text is at fault)
 */
int cmd_apply_config(struct sksteer_ns *ns, const struct args *a, const char *text, size_t len,
		     char *err, size_t errlen);
/* src/cli/watch.c: --config FILE --watch, until SIGTERM; 0, or -1 with err */
int cmd_watch(const struct args *a, char *err, size_t errlen);
/* src/cli/all_netns.c: --list, --metrics and --check with --all-netns; 0, 1 said, or -1 */
int cmd_all_netns(const struct args *a, char *err, size_t errlen);
/* ... their metrics into f (--serve-metrics): 0, 1 if a namespace failed (said), or -1 */
int all_netns_metrics(const struct args *a, FILE *f, char *err, size_t errlen);
/* src/cli/serve.c: --serve-metrics, until a signal; 0, or -1 with err */
int cmd_serve(const struct args *a, char *err, size_t errlen);
/* src/cli/trace.c */
int cmd_trace(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen);

/* The namespace to work on: ours, or --netns PATH's, as a handle. 0, or 1 when said why. */
int cmd_open_ns(const struct args *a, bool read_only, struct sksteer_ns **ns);

/* --config's text, read as cmd_read_config() does: 0, or -ENOENT (gone), -EINVAL, with err */
int cmd_config_text(const struct args *a, char **text, size_t *len, char *err, size_t errlen);

/*
 * An apply that failed before the library saw it (its file unreadable): recorded
 * in the namespace's pins, for whoever monitors it (sksteer_ns__apply_failed()),
 * if their lock is free now; quietly. A stop (-EINTR) is no failure: not recorded.
 */
void cmd_record_failure(const struct args *a, int ret, const char *msg);

/*
 * --config's input, read whole before the lock is taken, so that no input (a
 * FIFO, a pipe whose writer stalls) can hold up a run that holds it. 0 or 1.
 */
int cmd_read_config(const struct args *a);
void cmd_free_config(void);

/*
 * --fd, --systemd: the descriptor found and checked, and CMD checked, before
 * anything is opened. 0, or 1 with the line printed.
 */
int cmd_handover(const struct args *a);

/* Once steering is in place: exec CMD with the socket. Returns only on failure, with err. */
int cmd_exec(const struct args *a, char *err, size_t errlen);

/* One line on stderr, "sksteer: ..." escaped as text (it may quote anything); returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "this network namespace", or "network namespace PATH" for --netns PATH */
const char *netns_name(const struct args *a);

/* A library message with its advice said the command line's way (which option to give). */
const char *cli_say(const char *msg);

/*
 * The library's message of failure ret, with the command line's hint (which
 * option to give) where one helps.
 */
const char *cli_message(const struct args *a, int ret);

#endif /* __SKSTEER_COMMANDS_H */
