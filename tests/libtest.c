// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libsksteer's tests through its public header alone, linked with the
 * library's objects and not the CLI's: plans and their changes, applying,
 * status and its counters, errors as values, refused changes that leave the
 * steering as it was, steering a descriptor, detaching, the print and trace
 * callbacks (libtest_callbacks.c), handles in threads and namespaces
 * (libtest_threads.c); with real sockets, on the running kernel. TAP on
 * standard output.
 *
 *   libtest [NETNS_PATH]   NETNS_PATH: a second network namespace (/run/netns/NAME)
 *
 * Run by tests/08-library-api.t, as root, in the suite's throwaway network
 * namespace (PIN_DIR in the environment names its pin directory). The
 * library prints nothing: what it writes to standard output is captured and
 * must be nothing; the .t checks that standard error stays empty.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "libtest.h"

extern FILE *tap;
extern int tap_tests, tap_failed;

#define A "127.0.0.1:9000"
#define B "127.0.0.1:9001"
static int la, lb; /* the listening sockets of targets A and B */
static uint64_t own_ino; /* this namespace's inode */
static char pin_dir[PATH_MAX];
static const char *netns2; /* a second namespace, or NULL */

static struct sksteer_config *config_of(const char *a_ports, const char *b_ports)
{
	struct sksteer_binding ba = { .sz = sizeof(ba), .target = A, .ports = a_ports };
	struct sksteer_binding bb = { .sz = sizeof(bb), .target = B, .ports = b_ports };
	struct sksteer_config *cfg;

	if (sksteer_config__new(&cfg) || sksteer_config__add(cfg, &ba) ||
	    (b_ports && sksteer_config__add(cfg, &bb)))
		bail_out("cannot build a configuration");
	return cfg;
}

/* Plans cfg on ns: the number of changes, their lines (joined by \n) in lines */
static int plan_lines(struct sksteer_ns *ns, const struct sksteer_config *cfg, char *lines,
		      size_t len, struct sksteer_plan **out)
{
	struct sksteer_plan *plan;
	int ret = sksteer_ns__plan(ns, cfg, NULL, &plan), n;

	lines[0] = '\0';
	if (ret) {
		diag("plan: %s", sksteer_errmsg());
		return ret;
	}
	n = sksteer_plan__changes(plan);
	for (int i = 0, used = 0; i < n; i++)
		used += snprintf(lines + used, len - (size_t)used, "%s%s", i ? "\n" : "",
				 sksteer_plan__change(plan, i) ?: "(null)");
	if (out)
		*out = plan;
	else
		sksteer_plan__free(plan);
	return n;
}

/* 1: a configuration built in code, planned, applied, steering for real; in sync after */
static void test_plan_apply(struct sksteer_ns *ns)
{
	struct sksteer_config *cfg = config_of("80,443,8000-8009", NULL);
	struct sksteer_plan *plan = NULL;
	char lines[1024], *want_text = NULL, *live_text = NULL;
	struct sksteer_config *live = NULL;

	is_int(sksteer_ns__steering(ns), false, "a fresh namespace is not steered");
	is_int(plan_lines(ns, cfg, lines, sizeof(lines), &plan), 1, "the plan makes one change");
	is_str(lines, "+ tcp " A " 80,443,8000-8009 (new target)", "which adds target A");
	is_int(sksteer_ns__steering(ns), false, "planning steers nothing");
	is_int(sksteer_ns__apply(ns, plan), 0, "apply the plan");
	sksteer_plan__free(plan);
	is_int(sksteer_ns__steering(ns), true, "the namespace is steered");
	is_int(reach(NULL, la, 8005), 8005,
	       "a connection to port 8005 reaches A's socket, at 8005");
	is_int(reach(NULL, la, 80), 80, "port 80 too");
	is_int(reach(NULL, la, 81), -ECONNREFUSED, "port 81, not in the plan, is refused");
	is_int(plan_lines(ns, cfg, lines, sizeof(lines), &plan), 0, "planned again: in sync");
	is_int(sksteer_ns__apply(ns, plan), 0, "applying the empty plan succeeds");
	sksteer_plan__free(plan);
	sksteer_config__free(cfg);

	/* a move and a new target, in one plan */
	cfg = config_of("80,8000-8009", "443,7000-7002");
	is_int(plan_lines(ns, cfg, lines, sizeof(lines), &plan), 2,
	       "a second plan makes two changes");
	is_str(lines, "+ tcp " B " 7000-7002 (new target)\n~ tcp " B " 443 (from " A ")",
	       "adds B and moves 443 from A to B");
	is_int(sksteer_plan__updates(plan, NULL), -ENODATA,
	       "a plan on a handle opened to change counts no kernel updates");
	is_int(sksteer_ns__apply(ns, plan), 0, "apply it");
	sksteer_plan__free(plan);
	is_int(reach(NULL, lb, 443), 443, "443 reaches B now");
	is_int(reach(NULL, lb, 7001), 7001, "and 7001");
	is_int(reach(NULL, la, 80), 80, "80 still reaches A");
	is_int(plan_lines(ns, cfg, lines, sizeof(lines), NULL), 0, "in sync with it afterwards");
	if (sksteer_ns__config(ns, &live) || sksteer_config__text(live, &live_text) ||
	    sksteer_config__text(cfg, &want_text))
		diag("configuration text: %s", sksteer_errmsg());
	is_str(live_text, want_text, "the live configuration is the one built in code");
	free(live_text);
	free(want_text);
	sksteer_config__free(live);
	sksteer_config__free(cfg);
}

