/*
 * Printing: reason phrases (RFC 3261 §21 and the registry's later codes),
 * responses built from a request (RFC 3261 §8.2.6) and the canonical form of
 * a parsed message.
 *
 * Header values are copied as received except that folds (CRLF + WSP) become
 * one SP, so every printed header sits on one line; that keeps what we send
 * simple for peers that mishandle folding, and it is what makes
 * print → parse → print stable.
 */
#include "sip_int.h"

#include <string.h>

#define LOG_MODULE "sip"

static const struct {
	uint16_t status;
	const char *reason;
} reason_table[] = {
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {199, "Early Dialog Terminated"},
    {200, "OK"},
    {202, "Accepted"},
    {204, "No Notification"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {412, "Conditional Request Failed"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {417, "Unknown Resource-Priority"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {422, "Session Interval Too Small"},
    {423, "Interval Too Brief"},
    {428, "Use Identity Header"},
    {429, "Provide Referrer Identity"},
    {433, "Anonymity Disallowed"},
    {436, "Bad Identity-Info"},
    {437, "Unsupported Certificate"},
    {438, "Invalid Identity Header"},
    {439, "First Hop Lacks Outbound Support"},
    {440, "Max-Breadth Exceeded"},
    {469, "Bad Info Package"},
    {470, "Consent Needed"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {489, "Bad Event"},
    {491, "Request Pending"},
    {493, "Undecipherable"},
    {494, "Security Agreement Required"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {555, "Push Notification Service Not Supported"},
    {580, "Precondition Failure"},
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
    {607, "Unwanted"},
    {608, "Rejected"},
};

const char *sip_reason_phrase(uint16_t status)
{
	for (size_t i = 0; i < ARRAY_LEN(reason_table); i++)
		if (reason_table[i].status == status)
			return reason_table[i].reason;
	return "Unknown";
}

void sip__value_print(struct buf *out, struct str value)
{
	const char *p = value.p, *end = sip__end(value);

	for (;;) {
		const char *cr = p < end ? memchr(p, '\r', (size_t)(end - p)) : NULL;
		if (!cr) {
			buf_append(out, p, (size_t)(end - p));
			return;
		}
		/* inside a parsed value a CR always starts a fold: CRLF 1*WSP */
		const char *q = cr + 2;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		const char *e = cr;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		buf_append(out, p, (size_t)(e - p));
		buf_append(out, " ", 1);
		p = q;
	}
}

static void hdr_print(struct buf *out, const char *name, struct str value)
{
	buf_append_cstr(out, name);
	buf_append(out, ": ", 2);
	sip__value_print(out, value);
	buf_append(out, "\r\n", 2);
}

/* Whether the Via's sent-by host is literally the address the request came from. */
static bool via_host_is_source(const struct sip_msg *req)
{
	struct net_addr a;
	const struct net_addr *src = &req->src.remote;

	if (net_addr_parse(&a, req->via.host, 0) != 0 || net_addr_family(&a) != net_addr_family(src))
		return false;
	if (net_addr_family(&a) == AF_INET6)
		return memcmp(&a.u.in6.sin6_addr, &src->u.in6.sin6_addr, 16) == 0;
	return a.u.in4.sin_addr.s_addr == src->u.in4.sin_addr.s_addr;
}

/*
 * The topmost Via of a response as the server would have stamped it on
 * receipt (§18.2.1, RFC 3581 §4): "received" with the source address when
 * the sent-by host is not that address (always when rport was asked for),
 * and "rport" filled with the source port. The other Vias go back verbatim.
 */
static void top_via_print(struct buf *out, const struct sip_msg *req, struct str value)
{
	struct str list = value, item;
	struct str params = req->via.params;

	if (net_addr_family(&req->src.remote) == 0 || !sip_list_next(&list, &item)) {
		hdr_print(out, "Via", value);
		return;
	}
	const char *item_end = item.p + item.len;
	if (params.len && (params.p < item.p || params.p + params.len > item_end)) {
		hdr_print(out, "Via", value); /* not the Via the parser read: leave it be */
		return;
	}
	const char *head_end = params.len ? params.p : item_end;
	buf_append_cstr(out, "Via: ");
	sip__value_print(out, sip__str(item.p, head_end));

	/* Parameters one by one (Via parameter values are tokens or hosts: no ';' inside). */
	const char *p = params.p, *end = params.len ? params.p + params.len : params.p;
	while (p < end) {
		const char *q = p + 1;
		while (q < end && *q != ';')
			q++;
		struct str param = str_trim(sip__str(p + 1, q));
		ptrdiff_t eq = str_find_char(param, '=');
		struct str name = str_trim(eq < 0 ? param : str_make(param.p, (size_t)eq));
		if (str_ieq(name, STR("rport")))
			buf_printf(out, ";rport=%u", net_addr_port(&req->src.remote));
		else if (!str_ieq(name, STR("received")))
			buf_printf(out, ";%.*s", (int)param.len, param.p);
		p = q;
	}
	if (req->via.rport || !via_host_is_source(req)) {
		char host[NET_ADDR_STRLEN];
		buf_printf(out, ";received=%s",
			   net_addr_print_host(&req->src.remote, host, sizeof(host)));
	}
	if (list.len) {
		buf_append(out, ", ", 2);
		sip__value_print(out, list);
	}
	buf_append(out, "\r\n", 2);
}

void sip_response_print(struct buf *out, const struct sip_msg *req, uint16_t status,
			const char *reason, const char *to_tag, const char *extra_headers,
			struct str body)
{
	const struct sip_hdr *h;

	if (!out || !req)
		return;
	buf_printf(out, "SIP/2.0 %03u %s\r\n", (unsigned)status,
		   reason ? reason : sip_reason_phrase(status));
	bool top = true;
	for (size_t i = 0; i < req->hdr_count; i++) {
		if (req->hdrs[i].id != SIP_HDR_VIA)
			continue;
		if (top)
			top_via_print(out, req, req->hdrs[i].value);
		else
			hdr_print(out, "Via", req->hdrs[i].value);
		top = false;
	}
	if ((h = sip_msg_hdr(req, SIP_HDR_FROM)))
		hdr_print(out, "From", h->value);
	if ((h = sip_msg_hdr(req, SIP_HDR_TO))) {
		buf_append_cstr(out, "To: ");
		sip__value_print(out, h->value);
		/* §8.2.6.2: a UAS adds its tag unless the request's To carries one */
		if (to_tag && req->to.tag.len == 0)
			buf_printf(out, ";tag=%s", to_tag);
		buf_append(out, "\r\n", 2);
	}
	if ((h = sip_msg_hdr(req, SIP_HDR_CALL_ID)))
		hdr_print(out, "Call-ID", h->value);
	if ((h = sip_msg_hdr(req, SIP_HDR_CSEQ)))
		hdr_print(out, "CSeq", h->value);
	/* §8.2.6.1: a 100 echoes the request's Timestamp */
	if (status == 100 && (h = sip_msg_hdr(req, SIP_HDR_TIMESTAMP)))
		hdr_print(out, "Timestamp", h->value);
	if (extra_headers)
		buf_append_cstr(out, extra_headers);
	buf_printf(out, "Content-Length: %zu\r\n\r\n", body.len);
	if (body.len)
		buf_append_str(out, body);
}

void sip_msg_print(struct buf *out, const struct sip_msg *msg)
{
	if (!out || !msg)
		return;
	if (msg->is_request) {
		buf_append_str(out, msg->method_name);
		buf_append(out, " ", 1);
		buf_append_str(out, msg->ruri_str);
		buf_append(out, " ", 1);
		buf_append_str(out, sip__msg_version(msg));
		buf_append(out, "\r\n", 2);
	} else {
		buf_printf(out, "SIP/2.0 %03u %.*s\r\n", (unsigned)msg->status,
			   (int)msg->reason.len, msg->reason.p);
	}
	for (size_t i = 0; i < msg->hdr_count; i++) {
		const struct sip_hdr *h = &msg->hdrs[i];
		if (h->id != SIP_HDR_OTHER) {
			hdr_print(out, sip_hdr_name(h->id), h->value);
		} else {
			buf_append_str(out, h->name);
			buf_append(out, ": ", 2);
			sip__value_print(out, h->value);
			buf_append(out, "\r\n", 2);
		}
	}
	buf_append(out, "\r\n", 2);
	buf_append_str(out, msg->body);
}
