/*
 * Received DTMF in the core (channel_dtmf.c, dtmf.c): SIP INFO bodies
 * (application/dtmf-relay, application/dtmf, malformed ones), the DTMF
 * event's headers, the bounded per-channel queue, digit collection
 * (max, terminators, timeouts, typed-ahead digits), barge-in on a playing
 * prompt, a bridged leg's digits going to the other leg by its dtmf_type,
 * and in-band detection turned on and off.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_int.h"
#include "test_core_event_util.h"
#include "test_core_leg_util.h"

static struct test_core t;

/* ---- INFO bodies ---- */

struct info_vec {
	const char *ct, *body;
	int rc;
	char digit;
	uint32_t ms;
};

static void test_info_parse(void **state)
{
	static const struct info_vec v[] = {
	    {"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 0, '5', 160},
	    {"application/dtmf-relay", "Signal=#\nDuration=100", 0, '#', 100},
	    {"Application/DTMF-Relay;charset=x", " signal = * \r\n duration = 90 \r\n", 0, '*', 90},
	    {"application/dtmf-relay", "Signal=11\r\n", 0, '#', 0},
	    {"application/dtmf-relay", "Signal=10\r\n", 0, '*', 0},
	    {"application/dtmf-relay", "Signal=12\r\n", 0, 'A', 0},
	    {"application/dtmf-relay", "Signal=d\r\nDuration=0\r\n", 0, 'D', 0},
	    {"application/dtmf-relay", "Junk\r\nX=1\r\nSignal=0\r\n", 0, '0', 0},
	    {"application/dtmf", "7", 0, '7', 0},
	    {"application/dtmf", " 11\r\n", 0, '#', 0},
	    {" application/dtmf ", "b", 0, 'B', 0},
	    /* malformed */
	    {"application/dtmf-relay", "", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Duration=100\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=55\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=16\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=E\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=1\r\nSignal=2\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=1\r\nDuration=-5\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=1\r\nDuration=60001\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=1\r\nDuration=1\r\nDuration=2\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf-relay", "Signal=1\r\nDuration=99999999999\r\n", -EBADMSG, 0, 0},
	    {"application/dtmf", "", -EBADMSG, 0, 0},
	    {"application/dtmf", "12", 0, 'A', 0}, /* an event code */
	    {"application/dtmf", "123", -EBADMSG, 0, 0},
	    {"application/dtmf", "16", -EBADMSG, 0, 0},
	    {"application/dtmf", "x", -EBADMSG, 0, 0},
	    /* not ours */
	    {"text/plain", "Signal=1", -ENOTSUP, 0, 0},
	    {"", "Signal=1", -ENOTSUP, 0, 0},
	    {"application/dtmf-relayx", "Signal=1", -ENOTSUP, 0, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		char d = 0;
		uint32_t ms = 99;
		int rc =
		    core_dtmf_info_parse(str_from_cstr(v[i].ct), str_from_cstr(v[i].body), &d, &ms);
		if (rc != v[i].rc)
			fail_msg("vector %zu (%s): rc %d, expected %d", i, v[i].body, rc, v[i].rc);
		if (rc == 0) {
			assert_int_equal(d, v[i].digit);
			assert_int_equal(ms, v[i].ms);
		}
	}
	/* a body that is not NUL-terminated is read to its length only */
	char d;
	uint32_t ms;
	const char buf[] = "Signal=4\r\nDuration=12345";
	assert_int_equal(core_dtmf_info_parse(STR("application/dtmf-relay"),
					      str_make(buf, sizeof(buf) - 1 - 3), &d, &ms),
			 0);
	assert_int_equal(d, '4');
	assert_int_equal(ms, 12);
	assert_string_equal(core_dtmf_source_name(CORE_DTMF_RTP), "RTP");
	assert_string_equal(core_dtmf_source_name(CORE_DTMF_INFO), "ENDPOINT");
	assert_string_equal(core_dtmf_source_name(CORE_DTMF_INBAND), "INBAND_AUDIO");
}

/* ---- the channel side ---- */

struct seen {
	char digits[256];
	char sources[1024];
	char durations[1024];
};

static void seen_cb(void *arg, struct core_event *ev)
{
	struct seen *s = arg;
	if (strcmp(core_event_name(ev), "DTMF") != 0)
		return;
	size_t n = strlen(s->digits);
	s->digits[n] = core_event_header(ev, "DTMF-Digit")[0];
	s->digits[n + 1] = '\0';
	n = strlen(s->sources);
	snprintf(s->sources + n, sizeof(s->sources) - n, "%s;",
		 core_event_header(ev, "DTMF-Source"));
	n = strlen(s->durations);
	snprintf(s->durations + n, sizeof(s->durations) - n, "%s;",
		 core_event_header(ev, "DTMF-Duration"));
}

static void spin_ms(uint64_t ms)
{
	uint64_t end = uv_now(&t.loop) + ms;
	do {
		uv_run(&t.loop, UV_RUN_ONCE);
		uv_update_time(&t.loop);
	} while (uv_now(&t.loop) < end);
}

static void spin(void)
{
	for (int i = 0; i < 20; i++)
		uv_run(&t.loop, UV_RUN_NOWAIT);
}

static int setup(void **state)
{
	test_core_open(&t);
	core_set_router(t.core, &(struct core_router){.route_cb = test_park_route_cb});
	return 0;
}

static int teardown(void **state)
{
	test_core_close(&t);
	return 0;
}

static void test_queue_and_events(void **state)
{
	struct seen s = {0};
	struct core_sub *sub;
	assert_int_equal(core_subscribe(t.core, seen_cb, &s, &sub), 0);
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	char d;

	assert_int_equal(channel_dtmf_pop(a, &d), -EAGAIN);
	assert_int_equal(channel_dtmf_queued(a), 0);
	channel_dtmf_receive(a, '1', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(a, '#', 250, CORE_DTMF_INFO);
	channel_dtmf_receive(a, '9', 80, CORE_DTMF_INBAND);
	assert_string_equal(s.digits, "1#9");
	assert_string_equal(s.sources, "RTP;ENDPOINT;INBAND_AUDIO;");
	assert_string_equal(s.durations, "800;2000;640;"); /* 8 kHz samples */
	assert_int_equal(channel_dtmf_queued(a), 3);
	assert_int_equal(channel_dtmf_pop(a, &d), 0);
	assert_int_equal(d, '1');
	channel_dtmf_flush(a);
	assert_int_equal(channel_dtmf_queued(a), 0);
	assert_int_equal(channel_dtmf_pop(a, &d), -EAGAIN);

	/* bounded: past CORE_DTMF_QUEUE the newest are dropped, in order kept */
	for (int i = 0; i < CORE_DTMF_QUEUE + 10; i++)
		channel_dtmf_receive(a, (char)('0' + i % 10), 100, CORE_DTMF_RTP);
	assert_int_equal(channel_dtmf_queued(a), CORE_DTMF_QUEUE);
	for (int i = 0; i < CORE_DTMF_QUEUE; i++) {
		assert_int_equal(channel_dtmf_pop(a, &d), 0);
		assert_int_equal(d, '0' + i % 10);
	}
	assert_int_equal(channel_dtmf_pop(a, &d), -EAGAIN);
	/* the ring wraps correctly */
	channel_dtmf_receive(a, '5', 100, CORE_DTMF_RTP);
	assert_int_equal(channel_dtmf_pop(a, &d), 0);
	assert_int_equal(d, '5');

	/* a hung-up channel takes nothing */
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	size_t before = strlen(s.digits);
	channel_dtmf_receive(a, '7', 100, CORE_DTMF_RTP);
	assert_int_equal(strlen(s.digits), before);
	core_unsubscribe(sub);
}

static void test_collect(void **state)
{
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0};
	struct channel_collect c = {.max = 4, .terminators = "#", .first_timeout_ms = 5000};

	/* typed ahead: the queue's digits count, a terminator ends it */
	channel_dtmf_receive(a, '1', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(a, '2', 100, CORE_DTMF_RTP);
	assert_int_equal(channel_collect_digits(a, &c, test_done_cb, &d), 0);
	assert_int_equal(d.calls, 0); /* never before it returns */
	channel_dtmf_receive(a, '#', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(a, '3', 100, CORE_DTMF_RTP); /* after: stays queued */
	spin();
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_string_equal(c.digits, "12");
	assert_int_equal(c.count, 2);
	assert_int_equal(c.terminator, '#');
	assert_int_equal(channel_dtmf_queued(a), 1);

	/* max digits end it, the queue's digit first */
	assert_int_equal(channel_collect_digits(a, &c, test_done_cb, &d), 0);
	channel_dtmf_receive(a, '4', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(a, '5', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(a, '6', 100, CORE_DTMF_RTP);
	spin();
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.status, 0);
	assert_string_equal(c.digits, "3456");
	assert_int_equal(c.terminator, '\0');

	/* the first timeout with nothing, then the inter-digit one */
	struct channel_collect c2 = {.max = 8, .first_timeout_ms = 60, .digit_timeout_ms = 200};
	assert_int_equal(channel_collect_digits(a, &c2, test_done_cb, &d), 0);
	spin_ms(150);
	assert_int_equal(d.calls, 3);
	assert_int_equal(d.status, -ETIMEDOUT);
	assert_int_equal(c2.count, 0);
	assert_int_equal(channel_collect_digits(a, &c2, test_done_cb, &d), 0);
	spin_ms(30);
	channel_dtmf_receive(a, '7', 100, CORE_DTMF_RTP);
	spin_ms(100); /* past the first timeout: the digit timeout runs now */
	assert_int_equal(d.calls, 3);
	spin_ms(200);
	assert_int_equal(d.calls, 4);
	assert_int_equal(d.status, -ETIMEDOUT);
	assert_string_equal(c2.digits, "7");

	/* refusals; a hangup cancels */
	struct channel_collect bad = {.max = 0};
	assert_int_equal(channel_collect_digits(a, &bad, test_done_cb, &d), -EINVAL);
	bad.max = CORE_DTMF_MAX + 1;
	assert_int_equal(channel_collect_digits(a, &bad, test_done_cb, &d), -EINVAL);
	assert_int_equal(channel_collect_digits(a, &c2, test_done_cb, &d), 0);
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	/* Hung up (freed once the run queue runs): no new collection. */
	struct channel_collect late = {.max = 1};
	assert_int_equal(channel_collect_digits(a, &late, test_done_cb, &d), -ESHUTDOWN);
	spin();
	assert_int_equal(d.calls, 5);
	assert_int_equal(d.status, -ECANCELED);
}

static void test_barge(void **state)
{
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101);
	struct test_done d = {0};

	/* without barge-in a digit leaves the prompt playing */
	assert_int_equal(channel_play(a, "silence_stream://5000", test_done_cb, &d), 0);
	spin_ms(50);
	channel_dtmf_receive(a, '1', 100, CORE_DTMF_RTP);
	spin();
	assert_int_equal(d.calls, 0);
	channel_dtmf_barge(a, true);
	channel_dtmf_receive(a, '2', 100, CORE_DTMF_RTP);
	spin();
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -EINTR);
	assert_int_equal(channel_dtmf_queued(a), 2); /* the digits stay */
	channel_dtmf_barge(a, false);
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	spin();
}

static void test_bridged_modes(void **state)
{
	struct seen s = {0};
	struct core_sub *sub;
	assert_int_equal(core_subscribe(t.core, seen_cb, &s, &sub), 0);
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", 101), *b = test_leg(t.core, "bbbb", "1000", "2000", 101), *c = test_leg(t.core, "cccc", "1000", "2000", -1);
	struct test_done d = {0};

	assert_int_equal(channel_bridge(a, b, test_done_cb, &d), 0);
	/* a bridged leg's digits are not queued: they go to the other leg */
	channel_dtmf_receive(a, '1', 100, CORE_DTMF_INFO);
	assert_int_equal(channel_dtmf_queued(a), 0);
	struct media_stats st;
	spin_ms(400);
	media_stream_stats(b->media->stream, &st);
	assert_int_equal(st.dtmf_out, 1); /* INFO in, RFC 4733 out on b */
	/* an RFC 4733 digit was relayed by the media layer: not sent again */
	channel_dtmf_receive(a, '2', 100, CORE_DTMF_RTP);
	spin_ms(400);
	media_stream_stats(b->media->stream, &st);
	assert_int_equal(st.dtmf_out, 1);
	/* dtmf_type=none on b: nothing */
	channel_var_set(b, "dtmf_type", "none");
	channel_dtmf_receive(a, '3', 100, CORE_DTMF_INBAND);
	spin_ms(400);
	media_stream_stats(b->media->stream, &st);
	assert_int_equal(st.dtmf_out, 1);
	assert_int_equal(channel_send_dtmf(b, "1", 0), 0); /* none: accepted, nothing sent */
	/* info without a SIP call: refused */
	channel_var_set(b, "dtmf_type", "info");
	assert_int_equal(channel_send_dtmf(b, "1", 0), -ENOTSUP);
	assert_string_equal(s.digits, "123");
	channel_unbridge(a);

	/* in-band detection */
	assert_int_equal(channel_dtmf_detect_start(c), 0);
	assert_int_equal(channel_dtmf_detect_start(c), 0); /* twice: fine */
	channel_dtmf_detect_stop(c);
	channel_dtmf_detect_stop(c);
	struct channel *nomedia = core__channel_create(t.core, CHANNEL_INBOUND);
	assert_int_equal(channel_dtmf_detect_start(nomedia), -ENOTCONN);
	assert_int_equal(channel_dtmf_detect_start(c), 0); /* freed with the media */
	channel_hangup(c, CAUSE_NORMAL_CLEARING);
	channel_hangup(nomedia, CAUSE_NORMAL_CLEARING);
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	channel_hangup(b, CAUSE_NORMAL_CLEARING);
	spin();
	core_unsubscribe(sub);
}

/* dtmf_type=inband: a's tones, sent to b's port, detected on b */
static void test_inband_loop(void **state)
{
	struct seen s = {0};
	struct core_sub *sub;
	assert_int_equal(core_subscribe(t.core, seen_cb, &s, &sub), 0);
	struct channel *a = test_leg(t.core, "aaaa", "1000", "2000", -1), *b = test_leg(t.core, "bbbb", "1000", "2000", -1);
	struct media_stream_params p = a->media->params;
	assert_int_equal(net_addr_parse(&p.remote, str_from_cstr("127.0.0.1"),
					media_stream_port(b->media->stream)),
			 0);
	assert_int_equal(media_stream_start(a->media->stream, &p), 0);
	a->media->params = p;
	channel_var_set(a, "dtmf_type", "inband");
	assert_int_equal(channel_dtmf_detect_start(b), 0);
	assert_int_equal(channel_send_dtmf(a, "4w#", 120), 0);
	assert_int_equal(channel_send_dtmf(a, "4x", 120), -EINVAL);
	spin_ms(1800);
	assert_string_equal(s.digits, "4#");
	assert_string_equal(s.sources, "INBAND_AUDIO;INBAND_AUDIO;");
	/* a prompt started meanwhile is not disturbed by the tones' end */
	struct test_done d = {0};
	assert_int_equal(channel_send_dtmf(a, "1", 100), 0);
	spin_ms(50);
	assert_int_equal(channel_play(a, "silence_stream://300", test_done_cb, &d), 0);
	spin_ms(600);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	channel_hangup(b, CAUSE_NORMAL_CLEARING);
	spin();
	core_unsubscribe(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_info_parse),
	    cmocka_unit_test_setup_teardown(test_queue_and_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_barge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bridged_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inband_loop, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
