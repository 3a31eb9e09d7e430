/*
 * twiml — call flows driven by an application over HTTP, in Twilio's
 * TwiML verb set.
 *
 * The dialplan application `webhook <url> [GET|POST]` hands the call to an
 * application: irisx requests the URL with the call's parameters (CallSid =
 * the uuid, AccountSid, From, To, Caller, Called, Direction, CallStatus,
 * ApiVersion, and the results of the verb that asked: Digits,
 * RecordingUrl, DialCallStatus, …), signed as Twilio signs them
 * (X-Twilio-Signature), and runs the <Response> document it returns: Say,
 * Play, Pause, Gather (with nested Say/Play/Pause), Dial (Number, Sip),
 * Record, Redirect, Hangup, Reject. A verb with an action URL posts its
 * results there and the document returned replaces the one running.
 *
 * Nothing waits on the loop: documents and audio are fetched with fetch
 * (libcurl on the loop), verbs run as the channel's asynchronous
 * operations. A request that fails (timeout, connection, non-2xx) or a
 * document that is not TwiML goes to the fallback URL (once per request),
 * then the fallback prompt, then a clean hangup — each logged with the
 * reason.
 *
 * Configuration, read at start-up: autoload_configs/twiml.conf.xml
 * <settings> (all optional):
 *   auth-token          the signing key (default: generated once into
 *                       <state dir>/twiml_auth_token, mode 0600)
 *   account-sid         AccountSid sent (default: "AC" + 32 hex digits
 *                       derived from the auth token, stable)
 *   timeout-ms          per request (5000)
 *   fallback-url        requested when a document request fails ("")
 *   fallback-prompt     played when the fallback fails too, before the
 *                       hangup (a playback spec; "" none)
 *   max-document-bytes  (65536)
 *   max-requests        documents one call may fetch (100: a Redirect loop
 *                       ends there)
 *   recording-url-base  RecordingUrl = base + the recording's path relative
 *                       to the recordings directory ("": file://<path>)
 *   dial-gateway        <Number> dials sofia/gateway/<gw>/<number> ("":
 *                       <Number> fails)
 *   dial-profile        <Sip> dials sofia/<profile>/<uri> ("external")
 *   audio-cache-dir     where <Play> URLs are downloaded (<state dir>/cache/twiml)
 */
#ifndef IRISX_TWIML_H
#define IRISX_TWIML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct core;
struct uv_loop_s;

struct twiml_settings {
	char auth_token[128];
	char account_sid[64];
	uint32_t timeout_ms;
	char fallback_url[1024];
	char fallback_prompt[1024];
	size_t max_document;
	uint32_t max_requests;
	char recording_url_base[1024];
	char dial_gateway[128];
	char dial_profile[64];
	char audio_cache_dir[1024];
};

/* Reads twiml.conf (missing: the defaults; the auth token generated into
 * state_dir when none is configured). 0, or -EINVAL with "file:line:
 * message" in err. */
int twiml_settings_load(struct twiml_settings *out, const struct config *cfg, const char *state_dir,
			char *err, size_t err_size);

/* Registers the dialplan application `webhook` (before any dialplan is
 * loaded, `-t` included; once per process). 0 or a negative errno. */
int twiml_app_register(void);

struct twiml;

/*
 * Creates the engine on `loop`: from now on `webhook` runs on it (one
 * engine per process). 0 or a negative errno.
 */
int twiml_create(struct twiml **out, struct uv_loop_s *loop, struct core *core,
		 const struct twiml_settings *settings);
/* After the core's shutdown is over (no call runs a document any more) and
 * before core_destroy (the engine's metrics collector is the core's). The
 * loop must run once more for the handles to close. */
void twiml_destroy(struct twiml *t);

struct twiml_stats {
	uint64_t requests;  /* documents requested (actions and redirects included) */
	uint64_t failures;  /* requests that failed or returned no valid TwiML */
	uint64_t fallbacks; /* fallback URLs requested */
	uint64_t active;    /* calls running a document now */
};
void twiml_stats_get(const struct twiml *t, struct twiml_stats *out);

#endif
