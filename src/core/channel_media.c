/*
 * What applications ask of a channel: answer, early media, ringing, a final
 * response, sending DTMF, and the asynchronous media operations (play, speak,
 * echo, sleep; bridge.c adds the bridge).
 *
 * One asynchronous operation at a time per channel (struct channel_op).
 * Starting one stops the previous; its end — completion, stop, hangup — is
 * recorded with core__op_finish() and the callback delivered from the run
 * queue, so that it never runs inside the call that caused it.
 */
#define LOG_MODULE "core"
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

bool channel_answered(const struct channel *ch)
{
	return ch->answered;
}

bool channel_up(const struct channel *ch)
{
	return ch->state < CS_HANGUP;
}

int channel_answer(struct channel *ch)
{
	if (!channel_up(ch))
		return -ESHUTDOWN;
	if (ch->answered)
		return 0;
	int err = core__endpoint_answer(ch, false);
	if (err)
		return err;
	ch->answered = true;
	ch->answered_us = clock_wall_us();
	channel_event_fire(ch, "CHANNEL_ANSWER", NULL, NULL);
	core__channel_callstate(ch);
	log_info("[%s] answered (%s)", ch->uuid,
		 ch->media && ch->media->codec_name ? ch->media->codec_name : "no media yet");
	return 0;
}

int channel_pre_answer(struct channel *ch)
{
	if (!channel_up(ch))
		return -ESHUTDOWN;
	if (ch->answered || ch->early_media)
		return 0;
	int err = core__endpoint_answer(ch, true);
	if (err)
		return err;
	ch->early_media = true;
	if (!ch->progress_us)
		ch->progress_us = clock_wall_us();
	channel_event_fire(ch, "CHANNEL_PROGRESS_MEDIA", NULL, NULL);
	core__channel_callstate(ch);
	return 0;
}

int channel_ring_ready(struct channel *ch)
{
	if (!channel_up(ch))
		return -ESHUTDOWN;
	/* An outbound leg is rung by the far end, not by us: nothing to send. */
	if (ch->answered || !ch->sip || ch->direction == CHANNEL_OUTBOUND)
		return 0;
	if (!ch->progress_us)
		ch->progress_us = clock_wall_us();
	int err = sip_call_respond(ch->sip, 180, NULL);
	if (!err) {
		channel_event_fire(ch, "CHANNEL_PROGRESS", NULL, NULL);
		core__channel_callstate(ch);
	}
	return err;
}

int channel_respond(struct channel *ch, uint16_t status, const char *reason)
{
	if (!channel_up(ch))
		return -ESHUTDOWN;
	if (status < 100 || status > 699)
		return -EINVAL;
	if (!ch->sip || ch->answered || ch->direction == CHANNEL_OUTBOUND)
		return -EINVAL;
	if (status < 200)
		return sip_call_respond(ch->sip, status, reason);
	if (status < 300)
		return channel_answer(ch);
	int err = sip_call_respond(ch->sip, status, reason);
	if (err)
		return err;
	channel_hangup(ch, core_cause_from_sip(status));
	return 0;
}

/* ---- asynchronous operations ---- */

static void sleep_timer_closed_cb(uv_handle_t *h)
{
	free(h);
}

/* Ends the operation's machinery (not its callback: see core__op_finish). */
static void op_stop(struct channel *ch, struct channel_op *op)
{
	struct channel_media *m = ch->media;

	switch (op->kind) {
	case OP_OPENING:
		media_source_open_cancel(ch->core->library, ch);
		break;
	case OP_PLAYING:
		/* play_done_cb(-ECANCELED) follows: by then ch->op is no longer this op */
		if (m && m->stream)
			media_stream_stop(m->stream);
		break;
	case OP_ECHO:
		if (m && m->stream)
			media_stream_echo(m->stream, false);
		break;
	case OP_SLEEP:
	case OP_COLLECT:
		if (op->timer) {
			uv_timer_stop(op->timer);
			uv_close((uv_handle_t *)op->timer, sleep_timer_closed_cb);
			op->timer = NULL;
		}
		break;
	case OP_BRIDGE:
		core__bridge_end(ch);
		break;
	case OP_RECORD:
		core__record_read_stop(ch, op);
		break;
	}
}

