/*
 * TwiML documents: every verb with Twilio's defaults and with every
 * attribute irisx reads, <Gather> with nested verbs, <Dial> with several
 * nouns and a bare number, and the documents that must be refused
 * (malformed, truncated, not <Response>, DTDs and entities, nouns and
 * verbs out of place, too many verbs, too deep) or run with warnings (bad
 * attribute values, unknown verbs and attributes).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "twiml/twiml_int.h"

static struct twiml_doc *parse_ok(const char *xml)
{
	struct twiml_doc *doc = NULL;
	char err[256] = "";
	int rc = twiml_parse(xml, strlen(xml), "test-uuid", &doc, err, sizeof(err));
	if (rc != 0)
		fail_msg("%d (%s) for %s", rc, err, xml);
	assert_non_null(doc);
	return doc;
}

/* Refused with -EINVAL, and err starting "line N:" and holding `what`. */
static void parse_bad(const char *xml, size_t len, unsigned line, const char *what)
{
	struct twiml_doc *doc = (struct twiml_doc *)0x1;
	char err[256] = "";
	char want[32];

	int rc = twiml_parse(xml, len, NULL, &doc, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("%d for %.200s", rc, xml);
	assert_ptr_equal(doc, (struct twiml_doc *)0x1); /* untouched */
	snprintf(want, sizeof(want), "line %u: ", line);
	if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
		fail_msg("err \"%s\", want \"%s…%s\"", err, want, what);
}

#define BAD(xml, line, what) parse_bad(xml, strlen(xml), line, what)

static void test_empty_response(void **state)
{
	struct twiml_doc *doc = parse_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response/>");
	assert_int_equal(doc->count, 0);
	assert_int_equal(doc->warnings, 0);
	twiml_doc_free(doc);
}

static void test_say(void **state)
{
	struct twiml_doc *doc =
	    parse_ok("<Response>\n"
		     "  <Say>  Hello &amp; welcome  </Say>\n"
		     "  <Say voice=\"Polly.Joanna\" language=\"en-GB\" loop=\"3\">"
		     "Hi <emphasis>there</emphasis></Say>\n"
		     "  <Say loop=\"0\"></Say>\n"
		     "</Response>");
	assert_int_equal(doc->count, 3);
	assert_int_equal(doc->warnings, 0);
	const struct twiml_verb *v = doc->verbs;
	assert_int_equal(v[0].kind, TWIML_SAY);
	assert_int_equal(v[0].line, 2);
	assert_string_equal(v[0].u.say.text, "Hello & welcome");
	assert_string_equal(v[0].u.say.voice, "");
	assert_string_equal(v[0].u.say.language, "");
	assert_int_equal(v[0].u.say.loop, 1);
	assert_string_equal(v[1].u.say.text, "Hi there");
	assert_string_equal(v[1].u.say.voice, "Polly.Joanna");
	assert_string_equal(v[1].u.say.language, "en-GB");
	assert_int_equal(v[1].u.say.loop, 3);
	assert_string_equal(v[2].u.say.text, "");
	assert_int_equal(v[2].u.say.loop, TWIML_LOOP_FOREVER);
	twiml_doc_free(doc);
}

static void test_play_pause(void **state)
{
	struct twiml_doc *doc = parse_ok("<Response>"
					 "<Play>https://cdn.test/a.wav</Play>"
					 "<Play loop=\"2\">/b.wav</Play>"
					 "<Play digits=\"ww1234#\"/>"
					 "<Pause/>"
					 "<Pause length=\"10\"/>"
					 "<Pause length=\"0\"/>"
					 "</Response>");
	assert_int_equal(doc->count, 6);
	assert_int_equal(doc->warnings, 0);
	const struct twiml_verb *v = doc->verbs;
	assert_int_equal(v[0].kind, TWIML_PLAY);
	assert_string_equal(v[0].u.play.url, "https://cdn.test/a.wav");
	assert_null(v[0].u.play.digits);
	assert_int_equal(v[0].u.play.loop, 1);
	assert_string_equal(v[1].u.play.url, "/b.wav");
	assert_int_equal(v[1].u.play.loop, 2);
	assert_string_equal(v[2].u.play.url, "");
	assert_string_equal(v[2].u.play.digits, "ww1234#");
	assert_int_equal(v[3].kind, TWIML_PAUSE);
	assert_int_equal(v[3].u.pause.length_s, 1);
	assert_int_equal(v[4].u.pause.length_s, 10);
	assert_int_equal(v[5].u.pause.length_s, 0);
	twiml_doc_free(doc);
}

static void test_gather(void **state)
{
	struct twiml_doc *doc =
	    parse_ok("<Response>\n"
		     "<Gather/>\n"
		     "<Gather input=\"dtmf speech\" numDigits=\"4\" timeout=\"10\" "
		     "finishOnKey=\"*\" action=\"/pin\" method=\"GET\" "
		     "actionOnEmptyResult=\"true\">\n"
		     "  <Say>Enter your PIN</Say>\n"
		     "  <Play>/beep.wav</Play>\n"
		     "  <Pause length=\"2\"/>\n"
		     "</Gather>\n"
		     "<Gather input=\"speech\" finishOnKey=\"\"/>\n"
		     "</Response>");
	assert_int_equal(doc->count, 3);
	assert_int_equal(doc->warnings, 0);
	const struct twiml_verb *g = &doc->verbs[0];
	assert_int_equal(g->kind, TWIML_GATHER);
	assert_true(g->u.gather.dtmf);
	assert_false(g->u.gather.speech);
	assert_int_equal(g->u.gather.num_digits, 0);
	assert_int_equal(g->u.gather.timeout_s, 5);
	assert_string_equal(g->u.gather.finish_on_key, "#");
	assert_null(g->u.gather.action);
	assert_int_equal(g->u.gather.method, TWIML_POST);
	assert_false(g->u.gather.action_on_empty_result);
	assert_int_equal(g->u.gather.nested_count, 0);

	g = &doc->verbs[1];
	assert_int_equal(g->line, 3);
	assert_true(g->u.gather.dtmf);
	assert_true(g->u.gather.speech);
	assert_int_equal(g->u.gather.num_digits, 4);
	assert_int_equal(g->u.gather.timeout_s, 10);
	assert_string_equal(g->u.gather.finish_on_key, "*");
	assert_string_equal(g->u.gather.action, "/pin");
	assert_int_equal(g->u.gather.method, TWIML_GET);
	assert_true(g->u.gather.action_on_empty_result);
	assert_int_equal(g->u.gather.nested_count, 3);
	assert_int_equal(g->u.gather.nested[0].kind, TWIML_SAY);
	assert_string_equal(g->u.gather.nested[0].u.say.text, "Enter your PIN");
	assert_int_equal(g->u.gather.nested[0].line, 4);
	assert_int_equal(g->u.gather.nested[1].kind, TWIML_PLAY);
	assert_string_equal(g->u.gather.nested[1].u.play.url, "/beep.wav");
	assert_int_equal(g->u.gather.nested[2].kind, TWIML_PAUSE);
	assert_int_equal(g->u.gather.nested[2].u.pause.length_s, 2);

	g = &doc->verbs[2];
	assert_false(g->u.gather.dtmf);
	assert_true(g->u.gather.speech);
	assert_string_equal(g->u.gather.finish_on_key, "");
	twiml_doc_free(doc);
}

static void test_dial(void **state)
{
	struct twiml_doc *doc =
	    parse_ok("<Response>"
		     "<Dial> 415-123-4567 </Dial>"
		     "<Dial timeout=\"20\" timeLimit=\"600\" callerId=\"+15550001111\" "
		     "action=\"/after-dial\" method=\"GET\" record=\"record-from-answer-dual\" "
		     "hangupOnStar=\"true\">"
		     "  <Number sendDigits=\"ww12#\">+1 (555) 123-4567</Number>"
		     "  <Number>5551230000</Number>"
		     "  <Sip>sip:alice@pbx.test;transport=tcp</Sip>"
		     "</Dial>"
		     "<Dial record=\"true\"><Sip>SIPS:bob@pbx.test</Sip></Dial>"
		     "<Dial record=\"record-from-ringing\">+15551112222</Dial>"
		     "<Dial record=\"record-from-ringing-dual\">1</Dial>"
		     "<Dial record=\"do-not-record\">2</Dial>"
		     "<Dial record=\"record-from-answer\">3</Dial>"
		     "</Response>");
	assert_int_equal(doc->count, 7);
	assert_int_equal(doc->warnings, 0);
	const struct twiml_verb *d = &doc->verbs[0];
	assert_int_equal(d->kind, TWIML_DIAL);
	assert_int_equal(d->u.dial.timeout_s, 30);
	assert_int_equal(d->u.dial.time_limit_s, 14400);
	assert_null(d->u.dial.caller_id);
	assert_null(d->u.dial.action);
	assert_int_equal(d->u.dial.method, TWIML_POST);
	assert_int_equal(d->u.dial.record, TWIML_DIAL_RECORD_NONE);
	assert_false(d->u.dial.hangup_on_star);
	assert_int_equal(d->u.dial.target_count, 1);
	assert_int_equal(d->u.dial.targets[0].kind, TWIML_TARGET_NUMBER);
	assert_string_equal(d->u.dial.targets[0].address, "4151234567");
	assert_null(d->u.dial.targets[0].send_digits);

	d = &doc->verbs[1];
	assert_int_equal(d->u.dial.timeout_s, 20);
	assert_int_equal(d->u.dial.time_limit_s, 600);
	assert_string_equal(d->u.dial.caller_id, "+15550001111");
	assert_string_equal(d->u.dial.action, "/after-dial");
	assert_int_equal(d->u.dial.method, TWIML_GET);
	assert_int_equal(d->u.dial.record, TWIML_DIAL_RECORD_ANSWER_DUAL);
	assert_true(d->u.dial.hangup_on_star);
	assert_int_equal(d->u.dial.target_count, 3);
	assert_string_equal(d->u.dial.targets[0].address, "+15551234567");
	assert_string_equal(d->u.dial.targets[0].send_digits, "ww12#");
	assert_string_equal(d->u.dial.targets[1].address, "5551230000");
	assert_null(d->u.dial.targets[1].send_digits);
	assert_int_equal(d->u.dial.targets[2].kind, TWIML_TARGET_SIP);
	assert_string_equal(d->u.dial.targets[2].address, "sip:alice@pbx.test;transport=tcp");

	assert_int_equal(doc->verbs[2].u.dial.record, TWIML_DIAL_RECORD_ANSWER);
	assert_string_equal(doc->verbs[2].u.dial.targets[0].address, "SIPS:bob@pbx.test");
	assert_int_equal(doc->verbs[3].u.dial.record, TWIML_DIAL_RECORD_RINGING);
	assert_int_equal(doc->verbs[4].u.dial.record, TWIML_DIAL_RECORD_RINGING_DUAL);
	assert_int_equal(doc->verbs[5].u.dial.record, TWIML_DIAL_RECORD_NONE);
	assert_int_equal(doc->verbs[6].u.dial.record, TWIML_DIAL_RECORD_ANSWER);
	twiml_doc_free(doc);
}

static void test_dial_nouns_skipped(void **state)
{
	/* Nouns irisx does not dial warn and go; a Dial left with none fails. */
	struct twiml_doc *doc = parse_ok("<Response><Dial>"
					 "<Client>joey</Client><Conference>room</Conference>"
					 "<Number>abc</Number><Sip>http://x</Sip>"
					 "<Number>+15551234567</Number>"
					 "</Dial></Response>");
	assert_int_equal(doc->count, 1);
	assert_int_equal(doc->warnings, 4);
	assert_int_equal(doc->verbs[0].u.dial.target_count, 1);
	twiml_doc_free(doc);
	BAD("<Response>\n<Dial><Queue>support</Queue></Dial></Response>", 2,
	    "no number or SIP URI");
	BAD("<Response>\n<Dial>   </Dial></Response>", 2, "no number");
	BAD("<Response><Dial>\n<Number>not a number</Number></Dial></Response>", 1, "no number");

	/* Ten nouns are fine, eleven are not. */
	char xml[1024] = "<Response><Dial>";
	for (int i = 0; i < TWIML_TARGETS_MAX; i++)
		snprintf(xml + strlen(xml), sizeof(xml) - strlen(xml), "<Number>%d</Number>", i);
	strcat(xml, "</Dial></Response>");
	doc = parse_ok(xml);
	assert_int_equal(doc->verbs[0].u.dial.target_count, TWIML_TARGETS_MAX);
	twiml_doc_free(doc);
	strcpy(strstr(xml, "</Dial>"), "<Sip>sip:x@y</Sip></Dial></Response>");
	BAD(xml, 1, "more than 10 nouns");
}

static void test_record(void **state)
{
	struct twiml_doc *doc = parse_ok("<Response><Record/>"
					 "<Record maxLength=\"30\" timeout=\"0\" finishOnKey=\"#\" "
					 "playBeep=\"false\" trim=\"do-not-trim\" action=\"/rec\" "
					 "method=\"GET\"/>"
					 "<Record finishOnKey=\"\" trim=\"trim-silence\"/>"
					 "</Response>");
	assert_int_equal(doc->count, 3);
	assert_int_equal(doc->warnings, 0);
	const struct twiml_verb *r = &doc->verbs[0];
	assert_int_equal(r->kind, TWIML_RECORD);
	assert_int_equal(r->u.record.max_length_s, 3600);
	assert_int_equal(r->u.record.timeout_s, 5);
	assert_string_equal(r->u.record.finish_on_key, "1234567890*#");
	assert_true(r->u.record.play_beep);
	assert_true(r->u.record.trim_silence);
	assert_null(r->u.record.action);
	assert_int_equal(r->u.record.method, TWIML_POST);
	r = &doc->verbs[1];
	assert_int_equal(r->u.record.max_length_s, 30);
	assert_int_equal(r->u.record.timeout_s, 0);
	assert_string_equal(r->u.record.finish_on_key, "#");
	assert_false(r->u.record.play_beep);
	assert_false(r->u.record.trim_silence);
	assert_string_equal(r->u.record.action, "/rec");
	assert_int_equal(r->u.record.method, TWIML_GET);
	assert_string_equal(doc->verbs[2].u.record.finish_on_key, "");
	assert_true(doc->verbs[2].u.record.trim_silence);
	twiml_doc_free(doc);
}

static void test_redirect_hangup_reject(void **state)
{
	struct twiml_doc *doc = parse_ok("<Response>"
					 "<Redirect>\n  /next.xml\n</Redirect>"
					 "<Redirect method=\"get\">https://app.test/b</Redirect>"
					 "<Hangup/><Reject/><Reject reason=\"busy\"/>"
					 "<Reject reason=\"rejected\"/>"
					 "</Response>");
	assert_int_equal(doc->count, 6);
	assert_int_equal(doc->warnings, 0);
	assert_int_equal(doc->verbs[0].kind, TWIML_REDIRECT);
	assert_string_equal(doc->verbs[0].u.redirect.url, "/next.xml");
	assert_int_equal(doc->verbs[0].u.redirect.method, TWIML_POST);
	assert_int_equal(doc->verbs[1].u.redirect.method, TWIML_GET);
	assert_int_equal(doc->verbs[2].kind, TWIML_HANGUP);
	assert_int_equal(doc->verbs[3].kind, TWIML_REJECT);
	assert_false(doc->verbs[3].u.reject.busy);
	assert_true(doc->verbs[4].u.reject.busy);
	assert_false(doc->verbs[5].u.reject.busy);
	twiml_doc_free(doc);
	BAD("<Response>\n\n<Redirect> </Redirect></Response>", 3, "without a URL");
	BAD("<Response><Play/></Response>", 1, "without a URL or digits");
}

static void test_bad_values_warn(void **state)
{
	/* Each bad value warns once and the default stands. */
	struct twiml_doc *doc =
	    parse_ok("<Response>"
		     "<Say loop=\"-1\" rate=\"fast\">a</Say>"
		     "<Play loop=\"1001\" digits=\"12x\">/a.wav</Play>"
		     "<Pause length=\"601\"/>"
		     "<Gather numDigits=\"x\" timeout=\"0\" finishOnKey=\"##\" "
		     "input=\"voice\" method=\"PUT\" actionOnEmptyResult=\"yes\" "
		     "action=\"\" hints=\"a,b\"/>"
		     "<Dial timeout=\"601\" timeLimit=\"0\" record=\"always\" "
		     "hangupOnStar=\"1\" callerId=\"\" answerOnBridge=\"true\">"
		     "<Number sendDigits=\"abc\" url=\"/whisper\">123</Number>"
		     "<Sip username=\"u\">sip:a@b</Sip></Dial>"
		     "<Record maxLength=\"0\" timeout=\"99999999999\" "
		     "finishOnKey=\"ab\" playBeep=\"maybe\" trim=\"some\" "
		     "transcribe=\"true\"/>"
		     "<Reject reason=\"because\"/>"
		     "<Hangup now=\"yes\"/>"
		     "<Redirect method=\"DELETE\">/x</Redirect>"
		     "</Response>");
	assert_int_equal(doc->count, 9);
	/* say 2, play 2, pause 1, gather 8, dial 6 + Number 2 + Sip 1,
	 * record 6, reject 1, hangup 1, redirect 1 */
	assert_int_equal(doc->warnings, 31);
	const struct twiml_verb *v = doc->verbs;
	assert_int_equal(v[0].u.say.loop, 1);
	assert_int_equal(v[1].u.play.loop, 1);
	assert_null(v[1].u.play.digits);
	assert_int_equal(v[2].u.pause.length_s, 1);
	assert_int_equal(v[3].u.gather.num_digits, 0);
	assert_int_equal(v[3].u.gather.timeout_s, 5);
	assert_string_equal(v[3].u.gather.finish_on_key, "#");
	assert_true(v[3].u.gather.dtmf);
	assert_false(v[3].u.gather.speech);
	assert_int_equal(v[3].u.gather.method, TWIML_POST);
	assert_false(v[3].u.gather.action_on_empty_result);
	assert_null(v[3].u.gather.action);
	assert_int_equal(v[4].u.dial.timeout_s, 30);
	assert_int_equal(v[4].u.dial.time_limit_s, 14400);
	assert_int_equal(v[4].u.dial.record, TWIML_DIAL_RECORD_NONE);
	assert_false(v[4].u.dial.hangup_on_star);
	assert_null(v[4].u.dial.caller_id);
	assert_int_equal(v[4].u.dial.target_count, 2);
	assert_null(v[4].u.dial.targets[0].send_digits);
	assert_int_equal(v[5].u.record.max_length_s, 3600);
	assert_int_equal(v[5].u.record.timeout_s, 5);
	assert_string_equal(v[5].u.record.finish_on_key, "1234567890*#");
	assert_true(v[5].u.record.play_beep);
	assert_true(v[5].u.record.trim_silence);
	assert_false(v[6].u.reject.busy);
	assert_int_equal(v[8].u.redirect.method, TWIML_POST);
	twiml_doc_free(doc);
}

static void test_unknown_skipped(void **state)
{
	struct twiml_doc *doc = parse_ok("<Response lang=\"x\">\n"
					 "  stray text\n"
					 "  <Enqueue>support</Enqueue>\n"
					 "  <!-- a comment -->\n"
					 "  <say>lower case is not Say</say>\n"
					 "  <Gather><Sms>x</Sms><Say>in</Say></Gather>\n"
					 "  <Hangup/>\n"
					 "</Response>");
	/* attribute, text, Enqueue, say, Sms */
	assert_int_equal(doc->warnings, 5);
	assert_int_equal(doc->count, 2);
	assert_int_equal(doc->verbs[0].kind, TWIML_GATHER);
	assert_int_equal(doc->verbs[0].u.gather.nested_count, 1);
	assert_int_equal(doc->verbs[1].kind, TWIML_HANGUP);
	assert_int_equal(doc->verbs[1].line, 7);
	twiml_doc_free(doc);
}

static void test_malformed(void **state)
{
	BAD("", 1, "empty");
	parse_bad("<Response/>", 0, 1, "empty");
	BAD("Hello, this is not XML", 1, "");
	BAD("<html><body>502 Bad Gateway</body></html>", 1, "not <Response>");
	BAD("<Response>\n<Say>unclosed\n</Response>", 3, "");
	BAD("<Response>\n<Say>truncated", 2, "");
	BAD("<Response><Say>a</Say></Response><Response/>", 1, "");
	BAD("<?xml version=\"1.0\"?>\n<response><Say>x</Say></response>", 2, "<response>");
	BAD("<Response><Say>&undefined;</Say></Response>", 1, "");
	/* A NUL inside the declared length. */
	parse_bad("<Response>\0</Response>", 22, 1, "");
}

static void test_dtd_refused(void **state)
{
	BAD("<?xml version=\"1.0\"?>\n<!DOCTYPE Response>\n<Response/>", 2, "DTD");
	BAD("<!DOCTYPE lolz [\n"
	    " <!ENTITY lol \"lol\">\n"
	    " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "]>\n"
	    "<Response><Say>&lol3;</Say></Response>",
	    1, "DTD");
	BAD("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
	    "<Response><Say>&x;</Say></Response>",
	    1, "DTD");
	BAD("<!DOCTYPE Response SYSTEM \"http://127.0.0.1:1/x.dtd\"><Response/>", 1, "DTD");
}

