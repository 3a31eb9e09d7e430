/*
 * Sample-rate conversion of whole prompts with speexdsp, done once per
 * (prompt, rate) in the thread pool, never on the media path.
 *
 * speexdsp's filter delays its output by half its length; the delay is
 * skipped at the start (speex_resampler_skip_zeros) and the tail pushed out
 * with zeros at the end, so that sample i of the output is the input at
 * time i / out_rate: a 1.000 s prompt stays exactly 1.000 s long and lines
 * up with the original.
 */
#include "media_play_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { RESAMPLE_CHUNK = 1024 };

int media__resampler_init(struct media__resampler *r, uint32_t in_rate, uint32_t out_rate,
			  size_t max_samples)
{
	memset(r, 0, sizeof(*r));
	if (in_rate < MEDIA_PLAY_RATE_MIN || in_rate > MEDIA_PLAY_RATE_MAX ||
	    out_rate < MEDIA_PLAY_RATE_MIN || out_rate > MEDIA_PLAY_RATE_MAX)
		return -EINVAL;
	r->in_rate = in_rate;
	r->out_rate = out_rate;
	r->max_samples = max_samples;
	if (in_rate != out_rate) {
		int err = 0;
		r->st =
		    speex_resampler_init(1, in_rate, out_rate, MEDIA_PLAY_RESAMPLE_QUALITY, &err);
		if (!r->st)
			return -ENOMEM;
		speex_resampler_skip_zeros(r->st);
	}
	return 0;
}

static int16_t to_s16(float v)
{
	if (!(v > -32768.0f)) /* also NaN */
		return v != v ? 0 : INT16_MIN;
	if (v >= 32767.0f)
		return INT16_MAX;
	return (int16_t)lrintf(v);
}

static int reserve(struct media__resampler *r, size_t more)
{
	if (r->len + more > r->max_samples)
		return -EFBIG;
	if (r->len + more <= r->cap)
		return 0;
	size_t cap = r->cap ? r->cap : 8192;
	while (cap < r->len + more)
		cap *= 2;
	int16_t *p = realloc(r->out, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	r->out = p;
	r->cap = cap;
	return 0;
}

/* Runs the filter over `n` samples of `in` (NULL: zeros) and appends its
 * output, at most `limit` samples more in all. */
static int run(struct media__resampler *r, const float *in, size_t n, size_t limit)
{
	static const float zeros[RESAMPLE_CHUNK];
	float out[RESAMPLE_CHUNK * 2];

	while (n > 0 && limit > 0) {
		spx_uint32_t in_len = n < RESAMPLE_CHUNK ? (spx_uint32_t)n : RESAMPLE_CHUNK;
		spx_uint32_t out_len = ARRAY_LEN(out);
		if (speex_resampler_process_float(r->st, 0, in ? in : zeros, &in_len, out,
						  &out_len) != RESAMPLER_ERR_SUCCESS)
			return -EINVAL;
		if (in_len == 0 && out_len == 0)
			break; /* cannot happen with out[] twice the chunk: be safe */
		size_t take = out_len < limit ? out_len : limit;
		int ret = reserve(r, take);
		if (ret < 0)
			return ret;
		for (size_t i = 0; i < take; i++)
			r->out[r->len + i] = to_s16(out[i]);
		r->len += take;
		limit -= take;
		if (in)
			in += in_len;
		n -= in_len;
	}
	return 0;
}

int media__resampler_push(struct media__resampler *r, const float *in, size_t n)
{
	r->pushed += n;
	if (!r->st) {
		int ret = reserve(r, n);
		if (ret < 0)
			return ret;
		for (size_t i = 0; i < n; i++)
			r->out[r->len + i] = to_s16(in[i]);
		r->len += n;
		return 0;
	}
	return run(r, in, n, SIZE_MAX);
}

int media__resampler_finish(struct media__resampler *r, int16_t **pcm, size_t *samples)
{
	uint64_t want = (r->pushed * r->out_rate + r->in_rate / 2) / r->in_rate;
	if (want > r->max_samples)
		return -EFBIG;
	if (r->st && r->len < want) {
		/* Push zeros through until the delayed tail is out. */
		size_t zeros = (size_t)speex_resampler_get_input_latency(r->st) + RESAMPLE_CHUNK;
		int ret = run(r, NULL, zeros, (size_t)want - r->len);
		if (ret < 0)
			return ret;
	}
	/* Padding, should the filter have produced less (it does not): silence. */
	if (r->len < want) {
		int ret = reserve(r, (size_t)want - r->len);
		if (ret < 0)
			return ret;
		memset(r->out + r->len, 0, ((size_t)want - r->len) * sizeof(int16_t));
	}
	r->len = (size_t)want;
	int16_t *p = r->out;
	if (r->len && r->len < r->cap) {
		int16_t *shrunk = realloc(p, r->len * sizeof(*p));
		if (shrunk)
			p = shrunk;
	}
	if (!r->len) {
		free(p);
		p = NULL;
	}
	r->out = NULL;
	r->cap = 0;
	*pcm = p;
	*samples = (size_t)want;
	return 0;
}

void media__resampler_fini(struct media__resampler *r)
{
	if (r->st)
		speex_resampler_destroy(r->st);
	free(r->out);
	memset(r, 0, sizeof(*r));
}
