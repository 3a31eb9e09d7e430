/*
 * Codecs: G.711 against ITU-T G.711's code words and reconstruction levels
 * (µ-law on the 14-bit scale ×4, A-law on the 13-bit scale ×8), its
 * quantization bounds and round trips; G.722 and Opus round trips that must
 * correlate with their input; the codec table; and end to end over loopback:
 * what a stream plays is what another stream decodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <opus/opus.h>

#include "test_media_rtp_util.h"

/* ---- G.711 ---------------------------------------------------------------------- */

struct g711_vector {
	int16_t linear;
	uint8_t code;
};

static void test_ulaw_vectors(void **state)
{
	/* G.711 table 2a (µ-law): 8031 is the largest reconstruction level (code
	 * 0x80 after the inversion of even bits... for µ-law all bits inverted),
	 * 0 is coded 0xFF (+0) and 0x7F (−0); decision level 31 separates
	 * segment 0 (levels 0..30, step 2) from segment 1 (33.., step 4). */
	static const struct g711_vector enc[] = {
	    {0, 0xff},	    {-1, 0x7f},	    {8, 0xfe},	      {-8, 0x7e},
	    {123, 0xf0},    {124, 0xef},    {-124, 0x6f},     {32767, 0x80},
	    {-32768, 0x00}, {32124, 0x80},  {8159 * 4, 0x80}, {4092, 0xaf},
	    {16764, 0x8f},  {-16764, 0x0f}, {1000, 0xce},     {-1000, 0x4e},
	};
	for (size_t i = 0; i < ARRAY_LEN(enc); i++) {
		uint8_t got = media__ulaw_from_linear(enc[i].linear);
		if (got != enc[i].code)
			fail_msg("ulaw(%d) = 0x%02x, want 0x%02x", enc[i].linear, got, enc[i].code);
	}
	static const struct g711_vector dec[] = {
	    {0, 0xff},	 {0, 0x7f}, {32124, 0x80}, {-32124, 0x00}, {132, 0xef},
	    {120, 0xf0}, {8, 0xfe}, {16764, 0x8f}, {4092, 0xaf},   {-988, 0x4e},
	};
	for (size_t i = 0; i < ARRAY_LEN(dec); i++)
		assert_int_equal(media__ulaw_to_linear(dec[i].code), dec[i].linear);
}

static void test_alaw_vectors(void **state)
{
	/* G.711 table 1a (A-law): even bits inverted (XOR 0x55); 4032 the largest
	 * level on the 13-bit scale; segments 0 and 1 both step 2, levels 1, 3 …
	 * then 33, 35 …; the negative side is offset by one (ones' complement). */
	static const struct g711_vector enc[] = {
	    {0, 0xd5},	   {-1, 0x55},	 {7, 0xd5},	{-8, 0x55},	{255, 0xda},
	    {256, 0xc5},   {-257, 0x45}, {32767, 0xaa}, {-32768, 0x2a}, {1000, 0xfa},
	    {-1000, 0x7a}, {4096, 0x85}, {-4097, 0x05},
	};
	for (size_t i = 0; i < ARRAY_LEN(enc); i++) {
		uint8_t got = media__alaw_from_linear(enc[i].linear);
		if (got != enc[i].code)
			fail_msg("alaw(%d) = 0x%02x, want 0x%02x", enc[i].linear, got, enc[i].code);
	}
	static const struct g711_vector dec[] = {
	    {8, 0xd5},	 {-8, 0x55},  {32256, 0xaa}, {-32256, 0x2a},
	    {264, 0xc5}, {248, 0xda}, {1008, 0xfa},  {4224, 0x85},
	};
	for (size_t i = 0; i < ARRAY_LEN(dec); i++)
		assert_int_equal(media__alaw_to_linear(dec[i].code), dec[i].linear);
}

/* Every 16-bit value: the error stays within half a step of its segment, the
 * coding is monotonic, and each code word survives decode → encode. */
