/*
 * sip — irisx's SIP stack (RFC 3261): messages, transactions, dialogs,
 * transports and the per-profile user agent that ties them together.
 *
 * Layers, bottom up, each usable alone:
 *   message  (msg.c, hdr.c, uri.c, print.c) — pure parse/print, no I/O
 *   txn      (txn.c)    — RFC 3261 §17 state machines on an injected clock
 *   dialog   (dialog.c) — RFC 3261 §12 dialog state and in-dialog requests
 *   transport (transport.c) — UDP/TCP sockets on a libuv loop
 *   ua       (ua.c)     — one profile: listeners, txn layer, calls, OPTIONS
 *
 * Ownership: a struct sip_msg is reference counted and owns one allocation
 * holding its bytes; every struct str a parser hands out points into it and
 * lives as long as the message.
 */
#ifndef IRISX_SIP_H
#define IRISX_SIP_H

#include "base/base.h"

/* ======================================================================== */
/* Methods and header names                                                  */
/* ======================================================================== */

#define SIP_METHODS(X)                                                                            \
	X(INVITE)                                                                                 \
	X(ACK)                                                                                    \
	X(BYE)                                                                                    \
	X(CANCEL)                                                                                 \
	X(OPTIONS)                                                                                \
	X(REGISTER)                                                                               \
	X(INFO)                                                                                   \
	X(PRACK)                                                                                  \
	X(UPDATE)                                                                                 \
	X(SUBSCRIBE)                                                                              \
	X(NOTIFY)                                                                                 \
	X(REFER)                                                                                  \
	X(MESSAGE)                                                                                \
	X(PUBLISH)

enum sip_method {
	SIP_METHOD_UNKNOWN = 0, /* an extension method: see sip_msg.method_name */
#define X(m) SIP_METHOD_##m,
	SIP_METHODS(X)
#undef X
};

/* Case-sensitive, as RFC 3261 §7.1 says methods are. */
enum sip_method sip_method_parse(struct str name);
/* "INVITE"…; "UNKNOWN" for SIP_METHOD_UNKNOWN. */
const char *sip_method_name(enum sip_method m);

/* Headers the stack knows by name: X(id, long name, compact form or 0). */
#define SIP_HEADERS(X)                                                                            \
	X(ACCEPT, "Accept", 0)                                                                    \
	X(ACCEPT_CONTACT, "Accept-Contact", 'a')                                                  \
	X(ALLOW, "Allow", 0)                                                                      \
	X(ALLOW_EVENTS, "Allow-Events", 'u')                                                      \
	X(AUTHORIZATION, "Authorization", 0)                                                      \
	X(CALL_ID, "Call-ID", 'i')                                                                \
	X(CONTACT, "Contact", 'm')                                                                \
	X(CONTENT_DISPOSITION, "Content-Disposition", 0)                                          \
	X(CONTENT_ENCODING, "Content-Encoding", 'e')                                              \
	X(CONTENT_LENGTH, "Content-Length", 'l')                                                  \
	X(CONTENT_TYPE, "Content-Type", 'c')                                                      \
	X(CSEQ, "CSeq", 0)                                                                        \
	X(DATE, "Date", 0)                                                                        \
	X(EVENT, "Event", 'o')                                                                    \
	X(EXPIRES, "Expires", 0)                                                                  \
	X(FROM, "From", 'f')                                                                      \
	X(MAX_FORWARDS, "Max-Forwards", 0)                                                        \
	X(MIN_EXPIRES, "Min-Expires", 0)                                                          \
	X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0)                                          \
	X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0)                                            \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0)                                          \
	X(PROXY_REQUIRE, "Proxy-Require", 0)                                                      \
	X(REASON, "Reason", 0)                                                                    \
	X(RECORD_ROUTE, "Record-Route", 0)                                                        \
	X(REFER_TO, "Refer-To", 'r')                                                              \
	X(REFERRED_BY, "Referred-By", 'b')                                                        \
	X(REMOTE_PARTY_ID, "Remote-Party-ID", 0)                                                  \
	X(REQUIRE, "Require", 0)                                                                  \
	X(ROUTE, "Route", 0)                                                                      \
	X(RSEQ, "RSeq", 0)                                                                        \
	X(RACK, "RAck", 0)                                                                        \
	X(SERVER, "Server", 0)                                                                    \
	X(SESSION_EXPIRES, "Session-Expires", 'x')                                                \
	X(SUBJECT, "Subject", 's')                                                                \
	X(SUPPORTED, "Supported", 'k')                                                            \
	X(TIMESTAMP, "Timestamp", 0)                                                              \
	X(TO, "To", 't')                                                                          \
	X(UNSUPPORTED, "Unsupported", 0)                                                          \
	X(USER_AGENT, "User-Agent", 0)                                                            \
	X(VIA, "Via", 'v')                                                                        \
	X(WARNING, "Warning", 0)                                                                  \
	X(WWW_AUTHENTICATE, "WWW-Authenticate", 0)

enum sip_hdr_id {
	SIP_HDR_OTHER = 0, /* not in the table: compare sip_hdr.name */
#define X(id, name, compact) SIP_HDR_##id,
	SIP_HEADERS(X)
#undef X
	SIP_HDR_COUNT
};

/* Long or compact name, case-insensitive → id (SIP_HDR_OTHER if unknown). */
enum sip_hdr_id sip_hdr_id_parse(struct str name);
/* The canonical long name ("Call-ID"); NULL for SIP_HDR_OTHER. */
const char *sip_hdr_name(enum sip_hdr_id id);

/* ======================================================================== */
/* Transports and peers                                                      */
/* ======================================================================== */

enum sip_transport { SIP_TRANSPORT_UDP, SIP_TRANSPORT_TCP, SIP_TRANSPORT_TLS };

/* "UDP", "TCP", "TLS". */
const char *sip_transport_name(enum sip_transport t);
/* Case-insensitive "udp"/"tcp"/"tls"; -EINVAL otherwise. */
int sip_transport_parse(struct str name, enum sip_transport *out);
static inline bool sip_transport_reliable(enum sip_transport t)
{
	return t != SIP_TRANSPORT_UDP;
}

