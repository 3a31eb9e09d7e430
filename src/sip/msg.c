/*
 * SIP messages: parsing (RFC 3261 §7, grammar §25.1), datagram and stream
 * framing (§18.3), reference counting and header lookup.
 *
 * One allocation per message holds the struct, the header index and a copy
 * of the bytes; every slice points into that copy, which is never written.
 * Each header line is indexed once (name id, compact forms included); only
 * what transactions and dialogs need — top Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Content-Length — is parsed here, the rest on demand.
 *
 * Line endings must be CRLF (§7): a bare LF is rejected rather than guessed
 * at, since two peers reading the same bytes differently is how framing
 * attacks start. A CRLF followed by SP/HTAB folds (§7.3.1). CRLFs before the
 * start line are ignored (§7.5).
 */
#include "sip_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "sip"

/*
 * One pass over the header section, CR by CR: counts its lines (an upper
 * bound on the number of header fields, so that the index can be sized
 * before the copy is made) and finds the first CR that is not followed by LF,
 * which the line parser, walking LF by LF, would not see. *bare_cr is its
 * offset, SIZE_MAX for none, or 0 when the scan stopped early and the line
 * parser must look for itself.
 */
static size_t head_scan(const char *data, const char *end, size_t *bare_cr)
{
	const char *p = data;
	size_t n = 0;

	*bare_cr = SIZE_MAX;
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (!cr)
			return n + 1;
		if (end - cr < 2 || cr[1] != '\n') {
			if (*bare_cr == SIZE_MAX)
				*bare_cr = (size_t)(cr - data);
			p = cr + 1;
			continue;
		}
		n++;
		p = cr + 2;
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			break;
		if (n > SIP_MSG_MAX_HEADERS + 1) {
			if (*bare_cr == SIZE_MAX)
				*bare_cr = 0; /* enough to see that there are too many */
			break;
		}
	}
	return n;
}

/* What the parse found wrong, and whether a 400 can still be formed. */
struct parse_state {
	const char *error;
	bool fatal; /* no response can be formed: drop */
	bool via_seen, from_seen, to_seen, call_id_seen, cseq_seen, cl_seen, mf_seen;
	uint32_t content_length;
};

static void fault(struct parse_state *st, const char *error)
{
	if (!st->error)
		st->error = error;
}

static void fatal(struct parse_state *st, const char *error)
{
	fault(st, error);
	st->fatal = true;
}

static bool version_valid(struct str v)
{
	/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (case-insensitive name) */
	if (v.len < 7 || !str_starts_with_i(v, "SIP/"))
		return false;
	const char *p = v.p + 4, *end = v.p + v.len;
	const char *q = sip__span(p, end, SIP_CC_DIGIT);
	if (q == p || q >= end || *q != '.')
		return false;
	p = q + 1;
	q = sip__span(p, end, SIP_CC_DIGIT);
	return q > p && q == end;
}