static void playback_extra(void *arg, struct core_event *ev)
{
	struct channel_op *op = arg;
	core_event_add_header(ev, "Playback-File-Path", "%s", op->path);
	if (op->kind == OP_PLAYING && op->status != 1)
		core_event_add_header(ev, "Playback-Status", "%s", op->status ? "break" : "done");
}

void core__op_finish(struct channel *ch, int status)
{
	struct channel_op *op = ch->op;
	if (!op)
		return;
	ch->op = NULL; /* first: stopping a stream calls back into play_done_cb */
	op_stop(ch, op);
	if (op->path && op->kind == OP_PLAYING) {
		op->status = status;
		channel_event_fire(ch, "PLAYBACK_STOP", playback_extra, op);
	}
	op->status = status;
	op->next = NULL;
	struct channel_op **pp = &ch->ops_done;
	while (*pp)
		pp = &(*pp)->next;
	*pp = op;
	core__channel_schedule(ch);
}

void core__op_deliver(struct channel *ch)
{
	while (ch->ops_done) {
		struct channel_op *op = ch->ops_done;
		ch->ops_done = op->next;
		channel_done_cb cb = op->cb;
		void *arg = op->arg;
		int status = op->status;
		free(op);
		if (cb)
			cb(ch, arg, status);
	}
}

void channel_stop_media(struct channel *ch)
{
	core__op_finish(ch, -ECANCELED);
}

struct channel_op *core__op_begin(struct channel *ch, enum channel_op_kind kind,
				  channel_done_cb cb, void *arg)
{
	core__op_finish(ch, -ECANCELED);
	struct channel_op *op = calloc(1, sizeof(*op));
	if (!op)
		return NULL;
	op->kind = kind;
	op->cb = cb;
	op->arg = arg;
	ch->op = op;
	return op;
}

/* Media needs a negotiated stream: pre-answer an unanswered call, as FreeSWITCH does. */
int core__media_ready(struct channel *ch)
{
	if (!channel_up(ch))
		return -ESHUTDOWN;
	if (!ch->answered && !ch->early_media) {
		if (ch->direction == CHANNEL_OUTBOUND)
			return -ENOTCONN; /* no media until the far end sends its answer */
		int err = channel_pre_answer(ch);
		if (err)
			return err;
	}
	return ch->media && ch->media->stream ? 0 : -ENOTCONN;
}

static void source_ready_cb(void *arg, struct media_source *src, int err)
{
	struct channel *ch = arg;
	struct channel_op *op = ch->op;

	if (!op || op->kind != OP_OPENING) {
		media_source_destroy(src);
		return;
	}
	if (err || !src) {
		log_warn("[%s] cannot play: %s", ch->uuid, strerror(err ? -err : EINVAL));
		core__op_finish(ch, err ? err : -EINVAL);
		return;
	}
	op->kind = OP_PLAYING;
	if (op->path) {
		op->status = 1; /* marks the start: no Playback-Status */
		channel_event_fire(ch, "PLAYBACK_START", playback_extra, op);
		op->status = 0;
	}
	media_stream_play(ch->media->stream, src);
}

static int play_begin(struct channel *ch, const char *spec, const char *text, const char *voice,
		      channel_done_cb cb, void *arg)
{
	int err = core__media_ready(ch);
	if (err)
		return err;
	struct channel_op *op = core__op_begin(ch, OP_OPENING, cb, arg);
	if (!op)
		return -ENOMEM;
	op->path = spec ? arena_strdup(&ch->arena, spec) : NULL;
	uint32_t rate = ch->media->audio_rate;
	err = text ? media_source_speak(ch->core->library, text, voice, rate, source_ready_cb, ch)
		   : media_source_open(ch->core->library, spec, rate, source_ready_cb, ch);
	if (err) {
		free(ch->op);
		ch->op = NULL;
	}
	return err;
}

