/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the command line names by path, taken in without ever blocking a run:
 * the --config file (or standard input), read whole before the lock is taken,
 * and the --netns namespace, checked before anything opens or enters it. A
 * FIFO, a socket, a terminal, a directory or a device gets one line at once.
 */
#ifndef __SKSTEER_INPUT_H
#define __SKSTEER_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* Standard input must end within this many seconds (or --wait SECONDS, if longer). */
#define INPUT_WAIT_S 10

/*
 * The whole configuration at path, or on standard input for "-", into *text
 * (*len bytes, to free()). A path must be a regular file (or /dev/null, the
 * empty configuration); standard input a pipe or a regular file, and a pipe
 * must end within wait_s seconds. A signal (signals.h) ends the wait. 0, or
 * -1 with one line in err.
 */
int input_config(const char *path, unsigned int wait_s, char **text, size_t *len, char *err,
		 size_t errlen);

/*
 * Opens the network namespace at path (/run/netns/NAME, /proc/PID/ns/net, a
 * bind mount of one) into *fd, its inode into *ino. Anything else is refused
 * without being opened for reading. 0, or -1 with one line in err.
 */
int input_netns(const char *path, int *fd, uint64_t *ino, char *err, size_t errlen);

#endif /* __SKSTEER_INPUT_H */
