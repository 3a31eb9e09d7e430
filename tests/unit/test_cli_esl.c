/*
 * irisx-cli's pure parts (src/cli/): the framing of server frames, URL
 * decoding of plain event values, the +OK/-ERR rule of -x, the flat JSON of
 * `show channels as json`, and the channel table of `irisx-cli calls`
 * driven by events. Malformed input for each parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int parse(struct cli_frame *f, const char *s, size_t *used)
{
	return cli_frame_parse(f, s, strlen(s), used);
}

static void assert_str(struct str s, const char *want)
{
	assert_non_null(s.p);
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

static void test_frame_reply(void **state)
{
	struct cli_frame f;
	size_t used;
	const char *s = "Content-Type: command/reply\nReply-Text: +OK accepted\n\nnext";
	assert_int_equal(parse(&f, s, &used), 0);
	assert_int_equal(used, strlen(s) - 4);
	assert_int_equal(f.header_count, 2);
	assert_str(cli_frame_header(&f, "content-type"), "command/reply");
	assert_str(cli_frame_header(&f, "Reply-Text"), "+OK accepted");
	assert_null(cli_frame_header(&f, "Content-Length").p);
	assert_int_equal(f.body.len, 0);
}

static void test_frame_body_and_pipelining(void **state)
{
	struct cli_frame f;
	size_t used;
	/* Two frames in one read, CR LF line ends, blank lines before the first. */
	const char *s = "\n\r\nContent-Type: api/response\r\nContent-Length: 5\r\n\r\n+OK\n\n"
			"Content-Type: log/data\nContent-Length: 3\n\nabc";
	assert_int_equal(parse(&f, s, &used), 0);
	assert_str(f.body, "+OK\n\n");
	assert_str(cli_frame_header(&f, "Content-Type"), "api/response");
	size_t used2;
	assert_int_equal(cli_frame_parse(&f, s + used, strlen(s) - used, &used2), 0);
	assert_int_equal(used + used2, strlen(s));
	assert_str(f.body, "abc");
}

static void test_frame_incomplete(void **state)
{
	struct cli_frame f;
	size_t used;
	const char *s = "Content-Type: api/response\nContent-Length: 10\n\n12345";
	/* Every prefix is -EAGAIN, the whole is one frame. */
	for (size_t n = 0; n < strlen(s); n++)
		assert_int_equal(cli_frame_parse(&f, s, n, &used), -EAGAIN);
	char full[128];
	snprintf(full, sizeof(full), "%s67890", s);
	assert_int_equal(parse(&f, full, &used), 0);
	assert_str(f.body, "1234567890");
}

static void test_frame_malformed(void **state)
{
	struct cli_frame f;
	size_t used;
	assert_int_equal(parse(&f, "no colon here\n\n", &used), -EBADMSG);
	assert_int_equal(parse(&f, ": no name\n\n", &used), -EBADMSG);
	assert_int_equal(parse(&f, "Content-Length: 12x\n\n", &used), -EBADMSG);
	assert_int_equal(parse(&f, "Content-Length: -1\n\n", &used), -EBADMSG);
	assert_int_equal(parse(&f, "Content-Length: 99999999999999999999999\n\n", &used), -EBADMSG);
	assert_int_equal(parse(&f, "Content-Length: 16777217\n\n", &used), -EBADMSG);

	/* More headers than the cap. */
	struct buf b;
	buf_init(&b);
	for (int i = 0; i <= CLI_FRAME_MAX_HEADERS; i++)
		buf_printf(&b, "H%d: v\n", i);
	buf_append_cstr(&b, "\n");
	assert_int_equal(cli_frame_parse(&f, b.p, b.len, &used), -EBADMSG);

	/* A head that never ends is refused once past the cap, not buffered forever. */
	buf_reset(&b);
	buf_append_cstr(&b, "X: ");
	while (b.len <= CLI_FRAME_MAX_HEAD)
		buf_append_cstr(&b, "aaaaaaaaaaaaaaaa");
	assert_int_equal(cli_frame_parse(&f, b.p, b.len, &used), -EBADMSG);
	buf_fini(&b);
}

