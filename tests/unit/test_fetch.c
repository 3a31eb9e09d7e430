/*
 * fetch: requests from a libuv loop against a small HTTP server on loopback
 * (test_http_server.h) whose answers this file chooses per path, so that each
 * scenario picks what the server does: answer, redirect, stay silent, send
 * more than allowed. Covers bodies and content types, what a POST puts on
 * the wire, timeouts, refused connections, the body limit, schemes refused
 * at start, cancellation (the server sees the connection close), downloads
 * (content, no .part left, nothing left when cancelled or failed), redirects
 * and fetch_destroy with requests in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "base/base.h"
#include "fetch/fetch.h"
#include "test_http_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

/* ---- the server: what each path answers ---- */

enum { BIG_BODY = 5 * 1024 * 1024, FILE_BODY = 3 * 1024 * 1024 + 17 };

static char file_body[FILE_BODY];

static void answer_cb(void *arg, struct test_http_server *srv, int fd, const char *path,
		      const char *req)
{
	(void)arg;
	(void)req;
	if (strcmp(path, "/ok") == 0 || strcmp(path, "/echo") == 0) {
		static const char body[] = "hello world";
		test_http_send_head(fd, "200 OK", "Content-Type: text/plain; charset=utf-8\r\n",
				    sizeof(body) - 1);
		test_http_send_all(fd, body, sizeof(body) - 1);
	} else if (strcmp(path, "/keepalive") == 0) {
		static const char keep[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
		test_http_send_all(fd, keep, sizeof(keep) - 1);
		test_http_wait_close(srv, fd, -1);
	} else if (strcmp(path, "/notfound") == 0) {
		static const char body[] = "no such thing";
		test_http_send_head(fd, "404 Not Found", "Content-Type: text/plain\r\n",
				    sizeof(body) - 1);
		test_http_send_all(fd, body, sizeof(body) - 1);
	} else if (strcmp(path, "/redirect") == 0) {
		test_http_send_head(fd, "302 Found", "Location: /ok\r\n", 0);
	} else if (strcmp(path, "/redirect-ftp") == 0) {
		test_http_send_head(fd, "302 Found", "Location: ftp://127.0.0.1/x\r\n", 0);
	} else if (strcmp(path, "/big") == 0 || strcmp(path, "/big-unsized") == 0) {
		/* Content-Length declared, or the body ends with the connection. */
		if (strcmp(path, "/big") == 0) {
			test_http_send_head(fd, "200 OK", "", BIG_BODY);
		} else {
			static const char head[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
			test_http_send_all(fd, head, sizeof(head) - 1);
		}
		char *b = calloc(1, BIG_BODY);
		test_http_send_all(fd, b, BIG_BODY);
		free(b);
	} else if (strcmp(path, "/file") == 0) {
		test_http_send_head(fd, "200 OK", "Content-Type: audio/wav\r\n", sizeof(file_body));
		test_http_send_all(fd, file_body, sizeof(file_body));
	} else { /* /silent: never answers */
		test_http_wait_close(srv, fd, -1);
	}
}

/* ---- the client side ---- */

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

struct result {
	int calls;
	struct fetch_response r; /* strings copied below */
	char *body, *content_type, *effective_url;
};

static void done_cb(void *arg, const struct fetch_response *r)
{
	struct result *res = arg;
	res->calls++;
	res->r = *r;
	res->body = r->body ? strndup(r->body, r->body_len) : NULL;
	res->content_type = r->content_type ? strdup(r->content_type) : NULL;
	res->effective_url = r->effective_url ? strdup(r->effective_url) : NULL;
	if (r->body)
		assert_int_equal(r->body[r->body_len], '\0');
}

static void result_fini(struct result *res)
{
	free(res->body);
	free(res->content_type);
	free(res->effective_url);
}

struct fixture {
	uv_loop_t loop;
	uv_timer_t tick; /* keeps UV_RUN_ONCE from sleeping forever */
	struct fetch *f;
	struct test_http_server srv;
	char url[256];
};

static void tick_cb(uv_timer_t *t)
{
}

static void fixture_open(struct fixture *fx)
{
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	uv_timer_init(&fx->loop, &fx->tick);
	assert_int_equal(fetch_create(&fx->f, &fx->loop), 0);
	test_http_start(&fx->srv, answer_cb, NULL);
}

/* The URL of `path` on the test server (valid until the next call). */
static const char *url(struct fixture *fx, const char *path)
{
	return test_http_url(&fx->srv, path, fx->url, sizeof(fx->url));
}

/* Runs the loop until *flag becomes nonzero or `ms` go by; true if it did. */
static bool run_until(struct fixture *fx, const int *flag, uint64_t ms)
{
	uv_timer_start(&fx->tick, tick_cb, 10, 10);
	uint64_t end = uv_now(&fx->loop) + ms;
	while (!*flag && uv_now(&fx->loop) < end)
		uv_run(&fx->loop, UV_RUN_ONCE);
	uv_timer_stop(&fx->tick);
	return *flag != 0;
}

static void run_for(struct fixture *fx, uint64_t ms)
{
	int never = 0;
	run_until(fx, &never, ms);
}

/* Runs the loop until count(server) reaches n, for 5 s at the most. */
static void run_until_server(struct fixture *fx, size_t (*count)(struct test_http_server *),
			     size_t n)
{
	uint64_t end = uv_now(&fx->loop) + 5000;
	while (count(&fx->srv) < n && uv_now(&fx->loop) < end)
		run_for(fx, 10);
}

/* Starts req and runs the loop until its callback has run (asserted). */
static void fetch_run(struct fixture *fx, const struct fetch_request *req, struct result *res)
{
	assert_int_equal(fetch_start(fx->f, req, done_cb, res, NULL), 0);
	assert_true(run_until(fx, &res->calls, 5000));
}

static void fixture_close(struct fixture *fx)
{
	fetch_destroy(fx->f);
	uv_close((uv_handle_t *)&fx->tick, NULL);
	/* The fetch's handles close and its disk work ends; nothing else runs. */
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	test_http_stop(&fx->srv);
}

static void test_get(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	struct fetch_request req = {.url = url(&fx, "/ok")};
	struct fetch_op *op = NULL;
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, &op), 0);
	assert_non_null(op);
	assert_int_equal(fetch_in_flight(fx.f), 1);
	assert_int_equal(res.calls, 0); /* never from fetch_start */
	assert_true(run_until(&fx, &res.calls, 5000));
	assert_int_equal(res.r.error, 0);
	assert_null(res.r.error_text);
	assert_int_equal(res.r.status, 200);
	assert_string_equal(res.body, "hello world");
	assert_int_equal(res.r.body_len, 11);
	assert_string_equal(res.content_type, "text/plain; charset=utf-8");
	assert_string_equal(res.effective_url, url(&fx, "/ok"));
	assert_true(res.r.elapsed_us > 0 && res.r.elapsed_us < 5000000);
	assert_int_equal(fetch_in_flight(fx.f), 0);
	assert_int_equal(test_http_requests(&fx.srv), 1);
	assert_non_null(strstr(test_http_request(&fx.srv, 0), "GET /ok HTTP/1.1\r\n"));
	assert_non_null(
	    strstr(test_http_request(&fx.srv, 0), "\r\nUser-Agent: irisx/" IRISX_VERSION "\r\n"));
	result_fini(&res);
	fixture_close(&fx);
}

