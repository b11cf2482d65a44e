// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sksteer: steer incoming connections on many ports into one listening socket,
 * with a BPF sk_lookup program. The command line and the loader.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "apply.h"
#include "clients.h"
#include "escape.h"
#include "follow.h"
#include "handover.h"
#include "input.h"
#include "kernel.h"
#include <sksteer/sksteer.h>
#include "program.h"
#include "signals.h"
#include "stop.h"
#include "status.h"
#include "steer.h"
#include "trace.h"
#include "usage.h"

#define ERRLEN 1024
#ifndef CAP_SYS_RESOURCE
#define CAP_SYS_RESOURCE 24
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static struct env {
	bool verbose;
	bool detach;
	bool force;
	bool trace;
	bool list;
	bool metrics;
	bool json;
	bool check;
	bool save;
	bool dry_run;
	bool new_sockets;
	int fail_closed; /* enum of struct change: keep, on, off */
	const char *netns_arg;
	const char *ports_arg;
	const char *target_arg;
	const char *config_arg;
	const char *add_arg, *remove_arg;
	const char *dst_arg;
	struct prefix dst; /* --dst: the destinations -p binds for; family 0: every address */
	unsigned int wait_s;
	bool wait_given;
	struct portset ports, add, remove;
	struct sksteer_target target;
	/* handover (src/handover.c): --fd, --systemd, --listen, and CMD to exec */
	const char *fd_arg, *listen_arg, *fdname;
	bool systemd;
	struct listen_opts listen;
	char **cmd;
	struct sock_info given;
	/* following (src/follow.c): --follow[=group], --no-follow, --follow-cgroup */
	int follow; /* FOLLOW_* */
	const char *follow_cgroup;
} env = { .listen = { .backlog = 4096, .v6only = -1 } };

const char *argp_program_version = "sksteer " SKSTEER_VERSION;

static const char doc[] =
	"Steer incoming connections on many ports into one listening socket (BPF sk_lookup).\n"
	"\n"
	"Steering is pinned per network namespace in bpffs and stays in place after sksteer "
	"exits. Running sksteer again changes it in place.\n"
	"\v"
	"TARGET is a numeric ADDR:PORT where a socket of some other process listens: "
	"127.0.0.1:9000, [::1]:9000, [::]:9000; udp:ADDR:PORT for a UDP socket.\n"
	"PORTS is a comma list of ports and ranges: 80,443,8000-8999.\n"
	"\n"
	"The target's socket is found with sock_diag and put into place from inside the kernel "
	"(a socket iterator on Linux >= 6.5, else a one-shot lookup program), so its owner may be "
	"in any PID namespace. SKSTEER_FIND=iter|lookup|pidfd in the environment forces a way.\n"
	"\n"
	"Examples:\n"
	"  sksteer -p 80,443,8000-8999 -s 127.0.0.1:9000\n"
	"                 steer these ports, on every local address, to the socket at 127.0.0.1:9000\n"
	"  sksteer -p 80,443 -s 127.0.0.1:9000\n"
	"                 run again: that target now owns exactly 80 and 443\n"
	"  sksteer -p 80,443 -s 127.0.0.1:9001 --dst 192.0.2.0/24\n"
	"                 on destinations in 192.0.2.0/24 only, 80 and 443 go to 127.0.0.1:9001\n"
	"  sksteer -s 127.0.0.1:9000\n"
	"                 the proxy restarted: steer to its new socket\n"
	"  sksteer -p 80,443\n"
	"                 change the ports of the only target\n"
	"  sksteer -s 127.0.0.1:9000 --add 8100-8199 --remove 443\n"
	"                 change some of a target's ports, keep the others\n"
	"  sksteer --save > /etc/sksteer/nginx.conf\n"
	"                 the steering of this namespace as a file, one target per line\n"
	"  sksteer --config /etc/sksteer/nginx.conf --dry-run\n"
	"                 what applying the file would change (+ added, - removed, ~ moved)\n"
	"  sksteer --config /etc/sksteer/nginx.conf\n"
	"                 make the steering exactly what the file says\n"
	"  sksteer --detach -s 127.0.0.1:9000\n"
	"                 stop steering to that target\n"
	"  sksteer --detach\n"
	"                 stop all steering in this network namespace\n"
	"  sksteer --trace\n"
	"                 show each lookup the program sees, until Ctrl-C\n"
	"  sksteer --trace --json | jq .\n"
	"                 the same as JSON lines\n"
	"  sksteer --list\n"
	"                 targets, owners, ports and counters of this namespace\n"
	"  sksteer --metrics > /var/lib/prometheus/node-exporter/sksteer.prom\n"
	"                 the counters for node_exporter's textfile collector\n"
	"  sksteer --check || alert\n"
	"                 quiet and 0 when every target is live with all its ports\n"
	"  sksteer --netns /run/netns/blue -p 80 -s 10.1.0.2:8080\n"
	"                 steer in another network namespace, from outside it\n"
	"  sksteer -p 80,443 --fd 3\n"
	"                 steer to the listening socket this process inherited as fd 3\n"
	"  sksteer --listen 0.0.0.0:9000 -p 80,8000-8999 -- nginx -g 'daemon off;'\n"
	"                 make the socket, steer to it, run nginx with it (LISTEN_FDS, fd 3)\n"
	"  ExecStart=/usr/sbin/sksteer --systemd -p 80,443 -- /usr/sbin/server\n"
	"                 in a unit a .socket unit starts: steer to the socket systemd passed\n"
	"  sksteer -p 80,443 -s 127.0.0.1:9000 --follow\n"
	"                 a new socket listening at 127.0.0.1:9000 (a proxy's reload) takes over at once\n"
	"\n"
	"A configuration file (sksteer.conf(5)) has one line per target: "
	"'tcp|udp ADDR:PORT PORTS [fail-closed] [force]', # for comments. --config checks the "
	"whole file (syntax, a port given twice, a target with nothing listening) before it "
	"changes anything, then moves ports between targets without a gap. --dry-run prints "
	"what would change and exits 0 when nothing would, 2 when something would; errors "
	"exit 1, usage errors 64.\n"
	"\n"
	"Privileges: steering (-p/-s) and --trace need CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON "
	"(before Linux 5.11 also CAP_SYS_RESOURCE, or an unlimited RLIMIT_MEMLOCK; "
	"SKSTEER_FIND=pidfd adds CAP_SYS_PTRACE); --detach needs CAP_BPF and CAP_NET_ADMIN; --list, --metrics and --check need only CAP_BPF "
	"(they open the pins read-only). --netns adds CAP_SYS_ADMIN to the commands that change "
	"steering; the read-only ones find the namespace's pins without entering it. The first run "
	"on a host without bpffs mounts it on /sys/fs/bpf, which needs CAP_SYS_ADMIN. Root has all "
	"of these. Needs a kernel >= 5.9 with BTF.";

