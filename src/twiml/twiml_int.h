/*
 * twiml internals: the parsed document (parse.c, pure), request parameters
 * and their signature (params.c, pure), URL resolution (url.c, pure) and the
 * executor (exec.c), which alone touches channels.
 */
#ifndef IRISX_TWIML_INT_H
#define IRISX_TWIML_INT_H

#include "base/base.h"
#include "twiml/twiml.h"

/* ---- the document (parse.c) ---- */

enum twiml_verb_kind {
	TWIML_SAY,
	TWIML_PLAY,
	TWIML_PAUSE,
	TWIML_GATHER,
	TWIML_DIAL,
	TWIML_RECORD,
	TWIML_REDIRECT,
	TWIML_HANGUP,
	TWIML_REJECT,
};

enum {
	TWIML_LOOP_FOREVER = 1000, /* loop="0": as many times as this */
	TWIML_NESTED_MAX = 16,	   /* verbs inside one Gather */
	TWIML_TARGETS_MAX = 10,	   /* nouns inside one Dial (Twilio's limit) */
	TWIML_VERBS_MAX = 256,	   /* verbs in one document */
	TWIML_DEPTH_MAX = 10,	   /* elements nested, <Response> counted */
};

enum twiml_method { TWIML_POST, TWIML_GET };

/* Dial's record attribute. */
enum twiml_dial_record {
	TWIML_DIAL_RECORD_NONE,	       /* do-not-record (default) */
	TWIML_DIAL_RECORD_ANSWER,      /* record-from-answer */
	TWIML_DIAL_RECORD_RINGING,     /* record-from-ringing */
	TWIML_DIAL_RECORD_ANSWER_DUAL, /* record-from-answer-dual (stereo) */
	TWIML_DIAL_RECORD_RINGING_DUAL /* record-from-ringing-dual */
};

enum twiml_target_kind { TWIML_TARGET_NUMBER, TWIML_TARGET_SIP };

struct twiml_target {
	enum twiml_target_kind kind;
	const char *address; /* the number ("+15551234567": blanks and -().
			      * removed) or "sip:…" URI */
	const char *send_digits; /* Number's sendDigits, or NULL */
};

/*
 * One verb. Strings point into the document's arena, trimmed of blanks,
 * never NULL unless said; attributes absent take Twilio's defaults, noted
 * below. A URL attribute is as written (relative ones are resolved by the
 * executor against the document's URL); NULL when absent.
 */
struct twiml_verb {
	enum twiml_verb_kind kind;
	unsigned line; /* in the document, for messages */
	union {
		struct {
			const char *text;     /* the words ("" allowed: nothing said) */
			const char *voice;    /* "man", "woman", "alice", "Polly.Joanna"…; "" absent */
			const char *language; /* "en-US"…; "" absent */
			uint32_t loop;	      /* 1; 0 written → TWIML_LOOP_FOREVER */
		} say;
		struct {
			const char *url;    /* "" when only digits are given */
			const char *digits; /* DTMF to send ("w" = 0.5 s pause), or NULL */
			uint32_t loop;	    /* 1; 0 → TWIML_LOOP_FOREVER */
		} play;
		struct {
			uint32_t length_s; /* 1 */
		} pause;
		struct {
			bool dtmf, speech;   /* input="dtmf" (default), "speech", "dtmf speech" */
			uint32_t num_digits; /* 0: unlimited (until finishOnKey or timeout) */
			uint32_t timeout_s;  /* 5 */
			char finish_on_key[2]; /* "#" by default; "" when written empty */
			const char *action;    /* NULL: the document's own URL */
			enum twiml_method method; /* POST */
			bool action_on_empty_result; /* false */
			struct twiml_verb *nested;   /* Say, Play, Pause only */
			size_t nested_count;
		} gather;
		struct {
			uint32_t timeout_s;    /* 30 (ring time) */
			uint32_t time_limit_s; /* 14400 */
			const char *caller_id; /* NULL: the caller's */
			const char *action;    /* NULL: go on with the next verb */
			enum twiml_method method;
			enum twiml_dial_record record;
			bool hangup_on_star;
			struct twiml_target *targets; /* a bare number in <Dial> is one Number */
			size_t target_count;	      /* ≥ 1 */
		} dial;
		struct {
			uint32_t max_length_s; /* 3600 */
			uint32_t timeout_s;    /* silence that ends it: 5; 0 never */
			const char *finish_on_key; /* "1234567890*#" by default; "" none */
			bool play_beep;		   /* true */
			bool trim_silence;	   /* trim="trim-silence" (default) */
			const char *action;	   /* NULL: the document's own URL */
			enum twiml_method method;
		} record;
		struct {
			const char *url; /* the text */
			enum twiml_method method;
		} redirect;
		struct {
			bool busy; /* reason="busy"; otherwise "rejected" */
		} reject;
	} u;
};

