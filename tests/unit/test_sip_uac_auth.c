/*
 * Digest challenges to the requests a call sends inside its dialog (RFC 3261
 * §22.2, RFC 7616): a real UA on a libuv loop places a call with
 * credentials, the test plays the far end over a plain UDP socket, answers
 * it, and then challenges the BYE or the INFO. Each credentials header is
 * recomputed here from RFC 2617 §3.2.2.1's formula with libcrypto's MD5,
 * not through sip_auth_*. Short transaction timers (T1 50 ms).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_sip_util.h"
#include <uv.h>

#include "sip/sip.h"

static const struct sip_txn_timers short_timers = {.t1_ms = 50, .t2_ms = 400, .t4_ms = 500};

static const char sdp_offer[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				"t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
static const char sdp_answer[] = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				 "t=0 0\r\nm=audio 42000 RTP/AVP 0\r\n";

struct fixture {
	uv_loop_t loop;
	struct sip_ua *ua;
	uint16_t port;
	struct sip_call *out; /* the call placed */
	struct sip_call *in;  /* an inbound call (answered at once) */
	int answers, ended;
	int udp; /* the far end */
	uint16_t udp_port;
	char rbuf[65536];
};

static void invite_cb(void *arg, struct sip_call *call)
{
	struct fixture *f = arg;
	f->in = call;
	assert_int_equal(sip_call_answer(call, "application/sdp", str_from_cstr(sdp_answer)), 0);
}

static void call_ended_cb(void *arg, struct sip_call *call, uint16_t status)
{
	struct fixture *f = arg;
	f->ended++;
}

static void answer_cb(void *arg, struct sip_call *call, const struct sip_msg *resp)
{
	struct fixture *f = arg;
	f->answers++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	struct sip_ua_config cfg = {
	    .name = "uac", .enable_udp = true, .user_agent = "irisx-test", .timers = &short_timers};
	struct sip_ua_cbs cbs = {.invite_cb = invite_cb,
				 .call_ended_cb = call_ended_cb,
				 .answer_cb = answer_cb,
				 .arg = f};
	f->port = test_ua_create(&f->ua, &f->loop, &cfg, &cbs, 211);
	f->udp = test_udp_open(&f->udp_port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->out)
		sip_call_release(f->out);
	if (f->in)
		sip_call_release(f->in);
	test_ua_fini(&f->loop, f->ua, f->udp);
	free(f);
	return 0;
}

static void run_for(struct fixture *f, int ms)
{
	test_loop_run_for(&f->loop, ms);
}

static void respond(struct fixture *f, const struct sip_msg *req, uint16_t status,
		    const char *to_tag, const char *extra, const char *body)
{
	test_udp_respond(f->udp, f->port, req, status, to_tag, extra, body);
}

static struct sip_msg *recv_req(struct fixture *f, enum sip_method method, uint32_t cseq, int ms)
{
	return test_udp_recv_req(&f->loop, f->udp, f->rbuf, sizeof(f->rbuf), method, cseq, ms);
}

static struct sip_msg *expect_req(struct fixture *f, enum sip_method method, uint32_t cseq)
{
	return test_udp_expect_req(&f->loop, f->udp, f->rbuf, sizeof(f->rbuf), method, cseq);
}

/*
 * The credentials in `cred` answer a challenge of realm irisx.test and
 * `nonce` for `method` to the request's Request-URI with alice/secret:
 * response = MD5(HA1:nonce:nc:cnonce:auth:HA2) with qop, MD5(HA1:nonce:HA2)
 * without (RFC 2617 §3.2.2.1). `nc` is the count expected (qop only).
 */