/* Where a message came from, or where one goes. */
struct sip_peer {
	enum sip_transport transport;
	struct net_addr remote;
	struct net_addr local; /* the listener's address it arrived on / leaves from */
	uint64_t conn_id;      /* the TCP/TLS connection (0: UDP, or "any connection") */
};

/* ======================================================================== */
/* Parsed pieces                                                             */
/* ======================================================================== */

/* sip:user:password@host:port;params?headers (RFC 3261 §19.1). */
struct sip_uri {
	struct str scheme; /* "sip", "sips", "tel", … as written */
	struct str user;   /* still %-escaped, as on the wire */
	struct str password;
	struct str host;   /* an IPv6 reference keeps its brackets */
	uint16_t port;     /* 0 when absent */
	struct str params; /* ";a=b;lr" with the leading ';', or empty */
	struct str headers; /* "a=b&c=d" after '?', or empty */
};

/* name-addr or addr-spec, as in From, To, Contact, Route (RFC 3261 §25.1). */
struct sip_addr {
	struct str display; /* without quotes, still escaped; empty when absent */
	struct str uri_str; /* the URI text, without '<' '>' */
	struct sip_uri uri;
	struct str params; /* header parameters after the URI, with the leading ';' */
	struct str tag;    /* the tag parameter's value, or empty */
};

struct sip_via {
	struct str protocol;  /* "SIP/2.0" */
	struct str transport; /* "UDP", "TCP", … as written */
	struct str host;      /* sent-by host; IPv6 keeps brackets */
	uint16_t port;        /* 0 when absent */
	struct str branch;
	struct str received;
	bool rport;          /* rport present */
	uint32_t rport_value; /* 0 when present without a value */
	struct str maddr;
	struct str params; /* all parameters, with the leading ';' */
};

struct sip_cseq {
	uint32_t num;
	enum sip_method method;
	struct str method_name;
};

/* One header line as received; a comma list stays one entry. */
struct sip_hdr {
	enum sip_hdr_id id;
	struct str name;  /* as written (compact or long) */
	struct str value; /* trimmed; folded lines are left in place (contain CRLF+WSP) */
};

/* ======================================================================== */
/* Messages                                                                  */
/* ======================================================================== */

/* Limits: a message (one datagram), its header fields, and one header line
 * with its folded continuations. Beyond them parsing fails cleanly. */
enum { SIP_MSG_MAX_SIZE = 65535, SIP_MSG_MAX_HEADERS = 128, SIP_MSG_MAX_LINE = 8192 };

struct sip_msg {
	unsigned refs;
	const char *data; /* the message's own copy of the bytes (owned) */
	size_t len;
	struct sip_peer src; /* filled by the transport for received messages */

	bool is_request;
	/* request line */
	enum sip_method method;
	struct str method_name;
	struct str ruri_str;
	struct sip_uri ruri;
	/* status line */
	uint16_t status;
	struct str reason;

	/* every header, in order */
	struct sip_hdr *hdrs;
	size_t hdr_count;

	/* parsed at once: what transactions and dialogs need */
	struct sip_via via; /* the topmost Via */
	struct str call_id;
	struct sip_addr from;
	struct sip_addr to;
	struct sip_cseq cseq;
	int max_forwards; /* -1 when absent */
	struct str body;  /* exactly Content-Length bytes (or the rest of a datagram) */

	/* When parsing failed but a response can still be formed: what was wrong. */
	const char *error;
};

/*
 * Parses one complete message of `len` bytes; the bytes are copied once into
 * the message's own allocation (one malloc per message).
 *
 * Returns 0 and *out on success. Returns -EBADMSG for malformed input: if it
 * is a request whose Via, From, To, Call-ID and CSeq could be read, *out is
 * still set with msg->error naming the fault so that the caller can answer
 * 400; otherwise *out is NULL and the input is to be dropped.
 * -ENOMEM on allocation failure, -EMSGSIZE above SIP_MSG_MAX_SIZE.
 * "Could be read" means: the top Via parsed (the response has somewhere to
 * go) and the other four headers are present; sip_response_print() echoes
 * them as received. msg->error is a static string fit for a reason phrase;
 * fields that failed to parse are left empty, so such a message is only
 * good for that 400, not for transaction matching. Responses with any fault
 * are always dropped. Line endings must be CRLF; CRLFs before the start
 * line are skipped (RFC 3261 §7.5).
 *
 * Over UDP `len` is the datagram (RFC 3261 §18.3: a Content-Length larger
 * than what arrived is malformed; bytes past Content-Length are discarded).
 */
int sip_msg_parse(struct sip_msg **out, const char *data, size_t len);

/*
 * Stream framing for TCP/TLS (RFC 3261 §18.3): looks at the bytes received so
 * far on a connection and says how long the first message is. Leading CRLFs
 * (keep-alives, RFC 5626 §4.4.1) are counted in *skip and are not part of it.
 * Returns 0 with *msg_len, -EAGAIN for "need more", -EBADMSG when no valid
 * message can start here (no or bad Content-Length, headers over the limit).
 * *skip is set with -EAGAIN too, so keep-alives can be consumed at once.
 * With -EAGAIN, *msg_len is the message's whole length once its headers are
 * complete (only the body is missing), 0 while they are not.
 */
int sip_msg_frame(const char *data, size_t len, size_t *skip, size_t *msg_len);
/*
 * sip_msg_frame for a connection that keeps what it learnt: `scanned` bytes
 * from the message's start (after its keep-alives) were looked at by an
 * earlier call that found no end of the headers, so the search for it
 * resumes near there. A peer sending a message a byte at a time then costs
 * linear work, not quadratic. 0 scans from the start.
 */
int sip_msg_frame_resume(const char *data, size_t len, size_t scanned, size_t *skip,
			 size_t *msg_len);

struct sip_msg *sip_msg_ref(struct sip_msg *msg);
void sip_msg_unref(struct sip_msg *msg); /* NULL is fine */