static void test_g711_exhaustive(void **state)
{
	int16_t prev_u = INT16_MIN, prev_a = INT16_MIN;
	for (int32_t x = INT16_MIN; x <= INT16_MAX; x++) {
		int16_t u = media__ulaw_to_linear(media__ulaw_from_linear((int16_t)x));
		int16_t a = media__alaw_to_linear(media__alaw_from_linear((int16_t)x));
		assert_true(u >= prev_u);
		assert_true(a >= prev_a);
		prev_u = u;
		prev_a = a;
		int32_t mag = x < 0 ? -x : x;
		/* µ-law segment s covers [(33·2^s − 33)·4, (33·2^(s+1) − 33)·4), step 8·2^s */
		int32_t ustep = 8;
		while (ustep < 1024 && mag + 132 >= (ustep / 8) * 256)
			ustep *= 2;
		if (mag <= 32124 + 64) /* beyond the last level it clips */
			assert_true(abs(u - x) <= ustep / 2 + 4);
		/* A-law: step 16 in segments 0 and 1, doubling after */
		int32_t astep = mag < 512 ? 16 : 16 << (31 - __builtin_clz((unsigned)mag) - 8);
		if (mag <= 32256 + 512)
			assert_true(abs(a - x) <= astep / 2 + 8);
	}
	for (int c = 0; c < 256; c++) {
		if (c != 0x7f) /* −0 comes back as +0 */
			assert_int_equal(media__ulaw_from_linear(media__ulaw_to_linear((uint8_t)c)),
					 c);
		assert_int_equal(media__alaw_from_linear(media__alaw_to_linear((uint8_t)c)), c);
	}
	/* the buffer forms agree with the sample forms */
	int16_t pcm[256], back[256];
	uint8_t codes[256];
	for (int i = 0; i < 256; i++)
		pcm[i] = (int16_t)(i * 257 - 32768);
	media__ulaw_encode(codes, pcm, 256);
	media__ulaw_decode(back, codes, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(back[i], media__ulaw_to_linear(media__ulaw_from_linear(pcm[i])));
	media__alaw_encode(codes, pcm, 256);
	media__alaw_decode(back, codes, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(back[i], media__alaw_to_linear(media__alaw_from_linear(pcm[i])));
}

/* ---- the codec table ---------------------------------------------------------------- */

static void test_codec_table(void **state)
{
	enum media_codec_id id;
	assert_int_equal(media_codec_find(STR("pcmu"), &id), 0);
	assert_int_equal(id, MEDIA_CODEC_PCMU);
	assert_int_equal(media_codec_find(STR("OPUS"), &id), 0);
	assert_int_equal(id, MEDIA_CODEC_OPUS);
	assert_int_equal(media_codec_find(STR("G722"), &id), 0);
	assert_int_equal(id, MEDIA_CODEC_G722);
	assert_int_equal(media_codec_find(STR("G729"), &id), -ENOENT);
	assert_string_equal(media_codec_name(MEDIA_CODEC_PCMA), "PCMA");
	assert_int_equal(media_codec_static_pt(MEDIA_CODEC_PCMU), 0);
	assert_int_equal(media_codec_static_pt(MEDIA_CODEC_PCMA), 8);
	assert_int_equal(media_codec_static_pt(MEDIA_CODEC_G722), 9);
	assert_int_equal(media_codec_static_pt(MEDIA_CODEC_OPUS), -1);
	assert_int_equal(media_codec_audio_rate(MEDIA_CODEC_G722), 16000);
	assert_int_equal(media_codec_clock_rate(MEDIA_CODEC_G722), 8000);
	assert_int_equal(media_codec_audio_rate(MEDIA_CODEC_OPUS), 48000);
	assert_int_equal(media_codec_clock_rate(MEDIA_CODEC_OPUS), 48000);
	assert_int_equal(media_codec_audio_rate(MEDIA_CODEC_PCMA), 8000);
	assert_int_equal(media_codec_audio_rate((enum media_codec_id)9), 0);
	/* ptime rounding */
	assert_int_equal(media__codec_ptime(MEDIA_CODEC_PCMU, 0), 20);
	assert_int_equal(media__codec_ptime(MEDIA_CODEC_PCMU, 25), 30);
	assert_int_equal(media__codec_ptime(MEDIA_CODEC_PCMU, 3), 10);
	assert_int_equal(media__codec_ptime(MEDIA_CODEC_PCMU, 500), 120);
	assert_int_equal(media__codec_ptime(MEDIA_CODEC_OPUS, 30), 40);
	assert_int_equal(media__codec_ptime(MEDIA_CODEC_OPUS, 20), 20);
	assert_int_equal(media__codec_ptime(MEDIA_CODEC_OPUS, 120), 60);
}

/* ---- G.722 and Opus round trips --------------------------------------------------------- */

/* Three tones, so that only the right alignment correlates. */
static int16_t mix_at(uint64_t i, uint32_t rate)
{
	double t = (double)i / rate;
	return (int16_t)lrint(6000 * sin(2 * M_PI * 310 * t) + 4000 * sin(2 * M_PI * 1170 * t) +
			      3000 * sin(2 * M_PI * 2630 * t + 1.0));
}

/* The best normalized cross-correlation of y against x over lags 0..maxlag. */
static double best_corr(const int16_t *x, size_t nx, const int16_t *y, size_t ny, size_t maxlag,
			size_t *lag_out)
{
	double best = -1;
	for (size_t lag = 0; lag <= maxlag && lag < ny; lag++) {
		double sxy = 0, sxx = 0, syy = 0;
		size_t n = nx < ny - lag ? nx : ny - lag;
		for (size_t i = 0; i < n; i++) {
			sxy += (double)x[i] * y[i + lag];
			sxx += (double)x[i] * x[i];
			syy += (double)y[i + lag] * y[i + lag];
		}
		double c = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
		if (c > best) {
			best = c;
			if (lag_out)
				*lag_out = lag;
		}
	}
	return best;
}

static void round_trip(enum media_codec_id id, size_t frame, size_t frames, double min_corr)
{
	uint32_t rate = media_codec_audio_rate(id);
	struct media__codec enc, dec;
	assert_int_equal(media__encoder_init(&enc, id), 0);
	assert_int_equal(media__decoder_init(&dec, id), 0);
	int16_t *in = calloc(frame * frames, sizeof(int16_t));
	int16_t *out = calloc(frame * frames + MEDIA__FRAME_MAX, sizeof(int16_t));
	size_t nout = 0;
	for (size_t i = 0; i < frame * frames; i++)
		in[i] = mix_at(i, rate);
	for (size_t f = 0; f < frames; f++) {
		uint8_t payload[MEDIA__PAYLOAD_MAX];
		int n = media__codec_encode(&enc, in + f * frame, frame, payload, sizeof(payload));
		assert_true(n > 0);
		assert_int_equal(media__codec_payload_samples(id, payload, (size_t)n), (int)frame);
		int got =
		    media__codec_decode(&dec, payload, (size_t)n, out + nout, MEDIA__FRAME_MAX);
		assert_int_equal(got, (int)frame);
		nout += (size_t)got;
	}
	/* skip the codecs' start-up, compare the rest */
	size_t skip = frame * 5;
	size_t lag = 0;
	double c =
	    best_corr(in + skip, frame * (frames - 10), out + skip, nout - skip, rate / 50, &lag);
	if (c < min_corr)
		fail_msg("%s: correlation %.3f at lag %zu", media_codec_name(id), c, lag);
	media__codec_fini(&enc, true);
	media__codec_fini(&dec, false);
	free(in);
	free(out);
}

static void test_g722_round_trip(void **state)
{
	round_trip(MEDIA_CODEC_G722, 320, 50, 0.95);
	/* 160 bytes per 20 ms at 64 kbit/s */
	struct media__codec enc;
	assert_int_equal(media__encoder_init(&enc, MEDIA_CODEC_G722), 0);
	int16_t pcm[320] = {0};
	uint8_t out[400];
	assert_int_equal(media__codec_encode(&enc, pcm, 320, out, sizeof(out)), 160);
	media__codec_fini(&enc, true);
}

static void test_opus_round_trip(void **state)
{
	round_trip(MEDIA_CODEC_OPUS, 960, 50, 0.9);
	round_trip(MEDIA_CODEC_OPUS, 2880, 20, 0.9); /* 60 ms frames */
	/* a stereo packet decodes (downmixed) through the mono decoder */
	int err;
	OpusEncoder *st = opus_encoder_create(48000, 2, OPUS_APPLICATION_AUDIO, &err);
	assert_non_null(st);
	int16_t pcm[960 * 2];
	for (int i = 0; i < 960; i++)
		pcm[2 * i] = pcm[2 * i + 1] = mix_at((uint64_t)i, 48000);
	uint8_t payload[1500];
	int n = opus_encode(st, pcm, 960, payload, sizeof(payload));
	assert_true(n > 0);
	struct media__codec dec;
	assert_int_equal(media__decoder_init(&dec, MEDIA_CODEC_OPUS), 0);
	int16_t out[MEDIA__FRAME_MAX];
	assert_int_equal(media__codec_decode(&dec, payload, (size_t)n, out, MEDIA__FRAME_MAX), 960);
	media__codec_fini(&dec, false);
	opus_encoder_destroy(st);
	/* garbage is refused, not decoded */
	uint8_t junk[3] = {0xff, 0xff, 0xff};
	assert_true(media__codec_payload_samples(MEDIA_CODEC_OPUS, junk, 3) < 0);
}

/* ---- end to end: a stream plays, another decodes ------------------------------------------- */

struct mix_src {
	struct media_source base;
	uint64_t pos;
};

static size_t mix_read(struct media_source *src, int16_t *pcm, size_t samples, uint32_t rate)
{
	struct mix_src *m = (struct mix_src *)src;
	for (size_t i = 0; i < samples; i++)
		pcm[i] = mix_at(m->pos + i, rate);
	m->pos += samples;
	return samples;
}

static void mix_destroy(struct media_source *src)
{
	free(src);
}

static const struct media_source_ops mix_ops = {mix_read, mix_destroy};

struct sink {
	int16_t *pcm;
	size_t n, cap;
	uint32_t rate;
};

static void on_audio(void *arg, const int16_t *pcm, size_t samples, uint32_t rate)
{
	struct sink *k = arg;
	if (k->n + samples > k->cap) {
		k->cap = (k->n + samples) * 2;
		k->pcm = realloc(k->pcm, k->cap * sizeof(int16_t));
	}
	memcpy(k->pcm + k->n, pcm, samples * sizeof(int16_t));
	k->n += samples;
	k->rate = rate;
}

static void done_cb(void *arg)
{
	*(int *)arg = 1;
}

static void end_to_end(enum media_codec_id id, uint8_t pt)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	uint16_t base = test_port_base(4000);
	struct media_engine *eng;
	assert_int_equal(media_engine_create(&eng, &loop, base, (uint16_t)(base + 1999)), 0);
	struct net_addr ip = loop_addr(0);
	struct sink sink = {0};
	struct media_stream_cbs rx_cbs = {.audio_cb = on_audio, .arg = &sink};
	struct media_stream *a, *b;
	assert_int_equal(media_stream_create(&a, eng, &ip, NULL), 0);
	assert_int_equal(media_stream_create(&b, eng, &ip, &rx_cbs), 0);
	struct media_stream_params pa = {.remote = loop_addr(media_stream_port(b)),
					 .codec = id,
					 .pt = pt,
					 .ptime_ms = 20,
					 .te_pt = -1,
					 .dir = MEDIA_SENDONLY};
	struct media_stream_params pb = pa;
	pb.remote = loop_addr(media_stream_port(a));
	pb.dir = MEDIA_RECVONLY;
	struct mix_src *src = calloc(1, sizeof(*src));
	src->base.ops = &mix_ops;
	media_stream_play(a, &src->base); /* before start: the first packet carries sample 0 */
	assert_int_equal(media_stream_start(b, &pb), 0);
	assert_int_equal(media_stream_start(a, &pa), 0);
	run_for(&loop, 700);

	uint32_t rate = media_codec_audio_rate(id);
	assert_int_equal(sink.rate, rate);
	assert_true(sink.n >= rate / 2); /* 500 ms of it at least */
	if (id == MEDIA_CODEC_PCMU || id == MEDIA_CODEC_PCMA) {
		/* G.711 is exact: every sample is the source's, quantized */
		for (size_t i = 0; i < sink.n; i++) {
			int16_t x = mix_at(i, rate);
			int16_t want = id == MEDIA_CODEC_PCMU
					   ? media__ulaw_to_linear(media__ulaw_from_linear(x))
					   : media__alaw_to_linear(media__alaw_from_linear(x));
			if (sink.pcm[i] != want)
				fail_msg("sample %zu: %d, want %d", i, sink.pcm[i], want);
		}
	} else {
		size_t n = sink.n - rate / 10;
		int16_t *ref = calloc(n, sizeof(int16_t));
		for (size_t i = 0; i < n; i++)
			ref[i] = mix_at(i + rate / 20, rate);
		size_t lag = 0;
		double c = best_corr(ref, n - rate / 50, sink.pcm + rate / 20, n, rate / 50, &lag);
		if (c < 0.9)
			fail_msg("%s: correlation %.3f", media_codec_name(id), c);
		free(ref);
	}
	struct media_stats st;
	media_stream_stats(b, &st);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.packets_out, 0); /* recvonly */
	media_stream_destroy(a);
	media_stream_destroy(b);
	int done = 0;
	media_engine_destroy(eng, done_cb, &done);
	run_out(&loop);
	assert_int_equal(done, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(sink.pcm);
}

static void test_end_to_end(void **state)
{
	end_to_end(MEDIA_CODEC_PCMU, 0);
	end_to_end(MEDIA_CODEC_PCMA, 8);
	end_to_end(MEDIA_CODEC_G722, 9);
	end_to_end(MEDIA_CODEC_OPUS, 111);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ulaw_vectors),    cmocka_unit_test(test_alaw_vectors),
	    cmocka_unit_test(test_g711_exhaustive), cmocka_unit_test(test_codec_table),
	    cmocka_unit_test(test_g722_round_trip), cmocka_unit_test(test_opus_round_trip),
	    cmocka_unit_test(test_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
