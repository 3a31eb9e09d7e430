/*
 * The Event Socket's client frame parser: a command line, "Name: value"
 * header lines, an empty line, then Content-Length bytes of body. LF ends a
 * line (a CR before it is dropped, as FreeSWITCH tolerates telnet clients).
 * Pure: bytes in, slices out; the caller keeps the bytes alive.
 *
 * The parser restarts at the frame's first byte on every call; a head is at
 * most ESL_HEAD_MAX bytes, so a slow sender costs at most that much rescanning.
 */
#include "control/control.h"

#include <errno.h>
#include <string.h>

static struct str line_trim_cr(const char *p, size_t len)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	return str_make(p, len);
}

int esl_frame_parse(const char *p, size_t len, struct esl_frame *out)
{
	size_t pos = 0;

	out->header_count = 0;
	out->body = str_make(p, 0);
	out->line = str_make(p, 0);
	out->consumed = 0;
	/* Blank lines between frames (telnet users, "\n\n\n") are not commands. */
	while (pos < len && (p[pos] == '\n' || p[pos] == '\r'))
		pos++;
	out->consumed = pos;
	if (pos == len)
		return -EAGAIN;

	size_t start = pos;
	bool first = true;
	for (;;) {
		const char *nl = memchr(p + pos, '\n', len - pos);
		if (!nl)
			return len - start > ESL_HEAD_MAX ? -EBADMSG : -EAGAIN;
		size_t end = (size_t)(nl - p);
		if (end - start > ESL_HEAD_MAX)
			return -EBADMSG;
		struct str l = line_trim_cr(p + pos, end - pos);
		pos = end + 1;
		if (first) {
			out->line = l;
			first = false;
			continue;
		}
		if (l.len == 0)
			break;
		ptrdiff_t colon = str_find_char(l, ':');
		if (colon <= 0)
			return -EBADMSG;
		if (out->header_count == ESL_HEADERS_MAX)
			return -EBADMSG;
		struct esl_header *h = &out->headers[out->header_count++];
		h->name = str_trim(str_make(l.p, (size_t)colon));
		h->value = str_trim(str_make(l.p + colon + 1, l.len - (size_t)colon - 1));
		if (h->name.len == 0)
			return -EBADMSG;
	}
	if (str_trim(out->line).len == 0)
		return -EBADMSG;

	const struct str *cl = esl_frame_header(out, "Content-Length");
	if (cl) {
		uint32_t n;
		if (str_to_u32(*cl, &n) != 0 || n > ESL_BODY_MAX)
			return -EBADMSG;
		if (len - pos < n)
			return -EAGAIN;
		out->body = str_make(p + pos, n);
		pos += n;
	}
	out->consumed = pos;
	return 0;
}

const struct str *esl_frame_header(const struct esl_frame *f, const char *name)
{
	for (size_t i = 0; i < f->header_count; i++)
		if (str_ieq_cstr(f->headers[i].name, name))
			return &f->headers[i].value;
	return NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool esl_word_next(struct str *s, struct str *word)
{
	size_t i = 0;
	while (i < s->len && is_blank(s->p[i]))
		i++;
	size_t b = i;
	while (i < s->len && !is_blank(s->p[i]))
		i++;
	*word = str_make(s->p + b, i - b);
	*s = str_make(s->p + i, s->len - i);
	return word->len > 0;
}

void esl_line_split(struct str line, struct str *verb, struct str *rest)
{
	struct str s = str_trim(line);
	esl_word_next(&s, verb);
	*rest = str_trim(s);
}

int esl_filter_args_parse(struct str args, struct esl_filter_args *out)
{
	struct str rest = args, w;
	memset(out, 0, sizeof(*out));
	out->op = ESL_FILTER_ADD;
	if (!esl_word_next(&rest, &w))
		return -EINVAL;
	if (str_ieq_cstr(w, "delete")) {
		if (!esl_word_next(&rest, &w))
			return -EINVAL;
		out->value = str_trim(rest);
		if (str_ieq_cstr(w, "all") && out->value.len == 0) {
			out->op = ESL_FILTER_DELETE_ALL;
			return 0;
		}
		out->op = ESL_FILTER_DELETE;
		out->header = w;
		return 0;
	}
	out->header = w;
	out->value = str_trim(rest);
	if (out->value.len == 0)
		return -EINVAL;
	const struct str v = out->value;
	if (v.len >= 2 && v.p[0] == '/' && v.p[v.len - 1] == '/') {
		out->is_regex = true;
		out->pattern = str_make(v.p + 1, v.len - 2);
	}
	return 0;
}
