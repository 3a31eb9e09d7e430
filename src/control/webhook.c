/*
 * Call status webhooks: a subscriber of the event bus that turns a call's
 * CHANNEL_CREATE, CHANNEL_PROGRESS(_MEDIA), CHANNEL_ANSWER and
 * CHANNEL_HANGUP_COMPLETE into initiated, ringing, answered and completed
 * callbacks, delivered through fetch (libcurl's multi interface driven by
 * the loop), so a slow or dead receiver never holds up a call.
 *
 * Each call keeps its deliveries in a FIFO and has at most one in flight:
 * the receiver sees them in order. A failed try is retried after a back-off
 * that doubles (retry timer, one for the module); after `tries` the
 * delivery is given up and the call's next one goes. The total waiting
 * across calls is capped (queue_max); a call's state is freed once it is
 * destroyed and its FIFO is empty.
 */
#define LOG_MODULE "webhook"
#include "control/control.h"
#include "core/core.h"
#include "fetch/fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

enum {
	STATUS_COUNT = WEBHOOK_COMPLETED + 1,
	/* The receiver's answer is not read; a 2xx with more is delivered still. */
	ANSWER_MAX = 16 * 1024,
};

struct wh_delivery {
	struct wh_delivery *next; /* in its call's FIFO */
	struct wh_call *call;
	enum webhook_status status;
	char *body; /* heap, NUL-terminated */
	size_t body_len;
	unsigned tries;	     /* made so far */
	uint64_t due_ms;     /* while waiting to be retried: when */
	struct fetch_op *op; /* while in flight */
	char *get_url;	     /* GET: url?body */
};

struct wh_call {
	struct hmap_node node;
	struct webhook *wh;
	char uuid[UUID_STRLEN];
	char *url; /* heap; NULL until known */
	bool get;
	enum webhook_format format;
	char direction[16];
	char *from, *to;
	/* what happened, when (0: not yet), and what was queued already */
	uint64_t at_us[STATUS_COUNT];
	bool queued[STATUS_COUNT];
	uint32_t sequence;
	uint64_t duration_s, billsec;
	char cause[48];
	unsigned cause_q850;
	struct wh_delivery *head, *tail;
	bool in_flight; /* head is being sent, or waits for its retry */
	/* The URL is settled: nothing is queued before, so that a dialplan's
	 * `set status_callback=…` decides where even "initiated" goes. */
	bool settled;
	bool destroyed; /* CHANNEL_DESTROY seen: freed when the FIFO empties */
};

struct webhook {
	uv_loop_t *loop;
	struct core *core;
	struct webhook_settings set;
	struct core_sub *sub;
	struct core_collector *collector;
	struct fetch *fetch;
	uv_timer_t retry_timer;
	struct hmap calls;
	size_t call_count;
	struct webhook_stats stats;
	bool destroyed;
};

static void call_pump(struct wh_call *c);
static void retry_timer_cb(uv_timer_t *t);

/* ---- calls ---- */

static uint64_t uuid_hash(const char *uuid)
{
	return hash_str(str_from_cstr(uuid));
}

static struct wh_call *call_find(struct webhook *wh, const char *uuid)
{
	uint64_t h = uuid_hash(uuid);
	for (struct hmap_node *n = hmap_first(&wh->calls, h); n; n = hmap_next(n)) {
		struct wh_call *c = container_of(n, struct wh_call, node);
		if (strcmp(c->uuid, uuid) == 0)
			return c;
	}
	return NULL;
}

static void delivery_free(struct wh_delivery *d)
{
	fetch_cancel(d->op);
	free(d->get_url);
	free(d->body);
	free(d);
}

static void call_free(struct wh_call *c)
{
	struct webhook *wh = c->wh;
	while (c->head) {
		struct wh_delivery *d = c->head;
		c->head = d->next;
		wh->stats.pending--;
		delivery_free(d);
	}
	hmap_remove(&wh->calls, &c->node);
	wh->call_count--;
	free(c->url);
	free(c->from);
	free(c->to);
	free(c);
}

static struct wh_call *call_get(struct webhook *wh, const char *uuid)
{
	struct wh_call *c = call_find(wh, uuid);
	if (c || strlen(uuid) >= UUID_STRLEN)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->wh = wh;
	memcpy(c->uuid, uuid, strlen(uuid) + 1);
	c->get = wh->set.get;
	c->format = wh->set.format;
	if (wh->set.url[0])
		c->url = strdup(wh->set.url);
	hmap_insert(&wh->calls, &c->node, uuid_hash(uuid));
	wh->call_count++;
	return c;
}

/* The channel's variables override the defaults (the dialplan may set them
 * at any point of the call). */
