// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Configuration files: parsing, the canonical form, and the diff between two; see config.h. */
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

#define LINE_HINT "a line is 'tcp|udp ADDRESS PORTS [OPTIONS]', e.g. 'tcp 127.0.0.1:9000 80,443'"
#define OPTIONS_HINT                                                               \
	"known: dst=PREFIX, fail-closed, fail-open, force, follow, follow=group, " \
	"follow-cgroup=PATH"
#define SPACE " \t\r\v\f"
#define WORDS 64 /* how much of a bad word a message quotes */
/* one port space per protocol (TCP, UDP) and socket family (IPv4, IPv6): see steer.h */
static int port_space(const struct sksteer_target *t)
{
	return (t->proto == IPPROTO_UDP) * 2 + (t->family == AF_INET6);
}

/* Whether lines a and b share ports: same protocol, socket family and destination prefix. */
static bool same_space(const struct config_target *a, const struct config_target *b)
{
	return port_space(&a->addr) == port_space(&b->addr) && prefix_equal(&a->dst, &b->dst);
}

static int line_error(const struct config *cfg, unsigned int line, char *err, size_t errlen,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int line_error(const struct config *cfg, unsigned int line, char *err, size_t errlen,
		      const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s:%u: ", cfg->name, line);
	va_list ap;

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *proto_word(const struct sksteer_target *t)
{
	return t->proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* The address alone, without the "udp:" that format_target() puts in front. */
static char *format_addr(const struct sksteer_target *t, char *buf, size_t len)
{
	struct sksteer_target a = *t;

	a.proto = IPPROTO_TCP;
	return format_target(&a, buf, len);
}

/* Ports as a compact list; "..." when it does not fit in len. */
static char *format_ports_cut(const struct portset *s, char *buf, size_t len)
{
	if (format_ports(s, buf, len) >= len && len > 4)
		strcpy(buf + len - 4, "...");
	return buf;
}

int config_add(struct config *cfg, const struct config_target *t)
{
	struct config_target *more = realloc(cfg->t, ((size_t)cfg->n + 1) * sizeof(*more));

	if (!more)
		return -1;
	cfg->t = more;
	cfg->t[cfg->n++] = *t;
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->t);
	cfg->t = NULL;
	cfg->n = 0;
	cfg->ntargets = 0;
}

int config_find(const struct config *cfg, const struct sksteer_target *addr,
		const struct prefix *dst)
{
	static const struct prefix all;

	for (int i = 0; i < cfg->n; i++)
		if (target_equal(&cfg->t[i].addr, addr) &&
		    prefix_equal(&cfg->t[i].dst, dst ? dst : &all))
			return i;
	return -1;
}

/* Every destination first, then prefixes: IPv4 before IPv6, longest first, by address. */
static int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int target_cmp(const struct sksteer_target *a, const struct sksteer_target *b)
{
	int c;

	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1; /* IPPROTO_TCP (6) first */
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1; /* AF_INET (2) first */
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c)
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

/* The canonical order of lines: by target, then by destination prefix. */
static int line_cmp(const struct config_target *a, const struct config_target *b)
{
	int c = target_cmp(&a->addr, &b->addr);

	return c ? c : prefix_cmp(&a->dst, &b->dst);
}

static int config_target_cmp(const void *a, const void *b)
{
	return line_cmp(a, b);
}

void config_sort(struct config *cfg)
{
	if (cfg->n > 1)
		qsort(cfg->t, (size_t)cfg->n, sizeof(cfg->t[0]), config_target_cmp);
}

/* What a word that is not an option probably meant. */
static const char *option_hint(const char *word)
{
	if (isdigit((unsigned char)word[0]))
		return "the ports are one list without spaces, e.g. 80,443,8000-8999";
	return OPTIONS_HINT;
}

static int parse_options(const struct config *cfg, struct config_target *t, char **save, char *err,
			 size_t errlen)
{
	bool fail_open = false;
	char msg[256];

	for (char *w; (w = strtok_r(NULL, SPACE, save));) {
		if (!strcmp(w, "fail-closed"))
			t->options |= CONFIG_FAIL_CLOSED;
		else if (!strcmp(w, "fail-open"))
			fail_open = true; /* the default, accepted to be said */
		else if (!strcmp(w, "force"))
			t->options |= CONFIG_FORCE;
		else if (!strcmp(w, "follow"))
			t->options |= CONFIG_FOLLOW;
		else if (!strcmp(w, "follow=group"))
			t->options |= CONFIG_FOLLOW | CONFIG_FOLLOW_GROUP;
		else if (!strncmp(w, "follow-cgroup=", 14) && w[14] &&
			 strlen(w + 14) < sizeof(t->follow_cgroup))
			snprintf(t->follow_cgroup, sizeof(t->follow_cgroup), "%s", w + 14);
		else if (!strncmp(w, "dst=", 4) && t->dst.family)
			return line_error(cfg, t->line, err, errlen,
					  "dst= given twice: a line binds one prefix (give the "
					  "target a line per prefix)");
		else if (!strncmp(w, "dst=", 4) && parse_prefix(w + 4, &t->dst, msg, sizeof(msg)))
			return line_error(cfg, t->line, err, errlen, "dst=%s", msg);
		else if (!strncmp(w, "dst=", 4))
			continue;
		else
			return line_error(cfg, t->line, err, errlen, "unknown option '%.*s' (%s)",
					  WORDS, w, option_hint(w));
		if (fail_open && (t->options & CONFIG_FAIL_CLOSED))
			return line_error(
				cfg, t->line, err, errlen,
				"fail-closed and fail-open contradict each other: give one");
	}
	if (t->follow_cgroup[0] && !(t->options & CONFIG_FOLLOW))
		return line_error(cfg, t->line, err, errlen,
				  "follow-cgroup= goes with follow or follow=group");
	return 0;
}

/* A target given twice, or a port given to two targets, names the line that had it first. */
static int check_overlap(const struct config *cfg, const struct config_target *t, char *err,
			 size_t errlen)
{
	char name[TARGET_STRLEN], list[128];
	struct portset both;

	for (int i = 0; i < cfg->n; i++) {
		const struct config_target *o = &cfg->t[i];

		format_target(&o->addr, name, sizeof(name));
		if (target_equal(&o->addr, &t->addr) && prefix_equal(&o->dst, &t->dst))
			return line_error(cfg, t->line, err, errlen,
					  "target %s%s is already on line %u: give each target one "
					  "line (per dst=)",
					  name, t->dst.family ? " with that dst=" : "", o->line);
		if (target_equal(&o->addr, &t->addr) &&
		    ((o->options ^ t->options) & ~CONFIG_FORCE ||
		     strcmp(o->follow_cgroup, t->follow_cgroup)))
			return line_error(cfg, t->line, err, errlen,
					  "target %s has other options on line %u: give each of "
					  "its lines the same ones",
					  name, o->line);
		/* an IPv4 and an IPv6 socket may share ports (each takes its family's lookups), */
		/* and so may two prefixes (the most specific wins) */
		if (!same_space(o, t) || !portset_and(&o->ports, &t->ports, &both))
			continue;
		return line_error(cfg, t->line, err, errlen,
				  "%s port%s %s already belong%s to %s on line %u: a port goes to "
				  "one target of each family",
				  proto_word(&t->addr), portset_count(&both) > 1 ? "s" : "",
				  format_ports_cut(&both, list, sizeof(list)),
				  portset_count(&both) > 1 ? "" : "s", name, o->line);
	}
	return 0;
}

/* Whether cfg has a line for target addr. */
static bool has_target(const struct config *cfg, const struct sksteer_target *addr)
{
	for (int i = 0; i < cfg->n; i++)
		if (target_equal(&cfg->t[i].addr, addr))
			return true;
	return false;
}

/* Whether dst would be one prefix more of its family than a namespace has room for. */
static bool too_many_prefixes(const struct config *cfg, const struct prefix *dst)
{
	const struct prefix *seen[SCOPED_PREFIXES];
	int n = 0;

	for (int i = 0; i < cfg->n; i++) {
		const struct prefix *p = &cfg->t[i].dst;
		bool first = p->family == dst->family;

		if (first && prefix_equal(p, dst))
			return false;
		for (int k = 0; first && k < n; k++)
			first = !prefix_equal(seen[k], p);
		if (first && n == SCOPED_PREFIXES)
			return true; /* cannot happen: each line was checked */
		if (first)
			seen[n++] = p;
	}
	return n >= SCOPED_PREFIXES;
}

int config_parse_line(struct config *cfg, unsigned int line, char *text, char *err, size_t errlen)
{
	struct config_target t = { .line = line };
	char msg[256], name[TARGET_STRLEN], *save, *proto, *addr, *ports, *hash;
	bool new_target;

	hash = strchr(text, '#');
	if (hash)
		*hash = '\0';
	proto = strtok_r(text, SPACE, &save);
	if (!proto)
		return 0;
	if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
		return line_error(cfg, line, err, errlen, "unknown keyword '%.*s': %s", WORDS,
				  proto, LINE_HINT);
	addr = strtok_r(NULL, SPACE, &save);
	if (!addr)
		return line_error(cfg, line, err, errlen, "'%s' needs an address and ports: %s",
				  proto, LINE_HINT);
	if (!strncmp(addr, "tcp:", 4) || !strncmp(addr, "udp:", 4))
		return line_error(cfg, line, err, errlen,
				  "'%.*s': the protocol is the line's first word only (%s)", WORDS,
				  addr, LINE_HINT);
	if (parse_target(addr, &t.addr, msg, sizeof(msg)))
		return line_error(cfg, line, err, errlen, "%s", msg);
	t.addr.proto = proto[0] == 'u' ? IPPROTO_UDP : IPPROTO_TCP;
	ports = strtok_r(NULL, SPACE, &save);
	if (!ports)
		return line_error(cfg, line, err, errlen,
				  "%s %s has no ports: give them after the address, e.g. "
				  "80,443,8000-8999",
				  proto, format_addr(&t.addr, name, sizeof(name)));
	if (parse_ports(ports, &t.ports, msg, sizeof(msg)))
		return line_error(cfg, line, err, errlen, "%s", msg);
	if (parse_options(cfg, &t, &save, err, errlen) || check_overlap(cfg, &t, err, errlen))
		return -1;
	if (t.dst.family && too_many_prefixes(cfg, &t.dst))
		return line_error(cfg, line, err, errlen,
				  "more than %d %s prefixes (dst=): a namespace has room for %d",
				  SCOPED_PREFIXES, t.dst.family == AF_INET ? "IPv4" : "IPv6",
				  SCOPED_PREFIXES);
	new_target = !has_target(cfg, &t.addr);
	if (new_target && cfg->ntargets >= CONFIG_MAX_TARGETS)
		return line_error(cfg, line, err, errlen,
				  "more than %d targets: a namespace has room for %d",
				  CONFIG_MAX_TARGETS, CONFIG_MAX_TARGETS);
	if (config_add(cfg, &t))
		return line_error(cfg, line, err, errlen, "out of memory");
	cfg->ntargets += new_target;
	return 0;
}

int config_parse(struct config *cfg, const char *name, const char *text, size_t len, char *err,
		 size_t errlen)
{
	const char *p = text, *end = text + len;
	unsigned int line = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = name;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *copy;
		int ret;

		line++;
		if (memchr(p, '\0', n)) {
			line_error(cfg, line, err, errlen, "a NUL byte: this is not a text file");
			goto fail;
		}
		copy = strndup(p, n);
		if (!copy) {
			line_error(cfg, line, err, errlen, "out of memory");
			goto fail;
		}
		ret = config_parse_line(cfg, line, copy, err, errlen);
		free(copy);
		if (ret)
			goto fail;
		p += n + 1;
	}
	config_sort(cfg);
	return 0;
fail:
	config_free(cfg);
	return -1;
}

/* "+ tcp 127.0.0.1:9000 80,443 fail-closed (new target)": prefix, address, ports, words, note. */
static void write_target(FILE *f, const char *prefix, const struct config_target *t,
			 const struct portset *ports, const char *words, const char *note)
{
	char name[TARGET_STRLEN];

	if (!f)
		return;
	fprintf(f, "%s%s %s", prefix, proto_word(&t->addr),
		format_addr(&t->addr, name, sizeof(name)));
	if (ports && portset_count(ports)) {
		size_t len = format_ports(ports, NULL, 0) + 1;
		char *list = malloc(len);

		if (list) {
			format_ports(ports, list, len);
			fprintf(f, " %s", list);
			free(list);
		}
	}
	if (t->dst.family) {
		char dst[PREFIX_STRLEN];

		fprintf(f, " dst=%s", format_prefix(&t->dst, dst, sizeof(dst)));
	}
	if (words && *words)
		fprintf(f, " %s", words);
	if (note)
		fprintf(f, " (%s)", note);
	fputc('\n', f);
}

/* The options that are state, as a line gives them (in a static buffer). */
static const char *option_words(const struct config_target *t)
{
	static __thread char words[256]; /* per thread: handles in threads are independent */

	snprintf(words, sizeof(words), "%s%s%s%s%s",
		 t->options & CONFIG_FAIL_CLOSED ? "fail-closed" : "",
		 t->options & CONFIG_FAIL_CLOSED && t->options & CONFIG_FOLLOW ? " " : "",
		 !(t->options & CONFIG_FOLLOW)	  ? "" :
		 t->options & CONFIG_FOLLOW_GROUP ? "follow=group" :
						    "follow",
		 t->follow_cgroup[0] ? " follow-cgroup=" : "", t->follow_cgroup);
	return words;
}

/* follow, follow=group or no-follow, with its cgroup: as the diff names it */
static const char *follow_words(const struct config_target *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s",
		 !(t->options & CONFIG_FOLLOW)	  ? "no-follow" :
		 t->options & CONFIG_FOLLOW_GROUP ? "follow=group" :
						    "follow",
		 t->follow_cgroup[0] ? " follow-cgroup=" : "", t->follow_cgroup);
	return buf;
}

