/*
 * TwiML documents: the bytes an application returns, parsed with libxml2
 * into struct twiml_doc, then the libxml2 tree is freed.
 *
 * The verb set and its defaults follow Twilio's TwiML Voice reference
 * (Say, Play, Pause, Gather, Dial with Number and Sip, Record, Redirect,
 * Hangup, Reject). Like Twilio, what irisx does not know (a verb, an
 * attribute, a value out of range) is a warning and the document goes on;
 * what cannot be run as written (a noun outside <Dial>, a verb that may
 * not nest where it is, a <Dial> with nobody to call) is an error.
 *
 * The input comes from the network: no network access, no DTD (a
 * <!DOCTYPE> stops the parse the moment it is seen, before its internal
 * subset can declare entities), no entity substitution, and caps on the
 * depth of elements and the number of verbs.
 */
#include "twiml_int.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "twiml"

/* The first libxml2 error of a parse, or the DTD refusal. */
struct xml_err {
	bool set;
	unsigned line;
	char msg[200];
};

/* One parse in progress. */
struct pctx {
	struct twiml_doc *doc;
	const char *prefix; /* before warnings: the call's uuid, or "" */
	char *err;
	size_t err_size;
	size_t verbs; /* parsed so far, nested ones included */
};

/* ---- messages ---- */

static unsigned node_line(const xmlNode *n)
{
	long l = xmlGetLineNo(n);
	return l > 0 ? (unsigned)l : 0;
}

static void warn(struct pctx *c, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct pctx *c, const xmlNode *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Values come from the network: no line breaks forged into the log. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	c->doc->warnings++;
	log_warn("%s%sTwiML line %u: %s", c->prefix, c->prefix[0] ? " " : "", node_line(n), msg);
}

static int fail(struct pctx *c, const xmlNode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct pctx *c, const xmlNode *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->err_size)
		snprintf(c->err, c->err_size, "line %u: %s", node_line(n), msg);
	return -EINVAL;
}

/* ---- libxml2 ---- */

static void xml_error_cb(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr px = ctx;
	struct xml_err *xe = px->_private;

	/* The first error explains; the rest follow from it. */
	if (xe->set || e->level < XML_ERR_ERROR)
		return;
	xe->set = true;
	xe->line = e->line > 0 ? (unsigned)e->line : 1;
	snprintf(xe->msg, sizeof(xe->msg), "%s", e->message ? e->message : "malformed XML");
	size_t n = strlen(xe->msg);
	while (n && (xe->msg[n - 1] == '\n' || xe->msg[n - 1] == ' '))
		xe->msg[--n] = '\0';
}

/* A <!DOCTYPE>: stop here, before the internal subset is read, so that no
 * entity is ever declared (let alone expanded a billion times). */
static void dtd_refuse_cb(void *ctx, const xmlChar *name, const xmlChar *ext_id,
			  const xmlChar *sys_id)
{
	xmlParserCtxtPtr px = ctx;
	struct xml_err *xe = px->_private;

	if (!xe->set) {
		xe->set = true;
		xe->line = px->input ? (unsigned)px->input->line : 1;
		snprintf(xe->msg, sizeof(xe->msg), "a DTD is not allowed in TwiML");
	}
	xmlStopParser(px);
}

static xmlDocPtr xml_read(const char *xml, size_t len, struct xml_err *xe, bool *nomem)
{
	memset(xe, 0, sizeof(*xe));
	*nomem = false;
	xmlParserCtxtPtr px = xmlNewParserCtxt();
	if (!px) {
		*nomem = true;
		return NULL;
	}
	px->_private = xe;
	px->sax->serror = xml_error_cb;
	px->sax->internalSubset = dtd_refuse_cb;
	/* NONET: nothing fetched; no NOENT, no DTDLOAD: no entity is
	 * substituted and no external subset read. */
	xmlDocPtr d = xmlCtxtReadMemory(px, xml, (int)len, "twiml.xml", NULL,
					XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_NOCDATA);
	if (d && (!px->wellFormed || xe->set || d->intSubset || d->extSubset)) {
		if (!xe->set) {
			xe->set = true;
			xe->line = 1;
			snprintf(xe->msg, sizeof(xe->msg), "%s",
				 d->intSubset || d->extSubset ? "a DTD is not allowed in TwiML"
							      : "malformed XML");
		}
		xmlFreeDoc(d);
		d = NULL;
	}
	if (!d && !xe->set) {
		xe->set = true;
		xe->line = 1;
		snprintf(xe->msg, sizeof(xe->msg), "malformed XML");
	}
	xmlFreeParserCtxt(px);
	return d;
}

