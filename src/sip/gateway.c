/*
 * Gateways: the trunk a profile registers to and pings (what mod_sofia does
 * for a sofia.conf <gateway>).
 *
 * Registration (RFC 3261 §10.2):
 *   REGISTER sip:<realm>, From and To <sip:from_user@from_domain>, Contact
 *   <sip:extension@our sent-by>, Expires: expire_seconds. One Call-ID for the
 *   gateway's life and a CSeq that grows by one per request (§10.2.4), so the
 *   registrar sees refreshes of one binding, not new ones.
 *   States, with FreeSWITCH's names:
 *     UNREGED   → TRYING     first REGISTER sent
 *     TRYING    → REGED      2xx; the refresh is due at half the granted
 *                            expires (Contact's expires parameter for our
 *                            binding, else the Expires header, else what we
 *                            asked). Refreshes keep the state REGED.
 *     any       → FAILED → FAIL_WAIT   timeout, transport error, 403, a second
 *                            challenge, 5xx …; TRYING again retry_seconds later
 *     register=false: NOREG, and nothing is sent but pings.
 *   401/407 are answered once per request (request.c); 423 with a larger
 *   Min-Expires is retried at once with that value (§10.3 step 7), which is
 *   then kept for refreshes.
 *   sip_gateway_destroy of a registered gateway sends REGISTER with
 *   Expires: 0 for the binding and forgets it (UNREGISTER).
 *
 * The proxy is a literal address or a name located per RFC 3263 before each
 * request (request.c).
 *
 * Ping: OPTIONS to the proxy every ping_seconds. Any response means UP (the
 * peer is there, whatever it thinks of OPTIONS); a timeout or a transport
 * error means DOWN. This is FreeSWITCH's behaviour with its default
 * ping-min and ping-max of 1: one answer brings the gateway up, one missed
 * ping takes it down. A ping is not sent while the previous one is pending.
 *
 * The owner's callback runs after every change of state or of UP/DOWN,
 * never from inside sip_gateway_create or sip_gateway_destroy.
 */
#define LOG_MODULE "sofia"
#include "sip_ua_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const gateway_state_names[] = {
#define X(name) #name,
    SIP_GATEWAY_STATES(X)
#undef X
};

const char *sip_gateway_state_name(enum sip_gateway_state s)
{
	if ((size_t)s >= ARRAY_LEN(gateway_state_names))
		return "UNKNOWN";
	return gateway_state_names[s];
}

struct sip_gateway {
	struct sip_ua *ua;
	struct sip_gateway *prev, *next; /* ua->gateways */
	sip_gateway_cb cb;
	void *arg;
	char *name, *proxy, *username, *password, *contact_user, *contact_params;
	char *ruri;	/* REGISTER Request-URI: sip:<realm> */
	char *aor;	/* From and To: <sip:from_user@from_domain> */
	char *ping_uri; /* OPTIONS Request-URI and To: sip:<proxy> */
	enum sip_transport transport;
	bool do_register;
	uint32_t expires_asked; /* expire_seconds, or a registrar's Min-Expires */
	uint32_t retry_seconds, ping_seconds;

	char call_id[UUID_STRLEN + 8];
	uint32_t cseq; /* of the last REGISTER sent */
	struct sip__request *reg, *ping;
	bool min_expires_retried; /* one 423 retry per attempt */
	uv_timer_t *reg_timer, *ping_timer;
	unsigned open_timers; /* freed when both are closed */
	struct sip_gateway_status st;
};

/* ---- state changes ---- */

static void gw_notify(struct sip_gateway *gw)
{
	if (gw->cb)
		gw->cb(gw->arg, gw);
}

static void gw_set_state(struct sip_gateway *gw, enum sip_gateway_state s)
{
	if (gw->st.state == s)
		return;
	log_info("gateway %s: %s -> %s", gw->name, sip_gateway_state_name(gw->st.state),
		 sip_gateway_state_name(s));
	gw->st.state = s;
	gw->st.state_since_ms = uv_now(gw->ua->loop);
	gw_notify(gw);
}

