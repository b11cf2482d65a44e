/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libsksteer: steer incoming connections on many ports (and destination
 * prefixes) of a network namespace into listening sockets, with the BPF
 * sk_lookup hook. The steering is pinned in bpffs: it outlives the process
 * that made it, and the next one changes it in place.
 *
 * Conventions, as libbpf's:
 * - Handles are opaque; functions are object__verb.
 * - Functions that can fail return 0 (or a count) and a negative errno on
 *   failure. The message that goes with the last failure of this thread is
 *   sksteer_errmsg(): one line, which names no command-line option.
 * - Nothing is printed: warnings and debug lines go to the print callback
 *   (sksteer_set_print()), which is the only process-wide state.
 * - Options structs start with sz = sizeof(struct); fields added later go at
 *   the end, so a caller built against an older header keeps working.
 *
 * Threads and locking: a struct sksteer_ns may be used by one thread at a
 * time. Handles in different threads are independent, also of the same
 * namespace: each open handle holds the namespace's pin directory lock
 * (shared when read_only, exclusive otherwise) until sksteer_ns__close(), so
 * changes from threads, processes and the sksteer command are serialised, and
 * a reader sees no change half made. A handle that waits for the lock waits
 * at most opts.lock_wait_s seconds (so a thread that opens a second handle to
 * change a namespace its first one holds gets -EBUSY then). An operation that needs the namespace
 * (finding a socket, attaching) enters it in the calling thread only, and
 * returns to the thread's own namespace before it returns.
 *
 * Privileges: reading needs CAP_BPF; changing needs CAP_BPF, CAP_NET_ADMIN and
 * CAP_PERFMON (loading), and CAP_SYS_ADMIN to enter another namespace.
 */
#ifndef __SKSTEER_SKSTEER_H
#define __SKSTEER_SKSTEER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LIBSKSTEER_MAJOR_VERSION 0
#define LIBSKSTEER_MINOR_VERSION 1

#define SKSTEER_API __attribute__((visibility("default")))

/* "0.1.0" */
SKSTEER_API const char *sksteer_version(void);

/* --- messages ------------------------------------------------------------------------- */

enum sksteer_print_level {
	SKSTEER_WARN, /* something the caller should tell its user: the change was made */
	SKSTEER_INFO,
	SKSTEER_DEBUG,
};

typedef int (*sksteer_print_fn_t)(enum sksteer_print_level level, const char *format,
				  va_list args);

/* Sets the print callback (NULL: print nothing); returns the one before. Default: none.
 * libbpf's own messages go to libbpf_set_print()'s, which this leaves alone. */
SKSTEER_API sksteer_print_fn_t sksteer_set_print(sksteer_print_fn_t fn);

/* The message of this thread's last failure, "" if none: valid until its next call. */
SKSTEER_API const char *sksteer_errmsg(void);

/* --- namespaces ----------------------------------------------------------------------- */

/* One network namespace's steering: its pin directory, locked while open. */
struct sksteer_ns;

struct sksteer_ns_opts {
	size_t sz; /* sizeof(struct sksteer_ns_opts) */
	bool read_only; /* shared lock; no change allowed, nothing created */
	int lock_wait_s; /* how long to wait for another handle's lock: 0 10 s, -1 not at all */
	/*
	 * Set to a signal number (by a handler) to stop a wait (for the lock, for
	 * targets to listen, for trace events) at its next safe point: the call
	 * fails with -EINTR, changing nothing it had not made yet. NULL: none.
	 */
	volatile int *stop;
	/*
	 * sksteer_ns__status() leaves out what costs a scan of the host: each
	 * target's owner (pid, command: a socket dump a target) and the other
	 * sk_lookup programs (every link on the host), for a scrape of many
	 * namespaces.
	 */
	bool brief;
};
#define sksteer_ns_opts__last_field brief

/*
 * Opens the namespace at netns_path (a /proc/PID/ns/net or /run/netns/NAME
 * file), or with NULL the calling thread's own: 0 with *ns set, or -errno
 * (-EBUSY: another change held the lock for lock_wait_s). Opening makes
 * nothing; the first change makes the pin directory (and mounts bpffs at
 * /sys/fs/bpf where none is mounted). The handle holds the directory's lock
 * until it is closed (where nothing is steered yet, from its first change
 * on): keep it only while working on the namespace.
 */
SKSTEER_API int sksteer_ns__open(const char *netns_path, const struct sksteer_ns_opts *opts,
				 struct sksteer_ns **ns);

/* The same, from a descriptor of the namespace (kept open by the caller). */
SKSTEER_API int sksteer_ns__open_fd(int netns_fd, const struct sksteer_ns_opts *opts,
				    struct sksteer_ns **ns);

