/*
 * SIP transports on a libuv loop (RFC 3261 §18): UDP listeners, TCP
 * listeners with accepted and outgoing connections, stream framing
 * (§18.3) and response routing (§18.2.2 with RFC 3581's rport).
 *
 * Bytes only: messages go up as (peer, bytes) and the caller parses them.
 * Datagrams are read into one buffer owned by the set, so receiving never
 * allocates; a TCP connection reads into its own buffer and hands up each
 * framed message in place. Sends try the socket first (uv_udp_try_send,
 * uv_try_write) and copy bytes only when the kernel cannot take them now.
 */
#define LOG_MODULE "sip"
#include "sip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

enum {
	TCP_READ_CHUNK = 16384,
	TCP_MAX_BUFFER = SIP_MSG_MAX_SIZE + 16384,
	TCP_IDLE_MS = 300000, /* an idle connection is closed after 5 minutes */
	TCP_SWEEP_MS = 30000,
	TCP_MAX_PENDING = 1 << 20, /* bytes queued on one connection before we give up on it */
};

struct listener {
	struct sip_transport_set *ts;
	enum sip_transport transport;
	struct net_addr addr;
	char sent_by[NET_ADDR_STRLEN + 256 + 8];
	union {
		uv_handle_t handle;
		uv_udp_t udp;
		uv_tcp_t tcp;
	} h;
	struct listener *next;
};

struct tcp_conn {
	struct sip_transport_set *ts;
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	uint64_t id;
	struct net_addr remote;
	struct net_addr local;
	char *rbuf; /* owned */
	size_t rlen;
	size_t rcap;
	/* What framing learnt of the partial message at the start of rbuf:
	 * bytes looked at without finding the end of its headers, and its
	 * whole length once they are complete (0: not known yet). */
	size_t frame_scanned, frame_need;
	size_t queued; /* bytes handed to uv_write and not yet written */
	bool connected;
	bool closing;
	uint64_t last_active_ms;
	/* writes waiting for the connection to be established */
	struct pending_write *pending_head, **pending_tail;
	struct tcp_conn *prev, *next;
};

struct pending_write {
	struct pending_write *next;
	size_t len;
	char data[];
};

/* A uv_write or uv_udp_send in flight with its own copy of the bytes. */
struct send_req {
	union {
		uv_write_t write;
		uv_udp_send_t udp;
	} req;
	struct tcp_conn *conn; /* TCP only */
	size_t len;
	char data[];
};

struct sip_transport_set {
	uv_loop_t *loop;
	sip_transport_recv_cb recv_cb;
	void *arg;
	struct listener *listeners;
	struct tcp_conn *conns;
	uint64_t next_conn_id;
	char ext_host[256];
	uv_timer_t sweep;
	size_t open_handles; /* handles whose close callback has not run */
	bool closing;
	void (*done_cb)(void *arg);
	void *done_arg;
	char udp_buf[SIP_MSG_MAX_SIZE + 1];
};

static void tcp_conn_close(struct tcp_conn *c);

/* ---- closing: the set is freed when the last handle's close callback ran ---- */

static void set_maybe_free(struct sip_transport_set *ts)
{
	if (!ts->closing || ts->open_handles > 0)
		return;
	void (*done)(void *) = ts->done_cb;
	void *arg = ts->done_arg;
	free(ts);
	if (done)
		done(arg);
}

static void handle_closed_cb(uv_handle_t *h)
{
	struct sip_transport_set *ts = h->data;
	ts->open_handles--;
	set_maybe_free(ts);
}

static void listener_closed_cb(uv_handle_t *h)
{
	struct listener *l = h->data;
	struct sip_transport_set *ts = l->ts;
	free(l);
	ts->open_handles--;
	set_maybe_free(ts);
}

/* ---- UDP ---- */

static void udp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct listener *l = h->data;
	*buf = uv_buf_init(l->ts->udp_buf, sizeof(l->ts->udp_buf));
}