int channel_play(struct channel *ch, const char *spec, channel_done_cb cb, void *arg)
{
	if (!spec || !*spec)
		return -EINVAL;
	return play_begin(ch, spec, NULL, NULL, cb, arg);
}

int channel_speak(struct channel *ch, const char *text, const char *voice, channel_done_cb cb,
		  void *arg)
{
	if (!text)
		return -EINVAL;
	return play_begin(ch, NULL, text, voice, cb, arg);
}

int channel_echo(struct channel *ch, channel_done_cb cb, void *arg)
{
	int err = core__media_ready(ch);
	if (err)
		return err;
	if (!core__op_begin(ch, OP_ECHO, cb, arg))
		return -ENOMEM;
	media_stream_echo(ch->media->stream, true);
	return 0;
}

static void sleep_timer_cb(uv_timer_t *t)
{
	struct channel *ch = t->data;
	core__op_finish(ch, 0);
}

int channel_sleep(struct channel *ch, uint32_t ms, channel_done_cb cb, void *arg)
{
	if (!channel_up(ch))
		return -ESHUTDOWN;
	struct channel_op *op = core__op_begin(ch, OP_SLEEP, cb, arg);
	if (!op)
		return -ENOMEM;
	op->timer = malloc(sizeof(*op->timer));
	if (!op->timer) {
		free(op);
		ch->op = NULL;
		return -ENOMEM;
	}
	uv_timer_init(ch->core->loop, op->timer);
	op->timer->data = ch;
	uv_timer_start(op->timer, sleep_timer_cb, ms, 0);
	return 0;
}

/* ---- media stream callbacks ---- */

static void media_timeout_cb(void *arg)
{
	struct channel *ch = arg;
	log_notice("[%s] no RTP for %u ms", ch->uuid, ch->media->params.timeout_ms);
	channel_hangup(ch, CAUSE_MEDIA_TIMEOUT);
}

static void media_play_done_cb(void *arg, int status)
{
	struct channel *ch = arg;
	if (ch->media && ch->media->inband_playing) {
		ch->media->inband_playing = false; /* the in-band digits ended or gave way */
		return;
	}
	if (ch->op && ch->op->kind == OP_PLAYING)
		core__op_finish(ch, status);
}

static void media_dtmf_cb(void *arg, char digit, uint32_t duration_ms)
{
	channel_dtmf_receive(arg, digit, duration_ms, CORE_DTMF_RTP);
}

const struct media_stream_cbs *core__media_cbs(struct channel *ch, struct media_stream_cbs *cbs)
{
	memset(cbs, 0, sizeof(*cbs));
	cbs->dtmf_cb = media_dtmf_cb;
	cbs->timeout_cb = media_timeout_cb;
	cbs->play_done_cb = media_play_done_cb;
	cbs->arg = ch;
	return cbs;
}

/* One INFO per digit (application/dtmf-relay, as FreeSWITCH sends it);
 * pauses are not timed over INFO: skipped. */
static int send_dtmf_info(struct channel *ch, const char *digits, uint32_t duration_ms)
{
	if (!ch->sip)
		return -ENOTSUP;
	for (const char *p = digits; *p; p++)
		if (!strchr("0123456789*#ABCDabcdwW", *p))
			return -EINVAL;
	for (const char *p = digits; *p; p++) {
		if (*p == 'w' || *p == 'W')
			continue;
		char body[64];
		char d = *p >= 'a' && *p <= 'd' ? (char)(*p - 'a' + 'A') : *p;
		int n = snprintf(body, sizeof(body), "Signal=%c\r\nDuration=%u\r\n", d,
				 duration_ms ? duration_ms : 100);
		int err = sip_call_info(ch->sip, "application/dtmf-relay",
					str_make(body, (size_t)n));
		if (err)
			return err;
	}
	return 0;
}

