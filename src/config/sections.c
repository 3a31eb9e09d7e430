/*
 * The typed views built at start: switch.conf (RTP port range, session
 * limits) and sofia.conf (SIP profiles with their gateways), after acl.conf
 * (acl.c) so that a profile's apply-inbound-acl can be checked. Everything
 * else in the document is accounted for here too: a section or configuration
 * irisx does not read, and every parameter it does not use, is a warning
 * naming its file and line. Wrong values are errors naming the parameter's.
 *
 * Defaults and the meaning of each parameter follow FreeSWITCH's mod_sofia
 * and switch.conf; docs/CONFIG.md lists them.
 */
#include "config_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "config"

/* Configurations irisx knows. Those read by a later module (their owner
 * calls config_section()) are only recognised here, so they do not warn. */
enum config_use { USE_HERE, USE_LATER };

static const struct {
	const char *name;
	enum config_use use;
} known_configs[] = {
    {"switch.conf", USE_HERE},	      {"acl.conf", USE_HERE},	   {"sofia.conf", USE_HERE},
    {"event_socket.conf", USE_LATER}, {"cdr.conf", USE_LATER},	   {"http.conf", USE_LATER},
    {"ivr.conf", USE_LATER},	      {"modules.conf", USE_LATER}, {"twiml.conf", USE_LATER},
};

static const char *const known_sections[] = {"configuration", "dialplan"};

/* ---- small helpers ---- */

/* A growable list of strings, moved into the arena when complete. */
struct strvec {
	const char **v;
	size_t n, cap;
};

