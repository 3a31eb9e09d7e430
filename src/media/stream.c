/*
 * Media streams: one RTP/RTCP session of a call leg (RFC 3550), the send
 * side and the life cycle. The receive side is stream_rx.c.
 *
 * Sending (RFC 3550 §5.1, RFC 3551 §4.1): a random SSRC, initial sequence
 * number and timestamp; the timestamp advances by the frame's duration at the
 * codec's RTP clock (G.722: 8000 Hz for 16 kHz audio; Opus: 48000), also
 * while nothing is sent (hold) so that it keeps following real time; the
 * marker bit on the first packet and on the first after a new source, a
 * resumption or a resync (a talkspurt start). While sending is allowed a
 * packet leaves every ptime: the source's audio, else echoed audio, else
 * silence, so that a call always carries 1000/ptime packets a second.
 *
 * Pacing: the engine's tick calls media__stream_tick with the grid point it
 * works on. A stream's frames are due on that grid; the tick sends every due
 * frame, up to MEDIA__CATCHUP_US of audio after a late tick (a loop that
 * stalled), then skips the timestamp forward to real time and marks the
 * resync. A stream's packets of one tick leave in one sendmmsg.
 *
 * Direction and hold (RFC 3264 §5.1, §8.4): sendrecv and sendonly send;
 * recvonly and inactive do not; a remote address 0.0.0.0 or :: (RFC 2543
 * hold) sends nothing, RTCP included, and expects nothing. A source keeps
 * playing in real time while nothing is sent, so a playback ends on time.
 */
