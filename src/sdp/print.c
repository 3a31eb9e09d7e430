/*
 * SDP printing (RFC 4566 §5) and the accessors that read a parsed session:
 * format lists, attribute lookup, the effective c= and direction of a stream
 * (media level over session level, RFC 4566 §5.7, RFC 3264 §5.1).
 *
 * The printer writes lines in the order §5 lists them, whatever the order
 * they were parsed in; o=, c= and m= come from their fields and every other
 * line verbatim, so print ∘ parse is a fixed point.
 */
#include "sdp.h"

#include <errno.h>
#include <string.h>

const char *sdp_dir_name(enum sdp_dir dir)
{
	switch (dir) {
	case SDP_DIR_SENDRECV:
		return "sendrecv";
	case SDP_DIR_SENDONLY:
		return "sendonly";
	case SDP_DIR_RECVONLY:
		return "recvonly";
	case SDP_DIR_INACTIVE:
		return "inactive";
	}
	return "sendrecv";
}

bool sdp_fmt_next(struct str *rest, struct str *fmt)
{
	while (rest->len && rest->p[0] == ' ') {
		rest->p++;
		rest->len--;
	}
	if (rest->len == 0)
		return false;
	ptrdiff_t sp = str_find_char(*rest, ' ');
	size_t n = sp < 0 ? rest->len : (size_t)sp;
	*fmt = str_make(rest->p, n);
	rest->p += n;
	rest->len -= n;
	return true;
}

const struct sdp_attr *sdp_attr_next(const struct sdp_session *s, const struct sdp_media *m,
				     const char *name, const struct sdp_attr *prev)
{
	size_t first = m ? m->attr_first : 0, end = first + (m ? m->attr_count : s->attr_count);
	size_t i = first;

	if (end > s->attr_total)
		return NULL;
	if (prev) {
		if (prev < s->attrs + first || prev >= s->attrs + end)
			return NULL;
		i = (size_t)(prev - s->attrs) + 1;
	}
	for (; i < end; i++)
		if (str_ieq_cstr(s->attrs[i].name, name))
			return &s->attrs[i];
	return NULL;
}

const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m)
{
	return m->conn.type != SDP_ADDR_NONE ? &m->conn : &s->conn;
}

enum sdp_dir sdp_media_dir(const struct sdp_session *s, const struct sdp_media *m)
{
	if (m->dir_set)
		return m->dir;
	return s->dir_set ? s->dir : SDP_DIR_SENDRECV;
}

/* ---- printing ---------------------------------------------------------------- */

static void put(struct buf *out, char type, struct str v)
{
	char head[2] = {type, '='};

	buf_append(out, head, 2);
	buf_append_str(out, v);
	buf_append(out, "\r\n", 2);
}

/* The kept lines of one section whose type is in `types`, in parsed order. */
static void lines_print(struct buf *out, const struct sdp_session *s, size_t first, size_t count,
			const char *types)
{
	for (size_t i = first; i < first + count && i < s->line_total; i++)
		if (strchr(types, s->lines[i].type))
			put(out, s->lines[i].type, s->lines[i].value);
}

static void attrs_print(struct buf *out, const struct sdp_session *s, size_t first, size_t count)
{
	for (size_t i = first; i < first + count && i < s->attr_total; i++) {
		const struct sdp_attr *a = &s->attrs[i];
		buf_append_cstr(out, "a=");
		buf_append_str(out, a->name);
		if (a->value.p) {
			buf_append(out, ":", 1);
			buf_append_str(out, a->value);
		}
		buf_append(out, "\r\n", 2);
	}
}

static void conn_print(struct buf *out, const struct sdp_conn *c)
{
	if (c->type == SDP_ADDR_NONE)
		return;
	buf_printf(out, "c=IN %s %.*s%.*s\r\n", c->type == SDP_ADDR_IP6 ? "IP6" : "IP4",
		   (int)c->addr.len, c->addr.p, (int)c->suffix.len, c->suffix.p);
}

/* A slice as the two arguments "%.*s" takes. */
#define SLICE(x) (int)(x).len, (x).p

void sdp_session_print(struct buf *out, const struct sdp_session *s)
{
	if (!out || !s)
		return;
	buf_append_cstr(out, "v=0\r\n");
	buf_printf(out, "o=%.*s %.*s %.*s %.*s %.*s %.*s\r\n", SLICE(s->origin_user),
		   SLICE(s->sess_id), SLICE(s->sess_version), SLICE(s->origin_nettype),
		   SLICE(s->origin_addrtype), SLICE(s->origin_addr));
	put(out, 's', s->name);
	lines_print(out, s, 0, s->line_count, "i");
	lines_print(out, s, 0, s->line_count, "u");
	lines_print(out, s, 0, s->line_count, "e");
	lines_print(out, s, 0, s->line_count, "p");
	conn_print(out, &s->conn);
	lines_print(out, s, 0, s->line_count, "b");
	lines_print(out, s, 0, s->line_count, "tr"); /* r= follows its t= */
	lines_print(out, s, 0, s->line_count, "z");
	lines_print(out, s, 0, s->line_count, "k");
	attrs_print(out, s, 0, s->attr_count);

	for (size_t i = 0; i < s->media_count && i < SDP_MAX_MEDIA; i++) {
		const struct sdp_media *m = &s->media[i];
		buf_printf(out, "m=%.*s %u", SLICE(m->type), m->port);
		if (m->port_count)
			buf_printf(out, "/%u", m->port_count);
		buf_printf(out, " %.*s %.*s\r\n", SLICE(m->proto), SLICE(m->fmts));
		lines_print(out, s, m->line_first, m->line_count, "i");
		conn_print(out, &m->conn);
		lines_print(out, s, m->line_first, m->line_count, "b");
		lines_print(out, s, m->line_first, m->line_count, "k");
		attrs_print(out, s, m->attr_first, m->attr_count);
	}
}
