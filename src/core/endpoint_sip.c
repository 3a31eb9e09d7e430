/*
 * The SIP endpoint: starts a user agent per profile and turns its inbound
 * calls into channels (what mod_sofia does for FreeSWITCH). Admission
 * control lives here: the profile's inbound ACLs (checked by the UA before
 * anything is created), max-sessions and sessions-per-second (503).
 */
#define LOG_MODULE "sofia"
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool endpoint_acl_cb(void *arg, const struct sip_peer *src)
{
	struct profile *p = arg;
	const struct config_profile *cfg = p->cfg;

	if (cfg->inbound_acl_count == 0)
		return true;
	/* Any of the profile's lists may allow the source, as FreeSWITCH does. */
	for (size_t i = 0; i < cfg->inbound_acl_count; i++)
		if (acl_check(p->core->acls, cfg->inbound_acls[i], &src->remote))
			return true;
	return false;
}

/* Whether one more call may start now (switch.conf limits). */
static bool endpoint_admit(struct core *core, const char **why)
{
	const struct config_switch *sw = &core->cfg->sw;
	uint64_t now = uv_now(core->loop);

	if (sw->max_sessions && core->channel_count >= sw->max_sessions) {
		*why = "Maximum Calls In Progress";
		return false;
	}
	if (now - core->sps_window_ms >= 1000) {
		core->sps_window_ms = now;
		core->sps_count = 0;
	}
	if (sw->sessions_per_second && core->sps_count >= sw->sessions_per_second) {
		*why = "Too Many Calls Per Second";
		return false;
	}
	core->sps_count++;
	core__peak_note(&core->sps_peak, core->sps_count, clock_wall_us() / 1000);
	return true;
}

/* The display name without quotes, or the user part when there is none. */
static char *caller_name(struct arena *a, const struct sip_addr *from)
{
	struct str d = from->display;
	if (d.len >= 2 && d.p[0] == '"' && d.p[d.len - 1] == '"') {
		d.p++;
		d.len -= 2;
	}
	return arena_strndup(a, d.len ? d : from->uri.user);
}

static void endpoint_invite_cb(void *arg, struct sip_call *call)
{
	struct profile *p = arg;
	struct core *core = p->core;
	const struct sip_msg *inv = sip_call_invite(call);
	const char *why = NULL;
	char host[NET_ADDR_STRLEN];

	if (!endpoint_admit(core, &why)) {
		log_warn("profile %s: refusing call: %s", p->cfg->name, why);
		p->failed_calls_in++;
		sip_call_respond(call, 503, why);
		sip_call_release(call);
		return;
	}
	struct channel *ch = core__channel_create(core, CHANNEL_INBOUND);
	if (!ch) {
		sip_call_respond(call, 500, NULL);
		sip_call_release(call);
		return;
	}
	struct arena *a = &ch->arena;
	ch->caller_id_name = caller_name(a, &inv->from);
	ch->caller_id_number = arena_strndup(a, inv->from.uri.user);
	ch->destination_number = arena_strndup(a, inv->ruri.user);
	ch->network_addr = arena_strdup(
		a, net_addr_print_host(&sip_call_peer(call)->remote, host, sizeof(host)));
	ch->context = p->cfg->context;
	ch->dialplan = p->cfg->dialplan;
	ch->profile = p->cfg->name;
	ch->profile_cfg = p->cfg;
	ch->sip_call_id = arena_strndup(a, inv->call_id);
	if (!ch->caller_id_name || !ch->caller_id_number || !ch->destination_number ||
	    !ch->network_addr || !ch->sip_call_id) {
		sip_call_respond(call, 500, NULL);
		sip_call_release(call);
		core__channel_destroy(ch);
		return;
	}
	ch->sip = call;
	sip_call_set_owner(call, ch);
	p->calls_in++;
	log_info("[%s] new inbound call on %s from %s <%s>@%s to %s", ch->uuid, ch->profile,
		 ch->caller_id_name, ch->caller_id_number, ch->network_addr,
		 ch->destination_number);
	core__channel_schedule(ch);
}

static void endpoint_call_ended_cb(void *arg, struct sip_call *call, uint16_t status)
{
	struct channel *ch = sip_call_owner(call);
	if (!ch)
		return;
	if (ch->direction == CHANNEL_OUTBOUND && !ch->answered) {
		/* The far end's final answer to our INVITE, as mod_sofia records it. */
		char st[8];
		snprintf(st, sizeof(st), "%u", status);
		channel_var_set(ch, "sip_term_status", st);
	}
	/* Who ended it, as mod_sofia's sip_hangup_disposition says (the CDR's
	 * hangup_disposition; a leg we end gets send_* in core/cdr.c). */
	if (ch->state < CS_HANGUP)
		channel_var_set(ch, "sip_hangup_disposition",
				ch->answered			     ? "recv_bye"
				: ch->direction == CHANNEL_INBOUND ? "recv_cancel"
								     : "recv_refuse");
	channel_hangup(ch, core_cause_from_sip(status));
}

