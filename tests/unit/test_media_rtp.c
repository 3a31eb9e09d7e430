/*
 * RTP, RFC 4733 and RTCP packet vectors (RFC 3550 §5.1, §6.4, §6.5, §6.6;
 * RFC 4733 §2.3), reception statistics (RFC 3550 A.1, A.3, A.8) and the
 * engine's port allocation (even RTP, odd RTCP, busy ports skipped, freed
 * pairs reused last, exhaustion).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_media_rtp_util.h"

/* ---- RTP ------------------------------------------------------------------- */

static void test_rtp_parse_basic(void **state)
{
	/* V=2, M=1 PT=0, seq 0x1234, ts 0xdeadbeef, ssrc 0x01020304, 3 payload bytes */
	const uint8_t p[] = {0x80, 0x80, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef,
			     0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb, 0xcc};
	struct media__rtp r;
	assert_int_equal(media__rtp_parse(&r, p, sizeof(p)), 0);
	assert_true(r.marker);
	assert_int_equal(r.pt, 0);
	assert_int_equal(r.seq, 0x1234);
	assert_int_equal(r.ts, 0xdeadbeef);
	assert_int_equal(r.ssrc, 0x01020304);
	assert_int_equal(r.payload_len, 3);
	assert_int_equal(r.payload[0], 0xaa);

	uint8_t hdr[12];
	media__rtp_print(hdr, true, 0, 0x1234, 0xdeadbeef, 0x01020304);
	assert_memory_equal(hdr, p, 12);
}

static void test_rtp_parse_csrc_ext_padding(void **state)
{
	/* P=1 X=1 CC=2, PT 8; 2 CSRCs, extension of 1 word, 2 payload bytes, 3 padding */
	const uint8_t p[] = {0xb2,
			     0x08,
			     0,
			     1,
			     0,
			     0,
			     0,
			     2,
			     0,
			     0,
			     0,
			     3,
			     /* CSRC */ 0,
			     0,
			     0,
			     9,
			     0,
			     0,
			     0,
			     10,
			     /* ext */ 0xbe,
			     0xde,
			     0x00,
			     0x01,
			     0x11,
			     0x22,
			     0x33,
			     0x44,
			     /* payload */ 0x55,
			     0x66,
			     /* padding */ 0,
			     0,
			     3};
	struct media__rtp r;
	assert_int_equal(media__rtp_parse(&r, p, sizeof(p)), 0);
	assert_int_equal(r.csrc_count, 2);
	assert_true(r.has_ext);
	assert_int_equal(r.ext_profile, 0xbede);
	assert_int_equal(r.ext_len, 4);
	assert_int_equal(r.ext[0], 0x11);
	assert_int_equal(r.payload_len, 2);
	assert_int_equal(r.payload[0], 0x55);
	assert_int_equal(r.payload[1], 0x66);
}