static void check_digest(const char *cred, const struct sip_msg *req, const char *nonce, bool qop,
			 const char *nc_want)
{
	char p[256], nc[32], cnonce[128], ha1[33], ha2[33], want[33], ruri[256];
	snprintf(ruri, sizeof(ruri), "%.*s", (int)req->ruri_str.len, req->ruri_str.p);
	assert_true(strncmp(cred, "Digest ", 7) == 0);
	assert_string_equal(test_auth_param(cred, "username", p, sizeof(p)), "alice");
	assert_string_equal(test_auth_param(cred, "realm", p, sizeof(p)), "irisx.test");
	assert_string_equal(test_auth_param(cred, "nonce", p, sizeof(p)), nonce);
	assert_string_equal(test_auth_param(cred, "uri", p, sizeof(p)), ruri);
	test_md5_hex(ha1, "alice:irisx.test:secret");
	test_md5_hex(ha2, "%s:%s", sip_method_name(req->method), ruri);
	if (qop) {
		assert_string_equal(test_auth_param(cred, "qop", p, sizeof(p)), "auth");
		assert_non_null(test_auth_param(cred, "nc", nc, sizeof(nc)));
		assert_string_equal(nc, nc_want);
		assert_non_null(test_auth_param(cred, "cnonce", cnonce, sizeof(cnonce)));
		test_md5_hex(want, "%s:%s:%s:%s:auth:%s", ha1, nonce, nc, cnonce, ha2);
	} else {
		assert_null(test_auth_param(cred, "qop", p, sizeof(p)));
		assert_null(test_auth_param(cred, "nc", p, sizeof(p)));
		test_md5_hex(want, "%s:%s:%s", ha1, nonce, ha2);
	}
	assert_string_equal(test_auth_param(cred, "response", p, sizeof(p)), want);
}

/* Places a call to the far end with alice/secret (or no credentials) and
 * returns its INVITE. */
static struct sip_msg *place_call(struct fixture *f, const char *user, const char *password)
{
	char ruri[128];
	snprintf(ruri, sizeof(ruri), "sip:+15551234567@127.0.0.1:%u", f->udp_port);
	struct sip_call_out p = {.request_uri = ruri,
				 .from = "<sip:alice@irisx.test>",
				 .content_type = "application/sdp",
				 .body = str_from_cstr(sdp_offer),
				 .auth_username = user,
				 .auth_password = password};
	assert_int_equal(sip_call_start(&f->out, f->ua, &p, NULL), 0);
	return expect_req(f, SIP_METHOD_INVITE, 0);
}

/* The far end answers `inv` (its Contact on the test's socket), and the ACK comes. */
static void answer(struct fixture *f, const struct sip_msg *inv)
{
	char extra[160];
	snprintf(extra, sizeof(extra),
		 "Contact: <sip:carrier@127.0.0.1:%u>\r\nContent-Type: application/sdp\r\n",
		 f->udp_port);
	respond(f, inv, 200, "far", extra, sdp_answer);
	sip_msg_unref(expect_req(f, SIP_METHOD_ACK, inv->cseq.num));
	assert_int_equal(f->answers, 1);
}

static const char proxy_challenge[] =
    "Proxy-Authenticate: Digest realm=\"irisx.test\", nonce=\"byen0nce\", algorithm=MD5, "
    "qop=\"auth\"\r\n";

/* The far end's answer to a request nobody else will see: 200, and the call
 * is gone once its BYE completed. */
static void bye_done(struct fixture *f, const struct sip_msg *bye)
{
	respond(f, bye, 200, NULL, NULL, NULL);
	run_for(f, 100);
	assert_int_equal(sip_ua_busy(f->ua), 0);
}

/* §22.2: a BYE challenged with 407 is sent again once, CSeq + 1, same
 * Call-ID and tags, a new branch, Proxy-Authorization for BYE to its
 * Request-URI; the hangup's Reason is kept. */
static void test_bye_407_answered(void **state)
{
	struct fixture *f = *state;
	char v[1024];
	struct sip_msg *inv = place_call(f, "alice", "secret");
	answer(f, inv);
	assert_int_equal(sip_call_hangup(f->out, 0, "Reason: Q.850;cause=16\r\n"), 0);
	sip_call_release(f->out);
	f->out = NULL;
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 2);
	assert_null(sip_msg_hdr(bye, SIP_HDR_PROXY_AUTHORIZATION));
	respond(f, bye, 407, NULL, proxy_challenge, NULL);
	struct sip_msg *bye2 = expect_req(f, SIP_METHOD_BYE, 3);
	assert_true(str_eq(bye2->call_id, inv->call_id));
	assert_true(str_eq(bye2->from.tag, inv->from.tag));
	assert_true(str_eq(bye2->to.tag, STR("far")));
	assert_true(str_eq(bye2->ruri_str, bye->ruri_str));
	assert_false(str_eq(bye2->via.branch, bye->via.branch));
	assert_non_null(sip_msg_hdr(bye2, SIP_HDR_REASON));
	assert_null(sip_msg_hdr(bye2, SIP_HDR_AUTHORIZATION));
	const char *cred = test_hdr_cstr(bye2, SIP_HDR_PROXY_AUTHORIZATION, v, sizeof(v));
	assert_non_null(cred);
	check_digest(cred, bye2, "byen0nce", true, "00000001");
	assert_int_equal(sip_ua_busy(f->ua), 1); /* until the second BYE completes */
	bye_done(f, bye2);
	assert_int_equal(f->ended, 0); /* we ended it: nothing to report */
	sip_msg_unref(bye2);
	sip_msg_unref(bye);
	sip_msg_unref(inv);
}

