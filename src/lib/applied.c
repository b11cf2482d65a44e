// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pinned record of the last apply; see applied.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "applied.h"
#include "records.h"

void applied_note(const struct pins *p, int result, const char *error)
{
	struct apply_record r = {};
	struct timespec now;
	struct stat st;

	/*
	 * No link pinned: nothing steers here (a first apply that failed), nothing
	 * to tell of. A stop (a signal) is no failure of what was asked.
	 */
	if (p->mode == PINS_READ || p->dir_fd < 0 || fstatat(p->dir_fd, "link", &st, 0) ||
	    result == -EINTR)
		return;
	if (pin_record_read(p, APPLIED_PIN, &r, sizeof(r)))
		memset(&r, 0, sizeof(r)); /* the first, or pins of an older sksteer */
	clock_gettime(CLOCK_REALTIME, &now);
	r.at_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	r.result = result;
	if (result) {
		r.failed++;
		snprintf(r.error, sizeof(r.error), "%s",
			 error && *error ? error : strerror(-result));
	} else {
		r.applied++;
		r.ok_at_ns = r.at_ns;
		r.error[0] = '\0';
	}
	pin_record_write(p, APPLIED_PIN, &r, sizeof(r));
}

int applied_read(const struct pins *p, struct apply_record *r)
{
	/* a reader holds the shared lock, a writer the exclusive one: no copy is torn */
	if (pin_record_read(p, APPLIED_PIN, r, sizeof(*r)))
		return -1;
	r->error[sizeof(r->error) - 1] = '\0';
	return 0;
}
