/*
 * Bridged streams and DTMF sending, over real loopback sockets: two streams
 * of one engine, each with its own far end (a peer socket), observed from
 * those far ends.
 *  - relay (same codec and ptime): payload bytes untouched, the sending
 *    stream's SSRC and sequence, timestamp gaps kept, a far-end SSRC change,
 *    no second stream of silence alongside, silence again once the input stops;
 *  - transcode: PCMU→PCMA (the same samples), PCMU↔G722 and PCMU↔Opus (the
 *    tone that was sent, at the right ptime and clock), a ptime change;
 *  - RFC 4733 events relayed with the other side's payload type, dropped when
 *    it has none, durations scaled to another clock;
 *  - a source played over the bridge, unbridge, re-evaluation on restart,
 *    destroy while bridged (also from a callback);
 *  - media_stream_send_dtmf (RFC 4733 §2.5): marker, timestamps, growing
 *    durations, three end packets, pauses, refusals.
 * Timing is checked loosely: the machine may be loaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_media_rtp_util.h"

/* ---- a far end that talks: a tone in some codec, on a schedule ---------------------- */

struct talker {
	uv_timer_t t;
	struct peer *p;
	uint16_t dst;
	enum media_codec_id codec;
	uint8_t pt;
	uint32_t ptime_ms; /* 0: 20 */
	double freq;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	unsigned count, k;
	uint64_t t0;
	uint64_t pos; /* samples produced */
	struct media__codec enc;
};

static void talker_cb(uv_timer_t *t)
{
	struct talker *tk = t->data;
	uint64_t now = uv_hrtime() / 1000;
	uint32_t rate = media_codec_audio_rate(tk->codec);
	uint32_t frame = tk->ptime_ms * rate / 1000;
	uint32_t step = tk->ptime_ms * media_codec_clock_rate(tk->codec) / 1000;
	while (tk->k < tk->count && now >= tk->t0 + (uint64_t)tk->k * tk->ptime_ms * 1000) {
		int16_t pcm[MEDIA__FRAME_MAX];
		for (uint32_t i = 0; i < frame; i++)
			pcm[i] = sine_at(tk->freq, tk->pos + i, rate);
		tk->pos += frame;
		uint8_t pkt[MEDIA__TX_SLOT];
		int len = media__codec_encode(&tk->enc, pcm, frame, pkt + MEDIA__RTP_HDR_LEN,
					      MEDIA__PAYLOAD_MAX);
		assert_true(len > 0);
		media__rtp_print(pkt, tk->k == 0, tk->pt, tk->seq++, tk->ts, tk->ssrc);
		tk->ts += step;
		peer_send_to(tk->p, 0, tk->dst, pkt, MEDIA__RTP_HDR_LEN + (size_t)len);
		tk->k++;
	}
	if (tk->k == tk->count)
		uv_timer_stop(t);
}

static void talker_start(struct talker *tk, uv_loop_t *loop, struct peer *p, uint16_t dst,
			 unsigned count)
{
	tk->p = p;
	tk->dst = dst;
	tk->count = count;
	if (!tk->ptime_ms)
		tk->ptime_ms = 20;
	if (!tk->ssrc)
		tk->ssrc = 0x7a1c0001;
	assert_int_equal(media__encoder_init(&tk->enc, tk->codec), 0);
	tk->t0 = uv_hrtime() / 1000;
	uv_timer_init(loop, &tk->t);
	tk->t.data = tk;
	uv_timer_start(&tk->t, talker_cb, 0, 1);
}

static void talker_close(struct talker *tk)
{
	media__codec_fini(&tk->enc, true);
	uv_close((uv_handle_t *)&tk->t, NULL);
}

/* ---- what a far end heard --------------------------------------------------------- */

/* Decodes the packets of payload type `pt` a peer received, in order. */
static size_t heard(struct peer *p, enum media_codec_id codec, uint8_t pt, int16_t *pcm, size_t cap)
{
	struct media__codec dec;
	assert_int_equal(media__decoder_init(&dec, codec), 0);
	size_t n = 0;
	for (size_t i = 0; i < p->n[0]; i++) {
		struct media__rtp r;
		if (media__rtp_parse(&r, p->pkts[0][i].data, p->pkts[0][i].len) != 0 || r.pt != pt)
			continue;
		int got = media__codec_decode(&dec, r.payload, r.payload_len, pcm + n, cap - n);
		assert_true(got > 0);
		n += (size_t)got;
	}
	media__codec_fini(&dec, false);
	return n;
}

struct tone_check {
	size_t loud;  /* 20 ms blocks louder than RMS 2000 */
	size_t tonal; /* of those, nearly all energy at the frequency */
	double rms;   /* mean RMS of the loud blocks */
};

/* Splits audio into 20 ms blocks and measures, in the loud ones, how much of
 * the energy is at `freq` (a single-bin DFT; 20 ms holds whole cycles of
 * the frequencies used here). */
static struct tone_check tone_check(const int16_t *pcm, size_t n, uint32_t rate, double freq)
{
	struct tone_check tc = {0};
	size_t block = rate / 50;
	double rms_sum = 0;
	for (size_t b = 0; b + block <= n; b += block) {
		double energy = 0, re = 0, im = 0;
		for (size_t i = 0; i < block; i++) {
			double x = pcm[b + i];
			energy += x * x;
			re += x * cos(2 * M_PI * freq * (double)i / rate);
			im += x * sin(2 * M_PI * freq * (double)i / rate);
		}
		double rms = sqrt(energy / (double)block);
		if (rms < 2000)
			continue;
		tc.loud++;
		rms_sum += rms;
		/* a pure tone of amplitude A: |X| = A N / 2 and energy = A² N / 2 */
		double at_freq = 2.0 * (re * re + im * im) / (double)block;
		if (at_freq > 0.8 * energy)
			tc.tonal++;
	}
	tc.rms = tc.loud ? rms_sum / (double)tc.loud : 0;
	return tc;
}

/* The far end heard `freq` for at least `min_blocks` of 20 ms, at the level sent. */
static void assert_tone(struct tone_check tc, size_t min_blocks)
{
	if (tc.loud < min_blocks || tc.tonal * 10 < tc.loud * 9 || tc.rms < 8485 * 0.75 ||
	    tc.rms > 8485 * 1.25)
		fail_msg("heard %zu loud blocks (want %zu), %zu tonal, rms %.0f (sent 8485)",
			 tc.loud, min_blocks, tc.tonal, tc.rms);
}

/* The median gap between packets of payload type `pt`, in µs. */
static uint64_t median_gap(struct peer *p, uint8_t pt)
{
	static uint64_t gaps[1000];
	size_t n = 0;
	uint64_t last = 0;
	for (size_t i = 0; i < p->n[0] && n < 1000; i++) {
		struct media__rtp r;
		if (media__rtp_parse(&r, p->pkts[0][i].data, p->pkts[0][i].len) != 0 || r.pt != pt)
			continue;
		if (last)
			gaps[n++] = p->pkts[0][i].at_us - last;
		last = p->pkts[0][i].at_us;
	}
	assert_true(n > 10);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && gaps[j] < gaps[j - 1]; j--) {
			uint64_t x = gaps[j];
			gaps[j] = gaps[j - 1];
			gaps[j - 1] = x;
		}
	return gaps[n / 2];
}

