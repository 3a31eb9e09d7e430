/*
 * What the core reports to GET /metrics and /health: calls by direction and
 * hangup cause, SIP messages per profile (the UA's counters), RTP totals
 * (closed streams plus the live ones, read at scrape), gateways, events and
 * the CDR store through the hook the store fills in. The collectors of the
 * other modules (the Event Socket, the HTTP doors) follow the core's.
 *
 * Counting is a plain increment on the loop; everything else (walking the
 * live channels, formatting) happens only when someone scrapes.
 */
#define LOG_MODULE "metrics"
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const direction_names[2] = {"inbound", "outbound"};

void core__metrics_channel_end(struct channel *ch)
{
	enum core_cause cause = ch->cause < CAUSE_COUNT ? ch->cause : CAUSE_NONE;
	ch->core->metrics.calls_ended[ch->direction == CHANNEL_OUTBOUND][cause]++;
}

void core__metrics_stream_end(struct core *core, const struct media_stats *st)
{
	struct core_metrics *m = &core->metrics;
	m->rtp_packets_in += st->packets_in;
	m->rtp_packets_out += st->packets_out;
	m->rtp_lost += st->lost;
	m->rtp_dropped += st->packets_dropped;
	if (st->packets_in) {
		m->rtp_streams++;
		m->rtp_jitter_sum += st->jitter_ms;
	}
}

void core__metrics_fini(struct core *core)
{
	struct core_collector *c = core->metrics.collectors;
	while (c) {
		struct core_collector *next = c->next;
		free(c);
		c = next;
	}
	core->metrics.collectors = NULL;
}

int core_metrics_register(struct core *core, metrics_collect_cb cb, void *arg,
			  struct core_collector **out)
{
	if (!core || !cb)
		return -EINVAL;
	struct core_collector *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->core = core;
	c->cb = cb;
	c->arg = arg;
	/* At the tail: families come out in registration order. */
	struct core_collector **pp = &core->metrics.collectors;
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	if (out)
		*out = c;
	return 0;
}

void core_metrics_unregister(struct core_collector *c)
{
	if (!c)
		return;
	for (struct core_collector **pp = &c->core->metrics.collectors; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	free(c);
}

void core_set_cdr_hook(struct core *core, const struct core_cdr_hook *hook)
{
	core->metrics.cdr_set = hook && hook->status_cb;
	core->metrics.cdr = core->metrics.cdr_set ? *hook : (struct core_cdr_hook){0};
}

int core_cdr_status(struct core *core, struct core_cdr_status *out)
{
	memset(out, 0, sizeof(*out));
	if (!core->metrics.cdr_set)
		return -ENOENT;
	core->metrics.cdr.status_cb(core->metrics.cdr.arg, out);
	return 0;
}

uint64_t core_uptime_us(const struct core *core)
{
	uint64_t now = clock_wall_us();
	return now > core->bus.started_us ? now - core->bus.started_us : 0;
}

void core_profile_each(struct core *core, void (*cb)(void *arg, const struct core_profile_info *p),
		       void *arg)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		const struct profile *p = &core->profiles[i];
		struct core_profile_info info = {
		    .name = p->cfg->name,
		    .running = p->ua != NULL,
		    .calls_in = p->calls_in,
		    .calls_out = p->calls_out,
		    .failed_calls_in = p->failed_calls_in,
		    .failed_calls_out = p->failed_calls_out,
		};
		cb(arg, &info);
	}
}

void core_gateway_each(struct core *core, void (*cb)(void *arg, const struct core_gateway_info *g),
		       void *arg)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		const struct profile *p = &core->profiles[i];
		for (size_t j = 0; j < p->cfg->gateway_count; j++) {
			const struct gateway *g = &p->gateways[j];
			struct sip_gateway_status st = {
			    .state = g->cfg->do_register ? SIP_GW_UNREGED : SIP_GW_NOREG};
			if (g->sip)
				sip_gateway_status(g->sip, &st);
			bool up;
			if (g->cfg->ping_seconds)
				up = g->sip && st.up;
			else
				up = st.state == SIP_GW_NOREG || st.state == SIP_GW_REGED;
			struct core_gateway_info info = {
			    .name = g->cfg->name,
			    .profile = p->cfg->name,
			    .state = sip_gateway_state_name(st.state),
			    .pinged = g->cfg->ping_seconds != 0,
			    .up = up,
			    .last_status = st.last_status,
			};
			cb(arg, &info);
		}
	}
}

/* ---- the core's families ---- */

