/*
 * tone_stream:// and silence_stream://: the TGML parser (valid and malformed
 * scripts), and the audio generated — frequencies by Goertzel and zero
 * crossings, cadence timing to the sample, loops, volume, DTMF pairs, phase
 * continuity across reads — through the library on a real loop.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "media/media_play_int.h"

struct fixture {
	uv_loop_t loop;
	struct media_library *lib;
};

struct got {
	int calls;
	int err;
	struct media_source *src;
};

static void ready_cb(void *arg, struct media_source *src, int err)
{
	struct got *g = arg;
	g->calls++;
	g->err = err;
	g->src = src;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(media_library_create(&f->lib, &f->loop, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	media_library_destroy(f->lib);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

static struct media_source *open_ok(struct fixture *f, const char *spec, uint32_t rate)
{
	struct got g = {0};
	assert_int_equal(media_source_open(f->lib, spec, rate, ready_cb, &g), 0);
	assert_int_equal(g.calls, 0); /* never before open returns */
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.err, 0);
	assert_non_null(g.src);
	return g.src;
}

/* Reads up to `max` samples in frames of `frame`; returns how many came. */
static size_t read_all(struct media_source *src, int16_t *pcm, size_t max, size_t frame,
		       uint32_t rate)
{
	size_t n = 0;
	while (n < max) {
		size_t want = max - n < frame ? max - n : frame;
		size_t k = media_source_read(src, pcm + n, want, rate);
		n += k;
		if (k < want)
			break;
	}
	return n;
}

/* Relative power at `freq` (Goertzel), normalized by the block's energy. */
static double goertzel(const int16_t *x, size_t n, double freq, uint32_t rate)
{
	double w = 2 * M_PI * freq / rate, coeff = 2 * cos(w), s1 = 0, s2 = 0, energy = 0;
	for (size_t i = 0; i < n; i++) {
		double s = x[i] + coeff * s1 - s2;
		s2 = s1;
		s1 = s;
		energy += (double)x[i] * x[i];
	}
	double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
	return energy > 0 ? power / (energy * n / 2) : 0;
}

static size_t zero_crossings(const int16_t *x, size_t n)
{
	size_t z = 0;
	for (size_t i = 1; i < n; i++)
		if ((x[i - 1] < 0) != (x[i] < 0))
			z++;
	return z;
}

static int peak(const int16_t *x, size_t n)
{
	int p = 0;
	for (size_t i = 0; i < n; i++)
		p = abs(x[i]) > p ? abs(x[i]) : p;
	return p;
}

static bool all_zero(const int16_t *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (x[i])
			return false;
	return true;
}

/* ---- parsing ---------------------------------------------------------------- */

