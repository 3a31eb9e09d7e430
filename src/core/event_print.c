/*
 * The three renderings of an event an Event Socket client asks for, as
 * FreeSWITCH's mod_event_socket emits them:
 *
 *  - text/event-plain: "Name: value\n" per header, values URL-encoded; with a
 *    body, "Content-Length: N\n\n" and the body, else a closing "\n".
 *  - text/event-json: one unformatted object, headers as string members in
 *    order; a body adds "Content-Length" and "_body".
 *  - text/event-xml: <event><headers><Name>value</Name>…</headers>
 *    [<body>…</body>]</event>, indented by two spaces per level, values
 *    URL-encoded then XML-escaped; a body adds <Content-Length> to headers.
 *
 * The outer ESL framing (Content-Length/Content-Type of the whole event) is
 * the control module's.
 */
#include "core_int.h"

#include <stdio.h>
#include <string.h>

/* What FreeSWITCH's URL encoder leaves alone: printable ASCII outside its set. */
static bool url_unsafe(unsigned char c)
{
	return c < ' ' || c > '~' || strchr(" #%&+:;<=>?@[\\]^`{|}\"", c) != NULL;
}

static void url_encode(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!url_unsafe(c))
			continue;
		buf_append(out, run, (size_t)(s - run));
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
		buf_append(out, esc, 3);
		run = s + 1;
	}
	buf_append(out, run, (size_t)(s - run));
}

void core_event_print_plain(const struct core_event *ev, struct buf *out)
{
	size_t n = core_event_header_count(ev);
	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		core_event_header_at(ev, i, &name, &value);
		buf_append_cstr(out, name);
		buf_append(out, ": ", 2);
		url_encode(out, value);
		buf_append(out, "\n", 1);
	}
	size_t len;
	const char *body = core_event_body(ev, &len);
	if (body && len) {
		buf_printf(out, "Content-Length: %zu\n\n", len);
		buf_append(out, body, len);
	} else {
		buf_append(out, "\n", 1);
	}
}

static void json_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	buf_append(out, "\"", 1);
	const char *run = s, *end = s + len;
	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;
		char u[6];
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			if (c >= 0x20)
				continue;
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			buf_append(out, run, (size_t)(s - run));
			buf_append(out, u, 6);
			run = s + 1;
			continue;
		}
		buf_append(out, run, (size_t)(s - run));
		buf_append_cstr(out, esc);
		run = s + 1;
	}
	buf_append(out, run, (size_t)(s - run));
	buf_append(out, "\"", 1);
}

void core_event_print_json(const struct core_event *ev, struct buf *out)
{
	size_t n = core_event_header_count(ev);
	buf_append(out, "{", 1);
	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		core_event_header_at(ev, i, &name, &value);
		if (i)
			buf_append(out, ",", 1);
		json_string(out, name, strlen(name));
		buf_append(out, ":", 1);
		json_string(out, value, strlen(value));
	}
	size_t len;
	const char *body = core_event_body(ev, &len);
	if (body) {
		char cl[32];
		int l = snprintf(cl, sizeof(cl), "%zu", len);
		buf_append_cstr(out, n ? ",\"Content-Length\":" : "\"Content-Length\":");
		json_string(out, cl, (size_t)l);
		buf_append_cstr(out, ",\"_body\":");
		json_string(out, body, len);
	}
	buf_append(out, "}", 1);
}

static void xml_escape(struct buf *out, const char *s, size_t len)
{
	const char *run = s, *end = s + len;
	for (; s < end; s++) {
		const char *esc;
		switch (*s) {
		case '&':
			esc = "&amp;";
			break;
		case '<':
			esc = "&lt;";
			break;
		case '>':
			esc = "&gt;";
			break;
		default:
			continue;
		}
		buf_append(out, run, (size_t)(s - run));
		buf_append_cstr(out, esc);
		run = s + 1;
	}
	buf_append(out, run, (size_t)(s - run));
}

static void xml_header(struct buf *out, const char *name, const char *value)
{
	struct buf enc;
	buf_init(&enc);
	url_encode(&enc, value);
	buf_printf(out, "    <%s>", name);
	/* URL-encoding leaves only '&'-free text, but '<' '>' '&' never survive
	 * it anyway; escape for safety against a future encoder change. */
	xml_escape(out, enc.p ? enc.p : "", enc.len);
	buf_printf(out, "</%s>\n", name);
	buf_fini(&enc);
}

void core_event_print_xml(const struct core_event *ev, struct buf *out)
{
	size_t n = core_event_header_count(ev);
	buf_append_cstr(out, "<event>\n  <headers>\n");
	for (size_t i = 0; i < n; i++) {
		const char *name, *value;
		core_event_header_at(ev, i, &name, &value);
		xml_header(out, name, value);
	}
	size_t len;
	const char *body = core_event_body(ev, &len);
	if (body && len) {
		char cl[32];
		snprintf(cl, sizeof(cl), "%zu", len);
		xml_header(out, "Content-Length", cl);
	}
	buf_append_cstr(out, "  </headers>\n");
	if (body && len) {
		buf_append_cstr(out, "  <body>");
		xml_escape(out, body, len);
		buf_append_cstr(out, "</body>\n");
	}
	buf_append_cstr(out, "</event>\n");
}