static void collect_calls(struct core *core, struct metrics_writer *w)
{
	const struct core_metrics *m = &core->metrics;
	size_t active[2] = {0, 0};
	for (const struct channel *ch = core->channels; ch; ch = ch->next)
		active[ch->direction == CHANNEL_OUTBOUND]++;

	if (metrics_family(w, "irisx_calls_active", METRIC_GAUGE,
			   "Channels alive now, by direction.") == 0) {
		for (size_t d = 0; d < 2; d++)
			metrics_sample_u64(w, NULL, active[d],
					   (const char *const[]){"direction", direction_names[d],
								 NULL});
	}
	if (metrics_family(w, "irisx_calls_total", METRIC_COUNTER,
			   "Channels created since start, by direction.") == 0) {
		for (size_t d = 0; d < 2; d++)
			metrics_sample_u64(w, NULL, m->calls_total[d],
					   (const char *const[]){"direction", direction_names[d],
								 NULL});
	}
	if (metrics_family(w, "irisx_calls_ended_total", METRIC_COUNTER,
			   "Channels ended since start, by direction and hangup cause.") == 0) {
		for (size_t d = 0; d < 2; d++) {
			for (size_t c = 0; c < CAUSE_COUNT; c++) {
				if (!m->calls_ended[d][c])
					continue;
				metrics_sample_u64(
				    w, NULL, m->calls_ended[d][c],
				    (const char *const[]){"direction", direction_names[d], "cause",
							  core_cause_name((enum core_cause)c),
							  NULL});
			}
		}
	}
}

struct sip_collect {
	struct metrics_writer *w;
	const char *profile;
	bool responses;
};

static void sip_count_cb(void *arg, const struct sip_msg_count *c)
{
	struct sip_collect *sc = arg;
	if ((c->status != 0) != sc->responses)
		return;
	const char *dir = c->out ? "out" : "in";
	const char *method = sip_method_name(c->method);
	if (!sc->responses) {
		metrics_sample_u64(sc->w, NULL, c->count,
				   (const char *const[]){"profile", sc->profile, "direction", dir,
							 "method", method, NULL});
		return;
	}
	char status[8];
	snprintf(status, sizeof(status), "%u", c->status);
	metrics_sample_u64(sc->w, NULL, c->count,
			   (const char *const[]){"profile", sc->profile, "direction", dir,
						 "method", method, "status", status, NULL});
}

static void collect_sip(struct core *core, struct metrics_writer *w)
{
	static const char *const names[2] = {"irisx_sip_requests_total",
					     "irisx_sip_responses_total"};
	static const char *const helps[2] = {
	    "SIP requests received (in) and sent (out, retransmissions included), by profile "
	    "and method.",
	    "SIP responses received (in) and sent (out, retransmissions included), by profile, "
	    "CSeq method and status."};
	uint64_t overflow = 0;
	for (int r = 0; r < 2; r++) {
		if (metrics_family(w, names[r], METRIC_COUNTER, helps[r]) != 0)
			continue;
		for (size_t i = 0; i < core->profile_count; i++) {
			const struct profile *p = &core->profiles[i];
			if (!p->ua)
				continue;
			struct sip_collect sc = {.w = w, .profile = p->cfg->name, .responses = r};
			uint64_t o = sip_ua_counts_each(p->ua, sip_count_cb, &sc);
			if (r == 0)
				overflow += o;
		}
	}
	if (metrics_family(w, "irisx_sip_messages_uncounted_total", METRIC_COUNTER,
			   "SIP messages past the counters' table, counted here only.") == 0)
		metrics_sample_u64(w, NULL, overflow, NULL);
}

