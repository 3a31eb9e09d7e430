/*
 * The HTTP server: libmicrohttpd (MHD) on its own thread reads each request
 * (headers, then a body of at most max-body bytes), suspends its connection
 * and hands it to the core's loop through a locked queue and a uv_async.
 * The loop authenticates, rate limits, routes and runs the handler; a reply
 * is stored on the request and the connection resumed, and MHD's thread
 * turns it into a response (http_int.h describes the handler's side).
 *
 * A request is shared by the two threads, so it is reference counted: MHD
 * holds one from its first callback until the completed notification, the
 * queue one per push, the loop one while a handler owns it (the pending
 * list, which http_destroy() answers with 503).
 */
#define LOG_MODULE "http"
#include "control/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <uv.h>

/* Why a request is in the loop's queue (bits: one entry for several). */
enum {
	MSG_REQUEST = 1 << 0,  /* a new request to dispatch */
	MSG_UPGRADED = 1 << 1, /* the 101 went out: the socket is the loop's */
	MSG_GONE = 1 << 2,     /* MHD finished with the connection */
};

struct http_stream {
	struct http *http;
	struct http_req *req;
	uv_mutex_t lock;
	struct buf out;	 /* written by the loop, read by MHD's thread */
	size_t out_pos;	 /* what MHD's thread has taken from out */
	bool suspended;	 /* MHD's reader found nothing and suspended */
	bool ended;	 /* http_stream_close: end of body after out */
	bool gone;	 /* the connection finished */
	bool loop_done;	 /* closed by the loop or closed_cb ran */
	void (*closed_cb)(void *arg);
	void *arg;
};

struct http_upgraded {
	struct http_req *req;
	struct MHD_UpgradeResponseHandle *urh;
	int fd;
	char *extra;
	size_t extra_len;
	void (*upgraded_cb)(void *arg, struct http_upgraded *u, int fd, const char *extra,
			    size_t extra_len);
	void (*closed_cb)(void *arg);
	void *arg;
	bool closed;
};

/* ---- references ---- */

static void req_free(struct http_req *r)
{
	for (size_t i = 0; i < r->header_count; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	for (size_t i = 0; i < r->query_count; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	for (size_t i = 0; i < r->param_count; i++) {
		free(r->params[i].name);
		free(r->params[i].value);
	}
	if (r->stream) {
		/* MHD's reader and the loop are both done with it by now: the
		 * request outlives them (their references). */
		uv_mutex_destroy(&r->stream->lock);
		buf_fini(&r->stream->out);
		free(r->stream);
	}
	buf_fini(&r->reply_headers);
	free(r->method_name);
	free(r->path);
	free(r->body);
	free(r->reply_type);
	free(r->reply_body);
	free(r);
}

static void req_ref(struct http_req *r)
{
	atomic_fetch_add(&r->refs, 1);
}

static void req_unref(struct http_req *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1)
		req_free(r);
}

static void pending_add(struct http *h, struct http_req *r)
{
	r->pending = true;
	r->prev = NULL;
	r->next = h->pending;
	if (h->pending)
		h->pending->prev = r;
	h->pending = r;
}

/* The loop is done with r: off the pending list, its reference dropped. */
static void pending_drop(struct http_req *r)
{
	struct http *h = r->http;
	if (!r->pending)
		return;
	r->pending = false;
	if (r->prev)
		r->prev->next = r->next;
	else
		h->pending = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	req_unref(r);
}

/* From any thread: queue r for the loop with the reason `msg`. */
static void queue_push(struct http *h, struct http_req *r, int msg)
{
	uv_mutex_lock(&h->qlock);
	int old = atomic_fetch_or(&r->msgs, msg);
	if (old == 0) {
		req_ref(r);
		r->qnext = NULL;
		if (h->q_tail)
			h->q_tail->qnext = r;
		else
			h->q_head = r;
		h->q_tail = r;
	}
	uv_mutex_unlock(&h->qlock);
	if (old == 0 && h->async_open)
		uv_async_send(&h->async);
}

static void deliver(struct http_req *r);

/* ---- MHD's thread ---- */

static enum MHD_Result kv_collect(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct http_req *r = cls;
	int e;
	if (!key)
		return MHD_YES;
	if (!value)
		value = "";
	if (kind == MHD_HEADER_KIND)
		e = http__kv_add(r->headers, &r->header_count, key, strlen(key), value, strlen(value));
	else
		e = http__kv_add(r->query, &r->query_count, key, strlen(key), value, strlen(value));
	if (e) {
		r->status = e == -E2BIG ? 431 : 500; /* answered by the first call */
		return MHD_NO;
	}
	return MHD_YES;
}

static void peer_print(struct MHD_Connection *conn, char *out, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	char ip[INET6_ADDRSTRLEN] = "";
	if (ci->client_addr->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ci->client_addr;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, size, "%s:%u", ip, ntohs(a->sin_port));
	} else if (ci->client_addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ci->client_addr;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(out, size, "[%s]:%u", ip, ntohs(a->sin6_port));
	}
}

