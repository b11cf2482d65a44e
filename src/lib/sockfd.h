/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A socket given by descriptor, read and checked: see sockfd.c. */
#ifndef __SKSTEER_SOCKFD_H
#define __SKSTEER_SOCKFD_H

#include <stdint.h>
#include "sockets.h"

/*
 * Reads socket fd into s (s->held set): a listening TCP or a bound, unconnected
 * UDP socket of network namespace netns_ino. what names the descriptor in
 * messages ("descriptor 3"). 0, or -1 with one line in err.
 */
int sock_from_fd(int fd, const char *what, uint64_t netns_ino, struct sock_info *s, char *err,
		 size_t errlen);

#endif /* __SKSTEER_SOCKFD_H */