/* Header lookup by id (compact forms included); NULL when absent. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id);
/* The next header with the same id (or same name for SIP_HDR_OTHER) after `prev`. */
const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg, const struct sip_hdr *prev);
/* Lookup by name, case-insensitive; compact forms of known headers match. */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg, struct str name);

/*
 * The checks a UAS makes before acting on a new request, beyond what
 * sip_msg_parse needed: Request-URI syntax, version, CSeq method against the
 * request method, Max-Forwards, Contact/Route/Record-Route syntax,
 * Expires/Date/Content-Type syntax, … (RFC 4475 §3.1.2).
 * Returns 0 when the request is fit to process, or the status to answer
 * (400, 416, 505, …) with *reason set to a static reason phrase. A message
 * parsed with msg->error gets 400 and that error. Responses get 0.
 */
int sip_msg_check(const struct sip_msg *msg, const char **reason);

/* ---- pieces, for headers parsed on first use ---- */

int sip_uri_parse(struct sip_uri *out, struct str s);
/* One name-addr/addr-spec; *rest gets what follows a ',' (empty at the end). */
int sip_addr_parse(struct sip_addr *out, struct str s, struct str *rest);
int sip_via_parse(struct sip_via *out, struct str s, struct str *rest);
int sip_cseq_parse(struct sip_cseq *out, struct str s);
/*
 * Finds parameter `name` (case-insensitive) in ";a=b;c" lists; *value is empty
 * for a parameter without '='. Returns false when absent. Quoted values keep
 * their quotes.
 */
bool sip_param_get(struct str params, const char *name, struct str *value);
/* Iterates over the comma-separated elements of a list header value (commas inside
 * quotes and <> do not split): returns false when there is none left. */
bool sip_list_next(struct str *list, struct str *item);

/* ---- printing ---- */

/* The reason phrase RFC 3261 §21 gives a status code ("Unknown" otherwise). */
const char *sip_reason_phrase(uint16_t status);

/*
 * Appends a response to `req` (RFC 3261 §8.2.6): status line; every Via in
 * order; From; To with `to_tag` added when the request's To has none and
 * to_tag is non-NULL; Call-ID; CSeq; then `extra_headers` (complete lines with
 * CRLF, or NULL), Content-Length and `body`. `reason` NULL picks the default.
 */
void sip_response_print(struct buf *out, const struct sip_msg *req, uint16_t status,
			const char *reason, const char *to_tag, const char *extra_headers,
			struct str body);

/* Canonical form of a parsed message: long header names, one header per line,
 * the same order, body as is. Parsing the output gives an equal message. */
void sip_msg_print(struct buf *out, const struct sip_msg *msg);

/* ======================================================================== */
/* Transactions (RFC 3261 §17, with RFC 6026's Accepted state)               */
/* ======================================================================== */

/*
 * A transaction layer serves one loop. It does no I/O and reads no clock of
 * its own: bytes leave through the callbacks below, time comes from now_cb,
 * and the owner arms a single loop timer for sip_txn_layer_next_deadline()
 * after every call into the layer, then calls sip_txn_layer_run_timers() when
 * it fires. That keeps it testable on a fake clock and costs one timer per
 * loop, not one per transaction.
 */
struct sip_txn_layer;
struct sip_txn;

struct sip_txn_timers {
	uint32_t t1_ms; /* 500 */
	uint32_t t2_ms; /* 4000 */
	uint32_t t4_ms; /* 5000 */
};

struct sip_txn_layer_cbs {
	/* Monotonic milliseconds. */
	uint64_t (*now_cb)(void *arg);
	/* Sends a request (client transactions, ACK for non-2xx, stateless sends). */
	int (*send_request_cb)(void *arg, const struct sip_peer *dest, const char *data,
			       size_t len);
	/* Sends a response; the transport routes it (RFC 3261 §18.2.2, RFC 3581)
	 * from where the request came from (`src`) and its top Via (`via`). Both
	 * are borrowed for the call. A transaction that keeps responding after its
	 * request is released (non-INVITE, Completed) passes copies of them; the
	 * Via copy has the routing fields only (transport, host, port, branch,
	 * received, rport, maddr; protocol and params empty). */
	int (*send_response_cb)(void *arg, const struct sip_peer *src, const struct sip_via *via,
				const char *data, size_t len);
	/* A request that starts a new server transaction (never ACK; CANCEL gets its
	 * own). The layer has already answered 100 Trying to an INVITE. The callee
	 * answers with sip_txn_respond(), now or later; `req` is borrowed for the
	 * call (sip_msg_ref() to keep it, or use sip_txn_request()). */
	void (*request_cb)(void *arg, struct sip_txn *stx, struct sip_msg *req);
	/* An ACK that matched no INVITE server transaction in Completed state: the
	 * ACK for a 2xx (or a stray one). If it matched an Accepted transaction, that
	 * transaction has stopped retransmitting its 2xx. Optional (NULL). */
	void (*ack_cb)(void *arg, struct sip_msg *ack);
	/* An INVITE server transaction that sent a 2xx got no ACK within 64*T1
	 * (the call should be torn down with BYE). `stx` is freed when the callback
	 * returns. Optional (NULL). */
	void (*ack_timeout_cb)(void *arg, struct sip_txn *stx);
	void *arg;
};

/* now_cb, send_request_cb, send_response_cb and request_cb are required
 * (-EINVAL otherwise, and for a zero timer). Callbacks may call back into the
 * layer (respond, start or detach transactions) but must not destroy it. */
int sip_txn_layer_create(struct sip_txn_layer **out, const struct sip_txn_layer_cbs *cbs,
			 const struct sip_txn_timers *timers /* NULL: RFC defaults */);
/* Destroys every transaction without calling back. */
void sip_txn_layer_destroy(struct sip_txn_layer *layer);

/*
 * Feeds a received message. Requests matching a server transaction (§17.2.3,
 * and §17.2.3's RFC 2543 rules when the branch lacks the magic cookie) are
 * absorbed: a retransmitted request gets the last response again; an ACK
 * completes an INVITE transaction. Responses go to their client transaction
 * (§17.1.3); unmatched responses are dropped, except 2xx to INVITE which are
 * given to the client transaction's callback again while it is Accepted.
 * `msg` is borrowed: the layer takes its own reference when it keeps it. Give
 * it only messages that parsed (the transport answers the malformed ones).
 * Callbacks fire before this returns.
 */