/* A response MHD's thread writes without the loop (413, 431, 500). */
static enum MHD_Result answer_direct(struct MHD_Connection *conn, unsigned status,
				     const char *error, const char *detail)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"detail\":\"%s\"}\n", error, detail);
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Connection", "close");
	enum MHD_Result ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result add_headers(struct MHD_Response *resp, struct http_req *r)
{
	char *line = r->reply_headers.p;
	size_t left = r->reply_headers.len;
	while (line && left > 0) {
		char *nl = memchr(line, '\n', left);
		if (!nl)
			break;
		*nl = '\0';
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			const char *value = colon + 1;
			while (*value == ' ')
				value++;
			MHD_add_response_header(resp, line, value);
		}
		left -= (size_t)(nl + 1 - line);
		line = nl + 1;
	}
	if (r->reply_type)
		MHD_add_response_header(resp, "Content-Type", r->reply_type);
	return MHD_YES;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_stream *s = cls;
	ssize_t n = 0;
	uv_mutex_lock(&s->lock);
	size_t have = s->out.len - s->out_pos;
	if (have > 0) {
		n = (ssize_t)(have < max ? have : max);
		memcpy(out, s->out.p + s->out_pos, (size_t)n);
		s->out_pos += (size_t)n;
		if (s->out_pos == s->out.len) {
			buf_reset(&s->out);
			s->out_pos = 0;
		}
	} else if (s->ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Nothing to send: wait, suspended, for http_stream_write to resume
		 * us (MHD's documented alternative to a busy retry of 0). */
		s->suspended = true;
		MHD_suspend_connection(s->req->conn);
	}
	uv_mutex_unlock(&s->lock);
	return n;
}

static void upgrade_done(void *cls, struct MHD_Connection *conn, void *con_cls,
			 const char *extra, size_t extra_len, MHD_socket sock,
			 struct MHD_UpgradeResponseHandle *urh)
{
	struct http_upgraded *u = cls;
	u->fd = sock;
	u->urh = urh;
	if (extra_len > 0) {
		u->extra = malloc(extra_len);
		if (u->extra) {
			memcpy(u->extra, extra, extra_len);
			u->extra_len = extra_len;
		}
	}
	queue_push(u->req->http, u->req, MSG_UPGRADED);
}

