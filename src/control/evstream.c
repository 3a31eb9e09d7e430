/*
 * Event streams for the HTTP door: a filtered, bounded queue of events per
 * client (WebSocket or Server-Sent Events), fed synchronously by the bus and
 * drained by the transport when the client can take more. Dropping is the
 * Event Socket's (esl_event.c): the oldest kept, the newest dropped, and a
 * notice in the stream where the gap is.
 */
#define LOG_MODULE "events"
#include "control/control.h"
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct evstream {
	struct core *core;
	struct core_sub *sub;
	struct evstream_filter filter;
	struct core_event **queue; /* ring of q_cap references */
	size_t q_head, q_len, q_cap;
	uint64_t dropped;  /* since the last notice */
	uint64_t last_seq; /* the newest sequence queued */
	struct evstream_stats *stats;
	void (*ready_cb)(void *arg);
	void *arg;
	bool replaying;
};

static bool name_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == ':';
}

static bool uuid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= UUID_STRLEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == '-'))
			return false;
	}
	return true;
}

int evstream_filter_parse(struct evstream_filter *out, const char *events, const char *uuid)
{
	struct evstream_filter f;
	memset(&f, 0, sizeof(f));
	if (uuid) {
		if (!uuid_ok(uuid))
			return -EINVAL;
		memcpy(f.uuid, uuid, strlen(uuid) + 1);
	}
	if (events && strcmp(events, "ALL") != 0 && strcmp(events, "all") != 0) {
		const char *p = events;
		for (;;) {
			size_t n = strcspn(p, ",");
			if (n == 0 || n >= sizeof(f.names[0]) || f.name_count == EVSTREAM_NAMES_MAX)
				return -EINVAL;
			for (size_t i = 0; i < n; i++)
				if (!name_char_ok(p[i]))
					return -EINVAL;
			memcpy(f.names[f.name_count], p, n);
			f.names[f.name_count][n] = '\0';
			f.name_count++;
			if (!p[n])
				break;
			p += n + 1;
		}
	}
	*out = f;
	return 0;
}

bool evstream_filter_match(const struct evstream_filter *f, const struct core_event *ev)
{
	if (f->uuid[0]) {
		const char *u = core_event_header(ev, "Unique-ID");
		if (!u || strcasecmp(u, f->uuid) != 0)
			return false;
	}
	if (!f->name_count)
		return true;
	const char *name = core_event_name(ev);
	const char *sub = core_event_subclass(ev);
	for (size_t i = 0; i < f->name_count; i++) {
		if (strcmp(f->names[i], name) == 0 || (sub && strcmp(f->names[i], sub) == 0))
			return true;
	}
	return false;
}

void evstream_print_sse(const struct core_event *ev, struct buf *out)
{
	uint64_t seq = core_event_sequence(ev);
	if (seq)
		buf_printf(out, "id: %llu\n", (unsigned long long)seq);
	const char *sub = core_event_subclass(ev);
	buf_printf(out, "event: %s\ndata: ", sub ? sub : core_event_name(ev));
	/* The JSON rendering is one line: control characters are escaped. */
	core_event_print_json(ev, out);
	buf_append(out, "\n\n", 2);
}

/* ---- the queue ---- */

static void notice_push(struct evstream *s)
{
	struct core_event *n = NULL;
	if (core_event_create(&n, "CUSTOM", "irisx::events_dropped") != 0)
		return;
	core_event_add_header(n, "Dropped-Count", "%llu", (unsigned long long)s->dropped);
	core_event_add_header(n, "Last-Event-Sequence", "%llu", (unsigned long long)s->last_seq);
	s->queue[(s->q_head + s->q_len) % s->q_cap] = n;
	s->q_len++;
	s->dropped = 0;
}

static void queue_push(struct evstream *s, struct core_event *ev)
{
	/* Room for the notice and the event, or the event is dropped too: the
	 * notice must come before anything newer than the gap. */
	if (s->dropped > 0 && s->q_len + 1 < s->q_cap)
		notice_push(s);
	if (s->q_len == s->q_cap || s->dropped > 0) {
		s->dropped++;
		if (s->stats)
			s->stats->events_dropped++;
		return;
	}
	s->queue[(s->q_head + s->q_len) % s->q_cap] = core_event_ref(ev);
	s->q_len++;
	uint64_t seq = core_event_sequence(ev);
	if (seq > s->last_seq)
		s->last_seq = seq;
	if (!s->replaying && s->q_len == 1)
		s->ready_cb(s->arg);
}

static void on_event(void *arg, struct core_event *ev)
{
	struct evstream *s = arg;
	if (core_event_sequence(ev) <= s->last_seq)
		return; /* replayed already */
	if (evstream_filter_match(&s->filter, ev))
		queue_push(s, ev);
}

int evstream_create(struct evstream **out, struct core *core, const struct evstream_filter *f,
		    bool resume, uint64_t after, size_t queue_max, struct evstream_stats *stats,
		    void (*ready_cb)(void *arg), void *arg)
{
	if (!out || !core || !f || !ready_cb)
		return -EINVAL;
	struct evstream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->q_cap = queue_max >= 2 ? queue_max : EVSTREAM_QUEUE_DEFAULT;
	s->queue = calloc(s->q_cap, sizeof(*s->queue));
	if (!s->queue) {
		free(s);
		return -ENOMEM;
	}
	s->core = core;
	s->filter = *f;
	s->stats = stats;
	s->ready_cb = ready_cb;
	s->arg = arg;
	if (resume) {
		s->replaying = true;
		int err = core_events_since(core, after, on_event, s);
		s->replaying = false;
		if (err == -ERANGE) {
			struct core_event *n = NULL;
			if (core_event_create(&n, "CUSTOM", "irisx::events_lost") == 0) {
				core_event_add_header(n, "Requested-After", "%llu",
						      (unsigned long long)after);
				s->queue[(s->q_head + s->q_len) % s->q_cap] = n;
				s->q_len++;
			}
		}
	}
	int err = core_subscribe(core, on_event, s, &s->sub);
	if (err) {
		s->sub = NULL;
		evstream_destroy(s);
		return err;
	}
	if (stats)
		stats->clients++;
	*out = s;
	return 0;
}

struct core_event *evstream_pop(struct evstream *s)
{
	if (!s->q_len)
		return NULL;
	struct core_event *ev = s->queue[s->q_head];
	s->queue[s->q_head] = NULL;
	s->q_head = (s->q_head + 1) % s->q_cap;
	s->q_len--;
	/* A gap waiting for room gets its notice now. */
	if (s->dropped > 0 && s->q_len + 1 < s->q_cap)
		notice_push(s);
	if (s->stats)
		s->stats->events_sent++;
	return ev;
}

size_t evstream_queued(const struct evstream *s)
{
	return s->q_len;
}

void evstream_destroy(struct evstream *s)
{
	if (!s)
		return;
	if (s->sub) {
		core_unsubscribe(s->sub);
		if (s->stats)
			s->stats->clients--;
	}
	while (s->q_len) {
		core_event_unref(s->queue[s->q_head]);
		s->q_head = (s->q_head + 1) % s->q_cap;
		s->q_len--;
	}
	free(s->queue);
	free(s);
}
