/*
 * fetch — HTTP(S) requests from a libuv loop through libcurl's multi
 * interface: curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION →
 * one uv_poll per socket) and when to wake it up (CURLMOPT_TIMERFUNCTION →
 * one uv_timer); we hand it readiness with curl_multi_socket_action and
 * collect finished transfers with curl_multi_info_read.
 *
 * A response is kept in memory up to max_body; past it the transfer is
 * aborted (-EFBIG). A download keeps its body in memory the same way, then
 * download.c writes it to its file off the loop.
 *
 * Lifetime: the fetch holds a count of what still refers to it (its timer,
 * each poll handle, each download on disk); after fetch_destroy it is freed
 * when that count falls to zero, from a close or file-system callback.
 */
#define LOG_MODULE "fetch"
#include "fetch/fetch_int.h"
#include "base/base.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

enum {
	DEFAULT_TIMEOUT_MS = 10000,
	DEFAULT_MAX_BODY = 1024 * 1024,
	MAX_REDIRECTS = 5,
};

struct fetch_sock {
	uv_poll_t poll;
	struct fetch *f;
	struct fetch_sock *prev, *next; /* the fetch's open sockets */
	curl_socket_t fd;
};

void fetch__unref(struct fetch *f)
{
	if (--f->refs == 0 && f->destroyed)
		free(f);
}

/* ---- ops ---- */

static void op_link(struct fetch_op *op)
{
	struct fetch *f = op->f;
	op->next = f->ops;
	if (f->ops)
		f->ops->prev = op;
	f->ops = op;
	f->in_flight++;
}

void fetch__op_unlink(struct fetch_op *op)
{
	struct fetch *f = op->f;
	if (op->prev)
		op->prev->next = op->next;
	else
		f->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->prev = op->next = NULL;
	f->in_flight--;
}

static void op_release_easy(struct fetch_op *op)
{
	if (!op->easy)
		return;
	if (op->f->multi)
		curl_multi_remove_handle(op->f->multi, op->easy);
	curl_easy_cleanup(op->easy);
	op->easy = NULL;
}

void fetch__op_free(struct fetch_op *op)
{
	op_release_easy(op);
	curl_slist_free_all(op->headers);
	free(op->req_body);
	free(op->body);
	free(op->content_type);
	free(op->effective_url);
	free(op->error_text);
	free(op->path);
	free(op->part);
	free(op);
}

/* Runs the callback with what was saved, then frees the op. */
void fetch__op_finish(struct fetch_op *op, int error)
{
	struct fetch_response *r = &op->resp;
	if (error && !r->error)
		r->error = error;
	r->content_type = op->content_type;
	r->effective_url = op->effective_url;
	r->error_text = r->error ? (op->error_text ? op->error_text : strerror(-r->error)) : NULL;
	if (!op->path) {
		r->body = op->body ? op->body : "";
		r->body_len = op->body_len;
	}
	r->elapsed_us = (uv_hrtime() - op->start_ns) / 1000;
	op->state = FETCH_OP_CALLING;
	op->cb(op->arg, r);
	fetch__op_free(op);
}

static int error_of(CURLcode res, const struct fetch_op *op)
{
	switch (res) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_WRITE_ERROR:
		return op->too_big ? -EFBIG : op->no_memory ? -ENOMEM : -EIO;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return -EIO;
	default:
		return -EPROTO;
	}
}

static size_t body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_op *op = arg;
	size_t len = size * n;
	if (len > op->max_body - op->body_len) {
		op->too_big = true;
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	if (op->body_len + len + 1 > op->body_cap) {
		size_t cap = op->body_cap ? op->body_cap : 4096;
		while (cap < op->body_len + len + 1)
			cap *= 2;
		char *b = realloc(op->body, cap);
		if (!b) {
			op->no_memory = true;
			return 0;
		}
		op->body = b;
		op->body_cap = cap;
	}
	memcpy(op->body + op->body_len, p, len);
	op->body_len += len;
	op->body[op->body_len] = '\0';
	return len;
}

