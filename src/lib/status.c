// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "escape.h"
#include "scopes.h"
#include "status.h"

static uint64_t errors(const struct sksteer_stats *s)
{
	return s->err_family + s->err_proto + s->err_state + s->err_other;
}

/*
 * Sums slot's per-CPU u64 counters in map fd into sum (size bytes; zeros if the
 * map is missing). The map's own value size is used, so pins of an older
 * layout read correctly into what they have.
 */
static int sum_counters(int fd, uint32_t slot, void *sum, size_t size, uint64_t *buf, int ncpus)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	uint64_t *out = sum;
	size_t n;

	memset(sum, 0, size);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || bpf_map_lookup_elem(fd, &slot, buf))
		return -errno;
	n = (info.value_size + 7) / 8; /* per-CPU values are 8-byte aligned */
	for (int cpu = 0; cpu < ncpus; cpu++)
		for (size_t i = 0; i < n && i < size / 8; i++)
			out[i] += buf[(size_t)cpu * n + i];
	return 0;
}

/* Address, state and owner of the socket in the target's slot, matched by cookie. */
static void find_socket(const struct live *l, struct target_status *t)
{
	struct sock_list socks;

	t->cookie = live_cookie(l, t->slot);
	t->alive = t->cookie != 0;
	/* cookies are unique across namespaces: a dump of another namespace just finds nothing */
	if (!t->alive || sockets_dump(t->addr.proto, &socks))
		return;
	for (size_t i = 0; i < socks.n; i++)
		if (socks.socks[i].cookie == t->cookie &&
		    socket_owner(socks.socks[i].inode, &t->owner))
			t->owner.pid = 0;
	sock_list_free(&socks);
}

static void read_program(const struct live *l, struct status *st)
{
	struct bpf_link_info link = {};
	struct bpf_prog_info prog = {};
	__u32 len = sizeof(link);
	char path[PATH_MAX];
	int fd;

	fd = bpf_obj_get(pin_path(&l->pins, "link", path, sizeof(path)));
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &link, &len)) {
		st->prog_id = link.prog_id;
		st->link_id = link.id;
	}
	close(fd);
	fd = bpf_prog_get_fd_by_id(st->prog_id);
	if (fd < 0)
		return;
	len = sizeof(prog);
	if (!bpf_obj_get_info_by_fd(fd, &prog, &len)) {
		snprintf(st->prog_name, sizeof(st->prog_name), "%s", prog.name);
		for (int i = 0; i < BPF_TAG_SIZE; i++)
			snprintf(st->prog_tag + 2 * i, 3, "%02x", prog.tag[i]);
	}
	close(fd);
}

static void prog_name(uint32_t prog_id, char *name, size_t len)
{
	struct bpf_prog_info prog = {};
	__u32 size = sizeof(prog);
	int fd = bpf_prog_get_fd_by_id(prog_id);

	snprintf(name, len, "?");
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &prog, &size))
		snprintf(name, len, "%s", prog.name);
	if (fd >= 0)
		close(fd);
}

/*
 * The other sk_lookup links of the namespace. They run in the order they were
 * attached, and link ids grow in that order: a lower id runs before sksteer.
 * Walking links by id needs CAP_SYS_ADMIN.
 */
static void read_others(const struct live *l, struct status *st)
{
	__u32 id = 0;

	while (st->nothers < (int)(sizeof(st->others) / sizeof(st->others[0]))) {
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		struct other_program *o;
		int fd;

		if (bpf_link_get_next_id(id, &id)) {
			st->others_unknown = errno == EPERM;
			return;
		}
		fd = bpf_link_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_NETNS &&
		    info.netns.attach_type == BPF_SK_LOOKUP &&
		    info.netns.netns_ino == l->pins.netns_ino && id != st->link_id) {
			o = &st->others[st->nothers++];
			o->link_id = id;
			o->prog_id = info.prog_id;
			o->before = id < st->link_id;
			prog_name(info.prog_id, o->name, sizeof(o->name));
		}
		close(fd);
	}
}

