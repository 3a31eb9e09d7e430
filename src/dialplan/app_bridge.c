/*
 * The bridge application (FreeSWITCH's mod_dptools bridge): places the calls
 * a dial string describes (core_originate, with this channel as the A leg)
 * and bridges the one that answers to the caller. And send_dtmf.
 *
 * While B rings, A is told: 180 when B rings; with B's early media (183 with
 * SDP) and A not answered, A is pre-answered and the early media bridged
 * (FreeSWITCH's default; ignore_early_media=true keeps A waiting, and
 * bridge_early_media=true bridges it even when A has answered already). When
 * B answers, A is answered (if not yet) and the legs bridged (the early
 * bridge is kept when the same leg answers).
 *
 * Failure sets originate_disposition, originate_failed_cause and DIALSTATUS
 * on A, then the dialplan goes on when continue_on_fail is true or lists the
 * cause (names or Q.850 numbers, comma separated); otherwise A hangs up with
 * the cause, as FreeSWITCH does. After a bridge that B ended,
 * hangup_after_bridge=true hangs A up with B's cause, park_after_bridge=true
 * parks it, and otherwise the next action runs. A bridge A leaves without B
 * hanging up (A transferred, unbridged) hangs B up (dialplan__bleg_release).
 *
 * A hanging up while B rings cancels the originate (ORIGINATOR_CANCEL on B).
 * To learn of it the application always holds an operation on A: a wait
 * (channel_sleep) while B rings, then the bridge. Operations end from the run
 * queue, and this state lives in A's arena, so a callback never finds it gone.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "dialplan"

enum bridge_phase {
	PH_RINGING, /* the originate runs; A waits */
	PH_EARLY,   /* A bridged to a leg's early media; the originate runs */
	PH_BRIDGED, /* A bridged to the leg that answered */
	PH_DONE,    /* the executor was told */
};

struct app_bridge {
	struct channel *a;
	struct dialplan__bleg b;  /* the leg bridged after the answer */
	struct core_originate *o; /* NULL once it ended or was cancelled */
	enum bridge_phase phase;
	unsigned seq; /* the operation of ours that A holds now; older ones are stale */
	channel_done_cb cb;
	void *cb_arg;
};

/* What an operation's callback gets: which operation it was. In A's arena. */
struct bridge_token {
	struct app_bridge *x;
	unsigned seq;
};

static void op_cb(struct channel *a, void *arg, int status);

static struct bridge_token *token_new(struct app_bridge *x)
{
	struct bridge_token *t = arena_alloc(&x->a->arena, sizeof(*t));
	if (t) {
		t->x = x;
		t->seq = ++x->seq;
	}
	return t;
}

static bool var_true(const struct channel *ch, const char *name)
{
	const char *v = channel_var(ch, name);
	return v && config_is_true(v);
}

/* The executor learns the application ended (once). */
static void finish(struct app_bridge *x, int status)
{
	if (x->phase == PH_DONE)
		return;
	x->phase = PH_DONE;
	x->seq++; /* any operation of ours still ending is stale now */
	if (x->cb)
		x->cb(x->a, x->cb_arg, status);
}

/* A waits for the originate: an operation whose end tells us A hung up. */
static int wait_arm(struct app_bridge *x)
{
	struct bridge_token *t = token_new(x);
	if (!t)
		return -ENOMEM;
	return channel_sleep(x->a, UINT32_MAX, op_cb, t);
}

/* The word DIALSTATUS takes for a cause (FreeSWITCH's, after Asterisk's). */
static const char *dialstatus(enum core_cause c)
{
	switch (c) {
	case CAUSE_USER_BUSY:
	case CAUSE_BUSY_EVERYWHERE:
		return "BUSY";
	case CAUSE_NO_ANSWER:
	case CAUSE_NO_USER_RESPONSE:
	case CAUSE_ALLOTTED_TIMEOUT:
	case CAUSE_PROGRESS_TIMEOUT:
		return "NOANSWER";
	case CAUSE_ORIGINATOR_CANCEL:
		return "CANCEL";
	case CAUSE_INVALID_NUMBER_FORMAT:
	case CAUSE_INVALID_URL:
	case CAUSE_INVALID_PROFILE:
		return "INVALIDARGS";
	case CAUSE_CALL_REJECTED:
	case CAUSE_DECLINE:
		return "DONTCALL";
	default:
		return "CHANUNAVAIL";
	}
}

