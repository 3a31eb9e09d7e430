/*
 * The first applications: call control (answer, pre_answer, ring_ready,
 * respond, hangup, park), media (playback, speak, echo, sleep) and
 * variables (set, export, unset, log); bridge and send_dtmf are
 * app_bridge.c's. Each takes its data already expanded
 * and returns DIALPLAN_APP_DONE, DIALPLAN_APP_PENDING (the core calls `cb`
 * when the media operation ends) or DIALPLAN_APP_STOP (the channel left the
 * executor). Nothing here waits.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <string.h>

#define LOG_MODULE "dialplan"

/* A failed signalling step ends the executor when it ended the call. */
static int signalled(struct channel *ch, int rc)
{
	if (rc < 0 && !channel_up(ch))
		return DIALPLAN_APP_STOP;
	return rc < 0 ? rc : DIALPLAN_APP_DONE;
}

static int pending(int rc)
{
	return rc < 0 ? rc : DIALPLAN_APP_PENDING;
}

/* A NUL-terminated copy in the channel's arena, for what the core may keep. */
static const char *keep(struct channel *ch, struct str s)
{
	return arena_strndup(&ch->arena, s);
}

static int app_sleep(struct channel *ch, const char *data, channel_done_cb cb, void *arg)
{
	uint32_t ms;
	if (dialplan__parse_ms(data, &ms) != 0)
		return -EINVAL;
	if (ms == 0)
		return DIALPLAN_APP_DONE;
	return pending(channel_sleep(ch, ms, cb, arg));
}

static int app_playback(struct channel *ch, const char *data, channel_done_cb cb, void *arg)
{
	struct str spec = str_trim(str_from_cstr(data));
	const char *s;
	if (spec.len == 0)
		return -EINVAL;
	if (!(s = keep(ch, spec)))
		return -ENOMEM;
	return pending(channel_play(ch, s, cb, arg));
}

static int app_speak(struct channel *ch, const char *data, const struct dialplan_vars *vars,
		     channel_done_cb cb, void *arg)
{
	struct str engine, voice, text;
	const char *v = NULL, *t;

	dialplan__parse_speak(data, &engine, &voice, &text);
	text = str_trim(text);
	if (text.len == 0)
		return -EINVAL;
	/* espeak-ng is the only engine: an engine name (flite, …) is accepted and
	 * the voice passed on; without one, tts_voice as FreeSWITCH reads it */
	if (voice.len)
		v = keep(ch, voice);
	else if (vars->get_cb && (v = vars->get_cb(vars->arg, "tts_voice")) && *v)
		v = keep(ch, str_from_cstr(v));
	else
		v = NULL;
	if (!(t = keep(ch, text)))
		return -ENOMEM;
	return pending(channel_speak(ch, t, v, cb, arg));
}

static int app_hangup(struct channel *ch, const char *data)
{
	enum core_cause cause;
	if (dialplan__parse_cause(data, &cause) != 0) {
		log_warn("%s hangup: '%s' is not a cause, using NORMAL_CLEARING", ch->uuid, data);
		cause = CAUSE_NORMAL_CLEARING;
	}
	channel_hangup(ch, cause);
	return DIALPLAN_APP_STOP;
}

static int app_respond(struct channel *ch, const char *data)
{
	uint16_t status;
	struct str reason;
	char text[128];

	if (dialplan__parse_respond(data, &status, &reason) != 0)
		return -EINVAL;
	if (status == 180)
		return signalled(ch, channel_ring_ready(ch));
	if (status == 183)
		return signalled(ch, channel_pre_answer(ch));
	if (status < 300)
		return -EINVAL;
	if (str_copy_cstr(reason, text, sizeof(text)) != 0)
		text[0] = '\0';
	int rc = channel_respond(ch, status, text[0] ? text : NULL);
	return rc < 0 ? rc : DIALPLAN_APP_STOP;
}

/* transfer <destination> [<dialplan> [<context>]]: routes the channel again
 * (the dialplan name is XML whatever it says: the only one). */