/* "80,443", malloc()ed; NULL when out of memory */
static char *ports_text(const struct portset *ports)
{
	size_t len = format_ports(ports, NULL, 0) + 1;
	char *text = malloc(len);

	if (text)
		format_ports(ports, text, len);
	return text;
}

/* The target's ports for each destination prefix that binds some. */
static void collect_dst(const struct live *l, struct target_status *t)
{
	int order[SKSTEER_SCOPES], n = scopes_in_order(l, order);

	for (int i = 0; i < n; i++) {
		struct dst_ports *d = &t->dst[t->ndst];
		struct portset ports;

		live_scope_ports(l, t->slot, order[i], &ports);
		d->nports = portset_count(&ports);
		if (!d->nports)
			continue;
		d->dst = l->scope_prefix[order[i]];
		d->ports = ports_text(&ports);
		t->ndst++;
	}
}

int status_collect(const struct live *l, struct status *st, char *err, size_t errlen)
{
	int ncpus = libbpf_num_possible_cpus();
	struct sksteer_stats slot_stats;
	struct sksteer_stats_ext slot_ext;
	struct sksteer_tracer tracer;
	uint64_t *per_cpu;

	memset(st, 0, sizeof(*st));
	st->netns = l->pins.netns_ino;
	st->pin_dir = l->pins.dir;
	/* room for either map's values, of this layout or an older one */
	per_cpu = ncpus > 0 ? calloc((size_t)ncpus, sizeof(struct sksteer_stats) * 2) : NULL;
	if (!per_cpu) {
		snprintf(err, errlen, "cannot count CPUs: %s",
			 strerror(ncpus < 0 ? -ncpus : ENOMEM));
		return -1;
	}
	for (int slot = 0; slot < SKSTEER_SLOTS; slot++) {
		struct target_status *t = &st->targets[st->ntargets];
		struct portset ports;

		if (sum_counters(l->fds[MAP_STATS], (uint32_t)slot, &slot_stats, sizeof(slot_stats),
				 per_cpu, ncpus) ||
		    sum_counters(l->fds[MAP_STATS_EXT], (uint32_t)slot, &slot_ext, sizeof(slot_ext),
				 per_cpu, ncpus)) {
			snprintf(err, errlen, "cannot read the counters: %s", strerror(errno));
			free(per_cpu);
			return -1;
		}
		stats_add(&st->totals, &slot_stats);
		st->totals_ext.refused += slot_ext.refused;
		st->totals_ext.preempted += slot_ext.preempted;
		if (!slot || !l->addrs[slot].proto)
			continue;
		t->slot = slot;
		t->addr = l->addrs[slot];
		t->stats = slot_stats;
		t->ext = slot_ext;
		live_ports(l, slot, &ports);
		t->nports = portset_count(&ports);
		t->socket_only = live_flags(l, slot) & BPF_SK_LOOKUP_F_NO_REUSEPORT;
		t->fail_closed = live_flags(l, slot) & SKSTEER_FAIL_CLOSED;
		t->clients_from = SKSTEER_CLIENTS_FROM(live_flags(l, slot));
		follow_info(l, slot, &t->follow);
		t->ports = ports_text(&ports);
		collect_dst(l, t);
		find_socket(l, t);
		st->ntargets++;
	}
	free(per_cpu);
	read_program(l, st);
	read_others(l, st);
	clients_status(l, &st->clients);
	if (live_tracer(l, &tracer) == 1)
		st->tracer = tracer.pid;
	return 0;
}

void status_free(struct status *st)
{
	for (int i = 0; i < st->ntargets; i++) {
		free(st->targets[i].ports);
		for (int d = 0; d < st->targets[i].ndst; d++)
			free(st->targets[i].dst[d].ports);
	}
}

static const char *proto_name(const struct sksteer_target *t)
{
	return t->proto == IPPROTO_UDP ? "udp" : "tcp";
}

static const char *state_name(const struct target_status *t)
{
	if (!t->alive)
		return "gone";
	return t->addr.proto == IPPROTO_UDP ? "bound" : "listening";
}

