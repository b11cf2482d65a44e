// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The shared port sets and the index of configuration lines, and their canonical order: see
 * config_index.h. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "config_index.h"

int config_port_space(const struct sksteer_target *t)
{
	return (t->proto == IPPROTO_UDP) * 2 + (t->family == AF_INET6);
}

bool config_same_space(const struct config_target *a, const struct config_target *b)
{
	return config_port_space(&a->addr) == config_port_space(&b->addr) &&
	       prefix_equal(&a->dst, &b->dst);
}

const char *config_proto_word(const struct sksteer_target *t)
{
	return t->proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* The address alone, without the "udp:" that format_target() puts in front. */
char *config_format_addr(const struct sksteer_target *t, char *buf, size_t len)
{
	struct sksteer_target a = *t;

	a.proto = IPPROTO_TCP;
	return format_target(&a, buf, len);
}

int config_target_order(const struct sksteer_target *a, const struct sksteer_target *b)
{
	int c;

	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1; /* IPPROTO_TCP (6) first */
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1; /* AF_INET (2) first */
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c)
		return c;
	return a->port < b->port ? -1 : a->port > b->port;
}

/* The canonical order of lines: by target, then by destination prefix. */
int config_line_cmp(const struct config_target *a, const struct config_target *b)
{
	int c = config_target_order(&a->addr, &b->addr);

	return c ? c : prefix_cmp(&a->dst, &b->dst);
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 0x100000001b3ULL;
	return h;
}

/* A shared set: held by the configuration that interned it and by each line that has it. */
struct shared_ports {
	unsigned int holds;
	uint64_t hash;
	struct portset set;
};

/* The port lists a parse has seen, each with its set: a file's lines repeat a few lists. */
#define TEXTS 1024 /* remembered at most: the first ones */

struct seen_text {
	char *text;
	const struct portset *set;
};

/* A configuration's interned sets: open addressing by hash. */
struct config_pool {
	uint32_t mask, n;
	struct shared_ports **slot;
	struct seen_text texts[2 * TEXTS]; /* open addressing by the text's hash */
	unsigned int ntexts;
};

static uint32_t text_hash(const char *text)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ULL, text, strlen(text));

	return (uint32_t)(h ^ h >> 29);
}

const struct portset *ports_of_text(const struct config *cfg, const char *text)
{
	const struct config_pool *pool = cfg->pool;

	if (!pool)
		return NULL;
	for (uint32_t b = text_hash(text) % (2 * TEXTS); pool->texts[b].text;
	     b = (b + 1) % (2 * TEXTS))
		if (!strcmp(pool->texts[b].text, text))
			return pool->texts[b].set;
	return NULL;
}

void ports_remember_text(struct config *cfg, const char *text, const struct portset *set)
{
	struct config_pool *pool = cfg->pool;
	uint32_t b;

	if (!pool || pool->ntexts >= TEXTS || strlen(text) > 256)
		return; /* a cache: what it cannot hold is parsed again */
	for (b = text_hash(text) % (2 * TEXTS); pool->texts[b].text; b = (b + 1) % (2 * TEXTS))
		if (!strcmp(pool->texts[b].text, text))
			return;
	pool->texts[b].text = strdup(text);
	if (!pool->texts[b].text)
		return;
	pool->texts[b].set = set;
	pool->ntexts++;
}

static struct shared_ports *shared_of(const struct portset *set)
{
	return (struct shared_ports *)((char *)set - offsetof(struct shared_ports, set));
}

void ports_hold(const struct portset *set)
{
	__atomic_fetch_add(&shared_of(set)->holds, 1, __ATOMIC_RELAXED);
}

void ports_drop(const struct portset *set)
{
	if (set && __atomic_sub_fetch(&shared_of(set)->holds, 1, __ATOMIC_ACQ_REL) == 0)
		free(shared_of(set));
}

static uint64_t ports_hash(const struct portset *set)
{
	/* four lanes: a chain of 1,024 multiplies would wait on each one in turn */
	uint64_t h[4] = { 0x9e3779b97f4a7c15ULL, 1, 2, 3 };

	for (size_t i = 0; i < PORTSET_WORDS; i += 4)
		for (size_t k = 0; k < 4; k++)
			h[k] = (h[k] ^ set->bits[i + k]) * 0xff51afd7ed558ccdULL;
	h[0] ^= (h[1] * 0xc4ceb9fe1a85ec53ULL) ^ (h[2] >> 17) ^ (h[3] * 0x94d049bb133111ebULL);
	return h[0] ^ h[0] >> 32;
}

/* Room in pool for one set more: grown to twice its sets. */
static int pool_room(struct config_pool *pool)
{
	struct shared_ports **slot;
	uint32_t cap = pool->mask + 1;

	if (pool->slot && 2 * (pool->n + 1) <= cap)
		return 0;
	cap = pool->slot ? 2 * cap : 64;
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -1;
	for (uint32_t i = 0; pool->slot && i <= pool->mask; i++) {
		uint32_t b;

		if (!pool->slot[i])
			continue;
		b = (uint32_t)pool->slot[i]->hash & (cap - 1);
		while (slot[b])
			b = (b + 1) & (cap - 1);
		slot[b] = pool->slot[i];
	}
	free(pool->slot);
	pool->slot = slot;
	pool->mask = cap - 1;
	return 0;
}

