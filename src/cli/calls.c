/*
 * The channel table behind `irisx-cli calls`: loaded once from `show channels
 * as json`, then kept current from CHANNEL_* events, and printed for an
 * 80-column terminal. Header names are FreeSWITCH's (Unique-ID,
 * Call-Direction, Caller-Caller-ID-Number, Caller-Destination-Number,
 * Channel-Call-State, Channel-Read-Codec-Name, Caller-Channel-Created-Time).
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_calls_init(struct cli_calls *c)
{
	memset(c, 0, sizeof(*c));
}

/* Copies value into dst, cut to fit: a long name shows its start. */
static void copy_field(char *dst, size_t size, const char *value)
{
	size_t n = strnlen(value, size - 1);
	memcpy(dst, value, n);
	dst[n] = '\0';
}

static struct cli_call *calls_find(struct cli_calls *c, const char *uuid)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->rows[i].uuid, uuid) == 0)
			return &c->rows[i];
	return NULL;
}

static struct cli_call *calls_add(struct cli_calls *c, const char *uuid)
{
	if (c->count == CLI_CALLS_MAX) {
		c->dropped++;
		return NULL;
	}
	struct cli_call *call = &c->rows[c->count++];
	memset(call, 0, sizeof(*call));
	copy_field(call->uuid, sizeof(call->uuid), uuid);
	return call;
}

static void calls_remove(struct cli_calls *c, struct cli_call *call)
{
	size_t i = (size_t)(call - c->rows);
	memmove(&c->rows[i], &c->rows[i + 1], (c->count - i - 1) * sizeof(c->rows[0]));
	c->count--;
}

/* The decoded value of header `name` into dst; false when absent or empty. */
static bool event_value(const struct cli_frame *ev, const char *name, char *dst, size_t size)
{
	struct str v = cli_frame_header(ev, name);
	if (!v.p || v.len == 0)
		return false;
	/* A value too long for its column is shown cut, not dropped. */
	int e = cli_url_decode(v, dst, size);
	return e == 0 || e == -ENOSPC || e == -EBADMSG;
}

static void set_field(char *dst, size_t size, const struct cli_frame *ev, const char *name)
{
	char tmp[256];
	if (event_value(ev, name, tmp, sizeof(tmp)))
		copy_field(dst, size, tmp);
}

static bool uuid_plausible(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n < UUID_STRLEN;
}

bool cli_calls_apply(struct cli_calls *c, const struct cli_frame *ev)
{
	char name[64], uuid[UUID_STRLEN + 8];

	if (!event_value(ev, "Event-Name", name, sizeof(name)) || strncmp(name, "CHANNEL_", 8) != 0)
		return false;
	if (!event_value(ev, "Unique-ID", uuid, sizeof(uuid)) || !uuid_plausible(uuid))
		return false;
	struct cli_call *call = calls_find(c, uuid);
	if (strcmp(name, "CHANNEL_HANGUP_COMPLETE") == 0 || strcmp(name, "CHANNEL_DESTROY") == 0) {
		if (!call)
			return false;
		calls_remove(c, call);
		return true;
	}
	if (!call) {
		/* A channel created before the console subscribed shows up at its
		 * next event; one that is hanging up is not worth adding. */
		if (strcmp(name, "CHANNEL_HANGUP") == 0)
			return false;
		call = calls_add(c, uuid);
		if (!call)
			return false;
	}
	set_field(call->direction, sizeof(call->direction), ev, "Call-Direction");
	set_field(call->caller, sizeof(call->caller), ev, "Caller-Caller-ID-Number");
	set_field(call->callee, sizeof(call->callee), ev, "Caller-Destination-Number");
	set_field(call->state, sizeof(call->state), ev, "Channel-Call-State");
	set_field(call->codec, sizeof(call->codec), ev, "Channel-Read-Codec-Name");
	char created[32];
	uint64_t us;
	if (event_value(ev, "Caller-Channel-Created-Time", created, sizeof(created)) &&
	    str_to_u64(str_from_cstr(created), &us) == 0 && us)
		call->created_us = us;
	return true;
}

struct load_ctx {
	struct cli_calls *c;
	struct cli_call row;
};