/*
 * The network namespaces with sksteer pins on this host: steered, or stale
 * (pins left where the link was detached or the namespace is gone). Their
 * inodes, ascending, in *inodes (free() it); returns how many (0 where no
 * bpffs is mounted), or -errno.
 */
SKSTEER_API int sksteer_pinned_netns(uint64_t **inodes);

/*
 * Opens the pins of the namespace with that inode, as sksteer_pinned_netns()
 * gives it, from outside and with no descriptor of it: read-only (-EINVAL
 * unless opts->read_only), and its status names no target's owner. A
 * namespace that is gone has its pins still: its status says stale. What
 * must run inside the namespace (sksteer_ns__call(), a plan that finds
 * sockets) fails with -EOPNOTSUPP.
 */
SKSTEER_API int sksteer_ns__open_pinned(uint64_t inode, const struct sksteer_ns_opts *opts,
					struct sksteer_ns **ns);

/* Releases the lock and everything the handle holds. The steering stays. NULL is fine. */
SKSTEER_API void sksteer_ns__close(struct sksteer_ns *ns);

/* The namespace's inode number, which names its pin directory. */
SKSTEER_API uint64_t sksteer_ns__inode(const struct sksteer_ns *ns);

/* Whether the namespace is steered: a link is pinned and attached. */
SKSTEER_API bool sksteer_ns__steering(const struct sksteer_ns *ns);

/*
 * Calls fn(ctx) in the namespace (this thread enters it, and returns to its
 * own): to make a socket there, say. Returns fn's value, or -errno when the
 * namespace cannot be entered.
 */
SKSTEER_API int sksteer_ns__call(struct sksteer_ns *ns, int (*fn)(void *ctx), void *ctx);

/* --- configurations: the whole steering of a namespace, as data ------------------------ */

struct sksteer_config;

/* Options of a binding */
#define SKSTEER_BIND_FAIL_CLOSED (1U << 0) /* refuse its connections while its socket is gone */
#define SKSTEER_BIND_FORCE (1U << 1) /* take ports from other targets and listeners */
#define SKSTEER_BIND_FOLLOW (1U << 2) /* a new listener at the target's address takes over */
#define SKSTEER_BIND_FOLLOW_GROUP (1U << 3) /* ... with the new socket's SO_REUSEPORT group */

struct sksteer_binding {
	size_t sz; /* sizeof(struct sksteer_binding) */
	const char *target; /* "[tcp:|udp:]ADDR:PORT", "[::1]:PORT" */
	const char *ports; /* "80,443,8000-8999" */
	const char *dst; /* "192.0.2.0/24": for destinations in it only; NULL: every one */
	unsigned int flags; /* SKSTEER_BIND_* */
	const char *follow_cgroup; /* with SKSTEER_BIND_FOLLOW: from this cgroup only; NULL */
};
#define sksteer_binding__last_field follow_cgroup

/* An empty configuration (steers nothing). */
SKSTEER_API int sksteer_config__new(struct sksteer_config **cfg);

/*
 * A configuration in the file format of sksteer.conf(5); name is what
 * messages call it ("NAME:LINE: ..."). Checks everything that needs no
 * system; -EINVAL with the line in sksteer_errmsg().
 */
SKSTEER_API int sksteer_config__parse(const char *name, const char *text, size_t len,
				      struct sksteer_config **cfg);

/* Adds a binding: -EINVAL for a bad address, port list or prefix, or a port bound twice. */
SKSTEER_API int sksteer_config__add(struct sksteer_config *cfg, const struct sksteer_binding *b);

/*
 * The group that may read the pins ("group NAME" in the file; see
 * sksteer_ns__set_group()): NULL, "" or "root" for none. -EINVAL: not a name.
 */
SKSTEER_API int sksteer_config__set_group(struct sksteer_config *cfg, const char *group);

/* The configuration in the file format, canonical order; free() it. */
SKSTEER_API int sksteer_config__text(const struct sksteer_config *cfg, char **text);

SKSTEER_API void sksteer_config__free(struct sksteer_config *cfg);

/* The live steering of ns as a configuration (what `sksteer --save` prints). */
SKSTEER_API int sksteer_ns__config(struct sksteer_ns *ns, struct sksteer_config **cfg);

/* --- plans: a configuration checked against the live state, then applied ------------- */

struct sksteer_plan;

struct sksteer_plan_opts {
	size_t sz;
	bool force; /* as if every binding had SKSTEER_BIND_FORCE */
	bool new_sockets; /* take another socket at a target's address, if any, even while its
			   * own lives (a server that re-binds on reload) */
	unsigned int wait_s; /* wait up to this long for every target to listen first */
};
#define sksteer_plan_opts__last_field wait_s

