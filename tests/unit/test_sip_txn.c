/*
 * Transaction layer tests (RFC 3261 §17, RFC 6026) on a fake clock: every
 * test drives the layer with parsed messages and asserts what went out on the
 * wire, when, and what the transaction user was told.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip.h"
#include "sip/sip_txn_int.h"

/* ---- fixture ------------------------------------------------------------------- */

struct sent {
	uint64_t at;
	bool response;
	struct sip_peer dest; /* requests */
	struct sip_via via;   /* responses: host and branch only are checked */
	char *data;
	size_t len;
};

struct told { /* a client callback */
	uint64_t at;
	uint16_t status;
	bool has_resp;
	struct sip_txn *ctx;
};

struct fx {
	struct sip_txn_layer *layer;
	uint64_t now;
	struct sent *sent;
	size_t nsent, capsent;
	int send_result; /* what the send callbacks return */
	/* server side */
	size_t requests;
	struct sip_txn *stx;
	struct sip_msg *req;  /* reference to the last request given to request_cb */
	uint16_t auto_status; /* respond from inside request_cb when non-zero */
	int auto_err;
	size_t acks;
	size_t ack_timeouts;
	uint64_t ack_timeout_at;
	struct sip_txn *timed_out;
	/* client side */
	struct told told[64];
	size_t ntold;
	bool detach_in_cb;
	void (*on_told)(struct fx *f, struct sip_txn *ctx, uint16_t status);
	void (*on_request)(struct fx *f, struct sip_txn *stx, struct sip_msg *req);
};

static uint64_t fx_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

static struct sent *fx_push(struct fx *f, const char *data, size_t len)
{
	if (f->nsent == f->capsent) {
		f->capsent = f->capsent ? 2 * f->capsent : 64;
		f->sent = realloc(f->sent, f->capsent * sizeof(*f->sent));
		assert_non_null(f->sent);
	}
	struct sent *s = &f->sent[f->nsent++];
	memset(s, 0, sizeof(*s));
	s->at = f->now;
	s->data = malloc(len + 1);
	assert_non_null(s->data);
	memcpy(s->data, data, len);
	s->data[len] = '\0';
	s->len = len;
	return s;
}

static int fx_send_request(void *arg, const struct sip_peer *dest, const char *data, size_t len)
{
	struct fx *f = arg;
	if (f->send_result)
		return f->send_result;
	struct sent *s = fx_push(f, data, len);
	s->dest = *dest;
	return 0;
}

static int fx_send_response(void *arg, const struct sip_peer *src, const struct sip_via *via,
			    const char *data, size_t len)
{
	struct fx *f = arg;
	if (f->send_result)
		return f->send_result;
	struct sent *s = fx_push(f, data, len);
	s->response = true;
	s->dest = *src;
	/* The transport routes with the Via: it must still name the request's sent-by. */
	assert_true(str_eq(via->host, STR("127.0.0.1")));
	assert_int_equal(via->port, 5070);
	return 0;
}

static void fx_request(void *arg, struct sip_txn *stx, struct sip_msg *req)
{
	struct fx *f = arg;
	f->requests++;
	f->stx = stx;
	sip_msg_unref(f->req);
	f->req = sip_msg_ref(req);
	assert_ptr_equal(sip_txn_request(stx), req);
	if (f->auto_status)
		f->auto_err = sip_txn_respond(stx, f->auto_status, NULL, "uas1", NULL, STR_NULL);
	if (f->on_request)
		f->on_request(f, stx, req);
}

static void fx_ack(void *arg, struct sip_msg *ack)
{
	struct fx *f = arg;
	assert_int_equal(ack->method, SIP_METHOD_ACK);
	f->acks++;
}

static void fx_ack_timeout(void *arg, struct sip_txn *stx)
{
	struct fx *f = arg;
	f->ack_timeouts++;
	f->ack_timeout_at = f->now;
	f->timed_out = stx;
	/* The callee may call back in: a final response was sent already. */
	assert_int_equal(sip_txn_respond(stx, 500, NULL, NULL, NULL, STR_NULL), -EINVAL);
	assert_int_equal(sip_txn_status(stx), 200);
}

static void fx_response(void *arg, struct sip_txn *ctx, const struct sip_msg *resp, uint16_t status)
{
	struct fx *f = arg;
	assert_true(f->ntold < ARRAY_LEN(f->told));
	struct told *t = &f->told[f->ntold++];
	t->at = f->now;
	t->status = status;
	t->has_resp = resp != NULL;
	t->ctx = ctx;
	if (resp)
		assert_int_equal(resp->status, status);
	if (f->detach_in_cb)
		sip_txn_client_detach(ctx);
	if (f->on_told)
		f->on_told(f, ctx, status);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct sip_txn_layer_cbs cbs = {
	    .now_cb = fx_now,
	    .send_request_cb = fx_send_request,
	    .send_response_cb = fx_send_response,
	    .request_cb = fx_request,
	    .ack_cb = fx_ack,
	    .ack_timeout_cb = fx_ack_timeout,
	    .arg = f,
	};
	assert_int_equal(sip_txn_layer_create(&f->layer, &cbs, NULL), 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	sip_txn_layer_destroy(f->layer);
	for (size_t i = 0; i < f->nsent; i++)
		free(f->sent[i].data);
	free(f->sent);
	sip_msg_unref(f->req);
	free(f);
	return 0;
}

/* Runs every timer due up to `t`, stepping the clock to each deadline. */
static void run_until(struct fx *f, uint64_t t)
{
	for (;;) {
		uint64_t d = sip_txn_layer_next_deadline(f->layer);
		if (d > t)
			break;
		if (d > f->now)
			f->now = d;
		sip_txn_layer_run_timers(f->layer);
	}
	if (t > f->now)
		f->now = t;
}

/* ---- messages ---------------------------------------------------------------- */

static struct sip_msg *parse_text(const char *text, enum sip_transport tp)
{
	/* Tests write "\n"; the wire wants CRLF. */
	size_t n = strlen(text);
	char *wire = malloc(2 * n + 1);
	assert_non_null(wire);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n')
			wire[w++] = '\r';
		wire[w++] = text[i];
	}
	struct sip_msg *m = NULL;
	int err = sip_msg_parse(&m, wire, w);
	free(wire);
	if (err)
		fail_msg("parse failed (%d):\n%s", err, text);
	m->src.transport = tp;
	assert_int_equal(net_addr_parse(&m->src.remote, STR("127.0.0.1"), 5070), 0);
	assert_int_equal(net_addr_parse(&m->src.local, STR("127.0.0.1"), 5060), 0);
	m->src.conn_id = tp == SIP_TRANSPORT_UDP ? 0 : 7;
	return m;
}

