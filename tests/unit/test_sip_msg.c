/*
 * Unit tests for SIP messages: parsing (RFC 3261 §7, §25.1), framing (§18.3),
 * header lookup, printing (§8.2.6) and the malformed inputs that must give a
 * clean error. URIs and header pieces are in test_sip_uri.c, the RFC 4475
 * messages in test_sip_torture.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip.h"

#define assert_str(s, lit) assert_true(str_eq((s), STR(lit)))

/* A typical INVITE from a trunk: compact and long names, SDP body. */
static const char invite[] =
    "INVITE sip:+15551234567@irisx.example.com:5060;transport=udp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 54.172.60.1:5060;branch=z9hG4bK1a2b3c;rport\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKold;received=10.1.1.1\r\n"
    "f: \"Alice\" <sip:+15557654321@pstn.twilio.com>;tag=abc123\r\n"
    "To: <sip:+15551234567@irisx.example.com>\r\n"
    "i: 3c26700f@pstn\r\n"
    "CSeq: 101 INVITE\r\n"
    "Max-Forwards: 69\r\n"
    "Contact: <sip:+15557654321@54.172.60.1:5060>\r\n"
    "X-Twilio-CallSid: CA0123456789abcdef\r\n"
    "c: application/sdp\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\n";

static struct sip_msg *parse_ok(const char *text)
{
	struct sip_msg *m = NULL;
	int r = sip_msg_parse(&m, text, strlen(text));
	if (r != 0)
		fail_msg("parse failed (%d, %s) for:\n%s", r, m && m->error ? m->error : "-", text);
	assert_non_null(m);
	return m;
}

/* ---- a typical request, field by field -------------------------------------- */

static void test_parse_invite(void **state)
{
	struct sip_msg *m = parse_ok(invite);

	assert_true(m->is_request);
	assert_int_equal(m->method, SIP_METHOD_INVITE);
	assert_str(m->method_name, "INVITE");
	assert_str(m->ruri_str, "sip:+15551234567@irisx.example.com:5060;transport=udp");
	assert_str(m->ruri.user, "+15551234567");
	assert_str(m->ruri.host, "irisx.example.com");
	assert_int_equal(m->ruri.port, 5060);
	assert_str(m->ruri.params, ";transport=udp");
	/* the topmost Via is the first one (§8.2.6.2 echoes them all in order) */
	assert_str(m->via.transport, "UDP");
	assert_str(m->via.host, "54.172.60.1");
	assert_int_equal(m->via.port, 5060);
	assert_str(m->via.branch, "z9hG4bK1a2b3c");
	assert_true(m->via.rport);
	assert_int_equal(m->via.rport_value, 0);
	assert_str(m->from.display, "Alice");
	assert_str(m->from.tag, "abc123");
	assert_str(m->from.uri.host, "pstn.twilio.com");
	assert_int_equal(m->to.tag.len, 0);
	assert_str(m->call_id, "3c26700f@pstn");
	assert_int_equal(m->cseq.num, 101);
	assert_int_equal(m->cseq.method, SIP_METHOD_INVITE);
	assert_int_equal(m->max_forwards, 69);
	assert_str(m->body, "v=0\n");
	assert_int_equal(m->hdr_count, 11);
	assert_null(m->error);

	/* compact names index like long ones (§7.3.3) */
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);
	assert_non_null(h);
	assert_str(h->name, "c");
	assert_str(h->value, "application/sdp");
	h = sip_msg_hdr(m, SIP_HDR_VIA);
	assert_non_null(h);
	h = sip_msg_hdr_next(m, h);
	assert_non_null(h);
	assert_str(h->value, "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKold;received=10.1.1.1");
	assert_null(sip_msg_hdr_next(m, h));
	assert_non_null(sip_msg_hdr_by_name(m, STR("x-twilio-callsid")));
	assert_ptr_equal(sip_msg_hdr_by_name(m, STR("call-id")), sip_msg_hdr(m, SIP_HDR_CALL_ID));
	assert_ptr_equal(sip_msg_hdr_by_name(m, STR("I")), sip_msg_hdr(m, SIP_HDR_CALL_ID));
	assert_null(sip_msg_hdr(m, SIP_HDR_ROUTE));
	assert_null(sip_msg_hdr_by_name(m, STR("X-Nope")));
	assert_int_equal(sip_msg_check(m, NULL), 0);

	/* zero copy: slices point into the message's own bytes, not the input */
	assert_true(m->call_id.p >= m->data && m->call_id.p < m->data + m->len);
	assert_true(m->data != invite);

	assert_ptr_equal(sip_msg_ref(m), m);
	assert_int_equal(m->refs, 2);
	sip_msg_unref(m);
	sip_msg_unref(m);
	sip_msg_unref(NULL);
}

static void test_parse_response(void **state)
{
	struct sip_msg *m = parse_ok("SIP/2.0 180 Ringing\r\n"
				     "Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKx\r\n"
				     "From: <sip:a@b>;tag=1\r\n"
				     "To: <sip:c@d>;tag=2\r\n"
				     "Call-ID: x\r\n"
				     "CSeq: 1 INVITE\r\n"
				     "Content-Length: 0\r\n"
				     "\r\n");
	assert_false(m->is_request);
	assert_int_equal(m->status, 180);
	assert_str(m->reason, "Ringing");
	assert_str(m->via.host, "[2001:db8::1]");
	assert_int_equal(m->via.port, 5070);
	assert_str(m->to.tag, "2");
	assert_int_equal(m->max_forwards, -1);
	assert_int_equal(m->body.len, 0);
	sip_msg_unref(m);
}

