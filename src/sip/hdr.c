/*
 * Names and header values: the method and header-name tables (compact forms
 * of RFC 3261 §7.3.3 and later RFCs), transports, and the parsers of the
 * structured values transactions and dialogs read — Via (§20.42), CSeq
 * (§20.16), name-addr / addr-spec (§20.10, §20.20, §20.39), generic
 * parameters and comma-separated lists (§7.3.1).
 *
 * LWS, folds included, is accepted wherever §25.1 allows it (SWS around
 * ';', '=', '/', ':', '<', '>'), since RFC 4475 wsinv exercises all of it.
 */
#include "sip_int.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define LOG_MODULE "sip"

/* ---- methods ----------------------------------------------------------------- */

static const struct {
	const char *name;
	uint8_t len;
} method_table[] = {[SIP_METHOD_UNKNOWN] = {"UNKNOWN", 7},
#define X(m) [SIP_METHOD_##m] = {#m, sizeof(#m) - 1},
		    SIP_METHODS(X)
#undef X
};

enum sip_method sip_method_parse(struct str name)
{
	for (size_t i = 1; i < ARRAY_LEN(method_table); i++) {
		if (method_table[i].len == name.len &&
		    memcmp(method_table[i].name, name.p, name.len) == 0)
			return (enum sip_method)i;
	}
	return SIP_METHOD_UNKNOWN;
}

const char *sip_method_name(enum sip_method m)
{
	return (size_t)m < ARRAY_LEN(method_table) ? method_table[m].name : "UNKNOWN";
}

/* ---- header names ------------------------------------------------------------ */

static const struct {
	const char *name;
	uint8_t len;
	char compact;
} hdr_table[SIP_HDR_COUNT] = {[SIP_HDR_OTHER] = {NULL, 0, 0},
#define X(id, name, compact) [SIP_HDR_##id] = {name, sizeof(name) - 1, compact},
			      SIP_HEADERS(X)
#undef X
};

/*
 * Candidates by lower-case first letter, so that a lookup compares against
 * a handful of names rather than the whole table. The unit tests check that
 * every name and compact form of SIP_HEADERS resolves through this index;
 * the static_assert makes a change of the table revisit it.
 */
static_assert(SIP_HDR_COUNT == 43, "SIP_HEADERS changed: update hdr_by_letter");
static const uint8_t hdr_by_letter[26][10] = {
    ['a' - 'a'] = {SIP_HDR_ACCEPT, SIP_HDR_ACCEPT_CONTACT, SIP_HDR_ALLOW, SIP_HDR_ALLOW_EVENTS,
		   SIP_HDR_AUTHORIZATION},
    ['c' - 'a'] = {SIP_HDR_CALL_ID, SIP_HDR_CONTACT, SIP_HDR_CSEQ, SIP_HDR_CONTENT_LENGTH,
		   SIP_HDR_CONTENT_TYPE, SIP_HDR_CONTENT_DISPOSITION, SIP_HDR_CONTENT_ENCODING},
    ['d' - 'a'] = {SIP_HDR_DATE},
    ['e' - 'a'] = {SIP_HDR_EVENT, SIP_HDR_EXPIRES},
    ['f' - 'a'] = {SIP_HDR_FROM},
    ['m' - 'a'] = {SIP_HDR_MAX_FORWARDS, SIP_HDR_MIN_EXPIRES},
    ['p' - 'a'] = {SIP_HDR_P_ASSERTED_IDENTITY, SIP_HDR_PROXY_AUTHENTICATE,
		   SIP_HDR_PROXY_AUTHORIZATION, SIP_HDR_PROXY_REQUIRE},
    ['r' - 'a'] = {SIP_HDR_ROUTE, SIP_HDR_RECORD_ROUTE, SIP_HDR_REASON, SIP_HDR_REFER_TO,
		   SIP_HDR_REFERRED_BY, SIP_HDR_REMOTE_PARTY_ID, SIP_HDR_REQUIRE, SIP_HDR_RSEQ,
		   SIP_HDR_RACK},
    ['s' - 'a'] = {SIP_HDR_SERVER, SIP_HDR_SESSION_EXPIRES, SIP_HDR_SUBJECT, SIP_HDR_SUPPORTED},
    ['t' - 'a'] = {SIP_HDR_TO, SIP_HDR_TIMESTAMP},
    ['u' - 'a'] = {SIP_HDR_USER_AGENT, SIP_HDR_UNSUPPORTED},
    ['v' - 'a'] = {SIP_HDR_VIA},
    ['w' - 'a'] = {SIP_HDR_WARNING, SIP_HDR_WWW_AUTHENTICATE},
};

