// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The command line's options and their combinations; see options.h. */
#include <argp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "access.h"
#include "config.h"
#include "options.h"
#include "usage.h"

#define ERRLEN 1024

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
	"  sksteer --config /etc/sksteer/nginx.conf --watch\n"
	"                 ... and again whenever it changes (a ConfigMap), until SIGTERM\n"
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
	"  sksteer --serve-metrics 127.0.0.1:9917 --all-netns\n"
	"                 every namespace's, over HTTP for Prometheus, with CAP_BPF alone\n"
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
	"SKSTEER_FIND=pidfd adds CAP_SYS_PTRACE); --detach needs CAP_BPF and CAP_NET_ADMIN; --list, --metrics, --serve-metrics (but with --watch, what applying needs) and --check need only CAP_BPF "
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
	OPT_ALL_NETNS,
	OPT_SERVE_METRICS,
	OPT_WATCH,
	OPT_GROUP,
};

static const struct argp_option opts[] = {
	{ "ports", 'p', "PORTS", 0, "Ports to steer to the target (replaces its ports)", 0 },
	{ "socket", 's', "TARGET", 0, "The socket to steer to; with --list, the one to show", 0 },
	{ "force", 'f', NULL, 0,
	  "Take ports that another target owns, or that other sockets already use", 0 },
	{ "dst", OPT_DST, "PREFIX", 0,
	  "With -p (or --add, --remove): steer PORTS to the target only for connections to an "
	  "address in PREFIX "
	  "(192.0.2.0/24, 2001:db8::/32; an address alone is /32 or /128). For each port the "
	  "most specific binding wins; without --dst a binding covers every address. With "
	  "--detach -s TARGET: remove only the target's ports for PREFIX. With --list: the "
	  "bindings for addresses in PREFIX (prefixes inside or around it, and those for every "
	  "address)",
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
	  "With --config, -p, -s, --add or --remove: print what would change, then the kernel "
	  "updates the change would make (as -v counts them), change nothing; exit 0 when in "
	  "sync, 2 when something would change",
	  0 },
	{ "watch", OPT_WATCH, NULL, 0,
	  "With --config FILE: stay, and apply FILE again whenever it changes (rewritten, renamed "
	  "over, a Kubernetes ConfigMap's ..data swapped) or on SIGHUP; a file that fails keeps "
	  "the steering as it was. SIGTERM ends it, the steering left in place",
	  0 },
	{ "group", OPT_GROUP, "NAME", 0,
	  "Let group NAME (or a gid) read the pins: its members run --list, --metrics, "
	  "--serve-metrics and --check with no capability (Linux 5.19 on; before, with "
	  "kernel.unprivileged_bpf_disabled=0), and change nothing; 'root': no group. With -p, "
	  "-s, --add, --remove, or alone; in a configuration file: 'group NAME'",
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
	{ "list", 'l', NULL, 0,
	  "Show targets, owners, ports and counters (past 16 prefixes a target, their counts: "
	  "-s TARGET or --dst PREFIX shows them)",
	  0 },
	{ "metrics", 'm', NULL, 0, "Print the counters in Prometheus text format", 0 },
	{ "serve-metrics", OPT_SERVE_METRICS, "ADDR:PORT", 0,
	  "Serve --metrics over HTTP at ADDR:PORT (/metrics), read afresh each scrape, until "
	  "SIGTERM; with --netns PATH or --all-netns. Keeps CAP_BPF alone once listening. With "
	  "--config FILE --watch: FILE's namespace, and its applies (with what applying needs)",
	  0 },
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
	{ "all-netns", OPT_ALL_NETNS, NULL, 0,
	  "With --list, --metrics, --serve-metrics or --check: every network namespace with "
	  "sksteer pins, each "
	  "named by its /run/netns name, else a process in it, else its inode",
	  0 },
	{ "verbose", 'v', NULL, 0,
	  "Show libbpf's log, including the verifier's, and a change's count of kernel updates",
	  0 },
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

bool options_read_only(const struct args *a)
{
	return a->list || a->metrics || a->check || a->save || (a->serve_arg && !a->config.watch);
}

int options_lock_wait(const struct args *a)
{
	return a->wait_given ? (a->wait_s ? (int)a->wait_s : -1) : 0;
}

bool options_handover(const struct args *a)
{
	return a->handover.fd_arg || a->handover.systemd || a->handover.listen_arg;
}

/* What goes with what: checked once every option is in. */
static void check_combinations(struct argp_state *state, struct args *a)
{
	if ((a->handover.fd_arg != NULL) + a->handover.systemd + (a->handover.listen_arg != NULL) >
	    1)
		argp_error(state, "--fd, --systemd and --listen each name the socket: give one");
	else if ((a->handover.fd_arg || a->handover.systemd || a->handover.listen_arg) &&
		 (a->steer.target_arg || a->config.file || a->detach || a->dry_run ||
		  a->steer.add_arg || a->steer.remove_arg || options_read_only(a)))
		argp_error(state, "--fd, --systemd and --listen steer -p PORTS to the socket "
				  "they name: not with -s, --config, --detach, --add, --remove, "
				  "--dry-run or the read-only commands");
	else if (a->handover.listen_arg && !a->handover.cmd)
		argp_error(state, "--listen needs a command to pass the socket to: --listen "
				  "TARGET -p PORTS -- CMD [ARGS...]");
	else if ((a->handover.listen.backlog != 4096 || a->handover.listen.reuseport ||
		  a->handover.listen.v6only >= 0 || a->handover.fdname) &&
		 !a->handover.listen_arg)
		argp_error(state, "--backlog, --reuseport, --v6only, --dual-stack and --fdname go "
				  "with --listen");
	else if (a->handover.listen_arg && !a->steer.ports_arg)
		argp_error(state, "--listen needs the ports to steer: -p PORTS");
	else if (a->steer.follow_cgroup && a->steer.follow != FOLLOW_ON &&
		 a->steer.follow != FOLLOW_GROUP)
		argp_error(state, "--follow-cgroup goes with --follow");
	else if (a->steer.follow && !a->steer.target_arg && !a->handover.fd_arg &&
		 !a->handover.systemd && !a->handover.listen_arg && !a->config.file)
		argp_error(state, "--follow and --no-follow go with -s TARGET (or --fd, "
				  "--systemd, --listen)");
	else if (a->steer.follow && (a->config.file || a->detach || options_read_only(a)))
		argp_error(state, "--follow and --no-follow go with -s TARGET, --fd, --systemd "
				  "or --listen (in a configuration file: the option 'follow')");
	if (a->handover.fd_arg || a->handover.systemd || a->handover.listen_arg)
		a->steer.target_arg = a->handover.listen_arg ? a->handover.listen_arg : "--fd";
	if (a->config.file && (a->steer.ports_arg || a->steer.target_arg || a->steer.add_arg ||
			       a->steer.remove_arg || a->detach || a->steer.fail_closed))
		argp_error(state, "--config states the whole steering: use it without -p, -s, "
				  "--add, --remove, --detach, --fail-closed and --fail-open");
	else if ((a->steer.add_arg || a->steer.remove_arg) && (a->steer.ports_arg || a->detach))
		argp_error(state, "--add and --remove change some of a target's ports: not "
				  "with -p (all of them) or --detach");
	else if (a->config.new_sockets && !a->config.file)
		argp_error(state, "--new-sockets goes with --config");
	else if (a->config.watch && (!a->config.file || !strcmp(a->config.file, "-")))
		argp_error(state, "--watch follows a file: --config FILE --watch");
	else if (a->config.watch && (a->dry_run || a->trace || a->handover.cmd || a->all_netns))
		argp_error(state,
			   "--watch applies FILE for as long as it runs: not with --dry-run, "
			   "--trace, --all-netns or -- CMD");
	else if (a->serve_arg && a->config.file && !a->config.watch)
		argp_error(state, "--serve-metrics with --config takes --watch: a server stays, a "
				  "single apply does not");
	else if (a->dry_run && (a->trace || a->detach || options_read_only(a) ||
				(!a->config.file && !a->steer.ports_arg && !a->steer.target_arg &&
				 !a->steer.add_arg && !a->steer.remove_arg && !a->group_arg)))
		argp_error(state,
			   "--dry-run goes with --config, -p, -s, --add, --remove or --group");
	/* --list --dst PREFIX shows bindings; with -p and the like, the check below refuses it */
	if (a->steer.dst_arg && !a->list &&
	    (a->config.file || a->trace || options_read_only(a) ||
	     (a->detach ? !a->steer.target_arg :
			  !a->steer.ports_arg && !a->steer.add_arg && !a->steer.remove_arg)))
		argp_error(state, "--dst goes with -p PORTS, --add or --remove (or --detach -s "
				  "TARGET, or --list): not with --config, --trace or the other "
				  "read-only commands");
	/* from here on, --add and --remove are a run that sets the target's ports */
	if (!a->steer.ports_arg)
		a->steer.ports_arg = a->steer.add_arg ? a->steer.add_arg : a->steer.remove_arg;
	if (a->detach && a->steer.ports_arg)
		argp_error(state, "--detach takes -s TARGET or nothing, not -p");
	else if (a->detach && a->trace)
		argp_error(state, "--detach and --trace do not go together");
	else if (a->steer.fail_closed &&
		 (a->detach || (!a->steer.ports_arg && !a->steer.target_arg)))
		argp_error(state, "--fail-closed and --fail-open go with -s TARGET (and -p)");
	else if (a->json && !a->trace && !a->list)
		argp_error(state, "--json goes with --trace or --list");
	else if (a->serve_arg && (a->list || a->metrics || a->check || a->save || a->json))
		argp_error(state, "--serve-metrics serves --metrics: not with --metrics, --list, "
				  "--check, --save or --json");
	else if (options_read_only(a) &&
		 (a->detach || a->trace || a->steer.ports_arg || a->config.file ||
		  a->steer.fail_closed || (a->steer.target_arg && !a->list) ||
		  a->list + a->metrics + a->check + a->save + (a->serve_arg != NULL) > 1))
		argp_error(state,
			   "--list, --metrics, --check and --save only look: use them alone");
	else if (a->all_netns && (!(a->list || a->metrics || a->check || a->serve_arg) || a->save ||
				  a->netns_arg || a->steer.target_arg || a->steer.dst_arg))
		argp_error(state,
			   "--all-netns goes with --list, --metrics, --serve-metrics or --check "
			   "alone: not with --netns, -s or --dst");
	else if (a->group_arg && (a->config.file || a->detach || a->trace || options_read_only(a)))
		argp_error(state,
			   "--group goes with -p, -s, --add, --remove or alone (with "
			   "--config, the file's 'group NAME' line): not with --detach, --trace "
			   "or the read-only commands");
	else if (!a->detach && !a->trace && !options_read_only(a) && !a->steer.ports_arg &&
		 !a->steer.target_arg && !a->config.file && !a->group_arg)
		argp_error(state, "nothing to do: give -p PORTS and -s TARGET (see --help)");
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct args *a = state->input;
	struct portset ports, add, remove;
	struct prefix dst;
	char err[ERRLEN];
	gid_t gid;

	switch (key) {
	case 'p':
		if (parse_ports(arg, &ports, err, sizeof(err)))
			usage_fail(state, "%s", err);
		a->steer.ports_arg = arg;
		break;
	case 's':
		if (parse_target(arg, &a->steer.target, err, sizeof(err)))
			usage_fail(state, "%s", err);
		a->steer.target_arg = arg;
		break;
	case 'a':
		if (parse_ports(arg, &add, err, sizeof(err)))
			usage_fail(state, "--add: %s", err);
		a->steer.add_arg = arg;
		break;
	case 'r':
		if (parse_ports(arg, &remove, err, sizeof(err)))
			usage_fail(state, "--remove: %s", err);
		a->steer.remove_arg = arg;
		break;
	case 'c':
		a->config.file = arg;
		break;
	case OPT_DST:
		if (parse_prefix(arg, &dst, err, sizeof(err)))
			usage_fail(state, "--dst %s", err);
		a->steer.dst_arg = arg;
		break;
	case OPT_SAVE:
		a->save = true;
		break;
	case OPT_ALL_NETNS:
		a->all_netns = true;
		break;
	case OPT_SERVE_METRICS:
		if (parse_target(arg, &a->serve, err, sizeof(err)))
			usage_fail(state, "--serve-metrics %s", err);
		if (a->serve.proto != IPPROTO_TCP)
			usage_fail(state,
				   "--serve-metrics %s: HTTP is TCP: give ADDR:PORT "
				   "(127.0.0.1:9917)",
				   arg);
		a->serve_arg = arg;
		break;
	case OPT_WATCH:
		a->config.watch = true;
		break;
	case OPT_GROUP:
		if (!config_group_valid(arg))
			usage_fail(state,
				   "--group %s: not a group's name: letters, digits, '.', '_' and "
				   "'-', at most 32, or its number",
				   arg);
		if (group_gid(arg, &gid))
			usage_fail(state,
				   "--group %s: no such group in /etc/group: create it ('groupadd "
				   "%s'), or give its number",
				   arg, arg);
		a->group_arg = arg;
		break;
	case OPT_DRY_RUN:
		a->dry_run = true;
		break;
	case OPT_NEW_SOCKETS:
		a->config.new_sockets = true;
		break;
	case 'w': {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (!*arg || *end || v > 3600 || arg[0] == '-')
			usage_fail(state,
				   "--wait %s: give whole seconds, 0 to 3600 (e.g. --wait 30)",
				   arg);
		a->wait_s = (unsigned int)v;
		a->wait_given = true;
		break;
	}
	case 'f':
		a->steer.force = true;
		break;
	case 'd':
		a->detach = true;
		break;
	case 't':
		a->trace = true;
		break;
	case 'j':
		a->json = true;
		break;
	case 'l':
		a->list = true;
		break;
	case 'm':
		a->metrics = true;
		break;
	case OPT_CHECK:
		a->check = true;
		break;
	case OPT_FAIL_CLOSED:
	case OPT_FAIL_OPEN:
		if (a->steer.fail_closed &&
		    a->steer.fail_closed != (key == OPT_FAIL_CLOSED ? 1 : 2))
			argp_error(state, "--fail-closed and --fail-open contradict each other");
		a->steer.fail_closed = key == OPT_FAIL_CLOSED ? 1 : 2;
		break;
	case 'n':
		a->netns_arg = arg;
		break;
	case 'v':
		a->verbose = true;
		break;
	case OPT_FD:
		a->handover.fd_arg = arg;
		break;
	case OPT_SYSTEMD:
		a->handover.systemd = true;
		break;
	case OPT_LISTEN:
		if (parse_target(arg, &a->steer.target, err, sizeof(err)))
			usage_fail(state, "--listen: %s", err);
		a->handover.listen_arg = arg;
		break;
	case OPT_BACKLOG: {
		char *end;
		long v = strtol(arg, &end, 10);

		if (!*arg || *end || v < 1 || v > 65535)
			usage_fail(state, "--backlog %s: give a length, 1 to 65535", arg);
		a->handover.listen.backlog = (int)v;
		break;
	}
	case OPT_REUSEPORT:
		a->handover.listen.reuseport = true;
		break;
	case OPT_V6ONLY:
	case OPT_DUAL_STACK:
		a->handover.listen.v6only = key == OPT_V6ONLY;
		break;
	case OPT_FDNAME:
		if (!*arg || strchr(arg, ':') || strlen(arg) > 255)
			usage_fail(state,
				   "--fdname '%s': give a name of up to 255 characters without ':'",
				   arg);
		a->handover.fdname = arg;
		break;
	case OPT_FOLLOW:
		if (arg && strcmp(arg, "group"))
			usage_fail(state,
				   "--follow=%s: give --follow (the new socket alone) or "
				   "--follow=group (its SO_REUSEPORT group)",
				   arg);
		a->steer.follow = arg ? FOLLOW_GROUP : FOLLOW_ON;
		break;
	case OPT_NO_FOLLOW:
		a->steer.follow = FOLLOW_OFF;
		break;
	case OPT_FOLLOW_CGROUP:
		a->steer.follow_cgroup = arg;
		break;
	case ARGP_KEY_ARG:
		/* CMD [ARGS...]: the rest of the line, for whoever gets the socket */
		if (a->handover.fd_arg || a->handover.systemd || a->handover.listen_arg) {
			a->handover.cmd = &state->argv[state->next - 1];
			state->next = state->argc;
			break;
		}
		usage_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		check_combinations(state, a);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };

void options_parse(int argc, char **argv, struct args *a)
{
	*a = (struct args){ .handover.listen = { .backlog = 4096, .v6only = -1 } };
	argp_err_exit_status = 64;
	usage_check_options(&argp, (const int[]){ OPT_FD, OPT_SYSTEMD, OPT_LISTEN, 0 }, argc, argv);
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, a))
		exit(64);
}