/*
 * A plan's kernel updates: counted on a handle opened read-only (as --dry-run's last line),
 * where something would change; not on one opened to change, nor where nothing would.
 */
static void plan_updates(struct sksteer_ns *ro)
{
	struct sksteer_config *cfg = config_of("80,8000-8019", "443,7000-7002");
	struct sksteer_updates u = {};
	struct sksteer_plan *plan = NULL;
	int ret;

	if (!ok(!sksteer_ns__plan(ro, cfg, NULL, &plan), "a plan on the read-only handle"))
		diag("%s", sksteer_errmsg());
	ret = plan ? sksteer_plan__updates(plan, &u) : -1;
	if (plan && sksteer_plan__changes(plan))
		ok(!ret && u.total &&
			   u.total == u.port_table_bytes + u.bindings_stores + u.tables_switched +
					      u.other_entries,
		   "its kernel updates counted: %zu in all", u.total);
	else
		is_int(ret, -ENODATA, "in sync: no kernel updates counted");
	ok(!ret && u.port_table_bytes > 0 && u.port_table_bytes <= 10,
	   "(the port table's bytes: a byte for each port it adds, 10 at most: %zu)",
	   u.port_table_bytes);
	sksteer_plan__free(plan);
	sksteer_config__free(cfg);
}

