/*
 * The HTTP door's machinery: route patterns and matching (params, literal
 * over {name}, 404 / 405 with Allow), the query string's decoding, the
 * Bearer check and the rate limiter (on a server without sockets), and a
 * real libmicrohttpd server on a free loopback port: a synchronous reply,
 * one answered later from the loop, a body over max-body, a streamed body
 * and a connection taken over with 101.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define TOKEN "0123456789abcdef0123"

static uv_loop_t loop;

/* ---- a server without sockets: replies land here ---- */

struct answer {
	unsigned status;
	char headers[1024];
	char body[8192];
	int count;
};
static struct answer last;

static void capture(void *arg, struct http_req *req)
{
	memset(&last, 0, sizeof(last));
	last.status = req->status;
	if (req->reply_headers.len)
		snprintf(last.headers, sizeof(last.headers), "%s", req->reply_headers.p);
	snprintf(last.body, sizeof(last.body), "%.*s", (int)req->reply_len,
		 req->reply_body ? req->reply_body : "");
	(*(int *)arg)++;
}

static void echo_params(struct http_req *req, void *arg)
{
	json_t *doc = json_object();
	for (size_t i = 0; i < req->param_count; i++)
		json_object_set_new(doc, req->params[i].name, json_string(req->params[i].value));
	json_object_set_new(doc, "route", json_string(arg));
	const char *q = http_query(req, "q");
	if (q)
		json_object_set_new(doc, "q", json_string(q));
	http_reply_json(req, 200, doc);
}

static struct http_settings settings(void)
{
	struct http_settings s = {.listen_ip = "127.0.0.1", .max_body = 1024, .enabled = true};
	snprintf(s.tokens[0], sizeof(s.tokens[0]), "%s", TOKEN);
	s.token_count = 1;
	return s;
}

static int delivered;

static struct http *detached(struct http_settings s)
{
	struct http *h = NULL;
	assert_int_equal(http__create_detached(&h, &loop, NULL, NULL, &s, capture, &delivered), 0);
	assert_int_equal(http_route_add(h, HTTP_GET, "/t/{a}/x/{b}", 0, echo_params, "ab"), 0);
	assert_int_equal(http_route_add(h, HTTP_GET, "/t/{a}/x/lit", 0, echo_params, "lit"), 0);
	assert_int_equal(http_route_add(h, HTTP_POST, "/t/{a}", 0, echo_params, "post"), 0);
	assert_int_equal(http_route_add(h, HTTP_DELETE, "/t/{a}", 0, echo_params, "del"), 0);
	return h;
}

static void done(struct http *h)
{
	http_destroy(h);
	uv_run(&loop, UV_RUN_NOWAIT);
}

static void run(struct http *h, const char *method, const char *target, const char *headers,
		const char *body)
{
	int before = delivered;
	struct http_req *r =
	    http__req_new(h, method, target, headers, body, body ? strlen(body) : 0);
	assert_non_null(r);
	http__dispatch(h, r);
	assert_int_equal(delivered, before + 1);
}

