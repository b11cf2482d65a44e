/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What a command needs of the process and the kernel, checked up front for one clear line. */
#ifndef __SKSTEER_PRIVILEGES_H
#define __SKSTEER_PRIVILEGES_H

#include "commands.h"

/* The capabilities cmd needs (with --netns, more). 0, or 1 with the line printed. */
int privileges_check(const struct args *a, const struct cmd *cmd);

/*
 * Whether this kernel has BTF and runs sk_lookup programs: asked with a probe
 * program unless steering (a namespace's pins hold its attached link, which
 * proves it). 0, or 1 with the line printed.
 */
int privileges_kernel(bool steering);

/*
 * Keeps the one capability that reads the pins (CAP_BPF, or CAP_SYS_ADMIN
 * where that is what grants it) and drops every other: effective, permitted,
 * inheritable, ambient, and the bounding set where CAP_SETPCAP allows, with
 * no_new_privs. For a long-running reader that faces the network
 * (--serve-metrics). 0, or -1 with err.
 */
int privileges_keep_bpf(char *err, size_t errlen);

#endif /* __SKSTEER_PRIVILEGES_H */
