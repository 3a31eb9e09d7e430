/*
 * The executor's internals, shared by twiml.c (the engine and the
 * application), exec.c (a call's documents and requests), verbs.c (each
 * verb on the channel) and audio.c (<Play> URLs downloaded once).
 */
#ifndef IRISX_TWIML_EXEC_INT_H
#define IRISX_TWIML_EXEC_INT_H

#include "core/core.h"
#include "fetch/fetch.h"
#include "twiml_int.h"

#include <uv.h>

/* ---- <Play> audio: each URL downloaded once into the cache (audio.c) ---- */

struct twiml__audio;

/* A call waiting for a download; embedded in the call. */
struct twiml__audio_wait {
	struct twiml__audio_wait *next;
	struct twiml__audio *audio; /* NULL when not waiting */
	/* path NULL: the download failed (err); the path lives until the next
	 * turn of the loop: copy it or play it at once. */
	void (*cb)(void *arg, const char *path, int err);
	void *arg;
};

struct twiml__audio_cache {
	struct twiml *tw;
	struct hmap entries; /* by URL */
	size_t count;
	uint64_t clock; /* insertion order, for eviction */
};

enum { TWIML_AUDIO_MAX_BYTES = 32 << 20, TWIML_AUDIO_ENTRIES_MAX = 1000 };

void twiml__audio_init(struct twiml__audio_cache *c, struct twiml *tw);
void twiml__audio_fini(struct twiml__audio_cache *c);
/*
 * The cached file of `url`: 1 with its path in out when it is there; 0
 * when it is being downloaded (w->cb runs once, later); a negative errno.
 */
int twiml__audio_get(struct twiml__audio_cache *c, const char *url, struct twiml__audio_wait *w,
		     char *out, size_t size);
/* Stops waiting (the callback will not run). Nothing when not waiting. */
void twiml__audio_unwait(struct twiml__audio_wait *w);
/* Removes a file in libuv's thread pool (nobody waits for it). */
void twiml__file_remove(uv_loop_t *loop, const char *path);

/* ---- the engine (twiml.c) ---- */

struct twiml {
	uv_loop_t *loop;
	struct core *core;
	struct fetch *fetch;
	struct twiml_settings set;
	struct twiml_stats stats;
	struct twiml__audio_cache audio;
	struct core_collector *collector;
	struct core_sub *sub;	 /* DTMF events, for hangupOnStar */
	struct hmap star_calls; /* calls bridged by a <Dial hangupOnStar>, by uuid */
};

/* The engine the `webhook` application runs on (one per process). */
struct twiml *twiml__current(void);

/* ---- one call running documents (exec.c, verbs.c) ---- */

struct twiml__limit;
struct twiml__call;
/* Dial's hangupOnStar: a '*' from the caller while bridged hangs B up. */
void twiml__star_arm(struct twiml__call *c);
void twiml__star_disarm(struct twiml__call *c);
/* Dial's timeLimit: B is hung up after `ms` unless stopped first. */
int twiml__limit_start(struct twiml__call *c, uint32_t ms);
void twiml__limit_stop(struct twiml__call *c);

enum { TWIML_URL_MAX = 2048 };

struct twiml__call {
	struct twiml *tw;
	struct channel *ch;
	channel_done_cb cb; /* the dialplan's */
	void *cb_arg;
	bool starting; /* inside the application's run: cb must not run yet */
	bool done;
	int result; /* what finishing while starting returns */

	char doc_url[TWIML_URL_MAX]; /* the running document's URL: base of relative ones */
	struct twiml_doc *doc;
	size_t pc;		       /* the next verb */
	const struct twiml_verb *verb; /* running, or NULL */
	uint32_t round;		       /* Say/Play loop done so far */
	size_t nested;		       /* Gather: the next nested verb */
	unsigned requests;	       /* documents requested */

	/* the request in flight */
	struct fetch_op *op;
	char req_url[TWIML_URL_MAX];
	enum twiml_method req_method;
	bool req_fallback;	     /* it is the fallback's */
	struct twiml_params results; /* the verb's results sent with it */

	/* operations held on the channel: each gets a token; a callback whose
	 * token is not the newest is stale */
	unsigned seq;
	bool waiting; /* a wait (sleep) holds the channel while nothing else does */

	struct twiml__audio_wait audio_wait;
	struct channel_collect collect;
	struct channel_record_read rec;
	unsigned rec_count;

	/* <Dial> */
	struct hmap_node star_node; /* in star_calls while armed */
	bool star_armed;
	struct core_originate *orig;
	char dial_uuid[UUID_STRLEN];
	uint64_t bridged_us; /* 0: not bridged */
	const char *dial_status;
	struct twiml__limit *dial_limit; /* timeLimit's timer while bridged, or NULL */
	char dial_recording[256];	 /* relative to the recordings directory, "" none */
	char dial_recording_abs[4096];	 /* resolved */
};

/* exec.c */
/* Requests `url` (already resolved) with the call's parameters and the
 * results gathered in c->results; the answer's document replaces the one
 * running. */
void twiml__request(struct twiml__call *c, const char *url, enum twiml_method method);
/* The verb's action: resolved against the document's URL (NULL: the
 * document's own URL when `or_self`, else the next verb runs). */
void twiml__action(struct twiml__call *c, const char *action, enum twiml_method method,
		   bool or_self);
/* Runs the next verb (hangs up at the end of the document). */
void twiml__next(struct twiml__call *c);
/* The call is over for the application: the dialplan gets status. */
void twiml__finish(struct twiml__call *c, int status);
/* Holds the channel with a wait while nothing else does (a request, a
 * download), so that a hangup is noticed. */
int twiml__wait(struct twiml__call *c);
/* The operation of a verb takes over from the wait. */
void twiml__wait_end(struct twiml__call *c);
/* Hangs the call up (if still up) and finishes. */
void twiml__hangup(struct twiml__call *c, enum core_cause cause);
/* A token for an operation's callback; NULL when out of memory. */
struct twiml__token *twiml__token(struct twiml__call *c);
/* The callback's token is the newest: the call, else NULL (stale). */
struct twiml__call *twiml__token_call(struct twiml__token *t);
/*
 * The start of a verb operation's callback: the call, or NULL when there
 * is nothing left to do here — a stale token, or the call finished because
 * the channel hung up (status 0) or the operation was stopped from outside
 * (uuid_break, a transfer: -ECANCELED).
 */
struct twiml__call *twiml__op_end(struct channel *ch, void *token, int status);
/* Answers an unanswered inbound call before a verb that needs media. */
int twiml__answer(struct twiml__call *c);

/* verbs.c: runs c->verb; it goes on with twiml__next, twiml__action or
 * twiml__finish, at once or from an operation's callback. */
void twiml__verb_run(struct twiml__call *c);

#endif
