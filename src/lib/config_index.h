/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What lets a configuration of 100,000 lines be parsed, checked, copied and
 * diffed in time and memory linear in its lines (config.c's helpers, no
 * syscalls): the port sets lines share, interned per configuration and
 * counted per line; an index of the lines by target and by port space; and
 * what config.c and config_text.c both need of a line (its words, its order).
 */
#ifndef __SKSTEER_CONFIG_INDEX_H
#define __SKSTEER_CONFIG_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

/* one port space per protocol (TCP, UDP) and socket family (IPv4, IPv6): see steer.h */
int config_port_space(const struct sksteer_target *t);

/* Whether lines a and b share ports: same protocol, socket family and destination prefix. */
bool config_same_space(const struct config_target *a, const struct config_target *b);

/* "tcp" or "udp": a line's first word. */
const char *config_proto_word(const struct sksteer_target *t);

/* The address alone, without the "udp:" that format_target() puts in front. */
char *config_format_addr(const struct sksteer_target *t, char *buf, size_t len);

/* The canonical order (config_sort()): targets, and within one, prefixes (prefix_cmp()). */
int config_target_order(const struct sksteer_target *a, const struct sksteer_target *b);
int config_line_cmp(const struct config_target *a, const struct config_target *b);

/*
 * set, as one of cfg's shared sets: the one cfg holds already, or a copy.
 * It lives while cfg or a line that holds it does. NULL when out of memory.
 */
const struct portset *ports_intern(struct config *cfg, const struct portset *set);

/*
 * The set of a port list text a line of cfg gave before (interned), or NULL:
 * a file of 100,000 lines repeats a few lists, parsed once each.
 */
const struct portset *ports_of_text(const struct config *cfg, const char *text);
void ports_remember_text(struct config *cfg, const char *text, const struct portset *set);

/* A line's hold on its set (config_add()), and its end (config_free()). */
void ports_hold(const struct portset *set);
void ports_drop(const struct portset *set);

/* Frees cfg's own holds on the sets it interned. */
void ports_pool_free(struct config *cfg);

/* The lines by target and by port space: per space a chain of lines, newest first. */
struct config_index {
	uint32_t mask; /* buckets - 1 */
	int room; /* lines next[] has room for */
	int lines; /* lines indexed: cfg->t[0..lines-1] */
	int *space; /* bucket -> newest line of a space that hashes there; -1: none */
	int *target; /* open addressing: a target's first line; -1: empty */
	int *next; /* line -> the line before it in its space's bucket; -1: none */
};

/* An index of cfg's lines, with room for room lines; NULL when out of memory. */
struct config_index *index_make(const struct config *cfg, int room);

void index_free(struct config_index *x);

/* Line i, the next after the lines indexed, into x (which has room for it). */
void index_add(const struct config *cfg, struct config_index *x, int i);

/* The first line of target a in x's config, or -1. */
int index_target(const struct config *cfg, const struct config_index *x,
		 const struct sksteer_target *a);

/* The line at or after line k (walking a chain newest first) in t's space, or -1. */
int index_space_next(const struct config *cfg, const struct config_index *x,
		     const struct config_target *t, int k);

/* The newest line in t's space, or -1. */
int index_space_first(const struct config *cfg, const struct config_index *x,
		      const struct config_target *t);

/* Each line k of cfg in t's space, newest first. */
#define EACH_IN_SPACE(cfg, x, t, k)                        \
	for (int k = index_space_first(cfg, x, t); k >= 0; \
	     k = index_space_next(cfg, x, t, (x)->next[k]))

#endif /* __SKSTEER_CONFIG_INDEX_H */
