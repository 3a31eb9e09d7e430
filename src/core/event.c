/*
 * Events: FreeSWITCH's event model (a name, ordered "Name: value" headers, an
 * optional body), the bus that fires them to subscribers, and the ring of the
 * last CORE_EVENT_RING events that lets a reconnecting client catch up.
 *
 * Firing must stay cheap when nobody listens: thousands of calls fire dozens
 * of events each. An event is one malloc for the object, one arena block for
 * its strings and one array for its headers; the date headers are formatted
 * once per second, not per event. Subscribers run synchronously and only
 * queue (a reference), so the bus never blocks the loop.
 */
#define LOG_MODULE "event"
#include "core_int.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct event_header {
	const char *name; /* in the event's arena */
	const char *value;
};

struct core_event {
	unsigned refs;
	uint64_t seq; /* 0 until fired */
	const char *name;
	const char *subclass;
	struct event_header *h; /* owned */
	size_t n, cap;
	char *body; /* in the arena; NULL: none */
	size_t body_len;
	struct arena arena;
};

/* One counter for the process: sequences stay strictly increasing across cores. */
static uint64_t event_seq;

/* Room for `want` headers in all. */
static int event_reserve(struct core_event *ev, size_t want)
{
	if (want <= ev->cap)
		return 0;
	size_t cap = ev->cap ? ev->cap : 32;
	while (cap < want)
		cap *= 2;
	struct event_header *h = realloc(ev->h, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	ev->h = h;
	ev->cap = cap;
	return 0;
}

static int event_push(struct core_event *ev, const char *name, const char *value)
{
	int err = event_reserve(ev, ev->n + 1);
	if (err)
		return err;
	ev->h[ev->n].name = name;
	ev->h[ev->n].value = value;
	ev->n++;
	return 0;
}

int core_event_create(struct core_event **out, const char *name, const char *subclass)
{
	if (!out || !name || !*name)
		return -EINVAL;
	struct core_event *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	arena_init(&ev->arena, 4096);
	ev->refs = 1;
	ev->name = arena_strdup(&ev->arena, name);
	ev->subclass = subclass ? arena_strdup(&ev->arena, subclass) : NULL;
	/* FreeSWITCH puts a CUSTOM event's Event-Subclass before its Event-Name. */
	int err = !ev->name || (subclass && !ev->subclass) ? -ENOMEM : 0;
	if (!err && subclass)
		err = event_push(ev, "Event-Subclass", ev->subclass);
	if (!err)
		err = event_push(ev, "Event-Name", ev->name);
	if (err) {
		core_event_unref(ev);
		return err;
	}
	*out = ev;
	return 0;
}

static int event_add_v(struct core_event *ev, const char *name, const char *fmt, va_list ap)
{
	char small[256];
	va_list ap2;
	va_copy(ap2, ap);
	int len = vsnprintf(small, sizeof(small), fmt, ap);
	if (len < 0) {
		va_end(ap2);
		return -EINVAL;
	}
	char *value = arena_alloc(&ev->arena, (size_t)len + 1);
	char *n = arena_strdup(&ev->arena, name);
	if (!value || !n) {
		va_end(ap2);
		return -ENOMEM;
	}
	if ((size_t)len < sizeof(small))
		memcpy(value, small, (size_t)len + 1);
	else
		vsnprintf(value, (size_t)len + 1, fmt, ap2);
	va_end(ap2);
	return event_push(ev, n, value);
}

int core_event_add_header(struct core_event *ev, const char *name, const char *fmt, ...)
{
	if (!ev || !name || !fmt || ev->seq)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	int err = event_add_v(ev, name, fmt, ap);
	va_end(ap);
	return err;
}

int core_event_set_body(struct core_event *ev, const char *body, size_t len)
{
	if (!ev || ev->seq || (!body && len))
		return -EINVAL;
	if (!body) {
		ev->body = NULL;
		ev->body_len = 0;
		return 0;
	}
	char *b = arena_alloc(&ev->arena, len + 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, body, len);
	b[len] = '\0';
	ev->body = b;
	ev->body_len = len;
	return 0;
}

struct core_event *core_event_ref(struct core_event *ev)
{
	ev->refs++;
	return ev;
}

void core_event_unref(struct core_event *ev)
{
	if (!ev || --ev->refs > 0)
		return;
	free(ev->h);
	arena_fini(&ev->arena);
	free(ev);
}

const char *core_event_name(const struct core_event *ev)
{
	return ev->name;
}

const char *core_event_subclass(const struct core_event *ev)
{
	return ev->subclass;
}

uint64_t core_event_sequence(const struct core_event *ev)
{
	return ev->seq;
}

const char *core_event_header(const struct core_event *ev, const char *name)
{
	for (size_t i = 0; i < ev->n; i++)
		if (strcasecmp(ev->h[i].name, name) == 0)
			return ev->h[i].value;
	return NULL;
}

size_t core_event_header_count(const struct core_event *ev)
{
	return ev->n;
}

void core_event_header_at(const struct core_event *ev, size_t i, const char **name,
			  const char **value)
{
	assert(i < ev->n);
	*name = ev->h[i].name;
	*value = ev->h[i].value;
}

const char *core_event_body(const struct core_event *ev, size_t *len)
{
	if (len)
		*len = ev->body_len;
	return ev->body;
}

/* ---- the bus ---- */

/* The host's first non-loopback addresses, as FreeSWITCH-IPv4/IPv6 report them. */
static void bus_addresses(struct core_bus *bus)
{
	uv_interface_address_t *ifs;
	int count;

	snprintf(bus->ipv4, sizeof(bus->ipv4), "127.0.0.1");
	snprintf(bus->ipv6, sizeof(bus->ipv6), "::1");
	if (uv_interface_addresses(&ifs, &count) != 0)
		return;
	bool v4 = false, v6 = false;
	for (int i = 0; i < count; i++) {
		if (ifs[i].is_internal)
			continue;
		if (!v4 && ifs[i].address.address4.sin_family == AF_INET) {
			uv_ip4_name(&ifs[i].address.address4, bus->ipv4, sizeof(bus->ipv4));
			v4 = true;
		} else if (!v6 && ifs[i].address.address6.sin6_family == AF_INET6) {
			uv_ip6_name(&ifs[i].address.address6, bus->ipv6, sizeof(bus->ipv6));
			v6 = true;
		}
	}
	uv_free_interface_addresses(ifs, count);
}

static void heartbeat_cb(uv_timer_t *t);

int core__bus_init(struct core *core)
{
	struct core_bus *bus = &core->bus;
	bus->ring = calloc(CORE_EVENT_RING, sizeof(*bus->ring));
	if (!bus->ring)
		return -ENOMEM;
	uuid_generate(bus->uuid);
	if (gethostname(bus->hostname, sizeof(bus->hostname) - 1) != 0)
		snprintf(bus->hostname, sizeof(bus->hostname), "localhost");
	bus_addresses(bus);
	bus->started_us = clock_wall_us();
	bus->date_sec = -1;
	uv_timer_init(core->loop, &bus->heartbeat);
	bus->heartbeat.data = core;
	uv_timer_start(&bus->heartbeat, heartbeat_cb, CORE_HEARTBEAT_MS, CORE_HEARTBEAT_MS);
	/* The heartbeat alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&bus->heartbeat);
	return 0;
}

void core__bus_close(struct core *core, uv_close_cb cb)
{
	uv_timer_stop(&core->bus.heartbeat);
	uv_close((uv_handle_t *)&core->bus.heartbeat, cb);
}

void core__bus_fini(struct core *core)
{
	struct core_bus *bus = &core->bus;
	if (bus->ring)
		for (size_t i = 0; i < CORE_EVENT_RING; i++)
			core_event_unref(bus->ring[i]);
	free(bus->ring);
	bus->ring = NULL;
	while (bus->subs) {
		struct core_sub *s = bus->subs;
		bus->subs = s->next;
		free(s);
	}
}

const char *core_uuid(const struct core *core)
{
	return core->bus.uuid;
}

static void bus_dates(struct core_bus *bus, uint64_t now_us)
{
	time_t sec = (time_t)(now_us / 1000000);
	if ((int64_t)sec == bus->date_sec)
		return;
	struct tm tm;
	localtime_r(&sec, &tm);
	strftime(bus->date_local, sizeof(bus->date_local), "%Y-%m-%d %H:%M:%S", &tm);
	gmtime_r(&sec, &tm);
	/* RFC 822 in English whatever the locale. */
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	snprintf(bus->date_gmt, sizeof(bus->date_gmt), "%s, %02d %s %d %02d:%02d:%02d GMT",
		 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	bus->date_sec = (int64_t)sec;
}

/* The headers FreeSWITCH stamps on delivery go after Event-Name, in its order. */
static int event_stamp(struct core *core, struct core_event *ev)
{
	struct core_bus *bus = &core->bus;
	size_t at = ev->subclass ? 2 : 1;
	size_t user = ev->n - at;
	uint64_t now = clock_wall_us();

	bus_dates(bus, now);
	const char *sw = config_var(core->cfg, "switchname");
	struct event_header st[] = {
	    {"Core-UUID", bus->uuid},
	    {"FreeSWITCH-Hostname", bus->hostname},
	    {"FreeSWITCH-Switchname", sw ? sw : bus->hostname},
	    {"FreeSWITCH-IPv4", bus->ipv4},
	    {"FreeSWITCH-IPv6", bus->ipv6},
	    {"Event-Date-Local", arena_strdup(&ev->arena, bus->date_local)},
	    {"Event-Date-GMT", arena_strdup(&ev->arena, bus->date_gmt)},
	    {"Event-Date-Timestamp", arena_printf(&ev->arena, "%llu", (unsigned long long)now)},
	    {"Event-Calling-File", "event.c"},
	    {"Event-Calling-Function", "core_event_fire"},
	    {"Event-Calling-Line-Number", "1"},
	    {"Event-Sequence", arena_printf(&ev->arena, "%llu", (unsigned long long)ev->seq)},
	};
	enum { NST = sizeof(st) / sizeof(st[0]) };
	for (size_t i = 0; i < NST; i++) {
		if (!st[i].value)
			return -ENOMEM;
		/* Strings that outlive the event's sharers (the bus's) are copied too:
		 * a subscriber may keep the event after the core is gone. */
		if (st[i].value == bus->uuid || st[i].value == bus->hostname ||
		    st[i].value == bus->ipv4 || st[i].value == bus->ipv6 || st[i].value == sw) {
			st[i].value = arena_strdup(&ev->arena, st[i].value);
			if (!st[i].value)
				return -ENOMEM;
		}
	}
	int err = event_reserve(ev, ev->n + NST);
	if (err)
		return err;
	memmove(&ev->h[at + NST], &ev->h[at], user * sizeof(*ev->h));
	memcpy(&ev->h[at], st, sizeof(st));
	ev->n += NST;
	return 0;
}

static void bus_sweep(struct core_bus *bus)
{
	struct core_sub **pp = &bus->subs;
	while (*pp) {
		struct core_sub *s = *pp;
		if (s->dead) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
	bus->has_dead = false;
}

void core_event_fire(struct core *core, struct core_event *ev)
{
	struct core_bus *bus = &core->bus;
	if (!ev)
		return;
	if (ev->seq) { /* fired twice: a bug in the caller */
		core_event_unref(ev);
		return;
	}
	ev->seq = ++event_seq;
	core->metrics.events_fired++;
	if (event_stamp(core, ev) != 0) {
		log_warn("out of memory: event %s dropped", ev->name);
		core_event_unref(ev);
		return;
	}
	/* The ring takes the caller's reference. */
	struct core_event *old = bus->ring[bus->ring_next];
	if (old) {
		bus->lost_seq = old->seq;
		core_event_unref(old);
	} else {
		bus->ring_count++;
	}
	bus->ring[bus->ring_next] = ev;
	bus->ring_next = (bus->ring_next + 1) % CORE_EVENT_RING;

	/* A subscriber may unsubscribe (itself or another) or subscribe: the
	 * dead stay linked until the outermost delivery is over. */
	core_event_ref(ev);
	bus->delivering++;
	for (struct core_sub *s = bus->subs; s; s = s->next)
		if (!s->dead)
			s->cb(s->arg, ev);
	if (--bus->delivering == 0 && bus->has_dead)
		bus_sweep(bus);
	core_event_unref(ev);
}

int core_subscribe(struct core *core, core_event_cb cb, void *arg, struct core_sub **out)
{
	if (!core || !cb)
		return -EINVAL;
	struct core_sub *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->core = core;
	s->cb = cb;
	s->arg = arg;
	struct core_sub **pp = &core->bus.subs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = s;
	if (out)
		*out = s;
	return 0;
}

void core_unsubscribe(struct core_sub *sub)
{
	if (!sub)
		return;
	struct core_bus *bus = &sub->core->bus;
	sub->dead = true;
	bus->has_dead = true;
	if (bus->delivering == 0)
		bus_sweep(bus);
}

int core_events_since(struct core *core, uint64_t after, core_event_cb cb, void *arg)
{
	struct core_bus *bus = &core->bus;
	if (!cb)
		return -EINVAL;
	if (after < bus->lost_seq)
		return -ERANGE;
	/* Collect first: cb may fire events that rotate the ring under us. */
	size_t start = (bus->ring_next + CORE_EVENT_RING - bus->ring_count) % CORE_EVENT_RING;
	size_t n = 0;
	struct core_event **list = NULL;
	for (size_t i = 0; i < bus->ring_count; i++) {
		struct core_event *ev = bus->ring[(start + i) % CORE_EVENT_RING];
		if (ev->seq <= after)
			continue;
		if (!list) {
			list = malloc((bus->ring_count - i) * sizeof(*list));
			if (!list)
				return -ENOMEM;
		}
		list[n++] = core_event_ref(ev);
	}
	for (size_t i = 0; i < n; i++) {
		cb(arg, list[i]);
		core_event_unref(list[i]);
	}
	free(list);
	return 0;
}

/* ---- HEARTBEAT ---- */

static void heartbeat_cb(uv_timer_t *t)
{
	struct core *core = t->data;
	struct core_event *ev;
	if (core_event_create(&ev, "HEARTBEAT", NULL) != 0)
		return;
	uint64_t up_us = clock_wall_us() - core->bus.started_us;
	uint64_t s = up_us / 1000000;
	core_event_add_header(ev, "Event-Info", "System Ready");
	core_event_add_header(ev, "Up-Time",
			      "0 years, %llu days, %llu hours, %llu minutes, %llu seconds, %llu "
			      "milliseconds, %llu microseconds",
			      (unsigned long long)(s / 86400), (unsigned long long)(s / 3600 % 24),
			      (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60),
			      (unsigned long long)(up_us / 1000 % 1000),
			      (unsigned long long)(up_us % 1000));
	core_event_add_header(ev, "FreeSWITCH-Version", "%s", IRISX_VERSION);
	core_event_add_header(ev, "Uptime-msec", "%llu", (unsigned long long)(up_us / 1000));
	core_event_add_header(ev, "Session-Count", "%zu", core->channel_count);
	core_event_add_header(ev, "Max-Sessions", "%u", core->cfg->sw.max_sessions);
	core_event_add_header(ev, "Session-Per-Sec", "%u", core->cfg->sw.sessions_per_second);
	core_event_add_header(ev, "Session-Since-Startup", "%llu",
			      (unsigned long long)core->sessions_total);
	core_event_add_header(ev, "Idle-CPU", "%s", "100.000000");
	core_event_add_header(ev, "Heartbeat-Interval", "%d", CORE_HEARTBEAT_MS / 1000);
	core_event_fire(core, ev);
}