static void test_parse_valid(void **state)
{
	static struct media__tone_script s;
	assert_int_equal(media__tone_parse(STR("%(2000,4000,440,480);loops=-1"), &s), 0);
	assert_int_equal(s.nseg, 1);
	assert_int_equal(s.seg[0].on_ms, 2000);
	assert_int_equal(s.seg[0].off_ms, 4000);
	assert_int_equal(s.seg[0].nfreqs, 2);
	assert_true(s.seg[0].freqs[0] == 440 && s.seg[0].freqs[1] == 480);
	assert_int_equal(s.plays, -1);

	assert_int_equal(media__tone_parse(STR("%(100,100,1400)"), &s), 0);
	assert_int_equal(s.plays, 1);
	assert_true(s.seg[0].volume_db == -7.0f);

	/* '+' between frequencies, spaces, several tones in one piece. */
	assert_int_equal(media__tone_parse(STR(" %(500, 0, 350+440) %(250,250,620) ; "), &s), 0);
	assert_int_equal(s.nseg, 2);
	assert_int_equal(s.seg[0].nfreqs, 2);
	assert_true(s.seg[0].freqs[1] == 440);
	assert_int_equal(s.seg[1].off_ms, 250);

	/* Variables apply to what follows; L and loops multiply. */
	assert_int_equal(
	    media__tone_parse(STR("L=3;v=-20.5;d=100;w=50;l=2;12;%(10,0,1000);loops=4"), &s), 0);
	assert_int_equal(s.nseg, 3);
	assert_int_equal(s.plays, 12);
	assert_int_equal(s.seg[0].on_ms, 100);
	assert_int_equal(s.seg[0].off_ms, 50);
	assert_int_equal(s.seg[0].repeat, 2);
	assert_true(s.seg[0].volume_db == -20.5f);
	assert_true(s.seg[0].freqs[0] == 697 && s.seg[0].freqs[1] == 1209);
	assert_true(s.seg[1].freqs[0] == 697 && s.seg[1].freqs[1] == 1336);

	/* Digit with its own times; decay; FreeSWITCH's example. */
	assert_int_equal(media__tone_parse(STR("7(1000,500)"), &s), 0);
	assert_true(s.seg[0].on_ms == 1000 && s.seg[0].off_ms == 500);
	assert_true(s.seg[0].freqs[0] == 852 && s.seg[0].freqs[1] == 1209);
	assert_int_equal(media__tone_parse(STR("v=-7;>=2;+=.1;%(1400,0,350,440)"), &s), 0);
	assert_int_equal(s.seg[0].decay_dir, -1);
	assert_int_equal(s.seg[0].decay_ms, 2);
	assert_true(fabsf(s.seg[0].decay_db - 0.1f) < 1e-6f);
	assert_int_equal(media__tone_parse(STR("c=1;r=8000;#*AbCd0"), &s), 0);
	assert_int_equal(s.nseg, 7);
	assert_int_equal(media__tone_parse(STR("%(1000,0,0)"), &s), 0); /* 1 s of nothing */
	assert_int_equal(media__tone_parse(STR("%(0,100,440);LOOPS=0"), &s), 0);
	assert_int_equal(s.plays, 1);
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    ";;",
	    "v=-7",	  /* nothing to play */
	    "%(0,0,440)", /* nothing to play, forever would never end */
	    "%(0,0,440);loops=-1",
	    "%(100,100)", /* no frequency */
	    "%(100)",
	    "%()",
	    "%",
	    "%(100,100,440", /* unclosed */
	    "%(100,100,440,)",
	    "%(100,100,,440)",
	    "%(100,100,abc)",
	    "%(100,100,-440)",
	    "%(100,100,30000)", /* above what any rate carries */
	    "%(-1,100,440)",
	    "%(1e3,100,440)",
	    "%(100,100,440)x",
	    "%(100,100,1,2,3,4,5,6,7,8,9)", /* too many frequencies */
	    "%(99999999999,0,440)",
	    "%(3600001,0,440)",
	    "1(100)", /* a digit's times are on and off */
	    "1(100,100,440)",
	    "E",
	    "v=5;%(100,100,440)", /* volume above 0 dB */
	    "v=-64;%(100,100,440)",
	    "v=;%(100,100,440)",
	    "v=abc;%(100,100,440)",
	    "L=0;%(100,100,440)",
	    "L=-1;%(100,100,440)",
	    "l=0;%(100,100,440)",
	    "%(100,100,440);loops=-2",
	    "%(100,100,440);loops=x",
	    "%(100,100,440);loops=",
	    "q=1;%(100,100,440)",
	    "c=0;%(100,100,440)",
	    "r=100;%(100,100,440)",
	    "+=-1;%(100,100,440)",
	    "%(100,100,440);%(100,100,+)",
	};
	static struct media__tone_script s;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int r = media__tone_parse(str_from_cstr(bad[i]), &s);
		if (r != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* Too many tones for one script. */
	char many[4 * (MEDIA_TONE_MAX_SEGMENTS + 1) + 1];
	for (size_t i = 0; i < MEDIA_TONE_MAX_SEGMENTS + 1; i++)
		memcpy(many + 4 * i, "123;", 4);
	many[sizeof(many) - 1] = '\0';
	assert_int_equal(media__tone_parse(str_from_cstr(many), &s), -EINVAL);
}

/* Malformed specs are refused at open, and no callback runs. */
static void test_open_invalid(void **state)
{
	struct fixture *f = *state;
	struct got g = {0};
	assert_int_equal(media_source_open(f->lib, "tone_stream://%(100,100)", 8000, ready_cb, &g),
			 -EINVAL);
	assert_int_equal(media_source_open(f->lib, "tone_stream://", 8000, ready_cb, &g), -EINVAL);
	assert_int_equal(media_source_open(f->lib, "silence_stream://", 8000, ready_cb, &g),
			 -EINVAL);
	assert_int_equal(media_source_open(f->lib, "silence_stream://abc", 8000, ready_cb, &g),
			 -EINVAL);
	assert_int_equal(media_source_open(f->lib, "silence_stream://-2", 8000, ready_cb, &g),
			 -EINVAL);
	assert_int_equal(media_source_open(f->lib, "silence_stream://10,x", 8000, ready_cb, &g),
			 -EINVAL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(g.calls, 0);
}

/* ---- generation ----------------------------------------------------------------- */

static void test_single_frequency(void **state)
{
	struct fixture *f = *state;
	static int16_t pcm[16000];
	struct media_source *src = open_ok(f, "tone_stream://%(1000,0,440)", 8000);
	size_t n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, 8000); /* exactly one second, then the end */
	assert_int_equal(media_source_read(src, pcm, 160, 8000), 0);
	media_source_destroy(src);

	assert_in_range(zero_crossings(pcm, n), 878, 882); /* 440 Hz × 2 per cycle */
	assert_true(goertzel(pcm, n, 440, 8000) > 0.95);
	assert_true(goertzel(pcm, n, 480, 8000) < 0.01);
	/* Default volume -7 dB of full scale. */
	int want = (int)lrint(32767 * pow(10, -7 / 20.0));
	assert_in_range(peak(pcm, n), want - 10, want + 10);

	/* Same tone at 16 kHz: same frequency. */
	src = open_ok(f, "tone_stream://%(1000,0,440)", 16000);
	n = read_all(src, pcm, ARRAY_LEN(pcm), 320, 16000);
	assert_int_equal(n, 16000);
	assert_in_range(zero_crossings(pcm, n), 878, 882);
	assert_true(goertzel(pcm, n, 440, 16000) > 0.95);
	media_source_destroy(src);
}

