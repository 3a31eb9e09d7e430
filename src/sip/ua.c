/*
 * The user agent of one SIP profile: its transports, its transaction layer
 * and the inbound calls (INVITE server sessions) it hands to the core.
 *
 * What it answers by itself (RFC 3261 §8.2):
 *  - out-of-dialog OPTIONS: 200, statelessly (§8.2.7, §11.2) — trunks ping
 *    with them many times a second, and a stateless answer keeps no state;
 *  - requests from a source the profile's ACL refuses: 403, statelessly, so
 *    that a refused source creates nothing;
 *  - malformed requests: 400 (sip_msg_check's status and reason);
 *  - Require with extensions irisx lacks: 420 with Unsupported (§8.2.2.3);
 *  - CANCEL (§9.2): 200, and 487 to the INVITE it cancels;
 *  - requests for dialogs it does not have: 481; methods it does not serve:
 *    405 or 501 with Allow;
 *  - in an answered call's dialog: BYE (200, and the owner is told), re-INVITE
 *    and UPDATE (200 with the same session description: media changes are
 *    the media layer's to negotiate), INFO and OPTIONS (200).
 *
 * Calls are indexed by Call-ID so that ACKs and in-dialog requests find
 * theirs in O(1).
 */
#define LOG_MODULE "sip"
#include "sip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define UA_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"

struct sip_call {
	struct sip_ua *ua;
	struct hmap_node by_call_id;
	struct sip_txn *stx;	/* the INVITE server transaction until its final response */
	struct sip_msg *invite; /* a reference */
	struct sip_dialog *dialog; /* once answered */
	char *local_body;	   /* the answer's session description (owned) */
	size_t local_body_len;
	char *local_extra; /* Contact and Content-Type lines for 2xx (owned) */
	struct sip_txn *bye;	/* our BYE's client transaction while it runs */
	char to_tag[17];
	void *owner;
	bool final_sent;
	bool answered;
	bool acked;
	bool ended; /* BYE sent or received */
	bool released;
	struct sip_call *prev, *next;
};

struct sip_ua {
	uv_loop_t *loop;
	char *name;
	char *user_agent;
	struct sip_ua_cbs cbs;
	struct sip_transport_set *ts;
	struct sip_txn_layer *txns;
	uv_timer_t timer; /* the transaction layer's next deadline */
	uint64_t armed;	  /* deadline the timer is set for, UINT64_MAX when stopped */
	struct sip_call *calls;
	size_t call_count;
	struct hmap calls_by_call_id;
	bool draining;
	bool destroying;
	void (*done_cb)(void *arg);
	void *done_arg;
	struct buf out; /* scratch for stateless responses */
};

/* ---- the transaction layer's timer ---- */

static void ua_timer_cb(uv_timer_t *t);

/* Called after every entry into the transaction layer. */
static void ua_timer_rearm(struct sip_ua *ua)
{
	uint64_t deadline = sip_txn_layer_next_deadline(ua->txns);
	if (deadline == ua->armed)
		return;
	ua->armed = deadline;
	if (deadline == UINT64_MAX) {
		uv_timer_stop(&ua->timer);
		return;
	}
	uint64_t now = uv_now(ua->loop);
	uv_timer_start(&ua->timer, ua_timer_cb, deadline > now ? deadline - now : 0, 0);
}

static void ua_timer_cb(uv_timer_t *t)
{
	struct sip_ua *ua = t->data;
	ua->armed = UINT64_MAX;
	sip_txn_layer_run_timers(ua->txns);
	ua_timer_rearm(ua);
}

/* ---- stateless answers ---- */

/*
 * A To tag for a stateless response: the same for every retransmission of the
 * same request (§8.2.7), so derived from what identifies it.
 */
static void stateless_tag(const struct sip_msg *req, char out[17])
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	const struct str parts[] = {req->call_id, req->from.tag, req->via.branch,
				    req->cseq.method_name};
	for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
		for (size_t j = 0; j < parts[i].len; j++) {
			h ^= (unsigned char)parts[i].p[j];
			h *= 1099511628211ull;
		}
		h ^= req->cseq.num + i;
		h *= 1099511628211ull;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static void ua_respond_stateless(struct sip_ua *ua, const struct sip_msg *req, uint16_t status,
				 const char *reason, const char *extra)
{
	char tag[17];
	struct sip_peer dest;

	if (req->method == SIP_METHOD_ACK)
		return; /* never answer an ACK */
	stateless_tag(req, tag);
	buf_reset(&ua->out);
	sip_response_print(&ua->out, req, status, reason, tag, extra, STR_NULL);
	if (ua->out.failed)
		return;
	sip_transport_response_peer(&req->src, &req->via, &dest);
	sip_transport_send(ua->ts, &dest, ua->out.p, ua->out.len);
}

