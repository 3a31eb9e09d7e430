/*
 * Gateways: the trunks of each profile (sofia.conf <gateway>), looked up by
 * name by dial strings (sofia/gateway/<name>/<number>), registered and
 * pinged on the profile's user agent (src/sip/gateway.c), reported as
 * mod_sofia does: CUSTOM sofia::gateway_state events on every change, and
 * `sofia status gateway <name>` / the gateway rows of `sofia status`.
 */
#define LOG_MODULE "sofia"
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int core__gateways_init(struct core *core)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		struct profile *p = &core->profiles[i];
		size_t n = p->cfg->gateway_count;
		if (!n)
			continue;
		p->gateways = calloc(n, sizeof(*p->gateways));
		if (!p->gateways) {
			core__gateways_fini(core);
			return -ENOMEM;
		}
		for (size_t j = 0; j < n; j++) {
			p->gateways[j].profile = p;
			p->gateways[j].cfg = &p->cfg->gateways[j];
		}
	}
	return 0;
}

void core__gateways_fini(struct core *core)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		free(core->profiles[i].gateways);
		core->profiles[i].gateways = NULL;
	}
}

struct gateway *core__gateway_find(struct core *core, const char *name)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		struct profile *p = &core->profiles[i];
		for (size_t j = 0; j < p->cfg->gateway_count; j++)
			if (strcmp(p->gateways[j].cfg->name, name) == 0)
				return &p->gateways[j];
	}
	return NULL;
}

/* ---- live gateways: registration and ping on the profile's UA ---- */

/* UP or DOWN as mod_sofia shows it: the ping decides when there is one, else
 * the registration (REGED is up, anything else down), and a gateway that
 * does not register is up. */
static bool gateway_up(const struct gateway *g, const struct sip_gateway_status *st)
{
	if (g->cfg->ping_seconds)
		return st->up;
	if (st->state == SIP_GW_NOREG)
		return true;
	return st->state == SIP_GW_REGED;
}

/* CUSTOM sofia::gateway_state, with mod_sofia's headers. */
static void gateway_fire_state(struct gateway *g)
{
	struct core *core = g->profile->core;
	struct sip_gateway_status st;
	struct core_event *ev;
	char ip[NET_ADDR_STRLEN];

	sip_gateway_status(g->sip, &st);
	if (core_event_create(&ev, "CUSTOM", "sofia::gateway_state"))
		return;
	core_event_add_header(ev, "Gateway", "%s", g->cfg->name);
	core_event_add_header(ev, "State", "%s", sip_gateway_state_name(st.state));
	core_event_add_header(ev, "Ping-Status", "%s", gateway_up(g, &st) ? "UP" : "DOWN");
	if (st.registrar.u.sa.sa_family != AF_UNSPEC) {
		core_event_add_header(ev, "Register-Network-IP", "%s",
				      net_addr_print_host(&st.registrar, ip, sizeof(ip)));
		core_event_add_header(ev, "Register-Network-Port", "%u",
				      net_addr_port(&st.registrar));
	}
	if (st.last_status) {
		core_event_add_header(ev, "Status", "%u", st.last_status);
		core_event_add_header(ev, "Phrase", "%s", st.last_phrase);
	}
	core_event_fire(core, ev);
}

static void gateway_changed_cb(void *arg, struct sip_gateway *sgw)
{
	struct gateway *g = arg;
	gateway_fire_state(g);
}

