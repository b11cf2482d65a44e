/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* `sksteer --trace`: lookup events from the ring buffer, as text columns or JSON lines. */
#ifndef __SKSTEER_TRACE_H
#define __SKSTEER_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "steer.h"

struct trace_out {
	FILE *f;
	bool json;
	int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, to date events */
	struct live *live; /* for target names, and the prefixes of scoped bindings */
};

void trace_header(const struct trace_out *o);
/* One line per event, flushed. Returns -1 once the output is gone (a closed pipe). */
int trace_event(const struct trace_out *o, const struct sksteer_event *e);

/* Streams events until *exiting is set or steering is detached. 0, or -1 with err. */
int trace_stream(struct trace_out *o, int events_fd, int more_fd, int link_fd,
		 volatile int *exiting, char *err, size_t errlen);

/* The events the ring buffer could not take, summed over CPUs. */
uint64_t events_lost(int stats_fd);

#endif /* __SKSTEER_TRACE_H */
