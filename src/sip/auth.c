/*
 * Digest authentication, client side: reading the challenges of a 401
 * (WWW-Authenticate) or 407 (Proxy-Authenticate) and answering one with
 * Authorization / Proxy-Authorization (RFC 3261 §22.2–§22.4, RFC 7616; the
 * form without qop is RFC 2617 §3.2.2.1, as RFC 3261 §22.4 keeps it).
 *
 * Challenges are read as RFC 7235 §2.1 writes them: a scheme token, then
 * either a token68 or a comma list of name=value parameters in any order,
 * names case-insensitive, values tokens or quoted strings, LWS (folds
 * included) around the separators and empty list elements allowed. A value
 * may hold several challenges and a response several headers; a new
 * challenge starts after a comma at a token not followed by '='.
 *
 * Only qop=auth is answered: auth-int needs the body's hash and servers
 * offer it next to auth. MD5, SHA-256 and their -sess forms are known;
 * userhash (RFC 7616 §3.4.4) is never sent. Hashes come from libcrypto.
 */
#include "sip_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#define LOG_MODULE "sip"

/* ---- reading challenges ---------------------------------------------------- */

/* The parameters irisx reads; any other (domain, charset, userhash) is skipped. */
enum { P_REALM, P_NONCE, P_OPAQUE, P_ALGORITHM, P_QOP, P_STALE, P_COUNT };
static const char *const param_names[P_COUNT] = {"realm",     "nonce", "opaque",
						 "algorithm", "qop",   "stale"};

struct digest_params {
	struct str value[P_COUNT];
	bool seen[P_COUNT];
};

static const struct {
	const char *name;
	enum sip_auth_algorithm algorithm;
} algorithms[] = {
    {"MD5", SIP_AUTH_MD5},
    {"MD5-sess", SIP_AUTH_MD5_SESS},
    {"SHA-256", SIP_AUTH_SHA256},
    {"SHA-256-sess", SIP_AUTH_SHA256_SESS},
};

static const char *algorithm_name(enum sip_auth_algorithm a)
{
	for (size_t i = 0; i < ARRAY_LEN(algorithms); i++)
		if (algorithms[i].algorithm == a)
			return algorithms[i].name;
	return "MD5";
}

/* Empty list elements and the LWS around them: ", ,". */
static const char *skip_separators(const char *p, const char *end)
{
	for (;;) {
		p = sip__skip_lws(p, end);
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		return p;
	}
}

static bool is_token68(char c)
{
	return sip__is(c, SIP_CC_ALPHA | SIP_CC_DIGIT) || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '+' || c == '/';
}

/*
 * A token68 credential at p (RFC 7235 §2.1: "Basic QWxhZGRpbg=="): it ends
 * the challenge, so it must be followed by the end or a comma. Returns where
 * it ends, or NULL when p starts something else (an auth-param).
 */
static const char *token68_skip(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && is_token68(*q))
		q++;
	if (q == p)
		return NULL;
	while (q < end && *q == '=')
		q++;
	const char *t = sip__skip_lws(q, end);
	return t >= end || *t == ',' ? q : NULL;
}

/* Stores a Digest parameter; a known one given twice makes the challenge ambiguous. */
static int param_store(struct digest_params *dp, struct str name, struct str value)
{
	for (size_t i = 0; i < P_COUNT; i++) {
		if (!sip__ieq(name, param_names[i], strlen(param_names[i])))
			continue;
		if (dp->seen[i])
			return -EINVAL;
		dp->seen[i] = true;
		dp->value[i] = value;
		return 0;
	}
	return 0;
}

/*
 * The parameter list after a scheme, from p: name=value pairs up to the end
 * of the value or to the token that starts the next challenge. *pp is left
 * there. A syntax fault leaves no way to tell where the next challenge
 * starts: -EINVAL with *pp at the end.
 */
