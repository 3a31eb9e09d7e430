/*
 * Recording: the recorder's pairing and mixing of the two directions (mono
 * sum, saturation, stereo channels, lag filling, masking, rate conversion),
 * the writer thread's files (read back with libsndfile), the header kept
 * current while a file is open, and the start-up repair of WAV files cut
 * short; the one-direction recorder; Opus in Ogg files, whole and cut by
 * SIGKILL mid-way.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "media/media.h"

static char dir[256];
static struct media_record_writer *w;

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/irisx-test-record.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return media_record_writer_create(&w, 0);
}

static int teardown(void **state)
{
	media_record_writer_destroy(w);
	w = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* Closes every file (the writer restarts) and reads path back. */
static int16_t *read_back(const char *path, int *channels, sf_count_t *frames, int *rate)
{
	media_record_writer_destroy(w);
	assert_int_equal(media_record_writer_create(&w, 0), 0);
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	int16_t *pcm = calloc((size_t)info.frames * (size_t)info.channels + 1, sizeof(int16_t));
	assert_int_equal(sf_readf_short(sf, pcm, info.frames), info.frames);
	sf_close(sf);
	*channels = info.channels;
	*frames = info.frames;
	if (rate)
		*rate = info.samplerate;
	return pcm;
}

static void fill(int16_t *p, size_t n, int16_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = v;
}

static void test_mono_mix(void **state)
{
	char path[300];
	path_of(path, sizeof(path), "sub/dir/mono.wav"); /* directories are created */
	struct media_recorder *r;
	assert_int_equal(media_recorder_create(&r, w, path, 8000, false), 0);
	int16_t a[160], b[160];
	fill(a, 160, 1000);
	fill(b, 160, 2000);
	for (int i = 0; i < 10; i++) {
		media_recorder_rx(r, a, 160, 8000);
		media_recorder_tx(r, b, 160, 8000);
	}
	/* The far end loud, irisx loud: the sum saturates instead of wrapping. */
	fill(a, 160, 30000);
	fill(b, 160, 30000);
	media_recorder_tx(r, b, 160, 8000);
	media_recorder_rx(r, a, 160, 8000);
	fill(a, 160, -30000);
	fill(b, 160, -30000);
	media_recorder_rx(r, a, 160, 8000);
	media_recorder_tx(r, b, 160, 8000);
	assert_int_equal(media_recorder_frames(r), 1920);
	media_recorder_destroy(r);
	int ch, rate;
	sf_count_t n;
	int16_t *pcm = read_back(path, &ch, &n, &rate);
	assert_int_equal(ch, 1);
	assert_int_equal(rate, 8000);
	assert_int_equal(n, 1920);
	for (int i = 0; i < 1600; i++)
		assert_int_equal(pcm[i], 3000);
	for (int i = 1600; i < 1760; i++)
		assert_int_equal(pcm[i], 32767);
	for (int i = 1760; i < 1920; i++)
		assert_int_equal(pcm[i], -32768);
	free(pcm);
}

/* Stereo: the far end (caller) left, irisx right; frames of different sizes
 * on each side are paired sample by sample. */
static void test_stereo(void **state)
{
	char path[300];
	path_of(path, sizeof(path), "stereo.wav");
	struct media_recorder *r;
	assert_int_equal(media_recorder_create(&r, w, path, 8000, true), 0);
	int16_t a[240], b[160];
	for (int i = 0; i < 240; i++)
		a[i] = (int16_t)(i + 1);
	for (int k = 0; k < 2; k++) {
		media_recorder_rx(r, a, 240, 8000);
		for (int j = 0; j < 3; j++) {
			for (int i = 0; i < 160; i++)
				b[i] = (int16_t)(-(j * 160 + i) - 1);
			media_recorder_tx(r, b, 160, 8000);
		}
		media_recorder_rx(r, a, 240, 8000);
	}
	media_recorder_destroy(r);
	int ch;
	sf_count_t n;
	int16_t *pcm = read_back(path, &ch, &n, NULL);
	assert_int_equal(ch, 2);
	assert_int_equal(n, 960);
	for (int i = 0; i < 960; i++) {
		assert_int_equal(pcm[2 * i], (i % 240) + 1);
		assert_int_equal(pcm[2 * i + 1], -((i % 480) + 1));
	}
	free(pcm);
}