static void gw_set_result(struct sip_gateway *gw, const struct sip_msg *resp, uint16_t status)
{
	gw->st.last_status = status;
	if (resp && resp->reason.len)
		snprintf(gw->st.last_phrase, sizeof(gw->st.last_phrase), "%.*s",
			 (int)resp->reason.len, resp->reason.p);
	else
		snprintf(gw->st.last_phrase, sizeof(gw->st.last_phrase), "%s",
			 status == 503 && !resp ? "Transport Error" : sip_reason_phrase(status));
}

/* ---- registration ---- */

static void gw_reg_timer_cb(uv_timer_t *t);

static void gw_reg_schedule(struct sip_gateway *gw, uint64_t ms)
{
	uv_timer_start(gw->reg_timer, gw_reg_timer_cb, ms, 0);
}

/* FAILED, then FAIL_WAIT until retry_seconds have passed. */
static void gw_reg_failed(struct sip_gateway *gw, const struct sip_msg *resp, uint16_t status)
{
	gw_set_result(gw, resp, status);
	gw->st.expires = 0;
	log_warn("gateway %s: registration failed: %u %s; retrying in %u s", gw->name, status,
		 gw->st.last_phrase, gw->retry_seconds);
	gw_reg_schedule(gw, (uint64_t)gw->retry_seconds * 1000);
	gw_set_state(gw, SIP_GW_FAILED);
	/* Unless the callback destroyed the gateway (its timers are then closing). */
	if (gw->reg_timer && gw->st.state == SIP_GW_FAILED)
		gw_set_state(gw, SIP_GW_FAIL_WAIT);
}

static void gw_register_cb(void *arg, const struct sip__request *rq, const struct sip_msg *resp,
			   uint16_t status);

/* Register-Network-IP/Port: where the REGISTER went, once that is known (a
 * name is located first). */
static void gw_note_registrar(struct sip_gateway *gw, const struct sip__request *rq)
{
	const struct sip_peer *dest = sip__request_dest(rq);
	if (dest->remote.u.sa.sa_family != AF_UNSPEC)
		gw->st.registrar = dest->remote;
}

static int gw_register_send(struct sip_gateway *gw, uint32_t expires)
{
	char extra[64];
	snprintf(extra, sizeof(extra), "Expires: %u\r\n", (unsigned)expires);
	struct sip__request_params p = {
	    .method = SIP_METHOD_REGISTER,
	    .request_uri = gw->ruri,
	    .from = gw->aor,
	    .to = gw->aor,
	    .call_id = gw->call_id,
	    .cseq = gw->cseq + 1,
	    .contact_user = gw->contact_user,
	    .contact_params = gw->contact_params,
	    .extra_headers = extra,
	    .proxy = gw->proxy,
	    .transport = gw->transport,
	    .auth_username = gw->username,
	    .auth_password = gw->password,
	};
	/* The unregister goes where the registration went: no lookup while the UA
	 * is closing. */
	struct sip_peer registrar = {.transport = gw->transport, .remote = gw->st.registrar};
	if (!expires && gw->st.registrar.u.sa.sa_family != AF_UNSPEC)
		p.dest = &registrar;
	struct sip__request *rq = NULL;
	int err = sip__request_start(expires ? &rq : NULL, gw->ua, &p,
				     expires ? gw_register_cb : NULL, gw);
	if (err)
		return err;
	gw->cseq = p.cseq;
	if (rq) {
		gw->reg = rq;
		gw_note_registrar(gw, rq);
	}
	return 0;
}

/* Sends (or re-sends) the REGISTER; a failure to send is a failed registration. */
static void gw_register(struct sip_gateway *gw)
{
	int err = gw_register_send(gw, gw->expires_asked);
	if (err) {
		log_warn("gateway %s: cannot send REGISTER to %s: %s", gw->name, gw->proxy,
			 uv_strerror(err));
		gw_reg_failed(gw, NULL, 503);
		return;
	}
	if (gw->st.state != SIP_GW_REGED)
		gw_set_state(gw, SIP_GW_TRYING);
}