/* continue_on_fail: "true", or a list of causes (names or Q.850 numbers). */
static bool continue_on(const char *list, enum core_cause cause)
{
	if (!list || !*list)
		return false;
	if (config_is_true(list))
		return true;
	struct str rest = str_from_cstr(list);
	while (rest.len) {
		ptrdiff_t comma = str_find_char(rest, ',');
		struct str item = comma < 0 ? rest : str_make(rest.p, (size_t)comma);
		rest = comma < 0 ? STR_NULL
				 : str_make(rest.p + comma + 1, rest.len - (size_t)comma - 1);
		char name[64];
		enum core_cause c;
		if (str_copy_cstr(str_trim(item), name, sizeof(name)) == 0 &&
		    core_cause_parse(name, &c) == 0 && c == cause)
			return true;
	}
	return false;
}

static void fail(struct app_bridge *x, enum core_cause cause)
{
	struct channel *a = x->a;
	if (cause == CAUSE_NONE)
		cause = CAUSE_NORMAL_TEMPORARY_FAILURE;
	const char *name = core_cause_name(cause);
	channel_var_set(a, "originate_disposition", name);
	channel_var_set(a, "originate_failed_cause", name);
	channel_var_set(a, "DIALSTATUS", dialstatus(cause));
	log_info("%s bridge failed: %s", a->uuid, name);
	if (channel_up(a) && !continue_on(channel_var(a, "continue_on_fail"), cause))
		channel_hangup(a, cause);
	finish(x, 0);
}

/* The bridge with the answered leg ended: B hung up (0) or it was stopped. */
static void bridge_over(struct app_bridge *x, int status)
{
	struct channel *a = x->a;
	if (status == 0 && var_true(a, "hangup_after_bridge")) {
		enum core_cause cause = CAUSE_NORMAL_CLEARING;
		const char *bc = channel_var(a, "bridge_hangup_cause");
		if (bc && core_cause_parse(bc, &cause) != 0)
			cause = CAUSE_NORMAL_CLEARING;
		channel_hangup(a, cause);
	} else if (status == 0 && var_true(a, "park_after_bridge")) {
		channel_park(a);
	} else if (status != 0) {
		dialplan__bleg_release(a->core, &x->b); /* A left the bridge, B stayed */
	}
	finish(x, status);
}

void dialplan__bleg_note(struct dialplan__bleg *l, const struct channel *b)
{
	memcpy(l->uuid, b->uuid, sizeof(l->uuid));
	dialplan__exec_mark(b, &l->mark);
}

void dialplan__bleg_release(struct core *core, const struct dialplan__bleg *l)
{
	struct channel *b = l->uuid[0] ? core_channel_find(core, l->uuid) : NULL;
	if (!b || !channel_up(b) || channel_bridged(b) || dialplan__exec_moved(b, &l->mark))
		return;
	if (var_true(b, "park_after_bridge")) {
		channel_park(b);
		return;
	}
	log_info("%s the bridge ended: hanging up", b->uuid);
	channel_hangup(b, CAUSE_NORMAL_CLEARING);
}

static void op_cb(struct channel *a, void *arg, int status)
{
	struct bridge_token *t = arg;
	struct app_bridge *x = t->x;
	if (t->seq != x->seq || x->phase == PH_DONE)
		return; /* an operation we replaced ourselves */
	x->seq++;
	if (!channel_up(a)) {
		/* A hung up: the legs still ringing are cancelled. */
		if (x->o) {
			core_originate_cancel(x->o, CAUSE_ORIGINATOR_CANCEL);
			x->o = NULL;
		}
		finish(x, -ECANCELED);
		return;
	}
	if (x->phase == PH_BRIDGED) {
		bridge_over(x, status);
		return;
	}
	if (x->phase == PH_EARLY && status == 0 && x->o) {
		/* The early leg went away while the originate goes on (another leg,
		 * the next group): wait again. */
		x->phase = PH_RINGING;
		if (wait_arm(x) == 0)
			return;
	}
	/* Stopped while ringing (uuid_break, a transfer): the attempt is over. */
	if (x->o) {
		core_originate_cancel(x->o, CAUSE_ORIGINATOR_CANCEL);
		x->o = NULL;
	}
	finish(x, status ? status : -ECANCELED);
}

static void progress_cb(void *arg, struct channel *leg, bool media)
{
	struct app_bridge *x = arg;
	struct channel *a = x->a;
	if (x->phase != PH_RINGING || !channel_up(a))
		return;
	if (!media) {
		channel_ring_ready(a);
		return;
	}
	bool early = (!channel_answered(a) && !var_true(a, "ignore_early_media")) ||
		     var_true(a, "bridge_early_media");
	if (!early) {
		channel_ring_ready(a);
		return;
	}
	int rc = channel_answered(a) ? 0 : channel_pre_answer(a);
	struct bridge_token *t = rc ? NULL : token_new(x);
	if (!t) {
		log_warn("%s cannot pass early media: %s", a->uuid, strerror(rc ? -rc : ENOMEM));
		return;
	}
	rc = channel_bridge(a, leg, op_cb, t);
	if (rc) {
		log_warn("%s cannot bridge early media of %s: %s", a->uuid, leg->uuid,
			 strerror(-rc));
		/* The wait may have ended with the attempt: wait anew. */
		if (wait_arm(x) != 0 && x->o) {
			core_originate_cancel(x->o, CAUSE_ORIGINATOR_CANCEL);
			x->o = NULL;
			fail(x, CAUSE_DESTINATION_OUT_OF_ORDER);
		}
		return;
	}
	x->phase = PH_EARLY;
}

