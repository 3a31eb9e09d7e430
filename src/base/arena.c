/*
 * Arenas: chained blocks, bump allocation, freed whole. Large requests get
 * a block of their own so that a long string never wastes a block's tail.
 */
#include "base.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size; /* usable bytes in data[] */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

void arena_init(struct arena *a, size_t block_size)
{
	a->head = NULL;
	a->block_size = block_size ? block_size : 4096;
	a->total = 0;
}

void arena_fini(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;

	if (a->block_size == 0)
		a->block_size = 4096; /* a zero-initialized arena works */
	a->total += size;
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		size_t cap = size > a->block_size / 2 ? size : a->block_size;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->size = cap;
		b->used = 0;
		if (cap == a->block_size || !a->head) {
			b->next = a->head;
			a->head = b;
		} else {
			/* An oversized block goes behind the current one, which keeps its room. */
			b->next = a->head->next;
			a->head->next = b;
		}
	}
	void *p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, struct str s)
{
	char *p = arena_alloc(a, s.len + 1);
	if (p && s.len)
		memcpy(p, s.p, s.len);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, str_from_cstr(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap, again;
	va_start(ap, fmt);
	va_copy(again, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = n < 0 ? NULL : arena_alloc(a, (size_t)n + 1);
	if (p)
		vsnprintf(p, (size_t)n + 1, fmt, again);
	va_end(again);
	return p;
}