#define LOG_MODULE "media"
#include "media_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static bool addr_is_any(const struct net_addr *a)
{
	if (net_addr_family(a) == AF_INET)
		return a->u.in4.sin_addr.s_addr == htonl(INADDR_ANY);
	if (net_addr_family(a) == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
	return true;
}

static bool expects_rx(const struct media_stream *s)
{
	return s->dest_valid &&
	       (s->params.dir == MEDIA_SENDRECV || s->params.dir == MEDIA_RECVONLY);
}

/* ---- sending ---------------------------------------------------------------- */

/* Encodes one frame of audio (`pcm` NULL: silence) after the RTP header. */
static size_t frame_encode(struct media_stream *s, const int16_t *pcm, uint8_t *payload)
{
	if (!pcm) {
		int b = media__codec_silence_byte(s->params.codec);
		if (b >= 0) {
			memset(payload, b, s->frame_samples);
			return s->frame_samples;
		}
		memset(s->eng->tx_pcm, 0, s->frame_samples * sizeof(int16_t));
		pcm = s->eng->tx_pcm;
	}
	int n = media__codec_encode(&s->enc, pcm, s->frame_samples, payload, MEDIA__PAYLOAD_MAX);
	if (n < 0) {
		log_debug("encode failed: %d", n);
		return 0;
	}
	return (size_t)n;
}

static void packets_send(struct media_stream *s, unsigned n)
{
	struct media_engine *eng = s->eng;
	for (unsigned i = 0; i < n; i++) {
		eng->tx_msgs[i].msg_hdr.msg_name = &s->rtp_dest.u.sa;
		eng->tx_msgs[i].msg_hdr.msg_namelen = net_addr_len(&s->rtp_dest);
	}
	int sent = sendmmsg(s->rtp_fd, eng->tx_msgs, n, MSG_DONTWAIT);
	if (sent < 0) {
		/* A full socket buffer drops real-time audio rather than queueing it. */
		log_debug("rtp send on port %u: %s", s->port, strerror(errno));
		sent = 0;
	}
	for (int i = 0; i < sent; i++) {
		size_t payload = eng->tx_iov[i].iov_len - MEDIA__RTP_HDR_LEN;
		s->stats.packets_out++;
		s->stats.bytes_out += payload;
		s->sr_packets++;
		s->sr_octets += (uint32_t)payload;
	}
}

/* Frames due now: 0 when none, at most what the catch-up bound allows. */
static unsigned frames_due(struct media_stream *s, uint64_t nominal_us)
{
	if (s->next_due_us > nominal_us)
		return 0;
	uint64_t due = (nominal_us - s->next_due_us) / s->ptime_us + 1;
	uint64_t max = MEDIA__CATCHUP_US / s->ptime_us;
	if (max > MEDIA__TX_BATCH)
		max = MEDIA__TX_BATCH;
	if (max == 0)
		max = 1;
	if (due > max) {
		/* The loop stalled: drop the oldest frames, keep the clock. */
		uint64_t skip = due - max;
		s->next_due_us += skip * s->ptime_us;
		s->ts += (uint32_t)(skip * s->frame_ts);
		s->marker = true;
		due = max;
	}
	return (unsigned)due;
}

/* One frame of audio for the slot: the source's, else the bridged stream's
 * (transcoding), else none (NULL). Both are consumed also when nothing is
 * sent, so that they stay on time. */
static const int16_t *frame_audio(struct media_stream *s, bool *src_ended)
{
	struct media_engine *eng = s->eng;
	const int16_t *pcm = NULL;
	if (s->src && !*src_ended) {
		uint32_t rate = media_codec_audio_rate(s->params.codec);
		size_t got = media_source_read(s->src, eng->tx_pcm, s->frame_samples, rate);
		if (got < s->frame_samples) {
			memset(eng->tx_pcm + got, 0, (s->frame_samples - got) * sizeof(int16_t));
			*src_ended = true;
		}
		pcm = eng->tx_pcm;
	}
	if (s->xc && media__xcode_pop(s->xc, pcm ? NULL : eng->tx_pcm, s->frame_samples) && !pcm)
		pcm = eng->tx_pcm;
	return pcm;
}

/*
 * The tx tap gets the frame as PCM: `pcm` when the frame was encoded from it
 * (NULL: silence), else the payload (an echoed packet sent as it came)
 * decoded again; G.711 decodes without state, other codecs' echo taps as
 * silence rather than disturb the receive decoder.
 */
static void tap_tx(struct media_stream *s, const int16_t *pcm, const uint8_t *payload, size_t len)
{
	struct media_engine *eng = s->eng;
	uint32_t rate = media_codec_audio_rate(s->params.codec);
	if (!pcm) {
		struct media__codec g711 = {.id = s->params.codec};
		int n = -1;
		if (payload && (g711.id == MEDIA_CODEC_PCMU || g711.id == MEDIA_CODEC_PCMA))
			n = media__codec_decode(&g711, payload, len, eng->tap_pcm,
						MEDIA__FRAME_MAX);
		if (n != (int)s->frame_samples)
			memset(eng->tap_pcm, 0, s->frame_samples * sizeof(int16_t));
		pcm = eng->tap_pcm;
	}
	s->tap.tx_cb(s->tap.arg, pcm, s->frame_samples, rate);
}

void media_stream_set_tap(struct media_stream *s, const struct media_tap *tap)
{
	if (tap)
		s->tap = *tap;
	else
		memset(&s->tap, 0, sizeof(s->tap));
}

static void tx_frames(struct media_stream *s, uint64_t nominal_us, uint64_t now_us)
{
	struct media_engine *eng = s->eng;
	unsigned due = frames_due(s, nominal_us);
	if (due == 0)
		return;
	bool send = media__may_send(s);
	if (send && !s->was_sending)
		s->marker = true; /* resuming after hold or a direction change */
	s->was_sending = send;
	/* relaying, the bridged stream's packets leave as they arrive */
	bool relaying = media__bridge_relaying(s, now_us);

	bool src_ended = false;
	unsigned n = 0;
	for (unsigned f = 0; f < due; f++) {
		bool had_src = s->src && !src_ended;
		const int16_t *pcm = frame_audio(s, &src_ended);
		uint8_t *pkt = eng->tx_buf[n];
		uint8_t *payload = pkt + MEDIA__RTP_HDR_LEN;
		uint32_t ts = s->ts;
		uint8_t pt = s->params.pt;
		bool marker = s->marker;
		size_t len = 0;
		int dtmf = s->dtmf ? media__dtmf_slot(s, payload, &ts, &marker, send) : -1;
		if (dtmf >= 0) {
			len = (size_t)dtmf;
			pt = (uint8_t)s->params.te_pt;
			s->marker = true; /* audio after the digits starts a talkspurt */
		} else if (relaying && !had_src) {
			s->marker = true; /* our own packets, when they resume, start one */
		} else if (send) {
			if (!pcm && s->echo && !s->bridged) {
				int r = media__echo_pop(s->echo, payload, MEDIA__PAYLOAD_MAX,
							eng->tx_pcm);
				if (r > 0)
					len = (size_t)r;
				else if (r == 0)
					pcm = eng->tx_pcm;
			}
			bool echoed = len > 0;
			if (len == 0)
				len = frame_encode(s, pcm, payload);
			if (s->tap.tx_cb && len > 0)
				tap_tx(s, echoed ? NULL : pcm, echoed ? payload : NULL, len);
		}
		if (send && len > 0) {
			if (dtmf < 0)
				s->marker = false;
			media__rtp_print(pkt, marker, pt, s->seq, ts, s->ssrc);
			eng->tx_iov[n].iov_len = MEDIA__RTP_HDR_LEN + len;
			s->seq++;
			s->ts_out = ts;
			s->ts_out_valid = true;
			s->relay_sync = false; /* relaying again needs a fresh mapping */
			n++;
		}
		s->next_due_us += s->ptime_us;
		s->ts += s->frame_ts;
	}
	if (n)
		packets_send(s, n);
	if (src_ended) {
		media_source_destroy(s->src);
		s->src = NULL;
		if (s->cbs.play_done_cb)
			s->cbs.play_done_cb(s->cbs.arg, 0);
	}
}

/* ---- RTCP ------------------------------------------------------------------- */

uint64_t media__ntp_from_wall_us(uint64_t us)
{
	/* NTP counts from 1900 (RFC 3550 §4): 70 years and 17 leap days before 1970 */
	uint64_t sec = us / 1000000 + 2208988800u;
	uint64_t frac = ((us % 1000000) << 32) / 1000000;
	return sec << 32 | frac;
}

static uint64_t rtcp_interval_us(struct media_stream *s, bool first)
{
	uint64_t mean = (uint64_t)(s->params.rtcp_interval_ms ? s->params.rtcp_interval_ms
							      : MEDIA__RTCP_DEFAULT_MS) *
			1000;
	if (first)
		mean /= 2; /* §6.2: the first report after half an interval */
	/* §6.3.1: uniformly in [0.5, 1.5] times the interval, against synchronized reports */
	return mean / 2 + (mean * (media__rand32(s->eng) >> 16)) / 65536;
}

void media__stream_rtcp_send(struct media_stream *s, uint64_t now_us, bool bye)
{
	if (!s->dest_valid)
		return;
	struct media__rtcp_report r = {
	    .ssrc = s->ssrc,
	    .cname = str_from_cstr(s->eng->cname),
	    .bye = bye,
	};
	if (s->was_sending && s->stats.packets_out > 0) {
		r.sr = true;
		r.sender.ntp = media__ntp_from_wall_us(clock_wall_us());
		/* the timestamp that corresponds to now: the next frame's, less the time to it */
		int64_t ahead_us = (int64_t)s->next_due_us - (int64_t)now_us;
		r.sender.rtp_ts = s->ts - (uint32_t)(ahead_us * s->clock_rate / 1000000);
		r.sender.packets = s->sr_packets;
		r.sender.octets = s->sr_octets;
	}
	if (s->have_peer) {
		r.has_block = true;
		r.block.ssrc = s->peer_ssrc;
		media__rx_report(&s->rx, &r.block);
		r.block.lsr = s->lsr;
		if (s->lsr)
			r.block.dlsr = (uint32_t)(((now_us - s->lsr_at_us) << 16) / 1000000);
	}
	uint8_t buf[MEDIA__RTCP_MAX];
	size_t len = media__rtcp_print(buf, sizeof(buf), &r);
	if (len == 0)
		return;
	ssize_t n = sendto(s->rtcp_fd, buf, len, MSG_DONTWAIT, &s->rtcp_dest.u.sa,
			   net_addr_len(&s->rtcp_dest));
	if (n == (ssize_t)len)
		s->stats.rtcp_out++;
}

/* ---- the tick --------------------------------------------------------------- */

void media__stream_tick(struct media_stream *s, uint64_t nominal_us, uint64_t now_us)
{
	if (!s->started || s->closed)
		return;
	tx_frames(s, nominal_us, now_us);
	if (s->closed)
		return;
	if (now_us >= s->rtcp_next_us) {
		media__stream_rtcp_send(s, now_us, false);
		s->rtcp_next_us = now_us + rtcp_interval_us(s, false);
	}
	if (s->te_active && now_us - s->te_last_us > MEDIA__TE_STALE_US) {
		media__stream_te_flush(s); /* its end packets were all lost */
		if (s->closed)
			return;
	}
	if (s->params.timeout_ms && !s->timed_out && expects_rx(s)) {
		uint64_t last =
		    s->last_rx_us > s->expect_since_us ? s->last_rx_us : s->expect_since_us;
		if (now_us - last >= (uint64_t)s->params.timeout_ms * 1000) {
			s->timed_out = true;
			if (s->cbs.timeout_cb)
				s->cbs.timeout_cb(s->cbs.arg);
		}
	}
}

/* ---- life cycle --------------------------------------------------------------- */

static void stream_closed_cb(uv_handle_t *h)
{
	struct media_stream *s = h->data;
	struct media_engine *eng = s->eng;
	/* the descriptor outlives its poll handle (uv_poll_init_socket's contract) */
	if (h == (uv_handle_t *)&s->rtp_poll)
		close(s->rtp_fd);
	else
		close(s->rtcp_fd);
	if (--s->open_handles == 0) {
		/* both ports are closed: only now may another stream get them */
		media__ports_give(eng, s->pair);
		free(s);
	}
	media__engine_handle_closed(eng);
}

int media_stream_create(struct media_stream **out, struct media_engine *eng,
			const struct net_addr *local_ip, const struct media_stream_cbs *cbs)
{
	if (!out || !eng || !local_ip || eng->closing)
		return -EINVAL;
	int family = net_addr_family(local_ip);
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	struct media_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->eng = eng;
	s->family = family;
	if (cbs)
		s->cbs = *cbs;
	int r = media__ports_take(eng, local_ip, &s->pair, &s->rtp_fd, &s->rtcp_fd);
	if (r < 0) {
		free(s);
		return r;
	}
	s->port = (uint16_t)(eng->first_port + 2 * s->pair);
	r = uv_poll_init_socket(eng->loop, &s->rtp_poll, s->rtp_fd);
	if (r < 0) {
		close(s->rtp_fd);
		close(s->rtcp_fd);
		media__ports_give(eng, s->pair);
		free(s);
		return r;
	}
	s->rtp_poll.data = s;
	r = uv_poll_init_socket(eng->loop, &s->rtcp_poll, s->rtcp_fd);
	if (r < 0) {
		/* the RTP handle exists: it is freed from its close callback */
		close(s->rtcp_fd);
		s->closed = true;
		s->open_handles = 1;
		eng->open_handles++;
		uv_close((uv_handle_t *)&s->rtp_poll, stream_closed_cb);
		return r;
	}
	s->rtp_poll.data = s;
	s->rtcp_poll.data = s;
	uv_poll_start(&s->rtp_poll, UV_READABLE, media__stream_poll_cb);
	uv_poll_start(&s->rtcp_poll, UV_READABLE, media__stream_poll_cb);

	uint8_t rnd[10];
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		for (size_t i = 0; i < sizeof(rnd); i += 2) {
			uint32_t x = media__rand32(eng);
			rnd[i] = (uint8_t)x;
			rnd[i + 1] = (uint8_t)(x >> 8);
		}
	}
	memcpy(&s->ssrc, rnd, 4);
	memcpy(&s->seq, rnd + 4, 2);
	memcpy(&s->ts, rnd + 6, 4);

	s->next = eng->streams;
	if (eng->streams)
		eng->streams->prev = s;
	eng->streams = s;
	eng->nstreams++;
	media__engine_tick_update(eng);
	*out = s;
	return 0;
}

