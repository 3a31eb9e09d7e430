/*
 * Bridging two channels, as FreeSWITCH's switch_ivr bridge does for mod_sofia
 * legs: their media flows between them (media_stream_bridge), CHANNEL_BRIDGE
 * and CHANNEL_UNBRIDGE fire on the A side with the Bridge-A/B-Unique-ID and
 * Other-Leg-* headers, and the variables FreeSWITCH sets (bridge_to,
 * last_bridge_to, signal_bond, bridge_uuid, bridge_channel) are set on both.
 *
 * The bridge is an asynchronous operation of the A side (struct channel_op,
 * OP_BRIDGE), so it ends by the same rules as a playback: stopped, replaced
 * or hung up. The hangup rules are FreeSWITCH's:
 *  - A hangs up: the bridge ends and B follows with A's cause
 *    (ORIGINATOR_CANCEL while B has not answered), or parks when B's
 *    park_after_bridge is true;
 *  - B hangs up: the bridge ends, A's operation completes with 0 and A stays
 *    up for its owner to decide; B's cause is left on A as
 *    bridge_hangup_cause / last_bridge_hangup_cause, since B itself is gone
 *    by the time the callback runs.
 * B may still be ringing with early media: the streams stay bridged when its
 * answer restarts its stream with the final SDP.
 */
#define LOG_MODULE "core"
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The A side is the one whose operation is the bridge. */
static bool bridge_is_a(const struct channel *ch)
{
	return ch->bridged && ch->op && ch->op->kind == OP_BRIDGE;
}

static bool media_running(const struct channel *ch)
{
	return ch->media && ch->media->stream && ch->media->started;
}

void core__bridge_event_headers(const struct channel *ch, struct core_event *ev)
{
	const struct channel *o = ch->bridged;
	if (!o)
		return;
	char name[512];
	struct channel_peer peer;
	core__channel_peer_of(&peer, o, name, sizeof(name));
	/* From A's side B is the originatee; from B's, A the originator. */
	core__other_leg_headers(ev, bridge_is_a(ch) ? "originatee" : "originator", &peer);
	core_event_add_header(ev, "Other-Leg-Channel-Answered-Time", "%llu",
			      (unsigned long long)o->answered_us);
	core_event_add_header(ev, "Other-Leg-Channel-Hangup-Time", "%llu",
			      (unsigned long long)o->hangup_us);
}

static void bridge_extra(void *arg, struct core_event *ev)
{
	const struct channel *a = arg;
	core_event_add_header(ev, "Bridge-A-Unique-ID", "%s", a->uuid);
	core_event_add_header(ev, "Bridge-B-Unique-ID", "%s", a->bridged->uuid);
}

/* What FreeSWITCH leaves on a leg about the other one. */
static void bridge_vars_set(struct channel *ch, const struct channel *other)
{
	char name[512];
	channel_var_set(ch, "bridge_to", other->uuid);
	channel_var_set(ch, "last_bridge_to", other->uuid);
	channel_var_set(ch, "signal_bond", other->uuid);
	channel_var_set(ch, "bridge_uuid", other->uuid);
	channel_var_set(ch, "bridge_channel", core__channel_name(other, name, sizeof(name)));
	/* The first bridge's time (FreeSWITCH's bridge_uepoch): the CDR's bridged_us. */
	if (!channel_var(ch, "bridge_uepoch")) {
		snprintf(name, sizeof(name), "%llu", (unsigned long long)clock_wall_us());
		channel_var_set(ch, "bridge_uepoch", name);
	}
}

int channel_bridge(struct channel *a, struct channel *b, channel_done_cb cb, void *arg)
{
	if (!a || !b || a == b || !channel_up(a) || !channel_up(b) || a->bridged || b->bridged)
		return -EINVAL;
	if (!media_running(a) || !media_running(b))
		return -EPROTO;
	struct channel_op *op = core__op_begin(a, OP_BRIDGE, cb, arg);
	if (!op)
		return -ENOMEM;
	int err = media_stream_bridge(a->media->stream, b->media->stream);
	if (err) {
		a->op = NULL;
		free(op);
		log_warn("[%s] cannot bridge to %s: %s", a->uuid, b->uuid, strerror(-err));
		return err;
	}
	core__dtmf_bridge(a, b);
	/* What B was doing (a playback, ringback) gives way to A's audio. */
	channel_stop_media(b);
	a->bridged = b;
	b->bridged = a;
	bridge_vars_set(a, b);
	bridge_vars_set(b, a);
	log_info("[%s] bridged to %s", a->uuid, b->uuid);
	channel_event_fire(a, "CHANNEL_BRIDGE", bridge_extra, a);
	return 0;
}

void core__bridge_end(struct channel *a)
{
	struct channel *b = a->bridged;
	if (!b)
		return;
	struct media_stream *s = a->media && a->media->stream	? a->media->stream
				 : b->media && b->media->stream ? b->media->stream
								: NULL;
	if (s)
		media_stream_unbridge(s);
	/* Fired while the legs still know each other: Other-Leg-* describe B. */
	channel_event_fire(a, "CHANNEL_UNBRIDGE", bridge_extra, a);
	channel_var_set(a, "bridge_to", NULL);
	channel_var_set(b, "bridge_to", NULL);
	a->bridged = NULL;
	b->bridged = NULL;
	log_info("[%s] unbridged from %s", a->uuid, b->uuid);
}

void core__bridge_hangup(struct channel *ch)
{
	struct channel *other = ch->bridged;
	if (!other)
		return;
	if (!bridge_is_a(ch)) {
		/* B is gone: A's bridge completes, A's owner decides. */
		const char *cause = core_cause_name(ch->cause);
		channel_var_set(other, "bridge_hangup_cause", cause);
		channel_var_set(other, "last_bridge_hangup_cause", cause);
		core__op_finish(other, 0);
		return;
	}
	enum core_cause cause = ch->cause != CAUSE_NONE ? ch->cause : CAUSE_NORMAL_CLEARING;
	/* A leg still ringing (early media) is cancelled, as FreeSWITCH does. */
	if (!other->answered)
		cause = CAUSE_ORIGINATOR_CANCEL;
	core__op_finish(ch, -ECANCELED); /* unbridges: other->bridged is NULL after */
	if (!channel_up(other))
		return;
	const char *pab = channel_var(other, "park_after_bridge");
	if (pab && config_is_true(pab)) {
		log_info("[%s] the other leg hung up: parking (park_after_bridge)", other->uuid);
		channel_park(other);
		return;
	}
	channel_hangup(other, cause);
}

void channel_unbridge(struct channel *ch)
{
	if (!ch || !ch->bridged)
		return;
	core__op_finish(bridge_is_a(ch) ? ch : ch->bridged, -ECANCELED);
}

struct channel *channel_bridged(const struct channel *ch)
{
	return ch ? ch->bridged : NULL;
}
