/*
 * The codec table and the encoder/decoder wrappers a stream uses.
 *
 *  - PCMU/PCMA: our own G.711 (codec_g711.c), no state (RFC 3551 §4.5.14).
 *  - G722: spandsp at 64 kbit/s; 16 kHz audio carried on an 8000 Hz RTP clock
 *    (RFC 3551 §4.5.2), so a 20 ms frame is 320 samples, 160 bytes and 160
 *    timestamp units.
 *  - Opus: libopus at 48 kHz (RFC 7587 §4.1: the RTP clock is always 48000).
 *    The encoder is mono VoIP at one frame per packet; the decoder is mono
 *    and downmixes stereo packets (RFC 7587 §3.4 lets a receiver do so).
 *
 * Ptime: G.711 and G.722 accept any multiple of 10 ms up to 120 ms, which is
 * the granularity the engine's tick serves; Opus frames are 10, 20, 40 or
 * 60 ms. A negotiated ptime is rounded to the nearest one this side sends
 * (a=ptime is a preference, RFC 4566 §6).
 */
#define LOG_MODULE "media"
#include "media_int.h"

#include <errno.h>
#include <opus/opus.h>
#include <spandsp.h>

struct codec_desc {
	const char *name;
	uint32_t audio_rate;
	uint32_t clock_rate;
	int static_pt;
	int silence_byte; /* -1: silence has to be encoded */
};

static const struct codec_desc codecs[] = {
    [MEDIA_CODEC_PCMU] = {"PCMU", 8000, 8000, 0, 0xff},
    [MEDIA_CODEC_PCMA] = {"PCMA", 8000, 8000, 8, 0xd5},
    [MEDIA_CODEC_G722] = {"G722", 16000, 8000, 9, -1},
    [MEDIA_CODEC_OPUS] = {"opus", 48000, 48000, -1, -1},
};

enum {
	OPUS_BITRATE = 32000,
	OPUS_COMPLEXITY =
	    5, /* about half the CPU of the default for little audible loss on voice */
};

bool media__codec_valid(enum media_codec_id id)
{
	return (unsigned)id < ARRAY_LEN(codecs);
}

uint32_t media_codec_audio_rate(enum media_codec_id id)
{
	return media__codec_valid(id) ? codecs[id].audio_rate : 0;
}

uint32_t media_codec_clock_rate(enum media_codec_id id)
{
	return media__codec_valid(id) ? codecs[id].clock_rate : 0;
}

const char *media_codec_name(enum media_codec_id id)
{
	return media__codec_valid(id) ? codecs[id].name : "unknown";
}

int media_codec_static_pt(enum media_codec_id id)
{
	return media__codec_valid(id) ? codecs[id].static_pt : -1;
}

int media_codec_find(struct str name, enum media_codec_id *out)
{
	for (size_t i = 0; i < ARRAY_LEN(codecs); i++) {
		if (str_ieq_cstr(name, codecs[i].name)) {
			if (out)
				*out = (enum media_codec_id)i;
			return 0;
		}
	}
	return -ENOENT;
}

int media__codec_silence_byte(enum media_codec_id id)
{
	return codecs[id].silence_byte;
}

uint32_t media__codec_ptime(enum media_codec_id id, uint32_t ptime_ms)
{
	if (ptime_ms == 0)
		return 20;
	if (id == MEDIA_CODEC_OPUS) {
		if (ptime_ms < 15)
			return 10;
		if (ptime_ms < 30)
			return 20;
		if (ptime_ms < 50)
			return 40;
		return 60;
	}
	uint32_t r = (ptime_ms + 5) / 10 * 10;
	if (r < 10)
		r = 10;
	return r > MEDIA__PTIME_MAX ? MEDIA__PTIME_MAX : r;
}

