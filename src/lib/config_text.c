// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Configurations as text: the canonical form --save prints, and the diff between two; see config.h. */
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "config_index.h"

/* "+ tcp 127.0.0.1:9000 80,443 fail-closed (new target)": prefix, address, ports, words, note. */
static void write_target(FILE *f, const char *prefix, const struct config_target *t,
			 const struct portset *ports, const char *words, const char *note)
{
	char name[TARGET_STRLEN];

	if (!f)
		return;
	fprintf(f, "%s%s %s", prefix, config_proto_word(&t->addr),
		config_format_addr(&t->addr, name, sizeof(name)));
	if (ports && !portset_empty(ports)) {
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
	if (cfg->group[0])
		fprintf(f, "group %s\n", cfg->group);
	for (int i = 0; i < cfg->n; i++)
		write_target(f, "", &cfg->t[i], cfg->t[i].ports, option_words(&cfg->t[i]), NULL);
}

/* A config and its index, for the diff. */
struct indexed {
	const struct config *cfg;
	struct config_index *x;
};

/* Every port that some line of cfg steers in the space of line t (protocol, family, prefix). */
static void steered(const struct indexed *c, const struct config_target *t, struct portset *all)
{
	memset(all, 0, sizeof(*all));
	EACH_IN_SPACE(c->cfg, c->x, t, k)
	portset_or(all, c->cfg->t[k].ports);
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
static const char *gone_note(const struct indexed *want, const struct config_target *h)
{
	if (index_target(want->cfg, want->x, &h->addr) >= 0)
		return h->dst.family ? "prefix removed" : "binding for every address removed";
	return "target removed";
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Lines of have in w's space that w takes ports from, in have's order: "~" lines. */
static int diff_moved(const struct indexed *have, const struct config_target *h,
		      const struct config_target *w, FILE *f)
{
	int n = 0, cap = 0, *from = NULL, lines = 0;
	char note[TARGET_STRLEN + 8];
	struct portset moved;

	EACH_IN_SPACE(have->cfg, have->x, w, k)
	{
		if (&have->cfg->t[k] == h || !portset_and(w->ports, have->cfg->t[k].ports, &moved))
			continue;
		if (n == cap) {
			int *more = realloc(from, (size_t)(cap = 2 * cap + 4) * sizeof(*from));

			if (!more) {
				free(from);
				return -1;
			}
			from = more;
		}
		from[n++] = k;
	}
	if (n > 1)
		qsort(from, (size_t)n, sizeof(*from), int_cmp);
	for (int i = 0; i < n; i++) {
		const struct config_target *o = &have->cfg->t[from[i]];

		portset_and(w->ports, o->ports, &moved);
		snprintf(note, sizeof(note), "from ");
		config_format_addr(&o->addr, note + 5, sizeof(note) - 5);
		write_target(f, "~ ", w, &moved, NULL, note);
		lines++;
	}
	free(from);
	return lines;
}

/* The lines of one target: h as it is (or NULL), w as it will be (or NULL). */
static int diff_target(const struct indexed *have, const struct indexed *want,
		       const struct config_target *h, const struct config_target *w, FILE *f)
{
	const struct config_target *t = w ? w : h;
	int lines = 0, moved;
	struct portset gained, lost, all;

	if (!t)
		return 0;
	if (w) {
		steered(have, w, &all);
		portset_andnot(w->ports, &all, &gained);
		if (!h || !portset_empty(&gained)) {
			/* a target's new dst= line is no new target */
			bool known = !h && index_target(have->cfg, have->x, &w->addr) >= 0;

			write_target(f, "+ ", w, &gained, h ? NULL : option_words(w),
				     new_note(h, known, w));
			lines++;
		}
		moved = diff_moved(have, h, w, f);
		if (moved < 0)
			return -1;
		lines += moved;
	}
	if (h) {
		steered(want, h, &all);
		portset_andnot(h->ports, &all, &lost);
		if (!w || !portset_empty(&lost)) {
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
	struct indexed ih = { have, index_make(have, have->n) };
	struct indexed iw = { want, index_make(want, want->n) };
	int i = 0, j = 0, lines = ih.x && iw.x ? 0 : -1;

	if (lines >= 0 && strcmp(have->group, want->group)) {
		if (f)
			fprintf(f, "~ group %s (was %s)\n", want->group[0] ? want->group : "none",
				have->group[0] ? have->group : "none");
		lines++;
	}
	/* both are sorted: walk them side by side */
	while (lines >= 0 && (i < have->n || j < want->n)) {
		const struct config_target *h = NULL, *w = NULL;
		int c = i >= have->n ? 1 :
			j >= want->n ? -1 :
				       config_line_cmp(&have->t[i], &want->t[j]);
		int more;

		if (c <= 0)
			h = &have->t[i++];
		if (c >= 0)
			w = &want->t[j++];
		more = diff_target(&ih, &iw, h, w, f);
		lines = more < 0 ? -1 : lines + more;
	}
	index_free(ih.x);
	index_free(iw.x);
	return lines;
}
