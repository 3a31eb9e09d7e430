/*
 * SDP parsing (RFC 4566 §5, grammar §9): lines into a struct sdp_session of
 * slices, without copying and without writing into the text.
 *
 * Strict where a misreading would change the call: every line is "x=value"
 * with a known type letter allowed at its level (§5: a description with an
 * unknown one must be ignored whole), single-SP separated fields in o=, c=,
 * m=, t=, numbers in range, RTP formats 0..127, well-formed rtpmap, fmtp,
 * ptime, maxptime, rtcp (RFC 3605) and direction attributes (RFC 3264 §5.1)
 * with no contradiction inside a section, and a c= for every active stream.
 *
 * Lenient where peers differ harmlessly: LF alone ends a line as CRLF does
 * (§5 asks for CRLF but tells parsers to accept LF), trailing blanks after a
 * structured line's last field and empty lines at the end are ignored, the
 * order of lines within a level is not enforced, known attribute names match
 * case-insensitively, an identical repeated ptime or direction is tolerated,
 * and duplicate formats in an m= line are kept as sent (some trunks do that).
 */
#include "sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* ---- character classes ------------------------------------------------------ */

/* token-char of RFC 4566 §9: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E */
static bool is_token_char(unsigned char c)
{
	if (c < 0x21 || c > 0x7e)
		return false;
	return c != '"' && c != '(' && c != ')' && c != ',' && c != '/' && c != ':' && c != ';' &&
	       c != '<' && c != '=' && c != '>' && c != '?' && c != '@' && c != '[' && c != '\\' &&
	       c != ']';
}

static bool is_token(struct str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!is_token_char((unsigned char)s.p[i]))
			return false;
	return true;
}

/* non-ws-string: visible ASCII or any byte of a UTF-8 sequence. */
static bool is_non_ws(struct str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static bool is_digits(struct str s)
{
	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
	return true;
}

/* Trailing SP / HTAB removed (the leading ones are a field error). */
static struct str rtrim(struct str s)
{
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

/* The text up to the next SP (or all of it); `rest` gets what follows that SP. */
static struct str field_next(struct str *rest)
{
	ptrdiff_t sp = str_find_char(*rest, ' ');
	struct str f;

	if (sp < 0) {
		f = *rest;
		*rest = str_make(rest->p + rest->len, 0);
		return f;
	}
	f = str_make(rest->p, (size_t)sp);
	*rest = str_make(rest->p + sp + 1, rest->len - (size_t)sp - 1);
	return f;
}

/* Exactly `n` single-SP separated non-empty fields; 0 or -EBADMSG. */
static int fields_split(struct str v, struct str *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n) {
			if (str_find_char(v, ' ') < 0)
				return -EBADMSG;
			out[i] = field_next(&v);
		} else {
			out[i] = v; /* the last field: no SP may remain in it */
		}
		if (!is_non_ws(out[i]))
			return -EBADMSG;
	}
	return 0;
}

static int number(struct str s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint32_t v;

	if (!is_digits(s) || str_to_u32(s, &v) != 0 || v < min || v > max)
		return -EBADMSG;
	*out = v;
	return 0;
}

/* ---- addresses --------------------------------------------------------------- */

/* A domain name as c= allows in place of a literal (RFC 4566 §9 FQDN). */
static bool is_hostname(struct str s)
{
	if (s.len == 0 || s.len > 255)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

static bool literal_valid(int family, struct str s)
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];

	if (str_copy_cstr(s, tmp, sizeof(tmp)) != 0)
		return false;
	return inet_pton(family, tmp, bin) == 1;
}

/* An IP4 or IP6 unicast address, multicast address or domain name. All digits
 * and dots is a dotted quad, and a wrong one is an error, not a name. */
static bool address_valid(enum sdp_addrtype type, struct str a)
{
	bool dotted = a.len > 0;

	for (size_t i = 0; i < a.len; i++)
		if (a.p[i] != '.' && (a.p[i] < '0' || a.p[i] > '9'))
			dotted = false;
	if (type == SDP_ADDR_IP6)
		return str_find_char(a, ':') >= 0 ? literal_valid(AF_INET6, a)
						  : !dotted && is_hostname(a);
	return dotted ? literal_valid(AF_INET, a) : is_hostname(a);
}

