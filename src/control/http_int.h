/*
 * Internals of the HTTP door (http.c, http_route.c, http_rest*.c and the
 * event, health and metrics resources): the request, the route table and
 * the ways a handler answers.
 *
 * Threads. libmicrohttpd (MHD) reads requests on its own thread. A complete
 * request (headers and body, at most max-body bytes) is suspended in MHD and
 * handed to the core's loop through a locked queue and a uv_async. Everything
 * below (routing, authentication, rate limiting, handlers, replies) runs on
 * that loop; a reply resumes the MHD connection, which writes it. A handler
 * therefore may use the core freely and must never block.
 *
 * A request's life on the loop:
 *   handler(req, arg)   the route's callback, with req->params filled.
 *   then exactly one of
 *     http_reply*()      now or later (from any loop callback): status,
 *                        headers, body. req is gone once it returns.
 *     http_stream_start() a response whose body the loop pushes in chunks
 *                        (Server-Sent Events): http_stream_write() /
 *                        http_stream_close().
 *     http_upgrade()     101 Switching Protocols: the raw socket is handed
 *                        to the loop (WebSocket), see below.
 * A handler that answers later must be told if the server goes away first:
 * http_req_on_abort() sets a callback that http_destroy() runs (on the loop)
 * before it answers 503 for the handler; after it, req must not be used.
 */
#ifndef IRISX_HTTP_INT_H
#define IRISX_HTTP_INT_H

#include "control/control.h"

#include <jansson.h>
#include <uv.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER,
	HTTP_METHOD_COUNT
};

enum {
	HTTP_PARAMS_MAX = 8,	/* {name} segments in one route pattern */
	HTTP_SEGMENTS_MAX = 16, /* path segments a route may have */
	HTTP_KV_MAX = 64,	/* headers or query arguments kept per request */
};

/* Where a request is (http.c). */
enum http_stage {
	HTTP_STAGE_READING,  /* MHD reads the body */
	HTTP_STAGE_LOOP,     /* handed to the loop, connection suspended */
	HTTP_STAGE_REPLIED,  /* a reply waits for MHD's thread */
	HTTP_STAGE_STREAM,   /* a streamed body */
	HTTP_STAGE_UPGRADE,  /* 101 waiting to be sent */
	HTTP_STAGE_UPGRADED, /* the socket belongs to the loop */
	HTTP_STAGE_DONE,     /* MHD has queued the response */
};

struct http_kv {
	char *name; /* owned by the request (NUL-terminated copies) */
	char *value;
};

struct http_req;
struct http;

/* A route's callback: runs on the loop; must answer req once (see above). */
typedef void (*http_handler_cb)(struct http_req *req, void *arg);

enum http_route_flags {
	HTTP_ROUTE_PUBLIC = 1 << 0, /* no Bearer token needed (health, metrics, openapi) */
	HTTP_ROUTE_NO_LIMIT = 1 << 1, /* not counted by the rate limiter */
};

struct http_req {
	enum http_method method;
	char *method_name; /* "GET" */
	char *path;	   /* decoded, without the query: "/v1/calls/abc" */
	struct http_kv headers[HTTP_KV_MAX];
	size_t header_count;
	struct http_kv query[HTTP_KV_MAX]; /* decoded ?name=value pairs, in order */
	size_t query_count;
	struct http_kv params[HTTP_PARAMS_MAX]; /* the route's {name} = segment */
	size_t param_count;
	char *body; /* NUL-terminated; "" without one */
	size_t body_len;
	char peer[64];	  /* "127.0.0.1:53412" */
	const char *token; /* the Bearer token it authenticated with (the server's copy) */
	struct http *http;
	/* ---- private to http.c ---- */
	atomic_int refs;	     /* MHD's and the loop's */
	struct MHD_Connection *conn; /* NULL for requests built by tests */
	_Atomic(enum http_stage) stage; /* written by one thread, read by the other */
	bool too_big;
	unsigned status;
	struct buf reply_headers; /* "Name: value\n" lines */
	char *reply_type;
	char *reply_body;
	size_t reply_len;
	void (*abort_cb)(struct http_req *req, void *arg);
	void *abort_arg;
	struct http_stream *stream;
	struct http_upgraded *upgraded;
	struct http_req *next, *prev; /* the pending list (the loop's) */
	struct http_req *qnext;	      /* the queue to the loop */
	atomic_int msgs;	      /* why it is queued (http.c's MSG_*), 0: not queued */
	bool pending;
	bool counted; /* by the rate limiter already */
};

/* ---- the server ---- */