static int strvec_push(struct strvec *sv, const char *s)
{
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 4;
		const char **n = realloc(sv->v, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		sv->v = n;
		sv->cap = cap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

/* Moves the strings into the arena: *out and *count, or -ENOMEM. */
static int strvec_finish(struct arena *a, struct strvec *sv, const char ***out,
			 size_t *count)
{
	int rc = 0;
	*out = NULL;
	*count = 0;
	if (sv->n) {
		*out = arena_alloc(a, sv->n * sizeof(**out));
		if (*out) {
			memcpy(*out, sv->v, sv->n * sizeof(**out));
			*count = sv->n;
		} else {
			rc = -ENOMEM;
		}
	}
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
	return rc;
}

/* <param name= value=/>: false (after warning) when it is something else. */
bool config__param_read(struct config__ctx *c, const struct config_node *n, const char **name,
			const char **value)
{
	if (strcmp(n->name, "param") != 0) {
		config__warn(c, n->file, n->line,
			     "element <%s> is not supported by irisx (ignored)", n->name);
		return false;
	}
	*name = config_node_attr(n, "name");
	*value = config_node_attr(n, "value");
	if (!*name || !**name) {
		config__warn(c, n->file, n->line, "<param> without a name (ignored)");
		return false;
	}
	if (!*value)
		*value = "";
	return true;
}

int config__parse_u32(struct config__ctx *c, const struct config_node *n, const char *pname,
		      const char *v, uint32_t min, uint32_t max, const char *what, uint32_t *out)
{
	uint32_t x;
	if (str_to_u32(str_trim(str_from_cstr(v)), &x) != 0 || x < min || x > max)
		return config__fail(c, -EINVAL, n->file, n->line,
				    "parameter '%s': '%s' is not %s (%u-%u)", pname, v, what, min,
				    max);
	*out = x;
	return 0;
}

static int parse_port(struct config__ctx *c, const struct config_node *n, const char *pname,
		      const char *v, uint16_t *out)
{
	uint32_t x;
	int rc = config__parse_u32(c, n, pname, v, 1, 65535, "a port number", &x);
	if (!rc)
		*out = (uint16_t)x;
	return rc;
}

static bool is_ip(const char *v)
{
	struct net_addr a;
	return v && net_addr_parse(&a, str_from_cstr(v), 0) == 0;
}

int config__copy_name(struct config__ctx *c, const struct config_node *n, const char *what,
		      char dst[CONFIG_NAME_MAX])
{
	const char *name = config_node_attr(n, "name");
	if (!name || !*name)
		return config__fail(c, -EINVAL, n->file, n->line, "<%s> without a name", what);
	if (str_copy_cstr(str_from_cstr(name), dst, CONFIG_NAME_MAX) != 0)
		return config__fail(c, -EINVAL, n->file, n->line,
				    "%s name '%s' is longer than %d characters", what, name,
				    CONFIG_NAME_MAX - 1);
	return 0;
}

/* ---- the document ---- */

static int known_config(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(known_configs); i++)
		if (config__ieq(known_configs[i].name, name))
			return (int)i;
	return -1;
}

static void check_configurations(struct config__ctx *c, const struct config_node *section)
{
	for (const struct config_node *n = config_node_child(section, NULL); n;
	     n = config_node_next(n, NULL)) {
		const char *name = config_node_attr(n, "name");
		if (strcmp(n->name, "configuration") != 0) {
			config__warn(c, n->file, n->line,
				     "element <%s> in section 'configuration' is not read by irisx "
				     "(ignored)",
				     n->name);
			continue;
		}
		if (!name) {
			config__warn(c, n->file, n->line,
				     "<configuration> without a name (ignored)");
			continue;
		}
		/* FreeSWITCH finds the first of a name; a second one is dead. */
		const struct config_node *first = config_node_child(section, "configuration");
		while (first != n && !config__ieq(config_node_attr(first, "name"), name))
			first = config_node_next(first, "configuration");
		if (first != n) {
			config__warn(c, n->file, n->line,
				     "configuration '%s' appears again; irisx reads only the first "
				     "(%s:%u)",
				     name, first->file, first->line);
			continue;
		}
		if (known_config(name) < 0)
			config__warn(c, n->file, n->line,
				     "configuration '%s' is not read by irisx (ignored)", name);
	}
}

static void check_document(struct config__ctx *c, const struct config_node *root)
{
	const struct config_node *config_section = NULL;

	for (const struct config_node *n = config_node_child(root, NULL); n;
	     n = config_node_next(n, NULL)) {
		const char *name = config_node_attr(n, "name");
		if (strcmp(n->name, "section") != 0) {
			config__warn(c, n->file, n->line,
				     "element <%s> in <document> is not read by irisx (ignored)",
				     n->name);
			continue;
		}
		if (!name) {
			config__warn(c, n->file, n->line, "<section> without a name (ignored)");
			continue;
		}
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(known_sections); i++)
			known |= config__ieq(name, known_sections[i]);
		if (!known) {
			config__warn(c, n->file, n->line,
				     "section '%s' is not read by irisx (ignored)", name);
			continue;
		}
		const struct config_node *first = config_node_child(root, "section");
		while (first != n && !config__ieq(config_node_attr(first, "name"), name))
			first = config_node_next(first, "section");
		if (first != n) {
			config__warn(
			    c, n->file, n->line,
			    "section '%s' appears again; irisx reads only the first (%s:%u)", name,
			    first->file, first->line);
			continue;
		}
		if (config__ieq(name, "configuration"))
			config_section = n;
	}
	check_configurations(c, config_section);
}

/* ---- switch.conf ---- */

static int switch_load(struct config__ctx *c, const struct config_node *conf,
		       struct config_switch *sw)
{
	const struct config_node *start_at = NULL, *end_at = NULL;
	int rc = 0;

