/*
 * The Event Socket's outbound mode: the dialplan application
 * `socket <host:port> [async] [full]` connects to an application server,
 * which drives the call over the same protocol as inbound mode (the
 * commands are esl_cmd.c's; only what differs lives here), as
 * FreeSWITCH's mod_event_socket does:
 *  - no auth: the server sends `connect` and gets the channel's data back
 *    (a command/reply with CHANNEL_DATA's headers);
 *  - sendmsg and myevents without a uuid mean this channel;
 *  - the application stays pending while the connection lives; when the
 *    socket closes the dialplan goes on with the next action; a connect
 *    failure completes the application with the error (the dialplan goes
 *    on: an explicit hangup after socket decides what a failure means);
 *  - when the channel hangs up, the events queued so far, then a
 *    text/disconnect-notice go out and the socket closes (after `linger`
 *    seconds when the server asked to linger).
 * The connect is non-blocking (uv_tcp_connect); nothing here waits.
 */
#define LOG_MODULE "esl"
#include "control/esl_int.h"
#include "dialplan/dialplan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ESL_LINGER_DEFAULT_SECS = 30 };

struct esl_outbound {
	struct esl_conn *c; /* NULL once the connection is closed */
	struct core *core;
	uv_connect_t connect;
	uv_timer_t timer; /* closes after hangup (linger); frees this struct */
	char uuid[UUID_STRLEN + 1];
	channel_done_cb cb;
	void *cb_arg;
	int status; /* what the application completes with */
	bool async, full, connected, hangup_seen;
};

/* The server new outbound connections join (set by esl_create). */
static struct esl *g_outbound_esl;

void esl__outbound_attach(struct esl *esl)
{
	g_outbound_esl = esl;
}

void esl__outbound_detach(struct esl *esl)
{
	if (g_outbound_esl == esl)
		g_outbound_esl = NULL;
}

const char *esl__outbound_uuid(const struct esl_conn *c)
{
	return c->ob ? c->ob->uuid : "";
}

static void ob_free_cb(uv_handle_t *h)
{
	free(h->data);
}

void esl__outbound_closed(struct esl_conn *c)
{
	struct esl_outbound *ob = c->ob;
	c->ob = NULL;
	ob->c = NULL;
	/* The executor's state lives until the channel is destroyed: a channel
	 * still found may be told, a destroyed one is not. */
	struct channel *ch = core_channel_find(ob->core, ob->uuid);
	log_info("[%s] outbound socket closed", ob->uuid);
	if (ch && ob->cb)
		ob->cb(ch, ob->cb_arg, ob->status);
	uv_close((uv_handle_t *)&ob->timer, ob_free_cb);
}

static void timer_cb(uv_timer_t *t)
{
	struct esl_outbound *ob = t->data;
	struct esl_conn *c = ob->c;
	if (!c || c->closing)
		return;
	esl__conn_flush(c); /* the hangup's events before the notice */
	esl__conn_finish(c);
}

void esl__outbound_event(struct esl_conn *c, struct core_event *ev)
{
	struct esl_outbound *ob = c->ob;
	if (ob->hangup_seen || strcmp(core_event_name(ev), "CHANNEL_HANGUP_COMPLETE") != 0)
		return;
	const char *u = core_event_header(ev, "Unique-ID");
	if (!u || strcmp(u, ob->uuid) != 0)
		return;
	ob->hangup_seen = true;
	uint64_t ms = 0;
	if (c->linger)
		ms = 1000ull * (c->linger_secs ? c->linger_secs : ESL_LINGER_DEFAULT_SECS);
	/* Not from here: we are inside the bus's fan-out. */
	uv_timer_start(&ob->timer, timer_cb, ms, 0);
}

