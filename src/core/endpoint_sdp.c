/*
 * Session descriptions for SIP channels (RFC 3264 on top of src/sdp): the
 * answer to the INVITE's offer or our own offer when it had none (late offer,
 * RFC 3261 §13.2.1, the answer arriving in the ACK), re-offers for hold and
 * unhold, and the RTP stream that carries what was negotiated.
 */
#define LOG_MODULE "sofia"
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { CODEC_PREFS_MAX = CORE_CODECS_MAX };

/* A codec list (inbound-codec-prefs, codec_string) → codecs; FreeSWITCH's
 * "@20i" style suffixes are ignored. */
static size_t codec_prefs(const char *prefs, enum sdp_codec *out, size_t max)
{
	struct str list = str_from_cstr(prefs), item;
	size_t n = 0;
	while (n < max && list.len) {
		ptrdiff_t comma = str_find_char(list, ',');
		item = comma < 0 ? list : str_make(list.p, (size_t)comma);
		list = comma < 0 ? STR_NULL : str_make(list.p + comma + 1, list.len - (size_t)comma - 1);
		ptrdiff_t at = str_find_char(item, '@');
		if (at >= 0)
			item.len = (size_t)at;
		enum sdp_codec c;
		if (sdp_codec_parse(str_trim(item), &c) == 0) {
			bool dup = false;
			for (size_t i = 0; i < n; i++)
				dup |= out[i] == c;
			if (!dup)
				out[n++] = c;
		}
	}
	if (n == 0)
		out[n++] = SDP_CODEC_PCMU; /* never offer nothing */
	return n;
}

static enum media_codec_id media_codec_of(enum sdp_codec c)
{
	switch (c) {
	case SDP_CODEC_PCMA:
		return MEDIA_CODEC_PCMA;
	case SDP_CODEC_G722:
		return MEDIA_CODEC_G722;
	case SDP_CODEC_OPUS:
		return MEDIA_CODEC_OPUS;
	default:
		return MEDIA_CODEC_PCMU;
	}
}

static enum media_dir media_dir_of(enum sdp_dir d)
{
	switch (d) {
	case SDP_DIR_SENDONLY:
		return MEDIA_SENDONLY;
	case SDP_DIR_RECVONLY:
		return MEDIA_RECVONLY;
	case SDP_DIR_INACTIVE:
		return MEDIA_INACTIVE;
	default:
		return MEDIA_SENDRECV;
	}
}

/* The channel's media state and RTP stream, created on first use. */
static struct channel_media *media_get(struct channel *ch)
{
	const struct config_profile *prof = core__channel_profile(ch);
	struct channel_media *m = ch->media;
	struct net_addr ip;

	if (m && m->stream)
		return m;
	if (!m) {
		m = arena_alloc(&ch->arena, sizeof(*m));
		if (!m)
			return NULL;
		m->sdp_session_id = clock_wall_us() / 1000u;
		m->sdp_version = m->sdp_session_id;
		m->audio_rate = 8000; /* until a codec is negotiated (late offer) */
		ch->media = m;
	}
	if (net_addr_parse(&ip, str_from_cstr(prof->rtp_ip), 0) != 0)
		return NULL;
	struct media_stream_cbs cbs;
	int err = media_stream_create(&m->stream, ch->core->media, &ip, core__media_cbs(ch, &cbs));
	if (err) {
		log_err("[%s] no RTP port: %s", ch->uuid, strerror(-err));
		return NULL;
	}
	return m;
}

static void local_fill(struct channel *ch, struct sdp_local *local, enum sdp_codec *codecs)
{
	const struct config_profile *prof = core__channel_profile(ch);
	struct channel_media *m = ch->media;

	memset(local, 0, sizeof(*local));
	local->addr = prof->ext_rtp_ip ? prof->ext_rtp_ip : prof->rtp_ip;
	local->port = media_stream_port(m->stream);
	local->codecs = codecs;
	if (m->codec_count) { /* what an outbound leg offered */
		memcpy(codecs, m->codecs, m->codec_count * sizeof(*codecs));
		local->codec_count = m->codec_count;
	} else {
		local->codec_count = codec_prefs(prof->codec_prefs, codecs, CODEC_PREFS_MAX);
	}
	local->ptime_ms = 20;
	local->telephone_event = true;
	local->session_id = m->sdp_session_id;
	local->session_version = m->sdp_version;
	local->dir = SDP_DIR_SENDRECV;
}

/* Starts or updates the stream with what was negotiated. */
static int media_apply(struct channel *ch, const struct sdp_result *res)
{
	const struct config_profile *prof = core__channel_profile(ch);
	struct channel_media *m = ch->media;
	struct media_stream_params p = {0};

	if (net_addr_parse(&p.remote, str_from_cstr(res->remote_addr), res->remote_port) != 0)
		return -EINVAL;
	p.codec = media_codec_of(res->codec);
	p.pt = res->pt;
	p.ptime_ms = res->ptime_ms ? res->ptime_ms : 20;
	p.te_pt = res->te_pt;
	p.dir = media_dir_of(res->dir);
	p.timeout_ms = (res->hold ? prof->rtp_hold_timeout_sec : prof->rtp_timeout_sec) * 1000u;
	int err = media_stream_start(m->stream, &p);
	if (err)
		return err;
	m->params = p;
	m->started = true;
	m->hold = res->hold;
	m->codec_name = sdp_codec_name(res->codec);
	m->audio_rate = media_codec_audio_rate(p.codec);
	return 0;
}

