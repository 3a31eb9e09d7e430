/*
 * libFuzzer target for what irisx-cli reads from the network: a stream of
 * Event Socket server frames, parsed as the connection does (frame after
 * frame), each frame's body read as a text/event-plain event into the calls
 * table and as the JSON of `show channels as json`; the values URL-decoded.
 *
 * Invariants (abort when broken):
 *  - frame results are 0, -EAGAIN or -EBADMSG; a frame consumes at least one
 *    byte and no more than it was given; every slice lies inside the input;
 *  - a frame that parses from the whole stream parses the same from the
 *    exact bytes it consumed;
 *  - the calls table never holds more than CLI_CALLS_MAX rows, and its print
 *    at 80 columns has no line longer than 80.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cli_calls g_calls; /* large: not on the stack */

static void slice_in(struct str s, const char *p, size_t len)
{
	if (s.len && (s.p < p || s.p + s.len > p + len))
		abort();
}

static void check_frame(const struct cli_frame *f, const char *p, size_t len)
{
	slice_in(f->body, p, len);
	for (size_t i = 0; i < f->header_count; i++) {
		slice_in(f->headers[i].name, p, len);
		slice_in(f->headers[i].value, p, len);
		char out[64];
		int e = cli_url_decode(f->headers[i].value, out, sizeof(out));
		if (e != 0 && e != -ENOSPC && e != -EBADMSG)
			abort();
		if (strlen(out) >= sizeof(out))
			abort();
	}
}

static void json_cb(void *arg, size_t row, const char *key, const char *value)
{
	if (key && !value)
		abort();
}

static void body_as_event(struct str body)
{
	struct cli_frame ev;
	size_t used;
	if (cli_frame_parse(&ev, body.p ? body.p : "", body.len, &used) == 0) {
		check_frame(&ev, body.p, body.len);
		cli_calls_apply(&g_calls, &ev);
		if (g_calls.count > CLI_CALLS_MAX)
			abort();
	}
	int e = cli_json_rows_each(body, json_cb, NULL);
	if (e != 0 && e != -EBADMSG && e != -ENOMEM)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t off = 0;
	struct cli_frame f, again;

	cli_calls_init(&g_calls);
	while (off < size) {
		size_t used = 0;
		int e = cli_frame_parse(&f, p + off, size - off, &used);
		if (e == -EAGAIN || e == -EBADMSG)
			break;
		if (e != 0 || used == 0 || used > size - off)
			abort();
		check_frame(&f, p + off, used);
		size_t used2 = 0;
		if (cli_frame_parse(&again, p + off, used, &used2) != 0 || used2 != used ||
		    again.header_count != f.header_count || again.body.len != f.body.len)
			abort();
		(void)cli_reply_ok(f.body);
		body_as_event(f.body);
		off += used;
	}
	struct buf out;
	buf_init(&out);
	cli_calls_print(&g_calls, 0, 80, &out);
	for (size_t i = 0, col = 0; i < out.len; i++, col++) {
		if (out.p[i] == '\n')
			col = (size_t)-1;
		else if (col >= 80)
			abort();
	}
	buf_fini(&out);
	return 0;
}