static bool reason_valid(struct str r)
{
	for (size_t i = 0; i < r.len; i++) {
		unsigned char c = (unsigned char)r.p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static void start_line_parse(struct sip_msg *msg, struct str line, struct parse_state *st)
{
	const char *p = line.p, *end = line.p + line.len;

	if (str_starts_with_i(line, "SIP/")) {
		/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
		msg->is_request = false;
		const char *sp = memchr(p, ' ', line.len);
		if (!sp || !SIP__IEQ(sip__str(p, sp), "SIP/2.0") || end - sp < 4) {
			fatal(st, "Malformed status line");
			return;
		}
		const char *d = sp + 1;
		if (!sip__is(d[0], SIP_CC_DIGIT) || !sip__is(d[1], SIP_CC_DIGIT) ||
		    !sip__is(d[2], SIP_CC_DIGIT) || (d + 3 < end && d[3] != ' ')) {
			fatal(st, "Malformed status code");
			return;
		}
		msg->status = (uint16_t)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0'));
		if (msg->status < 100 || msg->status > 699) {
			fatal(st, "Status code out of range");
			return;
		}
		msg->reason = d + 3 < end ? sip__str(d + 4, end) : sip__str(end, end);
		if (!reason_valid(msg->reason)) {
			fatal(st, "Malformed reason phrase");
			return;
		}
		return;
	}

	/* Request-Line = Method SP Request-URI SP SIP-Version: exactly one SP each */
	msg->is_request = true;
	const char *m = sip__span(p, end, SIP_CC_TOKEN);
	if (m == p || m >= end || *m != ' ') {
		fatal(st, "Malformed request line");
		return;
	}
	msg->method_name = sip__str(p, m);
	msg->method = sip_method_parse(msg->method_name);
	if (sip__is(end[-1], SIP_CC_WSP)) {
		fault(st, "Trailing whitespace in request line");
		return;
	}
	const char *last_sp = end;
	while (last_sp > m && last_sp[-1] != ' ')
		last_sp--;
	last_sp--;
	if (last_sp <= m + 1) {
		fault(st, "Malformed request line");
		return;
	}
	if (!version_valid(sip__str(last_sp + 1, end))) {
		fault(st, "Malformed SIP version");
		return;
	}
	msg->ruri_str = sip__str(m + 1, last_sp);
	if (sip_uri_parse(&msg->ruri, msg->ruri_str)) {
		fault(st, "Malformed Request-URI");
		return;
	}
}

/* Parses the value of a header that is read at once. */
static void hdr_parse(struct sip_msg *msg, const struct sip_hdr *h, struct parse_state *st)
{
	uint32_t v;

	switch (h->id) {
	case SIP_HDR_VIA:
		if (st->via_seen)
			return;
		st->via_seen = true;
		/* the topmost Via is the first element of the first Via line */
		if (sip_via_parse(&msg->via, h->value, &(struct str){0}))
			fatal(st, "Malformed Via header");
		return;
	case SIP_HDR_FROM:
		if (st->from_seen) {
			fault(st, "Duplicate From header");
			return;
		}
		st->from_seen = true;
		if (sip_addr_parse(&msg->from, h->value, NULL))
			fault(st, "Malformed From header");
		return;
	case SIP_HDR_TO:
		if (st->to_seen) {
			fault(st, "Duplicate To header");
			return;
		}
		st->to_seen = true;
		if (sip_addr_parse(&msg->to, h->value, NULL))
			fault(st, "Malformed To header");
		return;
	case SIP_HDR_CALL_ID:
		if (st->call_id_seen) {
			fault(st, "Duplicate Call-ID header");
			return;
		}
		st->call_id_seen = true;
		msg->call_id = h->value;
		if (h->value.len == 0)
			fault(st, "Empty Call-ID header");
		return;
	case SIP_HDR_CSEQ:
		if (st->cseq_seen) {
			fault(st, "Duplicate CSeq header");
			return;
		}
		st->cseq_seen = true;
		if (sip_cseq_parse(&msg->cseq, h->value))
			fault(st, "Malformed CSeq header");
		return;
	case SIP_HDR_MAX_FORWARDS:
		if (st->mf_seen) {
			fault(st, "Duplicate Max-Forwards header");
			return;
		}
		st->mf_seen = true;
		if (str_to_u32(h->value, &v) || v > 255) {
			fault(st, "Malformed Max-Forwards header");
			return;
		}
		msg->max_forwards = (int)v;
		return;
	case SIP_HDR_CONTENT_LENGTH:
		if (st->cl_seen) {
			fault(st, "Duplicate Content-Length header");
			return;
		}
		st->cl_seen = true;
		if (str_to_u32(h->value, &st->content_length))
			fault(st, "Malformed Content-Length header");
		return;
	default:
		return;
	}
}

/* A bare CR inside a line is not a line ending and not a fold. */
static bool line_crs_valid(const char *p, const char *end)
{
	while ((p = memchr(p, '\r', (size_t)(end - p)))) {
		if (end - p < 3 || p[1] != '\n' || (p[2] != ' ' && p[2] != '\t'))
			return false;
		p += 3;
	}
	return true;
}

/* NUL octets in the header section are only legal escaped in quoted strings. */
static bool head_nuls_valid(const char *p, const char *end)
{
	while ((p = memchr(p, '\0', (size_t)(end - p)))) {
		if (p == end || p[-1] != '\\')
			return false;
		p++;
	}
	return true;
}

/*
 * The header section from p. Returns the start of the body, or NULL after a
 * structural fault (recorded in st).
 */
static const char *headers_parse(struct sip_msg *msg, size_t cap, const char *p, const char *end,
				 size_t bare_cr, struct parse_state *st)
{
	const char *head = p;

	for (;;) {
		if (p >= end)
			return fault(st, "Missing empty line after headers"), NULL;
		if (*p == '\r' && end - p >= 2 && p[1] == '\n')
			break;
		if (*p == '\n')
			return fault(st, "Bare LF line ending"), NULL;
		if (sip__is(*p, SIP_CC_WSP))
			return fault(st, "Continuation line without a header"), NULL;

		/* the logical line, with its folded continuations */
		const char *e = p;
		for (;;) {
			e = memchr(e, '\n', (size_t)(end - e));
			if (!e)
				return fault(st, "Truncated header line"), NULL;
			if (e[-1] != '\r')
				return fault(st, "Bare LF line ending"), NULL;
			if (end - e < 2 || (e[1] != ' ' && e[1] != '\t'))
				break;
			e++;
		}
		const char *line_end = e - 1;
		if ((size_t)(line_end - p) > SIP_MSG_MAX_LINE)
			return fault(st, "Header line too long"), NULL;
		if (bare_cr ? bare_cr < (size_t)(line_end - msg->data)
			    : !line_crs_valid(p, line_end))
			return fault(st, "Bare CR in header line"), NULL;

		/* header-name *(SP / HTAB) ":" SWS value */
		const char *n = sip__span(p, line_end, SIP_CC_TOKEN);
		if (n == p)
			return fault(st, "Malformed header name"), NULL;
		const char *c = n;
		while (c < line_end && sip__is(*c, SIP_CC_WSP))
			c++;
		if (c >= line_end || *c != ':')
			return fault(st, "Header without colon"), NULL;
		if (msg->hdr_count >= cap || msg->hdr_count >= SIP_MSG_MAX_HEADERS)
			return fault(st, "Too many headers"), NULL;

		struct sip_hdr *h = &msg->hdrs[msg->hdr_count++];
		h->name = sip__str(p, n);
		h->id = sip_hdr_id_parse(h->name);
		const char *v = sip__skip_lws(c + 1, line_end);
		h->value = sip__str(v, sip__rskip_lws(v, line_end));
		hdr_parse(msg, h, st);
		p = e + 1;
	}
	if (memchr(head, '\0', (size_t)(p - head)) && !head_nuls_valid(head, p))
		return fault(st, "NUL octet in headers"), NULL;
	return p + 2;
}

int sip_msg_parse(struct sip_msg **out, const char *data, size_t len)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!data && len)
		return -EINVAL;
	if (len > SIP_MSG_MAX_SIZE)
		return -EMSGSIZE;
	/* §7.5: CRLFs before the start line are ignored */
	while (len >= 2 && data[0] == '\r' && data[1] == '\n') {
		data += 2;
		len -= 2;
	}
	if (len == 0)
		return -EBADMSG;

	size_t bare_cr;
	size_t cap = head_scan(data, data + len, &bare_cr);
	if (cap > SIP_MSG_MAX_HEADERS + 1)
		cap = SIP_MSG_MAX_HEADERS + 1;
	struct sip_msg *msg = malloc(sizeof(*msg) + cap * sizeof(struct sip_hdr) + len);
	if (!msg)
		return -ENOMEM;
	memset(msg, 0, sizeof(*msg));
	msg->refs = 1;
	msg->hdrs = (struct sip_hdr *)(msg + 1);
	char *copy = (char *)(msg->hdrs + cap);
	memcpy(copy, data, len);
	msg->data = copy;
	msg->len = len;
	msg->max_forwards = -1;

	struct parse_state st = {0};
	const char *p = copy, *end = copy + len;
	const char *eol = memchr(p, '\n', len);
	if (!eol || eol == p || eol[-1] != '\r' || memchr(p, '\r', (size_t)(eol - 1 - p)) ||
	    memchr(p, '\0', (size_t)(eol - p))) {
		fatal(&st, "Malformed start line");
	} else {
		start_line_parse(msg, sip__str(p, eol - 1), &st);
	}

	const char *body = NULL;
	if (!st.fatal)
		body = headers_parse(msg, cap, eol + 1, end, bare_cr, &st);
	if (body) {
		size_t avail = (size_t)(end - body);
		if (st.cl_seen && st.content_length > avail) {
			fault(&st, "Content-Length larger than message");
			msg->body = sip__str(body, end);
		} else {
			/* §18.3: octets past Content-Length are discarded */
			size_t blen = st.cl_seen ? st.content_length : avail;
			msg->body = str_make(body, blen);
			msg->len = (size_t)(body + blen - copy);
		}
	}

	if (!st.via_seen)
		fatal(&st, "Missing Via header");
	else if (!st.from_seen)
		fatal(&st, "Missing From header");
	else if (!st.to_seen)
		fatal(&st, "Missing To header");
	else if (!st.call_id_seen)
		fatal(&st, "Missing Call-ID header");
	else if (!st.cseq_seen)
		fatal(&st, "Missing CSeq header");

	if (!st.error) {
		*out = msg;
		return 0;
	}
	/* A 400 needs the request's Via to go back on and its From, To, Call-ID
	 * and CSeq to echo (§8.2.6.2); a faulty response is simply dropped. */
	if (msg->is_request && !st.fatal) {
		msg->error = st.error;
		*out = msg;
	} else {
		free(msg);
	}
	return -EBADMSG;
}