struct rq {
	const char *method;
	const char *branch; /* NULL: no branch parameter at all */
	uint32_t cseq;
	const char *cseq_method; /* NULL: same as method */
	const char *to_tag;	 /* NULL: none */
	const char *from_tag;	 /* NULL: "ft1" */
	const char *call_id;	 /* NULL: "call1@test" */
	const char *ruri;	 /* NULL: "sip:bob@127.0.0.1" */
	const char *route;	 /* NULL: no Route header */
	enum sip_transport tp;
};

static struct sip_msg *request(struct rq r)
{
	char text[2048], branch[128] = "", to_tag[128] = "", route[256] = "";
	if (r.branch)
		snprintf(branch, sizeof(branch), ";branch=%s", r.branch);
	if (r.to_tag)
		snprintf(to_tag, sizeof(to_tag), ";tag=%s", r.to_tag);
	if (r.route)
		snprintf(route, sizeof(route), "Route: %s\n", r.route);
	snprintf(text, sizeof(text),
		 "%s %s SIP/2.0\n"
		 "Via: SIP/2.0/%s 127.0.0.1:5070%s\n"
		 "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKfar\n"
		 "%s"
		 "Max-Forwards: 70\n"
		 "From: \"Alice\" <sip:alice@127.0.0.1>;tag=%s\n"
		 "To: <sip:bob@127.0.0.1>%s\n"
		 "Call-ID: %s\n"
		 "CSeq: %u %s\n"
		 "Contact: <sip:alice@127.0.0.1:5070>\n"
		 "Content-Length: 0\n\n",
		 r.method, r.ruri ? r.ruri : "sip:bob@127.0.0.1", sip_transport_name(r.tp), branch,
		 route, r.from_tag ? r.from_tag : "ft1", to_tag,
		 r.call_id ? r.call_id : "call1@test", r.cseq ? r.cseq : 1,
		 r.cseq_method ? r.cseq_method : r.method);
	return parse_text(text, r.tp);
}

static struct sip_msg *response(uint16_t status, const char *branch, uint32_t cseq,
				const char *cseq_method, const char *to_tag)
{
	char text[1024], tag[128] = "";
	if (to_tag)
		snprintf(tag, sizeof(tag), ";tag=%s", to_tag);
	snprintf(text, sizeof(text),
		 "SIP/2.0 %u %s\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s\n"
		 "From: \"Alice\" <sip:alice@127.0.0.1>;tag=ft1\n"
		 "To: <sip:bob@127.0.0.1>%s\n"
		 "Call-ID: call1@test\n"
		 "CSeq: %u %s\n"
		 "Contact: <sip:bob@127.0.0.1:5090>\n"
		 "Content-Length: 0\n\n",
		 status, sip_reason_phrase(status), branch, tag, cseq, cseq_method);
	return parse_text(text, SIP_TRANSPORT_UDP);
}

static void feed(struct fx *f, struct sip_msg *m)
{
	sip_txn_layer_recv(f->layer, m);
	sip_msg_unref(m);
}

static struct sip_peer peer(enum sip_transport tp)
{
	struct sip_peer p;
	memset(&p, 0, sizeof(p));
	p.transport = tp;
	assert_int_equal(net_addr_parse(&p.remote, STR("127.0.0.1"), 5090), 0);
	return p;
}

static struct sip_txn *client_start(struct fx *f, const char *method, const char *branch,
				    enum sip_transport tp)
{
	struct sip_msg *req = request((struct rq){
	    .method = method, .branch = branch, .tp = tp, .route = "<sip:proxy.test;lr>"});
	struct sip_peer dest = peer(tp);
	struct sip_txn *ctx = NULL;
	assert_int_equal(sip_txn_client_start(&ctx, f->layer, req, &dest, fx_response, f), 0);
	assert_non_null(ctx);
	sip_msg_unref(req); /* the transaction holds its own reference */
	return ctx;
}

/* Asserts the send times of f->sent[from ...] and that each is `first_line`. */
static void expect_sends(struct fx *f, size_t from, const uint64_t *at, size_t n,
			 const char *first_line)
{
	assert_int_equal(f->nsent - from, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(f->sent[from + i].at, at[i]);
		if (first_line)
			assert_memory_equal(f->sent[from + i].data, first_line, strlen(first_line));
	}
}

static struct sip_msg *parse_sent(struct fx *f, size_t i)
{
	struct sip_msg *m = NULL;
	assert_int_equal(sip_msg_parse(&m, f->sent[i].data, f->sent[i].len), 0);
	return m;
}

/* ---- the heap and the hash, alone -------------------------------------------- */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_heap_order(void **state)
{
	(void)state;
	enum { N = 50000 };
	struct sip__heap h;
	struct sip__timer *t = calloc(N, sizeof(*t));
	assert_non_null(t);
	sip__heap_init(&h);
	assert_int_equal(sip__heap_reserve(&h, N), 0);
	for (size_t i = 0; i < N; i++) {
		sip__timer_init(&t[i]);
		assert_int_equal(sip__heap_arm(&h, &t[i], rng() % 100000), 0);
	}
	/* Re-arm a third, cancel a third: removal from the middle must keep order. */
	for (size_t i = 0; i < N; i += 3)
		assert_int_equal(sip__heap_arm(&h, &t[i], rng() % 100000), 0);
	for (size_t i = 1; i < N; i += 3)
		sip__heap_cancel(&h, &t[i]);
	size_t expect = N - (N + 1) / 3;
	assert_int_equal(h.n, expect);
	uint64_t last = 0, last_seq = 0;
	size_t popped = 0;
	while (sip__heap_top(&h)) {
		struct sip__timer *top = sip__heap_top(&h);
		assert_true(top->due >= last);
		if (top->due == last && popped)
			assert_true(top->seq > last_seq); /* ties fire in arming order */
		last = top->due;
		last_seq = top->seq;
		sip__heap_cancel(&h, top);
		assert_false(sip__timer_armed(top));
		popped++;
	}
	assert_int_equal(popped, expect);
	for (size_t i = 1; i < N; i += 3)
		assert_false(sip__timer_armed(&t[i]));
	sip__heap_shrink(&h, 0);
	assert_true(h.cap < N);
	sip__heap_fini(&h);
	free(t);
}

static uint64_t siphash(const uint8_t *data, size_t len, size_t chunk)
{
	uint8_t key[16];
	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	struct sip__hasher hs;
	sip__hash_begin(&hs, key);
	for (size_t at = 0; at < len; at += chunk)
		sip__hash_feed(&hs, data + at, len - at < chunk ? len - at : chunk);
	return sip__hash_end(&hs);
}

