/*
 * What ua.c (the profile's user agent), call.c (what every call session does:
 * in-dialog requests, BYE, freeing; the inbound side) and call_out.c (the
 * outbound side) share and nothing outside src/sip sees.
 */
#ifndef IRISX_SIP_UA_INT_H
#define IRISX_SIP_UA_INT_H

#include "sip.h"

#include <uv.h>

#define UA_ALLOW     "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"
#define UA_SUPPORTED "path, replaces"

/* How long sip_ua_destroy waits for requests still in flight (an unregister
 * answering its challenge needs two round trips; a silent registrar is not
 * waited for beyond this), checked every UA_CLOSE_POLL_MS. */
enum { UA_CLOSE_WAIT_MS = 2000, UA_CLOSE_POLL_MS = 10 };

/* What an outbound call keeps beyond what every call has (call_out.c). */
struct sip_call_uac {
	struct arena strings; /* the copied sip_call_out strings */
	const char *request_uri, *from, *to, *proxy, *extra_headers, *content_type;
	const char *auth_username, *auth_password, *contact_user;
	struct str body; /* the offer (in `strings`), empty for a late offer */
	char from_tag[17];
	char call_id[80];
	uint32_t cseq;		     /* of the last INVITE sent */
	struct sip_txn *ctx;	     /* the INVITE client transaction, until its last callback */
	struct sip_txn *cancel;	     /* our CANCEL's client transaction while it runs */
	struct sip_resolve *resolve; /* the destination's lookup while it runs */
	struct sip_peer targets[SIP_RESOLVE_MAX_TARGETS];
	size_t target_count;
	size_t target; /* the one the current INVITE went to */
	char *ack;     /* the ACK for the answering 2xx, sent again for its retransmissions */
	size_t ack_len;
	uint64_t forks_ended[4]; /* To tags (hashed) of other forks' 2xx already ended */
	size_t fork_count;
	bool provisional;   /* a 1xx arrived: CANCEL is allowed, no more failover (§9.1, RFC 3263
			       §4.3) */
	bool challenged;    /* the current INVITE answers a challenge: a second one fails */
	bool cancel_wanted; /* hangup before any 1xx: CANCEL when one arrives */
	const char
	    *cancel_extra; /* the hangup's extra lines (a Reason) for the CANCEL, in `strings` */
	bool hung_up;	   /* the owner ended it: the final response is not reported */
	/* The last nonce answered with the credentials (owned), and how many
	 * requests carried it: a challenge with the same nonce counts on. */
	char *auth_nonce;
	uint32_t auth_nc;
};

struct sip__call_req;

struct sip_call {
	struct sip_ua *ua;
	struct hmap_node by_call_id;
	struct sip_txn *stx; /* inbound: the INVITE server transaction until its final response */
	struct sip_msg *invite;	   /* a reference: the INVITE received, or the last one sent */
	struct sip_dialog *dialog; /* once answered (outbound: from the first 1xx with a To tag) */
	char *local_body;	   /* our session description (owned) */
	size_t local_body_len;
	char *local_extra;	    /* Contact and Content-Type lines for 2xx (owned) */
	struct sip__call_req *reqs; /* our in-dialog requests whose transactions run */
	struct sip__call_req *bye;  /* our BYE while it runs (also in reqs) */
	char to_tag[17];
	void *owner;
	bool final_sent; /* inbound: the final response went out; outbound: one came in */
	bool answered;
	bool acked;
	bool ended; /* BYE sent or received, or the call failed or was given up */
	bool released;
	struct sip_call_uac *uac; /* outbound calls only (owned) */
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
	bool closing;		 /* sip_ua_destroy waits for requests still in flight */
	uint64_t close_deadline; /* uv_now() at which it stops waiting */
	bool destroying;
	void (*done_cb)(void *arg);
	void *done_arg;
	struct buf out;		       /* scratch for stateless responses */
	struct sip__request *requests; /* out-of-dialog requests in flight (request.c) */
	struct sip_gateway *gateways;  /* every gateway on this profile (gateway.c) */
	/* message counters (counts.c): open addressing on key + 1, 0 = free */
	struct {
		uint32_t key;
		uint64_t count;
	} counts[SIP_COUNT_SLOTS];
	uint64_t counts_overflow;
};

/* counts.c: counts a message received (a parsed one) or sent (bytes). */
void sip__ua_count(struct sip_ua *ua, bool out, enum sip_method method, uint16_t status);
void sip__ua_count_sent(struct sip_ua *ua, const char *data, size_t len);

/* ---- request.c: one out-of-dialog non-INVITE request (REGISTER, OPTIONS) ---- */

struct sip__request;

struct sip__request_params {
	enum sip_method method;	 /* REGISTER, OPTIONS… (not INVITE, ACK or CANCEL) */
	const char *request_uri; /* "sip:example.com" */
	const char *from;	 /* name-addr without tag: "<sip:alice@example.com>" */
	const char *to;		 /* name-addr: "<sip:alice@example.com>" */
	const char *call_id;	 /* NULL: a fresh one */
	uint32_t cseq;		 /* of the first request; a retry after a challenge takes +1 */
	/* Contact <sip:USER@our sent-by[;transport=tcp]PARAMS>; NULL user: none */
	const char *contact_user;
	const char *contact_params; /* ";a=b" (the ';' may be left out) or NULL */
	const char *extra_headers;  /* complete lines (Expires: 3600\r\n) or NULL */
	/* Where it goes: a SIP URI or host[:port] (a literal address, or a name
	 * located per RFC 3263); NULL: the Request-URI's host. */
	const char *proxy;
	/* Where it goes, already known (the unregister goes where the registration
	 * went); NULL: from proxy. */
	const struct sip_peer *dest;
	enum sip_transport transport;
	/* For one 401/407 (digest, sip_auth_*); NULL: a challenge is final. */
	const char *auth_username;
	const char *auth_password;
};

