/*
 * One Event Socket connection: the greeting and the ACL check, reading and
 * splitting commands (several per packet, or one over many reads), writing
 * replies in order, and the bounded event queue that a slow reader
 * overflows instead of slowing the loop (the queue itself is esl_event.c's:
 * past its cap events are dropped, counted, and the client gets a
 * CUSTOM irisx::events_dropped event where they went missing; docs/ESL.md).
 */
#define LOG_MODULE "esl"
#include "control/esl_int.h"
#include "config/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct esl_write {
	uv_write_t req;
	struct buf data;
};

static void conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *out);

/* A connection going away leaves its pending api: the command completes,
 * its reply is dropped (nothing here is touched again). */
static void conn_detach_api(struct esl_conn *c)
{
	core_reply_detach(c->api_pending);
	c->api_pending = NULL;
	c->resume = false;
}

static void conn_closed_cb(uv_handle_t *h)
{
	struct esl_conn *c = h->data;
	conn_detach_api(c);
	if (c->ob)
		esl__outbound_closed(c);
	for (size_t i = 0; i < c->q_len; i++)
		core_event_unref(c->queue[(c->q_head + i) % c->q_cap]);
	free(c->queue);
	esl__conn_sub_free(c);
	free(c->in);
	free(c);
}

static void flush_list_remove(struct esl *esl, struct esl_conn *c)
{
	if (!c->flush_pending)
		return;
	for (struct esl_conn **pp = &esl->flush_list; *pp; pp = &(*pp)->flush_next)
		if (*pp == c) {
			*pp = c->flush_next;
			break;
		}
	c->flush_pending = false;
}

/* Takes the connection off the server's lists: no more events reach it. */
static void conn_unlink(struct esl_conn *c)
{
	struct esl *esl = c->esl;
	conn_detach_api(c);
	if (!esl)
		return;
	flush_list_remove(esl, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		esl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->esl = NULL;
}

void esl__conn_close(struct esl_conn *c)
{
	if (c->closing && !c->esl)
		return;
	conn_unlink(c);
	c->closing = true;
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
}

static void maybe_resume_read(struct esl_conn *c)
{
	if (!c->reading && !c->closing && c->tcp.write_queue_size < ESL_WRITE_STOP_READ / 2) {
		uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, conn_read_cb);
		c->reading = true;
	}
}

static void write_cb(uv_write_t *req, int status)
{
	struct esl_write *w = (struct esl_write *)req;
	struct esl_conn *c = req->data;
	buf_fini(&w->data);
	free(w);
	if (status < 0 || c->closing)
		return;
	maybe_resume_read(c);
	if (c->q_len > 0 || c->dropped > 0)
		esl__conn_flush(c);
}

/* Takes the bytes of `b` (reset after). */
void esl__conn_send_raw(struct esl_conn *c, struct buf *b)
{
	if (c->closing || b->len == 0) {
		buf_reset(b);
		return;
	}
	struct esl_write *w = malloc(sizeof(*w));
	if (!w || b->failed) {
		free(w);
		buf_reset(b);
		esl__conn_close(c);
		return;
	}
	w->data = *b;
	buf_init(b);
	w->req.data = c;
	uv_buf_t ub = uv_buf_init(w->data.p, (unsigned)w->data.len);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, write_cb);
	if (rc < 0) {
		buf_fini(&w->data);
		free(w);
		esl__conn_close(c);
		return;
	}
	if (c->reading && c->tcp.write_queue_size > ESL_WRITE_STOP_READ) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

static void frame_print(struct buf *b, const char *type, const char *extra, const char *body,
			size_t body_len)
{
	buf_printf(b, "Content-Type: %s\n", type);
	if (extra)
		buf_append_cstr(b, extra);
	if (body_len > 0)
		buf_printf(b, "Content-Length: %zu\n", body_len);
	buf_append(b, "\n", 1);
	if (body_len > 0)
		buf_append(b, body, body_len);
}

void esl__conn_send(struct esl_conn *c, const char *type, const char *extra, const char *body,
		    size_t body_len)
{
	struct buf b;
	buf_init(&b);
	frame_print(&b, type, extra, body, body_len);
	esl__conn_send_raw(c, &b);
	buf_fini(&b);
}

void esl__conn_reply(struct esl_conn *c, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b);
	buf_append_cstr(&b, "Content-Type: command/reply\nReply-Text: ");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_append_cstr(&b, "\n\n");
	esl__conn_send_raw(c, &b);
	buf_fini(&b);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	struct esl_conn *c = req->data;
	free(req);
	if (!uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
}

