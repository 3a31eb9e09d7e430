/*
 * Call sessions of a profile's user agent (RFC 3261 §13, §12, §9): what every
 * call has — its place in the UA's index, BYE in either direction, the
 * requests that arrive inside an answered call's dialog, freeing — and the
 * inbound (INVITE server) side: provisional and final responses, early
 * media, the 2xx answer and its dialog, CANCEL. The outbound side is in
 * call_out.c.
 *
 * The in-dialog requests this side sends (BYE, INFO) keep what it takes to
 * send them again while their transactions run: a carrier may challenge
 * every request, and a call placed with credentials answers a 401/407 once
 * per request with a new one of the next CSeq and a new branch, the same
 * Call-ID, tags and route set (§22.2, §12.2.1.1). A second challenge is the
 * request's outcome, as is any challenge to a call without credentials.
 */
#define LOG_MODULE "sip"
#include "sip_ua_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One in-dialog request this side sent, while its transaction runs. */
struct sip__call_req {
	struct sip_call *call;
	struct sip__call_req *prev, *next; /* call->reqs */
	struct sip_txn *tx;
	enum sip_method method;
	struct sip_peer dest;
	bool challenged;   /* the one 401/407 answered already */
	const char *extra; /* the request's own header lines (in this allocation) or NULL */
	struct str body;   /* (in this allocation) */
};

static void call_req_free(struct sip__call_req *req)
{
	struct sip_call *call = req->call;
	if (req->prev)
		req->prev->next = req->next;
	else
		call->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	if (call->bye == req)
		call->bye = NULL;
	free(req);
}

void sip__call_link(struct sip_ua *ua, struct sip_call *call, struct str call_id)
{
	call->ua = ua;
	call->next = ua->calls;
	if (ua->calls)
		ua->calls->prev = call;
	ua->calls = call;
	ua->call_count++;
	hmap_insert(&ua->calls_by_call_id, &call->by_call_id, hash_str(call_id));
}

void sip__call_free(struct sip_call *call)
{
	struct sip_ua *ua = call->ua;
	hmap_remove(&ua->calls_by_call_id, &call->by_call_id);
	/* A UA being destroyed has freed every transaction already; otherwise
	 * ours (an INFO) finish on the wire without us. */
	while (call->reqs) {
		if (call->reqs->tx && !ua->destroying)
			sip_txn_client_detach(call->reqs->tx);
		call_req_free(call->reqs);
	}
	if (call->uac)
		sip__call_out_free(call);
	sip_dialog_destroy(call->dialog);
	free(call->local_body);
	free(call->local_extra);
	if (call->prev)
		call->prev->next = call->next;
	else
		ua->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	ua->call_count--;
	sip_msg_unref(call->invite);
	free(call);
}

/* A call is freed once its owner released it, its final response went out (or,
 * outbound, came in) and its BYE (if any) completed. */
void sip__call_maybe_free(struct sip_call *call)
{
	if (call->released && call->final_sent && !call->bye)
		sip__call_free(call);
}

void sip__call_ended(struct sip_call *call, uint16_t status)
{
	struct sip_ua *ua = call->ua;
	if (ua->cbs.call_ended_cb && !call->released)
		ua->cbs.call_ended_cb(ua->cbs.arg, call, status);
}

/* The call whose dialog (or, before the answer, whose INVITE) `msg` belongs to. */
struct sip_call *sip__call_find(struct sip_ua *ua, const struct sip_msg *msg)
{
	for (struct hmap_node *n = hmap_first(&ua->calls_by_call_id, hash_str(msg->call_id)); n;
	     n = hmap_next(n)) {
		struct sip_call *call = container_of(n, struct sip_call, by_call_id);
		if (!call->invite)
			continue; /* outbound, its destination still being resolved */
		if (call->dialog ? sip_dialog_matches(call->dialog, msg)
				 : str_eq(call->invite->call_id, msg->call_id) &&
				       str_eq(call->invite->from.tag, msg->from.tag))
			return call;
	}
	return NULL;
}

