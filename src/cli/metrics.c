// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* --metrics: the library's status in the Prometheus text format. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include "commands.h"
#include "escape.h"
#include "show.h"

/*
 * A label value. A target's name holds no byte that needs escaping, but every
 * label value goes through the exposition format's escaping all the same: one
 * that could (a name, a path) cannot be added unescaped by following these.
 */
#define LABEL_STRLEN ESC_SIZE(64)
static const char *label(const char *value, char *buf, size_t len)
{
	return esc(ESC_PROM, value, buf, len);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP sksteer_%s %s\n# TYPE sksteer_%s %s\n", name, help, name, type);
}

static uint64_t errors(const struct sksteer_counters *c)
{
	return c->err_family + c->err_proto + c->err_state + c->err_other;
}

/* One sample per verdict of a target (target NULL: of the namespace) */
static void verdict_samples(FILE *f, const char *metric, unsigned long long ns, const char *target,
			    const struct sksteer_counters *c)
{
	const struct {
		const char *verdict;
		uint64_t value;
	} v[] = {
		{ "steered", c->steered },     { "no_target", c->no_target },
		{ "error", errors(c) },	       { "refused", c->refused },
		{ "preempted", c->preempted }, { "to_clients", c->to_clients },
	};

	/* a namespace's lookups left to client sockets are in its "passed" */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]) - !target; i++) {
		fprintf(f, "sksteer_%s{netns=\"%llu\",", metric, ns);
		if (target)
			fprintf(f, "target=\"%s\",", target);
		fprintf(f, "verdict=\"%s\"} %llu\n", v[i].verdict, (unsigned long long)v[i].value);
	}
}

static void assign_errors(const struct sksteer_status *st, unsigned long long ns, FILE *f)
{
	char name[LABEL_STRLEN];

	for (int i = 0; i < sksteer_status__targets(st); i++) {
		const struct sksteer_target_status *t = sksteer_status__target(st, i);
		const struct {
			const char *cause;
			uint64_t n;
		} by_cause[] = { { "family", t->counters.err_family },
				 { "protocol", t->counters.err_proto },
				 { "state", t->counters.err_state },
				 { "other", t->counters.err_other } };

		label(t->target, name, sizeof(name));
		for (int c = 0; c < 4; c++)
			fprintf(f,
				"sksteer_assign_errors_total{netns=\"%llu\",target=\"%s\",cause=\"%s\"} %llu\n",
				ns, name, by_cause[c].cause, (unsigned long long)by_cause[c].n);
	}
}

static void lookups(const struct scrape *sc, size_t nsc, FILE *f)
{
	char name[LABEL_STRLEN];

	head(f, "lookups_total", "counter",
	     "Lookups the sk_lookup program handled, by target and verdict.");
	for (size_t k = 0; k < nsc; k++) {
		const struct sksteer_status *st = sc[k].st;
		unsigned long long ns = sc[k].ino;

		fprintf(f,
			"sksteer_lookups_total{netns=\"%llu\",target=\"\",verdict=\"passed\"} "
			"%llu\n",
			ns, (unsigned long long)sksteer_status__ns(st)->totals.passed);
		for (int i = 0; i < sksteer_status__targets(st); i++) {
			const struct sksteer_target_status *t = sksteer_status__target(st, i);

			verdict_samples(f, "lookups_total", ns,
					label(t->target, name, sizeof(name)), &t->counters);
		}
	}
	head(f, "namespace_lookups_total", "counter",
	     "Lookups in the namespace by verdict, removed targets' included: never decreases "
	     "while the namespace is steered.");
	for (size_t k = 0; k < nsc; k++) {
		const struct sksteer_ns_status *n = sksteer_status__ns(sc[k].st);

		fprintf(f,
			"sksteer_namespace_lookups_total{netns=\"%llu\",verdict=\"passed\"} %llu\n",
			sc[k].ino, (unsigned long long)n->totals.passed);
		verdict_samples(f, "namespace_lookups_total", sc[k].ino, NULL, &n->totals);
	}
	head(f, "assign_errors_total", "counter",
	     "Lookups for a target's port whose socket assignment failed, by cause.");
	for (size_t k = 0; k < nsc; k++)
		assign_errors(sc[k].st, sc[k].ino, f);
}

