/*
 * Bridging two streams of one engine: what one leg of a call receives, the
 * other sends (a B2BUA's media path).
 *
 * Relay (same codec and ptime on both legs, hence the same RTP clock): a
 * received audio packet leaves at once from the other stream, payload bytes
 * untouched, under the sending stream's own SSRC and sequence (+1 a packet):
 * the receiving leg's SSRC, sequence space and timestamp base are its far
 * end's business, not the other far end's (a relay that kept them would be
 * an RFC 3550 §7.1 translator; a B2BUA terminates both sessions). The
 * output timestamp is the input's plus an offset (so a gap in the input
 * stays a gap), chosen when relaying (re)starts: from the sending stream's
 * own clock, which its tick keeps advancing in real time. It is chosen
 * again, with the marker bit, when the input's SSRC changes (the far end
 * restarted its stream), when the stream sent packets of its own in between,
 * and when the mapping has drifted from real time by more than
 * RESYNC_MS (a far end that jumped its timestamps). The packets one received
 * batch relays leave in one sendmmsg (media__relay_flush, called by the
 * reader after each batch), from buffers of the engine: no allocation.
 *
 * While it relays, the sending stream's tick sends nothing of its own. When
 * the bridged input stops (the other leg holds, or its far end stops
 * sending) for 3 ptimes + 100 ms, the tick resumes sending silence, marker
 * set, so the far end keeps a live stream (and its media timeout quiet);
 * relaying resumes with the next packet.
 *
 * Transcode (otherwise): the receiving stream decodes (the codec layer),
 * resamples to the sending stream's audio rate when the rates differ
 * (speexdsp, one resampler per direction, made when the bridge is set up),
 * and pushes the samples into the sending stream's FIFO; the sending
 * stream's tick takes a frame from it each ptime, as from a source. The FIFO
 * holds at least 100 ms; when full, the oldest samples are dropped, down to
 * the level it starts playing at (a burst after a stall resets the delay
 * rather than keeping it at the most the FIFO can hold). It plays out once
 * it holds a frame of each side (so that different ptimes, say 30 ms in and
 * 20 ms out, never underrun in steady state) and after an underrun fills
 * again to that level, silence going out meanwhile.
 *
 * RFC 4733 events are relayed in both modes with the sending stream's
 * payload type when it negotiated telephone-event, else dropped (the
 * receiving stream's dtmf_cb fires either way). Relaying, they share the
 * audio's timestamp mapping; transcoding, each input event gets the sending
 * stream's current timestamp and its durations are scaled to its clock.
 *
 * A source played on the sending stream wins over the bridged audio: relayed
 * packets are dropped and the FIFO is drained unheard while it plays, and so
 * while the stream sends DTMF of its own.
 */
#define LOG_MODULE "media"
#include "media_int.h"

#include <errno.h>
#include <speex/speex_resampler.h>
#include <stdlib.h>
#include <string.h>

enum {
	XC_MIN_MS = 100,
	XC_RESAMPLE_QUALITY = 3, /* speexdsp's VoIP setting: cheap, clean for speech */
	RELAY_IDLE_US = 100000,	 /* plus 3 ptimes: the bridged input stopped */
	RESYNC_MS = 2000,	 /* a mapping this far from real time is redone */
	TE_BLOCK = 4,		 /* bytes of one RFC 4733 event block */
};

struct media__xcode {
	uint32_t rate;	     /* of the samples held: the sending stream's audio rate */
	uint32_t in_rate;    /* of the samples fed: the receiving stream's audio rate */
	uint32_t start_fill; /* samples held before playing out (at start, after an underrun) */
	uint32_t cap;
	uint32_t head, len;
	bool playing;
	SpeexResamplerState *rs; /* NULL when the rates match */
	int16_t buf[];		 /* cap samples, a ring */
};

/* ---- the FIFO ---------------------------------------------------------------- */

static void xcode_destroy(struct media__xcode *xc)
{
	if (!xc)
		return;
	if (xc->rs)
		speex_resampler_destroy(xc->rs);
	free(xc);
}

/* The FIFO's shape for audio of `in` (rate, frame) sent out as `out`. */
static void xcode_shape(uint32_t rate, uint32_t frame, uint32_t in_rate, uint32_t in_frame,
			uint32_t *cap, uint32_t *start_fill)
{
	/* the input's frame, counted in output samples */
	uint32_t in_frame_out = (uint32_t)((uint64_t)in_frame * rate / in_rate);
	*start_fill = frame + in_frame_out;
	uint32_t min = rate / 1000 * XC_MIN_MS;
	/* room for the start level and one more input frame, so that a frame
	 * arriving just before a tick is not dropped in steady state */
	*cap = *start_fill + in_frame_out > min ? *start_fill + in_frame_out : min;
}

