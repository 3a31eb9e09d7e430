/*
 * The TwiML executor (exec.c, verbs.c, audio.c) on legs built straight in a
 * core that runs on the test's loop, against an HTTP application served on
 * loopback (test_twiml_util.h): each path answers with a canned document or
 * WAV file, late, with an error status, with garbage, or never. The
 * `webhook` application runs through the dialplan's door
 * (dialplan_app_execute), as ESL's execute and the REST API run it.
 * Asserts what the application and the caller see: the parameters and
 * signature of each request, which URLs are asked for (redirects, actions,
 * the fallback with its ErrorCode, audio downloaded once), the request
 * cancelled when the caller hangs up (the server sees the connection
 * close), the hangup cause, and the dialplan's done callback, once. Calls
 * taken over SIP are in test_twiml_exec_sip.c.
 */
#include "test_twiml_util.h"

static int setup(void **state)
{
	(void)state;
	char err[512];
	struct config *cfg = NULL;
	const char *vars[] = {"state_dir=/tmp", NULL};
	if (config_load(&cfg, SOURCE_DIR "/conf", vars, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	return irisx_open(cfg);
}

/* An inbound leg (answered or still ringing) parked on the loop. */
static struct channel *leg(bool answered)
{
	struct channel *ch = test_leg(core, "call", "+15551230000", "+15559870000", 101);
	ch->answered = answered;
	core__channel_schedule(ch);
	for (int i = 0; i < 100 && ch->state != CS_PARK; i++)
		spin_ms(1);
	assert_int_equal(ch->state, CS_PARK);
	return ch;
}

/* Runs `webhook <data>` on ch: the application is pending. */
static void webhook(struct channel *ch, const char *data, struct app_done *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(dialplan_app_execute(dp, ch, "webhook", data, app_done_cb, d),
			 DIALPLAN_APP_PENDING);
	assert_int_equal(d->calls, 0);
}

static void webhook_path(struct channel *ch, const char *path, struct app_done *d)
{
	webhook(ch, url_of(path), d);
}

/* A leg (answered or still ringing) running the application at path. */
static struct channel *call(const char *path, bool answered, struct app_done *d)
{
	struct channel *ch = leg(answered);
	webhook_path(ch, path, d);
	return ch;
}

/* The application ends: its done callback runs, once, and the engine lets go. */
static void wait_over(struct app_done *d)
{
	wait_done(d);
	assert_over(d);
}

/* A call whose application at path runs to its end. */
static void call_to_end(const char *path, bool answered, struct app_done *d)
{
	call(path, answered, d);
	wait_over(d);
}

/* ---- the first request ---- */

static void test_first_request(void **state)
{
	engine_start();
	route_doc("/voice", "<Response><Hangup/></Response>");
	struct channel *ch = leg(false);
	ch->caller_id_name = "Alice Liddell";
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	webhook_path(ch, "/voice", &d);
	wait_over(&d);
	assert_int_equal(d.status, 0);
	assert_false(d.up);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_int_equal(requests(), 1);

	char s[512];
	assert_method(0, "POST");
	assert_path(0, "/voice");
	request_header(0, "Content-Type", s, sizeof(s));
	assert_string_equal(s, "application/x-www-form-urlencoded");
	assert_string_equal(param(0, "CallSid"), uuid);
	assert_string_equal(param(0, "AccountSid"), ACCOUNT);
	assert_string_equal(param(0, "From"), "+15551230000");
	assert_string_equal(param(0, "To"), "+15559870000");
	assert_string_equal(param(0, "Caller"), "+15551230000");
	assert_string_equal(param(0, "Called"), "+15559870000");
	assert_string_equal(param(0, "CallerName"), "Alice Liddell");
	assert_string_equal(param(0, "Direction"), "inbound");
	assert_string_equal(param(0, "CallStatus"), "ringing");
	assert_string_equal(param(0, "ApiVersion"), "2010-04-01");
	assert_string_equal(param(0, "Digits"), "(none)");

	/* The signature, as the application checks it: over the URL and the
	 * parameters it received; a wrong key does not match it. */
	struct twiml_params ps;
	char sig[29], header[64];
	twiml_params_init(&ps);
	request_params(0, &ps);
	request_header(0, "X-Twilio-Signature", header, sizeof(header));
	assert_int_equal(twiml_signature(TOKEN, url_of("/voice"), &ps, sig), 0);
	assert_string_equal(header, sig);
	assert_int_equal(twiml_signature("another key", url_of("/voice"), &ps, sig), 0);
	assert_string_not_equal(header, sig);
	twiml_params_fini(&ps);

	assert_stats(1, 0, -1);
}

/* Bad data never reaches the network. */
static void test_bad_data(void **state)
{
	engine_start();
	struct channel *ch = leg(true);
	struct app_done d = {0};
	assert_int_equal(
	    dialplan_app_execute(dp, ch, "webhook", "ftp://127.0.0.1/x", app_done_cb, &d), -EINVAL);
	assert_int_equal(
	    dialplan_app_execute(dp, ch, "webhook", "http://127.0.0.1/x PUT", app_done_cb, &d),
	    -EINVAL);
	assert_int_equal(dialplan_app_execute(dp, ch, "webhook", "", app_done_cb, &d), -EINVAL);
	spin_ms(50);
	assert_int_equal(d.calls, 0);
	assert_int_equal(requests(), 0);
	assert_true(channel_up(ch));
}

/* Over before it started (max-requests 0: no document may be fetched): the
 * application says so at once and its done callback never runs. */
static void test_over_at_once(void **state)
{
	set.max_requests = 0;
	engine_start();
	struct channel *ch = leg(true);
	struct app_done d = {0};
	assert_int_equal(dialplan_app_execute(dp, ch, "webhook", url_of("/voice"), app_done_cb, &d),
			 DIALPLAN_APP_STOP);
	assert_int_equal(ch->cause, CAUSE_NORMAL_CLEARING);
	spin_ms(100);
	assert_int_equal(d.calls, 0);
	assert_int_equal(requests(), 0);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.active, 0);
}

/* ---- the caller hangs up while the application thinks ---- */

static void test_hangup_in_flight(void **state)
{
	engine_start();
	route("/think", ANSWER_NEVER, NULL, NULL, 0);
	struct app_done d;
	struct channel *ch = call("/think", true, &d);
	wait_requests(1);
	spin_ms(20);
	assert_int_equal(d.calls, 0);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.active, 1);

	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_false(d.up);
	/* the request was cancelled: the server sees the connection close, long
	 * before timeout-ms */
	for (int i = 0; i < 1000 && peers_closed() == 0; i++)
		spin_ms(1);
	assert_int_equal(peers_closed(), 1);
	assert_over(&d);
	assert_int_equal(requests(), 1);
	twiml_stats_get(tw, &st);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.fallbacks, 0);
}

