// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The public configurations and plans (struct sksteer_config, struct
 * sksteer_plan): a namespace's whole steering as data, read from text, built
 * binding by binding or read from the live state, checked against the live
 * state and applied (the mechanism is src/lib/apply.c's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "applied.h"
#include "apply.h"
#include "ns.h"
#include "plan.h"
#include "print.h"

struct sksteer_config {
	struct config cfg;
	char name[64];
};

struct sksteer_plan {
	struct plan p;
	const struct sksteer_ns *ns; /* the handle it was made on: applied there only */
	char **lines; /* the changes, as --dry-run prints them */
	int nlines;
	bool dry; /* a single change's: for reading only (sksteer_ns__plan_change()) */
	bool counted; /* updates holds what applying it would write (a read-only handle's) */
	struct live_updates updates;
};

int sksteer_config__new(struct sksteer_config **out)
{
	struct sksteer_config *c = calloc(1, sizeof(*c));

	*out = c;
	if (!c)
		return lib_error(-ENOMEM, "out of memory");
	snprintf(c->name, sizeof(c->name), "binding");
	c->cfg.name = c->name;
	return 0;
}

int sksteer_config__parse(const char *name, const char *text, size_t len,
			  struct sksteer_config **out)
{
	char err[1024];
	int ret = sksteer_config__new(out);

	if (ret)
		return ret;
	snprintf((*out)->name, sizeof((*out)->name), "%s", name ? name : "configuration");
	if (config_parse(&(*out)->cfg, (*out)->name, text, len, err, sizeof(err))) {
		sksteer_config__free(*out);
		*out = NULL;
		return lib_error(-EINVAL, err);
	}
	return 0;
}

int sksteer_config__set_group(struct sksteer_config *c, const char *group)
{
	if (group && *group && !config_group_valid(group))
		return lib_error(-EINVAL, "not a group's name: letters, digits, '.', '_' and '-', "
					  "at most 32, or its number");
	snprintf(c->cfg.group, sizeof(c->cfg.group), "%s",
		 group && strcmp(group, "root") && strspn(group, "0") != strlen(group) ? group :
											 "");
	return 0;
}

/* A binding's string as one word of a line: no blank, no comment, no line break. */
static int word(const char *what, const char *s, char *err, size_t errlen)
{
	if (s && s[0] && !strpbrk(s, " \t\n\r#"))
		return 0;
	snprintf(err, errlen, "%s '%s': %s", what, s ? s : "",
		 s && s[0] ? "a blank, '#' or line break in it" : "empty");
	return -1;
}

int sksteer_config__add(struct sksteer_config *c, const struct sksteer_binding *b)
{
	const char *target = OPTS_GET(b, target, NULL), *dst = OPTS_GET(b, dst, NULL);
	const char *ports = OPTS_GET(b, ports, NULL), *proto = "tcp";
	const char *cgroup = OPTS_GET(b, follow_cgroup, NULL);
	unsigned int flags = OPTS_GET(b, flags, 0);
	char err[1024], *line = NULL;

	if (word("target", target, err, sizeof(err)) || word("ports", ports, err, sizeof(err)) ||
	    (dst && word("dst", dst, err, sizeof(err))) ||
	    (cgroup && word("follow cgroup", cgroup, err, sizeof(err))))
		return lib_error(-EINVAL, err);
	if (!strncmp(target, "tcp:", 4) || !strncmp(target, "udp:", 4)) {
		proto = target[0] == 'u' ? "udp" : "tcp";
		target += 4;
	}
	/* the line the file would have: checked as config_parse() checks a file's */
	if (asprintf(&line, "%s %s %s%s%s%s%s%s%s%s", proto, target, ports, dst ? " dst=" : "",
		     dst ? dst : "", flags & SKSTEER_BIND_FAIL_CLOSED ? " fail-closed" : "",
		     flags & SKSTEER_BIND_FORCE ? " force" : "",
		     flags & SKSTEER_BIND_FOLLOW_GROUP ? " follow=group" :
		     flags & SKSTEER_BIND_FOLLOW       ? " follow" :
							 "",
		     cgroup ? " follow-cgroup=" : "", cgroup ? cgroup : "") < 0)
		return lib_error(-ENOMEM, "out of memory");
	if (config_parse_line(&c->cfg, (unsigned int)c->cfg.n + 1, line, err, sizeof(err))) {
		free(line);
		return lib_error(-EINVAL, err);
	}
	free(line);
	return 0;
}

int sksteer_config__text(const struct sksteer_config *c, char **text)
{
	struct config sorted = { .name = c->cfg.name };
	size_t len = 0;
	FILE *f;
	int ret = 0;

	*text = NULL;
	for (int i = 0; !ret && i < c->cfg.n; i++)
		ret = config_add(&sorted, &c->cfg.t[i]);
	memcpy(sorted.group, c->cfg.group, sizeof(sorted.group));
	f = ret ? NULL : open_memstream(text, &len);
	if (!f) {
		config_free(&sorted);
		return lib_error(-ENOMEM, "out of memory");
	}
	config_sort(&sorted);
	config_write(&sorted, f);
	ret = fclose(f) ? -ENOMEM : 0;
	config_free(&sorted);
	return ret ? lib_error(ret, "out of memory") : 0;
}

void sksteer_config__free(struct sksteer_config *c)
{
	if (!c)
		return;
	config_free(&c->cfg);
	free(c);
}

int sksteer_ns__config(struct sksteer_ns *ns, struct sksteer_config **out)
{
	struct ns_call call;
	char err[1024];
	int ret = sksteer_config__new(out);

	if (ret)
		return ret;
	snprintf((*out)->name, sizeof((*out)->name), "live");
	ns_begin(ns, &call, NS_STAY, err, sizeof(err));
	ret = live_config(&ns->l, &(*out)->cfg, err, sizeof(err));
	ns_end(&call);
	(*out)->cfg.name = (*out)->name;
	if (ret) {
		sksteer_config__free(*out);
		*out = NULL;
		return ns_fail(-EIO, err);
	}
	return 0;
}

/* text's lines into the plan's, for sksteer_plan__change(); n lines expected. */
static int split_lines(struct sksteer_plan *plan, char *text, int n)
{
	char *line, *save;

	plan->lines = calloc((size_t)n + 1, sizeof(*plan->lines));
	for (line = strtok_r(text, "\n", &save); plan->lines && line && plan->nlines < n;
	     line = strtok_r(NULL, "\n", &save))
		if (!(plan->lines[plan->nlines++] = strdup(line)))
			break;
	return plan->lines && plan->nlines == n ? 0 : -ENOMEM;
}

/* The plan's changes, a line each. */
static int plan_lines(struct sksteer_plan *plan)
{
	size_t len = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);
	int n, ret;

	if (!f)
		return -ENOMEM;
	n = plan_diff(&plan->p, f);
	if (fclose(f) || n < 0) {
		free(text);
		return -ENOMEM;
	}
	ret = split_lines(plan, text, n);
	free(text);
	return ret;
}