static bool xcode_fits(const struct media__xcode *xc, uint32_t rate, uint32_t in_rate, uint32_t cap,
		       uint32_t start_fill)
{
	return xc && xc->rate == rate && xc->in_rate == in_rate && xc->cap == cap &&
	       xc->start_fill == start_fill;
}

static int xcode_create(struct media__xcode **out, uint32_t rate, uint32_t in_rate, uint32_t cap,
			uint32_t start_fill)
{
	struct media__xcode *xc = calloc(1, sizeof(*xc) + (size_t)cap * sizeof(int16_t));
	if (!xc)
		return -ENOMEM;
	xc->rate = rate;
	xc->in_rate = in_rate;
	xc->cap = cap;
	xc->start_fill = start_fill;
	if (rate != in_rate) {
		int err = 0;
		xc->rs = speex_resampler_init(1, in_rate, rate, XC_RESAMPLE_QUALITY, &err);
		if (!xc->rs) {
			free(xc);
			return -ENOMEM;
		}
	}
	*out = xc;
	return 0;
}

static void xcode_push(struct media__xcode *xc, const int16_t *pcm, size_t n)
{
	if (n > xc->cap) {
		pcm += n - xc->cap; /* only the newest fit */
		n = xc->cap;
	}
	if (xc->len + n > xc->cap) {
		/* The oldest go, down to the start level rather than just what
		 * overflows: a full FIFO would drop again at the next bit of
		 * jitter, and holds more delay than it needs. */
		uint32_t keep = n >= xc->start_fill ? 0 : xc->start_fill - (uint32_t)n;
		if (keep > xc->len)
			keep = xc->len;
		uint32_t drop = xc->len - keep;
		xc->head = (xc->head + drop) % xc->cap;
		xc->len -= drop;
	}
	uint32_t tail = (xc->head + xc->len) % xc->cap;
	size_t first = xc->cap - tail < n ? xc->cap - tail : n;
	memcpy(xc->buf + tail, pcm, first * sizeof(int16_t));
	memcpy(xc->buf, pcm + first, (n - first) * sizeof(int16_t));
	xc->len += (uint32_t)n;
}

bool media__xcode_pop(struct media__xcode *xc, int16_t *pcm, size_t n)
{
	if (!xc->playing && xc->len >= xc->start_fill)
		xc->playing = true;
	if (!xc->playing || xc->len < n) {
		/* an underrun: fill up to the start level again rather than
		 * stutter frame by frame; what is held waits */
		xc->playing = false;
		return false;
	}
	size_t first = xc->cap - xc->head < n ? xc->cap - xc->head : n;
	if (pcm) {
		memcpy(pcm, xc->buf + xc->head, first * sizeof(int16_t));
		memcpy(pcm + first, xc->buf, (n - first) * sizeof(int16_t));
	}
	xc->head = (uint32_t)((xc->head + n) % xc->cap);
	xc->len -= (uint32_t)n;
	return true;
}

bool media__bridge_wants_audio(const struct media_stream *out)
{
	return out->xc && out->started && !out->closed;
}

void media__bridge_feed(struct media_stream *out, const int16_t *pcm, size_t n)
{
	struct media__xcode *xc = out->xc;
	if (!xc->rs) {
		xcode_push(xc, pcm, n);
		return;
	}
	int16_t *tmp = out->eng->rx_resampled;
	while (n > 0) {
		spx_uint32_t in_len = (spx_uint32_t)n, out_len = MEDIA__FRAME_MAX;
		if (speex_resampler_process_int(xc->rs, 0, pcm, &in_len, tmp, &out_len) !=
		    RESAMPLER_ERR_SUCCESS)
			return;
		xcode_push(xc, tmp, out_len);
		if (in_len == 0)
			return; /* no progress: never spin */
		pcm += in_len;
		n -= in_len;
	}
}

/* ---- relay ------------------------------------------------------------------- */

void media__relay_flush(struct media_engine *eng)
{
	struct media_stream *out = eng->relay_to;
	unsigned n = eng->relay_n;
	eng->relay_to = NULL;
	eng->relay_n = 0;
	if (!out || n == 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		eng->relay_msgs[i].msg_hdr.msg_name = &out->rtp_dest.u.sa;
		eng->relay_msgs[i].msg_hdr.msg_namelen = net_addr_len(&out->rtp_dest);
	}
	int sent = sendmmsg(out->rtp_fd, eng->relay_msgs, n, MSG_DONTWAIT);
	if (sent < 0) {
		log_debug("rtp relay on port %u: %s", out->port, strerror(errno));
		sent = 0;
	}
	for (int i = 0; i < sent; i++) {
		size_t payload = eng->relay_iov[i].iov_len - MEDIA__RTP_HDR_LEN;
		out->stats.packets_out++;
		out->stats.packets_relayed++;
		out->stats.bytes_out += payload;
		out->sr_packets++;
		out->sr_octets += (uint32_t)payload;
	}
}

