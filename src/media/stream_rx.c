/*
 * The receive side of media streams: reading, RTP validation and symmetric
 * latching, statistics, RFC 4733 events, RTCP reports, and the echo ring.
 *
 * Reading: each stream's sockets are plain non-blocking descriptors watched
 * by uv_poll; a readable socket is drained with recvmmsg into the engine's
 * receive buffers, so a packet costs one system call at most and no
 * allocation. (uv_udp would read one datagram per call plus a last call
 * that finds the socket empty: twice the calls at 50 packets a second per
 * stream.)
 *
 * Symmetric RTP (RFC 4961's spirit, the "latching" of RFC 7362 §4): the
 * first valid packet sets where the stream sends; later packets from
 * another address are dropped until MEDIA__RELATCH_PACKETS of them in a row,
 * with one SSRC, arrive with none from the current address in between,
 * which a spoofer who merely guesses the port cannot keep up against a live
 * peer. RTCP goes to the RTP peer's port + 1 until RTCP arrives, then to
 * where it came from.
 *
 * RFC 4733: an event is reported once, when its first end packet arrives
 * (the retransmitted ends carry the same timestamp and are ignored), or when
 * a new event starts or MEDIA__TE_STALE_US pass without its end. The
 * event's timestamp units are the codec's RTP clock (the rate SDP
 * negotiates telephone-event at, alongside the audio codec).
 *
 * Echo: arriving audio waits in a ring of a few frames for the next ticks.
 * A payload that holds exactly one of our frames is kept as is and sent
 * back untouched; other frame sizes are decoded and re-cut into frames.
 */
#define LOG_MODULE "media"
#include "media_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	ECHO_SLOTS = 4, /* 80 ms at 20 ms: absorbs arrival jitter, bounds the delay */
	RX_ROUNDS = 4,	/* recvmmsg calls per wake-up, so one busy socket cannot starve others */
};

/* ---- echo ring ------------------------------------------------------------- */

struct media__echo {
	uint32_t frame_samples;
	size_t slot_size;	  /* bytes, a multiple of 2 */
	unsigned head, count;	  /* committed slots */
	uint32_t fill;		  /* samples in the slot being filled (PCM only) */
	uint16_t len[ECHO_SLOTS]; /* payload bytes, 0 for a PCM frame */
	int16_t data[];		  /* ECHO_SLOTS * slot_size bytes */
};

int media__echo_create(struct media__echo **out, enum media_codec_id id, uint32_t frame_samples)
{
	size_t pcm_bytes = (size_t)frame_samples * sizeof(int16_t);
	size_t payload = id == MEDIA_CODEC_OPUS ? MEDIA__PAYLOAD_MAX : frame_samples;
	size_t slot = (pcm_bytes > payload ? pcm_bytes : payload + 1) & ~(size_t)1;
	struct media__echo *e = calloc(1, sizeof(*e) + ECHO_SLOTS * slot);
	if (!e)
		return -ENOMEM;
	e->frame_samples = frame_samples;
	e->slot_size = slot;
	*out = e;
	return 0;
}

void media__echo_destroy(struct media__echo *e)
{
	free(e);
}

static uint8_t *echo_slot(struct media__echo *e, unsigned i)
{
	return (uint8_t *)e->data + (size_t)(i % ECHO_SLOTS) * e->slot_size;
}

/* Makes room for a new slot, dropping the oldest frame when the ring is full. */
static unsigned echo_next_slot(struct media__echo *e)
{
	if (e->count == ECHO_SLOTS) {
		e->head = (e->head + 1) % ECHO_SLOTS;
		e->count--;
	}
	return e->head + e->count;
}

static void echo_push_payload(struct media__echo *e, const uint8_t *p, size_t len)
{
	if (len == 0 || len > e->slot_size)
		return;
	e->fill = 0; /* a partial PCM frame cannot precede it: drop it */
	unsigned i = echo_next_slot(e);
	memcpy(echo_slot(e, i), p, len);
	e->len[i % ECHO_SLOTS] = (uint16_t)len;
	e->count++;
}

