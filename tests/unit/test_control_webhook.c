/*
 * Call status webhooks: http.conf's settings, the form and JSON bodies, and
 * deliveries through libcurl on the loop to a receiver on loopback (a small
 * HTTP server in this file): order per call, a retry after a 500, a per-call
 * URL set after the call began, a receiver that is down, the queue limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/control.h"
#include "test_config_util.h"
#include "test_core_event_util.h"

/* ---- settings and bodies ---- */

static struct config *load_conf(const char *conf)
{
	return config_load_one("http.conf.xml", conf);
}

#define HTTP_CONF(params)                                                                          \
	"<configuration name=\"http.conf\">\n<settings>\n" params "</settings>\n</configuration>\n"

static void test_settings(void **state)
{
	struct webhook_settings s;
	char err[512];
	assert_int_equal(webhook_settings_load(&s, NULL, err, sizeof(err)), 0);
	assert_string_equal(s.url, "");
	assert_false(s.get);
	assert_int_equal(s.format, WEBHOOK_FORM);
	assert_int_equal(s.tries, 3);

	struct config *cfg =
	    load_conf(HTTP_CONF("<param name=\"status-callback\" value=\"http://127.0.0.1:9/x\"/>\n"
				"<param name=\"status-callback-method\" value=\"get\"/>\n"
				"<param name=\"status-callback-format\" value=\"JSON\"/>\n"
				"<param name=\"status-callback-tries\" value=\"5\"/>\n"
				"<param name=\"status-callback-retry-ms\" value=\"250\"/>\n"
				"<param name=\"status-callback-queue-max\" value=\"7\"/>\n"));
	assert_int_equal(webhook_settings_load(&s, cfg, err, sizeof(err)), 0);
	assert_string_equal(s.url, "http://127.0.0.1:9/x");
	assert_true(s.get);
	assert_int_equal(s.format, WEBHOOK_JSON);
	assert_int_equal(s.tries, 5);
	assert_int_equal(s.retry_ms, 250);
	assert_int_equal(s.queue_max, 7);
	config_free(cfg);

	const char *bad[][2] = {
	    {"status-callback", "ftp://x/"},    {"status-callback-method", "PUT"},
	    {"status-callback-format", "xml"},  {"status-callback-tries", "0"},
	    {"status-callback-tries", "11"},    {"status-callback-retry-ms", "x"},
	    {"status-callback-queue-max", "-1"}, {"status-callback-timeout-ms", "1"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char xml[512];
		snprintf(xml, sizeof(xml),
			 HTTP_CONF("<param name=\"%s\" value=\"%s\"/>\n"), bad[i][0], bad[i][1]);
		cfg = load_conf(xml);
		err[0] = '\0';
		assert_int_equal(webhook_settings_load(&s, cfg, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "http.conf.xml:3: "));
		config_free(cfg);
	}
}

static void test_bodies(void **state)
{
	struct webhook_report r = {
	    .uuid = "u-1",
	    .status = WEBHOOK_COMPLETED,
	    .sequence = 3,
	    .direction = "inbound",
	    .from = "+1 (555) \"x\"&y=z",
	    .to = "caf\xc3\xa9\n",
	    .timestamp_us = 1700000000000001ull,
	    .duration_s = 12,
	    .billsec = 10,
	    .hangup_cause = "NORMAL_CLEARING",
	    .hangup_cause_q850 = 16,
	};
	struct buf b;
	buf_init(&b);
	webhook_report_print(&r, WEBHOOK_FORM, &b);
	buf_append(&b, "", 1);
	assert_string_equal(b.p, "CallSid=u-1&CallStatus=completed&SequenceNumber=3&"
				 "Direction=inbound&From=%2B1+%28555%29+%22x%22%26y%3Dz&"
				 "To=caf%C3%A9%0A&Timestamp=1700000000000001&CallDuration=12&"
				 "BillSec=10&HangupCause=NORMAL_CLEARING&HangupCauseCode=16");
	buf_reset(&b);
	r.status = WEBHOOK_RINGING;
	r.from = NULL;
	webhook_report_print(&r, WEBHOOK_JSON, &b);
	buf_append(&b, "", 1);
	assert_string_equal(b.p, "{\"CallSid\":\"u-1\",\"CallStatus\":\"ringing\","
				 "\"SequenceNumber\":3,\"Direction\":\"inbound\",\"From\":\"\","
				 "\"To\":\"caf\xc3\xa9\\u000a\",\"Timestamp\":1700000000000001}");
	buf_fini(&b);
	enum webhook_format f;
	assert_int_equal(webhook_format_parse("Form", &f), 0);
	assert_int_equal(f, WEBHOOK_FORM);
	assert_int_equal(webhook_format_parse("xml", &f), -EINVAL);
	assert_int_equal(webhook_format_parse(NULL, &f), -EINVAL);
}

/* ---- a receiver on loopback ---- */

enum { RX_MAX = 32 };

struct receiver {
	uv_tcp_t server;
	uint16_t port;
	char *bodies[RX_MAX];
	char *lines[RX_MAX]; /* request lines */
	size_t count;
	int fail_next; /* answer 500 to that many requests */
};

struct rx_conn {
	uv_tcp_t tcp;
	struct receiver *rx;
	struct buf in;
	bool answered;
};

static void rx_closed(uv_handle_t *h)
{
	struct rx_conn *c = h->data;
	buf_fini(&c->in);
	free(c);
}

static void rx_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char space[65536];
	*b = uv_buf_init(space, sizeof(space));
}