/* 2: the status as data, and its counters */
static void test_status(struct sksteer_ns *ns)
{
	const struct sksteer_target_status *a, *b;
	const struct sksteer_ns_status *n;
	struct sksteer_status *st, *st2;
	uint64_t a_steered, b_steered, steered, passed;

	if (!ok(!sksteer_ns__status(ns, &st), "status"))
		return diag("%s", sksteer_errmsg());
	n = sksteer_status__ns(st);
	is_int((long long)n->netns, (long long)own_ino, "the status names this namespace's inode");
	is_int((long long)sksteer_ns__inode(ns), (long long)own_ino, "so does the handle");
	is_str(n->pin_dir, pin_dir, "and its pin directory");
	ok(n->steering && !n->stale, "steering, not stale");
	is_str(n->prog_name, "sksteer", "the plain program runs");
	is_int(n->tracer_pid, 0, "no tracer");
	is_int(sksteer_status__targets(st), 2, "two targets");
	a = target_of(st, A);
	b = target_of(st, B);
	ok(a && b, "named " A " and " B);
	if (!a || !b) {
		sksteer_status__free(st);
		return;
	}
	is_str(a->ports, "80,8000-8009", "A's ports");
	is_int(a->nports, 11, "A's port count");
	ok(a->up && a->proto == IPPROTO_TCP && a->family == AF_INET && a->port == 9000,
	   "A is up, TCP, IPv4, port 9000");
	if (!ok(a->owner_pid == getpid(), "A's socket's owner is this process"))
		diag("owner_pid %d, this process %d", a->owner_pid, getpid());
	is_str(b->ports, "443,7000-7002", "B's ports");
	is_int(b->nports, 4, "B's port count");
	ok(b->up && !b->fail_closed && b->nscoped == 0, "B is up, fail-open, unscoped");
	ok(a->nlost == 0 && a->nextra == 0 && b->nlost == 0 && b->nextra == 0,
	   "no target lost or gained ports behind the library's back");
	a_steered = a->counters.steered;
	b_steered = b->counters.steered;
	steered = n->totals.steered;
	passed = n->totals.passed;
	ok(a_steered >= 2 && b_steered >= 2 && steered == a_steered + b_steered,
	   "the namespace's steered lookups are its targets' (A %llu, B %llu, all %llu)",
	   (unsigned long long)a_steered, (unsigned long long)b_steered,
	   (unsigned long long)steered);

	reach(NULL, la, 8001);
	reach(NULL, la, 82); /* refused: passed to the kernel */
	if (ok(!sksteer_ns__status(ns, &st2), "status again")) {
		const struct sksteer_target_status *a2 = target_of(st2, A), *b2 = target_of(st2, B);

		n = sksteer_status__ns(st2);
		is_int(a2 ? (long long)a2->counters.steered : -1, (long long)a_steered + 1,
		       "a connection to A counts one steered lookup for A");
		is_int(b2 ? (long long)b2->counters.steered : -1, (long long)b_steered,
		       "and none for B");
		is_int((long long)n->totals.steered, (long long)steered + 1,
		       "one more for the namespace");
		is_int((long long)n->totals.passed, (long long)passed + 1,
		       "a connection to an unsteered port counts one passed lookup");
		sksteer_status__free(st2);
	}
	sksteer_status__free(st);
}

static int call_nothing(void *ctx)
{
	(void)ctx;
	return 0;
}

/* The namespaces with pins, and one opened by its pins' inode: read-only, brief, from outside */
static void test_pinned(void)
{
	struct sksteer_ns_opts ro = { .sz = sizeof(ro), .read_only = true, .lock_wait_s = -1 };
	struct sksteer_ns_opts rw = { .sz = sizeof(rw), .lock_wait_s = -1 };
	struct sksteer_ns *ns = NULL;
	struct sksteer_status *st;
	uint64_t *inodes = NULL;
	int n = sksteer_pinned_netns(&inodes), found = 0, ascending = 1;

	ok(n >= 1, "sksteer_pinned_netns() lists the namespaces with pins (%d)", n);
	for (int i = 0; i < n; i++) {
		found += inodes[i] == own_ino;
		ascending &= !i || inodes[i - 1] < inodes[i];
	}
	ok(found == 1 && ascending, "this one among them, once; ascending");
	free(inodes);
	is_int(sksteer_ns__open_pinned(own_ino, &rw, &ns), -EINVAL,
	       "a namespace opened by inode is read-only: a handle to change it is refused");
	ok(!ns && strstr(sksteer_errmsg(), "read-only"), "(no handle, and why: %s)",
	   sksteer_errmsg());
	if (!ok(!sksteer_ns__open_pinned(own_ino, &ro, &ns), "opened read-only by inode"))
		return diag("%s", sksteer_errmsg());
	ok(sksteer_ns__steering(ns) && sksteer_ns__inode(ns) == own_ino, "steering, this inode");
	is_int(sksteer_ns__apply_failed(ns, -ENOENT, "gone"), -EPERM,
	       "a failed apply is not recorded through a read-only handle");
	is_int(sksteer_ns__set_group(ns, "nogroup"), -EPERM,
	       "nor is a group given the pins through one");
	is_int(sksteer_ns__call(ns, call_nothing, NULL), -EOPNOTSUPP,
	       "what must run inside it is refused: it has no descriptor to enter by");
	ok(strstr(sksteer_errmsg(), "cannot be entered"), "(why: %s)", sksteer_errmsg());
	if (ok(!sksteer_ns__status(ns, &st), "its status")) {
		const struct sksteer_target_status *a = target_of(st, A);

		ok(a && a->up && a->nports > 0, "A is up, with its ports");
		is_int(a ? a->owner_pid : -1, 0,
		       "and no owner: the namespace's sockets are not seen from outside");
		sksteer_status__free(st);
	}
	sksteer_ns__close(ns);
	ro.brief = true;
	if (sksteer_ns__open(NULL, &ro, &ns))
		ns = NULL;
	if (ok(ns && !sksteer_ns__status(ns, &st), "a brief status, by path")) {
		const struct sksteer_target_status *a = target_of(st, A);

		is_int(a ? a->owner_pid : -1, 0, "has no owner either: it asked for none");
		ok(a && a->up && sksteer_status__ns(st)->nothers == 0 &&
			   !sksteer_status__ns(st)->others_unknown,
		   "the rest as ever; no other program listed");
		sksteer_status__free(st);
	}
	sksteer_ns__close(ns);
}