/* The loop answered: MHD's thread turns its answer into a response. */
static enum MHD_Result answer_from_loop(struct MHD_Connection *conn, struct http_req *r)
{
	struct MHD_Response *resp = NULL;
	enum http_stage stage = r->stage;
	switch (stage) {
	case HTTP_STAGE_REPLIED:
		resp = MHD_create_response_from_buffer(r->reply_len, r->reply_body,
						       MHD_RESPMEM_PERSISTENT);
		break;
	case HTTP_STAGE_STREAM:
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read,
							 r->stream, NULL);
		break;
	case HTTP_STAGE_UPGRADE:
		resp = MHD_create_response_for_upgrade(upgrade_done, r->upgraded);
		break;
	default:
		return MHD_NO;
	}
	if (!resp)
		return MHD_NO;
	add_headers(resp, r);
	enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	if (r->stage == HTTP_STAGE_REPLIED)
		r->stage = HTTP_STAGE_DONE;
	return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct http_req *r = *con_cls;
	if (!r) {
		r = http__req_alloc(h);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->conn = conn;
		r->method = http_method_parse(method);
		r->method_name = strdup(method);
		r->path = strdup(url);
		peer_print(conn, r->peer, sizeof(r->peer));
		MHD_get_connection_values(conn, MHD_HEADER_KIND, kv_collect, r);
		if (r->status == 0)
			MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, kv_collect, r);
		if (!r->method_name || !r->path)
			return MHD_NO;
		if (r->status == 431)
			return answer_direct(conn, 431, "too_many_fields",
					     "too many headers or query arguments");
		if (r->status)
			return MHD_NO;
		const char *cl = http_header(r, "Content-Length");
		uint64_t announced = 0;
		if (cl && str_to_u64(str_from_cstr(cl), &announced) == 0 &&
		    announced > h->set.max_body)
			return answer_direct(conn, 413, "too_large", "the body is over max-body");
		return MHD_YES;
	}
	if (r->stage != HTTP_STAGE_READING)
		return answer_from_loop(conn, r);
	if (*upload_size > 0) {
		if (!r->too_big && r->body_len + *upload_size > h->set.max_body) {
			r->too_big = true;
			free(r->body);
			r->body = NULL;
			r->body_len = 0;
		}
		if (!r->too_big) {
			char *nb = realloc(r->body, r->body_len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + r->body_len, upload, *upload_size);
			r->body = nb;
			r->body_len += *upload_size;
			r->body[r->body_len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return answer_direct(conn, 413, "too_large", "the body is over max-body");
	if (!r->body) {
		r->body = strdup("");
		if (!r->body)
			return MHD_NO;
	}
	/* Suspended before the loop can see it, so its resume cannot come first. */
	r->stage = HTTP_STAGE_LOOP;
	MHD_suspend_connection(conn);
	queue_push(h, r, MSG_REQUEST);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct http_req *r = *con_cls;
	if (!r)
		return;
	*con_cls = NULL;
	if (r->stage == HTTP_STAGE_STREAM) {
		uv_mutex_lock(&r->stream->lock);
		r->stream->gone = true;
		uv_mutex_unlock(&r->stream->lock);
		queue_push(h, r, MSG_GONE);
	} else if (r->stage == HTTP_STAGE_UPGRADE) {
		/* After an upgrade the request completes too: the loop tells the
		 * two cases apart by whether upgrade_done ran first. */
		queue_push(h, r, MSG_GONE);
	}
	r->conn = NULL;
	req_unref(r);
}

/* ---- the loop ---- */

static void loop_message(struct http *h, struct http_req *r, int msgs)
{
	if (msgs & MSG_REQUEST)
		http__dispatch(h, r);
	if (msgs & MSG_UPGRADED) {
		struct http_upgraded *u = r->upgraded;
		r->stage = HTTP_STAGE_UPGRADED;
		if (u && !u->closed)
			u->upgraded_cb(u->arg, u, u->fd, u->extra, u->extra_len);
		/* (u may be closed and freed by now) */
	}
	if ((msgs & MSG_GONE) && r->stage == HTTP_STAGE_STREAM) {
		struct http_stream *s = r->stream;
		if (!s->loop_done) {
			s->loop_done = true;
			if (s->closed_cb)
				s->closed_cb(s->arg);
			pending_drop(r);
		}
	} else if ((msgs & MSG_GONE) && r->stage == HTTP_STAGE_UPGRADE) {
		struct http_upgraded *u = r->upgraded;
		if (u && !u->closed) {
			u->closed = true;
			if (u->closed_cb)
				u->closed_cb(u->arg);
			r->upgraded = NULL;
			free(u->extra);
			free(u);
			pending_drop(r);
		}
	}
}

static void on_async(uv_async_t *a)
{
	struct http *h = a->data;
	uv_mutex_lock(&h->qlock);
	struct http_req *list = h->q_head;
	h->q_head = h->q_tail = NULL;
	uv_mutex_unlock(&h->qlock);
	while (list) {
		struct http_req *r = list;
		uv_mutex_lock(&h->qlock);
		list = r->qnext;
		r->qnext = NULL;
		int msgs = atomic_exchange(&r->msgs, 0);
		uv_mutex_unlock(&h->qlock);
		if (!h->destroyed)
			loop_message(h, r, msgs);
		req_unref(r); /* the queue's */
	}
}

static void add_cors(struct http_req *r)
{
	const char *allowed = r->http->set.cors_origin;
	if (!allowed[0])
		return;
	const char *origin = http_header(r, "Origin");
	if (strcmp(allowed, "*") == 0) {
		http_reply_header(r, "Access-Control-Allow-Origin", "*");
	} else if (origin && strcasecmp(origin, allowed) == 0) {
		http_reply_header(r, "Access-Control-Allow-Origin", origin);
		http_reply_header(r, "Vary", "Origin");
	}
}

static bool token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = (unsigned char)(la != lb);
	/* Compares every byte of the configured token whatever the guess. */
	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)(b[i] ^ (i < la ? a[i] : 0));
	return diff == 0;
}

