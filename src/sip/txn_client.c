/*
 * Client transactions (RFC 3261 §17.1, RFC 6026 §7.2).
 *
 *   INVITE:     Calling -> Proceeding -> Completed -> Terminated  (non-2xx)
 *               Calling -> Proceeding -> Accepted -> Terminated   (2xx)
 *   non-INVITE: Trying -> Proceeding -> Completed -> Terminated
 *
 * Timers: A (INVITE retransmission, T1 doubling, unreliable only), B (64*T1
 * while Calling), D (32 s on UDP, 0 on reliable), E (non-INVITE
 * retransmission, T1 doubling to T2, then T2 while Proceeding), F (64*T1),
 * K (T4 on UDP, 0 on reliable), M (RFC 6026, 64*T1 in Accepted).
 *
 * A response matches (§17.1.3) on its top Via branch and its CSeq method. The
 * ACK for a non-2xx is built here (§17.1.1.3) and kept for the final
 * response's retransmissions; the ACK for a 2xx belongs to the dialog.
 */
#include "sip_txn_int.h"

#include <errno.h>
#include <stdlib.h>

#define LOG_MODULE "sip"

enum { TIMER_D_MS = 32000 };

static struct sip_txn *find_client(struct sip_txn_layer *layer, const struct sip_msg *resp)
{
	struct str branch = resp->via.branch;
	enum sip_method method = resp->cseq.method;
	uint64_t h = sip__txn_branch_hash(layer, branch, method, false);
	for (struct sip__hnode *n = sip__htab_first(&layer->branch_tab, h); n;
	     n = sip__htab_next(n, h)) {
		struct sip_txn *tx =
		    (struct sip_txn *)(void *)((char *)n - offsetof(struct sip_txn, by_branch));
		if (sip__txn_is_server(tx) || tx->method != method ||
		    !str_eq(tx->req->via.branch, branch))
			continue;
		if (method == SIP_METHOD_UNKNOWN &&
		    !str_eq(tx->req->cseq.method_name, resp->cseq.method_name))
			continue;
		return tx;
	}
	return NULL;
}

static int client_send(struct sip_txn *tx, const char *data, size_t len)
{
	const struct sip_txn_layer *layer = tx->layer;
	int err = layer->cbs.send_request_cb(layer->cbs.arg, &tx->dest, data, len);
	return err < 0 ? err : 0;
}

int sip_txn_client_start(struct sip_txn **out, struct sip_txn_layer *layer, struct sip_msg *req,
			 const struct sip_peer *dest, sip_txn_response_cb cb, void *arg)
{
	if (!out || !layer || !req || !dest || !req->is_request || req->method == SIP_METHOD_ACK ||
	    !req->via.branch.len)
		return -EINVAL;
	/* Responses come back with the request's CSeq method: key on that. */
	enum sip_method method = req->cseq.method;
	uint64_t h = sip__txn_branch_hash(layer, req->via.branch, method, false);
	for (struct sip__hnode *n = sip__htab_first(&layer->branch_tab, h); n;
	     n = sip__htab_next(n, h)) {
		struct sip_txn *o =
		    (struct sip_txn *)(void *)((char *)n - offsetof(struct sip_txn, by_branch));
		if (!sip__txn_is_server(o) && o->method == method &&
		    str_eq(o->req->via.branch, req->via.branch) &&
		    str_eq(o->req->cseq.method_name, req->cseq.method_name))
			return -EEXIST;
	}

	bool invite = method == SIP_METHOD_INVITE;
	struct sip_txn *tx;
	int err =
	    sip__txn_alloc(&tx, layer, invite ? SIP__TXN_CLIENT_INVITE : SIP__TXN_CLIENT, req);
	if (err)
		return err;
	tx->method = method;
	tx->dest = *dest;
	tx->cb = cb;
	tx->cb_arg = arg;
	tx->reliable = sip_transport_reliable(dest->transport);
	tx->cookie = sip__branch_has_cookie(req->via.branch);
	tx->state = invite ? SIP__TXN_CALLING : SIP__TXN_TRYING;

	err = client_send(tx, req->data, req->len);
	if (err) {
		sip__txn_terminate(tx);
		return err;
	}
	sip__htab_insert(&layer->branch_tab, &tx->by_branch, h);
	tx->in_branch_tab = true;
	if (!tx->reliable) {
		tx->interval = layer->t.t1_ms;
		sip__txn_arm(tx, &tx->retrans, tx->interval); /* A or E */
	}
	sip__txn_arm(tx, &tx->life, 64 * (uint64_t)layer->t.t1_ms); /* B or F */
	*out = tx;
	return 0;
}