void esl__outbound_connect(struct esl_conn *c)
{
	struct esl_outbound *ob = c->ob;
	struct channel *ch = core_channel_find(ob->core, ob->uuid);
	if (!ch) {
		esl__conn_reply(c, "-ERR channel gone");
		return;
	}
	struct core_event *ev = channel_event_build(ch, "CHANNEL_DATA");
	if (!ev) {
		esl__conn_reply(c, "-ERR out of memory");
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_printf(&b,
		   "Content-Type: command/reply\nReply-Text: +OK\nSocket-Mode: %s\nControl: %s\n",
		   ob->async ? "async" : "static", ob->full ? "full" : "single-channel");
	core_event_print_plain(ev, &b);
	core_event_unref(ev);
	esl__conn_send_raw(c, &b);
	buf_fini(&b);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct esl_outbound *ob = req->data;
	struct esl_conn *c = ob->c;
	if (!c || c->closing)
		return;
	if (status < 0) {
		log_warn("[%s] socket: cannot connect: %s", ob->uuid, uv_strerror(status));
		ob->status = status;
		esl__conn_close(c);
		return;
	}
	ob->connected = true;
	log_info("[%s] outbound socket connected", ob->uuid);
	esl__conn_read_start(c);
}

/* "host:port", "[v6]:port". */
static int target_parse(struct str t, struct net_addr *addr)
{
	ptrdiff_t colon = -1;
	for (size_t i = 0; i < t.len; i++)
		if (t.p[i] == ':')
			colon = (ptrdiff_t)i;
	if (colon <= 0)
		return -EINVAL;
	struct str host = {t.p, (size_t)colon};
	struct str port = {t.p + colon + 1, t.len - (size_t)colon - 1};
	uint32_t n;
	if (str_to_u32(port, &n) != 0 || n == 0 || n > 65535)
		return -EINVAL;
	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
	}
	return net_addr_parse(addr, host, (uint16_t)n);
}

static int socket_app_run(void *arg, struct channel *ch, const char *data, channel_done_cb cb,
			  void *cb_arg)
{
	(void)arg;
	struct esl *esl = g_outbound_esl;
	struct str rest = str_from_cstr(data), w, target;
	struct net_addr addr;
	bool async = false, full = false;

	if (!esl || esl->destroyed) {
		log_warn("%s socket: the event socket is not running", ch->uuid);
		return -ENOTCONN;
	}
	if (!esl_word_next(&rest, &target) || target_parse(target, &addr) != 0) {
		log_warn("%s socket: '%s' is not host:port", ch->uuid, data);
		return -EINVAL;
	}
	while (esl_word_next(&rest, &w)) {
		if (str_ieq_cstr(w, "async"))
			async = true;
		else if (str_ieq_cstr(w, "full"))
			full = true;
	}
	struct esl_outbound *ob = calloc(1, sizeof(*ob));
	struct esl_conn *c = ob ? esl__conn_new(esl) : NULL;
	if (!c) {
		free(ob);
		return -ENOMEM;
	}
	ob->c = c;
	ob->core = esl->core;
	memcpy(ob->uuid, ch->uuid, sizeof(ch->uuid));
	ob->uuid[UUID_STRLEN] = '\0';
	ob->cb = cb;
	ob->cb_arg = cb_arg;
	ob->async = async;
	ob->full = full;
	ob->connect.data = ob;
	uv_timer_init(esl->loop, &ob->timer);
	ob->timer.data = ob;
	c->ob = ob;
	c->authed = true; /* the server we chose needs no password */
	esl__conn_link(c, esl);
	esl->stats.connections++;
	int rc =
	    uv_tcp_connect(&ob->connect, &c->tcp, (const struct sockaddr *)&addr.u, connect_cb);
	if (rc < 0) {
		/* The close callback would complete the application: it fails here. */
		ob->cb = NULL;
		esl__conn_close(c);
		log_warn("%s socket: cannot connect: %s", ch->uuid, uv_strerror(rc));
		return rc;
	}
	log_info("%s socket: connecting to %.*s", ch->uuid, (int)target.len, target.p);
	return DIALPLAN_APP_PENDING;
}

int esl_apps_register(void)
{
	int rc =
	    dialplan_app_register("socket", "<host:port> [async] [full]", 0, socket_app_run, NULL);
	return rc == -EEXIST ? 0 : rc;
}
