/*
 * Unit tests for the event bus: events and their headers, sequences, the
 * ring's replay, subscribers (unsubscribing while being delivered to), the
 * three ESL renderings of a fixed event, and the firing rate.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_core_event_util.h"

static void test_create_headers(void **state)
{
	struct core_event *ev;
	assert_int_equal(core_event_create(&ev, "CUSTOM", "irisx::test"), 0);
	assert_string_equal(core_event_name(ev), "CUSTOM");
	assert_string_equal(core_event_subclass(ev), "irisx::test");
	assert_int_equal(core_event_sequence(ev), 0);
	assert_int_equal(core_event_add_header(ev, "Alpha", "%d", 1), 0);
	assert_int_equal(core_event_add_header(ev, "Beta", "%s", "two"), 0);
	assert_int_equal(core_event_add_header(ev, "alpha", "%s", "again"), 0);
	assert_int_equal(core_event_header_count(ev), 5);
	const char *n, *v;
	core_event_header_at(ev, 0, &n, &v);
	assert_string_equal(n, "Event-Subclass");
	assert_string_equal(v, "irisx::test");
	core_event_header_at(ev, 1, &n, &v);
	assert_string_equal(n, "Event-Name");
	assert_string_equal(v, "CUSTOM");
	core_event_header_at(ev, 4, &n, &v);
	assert_string_equal(n, "alpha");
	assert_string_equal(v, "again");
	/* lookup: case-insensitive, the first of that name */
	assert_string_equal(core_event_header(ev, "ALPHA"), "1");
	assert_string_equal(core_event_header(ev, "beta"), "two");
	assert_null(core_event_header(ev, "Gamma"));
	/* a long value goes past the formatting fast path */
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(core_event_add_header(ev, "Big", "%s", big), 0);
	assert_string_equal(core_event_header(ev, "Big"), big);
	size_t len = 99;
	assert_null(core_event_body(ev, &len));
	assert_int_equal(len, 0);
	assert_int_equal(core_event_set_body(ev, "hello\n", 6), 0);
	assert_string_equal(core_event_body(ev, &len), "hello\n");
	assert_int_equal(len, 6);
	assert_int_equal(core_event_create(&ev, "", NULL) == -EINVAL, 1);
	core_event_unref(ev);
}

struct collect {
	struct core_event *ev[64];
	size_t n;
	struct core_sub *self;	 /* unsubscribes itself on its first event */
	struct core_sub *victim; /* or this other one */
};

static void collect_cb(void *arg, struct core_event *ev)
{
	struct collect *c = arg;
	if (c->n < 64)
		c->ev[c->n++] = core_event_ref(ev);
	if (c->self) {
		core_unsubscribe(c->self);
		c->self = NULL;
	}
	if (c->victim) {
		core_unsubscribe(c->victim);
		c->victim = NULL;
	}
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		core_event_unref(c->ev[i]);
	c->n = 0;
}

static void fire(struct core *core, const char *name)
{
	struct core_event *ev;
	assert_int_equal(core_event_create(&ev, name, NULL), 0);
	core_event_add_header(ev, "Test", "%s", name);
	core_event_fire(core, ev);
}

static void test_fire_stamps(void **state)
{
	struct test_core t;
	struct collect c = {0};
	struct core_sub *sub;
	test_core_open(&t);
	assert_int_equal(core_subscribe(t.core, collect_cb, &c, &sub), 0);
	fire(t.core, "API");
	fire(t.core, "API");
	assert_int_equal(c.n, 2);
	struct core_event *ev = c.ev[0];
	static const char *const order[] = {
	    "Event-Name",
	    "Core-UUID",
	    "FreeSWITCH-Hostname",
	    "FreeSWITCH-Switchname",
	    "FreeSWITCH-IPv4",
	    "FreeSWITCH-IPv6",
	    "Event-Date-Local",
	    "Event-Date-GMT",
	    "Event-Date-Timestamp",
	    "Event-Calling-File",
	    "Event-Calling-Function",
	    "Event-Calling-Line-Number",
	    "Event-Sequence",
	    "Test",
	};
	assert_int_equal(core_event_header_count(ev), 14);
	for (size_t i = 0; i < 14; i++) {
		const char *n, *v;
		core_event_header_at(ev, i, &n, &v);
		assert_string_equal(n, order[i]);
	}
	assert_string_equal(core_event_header(ev, "Core-UUID"), core_uuid(t.core));
	assert_int_equal(strlen(core_uuid(t.core)), 36);
	char seq[32];
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)core_event_sequence(ev));
	assert_string_equal(core_event_header(ev, "Event-Sequence"), seq);
	assert_true(core_event_sequence(c.ev[1]) == core_event_sequence(ev) + 1);
	/* the timestamp is now, in µs; the GMT date ends in GMT */
	uint64_t ts = strtoull(core_event_header(ev, "Event-Date-Timestamp"), NULL, 10);
	uint64_t now = clock_wall_us();
	assert_true(ts <= now && now - ts < 5000000);
	const char *gmt = core_event_header(ev, "Event-Date-GMT");
	assert_string_equal(gmt + strlen(gmt) - 4, " GMT");
	assert_int_equal(strlen(core_event_header(ev, "Event-Date-Local")), 19);
	/* a fired event is immutable */
	assert_int_equal(core_event_add_header(ev, "Late", "x"), -EINVAL);
	core_unsubscribe(sub);
	fire(t.core, "API");
	assert_int_equal(c.n, 2);
	collect_free(&c);
	test_core_close(&t);
}