/* Queues one packet out of `out`; its sequence number is taken now. */
static void relay_queue(struct media_stream *out, bool marker, uint8_t pt, uint32_t ts,
			const uint8_t *payload, size_t len, bool scale_te, uint32_t in_clock)
{
	struct media_engine *eng = out->eng;
	if (len > MEDIA__PAYLOAD_MAX)
		return; /* larger than anything this side sends: not relayed */
	if ((eng->relay_to != out && eng->relay_n) || eng->relay_n == MEDIA__RX_BATCH)
		media__relay_flush(eng);
	uint8_t *pkt = eng->relay_buf[eng->relay_n];
	media__rtp_print(pkt, marker, pt, out->seq, ts, out->ssrc);
	memcpy(pkt + MEDIA__RTP_HDR_LEN, payload, len);
	if (scale_te) {
		/* RFC 4733 durations count timestamp units: convert them to our clock */
		for (size_t off = 0; off + TE_BLOCK <= len; off += TE_BLOCK) {
			uint8_t *d = pkt + MEDIA__RTP_HDR_LEN + off + 2;
			uint64_t dur = (uint64_t)rd16(d) * out->clock_rate / in_clock;
			wr16(d, dur > UINT16_MAX ? UINT16_MAX : (uint16_t)dur);
		}
	}
	eng->relay_iov[eng->relay_n].iov_len = MEDIA__RTP_HDR_LEN + len;
	eng->relay_to = out;
	eng->relay_n++;
	out->seq++;
	out->ts_out = ts;
	out->ts_out_valid = true;
}

/* Our timestamp for a packet that starts something new: the next frame's,
 * which the tick keeps in real time, and after anything already sent. */
static uint32_t ts_fresh(const struct media_stream *out)
{
	uint32_t ts = out->ts;
	if (out->ts_out_valid && (int32_t)(ts - out->ts_out) <= 0)
		ts = out->ts_out + out->frame_ts;
	return ts;
}

static bool relay_mapping_fits(const struct media_stream *out, const struct media__rtp *r)
{
	if (!out->relay_sync || out->relay_ssrc != r->ssrc)
		return false;
	int64_t off = (int32_t)(r->ts + out->relay_off - out->ts);
	if (off < 0)
		off = -off;
	return off <= (int64_t)RESYNC_MS * out->clock_rate / 1000;
}

void media__bridge_relay(struct media_stream *in, const struct media__rtp *r, bool event,
			 uint64_t now_us)
{
	struct media_stream *out = in->bridged;
	if (!out || !out->started || out->closed || !media__may_send(out) || media__dtmf_busy(out))
		return;
	if (event && (out->params.te_pt < 0 || out->te_relay_off))
		return; /* the other far end cannot take events, or gets them otherwise */
	if (!event && (!in->relay || out->src || r->payload_len == 0))
		return; /* transcoded, or a source plays over it, or a keep-alive */
	bool marker = r->marker;
	uint32_t ts;
	if (in->relay) {
		if (!relay_mapping_fits(out, r)) {
			out->relay_off = ts_fresh(out) - r->ts;
			out->relay_ssrc = r->ssrc;
			out->relay_sync = true;
			marker = true; /* a new talkspurt as far as the far end can tell */
		}
		ts = r->ts + out->relay_off;
		out->relay_last_us = now_us;
	} else {
		/* Transcoding: our audio timestamps have nothing to do with the input's;
		 * all packets of one event share its start (RFC 4733 §2.5.1.1). */
		if (!out->te_map_valid || out->te_map_in != r->ts) {
			uint32_t ts_new = out->ts;
			if (out->te_map_valid && (int32_t)(ts_new - out->te_map_out) <= 0)
				ts_new =
				    out->te_map_out + out->frame_ts; /* a new event, a new time */
			out->te_map_valid = true;
			out->te_map_in = r->ts;
			out->te_map_out = ts_new;
			marker = true;
		}
		ts = out->te_map_out;
	}
	uint8_t pt = event ? (uint8_t)out->params.te_pt : out->params.pt;
	bool scale = event && !in->relay && in->clock_rate != out->clock_rate;
	relay_queue(out, marker, pt, ts, r->payload, r->payload_len, scale, in->clock_rate);
}

bool media__bridge_relaying(const struct media_stream *s, uint64_t now_us)
{
	return s->bridged && s->relay && s->relay_last_us &&
	       now_us - s->relay_last_us < 3ull * s->ptime_us + RELAY_IDLE_US;
}

/* ---- setting up and tearing down ----------------------------------------------- */