/* 3: errors are values: -errno, and one line naming the problem and no command-line option */
static void test_errors(struct sksteer_ns **nsp)
{
	struct sksteer_binding bad = { .sz = sizeof(bad), .target = A, .ports = "80,8o" };
	struct sksteer_change ch = { .sz = sizeof(ch), .target = B, .ports = "70000" };
	struct sksteer_ns_opts nowait = { .sz = sizeof(nowait), .lock_wait_s = -1 };
	struct sksteer_config *cfg, *parsed = (void *)1;
	struct sksteer_plan *plan = NULL;
	struct sksteer_ns *ns = *nsp, *other = (void *)1, *ro;
	const char *text = "tcp " A " 80\nudp 127.0.0.1 53\n";
	char *before, *after;
	int ret;

	before = steering_state(ns);
	cfg = config_of("80", NULL);
	is_error(sksteer_config__add(cfg, &bad), EINVAL, "8o", "a binding with a bad port list");
	sksteer_config__free(cfg);
	is_error(sksteer_ns__change(ns, &ch), EINVAL, "70000", "a change to port 70000");
	ch.ports = "0";
	is_error(sksteer_ns__change(ns, &ch), EINVAL, "port 0", "a change to port 0");
	is_error(sksteer_ns__steer_fd(ns, la, "9-1"), EINVAL, "9-1",
		 "steering a descriptor to 9-1");
	ch = (struct sksteer_change){ .sz = sizeof(ch), .target = "127.0.0.1", .ports = "80" };
	is_error(sksteer_ns__change(ns, &ch), EINVAL, "127.0.0.1", "a target without a port");
	is_error(sksteer_ns__detach(ns, "127.0.0.1:9999", NULL), ENOENT, "127.0.0.1:9999",
		 "detaching a target that is none");

	ret = sksteer_config__parse("test.conf", text, strlen(text), &parsed);
	is_int(ret, -EINVAL, "a configuration with a bad line: -EINVAL");
	ok(parsed == NULL, "and no configuration");
	if (!ok(!strncmp(sksteer_errmsg(), "test.conf:2: ", 13) &&
			names_no_option(sksteer_errmsg()),
		"the message is 'test.conf:2: ...', one line"))
		diag("errmsg: '%s'", sksteer_errmsg());

	/* another handle on the same namespace, while this one holds the lock: at once -EBUSY */
	ret = sksteer_ns__open(NULL, &nowait, &other);
	is_int(ret, -EBUSY, "a second handle that does not wait: -EBUSY");
	ok(other == NULL, "and no handle");
	if (!ok(strstr(sksteer_errmsg(), "lock") && names_no_option(sksteer_errmsg()),
		"its message is about the lock, in one line naming no command-line option"))
		diag("errmsg: '%s'", sksteer_errmsg());

	/* a plan made on one handle is applied there only */
	if (netns2) {
		int l2;

		other = ns_open(netns2, false);
		cfg = config_of("80", NULL);
		/* a socket at A's address there, for the plan to find */
		l2 = other ? make_socket(other, SOCK_STREAM, 9000) : -1;
		ret = l2 < 0 ? l2 : sksteer_ns__plan(other, cfg, NULL, &plan);
		if (!ok(!ret, "a plan on a handle of another namespace"))
			diag("%d: %s", ret, sksteer_errmsg());
		if (!ret) {
			is_error(sksteer_ns__apply(ns, plan), EINVAL, "another handle",
				 "applying it on this one");
			is_int(sksteer_ns__steering(other), false, "nothing was steered there");
		}
		if (l2 >= 0)
			close(l2);
		sksteer_plan__free(plan);
		sksteer_config__free(cfg);
		sksteer_ns__close(other);
	} else {
		skip("no second namespace given: a plan applied on another handle");
	}
	/* a single change's plan is for reading */
	ch = (struct sksteer_change){ .sz = sizeof(ch), .target = A, .add = "8010" };
	if (ok(!sksteer_ns__plan_change(ns, &ch, &plan), "plan a single change")) {
		is_int(sksteer_plan__changes(plan), 1, "one line");
		is_str(sksteer_plan__change(plan, 0), "+ tcp " A " 8010", "adding 8010 to A");
		is_error(sksteer_ns__apply(ns, plan), EINVAL, "make the change",
			 "applying a single change's plan");
		sksteer_plan__free(plan);
	}

	/* read-only: everything reads, nothing changes */
	sksteer_ns__close(ns);
	ro = ns_open(NULL, true);
	if (!ro)
		bail_out("cannot open the namespace read-only");
	plan_updates(ro);
	ch = (struct sksteer_change){ .sz = sizeof(ch), .target = A, .add = "8010" };
	is_error(sksteer_ns__change(ro, &ch), EPERM, "read-only", "a change on a read-only handle");
	is_error(sksteer_ns__steer_fd(ro, lb, "5000"), EPERM, "read-only",
		 "steering a descriptor on a read-only handle");
	is_error(sksteer_ns__detach(ro, NULL, NULL), EPERM, "read-only",
		 "detaching on a read-only handle");
	is_error(sksteer_ns__trace(ro, NULL, NULL, NULL), EPERM, "open the namespace to change",
		 "tracing on a read-only handle");
	cfg = config_of("80,8000-8010", "443,7000-7002");
	if (ok(!sksteer_ns__plan(ro, cfg, NULL, &plan), "a read-only handle plans")) {
		is_int(sksteer_plan__changes(plan), 1, "what adding 8010 would do");
		is_error(sksteer_ns__apply(ro, plan), EPERM, "read-only",
			 "but applying it there is refused");
		sksteer_plan__free(plan);
	}
	sksteer_config__free(cfg);
	after = steering_state(ro);
	is_str(after, before, "none of it changed the steering");
	is_int(reach(NULL, la, 8010), -ECONNREFUSED, "8010 is not steered");
	sksteer_ns__close(ro);
	free(before);
	free(after);
	*nsp = ns_open(NULL, false);
	if (!*nsp)
		bail_out("cannot open the namespace again");
}

