// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * --all-netns: --list, --list --json, --metrics and --check over every network
 * namespace with sksteer pins, each named as an operator knows it: its
 * /run/netns name, else a process in it (a container's), else its inode. A
 * namespace that is gone, its pins left over, is said to be stale.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "commands.h"
#include "escape.h"
#include "show.h"
#include "signals.h"

struct netns {
	uint64_t ino;
	char name[NAME_MAX + 48]; /* "web", "pid 1234 (nginx)" or "inode 4026532174" */
	char path[PATH_MAX]; /* where it opens: /run/netns/NAME, /proc/PID/ns/net; "": nowhere */
	struct sksteer_ns *ns; /* open while it is worked on */
	struct sksteer_status *st;
	bool opened, steering;
};

static struct netns *find(struct netns *v, size_t n, uint64_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].ino == ino && !v[i].path[0])
			return &v[i];
	return NULL;
}

/* Names from /run/netns (ip netns add): the name an operator gave. */
static void names_from_run(struct netns *v, size_t n)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;
	struct netns *ns;
	struct stat st;

	while (d && (de = readdir(d))) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st) || !(ns = find(v, n, st.st_ino)))
			continue;
		snprintf(ns->name, sizeof(ns->name), "%s", de->d_name);
		snprintf(ns->path, sizeof(ns->path), "%s", path);
	}
	if (d)
		closedir(d);
}

/*
 * Else the lowest pid in it (readdir gives /proc's pids ascending) and its
 * command: never this process's own, a name that would change at each run (a
 * server's restart: new series). Stating another process's namespace needs
 * ptrace access (with CAP_BPF alone: its uid's, and no more capabilities).
 */
static void names_from_procs(struct netns *v, size_t n)
{
	char self[16];

	DIR *d = opendir("/proc");
	struct dirent *de;
	struct netns *ns;
	struct stat st;

	snprintf(self, sizeof(self), "%d", (int)getpid());
	while (d && (de = readdir(d))) {
		char path[PATH_MAX], comm[32] = "";
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || !strcmp(de->d_name, self))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
		if (stat(path, &st) || !(ns = find(v, n, st.st_ino)))
			continue;
		snprintf(ns->path, sizeof(ns->path), "%s", path);
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		if (f)
			fclose(f);
		snprintf(ns->name, sizeof(ns->name), "pid %s (%s)", de->d_name, comm);
	}
	if (d)
		closedir(d);
}

/* Closes the handle (a run on 600 namespaces holds one at a time); the status stays. */
static void close_one(struct netns *ns)
{
	sksteer_ns__close(ns->ns);
	ns->ns = NULL;
}

/*
 * Opens the namespace read-only: by its path where it has one (status then
 * finds the targets' owners inside), else by its pins' inode. Pins that steer
 * nothing are named by their inode alone (see STALE_WHY). 0, or 1 said.
 */
static int open_one(struct netns *ns, const struct args *a)
{
	struct sksteer_ns_opts opts = {
		.sz = sizeof(opts),
		.read_only = true,
		.lock_wait_s = options_lock_wait(a),
		.stop = &stop_requested,
		.brief = !a->list, /* owners and other programs: --list's alone */
	};
	int ret = ns->path[0] ? sksteer_ns__open(ns->path, &opts, &ns->ns) : -ENOENT;

	/* the path may name another namespace by now (its process gone, its pid reused) */
	if (!ret && sksteer_ns__inode(ns->ns) != ns->ino) {
		close_one(ns);
		ns->path[0] = '\0';
		ret = -ESTALE;
	}
	/* a reader without the rights to a process's namespace still reads the pins */
	if (ret && ret != -EBUSY && ret != -EINTR)
		ret = sksteer_ns__open_pinned(ns->ino, &opts, &ns->ns);
	if (ret == -EPERM) /* bpf() refused to this process: to every namespace alike */
		return ret;
	if (ret)
		return cli_fail("network namespace %s: %s", ns->name, cli_say(sksteer_errmsg()));
	ns->opened = true;
	ns->steering = sksteer_ns__steering(ns->ns);
	if (!ns->steering)
		snprintf(ns->name, sizeof(ns->name), "inode %llu", (unsigned long long)ns->ino);
	return 0;
}

