/*
 * The media library with files, on a real libuv loop: WAVs written here with
 * libsndfile are decoded in the thread pool, mixed to mono, resampled and
 * played; asserts the audio (length, correlation with the expected signal),
 * the sharing and eviction of decoded PCM, errors through the callback,
 * deferral, cancellation, and destruction with work in flight (run under
 * ASan for the latter to mean anything).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>
#include <uv.h>

#include "media/media.h"

struct fixture {
	uv_loop_t loop;
	struct media_library *lib;
	char dir[64];
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

/* Runs the loop until *counter reaches want (5 s at most). */
static void run_until(uv_loop_t *loop, const int *counter, int want)
{
	uint64_t end = uv_hrtime() + 5000000000ull;
	while (*counter < want && uv_hrtime() < end)
		uv_run(loop, UV_RUN_ONCE);
	assert_true(*counter >= want);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/irisx-play-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(media_library_create(&f->lib, &f->loop, f->dir), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	media_library_destroy(f->lib);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static double wave2(double t, double f1, double f2)
{
	return sin(2 * M_PI * f1 * t) + sin(2 * M_PI * f2 * t);
}

/*
 * A WAV of `seconds` at `rate` with `channels`: channel 0 carries a sine at
 * f1, channel 1 one at f2, the others silence; amplitude `amp` each.
 */
static void write_wav(const char *path, int rate, int channels, double seconds, double f1,
		      double f2, double amp)
{
	SF_INFO info = {
	    .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	size_t frames = (size_t)(seconds * rate);
	short *buf = calloc(frames * (size_t)channels, sizeof(short));
	assert_non_null(buf);
	for (size_t i = 0; i < frames; i++) {
		double t = (double)i / rate;
		buf[i * channels] = (short)lrint(amp * sin(2 * M_PI * f1 * t));
		if (channels > 1)
			buf[i * channels + 1] = (short)lrint(amp * sin(2 * M_PI * f2 * t));
	}
	assert_int_equal(sf_writef_short(sf, buf, (sf_count_t)frames), (sf_count_t)frames);
	sf_close(sf);
	free(buf);
}

static char *path_in(struct fixture *f, const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return p;
}

/* Reads everything in 20 ms frames; returns the count, *out the samples. */
static size_t drain(struct media_source *src, uint32_t rate, int16_t **out)
{
	size_t frame = rate / 50, n = 0, cap = rate * 4;
	int16_t *pcm = malloc(cap * sizeof(*pcm));
	assert_non_null(pcm);
	for (;;) {
		if (n + frame > cap) {
			cap *= 2;
			pcm = realloc(pcm, cap * sizeof(*pcm));
			assert_non_null(pcm);
		}
		size_t k = media_source_read(src, pcm + n, frame, rate);
		n += k;
		if (k < frame)
			break;
	}
	*out = pcm;
	return n;
}

static struct media_source *open_ok(struct fixture *f, const char *spec, uint32_t rate)
{
	struct got g = {0};
	assert_int_equal(media_source_open(f->lib, spec, rate, ready_cb, &g), 0);
	assert_int_equal(g.calls, 0);
	run_until(&f->loop, &g.calls, 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.err, 0);
	assert_non_null(g.src);
	return g.src;
}

/* A 44.1 kHz stereo WAV plays at 8 kHz: right length, right waveform. */
static void test_wav_resampled(void **state)
{
	struct fixture *f = *state;
	write_wav(path_in(f, "two.wav"), 44100, 2, 1.0, 440, 1000, 12000);

	struct media_source *src = open_ok(f, "two.wav", 8000);
	int16_t *pcm;
	size_t n = drain(src, 8000, &pcm);
	assert_in_range(n, 8000 - 160, 8000 + 160);
	media_source_destroy(src);

	/* Mono is the average of the channels: 6000 × (sin 440 + sin 1000). */
	double xy = 0, xx = 0, yy = 0, xy1 = 0;
	for (size_t i = 0; i < n && i < 8000; i++) {
		double want = 6000 * wave2(i / 8000.0, 440, 1000);
		xy += want * pcm[i];
		xx += want * want;
		yy += (double)pcm[i] * pcm[i];
		if (i > 0)
			xy1 += want * pcm[i - 1];
	}
	double corr = xy / sqrt(xx * yy), corr_lag = xy1 / sqrt(xx * yy);
	assert_true(corr > 0.99);		     /* same shape, aligned to the sample */
	assert_true(corr_lag < 0.9);		     /* and not merely near it */
	assert_true(fabs(sqrt(yy / xx) - 1) < 0.05); /* same level */
	free(pcm);
}

/* Other rates and channel counts, and a rate above the file's. */
static void test_wav_formats(void **state)
{
	struct fixture *f = *state;
	write_wav(path_in(f, "mono8k.wav"), 8000, 1, 0.5, 1000, 0, 8000);
	write_wav(path_in(f, "six.wav"), 48000, 6, 0.25, 500, 700, 6000);

	struct media_source *src = open_ok(f, "mono8k.wav", 16000);
	int16_t *pcm;
	size_t n = drain(src, 16000, &pcm);
	assert_in_range(n, 8000 - 320, 8000 + 320);
	double xy = 0, xx = 0, yy = 0;
	for (size_t i = 0; i < n && i < 8000; i++) {
		double want = 8000 * sin(2 * M_PI * 1000 * i / 16000.0);
		xy += want * pcm[i];
		xx += want * want;
		yy += (double)pcm[i] * pcm[i];
	}
	assert_true(xy / sqrt(xx * yy) > 0.99);
	free(pcm);
	media_source_destroy(src);

	src = open_ok(f, path_in(f, "six.wav"), 8000); /* absolute path */
	n = drain(src, 8000, &pcm);
	assert_in_range(n, 2000 - 160, 2000 + 160);
	/* Six channels averaged: each sine at 1/6. */
	xy = xx = yy = 0;
	for (size_t i = 0; i < n && i < 2000; i++) {
		double want = 1000 * wave2(i / 8000.0, 500, 700);
		xy += want * pcm[i];
		xx += want * want;
		yy += (double)pcm[i] * pcm[i];
	}
	assert_true(xy / sqrt(xx * yy) > 0.99);
	assert_true(fabs(sqrt(yy / xx) - 1) < 0.05);
	free(pcm);
	media_source_destroy(src);
}

/* Two opens before any decode: one decode, PCM held once, two cursors. */
static void test_cache_shared(void **state)
{
	struct fixture *f = *state;
	struct media_library_stats st;
	write_wav(path_in(f, "w.wav"), 44100, 2, 1.0, 440, 1000, 12000);

	struct got a = {0}, b = {0};
	assert_int_equal(media_source_open(f->lib, "w.wav", 8000, ready_cb, &a), 0);
	assert_int_equal(media_source_open(f->lib, "w.wav", 8000, ready_cb, &b), 0);
	run_until(&f->loop, &b.calls, 1);
	run_until(&f->loop, &a.calls, 1);
	assert_int_equal(a.err, 0);
	assert_int_equal(b.err, 0);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.bytes, 8000 * sizeof(int16_t));

	/* Independent cursors over the same samples. */
	int16_t x[160], y[160];
	assert_int_equal(media_source_read(a.src, x, 160, 8000), 160);
	assert_int_equal(media_source_read(a.src, x, 160, 8000), 160);
	assert_int_equal(media_source_read(b.src, y, 160, 8000), 160);
	assert_int_equal(media_source_read(b.src, y, 160, 8000), 160);
	assert_memory_equal(x, y, sizeof(x));

	/* A third open while playing: a hit, still one copy. */
	struct media_source *c = open_ok(f, "w.wav", 8000);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 1);
	assert_true(st.hits >= 1);
	assert_int_equal(st.bytes, 8000 * sizeof(int16_t));

	/* Another rate is another entry. */
	struct media_source *d = open_ok(f, "w.wav", 16000);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 2);
	assert_int_equal(st.bytes, (8000 + 16000) * sizeof(int16_t));

	media_source_destroy(a.src);
	media_source_destroy(b.src);
	media_source_destroy(c);
	media_source_destroy(d);
	/* Unreferenced, still cached. */
	media_library_stats(f->lib, &st);
	assert_int_equal(st.entries, 2);
}

