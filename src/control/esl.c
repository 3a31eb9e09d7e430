/*
 * The Event Socket server: the listener,
 * the single subscription to the core's event bus that fans events out to
 * the connections' bounded queues, and the idle handle that runs background
 * jobs and writes queued events on a later loop turn.
 */
#define LOG_MODULE "esl"
#include "control/esl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void on_event(void *arg, struct core_event *ev)
{
	struct esl *esl = arg;
	for (struct esl_conn *c = esl->conns; c; c = c->next) {
		esl__conn_offer(c, ev);
		if (c->ob)
			esl__outbound_event(c, ev);
	}
}

/* The server whose connections get log lines (`log <level>`): one per process. */
static struct esl *g_log_esl;

/* FreeSWITCH's numbers for irisx's levels (3 err … 7 debug). */
static int fs_level(enum log_level l)
{
	return 3 + (int)l;
}

static void log_tap(void *arg, enum log_level level, const char *module, const char *text,
		    size_t len)
{
	struct esl *esl = arg;
	uv_thread_t self = uv_thread_self();
	/* Connections are touched on their loop only. */
	if (esl->destroyed || !uv_thread_equal(&self, &esl->thread))
		return;
	char extra[160];
	snprintf(extra, sizeof(extra), "Log-Level: %d\nText-Channel: 3\nLog-File: %s\n",
		 fs_level(level), module);
	for (struct esl_conn *c = esl->conns, *next; c; c = next) {
		next = c->next;
		if (!c->authed || c->closing || c->log_level < fs_level(level))
			continue;
		/* A slow reader loses log lines rather than growing our memory. */
		if (c->tcp.write_queue_size > ESL_WRITE_HIGH)
			continue;
		/* text[len] is log_write's newline: FreeSWITCH sends it too. */
		esl__conn_send(c, "log/data", extra, text, len + 1);
	}
}

/* Connections whose asynchronous api replied go on with their waiting input. */
static void resume_conns(struct esl *esl)
{
	/* From the head again after each: a command may close connections. */
	struct esl_conn *c = esl->conns;
	while (c) {
		if (!c->resume) {
			c = c->next;
			continue;
		}
		c->resume = false;
		esl__conn_process(c);
		if (esl->destroyed)
			return; /* a command shut the server down */
		c = esl->conns;
	}
}

static void idle_cb(uv_idle_t *h)
{
	struct esl *esl = h->data;
	esl__jobs_run(esl);
	resume_conns(esl);
	if (esl->destroyed)
		return;
	/* A flush may add the connection back (write room freed later). */
	struct esl_conn *list = esl->flush_list;
	esl->flush_list = NULL;
	while (list) {
		struct esl_conn *c = list;
		list = c->flush_next;
		c->flush_pending = false;
		esl__conn_flush(c);
	}
	if (!esl->jobs && !esl->flush_list)
		uv_idle_stop(&esl->idle);
}

void esl__wake(struct esl *esl)
{
	if (!esl->destroyed)
		uv_idle_start(&esl->idle, idle_cb);
}

static void listen_cb(uv_stream_t *s, int status)
{
	struct esl *esl = s->data;
	if (status < 0) {
		log_warn("accept: %s", uv_strerror(status));
		return;
	}
	esl__accept(esl);
}

/* GET /metrics: clients connected now (inbound and outbound), and the counters. */
static void esl_collect_cb(void *arg, struct metrics_writer *w)
{
	struct esl *esl = arg;
	uint64_t clients = 0;
	for (const struct esl_conn *c = esl->conns; c; c = c->next)
		clients++;
	if (metrics_family(w, "irisx_esl_clients", METRIC_GAUGE,
			   "Event Socket connections open now.") == 0)
		metrics_sample_u64(w, NULL, clients, NULL);
	if (metrics_family(w, "irisx_esl_connections_total", METRIC_COUNTER,
			   "Event Socket connections accepted or made since start.") == 0)
		metrics_sample_u64(w, NULL, esl->stats.connections, NULL);
	if (metrics_family(w, "irisx_esl_events_sent_total", METRIC_COUNTER,
			   "Events written to Event Socket clients.") == 0)
		metrics_sample_u64(w, NULL, esl->stats.events_sent, NULL);
	if (metrics_family(w, "irisx_esl_events_dropped_total", METRIC_COUNTER,
			   "Events dropped because an Event Socket client's queue was full.") == 0)
		metrics_sample_u64(w, NULL, esl->stats.events_dropped, NULL);
}

static void server_handle_closed(uv_handle_t *h)
{
	struct esl *esl = h->data;
	if (--esl->open_handles == 0)
		free(esl);
}

int esl_create(struct esl **out, uv_loop_t *loop, struct core *core, struct dialplan *dp,
	       const struct esl_settings *settings)
{
	struct net_addr addr;
	struct esl *esl = calloc(1, sizeof(*esl));
	int rc;

	if (!esl)
		return -ENOMEM;
	esl->loop = loop;
	esl->core = core;
	esl->dp = dp;
	esl->set = *settings;
	esl->jobs_tail = &esl->jobs;
	rc = net_addr_parse(&addr, str_from_cstr(settings->listen_ip), settings->listen_port);
	if (rc) {
		log_err("event socket: bad listen-ip '%s'", settings->listen_ip);
		free(esl);
		return rc;
	}
	uv_tcp_init(loop, &esl->listener);
	uv_idle_init(loop, &esl->idle);
	esl->listener.data = esl;
	esl->idle.data = esl;
	esl->open_handles = 2;
	rc = uv_tcp_bind(&esl->listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&esl->listener, 64, listen_cb);
	if (rc == 0)
		rc = core_subscribe(core, on_event, esl, &esl->sub);
	if (rc) {
		log_err("event socket: cannot listen on %s:%u: %s", settings->listen_ip,
			settings->listen_port, uv_strerror(rc));
		esl->destroyed = true;
		uv_close((uv_handle_t *)&esl->listener, server_handle_closed);
		uv_close((uv_handle_t *)&esl->idle, server_handle_closed);
		return rc;
	}
	log_notice("event socket listening on %s:%u", settings->listen_ip, esl_port(esl));
	esl->thread = uv_thread_self();
	g_log_esl = esl;
	log_set_tap(log_tap, esl);
	esl__outbound_attach(esl);
	/* Without memory for it the metrics lack the Event Socket's, nothing else. */
	core_metrics_register(core, esl_collect_cb, esl, &esl->collector);
	*out = esl;
	return 0;
}

uint16_t esl_port(const struct esl *esl)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_tcp_getsockname(&esl->listener, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void esl_stats_get(const struct esl *esl, struct esl_stats *out)
{
	*out = esl->stats;
}

void esl_destroy(struct esl *esl)
{
	if (!esl || esl->destroyed)
		return;
	if (esl->in_command) {
		/* Called from a command (`api fsctl shutdown`): its reply goes out first. */
		esl->destroy_pending = true;
		return;
	}
	esl->destroyed = true;
	esl__outbound_detach(esl);
	if (g_log_esl == esl) {
		log_set_tap(NULL, NULL);
		g_log_esl = NULL;
	}
	if (esl->sub)
		core_unsubscribe(esl->sub);
	esl->sub = NULL;
	core_metrics_unregister(esl->collector);
	esl->collector = NULL;
	esl__jobs_drop(esl);
	while (esl->conns)
		esl__conn_finish(esl->conns); /* unlinks it; closes once written */
	esl->flush_list = NULL;
	uv_close((uv_handle_t *)&esl->listener, server_handle_closed);
	uv_close((uv_handle_t *)&esl->idle, server_handle_closed);
}