static void free_all(struct netns *v, int n)
{
	for (int i = 0; v && i < n; i++) {
		sksteer_status__free(v[i].st);
		sksteer_ns__close(v[i].ns);
	}
	free(v);
}

/* The namespaces with pins, named: how many in *out, or -1 with err. */
static int namespaces(struct netns **out, char *err, size_t errlen)
{
	uint64_t *inodes;
	struct netns *v;
	int n = sksteer_pinned_netns(&inodes);

	*out = NULL;
	if (n < 0) {
		snprintf(err, errlen, "%s", cli_say(sksteer_errmsg()));
		return -1;
	}
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		free(inodes);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		v[i].ino = inodes[i];
		snprintf(v[i].name, sizeof(v[i].name), "inode %llu", (unsigned long long)inodes[i]);
	}
	free(inodes);
	names_from_run(v, (size_t)n);
	names_from_procs(v, (size_t)n);
	*out = v;
	return n;
}

/* A namespace's pins that steer nothing: its status, to say where they are. NULL if none. */
static const char *stale_pins(struct netns *ns)
{
	if (ns->steering)
		return NULL;
	if (!ns->st && sksteer_ns__status(ns->ns, &ns->st))
		return "?";
	return sksteer_status__ns(ns->st)->pin_dir;
}

/*
 * Why pins steer nothing. A link is detached when its namespace goes (or by hand), and a
 * namespace made since may have the same inode: pins that steer nothing are told by their
 * inode alone, whatever has that inode now.
 */
#define STALE_WHY                                                                            \
	"its namespace is gone, or its link was detached: the next sksteer run that steers " \
	"removes them"

static int list_one(struct netns *ns, const struct args *a, char *err, size_t errlen)
{
	static bool first = true; /* one run lists once */
	struct args here = *a;
	const char *stale = stale_pins(ns);
	struct sksteer_status *st = NULL;
	int ret;

	/* a status that fails does so before a separator: the array stays whole */
	if (!stale && show_status(ns->ns, &st, err, errlen))
		return -1;
	if (!first)
		fputs(a->json ? "," : "\n", stdout);
	first = false;

	here.netns_arg = ns->path[0] ? ns->path : NULL;
	here.netns_label = ns->name;
	if (stale && a->json) {
		show_json_idle(ns->ino, ns->name, stale, stdout);
		return 0;
	}
	if (!a->json) {
		fputs("netns ", stdout);
		esc_fputs(ESC_TEXT, ns->name, stdout);
	}
	if (stale) {
		fputs("  stale: its pins in ", stdout);
		esc_fputs(ESC_TEXT, stale, stdout);
		printf(" steer nothing (" STALE_WHY ")\n");
		return 0;
	}
	if (!a->json)
		putchar('\n');
	ret = list_status(st, &here); /* read once, as it was checked */
	sksteer_status__free(st);
	return ret;
}

/*
 * Each namespace opened in turn, fn run on it, and closed: 0, or 1 if any failed, said why;
 * -1 with err where bpf() is refused to this process: once, not once a namespace.
 */
static int each(struct netns *v, int n, const struct args *a, char *err, size_t errlen,
		int (*fn)(struct netns *ns, const struct args *a, char *err, size_t errlen))
{
	int said = 0, ret;

	for (int i = 0; i < n; i++) {
		ret = open_one(&v[i], a);
		if (ret < 0) {
			snprintf(err, errlen, "%s", cli_say(sksteer_errmsg()));
			return -1;
		}
		if (ret) {
			said = 1; /* the others are still worth reading */
			continue;
		}
		err[0] = '\0';
		ret = fn(&v[i], a, err, errlen);
		close_one(&v[i]);
		if (ret < 0) /* one namespace's failure: said, and the others are still read */
			cli_fail("network namespace %s: %s", v[i].name, err[0] ? err : "failed");
		said |= ret != 0;
	}
	return said;
}