/* ---- values ---- */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* A trimmed arena copy of an XML string (NULL: ""); NULL when out of memory. */
static char *dup_trimmed(struct pctx *c, const xmlChar *x)
{
	struct str s = str_trim(str_from_cstr((const char *)x));
	return arena_strndup(&c->doc->arena, s);
}

static char *attr_value(struct pctx *c, xmlAttr *a)
{
	xmlChar *x = xmlNodeListGetString(a->doc, a->children, 1);
	char *v = dup_trimmed(c, x);
	xmlFree(x);
	return v;
}

/* The element's text (descendants' text included: SSML inside <Say>). */
static char *node_text(struct pctx *c, xmlNode *n)
{
	xmlChar *x = xmlNodeGetContent(n);
	char *v = dup_trimmed(c, x);
	xmlFree(x);
	return v;
}

static void attr_u32(struct pctx *c, xmlNode *n, const char *name, const char *v, uint32_t min,
		     uint32_t max, uint32_t *out)
{
	uint32_t x;

	if (str_to_u32(str_from_cstr(v), &x) || x < min || x > max) {
		warn(c, n, "<%s %s=\"%s\">: not a number from %u to %u, %u used", n->name, name, v,
		     min, max, *out);
		return;
	}
	*out = x;
}

/* loop: 0 is "until the call ends", which irisx bounds. */
static void attr_loop(struct pctx *c, xmlNode *n, const char *v, uint32_t *out)
{
	uint32_t x = *out;

	attr_u32(c, n, "loop", v, 0, TWIML_LOOP_FOREVER, &x);
	*out = x == 0 ? TWIML_LOOP_FOREVER : x;
}

static void attr_bool(struct pctx *c, xmlNode *n, const char *name, const char *v, bool *out)
{
	if (strcasecmp(v, "true") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0)
		*out = false;
	else
		warn(c, n, "<%s %s=\"%s\">: not true or false, %s used", n->name, name, v,
		     *out ? "true" : "false");
}

static void attr_method(struct pctx *c, xmlNode *n, const char *v, enum twiml_method *out)
{
	if (twiml_method_parse(v, out))
		warn(c, n, "<%s method=\"%s\">: not GET or POST, %s used", n->name, v,
		     *out == TWIML_GET ? "GET" : "POST");
}

/* A URL as written; empty is as good as absent. */
static void attr_url(struct pctx *c, xmlNode *n, const char *name, const char *v, const char **out)
{
	if (!v[0]) {
		warn(c, n, "<%s %s=\"\">: empty URL ignored", n->name, name);
		return;
	}
	*out = v;
}

/* DTMF to send: digits, *, #, and w (half a second's wait). */
static bool digits_valid(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!strchr("0123456789*#wW", *s))
			return false;
	return true;
}

static void attr_ignored(struct pctx *c, xmlNode *n, const char *name)
{
	warn(c, n, "<%s>: attribute %s is not supported, ignored", n->name, name);
}

static bool name_is(const xmlNode *n, const char *name)
{
	return strcmp((const char *)n->name, name) == 0;
}

/* ---- verbs ---- */

static int parse_say(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.say.voice = "";
	v->u.say.language = "";
	v->u.say.loop = 1;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "voice") == 0)
			v->u.say.voice = val;
		else if (strcmp(name, "language") == 0)
			v->u.say.language = val;
		else if (strcmp(name, "loop") == 0)
			attr_loop(c, n, val, &v->u.say.loop);
		else
			attr_ignored(c, n, name);
	}
	v->u.say.text = node_text(c, n);
	return v->u.say.text ? 0 : -ENOMEM;
}

