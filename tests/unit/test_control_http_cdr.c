/*
 * GET /v1/cdrs: the query parameters (good ones, and each malformed kind
 * refused), and the routes answering over a server without sockets: 400,
 * 503 without a SQLite store, an empty page and 404 before any record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/http_int.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define TOKEN "0123456789abcdef0123"

static uv_loop_t loop;

struct answer {
	unsigned status;
	char body[8192];
};
static struct answer last;
static int delivered;

static void capture(void *arg, struct http_req *req)
{
	memset(&last, 0, sizeof(last));
	last.status = req->status;
	snprintf(last.body, sizeof(last.body), "%.*s", (int)req->reply_len,
		 req->reply_body ? req->reply_body : "");
	(*(int *)arg)++;
}

static struct http *detached(const char *sqlite_path)
{
	struct http_settings s = {.listen_ip = "127.0.0.1", .max_body = 1024, .enabled = true};
	snprintf(s.tokens[0], sizeof(s.tokens[0]), "%s", TOKEN);
	s.token_count = 1;
	snprintf(s.cdr_sqlite_path, sizeof(s.cdr_sqlite_path), "%s", sqlite_path);
	struct http *h = NULL;
	assert_int_equal(http__create_detached(&h, &loop, NULL, NULL, &s, capture, &delivered), 0);
	return h;
}

static void done(struct http *h)
{
	http_destroy(h);
	uv_run(&loop, UV_RUN_NOWAIT);
}

/* Parses target's query; the request is freed by a dispatch without a token. */
static int parse(struct http *h, const char *target, struct cdr_query *q, char *err,
		 size_t err_size)
{
	struct http_req *r = http__req_new(h, "GET", target, NULL, NULL, 0);
	assert_non_null(r);
	int e = http__cdr_query_parse(r, q, err, err_size);
	/* The strings point into r: keep what the checks read. */
	static char dir[32], cause[80], cursor[160];
	if (!e) {
		snprintf(dir, sizeof(dir), "%s", q->direction ? q->direction : "");
		snprintf(cause, sizeof(cause), "%s", q->cause ? q->cause : "");
		snprintf(cursor, sizeof(cursor), "%s", q->cursor ? q->cursor : "");
		q->direction = q->direction ? dir : NULL;
		q->cause = q->cause ? cause : NULL;
		q->cursor = q->cursor ? cursor : NULL;
	}
	int before = delivered;
	http__dispatch(h, r);
	assert_int_equal(delivered, before + 1);
	assert_int_equal(last.status, 401);
	return e;
}

static void test_parse_good(void **state)
{
	struct http *h = detached("");
	struct cdr_query q;
	char err[160];
	assert_int_equal(parse(h, "/v1/cdrs", &q, err, sizeof(err)), 0);
	assert_int_equal(q.since_us, 0);
	assert_int_equal(q.until_us, 0);
	assert_null(q.direction);
	assert_null(q.cause);
	assert_null(q.cursor);
	assert_int_equal(q.limit, 0);

	assert_int_equal(parse(h,
			       "/v1/cdrs?since=1700000000&until=2023-11-15T00:00:00Z"
			       "&direction=inbound&cause=NORMAL_CLEARING&limit=1000"
			       "&cursor=1700000000123456.a1b2-c3",
			       &q, err, sizeof(err)),
			 0);
	assert_int_equal(q.since_us, 1700000000ull * 1000000);
	assert_int_equal(q.until_us, 1700006400ull * 1000000);
	assert_string_equal(q.direction, "inbound");
	assert_string_equal(q.cause, "NORMAL_CLEARING");
	assert_string_equal(q.cursor, "1700000000123456.a1b2-c3");
	assert_int_equal(q.limit, 1000);

	assert_int_equal(parse(h, "/v1/cdrs?since=2023-11-14&direction=outbound&limit=1", &q, err,
			       sizeof(err)),
			 0);
	assert_int_equal(q.since_us, 1699920000ull * 1000000);
	assert_string_equal(q.direction, "outbound");
	assert_int_equal(q.limit, 1);
	done(h);
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *target, *why;
	} bad[] = {
	    {"/v1/cdrs?foo=1", "unknown parameter 'foo'"},
	    {"/v1/cdrs?limit=5&limit=6", "given twice"},
	    {"/v1/cdrs?since=", "since"},
	    {"/v1/cdrs?since=yesterday", "since"},
	    {"/v1/cdrs?since=-5", "since"},
	    {"/v1/cdrs?since=2023-13-45", "since"},
	    {"/v1/cdrs?since=2023-11-14T00:00:00+02", "since"},
	    {"/v1/cdrs?since=99999999999999999999", "since"},
	    {"/v1/cdrs?until=1.5", "until"},
	    {"/v1/cdrs?since=200&until=100", "before"},
	    {"/v1/cdrs?since=100&until=100", "before"},
	    {"/v1/cdrs?direction=sideways", "direction"},
	    {"/v1/cdrs?direction=", "direction"},
	    {"/v1/cdrs?cause=normal_clearing", "cause"},
	    {"/v1/cdrs?cause=", "cause"},
	    {"/v1/cdrs?cause=A%27%20OR%201", "cause"},
	    {"/v1/cdrs?limit=0", "limit"},
	    {"/v1/cdrs?limit=1001", "limit"},
	    {"/v1/cdrs?limit=ten", "limit"},
	    {"/v1/cdrs?limit=-1", "limit"},
	    {"/v1/cdrs?cursor=", "cursor"},
	    {"/v1/cdrs?cursor=123", "cursor"},
	    {"/v1/cdrs?cursor=.abc", "cursor"},
	    {"/v1/cdrs?cursor=123.", "cursor"},
	    {"/v1/cdrs?cursor=x1.abc", "cursor"},
	    {"/v1/cdrs?cursor=1.a%27b", "cursor"},
	};
	struct http *h = detached("");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cdr_query q;
		char err[160] = "";
		if (parse(h, bad[i].target, &q, err, sizeof(err)) != -EINVAL)
			fail_msg("%s was accepted", bad[i].target);
		if (!strstr(err, bad[i].why))
			fail_msg("%s: '%s' does not say '%s'", bad[i].target, err, bad[i].why);
	}
	/* A cursor longer than any the store hands out. */
	char target[400] = "/v1/cdrs?cursor=1.";
	memset(target + strlen(target), 'a', 200);
	struct cdr_query q;
	char err[160];
	assert_int_equal(parse(h, target, &q, err, sizeof(err)), -EINVAL);
	done(h);
}

