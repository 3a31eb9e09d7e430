/*
 * Outbound call sessions of a profile's user agent (UAC, RFC 3261 §13.2):
 * the INVITE and its destination (RFC 3263: a literal address at once, a
 * name through sip_resolve_start, the next target on 503 or a timeout before
 * any provisional response, §4.3), digest credentials for one 401/407
 * (§22.2), early dialogs from 1xx with a To tag (§13.2.2.1), the ACK for the
 * 2xx and its retransmissions (§13.2.2.4), other forks' 2xx ended with ACK
 * and BYE, and CANCEL (§9.1: only once a provisional response came).
 *
 * What the session does once answered (BYE both ways, re-INVITE, INFO…) is
 * shared with inbound calls in call.c. A proxy, when given, is a loose
 * outbound proxy: every request of the call goes to it and the Request-URI
 * stays the far end's; no Route header is added.
 */
#define LOG_MODULE "sip"
#include "sip_ua_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_invite_cb(void *arg, struct sip_txn *ctx, const struct sip_msg *resp,
			  uint16_t status);

/* ---- destinations ---------------------------------------------------------- */

static uint16_t default_port(enum sip_transport t)
{
	return t == SIP_TRANSPORT_TLS ? 5061 : 5060;
}

/*
 * A destination written as an IP address ("10.0.0.1", "[::1]:5070",
 * "sip:10.0.0.1;transport=tcp", "sips:…"): RFC 3263 §4.2 uses it as is, so
 * no lookup delays the INVITE. 0 with *out; -ENOENT when the host is a name
 * (the resolver's job); -EINVAL when the text is neither.
 */
static int dest_literal(struct str target, struct sip_peer *out)
{
	char text[512];
	struct sip_uri uri;
	struct net_addr addr;

	memset(out, 0, sizeof(*out));
	out->transport = SIP_TRANSPORT_UDP;
	if (net_addr_parse(&addr, target, 5060) == 0) { /* a bare address, "::1" included */
		out->remote = addr;
		return 0;
	}
	if (!str_starts_with_i(target, "sip:") && !str_starts_with_i(target, "sips:")) {
		int n = snprintf(text, sizeof(text), "sip:%.*s", (int)target.len, target.p);
		if (n < 0 || (size_t)n >= sizeof(text))
			return -EINVAL;
		target = str_make(text, (size_t)n);
	}
	if (sip_uri_parse(&uri, target) || !uri.host.len)
		return -EINVAL;
	enum sip_transport t =
	    str_ieq_cstr(uri.scheme, "sips") ? SIP_TRANSPORT_TLS : SIP_TRANSPORT_UDP;
	struct str tp;
	if (uri.params.len && sip_param_get(uri.params, "transport", &tp) &&
	    sip_transport_parse(tp, &t))
		return -EINVAL;
	if (net_addr_parse(&addr, uri.host, uri.port ? uri.port : default_port(t)))
		return -ENOENT;
	out->transport = t;
	out->remote = addr;
	return 0;
}

/* The peer the current INVITE went to. */
static const struct sip_peer *out_target(const struct sip_call *call)
{
	return &call->uac->targets[call->uac->target];
}

/*
 * Where requests in dialog `d` go: the outbound proxy when there is one;
 * else the dialog's next hop (first Route or the remote target) when it is
 * an address; a name there is sent to the target the INVITE went to rather
 * than waiting for a lookup (the far end's Contact is nearly always an address).
 */
static void out_dialog_dest(const struct sip_call *call, const struct sip_dialog *d,
			    struct sip_peer *out)
{
	struct str host;
	uint16_t port;
	enum sip_transport t;
	struct net_addr addr;

	*out = *out_target(call);
	if (call->uac->proxy || !d || sip_dialog_next_hop(d, &host, &port, &t))
		return;
	if (net_addr_parse(&addr, host, port ? port : default_port(t)))
		return;
	if (t == out->transport && net_addr_eq(&addr, &out->remote))
		return; /* keeps the connection the INVITE used */
	memset(out, 0, sizeof(*out));
	out->transport = t;
	out->remote = addr;
}

void sip__call_dialog_dest(const struct sip_call *call, struct sip_peer *out)
{
	if (call->uac)
		out_dialog_dest(call, call->dialog, out);
	else
		*out = *sip_dialog_peer(call->dialog);
}

