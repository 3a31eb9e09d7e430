/*
 * Server transactions (RFC 3261 §17.2, RFC 6026 §7.1).
 *
 *   INVITE:     Proceeding -> Completed -> Confirmed -> Terminated  (non-2xx)
 *               Proceeding -> Accepted -> Terminated                (2xx)
 *   non-INVITE: Trying -> Proceeding -> Completed -> Terminated
 *
 * Matching (§17.2.3): a request whose top Via branch starts with the magic
 * cookie matches on branch, sent-by and method (ACK counting as INVITE); one
 * without the cookie is matched by RFC 2543's rules on Request-URI, tags,
 * Call-ID, CSeq and top Via. The ACK for a 2xx carries a branch of its own,
 * so an Accepted transaction is found by Call-ID, CSeq number and From tag.
 *
 * A non-INVITE transaction in Completed state only answers retransmissions
 * for Timer J (32 s on UDP) but there may be tens of thousands at once, so it
 * drops its request and keeps its keys and response in one small block.
 */
#include "sip_txn_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "sip"

/* The method a request matches transactions under: ACK finds its INVITE. */
static enum sip_method match_method(const struct sip_msg *req)
{
	return req->method == SIP_METHOD_ACK ? SIP_METHOD_INVITE : req->method;
}

static struct sip_txn *branch_node_txn(struct sip__hnode *n)
{
	return (struct sip_txn *)(void *)((char *)n - offsetof(struct sip_txn, by_branch));
}

static struct sip_txn *dialog_node_txn(struct sip__hnode *n)
{
	return (struct sip_txn *)(void *)((char *)n - offsetof(struct sip_txn, by_dialog));
}

/* §17.2.3, first rules: branch, sent-by, method. */
static struct sip_txn *find_by_branch(struct sip_txn_layer *layer, const struct sip_msg *req,
				      enum sip_method method)
{
	const struct sip_via *v = &req->via;
	uint64_t h = sip__txn_branch_hash(layer, v->branch, method, true);
	for (struct sip__hnode *n = sip__htab_first(&layer->branch_tab, h); n;
	     n = sip__htab_next(n, h)) {
		struct sip_txn *tx = branch_node_txn(n);
		const struct sip_via *tv = sip__txn_via(tx);
		if (!sip__txn_is_server(tx) || tx->method != method ||
		    !str_eq(tv->branch, v->branch) || tv->port != v->port ||
		    !str_ieq(tv->host, v->host))
			continue;
		/* Extension methods share one id: compare their names (such a
		 * transaction never drops its request, see server_slim). */
		if (method == SIP_METHOD_UNKNOWN && !str_eq(tx->req->method_name, req->method_name))
			continue;
		return tx;
	}
	return NULL;
}

static bool via_eq(const struct sip_via *a, const struct sip_via *b)
{
	return str_ieq(a->transport, b->transport) && str_ieq(a->host, b->host) &&
	       a->port == b->port && str_eq(a->params, b->params);
}

/*
 * §17.2.3's RFC 2543 rules. For ACK: Request-URI, From tag, Call-ID, CSeq
 * number and top Via equal to the INVITE's, To tag equal to that of the
 * response sent. For other methods (and a CANCEL looking for its INVITE, with
 * `method` INVITE): everything equal, CSeq method included.
 */
