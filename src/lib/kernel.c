// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The running kernel's version, where no probe can tell; see kernel.h. */
#include <stdio.h>
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
