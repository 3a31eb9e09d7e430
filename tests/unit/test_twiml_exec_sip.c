/*
 * The TwiML executor on calls taken over SIP from a UDP socket playing the
 * far end, against the HTTP application of test_twiml_util.h: what Reject
 * (603, 486) and the answer put on the wire, the parameters a SIP call
 * sends (SipCallId, the caller's name), and <Dial> of a SIP URI: B busy, B
 * answering and hanging up, A hanging up while B rings (B's INVITE
 * cancelled). Asserts the responses and requests the far end receives, the
 * request log, the hangup cause and the dialplan's done callback, once.
 */
#include "test_config_util.h"
#include "test_sip_util.h"
#include "test_twiml_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* ---- the far end: a UDP socket, and irisx taking its calls ---- */

static int far_sock = -1;
static uint16_t far_port, sip_port;
static char far_buf[65536];
static const char *sip_app_path; /* what the router runs `webhook` on */
static struct app_done sip_done;

/* The router of the SIP tests: the call parks and runs the application. */
static void sip_route_cb(void *arg, struct channel *ch)
{
	(void)arg;
	channel_execute(ch, NULL, NULL);
	channel_park(ch);
	memset(&sip_done, 0, sizeof(sip_done));
	int rc =
	    dialplan_app_execute(dp, ch, "webhook", url_of(sip_app_path), app_done_cb, &sip_done);
	assert_int_equal(rc, DIALPLAN_APP_PENDING);
}