static int parse_play(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.play.loop = 1;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "loop") == 0)
			attr_loop(c, n, val, &v->u.play.loop);
		else if (strcmp(name, "digits") == 0) {
			if (digits_valid(val))
				v->u.play.digits = val;
			else
				warn(c, n, "<Play digits=\"%s\">: only 0-9, *, # and w, ignored",
				     val);
		} else
			attr_ignored(c, n, name);
	}
	v->u.play.url = node_text(c, n);
	if (!v->u.play.url)
		return -ENOMEM;
	if (!v->u.play.url[0] && !v->u.play.digits)
		return fail(c, n, "<Play> without a URL or digits");
	return 0;
}

static int parse_pause(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.pause.length_s = 1;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "length") == 0)
			attr_u32(c, n, name, val, 0, 600, &v->u.pause.length_s);
		else
			attr_ignored(c, n, name);
	}
	return 0;
}

static void gather_input(struct pctx *c, xmlNode *n, const char *val, struct twiml_verb *v)
{
	bool dtmf = false, speech = false;
	struct str rest = str_from_cstr(val);

	while (rest.len) {
		size_t i = 0;
		while (i < rest.len && !is_blank(rest.p[i]))
			i++;
		struct str tok = str_make(rest.p, i);
		if (str_eq(tok, STR("dtmf")))
			dtmf = true;
		else if (str_eq(tok, STR("speech")))
			speech = true;
		else if (tok.len) {
			warn(c, n, "<Gather input=\"%s\">: not dtmf, speech or both, dtmf used",
			     val);
			return;
		}
		rest = str_trim(str_make(rest.p + i, rest.len - i));
	}
	if (!dtmf && !speech) {
		warn(c, n, "<Gather input=\"\">: dtmf used");
		return;
	}
	v->u.gather.dtmf = dtmf;
	v->u.gather.speech = speech;
}

static int parse_verb(struct pctx *c, xmlNode *n, struct twiml_verb *v, bool nested);

static int gather_nested(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	size_t slots = 0;
	for (xmlNode *k = n->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE)
			slots++;
	if (slots > TWIML_NESTED_MAX)
		slots = TWIML_NESTED_MAX;
	if (slots) {
		v->u.gather.nested = arena_alloc(&c->doc->arena, slots * sizeof(struct twiml_verb));
		if (!v->u.gather.nested)
			return -ENOMEM;
	}
	for (xmlNode *k = n->children; k; k = k->next) {
		if (k->type != XML_ELEMENT_NODE)
			continue;
		if (!name_is(k, "Say") && !name_is(k, "Play") && !name_is(k, "Pause")) {
			/* Refused, or unknown and skipped with a warning. */
			int rc = parse_verb(c, k, NULL, true);
			if (rc != -ENOENT)
				return rc;
			continue;
		}
		if (v->u.gather.nested_count == TWIML_NESTED_MAX)
			return fail(c, k, "more than %d verbs in <Gather>", TWIML_NESTED_MAX);
		int rc = parse_verb(c, k, &v->u.gather.nested[v->u.gather.nested_count], true);
		if (rc)
			return rc;
		v->u.gather.nested_count++;
	}
	return 0;
}

static int parse_gather(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.gather.dtmf = true;
	v->u.gather.timeout_s = 5;
	v->u.gather.finish_on_key[0] = '#';
	v->u.gather.method = TWIML_POST;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "input") == 0)
			gather_input(c, n, val, v);
		else if (strcmp(name, "numDigits") == 0)
			attr_u32(c, n, name, val, 1, 128, &v->u.gather.num_digits);
		else if (strcmp(name, "timeout") == 0)
			attr_u32(c, n, name, val, 1, 600, &v->u.gather.timeout_s);
		else if (strcmp(name, "finishOnKey") == 0) {
			if (!val[0] || (!val[1] && strchr("0123456789*#", val[0])))
				memcpy(v->u.gather.finish_on_key, val, strlen(val) + 1);
			else
				warn(c, n,
				     "<Gather finishOnKey=\"%s\">: not one of 0-9, * or #, "
				     "# used",
				     val);
		} else if (strcmp(name, "action") == 0)
			attr_url(c, n, name, val, &v->u.gather.action);
		else if (strcmp(name, "method") == 0)
			attr_method(c, n, val, &v->u.gather.method);
		else if (strcmp(name, "actionOnEmptyResult") == 0)
			attr_bool(c, n, name, val, &v->u.gather.action_on_empty_result);
		else
			attr_ignored(c, n, name);
	}
	return gather_nested(c, n, v);
}

