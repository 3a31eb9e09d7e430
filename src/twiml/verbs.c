/*
 * The verbs on the channel. Say, Play and Pause are media steps (also
 * Gather's nested prompts, with barge-in: a digit stops them and the
 * collection starts); Gather collects digits and posts them; Dial places
 * the calls (core_originate) with a ringback to the caller and bridges the
 * one that answers; Record records what the caller says
 * (channel_record_read); Redirect, Hangup and Reject end the document.
 */
#define LOG_MODULE "twiml"
#include "exec_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the caller hears while <Dial> rings: the North American ringback. */
#define RINGBACK "tone_stream://%(2000,4000,440,480);loops=-1"
/* <Record playBeep>: half a second of 1 kHz. */
#define BEEP "tone_stream://%(500,0,1000)"

/* ---- Say, Play, Pause (top level or nested in Gather) ---- */

static void gather_collect(struct twiml__call *c);
static void media_step(struct twiml__call *c);

/* The media verb running: the top-level one, or Gather's nested one (NULL
 * once the prompts are over). */
static const struct twiml_verb *media_verb(const struct twiml__call *c)
{
	if (c->verb->kind != TWIML_GATHER)
		return c->verb;
	return c->nested < c->verb->u.gather.nested_count ? &c->verb->u.gather.nested[c->nested]
							  : NULL;
}

static uint32_t media_rounds(const struct twiml_verb *v)
{
	switch (v->kind) {
	case TWIML_SAY:
		return v->u.say.loop;
	case TWIML_PLAY:
		return v->u.play.loop;
	default:
		return 1;
	}
}

static void media_done_cb(struct channel *ch, void *arg, int status)
{
	struct twiml__call *c = twiml__op_end(ch, arg, status);
	if (!c)
		return;
	if (status == -EINTR && c->verb->kind == TWIML_GATHER) {
		gather_collect(c); /* barge-in: a digit stopped the prompt */
		return;
	}
	if (status < 0)
		log_warn("%s TwiML line %u: %s", ch->uuid, media_verb(c)->line, strerror(-status));
	c->round++;
	media_step(c);
}

/* Espeak's voice for Twilio's language and voice: "en-US" → "en-us", a
 * woman's voice → its "+f3" variant. Empty: the default voice. */
static void say_voice(const struct twiml_verb *v, char *out, size_t size)
{
	const char *lang = v->u.say.language;
	const char *voice = v->u.say.voice;
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = lang; *p && n + 1 < size; p++)
		if (isalnum((unsigned char)*p) || *p == '-')
			out[n++] = (char)tolower((unsigned char)*p);
	out[n] = '\0';
	bool woman = strcasecmp(voice, "woman") == 0 || strcasecmp(voice, "alice") == 0 ||
		     strncasecmp(voice, "Polly.", 6) == 0 || strncasecmp(voice, "Google.", 7) == 0;
	if (woman && n + 4 < size)
		snprintf(out + n, size - n, "%s+f3", n ? "" : "en-us");
}

static void play_ready_cb(void *arg, const char *path, int err)
{
	struct twiml__call *c = arg;
	if (c->done)
		return;
	twiml__wait_end(c);
	struct twiml__token *t = twiml__token(c);
	int rc = err ? err : (t ? channel_play(c->ch, path, media_done_cb, t) : -ENOMEM);
	if (rc) {
		log_warn("%s <Play> line %u: %s", c->ch->uuid, media_verb(c)->line, strerror(-rc));
		c->round = media_rounds(media_verb(c)); /* the verb is skipped */
		media_step(c);
	}
}

/* How long digits take to go out: tones and gaps, and 'w' half a second. */
static uint32_t digits_ms(const char *digits)
{
	uint32_t ms = 0;
	for (const char *p = digits; *p; p++)
		ms += *p == 'w' ? 500 : *p == 'W' ? 1000 : 200;
	return ms;
}

/* Starts one round of the media verb v: 0 started (its callback follows), 1
 * nothing to do, or a negative errno. */
