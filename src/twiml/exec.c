/*
 * A call running TwiML documents: the `webhook` application's state, the
 * requests for documents (signed, with the call's parameters and the last
 * verb's results), the fallback when a request fails, and the walk through
 * a document's verbs (verbs.c runs each one).
 *
 * The call's state lives in the channel's arena, so an operation's callback
 * never finds it gone; the callbacks of operations we replaced ourselves
 * are told apart by a token (the newest one counts). Whenever a request or
 * a download is in flight the call holds a wait on the channel: its end
 * (the channel hung up) cancels them, so that no fetch callback outlives
 * the channel.
 */
#define LOG_MODULE "twiml"
#include "dialplan/dialplan.h"
#include "exec_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct twiml__token {
	struct twiml__call *c;
	unsigned seq;
};

struct twiml__token *twiml__token(struct twiml__call *c)
{
	struct twiml__token *t = arena_alloc(&c->ch->arena, sizeof(*t));
	if (t) {
		t->c = c;
		t->seq = ++c->seq;
	}
	return t;
}

struct twiml__call *twiml__token_call(struct twiml__token *t)
{
	struct twiml__call *c = t->c;
	return t->seq == c->seq && !c->done ? c : NULL;
}

/* ---- finishing ---- */

static void release(struct twiml__call *c)
{
	if (c->op) {
		fetch_cancel(c->op);
		c->op = NULL;
	}
	twiml__audio_unwait(&c->audio_wait);
	if (c->orig) {
		core_originate_cancel(c->orig, CAUSE_ORIGINATOR_CANCEL);
		c->orig = NULL;
	}
	twiml__limit_stop(c);
	twiml__star_disarm(c);
	twiml_doc_free(c->doc);
	c->doc = NULL;
	c->verb = NULL;
	twiml_params_fini(&c->results);
}

void twiml__finish(struct twiml__call *c, int status)
{
	if (c->done)
		return;
	c->done = true;
	c->seq++; /* every operation of ours still ending is stale now */
	release(c);
	c->tw->stats.active--;
	if (c->waiting) {
		c->waiting = false;
		if (channel_up(c->ch))
			channel_stop_media(c->ch);
	}
	if (c->starting) {
		c->result = status < 0
				? status
				: (channel_up(c->ch) ? DIALPLAN_APP_DONE : DIALPLAN_APP_STOP);
		return;
	}
	if (c->cb)
		c->cb(c->ch, c->cb_arg, status);
}

void twiml__hangup(struct twiml__call *c, enum core_cause cause)
{
	if (channel_up(c->ch))
		channel_hangup(c->ch, cause);
	twiml__finish(c, 0);
}

struct twiml__call *twiml__op_end(struct channel *ch, void *token, int status)
{
	struct twiml__call *c = twiml__token_call(token);
	if (!c)
		return NULL;
	if (!channel_up(ch)) {
		twiml__finish(c, 0);
		return NULL;
	}
	if (status == -ECANCELED) {
		log_info("%s TwiML stopped from outside", ch->uuid);
		twiml__finish(c, -ECANCELED);
		return NULL;
	}
	return c;
}

/* ---- the wait that holds the channel ---- */

static void wait_cb(struct channel *ch, void *arg, int status)
{
	struct twiml__call *c = twiml__token_call(arg);
	if (!c)
		return;
	c->waiting = false;
	if (!channel_up(ch)) {
		log_info("%s hung up while waiting for the application", ch->uuid);
		twiml__finish(c, 0);
		return;
	}
	/* Stopped from outside (uuid_break, a transfer): the flow is over. */
	log_info("%s TwiML stopped: %s", ch->uuid, status ? strerror(-status) : "wait over");
	twiml__finish(c, status ? status : -ECANCELED);
}

int twiml__wait(struct twiml__call *c)
{
	if (c->waiting)
		return 0;
	struct twiml__token *t = twiml__token(c);
	if (!t)
		return -ENOMEM;
	int rc = channel_sleep(c->ch, UINT32_MAX, wait_cb, t);
	if (rc == 0)
		c->waiting = true;
	return rc;
}