/* One direction silent (the far end stopped sending): past the lag, the
 * other is written with silence beside it; nothing waits forever. */
static void test_lag_and_mask(void **state)
{
	char path[300];
	path_of(path, sizeof(path), "lag.wav");
	struct media_recorder *r;
	assert_int_equal(media_recorder_create(&r, w, path, 8000, true), 0);
	int16_t b[160];
	fill(b, 160, 500);
	for (int i = 0; i < 25; i++)
		media_recorder_tx(r, b, 160, 8000);
	/* 4000 samples of tx alone: all but at most the lag are out already */
	assert_true(media_recorder_frames(r) >= 4000 - 8000 * MEDIA_RECORD_LAG_MS / 1000);
	assert_true(media_recorder_frames(r) < 4000);
	media_recorder_destroy(r);
	int ch;
	sf_count_t n;
	int16_t *pcm = read_back(path, &ch, &n, NULL);
	assert_int_equal(n, 4000);
	for (int i = 0; i < 4000; i++) {
		assert_int_equal(pcm[2 * i], 0);
		assert_int_equal(pcm[2 * i + 1], 500);
	}
	free(pcm);

	/* Masked: silence, and the time goes on; then 16 kHz audio into an
	 * 8 kHz recording (half as many samples). */
	path_of(path, sizeof(path), "mask.wav");
	assert_int_equal(media_recorder_create(&r, w, path, 8000, true), 0);
	media_recorder_tx(r, b, 160, 8000);
	media_recorder_rx(r, b, 160, 8000);
	media_recorder_mask(r, true);
	media_recorder_tx(r, b, 160, 8000);
	media_recorder_rx(r, b, 160, 8000);
	media_recorder_mask(r, false);
	int16_t wide[320];
	fill(wide, 320, 700);
	media_recorder_rx(r, wide, 320, 16000);
	media_recorder_tx(r, b, 160, 8000);
	media_recorder_destroy(r);
	pcm = read_back(path, &ch, &n, NULL);
	assert_int_equal(n, 480);
	for (int i = 0; i < 160; i++) {
		assert_int_equal(pcm[2 * i], 500);
		assert_int_equal(pcm[2 * i + 1], 500);
		assert_int_equal(pcm[2 * (160 + i)], 0);
		assert_int_equal(pcm[2 * (160 + i) + 1], 0);
		assert_int_equal(pcm[2 * (320 + i)], 700);
		assert_int_equal(pcm[2 * (320 + i) + 1], 500);
	}
	free(pcm);
}

static uint32_t le32_at(const char *path, long off)
{
	uint8_t b[4] = {0};
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	assert_int_equal(fread(b, 1, 4, f), 4);
	fclose(f);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le32_at(const char *path, long off, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b, 4, off), 4);
	close(fd);
}

/* Where the data chunk's size field is (a plain 44-byte header or longer). */
static long data_size_offset(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t buf[512];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t i = 12; i + 8 <= n; i++)
		if (memcmp(buf + i, "data", 4) == 0)
			return (long)i + 4;
	fail();
	return -1;
}

/* While a recording is open, its header follows the audio within about a
 * second: a process killed now leaves a readable file. */
static void test_header_kept_current(void **state)
{
	char path[300];
	path_of(path, sizeof(path), "open.wav");
	struct media_recorder *r;
	assert_int_equal(media_recorder_create(&r, w, path, 8000, false), 0);
	int16_t a[160];
	fill(a, 160, 1234);
	for (int i = 0; i < 50; i++) { /* one second, both ways */
		media_recorder_rx(r, a, 160, 8000);
		media_recorder_tx(r, a, 160, 8000);
	}
	usleep(1700 * 1000);
	long off = data_size_offset(path);
	assert_int_equal(le32_at(path, off), 8000 * 2);
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.frames, 8000);
	sf_close(sf);
	media_recorder_destroy(r);
}