/* The index of the token the request carries, or -1. */
static int authenticate(struct http *h, struct http_req *r)
{
	const char *auth = http_header(r, "Authorization");
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return -1;
	const char *given = auth + 7;
	while (*given == ' ')
		given++;
	int found = -1;
	for (size_t i = 0; i < h->set.token_count; i++)
		if (token_equal(given, h->set.tokens[i]) && found < 0)
			found = (int)i;
	return found;
}

/* Takes one request from the token's bucket; false with the seconds to wait. */
static bool rate_take(struct http *h, int token, unsigned *retry_after)
{
	if (h->set.rate == 0)
		return true;
	struct http_bucket *b = &h->buckets[token];
	uint64_t now = clock_now_ms();
	double burst = h->set.burst ? h->set.burst : h->set.rate;
	if (b->at_ms == 0) {
		b->tokens = burst;
	} else {
		b->tokens += (double)(now - b->at_ms) * h->set.rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->at_ms = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return true;
	}
	double wait = (1.0 - b->tokens) / h->set.rate;
	unsigned secs = (unsigned)wait;
	*retry_after = secs < wait || secs == 0 ? secs + 1 : secs;
	return false;
}

static void allow_print(unsigned allow, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (int m = 0; m < HTTP_METHOD_COUNT; m++) {
		if (!(allow & (1u << m)))
			continue;
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? ", " : "",
				      http_method_name((enum http_method)m));
		if (n >= size)
			break;
	}
}

static void preflight(struct http *h, struct http_req *r)
{
	unsigned status = 0, allow = 0;
	enum http_method m = r->method;
	/* Which methods the path takes: look it up as a GET. */
	r->method = HTTP_GET;
	const struct http_route *route = http__route_find(h, r, &status, &allow);
	r->method = m;
	if (route)
		allow |= 1u << HTTP_GET;
	if (!route && status == 404) {
		http_reply_error(r, 404, "not_found", "no such resource");
		return;
	}
	allow |= 1u << HTTP_OPTIONS;
	char methods[128];
	allow_print(allow, methods, sizeof(methods));
	http_reply_header(r, "Allow", methods);
	if (h->set.cors_origin[0]) {
		http_reply_header(r, "Access-Control-Allow-Methods", methods);
		http_reply_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
		http_reply_header(r, "Access-Control-Max-Age", "600");
	}
	http_reply(r, 204, NULL, NULL, 0);
}