/* A verb's operation takes over from the wait (a new operation replaces
 * it; its callback is made stale first). */
void twiml__wait_end(struct twiml__call *c)
{
	if (!c->waiting)
		return;
	c->waiting = false;
	c->seq++;
	channel_stop_media(c->ch);
}

int twiml__answer(struct twiml__call *c)
{
	if (channel_answered(c->ch))
		return 0;
	int rc = channel_answer(c->ch);
	if (rc)
		log_warn("%s cannot answer: %s", c->ch->uuid, strerror(-rc));
	return rc;
}

/* ---- requests ---- */

static void params_build(struct twiml__call *c, struct twiml_params *ps)
{
	struct channel *ch = c->ch;
	const char *from = ch->caller_id_number ? ch->caller_id_number : "";
	const char *to = ch->destination_number ? ch->destination_number : "";
	twiml_params_set(ps, "CallSid", ch->uuid);
	twiml_params_set(ps, "AccountSid", c->tw->set.account_sid);
	twiml_params_set(ps, "From", from);
	twiml_params_set(ps, "To", to);
	twiml_params_set(ps, "Caller", from);
	twiml_params_set(ps, "Called", to);
	if (ch->caller_id_name && *ch->caller_id_name)
		twiml_params_set(ps, "CallerName", ch->caller_id_name);
	twiml_params_set(ps, "Direction",
			 ch->direction == CHANNEL_INBOUND ? "inbound" : "outbound-api");
	twiml_params_set(ps, "CallStatus", channel_answered(ch) ? "in-progress" : "ringing");
	twiml_params_set(ps, "ApiVersion", "2010-04-01");
	if (ch->sip_call_id)
		twiml_params_set(ps, "SipCallId", ch->sip_call_id);
	for (size_t i = 0; i < c->results.count; i++)
		twiml_params_set(ps, c->results.p[i].name, c->results.p[i].value);
}

static void response_cb(void *arg, const struct fetch_response *r);

/* The verb's results were sent (or go nowhere): a later request must not carry them. */
static void results_drop(struct twiml__call *c)
{
	twiml_params_fini(&c->results);
	twiml_params_init(&c->results);
}

/* Sends the request described by c->req_*; 0 or a negative errno. */
static int request_send(struct twiml__call *c)
{
	struct twiml *tw = c->tw;
	struct twiml_params ps;
	struct buf body;
	char get_url[TWIML_URL_MAX + 4096];
	char sig_header[64];
	char sig[29];
	int rc;

	twiml_params_init(&ps);
	buf_init(&body);
	params_build(c, &ps);
	twiml_params_encode(&ps, &body);
	buf_append(&body, "", 1);
	struct fetch_request req = {
	    .timeout_ms = tw->set.timeout_ms,
	    .max_body = tw->set.max_document,
	};
	if (body.failed) {
		rc = -ENOMEM;
		goto out;
	}
	if (c->req_method == TWIML_GET) {
		rc = twiml_url_with_query(c->req_url, body.p, get_url, sizeof(get_url));
		if (rc)
			goto out;
		rc = twiml_signature(tw->set.auth_token, get_url, NULL, sig);
		req.url = get_url;
		req.method = "GET";
	} else {
		rc = twiml_signature(tw->set.auth_token, c->req_url, &ps, sig);
		req.url = c->req_url;
		req.method = "POST";
		req.body = body.p;
		req.body_len = body.len - 1;
		req.content_type = "application/x-www-form-urlencoded";
	}
	if (rc)
		goto out;
	snprintf(sig_header, sizeof(sig_header), "X-Twilio-Signature: %s", sig);
	req.headers[0] = sig_header;
	req.headers[1] = "Accept: application/xml, text/xml";
	rc = twiml__wait(c);
	if (rc)
		goto out;
	rc = fetch_start(tw->fetch, &req, response_cb, c, &c->op);
	if (rc == 0) {
		tw->stats.requests++;
		c->requests++;
		log_debug("%s %s %s", c->ch->uuid, req.method, c->req_url);
	}
out:
	buf_fini(&body);
	twiml_params_fini(&ps);
	return rc;
}

