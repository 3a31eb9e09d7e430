/*
 * Media streams over real loopback sockets on a libuv loop, observed from a
 * peer socket: pacing (50 packets/s at 20 ms, other ptimes), sequence,
 * timestamp and marker rules (RFC 3550 §5.1, RFC 3551 §4.1), symmetric
 * latching, direction and hold (RFC 3264), re-start keeping SSRC and
 * sequence, RTCP reports with loss and jitter (RFC 3550 §6.4, A.3, A.8),
 * media timeout, RFC 4733 events counted once, malformed packets dropped,
 * and echo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_media_rtp_util.h"

struct fx {
	uv_loop_t loop;
	struct media_engine *eng;
	struct peer peer;
	struct net_addr local;
};

struct counters {
	int timeouts;
	int play_done;
	int last_status;
	int dtmf;
	char digits[16];
	uint32_t durations[16];
};

static void on_timeout(void *arg)
{
	((struct counters *)arg)->timeouts++;
}

static void on_play_done(void *arg, int status)
{
	struct counters *c = arg;
	c->play_done++;
	c->last_status = status;
}

static void on_dtmf(void *arg, char digit, uint32_t ms)
{
	struct counters *c = arg;
	if (c->dtmf < 16) {
		c->digits[c->dtmf] = digit;
		c->durations[c->dtmf] = ms;
	}
	c->dtmf++;
}

static struct media_stream_cbs cbs_of(struct counters *c)
{
	return (struct media_stream_cbs){
	    .timeout_cb = on_timeout,
	    .play_done_cb = on_play_done,
	    .dtmf_cb = on_dtmf,
	    .arg = c,
	};
}

static struct media_stream_params params_of(uint16_t port, enum media_codec_id codec, uint8_t pt)
{
	return (struct media_stream_params){
	    .remote = loop_addr(port),
	    .codec = codec,
	    .pt = pt,
	    .ptime_ms = 20,
	    .te_pt = 101,
	    .dir = MEDIA_SENDRECV,
	};
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uv_loop_init(&f->loop);
	uint16_t base = test_port_base(4000);
	assert_int_equal(media_engine_create(&f->eng, &f->loop, base, (uint16_t)(base + 1999)), 0);
	peer_open(&f->loop, &f->peer);
	f->local = loop_addr(0);
	*state = f;
	return 0;
}

static void done_cb(void *arg)
{
	*(int *)arg = 1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int done = 0;
	media_engine_destroy(f->eng, done_cb, &done);
	peer_close(&f->peer);
	run_out(&f->loop);
	peer_fini(&f->peer);
	assert_int_equal(done, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

/* The RTP packets a peer socket received, parsed. */
static size_t rtp_list(struct peer *p, struct media__rtp *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n[0] && n < max; i++)
		if (media__rtp_parse(&out[n], p->pkts[0][i].data, p->pkts[0][i].len) == 0)
			n++;
	return n;
}

/* ---- a peer that sends RTP on a schedule ---- */

struct feeder {
	uv_timer_t t;
	struct peer *p;
	uint16_t dst;
	uint8_t pt;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	uint32_t ts_step;
	unsigned count;	      /* packets to send */
	unsigned k;	      /* next packet */
	bool jitter;	      /* odd packets 10 ms late */
	const unsigned *lose; /* indexes not sent, ended by UINT32_MAX... or NULL */
	size_t nlose;
	uint8_t payload[240];
	size_t plen;
	bool vary; /* payload bytes depend on k */
	uint64_t t0;
	unsigned sent;
};

static void feeder_cb(uv_timer_t *t)
{
	struct feeder *fd = t->data;
	uint64_t now = uv_hrtime() / 1000;
	while (fd->k < fd->count) {
		/* one packet per frame duration at 8 kHz; odd ones 10 ms late with jitter */
		uint64_t at = fd->t0 + (uint64_t)fd->k * fd->ts_step * 125 +
			      (fd->jitter && (fd->k & 1) ? 10000 : 0);
		if (now < at)
			return;
		bool lost = false;
		for (size_t i = 0; i < fd->nlose; i++)
			lost |= fd->lose[i] == fd->k;
		if (fd->vary)
			for (size_t i = 0; i < fd->plen; i++)
				fd->payload[i] = (uint8_t)((fd->k * 37 + i) % 120 + 1);
		if (!lost) {
			uint8_t pkt[300];
			size_t len = rtp_make(pkt, fd->k == 0, fd->pt, fd->seq, fd->ts, fd->ssrc,
					      fd->payload, fd->plen);
			peer_send_to(fd->p, 0, fd->dst, pkt, len);
			fd->sent++;
		}
		fd->seq++;
		fd->ts += fd->ts_step;
		fd->k++;
	}
	uv_timer_stop(t);
}