static void ua_log_peer(const char *what, const struct sip_peer *src, const char *detail)
{
	char peer[NET_ADDR_STRLEN];
	log_info("%s from %s/%s: %s", what, sip_transport_name(src->transport),
		 net_addr_print(&src->remote, peer, sizeof(peer)), detail);
}

/* ---- calls ---- */

static void call_free(struct sip_call *call)
{
	struct sip_ua *ua = call->ua;
	hmap_remove(&ua->calls_by_call_id, &call->by_call_id);
	if (call->bye)
		sip_txn_client_detach(call->bye);
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

/* A call is freed once its owner released it, its final response went out and
 * its BYE (if any) completed. */
static void call_maybe_free(struct sip_call *call)
{
	if (call->released && call->final_sent && !call->bye)
		call_free(call);
}

/* The call whose dialog (or, before the answer, whose INVITE) `msg` belongs to. */
static struct sip_call *call_find(struct sip_ua *ua, const struct sip_msg *msg)
{
	for (struct hmap_node *n = hmap_first(&ua->calls_by_call_id, hash_str(msg->call_id)); n;
	     n = hmap_next(n)) {
		struct sip_call *call = container_of(n, struct sip_call, by_call_id);
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
	return &call->invite->src;
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

	if (call->final_sent || status < 101 || status > 699)
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
	ua_timer_rearm(ua);
	return err;
}

void sip_call_release(struct sip_call *call)
{
	call->released = true;
	call->owner = NULL;
	/* Released while still up: the far end must still be told. */
	if (!call->ended)
		sip_call_hangup(call, 500, NULL);
	call_maybe_free(call);
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
	struct buf extra;

	const char *sent_by =
		sip_transport_sent_by(ua->ts, peer->transport, net_addr_family(&peer->local));
	snprintf(contact, sizeof(contact), "sip:irisx@%s%s", sent_by,
		 ua_contact_params(peer->transport));
	buf_init(&extra);
	call_record_route_print(&extra, call->invite);
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
	if (!call->dialog)
		return sip_dialog_create_uas(&call->dialog, call->invite, call->to_tag, contact);
	return 0;
}

int sip_call_progress(struct sip_call *call, const char *content_type, struct str body)
{
	if (call->final_sent)
		return -EINVAL;
	int err = call_local_set(call, content_type, body);
	if (!err)
		err = sip_txn_respond(call->stx, 183, NULL, call->to_tag, call->local_extra, body);
	ua_timer_rearm(call->ua);
	return err;
}

int sip_call_answer(struct sip_call *call, const char *content_type, struct str body)
{
	struct sip_ua *ua = call->ua;

	if (call->final_sent)
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
	ua_timer_rearm(ua);
	return 0;
}

static void call_bye_cb(void *arg, struct sip_txn *ctx, const struct sip_msg *resp,
			uint16_t status)
{
	struct sip_call *call = arg;
	if (status < 200)
		return;
	call->bye = NULL;
	call_maybe_free(call);
}

static int call_send_bye(struct sip_call *call, const char *extra_headers)
{
	struct sip_ua *ua = call->ua;
	struct sip_peer dest = *sip_dialog_peer(call->dialog);
	struct sip_msg *bye = NULL;
	struct buf b;

	buf_init(&b);
	const char *sent_by =
		sip_transport_sent_by(ua->ts, dest.transport, net_addr_family(&dest.remote));
	int err = sip_dialog_request_print(&b, call->dialog, SIP_METHOD_BYE, 0, dest.transport,
					   sent_by, extra_headers, STR_NULL);
	if (!err)
		err = b.failed ? -ENOMEM : sip_msg_parse(&bye, b.p, b.len);
	if (!err)
		err = sip_txn_client_start(&call->bye, ua->txns, bye, &dest, call_bye_cb, call);
	sip_msg_unref(bye);
	buf_fini(&b);
	ua_timer_rearm(ua);
	return err;
}

int sip_call_hangup(struct sip_call *call, uint16_t status, const char *extra_headers)
{
	if (call->ended)
		return -EALREADY;
	if (!call->final_sent)
		return sip_call_respond(call, status, NULL);
	call->ended = true;
	if (!call->answered)
		return 0;
	return call_send_bye(call, extra_headers);
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

static void ua_in_dialog(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req)
{
	struct sip_call *call = call_find(ua, req);

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
		call->ended = true;
		if (ua->cbs.call_ended_cb && !call->released)
			ua->cbs.call_ended_cb(ua->cbs.arg, call, 200);
		break;
	case SIP_METHOD_INVITE:
	case SIP_METHOD_UPDATE:
		if (call->ended || !call->answered) {
			sip_txn_respond(stx, call->ended ? 481 : 491, NULL, NULL, NULL, STR_NULL);
			break;
		}
		ua_offer(ua, call, stx, req);
		break;
	case SIP_METHOD_INFO:
		sip_txn_respond(stx, 200, NULL, NULL, NULL, STR_NULL);
		break;
	case SIP_METHOD_OPTIONS:
		sip_txn_respond(stx, 200, NULL, NULL, "Allow: " UA_ALLOW "\r\n", STR_NULL);
		break;
	case SIP_METHOD_UNKNOWN:
		sip_txn_respond(stx, 501, NULL, NULL, "Allow: " UA_ALLOW "\r\n", STR_NULL);
		break;
	default:
		sip_txn_respond(stx, 405, NULL, NULL, "Allow: " UA_ALLOW "\r\n", STR_NULL);
		break;
	}
}

static void ua_invite(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req)
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
	call->ua = ua;
	call->stx = stx;
	call->invite = sip_msg_ref(req);
	random_hex(call->to_tag, 8);
	sip_txn_set_owner(stx, call);
	call->next = ua->calls;
	if (ua->calls)
		ua->calls->prev = call;
	ua->calls = call;
	ua->call_count++;
	hmap_insert(&ua->calls_by_call_id, &call->by_call_id, hash_str(req->call_id));
	ua->cbs.invite_cb(ua->cbs.arg, call);
}

static void ua_cancel(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req)
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
	if (ua->cbs.call_ended_cb && !call->released)
		ua->cbs.call_ended_cb(ua->cbs.arg, call, 487);
}