/*
 * Checks every binding of cfg against the live steering of ns, changing
 * nothing, and plans the changes that make the steering what cfg says.
 * Whatever the plan, applying it never unsteers a port that stays steered
 * (a port that moves changes target in one store). 0; -EINVAL, -EEXIST,
 * -ENOENT... with the binding at fault in sksteer_errmsg().
 */
SKSTEER_API int sksteer_ns__plan(struct sksteer_ns *ns, const struct sksteer_config *cfg,
				 const struct sksteer_plan_opts *opts, struct sksteer_plan **plan);

/* How many changes the plan makes (0: in sync), and each as one line of sksteer --dry-run. */
SKSTEER_API int sksteer_plan__changes(const struct sksteer_plan *plan);
SKSTEER_API const char *sksteer_plan__change(const struct sksteer_plan *plan, int i);

/*
 * The kernel updates applying the plan would make, as sksteer -v prints them after an apply
 * ("kernel updates TOTAL: port table bytes ..."): counted when the plan is made on a handle
 * opened read-only, by running the apply with every write skipped. A change touches only
 * the bindings that change, so they grow with the change, not with the configuration.
 */
struct sksteer_updates {
	size_t total; /* the sum of the four below */
	size_t port_table_bytes; /* bytes of the port table (and of the unscoped routes' table) */
	size_t bindings_stores; /* entries and ranges stored into a bindings table */
	size_t tables_switched; /* bindings tables replaced whole */
	size_t other_entries; /* entries of the other maps: targets, routes, flags, records */
};

/*
 * 0 with *updates filled; -ENODATA when they were not counted: a plan made on a handle
 * opened to change (its apply is counted by -v's line), a plan with no change, or one
 * against no steering yet or pins an upgrade changes (the apply then loads the program and
 * makes maps). A configuration's plan and a single change's (sksteer_ns__plan_change())
 * alike.
 */
SKSTEER_API int sksteer_plan__updates(const struct sksteer_plan *plan,
				      struct sksteer_updates *updates);

/* Applies the plan made on ns (loading and attaching the program on a first change). */
SKSTEER_API int sksteer_ns__apply(struct sksteer_ns *ns, struct sksteer_plan *plan);

/*
 * Records in ns's pins that an apply failed before the library saw it (a
 * configuration that did not parse: error, a negative errno, and message),
 * so that whoever monitors the namespace sees it as the last apply, as it
 * sees the failures of sksteer_ns__plan() and sksteer_ns__apply() on a
 * handle opened to change. The steering is left as it is. Where nothing is
 * steered there are no pins, and nothing is recorded. 0, -EINVAL, -EPERM.
 */
SKSTEER_API int sksteer_ns__apply_failed(struct sksteer_ns *ns, int error, const char *message);

SKSTEER_API void sksteer_plan__free(struct sksteer_plan *plan);

/* --- one change ---------------------------------------------------------------------- */

/* Flags of a change */
#define SKSTEER_CHANGE_FD (1U << 0) /* the target is socket_fd's socket, at its address */
#define SKSTEER_CHANGE_FORCE (1U << 1) /* take ports from other targets and listeners */
#define SKSTEER_CHANGE_RESTART (1U << 2) /* the new socket alone, not its SO_REUSEPORT group */
#define SKSTEER_CHANGE_FAIL_CLOSED (1U << 3) /* refuse its ports while its socket is gone */
#define SKSTEER_CHANGE_FAIL_OPEN (1U << 4) /* leave them to the kernel then (the default) */
#define SKSTEER_CHANGE_FOLLOW (1U << 5) /* a new listener at its address takes over */
#define SKSTEER_CHANGE_FOLLOW_GROUP (1U << 6) /* ... with its SO_REUSEPORT group */
#define SKSTEER_CHANGE_NO_FOLLOW (1U << 7) /* stop following */

/* One target's change; what it leaves out (NULL, flag not set) stays as it is. */
struct sksteer_change {
	size_t sz; /* sizeof(struct sksteer_change) */
	/*
	 * "[tcp:|udp:]ADDR:PORT": the socket listening there now is taken (after a
	 * restart, say). NULL: socket_fd's, else the only target, keeping its socket.
	 */
	const char *target;
	int socket_fd; /* with SKSTEER_CHANGE_FD: a listening TCP or bound UDP socket */
	const char *socket_name; /* what messages call socket_fd; NULL: "descriptor N" */
	const char *ports; /* the target's ports from now on: "80,443,8000-8999" */
	const char *add, *remove; /* or ports added to and removed from those it has */
	const char *dst; /* the ports bind for destinations in this prefix only */
	unsigned int flags; /* SKSTEER_CHANGE_* */
	const char *follow_cgroup; /* with SKSTEER_CHANGE_FOLLOW: from this cgroup only */
};
#define sksteer_change__last_field follow_cgroup