/* Lists the packets a peer received into r: every one from the same SSRC,
 * the sequence numbers without a gap; how many. */
static size_t assert_one_sequence(struct peer *p, struct media__rtp *r, size_t max)
{
	size_t n = rtp_list(p, r, max);
	assert_true(n > 0);
	for (size_t i = 1; i < n; i++) {
		assert_int_equal(r[i].ssrc, r[0].ssrc);
		assert_int_equal(r[i].seq, (uint16_t)(r[0].seq + i));
	}
	return n;
}

/* The event packets (payload type pt) a peer received. */
static size_t events_of(struct peer *p, uint8_t pt, struct media__rtp *out, size_t max)
{
	static struct media__rtp r[600];
	size_t n = rtp_list(p, r, 600), k = 0;
	for (size_t i = 0; i < n && k < max; i++)
		if (r[i].pt == pt)
			out[k++] = r[i];
	return k;
}

/* Whether a G.711 payload is all `silence` (0xff µ-law, 0xd5 A-law). */
static bool is_silence(const struct media__rtp *r, uint8_t silence)
{
	for (size_t j = 0; j < r->payload_len; j++)
		if (r->payload[j] != silence)
			return false;
	return true;
}

/* The index k of a feeder's `vary` payload (its first byte), or -1. */
static int vary_index(const struct media__rtp *r, unsigned count)
{
	for (unsigned k = 0; k < count; k++) {
		if (r->payload[0] != (uint8_t)((k * 37) % 120 + 1))
			continue;
		for (size_t j = 0; j < r->payload_len; j++)
			if (r->payload[j] != (uint8_t)((k * 37 + j) % 120 + 1))
				return -1;
		return (int)k;
	}
	return -1;
}

/* The index k of a feeder's `vary` frame (µ-law) as transcoded to A-law, or -1. */
static int alaw_vary_index(const struct media__rtp *r, unsigned count)
{
	for (unsigned k = 0; k < count; k++) {
		size_t j = 0;
		while (j < 160 && r->payload[j] == media__alaw_from_linear(media__ulaw_to_linear(
						       (uint8_t)((k * 37 + j) % 120 + 1))))
			j++;
		if (j == 160)
			return (int)k;
	}
	return -1;
}

/* A far end heard at least `min` packets, all µ-law silence. */
static void assert_only_silence(struct peer *p, size_t min)
{
	static struct media__rtp r[600];
	size_t n = rtp_list(p, r, 600);
	assert_true(n >= min);
	for (size_t i = 0; i < n; i++)
		assert_true(is_silence(&r[i], 0xff));
}

/* How many of a far end's packets were not µ-law silence, each of them a
 * feeder's constant frame (0x55). */
static size_t count_0x55_frames(struct peer *p)
{
	static struct media__rtp r[600];
	size_t n = rtp_list(p, r, 600), count = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_silence(&r[i], 0xff))
			continue;
		assert_int_equal(r[i].payload[0], 0x55);
		count++;
	}
	return count;
}

static struct media_stats stats_of(const struct media_stream *s)
{
	struct media_stats st;
	media_stream_stats(s, &st);
	return st;
}

/* Runs cb `after_ms` from now, then every `repeat_ms` (0: once). */
static void timer_start(uv_loop_t *loop, uv_timer_t *t, void *data, uv_timer_cb cb,
			uint64_t after_ms, uint64_t repeat_ms)
{
	uv_timer_init(loop, t);
	t->data = data;
	uv_timer_start(t, cb, after_ms, repeat_ms);
}

/* ---- two bridged legs --------------------------------------------------------------- */

struct legs {
	struct media_stream *s1, *s2; /* s1's far end is f->peer, s2's is p2 */
	struct peer p2;
	struct counters c1, c2;
	struct media_stream_params p1, pp2;
};

/* Opens s2's far end and creates both streams (not started, not bridged),
 * with the given callbacks (NULL: none). */
static void legs_create(struct fx *f, struct legs *l, const struct media_stream_cbs *cbs1,
			const struct media_stream_cbs *cbs2)
{
	memset(l, 0, sizeof(*l));
	peer_open(&f->loop, &l->p2);
	assert_int_equal(media_stream_create(&l->s1, f->eng, &f->local, cbs1), 0);
	assert_int_equal(media_stream_create(&l->s2, f->eng, &f->local, cbs2), 0);
}

/* (Re)starts s2 with l->pp2, as a re-INVITE would. */
static void legs_restart_s2(struct legs *l)
{
	assert_int_equal(media_stream_start(l->s2, &l->pp2), 0);
}

/* Restarts s2 with another codec. */
static void legs_recodec_s2(struct legs *l, enum media_codec_id codec, uint8_t pt)
{
	l->pp2.codec = codec;
	l->pp2.pt = pt;
	legs_restart_s2(l);
}

/* Starts both streams with l->p1 and l->pp2. */
static void legs_start(struct legs *l)
{
	assert_int_equal(media_stream_start(l->s1, &l->p1), 0);
	legs_restart_s2(l);
}

/* Both legs started, then bridged, each stream's callbacks counted in c1, c2. */
static void legs_open(struct fx *f, struct legs *l, enum media_codec_id codec1, uint8_t pt1,
		      enum media_codec_id codec2, uint8_t pt2)
{
	struct media_stream_cbs cbs1 = cbs_of(&l->c1), cbs2 = cbs_of(&l->c2);
	legs_create(f, l, &cbs1, &cbs2);
	l->p1 = params_of(f->peer.port, codec1, pt1);
	l->pp2 = params_of(l->p2.port, codec2, pt2);
	legs_start(l);
	assert_int_equal(media_stream_bridge(l->s1, l->s2), 0);
	assert_ptr_equal(media_stream_bridged(l->s1), l->s2);
	assert_ptr_equal(media_stream_bridged(l->s2), l->s1);
}

/* Both legs PCMU, payload type 0: what arrives is relayed. */
static void legs_open_relay(struct fx *f, struct legs *l)
{
	legs_open(f, l, MEDIA_CODEC_PCMU, 0, MEDIA_CODEC_PCMU, 0);
}

/* s1's far end starts sending fd's `count` frames to s1. */
static void feed_s1(struct fx *f, struct legs *l, struct feeder *fd, unsigned count)
{
	feeder_start(fd, &f->loop, &f->peer, media_stream_port(l->s1), count);
}

/* s2's far end starts sending fd's `count` frames to s2. */
static void feed_s2(struct fx *f, struct legs *l, struct feeder *fd, unsigned count)
{
	feeder_start(fd, &f->loop, &l->p2, media_stream_port(l->s2), count);
}