/* ---- the INVITE ------------------------------------------------------------ */

static const char *out_sent_by(const struct sip_call *call, const struct sip_peer *dest)
{
	return sip_transport_sent_by(call->ua->ts, dest->transport, net_addr_family(&dest->remote));
}

/* Our Contact URI toward the current target. */
static void out_contact(const struct sip_call *call, char *out, size_t size)
{
	const struct sip_peer *dest = out_target(call);
	snprintf(out, size, "sip:%s@%s%s", call->uac->contact_user, out_sent_by(call, dest),
		 dest->transport == SIP_TRANSPORT_TCP ? ";transport=tcp" : "");
}

/*
 * Prints, parses and sends an INVITE to the current target with the next
 * CSeq and a fresh branch (same Call-ID and From tag: §8.1.3.5, §22.2),
 * `auth_line` (a complete header line) or NULL. It becomes call->invite.
 */
static int out_invite_send(struct sip_call *call, const char *auth_line)
{
	struct sip_call_uac *uac = call->uac;
	struct sip_ua *ua = call->ua;
	const struct sip_peer *dest = out_target(call);
	char branch[SIP_BRANCH_LEN], contact[384];
	struct sip_msg *invite = NULL;
	struct buf b;

	sip_branch_generate(branch);
	out_contact(call, contact, sizeof(contact));
	uac->cseq++;
	buf_init(&b);
	buf_printf(&b, "INVITE %s SIP/2.0\r\n", uac->request_uri);
	buf_printf(&b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n",
		   sip_transport_name(dest->transport), out_sent_by(call, dest), branch);
	buf_printf(&b, "Max-Forwards: 70\r\nFrom: %s;tag=%s\r\nTo: %s\r\n", uac->from,
		   uac->from_tag, uac->to);
	buf_printf(&b, "Call-ID: %s\r\nCSeq: %u INVITE\r\nContact: <%s>\r\n", uac->call_id,
		   (unsigned)uac->cseq, contact);
	buf_printf(&b, "Allow: " UA_ALLOW "\r\nSupported: " UA_SUPPORTED "\r\nUser-Agent: %s\r\n",
		   ua->user_agent);
	if (auth_line)
		buf_append_cstr(&b, auth_line);
	if (uac->extra_headers)
		buf_append_cstr(&b, uac->extra_headers);
	if (uac->body.len)
		buf_printf(&b, "Content-Type: %s\r\n", uac->content_type);
	buf_printf(&b, "Content-Length: %zu\r\n\r\n", uac->body.len);
	buf_append_str(&b, uac->body);

	int err = b.failed ? -ENOMEM : sip_msg_parse(&invite, b.p, b.len);
	buf_fini(&b);
	if (err) {
		/* extra_headers that break the message are the caller's mistake */
		sip_msg_unref(invite);
		return err == -ENOMEM ? err : -EINVAL;
	}
	invite->src = *dest; /* sip_call_peer(): where it went */
	err = sip_txn_client_start(&uac->ctx, ua->txns, invite, dest, out_invite_cb, call);
	if (err) {
		sip_msg_unref(invite);
		return err;
	}
	sip_msg_unref(call->invite);
	call->invite = invite;
	return 0;
}

/* Sends the INVITE to the current target, else to the next ones that take it. */
static int out_send(struct sip_call *call)
{
	struct sip_call_uac *uac = call->uac;
	int err = -EHOSTUNREACH;
	char where[NET_ADDR_STRLEN];

	for (; uac->target < uac->target_count; uac->target++) {
		err = out_invite_send(call, NULL);
		if (!err)
			return 0;
		if (err == -EINVAL || err == -ENOMEM)
			return err;
		log_info("call %s: INVITE to %s/%s not sent: %s", uac->call_id,
			 sip_transport_name(out_target(call)->transport),
			 net_addr_print(&out_target(call)->remote, where, sizeof(where)),
			 strerror(-err));
	}
	return err;
}

/* The call failed or was given up: the INVITE has its outcome. May free it. */
static void out_end(struct sip_call *call, uint16_t status)
{
	bool report = !call->uac->hung_up && !call->ended;
	call->final_sent = true;
	call->ended = true;
	if (report)
		sip__call_ended(call, status); /* may release and free it */
	else
		sip__call_maybe_free(call);
}