static int media_start(struct twiml__call *c, const struct twiml_verb *v)
{
	struct channel *ch = c->ch;
	struct twiml__token *t;
	int rc = twiml__answer(c);
	if (rc)
		return rc;
	switch (v->kind) {
	case TWIML_SAY: {
		if (!v->u.say.text[0])
			return 1;
		char voice[64];
		say_voice(v, voice, sizeof(voice));
		if (!(t = twiml__token(c)))
			return -ENOMEM;
		rc = channel_speak(ch, v->u.say.text, voice[0] ? voice : NULL, media_done_cb, t);
		if (rc == -ENOENT && voice[0]) {
			log_info("%s <Say> voice '%s' unknown: the default voice speaks", ch->uuid,
				 voice);
			if (!(t = twiml__token(c)))
				return -ENOMEM;
			rc = channel_speak(ch, v->u.say.text, NULL, media_done_cb, t);
		}
		return rc;
	}
	case TWIML_PAUSE:
		if (v->u.pause.length_s == 0)
			return 1;
		if (!(t = twiml__token(c)))
			return -ENOMEM;
		return channel_sleep(ch, v->u.pause.length_s * 1000, media_done_cb, t);
	case TWIML_PLAY:
		break;
	default:
		return -EINVAL;
	}
	const char *url = v->u.play.url;
	if (v->u.play.digits && c->round == 0) {
		/* <Play digits>: sent in the leg's DTMF mode, then a wait while
		 * they go out. */
		char digits[CORE_DTMF_MAX + 1];
		uint32_t dur;
		rc = core_dtmf_parse(v->u.play.digits, digits, &dur);
		if (rc == 0)
			rc = channel_send_dtmf(ch, digits, dur);
		if (rc)
			return rc;
		if (!url[0]) {
			if (!(t = twiml__token(c)))
				return -ENOMEM;
			c->round = media_rounds(v) - 1; /* digits play once */
			return channel_sleep(ch, digits_ms(digits), media_done_cb, t);
		}
	}
	if (!url[0])
		return 1;
	if (strncmp(url, "tone_stream://", 14) == 0 || strncmp(url, "silence_stream://", 17) == 0) {
		if (!(t = twiml__token(c)))
			return -ENOMEM;
		return channel_play(ch, url, media_done_cb, t);
	}
	char abs[TWIML_URL_MAX], path[1200];
	rc = twiml_url_resolve(c->doc_url, url, abs, sizeof(abs));
	if (rc)
		return rc;
	c->audio_wait.cb = play_ready_cb;
	c->audio_wait.arg = c;
	rc = twiml__audio_get(&c->tw->audio, abs, &c->audio_wait, path, sizeof(path));
	if (rc < 0)
		return rc;
	if (rc == 0)
		return twiml__wait(c); /* the download: play_ready_cb follows */
	if (!(t = twiml__token(c)))
		return -ENOMEM;
	return channel_play(ch, path, media_done_cb, t);
}

/* Runs the current media verb's next round, or moves on: the next nested
 * prompt, Gather's collection, or the next verb. */
static void media_step(struct twiml__call *c)
{
	for (;;) {
		if (c->done)
			return;
		const struct twiml_verb *v = media_verb(c);
		if (!v) {
			gather_collect(c);
			return;
		}
		if (c->verb->kind == TWIML_GATHER && channel_dtmf_queued(c->ch)) {
			gather_collect(c); /* typed ahead: no prompt */
			return;
		}
		if (c->round >= media_rounds(v)) {
			if (c->verb->kind != TWIML_GATHER) {
				twiml__next(c);
				return;
			}
			c->nested++;
			c->round = 0;
			continue;
		}
		int rc = media_start(c, v);
		if (rc == 0)
			return;
		if (rc < 0) {
			log_warn("%s TwiML line %u: %s", c->ch->uuid, v->line, strerror(-rc));
			if (!channel_up(c->ch)) {
				twiml__finish(c, 0);
				return;
			}
		}
		c->round = media_rounds(v); /* skipped */
	}
}

