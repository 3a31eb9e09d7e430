/*
 * The user agent end to end on loopback: a real UA on a libuv loop, and the
 * test as the far end over plain UDP and TCP sockets. Asserts what goes on
 * the wire: statuses, tags, dialogs, BYE in both directions, CANCEL, ACL
 * refusal, malformed input, stream framing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
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

struct fixture {
	uv_loop_t loop;
	struct sip_ua *ua;
	uint16_t port;
	int udp; /* the far end's socket */
	uint16_t udp_port;
	struct sip_call *call; /* the last inbound call */
	int invites;
	int ended;
	uint16_t ended_status;
	bool deny;			/* the ACL refuses everyone */
	enum { OWNER_KEEP, OWNER_REJECT } on_invite;
	char rbuf[65536];
};

static bool acl_cb(void *arg, const struct sip_peer *src)
{
	struct fixture *f = arg;
	return !f->deny;
}

static void invite_cb(void *arg, struct sip_call *call)
{
	struct fixture *f = arg;
	f->invites++;
	f->call = call;
	if (f->on_invite == OWNER_REJECT) {
		assert_int_equal(sip_call_respond(call, 486, NULL), 0);
		sip_call_release(call);
		f->call = NULL;
	}
}

static void call_ended_cb(void *arg, struct sip_call *call, uint16_t status)
{
	struct fixture *f = arg;
	f->ended++;
	f->ended_status = status;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	struct sip_ua_config cfg = {
	    .name = "test", .enable_udp = true, .enable_tcp = true, .user_agent = "t"};
	struct sip_ua_cbs cbs = {.acl_cb = acl_cb,
				 .invite_cb = invite_cb,
				 .call_ended_cb = call_ended_cb,
				 .arg = f};
	f->port = test_ua_create(&f->ua, &f->loop, &cfg, &cbs, 7);
	f->udp = test_udp_open(&f->udp_port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->call)
		sip_call_release(f->call);
	test_ua_fini(&f->loop, f->ua, f->udp);
	free(f);
	return 0;
}

/* Runs the loop for `ms`. */
static void run_for(struct fixture *f, int ms)
{
	test_loop_run_for(&f->loop, ms);
}

/* The next datagram the far end receives, parsed; NULL after `ms` without one. */
static struct sip_msg *recv_udp(struct fixture *f, int ms)
{
	return test_udp_recv_msg(&f->loop, f->udp, f->rbuf, sizeof(f->rbuf), ms);
}

static struct sip_msg *expect_status(struct fixture *f, uint16_t status)
{
	struct sip_msg *m = recv_udp(f, 2000);
	assert_non_null(m);
	assert_false(m->is_request);
	if (m->status != status)
		fail_msg("expected %u, got %u %.*s", status, m->status, (int)m->reason.len,
			 m->reason.p);
	return m;
}

#define INVITE_FMT                                                                                \
	"INVITE sip:1000@127.0.0.1:%u SIP/2.0\r\n"                                                \
	"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%s;rport\r\n"                                 \
	"Max-Forwards: 70\r\n"                                                                    \
	"From: \"Alice\" <sip:alice@127.0.0.1>;tag=fromtag\r\n"                                   \
	"To: <sip:1000@127.0.0.1>\r\n"                                                            \
	"Call-ID: %s\r\n"                                                                         \
	"CSeq: 1 INVITE\r\n"                                                                      \
	"Contact: <sip:alice@127.0.0.1:%u>\r\n"                                                   \
	"Record-Route: <sip:127.0.0.1:%u;lr>\r\n"                                                 \
	"Content-Type: application/sdp\r\n"                                                       \
	"Content-Length: 0\r\n\r\n"

static void send_invite(struct fixture *f, const char *branch, const char *call_id)
{
	test_udp_sendf(f->udp, f->port, INVITE_FMT, f->port, f->udp_port, branch, call_id,
		       f->udp_port, f->udp_port);
}

