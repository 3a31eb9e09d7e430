/*
 * The HTTP door's events, health and metrics resources on a server without
 * sockets (http__create_detached) over a real core: /health's 200 and 503
 * (CDR store failing) and its fields, /metrics' content type and the door's
 * families, the SSE stream's filtered events with id:/event:/data: lines and
 * its resume with Last-Event-ID, and the refusals (bad filter, no upgrade,
 * wrong version, bad key) of both event routes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "control/http_int.h"
#include "test_core_event_util.h"

#define TOKEN "0123456789abcdef0123"
#define AUTH "Authorization: Bearer " TOKEN

struct answer {
	unsigned status;
	char headers[2048];
	char type[128];
	char *body;
	struct http_stream *stream;
};
static struct answer last;

static void capture(void *arg, struct http_req *req)
{
	free(last.body);
	memset(&last, 0, sizeof(last));
	last.status = req->status;
	if (req->reply_headers.p)
		snprintf(last.headers, sizeof(last.headers), "%.*s", (int)req->reply_headers.len,
			 req->reply_headers.p);
	last.body = strndup(req->reply_body ? req->reply_body : "", req->reply_len);
	last.stream = req->stream;
	snprintf(last.type, sizeof(last.type), "%s", req->reply_type ? req->reply_type : "");
}

struct fixture {
	struct test_core t;
	struct http *h;
};

static void open_all(struct fixture *f)
{
	test_core_open(&f->t);
	struct http_settings s = {.listen_ip = "127.0.0.1", .max_body = 1024, .enabled = true};
	snprintf(s.tokens[0], sizeof(s.tokens[0]), "%s", TOKEN);
	s.token_count = 1;
	assert_int_equal(http__create_detached(&f->h, &f->t.loop, f->t.core, NULL, &s, capture, NULL),
			 0);
}

static void close_all(struct fixture *f)
{
	http_destroy(f->h);
	uv_run(&f->t.loop, UV_RUN_NOWAIT);
	test_core_close(&f->t);
	free(last.body);
	memset(&last, 0, sizeof(last));
}

static void run(struct fixture *f, const char *target, const char *headers)
{
	struct http_req *r = http__req_new(f->h, "GET", target, headers, NULL, 0);
	assert_non_null(r);
	last.status = 0;
	http__dispatch(f->h, r);
	assert_int_not_equal(last.status, 0);
}

struct cdr_fake {
	bool failing;
};

static void cdr_cb(void *arg, struct core_cdr_status *out)
{
	struct cdr_fake *c = arg;
	out->failing = c->failing;
	out->queue_depth = 5;
	snprintf(out->detail, sizeof(out->detail), "%s", c->failing ? "disk full" : "sqlite");
}

static void test_health(void **state)
{
	struct fixture f;
	open_all(&f);
	/* Public: no token. The core never started, so its profiles are down. */
	run(&f, "/health", NULL);
	assert_int_equal(last.status, 503);
	json_t *doc = json_loads(last.body, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "status")), "fail");
	assert_true(json_array_size(json_object_get(doc, "profiles")) >= 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(json_object_get(doc, "profiles"), 0),
					      "state")),
	    "DOWN");
	assert_true(json_is_number(json_object_get(doc, "uptime")));
	assert_int_equal(json_integer_value(json_object_get(doc, "calls")), 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(doc, "cdr_store"), "status")), "none");
	assert_true(json_array_size(json_object_get(doc, "problems")) >= 1);
	json_decref(doc);

	struct cdr_fake cdr = {.failing = true};
	core_set_cdr_hook(f.t.core, &(struct core_cdr_hook){cdr_cb, &cdr});
	run(&f, "/health", NULL);
	assert_int_equal(last.status, 503);
	doc = json_loads(last.body, 0, NULL);
	json_t *c = json_object_get(doc, "cdr_store");
	assert_string_equal(json_string_value(json_object_get(c, "status")), "failing");
	assert_int_equal(json_integer_value(json_object_get(c, "queue_depth")), 5);
	assert_string_equal(json_string_value(json_object_get(c, "detail")), "disk full");
	bool named = false;
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(doc, "problems"), i, p)
	    named |= strstr(json_string_value(p), "CDR store failing: disk full") != NULL;
	assert_true(named);
	json_decref(doc);
	close_all(&f);
}