/* A number as people write it: "+1 (555) 123-4567" → "+15551234567". */
static int dial_number(struct pctx *c, xmlNode *n, const char *text, const char *send_digits,
		       struct twiml_verb *v)
{
	size_t len = strlen(text);
	char *num = arena_alloc(&c->doc->arena, len + 1);
	size_t o = 0;

	if (!num)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		if (!is_blank(text[i]) && !strchr("-().", text[i]))
			num[o++] = text[i];
	num[o] = '\0';
	bool ok = o > 0;
	for (size_t i = 0; i < o && ok; i++)
		ok = (num[i] >= '0' && num[i] <= '9') || num[i] == '*' || num[i] == '#' ||
		     (i == 0 && num[i] == '+' && o > 1);
	if (!ok) {
		warn(c, n, "\"%s\" in <%s>: not a phone number, skipped", text, n->name);
		return 0;
	}
	if (v->u.dial.target_count == TWIML_TARGETS_MAX)
		return fail(c, n, "more than %d nouns in <Dial>", TWIML_TARGETS_MAX);
	struct twiml_target *t = &v->u.dial.targets[v->u.dial.target_count++];
	t->kind = TWIML_TARGET_NUMBER;
	t->address = num;
	t->send_digits = send_digits;
	return 0;
}

static int dial_noun_number(struct pctx *c, xmlNode *k, struct twiml_verb *v)
{
	const char *send_digits = NULL;
	for (xmlAttr *a = k->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "sendDigits") == 0) {
			if (digits_valid(val))
				send_digits = val;
			else
				warn(c, k,
				     "<Number sendDigits=\"%s\">: only 0-9, *, # and w, "
				     "ignored",
				     val);
		} else
			attr_ignored(c, k, name);
	}
	const char *text = node_text(c, k);
	if (!text)
		return -ENOMEM;
	return dial_number(c, k, text, send_digits, v);
}

static int dial_noun_sip(struct pctx *c, xmlNode *k, struct twiml_verb *v)
{
	for (xmlAttr *a = k->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		attr_ignored(c, k, name);
	}
	const char *uri = node_text(c, k);
	if (!uri)
		return -ENOMEM;
	struct str s = str_from_cstr(uri);
	bool ok = (str_starts_with_i(s, "sip:") && s.len > 4) ||
		  (str_starts_with_i(s, "sips:") && s.len > 5);
	for (size_t i = 0; i < s.len && ok; i++)
		ok = !is_blank(s.p[i]) && (unsigned char)s.p[i] > 0x20 && s.p[i] != 0x7f;
	if (!ok) {
		warn(c, k, "<Sip>%s</Sip>: not a sip: URI, skipped", uri);
		return 0;
	}
	if (v->u.dial.target_count == TWIML_TARGETS_MAX)
		return fail(c, k, "more than %d nouns in <Dial>", TWIML_TARGETS_MAX);
	struct twiml_target *t = &v->u.dial.targets[v->u.dial.target_count++];
	t->kind = TWIML_TARGET_SIP;
	t->address = uri;
	return 0;
}

