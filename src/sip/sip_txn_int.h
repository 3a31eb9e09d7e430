/*
 * Internals of the SIP transaction layer (txn.c, txn_server.c, txn_client.c,
 * txn_heap.c, txn_table.c). Nothing outside src/sip includes this file; the
 * unit tests do, to check the heap and the hash table on their own.
 *
 *  - One binary min-heap per layer holds every pending deadline. A timer is a
 *    small struct embedded in its transaction that knows its heap index, so
 *    arming, re-arming and cancelling are O(log n) and allocate nothing once
 *    the heap has room (the layer reserves room when a transaction is made).
 *  - Intrusive chained hash tables, power-of-two sized, keyed by a seeded
 *    SipHash-2-4 so that a peer choosing branches cannot pile them into one
 *    bucket. They grow and shrink with the load so that memory follows the
 *    number of live transactions.
 */
#ifndef IRISX_SIP_TXN_INT_H
#define IRISX_SIP_TXN_INT_H

#include "sip/sip.h"

/* ---- timer heap ----------------------------------------------------------- */

enum { SIP__TIMER_IDLE = UINT32_MAX };

struct sip__timer {
	uint64_t due;  /* deadline, layer milliseconds */
	uint64_t seq;  /* ties between equal deadlines fire in arming order */
	uint32_t idx;  /* position in the heap, SIP__TIMER_IDLE when not armed */
	uint32_t kind; /* which of its owner's timers this is (the owner's business) */
};

struct sip__heap {
	struct sip__timer **v;
	size_t n;
	size_t cap;
	uint64_t seq;
};

void sip__heap_init(struct sip__heap *h);
void sip__heap_fini(struct sip__heap *h);
/* Makes room for `n` armed timers in total, so that arming never fails. */
int sip__heap_reserve(struct sip__heap *h, size_t n);
/* Gives memory back when far fewer than `n_max` timers can be armed. */
void sip__heap_shrink(struct sip__heap *h, size_t n_max);
/* Arms (or re-arms) `t` for `due`. -ENOMEM only if sip__heap_reserve was skipped. */
int sip__heap_arm(struct sip__heap *h, struct sip__timer *t, uint64_t due);
/* Disarms `t`; a no-op for an idle timer. */
void sip__heap_cancel(struct sip__heap *h, struct sip__timer *t);
/* The earliest timer, or NULL. */
static inline struct sip__timer *sip__heap_top(const struct sip__heap *h)
{
	return h->n ? h->v[0] : NULL;
}
static inline void sip__timer_init(struct sip__timer *t)
{
	t->due = 0;
	t->seq = 0;
	t->idx = SIP__TIMER_IDLE;
}
static inline bool sip__timer_armed(const struct sip__timer *t)
{
	return t->idx != SIP__TIMER_IDLE;
}

/* ---- hash table ----------------------------------------------------------- */

struct sip__hnode {
	struct sip__hnode *next;
	uint64_t hash;
};

struct sip__htab {
	struct sip__hnode **b;
	size_t mask; /* bucket count - 1 */
	size_t n;
};

int sip__htab_init(struct sip__htab *t);
void sip__htab_fini(struct sip__htab *t);
/* Never fails: when growing is impossible the chains just get longer. */
void sip__htab_insert(struct sip__htab *t, struct sip__hnode *node, uint64_t hash);
void sip__htab_remove(struct sip__htab *t, struct sip__hnode *node);
/* The first / next node whose hash equals `hash`; the caller compares keys. */
struct sip__hnode *sip__htab_first(const struct sip__htab *t, uint64_t hash);
struct sip__hnode *sip__htab_next(const struct sip__hnode *node, uint64_t hash);

/* SipHash-2-4 of the concatenation of the pieces fed to it. */
struct sip__hasher {
	uint64_t v0, v1, v2, v3;
	uint64_t tail; /* bytes not yet compressed, little-endian */
	size_t total;
};
void sip__hash_begin(struct sip__hasher *hs, const uint8_t key[16]);
void sip__hash_feed(struct sip__hasher *hs, const void *data, size_t len);
uint64_t sip__hash_end(struct sip__hasher *hs);

/* ---- transactions --------------------------------------------------------- */

enum sip__txn_kind {
	SIP__TXN_CLIENT_INVITE,
	SIP__TXN_CLIENT,
	SIP__TXN_SERVER_INVITE,
	SIP__TXN_SERVER,
};