/* RFC 3261 §7.3.1: folding, LWS around ':', several values in one Via line. */
static void test_parse_folding_and_lists(void **state)
{
	struct sip_msg *m = parse_ok("OPTIONS sip:x@example.com SIP/2.0\r\n"
				     "Via  :  SIP/2.0/UDP a.example.com;branch=z9hG4bK1 ,\r\n"
				     "\tSIP/2.0/TCP b.example.com;branch=z9hG4bK2\r\n"
				     "From:\r\n <sip:a@example.com>\r\n ;tag=9\r\n"
				     "To: sip:x@example.com\r\n"
				     "Call-ID: fold\r\n"
				     "CSeq: 2\r\n   OPTIONS\r\n"
				     "Subject: \r\n"
				     "Accept: application/sdp, \"a,b\" , <x,y>,\r\n  text/plain\r\n"
				     "\r\n");
	assert_str(m->via.host, "a.example.com");
	assert_str(m->via.branch, "z9hG4bK1");
	assert_str(m->from.tag, "9");
	assert_str(m->to.uri_str, "sip:x@example.com");
	assert_int_equal(m->cseq.num, 2);
	assert_int_equal(m->cseq.method, SIP_METHOD_OPTIONS);
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);

	/* the second Via of the line */
	struct sip_via v;
	struct str rest;
	assert_int_equal(sip_via_parse(&v, sip_msg_hdr(m, SIP_HDR_VIA)->value, &rest), 0);
	assert_int_equal(sip_via_parse(&v, rest, &rest), 0);
	assert_str(v.transport, "TCP");
	assert_str(v.branch, "z9hG4bK2");
	assert_int_equal(rest.len, 0);

	struct str list = sip_msg_hdr(m, SIP_HDR_ACCEPT)->value, item;
	const char *want[] = {"application/sdp", "\"a,b\"", "<x,y>", "text/plain"};
	for (size_t i = 0; i < 4; i++) {
		assert_true(sip_list_next(&list, &item));
		assert_true(str_eq(item, str_from_cstr(want[i])));
	}
	assert_false(sip_list_next(&list, &item));
	assert_int_equal(sip_msg_check(m, NULL), 0);
	sip_msg_unref(m);
}

/* §18.3: over UDP, octets past Content-Length are discarded; no Content-Length
 * means the rest of the datagram; §7.5 leading CRLFs are ignored. */
static void test_parse_body_framing(void **state)
{
	const char *base = "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKq\r\n"
			   "From: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: q\r\n"
			   "CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n";
	char text[512];

	snprintf(text, sizeof(text), "\r\n\r\n%sContent-Length: 5\r\n\r\nhelloEXTRA", base);
	struct sip_msg *m = parse_ok(text);
	assert_str(m->body, "hello");
	assert_true(m->data[0] == 'M');
	assert_int_equal(m->len, strlen(text) - 4 - 5);
	sip_msg_unref(m);

	snprintf(text, sizeof(text), "%s\r\nwhole datagram", base);
	m = parse_ok(text);
	assert_str(m->body, "whole datagram");
	sip_msg_unref(m);

	snprintf(text, sizeof(text), "%sContent-Length: 0\r\n\r\n", base);
	m = parse_ok(text);
	assert_int_equal(m->body.len, 0);
	sip_msg_unref(m);
}

/* ---- malformed input: each gives a clean error -------------------------------- */

#define REQ_HEAD "INVITE sip:a@example.com SIP/2.0\r\n"
#define VIA	 "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKm\r\n"
#define REST                                                                                       \
	"From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: m1\r\n"            \
	"CSeq: 1 INVITE\r\n"