static void dial_record(struct pctx *c, xmlNode *n, const char *val, struct twiml_verb *v)
{
	static const struct {
		const char *name;
		enum twiml_dial_record value;
	} modes[] = {
	    {"do-not-record", TWIML_DIAL_RECORD_NONE},
	    {"false", TWIML_DIAL_RECORD_NONE},
	    {"record-from-answer", TWIML_DIAL_RECORD_ANSWER},
	    {"true", TWIML_DIAL_RECORD_ANSWER}, /* the older boolean form */
	    {"record-from-ringing", TWIML_DIAL_RECORD_RINGING},
	    {"record-from-answer-dual", TWIML_DIAL_RECORD_ANSWER_DUAL},
	    {"record-from-ringing-dual", TWIML_DIAL_RECORD_RINGING_DUAL},
	};
	for (size_t i = 0; i < ARRAY_LEN(modes); i++)
		if (strcmp(val, modes[i].name) == 0) {
			v->u.dial.record = modes[i].value;
			return;
		}
	warn(c, n, "<Dial record=\"%s\">: unknown, do-not-record used", val);
}

static int dial_targets(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.dial.targets =
	    arena_alloc(&c->doc->arena, TWIML_TARGETS_MAX * sizeof(struct twiml_target));
	if (!v->u.dial.targets)
		return -ENOMEM;
	for (xmlNode *k = n->children; k; k = k->next) {
		int rc = 0;
		if (k->type == XML_TEXT_NODE) {
			const char *text = dup_trimmed(c, k->content);
			if (!text)
				return -ENOMEM;
			if (text[0])
				rc = dial_number(c, n, text, NULL, v);
		} else if (k->type != XML_ELEMENT_NODE) {
			continue;
		} else if (name_is(k, "Number")) {
			rc = dial_noun_number(c, k, v);
		} else if (name_is(k, "Sip")) {
			rc = dial_noun_sip(c, k, v);
		} else {
			warn(c, k, "<Dial><%s>: not supported, skipped", k->name);
		}
		if (rc)
			return rc;
	}
	if (!v->u.dial.target_count)
		return fail(c, n, "<Dial> has no number or SIP URI to call");
	return 0;
}

static int parse_dial(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.dial.timeout_s = 30;
	v->u.dial.time_limit_s = 14400;
	v->u.dial.method = TWIML_POST;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "timeout") == 0)
			attr_u32(c, n, name, val, 1, 600, &v->u.dial.timeout_s);
		else if (strcmp(name, "timeLimit") == 0)
			attr_u32(c, n, name, val, 1, 86400, &v->u.dial.time_limit_s);
		else if (strcmp(name, "callerId") == 0) {
			if (val[0])
				v->u.dial.caller_id = val;
			else
				warn(c, n, "<Dial callerId=\"\">: ignored");
		} else if (strcmp(name, "action") == 0)
			attr_url(c, n, name, val, &v->u.dial.action);
		else if (strcmp(name, "method") == 0)
			attr_method(c, n, val, &v->u.dial.method);
		else if (strcmp(name, "record") == 0)
			dial_record(c, n, val, v);
		else if (strcmp(name, "hangupOnStar") == 0)
			attr_bool(c, n, name, val, &v->u.dial.hangup_on_star);
		else
			attr_ignored(c, n, name);
	}
	return dial_targets(c, n, v);
}

static int parse_record(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.record.max_length_s = 3600;
	v->u.record.timeout_s = 5;
	v->u.record.finish_on_key = "1234567890*#";
	v->u.record.play_beep = true;
	v->u.record.trim_silence = true;
	v->u.record.method = TWIML_POST;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "maxLength") == 0)
			attr_u32(c, n, name, val, 1, 14400, &v->u.record.max_length_s);
		else if (strcmp(name, "timeout") == 0)
			attr_u32(c, n, name, val, 0, 600, &v->u.record.timeout_s);
		else if (strcmp(name, "finishOnKey") == 0) {
			if (strspn(val, "0123456789*#") == strlen(val))
				v->u.record.finish_on_key = val;
			else
				warn(c, n,
				     "<Record finishOnKey=\"%s\">: only 0-9, * and #, "
				     "1234567890*# used",
				     val);
		} else if (strcmp(name, "playBeep") == 0)
			attr_bool(c, n, name, val, &v->u.record.play_beep);
		else if (strcmp(name, "trim") == 0) {
			if (strcmp(val, "trim-silence") == 0)
				v->u.record.trim_silence = true;
			else if (strcmp(val, "do-not-trim") == 0)
				v->u.record.trim_silence = false;
			else
				warn(c, n, "<Record trim=\"%s\">: unknown, trim-silence used", val);
		} else if (strcmp(name, "action") == 0)
			attr_url(c, n, name, val, &v->u.record.action);
		else if (strcmp(name, "method") == 0)
			attr_method(c, n, val, &v->u.record.method);
		else
			attr_ignored(c, n, name);
	}
	return 0;
}