/* US ringback: 440+480 for 2 s, 4 s silence, forever. */
static void test_ringback_cadence(void **state)
{
	struct fixture *f = *state;
	static int16_t pcm[8000 * 13];
	struct media_source *src = open_ok(f, "tone_stream://%(2000,4000,440,480);loops=-1", 8000);
	size_t n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, ARRAY_LEN(pcm)); /* still going after two cycles */
	media_source_destroy(src);

	for (int cycle = 0; cycle < 2; cycle++) {
		const int16_t *on = pcm + cycle * 48000, *off = on + 16000;
		assert_true(goertzel(on, 16000, 440, 8000) > 0.4);
		assert_true(goertzel(on, 16000, 480, 8000) > 0.4);
		assert_true(goertzel(on, 16000, 620, 8000) < 0.01);
		/* Sound up to the last sample of the on time, silence exactly after. */
		assert_false(all_zero(on + 16000 - 8, 8));
		assert_true(all_zero(off, 32000));
	}
	assert_false(all_zero(pcm + 96000, 8));
}

static void test_segments_and_loops(void **state)
{
	struct fixture *f = *state;
	static int16_t pcm[20000];

	/* 100 ms on, 100 ms off, three times: 4800 samples at 8 kHz. */
	struct media_source *src = open_ok(f, "tone_stream://%(100,100,1400);loops=3", 8000);
	size_t n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, 4800);
	for (int i = 0; i < 3; i++) {
		assert_in_range(zero_crossings(pcm + i * 1600, 800), 278, 282);
		assert_false(all_zero(pcm + i * 1600 + 790, 10));
		assert_true(all_zero(pcm + i * 1600 + 800, 800));
	}
	media_source_destroy(src);

	/* L= repeats the script too; l= repeats each tone. */
	src = open_ok(f, "tone_stream://L=2;l=3;%(10,10,1000);%(20,0,2000)", 8000);
	n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, 2 * (3 * 160 + 3 * 160));
	/* The second tone (2000 Hz) starts after three 20 ms repetitions. */
	assert_true(goertzel(pcm + 480, 160, 2000, 8000) > 0.9);
	assert_true(goertzel(pcm + 960 + 480, 160, 2000, 8000) > 0.9);
	assert_true(goertzel(pcm + 960, 80, 1000, 8000) > 0.9);
	media_source_destroy(src);

	/* DTMF digits with d= and w=. */
	src = open_ok(f, "tone_stream://d=100;w=50;1#", 8000);
	n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, 2 * 1200);
	assert_true(goertzel(pcm, 800, 697, 8000) > 0.4);
	assert_true(goertzel(pcm, 800, 1209, 8000) > 0.4);
	assert_true(all_zero(pcm + 800, 400));
	assert_true(goertzel(pcm + 1200, 800, 941, 8000) > 0.4);
	assert_true(goertzel(pcm + 1200, 800, 1477, 8000) > 0.4);
	media_source_destroy(src);
}