/* An in-dialog request from the far end (UAC side of the dialog). */
static void send_in_dialog(struct fixture *f, const char *method, unsigned cseq,
			   const char *call_id, struct str to_tag, const char *branch)
{
	test_udp_sendf(f->udp, f->port,
		       "%s sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%s;rport\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Alice\" <sip:alice@127.0.0.1>;tag=fromtag\r\n"
		       "To: <sip:1000@127.0.0.1>;tag=%.*s\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: %u %s\r\n"
		       "Content-Length: 0\r\n\r\n",
		       method, f->port, f->udp_port, branch, (int)to_tag.len, to_tag.p, call_id,
		       cseq, method);
}

static void test_options_stateless(void **state)
{
	struct fixture *f = *state;
	const char *opt = "OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKopt1;rport\r\n"
			  "From: <sip:ping@127.0.0.1>;tag=p1\r\n"
			  "To: <sip:127.0.0.1>\r\n"
			  "Call-ID: opt-1\r\n"
			  "CSeq: 1 OPTIONS\r\n"
			  "Max-Forwards: 70\r\n"
			  "Content-Length: 0\r\n\r\n";
	test_udp_sendf(f->udp, f->port, opt, f->udp_port);
	struct sip_msg *m = expect_status(f, 200);
	assert_true(m->to.tag.len > 0);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_ALLOW));
	assert_true(str_eq(m->call_id, STR("opt-1")));
	assert_int_equal(m->via.rport_value, f->udp_port); /* RFC 3581 */
	assert_true(str_eq(m->via.received, STR("127.0.0.1")) || m->via.received.len == 0);
	/* a retransmission gets the same tag: nothing was kept, yet it is stable */
	test_udp_sendf(f->udp, f->port, opt, f->udp_port);
	struct sip_msg *m2 = expect_status(f, 200);
	assert_true(str_eq(m->to.tag, m2->to.tag));
	assert_int_equal(f->invites, 0);
	sip_msg_unref(m);
	sip_msg_unref(m2);
}