static void test_repair(void **state)
{
	char path[300];
	path_of(path, sizeof(path), "cut/short.wav");
	struct media_recorder *r;
	assert_int_equal(media_recorder_create(&r, w, path, 8000, false), 0);
	int16_t a[160];
	fill(a, 160, 77);
	for (int i = 0; i < 100; i++) {
		media_recorder_rx(r, a, 160, 8000);
		media_recorder_tx(r, a, 160, 8000);
	}
	media_recorder_destroy(r);
	int ch;
	sf_count_t n;
	free(read_back(path, &ch, &n, NULL));
	assert_int_equal(n, 16000);
	assert_int_equal(media_wav_repair(path), 0); /* a whole file is left alone */

	/* What a kill leaves: the header of an earlier moment (sizes of 4000
	 * frames) and a last frame cut in half. */
	long off = data_size_offset(path);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 1), 0);
	put_le32_at(path, off, 8000);
	put_le32_at(path, 4, 8000 + (uint32_t)off - 4);
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (sf) {
		assert_int_equal(info.frames, 4000); /* the header's word, not the file's */
		sf_close(sf);
	}
	unsigned fixed = 0;
	char sub[300];
	path_of(sub, sizeof(sub), "cut");
	assert_int_equal(media_wav_repair_dir(dir, &fixed), 0);
	assert_int_equal(fixed, 1);
	memset(&info, 0, sizeof(info));
	sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.frames, 15999);
	int16_t back[16000];
	assert_int_equal(sf_readf_short(sf, back, 15999), 15999);
	for (int i = 0; i < 15999; i++)
		assert_int_equal(back[i], 154);
	sf_close(sf);
	assert_int_equal(le32_at(path, 4), (uint32_t)(st.st_size - 1 - 8));
	assert_int_equal(media_wav_repair(path), 0); /* now whole */

	/* Sizes of zero: killed before the first header rewrite. */
	put_le32_at(path, off, 0);
	put_le32_at(path, 4, 0);
	assert_int_equal(media_wav_repair(path), 1);
	assert_int_equal(le32_at(path, off), 15999 * 2);

	/* A clean file with a chunk after its data is whole: drop the half
	 * frame, then append a LIST chunk. */
	assert_int_equal(truncate(path, st.st_size - 2), 0);
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	fwrite("LIST\4\0\0\0abcd", 1, 12, f);
	fclose(f);
	put_le32_at(path, 4, (uint32_t)(st.st_size - 2 + 12 - 8));
	assert_int_equal(media_wav_repair(path), 0);
	assert_int_equal(le32_at(path, off), 15999 * 2);

	/* Not WAV files: refused, nothing written. */
	path_of(path, sizeof(path), "junk.wav");
	f = fopen(path, "wb");
	fputs("RIFF\0\0\0\0AVI LIST", f);
	fclose(f);
	assert_int_equal(media_wav_repair(path), -EBADMSG);
	f = fopen(path, "wb");
	fwrite("RIFF\0\0\0\0WAVEdata\0\0\0\0", 1, 20, f); /* data before any fmt */
	fclose(f);
	assert_int_equal(media_wav_repair(path), -EBADMSG);
	f = fopen(path, "wb");
	fwrite("RIFF\0\0\0\0WAVEfmt \xff\xff\xff\x7f", 1, 20, f); /* a chunk past the end */
	fclose(f);
	assert_int_equal(media_wav_repair(path), -EBADMSG);
	assert_int_equal(media_wav_repair_dir(dir, &fixed), 0); /* logged, not fatal */
	assert_int_equal(fixed, 0);
	path_of(path, sizeof(path), "none.wav");
	assert_int_equal(media_wav_repair(path), -ENOENT);
	path_of(path, sizeof(path), "no/such/dir");
	assert_int_equal(media_wav_repair_dir(path, &fixed), 0);
}

