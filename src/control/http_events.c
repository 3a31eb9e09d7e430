/*
 * The event bus over HTTP: GET /v1/events as a WebSocket (RFC 6455, the
 * session in ws.c) and GET /v1/events/sse as Server-Sent Events (the HTML
 * Living Standard's text/event-stream). Both take ?events=NAME,NAME and
 * ?uuid=… (evstream_filter_parse) and resume from the bus's ring: ?after=SEQ,
 * or for SSE the Last-Event-ID header a reconnecting browser sends.
 *
 * A slow client never slows a call: its events wait in its bounded event
 * stream (dropped past the cap, with a notice), and an SSE body is only fed
 * while less than SSE_BUFFERED_MAX bytes wait to be written.
 */
#define LOG_MODULE "http"
#include "control/http_int.h"
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	SSE_BUFFERED_MAX = 1024 * 1024, /* bytes waiting for the client before we stop feeding */
	SSE_RETRY_MS = 20,		/* the next look at a full buffer */
	SSE_KEEPALIVE_MS = 15000,	/* a comment line when there is nothing to say */
	EVENTS_QUEUE_MAX = EVSTREAM_QUEUE_DEFAULT,
};

static struct http_events *events_ref(struct http_events *ev)
{
	ev->refs++;
	return ev;
}

static void events_unref(struct http_events *ev)
{
	if (--ev->refs == 0)
		free(ev);
}

/* The filter and resume point of ?events=&uuid=&after= (and Last-Event-ID);
 * false with a 400 answered when they do not parse. */
static bool stream_params(struct http_req *req, struct evstream_filter *f, bool *resume,
			  uint64_t *after, bool sse)
{
	if (evstream_filter_parse(f, http_query(req, "events"), http_query(req, "uuid")) != 0) {
		http_reply_error(req, 400, "bad_request",
				 "events must be NAME[,NAME…] ([A-Za-z0-9_:], at most %d), uuid a "
				 "uuid",
				 EVSTREAM_NAMES_MAX);
		return false;
	}
	const char *a = http_query(req, "after");
	if (!a && sse)
		a = http_header(req, "Last-Event-ID");
	*resume = a != NULL;
	*after = 0;
	if (a && str_to_u64(str_from_cstr(a), after) != 0) {
		http_reply_error(req, 400, "bad_request", "after must be an event sequence number");
		return false;
	}
	return true;
}

/* ---- WebSocket ---- */

struct ws_client {
	struct http_events *ev;
	struct evstream_filter filter;
	bool resume;
	uint64_t after;
	struct http_upgraded *u; /* NULL once the server closed it */
	struct ws_session *ws;
};

static void ws_session_closed_cb(void *arg)
{
	struct ws_client *c = arg;
	if (c->u)
		http_upgraded_close(c->u);
	events_unref(c->ev);
	free(c);
}

static void ws_upgraded_cb(void *arg, struct http_upgraded *u, int fd, const char *extra,
			   size_t extra_len)
{
	struct ws_client *c = arg;
	c->u = u;
	struct http *h = c->ev->h;
	int err = ws_session_create(&c->ws, http_loop(h), http_core(h), fd, extra, extra_len,
				    &c->filter, c->resume, c->after, EVENTS_QUEUE_MAX, &c->ev->ws,
				    ws_session_closed_cb, c);
	if (err) {
		log_warn("websocket: %s", strerror(-err));
		http_upgraded_close(u);
		events_unref(c->ev);
		free(c);
	}
}

/* The server stops: it closes the socket once this returns. */
static void ws_server_closed_cb(void *arg)
{
	struct ws_client *c = arg;
	c->u = NULL;
	if (c->ws) {
		ws_session_close(c->ws); /* frees c from its close callback */
	} else {
		events_unref(c->ev);
		free(c);
	}
}

/* Whether a comma-separated header value holds `token` (case-insensitive). */
static bool header_has_token(const char *value, const char *token)
{
	size_t tlen = strlen(token);
	for (const char *p = value; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == tlen && strncasecmp(p, token, tlen) == 0)
			return true;
		p += n;
	}
	return false;
}