int plan_of_text(const struct sksteer_ns *ns, char *text, const struct live_updates *u,
		 struct sksteer_plan **out)
{
	struct sksteer_plan *plan = calloc(1, sizeof(*plan));
	int n = 0, ret;

	*out = NULL;
	if (!plan)
		return -ENOMEM;
	for (const char *c = text; *c; c++)
		n += *c == '\n';
	plan->ns = ns;
	plan->dry = true;
	plan->counted = u != NULL;
	if (u)
		plan->updates = *u;
	ret = split_lines(plan, text, n);
	if (ret) {
		sksteer_plan__free(plan);
		return ret;
	}
	*out = plan;
	return 0;
}

/*
 * A read-only handle's plan (--dry-run's): the kernel updates applying it would make,
 * counted by applying it dry. Best effort: a plan whose count fails is a plan still.
 */
static void plan_count(struct sksteer_plan *plan, struct live *l)
{
	char err[1024] = "";
	int ret;

	if (!plan_diff(&plan->p, NULL))
		return; /* in sync: nothing to count */
	ret = plan_dry_count(l, &plan->p, &plan->updates, err, sizeof(err));
	plan->counted = !ret;
	if (ret < 0)
		pr_debug("the kernel updates of the plan are not counted: %s", err);
}

int sksteer_ns__plan(struct sksteer_ns *ns, const struct sksteer_config *c,
		     const struct sksteer_plan_opts *opts, struct sksteer_plan **out)
{
	struct apply_opts o = {
		.force = OPTS_GET(opts, force, false),
		.new_sockets = OPTS_GET(opts, new_sockets, false),
		.wait_s = OPTS_GET(opts, wait_s, 0),
		.dry_run = ns->read_only,
	};
	struct sksteer_plan *plan = calloc(1, sizeof(*plan));
	struct config want = { .name = c->cfg.name };
	struct ns_call call;
	char err[1024] = "";
	int ret = -ENOMEM;

	*out = NULL;
	for (int i = 0; plan && i < c->cfg.n; i++)
		if (config_add(&want, &c->cfg.t[i]))
			goto fail;
	memcpy(want.group, c->cfg.group, sizeof(want.group));
	want.group_line = c->cfg.group_line;
	if (!plan)
		goto fail;
	plan->ns = ns;
	if (ns_begin(ns, &call, NS_ENTER, err, sizeof(err))) {
		ret = -EPERM;
		goto fail;
	}
	if (!ns->read_only && ns_create(ns, err, sizeof(err))) {
		ret = ns_errno();
		ns_end(&call);
		goto fail;
	}
	want.ntargets = c->cfg.ntargets;
	ret = plan_make(&ns->l, &want, &o, &plan->p, err, sizeof(err)) ? ns_errno() : 0;
	if (!ret && ns->read_only)
		plan_count(plan, &ns->l);
	ns_end(&call);
	if (!ret)
		ret = plan_lines(plan);
	if (ret)
		goto fail;
	*out = plan;
	return 0;
fail:
	config_free(&want);
	sksteer_plan__free(plan);
	/* a plan on a handle opened to change is an apply's first step: it failed */
	applied_note(&ns->l.pins, ret, err[0] ? err : "out of memory");
	return lib_error(ret, err[0] ? err : "out of memory");
}