static void call_update(struct wh_call *c, struct core_event *ev)
{
	const char *v = core_event_header(ev, "variable_status_callback");
	if (v && *v && (!c->url || strcmp(c->url, v) != 0)) {
		if (strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0) {
			char *url = strdup(v);
			if (url) {
				free(c->url);
				c->url = url;
			}
		} else {
			log_warn("[%s] status_callback '%s' is not an http(s) URL: ignored", c->uuid,
				 v);
		}
	}
	v = core_event_header(ev, "variable_status_callback_method");
	if (v && *v)
		c->get = strcasecmp(v, "GET") == 0;
	v = core_event_header(ev, "variable_status_callback_format");
	enum webhook_format f;
	if (v && webhook_format_parse(v, &f) == 0)
		c->format = f;
	if (!c->direction[0]) {
		v = core_event_header(ev, "Call-Direction");
		snprintf(c->direction, sizeof(c->direction), "%s", v ? v : "");
	}
	if (!c->from && (v = core_event_header(ev, "Caller-Caller-ID-Number")))
		c->from = strdup(v);
	if (!c->to && (v = core_event_header(ev, "Caller-Destination-Number")))
		c->to = strdup(v);
}

static uint64_t header_u64(struct core_event *ev, const char *name)
{
	uint64_t n = 0;
	const char *v = core_event_header(ev, name);
	if (v)
		str_to_u64(str_from_cstr(v), &n);
	return n;
}

/* Queues every status that happened and is not queued yet, in order. */
static void call_queue(struct wh_call *c)
{
	struct webhook *wh = c->wh;
	if (!c->url || !c->settled)
		return;
	for (int s = 0; s < STATUS_COUNT; s++) {
		if (!c->at_us[s] || c->queued[s])
			continue;
		c->queued[s] = true;
		if (wh->stats.pending >= wh->set.queue_max) {
			wh->stats.dropped++;
			log_warn("[%s] status callback %s dropped: %llu waiting already", c->uuid,
				 webhook_status_name(s), (unsigned long long)wh->stats.pending);
			continue;
		}
		struct webhook_report r = {
		    .uuid = c->uuid,
		    .status = s,
		    .sequence = c->sequence++,
		    .direction = c->direction,
		    .from = c->from,
		    .to = c->to,
		    .timestamp_us = c->at_us[s],
		    .duration_s = c->duration_s,
		    .billsec = c->billsec,
		    .hangup_cause = c->cause,
		    .hangup_cause_q850 = c->cause_q850,
		};
		struct buf b;
		buf_init(&b);
		webhook_report_print(&r, c->format, &b);
		buf_append(&b, "", 1);
		struct wh_delivery *d = calloc(1, sizeof(*d));
		if (b.failed || !d) {
			buf_fini(&b);
			free(d);
			wh->stats.dropped++;
			continue;
		}
		d->call = c;
		d->status = s;
		d->body = buf_steal(&b, &d->body_len);
		d->body_len--; /* the NUL */
		if (c->tail)
			c->tail->next = d;
		else
			c->head = d;
		c->tail = d;
		wh->stats.pending++;
	}
	call_pump(c);
}

/* Applications that only set variables: the URL may still change after them. */
static bool app_sets_variables(const char *app)
{
	static const char *const names[] = {"set", "export", "unset", "multiset", "set_global"};
	for (size_t i = 0; app && i < ARRAY_LEN(names); i++)
		if (strcmp(app, names[i]) == 0)
			return true;
	return false;
}

static int status_of(const char *name)
{
	if (strcmp(name, "CHANNEL_CREATE") == 0)
		return WEBHOOK_INITIATED;
	if (strcmp(name, "CHANNEL_PROGRESS") == 0 || strcmp(name, "CHANNEL_PROGRESS_MEDIA") == 0)
		return WEBHOOK_RINGING;
	if (strcmp(name, "CHANNEL_ANSWER") == 0)
		return WEBHOOK_ANSWERED;
	if (strcmp(name, "CHANNEL_HANGUP_COMPLETE") == 0)
		return WEBHOOK_COMPLETED;
	return -1;
}

