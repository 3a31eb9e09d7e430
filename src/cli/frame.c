/*
 * The framing of what an Event Socket server sends (docs/ESL.md "Wire
 * format"): header lines up to an empty line, then Content-Length bytes of
 * body. Pure: bytes in, slices out. The same parser reads the headers of a
 * text/event-plain event inside its body.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>

/* Skips the LFs (and CR LFs) some servers leave between frames. */
static size_t skip_blank_lines(const char *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		if (buf[i] == '\n')
			i++;
		else if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
			i += 2;
		else
			break;
	}
	return i;
}

static int parse_header_line(struct cli_frame *f, struct str line)
{
	ptrdiff_t colon = str_find_char(line, ':');
	if (colon <= 0)
		return -EBADMSG;
	if (f->header_count == CLI_FRAME_MAX_HEADERS)
		return -EBADMSG;
	struct cli_header *h = &f->headers[f->header_count++];
	h->name = str_trim(str_make(line.p, (size_t)colon));
	h->value = str_trim(str_make(line.p + colon + 1, line.len - (size_t)colon - 1));
	return h->name.len ? 0 : -EBADMSG;
}

int cli_frame_parse(struct cli_frame *f, const char *buf, size_t len, size_t *used)
{
	size_t pos = skip_blank_lines(buf, len);
	size_t head_start = pos;

	f->header_count = 0;
	f->body = STR_NULL;
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return len - head_start > CLI_FRAME_MAX_HEAD ? -EBADMSG : -EAGAIN;
		size_t end = (size_t)(nl - buf);
		struct str line = str_make(buf + pos, end - pos);
		if (line.len && line.p[line.len - 1] == '\r')
			line.len--;
		pos = end + 1;
		if (pos - head_start > CLI_FRAME_MAX_HEAD)
			return -EBADMSG;
		if (line.len == 0)
			break;
		int e = parse_header_line(f, line);
		if (e)
			return e;
	}

	struct str cl = cli_frame_header(f, "Content-Length");
	uint64_t body_len = 0;
	if (cl.p && (str_to_u64(cl, &body_len) != 0 || body_len > CLI_FRAME_MAX_BODY))
		return -EBADMSG;
	if (len - pos < body_len)
		return -EAGAIN;
	f->body = str_make(buf + pos, (size_t)body_len);
	*used = pos + (size_t)body_len;
	return 0;
}

struct str cli_frame_header(const struct cli_frame *f, const char *name)
{
	for (size_t i = 0; i < f->header_count; i++)
		if (str_ieq_cstr(f->headers[i].name, name))
			return f->headers[i].value;
	return STR_NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cli_url_decode(struct str in, char *dst, size_t size)
{
	size_t n = 0;
	int rc = 0;

	if (size == 0)
		return -ENOSPC;
	for (size_t i = 0; i < in.len; i++) {
		char c = in.p[i];
		if (c == '%') {
			int hi = i + 2 < in.len ? hex_digit(in.p[i + 1]) : -1;
			int lo = i + 2 < in.len ? hex_digit(in.p[i + 2]) : -1;
			if (hi >= 0 && lo >= 0) {
				c = (char)(hi << 4 | lo);
				i += 2;
			} else {
				rc = -EBADMSG; /* kept as written */
			}
		}
		if (n + 1 >= size) {
			dst[n] = '\0';
			return -ENOSPC;
		}
		dst[n++] = c;
	}
	dst[n] = '\0';
	return rc;
}

bool cli_reply_ok(struct str text)
{
	struct str t = text;
	/* Leading blank lines are not part of what the command said. */
	while (t.len && (t.p[0] == '\n' || t.p[0] == '\r' || t.p[0] == ' '))
		t = str_make(t.p + 1, t.len - 1);
	return !str_starts_with_i(t, "-ERR");
}