enum {
	OPT_CHECK = 256,
	OPT_FAIL_CLOSED,
	OPT_FAIL_OPEN,
	OPT_SAVE,
	OPT_DRY_RUN,
	OPT_NEW_SOCKETS,
	OPT_FD,
	OPT_SYSTEMD,
	OPT_LISTEN,
	OPT_BACKLOG,
	OPT_REUSEPORT,
	OPT_V6ONLY,
	OPT_DUAL_STACK,
	OPT_FDNAME,
	OPT_FOLLOW,
	OPT_NO_FOLLOW,
	OPT_FOLLOW_CGROUP,
	OPT_DST,
};

static const struct argp_option opts[] = {
	{ "ports", 'p', "PORTS", 0, "Ports to steer to the target (replaces its ports)", 0 },
	{ "socket", 's', "TARGET", 0, "The socket to steer to", 0 },
	{ "force", 'f', NULL, 0,
	  "Take ports that another target owns, or that other sockets already use", 0 },
	{ "dst", OPT_DST, "PREFIX", 0,
	  "With -p: steer PORTS to the target only for connections to an address in PREFIX "
	  "(192.0.2.0/24, 2001:db8::/32; an address alone is /32 or /128). For each port the "
	  "most specific binding wins; without --dst a binding covers every address. With "
	  "--detach -s TARGET: remove only the target's ports for PREFIX",
	  0 },
	{ "add", 'a', "PORTS", 0, "Add PORTS to the target's ports, keep the others", 0 },
	{ "remove", 'r', "PORTS", 0, "Remove PORTS from the target's ports, keep the others", 0 },
	{ "detach", 'd', NULL, 0, "Stop steering: to TARGET with -s, else everything", 0 },
	{ "fail-closed", OPT_FAIL_CLOSED, NULL, 0,
	  "While the target's socket is gone, refuse its ports (TCP RST, UDP dropped) instead of "
	  "leaving them to other sockets; kept until --fail-open",
	  0 },
	{ "fail-open", OPT_FAIL_OPEN, NULL, 0,
	  "While the target's socket is gone, leave its ports to the kernel (the default)", 0 },
	{ "config", 'c', "FILE", 0,
	  "Make the steering exactly what FILE says (sksteer.conf(5); - reads standard input, a "
	  "pipe or a file)",
	  0 },
	{ "save", OPT_SAVE, NULL, 0, "Print the steering as a configuration file", 0 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0,
	  "With --config, -p, -s, --add or --remove: print what would change, change nothing; "
	  "exit 0 when in sync, 2 when something would change",
	  0 },
	{ "new-sockets", OPT_NEW_SOCKETS, NULL, 0,
	  "With --config: a target takes another socket at its address if there is one, not only "
	  "when its own is gone (a server that re-binds on reload)",
	  0 },
	{ "wait", 'w', "SECONDS", 0,
	  "Wait up to SECONDS (default 10) for another run's lock, then give up; with --config, "
	  "also for every target to listen (a server that binds late), and for standard input to "
	  "end (at least 10 s)",
	  0 },
	{ "trace", 't', NULL, 0,
	  "Stream lookup events until interrupted (after applying -p/-s, if given)", 0 },
	{ "list", 'l', NULL, 0, "Show targets, owners, ports and counters", 0 },
	{ "metrics", 'm', NULL, 0, "Print the counters in Prometheus text format", 0 },
	{ "json", 'j', NULL, 0, "With --trace: one JSON object per line; with --list: one document",
	  0 },
	{ "check", OPT_CHECK, NULL, 0,
	  "Exit 0 if every target's socket is live and owns all its ports; else one line per "
	  "problem and exit 1",
	  0 },
	{ "netns", 'n', "PATH", 0,
	  "Work on the network namespace at PATH (/run/netns/NAME, /proc/PID/ns/net) from outside "
	  "it",
	  0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's log, including the verifier's", 0 },
	{ NULL, 0, NULL, 0, "Sockets handed over (the target is the socket's own address):", 1 },
	{ "fd", OPT_FD, "FD|NAME", 0,
	  "Steer to the socket at descriptor FD of this process (inherited from the caller), or "
	  "named NAME in LISTEN_FDNAMES",
	  1 },
	{ "systemd", OPT_SYSTEMD, NULL, 0,
	  "Steer to the socket systemd passed (LISTEN_FDS, LISTEN_PID): run as a service's "
	  "ExecStart=sksteer --systemd -p PORTS -- SERVER",
	  1 },
	{ "listen", OPT_LISTEN, "TARGET", 0,
	  "Make a socket at TARGET (udp: for UDP), steer to it, and exec CMD with it as fd 3 "
	  "(LISTEN_FDS=1, LISTEN_PID, LISTEN_FDNAMES): --listen TARGET -p PORTS -- CMD [ARGS...]",
	  1 },
	{ "backlog", OPT_BACKLOG, "N", 0, "With --listen: the accept queue's length (4096)", 1 },
	{ "reuseport", OPT_REUSEPORT, NULL, 0, "With --listen: set SO_REUSEPORT", 1 },
	{ "v6only", OPT_V6ONLY, NULL, 0, "With --listen on IPv6: IPV6_V6ONLY, no IPv4", 1 },
	{ "dual-stack", OPT_DUAL_STACK, NULL, 0,
	  "With --listen on IPv6: IPv4 too, whatever net.ipv6.bindv6only says", 1 },
	{ "fdname", OPT_FDNAME, "NAME", 0, "With --listen: LISTEN_FDNAMES for CMD (sksteer)", 1 },
	{ NULL, 0, NULL, 0, "Following the target's address (TCP, cgroup v2):", 2 },
	{ "follow", OPT_FOLLOW, "group", OPTION_ARG_OPTIONAL,
	  "A new socket that listens at the target's address takes over its ports at once, in the "
	  "kernel (a proxy's reload): it alone gets new connections; =group spreads them over its "
	  "SO_REUSEPORT group. Only a socket of the same uid (and --follow-cgroup) may take over",
	  2 },
	{ "no-follow", OPT_NO_FOLLOW, NULL, 0, "Stop following the target's address", 2 },
	{ "follow-cgroup", OPT_FOLLOW_CGROUP, "CGROUP", 0,
	  "With --follow: only a socket made by a process of CGROUP (a path in the cgroup v2 "
	  "hierarchy, e.g. /system.slice/haproxy.service) may take over",
	  2 },
	{},
};

/* --list, --metrics and --check change nothing: read-only pins, CAP_BPF alone. */
static bool read_only(void)
{
	return env.list || env.metrics || env.check || env.save;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char err[ERRLEN];

	switch (key) {
	case 'p':
		if (parse_ports(arg, &env.ports, err, sizeof(err)))
			usage_fail(state, "%s", err);
		env.ports_arg = arg;
		break;
	case 's':
		if (parse_target(arg, &env.target, err, sizeof(err)))
			usage_fail(state, "%s", err);
		env.target_arg = arg;
		break;
	case 'a':
		if (parse_ports(arg, &env.add, err, sizeof(err)))
			usage_fail(state, "--add: %s", err);
		env.add_arg = arg;
		break;
	case 'r':
		if (parse_ports(arg, &env.remove, err, sizeof(err)))
			usage_fail(state, "--remove: %s", err);
		env.remove_arg = arg;
		break;
	case 'c':
		env.config_arg = arg;
		break;
	case OPT_DST:
		if (parse_prefix(arg, &env.dst, err, sizeof(err)))
			usage_fail(state, "--dst %s", err);
		env.dst_arg = arg;
		break;
	case OPT_SAVE:
		env.save = true;
		break;
	case OPT_DRY_RUN:
		env.dry_run = true;
		break;
	case OPT_NEW_SOCKETS:
		env.new_sockets = true;
		break;
	case 'w': {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (!*arg || *end || v > 3600 || arg[0] == '-')
			usage_fail(state,
				   "--wait %s: give whole seconds, 0 to 3600 (e.g. --wait 30)",
				   arg);
		env.wait_s = (unsigned int)v;
		env.wait_given = true;
		break;
	}
	case 'f':
		env.force = true;
		break;
	case 'd':
		env.detach = true;
		break;
	case 't':
		env.trace = true;
		break;
	case 'j':
		env.json = true;
		break;
	case 'l':
		env.list = true;
		break;
	case 'm':
		env.metrics = true;
		break;
	case OPT_CHECK:
		env.check = true;
		break;
	case OPT_FAIL_CLOSED:
	case OPT_FAIL_OPEN:
		if (env.fail_closed && env.fail_closed != (key == OPT_FAIL_CLOSED ? 1 : 2))
			argp_error(state, "--fail-closed and --fail-open contradict each other");
		env.fail_closed = key == OPT_FAIL_CLOSED ? 1 : 2;
		break;
	case 'n':
		env.netns_arg = arg;
		break;
	case 'v':
		env.verbose = true;
		break;
	case OPT_FD:
		env.fd_arg = arg;
		break;
	case OPT_SYSTEMD:
		env.systemd = true;
		break;
	case OPT_LISTEN:
		if (parse_target(arg, &env.target, err, sizeof(err)))
			usage_fail(state, "--listen: %s", err);
		env.listen_arg = arg;
		break;
	case OPT_BACKLOG: {
		char *end;
		long v = strtol(arg, &end, 10);

		if (!*arg || *end || v < 1 || v > 65535)
			usage_fail(state, "--backlog %s: give a length, 1 to 65535", arg);
		env.listen.backlog = (int)v;
		break;
	}
	case OPT_REUSEPORT:
		env.listen.reuseport = true;
		break;
	case OPT_V6ONLY:
	case OPT_DUAL_STACK:
		env.listen.v6only = key == OPT_V6ONLY;
		break;
	case OPT_FDNAME:
		if (!*arg || strchr(arg, ':') || strlen(arg) > 255)
			usage_fail(state,
				   "--fdname '%s': give a name of up to 255 characters without ':'",
				   arg);
		env.fdname = arg;
		break;
	case OPT_FOLLOW:
		if (arg && strcmp(arg, "group"))
			usage_fail(state,
				   "--follow=%s: give --follow (the new socket alone) or "
				   "--follow=group (its SO_REUSEPORT group)",
				   arg);
		env.follow = arg ? FOLLOW_GROUP : FOLLOW_ON;
		break;
	case OPT_NO_FOLLOW:
		env.follow = FOLLOW_OFF;
		break;
	case OPT_FOLLOW_CGROUP:
		env.follow_cgroup = arg;
		break;
	case ARGP_KEY_ARG:
		/* CMD [ARGS...]: the rest of the line, for whoever gets the socket */
		if (env.fd_arg || env.systemd || env.listen_arg) {
			env.cmd = &state->argv[state->next - 1];
			state->next = state->argc;
			break;
		}
		usage_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if ((env.fd_arg != NULL) + env.systemd + (env.listen_arg != NULL) > 1)
			argp_error(state,
				   "--fd, --systemd and --listen each name the socket: give one");
		else if ((env.fd_arg || env.systemd || env.listen_arg) &&
			 (env.target_arg || env.config_arg || env.detach || env.dry_run ||
			  env.add_arg || env.remove_arg || read_only()))
			argp_error(state,
				   "--fd, --systemd and --listen steer -p PORTS to the socket "
				   "they name: not with -s, --config, --detach, --add, --remove, "
				   "--dry-run or the read-only commands");
		else if (env.listen_arg && !env.cmd)
			argp_error(state,
				   "--listen needs a command to pass the socket to: --listen "
				   "TARGET -p PORTS -- CMD [ARGS...]");
		else if ((env.listen.backlog != 4096 || env.listen.reuseport ||
			  env.listen.v6only >= 0 || env.fdname) &&
			 !env.listen_arg)
			argp_error(state,
				   "--backlog, --reuseport, --v6only, --dual-stack and --fdname go "
				   "with --listen");
		else if (env.listen_arg && !env.ports_arg)
			argp_error(state, "--listen needs the ports to steer: -p PORTS");
		else if (env.follow_cgroup && env.follow != FOLLOW_ON && env.follow != FOLLOW_GROUP)
			argp_error(state, "--follow-cgroup goes with --follow");
		else if (env.follow && !env.target_arg && !env.fd_arg && !env.systemd &&
			 !env.listen_arg && !env.config_arg)
			argp_error(state, "--follow and --no-follow go with -s TARGET (or --fd, "
					  "--systemd, --listen)");
		else if (env.follow && (env.config_arg || env.detach || read_only()))
			argp_error(state,
				   "--follow and --no-follow go with -s TARGET, --fd, --systemd "
				   "or --listen (in a configuration file: the option 'follow')");
		if (env.fd_arg || env.systemd || env.listen_arg)
			env.target_arg = env.listen_arg ? env.listen_arg : "--fd";
		if (env.config_arg && (env.ports_arg || env.target_arg || env.add_arg ||
				       env.remove_arg || env.detach || env.fail_closed))
			argp_error(state,
				   "--config states the whole steering: use it without -p, -s, "
				   "--add, --remove, --detach, --fail-closed and --fail-open");
		else if ((env.add_arg || env.remove_arg) && (env.ports_arg || env.detach))
			argp_error(state, "--add and --remove change some of a target's ports: not "
					  "with -p (all of them) or --detach");
		else if (env.new_sockets && !env.config_arg)
			argp_error(state, "--new-sockets goes with --config");
		else if (env.dry_run && (env.trace || env.detach || read_only() ||
					 (!env.config_arg && !env.ports_arg && !env.target_arg &&
					  !env.add_arg && !env.remove_arg)))
			argp_error(state,
				   "--dry-run goes with --config, -p, -s, --add or --remove");
		if (env.dst_arg &&
		    (env.config_arg || env.add_arg || env.remove_arg || env.dry_run || env.trace ||
		     read_only() || (env.detach ? !env.target_arg : !env.ports_arg)))
			argp_error(state, "--dst goes with -p PORTS (or --detach -s TARGET): not "
					  "with --config, --add, --remove, --dry-run, --trace or "
					  "the read-only commands");
		/* from here on, --add and --remove are a run that sets the target's ports */
		if (!env.ports_arg)
			env.ports_arg = env.add_arg ? env.add_arg : env.remove_arg;
		if (env.detach && env.ports_arg)
			argp_error(state, "--detach takes -s TARGET or nothing, not -p");
		else if (env.detach && env.trace)
			argp_error(state, "--detach and --trace do not go together");
		else if (env.fail_closed && (env.detach || (!env.ports_arg && !env.target_arg)))
			argp_error(state,
				   "--fail-closed and --fail-open go with -s TARGET (and -p)");
		else if (env.json && !env.trace && !env.list)
			argp_error(state, "--json goes with --trace or --list");
		else if (read_only() && (env.detach || env.trace || env.ports_arg ||
					 env.target_arg || env.list + env.metrics + env.check > 1))
			argp_error(
				state,
				"--list, --metrics, --check and --save only look: use them alone");
		else if (!env.detach && !env.trace && !read_only() && !env.ports_arg &&
			 !env.target_arg && !env.config_arg)
			argp_error(state,
				   "nothing to do: give -p PORTS and -s TARGET (see --help)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

/*
 * The library's warnings, one line each on stderr, escaped as text (they may
 * quote a path); its debug lines with -v only.
 */
static int print_fn(enum sksteer_print_level level, const char *format, va_list args)
{
	char *msg = NULL;

	if (level != SKSTEER_WARN && !env.verbose)
		return 0;
	if (vasprintf(&msg, format, args) < 0)
		return -1;
	fputs(level == SKSTEER_WARN ? "sksteer: warning: " : "sksteer: ", stderr);
	esc_fputs(ESC_TEXT, msg, stderr);
	fputc('\n', stderr);
	free(msg);
	return 0;
}

/*
 * Every error's one line on stderr, whatever it quotes (an argument, a path, a
 * process's name; lower layers put them in as they are): escaped as text.
 */
static int fail(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	fputs("sksteer: ", stderr);
	esc_fputs(ESC_TEXT, n < 0 ? "out of memory" : msg, stderr);
	fputc('\n', stderr);
	if (n >= 0)
		free(msg);
	return 1;
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

static const char *command_name(void)
{
	if (env.list)
		return "--list";
	if (env.metrics)
		return "--metrics";
	if (env.check)
		return "--check";
	if (env.save)
		return "--save";
	if (env.dry_run)
		return "--dry-run";
	if (env.config_arg)
		return "--config";
	if (env.detach)
		return "--detach";
	if (env.ports_arg || env.target_arg)
		return "steering";
	return "--trace";
}

/* "A", "A and B", "A, B and C" */
static const char *join(const char *const *names, int n, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 !i	    ? "" :
			 i == n - 1 ? " and " :
				      ", ",
			 names[i]);
	return buf;
}

/*
 * Before 5.11, BPF maps and programs count against RLIMIT_MEMLOCK, and libbpf
 * raises it, which needs CAP_SYS_RESOURCE unless it is unlimited already.
 */
static bool memlock_limits_bpf(void)
{
	struct rlimit r;

	return !kernel_at_least(5, 11) && !getrlimit(RLIMIT_MEMLOCK, &r) &&
	       r.rlim_cur != RLIM_INFINITY;
}

/* What each command needs, checked up front for one clear line. */
static int check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	struct {
		int cap;
		const char *name;
		bool needed;
	} caps[] = {
		{ CAP_BPF, "CAP_BPF", true },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN", !read_only() && !env.dry_run },
		/* loading: the verifier wants it for the program's pointer arithmetic */
		{ CAP_PERFMON, "CAP_PERFMON", !read_only() && !env.detach && !env.dry_run },
		{ CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE",
		  !read_only() && !env.detach && !env.dry_run && memlock_limits_bpf() },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN", env.netns_arg && !read_only() },
	};
	const char *needs[5], *lacks[5];
	int nneeds = 0, nlacks = 0;
	char need[128], lack[128];

	if (syscall(SYS_capget, &h, d))
		return 0; /* let the operations themselves tell */
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		/* as the kernel's bpf_capable() and perfmon_capable() */
		bool held = has_cap(d, caps[i].cap) ||
			    ((caps[i].cap == CAP_BPF || caps[i].cap == CAP_PERFMON) &&
			     has_cap(d, CAP_SYS_ADMIN));

		if (!caps[i].needed)
			continue;
		needs[nneeds++] = caps[i].name;
		if (!held)
			lacks[nlacks++] = caps[i].name;
	}
	if (!nlacks)
		return 0;
	join(needs, nneeds, need, sizeof(need));
	join(lacks, nlacks, lack, sizeof(lack));
	return fail("%s%s needs %s, and this process lacks %s: run it with sudo%s", command_name(),
		    env.netns_arg && !read_only() ? " with --netns" : "", need, lack,
		    strstr(lack, "CAP_SYS_RESOURCE") ?
			    " (before Linux 5.11, BPF memory counts against RLIMIT_MEMLOCK: "
			    "CAP_SYS_RESOURCE, or 'ulimit -l unlimited')" :
			    "");
}

/* The namespace to work on: ours, or --netns PATH (opened into *fd, else -1). 0 or 1. */
static int open_netns(int *fd, uint64_t *ino)
{
	char err[ERRLEN];
	struct stat st;

	*fd = -1;
	if (!env.netns_arg) {
		if (stat("/proc/self/ns/net", &st))
			return fail("cannot identify this network namespace: %s", strerror(errno));
		*ino = st.st_ino;
		return 0;
	}
	if (input_netns(env.netns_arg, fd, ino, err, sizeof(err)))
		return fail("%s", err);
	return 0;
}

/*
 * Enters the --netns namespace, so that sockets are found and the link attached
 * there. Readers without CAP_SYS_ADMIN stay outside: they need only the pins.
 */
static int enter_netns(int fd)
{
	if (setns(fd, CLONE_NEWNET) && !read_only())
		return fail("cannot enter the network namespace %s: %s", env.netns_arg,
			    strerror(errno));
	return 0;
}

static int check_kernel(void)
{
	int ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return fail(
			"this kernel has no BTF (/sys/kernel/btf/vmlinux): sksteer needs a kernel "
			"built with CONFIG_DEBUG_INFO_BTF=y");
	ret = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SK_LOOKUP, NULL);
	if (ret < 0)
		return fail("cannot ask the kernel whether it runs sk_lookup programs: %s",
			    strerror(-ret));
	if (!ret)
		return fail("this kernel cannot run sk_lookup programs: sksteer needs Linux 5.9 or "
			    "later with CONFIG_BPF_SYSCALL=y and CONFIG_NET=y");
	return 0;
}

/* -s and/or -p, --add, --remove, --follow: change the configuration, attaching on the first run. */
static int configure(struct live *l, char *err, size_t errlen)
{
	struct change c = { .force = env.force, .fail_closed = env.fail_closed, .dst = &env.dst };

	if (env.target_arg) {
		c.target = &env.target;
		c.new_socket = true;
		c.restart = !env.ports_arg;
		c.given = env.given.held ? &env.given : NULL;
	}
	c.ports = env.ports_arg ? &env.ports : NULL;
	return change_run(l, &c, env.add_arg ? &env.add : NULL, env.remove_arg ? &env.remove : NULL,
			  env.follow, env.follow_cgroup, err, errlen);
}

/* --dry-run with -p, -s, --add or --remove: what configure() would change. */
static int dry_run(struct live *l, char *err, size_t errlen)
{
	struct change c = { .force = env.force, .fail_closed = env.fail_closed };

	if (env.target_arg) {
		c.target = &env.target;
		c.new_socket = true;
		c.restart = !env.ports_arg;
	}
	c.ports = env.ports_arg ? &env.ports : NULL;
	return change_dry_run(l, &c, env.add_arg ? &env.add : NULL,
			      env.remove_arg ? &env.remove : NULL, stdout, err, errlen);
}

static int detach(struct live *l, char *err, size_t errlen)
{
	return detach_run(l, env.target_arg ? &env.target : NULL, env.dst_arg ? &env.dst : NULL,
			  err, errlen);
}

/*
 * --fd, --systemd, --listen: the socket to steer to, read from its descriptor
 * (made first for --listen), and CMD checked, before anything changes.
 */
static int handover_prepare(uint64_t netns_ino, char *err, size_t errlen)
{
	char what[320];
	int fd;

	if (env.cmd && handover_exec_check(env.cmd, err, errlen))
		return -1;
	if (env.listen_arg) {
		fd = handover_listen(&env.target, &env.listen, err, errlen);
		snprintf(what, sizeof(what), "--listen %s", env.listen_arg);
	} else {
		fd = handover_resolve(env.systemd ? NULL : env.fd_arg, err, errlen);
		if (env.systemd)
			snprintf(what, sizeof(what), "--systemd: descriptor %d", fd);
		else if (fd != atoi(env.fd_arg))
			snprintf(what, sizeof(what), "--fd %s (descriptor %d)", env.fd_arg, fd);
		else
			snprintf(what, sizeof(what), "--fd %s", env.fd_arg);
	}
	if (fd < 0 || handover_from_fd(fd, what, netns_ino, &env.given, err, errlen))
		return -1;
	env.target = env.given.addr;
	return 0;
}

/* "this network namespace", or the one --netns names */
static const char *netns_name(void)
{
	static char name[PATH_MAX + 32];

	if (!env.netns_arg)
		return "this network namespace";
	snprintf(name, sizeof(name), "network namespace %s", env.netns_arg);
	return name;
}

/* --check: quiet and 0 when healthy; one line per problem on stderr and 1 otherwise. */
static int check(struct live *l, char *err, size_t errlen)
{
	struct status *st;
	int problems;

	if (!l->pins.live) {
		if (l->pins.stale)
			fail("the steering pinned in %s is not attached to %s (its link was detached "
			     "or never pinned): apply the configuration again",
			     l->pins.dir, netns_name());
		else
			fail("nothing is steered in %s: steer with -p PORTS -s TARGET",
			     netns_name());
		return 1;
	}
	st = calloc(1, sizeof(*st));
	if (!st || live_open(l, err, errlen) || status_collect(l, st, err, errlen)) {
		free(st);
		return -1;
	}
	fflush(stdout);
	problems = status_check(l, st, stderr);
	status_free(st);
	free(st);
	return problems ? 1 : 0;
}

/* --list, --metrics: read only, from the pinned maps. */
static int show(struct live *l, char *err, size_t errlen)
{
	struct status *st;
	int ret = -1;

	if (!l->pins.live) {
		if (env.metrics) {
			printf("# sksteer: not steering in network namespace %llu\n",
			       (unsigned long long)l->pins.netns_ino);
		} else if (env.json) {
			printf("{\"netns\":%llu,\"steering\":false,\"targets\":[]}\n",
			       (unsigned long long)l->pins.netns_ino);
		} else {
			fputs("not steering in ", stdout);
			esc_fputs(ESC_TEXT, netns_name(), stdout); /* --netns PATH */
			putchar('\n');
		}
		return 0;
	}
	st = calloc(1, sizeof(*st));
	if (!st || live_open(l, err, errlen) || status_collect(l, st, err, errlen))
		goto out;
	if (env.metrics)
		status_metrics(st, stdout);
	else if (env.json)
		status_json(st, stdout);
	else
		status_text(st, stdout);
	status_free(st);
	ret = 0;
out:
	free(st);
	return ret;
}

static int64_t realtime_offset_ns(void)
{
	struct timespec real, mono;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (int64_t)(real.tv_sec - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
}

static void report_lost(uint64_t lost)
{
	if (env.json)
		printf("{\"events_lost\":%llu}\n", (unsigned long long)lost);
	else if (lost)
		fprintf(stderr, "sksteer: %llu events lost (the ring buffer was full)\n",
			(unsigned long long)lost);
	fflush(stdout);
}

/*
 * --trace: swap a tracing instance of the program into the link, stream its
 * events, and swap the program that ran before back in. Other runs may change
 * the configuration meanwhile: the lock is released while streaming.
 */
static int trace(struct live *l, char *err, size_t errlen)
{
	struct trace_out out = { .f = stdout, .json = env.json, .live = l };
	struct tracing t;
	uint64_t lost;
	int ret, follow_fd;

	if (!l->pins.live) {
		snprintf(err, errlen,
			 "nothing is steered in this namespace, so nothing to trace: "
			 "steer with -p and -s first");
		return -1;
	}
	if (live_open(l, err, errlen))
		return -1;
	lost = events_lost(l->fds[MAP_STATS]);
	if (program_trace_begin(l, &t, err, errlen))
		return -1;
	flock(l->pins.dir_fd, LOCK_UN);

	out.realtime_offset_ns = realtime_offset_ns();
	follow_fd = follow_events_fd(l);
	ret = trace_stream(&out, t.events_fd, follow_fd, t.link_fd, &stop_requested, err, errlen);
	if (follow_fd >= 0)
		close(follow_fd);

	/*
	 * The signal that ended the stream asked for this: the wait for the lock
	 * ends at the next one only. Without the lock the tracing program stays;
	 * the next run puts a plain one back.
	 */
	stop_dealt_with();
	if (pins_lock(&l->pins, LOCK_EX, err, errlen)) {
		program_trace_free(&t);
		if (stop_pending())
			snprintf(err, errlen,
				 "interrupted by %s while waiting for the lock to put the plain "
				 "program back: the next run that changes steering does so",
				 stop_signal());
		return -1;
	}
	program_trace_end(l, &t);
	report_lost(events_lost(l->fds[MAP_STATS]) - lost);
	return ret;
}

/* --config: the run's options, and its input as read_config() read it */
static struct apply_opts config;
static char *config_text;

/*
 * The whole --config input, read before the lock is taken, so that no input
 * (a FIFO, a pipe whose writer stalls) can hold up a run that holds it.
 * Standard input has INPUT_WAIT_S seconds, or --wait's if longer. 0 or 1.
 */
static int read_config(void)
{
	unsigned int wait_s = env.wait_s > INPUT_WAIT_S ? env.wait_s : INPUT_WAIT_S;
	char err[ERRLEN];

	config = (struct apply_opts){ .file = env.config_arg,
				      .dry_run = env.dry_run,
				      .force = env.force,
				      .new_sockets = env.new_sockets,
				      .wait_s = env.wait_s,
				      .out = stdout };
	if (!env.config_arg)
		return 0;
	if (input_config(env.config_arg, wait_s, &config_text, &config.len, err, sizeof(err)))
		return fail("%s", err);
	config.text = config_text;
	return 0;
}

/*
 * A run holds a few dozen descriptors at once (pinned maps, the skeletons'
 * maps and programs, a tracer's ring buffers): raise the soft RLIMIT_NOFILE
 * if it is lower, and refuse with one line, before anything changes, where
 * the hard limit is too low to run at all.
 */
#define NOFILE_NEED 128
#define NOFILE_WANT 1024
static int enough_files(char *err, size_t errlen)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= NOFILE_WANT)
		return 0;
	if (r.rlim_max < NOFILE_NEED) {
		snprintf(err, errlen,
			 "a run needs up to %d open files, and RLIMIT_NOFILE allows %llu: raise "
			 "it (ulimit -n %d)",
			 NOFILE_NEED, (unsigned long long)r.rlim_max, NOFILE_NEED);
		return -1;
	}
	r.rlim_cur = r.rlim_max < NOFILE_WANT ? r.rlim_max : NOFILE_WANT;
	setrlimit(RLIMIT_NOFILE, &r);
	return 0;
}

