/*
 * The transaction layer's hash tables and their hash function.
 *
 * Tables are intrusive (the node lives in the transaction) with separate
 * chaining and a power-of-two bucket array. They double when the load passes
 * one entry per bucket and halve when it falls under one in eight, so a burst
 * of tens of thousands of transactions does not pin its bucket array forever.
 *
 * Keys are hashed with SipHash-2-4 (Aumasson and Bernstein, 2012) under a
 * per-layer random key: branches, Call-IDs and tags are chosen by peers, and
 * an unkeyed hash would let one of them line up every transaction in a chain.
 */
#include "sip_txn_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { HTAB_MIN_BUCKETS = 64 };

/* ---- SipHash-2-4 ------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void siphash_round(struct sip__hasher *hs)
{
	hs->v0 += hs->v1;
	hs->v1 = rotl(hs->v1, 13);
	hs->v1 ^= hs->v0;
	hs->v0 = rotl(hs->v0, 32);
	hs->v2 += hs->v3;
	hs->v3 = rotl(hs->v3, 16);
	hs->v3 ^= hs->v2;
	hs->v0 += hs->v3;
	hs->v3 = rotl(hs->v3, 21);
	hs->v3 ^= hs->v0;
	hs->v2 += hs->v1;
	hs->v1 = rotl(hs->v1, 17);
	hs->v1 ^= hs->v2;
	hs->v2 = rotl(hs->v2, 32);
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void compress(struct sip__hasher *hs, uint64_t m)
{
	hs->v3 ^= m;
	siphash_round(hs);
	siphash_round(hs);
	hs->v0 ^= m;
}

void sip__hash_begin(struct sip__hasher *hs, const uint8_t key[16])
{
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	hs->v0 = k0 ^ 0x736f6d6570736575ull;
	hs->v1 = k1 ^ 0x646f72616e646f6dull;
	hs->v2 = k0 ^ 0x6c7967656e657261ull;
	hs->v3 = k1 ^ 0x7465646279746573ull;
	hs->tail = 0;
	hs->total = 0;
}

void sip__hash_feed(struct sip__hasher *hs, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		hs->tail |= (uint64_t)p[i] << (8 * (hs->total & 7));
		hs->total++;
		if ((hs->total & 7) == 0) {
			compress(hs, hs->tail);
			hs->tail = 0;
		}
	}
}

uint64_t sip__hash_end(struct sip__hasher *hs)
{
	compress(hs, hs->tail | ((uint64_t)(hs->total & 0xff) << 56));
	hs->v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		siphash_round(hs);
	return hs->v0 ^ hs->v1 ^ hs->v2 ^ hs->v3;
}

/* ---- chained table ------------------------------------------------------------ */

static int htab_alloc(struct sip__htab *t, size_t buckets)
{
	struct sip__hnode **b = calloc(buckets, sizeof(*b));
	if (!b)
		return -ENOMEM;
	t->b = b;
	t->mask = buckets - 1;
	return 0;
}

int sip__htab_init(struct sip__htab *t)
{
	t->n = 0;
	return htab_alloc(t, HTAB_MIN_BUCKETS);
}

void sip__htab_fini(struct sip__htab *t)
{
	free(t->b);
	t->b = NULL;
	t->mask = 0;
	t->n = 0;
}

static void htab_rehash(struct sip__htab *t, size_t buckets)
{
	struct sip__htab nt;
	if (htab_alloc(&nt, buckets))
		return; /* keep the old array: longer chains, still correct */
	for (size_t i = 0; i <= t->mask; i++) {
		struct sip__hnode *n = t->b[i];
		while (n) {
			struct sip__hnode *next = n->next;
			size_t j = n->hash & nt.mask;
			n->next = nt.b[j];
			nt.b[j] = n;
			n = next;
		}
	}
	free(t->b);
	t->b = nt.b;
	t->mask = nt.mask;
}

void sip__htab_insert(struct sip__htab *t, struct sip__hnode *node, uint64_t hash)
{
	if (t->n + 1 > t->mask + 1)
		htab_rehash(t, (t->mask + 1) * 2);
	size_t i = hash & t->mask;
	node->hash = hash;
	node->next = t->b[i];
	t->b[i] = node;
	t->n++;
}

void sip__htab_remove(struct sip__htab *t, struct sip__hnode *node)
{
	struct sip__hnode **pp = &t->b[node->hash & t->mask];
	while (*pp && *pp != node)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = node->next;
	node->next = NULL;
	t->n--;
	if (t->mask + 1 > HTAB_MIN_BUCKETS && t->n < (t->mask + 1) / 8)
		htab_rehash(t, (t->mask + 1) / 2);
}

struct sip__hnode *sip__htab_first(const struct sip__htab *t, uint64_t hash)
{
	struct sip__hnode *n = t->b[hash & t->mask];
	while (n && n->hash != hash)
		n = n->next;
	return n;
}

struct sip__hnode *sip__htab_next(const struct sip__hnode *node, uint64_t hash)
{
	struct sip__hnode *n = node->next;
	while (n && n->hash != hash)
		n = n->next;
	return n;
}