static int parse_redirect(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	v->u.redirect.method = TWIML_POST;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "method") == 0)
			attr_method(c, n, val, &v->u.redirect.method);
		else
			attr_ignored(c, n, name);
	}
	v->u.redirect.url = node_text(c, n);
	if (!v->u.redirect.url)
		return -ENOMEM;
	if (!v->u.redirect.url[0])
		return fail(c, n, "<Redirect> without a URL");
	return 0;
}

static int parse_hangup(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		attr_ignored(c, n, name);
	}
	return 0;
}

static int parse_reject(struct pctx *c, xmlNode *n, struct twiml_verb *v)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		if (strcmp(name, "reason") == 0) {
			if (strcmp(val, "busy") == 0)
				v->u.reject.busy = true;
			else if (strcmp(val, "rejected") != 0)
				warn(c, n,
				     "<Reject reason=\"%s\">: not busy or rejected, rejected "
				     "used",
				     val);
		} else
			attr_ignored(c, n, name);
	}
	return 0;
}

static const struct {
	const char *name;
	enum twiml_verb_kind kind;
	bool nests; /* may appear inside <Gather> */
	int (*parse)(struct pctx *c, xmlNode *n, struct twiml_verb *v);
} verbs[] = {
    {"Say", TWIML_SAY, true, parse_say},
    {"Play", TWIML_PLAY, true, parse_play},
    {"Pause", TWIML_PAUSE, true, parse_pause},
    {"Gather", TWIML_GATHER, false, parse_gather},
    {"Dial", TWIML_DIAL, false, parse_dial},
    {"Record", TWIML_RECORD, false, parse_record},
    {"Redirect", TWIML_REDIRECT, false, parse_redirect},
    {"Hangup", TWIML_HANGUP, false, parse_hangup},
    {"Reject", TWIML_REJECT, false, parse_reject},
};

/* Dial's nouns, out of place wherever else they appear. */
static bool is_noun(const xmlNode *n)
{
	static const char *const nouns[] = {"Number", "Sip", "Client",	   "Conference",
					    "Queue",  "Sim", "Application"};
	for (size_t i = 0; i < ARRAY_LEN(nouns); i++)
		if (name_is(n, nouns[i]))
			return true;
	return false;
}

/*
 * One element where a verb may stand (nested: inside <Gather>) into v.
 * 0 (v filled), -ENOENT (an unknown element, skipped with a warning), or
 * an error. With v NULL the caller knows the element cannot be a verb
 * there, and learns whether it is refused or skipped.
 */
static int parse_verb(struct pctx *c, xmlNode *n, struct twiml_verb *v, bool nested)
{
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++) {
		if (!name_is(n, verbs[i].name))
			continue;
		if (nested && !verbs[i].nests)
			return fail(c, n, "<%s> is not allowed in <Gather>", n->name);
		if (!v)
			return -ENOENT;
		if (++c->verbs > TWIML_VERBS_MAX)
			return fail(c, n, "more than %d verbs", TWIML_VERBS_MAX);
		memset(v, 0, sizeof(*v));
		v->kind = verbs[i].kind;
		v->line = node_line(n);
		return verbs[i].parse(c, n, v);
	}
	if (is_noun(n))
		return fail(c, n, "<%s> is only allowed in <Dial>", n->name);
	warn(c, n, "<%s>: unknown verb, skipped", n->name);
	return -ENOENT;
}

/* Deeper than any document Twilio would run (SSML inside <Say> inside
 * <Gather> is 5); walked without recursion. */