static int list_all(struct netns *v, int n, const struct args *a, char *err, size_t errlen)
{
	int ret;

	if (a->json)
		putchar('[');
	else if (!n)
		puts("no network namespace has sksteer pins");
	ret = each(v, n, a, err, errlen, list_one);
	if (a->json)
		puts("]");
	return ret;
}

static int check_one(struct netns *ns, const struct args *a, char *err, size_t errlen)
{
	struct args here = *a;
	const char *stale = stale_pins(ns);

	here.netns_arg = ns->path[0] ? ns->path : NULL; /* what a fix gives --netns */
	here.netns_label = ns->name;
	if (!stale)
		return cmd_check(ns->ns, &here, err, errlen);
	/* a namespace that is gone has nothing to be healthy for: said, not failed */
	fputs("sksteer: warning: netns ", stderr);
	esc_fputs(ESC_TEXT, ns->name, stderr);
	fputs(": its pins in ", stderr);
	esc_fputs(ESC_TEXT, stale, stderr);
	fputs(" steer nothing (" STALE_WHY ")\n", stderr);
	return 0;
}

/* A steered namespace's status, kept for the metrics */
static int scrape_one(struct netns *ns, const struct args *a, char *err, size_t errlen)
{
	(void)a;
	return ns->steering ? show_status(ns->ns, &ns->st, err, errlen) : 0;
}

static int metrics_all(struct netns *v, int n, const struct args *a, FILE *f, char *err,
		       size_t errlen)
{
	struct scrape *sc = calloc((size_t)n + 1, sizeof(*sc));
	char label[ESC_SIZE(sizeof(v->name))];
	int nsc = 0, unread = 0, ret;

	if (!sc) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = each(v, n, a, err, errlen, scrape_one);
	if (ret < 0) {
		free(sc);
		return -1;
	}
	fprintf(f,
		"# HELP sksteer_netns_info The network namespaces with sksteer pins: each one's "
		"name, and whether it steers (0: stale pins).\n# TYPE sksteer_netns_info gauge\n");
	for (int i = 0; i < n; i++) {
		if (!v[i].opened || (!v[i].st && v[i].steering)) {
			unread++; /* said why */
			continue;
		}
		fprintf(f, "sksteer_netns_info{netns=\"%llu\",name=\"%s\"} %d\n",
			(unsigned long long)v[i].ino,
			esc(ESC_PROM, v[i].name, label, sizeof(label)), v[i].steering);
		if (v[i].steering) {
			sc[nsc].st = v[i].st;
			sc[nsc++].ino = (unsigned long long)v[i].ino;
		}
	}
	fprintf(f,
		"# HELP sksteer_netns_unreadable Namespaces with pins that this scrape could not "
		"read (each said on stderr), left out.\n# TYPE sksteer_netns_unreadable gauge\n"
		"sksteer_netns_unreadable %d\n",
		unread);
	metrics_print(sc, (size_t)nsc, f);
	free(sc);
	return ret;
}

int cmd_all_netns(const struct args *a, char *err, size_t errlen)
{
	struct netns *v;
	int n = namespaces(&v, err, errlen), ret;

	if (n < 0)
		return -1;
	if (a->check && !n)
		ret = cli_fail("nothing is steered in any network namespace: steer with -p PORTS "
			       "-s TARGET");
	else
		ret = a->check ? each(v, n, a, err, errlen, check_one) :
		      a->list  ? list_all(v, n, a, err, errlen) :
				 metrics_all(v, n, a, stdout, err, errlen);
	free_all(v, n);
	return ret;
}

int all_netns_metrics(const struct args *a, FILE *f, char *err, size_t errlen)
{
	struct netns *v;
	int n = namespaces(&v, err, errlen), ret;

	if (n < 0)
		return -1;
	ret = metrics_all(v, n, a, f, err, errlen);
	free_all(v, n);
	return ret;
}