static void feeder_start(struct feeder *fd, uv_loop_t *loop, struct peer *p, uint16_t dst,
			 unsigned count)
{
	fd->p = p;
	fd->dst = dst;
	fd->count = count;
	if (!fd->ts_step)
		fd->ts_step = 160;
	if (!fd->plen) {
		fd->plen = 160;
		memset(fd->payload, 0x55, fd->plen);
	}
	if (!fd->ssrc)
		fd->ssrc = 0xfeed0001;
	fd->t0 = uv_hrtime() / 1000;
	uv_timer_init(loop, &fd->t);
	fd->t.data = fd;
	uv_timer_start(&fd->t, feeder_cb, 0, 1);
}

static void feeder_close(struct feeder *fd)
{
	uv_close((uv_handle_t *)&fd->t, NULL);
}

/* ---- pacing, sequence, timestamp, marker ---------------------------------------- */

static void test_pacing_pcmu(void **state)
{
	struct fx *f = *state;
	struct counters c = {0};
	struct media_stream_cbs cbs = cbs_of(&c);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, &cbs), 0);
	assert_int_equal(media_stream_port(s) % 2, 0);
	run_for(&f->loop, 100);
	assert_int_equal(f->peer.n[0], 0); /* nothing before start */

	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);
	run_for(&f->loop, 2300);

	static struct media__rtp r[200];
	size_t n = rtp_list(&f->peer, r, 200);
	assert_true(n >= 100);
	/* 50 packets a second ±1%: 100 ±1 in the first 2 s after the first packet */
	uint64_t t0 = f->peer.pkts[0][0].at_us;
	size_t in2s = 0;
	for (size_t i = 0; i < f->peer.n[0]; i++)
		in2s += f->peer.pkts[0][i].at_us < t0 + 2000000;
	assert_in_range(in2s, 99, 101);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].pt, 0);
		assert_int_equal(r[i].ssrc, r[0].ssrc);
		assert_int_equal(r[i].seq, (uint16_t)(r[0].seq + i));
		assert_int_equal(r[i].ts, r[0].ts + 160 * (uint32_t)i);
		assert_int_equal(r[i].marker, i == 0); /* first packet only */
		assert_int_equal(r[i].payload_len, 160);
		assert_int_equal(r[i].payload[0], 0xff); /* µ-law silence */
		assert_true(net_addr_port(&f->peer.pkts[0][i].from) == media_stream_port(s));
	}
	/* gaps stay near 20 ms: the median within 1 ms */
	uint64_t gaps[200];
	for (size_t i = 1; i < n; i++)
		gaps[i - 1] = f->peer.pkts[0][i].at_us - f->peer.pkts[0][i - 1].at_us;
	for (size_t i = 0; i + 1 < n - 1; i++)
		for (size_t j = i + 1; j < n - 1; j++)
			if (gaps[j] < gaps[i]) {
				uint64_t x = gaps[i];
				gaps[i] = gaps[j];
				gaps[j] = x;
			}
	assert_in_range(gaps[(n - 1) / 2], 19000, 21000);

	struct media_stats st;
	media_stream_stats(s, &st);
	assert_true(st.packets_out >= n);
	assert_int_equal(st.bytes_out, st.packets_out * 160);
	media_stream_destroy(s);
	run_out(&f->loop);
	/* RTCP BYE on close */
	bool bye = false;
	for (size_t i = 0; i < f->peer.n[1]; i++) {
		struct media__rtcp_info info;
		if (media__rtcp_parse(&info, f->peer.pkts[1][i].data, f->peer.pkts[1][i].len, 0) ==
		    0)
			bye |= info.bye && info.ssrc == r[0].ssrc;
	}
	assert_true(bye);
}

struct play_at {
	uv_timer_t t;
	struct media_stream *s;
	struct media_source *src;
};

static void play_at_cb(uv_timer_t *t)
{
	struct play_at *pa = t->data;
	media_stream_play(pa->s, pa->src);
}