/* The INVITE failed (transport, timeout, 503) before any provisional response:
 * the next target, if any (RFC 3263 §4.3). */
static bool out_failover(struct sip_call *call)
{
	struct sip_call_uac *uac = call->uac;
	if (uac->provisional || uac->hung_up || uac->target + 1 >= uac->target_count)
		return false;
	uac->target++;
	uac->challenged = false;
	return out_send(call) == 0;
}

static void out_resolved_cb(void *arg, int err, const struct sip_peer *targets, size_t count)
{
	struct sip_call *call = arg;
	struct sip_call_uac *uac = call->uac;
	struct sip_ua *ua = call->ua;

	uac->resolve = NULL;
	if (err || !count) {
		log_info("call %s: %s does not resolve: %s", uac->call_id,
			 uac->proxy ? uac->proxy : uac->request_uri,
			 err == -ENOENT ? "no such name or no address"
			 : err		? strerror(-err)
					: "no target");
		out_end(call, 503);
		return;
	}
	if (count > SIP_RESOLVE_MAX_TARGETS)
		count = SIP_RESOLVE_MAX_TARGETS;
	for (size_t i = 0; i < count; i++) {
		uac->targets[i] = targets[i];
		memset(&uac->targets[i].local, 0, sizeof(uac->targets[i].local));
		uac->targets[i].conn_id = 0;
	}
	uac->target_count = count;
	uac->target = 0;
	if (out_send(call))
		out_end(call, 503);
	sip__ua_timer_rearm(ua);
}

/* ---- responses ------------------------------------------------------------- */

/* The ACK for a 2xx in dialog `d` (§13.2.2.4), printed into `b`. */
static int out_ack_print(struct sip_call *call, struct sip_dialog *d, const struct sip_peer *dest,
			 struct str body, struct buf *b)
{
	char ctype[160] = "";
	if (body.len)
		snprintf(ctype, sizeof(ctype), "Content-Type: %s\r\n", call->uac->content_type);
	int err = sip_dialog_request_print(b, d, SIP_METHOD_ACK, call->uac->cseq, dest->transport,
					   out_sent_by(call, dest), body.len ? ctype : NULL, body);
	return err ? err : b->failed ? -ENOMEM : 0;
}

/*
 * A 2xx from another fork than the one that answered (§13.2.2.4): its
 * dialog is confirmed on the far side, so it gets its ACK and at once a BYE.
 */
static void out_fork_end(struct sip_call *call, const struct sip_msg *resp)
{
	struct sip_call_uac *uac = call->uac;
	struct sip_ua *ua = call->ua;
	struct sip_dialog *d = NULL;
	struct sip_msg *bye = NULL;
	struct sip_txn *tx;
	struct sip_peer dest;
	char contact[384];
	struct buf b;

	/* Its retransmissions: that fork has had its BYE already. */
	uint64_t tag = hash_str(resp->to.tag);
	for (size_t i = 0; i < uac->fork_count; i++)
		if (uac->forks_ended[i] == tag)
			return;
	if (uac->fork_count < ARRAY_LEN(uac->forks_ended))
		uac->forks_ended[uac->fork_count++] = tag;
	out_contact(call, contact, sizeof(contact));
	if (sip_dialog_create_uac(&d, call->invite, resp, contact)) {
		log_info("call %s: 2xx from another fork without a usable Contact dropped",
			 call->uac->call_id);
		return;
	}
	out_dialog_dest(call, d, &dest);
	buf_init(&b);
	if (out_ack_print(call, d, &dest, STR_NULL, &b) == 0)
		sip_txn_send_stateless(ua->txns, &dest, b.p, b.len);
	buf_reset(&b);
	int err = sip_dialog_request_print(&b, d, SIP_METHOD_BYE, 0, dest.transport,
					   out_sent_by(call, &dest), NULL, STR_NULL);
	if (!err)
		err = b.failed ? -ENOMEM : sip_msg_parse(&bye, b.p, b.len);
	/* Nobody waits for its outcome: the transaction runs on its own. */
	if (!err)
		err = sip_txn_client_start(&tx, ua->txns, bye, &dest, NULL, NULL);
	if (err)
		log_info("call %s: BYE to another fork not sent: %s", call->uac->call_id,
			 strerror(-err));
	sip_msg_unref(bye);
	buf_fini(&b);
	sip_dialog_destroy(d);
}