static void follow(const struct scrape *sc, size_t nsc, FILE *f)
{
	char name[LABEL_STRLEN];

	fprintf(f, "# HELP sksteer_follow_takeovers_total New sockets at a following target's "
		   "address that took over its ports.\n"
		   "# TYPE sksteer_follow_takeovers_total counter\n");
	for (size_t k = 0; k < nsc; k++)
		for (int i = 0; i < sksteer_status__targets(sc[k].st); i++) {
			const struct sksteer_target_status *t = sksteer_status__target(sc[k].st, i);

			if (t->follow.on)
				fprintf(f,
					"sksteer_follow_takeovers_total{netns=\"%llu\","
					"target=\"%s\"} %llu\n",
					sc[k].ino, label(t->target, name, sizeof(name)),
					(unsigned long long)t->follow.takeovers);
		}
	fprintf(f, "# HELP sksteer_follow_refused_total Sockets at a following target's address "
		   "that were refused the takeover, by cause (uid, cgroup).\n"
		   "# TYPE sksteer_follow_refused_total counter\n");
	for (size_t k = 0; k < nsc; k++)
		for (int i = 0; i < sksteer_status__targets(sc[k].st); i++) {
			const struct sksteer_target_status *t = sksteer_status__target(sc[k].st, i);
			unsigned long long ns = sc[k].ino;

			if (!t->follow.on)
				continue;
			label(t->target, name, sizeof(name));
			fprintf(f,
				"sksteer_follow_refused_total{netns=\"%llu\",target=\"%s\",cause="
				"\"uid\"} %llu\n"
				"sksteer_follow_refused_total{netns=\"%llu\",target=\"%s\",cause="
				"\"cgroup\"} %llu\n",
				ns, name, (unsigned long long)t->follow.refused_uid, ns, name,
				(unsigned long long)t->follow.refused_cgroup);
		}
}

/* A target's ports for destinations in a prefix only, summed over its prefixes */
static unsigned long long dst_ports(const struct sksteer_target_status *t)
{
	unsigned long long ports = 0;

	for (int d = 0; d < t->nscoped; d++)
		ports += t->scoped[d].nports;
	return ports;
}

/* One gauge a target: which is 0 up, 1 ports, 2 prefixes, 3 ports for prefixes */
static void target_gauge(const struct scrape *sc, size_t nsc, const char *metric, int which,
			 FILE *f)
{
	char name[LABEL_STRLEN];

	for (size_t k = 0; k < nsc; k++)
		for (int i = 0; i < sksteer_status__targets(sc[k].st); i++) {
			const struct sksteer_target_status *t = sksteer_status__target(sc[k].st, i);
			unsigned long long v = which == 0 ? (unsigned long long)t->up :
					       which == 1 ? t->nports :
					       which == 2 ? (unsigned long long)t->nscoped :
							    dst_ports(t);

			fprintf(f, "sksteer_%s{netns=\"%llu\",target=\"%s\"} %llu\n", metric,
				sc[k].ino, label(t->target, name, sizeof(name)), v);
		}
}

static void targets(const struct scrape *sc, size_t nsc, FILE *f)
{
	head(f, "target_up", "gauge", "1 while the target's socket exists, 0 once it is gone.");
	target_gauge(sc, nsc, "target_up", 0, f);
	head(f, "target_ports", "gauge", "Ports the target owns.");
	target_gauge(sc, nsc, "target_ports", 1, f);
	/* per target, never per prefix: a namespace may have a million bindings */
	head(f, "target_dst_prefixes", "gauge",
	     "Destination prefixes (--dst) the target owns ports for.");
	target_gauge(sc, nsc, "target_dst_prefixes", 2, f);
	head(f, "target_dst_ports", "gauge",
	     "Ports the target owns for destinations in a prefix only (--dst), summed over its "
	     "prefixes.");
	target_gauge(sc, nsc, "target_dst_ports", 3, f);
}