static void test_play_marker_done(void **state)
{
	struct fx *f = *state;
	struct counters c = {0};
	struct media_stream_cbs cbs = cbs_of(&c);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, &cbs), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);

	/* a 300 ms source 500 ms in */
	int destroyed = 0;
	struct play_at pa = {.s = s, .src = sine_create(440, 2400, &destroyed)};
	uv_timer_init(&f->loop, &pa.t);
	pa.t.data = &pa;
	uv_timer_start(&pa.t, play_at_cb, 500, 0);
	run_for(&f->loop, 1200);
	uv_close((uv_handle_t *)&pa.t, NULL);
	run_out(&f->loop);

	assert_int_equal(c.play_done, 1);
	assert_int_equal(c.last_status, 0);
	assert_int_equal(destroyed, 1);

	static struct media__rtp r[100];
	size_t n = rtp_list(&f->peer, r, 100);
	size_t markers = 0, first_audio = 0, audio = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].seq, (uint16_t)(r[0].seq + i));
		assert_int_equal(r[i].ts, r[0].ts + 160 * (uint32_t)i);
		if (r[i].marker) {
			markers++;
			first_audio = i;
		}
	}
	assert_int_equal(markers, 2); /* the first packet and the source's first */
	/* the source's 2400 samples arrive in 15 packets, exactly as G.711 codes them */
	for (size_t i = first_audio; i < n && i < first_audio + 15; i++) {
		for (size_t j = 0; j < 160; j++) {
			int16_t want = sine_at(440, (i - first_audio) * 160 + j, 8000);
			assert_int_equal(r[i].payload[j], media__ulaw_from_linear(want));
		}
		audio++;
	}
	assert_int_equal(audio, 15);
	assert_int_equal(r[first_audio + 15].payload[0], 0xff); /* silence again */

	/* replacing and stopping cancel, synchronously */
	int d2 = 0, d3 = 0;
	media_stream_play(s, sine_create(300, 0, &d2));
	media_stream_play(s, sine_create(600, 0, &d3));
	assert_int_equal(c.play_done, 2);
	assert_int_equal(c.last_status, -ECANCELED);
	assert_int_equal(d2, 1);
	media_stream_stop(s);
	assert_int_equal(c.play_done, 3);
	assert_int_equal(d3, 1);
	media_stream_stop(s); /* nothing playing: no callback */
	assert_int_equal(c.play_done, 3);
	/* destroying with a source playing destroys it without a callback */
	int d4 = 0;
	media_stream_play(s, sine_create(600, 0, &d4));
	media_stream_destroy(s);
	assert_int_equal(d4, 1);
	assert_int_equal(c.play_done, 3);
}

struct codec_case {
	enum media_codec_id codec;
	uint8_t pt;
	uint32_t ptime;
	uint32_t ts_step;
	size_t payload; /* 0: variable */
	uint32_t rate;	/* samples/s the source is asked for */
};

static void check_codec_timing(struct fx *f, const struct codec_case *cc)
{
	peer_reset(&f->peer);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	struct media_stream_params p = params_of(f->peer.port, cc->codec, cc->pt);
	p.ptime_ms = cc->ptime;
	assert_int_equal(media_stream_start(s, &p), 0);
	struct sine_src *src = (struct sine_src *)sine_create(440, 0, NULL);
	media_stream_play(s, &src->base);
	run_for(&f->loop, 1000 + 2 * cc->ptime);
	assert_int_equal(src->rate_seen, cc->rate);
	media_stream_destroy(s);
	run_out(&f->loop);

	static struct media__rtp r[200];
	size_t n = rtp_list(&f->peer, r, 200);
	uint32_t expect = (1000 + 2 * cc->ptime) / cc->ptime;
	assert_in_range(n, expect - 2, expect + 1);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].pt, cc->pt);
		assert_int_equal(r[i].seq, (uint16_t)(r[0].seq + i));
		assert_int_equal(r[i].ts, r[0].ts + cc->ts_step * (uint32_t)i);
		if (cc->payload)
			assert_int_equal(r[i].payload_len, cc->payload);
	}
	/* gaps: the median is the ptime */
	size_t near = 0;
	for (size_t i = 1; i < f->peer.n[0]; i++) {
		uint64_t gap = f->peer.pkts[0][i].at_us - f->peer.pkts[0][i - 1].at_us;
		near += gap > cc->ptime * 1000 - 3000 && gap < cc->ptime * 1000 + 3000;
	}
	assert_true(near * 10 >= (f->peer.n[0] - 1) * 8);
}