void http__dispatch(struct http *h, struct http_req *r)
{
	req_ref(r); /* the loop's, dropped by the answer */
	pending_add(h, r);
	h->stats.requests++;
	if (r->method == HTTP_OPTIONS) {
		preflight(h, r);
		return;
	}
	unsigned status = 0, allow = 0;
	const struct http_route *route = http__route_find(h, r, &status, &allow);
	if (!route || !(route->flags & HTTP_ROUTE_PUBLIC)) {
		int token = authenticate(h, r);
		if (token < 0) {
			h->stats.unauthorized++;
			http_reply_header(r, "WWW-Authenticate", "Bearer realm=\"irisx\"");
			http_reply_error(r, 401, "unauthorized",
					 "a valid 'Authorization: Bearer <api-token>' is required");
			return;
		}
		r->token = h->set.tokens[token];
		unsigned retry = 0;
		if ((!route || !(route->flags & HTTP_ROUTE_NO_LIMIT)) &&
		    !rate_take(h, token, &retry)) {
			h->stats.limited++;
			char v[16];
			snprintf(v, sizeof(v), "%u", retry);
			http_reply_header(r, "Retry-After", v);
			http_reply_error(r, 429, "rate_limited", "over %u requests a second",
					 h->set.rate);
			return;
		}
	}
	if (!route) {
		if (status == 405) {
			char methods[128];
			allow_print(allow, methods, sizeof(methods));
			http_reply_header(r, "Allow", methods);
			http_reply_error(r, 405, "method_not_allowed", "%s is not allowed on %s",
					 r->method_name, r->path);
		} else {
			http_reply_error(r, 404, "not_found", "no resource at %s", r->path);
		}
		return;
	}
	route->cb(r, route->arg);
}

/* ---- answering (the loop) ---- */

void http_reply_header(struct http_req *r, const char *name, const char *value)
{
	/* A header line must not carry a line break (response splitting). */
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return;
	buf_printf(&r->reply_headers, "%s: %s\n", name, value);
}

static void deliver(struct http_req *r)
{
	struct http *h = r->http;
	if (h->deliver_cb) {
		h->deliver_cb(h->deliver_arg, r);
		req_unref(r); /* the detached request's stand-in for MHD's */
	} else if (r->conn) {
		MHD_resume_connection(r->conn);
	}
}

void http_reply(struct http_req *r, unsigned status, const char *content_type, const char *body,
		size_t len)
{
	if (r->stage != HTTP_STAGE_LOOP)
		return; /* answered already: a handler bug, never a crash */
	add_cors(r);
	r->status = status;
	if (content_type)
		r->reply_type = strdup(content_type);
	if (len > 0) {
		r->reply_body = malloc(len);
		if (r->reply_body) {
			memcpy(r->reply_body, body, len);
			r->reply_len = len;
		} else {
			r->status = 500;
		}
	}
	r->stage = HTTP_STAGE_REPLIED;
	/* The loop's reference goes last: deliver may hand r to MHD's thread. */
	req_ref(r);
	deliver(r);
	pending_drop(r);
	req_unref(r);
}

void http_reply_json(struct http_req *r, unsigned status, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		http_reply_error(r, 500, "internal", "cannot encode the reply");
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_append_cstr(&b, text);
	buf_append(&b, "\n", 1);
	free(text);
	http_reply(r, status, "application/json", b.p, b.len);
	buf_fini(&b);
}

void http_reply_error(struct http_req *r, unsigned status, const char *error,
		      const char *detail_fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	json_t *doc = json_pack("{s:s, s:s}", "error", error, "detail", detail);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		static const char oom[] = "{\"error\":\"internal\",\"detail\":\"out of memory\"}\n";
		http_reply(r, 500, "application/json", oom, sizeof(oom) - 1);
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_append_cstr(&b, text);
	buf_append(&b, "\n", 1);
	free(text);
	http_reply(r, status, "application/json", b.p, b.len);
	buf_fini(&b);
}

void http_req_on_abort(struct http_req *r, void (*cb)(struct http_req *req, void *arg), void *arg)
{
	r->abort_cb = cb;
	r->abort_arg = arg;
}

/* ---- streams ---- */