struct twiml_doc {
	struct twiml_verb *verbs; /* top level, in order */
	size_t count;
	unsigned warnings; /* attributes or verbs ignored (logged at parse) */
	struct arena arena; /* everything */
};

/*
 * Parses a TwiML document. The root must be <Response>; unknown verbs and
 * attributes are skipped with a warning (as Twilio, which warns and goes
 * on); a bad attribute value (numDigits="x") warns and takes the default.
 * Nouns in the wrong place (a <Number> outside <Dial>, a <Dial> inside
 * <Gather>) are errors. Returns 0, or -EINVAL (not well-formed XML, not
 * <Response>, too many verbs, too deep) with "line N: what" in err, or
 * -ENOMEM. `log_prefix` (the call's uuid, or NULL) goes before warnings.
 * Never reads outside [xml, xml+len): no DTD, no entities from outside, no
 * network.
 */
int twiml_parse(const char *xml, size_t len, const char *log_prefix, struct twiml_doc **out,
		char *err, size_t err_size);
void twiml_doc_free(struct twiml_doc *doc);

/* "POST"/"GET" (case-insensitive) → 0; other → -EINVAL. */
int twiml_method_parse(const char *s, enum twiml_method *out);

/* ---- request parameters and signature (params.c) ---- */

enum { TWIML_PARAMS_MAX = 48 };

/* An ordered set of name=value pairs; copies strings into its arena. */
struct twiml_params {
	struct {
		const char *name, *value;
	} p[TWIML_PARAMS_MAX];
	size_t count;
	struct arena arena;
};
void twiml_params_init(struct twiml_params *ps);
void twiml_params_fini(struct twiml_params *ps);
/* Sets name (replacing an existing value). 0, -ENOSPC, -ENOMEM. */
int twiml_params_set(struct twiml_params *ps, const char *name, const char *value);
/* The value, or NULL. */
const char *twiml_params_get(const struct twiml_params *ps, const char *name);
/* application/x-www-form-urlencoded in the set's order, appended to out:
 * RFC 3986 unreserved characters as they are, every other byte %XX. */
void twiml_params_encode(const struct twiml_params *ps, struct buf *out);
/*
 * Twilio's X-Twilio-Signature: base64(HMAC-SHA1(token, url + for every
 * parameter sorted by name (byte order): name + value)). For a GET, pass
 * the full URL with its query and ps NULL. Writes 28 characters and a NUL
 * into out. 0, -EINVAL (no token or URL) or -ENOMEM.
 */
int twiml_signature(const char *token, const char *url, const struct twiml_params *ps,
		    char out[29]);

/* ---- URLs (url.c) ---- */

/*
 * Resolves `ref` against `base` (RFC 3986 §5.2: absolute, scheme-relative
 * "//host/…", absolute-path "/…", relative path with "." and ".."
 * segments, query-only "?…"); the result goes to out. Only http and https
 * results are accepted. 0, -EINVAL (not an http(s) URL, or an empty
 * reference), -ENAMETOOLONG, -ENOMEM.
 */
int twiml_url_resolve(const char *base, const char *ref, char *out, size_t size);
/* base + "?" or "&" + query (GET requests). */
int twiml_url_with_query(const char *url, const char *query, char *out, size_t size);

#endif
