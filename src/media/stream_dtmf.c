/*
 * Sending DTMF as RFC 4733 telephone-events (§2.5: the sender's side).
 *
 * Digits wait in a queue on the stream; the stream's tick hands each frame
 * slot to the queue first (media__dtmf_slot), so events are paced exactly
 * like audio and share its SSRC and sequence space. An event:
 *  - keeps the timestamp of the slot it starts in, for all its packets
 *    (§2.5.1.1), in units of the codec's RTP clock (the clock SDP
 *    negotiates telephone-event at);
 *  - carries the marker bit on its first packet (§2.5.1.1);
 *  - sends one packet per ptime whose duration grows by a frame each time
 *    (§2.5.1.2: the duration covers up to the end of that packet's frame);
 *  - ends with three packets with the E bit and the final duration
 *    (§2.5.1.4), one per slot;
 *  - volume 10 (-10 dBm0, a typical DTMF level; §2.3.5).
 * A digit is followed by INTER_DIGIT_MS of nothing from its end before the
 * next event may start; 'w' and 'W' hold the queue 500 ms and 1 s. While the
 * queue is not empty no audio is sent (the source keeps being read in real
 * time, the bridged audio drained, so that both stay on time); the first
 * audio packet after it carries the marker.
 *
 * The duration field has 16 bits: a digit longer than fits at the clock
 * (8.19 s at 8000 Hz, 1.36 s at Opus' 48000) is sent as long as fits.
 */
#define LOG_MODULE "media"
#include "media_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	DTMF_DEFAULT_MS = 100,
	DTMF_MIN_MS = 40,
	INTER_DIGIT_MS = 50,
	PAUSE_SHORT_MS = 500, /* 'w' */
	PAUSE_LONG_MS = 1000, /* 'W' */
	END_PACKETS = 3,
	DTMF_VOLUME = 10,
	EVENT_PAUSE = 0xff, /* a queue entry that is a pause, not an event */
};

struct dtmf_entry {
	uint8_t event; /* RFC 4733 §3.2 code, or EVENT_PAUSE */
	uint16_t ms;
};

struct media__dtmf_tx {
	struct dtmf_entry q[MEDIA__DTMF_QUEUE];
	unsigned head, len;
	/* the entry in progress */
	bool active;
	struct dtmf_entry cur;
	uint32_t start_ts;
	uint32_t total;	  /* its duration in timestamp units */
	uint32_t elapsed; /* units covered by the slots sent so far */
	uint32_t hold;	  /* units from the start before the next entry may begin */
	unsigned ends;	  /* end packets sent */
};

/* RFC 4733 §3.2's event code of a DTMF digit, EVENT_PAUSE for w/W, -1 otherwise. */
static int event_of(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	switch (c) {
	case '*':
		return 10;
	case '#':
		return 11;
	case 'a':
	case 'A':
		return 12;
	case 'b':
	case 'B':
		return 13;
	case 'c':
	case 'C':
		return 14;
	case 'd':
	case 'D':
		return 15;
	case 'w':
	case 'W':
		return EVENT_PAUSE;
	}
	return -1;
}

bool media__dtmf_busy(const struct media_stream *s)
{
	return s->dtmf && (s->dtmf->active || s->dtmf->len);
}

void media__dtmf_fini(struct media_stream *s)
{
	free(s->dtmf);
	s->dtmf = NULL;
}

int media_stream_send_dtmf(struct media_stream *s, const char *digits, uint32_t duration_ms)
{
	if (!s || !digits || s->closed)
		return -EINVAL;
	if (!s->started || s->params.te_pt < 0)
		return -ENOTSUP;
	size_t n = strlen(digits);
	for (size_t i = 0; i < n; i++)
		if (event_of(digits[i]) < 0)
			return -EINVAL;
	if (n == 0)
		return 0;
	if (duration_ms == 0)
		duration_ms = DTMF_DEFAULT_MS;
	if (duration_ms < DTMF_MIN_MS)
		duration_ms = DTMF_MIN_MS;
	uint32_t max_ms = (uint32_t)(UINT16_MAX * 1000ull / s->clock_rate);
	if (duration_ms > max_ms)
		duration_ms = max_ms;
	unsigned queued = s->dtmf ? s->dtmf->len : 0;
	if (queued + n > MEDIA__DTMF_QUEUE)
		return -ENOSPC;
	if (!s->dtmf) {
		s->dtmf = calloc(1, sizeof(*s->dtmf));
		if (!s->dtmf)
			return -ENOMEM;
	}
	struct media__dtmf_tx *d = s->dtmf;
	for (size_t i = 0; i < n; i++) {
		int ev = event_of(digits[i]);
		struct dtmf_entry e = {.event = (uint8_t)ev, .ms = (uint16_t)duration_ms};
		if (ev == EVENT_PAUSE)
			e.ms = digits[i] == 'W' ? PAUSE_LONG_MS : PAUSE_SHORT_MS;
		d->q[(d->head + d->len) % MEDIA__DTMF_QUEUE] = e;
		d->len++;
	}
	return 0;
}

/* Starts the next queued entry in the slot whose timestamp is s->ts. */
static bool entry_next(struct media_stream *s)
{
	struct media__dtmf_tx *d = s->dtmf;
	if (d->len == 0)
		return false;
	d->cur = d->q[d->head];
	d->head = (d->head + 1) % MEDIA__DTMF_QUEUE;
	d->len--;
	d->active = true;
	d->start_ts = s->ts;
	d->elapsed = 0;
	d->ends = 0;
	d->total = (uint32_t)((uint64_t)d->cur.ms * s->clock_rate / 1000);
	d->hold = d->total;
	if (d->cur.event != EVENT_PAUSE)
		d->hold += INTER_DIGIT_MS * s->clock_rate / 1000;
	return true;
}

int media__dtmf_slot(struct media_stream *s, uint8_t *payload, uint32_t *ts, bool *marker,
		     bool sent)
{
	struct media__dtmf_tx *d = s->dtmf;
	if (d->active && d->elapsed >= d->hold &&
	    (d->cur.event == EVENT_PAUSE || d->ends == END_PACKETS))
		d->active = false;
	if (!d->active && !entry_next(s))
		return -1;
	bool first = d->elapsed == 0;
	d->elapsed += s->frame_ts;
	if (d->cur.event == EVENT_PAUSE || d->ends == END_PACKETS)
		return 0;
	bool end = d->elapsed >= d->total;
	uint32_t duration = end ? d->total : d->elapsed;
	payload[0] = d->cur.event;
	payload[1] = (uint8_t)((end ? 0x80 : 0) | DTMF_VOLUME);
	wr16(payload + 2, (uint16_t)duration);
	if (end && ++d->ends == END_PACKETS && sent)
		s->stats.dtmf_out++;
	*ts = d->start_ts;
	*marker = first;
	return 4;
}