struct http_stream *http_stream_start(struct http_req *r, unsigned status,
				      const char *content_type, void (*closed_cb)(void *arg),
				      void *arg)
{
	if (r->stage != HTTP_STAGE_LOOP)
		return NULL;
	struct http_stream *s = calloc(1, sizeof(*s));
	if (!s || uv_mutex_init(&s->lock) != 0) {
		free(s);
		http_reply_error(r, 500, "internal", "out of memory");
		return NULL;
	}
	buf_init(&s->out);
	s->http = r->http;
	s->req = r;
	s->closed_cb = closed_cb;
	s->arg = arg;
	r->stream = s;
	add_cors(r);
	http_reply_header(r, "Cache-Control", "no-cache");
	r->status = status;
	r->reply_type = content_type ? strdup(content_type) : NULL;
	r->stage = HTTP_STAGE_STREAM;
	deliver(r); /* stays pending: the stream holds the loop's reference */
	return s;
}

long http_stream_write(struct http_stream *s, const void *data, size_t len)
{
	uv_mutex_lock(&s->lock);
	if (s->gone || s->ended) {
		uv_mutex_unlock(&s->lock);
		return -EPIPE;
	}
	buf_append(&s->out, data, len);
	bool wake = s->suspended;
	s->suspended = false;
	long waiting = (long)(s->out.len - s->out_pos);
	bool failed = s->out.failed;
	uv_mutex_unlock(&s->lock);
	if (wake && s->req->conn)
		MHD_resume_connection(s->req->conn);
	return failed ? -ENOMEM : waiting;
}

void http_stream_close(struct http_stream *s)
{
	if (s->loop_done)
		return;
	uv_mutex_lock(&s->lock);
	s->ended = true;
	bool wake = s->suspended;
	s->suspended = false;
	uv_mutex_unlock(&s->lock);
	if (wake && s->req->conn)
		MHD_resume_connection(s->req->conn);
	s->loop_done = true;
	pending_drop(s->req);
}

const struct buf *http__stream_buf(const struct http_stream *s)
{
	return &s->out;
}

/* ---- upgrades ---- */

void http_upgrade(struct http_req *r,
		  void (*upgraded_cb)(void *arg, struct http_upgraded *u, int fd, const char *extra,
				      size_t extra_len),
		  void (*closed_cb)(void *arg), void *arg)
{
	if (r->stage != HTTP_STAGE_LOOP)
		return;
	struct http_upgraded *u = calloc(1, sizeof(*u));
	if (!u) {
		http_reply_error(r, 500, "internal", "out of memory");
		return;
	}
	u->req = r;
	u->fd = -1;
	u->upgraded_cb = upgraded_cb;
	u->closed_cb = closed_cb;
	u->arg = arg;
	r->upgraded = u;
	r->status = 101;
	r->stage = HTTP_STAGE_UPGRADE;
	deliver(r);
}

void http_upgraded_close(struct http_upgraded *u)
{
	if (!u || u->closed)
		return;
	u->closed = true;
	struct http_req *r = u->req;
	if (u->urh)
		MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	r->upgraded = NULL;
	free(u->extra);
	free(u);
	pending_drop(r);
}

/* ---- the server ---- */

/* On failure h is freed (at once, or by the async handle's close). */
static int server_init(struct http *h, uv_loop_t *loop, struct core *core, struct dialplan *dp,
		       const struct http_settings *set)
{
	h->loop = loop;
	h->core = core;
	h->dp = dp;
	h->set = *set;
	if (h->set.max_body == 0)
		h->set.max_body = HTTP_MAX_BODY_DEFAULT;
	int e = uv_mutex_init(&h->qlock);
	if (e) {
		free(h);
		return e;
	}
	e = uv_async_init(loop, &h->async, on_async);
	if (e) {
		uv_mutex_destroy(&h->qlock);
		free(h);
		return e;
	}
	h->async.data = h;
	h->async_open = true;
	e = http__rest_register(h);
	if (!e)
		e = http__cdr_register(h);
	if (!e)
		e = http__events_register(h);
	if (!e)
		e = http__health_register(h);
	if (e) {
		http_destroy(h);
		return e;
	}
	return 0;
}

int http__create_detached(struct http **out, uv_loop_t *loop, struct core *core,
			  struct dialplan *dp, const struct http_settings *settings,
			  void (*deliver_cb)(void *arg, struct http_req *req), void *arg)
{
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->deliver_cb = deliver_cb;
	h->deliver_arg = arg;
	int e = server_init(h, loop, core, dp, settings);
	if (e)
		return e;
	*out = h;
	return 0;
}

