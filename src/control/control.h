/*
 * The control doors of irisx. For now: the Event Socket, inbound and outbound
 * (the socket application) modes, wire
 * compatible with FreeSWITCH's mod_event_socket (docs/ESL.md lists every
 * command and what is not supported yet).
 *
 * The wire format: a client command is a line, optional "Name: value"
 * header lines and an empty line (LF, CRLF accepted); a Content-Length
 * header announces a body of that many bytes. Server frames are headers
 * (Content-Type first), an empty line and a body when Content-Length says so.
 *
 * Threading: everything runs on the loop given to esl_create().
 *
 * And the HTTP API (http.c, docs/API.md): REST resources over the same
 * command registry and event bus, served by libmicrohttpd on its own thread
 * that hands each request to the loop given to http_create().
 */
#ifndef IRISX_CONTROL_H
#define IRISX_CONTROL_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the pure frame parser (esl_parse.c) ---- */

enum {
	ESL_HEADERS_MAX = 64,
	ESL_HEAD_MAX = 64 * 1024,   /* command line and headers */
	ESL_BODY_MAX = 1024 * 1024, /* what a Content-Length may announce */
};

struct esl_header {
	struct str name; /* slices into the parsed bytes */
	struct str value;
};

struct esl_frame {
	struct str line; /* the command line ("api status"), without CR/LF */
	struct esl_header headers[ESL_HEADERS_MAX];
	size_t header_count;
	struct str body; /* empty without Content-Length */
	size_t consumed; /* bytes of input this frame used (leading blank lines too) */
};

/*
 * Parses one client frame from the start of `p`. Returns 0 (out filled, its
 * slices point into p), -EAGAIN when more bytes are needed, -EBADMSG when the
 * frame is malformed (a header line without ':', a bad or too large
 * Content-Length, too many headers, a head longer than ESL_HEAD_MAX). Blank
 * lines before a frame are skipped and counted in consumed; when p holds only
 * those, returns -EAGAIN with out->consumed set so the caller may drop them.
 */
int esl_frame_parse(const char *p, size_t len, struct esl_frame *out);
/* The first header of that name (case-insensitive), or NULL. */
const struct str *esl_frame_header(const struct esl_frame *f, const char *name);
/* Splits "verb rest" at the first run of blanks; rest is trimmed. */
void esl_line_split(struct str line, struct str *verb, struct str *rest);
/* The next blank-separated word of *s (advancing it); false at the end. */
bool esl_word_next(struct str *s, struct str *word);

/*
 * The arguments of `filter`, as mod_event_socket reads them:
 *   filter <header> <value>           add (value: the rest of the line, trimmed)
 *   filter delete <header> [<value>]  delete that header's filters (with that
 *                                     value only, when given)
 *   filter delete all                 delete every filter
 * A value written /.../ (at least two bytes, a slash at each end) is a PCRE2
 * regular expression: `pattern` is what lies between the slashes; otherwise
 * the value must equal the header's. Header names compare case-insensitively.
 */
enum esl_filter_op { ESL_FILTER_ADD, ESL_FILTER_DELETE, ESL_FILTER_DELETE_ALL };

struct esl_filter_args {
	enum esl_filter_op op;
	struct str header;  /* slices into the arguments */
	struct str value;   /* as written (slashes included); empty: any (delete) */
	struct str pattern; /* the regex between the slashes, when is_regex */
	bool is_regex;
};

/* 0, or -EINVAL for a missing header or value. Pure. */
int esl_filter_args_parse(struct str args, struct esl_filter_args *out);

/* ---- the server (esl.c, esl_conn.c, esl_cmd.c) ---- */

struct core;
struct config;
struct dialplan;
struct acl_set;
struct uv_loop_s;

enum { ESL_QUEUE_MAX_DEFAULT = 10000 };

struct esl_settings {
	char listen_ip[64];	    /* "127.0.0.1" */
	uint16_t listen_port;	    /* 8021; 0 picks a free port (tests) */
	char password[128];	    /* never empty once read */
	char inbound_acl[256];	    /* apply-inbound-acl, "" when unset */
	const struct acl_set *acls; /* borrowed (the configuration's), may be NULL */
	uint32_t queue_max;	    /* events queued per connection (10000) */
};

