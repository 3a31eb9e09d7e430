/*
 * The SIP transaction layer (RFC 3261 §17, RFC 6026): its tables, its clock,
 * the life cycle every transaction shares, and dispatch of received messages
 * and expired timers to the server (txn_server.c) and client (txn_client.c)
 * state machines.
 *
 * Assumptions: one layer per loop, no locking; time only from now_cb; every
 * message given to the layer parsed successfully. A transaction may be freed
 * by a state change that happens inside a callback, so whoever calls out
 * holds it (sip__txn_hold) and lets go afterwards (sip__txn_release), which
 * frees it only if it terminated meanwhile.
 */
#include "sip_txn_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define LOG_MODULE "sip"

static const char MAGIC_COOKIE[] = "z9hG4bK";

bool sip__branch_has_cookie(struct str branch)
{
	return branch.len >= sizeof(MAGIC_COOKIE) - 1 &&
	       memcmp(branch.p, MAGIC_COOKIE, sizeof(MAGIC_COOKIE) - 1) == 0;
}

void sip_branch_generate(char out[SIP_BRANCH_LEN])
{
	memcpy(out, MAGIC_COOKIE, sizeof(MAGIC_COOKIE) - 1);
	random_hex(out + sizeof(MAGIC_COOKIE) - 1, (SIP_BRANCH_LEN - sizeof(MAGIC_COOKIE)) / 2);
}

uint64_t sip__txn_now(const struct sip_txn_layer *layer)
{
	return layer->cbs.now_cb(layer->cbs.arg);
}

uint64_t sip__txn_branch_hash(const struct sip_txn_layer *layer, struct str branch,
			      enum sip_method method, bool server)
{
	struct sip__hasher hs;
	uint8_t tail[2] = {(uint8_t)method, server};
	sip__hash_begin(&hs, layer->key);
	sip__hash_feed(&hs, branch.p, branch.len);
	sip__hash_feed(&hs, tail, sizeof(tail));
	return sip__hash_end(&hs);
}

uint64_t sip__txn_dialog_hash(const struct sip_txn_layer *layer, const struct sip_msg *msg)
{
	struct sip__hasher hs;
	uint8_t num[4];
	for (unsigned i = 0; i < 4; i++)
		num[i] = (uint8_t)(msg->cseq.num >> (8 * i));
	sip__hash_begin(&hs, layer->key);
	sip__hash_feed(&hs, msg->call_id.p, msg->call_id.len);
	sip__hash_feed(&hs, num, sizeof(num));
	sip__hash_feed(&hs, msg->from.tag.p, msg->from.tag.len);
	return sip__hash_end(&hs);
}

/* ---- life cycle ------------------------------------------------------------ */

enum { TIMER_RETRANS = 0, TIMER_LIFE = 1 };