static int params_read(const char **pp, const char *end, struct digest_params *dp, bool digest)
{
	const char *p = *pp;
	bool after_comma = false;
	int err = 0;

	for (;;) {
		const char *q = sip__skip_lws(p, end);
		if (q < end && *q == ',') {
			after_comma = true;
			q = skip_separators(q, end);
		}
		if (q >= end) {
			*pp = end;
			return err;
		}
		const char *name = q;
		q = sip__span(q, end, SIP_CC_TOKEN);
		if (q == name)
			goto bad;
		const char *eq = sip__skip_lws(q, end);
		if (eq >= end || *eq != '=') {
			/* a bare token: the next challenge's scheme, if a comma came first */
			if (!after_comma)
				goto bad;
			*pp = name;
			return err;
		}
		struct str n = sip__str(name, q), v;
		q = sip__skip_lws(eq + 1, end);
		if (q < end && *q == '"') {
			const char *open = q;
			if (!sip__quoted_skip(&q, end))
				goto bad;
			v = sip__str(open + 1, q - 1);
		} else {
			const char *start = q;
			q = sip__span(q, end, SIP_CC_TOKEN);
			if (q == start)
				goto bad;
			v = sip__str(start, q);
		}
		/* between two parameters only a comma may stand */
		const char *t = sip__skip_lws(q, end);
		if (t < end && *t != ',')
			goto bad;
		if (digest && !err)
			err = param_store(dp, n, v);
		p = q;
		after_comma = false;
	}
bad:
	*pp = end;
	return -EINVAL;
}

/* The qop list ("auth,auth-int", or a bare token): whether "auth" is in it. */
static bool qop_has_auth(struct str qop)
{
	struct str item;

	while (sip_list_next(&qop, &item))
		if (SIP__IEQ(str_trim(item), "auth"))
			return true;
	return false;
}

/*
 * Whether a value can be echoed in our answer: RFC 3261's quoted-pair lets a
 * control octet through (NUL included) where RFC 7230 §3.2.6 no longer does;
 * such a realm or nonce would put the control octet in our header. CR LF
 * here are folds, which the answer flattens.
 */
static bool value_echoable(struct str v)
{
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}

static int digest_check(const struct digest_params *dp, struct sip_auth_challenge *out)
{
	memset(out, 0, sizeof(*out));
	if (!dp->seen[P_REALM] || !dp->seen[P_NONCE])
		return -EINVAL;
	for (size_t i = 0; i < P_COUNT; i++)
		if (dp->seen[i] && !value_echoable(dp->value[i]))
			return -EINVAL;
	out->realm = dp->value[P_REALM];
	out->nonce = dp->value[P_NONCE];
	if (dp->seen[P_OPAQUE]) {
		out->opaque = dp->value[P_OPAQUE];
		out->has_opaque = true;
	}
	out->algorithm = SIP_AUTH_MD5;
	if (dp->seen[P_ALGORITHM]) {
		size_t i;
		for (i = 0; i < ARRAY_LEN(algorithms); i++)
			if (sip__ieq(dp->value[P_ALGORITHM], algorithms[i].name,
				     strlen(algorithms[i].name)))
				break;
		if (i == ARRAY_LEN(algorithms))
			return -ENOTSUP;
		out->algorithm = algorithms[i].algorithm;
		out->has_algorithm = true;
	}
	if (dp->seen[P_QOP]) {
		if (!qop_has_auth(dp->value[P_QOP]))
			return -ENOTSUP;
		out->qop_auth = true;
	}
	out->stale = dp->seen[P_STALE] && SIP__IEQ(dp->value[P_STALE], "true");
	return 0;
}

/*
 * Reads the challenge at *pp and moves *pp to where the next one starts (or
 * to the end). 0 with *out for a usable Digest challenge, -ENOTSUP for
 * another scheme or what irisx cannot answer, -EINVAL when malformed,
 * -ENOENT when nothing is left. Always advances *pp unless it returns
 * -ENOENT.
 */
static int challenge_next(const char **pp, const char *end, struct sip_auth_challenge *out)
{
	const char *p = skip_separators(*pp, end);

	if (p >= end) {
		*pp = end;
		return -ENOENT;
	}
	const char *scheme = p;
	p = sip__span(p, end, SIP_CC_TOKEN);
	if (p == scheme || (p < end && *p != ',' && *p != ' ' && *p != '\t' && *p != '\r')) {
		*pp = end;
		return -EINVAL;
	}
	bool digest = SIP__IEQ(sip__str(scheme, p), "Digest");

	const char *q = sip__skip_lws(p, end);
	if (q > p && q < end && *q != ',') {
		const char *t68 = token68_skip(q, end);
		if (t68) {
			*pp = t68;
			return digest ? -EINVAL : -ENOTSUP;
		}
	} else if (q == p && q < end && *q != ',') {
		*pp = end; /* a CR that is not a fold */
		return -EINVAL;
	}

	struct digest_params dp;
	memset(&dp, 0, sizeof(dp));
	*pp = q;
	int err = params_read(pp, end, &dp, digest);
	if (err)
		return err;
	if (!digest)
		return -ENOTSUP;
	return digest_check(&dp, out);
}

