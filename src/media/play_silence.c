/*
 * silence_stream://MS[,NOISE]: MS milliseconds of silence, -1 for silence
 * that never ends (a "park" or a wait that something else interrupts).
 *
 * FreeSWITCH's optional second number asks for comfort noise (the smaller,
 * the louder). It is accepted, checked to be a number, and ignored: the
 * output is digital silence. Noise would only matter to a listener on a
 * codec without comfort-noise generation of its own, and plain silence keeps
 * the source trivially cheap and exact.
 */
#include "media_play_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { SILENCE_MAX_MS = 24 * 3600 * 1000 };

struct silence_source {
	struct media_source base;
	bool endless;
	uint32_t rate;
	uint64_t left; /* samples at `rate` */
};

static size_t silence_read(struct media_source *src, int16_t *pcm, size_t n, uint32_t rate)
{
	struct silence_source *s = (struct silence_source *)src;

	if (rate && rate != s->rate) {
		s->left = s->left * rate / s->rate;
		s->rate = rate;
	}
	if (!s->endless && s->left < n)
		n = (size_t)s->left;
	memset(pcm, 0, n * sizeof(*pcm));
	if (!s->endless)
		s->left -= n;
	return n;
}

static void silence_destroy(struct media_source *src)
{
	free(src);
}

static const struct media_source_ops silence_ops = {.read = silence_read,
						    .destroy = silence_destroy};

int media__silence_source_create(struct media_source **out, struct str spec, uint32_t rate)
{
	struct str ms = spec, noise = STR_NULL;
	ptrdiff_t comma = str_find_char(spec, ',');
	uint32_t v;

	if (rate < MEDIA_PLAY_RATE_MIN || rate > MEDIA_PLAY_RATE_MAX)
		return -EINVAL;
	if (comma >= 0) {
		ms = str_make(spec.p, (size_t)comma);
		noise = str_trim(str_make(spec.p + comma + 1, spec.len - (size_t)comma - 1));
		if (str_to_u32(noise, &v) < 0)
			return -EINVAL;
	}
	ms = str_trim(ms);
	bool endless = str_eq(ms, STR("-1"));
	if (!endless && (str_to_u32(ms, &v) < 0 || v > SILENCE_MAX_MS))
		return -EINVAL;

	struct silence_source *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base.ops = &silence_ops;
	s->endless = endless;
	s->rate = rate;
	s->left = endless ? 0 : (uint64_t)v * rate / 1000;
	*out = &s->base;
	return 0;
}
