// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Port lists, targets and prefixes: parsing and printing, no syscalls; see parse.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "parse.h"

#define PORTS_HINT "write ports like 80,443,8000-8999"

unsigned int portset_count(const struct portset *s)
{
	unsigned int n = 0;

	for (size_t i = 0; i < sizeof(s->bits) / sizeof(s->bits[0]); i++)
		n += __builtin_popcountll(s->bits[i]);
	return n;
}

/* The first port at or after from that is in s (or not, when set is false); 65536: none. */
static unsigned int portset_next(const struct portset *s, unsigned int from, bool set)
{
	uint64_t flip = set ? 0 : ~0ULL, bits = (s->bits[from / 64] ^ flip) & ~0ULL << (from % 64);
	unsigned int w = from / 64;

	/* whole words skipped in a loop of its own: a range of every port is 1,024 of them */
	while (!bits && ++w < PORTSET_WORDS)
		bits = s->bits[w] ^ flip;
	return bits ? w * 64 + (unsigned int)__builtin_ctzll(bits) : 65536;
}

bool portset_range(const struct portset *s, unsigned int *lo, unsigned int *hi)
{
	if (*lo > 65535 || (*lo = portset_next(s, *lo, true)) > 65535)
		return false;
	*hi = portset_next(s, *lo, false) - 1;
	return true;
}

void portset_add_range(struct portset *s, unsigned int lo, unsigned int hi)
{
	for (unsigned int port = lo; port <= hi && port % 64; port++)
		portset_add(s, port);
	for (unsigned int port = (lo + 63) / 64 * 64; port <= hi; port += 64) {
		if (hi - port >= 63)
			s->bits[port / 64] = ~0ULL;
		else
			for (unsigned int p = port; p <= hi; p++)
				portset_add(s, p);
	}
}

/* Parses one decimal port at *p, advancing it. 0 on success. */
static int parse_port_number(const char **p, unsigned int *port)
{
	unsigned long v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			v = 65536; /* saturate: stays out of range however long */
		s++;
	}
	*p = s;
	*port = (unsigned int)v;
	return 0;
}

static int bad_item(char *err, size_t errlen, const char *item, size_t n, const char *why)
{
	snprintf(err, errlen, "bad port list item '%.*s': %s (" PORTS_HINT ")", (int)n, item, why);
	return -1;
}

static int parse_item(const char *item, size_t n, struct portset *set, char *err, size_t errlen)
{
	const char *p = item, *end = item + n;
	unsigned int lo, hi;

	if (n == 0)
		return bad_item(err, errlen, item, n, "empty item");
	if (parse_port_number(&p, &lo))
		return bad_item(err, errlen, item, n,
				*p == '-' ? "range without a start" : "not a port number");
	hi = lo;
	if (p < end && *p == '-') {
		p++;
		if (p == end)
			return bad_item(err, errlen, item, n, "range without an end");
		if (parse_port_number(&p, &hi))
			return bad_item(err, errlen, item, n, "not a port number");
	}
	if (p != end)
		return bad_item(err, errlen, item, n, "not a port number");
	if (lo == 0 || hi == 0)
		return bad_item(err, errlen, item, n, "port 0 cannot be steered");
	if (lo > 65535 || hi > 65535)
		return bad_item(err, errlen, item, n, "ports go up to 65535");
	if (lo > hi)
		return bad_item(err, errlen, item, n, "range runs backwards");
	portset_add_range(set, lo, hi);
	return 0;
}

int parse_ports(const char *list, struct portset *set, char *err, size_t errlen)
{
	const char *item = list;

	memset(set, 0, sizeof(*set));
	if (*list == '\0') {
		snprintf(err, errlen, "empty port list (" PORTS_HINT ")");
		return -1;
	}
	for (;;) {
		const char *comma = strchr(item, ',');
		size_t n = comma ? (size_t)(comma - item) : strlen(item);

		if (parse_item(item, n, set, err, errlen))
			return -1;
		if (!comma)
			return 0;
		item = comma + 1;
	}
}

static int bad_target(char *err, size_t errlen, const char *text, const char *why)
{
	snprintf(err, errlen, "bad target address '%s': %s", text, why);
	return -1;
}

/* Splits "host:port" / "[host]:port" into host (copied to buf) and the port text. */
static int split_host_port(const char *text, const char *addr, char *host, size_t hostlen,
			   const char **port, char *err, size_t errlen)
{
	const char *colon;
	size_t n;

	if (*addr == '[') {
		const char *close = strchr(addr, ']');

		if (!close)
			return bad_target(err, errlen, text, "missing ']' after the IPv6 address");
		if (close[1] != ':')
			return bad_target(err, errlen, text, "missing :PORT, e.g. [::1]:9000");
		addr++;
		n = (size_t)(close - addr);
		*port = close + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return bad_target(err, errlen, text, "missing :PORT, e.g. 127.0.0.1:9000");
		if (memchr(addr, ':', (size_t)(colon - addr)))
			return bad_target(err, errlen, text,
					  "write IPv6 addresses in brackets, e.g. [::1]:9000");
		n = (size_t)(colon - addr);
		*port = colon + 1;
	}
	if (n == 0)
		return bad_target(err, errlen, text,
				  "missing address (use 0.0.0.0 or [::] for any address)");
	if (n >= hostlen)
		return bad_target(err, errlen, text, "address too long");
	memcpy(host, addr, n);
	host[n] = '\0';
	return 0;
}

