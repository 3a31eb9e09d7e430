/*
 * What media streams make of what arrives, over loopback sockets on a libuv
 * loop: RTCP reports with injected loss and jitter (RFC 3550 §6.4, A.3, A.8)
 * both ways, the media timeout, RFC 4733 events counted once, malformed
 * packets dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_media_rtp_util.h"

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

static void test_timeout_comfort_noise(void **state)
{
	struct fx *f = *state;
	struct counters c = {0};
	struct media_stream_cbs cbs = cbs_of(&c);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, &cbs), 0);
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	p.timeout_ms = 300;
	assert_int_equal(media_stream_start(s, &p), 0);
	/* a peer with voice activity detection: RFC 3389 comfort noise every 100 ms */
	struct feeder cn = {.pt = MEDIA__PT_CN, .plen = 1, .ts_step = 800};
	cn.payload[0] = 40; /* -40 dBov */
	feeder_start(&cn, &f->loop, &f->peer, media_stream_port(s), 10);
	run_for(&f->loop, 1000);
	assert_int_equal(c.timeouts, 0);
	struct media_stats st;
	media_stream_stats(s, &st);
	assert_int_equal(st.packets_in, 10);
	assert_int_equal(st.packets_dropped, 0);
	run_for(&f->loop, 500);
	assert_int_equal(c.timeouts, 1);
	media_stream_destroy(s);
	feeder_close(&cn);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rtcp_reports, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_comfort_noise, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
