/*
 * WebSocket sessions of GET /v1/events (RFC 6455): the opening handshake's
 * accept key, then wslay's event API over the upgraded socket, polled on the
 * loop. The event stream (evstream.c) is the only queue that grows with a
 * slow client, and it is bounded: wslay is fed from it a few messages at a
 * time, only while the socket takes them.
 */
#define LOG_MODULE "ws"
#include "control/control.h"
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>
#include <wslay/wslay.h>

enum {
	WS_MSG_MAX = 64 * 1024, /* what a client may send */
	WS_INFLIGHT = 64,	/* messages handed to wslay ahead of the socket */
};

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	/* 16 bytes in base64: 22 characters and "==". */
	if (!key || strlen(key) != 24 || key[22] != '=' || key[23] != '=')
		return -EINVAL;
	for (size_t i = 0; i < 22; i++)
		if (!base64_char(key[i]))
			return -EINVAL;
	unsigned char cat[24 + sizeof(ws_guid) - 1];
	memcpy(cat, key, 24);
	memcpy(cat + 24, ws_guid, sizeof(ws_guid) - 1);
	unsigned char md[SHA_DIGEST_LENGTH];
	SHA1(cat, sizeof(cat), md);
	/* 20 bytes → 28 characters and the NUL EVP_EncodeBlock writes. */
	EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
	return 0;
}

struct ws_session {
	uv_poll_t poll;
	int fd;
	wslay_event_context_ptr ctx;
	struct evstream *stream;
	struct buf scratch;
	struct buf early; /* bytes the client sent with its handshake, read first */
	size_t early_pos;
	void (*closed_cb)(void *arg);
	void *arg;
	int events; /* what the poll watches */
	bool ending;
};

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
		       void *user)
{
	struct ws_session *ws = user;
	if (ws->early_pos < ws->early.len) {
		size_t n = ws->early.len - ws->early_pos;
		if (n > len)
			n = len;
		memcpy(buf, ws->early.p + ws->early_pos, n);
		ws->early_pos += n;
		return (ssize_t)n;
	}
	ssize_t n = recv(ws->fd, buf, len, 0);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	} else {
		log_debug("websocket on fd %d: %s", ws->fd, n == 0 ? "end of stream" : strerror(errno));
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	}
	return -1;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
		       void *user)
{
	struct ws_session *ws = user;
	ssize_t n = send(ws->fd, data, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void msg_recv_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
			void *user)
{
	/* Text and binary messages from the client mean nothing yet; wslay
	 * answers pings and closes by itself. */
}

static void session_closed(uv_handle_t *h)
{
	struct ws_session *ws = h->data;
	void (*cb)(void *) = ws->closed_cb;
	void *arg = ws->arg;
	evstream_destroy(ws->stream);
	wslay_event_context_free(ws->ctx);
	buf_fini(&ws->scratch);
	buf_fini(&ws->early);
	free(ws);
	if (cb)
		cb(arg);
}

static void session_end(struct ws_session *ws, const char *why)
{
	if (ws->ending)
		return;
	log_debug("websocket on fd %d ends: %s", ws->fd, why);
	ws->ending = true;
	uv_poll_stop(&ws->poll);
	uv_close((uv_handle_t *)&ws->poll, session_closed);
}

/* Hands wslay the next events while it holds few, so memory stays with the
 * bounded event stream. */
static void feed(struct ws_session *ws)
{
	if (wslay_event_get_close_sent(ws->ctx))
		return;
	while (wslay_event_get_queued_msg_count(ws->ctx) < WS_INFLIGHT) {
		struct core_event *ev = evstream_pop(ws->stream);
		if (!ev)
			break;
		buf_reset(&ws->scratch);
		core_event_print_json(ev, &ws->scratch);
		core_event_unref(ev);
		if (ws->scratch.failed)
			continue;
		struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)ws->scratch.p,
					    ws->scratch.len};
		if (wslay_event_queue_msg(ws->ctx, &m) != 0)
			break;
	}
}

static void poll_cb(uv_poll_t *p, int status, int events);