static struct sip_txn *find_2543(struct sip_txn_layer *layer, const struct sip_msg *req,
				 enum sip_method method)
{
	bool ack = req->method == SIP_METHOD_ACK;
	uint64_t h = sip__txn_dialog_hash(layer, req);
	for (struct sip__hnode *n = sip__htab_first(&layer->dialog_tab, h); n;
	     n = sip__htab_next(n, h)) {
		struct sip_txn *tx = dialog_node_txn(n);
		const struct sip_msg *o = tx->req;
		if (tx->cookie || !o || tx->method != method || o->cseq.num != req->cseq.num ||
		    !str_eq(o->call_id, req->call_id) || !str_eq(o->from.tag, req->from.tag) ||
		    !str_eq(o->ruri_str, req->ruri_str) || !via_eq(&o->via, &req->via))
			continue;
		if (ack) {
			struct str sent = tx->to_tag ? str_from_cstr(tx->to_tag) : o->to.tag;
			if (!str_eq(sent, req->to.tag))
				continue;
		} else {
			if (!str_eq(o->to.tag, req->to.tag))
				continue;
			if (method == SIP_METHOD_UNKNOWN &&
			    !str_eq(o->cseq.method_name, req->cseq.method_name))
				continue;
		}
		return tx;
	}
	return NULL;
}

/* RFC 6026 §7.1: the ACK for a 2xx, by Call-ID, CSeq number and From tag. */
static struct sip_txn *find_accepted(struct sip_txn_layer *layer, const struct sip_msg *ack)
{
	uint64_t h = sip__txn_dialog_hash(layer, ack);
	for (struct sip__hnode *n = sip__htab_first(&layer->dialog_tab, h); n;
	     n = sip__htab_next(n, h)) {
		struct sip_txn *tx = dialog_node_txn(n);
		const struct sip_msg *o = tx->req;
		if (tx->kind == SIP__TXN_SERVER_INVITE && tx->state == SIP__TXN_ACCEPTED &&
		    o->cseq.num == ack->cseq.num && str_eq(o->call_id, ack->call_id) &&
		    str_eq(o->from.tag, ack->from.tag))
			return tx;
	}
	return NULL;
}

static struct sip_txn *find_server(struct sip_txn_layer *layer, const struct sip_msg *req,
				   enum sip_method method)
{
	if (sip__branch_has_cookie(req->via.branch))
		return find_by_branch(layer, req, method);
	return find_2543(layer, req, method);
}

struct sip_txn *sip_txn_find_cancelled(struct sip_txn_layer *layer, const struct sip_msg *cancel)
{
	if (!layer || !cancel || !cancel->is_request || cancel->method != SIP_METHOD_CANCEL)
		return NULL;
	struct sip_txn *tx = find_server(layer, cancel, SIP_METHOD_INVITE);
	return tx && tx->kind == SIP__TXN_SERVER_INVITE ? tx : NULL;
}

/* ---- sending -------------------------------------------------------------------- */

static int server_send(struct sip_txn *tx)
{
	const struct sip_txn_layer *layer = tx->layer;
	const struct sip_peer *src = tx->req ? &tx->req->src : &tx->slim->src;
	int err = layer->cbs.send_response_cb(layer->cbs.arg, src, sip__txn_via(tx), tx->resp,
					      tx->resp_len);
	if (err < 0)
		log_debug("response %u not sent: %d", tx->status, err);
	return err < 0 ? err : 0;
}

static void copy_str(struct str *dst, struct str src, char **at)
{
	if (src.len)
		memcpy(*at, src.p, src.len);
	*dst = str_make(*at, src.len);
	*at += src.len;
}

/*
 * Replaces the request by what the Completed state still needs: Via keys and
 * routing fields, the source peer and the response bytes, in one block.
 * Transactions that match by more than the branch (no magic cookie, or an
 * extension method compared by name) keep their request.
 */
static void server_slim(struct sip_txn *tx)
{
	if (!tx->cookie || tx->method == SIP_METHOD_UNKNOWN || tx->slim)
		return;
	const struct sip_via *v = &tx->req->via;
	size_t text = tx->resp_len + v->transport.len + v->host.len + v->branch.len +
		      v->received.len + v->maddr.len;
	struct sip__txn_slim *s = malloc(sizeof(*s) + text);
	if (!s)
		return; /* keep the request: bigger, still right */
	memset(&s->via, 0, sizeof(s->via));
	s->src = tx->req->src;
	s->resp_len = tx->resp_len;
	memcpy(s->text, tx->resp, tx->resp_len);
	char *at = s->text + tx->resp_len;
	copy_str(&s->via.transport, v->transport, &at);
	copy_str(&s->via.host, v->host, &at);
	copy_str(&s->via.branch, v->branch, &at);
	copy_str(&s->via.received, v->received, &at);
	copy_str(&s->via.maddr, v->maddr, &at);
	s->via.port = v->port;
	s->via.rport = v->rport;
	s->via.rport_value = v->rport_value;
	free(tx->resp);
	tx->resp = s->text;
	tx->slim = s;
	sip_msg_unref(tx->req);
	tx->req = NULL;
}

