/*
 * What a connection hears: its subscription (event names, CUSTOM
 * subclasses, filters, myevents), the bounded queue between the bus and the
 * socket, and the flush that renders queued events as text/event-plain,
 * text/event-json or text/event-xml frames while the socket has room.
 */
#define LOG_MODULE "esl"
#include "control/esl_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool wants_name(const struct esl_conn *c, const struct core_event *ev)
{
	const char *name = core_event_name(ev);
	const char *sub = core_event_subclass(ev);
	if (c->all_events)
		return true;
	for (size_t i = 0; i < c->name_count; i++) {
		const char *n = c->names[i];
		if (strncmp(n, "CUSTOM ", 7) == 0) {
			if (sub && strcasecmp(name, "CUSTOM") == 0 && strcasecmp(n + 7, sub) == 0)
				return true;
		} else if (strcasecmp(n, name) == 0) {
			return true;
		}
	}
	return false;
}

static bool passes_filters(const struct esl_conn *c, const struct core_event *ev)
{
	if (c->myevents[0]) {
		const char *u = core_event_header(ev, "Unique-ID");
		if (!u || strcmp(u, c->myevents) != 0)
			return false;
	}
	if (c->filter_count == 0)
		return true;
	/* As FreeSWITCH: any one matching filter lets the event through. */
	for (size_t i = 0; i < c->filter_count; i++) {
		const struct esl_filter *f = &c->filters[i];
		const char *v = core_event_header(ev, f->header);
		if (!v)
			continue;
		if (!f->re ? strcmp(v, f->value) == 0
			   : pcre2_match(f->re, (PCRE2_SPTR)v, strlen(v), 0, 0, c->filter_md,
					 c->filter_mctx) >= 0)
			return true;
	}
	return false;
}

static void schedule(struct esl_conn *c)
{
	struct esl *esl = c->esl;
	if (!esl || c->flush_pending)
		return;
	c->flush_pending = true;
	c->flush_next = esl->flush_list;
	esl->flush_list = c;
	esl__wake(esl);
}

/*
 * Tells the client how many events it lost, at the place in the stream where
 * they were lost: the notice takes the queue slot right after the last event
 * kept (the dropped ones are all newer than every queued one).
 */
static void notice_push(struct esl_conn *c)
{
	struct core_event *n = NULL;
	if (core_event_create(&n, "CUSTOM", "irisx::events_dropped") != 0)
		return;
	core_event_add_header(n, "Dropped-Count", "%llu", (unsigned long long)c->dropped);
	core_event_add_header(n, "Last-Event-Sequence", "%llu", (unsigned long long)c->last_seq);
	c->queue[(c->q_head + c->q_len) % c->q_cap] = n;
	c->q_len++;
	c->dropped = 0;
}

static void queue_push(struct esl_conn *c, struct core_event *ev)
{
	if (c->dropped > 0 && c->q_len < c->q_cap)
		notice_push(c);
	if (c->q_len == c->q_cap) {
		c->dropped++;
		if (c->esl)
			c->esl->stats.events_dropped++;
	} else {
		c->queue[(c->q_head + c->q_len) % c->q_cap] = core_event_ref(ev);
		c->q_len++;
		uint64_t seq = core_event_sequence(ev);
		if (seq > c->last_seq)
			c->last_seq = seq;
	}
	schedule(c);
}

void esl__conn_offer(struct esl_conn *c, struct core_event *ev)
{
	if (!c->authed || c->closing || c->fmt == ESL_FMT_NONE)
		return;
	if (!wants_name(c, ev) || !passes_filters(c, ev))
		return;
	queue_push(c, ev);
}

/* Replayed events (resume) go through the same subscription test. */
void esl__conn_replay(void *arg, struct core_event *ev)
{
	struct esl_conn *c = arg;
	if (core_event_sequence(ev) <= c->last_seq)
		return; /* already queued or sent on this connection */
	esl__conn_offer(c, ev);
}

static void render(const struct esl_conn *c, const struct core_event *ev, struct buf *body)
{
	switch (c->fmt) {
	case ESL_FMT_JSON:
		core_event_print_json(ev, body);
		break;
	case ESL_FMT_XML:
		core_event_print_xml(ev, body);
		break;
	default:
		core_event_print_plain(ev, body);
		break;
	}
}

static const char *content_type(const struct esl_conn *c)
{
	return c->fmt == ESL_FMT_JSON  ? "text/event-json"
	       : c->fmt == ESL_FMT_XML ? "text/event-xml"
				       : "text/event-plain";
}

static void frame_append(struct esl_conn *c, const struct core_event *ev, struct buf *out,
			 struct buf *body)
{
	buf_reset(body);
	render(c, ev, body);
	/* FreeSWITCH puts Content-Length first on event frames. */
	buf_printf(out, "Content-Length: %zu\nContent-Type: %s\n\n", body->len, content_type(c));
	buf_append(out, body->p, body->len);
}

void esl__conn_flush(struct esl_conn *c)
{
	if (c->closing || !c->esl)
		return;
	struct buf out, body;
	buf_init(&out);
	buf_init(&body);
	size_t sent = 0;
	while (c->q_len > 0 && c->tcp.write_queue_size + out.len < ESL_WRITE_HIGH) {
		struct core_event *ev = c->queue[c->q_head];
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_len--;
		frame_append(c, ev, &out, &body);
		if (core_event_sequence(ev) > c->sent_seq)
			c->sent_seq = core_event_sequence(ev);
		core_event_unref(ev);
		sent++;
		if (c->dropped > 0)
			notice_push(c);
	}
	c->esl->stats.events_sent += sent;
	buf_fini(&body);
	if (out.len > 0)
		esl__conn_send_raw(c, &out);
	buf_fini(&out);
	/* What is left waits for write_cb (socket room) to flush again. */
}

void esl__conn_unsubscribe(struct esl_conn *c)
{
	for (size_t i = 0; i < c->name_count; i++)
		free(c->names[i]);
	free(c->names);
	c->names = NULL;
	c->name_count = 0;
	c->all_events = false;
	c->fmt = ESL_FMT_NONE;
}

void esl__conn_sub_free(struct esl_conn *c)
{
	esl__conn_unsubscribe(c);
	for (size_t i = 0; i < c->filter_count; i++) {
		free(c->filters[i].header);
		free(c->filters[i].value);
		pcre2_code_free(c->filters[i].re);
	}
	free(c->filters);
	c->filters = NULL;
	c->filter_count = 0;
	pcre2_match_data_free(c->filter_md);
	pcre2_match_context_free(c->filter_mctx);
	c->filter_md = NULL;
	c->filter_mctx = NULL;
}
