/*
 * SIP dialogs (RFC 3261 §12): creation on either side, matching, the remote
 * CSeq rule, target refresh, and the printing of in-dialog requests with
 * loose or strict routing (§12.2.1.1, §16.12.1.2's strict-router fix-up).
 *
 * A dialog is one allocation: the struct, its route set and the text of
 * every string it keeps (Call-ID, tags, URIs, routes, Contact), copied from
 * the messages that made it so that it outlives them. The two things that
 * change in a dialog's life — the remote target (on every target refresh)
 * and the route set (once, when a 2xx confirms an early UAC dialog) — move
 * to allocations of their own when they do.
 */
#include "sip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "sip"

struct sip_dialog {
	struct str call_id;
	struct str local_tag;
	struct str remote_tag;
	struct str local_display, local_uri;
	struct str remote_display, remote_uri;
	struct str local_contact;
	struct str target;  /* remote target URI */
	char *target_own;   /* its allocation once refreshed, else NULL */
	struct str *routes; /* full values ("<sip:p.example.com;lr>"), in sending order */
	size_t route_count;
	void *routes_own; /* the recomputed route set's allocation, else NULL */
	uint32_t local_cseq;
	uint32_t remote_cseq;
	uint32_t invite_cseq; /* of the last INVITE sent in the dialog (ACK, CANCEL) */
	bool local_cseq_set;
	bool remote_cseq_set;
	bool secure;
	bool uac;
	bool confirmed;
	char invite_branch[SIP_BRANCH_LEN]; /* of the last INVITE printed here (CANCEL) */
	struct sip_peer peer;
	/* struct str routes[] and the text follow */
};

static struct str put(char **at, struct str s)
{
	struct str r = str_make(*at, s.len);
	if (s.len)
		memcpy(*at, s.p, s.len);
	*at += s.len;
	return r;
}

/* The first Contact's URI (§12.1.1: the remote target). */
static int contact_uri(const struct sip_msg *msg, struct str *uri)
{
	const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_CONTACT);
	struct sip_addr a;
	struct str rest;
	if (!h || sip_addr_parse(&a, h->value, &rest) || !a.uri_str.len)
		return -EBADMSG;
	*uri = a.uri_str;
	return 0;
}

/*
 * Walks every Record-Route entry of `msg` in order. With `out` NULL, counts
 * entries and text; otherwise stores them, reversed when `reverse` (UAC).
 */
static void record_routes(const struct sip_msg *msg, struct str *out, char **at, size_t total,
			  bool reverse, size_t *count, size_t *text)
{
	size_t n = 0, len = 0;
	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_RECORD_ROUTE); h;
	     h = sip_msg_hdr_next(msg, h)) {
		struct str list = h->value, item;
		while (sip_list_next(&list, &item)) {
			item = str_trim(item);
			if (!item.len)
				continue;
			if (out)
				out[reverse ? total - 1 - n : n] = put(at, item);
			n++;
			len += item.len;
		}
	}
	*count = n;
	*text = len;
}

static bool is_sips(struct str ruri_scheme)
{
	return str_ieq_cstr(ruri_scheme, "sips");
}

/*
 * The common constructor: `local`/`remote` are the addresses on each side
 * (From/To swapped for a UAS), `rr` the message whose Record-Route gives the
 * route set, `target` the remote target.
 */
static int dialog_create(struct sip_dialog **out, const struct sip_msg *invite, bool uac,
			 const struct sip_addr *local, struct str local_tag,
			 const struct sip_addr *remote, struct str remote_tag,
			 const struct sip_msg *rr, struct str target, const char *local_contact)
{
	struct str contact = str_from_cstr(local_contact);
	size_t nroutes, rtext;
	record_routes(rr, NULL, NULL, 0, uac, &nroutes, &rtext);
	size_t text = invite->call_id.len + local_tag.len + remote_tag.len + local->display.len +
		      local->uri_str.len + remote->display.len + remote->uri_str.len + contact.len +
		      target.len + rtext;
	struct sip_dialog *d = calloc(1, sizeof(*d) + nroutes * sizeof(struct str) + text);
	if (!d)
		return -ENOMEM;
	d->routes = (struct str *)(void *)(d + 1);
	char *at = (char *)(d->routes + nroutes);
	d->call_id = put(&at, invite->call_id);
	d->local_tag = put(&at, local_tag);
	d->remote_tag = put(&at, remote_tag);
	d->local_display = put(&at, local->display);
	d->local_uri = put(&at, local->uri_str);
	d->remote_display = put(&at, remote->display);
	d->remote_uri = put(&at, remote->uri_str);
	d->local_contact = put(&at, contact);
	d->target = put(&at, target);
	record_routes(rr, d->routes, &at, nroutes, uac, &d->route_count, &rtext);
	d->uac = uac;
	*out = d;
	return 0;
}