const struct sip_msg *sip_call_invite(const struct sip_call *call)
{
	return call->invite;
}

const struct sip_peer *sip_call_peer(const struct sip_call *call)
{
	return call->invite ? &call->invite->src : NULL;
}

void sip_call_set_owner(struct sip_call *call, void *owner)
{
	call->owner = owner;
}

void *sip_call_owner(const struct sip_call *call)
{
	return call->owner;
}

int sip_call_respond(struct sip_call *call, uint16_t status, const char *reason)
{
	struct sip_ua *ua = call->ua;

	if (call->uac || call->final_sent || status < 101 || status > 699)
		return -EINVAL;
	if (status >= 200 && status < 300)
		return -ENOTSUP; /* answering needs a session description: not yet */
	int err = sip_txn_respond(call->stx, status, reason, call->to_tag, NULL, STR_NULL);
	if (!err && status >= 200) {
		call->final_sent = true;
		call->ended = true;
		sip_txn_set_owner(call->stx, NULL);
		call->stx = NULL; /* the layer owns it until its timers end */
	}
	sip__ua_timer_rearm(ua);
	return err;
}

void sip_call_release(struct sip_call *call)
{
	call->released = true;
	call->owner = NULL;
	/* Released while still up: the far end must still be told. */
	if (!call->ended)
		sip_call_hangup(call, 500, NULL);
	sip__call_maybe_free(call);
}

bool sip_call_answered(const struct sip_call *call)
{
	return call->answered;
}

static const char *ua_contact_params(enum sip_transport t)
{
	return t == SIP_TRANSPORT_TCP ? ";transport=tcp" : "";
}

/* §12.1.1: a dialog-creating response carries the request's Record-Route as is. */
static void call_record_route_print(struct buf *out, const struct sip_msg *invite)
{
	for (const struct sip_hdr *h = sip_msg_hdr(invite, SIP_HDR_RECORD_ROUTE); h;
	     h = sip_msg_hdr_next(invite, h)) {
		buf_append_cstr(out, "Record-Route: ");
		buf_append_str(out, h->value);
		buf_append_cstr(out, "\r\n");
	}
}

int sip__call_keep_local(struct sip_call *call, const char *prefix, const char *contact,
			 const char *content_type, struct str body)
{
	struct buf extra;
	buf_init(&extra);
	if (prefix)
		buf_append_cstr(&extra, prefix);
	buf_printf(&extra, "Contact: <%s>\r\nAllow: " UA_ALLOW "\r\nContent-Type: %s\r\n", contact,
		   content_type);
	char *lines = buf_steal(&extra, NULL);
	char *copy = malloc(body.len + 1);
	if (!lines || !copy) {
		free(lines);
		free(copy);
		return -ENOMEM;
	}
	if (body.len)
		memcpy(copy, body.p, body.len);
	free(call->local_extra);
	free(call->local_body);
	call->local_extra = lines;
	call->local_body = copy;
	call->local_body_len = body.len;
	return 0;
}

/*
 * The first time the call gets a body-carrying response: this side's Contact,
 * the headers every such response repeats, and a copy of the body (kept for
 * re-INVITEs when the owner has no offer_cb).
 */
static int call_local_set(struct sip_call *call, const char *content_type, struct str body)
{
	struct sip_ua *ua = call->ua;
	const struct sip_peer *peer = &call->invite->src;
	char contact[320];
	struct buf rr;

	const char *sent_by =
	    sip_transport_sent_by(ua->ts, peer->transport, net_addr_family(&peer->local));
	snprintf(contact, sizeof(contact), "sip:irisx@%s%s", sent_by,
		 ua_contact_params(peer->transport));
	buf_init(&rr);
	call_record_route_print(&rr, call->invite);
	int err = sip__call_keep_local(call, rr.failed ? NULL : rr.p, contact, content_type, body);
	buf_fini(&rr);
	if (err)
		return err;
	if (!call->dialog)
		return sip_dialog_create_uas(&call->dialog, call->invite, call->to_tag, contact);
	return 0;
}