/*
 * Makes the change: a port that stays steered is never unsteered on the way,
 * a port that moves changes target in one store, and on failure nothing has
 * changed. The program is loaded and attached on the namespace's first change
 * (and swapped for this build's where another runs).
 * Refusals: -EEXIST, ports another target owns; -EADDRINUSE, ports other
 * sockets use; -EPERM, a new socket of another user (each taken with
 * SKSTEER_CHANGE_FORCE); -EAFNOSUPPORT, a prefix of the other family.
 */
SKSTEER_API int sksteer_ns__change(struct sksteer_ns *ns, const struct sksteer_change *change);

/* Checks the change and plans it, changing nothing: its lines as sksteer_plan__change(). */
SKSTEER_API int sksteer_ns__plan_change(struct sksteer_ns *ns, const struct sksteer_change *change,
					struct sksteer_plan **plan);

/* Steers ports (replacing those it had) to socket fd: sksteer_ns__change() made simple. */
SKSTEER_API int sksteer_ns__steer_fd(struct sksteer_ns *ns, int fd, const char *ports);

/*
 * Lets group (its name in /etc/group, or its number) read ns's pins: its
 * members then read the status, metrics and checks with no capability, where
 * the kernel lets them use bpf() (from Linux 5.19 on; before, only with
 * kernel.unprivileged_bpf_disabled=0). They can change nothing, nor hold the
 * lock that changes take. NULL, "" or "root": the pins are their owner's alone
 * again. Where nothing is steered yet, the pins this handle's next change
 * makes are made so (closed without one, it leaves nothing). -ENOENT: no such
 * group; -EPERM: a read-only handle, or no CAP_CHOWN.
 */
SKSTEER_API int sksteer_ns__set_group(struct sksteer_ns *ns, const char *group);

/*
 * Ends steering: of target (NULL: everything, and the pins go), or of
 * target's bindings for prefix dst only (NULL: all of target's).
 */
SKSTEER_API int sksteer_ns__detach(struct sksteer_ns *ns, const char *target, const char *dst);

/* --- status ---------------------------------------------------------------------------- */

/*
 * A snapshot: sksteer_status__free() it. Needs read access only. The structs
 * it hands out are the library's; fields are only ever added at their end.
 */
struct sksteer_status;

/* Lookup counters, summed over CPUs since the namespace was first steered. */
struct sksteer_counters {
	uint64_t steered; /* assigned to the target's socket */
	uint64_t passed; /* left to the kernel: a port no target has (namespace only) */
	uint64_t no_target; /* the target's socket was gone: left to the kernel */
	uint64_t refused; /* ... and refused, fail-closed */
	uint64_t preempted; /* an earlier sk_lookup program had chosen a socket */
	uint64_t to_clients; /* UDP replies left to the client sockets awaiting them */
	uint64_t err_family, err_proto, err_state, err_other; /* the assignment failed */
};

struct sksteer_follow_status {
	bool on; /* the target follows its address */
	bool group; /* ... with the new socket's SO_REUSEPORT group */
	bool attached; /* the follower program is attached */
	uint32_t uid; /* a new socket must be this user's */
	char cgroup[128]; /* ... and from this cgroup ("": any) */
	uint64_t takeovers, refused_uid, refused_cgroup, errors;
	uint32_t last_refused_uid;
	uint64_t standby; /* the cookie of a sibling at the target's address, 0: none */
	bool standby_serves; /* the target's socket is gone: the sibling gets the connections */
};

struct sksteer_scoped {
	char dst[64]; /* "192.0.2.0/24" */
	char *ports; /* "80,443" */
	unsigned int nports;
};

struct sksteer_target_status {
	char target[64]; /* "127.0.0.1:9000", "udp:[::1]:53" */
	int proto; /* IPPROTO_TCP, IPPROTO_UDP */
	int family; /* AF_INET, AF_INET6 */
	unsigned int port;
	char *ports; /* for every destination: "80,443,8000-8999", "" */
	unsigned int nports;
	int nscoped; /* ports for destination prefixes only, most specific first */
	struct sksteer_scoped *scoped;
	bool up; /* its socket is in place */
	bool fail_closed;
	bool socket_only; /* after a restart: not the rest of its SO_REUSEPORT group */
	unsigned int clients_from; /* UDP: replies to client sockets from this port up; 0 */
	uint64_t cookie; /* its socket's; 0 once gone */
	int owner_pid; /* a process holding its socket, 0 if not found */
	char owner_comm[32]; /* its name, raw bytes: escape it to print it */
	struct sksteer_counters counters;
	struct sksteer_follow_status follow;
	/* ports it was given and does not own, and the reverse; NULL: not recorded */
	char *lost_ports, *extra_ports;
	unsigned int nlost, nextra;
	/* prefixes with ports the port table does not mark (lookups there miss the prefix): the
	 * prefix, and those ports */
	int nscoped_lost;
	struct sksteer_scoped *scoped_lost;
};

