// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The running kernel's version, where no probe can tell, and its grace periods; see kernel.h. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include <sys/utsname.h>
#include "kernel.h"

bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return true; /* cannot tell: assume a current kernel */
	return maj > major || (maj == major && min >= minor);
}

/*
 * Waits until no lookup that started before can still be running: BPF
 * programs run under RCU, and a global membarrier waits for an RCU grace
 * period. Where membarrier is refused (a seccomp filter), a sleep well past
 * one.
 */
int grace_period(void)
{
	struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };

	if (!syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		return 0;
	nanosleep(&pause, NULL);
	return -1;
}