int sip_call_progress(struct sip_call *call, const char *content_type, struct str body)
{
	if (call->uac || call->final_sent)
		return -EINVAL;
	int err = call_local_set(call, content_type, body);
	if (!err)
		err = sip_txn_respond(call->stx, 183, NULL, call->to_tag, call->local_extra, body);
	sip__ua_timer_rearm(call->ua);
	return err;
}

int sip_call_answer(struct sip_call *call, const char *content_type, struct str body)
{
	struct sip_ua *ua = call->ua;

	if (call->uac || call->final_sent)
		return -EINVAL;
	int err = call_local_set(call, content_type, body);
	if (err)
		return err;
	err = sip_txn_respond(call->stx, 200, NULL, call->to_tag, call->local_extra, body);
	if (err)
		return err;
	call->answered = true;
	call->final_sent = true;
	sip_txn_set_owner(call->stx, NULL);
	call->stx = NULL; /* the layer retransmits the 2xx until the ACK */
	sip__ua_timer_rearm(ua);
	return 0;
}

static void call_req_cb(void *arg, struct sip_txn *ctx, const struct sip_msg *resp,
			uint16_t status);

/* `line` (a complete header line) after the last header of the request in `b`. */
static int call_req_add_line(struct buf *b, const char *line)
{
	const char *end = b->p ? memmem(b->p, b->len, "\r\n\r\n", 4) : NULL;
	if (!end)
		return -EINVAL;
	size_t at = (size_t)(end - b->p) + 2;
	struct buf out;
	buf_init(&out);
	buf_append(&out, b->p, at);
	buf_append_cstr(&out, line);
	buf_append(&out, b->p + at, b->len - at);
	if (out.failed) {
		buf_fini(&out);
		return -ENOMEM;
	}
	buf_fini(b);
	*b = out;
	return 0;
}

/*
 * Prints the request in the call's dialog (the next CSeq, a new branch) and
 * starts its transaction; with `challenge` (a 401/407 to the request before)
 * it carries the credentials answering it. These answer the Request-URI the
 * dialog prints, so they are computed from the printed request and go in
 * last among its headers.
 */
static int call_req_send(struct sip__call_req *req, const struct sip_msg *challenge)
{
	struct sip_call *call = req->call;
	struct sip_ua *ua = call->ua;
	struct sip_msg *msg = NULL;
	struct buf b, line;

	buf_init(&b);
	buf_init(&line);
	const char *sent_by =
	    sip_transport_sent_by(ua->ts, req->dest.transport, net_addr_family(&req->dest.remote));
	int err = sip_dialog_request_print(&b, call->dialog, req->method, 0, req->dest.transport,
					   sent_by, req->extra, req->body);
	if (!err)
		err = b.failed ? -ENOMEM : sip_msg_parse(&msg, b.p, b.len);
	if (!err && challenge) {
		err = sip__call_out_auth_print(call, challenge, sip_method_name(req->method),
					       msg->ruri_str, &line);
		sip_msg_unref(msg);
		msg = NULL;
		if (!err)
			err = call_req_add_line(&b, line.p);
		if (!err)
			err = sip_msg_parse(&msg, b.p, b.len);
	}
	if (!err)
		err = sip_txn_client_start(&req->tx, ua->txns, msg, &req->dest, call_req_cb, req);
	if (err)
		req->tx = NULL;
	sip_msg_unref(msg);
	buf_fini(&b);
	buf_fini(&line);
	sip__ua_timer_rearm(ua);
	return err;
}

/* Answers a 401/407 once, for a call placed with credentials: 0 when the new
 * request is on its way. */
static int call_req_challenged(struct sip__call_req *req, const struct sip_msg *resp)
{
	struct sip_call *call = req->call;
	if (req->challenged || !call->uac || !call->uac->auth_username || !call->dialog)
		return -EACCES;
	/* Only the BYE still matters once the call ended. */
	if (call->ended && req->method != SIP_METHOD_BYE)
		return -ENOTCONN;
	req->challenged = true;
	int err = call_req_send(req, resp);
	if (err)
		log_info("call %.*s: %s with credentials not sent: %s", (int)resp->call_id.len,
			 resp->call_id.p, sip_method_name(req->method), strerror(-err));
	return err;
}