static const struct bad_vector {
	const char *name;
	const char *text;
	bool answerable; /* *out set with msg->error: a 400 can be formed */
} bad_vectors[] = {
    {"empty", "", false},
    {"only CRLFs", "\r\n\r\n", false},
    {"garbage", "\x01\x02\x03 hello\r\n\r\n", false},
    {"truncated start line", "INVITE sip:a@example.com SIP/2", false},
    {"no CRLFCRLF", REQ_HEAD VIA REST, true},
    {"truncated in a header", REQ_HEAD VIA REST "Content-Le", true},
    {"bare LF line endings", "INVITE sip:a@example.com SIP/2.0\n" VIA REST "\r\n", false},
    {"bare LF in headers", REQ_HEAD VIA REST "Subject: x\n\r\n", true},
    {"bare CR in header", REQ_HEAD VIA REST "Subject: a\rb\r\n\r\n", true},
    {"header without colon", REQ_HEAD VIA REST "Foobar roobar\r\n\r\n", true},
    {"header name with space", REQ_HEAD VIA REST "Foo bar: x\r\n\r\n", true},
    {"empty header name", REQ_HEAD VIA REST ": x\r\n\r\n", true},
    {"continuation first", REQ_HEAD " folded\r\n" VIA REST "\r\n", false},
    {"NUL in header", REQ_HEAD VIA REST "Subject: a\0b\r\n\r\n", true},
    {"NUL in start line", "INVITE sip:a@exa\0mple.com SIP/2.0\r\n" VIA REST "\r\n", false},
    {"missing Via", REQ_HEAD REST "\r\n", false},
    {"bad Via", REQ_HEAD "Via: SIP/2.0/UDP\r\n" REST "\r\n", false},
    {"bad Via port", REQ_HEAD "Via: SIP/2.0/UDP h:99999;branch=z9hG4bK\r\n" REST "\r\n", false},
    {"bad Via rport", REQ_HEAD "Via: SIP/2.0/UDP h;rport=70000\r\n" REST "\r\n", false},
    {"Via empty param", REQ_HEAD "Via: SIP/2.0/UDP h;;branch=z9hG4bK\r\n" REST "\r\n", false},
    {"missing From", REQ_HEAD VIA "To: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n", false},
    {"missing CSeq", REQ_HEAD VIA "From: <sip:a@b>\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n\r\n", false},
    {"bad CSeq number",
     REQ_HEAD VIA "From: <sip:b@c>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n"
		  "CSeq: one INVITE\r\n\r\n",
     true},
    {"CSeq overflow",
     REQ_HEAD VIA "From: <sip:b@c>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\n"
		  "CSeq: 4294967296 INVITE\r\n\r\n",
     true},
    {"CSeq without method",
     REQ_HEAD VIA "From: <sip:b@c>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1\r\n\r\n",
     true},
    {"negative Content-Length", REQ_HEAD VIA REST "Content-Length: -1\r\n\r\n", true},
    {"huge Content-Length", REQ_HEAD VIA REST "Content-Length: 99999999999\r\n\r\n", true},
    {"Content-Length past datagram", REQ_HEAD VIA REST "Content-Length: 10\r\n\r\nabc", true},
    {"two Content-Lengths", REQ_HEAD VIA REST "l: 0\r\nContent-Length: 0\r\n\r\n", true},
    {"duplicate From", REQ_HEAD VIA REST "f: <sip:x@y>\r\n\r\n", true},
    {"duplicate Call-ID", REQ_HEAD VIA REST "i: other\r\n\r\n", true},
    {"bad Max-Forwards", REQ_HEAD VIA REST "Max-Forwards: 256\r\n\r\n", true},
    {"unbalanced quote",
     REQ_HEAD VIA "From: \"Bob <sip:b@c>;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
     true},
    {"unclosed <",
     REQ_HEAD VIA "From: <sip:b@c;tag=1\r\nTo: <sip:a@b>\r\n"
		  "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
     true},
    {"To list",
     REQ_HEAD VIA "From: <sip:b@c>;tag=1\r\nTo: <sip:a@b>, <sip:c@d>\r\n"
		  "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
     true},
    {"Request-URI with LWS", "INVITE sip:a@b ;lr SIP/2.0\r\n" VIA REST "\r\n", true},
    {"Request-URI in <>", "INVITE <sip:a@b> SIP/2.0\r\n" VIA REST "\r\n", true},
    {"no Request-URI", "INVITE  SIP/2.0\r\n" VIA REST "\r\n", true},
    {"no version", "INVITE sip:a@b\r\n" VIA REST "\r\n", true},
    {"bad version", "INVITE sip:a@b SIP/2\r\n" VIA REST "\r\n", true},
    {"trailing SP", "INVITE sip:a@b SIP/2.0 \r\n" VIA REST "\r\n", true},
    {"status code 4 digits", "SIP/2.0 2000 OK\r\n" VIA REST "\r\n", false},
    {"status code 99", "SIP/2.0 099 Odd\r\n" VIA REST "\r\n", false},
    {"status code 700", "SIP/2.0 700 Odd\r\n" VIA REST "\r\n", false},
    {"response version", "SIP/3.0 200 OK\r\n" VIA REST "\r\n", false},
    {"response bad From",
     "SIP/2.0 200 OK\r\n" VIA "From: \"x\r\nTo: <sip:a@b>\r\n"
     "Call-ID: x\r\nCSeq: 1 INVITE\r\n\r\n",
     false},
    {"control char in reason", "SIP/2.0 200 O\x01K\r\n" VIA REST "\r\n", false},
};

static void test_parse_malformed(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(bad_vectors); i++) {
		const struct bad_vector *v = &bad_vectors[i];
		/* sizeof-based length, so embedded NULs count */
		size_t len = strlen(v->text);
		if (strstr(v->name, "NUL"))
			len += 1 + strlen(v->text + len + 1);
		struct sip_msg *m = (struct sip_msg *)1;
		int r = sip_msg_parse(&m, v->text, len);
		if (r != -EBADMSG)
			fail_msg("%s: parse returned %d", v->name, r);
		if (v->answerable != (m != NULL))
			fail_msg("%s: *out %s", v->name, m ? "set" : "NULL");
		if (m) {
			assert_non_null(m->error);
			const char *reason;
			assert_int_equal(sip_msg_check(m, &reason), 400);
			assert_string_equal(reason, m->error);
			/* the 400 can be printed and is itself a valid response */
			struct buf b;
			buf_init(&b);
			sip_response_print(&b, m, 400, m->error, "t1", NULL, STR(""));
			struct sip_msg *resp;
			int rr = sip_msg_parse(&resp, b.p, b.len);
			/* unless the fault is in a header the response must echo */
			bool echoed = strstr(m->error, "From") || strstr(m->error, "To ") ||
				      strstr(m->error, "CSeq") || strstr(m->error, "Call-ID");
			if (rr != 0 && !echoed)
				fail_msg("%s: 400 does not parse:\n%s", v->name, b.p);
			sip_msg_unref(resp);
			buf_fini(&b);
		}
		sip_msg_unref(m);
	}
}