static void collect_rtp(struct core *core, struct metrics_writer *w)
{
	const struct core_metrics *m = &core->metrics;
	uint64_t in = m->rtp_packets_in, out = m->rtp_packets_out, lost = m->rtp_lost;
	uint64_t dropped = m->rtp_dropped, streams = 0;
	double jitter_max = 0;
	for (const struct channel *ch = core->channels; ch; ch = ch->next) {
		if (!ch->media || !ch->media->stream)
			continue;
		struct media_stats st;
		media_stream_stats(ch->media->stream, &st);
		in += st.packets_in;
		out += st.packets_out;
		lost += st.lost;
		dropped += st.packets_dropped;
		streams++;
		if (st.jitter_ms > jitter_max)
			jitter_max = st.jitter_ms;
	}
	if (metrics_family(w, "irisx_rtp_packets_total", METRIC_COUNTER,
			   "RTP packets received and sent, live and closed streams.") == 0) {
		metrics_sample_u64(w, NULL, in, (const char *const[]){"direction", "in", NULL});
		metrics_sample_u64(w, NULL, out, (const char *const[]){"direction", "out", NULL});
	}
	if (metrics_family(w, "irisx_rtp_packets_lost_total", METRIC_COUNTER,
			   "RTP packets lost (expected minus received, RFC 3550 A.3).") == 0)
		metrics_sample_u64(w, NULL, lost, NULL);
	if (metrics_family(w, "irisx_rtp_packets_dropped_total", METRIC_COUNTER,
			   "RTP packets dropped: malformed, unknown payload type, late.") == 0)
		metrics_sample_u64(w, NULL, dropped, NULL);
	if (metrics_family(w, "irisx_rtp_streams_active", METRIC_GAUGE,
			   "RTP streams open now.") == 0)
		metrics_sample_u64(w, NULL, streams, NULL);
	if (metrics_family(w, "irisx_rtp_jitter_max_milliseconds", METRIC_GAUGE,
			   "The highest interarrival jitter among live streams (RFC 3550 A.8).") ==
	    0)
		metrics_sample(w, NULL, jitter_max, NULL);
	if (metrics_family(w, "irisx_rtp_stream_jitter_milliseconds", METRIC_SUMMARY,
			   "Interarrival jitter of each closed stream that received audio, at "
			   "hangup.") == 0) {
		metrics_sample(w, "_sum", m->rtp_jitter_sum, NULL);
		metrics_sample_u64(w, "_count", m->rtp_streams, NULL);
	}
}

struct gw_collect {
	struct metrics_writer *w;
	size_t up, count;
	bool samples;
};

static void gateway_metric_cb(void *arg, const struct core_gateway_info *g)
{
	struct gw_collect *gc = arg;
	gc->count++;
	gc->up += g->up;
	if (gc->samples)
		metrics_sample_u64(gc->w, NULL, g->up,
				   (const char *const[]){"gateway", g->name, "profile", g->profile,
							 NULL});
}

static void collect_gateways(struct core *core, struct metrics_writer *w)
{
	struct gw_collect gc = {.w = w};
	gc.samples = metrics_family(w, "irisx_gateway_up", METRIC_GAUGE,
				    "1 when the gateway is up (ping answered or registered).") == 0;
	core_gateway_each(core, gateway_metric_cb, &gc);
	if (metrics_family(w, "irisx_gateways_up", METRIC_GAUGE, "Gateways up.") == 0)
		metrics_sample_u64(w, NULL, gc.up, NULL);
	if (metrics_family(w, "irisx_gateways", METRIC_GAUGE, "Gateways configured.") == 0)
		metrics_sample_u64(w, NULL, gc.count, NULL);
}

static void collect_misc(struct core *core, struct metrics_writer *w)
{
	if (metrics_family(w, "irisx_uptime_seconds", METRIC_GAUGE,
			   "Seconds since the server started.") == 0)
		metrics_sample(w, NULL, (double)core_uptime_us(core) / 1e6, NULL);
	if (metrics_family(w, "irisx_events_fired_total", METRIC_COUNTER,
			   "Events fired on the event bus.") == 0)
		metrics_sample_u64(w, NULL, core->metrics.events_fired, NULL);
	struct core_cdr_status st;
	if (core_cdr_status(core, &st) != 0)
		return;
	if (metrics_family(w, "irisx_cdr_queue_depth", METRIC_GAUGE,
			   "CDRs waiting to be written.") == 0)
		metrics_sample_u64(w, NULL, st.queue_depth, NULL);
	if (metrics_family(w, "irisx_cdr_store_up", METRIC_GAUGE,
			   "1 while CDR writes succeed.") == 0)
		metrics_sample_u64(w, NULL, !st.failing, NULL);
	if (metrics_family(w, "irisx_cdr_written_total", METRIC_COUNTER, "CDRs written.") == 0)
		metrics_sample_u64(w, NULL, st.written, NULL);
	if (metrics_family(w, "irisx_cdr_spooled_total", METRIC_COUNTER,
			   "CDRs written to the spool while the store failed.") == 0)
		metrics_sample_u64(w, NULL, st.spooled, NULL);
}

void core_metrics_print(struct core *core, struct buf *out)
{
	struct metrics_writer w;
	metrics_writer_init(&w, out);
	collect_calls(core, &w);
	collect_sip(core, &w);
	collect_rtp(core, &w);
	collect_gateways(core, &w);
	collect_misc(core, &w);
	/* A collector must not (un)register collectors from its callback. */
	for (const struct core_collector *c = core->metrics.collectors; c; c = c->next)
		c->cb(c->arg, &w);
	if (w.errors)
		log_warn("metrics: %zu bad families or samples left out", w.errors);
}
