/*
 * Call sessions of a profile's user agent (RFC 3261 §13, §12, §9): what every
 * call has — its place in the UA's index, BYE in either direction, the
 * requests that arrive inside an answered call's dialog, freeing — and the
 * inbound (INVITE server) side: provisional and final responses, early
 * media, the 2xx answer and its dialog, CANCEL. The outbound side is in
 * call_out.c.
 */
#define LOG_MODULE "sip"
#include "sip_ua_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* A UA being destroyed has freed every transaction already. */
	if (call->bye && !ua->destroying)
		sip_txn_client_detach(call->bye);
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

static void call_bye_cb(void *arg, struct sip_txn *ctx, const struct sip_msg *resp, uint16_t status)
{
	struct sip_call *call = arg;
	if (status < 200)
		return;
	call->bye = NULL;
	sip__call_maybe_free(call);
}

int sip__call_send_bye(struct sip_call *call, const struct sip_peer *dest,
		       const char *extra_headers)
{
	struct sip_ua *ua = call->ua;
	struct sip_msg *bye = NULL;
	struct buf b;

	buf_init(&b);
	const char *sent_by =
	    sip_transport_sent_by(ua->ts, dest->transport, net_addr_family(&dest->remote));
	int err = sip_dialog_request_print(&b, call->dialog, SIP_METHOD_BYE, 0, dest->transport,
					   sent_by, extra_headers, STR_NULL);
	if (!err)
		err = b.failed ? -ENOMEM : sip_msg_parse(&bye, b.p, b.len);
	if (!err)
		err = sip_txn_client_start(&call->bye, ua->txns, bye, dest, call_bye_cb, call);
	sip_msg_unref(bye);
	buf_fini(&b);
	sip__ua_timer_rearm(ua);
	return err;
}

int sip_call_info(struct sip_call *call, const char *content_type, struct str body)
{
	struct sip_ua *ua = call->ua;
	struct sip_msg *info = NULL;
	struct sip_txn *tx;
	struct sip_peer dest;
	struct buf b, extra;

	if (!content_type || strpbrk(content_type, "\r\n"))
		return -EINVAL;
	if (!call->dialog || call->ended || !call->answered)
		return -ENOTCONN;
	sip__call_dialog_dest(call, &dest);
	buf_init(&b);
	buf_init(&extra);
	buf_printf(&extra, "Content-Type: %s\r\n", content_type);
	const char *sent_by =
	    sip_transport_sent_by(ua->ts, dest.transport, net_addr_family(&dest.remote));
	int err = extra.failed ? -ENOMEM
			       : sip_dialog_request_print(&b, call->dialog, SIP_METHOD_INFO, 0,
							  dest.transport, sent_by, extra.p, body);
	if (!err)
		err = b.failed ? -ENOMEM : sip_msg_parse(&info, b.p, b.len);
	if (!err)
		err = sip_txn_client_start(&tx, ua->txns, info, &dest, NULL, NULL);
	sip_msg_unref(info);
	buf_fini(&b);
	buf_fini(&extra);
	sip__ua_timer_rearm(ua);
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