static void test_parse_limits(void **state)
{
	struct sip_msg *m = (struct sip_msg *)1;
	char *big = malloc(SIP_MSG_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, 'a', SIP_MSG_MAX_SIZE + 1);
	assert_int_equal(sip_msg_parse(&m, big, SIP_MSG_MAX_SIZE + 1), -EMSGSIZE);
	assert_null(m);

	/* too many headers */
	struct buf b;
	buf_init(&b);
	buf_append_cstr(&b, REQ_HEAD VIA REST);
	for (int i = 0; i < SIP_MSG_MAX_HEADERS; i++)
		buf_printf(&b, "X-H%d: %d\r\n", i, i);
	buf_append_cstr(&b, "\r\n");
	assert_int_equal(sip_msg_parse(&m, b.p, b.len), -EBADMSG);
	assert_non_null(m);
	assert_string_equal(m->error, "Too many headers");
	sip_msg_unref(m);

	/* exactly the limit is fine */
	buf_reset(&b);
	buf_append_cstr(&b, REQ_HEAD VIA REST);
	for (int i = 0; i < SIP_MSG_MAX_HEADERS - 5; i++)
		buf_printf(&b, "X-H%d: %d\r\n", i, i);
	buf_append_cstr(&b, "\r\n");
	assert_int_equal(sip_msg_parse(&m, b.p, b.len), 0);
	assert_int_equal(m->hdr_count, SIP_MSG_MAX_HEADERS);
	sip_msg_unref(m);

	/* an over-long header line */
	buf_reset(&b);
	buf_append_cstr(&b, REQ_HEAD VIA REST "Subject: ");
	memset(big, 'x', SIP_MSG_MAX_LINE);
	buf_append(&b, big, SIP_MSG_MAX_LINE);
	buf_append_cstr(&b, "\r\n\r\n");
	assert_int_equal(sip_msg_parse(&m, b.p, b.len), -EBADMSG);
	assert_non_null(m);
	assert_string_equal(m->error, "Header line too long");
	sip_msg_unref(m);

	/* invalid arguments */
	assert_int_equal(sip_msg_parse(NULL, "x", 1), -EINVAL);
	assert_int_equal(sip_msg_parse(&m, NULL, 3), -EINVAL);
	buf_fini(&b);
	free(big);
}

/* ---- header names -------------------------------------------------------------- */