static void udp_recv_cb(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	struct listener *l = udp->data;

	if (nread < 0) {
		log_debug("udp receive error: %s", uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || !from)
		return;
	if (flags & UV_UDP_PARTIAL) {
		log_debug("dropping a truncated datagram");
		return;
	}
	struct sip_peer src = {.transport = SIP_TRANSPORT_UDP, .local = l->addr};
	memcpy(&src.remote, from,
	       from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					   : sizeof(struct sockaddr_in));
	/* Keep-alive CRLFs (RFC 5626 §4.4.1) carry no message. */
	if (nread <= 4) {
		ssize_t i = 0;
		while (i < nread && (buf->base[i] == '\r' || buf->base[i] == '\n'))
			i++;
		if (i == nread)
			return;
	}
	l->ts->recv_cb(l->ts->arg, &src, buf->base, (size_t)nread);
}

static void udp_send_done_cb(uv_udp_send_t *req, int status)
{
	if (status < 0)
		log_debug("udp send failed: %s", uv_strerror(status));
	free(req->data);
}

static int udp_send(struct listener *l, const struct net_addr *to, const char *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = uv_udp_try_send(&l->h.udp, &b, 1, &to->u.sa);
	if (n >= 0)
		return 0;
	if (n != UV_EAGAIN)
		return n;
	/* The socket buffer is full: queue a copy. */
	struct send_req *r = malloc(sizeof(*r) + len);
	if (!r)
		return -ENOMEM;
	memcpy(r->data, data, len);
	r->len = len;
	r->req.udp.data = r;
	b = uv_buf_init(r->data, (unsigned)len);
	int err = uv_udp_send(&r->req.udp, &l->h.udp, &b, 1, &to->u.sa, udp_send_done_cb);
	if (err)
		free(r);
	return err;
}

/* ---- TCP connections ---- */

static struct tcp_conn *tcp_conn_new(struct sip_transport_set *ts)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ts = ts;
	c->id = ++ts->next_conn_id;
	c->pending_tail = &c->pending_head;
	c->last_active_ms = uv_now(ts->loop);
	uv_tcp_init(ts->loop, &c->tcp);
	c->tcp.data = c;
	ts->open_handles++;
	c->next = ts->conns;
	if (ts->conns)
		ts->conns->prev = c;
	ts->conns = c;
	return c;
}

static void tcp_conn_closed_cb(uv_handle_t *h)
{
	struct tcp_conn *c = h->data;
	struct sip_transport_set *ts = c->ts;
	struct pending_write *p = c->pending_head;
	while (p) {
		struct pending_write *next = p->next;
		free(p);
		p = next;
	}
	free(c->rbuf);
	free(c);
	ts->open_handles--;
	set_maybe_free(ts);
}

static void tcp_conn_close(struct tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->ts->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	uv_close((uv_handle_t *)&c->tcp, tcp_conn_closed_cb);
}

static struct tcp_conn *tcp_conn_find(struct sip_transport_set *ts, const struct sip_peer *dest)
{
	struct tcp_conn *by_addr = NULL;
	for (struct tcp_conn *c = ts->conns; c; c = c->next) {
		if (dest->conn_id && c->id == dest->conn_id)
			return c;
		if (!by_addr && net_addr_eq(&c->remote, &dest->remote))
			by_addr = c;
	}
	return by_addr;
}

static void tcp_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tcp_conn *c = h->data;
	if (c->rcap - c->rlen < TCP_READ_CHUNK && c->rcap < TCP_MAX_BUFFER) {
		size_t cap = c->rcap ? c->rcap * 2 : TCP_READ_CHUNK * 2;
		if (cap > TCP_MAX_BUFFER)
			cap = TCP_MAX_BUFFER;
		char *p = realloc(c->rbuf, cap);
		if (p) {
			c->rbuf = p;
			c->rcap = cap;
		}
	}
	*buf = uv_buf_init(c->rbuf ? c->rbuf + c->rlen : NULL, (unsigned)(c->rcap - c->rlen));
}