/* "IN" SP ("IP4" / "IP6") SP address ["/" ttl ["/" count]] (RFC 4566 §5.7). */
static int conn_parse(struct sdp_conn *c, struct str v)
{
	struct str f[3];

	if (fields_split(v, f, 3) != 0 || !str_eq(f[0], STR("IN")))
		return -EBADMSG;
	if (str_eq(f[1], STR("IP4")))
		c->type = SDP_ADDR_IP4;
	else if (str_eq(f[1], STR("IP6")))
		c->type = SDP_ADDR_IP6;
	else
		return -EBADMSG;

	ptrdiff_t slash = str_find_char(f[2], '/');
	c->addr = f[2];
	c->suffix = str_make(f[2].p + f[2].len, 0);
	if (slash >= 0) {
		c->addr.len = (size_t)slash;
		c->suffix = str_make(f[2].p + slash, f[2].len - (size_t)slash);
		/* IP4 multicast: /ttl[/count] with ttl 0..255; IP6: /count (§5.7) */
		struct str rest = str_make(c->suffix.p + 1, c->suffix.len - 1), part;
		bool ttl = c->type == SDP_ADDR_IP4;
		ptrdiff_t next = str_find_char(rest, '/');
		uint32_t n;
		part = next < 0 ? rest : str_make(rest.p, (size_t)next);
		if (number(part, ttl ? 0 : 1, ttl ? 255 : 65535, &n) != 0)
			return -EBADMSG;
		if (next >= 0) {
			part = str_make(rest.p + next + 1, rest.len - (size_t)next - 1);
			if (!ttl || number(part, 1, 65535, &n) != 0)
				return -EBADMSG;
		}
	}
	return address_valid(c->type, c->addr) ? 0 : -EBADMSG;
}

/* ---- attributes ---------------------------------------------------------------- */

int sdp_rtpmap_parse(struct sdp_rtpmap *out, struct str value)
{
	struct str rest = rtrim(value), pt = field_next(&rest);
	uint32_t n, clock, channels = 0;

	if (!out || number(pt, 0, 127, &n) != 0 || pt.len > 3 || rest.len == 0)
		return -EBADMSG;
	ptrdiff_t slash = str_find_char(rest, '/');
	if (slash <= 0)
		return -EBADMSG;
	struct str enc = str_make(rest.p, (size_t)slash);
	rest = str_make(rest.p + slash + 1, rest.len - (size_t)slash - 1);
	slash = str_find_char(rest, '/');
	struct str clk = slash < 0 ? rest : str_make(rest.p, (size_t)slash);
	if (!is_token(enc) || number(clk, 1, UINT32_MAX, &clock) != 0)
		return -EBADMSG;
	if (slash >= 0 && number(str_make(rest.p + slash + 1, rest.len - (size_t)slash - 1), 1, 255,
				 &channels) != 0)
		return -EBADMSG;
	out->pt = (uint8_t)n;
	out->encoding = enc;
	out->clock_rate = clock;
	out->channels = (uint8_t)channels;
	return 0;
}

/* "20", or "20.5" as some gateways write it: whole milliseconds, 1..10000. */
static int ptime_parse(struct str v, uint32_t *out)
{
	ptrdiff_t dot = str_find_char(v, '.');

	if (dot >= 0) {
		if (!is_digits(str_make(v.p + dot + 1, v.len - (size_t)dot - 1)))
			return -EBADMSG;
		v.len = (size_t)dot;
	}
	return number(v, 1, 10000, out);
}

static int dir_set(bool *set, enum sdp_dir *dir, enum sdp_dir v)
{
	if (*set && *dir != v)
		return -EBADMSG; /* "a=sendonly" and "a=recvonly" together: which one? */
	*set = true;
	*dir = v;
	return 0;
}

static int num_set(uint32_t *field, uint32_t v)
{
	if (*field && *field != v)
		return -EBADMSG;
	*field = v;
	return 0;
}

/* port [SP "IN" SP addrtype SP address] (RFC 3605 §2.1). */
static int rtcp_parse(struct str v, uint32_t *port, struct sdp_conn *conn)
{
	struct str rest = v;
	bool has_addr = str_find_char(v, ' ') >= 0;

	conn->type = SDP_ADDR_NONE;
	if (number(field_next(&rest), 0, 65535, port) != 0)
		return -EBADMSG;
	return has_addr ? conn_parse(conn, rest) : 0;
}

