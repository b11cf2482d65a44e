// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sksteer: steer incoming connections on many ports into one listening socket,
 * with a BPF sk_lookup program. The command line, libsksteer's first client:
 * the command table, what each command needs, and the one line an error gets.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <sksteer/sksteer.h>
#include "commands.h"
#include "escape.h"
#include "input.h"
#include "options.h"
#include "privileges.h"
#include "signals.h"

static bool verbose;

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	return verbose ? vfprintf(stderr, format, args) : 0;
}

/* The library's warnings, one line each, escaped (they may quote a path); debug with -v. */
static int print_fn(enum sksteer_print_level level, const char *format, va_list args)
{
	char *msg = NULL;

	if (level != SKSTEER_WARN && !verbose)
		return 0;
	if (vasprintf(&msg, format, args) < 0)
		return -1;
	fputs(level == SKSTEER_WARN ? "sksteer: warning: " : "sksteer: ", stderr);
	esc_fputs(ESC_TEXT, cli_say(msg), stderr);
	fputc('\n', stderr);
	free(msg);
	return 0;
}

/*
 * The commands, chosen by the options given (bpftool's cmds[], with the
 * command line's flags for names). Read-only ones open the pins read-only and
 * need CAP_BPF alone; a plan (--dry-run) opens them read-only too.
 */
static const struct cmd cmds[] = {
	{ "--list", CMD_READ_ONLY, cmd_list },
	{ "--metrics", CMD_READ_ONLY, cmd_metrics },
	{ "--serve-metrics", CMD_READ_ONLY, NULL }, /* a server of its own: cmd_serve() */
	{ "--watch", CMD_CHANGES | CMD_LOADS | CMD_MAKES, NULL }, /* cmd_watch() */
	{ "--check", CMD_READ_ONLY, cmd_check },
	{ "--save", CMD_READ_ONLY, cmd_save },
	{ "--dry-run", CMD_PLANS, cmd_dry_run },
	{ "--config", CMD_CHANGES | CMD_LOADS | CMD_MAKES, cmd_config },
	{ "--detach", CMD_CHANGES, cmd_detach },
	{ "steering", CMD_CHANGES | CMD_LOADS | CMD_MAKES, cmd_steer },
	{ "--group", CMD_CHANGES, cmd_group },
	{ "--trace", CMD_CHANGES | CMD_LOADS, cmd_trace },
};

static const struct cmd *cmd_select(const struct args *a)
{
	const char *name = a->config.watch			     ? "--watch" :
			   a->serve_arg				     ? "--serve-metrics" :
			   a->list				     ? "--list" :
			   a->metrics				     ? "--metrics" :
			   a->check				     ? "--check" :
			   a->save				     ? "--save" :
			   a->dry_run				     ? "--dry-run" :
			   a->config.file			     ? "--config" :
			   a->detach				     ? "--detach" :
			   a->steer.ports_arg || a->steer.target_arg ? "steering" :
			   a->group_arg				     ? "--group" :
								       "--trace";

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/*
 * A run holds a few dozen descriptors at once (pinned maps, the skeletons'
 * maps and programs, a tracer's ring buffers): raise the soft RLIMIT_NOFILE
 * if it is lower, and refuse with one line, before anything changes, where
 * the hard limit is too low to run at all.
 */
#define NOFILE_NEED 128
#define NOFILE_WANT 1024
static int enough_files(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= NOFILE_WANT)
		return 0;
	if (r.rlim_max < NOFILE_NEED)
		return cli_fail(
			"a run needs up to %d open files, and RLIMIT_NOFILE allows %llu: raise "
			"it (ulimit -n %d)",
			NOFILE_NEED, (unsigned long long)r.rlim_max, NOFILE_NEED);
	r.rlim_cur = r.rlim_max < NOFILE_WANT ? r.rlim_max : NOFILE_WANT;
	setrlimit(RLIMIT_NOFILE, &r);
	return 0;
}

int main(int argc, char **argv)
{
	static char program_name[] = "sksteer";
	char err[1024] = "";
	const struct cmd *cmd;
	struct sksteer_ns *ns = NULL;
	struct args a;
	int ret;

	/* messages say "sksteer:", not whatever argv[0] holds (a path, a newline) */
	argv[0] = program_name;
	options_parse(argc, argv, &a);
	verbose = a.verbose;
	libbpf_set_print(libbpf_print_fn);
	sksteer_set_print(print_fn);
	/* from here on a signal ends the run at its next safe point, with one line */
	stop_on_signals();
	signal(SIGPIPE, SIG_IGN);
	cmd = cmd_select(&a);
	/*
	 * Only runs that load programs ask the kernel, and only where the namespace
	 * is not steered already (its link proves the kernel can); --detach has pins
	 * to show it can. The configuration is read first: before anything opens a
	 * file that could take the place of a closed standard input.
	 */
	if (cmd && !cmd->fn) { /* the long-running ones: each opens what it works on */
		reload_on_sighup(); /* SIGHUP never stops them: a watcher applies its file again */
		ret = privileges_check(&a, cmd) || enough_files() ? 1 :
		      a.config.watch ? cmd_watch(&a, err, sizeof(err)) :
				       cmd_serve(&a, err, sizeof(err));
		return ret >= 0 ? ret : cli_fail("%s", err);
	}
	if (cmd && a.all_netns) {
		ret = privileges_check(&a, cmd) ? 1 : cmd_all_netns(&a, err, sizeof(err));
		return ret >= 0 ? ret : cli_fail("%s", err);
	}
	if (!cmd || privileges_check(&a, cmd) || cmd_read_config(&a) || cmd_handover(&a) ||
	    enough_files() || cmd_open_ns(&a, cmd->flags & (CMD_READ_ONLY | CMD_PLANS), &ns) ||
	    ((cmd->flags & CMD_LOADS) && privileges_kernel(sksteer_ns__steering(ns)))) {
		sksteer_ns__close(ns);
		return 1;
	}
	ret = cmd->fn(ns, &a, err, sizeof(err));
	sksteer_ns__close(ns);
	cmd_free_config();
	/* the steering is in place: CMD gets the socket (and keeps our pid) */
	if (!ret && a.handover.cmd)
		ret = cmd_exec(&a, err, sizeof(err));
	if (ret > 0) /* --check found problems, and said so; --dry-run found changes */
		return ret;
	return ret ? cli_fail("%s", err) : 0;
}