/* A late answer never reaches a call that hung up meanwhile. */
static void test_hangup_before_late_answer(void **state)
{
	engine_start();
	route("/late", ANSWER_DOC, NULL, "<Response><Redirect>/again</Redirect></Response>", 400);
	struct app_done d;
	struct channel *ch = call("/late", true, &d);
	wait_requests(1);
	channel_hangup(ch, CAUSE_ORIGINATOR_CANCEL);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_ORIGINATOR_CANCEL);
	spin_ms(500);
	assert_int_equal(d.calls, 1);
	assert_int_equal(requests(), 1); /* no /again */
	assert_int_equal(peers_closed(), 1);
	assert_over(&d);
}

/* ---- Redirect ---- */

static void test_redirect_loop(void **state)
{
	set.max_requests = 5;
	engine_start();
	route_doc("/loop", "<Response><Redirect>loop</Redirect><Say>never</Say></Response>");
	struct app_done d;
	call_to_end("/loop", true, &d);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_int_equal(requests(), 5);
	assert_stats(5, -1, -1);
}

/* Relative URLs resolve against the document's URL; a GET carries the
 * parameters in its query and is signed over the whole URL; the document
 * it returns resolves against its URL without our query. */
static void test_redirect_relative_and_get(void **state)
{
	engine_start();
	route_doc("/app/start",
		  "<Response><Redirect method=\"GET\">next?step=2</Redirect></Response>");
	route_doc("/app/next", "<Response><Redirect>../done</Redirect></Response>");
	route_doc("/done", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	webhook_path(ch, "/app/start", &d);
	wait_over(&d);
	assert_int_equal(requests(), 3);

	char s[4096];
	assert_method(1, "GET");
	assert_path(1, "/app/next");
	assert_string_equal(param(1, "step"), "2");
	assert_string_equal(param(1, "CallSid"), uuid);
	assert_string_equal(param(1, "CallStatus"), "in-progress");
	request_header(1, "Content-Length", s, sizeof(s));
	assert_true(s[0] == '\0' || strcmp(s, "0") == 0);
	assert_signed_get(1, "/app/next");

	assert_method(2, "POST");
	assert_path(2, "/done");
	request_query(2, s, sizeof(s));
	assert_string_equal(s, "");
}

/* `webhook <url> GET`: the first request is a GET too. */
static void test_first_get(void **state)
{
	engine_start();
	route_doc("/voice", "<Response/>");
	struct channel *ch = leg(true);
	struct app_done d;
	char data[300];
	snprintf(data, sizeof(data), "%s get", url_of("/voice"));
	webhook(ch, data, &d);
	wait_over(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING); /* the end of the document */
	assert_method(0, "GET");
	assert_string_equal(param(0, "From"), "+15551230000");
}

/* ---- failures ---- */

static void test_fallback_on_500(void **state)
{
	fallback_to("/fallback");
	engine_start();
	route("/broken", ANSWER_STATUS, "500 Internal Server Error", "oops", 0);
	route_doc("/fallback", "<Response><Hangup/></Response>");
	struct app_done d;
	call_to_end("/broken", true, &d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING); /* the fallback's Hangup */
	assert_int_equal(requests(), 2);
	assert_path(1, "/fallback");
	assert_method(1, "POST");
	assert_string_equal(param(1, "ErrorCode"), "11200");
	assert_string_equal(param(1, "ErrorUrl"), url_of("/broken"));
	assert_string_equal(param(0, "ErrorCode"), "(none)");
	/* the fallback's request is signed over its own URL */
	assert_signed(1, url_of("/fallback"), true);
	assert_stats(2, 1, 1);
}

static void test_fallback_on_garbage(void **state)
{
	fallback_to("/fallback");
	engine_start();
	route_doc("/garbage", "this is <not> TwiML &&&");
	route_doc("/fallback", "<html><body>Not found</body></html>");
	struct app_done d;
	call_to_end("/garbage", true, &d);
	/* garbage → the fallback, whose document has another root: no second
	 * fallback for the fallback's own request; the call hangs up */
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_int_equal(requests(), 2);
	assert_path(1, "/fallback");
	assert_string_equal(param(1, "ErrorCode"), "12100");
	assert_string_equal(param(1, "ErrorUrl"), url_of("/garbage"));
	assert_stats(-1, 2, 1);
}

/* A fallback document that works is a document as any: a failure after it
 * goes to the fallback again, until max-requests. */
static void test_fallback_then_failure(void **state)
{
	set.max_requests = 4;
	fallback_to("/fallback");
	engine_start();
	route_doc("/garbage", "<Response><Say>unclosed</Response>");
	route_doc("/fallback", "<Response><Redirect>/garbage</Redirect></Response>");
	struct app_done d;
	call_to_end("/garbage", true, &d);
	assert_int_equal(requests(), 4);
	const char *want[] = {"/garbage", "/fallback", "/garbage", "/fallback"};
	for (size_t i = 0; i < 4; i++)
		assert_path(i, want[i]);
	assert_string_equal(param(3, "ErrorCode"), "12100");
	/* the 4th document would be the 5th request: over */
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
}

static void test_fallback_on_timeout(void **state)
{
	set.timeout_ms = 300;
	fallback_to("/fallback");
	engine_start();
	route("/slow", ANSWER_NEVER, NULL, NULL, 0);
	route_doc("/fallback", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	uint64_t start = uv_hrtime();
	webhook_path(ch, "/slow", &d);
	wait_requests(2);
	uint64_t ms = (uv_hrtime() - start) / 1000000;
	assert_true(ms >= 290);
	assert_true(ms < 1500);
	wait_over(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_int_equal(peers_closed(), 1); /* the timed-out request let go */
	assert_string_equal(param(1, "ErrorCode"), "11200");
	assert_string_equal(param(1, "ErrorUrl"), url_of("/slow"));
}

/* No fallback URL: the call hangs up at once. */
static void test_no_fallback(void **state)
{
	engine_start();
	route("/broken", ANSWER_STATUS, "503 Service Unavailable", "", 0);
	struct app_done d;
	call_to_end("/broken", true, &d);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_int_equal(requests(), 1);
	assert_stats(-1, 1, 0);
}

/* The fallback fails too: its own failure does not go to the fallback. */
static void test_fallback_fails(void **state)
{
	fallback_to("/fallback");
	engine_start();
	route("/broken", ANSWER_STATUS, "500 Internal Server Error", "", 0);
	route("/fallback", ANSWER_STATUS, "500 Internal Server Error", "", 0);
	struct app_done d;
	call_to_end("/broken", true, &d);
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_int_equal(requests(), 2);
}

/* A connection refused is a failed request as well (11200). */
static void test_refused(void **state)
{
	fallback_to("/fallback");
	engine_start();
	route_doc("/fallback", "<Response><Hangup/></Response>");
	/* a port nobody listens on: bound, never listening */
	int s;
	uint16_t port = test_tcp_port_unused(&s);
	char data[128];
	snprintf(data, sizeof(data), "http://127.0.0.1:%u/voice", port);
	struct channel *ch = leg(true);
	struct app_done d;
	webhook(ch, data, &d);
	wait_done(&d);
	close(s);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_over(&d);
	assert_int_equal(requests(), 1);
	assert_string_equal(param(0, "ErrorCode"), "11200");
	assert_string_equal(param(0, "ErrorUrl"), data);
}

/* With a fallback prompt the caller hears it before the hangup. */
static void test_fallback_prompt(void **state)
{
	snprintf(set.fallback_prompt, sizeof(set.fallback_prompt), "silence_stream://400");
	engine_start();
	route("/broken", ANSWER_STATUS, "500 Internal Server Error", "", 0);
	struct app_done d;
	call("/broken", true, &d);
	wait_requests(1);
	uint64_t start = uv_hrtime();
	wait_done(&d);
	uint64_t ms = (uv_hrtime() - start) / 1000000;
	assert_true(ms >= 350);
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_over(&d);
}

/* ---- Gather ---- */

static void test_gather_digits(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather action=\"/menu/choice\" timeout=\"3\"/>"
			   "<Say>not reached</Say></Response>");
	route_doc("/menu/choice", "<Response><Hangup/></Response>");
	struct app_done d;
	struct channel *ch = call("/menu", true, &d);
	wait_requests(1);
	spin_ms(100);
	assert_int_equal(d.calls, 0);
	channel_dtmf_receive(ch, '4', 100, CORE_DTMF_RTP);
	spin_ms(20);
	channel_dtmf_receive(ch, '2', 100, CORE_DTMF_RTP);
	spin_ms(20);
	channel_dtmf_receive(ch, '#', 100, CORE_DTMF_RTP);
	wait_over(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_int_equal(requests(), 2);
	assert_path(1, "/menu/choice");
	assert_string_equal(param(1, "Digits"), "42");
	assert_string_equal(param(1, "FinishedOnKey"), "#");
	assert_string_equal(param(1, "CallStatus"), "in-progress");
}

/* A digit stops Gather's prompts (barge-in) and is the first collected;
 * the prompts after it do not play. */
static void test_gather_barge_in(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather numDigits=\"2\" action=\"/choice\">"
			   "<Play>silence_stream://5000</Play><Pause length=\"5\"/></Gather>"
			   "</Response>");
	route_doc("/choice", "<Response><Hangup/></Response>");
	struct app_done d;
	struct channel *ch = call("/menu", true, &d);
	wait_requests(1);
	spin_ms(200);
	uint64_t start = uv_hrtime();
	channel_dtmf_receive(ch, '7', 100, CORE_DTMF_RTP);
	spin_ms(100);
	channel_dtmf_receive(ch, '3', 100, CORE_DTMF_RTP);
	wait_done(&d);
	assert_true((uv_hrtime() - start) / 1000000 < 2000);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	assert_string_equal(param(1, "Digits"), "73");
}

/* numDigits reached: no FinishedOnKey; no action: the document's own URL. */
static void test_gather_num_digits(void **state)
{
	engine_start();
	route_doc("/pin", "<Response><Gather numDigits=\"3\" method=\"GET\"/></Response>");
	struct app_done d;
	struct channel *ch = call("/pin", true, &d);
	wait_requests(1);
	spin_ms(50);
	channel_dtmf_receive(ch, '9', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(ch, '8', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(ch, '7', 100, CORE_DTMF_RTP);
	wait_requests(2);
	assert_method(1, "GET");
	assert_path(1, "/pin");
	assert_string_equal(param(1, "Digits"), "987");
	assert_string_equal(param(1, "FinishedOnKey"), "(none)");
	/* the same document again: the caller hangs up in its Gather */
	spin_ms(50);
	assert_int_equal(d.calls, 0);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_over(&d);
	assert_int_equal(requests(), 2);
}

/* A document fetched by GET from a URL with a query of its own: a Gather
 * without action asks that URL again, with the parameters once. */
static void test_gather_get_own_query(void **state)
{
	engine_start();
	route_doc("/pin", "<Response><Gather numDigits=\"1\" method=\"GET\"/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	char data[300];
	snprintf(data, sizeof(data), "%s GET", url_of("/pin?lang=fr"));
	webhook(ch, data, &d);
	wait_requests(1);
	spin_ms(50);
	channel_dtmf_receive(ch, '5', 100, CORE_DTMF_RTP);
	wait_requests(2);
	char q[4096];
	request_query(1, q, sizeof(q));
	assert_int_equal(strncmp(q, "lang=fr&", 8), 0);
	assert_null(strstr(q + 1, "lang=fr"));
	char *sid = strstr(q, "CallSid=");
	assert_non_null(sid);
	assert_null(strstr(sid + 1, "CallSid="));
	assert_string_equal(param(1, "Digits"), "5");
	/* signed over the URL as sent */
	assert_signed_get(1, "/pin");
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_over(&d);
}

static void test_gather_nothing(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather timeout=\"1\" action=\"/choice\"/>"
			   "<Redirect>/nothing</Redirect></Response>");
	route_doc("/nothing", "<Response><Reject reason=\"busy\"/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	uint64_t start = uv_hrtime();
	webhook_path(ch, "/menu", &d);
	wait_requests(2);
	uint64_t ms = (uv_hrtime() - start) / 1000000;
	assert_true(ms >= 950);
	assert_path(1, "/nothing"); /* not /choice */
	assert_string_equal(param(1, "Digits"), "(none)");
	wait_over(&d);
	/* Reject on an answered call: a hangup with the reason's cause */
	assert_int_equal(d.cause, CAUSE_USER_BUSY);
}

/* actionOnEmptyResult: the action is requested with empty Digits. */
static void test_gather_empty_result(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather timeout=\"1\" actionOnEmptyResult=\"true\" "
			   "action=\"/choice\"/></Response>");
	route_doc("/choice", "<Response><Hangup/></Response>");
	struct app_done d;
	call_to_end("/menu", true, &d);
	assert_int_equal(requests(), 2);
	assert_path(1, "/choice");
	assert_string_equal(param(1, "Digits"), "");
}

/* ---- the verbs that end a call ---- */

static void test_reject_unanswered(void **state)
{
	engine_start();
	route_doc("/no", "<Response><Reject/></Response>");
	route_doc("/busy", "<Response><Reject reason=\"busy\"/></Response>");
	struct app_done d;
	call_to_end("/no", false, &d);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.cause, CAUSE_CALL_REJECTED);
	assert_string_equal(param(0, "CallStatus"), "ringing");

	call_to_end("/busy", false, &d);
	assert_int_equal(d.cause, CAUSE_USER_BUSY);
}

static void test_hangup_and_end(void **state)
{
	engine_start();
	route_doc("/hangup", "<Response><Hangup/><Redirect>/never</Redirect></Response>");
	route_doc("/end", "<Response><Pause length=\"0\"/></Response>");
	route_doc("/empty", "<Response></Response>");
	const char *paths[] = {"/hangup", "/end", "/empty"};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		struct app_done d;
		call_to_end(paths[i], true, &d);
		assert_int_equal(d.status, 0);
		assert_false(d.up);
		assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	}
	assert_int_equal(requests(), 3);
}

/* A Pause runs on the channel: the hangup during it ends the application. */
static void test_hangup_during_verb(void **state)
{
	engine_start();
	route_doc("/wait",
		  "<Response><Pause length=\"10\"/><Redirect>/never</Redirect></Response>");
	struct app_done d;
	struct channel *ch = call("/wait", true, &d);
	wait_requests(1);
	spin_ms(100);
	assert_int_equal(d.calls, 0);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_over(&d);
	assert_int_equal(d.status, 0);
	assert_int_equal(requests(), 1);
}

/* uuid_break (the media stopped from outside) ends the flow with
 * -ECANCELED, while it waits for a document too. */
static void test_stopped_from_outside(void **state)
{
	engine_start();
	route("/think", ANSWER_NEVER, NULL, NULL, 0);
	struct app_done d;
	struct channel *ch = call("/think", true, &d);
	wait_requests(1);
	spin_ms(20);
	channel_stop_media(ch);
	wait_done(&d);
	assert_int_equal(d.status, -ECANCELED);
	assert_true(d.up);
	for (int i = 0; i < 1000 && peers_closed() == 0; i++)
		spin_ms(1);
	assert_int_equal(peers_closed(), 1);
	assert_over(&d);
	assert_true(channel_up(ch));
}

/* At shutdown a call waiting for its document lets go of it. */
static void test_shutdown_in_flight(void **state)
{
	engine_start();
	route("/think", ANSWER_NEVER, NULL, NULL, 0);
	static struct app_done d;
	call("/think", true, &d);
	wait_requests(1);
	/* teardown: core_shutdown hangs it up, the application ends once;
	 * ASan sees nothing left */
	at_shutdown = &d;
}

/* ---- Record ---- */

/* n 20 ms frames of 8 kHz audio at a constant level, as the caller says it */
static void caller_says(struct channel *ch, int frames, int16_t level)
{
	int16_t pcm[160];
	for (int i = 0; i < 160; i++)
		pcm[i] = (int16_t)(i % 2 ? level : -level);
	for (int i = 0; i < frames; i++)
		core__record_tap_rx(ch, pcm, 160, 8000);
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void test_record(void **state)
{
	snprintf(set.recording_url_base, sizeof(set.recording_url_base), "http://127.0.0.1/rec");
	engine_start();
	assert_int_equal(core_recordings_open(core, cache_dir), 0);
	route_doc("/msg", "<Response><Record playBeep=\"false\" timeout=\"2\" finishOnKey=\"#*\" "
			  "action=\"/recorded\"/></Response>");
	route_doc("/recorded", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	webhook_path(ch, "/msg", &d);
	wait_requests(1);
	spin_ms(50);
	caller_says(ch, 75, 3000); /* 1.5 s */
	spin_ms(20);
	channel_dtmf_receive(ch, '*', 100, CORE_DTMF_RTP);
	wait_over(&d);
	assert_int_equal(requests(), 2);
	char want[256], path[512];
	snprintf(want, sizeof(want), "http://127.0.0.1/rec/twiml/%s-1.wav", uuid);
	assert_string_equal(param(1, "RecordingUrl"), want);
	assert_string_equal(param(1, "RecordingDuration"), "2"); /* 1.5 s, rounded */
	assert_string_equal(param(1, "Digits"), "*");
	char sid[40] = "RE";
	for (const char *p = uuid; *p; p++)
		if (*p != '-')
			sid[strlen(sid)] = *p;
	assert_string_equal(param(1, "RecordingSid"), sid);
	snprintf(path, sizeof(path), "%s/recordings/twiml/%s-1.wav", cache_dir, uuid);
	assert_true(file_exists(path));
}

/* A recording of nothing: no request, the next verb runs, no file kept. */
static void test_record_nothing(void **state)
{
	engine_start();
	assert_int_equal(core_recordings_open(core, cache_dir), 0);
	route_doc("/msg", "<Response><Record playBeep=\"false\" timeout=\"1\"/>"
			  "<Redirect>/nothing</Redirect></Response>");
	route_doc("/nothing", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	uint64_t start = uv_hrtime();
	webhook_path(ch, "/msg", &d);
	wait_done(&d);
	assert_true((uv_hrtime() - start) / 1000000 >= 950);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	assert_path(1, "/nothing");
	assert_string_equal(param(1, "RecordingUrl"), "(none)");
	char path[512];
	snprintf(path, sizeof(path), "%s/recordings/twiml/%s-1.wav", cache_dir, uuid);
	for (int i = 0; i < 500 && file_exists(path); i++)
		spin_ms(1);
	assert_false(file_exists(path));
}

/* ---- Dial that cannot ring ---- */

/* No dial-gateway for a <Number>, a <Sip> that cannot be dialled: failed,
 * posted to the action; without action the next verb runs. */
static void test_dial_failed(void **state)
{
	engine_start();
	route_doc("/dial", "<Response><Dial action=\"/dialed\"><Number>+1 555 0100</Number>"
			   "<Sip>sip:a,b@127.0.0.1</Sip></Dial></Response>");
	route_doc("/dialed",
		  "<Response><Dial>+15550100</Dial><Redirect>/next</Redirect></Response>");
	route_doc("/next", "<Response><Hangup/></Response>");
	struct app_done d;
	call_to_end("/dial", true, &d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_int_equal(requests(), 3);
	assert_path(1, "/dialed");
	assert_string_equal(param(1, "DialCallStatus"), "failed");
	assert_string_equal(param(1, "DialCallSid"), "(none)");
	assert_string_equal(param(1, "DialCallDuration"), "(none)");
	assert_path(2, "/next");
	assert_string_equal(param(2, "DialCallStatus"), "(none)");
}

/* ---- <Play> of URLs (audio.c) ---- */

/* Two calls asking for the same URL share one download; a later call plays
 * the cached file. */
static void test_play_cached(void **state)
{
	engine_start();
	route_audio("/audio/hello.wav", 300);
	route_doc("/play", "<Response><Play>audio/hello.wav</Play><Redirect>/played</Redirect>"
			   "</Response>");
	route_doc("/played", "<Response><Hangup/></Response>");
	struct channel *a = leg(true), *b = leg(true);
	struct app_done da, db;
	webhook_path(a, "/play", &da);
	webhook_path(b, "/play", &db);
	wait_done(&da);
	wait_done(&db);
	assert_over(&da);
	assert_over(&db);
	assert_int_equal(requests_to("/audio/hello.wav"), 1);
	assert_int_equal(requests_to("/played"), 2);
	/* fetched as the documents are, signed: a GET over the URL alone */
	size_t i = request_to("/audio/hello.wav");
	assert_method(i, "GET");
	assert_signed(i, url_of("/audio/hello.wav"), false);

	/* from the cache: no download, and the 200 ms of audio play */
	struct channel *c = leg(true);
	struct app_done dc;
	uint64_t start = uv_hrtime();
	webhook_path(c, "/play", &dc);
	wait_done(&dc);
	assert_true((uv_hrtime() - start) / 1000000 >= 190);
	assert_over(&dc);
	assert_int_equal(requests_to("/audio/hello.wav"), 1);
	assert_int_equal(requests_to("/played"), 3);
}

/* A URL that cannot be had: the Play is skipped, the next verb runs; the
 * failure is not cached. */
static void test_play_missing(void **state)
{
	engine_start();
	route_doc("/play", "<Response><Play loop=\"3\">/missing.wav</Play>"
			   "<Redirect>/after</Redirect></Response>");
	route_doc("/after", "<Response><Hangup/></Response>");
	for (int round = 1; round <= 2; round++) {
		struct app_done d;
		call_to_end("/play", true, &d);
		assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
		assert_int_equal(requests_to("/missing.wav"), (size_t)round);
		assert_int_equal(requests_to("/after"), (size_t)round);
	}
}

/* The caller hangs up while the audio downloads: the application ends at
 * once; the download goes on for the calls to come, and the engine's end
 * cancels it. */
static void test_play_hangup_while_downloading(void **state)
{
	engine_start();
	route("/never.wav", ANSWER_NEVER, NULL, NULL, 0);
	route_doc("/play", "<Response><Play>/never.wav</Play><Hangup/></Response>");
	struct app_done d;
	struct channel *ch = call("/play", true, &d);
	wait_requests_to("/never.wav", 1);
	spin_ms(20);
	assert_int_equal(d.calls, 0);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_over(&d);
	assert_int_equal(d.status, 0);
	assert_int_equal(peers_closed(), 0);
	/* teardown: twiml_destroy cancels the download */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	assert_int_equal(twiml_app_register(), 0);
	assert_int_equal(twiml_app_register(), 0); /* again: nothing changes */
	const struct CMUnitTest tests[] = {
	    T(test_first_request),
	    T(test_bad_data),
	    T(test_over_at_once),
	    T(test_hangup_in_flight),
	    T(test_hangup_before_late_answer),
	    T(test_redirect_loop),
	    T(test_redirect_relative_and_get),
	    T(test_first_get),
	    T(test_fallback_on_500),
	    T(test_fallback_on_garbage),
	    T(test_fallback_then_failure),
	    T(test_fallback_on_timeout),
	    T(test_no_fallback),
	    T(test_fallback_fails),
	    T(test_refused),
	    T(test_fallback_prompt),
	    T(test_gather_digits),
	    T(test_gather_barge_in),
	    T(test_gather_num_digits),
	    T(test_gather_get_own_query),
	    T(test_gather_nothing),
	    T(test_gather_empty_result),
	    T(test_reject_unanswered),
	    T(test_hangup_and_end),
	    T(test_hangup_during_verb),
	    T(test_stopped_from_outside),
	    T(test_shutdown_in_flight),
	    T(test_record),
	    T(test_record_nothing),
	    T(test_dial_failed),
	    T(test_play_cached),
	    T(test_play_missing),
	    T(test_play_hangup_while_downloading),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