/* ---- Gather ---- */

static void gather_done_cb(struct channel *ch, void *arg, int status)
{
	channel_dtmf_barge(ch, false);
	struct twiml__call *c = twiml__op_end(ch, arg, status);
	if (!c)
		return;
	const struct twiml_verb *v = c->verb;
	c->collect.digits[c->collect.count] = '\0';
	if (c->collect.count == 0 && !v->u.gather.action_on_empty_result) {
		log_info("%s <Gather>: no digits", ch->uuid);
		twiml__next(c);
		return;
	}
	twiml_params_set(&c->results, "Digits", c->collect.digits);
	if (c->collect.terminator) {
		char key[2] = {c->collect.terminator, '\0'};
		twiml_params_set(&c->results, "FinishedOnKey", key);
	}
	log_info("%s <Gather>: '%s'", ch->uuid, c->collect.digits);
	twiml__action(c, v->u.gather.action, v->u.gather.method, true);
}

static void gather_collect(struct twiml__call *c)
{
	const struct twiml_verb *v = c->verb;
	struct twiml__token *t = twiml__token(c);
	if (!t) {
		twiml__finish(c, -ENOMEM);
		return;
	}
	uint32_t ms = v->u.gather.timeout_s * 1000;
	int rc;
	if (!v->u.gather.dtmf) {
		/* Speech only: irisx recognises none; the caller gets the time. */
		log_warn("%s <Gather input=\"speech\">: speech is not recognised", c->ch->uuid);
		memset(&c->collect, 0, sizeof(c->collect));
		rc = channel_sleep(c->ch, ms, gather_done_cb, t);
	} else {
		memset(&c->collect, 0, sizeof(c->collect));
		c->collect.max = v->u.gather.num_digits ? v->u.gather.num_digits : CORE_DTMF_MAX;
		if (c->collect.max > CORE_DTMF_MAX)
			c->collect.max = CORE_DTMF_MAX;
		c->collect.terminators =
		    v->u.gather.finish_on_key[0] ? v->u.gather.finish_on_key : NULL;
		c->collect.first_timeout_ms = ms;
		c->collect.digit_timeout_ms = ms;
		rc = channel_collect_digits(c->ch, &c->collect, gather_done_cb, t);
	}
	if (rc) {
		log_warn("%s <Gather>: %s", c->ch->uuid, strerror(-rc));
		channel_dtmf_barge(c->ch, false);
		if (channel_up(c->ch))
			twiml__next(c);
		else
			twiml__finish(c, 0);
	}
}

static void gather_run(struct twiml__call *c)
{
	int rc = twiml__answer(c);
	if (rc) {
		twiml__finish(c, rc);
		return;
	}
	channel_dtmf_barge(c->ch, true);
	media_step(c);
}

/* ---- Dial ---- */

static void dial_record_start(struct twiml__call *c);

/*
 * timeLimit: a timer of its own (malloc'd: the call lives in the channel's
 * arena, and a handle's memory must outlive its asynchronous close).
 */
struct twiml__limit {
	uv_timer_t timer;
	struct twiml__call *c; /* NULL once stopped */
};

static void limit_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

static void limit_cb(uv_timer_t *t)
{
	struct twiml__limit *l = t->data;
	struct twiml__call *c = l->c;
	if (!c)
		return;
	struct channel *b = core_channel_find(c->ch->core, c->dial_uuid);
	log_info("%s <Dial timeLimit>: %s time is up", c->ch->uuid, c->dial_uuid);
	twiml__limit_stop(c);
	if (b && channel_up(b))
		channel_hangup(b, CAUSE_NORMAL_CLEARING); /* the bridge ends: completed */
}

int twiml__limit_start(struct twiml__call *c, uint32_t ms)
{
	struct twiml__limit *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	uv_timer_init(c->tw->loop, &l->timer);
	l->timer.data = l;
	l->c = c;
	uv_timer_start(&l->timer, limit_cb, ms, 0);
	c->dial_limit = l;
	return 0;
}