/*
 * Reads event_socket.conf's <settings> from cfg (missing section: the
 * defaults). Without a password param, reads <state_dir>/esl_password or, at
 * the first start, writes a random one there (mode 0600) and logs where.
 * "ClueCon" is refused unless allow-default-password is true. Returns 0,
 * -EINVAL with "file:line: message" in err, or the errno of the state file.
 */
int esl_settings_load(struct esl_settings *out, const struct config *cfg, const char *state_dir,
		      char *err, size_t err_size);

struct esl;

/*
 * Adds the `socket <host:port> [async] [full]` dialplan application
 * (outbound mode, esl_outbound.c) to the dialplan's registry. Call once at
 * start-up, before any dialplan is loaded; the application then connects
 * for the server esl_create() made (without one it fails -ENOTCONN and the
 * dialplan goes on). 0 or a negative errno.
 */
int esl_apps_register(void);

/*
 * Listens on settings' address. `dp` may be NULL (sendmsg execute then
 * answers -ERR). Returns 0 or a negative errno (the bind's).
 */
int esl_create(struct esl **out, struct uv_loop_s *loop, struct core *core, struct dialplan *dp,
	       const struct esl_settings *settings);
/* The port listened on (useful after listen_port 0). */
uint16_t esl_port(const struct esl *esl);
/*
 * Stops listening, drops every connection and pending background job, and
 * unsubscribes from the core. Memory is released from the handles' close
 * callbacks: the loop must run once more after this (main calls it before
 * core_shutdown).
 */
void esl_destroy(struct esl *esl);

/* Counters, for tests and the status command. */
struct esl_stats {
	uint64_t connections;	 /* accepted so far */
	uint64_t events_dropped; /* over every connection's queue cap */
	uint64_t events_sent;
};
void esl_stats_get(const struct esl *esl, struct esl_stats *out);

/* ---- the HTTP API (http.c, http_route.c, http_rest.c) ---- */

enum {
	HTTP_TOKENS_MAX = 16,
	HTTP_MAX_BODY_DEFAULT = 64 * 1024,
	HTTP_RATE_DEFAULT = 200, /* requests a second per token */
	HTTP_BURST_DEFAULT = 400,
};

struct http_settings {
	char listen_ip[64];   /* "127.0.0.1" */
	uint16_t listen_port; /* 8080; 0 picks a free port (tests) */
	char tokens[HTTP_TOKENS_MAX][128]; /* api-token params; never none once loaded */
	size_t token_count;
	char cors_origin[256]; /* "" : no CORS headers */
	size_t max_body;       /* bytes (max-body; 413 past it) */
	uint32_t rate;	       /* rate-limit: requests a second per token, 0: unlimited */
	uint32_t burst;	       /* rate-burst: the bucket's size */
	bool enabled;	       /* false: http.conf.xml says enabled=false */
	/* The CDR store's SQLite database GET /v1/cdrs reads (set by main.c
	 * from cdr.conf, not read from http.conf); "": no SQLite sink, 503. */
	char cdr_sqlite_path[1024];
};

/*
 * Reads http.conf's <settings> from cfg (missing section: the defaults).
 * Without an api-token param, reads <state_dir>/http_token or writes a new
 * one there (mode 0600) at the first start and logs where. Returns 0,
 * -EINVAL with "file:line: message" in err, or the state file's errno.
 */
int http_settings_load(struct http_settings *out, const struct config *cfg, const char *state_dir,
		       char *err, size_t err_size);

struct http;

/*
 * Starts libmicrohttpd's thread listening on settings' address, with the REST
 * resources registered. `dp` may be NULL (calls then cannot run {context,
 * extension}). Returns 0 or a negative errno (-EADDRINUSE…).
 */
int http_create(struct http **out, struct uv_loop_s *loop, struct core *core, struct dialplan *dp,
		const struct http_settings *settings);
/* The port listened on (useful after listen_port 0). */
uint16_t http_port(const struct http *h);
/*
 * From the loop: answers what is in progress with 503, stops MHD's thread
 * (joined here) and closes the async handle; the memory goes from its close
 * callback, so the loop must run once more.
 */
void http_destroy(struct http *h);

