/*
 * In-band DTMF detection: spandsp's Goertzel detector (dtmf_rx) behind a
 * small object that takes the call's audio at its own rate and reports each
 * digit once its tone ends, with how long it lasted.
 *
 * spandsp works at 8 kHz: wider audio (G.722's 16 kHz, Opus's 48 kHz) is
 * averaged down by whole factors, which keeps the DTMF band (697–1633 Hz)
 * and costs one add per sample. The realtime callback (tone on / tone off)
 * gives durations; the digits callback is not used.
 */
#define LOG_MODULE "media"
#include "media.h"

#include <errno.h>
#include <spandsp.h>
#include <stdlib.h>

enum { DETECT_RATE = 8000, DETECT_CHUNK = 160 };

struct media_dtmf_detector {
	dtmf_rx_state_t *rx;
	uint32_t rate;
	uint32_t factor; /* rate / 8000 */
	void (*digit_cb)(void *arg, char digit, uint32_t duration_ms);
	void *arg;
	char digit;	     /* the tone heard now, or 0 */
	uint64_t samples;    /* 8 kHz samples fed so far */
	uint64_t tone_start; /* when the current tone began */
	int32_t acc;	     /* the partial average of the wide input */
	uint32_t acc_n;
};

static void tone_report(void *user_data, int code, int level, int delay)
{
	struct media_dtmf_detector *d = user_data;
	(void)level;
	(void)delay;
	if (code) {
		if (d->digit && d->digit != (char)code)
			tone_report(d, 0, 0, 0); /* a new pair without silence between */
		if (!d->digit) {
			d->digit = (char)code;
			d->tone_start = d->samples;
		}
		return;
	}
	if (!d->digit)
		return;
	char digit = d->digit;
	uint32_t ms = (uint32_t)((d->samples - d->tone_start) * 1000 / DETECT_RATE);
	d->digit = 0;
	d->digit_cb(d->arg, digit, ms);
}

int media_dtmf_detector_create(struct media_dtmf_detector **out, uint32_t rate,
			       void (*digit_cb)(void *arg, char digit, uint32_t duration_ms),
			       void *arg)
{
	if (!out || !digit_cb || rate < DETECT_RATE || rate % DETECT_RATE)
		return -EINVAL;
	struct media_dtmf_detector *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->rx = dtmf_rx_init(NULL, NULL, NULL);
	if (!d->rx) {
		free(d);
		return -ENOMEM;
	}
	dtmf_rx_set_realtime_callback(d->rx, tone_report, d);
	d->rate = rate;
	d->factor = rate / DETECT_RATE;
	d->digit_cb = digit_cb;
	d->arg = arg;
	*out = d;
	return 0;
}

static void feed8k(struct media_dtmf_detector *d, const int16_t *pcm, size_t n)
{
	/* The clock advances before the tone report of this block: its duration
	 * counts up to the block where the tone stopped. */
	d->samples += n;
	dtmf_rx(d->rx, pcm, (int)n);
}

void media_dtmf_detector_feed(struct media_dtmf_detector *d, const int16_t *pcm, size_t samples)
{
	int16_t buf[DETECT_CHUNK];
	size_t n = 0;

	if (!d || !pcm)
		return;
	if (d->factor == 1) {
		while (samples) {
			size_t k = samples < DETECT_CHUNK ? samples : DETECT_CHUNK;
			feed8k(d, pcm, k);
			pcm += k;
			samples -= k;
		}
		return;
	}
	for (size_t i = 0; i < samples; i++) {
		d->acc += pcm[i];
		if (++d->acc_n < d->factor)
			continue;
		buf[n++] = (int16_t)(d->acc / (int32_t)d->factor);
		d->acc = 0;
		d->acc_n = 0;
		if (n == DETECT_CHUNK) {
			feed8k(d, buf, n);
			n = 0;
		}
	}
	if (n)
		feed8k(d, buf, n);
}

uint32_t media_dtmf_detector_rate(const struct media_dtmf_detector *d)
{
	return d ? d->rate : 0;
}

void media_dtmf_detector_destroy(struct media_dtmf_detector *d)
{
	if (!d)
		return;
	dtmf_rx_free(d->rx);
	free(d);
}