void twiml__limit_stop(struct twiml__call *c)
{
	struct twiml__limit *l = c->dial_limit;
	if (!l)
		return;
	c->dial_limit = NULL;
	l->c = NULL;
	uv_timer_stop(&l->timer);
	uv_close((uv_handle_t *)&l->timer, limit_closed_cb);
}

/* DialCallStatus for the cause an attempt failed with. */
static const char *dial_status(enum core_cause cause)
{
	switch (cause) {
	case CAUSE_USER_BUSY:
	case CAUSE_BUSY_EVERYWHERE:
		return "busy";
	case CAUSE_NO_ANSWER:
	case CAUSE_NO_USER_RESPONSE:
	case CAUSE_ALLOTTED_TIMEOUT:
	case CAUSE_PROGRESS_TIMEOUT:
		return "no-answer";
	case CAUSE_ORIGINATOR_CANCEL:
		return "canceled";
	default:
		return "failed";
	}
}

/* The URL a recording is known by: recording-url-base and the path under
 * the recordings directory, else file://<absolute path>. */
static void recording_url(struct twiml__call *c, const char *relative, const char *absolute,
			  char *out, size_t size)
{
	const char *base = c->tw->set.recording_url_base;
	if (base[0]) {
		size_t n = strlen(base);
		snprintf(out, size, "%s%s%s", base, base[n - 1] == '/' ? "" : "/", relative);
	} else {
		snprintf(out, size, "file://%s", absolute);
	}
}

/* The Dial verb is over: its results go to the action, else the next verb. */
static void dial_over(struct twiml__call *c)
{
	const struct twiml_verb *v = c->verb;
	twiml__limit_stop(c);
	twiml__star_disarm(c);
	twiml_params_set(&c->results, "DialCallStatus", c->dial_status);
	if (c->dial_uuid[0])
		twiml_params_set(&c->results, "DialCallSid", c->dial_uuid);
	if (c->bridged_us) {
		char secs[24];
		uint64_t us = clock_wall_us() - c->bridged_us;
		snprintf(secs, sizeof(secs), "%llu", (unsigned long long)((us + 500000) / 1000000));
		twiml_params_set(&c->results, "DialCallDuration", secs);
	}
	if (c->dial_recording[0]) {
		char url[TWIML_URL_MAX + 4096];
		channel_record_stop(c->ch, c->dial_recording); /* unless B's hangup ended it */
		recording_url(c, c->dial_recording, c->dial_recording_abs, url, sizeof(url));
		twiml_params_set(&c->results, "RecordingUrl", url);
	}
	log_info("%s <Dial>: %s", c->ch->uuid, c->dial_status);
	twiml__action(c, v->u.dial.action, v->u.dial.method, false);
}

static void dial_hangup_b(struct twiml__call *c)
{
	struct channel *b = c->dial_uuid[0] ? core_channel_find(c->ch->core, c->dial_uuid) : NULL;
	if (b && channel_up(b) && !channel_bridged(b))
		channel_hangup(b, CAUSE_NORMAL_CLEARING);
}

static void bridge_done_cb(struct channel *ch, void *arg, int status)
{
	struct twiml__call *c = twiml__token_call(arg);
	if (!c)
		return;
	if (!channel_up(ch)) {
		twiml__finish(c, 0); /* B follows A (the core's bridge) */
		return;
	}
	if (status == -ECANCELED) {
		/* Stopped from outside: B has nothing left to do. */
		dial_hangup_b(c);
		twiml__finish(c, -ECANCELED);
		return;
	}
	c->dial_status = "completed";
	dial_over(c);
}

