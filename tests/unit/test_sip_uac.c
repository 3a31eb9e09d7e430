/*
 * Outbound calls (UAC, RFC 3261 §13.2) end to end on loopback: a real UA on a
 * libuv loop places calls, and the test plays the far end — over a plain UDP
 * socket that sends scripted responses and checks every request on the
 * wire, or as a second UA that answers. Short transaction timers (T1 50 ms)
 * keep Timer B at 3.2 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
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
#include "sip/sip_resolve_int.h"

static const struct sip_txn_timers short_timers = {.t1_ms = 50, .t2_ms = 400, .t4_ms = 500};

static const char sdp_offer[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				"t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
static const char sdp_answer[] = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
				 "t=0 0\r\nm=audio 42000 RTP/AVP 0\r\n";

/* One UA and what its callbacks saw. */
struct side {
	struct sip_ua *ua;
	uint16_t port;
	struct sip_call *call; /* inbound: the last call offered */
	int invites, progress, answers, ended, acks, offers;
	uint16_t ended_status;
	uint16_t progress_status[8];
	char progress_body[8][256];
	char answer_body[256];
	bool answer_inbound; /* invite_cb answers at once with sdp_answer */
	bool release_on_end; /* call_ended_cb releases the call */
};

struct fixture {
	uv_loop_t loop;
	struct side a; /* places the calls */
	struct side b; /* a second UA, when a test wants one */
	struct sip_call *out;
	int udp; /* the scripted far end */
	uint16_t udp_port;
	char rbuf[65536];
};

static void copy_body(char *dst, size_t size, struct str body)
{
	snprintf(dst, size, "%.*s", (int)body.len, body.p ? body.p : "");
}

static void invite_cb(void *arg, struct sip_call *call)
{
	struct side *s = arg;
	s->invites++;
	s->call = call;
	if (s->answer_inbound)
		assert_int_equal(
		    sip_call_answer(call, "application/sdp", str_from_cstr(sdp_answer)), 0);
}

static void call_ended_cb(void *arg, struct sip_call *call, uint16_t status)
{
	struct side *s = arg;
	s->ended++;
	s->ended_status = status;
	if (s->release_on_end) {
		sip_call_release(call);
		if (s->call == call)
			s->call = NULL;
	}
}

static void progress_cb(void *arg, struct sip_call *call, const struct sip_msg *resp)
{
	struct side *s = arg;
	assert_true(sip_call_outbound(call));
	if (s->progress < 8) {
		s->progress_status[s->progress] = resp->status;
		copy_body(s->progress_body[s->progress], sizeof(s->progress_body[0]), resp->body);
	}
	s->progress++;
}

static void answer_cb(void *arg, struct sip_call *call, const struct sip_msg *resp)
{
	struct side *s = arg;
	assert_true(sip_call_answered(call));
	s->answers++;
	copy_body(s->answer_body, sizeof(s->answer_body), resp->body);
}

static void ack_cb(void *arg, struct sip_call *call, const struct sip_msg *ack)
{
	struct side *s = arg;
	s->acks++;
}

static uint16_t offer_cb(void *arg, struct sip_call *call, struct str offer, struct buf *answer)
{
	struct side *s = arg;
	s->offers++;
	buf_append_cstr(answer, sdp_answer);
	return 200;
}

static void side_start(struct fixture *f, struct side *s, bool tcp)
{
	struct sip_ua_config cfg = {.name = "uac",
				    .enable_udp = true,
				    .enable_tcp = tcp,
				    .user_agent = "irisx-test",
				    .timers = &short_timers};
	struct sip_ua_cbs cbs = {.invite_cb = invite_cb,
				 .call_ended_cb = call_ended_cb,
				 .progress_cb = progress_cb,
				 .answer_cb = answer_cb,
				 .ack_cb = ack_cb,
				 .offer_cb = offer_cb,
				 .arg = s};
	s->port = test_ua_create(&s->ua, &f->loop, &cfg, &cbs, s == &f->b ? 7919 : 197);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	side_start(f, &f->a, true);
	f->udp = test_udp_open(&f->udp_port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->out)
		sip_call_release(f->out);
	if (f->b.call)
		sip_call_release(f->b.call);
	if (f->b.ua)
		test_ua_destroy(&f->loop, f->b.ua);
	test_ua_fini(&f->loop, f->a.ua, f->udp);
	free(f);
	return 0;
}

static void run_for(struct fixture *f, int ms)
{
	test_loop_run_for(&f->loop, ms);
}

/* Runs the loop until *counter reaches `want` (or fails after `ms`). */
static void run_until(struct fixture *f, const int *counter, int want, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (*counter < want && clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(500);
	}
	assert_int_equal(*counter, want);
}

static void send_raw(struct fixture *f, const char *data, size_t len)
{
	test_udp_send(f->udp, f->a.port, data, len);
}

/* A response to `req` from the far end, with its To tag, extra lines and body. */
static void respond(struct fixture *f, const struct sip_msg *req, uint16_t status,
		    const char *to_tag, const char *extra, const char *body)
{
	test_udp_respond(f->udp, f->a.port, req, status, to_tag, extra, body);
}

/* The next message socket `fd` receives, parsed; NULL after `ms` without one. */
static struct sip_msg *recv_on(struct fixture *f, int fd, int ms)
{
	return test_udp_recv_msg(&f->loop, fd, f->rbuf, sizeof(f->rbuf), ms);
}

static struct sip_msg *recv_any(struct fixture *f, int ms)
{
	return recv_on(f, f->udp, ms);
}

static struct sip_msg *recv_req(struct fixture *f, enum sip_method method, uint32_t cseq, int ms)
{
	return test_udp_recv_req(&f->loop, f->udp, f->rbuf, sizeof(f->rbuf), method, cseq, ms);
}