int sip_txn_send_stateless(struct sip_txn_layer *layer, const struct sip_peer *dest,
			   const char *data, size_t len)
{
	if (!layer || !dest || !data)
		return -EINVAL;
	int err = layer->cbs.send_request_cb(layer->cbs.arg, dest, data, len);
	return err < 0 ? err : 0;
}

void sip_txn_client_detach(struct sip_txn *ctx)
{
	if (ctx && !sip__txn_is_server(ctx)) {
		ctx->cb = NULL;
		ctx->cb_arg = NULL;
	}
}

void sip_txn_client_cancel_sent(struct sip_txn *ctx)
{
	if (!ctx || ctx->kind != SIP__TXN_CLIENT_INVITE || ctx->state != SIP__TXN_PROCEEDING ||
	    ctx->cancel_guard)
		return;
	/* §9.1: a UAS that never answers the CANCEL must not keep the INVITE
	 * forever; Proceeding has no timer of its own, so this one ends it (408). */
	ctx->cancel_guard = true;
	sip__txn_arm(ctx, &ctx->life, 64 * (uint64_t)ctx->layer->t.t1_ms);
}

/* ---- ACK for a non-2xx (§17.1.1.3) ------------------------------------------- */

static void print_hdr(struct buf *b, const char *name, struct str value)
{
	buf_printf(b, "%s: %.*s\r\n", name, (int)value.len, value.p);
}

/*
 * Request-URI, Call-ID, From and CSeq number of the INVITE, its top Via only,
 * its Route headers, and the To of the response (it carries the tag).
 */