static void test_siphash_vectors(void **state)
{
	(void)state;
	/* The reference vectors of the SipHash paper (key 00..0f, message 00..n-1). */
	uint8_t msg[64];
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	assert_true(siphash(msg, 0, 1) == 0x726fdb47dd0e0e31ull);
	assert_true(siphash(msg, 15, 15) == 0xa129ca6149be45e5ull);
	/* Feeding in pieces is the same as feeding at once. */
	for (size_t len = 0; len < sizeof(msg); len++)
		assert_true(siphash(msg, len, 1) == siphash(msg, len, 64));
}

struct item {
	struct sip__hnode node;
	uint64_t key;
};

static void test_htab_grow_shrink(void **state)
{
	(void)state;
	enum { N = 40000 };
	struct sip__htab t;
	struct item *it = calloc(N, sizeof(*it));
	assert_non_null(it);
	assert_int_equal(sip__htab_init(&t), 0);
	for (size_t i = 0; i < N; i++) {
		it[i].key = i;
		sip__htab_insert(&t, &it[i].node, i * 0x9e3779b97f4a7c15ull);
	}
	assert_true(t.mask + 1 >= N);
	for (size_t i = 0; i < N; i += 7) {
		uint64_t h = i * 0x9e3779b97f4a7c15ull;
		struct sip__hnode *n = sip__htab_first(&t, h);
		assert_ptr_equal(n, &it[i].node);
		assert_null(sip__htab_next(n, h));
	}
	for (size_t i = 0; i < N; i++)
		sip__htab_remove(&t, &it[i].node);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.mask + 1, 64); /* shrank back */
	sip__htab_fini(&t);
	free(it);
}

/* ---- INVITE client ------------------------------------------------------------- */

