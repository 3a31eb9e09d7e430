/*
 * The record application's recording (channel_record_read): what the far
 * end says, mono, as the channel's asynchronous operation (OP_RECORD, one at
 * a time like play and collect). Audio comes from the stream's rx tap
 * (channel_record.c) into a one-direction media_recorder; the writer thread
 * owns the file. Three things end it by themselves: limit_ms of recorded
 * audio, silence_ms of silent 20 ms frames in a row, a terminator digit from
 * the channel's DTMF queue. Those ends are noticed inside the tap callback
 * or the DTMF path, where the tap may not change, so the end itself runs
 * from a zero timer; the operation then finishes only once the writer has
 * closed the file (an async from the writer thread), so that whatever the
 * callback does next (play it back, post it) finds it whole. A stop from
 * outside (channel_stop_media, a new operation, hangup) cannot wait: the
 * file is handed to the writer and the callback follows at once.
 *
 * A far end that sends no RTP at all (muted, or with silence suppression)
 * would leave both counts standing: a watch timer treats the time without
 * audio as silence, and ends the recording once the limit has passed on the
 * clock too.
 *
 * The state is malloc'd: its three handles (two timers, the async) outlive
 * the operation until the writer has answered and all are closed.
 */
#define LOG_MODULE "record"
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	FRAME_MS = 20,
	DEFAULT_THRESHOLD = 200,
	WATCH_MS = 200,	      /* how often the watch looks */
	LIMIT_GRACE_MS = 500, /* received audio lags the clock a little */
};

enum rread_state {
	RR_RECORDING, /* audio and digits go in */
	RR_ENDING,    /* an end was found; end_timer runs the end */
	RR_CLOSING,   /* the file is the writer's; the operation waits for it */
	RR_DETACHED,  /* the operation is over; waiting for the writer, then freed */
};

struct core__record_read {
	struct channel *ch; /* NULL once detached */
	struct channel_record_read *res;
	struct media_recorder *rec;
	enum rread_state state;
	enum channel_record_end end;
	uint64_t in_samples, limit_samples; /* at in_rate; limit 0: none */
	uint32_t in_rate;
	/* silence: the 20 ms frame being summed, the silent run so far */
	uint64_t frame_sum;
	size_t frame_len;
	uint32_t silent_ms;
	uint64_t started_ms, last_rx_ms; /* loop time */
	uv_timer_t end_timer;
	uv_timer_t watch;
	uv_async_t closed; /* from the writer thread */
	int handles;	   /* still open */
};

static void handle_closed_cb(uv_handle_t *h)
{
	struct core__record_read *rr = h->data;
	if (--rr->handles == 0)
		free(rr);
}

static void rr_free(struct core__record_read *rr)
{
	uv_close((uv_handle_t *)&rr->end_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&rr->watch, handle_closed_cb);
	uv_close((uv_handle_t *)&rr->closed, handle_closed_cb);
}

static struct core__record_read *rread_of(const struct channel *ch)
{
	return ch->op && ch->op->kind == OP_RECORD ? ch->op->rread : NULL;
}

bool core__record_read_active(const struct channel *ch)
{
	struct core__record_read *rr = rread_of(ch);
	return rr && rr->state == RR_RECORDING;
}

static void end_timer_cb(uv_timer_t *t);

const char *core__record_read_path(const struct channel *ch)
{
	struct core__record_read *rr = rread_of(ch);
	return rr && rr->state == RR_RECORDING ? rr->res->path : NULL;
}

/* An end found where nothing may change: the timer runs it. */
static void rr_end_soon(struct core__record_read *rr, enum channel_record_end end)
{
	if (rr->state != RR_RECORDING)
		return;
	rr->state = RR_ENDING;
	rr->end = end;
	uv_timer_start(&rr->end_timer, end_timer_cb, 0, 0);
}

/* ---- audio and digits ---- */

/* Mean absolute value per 20 ms: a run of silent frames ends the recording. */
static void silence_feed(struct core__record_read *rr, const int16_t *pcm, size_t n, uint32_t rate)
{
	const struct channel_record_read *r = rr->res;
	size_t frame = (size_t)rate * FRAME_MS / 1000;
	uint32_t threshold = r->silence_threshold ? r->silence_threshold : DEFAULT_THRESHOLD;
	for (size_t i = 0; i < n; i++) {
		int32_t v = pcm[i];
		rr->frame_sum += (uint64_t)(v < 0 ? -v : v);
		if (++rr->frame_len < frame)
			continue;
		bool silent = rr->frame_sum / rr->frame_len < threshold;
		rr->silent_ms = silent ? rr->silent_ms + FRAME_MS : 0;
		if (!silent)
			rr->res->sound_ms += FRAME_MS;
		rr->frame_sum = 0;
		rr->frame_len = 0;
		if (r->silence_ms && rr->silent_ms >= r->silence_ms) {
			rr_end_soon(rr, CHANNEL_RECORD_END_SILENCE);
			return;
		}
	}
}

