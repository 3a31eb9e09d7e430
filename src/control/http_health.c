/*
 * GET /health and GET /metrics: what a load balancer and Prometheus ask.
 * Both are public (no token): they reveal counts and names, not calls.
 *
 * /health answers 200 {"status":"ok"} or 503 {"status":"fail"} with the
 * reasons: a SIP profile that is not running, a gateway that is pinged
 * (OPTIONS) and DOWN, or a CDR store that reports failing writes through its
 * hook (core_set_cdr_hook). A gateway without ping is listed, never fatal: a
 * registration failure alone does not stop calls to other gateways.
 */
#define LOG_MODULE "http"
#include "control/http_int.h"
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct health {
	json_t *profiles, *gateways, *problems;
};

static void health_profile_cb(void *arg, const struct core_profile_info *p)
{
	struct health *hl = arg;
	json_array_append_new(hl->profiles,
			      json_pack("{s:s, s:s, s:I, s:I}", "name", p->name, "state",
					p->running ? "RUNNING" : "DOWN", "calls_in",
					(json_int_t)p->calls_in, "calls_out",
					(json_int_t)p->calls_out));
	if (!p->running)
		json_array_append_new(hl->problems, json_sprintf("profile %s is down", p->name));
}

static void health_gateway_cb(void *arg, const struct core_gateway_info *g)
{
	struct health *hl = arg;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:b}", "name", g->name, "profile", g->profile,
			      "state", g->state, "status", g->up ? "UP" : "DOWN", "pinged",
			      g->pinged);
	if (o && g->last_status)
		json_object_set_new(o, "last_status", json_integer(g->last_status));
	json_array_append_new(hl->gateways, o);
	if (g->pinged && !g->up)
		json_array_append_new(hl->problems,
				      json_sprintf("gateway %s does not answer OPTIONS", g->name));
}

static void get_health(struct http_req *req, void *arg)
{
	struct http *h = arg;
	struct core *core = http_core(h);
	if (!core) { /* a server without a core (routing tests) */
		http_reply_error(req, 503, "unavailable", "no core");
		return;
	}
	struct health hl = {json_array(), json_array(), json_array()};
	json_t *cdr = NULL;
	if (!hl.profiles || !hl.gateways || !hl.problems)
		goto nomem;
	core_profile_each(core, health_profile_cb, &hl);
	core_gateway_each(core, health_gateway_cb, &hl);
	struct core_cdr_status st;
	if (core_cdr_status(core, &st) == 0) {
		cdr = json_pack("{s:s, s:I, s:I, s:I, s:s}", "status", st.failing ? "failing" : "ok",
				"queue_depth", (json_int_t)st.queue_depth, "written",
				(json_int_t)st.written, "spooled", (json_int_t)st.spooled, "detail",
				st.detail);
		if (st.failing)
			json_array_append_new(hl.problems,
					      json_sprintf("CDR store failing: %s", st.detail));
	} else {
		cdr = json_pack("{s:s}", "status", "none");
	}
	if (!cdr)
		goto nomem;
	bool ok = json_array_size(hl.problems) == 0;
	json_t *doc = json_pack("{s:s, s:f, s:o, s:o, s:I, s:o}", "status", ok ? "ok" : "fail",
				"uptime", (double)core_uptime_us(core) / 1e6, "profiles",
				hl.profiles, "gateways", hl.gateways, "calls",
				(json_int_t)core_channel_count(core), "cdr_store", cdr);
	if (!doc) {
		hl.profiles = hl.gateways = cdr = NULL; /* stolen by the failed pack ("o") */
		goto nomem;
	}
	if (!ok)
		json_object_set_new(doc, "problems", hl.problems);
	else
		json_decref(hl.problems);
	http_reply_header(req, "Cache-Control", "no-store");
	http_reply_json(req, ok ? 200 : 503, doc);
	return;
nomem:
	json_decref(hl.profiles);
	json_decref(hl.gateways);
	json_decref(hl.problems);
	json_decref(cdr);
	http_reply_error(req, 500, "internal", "out of memory");
}

static void get_metrics(struct http_req *req, void *arg)
{
	struct http *h = arg;
	if (!http_core(h)) {
		http_reply_error(req, 503, "unavailable", "no core");
		return;
	}
	struct buf out;
	buf_init(&out);
	core_metrics_print(http_core(h), &out);
	if (out.failed) {
		buf_fini(&out);
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.p, out.len);
	buf_fini(&out);
}

int http__health_register(struct http *h)
{
	int err = http_route_add(h, HTTP_GET, "/health", HTTP_ROUTE_PUBLIC | HTTP_ROUTE_NO_LIMIT,
				 get_health, h);
	if (!err)
		err = http_route_add(h, HTTP_GET, "/metrics",
				     HTTP_ROUTE_PUBLIC | HTTP_ROUTE_NO_LIMIT, get_metrics, h);
	return err;
}