static struct sip_msg *expect_req(struct fixture *f, enum sip_method method, uint32_t cseq)
{
	return test_udp_expect_req(&f->loop, f->udp, f->rbuf, sizeof(f->rbuf), method, cseq);
}

/* Places a call to the scripted far end and returns its INVITE. */
static struct sip_msg *place_call(struct fixture *f, const char *extra_query, struct str body,
				  const char *user, const char *password)
{
	char ruri[128];
	snprintf(ruri, sizeof(ruri), "sip:bob@127.0.0.1:%u%s", f->udp_port,
		 extra_query ? extra_query : "");
	struct sip_call_out p = {.request_uri = ruri,
				 .from = "\"Alice\" <sip:alice@irisx.test>",
				 .extra_headers = "X-Test: 1\r\n",
				 .content_type = "application/sdp",
				 .body = body,
				 .auth_username = user,
				 .auth_password = password};
	int owner;
	assert_int_equal(sip_call_start(&f->out, f->a.ua, &p, &owner), 0);
	assert_ptr_equal(sip_call_owner(f->out), &owner);
	sip_call_set_owner(f->out, NULL);
	assert_true(sip_call_outbound(f->out));
	assert_false(sip_call_answered(f->out));
	return expect_req(f, SIP_METHOD_INVITE, 0);
}

#define CONTACT_FMT "Contact: <sip:bob@127.0.0.1:%u>\r\n"

static void send_final_2xx(struct fixture *f, const struct sip_msg *inv, const char *tag)
{
	char extra[128];
	snprintf(extra, sizeof(extra), CONTACT_FMT "Content-Type: application/sdp\r\n",
		 f->udp_port);
	respond(f, inv, 200, tag, extra, sdp_answer);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_progress_answer_and_far_bye(void **state)
{
	struct fixture *f = *state;
	char v[512];
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);

	/* the INVITE as RFC 3261 §8.1.1 wants it */
	char want_ruri[64];
	snprintf(want_ruri, sizeof(want_ruri), "sip:bob@127.0.0.1:%u", f->udp_port);
	assert_true(str_eq(inv->ruri_str, str_from_cstr(want_ruri)));
	assert_true(str_ieq_cstr(inv->via.transport, "UDP"));
	assert_true(inv->via.rport);
	assert_int_equal(inv->via.port, f->a.port);
	assert_true(str_starts_with_i(inv->via.branch, "z9hG4bK"));
	assert_int_equal(inv->max_forwards, 70);
	assert_true(inv->from.tag.len >= 8);
	assert_true(str_eq(inv->from.uri_str, STR("sip:alice@irisx.test")));
	assert_int_equal(inv->to.tag.len, 0);
	assert_true(str_eq(inv->to.uri_str, str_from_cstr(want_ruri)));
	assert_true(str_find_char(inv->call_id, '@') > 8);
	assert_int_equal(inv->cseq.num, 1);
	assert_int_equal(inv->cseq.method, SIP_METHOD_INVITE);
	snprintf(want_ruri, sizeof(want_ruri), "<sip:irisx@127.0.0.1:%u>", f->a.port);
	assert_string_equal(test_hdr_cstr(inv, SIP_HDR_CONTACT, v, sizeof(v)), want_ruri);
	assert_non_null(sip_msg_hdr(inv, SIP_HDR_ALLOW));
	assert_non_null(sip_msg_hdr(inv, SIP_HDR_SUPPORTED));
	assert_string_equal(test_hdr_cstr(inv, SIP_HDR_USER_AGENT, v, sizeof(v)), "irisx-test");
	assert_string_equal(test_hdr_cstr(inv, SIP_HDR_CONTENT_TYPE, v, sizeof(v)),
			    "application/sdp");
	assert_non_null(sip_msg_hdr_by_name(inv, STR("X-Test")));
	assert_null(sip_msg_hdr(inv, SIP_HDR_ROUTE));
	assert_true(str_eq(inv->body, str_from_cstr(sdp_offer)));
	assert_ptr_not_equal(sip_call_invite(f->out), NULL);
	assert_int_equal(net_addr_port(&sip_call_peer(f->out)->remote), f->udp_port);

	char extra[128];
	snprintf(extra, sizeof(extra), CONTACT_FMT, f->udp_port);
	respond(f, inv, 100, NULL, NULL, NULL);
	respond(f, inv, 180, "bobtag", extra, NULL);
	snprintf(extra, sizeof(extra), CONTACT_FMT "Content-Type: application/sdp\r\n",
		 f->udp_port);
	respond(f, inv, 183, "bobtag", extra, sdp_answer);
	run_until(f, &f->a.progress, 2, 2000);
	assert_int_equal(f->a.progress_status[0], 180);
	assert_int_equal(f->a.progress_status[1], 183);
	assert_string_equal(f->a.progress_body[1], sdp_answer);
	assert_null(recv_req(f, SIP_METHOD_INVITE, 0, 200)); /* 1xx stopped retransmissions */

	send_final_2xx(f, inv, "bobtag");
	run_until(f, &f->a.answers, 1, 2000);
	assert_string_equal(f->a.answer_body, sdp_answer);
	assert_true(sip_call_answered(f->out));
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, 0);
	/* §13.2.2.4: to the Contact, the INVITE's CSeq number, a branch of its own */
	snprintf(want_ruri, sizeof(want_ruri), "sip:bob@127.0.0.1:%u", f->udp_port);
	assert_true(str_eq(ack->ruri_str, str_from_cstr(want_ruri)));
	assert_int_equal(ack->cseq.num, 1);
	assert_int_equal(ack->cseq.method, SIP_METHOD_ACK);
	assert_false(str_eq(ack->via.branch, inv->via.branch));
	assert_true(str_eq(ack->to.tag, STR("bobtag")));
	assert_true(str_eq(ack->from.tag, inv->from.tag));
	assert_true(str_eq(ack->call_id, inv->call_id));
	assert_int_equal(ack->body.len, 0);

	/* a 2xx retransmission (our ACK was lost) gets the same ACK again */
	send_final_2xx(f, inv, "bobtag");
	struct sip_msg *ack2 = expect_req(f, SIP_METHOD_ACK, 0);
	assert_true(str_eq(ack2->via.branch, ack->via.branch));
	assert_int_equal(f->a.answers, 1);
	sip_msg_unref(ack2);

	/* the far end hangs up */
	struct buf b;
	buf_init(&b);
	buf_printf(&b,
		   "BYE sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKfarbye;rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "From: <sip:bob@127.0.0.1>;tag=bobtag\r\n"
		   "To: <sip:alice@irisx.test>;tag=%.*s\r\n"
		   "Call-ID: %.*s\r\nCSeq: 7 BYE\r\nContent-Length: 0\r\n\r\n",
		   f->a.port, f->udp_port, (int)inv->from.tag.len, inv->from.tag.p,
		   (int)inv->call_id.len, inv->call_id.p);
	send_raw(f, b.p, b.len);
	buf_fini(&b);
	struct sip_msg *ok = recv_any(f, 2000);
	assert_non_null(ok);
	assert_false(ok->is_request);
	assert_int_equal(ok->status, 200);
	assert_int_equal(ok->cseq.method, SIP_METHOD_BYE);
	sip_msg_unref(ok);
	assert_int_equal(f->a.ended, 1);
	assert_int_equal(f->a.ended_status, 200);
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_msg_unref(ack);
	sip_msg_unref(inv);
}

