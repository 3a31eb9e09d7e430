/*
 * The REST handlers' validation against a real core (no SIP listener, no
 * profile): a table of requests and the status and error each must get,
 * the calls list, a call placed to a profile that does not exist (201,
 * then gone), and POST /v1/api.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/http_int.h"
#include "core/core.h"
#include "test_config_util.h"

#include <uv.h>

#define TOKEN "rest-test-token-0123456789"

static uv_loop_t loop;
static struct core *core;
static struct http *http;
static int answers;
static unsigned status;
static char body[16384];

static void capture(void *arg, struct http_req *req)
{
	answers++;
	status = req->status;
	snprintf(body, sizeof(body), "%.*s", (int)req->reply_len,
		 req->reply_body ? req->reply_body : "");
}

static void request(const char *method, const char *target, const char *json)
{
	struct http_req *r = http__req_new(http, method, target, "Authorization: Bearer " TOKEN,
					   json, json ? strlen(json) : 0);
	assert_non_null(r);
	int before = answers;
	http__dispatch(http, r);
	for (int i = 0; i < 1000 && answers == before; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(answers, before + 1);
}

static int setup(void **state)
{
	char err[512];
	struct config *cfg = NULL;
	char *dir = tree_create();
	tree_write(dir, "freeswitch.xml", ROOT_XML);
	tree_write(dir, "vars.xml", "<include/>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
	tree_remove(dir);
	uv_loop_init(&loop);
	assert_int_equal(core_create(&core, &loop, cfg), 0);
	struct http_settings s = {.listen_ip = "127.0.0.1", .max_body = 4096, .enabled = true};
	snprintf(s.tokens[0], sizeof(s.tokens[0]), "%s", TOKEN);
	s.token_count = 1;
	assert_int_equal(http__create_detached(&http, &loop, core, NULL, &s, capture, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	http_destroy(http);
	for (int i = 0; i < 10; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}

static void test_validation(void **state)
{
	static const struct {
		const char *method, *target, *body;
		unsigned status;
		const char *error; /* in the body */
	} cases[] = {
	    {"POST", "/v1/calls", NULL, 400, "\"bad_request\""},
	    {"POST", "/v1/calls", "{", 400, "\"bad_json\""},
	    {"POST", "/v1/calls", "[]", 400, "\"bad_request\""},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"to\":\"2\",\"gateway\":\"g\"}", 400, "bad_json"},
	    {"POST", "/v1/calls", "{\"to\":\"1\"}", 400, "one of 'gateway' or 'endpoint'"},
	    {"POST", "/v1/calls", "{\"to\":1,\"gateway\":\"g\"}", 400, "'to' must be"},
	    {"POST", "/v1/calls", "{\"to\":\"\",\"gateway\":\"g\"}", 400, "'to' must be"},
	    {"POST", "/v1/calls", "{\"gateway\":\"g\"}", 400, "'to' is the number"},
	    {"POST", "/v1/calls", "{\"to\":\"1,2\",\"gateway\":\"g\"}", 400, "'to' is the number"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g/x\"}", 400, "'to' is the number"},
	    {"POST", "/v1/calls", "{\"endpoint\":\"user/1000\"}", 400, "'endpoint' is one"},
	    {"POST", "/v1/calls", "{\"endpoint\":\"sofia/a/1@h,sofia/a/2@h\"}", 400,
	     "'endpoint' is one"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"timeout\":\"5\"}", 400,
	     "'timeout'"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"timeout\":3601}", 400,
	     "'timeout'"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"url\":\"ftp://x\"}", 400,
	     "'url' is an http(s) URL"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"url\":\"http://x y\"}", 400,
	     "'url' is an http(s) URL"},
	    {"POST", "/v1/calls",
	     "{\"to\":\"1\",\"gateway\":\"g\",\"url\":\"http://x\",\"app\":\"park\"}", 400,
	     "one of them"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"method\":\"GET\"}", 400,
	     "'method' goes with 'url'"},
	    {"POST", "/v1/calls",
	     "{\"to\":\"1\",\"gateway\":\"g\",\"url\":\"http://x\",\"method\":\"PUT\"}", 400,
	     "'method' is GET or POST"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"app\":\"park\",\"extension\":\"1\"}",
	     400, "not both"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"args\":\"x\"}", 400,
	     "'args' needs 'app'"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"context\":\"x\"}", 400,
	     "'context' needs 'extension'"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"app\":\"park\"}", 503,
	     "no dialplan"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"from\":\"{x}\"}", 400, "'from'"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"variables\":[1]}", 400,
	     "'variables' is an object"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"variables\":{\"a b\":\"1\"}}",
	     400, "variable 'a b'"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"variables\":{\"a\":null}}", 400,
	     "variable 'a'"},
	    {"POST", "/v1/calls",
	     "{\"to\":\"1\",\"gateway\":\"g\",\"variables\":{\"origination_uuid\":\"x\"}}", 400,
	     "origination_uuid"},
	    {"POST", "/v1/calls", "{\"to\":\"1\",\"gateway\":\"g\",\"x\":1}", 400,
	     "unknown field 'x'"},
	    {"GET", "/v1/calls/nosuch", NULL, 404, "no call nosuch"},
	    {"DELETE", "/v1/calls/nosuch", NULL, 404, "no call"},
	    {"DELETE", "/v1/calls/nosuch", "{\"cause\":\"BOGUS\"}", 400, "unknown cause"},
	    {"POST", "/v1/calls/nosuch/hangup", "{\"cause\":\"USER_BUSY\"}", 404, "no call"},
	    {"POST", "/v1/calls/nosuch/hangup", "{\"cause\":7}", 400, "'cause' must be"},
	    {"POST", "/v1/calls/nosuch/answer", NULL, 404, "no call"},
	    {"POST", "/v1/calls/nosuch/play", "{}", 400, "one of 'file', 'tone' or 'text'"},
	    {"POST", "/v1/calls/nosuch/play", "{\"file\":\"a\",\"text\":\"b\"}", 400, "one of"},
	    {"POST", "/v1/calls/nosuch/play", "{\"file\":\"a\",\"loop\":0}", 400, "'loop'"},
	    {"POST", "/v1/calls/nosuch/play", "{\"file\":\"a\",\"loop\":\"yes\"}", 400, "'loop'"},
	    {"POST", "/v1/calls/nosuch/play", "{\"file\":\"a\",\"loop\":3}", 404, "no call"},
	    {"POST", "/v1/calls/nosuch/stop", NULL, 404, "no call"},
	    {"POST", "/v1/calls/nosuch/dtmf", "{}", 400, "'digits'"},
	    {"POST", "/v1/calls/nosuch/dtmf", "{\"digits\":\"12z\"}", 400, "'digits'"},
	    {"POST", "/v1/calls/nosuch/dtmf", "{\"digits\":\"12#@100\"}", 404, "no call"},
	    {"POST", "/v1/calls/nosuch/record", "{\"path\":\"/tmp/x.wav\"}", 404, "no call"},
	    {"POST", "/v1/calls/nosuch/bridge", "{}", 400, "'uuid'"},
	    {"POST", "/v1/calls/nosuch/bridge", "{\"uuid\":\"other\"}", 404, "no call nosuch"},
	    {"POST", "/v1/calls/nosuch/transfer", "{\"context\":\"x\"}", 400, "'extension'"},
	    {"POST", "/v1/calls/nosuch/transfer", "{\"extension\":\"1\"}", 503, "no dialplan"},
	    {"GET", "/v1/gateways/nosuch", NULL, 404, "no gateway"},
	    {"GET", "/v1/gateways/a%20b", NULL, 404, "no gateway"},
	    {"POST", "/v1/api", "{}", 400, "'command'"},
	    {"POST", "/v1/api", "{\"command\":\"status\\nversion\"}", 400, "one line"},
	    {"PATCH", "/v1/calls/x", NULL, 405, "method_not_allowed"},
	    {"GET", "/v1/call", NULL, 404, "not_found"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		request(cases[i].method, cases[i].target, cases[i].body);
		if (status != cases[i].status || !strstr(body, cases[i].error))
			fail_msg("%s %s %s: %u %s (expected %u with %s)", cases[i].method,
				 cases[i].target, cases[i].body ? cases[i].body : "", status, body,
				 cases[i].status, cases[i].error);
	}
}

