/*
 * Channel events: FreeSWITCH's channel headers (Channel-*, Caller-*, the
 * channel variables as variable_<name>) on every CHANNEL_* event, the
 * CHANNEL_STATE of each state change and the CHANNEL_CALLSTATE of each call
 * state change (DOWN, RINGING, EARLY, ACTIVE, HANGUP).
 */
#include "core_int.h"

#include <stdio.h>
#include <string.h>

static const char *channel_callstate(const struct channel *ch)
{
	if (ch->state >= CS_HANGUP)
		return "HANGUP";
	if (ch->answered)
		return "ACTIVE";
	if (ch->early_media)
		return "EARLY";
	if (ch->progress_us)
		return "RINGING";
	return "DOWN";
}

static const char *channel_answer_state(const struct channel *ch)
{
	if (ch->state >= CS_HANGUP)
		return "hangup";
	if (ch->answered)
		return "answered";
	return ch->early_media ? "early" : "ringing";
}

static void channel_var_header_cb(void *arg, const char *name, const char *value)
{
	struct core_event *ev = arg;
	char hname[256];
	int len = snprintf(hname, sizeof(hname), "variable_%s", name);
	if (len > 0 && (size_t)len < sizeof(hname))
		core_event_add_header(ev, hname, "%s", value);
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* The channel an outbound leg was placed for, as FreeSWITCH describes it on
 * the leg's events (its originator caller profile). */
const char *core__channel_name(const struct channel *ch, char *buf, size_t size)
{
	const char *given = channel_var(ch, "channel_name");
	if (given)
		return given;
	snprintf(buf, size, "sofia/%s/%s@%s", nz(ch->profile), nz(ch->caller_id_number),
		 nz(ch->network_addr));
	return buf;
}

void core__channel_peer_of(struct channel_peer *p, const struct channel *ch, char *name_buf,
			   size_t size)
{
	*p = (struct channel_peer){
	    .direction = ch->direction,
	    .caller_id_name = ch->caller_id_name,
	    .caller_id_number = ch->caller_id_number,
	    .destination_number = ch->destination_number,
	    .network_addr = ch->network_addr,
	    .context = ch->context,
	    .dialplan = ch->dialplan,
	    .channel_name = core__channel_name(ch, name_buf, size),
	    .created_us = ch->created_us,
	};
	memcpy(p->uuid, ch->uuid, UUID_STRLEN);
}

void core__other_leg_headers(struct core_event *ev, const char *type,
			     const struct channel_peer *o)
{
	const char *dir = o->direction == CHANNEL_INBOUND ? "inbound" : "outbound";
	core_event_add_header(ev, "Other-Type", "%s", type);
	core_event_add_header(ev, "Other-Leg-Direction", "%s", dir);
	core_event_add_header(ev, "Other-Leg-Logical-Direction", "%s", dir);
	core_event_add_header(ev, "Other-Leg-Dialplan", "%s", nz(o->dialplan));
	core_event_add_header(ev, "Other-Leg-Caller-ID-Name", "%s", nz(o->caller_id_name));
	core_event_add_header(ev, "Other-Leg-Caller-ID-Number", "%s", nz(o->caller_id_number));
	core_event_add_header(ev, "Other-Leg-Orig-Caller-ID-Name", "%s", nz(o->caller_id_name));
	core_event_add_header(ev, "Other-Leg-Orig-Caller-ID-Number", "%s", nz(o->caller_id_number));
	core_event_add_header(ev, "Other-Leg-Network-Addr", "%s", nz(o->network_addr));
	core_event_add_header(ev, "Other-Leg-ANI", "%s", nz(o->caller_id_number));
	core_event_add_header(ev, "Other-Leg-Destination-Number", "%s", nz(o->destination_number));
	core_event_add_header(ev, "Other-Leg-Unique-ID", "%s", o->uuid);
	core_event_add_header(ev, "Other-Leg-Source", "mod_sofia");
	core_event_add_header(ev, "Other-Leg-Context", "%s", nz(o->context));
	core_event_add_header(ev, "Other-Leg-Channel-Name", "%s", nz(o->channel_name));
	core_event_add_header(ev, "Other-Leg-Profile-Created-Time", "%llu",
			      (unsigned long long)o->created_us);
	core_event_add_header(ev, "Other-Leg-Channel-Created-Time", "%llu",
			      (unsigned long long)o->created_us);
}

/* The headers FreeSWITCH puts on every channel event, in its order. */
static void channel_headers(struct channel *ch, struct core_event *ev)
{
	const char *dir = ch->direction == CHANNEL_INBOUND ? "inbound" : "outbound";
	char cname[512];
	core_event_add_header(ev, "Channel-State", "%s", channel_state_name(ch->state));
	core_event_add_header(ev, "Channel-Call-State", "%s", channel_callstate(ch));
	core_event_add_header(ev, "Channel-State-Number", "%d", (int)ch->state);
	core_event_add_header(ev, "Channel-Name", "%s",
			      core__channel_name(ch, cname, sizeof(cname)));
	core_event_add_header(ev, "Unique-ID", "%s", ch->uuid);
	core_event_add_header(ev, "Call-Direction", "%s", dir);
	core_event_add_header(ev, "Presence-Call-Direction", "%s", dir);
	core_event_add_header(ev, "Channel-HIT-Dialplan", "%s",
			      ch->state >= CS_ROUTING ? "true" : "false");
	core_event_add_header(ev, "Channel-Call-UUID", "%s", ch->uuid);
	core_event_add_header(ev, "Answer-State", "%s", channel_answer_state(ch));
	if (ch->media && ch->media->codec_name) {
		core_event_add_header(ev, "Channel-Read-Codec-Name", "%s", ch->media->codec_name);
		core_event_add_header(ev, "Channel-Read-Codec-Rate", "%u", ch->media->audio_rate);
		core_event_add_header(ev, "Channel-Write-Codec-Name", "%s", ch->media->codec_name);
		core_event_add_header(ev, "Channel-Write-Codec-Rate", "%u", ch->media->audio_rate);
	}
	if (ch->cause != CAUSE_NONE)
		core_event_add_header(ev, "Hangup-Cause", "%s", core_cause_name(ch->cause));
	core_event_add_header(ev, "Caller-Direction", "%s", dir);
	core_event_add_header(ev, "Caller-Logical-Direction", "%s", dir);
	core_event_add_header(ev, "Caller-Dialplan", "%s", nz(ch->dialplan));
	core_event_add_header(ev, "Caller-Caller-ID-Name", "%s", nz(ch->caller_id_name));
	core_event_add_header(ev, "Caller-Caller-ID-Number", "%s", nz(ch->caller_id_number));
	core_event_add_header(ev, "Caller-Orig-Caller-ID-Name", "%s", nz(ch->caller_id_name));
	core_event_add_header(ev, "Caller-Orig-Caller-ID-Number", "%s", nz(ch->caller_id_number));
	core_event_add_header(ev, "Caller-Network-Addr", "%s", nz(ch->network_addr));
	core_event_add_header(ev, "Caller-ANI", "%s", nz(ch->caller_id_number));
	core_event_add_header(ev, "Caller-Destination-Number", "%s", nz(ch->destination_number));
	core_event_add_header(ev, "Caller-Unique-ID", "%s", ch->uuid);
	core_event_add_header(ev, "Caller-Source", "%s", "mod_sofia");
	core_event_add_header(ev, "Caller-Context", "%s", nz(ch->context));
	core_event_add_header(ev, "Caller-Channel-Name", "%s",
			      core_event_header(ev, "Channel-Name"));
	core_event_add_header(ev, "Caller-Profile-Index", "1");
	core_event_add_header(ev, "Caller-Profile-Created-Time", "%llu",
			      (unsigned long long)ch->created_us);
	core_event_add_header(ev, "Caller-Channel-Created-Time", "%llu",
			      (unsigned long long)ch->created_us);
	core_event_add_header(ev, "Caller-Channel-Answered-Time", "%llu",
			      (unsigned long long)ch->answered_us);
	core_event_add_header(ev, "Caller-Channel-Progress-Time", "%llu",
			      (unsigned long long)ch->progress_us);
	core_event_add_header(ev, "Caller-Channel-Hangup-Time", "%llu",
			      (unsigned long long)ch->hangup_us);
	/* Bridged, the other leg is the one described (core__bridge_event_headers). */
	if (ch->originator && !ch->bridged)
		core__other_leg_headers(ev, "originator", ch->originator);
	if (ch->sip_call_id)
		core_event_add_header(ev, "variable_sip_call_id", "%s", ch->sip_call_id);
	if (ch->profile)
		core_event_add_header(ev, "variable_sip_profile_name", "%s", ch->profile);
	core__bridge_event_headers(ch, ev);
	channel_var_each(ch, channel_var_header_cb, ev);
}

struct core_event *core__channel_event_build(struct channel *ch, const char *name)
{
	struct core_event *ev;
	if (core_event_create(&ev, name, NULL) != 0)
		return NULL;
	channel_headers(ch, ev);
	return ev;
}

struct core_event *channel_event_build(struct channel *ch, const char *name)
{
	return core__channel_event_build(ch, name);
}

void channel_event_fire(struct channel *ch, const char *name,
			void (*extra)(void *arg, struct core_event *ev), void *arg)
{
	struct core_event *ev = core__channel_event_build(ch, name);
	if (!ev)
		return;
	if (extra)
		extra(arg, ev);
	core_event_fire(ch->core, ev);
}

static void callstate_extra(void *arg, struct core_event *ev)
{
	core_event_add_header(ev, "Original-Channel-Call-State", "%s", (const char *)arg);
}

void core__channel_callstate(struct channel *ch)
{
	const char *cs = channel_callstate(ch);
	const char *was = ch->callstate ? ch->callstate : "DOWN";
	if (strcmp(cs, was) != 0) {
		ch->callstate = cs;
		channel_event_fire(ch, "CHANNEL_CALLSTATE", callstate_extra, (void *)was);
	}
}

void core__channel_state_event(struct channel *ch)
{
	channel_event_fire(ch, "CHANNEL_STATE", NULL, NULL);
	core__channel_callstate(ch);
}