static void get_events_ws(struct http_req *req, void *arg)
{
	struct http_events *ev = arg;
	const char *upgrade = http_header(req, "Upgrade");
	if (!upgrade || !header_has_token(upgrade, "websocket") ||
	    !header_has_token(http_header(req, "Connection"), "upgrade")) {
		http_reply_header(req, "Upgrade", "websocket");
		http_reply_error(req, 426, "upgrade_required",
				 "GET /v1/events is a WebSocket; /v1/events/sse streams the same "
				 "as Server-Sent Events");
		return;
	}
	const char *version = http_header(req, "Sec-WebSocket-Version");
	if (!version || strcmp(version, "13") != 0) {
		http_reply_header(req, "Sec-WebSocket-Version", "13");
		http_reply_error(req, 426, "upgrade_required", "WebSocket version 13 only");
		return;
	}
	char accept[WS_ACCEPT_LEN + 1];
	if (ws_accept_key(http_header(req, "Sec-WebSocket-Key"), accept) != 0) {
		http_reply_error(req, 400, "bad_request", "Sec-WebSocket-Key must be a base64 "
							  "16-byte nonce");
		return;
	}
	struct ws_client *c = calloc(1, sizeof(*c));
	if (!c) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	if (!stream_params(req, &c->filter, &c->resume, &c->after, false)) {
		free(c);
		return;
	}
	c->ev = events_ref(ev);
	http_reply_header(req, "Upgrade", "websocket");
	http_reply_header(req, "Connection", "Upgrade");
	http_reply_header(req, "Sec-WebSocket-Accept", accept);
	http_upgrade(req, ws_upgraded_cb, ws_server_closed_cb, c);
}

/* ---- Server-Sent Events ---- */

struct sse_client {
	struct http_events *ev;
	struct http_stream *stream; /* NULL once the client went away */
	struct evstream *events;
	uv_timer_t timer; /* feeds the body; freed from its close callback */
	struct buf scratch;
	uint64_t last_write_ms;
	bool closing;
};

static void sse_timer_closed(uv_handle_t *h)
{
	struct sse_client *c = h->data;
	evstream_destroy(c->events);
	buf_fini(&c->scratch);
	events_unref(c->ev);
	free(c);
}

static void sse_end(struct sse_client *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->stream)
		http_stream_close(c->stream);
	c->stream = NULL;
	uv_close((uv_handle_t *)&c->timer, sse_timer_closed);
}

static void sse_timer_cb(uv_timer_t *t)
{
	struct sse_client *c = t->data;
	uv_loop_t *loop = t->loop;
	long waiting = http_stream_write(c->stream, "", 0);
	if (waiting < 0) {
		sse_end(c);
		return;
	}
	/* Events are rendered in batches so one write wakes the server once. */
	buf_reset(&c->scratch);
	struct core_event *ev;
	while ((size_t)waiting + c->scratch.len < SSE_BUFFERED_MAX &&
	       (ev = evstream_pop(c->events))) {
		evstream_print_sse(ev, &c->scratch);
		core_event_unref(ev);
	}
	if (!c->scratch.len && uv_now(loop) - c->last_write_ms >= SSE_KEEPALIVE_MS)
		buf_append_cstr(&c->scratch, ": keepalive\n\n");
	if (c->scratch.len) {
		if (c->scratch.failed || http_stream_write(c->stream, c->scratch.p, c->scratch.len) < 0) {
			sse_end(c);
			return;
		}
		c->last_write_ms = uv_now(loop);
	}
	uv_timer_start(&c->timer, sse_timer_cb,
		       evstream_queued(c->events) ? SSE_RETRY_MS : SSE_KEEPALIVE_MS, 0);
}

/* From inside the bus: only schedule the write. */
static void sse_ready_cb(void *arg)
{
	struct sse_client *c = arg;
	if (!c->closing && c->stream)
		uv_timer_start(&c->timer, sse_timer_cb, 0, 0);
}

/* The client went away or the server stops: the stream is gone. */
static void sse_closed_cb(void *arg)
{
	struct sse_client *c = arg;
	c->stream = NULL;
	sse_end(c);
}