/* The option tags of a Require header that irisx does not support (all, for now). */
static bool ua_require_unsupported(const struct sip_msg *req, struct buf *unsupported)
{
	for (const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_REQUIRE); h;
	     h = sip_msg_hdr_next(req, h)) {
		struct str list = h->value, item;
		while (sip_list_next(&list, &item)) {
			buf_append_cstr(unsupported, unsupported->len ? ", " : "Unsupported: ");
			buf_append_str(unsupported, item);
		}
	}
	if (unsupported->len)
		buf_append_cstr(unsupported, "\r\n");
	return unsupported->len > 0;
}

/* A new server transaction: everything but retransmissions and ACKs. */
static void ua_request_cb(void *arg, struct sip_txn *stx, struct sip_msg *req)
{
	struct sip_ua *ua = arg;
	const char *reason = NULL;

	int status = sip_msg_check(req, &reason);
	if (status) {
		ua_log_peer("rejected request", &req->src, reason ? reason : "malformed");
		sip_txn_respond(stx, (uint16_t)status, reason, NULL, NULL, STR_NULL);
		return;
	}
	if (req->method != SIP_METHOD_CANCEL) {
		struct buf unsupported;
		buf_init(&unsupported);
		if (ua_require_unsupported(req, &unsupported)) {
			sip_txn_respond(stx, 420, NULL, NULL, unsupported.p, STR_NULL);
			buf_fini(&unsupported);
			return;
		}
		buf_fini(&unsupported);
	}
	if (req->to.tag.len && req->method != SIP_METHOD_CANCEL) {
		ua_in_dialog(ua, stx, req);
		return;
	}
	switch (req->method) {
	case SIP_METHOD_INVITE:
		ua_invite(ua, stx, req);
		break;
	case SIP_METHOD_CANCEL:
		ua_cancel(ua, stx, req);
		break;
	case SIP_METHOD_OPTIONS: /* only reached for a request the stateless path skipped */
		sip_txn_respond(stx, 200, NULL, NULL, "Allow: " UA_ALLOW "\r\n", STR_NULL);
		break;
	case SIP_METHOD_BYE:
	case SIP_METHOD_INFO:
	case SIP_METHOD_UPDATE:
	case SIP_METHOD_PRACK:
		sip_txn_respond(stx, 481, NULL, NULL, NULL, STR_NULL);
		break;
	case SIP_METHOD_UNKNOWN:
		sip_txn_respond(stx, 501, NULL, NULL, "Allow: " UA_ALLOW "\r\n", STR_NULL);
		break;
	default:
		sip_txn_respond(stx, 405, NULL, NULL, "Allow: " UA_ALLOW "\r\n", STR_NULL);
		break;
	}
}