static void rx_written(uv_write_t *w, int status)
{
	uv_close((uv_handle_t *)w->handle, rx_closed);
	free(w);
}

static void rx_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct rx_conn *c = s->data;
	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, rx_closed);
		return;
	}
	buf_append(&c->in, b->base, (size_t)n);
	buf_append(&c->in, "", 1);
	c->in.len--;
	char *end = strstr(c->in.p, "\r\n\r\n");
	if (!end || c->answered)
		return;
	size_t clen = 0;
	char *cl = strcasestr(c->in.p, "\r\nContent-Length:");
	if (cl && cl < end)
		clen = strtoul(cl + 17, NULL, 10);
	size_t head = (size_t)(end + 4 - c->in.p);
	if (c->in.len < head + clen)
		return;
	struct receiver *rx = c->rx;
	assert_true(rx->count < RX_MAX);
	rx->lines[rx->count] = strndup(c->in.p, strcspn(c->in.p, "\r\n"));
	rx->bodies[rx->count] = strndup(c->in.p + head, clen);
	rx->count++;
	c->answered = true;
	static const char ok[] = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
	static const char fail[] =
	    "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	bool f = rx->fail_next > 0;
	if (f)
		rx->fail_next--;
	uv_write_t *w = malloc(sizeof(*w));
	uv_buf_t out = f ? uv_buf_init((char *)fail, sizeof(fail) - 1)
			 : uv_buf_init((char *)ok, sizeof(ok) - 1);
	uv_write(w, s, &out, 1, rx_written);
}

static void rx_accept(uv_stream_t *server, int status)
{
	struct receiver *rx = server->data;
	struct rx_conn *c = calloc(1, sizeof(*c));
	c->rx = rx;
	buf_init(&c->in);
	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
	uv_read_start((uv_stream_t *)&c->tcp, rx_alloc, rx_read);
}

static void rx_open(struct receiver *rx, uv_loop_t *loop)
{
	struct sockaddr_in a;
	memset(rx, 0, sizeof(*rx));
	uv_ip4_addr("127.0.0.1", 0, &a);
	uv_tcp_init(loop, &rx->server);
	rx->server.data = rx;
	assert_int_equal(uv_tcp_bind(&rx->server, (const struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&rx->server, 16, rx_accept), 0);
	int len = sizeof(a);
	uv_tcp_getsockname(&rx->server, (struct sockaddr *)&a, &len);
	rx->port = ntohs(a.sin_port);
}

static void rx_close(struct receiver *rx)
{
	uv_close((uv_handle_t *)&rx->server, NULL);
	for (size_t i = 0; i < rx->count; i++) {
		free(rx->bodies[i]);
		free(rx->lines[i]);
	}
}

/* Runs the loop until the receiver has `n` requests (or 5 s went by). */
static void run_until(uv_loop_t *loop, struct receiver *rx, size_t n)
{
	uint64_t end = uv_now(loop) + 5000;
	while (rx->count < n && uv_now(loop) < end) {
		uv_run(loop, UV_RUN_ONCE);
		uv_update_time(loop);
	}
}

static void stop_cb(uv_timer_t *t)
{
	uv_timer_stop(t);
}

static void run_for(uv_loop_t *loop, uint64_t ms)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, stop_cb, ms, 0);
	uv_run(loop, UV_RUN_ONCE);
	while (uv_is_active((uv_handle_t *)&t))
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* A channel event as channel_event_fire would make it, with the headers the
 * webhook reads; `vars` are name/value pairs of variable_<name> headers. */