static int check_depth(struct pctx *c, xmlNode *root)
{
	unsigned depth = 1;
	xmlNode *n = root;

	for (;;) {
		if (n->type == XML_ELEMENT_NODE && depth > TWIML_DEPTH_MAX)
			return fail(c, n, "elements nested more than %d deep", TWIML_DEPTH_MAX);
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			depth++;
			continue;
		}
		while (n != root && !n->next) {
			n = n->parent;
			depth--;
		}
		if (n == root)
			return 0;
		n = n->next;
	}
}

static int parse_response(struct pctx *c, xmlNode *root)
{
	size_t elements = 0;

	if (!name_is(root, "Response"))
		return fail(c, root, "the root element is <%s>, not <Response>", root->name);
	int rc = check_depth(c, root);
	if (rc)
		return rc;
	for (xmlNode *k = root->children; k; k = k->next)
		if (k->type == XML_ELEMENT_NODE && ++elements > TWIML_VERBS_MAX)
			return fail(c, k, "more than %d verbs", TWIML_VERBS_MAX);
	if (elements) {
		c->doc->verbs = arena_alloc(&c->doc->arena, elements * sizeof(struct twiml_verb));
		if (!c->doc->verbs)
			return -ENOMEM;
	}
	for (xmlAttr *a = root->properties; a; a = a->next) {
		const char *name = (const char *)a->name;
		const char *val = attr_value(c, a);
		if (!val)
			return -ENOMEM;
		attr_ignored(c, root, name);
	}
	for (xmlNode *k = root->children; k; k = k->next) {
		if (k->type == XML_TEXT_NODE) {
			struct str t = str_trim(str_from_cstr((const char *)k->content));
			if (t.len)
				warn(c, k, "text outside any verb ignored");
			continue;
		}
		if (k->type != XML_ELEMENT_NODE)
			continue;
		rc = parse_verb(c, k, &c->doc->verbs[c->doc->count], false);
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		c->doc->count++;
	}
	return 0;
}

int twiml_parse(const char *xml, size_t len, const char *log_prefix, struct twiml_doc **out,
		char *err, size_t err_size)
{
	struct pctx c = {.prefix = log_prefix ? log_prefix : "", .err = err, .err_size = err_size};
	struct xml_err xe;
	bool nomem;

	if (err && err_size)
		err[0] = '\0';
	if (!out || (!xml && len))
		return -EINVAL;
	if (len == 0 || len > INT32_MAX) {
		if (err && err_size)
			snprintf(err, err_size, "line 1: %s",
				 len ? "document too large" : "empty document");
		return -EINVAL;
	}
	xmlDocPtr x = xml_read(xml, len, &xe, &nomem);
	if (!x) {
		if (nomem)
			return -ENOMEM;
		if (err && err_size)
			snprintf(err, err_size, "line %u: %s", xe.line, xe.msg);
		return -EINVAL;
	}
	c.doc = calloc(1, sizeof(*c.doc));
	if (!c.doc) {
		xmlFreeDoc(x);
		return -ENOMEM;
	}
	arena_init(&c.doc->arena, 0);
	xmlNode *root = xmlDocGetRootElement(x);
	int rc = root ? parse_response(&c, root) : -EINVAL;
	if (!root && err && err_size)
		snprintf(err, err_size, "line 1: no root element");
	xmlFreeDoc(x);
	if (rc) {
		if (rc == -ENOMEM && err && err_size)
			snprintf(err, err_size, "out of memory");
		twiml_doc_free(c.doc);
		return rc;
	}
	*out = c.doc;
	return 0;
}

void twiml_doc_free(struct twiml_doc *doc)
{
	if (!doc)
		return;
	arena_fini(&doc->arena);
	free(doc);
}

int twiml_method_parse(const char *s, enum twiml_method *out)
{
	if (!s || !out)
		return -EINVAL;
	if (strcasecmp(s, "POST") == 0)
		*out = TWIML_POST;
	else if (strcasecmp(s, "GET") == 0)
		*out = TWIML_GET;
	else
		return -EINVAL;
	return 0;
}