static void on_event(void *arg, struct core_event *ev)
{
	struct webhook *wh = arg;
	const char *name = core_event_name(ev);
	if (strncmp(name, "CHANNEL_", 8) != 0)
		return;
	int s = status_of(name);
	bool destroy = strcmp(name, "CHANNEL_DESTROY") == 0;
	bool execute = strcmp(name, "CHANNEL_EXECUTE") == 0;
	if (s < 0 && !destroy && !execute)
		return;
	const char *uuid = core_event_header(ev, "Unique-ID");
	if (!uuid)
		return;
	struct wh_call *c = destroy || execute ? call_find(wh, uuid) : call_get(wh, uuid);
	if (!c)
		return;
	if (execute) {
		/* The dialplan has done its variable setting when it runs
		 * anything else: the URL is what it is now. */
		if (c->settled || app_sets_variables(core_event_header(ev, "Application")))
			return;
		call_update(c, ev);
		c->settled = true;
		call_queue(c);
		return;
	}
	if (destroy) {
		c->destroyed = true;
		if (!c->head)
			call_free(c);
		return;
	}
	call_update(c, ev);
	/* An originated leg carries its variables from the start; an inbound
	 * call's dialplan may set them first (CHANNEL_EXECUTE above); any later
	 * status settles it too. */
	if (s != WEBHOOK_INITIATED || core_event_header(ev, "variable_status_callback"))
		c->settled = true;
	if (!c->at_us[s]) {
		uint64_t at = header_u64(ev, "Event-Date-Timestamp");
		c->at_us[s] = at ? at : clock_wall_us();
	}
	if (s == WEBHOOK_COMPLETED) {
		c->duration_s = header_u64(ev, "variable_duration");
		c->billsec = header_u64(ev, "variable_billsec");
		const char *cause = core_event_header(ev, "Hangup-Cause");
		snprintf(c->cause, sizeof(c->cause), "%s", cause ? cause : "");
		c->cause_q850 = (unsigned)header_u64(ev, "variable_hangup_cause_q850");
	}
	call_queue(c);
}

/* ---- sending ---- */

static void delivery_done_cb(void *arg, const struct fetch_response *r);

static int delivery_start(struct wh_delivery *d)
{
	struct wh_call *c = d->call;
	struct webhook *wh = c->wh;
	struct fetch_request req = {
	    .url = c->url,
	    .timeout_ms = wh->set.timeout_ms,
	    .max_body = ANSWER_MAX,
	};
	d->tries++;
	if (c->get) {
		if (!d->get_url) {
			size_t n = strlen(c->url) + d->body_len + 2;
			d->get_url = malloc(n);
			if (!d->get_url)
				return -ENOMEM;
			snprintf(d->get_url, n, "%s%c%s", c->url, strchr(c->url, '?') ? '&' : '?',
				 d->body);
		}
		req.url = d->get_url;
		req.method = "GET";
	} else {
		req.method = "POST";
		req.body = d->body;
		req.body_len = d->body_len;
		req.content_type = c->format == WEBHOOK_JSON ? "application/json"
							     : "application/x-www-form-urlencoded";
	}
	return fetch_start(wh->fetch, &req, delivery_done_cb, d, &d->op);
}

/* Sends the call's head delivery unless one is under way already. */
static void call_pump(struct wh_call *c)
{
	while (c->head && !c->in_flight) {
		struct wh_delivery *d = c->head;
		c->in_flight = true;
		int err = delivery_start(d);
		if (!err)
			return;
		log_warn("[%s] status callback %s: cannot start: %s", c->uuid,
			 webhook_status_name(d->status), strerror(-err));
		c->head = d->next;
		if (!c->head)
			c->tail = NULL;
		c->in_flight = false;
		c->wh->stats.pending--;
		c->wh->stats.failed++;
		delivery_free(d);
	}
	if (!c->head && c->destroyed)
		call_free(c);
}

/* The earliest retry due among the calls' heads re-arms the retry timer. */
static void retry_arm(struct webhook *wh)
{
	uint64_t first = UINT64_MAX;
	for (size_t i = 0; i <= wh->calls.mask && wh->calls.buckets; i++) {
		for (struct hmap_node *n = wh->calls.buckets[i]; n; n = n->next) {
			struct wh_call *c = container_of(n, struct wh_call, node);
			if (c->head && c->head->due_ms && c->head->due_ms < first)
				first = c->head->due_ms;
		}
	}
	if (first == UINT64_MAX) {
		uv_timer_stop(&wh->retry_timer);
		return;
	}
	uint64_t now = uv_now(wh->loop);
	uv_timer_start(&wh->retry_timer, retry_timer_cb, first > now ? first - now : 0, 0);
}

/* One try ended: `error` (a negative errno) or the receiver's `code`. */
static void delivery_done(struct webhook *wh, struct wh_delivery *d, int error, long code,
			  const char *error_text)
{
	struct wh_call *c = d->call;
	d->op = NULL;
	bool ok = (error == 0 || (error == -EFBIG && code)) && code >= 200 && code < 300;
	const char *why =
	    error && error != -EFBIG ? (error_text ? error_text : strerror(-error)) : "not 2xx";
	if (ok) {
		wh->stats.delivered++;
	} else if (d->tries < wh->set.tries) {
		uint64_t delay = (uint64_t)wh->set.retry_ms << (d->tries - 1);
		log_info("[%s] status callback %s: %s, try %u of %u in %llu ms", c->uuid,
			 webhook_status_name(d->status), why, d->tries + 1, wh->set.tries,
			 (unsigned long long)delay);
		wh->stats.retried++;
		d->due_ms = uv_now(wh->loop) + delay;
		retry_arm(wh);
		return; /* stays in flight: the next status waits */
	} else {
		wh->stats.failed++;
		log_warn("[%s] status callback %s to %s failed after %u tries (%s, HTTP %ld)",
			 c->uuid, webhook_status_name(d->status), c->url, d->tries, why, code);
	}
	c->head = d->next;
	if (!c->head)
		c->tail = NULL;
	c->in_flight = false;
	wh->stats.pending--;
	delivery_free(d);
	call_pump(c);
}