int sip_dialog_create_uas(struct sip_dialog **out, const struct sip_msg *invite,
			  const char *local_tag, const char *local_contact)
{
	struct str target;
	if (!out || !invite || !invite->is_request || !local_tag || !*local_tag || !local_contact)
		return -EINVAL;
	if (contact_uri(invite, &target))
		return -EBADMSG;
	struct sip_dialog *d;
	int err = dialog_create(&d, invite, false, &invite->to, str_from_cstr(local_tag),
				&invite->from, invite->from.tag, invite, target, local_contact);
	if (err)
		return err;
	/* §12.1.1: the remote sequence number is the request's; ours starts empty. */
	d->remote_cseq = invite->cseq.num;
	d->remote_cseq_set = true;
	d->secure = invite->src.transport == SIP_TRANSPORT_TLS && is_sips(invite->ruri.scheme);
	d->confirmed = true; /* a UAS dialog exists from the response it sends */
	d->peer = invite->src;
	*out = d;
	return 0;
}

int sip_dialog_create_uac(struct sip_dialog **out, const struct sip_msg *invite,
			  const struct sip_msg *resp, const char *local_contact)
{
	struct str target;
	if (!out || !invite || !resp || !invite->is_request || resp->is_request || !local_contact ||
	    resp->status < 101 || resp->status > 299 || !resp->to.tag.len ||
	    !str_eq(resp->call_id, invite->call_id))
		return -EINVAL;
	if (contact_uri(resp, &target))
		return -EBADMSG;
	struct sip_dialog *d;
	int err = dialog_create(&d, invite, true, &invite->from, invite->from.tag, &invite->to,
				resp->to.tag, resp, target, local_contact);
	if (err)
		return err;
	/* §12.1.2: ours is the INVITE's; the remote one stays empty. */
	d->local_cseq = invite->cseq.num;
	d->local_cseq_set = true;
	d->invite_cseq = invite->cseq.num;
	if (invite->via.branch.len < sizeof(d->invite_branch))
		(void)str_copy_cstr(invite->via.branch, d->invite_branch, sizeof(d->invite_branch));
	d->secure = is_sips(invite->ruri.scheme);
	d->confirmed = resp->status >= 200;
	d->peer = resp->src;
	*out = d;
	return 0;
}

void sip_dialog_destroy(struct sip_dialog *d)
{
	if (!d)
		return;
	free(d->target_own);
	free(d->routes_own);
	free(d);
}

struct str sip_dialog_call_id(const struct sip_dialog *d)
{
	return d->call_id;
}

struct str sip_dialog_local_tag(const struct sip_dialog *d)
{
	return d->local_tag;
}

struct str sip_dialog_remote_tag(const struct sip_dialog *d)
{
	return d->remote_tag;
}

struct str sip_dialog_remote_target(const struct sip_dialog *d)
{
	return d->target;
}

bool sip_dialog_confirmed(const struct sip_dialog *d)
{
	return d->confirmed;
}

bool sip_dialog_matches(const struct sip_dialog *d, const struct sip_msg *msg)
{
	if (!d || !msg || !str_eq(d->call_id, msg->call_id))
		return false;
	/* A request from the peer has its tag in From; a response to us in To. */
	const struct sip_addr *local = msg->is_request ? &msg->to : &msg->from;
	const struct sip_addr *remote = msg->is_request ? &msg->from : &msg->to;
	return str_eq(local->tag, d->local_tag) && str_eq(remote->tag, d->remote_tag);
}

static int refresh_target(struct sip_dialog *d, const struct sip_msg *msg)
{
	struct str uri;
	if (contact_uri(msg, &uri))
		return -EBADMSG;
	if (str_eq(uri, d->target))
		return 0;
	char *copy = malloc(uri.len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, uri.p, uri.len);
	free(d->target_own);
	d->target_own = copy;
	d->target = str_make(copy, uri.len);
	return 0;
}