static void echo_push_pcm(struct media__echo *e, const int16_t *pcm, size_t n)
{
	while (n > 0) {
		unsigned i = e->fill ? e->head + e->count : echo_next_slot(e);
		int16_t *slot = (int16_t *)(void *)echo_slot(e, i);
		size_t take = e->frame_samples - e->fill;
		if (take > n)
			take = n;
		memcpy(slot + e->fill, pcm, take * sizeof(int16_t));
		e->fill += (uint32_t)take;
		pcm += take;
		n -= take;
		if (e->fill == e->frame_samples) {
			e->len[i % ECHO_SLOTS] = 0;
			e->count++;
			e->fill = 0;
		}
	}
}

int media__echo_pop(struct media__echo *e, uint8_t *dst, size_t cap, int16_t *pcm)
{
	if (e->count == 0)
		return -ENOENT;
	unsigned i = e->head;
	const uint8_t *slot = echo_slot(e, i);
	size_t len = e->len[i % ECHO_SLOTS];
	e->head = (e->head + 1) % ECHO_SLOTS;
	e->count--;
	if (len == 0) {
		memcpy(pcm, slot, (size_t)e->frame_samples * sizeof(int16_t));
		return 0;
	}
	if (len > cap)
		return -ENOSPC;
	memcpy(dst, slot, len);
	return (int)len;
}

/* ---- RTP ------------------------------------------------------------------- */

static bool may_receive(const struct media_stream *s)
{
	return s->params.dir == MEDIA_SENDRECV || s->params.dir == MEDIA_RECVONLY;
}

/* Whether a packet from `from` is taken (and where the stream now sends). */
static bool latch(struct media_stream *s, const struct net_addr *from, uint32_t ssrc)
{
	if (!s->latched) {
		s->latched = true;
		s->rtp_dest = *from;
		if (!s->rtcp_latched) {
			s->rtcp_dest = *from;
			net_addr_set_port(&s->rtcp_dest, (uint16_t)(net_addr_port(from) + 1));
		}
		s->cand_count = 0;
		return true;
	}
	if (net_addr_eq(from, &s->rtp_dest)) {
		s->cand_count = 0; /* the current peer is alive: no move */
		return true;
	}
	if (s->cand_count && ssrc == s->cand_ssrc && net_addr_eq(from, &s->cand)) {
		s->cand_count++;
	} else {
		s->cand = *from;
		s->cand_ssrc = ssrc;
		s->cand_count = 1;
	}
	if (s->cand_count < MEDIA__RELATCH_PACKETS)
		return false;
	if (log_enabled(LOG_INFO)) {
		char a[NET_ADDR_STRLEN], b[NET_ADDR_STRLEN];
		log_info("port %u: RTP peer moved from %s to %s", s->port,
			 net_addr_print(&s->rtp_dest, a, sizeof(a)),
			 net_addr_print(from, b, sizeof(b)));
	}
	s->rtp_dest = *from;
	s->rtcp_dest = *from;
	net_addr_set_port(&s->rtcp_dest, (uint16_t)(net_addr_port(from) + 1));
	s->rtcp_latched = false;
	s->cand_count = 0;
	return true;
}

void media__stream_te_flush(struct media_stream *s)
{
	if (!s->te_active)
		return;
	s->te_active = false;
	s->te_done = true;
	s->te_done_ts = s->te_ts;
	char digit = media__te_digit(s->te_event);
	if (digit && s->cbs.dtmf_cb) {
		uint32_t ms = (uint32_t)((uint64_t)s->te_duration * 1000 / s->clock_rate);
		s->cbs.dtmf_cb(s->cbs.arg, digit, ms);
	}
}

static void rx_event(struct media_stream *s, const struct media__rtp *r, uint64_t now_us)
{
	struct media__te e;
	if (media__te_parse(&e, r->payload, r->payload_len) < 0) {
		s->stats.packets_dropped++;
		return;
	}
	/* All packets of one event share its timestamp (RFC 4733 §2.5.1.1), and a
	 * later event has a later one. */
	if (s->te_done && (int32_t)(r->ts - s->te_done_ts) <= 0)
		return; /* a retransmitted end, or a straggler of an ended event */
	if (s->te_active && (int32_t)(r->ts - s->te_ts) < 0)
		return; /* a straggler from before the event in progress */
	if (s->te_active && r->ts != s->te_ts) {
		media__stream_te_flush(s); /* a new event: the previous one's ends were lost */
		if (s->closed)
			return;
	}
	if (!s->te_active) {
		s->te_active = true;
		s->te_ts = r->ts;
		s->te_event = e.event;
		s->te_duration = 0;
	}
	if (e.duration > s->te_duration)
		s->te_duration = e.duration;
	s->te_last_us = now_us;
	if (e.end)
		media__stream_te_flush(s);
}