static void test_codec_timing(void **state)
{
	struct fx *f = *state;
	static const struct codec_case cases[] = {
	    {MEDIA_CODEC_PCMA, 8, 20, 160, 160, 8000},
	    {MEDIA_CODEC_G722, 9, 20, 160, 160, 16000}, /* 8000 Hz clock for 16 kHz audio */
	    {MEDIA_CODEC_OPUS, 111, 20, 960, 0, 48000},
	    {MEDIA_CODEC_PCMU, 0, 30, 240, 240, 8000},
	    {MEDIA_CODEC_PCMU, 0, 10, 80, 80, 8000},
	    {MEDIA_CODEC_PCMU, 0, 60, 480, 480, 8000},
	    {MEDIA_CODEC_OPUS, 111, 40, 1920, 0, 48000},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_codec_timing(f, &cases[i]);
}

/* ---- re-start, direction, hold ------------------------------------------------- */

struct restart {
	uv_timer_t t;
	struct media_stream *s;
	struct media_stream_params p[4];
	unsigned step;
};

static void restart_cb(uv_timer_t *t)
{
	struct restart *rs = t->data;
	assert_int_equal(media_stream_start(rs->s, &rs->p[rs->step]), 0);
	rs->step++;
}

static void test_restart_direction_hold(void **state)
{
	struct fx *f = *state;
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	struct restart rs = {.s = s};
	rs.p[0] = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	rs.p[1] = params_of(f->peer.port, MEDIA_CODEC_PCMA, 8); /* re-INVITE: new codec */
	rs.p[2] = rs.p[1];
	rs.p[2].dir = MEDIA_RECVONLY; /* we are held */
	rs.p[3] = rs.p[1];	      /* resumed */
	uv_timer_init(&f->loop, &rs.t);
	rs.t.data = &rs;
	uv_timer_start(&rs.t, restart_cb, 0, 300);
	run_for(&f->loop, 1150);
	uv_close((uv_handle_t *)&rs.t, NULL);
	run_out(&f->loop);
	assert_int_equal(rs.step, 4);

	static struct media__rtp r[100];
	size_t n = rtp_list(&f->peer, r, 100);
	size_t pcmu = 0, pcma_markers = 0, gap_at = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].ssrc, r[0].ssrc); /* never reset */
		assert_int_equal(r[i].seq, (uint16_t)(r[0].seq + i));
		if (r[i].pt == 0)
			pcmu++;
		else
			pcma_markers += r[i].marker;
		if (i && f->peer.pkts[0][i].at_us - f->peer.pkts[0][i - 1].at_us > 200000) {
			gap_at = i;
			/* the timestamp kept following real time across the pause */
			uint32_t dts = r[i].ts - r[i - 1].ts;
			uint64_t dt = f->peer.pkts[0][i].at_us - f->peer.pkts[0][i - 1].at_us;
			assert_in_range(dts, dt * 8 / 1000 - 240, dt * 8 / 1000 + 240);
			assert_true(r[i].marker);
		}
	}
	assert_in_range(pcmu, 14, 16);
	assert_int_equal(pcma_markers, 2); /* the codec change and the resumption */
	assert_true(gap_at > 0);
	/* in the 300 ms held, nothing */
	assert_in_range(n, 40, 45);

	/* hold the RFC 2543 way: c=0.0.0.0 sends nothing, not even RTCP */
	peer_reset(&f->peer);
	struct media_stream_params hold = rs.p[1];
	hold.remote = loop_addr(0);
	assert_int_equal(net_addr_parse(&hold.remote, STR("0.0.0.0"), f->peer.port), 0);
	hold.rtcp_interval_ms = 100;
	assert_int_equal(media_stream_start(s, &hold), 0);
	run_for(&f->loop, 400);
	assert_int_equal(f->peer.n[0], 0);
	assert_int_equal(f->peer.n[1], 0);
	/* inactive and recvonly send RTCP but no RTP */
	struct media_stream_params inactive = rs.p[1];
	inactive.dir = MEDIA_INACTIVE;
	inactive.rtcp_interval_ms = 100;
	assert_int_equal(media_stream_start(s, &inactive), 0);
	run_for(&f->loop, 400);
	assert_int_equal(f->peer.n[0], 0);
	assert_true(f->peer.n[1] >= 1);

	/* bad parameters change nothing */
	struct media_stream_params bad = rs.p[1];
	bad.codec = (enum media_codec_id)42;
	assert_int_equal(media_stream_start(s, &bad), -EINVAL);
	bad = rs.p[1];
	assert_int_equal(net_addr_parse(&bad.remote, STR("::1"), 4000), 0);
	assert_int_equal(media_stream_start(s, &bad), -EAFNOSUPPORT);
	media_stream_destroy(s);
}

/* ---- symmetric RTP ------------------------------------------------------------- */