/* A second challenge to the same BYE is its outcome: no third BYE. */
static void test_bye_challenged_twice_fails(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, "alice", "secret");
	answer(f, inv);
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), 0);
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 2);
	respond(f, bye, 407, NULL, proxy_challenge, NULL);
	struct sip_msg *bye2 = expect_req(f, SIP_METHOD_BYE, 3);
	assert_non_null(sip_msg_hdr(bye2, SIP_HDR_PROXY_AUTHORIZATION));
	respond(f, bye2, 407, NULL, proxy_challenge, NULL); /* a wrong password, say */
	assert_null(recv_req(f, SIP_METHOD_BYE, 4, 300));
	sip_call_release(f->out);
	f->out = NULL;
	run_for(f, 50);
	assert_int_equal(sip_ua_busy(f->ua), 0); /* the call is gone all the same */
	sip_msg_unref(bye2);
	sip_msg_unref(bye);
	sip_msg_unref(inv);
}

/* 401 with WWW-Authenticate (no qop: RFC 2617's form) → Authorization. */
static void test_bye_401_authorization(void **state)
{
	struct fixture *f = *state;
	char v[1024];
	struct sip_msg *inv = place_call(f, "alice", "secret");
	answer(f, inv);
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), 0);
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 2);
	respond(f, bye, 401, NULL,
		"WWW-Authenticate: Digest realm=\"irisx.test\", nonce=\"w401\", opaque=\"op\"\r\n",
		NULL);
	struct sip_msg *bye2 = expect_req(f, SIP_METHOD_BYE, 3);
	assert_null(sip_msg_hdr(bye2, SIP_HDR_PROXY_AUTHORIZATION));
	const char *cred = test_hdr_cstr(bye2, SIP_HDR_AUTHORIZATION, v, sizeof(v));
	assert_non_null(cred);
	check_digest(cred, bye2, "w401", false, NULL);
	char p[64];
	assert_string_equal(test_auth_param(cred, "opaque", p, sizeof(p)), "op");
	sip_call_release(f->out);
	f->out = NULL;
	bye_done(f, bye2);
	sip_msg_unref(bye2);
	sip_msg_unref(bye);
	sip_msg_unref(inv);
}

/* The INVITE's nonce challenged again for the BYE: the nonce count goes on
 * (RFC 7616 §3.4: nc counts the requests sent with that nonce). */
static void test_same_nonce_counts_on(void **state)
{
	struct fixture *f = *state;
	char v[1024];
	struct sip_msg *inv = place_call(f, "alice", "secret");
	respond(f, inv, 407, "px", proxy_challenge, NULL);
	struct sip_msg *inv2 = expect_req(f, SIP_METHOD_INVITE, 2);
	const char *cred = test_hdr_cstr(inv2, SIP_HDR_PROXY_AUTHORIZATION, v, sizeof(v));
	assert_non_null(cred);
	check_digest(cred, inv2, "byen0nce", true, "00000001");
	answer(f, inv2);
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), 0);
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 3);
	respond(f, bye, 407, NULL, proxy_challenge, NULL);
	struct sip_msg *bye2 = expect_req(f, SIP_METHOD_BYE, 4);
	cred = test_hdr_cstr(bye2, SIP_HDR_PROXY_AUTHORIZATION, v, sizeof(v));
	assert_non_null(cred);
	check_digest(cred, bye2, "byen0nce", true, "00000002");
	sip_call_release(f->out);
	f->out = NULL;
	bye_done(f, bye2);
	sip_msg_unref(bye2);
	sip_msg_unref(bye);
	sip_msg_unref(inv2);
	sip_msg_unref(inv);
}