/* Hands up every complete message in the buffer; false when the stream is broken. */
static bool tcp_conn_deliver(struct tcp_conn *c)
{
	size_t off = 0;
	bool ok = true;

	while (off < c->rlen && !c->closing) {
		/* The partial message the last read left is not looked at again
		 * until it can be whole (its length is known) or from where the
		 * last look stopped. */
		if (off == 0 && c->frame_need && c->rlen < c->frame_need)
			return true;
		size_t skip = 0, mlen = 0;
		size_t scanned = off == 0 && !c->frame_need ? c->frame_scanned : 0;
		int err = sip_msg_frame_resume(c->rbuf + off, c->rlen - off, scanned, &skip, &mlen);
		off += skip;
		if (err == -EAGAIN) {
			c->frame_scanned = c->rlen - off;
			c->frame_need = mlen;
			break;
		}
		c->frame_scanned = c->frame_need = 0;
		if (err) {
			ok = false;
			break;
		}
		struct sip_peer src = {.transport = SIP_TRANSPORT_TCP,
				       .remote = c->remote,
				       .local = c->local,
				       .conn_id = c->id};
		c->ts->recv_cb(c->ts->arg, &src, c->rbuf + off, mlen);
		off += mlen;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	return ok;
}

static void tcp_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct tcp_conn *c = s->data;
	char peer[NET_ADDR_STRLEN];

	if (nread == UV_ENOBUFS || (nread == 0 && buf->len == 0)) {
		log_warn("tcp %s: message over %d bytes, closing",
			 net_addr_print(&c->remote, peer, sizeof(peer)), TCP_MAX_BUFFER);
		tcp_conn_close(c);
		return;
	}
	if (nread < 0) {
		if (nread != UV_EOF)
			log_debug("tcp %s: %s", net_addr_print(&c->remote, peer, sizeof(peer)),
				  uv_strerror((int)nread));
		tcp_conn_close(c);
		return;
	}
	c->rlen += (size_t)nread;
	c->last_active_ms = uv_now(c->ts->loop);
	if (!tcp_conn_deliver(c)) {
		log_warn("tcp %s: malformed stream, closing",
			 net_addr_print(&c->remote, peer, sizeof(peer)));
		tcp_conn_close(c);
	} else if (c->rlen == c->rcap && c->rcap >= TCP_MAX_BUFFER) {
		log_warn("tcp %s: message too large, closing",
			 net_addr_print(&c->remote, peer, sizeof(peer)));
		tcp_conn_close(c);
	}
}

static void tcp_write_done_cb(uv_write_t *req, int status)
{
	struct send_req *r = req->data;
	r->conn->queued -= r->len;
	if (status < 0 && status != UV_ECANCELED)
		log_debug("tcp write failed: %s", uv_strerror(status));
	free(r);
}

static int tcp_write_now(struct tcp_conn *c, const char *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = c->queued ? UV_EAGAIN : uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (n == (int)len)
		return 0;
	if (n < 0 && n != UV_EAGAIN)
		return n;
	size_t done = n > 0 ? (size_t)n : 0;
	if (c->queued + len - done > TCP_MAX_PENDING) {
		tcp_conn_close(c);
		return -ENOBUFS;
	}
	struct send_req *r = malloc(sizeof(*r) + len - done);
	if (!r)
		return -ENOMEM;
	memcpy(r->data, data + done, len - done);
	r->len = len - done;
	r->conn = c;
	r->req.write.data = r;
	b = uv_buf_init(r->data, (unsigned)r->len);
	int err = uv_write(&r->req.write, (uv_stream_t *)&c->tcp, &b, 1, tcp_write_done_cb);
	if (err) {
		free(r);
		return err;
	}
	c->queued += r->len;
	return 0;
}

static void tcp_conn_start(struct tcp_conn *c)
{
	int len = sizeof(c->local);
	uv_tcp_getsockname(&c->tcp, &c->local.u.sa, &len);
	uv_tcp_nodelay(&c->tcp, 1);
	int err = uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc_cb, tcp_read_cb);
	if (err) {
		tcp_conn_close(c);
		return;
	}
	c->connected = true;
}