static void test_answer_and_local_bye(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	send_final_2xx(f, inv, "t2");
	run_until(f, &f->a.answers, 1, 2000);
	sip_msg_unref(expect_req(f, SIP_METHOD_ACK, 0));

	/* a re-INVITE from the far end reaches offer_cb, as for inbound calls */
	struct buf b;
	buf_init(&b);
	buf_printf(&b,
		   "INVITE sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKreinv;rport\r\n"
		   "Max-Forwards: 70\r\n"
		   "From: <sip:bob@127.0.0.1>;tag=t2\r\n"
		   "To: <sip:alice@irisx.test>;tag=%.*s\r\n"
		   "Call-ID: %.*s\r\nCSeq: 5 INVITE\r\n" CONTACT_FMT
		   "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
		   f->a.port, f->udp_port, (int)inv->from.tag.len, inv->from.tag.p,
		   (int)inv->call_id.len, inv->call_id.p, f->udp_port, strlen(sdp_offer),
		   sdp_offer);
	send_raw(f, b.p, b.len);
	buf_fini(&b);
	struct sip_msg *re = recv_any(f, 2000);
	while (re && (re->is_request || re->status < 200)) {
		sip_msg_unref(re);
		re = recv_any(f, 2000);
	}
	assert_non_null(re);
	assert_int_equal(re->status, 200);
	assert_int_equal(re->cseq.num, 5);
	assert_int_equal(f->a.offers, 1);
	assert_true(str_eq(re->body, str_from_cstr(sdp_answer)));
	char want[96], v[128];
	snprintf(want, sizeof(want), "<sip:irisx@127.0.0.1:%u>", f->a.port);
	assert_string_equal(test_hdr_cstr(re, SIP_HDR_CONTACT, v, sizeof(v)), want);
	buf_init(&b);
	buf_printf(&b,
		   "ACK sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKreack;rport\r\n"
		   "Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=t2\r\n"
		   "To: <sip:alice@irisx.test>;tag=%.*s\r\n"
		   "Call-ID: %.*s\r\nCSeq: 5 ACK\r\nContent-Length: 0\r\n\r\n",
		   f->a.port, f->udp_port, (int)inv->from.tag.len, inv->from.tag.p,
		   (int)inv->call_id.len, inv->call_id.p);
	send_raw(f, b.p, b.len);
	buf_fini(&b);
	sip_msg_unref(re);

	assert_int_equal(sip_call_hangup(f->out, 0, "Reason: Q.850;cause=16\r\n"), 0);
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), -EALREADY);
	sip_call_release(f->out);
	f->out = NULL;
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 0);
	assert_int_equal(bye->cseq.num, 2);
	assert_true(str_eq(bye->to.tag, STR("t2")));
	assert_true(str_eq(bye->from.tag, inv->from.tag));
	assert_non_null(sip_msg_hdr(bye, SIP_HDR_REASON));
	assert_int_equal(sip_ua_busy(f->a.ua), 1); /* until the BYE completes */
	respond(f, bye, 200, NULL, NULL, NULL);
	run_for(f, 100);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	assert_int_equal(f->a.ended, 0); /* we ended it: nothing to report */
	sip_msg_unref(bye);
	sip_msg_unref(inv);
}

static void test_rejected(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	respond(f, inv, 486, "busy", NULL, NULL);
	run_until(f, &f->a.ended, 1, 2000);
	assert_int_equal(f->a.ended_status, 486);
	assert_int_equal(f->a.answers, 0);
	/* the transaction layer ACKs the non-2xx, on the INVITE's branch (§17.1.1.3) */
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, 1);
	assert_true(str_eq(ack->via.branch, inv->via.branch));
	assert_true(str_eq(ack->to.tag, STR("busy")));
	assert_true(str_eq(ack->ruri_str, inv->ruri_str));
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), -EALREADY);
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_msg_unref(ack);
	sip_msg_unref(inv);
}