	*sw = (struct config_switch){16384, 32768, 1000, 30, NULL, 0};
	if (!conf)
		return 0;
	sw->file = conf->file;
	sw->line = conf->line;
	for (const struct config_node *s = config_node_child(conf, NULL); s && !rc;
	     s = config_node_next(s, NULL)) {
		if (strcmp(s->name, "settings") != 0) {
			config__warn(c, s->file, s->line,
				     "element <%s> is not supported by irisx (ignored)", s->name);
			continue;
		}
		for (const struct config_node *p = config_node_child(s, NULL); p && !rc;
		     p = config_node_next(p, NULL)) {
			const char *name, *v;
			if (!config__param_read(c, p, &name, &v))
				continue;
			if (config__ieq(name, "rtp-start-port")) {
				rc = parse_port(c, p, name, v, &sw->rtp_start_port);
				start_at = p;
			} else if (config__ieq(name, "rtp-end-port")) {
				rc = parse_port(c, p, name, v, &sw->rtp_end_port);
				end_at = p;
			} else if (config__ieq(name, "max-sessions")) {
				rc = config__parse_u32(c, p, name, v, 1, UINT32_MAX,
						       "a session count", &sw->max_sessions);
			} else if (config__ieq(name, "sessions-per-second")) {
				rc = config__parse_u32(c, p, name, v, 1, UINT32_MAX, "a rate",
						       &sw->sessions_per_second);
			} else {
				config__warn(c, p->file, p->line, CONFIG_UNSUPPORTED, name);
			}
		}
	}
	if (rc)
		return rc;
	/* RTP takes an even port and RTCP the odd one above (RFC 3550 §11). */
	const struct config_node *at = end_at ? end_at : start_at ? start_at : conf;
	if (sw->rtp_start_port % 2) {
		config__warn(c, start_at->file, start_at->line,
			     "rtp-start-port %u is odd; RTP uses even ports, starting at %u",
			     sw->rtp_start_port, sw->rtp_start_port + 1);
		if (sw->rtp_start_port == 65535)
			return config__fail(c, -EINVAL, at->file, at->line,
					    "rtp-start-port 65535 leaves no even port");
		sw->rtp_start_port++;
	}
	if (sw->rtp_end_port <= sw->rtp_start_port)
		return config__fail(c, -EINVAL, at->file, at->line,
				    "rtp-end-port %u must be above rtp-start-port %u",
				    sw->rtp_end_port, sw->rtp_start_port);
	return 0;
}

/* ---- sofia.conf profiles ---- */

/* ext-sip-ip / ext-rtp-ip: an address is used; FreeSWITCH's auto-nat,
 * stun:, host: and autonat: forms need lookups irisx does not make. */
static const char *ext_ip(struct config__ctx *c, const struct config_node *p, const char *pname,
			  const char *v)
{
	if (!*v)
		return NULL;
	if (is_ip(v))
		return v;
	config__warn(c, p->file, p->line,
		     "parameter '%s' value '%s' is not supported by irisx, which takes only an "
		     "address or $${variable} here (ignored)",
		     pname, v);
	return NULL;
}

/* bind-params: "transport=udp,tcp" chooses the listening transports. */
static int bind_params(struct config__ctx *c, const struct config_node *p, const char *v,
		       struct config_profile *prof)
{
	struct str rest = str_from_cstr(v);
	while (rest.len) {
		ptrdiff_t semi = str_find_char(rest, ';');
		struct str item = str_trim(semi < 0 ? rest : str_make(rest.p, (size_t)semi));
		rest =
		    semi < 0 ? STR_NULL : str_make(rest.p + semi + 1, rest.len - (size_t)semi - 1);
		if (!item.len)
			continue;
		if (!str_starts_with_i(item, "transport=")) {
			config__warn(c, p->file, p->line,
				     "bind-params '%.*s' is not supported by irisx (ignored)",
				     (int)item.len, item.p);
			continue;
		}
		struct str list = str_make(item.p + 10, item.len - 10);
		prof->enable_udp = prof->enable_tcp = false;
		while (list.len) {
			ptrdiff_t comma = str_find_char(list, ',');
			struct str t = str_trim(comma < 0 ? list : str_make(list.p, (size_t)comma));
			list = comma < 0
				   ? STR_NULL
				   : str_make(list.p + comma + 1, list.len - (size_t)comma - 1);
			if (str_ieq_cstr(t, "udp"))
				prof->enable_udp = true;
			else if (str_ieq_cstr(t, "tcp"))
				prof->enable_tcp = true;
			else
				config__warn(c, p->file, p->line,
					     "transport '%.*s' is not supported by irisx (ignored)",
					     (int)t.len, t.p);
		}
		if (!prof->enable_udp && !prof->enable_tcp)
			return config__fail(c, -EINVAL, p->file, p->line,
					    "bind-params '%s' leaves no transport irisx supports "
					    "(udp, tcp)",
					    v);
	}
	return 0;
}