static void test_rtp_parse_malformed(void **state)
{
	struct media__rtp r;
	const uint8_t short_hdr[] = {0x80, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0};
	assert_int_equal(media__rtp_parse(&r, short_hdr, sizeof(short_hdr)), -EBADMSG);
	const uint8_t v1[] = {0x40, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xff};
	assert_int_equal(media__rtp_parse(&r, v1, sizeof(v1)), -EBADMSG);
	/* CC=15 claims 60 bytes of CSRC */
	const uint8_t cc[] = {0x8f, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4};
	assert_int_equal(media__rtp_parse(&r, cc, sizeof(cc)), -EBADMSG);
	/* extension length beyond the datagram */
	const uint8_t ext[] = {0x90, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 9, 1, 2};
	assert_int_equal(media__rtp_parse(&r, ext, sizeof(ext)), -EBADMSG);
	/* extension header cut short */
	const uint8_t ext2[] = {0x90, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde};
	assert_int_equal(media__rtp_parse(&r, ext2, sizeof(ext2)), -EBADMSG);
	/* padding count larger than the payload, and a zero count */
	const uint8_t pad[] = {0xa0, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xff, 9};
	assert_int_equal(media__rtp_parse(&r, pad, sizeof(pad)), -EBADMSG);
	const uint8_t pad0[] = {0xa0, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xff, 0};
	assert_int_equal(media__rtp_parse(&r, pad0, sizeof(pad0)), -EBADMSG);
	/* RTCP (RFC 5761 §4) is not RTP */
	const uint8_t rr[] = {0x80, 201, 0, 1, 0, 0, 0, 2};
	assert_true(media__rtp_is_rtcp(rr, sizeof(rr)));
	assert_int_equal(media__rtp_parse(&r, rr, sizeof(rr)), -EBADMSG);
	/* an empty payload is valid RTP */
	const uint8_t empty[] = {0x80, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
	assert_int_equal(media__rtp_parse(&r, empty, sizeof(empty)), 0);
	assert_int_equal(r.payload_len, 0);
}

static void test_te_parse(void **state)
{
	/* RFC 4733 §2.3: event 11 (#), E=1, volume 10, duration 800 */
	const uint8_t p[] = {11, 0x8a, 0x03, 0x20};
	struct media__te e;
	assert_int_equal(media__te_parse(&e, p, sizeof(p)), 0);
	assert_int_equal(e.event, 11);
	assert_true(e.end);
	assert_int_equal(e.volume, 10);
	assert_int_equal(e.duration, 800);
	assert_int_equal(media__te_parse(&e, p, 3), -EBADMSG);
	const char *digits = "0123456789*#ABCD";
	for (uint8_t i = 0; i < 16; i++)
		assert_int_equal(media__te_digit(i), digits[i]);
	assert_int_equal(media__te_digit(16), 0); /* flash is not a digit */
}

/* ---- RTCP ------------------------------------------------------------------ */

static void test_rtcp_print_parse(void **state)
{
	struct media__rtcp_report r = {
	    .ssrc = 0x11223344,
	    .sr = true,
	    .sender = {.ntp = 0xe123456789abcdefull, .rtp_ts = 1000, .packets = 50, .octets = 8000},
	    .has_block = true,
	    .block = {.ssrc = 0x55667788,
		      .fraction = 25,
		      .lost = -3,
		      .ext_max_seq = 0x10005,
		      .jitter = 80,
		      .lsr = 0x456789ab,
		      .dlsr = 65536},
	    .cname = STR("0123456789abcdef"),
	    .bye = true,
	};
	uint8_t buf[MEDIA__RTCP_MAX];
	size_t len = media__rtcp_print(buf, sizeof(buf), &r);
	/* SR with one block 52, SDES 4+4+2+16+1 → 28, BYE 8 */
	assert_int_equal(len, 52 + 28 + 8);
	assert_int_equal(buf[0], 0x81);
	assert_int_equal(buf[1], 200);
	assert_int_equal(rd16(buf + 2), 12);
	assert_int_equal(buf[52 + 1], 202);
	assert_int_equal(buf[52 + 8], 1); /* CNAME */
	assert_int_equal(buf[52 + 9], 16);
	assert_memory_equal(buf + 52 + 10, "0123456789abcdef", 16);
	assert_int_equal(buf[80 + 1], 203);
	assert_int_equal(media__rtcp_print(buf, len - 1, &r), 0);

	struct media__rtcp_info info;
	assert_int_equal(media__rtcp_parse(&info, buf, len, 0x55667788), 0);
	assert_int_equal(info.packets, 3);
	assert_int_equal(info.ssrc, 0x11223344);
	assert_true(info.has_sr);
	assert_true(info.sr.ntp == 0xe123456789abcdefull);
	assert_int_equal(info.sr.rtp_ts, 1000);
	assert_int_equal(info.sr.packets, 50);
	assert_int_equal(info.sr.octets, 8000);
	assert_true(info.has_block);
	assert_int_equal(info.block.fraction, 25);
	assert_int_equal(info.block.lost, -3);
	assert_int_equal(info.block.ext_max_seq, 0x10005);
	assert_int_equal(info.block.jitter, 80);
	assert_int_equal(info.block.lsr, 0x456789ab);
	assert_int_equal(info.block.dlsr, 65536);
	assert_true(info.bye);

	/* a block about someone else is not ours */
	assert_int_equal(media__rtcp_parse(&info, buf, len, 0x1), 0);
	assert_false(info.has_block);

	/* RR without a block, no BYE; every CNAME length pads to 32 bits */
	for (size_t n = 0; n < 8; n++) {
		struct media__rtcp_report rr = {.ssrc = 7, .cname = str_make("abcdefgh", n)};
		len = media__rtcp_print(buf, sizeof(buf), &rr);
		assert_int_equal(len % 4, 0);
		assert_int_equal(media__rtcp_parse(&info, buf, len, 7), 0);
		assert_false(info.has_sr);
		assert_int_equal(info.ssrc, 7);
		assert_int_equal(info.packets, 2);
	}
}

static void test_rtcp_parse_malformed(void **state)
{
	struct media__rtcp_info info;
	/* an RR with one block but the block missing */
	const uint8_t rr_short[] = {0x81, 201, 0, 1, 0, 0, 0, 1};
	assert_int_equal(media__rtcp_parse(&info, rr_short, sizeof(rr_short), 1), -EBADMSG);
	/* length beyond the datagram */
	const uint8_t too_long[] = {0x80, 201, 0, 5, 0, 0, 0, 1};
	assert_int_equal(media__rtcp_parse(&info, too_long, sizeof(too_long), 1), -EBADMSG);
	/* version 1 */
	const uint8_t v1[] = {0x40, 201, 0, 1, 0, 0, 0, 1};
	assert_int_equal(media__rtcp_parse(&info, v1, sizeof(v1), 1), -EBADMSG);
	/* trailing bytes that are not a packet */
	const uint8_t trail[] = {0x80, 201, 0, 1, 0, 0, 0, 1, 0x80};
	assert_int_equal(media__rtcp_parse(&info, trail, sizeof(trail), 1), -EBADMSG);
	/* padding on a packet that is not the last */
	const uint8_t pad_mid[] = {0xa0, 201, 0, 1, 0, 0, 0, 4, 0x80, 203, 0, 0};
	assert_int_equal(media__rtcp_parse(&info, pad_mid, sizeof(pad_mid), 1), -EBADMSG);
	/* padding larger than the packet */
	const uint8_t pad_big[] = {0xa0, 201, 0, 1, 0, 0, 0, 9};
	assert_int_equal(media__rtcp_parse(&info, pad_big, sizeof(pad_big), 1), -EBADMSG);
	/* an SR too short for its sender info */
	const uint8_t sr_short[] = {0x80, 200, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0};
	assert_int_equal(media__rtcp_parse(&info, sr_short, sizeof(sr_short), 1), -EBADMSG);
	/* BYE counting more SSRCs than it holds */
	const uint8_t bye[] = {0x82, 203, 0, 1, 0, 0, 0, 1};
	assert_int_equal(media__rtcp_parse(&info, bye, sizeof(bye), 1), -EBADMSG);
	assert_int_equal(media__rtcp_parse(&info, bye, 3, 1), -EBADMSG);
	/* unknown types are skipped, valid padding on the last packet is fine */
	const uint8_t app[] = {0x80, 204, 0, 2, 0, 0, 0, 1, 'n', 'a', 'm', 'e',
			       0xa0, 201, 0, 2, 0, 0, 0, 1, 0,	 0,   0,   4};
	assert_int_equal(media__rtcp_parse(&info, app, sizeof(app), 1), 0);
	assert_int_equal(info.packets, 2);
	assert_int_equal(info.ssrc, 1);
}

/* ---- reception statistics -------------------------------------------------- */

static void test_rx_seq_wrap_loss(void **state)
{
	struct media__rx rx;
	uint16_t seq = 65530;
	media__rx_init(&rx, seq);
	/* 20 packets across the wrap, 3 of them lost */
	for (int i = 1; i < 20; i++) {
		uint16_t s = (uint16_t)(seq + i);
		if (i == 4 || i == 9 || i == 10)
			continue;
		assert_true(media__rx_update(&rx, s));
	}
	assert_int_equal(media__rx_ext_max(&rx), 65536u + (uint16_t)(65530 + 19));
	assert_int_equal(media__rx_lost(&rx), 3);
	struct media__rtcp_block b;
	media__rx_report(&rx, &b);
	assert_int_equal(b.lost, 3);
	assert_int_equal(b.fraction, 3 * 256 / 20);
	assert_int_equal(b.ext_max_seq, media__rx_ext_max(&rx));
	/* next interval: 10 more, none lost */
	for (int i = 20; i < 30; i++)
		assert_true(media__rx_update(&rx, (uint16_t)(seq + i)));
	media__rx_report(&rx, &b);
	assert_int_equal(b.fraction, 0);
	assert_int_equal(b.lost, 3);
	/* a reordered packet is taken, a duplicate counts as received (A.3) */
	assert_true(media__rx_update(&rx, (uint16_t)(seq + 25)));
	assert_int_equal(media__rx_lost(&rx), 2);
}

static void test_rx_seq_jump(void **state)
{
	struct media__rx rx;
	media__rx_init(&rx, 100);
	assert_true(media__rx_update(&rx, 101));
	/* a jump of 20000: the first packet is refused, the second in sequence restarts */
	assert_false(media__rx_update(&rx, 20101));
	assert_true(media__rx_update(&rx, 20102));
	assert_int_equal(media__rx_ext_max(&rx), 20102);
	assert_int_equal(media__rx_lost(&rx), 0);
	assert_true(media__rx_update(&rx, 20103));
	/* an old straggler within the misorder window is taken */
	assert_true(media__rx_update(&rx, 20050));
	assert_int_equal(media__rx_ext_max(&rx), 20103);
}

static void test_rx_jitter(void **state)
{
	struct media__rx rx;
	media__rx_init(&rx, 0);
	/* 8 kHz: packets every 160 units arriving exactly on time: no jitter */
	for (uint32_t i = 0; i < 100; i++)
		media__rx_jitter(&rx, i * 160, 5000 + i * 160);
	assert_int_equal(media__rx_jitter_units(&rx), 0);
	/* alternately 80 units (10 ms) late: |D| = 80 every packet, J converges to 80 */
	for (uint32_t i = 100; i < 400; i++)
		media__rx_jitter(&rx, i * 160, 5000 + i * 160 + (i % 2) * 80);
	uint32_t j = media__rx_jitter_units(&rx);
	assert_in_range(j, 76, 80);
	/* timestamps across the 32-bit wrap */
	media__rx_init(&rx, 0);
	for (uint32_t i = 0; i < 100; i++)
		media__rx_jitter(&rx, 0xffffff00u + i * 160, 7 + i * 160);
	assert_int_equal(media__rx_jitter_units(&rx), 0);
}

/* ---- port allocation ---------------------------------------------------------- */

struct done {
	int count;
};

static void done_cb(void *arg)
{
	((struct done *)arg)->count++;
}

static void test_ports(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	uint16_t base = (uint16_t)(test_port_base(2000) + 1); /* odd: the first pair starts above */
	struct media_engine *eng;
	/* 7 ports from an odd start: pairs base+1/+2, base+3/+4, base+5/+6 */
	assert_int_equal(media_engine_create(&eng, &loop, base, (uint16_t)(base + 6)), 0);
	struct net_addr ip = loop_addr(0);

	/* someone else holds the first pair's RTCP port: that pair is skipped */
	int busy = udp_bind((uint16_t)(base + 2));
	assert_true(busy >= 0);
	struct media_stream *a, *b, *c, *d;
	assert_int_equal(media_stream_create(&a, eng, &ip, NULL), 0);
	assert_int_equal(media_stream_port(a), base + 3);
	assert_int_equal(media_stream_port(a) % 2, 0);
	/* its RTCP port is bound: binding it again fails */
	int again = udp_bind((uint16_t)(media_stream_port(a) + 1));
	assert_int_equal(again, -EADDRINUSE);
	close(busy);

	assert_int_equal(media_stream_create(&b, eng, &ip, NULL), 0);
	assert_int_equal(media_stream_port(b), base + 5);
	/* the skipped pair went to the back of the queue and is free now */
	assert_int_equal(media_stream_create(&c, eng, &ip, NULL), 0);
	assert_int_equal(media_stream_port(c), base + 1);
	assert_int_equal(media_engine_stream_count(eng), 3);
	/* exhausted */
	assert_int_equal(media_stream_create(&d, eng, &ip, NULL), -EADDRINUSE);

	/* freed pairs come back last: b then a are freed, a new stream gets b's */
	media_stream_destroy(b);
	run_out(&loop);
	media_stream_destroy(a);
	run_out(&loop);
	assert_int_equal(media_engine_stream_count(eng), 1);
	assert_int_equal(media_stream_create(&d, eng, &ip, NULL), 0);
	assert_int_equal(media_stream_port(d), base + 5);
	assert_int_equal(media_stream_create(&a, eng, &ip, NULL), 0);
	assert_int_equal(media_stream_port(a), base + 3);

	media_stream_destroy(a);
	media_stream_destroy(c);
	media_stream_destroy(d);
	struct done done = {0};
	media_engine_destroy(eng, done_cb, &done);
	run_out(&loop);
	assert_int_equal(done.count, 1);
	/* every port is closed again */
	for (uint16_t p = (uint16_t)(base + 1); p <= base + 6; p++) {
		int fd = udp_bind(p);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_engine_args(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct media_engine *eng = NULL;
	assert_int_equal(media_engine_create(&eng, &loop, 30001, 30001), -EINVAL);
	assert_int_equal(media_engine_create(&eng, &loop, 30001, 30002), -EINVAL);
	assert_int_equal(media_engine_create(&eng, &loop, 30010, 30000), -EINVAL);
	assert_int_equal(media_engine_create(&eng, NULL, 30000, 30010), -EINVAL);
	assert_null(eng);
	/* no stream: the loop has nothing to wait for, the tick does not keep it alive */
	assert_int_equal(media_engine_create(&eng, &loop, 30000, 30001), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	struct net_addr ip = loop_addr(0);
	struct media_stream *s;
	int r = media_stream_create(&s, eng, &ip, NULL);
	if (r == 0) {
		assert_int_equal(media_stream_port(s), 30000);
		media_stream_destroy(s);
	}
	struct done done = {0};
	media_engine_destroy(eng, done_cb, &done);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(done.count, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rtp_parse_basic),
	    cmocka_unit_test(test_rtp_parse_csrc_ext_padding),
	    cmocka_unit_test(test_rtp_parse_malformed),
	    cmocka_unit_test(test_te_parse),
	    cmocka_unit_test(test_rtcp_print_parse),
	    cmocka_unit_test(test_rtcp_parse_malformed),
	    cmocka_unit_test(test_rx_seq_wrap_loss),
	    cmocka_unit_test(test_rx_seq_jump),
	    cmocka_unit_test(test_rx_jitter),
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_engine_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