static void update(struct ws_session *ws)
{
	if (ws->ending)
		return;
	/* Closed both ways, or our close (an answer, or a protocol error such as
	 * an oversized message) is out: the server closes the connection first
	 * (RFC 6455 §7.1.1), without waiting on a client that may never answer. */
	if ((!wslay_event_want_read(ws->ctx) || wslay_event_get_close_sent(ws->ctx)) &&
	    !wslay_event_want_write(ws->ctx)) {
		session_end(ws, wslay_event_get_close_received(ws->ctx) ? "closed by the client"
									: "closed");
		return;
	}
	int want = 0;
	if (wslay_event_want_read(ws->ctx))
		want |= UV_READABLE;
	if (wslay_event_want_write(ws->ctx) || evstream_queued(ws->stream))
		want |= UV_WRITABLE;
	if (want != ws->events) {
		ws->events = want;
		uv_poll_start(&ws->poll, want, poll_cb);
	}
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct ws_session *ws = p->data;
	if (status < 0) {
		session_end(ws, uv_strerror(status));
		return;
	}
	if ((events & UV_READABLE) && wslay_event_recv(ws->ctx) != 0) {
		session_end(ws, "connection lost (read)");
		return;
	}
	if (events & UV_WRITABLE) {
		feed(ws);
		if (wslay_event_send(ws->ctx) != 0) {
			session_end(ws, "connection lost (write)");
			return;
		}
	}
	update(ws);
}

static void ready_cb(void *arg)
{
	/* From inside the bus: only ask to be told when the socket is writable. */
	update(arg);
}

int ws_session_create(struct ws_session **out, uv_loop_t *loop, struct core *core, int fd,
		      const char *extra, size_t extra_len, const struct evstream_filter *f,
		      bool resume, uint64_t after, size_t queue_max, struct evstream_stats *stats,
		      void (*closed_cb)(void *arg), void *arg)
{
	if (!out || !loop || !core || fd < 0 || !f)
		return -EINVAL;
	struct ws_session *ws = calloc(1, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	ws->fd = fd;
	ws->closed_cb = closed_cb;
	ws->arg = arg;
	buf_init(&ws->scratch);
	buf_init(&ws->early);
	if (extra_len) {
		buf_append(&ws->early, extra, extra_len);
		if (ws->early.failed) {
			buf_fini(&ws->early);
			free(ws);
			return -ENOMEM;
		}
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int e = -errno;
		buf_fini(&ws->early);
		free(ws);
		return e;
	}
	struct wslay_event_callbacks cbs = {
	    .recv_callback = recv_cb, .send_callback = send_cb, .on_msg_recv_callback = msg_recv_cb};
	if (wslay_event_context_server_init(&ws->ctx, &cbs, ws) != 0) {
		buf_fini(&ws->early);
		free(ws);
		return -ENOMEM;
	}
	wslay_event_config_set_max_recv_msg_length(ws->ctx, WS_MSG_MAX);
	int err = uv_poll_init_socket(loop, &ws->poll, fd);
	if (err) {
		wslay_event_context_free(ws->ctx);
		buf_fini(&ws->early);
		free(ws);
		return err;
	}
	ws->poll.data = ws;
	err = evstream_create(&ws->stream, core, f, resume, after, queue_max, stats, ready_cb, ws);
	if (err) {
		ws->closed_cb = NULL; /* the caller learns it from the result */
		session_end(ws, "no memory");
		return err;
	}
	update(ws);
	/* A frame that came with the handshake is read without waiting for the
	 * socket to become readable again. */
	if (ws->early.len && wslay_event_recv(ws->ctx) == 0)
		update(ws);
	*out = ws;
	return 0;
}

void ws_session_close(struct ws_session *ws)
{
	if (!ws || ws->ending)
		return;
	if (!wslay_event_get_close_sent(ws->ctx)) {
		wslay_event_queue_close(ws->ctx, WSLAY_CODE_GOING_AWAY, NULL, 0);
		wslay_event_send(ws->ctx); /* best effort: the socket may be full */
	}
	session_end(ws, "server going away");
}