/* The status's group: "" for none */
static void group_is(struct sksteer_ns *ns, const char *want, const char *what)
{
	struct sksteer_status *st;

	if (!ok(!sksteer_ns__status(ns, &st), "%s: status", what))
		return;
	is_str(sksteer_status__ns(st)->group, want, "%s", what);
	sksteer_status__free(st);
}

/* sksteer_ns__set_group() and sksteer_config__set_group(): refusals, and a round trip */
static void group_api(struct sksteer_ns *ns)
{
	struct sksteer_config *cfg = config_of("80", NULL);
	char *text = NULL;

	is_int(sksteer_ns__set_group(ns, "no-such-group-here"), -ENOENT,
	       "sksteer_ns__set_group(): an unknown group is -ENOENT");
	ok(strstr(sksteer_errmsg(), "no-such-group-here") && names_no_option(sksteer_errmsg()),
	   "(naming it, and no option: %s)", sksteer_errmsg());
	group_is(ns, "", "... and the pins have no group still");
	is_int(sksteer_ns__set_group(ns, "nogroup"), 0, "the pins given to nogroup");
	group_is(ns, "nogroup", "the status names it");
	is_int(sksteer_ns__set_group(ns, "root"), 0, "\"root\": the owner's alone again");
	group_is(ns, "", "the status has none");
	is_int(sksteer_config__set_group(cfg, "a b"), -EINVAL,
	       "sksteer_config__set_group(): not a name is -EINVAL");
	is_int(sksteer_config__set_group(cfg, "nogroup"), 0, "a configuration's group");
	ok(cfg && !sksteer_config__text(cfg, &text) && strstr(text, "\ngroup nogroup\n"),
	   "written as its line: %s", text ? text : "");
	free(text);
	sksteer_config__free(cfg);
}