/*
 * The request's outcome, once: the final response (borrowed for the call) and
 * its status, or `resp` NULL with 408 (no answer: Timer F) or 503 (transport
 * error). A 401/407 arrives here only when it could not be answered (no
 * credentials, no usable challenge, or the second one for this request).
 * The request is freed when the callback returns.
 */
typedef void (*sip__request_cb)(void *arg, const struct sip__request *rq,
				const struct sip_msg *resp, uint16_t status);

/*
 * Prints the request (Via with the UA's sent-by for `transport` and a fresh
 * branch, From with a fresh tag, Max-Forwards, User-Agent, Content-Length: 0),
 * starts its client transaction and sends it before returning — or, for a
 * name, once located (then a failure to locate or to send comes to `cb` as
 * 503). The strings of `p` are copied. `cb` never runs before this returns.
 * With `cb` NULL the request is sent and forgotten (*out is set to NULL): its
 * transaction still retransmits, nobody hears the answer; with credentials
 * it stays in ua->requests until its outcome, to answer a 401/407 (the
 * unregister at stop). 0, -EINVAL
 * (unparseable Request-URI or proxy), -EAFNOSUPPORT (no listener for the
 * transport and the address's family), -ESHUTDOWN, -ENOMEM, or the
 * transport's error.
 */
int sip__request_start(struct sip__request **out, struct sip_ua *ua,
		       const struct sip__request_params *p, sip__request_cb cb, void *arg);
/* The callback will not run; a transaction in flight finishes on the wire. */
void sip__request_cancel(struct sip__request *rq);
/* The CSeq number of the last request sent (after a challenge: the retry's). */
uint32_t sip__request_cseq(const struct sip__request *rq);
/* Where the request went (remote AF_UNSPEC while a name is being located). */
const struct sip_peer *sip__request_dest(const struct sip__request *rq);
/* The UA is going away: every request is freed without its callback. */
void sip__requests_destroy(struct sip_ua *ua);
/* Requests still in flight (unregisters answering a challenge, say). */
bool sip__requests_pending(const struct sip_ua *ua);

/* ---- gateway.c ---- */

/* The UA is going away: every gateway still on it is destroyed. */
void sip__gateways_destroy(struct sip_ua *ua);

/* ua.c */
/* Called after every entry into the transaction layer. */
void sip__ua_timer_rearm(struct sip_ua *ua);
void sip__ua_log_peer(const char *what, const struct sip_peer *src, const char *detail);
/* 405 or 501 with Allow, for a method the UA does not serve where it arrived. */
void sip__ua_refuse_method(struct sip_txn *stx, const struct sip_msg *req);

/* call.c */
/* Keeps what re-INVITEs are answered with (the call's local_extra and
 * local_body): `prefix` lines (Record-Route, or NULL), Contact <contact>,
 * Allow and Content-Type, and a copy of `body`. 0 or -ENOMEM (unchanged). */
int sip__call_keep_local(struct sip_call *call, const char *prefix, const char *contact,
			 const char *content_type, struct str body);
/* Links a new call into the UA's list and Call-ID index. */
void sip__call_link(struct sip_ua *ua, struct sip_call *call, struct str call_id);
void sip__call_free(struct sip_call *call);
/* Frees the call once its owner released it and nothing of it still runs. */
void sip__call_maybe_free(struct sip_call *call);
/* Starts a BYE in the call's dialog (to `dest`), tracked in call->bye; a
 * 401/407 to it is answered once when the call has credentials. */
int sip__call_send_bye(struct sip_call *call, const struct sip_peer *dest,
		       const char *extra_headers);
/* Tells the owner the call ended (unless it released it). May free the call. */
void sip__call_ended(struct sip_call *call, uint16_t status);
/* The call whose dialog (or, before the answer, whose INVITE) `msg` belongs to. */
struct sip_call *sip__call_find(struct sip_ua *ua, const struct sip_msg *msg);
/* A new INVITE, a CANCEL, and requests within a call's dialog. */
void sip__ua_invite(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req);
void sip__ua_cancel(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req);
void sip__ua_in_dialog(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req);

/* call_out.c */
/* Where in-dialog requests of the call go. */
void sip__call_dialog_dest(const struct sip_call *call, struct sip_peer *out);
/* Outbound: hangup before the answer (CANCEL now or once a 1xx came). */
int sip__call_out_cancel(struct sip_call *call, const char *extra_headers);
/*
 * Outbound: the credentials line ("Proxy-Authorization: Digest …\r\n" for a
 * 407, "Authorization: …" for a 401) answering `resp` for a request of
 * `method` to `uri` (its Request-URI as printed), appended to `line`. The
 * nonce count follows the nonce: 1 for a new one, one more each time the
 * last one answered is answered again (RFC 7616 §3.4). -EACCES when the call
 * has no credentials (an inbound call), -ENOENT when no challenge is usable,
 * else sip_auth_credentials_print's errors.
 */
int sip__call_out_auth_print(struct sip_call *call, const struct sip_msg *resp, const char *method,
			     struct str uri, struct buf *line);
/* Outbound: the parts freed with the call (client transactions detached). */
void sip__call_out_free(struct sip_call *call);

#endif