static void test_volume(void **state)
{
	struct fixture *f = *state;
	static int16_t pcm[8000];

	struct media_source *src = open_ok(f, "tone_stream://v=0;%(100,0,1000)", 8000);
	size_t n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, 800);
	assert_in_range(peak(pcm, n), 32700, 32767);
	media_source_destroy(src);

	src = open_ok(f, "tone_stream://v=-20;%(100,0,1000)", 8000);
	n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_in_range(peak(pcm, n), 3266, 3287);
	media_source_destroy(src);

	/* Two frequencies share the peak: the sum never clips. */
	src = open_ok(f, "tone_stream://v=0;%(1000,0,697,1209)", 8000);
	n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_true(peak(pcm, n) <= 32767 && peak(pcm, n) > 30000);
	media_source_destroy(src);

	/* Decay: 1 dB every 10 ms from 0 dB, floored at -63 dB. */
	src = open_ok(f, "tone_stream://v=0;>=10;+=1;%(1000,0,1000)", 8000);
	n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, 8000);
	assert_true(peak(pcm, 80) > 32000);
	int p = peak(pcm + 800, 80); /* about -10 dB after 100 ms */
	assert_in_range(p, 9500, 11000);
	assert_true(peak(pcm + 7900, 100) < 30); /* -63 dB */
	media_source_destroy(src);
}

/* The same tone read in odd pieces is the same tone: phase carries over. */
static void test_phase_continuity(void **state)
{
	struct fixture *f = *state;
	static int16_t whole[4000], pieces[4000], joined[4000];

	struct media_source *a = open_ok(f, "tone_stream://%(500,0,523.25)", 8000);
	assert_int_equal(read_all(a, whole, 4000, 4000, 8000), 4000);
	media_source_destroy(a);
	struct media_source *b = open_ok(f, "tone_stream://%(500,0,523.25)", 8000);
	assert_int_equal(read_all(b, pieces, 4000, 7, 8000), 4000);
	media_source_destroy(b);
	assert_memory_equal(whole, pieces, sizeof(whole));

	/* Two back-to-back tones with no silence are one continuous wave. */
	struct media_source *c = open_ok(f, "tone_stream://%(250,0,523.25);%(250,0,523.25)", 8000);
	assert_int_equal(read_all(c, joined, 4000, 160, 8000), 4000);
	media_source_destroy(c);
	for (size_t i = 0; i < 4000; i++)
		assert_true(abs(joined[i] - whole[i]) <= 1);

	/* And no jump where one frequency becomes another: 400 Hz stops 40.4
	 * cycles in, at 144°, and 200 Hz carries on from there. */
	struct media_source *d = open_ok(f, "tone_stream://v=0;%(101,0,400);%(100,0,200)", 8000);
	assert_int_equal(read_all(d, joined, 1608, 160, 8000), 1608);
	media_source_destroy(d);
	int max_step = 0;
	for (size_t i = 1; i < 1608; i++) {
		int step = abs(joined[i] - joined[i - 1]);
		max_step = step > max_step ? step : max_step;
	}
	/* A full-scale 400 Hz sine moves at most 2·sin(π·400/8000)·32767 ≈ 10252
	 * per sample; restarting at phase 0 would jump by about 19000. */
	assert_true(max_step < 10400);
}

/* A read at another rate than opened keeps the frequency and timing. */
static void test_rate_change(void **state)
{
	struct fixture *f = *state;
	static int16_t pcm[24000];
	struct media_source *src = open_ok(f, "tone_stream://%(1000,0,440)", 8000);
	size_t n = read_all(src, pcm, 4000, 160, 8000); /* half a second at 8 kHz */
	n += read_all(src, pcm + n, 20000, 320, 16000); /* the rest at 16 kHz */
	assert_int_equal(n, 4000 + 8000);
	assert_in_range(zero_crossings(pcm + 4000, 8000), 438, 442);
	media_source_destroy(src);
}

static void test_silence(void **state)
{
	struct fixture *f = *state;
	static int16_t pcm[100000];

	struct media_source *src = open_ok(f, "silence_stream://500", 8000);
	for (size_t i = 0; i < ARRAY_LEN(pcm); i++)
		pcm[i] = 1;
	size_t n = read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000);
	assert_int_equal(n, 4000);
	assert_true(all_zero(pcm, n));
	media_source_destroy(src);

	src = open_ok(f, "silence_stream://250,1400", 16000);
	assert_int_equal(read_all(src, pcm, ARRAY_LEN(pcm), 320, 16000), 4000);
	media_source_destroy(src);

	src = open_ok(f, "silence_stream://0", 8000);
	assert_int_equal(media_source_read(src, pcm, 160, 8000), 0);
	media_source_destroy(src);

	src = open_ok(f, "silence_stream://-1", 8000);
	for (size_t i = 0; i < ARRAY_LEN(pcm); i++)
		pcm[i] = 1;
	assert_int_equal(read_all(src, pcm, ARRAY_LEN(pcm), 160, 8000), ARRAY_LEN(pcm));
	assert_true(all_zero(pcm, ARRAY_LEN(pcm)));
	media_source_destroy(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test_setup_teardown(test_open_invalid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_single_frequency, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ringback_cadence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_segments_and_loops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_volume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_phase_continuity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silence, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
