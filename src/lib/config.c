// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Configuration files: parsing, checking, sorting and finding lines; see config.h (the text and the
 * diff: config_text.c; what scales them: config_index.c). */
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_index.h"

#define LINE_HINT                                                                            \
	"a line is 'tcp|udp ADDRESS PORTS [OPTIONS]', e.g. 'tcp 127.0.0.1:9000 80,443', or " \
	"'group NAME'"
#define OPTIONS_HINT                                                               \
	"known: dst=PREFIX, fail-closed, fail-open, force, follow, follow=group, " \
	"follow-cgroup=PATH"
#define SPACE " \t\r\v\f"
#define WORDS 64 /* how much of a bad word a message quotes */
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

/* Ports as a compact list; "..." when it does not fit in len. */
static char *format_ports_cut(const struct portset *s, char *buf, size_t len)
{
	if (format_ports(s, buf, len) >= len && len > 4)
		strcpy(buf + len - 4, "...");
	return buf;
}

/* cfg's own index, made or grown for one line more; NULL when out of memory. */
static struct config_index *own_index(struct config *cfg)
{
	struct config_index *x = cfg->index;

	if (x && x->lines == cfg->n && x->room > cfg->n)
		return x;
	index_free(x);
	cfg->index = index_make(cfg, 2 * cfg->n + 16);
	return cfg->index;
}

int config_add(struct config *cfg, const struct config_target *t)
{
	if (cfg->n == cfg->cap) {
		int cap = cfg->cap ? 2 * cfg->cap : 16;
		struct config_target *more = realloc(cfg->t, (size_t)cap * sizeof(*more));

		if (!more)
			return -1;
		cfg->t = more;
		cfg->cap = cap;
	}
	ports_hold(t->ports);
	cfg->t[cfg->n++] = *t;
	cfg->sorted = false;
	if (cfg->index && cfg->index->lines == cfg->n - 1 && cfg->index->room >= cfg->n)
		index_add(cfg, cfg->index, cfg->n - 1);
	return 0;
}

const struct portset *config_ports(struct config *cfg, const struct portset *set)
{
	return ports_intern(cfg, set);
}

int config_set_ports(struct config *cfg, int i, const struct portset *set)
{
	const struct portset *p = config_ports(cfg, set);

	if (!p)
		return -1;
	ports_hold(p);
	ports_drop(cfg->t[i].ports);
	cfg->t[i].ports = p;
	return 0;
}

void config_free(struct config *cfg)
{
	for (int i = 0; i < cfg->n; i++)
		ports_drop(cfg->t[i].ports);
	ports_pool_free(cfg);
	index_free(cfg->index);
	free(cfg->t);
	cfg->index = NULL;
	cfg->t = NULL;
	cfg->n = cfg->cap = 0;
	cfg->ntargets = 0;
	cfg->sorted = false;
	cfg->group[0] = '\0';
	cfg->group_line = 0;
}

bool config_group_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= CONFIG_GROUP_LEN || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]) &&
		    !(name[i] == '$' && i == n - 1))
			return false;
	return true;
}

/* "group NAME": who may read the pins besides their owner (access.h). */
static int parse_group(struct config *cfg, unsigned int line, char **save, char *err, size_t errlen)
{
	char *name = strtok_r(NULL, SPACE, save), *more = strtok_r(NULL, SPACE, save);

	if (cfg->group_line)
		return line_error(cfg, line, err, errlen,
				  "a second 'group' line (the first is line %u): the pins have "
				  "one group: keep one",
				  cfg->group_line);
	if (!name || more)
		return line_error(cfg, line, err, errlen,
				  "'group' takes one word, the group that may read the pins: "
				  "'group NAME'");
	if (!config_group_valid(name))
		return line_error(cfg, line, err, errlen,
				  "'%.*s' is not a group's name: letters, digits, '.', '_' and "
				  "'-', at most 32, or its number",
				  WORDS, name);
	/* root's group is the owner's: no other group */
	snprintf(cfg->group, sizeof(cfg->group), "%s",
		 strcmp(name, "root") && strspn(name, "0") != strlen(name) ? name : "");
	cfg->group_line = line;
	return 0;
}

static int line_cmp_key(const struct config_target *a, const struct sksteer_target *addr,
			const struct prefix *dst);