/* Relaying legs, s1's far end sending fd's `count` frames of the `vary` payload. */
static void legs_open_fed(struct fx *f, struct legs *l, struct feeder *fd, unsigned count)
{
	legs_open_relay(f, l);
	*fd = (struct feeder){.vary = true};
	feed_s1(f, l, fd, count);
}

/* Destroys the streams (one already destroyed may be NULL) and s2's far end. */
static void legs_close(struct fx *f, struct legs *l)
{
	media_stream_destroy(l->s1);
	media_stream_destroy(l->s2);
	peer_close(&l->p2);
	run_out(&f->loop);
	peer_fini(&l->p2);
}

/* ---- relay ------------------------------------------------------------------------------ */

static void test_relay_pcmu(void **state)
{
	struct fx *f = *state;
	struct legs l;
	legs_open_relay(f, &l);
	run_for(&f->loop, 200); /* nothing to relay yet: both send silence */
	assert_true(l.p2.n[0] >= 5);

	/* 40 frames, two of them never sent (a 40 ms hole: sequence and time) */
	static const unsigned lose[] = {20, 21};
	struct feeder fd = {.vary = true, .lose = lose, .nlose = 2, .seq = 7, .ts = 1000};
	feed_s1(f, &l, &fd, 40);
	run_for(&f->loop, 700);
	/* the far end restarts its stream (new SSRC, sequence and timestamps)
	 * right after its 40th frame, on the same schedule */
	struct feeder fd2 = {.vary = true, .ssrc = 0xfeed0002, .seq = 50000, .ts = 123456789};
	feed_s1(f, &l, &fd2, 15);
	fd2.t0 = fd.t0 + 40 * 20000;
	run_for(&f->loop, 1000);

	static struct media__rtp r[600];
	size_t n = assert_one_sequence(&l.p2, r, 600);
	size_t relayed = 0, first = SIZE_MAX, last = 0, second_at = 0;
	int prev_k = -1;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].pt, 0);
		if (is_silence(&r[i], 0xff))
			continue; /* silence of its own */
		int k = vary_index(&r[i], 40);
		assert_true(k >= 0); /* payload bytes untouched */
		relayed++;
		if (first == SIZE_MAX) {
			first = i;
			assert_true(r[i].marker);
		} else if (k > prev_k) {
			/* the input's timestamp steps, the 40 ms hole included */
			assert_int_equal(r[i].ts - r[last].ts, 160u * (uint32_t)(k - prev_k));
			if (last == i - 1)
				assert_false(r[i].marker);
		} else {
			/* the second source: a fresh talkspurt, later than all before */
			second_at = i;
			assert_true(r[i].marker);
			int32_t dts = (int32_t)(r[i].ts - r[last].ts);
			uint64_t dt = l.p2.pkts[0][i].at_us - l.p2.pkts[0][last].at_us;
			assert_true(dts > 0);
			assert_true((uint64_t)dts <= dt * 8 / 1000 + 2 * 160);
		}
		prev_k = k;
		last = i;
	}
	assert_int_equal(relayed, 38 + 15);
	assert_true(second_at > first);
	/* no stream of silence alongside the relayed one (a late tick may add one) */
	size_t own = 0;
	for (size_t i = first; i <= last; i++)
		own += is_silence(&r[i], 0xff);
	assert_true(own <= 2);
	/* once the input stops, silence again, starting a talkspurt */
	assert_true(last + 3 < n);
	assert_true(r[last + 1].marker);
	assert_true(is_silence(&r[last + 1], 0xff));

	struct media_stats st = stats_of(l.s2);
	assert_int_equal(st.packets_relayed, 53);
	assert_in_range(st.packets_out, n, n + 1);
	/* nothing came from s2's far end: s1's far end hears silence only */
	assert_only_silence(&f->peer, 51);
	feeder_close(&fd);
	feeder_close(&fd2);
	legs_close(f, &l);
}

/* ---- taps (recording) ------------------------------------------------------------------ */

struct tap_count {
	size_t frames, samples, audible; /* audible: frames with a non-zero sample */
	uint32_t rate;
};

static void tap_note(struct tap_count *c, const int16_t *pcm, size_t n, uint32_t rate)
{
	c->frames++;
	c->samples += n;
	c->rate = rate;
	for (size_t i = 0; i < n; i++) {
		if (pcm[i]) {
			c->audible++;
			break;
		}
	}
}

/* What one stream's tap saw, each way. */
struct tapped {
	struct tap_count rx, tx;
};

static void tap_rx(void *arg, const int16_t *pcm, size_t n, uint32_t rate)
{
	tap_note(&((struct tapped *)arg)->rx, pcm, n, rate);
}

static void tap_tx(void *arg, const int16_t *pcm, size_t n, uint32_t rate)
{
	tap_note(&((struct tapped *)arg)->tx, pcm, n, rate);
}

/* Relaying, the packets s1 receives leave s2 untouched; the taps still see
 * them as PCM: s1's rx tap and s2's tx tap each get every relayed frame
 * (decoded), and s2's tx tap its own silence too. Without a tap, nothing. */
static void test_relay_taps(void **state)
{
	struct fx *f = *state;
	struct legs l;
	struct tapped t1 = {0}, t2 = {0};
	legs_open_relay(f, &l);
	struct media_tap tap1 = {.rx_cb = tap_rx, .tx_cb = tap_tx, .arg = &t1};
	struct media_tap tap2 = {.rx_cb = tap_rx, .tx_cb = tap_tx, .arg = &t2};
	media_stream_set_tap(l.s1, &tap1);
	media_stream_set_tap(l.s2, &tap2);
	run_for(&f->loop, 200); /* silence both ways, tapped as silence */
	assert_true(t1.tx.frames >= 5 && t2.tx.frames >= 5);
	assert_int_equal(t1.tx.audible + t2.tx.audible, 0);

	static const unsigned lose[] = {20, 21};
	struct feeder fd = {.vary = true, .lose = lose, .nlose = 2, .seq = 7, .ts = 1000};
	feed_s1(f, &l, &fd, 40);
	run_for(&f->loop, 1200);
	assert_int_equal(t1.rx.samples, 38 * 160);
	assert_int_equal(t1.rx.audible, 38);
	assert_int_equal(t1.rx.rate, 8000);
	assert_int_equal(t2.tx.audible, 38); /* the relayed frames, decoded */
	assert_int_equal(t2.tx.rate, 8000);
	assert_int_equal(t2.rx.frames, 0); /* s2's far end sent nothing */
	assert_int_equal(t1.tx.audible, 0);
	/* one tapped frame per packet s2 sent (relayed or its own silence) */
	uint64_t out = stats_of(l.s2).packets_out;
	assert_in_range(t2.tx.frames, out - 1, out);
	feeder_close(&fd);

	/* tap removed: nothing more */
	media_stream_set_tap(l.s1, NULL);
	media_stream_set_tap(l.s2, NULL);
	struct tapped before1 = t1, before2 = t2;
	struct feeder fd2 = {.vary = true, .ssrc = 0xfeed0003, .seq = 9, .ts = 5000};
	feed_s1(f, &l, &fd2, 10);
	run_for(&f->loop, 400);
	assert_memory_equal(&before1, &t1, sizeof(t1));
	assert_memory_equal(&before2, &t2, sizeof(t2));
	feeder_close(&fd2);
	legs_close(f, &l);
}

