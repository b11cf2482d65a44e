/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What a public handle (struct sksteer_ns) holds, and the frame of every
 * public operation on it: the thread's settings and namespace, entered and
 * restored (src/lib/ns.c).
 */
#ifndef __SKSTEER_NS_H
#define __SKSTEER_NS_H

#include <stdbool.h>
#include <stddef.h>
#include <sksteer/sksteer.h>
#include "steer.h"

struct sksteer_ns {
	struct live l; /* the pins, locked while the handle is open */
	int netns_fd; /* the namespace's own descriptor, or -1: the opening thread's */
	bool read_only;
	int lock_wait_s; /* 0: none */
	volatile int *stop;
	bool swept; /* the pins of namespaces that died were removed (ns_create()) */
	bool brief; /* status without owners and other programs (sksteer_ns_opts) */
	bool outside; /* opened by inode (sksteer_ns__open_pinned()): its sockets are not seen */
};

/*
 * A field of a caller's options struct, if the caller's build has it (sz
 * covers it), else fallback: structs grow at their end (sksteer.h).
 */
#define OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= offsetof(__typeof__(*(opts)), field) + sizeof((opts)->field))
#define OPTS_GET(opts, field, fallback) (OPTS_HAS(opts, field) ? (opts)->field : (fallback))

/* Whether an operation enters the handle's namespace */
enum { NS_STAY, NS_ENTER, NS_TRY /* if it can: a reader without CAP_SYS_ADMIN cannot */ };

/* What ns_begin() changed of the calling thread, for ns_end() to put back. */
struct ns_call {
	volatile int *stop;
	int lock_wait_s; /* 0: none */
	int own; /* the thread's own namespace, while in ns's; -1 */
};

/*
 * The thread takes ns's stop flag and lock wait; with enter NS_ENTER or NS_TRY,
 * it enters ns's namespace too (for sock_diag, attaching, the ephemeral
 * range). 0, or -1 with err (nothing to end then).
 */
int ns_begin(struct sksteer_ns *ns, struct ns_call *call, int enter, char *err, size_t errlen);
void ns_end(struct ns_call *call);

/*
 * Before a change: the pin directory made where there is none (mounting
 * bpffs if needed), locked. 0, or -1 with err (a read-only handle: EPERM).
 */
int ns_create(struct sksteer_ns *ns, char *err, size_t errlen);

/* Records err as the thread's message; returns ret if negative, else -EINVAL. */
int ns_fail(int ret, const char *err);

/* -errno, or -EIO where no errno was set. */
int ns_errno(void);

#endif /* __SKSTEER_NS_H */