static void test_post(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	char body[] = "{\"k\":\"v\"}";
	struct fetch_request req = {
	    .url = url(&fx, "/echo"),
	    .body = body,
	    .body_len = strlen(body),
	    .content_type = "application/json",
	    .headers = {"X-Irisx-Test: yes", "Authorization: Bearer t0ken"},
	};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), 0);
	memset(body, 'x', strlen(body)); /* copied at start */
	assert_true(run_until(&fx, &res.calls, 5000));
	assert_int_equal(res.r.error, 0);
	assert_int_equal(res.r.status, 200);
	const char *got = test_http_request(&fx.srv, 0);
	assert_non_null(strstr(got, "POST /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(got, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(got, "\r\nX-Irisx-Test: yes\r\n"));
	assert_non_null(strstr(got, "\r\nAuthorization: Bearer t0ken\r\n"));
	assert_non_null(strstr(got, "\r\nContent-Length: 9\r\n"));
	assert_null(strcasestr(got, "Expect:"));
	assert_string_equal(strstr(got, "\r\n\r\n") + 4, "{\"k\":\"v\"}");
	result_fini(&res);

	/* A POST without a content type says it is a form; a larger body is
	 * sent at once too (no "Expect: 100-continue" wait). */
	static char large[1536 * 1024 + 1];
	memset(large, 'a', sizeof(large) - 1);
	struct result res2 = {0};
	struct fetch_request form = {
	    .url = url(&fx, "/echo"), .body = large, .body_len = sizeof(large) - 1};
	fetch_run(&fx, &form, &res2);
	assert_int_equal(res2.r.status, 200);
	got = test_http_request(&fx.srv, 1);
	assert_non_null(strstr(got, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
	assert_null(strcasestr(got, "Expect:"));
	assert_string_equal(strstr(got, "\r\n\r\n") + 4, large);
	result_fini(&res2);
	fixture_close(&fx);
}

static void test_bad_requests(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	const char *urls[] = {"ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://x/",
			      "127.0.0.1/x", ""};
	for (size_t i = 0; i < ARRAY_LEN(urls); i++) {
		struct fetch_request req = {.url = urls[i]};
		assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), -EPROTONOSUPPORT);
	}
	struct fetch_request req = {.url = url(&fx, "/ok"), .method = "DELETE"};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), -EINVAL);
	req = (struct fetch_request){.url = url(&fx, "/ok"), .method = "GET", .body = "x"};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), -EINVAL);
	req = (struct fetch_request){.url = url(&fx, "/ok"), .headers = {"Bad\r\nX: y"}};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), -EINVAL);
	req = (struct fetch_request){.url = url(&fx, "/ok"), .headers = {"no colon"}};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), -EINVAL);
	req = (struct fetch_request){
	    .url = url(&fx, "/ok"), .body = "x", .body_len = 1, .content_type = "a/b\r\nX: y"};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), -EINVAL);
	req = (struct fetch_request){.url = NULL};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), -EINVAL);
	assert_int_equal(fetch_in_flight(fx.f), 0);
	run_for(&fx, 100);
	assert_int_equal(res.calls, 0);
	assert_int_equal(test_http_requests(&fx.srv), 0);
	fixture_close(&fx);
}