static void test_relay_both_ways_unbridge(void **state)
{
	struct fx *f = *state;
	struct legs l;
	legs_open_relay(f, &l);
	media_stream_echo(l.s2, true); /* bridged, its echo is not what it sends */
	/* s1's far end sends the `vary` frames, s2's frames of 0x55 */
	struct feeder a = {.vary = true};
	struct feeder b = {.ssrc = 0xb0b};
	feed_s1(f, &l, &a, 25);
	feed_s2(f, &l, &b, 25);
	run_for(&f->loop, 700);
	assert_int_equal(stats_of(l.s1).packets_relayed, 25);
	assert_int_equal(stats_of(l.s2).packets_relayed, 25);
	/* each far end heard the other, in order, and never itself */
	assert_int_equal(count_0x55_frames(&f->peer), 25);
	static struct media__rtp r[200];
	size_t n = rtp_list(&l.p2, r, 200), count = 0;
	int prev = -1;
	for (size_t i = 0; i < n; i++) {
		if (is_silence(&r[i], 0xff))
			continue;
		int k = vary_index(&r[i], 25);
		assert_true(k > prev);
		prev = k;
		count++;
	}
	assert_int_equal(count, 25);

	/* unbridged: each sends its own again (silence; s2 echoes) */
	media_stream_unbridge(l.s1);
	assert_null(media_stream_bridged(l.s1));
	assert_null(media_stream_bridged(l.s2));
	media_stream_unbridge(l.s2); /* not bridged: nothing */
	peer_reset(&f->peer);
	peer_reset(&l.p2);
	struct feeder a2 = {.vary = true, .seq = 25, .ts = 25 * 160};
	struct feeder b2 = {.ssrc = 0xb0b, .seq = 25, .ts = 25 * 160};
	feed_s1(f, &l, &a2, 20);
	feed_s2(f, &l, &b2, 20);
	run_for(&f->loop, 600);
	assert_only_silence(&f->peer, 21);
	assert_true(count_0x55_frames(&l.p2) >= 18); /* echoed */
	assert_int_equal(stats_of(l.s2).packets_relayed, 25);
	feeder_close(&a);
	feeder_close(&b);
	feeder_close(&a2);
	feeder_close(&b2);
	legs_close(f, &l);
}

struct restart_at {
	uv_timer_t t;
	struct media_stream *s;
	struct media_stream_params p[2];
	unsigned step;
	uint64_t at_us[2];
};

static void restart_at_cb(uv_timer_t *t)
{
	struct restart_at *ra = t->data;
	assert_int_equal(media_stream_start(ra->s, &ra->p[ra->step]), 0);
	ra->at_us[ra->step] = uv_hrtime() / 1000;
	if (++ra->step == 2)
		uv_timer_stop(t);
}

static void test_relay_hold(void **state)
{
	struct fx *f = *state;
	struct legs l;
	struct feeder fd;
	legs_open_fed(f, &l, &fd, 60);
	/* s2's far end holds (recvonly from s2's side) 300 ms in, resumes 400 ms later */
	struct restart_at ra = {.s = l.s2};
	ra.p[0] = l.pp2;
	ra.p[0].dir = MEDIA_RECVONLY;
	ra.p[1] = l.pp2;
	timer_start(&f->loop, &ra.t, &ra, restart_at_cb, 300, 400);
	assert_int_equal(media_stream_send_dtmf(l.s1, "1", 0), 0); /* s1 sends, s2 does not */
	run_for(&f->loop, 1400);
	assert_int_equal(ra.step, 2);

	static struct media__rtp r[200];
	size_t n = assert_one_sequence(&l.p2, r, 200);
	size_t held = 0, resumed = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		uint64_t at = l.p2.pkts[0][i].at_us;
		held += at > ra.at_us[0] + 2000 && at < ra.at_us[1];
		if (resumed == SIZE_MAX && at > ra.at_us[1])
			resumed = i;
	}
	assert_int_equal(held, 0); /* nothing while held, relayed or own */
	assert_true(resumed != SIZE_MAX && resumed + 10 < n);
	assert_true(r[resumed].marker); /* a new talkspurt after the hold */
	assert_true(vary_index(&r[resumed], 60) >= 0 || is_silence(&r[resumed], 0xff));
	/* 60 frames less the ~20 that arrived during the hold */
	assert_in_range(stats_of(l.s2).packets_relayed, 60 - 24, 60 - 16);
	assert_int_equal(stats_of(l.s1).dtmf_out, 1);

	/* digits due on hold pass unsent (and are not counted) */
	l.pp2.dir = MEDIA_RECVONLY;
	legs_restart_s2(&l);
	assert_int_equal(media_stream_send_dtmf(l.s2, "2", 40), 0);
	peer_reset(&l.p2);
	run_for(&f->loop, 300);
	assert_int_equal(l.p2.n[0], 0);
	assert_int_equal(stats_of(l.s2).dtmf_out, 0);
	l.pp2.dir = MEDIA_SENDRECV;
	legs_restart_s2(&l);
	run_for(&f->loop, 200);
	struct media__rtp ev[4];
	assert_int_equal(events_of(&l.p2, 101, ev, 4), 0);
	assert_true(l.p2.n[0] >= 5);
	uv_close((uv_handle_t *)&ra.t, NULL);
	feeder_close(&fd);
	legs_close(f, &l);
}

/* ---- transcode ------------------------------------------------------------------------- */

static void test_transcode_pcmu_pcma(void **state)
{
	struct fx *f = *state;
	struct legs l;
	legs_open(f, &l, MEDIA_CODEC_PCMU, 0, MEDIA_CODEC_PCMA, 8);
	struct talker tk = {.codec = MEDIA_CODEC_PCMU, .pt = 0, .freq = 400};
	talker_start(&tk, &f->loop, &f->peer, media_stream_port(l.s1), 50);
	run_for(&f->loop, 1300);

	static struct media__rtp r[200];
	size_t n = assert_one_sequence(&l.p2, r, 200);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].pt, 8);
		assert_int_equal(r[i].payload_len, 160);
		assert_int_equal(r[i].ts, r[0].ts + 160 * (uint32_t)i); /* paced by s2 */
	}
	static int16_t pcm[48000];
	size_t got = heard(&l.p2, MEDIA_CODEC_PCMA, 8, pcm, 48000);
	assert_tone(tone_check(pcm, got, 8000, 400), 45);
	/* the same samples: the loud frames are the talker's, in order, as
	 * µ-law then A-law quantize them (A-law's step is 512 at this level) */
	size_t frame = 0;
	for (size_t at = 0; at + 160 <= got && frame < 20; at += 160) {
		bool loud = false;
		for (size_t i = 0; i < 160; i++)
			loud |= pcm[at + i] > 1000 || pcm[at + i] < -1000;
		if (!loud)
			continue; /* silence before it, or after an underrun */
		for (size_t i = 0; i < 160; i++) {
			int16_t sent = sine_at(400, frame * 160 + i, 8000);
			int want = media__ulaw_to_linear(media__ulaw_from_linear(sent));
			assert_in_range(pcm[at + i] - want + 1000, 1000 - 600, 1000 + 600);
		}
		frame++;
	}
	assert_int_equal(frame, 20);
	struct media_stats st = stats_of(l.s2);
	assert_int_equal(st.packets_relayed, 0);
	assert_int_equal(st.packets_out, n);
	talker_close(&tk);
	legs_close(f, &l);
}