/* Compact forms (RFC 3261 §7.3.3, RFC 3515, RFC 3892, RFC 3841, RFC 4028, RFC 6665);
 * sip_hdr_id_parse() also checks the table's own compact letter. */
static const uint8_t hdr_by_compact[26] = {
    ['a' - 'a'] = SIP_HDR_ACCEPT_CONTACT,
    ['b' - 'a'] = SIP_HDR_REFERRED_BY,
    ['c' - 'a'] = SIP_HDR_CONTENT_TYPE,
    ['e' - 'a'] = SIP_HDR_CONTENT_ENCODING,
    ['f' - 'a'] = SIP_HDR_FROM,
    ['i' - 'a'] = SIP_HDR_CALL_ID,
    ['k' - 'a'] = SIP_HDR_SUPPORTED,
    ['l' - 'a'] = SIP_HDR_CONTENT_LENGTH,
    ['m' - 'a'] = SIP_HDR_CONTACT,
    ['o' - 'a'] = SIP_HDR_EVENT,
    ['r' - 'a'] = SIP_HDR_REFER_TO,
    ['s' - 'a'] = SIP_HDR_SUBJECT,
    ['t' - 'a'] = SIP_HDR_TO,
    ['u' - 'a'] = SIP_HDR_ALLOW_EVENTS,
    ['v' - 'a'] = SIP_HDR_VIA,
    ['x' - 'a'] = SIP_HDR_SESSION_EXPIRES,
};

enum sip_hdr_id sip_hdr_id_parse(struct str name)
{
	if (name.len == 0 || !name.p)
		return SIP_HDR_OTHER;
	char c = sip__lower(name.p[0]);
	if (c < 'a' || c > 'z')
		return SIP_HDR_OTHER;
	if (name.len == 1) {
		uint8_t id = hdr_by_compact[c - 'a'];
		return id && hdr_table[id].compact == c ? (enum sip_hdr_id)id : SIP_HDR_OTHER;
	}
	const uint8_t *cand = hdr_by_letter[c - 'a'];
	for (size_t i = 0; i < ARRAY_LEN(hdr_by_letter[0]) && cand[i]; i++) {
		const char *n = hdr_table[cand[i]].name;
		/* most peers write the canonical spelling: memcmp first */
		if (hdr_table[cand[i]].len == name.len &&
		    (memcmp(n, name.p, name.len) == 0 || sip__ieq(name, n, name.len)))
			return (enum sip_hdr_id)cand[i];
	}
	return SIP_HDR_OTHER;
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (size_t)id < SIP_HDR_COUNT ? hdr_table[id].name : NULL;
}

/* ---- transports -------------------------------------------------------------- */

const char *sip_transport_name(enum sip_transport t)
{
	switch (t) {
	case SIP_TRANSPORT_UDP:
		return "UDP";
	case SIP_TRANSPORT_TCP:
		return "TCP";
	case SIP_TRANSPORT_TLS:
		return "TLS";
	}
	return "UDP";
}

int sip_transport_parse(struct str name, enum sip_transport *out)
{
	if (SIP__IEQ(name, "udp"))
		*out = SIP_TRANSPORT_UDP;
	else if (SIP__IEQ(name, "tcp"))
		*out = SIP_TRANSPORT_TCP;
	else if (SIP__IEQ(name, "tls"))
		*out = SIP_TRANSPORT_TLS;
	else
		return -EINVAL;
	return 0;
}

/* ---- parameters and lists ---------------------------------------------------- */

/*
 * Next ";name[=value]" of a list already validated or not: returns false at
 * the end or on the first thing that is not a parameter.
 */
static bool param_next(const char **pp, const char *end, struct str *name, struct str *value)
{
	const char *p = sip__skip_lws(*pp, end);

	if (p >= end || *p != ';')
		return false;
	p = sip__skip_lws(p + 1, end);
	const char *n = p;
	p = sip__span(p, end, SIP_CC_TOKEN);
	if (p == n)
		return false;
	*name = sip__str(n, p);
	*value = STR_NULL;
	const char *q = sip__skip_lws(p, end);
	if (q < end && *q == '=') {
		q = sip__skip_lws(q + 1, end);
		const char *v = q;
		if (q < end && *q == '"') {
			if (!sip__quoted_skip(&q, end))
				return false;
		} else {
			q = sip__span(q, end, SIP_CC_VALUE);
		}
		*value = sip__str(v, q);
		p = q;
	}
	*pp = p;
	return true;
}

