/*
 * cli — the Event Socket client side of irisx-cli, as pure functions: the
 * framing of what a server sends (frame.c), the few readings of a frame the
 * console needs (reply text, URL-decoded event headers), the flat JSON of
 * `show channels as json` (json.c) and the live channel table of
 * `irisx-cli calls` (calls.c).
 *
 * Nothing here touches a socket or a terminal: src/cli/bin/ does, so that
 * every byte the network hands the console goes through code the unit tests
 * and tests/fuzz/fuzz_cli_esl.c reach. Depends on src/base only; it works
 * against FreeSWITCH's mod_event_socket as well as against irisx.
 */
#ifndef IRISX_CLI_H
#define IRISX_CLI_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- frames ------------------------------------------------------------------ */

enum {
	CLI_FRAME_MAX_HEADERS = 128,
	CLI_FRAME_MAX_HEAD = 64 * 1024,	       /* headers and their blank line */
	CLI_FRAME_MAX_BODY = 16 * 1024 * 1024, /* Content-Length cap */
};

struct cli_header {
	struct str name; /* slices into the parsed buffer */
	struct str value;
};

/*
 * One server frame (docs/ESL.md "Wire format"): `Name: value` lines up to an
 * empty line, then Content-Length bytes of body when the header is there.
 */
struct cli_frame {
	struct cli_header headers[CLI_FRAME_MAX_HEADERS];
	size_t header_count;
	struct str body; /* empty without Content-Length */
};

/*
 * Parses the frame at the start of buf[0, len). Blank lines before the first
 * header are skipped; lines end in LF, a CR before it is dropped. On success
 * returns 0 and sets *used to the bytes the frame took (its slices point into
 * buf, which must outlive f). -EAGAIN: the frame is not complete yet (call
 * again with more bytes; the head is re-scanned, which its 64 KiB cap keeps
 * cheap). -EBADMSG: a header line without ':', a Content-Length that is not a
 * number or above CLI_FRAME_MAX_BODY, more than CLI_FRAME_MAX_HEADERS
 * headers, or a head longer than CLI_FRAME_MAX_HEAD.
 */
int cli_frame_parse(struct cli_frame *f, const char *buf, size_t len, size_t *used);

/* The value of the first header named `name` (ASCII case-insensitive), or
 * STR_NULL when the frame has none. */
struct str cli_frame_header(const struct cli_frame *f, const char *name);

/*
 * An event's headers in the `text/event-plain` format are themselves a frame
 * inside the body, values URL-encoded: parse the body with cli_frame_parse,
 * then decode a value with cli_url_decode. It writes at most size-1 bytes and
 * a NUL into dst; -ENOSPC when the decoded value does not fit (dst then holds
 * what fitted), -EBADMSG for a '%' not followed by two hex digits (copied
 * as is). '+' stays '+', as FreeSWITCH encodes a space as %20.
 */
int cli_url_decode(struct str in, char *dst, size_t size);

/*
 * Whether a command's reply says it worked. FreeSWITCH's rule, which
 * fs_cli -x follows: a reply whose text starts with "-ERR" is a failure,
 * anything else (+OK, a report, an empty body) is a success. `text` is the
 * Reply-Text of a command/reply or the body of an api/response.
 */
bool cli_reply_ok(struct str text);

/* ---- show channels as json --------------------------------------------------- */

/*
 * Called for each "key": value pair of each object of the "rows" array, with
 * the value decoded (strings unescaped, numbers and literals as written), then
 * once with key NULL at the end of each object. Both are NUL-terminated and
 * live only during the call.
 */
typedef void (*cli_json_row_cb)(void *arg, size_t row, const char *key, const char *value);

/*
 * Walks `{"row_count":N,"rows":[{...},{...}]}` (and `{"row_count":0}`), the
 * shape of FreeSWITCH's and irisx's `show ... as json`. Objects must be flat:
 * a value that is an object or array is -EBADMSG, as is anything that is not
 * JSON. Strings are at most 64 KiB. Returns 0, -EBADMSG, or -ENOMEM.
 */
int cli_json_rows_each(struct str json, cli_json_row_cb cb, void *arg);

/* ---- the live channel list --------------------------------------------------- */

enum { CLI_CALLS_MAX = 512, CLI_CALL_FIELD = 48 };

struct cli_call {
	char uuid[UUID_STRLEN];
	char direction[12];
	char caller[CLI_CALL_FIELD];
	char callee[CLI_CALL_FIELD];
	char state[24];
	char codec[24];
	uint64_t created_us; /* wall clock; 0 when unknown */
};

/* The channels the console knows of, oldest first. */
struct cli_calls {
	struct cli_call rows[CLI_CALLS_MAX];
	size_t count;
	uint64_t dropped; /* channels not shown because the table was full */
};

void cli_calls_init(struct cli_calls *c);

/*
 * Brings the table up to date with one event: its headers as a parsed
 * text/event-plain body (values still URL-encoded). CHANNEL_CREATE adds a
 * channel, CHANNEL_HANGUP_COMPLETE and CHANNEL_DESTROY remove it, every other
 * event carrying a Unique-ID of a listed channel (or that creates it, when
 * the console started after CHANNEL_CREATE) updates its call state and codec.
 * Events that do not concern channels are ignored. Returns true when the
 * table changed.
 */
bool cli_calls_apply(struct cli_calls *c, const struct cli_frame *event);

/* Replaces the table with the rows of a `show channels as json` reply.
 * 0, or the error of cli_json_rows_each (the table is then empty). */
int cli_calls_load_json(struct cli_calls *c, struct str json);

/*
 * Prints the table for a terminal `width` columns wide (at least 80 is read
 * well; narrower clips the caller and callee first): a heading line, then one
 * line per channel with its uuid (shortened to 8 characters below 120
 * columns), direction, caller, callee, state, duration (H:MM:SS since
 * created, from now_us) and codec. Each line ends in "\n" and is at most
 * `width` characters.
 */
void cli_calls_print(const struct cli_calls *c, uint64_t now_us, unsigned width, struct buf *out);

#endif