static void test_timeout(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	struct fetch_request req = {.url = url(&fx, "/silent"), .timeout_ms = 300};
	fetch_run(&fx, &req, &res);
	assert_int_equal(res.r.error, -ETIMEDOUT);
	assert_non_null(res.r.error_text);
	assert_int_equal(res.r.status, 0);
	assert_true(res.r.elapsed_us >= 290000);
	assert_true(res.r.elapsed_us < 300000 + 1500000);
	result_fini(&res);
	fixture_close(&fx);
}

static void test_refused(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	/* A port just freed: nothing listens there. */
	int s;
	uint16_t port = test_tcp_port_unused(&s);
	close(s);
	char u[64];
	snprintf(u, sizeof(u), "http://127.0.0.1:%u/x", port);
	struct result res = {0};
	struct fetch_request req = {.url = u};
	fetch_run(&fx, &req, &res);
	assert_int_equal(res.r.error, -ECONNREFUSED);
	assert_int_equal(res.r.status, 0);
	assert_true(res.r.elapsed_us < 2000000);
	result_fini(&res);
	fixture_close(&fx);
}

static void test_too_big(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	/* Declared by Content-Length, and only known once it streams past. */
	const char *paths[] = {"/big", "/big-unsized"};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		struct result res = {0};
		struct fetch_request req = {.url = url(&fx, paths[i]), .max_body = 1024 * 1024};
		fetch_run(&fx, &req, &res);
		assert_int_equal(res.r.error, -EFBIG);
		assert_int_equal(res.r.status, 200);
		assert_true(res.r.body_len <= 1024 * 1024);
		result_fini(&res);
	}
	/* The default limit (1 MiB) too. */
	struct result res = {0};
	struct fetch_request req = {.url = url(&fx, "/big")};
	fetch_run(&fx, &req, &res);
	assert_int_equal(res.r.error, -EFBIG);
	result_fini(&res);
	/* Within the limit it all arrives. */
	struct result all = {0};
	req = (struct fetch_request){.url = url(&fx, "/big"), .max_body = BIG_BODY};
	fetch_run(&fx, &req, &all);
	assert_int_equal(all.r.error, 0);
	assert_int_equal(all.r.body_len, BIG_BODY);
	result_fini(&all);
	fixture_close(&fx);
}