bool sip_param_get(struct str params, const char *name, struct str *value)
{
	const char *p = params.p, *end = sip__end(params);
	struct str n, v;

	if (!params.p || !name)
		return false;
	size_t name_len = strlen(name);
	while (param_next(&p, end, &n, &v)) {
		if (sip__ieq(n, name, name_len)) {
			if (value)
				*value = v;
			return true;
		}
	}
	return false;
}

bool sip_list_next(struct str *list, struct str *item)
{
	const char *p = list->p, *end = sip__end(*list);

	if (!list->p)
		return false;
	for (;;) {
		p = sip__skip_lws(p, end);
		while (p < end && *p == ',')
			p = sip__skip_lws(p + 1, end);
		if (p >= end) {
			*list = sip__str(end, end);
			return false;
		}
		const char *start = p;
		bool angle = false;
		while (p < end) {
			if (*p == '"') {
				const char *q = p;
				if (!sip__quoted_skip(&q, end)) {
					p = end; /* unbalanced: the rest is one item */
					break;
				}
				p = q;
				continue;
			}
			if (*p == '<')
				angle = true;
			else if (*p == '>')
				angle = false;
			else if (*p == ',' && !angle)
				break;
			p++;
		}
		const char *e = sip__rskip_lws(start, p);
		*list = sip__str(p < end ? p + 1 : end, end);
		if (e > start) {
			*item = sip__str(start, e);
			return true;
		}
	}
}

/* After a value: the end, or a ',' and the next element (which must exist). */
static int list_rest(const char *p, const char *end, struct str *rest)
{
	p = sip__skip_lws(p, end);
	if (p == end) {
		if (rest)
			*rest = sip__str(end, end);
		return 0;
	}
	if (*p != ',' || !rest)
		return -EINVAL;
	p = sip__skip_lws(p + 1, end);
	if (p == end)
		return -EINVAL;
	*rest = sip__str(p, end);
	return 0;
}

/* ---- Via --------------------------------------------------------------------- */

static const char *token_then(const char *p, const char *end, struct str *tok, char sep)
{
	const char *t = p;
	p = sip__span(p, end, SIP_CC_TOKEN);
	if (p == t)
		return NULL;
	*tok = sip__str(t, p);
	if (!sep)
		return p;
	p = sip__skip_lws(p, end);
	if (p >= end || *p != sep)
		return NULL;
	return sip__skip_lws(p + 1, end);
}

static int via_params_read(struct sip_via *out)
{
	const char *p = out->params.p, *end = sip__end(out->params);
	struct str n, v;

	while (param_next(&p, end, &n, &v)) {
		bool needs_value = SIP__IEQ(n, "branch") || SIP__IEQ(n, "received") ||
				   SIP__IEQ(n, "maddr") || SIP__IEQ(n, "ttl");
		if (needs_value && v.len == 0)
			return -EINVAL; /* via-branch, via-received, … all have "=" value */
		if (SIP__IEQ(n, "branch")) {
			out->branch = v;
		} else if (SIP__IEQ(n, "received")) {
			const char *h = sip__host_skip(v.p, sip__end(v), true);
			if (!h || h != sip__end(v))
				return -EINVAL;
			out->received = v;
		} else if (SIP__IEQ(n, "rport")) {
			uint16_t port;
			out->rport = true;
			if (v.len && !sip__port_parse(v, &port))
				return -EINVAL;
			out->rport_value = v.len ? port : 0;
		} else if (SIP__IEQ(n, "maddr")) {
			out->maddr = v;
		}
	}
	return 0;
}