void status_text(const struct status *st, FILE *f)
{
	const struct sksteer_stats *n = &st->totals;
	/* names that others chose (a process, a program), and the pin path: escaped */
	char name[TARGET_STRLEN], shown[ESC_SIZE(sizeof(st->targets[0].owner.comm))];

	for (int i = 0; i < st->ntargets; i++) {
		const struct target_status *t = &st->targets[i];

		fprintf(f, "target %s  %s  %s%s", format_target(&t->addr, name, sizeof(name)),
			proto_name(&t->addr), state_name(t), t->fail_closed ? "  fail-closed" : "");
		if (t->owner.pid)
			fprintf(f, "  pid %d (%s)", t->owner.pid,
				esc(ESC_TEXT, t->owner.comm, shown, sizeof(shown)));
		fputc('\n', f);
		/* a target bound for prefixes only has no line for every address */
		if (t->nports || !t->ndst)
			fprintf(f, "  ports    %s (%u)\n", t->ports ? t->ports : "?", t->nports);
		for (int d = 0; d < t->ndst; d++) {
			char pname[PREFIX_STRLEN];

			fprintf(f, "  dst      %s  ports %s (%u)\n",
				format_prefix(&t->dst[d].dst, pname, sizeof(pname)),
				t->dst[d].ports ? t->dst[d].ports : "?", t->dst[d].nports);
		}
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
			"preempted %llu%s",
			(unsigned long long)t->stats.steered,
			(unsigned long long)t->stats.no_target,
			(unsigned long long)errors(&t->stats), (unsigned long long)t->ext.refused,
			(unsigned long long)t->ext.preempted,
			t->addr.proto == IPPROTO_UDP ? "  to-clients " : "\n");
		if (t->addr.proto == IPPROTO_UDP)
			fprintf(f, "%llu\n", (unsigned long long)t->stats.passed);
	}
	fprintf(f, "namespace %llu\n", (unsigned long long)st->netns);
	fprintf(f,
		"  lookups  steered %llu  passed %llu  no-target %llu  errors %llu (family %llu, "
		"protocol %llu, state %llu, other %llu)  refused %llu  preempted %llu\n",
		(unsigned long long)n->steered, (unsigned long long)n->passed,
		(unsigned long long)n->no_target, (unsigned long long)errors(n),
		(unsigned long long)n->err_family, (unsigned long long)n->err_proto,
		(unsigned long long)n->err_state, (unsigned long long)n->err_other,
		(unsigned long long)st->totals_ext.refused,
		(unsigned long long)st->totals_ext.preempted);
	if (st->prog_tag[0])
		fprintf(f, "  program  %s id %u tag %s\n",
			esc(ESC_TEXT, st->prog_name, shown, sizeof(shown)), st->prog_id,
			st->prog_tag);
	else /* reading a program by id needs CAP_SYS_ADMIN */
		fprintf(f, "  program  id %u (its name and tag need CAP_SYS_ADMIN to read)\n",
			st->prog_id);
	for (int i = 0; i < st->nothers; i++)
		fprintf(f, "  other    sk_lookup program %s id %u (link %u) runs %s sksteer%s\n",
			esc(ESC_TEXT, st->others[i].name, shown, sizeof(shown)),
			st->others[i].prog_id, st->others[i].link_id,
			st->others[i].before ? "before" : "after",
			st->others[i].before ? ": its choices preempt sksteer's" : "");
	if (st->others_unknown)
		fprintf(f,
			"  other    sk_lookup programs: unknown (listing them needs CAP_SYS_ADMIN)\n");
	clients_text(&st->clients, f);
	fputs("  pins     ", f);
	esc_fputs(ESC_TEXT, st->pin_dir, f);
	fputc('\n', f);
	if (st->tracer)
		fprintf(f, "  tracer   pid %u\n", st->tracer);
	else
		fprintf(f, "  tracer   none\n");
}