static size_t packets_after(struct peer *p, uint64_t t)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n[0]; i++)
		n += p->pkts[0][i].at_us > t;
	return n;
}

static void test_latching(void **state)
{
	struct fx *f = *state;
	struct peer b, cpeer;
	peer_open(&f->loop, &b);
	peer_open(&f->loop, &cpeer);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);
	run_for(&f->loop, 200);
	assert_true(f->peer.n[0] >= 8); /* to the signalled address first */

	/* B (behind a NAT, say) sends: the stream latches onto B at once */
	struct feeder fb = {.ssrc = 0xb};
	feeder_start(&fb, &f->loop, &b, media_stream_port(s), 15);
	run_for(&f->loop, 400);
	uint64_t t_latched = uv_hrtime() / 1000;
	assert_true(b.n[0] >= 8);
	run_for(&f->loop, 100);
	assert_int_equal(packets_after(&f->peer, t_latched), 0);
	assert_true(packets_after(&b, t_latched) >= 3);

	/* C interleaves a few packets with B's: not sustained, no move */
	struct feeder fb2 = {.ssrc = 0xb, .seq = 15, .ts = 15 * 160};
	struct feeder fc = {.ssrc = 0xc};
	feeder_start(&fb2, &f->loop, &b, media_stream_port(s), 20);
	feeder_start(&fc, &f->loop, &cpeer, media_stream_port(s), 8);
	run_for(&f->loop, 500);
	assert_int_equal(cpeer.n[0], 0);

	/* B goes quiet and C keeps sending: after MEDIA__RELATCH_PACKETS the stream moves */
	struct feeder fc2 = {.ssrc = 0xc, .seq = 8, .ts = 8 * 160};
	feeder_start(&fc2, &f->loop, &cpeer, media_stream_port(s), 25);
	run_for(&f->loop, 600);
	uint64_t t_moved = uv_hrtime() / 1000;
	assert_true(cpeer.n[0] >= 8);
	run_for(&f->loop, 100);
	assert_int_equal(packets_after(&b, t_moved), 0);

	struct media_stats st;
	media_stream_stats(s, &st);
	/* C's packets before the move were dropped */
	assert_true(st.packets_dropped >= 8 + MEDIA__RELATCH_PACKETS - 1);
	media_stream_destroy(s);
	feeder_close(&fb);
	feeder_close(&fb2);
	feeder_close(&fc);
	feeder_close(&fc2);
	peer_close(&b);
	peer_close(&cpeer);
	run_out(&f->loop);
	peer_fini(&b);
	peer_fini(&cpeer);
}

/* ---- RTCP ------------------------------------------------------------------------ */

struct rtcp_reply {
	uv_timer_t t;
	struct fx *f;
	uint16_t dst;  /* the stream's RTCP port */
	uint32_t ssrc; /* the stream's SSRC */
	bool sent;
};

/* The peer answers the stream's latest SR: an SR of its own and a block about
 * the stream (lost 7, jitter 160 units) whose LSR/DLSR give a round trip. */
static void rtcp_reply_cb(uv_timer_t *t)
{
	struct rtcp_reply *rr = t->data;
	struct peer *p = &rr->f->peer;
	for (size_t i = p->n[1]; i-- > 0;) {
		struct media__rtcp_info info;
		if (media__rtcp_parse(&info, p->pkts[1][i].data, p->pkts[1][i].len, 0) != 0 ||
		    !info.has_sr)
			continue;
		/* DLSR 5 ms short of the truth: the stream should see a 5 ms round trip */
		uint64_t held = uv_hrtime() / 1000 - p->pkts[1][i].at_us - 5000;
		struct media__rtcp_report r = {
		    .ssrc = 0xfeed0001,
		    .sr = true,
		    .sender = {.ntp = media__ntp_from_wall_us(clock_wall_us()), .packets = 1},
		    .has_block = true,
		    .block = {.ssrc = rr->ssrc,
			      .lost = 7,
			      .jitter = 160,
			      .lsr = (uint32_t)(info.sr.ntp >> 16),
			      .dlsr = (uint32_t)((held << 16) / 1000000)},
		    .cname = STR("peer"),
		};
		uint8_t buf[MEDIA__RTCP_MAX];
		size_t len = media__rtcp_print(buf, sizeof(buf), &r);
		peer_send_to(p, 1, rr->dst, buf, len);
		rr->sent = true;
		return;
	}
}

