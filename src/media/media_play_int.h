/*
 * Internals shared by the files that implement media.h's "Sources": the
 * library and its cache (play_library.c), file decoding (play_file.c),
 * speech (play_tts.c), resampling (play_resample.c), the cursor into cached
 * PCM (play_pcm.c), tone_stream:// (play_tone.c), silence_stream://
 * (play_silence.c). Nothing outside src/media includes this.
 */
#ifndef IRISX_MEDIA_PLAY_INT_H
#define IRISX_MEDIA_PLAY_INT_H

#include "media.h"

#include <speex/speex_resampler.h>

enum {
	MEDIA_PLAY_RATE_MIN = 1000,
	MEDIA_PLAY_RATE_MAX = 192000,
	/* speexdsp's quality scale is 0..10; 4 is transparent for speech at a
	 * small fraction of the cost of 10 (the work is done once per prompt). */
	MEDIA_PLAY_RESAMPLE_QUALITY = 4,
};

/* ---- resampling (play_resample.c) ------------------------------------------ */

/*
 * Mono float in (int16 scale), int16 out, pushed in pieces of any size. The
 * output is aligned with the input (the filter's delay is removed) and has
 * exactly round(in * out_rate / in_rate) samples. Runs in the thread pool:
 * one resampler per job, nothing shared.
 */
struct media__resampler {
	SpeexResamplerState *st; /* NULL when the rates are equal */
	uint32_t in_rate, out_rate;
	uint64_t pushed; /* input samples so far */
	int16_t *out;	 /* owned until _finish */
	size_t len, cap;
	size_t max_samples; /* -EFBIG beyond this many output samples */
};

int media__resampler_init(struct media__resampler *r, uint32_t in_rate, uint32_t out_rate,
			  size_t max_samples);
int media__resampler_push(struct media__resampler *r, const float *in, size_t n);
/* Flushes the filter; on success the caller owns *pcm (free()). */
int media__resampler_finish(struct media__resampler *r, int16_t **pcm, size_t *samples);
void media__resampler_fini(struct media__resampler *r);

/* ---- decoded audio shared by reference (play_library.c) ------------------- */

/*
 * One cache entry: a prompt decoded (or synthesized) and resampled to one
 * rate. Sources playing it hold references; unreferenced ready entries sit
 * on the library's LRU list until evicted. An entry outliving its library
 * (a stream still playing at shutdown) is an orphan freed at its last unref.
 */
struct media__entry;

void media__entry_unref(struct media__entry *e);
const int16_t *media__entry_pcm(const struct media__entry *e, size_t *samples, uint32_t *rate);

/* ---- sources (play_pcm.c, play_tone.c, play_silence.c) -------------------- */

/* A cursor into an entry's PCM; takes over the caller's reference. */
int media__pcm_source_create(struct media_source **out, struct media__entry *e);

enum {
	MEDIA_TONE_MAX_FREQS = 8,      /* per segment */
	MEDIA_TONE_MAX_SEGMENTS = 256, /* per script */
	MEDIA_TONE_MAX_MS = 3600000,   /* one segment's on or off time */
	MEDIA_TONE_MAX_REPEAT = 100000,
};

/* One tone of a script: on_ms of the sum of freqs, then off_ms of silence. */
struct media__tone_seg {
	uint32_t on_ms, off_ms;
	uint32_t repeat;		   /* l=: times in a row (1: once) */
	float freqs[MEDIA_TONE_MAX_FREQS]; /* Hz; 0 contributes nothing */
	uint8_t nfreqs;
	float volume_db;   /* v=: at the tone's start, -63..0 */
	float decay_db;	   /* +=: step per decay interval */
	uint32_t decay_ms; /* >= or <=: interval, 0: constant volume */
	int8_t decay_dir;  /* -1 (>), +1 (<) */
};

struct media__tone_script {
	struct media__tone_seg seg[MEDIA_TONE_MAX_SEGMENTS];
	size_t nseg;
	int64_t plays; /* L= × loops=; -1: forever */
};

/*
 * Parses the part after "tone_stream://" (FreeSWITCH's TGML, see
 * play_tone.c). Pure: no allocation, no logging. 0 or -EINVAL.
 */
int media__tone_parse(struct str spec, struct media__tone_script *out);
/* A source generating `script` on the fly. 0, -EINVAL or -ENOMEM. */
int media__tone_source_create(struct media_source **out, const struct media__tone_script *script,
			      uint32_t rate);
/* "MS[,noise]" after "silence_stream://". 0, -EINVAL or -ENOMEM. */
int media__silence_source_create(struct media_source **out, struct str spec, uint32_t rate);

/* ---- thread-pool jobs (play_file.c, play_tts.c) --------------------------- */

/*
 * Each job runs in libuv's thread pool and touches nothing but its own
 * fields; its result is picked up on the loop.
 */
struct media__decode_result {
	int16_t *pcm; /* owned by the job until taken */
	size_t samples;
	int err;
};

/* Decodes `path` with libsndfile, mixes to mono, resamples to `rate`. */
void media__file_decode(const char *path, uint32_t rate, size_t max_bytes,
			struct media__decode_result *res);
/*
 * Synthesizes `text` with espeak-ng (voice NULL or "": the default) and
 * resamples it to `rate`. Serialized process-wide: espeak-ng is not
 * thread-safe.
 */
void media__tts_synth(const char *text, const char *voice, uint32_t rate, size_t max_bytes,
		      struct media__decode_result *res);

#endif
