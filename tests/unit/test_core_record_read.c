/*
 * Recording what the caller says (channel_record_read.c): the far end's
 * audio, as the stream's rx tap hands it over, recorded until a limit of
 * recorded audio, a run of silent 20 ms frames, a terminator digit (taken
 * from the DTMF queue), channel_stop_media, a new operation or the hangup;
 * the results, the variables and RECORD_START / RECORD_STOP, and the file
 * read back with libsndfile.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sndfile.h>

#include "core/core_int.h"
#include "test_core_event_util.h"
#include "test_core_leg_util.h"

static struct test_core t;
static char dir[128];

static void spin_ms(uint64_t ms)
{
	uint64_t end = uv_now(&t.loop) + ms;
	do {
		uv_run(&t.loop, UV_RUN_NOWAIT);
		uv_sleep(1);
		uv_update_time(&t.loop);
	} while (uv_now(&t.loop) < end);
}

/* Runs the loop until the operation's callback ran (the writer answers from
 * its thread), 2 s at most. */
static void wait_done(struct test_done *d, int calls)
{
	for (int i = 0; i < 2000 && d->calls < calls; i++)
		spin_ms(1);
	assert_int_equal(d->calls, calls);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/irisx-test-rread.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	test_core_open(&t);
	core_set_router(t.core, &(struct core_router){.route_cb = test_park_route_cb});
	return core_recordings_open(t.core, dir);
}

static int teardown(void **state)
{
	test_core_close(&t);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* n 20 ms frames of 8 kHz audio at a constant level into the rx tap */
static void say(struct channel *ch, int frames, int16_t level)
{
	int16_t pcm[160];
	for (int i = 0; i < 160; i++)
		pcm[i] = (int16_t)(i % 2 ? level : -level); /* mean absolute value: level */
	for (int i = 0; i < frames; i++)
		core__record_tap_rx(ch, pcm, 160, 8000);
}

static sf_count_t frames_of(const char *path, int *channels, int *format)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	sf_close(sf);
	if (channels)
		*channels = info.channels;
	if (format)
		*format = info.format;
	return info.frames;
}

struct rec_events {
	char names[512];
	char path[4096];
};

static void events_cb(void *arg, struct core_event *ev)
{
	struct rec_events *e = arg;
	const char *name = core_event_name(ev);
	if (strncmp(name, "RECORD_", 7) != 0)
		return;
	size_t n = strlen(e->names);
	snprintf(e->names + n, sizeof(e->names) - n, "%s;", name);
	snprintf(e->path, sizeof(e->path), "%s", core_event_header(ev, "Record-File-Path"));
}

static void test_limit(void **state)
{
	struct rec_events ev;
	memset(&ev, 0, sizeof(ev));
	struct core_sub *sub;
	assert_int_equal(core_subscribe(t.core, events_cb, &ev, &sub), 0);
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0};
	struct channel_record_read r = {.limit_ms = 1000, .silence_ms = 0};

	assert_int_equal(channel_record_read(a, "msg/lim.wav", &r, test_done_cb, &d), 0);
	assert_string_equal(ev.names, "RECORD_START;");
	char want[300];
	snprintf(want, sizeof(want), "%s/recordings/msg/lim.wav", dir);
	assert_string_equal(r.path, want);
	assert_string_equal(ev.path, want);
	assert_int_equal(r.rate, 8000);
	say(a, 30, 3000);
	spin_ms(20);
	assert_int_equal(d.calls, 0);
	say(a, 30, 3000); /* past the limit: only what fits is recorded */
	say(a, 10, 3000);
	wait_done(&d, 1);
	assert_int_equal(d.status, 0);
	assert_int_equal(r.end, CHANNEL_RECORD_END_LIMIT);
	assert_int_equal(r.samples, 8000);
	assert_int_equal(r.ms, 1000);
	assert_int_equal(r.terminator, '\0');
	assert_string_equal(channel_var(a, "record_ms"), "1000");
	assert_string_equal(channel_var(a, "record_seconds"), "1");
	assert_string_equal(channel_var(a, "record_samples"), "8000");
	assert_null(channel_var(a, "playback_terminator_used"));
	assert_string_equal(ev.names, "RECORD_START;RECORD_STOP;");
	/* closed before the callback: the file is whole */
	int channels;
	assert_int_equal(frames_of(want, &channels, NULL), 8000);
	assert_int_equal(channels, 1);
	/* the tap is off again: audio now goes nowhere */
	say(a, 10, 3000);
	assert_int_equal(r.samples, 8000);
	core_unsubscribe(sub);

	/* one left running: the shutdown (teardown) ends it with the call */
	static struct channel_record_read left;
	static struct test_done left_done;
	memset(&left, 0, sizeof(left));
	memset(&left_done, 0, sizeof(left_done));
	assert_int_equal(channel_record_read(a, "left.opus", &left, test_done_cb, &left_done), 0);
	say(a, 5, 3000);
}