/* Every header count, across the array's growth steps, fires whole. */
static void test_fire_any_size(void **state)
{
	struct test_core t;
	test_core_open(&t);
	for (int n = 0; n < 140; n++) {
		struct collect c = {0};
		struct core_sub *sub;
		struct core_event *ev;
		assert_int_equal(core_subscribe(t.core, collect_cb, &c, &sub), 0);
		assert_int_equal(core_event_create(&ev, "API", NULL), 0);
		for (int h = 0; h < n; h++)
			core_event_add_header(ev, "H", "%d", h);
		core_event_fire(t.core, ev);
		assert_int_equal(c.n, 1);
		assert_int_equal(core_event_header_count(c.ev[0]), (size_t)n + 13);
		const char *name, *value;
		core_event_header_at(c.ev[0], 12, &name, &value);
		assert_string_equal(name, "Event-Sequence");
		if (n) {
			core_event_header_at(c.ev[0], 12 + (size_t)n, &name, &value);
			assert_int_equal(atoi(value), n - 1);
		}
		core_unsubscribe(sub);
		collect_free(&c);
	}
	test_core_close(&t);
}

static void since_cb(void *arg, struct core_event *ev)
{
	collect_cb(arg, ev);
}

static void test_ring_replay(void **state)
{
	struct test_core t;
	struct collect c = {0};
	test_core_open(&t);
	fire(t.core, "A");
	fire(t.core, "B");
	fire(t.core, "C");
	assert_int_equal(core_events_since(t.core, 0, since_cb, &c), 0);
	assert_true(c.n >= 3);
	size_t n0 = c.n;
	uint64_t seq_b = core_event_sequence(c.ev[n0 - 2]);
	assert_string_equal(core_event_name(c.ev[n0 - 2]), "B");
	for (size_t i = 1; i < c.n; i++)
		assert_true(core_event_sequence(c.ev[i]) > core_event_sequence(c.ev[i - 1]));
	collect_free(&c);
	assert_int_equal(core_events_since(t.core, seq_b - 1, since_cb, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(core_event_name(c.ev[0]), "B");
	assert_string_equal(core_event_name(c.ev[1]), "C");
	collect_free(&c);
	assert_int_equal(core_events_since(t.core, seq_b + 1, since_cb, &c), 0);
	assert_int_equal(c.n, 0);
	/* push A out of the ring: a replay from before it is refused whole */
	for (int i = 0; i < 10000; i++)
		fire(t.core, "FILL");
	assert_int_equal(core_events_since(t.core, seq_b - 2, since_cb, &c), -ERANGE);
	assert_int_equal(c.n, 0);
	assert_int_equal(core_events_since(t.core, seq_b + 1, since_cb, &c), 0);
	assert_int_equal(c.n, 64); /* capped by the collector; 9999 were replayed */
	collect_free(&c);
	test_core_close(&t);
}

static void test_unsubscribe_during_delivery(void **state)
{
	struct test_core t;
	struct collect a = {0}, b = {0}, d = {0};
	struct core_sub *sa, *sb, *sd;
	test_core_open(&t);
	assert_int_equal(core_subscribe(t.core, collect_cb, &a, &sa), 0);
	assert_int_equal(core_subscribe(t.core, collect_cb, &b, &sb), 0);
	assert_int_equal(core_subscribe(t.core, collect_cb, &d, &sd), 0);
	a.self = sa;   /* a leaves on its first event */
	b.victim = sd; /* b removes d before d sees anything */
	fire(t.core, "X");
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 1);
	assert_int_equal(d.n, 0);
	fire(t.core, "Y");
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 2);
	assert_int_equal(d.n, 0);
	core_unsubscribe(sb);
	collect_free(&a);
	collect_free(&b);
	test_core_close(&t);
}

/* A fixed event (no stamps: never fired) with characters every encoder touches. */
static struct core_event *sample(bool body)
{
	struct core_event *ev;
	assert_int_equal(core_event_create(&ev, "CUSTOM", "irisx::demo"), 0);
	core_event_add_header(ev, "Caller-Caller-ID-Name", "Alice \"A\" <a@b>");
	core_event_add_header(ev, "Channel-Name", "sofia/internal/1000@10.0.0.1:5060");
	core_event_add_header(ev, "Event-Date-GMT", "Wed, 07 Nov 2018 15:59:11 GMT");
	core_event_add_header(ev, "variable_x", "a&b=c+d%%e\n\té");
	if (body)
		core_event_set_body(ev, "line1\n<b>&\"", 11);
	return ev;
}