/* In-band tones open with &ch->media as their key, apart from the
 * operations' opens (keyed by ch), so that stopping one leaves the other. */
static void inband_ready_cb(void *arg, struct media_source *src, int err)
{
	struct channel *ch = container_of(arg, struct channel, media);
	struct channel_media *m = ch->media;
	if (err || !src || !channel_up(ch) || !m || !m->stream) {
		if (err)
			log_warn("[%s] in-band DTMF not sent: %s", ch->uuid, strerror(-err));
		media_source_destroy(src);
		return;
	}
	/* plays over what plays: a prompt ends (-ECANCELED), bridged audio
	 * resumes after the tones */
	media_stream_play(m->stream, src);
	m->inband_playing = true;
}

/* The digits as a tone_stream:// script of Q.23 pairs (the media library's
 * tone generator), each `ms` long with 50 ms between, w/W as silence. */
static int send_dtmf_inband(struct channel *ch, const char *digits, uint32_t duration_ms)
{
	struct channel_media *m = ch->media;
	char spec[CORE_DTMF_MAX * 16 + 64];
	size_t n;
	if (!m || !m->stream || !m->started)
		return -ENOTSUP;
	n = (size_t)snprintf(spec, sizeof(spec), "tone_stream://d=%u;w=50",
			     duration_ms ? duration_ms : 100);
	for (const char *p = digits; *p; p++) {
		if (!strchr("0123456789*#ABCDabcdwW", *p) || n + 24 >= sizeof(spec))
			return -EINVAL;
		if (*p == 'w' || *p == 'W')
			n += (size_t)snprintf(spec + n, sizeof(spec) - n, ";%%(1,%u,0)",
					      *p == 'w' ? 499 : 999);
		else
			n += (size_t)snprintf(spec + n, sizeof(spec) - n, ";%c",
					      *p >= 'a' && *p <= 'd' ? *p - 'a' + 'A' : *p);
	}
	return media_source_open(ch->core->library, spec, m->audio_rate, inband_ready_cb,
				 &ch->media);
}

int channel_send_dtmf(struct channel *ch, const char *digits, uint32_t duration_ms)
{
	if (!digits || !*digits)
		return -EINVAL;
	if (!channel_up(ch))
		return -ESHUTDOWN;
	const char *type = channel_var(ch, "dtmf_type");
	int err;
	if (type && strcasecmp(type, "none") == 0)
		return 0;
	if (type && strcasecmp(type, "info") == 0) {
		err = send_dtmf_info(ch, digits, duration_ms);
	} else if (type && strcasecmp(type, "inband") == 0) {
		err = send_dtmf_inband(ch, digits, duration_ms);
	} else {
		struct channel_media *m = ch->media;
		if (!m || !m->stream || !m->started)
			return -ENOTSUP; /* nothing negotiated yet: no telephone-event either */
		err = media_stream_send_dtmf(m->stream, digits, duration_ms);
	}
	if (!err)
		log_info("[%s] sending DTMF %s (%s)", ch->uuid, digits, type ? type : "rfc2833");
	return err;
}

void core__media_hangup(struct channel *ch)
{
	core__bridge_hangup(ch); /* normally done already by channel_hangup */
	core__op_finish(ch, -ECANCELED);
	core__record_hangup(ch);
	core__dtmf_hangup(ch);
	if (ch->core->library)
		media_source_open_cancel(ch->core->library, &ch->media);
	struct channel_media *m = ch->media;
	if (m && m->stream) {
		struct media_stats st;
		media_stream_stats(m->stream, &st);
		m->final_stats = st;
		m->have_final_stats = true;
		log_info("[%s] media: %llu packets in, %llu out, %llu lost, jitter %.1f ms",
			 ch->uuid, (unsigned long long)st.packets_in,
			 (unsigned long long)st.packets_out, (unsigned long long)st.lost,
			 st.jitter_ms);
		core__metrics_stream_end(ch->core, &st);
		media_stream_destroy(m->stream);
		m->stream = NULL;
	}
}