static void test_invite_client_udp_schedule(void **state)
{
	struct fx *f = *state;
	client_start(f, "INVITE", "z9hG4bKic1", SIP_TRANSPORT_UDP);
	run_until(f, 40000);
	/* Timer A: T1 doubling, no cap; Timer B at 64*T1 ends it. */
	static const uint64_t at[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	expect_sends(f, 0, at, ARRAY_LEN(at), "INVITE sip:bob@127.0.0.1 SIP/2.0\r\n");
	assert_int_equal(f->ntold, 1);
	assert_int_equal(f->told[0].status, 408);
	assert_false(f->told[0].has_resp);
	assert_int_equal(f->told[0].at, 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_true(sip_txn_layer_next_deadline(f->layer) == UINT64_MAX);
}

static void test_invite_client_tcp_no_retransmit(void **state)
{
	struct fx *f = *state;
	client_start(f, "INVITE", "z9hG4bKic2", SIP_TRANSPORT_TCP);
	run_until(f, 40000);
	static const uint64_t at[] = {0};
	expect_sends(f, 0, at, 1, "INVITE ");
	assert_int_equal(f->sent[0].dest.transport, SIP_TRANSPORT_TCP);
	assert_int_equal(f->ntold, 1);
	assert_int_equal(f->told[0].status, 408);
	assert_int_equal(f->told[0].at, 32000);
}

static void test_invite_client_non2xx_ack(void **state)
{
	struct fx *f = *state;
	struct sip_txn *ctx = client_start(f, "INVITE", "z9hG4bKic3", SIP_TRANSPORT_UDP);
	run_until(f, 600); /* INVITE at 0 and 500 */
	feed(f, response(180, "z9hG4bKic3", 1, "INVITE", "callee"));
	assert_int_equal(f->ntold, 1);
	assert_int_equal(f->told[0].status, 180);
	assert_ptr_equal(f->told[0].ctx, ctx);
	assert_int_equal(sip_txn_status(ctx), 180);
	/* Proceeding: no retransmission and no Timer B, however long it rings. */
	run_until(f, 100000);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->ntold, 1);

	feed(f, response(486, "z9hG4bKic3", 1, "INVITE", "callee"));
	assert_int_equal(f->ntold, 2);
	assert_int_equal(f->told[1].status, 486);
	assert_true(f->told[1].has_resp);
	assert_int_equal(f->nsent, 3);

	/* §17.1.1.3: the ACK. */
	struct sip_msg *ack = parse_sent(f, 2);
	assert_int_equal(ack->method, SIP_METHOD_ACK);
	assert_true(str_eq(ack->ruri_str, STR("sip:bob@127.0.0.1")));
	assert_true(str_eq(ack->via.branch, STR("z9hG4bKic3")));
	size_t vias = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(ack, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(ack, h))
		vias++;
	assert_int_equal(vias, 1); /* only the top Via */
	assert_true(str_eq(ack->to.tag, STR("callee")));
	assert_true(str_eq(ack->from.tag, STR("ft1")));
	assert_true(str_eq(ack->call_id, STR("call1@test")));
	assert_int_equal(ack->cseq.num, 1);
	assert_int_equal(ack->cseq.method, SIP_METHOD_ACK);
	const struct sip_hdr *route = sip_msg_hdr(ack, SIP_HDR_ROUTE);
	assert_non_null(route);
	assert_true(str_eq(route->value, STR("<sip:proxy.test;lr>")));
	assert_int_equal(ack->body.len, 0);
	sip_msg_unref(ack);

	/* The final again: the ACK again, the TU not told twice. */
	f->now = 101000;
	feed(f, response(486, "z9hG4bKic3", 1, "INVITE", "callee"));
	assert_int_equal(f->nsent, 4);
	assert_memory_equal(f->sent[3].data, f->sent[2].data, f->sent[2].len);
	assert_int_equal(f->ntold, 2);
	/* Timer D: 32 s after the final response. */
	run_until(f, 100000 + 31999);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	run_until(f, 100000 + 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

static void test_invite_client_non2xx_tcp(void **state)
{
	struct fx *f = *state;
	client_start(f, "INVITE", "z9hG4bKic4", SIP_TRANSPORT_TCP);
	feed(f, response(603, "z9hG4bKic4", 1, "INVITE", "x"));
	assert_int_equal(f->nsent, 2); /* INVITE, ACK */
	assert_memory_equal(f->sent[1].data, "ACK ", 4);
	assert_int_equal(f->ntold, 1);
	assert_int_equal(sip_txn_layer_count(f->layer), 0); /* Timer D is 0 */
}

static void test_invite_client_accepted(void **state)
{
	struct fx *f = *state;
	struct sip_txn *ctx = client_start(f, "INVITE", "z9hG4bKic5", SIP_TRANSPORT_UDP);
	f->now = 100;
	feed(f, response(200, "z9hG4bKic5", 1, "INVITE", "fork1"));
	assert_int_equal(f->ntold, 1);
	assert_int_equal(f->told[0].status, 200);
	assert_int_equal(f->nsent, 1); /* no ACK from the transaction for a 2xx */
	/* Accepted: retransmissions and other forks' 2xx reach the TU. */
	f->now = 600;
	feed(f, response(200, "z9hG4bKic5", 1, "INVITE", "fork1"));
	feed(f, response(200, "z9hG4bKic5", 1, "INVITE", "fork2"));
	feed(f, response(486, "z9hG4bKic5", 1, "INVITE", "fork3")); /* dropped */
	assert_int_equal(f->ntold, 3);
	assert_ptr_equal(f->told[2].ctx, ctx);
	assert_int_equal(f->nsent, 1);
	/* Timer M (64*T1 after the first 2xx): one last call, status 0. */
	run_until(f, 100 + 32000);
	assert_int_equal(f->ntold, 4);
	assert_int_equal(f->told[3].status, 0);
	assert_false(f->told[3].has_resp);
	assert_int_equal(f->told[3].at, 32100);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	feed(f, response(200, "z9hG4bKic5", 1, "INVITE", "fork1"));
	assert_int_equal(f->ntold, 4);
}

/* §9.1: after a CANCEL an INVITE in Proceeding waits 64*T1 for its final
 * response, then ends with 408; 1xx meanwhile do not stop that timer. */
static void test_invite_client_cancel_guard(void **state)
{
	struct fx *f = *state;
	struct sip_txn *ctx = client_start(f, "INVITE", "z9hG4bKcg1", SIP_TRANSPORT_UDP);
	sip_txn_client_cancel_sent(ctx); /* Calling: Timer B already runs, no-op */
	f->now = 100;
	feed(f, response(180, "z9hG4bKcg1", 1, "INVITE", "t"));
	run_until(f, 60000);
	assert_int_equal(f->ntold, 1); /* Proceeding has no timer of its own */
	sip_txn_client_cancel_sent(ctx);
	sip_txn_client_cancel_sent(ctx); /* once is enough: the deadline stays */
	f->now = 61000;
	feed(f, response(183, "z9hG4bKcg1", 1, "INVITE", "t"));
	run_until(f, 60000 + 32000 - 1);
	assert_int_equal(f->ntold, 2);
	run_until(f, 60000 + 32000);
	assert_int_equal(f->ntold, 3);
	assert_int_equal(f->told[2].status, 408);
	assert_false(f->told[2].has_resp);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	sip_txn_client_cancel_sent(NULL);
}

static void test_client_detach(void **state)
{
	struct fx *f = *state;
	struct sip_txn *ctx = client_start(f, "INVITE", "z9hG4bKic6", SIP_TRANSPORT_UDP);
	sip_txn_client_detach(ctx);
	feed(f, response(480, "z9hG4bKic6", 1, "INVITE", "t"));
	assert_int_equal(f->ntold, 0);
	assert_int_equal(f->nsent, 2); /* still ACKed on the wire */
	/* Detaching from inside the callback is fine too. */
	f->detach_in_cb = true;
	client_start(f, "OPTIONS", "z9hG4bKic7", SIP_TRANSPORT_UDP);
	feed(f, response(100, "z9hG4bKic7", 1, "OPTIONS", NULL));
	feed(f, response(200, "z9hG4bKic7", 1, "OPTIONS", "t"));
	assert_int_equal(f->ntold, 1);
	run_until(f, 60000);
	assert_int_equal(f->ntold, 1);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* ---- non-INVITE client ----------------------------------------------------------- */

static void test_client_udp_schedule(void **state)
{
	struct fx *f = *state;
	client_start(f, "OPTIONS", "z9hG4bKnc1", SIP_TRANSPORT_UDP);
	run_until(f, 40000);
	/* Timer E: T1 doubling up to T2 (4 s); Timer F at 64*T1. */
	static const uint64_t at[] = {0,     500,   1500,  3500,  7500, 11500,
				      15500, 19500, 23500, 27500, 31500};
	expect_sends(f, 0, at, ARRAY_LEN(at), "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n");
	assert_int_equal(f->ntold, 1);
	assert_int_equal(f->told[0].status, 408);
	assert_int_equal(f->told[0].at, 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

static void test_client_proceeding_and_k(void **state)
{
	struct fx *f = *state;
	client_start(f, "BYE", "z9hG4bKnc2", SIP_TRANSPORT_UDP);
	run_until(f, 600);
	feed(f, response(100, "z9hG4bKnc2", 1, "BYE", NULL));
	assert_int_equal(f->ntold, 1);
	/* E fires at 1500 as armed, then every T2 while Proceeding. */
	run_until(f, 10000);
	static const uint64_t at[] = {0, 500, 1500, 5500, 9500};
	expect_sends(f, 0, at, ARRAY_LEN(at), "BYE ");
	feed(f, response(200, "z9hG4bKnc2", 1, "BYE", "t"));
	assert_int_equal(f->ntold, 2);
	assert_int_equal(f->told[1].status, 200);
	feed(f, response(200, "z9hG4bKnc2", 1, "BYE", "t")); /* absorbed */
	assert_int_equal(f->ntold, 2);
	run_until(f, 10000 + 4999);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	run_until(f, 10000 + 5000); /* Timer K = T4 */
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->nsent, 5);
}

static void test_client_tcp(void **state)
{
	struct fx *f = *state;
	client_start(f, "OPTIONS", "z9hG4bKnc3", SIP_TRANSPORT_TCP);
	run_until(f, 20000);
	assert_int_equal(f->nsent, 1);
	feed(f, response(200, "z9hG4bKnc3", 1, "OPTIONS", "t"));
	assert_int_equal(f->ntold, 1);
	assert_int_equal(sip_txn_layer_count(f->layer), 0); /* Timer K is 0 */

	client_start(f, "OPTIONS", "z9hG4bKnc4", SIP_TRANSPORT_TCP);
	run_until(f, 20000 + 32000);
	assert_int_equal(f->nsent, 2);
	assert_int_equal(f->ntold, 2);
	assert_int_equal(f->told[1].status, 408);
	assert_int_equal(f->told[1].at, 52000);
}

static void test_client_errors(void **state)
{
	struct fx *f = *state;
	struct sip_msg *req = request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKe1"});
	struct sip_peer dest = peer(SIP_TRANSPORT_UDP);
	struct sip_txn *ctx = NULL;
	/* A failed first send: an error, no transaction, no callback. */
	f->send_result = -ECONNREFUSED;
	assert_int_equal(sip_txn_client_start(&ctx, f->layer, req, &dest, fx_response, f),
			 -ECONNREFUSED);
	assert_null(ctx);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	f->send_result = 0;
	assert_int_equal(sip_txn_client_start(&ctx, f->layer, req, &dest, fx_response, f), 0);
	struct sip_txn *dup = NULL;
	assert_int_equal(sip_txn_client_start(&dup, f->layer, req, &dest, fx_response, f), -EEXIST);
	sip_msg_unref(req);
	/* A failed retransmission: 503 to the TU, the transaction gone. */
	f->send_result = -ENETUNREACH;
	run_until(f, 500);
	assert_int_equal(f->ntold, 1);
	assert_int_equal(f->told[0].status, 503);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	f->send_result = 0;

	struct sip_msg *ack = request((struct rq){.method = "ACK", .branch = "z9hG4bKe2"});
	assert_int_equal(sip_txn_client_start(&ctx, f->layer, ack, &dest, fx_response, f), -EINVAL);
	sip_msg_unref(ack);
	assert_int_equal(sip_txn_send_stateless(f->layer, &dest, "x", 1), 0);
	assert_int_equal(f->nsent, 2);
}

static void test_stray_responses(void **state)
{
	struct fx *f = *state;
	client_start(f, "INVITE", "z9hG4bKs1", SIP_TRANSPORT_UDP);
	feed(f, response(200, "z9hG4bKother", 1, "INVITE", "t")); /* unknown branch */
	feed(f, response(200, "z9hG4bKs1", 1, "CANCEL", "t"));	  /* same branch, CANCEL */
	feed(f, response(200, "z9hG4bKs1", 1, "BYE", "t"));
	assert_int_equal(f->ntold, 0);
	assert_int_equal(f->nsent, 1);
	/* The CANCEL's own transaction shares the INVITE's branch (§9.1). */
	client_start(f, "CANCEL", "z9hG4bKs1", SIP_TRANSPORT_UDP);
	feed(f, response(200, "z9hG4bKs1", 1, "CANCEL", "t"));
	assert_int_equal(f->ntold, 1);
	assert_int_equal(f->told[0].status, 200);
	feed(f, response(487, "z9hG4bKs1", 1, "INVITE", "t"));
	assert_int_equal(f->ntold, 2);
	assert_int_equal(f->told[1].status, 487);
}

/* ---- INVITE server -------------------------------------------------------------- */

static void test_invite_server_non2xx_udp(void **state)
{
	struct fx *f = *state;
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis1"}));
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->nsent, 1);
	assert_memory_equal(f->sent[0].data, "SIP/2.0 100 ", 12); /* at once */
	struct sip_txn *stx = f->stx;

	/* Retransmitted INVITE: the 100 again, the TU not called. */
	f->now = 200;
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis1"}));
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->nsent, 2);
	assert_memory_equal(f->sent[1].data, "SIP/2.0 100 ", 12);
	assert_int_equal(sip_txn_respond(stx, 180, NULL, "uas1", NULL, STR_NULL), 0);
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis1"}));
	assert_int_equal(f->nsent, 4);
	assert_memory_equal(f->sent[3].data, "SIP/2.0 180 ", 12);

	f->now = 1000;
	assert_int_equal(sip_txn_respond(stx, 486, NULL, "uas1", NULL, STR_NULL), 0);
	assert_int_equal(sip_txn_respond(stx, 487, NULL, "uas1", NULL, STR_NULL), -EINVAL);
	size_t base = f->nsent - 1;
	run_until(f, 40000);
	/* Timer G: T1 doubling up to T2 until Timer H at 64*T1. */
	static const uint64_t at[] = {1000,  1500,  2500,  4500,  8500, 12500,
				      16500, 20500, 24500, 28500, 32500};
	expect_sends(f, base, at, ARRAY_LEN(at), "SIP/2.0 486 Busy Here\r\n");
	struct sip_msg *resp = parse_sent(f, base);
	assert_true(str_eq(resp->to.tag, STR("uas1")));
	assert_true(str_eq(resp->via.branch, STR("z9hG4bKis1")));
	sip_msg_unref(resp);
	assert_int_equal(sip_txn_layer_count(f->layer), 0); /* Timer H */
	assert_int_equal(f->acks, 0);
}

static void test_invite_server_ack_confirmed(void **state)
{
	struct fx *f = *state;
	f->auto_status = 404;
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis2"}));
	assert_int_equal(f->auto_err, 0);
	assert_int_equal(f->nsent, 2); /* 100, 404 */
	run_until(f, 600);
	assert_int_equal(f->nsent, 3); /* G at 500 */
	feed(f, request((struct rq){.method = "ACK", .branch = "z9hG4bKis2", .to_tag = "uas1"}));
	assert_int_equal(f->acks, 0); /* absorbed by the transaction */
	/* Confirmed: no more 404s; ACKs and INVITEs absorbed silently. */
	feed(f, request((struct rq){.method = "ACK", .branch = "z9hG4bKis2", .to_tag = "uas1"}));
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis2"}));
	assert_int_equal(f->acks, 0);
	assert_int_equal(f->requests, 1);
	run_until(f, 600 + 4999);
	assert_int_equal(f->nsent, 3);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	run_until(f, 600 + 5000); /* Timer I = T4 */
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

static void test_invite_server_tcp(void **state)
{
	struct fx *f = *state;
	f->auto_status = 486;
	feed(f, request((struct rq){
		    .method = "INVITE", .branch = "z9hG4bKis3", .tp = SIP_TRANSPORT_TCP}));
	run_until(f, 20000);
	assert_int_equal(f->nsent, 2); /* no Timer G */
	assert_int_equal(f->sent[1].dest.conn_id, 7);
	feed(f, request((struct rq){.method = "ACK",
				    .branch = "z9hG4bKis3",
				    .to_tag = "uas1",
				    .tp = SIP_TRANSPORT_TCP}));
	assert_int_equal(sip_txn_layer_count(f->layer), 0); /* Timer I is 0 */
	assert_int_equal(f->acks, 0);

	/* No ACK over TCP: Timer H still ends it. */
	feed(f, request((struct rq){
		    .method = "INVITE", .branch = "z9hG4bKis4", .tp = SIP_TRANSPORT_TCP}));
	run_until(f, 20000 + 31999);
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	run_until(f, 20000 + 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->nsent, 4);
}

static void test_invite_server_accepted_ack(void **state)
{
	struct fx *f = *state;
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis5"}));
	struct sip_txn *stx = f->stx;
	f->now = 1000;
	assert_int_equal(sip_txn_respond(stx, 200, NULL, "uas1", NULL, STR_NULL), 0);
	assert_int_equal(sip_txn_status(stx), 200);
	run_until(f, 5000);
	static const uint64_t at[] = {1000, 1500, 2500, 4500};
	expect_sends(f, 1, at, ARRAY_LEN(at), "SIP/2.0 200 OK\r\n");
	/* Retransmitted INVITE while Accepted: 2xx replayed, TU not called. */
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis5"}));
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->nsent, 6);
	assert_memory_equal(f->sent[5].data, "SIP/2.0 200 OK\r\n", 16);
	/* The ACK for the 2xx has a branch of its own: matched by Call-ID, CSeq,
	 * From tag; it goes to the TU and stops the 2xx. */
	feed(f, request((struct rq){.method = "ACK", .branch = "z9hG4bKack5", .to_tag = "uas1"}));
	assert_int_equal(f->acks, 1);
	run_until(f, 1000 + 31999);
	assert_int_equal(f->nsent, 6);
	assert_int_equal(sip_txn_layer_count(f->layer), 1); /* Accepted until Timer L */
	feed(f, request((struct rq){.method = "ACK", .branch = "z9hG4bKack5", .to_tag = "uas1"}));
	assert_int_equal(f->acks, 2); /* every ACK for a 2xx is the TU's */
	run_until(f, 1000 + 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->ack_timeouts, 0);
	/* A stray ACK: to the TU as well. */
	feed(f, request((struct rq){.method = "ACK",
				    .branch = "z9hG4bKack6",
				    .to_tag = "x",
				    .call_id = "nothing@test"}));
	assert_int_equal(f->acks, 3);
}

static void test_invite_server_timer_l(void **state)
{
	struct fx *f = *state;
	f->auto_status = 200;
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKis6"}));
	struct sip_txn *stx = f->stx;
	sip_txn_set_owner(stx, f);
	assert_ptr_equal(sip_txn_owner(stx), f);
	run_until(f, 40000);
	static const uint64_t at[] = {0,     0,	    500,   1500,  3500,	 7500,
				      11500, 15500, 19500, 23500, 27500, 31500};
	expect_sends(f, 0, at, ARRAY_LEN(at), NULL);
	assert_int_equal(f->ack_timeouts, 1);
	assert_ptr_equal(f->timed_out, stx);
	assert_int_equal(f->ack_timeout_at, 32000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

static void test_invite_server_2xx_tcp(void **state)
{
	struct fx *f = *state;
	/* §13.3.1.4: the 2xx is retransmitted end to end even over TCP. */
	f->auto_status = 200;
	feed(f, request((struct rq){
		    .method = "INVITE", .branch = "z9hG4bKis7", .tp = SIP_TRANSPORT_TCP}));
	run_until(f, 2000);
	static const uint64_t at[] = {0, 0, 500, 1500};
	expect_sends(f, 0, at, ARRAY_LEN(at), NULL);
	feed(f, request((struct rq){.method = "ACK",
				    .branch = "z9hG4bKack7",
				    .to_tag = "uas1",
				    .tp = SIP_TRANSPORT_TCP}));
	assert_int_equal(f->acks, 1);
	run_until(f, 40000);
	assert_int_equal(f->nsent, 4);
	assert_int_equal(f->ack_timeouts, 0);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
}

/* ---- non-INVITE server ------------------------------------------------------------ */

static void test_server_udp(void **state)
{
	struct fx *f = *state;
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKns1"}));
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->nsent, 0); /* no 100 for non-INVITE */
	struct sip_txn *stx = f->stx;
	/* Trying: a retransmission is absorbed silently. */
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKns1"}));
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->nsent, 0);
	assert_int_equal(sip_txn_respond(stx, 183, NULL, "u", NULL, STR_NULL), 0);
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKns1"}));
	assert_int_equal(f->nsent, 2);
	assert_memory_equal(f->sent[1].data, "SIP/2.0 183 ", 12);
	f->now = 100;
	assert_int_equal(sip_txn_respond(stx, 200, NULL, "u", "Allow: INVITE\r\n", STR_NULL), 0);
	assert_int_equal(f->nsent, 3);
	/* Completed: the request is released, the 200 replayed. */
	assert_null(sip_txn_request(stx));
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKns1"}));
	assert_int_equal(f->requests, 1);
	assert_int_equal(f->nsent, 4);
	assert_int_equal(f->sent[3].len, f->sent[2].len);
	assert_memory_equal(f->sent[3].data, f->sent[2].data, f->sent[2].len);
	struct sip_msg *resp = parse_sent(f, 3);
	assert_int_equal(resp->status, 200);
	assert_non_null(sip_msg_hdr(resp, SIP_HDR_ALLOW));
	sip_msg_unref(resp);
	/* Same branch, other sent-by: not the same transaction (§17.2.3). */
	struct sip_msg *other = request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKns1"});
	other->via.port = 5071;
	feed(f, other);
	assert_int_equal(f->requests, 2);
	assert_int_equal(sip_txn_layer_count(f->layer), 2);
	run_until(f, 100 + 31999);
	assert_int_equal(sip_txn_layer_count(f->layer), 2);
	assert_int_equal(f->nsent, 4); /* no retransmission of non-INVITE finals */
	run_until(f, 100 + 32000);     /* Timer J = 64*T1 */
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKns1"}));
	assert_int_equal(f->requests, 3); /* a new transaction now */
}

static void test_server_tcp_respond_in_callback(void **state)
{
	struct fx *f = *state;
	/* A final response from inside request_cb over TCP ends the transaction
	 * while the layer is still in its call: it must survive that. */
	f->auto_status = 200;
	feed(f,
	     request((struct rq){
		 .method = "BYE", .branch = "z9hG4bKns2", .to_tag = "x", .tp = SIP_TRANSPORT_TCP}));
	assert_int_equal(f->auto_err, 0);
	assert_int_equal(f->nsent, 1);
	assert_int_equal(sip_txn_layer_count(f->layer), 0); /* Timer J is 0 */
	assert_true(sip_txn_layer_next_deadline(f->layer) == UINT64_MAX);
}

static void test_server_method_distinguishes(void **state)
{
	struct fx *f = *state;
	feed(f, request((struct rq){.method = "INFO", .branch = "z9hG4bKns3"}));
	feed(f, request((struct rq){.method = "NOTIFY", .branch = "z9hG4bKns3"}));
	feed(f, request((struct rq){.method = "FOO", .branch = "z9hG4bKns3"}));
	feed(f, request((struct rq){.method = "BAR", .branch = "z9hG4bKns3"}));
	feed(f, request((struct rq){.method = "BAR", .branch = "z9hG4bKns3"}));
	assert_int_equal(f->requests, 4);
	assert_int_equal(sip_txn_layer_count(f->layer), 4);
}

/* ---- CANCEL ------------------------------------------------------------------------ */

static void test_cancel_matching(void **state)
{
	struct fx *f = *state;
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKc1"}));
	struct sip_txn *inv = f->stx;
	/* CANCEL: same branch, its own transaction, given to the TU. */
	feed(f, request((struct rq){
		    .method = "CANCEL", .branch = "z9hG4bKc1", .cseq_method = "CANCEL"}));
	assert_int_equal(f->requests, 2);
	struct sip_txn *cancel_tx = f->stx;
	assert_ptr_not_equal(cancel_tx, inv);
	assert_ptr_equal(sip_txn_find_cancelled(f->layer, f->req), inv);
	assert_int_equal(sip_txn_respond(cancel_tx, 200, NULL, "uas1", NULL, STR_NULL), 0);
	assert_int_equal(sip_txn_respond(inv, 487, NULL, "uas1", NULL, STR_NULL), 0);
	assert_int_equal(sip_txn_status(inv), 487);

	/* Another branch, or another sent-by: nothing to cancel. */
	struct sip_msg *c2 = request((struct rq){.method = "CANCEL", .branch = "z9hG4bKc2"});
	assert_null(sip_txn_find_cancelled(f->layer, c2));
	sip_msg_unref(c2);
	struct sip_msg *c3 = request((struct rq){.method = "CANCEL", .branch = "z9hG4bKc1"});
	c3->via.host = STR("127.0.0.2");
	assert_null(sip_txn_find_cancelled(f->layer, c3));
	sip_msg_unref(c3);
	/* A CANCEL for a non-INVITE request finds nothing (§9.1). */
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "z9hG4bKc4"}));
	struct sip_msg *c4 = request((struct rq){.method = "CANCEL", .branch = "z9hG4bKc4"});
	assert_null(sip_txn_find_cancelled(f->layer, c4));
	sip_msg_unref(c4);

	/* RFC 2543 CANCEL, no cookie: matched by R-URI, tags, Call-ID, CSeq, Via. */
	feed(f, request((struct rq){.method = "INVITE", .branch = "old1", .call_id = "c2543"}));
	struct sip_txn *old = f->stx;
	struct sip_msg *c5 =
	    request((struct rq){.method = "CANCEL", .branch = "old1", .call_id = "c2543"});
	assert_ptr_equal(sip_txn_find_cancelled(f->layer, c5), old);
	sip_msg_unref(c5);
	struct sip_msg *c6 = request((struct rq){.method = "CANCEL",
						 .branch = "old1",
						 .call_id = "c2543",
						 .ruri = "sip:carol@127.0.0.1"});
	assert_null(sip_txn_find_cancelled(f->layer, c6));
	sip_msg_unref(c6);
}