/* A thousand calls playing one prompt hold it once. */
static void test_cache_many(void **state)
{
	struct fixture *f = *state;
	enum { N = 1000 };
	write_wav(path_in(f, "welcome.wav"), 16000, 1, 2.0, 300, 0, 9000);

	struct got *g = calloc(N, sizeof(*g));
	assert_non_null(g);
	int done = 0;
	for (int i = 0; i < N; i++)
		assert_int_equal(media_source_open(f->lib, "welcome.wav", 8000, ready_cb, &g[i]),
				 0);
	uint64_t end = uv_hrtime() + 5000000000ull;
	while (done < N && uv_hrtime() < end) {
		uv_run(&f->loop, UV_RUN_ONCE);
		done = 0;
		for (int i = 0; i < N; i++)
			done += g[i].calls;
	}
	assert_int_equal(done, N);
	struct media_library_stats st;
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 1);
	assert_int_equal(st.bytes, 16000 * sizeof(int16_t));
	for (int i = 0; i < N; i++) {
		assert_int_equal(g[i].err, 0);
		media_source_destroy(g[i].src);
	}
	free(g);
}

/* Beyond the limit, the least recently used unplayed prompt goes. */
static void test_cache_evict(void **state)
{
	struct fixture *f = *state;
	struct media_library_stats st;
	const char *names[] = {"a.wav", "b.wav", "c.wav"};
	for (int i = 0; i < 3; i++)
		write_wav(path_in(f, names[i]), 8000, 1, 1.0, 400 + 100 * i, 0, 5000);
	media_library_set_cache_limit(f->lib, 2 * 16000 + 100); /* two 1 s prompts at 8 kHz */

	for (int i = 0; i < 3; i++)
		media_source_destroy(open_ok(f, names[i], 8000));
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 3);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.bytes, 2 * 16000);

	/* b and c are cached, a was evicted. */
	media_source_destroy(open_ok(f, "b.wav", 8000));
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 3);
	media_source_destroy(open_ok(f, "a.wav", 8000)); /* decoded again, evicts c */
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 4);
	media_source_destroy(open_ok(f, "b.wav", 8000));
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 4);

	/* What is playing is never evicted; it goes once nobody plays it. */
	struct media_source *s = open_ok(f, "b.wav", 8000);
	media_library_set_cache_limit(f->lib, 0);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.bytes, 16000);
	int16_t pcm[160];
	assert_int_equal(media_source_read(s, pcm, 160, 8000), 160);
	media_source_destroy(s);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);

	/* A prompt larger than the whole limit is refused. */
	media_library_set_cache_limit(f->lib, 1000);
	struct got g = {0};
	assert_int_equal(media_source_open(f->lib, "c.wav", 8000, ready_cb, &g), 0);
	run_until(&f->loop, &g.calls, 1);
	assert_int_equal(g.err, -EFBIG);
	assert_null(g.src);
}