static int inbound_acls(struct config__ctx *c, const struct config_node *p, const char *v,
			const struct acl_set *acls, struct strvec *out)
{
	struct str rest = str_from_cstr(v);
	while (rest.len) {
		ptrdiff_t comma = str_find_char(rest, ',');
		struct str item = str_trim(comma < 0 ? rest : str_make(rest.p, (size_t)comma));
		rest = comma < 0 ? STR_NULL
				 : str_make(rest.p + comma + 1, rest.len - (size_t)comma - 1);
		if (!item.len)
			continue;
		char *name = arena_strndup(c->arena, item);
		if (!name || strvec_push(out, name))
			return config__fail(c, -ENOMEM, p->file, p->line, "out of memory");
		if (!acl_name_valid(acls, name))
			return config__fail(c, -EINVAL, p->file, p->line,
					    "parameter 'apply-inbound-acl': unknown ACL list '%s'",
					    name);
	}
	return 0;
}

enum setting {
	S_SIP_IP,
	S_SIP_PORT,
	S_EXT_SIP_IP,
	S_EXT_RTP_IP,
	S_RTP_IP,
	S_INBOUND_ACL,
	S_CONTEXT,
	S_DIALPLAN,
	S_BIND_PARAMS,
	S_CODEC_PREFS,
	S_RTP_TIMEOUT,
	S_RTP_HOLD_TIMEOUT,
	S_TIMER_T1,
	S_TIMER_T2,
	S_TIMER_T4,
	S_COUNT
};

static const char *const setting_names[S_COUNT] = {
    [S_SIP_IP] = "sip-ip",	   [S_SIP_PORT] = "sip-port", [S_EXT_SIP_IP] = "ext-sip-ip",
    [S_EXT_RTP_IP] = "ext-rtp-ip", [S_RTP_IP] = "rtp-ip",     [S_INBOUND_ACL] = "apply-inbound-acl",
    [S_CONTEXT] = "context",	   [S_DIALPLAN] = "dialplan", [S_BIND_PARAMS] = "bind-params",
    [S_CODEC_PREFS] = "inbound-codec-prefs", [S_RTP_TIMEOUT] = "rtp-timeout-sec",
    [S_RTP_HOLD_TIMEOUT] = "rtp-hold-timeout-sec", [S_TIMER_T1] = "timer-T1",
    [S_TIMER_T2] = "timer-T2", [S_TIMER_T4] = "timer-T4",
};