static int app_transfer(struct channel *ch, const char *data)
{
	char buf[512], *argv[3];
	int argc = dialplan__originate_split(data, buf, sizeof(buf), argv, 3);
	if (argc < 1 || !*argv[0])
		return -EINVAL;
	int rc = dialplan__exec_transfer(ch, argv[0], argc > 2 ? argv[2] : NULL);
	return rc < 0 && channel_up(ch) ? rc : DIALPLAN_APP_STOP;
}

int dialplan__app_run(struct channel *ch, const struct dialplan_app *app, const char *data,
		      const struct dialplan_vars *vars, channel_done_cb cb, void *arg)
{
	int rc;

	switch (dialplan__app_id(app)) {
	case DIALPLAN__APP_ANSWER:
		return signalled(ch, channel_answer(ch));
	case DIALPLAN__APP_PRE_ANSWER:
		return signalled(ch, channel_pre_answer(ch));
	case DIALPLAN__APP_RING_READY:
		return signalled(ch, channel_ring_ready(ch));
	case DIALPLAN__APP_RESPOND:
		return app_respond(ch, data);
	case DIALPLAN__APP_HANGUP:
		return app_hangup(ch, data);
	case DIALPLAN__APP_PARK:
		channel_park(ch);
		return DIALPLAN_APP_STOP;
	case DIALPLAN__APP_SLEEP:
		return app_sleep(ch, data, cb, arg);
	case DIALPLAN__APP_PLAYBACK:
		return app_playback(ch, data, cb, arg);
	case DIALPLAN__APP_SPEAK:
		return app_speak(ch, data, vars, cb, arg);
	case DIALPLAN__APP_ECHO:
		return pending(channel_echo(ch, cb, arg));
	case DIALPLAN__APP_BRIDGE:
		return dialplan__app_bridge(ch, data, cb, arg);
	case DIALPLAN__APP_SEND_DTMF:
		return dialplan__app_send_dtmf(ch, data);
	case DIALPLAN__APP_RECORD:
		return dialplan__app_record(ch, data, cb, arg);
	case DIALPLAN__APP_RECORD_SESSION:
		return dialplan__app_record_session(ch, data);
	case DIALPLAN__APP_STOP_RECORD_SESSION:
		return dialplan__app_stop_record_session(ch, data);
	case DIALPLAN__APP_PLAY_AND_GET_DIGITS:
		return dialplan__app_digits(ch, false, data, cb, arg);
	case DIALPLAN__APP_READ:
		return dialplan__app_digits(ch, true, data, cb, arg);
	case DIALPLAN__APP_TRANSFER:
		return app_transfer(ch, data);
	case DIALPLAN__APP_IVR:
		return dialplan__app_ivr(ch, data, vars, cb, arg);
	case DIALPLAN__APP_FLUSH_DTMF:
		channel_dtmf_flush(ch);
		return DIALPLAN_APP_DONE;
	case DIALPLAN__APP_START_DTMF:
	case DIALPLAN__APP_SPANDSP_START_DTMF:
		return signalled(ch, channel_dtmf_detect_start(ch));
	case DIALPLAN__APP_STOP_DTMF:
	case DIALPLAN__APP_SPANDSP_STOP_DTMF:
		channel_dtmf_detect_stop(ch);
		return DIALPLAN_APP_DONE;
	case DIALPLAN__APP_SET:
	case DIALPLAN__APP_EXPORT:
	case DIALPLAN__APP_UNSET:
	case DIALPLAN__APP_LOG:
		rc = dialplan__inline_run(app, vars, data, ch->uuid);
		return rc < 0 ? rc : DIALPLAN_APP_DONE;
	case DIALPLAN__APP_COUNT: {
		const struct dialplan__extra *x = dialplan__app_extra(app);
		return x ? x->run(x->arg, ch, data, cb, arg) : -ENOENT;
	}
	}
	return -ENOENT;
}