static int sockaddr_parse(const char *ip, uint16_t port, struct sockaddr_storage *ss,
			  unsigned *flags)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -EINVAL;
}

int http_create(struct http **out, uv_loop_t *loop, struct core *core, struct dialplan *dp,
		const struct http_settings *settings)
{
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_ALLOW_UPGRADE;
	if (sockaddr_parse(settings->listen_ip, settings->listen_port, &ss, &flags) != 0) {
		log_err("bad listen-ip '%s'", settings->listen_ip);
		return -EINVAL;
	}
	struct http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	int e = server_init(h, loop, core, dp, settings);
	if (e)
		return e;
	h->mhd = MHD_start_daemon(flags, settings->listen_port, NULL, NULL, on_access, h,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_END);
	if (!h->mhd) {
		e = errno ? -errno : -EADDRINUSE;
		log_err("cannot listen on %s:%u: %s", settings->listen_ip, settings->listen_port,
			strerror(-e));
		http_destroy(h);
		return e;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : settings->listen_port;
	log_notice("HTTP API listening on %s:%u (%zu token%s)", settings->listen_ip, h->port,
		   settings->token_count, settings->token_count == 1 ? "" : "s");
	*out = h;
	return 0;
}

uint16_t http_port(const struct http *h)
{
	return h->port;
}

static void on_async_closed(uv_handle_t *handle)
{
	struct http *h = handle->data;
	http__routes_free(h);
	uv_mutex_destroy(&h->qlock);
	free(h);
}

void http_destroy(struct http *h)
{
	if (!h || h->destroyed)
		return;
	/* Handlers still answering: told, then answered 503 for them. Streams
	 * and upgraded sockets: their owners told, then closed. */
	while (h->pending) {
		struct http_req *r = h->pending;
		if (r->stage == HTTP_STAGE_STREAM) {
			struct http_stream *s = r->stream;
			s->loop_done = true;
			if (s->closed_cb)
				s->closed_cb(s->arg);
			uv_mutex_lock(&s->lock);
			s->ended = true;
			bool wake = s->suspended;
			s->suspended = false;
			uv_mutex_unlock(&s->lock);
			if (wake && r->conn)
				MHD_resume_connection(r->conn);
			pending_drop(r);
		} else if (r->stage == HTTP_STAGE_UPGRADE || r->stage == HTTP_STAGE_UPGRADED) {
			struct http_upgraded *u = r->upgraded;
			if (u && u->closed_cb)
				u->closed_cb(u->arg);
			if (u)
				http_upgraded_close(u);
			else
				pending_drop(r);
		} else {
			if (r->abort_cb)
				r->abort_cb(r, r->abort_arg);
			r->abort_cb = NULL;
			if (r->stage == HTTP_STAGE_LOOP)
				http_reply_error(r, 503, "unavailable", "the server is stopping");
			else
				pending_drop(r);
		}
	}
	h->destroyed = true;
	http__events_fini(h); /* every stream is closed by now */
	if (h->mhd) {
		MHD_stop_daemon(h->mhd); /* joins its thread; completions queue their last words */
		h->mhd = NULL;
	}
	/* What MHD handed over and the loop never saw. */
	uv_mutex_lock(&h->qlock);
	struct http_req *list = h->q_head;
	h->q_head = h->q_tail = NULL;
	uv_mutex_unlock(&h->qlock);
	while (list) {
		struct http_req *r = list;
		list = r->qnext;
		atomic_store(&r->msgs, 0);
		req_unref(r);
	}
	h->async_open = false;
	uv_close((uv_handle_t *)&h->async, on_async_closed);
}

void http_stats_get(const struct http *h, struct http_stats *out)
{
	*out = h->stats;
}

struct core *http_core(const struct http *h)
{
	return h->core;
}

struct dialplan *http_dialplan(const struct http *h)
{
	return h->dp;
}

const struct http_settings *http_settings_get(const struct http *h)
{
	return &h->set;
}

uv_loop_t *http_loop(const struct http *h)
{
	return h->loop;
}