int sip_auth_challenge_parse(struct sip_auth_challenge *out, struct str value)
{
	struct sip_auth_challenge ch;

	if (!out || !value.p)
		return -EINVAL;
	const char *p = value.p;
	int err = challenge_next(&p, sip__end(value), &ch);
	if (err)
		return err == -ENOENT ? -EINVAL : err;
	*out = ch;
	return 0;
}

static int algorithm_strength(enum sip_auth_algorithm a)
{
	return a == SIP_AUTH_SHA256 || a == SIP_AUTH_SHA256_SESS ? 2 : 1;
}

int sip_auth_challenge_pick(struct sip_auth_challenge *out, const struct sip_msg *resp)
{
	struct sip_auth_challenge best, ch;
	bool found = false;
	enum sip_hdr_id id;

	if (!out || !resp || resp->is_request)
		return -EINVAL;
	if (resp->status == 401)
		id = SIP_HDR_WWW_AUTHENTICATE;
	else if (resp->status == 407)
		id = SIP_HDR_PROXY_AUTHENTICATE;
	else
		return -EINVAL;

	for (const struct sip_hdr *h = sip_msg_hdr(resp, id); h; h = sip_msg_hdr_next(resp, h)) {
		const char *p = h->value.p, *end = sip__end(h->value);
		int err;
		while ((err = challenge_next(&p, end, &ch)) != -ENOENT) {
			if (err == 0 && (!found || algorithm_strength(ch.algorithm) >
						       algorithm_strength(best.algorithm))) {
				best = ch;
				found = true;
			}
		}
	}
	if (!found)
		return -ENOENT;
	*out = best;
	return 0;
}

/* ---- answering ------------------------------------------------------------- */

enum { HEX_MAX = 2 * EVP_MAX_MD_SIZE + 1 };

/* The value of a received quoted-string as the hash sees it, unq() in RFC
 * 7616 §3.4: folds read as one SP (as sip__value_print echoes them) and
 * quoted-pairs stand for the octet they escape. */
static void unquoted_append(struct buf *out, struct str quoted)
{
	struct buf flat;

	buf_init(&flat);
	sip__value_print(&flat, quoted);
	if (flat.failed) {
		out->failed = true;
	} else {
		for (size_t i = 0; i < flat.len; i++) {
			if (flat.p[i] == '\\' && i + 1 < flat.len)
				i++;
			buf_append(out, &flat.p[i], 1);
		}
	}
	buf_fini(&flat);
}

/* A string of ours inside a quoted-string: '"' and '\' escaped. */
static void quoted_append(struct buf *out, const char *s, size_t len)
{
	buf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, &s[i], 1);
	}
	buf_append(out, "\"", 1);
}

/* Lower-case hex digest of the bytes gathered in `in`, which is then emptied. */
static int hash_hex(const EVP_MD *md, struct buf *in, char hex[HEX_MAX])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (in->failed)
		return -ENOMEM;
	if (!EVP_Digest(in->len ? in->p : "", in->len, d, &len, md, NULL))
		return -EIO;
	for (unsigned int i = 0; i < len; i++)
		snprintf(&hex[2 * i], 3, "%02x", d[i]);
	hex[2 * len] = '\0';
	buf_reset(in);
	return 0;
}

struct digest_input {
	const struct sip_auth_challenge *ch;
	const char *method;
	struct str uri;
	const char *username, *password, *cnonce;
	char nc[9];
};

/* response = KD(H(A1), nonce:nc:cnonce:qop:H(A2)), or KD(H(A1), nonce:H(A2))
 * without qop (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1). */