static void test_not_found(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	struct fetch_request req = {.url = url(&fx, "/notfound")};
	fetch_run(&fx, &req, &res);
	assert_int_equal(res.r.error, 0);
	assert_int_equal(res.r.status, 404);
	assert_string_equal(res.body, "no such thing");
	assert_string_equal(res.content_type, "text/plain");
	result_fini(&res);
	fixture_close(&fx);
}

static void test_redirects(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	struct fetch_request req = {.url = url(&fx, "/redirect")};
	fetch_run(&fx, &req, &res);
	assert_int_equal(res.r.error, 0);
	assert_int_equal(res.r.status, 302);
	assert_string_equal(res.effective_url, url(&fx, "/redirect"));
	result_fini(&res);
	assert_int_equal(test_http_requests(&fx.srv), 1);

	struct result fol = {0};
	req.follow_redirects = true;
	fetch_run(&fx, &req, &fol);
	assert_int_equal(fol.r.error, 0);
	assert_int_equal(fol.r.status, 200);
	assert_string_equal(fol.body, "hello world");
	assert_string_equal(fol.effective_url, url(&fx, "/ok"));
	result_fini(&fol);
	assert_int_equal(test_http_requests(&fx.srv), 3);

	/* Followed to http(s) only. */
	struct result ftp = {0};
	req = (struct fetch_request){.url = url(&fx, "/redirect-ftp"), .follow_redirects = true};
	fetch_run(&fx, &req, &ftp);
	assert_int_equal(ftp.r.error, -EPROTONOSUPPORT);
	result_fini(&ftp);
	fixture_close(&fx);
}

static void test_cancel(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	struct fetch_op *op;
	struct fetch_request req = {.url = url(&fx, "/silent")};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, &op), 0);
	run_until_server(&fx, test_http_requests, 1);
	assert_int_equal(test_http_requests(&fx.srv), 1);
	fetch_cancel(op);
	assert_int_equal(fetch_in_flight(fx.f), 0);
	run_until_server(&fx, test_http_peers_closed, 1);
	assert_int_equal(test_http_peers_closed(&fx.srv), 1);
	run_for(&fx, 100);
	assert_int_equal(res.calls, 0);
	fixture_close(&fx);
}