static void ringback_done_cb(struct channel *ch, void *arg, int status)
{
	struct twiml__call *c = twiml__token_call(arg);
	if (!c)
		return;
	if (!channel_up(ch)) {
		twiml__finish(c, 0); /* cancels the originate */
		return;
	}
	if (status == 0 && c->orig) {
		/* The ringback ran out (it should not): wait on in silence. */
		if (twiml__wait(c) == 0)
			return;
	}
	twiml__finish(c, status ? status : -ECANCELED);
}

static void dial_done_cb(void *arg, struct channel *b, enum core_cause cause)
{
	struct twiml__call *c = arg;
	c->orig = NULL;
	if (c->done || !channel_up(c->ch)) {
		if (b)
			channel_hangup(b, CAUSE_NORMAL_CLEARING);
		return;
	}
	/* The ringback (or wait) ends: stale from now on. */
	c->seq++;
	c->waiting = false;
	channel_stop_media(c->ch);
	if (!b) {
		c->dial_status = dial_status(cause);
		dial_over(c);
		return;
	}
	memcpy(c->dial_uuid, b->uuid, sizeof(c->dial_uuid));
	struct twiml__token *t = twiml__token(c);
	int rc = t ? channel_bridge(c->ch, b, bridge_done_cb, t) : -ENOMEM;
	if (rc) {
		log_warn("%s <Dial>: cannot bridge to %s: %s", c->ch->uuid, b->uuid, strerror(-rc));
		channel_hangup(b, CAUSE_NORMAL_TEMPORARY_FAILURE);
		c->dial_status = "failed";
		dial_over(c);
		return;
	}
	c->bridged_us = clock_wall_us();
	const struct twiml_verb *v = c->verb;
	if (v->u.dial.time_limit_s && twiml__limit_start(c, v->u.dial.time_limit_s * 1000) != 0)
		log_warn("%s <Dial timeLimit>: no timer, no limit", c->ch->uuid);
	if (v->u.dial.hangup_on_star)
		twiml__star_arm(c);
	if (v->u.dial.record == TWIML_DIAL_RECORD_ANSWER ||
	    v->u.dial.record == TWIML_DIAL_RECORD_ANSWER_DUAL) {
		dial_record_start(c);
	}
}

/* Records the call from now on (Dial's record attribute). */
static void dial_record_start(struct twiml__call *c)
{
	snprintf(c->dial_recording, sizeof(c->dial_recording), "twiml/%s-dial-%u.wav", c->ch->uuid,
		 ++c->rec_count);
	int rc = channel_record_start(c->ch, c->dial_recording, 0);
	const char *abs = rc == 0 ? channel_var(c->ch, "recording_path") : NULL;
	if (!abs) {
		log_warn("%s <Dial record>: %s", c->ch->uuid, strerror(rc ? -rc : ENOENT));
		c->dial_recording[0] = '\0';
		return;
	}
	snprintf(c->dial_recording_abs, sizeof(c->dial_recording_abs), "%s", abs);
}

/* A number or SIP URI fit for a dial string: none of the characters its
 * syntax reads. */
static bool dial_safe(const char *s)
{
	return *s && !strpbrk(s, ",|{}[]<>^ \t\r\n\\'\"");
}

