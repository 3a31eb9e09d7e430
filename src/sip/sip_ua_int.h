/*
 * What ua.c (the profile's user agent) and call.c (its inbound call sessions)
 * share and nothing outside src/sip sees.
 */
#ifndef IRISX_SIP_UA_INT_H
#define IRISX_SIP_UA_INT_H

#include "sip.h"

#include <uv.h>

#define UA_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"

struct sip_call {
	struct sip_ua *ua;
	struct hmap_node by_call_id;
	struct sip_txn *stx;	   /* the INVITE server transaction until its final response */
	struct sip_msg *invite;	   /* a reference */
	struct sip_dialog *dialog; /* once answered */
	char *local_body;	   /* the answer's session description (owned) */
	size_t local_body_len;
	char *local_extra;   /* Contact and Content-Type lines for 2xx (owned) */
	struct sip_txn *bye; /* our BYE's client transaction while it runs */
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

/* ua.c */
/* Called after every entry into the transaction layer. */
void sip__ua_timer_rearm(struct sip_ua *ua);
void sip__ua_log_peer(const char *what, const struct sip_peer *src, const char *detail);
/* 405 or 501 with Allow, for a method the UA does not serve where it arrived. */
void sip__ua_refuse_method(struct sip_txn *stx, const struct sip_msg *req);

/* call.c */
void sip__call_free(struct sip_call *call);
/* The call whose dialog (or, before the answer, whose INVITE) `msg` belongs to. */
struct sip_call *sip__call_find(struct sip_ua *ua, const struct sip_msg *msg);
/* A new INVITE, a CANCEL, and requests within a call's dialog. */
void sip__ua_invite(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req);
void sip__ua_cancel(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req);
void sip__ua_in_dialog(struct sip_ua *ua, struct sip_txn *stx, struct sip_msg *req);

#endif