/* ---- RFC 2543 matching ----------------------------------------------------------- */

static void test_rfc2543_matching(void **state)
{
	struct fx *f = *state;
	/* No branch at all, then a branch without the magic cookie. */
	feed(f, request((struct rq){.method = "INVITE", .call_id = "old@test"}));
	assert_int_equal(f->requests, 1);
	struct sip_txn *inv = f->stx;
	feed(f, request((struct rq){.method = "INVITE", .call_id = "old@test"}));
	assert_int_equal(f->requests, 1); /* a retransmission */
	assert_int_equal(f->nsent, 2);	  /* 100 twice */
	/* A different From tag, or R-URI, or CSeq: other transactions. */
	feed(f, request((struct rq){.method = "INVITE", .call_id = "old@test", .from_tag = "ft2"}));
	feed(f, request((struct rq){
		    .method = "INVITE", .call_id = "old@test", .ruri = "sip:carol@127.0.0.1"}));
	feed(f, request((struct rq){.method = "INVITE", .call_id = "old@test", .cseq = 2}));
	assert_int_equal(f->requests, 4);

	assert_int_equal(sip_txn_respond(inv, 480, NULL, "t2543", NULL, STR_NULL), 0);
	size_t sent = f->nsent;
	/* ACK with another To tag than the response's: not this transaction. */
	feed(f, request((struct rq){.method = "ACK", .call_id = "old@test", .to_tag = "bad"}));
	assert_int_equal(f->acks, 1);
	run_until(f, 600);
	assert_int_equal(f->nsent, sent + 1); /* Timer G still running */
	feed(f, request((struct rq){.method = "ACK", .call_id = "old@test", .to_tag = "t2543"}));
	assert_int_equal(f->acks, 1); /* absorbed: Confirmed */
	run_until(f, 10000);
	assert_int_equal(f->nsent, sent + 1);

	/* A non-INVITE with a non-cookie branch, replayed after its final. */
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "1234", .call_id = "o@t"}));
	assert_int_equal(sip_txn_respond(f->stx, 200, NULL, "x", NULL, STR_NULL), 0);
	assert_non_null(sip_txn_request(f->stx)); /* kept: needed to match */
	feed(f, request((struct rq){.method = "OPTIONS", .branch = "1234", .call_id = "o@t"}));
	assert_int_equal(f->requests, 5);
	assert_memory_equal(f->sent[f->nsent - 1].data, "SIP/2.0 200 OK", 14);
}

