/*
 * Event streams of the HTTP door: the ?events=&uuid= filter (malformed
 * input included), Server-Sent Events rendering, the bounded queue with its
 * drop notice, and resuming from the bus's ring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "control/control.h"
#include "test_core_event_util.h"

static void test_filter_parse(void **state)
{
	struct evstream_filter f;
	assert_int_equal(evstream_filter_parse(&f, NULL, NULL), 0);
	assert_int_equal(f.name_count, 0);
	assert_int_equal(evstream_filter_parse(&f, "ALL", NULL), 0);
	assert_int_equal(f.name_count, 0);
	assert_int_equal(
	    evstream_filter_parse(&f, "CHANNEL_CREATE,sofia::gateway_state",
				  "0f4d2a7e-1111-4a3b-9c1d-123456789abc"),
	    0);
	assert_int_equal(f.name_count, 2);
	assert_string_equal(f.names[1], "sofia::gateway_state");
	assert_string_equal(f.uuid, "0f4d2a7e-1111-4a3b-9c1d-123456789abc");

	const char *bad_events[] = {"", ",", "A,", ",A", "A,,B", "A B", "A\nB", "A%2C", "é",
				    NULL};
	for (size_t i = 0; bad_events[i]; i++)
		assert_int_equal(evstream_filter_parse(&f, bad_events[i], NULL), -EINVAL);
	char many[2048] = "";
	for (int i = 0; i <= EVSTREAM_NAMES_MAX; i++)
		strcat(many, i ? ",X" : "X");
	assert_int_equal(evstream_filter_parse(&f, many, NULL), -EINVAL);
	char longname[100];
	memset(longname, 'A', 99);
	longname[99] = '\0';
	assert_int_equal(evstream_filter_parse(&f, longname, NULL), -EINVAL);
	const char *bad_uuids[] = {"", "xyz", "0f4d2a7e-1111-4a3b-9c1d-123456789abc0", "a'b", NULL};
	for (size_t i = 0; bad_uuids[i]; i++)
		assert_int_equal(evstream_filter_parse(&f, NULL, bad_uuids[i]), -EINVAL);
}

static struct core_event *make(const char *name, const char *sub, const char *uuid)
{
	struct core_event *ev;
	assert_int_equal(core_event_create(&ev, name, sub), 0);
	if (uuid)
		core_event_add_header(ev, "Unique-ID", "%s", uuid);
	return ev;
}

static void test_filter_match(void **state)
{
	struct evstream_filter f;
	assert_int_equal(evstream_filter_parse(&f, "CHANNEL_ANSWER,sofia::gateway_state", "ab-cd"),
			 0);
	struct core_event *a = make("CHANNEL_ANSWER", NULL, "AB-CD");
	struct core_event *b = make("CHANNEL_ANSWER", NULL, "ab-ce");
	struct core_event *c = make("CHANNEL_CREATE", NULL, "ab-cd");
	struct core_event *d = make("CUSTOM", "sofia::gateway_state", "ab-cd");
	struct core_event *e = make("CUSTOM", "sofia::gateway_state", NULL);
	assert_true(evstream_filter_match(&f, a)); /* uuids compare without case */
	assert_false(evstream_filter_match(&f, b));
	assert_false(evstream_filter_match(&f, c));
	assert_true(evstream_filter_match(&f, d));
	assert_false(evstream_filter_match(&f, e)); /* no Unique-ID: not that call's */
	assert_int_equal(evstream_filter_parse(&f, "CUSTOM", NULL), 0);
	assert_true(evstream_filter_match(&f, e));
	assert_false(evstream_filter_match(&f, a));

	struct buf out;
	buf_init(&out);
	core_event_add_header(e, "Note", "two\nlines");
	evstream_print_sse(e, &out);
	buf_append(&out, "", 1);
	/* Not fired: no id line; the data is one line. */
	assert_string_equal(out.p, "event: sofia::gateway_state\n"
				   "data: {\"Event-Subclass\":\"sofia::gateway_state\","
				   "\"Event-Name\":\"CUSTOM\",\"Note\":\"two\\nlines\"}\n\n");
	buf_fini(&out);
	core_event_unref(a);
	core_event_unref(b);
	core_event_unref(c);
	core_event_unref(d);
	core_event_unref(e);
}

static void ready_cb(void *arg)
{
	(*(int *)arg)++;
}

