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
 * theirs in O(1); the call sessions themselves are in call.c (inbound) and
 * call_out.c (outbound).
 */
#define LOG_MODULE "sip"
#include "sip_ua_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* ---- the transaction layer's timer ---- */

static void ua_timer_cb(uv_timer_t *t);

/* Called after every entry into the transaction layer. */
void sip__ua_timer_rearm(struct sip_ua *ua)
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
	sip__ua_timer_rearm(ua);
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
	sip__ua_count_sent(ua, ua->out.p, ua->out.len);
	sip_transport_send(ua->ts, &dest, ua->out.p, ua->out.len);
}

void sip__ua_log_peer(const char *what, const struct sip_peer *src, const char *detail)
{
	char peer[NET_ADDR_STRLEN];
	log_info("%s from %s/%s: %s", what, sip_transport_name(src->transport),
		 net_addr_print(&src->remote, peer, sizeof(peer)), detail);
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

void sip__ua_refuse_method(struct sip_txn *stx, const struct sip_msg *req)
{
	/* 501 for a method irisx does not know, 405 for one it knows but not here. */
	sip_txn_respond(stx, req->method == SIP_METHOD_UNKNOWN ? 501 : 405, NULL, NULL,
			"Allow: " UA_ALLOW "\r\n", STR_NULL);
}

/* A new server transaction: everything but retransmissions and ACKs. */
static void ua_request_cb(void *arg, struct sip_txn *stx, struct sip_msg *req)
{
	struct sip_ua *ua = arg;
	const char *reason = NULL;

	int status = sip_msg_check(req, &reason);
	if (status) {
		sip__ua_log_peer("rejected request", &req->src, reason ? reason : "malformed");
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
		sip__ua_in_dialog(ua, stx, req);
		return;
	}
	switch (req->method) {
	case SIP_METHOD_INVITE:
		sip__ua_invite(ua, stx, req);
		break;
	case SIP_METHOD_CANCEL:
		sip__ua_cancel(ua, stx, req);
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
	default:
		sip__ua_refuse_method(stx, req);
		break;
	}
}

static void ua_ack_cb(void *arg, struct sip_msg *ack)
{
	struct sip_ua *ua = arg;
	struct sip_call *call = sip__call_find(ua, ack);

	if (call && call->dialog) {
		bool first = !call->acked;
		call->acked = true;
		if (first && ua->cbs.ack_cb && !call->released)
			ua->cbs.ack_cb(ua->cbs.arg, call, ack);
		return;
	}
	log_debug("ACK for no transaction or dialog (Call-ID %.*s) ignored", (int)ack->call_id.len,
		  ack->call_id.p);
}

static void ua_ack_timeout_cb(void *arg, struct sip_txn *stx)
{
	struct sip_ua *ua = arg;
	/* The 2xx was never ACKed (RFC 3261 §13.3.1.4): end the call with BYE. */
	struct sip_call *call = sip__call_find(ua, sip_txn_request(stx));
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
			sip__ua_log_peer("malformed request", src, msg->error);
			ua_respond_stateless(ua, msg, 400, msg->error, NULL);
			sip_msg_unref(msg);
		} else if (log_enabled(LOG_DEBUG)) {
			sip__ua_log_peer("dropped unparseable message", src,
					 "no response possible");
		}
		return;
	}
	msg->src = *src;
	sip__ua_count(ua, false, msg->is_request ? msg->method : msg->cseq.method,
		      msg->is_request ? 0 : msg->status);
	if (msg->is_request && !msg->to.tag.len) {
		if (msg->method == SIP_METHOD_OPTIONS) {
			ua_respond_stateless(ua, msg, 200, NULL,
					     "Allow: " UA_ALLOW "\r\nAccept: application/sdp\r\n"
					     "Supported: " UA_SUPPORTED "\r\n");
			sip_msg_unref(msg);
			return;
		}
		if ((msg->method == SIP_METHOD_INVITE || msg->method == SIP_METHOD_REGISTER) &&
		    ua->cbs.acl_cb && !ua->cbs.acl_cb(ua->cbs.arg, src)) {
			sip__ua_log_peer("refused by ACL", src, sip_method_name(msg->method));
			ua_respond_stateless(ua, msg, 403, NULL, NULL);
			sip_msg_unref(msg);
			return;
		}
	}
	sip_txn_layer_recv(ua->txns, msg);
	sip_msg_unref(msg);
	sip__ua_timer_rearm(ua);
}

/* ---- transaction layer plumbing ---- */

static uint64_t ua_now_cb(void *arg)
{
	struct sip_ua *ua = arg;
	return uv_now(ua->loop);
}

static int ua_send_request_cb(void *arg, const struct sip_peer *dest, const char *data, size_t len)
{
	struct sip_ua *ua = arg;
	sip__ua_count_sent(ua, data, len);
	return sip_transport_send(ua->ts, dest, data, len);
}

static int ua_send_response_cb(void *arg, const struct sip_peer *src, const struct sip_via *via,
			       const char *data, size_t len)
{
	struct sip_ua *ua = arg;
	struct sip_peer dest;
	sip_transport_response_peer(src, via, &dest);
	sip__ua_count_sent(ua, data, len);
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
	err = sip_txn_layer_create(&ua->txns, &tcbs, cfg->timers);
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

/* Frees what the transactions use, then closes the sockets. */
static void ua_destroy_now(struct sip_ua *ua)
{
	sip__requests_destroy(ua);
	ua->destroying = true;
	sip_txn_layer_destroy(ua->txns); /* no callbacks; client transactions gone */
	while (ua->calls)
		sip__call_free(ua->calls);
	ua->txns = NULL;
	uv_close((uv_handle_t *)&ua->timer, ua_timer_closed_cb);
}

static void ua_wait_closed_cb(uv_handle_t *h)
{
	free(h);
}

static void ua_wait_cb(uv_timer_t *t)
{
	struct sip_ua *ua = t->data;
	if (sip__requests_pending(ua) && uv_now(ua->loop) < ua->close_deadline)
		return;
	if (sip__requests_pending(ua))
		log_info("profile %s: closing with requests still unanswered", ua->name);
	uv_close((uv_handle_t *)t, ua_wait_closed_cb);
	ua_destroy_now(ua);
}

void sip_ua_destroy(struct sip_ua *ua, void (*done_cb)(void *arg), void *arg)
{
	/* Gateways first: a registered one still sends its REGISTER Expires: 0. */
	sip__gateways_destroy(ua);
	ua->done_cb = done_cb;
	ua->done_arg = arg;
	/* A challenged unregister is answered: the transactions run a little
	 * longer (new INVITEs get 503), but never more than UA_CLOSE_WAIT_MS. */
	uv_timer_t *wait = sip__requests_pending(ua) ? malloc(sizeof(*wait)) : NULL;
	if (!wait) {
		ua_destroy_now(ua);
		return;
	}
	ua->draining = true;
	ua->closing = true;
	ua->close_deadline = uv_now(ua->loop) + UA_CLOSE_WAIT_MS;
	uv_timer_init(ua->loop, wait);
	wait->data = ua;
	uv_timer_start(wait, ua_wait_cb, UA_CLOSE_POLL_MS, UA_CLOSE_POLL_MS);
}
