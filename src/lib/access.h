/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Who may read a namespace's pins besides their owner: one group, given with
 * --group or "group NAME" in a configuration. Its members read the pins with
 * no capability (where the kernel lets them use bpf()), and can neither change
 * them nor hold the writers' lock: the pin directory is 0710, not 0750, since
 * a directory that can be read can be opened, and an open directory flock()ed
 * for ever. They open the pins by name, which sksteer knows.
 */
#ifndef __SKSTEER_ACCESS_H
#define __SKSTEER_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "pins.h"

/*
 * A group by its name in /etc/group (the static binary has no NSS), or its
 * number. 0 with *gid set ("root" and "0" are 0: no group), or -ENOENT.
 */
int group_gid(const char *name, gid_t *gid);

/* gid's name in /etc/group, else its number; "" for 0 (no group). */
char *group_name(gid_t gid, char *buf, size_t len);

/*
 * Gives group gid read access to p's pins (0: takes it back): the pins 0640
 * and the directory 0710 for the group, the way to it made passable. The
 * group finds the directory only once every pin in it is readable, and loses
 * it before any pin is made the owner's alone. 0, or -1 with one line in err.
 */
int pins_share(struct pins *p, gid_t gid, char *err, size_t errlen);

#endif /* __SKSTEER_ACCESS_H */