static void ua_ack_cb(void *arg, struct sip_msg *ack)
{
	struct sip_ua *ua = arg;
	struct sip_call *call = call_find(ua, ack);

	if (call && call->dialog) {
		bool first = !call->acked;
		call->acked = true;
		if (first && ua->cbs.ack_cb && !call->released)
			ua->cbs.ack_cb(ua->cbs.arg, call, ack);
		return;
	}
	log_debug("ACK for no transaction or dialog (Call-ID %.*s) ignored",
		  (int)ack->call_id.len, ack->call_id.p);
}

static void ua_ack_timeout_cb(void *arg, struct sip_txn *stx)
{
	struct sip_ua *ua = arg;
	/* The 2xx was never ACKed (RFC 3261 §13.3.1.4): end the call with BYE. */
	struct sip_call *call = call_find(ua, sip_txn_request(stx));
	if (!call || call->acked || call->ended)
		return;
	log_notice("call %.*s: no ACK for 200 OK, hanging up", (int)call->invite->call_id.len,
		   call->invite->call_id.p);
	if (ua->cbs.call_ended_cb && !call->released)
		ua->cbs.call_ended_cb(ua->cbs.arg, call, 408);
	else
		sip_call_hangup(call, 408, NULL);
}

/* ---- receiving ---- */

static void ua_recv_cb(void *arg, const struct sip_peer *src, const char *data, size_t len)
{
	struct sip_ua *ua = arg;
	struct sip_msg *msg = NULL;

	int err = sip_msg_parse(&msg, data, len);
	if (err) {
		if (msg) {
			msg->src = *src;
			ua_log_peer("malformed request", src, msg->error);
			ua_respond_stateless(ua, msg, 400, msg->error, NULL);
			sip_msg_unref(msg);
		} else if (log_enabled(LOG_DEBUG)) {
			ua_log_peer("dropped unparseable message", src, "no response possible");
		}
		return;
	}
	msg->src = *src;
	if (msg->is_request && !msg->to.tag.len) {
		if (msg->method == SIP_METHOD_OPTIONS) {
			ua_respond_stateless(ua, msg, 200, NULL,
					     "Allow: " UA_ALLOW "\r\nAccept: application/sdp\r\n"
					     "Supported: path, replaces\r\n");
			sip_msg_unref(msg);
			return;
		}
		if ((msg->method == SIP_METHOD_INVITE || msg->method == SIP_METHOD_REGISTER) &&
		    ua->cbs.acl_cb && !ua->cbs.acl_cb(ua->cbs.arg, src)) {
			ua_log_peer("refused by ACL", src, sip_method_name(msg->method));
			ua_respond_stateless(ua, msg, 403, NULL, NULL);
			sip_msg_unref(msg);
			return;
		}
	}
	sip_txn_layer_recv(ua->txns, msg);
	sip_msg_unref(msg);
	ua_timer_rearm(ua);
}

/* ---- transaction layer plumbing ---- */

static uint64_t ua_now_cb(void *arg)
{
	struct sip_ua *ua = arg;
	return uv_now(ua->loop);
}

static int ua_send_request_cb(void *arg, const struct sip_peer *dest, const char *data,
			      size_t len)
{
	struct sip_ua *ua = arg;
	return sip_transport_send(ua->ts, dest, data, len);
}

static int ua_send_response_cb(void *arg, const struct sip_peer *src, const struct sip_via *via,
			       const char *data, size_t len)
{
	struct sip_ua *ua = arg;
	struct sip_peer dest;
	sip_transport_response_peer(src, via, &dest);
	return sip_transport_send(ua->ts, &dest, data, len);
}

/* ---- life cycle ---- */