static void test_bad_args(void **state)
{
	struct media_recorder *r = NULL;
	assert_int_equal(media_recorder_create(&r, w, "", 8000, false), -EINVAL);
	assert_int_equal(media_recorder_create(&r, w, "/tmp/x.wav", 10, false), -EINVAL);
	assert_int_equal(media_recorder_create(&r, NULL, "/tmp/x.wav", 8000, false), -EINVAL);
	assert_null(r);
	/* A file that cannot be created: the writer logs it, the call goes on. */
	assert_int_equal(media_recorder_create(&r, w, "/proc/no/such.wav", 8000, false), 0);
	int16_t a[160] = {0};
	media_recorder_rx(r, a, 160, 8000);
	media_recorder_destroy(r);
}

/* Only the far end, mono: tx is ignored, nothing waits for it. */
static void test_rx_only(void **state)
{
	char path[300];
	path_of(path, sizeof(path), "rx.wav");
	struct media_recorder *r;
	assert_int_equal(media_recorder_create_rx(&r, w, path, 8000), 0);
	int16_t a[160], b[160], a16[320];
	fill(a, 160, 1000);
	fill(b, 160, 5000);
	fill(a16, 320, -700);
	for (int i = 0; i < 50; i++) {
		media_recorder_rx(r, a, 160, 8000);
		media_recorder_tx(r, b, 160, 8000);
		assert_int_equal(media_recorder_frames(r), (uint64_t)(i + 1) * 160);
	}
	/* another rate (a re-INVITE to a wideband codec) is converted */
	media_recorder_rx(r, a16, 320, 16000);
	assert_int_equal(media_recorder_frames(r), 8160);
	media_recorder_destroy(r);
	int ch, rate;
	sf_count_t n;
	int16_t *pcm = read_back(path, &ch, &n, &rate);
	assert_int_equal(ch, 1);
	assert_int_equal(rate, 8000);
	assert_int_equal(n, 8160);
	for (int i = 0; i < 8000; i++)
		assert_int_equal(pcm[i], 1000);
	for (int i = 8000; i < 8160; i++)
		assert_int_equal(pcm[i], -700);
	free(pcm);
	assert_int_equal(media_recorder_create_rx(&r, w, "", 8000), -EINVAL);
	assert_int_equal(media_recorder_create_rx(&r, NULL, path, 8000), -EINVAL);
}

static void sine(int16_t *p, size_t n, size_t *phase, uint32_t rate, double hz)
{
	for (size_t i = 0; i < n; i++, (*phase)++)
		p[i] = (int16_t)(8000 * sin(2 * M_PI * hz * (double)*phase / rate));
}

/* The best normalized correlation of got with a sine of hz over a few lags. */
static double sine_match(const int16_t *got, size_t n, uint32_t rate, double hz)
{
	double best = 0;
	for (size_t lag = 0; lag < (size_t)rate / 50 && lag < n; lag++) {
		double xy = 0, xx = 0, yy = 0;
		for (size_t i = lag; i < n; i++) {
			double x = got[i], y = sin(2 * M_PI * hz * (double)(i - lag) / rate);
			xy += x * y;
			xx += x * x;
			yy += y * y;
		}
		double c = xx > 0 ? xy / sqrt(xx * yy) : 0;
		if (c > best)
			best = c;
	}
	return best;
}

static void closed_cb(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
}

/* Opus in Ogg by the name: rates Opus takes, the file readable once the
 * writer said it closed it, with the audio that went in. */