/* ---- load ----------------------------------------------------------------------- */

static void test_many_server_transactions(void **state)
{
	struct fx *f = *state;
	enum { N = 30000 };
	f->auto_status = 200;
	char branch[32];
	for (unsigned i = 0; i < N; i++) {
		f->now = i / 10; /* 10 per ms: expiries spread over 3 s */
		snprintf(branch, sizeof(branch), "z9hG4bK%u", i);
		feed(f, request((struct rq){.method = "OPTIONS", .branch = branch}));
	}
	assert_int_equal(f->requests, N);
	assert_int_equal(sip_txn_layer_count(f->layer), N);
	assert_int_equal(f->layer->branch_tab.n, N);
	/* Every one of them still answers its retransmission, none reaches the TU. */
	for (unsigned i = 0; i < N; i += 97) {
		snprintf(branch, sizeof(branch), "z9hG4bK%u", i);
		feed(f, request((struct rq){.method = "OPTIONS", .branch = branch}));
	}
	assert_int_equal(f->requests, N);
	/* Expiry in deadline order: count drops exactly as time passes. */
	for (uint64_t t = 32000; t < 32000 + N / 10; t += 250) {
		run_until(f, t);
		assert_int_equal(sip_txn_layer_count(f->layer), N - 10 * (t - 32000 + 1));
	}
	run_until(f, 40000);
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	/* Memory follows the load back down. */
	assert_int_equal(f->layer->branch_tab.mask + 1, 64);
	assert_true(f->layer->heap.cap <= 128);
}