void config_write(const struct config *cfg, FILE *f)
{
	fputs("# sksteer.conf(5): PROTOCOL ADDRESS PORTS [OPTIONS], one target per line\n", f);
	for (int i = 0; i < cfg->n; i++)
		write_target(f, "", &cfg->t[i], &cfg->t[i].ports, option_words(&cfg->t[i]), NULL);
}

/* Every port that some line of cfg steers in the space of line t (protocol, family, prefix). */
static void steered(const struct config *cfg, const struct config_target *t, struct portset *all)
{
	memset(all, 0, sizeof(*all));
	for (int i = 0; i < cfg->n; i++)
		if (same_space(&cfg->t[i], t))
			portset_or(all, &cfg->t[i].ports);
}

/* What a new line is: a new target, or a target's new prefix or every-address binding. */
static const char *new_note(const struct config_target *h, bool known,
			    const struct config_target *w)
{
	if (h)
		return NULL;
	if (!known)
		return "new target";
	return w->dst.family ? "new prefix" : "new binding for every address";
}

/* What a line that goes is: its target, or one of the target's lines it keeps others of. */
static const char *gone_note(const struct config *want, const struct config_target *h)
{
	for (int i = 0; i < want->n; i++)
		if (target_equal(&want->t[i].addr, &h->addr))
			return h->dst.family ? "prefix removed" :
					       "binding for every address removed";
	return "target removed";
}