/* A JSON string: a process name or a path can hold any bytes (src/escape.h). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	esc_fputs(ESC_JSON, s, f);
	fputc('"', f);
}

static void json_errors(const struct sksteer_stats *s, FILE *f)
{
	fprintf(f, "\"errors\":{\"family\":%llu,\"protocol\":%llu,\"state\":%llu,\"other\":%llu}",
		(unsigned long long)s->err_family, (unsigned long long)s->err_proto,
		(unsigned long long)s->err_state, (unsigned long long)s->err_other);
}

void status_json(const struct status *st, FILE *f)
{
	const struct sksteer_stats *n = &st->totals;
	char name[TARGET_STRLEN];

	fprintf(f, "{\"netns\":%llu,\"steering\":true,\"pin_dir\":", (unsigned long long)st->netns);
	json_str(f, st->pin_dir);
	fputc(',', f);
	if (st->prog_tag[0]) {
		fprintf(f, "\"program\":{\"id\":%u,\"name\":", st->prog_id);
		json_str(f, st->prog_name);
		fprintf(f, ",\"tag\":\"%s\"},", st->prog_tag);
	} else {
		fprintf(f, "\"program\":{\"id\":%u,\"name\":null,\"tag\":null},", st->prog_id);
	}
	if (st->others_unknown) {
		fprintf(f, "\"other_programs\":null,");
	} else {
		fprintf(f, "\"other_programs\":[");
		for (int i = 0; i < st->nothers; i++) {
			fprintf(f, "%s{\"prog_id\":%u,\"link_id\":%u,\"name\":", i ? "," : "",
				st->others[i].prog_id, st->others[i].link_id);
			json_str(f, st->others[i].name);
			fprintf(f, ",\"runs\":\"%s\"}", st->others[i].before ? "before" : "after");
		}
		fprintf(f, "],");
	}
	if (st->tracer)
		fprintf(f, "\"tracer\":{\"pid\":%u},", st->tracer);
	else
		fprintf(f, "\"tracer\":null,");
	fprintf(f, "\"targets\":[");
	for (int i = 0; i < st->ntargets; i++) {
		const struct target_status *t = &st->targets[i];

		fprintf(f, "%s{\"target\":\"%s\",\"proto\":\"%s\",\"family\":\"%s\",\"port\":%u,",
			i ? "," : "", format_target(&t->addr, name, sizeof(name)),
			proto_name(&t->addr), t->addr.family == AF_INET6 ? "ipv6" : "ipv4",
			t->addr.port);
		fprintf(f,
			"\"state\":\"%s\",\"cookie\":%llu,\"reuseport\":\"%s\",\"fail_closed\":%s,",
			state_name(t), (unsigned long long)t->cookie,
			t->socket_only ? "socket" : "group", t->fail_closed ? "true" : "false");
		if (t->owner.pid) {
			fprintf(f, "\"owner\":{\"pid\":%d,\"comm\":", t->owner.pid);
			json_str(f, t->owner.comm);
			fprintf(f, "},");
		} else
			fprintf(f, "\"owner\":null,");
		fprintf(f, "\"ports\":\"%s\",\"port_count\":%u,\"dst\":[", t->ports ? t->ports : "",
			t->nports);
		for (int d = 0; d < t->ndst; d++) {
			char pname[PREFIX_STRLEN];

			fprintf(f, "%s{\"prefix\":\"%s\",\"ports\":\"%s\",\"port_count\":%u}",
				d ? "," : "", format_prefix(&t->dst[d].dst, pname, sizeof(pname)),
				t->dst[d].ports ? t->dst[d].ports : "", t->dst[d].nports);
		}
		fprintf(f, "],");
		fprintf(f,
			"\"clients_from\":%u,\"lookups\":{\"steered\":%llu,\"no_target\":%llu,"
			"\"refused\":%llu,\"preempted\":%llu,\"to_clients\":%llu,",
			t->clients_from, (unsigned long long)t->stats.steered,
			(unsigned long long)t->stats.no_target, (unsigned long long)t->ext.refused,
			(unsigned long long)t->ext.preempted, (unsigned long long)t->stats.passed);
		json_errors(&t->stats, f);
		fprintf(f, "},");
		follow_json(&t->follow, f);
		fprintf(f, "}");
	}
	fprintf(f,
		"],\"lookups\":{\"steered\":%llu,\"passed\":%llu,\"no_target\":%llu,\"refused\":%llu,"
		"\"preempted\":%llu,",
		(unsigned long long)n->steered, (unsigned long long)n->passed,
		(unsigned long long)n->no_target, (unsigned long long)st->totals_ext.refused,
		(unsigned long long)st->totals_ext.preempted);
	json_errors(n, f);
	fprintf(f, "},");
	clients_json(&st->clients, f);
	fprintf(f, "\"events_lost\":%llu}\n", (unsigned long long)n->events_lost);
}

/*
 * A target as a label value. format_target() writes no byte that needs it, but
 * every label value goes through the exposition format's escaping all the same:
 * one that could (a name, a path) cannot be added unescaped by following these.
 */