/* The expires the registrar granted our binding (§10.2.4). */
static uint32_t gw_granted(const struct sip_gateway *gw, const struct sip_msg *resp)
{
	const char *sent_by =
	    sip_ua_sent_by(gw->ua, gw->transport, net_addr_family(&gw->st.registrar));
	struct str ours = str_from_cstr(sent_by ? sent_by : "");
	uint32_t v;

	for (const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_CONTACT); h;
	     h = sip_msg_hdr_next(resp, h)) {
		struct str list = h->value, item;
		while (sip_list_next(&list, &item)) {
			struct sip_addr a;
			struct str rest, val;
			if (sip_addr_parse(&a, item, &rest) ||
			    !str_eq(a.uri.user, str_from_cstr(gw->contact_user)))
				continue;
			/* host:port as we printed it: compare the URI's authority. */
			char hostport[NET_ADDR_STRLEN + 8];
			snprintf(hostport, sizeof(hostport), "%.*s:%u", (int)a.uri.host.len,
				 a.uri.host.p, a.uri.port ? a.uri.port : 5060);
			if (!str_ieq_cstr(ours, hostport))
				continue;
			if (sip_param_get(a.params, "expires", &val) && str_to_u32(val, &v) == 0)
				return v;
		}
	}
	const struct sip_hdr *e = sip_msg_hdr(resp, SIP_HDR_EXPIRES);
	if (e && str_to_u32(e->value, &v) == 0)
		return v;
	return gw->expires_asked;
}

static void gw_registered(struct sip_gateway *gw, const struct sip_msg *resp)
{
	uint32_t granted = gw_granted(gw, resp);
	if (granted == 0) /* our binding removed by a 2xx to a refresh: register anew */
		granted = gw->expires_asked;
	gw_set_result(gw, resp, resp->status);
	gw->st.expires = granted;
	gw->min_expires_retried = false;
	/* Refresh at half the lifetime: room for a slow registrar and a retry. */
	uint64_t refresh = (uint64_t)granted * 1000 / 2;
	gw_reg_schedule(gw, refresh ? refresh : 500);
	if (gw->st.state != SIP_GW_REGED)
		log_notice("gateway %s: registered (expires %u s)", gw->name, granted);
	gw_set_state(gw, SIP_GW_REGED);
}

static void gw_register_cb(void *arg, const struct sip__request *rq, const struct sip_msg *resp,
			   uint16_t status)
{
	struct sip_gateway *gw = arg;
	gw->reg = NULL;
	gw->cseq = sip__request_cseq(rq);
	gw_note_registrar(gw, rq);
	if (resp && status >= 200 && status < 300) {
		gw_registered(gw, resp);
		return;
	}
	if (resp && status == 423 && !gw->min_expires_retried) {
		const struct sip_hdr *h = sip_msg_hdr(resp, SIP_HDR_MIN_EXPIRES);
		uint32_t min;
		if (h && str_to_u32(h->value, &min) == 0 && min > gw->expires_asked) {
			log_notice("gateway %s: registrar wants expires of at least %u s", gw->name,
				   min);
			gw->expires_asked = min;
			gw->min_expires_retried = true;
			gw_register(gw);
			return;
		}
	}
	gw->min_expires_retried = false;
	gw_reg_failed(gw, resp, status);
}

static void gw_reg_timer_cb(uv_timer_t *t)
{
	struct sip_gateway *gw = t->data;
	if (gw->reg)
		return; /* still waiting for the last one */
	gw_register(gw);
}

/* ---- ping ---- */

static void gw_ping_done(struct sip_gateway *gw, bool up)
{
	if (up)
		gw->st.pings_ok++;
	else
		gw->st.pings_failed++;
	if (gw->st.up == up)
		return;
	gw->st.up = up;
	gw->st.up_since_ms = uv_now(gw->ua->loop);
	log_notice("gateway %s: %s", gw->name, up ? "UP" : "DOWN (no answer to OPTIONS)");
	gw_notify(gw);
}

