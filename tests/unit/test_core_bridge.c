/*
 * Bridging in the core (bridge.c) between two channels with real RTP streams
 * on loopback (no SIP): CHANNEL_BRIDGE / CHANNEL_UNBRIDGE and their headers,
 * the variables both legs get, the hangup rules (A takes B with its cause,
 * ORIGINATOR_CANCEL while B has not answered, park_after_bridge; B ends A's
 * operation with 0 and leaves its cause on A), unbridging, the refusals, and
 * channel_send_dtmf's answers.
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

struct seen {
	char names[4096];
	struct core_event *bridge, *unbridge;
};

static void seen_cb(void *arg, struct core_event *ev)
{
	struct seen *s = arg;
	const char *n = core_event_name(ev);
	if (strncmp(n, "CHANNEL_", 8) != 0 || strcmp(n, "CHANNEL_STATE") == 0 ||
	    strcmp(n, "CHANNEL_CALLSTATE") == 0)
		return;
	size_t len = strlen(s->names);
	snprintf(s->names + len, sizeof(s->names) - len, "%s(%.4s);", n,
		 core_event_header(ev, "Unique-ID"));
	if (strcmp(n, "CHANNEL_BRIDGE") == 0 && !s->bridge)
		s->bridge = core_event_ref(ev);
	if (strcmp(n, "CHANNEL_UNBRIDGE") == 0 && !s->unbridge)
		s->unbridge = core_event_ref(ev);
}

static void spin(void)
{
	for (int i = 0; i < 20; i++)
		uv_run(&t.loop, UV_RUN_NOWAIT);
}

/* A channel with a started RTP stream towards a loopback port nobody reads. */

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

static void test_bridge_events_and_vars(void **state)
{
	struct seen s = {0};
	struct core_sub *sub;
	struct test_done d = {0};
	assert_int_equal(core_subscribe(t.core, seen_cb, &s, &sub), 0);
	struct channel *a = test_leg(t.core, "aaaa", "1000", "1000", 101), *b = test_leg(t.core, "bbbb", "2000", "2000", 101);

	assert_int_equal(channel_bridge(a, b, test_done_cb, &d), 0);
	assert_ptr_equal(channel_bridged(a), b);
	assert_ptr_equal(channel_bridged(b), a);
	assert_ptr_equal(media_stream_bridged(a->media->stream), b->media->stream);
	assert_string_equal(s.names, "CHANNEL_BRIDGE(aaaa);");
	struct core_event *ev = s.bridge;
	assert_string_equal(core_event_header(ev, "Bridge-A-Unique-ID"), a->uuid);
	assert_string_equal(core_event_header(ev, "Bridge-B-Unique-ID"), b->uuid);
	assert_string_equal(core_event_header(ev, "Unique-ID"), a->uuid);
	assert_string_equal(core_event_header(ev, "Other-Type"), "originatee");
	assert_string_equal(core_event_header(ev, "Other-Leg-Unique-ID"), b->uuid);
	assert_string_equal(core_event_header(ev, "Other-Leg-Destination-Number"), "2000");
	assert_string_equal(core_event_header(ev, "Other-Leg-Caller-ID-Number"), "2000");
	assert_string_equal(core_event_header(ev, "Other-Leg-Channel-Name"),
			    "sofia/external/2000@127.0.0.1");
	assert_string_equal(core_event_header(ev, "variable_signal_bond"), b->uuid);
	assert_string_equal(channel_var(a, "bridge_uuid"), b->uuid);
	assert_string_equal(channel_var(a, "last_bridge_to"), b->uuid);
	assert_string_equal(channel_var(b, "signal_bond"), a->uuid);
	assert_string_equal(channel_var(b, "bridge_to"), a->uuid);
	assert_string_equal(channel_var(b, "bridge_channel"), "sofia/external/1000@127.0.0.1");
	/* B's events describe A, the originator */
	struct core_event *bev = core__channel_event_build(b, "CHANNEL_DATA");
	assert_string_equal(core_event_header(bev, "Other-Type"), "originator");
	assert_string_equal(core_event_header(bev, "Other-Leg-Unique-ID"), a->uuid);
	core_event_unref(bev);

	/* refusals */
	struct channel *c = test_leg(t.core, "cccc", "3000", "3000", -1);
	assert_int_equal(channel_bridge(a, c, test_done_cb, &d), -EINVAL); /* a bridged */
	assert_int_equal(channel_bridge(c, b, test_done_cb, &d), -EINVAL); /* b bridged */
	assert_int_equal(channel_bridge(c, c, test_done_cb, &d), -EINVAL);
	struct channel *nomedia = core__channel_create(t.core, CHANNEL_INBOUND);
	assert_int_equal(channel_bridge(c, nomedia, test_done_cb, &d), -EPROTO);

	/* unbridge from B's side: A's operation ends -ECANCELED, both stay up */
	channel_unbridge(b);
	assert_null(channel_bridged(a));
	assert_null(channel_bridged(b));
	assert_null(media_stream_bridged(a->media->stream));
	assert_null(channel_var(a, "bridge_to"));
	assert_string_equal(channel_var(a, "last_bridge_to"), b->uuid);
	assert_int_equal(d.calls, 0); /* never from inside the call that ended it */
	assert_string_equal(s.names, "CHANNEL_BRIDGE(aaaa);CHANNEL_UNBRIDGE(aaaa);");
	spin();
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ECANCELED);
	assert_true(channel_up(a) && channel_up(b));
	assert_string_equal(core_event_header(s.unbridge, "Bridge-B-Unique-ID"), b->uuid);
	assert_string_equal(core_event_header(s.unbridge, "Other-Leg-Unique-ID"), b->uuid);

	/* DTMF: telephone-event negotiated or not, good digits or not */
	assert_int_equal(channel_send_dtmf(a, "12#", 100), 0);
	assert_int_equal(channel_send_dtmf(c, "1", 0), -ENOTSUP);
	assert_int_equal(channel_send_dtmf(a, "1x", 0), -EINVAL);
	assert_int_equal(channel_send_dtmf(a, "", 0), -EINVAL);
	assert_int_equal(channel_send_dtmf(nomedia, "1", 0), -ENOTSUP);

	core_event_unref(s.bridge);
	core_event_unref(s.unbridge);
	core_unsubscribe(sub);
}