static void dial_run(struct twiml__call *c)
{
	const struct twiml_verb *v = c->verb;
	struct channel *ch = c->ch;
	c->dial_uuid[0] = '\0';
	c->dial_recording[0] = '\0';
	c->bridged_us = 0;
	c->dial_status = "failed";
	int rc = twiml__answer(c);
	if (rc) {
		twiml__finish(c, rc);
		return;
	}
	struct buf dial;
	buf_init(&dial);
	buf_printf(&dial, "{originate_timeout=%u", v->u.dial.timeout_s);
	if (v->u.dial.caller_id && dial_safe(v->u.dial.caller_id) &&
	    !strpbrk(v->u.dial.caller_id, "=,"))
		buf_printf(&dial, ",origination_caller_id_number=%s", v->u.dial.caller_id);
	if (v->u.dial.record == TWIML_DIAL_RECORD_ANSWER_DUAL ||
	    v->u.dial.record == TWIML_DIAL_RECORD_RINGING_DUAL)
		channel_var_set(ch, "RECORD_STEREO", "true");
	buf_append_cstr(&dial, "}");
	size_t legs = 0;
	for (size_t i = 0; i < v->u.dial.target_count; i++) {
		const struct twiml_target *tg = &v->u.dial.targets[i];
		if (!dial_safe(tg->address)) {
			log_warn("%s <Dial> line %u: '%s' cannot be dialled", ch->uuid, v->line,
				 tg->address);
			continue;
		}
		if (tg->kind == TWIML_TARGET_NUMBER && !c->tw->set.dial_gateway[0]) {
			log_warn("%s <Number>%s</Number>: no dial-gateway in twiml.conf", ch->uuid,
				 tg->address);
			continue;
		}
		if (legs++)
			buf_append_cstr(&dial, ",");
		if (tg->kind == TWIML_TARGET_NUMBER)
			buf_printf(&dial, "sofia/gateway/%s/%s", c->tw->set.dial_gateway,
				   tg->address);
		else
			buf_printf(&dial, "sofia/%s/%s", c->tw->set.dial_profile, tg->address);
	}
	if (dial.failed || legs == 0) {
		buf_fini(&dial);
		dial_over(c);
		return;
	}
	if (v->u.dial.record == TWIML_DIAL_RECORD_RINGING ||
	    v->u.dial.record == TWIML_DIAL_RECORD_RINGING_DUAL) {
		dial_record_start(c);
	}
	/* The caller hears a ringback while the calls ring: the operation that
	 * tells us when the caller hangs up. */
	struct twiml__token *t = twiml__token(c);
	rc = t ? channel_play(ch, RINGBACK, ringback_done_cb, t) : -ENOMEM;
	if (rc)
		rc = twiml__wait(c);
	char err[256] = "";
	struct core_originate_cbs cbs = {.done_cb = dial_done_cb, .arg = c};
	if (rc == 0)
		rc = core_originate(&c->orig, ch->core, dial.p, ch, &cbs, err, sizeof(err));
	if (rc) {
		log_warn("%s <Dial> %s: %s", ch->uuid, dial.p, err[0] ? err : strerror(-rc));
		c->orig = NULL;
		buf_fini(&dial);
		c->seq++;
		c->waiting = false;
		channel_stop_media(ch);
		dial_over(c);
		return;
	}
	log_info("%s <Dial> %s", ch->uuid, dial.p);
	buf_fini(&dial);
}

/* ---- Record ---- */

static void record_done_cb(struct channel *ch, void *arg, int status)
{
	struct twiml__call *c = twiml__op_end(ch, arg, status);
	if (!c)
		return;
	if (status < 0 || c->rec.sound_ms == 0) {
		/* As Twilio: a recording of nothing is no recording. */
		log_info("%s <Record>: nothing heard%s%s", ch->uuid, status < 0 ? ": " : "",
			 status < 0 ? strerror(-status) : "");
		if (status == 0)
			twiml__file_remove(c->tw->loop, c->rec.path);
		twiml__next(c);
		return;
	}
	const struct twiml_verb *v = c->verb;
	char rel[256], url[TWIML_URL_MAX + 4096], secs[24], sid[40];
	snprintf(rel, sizeof(rel), "twiml/%s-%u.wav", ch->uuid, c->rec_count);
	recording_url(c, rel, c->rec.path, url, sizeof(url));
	snprintf(secs, sizeof(secs), "%llu", (unsigned long long)((c->rec.ms + 500) / 1000));
	size_t n = 0;
	sid[n++] = 'R';
	sid[n++] = 'E';
	for (const char *p = ch->uuid; *p && n + 1 < sizeof(sid); p++)
		if (*p != '-')
			sid[n++] = *p;
	sid[n] = '\0';
	twiml_params_set(&c->results, "RecordingUrl", url);
	twiml_params_set(&c->results, "RecordingDuration", secs);
	twiml_params_set(&c->results, "RecordingSid", sid);
	if (c->rec.end == CHANNEL_RECORD_END_TERMINATOR && c->rec.terminator) {
		char key[2] = {c->rec.terminator, '\0'};
		twiml_params_set(&c->results, "Digits", key);
	}
	log_info("%s <Record>: %s, %s s", ch->uuid, c->rec.path, secs);
	twiml__action(c, v->u.record.action, v->u.record.method, true);
}