static void test_ogg_opus(void **state)
{
	static const struct {
		const char *name;
		uint32_t rate, want_rate;
		bool stereo, tone; /* tone: compare the audio (an exact rate ratio) */
	} v[] = {
	    {"a.ogg", 8000, 8000, false, true},	   {"b.opus", 16000, 16000, true, false},
	    {"c.OGG", 11025, 12000, false, false}, {"d.opus", 32000, 48000, false, true},
	    {"e.ogg", 96000, 48000, false, true},  {"f.opus", 24000, 24000, false, true},
	};
	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
		char path[300];
		path_of(path, sizeof(path), v[k].name);
		struct media_recorder *r;
		assert_int_equal(media_recorder_create(&r, w, path, v[k].rate, v[k].stereo), 0);
		assert_int_equal(media_recorder_rate(r), v[k].want_rate);
		size_t frame = v[k].rate / 50, phase = 0;
		int16_t *buf = calloc(frame, sizeof(int16_t));
		for (int i = 0; i < 100; i++) { /* 2 s */
			sine(buf, frame, &phase, v[k].rate, 440);
			media_recorder_rx(r, buf, frame, v[k].rate);
			media_recorder_tx(r, buf, frame, v[k].rate);
		}
		free(buf);
		atomic_int closed = 0;
		assert_int_equal(media_recorder_close(r, closed_cb, &closed), 0);
		for (int i = 0; i < 500 && !atomic_load(&closed); i++)
			usleep(10000);
		assert_int_equal(atomic_load(&closed), 1);
		SF_INFO info = {0};
		SNDFILE *sf = sf_open(path, SFM_READ, &info);
		assert_non_null(sf);
		assert_int_equal(info.format, SF_FORMAT_OGG | SF_FORMAT_OPUS);
		assert_int_equal(info.channels, v[k].stereo ? 2 : 1);
		assert_int_equal(info.samplerate, (int)v[k].want_rate);
		/* 2 s, give or take the encoder's last frame (and the linear
		 * conversion's rounding per 20 ms block at 11025 Hz) */
		int64_t want = 2 * (int64_t)v[k].want_rate;
		assert_true(info.frames >= want - (int64_t)v[k].want_rate / 50 - 100);
		assert_true(info.frames <= want + (int64_t)v[k].want_rate / 50);
		int16_t *pcm = calloc((size_t)info.frames * (size_t)info.channels, sizeof(int16_t));
		assert_int_equal(sf_readf_short(sf, pcm, info.frames), info.frames);
		sf_close(sf);
		if (v[k].tone) /* lossy, but the same tone */
			assert_true(sine_match(pcm, (size_t)info.frames, v[k].want_rate, 440) > 0.9);
		free(pcm);
	}
}

/* A process killed (SIGKILL) while it records to Ogg leaves a file that
 * libsndfile opens and reads up to its last whole page. */
static void test_ogg_killed(void **state)
{
	char path[300];
	path_of(path, sizeof(path), "killed.ogg");
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct media_record_writer *cw;
		struct media_recorder *r;
		if (media_record_writer_create(&cw, 0) ||
		    media_recorder_create_rx(&r, cw, path, 16000))
			_exit(1);
		int16_t buf[320];
		size_t phase = 0;
		for (int i = 0; i < 175; i++) { /* 3.5 s */
			sine(buf, 320, &phase, 16000, 440);
			media_recorder_rx(r, buf, 320, 16000);
		}
		usleep(500 * 1000); /* the writer is done with what it got */
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause(); /* killed here, the file open */
		_exit(0);
	}
	close(ready[1]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 1);
	assert_int_equal(info.samplerate, 16000);
	/* pages go out at least every MEDIA_RECORD_OGG_PAGE_MS: at most that much is lost */
	int64_t sent = 56000, lost_max = 16000 * MEDIA_RECORD_OGG_PAGE_MS / 1000 + 320;
	int16_t *pcm = calloc((size_t)sent, sizeof(int16_t));
	sf_count_t n = sf_readf_short(sf, pcm, sent);
	sf_close(sf);
	assert_true(n >= sent - lost_max);
	assert_true(n <= sent);
	assert_true(sine_match(pcm, (size_t)n, 16000, 440) > 0.9);
	free(pcm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mono_mix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stereo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lag_and_mask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_kept_current, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ogg_opus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ogg_killed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