/* The To tag the response carries: the request's own, else the one given. */
static int remember_to_tag(struct sip_txn *tx, const char *to_tag)
{
	struct str tag = tx->req->to.tag.len ? tx->req->to.tag : str_from_cstr(to_tag);
	char *copy = malloc(tag.len + 1);
	if (!copy)
		return -ENOMEM;
	if (tag.len)
		memcpy(copy, tag.p, tag.len);
	copy[tag.len] = '\0';
	free(tx->to_tag);
	tx->to_tag = copy;
	return 0;
}

int sip_txn_respond(struct sip_txn *stx, uint16_t status, const char *reason, const char *to_tag,
		    const char *extra_headers, struct str body)
{
	struct sip_txn *tx = stx;
	if (!tx || !sip__txn_is_server(tx) || status < 100 || status > 699 || !tx->req)
		return -EINVAL;
	if (tx->state != SIP__TXN_TRYING && tx->state != SIP__TXN_PROCEEDING)
		return -EINVAL;
	bool invite = tx->kind == SIP__TXN_SERVER_INVITE;
	if (invite && status >= 200 && remember_to_tag(tx, to_tag))
		return -ENOMEM;

	struct buf b;
	buf_init(&b);
	sip_response_print(&b, tx->req, status, reason, to_tag, extra_headers, body);
	size_t len;
	char *bytes = buf_steal(&b, &len);
	if (!bytes)
		return -ENOMEM;
	free(tx->resp);
	tx->resp = bytes;
	tx->resp_len = len;
	tx->status = status;

	struct sip_txn_layer *layer = tx->layer;
	int err = server_send(tx);
	if (status < 200) {
		tx->state = SIP__TXN_PROCEEDING;
	} else if (invite && status < 300) {
		/* §13.3.1.4: retransmitted end to end whatever the transport. */
		tx->state = SIP__TXN_ACCEPTED;
		tx->interval = layer->t.t1_ms;
		sip__txn_arm(tx, &tx->retrans, tx->interval);
		sip__txn_arm(tx, &tx->life, 64 * (uint64_t)layer->t.t1_ms); /* Timer L */
	} else if (invite) {
		tx->state = SIP__TXN_COMPLETED;
		if (!tx->reliable) {
			tx->interval = layer->t.t1_ms;
			sip__txn_arm(tx, &tx->retrans, tx->interval); /* Timer G */
		}
		sip__txn_arm(tx, &tx->life, 64 * (uint64_t)layer->t.t1_ms); /* Timer H */
	} else {
		tx->state = SIP__TXN_COMPLETED;
		if (tx->reliable) {
			sip__txn_terminate(tx); /* Timer J is zero */
		} else {
			server_slim(tx);
			sip__txn_arm(tx, &tx->life, 64 * (uint64_t)layer->t.t1_ms); /* Timer J */
		}
	}
	return err;
}

/* ---- receiving ---------------------------------------------------------------- */

