/*
 * libFuzzer target for TwiML documents: twiml_parse on the bytes as an
 * application would return them, then every string of the result walked
 * and resolved as the executor will resolve it.
 *
 * Besides "no crash, no leak, no undefined behaviour", it aborts when an
 * invariant breaks:
 *  - a failure is -EINVAL with "line N: …" in err (no -ENOMEM here), and
 *    hands nothing out;
 *  - a document holds at most TWIML_VERBS_MAX verbs, a Gather at most
 *    TWIML_NESTED_MAX (Say, Play, Pause only), a Dial 1 to
 *    TWIML_TARGETS_MAX targets with an address;
 *  - every number is within the bounds the parser promises;
 *  - a URL that resolves is an http(s) URL that resolves to itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twiml/twiml_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char BASE[] = "https://app.test/ivr/menu.xml?step=1";

static void check_url(const char *ref)
{
	char out[2048], again[2048];

	if (!ref)
		return;
	int rc = twiml_url_resolve(BASE, ref, out, sizeof(out));
	if (rc == -EINVAL || rc == -ENAMETOOLONG)
		return;
	if (rc != 0)
		abort();
	if (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)
		abort();
	/* A resolved URL is absolute: resolving it again changes nothing. */
	if (twiml_url_resolve(BASE, out, again, sizeof(again)) != 0 || strcmp(out, again) != 0)
		abort();
}

static void check_str(const char *s)
{
	if (!s || strlen(s) > 70000)
		abort();
}

static void check_verb(const struct twiml_verb *v, bool nested)
{
	switch (v->kind) {
	case TWIML_SAY:
		check_str(v->u.say.text);
		check_str(v->u.say.voice);
		check_str(v->u.say.language);
		if (v->u.say.loop < 1 || v->u.say.loop > TWIML_LOOP_FOREVER)
			abort();
		break;
	case TWIML_PLAY:
		check_str(v->u.play.url);
		if (!v->u.play.url[0] && !v->u.play.digits)
			abort();
		if (v->u.play.loop < 1 || v->u.play.loop > TWIML_LOOP_FOREVER)
			abort();
		if (v->u.play.url[0])
			check_url(v->u.play.url);
		break;
	case TWIML_PAUSE:
		if (v->u.pause.length_s > 600)
			abort();
		break;
	case TWIML_GATHER:
		if (nested || v->u.gather.nested_count > TWIML_NESTED_MAX)
			abort();
		if (!v->u.gather.dtmf && !v->u.gather.speech)
			abort();
		if (v->u.gather.num_digits > 128 || v->u.gather.timeout_s < 1 ||
		    strlen(v->u.gather.finish_on_key) > 1)
			abort();
		check_url(v->u.gather.action);
		for (size_t i = 0; i < v->u.gather.nested_count; i++) {
			enum twiml_verb_kind k = v->u.gather.nested[i].kind;
			if (k != TWIML_SAY && k != TWIML_PLAY && k != TWIML_PAUSE)
				abort();
			check_verb(&v->u.gather.nested[i], true);
		}
		break;
	case TWIML_DIAL:
		if (nested || v->u.dial.target_count < 1 ||
		    v->u.dial.target_count > TWIML_TARGETS_MAX)
			abort();
		for (size_t i = 0; i < v->u.dial.target_count; i++)
			if (!v->u.dial.targets[i].address || !v->u.dial.targets[i].address[0])
				abort();
		check_url(v->u.dial.action);
		break;
	case TWIML_RECORD:
		if (nested || v->u.record.max_length_s < 1 || v->u.record.max_length_s > 14400)
			abort();
		check_str(v->u.record.finish_on_key);
		check_url(v->u.record.action);
		break;
	case TWIML_REDIRECT:
		if (nested || !v->u.redirect.url || !v->u.redirect.url[0])
			abort();
		check_url(v->u.redirect.url);
		break;
	case TWIML_HANGUP:
	case TWIML_REJECT:
		if (nested)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct twiml_doc *doc = NULL;
	char err[256];

	if (!quiet) {
		log_set_level(LOG_ERR); /* warnings are the normal case here */
		quiet = true;
	}
	int rc = twiml_parse((const char *)data, size, "fuzz", &doc, err, sizeof(err));
	if (rc != 0) {
		if (rc != -EINVAL || doc || strncmp(err, "line ", 5) != 0)
			abort();
		return 0;
	}
	if (!doc || doc->count > TWIML_VERBS_MAX)
		abort();
	for (size_t i = 0; i < doc->count; i++)
		check_verb(&doc->verbs[i], false);
	twiml_doc_free(doc);
	return 0;
}
