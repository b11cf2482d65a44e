/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the running kernel does, where no probe can tell: version checks, each
 * naming the kernel change it stands for; and waiting out its grace periods.
 */
#ifndef __SKSTEER_KERNEL_H
#define __SKSTEER_KERNEL_H

#include <stdbool.h>

/* The running kernel is MAJOR.MINOR or newer (by uname; distributions may backport). */
bool kernel_at_least(int major, int minor);

/*
 * Returns once no BPF program run that started before can still be running
 * (a grace period): what no lookup reaches any more may be reused after it.
 * 0 when the kernel waited for one; -1 when membarrier was refused (a seccomp
 * filter, a nohz_full kernel) and a sleep well past one stood in for it.
 */
int grace_period(void);

#endif /* __SKSTEER_KERNEL_H */