static void fire_named(struct core *core, const char *name, const char *uuid)
{
	core_event_fire(core, make(name, NULL, uuid));
}

static void test_queue_and_drops(void **state)
{
	struct test_core t;
	test_core_open(&t);
	struct evstream_filter f;
	assert_int_equal(evstream_filter_parse(&f, "CHANNEL_CREATE", NULL), 0);
	struct evstream_stats stats = {0};
	struct evstream *s;
	int ready = 0;
	assert_int_equal(evstream_create(&s, t.core, &f, false, 0, 4, &stats, ready_cb, &ready), 0);
	assert_int_equal(stats.clients, 1);
	assert_int_equal(ready, 0);
	for (int i = 0; i < 7; i++) {
		fire_named(t.core, "CHANNEL_CREATE", "u");
		fire_named(t.core, "CHANNEL_DESTROY", "u"); /* filtered out */
	}
	assert_int_equal(ready, 1); /* once, when the queue stopped being empty */
	assert_int_equal(evstream_queued(s), 4);
	assert_int_equal(stats.events_dropped, 3);
	uint64_t last = 0;
	for (int i = 0; i < 4; i++) {
		struct core_event *ev = evstream_pop(s);
		assert_string_equal(core_event_name(ev), "CHANNEL_CREATE");
		assert_true(core_event_sequence(ev) > last);
		last = core_event_sequence(ev);
		core_event_unref(ev);
		if (i == 0)
			assert_int_equal(evstream_queued(s), 3); /* no room for notice + event yet */
	}
	/* Room again: the notice comes, where the gap was. */
	struct core_event *n = evstream_pop(s);
	assert_non_null(n);
	assert_string_equal(core_event_subclass(n), "irisx::events_dropped");
	assert_string_equal(core_event_header(n, "Dropped-Count"), "3");
	char seq[32];
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)last);
	assert_string_equal(core_event_header(n, "Last-Event-Sequence"), seq);
	core_event_unref(n);
	assert_null(evstream_pop(s));
	fire_named(t.core, "CHANNEL_CREATE", "u");
	assert_int_equal(ready, 2);
	assert_int_equal(evstream_queued(s), 1);
	evstream_destroy(s);
	assert_int_equal(stats.clients, 0);
	test_core_close(&t);
}

static void test_resume(void **state)
{
	struct test_core t;
	test_core_open(&t);
	struct evstream_filter f;
	assert_int_equal(evstream_filter_parse(&f, "CHANNEL_ANSWER", NULL), 0);
	struct core_event *first = make("CHANNEL_ANSWER", NULL, "u1");
	core_event_fire(t.core, core_event_ref(first));
	uint64_t after = core_event_sequence(first);
	core_event_unref(first);
	fire_named(t.core, "CHANNEL_ANSWER", "u2");
	fire_named(t.core, "CHANNEL_CREATE", "u3");
	fire_named(t.core, "CHANNEL_ANSWER", "u4");
	int ready = 0;
	struct evstream *s;
	assert_int_equal(evstream_create(&s, t.core, &f, true, after, 100, NULL, ready_cb, &ready),
			 0);
	assert_int_equal(evstream_queued(s), 2);
	fire_named(t.core, "CHANNEL_ANSWER", "u5");
	const char *want[] = {"u2", "u4", "u5"};
	for (size_t i = 0; i < 3; i++) {
		struct core_event *ev = evstream_pop(s);
		assert_string_equal(core_event_header(ev, "Unique-ID"), want[i]);
		core_event_unref(ev);
	}
	evstream_destroy(s);

	/* Push the first events out of the ring: resuming from there is refused
	 * and said so. */
	for (int i = 0; i < 10001; i++)
		fire_named(t.core, "CHANNEL_CREATE", "x");
	assert_int_equal(evstream_create(&s, t.core, &f, true, after, 100, NULL, ready_cb, &ready),
			 0);
	assert_int_equal(evstream_queued(s), 1);
	struct core_event *lost = evstream_pop(s);
	assert_string_equal(core_event_subclass(lost), "irisx::events_lost");
	char a[32];
	snprintf(a, sizeof(a), "%llu", (unsigned long long)after);
	assert_string_equal(core_event_header(lost, "Requested-After"), a);
	core_event_unref(lost);
	evstream_destroy(s);
	test_core_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filter_parse),
	    cmocka_unit_test(test_filter_match),
	    cmocka_unit_test(test_queue_and_drops),
	    cmocka_unit_test(test_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