static void test_rtcp_reports(void **state)
{
	struct fx *f = *state;
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	p.rtcp_interval_ms = 400;
	assert_int_equal(media_stream_start(s, &p), 0);

	/* 100 packets across the sequence wrap, 5 lost, odd ones 10 ms late */
	static const unsigned lose[] = {10, 20, 30, 40, 50};
	struct feeder fd = {.seq = 65500, .jitter = true, .lose = lose, .nlose = 5};
	feeder_start(&fd, &f->loop, &f->peer, media_stream_port(s), 100);
	struct rtcp_reply rr = {.f = f, .dst = (uint16_t)(media_stream_port(s) + 1)};
	uv_timer_init(&f->loop, &rr.t);
	rr.t.data = &rr;
	run_for(&f->loop, 300);
	static struct media__rtp r[300];
	assert_true(rtp_list(&f->peer, r, 1) == 1);
	rr.ssrc = r[0].ssrc;
	uv_timer_start(&rr.t, rtcp_reply_cb, 1700, 0);
	run_for(&f->loop, 2500);
	assert_true(rr.sent);
	assert_int_equal(fd.sent, 95);

	struct media_stats st;
	media_stream_stats(s, &st);
	assert_int_equal(st.packets_in, 95);
	assert_int_equal(st.lost, 5);
	assert_true(st.jitter_ms > 6.0 && st.jitter_ms < 15.0);
	assert_true(st.rtcp_out >= 4);
	assert_int_equal(st.rtcp_in, 1);
	assert_int_equal(st.remote_lost, 7);
	assert_true(st.remote_jitter_ms > 19.9 && st.remote_jitter_ms < 20.1);
	assert_true(st.rtt_ms > 3.0 && st.rtt_ms < 50.0);

	/* the stream's reports, as the peer saw them */
	size_t reports = 0, with_lsr = 0;
	struct media__rtcp_info last = {0};
	for (size_t i = 0; i < f->peer.n[1]; i++) {
		struct media__rtcp_info info;
		assert_int_equal(media__rtcp_parse(&info, f->peer.pkts[1][i].data,
						   f->peer.pkts[1][i].len, 0xfeed0001),
				 0);
		assert_int_equal(info.ssrc, r[0].ssrc);
		assert_true(info.has_sr); /* it sends, so SRs */
		assert_true(info.sr.packets > 0);
		reports++;
		if (info.has_block) {
			last = info;
			with_lsr += info.block.lsr != 0;
		}
	}
	assert_true(reports >= 4);
	assert_true(last.has_block);
	assert_int_equal(last.block.lost, 5);
	assert_int_equal(last.block.ext_max_seq, 65500u + 99u); /* one wrap: 65536 + 63 */
	double jitter_ms = last.block.jitter / 8.0;
	assert_true(jitter_ms > 6.0 && jitter_ms < 15.0);
	assert_true(with_lsr >= 1); /* the peer's SR is acknowledged */
	/* SR sender packet count agrees with what the peer counted so far */
	size_t n = rtp_list(&f->peer, r, 300);
	assert_true(last.sr.packets <= n);
	assert_true(last.sr.packets + 30 >= n);

	media_stream_destroy(s);
	feeder_close(&fd);
	uv_close((uv_handle_t *)&rr.t, NULL);
	run_out(&f->loop);
}

/* ---- timeout ------------------------------------------------------------------------- */

static void test_timeout(void **state)
{
	struct fx *f = *state;
	struct counters c[5] = {{0}};
	struct media_stream *s[5];
	struct media_stream_params p[5];
	for (int i = 0; i < 5; i++) {
		struct media_stream_cbs cbs = cbs_of(&c[i]);
		assert_int_equal(media_stream_create(&s[i], f->eng, &f->local, &cbs), 0);
		p[i] = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
		p[i].timeout_ms = 300;
	}
	/* 0: media for 200 ms then none; 1: none at all; 2: held (0.0.0.0);
	 * 3: inactive; 4: sendonly, so nothing is expected */
	assert_int_equal(net_addr_parse(&p[2].remote, STR("0.0.0.0"), 4000), 0);
	p[3].dir = MEDIA_INACTIVE;
	p[4].dir = MEDIA_SENDONLY;
	for (int i = 0; i < 5; i++)
		assert_int_equal(media_stream_start(s[i], &p[i]), 0);
	struct feeder fd = {0};
	feeder_start(&fd, &f->loop, &f->peer, media_stream_port(s[0]), 10);
	run_for(&f->loop, 400);
	assert_int_equal(c[0].timeouts, 0); /* 200 ms after the last packet: not yet */
	assert_int_equal(c[1].timeouts, 1);
	run_for(&f->loop, 1100);
	int want[5] = {1, 1, 0, 0, 0};
	for (int i = 0; i < 5; i++)
		assert_int_equal(c[i].timeouts, want[i]);
	/* media again re-arms it, a re-start restarts the wait */
	struct feeder fd2 = {.seq = 10, .ts = 1600};
	feeder_start(&fd2, &f->loop, &f->peer, media_stream_port(s[0]), 5);
	assert_int_equal(media_stream_start(s[1], &p[1]), 0);
	run_for(&f->loop, 250);
	assert_int_equal(c[1].timeouts, 1);
	run_for(&f->loop, 500);
	assert_int_equal(c[0].timeouts, 2);
	assert_int_equal(c[1].timeouts, 2);
	for (int i = 0; i < 5; i++)
		media_stream_destroy(s[i]);
	feeder_close(&fd);
	feeder_close(&fd2);
	run_out(&f->loop);
}