static int response_compute(const struct digest_input *in, char out[HEX_MAX])
{
	const struct sip_auth_challenge *ch = in->ch;
	bool sha = ch->algorithm == SIP_AUTH_SHA256 || ch->algorithm == SIP_AUTH_SHA256_SESS;
	bool sess = ch->algorithm == SIP_AUTH_MD5_SESS || ch->algorithm == SIP_AUTH_SHA256_SESS;
	const EVP_MD *md = sha ? EVP_sha256() : EVP_md5();
	char ha1[HEX_MAX], ha2[HEX_MAX];
	struct buf b;
	int err;

	buf_init(&b);
	buf_printf(&b, "%s:", in->username);
	unquoted_append(&b, ch->realm);
	buf_printf(&b, ":%s", in->password);
	if ((err = hash_hex(md, &b, ha1)))
		goto out;
	if (sess) {
		buf_printf(&b, "%s:", ha1);
		unquoted_append(&b, ch->nonce);
		buf_printf(&b, ":%s", in->cnonce);
		if ((err = hash_hex(md, &b, ha1)))
			goto out;
	}
	buf_printf(&b, "%s:%.*s", in->method, (int)in->uri.len, in->uri.p);
	if ((err = hash_hex(md, &b, ha2)))
		goto out;
	buf_printf(&b, "%s:", ha1);
	unquoted_append(&b, ch->nonce);
	if (ch->qop_auth)
		buf_printf(&b, ":%s:%s:auth", in->nc, in->cnonce);
	buf_printf(&b, ":%s", ha2);
	err = hash_hex(md, &b, out);
out:
	buf_fini(&b);
	return err;
}

static bool has_crlf(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

static bool cstr_has_crlf(const char *s)
{
	return has_crlf(s, strlen(s));
}

int sip_auth_credentials_print(struct buf *out, const struct sip_auth_challenge *ch, bool proxy,
			       const char *method, struct str uri, const char *username,
			       const char *password, uint32_t nc, const char *cnonce)
{
	char random_cnonce[33], response[HEX_MAX];
	struct digest_input in = {.ch = ch,
				  .method = method,
				  .uri = uri,
				  .username = username,
				  .password = password ? password : "",
				  .cnonce = cnonce};

	if (!out || !ch || !username || !method || !*method || nc == 0 || (uri.len && !uri.p))
		return -EINVAL;
	if (cstr_has_crlf(username) || cstr_has_crlf(method) || cstr_has_crlf(in.password) ||
	    has_crlf(uri.p, uri.len) || (cnonce && (!*cnonce || cstr_has_crlf(cnonce))))
		return -EINVAL;
	/* -sess needs a cnonce even without qop (RFC 2617 §3.2.2.2 hashes it into A1) */
	bool sess = ch->algorithm == SIP_AUTH_MD5_SESS || ch->algorithm == SIP_AUTH_SHA256_SESS;
	bool with_cnonce = ch->qop_auth || sess;
	if (!in.cnonce) {
		random_hex(random_cnonce, 16);
		in.cnonce = random_cnonce;
	}
	snprintf(in.nc, sizeof(in.nc), "%08x", nc);

	int err = response_compute(&in, response);
	if (err)
		return err;

	/* Built apart so that a failure leaves `out` as it was. */
	struct buf line;
	buf_init(&line);
	buf_printf(&line, "%s: Digest username=", proxy ? "Proxy-Authorization" : "Authorization");
	quoted_append(&line, username, strlen(username));
	buf_append_cstr(&line, ", realm=\"");
	sip__value_print(&line, ch->realm);
	buf_append_cstr(&line, "\", nonce=\"");
	sip__value_print(&line, ch->nonce);
	buf_append_cstr(&line, "\", uri=");
	quoted_append(&line, uri.p, uri.len);
	buf_printf(&line, ", response=\"%s\"", response);
	if (ch->has_algorithm)
		buf_printf(&line, ", algorithm=%s", algorithm_name(ch->algorithm));
	if (with_cnonce) {
		buf_append_cstr(&line, ", cnonce=");
		quoted_append(&line, in.cnonce, strlen(in.cnonce));
	}
	if (ch->has_opaque) {
		buf_append_cstr(&line, ", opaque=\"");
		sip__value_print(&line, ch->opaque);
		buf_append_cstr(&line, "\"");
	}
	if (ch->qop_auth)
		buf_printf(&line, ", qop=auth, nc=%s", in.nc);
	buf_append_cstr(&line, "\r\n");

	if (line.failed) {
		err = -ENOMEM;
	} else {
		buf_append(out, line.p, line.len);
		err = out->failed ? -ENOMEM : 0;
	}
	buf_fini(&line);
	return err;
}