void sip_txn_layer_recv(struct sip_txn_layer *layer, struct sip_msg *msg);

/* UINT64_MAX when no timer is pending. */
uint64_t sip_txn_layer_next_deadline(const struct sip_txn_layer *layer);
void sip_txn_layer_run_timers(struct sip_txn_layer *layer);
size_t sip_txn_layer_count(const struct sip_txn_layer *layer);

/* ---- server side ---- */

/* The request a transaction serves or sent (borrowed). A non-INVITE server
 * transaction releases it when its final response is sent (then NULL). */
struct sip_msg *sip_txn_request(const struct sip_txn *stx);
/* The last response status sent (server) or received (client); 0 before any. */
uint16_t sip_txn_status(const struct sip_txn *tx);

/*
 * Sends a response on a server transaction and drives its state (a final
 * response moves it to Completed, or to Accepted for a 2xx to INVITE).
 * Arguments as sip_response_print(). -EINVAL after a final response,
 * -ENOMEM; a negative send_response_cb result is passed back, but the
 * transaction still moves on (its retransmissions may get through).
 * A transaction whose final response is sent must not be used again by the
 * caller once control returns to the loop: the layer frees it when its
 * timers end (at once on a reliable transport for a non-INVITE).
 * A 2xx to INVITE is retransmitted (T1 doubling to T2) until the ACK comes,
 * on every transport: §13.3.1.4 makes that end-to-end.
 */
int sip_txn_respond(struct sip_txn *stx, uint16_t status, const char *reason,
		    const char *to_tag, const char *extra_headers, struct str body);

/* The INVITE server transaction a CANCEL refers to (§9.2), or NULL. It may
 * have sent its final response already (sip_txn_status() >= 200): the CANCEL
 * then gets 200 and changes nothing. */
struct sip_txn *sip_txn_find_cancelled(struct sip_txn_layer *layer,
				       const struct sip_msg *cancel);

/* Lets the owner tie its object (a call) to a transaction. */
void sip_txn_set_owner(struct sip_txn *tx, void *owner);
void *sip_txn_owner(const struct sip_txn *tx);

/* ---- client side ---- */

/*
 * A response for a client transaction, or its failure: `resp` NULL with
 * status 408 on timeout (Timer B/F) or 503 on a transport error. Called for
 * every provisional and final response (`resp` borrowed for the call); after
 * a final one the transaction is gone, except after a 2xx to INVITE: the
 * transaction is then Accepted for 64*T1, every 2xx (retransmissions, other
 * forks) comes to the callback again, and the end of that period is told by
 * one last call with `resp` NULL and status 0. Unless detached first.
 */
typedef void (*sip_txn_response_cb)(void *arg, struct sip_txn *ctx, const struct sip_msg *resp,
				    uint16_t status);

/*
 * Starts a client transaction for `req` (a message this side printed and
 * parsed, its top Via carrying a fresh branch; a reference is taken) to
 * `dest`. For INVITE, a non-2xx final response is ACKed by the layer (§17.1.1.3).
 * The request is sent before this returns; if that fails the error is
 * returned and no transaction exists. No callback fires before it returns.
 * -EINVAL for an ACK or a request without branch, -EEXIST for a branch and
 * method already in use.
 */
int sip_txn_client_start(struct sip_txn **out, struct sip_txn_layer *layer, struct sip_msg *req,
			 const struct sip_peer *dest, sip_txn_response_cb cb, void *arg);
/* Sends without a transaction (the ACK for a 2xx, §13.2.2.4). */
int sip_txn_send_stateless(struct sip_txn_layer *layer, const struct sip_peer *dest,
			   const char *data, size_t len);
/* Forgets the callback of a client transaction whose owner is going away; the
 * transaction still completes on the wire. Valid until the transaction's last
 * callback (see sip_txn_response_cb). */
void sip_txn_client_detach(struct sip_txn *ctx);
/* The TU sent a CANCEL for this INVITE client transaction in Proceeding: if no
 * final response arrives within 64*T1, it ends with 408 (RFC 3261 §9.1).
 * Calling, it still has Timer B; a no-op in any other state or kind. */
void sip_txn_client_cancel_sent(struct sip_txn *ctx);

/* A fresh branch with the RFC 3261 magic cookie: "z9hG4bK" + 16 hex digits. */
enum { SIP_BRANCH_LEN = 24 };
void sip_branch_generate(char out[SIP_BRANCH_LEN]);

/* ======================================================================== */
/* Dialogs (RFC 3261 §12)                                                    */
/* ======================================================================== */

struct sip_dialog;

/*
 * A UAS dialog from a received INVITE (a reference to nothing is kept: every
 * value is copied into the dialog's own allocation) and the local tag this side
 * chose; `local_contact` is this side's Contact URI ("sip:irisx@127.0.0.1:5060").
 */
int sip_dialog_create_uas(struct sip_dialog **out, const struct sip_msg *invite,
			  const char *local_tag, const char *local_contact);
/* A UAC dialog from the INVITE this side sent and a 1xx (with To tag) or 2xx. */
int sip_dialog_create_uac(struct sip_dialog **out, const struct sip_msg *invite,
			  const struct sip_msg *resp, const char *local_contact);
void sip_dialog_destroy(struct sip_dialog *d);

/* Slices into the dialog, valid until it is destroyed (the remote target: until
 * the next target refresh). */
struct str sip_dialog_call_id(const struct sip_dialog *d);
struct str sip_dialog_local_tag(const struct sip_dialog *d);
struct str sip_dialog_remote_tag(const struct sip_dialog *d);
struct str sip_dialog_remote_target(const struct sip_dialog *d);
/* False for a UAC dialog made from a 1xx until a 2xx confirms it. */
bool sip_dialog_confirmed(const struct sip_dialog *d);
/* §12.1.1: the dialog was made over TLS with a sips Request-URI. */
bool sip_dialog_secure(const struct sip_dialog *d);