/* ---- RFC 4733 -------------------------------------------------------------------- */

static void send_event(struct peer *p, uint16_t dst, uint16_t *seq, uint32_t ts, uint8_t event,
		       bool end, uint16_t duration)
{
	uint8_t ev[4] = {event, (uint8_t)((end ? 0x80 : 0) | 10), (uint8_t)(duration >> 8),
			 (uint8_t)duration};
	uint8_t pkt[64];
	size_t len = rtp_make(pkt, duration == 160, 101, (*seq)++, ts, 0xfeed0001, ev, 4);
	peer_send_to(p, 0, dst, pkt, len);
}

static void test_dtmf(void **state)
{
	struct fx *f = *state;
	struct counters c = {0};
	struct media_stream_cbs cbs = cbs_of(&c);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, &cbs), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);
	uint16_t port = media_stream_port(s), seq = 1;

	/* '5': three updates, then the end three times (RFC 4733 §2.5.1.4) */
	for (uint16_t d = 160; d <= 480; d += 160)
		send_event(&f->peer, port, &seq, 8000, 5, false, d);
	for (int i = 0; i < 3; i++)
		send_event(&f->peer, port, &seq, 8000, 5, true, 800);
	run_for(&f->loop, 50);
	assert_int_equal(c.dtmf, 1);
	/* '#' whose end packets are all lost, then '1': '#' ends when '1' starts */
	send_event(&f->peer, port, &seq, 16000, 11, false, 160);
	send_event(&f->peer, port, &seq, 16000, 11, false, 320);
	send_event(&f->peer, port, &seq, 24000, 1, false, 160);
	for (int i = 0; i < 3; i++)
		send_event(&f->peer, port, &seq, 24000, 1, true, 400);
	/* a late retransmission of '5''s end, and flash (16), which is no digit */
	send_event(&f->peer, port, &seq, 8000, 5, true, 800);
	send_event(&f->peer, port, &seq, 32000, 16, true, 800);
	/* 'A' without any end: reported once it has been silent long enough */
	send_event(&f->peer, port, &seq, 40000, 12, false, 160);
	send_event(&f->peer, port, &seq, 40000, 12, false, 240);
	run_for(&f->loop, 100);
	assert_int_equal(c.dtmf, 3);
	run_for(&f->loop, 1200);
	assert_int_equal(c.dtmf, 4);
	assert_memory_equal(c.digits, "5#1A", 4);
	assert_int_equal(c.durations[0], 100);
	assert_int_equal(c.durations[1], 40);
	assert_int_equal(c.durations[2], 50);
	assert_int_equal(c.durations[3], 30);

	/* events are not taken from a peer that is not to be heard (sendonly) */
	p.dir = MEDIA_SENDONLY;
	assert_int_equal(media_stream_start(s, &p), 0);
	send_event(&f->peer, port, &seq, 48000, 3, true, 800);
	run_for(&f->loop, 50);
	assert_int_equal(c.dtmf, 4);
	media_stream_destroy(s);
}

/* ---- malformed input ---------------------------------------------------------------- */