static void test_hdr_names(void **state)
{
	static const struct {
		enum sip_hdr_id id;
		const char *name;
		char compact;
	} table[] = {
#define X(id, name, compact) {SIP_HDR_##id, name, compact},
	    SIP_HEADERS(X)
#undef X
	};
	for (size_t i = 0; i < ARRAY_LEN(table); i++) {
		char up[64], low[64];
		size_t n = strlen(table[i].name);
		for (size_t k = 0; k <= n; k++) {
			up[k] = (char)(table[i].name[k] >= 'a' && table[i].name[k] <= 'z'
					   ? table[i].name[k] - 32
					   : table[i].name[k]);
			low[k] = (char)(table[i].name[k] >= 'A' && table[i].name[k] <= 'Z'
					    ? table[i].name[k] + 32
					    : table[i].name[k]);
		}
		assert_int_equal(sip_hdr_id_parse(str_from_cstr(table[i].name)), table[i].id);
		assert_int_equal(sip_hdr_id_parse(str_from_cstr(up)), table[i].id);
		assert_int_equal(sip_hdr_id_parse(str_from_cstr(low)), table[i].id);
		assert_string_equal(sip_hdr_name(table[i].id), table[i].name);
		if (table[i].compact) {
			char c[2] = {table[i].compact, 0};
			assert_int_equal(sip_hdr_id_parse(str_from_cstr(c)), table[i].id);
			c[0] = (char)(c[0] - 32);
			assert_int_equal(sip_hdr_id_parse(str_from_cstr(c)), table[i].id);
		}
	}
	assert_int_equal(sip_hdr_id_parse(STR("Vias")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_parse(STR("z")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_parse(STR("d")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_parse(STR("")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_parse(STR("C%6Fntact")), SIP_HDR_OTHER);
	assert_null(sip_hdr_name(SIP_HDR_OTHER));
}

static void test_methods_transports(void **state)
{
	assert_int_equal(sip_method_parse(STR("INVITE")), SIP_METHOD_INVITE);
	assert_int_equal(sip_method_parse(STR("PUBLISH")), SIP_METHOD_PUBLISH);
	/* §7.1: methods are case-sensitive */
	assert_int_equal(sip_method_parse(STR("invite")), SIP_METHOD_UNKNOWN);
	assert_int_equal(sip_method_parse(STR("RE%47IST%45R")), SIP_METHOD_UNKNOWN);
	assert_string_equal(sip_method_name(SIP_METHOD_ACK), "ACK");
	assert_string_equal(sip_method_name(SIP_METHOD_UNKNOWN), "UNKNOWN");

	enum sip_transport t;
	assert_int_equal(sip_transport_parse(STR("tcp"), &t), 0);
	assert_int_equal(t, SIP_TRANSPORT_TCP);
	assert_int_equal(sip_transport_parse(STR("TLS"), &t), 0);
	assert_int_equal(t, SIP_TRANSPORT_TLS);
	assert_int_equal(sip_transport_parse(STR("sctp"), &t), -EINVAL);
	assert_string_equal(sip_transport_name(SIP_TRANSPORT_UDP), "UDP");
}

/* ---- printing ------------------------------------------------------------------ */

static void test_response_print(void **state)
{
	struct sip_msg *m = parse_ok(invite);
	struct buf b;

	buf_init(&b);
	sip_response_print(&b, m, 200, NULL, "srv9", "Contact: <sip:irisx@10.0.0.1>\r\n",
			   STR("v=0\r\n"));
	assert_string_equal(b.p, "SIP/2.0 200 OK\r\n"
				 "Via: SIP/2.0/UDP 54.172.60.1:5060;branch=z9hG4bK1a2b3c;rport\r\n"
				 "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKold;received=10.1.1.1\r\n"
				 "From: \"Alice\" <sip:+15557654321@pstn.twilio.com>;tag=abc123\r\n"
				 "To: <sip:+15551234567@irisx.example.com>;tag=srv9\r\n"
				 "Call-ID: 3c26700f@pstn\r\n"
				 "CSeq: 101 INVITE\r\n"
				 "Contact: <sip:irisx@10.0.0.1>\r\n"
				 "Content-Length: 5\r\n"
				 "\r\n"
				 "v=0\r\n");
	struct sip_msg *r = parse_ok(b.p);
	assert_int_equal(r->status, 200);
	assert_str(r->to.tag, "srv9");
	sip_msg_unref(r);

	buf_reset(&b);
	sip_response_print(&b, m, 486, "Busy", NULL, NULL, STR(""));
	assert_non_null(strstr(b.p, "SIP/2.0 486 Busy\r\n"));
	assert_non_null(strstr(b.p, "To: <sip:+15551234567@irisx.example.com>\r\n"));
	assert_non_null(strstr(b.p, "Content-Length: 0\r\n\r\n"));
	sip_msg_unref(m);

	/* a To that already has a tag keeps it (in-dialog request) */
	m = parse_ok("BYE sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bKb\r\n"
		     "f: <sip:c@d>;tag=1\r\nt: <sip:a@b>;tag=2\r\ni: c\r\nCSeq: 3 BYE\r\n"
		     "Timestamp: 54\r\n\r\n");
	buf_reset(&b);
	sip_response_print(&b, m, 100, NULL, "zzz", NULL, STR(""));
	assert_non_null(strstr(b.p, "SIP/2.0 100 Trying\r\n"));
	assert_non_null(strstr(b.p, "\r\nTo: <sip:a@b>;tag=2\r\n"));
	assert_null(strstr(b.p, "zzz"));
	assert_non_null(strstr(b.p, "\r\nTimestamp: 54\r\n")); /* §8.2.6.1 */
	sip_msg_unref(m);
	buf_fini(&b);

	assert_string_equal(sip_reason_phrase(404), "Not Found");
	assert_string_equal(sip_reason_phrase(416), "Unsupported URI Scheme");
	assert_string_equal(sip_reason_phrase(505), "Version Not Supported");
	assert_string_equal(sip_reason_phrase(299), "Unknown");
}

/* A value with each fold (WSP* CRLF WSP+) as one SP. */
static void unfold(struct str v, char *out)
{
	size_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] == '\r') {
			while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
				n--;
			out[n++] = ' ';
			i += 2;
			while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
				i++;
			i--;
			continue;
		}
		out[n++] = v.p[i];
	}
	out[n] = '\0';
}

/* Messages equal as the stack sees them (values compared with folds as one SP). */
static void assert_msg_equal(const struct sip_msg *a, const struct sip_msg *b)
{
	assert_int_equal(a->is_request, b->is_request);
	assert_int_equal(a->method, b->method);
	assert_true(str_eq(a->method_name, b->method_name));
	assert_true(str_eq(a->ruri_str, b->ruri_str));
	assert_int_equal(a->status, b->status);
	assert_true(str_eq(a->reason, b->reason));
	assert_int_equal(a->hdr_count, b->hdr_count);
	for (size_t i = 0; i < a->hdr_count; i++) {
		assert_int_equal(a->hdrs[i].id, b->hdrs[i].id);
		if (a->hdrs[i].id == SIP_HDR_OTHER)
			assert_true(str_eq(a->hdrs[i].name, b->hdrs[i].name));
		char ua[SIP_MSG_MAX_LINE + 1], ub[SIP_MSG_MAX_LINE + 1];
		unfold(a->hdrs[i].value, ua);
		unfold(b->hdrs[i].value, ub);
		assert_string_equal(ua, ub);
	}
	assert_true(str_eq(a->via.branch, b->via.branch));
	assert_true(str_eq(a->via.host, b->via.host));
	assert_int_equal(a->via.port, b->via.port);
	assert_true(str_eq(a->from.tag, b->from.tag));
	assert_true(str_eq(a->to.tag, b->to.tag));
	assert_true(str_eq(a->from.uri_str, b->from.uri_str));
	assert_true(str_eq(a->to.uri_str, b->to.uri_str));
	assert_true(str_eq(a->call_id, b->call_id));
	assert_int_equal(a->cseq.num, b->cseq.num);
	assert_true(str_eq(a->cseq.method_name, b->cseq.method_name));
	assert_int_equal(a->max_forwards, b->max_forwards);
	assert_true(str_eq(a->body, b->body));
}

static void round_trip(const char *text, size_t len)
{
	struct sip_msg *a, *b, *c;
	struct buf p1, p2;

	assert_int_equal(sip_msg_parse(&a, text, len), 0);
	buf_init(&p1);
	buf_init(&p2);
	sip_msg_print(&p1, a);
	assert_false(p1.failed);
	if (sip_msg_parse(&b, p1.p, p1.len) != 0)
		fail_msg("printed form does not parse:\n%s", p1.p);
	assert_msg_equal(a, b);
	/* the canonical form is a fixed point */
	sip_msg_print(&p2, b);
	assert_int_equal(p1.len, p2.len);
	assert_memory_equal(p1.p, p2.p, p1.len);
	assert_int_equal(sip_msg_parse(&c, p2.p, p2.len), 0);
	assert_msg_equal(b, c);
	sip_msg_unref(a);
	sip_msg_unref(b);
	sip_msg_unref(c);
	buf_fini(&p1);
	buf_fini(&p2);
}

static void test_round_trip(void **state)
{
	round_trip(invite, strlen(invite));
	const char *folded = "OPTIONS sip:x@example.com SIP/2.0\r\n"
			     "v : SIP/2.0/UDP a.example.com;branch=z9hG4bK1 ,\r\n"
			     "\tSIP/2.0/TCP b.example.com\r\n"
			     "From:\r\n <sip:a@example.com>\r\n ;tag=9\r\n"
			     "t: sip:x@example.com\r\ni: f\r\nCSeq: 2\r\n   OPTIONS\r\n"
			     "X-Empty:\r\n\r\n";
	round_trip(folded, strlen(folded));

	struct sip_msg *m = parse_ok(folded);
	struct buf b;
	buf_init(&b);
	sip_msg_print(&b, m);
	assert_string_equal(b.p, "OPTIONS sip:x@example.com SIP/2.0\r\n"
				 "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1 , "
				 "SIP/2.0/TCP b.example.com\r\n"
				 "From: <sip:a@example.com> ;tag=9\r\n"
				 "To: sip:x@example.com\r\n"
				 "Call-ID: f\r\n"
				 "CSeq: 2 OPTIONS\r\n"
				 "X-Empty: \r\n"
				 "\r\n");
	buf_fini(&b);
	sip_msg_unref(m);
}

/* ---- stream framing (§18.3) ---------------------------------------------------- */

static void test_frame(void **state)
{
	const char *one = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
			  "From: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: s\r\nCSeq: 1 "
			  "OPTIONS\r\nl: 3\r\n\r\nabc";
	size_t one_len = strlen(one);
	char stream[1024];
	/* keep-alives, one message, a second message */
	int n = snprintf(stream, sizeof(stream), "\r\n\r\n%s%s", one, one);
	size_t total = (size_t)n;
	size_t skip, len;

	for (size_t cut = 0; cut <= total; cut++) {
		int r = sip_msg_frame(stream, cut, &skip, &len);
		if (cut < 4 + one_len) {
			if (r != -EAGAIN)
				fail_msg("cut %zu: %d", cut, r);
			assert_int_equal(skip, cut < 4 ? cut & ~(size_t)1 : 4);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(skip, 4);
			assert_int_equal(len, one_len);
		}
	}
	/* the second message, after consuming the first */
	const char *second = stream + 4 + one_len;
	for (size_t cut = 0; cut <= one_len; cut++) {
		int r = sip_msg_frame(second, cut, &skip, &len);
		assert_int_equal(r, cut < one_len ? -EAGAIN : 0);
		assert_int_equal(skip, 0);
	}
	assert_int_equal(len, one_len);
	struct sip_msg *m;
	assert_int_equal(sip_msg_parse(&m, second, len), 0);
	assert_str(m->body, "abc");
	sip_msg_unref(m);
}

/* A connection that keeps what framing learnt: a byte at a time, the search
 * resumes where it stopped, and once the headers are complete the length is
 * known before the body is. */
static void test_frame_resume(void **state)
{
	const char *msg = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
			  "From: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: s\r\nCSeq: 1 "
			  "INVITE\r\nContent-Length: 5\r\n\r\nhello";
	size_t total = strlen(msg), head = total - 5;
	size_t scanned = 0, need = 0, skip, len;
	for (size_t avail = 1; avail <= total; avail++) {
		if (need && avail < need)
			continue; /* nothing to look at until the body can be whole */
		int r = sip_msg_frame_resume(msg, avail, need ? 0 : scanned, &skip, &len);
		assert_int_equal(skip, 0);
		if (avail < total) {
			assert_int_equal(r, -EAGAIN);
			/* the length is known exactly when the blank line arrived */
			assert_int_equal(len, avail >= head ? total : 0);
			scanned = avail;
			need = len;
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(len, total);
		}
	}
	/* the blank line split over the scanned part and the new bytes, at
	 * every point */
	for (size_t cut = head - 4; cut < head; cut++) {
		assert_int_equal(sip_msg_frame_resume(msg, cut, 0, &skip, &len), -EAGAIN);
		assert_int_equal(len, 0);
		assert_int_equal(sip_msg_frame_resume(msg, total, cut, &skip, &len), 0);
		assert_int_equal(len, total);
	}
	/* a hint past what is there reads nothing beyond it */
	assert_int_equal(sip_msg_frame_resume(msg, head, 100000, &skip, &len), -EAGAIN);
}

static void test_frame_bad(void **state)
{
	size_t skip, len;
	const char *no_cl = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
	/* §18.3: Content-Length is mandatory on streams */
	assert_int_equal(sip_msg_frame(no_cl, strlen(no_cl), &skip, &len), -EBADMSG);
	const char *neg = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n";
	assert_int_equal(sip_msg_frame(neg, strlen(neg), &skip, &len), -EBADMSG);
	const char *two = "OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab";
	assert_int_equal(sip_msg_frame(two, strlen(two), &skip, &len), -EBADMSG);
	const char *same = "OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\nContent-Length: 2\r\n\r\nab";
	assert_int_equal(sip_msg_frame(same, strlen(same), &skip, &len), 0);
	const char *huge = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 70000\r\n\r\n";
	assert_int_equal(sip_msg_frame(huge, strlen(huge), &skip, &len), -EBADMSG);
	const char *folded = "OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 2\r\n\r\nab";
	assert_int_equal(sip_msg_frame(folded, strlen(folded), &skip, &len), 0);
	assert_int_equal(len, strlen(folded));
	assert_int_equal(sip_msg_frame("\x16\x03\x01\x02", 4, &skip, &len), -EBADMSG);
	assert_int_equal(sip_msg_frame("GET / HTTP/1.1\nHost: x\n", 23, &skip, &len), -EBADMSG);
	assert_int_equal(sip_msg_frame("INVITE sip:a@b SIP/2.0\r\nVia", 27, &skip, &len), -EAGAIN);
	assert_int_equal(sip_msg_frame("\r\n\r", 3, &skip, &len), -EAGAIN);
	assert_int_equal(skip, 2);

	/* a header section that never ends is cut at the size limit */
	char *big = malloc(SIP_MSG_MAX_SIZE + 10);
	assert_non_null(big);
	memcpy(big, "INVITE sip:a@b SIP/2.0\r\n", 24);
	for (size_t i = 24; i < SIP_MSG_MAX_SIZE + 10; i += 10)
		memcpy(big + i, "X: yyyyy\r\n", i + 10 <= SIP_MSG_MAX_SIZE + 10 ? 10 : 0);
	assert_int_equal(sip_msg_frame(big, SIP_MSG_MAX_SIZE + 6, &skip, &len), -EBADMSG);
	assert_int_equal(sip_msg_frame(big, 1000, &skip, &len), -EAGAIN);
	free(big);
}

/* ---- sip_msg_check (RFC 3261 §8.2, RFC 4475 §3.1.2) ---------------------------- */

#define CHK_HEAD(method, ruri)                                                                     \
	method " " ruri " SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKc\r\n"                       \
	       "From: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: c1\r\n"

static const struct check_vector {
	const char *name;
	const char *text;
	int status;
} check_vectors[] = {
    {"plain INVITE", CHK_HEAD("INVITE", "sip:a@example.com") "CSeq: 1 INVITE\r\n\r\n", 0},
    {"tel Request-URI", CHK_HEAD("INVITE", "tel:+15551234567") "CSeq: 1 INVITE\r\n\r\n", 0},
    {"sips Request-URI", CHK_HEAD("OPTIONS", "sips:a@b") "CSeq: 1 OPTIONS\r\n\r\n", 0},
    /* §21.4.17 */
    {"http Request-URI", CHK_HEAD("OPTIONS", "http://a/b") "CSeq: 1 OPTIONS\r\n\r\n", 416},
    /* §8.2.2 via §21.5.6: only SIP/2.0 is spoken */
    {"SIP/3.0 request",
     "OPTIONS sip:a@b SIP/3.0\r\nVia: SIP/3.0/UDP h\r\nFrom: <sip:b@c>\r\n"
     "To: <sip:a@b>\r\nCall-ID: v\r\nCSeq: 1 OPTIONS\r\n\r\n",
     505},
    {"lower-case version",
     "OPTIONS sip:a@b sip/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:b@c>\r\n"
     "To: <sip:a@b>\r\nCall-ID: v\r\nCSeq: 1 OPTIONS\r\n\r\n",
     0},
    {"CSeq method mismatch", CHK_HEAD("BYE", "sip:a@b") "CSeq: 1 INVITE\r\n\r\n", 400},
    {"headers in Request-URI", CHK_HEAD("INVITE", "sip:a@b?Subject=x") "CSeq: 1 INVITE\r\n\r\n",
     400},
    {"Call-ID with a space",
     "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n"
     "From: <sip:b@c>\r\nTo: <sip:a@b>\r\nCall-ID: a b\r\n"
     "CSeq: 1 OPTIONS\r\n\r\n",
     400},
    {"Contact star in REGISTER",
     CHK_HEAD("REGISTER", "sip:example.com") "CSeq: 2 REGISTER\r\n"
					     "Contact: *\r\nExpires: 0\r\n\r\n",
     0},
    {"Contact star in INVITE", CHK_HEAD("INVITE", "sip:a@b") "CSeq: 1 INVITE\r\nContact: *\r\n\r\n",
     400},
    {"Contact list",
     CHK_HEAD("REGISTER", "sip:example.com") "CSeq: 2 REGISTER\r\n"
					     "Contact: <sip:a@h1>;q=1, sip:a@h2;q=0.5\r\n"
					     "m: \"A\" <sip:a@h3>\r\n\r\n",
     0},
    {"Contact empty element",
     CHK_HEAD("REGISTER", "sip:example.com") "CSeq: 2 REGISTER\r\n"
					     "Contact: <sip:a@h1>,\r\n\r\n",
     400},
    {"Route without <>",
     CHK_HEAD("INVITE", "sip:a@b") "CSeq: 1 INVITE\r\nRoute: sip:p@q;lr\r\n\r\n", 400},
    {"Record-Route list",
     CHK_HEAD("INVITE", "sip:a@b") "CSeq: 1 INVITE\r\n"
				   "Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n\r\n",
     0},
    {"second Via malformed", CHK_HEAD("INVITE", "sip:a@b") "CSeq: 1 INVITE\r\nVia: SIP/2.0\r\n\r\n",
     400},
    /* §20.19 */
    {"Expires 2^32",
     CHK_HEAD("REGISTER", "sip:e") "CSeq: 2 REGISTER\r\nExpires: 4294967296\r\n\r\n", 400},
    {"Expires 2^32-1",
     CHK_HEAD("REGISTER", "sip:e") "CSeq: 2 REGISTER\r\nExpires: 4294967295\r\n\r\n", 0},
    /* §20.17 */
    {"Date GMT",
     CHK_HEAD("INVITE", "sip:a@b") "CSeq: 1 INVITE\r\n"
				   "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n\r\n",
     0},
    {"Date EST",
     CHK_HEAD("INVITE", "sip:a@b") "CSeq: 1 INVITE\r\n"
				   "Date: Sat, 13 Nov 2010 23:29:00 EST\r\n\r\n",
     400},
    {"Date bad month",
     CHK_HEAD("INVITE", "sip:a@b") "CSeq: 1 INVITE\r\n"
				   "Date: Sat, 13 Nav 2010 23:29:00 GMT\r\n\r\n",
     400},
    /* §20.15 */
    {"body without Content-Type",
     CHK_HEAD("MESSAGE", "sip:a@b") "CSeq: 1 MESSAGE\r\n"
				    "Content-Length: 2\r\n\r\nhi",
     400},
    {"Content-Type with params",
     CHK_HEAD("MESSAGE", "sip:a@b") "CSeq: 1 MESSAGE\r\n"
				    "c: text/plain ; charset=\"utf-8\"\r\n"
				    "l: 2\r\n\r\nhi",
     0},
    {"Content-Type without subtype",
     CHK_HEAD("MESSAGE", "sip:a@b") "CSeq: 1 MESSAGE\r\n"
				    "c: text\r\nl: 2\r\n\r\nhi",
     400},
    {"a response",
     "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:b@c>;tag=1\r\n"
     "To: <sip:a@b>;tag=2\r\nCall-ID: r\r\nCSeq: 1 BYE\r\n\r\n",
     0},
};

static void test_check(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(check_vectors); i++) {
		const struct check_vector *v = &check_vectors[i];
		struct sip_msg *m;
		int r = sip_msg_parse(&m, v->text, strlen(v->text));
		if (r != 0)
			fail_msg("%s: parse %d (%s)", v->name, r, m && m->error ? m->error : "-");
		const char *reason = "unset";
		int st = sip_msg_check(m, &reason);
		if (st != v->status)
			fail_msg("%s: check gave %d (%s), want %d", v->name, st,
				 reason ? reason : "-", v->status);
		if (st)
			assert_non_null(reason);
		else
			assert_null(reason);
		sip_msg_unref(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_invite),
	    cmocka_unit_test(test_parse_response),
	    cmocka_unit_test(test_parse_folding_and_lists),
	    cmocka_unit_test(test_parse_body_framing),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_hdr_names),
	    cmocka_unit_test(test_methods_transports),
	    cmocka_unit_test(test_response_print),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_frame),
	    cmocka_unit_test(test_frame_resume),
	    cmocka_unit_test(test_frame_bad),
	    cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