static int profile_settings(struct config__ctx *c, const struct config_node *s,
			    const struct acl_set *acls, struct config_profile *prof,
			    struct strvec *acl_names)
{
	int rc = 0;
	for (const struct config_node *p = config_node_child(s, NULL); p && !rc;
	     p = config_node_next(p, NULL)) {
		const char *name, *v;
		size_t k = 0;
		if (!config__param_read(c, p, &name, &v))
			continue;
		while (k < S_COUNT && !config__ieq(name, setting_names[k]))
			k++;
		switch ((enum setting)k) {
		case S_SIP_IP:
			if (!is_ip(v))
				return config__fail(c, -EINVAL, p->file, p->line,
						    "parameter 'sip-ip': '%s' is not an IP address",
						    v);
			prof->sip_ip = v;
			break;
		case S_SIP_PORT:
			rc = parse_port(c, p, name, v, &prof->sip_port);
			break;
		case S_EXT_SIP_IP:
			prof->ext_sip_ip = ext_ip(c, p, name, v);
			break;
		case S_EXT_RTP_IP:
			prof->ext_rtp_ip = ext_ip(c, p, name, v);
			break;
		case S_RTP_IP:
			if (!is_ip(v))
				return config__fail(c, -EINVAL, p->file, p->line,
						    "parameter 'rtp-ip': '%s' is not an IP address",
						    v);
			if (prof->rtp_ip)
				config__warn(c, p->file, p->line,
					     "a second rtp-ip is not supported by irisx (ignored)");
			else
				prof->rtp_ip = v;
			break;
		case S_INBOUND_ACL:
			rc = inbound_acls(c, p, v, acls, acl_names);
			break;
		case S_CONTEXT:
			prof->context = v;
			break;
		case S_DIALPLAN:
			prof->dialplan = v;
			break;
		case S_BIND_PARAMS:
			rc = bind_params(c, p, v, prof);
			break;
		case S_CODEC_PREFS:
			prof->codec_prefs = v;
			break;
		case S_RTP_TIMEOUT:
			rc = config__parse_u32(c, p, name, v, 0, 86400, "a number of seconds",
					       &prof->rtp_timeout_sec);
			break;
		case S_RTP_HOLD_TIMEOUT:
			rc = config__parse_u32(c, p, name, v, 0, 86400, "a number of seconds",
					       &prof->rtp_hold_timeout_sec);
			break;
		case S_TIMER_T1:
			rc = config__parse_u32(c, p, name, v, 1, 60000, "a number of milliseconds",
					       &prof->timer_t1_ms);
			break;
		case S_TIMER_T2:
			rc = config__parse_u32(c, p, name, v, 1, 60000, "a number of milliseconds",
					       &prof->timer_t2_ms);
			break;
		case S_TIMER_T4:
			rc = config__parse_u32(c, p, name, v, 1, 60000, "a number of milliseconds",
					       &prof->timer_t4_ms);
			break;
		case S_COUNT:
			config__warn(c, p->file, p->line, CONFIG_UNSUPPORTED, name);
			break;
		}
	}
	if (!rc && prof->timer_t2_ms < prof->timer_t1_ms)
		rc = config__fail(c, -EINVAL, s->file, s->line,
				  "timer-T2 (%u ms) is shorter than timer-T1 (%u ms)",
				  prof->timer_t2_ms, prof->timer_t1_ms);
	return rc;
}

/* Gateways are addressed as sofia/gateway/NAME: the name is global. */
static const struct config_gateway *gateway_find(const struct config *cfg, size_t profiles,
						 const struct config_profile *cur, const char *name)
{
	for (size_t i = 0; i <= profiles; i++) {
		const struct config_profile *p = i < profiles ? &cfg->profiles[i] : cur;
		for (size_t j = 0; j < p->gateway_count; j++)
			if (strcasecmp(p->gateways[j].name, name) == 0)
				return &p->gateways[j];
	}
	return NULL;
}