struct http_stats {
	uint64_t requests;     /* handed to the loop */
	uint64_t unauthorized; /* 401 */
	uint64_t limited;      /* 429 */
};
void http_stats_get(const struct http *h, struct http_stats *out);
/* ======================================================================== */
/* Call status webhooks (webhook.c, webhook_body.c)                          */
/* ======================================================================== */

/*
 * A call with a status callback URL (the channel variable status_callback,
 * or http.conf's default) has its progress POSTed (or GET) to it:
 * initiated, ringing, answered, completed, in that order, each once. The
 * URL is settled when the dialplan first runs an application other than
 * set/export/unset/multiset (or at the next status, or at once for a leg
 * created with the variable): a dialplan's `set status_callback=…` decides
 * where even "initiated" goes, and statuses wait until then. Deliveries run through
 * libcurl's multi interface on the core's loop: nothing waits for a
 * receiver. A delivery that fails (no 2xx, timeout, connection refused) is
 * tried again after retry-ms, then twice that…, `tries` times in all; a
 * call's next status waits for the one before. At most queue_max
 * deliveries wait at once across all calls; past that new ones are dropped
 * and counted.
 *
 * Channel variables: status_callback (URL), status_callback_method (POST,
 * GET), status_callback_format (form, json). http.conf.xml <settings>:
 * status-callback, status-callback-method, status-callback-format,
 * status-callback-tries (3), status-callback-retry-ms (1000),
 * status-callback-timeout-ms (5000), status-callback-queue-max (1000).
 */
enum webhook_format { WEBHOOK_FORM, WEBHOOK_JSON };
enum webhook_status { WEBHOOK_INITIATED, WEBHOOK_RINGING, WEBHOOK_ANSWERED, WEBHOOK_COMPLETED };

struct webhook_settings {
	char url[1024];	 /* the default; "" for none */
	bool get;	 /* GET with the fields in the query; false: POST */
	enum webhook_format format;
	uint32_t tries;	     /* 3 */
	uint32_t retry_ms;   /* first back-off, doubled each time (1000) */
	uint32_t timeout_ms; /* per try (5000) */
	uint32_t queue_max;  /* deliveries waiting or in flight (1000) */
};

/* Reads http.conf's <settings> (missing: the defaults). 0, or -EINVAL with
 * "file:line: message" in err. */
int webhook_settings_load(struct webhook_settings *out, const struct config *cfg, char *err,
			  size_t err_size);
/* "initiated", "ringing", "answered", "completed". */
const char *webhook_status_name(enum webhook_status s);
/* 0 and the format for "form"/"json" (case-insensitive), -EINVAL otherwise. */
int webhook_format_parse(const char *s, enum webhook_format *out);

/* What one callback reports. Strings borrowed; NULL prints as empty. */
struct webhook_report {
	const char *uuid;
	enum webhook_status status;
	uint32_t sequence; /* 0, 1, 2… per call */
	const char *direction; /* "inbound", "outbound" */
	const char *from, *to;
	uint64_t timestamp_us; /* when the status happened (wall clock) */
	/* completed only */
	uint64_t duration_s; /* from creation to hangup */
	uint64_t billsec;    /* from answer to hangup, 0 unanswered */
	const char *hangup_cause;
	unsigned hangup_cause_q850;
};
/*
 * The body (form: application/x-www-form-urlencoded, json: an object):
 * CallSid, CallStatus, SequenceNumber, Direction, From, To, Timestamp (µs)
 * and, for completed, CallDuration, BillSec, HangupCause, HangupCauseCode.
 */
void webhook_report_print(const struct webhook_report *r, enum webhook_format format,
			  struct buf *out);

struct webhook;
struct webhook_stats {
	uint64_t delivered; /* 2xx received */
	uint64_t retried;   /* tries after a failure */
	uint64_t failed;    /* given up after every try */
	uint64_t dropped;   /* over queue_max */
	uint64_t pending;   /* waiting or in flight now */
};

/* Subscribes to the core's events. 0 or a negative errno. */
int webhook_create(struct webhook **out, struct uv_loop_s *loop, struct core *core,
		   const struct webhook_settings *settings);
/* Drops what is pending; memory goes from the handles' close callbacks, so
 * the loop must run once more (as esl_destroy). */
void webhook_destroy(struct webhook *wh);
void webhook_stats_get(const struct webhook *wh, struct webhook_stats *out);

