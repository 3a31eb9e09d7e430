/*
 * A CDR for every leg, made at CHANNEL_HANGUP_COMPLETE (channel.c's
 * CS_HANGUP step): by then the leg's cause, times, bridge variables and
 * final RTP counters (kept by core__media_hangup when it closed the stream)
 * are all known, and the channel is still alive to read them from.
 *
 * The record's strings are borrowed from the channel: cdr_store_submit()
 * serializes it before returning, on this thread, without disk I/O.
 */
#define LOG_MODULE "core"
#include "core_int.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/*
 * The store's health as /health and the irisx_cdr_* metrics read it. The
 * store counts per sink; the core's view is the whole: failing when the
 * spool cannot write or any sink is down, the backlog of the slowest sink,
 * and "written" as what every sink has stored.
 */
static void cdr_status(void *arg, struct core_cdr_status *out)
{
	struct cdr_store_stats s;
	cdr_store_stats(arg, &s);
	memset(out, 0, sizeof(*out));
	out->spooled = s.spooled;
	/* The spool retries a failed append until it lands: it fails now
	 * while records wait behind an error, not for an error long past. */
	bool spool_failing = s.spool_errors > 0 && s.submitted > s.spooled;
	out->failing = spool_failing;
	bool first = true;
	for (size_t i = 0; i < s.sink_count; i++) {
		const struct cdr_sink_stats *k = &s.sinks[i];
		if (k->backlog > out->queue_depth)
			out->queue_depth = k->backlog;
		if (first || k->stored < out->written)
			out->written = k->stored;
		first = false;
		/* Not up and never failed: its thread is still opening it. */
		bool down = !k->up && (k->error[0] || k->failures > 0);
		if (down && !out->failing)
			snprintf(out->detail, sizeof(out->detail), "%s: %s", k->name,
				 k->error[0] ? k->error : "down");
		if (down)
			out->failing = true;
	}
	if (spool_failing)
		snprintf(out->detail, sizeof(out->detail), "spool: %llu write errors",
			 (unsigned long long)s.spool_errors);
	else if (!out->failing) {
		size_t n = 0;
		for (size_t i = 0; i < s.sink_count && n < sizeof(out->detail); i++)
			n += (size_t)snprintf(out->detail + n, sizeof(out->detail) - n, "%s%s",
					      i ? "," : "", s.sinks[i].name);
	}
}

void core_set_cdr_store(struct core *core, struct cdr_store *st)
{
	core->cdr_store = st;
	if (st)
		core_set_cdr_hook(core, &(struct core_cdr_hook){.status_cb = cdr_status, .arg = st});
	else
		core_set_cdr_hook(core, NULL);
}

static uint64_t secs_between(uint64_t from, uint64_t to)
{
	return from && to > from ? (to - from) / 1000000 : 0;
}

/* Who ended the leg: what the far end did when it did (endpoint_sip.c),
 * else what we did. */
static const char *disposition(const struct channel *ch)
{
	const char *v = channel_var(ch, "sip_hangup_disposition");
	if (v && *v)
		return v;
	if (ch->answered)
		return "send_bye";
	return ch->direction == CHANNEL_INBOUND ? "send_refuse" : "send_cancel";
}

static uint64_t var_u64(const struct channel *ch, const char *name)
{
	uint64_t v = 0;
	const char *s = channel_var(ch, name);
	if (s)
		str_to_u64(str_from_cstr(s), &v);
	return v;
}

void core__cdr_write(struct channel *ch)
{
	struct cdr_store *st = ch->core->cdr_store;
	if (!st)
		return;
	struct cdr c = {0};
	uint64_t end = ch->hangup_us ? ch->hangup_us : clock_wall_us();
	c.uuid = ch->uuid;
	c.other_uuid = channel_var(ch, "last_bridge_to");
	if (!c.other_uuid && ch->originator)
		c.other_uuid = ch->originator->uuid;
	c.direction = ch->direction == CHANNEL_INBOUND ? "inbound" : "outbound";
	c.caller_id_name = ch->caller_id_name;
	c.caller_id_number = ch->caller_id_number;
	c.destination_number = ch->destination_number;
	c.context = ch->context;
	c.gateway = ch->gateway ? ch->gateway->cfg->name : NULL;
	c.sip_call_id = ch->sip_call_id;
	c.remote_addr = ch->network_addr;
	c.created_us = ch->created_us;
	c.answered_us = ch->answered ? ch->answered_us : 0;
	c.bridged_us = var_u64(ch, "bridge_uepoch");
	c.ended_us = end;
	c.duration = secs_between(ch->created_us, end);
	c.billsec = c.answered_us ? secs_between(c.answered_us, end) : 0;
	c.progresssec = secs_between(ch->created_us, ch->progress_us);
	c.progress_mediasec = ch->early_media ? c.progresssec : 0;
	c.hangup_cause = core_cause_name(ch->cause);
	c.q850 = core_cause_q850(ch->cause);
	c.hangup_disposition = disposition(ch);
	c.read_codec = channel_var(ch, "read_codec");
	c.write_codec = channel_var(ch, "write_codec");
	if (ch->media && ch->media->have_final_stats) {
		const struct media_stats *ms = &ch->media->final_stats;
		c.rtp_packets_in = ms->packets_in;
		c.rtp_packets_out = ms->packets_out;
		c.rtp_lost = ms->lost;
		c.jitter_ms = ms->jitter_ms;
		c.mos = cdr_mos(ms->packets_in, ms->lost, ms->jitter_ms);
	}
	c.recording_path = channel_var(ch, "recording_path");
	const char *const *names;
	size_t n = cdr_store_extra_names(st, &names);
	for (size_t i = 0; i < n && c.var_count < CDR_EXTRA_MAX; i++) {
		const char *v = channel_var(ch, names[i]);
		if (v)
			c.vars[c.var_count++] = (struct cdr_var){names[i], v};
	}
	int e = cdr_store_submit(st, &c);
	if (e)
		log_err("[%s] CDR not queued: %s", ch->uuid, strerror(-e));
}
