/*
 * A sofia.conf gateway: the trunk irisx registers to (or not) and sends
 * calls through. The parameters and their defaults are FreeSWITCH's
 * (mod_sofia's gateway section), so a gateway file written for FreeSWITCH,
 * such as a Twilio Elastic SIP Trunking termination gateway, reads the same.
 * The SIP side (REGISTER, OPTIONS ping, From rewriting) belongs to
 * src/sip's gateway code; this only reads and checks the values.
 */
#include "config_int.h"

#include <errno.h>
#include <string.h>

#define LOG_MODULE "config"

enum gw_param {
	G_PROXY,
	G_REALM,
	G_USERNAME,
	G_PASSWORD,
	G_FROM_USER,
	G_FROM_DOMAIN,
	G_REGISTER,
	G_REGISTER_TRANSPORT,
	G_EXPIRE_SECONDS,
	G_RETRY_SECONDS,
	G_CALLER_ID_IN_FROM,
	G_PING,
	G_EXTENSION,
	G_CONTACT_PARAMS,
	G_COUNT
};

static const char *const gw_param_names[G_COUNT] = {
    [G_PROXY] = "proxy",
    [G_REALM] = "realm",
    [G_USERNAME] = "username",
    [G_PASSWORD] = "password",
    [G_FROM_USER] = "from-user",
    [G_FROM_DOMAIN] = "from-domain",
    [G_REGISTER] = "register",
    [G_REGISTER_TRANSPORT] = "register-transport",
    [G_EXPIRE_SECONDS] = "expire-seconds",
    [G_RETRY_SECONDS] = "retry-seconds",
    [G_CALLER_ID_IN_FROM] = "caller-id-in-from",
    [G_PING] = "ping",
    [G_EXTENSION] = "extension",
    [G_CONTACT_PARAMS] = "contact-params",
};

enum { DAY = 86400 };

static int set_transport(struct config__ctx *c, const struct config_node *p, const char *v,
			 struct config_gateway *gw)
{
	if (config__ieq(v, "udp"))
		gw->register_transport = "udp";
	else if (config__ieq(v, "tcp"))
		gw->register_transport = "tcp";
	else if (config__ieq(v, "tls")) {
		gw->register_transport = "tls";
		config__warn(c, p->file, p->line,
			     "register-transport tls is not supported by irisx yet (gateway '%s' "
			     "will not register)",
			     gw->name);
	} else {
		return config__fail(c, -EINVAL, p->file, p->line,
				    "parameter 'register-transport': '%s' is not udp, tcp or tls",
				    v);
	}
	return 0;
}

static int gateway_param(struct config__ctx *c, const struct config_node *p, const char *name,
			 const char *v, struct config_gateway *gw)
{
	size_t k = 0;
	while (k < G_COUNT && !config__ieq(name, gw_param_names[k]))
		k++;
	switch ((enum gw_param)k) {
	case G_PROXY:
		gw->proxy = v;
		return 0;
	case G_REALM:
		gw->realm = v;
		return 0;
	case G_USERNAME:
		gw->username = v;
		return 0;
	case G_PASSWORD:
		gw->password = v;
		return 0;
	case G_FROM_USER:
		gw->from_user = v;
		return 0;
	case G_FROM_DOMAIN:
		gw->from_domain = v;
		return 0;
	case G_REGISTER:
		gw->do_register = config_is_true(v);
		return 0;
	case G_REGISTER_TRANSPORT:
		return set_transport(c, p, v, gw);
	case G_EXPIRE_SECONDS:
		return config__parse_u32(c, p, name, v, 1, 7 * DAY, "a number of seconds",
					 &gw->expire_seconds);
	case G_RETRY_SECONDS:
		return config__parse_u32(c, p, name, v, 1, DAY, "a number of seconds",
					 &gw->retry_seconds);
	case G_CALLER_ID_IN_FROM:
		gw->caller_id_in_from = config_is_true(v);
		return 0;
	case G_PING:
		return config__parse_u32(c, p, name, v, 0, DAY, "a number of seconds",
					 &gw->ping_seconds);
	case G_EXTENSION:
		gw->extension = v;
		return 0;
	case G_CONTACT_PARAMS:
		gw->contact_params = *v ? v : NULL;
		return 0;
	case G_COUNT:
		break;
	}
	config__warn(c, p->file, p->line, CONFIG_UNSUPPORTED, name);
	return 0;
}

static bool blank(const char *s)
{
	return !s || !*s;
}

int config__gateway_parse(struct config__ctx *c, const struct config_node *gn,
			  struct config_gateway *gw)
{
	int rc;

	memset(gw, 0, sizeof(*gw));
	gw->file = gn->file;
	gw->line = gn->line;
	gw->do_register = true;
	gw->register_transport = "udp";
	gw->expire_seconds = 3600;
	gw->retry_seconds = 30;
	if ((rc = config__copy_name(c, gn, "gateway", gw->name)))
		return rc;
	for (const struct config_node *p = config_node_child(gn, NULL); p;
	     p = config_node_next(p, NULL)) {
		const char *name, *v;
		if (!config__param_read(c, p, &name, &v))
			continue;
		if ((rc = gateway_param(c, p, name, v, gw)))
			return rc;
	}

	if (blank(gw->realm))
		gw->realm = blank(gw->proxy) ? gw->name : gw->proxy;
	if (blank(gw->proxy))
		gw->proxy = gw->realm;
	if (gw->do_register && (blank(gw->username) || blank(gw->password)))
		return config__fail(c, -EINVAL, gn->file, gn->line,
				    "gateway '%s' registers (register defaults to true) and so "
				    "needs username and password",
				    gw->name);
	if (blank(gw->username))
		gw->username = "irisx";
	if (!gw->password)
		gw->password = "";
	if (blank(gw->from_user))
		gw->from_user = gw->username;
	if (blank(gw->from_domain))
		gw->from_domain = gw->realm;
	if (blank(gw->extension))
		gw->extension = gw->username;
	return 0;
}
