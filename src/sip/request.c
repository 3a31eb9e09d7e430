/*
 * One out-of-dialog non-INVITE request sent by the UA itself (a gateway's
 * REGISTER and OPTIONS, RFC 3261 §8.1, §10, §11): print it, find where it
 * goes, run its client transaction (§17.1.2), answer one 401/407 with digest
 * credentials (§22.2, RFC 7616) and report the final status.
 *
 * The retry after a challenge is a new request of the same Call-ID, From tag
 * and Request-URI with the next CSeq (§22.2, §8.1.3.5) and a new branch.
 * A request nobody waits for (the unregister at stop) still answers its
 * challenge when it has credentials: it stays on the UA's list until its
 * outcome, and sip_ua_destroy waits a bounded time for that list to empty.
 *
 * Where it goes: a literal address is used at once; a name is located per
 * RFC 3263 (sip_resolve_start, off the loop) and its targets are tried in
 * order: a timeout or a transport error on one sends the identical request
 * (new branch, same CSeq) to the next (§4.3). The transport is the caller's;
 * a name without a transport= parameter is looked up for it.
 */
#define LOG_MODULE "sip"
#include "sip_ua_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sip__request {
	struct sip_ua *ua;
	struct sip__request *prev, *next; /* ua->requests */
	sip__request_cb cb;
	void *arg;
	struct sip_txn *tx;	       /* the transaction in flight, NULL once it ended */
	struct sip_resolve *resolving; /* the lookup in progress, NULL otherwise */
	struct sip_peer dest;
	struct sip_peer targets[SIP_RESOLVE_MAX_TARGETS];
	size_t target_count, target_next; /* targets[target_next] is the next to try */
	char *auth; /* the credentials line of the request in flight, or NULL */
	enum sip_method method;
	enum sip_transport transport;
	uint32_t cseq;
	bool challenged; /* one 401/407 answered already */
	char from_tag[17];
	/* copies of the parameters, one allocation each */
	char *ruri, *from, *to, *call_id, *contact_user, *contact_params, *extra, *user, *pass;
};

static void request_free(struct sip__request *rq)
{
	if (rq->ua) {
		if (rq->prev)
			rq->prev->next = rq->next;
		else if (rq->ua->requests == rq)
			rq->ua->requests = rq->next;
		if (rq->next)
			rq->next->prev = rq->prev;
	}
	if (rq->resolving)
		sip_resolve_cancel(rq->resolving);
	free(rq->auth);
	free(rq->ruri);
	free(rq->from);
	free(rq->to);
	free(rq->call_id);
	free(rq->contact_user);
	free(rq->contact_params);
	free(rq->extra);
	free(rq->user);
	free(rq->pass);
	free(rq);
}

/* strdup that tells NULL-because-absent from NULL-because-no-memory. */
static bool dup_opt(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst;
}

/*
 * A SIP URI or host[:port] to an address: "192.0.2.1", "192.0.2.1:5080",
 * "[2001:db8::1]:5060", "sip:192.0.2.1:5080;transport=udp", "sip:u@192.0.2.1".
 */
static int request_target(const char *target, struct net_addr *out)
{
	struct buf b;
	struct sip_uri uri;
	int err;

	buf_init(&b);
	struct str t = str_from_cstr(target);
	if (!str_starts_with_i(t, "sip:") && !str_starts_with_i(t, "sips:"))
		buf_append_cstr(&b, "sip:");
	buf_append_str(&b, t);
	if (b.failed) {
		buf_fini(&b);
		return -ENOMEM;
	}
	err = sip_uri_parse(&uri, str_make(b.p, b.len));
	if (!err && !uri.host.len)
		err = -EINVAL;
	if (!err) {
		uint16_t port = uri.port ? uri.port : 5060;
		err = net_addr_parse(out, uri.host, port) ? -EHOSTUNREACH : 0;
	} else {
		err = -EINVAL;
	}
	buf_fini(&b);
	return err;
}

/* What to look a name up as: the proxy (or the Request-URI), as a SIP URI with
 * the transport's parameter unless it has one. */
static char *request_lookup_target(const char *target, enum sip_transport t)
{
	struct buf b;
	buf_init(&b);
	struct str s = str_from_cstr(target);
	bool uri = str_starts_with_i(s, "sip:") || str_starts_with_i(s, "sips:");
	struct sip_uri u;
	if (!uri)
		buf_append_cstr(&b, "sip:");
	buf_append_str(&b, s);
	if (!b.failed && (sip_uri_parse(&u, str_make(b.p, b.len)) != 0 ||
			  (t != SIP_TRANSPORT_UDP && !sip_param_get(u.params, "transport", NULL))))
		buf_printf(&b, ";transport=%s", t == SIP_TRANSPORT_TCP ? "tcp" : "tls");
	size_t len;
	return buf_steal(&b, &len);
}

