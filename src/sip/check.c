/*
 * The checks a UAS makes on a new request before acting on it, beyond what
 * sip_msg_parse needed to index it: the syntax faults RFC 4475 §3.1.2 lists
 * (version → 505, Request-URI scheme → 416, everything else → 400).
 *
 * Application decisions — unknown Require options (420), Content-Type the
 * UA cannot handle (415), credentials (401), URI schemes in To/From/Contact
 * — belong to the UA (RFC 4475 §3.3) and are not made here.
 */
#include "sip_int.h"

#include <string.h>

#define LOG_MODULE "sip"

/* word [ "@" word ] (§25.1 callid) */
static bool call_id_valid(struct str s)
{
	const char *p = s.p, *end = sip__end(s);
	const char *q = sip__span(p, end, SIP_CC_WORD);

	if (q == p)
		return false;
	if (q < end && *q == '@') {
		p = q + 1;
		q = sip__span(p, end, SIP_CC_WORD);
		if (q == p)
			return false;
	}
	return q == end;
}

static bool digits_fit_u32(struct str s)
{
	uint32_t v;
	return str_to_u32(s, &v) == 0;
}

static bool two_digits(const char *p)
{
	return sip__is(p[0], SIP_CC_DIGIT) && sip__is(p[1], SIP_CC_DIGIT);
}

/* rfc1123-date = wkday "," SP date1 SP time SP "GMT" (§20.17, §25.1) */
static bool date_valid(struct str s)
{
	static const char wkdays[] = "Mon Tue Wed Thu Fri Sat Sun ";
	static const char months[] = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec ";
	const char *p = s.p;

	/* "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 octets */
	if (s.len != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
	    p[16] != ' ' || p[19] != ':' || p[22] != ':' || p[25] != ' ' ||
	    memcmp(p + 26, "GMT", 3) != 0)
		return false;
	bool wk = false, mon = false;
	for (size_t i = 0; i + 4 <= sizeof(wkdays) - 1; i += 4)
		wk |= memcmp(p, wkdays + i, 3) == 0;
	for (size_t i = 0; i + 4 <= sizeof(months) - 1; i += 4)
		mon |= memcmp(p + 8, months + i, 3) == 0;
	return wk && mon && two_digits(p + 5) && two_digits(p + 12) && two_digits(p + 14) &&
	       two_digits(p + 17) && two_digits(p + 20) && two_digits(p + 23);
}

/* media-type = m-type SLASH m-subtype *( SEMI m-parameter ) (§20.15) */
static bool content_type_valid(struct str s)
{
	const char *p = s.p, *end = sip__end(s);
	const char *q = sip__span(p, end, SIP_CC_TOKEN);

	if (q == p)
		return false;
	p = sip__skip_lws(q, end);
	if (p >= end || *p != '/')
		return false;
	p = sip__skip_lws(p + 1, end);
	q = sip__span(p, end, SIP_CC_TOKEN);
	if (q == p)
		return false;
	p = q;
	if (sip__skip_lws(p, end) < end && !sip__params_skip(&p, end))
		return false;
	return sip__skip_lws(p, end) == end;
}

/* Every element of every header `id` must be a name-addr (or addr-spec). */
static bool addr_list_valid(const struct sip_msg *msg, enum sip_hdr_id id, bool name_addr_only,
			    bool star_ok)
{
	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h; h = sip_msg_hdr_next(msg, h)) {
		if (star_ok && str_eq(h->value, STR("*")))
			continue;
		struct str rest = h->value;
		do {
			struct sip_addr a;
			if (sip_addr_parse(&a, rest, &rest))
				return false;
			if (name_addr_only && (a.uri_str.p == msg->data || a.uri_str.p[-1] != '<'))
				return false;
		} while (rest.len);
	}
	return true;
}

static bool vias_valid(const struct sip_msg *msg)
{
	for (const struct sip_hdr *h = sip_msg_hdr(msg, SIP_HDR_VIA); h;
	     h = sip_msg_hdr_next(msg, h)) {
		struct str rest = h->value;
		do {
			struct sip_via v;
			if (sip_via_parse(&v, rest, &rest))
				return false;
		} while (rest.len);
	}
	return true;
}

static bool each_value_valid(const struct sip_msg *msg, enum sip_hdr_id id,
			     bool (*valid)(struct str))
{
	for (const struct sip_hdr *h = sip_msg_hdr(msg, id); h; h = sip_msg_hdr_next(msg, h))
		if (!valid(h->value))
			return false;
	return true;
}

static int reject(const char **reason, int status, const char *why)
{
	if (reason)
		*reason = why;
	return status;
}

int sip_msg_check(const struct sip_msg *msg, const char **reason)
{
	if (reason)
		*reason = NULL;
	if (!msg)
		return reject(reason, 400, "Bad Request");
	if (msg->error)
		return reject(reason, 400, msg->error);
	if (!msg->is_request)
		return 0;

	if (!SIP__IEQ(sip__msg_version(msg), "SIP/2.0"))
		return reject(reason, 505, "Version Not Supported");
	if (msg->ruri.scheme.len == 0)
		return reject(reason, 400, "Malformed Request-URI");
	bool sip = SIP__IEQ(msg->ruri.scheme, "sip") || SIP__IEQ(msg->ruri.scheme, "sips");
	if (!sip && !SIP__IEQ(msg->ruri.scheme, "tel"))
		return reject(reason, 416, "Unsupported URI Scheme");
	/* §19.1.1: headers are not allowed in a Request-URI (RFC 4475 escruri) */
	if (msg->ruri.headers.len)
		return reject(reason, 400, "Headers in Request-URI");
	/* §8.2.1 / RFC 4475 mismatch01, mismatch02: 400, even for unknown methods */
	if (!str_eq(msg->cseq.method_name, msg->method_name))
		return reject(reason, 400, "CSeq method does not match the request");
	if (!call_id_valid(msg->call_id))
		return reject(reason, 400, "Malformed Call-ID header");
	if (!vias_valid(msg))
		return reject(reason, 400, "Malformed Via header");
	if (!addr_list_valid(msg, SIP_HDR_CONTACT, false, msg->method == SIP_METHOD_REGISTER))
		return reject(reason, 400, "Malformed Contact header");
	if (!addr_list_valid(msg, SIP_HDR_ROUTE, true, false))
		return reject(reason, 400, "Malformed Route header");
	if (!addr_list_valid(msg, SIP_HDR_RECORD_ROUTE, true, false))
		return reject(reason, 400, "Malformed Record-Route header");
	/* §20.19: an integral number of seconds between 0 and 2**32-1 */
	if (!each_value_valid(msg, SIP_HDR_EXPIRES, digits_fit_u32) ||
	    !each_value_valid(msg, SIP_HDR_MIN_EXPIRES, digits_fit_u32))
		return reject(reason, 400, "Malformed Expires header");
	/* §20.17: the time zone is always GMT (RFC 4475 baddate) */
	if (!each_value_valid(msg, SIP_HDR_DATE, date_valid))
		return reject(reason, 400, "Malformed Date header");
	if (!each_value_valid(msg, SIP_HDR_CONTENT_TYPE, content_type_valid))
		return reject(reason, 400, "Malformed Content-Type header");
	/* §20.15: a body must say what it is */
	if (msg->body.len && !sip_msg_hdr(msg, SIP_HDR_CONTENT_TYPE))
		return reject(reason, 400, "Missing Content-Type header");
	return 0;
}