const struct portset *ports_intern(struct config *cfg, const struct portset *set)
{
	uint64_t h = ports_hash(set);
	struct config_pool *pool = cfg->pool;
	struct shared_ports *s;
	uint32_t b;

	if (!pool && !(pool = cfg->pool = calloc(1, sizeof(*pool))))
		return NULL;
	if (pool_room(pool))
		return NULL;
	for (b = (uint32_t)h & pool->mask; pool->slot[b]; b = (b + 1) & pool->mask)
		if (pool->slot[b]->hash == h && !memcmp(&pool->slot[b]->set, set, sizeof(*set)))
			return &pool->slot[b]->set;
	s = malloc(sizeof(*s));
	if (!s)
		return NULL;
	s->holds = 1; /* the pool's */
	s->hash = h;
	s->set = *set;
	pool->slot[b] = s;
	pool->n++;
	return &s->set;
}

void ports_pool_free(struct config *cfg)
{
	struct config_pool *pool = cfg->pool;

	for (uint32_t i = 0; pool && pool->slot && i <= pool->mask; i++)
		if (pool->slot[i])
			ports_drop(&pool->slot[i]->set);
	for (uint32_t i = 0; pool && i < 2 * TEXTS; i++)
		free(pool->texts[i].text);
	if (pool)
		free(pool->slot);
	free(pool);
	cfg->pool = NULL;
}

static uint32_t target_hash(const struct sksteer_target *a)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ULL, a->addr, sizeof(a->addr));

	h = hash_bytes(h ^ (uint64_t)a->proto << 8 ^ (uint64_t)a->family << 16, &a->port,
		       sizeof(a->port));
	return (uint32_t)(h ^ h >> 31);
}

static uint32_t space_hash(const struct config_target *t)
{
	uint64_t h = hash_bytes(0xcbf29ce484222325ULL ^ (uint64_t)config_port_space(&t->addr) ^
					(uint64_t)t->dst.family << 8 ^ (uint64_t)t->dst.len << 16,
				t->dst.addr, sizeof(t->dst.addr));

	return (uint32_t)(h ^ h >> 31);
}

void index_free(struct config_index *x)
{
	if (!x)
		return;
	free(x->space);
	free(x->target);
	free(x->next);
	free(x);
}

/* Line i (after the lines indexed, with room) in x. */
void index_add(const struct config *cfg, struct config_index *x, int i)
{
	uint32_t b = space_hash(&cfg->t[i]) & x->mask;

	x->next[i] = x->space[b];
	x->space[b] = i;
	for (b = target_hash(&cfg->t[i].addr) & x->mask; x->target[b] >= 0; b = (b + 1) & x->mask)
		if (target_equal(&cfg->t[x->target[b]].addr, &cfg->t[i].addr))
			break;
	if (x->target[b] < 0)
		x->target[b] = i;
	x->lines = i + 1;
}

/* An index of cfg's lines, with room for room lines; NULL when out of memory. */
struct config_index *index_make(const struct config *cfg, int room)
{
	struct config_index *x = calloc(1, sizeof(*x));
	uint32_t buckets = 64;

	if (room < cfg->n)
		room = cfg->n;
	while (buckets < 2 * (uint32_t)room + 2)
		buckets *= 2;
	if (x) {
		x->space = malloc(buckets * sizeof(int));
		x->target = malloc(buckets * sizeof(int));
		x->next = malloc(((size_t)room + 1) * sizeof(int));
	}
	if (!x || !x->space || !x->target || !x->next) {
		index_free(x);
		return NULL;
	}
	memset(x->space, 0xff, buckets * sizeof(int));
	memset(x->target, 0xff, buckets * sizeof(int));
	x->mask = buckets - 1;
	x->room = room;
	for (int i = 0; i < cfg->n; i++)
		index_add(cfg, x, i);
	return x;
}

/* The first line of target a in x's config, or -1. */
int index_target(const struct config *cfg, const struct config_index *x,
		 const struct sksteer_target *a)
{
	for (uint32_t b = target_hash(a) & x->mask; x->target[b] >= 0; b = (b + 1) & x->mask)
		if (target_equal(&cfg->t[x->target[b]].addr, a))
			return x->target[b];
	return -1;
}

/* The first line of x's config in t's space at or after line *k (walking newest first), or -1. */
int index_space_next(const struct config *cfg, const struct config_index *x,
		     const struct config_target *t, int k)
{
	for (; k >= 0; k = x->next[k])
		if (config_same_space(&cfg->t[k], t))
			return k;
	return -1;
}

int index_space_first(const struct config *cfg, const struct config_index *x,
		      const struct config_target *t)
{
	return index_space_next(cfg, x, t, x->space[space_hash(t) & x->mask]);
}