static void test_url_decode(void **state)
{
	char out[64];
	assert_int_equal(cli_url_decode(STR("sip%3Aa%40b%20c+d"), out, sizeof(out)), 0);
	assert_string_equal(out, "sip:a@b c+d");
	/* A bad escape is copied as is and reported. */
	assert_int_equal(cli_url_decode(STR("100%"), out, sizeof(out)), -EBADMSG);
	assert_string_equal(out, "100%");
	assert_int_equal(cli_url_decode(STR("%4g%4"), out, sizeof(out)), -EBADMSG);
	assert_string_equal(out, "%4g%4");
	/* Too long: cut, NUL-terminated. */
	char small[4];
	assert_int_equal(cli_url_decode(STR("abcdef"), small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "abc");
	assert_int_equal(cli_url_decode(STR("x"), small, 0), -ENOSPC);
}

static void test_reply_ok(void **state)
{
	assert_true(cli_reply_ok(STR("+OK accepted")));
	assert_true(cli_reply_ok(STR("UP 0 years, 0 days")));
	assert_true(cli_reply_ok(STR("")));
	assert_true(cli_reply_ok(STR("-USAGE: <uuid>")));
	assert_false(cli_reply_ok(STR("-ERR command not found")));
	assert_false(cli_reply_ok(STR("-err no such channel")));
	assert_false(cli_reply_ok(STR("\n-ERR NO_ANSWER\n")));
	assert_true(cli_reply_ok(STR("The -ERR is not at the start")));
}

struct rows {
	char text[1024];
	size_t ends;
};

static void rows_cb(void *arg, size_t row, const char *key, const char *value)
{
	struct rows *r = arg;
	size_t n = strlen(r->text);
	if (!key) {
		r->ends++;
		snprintf(r->text + n, sizeof(r->text) - n, "|");
		return;
	}
	snprintf(r->text + n, sizeof(r->text) - n, "%zu:%s=%s;", row, key, value);
}

static int walk(const char *json, struct rows *r)
{
	memset(r, 0, sizeof(*r));
	return cli_json_rows_each(str_from_cstr(json), rows_cb, r);
}

static void test_json_rows(void **state)
{
	struct rows r;
	assert_int_equal(walk("{\"row_count\":0}", &r), 0);
	assert_int_equal(r.ends, 0);
	assert_int_equal(
	    walk(" { \"row_count\" : 2 , \"rows\" : [ {\"uuid\":\"a\\\"b\",\"n\":-1.5e3},"
		 "{\"x\":\"\\u00e9\\ud83d\\ude00\\n\",\"t\":true,\"z\":null}, {} ] } ",
		 &r),
	    0);
	assert_string_equal(
	    r.text, "0:uuid=a\"b;0:n=-1.5e3;|1:x=\xc3\xa9\xf0\x9f\x98\x80\n;1:t=true;1:z=null;||");
	assert_int_equal(r.ends, 3);
}

static void test_json_malformed(void **state)
{
	struct rows r;
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{",
	    "{\"rows\":[{\"a\":\"b\"}]",
	    "{\"rows\":[{\"a\":{\"nested\":1}}]}",
	    "{\"rows\":[{\"a\":[1]}]}",
	    "{\"rows\":[{\"a\" \"b\"}]}",
	    "{\"rows\":[{\"a\":\"b\",}]}",
	    "{\"rows\":[{\"a\":\"\\x\"}]}",
	    "{\"rows\":[{\"a\":\"\\u12\"}]}",
	    "{\"rows\":[{\"a\":\"\\ud800\"}]}",
	    "{\"rows\":[{\"a\":\"\\udc00\"}]}",
	    "{\"rows\":[{\"a\":\"\\u0000\"}]}",
	    "{\"rows\":[{\"a\":\"tab\there\"}]}",
	    "{\"rows\":[{\"a\":01}]}",
	    "{\"rows\":[{\"a\":1.}]}",
	    "{\"rows\":[{\"a\":tru}]}",
	    "{\"rows\":[{\"a\":-}]}",
	    "{\"rows\":[{\"a\":\"b\"}]} trailing",
	    "{\"row_count\":[1]}",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int e = walk(bad[i], &r);
		if (e != -EBADMSG)
			fail_msg("'%s' gave %d, expected -EBADMSG", bad[i], e);
	}
}

/* A text/event-plain body's headers, as calls_view.c hands them over. */
static void event(struct cli_calls *c, const char *headers, bool want_change)
{
	struct cli_frame f;
	size_t used;
	char text[2048];
	snprintf(text, sizeof(text), "%s\n", headers);
	assert_int_equal(parse(&f, text, &used), 0);
	assert_int_equal(cli_calls_apply(c, &f), want_change);
}

#define UUID1 "11111111-2222-3333-4444-555555555555"
#define UUID2 "66666666-7777-8888-9999-000000000000"

static void test_calls_events(void **state)
{
	static struct cli_calls c;
	cli_calls_init(&c);
	event(&c,
	      "Event-Name: CHANNEL_CREATE\nUnique-ID: " UUID1 "\nCall-Direction: inbound\n"
	      "Caller-Caller-ID-Number: 1000\nCaller-Destination-Number: 5551234%2A9\n"
	      "Channel-Call-State: RINGING\nCaller-Channel-Created-Time: 1000000000\n",
	      true);
	event(&c, "Event-Name: HEARTBEAT\nUnique-ID: " UUID1 "\n", false);
	event(&c, "Event-Name: CHANNEL_ANSWER\n", false); /* no Unique-ID */
	event(&c,
	      "Event-Name: CHANNEL_ANSWER\nUnique-ID: " UUID1 "\nChannel-Call-State: ACTIVE\n"
	      "Channel-Read-Codec-Name: PCMA\n",
	      true);
	/* A channel first seen after its CHANNEL_CREATE is added by its next event. */
	event(&c,
	      "Event-Name: CHANNEL_CALLSTATE\nUnique-ID: " UUID2 "\nCall-Direction: outbound\n"
	      "Channel-Call-State: EARLY\n",
	      true);
	assert_int_equal(c.count, 2);
	assert_string_equal(c.rows[0].state, "ACTIVE");
	assert_string_equal(c.rows[0].codec, "PCMA");
	assert_string_equal(c.rows[0].callee, "5551234*9");
	assert_int_equal(c.rows[0].created_us, 1000000000);

	struct buf out;
	buf_init(&out);
	cli_calls_print(&c, 1000000000 + 3723 * 1000000ull, 80, &out);
	const char *want =
	    "UUID     DIR  CALLER             CALLEE             STATE       DURATION CODEC\n"
	    "11111111 in   1000               5551234*9          ACTIVE      1:02:03  PCMA\n"
	    "66666666 out                                        EARLY       -\n";
	assert_string_equal(out.p, want);
	/* Every line fits 80 columns. */
	for (const char *line = out.p; *line;) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		assert_true(nl - line <= 80);
		line = nl + 1;
	}

	event(&c, "Event-Name: CHANNEL_HANGUP\nUnique-ID: " UUID1 "\nChannel-Call-State: HANGUP\n",
	      true);
	event(&c, "Event-Name: CHANNEL_HANGUP_COMPLETE\nUnique-ID: " UUID1 "\n", true);
	event(&c, "Event-Name: CHANNEL_HANGUP_COMPLETE\nUnique-ID: " UUID1 "\n", false);
	event(&c, "Event-Name: CHANNEL_HANGUP\nUnique-ID: deadbeef\n", false);
	assert_int_equal(c.count, 1);
	assert_string_equal(c.rows[0].uuid, UUID2);
	event(&c, "Event-Name: CHANNEL_DESTROY\nUnique-ID: " UUID2 "\n", true);
	assert_int_equal(c.count, 0);
	buf_fini(&out);
}