static void test_metrics(void **state)
{
	struct fixture f;
	open_all(&f);
	run(&f, "/metrics", NULL);
	assert_int_equal(last.status, 200);
	assert_string_equal(last.type, "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(last.body, "# TYPE irisx_calls_total counter\n"));
	assert_non_null(strstr(last.body, "irisx_http_event_clients{transport=\"websocket\"} 0\n"));
	assert_non_null(strstr(last.body, "# TYPE irisx_http_requests_total counter\n"));
	close_all(&f);
}

static void fire(struct core *core, const char *name, const char *uuid)
{
	struct core_event *ev;
	assert_int_equal(core_event_create(&ev, name, NULL), 0);
	core_event_add_header(ev, "Unique-ID", "%s", uuid);
	core_event_fire(core, ev);
}

/* Runs the loop until the stream's bytes contain `want` (or a second passed). */
static const char *stream_wait(struct fixture *f, struct http_stream *s, const char *want)
{
	for (int i = 0; i < 100; i++) {
		const struct buf *b = http__stream_buf(s);
		if (b->len && memmem(b->p, b->len, want, strlen(want)))
			return b->p;
		uv_run(&f->t.loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	return NULL;
}

static void test_sse(void **state)
{
	struct fixture f;
	open_all(&f);
	run(&f, "/v1/events/sse?events=CHANNEL_ANSWER", NULL);
	assert_int_equal(last.status, 401);
	run(&f, "/v1/events/sse?events=CHANNEL_ANSWER,,", AUTH);
	assert_int_equal(last.status, 400);
	run(&f, "/v1/events/sse?after=-1", AUTH);
	assert_int_equal(last.status, 400);
	run(&f, "/v1/events/sse?uuid=zz", AUTH);
	assert_int_equal(last.status, 400);

	run(&f, "/v1/events/sse?events=CHANNEL_ANSWER,CHANNEL_HANGUP", AUTH);
	assert_int_equal(last.status, 200);
	assert_string_equal(last.type, "text/event-stream");
	struct http_stream *s = last.stream;
	assert_non_null(s);
	fire(f.t.core, "CHANNEL_CREATE", "a-1");
	fire(f.t.core, "CHANNEL_ANSWER", "a-1");
	fire(f.t.core, "CHANNEL_HANGUP", "a-1");
	const char *text = stream_wait(&f, s, "event: CHANNEL_HANGUP\n");
	assert_non_null(text);
	assert_int_equal(strncmp(text, ": irisx events\n\n", 16), 0);
	assert_null(strstr(text, "CHANNEL_CREATE"));
	const char *ans = strstr(text, "event: CHANNEL_ANSWER\ndata: {");
	assert_non_null(ans);
	/* id: comes first, and is the event's sequence. */
	const char *id = strstr(text, "id: ");
	assert_non_null(id);
	assert_true(id < ans);
	unsigned long long seq = strtoull(id + 4, NULL, 10);
	char want[64];
	snprintf(want, sizeof(want), "\"Event-Sequence\":\"%llu\"", seq);
	assert_non_null(strstr(ans, want));

	/* Resume after the ANSWER: only the HANGUP is replayed. */
	char hdr[128];
	snprintf(hdr, sizeof(hdr), AUTH "\nLast-Event-ID: %llu", seq);
	run(&f, "/v1/events/sse?events=CHANNEL_ANSWER,CHANNEL_HANGUP&uuid=a-1", hdr);
	assert_int_equal(last.status, 200);
	text = stream_wait(&f, last.stream, "event: CHANNEL_HANGUP\n");
	assert_non_null(text);
	assert_null(strstr(text, "event: CHANNEL_ANSWER"));
	close_all(&f);
}

static void test_ws_refusals(void **state)
{
	struct fixture f;
	open_all(&f);
	run(&f, "/v1/events", AUTH);
	assert_int_equal(last.status, 426);
	run(&f, "/v1/events",
	    AUTH "\nUpgrade: websocket\nConnection: keep-alive, Upgrade\nSec-WebSocket-Version: 8\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
	assert_int_equal(last.status, 426);
	assert_non_null(strstr(last.headers, "Sec-WebSocket-Version: 13"));
	run(&f, "/v1/events",
	    AUTH "\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\n"
		 "Sec-WebSocket-Key: short==");
	assert_int_equal(last.status, 400);
	run(&f, "/v1/events?events=A%20B",
	    AUTH "\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\n"
		 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
	assert_int_equal(last.status, 400);
	close_all(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health),
	    cmocka_unit_test(test_metrics),
	    cmocka_unit_test(test_sse),
	    cmocka_unit_test(test_ws_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
