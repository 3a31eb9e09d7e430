/*
 * What the files of src/core share and nothing else sees.
 */
#ifndef IRISX_CORE_INT_H
#define IRISX_CORE_INT_H

#include "core.h"
#include "sip/sip.h"

#include <uv.h>

/* A SIP profile from sofia.conf and the user agent serving it. */
struct profile {
	struct core *core;
	const struct config_profile *cfg; /* owned by core->cfg */
	struct sip_ua *ua;
};

struct core {
	uv_loop_t *loop;
	struct config *cfg;    /* owned */
	struct acl_set *acls;  /* the live set: cfg->acls, or a reloaded one */
	bool acls_reloaded;    /* acls is ours to free, not cfg's */
	struct profile *profiles;
	size_t profile_count;

	struct channel *channels; /* every live channel */
	size_t channel_count;
	/* channels waiting for their next state step (FIFO) */
	struct channel *runq_head, *runq_tail;
	uv_check_t runq_check;
	uv_idle_t runq_idle; /* keeps the loop from blocking while the queue is not empty */

	/* sessions-per-second: calls admitted in the current one-second window */
	uint64_t sps_window_ms;
	uint32_t sps_count;

	bool started;
	bool shutting_down;
	uint64_t shutdown_deadline_ms;
	uv_timer_t shutdown_timer;
	size_t open_handles;
	size_t profiles_open;
	void (*shutdown_cb)(void *arg);
	void *shutdown_arg;
};

/* channel.c */
struct channel *core__channel_create(struct core *core, enum channel_direction dir);
void core__channel_schedule(struct channel *ch);
void core__runq_init(struct core *core);
void core__runq_run(struct core *core);
/* Frees a channel at once (shutdown past its grace period). */
void core__channel_destroy(struct channel *ch);

/* endpoint_sip.c */
int core__profile_start(struct profile *p);
/* The channel reached CS_HANGUP: tell the SIP side. */
void core__endpoint_hangup(struct channel *ch);

#endif