static void prompt_done_cb(struct channel *ch, void *arg, int status)
{
	struct twiml__call *c = twiml__token_call(arg);
	if (c)
		twiml__hangup(c, CAUSE_NORMAL_TEMPORARY_FAILURE);
}

/* The request failed (why): the fallback URL once, then the fallback prompt
 * and a hangup. */
static void request_failed(struct twiml__call *c, const char *why, int error_code)
{
	struct twiml *tw = c->tw;
	tw->stats.failures++;
	log_warn("%s TwiML request %s failed: %s", c->ch->uuid, c->req_url, why);
	if (!c->req_fallback && tw->set.fallback_url[0] && c->requests < tw->set.max_requests) {
		char code[16];
		snprintf(code, sizeof(code), "%d", error_code);
		twiml_params_set(&c->results, "ErrorCode", code);
		twiml_params_set(&c->results, "ErrorUrl", c->req_url);
		snprintf(c->req_url, sizeof(c->req_url), "%s", tw->set.fallback_url);
		c->req_method = TWIML_POST;
		c->req_fallback = true;
		tw->stats.fallbacks++;
		int rc = request_send(c);
		if (rc == 0)
			return;
		log_warn("%s fallback %s: %s", c->ch->uuid, c->req_url, strerror(-rc));
	}
	twiml_doc_free(c->doc);
	c->doc = NULL;
	c->verb = NULL;
	if (tw->set.fallback_prompt[0] && channel_up(c->ch) && twiml__answer(c) == 0) {
		twiml__wait_end(c);
		struct twiml__token *t = twiml__token(c);
		int rc =
		    t ? channel_play(c->ch, tw->set.fallback_prompt, prompt_done_cb, t) : -ENOMEM;
		if (rc == 0)
			return;
		log_warn("%s fallback prompt %s: %s", c->ch->uuid, tw->set.fallback_prompt,
			 strerror(-rc));
	}
	twiml__hangup(c, CAUSE_NORMAL_TEMPORARY_FAILURE);
}

static void response_cb(void *arg, const struct fetch_response *r)
{
	struct twiml__call *c = arg;
	char why[256];
	c->op = NULL;
	if (r->error) {
		snprintf(why, sizeof(why), "%s",
			 r->error_text ? r->error_text : strerror(-r->error));
		request_failed(c, why, 11200);
		return;
	}
	if (r->status < 200 || r->status > 299) {
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
		request_failed(c, why, 11200);
		return;
	}
	struct twiml_doc *doc = NULL;
	char err[200] = "";
	int rc =
	    twiml_parse(r->body ? r->body : "", r->body_len, c->ch->uuid, &doc, err, sizeof(err));
	if (rc) {
		snprintf(why, sizeof(why), "not a TwiML document: %s",
			 err[0] ? err : strerror(-rc));
		request_failed(c, why, 12100);
		return;
	}
	log_info("%s TwiML from %s: %zu verbs in %llu ms", c->ch->uuid, c->req_url, doc->count,
		 (unsigned long long)(r->elapsed_us / 1000));
	twiml_doc_free(c->doc);
	c->doc = doc;
	c->pc = 0;
	c->verb = NULL;
	c->req_fallback = false;
	/* Relative URLs in it resolve against where it came from. */
	snprintf(c->doc_url, sizeof(c->doc_url), "%s",
		 r->effective_url && *r->effective_url ? r->effective_url : c->req_url);
	if (c->req_method == TWIML_GET) {
		/* Not against our own parameters: the URL as asked for, its own
		 * query kept ("?lang=fr" + "&CallSid=…" → "?lang=fr"). */
		size_t n = strlen(c->req_url);
		if (strncmp(c->doc_url, c->req_url, n) == 0 &&
		    (c->doc_url[n] == '?' || c->doc_url[n] == '&'))
			c->doc_url[n] = '\0';
	}
	results_drop(c);
	twiml__next(c);
}