static void endpoint_progress_cb(void *arg, struct sip_call *call, const struct sip_msg *resp)
{
	struct channel *ch = sip_call_owner(call);
	if (ch)
		core__endpoint_progress(ch, resp);
}

static void endpoint_answer_cb(void *arg, struct sip_call *call, const struct sip_msg *resp)
{
	struct channel *ch = sip_call_owner(call);
	if (ch)
		core__endpoint_answered(ch, resp);
}

static uint16_t endpoint_offer_cb(void *arg, struct sip_call *call, struct str offer,
				  struct buf *answer)
{
	struct channel *ch = sip_call_owner(call);
	return ch ? core__endpoint_offer(ch, offer, answer) : 481;
}

static void endpoint_ack_cb(void *arg, struct sip_call *call, const struct sip_msg *ack)
{
	struct channel *ch = sip_call_owner(call);
	if (ch)
		core__endpoint_ack(ch, ack);
}

/* INFO with a digit: into the channel's DTMF stream (DTMF-Source ENDPOINT);
 * 415 for anything else, as FreeSWITCH answers an INFO it does not take. */
static uint16_t endpoint_info_cb(void *arg, struct sip_call *call, const struct sip_msg *req)
{
	struct channel *ch = sip_call_owner(call);
	const struct sip_hdr *ct = sip_msg_hdr(req, SIP_HDR_CONTENT_TYPE);
	char digit;
	uint32_t ms;

	if (!ch)
		return 481;
	if (!ct && req->body.len == 0)
		return 200; /* a keep-alive INFO */
	int rc = core_dtmf_info_parse(ct ? ct->value : STR_NULL, req->body, &digit, &ms);
	if (rc == -ENOTSUP)
		return 415;
	if (rc) {
		log_info("[%s] INFO with a malformed DTMF body ignored", ch->uuid);
		return 400;
	}
	channel_dtmf_receive(ch, digit, ms ? ms : 100, CORE_DTMF_INFO);
	return 200;
}

const struct config_profile *core__channel_profile(const struct channel *ch)
{
	return ch->profile_cfg;
}

void core__endpoint_hangup(struct channel *ch)
{
	struct sip_call *call = ch->sip;
	if (!call)
		return;
	ch->sip = NULL;
	sip_call_set_owner(call, NULL);
	/* An answered call gets a BYE, an unanswered one the cause's status (or a
	 * CANCEL when we placed it); nothing is sent when the far end ended it.
	 * A leg that lost the race is cancelled as FreeSWITCH does, so that
	 * phones do not log a missed call. */
	char reason[128];
	if (ch->cause == CAUSE_LOSE_RACE)
		snprintf(reason, sizeof(reason),
			 "Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n");
	else
		snprintf(reason, sizeof(reason), "Reason: Q.850;cause=%u;text=\"%s\"\r\n",
			 core_cause_q850(ch->cause), core_cause_name(ch->cause));
	sip_call_hangup(call, core_cause_to_sip(ch->cause), reason);
	sip_call_release(call);
}

int core__profile_start(struct profile *p)
{
	const struct config_profile *cfg = p->cfg;
	struct sip_ua_config ucfg = {
		.name = cfg->name,
		.enable_udp = cfg->enable_udp,
		.enable_tcp = cfg->enable_tcp,
		.ext_host = cfg->ext_sip_ip,
		.user_agent = "irisx/" IRISX_VERSION,
		.timers = &p->timers,
	};
	p->timers = (struct sip_txn_timers){
		.t1_ms = cfg->timer_t1_ms, .t2_ms = cfg->timer_t2_ms, .t4_ms = cfg->timer_t4_ms};
	struct sip_ua_cbs cbs = {
		.acl_cb = endpoint_acl_cb,
		.invite_cb = endpoint_invite_cb,
		.call_ended_cb = endpoint_call_ended_cb,
		.offer_cb = endpoint_offer_cb,
		.ack_cb = endpoint_ack_cb,
		.progress_cb = endpoint_progress_cb,
		.answer_cb = endpoint_answer_cb,
		.info_cb = endpoint_info_cb,
		.arg = p,
	};
	int err = net_addr_parse(&ucfg.addr, str_from_cstr(cfg->sip_ip), cfg->sip_port);
	if (err) {
		log_err("%s:%u: profile %s: sip-ip '%s' is not an IP address", cfg->file, cfg->line,
			cfg->name, cfg->sip_ip);
		return err;
	}
	return sip_ua_create(&p->ua, p->core->loop, &ucfg, &cbs);
}

struct profile *core__profile_find(struct core *core, const char *name)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		struct profile *p = &core->profiles[i];
		if (strcmp(p->cfg->name, name) == 0)
			return p;
		for (size_t j = 0; j < p->cfg->alias_count; j++)
			if (strcmp(p->cfg->aliases[j], name) == 0)
				return p;
	}
	return NULL;
}

/* ---- sofia status (the command, laid out as mod_sofia prints it) ---- */

static const char sofia_rule[] = "============================================================"
				 "=====================================\n";

static size_t profile_live_calls(struct core *core, const struct config_profile *cfg)
{
	size_t n = 0;
	for (struct channel *ch = core->channels; ch; ch = ch->next)
		if (ch->profile_cfg == cfg)
			n++;
	return n;
}