static const struct {
	const char *name;
	enum sdp_dir dir;
} dir_attrs[] = {
    {"sendrecv", SDP_DIR_SENDRECV},
    {"sendonly", SDP_DIR_SENDONLY},
    {"recvonly", SDP_DIR_RECVONLY},
    {"inactive", SDP_DIR_INACTIVE},
};

/* Validates the attributes irisx reads and records them in the section `m`
 * (NULL: session level, where only direction and ptime are used). */
static int attr_interpret(struct sdp_session *s, struct sdp_media *m, const struct sdp_attr *a)
{
	struct str v = a->value;
	bool has_value = v.p != NULL;
	uint32_t n;

	for (size_t i = 0; i < ARRAY_LEN(dir_attrs); i++) {
		if (!str_ieq_cstr(a->name, dir_attrs[i].name))
			continue;
		if (has_value)
			return -EBADMSG;
		return m ? dir_set(&m->dir_set, &m->dir, dir_attrs[i].dir)
			 : dir_set(&s->dir_set, &s->dir, dir_attrs[i].dir);
	}
	if (str_ieq_cstr(a->name, "rtpmap")) {
		struct sdp_rtpmap rm;
		return has_value ? sdp_rtpmap_parse(&rm, v) : -EBADMSG;
	}
	if (str_ieq_cstr(a->name, "fmtp")) {
		/* <format> SP <format specific parameters>; the parameters are the codec's */
		if (!has_value)
			return -EBADMSG;
		struct str rest = v, fmt = field_next(&rest);
		return is_token(fmt) ? 0 : -EBADMSG;
	}
	if (str_ieq_cstr(a->name, "ptime") || str_ieq_cstr(a->name, "maxptime")) {
		bool max = a->name.len == 8;
		if (!has_value || ptime_parse(rtrim(v), &n) != 0)
			return -EBADMSG;
		if (m)
			return num_set(max ? &m->maxptime_ms : &m->ptime_ms, n);
		return num_set(max ? &s->maxptime_ms : &s->ptime_ms, n);
	}
	if (str_ieq_cstr(a->name, "rtcp")) {
		struct sdp_conn conn = {0};
		if (!has_value || rtcp_parse(rtrim(v), &n, &conn) != 0)
			return -EBADMSG;
		if (!m)
			return 0;
		if (m->rtcp_port >= 0 &&
		    (m->rtcp_port != (int32_t)n || m->rtcp_conn.type != conn.type ||
		     !str_eq(m->rtcp_conn.addr, conn.addr)))
			return -EBADMSG;
		m->rtcp_port = (int32_t)n;
		m->rtcp_conn = conn;
		return 0;
	}
	if (str_ieq_cstr(a->name, "rtcp-mux")) {
		if (has_value)
			return -EBADMSG;
		if (m)
			m->rtcp_mux = true;
		return 0;
	}
	return 0; /* kept, not interpreted */
}

/* ---- lines ----------------------------------------------------------------- */

/* <media> SP <port>["/"<count>] SP <proto> 1*(SP <fmt>) (RFC 4566 §5.14). */
static int media_parse(struct sdp_media *m, struct str v)
{
	struct str rest = rtrim(v);
	struct str type = field_next(&rest), port = field_next(&rest), proto = field_next(&rest);
	uint32_t n;

	if (!is_token(type) || !is_non_ws(proto) || rest.len == 0)
		return -EBADMSG;
	/* proto = token *("/" token) */
	for (struct str p = proto; p.len;) {
		ptrdiff_t slash = str_find_char(p, '/');
		struct str t = slash < 0 ? p : str_make(p.p, (size_t)slash);
		if (!is_token(t) || (slash >= 0 && (size_t)slash + 1 == p.len))
			return -EBADMSG;
		p = slash < 0 ? str_make(p.p + p.len, 0)
			      : str_make(p.p + slash + 1, p.len - (size_t)slash - 1);
	}
	ptrdiff_t slash = str_find_char(port, '/');
	if (slash >= 0) {
		if (number(str_make(port.p + slash + 1, port.len - (size_t)slash - 1), 1, 65535,
			   &n) != 0)
			return -EBADMSG;
		m->port_count = (uint16_t)n;
		port.len = (size_t)slash;
	}
	if (number(port, 0, 65535, &n) != 0)
		return -EBADMSG;
	m->port = (uint16_t)n;
	m->type = type;
	m->proto = proto;
	m->fmts = rest;
	m->rtp = str_starts_with_i(proto, "RTP/");
	for (size_t i = 0; i + 5 <= proto.len && !m->rtp; i++)
		m->rtp = strncasecmp(proto.p + i, "/RTP/", 5) == 0;

	struct str fmt;
	m->fmt_count = 0;
	while (rest.len) {
		if (rest.p[0] == ' ')
			return -EBADMSG; /* two SPs: an empty format */
		fmt = field_next(&rest);
		if (m->rtp ? (number(fmt, 0, 127, &n) != 0 || fmt.len > 3) : !is_token(fmt))
			return -EBADMSG;
		m->fmt_count++;
	}
	return m->fmt_count ? 0 : -EBADMSG;
}