/* ---- stream framing ---------------------------------------------------------- */

/* Content-Length of a complete header section [p, end) (end after CRLFCRLF). */
static int frame_content_length(const char *p, const char *end, uint32_t *cl)
{
	bool seen = false;

	p = memchr(p, '\n', (size_t)(end - p)) + 1; /* past the start line */
	while (p < end - 2) {
		const char *e = p;
		do {
			e = memchr(e + 1, '\n', (size_t)(end - e - 1));
			if (!e || e[-1] != '\r')
				return -EBADMSG;
		} while (e + 1 < end && (e[1] == ' ' || e[1] == '\t'));
		const char *n = sip__span(p, e, SIP_CC_TOKEN);
		const char *c = n;
		while (c < e && sip__is(*c, SIP_CC_WSP))
			c++;
		if (n == p || c >= e || *c != ':')
			return -EBADMSG;
		if (sip_hdr_id_parse(sip__str(p, n)) == SIP_HDR_CONTENT_LENGTH) {
			const char *v = sip__skip_lws(c + 1, e);
			uint32_t value;
			if (str_to_u32(sip__str(v, sip__rskip_lws(v, e)), &value) ||
			    (seen && value != *cl))
				return -EBADMSG;
			*cl = value;
			seen = true;
		}
		p = e + 1;
	}
	return seen ? 0 : -EBADMSG;
}