static int build_ack(struct sip_txn *tx, const struct sip_msg *resp)
{
	const struct sip_msg *req = tx->req;
	const struct sip_hdr *via = sip_msg_hdr(req, SIP_HDR_VIA);
	const struct sip_hdr *from = sip_msg_hdr(req, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	struct str top_via;
	if (!via || !from || !to)
		return -EINVAL;
	struct str list = via->value;
	if (!sip_list_next(&list, &top_via))
		return -EINVAL;

	struct buf b;
	buf_init(&b);
	buf_printf(&b, "ACK %.*s SIP/2.0\r\n", (int)req->ruri_str.len, req->ruri_str.p);
	print_hdr(&b, "Via", str_trim(top_via));
	for (const struct sip_hdr *r = sip_msg_hdr(req, SIP_HDR_ROUTE); r;
	     r = sip_msg_hdr_next(req, r))
		print_hdr(&b, "Route", r->value);
	buf_append_cstr(&b, "Max-Forwards: 70\r\n");
	print_hdr(&b, "From", from->value);
	print_hdr(&b, "To", to->value);
	print_hdr(&b, "Call-ID", req->call_id);
	buf_printf(&b, "CSeq: %u ACK\r\nContent-Length: 0\r\n\r\n", (unsigned)req->cseq.num);
	size_t len;
	char *bytes = buf_steal(&b, &len);
	if (!bytes)
		return -ENOMEM;
	free(tx->resp);
	tx->resp = bytes;
	tx->resp_len = len;
	return 0;
}

/* ---- receiving ------------------------------------------------------------- */

/* Hands a response (or a failure) to the TU; tx must be held. */
static void deliver(struct sip_txn *tx, const struct sip_msg *resp, uint16_t status)
{
	sip_txn_response_cb cb = tx->cb;
	if (cb)
		cb(tx->cb_arg, tx, resp, status);
}

static void recv_invite(struct sip_txn *tx, struct sip_msg *resp)
{
	struct sip_txn_layer *layer = tx->layer;
	uint16_t status = resp->status;
	bool open = tx->state == SIP__TXN_CALLING || tx->state == SIP__TXN_PROCEEDING;
	if (status < 200) {
		if (!open)
			return;
		/* Proceeding: the server has it; no more A, and B no longer applies. */
		tx->state = SIP__TXN_PROCEEDING;
		sip__txn_disarm(tx, &tx->retrans);
		if (!tx->cancel_guard)
			sip__txn_disarm(tx, &tx->life);
	} else if (status < 300) {
		if (open) {
			tx->state = SIP__TXN_ACCEPTED;
			sip__txn_disarm(tx, &tx->retrans);
			sip__txn_arm(tx, &tx->life, 64 * (uint64_t)layer->t.t1_ms); /* Timer M */
		} else if (tx->state != SIP__TXN_ACCEPTED) {
			return;
		}
	} else {
		if (tx->state == SIP__TXN_COMPLETED) {
			/* The final response again: our ACK was lost. */
			(void)client_send(tx, tx->resp, tx->resp_len);
			return;
		}
		if (!open)
			return;
		tx->state = SIP__TXN_COMPLETED;
		sip__txn_disarm(tx, &tx->retrans);
		if (build_ack(tx, resp) == 0)
			(void)client_send(tx, tx->resp, tx->resp_len);
		else
			log_warn("cannot build the ACK for %u", status);
		if (!tx->reliable)
			sip__txn_arm(tx, &tx->life, TIMER_D_MS);
		else
			sip__txn_disarm(tx, &tx->life);
	}
	tx->status = status;
	deliver(tx, resp, status);
	if (tx->state == SIP__TXN_COMPLETED && tx->reliable)
		sip__txn_terminate(tx); /* Timer D is zero */
}

static void recv_non_invite(struct sip_txn *tx, struct sip_msg *resp)
{
	struct sip_txn_layer *layer = tx->layer;
	uint16_t status = resp->status;
	if (tx->state != SIP__TXN_TRYING && tx->state != SIP__TXN_PROCEEDING)
		return; /* Completed absorbs retransmitted finals */
	if (status < 200) {
		tx->state = SIP__TXN_PROCEEDING;
	} else {
		tx->state = SIP__TXN_COMPLETED;
		sip__txn_disarm(tx, &tx->retrans);
		if (tx->reliable)
			sip__txn_disarm(tx, &tx->life);
		else
			sip__txn_arm(tx, &tx->life, layer->t.t4_ms); /* Timer K */
	}
	tx->status = status;
	deliver(tx, resp, status);
	if (tx->state == SIP__TXN_COMPLETED && tx->reliable)
		sip__txn_terminate(tx); /* Timer K is zero */
}

void sip__client_recv_response(struct sip_txn_layer *layer, struct sip_msg *resp)
{
	struct sip_txn *tx = find_client(layer, resp);
	if (!tx) {
		log_debug("stray response %u dropped", resp->status);
		return;
	}
	sip__txn_hold(tx);
	if (tx->kind == SIP__TXN_CLIENT_INVITE)
		recv_invite(tx, resp);
	else
		recv_non_invite(tx, resp);
	sip__txn_release(tx);
}

/* ---- timers ---------------------------------------------------------------- */

/* Timeout or transport error: the transaction ends and the TU hears why. */
static void client_fail(struct sip_txn *tx, uint16_t status)
{
	sip__txn_terminate(tx); /* held by the caller: freed on release */
	tx->status = status;
	deliver(tx, NULL, status);
}

void sip__client_timer(struct sip_txn *tx, bool retrans)
{
	struct sip_txn_layer *layer = tx->layer;
	if (retrans) {
		if (tx->state != SIP__TXN_CALLING && tx->state != SIP__TXN_TRYING &&
		    tx->state != SIP__TXN_PROCEEDING)
			return;
		if (client_send(tx, tx->req->data, tx->req->len)) {
			client_fail(tx, 503);
			return;
		}
		if (tx->state == SIP__TXN_CALLING) {
			tx->interval *= 2; /* Timer A has no cap: B ends it */
		} else if (tx->state == SIP__TXN_TRYING) {
			uint32_t next = tx->interval * 2;
			tx->interval = next < layer->t.t2_ms ? next : layer->t.t2_ms;
		} else {
			tx->interval = layer->t.t2_ms;
		}
		sip__txn_arm(tx, &tx->retrans, tx->interval);
		return;
	}
	switch (tx->state) {
	case SIP__TXN_CALLING:	  /* Timer B */
	case SIP__TXN_TRYING:	  /* Timer F */
	case SIP__TXN_PROCEEDING: /* Timer F (an INVITE has no timer here) */
		client_fail(tx, 408);
		break;
	case SIP__TXN_ACCEPTED: /* Timer M: tell the TU the 2xx period is over */
		sip__txn_terminate(tx);
		deliver(tx, NULL, 0);
		break;
	default: /* Timer D or K */
		sip__txn_terminate(tx);
		break;
	}
}