static bool is_target_refresh(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_UPDATE;
}

int sip_dialog_recv_request(struct sip_dialog *d, const struct sip_msg *req)
{
	if (!d || !req || !req->is_request)
		return 400;
	if (!sip_dialog_matches(d, req))
		return 481;
	/* ACK and CANCEL carry the INVITE's number: they are not new requests. */
	if (req->method != SIP_METHOD_ACK && req->method != SIP_METHOD_CANCEL) {
		if (d->remote_cseq_set && req->cseq.num < d->remote_cseq)
			return 500; /* §12.2.2: out of order */
		d->remote_cseq = req->cseq.num;
		d->remote_cseq_set = true;
	}
	if (is_target_refresh(req->method) && sip_msg_hdr(req, SIP_HDR_CONTACT)) {
		int err = refresh_target(d, req);
		if (err == -EBADMSG)
			return 400;
		if (err)
			return 500;
	}
	return 0;
}

/* Replaces the route set with the response's Record-Route, reversed. */
static int recompute_routes(struct sip_dialog *d, const struct sip_msg *resp)
{
	size_t n, text;
	record_routes(resp, NULL, NULL, 0, true, &n, &text);
	void *block = malloc(n * sizeof(struct str) + text + 1);
	if (!block)
		return -ENOMEM;
	struct str *routes = block;
	char *at = (char *)(routes + n);
	record_routes(resp, routes, &at, n, true, &n, &text);
	free(d->routes_own);
	d->routes_own = block;
	d->routes = routes;
	d->route_count = n;
	return 0;
}

int sip_dialog_recv_response(struct sip_dialog *d, const struct sip_msg *resp)
{
	if (!d || !resp || resp->is_request || !sip_dialog_matches(d, resp))
		return -EINVAL;
	if (resp->status < 200 || resp->status > 299)
		return 0;
	enum sip_method m = resp->cseq.method;
	/* §13.2.2.4: the 2xx that confirms an early dialog sets its route set. */
	if (m == SIP_METHOD_INVITE && d->uac && !d->confirmed) {
		int err = recompute_routes(d, resp);
		if (err)
			return err;
		d->confirmed = true;
	}
	/* §12.2.1.2: a 2xx to a target refresh replaces the remote target. */
	if (is_target_refresh(m) && sip_msg_hdr(resp, SIP_HDR_CONTACT))
		return refresh_target(d, resp);
	return 0;
}

/* ---- in-dialog requests ------------------------------------------------------ */

/* sip_param_get() on an empty list (params.p NULL) computes NULL + 0, which
 * UBSan rejects: an empty list has no parameter anyway. */
static bool param_get(struct str params, const char *name, struct str *value)
{
	return params.len && sip_param_get(params, name, value);
}

/* The URI inside a route value ("<sip:p;lr>" → "sip:p;lr"). */
static int route_uri(struct str route, struct sip_addr *a)
{
	struct str rest;
	return sip_addr_parse(a, route, &rest) ? -EBADMSG : 0;
}

/* A URI as a Request-URI may carry it: no headers part (§19.1.1's table). */
static struct str uri_for_ruri(struct str uri_str)
{
	ptrdiff_t q = str_find_char(uri_str, '?');
	return q < 0 ? uri_str : str_make(uri_str.p, (size_t)q);
}

static void print_addr(struct buf *out, const char *name, struct str display, struct str uri,
		       struct str tag)
{
	buf_printf(out, "%s: ", name);
	if (display.len)
		buf_printf(out, "\"%.*s\" ", (int)display.len, display.p);
	buf_printf(out, "<%.*s>", (int)uri.len, uri.p);
	if (tag.len)
		buf_printf(out, ";tag=%.*s", (int)tag.len, tag.p);
	buf_append_cstr(out, "\r\n");
}

static bool wants_contact(enum sip_method m)
{
	return m == SIP_METHOD_INVITE || m == SIP_METHOD_UPDATE || m == SIP_METHOD_OPTIONS ||
	       m == SIP_METHOD_SUBSCRIBE || m == SIP_METHOD_NOTIFY || m == SIP_METHOD_REFER;
}