/* <start-time> SP <stop-time>, NTP seconds (RFC 4566 §5.9). */
static int time_parse(struct str v)
{
	struct str f[2];
	uint64_t t;

	if (fields_split(rtrim(v), f, 2) != 0)
		return -EBADMSG;
	for (size_t i = 0; i < 2; i++)
		if (!is_digits(f[i]) || str_to_u64(f[i], &t) != 0)
			return -EBADMSG;
	return 0;
}

/* <bwtype> ":" <bandwidth> (RFC 4566 §5.8). */
static int bandwidth_parse(struct str v)
{
	ptrdiff_t colon = str_find_char(v, ':');
	uint32_t n;

	v = rtrim(v);
	if (colon <= 0 || !is_token(str_make(v.p, (size_t)colon)))
		return -EBADMSG;
	return number(str_make(v.p + colon + 1, v.len - (size_t)colon - 1), 0, UINT32_MAX, &n);
}

static int origin_parse(struct sdp_session *s, struct str v)
{
	struct str f[6];

	if (fields_split(rtrim(v), f, 6) != 0 || !is_digits(f[1]) || !is_digits(f[2]) ||
	    !is_token(f[3]) || !is_token(f[4]))
		return -EBADMSG;
	s->origin_user = f[0];
	s->sess_id = f[1];
	s->sess_version = f[2];
	s->origin_nettype = f[3];
	s->origin_addrtype = f[4];
	s->origin_addr = f[5];
	return 0;
}

/* Which lines a level allows, and which of them at most once (RFC 4566 §5),
 * as bit sets of (letter - 'a'). m= starts a section at either level. */
#define L(c) (1u << ((c) - 'a'))
enum {
	SESSION_TYPES = L('v') | L('o') | L('s') | L('i') | L('u') | L('e') | L('p') | L('c') |
			L('b') | L('t') | L('r') | L('z') | L('k') | L('a') | L('m'),
	SESSION_ONCE = L('v') | L('o') | L('s') | L('i') | L('u') | L('c') | L('z') | L('k'),
	MEDIA_TYPES = L('i') | L('c') | L('b') | L('k') | L('a') | L('m'),
	MEDIA_ONCE = L('i') | L('c') | L('k'),
};
#undef L

struct parse_state {
	struct sdp_session *s;
	struct sdp_media *m;   /* the current m= section, NULL at session level */
	unsigned seen;	       /* bits (letter - 'a') of the current level's lines */
	unsigned session_seen; /* the session level's, saved at the first m= */
};

static int line_keep(struct parse_state *ps, char type, struct str v)
{
	struct sdp_session *s = ps->s;

	if (s->line_total == SDP_MAX_LINES)
		return -EBADMSG;
	s->lines[s->line_total++] = (struct sdp_line){type, v};
	if (ps->m)
		ps->m->line_count++;
	else
		s->line_count++;
	return 0;
}

static int attr_line(struct parse_state *ps, struct str v)
{
	struct sdp_session *s = ps->s;
	struct sdp_attr a;
	ptrdiff_t colon = str_find_char(v, ':');

	a.name = colon < 0 ? v : str_make(v.p, (size_t)colon);
	a.value = colon < 0 ? STR_NULL : str_make(v.p + colon + 1, v.len - (size_t)colon - 1);
	if (a.value.p == NULL && colon >= 0)
		return -EBADMSG;
	if (!is_token(a.name) || s->attr_total == SDP_MAX_ATTRS)
		return -EBADMSG;
	if (attr_interpret(s, ps->m, &a) != 0)
		return -EBADMSG;
	s->attrs[s->attr_total++] = a;
	if (ps->m)
		ps->m->attr_count++;
	else
		s->attr_count++;
	return 0;
}