static void test_out_of_place(void **state)
{
	BAD("<Response>\n<Number>+15551234567</Number></Response>", 2, "only allowed in <Dial>");
	BAD("<Response><Sip>sip:a@b</Sip></Response>", 1, "<Sip>");
	BAD("<Response><Gather>\n<Dial>123</Dial></Gather></Response>", 2,
	    "<Dial> is not allowed in <Gather>");
	BAD("<Response><Gather><Gather/></Gather></Response>", 1, "<Gather> is not allowed");
	BAD("<Response><Gather><Record/></Gather></Response>", 1, "not allowed in <Gather>");
	BAD("<Response><Gather><Number>1</Number></Gather></Response>", 1, "only allowed");
}

static void test_limits(void **state)
{
	struct buf b;
	struct twiml_doc *doc;

	/* TWIML_VERBS_MAX verbs pass, one more fails. */
	buf_init(&b);
	buf_append_cstr(&b, "<Response>");
	for (int i = 0; i < TWIML_VERBS_MAX; i++)
		buf_append_cstr(&b, "<Pause/>");
	buf_append_cstr(&b, "</Response>");
	doc = parse_ok(b.p);
	assert_int_equal(doc->count, TWIML_VERBS_MAX);
	twiml_doc_free(doc);
	buf_reset(&b);
	buf_append_cstr(&b, "<Response>");
	for (int i = 0; i <= TWIML_VERBS_MAX; i++)
		buf_append_cstr(&b, "<Pause/>");
	buf_append_cstr(&b, "</Response>");
	BAD(b.p, 1, "more than 256 verbs");

	/* Nested verbs count too. */
	buf_reset(&b);
	buf_append_cstr(&b, "<Response>");
	for (int i = 0; i < TWIML_VERBS_MAX / 4; i++)
		buf_append_cstr(&b, "<Gather><Pause/><Pause/><Pause/><Pause/></Gather>");
	buf_append_cstr(&b, "</Response>");
	BAD(b.p, 1, "more than 256 verbs");

	/* Sixteen verbs in one Gather, not seventeen. */
	buf_reset(&b);
	buf_append_cstr(&b, "<Response><Gather>");
	for (int i = 0; i < TWIML_NESTED_MAX; i++)
		buf_append_cstr(&b, "<Say>x</Say>");
	buf_append_cstr(&b, "</Gather></Response>");
	doc = parse_ok(b.p);
	assert_int_equal(doc->verbs[0].u.gather.nested_count, TWIML_NESTED_MAX);
	twiml_doc_free(doc);
	buf_reset(&b);
	buf_append_cstr(&b, "<Response><Gather>");
	for (int i = 0; i <= TWIML_NESTED_MAX; i++)
		buf_append_cstr(&b, "<Say>x</Say>");
	buf_append_cstr(&b, "</Gather></Response>");
	BAD(b.p, 1, "more than 16 verbs in <Gather>");

	/* Depth: SSML inside a nested Say passes, deeper fails. */
	doc = parse_ok("<Response><Gather><Say><prosody rate=\"slow\"><emphasis>hi</emphasis>"
		       "</prosody></Say></Gather></Response>");
	assert_string_equal(doc->verbs[0].u.gather.nested[0].u.say.text, "hi");
	twiml_doc_free(doc);
	buf_reset(&b);
	buf_append_cstr(&b, "<Response><Say>");
	for (int i = 0; i < 500; i++)
		buf_append_cstr(&b, "<s>");
	for (int i = 0; i < 500; i++)
		buf_append_cstr(&b, "</s>");
	buf_append_cstr(&b, "</Say></Response>");
	/* libxml2 itself stops at 256 levels; either way, refused. */
	struct twiml_doc *d2 = NULL;
	char err[256];
	assert_int_equal(twiml_parse(b.p, b.len, NULL, &d2, err, sizeof(err)), -EINVAL);
	assert_null(d2);
	buf_reset(&b);
	buf_append_cstr(&b, "<Response><Say>");
	for (int i = 0; i < TWIML_DEPTH_MAX; i++)
		buf_append_cstr(&b, "<s>");
	for (int i = 0; i < TWIML_DEPTH_MAX; i++)
		buf_append_cstr(&b, "</s>");
	buf_append_cstr(&b, "</Say></Response>");
	BAD(b.p, 1, "nested more than 10 deep");
	/* Exactly ten levels with text at the bottom pass; an element after
	 * that text, one level deeper, does not. */
	buf_reset(&b);
	buf_append_cstr(&b, "<Response><Say>");
	for (int i = 0; i < TWIML_DEPTH_MAX - 2; i++)
		buf_append_cstr(&b, "<s>");
	buf_append_cstr(&b, "deep");
	for (int i = 0; i < TWIML_DEPTH_MAX - 2; i++)
		buf_append_cstr(&b, "</s>");
	buf_append_cstr(&b, "</Say></Response>");
	doc = parse_ok(b.p);
	assert_string_equal(doc->verbs[0].u.say.text, "deep");
	twiml_doc_free(doc);
	buf_reset(&b);
	buf_append_cstr(&b, "<Response><Say>");
	for (int i = 0; i < TWIML_DEPTH_MAX - 2; i++)
		buf_append_cstr(&b, "<s>");
	buf_append_cstr(&b, "deep<s/>");
	for (int i = 0; i < TWIML_DEPTH_MAX - 2; i++)
		buf_append_cstr(&b, "</s>");
	buf_append_cstr(&b, "</Say></Response>");
	BAD(b.p, 1, "nested more than 10 deep");

	/* Huge text: kept whole. */
	buf_reset(&b);
	buf_append_cstr(&b, "<Response><Say>");
	for (int i = 0; i < 6000; i++)
		buf_append_cstr(&b, "blah blah ");
	buf_append_cstr(&b, "</Say></Response>");
	doc = parse_ok(b.p);
	assert_int_equal(strlen(doc->verbs[0].u.say.text), 6000 * 10 - 1);
	twiml_doc_free(doc);
	buf_fini(&b);
}