static void tcp_connect_cb(uv_connect_t *req, int status)
{
	struct tcp_conn *c = req->data;
	char peer[NET_ADDR_STRLEN];

	if (c->closing)
		return;
	if (status < 0) {
		log_notice("tcp connect to %s failed: %s",
			   net_addr_print(&c->remote, peer, sizeof(peer)), uv_strerror(status));
		tcp_conn_close(c);
		return;
	}
	tcp_conn_start(c);
	struct pending_write *p = c->pending_head;
	c->pending_head = NULL;
	c->pending_tail = &c->pending_head;
	while (p) {
		struct pending_write *next = p->next;
		if (!c->closing)
			tcp_write_now(c, p->data, p->len);
		free(p);
		p = next;
	}
}

static int tcp_send(struct sip_transport_set *ts, const struct sip_peer *dest, const char *data,
		    size_t len)
{
	struct tcp_conn *c = tcp_conn_find(ts, dest);

	if (!c) {
		c = tcp_conn_new(ts);
		if (!c)
			return -ENOMEM;
		c->remote = dest->remote;
		c->connect_req.data = c;
		int err =
		    uv_tcp_connect(&c->connect_req, &c->tcp, &dest->remote.u.sa, tcp_connect_cb);
		if (err) {
			tcp_conn_close(c);
			return err;
		}
	}
	c->last_active_ms = uv_now(ts->loop);
	if (c->connected)
		return tcp_write_now(c, data, len);
	struct pending_write *p = malloc(sizeof(*p) + len);
	if (!p)
		return -ENOMEM;
	p->next = NULL;
	p->len = len;
	memcpy(p->data, data, len);
	*c->pending_tail = p;
	c->pending_tail = &p->next;
	return 0;
}

static void tcp_accept_cb(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	if (status < 0)
		return;
	struct tcp_conn *c = tcp_conn_new(l->ts);
	if (!c)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		tcp_conn_close(c);
		return;
	}
	int len = sizeof(c->remote);
	uv_tcp_getpeername(&c->tcp, &c->remote.u.sa, &len);
	tcp_conn_start(c);
}

static void sweep_cb(uv_timer_t *t)
{
	struct sip_transport_set *ts = t->data;
	uint64_t now = uv_now(ts->loop);
	struct tcp_conn *c = ts->conns;
	while (c) {
		struct tcp_conn *next = c->next; /* closing unlinks c */
		if (now - c->last_active_ms > TCP_IDLE_MS)
			tcp_conn_close(c);
		c = next;
	}
}

/* ---- the set ---- */

int sip_transport_set_create(struct sip_transport_set **out, uv_loop_t *loop,
			     sip_transport_recv_cb recv_cb, void *arg)
{
	struct sip_transport_set *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	ts->loop = loop;
	ts->recv_cb = recv_cb;
	ts->arg = arg;
	uv_timer_init(loop, &ts->sweep);
	ts->sweep.data = ts;
	uv_timer_start(&ts->sweep, sweep_cb, TCP_SWEEP_MS, TCP_SWEEP_MS);
	uv_unref((uv_handle_t *)&ts->sweep);
	ts->open_handles = 1;
	*out = ts;
	return 0;
}

static void listener_set_sent_by(struct listener *l)
{
	char host[NET_ADDR_STRLEN];
	const struct sip_transport_set *ts = l->ts;
	if (ts->ext_host[0]) {
		snprintf(l->sent_by, sizeof(l->sent_by), "%s:%u", ts->ext_host,
			 net_addr_port(&l->addr));
		return;
	}
	net_addr_print_host(&l->addr, host, sizeof(host));
	if (net_addr_family(&l->addr) == AF_INET6)
		snprintf(l->sent_by, sizeof(l->sent_by), "[%s]:%u", host, net_addr_port(&l->addr));
	else
		snprintf(l->sent_by, sizeof(l->sent_by), "%s:%u", host, net_addr_port(&l->addr));
}