static void relay_state_reset(struct media_stream *s)
{
	s->relay_sync = false;
	s->relay_last_us = 0;
	s->te_map_valid = false;
	s->marker = true; /* whatever is sent next starts a talkspurt */
}

void media__bridge_plan_drop(const struct media_stream *s, struct media__bridge_plan *plan)
{
	const struct media_stream *peer = s->bridged;
	if (plan->xc_s != s->xc)
		xcode_destroy(plan->xc_s);
	if (plan->xc_peer && (!peer || plan->xc_peer != peer->xc))
		xcode_destroy(plan->xc_peer);
	plan->xc_s = plan->xc_peer = NULL;
}

/* The FIFO one side needs: the one it has when it fits, else a new one. */
static int plan_fifo(struct media__xcode **out, const struct media__xcode *have, bool reuse,
		     enum media_codec_id codec, uint32_t ptime, enum media_codec_id in_codec,
		     uint32_t in_ptime)
{
	uint32_t rate = media_codec_audio_rate(codec);
	uint32_t in_rate = media_codec_audio_rate(in_codec);
	uint32_t cap, start;
	xcode_shape(rate, ptime * rate / 1000, in_rate, in_ptime * in_rate / 1000, &cap, &start);
	if (reuse && xcode_fits(have, rate, in_rate, cap, start)) {
		*out = (struct media__xcode *)have;
		return 0;
	}
	return xcode_create(out, rate, in_rate, cap, start);
}

int media__bridge_prepare(struct media__bridge_plan *plan, const struct media_stream *s,
			  const struct media_stream *peer, bool started, enum media_codec_id codec,
			  uint32_t ptime_ms, bool reuse)
{
	memset(plan, 0, sizeof(*plan));
	if (!peer || !started || !peer->started)
		return 0; /* nothing flows until both are started */
	uint32_t peer_ptime = peer->params.ptime_ms;
	enum media_codec_id peer_codec = peer->params.codec;
	if (codec == peer_codec && ptime_ms == peer_ptime) {
		plan->relay = true;
		return 0;
	}
	int r = plan_fifo(&plan->xc_s, s->xc, reuse, codec, ptime_ms, peer_codec, peer_ptime);
	if (r < 0)
		return r;
	r = plan_fifo(&plan->xc_peer, peer->xc, reuse, peer_codec, peer_ptime, codec, ptime_ms);
	if (r < 0) {
		if (plan->xc_s != s->xc)
			xcode_destroy(plan->xc_s);
		plan->xc_s = NULL;
		return r;
	}
	return 0;
}

void media__bridge_commit(struct media_stream *s, struct media__bridge_plan *plan)
{
	struct media_stream *peer = s->bridged;
	if (!peer) {
		media__bridge_plan_drop(s, plan);
		return;
	}
	if (s->xc != plan->xc_s) {
		xcode_destroy(s->xc);
		s->xc = plan->xc_s;
	}
	if (peer->xc != plan->xc_peer) {
		xcode_destroy(peer->xc);
		peer->xc = plan->xc_peer;
	}
	if (s->relay != plan->relay) {
		relay_state_reset(s);
		relay_state_reset(peer);
	}
	s->relay = peer->relay = plan->relay;
	plan->xc_s = plan->xc_peer = NULL;
}

static void bridge_detach(struct media_stream *s)
{
	struct media_engine *eng = s->eng;
	if (eng->relay_to == s)
		media__relay_flush(eng); /* what was relayed before the end still goes */
	xcode_destroy(s->xc);
	s->xc = NULL;
	s->bridged = NULL;
	s->relay = false;
	relay_state_reset(s);
}

int media_stream_bridge(struct media_stream *a, struct media_stream *b)
{
	if (!a || !b || a == b || a->eng != b->eng || a->closed || b->closed)
		return -EINVAL;
	bool again = a->bridged == b;
	struct media__bridge_plan plan;
	int r = media__bridge_prepare(&plan, a, b, a->started, a->params.codec, a->params.ptime_ms,
				      again);
	if (r < 0)
		return r;
	if (!again) {
		media_stream_unbridge(a);
		media_stream_unbridge(b);
		a->bridged = b;
		b->bridged = a;
		relay_state_reset(a);
		relay_state_reset(b);
	}
	media__bridge_commit(a, &plan);
	return 0;
}

void media_stream_unbridge(struct media_stream *s)
{
	if (!s || !s->bridged)
		return;
	struct media_stream *peer = s->bridged;
	bridge_detach(s);
	bridge_detach(peer);
}

struct media_stream *media_stream_bridged(const struct media_stream *s)
{
	return s ? s->bridged : NULL;
}

void media_stream_dtmf_relay(struct media_stream *s, bool on)
{
	if (s)
		s->te_relay_off = !on;
}