/* Prints the request as it is to be sent now (auth: the credentials line or NULL). */
static int request_print(struct sip__request *rq, struct buf *b, const char *auth)
{
	const char *sent_by =
	    sip_ua_sent_by(rq->ua, rq->transport, net_addr_family(&rq->dest.remote));
	if (!sent_by)
		return -EAFNOSUPPORT;
	char branch[SIP_BRANCH_LEN];
	sip_branch_generate(branch);
	const char *tname = sip_transport_name(rq->transport);
	const char *mname = sip_method_name(rq->method);

	buf_printf(b, "%s %s SIP/2.0\r\n", mname, rq->ruri);
	buf_printf(b, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", tname, sent_by, branch);
	buf_append_cstr(b, "Max-Forwards: 70\r\n");
	buf_printf(b, "From: %s;tag=%s\r\n", rq->from, rq->from_tag);
	buf_printf(b, "To: %s\r\n", rq->to);
	buf_printf(b, "Call-ID: %s\r\n", rq->call_id);
	buf_printf(b, "CSeq: %u %s\r\n", (unsigned)rq->cseq, mname);
	if (rq->contact_user) {
		/* transport= only when not UDP: a UDP Contact without it is the norm. */
		buf_printf(b, "Contact: <sip:%s@%s", rq->contact_user, sent_by);
		if (rq->transport != SIP_TRANSPORT_UDP)
			buf_printf(b, ";transport=%s",
				   rq->transport == SIP_TRANSPORT_TCP ? "tcp" : "tls");
		if (rq->contact_params && *rq->contact_params)
			buf_printf(b, "%s%s", *rq->contact_params == ';' ? "" : ";",
				   rq->contact_params);
		buf_append_cstr(b, ">\r\n");
	}
	buf_printf(b, "User-Agent: %s\r\n", rq->ua->user_agent);
	if (auth)
		buf_append_cstr(b, auth);
	if (rq->extra)
		buf_append_cstr(b, rq->extra);
	buf_append_cstr(b, "Content-Length: 0\r\n\r\n");
	return b->failed ? -ENOMEM : 0;
}

/* Nobody needs the outcome, not even to answer a challenge: the request can
 * be freed as soon as it left. */
static bool request_forgotten(const struct sip__request *rq)
{
	return !rq->cb && !rq->user;
}

static void request_response_cb(void *arg, struct sip_txn *tx, const struct sip_msg *resp,
				uint16_t status);

/* Prints and sends the request to rq->dest (with rq->auth after a challenge). */
static int request_send(struct sip__request *rq)
{
	struct buf b;
	struct sip_msg *msg = NULL;

	buf_init(&b);
	int err = request_print(rq, &b, rq->auth);
	if (!err)
		err = sip_msg_parse(&msg, b.p, b.len);
	buf_fini(&b);
	if (err)
		return err == -EBADMSG ? -EINVAL : err;
	msg->src.transport = rq->transport;
	err = sip_txn_client_start(&rq->tx, rq->ua->txns, msg, &rq->dest,
				   request_forgotten(rq) ? NULL : request_response_cb, rq);
	sip_msg_unref(msg);
	if (err)
		rq->tx = NULL;
	sip__ua_timer_rearm(rq->ua);
	return err;
}

/* Sends to the next resolved target that takes it; false when none is left. */
static bool request_send_next(struct sip__request *rq, int *err)
{
	while (rq->target_next < rq->target_count) {
		rq->dest = rq->targets[rq->target_next++];
		rq->dest.transport = rq->transport;
		rq->dest.conn_id = 0;
		*err = request_send(rq);
		if (*err == 0)
			return true;
		char where[NET_ADDR_STRLEN];
		log_info("%s %s: cannot send to %s: %s", sip_method_name(rq->method), rq->ruri,
			 net_addr_print(&rq->dest.remote, where, sizeof(where)), uv_strerror(*err));
	}
	return false;
}

static void request_finish(struct sip__request *rq, const struct sip_msg *resp, uint16_t status)
{
	sip__request_cb cb = rq->cb;
	void *arg = rq->arg;
	rq->cb = NULL;
	if (cb)
		cb(arg, rq, resp, status);
	request_free(rq);
}

/* Answers a 401/407 once (§22.2): 0 when the retry is on its way. */
static int request_answer_challenge(struct sip__request *rq, const struct sip_msg *resp)
{
	struct sip_auth_challenge ch;
	struct buf line;

	if (rq->challenged || !rq->user)
		return -EACCES;
	int err = sip_auth_challenge_pick(&ch, resp);
	if (err) {
		log_notice("%s to %s: no challenge irisx can answer in %u",
			   sip_method_name(rq->method), rq->ruri, resp->status);
		return err;
	}
	buf_init(&line);
	err = sip_auth_credentials_print(&line, &ch, resp->status == 407,
					 sip_method_name(rq->method), str_from_cstr(rq->ruri),
					 rq->user, rq->pass ? rq->pass : "", 1, NULL);
	if (!err && line.failed)
		err = -ENOMEM;
	if (!err) {
		size_t len;
		free(rq->auth);
		rq->auth = buf_steal(&line, &len);
		rq->challenged = true;
		rq->cseq++;
		err = rq->auth ? request_send(rq) : -ENOMEM;
	}
	buf_fini(&line);
	return err;
}

static void request_response_cb(void *arg, struct sip_txn *tx, const struct sip_msg *resp,
				uint16_t status)
{
	struct sip__request *rq = arg;
	if (status < 200)
		return; /* provisional (a non-INVITE transaction has no "end of 2xx" call) */
	rq->tx = NULL;	/* a final response ends the transaction for us */
	if (resp && (status == 401 || status == 407) && request_answer_challenge(rq, resp) == 0)
		return;
	int err;
	if (!resp && request_send_next(rq, &err))
		return; /* that target timed out or failed: the next one (RFC 3263 §4.3) */
	request_finish(rq, resp, status);
}

static void request_resolved_cb(void *arg, int err, const struct sip_peer *targets, size_t count)
{
	struct sip__request *rq = arg;
	rq->resolving = NULL;
	if (err) {
		log_notice("%s %s: cannot locate the server: %s", sip_method_name(rq->method),
			   rq->ruri, uv_strerror(err));
	} else {
		memcpy(rq->targets, targets, count * sizeof(*targets));
		rq->target_count = count;
		if (request_send_next(rq, &err)) {
			if (request_forgotten(rq))
				request_free(rq); /* sent and forgotten */
			return;
		}
	}
	request_finish(rq, NULL, 503);
}

int sip__request_start(struct sip__request **out, struct sip_ua *ua,
		       const struct sip__request_params *p, sip__request_cb cb, void *arg)
{
	struct sip_uri uri;

	if (!ua || !p || !p->request_uri || !p->from || !p->to || p->method == SIP_METHOD_INVITE ||
	    p->method == SIP_METHOD_ACK || p->method == SIP_METHOD_CANCEL)
		return -EINVAL;
	if (ua->destroying || ua->closing)
		return -ESHUTDOWN;
	if (sip_uri_parse(&uri, str_from_cstr(p->request_uri)))
		return -EINVAL;
	struct sip__request *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	rq->method = p->method;
	rq->transport = p->transport;
	rq->cseq = p->cseq ? p->cseq : 1;
	rq->cb = cb;
	rq->arg = arg;
	random_hex(rq->from_tag, 8);
	int err = -ENOMEM;
	if (!dup_opt(&rq->ruri, p->request_uri) || !dup_opt(&rq->from, p->from) ||
	    !dup_opt(&rq->to, p->to) || !dup_opt(&rq->contact_user, p->contact_user) ||
	    !dup_opt(&rq->contact_params, p->contact_params) ||
	    !dup_opt(&rq->extra, p->extra_headers) || !dup_opt(&rq->user, p->auth_username) ||
	    !dup_opt(&rq->pass, p->auth_password))
		goto out;
	if (p->call_id) {
		if (!dup_opt(&rq->call_id, p->call_id))
			goto out;
	} else {
		char id[UUID_STRLEN];
		uuid_generate(id);
		if (!dup_opt(&rq->call_id, id))
			goto out;
	}
	/* The destination: given, else the proxy, else the Request-URI's host. */
	const char *target = p->proxy ? p->proxy : p->request_uri;
	if (p->dest) {
		rq->targets[0] = *p->dest;
		err = 0;
	} else {
		err = request_target(target, &rq->targets[0].remote);
	}
	if (err && err != -EHOSTUNREACH)
		goto out;
	rq->ua = ua;
	rq->next = ua->requests;
	if (ua->requests)
		ua->requests->prev = rq;
	ua->requests = rq;
	if (err == -EHOSTUNREACH) {
		/* A name: sent once located; the callback says how that went. */
		char *lookup = request_lookup_target(target, p->transport);
		err = lookup ? sip_resolve_start(&rq->resolving, ua->loop, str_from_cstr(lookup),
						 request_resolved_cb, rq)
			     : -ENOMEM;
		free(lookup);
		if (err)
			goto out;
		if (out)
			*out = cb ? rq : NULL;
		return 0;
	}
	rq->target_count = 1;
	if (!request_send_next(rq, &err))
		goto out;
	if (request_forgotten(rq))
		request_free(rq); /* sent and forgotten: the transaction runs without us */
	if (out)
		*out = cb ? rq : NULL;
	return 0;
out:
	request_free(rq);
	return err;
}

void sip__request_cancel(struct sip__request *rq)
{
	if (!rq)
		return;
	rq->cb = NULL;
	if (rq->tx)
		sip_txn_client_detach(rq->tx);
	request_free(rq);
}

uint32_t sip__request_cseq(const struct sip__request *rq)
{
	return rq->cseq;
}

const struct sip_peer *sip__request_dest(const struct sip__request *rq)
{
	return &rq->dest;
}

bool sip__requests_pending(const struct sip_ua *ua)
{
	return ua->requests != NULL;
}

void sip__requests_destroy(struct sip_ua *ua)
{
	/* The transaction layer is destroyed right after: no detach needed. */
	while (ua->requests) {
		ua->requests->tx = NULL;
		ua->requests->cb = NULL;
		request_free(ua->requests);
	}
}