static void fire(struct core *core, const char *name, const char *uuid, const char *const *vars)
{
	struct core_event *ev;
	assert_int_equal(core_event_create(&ev, name, NULL), 0);
	core_event_add_header(ev, "Unique-ID", "%s", uuid);
	core_event_add_header(ev, "Call-Direction", "inbound");
	core_event_add_header(ev, "Caller-Caller-ID-Number", "1000");
	core_event_add_header(ev, "Caller-Destination-Number", "9196");
	if (strcmp(name, "CHANNEL_HANGUP_COMPLETE") == 0) {
		core_event_add_header(ev, "Hangup-Cause", "USER_BUSY");
		core_event_add_header(ev, "variable_hangup_cause_q850", "17");
		core_event_add_header(ev, "variable_duration", "9");
		core_event_add_header(ev, "variable_billsec", "4");
	}
	for (size_t i = 0; vars && vars[i]; i += 2)
		core_event_add_header(ev, vars[i], "%s", vars[i + 1]);
	core_event_fire(core, ev);
}

static void fire_call(struct core *core, const char *uuid, const char *const *vars_from_answer)
{
	fire(core, "CHANNEL_CREATE", uuid, NULL);
	fire(core, "CHANNEL_PROGRESS", uuid, NULL);
	fire(core, "CHANNEL_ANSWER", uuid, vars_from_answer);
	fire(core, "CHANNEL_HANGUP_COMPLETE", uuid, vars_from_answer);
	fire(core, "CHANNEL_DESTROY", uuid, vars_from_answer);
}

static bool has(const char *body, const char *part)
{
	return body && strstr(body, part) != NULL;
}

struct fixture {
	struct test_core t;
	struct receiver rx;
	struct webhook *wh;
	struct webhook_settings set;
};

static void fixture_open(struct fixture *f, bool default_url)
{
	test_core_open(&f->t);
	rx_open(&f->rx, &f->t.loop);
	f->set = (struct webhook_settings){
	    .tries = 3, .retry_ms = 50, .timeout_ms = 2000, .queue_max = 100};
	if (default_url)
		snprintf(f->set.url, sizeof(f->set.url), "http://127.0.0.1:%u/status", f->rx.port);
	assert_int_equal(webhook_create(&f->wh, &f->t.loop, f->t.core, &f->set), 0);
}

static void fixture_close(struct fixture *f)
{
	webhook_destroy(f->wh);
	rx_close(&f->rx);
	uv_run(&f->t.loop, UV_RUN_NOWAIT);
	test_core_close(&f->t);
}

static void test_order_and_retry(void **state)
{
	struct fixture f;
	fixture_open(&f, true);
	f.rx.fail_next = 0;
	fire(f.t.core, "CHANNEL_CREATE", "call-a", NULL);
	/* Nothing before the dialplan ran something other than set. */
	fire(f.t.core, "CHANNEL_EXECUTE", "call-a",
	     (const char *const[]){"Application", "set", NULL});
	run_for(&f.t.loop, 50);
	assert_int_equal(f.rx.count, 0);
	fire(f.t.core, "CHANNEL_EXECUTE", "call-a",
	     (const char *const[]){"Application", "playback", NULL});
	run_until(&f.t.loop, &f.rx, 1);
	assert_int_equal(f.rx.count, 1);
	/* The ringing one fails once: answered and completed wait for its retry. */
	f.rx.fail_next = 1;
	fire(f.t.core, "CHANNEL_PROGRESS", "call-a", NULL);
	fire(f.t.core, "CHANNEL_PROGRESS_MEDIA", "call-a", NULL); /* ringing once */
	fire(f.t.core, "CHANNEL_ANSWER", "call-a", NULL);
	fire(f.t.core, "CHANNEL_HANGUP_COMPLETE", "call-a", NULL);
	fire(f.t.core, "CHANNEL_DESTROY", "call-a", NULL);
	run_until(&f.t.loop, &f.rx, 5);
	assert_int_equal(f.rx.count, 5);
	const char *want[] = {"initiated", "ringing", "ringing", "answered", "completed"};
	for (size_t i = 0; i < 5; i++) {
		char s[64];
		snprintf(s, sizeof(s), "CallStatus=%s&", want[i]);
		assert_true(has(f.rx.bodies[i], s));
		assert_true(has(f.rx.bodies[i], "CallSid=call-a&"));
		assert_string_equal(f.rx.lines[i], "POST /status HTTP/1.1");
	}
	assert_true(has(f.rx.bodies[4], "SequenceNumber=3&"));
	assert_true(has(f.rx.bodies[4], "&CallDuration=9&BillSec=4&HangupCause=USER_BUSY&"
					"HangupCauseCode=17"));
	run_for(&f.t.loop, 100);
	assert_int_equal(f.rx.count, 5); /* nothing more */
	struct webhook_stats st;
	webhook_stats_get(f.wh, &st);
	assert_int_equal(st.delivered, 4);
	assert_int_equal(st.retried, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.pending, 0);

	/* The metrics show them. */
	struct buf b;
	buf_init(&b);
	core_metrics_print(f.t.core, &b);
	buf_append(&b, "", 1);
	assert_true(has(b.p, "irisx_status_callbacks_total{result=\"delivered\"} 4\n"));
	assert_true(has(b.p, "irisx_status_callbacks_total{result=\"retried\"} 1\n"));
	buf_fini(&b);
	fixture_close(&f);
}

