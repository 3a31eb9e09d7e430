/*
 * Outbound legs at the SIP endpoint (mod_sofia's outgoing channels): the
 * INVITE with our SDP offer, then what the far end says — 180 (ringing),
 * 183 with SDP (early media: its answer starts the stream), 2xx (answered,
 * its SDP the answer to our offer) — turned into FreeSWITCH's channel
 * events. Failures arrive through the UA's call_ended_cb like any hangup.
 * RFC 3261 §13.2.1 (the offer in the INVITE), RFC 3264 §7 (the answer).
 */
#define LOG_MODULE "sofia"
#include "core_int.h"

#include <errno.h>
#include <string.h>

/* The Call-ID of the INVITE we sent (sip_call_id), once it exists. */
static void outbound_call_id(struct channel *ch)
{
	if (ch->sip_call_id || !ch->sip)
		return;
	const struct sip_msg *inv = sip_call_invite(ch->sip);
	if (inv && inv->call_id.len)
		ch->sip_call_id = arena_strndup(&ch->arena, inv->call_id);
}

static const char *codec_string(struct channel *ch)
{
	const char *c = channel_var(ch, "absolute_codec_string");
	return c && *c ? c : channel_var(ch, "codec_string");
}

int core__endpoint_call(struct channel *ch, struct profile *p, struct sip_call_out *out)
{
	struct sip_call *call = NULL;
	struct buf sdp;

	if (!p->ua)
		return -ENOTCONN;
	buf_init(&sdp);
	int err = core__endpoint_offer_make(ch, codec_string(ch), &sdp);
	if (err) {
		log_err("[%s] no offer for the outbound call: %s", ch->uuid, strerror(-err));
		buf_fini(&sdp);
		return err;
	}
	out->content_type = "application/sdp";
	out->body = str_make(sdp.p, sdp.len);
	err = sip_call_start(&call, p->ua, out, ch);
	out->body = STR_NULL;
	buf_fini(&sdp);
	if (err) {
		log_warn("[%s] cannot call %s: %s", ch->uuid, out->request_uri, strerror(-err));
		return err;
	}
	ch->sip = call;
	outbound_call_id(ch);
	log_info("[%s] new outbound call on %s to %s", ch->uuid, ch->profile, out->request_uri);
	return 0;
}

/* 180/183: ringing, or early media when the response carries the answer. */
void core__endpoint_progress(struct channel *ch, const struct sip_msg *resp)
{
	if (!channel_up(ch) || ch->answered || resp->status <= 100)
		return;
	outbound_call_id(ch);
	if (resp->body.len && !ch->early_media) {
		int err = core__endpoint_answer_apply(ch, resp->body);
		if (err) {
			log_notice("[%s] %u with no usable SDP answer", ch->uuid, resp->status);
			channel_hangup(ch, CAUSE_INCOMPATIBLE_DESTINATION);
			return;
		}
		ch->early_media = true;
		if (!ch->progress_us)
			ch->progress_us = clock_wall_us();
		log_info("[%s] early media (%s)", ch->uuid, ch->media->codec_name);
		channel_event_fire(ch, "CHANNEL_PROGRESS_MEDIA", NULL, NULL);
		core__channel_callstate(ch);
	} else if (!ch->progress_us) {
		ch->progress_us = clock_wall_us();
		log_info("[%s] ringing (%u)", ch->uuid, resp->status);
		channel_event_fire(ch, "CHANNEL_PROGRESS", NULL, NULL);
		core__channel_callstate(ch);
	} else {
		return; /* nothing new */
	}
	if (ch->originating)
		core__originate_leg_update(ch);
}

/* The 2xx: its SDP is the answer to our offer (or the 183's stands). */
void core__endpoint_answered(struct channel *ch, const struct sip_msg *resp)
{
	if (!channel_up(ch) || ch->answered)
		return;
	outbound_call_id(ch);
	int err = resp->body.len ? core__endpoint_answer_apply(ch, resp->body)
				 : (ch->media && ch->media->started ? 0 : -EPROTO);
	if (err) {
		log_notice("[%s] answered with no usable SDP answer", ch->uuid);
		channel_hangup(ch, CAUSE_INCOMPATIBLE_DESTINATION);
		return;
	}
	ch->answered = true;
	ch->answered_us = clock_wall_us();
	log_info("[%s] answered by the far end (%s)", ch->uuid, ch->media->codec_name);
	channel_event_fire(ch, "CHANNEL_ANSWER", NULL, NULL);
	core__channel_callstate(ch);
	if (ch->originating)
		core__originate_leg_update(ch);
}
