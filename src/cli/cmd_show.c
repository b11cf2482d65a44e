// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* --list's text, --check's lines and --save's file, from the library's status and configuration. */
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "escape.h"
#include "show.h"

static uint64_t errors(const struct sksteer_counters *c)
{
	return c->err_family + c->err_proto + c->err_state + c->err_other;
}

static const char *state_name(const struct sksteer_target_status *t)
{
	if (!t->up)
		return "gone";
	return t->proto == IPPROTO_UDP ? "bound" : "listening";
}

static void follow_text(const struct sksteer_follow_status *fo, FILE *f)
{
	char cgroup[ESC_SIZE(sizeof(fo->cgroup))]; /* its names: any byte but '/' and newline */

	if (!fo->on)
		return;
	fprintf(f,
		"  follow   %s, uid %u%s%s%s  takeovers %llu  refused %llu (uid %llu, cgroup %llu)",
		fo->group ? "its SO_REUSEPORT group" : "the new socket alone", fo->uid,
		fo->cgroup[0] ? ", cgroup " : "", esc(ESC_TEXT, fo->cgroup, cgroup, sizeof(cgroup)),
		fo->attached ? "" : " (follower not attached: run sksteer -s TARGET --follow)",
		(unsigned long long)fo->takeovers,
		(unsigned long long)(fo->refused_uid + fo->refused_cgroup),
		(unsigned long long)fo->refused_uid, (unsigned long long)fo->refused_cgroup);
	if (fo->refused_uid)
		fprintf(f, "  last refused uid %u", fo->last_refused_uid);
	if (fo->errors)
		fprintf(f, "  errors %llu", (unsigned long long)fo->errors);
	if (fo->standby_serves)
		fprintf(f, "\n  standby  its socket is gone: a sibling at its address gets the "
			   "connections");
	fputc('\n', f);
}

/* A target's prefixes: each one's line, or past LIST_PREFIXES their counts and how to see them. */
static void prefixes_text(const struct sksteer_target_status *t, const struct list_view *v, FILE *f)
{
	unsigned long long bindings = 0, ports = 0; /* a million prefixes on every port: 6.5e10 */

	if (list_view_each_prefix(v, t)) {
		for (int d = 0; d < t->nscoped; d++)
			if (list_view_dst(v, &t->scoped[d]))
				fprintf(f, "  dst      %s  ports %s (%u)\n", t->scoped[d].dst,
					t->scoped[d].ports, t->scoped[d].nports);
		return;
	}
	for (int d = 0; d < t->nscoped; d++) {
		bindings += list_bindings(t->scoped[d].ports);
		ports += t->scoped[d].nports;
	}
	fprintf(f,
		"  dst      %d prefixes: %llu bindings, %llu ports counted per prefix (sksteer --list "
		"-s %s shows them)\n",
		t->nscoped, bindings, ports, t->target);
}

static void target_text(const struct sksteer_target_status *t, const struct list_view *v, FILE *f)
{
	char shown[ESC_SIZE(sizeof(t->owner_comm))];
	const struct sksteer_counters *c = &t->counters;

	fprintf(f, "target %s  %s  %s%s", t->target, t->proto == IPPROTO_UDP ? "udp" : "tcp",
		state_name(t), t->fail_closed ? "  fail-closed" : "");
	if (t->owner_pid)
		fprintf(f, "  pid %d (%s)", t->owner_pid,
			esc(ESC_TEXT, t->owner_comm, shown, sizeof(shown)));
	fputc('\n', f);
	if (list_view_every_address(v, t))
		fprintf(f, "  ports    %s (%u)\n", t->ports, t->nports);
	prefixes_text(t, v, f);
	if (t->socket_only)
		fprintf(f, "  assign   this socket only, not its SO_REUSEPORT group "
			   "(after a restart; a run with -p spreads again)\n");
	if (t->clients_from)
		fprintf(f,
			"  clients  from port %u up, replies to other programs' UDP client "
			"sockets are theirs\n",
			t->clients_from);
	follow_text(&t->follow, f);
	fprintf(f,
		"  lookups  steered %llu  no-target %llu  errors %llu  refused %llu  "
		"preempted %llu",
		(unsigned long long)c->steered, (unsigned long long)c->no_target,
		(unsigned long long)errors(c), (unsigned long long)c->refused,
		(unsigned long long)c->preempted);
	if (t->proto == IPPROTO_UDP)
		fprintf(f, "  to-clients %llu", (unsigned long long)c->to_clients);
	fputc('\n', f);
}