struct stall {
	uv_timer_t t;
	uint64_t end_us;
};

static void stall_cb(uv_timer_t *t)
{
	struct stall *st = t->data;
	usleep(300 * 1000); /* the loop stalls: arriving audio piles up in the socket */
	st->end_us = uv_hrtime() / 1000;
}

/* A burst larger than the FIFO: the oldest audio is dropped, the newest plays. */
static void test_transcode_overflow(void **state)
{
	struct fx *f = *state;
	struct legs l;
	legs_open(f, &l, MEDIA_CODEC_PCMU, 0, MEDIA_CODEC_PCMA, 8);
	struct feeder fd = {.vary = true};
	feed_s1(f, &l, &fd, 50);
	struct stall st = {0};
	timer_start(&f->loop, &st.t, &st, stall_cb, 300, 0);
	run_for(&f->loop, 1400);

	static struct media__rtp r[200];
	size_t n = rtp_list(&l.p2, r, 200);
	bool played[50] = {0};
	int prev = -1;
	for (size_t i = 0; i < n; i++) {
		if (is_silence(&r[i], 0xd5))
			continue;
		int k = alaw_vary_index(&r[i], 50);
		assert_true(k >= 0);
		assert_true(k > prev); /* in order, never repeated */
		played[k] = true;
		prev = k;
	}
	/* The stall piled up ~15 frames, the last one due when it ended (k_end),
	 * more than the FIFO holds (100 ms): the oldest were dropped (each
	 * overflow down to the start level, two frames), the newest few kept,
	 * and then everything played to the end. */
	int k_end = (int)((st.end_us - fd.t0) / 20000);
	assert_in_range(k_end, 20, 40);
	for (int k = k_end - 8; k <= k_end - 5; k++)
		assert_false(played[k]);
	for (int k = k_end - 1; k < 50; k++)
		assert_true(played[k]);
	uv_close((uv_handle_t *)&st.t, NULL);
	feeder_close(&fd);
	legs_close(f, &l);
}

struct xcode_case {
	enum media_codec_id codec;
	uint8_t pt;
	uint32_t ptime;
	uint32_t ts_step;
	size_t payload; /* 0: variable */
};

/* s1 PCMU 20 ms ↔ s2 as the case says, a tone each way */
static void check_transcode(struct fx *f, const struct xcode_case *xc)
{
	peer_reset(&f->peer);
	struct legs l;
	legs_create(f, &l, NULL, NULL);
	/* bridged before they start: the choice is made once both have */
	assert_int_equal(media_stream_bridge(l.s1, l.s2), 0);
	l.p1 = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	l.pp2 = params_of(l.p2.port, xc->codec, xc->pt);
	l.pp2.ptime_ms = xc->ptime;
	legs_start(&l);

	struct talker t1 = {.codec = MEDIA_CODEC_PCMU, .pt = 0, .freq = 400};
	struct talker t2 = {.codec = xc->codec, .pt = xc->pt, .ptime_ms = xc->ptime, .freq = 1000};
	talker_start(&t1, &f->loop, &f->peer, media_stream_port(l.s1), 60);
	talker_start(&t2, &f->loop, &l.p2, media_stream_port(l.s2), 1200 / xc->ptime);
	run_for(&f->loop, 1400);

	/* s2's far end: its own codec, ptime and clock, carrying the 400 Hz tone */
	static struct media__rtp r[200];
	size_t n = assert_one_sequence(&l.p2, r, 200);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].pt, xc->pt);
		assert_int_equal(r[i].ts, r[0].ts + xc->ts_step * (uint32_t)i);
		if (xc->payload)
			assert_int_equal(r[i].payload_len, xc->payload);
	}
	uint64_t gap = median_gap(&l.p2, xc->pt);
	assert_in_range(gap, xc->ptime * 1000 - 2000, xc->ptime * 1000 + 2000);
	uint32_t rate = media_codec_audio_rate(xc->codec);
	static int16_t pcm[48000 * 2];
	size_t got = heard(&l.p2, xc->codec, xc->pt, pcm, ARRAY_LEN(pcm));
	assert_tone(tone_check(pcm, got, rate, 400), 45);

	/* s1's far end: PCMU at 20 ms, carrying the 1000 Hz tone */
	n = assert_one_sequence(&f->peer, r, 200);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].pt, 0);
		assert_int_equal(r[i].payload_len, 160);
	}
	got = heard(&f->peer, MEDIA_CODEC_PCMU, 0, pcm, ARRAY_LEN(pcm));
	assert_tone(tone_check(pcm, got, 8000, 1000), 45);
	talker_close(&t1);
	talker_close(&t2);
	legs_close(f, &l);
}