static void test_per_call_url(void **state)
{
	struct fixture f;
	fixture_open(&f, false);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/cb?k=v", f.rx.port);
	/* No URL at all: nothing is sent. */
	fire_call(f.t.core, "call-none", NULL);
	/* The dialplan sets it once the call runs: initiated and ringing still
	 * come first, as JSON by GET. */
	const char *vars[] = {"variable_status_callback", url, "variable_status_callback_format",
			      "json", "variable_status_callback_method", "GET", NULL};
	fire_call(f.t.core, "call-b", vars);
	run_until(&f.t.loop, &f.rx, 4);
	run_for(&f.t.loop, 50);
	assert_int_equal(f.rx.count, 4);
	const char *want[] = {"initiated", "ringing", "answered", "completed"};
	for (size_t i = 0; i < 4; i++) {
		char s[64];
		/* GET: the JSON is in the query, percent-encoded by nobody: the
		 * receiver sees it raw after "?k=v&". */
		assert_true(has(f.rx.lines[i], "GET /cb?k=v&{\"CallSid\":\"call-b\""));
		snprintf(s, sizeof(s), "\"CallStatus\":\"%s\"", want[i]);
		assert_true(has(f.rx.lines[i], s));
	}
	fixture_close(&f);
}

/* A default URL, and a dialplan that sets its own before anything else: even
 * "initiated" goes to the call's URL. */
static void test_dialplan_overrides_default(void **state)
{
	struct fixture f;
	fixture_open(&f, true);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/mine", f.rx.port);
	fire(f.t.core, "CHANNEL_CREATE", "call-e", NULL);
	fire(f.t.core, "CHANNEL_EXECUTE", "call-e",
	     (const char *const[]){"Application", "set", NULL});
	fire(f.t.core, "CHANNEL_EXECUTE", "call-e",
	     (const char *const[]){"Application", "answer", "variable_status_callback", url, NULL});
	fire(f.t.core, "CHANNEL_ANSWER", "call-e",
	     (const char *const[]){"variable_status_callback", url, NULL});
	run_until(&f.t.loop, &f.rx, 2);
	run_for(&f.t.loop, 50);
	assert_int_equal(f.rx.count, 2);
	assert_string_equal(f.rx.lines[0], "POST /mine HTTP/1.1");
	assert_true(has(f.rx.bodies[0], "CallStatus=initiated&"));
	assert_string_equal(f.rx.lines[1], "POST /mine HTTP/1.1");
	assert_true(has(f.rx.bodies[1], "CallStatus=answered&"));
	fixture_close(&f);
}

static void test_receiver_down(void **state)
{
	struct fixture f;
	fixture_open(&f, false);
	/* A port nothing listens on: every try is refused. */
	struct receiver dead;
	rx_open(&dead, &f.t.loop);
	uint16_t port = dead.port;
	rx_close(&dead);
	uv_run(&f.t.loop, UV_RUN_NOWAIT);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	const char *vars[] = {"variable_status_callback", url, NULL};
	fire(f.t.core, "CHANNEL_CREATE", "call-c", vars);
	fire(f.t.core, "CHANNEL_HANGUP_COMPLETE", "call-c", NULL);
	fire(f.t.core, "CHANNEL_DESTROY", "call-c", NULL);
	struct webhook_stats st;
	uint64_t end = uv_now(&f.t.loop) + 5000;
	do {
		uv_run(&f.t.loop, UV_RUN_ONCE);
		uv_update_time(&f.t.loop);
		webhook_stats_get(f.wh, &st);
	} while (st.pending && uv_now(&f.t.loop) < end);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.failed, 2);	 /* initiated and completed, each */
	assert_int_equal(st.retried, 4); /* after three tries */
	assert_int_equal(st.delivered, 0);
	fixture_close(&f);
}

static void test_queue_limit(void **state)
{
	struct fixture f;
	fixture_open(&f, true);
	webhook_destroy(f.wh);
	f.set.queue_max = 3;
	assert_int_equal(webhook_create(&f.wh, &f.t.loop, f.t.core, &f.set), 0);
	fire_call(f.t.core, "call-d", NULL); /* 4 statuses: the last is dropped */
	run_until(&f.t.loop, &f.rx, 3);
	run_for(&f.t.loop, 50);
	assert_int_equal(f.rx.count, 3);
	struct webhook_stats st;
	webhook_stats_get(f.wh, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.delivered, 3);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_settings),	    cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_order_and_retry), cmocka_unit_test(test_per_call_url),
	    cmocka_unit_test(test_dialplan_overrides_default),
	    cmocka_unit_test(test_receiver_down),   cmocka_unit_test(test_queue_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