int sip_transport_listen(struct sip_transport_set *ts, enum sip_transport transport,
			 const struct net_addr *addr)
{
	struct listener *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->ts = ts;
	l->transport = transport;
	l->addr = *addr;
	if (transport == SIP_TRANSPORT_UDP) {
		uv_udp_init(ts->loop, &l->h.udp);
		l->h.udp.data = l;
		err = uv_udp_bind(&l->h.udp, &addr->u.sa,
				  net_addr_family(addr) == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
		if (!err)
			err = uv_udp_recv_start(&l->h.udp, udp_alloc_cb, udp_recv_cb);
	} else if (transport == SIP_TRANSPORT_TCP) {
		uv_tcp_init(ts->loop, &l->h.tcp);
		l->h.tcp.data = l;
		err = uv_tcp_bind(&l->h.tcp, &addr->u.sa,
				  net_addr_family(addr) == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
		if (!err)
			err = uv_listen((uv_stream_t *)&l->h.tcp, 511, tcp_accept_cb);
	} else {
		free(l);
		return -EPROTONOSUPPORT;
	}
	ts->open_handles++;
	if (err) {
		uv_close(&l->h.handle, listener_closed_cb);
		return err;
	}
	/* Port 0 asks the kernel for one: advertise the real one. */
	int len = sizeof(l->addr);
	if (transport == SIP_TRANSPORT_UDP)
		uv_udp_getsockname(&l->h.udp, &l->addr.u.sa, &len);
	else
		uv_tcp_getsockname(&l->h.tcp, &l->addr.u.sa, &len);
	listener_set_sent_by(l);
	l->next = ts->listeners;
	ts->listeners = l;
	return 0;
}

static struct listener *listener_find(const struct sip_transport_set *ts,
				      enum sip_transport transport, int family)
{
	for (struct listener *l = ts->listeners; l; l = l->next)
		if (l->transport == transport && net_addr_family(&l->addr) == family)
			return l;
	return NULL;
}

int sip_transport_send(struct sip_transport_set *ts, const struct sip_peer *dest, const char *data,
		       size_t len)
{
	if (ts->closing)
		return -ESHUTDOWN;
	if (dest->transport == SIP_TRANSPORT_TCP)
		return tcp_send(ts, dest, data, len);
	if (dest->transport != SIP_TRANSPORT_UDP)
		return -EPROTONOSUPPORT;
	struct listener *l = listener_find(ts, SIP_TRANSPORT_UDP, net_addr_family(&dest->remote));
	if (!l)
		return -EAFNOSUPPORT;
	return udp_send(l, &dest->remote, data, len);
}

void sip_transport_response_peer(const struct sip_peer *src, const struct sip_via *via,
				 struct sip_peer *out)
{
	uint16_t default_port = src->transport == SIP_TRANSPORT_TLS ? 5061 : 5060;

	*out = *src;
	/* §18.2.2: over a stream the response goes back on the request's connection;
	 * should that be gone, a new one goes to the source address and the sent-by
	 * port. Over UDP it goes to the source address (RFC 3581 when rport was
	 * asked for: and the source port) — the address we would have put in
	 * "received". */
	if (sip_transport_reliable(src->transport)) {
		net_addr_set_port(&out->remote, via->port ? via->port : default_port);
		return;
	}
	if (!via->rport)
		net_addr_set_port(&out->remote, via->port ? via->port : default_port);
}

void sip_transport_set_ext_host(struct sip_transport_set *ts, const char *ext_host)
{
	snprintf(ts->ext_host, sizeof(ts->ext_host), "%s", ext_host ? ext_host : "");
	for (struct listener *l = ts->listeners; l; l = l->next)
		listener_set_sent_by(l);
}

const char *sip_transport_sent_by(const struct sip_transport_set *ts, enum sip_transport transport,
				  int family)
{
	const struct listener *l = listener_find(ts, transport, family);
	if (!l)
		l = listener_find(ts, SIP_TRANSPORT_UDP, family);
	if (!l)
		l = ts->listeners;
	return l ? l->sent_by : "invalid";
}

void sip_transport_set_close(struct sip_transport_set *ts, void (*done_cb)(void *arg), void *arg)
{
	ts->closing = true;
	ts->done_cb = done_cb;
	ts->done_arg = arg;
	while (ts->conns)
		tcp_conn_close(ts->conns);
	struct listener *l = ts->listeners;
	ts->listeners = NULL;
	while (l) {
		struct listener *next = l->next;
		uv_close(&l->h.handle, listener_closed_cb);
		l = next;
	}
	uv_close((uv_handle_t *)&ts->sweep, handle_closed_cb);
}