/* The far end answers a CANCEL: 200 for it, 487 for the INVITE. */
static void answer_cancel(struct fixture *f, const struct sip_msg *inv, const struct sip_msg *can)
{
	assert_true(str_eq(can->via.branch, inv->via.branch)); /* §9.1 */
	assert_true(str_eq(can->ruri_str, inv->ruri_str));
	assert_true(str_eq(can->call_id, inv->call_id));
	assert_true(str_eq(can->from.tag, inv->from.tag));
	assert_int_equal(can->to.tag.len, 0);
	assert_int_equal(can->cseq.num, inv->cseq.num);
	assert_int_equal(can->cseq.method, SIP_METHOD_CANCEL);
	respond(f, can, 200, "ringtag", NULL, NULL);
	respond(f, inv, 487, "ringtag", NULL, NULL);
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, inv->cseq.num);
	assert_true(str_eq(ack->via.branch, inv->via.branch));
	sip_msg_unref(ack);
	run_for(f, 50);
}

static void test_cancel_after_ringing(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	char extra[128];
	snprintf(extra, sizeof(extra), CONTACT_FMT, f->udp_port);
	respond(f, inv, 180, "ringtag", extra, NULL);
	run_until(f, &f->a.progress, 1, 2000);
	assert_int_equal(sip_call_hangup(f->out, 487, NULL), 0);
	struct sip_msg *can = expect_req(f, SIP_METHOD_CANCEL, 0);
	assert_int_equal(sip_ua_busy(f->a.ua), 1);
	answer_cancel(f, inv, can);
	assert_int_equal(f->a.ended, 0); /* the owner asked: no call_ended_cb */
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_msg_unref(can);
	sip_msg_unref(inv);
}

/* A BYE in the early dialog (RFC 3261 §15): the call ends and the INVITE is cancelled. */
static void test_far_bye_in_early_dialog(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	char extra[128];
	snprintf(extra, sizeof(extra), CONTACT_FMT, f->udp_port);
	respond(f, inv, 180, "ringtag", extra, NULL);
	run_until(f, &f->a.progress, 1, 2000);
	struct buf b;
	buf_init(&b);
	buf_printf(&b,
		   "BYE sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		   "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKearlybye;rport\r\n"
		   "Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=ringtag\r\n"
		   "To: <sip:alice@irisx.test>;tag=%.*s\r\n"
		   "Call-ID: %.*s\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
		   f->a.port, f->udp_port, (int)inv->from.tag.len, inv->from.tag.p,
		   (int)inv->call_id.len, inv->call_id.p);
	send_raw(f, b.p, b.len);
	buf_fini(&b);
	struct sip_msg *can = expect_req(f, SIP_METHOD_CANCEL, 0);
	assert_int_equal(f->a.ended, 1);
	assert_int_equal(f->a.ended_status, 200);
	answer_cancel(f, inv, can);
	assert_int_equal(f->a.ended, 1); /* the 487 is not reported again */
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_msg_unref(can);
	sip_msg_unref(inv);
}

static void test_release_while_ringing_cancels(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	respond(f, inv, 180, NULL, NULL, NULL); /* no To tag: no early dialog */
	run_until(f, &f->a.progress, 1, 2000);
	sip_call_release(f->out); /* still ringing: released means CANCEL */
	f->out = NULL;
	struct sip_msg *can = expect_req(f, SIP_METHOD_CANCEL, 0);
	assert_int_equal(sip_ua_busy(f->a.ua), 1); /* until the INVITE ends */
	answer_cancel(f, inv, can);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	assert_int_equal(f->a.ended, 0);
	sip_msg_unref(can);
	sip_msg_unref(inv);
}

static void test_cancel_waits_for_provisional(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	assert_int_equal(sip_call_hangup(f->out, 487, NULL), 0);
	/* §9.1: no CANCEL before a provisional response (only INVITE retransmissions) */
	assert_null(recv_req(f, SIP_METHOD_CANCEL, 0, 300));
	respond(f, inv, 180, "ringtag", NULL, NULL);
	struct sip_msg *can = expect_req(f, SIP_METHOD_CANCEL, 0);
	answer_cancel(f, inv, can);
	assert_int_equal(f->a.progress, 0); /* given up already: not reported */
	assert_int_equal(f->a.ended, 0);
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_msg_unref(can);
	sip_msg_unref(inv);
}

static void test_hangup_before_any_response(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	assert_int_equal(sip_call_hangup(f->out, 487, NULL), 0);
	sip_call_release(f->out);
	f->out = NULL;
	/* nothing ever answers: no CANCEL goes out, Timer B (3.2 s) ends it all */
	assert_null(recv_req(f, SIP_METHOD_CANCEL, 0, 2500));
	assert_int_equal(sip_ua_busy(f->a.ua), 1);
	uint64_t end = clock_now_ms() + 2000;
	while (sip_ua_busy(f->a.ua) && clock_now_ms() < end)
		run_for(f, 20);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	assert_null(recv_req(f, SIP_METHOD_CANCEL, 0, 100));
	assert_int_equal(f->a.ended, 0);
	sip_msg_unref(inv);
}

static void test_cancel_never_answered_gives_up(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	respond(f, inv, 100, NULL, NULL, NULL);
	run_for(f, 50);
	sip_call_release(f->out);
	f->out = NULL;
	struct sip_msg *can = expect_req(f, SIP_METHOD_CANCEL, 0);
	respond(f, can, 200, NULL, NULL, NULL);
	/* no 487 ever: after 64*T1 (3.2 s here) the INVITE is given up */
	run_for(f, 2500);
	assert_int_equal(sip_ua_busy(f->a.ua), 1);
	uint64_t end = clock_now_ms() + 2000;
	while (sip_ua_busy(f->a.ua) && clock_now_ms() < end)
		run_for(f, 20);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	assert_int_equal(f->a.ended, 0);
	sip_msg_unref(can);
	sip_msg_unref(inv);
}