int config_find(const struct config *cfg, const struct sksteer_target *addr,
		const struct prefix *dst)
{
	static const struct prefix all;
	int lo = 0, hi = cfg->n;

	if (!dst)
		dst = &all;
	if (!cfg->sorted) {
		for (int i = 0; i < cfg->n; i++)
			if (target_equal(&cfg->t[i].addr, addr) &&
			    prefix_equal(&cfg->t[i].dst, dst))
				return i;
		return -1;
	}
	while (lo < hi) { /* sorted: by target, then by prefix */
		int mid = lo + (hi - lo) / 2, c = line_cmp_key(&cfg->t[mid], addr, dst);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int line_cmp_key(const struct config_target *a, const struct sksteer_target *addr,
			const struct prefix *dst)
{
	int c = config_target_order(&a->addr, addr);

	return c ? c : prefix_cmp(&a->dst, dst);
}

static int config_target_cmp(const void *a, const void *b)
{
	return config_line_cmp(a, b);
}

void config_sort(struct config *cfg)
{
	index_free(cfg->index);
	cfg->index = NULL;
	if (cfg->n > 1)
		qsort(cfg->t, (size_t)cfg->n, sizeof(cfg->t[0]), config_target_cmp);
	cfg->sorted = true;
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

/*
 * A target given twice, or a port given to two targets, names the line that
 * had it first; of several, the earliest line (and for one line: a target
 * given twice, other options, then ports).
 */
static int check_overlap(struct config *cfg, const struct config_target *t, char *err,
			 size_t errlen)
{
	struct config_index *x = own_index(cfg);
	int first, dup = -1, shared = -1;
	char name[TARGET_STRLEN], list[128];
	struct portset both;

	if (!x)
		return line_error(cfg, t->line, err, errlen, "out of memory");
	first = index_target(cfg, x, &t->addr);
	EACH_IN_SPACE(cfg, x, t, k)
	{
		/* an IPv4 and an IPv6 socket may share ports (each takes its family's lookups), */
		/* and so may two prefixes (the most specific wins) */
		if (target_equal(&cfg->t[k].addr, &t->addr))
			dup = k;
		else if (portset_and(cfg->t[k].ports, t->ports, &both))
			shared = k;
	}
	/* lines of one target carry the same options: its first line stands for them */
	if (first >= 0 && !((cfg->t[first].options ^ t->options) & ~CONFIG_FORCE) &&
	    !strcmp(cfg->t[first].follow_cgroup, t->follow_cgroup))
		first = -1;
	if (dup >= 0 && (first < 0 || dup <= first) && (shared < 0 || dup <= shared))
		return line_error(cfg, t->line, err, errlen,
				  "target %s%s is already on line %u: give each target one "
				  "line (per dst=)",
				  format_target(&t->addr, name, sizeof(name)),
				  t->dst.family ? " with that dst=" : "", cfg->t[dup].line);
	if (first >= 0 && (shared < 0 || first <= shared))
		return line_error(cfg, t->line, err, errlen,
				  "target %s has other options on line %u: give each of "
				  "its lines the same ones",
				  format_target(&t->addr, name, sizeof(name)), cfg->t[first].line);
	if (shared < 0)
		return 0;
	portset_and(cfg->t[shared].ports, t->ports, &both);
	return line_error(
		cfg, t->line, err, errlen,
		"%s port%s %s already belong%s to %s on line %u: a port goes to "
		"one target of each family",
		config_proto_word(&t->addr), portset_count(&both) > 1 ? "s" : "",
		format_ports_cut(&both, list, sizeof(list)), portset_count(&both) > 1 ? "" : "s",
		format_target(&cfg->t[shared].addr, name, sizeof(name)), cfg->t[shared].line);
}

/* Whether cfg has a line for target addr. */
static bool has_target(struct config *cfg, const struct sksteer_target *addr)
{
	struct config_index *x = own_index(cfg);

	if (x)
		return index_target(cfg, x, addr) >= 0;
	for (int i = 0; i < cfg->n; i++)
		if (target_equal(&cfg->t[i].addr, addr))
			return true;
	return false;
}

int config_parse_line(struct config *cfg, unsigned int line, char *text, char *err, size_t errlen)
{
	struct config_target t = { .line = line };
	char msg[256], name[TARGET_STRLEN], *save, *proto, *addr, *ports, *hash;
	struct portset set;
	bool new_target;

	hash = strchr(text, '#');
	if (hash)
		*hash = '\0';
	proto = strtok_r(text, SPACE, &save);
	if (!proto)
		return 0;
	if (!strcmp(proto, "group"))
		return parse_group(cfg, line, &save, err, errlen);
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
				  proto, config_format_addr(&t.addr, name, sizeof(name)));
	t.ports = ports_of_text(cfg, ports);
	if (!t.ports && parse_ports(ports, &set, msg, sizeof(msg)))
		return line_error(cfg, line, err, errlen, "%s", msg);
	if (!t.ports && (t.ports = config_ports(cfg, &set)))
		ports_remember_text(cfg, ports, t.ports);
	if (!t.ports)
		return line_error(cfg, line, err, errlen, "out of memory");
	if (parse_options(cfg, &t, &save, err, errlen) || check_overlap(cfg, &t, err, errlen))
		return -1;
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