struct sksteer_other_program {
	uint32_t link_id, prog_id;
	char name[16];
	bool before; /* runs before sksteer's: its choices preempt sksteer's */
};

struct sksteer_ns_status {
	uint64_t netns; /* inode */
	bool steering;
	bool stale; /* not steering, but pins are there: their link was detached or never pinned */
	const char *pin_dir;
	struct sksteer_counters totals; /* every lookup, ports no target has included */
	uint64_t events_lost; /* trace events the ring buffer could not take */
	uint32_t prog_id, link_id;
	char prog_name[16], prog_tag[17]; /* "": reading them needs CAP_SYS_ADMIN */
	int tracer_pid; /* a live tracer, 0: none */
	int nothers; /* other sk_lookup programs of the namespace */
	bool others_unknown; /* ... unknown: listing them needs CAP_SYS_ADMIN */
	struct sksteer_other_program *others;
	bool udp_watching; /* the UDP client watcher runs */
	unsigned int udp_awaited, udp_awaited_max, udp_awaited_per_user;
	uint64_t udp_unrecorded_full, udp_unrecorded_over_budget;
	/*
	 * The last apply (sksteer_ns__plan() and sksteer_ns__apply() on a handle
	 * opened to change, sksteer_ns__change(), sksteer_ns__apply_failed()), whoever made
	 * it: its time and result. Times are CLOCK_REALTIME in ns; 0: none recorded.
	 */
	uint64_t last_apply_ns, last_apply_ok_ns; /* the last one, and the last that took */
	int last_apply_result; /* 0, or its failure's negative errno */
	const char *last_apply_error; /* its failure's message; "" */
	uint64_t applies, apply_failures; /* since the namespace was first steered */
	const char *group; /* the group that may read the pins too (sksteer_ns__set_group()); "" */
};

SKSTEER_API int sksteer_ns__status(struct sksteer_ns *ns, struct sksteer_status **st);
SKSTEER_API const struct sksteer_ns_status *sksteer_status__ns(const struct sksteer_status *st);
SKSTEER_API int sksteer_status__targets(const struct sksteer_status *st);
SKSTEER_API const struct sksteer_target_status *
sksteer_status__target(const struct sksteer_status *st, int i);
SKSTEER_API void sksteer_status__free(struct sksteer_status *st);

/* --- tracing --------------------------------------------------------------------------- */

/* One lookup as the program decided it, or a takeover as the follower did. */
struct sksteer_lookup {
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	int family, proto;
	uint8_t remote_addr[16], local_addr[16]; /* network byte order; IPv4 in the first 4 */
	uint16_t remote_port, local_port; /* host byte order */
	/* "steered", "pass", "no-target", "error", "refused", "preempted", "client";
	 * the follower's: "takeover", "no-takeover" (remote_* unset, uid the socket's) */
	const char *verdict;
	bool takeover;
	uint32_t uid;
	int err; /* an error's negative errno */
	uint32_t ifindex; /* 0: the kernel does not say (before 5.17) */
	const char *target; /* the target chosen, NULL: none; "?" if since removed */
	const char *dst; /* the prefix whose binding chose it, NULL: an unscoped one */
};

/* Called per lookup; a non-zero return ends the trace with that value. */
typedef int (*sksteer_lookup_fn_t)(void *ctx, const struct sksteer_lookup *lookup);

/*
 * Traces ns's lookups: swaps a tracing instance of the program in, calls fn
 * per lookup until the handle's stop flag is set (which it then clears), fn
 * returns non-zero or the steering is detached (-ENOLINK), and swaps the
 * plain program back. The lock is released while tracing, so that changes go
 * on. *lost (may be NULL) gets the lookups the ring buffer could not take.
 */
SKSTEER_API int sksteer_ns__trace(struct sksteer_ns *ns, sksteer_lookup_fn_t fn, void *ctx,
				  uint64_t *lost);

#ifdef __cplusplus
}
#endif

#endif /* __SKSTEER_SKSTEER_H */