void esl__conn_finish(struct esl_conn *c)
{
	static const char bye[] = "Disconnected, goodbye.\n";
	if (c->closing)
		return;
	char extra[128] = "";
	if (c->ob)
		snprintf(extra, sizeof(extra),
			 "Controlled-Session-UUID: %s\nContent-Disposition: disconnect\n",
			 esl__outbound_uuid(c));
	esl__conn_send(c, "text/disconnect-notice", extra[0] ? extra : NULL, bye, sizeof(bye) - 1);
	if (c->closing)
		return; /* the write failed: closed already */
	/* Unlink now (no more events), close once the socket has drained. */
	conn_unlink(c);
	c->closing = true;
	if (c->reading)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = false;
	uv_shutdown_t *req = malloc(sizeof(*req));
	if (req) {
		req->data = c;
		if (uv_shutdown(req, (uv_stream_t *)&c->tcp, shutdown_cb) == 0)
			return;
		free(req);
	}
	uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
	struct esl_conn *c = h->data;
	enum { CHUNK = 16384 };
	if (c->in_cap - c->in_len < CHUNK) {
		size_t cap = c->in_cap ? c->in_cap * 2 : CHUNK;
		while (cap - c->in_len < CHUNK)
			cap *= 2;
		char *p = realloc(c->in, cap);
		if (!p) {
			*out = uv_buf_init(NULL, 0);
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	*out = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

void esl__conn_process(struct esl_conn *c)
{
	size_t off = 0;
	if (!c->esl)
		return;
	while (!c->closing && !c->api_pending && off < c->in_len) {
		struct esl_frame f;
		int rc = esl_frame_parse(c->in + off, c->in_len - off, &f);
		if (rc == -EAGAIN) {
			off += f.consumed;
			break;
		}
		if (rc < 0) {
			esl__conn_reply(c, "-ERR malformed command");
			esl__conn_finish(c);
			return;
		}
		struct esl *esl = c->esl;
		esl->in_command++;
		esl__command(c, &f);
		off += f.consumed;
		if (--esl->in_command == 0 && esl->destroy_pending) {
			esl->destroy_pending = false;
			esl_destroy(esl);
		}
	}
	if (c->closing)
		return;
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (c->api_pending) {
		/* What waits behind the api is bounded: past the cap, stop reading
		 * until it replies (the client is not told off: its commands are fine). */
		if (c->in_len >= ESL_READ_MAX && c->reading) {
			uv_read_stop((uv_stream_t *)&c->tcp);
			c->reading = false;
		}
		return;
	}
	if (c->in_len > ESL_READ_MAX) {
		esl__conn_reply(c, "-ERR command too large");
		esl__conn_finish(c);
		return;
	}
	maybe_resume_read(c);
}

void esl__conn_resume(struct esl_conn *c)
{
	if (c->closing || !c->esl)
		return;
	c->resume = true;
	esl__wake(c->esl);
}

static void conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct esl_conn *c = s->data;
	if (n < 0) {
		esl__conn_close(c);
		return;
	}
	if (n == 0)
		return;
	c->in_len += (size_t)n;
	esl__conn_process(c);
}

struct esl_conn *esl__conn_new(struct esl *esl)
{
	struct esl_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->queue = calloc(esl->set.queue_max, sizeof(*c->queue));
	if (!c->queue) {
		free(c);
		return NULL;
	}
	c->q_cap = esl->set.queue_max;
	c->log_level = -1;
	uv_tcp_init(esl->loop, &c->tcp);
	c->tcp.data = c;
	return c;
}

void esl__conn_link(struct esl_conn *c, struct esl *esl)
{
	c->esl = esl;
	c->next = esl->conns;
	if (c->next)
		c->next->prev = c;
	esl->conns = c;
}

void esl__conn_read_start(struct esl_conn *c)
{
	if (c->closing || c->reading)
		return;
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, conn_read_cb);
	c->reading = true;
}

void esl__accept(struct esl *esl)
{
	struct esl_conn *c = esl__conn_new(esl);
	if (!c)
		return;
	if (uv_accept((uv_stream_t *)&esl->listener, (uv_stream_t *)&c->tcp) != 0) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
		return;
	}
	esl__conn_link(c, esl);
	esl->stats.connections++;

	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct net_addr peer;
	memset(&peer, 0, sizeof(peer));
	bool have_peer = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 &&
			 (size_t)len <= sizeof(peer.u);
	if (have_peer)
		memcpy(&peer.u, &ss, (size_t)len);
	/* The core's set, looked up now: SIGHUP and reloadacl replace it, and
	 * connections accepted before keep going. */
	const struct acl_set *acls = esl->core ? core_acls(esl->core) : NULL;
	if (!acls)
		acls = esl->set.acls;
	if (esl->set.inbound_acl[0] &&
	    (!have_peer || !acl_check(acls, esl->set.inbound_acl, &peer))) {
		static const char go_away[] = "Access Denied, go away.\n";
		char host[64];
		log_notice("event socket: %s denied by ACL %s",
			   have_peer ? net_addr_print(&peer, host, sizeof(host)) : "?",
			   esl->set.inbound_acl);
		esl__conn_send(c, "text/rude-rejection", NULL, go_away, sizeof(go_away) - 1);
		esl__conn_finish(c);
		return;
	}
	static const char greet[] = "Content-Type: auth/request\n\n";
	struct buf g;
	buf_init(&g);
	buf_append(&g, greet, sizeof(greet) - 1);
	esl__conn_send_raw(c, &g);
	buf_fini(&g);
	esl__conn_read_start(c);
}