static void test_transcode_g722_opus_ptime(void **state)
{
	struct fx *f = *state;
	static const struct xcode_case cases[] = {
	    {MEDIA_CODEC_G722, 9, 20, 160, 160},  /* 16 kHz audio, 8000 Hz clock */
	    {MEDIA_CODEC_OPUS, 111, 20, 960, 0},  /* 48 kHz */
	    {MEDIA_CODEC_PCMU, 0, 30, 240, 240},  /* same codec, another ptime */
	    {MEDIA_CODEC_OPUS, 111, 40, 1920, 0}, /* both at once */
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		check_transcode(f, &cases[i]);
}

/* ---- RFC 4733 through the bridge -------------------------------------------------------- */

static void send_event(struct peer *p, uint16_t dst, uint8_t pt, uint16_t *seq, uint32_t ts,
		       uint8_t event, bool end, uint16_t duration)
{
	uint8_t ev[4] = {event, (uint8_t)((end ? 0x80 : 0) | 10), (uint8_t)(duration >> 8),
			 (uint8_t)duration};
	uint8_t pkt[64];
	size_t len = rtp_make(pkt, duration == 160, pt, (*seq)++, ts, 0xfeed0001, ev, 4);
	peer_send_to(p, 0, dst, pkt, len);
}

/* A digit as a far end sends it: 3 updates, 3 ends of 800 units. */
static void send_digit(struct peer *p, uint16_t dst, uint8_t pt, uint16_t *seq, uint32_t ts,
		       uint8_t event)
{
	for (uint16_t d = 160; d <= 480; d += 160)
		send_event(p, dst, pt, seq, ts, event, false, d);
	for (int i = 0; i < 3; i++)
		send_event(p, dst, pt, seq, ts, event, true, 800);
}

/* s1's far end sends a digit (payload type 101) and 100 ms pass. */
static void digit_to_s1(struct fx *f, struct legs *l, uint16_t *seq, uint32_t ts, uint8_t event)
{
	send_digit(&f->peer, media_stream_port(l->s1), 101, seq, ts, event);
	run_for(&f->loop, 100);
}

/* The six packets of a digit sent by send_digit, as relayed: one timestamp,
 * the marker on the first, the end flag on the last three, the durations
 * scaled to the other side's clock. */
static void assert_digit_relayed(const struct media__rtp *ev, uint8_t event, uint16_t scale)
{
	static const uint16_t durations[] = {160, 320, 480, 800, 800, 800};
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(ev[i].payload_len, 4);
		assert_int_equal(ev[i].payload[0], event);
		assert_int_equal(rd16(ev[i].payload + 2), scale * durations[i]);
		assert_int_equal(!!(ev[i].payload[1] & 0x80), i >= 3);
		assert_int_equal(ev[i].ts, ev[0].ts);
		assert_int_equal(ev[i].marker, i == 0);
	}
}

static void test_dtmf_relay(void **state)
{
	struct fx *f = *state;
	struct legs l;
	legs_open_relay(f, &l);
	l.pp2.te_pt = 96;
	legs_restart_s2(&l);
	uint16_t seq = 1;
	run_for(&f->loop, 100);
	digit_to_s1(f, &l, &seq, 8000, 5);
	assert_int_equal(l.c1.dtmf, 1); /* the receiving side still hears it */
	assert_int_equal(l.c1.digits[0], '5');
	assert_int_equal(l.c2.dtmf, 0);

	struct media__rtp ev[20];
	assert_int_equal(events_of(&l.p2, 101, ev, 20), 0);
	size_t n = events_of(&l.p2, 96, ev, 20);
	assert_int_equal(n, 6);
	assert_digit_relayed(ev, 5, 1);
	static struct media__rtp r[200];
	assert_int_equal(assert_one_sequence(&l.p2, r, 200) > n, true); /* in s2's own sequence */

	/* s2's far end negotiated no telephone-event: dropped there, heard here */
	l.pp2.te_pt = -1;
	legs_restart_s2(&l);
	peer_reset(&l.p2);
	digit_to_s1(f, &l, &seq, 16000, 9);
	assert_int_equal(l.c1.dtmf, 2);
	assert_int_equal(l.c1.digits[1], '9');
	n = rtp_list(&l.p2, r, 100);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r[i].pt, 0);
	legs_close(f, &l);

	/* transcoding to Opus: one timestamp per event, durations at 48000 Hz */
	legs_open(f, &l, MEDIA_CODEC_PCMU, 0, MEDIA_CODEC_OPUS, 111);
	run_for(&f->loop, 100);
	seq = 1;
	digit_to_s1(f, &l, &seq, 8000, 1);
	digit_to_s1(f, &l, &seq, 9600, 2);
	assert_int_equal(l.c1.dtmf, 2);
	n = events_of(&l.p2, 101, ev, 20);
	assert_int_equal(n, 12);
	assert_digit_relayed(ev, 1, 6);
	assert_digit_relayed(ev + 6, 2, 6);
	/* the second event 100 ms later on s2's 48000 Hz clock */
	assert_in_range(ev[6].ts - ev[0].ts, 4800 - 2000, 4800 + 3000);
	legs_close(f, &l);
}

/* ---- a source over the bridge ----------------------------------------------------------- */

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

static void test_play_over_bridge(void **state)
{
	struct fx *f = *state;
	struct legs l;
	struct feeder fd;
	legs_open_fed(f, &l, &fd, 60);
	/* 300 ms of a tone on s2, 400 ms in (uuid_broadcast while bridged) */
	int destroyed = 0;
	struct play_at pa = {.s = l.s2, .src = sine_create(440, 2400, &destroyed)};
	timer_start(&f->loop, &pa.t, &pa, play_at_cb, 400, 0);
	run_for(&f->loop, 1400);
	assert_int_equal(l.c2.play_done, 1);
	assert_int_equal(l.c2.last_status, 0);
	assert_int_equal(destroyed, 1);

	static struct media__rtp r[200];
	size_t n = assert_one_sequence(&l.p2, r, 200);
	size_t tone_first = SIZE_MAX, tone = 0, before = 0, after = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_silence(&r[i], 0xff))
			continue;
		if (vary_index(&r[i], 60) >= 0) {
			if (tone_first == SIZE_MAX) {
				before++;
			} else {
				/* resumed once the tone ended, and only then */
				assert_int_equal(i >= tone_first + 15, true);
				if (after++ == 0)
					assert_true(r[i].marker);
			}
			continue;
		}
		/* the tone, exactly as G.711 codes it, 15 frames in a row */
		if (tone_first == SIZE_MAX) {
			tone_first = i;
			assert_true(r[i].marker);
		}
		assert_int_equal(i, tone_first + tone);
		for (size_t j = 0; j < 160; j++)
			assert_int_equal(r[i].payload[j], media__ulaw_from_linear(
							      sine_at(440, tone * 160 + j, 8000)));
		tone++;
	}
	assert_int_equal(tone, 15);
	assert_in_range(before, 12, 28);
	assert_in_range(after, 15, 45);
	/* every frame of the input went out but those the tone covered */
	assert_in_range(before + after, 60 - 18, 60 - 13);
	uv_close((uv_handle_t *)&pa.t, NULL);
	feeder_close(&fd);
	legs_close(f, &l);
}

/* ---- restart: relay ↔ transcode -------------------------------------------------------- */

static void test_restart_reevaluates(void **state)
{
	struct fx *f = *state;
	struct legs l;
	struct feeder fd;
	legs_open_fed(f, &l, &fd, 30);
	run_for(&f->loop, 700);
	assert_int_equal(stats_of(l.s2).packets_relayed, 30);

	/* a re-INVITE moves s2 to PCMA: transcoded now, each sample as it was */
	legs_recodec_s2(&l, MEDIA_CODEC_PCMA, 8);
	peer_reset(&l.p2);
	struct feeder fd2 = {.vary = true, .seq = 30, .ts = 30 * 160};
	feed_s1(f, &l, &fd2, 30);
	run_for(&f->loop, 800);
	static struct media__rtp r[200];
	size_t n = rtp_list(&l.p2, r, 200);
	size_t frames = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(r[i].pt, 8);
		if (is_silence(&r[i], 0xd5))
			continue;
		assert_true(alaw_vary_index(&r[i], 30) >= 0);
		frames++;
	}
	assert_in_range(frames, 28, 30);
	assert_int_equal(stats_of(l.s2).packets_relayed, 30);

	/* and back to PCMU: relayed again */
	legs_recodec_s2(&l, MEDIA_CODEC_PCMU, 0);
	struct feeder fd3 = {.vary = true, .seq = 60, .ts = 60 * 160};
	feed_s1(f, &l, &fd3, 20);
	run_for(&f->loop, 600);
	assert_int_equal(stats_of(l.s2).packets_relayed, 50);
	feeder_close(&fd);
	feeder_close(&fd2);
	feeder_close(&fd3);
	legs_close(f, &l);
}

