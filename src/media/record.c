/*
 * A call leg's recording, on its loop: the two directions of audio (rx, what
 * the far end sent; tx, what irisx sent) arrive at different moments and in
 * frames of their own size, so each waits in a FIFO until the other has
 * audio for the same span; a direction that stays silent for more than
 * MEDIA_RECORD_LAG_MS is filled with silence (the far end stopped sending, a
 * hold). Paired audio is mixed (saturating sum) or interleaved (stereo: rx
 * left, tx right) into blocks of 100 ms handed to the writer thread.
 * A one-direction recorder (media_recorder_create_rx) skips the pairing: rx
 * goes straight into the blocks, tx is ignored.
 */
#define LOG_MODULE "record"
#include "media/media_record_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { DIR_RX, DIR_TX };

struct media_recorder {
	struct media_record_writer *w;
	struct media__rec_file *file; /* the writer's once opened; we only post to it */
	uint32_t rate;
	int channels;
	bool rx_only;
	bool masked;
	int16_t *fifo[2];
	size_t len[2], cap;	      /* cap: samples per FIFO */
	size_t lag;		      /* samples one side may wait for the other */
	struct media__rec_msg *block; /* being filled */
	size_t block_frames;	      /* per block */
	uint64_t frames;
	int16_t *conv; /* rate conversion scratch, cap samples */
};

static struct media__rec_msg *block_new(struct media_recorder *r)
{
	struct media__rec_msg *m =
	    malloc(sizeof(*m) + r->block_frames * (size_t)r->channels * sizeof(int16_t));
	if (m) {
		m->kind = MEDIA__REC_DATA;
		m->file = r->file;
		m->frames = 0;
	}
	return m;
}

static void block_flush(struct media_recorder *r)
{
	if (!r->block || r->block->frames == 0)
		return;
	media__rec_post(r->w, r->block);
	r->block = NULL;
}

static inline int16_t sat16(int32_t v)
{
	return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : (int16_t)v;
}

/* Writes n frames: a and b (either may be NULL: silence). */
static void emit(struct media_recorder *r, const int16_t *a, const int16_t *b, size_t n)
{
	while (n > 0) {
		if (!r->block && !(r->block = block_new(r))) {
			r->frames += n; /* out of memory: the length still counts */
			return;
		}
		struct media__rec_msg *m = r->block;
		size_t take = r->block_frames - m->frames;
		if (take > n)
			take = n;
		int16_t *o = m->pcm + m->frames * (size_t)r->channels;
		for (size_t i = 0; i < take; i++) {
			int16_t x = a && !r->masked ? a[i] : 0;
			int16_t y = b && !r->masked ? b[i] : 0;
			if (r->channels == 2) {
				o[2 * i] = x;
				o[2 * i + 1] = y;
			} else {
				o[i] = sat16((int32_t)x + y);
			}
		}
		m->frames += take;
		r->frames += take;
		if (a)
			a += take;
		if (b)
			b += take;
		n -= take;
		if (m->frames == r->block_frames)
			block_flush(r);
	}
}

static void fifo_drop(struct media_recorder *r, int d, size_t n)
{
	memmove(r->fifo[d], r->fifo[d] + n, (r->len[d] - n) * sizeof(int16_t));
	r->len[d] -= n;
}

/* Writes what both FIFOs hold, and what one holds past the lag alone. */
static void pair(struct media_recorder *r, bool all)
{
	size_t both = r->len[DIR_RX] < r->len[DIR_TX] ? r->len[DIR_RX] : r->len[DIR_TX];
	if (both) {
		emit(r, r->fifo[DIR_RX], r->fifo[DIR_TX], both);
		fifo_drop(r, DIR_RX, both);
		fifo_drop(r, DIR_TX, both);
	}
	for (int d = DIR_RX; d <= DIR_TX; d++) {
		if (r->len[d] > (all ? 0 : r->lag)) {
			size_t n = r->len[d];
			emit(r, d == DIR_RX ? r->fifo[d] : NULL, d == DIR_TX ? r->fifo[d] : NULL,
			     n);
			r->len[d] = 0;
		}
	}
}

/* pcm at `rate` converted to the recording's rate into r->conv (linear). */
static size_t convert(struct media_recorder *r, const int16_t *pcm, size_t n, uint32_t rate)
{
	size_t out = (size_t)((uint64_t)n * r->rate / rate);
	if (out > r->cap)
		out = r->cap;
	for (size_t i = 0; i < out; i++) {
		uint64_t pos = (uint64_t)i * rate * 256 / r->rate; /* 8 fractional bits */
		size_t k = (size_t)(pos >> 8);
		int32_t f = (int32_t)(pos & 255);
		int32_t s0 = pcm[k < n ? k : n - 1], s1 = pcm[k + 1 < n ? k + 1 : n - 1];
		r->conv[i] = (int16_t)(s0 + (s1 - s0) * f / 256);
	}
	return out;
}