/*
 * With a late offer (an INVITE without a body) the 2xx carries the offer and
 * the ACK the answer: the owner's offer_cb writes it.
 */
static void out_late_answer(struct sip_call *call, const struct sip_msg *resp, struct buf *answer)
{
	struct sip_ua *ua = call->ua;
	if (call->uac->body.len || !resp->body.len || !ua->cbs.offer_cb || call->released ||
	    call->uac->hung_up)
		return;
	uint16_t status = ua->cbs.offer_cb(ua->cbs.arg, call, resp->body, answer);
	if (status < 200 || status > 299 || answer->failed)
		buf_reset(answer);
}

/* What re-INVITEs from the far end are answered with: our Contact and the
 * last session description (call.c's ua_offer). */
static int out_local_set(struct sip_call *call, struct str body)
{
	char contact[384];
	out_contact(call, contact, sizeof(contact));
	return sip__call_keep_local(call, NULL, contact, call->uac->content_type, body);
}

static void out_answered(struct sip_call *call, const struct sip_msg *resp)
{
	struct sip_call_uac *uac = call->uac;
	struct sip_ua *ua = call->ua;
	struct sip_peer dest;
	char contact[384];

	if (call->answered) {
		if (call->dialog && sip_dialog_matches(call->dialog, resp)) {
			/* Our ACK was lost: the 2xx again gets the same ACK again. */
			out_dialog_dest(call, call->dialog, &dest);
			if (uac->ack)
				sip_txn_send_stateless(ua->txns, &dest, uac->ack, uac->ack_len);
		} else {
			out_fork_end(call, resp);
		}
		return;
	}
	/* The answer may come from another fork than the early dialog's. */
	if (call->dialog && !sip_dialog_matches(call->dialog, resp)) {
		sip_dialog_destroy(call->dialog);
		call->dialog = NULL;
	}
	out_contact(call, contact, sizeof(contact));
	int err = call->dialog ? sip_dialog_recv_response(call->dialog, resp)
			       : sip_dialog_create_uac(&call->dialog, call->invite, resp, contact);
	if (err) {
		/* Without a dialog (no Contact, no To tag) there is nobody to ACK. */
		log_notice("call %s: unusable 2xx (%s), call failed", uac->call_id, strerror(-err));
		out_end(call, 502);
		return;
	}
	call->answered = true;
	call->final_sent = true;
	call->acked = true;

	struct buf answer, ack;
	buf_init(&answer);
	buf_init(&ack);
	out_late_answer(call, resp, &answer);
	struct str local = uac->body.len ? uac->body : str_make(answer.p, answer.len);
	out_dialog_dest(call, call->dialog, &dest);
	err = out_ack_print(call, call->dialog, &dest, uac->body.len ? STR_NULL : local, &ack);
	if (!err) {
		sip_txn_send_stateless(ua->txns, &dest, ack.p, ack.len);
		uac->ack = buf_steal(&ack, &uac->ack_len);
	} else {
		log_warn("call %s: cannot print the ACK: %s", uac->call_id, strerror(-err));
	}
	if (out_local_set(call, local))
		log_warn("call %s: no memory for the session description", uac->call_id);
	buf_fini(&answer);
	buf_fini(&ack);

	if (uac->hung_up) {
		/* The 2xx crossed our CANCEL: the call is up on the far side. */
		if (sip__call_send_bye(call, &dest, NULL))
			log_info("call %s: BYE after the crossing 2xx not sent", uac->call_id);
		sip__call_maybe_free(call);
		return;
	}
	if (ua->cbs.answer_cb && !call->released)
		ua->cbs.answer_cb(ua->cbs.arg, call, resp);
}

