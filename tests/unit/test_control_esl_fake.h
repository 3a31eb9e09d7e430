/*
 * A small in-test event bus and command registry with the behaviour
 * src/core/core.h promises (immutable fired events shared by reference count,
 * a strictly increasing Event-Sequence, a bounded ring that core_events_since
 * replays or refuses with -ERANGE, synchronous subscribers), so the Event
 * Socket can be tested over real TCP without SIP listeners. Also a channel
 * lookup and an application runner that record what they were asked.
 */
#ifndef IRISX_TEST_CONTROL_ESL_FAKE_H
#define IRISX_TEST_CONTROL_ESL_FAKE_H

#include "core/core.h"
#include "dialplan/dialplan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { FAKE_HDR_MAX = 64, FAKE_RING = 16, FAKE_SUBS = 4 };

struct core_event {
	int refs;
	char *name, *subclass;
	uint64_t seq;
	char *hn[FAKE_HDR_MAX], *hv[FAKE_HDR_MAX];
	size_t count;
	char *body;
	size_t body_len;
};

struct core_sub {
	core_event_cb cb;
	void *arg;
	bool used;
};

static struct {
	uint64_t seq;
	struct core_event *ring[FAKE_RING];
	size_t ring_len, ring_head;
	struct core_sub subs[FAKE_SUBS];
	/* what sendmsg did */
	char exec_app[64], exec_arg[256], app_uuid[64];
	int exec_count;
	enum core_cause hangup_cause;
	int hangup_count;
} fake;

static struct channel *fake_channel = (struct channel *)&fake; /* never dereferenced */
static const char fake_channel_uuid[] = "c0ffee00-0000-4000-8000-000000000001";

int core_event_create(struct core_event **out, const char *name, const char *subclass)
{
	struct core_event *ev = calloc(1, sizeof(*ev));
	if (!ev || !name || !*name) {
		free(ev);
		return -EINVAL;
	}
	ev->refs = 1;
	ev->name = strdup(name);
	ev->subclass = subclass ? strdup(subclass) : NULL;
	if (subclass)
		core_event_add_header(ev, "Event-Subclass", "%s", subclass);
	*out = ev;
	return 0;
}

int core_event_add_header(struct core_event *ev, const char *name, const char *fmt, ...)
{
	char v[8192];
	va_list ap;
	if (ev->count == FAKE_HDR_MAX)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	ev->hn[ev->count] = strdup(name);
	ev->hv[ev->count] = strdup(v);
	ev->count++;
	return 0;
}

int core_event_set_body(struct core_event *ev, const char *body, size_t len)
{
	free(ev->body);
	ev->body = malloc(len + 1);
	memcpy(ev->body, body, len);
	ev->body[len] = '\0';
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
	for (size_t i = 0; i < ev->count; i++) {
		free(ev->hn[i]);
		free(ev->hv[i]);
	}
	free(ev->name);
	free(ev->subclass);
	free(ev->body);
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
	for (size_t i = 0; i < ev->count; i++)
		if (strcasecmp(ev->hn[i], name) == 0)
			return ev->hv[i];
	return NULL;
}
size_t core_event_header_count(const struct core_event *ev)
{
	return ev->count;
}
void core_event_header_at(const struct core_event *ev, size_t i, const char **name,
			  const char **value)
{
	*name = ev->hn[i];
	*value = ev->hv[i];
}
const char *core_event_body(const struct core_event *ev, size_t *len)
{
	*len = ev->body_len;
	return ev->body;
}

void core_event_fire(struct core *core, struct core_event *ev)
{
	ev->seq = ++fake.seq;
	core_event_add_header(ev, "Event-Name", "%s", ev->name);
	core_event_add_header(ev, "Event-Sequence", "%llu", (unsigned long long)ev->seq);
	if (fake.ring_len == FAKE_RING) {
		core_event_unref(fake.ring[fake.ring_head]);
		fake.ring_head = (fake.ring_head + 1) % FAKE_RING;
		fake.ring_len--;
	}
	fake.ring[(fake.ring_head + fake.ring_len) % FAKE_RING] = ev;
	fake.ring_len++;
	for (int i = 0; i < FAKE_SUBS; i++)
		if (fake.subs[i].used)
			fake.subs[i].cb(fake.subs[i].arg, ev);
}

