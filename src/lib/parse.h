/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Port lists and target addresses: parsing and printing. No syscalls, so fuzzable. */
#ifndef __SKSTEER_PARSE_H
#define __SKSTEER_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "sksteer_abi.h"

/* A set of ports, one bit each. */
struct portset {
	uint64_t bits[65536 / 64];
};

static inline bool portset_has(const struct portset *s, unsigned int port)
{
	return s->bits[port / 64] >> (port % 64) & 1;
}

static inline void portset_add(struct portset *s, unsigned int port)
{
	s->bits[port / 64] |= 1ULL << (port % 64);
}

unsigned int portset_count(const struct portset *s);

#define PORTSET_WORDS (sizeof(((struct portset *)0)->bits) / sizeof(uint64_t))

/* Whether s has no port: cheaper than counting them. */
static inline bool portset_empty(const struct portset *s)
{
	uint64_t any = 0;

	for (size_t i = 0; i < PORTSET_WORDS; i++)
		any |= s->bits[i];
	return !any;
}

/* out = a & b; whether any port is in both. out may be a or b. */
static inline bool portset_and(const struct portset *a, const struct portset *b,
			       struct portset *out)
{
	uint64_t any = 0;

	for (size_t i = 0; i < PORTSET_WORDS; i++)
		any |= out->bits[i] = a->bits[i] & b->bits[i];
	return any != 0;
}

/* out = a without the ports of b. out may be a or b. */
static inline void portset_andnot(const struct portset *a, const struct portset *b,
				  struct portset *out)
{
	for (size_t i = 0; i < PORTSET_WORDS; i++)
		out->bits[i] = a->bits[i] & ~b->bits[i];
}

/* a |= b */
static inline void portset_or(struct portset *a, const struct portset *b)
{
	for (size_t i = 0; i < PORTSET_WORDS; i++)
		a->bits[i] |= b->bits[i];
}

/*
 * The next range of ports in s from *lo on: *lo..*hi, true; false when no
 * port from *lo on is in s. for (lo = 0; portset_range(s, &lo, &hi); lo = hi + 1)
 */
bool portset_range(const struct portset *s, unsigned int *lo, unsigned int *hi);

/* Adds ports lo..hi (lo <= hi <= 65535). */
void portset_add_range(struct portset *s, unsigned int lo, unsigned int hi);

/*
 * "80,443,8000-8999" -> set. On error returns -1 and writes one line naming the
 * offending item into err.
 */
int parse_ports(const char *list, struct portset *set, char *err, size_t errlen);

/*
 * "[tcp:|udp:]1.2.3.4:80" or "[tcp:|udp:][::1]:80" -> target. Numeric addresses
 * only. On error returns -1 and writes one line into err.
 */
int parse_target(const char *text, struct sksteer_target *t, char *err, size_t errlen);

/* "127.0.0.1:9000", "[::1]:9000", "udp:127.0.0.1:53"; returns buf. */
#define TARGET_STRLEN 64
char *format_target(const struct sksteer_target *t, char *buf, size_t len);

/* Compact ranges: "80,443,8000-8999"; "" for an empty set. Returns the length it needs. */
size_t format_ports(const struct portset *s, char *buf, size_t len);

bool target_equal(const struct sksteer_target *a, const struct sksteer_target *b);

/* A destination prefix (--dst): an IPv4 or IPv6 network, host bits clear. */
/* Destination prefixes per address family that may bind ports at once. */
#define SCOPED_PREFIXES 1048576

struct prefix {
	uint8_t family; /* AF_INET or AF_INET6; 0: none (every address) */
	uint8_t len; /* 0-32 or 0-128 */
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
};

/*
 * "192.0.2.0/24", "2001:db8::/32", or a bare address (/32, /128) -> prefix.
 * Host bits must be clear: "10.0.0.1/8" is refused, naming 10.0.0.0/8, since
 * it may mean either the network or a typo. -1 with "'TEXT': what is wrong"
 * in err, for the caller to put after the option's name.
 */
int parse_prefix(const char *text, struct prefix *p, char *err, size_t errlen);

/* "192.0.2.0/24"; "*" for no prefix. Returns buf. */
#define PREFIX_STRLEN 64
char *format_prefix(const struct prefix *p, char *buf, size_t len);

bool prefix_equal(const struct prefix *a, const struct prefix *b);

/*
 * The order --list and --save give prefixes: none (every destination) first, then IPv4
 * before IPv6, longest first, by address. <0, 0 or >0.
 */
int prefix_cmp(const struct prefix *a, const struct prefix *b);

/* Whether address addr (family, network byte order) lies in p. */
bool prefix_holds(const struct prefix *p, int family, const uint8_t *addr);

/* Whether p holds every address of q (p is q or less specific). */
bool prefix_covers(const struct prefix *p, const struct prefix *q);

#endif /* __SKSTEER_PARSE_H */