static void out_provisional(struct sip_call *call, const struct sip_msg *resp)
{
	struct sip_call_uac *uac = call->uac;
	struct sip_ua *ua = call->ua;
	char contact[384];

	if (call->answered)
		return;
	uac->provisional = true;
	/* §13.2.2.1: the first early dialog is kept; later forks' 1xx only report. */
	if (resp->to.tag.len && !call->dialog) {
		out_contact(call, contact, sizeof(contact));
		if (sip_dialog_create_uac(&call->dialog, call->invite, resp, contact))
			call->dialog = NULL; /* no Contact: no early dialog, still progress */
	}
	if (uac->cancel_wanted) {
		uac->cancel_wanted = false;
		sip__call_out_cancel(call, NULL); /* cancel_extra kept from the hangup */
		return;
	}
	if (resp->status > 100 && !call->ended && ua->cbs.progress_cb && !call->released)
		ua->cbs.progress_cb(ua->cbs.arg, call, resp);
}

int sip__call_out_auth_print(struct sip_call *call, const struct sip_msg *resp, const char *method,
			     struct str uri, struct buf *line)
{
	struct sip_call_uac *uac = call->uac;
	struct sip_auth_challenge ch;

	if (!uac || !uac->auth_username)
		return -EACCES;
	int err = sip_auth_challenge_pick(&ch, resp);
	if (err) {
		log_info("call %s: no usable challenge in %u to %s", uac->call_id, resp->status,
			 method);
		return -ENOENT;
	}
	/* A server that keeps its nonce for the dialog (the INVITE's, then the
	 * BYE's challenge) expects the count to go on, or takes it for a replay. */
	bool same = uac->auth_nonce && str_eq(ch.nonce, str_from_cstr(uac->auth_nonce));
	uint32_t nc = same && uac->auth_nc < UINT32_MAX ? uac->auth_nc + 1 : 1;
	char *nonce = same ? uac->auth_nonce : strndup(ch.nonce.p ? ch.nonce.p : "", ch.nonce.len);
	if (!nonce)
		return -ENOMEM;
	err = sip_auth_credentials_print(line, &ch, resp->status == 407, method, uri,
					 uac->auth_username,
					 uac->auth_password ? uac->auth_password : "", nc, NULL);
	if (!err && line->failed)
		err = -ENOMEM;
	if (err) {
		if (!same)
			free(nonce);
		return err;
	}
	if (!same) {
		free(uac->auth_nonce);
		uac->auth_nonce = nonce;
	}
	uac->auth_nc = nc;
	return 0;
}

/* 401/407: the INVITE again with credentials (§22.2); false when it cannot be. */
static bool out_challenge(struct sip_call *call, const struct sip_msg *resp)
{
	struct sip_call_uac *uac = call->uac;
	struct buf line;

	if (uac->challenged || !uac->auth_username || uac->hung_up)
		return false;
	buf_init(&line);
	int err =
	    sip__call_out_auth_print(call, resp, "INVITE", str_from_cstr(uac->request_uri), &line);
	if (err == -ENOENT) {
		buf_fini(&line);
		return false;
	}
	if (!err)
		err = out_invite_send(call, line.p);
	buf_fini(&line);
	if (err) {
		log_info("call %s: INVITE with credentials not sent: %s", uac->call_id,
			 strerror(-err));
		return false;
	}
	uac->challenged = true;
	return true;
}

static void out_invite_cb(void *arg, struct sip_txn *ctx, const struct sip_msg *resp,
			  uint16_t status)
{
	struct sip_call *call = arg;
	struct sip_call_uac *uac = call->uac;

	if (ctx != uac->ctx)
		return; /* an earlier INVITE's transaction (never attached beyond its end) */
	if (!resp) {
		uac->ctx = NULL; /* its last callback: timeout, transport error or Timer M */
		if (status && !call->final_sent && !out_failover(call))
			out_end(call, status);
		return;
	}
	if (status < 200) {
		out_provisional(call, resp);
		return;
	}
	if (status < 300) {
		out_answered(call, resp);
		return;
	}
	uac->ctx = NULL; /* a non-2xx final response is the transaction's last word */
	if ((status == 401 || status == 407) && out_challenge(call, resp))
		return;
	if (status == 503 && out_failover(call))
		return;
	out_end(call, status);
}

/* ---- CANCEL (§9.1) --------------------------------------------------------- */

static void out_cancel_cb(void *arg, struct sip_txn *ctx, const struct sip_msg *resp,
			  uint16_t status)
{
	struct sip_call *call = arg;
	/* A failed CANCEL changes nothing: the INVITE's own timer ends the wait. */
	if (status >= 200 && call->uac->cancel == ctx)
		call->uac->cancel = NULL;
}