static void record_begin(struct twiml__call *c)
{
	const struct twiml_verb *v = c->verb;
	char rel[256];
	memset(&c->rec, 0, sizeof(c->rec));
	c->rec.limit_ms = v->u.record.max_length_s * 1000;
	c->rec.silence_ms = v->u.record.timeout_s * 1000;
	c->rec.terminators = v->u.record.finish_on_key[0] ? v->u.record.finish_on_key : NULL;
	snprintf(rel, sizeof(rel), "twiml/%s-%u.wav", c->ch->uuid, ++c->rec_count);
	struct twiml__token *t = twiml__token(c);
	int rc = t ? channel_record_read(c->ch, rel, &c->rec, record_done_cb, t) : -ENOMEM;
	if (rc) {
		log_warn("%s <Record> line %u: %s", c->ch->uuid, v->line, strerror(-rc));
		if (channel_up(c->ch))
			twiml__next(c);
		else
			twiml__finish(c, 0);
	}
}

static void beep_done_cb(struct channel *ch, void *arg, int status)
{
	struct twiml__call *c = twiml__op_end(ch, arg, status);
	if (!c)
		return;
	record_begin(c);
}

static void record_run(struct twiml__call *c)
{
	int rc = twiml__answer(c);
	if (rc) {
		twiml__finish(c, rc);
		return;
	}
	if (!c->verb->u.record.play_beep) {
		record_begin(c);
		return;
	}
	struct twiml__token *t = twiml__token(c);
	rc = t ? channel_play(c->ch, BEEP, beep_done_cb, t) : -ENOMEM;
	if (rc)
		record_begin(c);
}

/* ---- Redirect, Hangup, Reject ---- */

static void redirect_run(struct twiml__call *c)
{
	const struct twiml_verb *v = c->verb;
	char url[TWIML_URL_MAX];
	if (!v->u.redirect.url[0] ||
	    twiml_url_resolve(c->doc_url, v->u.redirect.url, url, sizeof(url)) != 0) {
		log_warn("%s <Redirect> line %u: '%s' is not an http(s) URL", c->ch->uuid, v->line,
			 v->u.redirect.url);
		twiml__next(c);
		return;
	}
	twiml__request(c, url, v->u.redirect.method);
}

static void reject_run(struct twiml__call *c)
{
	bool busy = c->verb->u.reject.busy;
	struct channel *ch = c->ch;
	if (ch->direction == CHANNEL_INBOUND && !channel_answered(ch)) {
		int rc = busy ? channel_respond(ch, 486, "Busy Here")
			      : channel_respond(ch, 603, "Decline");
		if (rc == 0) {
			twiml__finish(c, 0);
			return;
		}
	}
	twiml__hangup(c, busy ? CAUSE_USER_BUSY : CAUSE_CALL_REJECTED);
}

void twiml__verb_run(struct twiml__call *c)
{
	switch (c->verb->kind) {
	case TWIML_SAY:
	case TWIML_PLAY:
	case TWIML_PAUSE:
		media_step(c);
		return;
	case TWIML_GATHER:
		gather_run(c);
		return;
	case TWIML_DIAL:
		dial_run(c);
		return;
	case TWIML_RECORD:
		record_run(c);
		return;
	case TWIML_REDIRECT:
		redirect_run(c);
		return;
	case TWIML_HANGUP:
		twiml__hangup(c, CAUSE_NORMAL_CLEARING);
		return;
	case TWIML_REJECT:
		reject_run(c);
		return;
	}
}