/* Dispatches with the token and runs the loop until the answer. */
static void get(struct http *h, const char *target)
{
	int before = delivered;
	struct http_req *r =
	    http__req_new(h, "GET", target, "Authorization: Bearer " TOKEN, NULL, 0);
	assert_non_null(r);
	http__dispatch(h, r);
	while (delivered == before)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(delivered, before + 1);
}

static void test_routes(void **state)
{
	struct http *h = detached("");
	get(h, "/v1/cdrs?limit=zero");
	assert_int_equal(last.status, 400);
	assert_non_null(strstr(last.body, "\"bad_request\""));
	get(h, "/v1/cdrs");
	assert_int_equal(last.status, 503);
	get(h, "/v1/cdrs/abc");
	assert_int_equal(last.status, 503);
	done(h);

	/* A store that has not written its database yet: no records. */
	char path[] = "/tmp/irisx-test-cdr-XXXXXX";
	assert_non_null(mkdtemp(path));
	char db[128];
	snprintf(db, sizeof(db), "%s/none.sqlite", path);
	h = detached(db);
	get(h, "/v1/cdrs?direction=inbound");
	assert_int_equal(last.status, 200);
	json_t *doc = json_loads(last.body, 0, NULL);
	assert_non_null(doc);
	assert_true(json_is_array(json_object_get(doc, "cdrs")));
	assert_int_equal(json_array_size(json_object_get(doc, "cdrs")), 0);
	assert_true(json_is_null(json_object_get(doc, "next_cursor")));
	json_decref(doc);
	get(h, "/v1/cdrs/0b4c1f4e-0000-4000-8000-000000000000");
	assert_int_equal(last.status, 404);
	done(h);
	rmdir(path);
}

static json_t *body_json(void)
{
	json_t *doc = json_loads(last.body, 0, NULL);
	assert_non_null(doc);
	return doc;
}

/* Three legs in a real SQLite store, read back a page at a time. */
static void test_pages(void **state)
{
	char dir[] = "/tmp/irisx-test-cdr-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct cdr_conf conf;
	cdr_conf_default(&conf, dir);
	conf.sinks[CDR_SINK_SQLITE] = true;
	struct cdr_store *st;
	assert_int_equal(cdr_store_create(&st, &conf), 0);
	static const char *const uuids[] = {"0a000000-0000-4000-8000-000000000001",
					    "0a000000-0000-4000-8000-000000000002",
					    "0a000000-0000-4000-8000-000000000003"};
	for (size_t i = 0; i < 3; i++) {
		struct cdr c = {.uuid = uuids[i],
				.direction = i == 1 ? "outbound" : "inbound",
				.hangup_cause = i == 2 ? "USER_BUSY" : "NORMAL_CLEARING",
				.created_us = 1700000000000000ull + i * 1000000,
				.ended_us = 1700000000000000ull + i * 1000000 + 5};
		assert_int_equal(cdr_store_submit(st, &c), 0);
	}
	assert_int_equal(cdr_store_flush(st, 5000), 0);
	cdr_store_destroy(st);

	struct http *h = detached(conf.sqlite_path);
	get(h, "/v1/cdrs?limit=2");
	assert_int_equal(last.status, 200);
	json_t *doc = body_json();
	json_t *list = json_object_get(doc, "cdrs");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "uuid")),
			    uuids[0]);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "uuid")),
			    uuids[1]);
	const char *next = json_string_value(json_object_get(doc, "next_cursor"));
	assert_non_null(next);
	char target[256];
	snprintf(target, sizeof(target), "/v1/cdrs?limit=2&cursor=%s", next);
	json_decref(doc);
	get(h, target);
	assert_int_equal(last.status, 200);
	doc = body_json();
	list = json_object_get(doc, "cdrs");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "uuid")),
			    uuids[2]);
	assert_true(json_is_null(json_object_get(doc, "next_cursor")));
	json_decref(doc);

	get(h, "/v1/cdrs?direction=inbound&cause=NORMAL_CLEARING");
	doc = body_json();
	list = json_object_get(doc, "cdrs");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "uuid")),
			    uuids[0]);
	json_decref(doc);
	/* [since, until): the second leg only. */
	get(h, "/v1/cdrs?since=1700000001&until=1700000002");
	doc = body_json();
	list = json_object_get(doc, "cdrs");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "uuid")),
			    uuids[1]);
	json_decref(doc);

	snprintf(target, sizeof(target), "/v1/cdrs/%s", uuids[2]);
	get(h, target);
	assert_int_equal(last.status, 200);
	doc = body_json();
	assert_string_equal(json_string_value(json_object_get(doc, "hangup_cause")), "USER_BUSY");
	json_decref(doc);
	done(h);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	uv_loop_init(&loop);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),
	    cmocka_unit_test(test_parse_bad),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_pages),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	uv_loop_close(&loop);
	return failed;
}