static void rx_audio(struct media_stream *s, const struct media__rtp *r)
{
	struct media_engine *eng = s->eng;
	if (r->payload_len == 0)
		return; /* a keep-alive (RFC 6263 §4.2) */
	int n = media__codec_payload_samples(s->params.codec, r->payload, r->payload_len);
	if (n < 0) {
		s->stats.packets_dropped++;
		return;
	}
	/* bridged, the stream's own echo is not what it sends */
	struct media__echo *echo = s->bridged ? NULL : s->echo;
	struct media_stream *feed = s->bridged;
	if (feed && !media__bridge_wants_audio(feed))
		feed = NULL;
	bool passthrough = echo && (uint32_t)n == s->frame_samples;
	if (passthrough)
		echo_push_payload(echo, r->payload, r->payload_len);
	/* relaying, what arrives here is what the bridged stream sends: its tx tap */
	struct media_stream *tap_out =
	    s->bridged && !feed && s->bridged->tap.tx_cb ? s->bridged : NULL;
	if (!s->cbs.audio_cb && !s->tap.rx_cb && !tap_out && !feed && (!echo || passthrough))
		return;
	if (!s->dec.state && s->params.codec != MEDIA_CODEC_PCMU &&
	    s->params.codec != MEDIA_CODEC_PCMA &&
	    media__decoder_init(&s->dec, s->params.codec) < 0)
		return;
	s->dec.id = s->params.codec;
	int got =
	    media__codec_decode(&s->dec, r->payload, r->payload_len, eng->rx_pcm, MEDIA__FRAME_MAX);
	if (got <= 0)
		return;
	if (echo && !passthrough)
		echo_push_pcm(echo, eng->rx_pcm, (size_t)got);
	if (feed)
		media__bridge_feed(feed, eng->rx_pcm, (size_t)got);
	uint32_t rate = media_codec_audio_rate(s->params.codec);
	if (s->cbs.audio_cb)
		s->cbs.audio_cb(s->cbs.arg, eng->rx_pcm, (size_t)got, rate);
	if (s->tap.rx_cb)
		s->tap.rx_cb(s->tap.arg, eng->rx_pcm, (size_t)got, rate);
	if (tap_out && tap_out->relay && !tap_out->src)
		tap_out->tap.tx_cb(tap_out->tap.arg, eng->rx_pcm, (size_t)got, rate);
}

void media__stream_rx_rtp(struct media_stream *s, const uint8_t *p, size_t len,
			  const struct net_addr *from, uint64_t now_us)
{
	if (!s->started)
		return; /* nothing negotiated yet: not even a payload type to check */
	if (media__rtp_is_rtcp(p, len)) {
		media__stream_rx_rtcp(s, p, len, from, now_us); /* RFC 5761 multiplexing */
		return;
	}
	struct media__rtp r;
	if (media__rtp_parse(&r, p, len) < 0) {
		s->stats.packets_dropped++;
		return;
	}
	bool audio = r.pt == s->params.pt;
	bool event = s->params.te_pt >= 0 && r.pt == s->params.te_pt;
	/* Comfort noise (RFC 3389, static PT 13) keeps a silent peer alive */
	bool cn = r.pt == MEDIA__PT_CN && !audio && !event;
	if ((!audio && !event && !cn) || !latch(s, from, r.ssrc)) {
		s->stats.packets_dropped++;
		return;
	}
	if (!s->have_peer || r.ssrc != s->peer_ssrc) {
		/* a new source (a first packet, or the peer restarted its stream) */
		if (s->have_peer) {
			int64_t lost = media__rx_lost(&s->rx);
			s->lost_base += lost > 0 ? lost : 0;
		}
		media__rx_init(&s->rx, r.seq);
		s->have_peer = true;
		s->peer_ssrc = r.ssrc;
		s->lsr = 0;
	} else if (!media__rx_update(&s->rx, r.seq)) {
		s->stats.packets_dropped++;
		return;
	}
	s->stats.packets_in++;
	s->stats.bytes_in += r.payload_len;
	s->last_rx_us = now_us;
	s->stats.last_rx_ms = now_us / 1000;
	s->timed_out = false;
	if (audio) {
		/* A.8: arrival time in timestamp units; events carry their start time instead */
		uint32_t arrival = (uint32_t)(now_us * s->clock_rate / 1000000);
		media__rx_jitter(&s->rx, r.ts, arrival);
	}
	if (!may_receive(s) || cn)
		return; /* sendonly or inactive: the peer's media is not wanted */
	/* relayed first: the callbacks below may end the bridge */
	media__bridge_relay(s, &r, event, now_us);
	if (event)
		rx_event(s, &r, now_us);
	else
		rx_audio(s, &r);
}

