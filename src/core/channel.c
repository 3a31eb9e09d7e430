/*
 * Channels and the run queue that advances them through FreeSWITCH's states:
 *   CS_NEW → CS_INIT → CS_ROUTING → (dialplan) … → CS_HANGUP → CS_REPORTING → CS_DESTROY
 *
 * Each step runs from the loop's check phase, after the turn's I/O: network
 * callbacks only change what a channel will do next, never run it.
 */
#define LOG_MODULE "core"
#include "core_int.h"

#include <stdlib.h>
#include <string.h>

struct channel *core__channel_create(struct core *core, enum channel_direction dir)
{
	struct channel *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	arena_init(&ch->arena, 2048);
	uuid_generate(ch->uuid);
	ch->core = core;
	ch->direction = dir;
	ch->state = CS_NEW;
	ch->cause = CAUSE_NONE;
	ch->created_us = clock_wall_us();
	ch->vars_tail = &ch->vars;
	ch->next = core->channels;
	if (core->channels)
		core->channels->prev = ch;
	core->channels = ch;
	core->channel_count++;
	return ch;
}

void core__channel_destroy(struct channel *ch)
{
	struct core *core = ch->core;

	core__media_hangup(ch);
	core__op_deliver(ch); /* the executor learns it is over */
	if (ch->sip)
		core__endpoint_hangup(ch);
	if (ch->exec_free_cb)
		ch->exec_free_cb(ch->exec_state);
	ch->exec_free_cb = NULL;
	core__vars_free(ch);
	if (ch->queued) {
		/* Unlink from the run queue (rare: shutdown only). */
		struct channel **pp = &core->runq_head;
		core->runq_tail = NULL;
		while (*pp) {
			if (*pp == ch)
				*pp = ch->runq_next;
			else {
				core->runq_tail = *pp;
				pp = &(*pp)->runq_next;
			}
		}
	}
	if (ch->prev)
		ch->prev->next = ch->next;
	else
		core->channels = ch->next;
	if (ch->next)
		ch->next->prev = ch->prev;
	core->channel_count--;
	arena_fini(&ch->arena);
	free(ch);
}

static void runq_idle_cb(uv_idle_t *h)
{
	/* Nothing to do: being active makes the loop poll without blocking. */
}

void core__channel_schedule(struct channel *ch)
{
	struct core *core = ch->core;
	if (ch->queued)
		return;
	ch->queued = true;
	ch->runq_next = NULL;
	if (core->runq_tail)
		core->runq_tail->runq_next = ch;
	else
		core->runq_head = ch;
	core->runq_tail = ch;
	if (!uv_is_active((uv_handle_t *)&core->runq_idle))
		uv_idle_start(&core->runq_idle, runq_idle_cb);
}

void channel_hangup(struct channel *ch, enum core_cause cause)
{
	if (ch->state >= CS_HANGUP)
		return;
	ch->cause = cause;
	ch->hangup_us = clock_wall_us();
	ch->state = CS_HANGUP;
	log_info("[%s] hangup %s", ch->uuid, core_cause_name(cause));
	core__channel_schedule(ch);
}

void core_set_router(struct core *core, const struct core_router *router)
{
	core->router = *router;
}

void channel_execute(struct channel *ch, void *state, void (*free_cb)(void *state))
{
	if (ch->exec_free_cb && ch->exec_state != state)
		ch->exec_free_cb(ch->exec_state);
	ch->exec_state = state;
	ch->exec_free_cb = free_cb;
	if (ch->state < CS_EXECUTE)
		ch->state = CS_EXECUTE;
}

void channel_execute_done(struct channel *ch)
{
	/* Out of actions: FreeSWITCH hangs up, unless the call was parked. */
	if (ch->state == CS_EXECUTE)
		channel_hangup(ch, CAUSE_NORMAL_CLEARING);
}

void channel_park(struct channel *ch)
{
	if (channel_up(ch))
		ch->state = CS_PARK;
}

/* One state step; returns false when the channel is gone. */
static bool channel_step(struct channel *ch)
{
	/* Finished applications first: their callbacks drive the executor. */
	core__op_deliver(ch);

	switch (ch->state) {
	case CS_NEW:
		ch->state = CS_INIT;
		return true;
	case CS_INIT:
		ch->state = CS_ROUTING;
		return true;
	case CS_ROUTING:
		if (ch->core->router.route_cb) {
			ch->core->router.route_cb(ch->core->router.arg, ch);
			if (ch->state == CS_ROUTING) /* the router must decide */
				channel_hangup(ch, CAUSE_NO_ROUTE_DESTINATION);
			return true;
		}
		log_info("[%s] no dialplan: no route for %s in context %s", ch->uuid,
			 ch->destination_number ? ch->destination_number : "",
			 ch->context ? ch->context : "");
		channel_hangup(ch, CAUSE_NO_ROUTE_DESTINATION);
		return true;
	case CS_HANGUP:
		core__media_hangup(ch);
		core__op_deliver(ch);
		core__endpoint_hangup(ch);
		ch->state = CS_REPORTING;
		return true;
	case CS_REPORTING:
		ch->state = CS_DESTROY;
		return true;
	case CS_DESTROY:
		core__channel_destroy(ch);
		return false;
	default:
		return true;
	}
}

static void runq_check_cb(uv_check_t *h)
{
	core__runq_run(h->data);
}

void core__runq_init(struct core *core)
{
	uv_check_init(core->loop, &core->runq_check);
	core->runq_check.data = core;
	uv_idle_init(core->loop, &core->runq_idle);
	core->runq_idle.data = core;
	uv_check_start(&core->runq_check, runq_check_cb);
	/* The check handle alone must not keep the loop alive at shutdown. */
	uv_unref((uv_handle_t *)&core->runq_check);
}

void core__runq_run(struct core *core)
{
	/* Run the channels queued so far; steps queue their next step for later. */
	struct channel *ch = core->runq_head;
	core->runq_head = core->runq_tail = NULL;
	while (ch) {
		struct channel *next = ch->runq_next;
		ch->queued = false;
		enum channel_state before = ch->state;
		if (channel_step(ch) && ch->state != before)
			core__channel_schedule(ch);
		ch = next;
	}
	if (!core->runq_head)
		uv_idle_stop(&core->runq_idle);
}
