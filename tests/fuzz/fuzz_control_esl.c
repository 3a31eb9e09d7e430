/*
 * libFuzzer target for the Event Socket's client frame parser: the input is
 * a stream of frames, parsed as the connection does (frame after frame,
 * dropping leading blank lines), and once more in two arbitrary pieces.
 *
 * Invariants (abort when broken):
 *  - results are 0, -EAGAIN or -EBADMSG only;
 *  - a parsed frame consumes at least one byte and no more than it was given,
 *    and every slice lies inside the input;
 *  - a frame parsed from a prefix parses identically from the whole stream.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void slice_in(struct str s, const char *p, size_t len)
{
	if (s.len && (s.p < p || s.p + s.len > p + len))
		abort();
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