/* Request-URI, Call-ID, From, To, CSeq number and the top Via of the INVITE. */
static int out_cancel_send(struct sip_call *call)
{
	struct sip_call_uac *uac = call->uac;
	struct sip_ua *ua = call->ua;
	const struct sip_msg *inv = call->invite;
	const struct sip_hdr *via = sip_msg_hdr(inv, SIP_HDR_VIA);
	const struct sip_hdr *from = sip_msg_hdr(inv, SIP_HDR_FROM);
	const struct sip_hdr *to = sip_msg_hdr(inv, SIP_HDR_TO);
	struct sip_msg *cancel = NULL;
	struct buf b;

	if (!via || !from || !to || uac->cancel || !uac->ctx)
		return -EINVAL;
	buf_init(&b);
	buf_printf(&b, "CANCEL %.*s SIP/2.0\r\n", (int)inv->ruri_str.len, inv->ruri_str.p);
	buf_printf(&b, "Via: %.*s\r\nMax-Forwards: 70\r\n", (int)via->value.len, via->value.p);
	buf_printf(&b, "From: %.*s\r\nTo: %.*s\r\n", (int)from->value.len, from->value.p,
		   (int)to->value.len, to->value.p);
	buf_printf(&b, "Call-ID: %.*s\r\nCSeq: %u CANCEL\r\nUser-Agent: %s\r\n",
		   (int)inv->call_id.len, inv->call_id.p, (unsigned)inv->cseq.num, ua->user_agent);
	if (uac->cancel_extra) /* RFC 3326: why the call was given up */
		buf_append_cstr(&b, uac->cancel_extra);
	buf_append_cstr(&b, "Content-Length: 0\r\n\r\n");
	int err = b.failed ? -ENOMEM : sip_msg_parse(&cancel, b.p, b.len);
	if (!err)
		err = sip_txn_client_start(&uac->cancel, ua->txns, cancel, out_target(call),
					   out_cancel_cb, call);
	sip_msg_unref(cancel);
	buf_fini(&b);
	if (err)
		log_info("call %s: CANCEL not sent: %s", uac->call_id, strerror(-err));
	/* Whether or not it left, the INVITE must not wait for ever (§9.1). */
	sip_txn_client_cancel_sent(uac->ctx);
	sip__ua_timer_rearm(ua);
	return err;
}

int sip__call_out_cancel(struct sip_call *call, const char *extra_headers)
{
	struct sip_call_uac *uac = call->uac;

	if (extra_headers && *extra_headers && !uac->cancel_extra)
		uac->cancel_extra = arena_strdup(&uac->strings, extra_headers);
	uac->hung_up = true;
	call->ended = true;
	if (uac->resolve) {
		/* Nothing was sent yet: nothing to cancel. */
		sip_resolve_cancel(uac->resolve);
		uac->resolve = NULL;
		call->final_sent = true;
		return 0;
	}
	if (call->final_sent)
		return 0;
	if (!uac->provisional) {
		/* §9.1: a CANCEL before any provisional response could overtake
		 * the INVITE; it leaves with the first one, or Timer B ends it all. */
		uac->cancel_wanted = true;
		return 0;
	}
	return out_cancel_send(call);
}

/* ---- life cycle ------------------------------------------------------------ */

void sip__call_out_free(struct sip_call *call)
{
	struct sip_call_uac *uac = call->uac;
	if (!call->ua->destroying) {
		/* Still running on the wire (the 2xx period, a CANCEL): let them end alone. */
		sip_txn_client_detach(uac->ctx);
		sip_txn_client_detach(uac->cancel);
	}
	if (uac->resolve)
		sip_resolve_cancel(uac->resolve);
	free(uac->ack);
	free(uac->auth_nonce);
	arena_fini(&uac->strings);
	free(uac);
	call->uac = NULL;
}

static const char *copy_opt(struct arena *a, const char *s, bool *failed)
{
	if (!s)
		return NULL;
	char *c = arena_strdup(a, s);
	if (!c)
		*failed = true;
	return c;
}

