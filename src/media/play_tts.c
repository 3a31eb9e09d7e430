/*
 * Speech synthesis with libespeak-ng, for media_source_speak: the text is
 * synthesized in espeak-ng's synchronous mode (its samples arrive through a
 * callback before espeak_Synth returns, at espeak-ng's own rate, 22050 Hz
 * for its voices) and resampled to the rate asked for.
 *
 * espeak-ng keeps its state in globals and is not thread-safe, so every use
 * is serialized by one process-wide mutex; the library also submits one
 * speech job at a time, so waiting for the lock never ties up more than one
 * thread-pool thread per loop. espeak-ng is initialized on first use and
 * left initialized until the process exits (it cannot be re-initialized
 * reliably, and its data stays reachable, so leak checkers are quiet).
 */
#define LOG_MODULE "media"
#include "media_play_int.h"

#include <errno.h>
#include <espeak-ng/espeak_ng.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TTS_DEFAULT_VOICE "en-us"

enum { TTS_CHUNK = 512 };

/* espeak-ng's own state is process-wide; so is what guards it. */
static pthread_mutex_t tts_lock = PTHREAD_MUTEX_INITIALIZER;
static int tts_rate; /* espeak-ng's output rate once initialized; < 0: it failed */

struct tts_ctx {
	struct media__resampler *rs;
	int err;
};

static int tts_samples_cb(short *wav, int n, espeak_EVENT *events)
{
	struct tts_ctx *c = events ? events[0].user_data : NULL;
	float buf[TTS_CHUNK];

	if (!c || c->err < 0)
		return 1; /* abort the synthesis */
	for (int off = 0; wav && off < n; off += TTS_CHUNK) {
		int k = n - off < TTS_CHUNK ? n - off : TTS_CHUNK;
		for (int i = 0; i < k; i++)
			buf[i] = (float)wav[off + i];
		c->err = media__resampler_push(c->rs, buf, (size_t)k);
		if (c->err < 0)
			return 1;
	}
	return 0;
}

/* Under tts_lock. */
static int tts_init(void)
{
	if (tts_rate)
		return tts_rate;
	espeak_ng_ERROR_CONTEXT ctx = NULL;
	espeak_ng_InitializePath(NULL);
	espeak_ng_STATUS st = espeak_ng_Initialize(&ctx);
	if (st == ENS_OK)
		st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
	if (st != ENS_OK) {
		char msg[256];
		espeak_ng_GetStatusCodeMessage(st, msg, sizeof(msg));
		log_err("espeak-ng cannot start: %s", msg);
		espeak_ng_ClearErrorContext(&ctx);
		tts_rate = -1;
		return tts_rate;
	}
	espeak_SetSynthCallback(tts_samples_cb);
	tts_rate = espeak_ng_GetSampleRate();
	if (tts_rate < MEDIA_PLAY_RATE_MIN || tts_rate > MEDIA_PLAY_RATE_MAX)
		tts_rate = -1;
	return tts_rate;
}

void media__tts_synth(const char *text, const char *voice, uint32_t rate, size_t max_bytes,
		      struct media__decode_result *res)
{
	struct media__resampler rs;
	struct tts_ctx ctx = {.rs = &rs};

	res->pcm = NULL;
	res->samples = 0;
	memset(&rs, 0, sizeof(rs));
	pthread_mutex_lock(&tts_lock);
	int in_rate = tts_init();
	if (in_rate < 0) {
		res->err = -ENOSYS;
		goto out;
	}
	res->err = media__resampler_init(&rs, (uint32_t)in_rate, rate, max_bytes / sizeof(int16_t));
	if (res->err < 0)
		goto out;
	if (espeak_ng_SetVoiceByName(voice && *voice ? voice : TTS_DEFAULT_VOICE) != ENS_OK) {
		res->err = -ENOENT; /* no such voice */
		goto out;
	}
	espeak_ng_STATUS st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
						   espeakCHARS_UTF8 | espeakENDPAUSE, NULL, &ctx);
	if (ctx.err < 0) {
		res->err = ctx.err;
		goto out;
	}
	if (st != ENS_OK) {
		res->err = -EIO;
		goto out;
	}
	res->err = media__resampler_finish(&rs, &res->pcm, &res->samples);
out:
	pthread_mutex_unlock(&tts_lock);
	media__resampler_fini(&rs);
}