int main(int argc, char **argv)
{
	static char program_name[] = "sksteer";
	struct live l = { .fds = { [0 ... NR_MAPS - 1] = -1 } };
	enum pins_mode mode = PINS_CHANGE;
	char err[ERRLEN] = "";
	uint64_t netns_ino = 0;
	int ret, netns_fd;

	argp_err_exit_status = 64;
	/* messages say "sksteer:", not whatever argv[0] holds (a path, a newline) */
	argv[0] = program_name;
	usage_check_options(&argp, (const int[]){ OPT_FD, OPT_SYSTEMD, OPT_LISTEN, 0 }, argc, argv);
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return 64;
	libbpf_set_print(libbpf_print_fn);
	sksteer_set_print(print_fn);
	/* from here on a signal ends the run at its next safe point, with one line */
	stop_on_signals();
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Only runs that load programs ask the kernel; --detach has pins to show it
	 * can. The configuration is read first: before anything opens a file that
	 * could take the place of a closed standard input.
	 */
	if (check_privileges() || read_config() ||
	    (!read_only() && !env.detach && !env.dry_run && check_kernel()))
		return 1;
	if (enough_files(err, sizeof(err)))
		return fail("%s", err);
	if (env.wait_given)
		pins_lock_wait_s = env.wait_s;
	if (open_netns(&netns_fd, &netns_ino))
		return 1;
	/* only a run that configures creates the pin directory */
	if (read_only() || env.dry_run)
		mode = PINS_READ;
	else if (!env.detach && (env.ports_arg || env.target_arg || env.config_arg))
		mode = PINS_CREATE;
	ret = pins_open(&l.pins, netns_ino, mode, err, sizeof(err));
	if (ret < 0)
		return fail("%s", err);
	if (netns_fd >= 0 && enter_netns(netns_fd)) {
		live_close(&l);
		return 1;
	}
	ret = 0; /* 1 from pins_open(), no pin directory, is just "not live" here */
	if ((env.fd_arg || env.systemd || env.listen_arg) &&
	    handover_prepare(netns_ino, err, sizeof(err))) {
		live_close(&l);
		return fail("%s", err);
	}
	if (follow_check(&env.target, env.follow, env.follow_cgroup, err, sizeof(err)) ||
	    stop_check("", err, sizeof(err))) {
		live_close(&l);
		return fail("%s", err);
	}
	if (env.detach && !l.pins.live) {
		live_close(&l);
		/* nothing to undo: detaching everything twice is not an error */
		if (env.target_arg)
			return fail("%s is not a target in %s: nothing is steered there",
				    env.target_arg, netns_name());
		return 0;
	}
	if (env.check)
		ret = check(&l, err, sizeof(err));
	else if (env.list || env.metrics)
		ret = show(&l, err, sizeof(err));
	else if (env.save)
		ret = config_save(&l, stdout, err, sizeof(err));
	else if (env.config_arg)
		ret = config_run(&l, &config, err, sizeof(err));
	else if (env.dry_run)
		ret = dry_run(&l, err, sizeof(err));
	else if (env.detach)
		ret = detach(&l, err, sizeof(err));
	else if (env.ports_arg || env.target_arg)
		ret = configure(&l, err, sizeof(err));
	/* a run stopped once its change is made: no tracing, no CMD */
	if (!ret && env.trace && !stop_pending())
		ret = trace(&l, err, sizeof(err));
	live_close(&l);
	free(config_text);
	if (!ret && env.cmd && stop_pending())
		return fail("interrupted by %s once the steering was in place: %s not started",
			    stop_signal(), env.cmd[0]);
	/* the steering is in place: CMD gets the socket (and keeps our pid) */
	if (!ret && env.cmd)
		return fail("%s", handover_exec(env.listen_arg ? env.given.fd : -1,
						env.fdname ? env.fdname : "sksteer", env.cmd, err,
						sizeof(err)) ?
					  err :
					  "");
	if (ret > 0) /* --check found problems, and said so; --dry-run found changes */
		return env.dry_run ? 2 : 1;
	return ret ? fail("%s", err) : 0;
}