static void expect_error(struct fixture *f, const char *spec, int err)
{
	struct got g = {0};
	assert_int_equal(media_source_open(f->lib, spec, 8000, ready_cb, &g), 0);
	assert_int_equal(g.calls, 0);
	run_until(&f->loop, &g.calls, 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.err, err);
	assert_null(g.src);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	expect_error(f, "missing.wav", -ENOENT);
	expect_error(f, "/nonexistent/dir/x.wav", -ENOENT);

	FILE *fp = fopen(path_in(f, "text.wav"), "w");
	assert_non_null(fp);
	fputs("this is not audio at all, not even a little\n", fp);
	fclose(fp);
	expect_error(f, "text.wav", -EBADMSG);

	assert_int_equal(mkdir(path_in(f, "sub"), 0700), 0);
	expect_error(f, "sub", -EISDIR);

	write_wav(path_in(f, "locked.wav"), 8000, 1, 0.1, 400, 0, 5000);
	assert_int_equal(chmod(path_in(f, "locked.wav"), 0), 0);
	if (geteuid() != 0) /* root reads it anyway */
		expect_error(f, "locked.wav", -EACCES);

	/* Failures are not cached: the file appears, the next open plays it. */
	write_wav(path_in(f, "missing.wav"), 8000, 1, 0.1, 400, 0, 5000);
	media_source_destroy(open_ok(f, "missing.wav", 8000));

	/* Refused at once, no callback. */
	struct got g = {0};
	assert_int_equal(media_source_open(f->lib, "", 8000, ready_cb, &g), -EINVAL);
	assert_int_equal(media_source_open(f->lib, "x.wav", 0, ready_cb, &g), -EINVAL);
	assert_int_equal(media_source_open(f->lib, "x.wav", 8000, NULL, &g), -EINVAL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(g.calls, 0);
}

/* Even a cache hit answers on a later turn of the loop. */
static void test_deferred(void **state)
{
	struct fixture *f = *state;
	write_wav(path_in(f, "d.wav"), 8000, 1, 0.2, 400, 0, 5000);
	media_source_destroy(open_ok(f, "d.wav", 8000));

	struct got g = {0};
	struct media_library_stats before, after;
	media_library_stats(f->lib, &before);
	assert_int_equal(media_source_open(f->lib, "d.wav", 8000, ready_cb, &g), 0);
	assert_int_equal(g.calls, 0);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(g.calls, 1);
	media_library_stats(f->lib, &after);
	assert_int_equal(after.hits, before.hits + 1);
	assert_int_equal(after.decodes, before.decodes);
	media_source_destroy(g.src);
}

/* A changed file is decoded again; the old PCM stays with its player. */
static void test_file_changed(void **state)
{
	struct fixture *f = *state;
	const char *p = path_in(f, "ch.wav");
	write_wav(p, 8000, 1, 0.5, 400, 0, 5000);
	struct media_source *old = open_ok(f, "ch.wav", 8000);

	write_wav(p, 8000, 1, 1.0, 400, 0, 5000);
	struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	usleep(1100 * 1000); /* past the revalidation window */
	uv_update_time(&f->loop);

	struct media_source *fresh = open_ok(f, "ch.wav", 8000);
	struct media_library_stats st;
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 2);
	int16_t *pcm;
	size_t n = drain(fresh, 8000, &pcm);
	assert_in_range(n, 8000 - 160, 8000 + 160);
	free(pcm);
	n = drain(old, 8000, &pcm);
	assert_in_range(n, 4000 - 160, 4000 + 160);
	free(pcm);
	media_source_destroy(old); /* the stale entry goes with it */
	media_source_destroy(fresh);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.bytes, 8000 * sizeof(int16_t));
}