static void namespace_text(const struct sksteer_ns_status *ns, FILE *f)
{
	const struct sksteer_counters *n = &ns->totals;
	char shown[ESC_SIZE(32)];

	fprintf(f, "namespace %llu\n", (unsigned long long)ns->netns);
	fprintf(f,
		"  lookups  steered %llu  passed %llu  no-target %llu  errors %llu (family %llu, "
		"protocol %llu, state %llu, other %llu)  refused %llu  preempted %llu\n",
		(unsigned long long)n->steered, (unsigned long long)n->passed,
		(unsigned long long)n->no_target, (unsigned long long)errors(n),
		(unsigned long long)n->err_family, (unsigned long long)n->err_proto,
		(unsigned long long)n->err_state, (unsigned long long)n->err_other,
		(unsigned long long)n->refused, (unsigned long long)n->preempted);
	if (ns->prog_tag[0])
		fprintf(f, "  program  %s id %u tag %s\n",
			esc(ESC_TEXT, ns->prog_name, shown, sizeof(shown)), ns->prog_id,
			ns->prog_tag);
	else if (!ns->prog_id) /* a group's reader: opening the link takes write access */
		fprintf(f, "  program  unknown (its link opens for its owner alone)\n");
	else /* reading a program by id needs CAP_SYS_ADMIN */
		fprintf(f, "  program  id %u (its name and tag need CAP_SYS_ADMIN to read)\n",
			ns->prog_id);
	for (int i = 0; i < ns->nothers; i++)
		fprintf(f, "  other    sk_lookup program %s id %u (link %u) runs %s sksteer%s\n",
			esc(ESC_TEXT, ns->others[i].name, shown, sizeof(shown)),
			ns->others[i].prog_id, ns->others[i].link_id,
			ns->others[i].before ? "before" : "after",
			ns->others[i].before ? ": its choices preempt sksteer's" : "");
	if (ns->others_unknown)
		fprintf(f,
			"  other    sk_lookup programs: unknown (listing them needs CAP_SYS_ADMIN)\n");
	if (ns->udp_watching)
		fprintf(f,
			"  clients  UDP replies awaited %u (%u at most, %u per user)  unrecorded "
			"sends: table full %llu, over a user's budget %llu\n",
			ns->udp_awaited, ns->udp_awaited_max, ns->udp_awaited_per_user,
			(unsigned long long)ns->udp_unrecorded_full,
			(unsigned long long)ns->udp_unrecorded_over_budget);
	fputs("  pins     ", f);
	esc_fputs(ESC_TEXT, ns->pin_dir, f);
	if (ns->group[0]) {
		fputs(" (readable by group ", f);
		esc_fputs(ESC_TEXT, ns->group, f);
		fputc(')', f);
	}
	fputc('\n', f);
	if (ns->tracer_pid)
		fprintf(f, "  tracer   pid %d\n", ns->tracer_pid);
	else
		fprintf(f, "  tracer   none\n");
}

int show_status(struct sksteer_ns *ns, struct sksteer_status **st, char *err, size_t errlen)
{
	int ret = sksteer_ns__status(ns, st);

	if (ret)
		snprintf(err, errlen, "%s", cli_say(sksteer_errmsg()));
	return ret ? -1 : 0;
}

/* -s TARGET or --dst PREFIX that no binding matches: one line, 1. known: -s's target is there. */
static int list_none(const struct args *a, bool known)
{
	if (a->steer.target_arg && a->steer.dst_arg && known)
		return cli_fail("target %s has no binding for an address in %s: sksteer --list -s "
				"%s shows its bindings",
				a->steer.target_arg, a->steer.dst_arg, a->steer.target_arg);
	if (a->steer.target_arg)
		return cli_fail("nothing is steered to %s in %s: sksteer --list shows the targets",
				a->steer.target_arg, netns_name(a));
	return cli_fail("no binding steers an address in %s in %s: sksteer --list shows the "
			"targets",
			a->steer.dst_arg, netns_name(a));
}

int cmd_list(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	struct sksteer_status *st;
	struct list_view v;
	int ret;

	list_view_make(a, &v);
	if (!sksteer_ns__steering(ns) && (v.by_target || v.by_dst))
		return list_none(a, false);
	if (!sksteer_ns__steering(ns)) {
		if (a->json) {
			show_json_idle(sksteer_ns__inode(ns), a->netns_label, NULL, stdout);
		} else {
			fputs("not steering in ", stdout);
			esc_fputs(ESC_TEXT, netns_name(a), stdout); /* --netns PATH */
			putchar('\n');
		}
		return 0;
	}
	if (show_status(ns, &st, err, errlen))
		return -1;
	ret = list_status(st, a);
	sksteer_status__free(st);
	return ret;
}

int list_status(const struct sksteer_status *st, const struct args *a)
{
	struct list_view v;
	bool known = false;
	int shown = 0;

	list_view_make(a, &v);
	for (int i = 0; i < sksteer_status__targets(st); i++) {
		const struct sksteer_target_status *t = sksteer_status__target(st, i);

		shown += list_view_target(&v, t);
		known |= v.by_target && !strcmp(v.target, t->target);
	}
	if (!shown && (v.by_target || v.by_dst))
		return list_none(a, known);
	if (a->json) {
		show_json(st, &v, a->netns_label, stdout);
	} else {
		for (int i = 0; i < sksteer_status__targets(st); i++)
			if (list_view_target(&v, sksteer_status__target(st, i)))
				target_text(sksteer_status__target(st, i), &v, stdout);
		if (!v.by_target && !v.by_dst)
			namespace_text(sksteer_status__ns(st), stdout);
	}
	return 0;
}

