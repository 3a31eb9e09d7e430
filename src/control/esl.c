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
	for (struct esl_conn *c = esl->conns; c; c = c->next)
		esl__conn_offer(c, ev);
}

static void idle_cb(uv_idle_t *h)
{
	struct esl *esl = h->data;
	esl__jobs_run(esl);
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
	esl->destroyed = true;
	if (esl->sub)
		core_unsubscribe(esl->sub);
	esl->sub = NULL;
	while (esl->jobs) {
		struct esl_job *j = esl->jobs;
		esl->jobs = j->next;
		free(j->cmd);
		free(j);
	}
	while (esl->conns)
		esl__conn_close(esl->conns); /* unlinks it */
	esl->flush_list = NULL;
	uv_close((uv_handle_t *)&esl->listener, server_handle_closed);
	uv_close((uv_handle_t *)&esl->idle, server_handle_closed);
}