static void done_cb(void *arg, struct channel *b, enum core_cause cause)
{
	struct app_bridge *x = arg;
	struct channel *a = x->a;
	x->o = NULL;
	if (x->phase == PH_DONE || !channel_up(a)) {
		/* A went while the answer was on its way: B follows it. */
		if (b)
			channel_hangup(b,
				       a->cause != CAUSE_NONE ? a->cause : CAUSE_NORMAL_CLEARING);
		return;
	}
	if (!b) {
		channel_stop_media(a); /* our wait, or the early bridge */
		fail(x, cause);
		return;
	}
	channel_var_set(a, "originate_disposition", "SUCCESS");
	channel_var_set(a, "DIALSTATUS", "SUCCESS");
	int rc = channel_answered(a) ? 0 : channel_answer(a);
	if (rc) {
		log_warn("%s cannot answer for the bridge: %s", a->uuid, strerror(-rc));
		channel_hangup(b, CAUSE_NORMAL_TEMPORARY_FAILURE);
		if (channel_up(a))
			channel_hangup(a, CAUSE_NORMAL_TEMPORARY_FAILURE);
		finish(x, rc);
		return;
	}
	dialplan__bleg_note(&x->b, b);
	if (channel_bridged(a) == b) {
		x->phase = PH_BRIDGED; /* its early media was bridged: the bridge stays */
		return;
	}
	if (channel_bridged(a))
		channel_unbridge(a); /* another leg's early media */
	struct bridge_token *t = token_new(x);
	rc = t ? channel_bridge(a, b, op_cb, t) : -ENOMEM;
	if (rc) {
		log_warn("%s cannot bridge to %s: %s", a->uuid, b->uuid, strerror(-rc));
		channel_hangup(b, CAUSE_NORMAL_TEMPORARY_FAILURE);
		fail(x, CAUSE_NORMAL_TEMPORARY_FAILURE);
		return;
	}
	x->phase = PH_BRIDGED;
}

int dialplan__app_bridge(struct channel *ch, const char *data, channel_done_cb cb, void *arg)
{
	struct str ds = str_trim(str_from_cstr(data));
	char err[256] = "";
	if (ds.len == 0)
		return -EINVAL;
	if (channel_bridged(ch))
		return -EBUSY;
	struct app_bridge *x = arena_alloc(&ch->arena, sizeof(*x));
	const char *dial = arena_strndup(&ch->arena, ds);
	if (!x || !dial)
		return -ENOMEM;
	memset(x, 0, sizeof(*x));
	x->a = ch;
	x->cb = cb;
	x->cb_arg = arg;
	x->phase = PH_RINGING;
	int rc = wait_arm(x);
	if (rc)
		return rc;
	struct core_originate_cbs cbs = {.progress_cb = progress_cb, .done_cb = done_cb, .arg = x};
	rc = core_originate(&x->o, ch->core, dial, ch, &cbs, err, sizeof(err));
	if (rc) {
		log_warn("%s bridge %s: %s", ch->uuid, dial, err[0] ? err : strerror(-rc));
		x->o = NULL;
		x->cb = NULL; /* nothing pending: the status returned tells the executor */
		channel_stop_media(ch); /* the wait */
		/* A dial string that does not parse fails as any failed attempt. */
		fail(x, CAUSE_INVALID_URL);
		return channel_up(ch) ? DIALPLAN_APP_DONE : DIALPLAN_APP_STOP;
	}
	return DIALPLAN_APP_PENDING;
}

int dialplan__app_send_dtmf(struct channel *ch, const char *data)
{
	char digits[CORE_DTMF_MAX + 1];
	uint32_t ms;
	if (core_dtmf_parse(data, digits, &ms) != 0)
		return -EINVAL;
	int rc = channel_send_dtmf(ch, digits, ms);
	return rc < 0 ? rc : DIALPLAN_APP_DONE;
}

int dialplan__check_dtmf(const char *data, char *why, size_t why_size)
{
	char digits[CORE_DTMF_MAX + 1];
	uint32_t ms;
	if (core_dtmf_parse(data, digits, &ms) == 0)
		return 0;
	snprintf(why, why_size, "'%s' is not DTMF (digits 0-9 * # A-D w W, then @<ms> if any)",
		 data);
	return -EINVAL;
}