static void load_row_cb(void *arg, size_t row, const char *key, const char *value)
{
	struct load_ctx *x = arg;
	struct cli_call *r = &x->row;
	uint64_t secs;

	if (!key) {
		if (r->uuid[0] && !calls_find(x->c, r->uuid)) {
			struct cli_call *call = calls_add(x->c, r->uuid);
			if (call)
				*call = *r;
		}
		memset(r, 0, sizeof(*r));
		return;
	}
	if (strcmp(key, "uuid") == 0 && uuid_plausible(value))
		copy_field(r->uuid, sizeof(r->uuid), value);
	else if (strcmp(key, "direction") == 0)
		copy_field(r->direction, sizeof(r->direction), value);
	else if (strcmp(key, "cid_num") == 0)
		copy_field(r->caller, sizeof(r->caller), value);
	else if (strcmp(key, "dest") == 0)
		copy_field(r->callee, sizeof(r->callee), value);
	else if (strcmp(key, "callstate") == 0)
		copy_field(r->state, sizeof(r->state), value);
	else if (strcmp(key, "read_codec") == 0)
		copy_field(r->codec, sizeof(r->codec), value);
	else if (strcmp(key, "created_epoch") == 0 &&
		 str_to_u64(str_from_cstr(value), &secs) == 0 && secs < UINT64_MAX / 1000000)
		r->created_us = secs * 1000000;
}

int cli_calls_load_json(struct cli_calls *c, struct str json)
{
	struct load_ctx x = {.c = c};
	cli_calls_init(c);
	int e = cli_json_rows_each(json, load_row_cb, &x);
	if (e)
		cli_calls_init(c);
	return e;
}

/* Appends s in exactly w columns: cut, or padded with spaces. Bytes count as
 * columns; a UTF-8 name may then look a little short, never too long. */
static void put_col(struct buf *out, const char *s, size_t w)
{
	size_t n = strlen(s);
	if (n > w)
		n = w;
	/* Do not cut a UTF-8 sequence in half. */
	while (n > 0 && n < strlen(s) && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	buf_append(out, s, n);
	for (size_t i = n; i < w; i++)
		buf_append(out, " ", 1);
}

static void format_duration(char *dst, size_t size, uint64_t created_us, uint64_t now_us)
{
	if (!created_us || now_us < created_us) {
		snprintf(dst, size, "-");
		return;
	}
	uint64_t s = (now_us - created_us) / 1000000;
	if (s >= 100 * 3600)
		snprintf(dst, size, ">99h");
	else
		snprintf(dst, size, "%u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
			 (unsigned)(s % 60));
}

/* Column widths for a terminal: uuid dir caller callee state duration codec,
 * separated by one space; caller and callee take what is left. */
struct layout {
	size_t uuid, dir, party, state, dur, codec;
};

static struct layout layout_for(unsigned width)
{
	struct layout l = {
	    .uuid = width >= 120 ? 36 : 8, .dir = 4, .state = 11, .dur = 8, .codec = 6};
	size_t fixed = l.uuid + l.dir + l.state + l.dur + l.codec + 6; /* six separators */
	size_t left = width > fixed ? width - fixed : 0;
	l.party = left / 2;
	if (l.party > CLI_CALL_FIELD - 1)
		l.party = CLI_CALL_FIELD - 1;
	return l;
}

static void put_line(struct buf *out, const struct layout *l, const char *const col[7])
{
	size_t start = out->len;
	const size_t w[7] = {l->uuid, l->dir, l->party, l->party, l->state, l->dur, l->codec};
	for (size_t i = 0; i < 7; i++) {
		if (w[i] == 0)
			continue;
		if (out->len > start)
			buf_append(out, " ", 1);
		put_col(out, col[i], w[i]);
	}
	/* Trailing blanks make a terminal wrap at exactly `width` columns. */
	while (out->len > start && out->p[out->len - 1] == ' ')
		out->len--;
	buf_append(out, "\n", 1);
}

void cli_calls_print(const struct cli_calls *c, uint64_t now_us, unsigned width, struct buf *out)
{
	struct layout l = layout_for(width);
	static const char *const heading[7] = {"UUID",	"DIR",	    "CALLER", "CALLEE",
					       "STATE", "DURATION", "CODEC"};
	put_line(out, &l, heading);
	for (size_t i = 0; i < c->count; i++) {
		const struct cli_call *r = &c->rows[i];
		char dur[16];
		format_duration(dur, sizeof(dur), r->created_us, now_us);
		const char *dir = strcmp(r->direction, "inbound") == 0	  ? "in"
				  : strcmp(r->direction, "outbound") == 0 ? "out"
									  : r->direction;
		const char *col[7] = {r->uuid, dir, r->caller, r->callee, r->state, dur, r->codec};
		put_line(out, &l, col);
	}
}