static void udp_clients(const struct scrape *sc, size_t nsc, FILE *f)
{
	bool any = false;

	for (size_t k = 0; k < nsc; k++)
		any |= sksteer_status__ns(sc[k].st)->udp_watching;
	if (!any)
		return;
	head(f, "udp_replies_awaited", "gauge",
	     "Entries in the UDP client watcher's table: client sockets' ports and the peers they "
	     "await replies from.");
	for (size_t k = 0; k < nsc; k++)
		if (sksteer_status__ns(sc[k].st)->udp_watching)
			fprintf(f, "sksteer_udp_replies_awaited{netns=\"%llu\"} %u\n", sc[k].ino,
				sksteer_status__ns(sc[k].st)->udp_awaited);
	head(f, "udp_sends_unrecorded_total", "counter",
	     "UDP client sends whose replies go to the target, for want of room: the table full, "
	     "or the user's budget spent.");
	for (size_t k = 0; k < nsc; k++) {
		const struct sksteer_ns_status *n = sksteer_status__ns(sc[k].st);

		if (n->udp_watching)
			fprintf(f,
				"sksteer_udp_sends_unrecorded_total{netns=\"%llu\",cause=\"table_"
				"full\"} %llu\n"
				"sksteer_udp_sends_unrecorded_total{netns=\"%llu\",cause=\"user_"
				"budget\"} %llu\n",
				sc[k].ino, (unsigned long long)n->udp_unrecorded_full, sc[k].ino,
				(unsigned long long)n->udp_unrecorded_over_budget);
	}
}

/* Seconds since the epoch, as Prometheus's own *_timestamp_seconds: ms are enough */
static void seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%llu.%03llu\n", (unsigned long long)(ns / 1000000000ULL),
		(unsigned long long)(ns % 1000000000ULL / 1000000ULL));
}

/* A record of applies and the labels that name it: netns="INODE", or file="PATH" */
struct labelled_applies {
	const char *labels;
	struct applies a;
};

/* A family of times: of each record's last apply, or (ok) of its last that took, if any */
static void times(const char *name, const char *help, const struct labelled_applies *v, size_t n,
		  bool ok, FILE *f)
{
	head(f, name, "gauge", help);
	for (size_t i = 0; i < n; i++) {
		uint64_t ns = ok ? v[i].a.last_ok_ns : v[i].a.last_ns;

		if (!ns)
			continue;
		fprintf(f, "sksteer_%s{%s} ", name, v[i].labels);
		seconds(f, ns);
	}
}

/*
 * The applies' families, as Prometheus's own prometheus_config_last_reload_*,
 * to alert on a failed one: sksteer_PREFIXlast_apply_successful and the like,
 * each with a sample per record (whose: what the records are, for the help).
 */
static void applies(const char *prefix, const char *whose, const struct labelled_applies *v,
		    size_t n, FILE *f)
{
	char name[64], help[160];

	snprintf(name, sizeof(name), "%slast_apply_successful", prefix);
	snprintf(help, sizeof(help),
		 "Whether the last apply (%s) took (1) or failed (0), leaving the steering as it "
		 "was.",
		 whose);
	head(f, name, "gauge", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "sksteer_%s{%s} %d\n", name, v[i].labels, v[i].a.last_ok);
	snprintf(name, sizeof(name), "%slast_apply_timestamp_seconds", prefix);
	snprintf(help, sizeof(help), "When the last apply (%s) ran, taken or not.", whose);
	times(name, help, v, n, false, f);
	snprintf(name, sizeof(name), "%slast_apply_success_timestamp_seconds", prefix);
	snprintf(help, sizeof(help), "When an apply (%s) last took.", whose);
	times(name, help, v, n, true, f);
	snprintf(name, sizeof(name), "%sapplies_total", prefix);
	snprintf(help, sizeof(help), "Applies (%s), by result.", whose);
	head(f, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f,
			"sksteer_%s{%s,result=\"ok\"} %llu\nsksteer_%s{%s,result=\"failed\"} %llu\n",
			name, v[i].labels, (unsigned long long)v[i].a.applied, name, v[i].labels,
			(unsigned long long)v[i].a.failed);
}

