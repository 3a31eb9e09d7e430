/*
 * In-band DTMF detection (dtmf_detect.c): tone pairs made by spandsp's own
 * generator (and by hand, for the rates above 8 kHz) come out as the right
 * digits with about their duration; silence, a single tone and speech-like
 * noise give none; the rates that are not multiples of 8000 are refused.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <spandsp.h>

#include "media/media.h"

struct got {
	char digits[64];
	uint32_t ms[64];
	size_t n;
};

static void digit_cb(void *arg, char digit, uint32_t ms)
{
	struct got *g = arg;
	if (g->n < 63) {
		g->ms[g->n] = ms;
		g->digits[g->n++] = digit;
		g->digits[g->n] = '\0';
	}
}

static const struct {
	char d;
	int lo, hi;
} pairs[] = {{'1', 697, 1209}, {'2', 697, 1336}, {'3', 697, 1477}, {'A', 697, 1633},
	     {'4', 770, 1209}, {'5', 770, 1336}, {'6', 770, 1477}, {'B', 770, 1633},
	     {'7', 852, 1209}, {'8', 852, 1336}, {'9', 852, 1477}, {'C', 852, 1633},
	     {'*', 941, 1209}, {'0', 941, 1336}, {'#', 941, 1477}, {'D', 941, 1633}};

/* Appends `ms` of digit d's pair (each tone at -10 dBFS), or silence for 0. */
static size_t tone(int16_t *out, uint32_t rate, char d, uint32_t ms, double extra_hz)
{
	size_t n = (size_t)rate * ms / 1000;
	int lo = 0, hi = 0;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (pairs[i].d == d) {
			lo = pairs[i].lo;
			hi = pairs[i].hi;
		}
	double a = 32767 * pow(10, -10 / 20.0);
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / rate, v = 0;
		if (lo)
			v = a * (sin(2 * M_PI * lo * t) + sin(2 * M_PI * hi * t));
		if (extra_hz > 0)
			v = a * sin(2 * M_PI * extra_hz * t);
		out[i] = (int16_t)v;
	}
	return n;
}

static void test_all_digits_8k(void **state)
{
	struct media_dtmf_detector *det;
	struct got g = {0};
	int16_t *buf = calloc(8000 * 20, sizeof(*buf));
	size_t n = 0;
	assert_non_null(buf);
	assert_int_equal(media_dtmf_detector_create(&det, 8000, digit_cb, &g), 0);
	n += tone(buf + n, 8000, 0, 200, 0);
	for (size_t i = 0; i < 16; i++) {
		n += tone(buf + n, 8000, pairs[i].d, 100, 0);
		n += tone(buf + n, 8000, 0, 100, 0);
	}
	/* fed in packet-sized pieces, as the media path does */
	for (size_t off = 0; off < n; off += 160)
		media_dtmf_detector_feed(det, buf + off, n - off < 160 ? n - off : 160);
	assert_string_equal(g.digits, "123A456B789C*0#D");
	for (size_t i = 0; i < g.n; i++)
		assert_true(g.ms[i] >= 60 && g.ms[i] <= 140);
	media_dtmf_detector_destroy(det);
	free(buf);
}

static void test_spandsp_generator(void **state)
{
	struct media_dtmf_detector *det;
	struct got g = {0};
	int16_t buf[160];
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	assert_non_null(tx);
	assert_int_equal(dtmf_tx_put(tx, "90*#", -1), 0);
	assert_int_equal(media_dtmf_detector_create(&det, 8000, digit_cb, &g), 0);
	for (int i = 0; i < 100; i++) {
		int len = dtmf_tx(tx, buf, 160);
		if (len < 160)
			memset(buf + len, 0, (160 - (size_t)len) * sizeof(int16_t));
		media_dtmf_detector_feed(det, buf, 160);
	}
	assert_string_equal(g.digits, "90*#");
	media_dtmf_detector_destroy(det);
	dtmf_tx_free(tx);
}

static void test_wide_rates(void **state)
{
	static const uint32_t rates[] = {16000, 48000};
	for (size_t r = 0; r < 2; r++) {
		struct media_dtmf_detector *det;
		struct got g = {0};
		uint32_t rate = rates[r];
		int16_t *buf = calloc((size_t)rate * 2, sizeof(*buf));
		size_t n = 0;
		assert_non_null(buf);
		assert_int_equal(media_dtmf_detector_create(&det, rate, digit_cb, &g), 0);
		assert_int_equal(media_dtmf_detector_rate(det), rate);
		n += tone(buf + n, rate, 0, 100, 0);
		n += tone(buf + n, rate, '5', 120, 0);
		n += tone(buf + n, rate, 0, 100, 0);
		n += tone(buf + n, rate, '#', 120, 0);
		n += tone(buf + n, rate, 0, 100, 0);
		media_dtmf_detector_feed(det, buf, n);
		assert_string_equal(g.digits, "5#");
		media_dtmf_detector_destroy(det);
		free(buf);
	}
}

static void test_nothing_from_other_sounds(void **state)
{
	struct media_dtmf_detector *det;
	struct got g = {0};
	int16_t *buf = calloc(8000 * 3, sizeof(*buf));
	size_t n = 0;
	assert_non_null(buf);
	assert_int_equal(media_dtmf_detector_create(&det, 8000, digit_cb, &g), 0);
	n += tone(buf + n, 8000, 0, 500, 0);   /* silence */
	n += tone(buf + n, 8000, 0, 500, 697); /* one tone of a pair alone */
	n += tone(buf + n, 8000, 0, 500, 440); /* a dial tone */
	srand(7);
	for (size_t i = 0; i < 8000; i++) /* noise */
		buf[n++] = (int16_t)((rand() % 16000) - 8000);
	media_dtmf_detector_feed(det, buf, n);
	assert_int_equal(g.n, 0);
	media_dtmf_detector_feed(det, NULL, 10); /* ignored */
	media_dtmf_detector_destroy(det);
	media_dtmf_detector_destroy(NULL);
	free(buf);
}

static void test_refusals(void **state)
{
	struct media_dtmf_detector *det = NULL;
	struct got g = {0};
	assert_int_equal(media_dtmf_detector_create(&det, 11025, digit_cb, &g), -EINVAL);
	assert_int_equal(media_dtmf_detector_create(&det, 4000, digit_cb, &g), -EINVAL);
	assert_int_equal(media_dtmf_detector_create(&det, 8000, NULL, &g), -EINVAL);
	assert_null(det);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_digits_8k), cmocka_unit_test(test_spandsp_generator),
	    cmocka_unit_test(test_wide_rates),	  cmocka_unit_test(test_nothing_from_other_sounds),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
