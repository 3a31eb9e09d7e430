/*
 * libFuzzer target for the Event Socket's client frame parser: the input is
 * a stream of frames, parsed as the connection does (frame after frame,
 * dropping leading blank lines), and once more in two arbitrary pieces.
 *
 * Invariants (abort when broken):
 *  - results are 0, -EAGAIN or -EBADMSG only;
 *  - a parsed frame consumes at least one byte and no more than it was given,
 *    and every slice lies inside the input;
 *  - a frame parsed from a prefix parses identically from the whole stream;
 *  - a `filter` frame's arguments parse to slices inside the input, a regex
 *    pattern lies between the value's slashes, and compiling and matching it
 *    (under the server's match limit) returns.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void slice_in(struct str s, const char *p, size_t len)
{
	if (s.len && (s.p < p || s.p + s.len > p + len))
		abort();
}

/* The server's regex filter, as esl_cmd.c compiles and esl_event.c runs it. */
static void check_filter(struct str args, const char *p, size_t len)
{
	struct esl_filter_args fa;
	int rc = esl_filter_args_parse(args, &fa);
	if (rc == -EINVAL)
		return;
	if (rc != 0)
		abort();
	slice_in(fa.header, p, len);
	slice_in(fa.value, p, len);
	if (fa.op != ESL_FILTER_DELETE_ALL && fa.header.len == 0)
		abort();
	if (!fa.is_regex)
		return;
	if (fa.op != ESL_FILTER_ADD || fa.pattern.p != fa.value.p + 1 ||
	    fa.pattern.len + 2 != fa.value.len)
		abort();
	int code;
	PCRE2_SIZE off;
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)fa.pattern.p, fa.pattern.len, 0, &code, &off, NULL);
	if (!re)
		return;
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	if (md && mc) {
		pcre2_set_match_limit(mc, 100000);
		(void)pcre2_match(re, (PCRE2_SPTR)p, len, 0, 0, md, mc);
	}
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
}

static void check(const struct esl_frame *f, const char *p, size_t len)
{
	if (f->consumed == 0 || f->consumed > len)
		abort();
	slice_in(f->line, p, len);
	slice_in(f->body, p, len);
	for (size_t i = 0; i < f->header_count; i++) {
		slice_in(f->headers[i].name, p, len);
		slice_in(f->headers[i].value, p, len);
	}
	struct str verb, rest, w;
	esl_line_split(f->line, &verb, &rest);
	while (esl_word_next(&rest, &w))
		slice_in(w, p, len);
	(void)esl_frame_header(f, "Content-Length");
	esl_line_split(f->line, &verb, &rest);
	if (str_ieq_cstr(verb, "filter"))
		check_filter(rest, p, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct esl_frame f, g;
	const char *p = (const char *)data;
	size_t off = 0;

	while (off < size) {
		int rc = esl_frame_parse(p + off, size - off, &f);
		if (rc != 0 && rc != -EAGAIN && rc != -EBADMSG)
			abort();
		if (rc != 0)
			break;
		check(&f, p + off, size - off);
		off += f.consumed;
	}
	/* A prefix either needs more, fails, or gives the same first frame. */
	size_t cut = size ? data[0] % (size + 1) : 0;
	int a = esl_frame_parse(p, cut, &g);
	if (a == 0) {
		if (esl_frame_parse(p, size, &f) != 0 || f.consumed != g.consumed ||
		    f.header_count != g.header_count || f.body.len != g.body.len)
			abort();
	}
	return 0;
}