/* Whether a complete first line can start a message: "SIP/…" or "METHOD SP …". */
static bool frame_start_plausible(const char *p, const char *end)
{
	const char *t = sip__span(p, end, SIP_CC_TOKEN);

	if (t == p || t >= end)
		return t == end;
	if (*t == '/')
		return str_starts_with_i(sip__str(p, end), "SIP/");
	return *t == ' ';
}

int sip_msg_frame(const char *data, size_t len, size_t *skip, size_t *msg_len)
{
	return sip_msg_frame_resume(data, len, 0, skip, msg_len);
}

int sip_msg_frame_resume(const char *data, size_t len, size_t scanned, size_t *skip,
			 size_t *msg_len)
{
	size_t i = 0;

	if (!skip || !msg_len || (!data && len))
		return -EINVAL;
	*msg_len = 0;
	while (len - i >= 2 && data[i] == '\r' && data[i + 1] == '\n')
		i += 2;
	*skip = i;
	const char *p = data + i;
	size_t avail = len - i;
	if (avail == 0 || (avail == 1 && *p == '\r'))
		return -EAGAIN;
	if (!frame_start_plausible(p, p + (avail < 32 ? avail : 32)))
		return -EBADMSG;

	size_t window = avail < SIP_MSG_MAX_SIZE ? avail : SIP_MSG_MAX_SIZE;
	/* The end of the headers may straddle what was scanned and what is new. */
	size_t from = scanned > 3 ? scanned - 3 : 0;
	if (from > window)
		from = window;
	const char *h = memmem(p + from, window - from, "\r\n\r\n", 4);
	if (!h) {
		if (avail >= SIP_MSG_MAX_SIZE)
			return -EBADMSG;
		const char *eol = memchr(p, '\n', avail < 1024 ? avail : 1024);
		if (eol && (eol == p || eol[-1] != '\r'))
			return -EBADMSG;
		return -EAGAIN;
	}
	size_t head_len = (size_t)(h - p) + 4;
	uint32_t cl = 0;
	if (frame_content_length(p, h + 4, &cl))
		return -EBADMSG;
	if (head_len + cl > SIP_MSG_MAX_SIZE)
		return -EBADMSG;
	*msg_len = head_len + cl;
	return avail < head_len + cl ? -EAGAIN : 0;
}