static void test_2xx_crossing_cancel(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	respond(f, inv, 180, "x1", NULL, NULL);
	run_until(f, &f->a.progress, 1, 2000);
	assert_int_equal(sip_call_hangup(f->out, 487, NULL), 0);
	struct sip_msg *can = expect_req(f, SIP_METHOD_CANCEL, 0);
	respond(f, can, 200, "x1", NULL, NULL);
	send_final_2xx(f, inv, "x1"); /* answered before the CANCEL arrived */
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, 1);
	assert_false(str_eq(ack->via.branch, inv->via.branch)); /* the 2xx's ACK */
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 0);
	assert_true(str_eq(bye->to.tag, STR("x1")));
	assert_int_equal(f->a.answers, 0);
	assert_int_equal(f->a.ended, 0);
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 1);
	respond(f, bye, 200, NULL, NULL, NULL);
	run_for(f, 100);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_msg_unref(bye);
	sip_msg_unref(ack);
	sip_msg_unref(can);
	sip_msg_unref(inv);
}

static void test_second_fork_2xx_ended(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	respond(f, inv, 180, "forkA", NULL, NULL); /* an early dialog without Contact: none */
	send_final_2xx(f, inv, "forkA");
	run_until(f, &f->a.answers, 1, 2000);
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, 0);
	assert_true(str_eq(ack->to.tag, STR("forkA")));
	send_final_2xx(f, inv, "forkB"); /* another fork answered too */
	struct sip_msg *ackb = expect_req(f, SIP_METHOD_ACK, 0);
	assert_true(str_eq(ackb->to.tag, STR("forkB")));
	struct sip_msg *bye = expect_req(f, SIP_METHOD_BYE, 0);
	assert_true(str_eq(bye->to.tag, STR("forkB")));
	respond(f, bye, 200, NULL, NULL, NULL);
	/* that fork's 2xx again: it has had its BYE, nothing more goes out */
	send_final_2xx(f, inv, "forkB");
	assert_null(recv_req(f, SIP_METHOD_BYE, 0, 200));
	assert_int_equal(f->a.answers, 1);
	assert_int_equal(f->a.ended, 0);
	assert_true(sip_call_answered(f->out));
	sip_msg_unref(bye);
	sip_msg_unref(ackb);
	sip_msg_unref(ack);
	sip_msg_unref(inv);
	/* teardown releases the call: BYE to fork A */
}

static void test_no_answer_times_out(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	/* Timer B: 64*T1 = 3.2 s with T1 50 ms; retransmissions meanwhile (Timer A) */
	struct sip_msg *again = expect_req(f, SIP_METHOD_INVITE, 1);
	assert_true(str_eq(again->via.branch, inv->via.branch));
	sip_msg_unref(again);
	run_until(f, &f->a.ended, 1, 5000);
	assert_int_equal(f->a.ended_status, 408);
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_msg_unref(inv);
}

static void test_proxy_auth_then_answer(void **state)
{
	struct fixture *f = *state;
	char v[1024], p[256];
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), "alice", "secret");
	respond(f, inv, 407, "proxy",
		"Proxy-Authenticate: Digest realm=\"irisx.test\", nonce=\"n0nce\", "
		"algorithm=MD5, qop=\"auth\"\r\n",
		NULL);
	sip_msg_unref(expect_req(f, SIP_METHOD_ACK, 1));
	struct sip_msg *inv2 = expect_req(f, SIP_METHOD_INVITE, 2);
	/* §22.2: the same Call-ID and From tag, CSeq + 1, a new transaction */
	assert_true(str_eq(inv2->call_id, inv->call_id));
	assert_true(str_eq(inv2->from.tag, inv->from.tag));
	assert_false(str_eq(inv2->via.branch, inv->via.branch));
	assert_true(str_eq(inv2->body, str_from_cstr(sdp_offer)));
	const char *cred = test_hdr_cstr(inv2, SIP_HDR_PROXY_AUTHORIZATION, v, sizeof(v));
	assert_non_null(cred);
	assert_true(strncmp(cred, "Digest ", 7) == 0);
	assert_string_equal(test_auth_param(cred, "username", p, sizeof(p)), "alice");
	assert_string_equal(test_auth_param(cred, "realm", p, sizeof(p)), "irisx.test");
	assert_string_equal(test_auth_param(cred, "nonce", p, sizeof(p)), "n0nce");
	char ruri[64];
	snprintf(ruri, sizeof(ruri), "sip:bob@127.0.0.1:%u", f->udp_port);
	assert_string_equal(test_auth_param(cred, "uri", p, sizeof(p)), ruri);
	assert_string_equal(test_auth_param(cred, "qop", p, sizeof(p)), "auth");
	/* the response, recomputed with the cnonce and nc it chose (RFC 2617 §3.2.2.1) */
	char nc[32], cnonce[128], ha1[33], ha2[33], want[33];
	assert_non_null(test_auth_param(cred, "nc", nc, sizeof(nc)));
	assert_string_equal(nc, "00000001");
	assert_non_null(test_auth_param(cred, "cnonce", cnonce, sizeof(cnonce)));
	test_md5_hex(ha1, "alice:irisx.test:secret");
	test_md5_hex(ha2, "INVITE:%s", ruri);
	test_md5_hex(want, "%s:n0nce:%s:%s:auth:%s", ha1, nc, cnonce, ha2);
	assert_string_equal(test_auth_param(cred, "response", p, sizeof(p)), want);
	assert_null(sip_msg_hdr(inv2, SIP_HDR_AUTHORIZATION));

	send_final_2xx(f, inv2, "authok");
	run_until(f, &f->a.answers, 1, 2000);
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, 2);
	assert_true(str_eq(ack->to.tag, STR("authok")));
	assert_int_equal(f->a.ended, 0);
	sip_msg_unref(ack);
	sip_msg_unref(inv2);
	sip_msg_unref(inv);
}

