/*
 * core_originate end to end on loopback: a started core with one profile
 * and two gateways, and the test as the far end over a plain UDP socket
 * (it sees every INVITE, CANCEL, ACK and BYE irisx sends and answers what
 * it likes). Asserts what a user observes: the INVITE's Request-URI, From,
 * caller ID and custom headers, the causes done_cb reports (USER_BUSY,
 * NO_ANSWER, LOSE_RACE on the wire…), the channel events, CANCEL for the
 * losers of a race and for a cancelled originate, sequential fallback.
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

#include "core/core.h"
#include "sip/sip.h"
#include "store/store.h"
#include "test_config_util.h"

struct far_msg {
	struct sip_msg *msg;
	struct sockaddr_in from;
};

struct fixture {
	char *dir;
	uv_loop_t loop;
	struct core *core;
	int sock; /* the far end */
	uint16_t far_port, our_port;
	struct core_sub *sub;
	/* what the callbacks saw */
	int done;
	struct channel *won;
	char won_uuid[UUID_STRLEN];
	enum core_cause cause;
	int progress, progress_media;
	char events[64][48]; /* "NAME" or "CHANNEL_STATE CS_x" of outbound channels */
	size_t event_count;
	char last_outgoing_other[UUID_STRLEN]; /* Other-Leg-Unique-ID of CHANNEL_OUTGOING */
	char rbuf[65536];
	int tag_seq;
};

static uint16_t free_udp_port(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &len);
	close(s);
	return ntohs(a.sin_port);
}