/* ---- life cycle ---------------------------------------------------------------------- */

struct destroyer {
	struct media_stream *victim;
	int calls;
};

static void destroy_on_dtmf(void *arg, char digit, uint32_t ms)
{
	struct destroyer *d = arg;
	d->calls++;
	media_stream_destroy(d->victim);
}

static void test_destroy_while_bridged(void **state)
{
	struct fx *f = *state;
	struct legs l;
	struct feeder fd;
	legs_open_fed(f, &l, &fd, 50);
	run_for(&f->loop, 300);
	media_stream_destroy(l.s2);
	l.s2 = NULL;
	assert_null(media_stream_bridged(l.s1));
	assert_int_equal(media_engine_stream_count(f->eng), 1);
	peer_reset(&f->peer);
	run_for(&f->loop, 300);
	assert_only_silence(&f->peer, 10); /* s1 goes on, with silence */
	feeder_close(&fd);
	legs_close(f, &l);

	/* the receiving side's dtmf_cb destroys the bridged stream while the
	 * event it relays is still waiting to be sent */
	struct destroyer d = {0};
	struct media_stream_cbs cbs = {.dtmf_cb = destroy_on_dtmf, .arg = &d};
	legs_create(f, &l, &cbs, NULL);
	d.victim = l.s2;
	l.p1 = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	l.pp2 = params_of(l.p2.port, MEDIA_CODEC_PCMU, 0);
	legs_start(&l);
	assert_int_equal(media_stream_bridge(l.s2, l.s1), 0);
	uint16_t seq = 1;
	send_event(&f->peer, media_stream_port(l.s1), 101, &seq, 8000, 7, true, 800);
	run_for(&f->loop, 100);
	assert_int_equal(d.calls, 1);
	assert_null(media_stream_bridged(l.s1));
	struct media__rtp ev[4];
	assert_int_equal(events_of(&l.p2, 101, ev, 4), 1); /* sent before the end */
	send_event(&f->peer, media_stream_port(l.s1), 101, &seq, 8000, 7, true, 800);
	run_for(&f->loop, 50);
	l.s2 = NULL; /* destroyed by destroy_on_dtmf */
	legs_close(f, &l);
}

static void test_bridge_api(void **state)
{
	struct fx *f = *state;
	struct media_stream *a, *b, *c, *x;
	assert_int_equal(media_stream_create(&a, f->eng, &f->local, NULL), 0);
	assert_int_equal(media_stream_create(&b, f->eng, &f->local, NULL), 0);
	assert_int_equal(media_stream_create(&c, f->eng, &f->local, NULL), 0);
	struct media_engine *other;
	uint16_t base = (uint16_t)(test_port_base(4000) + 3850);
	assert_int_equal(media_engine_create(&other, &f->loop, base, (uint16_t)(base + 99)), 0);
	assert_int_equal(media_stream_create(&x, other, &f->local, NULL), 0);

	assert_int_equal(media_stream_bridge(a, a), -EINVAL);
	assert_int_equal(media_stream_bridge(a, NULL), -EINVAL);
	assert_int_equal(media_stream_bridge(NULL, b), -EINVAL);
	assert_int_equal(media_stream_bridge(a, x), -EINVAL);
	assert_null(media_stream_bridged(a));
	assert_null(media_stream_bridged(NULL));
	media_stream_unbridge(a); /* nothing */
	media_stream_unbridge(NULL);

	assert_int_equal(media_stream_bridge(a, b), 0);
	assert_int_equal(media_stream_bridge(a, b), 0); /* again: the same bridge */
	assert_ptr_equal(media_stream_bridged(b), a);
	/* bridging a bridged stream moves it */
	assert_int_equal(media_stream_bridge(c, a), 0);
	assert_ptr_equal(media_stream_bridged(a), c);
	assert_ptr_equal(media_stream_bridged(c), a);
	assert_null(media_stream_bridged(b));
	media_stream_unbridge(c);
	assert_null(media_stream_bridged(a));

	assert_int_equal(media_stream_bridge(a, b), 0);
	media_stream_destroy(x);
	int done = 0;
	media_engine_destroy(other, fx_done_cb, &done);
	run_out(&f->loop);
	assert_int_equal(done, 1);
	media_stream_destroy(c);
	media_stream_destroy(a);
	assert_null(media_stream_bridged(b));
	media_stream_destroy(b);
}

/* ---- sending DTMF ----------------------------------------------------------------------- */

struct digit_sent {
	uint8_t event;
	uint32_t ts;
	size_t first, last; /* packet indexes */
};

/* Checks each event's packets (RFC 4733 §2.5) and lists the events. */
static size_t check_events(const struct media__rtp *r, size_t n, uint8_t te_pt, uint32_t frame_ts,
			   uint32_t total, struct digit_sent *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].pt != te_pt)
			continue;
		struct media__te te;
		assert_int_equal(media__te_parse(&te, r[i].payload, r[i].payload_len), 0);
		assert_int_equal(te.volume, 10);
		if (k == 0 || r[i].ts != out[k - 1].ts) {
			assert_true(k < max);
			assert_true(r[i].marker);
			out[k++] =
			    (struct digit_sent){.event = te.event, .ts = r[i].ts, .first = i};
		} else {
			assert_false(r[i].marker);
		}
		struct digit_sent *d = &out[k - 1];
		assert_int_equal(te.event, d->event);
		size_t j = i - d->first; /* packets are consecutive: nothing else between */
		if (j > 0)
			assert_int_equal(r[i - 1].pt, te_pt);
		uint32_t grown = (uint32_t)(j + 1) * frame_ts;
		if (grown < total) {
			assert_false(te.end);
			assert_int_equal(te.duration, grown);
		} else {
			assert_true(te.end);
			assert_int_equal(te.duration, total);
		}
		d->last = i;
	}
	/* three end packets each, and nothing more */
	for (size_t e = 0; e < k; e++) {
		size_t packets = out[e].last - out[e].first + 1;
		assert_int_equal(packets, (total + frame_ts - 1) / frame_ts + 2);
	}
	return k;
}

/* Sends `digits` on s (each `ms` long), waits `wait_ms` and lists into r (600
 * packets) what s's far end, f->peer, heard meanwhile. */