int core_subscribe(struct core *core, core_event_cb cb, void *arg, struct core_sub **out)
{
	for (int i = 0; i < FAKE_SUBS; i++)
		if (!fake.subs[i].used) {
			fake.subs[i] = (struct core_sub){cb, arg, true};
			*out = &fake.subs[i];
			return 0;
		}
	return -ENOMEM;
}

void core_unsubscribe(struct core_sub *sub)
{
	sub->used = false;
}

int core_events_since(struct core *core, uint64_t after, core_event_cb cb, void *arg)
{
	if (fake.ring_len == 0)
		return after >= fake.seq ? 0 : -ERANGE;
	uint64_t oldest = fake.ring[fake.ring_head]->seq;
	if (after + 1 < oldest)
		return -ERANGE;
	for (size_t i = 0; i < fake.ring_len; i++) {
		struct core_event *ev = fake.ring[(fake.ring_head + i) % FAKE_RING];
		if (ev->seq > after)
			cb(arg, ev);
	}
	return 0;
}

/* No core ACLs: the server uses its settings' set. */
const struct acl_set *core_acls(const struct core *core)
{
	(void)core;
	return NULL;
}

const char *core_uuid(const struct core *core)
{
	return "00000000-0000-4000-8000-00000000c0de";
}

/* "Name: value\n" per header (values unencoded here), body after a Content-Length. */
void core_event_print_plain(const struct core_event *ev, struct buf *out)
{
	for (size_t i = 0; i < ev->count; i++)
		buf_printf(out, "%s: %s\n", ev->hn[i], ev->hv[i]);
	if (ev->body) {
		buf_printf(out, "Content-Length: %zu\n\n", ev->body_len);
		buf_append(out, ev->body, ev->body_len);
	} else {
		buf_append(out, "\n", 1);
	}
}

void core_event_print_json(const struct core_event *ev, struct buf *out)
{
	buf_append_cstr(out, "{");
	for (size_t i = 0; i < ev->count; i++)
		buf_printf(out, "%s\"%s\":\"%s\"", i ? "," : "", ev->hn[i], ev->hv[i]);
	buf_append_cstr(out, "}");
}

void core_event_print_xml(const struct core_event *ev, struct buf *out)
{
	buf_append_cstr(out, "<event><headers>");
	for (size_t i = 0; i < ev->count; i++)
		buf_printf(out, "<%s>%s</%s>", ev->hn[i], ev->hv[i], ev->hn[i]);
	buf_append_cstr(out, "</headers></event>");
}

/* What "shutdown" stops (as main's fsctl shutdown does): set by the test. */
static void (*fake_shutdown_fn)(void *arg);
static void *fake_shutdown_arg;

/* Three commands: "echo <text>", "status" and "shutdown". */
static void fake_command_execute(const char *line, struct buf *out)
{
	if (strcmp(line, "shutdown") == 0 && fake_shutdown_fn) {
		fake_shutdown_fn(fake_shutdown_arg);
		buf_append_cstr(out, "+OK shutting down\n");
	} else if (strncmp(line, "echo ", 5) == 0)
		buf_append_cstr(out, line + 5);
	else if (strcmp(line, "status") == 0)
		buf_append_cstr(out, "UP 0 years, 0 days\n");
	else
		buf_printf(out, "-ERR %s Command not found!\n", line);
}

/* And an asynchronous one, "slow <text>": it replies <text> when the test
 * calls fake_slow_finish(), oldest first. */