/* The last apply as the status has it: result, and a time of now's */
static void last_apply(struct sksteer_ns *ns, int result, const char *what)
{
	struct sksteer_status *st;
	const struct sksteer_ns_status *n;
	struct timespec now;

	if (!ok(!sksteer_ns__status(ns, &st), "%s: status", what))
		return;
	n = sksteer_status__ns(st);
	clock_gettime(CLOCK_REALTIME, &now);
	ok(n->last_apply_result == result &&
		   n->last_apply_ns / 1000000000ULL <= (uint64_t)now.tv_sec &&
		   n->last_apply_ns / 1000000000ULL + 60 >= (uint64_t)now.tv_sec,
	   "%s (result %d, at %llu)", what, n->last_apply_result,
	   (unsigned long long)n->last_apply_ns);
	if (result)
		ok(strstr(n->last_apply_error, "80") && n->apply_failures > 0 &&
			   n->last_apply_ok_ns < n->last_apply_ns,
		   "its message names the port (%s); a failure counted; the last that took earlier",
		   n->last_apply_error);
	else
		ok(!*n->last_apply_error && n->last_apply_ok_ns == n->last_apply_ns &&
			   n->applies > 0,
		   "no message; it is the last that took, counted");
	sksteer_status__free(st);
}

/* 4: a refused change leaves the steering exactly as it was */
static void test_refused(struct sksteer_ns *ns)
{
	struct sksteer_change ch = { .sz = sizeof(ch), .target = B, .ports = "80,443,7000-7002" };
	struct sksteer_config *cfg;
	struct sksteer_plan *plan = NULL;
	char *before = steering_state(ns), *after, lines[256];
	const char *msg;
	int ret, lx;

	ret = sksteer_ns__change(ns, &ch);
	msg = sksteer_errmsg();
	ok(ret < 0, "moving A's port 80 to B without FORCE is refused");
	ok(ret == -EEXIST, "with -EEXIST (got %d, %s)", ret, ret < 0 ? strerrorname_np(-ret) : "");
	ok(strstr(msg, "80") && strstr(msg, A), "the message names the port and its owner");
	if (!ok(names_no_option(msg), "and no command-line option"))
		diag("errmsg: '%s'", msg);
	after = steering_state(ns);
	is_str(after, before, "the steering is exactly as it was");
	free(after);
	is_int(reach(NULL, la, 80), 80, "a connection to 80 still reaches A");
	last_apply(ns, -EEXIST, "the status records the refused change: when, -EEXIST, and why");
	is_int(sksteer_ns__apply_failed(ns, 5, "why"), -EINVAL,
	       "sksteer_ns__apply_failed() takes a negative errno, else -EINVAL");
	is_int(sksteer_ns__apply_failed(ns, -EIO, NULL), -EINVAL, "... and a message");
	group_api(ns);

	/* a socket that already uses a port keeps it */
	lx = make_socket(NULL, SOCK_STREAM, 6000);
	ch = (struct sksteer_change){ .sz = sizeof(ch), .target = A, .add = "6000" };
	ret = sksteer_ns__change(ns, &ch);
	msg = sksteer_errmsg();
	ok(ret < 0 && strstr(msg, "6000"),
	   "adding port 6000, where another socket listens, is refused, naming it");
	ok(ret == -EADDRINUSE, "with -EADDRINUSE (got %d, %s)", ret,
	   ret < 0 ? strerrorname_np(-ret) : "");
	if (!ok(names_no_option(msg), "and no command-line option"))
		diag("errmsg: '%s'", msg);
	cfg = config_of("80,6000,8000-8009", "443,7000-7002");
	ret = sksteer_ns__plan(ns, cfg, NULL, &plan);
	ok(ret < 0 && !plan && strstr(sksteer_errmsg(), "6000"),
	   "so is a plan that would steer it");
	sksteer_plan__free(plan);
	sksteer_config__free(cfg);
	after = steering_state(ns);
	is_str(after, before, "the steering is still as it was");
	free(after);
	is_int(reach(NULL, lx, 6000), 6000, "6000 still reaches its own socket");
	close(lx);

	/* with FORCE the same change goes through: the refusal was the conflict's */
	ch = (struct sksteer_change){
		.sz = sizeof(ch),
		.target = B,
		.ports = "80,443,7000-7002",
		.flags = SKSTEER_CHANGE_FORCE,
	};
	is_int(sksteer_ns__change(ns, &ch), 0, "with SKSTEER_CHANGE_FORCE, 80 moves to B");
	last_apply(ns, 0, "the status records that it took");
	is_int(reach(NULL, lb, 80), 80, "80 reaches B");
	cfg = config_of("80,8000-8009", "443,7000-7002");
	if (plan_lines(ns, cfg, lines, sizeof(lines), &plan) == 1)
		is_int(sksteer_ns__apply(ns, plan), 0, "a plan moves it back");
	else
		ok(false, "a plan moves it back: one change");
	sksteer_plan__free(plan);
	sksteer_config__free(cfg);
	is_int(reach(NULL, la, 80), 80, "80 reaches A again");
	free(before);
}

