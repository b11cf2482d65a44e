/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Putting a chosen target socket into the sockmap, from inside the kernel:
 * with a socket iterator where the kernel makes that safe (Linux >= 6.5), else
 * with a one-shot lookup program, and only as a last resort by duplicating the
 * socket from its owner. Owns that choice; src/find.bpf.c holds the programs.
 */
#ifndef __SKSTEER_FIND_H
#define __SKSTEER_FIND_H

#include <stddef.h>
#include <stdint.h>
#include "sockets.h"

enum find_method {
	FIND_ITER, /* iter/tcp, iter/udp: walk the namespace's sockets */
	FIND_LOOKUP, /* a tc program run once: the kernel's own socket lookup */
	FIND_PIDFD, /* /proc/PID/fd and pidfd_getfd(): needs CAP_SYS_PTRACE and the owner in sight */
	NR_FIND_METHODS
};

extern const char *const find_method_names[NR_FIND_METHODS];

/*
 * Puts socket s (from target_choose()) into the targets sockmap at slot. The
 * methods are tried in order from the best this kernel supports;
 * SKSTEER_FIND=iter|lookup|pidfd in the environment forces one. 0, or -1 with
 * one line in err.
 */
int target_install(int targets_fd, uint32_t slot, const struct sock_info *s, char *err,
		   size_t errlen);

#endif /* __SKSTEER_FIND_H */