static void event_cb(void *arg, struct core_event *ev)
{
	struct fixture *f = arg;
	const char *dir = core_event_header(ev, "Call-Direction");
	if (!dir || strcmp(dir, "outbound") != 0 || f->event_count == ARRAY_LEN(f->events))
		return;
	const char *name = core_event_name(ev);
	if (strcmp(name, "CHANNEL_STATE") == 0)
		snprintf(f->events[f->event_count++], sizeof(f->events[0]), "%s %s", name,
			 core_event_header(ev, "Channel-State"));
	else
		snprintf(f->events[f->event_count++], sizeof(f->events[0]), "%s", name);
	if (strcmp(name, "CHANNEL_OUTGOING") == 0) {
		const char *o = core_event_header(ev, "Other-Leg-Unique-ID");
		snprintf(f->last_outgoing_other, sizeof(f->last_outgoing_other), "%s", o ? o : "");
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char text[4096], err[512];
	assert_non_null(f);

	f->sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(f->sock, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(f->sock, (struct sockaddr *)&a, &len);
	f->far_port = ntohs(a.sin_port);
	f->our_port = free_udp_port();
	unsigned rtp = 40000 + (unsigned)(getpid() % 500) * 40;

	f->dir = tree_create();
	assert_non_null(f->dir);
	tree_write(f->dir, "freeswitch.xml", ROOT_XML);
	tree_write(f->dir, "vars.xml", "<include/>\n");
	snprintf(text, sizeof(text),
		 "<configuration name=\"switch.conf\"><settings>"
		 "<param name=\"rtp-start-port\" value=\"%u\"/>"
		 "<param name=\"rtp-end-port\" value=\"%u\"/>"
		 "<param name=\"max-sessions\" value=\"100\"/>"
		 "</settings></configuration>\n",
		 rtp, rtp + 39);
	tree_write(f->dir, "autoload_configs/switch.conf.xml", text);
	snprintf(text, sizeof(text),
		 "<configuration name=\"sofia.conf\"><profiles>"
		 "<profile name=\"out\"><aliases><alias name=\"outside\"/></aliases><gateways>"
		 "<gateway name=\"far\">"
		 "<param name=\"proxy\" value=\"127.0.0.1:%u\"/>"
		 "<param name=\"register\" value=\"false\"/>"
		 "<param name=\"username\" value=\"trunkuser\"/>"
		 "<param name=\"password\" value=\"s3cret\"/>"
		 "<param name=\"from-domain\" value=\"irisx.test\"/>"
		 "</gateway>"
		 "<gateway name=\"farcid\">"
		 "<param name=\"proxy\" value=\"sip:127.0.0.1:%u;transport=udp\"/>"
		 "<param name=\"realm\" value=\"127.0.0.1:%u\"/>"
		 "<param name=\"register\" value=\"false\"/>"
		 "<param name=\"caller-id-in-from\" value=\"true\"/>"
		 "</gateway>"
		 "<gateway name=\"byname\">"
		 "<param name=\"proxy\" value=\"localhost:%u\"/>"
		 "<param name=\"register\" value=\"false\"/>"
		 "</gateway>"
		 "</gateways><settings>"
		 "<param name=\"sip-ip\" value=\"127.0.0.1\"/>"
		 "<param name=\"sip-port\" value=\"%u\"/>"
		 "<param name=\"rtp-ip\" value=\"127.0.0.1\"/>"
		 "<param name=\"bind-params\" value=\"transport=udp\"/>"
		 "<param name=\"inbound-codec-prefs\" value=\"PCMU,PCMA\"/>"
		 "</settings></profile>"
		 "</profiles></configuration>\n",
		 f->far_port, f->far_port, f->far_port, f->far_port, f->our_port);
	tree_write(f->dir, "autoload_configs/sofia.conf.xml", text);

	struct config *cfg = NULL;
	const char *vars[] = {"state_dir=/tmp", NULL};
	if (config_load(&cfg, f->dir, vars, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(core_create(&f->core, &f->loop, cfg), 0);
	assert_int_equal(core_start(f->core), 0);
	assert_int_equal(core_subscribe(f->core, event_cb, f, &f->sub), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	bool done = false;
	core_unsubscribe(f->sub);
	core_shutdown(f->core, 200, test_flag_set, &done);
	for (int i = 0; i < 5000 && !done; i++)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_true(done);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	core_destroy(f->core);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	close(f->sock);
	tree_remove(f->dir);
	free(f);
	return 0;
}

/* ---- the far end ---- */

static void run_for(struct fixture *f, int ms)
{
	test_loop_run_for(&f->loop, ms);
}

/* Runs the loop until done_cb ran (or `ms` passed). */
static void run_until_done(struct fixture *f, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (!f->done && clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

/* The next message irisx sends to the far end (100 Trying skipped), or NULL. */
static bool far_recv(struct fixture *f, struct far_msg *out, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		socklen_t len = sizeof(out->from);
		ssize_t n = recvfrom(f->sock, f->rbuf, sizeof(f->rbuf), 0,
				     (struct sockaddr *)&out->from, &len);
		if (n > 0) {
			out->msg = NULL;
			assert_int_equal(sip_msg_parse(&out->msg, f->rbuf, (size_t)n), 0);
			return true;
		}
		usleep(500);
	}
	return false;
}

/* The next request of `method` (other messages are dropped, as a slow peer's). */
static struct far_msg far_expect(struct fixture *f, enum sip_method method, int ms)
{
	struct far_msg m;
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (clock_now_ms() < end) {
		if (!far_recv(f, &m, (int)(end - clock_now_ms())))
			break;
		if (m.msg->is_request && m.msg->method == method)
			return m;
		sip_msg_unref(m.msg);
	}
	fail_msg("no %s within %d ms", sip_method_name(method), ms);
	return m;
}

static const char *sdp_answer_fmt = "v=0\r\n"
				    "o=- 1 1 IN IP4 127.0.0.1\r\n"
				    "s=-\r\n"
				    "c=IN IP4 127.0.0.1\r\n"
				    "t=0 0\r\n"
				    "m=audio %u RTP/AVP %s\r\n"
				    "a=rtpmap:%s\r\n";

static void far_reply(struct fixture *f, const struct far_msg *req, uint16_t status,
		      const char *to_tag, const char *body)
{
	struct buf b;
	char extra[256];
	buf_init(&b);
	snprintf(extra, sizeof(extra), "Contact: <sip:far@127.0.0.1:%u>\r\n%s", f->far_port,
		 body ? "Content-Type: application/sdp\r\n" : "");
	sip_response_print(&b, req->msg, status, NULL, to_tag, extra,
			   body ? str_from_cstr(body) : STR_NULL);
	assert_int_equal(
	    sendto(f->sock, b.p, b.len, 0, (const struct sockaddr *)&req->from, sizeof(req->from)),
	    (ssize_t)b.len);
	buf_fini(&b);
}

static void far_answer(struct fixture *f, const struct far_msg *inv, const char *tag,
		       const char *codec)
{
	char sdp[512];
	/* "0 PCMU/8000" → payload "0" */
	char pt[8];
	snprintf(pt, sizeof(pt), "%.*s", (int)strcspn(codec, " "), codec);
	snprintf(sdp, sizeof(sdp), sdp_answer_fmt, 30000u + (unsigned)f->tag_seq * 2, pt, codec);
	far_reply(f, inv, 200, tag, sdp);
}

/* A BYE from the far end in the dialog `inv` made (its To tag `tag`). */
static void far_bye(struct fixture *f, const struct far_msg *inv, const char *tag)
{
	char msg[2048];
	const struct sip_msg *m = inv->msg;
	int n = snprintf(msg, sizeof(msg),
			 "BYE sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKfarbye%d\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <%.*s>;tag=%s\r\n"
			 "To: %.*s\r\n"
			 "Call-ID: %.*s\r\n"
			 "CSeq: 1 BYE\r\n"
			 "Content-Length: 0\r\n\r\n",
			 f->our_port, f->far_port, f->tag_seq++, (int)m->to.uri_str.len,
			 m->to.uri_str.p, tag, (int)sip_msg_hdr(m, SIP_HDR_FROM)->value.len,
			 sip_msg_hdr(m, SIP_HDR_FROM)->value.p, (int)m->call_id.len, m->call_id.p);
	assert_int_equal(sendto(f->sock, msg, (size_t)n, 0, (const struct sockaddr *)&inv->from,
				sizeof(inv->from)),
			 n);
}

static bool hdr_contains(const struct sip_msg *m, const char *name, const char *what)
{
	const struct sip_hdr *h = sip_msg_hdr_by_name(m, str_from_cstr(name));
	for (; h; h = sip_msg_hdr_next(m, h)) {
		char v[1024];
		snprintf(v, sizeof(v), "%.*s", (int)h->value.len, h->value.p);
		if (strstr(v, what))
			return true;
	}
	return false;
}

static bool ruri_is(const struct sip_msg *m, const char *uri)
{
	return str_eq(m->ruri_str, str_from_cstr(uri));
}

/* ---- the originate callbacks ---- */

static void progress_cb(void *arg, struct channel *leg, bool media)
{
	struct fixture *f = arg;
	assert_non_null(leg);
	assert_int_equal(leg->direction, CHANNEL_OUTBOUND);
	if (media)
		f->progress_media++;
	else
		f->progress++;
}

static void done_cb(void *arg, struct channel *ch, enum core_cause cause)
{
	struct fixture *f = arg;
	f->done++;
	f->won = ch;
	f->cause = cause;
	if (ch) {
		assert_true(channel_answered(ch));
		memcpy(f->won_uuid, ch->uuid, UUID_STRLEN);
	}
}

static struct core_originate *start_for(struct fixture *f, struct channel *a_leg, const char *fmt,
					...) __attribute__((format(printf, 3, 4)));

/* core_originate with the dial string formatted; "%u" is usually the far port. */
static struct core_originate *start_for(struct fixture *f, struct channel *a_leg, const char *fmt,
					...)
{
	struct core_originate_cbs cbs = {.progress_cb = progress_cb, .done_cb = done_cb, .arg = f};
	struct core_originate *o = NULL;
	char ds[1024], err[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ds, sizeof(ds), fmt, ap);
	va_end(ap);
	f->done = 0;
	f->won = NULL;
	int rc = core_originate(&o, f->core, ds, a_leg, &cbs, err, sizeof(err));
	if (rc != 0)
		fail_msg("core_originate(%s): %d %s", ds, rc, err);
	assert_int_equal(f->done, 0); /* never before it returns */
	return o;
}

#define start(f, ...) start_for(f, NULL, __VA_ARGS__)

static bool saw_event(struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->event_count; i++)
		if (strcmp(f->events[i], name) == 0)
			return true;
	return false;
}

static size_t event_index(struct fixture *f, const char *name)
{
	for (size_t i = 0; i < f->event_count; i++)
		if (strcmp(f->events[i], name) == 0)
			return i;
	fail_msg("no %s event", name);
	return 0;
}

/* ---- tests ---- */

static void test_answer_through_gateway(void **state)
{
	struct fixture *f = *state;
	char uri[128];

	start(f, "{origination_caller_id_number=+1555000,origination_caller_id_name=Alice \"A\","
		 "sip_h_X-Account=acme\\,inc}sofia/gateway/far/15551234");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	snprintf(uri, sizeof(uri), "sip:15551234@127.0.0.1:%u", f->far_port);
	assert_true(ruri_is(inv.msg, uri));
	/* From: the gateway's user at its from-domain; the caller ID in PAI */
	assert_true(hdr_contains(inv.msg, "From", "<sip:trunkuser@irisx.test>"));
	assert_true(hdr_contains(inv.msg, "From", "\"Alice \\\"A\\\"\""));
	assert_true(hdr_contains(inv.msg, "P-Asserted-Identity", "<sip:+1555000@irisx.test>"));
	assert_false(hdr_contains(inv.msg, "Remote-Party-ID", "sip:"));
	assert_true(hdr_contains(inv.msg, "X-Account", "acme,inc"));
	assert_true(hdr_contains(inv.msg, "Content-Type", "application/sdp"));
	char body[2048];
	snprintf(body, sizeof(body), "%.*s", (int)inv.msg->body.len, inv.msg->body.p);
	assert_non_null(strstr(body, "m=audio "));
	assert_non_null(strstr(body, "telephone-event/8000"));
	assert_non_null(strstr(body, "a=rtpmap:0 PCMU/8000"));

	far_reply(f, &inv, 180, "farA", NULL);
	run_for(f, 50);
	assert_int_equal(f->progress, 1);
	assert_int_equal(f->done, 0);
	far_answer(f, &inv, "farA", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_int_equal(f->done, 1);
	assert_non_null(f->won);
	assert_int_equal(f->cause, CAUSE_SUCCESS);
	struct channel *ch = f->won;
	assert_int_equal(ch->direction, CHANNEL_OUTBOUND);
	assert_string_equal(ch->destination_number, "15551234");
	assert_string_equal(ch->caller_id_number, "+1555000");
	assert_non_null(ch->sip_call_id);
	assert_true(str_eq(str_from_cstr(ch->sip_call_id), inv.msg->call_id));
	assert_string_equal(channel_var(ch, "sip_h_X-Account"), "acme,inc");
	assert_string_equal(channel_var(ch, "direction"), "outbound");
	assert_string_equal(channel_var(ch, "read_codec"), "PCMU");
	struct far_msg ack = far_expect(f, SIP_METHOD_ACK, 2000);
	sip_msg_unref(ack.msg);

	/* FreeSWITCH's order for an originated leg */
	size_t create = event_index(f, "CHANNEL_CREATE");
	size_t outgoing = event_index(f, "CHANNEL_OUTGOING");
	size_t init = event_index(f, "CHANNEL_STATE CS_INIT");
	size_t consume = event_index(f, "CHANNEL_STATE CS_CONSUME_MEDIA");
	size_t progress = event_index(f, "CHANNEL_PROGRESS");
	size_t answer = event_index(f, "CHANNEL_ANSWER");
	assert_true(create < outgoing && outgoing < init && init < consume);
	assert_true(progress < answer);
	assert_string_equal(f->last_outgoing_other, ""); /* no a-leg: no Other-Leg-* */

	/* nobody took it: parked, and hanging it up sends BYE */
	run_for(f, 20);
	assert_int_equal(ch->state, CS_PARK);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	struct far_msg bye = far_expect(f, SIP_METHOD_BYE, 2000);
	far_reply(f, &bye, 200, NULL, NULL);
	sip_msg_unref(bye.msg);
	sip_msg_unref(inv.msg);
	run_for(f, 50);
	assert_int_equal(core_channel_count(f->core), 0);
}

static void test_busy(void **state)
{
	struct fixture *f = *state;
	struct buf status;

	start(f, "sofia/gateway/far/2000");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	far_reply(f, &inv, 486, "busy", NULL);
	run_until_done(f, 2000);
	assert_int_equal(f->done, 1);
	assert_null(f->won);
	assert_int_equal(f->cause, CAUSE_USER_BUSY);
	struct far_msg ack = far_expect(f, SIP_METHOD_ACK, 2000);
	sip_msg_unref(ack.msg);
	sip_msg_unref(inv.msg);
	assert_true(saw_event(f, "CHANNEL_HANGUP"));
	run_for(f, 50);
	assert_int_equal(core_channel_count(f->core), 0);
	buf_init(&status);
	core_command_execute(f->core, "sofia status profile out", &status);
	assert_non_null(strstr(status.p, "CALLS-OUT        \t1\n"));
	assert_non_null(strstr(status.p, "FAILED-CALLS-OUT \t1\n"));
	buf_fini(&status);
}

static void test_gateway_credentials(void **state)
{
	struct fixture *f = *state;

	start(f, "sofia/gateway/far/5555");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	assert_false(hdr_contains(inv.msg, "Proxy-Authorization", "Digest"));
	struct buf b;
	buf_init(&b);
	sip_response_print(&b, inv.msg, 407, NULL, "auth",
			   "Proxy-Authenticate: Digest realm=\"irisx.test\", nonce=\"n0nce\"\r\n",
			   STR_NULL);
	assert_int_equal(
	    sendto(f->sock, b.p, b.len, 0, (const struct sockaddr *)&inv.from, sizeof(inv.from)),
	    (ssize_t)b.len);
	buf_fini(&b);
	struct far_msg again = far_expect(f, SIP_METHOD_INVITE, 2000);
	assert_true(hdr_contains(again.msg, "Proxy-Authorization", "username=\"trunkuser\""));
	assert_true(str_eq(again.msg->call_id, inv.msg->call_id));
	far_answer(f, &again, "ok", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_non_null(f->won);
	sip_msg_unref(inv.msg);
	sip_msg_unref(again.msg);
}

/* A proxy written as a name is resolved (RFC 3263) before the INVITE leaves. */
static void test_gateway_by_name(void **state)
{
	struct fixture *f = *state;
	char uri[128];

	start(f, "sofia/gateway/byname/4444");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 3000);
	snprintf(uri, sizeof(uri), "sip:4444@localhost:%u", f->far_port);
	assert_true(ruri_is(inv.msg, uri));
	far_answer(f, &inv, "n", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_non_null(f->won);
	assert_non_null(f->won->sip_call_id);
	assert_true(str_eq(str_from_cstr(f->won->sip_call_id), inv.msg->call_id));
	sip_msg_unref(inv.msg);
}

static void test_timeout_cancels(void **state)
{
	struct fixture *f = *state;

	start(f, "{originate_timeout=1}sofia/gateway/farcid/3000");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	/* caller-id-in-from: the caller ID (the default) is the From user */
	assert_true(hdr_contains(inv.msg, "From", "<sip:0000000000@127.0.0.1:"));
	far_reply(f, &inv, 180, "slow", NULL);
	struct far_msg cancel = far_expect(f, SIP_METHOD_CANCEL, 3000);
	assert_true(hdr_contains(cancel.msg, "Reason", "cause=19"));
	far_reply(f, &cancel, 200, NULL, NULL);
	far_reply(f, &inv, 487, "slow", NULL);
	run_until_done(f, 2000);
	assert_int_equal(f->done, 1);
	assert_null(f->won);
	assert_int_equal(f->cause, CAUSE_NO_ANSWER);
	sip_msg_unref(cancel.msg);
	sip_msg_unref(inv.msg);
}

static void test_simultaneous_first_answer_wins(void **state)
{
	struct fixture *f = *state;
	struct far_msg alice = {0}, bob = {0};

	start(f,
	      "{ignore_early_media=true}sofia/out/alice@127.0.0.1:%u,"
	      "[sip_cid_type=rpid]sofia/outside/sip:bob@127.0.0.1:%u",
	      f->far_port, f->far_port);
	for (int i = 0; i < 2; i++) {
		struct far_msg m = far_expect(f, SIP_METHOD_INVITE, 2000);
		if (str_eq(m.msg->ruri.user, STR("alice")))
			alice = m;
		else if (str_eq(m.msg->ruri.user, STR("bob")))
			bob = m;
		else
			fail_msg("unexpected INVITE %.*s", (int)m.msg->ruri_str.len,
				 m.msg->ruri_str.p);
	}
	assert_non_null(alice.msg);
	assert_non_null(bob.msg);
	/* sip_cid_type per leg: PAI by default, RPID when asked */
	assert_true(hdr_contains(alice.msg, "P-Asserted-Identity", "sip:0000000000@"));
	assert_true(hdr_contains(bob.msg, "Remote-Party-ID", ";party=calling"));
	assert_false(hdr_contains(bob.msg, "P-Asserted-Identity", "sip:"));
	far_reply(f, &alice, 180, "a", NULL);
	far_reply(f, &bob, 180, "b", NULL);
	run_for(f, 50);
	assert_int_equal(f->progress, 2);
	far_answer(f, &alice, "a", "8 PCMA/8000");
	run_until_done(f, 2000);
	assert_int_equal(f->done, 1);
	assert_non_null(f->won);
	assert_string_equal(f->won->destination_number, "alice");
	assert_string_equal(channel_var(f->won, "read_codec"), "PCMA");
	/* the loser is cancelled as FreeSWITCH does it */
	struct far_msg cancel = far_expect(f, SIP_METHOD_CANCEL, 2000);
	assert_true(str_eq(cancel.msg->call_id, bob.msg->call_id));
	assert_true(hdr_contains(cancel.msg, "Reason", "SIP;cause=200"));
	far_reply(f, &cancel, 200, NULL, NULL);
	far_reply(f, &bob, 487, "b", NULL);
	run_for(f, 100);
	assert_int_equal(core_channel_count(f->core), 1); /* the winner only */
	struct far_msg ack = far_expect(f, SIP_METHOD_ACK, 2000);
	sip_msg_unref(ack.msg);

	/* nobody took the winner: parked until the far end hangs up */
	assert_int_equal(f->won->state, CS_PARK);
	far_bye(f, &alice, "a");
	struct far_msg ok;
	assert_true(far_recv(f, &ok, 2000));
	assert_false(ok.msg->is_request);
	assert_int_equal(ok.msg->status, 200);
	sip_msg_unref(ok.msg);
	run_for(f, 100);
	assert_int_equal(core_channel_count(f->core), 0);
	assert_true(saw_event(f, "CHANNEL_HANGUP_COMPLETE"));
	sip_msg_unref(cancel.msg);
	sip_msg_unref(alice.msg);
	sip_msg_unref(bob.msg);
}

static void test_leg_timeout_and_early_media_race(void **state)
{
	struct fixture *f = *state;
	struct far_msg a = {0}, b = {0};

	/* leg_timeout ends one leg (ALLOTTED_TIMEOUT), the other still rings */
	start(f,
	      "{originate_timeout=10}[leg_timeout=1]sofia/gateway/far/1001,sofia/gateway/far/1002");
	for (int i = 0; i < 2; i++) {
		struct far_msg m = far_expect(f, SIP_METHOD_INVITE, 2000);
		far_reply(f, &m, 180, str_eq(m.msg->ruri.user, STR("1001")) ? "a" : "b", NULL);
		if (str_eq(m.msg->ruri.user, STR("1001")))
			a = m;
		else
			b = m;
	}
	assert_non_null(a.msg);
	assert_non_null(b.msg);
	uint64_t t0 = clock_now_ms();
	struct far_msg cancel = far_expect(f, SIP_METHOD_CANCEL, 3000);
	assert_true(clock_now_ms() - t0 >= 800);
	assert_true(str_eq(cancel.msg->call_id, a.msg->call_id));
	assert_true(hdr_contains(cancel.msg, "Reason", "ALLOTTED_TIMEOUT"));
	far_reply(f, &cancel, 200, NULL, NULL);
	far_reply(f, &a, 487, "a", NULL);
	sip_msg_unref(cancel.msg);
	far_answer(f, &b, "b", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_non_null(f->won);
	assert_string_equal(f->won->destination_number, "1002");
	sip_msg_unref(a.msg);
	sip_msg_unref(b.msg);

	/* without ignore_early_media, early media settles the race */
	char sdp[512];
	start(f, "sofia/gateway/far/2001,sofia/gateway/far/2002");
	for (int i = 0; i < 2; i++) {
		struct far_msg m = far_expect(f, SIP_METHOD_INVITE, 2000);
		if (str_eq(m.msg->ruri.user, STR("2001")))
			a = m;
		else
			b = m;
	}
	far_reply(f, &b, 180, "b2", NULL);
	snprintf(sdp, sizeof(sdp), sdp_answer_fmt, 31002u, "0", "0 PCMU/8000");
	far_reply(f, &a, 183, "a2", sdp);
	cancel = far_expect(f, SIP_METHOD_CANCEL, 2000);
	assert_true(str_eq(cancel.msg->call_id, b.msg->call_id));
	assert_true(hdr_contains(cancel.msg, "Reason", "SIP;cause=200"));
	assert_int_equal(f->progress_media, 1);
	assert_int_equal(f->done, 0);
	far_reply(f, &cancel, 200, NULL, NULL);
	far_reply(f, &b, 487, "b2", NULL);
	far_answer(f, &a, "a2", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_non_null(f->won);
	assert_string_equal(f->won->destination_number, "2001");
	sip_msg_unref(cancel.msg);
	sip_msg_unref(a.msg);
	sip_msg_unref(b.msg);
}

static void test_sequential_fallback(void **state)
{
	struct fixture *f = *state;
	char uri[128];

	start(f, "error/USER_BUSY|sofia/gateway/far/5000|sofia/gateway/far/6000");
	struct far_msg first = far_expect(f, SIP_METHOD_INVITE, 2000);
	snprintf(uri, sizeof(uri), "sip:5000@127.0.0.1:%u", f->far_port);
	assert_true(ruri_is(first.msg, uri));
	far_reply(f, &first, 503, "x", NULL);
	struct far_msg second = far_expect(f, SIP_METHOD_INVITE, 2000);
	snprintf(uri, sizeof(uri), "sip:6000@127.0.0.1:%u", f->far_port);
	assert_true(ruri_is(second.msg, uri));
	assert_int_equal(f->done, 0);
	far_answer(f, &second, "y", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_int_equal(f->done, 1);
	assert_non_null(f->won);
	assert_string_equal(f->won->destination_number, "6000");
	sip_msg_unref(first.msg);
	sip_msg_unref(second.msg);

	/* all fail: the last leg's cause */
	start(f, "sofia/gateway/far/7000|error/CALL_REJECTED");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	far_reply(f, &inv, 404, "z", NULL);
	run_until_done(f, 2000);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->cause, CAUSE_CALL_REJECTED);
	sip_msg_unref(inv.msg);
	start(f, "error/CALL_REJECTED|sofia/gateway/far/7001");
	inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	far_reply(f, &inv, 404, "z", NULL);
	run_until_done(f, 2000);
	assert_int_equal(f->cause, CAUSE_UNALLOCATED_NUMBER);
	sip_msg_unref(inv.msg);
}

static void test_failures_without_traffic(void **state)
{
	struct fixture *f = *state;
	struct far_msg m;
	struct core_originate_cbs cbs = {.done_cb = done_cb, .arg = f};
	char err[256];

	start(f, "error/USER_BUSY");
	run_until_done(f, 1000);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->cause, CAUSE_USER_BUSY);
	start(f, "sofia/gateway/nope/1");
	run_until_done(f, 1000);
	assert_int_equal(f->cause, CAUSE_INVALID_GATEWAY);
	start(f, "sofia/nope/x@127.0.0.1");
	run_until_done(f, 1000);
	assert_int_equal(f->cause, CAUSE_INVALID_PROFILE);
	assert_int_equal(f->event_count, 0); /* no channel was made */
	assert_false(far_recv(f, &m, 100));

	f->done = 0;
	assert_int_equal(
	    core_originate(NULL, f->core, "sofia/gateway/far", NULL, &cbs, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "sofia/gateway/<gateway>/<number>"));
	assert_int_equal(core_originate(NULL, f->core, "{a=1", NULL, &cbs, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "unterminated"));
	cbs.done_cb = NULL;
	assert_int_equal(
	    core_originate(NULL, f->core, "error/USER_BUSY", NULL, &cbs, err, sizeof(err)),
	    -EINVAL);
	run_for(f, 50);
	assert_int_equal(f->done, 0);
}

static void test_early_media_and_a_leg(void **state)
{
	struct fixture *f = *state;
	char sdp[512];

	start(f, "{origination_caller_id_number=1000,origination_caller_id_name=Origin}"
		 "sofia/gateway/far/8000");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	snprintf(sdp, sizeof(sdp), sdp_answer_fmt, 31000u, "0", "0 PCMU/8000");
	far_reply(f, &inv, 183, "em", sdp);
	run_for(f, 50);
	assert_int_equal(f->progress_media, 1);
	assert_true(saw_event(f, "CHANNEL_PROGRESS_MEDIA"));
	far_reply(f, &inv, 200, "em", NULL); /* the 183's answer stands */
	run_until_done(f, 2000);
	assert_non_null(f->won);
	struct channel *a = f->won;
	sip_msg_unref(inv.msg);

	/* a second call for that one: its caller ID and Other-Leg-* */
	f->event_count = 0;
	channel_var_set(a, "export_vars", "account_code");
	channel_var_set(a, "account_code", "42");
	start_for(f, a, "sofia/gateway/far/9000");
	inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	assert_true(hdr_contains(inv.msg, "P-Asserted-Identity", "sip:1000@"));
	assert_true(hdr_contains(inv.msg, "From", "\"Origin\""));
	assert_string_equal(f->last_outgoing_other, a->uuid);
	far_answer(f, &inv, "b", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_non_null(f->won);
	assert_string_equal(channel_var(f->won, "account_code"), "42");
	assert_string_equal(channel_var(f->won, "originating_leg_uuid"), a->uuid);
	assert_string_equal(f->won->caller_id_name, "Origin");
	sip_msg_unref(inv.msg);
}

static void test_incompatible_answer(void **state)
{
	struct fixture *f = *state;

	start(f, "{absolute_codec_string=PCMU}sofia/gateway/far/1234");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	char body[2048];
	snprintf(body, sizeof(body), "%.*s", (int)inv.msg->body.len, inv.msg->body.p);
	assert_null(strstr(body, "PCMA"));
	far_answer(f, &inv, "i", "8 PCMA/8000");
	run_until_done(f, 2000);
	assert_int_equal(f->done, 1);
	assert_null(f->won);
	assert_int_equal(f->cause, CAUSE_INCOMPATIBLE_DESTINATION);
	struct far_msg bye = far_expect(f, SIP_METHOD_BYE, 2000);
	far_reply(f, &bye, 200, NULL, NULL);
	sip_msg_unref(bye.msg);
	sip_msg_unref(inv.msg);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;

	struct core_originate *o = start(f, "sofia/gateway/far/4000");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	far_reply(f, &inv, 180, "c", NULL);
	run_for(f, 50);
	core_originate_cancel(o, CAUSE_ORIGINATOR_CANCEL);
	struct far_msg cancel = far_expect(f, SIP_METHOD_CANCEL, 2000);
	assert_true(hdr_contains(cancel.msg, "Reason", "cause=487"));
	far_reply(f, &cancel, 200, NULL, NULL);
	far_reply(f, &inv, 487, "c", NULL);
	run_for(f, 200);
	assert_int_equal(f->done, 0);
	assert_int_equal(core_channel_count(f->core), 0);
	sip_msg_unref(cancel.msg);
	sip_msg_unref(inv.msg);
}

/*
 * The CDRs of gateway legs (core/cdr.c): an answered leg we hang up and a
 * busy one, read back from a CSV store: the gateway's name, the direction,
 * the cause and who ended the leg, answered and billed only when answered.
 */
static void test_cdr_of_gateway_legs(void **state)
{
	struct fixture *f = *state;
	struct cdr_conf conf;
	char spool[1024];
	snprintf(spool, sizeof(spool), "%s/state", f->dir);
	cdr_conf_default(&conf, spool);
	conf.sinks[CDR_SINK_SQLITE] = false;
	conf.sinks[CDR_SINK_CSV] = true;
	snprintf(conf.csv_template, sizeof(conf.csv_template),
		 "${uuid}|${gateway}|${direction}|${hangup_cause}|${q850}|${hangup_disposition}|"
		 "${destination_number}|${sip_call_id}|${read_codec}|${answered_us}");
	struct cdr_store *st;
	assert_int_equal(cdr_store_create(&st, &conf), 0);
	struct core_cdr_status cs;
	assert_int_equal(core_cdr_status(f->core, &cs), -ENOENT);
	core_set_cdr_store(f->core, st);
	/* The store's hook, as /health reads it. */
	assert_int_equal(core_cdr_status(f->core, &cs), 0);
	assert_false(cs.failing);
	assert_string_equal(cs.detail, "csv");
	assert_int_equal(cs.written, 0);

	start(f, "sofia/gateway/far/15551234");
	struct far_msg inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	far_answer(f, &inv, "farA", "0 PCMU/8000");
	run_until_done(f, 2000);
	assert_non_null(f->won);
	char answered_uuid[UUID_STRLEN];
	memcpy(answered_uuid, f->won_uuid, UUID_STRLEN);
	char call_id[256];
	snprintf(call_id, sizeof(call_id), "%.*s", (int)inv.msg->call_id.len, inv.msg->call_id.p);
	struct far_msg ack = far_expect(f, SIP_METHOD_ACK, 2000);
	sip_msg_unref(ack.msg);
	channel_hangup(f->won, CAUSE_NORMAL_CLEARING);
	struct far_msg bye = far_expect(f, SIP_METHOD_BYE, 2000);
	far_reply(f, &bye, 200, NULL, NULL);
	sip_msg_unref(bye.msg);
	sip_msg_unref(inv.msg);

	start(f, "sofia/gateway/far/2000");
	inv = far_expect(f, SIP_METHOD_INVITE, 2000);
	far_reply(f, &inv, 486, "busy", NULL);
	run_until_done(f, 2000);
	ack = far_expect(f, SIP_METHOD_ACK, 2000);
	sip_msg_unref(ack.msg);
	sip_msg_unref(inv.msg);
	run_for(f, 50);
	assert_int_equal(core_channel_count(f->core), 0);

	assert_int_equal(cdr_store_flush(st, 5000), 0);
	assert_int_equal(core_cdr_status(f->core, &cs), 0);
	assert_false(cs.failing);
	assert_int_equal(cs.written, 2);
	assert_int_equal(cs.spooled, 2);
	assert_int_equal(cs.queue_depth, 0);
	core_set_cdr_store(f->core, NULL);
	assert_int_equal(core_cdr_status(f->core, &cs), -ENOENT);
	cdr_store_destroy(st);
	FILE *fp = fopen(conf.csv_path, "r");
	assert_non_null(fp);
	char line[2][1024] = {"", ""};
	assert_non_null(fgets(line[0], sizeof(line[0]), fp));
	assert_non_null(fgets(line[1], sizeof(line[1]), fp));
	assert_null(fgets(line[1] + 1000, 10, fp)); /* two legs, two records */
	fclose(fp);
	char want[1024];
	snprintf(want, sizeof(want),
		 "\"%s\"|\"far\"|\"outbound\"|\"NORMAL_CLEARING\"|\"16\"|\"send_bye\"|"
		 "\"15551234\"|\"%s\"|\"PCMU\"|\"",
		 answered_uuid, call_id);
	if (strncmp(line[0], want, strlen(want)) != 0)
		fail_msg("answered leg: %s\nexpected: %s", line[0], want);
	assert_null(strstr(line[0], "|\"0\"\n")); /* answered_us set */
	assert_non_null(strstr(line[1], "|\"far\"|\"outbound\"|\"USER_BUSY\"|\"17\"|"
					"\"recv_refuse\"|\"2000\"|"));
	assert_non_null(strstr(line[1], "|\"0\"\n")); /* never answered */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_answer_through_gateway, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gateway_credentials, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gateway_by_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_cancels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_first_answer_wins, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leg_timeout_and_early_media_race, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sequential_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failures_without_traffic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_early_media_and_a_leg, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_incompatible_answer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cdr_of_gateway_legs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
