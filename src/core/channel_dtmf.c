/*
 * Received DTMF as one stream, whatever carried it: RFC 4733 events (the
 * media layer's dtmf_cb), SIP INFO (the endpoint's info_cb) and tones heard
 * in the audio (spandsp's detector, only while a call asks for it). Each
 * digit fires a DTMF event (FreeSWITCH's DTMF-Digit, DTMF-Duration,
 * DTMF-Source) and then:
 *  - bridged, goes to the other leg in that leg's mode (dtmf_type: rfc2833,
 *    info, none); an RFC 4733 event the media layer relayed already is not
 *    sent twice;
 *  - otherwise waits in the channel's bounded queue for the applications
 *    (read, play_and_get_digits, ivr), stops a prompt that allows barge-in,
 *    feeds a collection in progress (OP_COLLECT) and the terminators of a
 *    recording (OP_RECORD).
 */
#define LOG_MODULE "core"
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct channel_dtmf {
	char q[CORE_DTMF_QUEUE]; /* a ring */
	size_t head, count;
	uint64_t dropped;
	bool barge;
	struct media_dtmf_detector *det; /* while in-band detection runs */
};

static struct channel_dtmf *dtmf_of(struct channel *ch)
{
	if (!ch->dtmf)
		ch->dtmf = arena_alloc(&ch->arena, sizeof(*ch->dtmf));
	return ch->dtmf;
}

enum dtmf_mode { MODE_RFC2833, MODE_INFO, MODE_INBAND, MODE_NONE };

static enum dtmf_mode dtmf_mode(const struct channel *ch)
{
	const char *t = channel_var(ch, "dtmf_type");
	if (t && strcasecmp(t, "info") == 0)
		return MODE_INFO;
	if (t && strcasecmp(t, "none") == 0)
		return MODE_NONE;
	if (t && strcasecmp(t, "inband") == 0)
		return MODE_INBAND;
	return MODE_RFC2833;
}

void core__dtmf_bridge(struct channel *a, struct channel *b)
{
	struct channel *legs[2] = {a, b};
	for (size_t i = 0; i < 2; i++)
		if (legs[i]->media && legs[i]->media->stream)
			media_stream_dtmf_relay(legs[i]->media->stream,
						dtmf_mode(legs[i]) == MODE_RFC2833);
}

struct dtmf_ev {
	char digit;
	uint32_t ms;
	enum core_dtmf_source src;
};

static void dtmf_extra(void *arg, struct core_event *ev)
{
	const struct dtmf_ev *d = arg;
	core_event_add_header(ev, "DTMF-Digit", "%c", d->digit);
	core_event_add_header(ev, "DTMF-Duration", "%u", d->ms * 8); /* in 8 kHz samples */
	core_event_add_header(ev, "DTMF-Source", "%s", core_dtmf_source_name(d->src));
}

/* The digit goes on to the other leg of a bridge, in that leg's mode. */
static void dtmf_relay(struct channel *from, struct channel *to, char digit, uint32_t ms,
		       enum core_dtmf_source src)
{
	enum dtmf_mode mode = dtmf_mode(to);
	if (mode == MODE_NONE)
		return;
	/* The media layer relays RFC 4733 to a leg that negotiated it. */
	if (mode == MODE_RFC2833 && src == CORE_DTMF_RTP && to->media &&
	    to->media->params.te_pt >= 0)
		return;
	char s[2] = {digit, '\0'};
	int err = channel_send_dtmf(to, s, ms);
	if (err)
		log_info("[%s] DTMF %c not relayed to %s: %s", from->uuid, digit, to->uuid,
			 strerror(-err));
}

static bool collect_take(struct channel *ch, struct channel_collect *c, char d)
{
	if (c->terminators && strchr(c->terminators, d)) {
		c->terminator = d;
		return true;
	}
	c->digits[c->count++] = d;
	c->digits[c->count] = '\0';
	return c->count >= c->max;
}

static void collect_timer_cb(uv_timer_t *t)
{
	struct channel *ch = t->data;
	if (ch->op && ch->op->kind == OP_COLLECT)
		core__op_finish(ch, -ETIMEDOUT);
}

/* Takes queued digits into the collection; finishes it or (re)arms its timer. */
static void collect_run(struct channel *ch)
{
	struct channel_op *op = ch->op;
	struct channel_collect *c = op->collect;
	char d;

	while (channel_dtmf_pop(ch, &d) == 0) {
		if (collect_take(ch, c, d)) {
			core__op_finish(ch, 0);
			return;
		}
	}
	uint32_t ms = c->count && c->digit_timeout_ms ? c->digit_timeout_ms : c->first_timeout_ms;
	uv_timer_start(op->timer, collect_timer_cb, ms, 0);
}

void core__collect_start(struct channel *ch)
{
	collect_run(ch);
}

void channel_dtmf_receive(struct channel *ch, char digit, uint32_t duration_ms,
			  enum core_dtmf_source src)
{
	if (!ch || !channel_up(ch))
		return;
	struct dtmf_ev ev = {digit, duration_ms, src};
	log_info("[%s] DTMF %c (%u ms, %s)", ch->uuid, digit, duration_ms,
		 core_dtmf_source_name(src));
	channel_event_fire(ch, "DTMF", dtmf_extra, &ev);