struct http_route {
	enum http_method method;
	char *pattern;
	unsigned flags;
	http_handler_cb cb;
	void *arg;
};

struct http_bucket {
	double tokens;
	uint64_t at_ms;
};

struct http {
	uv_loop_t *loop;
	struct core *core;
	struct dialplan *dp;
	struct http_settings set;
	struct MHD_Daemon *mhd;
	uint16_t port;
	uv_async_t async;
	uv_mutex_t qlock;
	struct http_req *q_head, *q_tail; /* MHD's thread -> loop */
	struct http_req *pending;	  /* owned by the loop: handlers, streams, upgrades */
	struct http_bucket buckets[HTTP_TOKENS_MAX];
	struct http_route *routes;
	size_t route_count;
	struct http_stats stats;
	void (*deliver_cb)(void *arg, struct http_req *req); /* detached servers */
	void *deliver_arg;
	void *rest; /* http_rest.c's state */
	struct http_events *events; /* http_events.c's state */
	bool destroyed;
	bool async_open;
};

/* ---- routes (http_route.c) ---- */

/*
 * Adds a route: `pattern` is a path whose segments are literal or "{name}"
 * ("/v1/calls/{uuid}/hangup"); a {name} matches one non-empty segment and is
 * found with http_param(). A path that matches a pattern under another method
 * answers 405 with Allow; no pattern, 404. Literal segments win over {name}
 * ones, so "/v1/calls/count" can sit beside "/v1/calls/{uuid}". `summary` is
 * what the OpenAPI test checks the document against (may be NULL). Returns 0,
 * -EINVAL for a bad pattern, -EEXIST for the same method and pattern twice,
 * -ENOMEM.
 */
int http_route_add(struct http *h, enum http_method method, const char *pattern, unsigned flags,
		   http_handler_cb cb, void *arg);

/* Calls cb for every route, in the order added (the OpenAPI test's list). */
void http_route_each(const struct http *h,
		     void (*cb)(void *arg, enum http_method method, const char *pattern), void *arg);

/* "GET" for HTTP_GET; the method from its name (HTTP_OTHER when unknown). */
const char *http_method_name(enum http_method m);
enum http_method http_method_parse(const char *name);

/* ---- reading a request ---- */

/* The path parameter `name` (NULL when the route has none of that name). */
const char *http_param(const struct http_req *req, const char *name);
/* The first query argument `name`, or NULL. */
const char *http_query(const struct http_req *req, const char *name);
/* The first header `name` (case-insensitive), or NULL. */
const char *http_header(const struct http_req *req, const char *name);
/*
 * The body as a JSON object: NULL with a 400 already answered when it is not
 * one (an empty body reads as {} when `empty_ok`). The caller owns the result
 * (json_decref).
 */
json_t *http_body_json(struct http_req *req, bool empty_ok);

/* ---- answering ---- */

/* Adds a response header (before the http_reply* call that sends it). */
void http_reply_header(struct http_req *req, const char *name, const char *value);
/* Answers with `len` bytes of `body` (copied) of `content_type` (NULL: no body type). */
void http_reply(struct http_req *req, unsigned status, const char *content_type,
		const char *body, size_t len);
/* Answers with a JSON document (the reference is taken; NULL answers 500). */
void http_reply_json(struct http_req *req, unsigned status, json_t *doc);
/* Answers {"error": <error>, "detail": <printf detail>} with `status`. */
void http_reply_error(struct http_req *req, unsigned status, const char *error,
		      const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));
/* See the top of this file. Call before the handler returns. */
void http_req_on_abort(struct http_req *req, void (*cb)(struct http_req *req, void *arg),
		       void *arg);

/* ---- streaming a body (Server-Sent Events) ---- */

struct http_stream;
/*
 * Answers `status` with `content_type` and a body of unknown length (chunked)
 * that the loop pushes. The stream is the caller's until http_stream_close()
 * or until closed_cb(arg) runs (the client went away or the server stops;
 * from the loop; the stream is then freed and must not be used). req is gone
 * once this returns. NULL when out of memory (req then answered 500).
 */
struct http_stream *http_stream_start(struct http_req *req, unsigned status,
				      const char *content_type,
				      void (*closed_cb)(void *arg), void *arg);
/*
 * Queues bytes for the client. Returns the bytes now waiting to be written
 * (so a caller can drop a slow reader past its own cap) or -EPIPE when the
 * client is gone (closed_cb has run or is about to).
 */
long http_stream_write(struct http_stream *s, const void *data, size_t len);
/* Ends the body once what is queued is written; frees s (closed_cb does not run). */
void http_stream_close(struct http_stream *s);