/* 488 and INCOMPATIBLE_DESTINATION: nothing in the offer can be used. */
static int refuse_media(struct channel *ch, const char *why)
{
	log_notice("[%s] %s: refusing with 488", ch->uuid, why);
	sip_call_respond(ch->sip, 488, NULL);
	channel_hangup(ch, CAUSE_INCOMPATIBLE_DESTINATION);
	return -EPROTO;
}

int core__endpoint_answer(struct channel *ch, bool early)
{
	enum sdp_codec codecs[CODEC_PREFS_MAX];
	struct sdp_local local;
	struct sdp_session offer;
	struct sdp_result res;
	struct buf sdp;

	if (!ch->sip)
		return -ENOTCONN;
	if (ch->direction == CHANNEL_OUTBOUND)
		return -EINVAL; /* the far end answers an outbound leg */
	const struct sip_msg *inv = sip_call_invite(ch->sip);
	struct channel_media *m = media_get(ch);
	if (!m)
		return refuse_media(ch, "no media resources");
	local_fill(ch, &local, codecs);
	buf_init(&sdp);
	int err = 0;
	if (inv->body.len) {
		if (sdp_session_parse(&offer, inv->body.p, inv->body.len) != 0) {
			buf_fini(&sdp);
			return refuse_media(ch, "malformed session description");
		}
		err = sdp_answer(&offer, &local, &res, &sdp);
		if (err == 0)
			err = media_apply(ch, &res);
		if (err) {
			buf_fini(&sdp);
			return refuse_media(ch, "no common codec");
		}
	} else if (early) {
		/* Early media without an offer needs reliable provisionals (RFC 3262). */
		buf_fini(&sdp);
		return -ENOTSUP;
	} else {
		err = sdp_offer(&local, &sdp);
		m->offer_sent = err == 0;
	}
	if (!err && sdp.failed)
		err = -ENOMEM;
	if (!err) {
		struct str body = str_make(sdp.p, sdp.len);
		err = early ? sip_call_progress(ch->sip, "application/sdp", body)
			    : sip_call_answer(ch->sip, "application/sdp", body);
	}
	buf_fini(&sdp);
	return err;
}

uint16_t core__endpoint_offer(struct channel *ch, struct str body, struct buf *answer)
{
	enum sdp_codec codecs[CODEC_PREFS_MAX];
	struct sdp_local local;
	struct sdp_session offer;
	struct sdp_result res;
	struct channel_media *m = ch->media;

	if (!m || !m->stream)
		return 488;
	m->sdp_version++;
	local_fill(ch, &local, codecs);
	if (body.len == 0) {
		/* A re-INVITE without SDP wants our offer; the answer comes in the ACK. */
		if (sdp_offer(&local, answer) != 0)
			return 500;
		m->offer_sent = true;
		return 200;
	}
	if (sdp_session_parse(&offer, body.p, body.len) != 0)
		return 400;
	if (sdp_answer(&offer, &local, &res, answer) != 0)
		return 488;
	bool was_held = m->hold;
	if (media_apply(ch, &res) != 0)
		return 488;
	if (was_held != m->hold)
		log_info("[%s] %s", ch->uuid, m->hold ? "held by the far end" : "resumed");
	return 200;
}

void core__endpoint_ack(struct channel *ch, const struct sip_msg *ack)
{
	enum sdp_codec codecs[CODEC_PREFS_MAX];
	struct sdp_local local;
	struct sdp_session answer;
	struct sdp_result res;
	struct channel_media *m = ch->media;

	if (!m || !m->offer_sent)
		return;
	m->offer_sent = false;
	local_fill(ch, &local, codecs);
	if (!ack->body.len || sdp_session_parse(&answer, ack->body.p, ack->body.len) != 0 ||
	    sdp_answer_process(&answer, &local, &res) != 0 || media_apply(ch, &res) != 0) {
		log_notice("[%s] the ACK brought no usable answer to our offer", ch->uuid);
		channel_hangup(ch, CAUSE_INCOMPATIBLE_DESTINATION);
	}
}

int core__endpoint_offer_make(struct channel *ch, const char *codecs, struct buf *out)
{
	enum sdp_codec list[CODEC_PREFS_MAX];
	struct sdp_local local;

	struct channel_media *m = media_get(ch);
	if (!m)
		return -EAGAIN; /* no RTP port */
	if (codecs && *codecs) {
		m->codec_count = codec_prefs(codecs, m->codecs, CODEC_PREFS_MAX);
	} else {
		m->codec_count =
		    codec_prefs(core__channel_profile(ch)->codec_prefs, m->codecs, CODEC_PREFS_MAX);
	}
	local_fill(ch, &local, list);
	int err = sdp_offer(&local, out);
	if (!err && out->failed)
		err = -ENOMEM;
	return err;
}

int core__endpoint_answer_apply(struct channel *ch, struct str body)
{
	enum sdp_codec codecs[CODEC_PREFS_MAX];
	struct sdp_local local;
	struct sdp_session answer;
	struct sdp_result res;
	struct channel_media *m = ch->media;

	if (!m || !m->stream)
		return -EPROTO;
	local_fill(ch, &local, codecs);
	if (sdp_session_parse(&answer, body.p, body.len) != 0)
		return -EBADMSG;
	if (sdp_answer_process(&answer, &local, &res) != 0 || media_apply(ch, &res) != 0)
		return -EPROTO;
	return 0;
}
