// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* --list --json: the library's status as one JSON document; see show.h. */
#include <netinet/in.h>
#include <stdio.h>
#include "escape.h"
#include "show.h"

/* A JSON string: a process name or a path can hold any bytes (src/lib/escape.h). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	esc_fputs(ESC_JSON, s, f);
	fputc('"', f);
}

static void json_errors(const struct sksteer_counters *c, FILE *f)
{
	fprintf(f, "\"errors\":{\"family\":%llu,\"protocol\":%llu,\"state\":%llu,\"other\":%llu}",
		(unsigned long long)c->err_family, (unsigned long long)c->err_proto,
		(unsigned long long)c->err_state, (unsigned long long)c->err_other);
}

static void json_follow(const struct sksteer_follow_status *fo, FILE *f)
{
	if (!fo->on) {
		fprintf(f, "\"follow\":null");
		return;
	}
	fprintf(f, "\"follow\":{\"mode\":\"%s\",\"uid\":%u,\"cgroup\":",
		fo->group ? "group" : "socket", fo->uid);
	json_str(f, fo->cgroup);
	fprintf(f,
		",\"attached\":%s,\"takeovers\":%llu,\"refused_uid\":%llu,\"refused_cgroup\":%llu,"
		"\"errors\":%llu,\"standby\":%llu,\"standby_serves\":%s}",
		fo->attached ? "true" : "false", (unsigned long long)fo->takeovers,
		(unsigned long long)fo->refused_uid, (unsigned long long)fo->refused_cgroup,
		(unsigned long long)fo->errors, (unsigned long long)fo->standby,
		fo->standby_serves ? "true" : "false");
}

static void json_target(const struct sksteer_target_status *t, const struct list_view *v, FILE *f)
{
	const struct sksteer_counters *c = &t->counters;
	bool first = true;

	fprintf(f, "{\"target\":\"%s\",\"proto\":\"%s\",\"family\":\"%s\",\"port\":%u,", t->target,
		t->proto == IPPROTO_UDP ? "udp" : "tcp", t->family == AF_INET6 ? "ipv6" : "ipv4",
		t->port);
	fprintf(f, "\"state\":\"%s\",\"cookie\":%llu,\"reuseport\":\"%s\",\"fail_closed\":%s,",
		!t->up			? "gone" :
		t->proto == IPPROTO_UDP ? "bound" :
					  "listening",
		(unsigned long long)t->cookie, t->socket_only ? "socket" : "group",
		t->fail_closed ? "true" : "false");
	if (t->owner_pid) {
		fprintf(f, "\"owner\":{\"pid\":%d,\"comm\":", t->owner_pid);
		json_str(f, t->owner_comm);
		fprintf(f, "},");
	} else {
		fprintf(f, "\"owner\":null,");
	}
	fprintf(f, "\"ports\":\"%s\",\"port_count\":%u,\"dst\":[", t->ports, t->nports);
	for (int d = 0; d < t->nscoped; d++) {
		if (!list_view_dst(v, &t->scoped[d]))
			continue;
		fprintf(f, "%s{\"prefix\":\"%s\",\"ports\":\"%s\",\"port_count\":%u}",
			first ? "" : ",", t->scoped[d].dst, t->scoped[d].ports,
			t->scoped[d].nports);
		first = false;
	}
	fprintf(f,
		"],\"clients_from\":%u,\"lookups\":{\"steered\":%llu,\"no_target\":%llu,"
		"\"refused\":%llu,\"preempted\":%llu,\"to_clients\":%llu,",
		t->clients_from, (unsigned long long)c->steered, (unsigned long long)c->no_target,
		(unsigned long long)c->refused, (unsigned long long)c->preempted,
		(unsigned long long)c->to_clients);
	json_errors(c, f);
	fprintf(f, "},");
	json_follow(&t->follow, f);
	fprintf(f, "}");
}

static void json_program(const struct sksteer_ns_status *ns, FILE *f)
{
	if (ns->prog_tag[0]) {
		fprintf(f, "\"program\":{\"id\":%u,\"name\":", ns->prog_id);
		json_str(f, ns->prog_name);
		fprintf(f, ",\"tag\":\"%s\"},", ns->prog_tag);
	} else if (ns->prog_id) {
		fprintf(f, "\"program\":{\"id\":%u,\"name\":null,\"tag\":null},", ns->prog_id);
	} else { /* a group's reader, who may not open the link */
		fprintf(f, "\"program\":{\"id\":null,\"name\":null,\"tag\":null},");
	}
	if (ns->others_unknown) {
		fprintf(f, "\"other_programs\":null,");
		return;
	}
	fprintf(f, "\"other_programs\":[");
	for (int i = 0; i < ns->nothers; i++) {
		fprintf(f, "%s{\"prog_id\":%u,\"link_id\":%u,\"name\":", i ? "," : "",
			ns->others[i].prog_id, ns->others[i].link_id);
		json_str(f, ns->others[i].name);
		fprintf(f, ",\"runs\":\"%s\"}", ns->others[i].before ? "before" : "after");
	}
	fprintf(f, "],");
}