enum sip__txn_state {
	SIP__TXN_CALLING, /* INVITE client, before any response */
	SIP__TXN_TRYING,  /* non-INVITE client and server, before any response */
	SIP__TXN_PROCEEDING,
	SIP__TXN_COMPLETED,
	SIP__TXN_CONFIRMED, /* INVITE server: the ACK for its non-2xx came */
	SIP__TXN_ACCEPTED,  /* RFC 6026: a 2xx to INVITE was sent or received */
	SIP__TXN_TERMINATED,
};

/*
 * What a non-INVITE server transaction keeps once its final response is
 * sent: the keys §17.2.3 matches on and what §18.2.2 routing needs, in one
 * allocation with the response bytes. The request itself is released.
 */
struct sip__txn_slim {
	struct sip_via via; /* slices point into text[] */
	struct sip_peer src;
	size_t resp_len;
	char text[]; /* the response bytes, then the Via strings */
};

struct sip_txn {
	struct sip_txn_layer *layer;
	struct sip_txn *prev, *next; /* every live transaction, for destroy */
	struct sip__hnode by_branch; /* branch table (magic-cookie branches) */
	struct sip__hnode by_dialog; /* Call-ID + CSeq number + From tag table */
	struct sip__timer retrans;   /* A, E, G, or the 2xx retransmission */
	struct sip__timer life;	     /* B, D, F, H, I, J, K, L, M */
	uint8_t kind;		     /* enum sip__txn_kind */
	uint8_t state;		     /* enum sip__txn_state */
	bool reliable;
	bool cookie; /* branch starts with z9hG4bK */
	bool in_branch_tab;
	bool in_dialog_tab;
	bool acked;		/* INVITE server: the ACK for its 2xx arrived */
	bool cancel_guard;	/* INVITE client: CANCEL sent, 64*T1 to a final response */
	unsigned busy;		/* nesting of callbacks running with this txn */
	uint16_t status;	/* last response sent or received, 0 before any */
	enum sip_method method; /* the request's method (INVITE for an INVITE txn) */
	uint32_t interval;	/* current retransmission interval, ms */
	struct sip_msg *req;	/* reference; NULL once slimmed */
	struct sip__txn_slim *slim;
	char *resp; /* the last response sent (server) or the ACK (INVITE client) */
	size_t resp_len;
	char *to_tag; /* INVITE server: the To tag of its final response (RFC 2543 ACK) */
	void *owner;
	/* client side */
	struct sip_peer dest;
	sip_txn_response_cb cb;
	void *cb_arg;
};

struct sip_txn_layer {
	struct sip_txn_layer_cbs cbs;
	struct sip_txn_timers t;
	struct sip__heap heap;
	struct sip__htab branch_tab;
	struct sip__htab dialog_tab;
	struct sip_txn *all; /* list head */
	size_t count;
	uint8_t key[16]; /* hash seed */
};

/* The top Via a server transaction matches and routes with. */
static inline const struct sip_via *sip__txn_via(const struct sip_txn *tx)
{
	return tx->req ? &tx->req->via : &tx->slim->via;
}

static inline bool sip__txn_is_server(const struct sip_txn *tx)
{
	return tx->kind >= SIP__TXN_SERVER_INVITE;
}

/* txn.c */
uint64_t sip__txn_now(const struct sip_txn_layer *layer);
bool sip__branch_has_cookie(struct str branch);
uint64_t sip__txn_branch_hash(const struct sip_txn_layer *layer, struct str branch,
			      enum sip_method method, bool server);
uint64_t sip__txn_dialog_hash(const struct sip_txn_layer *layer, const struct sip_msg *msg);
int sip__txn_alloc(struct sip_txn **out, struct sip_txn_layer *layer, enum sip__txn_kind kind,
		   struct sip_msg *req);
void sip__txn_arm(struct sip_txn *tx, struct sip__timer *t, uint64_t delay_ms);
void sip__txn_disarm(struct sip_txn *tx, struct sip__timer *t);
/* Leaves every table and timer; frees at once unless a callback holds it. */
void sip__txn_terminate(struct sip_txn *tx);
static inline void sip__txn_hold(struct sip_txn *tx)
{
	tx->busy++;
}
void sip__txn_release(struct sip_txn *tx);

/* txn_server.c */
void sip__server_recv_request(struct sip_txn_layer *layer, struct sip_msg *req);
void sip__server_timer(struct sip_txn *tx, bool retrans);

/* txn_client.c */
void sip__client_recv_response(struct sip_txn_layer *layer, struct sip_msg *resp);
void sip__client_timer(struct sip_txn *tx, bool retrans);

#endif