int sip__txn_alloc(struct sip_txn **out, struct sip_txn_layer *layer, enum sip__txn_kind kind,
		   struct sip_msg *req)
{
	/* Two timers per transaction at most: with this room, arming never fails. */
	if (sip__heap_reserve(&layer->heap, 2 * (layer->count + 1)))
		return -ENOMEM;
	struct sip_txn *tx = calloc(1, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	tx->layer = layer;
	tx->kind = (uint8_t)kind;
	sip__timer_init(&tx->retrans);
	sip__timer_init(&tx->life);
	tx->retrans.kind = TIMER_RETRANS;
	tx->life.kind = TIMER_LIFE;
	tx->req = sip_msg_ref(req);
	tx->method = req->method;
	tx->next = layer->all;
	if (layer->all)
		layer->all->prev = tx;
	layer->all = tx;
	layer->count++;
	*out = tx;
	return 0;
}

static void txn_free(struct sip_txn *tx)
{
	if (!tx->slim)
		free(tx->resp); /* otherwise it points into the slim block */
	free(tx->slim);
	free(tx->to_tag);
	sip_msg_unref(tx->req);
	free(tx);
}

void sip__txn_arm(struct sip_txn *tx, struct sip__timer *t, uint64_t delay_ms)
{
	uint64_t now = sip__txn_now(tx->layer);
	uint64_t due = delay_ms > UINT64_MAX - now ? UINT64_MAX : now + delay_ms;
	if (sip__heap_arm(&tx->layer->heap, t, due))
		log_err("transaction timer lost: heap full"); /* reserved at alloc: not reached */
}

void sip__txn_disarm(struct sip_txn *tx, struct sip__timer *t)
{
	sip__heap_cancel(&tx->layer->heap, t);
}

void sip__txn_terminate(struct sip_txn *tx)
{
	struct sip_txn_layer *layer = tx->layer;
	if (tx->state == SIP__TXN_TERMINATED)
		return;
	tx->state = SIP__TXN_TERMINATED;
	sip__heap_cancel(&layer->heap, &tx->retrans);
	sip__heap_cancel(&layer->heap, &tx->life);
	if (tx->in_branch_tab)
		sip__htab_remove(&layer->branch_tab, &tx->by_branch);
	if (tx->in_dialog_tab)
		sip__htab_remove(&layer->dialog_tab, &tx->by_dialog);
	tx->in_branch_tab = tx->in_dialog_tab = false;
	if (tx->prev)
		tx->prev->next = tx->next;
	else
		layer->all = tx->next;
	if (tx->next)
		tx->next->prev = tx->prev;
	tx->prev = tx->next = NULL;
	layer->count--;
	sip__heap_shrink(&layer->heap, 2 * layer->count);
	if (!tx->busy)
		txn_free(tx);
}

void sip__txn_release(struct sip_txn *tx)
{
	if (--tx->busy == 0 && tx->state == SIP__TXN_TERMINATED)
		txn_free(tx);
}

/* ---- layer ------------------------------------------------------------------ */

int sip_txn_layer_create(struct sip_txn_layer **out, const struct sip_txn_layer_cbs *cbs,
			 const struct sip_txn_timers *timers)
{
	static const struct sip_txn_timers defaults = {500, 4000, 5000};
	if (!out || !cbs || !cbs->now_cb || !cbs->send_request_cb || !cbs->send_response_cb ||
	    !cbs->request_cb)
		return -EINVAL;
	if (timers &&
	    (!timers->t1_ms || !timers->t2_ms || !timers->t4_ms || timers->t2_ms < timers->t1_ms))
		return -EINVAL;
	struct sip_txn_layer *layer = calloc(1, sizeof(*layer));
	if (!layer)
		return -ENOMEM;
	layer->cbs = *cbs;
	layer->t = timers ? *timers : defaults;
	sip__heap_init(&layer->heap);
	int err = sip__htab_init(&layer->branch_tab);
	if (err)
		goto out;
	err = sip__htab_init(&layer->dialog_tab);
	if (err)
		goto out;
	for (size_t got = 0; got < sizeof(layer->key);) {
		ssize_t n = getrandom(layer->key + got, sizeof(layer->key) - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	*out = layer;
	return 0;
out:
	sip__htab_fini(&layer->branch_tab);
	sip__htab_fini(&layer->dialog_tab);
	free(layer);
	return err;
}

void sip_txn_layer_destroy(struct sip_txn_layer *layer)
{
	if (!layer)
		return;
	struct sip_txn *tx = layer->all;
	while (tx) {
		struct sip_txn *next = tx->next;
		txn_free(tx);
		tx = next;
	}
	sip__heap_fini(&layer->heap);
	sip__htab_fini(&layer->branch_tab);
	sip__htab_fini(&layer->dialog_tab);
	free(layer);
}

void sip_txn_layer_recv(struct sip_txn_layer *layer, struct sip_msg *msg)
{
	if (!layer || !msg)
		return;
	if (msg->is_request)
		sip__server_recv_request(layer, msg);
	else
		sip__client_recv_response(layer, msg);
}

uint64_t sip_txn_layer_next_deadline(const struct sip_txn_layer *layer)
{
	const struct sip__timer *t = layer ? sip__heap_top(&layer->heap) : NULL;
	return t ? t->due : UINT64_MAX;
}

void sip_txn_layer_run_timers(struct sip_txn_layer *layer)
{
	if (!layer)
		return;
	uint64_t now = sip__txn_now(layer);
	/* Take one expired timer at a time off the top and look again: whatever a
	 * callback arms, cancels or frees, the heap is the only iterator. */
	for (;;) {
		struct sip__timer *t = sip__heap_top(&layer->heap);
		if (!t || t->due > now)
			break;
		sip__heap_cancel(&layer->heap, t);
		bool retrans = t->kind == TIMER_RETRANS;
		struct sip_txn *tx =
		    (struct sip_txn *)(void *)((char *)t - (retrans
								? offsetof(struct sip_txn, retrans)
								: offsetof(struct sip_txn, life)));
		sip__txn_hold(tx);
		if (sip__txn_is_server(tx))
			sip__server_timer(tx, retrans);
		else
			sip__client_timer(tx, retrans);
		sip__txn_release(tx);
	}
}

size_t sip_txn_layer_count(const struct sip_txn_layer *layer)
{
	return layer ? layer->count : 0;
}

/* ---- accessors ---------------------------------------------------------------- */

struct sip_msg *sip_txn_request(const struct sip_txn *tx)
{
	return tx ? tx->req : NULL;
}

uint16_t sip_txn_status(const struct sip_txn *tx)
{
	return tx ? tx->status : 0;
}

void sip_txn_set_owner(struct sip_txn *tx, void *owner)
{
	if (tx)
		tx->owner = owner;
}

void *sip_txn_owner(const struct sip_txn *tx)
{
	return tx ? tx->owner : NULL;
}