/* Whether a message belongs to this dialog (Call-ID and both tags, §12.2.2). */
bool sip_dialog_matches(const struct sip_dialog *d, const struct sip_msg *msg);

/*
 * Accepts an in-dialog request: enforces the remote CSeq rule (§12.2.2: a
 * lower CSeq than the last one gets 500) and, for a target refresh (re-INVITE,
 * UPDATE), updates the remote target from Contact. Returns 0 or the status to
 * answer.
 */
int sip_dialog_recv_request(struct sip_dialog *d, const struct sip_msg *req);

/*
 * Takes a response received in the dialog (to the INVITE that made it, or to
 * a request printed with sip_dialog_request_print). A 2xx to INVITE confirms
 * an early UAC dialog and recomputes its route set (§13.2.2.4); a 2xx to a
 * target refresh replaces the remote target from Contact (§12.2.1.2).
 * 0, -EINVAL when the response is not this dialog's, -EBADMSG, -ENOMEM.
 */
int sip_dialog_recv_response(struct sip_dialog *d, const struct sip_msg *resp);

/*
 * Prints an in-dialog request (§12.2.1.1): Request-URI is the remote target,
 * Route from the route set (loose routing; when the first route lacks ;lr it
 * is a strict router: it becomes the Request-URI and the remote target goes
 * last in Route), From/To with the tags, Call-ID, the next local CSeq (ACK and
 * CANCEL reuse the INVITE's: `cseq_override` when non-zero, else the last
 * INVITE's — printed here, or the one that made a UAC dialog; a non-zero
 * `cseq_override` for another method is used as is and does not advance the
 * local CSeq), Max-Forwards 70, a Via with `via_sent_by` ("host:port"),
 * `transport`, ;rport and a fresh branch (CANCEL: the branch of the last
 * INVITE printed here, §9.1), Contact for the methods that take one (INVITE,
 * UPDATE, OPTIONS, SUBSCRIBE, NOTIFY, REFER), `extra_headers` (complete
 * lines or NULL) and `body` with Content-Length.
 * 0, -EINVAL, -EBADMSG (a stored route does not parse), -ENOMEM.
 * sip_dialog_next_hop() says where to send it.
 */
int sip_dialog_request_print(struct buf *out, struct sip_dialog *d, enum sip_method method,
			     uint32_t cseq_override, enum sip_transport transport,
			     const char *via_sent_by, const char *extra_headers, struct str body);
/* The host and port the next in-dialog request goes to (first Route or remote
 * target; `port` 0 when the URI has none), and the transport its URI asks for
 * (transport= parameter, TLS for sips, else UDP). Slices into the dialog. */
int sip_dialog_next_hop(const struct sip_dialog *d, struct str *host, uint16_t *port,
			enum sip_transport *transport);
/* The peer in-dialog requests go to when the far end sits behind NAT: the
 * address the dialog-creating request came from (symmetric signalling). */
const struct sip_peer *sip_dialog_peer(const struct sip_dialog *d);

/* ======================================================================== */
/* Transport (RFC 3261 §18, RFC 3581): sockets on one libuv loop             */
/* ======================================================================== */

/*
 * A transport set holds the listening sockets of one profile and the TCP
 * connections accepted or opened through them. It moves bytes only:
 * datagrams and framed stream messages go up through recv_cb; parsing and
 * everything above is the caller's. Receiving does not allocate: datagrams
 * land in one buffer owned by the set, valid only during recv_cb.
 */
struct uv_loop_s;
struct sip_transport_set;

/* `data` is valid only during the call. */
typedef void (*sip_transport_recv_cb)(void *arg, const struct sip_peer *src, const char *data,
				      size_t len);

int sip_transport_set_create(struct sip_transport_set **out, struct uv_loop_s *loop,
			     sip_transport_recv_cb recv_cb, void *arg);
/* Listens on `addr` (UDP, or TCP with accept). 0 or a negative errno (e.g. -EADDRINUSE). */
int sip_transport_listen(struct sip_transport_set *ts, enum sip_transport transport,
			 const struct net_addr *addr);
/*
 * Sends bytes to a peer. UDP: one datagram from the listener of the peer's
 * family. TCP: on connection `dest->conn_id` if it is still open, else on any open
 * connection to `dest->remote`, else on a new connection (bytes queue until it
 * connects). 0 or a negative errno; a failed connect is only logged.
 */
int sip_transport_send(struct sip_transport_set *ts, const struct sip_peer *dest,
		       const char *data, size_t len);
/* Where a response goes, from where its request came from and the request's
 * top Via (RFC 3261 §18.2.2 with RFC 3581 rport). */
void sip_transport_response_peer(const struct sip_peer *src, const struct sip_via *via,
				 struct sip_peer *out);
/* The "host:port" this set's listener of `transport` and family advertises in Via
 * and Contact (ext_host when set, else the bound address). */
const char *sip_transport_sent_by(const struct sip_transport_set *ts,
				  enum sip_transport transport, int family);
void sip_transport_set_ext_host(struct sip_transport_set *ts, const char *ext_host);
/* Closes every socket; `done_cb` runs once all are closed (then the set is freed). */
void sip_transport_set_close(struct sip_transport_set *ts, void (*done_cb)(void *arg),
			     void *arg);

/* ======================================================================== */
/* User agent: one SIP profile (listeners, transactions, inbound calls)      */
/* ======================================================================== */

struct sip_ua;
struct sip_call;