/* ---- transfers ---- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void transfer_done(struct fetch_op *op, CURLcode res)
{
	struct fetch_response *r = &op->resp;
	char *ct = NULL, *url = NULL;
	curl_easy_getinfo(op->easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(op->easy, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(op->easy, CURLINFO_EFFECTIVE_URL, &url);
	op->content_type = dup_or_null(ct);
	op->effective_url = dup_or_null(url);
	r->error = error_of(res, op);
	if (r->error) {
		op->error_text = strdup(op->too_big	? "response body over max_body"
					: op->errbuf[0] ? op->errbuf
							: curl_easy_strerror(res));
	}
	op_release_easy(op);
	if (op->path && !r->error && r->status >= 200 && r->status < 300) {
		size_t n = strlen(op->path) + sizeof(".part");
		op->part = malloc(n);
		if (op->part) {
			snprintf(op->part, n, "%s.part", op->path);
			fetch__download_begin(op);
			return;
		}
		r->error = -ENOMEM;
	}
	/* Nothing to write: a download that failed (or was not 2xx) leaves no
	 * file behind, as it never created one. */
	fetch__op_unlink(op);
	fetch__op_finish(op, r->error);
}

static void multi_check(struct fetch *f)
{
	CURLMsg *msg;
	int left;
	while (!f->destroyed && (msg = curl_multi_info_read(f->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct fetch_op *op = NULL;
		CURLcode res = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&op);
		if (op)
			transfer_done(op, res); /* may destroy f: the loop re-checks */
	}
}

static void sock_closed_cb(uv_handle_t *h)
{
	struct fetch_sock *s = h->data;
	struct fetch *f = s->f;
	free(s);
	fetch__unref(f);
}

static void sock_close(struct fetch_sock *s)
{
	struct fetch *f = s->f;
	if (s->prev)
		s->prev->next = s->next;
	else
		f->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed_cb);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct fetch_sock *s = p->data;
	struct fetch *f = s->f;
	int flags = 0, running;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(f->multi, s->fd, flags, &running);
	multi_check(f);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct fetch *f = userp;
	struct fetch_sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(f->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->f = f;
		s->fd = fd;
		if (uv_poll_init_socket(f->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->next = f->socks;
		if (f->socks)
			f->socks->prev = s;
		f->socks = s;
		f->refs++;
		curl_multi_assign(f->multi, fd, s);
	}
	int events = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, poll_cb);
	return 0;
}

static void curl_timer_cb(uv_timer_t *t)
{
	struct fetch *f = t->data;
	int running;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	multi_check(f);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch *f = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&f->timer);
	else
		uv_timer_start(&f->timer, curl_timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

/* ---- requests ---- */

static bool is_http_url(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

static int op_headers(struct fetch_op *op, const struct fetch_request *req, bool post)
{
	struct curl_slist *l = NULL;
	char ct[256];
	if (post) {
		if (req->content_type && strpbrk(req->content_type, "\r\n"))
			return -EINVAL;
		int n = snprintf(ct, sizeof(ct), "Content-Type: %s",
				 req->content_type ? req->content_type
						   : "application/x-www-form-urlencoded");
		if (n < 0 || (size_t)n >= sizeof(ct))
			return -EINVAL;
		if (!(l = curl_slist_append(NULL, ct)))
			return -ENOMEM;
		op->headers = l;
	}
	/* No "Expect: 100-continue" round trip before a body. */
	if (!(l = curl_slist_append(op->headers, "Expect:")))
		return -ENOMEM;
	op->headers = l;
	for (size_t i = 0; i < FETCH_HEADERS_MAX && req->headers[i]; i++) {
		if (!strchr(req->headers[i], ':') || strpbrk(req->headers[i], "\r\n"))
			return -EINVAL;
		if (!(l = curl_slist_append(op->headers, req->headers[i])))
			return -ENOMEM;
		op->headers = l;
	}
	return 0;
}

static int op_setup(struct fetch_op *op, const struct fetch_request *req)
{
	bool post;
	if (!req->method)
		post = req->body != NULL;
	else if (strcmp(req->method, "POST") == 0)
		post = true;
	else if (strcmp(req->method, "GET") == 0)
		post = false;
	else
		return -EINVAL;
	if (!post && req->body)
		return -EINVAL;
	int err = op_headers(op, req, post);
	if (err)
		return err;
	CURL *e = op->easy = curl_easy_init();
	if (!e)
		return -ENOMEM;
	long timeout = req->timeout_ms ? (long)req->timeout_ms : DEFAULT_TIMEOUT_MS;
	curl_easy_setopt(e, CURLOPT_PRIVATE, op);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "irisx/" IRISX_VERSION);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, op->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, op);
	/* A declared Content-Length over the limit fails before any byte. */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)op->max_body);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, op->headers);
	if (req->follow_redirects) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	}
	if (post) {
		if (req->body_len) {
			if (!(op->req_body = malloc(req->body_len)))
				return -ENOMEM;
			memcpy(op->req_body, req->body, req->body_len);
		}
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, op->req_body ? op->req_body : "");
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	if (req->download_path && !(op->path = strdup(req->download_path)))
		return -ENOMEM;
	return 0;
}