/* 5: steering a descriptor, then detaching everything */
static void test_fd_detach(struct sksteer_ns *ns)
{
	int lc = make_socket(NULL, SOCK_STREAM, 9002);
	struct sksteer_status *st;

	is_int(sksteer_ns__steer_fd(ns, lc, "5000-5002"), 0, "steer 5000-5002 to a descriptor");
	is_int(reach(NULL, lc, 5001), 5001, "5001 reaches its socket");
	if (!sksteer_ns__status(ns, &st)) {
		const struct sksteer_target_status *c = target_of(st, "127.0.0.1:9002");

		ok(c && !strcmp(c->ports, "5000-5002") && c->up,
		   "the status shows its address as a target, with 5000-5002, up");
		sksteer_status__free(st);
	}
	is_int(sksteer_ns__detach(ns, "127.0.0.1:9002", NULL), 0, "detach that target");
	is_int(reach(NULL, lc, 5001), -ECONNREFUSED, "5001 is not steered any more");
	is_int(reach(NULL, la, 80), 80, "A's are");
	is_int(sksteer_ns__detach(ns, NULL, NULL), 0, "detach everything");
	is_int(sksteer_ns__steering(ns), false, "not steering");
	ok(pins_gone(pin_dir, true), "the pins are gone (%s empty or absent)", pin_dir);
	is_int(reach(NULL, la, 80), -ECONNREFUSED, "80 is not steered");
	is_int(sksteer_ns__detach(ns, NULL, NULL), 0, "detaching again is fine");
	if (!sksteer_ns__status(ns, &st)) {
		ok(!sksteer_status__ns(st)->steering && !sksteer_status__ns(st)->stale &&
			   !sksteer_status__targets(st),
		   "the status says: not steering, no target");
		sksteer_status__free(st);
	}
	close(lc);
	sksteer_ns__close(ns);
	ok(pins_gone(pin_dir, false), "once the handle is closed, %s is gone", pin_dir);
}

/* The lines of a configuration's text that are not comments */
static int bindings_in(const char *text)
{
	int n = 0;

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		n += *l != '#' && *l != '\n';
	return n;
}

