/*
 * Media streams over real loopback sockets on a libuv loop, observed from a
 * peer socket: pacing (50 packets/s at 20 ms, other ptimes, late ticks),
 * sequence, timestamp and marker rules (RFC 3550 §5.1, RFC 3551 §4.1),
 * symmetric latching, direction and hold (RFC 3264), re-start keeping SSRC
 * and sequence, IPv6, and echo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_media_rtp_util.h"

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

/* ---- late ticks ------------------------------------------------------------------ */

struct blocker {
	uv_timer_t t;
	unsigned ms[2];
	unsigned step;
};

static void block_cb(uv_timer_t *t)
{
	struct blocker *b = t->data;
	usleep(b->ms[b->step++] * 1000); /* the loop stalls, as under a burst of work */
	if (b->step == 2)
		uv_timer_stop(t);
}

static void test_late_tick(void **state)
{
	struct fx *f = *state;
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);
	/* a 70 ms stall is caught up; a 400 ms one is not: the oldest audio is dropped */
	struct blocker b = {.ms = {70, 400}};
	uv_timer_init(&f->loop, &b.t);
	b.t.data = &b;
	uv_timer_start(&b.t, block_cb, 300, 500);
	run_for(&f->loop, 1500);
	uv_close((uv_handle_t *)&b.t, NULL);
	run_out(&f->loop);
	media_stream_destroy(s);

	static struct media__rtp r[200];
	size_t n = rtp_list(&f->peer, r, 200);
	size_t burst = 0, jumps = 0, markers = 0;
	uint32_t jump = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].seq, (uint16_t)(r[0].seq + i)); /* never a gap */
		markers += r[i].marker;
		if (i == 0)
			continue;
		uint32_t dts = r[i].ts - r[i - 1].ts;
		if (dts != 160) {
			jumps++;
			jump = dts;
			assert_true(r[i].marker); /* a resync starts a talkspurt */
		}
		if (f->peer.pkts[0][i].at_us - f->peer.pkts[0][i - 1].at_us < 3000)
			burst++;
	}
	assert_int_equal(jumps, 1);
	/* 400 ms late: 100 ms sent late, the 300 ms before skipped */
	assert_in_range(jump, 160 * 12, 160 * 18);
	assert_int_equal(markers, 2);
	/* the catch-ups leave as bursts: 3 packets after 70 ms, 4 after 400 ms */
	assert_in_range(burst, 5, 9);
	/* and the pace is back: 1.5 s minus the 300 ms skipped */
	assert_in_range(n, 55, 62);
}

/* ---- IPv6 ------------------------------------------------------------------------- */

static void count_audio(void *arg, const int16_t *pcm, size_t samples, uint32_t rate)
{
	*(size_t *)arg += samples;
}

static void test_ipv6(void **state)
{
	struct fx *f = *state;
	struct net_addr ip6;
	assert_int_equal(net_addr_parse(&ip6, STR("::1"), 0), 0);
	size_t got = 0;
	struct media_stream_cbs cbs = {.audio_cb = count_audio, .arg = &got};
	struct media_stream *a, *b;
	int r = media_stream_create(&a, f->eng, &ip6, NULL);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)
		skip(); /* no IPv6 loopback here */
	assert_int_equal(r, 0);
	assert_int_equal(media_stream_create(&b, f->eng, &ip6, &cbs), 0);
	struct media_stream_params p = params_of(0, MEDIA_CODEC_PCMA, 8);
	assert_int_equal(net_addr_parse(&p.remote, STR("::1"), media_stream_port(b)), 0);
	assert_int_equal(media_stream_start(a, &p), 0);
	assert_int_equal(net_addr_parse(&p.remote, STR("::1"), media_stream_port(a)), 0);
	assert_int_equal(media_stream_start(b, &p), 0);
	media_stream_play(a, sine_create(500, 0, NULL));
	run_for(&f->loop, 300);
	struct media_stats st;
	media_stream_stats(b, &st);
	assert_in_range(st.packets_in, 12, 16);
	assert_int_equal(got, st.packets_in * 160);
	media_stream_stats(a, &st);
	assert_in_range(st.packets_in, 12, 16);
	media_stream_destroy(a);
	media_stream_destroy(b);
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
	    cmocka_unit_test_setup_teardown(test_late_tick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