static void test_resources(void **state)
{
	request("GET", "/v1/calls", NULL);
	assert_int_equal(status, 200);
	assert_string_equal(body, "{\"count\":0,\"calls\":[]}\n");
	request("GET", "/v1/profiles", NULL);
	assert_string_equal(body, "{\"profiles\":[]}\n");
	request("GET", "/v1/gateways", NULL);
	assert_string_equal(body, "{\"gateways\":[]}\n");

	request("POST", "/v1/api", "{\"command\":\"version short\"}");
	assert_int_equal(status, 200);
	assert_non_null(strstr(body, "\"ok\":true"));
	request("POST", "/v1/api", "{\"command\":\"nosuch\"}");
	assert_non_null(strstr(body, "\"ok\":false"));
	/* (originate, asynchronous, is the dialplan's: tests/interop/test_http_api.sh) */

	/* A call through a profile that does not exist: 201, then it is gone. */
	request("POST", "/v1/calls",
		"{\"endpoint\":\"sofia/nosuch/1000@127.0.0.1:5999\",\"from\":\"2000\","
		"\"caller_id_name\":\"a,b\",\"variables\":{\"n\":1,\"b\":true,\"s\":\"x,y\"}}");
	assert_int_equal(status, 201);
	json_t *doc = json_loads(body, 0, NULL);
	assert_non_null(doc);
	char uuid[64];
	snprintf(uuid, sizeof(uuid), "/v1/calls/%s", json_string_value(json_object_get(doc, "uuid")));
	assert_int_equal(strlen(uuid), strlen("/v1/calls/") + 36);
	json_decref(doc);
	for (int i = 0; i < 100; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	request("GET", uuid, NULL);
	assert_int_equal(status, 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_validation),
	    cmocka_unit_test(test_resources),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