static void test_download(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	for (size_t i = 0; i < sizeof(file_body); i++)
		file_body[i] = (char)(i * 7 + i / 251);
	char dir[] = "/tmp/irisx-fetch-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], part[160];
	snprintf(path, sizeof(path), "%s/a.wav", dir);
	snprintf(part, sizeof(part), "%s.part", path);
	struct result res = {0};
	struct fetch_request req = {
	    .url = url(&fx, "/file"), .download_path = path, .max_body = 8 * 1024 * 1024};
	fetch_run(&fx, &req, &res);
	assert_int_equal(res.r.error, 0);
	assert_int_equal(res.r.status, 200);
	assert_null(res.body);
	assert_string_equal(res.content_type, "audio/wav");
	assert_false(exists(part));
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *got = malloc(sizeof(file_body) + 1);
	assert_int_equal(fread(got, 1, sizeof(file_body) + 1, fp), sizeof(file_body));
	fclose(fp);
	assert_memory_equal(got, file_body, sizeof(file_body));
	free(got);
	unlink(path);
	result_fini(&res);

	/* Failures leave nothing: a 404 (its status, no body, no file), a body
	 * over the limit, a directory that does not exist. */
	const char *fails[] = {"/notfound", "/big"};
	for (size_t i = 0; i < ARRAY_LEN(fails); i++) {
		struct result r = {0};
		req = (struct fetch_request){
		    .url = url(&fx, fails[i]), .download_path = path, .max_body = 1024 * 1024};
		fetch_run(&fx, &req, &r);
		assert_int_equal(r.r.error, i == 0 ? 0 : -EFBIG);
		assert_int_equal(r.r.status, i == 0 ? 404 : 200);
		assert_null(r.body);
		assert_false(exists(path));
		assert_false(exists(part));
		result_fini(&r);
	}
	char nodir[160];
	snprintf(nodir, sizeof(nodir), "%s/missing/a.wav", dir);
	struct result r = {0};
	req = (struct fetch_request){
	    .url = url(&fx, "/file"), .download_path = nodir, .max_body = 8 * 1024 * 1024};
	fetch_run(&fx, &req, &r);
	assert_int_equal(r.r.error, -EIO);
	assert_int_equal(r.r.status, 200);
	result_fini(&r);
	assert_int_equal(rmdir(dir), 0); /* empty */
	fixture_close(&fx);
}

/* Holds every thread of libuv's pool, so that a download's file work waits. */
struct pool_block {
	uv_work_t work[4];
	uv_sem_t go;
};

static void block_work(uv_work_t *w)
{
	struct pool_block *b = w->data;
	uv_sem_wait(&b->go);
}

static void block_after(uv_work_t *w, int status)
{
}

static void test_download_cancel(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	char dir[] = "/tmp/irisx-fetch-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], part[160];
	snprintf(path, sizeof(path), "%s/b.wav", dir);
	snprintf(part, sizeof(part), "%s.part", path);

	/* Cancelled during the transfer. */
	struct result res = {0};
	struct fetch_op *op;
	struct fetch_request req = {.url = url(&fx, "/silent"), .download_path = path};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, &op), 0);
	run_until_server(&fx, test_http_requests, 1);
	fetch_cancel(op);
	run_for(&fx, 100);
	assert_int_equal(res.calls, 0);
	assert_false(exists(path));
	assert_false(exists(part));

	/* Cancelled once the body is in and its file is being written: the
	 * pool is held so that the open waits, then let go after the cancel. */
	struct pool_block b;
	uv_sem_init(&b.go, 0);
	for (size_t i = 0; i < ARRAY_LEN(b.work); i++) {
		b.work[i].data = &b;
		uv_queue_work(&fx.loop, &b.work[i], block_work, block_after);
	}
	req = (struct fetch_request){
	    .url = url(&fx, "/file"), .download_path = path, .max_body = 8 * 1024 * 1024};
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, &op), 0);
	run_until_server(&fx, test_http_requests, 2);
	run_for(&fx, 300); /* the body arrives; the file's open is queued */
	assert_int_equal(res.calls, 0);
	assert_int_equal(fetch_in_flight(fx.f), 1);
	fetch_cancel(op);
	assert_int_equal(fetch_in_flight(fx.f), 0);
	for (size_t i = 0; i < ARRAY_LEN(b.work); i++)
		uv_sem_post(&b.go);
	run_for(&fx, 300);
	assert_int_equal(res.calls, 0);
	assert_false(exists(path));
	assert_false(exists(part));

	/* And the same with fetch_destroy instead of a cancel. */
	for (size_t i = 0; i < ARRAY_LEN(b.work); i++)
		uv_queue_work(&fx.loop, &b.work[i], block_work, block_after);
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), 0);
	run_until_server(&fx, test_http_requests, 3);
	run_for(&fx, 300);
	assert_int_equal(fetch_in_flight(fx.f), 1);
	fetch_destroy(fx.f);
	for (size_t i = 0; i < ARRAY_LEN(b.work); i++)
		uv_sem_post(&b.go);
	uv_close((uv_handle_t *)&fx.tick, NULL);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx.loop), 0);
	test_http_stop(&fx.srv);
	uv_sem_destroy(&b.go);
	assert_int_equal(res.calls, 0);
	assert_false(exists(path));
	assert_false(exists(part));
	assert_int_equal(rmdir(dir), 0);
}