int sip_via_parse(struct sip_via *out, struct str s, struct str *rest)
{
	const char *p = s.p, *end = sip__end(s);
	struct str name, version;

	if (!out || !s.p)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	p = sip__skip_lws(p, end);
	const char *proto = p;
	if (!(p = token_then(p, end, &name, '/')) || !(p = token_then(p, end, &version, '/')) ||
	    !(p = token_then(p, end, &out->transport, 0)))
		goto bad;
	out->protocol = sip__str(proto, version.p + version.len);

	/* sent-protocol LWS sent-by: the LWS is required */
	const char *q = sip__skip_lws(p, end);
	if (q == p)
		goto bad;
	p = q;
	q = sip__host_skip(p, end, false);
	if (!q)
		goto bad;
	out->host = sip__str(p, q);
	p = sip__skip_lws(q, end);
	if (p < end && *p == ':') {
		p = sip__skip_lws(p + 1, end);
		q = sip__span(p, end, SIP_CC_DIGIT);
		if (!sip__port_parse(sip__str(p, q), &out->port) || out->port == 0)
			goto bad;
		p = sip__skip_lws(q, end);
	}
	if (p < end && *p == ';') {
		const char *ps = p;
		if (!sip__params_skip(&p, end))
			goto bad;
		out->params = sip__str(ps, sip__rskip_lws(ps, p));
		if (via_params_read(out))
			goto bad;
	}
	if (list_rest(p, end, rest))
		goto bad;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

/* ---- CSeq -------------------------------------------------------------------- */

int sip_cseq_parse(struct sip_cseq *out, struct str s)
{
	const char *p, *end;

	if (!out || !s.p)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	p = sip__skip_lws(s.p, sip__end(s));
	end = sip__rskip_lws(p, sip__end(s));
	const char *d = p;
	p = sip__span(p, end, SIP_CC_DIGIT);
	int err = str_to_u32(sip__str(d, p), &out->num);
	if (err)
		return err;
	const char *m = sip__skip_lws(p, end);
	if (m == p)
		return -EINVAL;
	p = sip__span(m, end, SIP_CC_TOKEN);
	if (p == m || p != end)
		return -EINVAL;
	out->method_name = sip__str(m, p);
	out->method = sip_method_parse(out->method_name);
	return 0;
}

/* ---- name-addr / addr-spec --------------------------------------------------- */

/* *(token LWS) followed by '<': the display-name of a name-addr without quotes. */
static const char *display_tokens(const char *p, const char *end, const char **disp_end)
{
	const char *last = NULL;

	for (;;) {
		const char *t = p;
		p = sip__span(p, end, SIP_CC_TOKEN);
		if (p == t)
			return NULL;
		last = p;
		p = sip__skip_lws(p, end);
		if (p < end && *p == '<') {
			*disp_end = last;
			return p;
		}
		if (p == last)
			return NULL; /* a non-token character glued to the token */
	}
}

int sip_addr_parse(struct sip_addr *out, struct str s, struct str *rest)
{
	const char *p = s.p, *end = sip__end(s);

	if (!out || !s.p)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	p = sip__skip_lws(p, end);
	if (p == end)
		goto bad;

	const char *lt = NULL;
	if (*p == '"') {
		const char *q = p;
		if (!sip__quoted_skip(&q, end))
			goto bad;
		out->display = sip__str(p + 1, q - 1);
		lt = sip__skip_lws(q, end);
		if (lt >= end || *lt != '<')
			goto bad;
	} else if (*p == '<') {
		lt = p;
	} else {
		const char *disp_end;
		lt = display_tokens(p, end, &disp_end);
		if (lt)
			out->display = sip__str(p, disp_end);
	}

	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		if (!gt)
			goto bad;
		out->uri_str = sip__str(lt + 1, gt);
		if (sip_uri_parse(&out->uri, out->uri_str))
			goto bad;
		p = gt + 1;
	} else {
		/* addr-spec: the URI cannot hold ',', ';' or '?' (§20.10), so ';' and
		 * ',' end it and start the header parameters / the next element */
		const char *u = p;
		while (p < end && *p != ';' && *p != ',' && !sip__is(*p, SIP_CC_WSP) && *p != '\r')
			p++;
		out->uri_str = sip__str(u, p);
		if (memchr(u, '?', (size_t)(p - u)) || sip_uri_parse(&out->uri, out->uri_str))
			goto bad;
	}

	p = sip__skip_lws(p, end);
	if (p < end && *p == ';') {
		const char *ps = p;
		if (!sip__params_skip(&p, end))
			goto bad;
		out->params = sip__str(ps, sip__rskip_lws(ps, p));
		sip_param_get(out->params, "tag", &out->tag);
	}
	if (list_rest(p, end, rest))
		goto bad;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}