static int profile_gateways(struct config__ctx *c, struct config *cfg, const struct config_node *gs,
			    struct config_profile *prof)
{
	size_t n = 0;
	for (const struct config_node *g = config_node_child(gs, "gateway"); g;
	     g = config_node_next(g, "gateway"))
		n++;
	struct config_gateway *arr =
	    n ? arena_alloc(c->arena, (prof->gateway_count + n) * sizeof(*arr)) : NULL;
	if (n && !arr)
		return config__fail(c, -ENOMEM, gs->file, gs->line, "out of memory");
	if (n && prof->gateway_count) /* a second <gateways> adds to the first */
		memcpy(arr, prof->gateways, prof->gateway_count * sizeof(*arr));
	if (n)
		prof->gateways = arr;
	for (const struct config_node *g = config_node_child(gs, NULL); g;
	     g = config_node_next(g, NULL)) {
		if (strcmp(g->name, "gateway") != 0) {
			config__warn(c, g->file, g->line,
				     "element <%s> is not supported by irisx (ignored)", g->name);
			continue;
		}
		struct config_gateway *gw = &prof->gateways[prof->gateway_count];
		int rc = config__gateway_parse(c, g, gw);
		if (rc)
			return rc;
		const struct config_gateway *dup =
		    gateway_find(cfg, cfg->profile_count, prof, gw->name);
		if (dup)
			return config__fail(c, -EINVAL, g->file, g->line,
					    "gateway '%s' is already defined at %s:%u", gw->name,
					    dup->file, dup->line);
		prof->gateway_count++;
	}
	return 0;
}

static int profile_parse(struct config__ctx *c, struct config *cfg, const struct config_node *pn,
			 struct config_profile *prof)
{
	struct strvec acl_names = {0}, aliases = {0};
	int rc;

	memset(prof, 0, sizeof(*prof));
	prof->file = pn->file;
	prof->line = pn->line;
	prof->sip_port = 5060;
	prof->enable_udp = prof->enable_tcp = true;
	prof->codec_prefs = "PCMU,PCMA,G722,OPUS";
	prof->rtp_timeout_sec = 60;
	prof->rtp_hold_timeout_sec = 1800;
	prof->timer_t1_ms = 500; /* RFC 3261 §17.1.1.1 */
	prof->timer_t2_ms = 4000;
	prof->timer_t4_ms = 5000;
	if ((rc = config__copy_name(c, pn, "profile", prof->name)))
		return rc;
	for (size_t i = 0; i < cfg->profile_count; i++)
		if (strcasecmp(cfg->profiles[i].name, prof->name) == 0)
			return config__fail(c, -EINVAL, pn->file, pn->line,
					    "profile '%s' is already defined at %s:%u", prof->name,
					    cfg->profiles[i].file, cfg->profiles[i].line);
	for (const struct config_node *n = config_node_child(pn, NULL); n && !rc;
	     n = config_node_next(n, NULL)) {
		if (strcmp(n->name, "settings") == 0) {
			rc = profile_settings(c, n, cfg->acls, prof, &acl_names);
		} else if (strcmp(n->name, "gateways") == 0) {
			rc = profile_gateways(c, cfg, n, prof);
		} else if (strcmp(n->name, "aliases") == 0) {
			for (const struct config_node *a = config_node_child(n, NULL); a && !rc;
			     a = config_node_next(a, NULL)) {
				const char *name = config_node_attr(a, "name");
				if (strcmp(a->name, "alias") != 0 || !name || !*name)
					config__warn(c, a->file, a->line,
						     "<%s> in <aliases> is not an <alias name=…/> "
						     "(ignored)",
						     a->name);
				else if (strvec_push(&aliases, name))
					rc = config__fail(c, -ENOMEM, a->file, a->line,
							  "out of memory");
			}
		} else if (strcmp(n->name, "domains") == 0) {
			for (const struct config_node *d = config_node_child(n, NULL); d;
			     d = config_node_next(d, NULL)) {
				const char *name = config_node_attr(d, "name");
				config__warn(c, d->file, d->line,
					     "domain '%s' (aliases and gateways from the "
					     "directory) is not supported by irisx (ignored)",
					     name ? name : d->name);
			}
		} else {
			config__warn(c, n->file, n->line,
				     "element <%s> is not supported by irisx (ignored)", n->name);
		}
	}
	int rc1 =
	    strvec_finish(c->arena, &acl_names, &prof->inbound_acls, &prof->inbound_acl_count);
	int rc2 = strvec_finish(c->arena, &aliases, &prof->aliases, &prof->alias_count);
	if (rc)
		return rc;
	if (rc1 || rc2)
		return config__fail(c, -ENOMEM, pn->file, pn->line, "out of memory");
	if (!prof->sip_ip) /* FreeSWITCH's default: the host's address */
		prof->sip_ip = config_var(cfg, "local_ip_v4");
	if (!prof->rtp_ip)
		prof->rtp_ip = prof->sip_ip;
	if (!prof->context || !*prof->context)
		prof->context = "public";
	if (!prof->dialplan || !*prof->dialplan)
		prof->dialplan = "XML";
	return 0;
}