static void test_silence(void **state)
{
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0};
	struct channel_record_read r = {.silence_ms = 500, .limit_ms = 60000};

	assert_int_equal(channel_record_read(a, "quiet.wav", &r, test_done_cb, &d), 0);
	say(a, 50, 3000); /* 1 s of speech */
	say(a, 15, 150);  /* 300 ms under the default threshold (200) */
	say(a, 1, 250);	  /* one frame above: the run starts again */
	say(a, 24, 0);	  /* 480 ms: not yet */
	spin_ms(20);
	assert_int_equal(d.calls, 0);
	say(a, 1, 199); /* the 500th ms */
	say(a, 20, 0);	/* after the end: not recorded */
	wait_done(&d, 1);
	assert_int_equal(d.status, 0);
	assert_int_equal(r.end, CHANNEL_RECORD_END_SILENCE);
	assert_int_equal(r.samples, (50 + 15 + 1 + 25) * 160);
	assert_int_equal(r.ms, 1820);
	assert_string_equal(channel_var(a, "record_seconds"), "1");

	/* a threshold of its own: 1000 makes the speech above silent */
	struct channel_record_read r2 = {.silence_ms = 100, .silence_threshold = 1000};
	assert_int_equal(channel_record_read(a, "quiet2.wav", &r2, test_done_cb, &d), 0);
	say(a, 10, 999);
	wait_done(&d, 2);
	assert_int_equal(r2.end, CHANNEL_RECORD_END_SILENCE);
	assert_int_equal(r2.samples, 5 * 160);
}

/* A far end that goes quiet on the wire (no RTP): the missing time is
 * silence, and the limit holds on the clock. */
static void test_no_audio(void **state)
{
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0};
	struct channel_record_read r = {.silence_ms = 400, .limit_ms = 60000};

	assert_int_equal(channel_record_read(a, "muted.wav", &r, test_done_cb, &d), 0);
	say(a, 10, 3000); /* 200 ms of speech, then nothing arrives */
	uint64_t start = uv_now(&t.loop);
	wait_done(&d, 1);
	assert_int_equal(r.end, CHANNEL_RECORD_END_SILENCE);
	assert_int_equal(r.ms, 200);
	assert_int_equal(r.sound_ms, 200);
	assert_true(uv_now(&t.loop) - start >= 400 - 20);

	struct channel_record_read r2 = {.limit_ms = 300};
	assert_int_equal(channel_record_read(a, "muted2.wav", &r2, test_done_cb, &d), 0);
	start = uv_now(&t.loop);
	wait_done(&d, 2);
	assert_int_equal(r2.end, CHANNEL_RECORD_END_LIMIT);
	assert_int_equal(r2.ms, 0);
	assert_int_equal(r2.sound_ms, 0);
	assert_true(uv_now(&t.loop) - start >= 300);
}

static void test_terminator(void **state)
{
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0};
	struct channel_record_read r = {.terminators = "#*"};

	/* typed ahead: taken, as FreeSWITCH's record takes the queue */
	channel_dtmf_receive(a, '1', 100, CORE_DTMF_RTP);
	assert_int_equal(channel_record_read(a, "term.wav", &r, test_done_cb, &d), 0);
	assert_int_equal(channel_dtmf_queued(a), 0);
	say(a, 25, 3000);
	channel_dtmf_receive(a, '5', 100, CORE_DTMF_RTP); /* not a terminator: taken, ignored */
	assert_int_equal(channel_dtmf_queued(a), 0);
	spin_ms(20);
	assert_int_equal(d.calls, 0);
	channel_dtmf_receive(a, '#', 100, CORE_DTMF_RTP);
	say(a, 5, 3000); /* between the digit and the end: not recorded */
	channel_dtmf_receive(a, '7', 100, CORE_DTMF_RTP);
	wait_done(&d, 1);
	assert_int_equal(d.status, 0);
	assert_int_equal(r.end, CHANNEL_RECORD_END_TERMINATOR);
	assert_int_equal(r.terminator, '#');
	assert_int_equal(r.samples, 25 * 160);
	assert_string_equal(channel_var(a, "playback_terminator_used"), "#");
	/* the terminator was consumed; the digit after it waits for the next reader */
	assert_int_equal(channel_dtmf_queued(a), 1);
	char c;
	assert_int_equal(channel_dtmf_pop(a, &c), 0);
	assert_int_equal(c, '7');
	assert_int_equal(frames_of(r.path, NULL, NULL), 25 * 160);

	/* a typed-ahead terminator ends it at once */
	channel_dtmf_receive(a, '*', 100, CORE_DTMF_RTP);
	struct channel_record_read r2 = {.terminators = "*"};
	assert_int_equal(channel_record_read(a, "term2.wav", &r2, test_done_cb, &d), 0);
	assert_int_equal(d.calls, 1); /* never before it returns */
	wait_done(&d, 2);
	assert_int_equal(r2.end, CHANNEL_RECORD_END_TERMINATOR);
	assert_int_equal(r2.samples, 0);
}