static void call_req_cb(void *arg, struct sip_txn *ctx, const struct sip_msg *resp, uint16_t status)
{
	struct sip__call_req *req = arg;
	struct sip_call *call = req->call;
	if (status < 200)
		return;
	req->tx = NULL; /* a final response ends a non-INVITE transaction */
	if (resp && (status == 401 || status == 407) && call_req_challenged(req, resp) == 0)
		return;
	if (resp && status >= 300)
		log_info("call %.*s: %s answered %u", (int)resp->call_id.len, resp->call_id.p,
			 sip_method_name(req->method), status);
	call_req_free(req);
	sip__call_maybe_free(call);
}

/* Sends `method` in the call's dialog to `dest`, tracked in call->reqs; `extra`
 * (complete lines or NULL) and `body` are kept for a retry. *out may be NULL. */
static int call_req_start(struct sip__call_req **out, struct sip_call *call, enum sip_method method,
			  const struct sip_peer *dest, const char *extra, struct str body)
{
	size_t extra_len = extra ? strlen(extra) : 0;
	struct sip__call_req *req = calloc(1, sizeof(*req) + extra_len + 1 + body.len);
	if (!req)
		return -ENOMEM;
	char *copy = (char *)(req + 1);
	if (extra) {
		memcpy(copy, extra, extra_len + 1);
		req->extra = copy;
	}
	if (body.len)
		memcpy(copy + extra_len + 1, body.p, body.len);
	req->body = str_make(copy + extra_len + 1, body.len);
	req->call = call;
	req->method = method;
	req->dest = *dest;
	req->next = call->reqs;
	if (call->reqs)
		call->reqs->prev = req;
	call->reqs = req;
	int err = call_req_send(req, NULL);
	if (err) {
		call_req_free(req);
		return err;
	}
	if (out)
		*out = req;
	return 0;
}

int sip__call_send_bye(struct sip_call *call, const struct sip_peer *dest,
		       const char *extra_headers)
{
	return call_req_start(&call->bye, call, SIP_METHOD_BYE, dest, extra_headers, STR_NULL);
}

int sip_call_info(struct sip_call *call, const char *content_type, struct str body)
{
	struct sip_peer dest;
	struct buf extra;

	if (!content_type || strpbrk(content_type, "\r\n"))
		return -EINVAL;
	if (!call->dialog || call->ended || !call->answered)
		return -ENOTCONN;
	sip__call_dialog_dest(call, &dest);
	buf_init(&extra);
	buf_printf(&extra, "Content-Type: %s\r\n", content_type);
	int err = extra.failed ? -ENOMEM
			       : call_req_start(NULL, call, SIP_METHOD_INFO, &dest, extra.p, body);
	buf_fini(&extra);
	return err;
}

int sip_call_hangup(struct sip_call *call, uint16_t status, const char *extra_headers)
{
	if (call->ended)
		return -EALREADY;
	if (call->uac && !call->answered)
		return sip__call_out_cancel(call, extra_headers);
	if (!call->final_sent)
		return sip_call_respond(call, status, NULL);
	call->ended = true;
	if (!call->answered)
		return 0;
	struct sip_peer dest;
	sip__call_dialog_dest(call, &dest);
	return sip__call_send_bye(call, &dest, extra_headers);
}