/* "host" of our sent-by, for the Call-ID's right-hand side. */
static void call_id_make(struct sip_call *call)
{
	struct sip_call_uac *uac = call->uac;
	const struct sip_peer *dest = &uac->targets[0];
	int family = uac->target_count ? net_addr_family(&dest->remote) : AF_INET;
	struct str sent_by =
	    str_from_cstr(sip_transport_sent_by(call->ua->ts, SIP_TRANSPORT_UDP, family));
	size_t host_len = sent_by.len;
	for (size_t i = sent_by.len; i-- > 0;) {
		if (sent_by.p[i] == ']')
			break;
		if (sent_by.p[i] == ':') {
			host_len = i;
			break;
		}
	}
	char rnd[21];
	random_hex(rnd, 10);
	snprintf(uac->call_id, sizeof(uac->call_id), "%s@%.*s", rnd, (int)host_len, sent_by.p);
}

static int out_params_copy(struct sip_call_uac *uac, const struct sip_call_out *p)
{
	bool failed = false;
	struct arena *a = &uac->strings;

	uac->request_uri = copy_opt(a, p->request_uri, &failed);
	uac->from = copy_opt(a, p->from, &failed);
	uac->to = p->to ? copy_opt(a, p->to, &failed) : arena_printf(a, "<%s>", p->request_uri);
	uac->proxy = p->proxy && *p->proxy ? copy_opt(a, p->proxy, &failed) : NULL;
	uac->extra_headers = copy_opt(a, p->extra_headers, &failed);
	uac->content_type =
	    copy_opt(a, p->content_type ? p->content_type : "application/sdp", &failed);
	uac->auth_username = copy_opt(a, p->auth_username, &failed);
	uac->auth_password = copy_opt(a, p->auth_password, &failed);
	uac->contact_user = copy_opt(a, p->contact_user ? p->contact_user : "irisx", &failed);
	if (p->body.len) {
		char *body = arena_alloc(a, p->body.len);
		if (body)
			memcpy(body, p->body.p, p->body.len);
		else
			failed = true;
		uac->body = str_make(body, p->body.len);
	}
	return failed || !uac->to ? -ENOMEM : 0;
}

/* The strings the caller gives must make a message that parses. */
static int out_params_check(const struct sip_call_out *p)
{
	struct sip_uri uri;
	struct sip_addr addr;
	struct str rest;

	if (!p->request_uri || !p->from || sip_uri_parse(&uri, str_from_cstr(p->request_uri)) ||
	    sip_addr_parse(&addr, str_from_cstr(p->from), &rest) || rest.len)
		return -EINVAL;
	if (p->to && (sip_addr_parse(&addr, str_from_cstr(p->to), &rest) || rest.len))
		return -EINVAL;
	if (p->body.len && !p->body.p)
		return -EINVAL;
	return 0;
}

int sip_call_start(struct sip_call **out, struct sip_ua *ua, const struct sip_call_out *params,
		   void *owner)
{
	if (!out || !ua || !params || out_params_check(params))
		return -EINVAL;
	if (ua->draining || ua->destroying)
		return -ESHUTDOWN;

	struct sip_call *call = calloc(1, sizeof(*call));
	struct sip_call_uac *uac = calloc(1, sizeof(*uac));
	if (!call || !uac) {
		free(call);
		free(uac);
		return -ENOMEM;
	}
	arena_init(&uac->strings, 0);
	call->ua = ua;
	call->uac = uac;
	call->owner = owner;
	int err = out_params_copy(uac, params);
	if (err) {
		arena_fini(&uac->strings);
		free(uac);
		free(call);
		return err;
	}
	random_hex(uac->from_tag, 8);

	const char *where = uac->proxy ? uac->proxy : uac->request_uri;
	err = dest_literal(str_from_cstr(where), &uac->targets[0]);
	if (!err)
		uac->target_count = 1;
	call_id_make(call);
	sip__call_link(ua, call, str_from_cstr(uac->call_id));
	if (!err) {
		err = out_send(call);
	} else if (err == -ENOENT) {
		err = sip_resolve_start(&uac->resolve, ua->loop, str_from_cstr(where),
					out_resolved_cb, call);
	}
	if (err) {
		uac->resolve = NULL;
		sip__call_free(call);
		sip__ua_timer_rearm(ua);
		return err;
	}
	sip__ua_timer_rearm(ua);
	*out = call;
	return 0;
}

bool sip_call_outbound(const struct sip_call *call)
{
	return call && call->uac;
}