int media__encoder_init(struct media__codec *c, enum media_codec_id id)
{
	c->id = id;
	c->state = NULL;
	switch (id) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		return 0;
	case MEDIA_CODEC_G722:
		c->state = g722_encode_init(NULL, 64000, 0);
		return c->state ? 0 : -ENOMEM;
	case MEDIA_CODEC_OPUS: {
		int err = 0;
		OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
		if (!enc)
			return err == OPUS_ALLOC_FAIL ? -ENOMEM : -EINVAL;
		opus_encoder_ctl(enc, OPUS_SET_BITRATE(OPUS_BITRATE));
		opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(OPUS_COMPLEXITY));
		opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
		c->state = enc;
		return 0;
	}
	}
	return -EINVAL;
}

int media__decoder_init(struct media__codec *c, enum media_codec_id id)
{
	c->id = id;
	c->state = NULL;
	switch (id) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		return 0;
	case MEDIA_CODEC_G722:
		c->state = g722_decode_init(NULL, 64000, 0);
		return c->state ? 0 : -ENOMEM;
	case MEDIA_CODEC_OPUS: {
		int err = 0;
		c->state = opus_decoder_create(48000, 1, &err);
		return c->state ? 0 : -ENOMEM;
	}
	}
	return -EINVAL;
}

void media__codec_fini(struct media__codec *c, bool encoder)
{
	if (!c->state)
		return;
	if (c->id == MEDIA_CODEC_G722) {
		if (encoder)
			g722_encode_free(c->state);
		else
			g722_decode_free(c->state);
	} else if (c->id == MEDIA_CODEC_OPUS) {
		if (encoder)
			opus_encoder_destroy(c->state);
		else
			opus_decoder_destroy(c->state);
	}
	c->state = NULL;
}

int media__codec_encode(struct media__codec *c, const int16_t *pcm, size_t samples, uint8_t *dst,
			size_t cap)
{
	switch (c->id) {
	case MEDIA_CODEC_PCMU:
		if (samples > cap)
			return -ENOSPC;
		media__ulaw_encode(dst, pcm, samples);
		return (int)samples;
	case MEDIA_CODEC_PCMA:
		if (samples > cap)
			return -ENOSPC;
		media__alaw_encode(dst, pcm, samples);
		return (int)samples;
	case MEDIA_CODEC_G722:
		if (samples / 2 > cap || !c->state)
			return -ENOSPC;
		return g722_encode(c->state, dst, pcm, (int)samples);
	case MEDIA_CODEC_OPUS: {
		if (!c->state)
			return -EINVAL;
		int n = opus_encode(c->state, pcm, (int)samples, dst, (opus_int32)cap);
		return n < 0 ? -EINVAL : n;
	}
	}
	return -EINVAL;
}

int media__codec_decode(struct media__codec *c, const uint8_t *payload, size_t len, int16_t *dst,
			size_t cap)
{
	int n = media__codec_payload_samples(c->id, payload, len);
	if (n < 0)
		return n;
	if ((size_t)n > cap)
		return -ENOSPC;
	switch (c->id) {
	case MEDIA_CODEC_PCMU:
		media__ulaw_decode(dst, payload, len);
		return n;
	case MEDIA_CODEC_PCMA:
		media__alaw_decode(dst, payload, len);
		return n;
	case MEDIA_CODEC_G722:
		return c->state ? g722_decode(c->state, dst, payload, (int)len) : -EINVAL;
	case MEDIA_CODEC_OPUS: {
		if (!c->state)
			return -EINVAL;
		int got = opus_decode(c->state, payload, (opus_int32)len, dst, (int)cap, 0);
		return got < 0 ? -EBADMSG : got;
	}
	}
	return -EINVAL;
}

int media__codec_payload_samples(enum media_codec_id id, const uint8_t *payload, size_t len)
{
	if (len == 0 || len > MEDIA__PAYLOAD_MAX)
		return -EBADMSG;
	switch (id) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		return (int)len;
	case MEDIA_CODEC_G722:
		return (int)len * 2; /* 4 bits a sample at 64 kbit/s and 16 kHz */
	case MEDIA_CODEC_OPUS: {
		int n = opus_packet_get_nb_samples(payload, (opus_int32)len, 48000);
		return n <= 0 || n > MEDIA__FRAME_MAX ? -EBADMSG : n;
	}
	}
	return -EINVAL;
}