struct sip_ua_cbs {
	/* Whether a new INVITE (or REGISTER) from `src` is allowed. NULL: all are. */
	bool (*acl_cb)(void *arg, const struct sip_peer *src);
	/* A new inbound call. The owner answers it with sip_call_respond(); it may
	 * do so later, from another turn of the loop. */
	void (*invite_cb)(void *arg, struct sip_call *call);
	/* The far end ended the call (CANCEL, BYE, ACK timeout): `status` is the
	 * SIP status that best describes it (487 for CANCEL, 200 for BYE, 408 for an
	 * ACK timeout). The call stays valid until sip_call_release(). */
	void (*call_ended_cb)(void *arg, struct sip_call *call, uint16_t status);
	/*
	 * A re-INVITE or UPDATE in an answered call with a session description
	 * `offer` (empty for a re-INVITE without one: then an offer is wanted).
	 * The owner writes its answer (or offer) into `answer` and returns 200,
	 * or returns the error status to send (488, 491…). NULL: the UA sends its
	 * last session description again.
	 * Also called for an outbound call placed without an offer (late offer),
	 * with the 2xx's offer, just before answer_cb: the answer goes in the ACK
	 * (a status other than 2xx, or no offer_cb: an ACK without body).
	 */
	uint16_t (*offer_cb)(void *arg, struct sip_call *call, struct str offer,
			     struct buf *answer);
	/* The ACK for the 2xx arrived (with the answer when the 2xx carried an
	 * offer: late offer, RFC 3261 §13.2.1). May be NULL. */
	void (*ack_cb)(void *arg, struct sip_call *call, const struct sip_msg *ack);
	/* An outbound call (sip_call_start) got a provisional response (180, 183…)
	 * from the far end; `resp` is borrowed for the call, its body is the early
	 * session description when it has one. May be NULL. */
	void (*progress_cb)(void *arg, struct sip_call *call, const struct sip_msg *resp);
	/* An outbound call was answered: the first 2xx (its body the answer to our
	 * offer); the UA has sent the ACK. Later 2xx from other forks are ACKed and
	 * ended with BYE by the UA. May be NULL. */
	void (*answer_cb)(void *arg, struct sip_call *call, const struct sip_msg *resp);
	/* An INFO inside the call's dialog (DTMF: application/dtmf-relay and
	 * application/dtmf). `req` is borrowed for the call (its body and
	 * Content-Type). Returns the status to answer with (200; 415 for a body
	 * the owner does not take). NULL: every INFO gets 200. */
	uint16_t (*info_cb)(void *arg, struct sip_call *call, const struct sip_msg *req);
	void *arg;
};

struct sip_ua_config {
	const char *name;     /* the profile's name, for logs */
	struct net_addr addr; /* sip-ip and sip-port */
	bool enable_udp;
	bool enable_tcp;
	const char *ext_host; /* ext-sip-ip: advertised instead of the bound address, or NULL */
	const char *user_agent; /* "irisx/0.1.0" */
	/* The transaction timers (copied); NULL: RFC 3261's (T1 500 ms, so Timer B,
	 * an unanswered INVITE, is 32 s). Shorter ones serve tests on loopback. */
	const struct sip_txn_timers *timers;
};

int sip_ua_create(struct sip_ua **out, struct uv_loop_s *loop, const struct sip_ua_config *cfg,
		  const struct sip_ua_cbs *cbs);
/* "host:port" the UA advertises for `transport` and address family (AF_INET…). */
const char *sip_ua_sent_by(const struct sip_ua *ua, enum sip_transport transport, int family);
/* Stops taking new calls: INVITEs get 503 from now on. */
void sip_ua_drain(struct sip_ua *ua);
/* Live calls plus pending transactions: 0 when a drained UA can close. */
size_t sip_ua_busy(const struct sip_ua *ua);
/* Closes sockets and frees everything once closed; `done_cb` may be NULL.
 * Requests still in flight (a gateway's unregister answering a challenge)
 * are waited for first, at most 2 seconds, INVITEs getting 503 meanwhile. */
void sip_ua_destroy(struct sip_ua *ua, void (*done_cb)(void *arg), void *arg);

/*
 * Message counters (GET /metrics): every message the UA received (parsed)
 * or sent (retransmissions included), by direction, method (a response's
 * from its CSeq) and status (0 for a request). Plain integers updated on
 * the UA's loop; read them from that loop. At most SIP_COUNT_SLOTS distinct
 * keys are kept; messages past that are counted in `overflow` only.
 */
enum { SIP_COUNT_SLOTS = 256 };
struct sip_msg_count {
	bool out;		/* sent; false: received */
	enum sip_method method; /* SIP_METHOD_UNKNOWN: an extension method */
	uint16_t status;	/* 0: a request */
	uint64_t count;
};
/* Calls cb for each key counted so far (order unspecified); returns the
 * overflow count. */
uint64_t sip_ua_counts_each(const struct sip_ua *ua,
			    void (*cb)(void *arg, const struct sip_msg_count *c), void *arg);
/* The method and status of a printed message's start line (and, for a
 * response, its CSeq): 0, or -EBADMSG when the bytes are not a SIP message.
 * Pure: used for the counters of what the UA sends. */
int sip_msg_peek(const char *data, size_t len, enum sip_method *method, uint16_t *status);

/* ---- calls (inbound: invite_cb; outbound: sip_call_start) ---- */

/* The INVITE that created the call, received or sent (borrowed; outbound: the
 * last one sent, NULL while the destination is being resolved). */
const struct sip_msg *sip_call_invite(const struct sip_call *call);
/* Where the INVITE came from, or (outbound) the target it went to; NULL like
 * sip_call_invite(). */
const struct sip_peer *sip_call_peer(const struct sip_call *call);
void sip_call_set_owner(struct sip_call *call, void *owner);
void *sip_call_owner(const struct sip_call *call);

/*
 * Answers the INVITE with a provisional (101–199) or a final non-2xx
 * response. A final one ends the call on the SIP side (the owner still calls
 * sip_call_release()). -EINVAL once a final response was sent, and for an
 * outbound call (as sip_call_answer and sip_call_progress); use
 * sip_call_answer() for 2xx.
 */
int sip_call_respond(struct sip_call *call, uint16_t status, const char *reason);
/*
 * Answers with 200 OK carrying `body` of `content_type` (the session
 * description; both copied). Creates the dialog; the 2xx is retransmitted
 * until the ACK arrives (RFC 6026). In-dialog requests are then answered by
 * the UA: BYE ends the call (call_ended_cb with 200), re-INVITE and UPDATE go
 * to offer_cb, INFO and OPTIONS get 200.
 */