	struct channel *peer = ch->bridged;
	if (peer && channel_up(peer)) {
		dtmf_relay(ch, peer, digit, duration_ms, src);
		return;
	}
	struct channel_dtmf *q = dtmf_of(ch);
	if (!q)
		return;
	if (q->count == CORE_DTMF_QUEUE) {
		/* Nobody reads them: the newest go, the typed-ahead entry stays whole. */
		if (q->dropped++ == 0)
			log_notice("[%s] DTMF queue full (%d): digits dropped", ch->uuid,
				   CORE_DTMF_QUEUE);
		return;
	}
	q->q[(q->head + q->count) % CORE_DTMF_QUEUE] = digit;
	q->count++;

	struct channel_op *op = ch->op;
	if (!op)
		return;
	if (op->kind == OP_COLLECT)
		collect_run(ch);
	else if (op->kind == OP_RECORD)
		core__record_read_digits(ch);
	else if (q->barge && (op->kind == OP_PLAYING || op->kind == OP_OPENING))
		core__op_finish(ch, -EINTR);
}

int channel_dtmf_pop(struct channel *ch, char *digit)
{
	struct channel_dtmf *q = ch->dtmf;
	if (!q || q->count == 0)
		return -EAGAIN;
	*digit = q->q[q->head];
	q->head = (q->head + 1) % CORE_DTMF_QUEUE;
	q->count--;
	return 0;
}

size_t channel_dtmf_queued(const struct channel *ch)
{
	return ch->dtmf ? ch->dtmf->count : 0;
}

void channel_dtmf_flush(struct channel *ch)
{
	if (ch->dtmf)
		ch->dtmf->head = ch->dtmf->count = 0;
}

void channel_dtmf_barge(struct channel *ch, bool on)
{
	struct channel_dtmf *q = on ? dtmf_of(ch) : ch->dtmf;
	if (q)
		q->barge = on;
}

int channel_collect_digits(struct channel *ch, struct channel_collect *c, channel_done_cb cb,
			   void *arg)
{
	if (!ch || !c || c->max == 0 || c->max > CORE_DTMF_MAX)
		return -EINVAL;
	if (!channel_up(ch))
		return -ESHUTDOWN;
	c->count = 0;
	c->digits[0] = '\0';
	c->terminator = '\0';
	struct channel_op *op = core__op_begin(ch, OP_COLLECT, cb, arg);
	if (!op)
		return -ENOMEM;
	op->collect = c;
	op->timer = malloc(sizeof(*op->timer));
	if (!op->timer) {
		free(op);
		ch->op = NULL;
		return -ENOMEM;
	}
	uv_timer_init(ch->core->loop, op->timer);
	op->timer->data = ch;
	collect_run(ch);
	return 0;
}

/* ---- in-band detection ---- */

static void inband_digit_cb(void *arg, char digit, uint32_t duration_ms)
{
	channel_dtmf_receive(arg, digit, duration_ms, CORE_DTMF_INBAND);
}

static void inband_audio_cb(void *arg, const int16_t *pcm, size_t samples, uint32_t rate)
{
	struct channel *ch = arg;
	struct channel_dtmf *q = ch->dtmf;
	if (!q || !q->det)
		return;
	if (media_dtmf_detector_rate(q->det) != rate) {
		/* the codec changed (re-INVITE): a detector for the new rate */
		media_dtmf_detector_destroy(q->det);
		q->det = NULL;
		if (media_dtmf_detector_create(&q->det, rate, inband_digit_cb, ch))
			return;
	}
	media_dtmf_detector_feed(q->det, pcm, samples);
}

int channel_dtmf_detect_start(struct channel *ch)
{
	if (!ch)
		return -EINVAL;
	if (!channel_up(ch))
		return -ESHUTDOWN;
	struct channel_media *m = ch->media;
	if (!m || !m->stream || !m->audio_rate)
		return -ENOTCONN;
	struct channel_dtmf *q = dtmf_of(ch);
	if (!q)
		return -ENOMEM;
	if (q->det)
		return 0;
	int err = media_dtmf_detector_create(&q->det, m->audio_rate, inband_digit_cb, ch);
	if (err)
		return err;
	media_stream_set_audio_cb(m->stream, inband_audio_cb);
	log_info("[%s] in-band DTMF detection on", ch->uuid);
	return 0;
}

void channel_dtmf_detect_stop(struct channel *ch)
{
	struct channel_dtmf *q = ch ? ch->dtmf : NULL;
	if (!q || !q->det)
		return;
	if (ch->media && ch->media->stream)
		media_stream_set_audio_cb(ch->media->stream, NULL);
	media_dtmf_detector_destroy(q->det);
	q->det = NULL;
	log_info("[%s] in-band DTMF detection off", ch->uuid);
}

void core__dtmf_hangup(struct channel *ch)
{
	channel_dtmf_detect_stop(ch);
}