int parse_target(const char *text, struct sksteer_target *t, char *err, size_t errlen)
{
	const char *addr = text, *portp;
	char host[INET6_ADDRSTRLEN + 8];
	unsigned int port;

	memset(t, 0, sizeof(*t));
	t->proto = IPPROTO_TCP;
	if (!strncmp(addr, "tcp:", 4)) {
		addr += 4;
	} else if (!strncmp(addr, "udp:", 4)) {
		t->proto = IPPROTO_UDP;
		addr += 4;
	}
	if (addr == text && strchr(addr, ':') && isalpha((unsigned char)*addr)) {
		size_t n = strspn(addr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

		/* a word that cannot be an IPv6 group ("sctp:", not "dead:") names a protocol */
		if (addr[n] == ':' && strchr(addr + n + 1, ':') &&
		    (n > 4 || strspn(addr, "abcdefABCDEF") < n))
			return bad_target(err, errlen, text, "unknown protocol (use tcp: or udp:)");
	}
	if (split_host_port(text, addr, host, sizeof(host), &portp, err, errlen))
		return -1;
	if (parse_port_number(&portp, &port) || *portp != '\0')
		return bad_target(err, errlen, text, "the port is not a number");
	if (port == 0 || port > 65535)
		return bad_target(err, errlen, text, "the port must be 1-65535");
	t->port = (__u16)port;

	if (strchr(host, '%'))
		return bad_target(err, errlen, text, "zone ids (%%dev) are not supported");
	if (addr[0] == '[') {
		if (inet_pton(AF_INET6, host, t->addr) != 1)
			return bad_target(err, errlen, text, "not a valid IPv6 address");
		t->family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, host, t->addr) != 1) {
		bool name = false;

		for (const char *c = host; *c; c++)
			name |= isalpha((unsigned char)*c);
		return bad_target(err, errlen, text,
				  name ? "host names are not resolved; give a numeric address" :
					 "not a valid IPv4 address");
	}
	t->family = AF_INET;
	return 0;
}

char *format_target(const struct sksteer_target *t, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	const char *proto = t->proto == IPPROTO_UDP ? "udp:" : "";

	inet_ntop(t->family == AF_INET6 ? AF_INET6 : AF_INET, t->addr, host, sizeof(host));
	if (t->family == AF_INET6)
		snprintf(buf, len, "%s[%s]:%u", proto, host, t->port);
	else
		snprintf(buf, len, "%s%s:%u", proto, host, t->port);
	return buf;
}

size_t format_ports(const struct portset *s, char *buf, size_t len)
{
	unsigned int port, hi;
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (port = 1; portset_range(s, &port, &hi); port = hi + 1) {
		char item[16];
		int n;

		if (hi == port)
			n = snprintf(item, sizeof(item), "%s%u", used ? "," : "", port);
		else
			n = snprintf(item, sizeof(item), "%s%u-%u", used ? "," : "", port, hi);
		if (used + (size_t)n < len)
			memcpy(buf + used, item, (size_t)n + 1);
		used += (size_t)n;
	}
	return used;
}

bool target_equal(const struct sksteer_target *a, const struct sksteer_target *b)
{
	return a->proto == b->proto && a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int bad_prefix(char *err, size_t errlen, const char *text, const char *why)
{
	snprintf(err, errlen, "'%s': %s", text, why);
	return -1;
}

bool prefix_holds(const struct prefix *p, int family, const uint8_t *addr)
{
	unsigned int whole = p->len / 8, rest = p->len % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, whole))
		return false;
	return !rest || !((p->addr[whole] ^ addr[whole]) & (uint8_t)(0xff << (8 - rest)));
}

bool prefix_covers(const struct prefix *p, const struct prefix *q)
{
	return p->len <= q->len && prefix_holds(p, q->family, q->addr);
}

int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

int parse_prefix(const char *text, struct prefix *p, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1], net[INET6_ADDRSTRLEN], why[160];
	const char *slash = strchr(text, '/'), *lenp;
	unsigned int len, max;
	size_t n = slash ? (size_t)(slash - text) : strlen(text);
	struct prefix masked;

	memset(p, 0, sizeof(*p));
	if (!n)
		return bad_prefix(err, errlen, text,
				  "missing address (e.g. 192.0.2.0/24 or 2001:db8::/32)");
	if (n >= sizeof(host) || text[0] == '[')
		return bad_prefix(err, errlen, text,
				  "not an address prefix (e.g. 192.0.2.0/24 or 2001:db8::/32)");
	memcpy(host, text, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, host, p->addr) == 1)
		p->family = AF_INET6;
	else
		return bad_prefix(err, errlen, text,
				  "not an address prefix (e.g. 192.0.2.0/24 or 2001:db8::/32)");
	max = p->family == AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		lenp = slash + 1;
		if (!isdigit((unsigned char)*lenp) || parse_port_number(&lenp, &len) || *lenp)
			return bad_prefix(err, errlen, text, "the prefix length is not a number");
		if (len > max) {
			snprintf(why, sizeof(why),
				 "prefix length %.8s%s is out of range for %s (0-%u)", slash + 1,
				 strlen(slash + 1) > 8 ? "..." : "",
				 p->family == AF_INET ? "IPv4" : "IPv6", max);
			return bad_prefix(err, errlen, text, why);
		}
	}
	p->len = (uint8_t)len;
	masked = *p;
	for (unsigned int bit = len; bit < 128; bit++)
		masked.addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	if (memcmp(masked.addr, p->addr, sizeof(p->addr))) {
		inet_ntop(p->family, masked.addr, net, sizeof(net));
		snprintf(why, sizeof(why),
			 "host bits are set after /%u: write the network, %s/%u, or the address "
			 "alone for /%u",
			 len, net, len, max);
		return bad_prefix(err, errlen, text, why);
	}
	return 0;
}

char *format_prefix(const struct prefix *p, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (!p->family) {
		snprintf(buf, len, "*");
		return buf;
	}
	inet_ntop(p->family, p->addr, host, sizeof(host));
	snprintf(buf, len, "%s/%u", host, p->len);
	return buf;
}