int sip_call_answer(struct sip_call *call, const char *content_type, struct str body);
/*
 * Early media: 183 Session Progress with `body` (the SDP), creating the early
 * dialog; may be called again (the same To tag). -EINVAL after the final response.
 */
int sip_call_progress(struct sip_call *call, const char *content_type, struct str body);
bool sip_call_answered(const struct sip_call *call);
/*
 * Ends the call from this side: BYE when answered (`extra_headers`, complete
 * lines or NULL, such as a Reason header), else the final `status`; an
 * unanswered outbound call gets CANCEL, which carries `extra_headers` too
 * (RFC 3326 Reason).
 */
int sip_call_hangup(struct sip_call *call, uint16_t status, const char *extra_headers);
/* The owner is done with the call; the UA frees it when its transactions end. */
void sip_call_release(struct sip_call *call);
/*
 * Sends INFO in the call's dialog with `body` of `content_type` (both copied;
 * DTMF as application/dtmf-relay). Nobody waits for the answer: the
 * transaction runs on its own. -ENOTCONN before a dialog exists or once the
 * call ended, -EINVAL for a content type with CR or LF, -ENOMEM.
 */
int sip_call_info(struct sip_call *call, const char *content_type, struct str body);

/* ---- outbound calls (UAC, RFC 3261 §13.2) ---- */

struct sip_call_out {
	const char *request_uri;   /* "sip:+15551234567@sip.carrier.example" */
	const char *from;          /* From without tag: "\"Alice\" <sip:+1555@irisx.example>" */
	const char *to;            /* To without tag; NULL: "<" request_uri ">" */
	/* Where the INVITE goes (an outbound proxy, the gateway's proxy): a SIP
	 * URI or host[:port], resolved per RFC 3263 (sip_resolve_start). NULL: the
	 * Request-URI's host. A loose outbound proxy: the later requests of the
	 * call (ACK, BYE, CANCEL…) go there too; no Route header is added. */
	const char *proxy;
	const char *extra_headers; /* complete lines (P-Asserted-Identity, X-…) or NULL */
	const char *content_type;  /* of body: "application/sdp" */
	struct str body;           /* the offer; empty: late offer (answer in the ACK) */
	/* Credentials for 401/407 (digest, sip_auth_*); NULL username: a challenge
	 * fails the call with its status. One challenge per request is answered; a
	 * second one for the same request fails the call. The requests the call
	 * sends in its dialog later (BYE, INFO) answer theirs the same way: once,
	 * a second challenge being their outcome. */
	const char *auth_username;
	const char *auth_password;
	const char *contact_user; /* the user part of our Contact; NULL: "irisx" */
};

/*
 * Starts an outbound call: resolves the destination (proxy, else the
 * Request-URI; targets tried in order on 503 and timeouts, RFC 3263 §4.3),
 * sends the INVITE, answers a 401/407 once with credentials, and reports
 * through the UA's callbacks: progress_cb for each 1xx, answer_cb for the 2xx
 * (the ACK is sent by the UA), call_ended_cb when it fails — the final status
 * ≥ 300, 408 when no target answered in time, 503 when the name did not
 * resolve or every target failed at the transport. Later, BYE from the far
 * end comes to call_ended_cb with 200, re-INVITE/UPDATE to offer_cb, as for
 * inbound calls. Every string of `params` is copied; `owner` is set before
 * any callback, none of which runs before this returns.
 * sip_call_hangup() on an outbound call sends CANCEL before the answer (once
 * a provisional response came, §9.1; a 2xx that crosses the CANCEL is ACKed
 * and ended with BYE) and BYE after it; the final response that follows a
 * CANCEL (487) is not reported: the owner asked. Before any provisional
 * response the CANCEL waits for one (§9.1), or Timer B ends the INVITE.
 * -EINVAL for a request_uri, from or to that does not parse (or
 * extra_headers that break the message), -ESHUTDOWN on a draining UA,
 * -ENOMEM, or the transport's error when the INVITE to an address written
 * as an IP (used at once, no lookup) cannot be sent; *out is set only on
 * success.
 */
int sip_call_start(struct sip_call **out, struct sip_ua *ua, const struct sip_call_out *params,
		   void *owner);
/* Whether the call was placed by this side (sip_call_start). */
bool sip_call_outbound(const struct sip_call *call);

/* ======================================================================== */
/* Digest authentication, client side (RFC 7616, RFC 3261 §22)               */
/* ======================================================================== */

enum sip_auth_algorithm {
	SIP_AUTH_MD5,
	SIP_AUTH_MD5_SESS,
	SIP_AUTH_SHA256,
	SIP_AUTH_SHA256_SESS,
};

/* One WWW-Authenticate or Proxy-Authenticate challenge: slices into the header
 * value (quotes removed; escapes are kept as written). */
struct sip_auth_challenge {
	enum sip_auth_algorithm algorithm; /* MD5 when absent */
	struct str realm;
	struct str nonce;
	struct str opaque; /* empty when absent */
	bool has_opaque;
	bool qop_auth; /* qop offered and includes "auth": answer with qop=auth */
	bool stale;
	bool has_algorithm; /* the challenge named its algorithm: the answer echoes it */
};

/*
 * Parses one challenge ("Digest realm=\"…\", nonce=\"…\", …"). -EINVAL when
 * malformed (no realm or nonce, bad quoting), -ENOTSUP for another scheme,
 * an unknown algorithm, or a qop list without "auth" (auth-int only).
 * When `value` holds several challenges, the first one is parsed and the
 * rest is not looked at (sip_auth_challenge_pick reads them all).
 */
int sip_auth_challenge_parse(struct sip_auth_challenge *out, struct str value);
/*
 * The challenge to answer in a 401 (WWW-Authenticate) or 407
 * (Proxy-Authenticate) response: the first usable one with the strongest
 * algorithm (SHA-256 before MD5, RFC 7616 §3.7). -ENOENT when none is usable,
 * -EINVAL when `resp` is not a 401 or 407. *out's slices point into `resp`.
 */
