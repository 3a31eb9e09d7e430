/*
 * Offer/answer (RFC 3264) for irisx's calls: one audio RTP/AVP stream, one
 * codec of PCMU, PCMA, G722 (RFC 3551) or opus (RFC 7587), and RFC 4733
 * telephone-events at the codec's clock rate.
 *
 * Choices made here, each where the RFCs leave room:
 *  - The answerer's preference order wins (§6.1 allows either): the first
 *    local codec the offer lists, as FreeSWITCH's inbound-codec-prefs does,
 *    so an operator's codec list decides what a trunk call uses.
 *  - The answer names one codec (and telephone-event), never several, so the
 *    offerer cannot switch codecs mid-stream on us.
 *  - One stream is accepted; every other m= line is rejected with port 0 and
 *    its own format list (§6). A stream whose address family differs from
 *    ours, or whose c= is a domain name or multicast, is not acceptable.
 *  - c=0.0.0.0 (RFC 2543 hold, §8.4) — and :: for IPv6 — is taken as the peer
 *    not receiving, as a=sendonly would say; the answer mirrors it (§6.1).
 *  - telephone-event is taken only at the chosen codec's clock rate (RFC 4733
 *    §2.1), so DTMF timestamps run on the audio's clock.
 *
 * Pure code: the result is a plain struct and the SDP text goes into a buf.
 */
#include "sdp.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define CODEC_TABLE(X)                                                                             \
	/* id, name, static PT (-1: dynamic), PT in our offers, RTP clock, rtpmap channels */      \
	X(SDP_CODEC_PCMU, "PCMU", 0, 0, 8000, 1)                                                   \
	X(SDP_CODEC_PCMA, "PCMA", 8, 8, 8000, 1)                                                   \
	X(SDP_CODEC_G722, "G722", 9, 9, 8000, 1) /* 16 kHz audio, 8 kHz clock: RFC 3551 §4.5.2 */ \
	X(SDP_CODEC_OPUS, "opus", -1, SDP_PT_OPUS, 48000, 2) /* always /48000/2: RFC 7587 §7 */

struct codec_info {
	const char *name;
	int static_pt;
	uint8_t offer_pt;
	uint32_t clock;
	uint8_t channels;
};

static const struct codec_info codec_table[] = {
#define X(id, name, spt, opt, clock, ch) [id] = {name, spt, opt, clock, ch},
    CODEC_TABLE(X)
#undef X
};

static_assert(ARRAY_LEN(codec_table) == SDP_CODEC_COUNT, "one table row per enum sdp_codec");

const char *sdp_codec_name(enum sdp_codec c)
{
	return (unsigned)c < SDP_CODEC_COUNT ? codec_table[c].name : NULL;
}