uint16_t media_stream_port(const struct media_stream *s)
{
	return s ? s->port : 0;
}

int media_stream_start(struct media_stream *s, const struct media_stream_params *p)
{
	if (!s || !p || s->closed || !media__codec_valid(p->codec) || p->pt > 127 ||
	    p->te_pt > 127 || p->te_pt == p->pt || (unsigned)p->dir > MEDIA_INACTIVE)
		return -EINVAL;
	int rfam = net_addr_family(&p->remote);
	if (rfam != AF_UNSPEC && rfam != s->family)
		return -EAFNOSUPPORT;

	bool codec_changed = !s->started || p->codec != s->params.codec;
	uint32_t ptime = media__codec_ptime(p->codec, p->ptime_ms);
	uint32_t rate = media_codec_audio_rate(p->codec);
	uint32_t frame_samples = ptime * rate / 1000;
	struct media__codec enc = {.id = p->codec};
	if (codec_changed) {
		int r = media__encoder_init(&enc, p->codec);
		if (r < 0)
			return r;
	}
	/* relay or transcode, decided again with the new parameters */
	struct media__bridge_plan plan;
	int r = media__bridge_prepare(&plan, s, s->bridged, true, p->codec, ptime, true);
	if (r < 0) {
		media__codec_fini(&enc, true);
		return r;
	}
	if (codec_changed) {
		media__codec_fini(&s->enc, true);
		media__codec_fini(&s->dec, false);
		s->dec.state = NULL;
		s->dec.id = p->codec;
		s->enc = enc;
		s->marker = true;
	}
	if (s->dtmf && (p->te_pt < 0 || media_codec_clock_rate(p->codec) != s->clock_rate)) {
		/* the digits' timestamps would mean nothing now */
		media__dtmf_fini(s);
		s->marker = true;
	}
	if (s->echo && (codec_changed || frame_samples != s->frame_samples)) {
		struct media__echo *e = NULL;
		media__echo_create(&e, p->codec, frame_samples); /* NULL on failure: echo off */
		media__echo_destroy(s->echo);
		s->echo = e;
	}

	bool remote_changed = !s->started || !net_addr_eq(&p->remote, &s->params.remote);
	bool rtcp_changed = s->started && p->rtcp_interval_ms != s->params.rtcp_interval_ms;
	s->params = *p;
	s->params.ptime_ms = ptime;
	s->ptime_us = ptime * 1000;
	s->clock_rate = media_codec_clock_rate(p->codec);
	s->frame_samples = frame_samples;
	s->frame_ts = ptime * s->clock_rate / 1000;
	s->dest_valid = rfam != AF_UNSPEC && !addr_is_any(&p->remote) && net_addr_port(&p->remote);
	if (remote_changed) {
		/* the signalled address is news: latching starts over from it */
		s->rtp_dest = p->remote;
		s->rtcp_dest = p->remote;
		if (rfam != AF_UNSPEC)
			net_addr_set_port(&s->rtcp_dest, (uint16_t)(net_addr_port(&p->remote) + 1));
		s->latched = false;
		s->rtcp_latched = false;
		s->cand_count = 0;
	}

	bool fine = s->ptime_us % MEDIA__TICK_US != 0;
	if (fine != s->fine) {
		s->fine = fine;
		if (fine)
			s->eng->nfine++;
		else
			s->eng->nfine--;
		media__engine_tick_update(s->eng);
	}

	uint64_t now = media__now_us();
	if (!s->started) {
		s->next_due_us = s->eng->nominal_us + s->eng->tick_us;
		s->rtcp_next_us = now + rtcp_interval_us(s, true);
		s->marker = true;
		s->started = true;
	}
	if (rtcp_changed)
		s->rtcp_next_us = now + rtcp_interval_us(s, false);
	s->expect_since_us = now;
	s->timed_out = false;
	s->relay_sync = false; /* what is relayed next starts a talkspurt */
	media__bridge_commit(s, &plan);
	return 0;
}