void core__record_read_rx(struct channel *ch, const int16_t *pcm, size_t samples, uint32_t rate)
{
	struct core__record_read *rr = rread_of(ch);
	if (!rr || rr->state != RR_RECORDING || samples == 0 || rate == 0)
		return;
	rr->last_rx_ms = uv_now(ch->core->loop);
	if (rate != rr->in_rate) {
		/* the codec changed (re-INVITE): the limit counts on at the new rate */
		if (rr->limit_samples)
			rr->limit_samples = rr->in_samples + (rr->limit_samples - rr->in_samples) *
								 rate /
								 (rr->in_rate ? rr->in_rate : rate);
		rr->in_rate = rate;
		rr->frame_sum = 0;
		rr->frame_len = 0;
	}
	size_t n = samples;
	if (rr->limit_samples && rr->in_samples + n > rr->limit_samples)
		n = (size_t)(rr->limit_samples - rr->in_samples);
	media_recorder_rx(rr->rec, pcm, n, rate);
	rr->in_samples += n;
	if (rr->limit_samples && rr->in_samples >= rr->limit_samples) {
		rr_end_soon(rr, CHANNEL_RECORD_END_LIMIT);
		return;
	}
	silence_feed(rr, pcm, n, rate);
}

void core__record_read_digits(struct channel *ch)
{
	struct core__record_read *rr = rread_of(ch);
	if (!rr || rr->state != RR_RECORDING)
		return;
	const char *t = rr->res->terminators;
	char d;
	/* every digit is taken, as FreeSWITCH's record does: only a terminator
	 * means something here */
	while (channel_dtmf_pop(ch, &d) == 0) {
		if (t && d && strchr(t, d)) {
			rr->res->terminator = d;
			rr_end_soon(rr, CHANNEL_RECORD_END_TERMINATOR);
			return;
		}
	}
}

/* ---- the end ---- */

static void path_extra(void *arg, struct core_event *ev)
{
	const struct channel_record_read *r = arg;
	core_event_add_header(ev, "Record-File-Path", "%s", r->path);
}

static void writer_closed_cb(void *arg)
{
	struct core__record_read *rr = arg;
	uv_async_send(&rr->closed); /* the writer thread: only this */
}

/* Results, variables, RECORD_STOP; the file goes to the writer. */
static void rr_finalize(struct channel *ch, struct core__record_read *rr)
{
	struct channel_record_read *r = rr->res;
	r->end = rr->end;
	r->samples = media_recorder_frames(rr->rec);
	r->rate = media_recorder_rate(rr->rec);
	r->ms = r->samples * 1000 / r->rate;
	uv_timer_stop(&rr->watch);
	bool notify = media_recorder_close(rr->rec, writer_closed_cb, rr) == 0;
	rr->rec = NULL;
	core__record_tap_update(ch);

	char v[32];
	snprintf(v, sizeof(v), "%llu", (unsigned long long)r->ms);
	channel_var_set(ch, "record_ms", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(r->ms / 1000));
	channel_var_set(ch, "record_seconds", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)r->samples);
	channel_var_set(ch, "record_samples", v);
	if (r->terminator) {
		char t[2] = {r->terminator, '\0'};
		channel_var_set(ch, "playback_terminator_used", t);
	}
	static const char *const why[] = {"limit", "silence", "terminator", "stopped", "hangup"};
	log_info("[%s] recording %s ended (%s) after %llu ms", ch->uuid, r->path, why[r->end],
		 (unsigned long long)r->ms);
	channel_event_fire(ch, "RECORD_STOP", path_extra, r);
	if (!notify) /* the writer will not answer: do not wait for it */
		uv_async_send(&rr->closed);
}

/* No audio for a while counts as silence; the limit holds on the clock. */
static void watch_cb(uv_timer_t *t)
{
	struct core__record_read *rr = t->data;
	if (rr->state != RR_RECORDING || !rr->ch)
		return;
	const struct channel_record_read *r = rr->res;
	uint64_t now = uv_now(t->loop);
	uint64_t gap = now - rr->last_rx_ms;
	if (r->silence_ms && gap >= WATCH_MS && rr->silent_ms + gap >= r->silence_ms)
		rr_end_soon(rr, CHANNEL_RECORD_END_SILENCE);
	else if (r->limit_ms && now - rr->started_ms >= (uint64_t)r->limit_ms + LIMIT_GRACE_MS)
		rr_end_soon(rr, CHANNEL_RECORD_END_LIMIT);
}

/* The zero timer: an end found in the tap or the DTMF path. */
static void end_timer_cb(uv_timer_t *t)
{
	struct core__record_read *rr = t->data;
	if (rr->state != RR_ENDING || !rr->ch)
		return;
	rr->state = RR_CLOSING;
	rr_finalize(rr->ch, rr);
}