/* A hangs up: B follows with A's cause, A's operation ends -ECANCELED. */
static void test_a_hangs_up(void **state)
{
	struct test_done d = {0};
	struct channel *a = test_leg(t.core, "aaaa", "1000", "1000", -1), *b = test_leg(t.core, "bbbb", "2000", "2000", -1);
	char bu[UUID_STRLEN];
	memcpy(bu, b->uuid, sizeof(bu));
	assert_int_equal(channel_bridge(a, b, test_done_cb, &d), 0);
	channel_hangup(a, CAUSE_USER_BUSY);
	assert_int_equal(b->cause, CAUSE_USER_BUSY);
	assert_false(channel_up(b));
	spin();
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, -ECANCELED);
	assert_null(core_channel_find(t.core, bu));

	/* B still ringing with early media: cancelled */
	a = test_leg(t.core, "aaaa", "1000", "1000", -1);
	b = test_leg(t.core, "bbbb", "2000", "2000", -1);
	b->answered = false;
	b->early_media = true;
	assert_int_equal(channel_bridge(a, b, test_done_cb, &d), 0);
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	assert_int_equal(b->cause, CAUSE_ORIGINATOR_CANCEL);
	spin();

	/* park_after_bridge on B: parked instead */
	a = test_leg(t.core, "aaaa", "1000", "1000", -1);
	b = test_leg(t.core, "bbbb", "2000", "2000", -1);
	channel_var_set(b, "park_after_bridge", "true");
	assert_int_equal(channel_bridge(a, b, test_done_cb, &d), 0);
	channel_hangup(a, CAUSE_NORMAL_CLEARING);
	assert_true(channel_up(b));
	assert_int_equal(b->state, CS_PARK);
	assert_null(channel_bridged(b));
	spin();
}

/* B hangs up: A's operation completes with 0, A stays up with B's cause in
 * bridge_hangup_cause. */
static void test_b_hangs_up(void **state)
{
	struct test_done d = {0};
	struct channel *a = test_leg(t.core, "aaaa", "1000", "1000", -1), *b = test_leg(t.core, "bbbb", "2000", "2000", -1);
	assert_int_equal(channel_bridge(a, b, test_done_cb, &d), 0);
	channel_hangup(b, CAUSE_CALL_REJECTED);
	assert_true(channel_up(a));
	assert_null(channel_bridged(a));
	spin();
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	assert_true(channel_up(a));
	assert_string_equal(channel_var(a, "bridge_hangup_cause"), "CALL_REJECTED");
	assert_string_equal(channel_var(a, "last_bridge_hangup_cause"), "CALL_REJECTED");

	/* A new operation on A (a playback) ends the bridge too. */
	struct channel *c = test_leg(t.core, "cccc", "3000", "3000", -1);
	assert_int_equal(channel_bridge(a, c, test_done_cb, &d), 0);
	assert_int_equal(channel_sleep(a, 10000, NULL, NULL), 0);
	assert_null(channel_bridged(c));
	spin();
	assert_int_equal(d.calls, 2);
	assert_int_equal(d.status, -ECANCELED);
}

static void test_dtmf_parse(void **state)
{
	char d[CORE_DTMF_MAX + 1];
	uint32_t ms = 7;
	assert_int_equal(core_dtmf_parse("123#*ABCDabcdwW", d, &ms), 0);
	assert_string_equal(d, "123#*ABCDabcdwW");
	assert_int_equal(ms, 0);
	assert_int_equal(core_dtmf_parse(" 9@250 ", d, &ms), 0);
	assert_string_equal(d, "9");
	assert_int_equal(ms, 250);
	static const char *const bad[] = {"",	     "@100", "1@",  "1@39",	"1@abc",
					  "1@100@2", "12e",  "1 2", "1@3600001"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(core_dtmf_parse(bad[i], d, &ms), -EINVAL);
	char longer[CORE_DTMF_MAX + 2];
	memset(longer, '1', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(core_dtmf_parse(longer, d, &ms), -EINVAL);
	longer[CORE_DTMF_MAX] = '\0';
	assert_int_equal(core_dtmf_parse(longer, d, &ms), 0);
	assert_int_equal(core_dtmf_parse(NULL, d, &ms), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bridge_events_and_vars, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_hangs_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_b_hangs_up, setup, teardown),
	    cmocka_unit_test(test_dtmf_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