static void test_challenged_twice_fails(void **state)
{
	struct fixture *f = *state;
	const char *www = "WWW-Authenticate: Digest realm=\"irisx.test\", nonce=\"abc\"\r\n";
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), "alice", "secret");
	respond(f, inv, 401, "uas", www, NULL);
	struct sip_msg *inv2 = expect_req(f, SIP_METHOD_INVITE, 2);
	assert_non_null(sip_msg_hdr(inv2, SIP_HDR_AUTHORIZATION));
	assert_int_equal(f->a.ended, 0);
	respond(f, inv2, 401, "uas", www, NULL); /* wrong password, say */
	run_until(f, &f->a.ended, 1, 2000);
	assert_int_equal(f->a.ended_status, 401);
	assert_null(recv_req(f, SIP_METHOD_INVITE, 3, 200));
	sip_msg_unref(inv2);
	sip_msg_unref(inv);
}

static void test_challenge_without_credentials_fails(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, str_from_cstr(sdp_offer), NULL, NULL);
	respond(f, inv, 407, "px",
		"Proxy-Authenticate: Digest realm=\"irisx.test\", nonce=\"abc\"\r\n", NULL);
	run_until(f, &f->a.ended, 1, 2000);
	assert_int_equal(f->a.ended_status, 407);
	assert_null(recv_req(f, SIP_METHOD_INVITE, 2, 200));
	sip_msg_unref(inv);
}

static void test_late_offer(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = place_call(f, NULL, STR_NULL, NULL, NULL);
	assert_int_equal(inv->body.len, 0);
	assert_null(sip_msg_hdr(inv, SIP_HDR_CONTENT_TYPE));
	char extra[128];
	snprintf(extra, sizeof(extra), CONTACT_FMT "Content-Type: application/sdp\r\n",
		 f->udp_port);
	respond(f, inv, 200, "late", extra, sdp_offer); /* the 2xx carries the offer */
	run_until(f, &f->a.answers, 1, 2000);
	assert_int_equal(f->a.offers, 1);
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, 0);
	assert_true(str_eq(ack->body, str_from_cstr(sdp_answer))); /* the answer in the ACK */
	assert_non_null(sip_msg_hdr(ack, SIP_HDR_CONTENT_TYPE));
	sip_msg_unref(ack);
	sip_msg_unref(inv);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct sip_call *call = NULL;
	struct sip_call_out p = {.request_uri = "not a uri", .from = "<sip:a@irisx.test>"};
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), -EINVAL);
	p.request_uri = "sip:b@127.0.0.1";
	p.from = "<sip:a@irisx.test";
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), -EINVAL);
	p.from = "<sip:a@irisx.test>";
	p.extra_headers = "Broken header without colon\r\n";
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), -EINVAL);
	p.extra_headers = NULL;
	p.proxy = "sip:127.0.0.1;transport=carrier-pigeon";
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), -EINVAL);
	p.proxy = NULL;
	/* an address the UA has no socket for (IPv4 only here): the send fails at once */
	p.request_uri = "sip:b@[::1]:5060";
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), -EAFNOSUPPORT);
	p.request_uri = "sip:b@127.0.0.1;transport=tls";
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), -EPROTONOSUPPORT);
	p.request_uri = "sip:b@127.0.0.1";
	assert_null(call);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	sip_ua_drain(f->a.ua);
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), -ESHUTDOWN);
	assert_null(call);
}

/* The proxy gets the INVITE; the Request-URI stays the far end's. */
static void test_outbound_proxy(void **state)
{
	struct fixture *f = *state;
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%u", f->udp_port);
	struct sip_call_out p = {.request_uri = "sip:+15551234567@carrier.invalid",
				 .from = "<sip:+15550000000@irisx.test>",
				 .to = "<sip:+15551234567@carrier.invalid>",
				 .proxy = proxy,
				 .contact_user = "gw1",
				 .body = str_from_cstr(sdp_offer)};
	assert_int_equal(sip_call_start(&f->out, f->a.ua, &p, NULL), 0);
	struct sip_msg *inv = expect_req(f, SIP_METHOD_INVITE, 0);
	assert_true(str_eq(inv->ruri_str, STR("sip:+15551234567@carrier.invalid")));
	assert_null(sip_msg_hdr(inv, SIP_HDR_ROUTE));
	char v[128], want[128];
	snprintf(want, sizeof(want), "<sip:gw1@127.0.0.1:%u>", f->a.port);
	assert_string_equal(test_hdr_cstr(inv, SIP_HDR_CONTACT, v, sizeof(v)), want);
	/* a 2xx whose Contact is a name: the ACK still goes to the proxy */
	respond(f, inv, 200, "far",
		"Contact: <sip:far@carrier.invalid>\r\nContent-Type: application/sdp\r\n",
		sdp_answer);
	struct sip_msg *ack = expect_req(f, SIP_METHOD_ACK, 1);
	assert_true(str_eq(ack->ruri_str, STR("sip:far@carrier.invalid")));
	sip_msg_unref(ack);
	sip_msg_unref(inv);
}