/* sofia.conf's values → the SIP side's (the config loader applied the defaults). */
static void gateway_sip_config(const struct gateway *g, struct sip_gateway_config *out)
{
	const struct config_gateway *c = g->cfg;
	enum sip_transport t = SIP_TRANSPORT_UDP;
	*out = (struct sip_gateway_config){
	    .name = c->name,
	    .proxy = c->proxy,
	    .realm = c->realm,
	    .username = c->username,
	    .password = c->password,
	    .from_user = c->from_user,
	    .from_domain = c->from_domain,
	    .extension = c->extension,
	    .contact_params = c->contact_params,
	    .do_register = c->do_register,
	    .expire_seconds = c->expire_seconds,
	    .retry_seconds = c->retry_seconds,
	    .ping_seconds = c->ping_seconds,
	};
	if (sip_transport_parse(str_from_cstr(c->register_transport), &t) == 0 &&
	    t == SIP_TRANSPORT_TLS) {
		/* No TLS transport yet (the loader warned): nothing goes on the wire. */
		out->do_register = false;
		out->ping_seconds = 0;
		t = SIP_TRANSPORT_UDP;
	}
	out->register_transport = t;
}

int core__gateways_start(struct profile *p)
{
	for (size_t i = 0; i < p->cfg->gateway_count; i++) {
		struct gateway *g = &p->gateways[i];
		struct sip_gateway_config cfg;
		gateway_sip_config(g, &cfg);
		int err = sip_gateway_create(&g->sip, p->ua, &cfg, gateway_changed_cb, g);
		if (err) {
			log_err("%s:%u: gateway %s: cannot start: %s", g->cfg->file, g->cfg->line,
				g->cfg->name, uv_strerror(err));
			core__gateways_stop(p);
			return err;
		}
		log_info("gateway %s on profile %s: proxy %s, %s%s", g->cfg->name, p->cfg->name,
			 g->cfg->proxy, cfg.do_register ? "registering" : "not registering",
			 cfg.ping_seconds ? ", pinging" : "");
	}
	return 0;
}

void core__gateways_stop(struct profile *p)
{
	if (!p->gateways)
		return;
	for (size_t i = 0; i < p->cfg->gateway_count; i++) {
		sip_gateway_destroy(p->gateways[i].sip);
		p->gateways[i].sip = NULL;
	}
}

/* ---- sofia status ---- */

static const char gateway_rule[] = "============================================================"
				   "=====================================\n";

static void gateway_proxy_uri(const struct config_gateway *c, char *out, size_t size)
{
	bool uri = strncasecmp(c->proxy, "sip:", 4) == 0 || strncasecmp(c->proxy, "sips:", 5) == 0;
	snprintf(out, size, "%s%s", uri ? "" : "sip:", c->proxy);
}

