/*
 * URIs (RFC 3261 §19.1, grammar in §25.1) and the lexical pieces the other
 * message files share: character classes, quoted strings, generic parameter
 * lists and hosts (RFC 3261 §25.1, IPv6 references per RFC 5118).
 *
 * SIP and SIPS URIs are split into user, password, host, port, parameters
 * and headers; "tel" URIs (RFC 3966) into the number and parameters; any
 * other scheme is only checked to be an absoluteURI, since a UAS answers
 * those with 416 and never looks inside. Nothing is unescaped: slices keep
 * the %-escapes as on the wire.
 */
#include "sip_int.h"

#include <errno.h>
#include <string.h>

#define LOG_MODULE "sip"

/* ---- character classes ---------------------------------------------------- */

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define IS_ALNUM(c) (IS_DIGIT(c) || IS_ALPHA(c))
#define IS_HEX(c)   (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define IS_MARK(c)                                                                                 \
	((c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || (c) == '~' || (c) == '*' ||       \
	 (c) == '\'' || (c) == '(' || (c) == ')')
#define IS_UNRES(c) (IS_ALNUM(c) || IS_MARK(c))
#define IS_TOKEN(c)                                                                                \
	(IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' || (c) == '%' || (c) == '*' ||      \
	 (c) == '_' || (c) == '+' || (c) == '`' || (c) == '\'' || (c) == '~')
#define IS_USER_UNRES(c)                                                                           \
	((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',' || (c) == ';' ||       \
	 (c) == '?' || (c) == '/')
#define IS_PASS_EXTRA(c) ((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_PARAM_UNRES(c)                                                                          \
	((c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || (c) == '&' || (c) == '+' ||       \
	 (c) == '$')
#define IS_HNV_UNRES(c)                                                                            \
	((c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '+' ||       \
	 (c) == '$')
#define IS_RESERVED(c)                                                                             \
	((c) == ';' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '@' || (c) == '&' ||       \
	 (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')
#define IS_WORD(c)                                                                                 \
	(IS_TOKEN(c) || (c) == '(' || (c) == ')' || (c) == '<' || (c) == '>' || (c) == ':' ||      \
	 (c) == '\\' || (c) == '"' || (c) == '/' || (c) == '[' || (c) == ']' || (c) == '?' ||      \
	 (c) == '{' || (c) == '}')

#define CLS(c)                                                                                     \
	((IS_DIGIT(c) ? SIP_CC_DIGIT : 0) | (IS_ALPHA(c) ? SIP_CC_ALPHA : 0) |                     \
	 (IS_HEX(c) ? SIP_CC_HEX : 0) | (IS_TOKEN(c) ? SIP_CC_TOKEN : 0) |                         \
	 ((c) == ' ' || (c) == '\t' ? SIP_CC_WSP : 0) | (IS_UNRES(c) ? SIP_CC_UNRES : 0) |         \
	 (IS_UNRES(c) || IS_USER_UNRES(c) ? SIP_CC_USER : 0) |                                     \
	 (IS_UNRES(c) || IS_PASS_EXTRA(c) ? SIP_CC_PASS : 0) |                                     \
	 (IS_UNRES(c) || IS_PARAM_UNRES(c) ? SIP_CC_PARAM : 0) |                                   \
	 (IS_UNRES(c) || IS_HNV_UNRES(c) ? SIP_CC_HNV : 0) |                                       \
	 (IS_ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '_' ? SIP_CC_HOST : 0) |               \
	 (IS_UNRES(c) || IS_RESERVED(c) || (c) == '%' ? SIP_CC_URIC : 0) |                         \
	 (IS_WORD(c) ? SIP_CC_WORD : 0) |                                                          \
	 (IS_TOKEN(c) || (c) == ':' || (c) == '[' || (c) == ']' ? SIP_CC_VALUE : 0) |              \
	 (IS_ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.' ? SIP_CC_SCHEME : 0))

#define R4(b)  CLS(b), CLS((b) + 1), CLS((b) + 2), CLS((b) + 3)
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
#define R64(b) R16(b), R16((b) + 16), R16((b) + 32), R16((b) + 48)

/* Octets 128–255 belong to no class: UTF-8 is only allowed where a rule says so. */
const uint16_t sip__cc[256] = {R64(0), R64(64)};

/* ---- shared lexical pieces ------------------------------------------------ */

bool sip__quoted_skip(const char **pp, const char *end)
{
	const char *p = *pp + 1;

	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '"') {
			*pp = p + 1;
			return true;
		}
		if (c == '\\') {
			/* quoted-pair: any octet 0x00-0x7F but CR and LF */
			if (end - p < 2 || p[1] == '\r' || p[1] == '\n' ||
			    (unsigned char)p[1] > 0x7f)
				return false;
			p += 2;
		} else if (c == '\r') {
			if (end - p < 3 || p[1] != '\n' || (p[2] != ' ' && p[2] != '\t'))
				return false;
			p += 3;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return false; /* a raw control character is only legal escaped */
		} else {
			p++;
		}
	}
	return false;
}

bool sip__params_skip(const char **pp, const char *end)
{
	const char *p = sip__skip_lws(*pp, end);

	while (p < end && *p == ';') {
		p = sip__skip_lws(p + 1, end);
		const char *name = p;
		p = sip__span(p, end, SIP_CC_TOKEN);
		if (p == name)
			return false;
		p = sip__skip_lws(p, end);
		if (p < end && *p == '=') {
			p = sip__skip_lws(p + 1, end);
			if (p < end && *p == '"') {
				if (!sip__quoted_skip(&p, end))
					return false;
			} else {
				const char *v = p;
				p = sip__span(p, end, SIP_CC_VALUE);
				if (p == v)
					return false;
			}
			p = sip__skip_lws(p, end);
		}
	}
	*pp = p;
	return true;
}

bool sip__port_parse(struct str s, uint16_t *out)
{
	uint32_t v;

	if (s.len == 0 || s.len > 5 || str_to_u32(s, &v) != 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

const char *sip__host_skip(const char *p, const char *end, bool brackets_optional)
{
	if (p < end && *p == '[') {
		const char *q = p + 1;
		while (q < end && (sip__is(*q, SIP_CC_HEX) || *q == ':' || *q == '.'))
			q++;
		/* at least "::" inside, and the closing bracket */
		if (q - p < 3 || q >= end || *q != ']' || !memchr(p, ':', (size_t)(q - p)))
			return NULL;
		return q + 1;
	}
	if (brackets_optional) {
		const char *q = p;
		while (q < end && (sip__is(*q, SIP_CC_HEX) || *q == ':' || *q == '.'))
			q++;
		if (q - p >= 2 && memchr(p, ':', (size_t)(q - p)))
			return q;
	}
	const char *q = sip__span(p, end, SIP_CC_HOST);
	return q > p ? q : NULL;
}

bool sip__escaped_valid(struct str s, unsigned cls)
{
	const char *p = s.p, *end = sip__end(s);

	while (p < end) {
		if (*p == '%') {
			if (end - p < 3 || !sip__is(p[1], SIP_CC_HEX) || !sip__is(p[2], SIP_CC_HEX))
				return false;
			p += 3;
		} else if (sip__is(*p, cls)) {
			p++;
		} else {
			return false;
		}
	}
	return true;
}

/* ---- URIs ------------------------------------------------------------------ */

/* uri-parameters: *( ";" pname [ "=" pvalue ] ), up to '?' or the end. */
static const char *uri_params_skip(const char *p, const char *end)
{
	while (p < end && *p == ';') {
		p++;
		const char *n = p;
		while (p < end && *p != '=' && *p != ';' && *p != '?')
			p++;
		if (p == n || !sip__escaped_valid(sip__str(n, p), SIP_CC_PARAM))
			return NULL;
		if (p < end && *p == '=') {
			const char *v = ++p;
			while (p < end && *p != ';' && *p != '?')
				p++;
			if (p == v || !sip__escaped_valid(sip__str(v, p), SIP_CC_PARAM))
				return NULL;
		}
	}
	return p;
}

/* headers: hname "=" hvalue *( "&" hname "=" hvalue ) */
static bool uri_headers_valid(struct str s)
{
	const char *p = s.p, *end = sip__end(s);

	if (s.len == 0)
		return false;
	while (p < end) {
		const char *n = p;
		while (p < end && *p != '=' && *p != '&')
			p++;
		if (p == n || p == end || *p != '=' ||
		    !sip__escaped_valid(sip__str(n, p), SIP_CC_HNV))
			return false;
		const char *v = ++p;
		while (p < end && *p != '&')
			p++;
		if (!sip__escaped_valid(sip__str(v, p), SIP_CC_HNV))
			return false;
		if (p < end && ++p == end)
			return false; /* a trailing '&' */
	}
	return true;
}

static int uri_sip_parse(struct sip_uri *out, const char *p, const char *end)
{
	const char *at = memchr(p, '@', (size_t)(end - p));

	/* '@' cannot appear unescaped after the userinfo (§25.1), so the first one
	 * ends it even when the user part holds ';' or '?' (RFC 4475 semiuri). */
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *user_end = colon ? colon : at;
		out->user = sip__str(p, user_end);
		if (out->user.len == 0 || !sip__escaped_valid(out->user, SIP_CC_USER))
			return -EINVAL;
		if (colon) {
			out->password = sip__str(colon + 1, at);
			if (!sip__escaped_valid(out->password, SIP_CC_PASS))
				return -EINVAL;
		}
		p = at + 1;
	}
	const char *h = sip__host_skip(p, end, false);
	if (!h)
		return -EINVAL;
	out->host = sip__str(p, h);
	p = h;
	if (p < end && *p == ':') {
		const char *d = ++p;
		p = sip__span(p, end, SIP_CC_DIGIT);
		if (!sip__port_parse(sip__str(d, p), &out->port) || out->port == 0)
			return -EINVAL;
	}
	if (p < end && *p == ';') {
		const char *s = p;
		p = uri_params_skip(p, end);
		if (!p)
			return -EINVAL;
		out->params = sip__str(s, p);
	}
	if (p < end && *p == '?') {
		out->headers = sip__str(p + 1, end);
		if (!uri_headers_valid(out->headers))
			return -EINVAL;
		p = end;
	}
	return p == end ? 0 : -EINVAL;
}

/* tel: telephone-subscriber, kept whole in `user`; its parameters in `params`. */
static int uri_tel_parse(struct sip_uri *out, const char *p, const char *end)
{
	const char *semi = memchr(p, ';', (size_t)(end - p));
	const char *num_end = semi ? semi : end;

	out->user = sip__str(p, num_end);
	if (out->user.len == 0 || !sip__escaped_valid(out->user, SIP_CC_PARAM))
		return -EINVAL;
	if (semi) {
		const char *q = uri_params_skip(semi, end);
		if (q != end)
			return -EINVAL;
		out->params = sip__str(semi, end);
	}
	return 0;
}

int sip_uri_parse(struct sip_uri *out, struct str s)
{
	const char *p = s.p, *end = sip__end(s);

	if (!out || (!s.p && s.len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (s.len == 0 || !sip__is(*p, SIP_CC_ALPHA))
		return -EINVAL;
	p = sip__span(p, end, SIP_CC_SCHEME);
	if (p == end || *p != ':')
		return -EINVAL;
	out->scheme = sip__str(s.p, p);
	p++;
	if (p == end)
		return -EINVAL;

	int err;
	if (SIP__IEQ(out->scheme, "sip") || SIP__IEQ(out->scheme, "sips"))
		err = uri_sip_parse(out, p, end);
	else if (SIP__IEQ(out->scheme, "tel"))
		err = uri_tel_parse(out, p, end);
	else
		err = sip__escaped_valid(sip__str(p, end), SIP_CC_URIC) ? 0 : -EINVAL;
	if (err) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	return 0;
}