static void test_calls_full_and_wide(void **state)
{
	static struct cli_calls c;
	char h[256];
	cli_calls_init(&c);
	for (int i = 0; i < CLI_CALLS_MAX + 3; i++) {
		snprintf(h, sizeof(h), "Event-Name: CHANNEL_CREATE\nUnique-ID: u%d\n", i);
		event(&c, h, i < CLI_CALLS_MAX);
	}
	assert_int_equal(c.count, CLI_CALLS_MAX);
	assert_int_equal(c.dropped, 3);

	/* 120 columns and more show the whole uuid; long names are cut to fit. */
	cli_calls_init(&c);
	event(&c,
	      "Event-Name: CHANNEL_CREATE\nUnique-ID: " UUID1 "\nCaller-Caller-ID-Number: "
	      "0123456789012345678901234567890123456789012345678901234567890123456789\n",
	      true);
	struct buf out;
	buf_init(&out);
	cli_calls_print(&c, 0, 132, &out);
	assert_non_null(strstr(out.p, UUID1));
	for (const char *line = out.p; *line;) {
		const char *nl = strchr(line, '\n');
		assert_true(nl - line <= 132);
		line = nl + 1;
	}
	buf_fini(&out);
}

static void test_calls_json(void **state)
{
	static struct cli_calls c;
	const char *json =
	    "{\"row_count\":2,\"rows\":[{\"uuid\":\"" UUID1 "\",\"direction\":\"inbound\","
	    "\"created_epoch\":\"1700000000\",\"cid_num\":\"sipp\",\"dest\":\"7101\","
	    "\"callstate\":\"ACTIVE\",\"read_codec\":\"PCMU\"},{\"uuid\":\"\"}]}";
	assert_int_equal(cli_calls_load_json(&c, str_from_cstr(json)), 0);
	assert_int_equal(c.count, 1); /* the row without a uuid is skipped */
	assert_string_equal(c.rows[0].caller, "sipp");
	assert_string_equal(c.rows[0].callee, "7101");
	assert_string_equal(c.rows[0].codec, "PCMU");
	assert_int_equal(c.rows[0].created_us, 1700000000ull * 1000000);
	assert_int_equal(cli_calls_load_json(&c, STR("{\"rows\":[{\"uuid\":1")), -EBADMSG);
	assert_int_equal(c.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_reply),
	    cmocka_unit_test(test_frame_body_and_pipelining),
	    cmocka_unit_test(test_frame_incomplete),
	    cmocka_unit_test(test_frame_malformed),
	    cmocka_unit_test(test_url_decode),
	    cmocka_unit_test(test_reply_ok),
	    cmocka_unit_test(test_json_rows),
	    cmocka_unit_test(test_json_malformed),
	    cmocka_unit_test(test_calls_events),
	    cmocka_unit_test(test_calls_full_and_wide),
	    cmocka_unit_test(test_calls_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