/* Cancel: no callback for that arg, others unaffected, the decode cached. */
static void test_cancel(void **state)
{
	struct fixture *f = *state;
	write_wav(path_in(f, "long.wav"), 44100, 2, 10.0, 440, 1000, 10000);

	struct got a = {0}, b = {0}, t = {0};
	assert_int_equal(media_source_open(f->lib, "long.wav", 8000, ready_cb, &a), 0);
	assert_int_equal(media_source_open(f->lib, "long.wav", 8000, ready_cb, &b), 0);
	assert_int_equal(
	    media_source_open(f->lib, "tone_stream://%(100,100,400)", 8000, ready_cb, &t), 0);
	media_source_open_cancel(f->lib, &a);
	media_source_open_cancel(f->lib, &t);
	run_until(&f->loop, &b.calls, 1);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(a.calls, 0);
	assert_int_equal(t.calls, 0);
	assert_int_equal(b.err, 0);
	media_source_destroy(b.src);

	/* Cancelled while waiting for the decode. */
	write_wav(path_in(f, "long2.wav"), 44100, 2, 10.0, 440, 1000, 10000);
	struct got c = {0}, d = {0};
	struct media_library_stats st;
	assert_int_equal(media_source_open(f->lib, "long2.wav", 8000, ready_cb, &c), 0);
	uint64_t end = uv_hrtime() + 5000000000ull;
	do {
		uv_run(&f->loop, UV_RUN_ONCE);
		media_library_stats(f->lib, &st);
	} while (st.decodes < 2 && uv_hrtime() < end);
	assert_int_equal(st.decodes, 2);
	media_source_open_cancel(f->lib, &c);
	/* The decode finishes and is cached for the next caller. */
	assert_int_equal(media_source_open(f->lib, "long2.wav", 8000, ready_cb, &d), 0);
	run_until(&f->loop, &d.calls, 1);
	assert_int_equal(c.calls, 0);
	assert_int_equal(d.err, 0);
	media_library_stats(f->lib, &st);
	assert_int_equal(st.decodes, 2);
	media_source_destroy(d.src);
}