static void gw_ping_cb(void *arg, const struct sip__request *rq, const struct sip_msg *resp,
		       uint16_t status)
{
	struct sip_gateway *gw = arg;
	gw->ping = NULL;
	if (!resp)
		gw_set_result(gw, NULL, status);
	gw_ping_done(gw, resp != NULL);
}

static void gw_ping_timer_cb(uv_timer_t *t)
{
	struct sip_gateway *gw = t->data;
	if (gw->ping)
		return;
	struct sip__request_params p = {
	    .method = SIP_METHOD_OPTIONS,
	    .request_uri = gw->ping_uri,
	    .from = gw->aor,
	    .to = gw->ping_uri,
	    .cseq = 1,
	    .contact_user = gw->contact_user,
	    .contact_params = gw->contact_params,
	    .proxy = gw->proxy,
	    .transport = gw->transport,
	};
	char to[512];
	snprintf(to, sizeof(to), "<%s>", gw->ping_uri);
	p.to = to;
	int err = sip__request_start(&gw->ping, gw->ua, &p, gw_ping_cb, gw);
	if (err) {
		gw->ping = NULL;
		log_warn("gateway %s: cannot send OPTIONS to %s: %s", gw->name, gw->proxy,
			 uv_strerror(err));
		gw_set_result(gw, NULL, 503);
		gw_ping_done(gw, false);
	}
}

/* ---- life cycle ---- */

static char *gw_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *gw_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static void gw_free(struct sip_gateway *gw)
{
	free(gw->name);
	free(gw->proxy);
	free(gw->username);
	free(gw->password);
	free(gw->contact_user);
	free(gw->contact_params);
	free(gw->ruri);
	free(gw->aor);
	free(gw->ping_uri);
	free(gw);
}

static void gw_timer_closed_cb(uv_handle_t *h)
{
	struct sip_gateway *gw = h->data;
	free(h);
	if (--gw->open_timers == 0)
		gw_free(gw);
}

static bool blank(const char *s)
{
	return !s || !*s;
}

/* "host:5080" or "sip:host;transport=tcp" → "sip:host:5080" (params dropped). */
static char *gw_ping_uri(const char *proxy)
{
	struct str p = str_from_cstr(proxy);
	if (str_starts_with_i(p, "sip:") || str_starts_with_i(p, "sips:")) {
		const char *semi = strchr(proxy, ';');
		return gw_printf("%.*s", (int)(semi ? (size_t)(semi - proxy) : p.len), proxy);
	}
	return gw_printf("sip:%s", proxy);
}