static void profile_url(const struct profile *p, char *out, size_t size)
{
	const struct config_profile *cfg = p->cfg;
	const char *host = cfg->ext_sip_ip ? cfg->ext_sip_ip : cfg->sip_ip;
	bool v6 = strchr(host, ':') != NULL;
	snprintf(out, size, "sip:mod_sofia@%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
		 cfg->sip_port);
}

static void sofia_status_profile(struct core *core, const struct profile *p, struct buf *out)
{
	const struct config_profile *cfg = p->cfg;
	char url[256];
	profile_url(p, url, sizeof(url));
	buf_append_cstr(out, sofia_rule);
	buf_printf(out, "Name             \t%s\n", cfg->name);
	buf_printf(out, "Dialplan         \t%s\n", cfg->dialplan);
	buf_printf(out, "Context          \t%s\n", cfg->context);
	buf_printf(out, "RTP-IP           \t%s\n", cfg->rtp_ip);
	if (cfg->ext_rtp_ip)
		buf_printf(out, "Ext-RTP-IP       \t%s\n", cfg->ext_rtp_ip);
	buf_printf(out, "SIP-IP           \t%s\n", cfg->sip_ip);
	if (cfg->ext_sip_ip)
		buf_printf(out, "Ext-SIP-IP       \t%s\n", cfg->ext_sip_ip);
	buf_printf(out, "URL              \t%s\n", url);
	buf_printf(out, "BIND-URL         \t%s;transport=%s%s%s\n", url,
		   cfg->enable_udp ? "udp" : "", cfg->enable_udp && cfg->enable_tcp ? "," : "",
		   cfg->enable_tcp ? "tcp" : "");
	buf_printf(out, "CODECS IN        \t%s\n", cfg->codec_prefs ? cfg->codec_prefs : "");
	buf_printf(out, "RTP-TIMEOUT      \t%u\n", cfg->rtp_timeout_sec);
	buf_printf(out, "RTP-HOLD-TIMEOUT \t%u\n", cfg->rtp_hold_timeout_sec);
	buf_printf(out, "STATE            \t%s\n", p->ua ? "RUNNING" : "DOWN");
	buf_printf(out, "CALLS-IN         \t%llu\n", (unsigned long long)p->calls_in);
	buf_printf(out, "FAILED-CALLS-IN  \t%llu\n", (unsigned long long)p->failed_calls_in);
	buf_printf(out, "CALLS-OUT        \t%llu\n", (unsigned long long)p->calls_out);
	buf_printf(out, "FAILED-CALLS-OUT \t%llu\n", (unsigned long long)p->failed_calls_out);
	buf_append_cstr(out, sofia_rule);
}

void core__sofia_status(struct core *core, const char *args, struct buf *out)
{
	char what[32] = "", name[CONFIG_NAME_MAX + 1] = "", profile[16] = "";
	int n = sscanf(args, "%31s %15s %64s", what, profile, name);
	if (n < 1 || strcmp(what, "status") != 0 || n == 2 ||
	    (n == 3 && strcmp(profile, "profile") != 0 && strcmp(profile, "gateway") != 0)) {
		buf_append_cstr(out, "-USAGE: status [profile <name>|gateway <name>]\n");
		return;
	}
	if (n == 3 && strcmp(profile, "gateway") == 0) {
		core__gateway_status(core, name, out);
		return;
	}
	if (n == 3) {
		for (size_t i = 0; i < core->profile_count; i++) {
			const struct profile *p = &core->profiles[i];
			if (strcmp(p->cfg->name, name) == 0) {
				sofia_status_profile(core, p, out);
				return;
			}
			for (size_t j = 0; j < p->cfg->alias_count; j++)
				if (strcmp(p->cfg->aliases[j], name) == 0) {
					sofia_status_profile(core, p, out);
					return;
				}
		}
		buf_append_cstr(out, "Invalid Profile!\n");
		return;
	}
	size_t aliases = 0;
	buf_printf(out, "%25s\t%s\t  %40s\t%s\n", "Name", "   Type", "Data", "State");
	buf_append_cstr(out, sofia_rule);
	for (size_t i = 0; i < core->profile_count; i++) {
		const struct profile *p = &core->profiles[i];
		char url[256];
		profile_url(p, url, sizeof(url));
		buf_printf(out, "%25s\t%s\t  %40s\t%s (%zu)\n", p->cfg->name, "profile", url,
			   p->ua ? "RUNNING" : "DOWN", profile_live_calls(core, p->cfg));
		for (size_t j = 0; j < p->cfg->alias_count; j++, aliases++)
			buf_printf(out, "%25s\t%s\t  %40s\t%s\n", p->cfg->aliases[j], "  alias",
				   p->cfg->name, "ALIASED");
		core__gateway_status_lines(core, p, out);
	}
	buf_append_cstr(out, sofia_rule);
	buf_printf(out, "%zu profile%s %zu alias%s\n", core->profile_count,
		   core->profile_count == 1 ? "" : "s", aliases, aliases == 1 ? "" : "es");
}