static void push(struct media_recorder *r, int d, const int16_t *pcm, size_t n, uint32_t rate)
{
	if (n == 0 || rate == 0)
		return;
	if (rate != r->rate) {
		n = convert(r, pcm, n, rate);
		pcm = r->conv;
	}
	if (r->rx_only) {
		if (d == DIR_RX)
			emit(r, pcm, NULL, n);
		return;
	}
	while (n > 0) {
		if (r->len[d] == r->cap)
			pair(r, true); /* the other side is far behind: never lose audio */
		size_t take = r->cap - r->len[d];
		if (take > n)
			take = n;
		memcpy(r->fifo[d] + r->len[d], pcm, take * sizeof(int16_t));
		r->len[d] += take;
		pcm += take;
		n -= take;
	}
	pair(r, false);
}

void media_recorder_rx(struct media_recorder *r, const int16_t *pcm, size_t samples, uint32_t rate)
{
	push(r, DIR_RX, pcm, samples, rate);
}

void media_recorder_tx(struct media_recorder *r, const int16_t *pcm, size_t samples, uint32_t rate)
{
	push(r, DIR_TX, pcm, samples, rate);
}

void media_recorder_mask(struct media_recorder *r, bool on)
{
	r->masked = on;
}

uint64_t media_recorder_frames(const struct media_recorder *r)
{
	return r->frames;
}

uint32_t media_recorder_rate(const struct media_recorder *r)
{
	return r->rate;
}

bool media_record_path_is_opus(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	return dot && !strchr(dot, '/') &&
	       (strcasecmp(dot, ".ogg") == 0 || strcasecmp(dot, ".opus") == 0);
}

/* The Opus rate a recording at `rate` is made at: the legal one at or above. */
static uint32_t opus_rate(uint32_t rate)
{
	static const uint32_t legal[] = {8000, 12000, 16000, 24000, 48000};
	for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
		if (rate <= legal[i])
			return legal[i];
	return 48000;
}

static int recorder_new(struct media_recorder **out, struct media_record_writer *w,
			const char *path, uint32_t rate, int channels, bool rx_only)
{
	if (!w || !path || !*path || rate < 1000 || rate > 192000)
		return -EINVAL;
	int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
	if (media_record_path_is_opus(path)) {
		format = SF_FORMAT_OGG | SF_FORMAT_OPUS;
		rate = opus_rate(rate);
	}
	SF_INFO check = {.samplerate = (int)rate, .channels = channels, .format = format};
	if (!sf_format_check(&check))
		return -ENOTSUP;
	int err = -ENOMEM;
	struct media_recorder *r = calloc(1, sizeof(*r));
	struct media__rec_msg *open = calloc(1, sizeof(*open));
	struct media__rec_file *f = calloc(1, sizeof(*f));
	if (!r || !open || !f || !(f->path = strdup(path)))
		goto out;
	r->w = w;
	r->rate = rate;
	r->channels = channels;
	r->rx_only = rx_only;
	r->cap = rate; /* a second each way */
	r->lag = (size_t)rate * MEDIA_RECORD_LAG_MS / 1000;
	r->block_frames = rate / 10;
	r->fifo[0] = malloc(r->cap * sizeof(int16_t));
	r->fifo[1] = malloc(r->cap * sizeof(int16_t));
	r->conv = malloc(r->cap * sizeof(int16_t));
	if (!r->fifo[0] || !r->fifo[1] || !r->conv)
		goto out;
	f->rate = rate;
	f->channels = r->channels;
	f->format = format;
	atomic_init(&f->failed, false);
	r->file = f;
	open->kind = MEDIA__REC_OPEN;
	open->file = f;
	media__rec_post(w, open);
	*out = r;
	return 0;
out:
	if (f)
		free(f->path);
	free(f);
	free(open);
	if (r) {
		free(r->fifo[0]);
		free(r->fifo[1]);
		free(r->conv);
	}
	free(r);
	return err;
}

int media_recorder_create(struct media_recorder **out, struct media_record_writer *w,
			  const char *path, uint32_t rate, bool stereo)
{
	return recorder_new(out, w, path, rate, stereo ? 2 : 1, false);
}

int media_recorder_create_rx(struct media_recorder **out, struct media_record_writer *w,
			     const char *path, uint32_t rate)
{
	return recorder_new(out, w, path, rate, 1, true);
}

int media_recorder_close(struct media_recorder *r, void (*closed_cb)(void *arg), void *arg)
{
	if (!r)
		return -EINVAL;
	pair(r, true);
	block_flush(r);
	free(r->block);
	int err = 0;
	struct media__rec_msg *close = calloc(1, sizeof(*close));
	if (close) {
		/* set before the post: from then on the file is the writer's */
		r->file->closed_cb = closed_cb;
		r->file->closed_arg = arg;
		close->kind = MEDIA__REC_CLOSE;
		close->file = r->file;
		media__rec_post(r->w, close);
	} else {
		log_err("recording %s: out of memory closing it; closed at shutdown",
			r->file->path);
		err = -ENOMEM;
	}
	free(r->fifo[0]);
	free(r->fifo[1]);
	free(r->conv);
	free(r);
	return err;
}

void media_recorder_destroy(struct media_recorder *r)
{
	if (r)
		media_recorder_close(r, NULL, NULL);
}