/* ======================================================================== */
/* Event streams of the HTTP door (evstream.c): GET /v1/events (WebSocket)  */
/* and GET /v1/events/sse share them                                         */
/* ======================================================================== */

/*
 * One client's view of the event bus: a filter, a bounded queue of event
 * references and a resume point. The bus hands events in synchronously; the
 * stream only queues them (never blocks a call) and tells its owner through
 * ready_cb, which must only schedule the write. When the queue is full, new
 * events are dropped and counted; once there is room again a CUSTOM
 * irisx::events_dropped event (Dropped-Count, Last-Event-Sequence) takes the
 * place where they were lost, as the Event Socket does.
 */
struct core_event;
enum { EVSTREAM_NAMES_MAX = 32, EVSTREAM_QUEUE_DEFAULT = 10000 };

struct evstream_filter {
	/* event names ("CHANNEL_ANSWER"), or CUSTOM subclasses ("sofia::gateway_state");
	 * none: every event */
	char names[EVSTREAM_NAMES_MAX][64];
	size_t name_count;
	char uuid[UUID_STRLEN]; /* "": any; else Unique-ID must be this */
};

/*
 * The query's events=NAME,NAME (ALL or absent: every event) and uuid=…, both
 * already percent-decoded (NULL: absent). -EINVAL for an empty name, a name
 * too long or with characters outside [A-Za-z0-9_:], too many names, or a
 * uuid that is not one. Pure.
 */
int evstream_filter_parse(struct evstream_filter *out, const char *events, const char *uuid);
bool evstream_filter_match(const struct evstream_filter *f, const struct core_event *ev);
/* "id: <seq>\nevent: <name>\ndata: <json>\n\n" (no id line for an
 * unfired event such as the drop notice). */
void evstream_print_sse(const struct core_event *ev, struct buf *out);

struct evstream;
struct evstream_stats {
	uint64_t clients;	 /* streams open now */
	uint64_t events_sent;	 /* popped by their owners */
	uint64_t events_dropped; /* over a queue's cap */
};
/*
 * Subscribes. With `resume`, the ring's events after `after` are queued
 * first (a reconnecting client misses nothing); when some of them are gone
 * from the ring already, a CUSTOM irisx::events_lost event (Requested-After)
 * is queued instead and the stream goes on live. `stats` (may be NULL) is
 * the counters shared by a door's streams. ready_cb never runs before this
 * returns.
 */
int evstream_create(struct evstream **out, struct core *core, const struct evstream_filter *f,
		    bool resume, uint64_t after, size_t queue_max, struct evstream_stats *stats,
		    void (*ready_cb)(void *arg), void *arg);
/* The next queued event (a reference the caller unrefs), or NULL. */
struct core_event *evstream_pop(struct evstream *s);
size_t evstream_queued(const struct evstream *s);
void evstream_destroy(struct evstream *s);

/* ---- WebSocket sessions (ws.c): GET /v1/events after the upgrade ---- */

enum { WS_ACCEPT_LEN = 28 };
/*
 * Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 §4.2.2):
 * base64(SHA-1(key + the protocol's GUID)), NUL-terminated in `out`.
 * -EINVAL unless the key is 24 characters of base64 (a 16-byte nonce).
 */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

struct ws_session;
/*
 * Streams an event stream over an upgraded connection: each event a text
 * message with its JSON rendering (core_event_print_json). `fd` is a
 * connected stream socket, borrowed: the session makes it non-blocking and
 * polls it on `loop`; once the session ends (the client closed, an error,
 * ws_session_close) closed_cb(arg) runs from the loop and the owner may
 * close the socket. `extra` (copied) is what the client sent after its
 * handshake, read before the socket. Client messages are read and ignored (pings answered,
 * a close answered and the session ended); a message over 64 KiB ends it.
 */
int ws_session_create(struct ws_session **out, struct uv_loop_s *loop, struct core *core, int fd,
		      const char *extra, size_t extra_len, const struct evstream_filter *f,
		      bool resume, uint64_t after, size_t queue_max, struct evstream_stats *stats,
		      void (*closed_cb)(void *arg), void *arg);
/* Sends a close frame (1001 going away) and ends the session; closed_cb follows. */
void ws_session_close(struct ws_session *ws);

#endif