static void check_print(void (*print)(const struct core_event *, struct buf *), bool body,
			const char *want)
{
	struct buf b;
	buf_init(&b);
	struct core_event *ev = sample(body);
	print(ev, &b);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	buf_fini(&b);
	core_event_unref(ev);
}

static void test_print_plain(void **state)
{
	const char *head = "Event-Subclass: irisx%3A%3Ademo\n"
			   "Event-Name: CUSTOM\n"
			   "Caller-Caller-ID-Name: Alice%20%22A%22%20%3Ca%40b%3E\n"
			   "Channel-Name: sofia/internal/1000%4010.0.0.1%3A5060\n"
			   "Event-Date-GMT: Wed,%2007%20Nov%202018%2015%3A59%3A11%20GMT\n"
			   "variable_x: a%26b%3Dc%2Bd%25e%0A%09%C3%A9\n";
	char want[1024];
	snprintf(want, sizeof(want), "%s\n", head);
	check_print(core_event_print_plain, false, want);
	snprintf(want, sizeof(want), "%sContent-Length: 11\n\nline1\n<b>&\"", head);
	check_print(core_event_print_plain, true, want);
}

static void test_print_json(void **state)
{
	const char *head = "{\"Event-Subclass\":\"irisx::demo\",\"Event-Name\":\"CUSTOM\","
			   "\"Caller-Caller-ID-Name\":\"Alice \\\"A\\\" <a@b>\","
			   "\"Channel-Name\":\"sofia/internal/1000@10.0.0.1:5060\","
			   "\"Event-Date-GMT\":\"Wed, 07 Nov 2018 15:59:11 GMT\","
			   "\"variable_x\":\"a&b=c+d%e\\n\\té\"";
	char want[1024];
	snprintf(want, sizeof(want), "%s}", head);
	check_print(core_event_print_json, false, want);
	snprintf(want, sizeof(want), "%s,\"Content-Length\":\"11\",\"_body\":\"line1\\n<b>&\\\"\"}",
		 head);
	check_print(core_event_print_json, true, want);
}

static void test_print_xml(void **state)
{
	const char *head =
	    "<event>\n  <headers>\n"
	    "    <Event-Subclass>irisx%3A%3Ademo</Event-Subclass>\n"
	    "    <Event-Name>CUSTOM</Event-Name>\n"
	    "    <Caller-Caller-ID-Name>Alice%20%22A%22%20%3Ca%40b%3E"
	    "</Caller-Caller-ID-Name>\n"
	    "    <Channel-Name>sofia/internal/1000%4010.0.0.1%3A5060</Channel-Name>\n"
	    "    <Event-Date-GMT>Wed,%2007%20Nov%202018%2015%3A59%3A11%20GMT"
	    "</Event-Date-GMT>\n"
	    "    <variable_x>a%26b%3Dc%2Bd%25e%0A%09%C3%A9</variable_x>\n";
	char want[2048];
	snprintf(want, sizeof(want), "%s  </headers>\n</event>\n", head);
	check_print(core_event_print_xml, false, want);
	snprintf(want, sizeof(want),
		 "%s    <Content-Length>11</Content-Length>\n  </headers>\n"
		 "  <body>line1\n&lt;b&gt;&amp;\"</body>\n</event>\n",
		 head);
	check_print(core_event_print_xml, true, want);
}

static void count_cb(void *arg, struct core_event *ev)
{
	++*(size_t *)arg;
}

/* Firing cost: a channel-sized event (40 headers) with and without a listener. */
static void test_fire_rate(void **state)
{
	struct test_core t;
	test_core_open(&t);
	enum { N = 50000 };
	for (int pass = 0; pass < 2; pass++) {
		size_t seen = 0;
		struct core_sub *sub = NULL;
		if (pass)
			assert_int_equal(core_subscribe(t.core, count_cb, &seen, &sub), 0);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < N; i++) {
			struct core_event *ev;
			assert_int_equal(core_event_create(&ev, "CHANNEL_STATE", NULL), 0);
			for (int h = 0; h < 40; h++)
				core_event_add_header(ev, "Caller-Header", "value-%d", h);
			core_event_fire(t.core, ev);
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		print_message("fire: %d events of 53 headers in %.3f s: %.0f events/s (%s)\n", N, s,
			      N / s, pass ? "one subscriber" : "no subscriber");
		if (pass) {
			assert_int_equal(seen, N);
			core_unsubscribe(sub);
		}
	}
	test_core_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_headers),
	    cmocka_unit_test(test_fire_stamps),
	    cmocka_unit_test(test_fire_any_size),
	    cmocka_unit_test(test_ring_replay),
	    cmocka_unit_test(test_unsubscribe_during_delivery),
	    cmocka_unit_test(test_print_plain),
	    cmocka_unit_test(test_print_json),
	    cmocka_unit_test(test_print_xml),
	    cmocka_unit_test(test_fire_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