/* A re-INVITE or UPDATE: the owner answers the offer (or makes one). */
static void ua_offer(struct sip_ua *ua, struct sip_call *call, struct sip_txn *stx,
		     const struct sip_msg *req)
{
	if (!ua->cbs.offer_cb || call->released) {
		sip_txn_respond(stx, 200, NULL, NULL, call->local_extra,
				str_make(call->local_body, call->local_body_len));
		return;
	}
	struct buf answer;
	buf_init(&answer);
	uint16_t status = ua->cbs.offer_cb(ua->cbs.arg, call, req->body, &answer);
	if (status >= 200 && status < 300 && !answer.failed) {
		char *copy = malloc(answer.len + 1);
		if (copy) {
			memcpy(copy, answer.p ? answer.p : "", answer.len);
			free(call->local_body);
			call->local_body = copy;
			call->local_body_len = answer.len;
		}
		sip_txn_respond(stx, status, NULL, NULL, call->local_extra,
				str_make(answer.p, answer.len));
	} else {
		sip_txn_respond(stx, status >= 300 ? status : 500, NULL, NULL, NULL, STR_NULL);
	}
	buf_fini(&answer);
}

void sip__ua_in_dialog(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req)
{
	struct sip_call *call = sip__call_find(ua, req);

	if (!call || !call->dialog) {
		sip_txn_respond(stx, 481, NULL, NULL, NULL, STR_NULL);
		return;
	}
	int status = sip_dialog_recv_request(call->dialog, req);
	if (status) {
		sip_txn_respond(stx, (uint16_t)status, NULL, NULL, NULL, STR_NULL);
		return;
	}
	switch (req->method) {
	case SIP_METHOD_BYE:
		sip_txn_respond(stx, 200, NULL, NULL, NULL, STR_NULL);
		if (call->ended)
			break;
		/* An early dialog ended by the far end: our INVITE must end too. */
		if (call->uac && !call->answered)
			sip__call_out_cancel(call, NULL);
		call->ended = true;
		sip__call_ended(call, 200);
		break;
	case SIP_METHOD_INVITE:
	case SIP_METHOD_UPDATE:
		if (call->ended || !call->answered) {
			sip_txn_respond(stx, call->ended ? 481 : 491, NULL, NULL, NULL, STR_NULL);
			break;
		}
		ua_offer(ua, call, stx, req);
		break;
	case SIP_METHOD_INFO: {
		uint16_t st = 200;
		if (ua->cbs.info_cb && !call->ended && !call->released)
			st = ua->cbs.info_cb(ua->cbs.arg, call, req);
		sip_txn_respond(stx, st >= 200 && st <= 699 ? st : 500, NULL, NULL, NULL, STR_NULL);
		break;
	}
	case SIP_METHOD_OPTIONS:
		sip_txn_respond(stx, 200, NULL, NULL, "Allow: " UA_ALLOW "\r\n", STR_NULL);
		break;
	default:
		sip__ua_refuse_method(stx, req);
		break;
	}
}

void sip__ua_invite(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req)
{
	if (ua->draining || !ua->cbs.invite_cb) {
		sip_txn_respond(stx, 503, NULL, NULL, "Retry-After: 5\r\n", STR_NULL);
		return;
	}
	struct sip_call *call = calloc(1, sizeof(*call));
	if (!call) {
		sip_txn_respond(stx, 500, NULL, NULL, NULL, STR_NULL);
		return;
	}
	call->stx = stx;
	call->invite = sip_msg_ref(req);
	random_hex(call->to_tag, 8);
	sip_txn_set_owner(stx, call);
	sip__call_link(ua, call, req->call_id);
	ua->cbs.invite_cb(ua->cbs.arg, call);
}

void sip__ua_cancel(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req)
{
	struct sip_txn *itx = sip_txn_find_cancelled(ua->txns, req);
	struct sip_call *call = itx ? sip_txn_owner(itx) : NULL;

	if (!itx) {
		sip_txn_respond(stx, 481, NULL, NULL, NULL, STR_NULL);
		return;
	}
	/* §9.2: the CANCEL gets 200 whether or not it still has an effect. */
	sip_txn_respond(stx, 200, NULL, call ? call->to_tag : NULL, NULL, STR_NULL);
	if (!call || call->final_sent)
		return;
	sip_call_respond(call, 487, NULL);
	/* The owner releases the call, now or later; that frees it. */
	sip__call_ended(call, 487);
}