char *target_label(const struct sksteer_target *t, char *buf, size_t len)
{
	char name[TARGET_STRLEN];

	return esc(ESC_PROM, format_target(t, name, sizeof(name)), buf, len);
}

static void metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP sksteer_%s %s\n# TYPE sksteer_%s %s\n", name, help, name, type);
}

/* One sample per verdict of a target (target NULL: of the namespace) */
static void verdict_samples(FILE *f, const char *metric, unsigned long long ns, const char *target,
			    const struct sksteer_stats *s, const struct sksteer_stats_ext *ext)
{
	const struct {
		const char *verdict;
		uint64_t value;
	} v[] = {
		{ "steered", s->steered },	 { "no_target", s->no_target },
		{ "error", errors(s) },		 { "refused", ext->refused },
		{ "preempted", ext->preempted }, { "to_clients", target ? s->passed : 0 },
	};

	/* a namespace's lookups left to client sockets are in its "passed" */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]) - !target; i++) {
		fprintf(f, "sksteer_%s{netns=\"%llu\",", metric, ns);
		if (target)
			fprintf(f, "target=\"%s\",", target);
		fprintf(f, "verdict=\"%s\"} %llu\n", v[i].verdict, (unsigned long long)v[i].value);
	}
}

void status_metrics(const struct status *st, FILE *f)
{
	static const char *const causes[] = { "family", "protocol", "state", "other" };
	unsigned long long ns = (unsigned long long)st->netns;
	char name[LABEL_STRLEN];

	metric_head(f, "lookups_total", "counter",
		    "Lookups the sk_lookup program handled, by target and verdict.");
	fprintf(f, "sksteer_lookups_total{netns=\"%llu\",target=\"\",verdict=\"passed\"} %llu\n",
		ns, (unsigned long long)st->totals.passed);
	for (int i = 0; i < st->ntargets; i++) {
		const struct target_status *t = &st->targets[i];

		target_label(&t->addr, name, sizeof(name));
		verdict_samples(f, "lookups_total", ns, name, &t->stats, &t->ext);
	}
	metric_head(
		f, "namespace_lookups_total", "counter",
		"Lookups in the namespace by verdict, removed targets' included: never decreases "
		"while the namespace is steered.");
	fprintf(f, "sksteer_namespace_lookups_total{netns=\"%llu\",verdict=\"passed\"} %llu\n", ns,
		(unsigned long long)st->totals.passed);
	verdict_samples(f, "namespace_lookups_total", ns, NULL, &st->totals, &st->totals_ext);
	metric_head(f, "assign_errors_total", "counter",
		    "Lookups for a target's port whose socket assignment failed, by cause.");
	for (int i = 0; i < st->ntargets; i++) {
		const struct target_status *t = &st->targets[i];
		const __u64 *by_cause = &t->stats.err_family;

		target_label(&t->addr, name, sizeof(name));
		for (int c = 0; c < 4; c++)
			fprintf(f,
				"sksteer_assign_errors_total{netns=\"%llu\",target=\"%s\",cause=\"%s\"} %llu\n",
				ns, name, causes[c], (unsigned long long)by_cause[c]);
	}
	follow_metrics(st, f);
	metric_head(f, "target_up", "gauge",
		    "1 while the target's socket exists, 0 once it is gone.");
	for (int i = 0; i < st->ntargets; i++)
		fprintf(f, "sksteer_target_up{netns=\"%llu\",target=\"%s\"} %d\n", ns,
			target_label(&st->targets[i].addr, name, sizeof(name)),
			st->targets[i].alive);
	metric_head(f, "target_ports", "gauge", "Ports the target owns.");
	for (int i = 0; i < st->ntargets; i++)
		fprintf(f, "sksteer_target_ports{netns=\"%llu\",target=\"%s\"} %u\n", ns,
			target_label(&st->targets[i].addr, name, sizeof(name)),
			st->targets[i].nports);
	metric_head(f, "target_dst_ports", "gauge",
		    "Ports the target owns for destinations in a prefix only (--dst).");
	for (int i = 0; i < st->ntargets; i++) {
		target_label(&st->targets[i].addr, name, sizeof(name));
		for (int d = 0; d < st->targets[i].ndst; d++) {
			char pname[PREFIX_STRLEN], dst[ESC_SIZE(PREFIX_STRLEN)];

			format_prefix(&st->targets[i].dst[d].dst, pname, sizeof(pname));
			fprintf(f,
				"sksteer_target_dst_ports{netns=\"%llu\",target=\"%s\",dst=\"%s\"} %u\n",
				ns, name, esc(ESC_PROM, pname, dst, sizeof(dst)),
				st->targets[i].dst[d].nports);
		}
	}
	metric_head(f, "trace_events_lost_total", "counter",
		    "Trace events the ring buffer could not take.");
	fprintf(f, "sksteer_trace_events_lost_total{netns=\"%llu\"} %llu\n", ns,
		(unsigned long long)st->totals.events_lost);
	clients_metrics(&st->clients, ns, f);
}

