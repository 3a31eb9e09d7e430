/*
 * The arena a loaded configuration lives in: blocks of bump-allocated memory
 * freed together. Configuration is read once and kept until it is replaced,
 * so nothing in it is freed on its own.
 */
#include "config_int.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK_SIZE = 16 * 1024 };

struct config__block {
	struct config__block *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

void *config__alloc(struct config__arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct config__block *b = a->head;

	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	if (!b || b->size - b->used < size) {
		/* A large request gets a block of its own, behind the current one,
		 * so the space left in the current block stays usable. */
		size_t bsize = size > BLOCK_SIZE / 4 ? size : BLOCK_SIZE;
		struct config__block *nb = malloc(sizeof(*nb) + bsize);
		if (!nb)
			return NULL;
		nb->used = 0;
		nb->size = bsize;
		if (b && bsize != BLOCK_SIZE) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += size;
	a->total += size;
	memset(p, 0, size);
	return p;
}

char *config__strndup(struct config__arena *a, const char *s, size_t n)
{
	char *p = config__alloc(a, n + 1);
	if (p && n)
		memcpy(p, s, n);
	return p;
}

char *config__strdup(struct config__arena *a, const char *s)
{
	return config__strndup(a, s, strlen(s));
}

void config__arena_fini(struct config__arena *a)
{
	struct config__block *b = a->head;
	while (b) {
		struct config__block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}