/* "sksteer: " and, with --all-netns, "netns NAME: ", as --check's lines start */
static void check_line(const struct args *a)
{
	fflush(stdout);
	fputs("sksteer: ", stderr);
	if (a->netns_label) {
		fputs("netns ", stderr);
		esc_fputs(ESC_TEXT, a->netns_label, stderr);
		fputs(": ", stderr);
	}
}

/* The command a fix runs: "sksteer", with --netns PATH where that is the namespace at hand */
static const char *fix_cmd(const struct args *a)
{
	static char cmd[ESC_SIZE(PATH_MAX) + 32];
	char path[ESC_SIZE(PATH_MAX)];

	/* --all-netns, of a namespace with no path to it: the reader finds one */
	if (!a->netns_arg)
		return a->netns_label ? "sksteer --netns PATH" : "sksteer";
	snprintf(cmd, sizeof(cmd), "sksteer --netns %s",
		 esc(ESC_TEXT, a->netns_arg, path, sizeof(path)));
	return cmd;
}

/* "sksteer: target T: ports 80,443 are not steered to it ...": 1, or 0 for no ports */
static int report_ports(const struct args *a, const char *target, const char *list, unsigned int n,
			const char *what)
{
	if (!n)
		return 0;
	check_line(a);
	fprintf(stderr, "target %s: port%s %s %s %s: run '%s -p PORTS -s %s' again\n", target,
		n > 1 ? "s" : "", list ? list : "?", n > 1 ? "are" : "is", what, fix_cmd(a),
		target);
	return 1;
}

/* A prefix's ports whose lookups miss it (the port table does not mark them): 1 */
static int report_scoped(const struct args *a, const char *target, const struct sksteer_scoped *s)
{
	check_line(a);
	fprintf(stderr,
		"target %s: port%s %s for --dst %s %s not steered to it (not marked in the "
		"port table, so lookups miss the prefix): run '%s -p PORTS -s %s --dst %s' "
		"again\n",
		target, s->nports > 1 ? "s" : "", s->ports, s->dst, s->nports > 1 ? "are" : "is",
		fix_cmd(a), target, s->dst);
	return 1;
}

/* A target whose socket is gone: what it leaves unsteered. */
static void report_gone(const struct args *a, const struct sksteer_target_status *t)
{
	unsigned long long n = t->nports; /* ports counted per prefix: past 2^32 at scale */

	for (int d = 0; d < t->nscoped; d++)
		n += t->scoped[d].nports;
	check_line(a);
	fprintf(stderr, "target %s: its socket is gone, so its %llu port%s", t->target, n,
		n == 1 ? "" : "s");
	if (t->nscoped)
		fprintf(stderr, " (%u for every address, the rest for %d prefix%s)", t->nports,
			t->nscoped, t->nscoped == 1 ? "" : "es");
	fprintf(stderr, " %s not steered: start its server, then run '%s -s %s'\n",
		n == 1 ? "is" : "are", fix_cmd(a), t->target);
}

/* --check: quiet and 0 when healthy; one line per problem on stderr and 1 otherwise. */
int cmd_check(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	struct sksteer_status *st;
	int problems = 0;

	if (!sksteer_ns__steering(ns)) {
		if (show_status(ns, &st, err, errlen))
			return -1;
		if (sksteer_status__ns(st)->stale)
			cli_fail("the steering pinned in %s is not attached to %s (its link was "
				 "detached or never pinned): apply the configuration again",
				 sksteer_status__ns(st)->pin_dir, netns_name(a));
		else
			cli_fail("nothing is steered in %s: steer with -p PORTS -s TARGET",
				 netns_name(a));
		sksteer_status__free(st);
		return 1;
	}
	if (show_status(ns, &st, err, errlen))
		return -1;
	for (int i = 0; i < sksteer_status__targets(st); i++) {
		const struct sksteer_target_status *t = sksteer_status__target(st, i);

		/* a following target's sibling at its address serves meanwhile: healthy */
		if (!t->up && !t->follow.standby_serves) {
			report_gone(a, t);
			problems++;
		}
		for (int d = 0; d < t->nscoped_lost; d++)
			problems += report_scoped(a, t->target, &t->scoped_lost[d]);
		problems += report_ports(a, t->target, t->lost_ports, t->nlost,
					 "not steered to it (lost from the port table)");
		problems += report_ports(a, t->target, t->extra_ports, t->nextra,
					 "steered to it without being in its configuration (a run "
					 "was cut short?)");
	}
	sksteer_status__free(st);
	return problems ? 1 : 0;
}

/* --save: the steering in the file format (an empty one where nothing is steered). */
int cmd_save(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	struct sksteer_config *cfg;
	char *text = NULL;
	int ret = sksteer_ns__config(ns, &cfg);

	if (!ret)
		ret = sksteer_config__text(cfg, &text);
	sksteer_config__free(cfg);
	if (ret) {
		snprintf(err, errlen, "%s", cli_say(sksteer_errmsg()));
		return -1;
	}
	fputs(text, stdout);
	free(text);
	if (fflush(stdout)) {
		snprintf(err, errlen, "cannot write the configuration: %m");
		return -1;
	}
	return 0;
}