static void delivery_done_cb(void *arg, const struct fetch_response *r)
{
	struct wh_delivery *d = arg;
	delivery_done(d->call->wh, d, r->error, r->status, r->error_text);
}

static void retry_timer_cb(uv_timer_t *t)
{
	struct webhook *wh = t->data;
	uint64_t now = uv_now(wh->loop);
	/* Collect first: starting a try may free calls (a failed start). */
	struct wh_call *due[64];
	size_t n = 0;
	for (size_t i = 0; i <= wh->calls.mask && wh->calls.buckets && n < ARRAY_LEN(due); i++) {
		for (struct hmap_node *p = wh->calls.buckets[i]; p && n < ARRAY_LEN(due);
		     p = p->next) {
			struct wh_call *c = container_of(p, struct wh_call, node);
			if (c->head && c->head->due_ms && c->head->due_ms <= now)
				due[n++] = c;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct wh_call *c = due[i];
		struct wh_delivery *d = c->head;
		d->due_ms = 0;
		int err = delivery_start(d);
		if (err)
			delivery_done(wh, d, err, 0, NULL);
	}
	retry_arm(wh);
}

/* ---- metrics ---- */

static void webhook_collect_cb(void *arg, struct metrics_writer *w)
{
	struct webhook *wh = arg;
	static const char *const names[] = {"delivered", "retried", "failed", "dropped"};
	const uint64_t values[] = {wh->stats.delivered, wh->stats.retried, wh->stats.failed,
				   wh->stats.dropped};
	if (metrics_family(w, "irisx_status_callbacks_total", METRIC_COUNTER,
			   "Call status callbacks: delivered (2xx), retried tries, failed after "
			   "every try, dropped over the queue limit.") == 0) {
		for (size_t i = 0; i < ARRAY_LEN(names); i++)
			metrics_sample_u64(w, NULL, values[i],
					   (const char *const[]){"result", names[i], NULL});
	}
	if (metrics_family(w, "irisx_status_callbacks_pending", METRIC_GAUGE,
			   "Call status callbacks waiting or in flight.") == 0)
		metrics_sample_u64(w, NULL, wh->stats.pending, NULL);
}

/* ---- life cycle ---- */

static void timer_closed_cb(uv_handle_t *h)
{
	free(h->data);
}

int webhook_create(struct webhook **out, uv_loop_t *loop, struct core *core,
		   const struct webhook_settings *settings)
{
	if (!out || !loop || !core || !settings)
		return -EINVAL;
	struct webhook *wh = calloc(1, sizeof(*wh));
	if (!wh)
		return -ENOMEM;
	wh->loop = loop;
	wh->core = core;
	wh->set = *settings;
	if (wh->set.tries == 0)
		wh->set.tries = 1;
	hmap_init(&wh->calls);
	int err = fetch_create(&wh->fetch, loop);
	if (err) {
		free(wh);
		return err;
	}
	if (core_subscribe(core, on_event, wh, &wh->sub) != 0) {
		fetch_destroy(wh->fetch);
		free(wh);
		return -ENOMEM;
	}
	uv_timer_init(loop, &wh->retry_timer);
	wh->retry_timer.data = wh;
	core_metrics_register(core, webhook_collect_cb, wh, &wh->collector);
	if (wh->set.url[0])
		log_notice("status callbacks default to %s %s (%s)", wh->set.get ? "GET" : "POST",
			   wh->set.url, wh->set.format == WEBHOOK_JSON ? "json" : "form");
	*out = wh;
	return 0;
}

void webhook_destroy(struct webhook *wh)
{
	if (!wh || wh->destroyed)
		return;
	wh->destroyed = true;
	core_unsubscribe(wh->sub);
	core_metrics_unregister(wh->collector);
	for (size_t i = 0; i <= wh->calls.mask && wh->calls.buckets; i++) {
		while (wh->calls.buckets[i])
			call_free(container_of(wh->calls.buckets[i], struct wh_call, node));
	}
	hmap_fini(&wh->calls);
	fetch_destroy(wh->fetch);
	wh->fetch = NULL;
	uv_close((uv_handle_t *)&wh->retry_timer, timer_closed_cb);
}

void webhook_stats_get(const struct webhook *wh, struct webhook_stats *out)
{
	*out = wh->stats;
}