static int line_parse(struct parse_state *ps, char type, struct str v)
{
	struct sdp_session *s = ps->s;
	struct sdp_media *m = ps->m;
	unsigned bit = 1u << (type - 'a');

	if (!(bit & (m ? MEDIA_TYPES : SESSION_TYPES)))
		return -EBADMSG;
	if ((ps->seen & bit) & (m ? MEDIA_ONCE : SESSION_ONCE))
		return -EBADMSG;
	ps->seen |= bit;

	switch (type) {
	case 'v':
		return -EBADMSG; /* only as the first line */
	case 'o':
		return origin_parse(s, v);
	case 's':
		s->name = v;
		return 0;
	case 'c':
		return conn_parse(m ? &m->conn : &s->conn, rtrim(v));
	case 'a':
		return attr_line(ps, v);
	case 'm':
		if (s->media_count == SDP_MAX_MEDIA)
			return -EBADMSG;
		if (!m)
			ps->session_seen = ps->seen & ~bit;
		m = &s->media[s->media_count++];
		memset(m, 0, sizeof(*m));
		m->rtcp_port = -1;
		m->attr_first = s->attr_total;
		m->line_first = s->line_total;
		ps->m = m;
		ps->seen = 0;
		return media_parse(m, v);
	case 'b':
		if (bandwidth_parse(v) != 0)
			return -EBADMSG;
		break;
	case 't':
		if (time_parse(v) != 0)
			return -EBADMSG;
		break;
	case 'r':
		if (!(ps->seen & (1u << ('t' - 'a'))))
			return -EBADMSG; /* a repeat time belongs to a t= before it */
		break;
	default:
		break;
	}
	return line_keep(ps, type, v);
}

int sdp_session_parse(struct sdp_session *s, const char *text, size_t len)
{
	if (!s || (!text && len))
		return -EINVAL;
	/* the arrays are filled as lines come; only the fixed part needs zeroing */
	memset(s, 0, offsetof(struct sdp_session, media));
	s->media_count = s->attr_total = s->line_total = 0;

	struct parse_state ps = {.s = s};
	const char *p = text, *end = text + len;
	bool first = true, blank = false;

	while (p < end) {
		/* One pass finds the line's end and what text may not hold (RFC 4566
		 * §9 byte-string: no NUL, and CR only as part of CRLF). */
		const char *q = p;
		bool bad = false;
		for (; q < end && *q != '\n'; q++)
			bad |= *q == '\0' || (*q == '\r' && (q + 1 == end || q[1] != '\n'));
		const char *eol = q < end && q > p && q[-1] == '\r' ? q - 1 : q;
		struct str line = str_make(p, (size_t)(eol - p));
		p = q < end ? q + 1 : end;

		if (line.len == 0 && !bad) {
			blank = true;
			continue;
		}
		if (bad || blank || line.len < 2 || line.p[1] != '=' || line.p[0] < 'a' ||
		    line.p[0] > 'z')
			return -EBADMSG;
		struct str v = str_make(line.p + 2, line.len - 2);
		if (first) {
			if (line.p[0] != 'v' || !str_eq(rtrim(v), STR("0")))
				return -EBADMSG;
			first = false;
			ps.seen = 1u << ('v' - 'a');
			continue;
		}
		if (line_parse(&ps, line.p[0], v) != 0)
			return -EBADMSG;
	}
	if (first)
		return -EBADMSG;

	unsigned need = (1u << ('o' - 'a')) | (1u << ('s' - 'a')) | (1u << ('t' - 'a'));
	if (((ps.m ? ps.session_seen : ps.seen) & need) != need)
		return -EBADMSG; /* §5: o=, s= and t= are required */
	for (size_t i = 0; i < s->media_count; i++) {
		const struct sdp_media *m = &s->media[i];
		if (m->port != 0 && sdp_media_conn(s, m)->type == SDP_ADDR_NONE)
			return -EBADMSG; /* §5.7: c= at session level or in every section */
	}
	return 0;
}