static void get_events_sse(struct http_req *req, void *arg)
{
	struct http_events *ev = arg;
	struct evstream_filter f;
	bool resume;
	uint64_t after;
	if (!stream_params(req, &f, &resume, &after, true))
		return;
	struct sse_client *c = calloc(1, sizeof(*c));
	if (!c) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	buf_init(&c->scratch);
	struct http *h = ev->h;
	int err = evstream_create(&c->events, http_core(h), &f, resume, after, EVENTS_QUEUE_MAX,
				  &ev->sse, sse_ready_cb, c);
	if (err) {
		free(c);
		http_reply_error(req, 500, "internal", "%s", strerror(-err));
		return;
	}
	c->ev = events_ref(ev);
	uv_timer_init(http_loop(h), &c->timer);
	c->timer.data = c;
	http_reply_header(req, "X-Accel-Buffering", "no");
	c->stream = http_stream_start(req, 200, "text/event-stream", sse_closed_cb, c);
	if (!c->stream) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->timer, sse_timer_closed);
		return;
	}
	/* A first line at once: the client sees the response start. */
	http_stream_write(c->stream, ": irisx events\n\n", 16);
	c->last_write_ms = uv_now(http_loop(h));
	uv_timer_start(&c->timer, sse_timer_cb, evstream_queued(c->events) ? 0 : SSE_KEEPALIVE_MS,
		       0);
}

/* ---- metrics of the door ---- */

static void events_collect_cb(void *arg, struct metrics_writer *w)
{
	struct http_events *ev = arg;
	struct http_stats st;
	http_stats_get(ev->h, &st);
	const struct {
		const char *name;
		const struct evstream_stats *s;
	} doors[] = {{"websocket", &ev->ws}, {"sse", &ev->sse}};
	if (metrics_family(w, "irisx_http_requests_total", METRIC_COUNTER,
			   "HTTP API requests handled.") == 0)
		metrics_sample_u64(w, NULL, st.requests, NULL);
	if (metrics_family(w, "irisx_http_refused_total", METRIC_COUNTER,
			   "HTTP API requests refused: no valid token (401), rate limited (429).") ==
	    0) {
		metrics_sample_u64(w, NULL, st.unauthorized,
				   (const char *const[]){"reason", "unauthorized", NULL});
		metrics_sample_u64(w, NULL, st.limited,
				   (const char *const[]){"reason", "rate_limited", NULL});
	}
	if (metrics_family(w, "irisx_http_event_clients", METRIC_GAUGE,
			   "Event stream clients connected now.") == 0) {
		for (size_t i = 0; i < ARRAY_LEN(doors); i++)
			metrics_sample_u64(w, NULL, doors[i].s->clients,
					   (const char *const[]){"transport", doors[i].name, NULL});
	}
	if (metrics_family(w, "irisx_http_events_sent_total", METRIC_COUNTER,
			   "Events sent to event stream clients.") == 0) {
		for (size_t i = 0; i < ARRAY_LEN(doors); i++)
			metrics_sample_u64(w, NULL, doors[i].s->events_sent,
					   (const char *const[]){"transport", doors[i].name, NULL});
	}
	if (metrics_family(w, "irisx_http_events_dropped_total", METRIC_COUNTER,
			   "Events dropped because an event stream client's queue was full.") == 0) {
		for (size_t i = 0; i < ARRAY_LEN(doors); i++)
			metrics_sample_u64(w, NULL, doors[i].s->events_dropped,
					   (const char *const[]){"transport", doors[i].name, NULL});
	}
}

int http__events_register(struct http *h)
{
	struct http_events *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->h = h;
	ev->refs = 1;
	h->events = ev;
	int err = http_route_add(h, HTTP_GET, "/v1/events", 0, get_events_ws, ev);
	if (!err)
		err = http_route_add(h, HTTP_GET, "/v1/events/sse", 0, get_events_sse, ev);
	if (!err && http_core(h))
		err = core_metrics_register(http_core(h), events_collect_cb, ev, &ev->collector);
	return err;
}

void http__events_fini(struct http *h)
{
	if (!h->events)
		return;
	core_metrics_unregister(h->events->collector);
	h->events->collector = NULL;
	h->events->h = NULL;
	events_unref(h->events);
	h->events = NULL;
}