static void test_patterns(void **state)
{
	struct http *h = detached(settings());
	static const char *const bad[] = {"",	       "x",	 "/a//b",    "/a/",
					  "/{}",       "/a{b}",	 "/{a{b}}",  "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_route_add(h, HTTP_GET, bad[i], 0, echo_params, NULL), -EINVAL);
	assert_int_equal(http_route_add(h, HTTP_GET, "/t/{a}/x/{b}", 0, echo_params, NULL),
			 -EEXIST);
	assert_int_equal(http_route_add(h, HTTP_OTHER, "/z", 0, echo_params, NULL), -EINVAL);
	assert_int_equal(http_route_add(h, HTTP_GET, "/", 0, echo_params, "root"), 0);
	done(h);
}

static void test_matching(void **state)
{
	struct http *h = detached(settings());
	const char *auth = "Authorization: Bearer " TOKEN;

	run(h, "GET", "/t/one/x/two?q=a%20b+c", auth, NULL);
	assert_int_equal(last.status, 200);
	assert_string_equal(last.body, "{\"a\":\"one\",\"b\":\"two\",\"route\":\"ab\",\"q\":\"a b c\"}\n");

	/* A literal segment wins over {b}. */
	run(h, "GET", "/t/one/x/lit", auth, NULL);
	assert_non_null(strstr(last.body, "\"route\":\"lit\""));

	/* The path is decoded before matching, as MHD does. */
	run(h, "GET", "/t/o%2Fne/x/two", auth, NULL);
	assert_int_equal(last.status, 404);
	run(h, "GET", "/t/%41/x/two", auth, NULL);
	assert_non_null(strstr(last.body, "\"a\":\"A\""));

	/* HEAD follows GET's route. */
	run(h, "HEAD", "/t/one/x/two", auth, NULL);
	assert_int_equal(last.status, 200);

	static const char *const missing[] = {"/t",	   "/t/one/x",	  "/t/one/x/two/three",
					      "/t//x/two", "/t/one/y/two", "/nothing",
					      "/t/one/x/"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		run(h, "GET", missing[i], auth, NULL);
		assert_int_equal(last.status, 404);
		assert_non_null(strstr(last.body, "\"error\":\"not_found\""));
	}

	/* The path exists under other methods: 405 with what is allowed. */
	run(h, "PUT", "/t/one", auth, NULL);
	assert_int_equal(last.status, 405);
	assert_non_null(strstr(last.headers, "Allow: POST, DELETE\n"));
	run(h, "BREW", "/t/one", auth, NULL);
	assert_int_equal(last.status, 405);
	run(h, "DELETE", "/t/one", auth, NULL);
	assert_non_null(strstr(last.body, "\"route\":\"del\""));

	/* OPTIONS answers without a token. */
	run(h, "OPTIONS", "/t/one", NULL, NULL);
	assert_int_equal(last.status, 204);
	assert_non_null(strstr(last.headers, "Allow: POST, DELETE, OPTIONS\n"));
	done(h);
}

static void test_query_decoding(void **state)
{
	struct http *h = detached(settings());
	struct http_req *r = http__req_new(h, "GET", "/x?a=1&b&c=%7e%41&&d=x=y&a=2", NULL, NULL, 0);
	assert_non_null(r);
	assert_int_equal(r->query_count, 5);
	assert_string_equal(http_query(r, "a"), "1");
	assert_string_equal(http_query(r, "b"), "");
	assert_string_equal(http_query(r, "c"), "~A");
	assert_string_equal(http_query(r, "d"), "x=y");
	assert_null(http_query(r, "e"));
	http__dispatch(h, r); /* frees it (401 answered) */

	static const char *const bad[] = {"/x?a=%", "/x?a=%4", "/x?a=%zz", "/x?%g0=1", "/%",
					  "/a%00b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(http__req_new(h, "GET", bad[i], NULL, NULL, 0));

	char many[HTTP_KV_MAX * 4 + 64] = "/x?";
	for (int i = 0; i <= HTTP_KV_MAX; i++)
		strcat(many, "a=1&");
	assert_null(http__req_new(h, "GET", many, NULL, NULL, 0));
	done(h);
}

static void test_auth(void **state)
{
	struct http *h = detached(settings());
	static const char *const wrong[] = {
	    NULL,
	    "Authorization: Bearer",
	    "Authorization: Bearer ",
	    "Authorization: Bearer 0123456789abcdef012",
	    "Authorization: Bearer 0123456789abcdef01234",
	    "Authorization: Basic " TOKEN,
	    "X-Token: " TOKEN,
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		run(h, "GET", "/t/a/x/b", wrong[i], NULL);
		assert_int_equal(last.status, 401);
		assert_non_null(strstr(last.headers, "WWW-Authenticate: Bearer"));
	}
	/* Unknown paths do not tell an anonymous client what exists. */
	run(h, "GET", "/nothing", NULL, NULL);
	assert_int_equal(last.status, 401);
	/* Public routes need no token. */
	run(h, "GET", "/v1/openapi.json", NULL, NULL);
	assert_int_equal(last.status, 200);
	run(h, "GET", "/t/a/x/b", "authorization: bearer " TOKEN, NULL);
	assert_int_equal(last.status, 200);
	struct http_stats st;
	http_stats_get(h, &st);
	assert_int_equal(st.unauthorized, 8);
	done(h);
}

static void test_rate_limit(void **state)
{
	struct http_settings s = settings();
	s.rate = 1;
	s.burst = 3;
	snprintf(s.tokens[1], sizeof(s.tokens[1]), "another-token-0123456789");
	s.token_count = 2;
	struct http *h = detached(s);
	for (int i = 0; i < 3; i++) {
		run(h, "GET", "/t/a/x/b", "Authorization: Bearer " TOKEN, NULL);
		assert_int_equal(last.status, 200);
	}
	run(h, "GET", "/t/a/x/b", "Authorization: Bearer " TOKEN, NULL);
	assert_int_equal(last.status, 429);
	assert_non_null(strstr(last.headers, "Retry-After: 1\n"));
	/* Each token has its own bucket. */
	run(h, "GET", "/t/a/x/b", "Authorization: Bearer another-token-0123456789", NULL);
	assert_int_equal(last.status, 200);
	/* Public routes are not limited. */
	run(h, "GET", "/v1/openapi.json", NULL, NULL);
	assert_int_equal(last.status, 200);
	done(h);
}

static void test_json_body(void **state)
{
	struct http *h = detached(settings());
	static const char *const bad[] = {"{", "[1]", "\"x\"", "{\"a\":1,\"a\":2}", "{} x", "  "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_req *r = http__req_new(h, "POST", "/x", NULL, bad[i], strlen(bad[i]));
		assert_non_null(r);
		int before = delivered;
		/* (the route table is not involved: the body reader answers 400) */
		r->stage = HTTP_STAGE_LOOP;
		assert_null(http_body_json(r, false));
		assert_int_equal(delivered, before + 1);
		assert_int_equal(last.status, 400);
	}
	struct http_req *r = http__req_new(h, "POST", "/x", NULL, " ", 1);
	json_t *doc = http_body_json(r, true);
	assert_true(json_is_object(doc));
	json_decref(doc);
	http_reply(r, 204, NULL, NULL, 0);
	done(h);
}

/* The served OpenAPI document parses and describes every registered route. */
static int routes_seen;

static void route_documented(void *arg, enum http_method method, const char *pattern)
{
	json_t *paths = json_object_get(arg, "paths");
	json_t *item = json_object_get(paths, pattern);
	char lower[16];
	snprintf(lower, sizeof(lower), "%s", http_method_name(method));
	for (char *c = lower; *c; c++)
		*c = (char)(*c - 'A' + 'a');
	if (!json_is_object(json_object_get(item, lower)))
		fail_msg("%s %s is not in docs/openapi.json", http_method_name(method), pattern);
	routes_seen++;
}

static void test_openapi(void **state)
{
	struct http *h = NULL;
	struct http_settings s = settings();
	assert_int_equal(http__create_detached(&h, &loop, NULL, NULL, &s, capture, &delivered), 0);
	run(h, "GET", "/v1/openapi.json", NULL, NULL);
	assert_int_equal(last.status, 200);
	json_error_t err;
	json_t *doc = json_loadb(http__openapi_json, http__openapi_json_len, 0, &err);
	if (!doc)
		fail_msg("docs/openapi.json: line %d: %s", err.line, err.text);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
	http_route_each(h, route_documented, doc);
	assert_true(routes_seen >= 17);
	/* And nothing documented that is not served. */
	const char *path;
	json_t *item;
	size_t documented = 0;
	json_object_foreach(json_object_get(doc, "paths"), path, item) {
		const char *m;
		json_t *op;
		json_object_foreach(item, m, op) documented += strcmp(m, "parameters") != 0;
	}
	assert_int_equal(documented, (size_t)routes_seen);
	json_decref(doc);
	done(h);
}

/* ---- a real server ---- */

static uv_timer_t later_timer;
static struct http_req *later_req;

static void later_fire(uv_timer_t *t)
{
	http_reply(later_req, 202, "text/plain", "later\n", 6);
	later_req = NULL;
}

static void later(struct http_req *req, void *arg)
{
	later_req = req;
	uv_timer_start(&later_timer, later_fire, 20, 0);
}

static void body_len(struct http_req *req, void *arg)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%zu\n", req->body_len);
	http_reply(req, 200, "text/plain", text, (size_t)n);
}

static struct http_stream *stream;
static int stream_closed;

static void stream_closed_cb(void *arg)
{
	stream_closed++;
	stream = NULL;
}

static void streamed(struct http_req *req, void *arg)
{
	stream = http_stream_start(req, 200, "text/event-stream", stream_closed_cb, NULL);
	assert_non_null(stream);
	assert_true(http_stream_write(stream, "data: one\n\n", 11) >= 0);
}

static struct http_upgraded *upgraded;
static int upgraded_fd = -1;
static char upgraded_extra[64];

static void on_upgraded(void *arg, struct http_upgraded *u, int fd, const char *extra,
			size_t len)
{
	upgraded = u;
	upgraded_fd = fd;
	snprintf(upgraded_extra, sizeof(upgraded_extra), "%.*s", (int)len, extra);
}

static void upgrade(struct http_req *req, void *arg)
{
	http_reply_header(req, "Upgrade", "test-proto");
	http_upgrade(req, on_upgraded, NULL, NULL);
}

static int connect_to(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Sends `req` and reads until `needle` is in the reply (pumping the loop). */
static void exchange(int fd, const char *req, size_t req_len, const char *needle, char *out,
		     size_t out_size)
{
	if (req)
		assert_int_equal(send(fd, req, req_len, MSG_NOSIGNAL), (ssize_t)req_len);
	size_t len = strlen(out);
	uint64_t until = clock_now_ms() + 5000;
	while (!strstr(out, needle)) {
		assert_true(clock_now_ms() < until);
		uv_run(&loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, out + len, out_size - 1 - len, MSG_DONTWAIT);
		if (n > 0)
			len += (size_t)n;
		else
			poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 2);
		out[len] = '\0';
	}
}

static void test_server(void **state)
{
	struct http_settings s = settings();
	s.listen_port = 0;
	struct http *h = NULL;
	assert_int_equal(http_create(&h, &loop, NULL, NULL, &s), 0);
	assert_true(http_port(h) > 0);
	uv_timer_init(&loop, &later_timer);
	assert_int_equal(http_route_add(h, HTTP_GET, "/later", 0, later, NULL), 0);
	assert_int_equal(http_route_add(h, HTTP_POST, "/len", 0, body_len, NULL), 0);
	assert_int_equal(http_route_add(h, HTTP_GET, "/stream", 0, streamed, NULL), 0);
	assert_int_equal(http_route_add(h, HTTP_GET, "/up", 0, upgrade, NULL), 0);

	char out[16384] = "";
	int fd = connect_to(http_port(h));
	const char *r1 = "GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n";
	exchange(fd, r1, strlen(r1), "\"openapi\"", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200"));

	/* Keep-alive: the next request on the same connection, answered later. */
	out[0] = '\0';
	const char *r2 = "GET /later HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN
			 "\r\n\r\n";
	exchange(fd, r2, strlen(r2), "later\n", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 202"));

	out[0] = '\0';
	const char *r3 = "POST /len HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN
			 "\r\nContent-Length: 5\r\n\r\nhello";
	exchange(fd, r3, strlen(r3), "\r\n\r\n5\n", out, sizeof(out));

	/* Over max-body, announced and chunked. */
	out[0] = '\0';
	const char *r4 = "POST /len HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN
			 "\r\nContent-Length: 2000\r\n\r\n";
	exchange(fd, r4, strlen(r4), "too_large", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 413"));
	close(fd);

	fd = connect_to(http_port(h));
	out[0] = '\0';
	struct buf big;
	buf_init(&big);
	buf_printf(&big, "POST /len HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN
			 "\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 3; i++) {
		buf_printf(&big, "200\r\n");
		for (int j = 0; j < 0x200; j++)
			buf_append(&big, "x", 1);
		buf_printf(&big, "\r\n");
	}
	buf_printf(&big, "0\r\n\r\n");
	exchange(fd, big.p, big.len, "too_large", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 413"));
	buf_fini(&big);
	close(fd);

	/* A streamed body: chunks pushed from the loop, then its end. */
	fd = connect_to(http_port(h));
	out[0] = '\0';
	const char *r5 = "GET /stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOKEN
			 "\r\n\r\n";
	exchange(fd, r5, strlen(r5), "data: one\n\n", out, sizeof(out));
	assert_non_null(strstr(out, "text/event-stream"));
	assert_non_null(strstr(out, "Transfer-Encoding: chunked"));
	assert_true(http_stream_write(stream, "data: two\n\n", 11) >= 0);
	exchange(fd, NULL, 0, "data: two\n\n", out, sizeof(out));
	http_stream_close(stream);
	stream = NULL;
	exchange(fd, NULL, 0, "\r\n0\r\n\r\n", out, sizeof(out));
	close(fd);

	/* A stream whose client goes away: closed_cb once a write finds it gone. */
	fd = connect_to(http_port(h));
	out[0] = '\0';
	exchange(fd, r5, strlen(r5), "data: one\n\n", out, sizeof(out));
	close(fd);
	uint64_t until = clock_now_ms() + 5000;
	while (!stream_closed) {
		assert_true(clock_now_ms() < until);
		if (stream)
			http_stream_write(stream, "data: x\n\n", 9);
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(2000);
	}
	assert_null(stream);

	/* The socket handed over after 101, with what followed the request. */
	fd = connect_to(http_port(h));
	out[0] = '\0';
	const char *r6 = "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: "
			 "test-proto\r\nAuthorization: Bearer " TOKEN "\r\n\r\n";
	exchange(fd, r6, strlen(r6), "\r\n\r\n", out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 101"));
	assert_int_equal(send(fd, "ping", 4, MSG_NOSIGNAL), 4);
	int have_fd = 0;
	until = clock_now_ms() + 5000;
	while (!have_fd) {
		assert_true(clock_now_ms() < until);
		uv_run(&loop, UV_RUN_NOWAIT);
		have_fd = upgraded_fd >= 0;
		usleep(1000);
	}
	char got[16] = "";
	size_t got_len = strlen(upgraded_extra);
	memcpy(got, upgraded_extra, got_len);
	until = clock_now_ms() + 5000;
	while (got_len < 4) {
		assert_true(clock_now_ms() < until);
		ssize_t n = recv(upgraded_fd, got + got_len, 4 - got_len, MSG_DONTWAIT);
		if (n > 0)
			got_len += (size_t)n;
		usleep(1000);
	}
	assert_memory_equal(got, "ping", 4);
	assert_int_equal(send(upgraded_fd, "pong", 4, MSG_NOSIGNAL), 4);
	out[0] = '\0';
	exchange(fd, NULL, 0, "pong", out, sizeof(out));
	http_upgraded_close(upgraded);
	close(fd);

	/* A request still with its handler when the server stops: 503. */
	fd = connect_to(http_port(h));
	out[0] = '\0';
	assert_int_equal(send(fd, r2, strlen(r2), MSG_NOSIGNAL), (ssize_t)strlen(r2));
	until = clock_now_ms() + 5000;
	while (!later_req) {
		assert_true(clock_now_ms() < until);
		uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	uv_timer_stop(&later_timer);
	http_destroy(h);
	later_req = NULL;
	close(fd);
	uv_close((uv_handle_t *)&later_timer, NULL);
	/* (bounded: a failed test above may leave a handle open) */
	for (int i = 0; i < 10; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

int main(void)
{
	uv_loop_init(&loop);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_patterns),	 cmocka_unit_test(test_matching),
	    cmocka_unit_test(test_query_decoding), cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_rate_limit),	 cmocka_unit_test(test_json_body),
	    cmocka_unit_test(test_openapi),	 cmocka_unit_test(test_server),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	uv_loop_close(&loop);
	return failed;
}
