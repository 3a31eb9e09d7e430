/*
 * media_source_speak with espeak-ng on a real loop: the speech is audible,
 * of a plausible length, at the rate asked for, cached by (voice, text,
 * rate), synthesized one job at a time, cancellable, and errors (unknown
 * voice, bad arguments) come back as they should.
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

#include "media/media.h"

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

static void run_until(uv_loop_t *loop, const int *counter, int want)
{
	uint64_t end = uv_hrtime() + 20000000000ull;
	while (*counter < want && uv_hrtime() < end)
		uv_run(loop, UV_RUN_ONCE);
	assert_true(*counter >= want);
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

static struct media_source *speak_ok(struct fixture *f, const char *text, const char *voice,
				     uint32_t rate)
{
	struct got g = {0};
	assert_int_equal(media_source_speak(f->lib, text, voice, rate, ready_cb, &g), 0);
	assert_int_equal(g.calls, 0);
	run_until(&f->loop, &g.calls, 1);
	assert_int_equal(g.err, 0);
	assert_non_null(g.src);
	return g.src;
}

/* Reads it all; returns the sample count and the RMS of 20 ms frames' loudest. */
static size_t measure(struct media_source *src, uint32_t rate, double *rms, double *loud_frac)
{
	int16_t frame[960];
	size_t n = 0, per = rate / 50, frames = 0, loud = 0;
	double sum = 0;
	for (;;) {
		size_t k = media_source_read(src, frame, per, rate);
		double e = 0;
		for (size_t i = 0; i < k; i++) {
			e += (double)frame[i] * frame[i];
			sum += (double)frame[i] * frame[i];
		}
		if (k) {
			frames++;
			if (sqrt(e / k) > 500)
				loud++;
		}
		n += k;
		if (k < per)
			break;
	}
	*rms = n ? sqrt(sum / n) : 0;
	*loud_frac = frames ? (double)loud / frames : 0;
	return n;
}

static void test_speak_audible(void **state)
{
	struct fixture *f = *state;
	const char *text = "Welcome to Iris X. Please enter your selection.";

	struct media_source *src = speak_ok(f, text, NULL, 8000);
	double rms, loud;
	size_t n = measure(src, 8000, &rms, &loud);
	media_source_destroy(src);
	/* Eight words: between 1.5 and 6 seconds, mostly voiced, clearly audible. */
	assert_in_range(n, 8000 * 3 / 2, 8000 * 6);
	assert_true(rms > 1000);
	assert_true(loud > 0.4);

	/* At 16 kHz: about the same duration, twice the samples. */
	src = speak_ok(f, text, NULL, 16000);
	size_t n16 = measure(src, 16000, &rms, &loud);
	media_source_destroy(src);
	/* espeak-ng's output varies by a few milliseconds between utterances. */
	assert_in_range(n16, 2 * n - 2 * n / 50, 2 * n + 2 * n / 50);
	assert_true(rms > 1000);

	/* A longer text takes longer. */
	src = speak_ok(f, "Yes.", "en-us", 8000);
	size_t short_n = measure(src, 8000, &rms, &loud);
	media_source_destroy(src);
	assert_true(short_n < n / 2);
	assert_true(short_n > 8000 / 10);
}

static void test_speak_cached(void **state)
{
	struct fixture *f = *state;
	struct media_library_stats st;
	struct got a = {0}, b = {0};

	assert_int_equal(media_source_speak(f->lib, "Goodbye.", NULL, 8000, ready_cb, &a), 0);
	assert_int_equal(media_source_speak(f->lib, "Goodbye.", NULL, 8000, ready_cb, &b), 0);
	run_until(&f->loop, &a.calls, 1);
	run_until(&f->loop, &b.calls, 1);
	assert_int_equal(a.err, 0);
	assert_int_equal(b.err, 0);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 1);
	size_t bytes = st.bytes;
	assert_true(bytes > 0);

	struct media_source *c = speak_ok(f, "Goodbye.", NULL, 8000);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 1);
	assert_int_equal(st.bytes, bytes);
	assert_true(st.hits >= 1);

	/* Another voice is another entry. */
	struct media_source *d = speak_ok(f, "Goodbye.", "de", 8000);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 2);

	media_source_destroy(a.src);
	media_source_destroy(b.src);
	media_source_destroy(c);
	media_source_destroy(d);
}

/* Several texts at once: synthesized one after the other, all answered. */
static void test_speak_concurrent(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = {"one", "two", "three", "four", "five", "six"};
	struct got g[ARRAY_LEN(texts)] = {{0}};
	int done = 0;

	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		assert_int_equal(media_source_speak(f->lib, texts[i], NULL, 8000, ready_cb, &g[i]),
				 0);
	/* Cancel one while it waits its turn. */
	media_source_open_cancel(f->lib, &g[4]);
	uint64_t end = uv_hrtime() + 20000000000ull;
	while (done < 5 && uv_hrtime() < end) {
		uv_run(&f->loop, UV_RUN_ONCE);
		done = 0;
		for (size_t i = 0; i < ARRAY_LEN(texts); i++)
			done += g[i].calls;
	}
	assert_int_equal(done, 5);
	assert_int_equal(g[4].calls, 0);
	struct media_library_stats st;
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 5); /* the abandoned one was never synthesized */
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		if (i == 4)
			continue;
		assert_int_equal(g[i].err, 0);
		media_source_destroy(g[i].src);
	}
}

static void test_speak_errors(void **state)
{
	struct fixture *f = *state;
	struct got g = {0};

	assert_int_equal(media_source_speak(f->lib, "", NULL, 8000, ready_cb, &g), -EINVAL);
	assert_int_equal(media_source_speak(f->lib, NULL, NULL, 8000, ready_cb, &g), -EINVAL);
	assert_int_equal(media_source_speak(f->lib, "hi", "bad voice!", 8000, ready_cb, &g),
			 -EINVAL);
	assert_int_equal(media_source_speak(f->lib, "hi", NULL, 100, ready_cb, &g), -EINVAL);
	char *big = malloc(5000);
	assert_non_null(big);
	memset(big, 'a', 4999);
	big[4999] = '\0';
	assert_int_equal(media_source_speak(f->lib, big, NULL, 8000, ready_cb, &g), -EINVAL);
	free(big);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(g.calls, 0);

	assert_int_equal(media_source_speak(f->lib, "hi", "no-such-voice", 8000, ready_cb, &g), 0);
	run_until(&f->loop, &g.calls, 1);
	assert_int_equal(g.err, -ENOENT);
	assert_null(g.src);

	/* Destroyed while synthesizing: the job completes into nothing. */
	struct got h = {0};
	assert_int_equal(media_source_speak(f->lib,
					    "This sentence is synthesized while the "
					    "library goes away.",
					    NULL, 8000, ready_cb, &h),
			 0);
	media_library_destroy(f->lib);
	f->lib = NULL;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(h.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_speak_audible, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_speak_cached, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_speak_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_speak_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
