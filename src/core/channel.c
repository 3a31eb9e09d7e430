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

/* Every state change is a CHANNEL_STATE event (FreeSWITCH's state machine). */
static void channel_set_state(struct channel *ch, enum channel_state state)
{
	ch->state = state;
	core__channel_state_event(ch);
}

static void hangup_complete_extra(void *arg, struct core_event *ev)
{
	struct channel *ch = arg;
	uint64_t end = ch->hangup_us ? ch->hangup_us : clock_wall_us();
	uint64_t dur = end > ch->created_us ? end - ch->created_us : 0;
	uint64_t bill = ch->answered_us && end > ch->answered_us ? end - ch->answered_us : 0;
	uint64_t prog = ch->progress_us > ch->created_us ? ch->progress_us - ch->created_us : 0;
	core_event_add_header(ev, "variable_hangup_cause", "%s", core_cause_name(ch->cause));
	core_event_add_header(ev, "variable_hangup_cause_q850", "%u", core_cause_q850(ch->cause));
	core_event_add_header(ev, "variable_start_epoch", "%llu",
			      (unsigned long long)(ch->created_us / 1000000));
	core_event_add_header(ev, "variable_start_uepoch", "%llu",
			      (unsigned long long)ch->created_us);
	core_event_add_header(ev, "variable_answer_epoch", "%llu",
			      (unsigned long long)(ch->answered_us / 1000000));
	core_event_add_header(ev, "variable_answer_uepoch", "%llu",
			      (unsigned long long)ch->answered_us);
	core_event_add_header(ev, "variable_end_epoch", "%llu", (unsigned long long)(end / 1000000));
	core_event_add_header(ev, "variable_end_uepoch", "%llu", (unsigned long long)end);
	core_event_add_header(ev, "variable_duration", "%llu", (unsigned long long)(dur / 1000000));
	core_event_add_header(ev, "variable_mduration", "%llu", (unsigned long long)(dur / 1000));
	core_event_add_header(ev, "variable_billsec", "%llu", (unsigned long long)(bill / 1000000));
	core_event_add_header(ev, "variable_billmsec", "%llu", (unsigned long long)(bill / 1000));
	core_event_add_header(ev, "variable_progresssec", "%llu",
			      (unsigned long long)(prog / 1000000));
	core_event_add_header(ev, "variable_progressmsec", "%llu",
			      (unsigned long long)(prog / 1000));
}

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
	core->sessions_total++;
	core__peak_note(&core->sessions_peak, (uint32_t)core->channel_count, clock_wall_us() / 1000);
	core->metrics.calls_total[dir == CHANNEL_OUTBOUND]++;
	return ch;
}

void core__channel_destroy(struct channel *ch)
{
	struct core *core = ch->core;

	if (ch->originating) {
		/* Dropped while ringing (shutdown past its grace period): the
		 * originate must not keep a pointer to it. */
		if (ch->cause == CAUSE_NONE)
			ch->cause = CAUSE_SYSTEM_SHUTDOWN;
		ch->state = CS_DESTROY;
		core__originate_leg_update(ch);
	}
	core__media_hangup(ch);
	core__op_deliver(ch); /* the executor learns it is over */
	if (ch->sip)
		core__endpoint_hangup(ch);
	if (ch->exec_free_cb)
		ch->exec_free_cb(ch->exec_state);
	ch->exec_free_cb = NULL;
	if (ch->state > CS_NEW) /* CHANNEL_CREATE went out */
		channel_event_fire(ch, "CHANNEL_DESTROY", NULL, NULL);
	core__metrics_channel_end(ch);
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
	channel_event_fire(ch, "CHANNEL_HANGUP", NULL, NULL);
	core__channel_state_event(ch);
	core__channel_schedule(ch);
	if (ch->originating)
		core__originate_leg_update(ch);
	/* After this leg's own events: the bridge it was in ends (the other leg
	 * may follow it, with this cause). */
	core__bridge_hangup(ch);
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
	/* A parked channel executes again when transferred; an originated leg
	 * waits in CS_CONSUME_MEDIA until someone executes on it. */
	if (ch->state < CS_EXECUTE || ch->state == CS_PARK || ch->state == CS_CONSUME_MEDIA)
		channel_set_state(ch, CS_EXECUTE);
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
		channel_set_state(ch, CS_PARK);
}

/* One state step; returns false when the channel is gone. */
static bool channel_step(struct channel *ch)
{
	/* Finished applications first: their callbacks drive the executor. */
	core__op_deliver(ch);

	switch (ch->state) {
	case CS_NEW:
		/* By now the endpoint has filled in the caller's fields. An
		 * outbound leg's CHANNEL_CREATE went out when originate made it. */
		if (ch->direction == CHANNEL_INBOUND)
			channel_event_fire(ch, "CHANNEL_CREATE", NULL, NULL);
		channel_set_state(ch, CS_INIT);
		return true;
	case CS_INIT:
		channel_set_state(ch, CS_ROUTING);
		return true;
	case CS_ROUTING:
		if (ch->direction == CHANNEL_OUTBOUND) {
			/* No dialplan for a leg we placed: it waits, consuming its
			 * media, until it answers and its originator takes it
			 * (FreeSWITCH's originate state handler does the same). */
			channel_set_state(ch, CS_CONSUME_MEDIA);
			return true;
		}
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
		channel_set_state(ch, CS_REPORTING);
		channel_event_fire(ch, "CHANNEL_HANGUP_COMPLETE", hangup_complete_extra, ch);
		core__cdr_write(ch);
		return true;
	case CS_REPORTING:
		channel_set_state(ch, CS_DESTROY);
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