void media_stream_play(struct media_stream *s, struct media_source *src)
{
	if (!s || s->closed) {
		media_source_destroy(src);
		return;
	}
	struct media_source *old = s->src;
	s->src = src;
	s->marker = true;
	if (old) {
		media_source_destroy(old);
		if (s->cbs.play_done_cb)
			s->cbs.play_done_cb(s->cbs.arg, -ECANCELED);
	}
}

void media_stream_stop(struct media_stream *s)
{
	if (!s || s->closed || !s->src)
		return;
	struct media_source *old = s->src;
	s->src = NULL;
	media_source_destroy(old);
	if (s->cbs.play_done_cb)
		s->cbs.play_done_cb(s->cbs.arg, -ECANCELED);
}

void media_stream_echo(struct media_stream *s, bool on)
{
	if (!s || s->closed || on == (s->echo != NULL))
		return;
	if (!on) {
		media__echo_destroy(s->echo);
		s->echo = NULL;
		return;
	}
	enum media_codec_id id = s->started ? s->params.codec : MEDIA_CODEC_PCMU;
	uint32_t fs = s->started ? s->frame_samples : 160;
	if (media__echo_create(&s->echo, id, fs) < 0)
		log_err("echo on port %u: out of memory", s->port);
	s->marker = true;
}