/* ---- taking the connection over (WebSocket) ---- */

struct http_upgraded;
/*
 * Answers 101 Switching Protocols with the headers set by http_reply_header
 * (Upgrade, Connection, Sec-WebSocket-Accept…). Once written, upgraded_cb
 * runs on the loop with the connection's socket `fd` (non-blocking, still
 * MHD's: do not close it, uv_poll it or dup() it) and the bytes the client
 * sent after its request (`extra`, borrowed for the call). The caller ends
 * it with http_upgraded_close(); if the server stops first, closed_cb(arg)
 * runs and `u` is closed and freed. req is gone once this returns.
 */
void http_upgrade(struct http_req *req,
		  void (*upgraded_cb)(void *arg, struct http_upgraded *u, int fd, const char *extra,
				      size_t extra_len),
		  void (*closed_cb)(void *arg), void *arg);
/* Closes the socket and frees u. */
void http_upgraded_close(struct http_upgraded *u);

/* ---- the server's context for handlers ---- */

struct core *http_core(const struct http *h);
struct dialplan *http_dialplan(const struct http *h);
const struct http_settings *http_settings_get(const struct http *h);
struct uv_loop_s *http_loop(const struct http *h);

/* ---- for tests and the fuzz target: requests without sockets ---- */

/*
 * A server with no listener (core and dp may be NULL for routing tests).
 * Replies go to deliver_cb(arg, req) instead of the network; req is freed
 * when deliver_cb returns.
 */
int http__create_detached(struct http **out, struct uv_loop_s *loop, struct core *core,
			  struct dialplan *dp, const struct http_settings *settings,
			  void (*deliver_cb)(void *arg, struct http_req *req), void *arg);
/*
 * A request as MHD would hand it over: `target` is "/path?query" (the query
 * is split and %-decoded here), headers "Name: value" lines separated by \n
 * (may be NULL). Body copied. NULL when out of memory or a field is too long.
 */
struct http_req *http__req_new(struct http *h, const char *method, const char *target,
			       const char *headers, const char *body, size_t body_len);
/* Authenticates, rate limits, routes and runs the handler (the loop's part). */
void http__dispatch(struct http *h, struct http_req *req);
/* Routing only: the handler's route for req (params filled), or NULL with
 * *status 404 or 405 (and the allowed methods' bits in *allow). */
const struct http_route *http__route_find(struct http *h, struct http_req *req, unsigned *status,
					  unsigned *allow);
/* Frees the route table. */
void http__routes_free(struct http *h);
/* A new empty request (refs 1); NULL when out of memory. */
struct http_req *http__req_alloc(struct http *h);
/* Adds a header or query pair (copied); -E2BIG past HTTP_KV_MAX, -ENOMEM. */
int http__kv_add(struct http_kv *kv, size_t *count, const char *name, size_t name_len,
		 const char *value, size_t value_len);
/* A detached server's stream: the bytes written so far. */
const struct buf *http__stream_buf(const struct http_stream *s);
/* Splits "a=b&c=%20d" into req->query (decoding %XX and '+'). -E2BIG, -EINVAL. */
int http__query_parse(struct http_req *req, const char *query, size_t len);

/* Registers the REST resources (http_rest.c). */
int http__rest_register(struct http *h);
/*
 * Registers GET /v1/events (WebSocket), GET /v1/events/sse, GET /health and
 * GET /metrics (http_events.c, http_health.c), and the door's metrics
 * collector when there is a core. http__events_fini frees that state once
 * every stream is closed (http_destroy).
 */
int http__events_register(struct http *h);
void http__events_fini(struct http *h);
int http__health_register(struct http *h);
/* Registers GET /v1/cdrs and GET /v1/cdrs/{uuid} (http_cdr.c). */
int http__cdr_register(struct http *h);
struct cdr_query;
/*
 * Reads GET /v1/cdrs's query (since, until, direction, cause, limit,
 * cursor) into q, whose strings then point into req. -EINVAL with why in
 * err for an unknown, repeated or malformed parameter.
 */
int http__cdr_query_parse(const struct http_req *req, struct cdr_query *q, char *err,
			  size_t err_size);
/* The door's counters, for the metrics collector (http_events.c). */
struct http_events {
	unsigned refs; /* the server's and one per client (whose streams count here) */
	struct http *h; /* NULL once the server is gone */
	struct evstream_stats ws, sse;
	struct core_collector *collector;
};
/* The OpenAPI document (http_openapi.c, generated from docs/openapi.json). */
extern const char http__openapi_json[];
extern const size_t http__openapi_json_len;

#endif