/* Two UAs over TCP: one places the call, the other answers it. */
static void test_two_uas_over_tcp(void **state)
{
	struct fixture *f = *state;
	side_start(f, &f->b, true);
	f->b.answer_inbound = true;
	f->b.release_on_end = true;
	char ruri[96];
	snprintf(ruri, sizeof(ruri), "sip:1000@127.0.0.1:%u;transport=tcp", f->b.port);
	struct sip_call_out p = {.request_uri = ruri,
				 .from = "<sip:alice@irisx.test>",
				 .body = str_from_cstr(sdp_offer)};
	assert_int_equal(sip_call_start(&f->out, f->a.ua, &p, NULL), 0);
	run_until(f, &f->a.answers, 1, 3000);
	run_until(f, &f->b.acks, 1, 2000);
	assert_int_equal(f->b.invites, 1);
	const struct sip_msg *got = sip_call_invite(f->b.call);
	assert_int_equal(sip_call_peer(f->b.call)->transport, SIP_TRANSPORT_TCP);
	assert_true(str_ieq_cstr(got->via.transport, "TCP"));
	assert_true(str_eq(got->body, str_from_cstr(sdp_offer)));
	const struct sip_hdr *contact = sip_msg_hdr(got, SIP_HDR_CONTACT);
	assert_non_null(contact);
	char want[96];
	snprintf(want, sizeof(want), "<sip:irisx@127.0.0.1:%u;transport=tcp>", f->a.port);
	assert_true(str_eq(contact->value, str_from_cstr(want)));
	assert_string_equal(f->a.answer_body, sdp_answer);

	/* we hang up: B hears BYE (200), A's BYE completes and frees the call */
	assert_int_equal(sip_call_hangup(f->out, 0, NULL), 0);
	sip_call_release(f->out);
	f->out = NULL;
	run_until(f, &f->b.ended, 1, 2000);
	assert_int_equal(f->b.ended_status, 200);
	uint64_t end = clock_now_ms() + 2000;
	while ((sip_ua_busy(f->a.ua) || sip_ua_busy(f->b.ua)) && clock_now_ms() < end)
		run_for(f, 10);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	assert_int_equal(sip_ua_busy(f->b.ua), 0);
	assert_int_equal(f->a.ended, 0);
}

/* The callee's BYE over UDP between two UAs: the caller hears 200. */
static void test_two_uas_far_bye(void **state)
{
	struct fixture *f = *state;
	side_start(f, &f->b, false);
	f->b.answer_inbound = true;
	f->a.release_on_end = true;
	char ruri[96];
	snprintf(ruri, sizeof(ruri), "sip:1000@127.0.0.1:%u", f->b.port);
	struct sip_call_out p = {.request_uri = ruri,
				 .from = "<sip:alice@irisx.test>",
				 .body = str_from_cstr(sdp_offer)};
	struct sip_call *call;
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), 0);
	run_until(f, &f->a.answers, 1, 3000);
	run_until(f, &f->b.acks, 1, 2000);
	assert_int_equal(sip_call_hangup(f->b.call, 0, NULL), 0);
	sip_call_release(f->b.call);
	f->b.call = NULL;
	run_until(f, &f->a.ended, 1, 2000); /* released in call_ended_cb */
	assert_int_equal(f->a.ended_status, 200);
	uint64_t end = clock_now_ms() + 2000;
	while ((sip_ua_busy(f->a.ua) || sip_ua_busy(f->b.ua)) && clock_now_ms() < end)
		run_for(f, 10);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	assert_int_equal(sip_ua_busy(f->b.ua), 0);
}

/* ---- names (RFC 3263) through a DNS server of the test's own ----------------- */

/*
 * Answers A queries for "trunk.test" with 127.0.0.1 and 127.0.0.2 (in that
 * order), other types of it with no record, and any other name with NXDOMAIN.
 */
struct dns {
	int fd;
	uint16_t port;
	pthread_t thread;
	volatile bool stop;
};

static void dns_answer(struct dns *d, const unsigned char *q, size_t len,
		       const struct sockaddr_in *from)
{
	char name[256];
	size_t at = 12, nl = 0;
	if (len < 12)
		return;
	while (at < len && q[at]) {
		size_t l = q[at++];
		if (at + l > len || nl + l + 2 > sizeof(name))
			return;
		if (nl)
			name[nl++] = '.';
		memcpy(name + nl, q + at, l);
		nl += l;
		at += l;
	}
	name[nl] = '\0';
	if (at + 5 > len)
		return;
	unsigned qtype = (unsigned)q[at + 1] << 8 | q[at + 2];
	size_t qend = at + 5;
	unsigned char r[512];
	memcpy(r, q, qend);
	bool known = strcasecmp(name, "trunk.test") == 0;
	unsigned an = known && qtype == 1 ? 2 : 0;
	r[2] = 0x81;
	r[3] = known ? 0x80 : 0x83; /* NXDOMAIN for any other name */
	r[6] = 0;
	r[7] = (unsigned char)an;
	memset(r + 8, 0, 4);
	size_t n = qend;
	for (unsigned i = 0; i < an; i++) {
		const unsigned char rr[] = {0xc0, 12, 0, 1, 0,	 1, 0, 0,
					    0,	  60, 0, 4, 127, 0, 0, (unsigned char)(1 + i)};
		memcpy(r + n, rr, sizeof(rr));
		n += sizeof(rr);
	}
	sendto(d->fd, r, n, 0, (const struct sockaddr *)from, sizeof(*from));
}

static void *dns_thread(void *arg)
{
	struct dns *d = arg;
	unsigned char q[512];
	while (!d->stop) {
		struct pollfd p = {.fd = d->fd, .events = POLLIN};
		if (poll(&p, 1, 20) != 1)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(d->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n > 0)
			dns_answer(d, q, (size_t)n, &from);
	}
	return NULL;
}

static void dns_start(struct dns *d)
{
	memset(d, 0, sizeof(*d));
	d->fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(bind(d->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(d->fd, (struct sockaddr *)&a, &len);
	d->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&d->thread, NULL, dns_thread, d), 0);
	struct net_addr ns;
	assert_int_equal(net_addr_parse(&ns, STR("127.0.0.1"), d->port), 0);
	assert_int_equal(sip__resolve_set_nameserver(&ns), 0);
}

static void dns_stop(struct dns *d)
{
	sip__resolve_set_nameserver(NULL);
	d->stop = true;
	pthread_join(d->thread, NULL);
	close(d->fd);
}