/* The namespaces' last applies, whoever made them; pins of an older sksteer have none */
static void last_apply(const struct scrape *sc, size_t nsc, FILE *f)
{
	struct labelled_applies *v = calloc(nsc + 1, sizeof(*v));
	char(*labels)[32] = calloc(nsc + 1, sizeof(*labels));
	size_t n = 0;

	for (size_t k = 0; v && labels && k < nsc; k++) {
		const struct sksteer_ns_status *ns = sksteer_status__ns(sc[k].st);

		if (!ns->last_apply_ns)
			continue;
		snprintf(labels[n], sizeof(labels[n]), "netns=\"%llu\"", sc[k].ino);
		v[n] = (struct labelled_applies){
			.labels = labels[n],
			.a = { .last_ns = ns->last_apply_ns,
			       .last_ok_ns = ns->last_apply_ok_ns,
			       .applied = ns->applies,
			       .failed = ns->apply_failures,
			       .last_ok = !ns->last_apply_result },
		};
		n++;
	}
	applies("", "by anyone, in the namespace", v, n, f);
	free(v);
	free(labels);
}

void metrics_print(const struct scrape *sc, size_t nsc, FILE *f)
{
	lookups(sc, nsc, f);
	follow(sc, nsc, f);
	targets(sc, nsc, f);
	head(f, "trace_events_lost_total", "counter",
	     "Trace events the ring buffer could not take.");
	for (size_t k = 0; k < nsc; k++)
		fprintf(f, "sksteer_trace_events_lost_total{netns=\"%llu\"} %llu\n", sc[k].ino,
			(unsigned long long)sksteer_status__ns(sc[k].st)->events_lost);
	udp_clients(sc, nsc, f);
	last_apply(sc, nsc, f);
}

/*
 * The watcher's own applies of its file: the pins' record above tells of the
 * namespace's last apply, whoever made it, but not of a file that failed
 * before anything was steered (there are no pins to record it in).
 */
void metrics_file(const char *file, const struct applies *fa, FILE *f)
{
	static char labels[ESC_SIZE(PATH_MAX) + 8];
	struct labelled_applies v = { .labels = labels, .a = *fa };
	char name[ESC_SIZE(PATH_MAX)];

	snprintf(labels, sizeof(labels), "file=\"%s\"", esc(ESC_PROM, file, name, sizeof(name)));
	applies("config_", "by this watcher, of its file", &v, 1, f);
}

int metrics_one(struct sksteer_ns *ns, FILE *f, char *err, size_t errlen)
{
	struct scrape sc = { .ino = (unsigned long long)sksteer_ns__inode(ns) };
	struct sksteer_status *st;

	if (!sksteer_ns__steering(ns)) {
		fprintf(f, "# sksteer: not steering in network namespace %llu\n", sc.ino);
		return 0;
	}
	if (show_status(ns, &st, err, errlen))
		return -1;
	sc.st = st;
	metrics_print(&sc, 1, f);
	sksteer_status__free(st);
	return 0;
}

int cmd_metrics(struct sksteer_ns *ns, const struct args *a, char *err, size_t errlen)
{
	(void)a;
	return metrics_one(ns, stdout, err, errlen);
}