static void test_many_client_timeouts_in_order(void **state)
{
	struct fx *f = *state;
	enum { N = 20000 };
	/* Random start times; every 408 must come exactly 64*T1 after its start. */
	struct sip_peer dest = peer(SIP_TRANSPORT_TCP);
	uint64_t *start = calloc(N, sizeof(*start));
	assert_non_null(start);
	uint64_t t = 0;
	char branch[32];
	for (unsigned i = 0; i < N; i++) {
		t += rng() % 3;
		f->now = t;
		start[i] = t;
		snprintf(branch, sizeof(branch), "z9hG4bKm%u", i);
		struct sip_msg *req = request(
		    (struct rq){.method = "MESSAGE", .branch = branch, .tp = SIP_TRANSPORT_TCP});
		struct sip_txn *ctx;
		assert_int_equal(sip_txn_client_start(&ctx, f->layer, req, &dest, NULL, NULL), 0);
		sip_msg_unref(req);
	}
	/* Callbacks are NULL: watch the count fall with the heap's order instead. */
	size_t gone = 0;
	uint64_t end = t + 32000;
	for (uint64_t now = 32000; now <= end; now++) {
		run_until(f, now);
		while (gone < N && start[gone] + 32000 <= now)
			gone++;
		assert_int_equal(sip_txn_layer_count(f->layer), N - gone);
	}
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	free(start);
}