int sip_ua_create(struct sip_ua **out, uv_loop_t *loop, const struct sip_ua_config *cfg,
		  const struct sip_ua_cbs *cbs)
{
	struct sip_ua *ua = calloc(1, sizeof(*ua));
	char where[NET_ADDR_STRLEN];
	int err = -ENOMEM;

	if (!ua)
		return -ENOMEM;
	ua->loop = loop;
	ua->cbs = *cbs;
	ua->armed = UINT64_MAX;
	buf_init(&ua->out);
	hmap_init(&ua->calls_by_call_id);
	ua->name = strdup(cfg->name ? cfg->name : "sip");
	ua->user_agent = strdup(cfg->user_agent ? cfg->user_agent : "irisx");
	if (!ua->name || !ua->user_agent)
		goto out;
	struct sip_txn_layer_cbs tcbs = {
		.now_cb = ua_now_cb,
		.send_request_cb = ua_send_request_cb,
		.send_response_cb = ua_send_response_cb,
		.request_cb = ua_request_cb,
		.ack_cb = ua_ack_cb,
		.ack_timeout_cb = ua_ack_timeout_cb,
		.arg = ua,
	};
	err = sip_txn_layer_create(&ua->txns, &tcbs, NULL);
	if (err)
		goto out;
	err = sip_transport_set_create(&ua->ts, loop, ua_recv_cb, ua);
	if (err)
		goto out;
	if (cfg->ext_host)
		sip_transport_set_ext_host(ua->ts, cfg->ext_host);
	if (!cfg->enable_udp && !cfg->enable_tcp)
		err = -EINVAL;
	if (!err && cfg->enable_udp)
		err = sip_transport_listen(ua->ts, SIP_TRANSPORT_UDP, &cfg->addr);
	if (!err && cfg->enable_tcp)
		err = sip_transport_listen(ua->ts, SIP_TRANSPORT_TCP, &cfg->addr);
	if (err) {
		log_err("profile %s: cannot listen on %s: %s", ua->name,
			net_addr_print(&cfg->addr, where, sizeof(where)), uv_strerror(err));
		goto out;
	}
	uv_timer_init(loop, &ua->timer);
	ua->timer.data = ua;
	log_notice("profile %s listening on %s (%s%s%s)", ua->name,
		   net_addr_print(&cfg->addr, where, sizeof(where)), cfg->enable_udp ? "udp" : "",
		   cfg->enable_udp && cfg->enable_tcp ? ", " : "", cfg->enable_tcp ? "tcp" : "");
	*out = ua;
	return 0;
out:
	if (ua->ts)
		sip_transport_set_close(ua->ts, NULL, NULL);
	if (ua->txns)
		sip_txn_layer_destroy(ua->txns);
	free(ua->name);
	free(ua->user_agent);
	buf_fini(&ua->out);
	hmap_fini(&ua->calls_by_call_id);
	free(ua);
	return err;
}

const char *sip_ua_sent_by(const struct sip_ua *ua, enum sip_transport transport, int family)
{
	return sip_transport_sent_by(ua->ts, transport, family);
}

void sip_ua_drain(struct sip_ua *ua)
{
	ua->draining = true;
}

size_t sip_ua_busy(const struct sip_ua *ua)
{
	return ua->call_count;
}

static void ua_closed_cb(void *arg)
{
	struct sip_ua *ua = arg;
	void (*done)(void *) = ua->done_cb;
	void *done_arg = ua->done_arg;
	free(ua->name);
	free(ua->user_agent);
	buf_fini(&ua->out);
	hmap_fini(&ua->calls_by_call_id);
	free(ua);
	if (done)
		done(done_arg);
}

static void ua_timer_closed_cb(uv_handle_t *h)
{
	struct sip_ua *ua = h->data;
	sip_transport_set_close(ua->ts, ua_closed_cb, ua);
}

void sip_ua_destroy(struct sip_ua *ua, void (*done_cb)(void *arg), void *arg)
{
	ua->destroying = true;
	ua->done_cb = done_cb;
	ua->done_arg = arg;
	sip_txn_layer_destroy(ua->txns); /* no callbacks; client transactions gone */
	while (ua->calls) {
		ua->calls->bye = NULL;
		call_free(ua->calls);
	}
	ua->txns = NULL;
	uv_close((uv_handle_t *)&ua->timer, ua_timer_closed_cb);
}