void media_stream_stats(const struct media_stream *s, struct media_stats *out)
{
	if (!s || !out)
		return;
	*out = s->stats;
	if (s->have_peer) {
		int64_t lost = media__rx_lost(&s->rx); /* negative with duplicates */
		out->lost = (uint64_t)(s->lost_base + (lost > 0 ? lost : 0));
		if (s->clock_rate)
			out->jitter_ms = media__rx_jitter_units(&s->rx) * 1000.0 / s->clock_rate;
	}
}

void media_stream_destroy(struct media_stream *s)
{
	if (!s || s->closed)
		return;
	struct media_engine *eng = s->eng;
	media_stream_unbridge(s);
	if (eng->relay_to == s)
		media__relay_flush(eng);
	if (s->started)
		media__stream_rtcp_send(s, media__now_us(), true);
	s->closed = true;
	media__dtmf_fini(s);
	media_source_destroy(s->src);
	s->src = NULL;
	media__echo_destroy(s->echo);
	s->echo = NULL;
	media__codec_fini(&s->enc, true);
	media__codec_fini(&s->dec, false);

	if (eng->iter_next == s)
		eng->iter_next = s->next;
	if (s->prev)
		s->prev->next = s->next;
	else
		eng->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	eng->nstreams--;
	if (s->fine)
		eng->nfine--;
	media__engine_tick_update(eng);

	s->open_handles = 2;
	eng->open_handles += 2;
	uv_close((uv_handle_t *)&s->rtp_poll, stream_closed_cb);
	uv_close((uv_handle_t *)&s->rtcp_poll, stream_closed_cb);
}

void media_stream_set_audio_cb(struct media_stream *s,
			       void (*audio_cb)(void *arg, const int16_t *pcm, size_t samples,
						uint32_t rate))
{
	if (s)
		s->cbs.audio_cb = audio_cb;
}