/* ---- RTCP ------------------------------------------------------------------ */

void media__stream_rx_rtcp(struct media_stream *s, const uint8_t *p, size_t len,
			   const struct net_addr *from, uint64_t now_us)
{
	if (!s->started)
		return;
	struct media__rtcp_info info;
	if (media__rtcp_parse(&info, p, len, s->ssrc) < 0) {
		s->stats.packets_dropped++;
		return;
	}
	/* Once the RTP peer is known, reports about other sources are not ours. */
	if (s->have_peer && (info.has_sr || info.has_block) && info.ssrc != s->peer_ssrc) {
		s->stats.packets_dropped++;
		return;
	}
	s->stats.rtcp_in++;
	if (!s->rtcp_latched) {
		s->rtcp_latched = true;
		s->rtcp_dest = *from;
	}
	if (info.has_sr) {
		s->lsr = (uint32_t)(info.sr.ntp >> 16); /* the middle 32 bits (§6.4.1) */
		s->lsr_at_us = now_us;
	}
	if (info.has_block) {
		s->stats.remote_lost = info.block.lost;
		s->stats.remote_jitter_ms = info.block.jitter * 1000.0 / s->clock_rate;
		if (info.block.lsr) {
			uint32_t now_mid =
			    (uint32_t)(media__ntp_from_wall_us(clock_wall_us()) >> 16);
			uint32_t rtt = now_mid - info.block.lsr - info.block.dlsr;
			/* a clock step could make it absurd: only believe under a minute */
			if (rtt < 60u * 65536u)
				s->stats.rtt_ms = rtt * 1000.0 / 65536.0;
		}
	}
}

/* ---- reading ---------------------------------------------------------------- */

void media__stream_poll_cb(uv_poll_t *h, int status, int events)
{
	struct media_stream *s = h->data;
	struct media_engine *eng = s->eng;
	bool is_rtp = h == &s->rtp_poll;
	int fd = is_rtp ? s->rtp_fd : s->rtcp_fd;
	if (status < 0) {
		log_warn("port %u: poll error: %s", s->port, uv_strerror(status));
		return;
	}
	for (int round = 0; round < RX_ROUNDS; round++) {
		for (size_t i = 0; i < MEDIA__RX_BATCH; i++)
			eng->rx_msgs[i].msg_hdr.msg_namelen = sizeof(eng->rx_from[i]);
		int n = recvmmsg(fd, eng->rx_msgs, MEDIA__RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN: drained; ICMP errors are not ours to act on */
		uint64_t now = media__now_us();
		for (int i = 0; i < n && !s->closed; i++) {
			struct msghdr *m = &eng->rx_msgs[i].msg_hdr;
			if ((m->msg_flags & MSG_TRUNC) ||
			    m->msg_namelen > sizeof(struct net_addr)) {
				s->stats.packets_dropped++;
				continue;
			}
			struct net_addr from;
			memset(&from, 0, sizeof(from));
			memcpy(&from, m->msg_name, m->msg_namelen);
			if (is_rtp)
				media__stream_rx_rtp(s, eng->rx_buf[i], eng->rx_msgs[i].msg_len,
						     &from, now);
			else
				media__stream_rx_rtcp(s, eng->rx_buf[i], eng->rx_msgs[i].msg_len,
						      &from, now);
		}
		/* what this batch relayed to the bridged stream leaves together */
		media__relay_flush(eng);
		if (n < MEDIA__RX_BATCH || s->closed)
			return;
	}
}
