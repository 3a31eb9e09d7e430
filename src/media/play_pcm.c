/*
 * A source playing cached PCM (a decoded file or synthesized speech): a
 * cursor and a reference to the shared samples, a few dozen bytes per call
 * however long the prompt.
 *
 * The PCM was resampled to the rate given at open. Should a read ask for
 * another rate (the call changed codec mid-prompt), the cursor steps through
 * the samples at the ratio of the rates and interpolates linearly: no
 * allocation and no filter state, at a quality fit for the rest of one
 * prompt; the next open gets properly resampled audio.
 */
#include "media_play_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pcm_source {
	struct media_source base;
	struct media__entry *entry; /* a reference */
	const int16_t *pcm;	    /* the entry's, valid while the reference is held */
	size_t samples;
	uint32_t rate;
	uint64_t pos; /* 32.32 fixed point, in samples at `rate` */
};

static size_t pcm_read(struct media_source *src, int16_t *out, size_t n, uint32_t rate)
{
	struct pcm_source *s = (struct pcm_source *)src;
	uint64_t end = (uint64_t)s->samples << 32;

	if (s->pos >= end)
		return 0;
	if (rate == s->rate || rate == 0) {
		size_t at = (size_t)(s->pos >> 32);
		size_t k = s->samples - at < n ? s->samples - at : n;
		memcpy(out, s->pcm + at, k * sizeof(*out));
		s->pos += (uint64_t)k << 32;
		return k;
	}
	uint64_t step = ((uint64_t)s->rate << 32) / rate;
	size_t k = 0;
	while (k < n && s->pos < end) {
		size_t at = (size_t)(s->pos >> 32);
		int32_t a = s->pcm[at];
		int32_t b = at + 1 < s->samples ? s->pcm[at + 1] : a;
		int32_t frac = (int32_t)((s->pos >> 16) & 0xffff);
		out[k++] = (int16_t)(a + (((b - a) * frac) >> 16));
		s->pos += step;
	}
	return k;
}

static void pcm_destroy(struct media_source *src)
{
	struct pcm_source *s = (struct pcm_source *)src;
	media__entry_unref(s->entry);
	free(s);
}

static const struct media_source_ops pcm_ops = {.read = pcm_read, .destroy = pcm_destroy};

int media__pcm_source_create(struct media_source **out, struct media__entry *e)
{
	struct pcm_source *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base.ops = &pcm_ops;
	s->entry = e;
	s->pcm = media__entry_pcm(e, &s->samples, &s->rate);
	*out = &s->base;
	return 0;
}
