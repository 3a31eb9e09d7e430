/*
 * sip_int.h — what the message files of src/sip share and nothing outside
 * src/sip may include: the character classes of the RFC 3261 §25.1 grammar,
 * LWS skipping (folding included, §7.3.1), quoted strings and generic
 * parameter lists.
 *
 * Every helper works on [p, end) of a buffer it never writes to.
 */
#ifndef IRISX_SIP_INT_H
#define IRISX_SIP_INT_H

#include "sip.h"

/* Character classes, one bit each, in the const table sip__cc. */
enum {
	SIP_CC_DIGIT = 1 << 0,
	SIP_CC_ALPHA = 1 << 1,
	SIP_CC_HEX = 1 << 2,
	SIP_CC_TOKEN = 1 << 3,	/* token (§25.1) */
	SIP_CC_WSP = 1 << 4,	/* SP, HTAB */
	SIP_CC_UNRES = 1 << 5,	/* unreserved: alphanum / mark */
	SIP_CC_USER = 1 << 6,	/* unreserved / user-unreserved ('%' checked apart) */
	SIP_CC_PASS = 1 << 7,	/* unreserved / "&=+$," */
	SIP_CC_PARAM = 1 << 8,	/* unreserved / param-unreserved */
	SIP_CC_HNV = 1 << 9,	/* unreserved / hnv-unreserved */
	SIP_CC_HOST = 1 << 10,	/* hostname and IPv4 characters (and '_', seen in the wild) */
	SIP_CC_URIC = 1 << 11,	/* reserved / unreserved, for URIs of other schemes */
	SIP_CC_WORD = 1 << 12,	/* word, as in Call-ID */
	SIP_CC_VALUE = 1 << 13, /* gen-value without quotes: token / host (':' '[' ']') */
	SIP_CC_SCHEME = 1 << 14,
};

extern const uint16_t sip__cc[256];

static inline bool sip__is(char c, unsigned cls)
{
	return (sip__cc[(unsigned char)c] & cls) != 0;
}

/* Longest run of class `cls` starting at p. */
static inline const char *sip__span(const char *p, const char *end, unsigned cls)
{
	while (p < end && sip__is(*p, cls))
		p++;
	return p;
}

/*
 * Skips LWS: SP/HTAB, and CRLF when followed by SP/HTAB (a folded line). A
 * header value handed out by the parser never ends with CRLF, so a CRLF
 * inside a value is always a fold.
 */
static inline const char *sip__skip_lws(const char *p, const char *end)
{
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 3 && p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p += 3;
			continue;
		}
		return p;
	}
}

/* Trailing LWS removed. */
static inline const char *sip__rskip_lws(const char *start, const char *end)
{
	while (end > start &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return end;
}

static inline char sip__lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* ASCII case-insensitive equality with n octets at lit (inlined: hot paths
 * compare short names, where strlen + strncasecmp cost more than the work). */
static inline bool sip__ieq(struct str s, const char *lit, size_t n)
{
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sip__lower(s.p[i]) != sip__lower(lit[i]))
			return false;
	return true;
}

#define SIP__IEQ(s, lit) sip__ieq((s), (lit), sizeof(lit) - 1)

/* One past the last octet; an empty slice may have a NULL pointer. */
static inline const char *sip__end(struct str s)
{
	return s.p ? s.p + s.len : s.p;
}

static inline struct str sip__str(const char *p, const char *end)
{
	return str_make(p, (size_t)(end - p));
}

/*
 * A quoted-string starting at *p (which is '"'): moves *p past the closing
 * quote. Backslash escapes any octet but CR and LF (quoted-pair, §25.1);
 * folds are allowed inside. Returns false when it does not end.
 */
bool sip__quoted_skip(const char **p, const char *end);

/*
 * Validates a generic-param list ";a=b;c;d=\"q\"" at *p (which is ';'), each
 * parameter a token, its value a token, a host or a quoted string, with LWS
 * around ';' and '='. Stops at the first character that cannot continue the
 * list (',' for instance), leaving *p there. Returns false on an empty or
 * malformed parameter.
 */
bool sip__params_skip(const char **p, const char *end);

/* Port: 1–5 digits, at most 65535. */
bool sip__port_parse(struct str s, uint16_t *out);

/*
 * host = hostname / IPv4address / IPv6reference. `brackets_optional` lets a
 * bare IPv6 address through (Via received=). Returns the end of the host at
 * p, or NULL.
 */
const char *sip__host_skip(const char *p, const char *end, bool brackets_optional);

/* Checks "%" HEXDIG HEXDIG escapes and the class of every other octet. */
bool sip__escaped_valid(struct str s, unsigned cls);

/* The first line's version field ("SIP/2.0"), for checks. */
struct str sip__msg_version(const struct sip_msg *msg);

/* A header value with every fold (CRLF + WSP run) printed as one SP. */
void sip__value_print(struct buf *out, struct str value);

#endif