/* A handle that reads the (empty) steering, then changes it, then closes */
static void test_read_then_change(void)
{
	struct sksteer_ns_opts nowait = { .sz = sizeof(nowait), .lock_wait_s = -1 };
	struct sksteer_ns *ns = ns_open(NULL, false), *other = NULL;
	struct sksteer_config *cfg = NULL;
	int lc = make_socket(NULL, SOCK_STREAM, 9002);
	char *text = NULL;
	int ret;

	if (!ns)
		bail_out("cannot open the namespace");
	/* where nothing is steered yet, a handle holds the lock from its first change on */
	is_int(sksteer_ns__open(NULL, &nowait, &other), 0,
	       "on an unsteered namespace, a second handle opens at once (no lock held yet)");
	sksteer_ns__close(other);
	other = NULL;
	for (int i = 0; i < 2; i++) { /* twice: nothing read the first time may leak */
		is_int(sksteer_ns__config(ns, &cfg), 0,
		       "read the configuration of an unsteered namespace");
		if (cfg && !sksteer_config__text(cfg, &text))
			is_int(bindings_in(text), 0, "it has no binding");
		free(text);
		text = NULL;
		sksteer_config__free(cfg);
	}
	is_int(sksteer_ns__steer_fd(ns, lc, "5000"), 0, "then steer 5000 to a descriptor");
	is_int(reach(NULL, lc, 5000), 5000, "5000 reaches it");
	ret = sksteer_ns__open(NULL, &nowait, &other);
	is_int(ret, -EBUSY, "now the handle holds the lock: a second one is -EBUSY");
	sksteer_ns__close(other);
	is_int(sksteer_ns__config(ns, &cfg), 0, "read the configuration again");
	if (cfg && !sksteer_config__text(cfg, &text))
		is_int(bindings_in(text), 1, "it has the binding");
	free(text);
	sksteer_config__free(cfg);
	/* before the fix, glibc aborted here: "free(): invalid pointer" */
	sksteer_ns__close(ns);
	ok(true, "and close the handle");
	ns = ns_open(NULL, false);
	is_int(ns ? sksteer_ns__detach(ns, NULL, NULL) : -EIO, 0, "detach");
	sksteer_ns__close(ns);
	close(lc);
}

int main(int argc, char **argv)
{
	struct sksteer_ns *ns;
	char captured[512];
	int out_fd = dup(STDOUT_FILENO), cap;
	FILE *capture;
	struct stat s;
	ssize_t n;

	/* TAP goes to standard output as it was; what the library writes there is captured */
	tap = out_fd >= 0 ? fdopen(out_fd, "w") : NULL;
	capture = tmpfile();
	cap = capture ? fileno(capture) : -1;
	if (!tap || cap < 0 || dup2(cap, STDOUT_FILENO) < 0) {
		perror("libtest: standard output");
		return 1;
	}
	netns2 = argc > 1 ? argv[1] : NULL;
	own_ino = thread_netns();
	if (getenv("PIN_DIR"))
		snprintf(pin_dir, sizeof(pin_dir), "%s", getenv("PIN_DIR"));
	else
		snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/sksteer/netns-%llu",
			 (unsigned long long)own_ino);
	fprintf(tap, "# libsksteer %s\n", sksteer_version());
	la = make_socket(NULL, SOCK_STREAM, 9000);
	lb = make_socket(NULL, SOCK_STREAM, 9001);
	ns = ns_open(NULL, false);
	if (la < 0 || lb < 0 || !ns)
		bail_out("cannot listen at " A " and " B ", or open this namespace");

	section("plan and apply");
	test_plan_apply(ns);
	section("status");
	test_status(ns);
	section("errors as values");
	test_errors(&ns);
	section("refused changes");
	test_refused(ns);
	sksteer_ns__close(ns); /* the tracer opens its own, with a stop flag */
	section("namespaces with pins, one opened by inode");
	test_pinned();
	section("trace, ended by the callback");
	test_trace(la, false);
	section("trace, ended by the stop flag");
	test_trace(la, true);
	ns = ns_open(NULL, false);
	if (!ns)
		bail_out("cannot open the namespace again");
	section("print callback");
	test_print(ns);
	section("steering a descriptor, detaching");
	test_fd_detach(ns);
	section("a handle that reads, then changes");
	test_read_then_change();
	section("two threads, one namespace");
	test_threads_one_namespace();
	section("two threads, two namespaces");
	if (netns2)
		test_threads_two_namespaces(netns2);
	else
		skip("no second namespace given: handles on two namespaces in two threads");
	section(NULL);

	fflush(stdout);
	n = pread(cap, captured, sizeof(captured) - 1, 0);
	captured[n > 0 ? n : 0] = '\0';
	if (!ok(!fstat(cap, &s) && s.st_size == 0, "the library wrote nothing to standard output"))
		diag("it wrote: %s", captured);
	fclose(capture);
	close(la);
	close(lb);
	fprintf(tap, "1..%d\n", tap_tests);
	fclose(tap);
	return tap_failed ? 1 : 0;
}