void twiml__request(struct twiml__call *c, const char *url, enum twiml_method method)
{
	if (c->requests >= c->tw->set.max_requests) {
		log_warn("%s %u TwiML documents requested: max-requests reached, hanging up",
			 c->ch->uuid, c->requests);
		twiml__hangup(c, CAUSE_NORMAL_CLEARING);
		return;
	}
	snprintf(c->req_url, sizeof(c->req_url), "%s", url);
	c->req_method = method;
	c->req_fallback = false;
	c->verb = NULL;
	int rc = request_send(c);
	if (rc) {
		char why[128];
		snprintf(why, sizeof(why), "cannot send: %s", strerror(-rc));
		request_failed(c, why, 11200);
	}
}

void twiml__action(struct twiml__call *c, const char *action, enum twiml_method method,
		   bool or_self)
{
	char url[TWIML_URL_MAX];
	if (!action) {
		if (!or_self) {
			results_drop(c);
			twiml__next(c);
			return;
		}
		action = c->doc_url;
	}
	int rc = twiml_url_resolve(c->doc_url, action, url, sizeof(url));
	if (rc) {
		log_warn("%s action '%s': not an http(s) URL: going on with the next verb",
			 c->ch->uuid, action);
		results_drop(c);
		twiml__next(c);
		return;
	}
	twiml__request(c, url, method);
}

void twiml__next(struct twiml__call *c)
{
	if (c->done)
		return;
	if (!channel_up(c->ch)) {
		twiml__finish(c, 0);
		return;
	}
	if (!c->doc || c->pc >= c->doc->count) {
		log_info("%s TwiML document over: hanging up", c->ch->uuid);
		twiml__hangup(c, CAUSE_NORMAL_CLEARING);
		return;
	}
	c->verb = &c->doc->verbs[c->pc++];
	c->round = 0;
	c->nested = 0;
	twiml__wait_end(c);
	twiml__verb_run(c);
}

/* ---- the application ---- */

/* webhook <url> [GET|POST] */
static int webhook_run(void *arg, struct channel *ch, const char *data, channel_done_cb cb,
		       void *cb_arg)
{
	(void)arg;
	struct twiml *tw = twiml__current();
	if (!tw) {
		log_warn("%s webhook: the TwiML engine is not running", ch->uuid);
		return -ENOTCONN;
	}
	char url[TWIML_URL_MAX], method_word[16] = "";
	struct str rest = str_trim(str_from_cstr(data));
	ptrdiff_t sp = str_find_char(rest, ' ');
	struct str u = sp < 0 ? rest : str_make(rest.p, (size_t)sp);
	struct str m = sp < 0 ? STR_NULL : str_trim(str_make(rest.p + sp, rest.len - (size_t)sp));
	enum twiml_method method = TWIML_POST;
	if (str_copy_cstr(u, url, sizeof(url)) != 0 ||
	    (m.len && (str_copy_cstr(m, method_word, sizeof(method_word)) != 0 ||
		       twiml_method_parse(method_word, &method) != 0))) {
		log_warn("%s webhook: '%s' is not <url> [GET|POST]", ch->uuid, data);
		return -EINVAL;
	}
	char resolved[TWIML_URL_MAX];
	if (twiml_url_resolve(url, url, resolved, sizeof(resolved)) != 0) {
		log_warn("%s webhook: '%s' is not an http(s) URL", ch->uuid, url);
		return -EINVAL;
	}
	struct twiml__call *c = arena_alloc(&ch->arena, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->tw = tw;
	c->ch = ch;
	c->cb = cb;
	c->cb_arg = cb_arg;
	twiml_params_init(&c->results);
	snprintf(c->doc_url, sizeof(c->doc_url), "%s", resolved);
	tw->stats.active++;
	c->starting = true;
	twiml__request(c, resolved, method);
	c->starting = false;
	return c->done ? c->result : DIALPLAN_APP_PENDING;
}

int twiml_app_register(void)
{
	int rc = dialplan_app_register("webhook", "<url> [GET|POST]", 0, webhook_run, NULL);
	return rc == -EEXIST ? 0 : rc;
}