int sip_dialog_request_print(struct buf *out, struct sip_dialog *d, enum sip_method method,
			     uint32_t cseq_override, enum sip_transport transport,
			     const char *via_sent_by, const char *extra_headers, struct str body)
{
	if (!out || !d || method == SIP_METHOD_UNKNOWN || !via_sent_by || !*via_sent_by)
		return -EINVAL;

	/* §12.2.1.1: loose routing keeps the target in the Request-URI; a strict
	 * first hop takes the Request-URI and the target goes last in Route. */
	struct str ruri = uri_for_ruri(d->target);
	size_t first_route = 0;
	bool strict = false;
	if (d->route_count) {
		struct sip_addr a;
		if (route_uri(d->routes[0], &a))
			return -EBADMSG;
		struct str lr;
		if (!param_get(a.uri.params, "lr", &lr)) {
			strict = true;
			ruri = uri_for_ruri(a.uri_str);
			first_route = 1;
		}
	}

	uint32_t cseq;
	if (method == SIP_METHOD_ACK || method == SIP_METHOD_CANCEL) {
		cseq = cseq_override ? cseq_override : d->invite_cseq;
	} else if (cseq_override) {
		cseq = cseq_override;
	} else {
		/* §12.2.1.1: one more than the last, starting anywhere if empty. */
		cseq = d->local_cseq_set ? d->local_cseq + 1 : 1;
		d->local_cseq = cseq;
		d->local_cseq_set = true;
	}

	/* CANCEL is hop-by-hop on the INVITE's own branch (§9.1); the rest are new. */
	char branch[SIP_BRANCH_LEN];
	if (method == SIP_METHOD_CANCEL && d->invite_branch[0])
		memcpy(branch, d->invite_branch, sizeof(branch));
	else
		sip_branch_generate(branch);
	if (method == SIP_METHOD_INVITE) {
		d->invite_cseq = cseq;
		memcpy(d->invite_branch, branch, sizeof(branch));
	}

	const char *name = sip_method_name(method);
	buf_printf(out, "%s %.*s SIP/2.0\r\n", name, (int)ruri.len, ruri.p);
	buf_printf(out, "Via: SIP/2.0/%s %s;branch=%s;rport\r\n", sip_transport_name(transport),
		   via_sent_by, branch);
	for (size_t i = first_route; i < d->route_count; i++)
		buf_printf(out, "Route: %.*s\r\n", (int)d->routes[i].len, d->routes[i].p);
	if (strict)
		buf_printf(out, "Route: <%.*s>\r\n", (int)d->target.len, d->target.p);
	buf_append_cstr(out, "Max-Forwards: 70\r\n");
	print_addr(out, "From", d->local_display, d->local_uri, d->local_tag);
	print_addr(out, "To", d->remote_display, d->remote_uri, d->remote_tag);
	buf_printf(out, "Call-ID: %.*s\r\n", (int)d->call_id.len, d->call_id.p);
	buf_printf(out, "CSeq: %u %s\r\n", (unsigned)cseq, name);
	if (wants_contact(method))
		buf_printf(out, "Contact: <%.*s>\r\n", (int)d->local_contact.len,
			   d->local_contact.p);
	if (extra_headers)
		buf_append_cstr(out, extra_headers);
	buf_printf(out, "Content-Length: %zu\r\n\r\n", body.len);
	if (body.len)
		buf_append_str(out, body);
	return out->failed ? -ENOMEM : 0;
}

int sip_dialog_next_hop(const struct sip_dialog *d, struct str *host, uint16_t *port,
			enum sip_transport *transport)
{
	if (!d || !host || !port || !transport)
		return -EINVAL;
	struct sip_uri uri;
	if (d->route_count) {
		struct sip_addr a;
		if (route_uri(d->routes[0], &a))
			return -EBADMSG;
		uri = a.uri;
	} else if (sip_uri_parse(&uri, d->target)) {
		return -EBADMSG;
	}
	/* §8.1.2 / RFC 3263 without DNS: the URI's transport, TLS for sips. */
	enum sip_transport t = is_sips(uri.scheme) ? SIP_TRANSPORT_TLS : SIP_TRANSPORT_UDP;
	struct str tp;
	if (param_get(uri.params, "transport", &tp) && sip_transport_parse(tp, &t))
		return -EBADMSG;
	*host = uri.host;
	*port = uri.port;
	*transport = t;
	return 0;
}

const struct sip_peer *sip_dialog_peer(const struct sip_dialog *d)
{
	return d ? &d->peer : NULL;
}

bool sip_dialog_secure(const struct sip_dialog *d)
{
	return d && d->secure;
}