/* Two profiles on one address and port cannot both bind. */
static int check_binds(struct config__ctx *c, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->profile_count; i++) {
		const struct config_profile *b = &cfg->profiles[i];
		for (size_t j = 0; j < i; j++) {
			const struct config_profile *a = &cfg->profiles[j];
			struct net_addr x, y;
			if (a->sip_port != b->sip_port ||
			    net_addr_parse(&x, str_from_cstr(a->sip_ip), a->sip_port) ||
			    net_addr_parse(&y, str_from_cstr(b->sip_ip), b->sip_port) ||
			    !net_addr_eq(&x, &y))
				continue;
			return config__fail(
			    c, -EINVAL, b->file, b->line,
			    "profile '%s' binds %s port %u, as profile '%s' (%s:%u) "
			    "does",
			    b->name, b->sip_ip, b->sip_port, a->name, a->file, a->line);
		}
	}
	return 0;
}

static int sofia_load(struct config__ctx *c, struct config *cfg, const struct config_node *conf)
{
	size_t n = 0;
	int rc = 0;

	for (const struct config_node *ps = config_node_child(conf, "profiles"); ps;
	     ps = config_node_next(ps, "profiles"))
		for (const struct config_node *p = config_node_child(ps, "profile"); p;
		     p = config_node_next(p, "profile"))
			n++;
	if (n && !(cfg->profiles = arena_alloc(c->arena, n * sizeof(*cfg->profiles))))
		return config__fail(c, -ENOMEM, conf->file, conf->line, "out of memory");

	for (const struct config_node *s = config_node_child(conf, NULL); s && !rc;
	     s = config_node_next(s, NULL)) {
		if (strcmp(s->name, "global_settings") == 0) {
			for (const struct config_node *p = config_node_child(s, NULL); p;
			     p = config_node_next(p, NULL)) {
				const char *name, *v;
				if (config__param_read(c, p, &name, &v))
					config__warn(c, p->file, p->line, CONFIG_UNSUPPORTED, name);
			}
		} else if (strcmp(s->name, "profiles") == 0) {
			for (const struct config_node *p = config_node_child(s, NULL); p && !rc;
			     p = config_node_next(p, NULL)) {
				if (strcmp(p->name, "profile") != 0) {
					config__warn(c, p->file, p->line,
						     "element <%s> is not supported by irisx "
						     "(ignored)",
						     p->name);
					continue;
				}
				rc = profile_parse(c, cfg, p, &cfg->profiles[cfg->profile_count]);
				if (!rc)
					cfg->profile_count++;
			}
		} else {
			config__warn(c, s->file, s->line,
				     "element <%s> is not supported by irisx (ignored)", s->name);
		}
	}
	return rc ? rc : check_binds(c, cfg);
}

int config__sections_load(struct config__ctx *c, struct config *cfg)
{
	int rc;

	check_document(c, cfg->root);
	rc = config__acl_set_build(c, config_section(cfg, "acl.conf"), &cfg->acls);
	if (!rc)
		rc = switch_load(c, config_section(cfg, "switch.conf"), &cfg->sw);
	const struct config_node *sofia = config_section(cfg, "sofia.conf");
	if (!rc && sofia)
		rc = sofia_load(c, cfg, sofia);
	return rc;
}
