/*
 * An intrusive, chained hash map that doubles when its load passes 1.
 */
#include "base.h"

#include <errno.h>
#include <stdlib.h>

enum { HMAP_INITIAL = 64 };

void hmap_init(struct hmap *m)
{
	m->buckets = NULL;
	m->mask = 0;
	m->count = 0;
}

void hmap_fini(struct hmap *m)
{
	free(m->buckets);
	hmap_init(m);
}

static int hmap_grow(struct hmap *m)
{
	size_t n = m->buckets ? (m->mask + 1) * 2 : HMAP_INITIAL;
	struct hmap_node **b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; m->buckets && i <= m->mask; i++) {
		struct hmap_node *node = m->buckets[i];
		while (node) {
			struct hmap_node *next = node->next;
			size_t j = node->hash & (n - 1);
			node->next = b[j];
			b[j] = node;
			node = next;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->mask = n - 1;
	return 0;
}

int hmap_insert(struct hmap *m, struct hmap_node *node, uint64_t hash)
{
	int err = 0;
	if (!m->buckets || m->count >= m->mask + 1)
		err = hmap_grow(m);
	if (!m->buckets)
		return -ENOMEM;
	node->hash = hash;
	size_t i = hash & m->mask;
	node->next = m->buckets[i];
	m->buckets[i] = node;
	m->count++;
	return err;
}

void hmap_remove(struct hmap *m, struct hmap_node *node)
{
	struct hmap_node **pp = &m->buckets[node->hash & m->mask];
	while (*pp && *pp != node)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = node->next;
		m->count--;
	}
}

struct hmap_node *hmap_first(const struct hmap *m, uint64_t hash)
{
	if (!m->buckets)
		return NULL;
	struct hmap_node *node = m->buckets[hash & m->mask];
	while (node && node->hash != hash)
		node = node->next;
	return node;
}

struct hmap_node *hmap_next(const struct hmap_node *node)
{
	uint64_t hash = node->hash;
	node = node->next;
	while (node && node->hash != hash)
		node = node->next;
	return (struct hmap_node *)node;
}

uint64_t hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ull ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

uint64_t hash_str(struct str s)
{
	return hash_bytes(s.p, s.len, 0);
}

uint64_t hash_str_i(struct str s)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		h ^= c;
		h *= 1099511628211ull;
	}
	return h;
}