/* The lines of one target: h as it is (or NULL), w as it will be (or NULL). */
static int diff_target(const struct config *have, const struct config *want,
		       const struct config_target *h, const struct config_target *w, FILE *f)
{
	const struct config_target *t = w ? w : h;
	int lines = 0;
	struct portset gained, lost, moved, all;
	char from[TARGET_STRLEN + 8];

	if (!t)
		return 0;
	if (w) {
		steered(have, w, &all);
		portset_andnot(&w->ports, &all, &gained);
		if (!h || portset_count(&gained)) {
			bool known = false; /* a target's new dst= line is no new target */

			for (int i = 0; !h && i < have->n; i++)
				known |= target_equal(&have->t[i].addr, &w->addr);
			write_target(f, "+ ", w, &gained, h ? NULL : option_words(w),
				     new_note(h, known, w));
			lines++;
		}
		for (int i = 0; i < have->n; i++) {
			const struct config_target *o = &have->t[i];

			if (o == h || !same_space(o, w) ||
			    !portset_and(&w->ports, &o->ports, &moved))
				continue;
			snprintf(from, sizeof(from), "from ");
			format_addr(&o->addr, from + 5, sizeof(from) - 5);
			write_target(f, "~ ", w, &moved, NULL, from);
			lines++;
		}
	}
	if (h) {
		steered(want, h, &all);
		portset_andnot(&h->ports, &all, &lost);
		if (!w || portset_count(&lost)) {
			write_target(f, "- ", h, &lost, NULL, w ? NULL : gone_note(want, h));
			lines++;
		}
	}
	if (h && w && (h->options ^ w->options) & CONFIG_FAIL_CLOSED) {
		write_target(f, "~ ", w, NULL,
			     w->options & CONFIG_FAIL_CLOSED ? "fail-closed" : "fail-open",
			     w->options & CONFIG_FAIL_CLOSED ? "was fail-open" : "was fail-closed");
		lines++;
	}
	if (h && w &&
	    (((h->options ^ w->options) & (CONFIG_FOLLOW | CONFIG_FOLLOW_GROUP)) ||
	     strcmp(h->follow_cgroup, w->follow_cgroup))) {
		char was[160], now[160], note[168];

		snprintf(note, sizeof(note), "was %s", follow_words(h, was, sizeof(was)));
		write_target(f, "~ ", w, NULL, follow_words(w, now, sizeof(now)), note);
		lines++;
	}
	if (h && w && w->socket != CONFIG_SOCKET_KEEP) {
		write_target(f, "~ ", w, NULL, "new socket",
			     w->socket == CONFIG_SOCKET_GONE ? "its socket is gone" :
							       "another one listens there");
		lines++;
	}
	return lines;
}

int config_diff(const struct config *have, const struct config *want, FILE *f)
{
	int i = 0, j = 0, lines = 0;

	/* both are sorted: walk them side by side */
	while (i < have->n || j < want->n) {
		const struct config_target *h = NULL, *w = NULL;
		int c = i >= have->n ? 1 : j >= want->n ? -1 : line_cmp(&have->t[i], &want->t[j]);

		if (c <= 0)
			h = &have->t[i++];
		if (c >= 0)
			w = &want->t[j++];
		lines += diff_target(have, want, h, w, f);
	}
	return lines;
}