/* On a timeout, start the next attempt from inside the callback. */
static void retry_on_timeout(struct fx *f, struct sip_txn *ctx, uint16_t status)
{
	(void)ctx;
	if (status != 408 || f->ntold > 3)
		return;
	char branch[32];
	snprintf(branch, sizeof(branch), "z9hG4bKretry%zu", f->ntold);
	client_start(f, "OPTIONS", branch, SIP_TRANSPORT_TCP);
}

/* A CANCEL handled as a TU does: 200 to the CANCEL, 487 to the INVITE. */
static void cancel_on_request(struct fx *f, struct sip_txn *stx, struct sip_msg *req)
{
	if (req->method != SIP_METHOD_CANCEL)
		return;
	struct sip_txn *inv = sip_txn_find_cancelled(f->layer, req);
	assert_int_equal(sip_txn_respond(stx, inv ? 200 : 481, NULL, "uas1", NULL, STR_NULL), 0);
	if (inv && sip_txn_status(inv) < 200)
		assert_int_equal(sip_txn_respond(inv, 487, NULL, "uas1", NULL, STR_NULL), 0);
}

static void test_reentrant_callbacks(void **state)
{
	struct fx *f = *state;
	f->on_told = retry_on_timeout;
	client_start(f, "OPTIONS", "z9hG4bKr0", SIP_TRANSPORT_TCP);
	run_until(f, 200000);
	/* Each timeout started the next from inside run_timers: 408 at 32, 64, 96, 128 s. */
	assert_int_equal(f->ntold, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(f->told[i].status, 408);
		assert_int_equal(f->told[i].at, 32000 * (i + 1));
	}
	assert_int_equal(sip_txn_layer_count(f->layer), 0);

	f->on_request = cancel_on_request;
	size_t base = f->nsent;
	feed(f, request((struct rq){
		    .method = "INVITE", .branch = "z9hG4bKr1", .tp = SIP_TRANSPORT_TCP}));
	feed(f, request((struct rq){
		    .method = "CANCEL", .branch = "z9hG4bKr1", .tp = SIP_TRANSPORT_TCP}));
	assert_int_equal(f->nsent - base, 3); /* 100, 200 (CANCEL), 487 */
	assert_memory_equal(f->sent[base + 1].data, "SIP/2.0 200 ", 12);
	assert_memory_equal(f->sent[base + 2].data, "SIP/2.0 487 ", 12);
	struct sip_msg *r = parse_sent(f, base + 1);
	assert_int_equal(r->cseq.method, SIP_METHOD_CANCEL);
	sip_msg_unref(r);
	/* The CANCEL's transaction is gone (TCP), the INVITE's waits for its ACK. */
	assert_int_equal(sip_txn_layer_count(f->layer), 1);
	feed(f, request((struct rq){.method = "ACK",
				    .branch = "z9hG4bKr1",
				    .to_tag = "uas1",
				    .tp = SIP_TRANSPORT_TCP}));
	assert_int_equal(sip_txn_layer_count(f->layer), 0);
	assert_int_equal(f->acks, 0);
}

static void test_destroy_with_live_transactions(void **state)
{
	struct fx *f = *state;
	client_start(f, "INVITE", "z9hG4bKd1", SIP_TRANSPORT_UDP);
	client_start(f, "OPTIONS", "z9hG4bKd2", SIP_TRANSPORT_UDP);
	feed(f, request((struct rq){.method = "INVITE", .branch = "z9hG4bKd3"}));
	feed(f, request((struct rq){.method = "MESSAGE", .branch = "d4"}));
	assert_int_equal(sip_txn_layer_count(f->layer), 4);
	/* fx_teardown destroys the layer: no callback, nothing leaked (ASan). */
	sip_txn_layer_destroy(f->layer);
	f->layer = NULL;
	assert_int_equal(f->ntold, 0);
}

static void test_layer_args(void **state)
{
	(void)state;
	struct sip_txn_layer *l = NULL;
	struct sip_txn_layer_cbs cbs = {0};
	assert_int_equal(sip_txn_layer_create(&l, &cbs, NULL), -EINVAL);
	cbs.now_cb = fx_now;
	cbs.send_request_cb = fx_send_request;
	cbs.send_response_cb = fx_send_response;
	cbs.request_cb = fx_request;
	struct sip_txn_timers bad = {0, 4000, 5000};
	assert_int_equal(sip_txn_layer_create(&l, &cbs, &bad), -EINVAL);
	struct sip_txn_timers fast = {100, 400, 500};
	assert_int_equal(sip_txn_layer_create(&l, &cbs, &fast), 0);
	sip_txn_layer_destroy(l);

	char b1[SIP_BRANCH_LEN], b2[SIP_BRANCH_LEN];
	sip_branch_generate(b1);
	sip_branch_generate(b2);
	assert_int_equal(strlen(b1), SIP_BRANCH_LEN - 1);
	assert_memory_equal(b1, "z9hG4bK", 7);
	assert_string_not_equal(b1, b2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_heap_order),
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_htab_grow_shrink),
	    cmocka_unit_test(test_layer_args),
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	    T(test_invite_client_udp_schedule),
	    T(test_invite_client_tcp_no_retransmit),
	    T(test_invite_client_non2xx_ack),
	    T(test_invite_client_non2xx_tcp),
	    T(test_invite_client_accepted),
	    T(test_invite_client_cancel_guard),
	    T(test_client_detach),
	    T(test_client_udp_schedule),
	    T(test_client_proceeding_and_k),
	    T(test_client_tcp),
	    T(test_client_errors),
	    T(test_stray_responses),
	    T(test_invite_server_non2xx_udp),
	    T(test_invite_server_ack_confirmed),
	    T(test_invite_server_tcp),
	    T(test_invite_server_accepted_ack),
	    T(test_invite_server_timer_l),
	    T(test_invite_server_2xx_tcp),
	    T(test_server_udp),
	    T(test_server_tcp_respond_in_callback),
	    T(test_server_method_distinguishes),
	    T(test_cancel_matching),
	    T(test_rfc2543_matching),
	    T(test_many_server_transactions),
	    T(test_many_client_timeouts_in_order),
	    T(test_reentrant_callbacks),
	    T(test_destroy_with_live_transactions),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