static void server_recv_ack(struct sip_txn_layer *layer, struct sip_txn *tx, struct sip_msg *ack)
{
	if (tx && tx->kind == SIP__TXN_SERVER_INVITE) {
		if (tx->state == SIP__TXN_COMPLETED) {
			/* The ACK for our non-2xx: stop G and H, absorb stray ACKs for I. */
			tx->state = SIP__TXN_CONFIRMED;
			sip__txn_disarm(tx, &tx->retrans);
			if (tx->reliable)
				sip__txn_terminate(tx);
			else
				sip__txn_arm(tx, &tx->life, layer->t.t4_ms); /* Timer I */
			return;
		}
		if (tx->state == SIP__TXN_CONFIRMED)
			return;
	}
	/* The ACK for a 2xx: end to end, for the TU. It stops the 2xx going out. */
	struct sip_txn *acc = find_accepted(layer, ack);
	if (acc && !acc->acked) {
		acc->acked = true;
		sip__txn_disarm(acc, &acc->retrans);
	}
	if (layer->cbs.ack_cb)
		layer->cbs.ack_cb(layer->cbs.arg, ack);
}

static void server_new(struct sip_txn_layer *layer, struct sip_msg *req)
{
	bool invite = req->method == SIP_METHOD_INVITE;
	struct sip_txn *tx;
	if (sip__txn_alloc(&tx, layer, invite ? SIP__TXN_SERVER_INVITE : SIP__TXN_SERVER, req)) {
		log_warn("no memory for a server transaction: request dropped");
		return; /* the peer retransmits */
	}
	tx->state = invite ? SIP__TXN_PROCEEDING : SIP__TXN_TRYING;
	tx->reliable = sip_transport_reliable(req->src.transport);
	tx->cookie = sip__branch_has_cookie(req->via.branch);
	if (tx->cookie) {
		sip__htab_insert(&layer->branch_tab, &tx->by_branch,
				 sip__txn_branch_hash(layer, req->via.branch, req->method, true));
		tx->in_branch_tab = true;
	}
	if (!tx->cookie || invite) {
		sip__htab_insert(&layer->dialog_tab, &tx->by_dialog,
				 sip__txn_dialog_hash(layer, req));
		tx->in_dialog_tab = true;
	}

	sip__txn_hold(tx);
	/* §17.2.1: answer 100 at once so the client stops retransmitting. */
	if (invite)
		(void)sip_txn_respond(tx, 100, NULL, NULL, NULL, STR_NULL);
	layer->cbs.request_cb(layer->cbs.arg, tx, req);
	sip__txn_release(tx);
}

void sip__server_recv_request(struct sip_txn_layer *layer, struct sip_msg *req)
{
	struct sip_txn *tx = find_server(layer, req, match_method(req));
	if (req->method == SIP_METHOD_ACK) {
		server_recv_ack(layer, tx, req);
		return;
	}
	if (!tx) {
		server_new(layer, req);
		return;
	}
	/* A retransmission: replay the last response, if any; never the TU. A
	 * Confirmed INVITE transaction only waits for stray ACKs. */
	if (tx->resp_len && tx->state != SIP__TXN_CONFIRMED)
		(void)server_send(tx);
}

void sip__server_timer(struct sip_txn *tx, bool retrans)
{
	struct sip_txn_layer *layer = tx->layer;
	if (retrans) {
		/* G, or the 2xx retransmission: T1 doubling up to T2. */
		if (tx->state != SIP__TXN_COMPLETED &&
		    !(tx->state == SIP__TXN_ACCEPTED && !tx->acked))
			return;
		(void)server_send(tx);
		uint32_t next = tx->interval * 2;
		tx->interval = next < layer->t.t2_ms ? next : layer->t.t2_ms;
		sip__txn_arm(tx, &tx->retrans, tx->interval);
		return;
	}
	/* H, I, J or L: the end. Only L has someone to tell. */
	if (tx->state == SIP__TXN_ACCEPTED && !tx->acked && layer->cbs.ack_timeout_cb)
		layer->cbs.ack_timeout_cb(layer->cbs.arg, tx);
	else if (tx->state == SIP__TXN_COMPLETED && tx->kind == SIP__TXN_SERVER_INVITE)
		log_debug("Timer H: no ACK for %u", tx->status);
	sip__txn_terminate(tx);
}