int sdp_codec_parse(struct str name, enum sdp_codec *out)
{
	for (size_t i = 0; i < SDP_CODEC_COUNT; i++) {
		if (str_ieq_cstr(name, codec_table[i].name)) {
			*out = (enum sdp_codec)i;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- directions as bits: what a side does, mirrored by the other (§6.1) ---- */

enum { DIR_SEND = 1, DIR_RECV = 2 };

static unsigned dir_bits(enum sdp_dir d)
{
	switch (d) {
	case SDP_DIR_SENDONLY:
		return DIR_SEND;
	case SDP_DIR_RECVONLY:
		return DIR_RECV;
	case SDP_DIR_INACTIVE:
		return 0;
	case SDP_DIR_SENDRECV:
		break;
	}
	return DIR_SEND | DIR_RECV;
}

static enum sdp_dir dir_from_bits(unsigned b)
{
	static const enum sdp_dir dirs[4] = {SDP_DIR_INACTIVE, SDP_DIR_SENDONLY, SDP_DIR_RECVONLY,
					     SDP_DIR_SENDRECV};
	return dirs[b & 3];
}

static unsigned dir_mirror(unsigned b)
{
	return ((b & DIR_SEND) ? DIR_RECV : 0) | ((b & DIR_RECV) ? DIR_SEND : 0);
}

/* ---- the local description, checked once ----------------------------------- */

struct local_desc {
	const struct sdp_local *l;
	char addr[INET6_ADDRSTRLEN]; /* normalized: inet_ntop's form, no brackets */
	enum sdp_addrtype type;
	uint32_t ptime;
};

/* What a media engine paces well: whole 10 ms steps, and opus's frame sizes. */
static bool ptime_ok(uint32_t p, enum sdp_codec c)
{
	if (c == SDP_CODEC_OPUS)
		return p == 10 || p == 20 || p == 40 || p == 60;
	return p >= 10 && p <= 120 && p % 10 == 0;
}

static int local_check(const struct sdp_local *l, struct local_desc *d)
{
	struct net_addr na;

	if (!l || !l->addr || l->port == 0 || !l->codecs || l->codec_count == 0 ||
	    (unsigned)l->dir > SDP_DIR_INACTIVE)
		return -EINVAL;
	for (size_t i = 0; i < l->codec_count; i++)
		if ((unsigned)l->codecs[i] >= SDP_CODEC_COUNT)
			return -EINVAL;
	if (net_addr_parse(&na, str_from_cstr(l->addr), 0) != 0)
		return -EINVAL;
	d->l = l;
	net_addr_print_host(&na, d->addr, sizeof(d->addr));
	d->type = net_addr_family(&na) == AF_INET6 ? SDP_ADDR_IP6 : SDP_ADDR_IP4;
	d->ptime = l->ptime_ms ? l->ptime_ms : 20;
	return ptime_ok(d->ptime, SDP_CODEC_PCMU) ? 0 : -EINVAL;
}

/* ---- matching formats ---------------------------------------------------------- */

/*
 * What each payload type of a stream may carry, from one pass over its
 * rtpmaps: a bit per codec, and telephone-event at 8000 or 48000 Hz. An
 * rtpmap decides when there is one (a trunk may map a dynamic number to
 * PCMU, or give one number two rtpmaps: telephone-event/16000 then /8000);
 * without, only a static number does.
 */
enum {
	CAP_TE_8K = 1 << SDP_CODEC_COUNT,
	CAP_TE_48K = 1 << (SDP_CODEC_COUNT + 1),
	CAP_MAPPED = 1 << 7,
};
static_assert(SDP_CODEC_COUNT + 2 <= 7, "codec and event bits fit below CAP_MAPPED");

static unsigned te_cap(uint32_t clock)
{
	return clock == 48000 ? CAP_TE_48K : clock == 8000 ? CAP_TE_8K : 0;
}

static void pt_caps(const struct sdp_session *s, const struct sdp_media *m, uint8_t caps[128])
{
	const struct sdp_attr *a = NULL;
	struct sdp_rtpmap rm;

	memset(caps, 0, 128);
	while ((a = sdp_attr_next(s, m, "rtpmap", a)) != NULL) {
		if (sdp_rtpmap_parse(&rm, a->value) != 0)
			continue;
		caps[rm.pt] |= CAP_MAPPED;
		if (str_ieq_cstr(rm.encoding, "telephone-event")) {
			caps[rm.pt] |= te_cap(rm.clock_rate);
			continue;
		}
		for (size_t c = 0; c < SDP_CODEC_COUNT; c++) {
			const struct codec_info *ci = &codec_table[c];
			/* opus's rtpmap says /2 whatever the stream carries; tolerate
			 * peers that write /1 or nothing. Mono codecs must not claim
			 * stereo. */
			if (str_ieq_cstr(rm.encoding, ci->name) && rm.clock_rate == ci->clock &&
			    (c == SDP_CODEC_OPUS || rm.channels <= 1))
				caps[rm.pt] |= 1u << c;
		}
	}
	for (size_t c = 0; c < SDP_CODEC_COUNT; c++) {
		int spt = codec_table[c].static_pt;
		if (spt >= 0 && !(caps[spt] & CAP_MAPPED))
			caps[spt] |= 1u << c;
	}
}

static int fmt_pt(struct str fmt)
{
	uint32_t v;
	return str_to_u32(fmt, &v) == 0 && v <= 127 ? (int)v : -1;
}

struct pick {
	size_t index; /* of the m= line */
	enum sdp_codec codec;
	uint8_t pt;
	int te_pt;
	struct net_addr peer;
};

/* The first format of `m` with a bit of `want`, or -1. */
static int fmt_find(const struct sdp_media *m, const uint8_t caps[128], unsigned want, int skip)
{
	struct str rest = m->fmts, fmt;

	while (sdp_fmt_next(&rest, &fmt)) {
		int pt = fmt_pt(fmt);
		if (pt >= 0 && pt != skip && (caps[pt] & want))
			return pt;
	}
	return -1;
}

/*
 * Can stream `m` carry our call? If so, fills `pk` with its codec: by our
 * order among its formats, or (peer_order, reading an answer) by its order
 * among our codecs.
 */
static bool stream_pick(const struct sdp_session *s, const struct sdp_media *m,
			const struct local_desc *d, bool peer_order, struct pick *pk)
{
	const struct sdp_local *l = d->l;
	const struct sdp_conn *c = sdp_media_conn(s, m);
	uint8_t caps[128];
	unsigned ours = 0;
	int pt = -1;

	if (m->port == 0 || !str_ieq_cstr(m->type, "audio") || !str_ieq_cstr(m->proto, "RTP/AVP"))
		return false;
	if (c->type != d->type || c->suffix.len || net_addr_parse(&pk->peer, c->addr, 0) != 0)
		return false;
	pt_caps(s, m, caps);

	for (size_t i = 0; i < l->codec_count; i++)
		ours |= 1u << l->codecs[i];
	if (peer_order) {
		pt = fmt_find(m, caps, ours, -1);
		for (size_t i = 0; pt >= 0 && i < l->codec_count; i++) {
			if (caps[pt] & (1u << l->codecs[i])) {
				pk->codec = l->codecs[i];
				break;
			}
		}
	} else {
		for (size_t i = 0; i < l->codec_count && pt < 0; i++) {
			pt = fmt_find(m, caps, 1u << l->codecs[i], -1);
			pk->codec = l->codecs[i];
		}
	}
	if (pt < 0)
		return false;
	pk->pt = (uint8_t)pt;
	pk->te_pt = -1;
	if (l->telephone_event)
		pk->te_pt = fmt_find(m, caps, te_cap(codec_table[pk->codec].clock), pt);
	return true;
}

static bool addr_unspecified(const struct net_addr *a)
{
	if (net_addr_family(a) == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
	return a->u.in4.sin_addr.s_addr == 0;
}

/* Offered ptime if usable, else ours; then no more than the peer's maxptime. */
static uint32_t ptime_choose(uint32_t offered, uint32_t max, enum sdp_codec c, uint32_t local)
{
	uint32_t p = ptime_ok(offered, c) ? offered : ptime_ok(local, c) ? local : 20;

	while (max && p > max && p > 10) {
		p -= 10;
		while (p > 10 && !ptime_ok(p, c))
			p -= 10;
	}
	return p;
}

static void result_fill(struct sdp_result *res, const struct sdp_session *s, const struct pick *pk,
			const struct local_desc *d, bool answering)
{
	const struct sdp_media *m = &s->media[pk->index];
	const struct codec_info *ci = &codec_table[pk->codec];
	unsigned peer = dir_bits(sdp_media_dir(s, m)), mine = dir_bits(d->l->dir);

	memset(res, 0, sizeof(*res));
	net_addr_print_host(&pk->peer, res->remote_addr, sizeof(res->remote_addr));
	res->remote_port = m->port;
	res->remote_rtcp_port = m->rtcp_port >= 0 ? (uint16_t)m->rtcp_port
						  : (uint16_t)(m->port == 65535 ? 0 : m->port + 1);
	res->codec = pk->codec;
	res->pt = pk->pt;
	res->clock_rate = ci->clock;
	res->channels = ci->channels;
	res->te_pt = pk->te_pt;
	res->ptime_ms =
	    ptime_choose(m->ptime_ms ? m->ptime_ms : s->ptime_ms,
			 m->maxptime_ms ? m->maxptime_ms : s->maxptime_ms, pk->codec, d->ptime);
	if (addr_unspecified(&pk->peer))
		peer &= ~(unsigned)DIR_RECV;
	res->dir = dir_from_bits(dir_mirror(peer) & mine);
	/* Reading an answer, a peer that does not receive only mirrors us when we
	 * offered nothing to send; answering, its offer is its own will. */
	res->hold = !(peer & DIR_RECV) && (answering || (mine & DIR_SEND));
	res->media_index = pk->index;
}

/* ---- printing our descriptions ------------------------------------------------ */

static void head_print(struct buf *b, const struct local_desc *d)
{
	const char *ip = d->type == SDP_ADDR_IP6 ? "IP6" : "IP4";

	buf_printf(b,
		   "v=0\r\no=irisx %" PRIu64 " %" PRIu64 " IN %s %s\r\ns=irisx\r\n"
		   "c=IN %s %s\r\nt=0 0\r\n",
		   d->l->session_id, d->l->session_version, ip, d->addr, ip, d->addr);
}

static void rtpmap_print(struct buf *b, unsigned pt, enum sdp_codec c)
{
	const struct codec_info *ci = &codec_table[c];

	buf_printf(b, "a=rtpmap:%u %s/%" PRIu32, pt, ci->name, ci->clock);
	if (ci->channels > 1)
		buf_printf(b, "/%u", ci->channels);
	buf_append(b, "\r\n", 2);
}

/* Events 0-16: the DTMF digits and flash, as FreeSWITCH announces (RFC 4733 §7). */
static void te_print(struct buf *b, unsigned pt, uint32_t clock)
{
	buf_printf(b, "a=rtpmap:%u telephone-event/%" PRIu32 "\r\na=fmtp:%u 0-16\r\n", pt, clock,
		   pt);
}

int sdp_answer(const struct sdp_session *offer, const struct sdp_local *local,
	       struct sdp_result *res, struct buf *answer)
{
	struct local_desc d;
	struct pick pk;
	bool found = false;
	int err;

	if (!offer || !res || !answer)
		return -EINVAL;
	if ((err = local_check(local, &d)) != 0)
		return err;
	for (size_t i = 0; i < offer->media_count && i < SDP_MAX_MEDIA && !found; i++) {
		found = stream_pick(offer, &offer->media[i], &d, false, &pk);
		pk.index = i;
	}
	if (!found)
		return -ENOTSUP;

	const struct sdp_media *om = &offer->media[pk.index];
	struct sdp_result r;
	result_fill(&r, offer, &pk, &d, true);

	head_print(answer, &d);
	for (size_t i = 0; i < offer->media_count; i++) {
		const struct sdp_media *m = &offer->media[i];
		if (i != pk.index) {
			buf_printf(answer, "m=%.*s 0 %.*s %.*s\r\n", (int)m->type.len, m->type.p,
				   (int)m->proto.len, m->proto.p, (int)m->fmts.len, m->fmts.p);
			continue;
		}
		buf_printf(answer, "m=audio %u %.*s %u", local->port, (int)om->proto.len,
			   om->proto.p, pk.pt);
		if (pk.te_pt >= 0)
			buf_printf(answer, " %d", pk.te_pt);
		buf_append(answer, "\r\n", 2);
		rtpmap_print(answer, pk.pt, pk.codec);
		if (pk.te_pt >= 0)
			te_print(answer, (unsigned)pk.te_pt, r.clock_rate);
		buf_printf(answer, "a=ptime:%" PRIu32 "\r\na=%s\r\n", r.ptime_ms,
			   sdp_dir_name(r.dir));
	}
	if (answer->failed)
		return -ENOMEM;
	*res = r;
	return 0;
}

int sdp_offer(const struct sdp_local *local, struct buf *offer)
{
	struct local_desc d;
	bool listed[SDP_CODEC_COUNT] = {false}, te8k = false;
	int err;

	if (!offer)
		return -EINVAL;
	if ((err = local_check(local, &d)) != 0)
		return err;

	head_print(offer, &d);
	buf_printf(offer, "m=audio %u RTP/AVP", local->port);
	for (size_t i = 0; i < local->codec_count; i++) {
		enum sdp_codec c = local->codecs[i];
		if (!listed[c])
			buf_printf(offer, " %u", codec_table[c].offer_pt);
		listed[c] = true;
		te8k |= codec_table[c].clock == 8000;
	}
	bool te48k = listed[SDP_CODEC_OPUS] && local->telephone_event;
	te8k &= local->telephone_event;
	if (te8k)
		buf_printf(offer, " %u", SDP_PT_TE);
	if (te48k)
		buf_printf(offer, " %u", SDP_PT_TE_48K);
	buf_append(offer, "\r\n", 2);

	memset(listed, 0, sizeof(listed));
	for (size_t i = 0; i < local->codec_count; i++) {
		enum sdp_codec c = local->codecs[i];
		if (!listed[c])
			rtpmap_print(offer, codec_table[c].offer_pt, c);
		listed[c] = true;
	}
	if (te8k)
		te_print(offer, SDP_PT_TE, 8000);
	if (te48k)
		te_print(offer, SDP_PT_TE_48K, 48000);
	buf_printf(offer, "a=ptime:%" PRIu32 "\r\na=%s\r\n", d.ptime, sdp_dir_name(local->dir));
	return offer->failed ? -ENOMEM : 0;
}

int sdp_answer_process(const struct sdp_session *answer, const struct sdp_local *offered,
		       struct sdp_result *res)
{
	struct local_desc d;
	struct pick pk;
	int err;

	if (!answer || !res)
		return -EINVAL;
	if ((err = local_check(offered, &d)) != 0)
		return err;
	if (answer->media_count != 1)
		return -EBADMSG;
	if (!stream_pick(answer, &answer->media[0], &d, true, &pk))
		return -ENOTSUP;
	pk.index = 0;
	result_fill(res, answer, &pk, &d, false);
	return 0;
}

unsigned sdp_result_diff(const struct sdp_result *a, const struct sdp_result *b)
{
	unsigned diff = 0;

	if (strcmp(a->remote_addr, b->remote_addr) != 0 || a->remote_port != b->remote_port ||
	    a->remote_rtcp_port != b->remote_rtcp_port)
		diff |= SDP_CHANGE_ADDR;
	if (a->codec != b->codec || a->pt != b->pt || a->clock_rate != b->clock_rate ||
	    a->channels != b->channels)
		diff |= SDP_CHANGE_CODEC;
	if (a->te_pt != b->te_pt)
		diff |= SDP_CHANGE_TE;
	if (a->ptime_ms != b->ptime_ms)
		diff |= SDP_CHANGE_PTIME;
	if (a->dir != b->dir || a->hold != b->hold)
		diff |= SDP_CHANGE_DIR;
	return diff;
}