int sip_auth_challenge_pick(struct sip_auth_challenge *out, const struct sip_msg *resp);
/*
 * Appends the whole header line answering `ch`: "Authorization: Digest …\r\n",
 * or "Proxy-Authorization: …" when `proxy` (a 407). `method` and `uri` are
 * the request's (the Request-URI as printed), `nc` the nonce count (1 for a
 * fresh nonce), `cnonce` NULL for a random one. -EINVAL for a NULL username
 * or method, nc 0, or a CR/LF in any string (a NULL password is empty);
 * -ENOMEM, or -EIO when libcrypto refuses the hash. Nothing is appended on
 * failure.
 */
int sip_auth_credentials_print(struct buf *out, const struct sip_auth_challenge *ch, bool proxy,
			       const char *method, struct str uri, const char *username,
			       const char *password, uint32_t nc, const char *cnonce);

/* ======================================================================== */
/* Locating SIP servers (RFC 3263, without NAPTR)                            */
/* ======================================================================== */

struct sip_resolve;
enum { SIP_RESOLVE_MAX_TARGETS = 8 };

/* err 0 with 1..SIP_RESOLVE_MAX_TARGETS targets in the order to try them
 * (`targets` borrowed for the call; `local` is left zero), or a negative errno:
 * -ENOENT (no such name, no address), -EINVAL (not a URI or host). */
typedef void (*sip_resolve_cb)(void *arg, int err, const struct sip_peer *targets, size_t count);

/*
 * Where to send a request for `target`, a SIP URI ("sip:host;transport=tcp",
 * "sips:…") or host[:port]: a literal IP address is used as is; a name with a
 * port is looked up as A and AAAA; a name without a port as SRV
 * (_sip._udp, _sip._tcp or _sips._tcp by the transport parameter, UDP when
 * none; priority then weight order, RFC 2782), falling back to A/AAAA on
 * 5060 (5061 for sips). Lookups run in libuv's thread pool: the loop never
 * waits. `cb` always runs later on the loop, never before this returns.
 * Returns 0 (with *out, valid until cb runs or sip_resolve_cancel) or
 * -EINVAL / -ENOMEM (then cb never runs). `out` may be NULL.
 */
int sip_resolve_start(struct sip_resolve **out, struct uv_loop_s *loop, struct str target,
		      sip_resolve_cb cb, void *arg);
/* The callback will not run; the lookup finishes in the pool and frees itself. */
void sip_resolve_cancel(struct sip_resolve *r);

/* ======================================================================== */
/* Gateways: registration and OPTIONS keep-alive toward a trunk              */
/* ======================================================================== */

/* FreeSWITCH's registration states (sofia status gateway, sofia::gateway_state). */
#define SIP_GATEWAY_STATES(X)                                                                     \
	X(UNREGED)                                                                                \
	X(TRYING)                                                                                 \
	X(REGISTER)                                                                               \
	X(REGED)                                                                                  \
	X(UNREGISTER)                                                                             \
	X(FAILED)                                                                                 \
	X(FAIL_WAIT)                                                                              \
	X(EXPIRED)                                                                                \
	X(NOREG)                                                                                  \
	X(DOWN)                                                                                   \
	X(TIMEOUT)

enum sip_gateway_state {
#define X(name) SIP_GW_##name,
	SIP_GATEWAY_STATES(X)
#undef X
};
/* "REGED". */
const char *sip_gateway_state_name(enum sip_gateway_state s);

struct sip_gateway;

/* The gateway's parameters (sofia.conf <gateway>, defaults already applied). */
struct sip_gateway_config {
	const char *name;
	const char *proxy; /* SIP URI or host[:port] */
	const char *realm;
	const char *username;
	const char *password;
	const char *from_user;
	const char *from_domain;
	const char *extension;	    /* the user of our Contact for calls in */
	const char *contact_params; /* appended to the Contact URI, or NULL */
	enum sip_transport register_transport;
	bool do_register;
	uint32_t expire_seconds; /* REGISTER Expires asked (3600) */
	uint32_t retry_seconds;	 /* after a failure (30) */
	uint32_t ping_seconds;	 /* OPTIONS every this often; 0: no ping (always UP) */
};

struct sip_gateway_status {
	enum sip_gateway_state state;
	bool up;		 /* ping status: the last OPTIONS was answered (any response) */
	uint16_t last_status;	 /* the last final status to a REGISTER/OPTIONS (408: timeout) */
	char last_phrase[64];	 /* its reason phrase */
	uint32_t expires;	 /* granted by the registrar, 0 when not registered */
	uint64_t state_since_ms; /* monotonic (uv_now) time of the last state change */
	uint64_t up_since_ms;	 /* monotonic time `up` last changed (or the gateway started) */
	uint64_t next_ping_ms;	 /* monotonic time the next OPTIONS is due; 0: no ping */
	uint64_t pings_ok, pings_failed;
	struct net_addr registrar; /* where REGISTER went (Register-Network-IP/Port); AF_UNSPEC: not yet */
	enum sip_transport transport;
};

/* The registration state or the ping status changed. */
typedef void (*sip_gateway_cb)(void *arg, struct sip_gateway *gw);

/*
 * Starts a gateway on a profile's UA: with do_register it REGISTERs (digest
 * auth, re-REGISTER before expiry, retry_seconds after a failure: TRYING →
 * REGED, or FAILED → FAIL_WAIT → TRYING …); without it the state is NOREG.
 * With ping_seconds it sends OPTIONS that often and reports UP/DOWN. The
 * config's strings are copied. The callback never runs before this returns.
 */
int sip_gateway_create(struct sip_gateway **out, struct sip_ua *ua,
		       const struct sip_gateway_config *cfg, sip_gateway_cb cb, void *arg);
const char *sip_gateway_name(const struct sip_gateway *gw);
void sip_gateway_status(const struct sip_gateway *gw, struct sip_gateway_status *out);
/* Stops: a registered gateway sends REGISTER with Expires: 0 (best effort,
 * not awaited); no callback runs after this. Before sip_ua_destroy, which
 * keeps the UA open until that REGISTER's outcome (a challenge is answered
 * once) or for 2 seconds at most. */
void sip_gateway_destroy(struct sip_gateway *gw);

#endif