int sksteer_ns__apply_failed(struct sksteer_ns *ns, int error, const char *message)
{
	if (error >= 0 || !message)
		return lib_error(-EINVAL, "a failure is a negative errno, with its message");
	if (ns->read_only)
		return lib_error(-EPERM, "the namespace was opened read-only: open it to change");
	applied_note(&ns->l.pins, error, message);
	return 0;
}

int sksteer_plan__changes(const struct sksteer_plan *plan)
{
	return plan->nlines;
}

const char *sksteer_plan__change(const struct sksteer_plan *plan, int i)
{
	return i >= 0 && i < plan->nlines ? plan->lines[i] : NULL;
}

int sksteer_plan__updates(const struct sksteer_plan *plan, struct sksteer_updates *u)
{
	const struct live_updates *c = &plan->updates;

	if (!plan->counted)
		return lib_error(-ENODATA, "the plan's kernel updates are not counted: a plan's "
					   "are on a handle opened read-only, where something is "
					   "steered already and would change");
	*u = (struct sksteer_updates){
		.total = c->keys + c->bindings + c->tables + c->entries,
		.port_table_bytes = c->keys,
		.bindings_stores = c->bindings,
		.tables_switched = c->tables,
		.other_entries = c->entries,
	};
	return 0;
}

int sksteer_ns__apply(struct sksteer_ns *ns, struct sksteer_plan *plan)
{
	struct ns_call call;
	char err[1024] = "";
	int ret;

	if (!plan)
		return lib_error(-EINVAL, "no plan given: make one with sksteer_ns__plan()");
	if (plan->ns != ns)
		return lib_error(-EINVAL, "the plan was made on another handle: plan again there");
	if (plan->dry)
		return lib_error(-EINVAL, "a single change's plan is for reading: make the change");
	if (ns->read_only)
		return lib_error(-EPERM, "the namespace was opened read-only: open it to change");
	if (plan->p.nothing) {
		applied_note(&ns->l.pins, 0, NULL); /* what was asked is what runs: it took */
		return 0;
	}
	if (ns_begin(ns, &call, NS_ENTER, err, sizeof(err))) {
		ret = -EPERM;
	} else {
		ret = plan_apply(&ns->l, &plan->p, err, sizeof(err)) ? ns_errno() : 0;
		ns_end(&call);
	}
	applied_note(&ns->l.pins, ret, err);
	return ret ? lib_error(ret, err) : 0;
}

void sksteer_plan__free(struct sksteer_plan *plan)
{
	if (!plan)
		return;
	plan_free(&plan->p);
	for (int i = 0; i < plan->nlines; i++)
		free(plan->lines[i]);
	free(plan->lines);
	free(plan);
}