/* ---- lifetime and lookup ----------------------------------------------------- */

struct sip_msg *sip_msg_ref(struct sip_msg *msg)
{
	if (msg)
		msg->refs++;
	return msg;
}

void sip_msg_unref(struct sip_msg *msg)
{
	if (msg && --msg->refs == 0)
		free(msg);
}

const struct sip_hdr *sip_msg_hdr(const struct sip_msg *msg, enum sip_hdr_id id)
{
	if (!msg)
		return NULL;
	for (size_t i = 0; i < msg->hdr_count; i++)
		if (msg->hdrs[i].id == id)
			return &msg->hdrs[i];
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_next(const struct sip_msg *msg, const struct sip_hdr *prev)
{
	if (!msg || !prev || prev < msg->hdrs || prev >= msg->hdrs + msg->hdr_count)
		return NULL;
	for (const struct sip_hdr *h = prev + 1; h < msg->hdrs + msg->hdr_count; h++) {
		if (h->id == prev->id && (h->id != SIP_HDR_OTHER || str_ieq(h->name, prev->name)))
			return h;
	}
	return NULL;
}

const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *msg, struct str name)
{
	enum sip_hdr_id id = sip_hdr_id_parse(name);

	if (id != SIP_HDR_OTHER)
		return sip_msg_hdr(msg, id);
	for (size_t i = 0; msg && i < msg->hdr_count; i++)
		if (msg->hdrs[i].id == SIP_HDR_OTHER && str_ieq(msg->hdrs[i].name, name))
			return &msg->hdrs[i];
	return NULL;
}

struct str sip__msg_version(const struct sip_msg *msg)
{
	const char *p = msg->data;
	const char *eol = memchr(p, '\r', msg->len);

	if (!eol)
		return STR_NULL;
	if (!msg->is_request) {
		const char *sp = memchr(p, ' ', (size_t)(eol - p));
		return sp ? sip__str(p, sp) : STR_NULL;
	}
	const char *v = eol;
	while (v > p && v[-1] != ' ')
		v--;
	return sip__str(v, eol);
}