static int setup_sip(void **state)
{
	char text[2048], err[512];
	far_sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(a);
	if (bind(far_sock, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	getsockname(far_sock, (struct sockaddr *)&a, &len);
	far_port = ntohs(a.sin_port);
	/* a port for irisx: free a moment ago */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = 0;
	len = sizeof(a);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	getsockname(s, (struct sockaddr *)&a, &len);
	sip_port = ntohs(a.sin_port);
	close(s);
	unsigned rtp = 42000 + (unsigned)(getpid() % 500) * 20;

	char *dir = tree_create();
	tree_write(dir, "freeswitch.xml", ROOT_XML);
	tree_write(dir, "vars.xml", "<include/>\n");
	snprintf(text, sizeof(text),
		 "<configuration name=\"switch.conf\"><settings>"
		 "<param name=\"rtp-start-port\" value=\"%u\"/>"
		 "<param name=\"rtp-end-port\" value=\"%u\"/>"
		 "</settings></configuration>\n",
		 rtp, rtp + 19);
	tree_write(dir, "autoload_configs/switch.conf.xml", text);
	snprintf(text, sizeof(text),
		 "<configuration name=\"sofia.conf\"><profiles><profile name=\"in\"><settings>"
		 "<param name=\"sip-ip\" value=\"127.0.0.1\"/>"
		 "<param name=\"sip-port\" value=\"%u\"/>"
		 "<param name=\"rtp-ip\" value=\"127.0.0.1\"/>"
		 "<param name=\"bind-params\" value=\"transport=udp\"/>"
		 "<param name=\"inbound-codec-prefs\" value=\"PCMU\"/>"
		 "</settings></profile></profiles></configuration>\n",
		 sip_port);
	tree_write(dir, "autoload_configs/sofia.conf.xml", text);
	struct config *cfg = NULL;
	int rc = load_logged(&cfg, dir, NULL, err, sizeof(err), NULL);
	tree_remove(dir);
	if (rc != 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	if (irisx_open(cfg) != 0 || core_start(core) != 0)
		return -1;
	core_set_router(core, &(struct core_router){.route_cb = sip_route_cb});
	return 0;
}

static int teardown_sip(void **state)
{
	int rc = teardown(state);
	close(far_sock);
	far_sock = -1;
	return rc;
}

static const char far_sdp[] = "v=0\r\n"
			      "o=- 1 1 IN IP4 127.0.0.1\r\n"
			      "s=-\r\n"
			      "c=IN IP4 127.0.0.1\r\n"
			      "t=0 0\r\n"
			      "m=audio 9 RTP/AVP 0 101\r\n"
			      "a=rtpmap:0 PCMU/8000\r\n"
			      "a=rtpmap:101 telephone-event/8000\r\n";

/* Sends an INVITE from +15551230000 to 5100 with Call-ID call_id. */
static void far_invite(const char *call_id)
{
	test_udp_sendf(far_sock, sip_port,
		       "INVITE sip:5100@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-%s\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Bob\" <sip:+15551230000@127.0.0.1:%u>;tag=far-%s\r\n"
		       "To: <sip:5100@127.0.0.1:%u>\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: 1 INVITE\r\n"
		       "Contact: <sip:far@127.0.0.1:%u>\r\n"
		       "Content-Type: application/sdp\r\n"
		       "Content-Length: %zu\r\n\r\n%s",
		       sip_port, far_port, call_id, far_port, call_id, sip_port, call_id, far_port,
		       strlen(far_sdp), far_sdp);
}

/* The next response with a final status (1xx skipped); its status. */
static unsigned far_final(struct sip_msg **out)
{
	for (;;) {
		struct sip_msg *m =
		    test_udp_recv_msg(&loop, far_sock, far_buf, sizeof(far_buf), 3000);
		assert_non_null(m);
		if (!m->is_request && m->status >= 200) {
			*out = m;
			return m->status;
		}
		sip_msg_unref(m);
	}
}

/* The ACK for a final response to far_invite(call_id). */
static void far_ack(const struct sip_msg *resp, const char *call_id, bool success)
{
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	test_udp_sendf(far_sock, sip_port,
		       "ACK sip:5100@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-%s%s\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Bob\" <sip:+15551230000@127.0.0.1:%u>;tag=far-%s\r\n"
		       "To: %.*s\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: 1 ACK\r\n"
		       "Content-Length: 0\r\n\r\n",
		       sip_port, far_port, call_id, success ? "-ack" : "", far_port, call_id,
		       (int)to->value.len, to->value.p, call_id);
}

/* A calls in (far_invite) and gets the final response `status`, which it
 * ACKs; the response goes to *out when out is not NULL (to be unref'd). */
static void far_call(const char *call_id, unsigned status, struct sip_msg **out)
{
	far_invite(call_id);
	struct sip_msg *resp;
	assert_int_equal(far_final(&resp), status);
	far_ack(resp, call_id, status < 300);
	if (out)
		*out = resp;
	else
		sip_msg_unref(resp);
}

/* The next request of `method` irisx sends to the far end on a call other
 * than not_call_id (any call when NULL); responses and other requests are
 * skipped. */
static struct sip_msg *far_request(enum sip_method method, const char *not_call_id)
{
	for (;;) {
		struct sip_msg *m =
		    test_udp_recv_msg(&loop, far_sock, far_buf, sizeof(far_buf), 3000);
		assert_non_null(m);
		if (m->is_request && m->method == method &&
		    (!not_call_id || !str_eq(m->call_id, str_from_cstr(not_call_id))))
			return m;
		sip_msg_unref(m);
	}
}

static void far_respond(const struct sip_msg *req, uint16_t status, const char *to_tag,
			const char *body)
{
	struct buf b;
	char extra[256];
	buf_init(&b);
	snprintf(extra, sizeof(extra), "Contact: <sip:b@127.0.0.1:%u>\r\n%s", far_port,
		 body ? "Content-Type: application/sdp\r\n" : "");
	sip_response_print(&b, req, status, NULL, to_tag, extra,
			   body ? str_from_cstr(body) : STR_NULL);
	test_udp_send(far_sock, sip_port, b.p, b.len);
	buf_fini(&b);
}

/* B hangs up the call irisx placed to it (inv), whose To tag is tag. */
static void far_bye_b(const struct sip_msg *inv, const char *tag)
{
	const struct sip_hdr *from = sip_msg_hdr(inv, SIP_HDR_FROM);
	test_udp_sendf(far_sock, sip_port,
		       "BYE sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-byeb\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <%.*s>;tag=%s\r\n"
		       "To: %.*s\r\n"
		       "Call-ID: %.*s\r\n"
		       "CSeq: 1 BYE\r\n"
		       "Content-Length: 0\r\n\r\n",
		       sip_port, far_port, (int)inv->to.uri_str.len, inv->to.uri_str.p, tag,
		       (int)from->value.len, from->value.p, (int)inv->call_id.len, inv->call_id.p);
}

/* A hangs up the call its 200 OK (ok) answered. */
static void far_bye_a(const struct sip_msg *ok, const char *call_id)
{
	const struct sip_hdr *to = sip_msg_hdr(ok, SIP_HDR_TO);
	test_udp_sendf(far_sock, sip_port,
		       "BYE sip:5100@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-byea\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Bob\" <sip:+15551230000@127.0.0.1:%u>;tag=far-%s\r\n"
		       "To: %.*s\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: 2 BYE\r\n"
		       "Content-Length: 0\r\n\r\n",
		       sip_port, far_port, far_port, call_id, (int)to->value.len, to->value.p,
		       call_id);
}

/* The application of the SIP call ends: its done callback runs, once, and
 * the engine lets go. */
static void sip_wait_over(void)
{
	wait_done(&sip_done);
	assert_over(&sip_done);
}

static void test_sip_reject(void **state)
{
	engine_start();
	route_doc("/reject", "<Response><Reject/></Response>");
	sip_app_path = "/reject";
	far_call("twexec-reject-1", 603, NULL);
	sip_wait_over();
	assert_int_equal(sip_done.status, 0);
	assert_int_equal(sip_done.cause, CAUSE_CALL_REJECTED);
	/* what the application was told of the ringing call */
	assert_int_equal(requests(), 1);
	assert_string_equal(param(0, "CallStatus"), "ringing");
	assert_string_equal(param(0, "SipCallId"), "twexec-reject-1");
	assert_string_equal(param(0, "From"), "+15551230000");
	assert_string_equal(param(0, "To"), "5100");
	assert_string_equal(param(0, "CallerName"), "Bob");
	assert_string_equal(param(0, "Direction"), "inbound");

	route_doc("/busy", "<Response><Reject reason=\"busy\"/></Response>");
	sip_app_path = "/busy";
	far_call("twexec-reject-2", 486, NULL);
	sip_wait_over();
	assert_int_equal(sip_done.cause, CAUSE_USER_BUSY);
}

/* A verb that needs audio answers the call first (200 OK with SDP); the
 * document's end hangs it up: a BYE. */
static void test_sip_answer_then_end(void **state)
{
	engine_start();
	route_doc("/pause", "<Response><Pause length=\"1\"/></Response>");
	sip_app_path = "/pause";
	uint64_t start = uv_hrtime();
	struct sip_msg *resp;
	far_call("twexec-answer-1", 200, &resp);
	assert_true(resp->body.len > 0);
	sip_msg_unref(resp);
	wait_done(&sip_done);
	assert_true((uv_hrtime() - start) / 1000000 >= 950);
	assert_int_equal(sip_done.cause, CAUSE_NORMAL_CLEARING);
	sip_msg_unref(far_request(SIP_METHOD_BYE, NULL));
	assert_over(&sip_done);
}

static char dial_doc[512];

/* A calls in and is answered (it hears the ringback); its document dials B
 * at the far end (<Dial`dial_attrs`>), whose INVITE this returns. A's 200
 * OK goes to *ok when ok is not NULL. */
static struct sip_msg *sip_dial_start(const char *call_id, const char *dial_attrs,
				      struct sip_msg **ok)
{
	snprintf(set.dial_profile, sizeof(set.dial_profile), "in");
	engine_start();
	snprintf(dial_doc, sizeof(dial_doc),
		 "<Response><Dial action=\"/dialed\"%s><Sip>sip:b@127.0.0.1:%u</Sip></Dial>"
		 "</Response>",
		 dial_attrs, far_port);
	route_doc("/dial", dial_doc);
	route_doc("/dialed", "<Response><Hangup/></Response>");
	sip_app_path = "/dial";
	far_call(call_id, 200, ok);
	return far_request(SIP_METHOD_INVITE, call_id);
}

/* A calls in; its document dials B at the far end, which answers `status`;
 * the action gets what became of it. */
static void sip_dial(const char *call_id, uint16_t status)
{
	struct sip_msg *inv = sip_dial_start(call_id, " timeout=\"5\"", NULL);
	char ruri[64];
	snprintf(ruri, sizeof(ruri), "sip:b@127.0.0.1:%u", far_port);
	assert_true(str_eq(inv->ruri_str, str_from_cstr(ruri)));
	spin_ms(50);
	assert_int_equal(sip_done.calls, 0);
	if (status != 200) {
		far_respond(inv, status, "b-tag", NULL);
	} else {
		far_respond(inv, 200, "b-tag", far_sdp);
		sip_msg_unref(far_request(SIP_METHOD_ACK, call_id));
		spin_ms(1100);
		assert_int_equal(sip_done.calls, 0); /* bridged */
		far_bye_b(inv, "b-tag");
	}
	sip_msg_unref(inv);
	sip_wait_over();
	assert_int_equal(sip_done.cause, CAUSE_NORMAL_CLEARING); /* /dialed hangs up */
	assert_int_equal(requests(), 2);
	assert_path(1, "/dialed");
}

static void test_sip_dial_busy(void **state)
{
	sip_dial("twexec-dial-busy", 486);
	assert_string_equal(param(1, "DialCallStatus"), "busy");
	assert_string_equal(param(1, "DialCallDuration"), "(none)");
}

static void test_sip_dial_completed(void **state)
{
	sip_dial("twexec-dial-ok", 200);
	assert_string_equal(param(1, "DialCallStatus"), "completed");
	/* about 1.1 s bridged, rounded; a loaded machine may stretch it */
	const char *duration = param(1, "DialCallDuration");
	assert_true(strcmp(duration, "1") == 0 || strcmp(duration, "2") == 0);
	char a_sid[64];
	snprintf(a_sid, sizeof(a_sid), "%s", param(1, "CallSid"));
	const char *b_sid = param(1, "DialCallSid");
	assert_int_equal(strlen(b_sid), UUID_STRLEN - 1);
	assert_string_not_equal(b_sid, a_sid);
}

/* A hangs up (BYE in the dialog its 200 OK made) while Dial rings B: the
 * application ends and B's INVITE is cancelled. */
static void test_sip_dial_caller_gone(void **state)
{
	const char *call_id = "twexec-dial-gone";
	struct sip_msg *ok;
	struct sip_msg *inv = sip_dial_start(call_id, "", &ok);
	far_respond(inv, 180, "b-tag", NULL);
	spin_ms(50);
	far_bye_a(ok, call_id);
	sip_msg_unref(ok);
	struct sip_msg *cancel = far_request(SIP_METHOD_CANCEL, call_id);
	assert_true(str_eq(cancel->call_id, inv->call_id));
	far_respond(cancel, 200, "b-tag", NULL);
	far_respond(inv, 487, "b-tag", NULL);
	sip_msg_unref(cancel);
	sip_msg_unref(inv);
	wait_done(&sip_done);
	assert_int_equal(sip_done.status, 0);
	assert_false(sip_done.up);
	assert_int_equal(sip_done.cause, CAUSE_NORMAL_CLEARING);
	spin_ms(200);
	assert_over(&sip_done);
	assert_int_equal(requests(), 1); /* no /dialed */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_sip, teardown_sip)

int main(void)
{
	assert_int_equal(twiml_app_register(), 0);
	const struct CMUnitTest tests[] = {
	    T(test_sip_reject),
	    T(test_sip_answer_then_end),
	    T(test_sip_dial_busy),
	    T(test_sip_dial_completed),
	    T(test_sip_dial_caller_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