int fetch_start(struct fetch *f, const struct fetch_request *req, fetch_done_cb cb, void *arg,
		struct fetch_op **out)
{
	if (!f || f->destroyed || !req || !req->url || !cb)
		return -EINVAL;
	if (!is_http_url(req->url))
		return -EPROTONOSUPPORT;
	if (req->download_path && !req->download_path[0])
		return -EINVAL;
	struct fetch_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->f = f;
	op->cb = cb;
	op->arg = arg;
	op->fd = -1;
	op->max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
	op->start_ns = uv_hrtime();
	int err = op_setup(op, req);
	if (!err && curl_multi_add_handle(f->multi, op->easy) != CURLM_OK)
		err = -ENOMEM;
	if (err) {
		fetch__op_free(op);
		return err;
	}
	op_link(op);
	if (out)
		*out = op;
	return 0;
}

void fetch_cancel(struct fetch_op *op)
{
	if (!op || op->state == FETCH_OP_CALLING || op->cancelled)
		return;
	op->cancelled = true;
	fetch__op_unlink(op);
	if (op->state == FETCH_OP_DISK)
		return; /* the step under way sees `cancelled` and removes the file */
	fetch__op_free(op);
}

size_t fetch_in_flight(const struct fetch *f)
{
	return f ? f->in_flight : 0;
}

/* ---- life cycle ---- */

static void timer_closed_cb(uv_handle_t *h)
{
	fetch__unref(h->data);
}

int fetch_create(struct fetch **out, uv_loop_t *loop)
{
	if (!out || !loop)
		return -EINVAL;
	/* Reference counted (and thread-safe) since libcurl 7.84. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -ENOMEM;
	struct fetch *f = calloc(1, sizeof(*f));
	if (!f || !(f->multi = curl_multi_init())) {
		free(f);
		curl_global_cleanup();
		return -ENOMEM;
	}
	f->loop = loop;
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	uv_timer_init(loop, &f->timer);
	f->timer.data = f;
	f->refs = 1;
	*out = f;
	return 0;
}

void fetch_destroy(struct fetch *f)
{
	if (!f || f->destroyed)
		return;
	/* Cancelling ops removes their transfers: curl asks to stop watching
	 * their sockets (CURL_POLL_REMOVE), which closes the poll handles. */
	while (f->ops)
		fetch_cancel(f->ops);
	f->destroyed = true;
	curl_multi_cleanup(f->multi);
	f->multi = NULL;
	curl_global_cleanup();
	/* Sockets curl kept for reuse and did not report closed. */
	while (f->socks)
		sock_close(f->socks);
	uv_close((uv_handle_t *)&f->timer, timer_closed_cb);
}