void core__gateway_status(struct core *core, const char *name, struct buf *out)
{
	struct gateway *g = core__gateway_find(core, name);
	if (!g) {
		buf_append_cstr(out, "Invalid Gateway!\n");
		return;
	}
	const struct config_gateway *c = g->cfg;
	const struct profile *p = g->profile;
	struct sip_gateway_status st = {.state = c->do_register ? SIP_GW_UNREGED : SIP_GW_NOREG};
	char proxy[512], contact[512], sent_by[NET_ADDR_STRLEN + 256] = "";
	if (g->sip)
		sip_gateway_status(g->sip, &st);
	enum sip_transport t = SIP_TRANSPORT_UDP;
	(void)sip_transport_parse(str_from_cstr(c->register_transport), &t);
	if (p->ua) {
		int family = st.registrar.u.sa.sa_family == AF_INET6 ? AF_INET6 : AF_INET;
		const char *sb = sip_ua_sent_by(p->ua, t, family);
		if (sb)
			snprintf(sent_by, sizeof(sent_by), "%s", sb);
	}
	snprintf(contact, sizeof(contact), "<sip:%s@%s%s%s%s%s>", c->extension, sent_by,
		 t == SIP_TRANSPORT_UDP ? "" : ";transport=",
		 t == SIP_TRANSPORT_UDP	  ? ""
		 : t == SIP_TRANSPORT_TCP ? "tcp"
					  : "tls",
		 c->contact_params && *c->contact_params != ';' ? ";" : "",
		 c->contact_params ? c->contact_params : "");
	gateway_proxy_uri(c, proxy, sizeof(proxy));
	bool up = gateway_up(g, &st);
	uint64_t now = uv_now(core->loop);
	uint64_t since = c->ping_seconds ? st.up_since_ms : st.state_since_ms;
	/* Ping: when the next OPTIONS is due (epoch seconds), as mod_sofia shows it. */
	uint64_t next_ping = 0;
	if (st.next_ping_ms)
		next_ping = clock_wall_us() / 1000000 +
			    (st.next_ping_ms > now ? (st.next_ping_ms - now) / 1000 : 0);

	buf_append_cstr(out, gateway_rule);
	buf_printf(out, "Name    \t%s\n", c->name);
	buf_printf(out, "Profile \t%s\n", p->cfg->name);
	buf_printf(out, "Scheme  \t%s\n", "Digest");
	buf_printf(out, "Realm   \t%s\n", c->realm);
	buf_printf(out, "Username\t%s\n", c->username);
	buf_printf(out, "Password\t%s\n", *c->password ? "yes" : "no");
	buf_printf(out, "From    \t<sip:%s@%s>\n", c->from_user, c->from_domain);
	buf_printf(out, "Contact \t%s\n", contact);
	buf_printf(out, "Exten   \t%s\n", c->extension);
	buf_printf(out, "To      \tsip:%s@%s\n", c->from_user, c->from_domain);
	buf_printf(out, "Proxy   \t%s\n", proxy);
	buf_printf(out, "Context \t%s\n", p->cfg->context);
	buf_printf(out, "Expires \t%u\n", c->expire_seconds);
	buf_printf(out, "Freq    \t%u\n", st.expires ? st.expires : c->expire_seconds);
	buf_printf(out, "Ping    \t%llu\n", (unsigned long long)next_ping);
	buf_printf(out, "PingFreq\t%u\n", c->ping_seconds);
	/* ping-min/ping count/ping-max: irisx uses FreeSWITCH's defaults of 1 and 1. */
	if (c->ping_seconds)
		buf_printf(out, "PingState\t1/%d/1\n", st.up ? 1 : 0);
	else
		buf_append_cstr(out, "PingState\t0/0/0\n");
	buf_printf(out, "State   \t%s\n", sip_gateway_state_name(st.state));
	buf_printf(out, "Status  \t%s%s\n", up ? "UP" : "DOWN", c->ping_seconds ? " (ping)" : "");
	if (up)
		buf_printf(out, "Uptime  \t%llus\n",
			   (unsigned long long)(now > since ? (now - since) / 1000 : 0));
	buf_printf(out, "CallsIN \t%llu\n", (unsigned long long)g->calls_in);
	buf_printf(out, "CallsOUT\t%llu\n", (unsigned long long)g->calls_out);
	buf_printf(out, "FailedCallsIN\t%llu\n", (unsigned long long)g->failed_calls_in);
	buf_printf(out, "FailedCallsOUT\t%llu\n", (unsigned long long)g->failed_calls_out);
	buf_append_cstr(out, gateway_rule);
}

void core__gateway_status_lines(struct core *core, const struct profile *p, struct buf *out)
{
	for (size_t i = 0; i < p->cfg->gateway_count; i++) {
		const struct gateway *g = &p->gateways[i];
		struct sip_gateway_status st = {.state = g->cfg->do_register ? SIP_GW_UNREGED
									     : SIP_GW_NOREG};
		char key[2 * CONFIG_NAME_MAX + 4], proxy[512];
		if (g->sip)
			sip_gateway_status(g->sip, &st);
		snprintf(key, sizeof(key), "%s::%s", p->cfg->name, g->cfg->name);
		gateway_proxy_uri(g->cfg, proxy, sizeof(proxy));
		buf_printf(out, "%25s\t%s\t  %40s\t%s\n", key, "gateway", proxy,
			   sip_gateway_state_name(st.state));
	}
}
