// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target for the configuration file parser (make fuzz). Besides
 * crashes it checks what --save and --config promise: a file that parses,
 * written out and parsed again, is the same configuration (every line whole,
 * its dst= prefix too; force is never written) and the same bytes;
 * a configuration differs from itself in nothing, and from nothing in every
 * target. The input, cut in two where its first byte says, is also two
 * configurations: the changes from one to the other are one line each, as
 * many as config_diff() counts, none exactly when the two are the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static char *write_config(const struct config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		abort();
	config_write(cfg, f);
	fclose(f);
	return text;
}

/*
 * The same configuration: every field of every line (struct config_target) but two, which are
 * no part of it. line is where the line was in its file: --save writes a comment first, and
 * another file may put the same lines elsewhere. CONFIG_FORCE is how to apply a line, not state:
 * --save never writes it, and config_diff() sees no change in it. A dst= prefix, the other
 * options, the cgroup followed and the planner's socket verdict all count, and the group.
 */
static bool same(const struct config *a, const struct config *b)
{
	if (a->n != b->n || a->ntargets != b->ntargets || strcmp(a->group, b->group))
		return false;
	for (int i = 0; i < a->n; i++) {
		const struct config_target *x = &a->t[i], *y = &b->t[i];

		if (!target_equal(&x->addr, &y->addr) || !prefix_equal(&x->dst, &y->dst) ||
		    memcmp(x->ports, y->ports, sizeof(*x->ports)) ||
		    (x->options & ~CONFIG_FORCE) != (y->options & ~CONFIG_FORCE) ||
		    strcmp(x->follow_cgroup, y->follow_cgroup) || x->socket != y->socket)
			return false;
	}
	return true;
}

/* The changes from a to b, as --dry-run prints them: checked line by line. */
static void check_diff(const struct config *a, const struct config *b)
{
	char *text = NULL, *p;
	size_t len = 0;
	int n, lines = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	n = config_diff(a, b, f);
	fclose(f);
	for (p = text; p && *p; lines++) {
		char *nl = strchr(p, '\n');

		if (!nl || (strncmp(p, "+ ", 2) && strncmp(p, "- ", 2) && strncmp(p, "~ ", 2))) {
			fprintf(stderr, "a change that is not one '+|-|~ ...' line:\n%s\n", text);
			abort();
		}
		p = nl + 1;
	}
	if (n != lines || (n == 0) != same(a, b)) {
		fprintf(stderr,
			"config_diff() counts %d changes, prints %d lines (same: %d):\n%s\n", n,
			lines, same(a, b), text ? text : "");
		abort();
	}
	free(text);
}

static void check_pair(const unsigned char *data, size_t size)
{
	struct config a, b;
	char err[1024];
	size_t cut;

	if (!size)
		return;
	cut = 1 + (size - 1) * data[0] / 255;
	if (config_parse(&a, "a", (const char *)data + 1, cut - 1, err, sizeof(err)))
		return;
	if (!config_parse(&b, "b", (const char *)data + cut, size - cut, err, sizeof(err))) {
		check_diff(&a, &b);
		check_diff(&b, &a);
		config_free(&b);
	}
	config_free(&a);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct config cfg, again, none = { .name = "none" };
	char err[1024], *text, *text2;
	size_t len, len2;

	check_pair(data, size);
	if (config_parse(&cfg, "fuzz", (const char *)data, size, err, sizeof(err))) {
		if (strncmp(err, "fuzz:", 5) || strchr(err, '\n')) {
			fprintf(stderr, "an error that is not one 'FILE:LINE: ...' line: %s\n",
				err);
			abort();
		}
		return 0;
	}
	text = write_config(&cfg, &len);
	if (config_parse(&again, "saved", text, len, err, sizeof(err))) {
		fprintf(stderr, "saved as\n%s\ndoes not parse back: %s\n", text, err);
		abort();
	}
	if (!same(&cfg, &again)) {
		fprintf(stderr, "saved as\n%s\nparses back as another configuration\n", text);
		abort();
	}
	for (int i = 0; i < again.n; i++) {
		if (again.t[i].options & CONFIG_FORCE) {
			fprintf(stderr, "--save wrote force:\n%s\n", text);
			abort();
		}
	}
	text2 = write_config(&again, &len2);
	if (len != len2 || memcmp(text, text2, len)) {
		fprintf(stderr, "saving twice gives different bytes:\n%s\n%s\n", text, text2);
		abort();
	}
	/* a line per target, and one for the group, if any */
	if (config_diff(&cfg, &again, NULL) != 0 ||
	    config_diff(&none, &cfg, NULL) != cfg.n + (cfg.group[0] != '\0') ||
	    config_diff(&cfg, &none, NULL) != cfg.n + (cfg.group[0] != '\0')) {
		fprintf(stderr, "the diff is wrong for\n%s\n", text);
		abort();
	}
	free(text);
	free(text2);
	config_free(&cfg);
	config_free(&again);
	return 0;
}