enum { FAKE_SLOW_MAX = 8 };
struct core_reply {
	core_command_done_cb cb; /* NULL once detached */
	void *arg;
	char text[256];
};
static struct core_reply *fake_slow[FAKE_SLOW_MAX];
static int fake_slow_count;

struct core_reply *core_command_run(struct core *core, const char *line, core_command_done_cb cb,
				    void *arg)
{
	if (strncmp(line, "slow ", 5) == 0 && fake_slow_count < FAKE_SLOW_MAX) {
		struct core_reply *r = calloc(1, sizeof(*r));
		r->cb = cb;
		r->arg = arg;
		snprintf(r->text, sizeof(r->text), "%s", line + 5);
		fake_slow[fake_slow_count++] = r;
		return r;
	}
	struct buf out;
	buf_init(&out);
	fake_command_execute(line, &out);
	cb(arg, out.p ? out.p : "", out.len);
	buf_fini(&out);
	return NULL;
}

void core_reply_detach(struct core_reply *r)
{
	if (r)
		r->cb = NULL;
}

/* Completes the oldest slow command; whether a door still wanted its reply. */
static inline bool fake_slow_finish(void)
{
	if (fake_slow_count == 0)
		return false;
	struct core_reply *r = fake_slow[0];
	memmove(fake_slow, fake_slow + 1, (size_t)--fake_slow_count * sizeof(*fake_slow));
	bool wanted = r->cb != NULL;
	if (r->cb)
		r->cb(r->arg, r->text, strlen(r->text));
	free(r);
	return wanted;
}

struct channel *core_channel_find(struct core *core, const char *uuid)
{
	return strcmp(uuid, fake_channel_uuid) == 0 ? fake_channel : NULL;
}

int channel_var_set(struct channel *ch, const char *name, const char *value)
{
	if (strcmp(name, "app_uuid") == 0)
		snprintf(fake.app_uuid, sizeof(fake.app_uuid), "%s", value ? value : "");
	return 0;
}

void channel_hangup(struct channel *ch, enum core_cause cause)
{
	fake.hangup_cause = cause;
	fake.hangup_count++;
}

int dialplan_app_execute(struct dialplan *dp, struct channel *ch, const char *name,
			 const char *data, channel_done_cb cb, void *arg)
{
	if (strcmp(name, "nosuchapp") == 0)
		return -ENOENT;
	snprintf(fake.exec_app, sizeof(fake.exec_app), "%s", name);
	snprintf(fake.exec_arg, sizeof(fake.exec_arg), "%s", data);
	fake.exec_count++;
	return DIALPLAN_APP_DONE;
}

/* The outbound mode's needs: the CHANNEL_DATA event and the registry. */
struct core_event *channel_event_build(struct channel *ch, const char *name)
{
	struct core_event *ev = NULL;
	if (core_event_create(&ev, name, NULL) != 0)
		return NULL;
	/* The real bus names events at creation; the fake at firing. */
	core_event_add_header(ev, "Event-Name", "%s", name);
	core_event_add_header(ev, "Unique-ID", "%s", fake_channel_uuid);
	core_event_add_header(ev, "Caller-Destination-Number", "%s", "9000");
	return ev;
}

static dialplan_app_run_cb fake_app_run;
static char fake_app_name[32];

int dialplan_app_register(const char *name, const char *usage, unsigned flags,
			  dialplan_app_run_cb run, void *arg)
{
	snprintf(fake_app_name, sizeof(fake_app_name), "%s", name);
	fake_app_run = run;
	return 0;
}

static void fake_reset(void)
{
	while (fake_slow_count > 0)
		free(fake_slow[--fake_slow_count]);
	for (size_t i = 0; i < fake.ring_len; i++)
		core_event_unref(fake.ring[(fake.ring_head + i) % FAKE_RING]);
	uint64_t seq = fake.seq;
	memset(&fake, 0, sizeof(fake));
	fake.seq = seq; /* sequences never go back, as in one process run */
}

#endif