/* Reading at another rate than opened converts on the fly. */
static void test_rate_mismatch(void **state)
{
	struct fixture *f = *state;
	write_wav(path_in(f, "r.wav"), 8000, 1, 1.0, 400, 0, 5000);
	struct media_source *src = open_ok(f, "r.wav", 8000);
	int16_t *pcm;
	size_t n = drain(src, 16000, &pcm);
	assert_in_range(n, 16000 - 320, 16000 + 320);
	double xy = 0, xx = 0, yy = 0;
	for (size_t i = 0; i < n && i < 16000; i++) {
		double want = 5000 * sin(2 * M_PI * 400 * i / 16000.0);
		xy += want * pcm[i];
		xx += want * want;
		yy += (double)pcm[i] * pcm[i];
	}
	assert_true(xy / sqrt(xx * yy) > 0.99);
	free(pcm);
	media_source_destroy(src);
}

/* Destroy with a stat, a decode and a queued answer in flight. */
static void test_destroy_in_flight(void **state)
{
	struct fixture *f = *state;
	write_wav(path_in(f, "big.wav"), 44100, 2, 20.0, 440, 1000, 10000);
	write_wav(path_in(f, "small.wav"), 8000, 1, 0.5, 440, 0, 10000);
	struct media_source *kept = open_ok(f, "small.wav", 8000);

	struct got a = {0}, b = {0}, c = {0};
	assert_int_equal(media_source_open(f->lib, "big.wav", 8000, ready_cb, &a), 0);
	struct media_library_stats st;
	uint64_t end = uv_hrtime() + 5000000000ull;
	do {
		uv_run(&f->loop, UV_RUN_ONCE);
		media_library_stats(f->lib, &st);
	} while (st.decodes < 2 && uv_hrtime() < end);
	assert_int_equal(st.decodes, 2); /* big.wav is being decoded */
	assert_int_equal(media_source_open(f->lib, "big.wav", 16000, ready_cb, &b), 0); /* stat */
	assert_int_equal(media_source_open(f->lib, "silence_stream://100", 8000, ready_cb, &c), 0);

	media_library_destroy(f->lib);
	f->lib = NULL;
	uv_run(&f->loop, UV_RUN_DEFAULT); /* the work completes into nothing */
	assert_int_equal(a.calls + b.calls + c.calls, 0);

	/* A source outlives its library. */
	int16_t *pcm;
	size_t n = drain(kept, 8000, &pcm);
	assert_in_range(n, 4000 - 160, 4000 + 160);
	free(pcm);
	media_source_destroy(kept);
}

struct destroyer {
	struct fixture *f;
	int calls;
	struct got other;
};

static void destroy_cb(void *arg, struct media_source *src, int err)
{
	struct destroyer *d = arg;
	d->calls++;
	media_source_destroy(src);
	media_library_destroy(d->f->lib);
	d->f->lib = NULL;
}

/* The library destroyed from inside a ready callback, answers still queued. */
static void test_destroy_in_callback(void **state)
{
	struct fixture *f = *state;
	struct destroyer d = {.f = f};
	assert_int_equal(media_source_open(f->lib, "silence_stream://20", 8000, destroy_cb, &d), 0);
	assert_int_equal(media_source_open(f->lib, "silence_stream://20", 8000, ready_cb, &d.other),
			 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.other.calls, 0);
}

/* The default prompts: generated by the script, played by the library. */
static void test_default_prompts(void **state)
{
	struct fixture *f = *state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "bash '%s/scripts/make-prompts.sh' '%s' >/dev/null", SOURCE_DIR,
		 f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(access(path_in(f, ".stamp"), F_OK), 0);

	static const char *const names[] = {"welcome.wav",     "goodbye.wav",	   "invalid.wav",
					    "please_wait.wav", "enter_digits.wav", "echo.wav",
					    "digits/0.wav",    "digits/9.wav"};
	size_t lens[ARRAY_LEN(names)];
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		struct media_source *src = open_ok(f, names[i], 8000);
		int16_t *pcm;
		size_t n = drain(src, 8000, &pcm);
		media_source_destroy(src);
		double e = 0;
		for (size_t k = 0; k < n; k++)
			e += (double)pcm[k] * pcm[k];
		free(pcm);
		assert_true(n > 8000 / 5 && n < 8000 * 8); /* 0.2 to 8 s */
		assert_true(sqrt(e / n) > 500);		   /* spoken, not silence */
		lens[i] = n;
	}
	assert_true(lens[5] > 2 * lens[0]); /* the echo text is the longest */
	assert_true(lens[6] < lens[0]);	    /* a digit is short */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_wav_resampled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wav_formats, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_shared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_evict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_changed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_in_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_prompts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