/* The namespace's inode, and with --all-netns its name */
static void json_netns(uint64_t ino, const char *name, FILE *f)
{
	fprintf(f, "{\"netns\":%llu,", (unsigned long long)ino);
	if (name) {
		fprintf(f, "\"netns_name\":");
		json_str(f, name);
		fputc(',', f);
	}
}

void show_json_idle(uint64_t ino, const char *name, const char *stale_pins, FILE *f)
{
	json_netns(ino, name, f);
	fprintf(f, "\"steering\":false,");
	if (stale_pins) {
		fprintf(f, "\"stale\":true,\"pin_dir\":");
		json_str(f, stale_pins);
		fputc(',', f);
	}
	fprintf(f, "\"targets\":[]}\n");
}

/* Seconds since the epoch, to the ms (as --metrics has them) */
static void json_time(const char *key, uint64_t ns, FILE *f)
{
	fprintf(f, "\"%s\":%llu.%03llu,", key, (unsigned long long)(ns / 1000000000ULL),
		(unsigned long long)(ns % 1000000000ULL / 1000000ULL));
}

/* The last apply, whoever made it: null where none is recorded (older pins) */
static void json_last_apply(const struct sksteer_ns_status *ns, FILE *f)
{
	fprintf(f, "\"last_apply\":");
	if (!ns->last_apply_ns) {
		fprintf(f, "null,");
		return;
	}
	fputc('{', f);
	json_time("time", ns->last_apply_ns, f);
	fprintf(f, "\"ok\":%s,", ns->last_apply_result ? "false" : "true");
	if (ns->last_apply_result) {
		fprintf(f, "\"errno\":%d,\"error\":", -ns->last_apply_result);
		json_str(f, ns->last_apply_error);
		fputc(',', f);
	}
	if (ns->last_apply_ok_ns)
		json_time("last_ok_time", ns->last_apply_ok_ns, f);
	else
		fprintf(f, "\"last_ok_time\":null,");
	fprintf(f, "\"applied\":%llu,\"failed\":%llu},", (unsigned long long)ns->applies,
		(unsigned long long)ns->apply_failures);
}

void show_json(const struct sksteer_status *st, const struct list_view *v, const char *name,
	       FILE *f)
{
	bool first = true;

	const struct sksteer_ns_status *ns = sksteer_status__ns(st);
	const struct sksteer_counters *n = &ns->totals;

	json_netns(ns->netns, name, f);
	fprintf(f, "\"steering\":true,\"pin_dir\":");
	json_str(f, ns->pin_dir);
	fprintf(f, ",\"group\":");
	if (ns->group[0])
		json_str(f, ns->group);
	else
		fputs("null", f);
	fputc(',', f);
	json_program(ns, f);
	if (ns->tracer_pid)
		fprintf(f, "\"tracer\":{\"pid\":%d},", ns->tracer_pid);
	else
		fprintf(f, "\"tracer\":null,");
	fprintf(f, "\"targets\":[");
	for (int i = 0; i < sksteer_status__targets(st); i++) {
		const struct sksteer_target_status *t = sksteer_status__target(st, i);

		if (!list_view_target(v, t))
			continue;
		if (!first)
			fputc(',', f);
		json_target(t, v, f);
		first = false;
	}
	fprintf(f,
		"],\"lookups\":{\"steered\":%llu,\"passed\":%llu,\"no_target\":%llu,\"refused\":%llu,"
		"\"preempted\":%llu,",
		(unsigned long long)n->steered, (unsigned long long)n->passed,
		(unsigned long long)n->no_target, (unsigned long long)n->refused,
		(unsigned long long)n->preempted);
	json_errors(n, f);
	fprintf(f, "},");
	if (ns->udp_watching)
		fprintf(f,
			"\"udp_clients\":{\"awaited\":%u,\"max\":%u,\"per_user\":%u,"
			"\"unrecorded\":{\"full\":%llu,\"over_budget\":%llu}},",
			ns->udp_awaited, ns->udp_awaited_max, ns->udp_awaited_per_user,
			(unsigned long long)ns->udp_unrecorded_full,
			(unsigned long long)ns->udp_unrecorded_over_budget);
	else
		fprintf(f, "\"udp_clients\":null,");
	json_last_apply(ns, f);
	fprintf(f, "\"events_lost\":%llu}\n", (unsigned long long)ns->events_lost);
}