static size_t dtmf_sent(struct fx *f, struct media_stream *s, const char *digits, uint32_t ms,
			uint64_t wait_ms, struct media__rtp *r)
{
	peer_reset(&f->peer);
	assert_int_equal(media_stream_send_dtmf(s, digits, ms), 0);
	run_for(&f->loop, wait_ms);
	return rtp_list(&f->peer, r, 600);
}

static void test_send_dtmf(void **state)
{
	struct fx *f = *state;
	struct counters c = {0};
	struct media_stream_cbs cbs = cbs_of(&c);
	struct media_stream *s;
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, &cbs), 0);
	assert_int_equal(media_stream_send_dtmf(s, "1", 0), -ENOTSUP); /* not started */
	struct media_stream_params p = params_of(f->peer.port, MEDIA_CODEC_PCMU, 0);
	assert_int_equal(media_stream_start(s, &p), 0);
	media_stream_play(s, sine_create(500, 0, NULL)); /* audio, not silence */
	run_for(&f->loop, 200);

	/* refused strings queue nothing */
	assert_int_equal(media_stream_send_dtmf(s, "12x", 0), -EINVAL);
	assert_int_equal(media_stream_send_dtmf(s, "1 2", 0), -EINVAL);
	assert_int_equal(media_stream_send_dtmf(s, NULL, 0), -EINVAL);
	assert_int_equal(media_stream_send_dtmf(NULL, "1", 0), -EINVAL);
	assert_int_equal(media_stream_send_dtmf(s, "", 0), 0);
	run_for(&f->loop, 100);
	static struct media__rtp r[600];
	size_t n = rtp_list(&f->peer, r, 600);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(r[i].pt, 0);

	assert_true(n > 0);
	uint32_t audio_ts = r[n - 1].ts;
	uint16_t audio_seq = r[n - 1].seq;
	peer_reset(&f->peer);
	assert_int_equal(media_stream_send_dtmf(s, "1", 100), 0);
	assert_int_equal(media_stream_send_dtmf(s, "#d", 0), 0); /* queued after, 100 ms too */
	run_for(&f->loop, 900);
	n = assert_one_sequence(&f->peer, r, 600); /* one SSRC and sequence space */
	struct digit_sent d[8];
	size_t k = check_events(r, n, 101, 160, 800, d, 8);
	assert_int_equal(k, 3);
	assert_int_equal(d[0].event, 1);
	assert_int_equal(d[1].event, 11);
	assert_int_equal(d[2].event, 15);
	/* the first event starts where the audio would have gone on */
	assert_int_equal(d[0].first, 0);
	assert_int_equal(r[0].seq, (uint16_t)(audio_seq + 1));
	assert_int_equal(d[0].ts, audio_ts + 160);
	for (size_t e = 1; e < k; e++) {
		/* 50 ms at least after the previous one ended, on the frame grid */
		uint32_t dts = d[e].ts - d[e - 1].ts;
		assert_true(dts >= 800 + 400);
		assert_true(dts <= 800 + 400 + 160);
		assert_int_equal(dts % 160, 0);
		/* nothing at all between events */
		assert_int_equal(d[e].first, d[e - 1].last + 1);
	}
	/* audio afterwards, starting a talkspurt, on the clock */
	size_t after = d[k - 1].last + 1;
	assert_true(after < n);
	assert_int_equal(r[after].pt, 0);
	assert_true(r[after].marker);
	assert_true(r[after].ts >= d[k - 1].ts + 800 + 400);
	struct media_stats st = stats_of(s);
	assert_int_equal(st.dtmf_out, 3);
	assert_true(st.packets_out >= n);

	/* pauses: 'w' 500 ms between two 40 ms digits */
	n = dtmf_sent(f, s, "4w5", 40, 1200, r);
	k = check_events(r, n, 101, 160, 320, d, 8);
	assert_int_equal(k, 2);
	uint32_t dts = d[1].ts - d[0].ts;
	assert_true(dts >= 320 + 400 + 4000);
	assert_true(dts <= 320 + 400 + 4000 + 160);
	/* shorter than 40 ms: 40 ms */
	n = dtmf_sent(f, s, "A", 10, 400, r);
	assert_int_equal(check_events(r, n, 101, 160, 320, d, 8), 1);

	/* the queue is bounded (and a refused call queues nothing) */
	char many[130];
	memset(many, '5', 129);
	many[129] = '\0';
	assert_int_equal(media_stream_send_dtmf(s, many, 40), -ENOSPC);
	many[128] = '\0';
	assert_int_equal(media_stream_send_dtmf(s, many, 40), 0);
	assert_int_equal(media_stream_send_dtmf(s, "5", 40), -ENOSPC);
	media_stream_destroy(s); /* with digits queued */
	run_out(&f->loop);

	/* without telephone-event */
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	p.te_pt = -1;
	assert_int_equal(media_stream_start(s, &p), 0);
	assert_int_equal(media_stream_send_dtmf(s, "1", 0), -ENOTSUP);
	media_stream_destroy(s);
	run_out(&f->loop);

	/* Opus: the 48000 Hz clock */
	assert_int_equal(media_stream_create(&s, f->eng, &f->local, NULL), 0);
	p = params_of(f->peer.port, MEDIA_CODEC_OPUS, 111);
	assert_int_equal(media_stream_start(s, &p), 0);
	n = dtmf_sent(f, s, "9", 0, 400, r);
	assert_int_equal(check_events(r, n, 101, 960, 4800, d, 8), 1);
	assert_int_equal(d[0].event, 9);
	media_stream_destroy(s);
}

/* DTMF sent on a bridged stream: the relayed audio waits for the digits. */
static void test_send_dtmf_bridged(void **state)
{
	struct fx *f = *state;
	struct legs l;
	struct feeder fd;
	legs_open_fed(f, &l, &fd, 50);
	run_for(&f->loop, 300);
	assert_int_equal(media_stream_send_dtmf(l.s2, "3", 100), 0);
	run_for(&f->loop, 800);
	static struct media__rtp r[200];
	size_t n = assert_one_sequence(&l.p2, r, 200);
	struct digit_sent d[2];
	assert_int_equal(check_events(r, n, 101, 160, 800, d, 2), 1);
	/* relayed before and after the digit, nothing else during it */
	assert_true(d[0].first > 0 && vary_index(&r[d[0].first - 1], 50) >= 0);
	size_t i = d[0].last + 1;
	while (i < n && is_silence(&r[i], 0xff))
		i++; /* the gap after the digit may see a frame of silence at most */
	assert_true(i <= d[0].last + 3);
	assert_true(i < n && vary_index(&r[i], 50) >= 0);
	assert_true(r[d[0].last + 1].marker);
	assert_true(r[i].ts > d[0].ts + 800);
	feeder_close(&fd);
	legs_close(f, &l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_relay_pcmu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay_taps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay_both_ways_unbridge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay_hold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transcode_pcmu_pcma, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transcode_overflow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transcode_g722_opus_ptime, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf_relay, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_play_over_bridge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_reevaluates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_while_bridged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bridge_api, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_dtmf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_dtmf_bridged, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