/* Destroyed with requests in flight: no callback, and (under ASan) no leak. */
static void test_destroy_in_flight(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	for (int i = 0; i < 3; i++) {
		struct fetch_request req = {.url = url(&fx, "/silent"), .body = "x", .body_len = 1};
		assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), 0);
	}
	struct fetch_request dl = {.url = url(&fx, "/silent"), .download_path = "/tmp/never.wav"};
	assert_int_equal(fetch_start(fx.f, &dl, done_cb, &res, NULL), 0);
	run_until_server(&fx, test_http_requests, 4);
	assert_int_equal(fetch_in_flight(fx.f), 4);
	fetch_destroy(fx.f);
	fx.f = NULL;
	/* Every connection is closed at once, before the loop runs again. */
	for (int i = 0; i < 500 && test_http_peers_closed(&fx.srv) < 4; i++)
		usleep(10000);
	assert_int_equal(test_http_peers_closed(&fx.srv), 4);
	fixture_close(&fx);
	assert_int_equal(res.calls, 0);
	assert_false(exists("/tmp/never.wav.part"));
}

/* A connection libcurl keeps for reuse is closed by fetch_destroy. */
static void test_destroy_keepalive(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	struct fetch_request req = {.url = url(&fx, "/keepalive")};
	fetch_run(&fx, &req, &res);
	assert_int_equal(res.r.status, 200);
	assert_string_equal(res.body, "ok");
	run_for(&fx, 50);
	assert_int_equal(test_http_peers_closed(&fx.srv), 0); /* kept */
	fetch_destroy(fx.f);
	fx.f = NULL;
	uv_run(&fx.loop, UV_RUN_NOWAIT);
	for (int i = 0; i < 500 && test_http_peers_closed(&fx.srv) < 1; i++)
		usleep(10000);
	assert_int_equal(test_http_peers_closed(&fx.srv), 1);
	result_fini(&res);
	fixture_close(&fx);
}

/* A callback may destroy the fetch that called it. */
static void destroy_cb(void *arg, const struct fetch_response *r)
{
	struct fixture *fx = arg;
	fetch_destroy(fx->f);
	fx->f = NULL;
}

static void test_destroy_from_callback(void **state)
{
	struct fixture fx;
	fixture_open(&fx);
	struct result res = {0};
	struct fetch_request req = {.url = url(&fx, "/ok")};
	assert_int_equal(fetch_start(fx.f, &req, destroy_cb, &fx, NULL), 0);
	req.url = url(&fx, "/silent");
	assert_int_equal(fetch_start(fx.f, &req, done_cb, &res, NULL), 0);
	uint64_t end = uv_now(&fx.loop) + 5000;
	while (fx.f && uv_now(&fx.loop) < end)
		run_for(&fx, 10);
	assert_null(fx.f);
	fixture_close(&fx); /* fetch_destroy(NULL) is a no-op */
	assert_int_equal(res.calls, 0);
}

int main(void)
{
	setenv("UV_THREADPOOL_SIZE", "4", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_post),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_redirects),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_download),
	    cmocka_unit_test(test_download_cancel),
	    cmocka_unit_test(test_destroy_in_flight),
	    cmocka_unit_test(test_destroy_keepalive),
	    cmocka_unit_test(test_destroy_from_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