static void test_malformed(void **state)
{
	struct fx *f = *state;
	struct peer bad;
	peer_open(&f->loop, &bad);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);
	uint16_t port = media_stream_port(s);
	run_for(&f->loop, 150);

	uint8_t pkt[200];
	uint8_t payload[160];
	memset(payload, 0x55, sizeof(payload));
	size_t len = rtp_make(pkt, false, 0, 1, 160, 0xbad, payload, 160);
	pkt[0] = 0x40; /* version 1 */
	peer_send_to(&bad, 0, port, pkt, len);
	peer_send_to(&bad, 0, port, pkt, 5); /* short */
	len = rtp_make(pkt, false, 0, 1, 160, 0xbad, payload, 160);
	pkt[0] |= 0x2f;	    /* 15 CSRCs, which fit, and padding ... */
	pkt[len - 1] = 200; /* ... of more octets than remain after them */
	peer_send_to(&bad, 0, port, pkt, len);
	len = rtp_make(pkt, false, 99, 1, 160, 0xbad, payload, 160); /* unknown PT */
	peer_send_to(&bad, 0, port, pkt, len);
	len = rtp_make(pkt, false, 0, 1, 160, 0xbad, payload, 0); /* empty G.711 payload */
	peer_send_to(&bad, 0, port, pkt, len);
	static const uint8_t rtcp_bad[] = {0x81, 201, 0, 1, 0, 0, 0, 1};
	peer_send_to(&bad, 1, (uint16_t)(port + 1), rtcp_bad, sizeof(rtcp_bad));
	static const uint8_t rtcp_v1[] = {0x40, 201, 0, 1, 0, 0, 0, 1};
	peer_send_to(&bad, 1, (uint16_t)(port + 1), rtcp_v1, sizeof(rtcp_v1));
	run_for(&f->loop, 200);

	struct media_stats st;
	media_stream_stats(s, &st);
	assert_int_equal(st.packets_dropped, 6);
	assert_int_equal(st.rtcp_in, 0);
	/* the empty payload (a keep-alive) was valid: it counts, and it latched */
	assert_int_equal(st.packets_in, 1);
	assert_true(f->peer.n[0] >= 5);
	assert_true(bad.n[0] >= 5);
	media_stream_destroy(s);
	peer_close(&bad);
	run_out(&f->loop);
	peer_fini(&bad);
}

/* ---- echo ------------------------------------------------------------------------- */

static void test_echo(void **state)
{
	struct fx *f = *state;
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);
	media_stream_echo(s, true);

	/* 20 ms frames come back untouched */
	struct feeder fd = {.vary = true};
	feeder_start(&fd, &f->loop, &f->peer, media_stream_port(s), 40);
	run_for(&f->loop, 1000);
	static struct media__rtp r[200];
	size_t n = rtp_list(&f->peer, r, 200);
	unsigned next = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].payload[0] == 0xff)
			continue;
		unsigned k = 0;
		while (k < 40 && r[i].payload[0] != (uint8_t)((k * 37) % 120 + 1))
			k++;
		assert_true(k < 40);
		assert_true(k >= next); /* in order */
		for (size_t j = 0; j < 160; j++)
			assert_int_equal(r[i].payload[j], (uint8_t)((k * 37 + j) % 120 + 1));
		next = k + 1;
	}
	assert_true(next >= 38);

	/* 30 ms frames are decoded and re-cut into 20 ms frames: same audio */
	peer_reset(&f->peer);
	struct feeder fd2 = {.vary = true, .plen = 240, .ts_step = 240, .seq = 40, .ts = 6400};
	feeder_start(&fd2, &f->loop, &f->peer, media_stream_port(s), 30);
	run_for(&f->loop, 1100);
	n = rtp_list(&f->peer, r, 200);
	static uint8_t got[8000];
	size_t ngot = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].payload_len, 160);
		if (r[i].payload[0] == 0xff)
			continue;
		memcpy(got + ngot, r[i].payload, 160);
		ngot += 160;
	}
	if (ngot < 28 * 240 - 320)
		fail_msg("echoed %zu bytes of %u, %zu packets", ngot, 30 * 240, n);
	for (size_t i = 0; i < ngot; i++)
		assert_int_equal(got[i], (uint8_t)(((i / 240) * 37 + i % 240) % 120 + 1));

	/* echo off: silence again */
	media_stream_echo(s, false);
	peer_reset(&f->peer);
	struct feeder fd3 = {.vary = true, .seq = 70, .ts = 13600};
	feeder_start(&fd3, &f->loop, &f->peer, media_stream_port(s), 10);
	run_for(&f->loop, 300);
	n = rtp_list(&f->peer, r, 200);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r[i].payload[0], 0xff);
	media_stream_destroy(s);
	feeder_close(&fd);
	feeder_close(&fd2);
	feeder_close(&fd3);
	run_out(&f->loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pacing_pcmu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_play_marker_done, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_codec_timing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_direction_hold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_latching, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rtcp_reports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