/* A second scripted far end on 127.0.0.2, on the same port as the first. */
static int second_peer(struct fixture *f)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(f->udp_port),
				.sin_addr.s_addr = htonl(0x7f000002)};
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void respond_on(struct fixture *f, int fd, const struct sip_msg *req, uint16_t status,
		       const char *to_tag, const char *extra, const char *body)
{
	test_udp_respond(fd, f->a.port, req, status, to_tag, extra, body);
}

static struct sip_msg *expect_invite_on(struct fixture *f, int fd, uint32_t cseq)
{
	uint64_t end = clock_now_ms() + 5000;
	while (clock_now_ms() < end) {
		struct sip_msg *m = recv_on(f, fd, 100);
		if (m && m->is_request && m->method == SIP_METHOD_INVITE && m->cseq.num == cseq)
			return m;
		sip_msg_unref(m);
	}
	fail_msg("no INVITE (CSeq %u) on socket %d", (unsigned)cseq, fd);
	return NULL;
}

/* The name's first address answers 503: the INVITE goes to the next (RFC 3263 §4.3). */
static void test_name_failover_on_503(void **state)
{
	struct fixture *f = *state;
	struct dns d;
	int second = second_peer(f);
	if (second < 0)
		skip();
	dns_start(&d);
	char ruri[64];
	snprintf(ruri, sizeof(ruri), "sip:bob@trunk.test:%u", f->udp_port);
	struct sip_call_out p = {.request_uri = ruri,
				 .from = "<sip:alice@irisx.test>",
				 .body = str_from_cstr(sdp_offer)};
	assert_int_equal(sip_call_start(&f->out, f->a.ua, &p, NULL), 0);
	assert_null(sip_call_invite(f->out)); /* nothing sent before the lookup ends */
	struct sip_msg *inv = expect_invite_on(f, f->udp, 1);
	assert_true(str_eq(inv->ruri_str, str_from_cstr(ruri)));
	respond(f, inv, 503, "down", NULL, NULL);
	struct sip_msg *inv2 = expect_invite_on(f, second, 2);
	assert_true(str_eq(inv2->call_id, inv->call_id));
	assert_false(str_eq(inv2->via.branch, inv->via.branch));
	char extra[128];
	snprintf(extra, sizeof(extra), CONTACT_FMT "Content-Type: application/sdp\r\n",
		 f->udp_port);
	respond_on(f, second, inv2, 200, "up", extra, sdp_answer);
	run_until(f, &f->a.answers, 1, 2000);
	assert_int_equal(f->a.ended, 0);
	assert_int_equal(ntohl(sip_call_peer(f->out)->remote.u.in4.sin_addr.s_addr), 0x7f000002);
	dns_stop(&d);
	close(second);
	sip_msg_unref(inv2);
	sip_msg_unref(inv);
}

/* No answer at all from the first address: Timer B, then the next one. */
static void test_name_failover_on_timeout(void **state)
{
	struct fixture *f = *state;
	struct dns d;
	int second = second_peer(f);
	if (second < 0)
		skip();
	dns_start(&d);
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "trunk.test:%u", f->udp_port);
	struct sip_call_out p = {.request_uri = "sip:bob@carrier.invalid",
				 .from = "<sip:alice@irisx.test>",
				 .proxy = proxy,
				 .body = str_from_cstr(sdp_offer)};
	assert_int_equal(sip_call_start(&f->out, f->a.ua, &p, NULL), 0);
	struct sip_msg *inv = expect_invite_on(f, f->udp, 1);
	struct sip_msg *inv2 = expect_invite_on(f, second, 2); /* after 64*T1 */
	assert_true(str_eq(inv2->ruri_str, STR("sip:bob@carrier.invalid")));
	assert_int_equal(f->a.ended, 0);
	respond_on(f, second, inv2, 486, "busy", NULL, NULL);
	run_until(f, &f->a.ended, 1, 2000);
	assert_int_equal(f->a.ended_status, 486);
	dns_stop(&d);
	close(second);
	sip_msg_unref(inv2);
	sip_msg_unref(inv);
}

static void test_name_unknown_and_hangup_while_resolving(void **state)
{
	struct fixture *f = *state;
	struct dns d;
	dns_start(&d);
	struct sip_call_out p = {.request_uri = "sip:bob@nowhere.test",
				 .from = "<sip:alice@irisx.test>"};
	assert_int_equal(sip_call_start(&f->out, f->a.ua, &p, NULL), 0);
	run_until(f, &f->a.ended, 1, 3000);
	assert_int_equal(f->a.ended_status, 503);
	sip_call_release(f->out);
	f->out = NULL;
	assert_int_equal(sip_ua_busy(f->a.ua), 0);

	/* given up before the lookup ends: nothing is sent, nothing reported */
	p.request_uri = "sip:bob@trunk.test";
	struct sip_call *call;
	assert_int_equal(sip_call_start(&call, f->a.ua, &p, NULL), 0);
	assert_int_equal(sip_call_hangup(call, 487, NULL), 0);
	sip_call_release(call);
	assert_int_equal(sip_ua_busy(f->a.ua), 0);
	run_for(f, 300);
	assert_int_equal(f->a.ended, 1);
	dns_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_progress_answer_and_far_bye, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_answer_and_local_bye, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_after_ringing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_far_bye_in_early_dialog, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_while_ringing_cancels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_waits_for_provisional, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hangup_before_any_response, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_never_answered_gives_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_2xx_crossing_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_fork_2xx_ended, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_answer_times_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_proxy_auth_then_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_challenged_twice_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_challenge_without_credentials_fails, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_late_offer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbound_proxy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_uas_over_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_uas_far_bye, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_failover_on_503, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_failover_on_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_unknown_and_hangup_while_resolving, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