/* "target 127.0.0.1:9000: ports 80,443 are not steered to it ...": 1, or 0 for no ports */
static int report_ports(const struct portset *ports, const char *name, const char *what, FILE *f)
{
	unsigned int n = portset_count(ports);
	size_t len = format_ports(ports, NULL, 0) + 1;
	char *list;

	if (!n)
		return 0;
	list = malloc(len);
	if (list)
		format_ports(ports, list, len);
	fprintf(f, "sksteer: target %s: port%s %s %s %s: run 'sksteer -p PORTS -s %s' again\n",
		name, n > 1 ? "s" : "", list ? list : "?", n > 1 ? "are" : "is", what, name);
	free(list);
	return 1;
}

/* Ports a target was given but does not own, and the reverse. */
static int check_ports(const struct live *l, const struct target_status *t, const char *name,
		       FILE *f)
{
	struct portset wanted, owned, lost = {}, extra = {};

	if (live_wanted(l, t->slot, &wanted))
		return 0; /* pinned by an older sksteer: nothing recorded to compare with */
	live_ports(l, t->slot, &owned);
	for (unsigned int port = 1; port <= 65535; port++) {
		if (portset_has(&wanted, port) && !portset_has(&owned, port))
			portset_add(&lost, port);
		else if (!portset_has(&wanted, port) && portset_has(&owned, port))
			portset_add(&extra, port);
	}
	return report_ports(&lost, name, "not steered to it (lost from the port table)", f) +
	       report_ports(
		       &extra, name,
		       "steered to it without being in its configuration (a run was cut short?)",
		       f);
}

int status_check(const struct live *l, const struct status *st, FILE *f)
{
	char name[TARGET_STRLEN];
	int problems = 0;

	for (int i = 0; i < st->ntargets; i++) {
		const struct target_status *t = &st->targets[i];

		format_target(&t->addr, name, sizeof(name));
		/* a following target's sibling at its address serves meanwhile: healthy */
		if (!t->alive && !t->follow.standby_serves) {
			fprintf(f,
				"sksteer: target %s: its socket is gone, so its %u port%s not steered: start "
				"its server, then run 'sksteer -s %s'\n",
				name, t->nports, t->nports == 1 ? " is" : "s are", name);
			problems++;
		}
		problems += check_ports(l, t, name, f);
	}
	return problems;
}