static void test_invite_rejected_by_owner(void **state)
{
	struct fixture *f = *state;
	f->on_invite = OWNER_REJECT;
	send_invite(f, "rej1", "call-rej");
	struct sip_msg *m = expect_status(f, 100);
	sip_msg_unref(m);
	m = expect_status(f, 486);
	assert_true(m->to.tag.len > 0);
	assert_int_equal(f->invites, 1);
	/* ACK for the non-2xx: absorbed, nothing comes back */
	test_udp_sendf(
	    f->udp, f->port,
	    "ACK sip:1000@127.0.0.1:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKrej1;rport\r\n"
	    "From: \"Alice\" <sip:alice@127.0.0.1>;tag=fromtag\r\n"
	    "To: <sip:1000@127.0.0.1>;tag=%.*s\r\n"
	    "Call-ID: call-rej\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    f->port, f->udp_port, (int)m->to.tag.len, m->to.tag.p);
	assert_null(recv_udp(f, 700)); /* no retransmitted 486 after the ACK (T1 = 500 ms) */
	assert_int_equal(sip_ua_busy(f->ua), 0);
	sip_msg_unref(m);
}

static void test_invite_retransmission_absorbed(void **state)
{
	struct fixture *f = *state;
	send_invite(f, "rtx1", "call-rtx");
	sip_msg_unref(expect_status(f, 100));
	send_invite(f, "rtx1", "call-rtx");
	sip_msg_unref(expect_status(f, 100)); /* the last response, replayed */
	assert_int_equal(f->invites, 1);
	assert_int_equal(sip_call_respond(f->call, 480, NULL), 0);
	struct sip_msg *m = expect_status(f, 480);
	send_invite(f, "rtx1", "call-rtx");
	struct sip_msg *again = expect_status(f, 480);
	assert_true(str_eq(m->to.tag, again->to.tag));
	assert_int_equal(f->invites, 1);
	sip_msg_unref(m);
	sip_msg_unref(again);
}

static void test_answer_and_far_bye(void **state)
{
	struct fixture *f = *state;
	send_invite(f, "ans1", "call-ans");
	sip_msg_unref(expect_status(f, 100));
	assert_non_null(f->call);
	const char *sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
			  "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
	assert_int_equal(sip_call_answer(f->call, "application/sdp", str_from_cstr(sdp)), 0);
	assert_int_equal(sip_call_answer(f->call, "application/sdp", str_from_cstr(sdp)), -EINVAL);
	struct sip_msg *ok = expect_status(f, 200);
	assert_true(ok->to.tag.len > 0);
	assert_non_null(sip_msg_hdr(ok, SIP_HDR_CONTACT));
	assert_non_null(sip_msg_hdr(ok, SIP_HDR_RECORD_ROUTE)); /* §12.1.1 */
	assert_true(str_eq(ok->body, str_from_cstr(sdp)));
	/* no ACK yet: the 2xx is retransmitted after T1 */
	struct sip_msg *rtx = expect_status(f, 200);
	assert_true(str_eq(rtx->to.tag, ok->to.tag));
	sip_msg_unref(rtx);
	test_udp_sendf(
	    f->udp, f->port,
	    "ACK sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKack2xx;rport\r\n"
	    "From: \"Alice\" <sip:alice@127.0.0.1>;tag=fromtag\r\n"
	    "To: <sip:1000@127.0.0.1>;tag=%.*s\r\n"
	    "Call-ID: call-ans\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    f->port, f->udp_port, (int)ok->to.tag.len, ok->to.tag.p);
	assert_null(recv_udp(f, 1200)); /* retransmissions stopped */

	send_in_dialog(f, "OPTIONS", 2, "call-ans", ok->to.tag, "dlgopt");
	sip_msg_unref(expect_status(f, 200));
	send_in_dialog(f, "INFO", 3, "call-ans", ok->to.tag, "dlginfo");
	sip_msg_unref(expect_status(f, 200));
	send_in_dialog(f, "INVITE", 4, "call-ans", ok->to.tag, "dlgreinv");
	sip_msg_unref(expect_status(f, 100));
	struct sip_msg *re = expect_status(f, 200);
	assert_true(str_eq(re->body, str_from_cstr(sdp)));
	sip_msg_unref(re);
	/* a CSeq lower than the last one is refused (RFC 3261 §12.2.2) */
	send_in_dialog(f, "INFO", 2, "call-ans", ok->to.tag, "dlglow");
	sip_msg_unref(expect_status(f, 500));
	/* a wrong tag is another dialog */
	send_in_dialog(f, "BYE", 5, "call-ans", STR("nosuchtag"), "dlgbad");
	sip_msg_unref(expect_status(f, 481));
	assert_int_equal(f->ended, 0);

	send_in_dialog(f, "BYE", 6, "call-ans", ok->to.tag, "dlgbye");
	sip_msg_unref(expect_status(f, 200));
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->ended_status, 200);
	sip_call_release(f->call);
	f->call = NULL;
	assert_int_equal(sip_ua_busy(f->ua), 0);
	assert_null(recv_udp(f, 300)); /* no BYE from our side: the far end ended it */
	sip_msg_unref(ok);
}

static void test_answer_and_local_bye(void **state)
{
	struct fixture *f = *state;
	send_invite(f, "lby1", "call-lby");
	sip_msg_unref(expect_status(f, 100));
	assert_int_equal(sip_call_answer(f->call, "application/sdp", STR("v=0\r\n")), 0);
	struct sip_msg *ok = expect_status(f, 200);
	assert_int_equal(sip_call_hangup(f->call, 0, "Reason: Q.850;cause=16\r\n"), 0);
	sip_call_release(f->call);
	f->call = NULL;
	struct sip_msg *bye = recv_udp(f, 2000);
	/* the 2xx may still be retransmitted before the BYE: skip those */
	while (bye && !bye->is_request) {
		sip_msg_unref(bye);
		bye = recv_udp(f, 2000);
	}
	assert_non_null(bye);
	assert_int_equal(bye->method, SIP_METHOD_BYE);
	assert_true(str_eq(bye->call_id, STR("call-lby")));
	assert_true(str_eq(bye->from.tag, ok->to.tag)); /* tags swap sides in our requests */
	assert_true(str_eq(bye->to.tag, STR("fromtag")));
	assert_true(str_starts_with_i(bye->ruri_str, "sip:alice@127.0.0.1"));
	assert_non_null(sip_msg_hdr(bye, SIP_HDR_REASON));
	const struct sip_hdr *route = sip_msg_hdr(bye, SIP_HDR_ROUTE); /* the route set */
	assert_non_null(route);
	assert_true(str_starts_with_i(route->value, "<sip:127.0.0.1:"));
	assert_int_equal(sip_ua_busy(f->ua), 1); /* until the BYE completes */
	/* answer it */
	struct buf b;
	buf_init(&b);
	sip_response_print(&b, bye, 200, NULL, NULL, NULL, STR_NULL);
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(f->port),
				 .sin_addr.s_addr = htonl(0x7f000001)};
	sendto(f->udp, b.p, b.len, 0, (struct sockaddr *)&to, sizeof(to));
	buf_fini(&b);
	run_for(f, 100);
	assert_int_equal(sip_ua_busy(f->ua), 0);
	sip_msg_unref(bye);
	sip_msg_unref(ok);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	send_invite(f, "can1", "call-can");
	sip_msg_unref(expect_status(f, 100));
	test_udp_sendf(
	    f->udp, f->port,
	    "CANCEL sip:1000@127.0.0.1:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKcan1;rport\r\n"
	    "From: \"Alice\" <sip:alice@127.0.0.1>;tag=fromtag\r\n"
	    "To: <sip:1000@127.0.0.1>\r\n"
	    "Call-ID: call-can\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    f->port, f->udp_port);
	struct sip_msg *a = recv_udp(f, 2000), *b = recv_udp(f, 2000);
	assert_non_null(a);
	assert_non_null(b);
	/* 200 for the CANCEL, 487 for the INVITE */
	struct sip_msg *c200 = a->cseq.method == SIP_METHOD_CANCEL ? a : b;
	struct sip_msg *i487 = a->cseq.method == SIP_METHOD_CANCEL ? b : a;
	assert_int_equal(c200->status, 200);
	assert_int_equal(i487->status, 487);
	assert_int_equal(i487->cseq.method, SIP_METHOD_INVITE);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->ended_status, 487);
	sip_msg_unref(a);
	sip_msg_unref(b);
	/* a CANCEL for nothing gets 481 */
	test_udp_sendf(
	    f->udp, f->port,
	    "CANCEL sip:1000@127.0.0.1:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKnothing;rport\r\n"
	    "From: <sip:alice@127.0.0.1>;tag=x\r\nTo: <sip:1000@127.0.0.1>\r\n"
	    "Call-ID: call-none\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    f->port, f->udp_port);
	sip_msg_unref(expect_status(f, 481));
}

static void test_acl_refusal(void **state)
{
	struct fixture *f = *state;
	f->deny = true;
	send_invite(f, "acl1", "call-acl");
	struct sip_msg *m = expect_status(f, 403); /* no 100 Trying first */
	assert_true(m->to.tag.len > 0);
	assert_int_equal(f->invites, 0);
	assert_int_equal(sip_ua_busy(f->ua), 0);
	sip_msg_unref(m);
}

static void test_malformed_and_unknown(void **state)
{
	struct fixture *f = *state;
	/* a request that can be answered: CSeq method differs from the request's */
	test_udp_sendf(
	    f->udp, f->port,
	    "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKbad1;rport\r\n"
	    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n"
	    "Call-ID: bad-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    f->udp_port);
	struct sip_msg *m = recv_udp(f, 2000);
	assert_non_null(m);
	if (m->status == 100) {
		sip_msg_unref(m);
		m = recv_udp(f, 2000);
		assert_non_null(m);
	}
	assert_int_equal(m->status, 400);
	sip_msg_unref(m);
	/* garbage: dropped, and the UA still answers */
	test_udp_sendf(f->udp, f->port, "\x01\x02garbage\r\n\r\n");
	assert_null(recv_udp(f, 200));
	test_udp_sendf(f->udp, f->port,
		       "FROBNICATE sip:127.0.0.1 SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKfrob;rport\r\n"
		       "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n"
		       "Call-ID: frob-1\r\nCSeq: 1 FROBNICATE\r\nMax-Forwards: "
		       "70\r\nContent-Length: 0\r\n\r\n",
		       f->udp_port);
	m = expect_status(f, 501);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_ALLOW));
	sip_msg_unref(m);
	test_udp_sendf(
	    f->udp, f->port,
	    "BYE sip:127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKbye0;rport\r\n"
	    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\n"
	    "Call-ID: nodialog\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    f->udp_port);
	sip_msg_unref(expect_status(f, 481));
	test_udp_sendf(
	    f->udp, f->port,
	    "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKreq1;rport\r\n"
	    "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n"
	    "Require: 100rel, frobnication\r\n"
	    "Call-ID: req-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
	    f->udp_port);
	m = recv_udp(f, 2000);
	if (m && m->status == 100) {
		sip_msg_unref(m);
		m = recv_udp(f, 2000);
	}
	assert_non_null(m);
	assert_int_equal(m->status, 420);
	const struct sip_hdr *u = sip_msg_hdr(m, SIP_HDR_UNSUPPORTED);
	assert_non_null(u);
	assert_true(str_eq(u->value, STR("100rel, frobnication")));
	assert_int_equal(f->invites, 0);
	sip_msg_unref(m);
}

static void test_tcp_framing(void **state)
{
	struct fixture *f = *state;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(f->port),
				 .sin_addr.s_addr = htonl(0x7f000001)};
	/* connect() completes in the kernel's backlog; the loop accepts later */
	assert_int_equal(connect(s, (struct sockaddr *)&to, sizeof(to)), 0);
	char two[2048];
	const char *opt = "OPTIONS sip:127.0.0.1 SIP/2.0\r\n"
			  "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKtcp%d\r\n"
			  "From: <sip:ping@127.0.0.1>;tag=t%d\r\nTo: <sip:127.0.0.1>\r\n"
			  "Call-ID: tcp-%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
			  "Content-Length: 0\r\n\r\n";
	int n = snprintf(two, sizeof(two), "\r\n\r\n");
	n += snprintf(two + n, sizeof(two) - (size_t)n, opt, 1, 1, 1);
	n += snprintf(two + n, sizeof(two) - (size_t)n, opt, 2, 2, 2);
	/* the first message in one write, the second split in two */
	int split = n - 40;
	assert_int_equal(write(s, two, (size_t)split), split);
	run_for(f, 50);
	assert_int_equal(write(s, two + split, (size_t)(n - split)), n - split);
	/* a third dribbled in 3-byte pieces, each read by the loop on its own:
	 * framing resumes where it stopped, the end of the headers split too */
	char third[512];
	int tn = snprintf(third, sizeof(third), opt, 3, 3, 3);
	for (int i = 0; i < tn; i += 3) {
		size_t k = (size_t)(tn - i < 3 ? tn - i : 3);
		assert_int_equal(write(s, third + i, k), (ssize_t)k);
		run_for(f, 2);
	}
	char in[8192];
	size_t got = 0;
	uint64_t end = clock_now_ms() + 2000;
	int count = 0;
	while (clock_now_ms() < end && count < 3) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, 1) == 1) {
			ssize_t r = read(s, in + got, sizeof(in) - got);
			assert_true(r > 0);
			got += (size_t)r;
		}
		size_t skip, len;
		count = 0;
		size_t off = 0;
		while (off < got && sip_msg_frame(in + off, got - off, &skip, &len) == 0) {
			struct sip_msg *m = NULL;
			assert_int_equal(sip_msg_parse(&m, in + off + skip, len), 0);
			assert_int_equal(m->status, 200);
			sip_msg_unref(m);
			off += skip + len;
			count++;
		}
	}
	assert_int_equal(count, 3);
	close(s);
	run_for(f, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_options_stateless, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_rejected_by_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_retransmission_absorbed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_and_far_bye, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_and_local_bye, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acl_refusal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_framing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