/* INFO (DTMF) challenged: sent again with its body and Content-Type. */
static void test_info_challenged(void **state)
{
	struct fixture *f = *state;
	char v[1024];
	static const char dtmf[] = "Signal=5\r\nDuration=160\r\n";
	struct sip_msg *inv = place_call(f, "alice", "secret");
	answer(f, inv);
	assert_int_equal(sip_call_info(f->out, "application/dtmf-relay", str_from_cstr(dtmf)), 0);
	struct sip_msg *info = expect_req(f, SIP_METHOD_INFO, 2);
	respond(f, info, 401, NULL,
		"WWW-Authenticate: Digest realm=\"irisx.test\", nonce=\"inf\", qop=\"auth\"\r\n",
		NULL);
	struct sip_msg *info2 = expect_req(f, SIP_METHOD_INFO, 3);
	assert_true(str_eq(info2->body, str_from_cstr(dtmf)));
	assert_string_equal(test_hdr_cstr(info2, SIP_HDR_CONTENT_TYPE, v, sizeof(v)),
			    "application/dtmf-relay");
	const char *cred = test_hdr_cstr(info2, SIP_HDR_AUTHORIZATION, v, sizeof(v));
	assert_non_null(cred);
	check_digest(cred, info2, "inf", true, "00000001");
	respond(f, info2, 200, NULL, NULL, NULL);
	run_for(f, 50);
	/* the call is still up: the next request takes the next CSeq */
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), 0);
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 4);
	sip_call_release(f->out);
	f->out = NULL;
	bye_done(f, bye);
	sip_msg_unref(bye);
	sip_msg_unref(info2);
	sip_msg_unref(info);
	sip_msg_unref(inv);
}

/* A call placed without credentials: a challenged BYE is final. */
static void test_no_credentials_bye_fails(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, NULL);
	answer(f, inv);
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), 0);
	sip_call_release(f->out);
	f->out = NULL;
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 2);
	respond(f, bye, 407, NULL, proxy_challenge, NULL);
	assert_null(recv_req(f, SIP_METHOD_BYE, 3, 300));
	assert_int_equal(sip_ua_busy(f->ua), 0);
	sip_msg_unref(bye);
	sip_msg_unref(inv);
}

/* An inbound call (no credentials anywhere): a challenged BYE is final. */
static void test_inbound_bye_challenge_fails(void **state)
{
	struct fixture *f = *state;
	char inv[1024];
	int n = snprintf(inv, sizeof(inv),
			 "INVITE sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKin1;rport\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=bob\r\n"
			 "To: <sip:irisx@127.0.0.1>\r\nCall-ID: in-1@test\r\nCSeq: 1 INVITE\r\n"
			 "Contact: <sip:bob@127.0.0.1:%u>\r\nContent-Type: application/sdp\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 f->port, f->udp_port, f->udp_port, strlen(sdp_offer), sdp_offer);
	test_udp_send(f->udp, f->port, inv, (size_t)n);
	struct sip_msg *ok = NULL;
	uint64_t end = clock_now_ms() + 2000;
	while (!ok && clock_now_ms() < end) {
		struct sip_msg *m =
		    test_udp_recv_msg(&f->loop, f->udp, f->rbuf, sizeof(f->rbuf), 500);
		if (m && !m->is_request && m->status == 200)
			ok = m;
		else
			sip_msg_unref(m);
	}
	assert_non_null(ok);
	assert_non_null(f->in);
	test_udp_sendf(f->udp, f->port,
		       "ACK sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKin1ack;rport\r\n"
		       "Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=bob\r\n"
		       "To: <sip:irisx@127.0.0.1>;tag=%.*s\r\nCall-ID: in-1@test\r\n"
		       "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		       f->port, f->udp_port, (int)ok->to.tag.len, ok->to.tag.p);
	run_for(f, 50);
	assert_int_equal(sip_call_hangup(f->in, 0, NULL), 0);
	sip_call_release(f->in);
	f->in = NULL;
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 0);
	assert_true(str_eq(bye->call_id, STR("in-1@test")));
	respond(f, bye, 407, NULL, proxy_challenge, NULL);
	assert_null(recv_req(f, SIP_METHOD_BYE, bye->cseq.num + 1, 300));
	assert_int_equal(sip_ua_busy(f->ua), 0);
	sip_msg_unref(bye);
	sip_msg_unref(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bye_407_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bye_challenged_twice_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bye_401_authorization, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_same_nonce_counts_on, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_info_challenged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_credentials_bye_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inbound_bye_challenge_fails, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