int sip_gateway_create(struct sip_gateway **out, struct sip_ua *ua,
		       const struct sip_gateway_config *cfg, sip_gateway_cb cb, void *arg)
{
	if (!out || !ua || !cfg || blank(cfg->name) || blank(cfg->proxy))
		return -EINVAL;
	if (ua->destroying || ua->closing)
		return -ESHUTDOWN;
	struct sip_gateway *gw = calloc(1, sizeof(*gw));
	if (!gw)
		return -ENOMEM;
	gw->ua = ua;
	gw->cb = cb;
	gw->arg = arg;
	gw->transport = cfg->register_transport;
	gw->do_register = cfg->do_register;
	gw->expires_asked = cfg->expire_seconds ? cfg->expire_seconds : 3600;
	gw->retry_seconds = cfg->retry_seconds ? cfg->retry_seconds : 30;
	gw->ping_seconds = cfg->ping_seconds;
	const char *realm = blank(cfg->realm) ? cfg->proxy : cfg->realm;
	const char *user = blank(cfg->username) ? "irisx" : cfg->username;
	const char *from_user = blank(cfg->from_user) ? user : cfg->from_user;
	const char *from_domain = blank(cfg->from_domain) ? realm : cfg->from_domain;
	gw->name = strdup(cfg->name);
	gw->proxy = strdup(cfg->proxy);
	gw->username = strdup(user);
	gw->password = strdup(cfg->password ? cfg->password : "");
	gw->contact_user =
	    blank(cfg->extension) ? gw_printf("gw+%s", cfg->name) : strdup(cfg->extension);
	gw->contact_params = blank(cfg->contact_params) ? NULL : strdup(cfg->contact_params);
	gw->ruri = gw_printf("sip:%s", realm);
	gw->aor = gw_printf("<sip:%s@%s>", from_user, from_domain);
	gw->ping_uri = gw_ping_uri(cfg->proxy);
	gw->reg_timer = malloc(sizeof(*gw->reg_timer));
	gw->ping_timer = malloc(sizeof(*gw->ping_timer));
	if (!gw->name || !gw->proxy || !gw->username || !gw->password || !gw->contact_user ||
	    (!blank(cfg->contact_params) && !gw->contact_params) || !gw->ruri || !gw->aor ||
	    !gw->ping_uri || !gw->reg_timer || !gw->ping_timer) {
		free(gw->reg_timer);
		free(gw->ping_timer);
		gw_free(gw);
		return -ENOMEM;
	}
	struct sip_uri check;
	if (sip_uri_parse(&check, str_from_cstr(gw->ruri)) ||
	    sip_uri_parse(&check, str_from_cstr(gw->ping_uri))) {
		free(gw->reg_timer);
		free(gw->ping_timer);
		gw_free(gw);
		return -EINVAL;
	}
	uuid_generate(gw->call_id);
	uv_timer_init(ua->loop, gw->reg_timer);
	uv_timer_init(ua->loop, gw->ping_timer);
	gw->reg_timer->data = gw;
	gw->ping_timer->data = gw;
	gw->open_timers = 2;
	gw->st.registrar.u.sa.sa_family = AF_UNSPEC;
	gw->st.transport = gw->transport;
	gw->st.state_since_ms = uv_now(ua->loop);
	gw->st.up = gw->ping_seconds == 0;
	gw->st.up_since_ms = gw->st.state_since_ms;
	/* Both start on the next turn of the loop: no callback before we return. */
	if (gw->do_register) {
		gw->st.state = SIP_GW_UNREGED;
		gw_reg_schedule(gw, 0);
	} else {
		gw->st.state = SIP_GW_NOREG;
	}
	if (gw->ping_seconds)
		uv_timer_start(gw->ping_timer, gw_ping_timer_cb, 0,
			       (uint64_t)gw->ping_seconds * 1000);
	gw->next = ua->gateways;
	if (ua->gateways)
		ua->gateways->prev = gw;
	ua->gateways = gw;
	*out = gw;
	return 0;
}

const char *sip_gateway_name(const struct sip_gateway *gw)
{
	return gw->name;
}

void sip_gateway_status(const struct sip_gateway *gw, struct sip_gateway_status *out)
{
	*out = gw->st;
	out->next_ping_ms = 0;
	if (gw->ping_timer && uv_is_active((const uv_handle_t *)gw->ping_timer))
		out->next_ping_ms = uv_now(gw->ua->loop) + uv_timer_get_due_in(gw->ping_timer);
}

void sip_gateway_destroy(struct sip_gateway *gw)
{
	if (!gw)
		return;
	struct sip_ua *ua = gw->ua;
	if (gw->prev)
		gw->prev->next = gw->next;
	else
		ua->gateways = gw->next;
	if (gw->next)
		gw->next->prev = gw->prev;
	gw->cb = NULL;
	sip__request_cancel(gw->reg);
	sip__request_cancel(gw->ping);
	gw->reg = gw->ping = NULL;
	if (gw->st.state == SIP_GW_REGED) {
		/* Best effort: the binding goes now rather than at its expiry. */
		gw->st.state = SIP_GW_UNREGISTER;
		int err = gw_register_send(gw, 0);
		if (err)
			log_warn("gateway %s: cannot unregister: %s", gw->name, uv_strerror(err));
		else
			log_notice("gateway %s: unregistering", gw->name);
	}
	uv_close((uv_handle_t *)gw->reg_timer, gw_timer_closed_cb);
	uv_close((uv_handle_t *)gw->ping_timer, gw_timer_closed_cb);
	gw->reg_timer = gw->ping_timer = NULL;
}

void sip__gateways_destroy(struct sip_ua *ua)
{
	while (ua->gateways)
		sip_gateway_destroy(ua->gateways);
}