/* The writer closed the file. */
static void closed_cb(uv_async_t *a)
{
	struct core__record_read *rr = a->data;
	struct channel *ch = rr->ch;
	if (rr->state == RR_CLOSING && ch) {
		rr->state = RR_DETACHED;
		rr->ch = NULL;
		/* the operation is still ours (a stop would have detached us) */
		core__op_finish(ch, 0);
		/* core__op_finish called core__record_read_stop: nothing left */
	}
	if (rr->state == RR_DETACHED && !rr->ch && !rr->rec)
		rr_free(rr);
}

void core__record_read_stop(struct channel *ch, struct channel_op *op)
{
	struct core__record_read *rr = op->rread;
	op->rread = NULL;
	if (!rr)
		return;
	switch (rr->state) {
	case RR_RECORDING:
	case RR_ENDING:
		/* from outside: stop, a new operation or the hangup */
		if (rr->state == RR_RECORDING)
			rr->end =
			    channel_up(ch) ? CHANNEL_RECORD_END_STOPPED : CHANNEL_RECORD_END_HANGUP;
		uv_timer_stop(&rr->end_timer);
		rr->state = RR_DETACHED;
		rr->ch = NULL;
		rr_finalize(ch, rr); /* the async frees rr once the writer closed the file */
		break;
	case RR_CLOSING:
		/* results are filled; the file is on its way: the callback need not wait */
		rr->state = RR_DETACHED;
		rr->ch = NULL;
		break;
	case RR_DETACHED:
		break; /* closed_cb finishing the operation */
	}
}

/* ---- start ---- */

static int rr_create(struct core__record_read **out, struct channel *ch, const char *full,
		     struct channel_record_read *r)
{
	struct core__record_read *rr = calloc(1, sizeof(*rr));
	if (!rr)
		return -ENOMEM;
	uint32_t rate = ch->media->audio_rate ? ch->media->audio_rate : 8000;
	int err = media_recorder_create_rx(&rr->rec, ch->core->rec_writer, full, rate);
	if (err) {
		free(rr);
		return err;
	}
	if ((err = uv_async_init(ch->core->loop, &rr->closed, closed_cb))) {
		media_recorder_destroy(rr->rec);
		free(rr);
		return err;
	}
	uv_timer_init(ch->core->loop, &rr->end_timer);
	uv_timer_init(ch->core->loop, &rr->watch);
	rr->end_timer.data = rr;
	rr->watch.data = rr;
	rr->closed.data = rr;
	rr->handles = 3;
	rr->started_ms = rr->last_rx_ms = uv_now(ch->core->loop);
	rr->ch = ch;
	rr->res = r;
	rr->in_rate = rate;
	rr->limit_samples = (uint64_t)r->limit_ms * rate / 1000;
	*out = rr;
	return 0;
}

int channel_record_read(struct channel *ch, const char *path, struct channel_record_read *r,
			channel_done_cb cb, void *arg)
{
	if (!ch || !path || !*path || !r || r->silence_threshold > INT16_MAX)
		return -EINVAL;
	if (!channel_up(ch))
		return -ESHUTDOWN;
	struct core *core = ch->core;
	if (!core->rec_writer)
		return -ENOTSUP;
	int err = core_record_path_resolve(core->recordings_dir, path, r->path, sizeof(r->path));
	if (err)
		return err == -ENAMETOOLONG ? -EINVAL : err;
	if (core__record_path_busy(ch, r->path))
		return -EEXIST;
	if ((err = core__media_ready(ch)))
		return err;
	r->end = CHANNEL_RECORD_END_STOPPED;
	r->terminator = '\0';
	r->ms = r->samples = r->sound_ms = 0;
	r->rate = 0;
	struct core__record_read *rr;
	if ((err = rr_create(&rr, ch, r->path, r)))
		return err;
	/* the previous operation ends (-ECANCELED) before this one begins */
	struct channel_op *op = core__op_begin(ch, OP_RECORD, cb, arg);
	if (!op) {
		rr->state = RR_DETACHED;
		rr->ch = NULL;
		media_recorder_destroy(rr->rec);
		rr->rec = NULL;
		rr_free(rr);
		return -ENOMEM;
	}
	op->rread = rr;
	r->rate = media_recorder_rate(rr->rec);
	if (r->silence_ms || r->limit_ms)
		uv_timer_start(&rr->watch, watch_cb, WATCH_MS, WATCH_MS);
	core__record_tap_update(ch);
	log_info("[%s] recording what the caller says to %s (%u Hz, limit %u ms, silence %u ms)",
		 ch->uuid, r->path, r->rate, r->limit_ms, r->silence_ms);
	channel_event_fire(ch, "RECORD_START", path_extra, r);
	/* digits typed ahead count, as FreeSWITCH's record reads the queue */
	core__record_read_digits(ch);
	return 0;
}