static void test_method_parse(void **state)
{
	enum twiml_method m = TWIML_POST;

	assert_int_equal(twiml_method_parse("get", &m), 0);
	assert_int_equal(m, TWIML_GET);
	assert_int_equal(twiml_method_parse("POST", &m), 0);
	assert_int_equal(m, TWIML_POST);
	assert_int_equal(twiml_method_parse("PUT", &m), -EINVAL);
	assert_int_equal(twiml_method_parse("", &m), -EINVAL);
	assert_int_equal(twiml_method_parse("GETX", &m), -EINVAL);
	assert_int_equal(m, TWIML_POST);
}

int main(void)
{
	/* Warnings are the point of several tests; keep the output short. */
	log_set_level(getenv("TWIML_DEBUG") ? LOG_DEBUG : LOG_ERR);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_response),
	    cmocka_unit_test(test_say),
	    cmocka_unit_test(test_play_pause),
	    cmocka_unit_test(test_gather),
	    cmocka_unit_test(test_dial),
	    cmocka_unit_test(test_dial_nouns_skipped),
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_redirect_hangup_reject),
	    cmocka_unit_test(test_bad_values_warn),
	    cmocka_unit_test(test_unknown_skipped),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_dtd_refused),
	    cmocka_unit_test(test_out_of_place),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_method_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