static void test_stop_and_new_op(void **state)
{
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0}, s = {0};
	struct channel_record_read r = {.limit_ms = 5000};

	assert_int_equal(channel_record_read(a, "stop.wav", &r, test_done_cb, &d), 0);
	say(a, 10, 3000);
	channel_stop_media(a);
	say(a, 10, 3000); /* stopped: no longer recorded */
	assert_int_equal(r.end, CHANNEL_RECORD_END_STOPPED);
	assert_int_equal(r.samples, 1600);
	assert_string_equal(channel_var(a, "record_samples"), "1600");
	wait_done(&d, 1);
	assert_int_equal(d.status, -ECANCELED);

	/* another operation takes over */
	struct channel_record_read r2 = {0};
	assert_int_equal(channel_record_read(a, "stop2.ogg", &r2, test_done_cb, &d), 0);
	say(a, 50, 3000);
	assert_int_equal(channel_sleep(a, 10, test_done_cb, &s), 0);
	wait_done(&d, 2);
	assert_int_equal(d.status, -ECANCELED);
	assert_int_equal(r2.end, CHANNEL_RECORD_END_STOPPED);
	assert_int_equal(r2.samples, 8000);
	wait_done(&s, 1);
	assert_int_equal(s.status, 0);
	/* a stop between the end found and its run: the results stand, the
	 * callback hears the stop */
	struct channel_record_read r3 = {.limit_ms = 100};
	assert_int_equal(channel_record_read(a, "stop3.wav", &r3, test_done_cb, &d), 0);
	say(a, 6, 3000);
	channel_stop_media(a);
	wait_done(&d, 3);
	assert_int_equal(d.status, -ECANCELED);
	assert_int_equal(r3.end, CHANNEL_RECORD_END_LIMIT);
	assert_int_equal(r3.samples, 800);

	/* the Opus file is closed by the writer soon after */
	int format = 0;
	sf_count_t n = 0;
	for (int i = 0; i < 200 && n == 0; i++) {
		spin_ms(5);
		SF_INFO info = {0};
		SNDFILE *sf = sf_open(r2.path, SFM_READ, &info);
		if (sf) {
			n = info.frames;
			format = info.format;
			sf_close(sf);
		}
	}
	assert_int_equal(format, SF_FORMAT_OGG | SF_FORMAT_OPUS);
	assert_true(n > 8000 - 160 && n <= 8000 + 160);
}

/* The variables as the callback sees them (the channel is freed after). */
static char hung_ms[32];

static void hangup_done_cb(struct channel *ch, void *arg, int status)
{
	const char *v = channel_var(ch, "record_ms");
	snprintf(hung_ms, sizeof(hung_ms), "%s", v ? v : "(none)");
	test_done_cb(ch, arg, status);
}

static void test_hangup_and_refusals(void **state)
{
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0};
	struct channel_record_read r = {.silence_ms = 1000};

	assert_int_equal(channel_record_read(NULL, "x.wav", &r, test_done_cb, &d), -EINVAL);
	assert_int_equal(channel_record_read(a, NULL, &r, test_done_cb, &d), -EINVAL);
	assert_int_equal(channel_record_read(a, "", &r, test_done_cb, &d), -EINVAL);
	assert_int_equal(channel_record_read(a, "../x.wav", &r, test_done_cb, &d), -EINVAL);
	assert_int_equal(channel_record_read(a, "x.wav", NULL, test_done_cb, &d), -EINVAL);
	struct channel_record_read loud = {.silence_threshold = 40000};
	assert_int_equal(channel_record_read(a, "x.wav", &loud, test_done_cb, &d), -EINVAL);
	/* the path of a recording of the call already */
	assert_int_equal(channel_record_start(a, "both.wav", 0), 0);
	assert_int_equal(channel_record_read(a, "both.wav", &r, test_done_cb, &d), -EEXIST);
	assert_int_equal(d.calls, 0);

	/* record_session and record hear the far end together */
	assert_int_equal(channel_record_read(a, "hang.wav", &r, hangup_done_cb, &d), 0);
	assert_int_equal(channel_record_start(a, "hang.wav", 0), -EEXIST);
	say(a, 20, 3000);
	/* (its end sets the same variables: stopped first, so that the hangup's are ours) */
	assert_int_equal(channel_record_stop(a, "both.wav"), 0);
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	struct channel_record_read late = {0};
	assert_int_equal(channel_record_read(a, "late.wav", &late, test_done_cb, &d), -ESHUTDOWN);
	wait_done(&d, 1); /* the channel is gone after this */
	assert_int_equal(d.status, -ECANCELED);
	assert_int_equal(r.end, CHANNEL_RECORD_END_HANGUP);
	assert_int_equal(r.samples, 3200);
	assert_string_equal(hung_ms, "400");
	spin_ms(50);
	char both[300];
	snprintf(both, sizeof(both), "%s/recordings/both.wav", dir);
	assert_true(frames_of(both, NULL, NULL) >= 3200);
	assert_int_equal(frames_of(r.path, NULL, NULL), 3200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_audio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_terminator, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_and_new_op, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hangup_and_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
