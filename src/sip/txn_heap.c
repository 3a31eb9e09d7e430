/*
 * The transaction layer's timer heap: a binary min-heap of pointers to timers
 * embedded in transactions, ordered by (deadline, arming sequence).
 *
 * Each timer records its own index, so cancelling or re-arming one is a sift
 * from where it sits — O(log n) — rather than a search. The heap array is
 * grown by the layer ahead of need (sip__heap_reserve) so that arming a timer
 * from inside a state machine can never fail half-way through a transition.
 */
#include "sip_txn_int.h"

#include <errno.h>
#include <stdlib.h>

enum { HEAP_MIN_CAP = 64 };

void sip__heap_init(struct sip__heap *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
	h->seq = 0;
}

void sip__heap_fini(struct sip__heap *h)
{
	/* The timers' owners may be gone already: do not touch them. */
	free(h->v);
	sip__heap_init(h);
}

static int heap_resize(struct sip__heap *h, size_t cap)
{
	struct sip__timer **v = realloc(h->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

int sip__heap_reserve(struct sip__heap *h, size_t n)
{
	if (n <= h->cap)
		return 0;
	size_t cap = h->cap ? h->cap : HEAP_MIN_CAP;
	while (cap < n)
		cap *= 2;
	return heap_resize(h, cap);
}

void sip__heap_shrink(struct sip__heap *h, size_t n_max)
{
	/* Halve only when a quarter would do, so that a load hovering around a
	 * power of two does not make every transaction reallocate. */
	if (h->cap <= HEAP_MIN_CAP || n_max * 4 > h->cap || h->n * 2 > h->cap)
		return;
	(void)heap_resize(h, h->cap / 2); /* failing to shrink is harmless */
}

static bool before(const struct sip__timer *a, const struct sip__timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(struct sip__heap *h, size_t i, struct sip__timer *t)
{
	h->v[i] = t;
	t->idx = (uint32_t)i;
}

static void sift_up(struct sip__heap *h, size_t i)
{
	struct sip__timer *t = h->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(t, h->v[parent]))
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, t);
}

static void sift_down(struct sip__heap *h, size_t i)
{
	struct sip__timer *t = h->v[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n && before(h->v[child + 1], h->v[child]))
			child++;
		if (!before(h->v[child], t))
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, t);
}

void sip__heap_cancel(struct sip__heap *h, struct sip__timer *t)
{
	if (t->idx == SIP__TIMER_IDLE)
		return;
	size_t i = t->idx;
	t->idx = SIP__TIMER_IDLE;
	h->n--;
	if (i == h->n)
		return;
	/* Fill the hole with the last element and let it find its place: it may
	 * need to go either way, since it came from another subtree. */
	place(h, i, h->v[h->n]);
	if (i > 0 && before(h->v[i], h->v[(i - 1) / 2]))
		sift_up(h, i);
	else
		sift_down(h, i);
}

int sip__heap_arm(struct sip__heap *h, struct sip__timer *t, uint64_t due)
{
	sip__heap_cancel(h, t);
	if (h->n == h->cap) {
		int err = sip__heap_reserve(h, h->n + 1);
		if (err)
			return err;
	}
	t->due = due;
	t->seq = h->seq++;
	place(h, h->n++, t);
	sift_up(h, t->idx);
	return 0;
}
