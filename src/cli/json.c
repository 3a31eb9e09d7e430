/*
 * The flat JSON of `show channels as json` (RFC 8259, only the part that
 * reply uses): an object whose "rows" member is an array of flat objects.
 * Other members ("row_count") are skipped when they are scalars. Strings are
 * unescaped (\uXXXX to UTF-8, surrogate pairs joined), numbers and the
 * literals true/false/null are handed over as written. Pure: no I/O.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>

enum { JSON_MAX_STRING = 64 * 1024 };

struct json_rd {
	const char *p, *end;
	struct buf key, val; /* decoded current key and value */
};

static void skip_ws(struct json_rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool eat(struct json_rd *r, char c)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

/* \uXXXX, with the low half of a surrogate pair when the first is a high half. */
static int read_unicode_escape(struct json_rd *r, struct buf *out)
{
	unsigned cp, lo;
	if (r->end - r->p < 4 || hex4(r->p, &cp) != 0)
		return -EBADMSG;
	r->p += 4;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return -EBADMSG;
		r->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return -EBADMSG;
	}
	if (cp == 0)
		return -EBADMSG; /* would cut the NUL-terminated value short */
	put_utf8(out, cp);
	return 0;
}

static int read_string(struct json_rd *r, struct buf *out)
{
	buf_reset(out);
	if (!eat(r, '"'))
		return -EBADMSG;
	for (;;) {
		if (r->p >= r->end)
			return -EBADMSG;
		if (out->len > JSON_MAX_STRING)
			return -EBADMSG;
		unsigned char c = (unsigned char)*r->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return -EBADMSG;
		if (c != '\\') {
			buf_append(out, &c, 1);
			continue;
		}
		if (r->p >= r->end)
			return -EBADMSG;
		char e = *r->p++;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *k = e ? strchr(from, e) : NULL;
		if (k) {
			buf_append(out, &to[k - from], 1);
		} else if (e == 'u') {
			int err = read_unicode_escape(r, out);
			if (err)
				return err;
		} else {
			return -EBADMSG;
		}
	}
	buf_append(out, "", 0); /* NUL-terminated even when empty */
	return out->failed ? -ENOMEM : 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? over exactly n bytes. */
static bool number_valid(const char *p, size_t n)
{
	size_t i = 0;
	if (i < n && p[i] == '-')
		i++;
	if (i < n && p[i] == '0') {
		i++;
	} else {
		if (i == n || !is_digit(p[i]))
			return false;
		while (i < n && is_digit(p[i]))
			i++;
	}
	if (i < n && p[i] == '.') {
		if (++i == n || !is_digit(p[i]))
			return false;
		while (i < n && is_digit(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i == n || !is_digit(p[i]))
			return false;
		while (i < n && is_digit(p[i]))
			i++;
	}
	return i == n;
}

/* A number or true/false/null, copied as written. */
static int read_scalar(struct json_rd *r, struct buf *out)
{
	const char *start = r->p;
	buf_reset(out);
	while (r->p < r->end && *r->p &&
	       (strchr("+-.0123456789E", *r->p) || (*r->p >= 'a' && *r->p <= 'z')))
		r->p++;
	size_t n = (size_t)(r->p - start);
	if (n == 0)
		return -EBADMSG;
	bool word = start[0] >= 'a' && start[0] <= 'z';
	if (word && !((n == 4 && memcmp(start, "true", 4) == 0) ||
		      (n == 5 && memcmp(start, "false", 5) == 0) ||
		      (n == 4 && memcmp(start, "null", 4) == 0)))
		return -EBADMSG;
	if (!word && !number_valid(start, n))
		return -EBADMSG;
	buf_append(out, start, n);
	return out->failed ? -ENOMEM : 0;
}

static int read_value(struct json_rd *r, struct buf *out)
{
	skip_ws(r);
	if (r->p >= r->end)
		return -EBADMSG;
	if (*r->p == '"')
		return read_string(r, out);
	return read_scalar(r, out);
}

static int read_rows(struct json_rd *r, cli_json_row_cb cb, void *arg)
{
	size_t row = 0;
	if (!eat(r, '['))
		return -EBADMSG;
	if (eat(r, ']'))
		return 0;
	do {
		if (!eat(r, '{'))
			return -EBADMSG;
		if (!eat(r, '}')) {
			do {
				int e = read_string(r, &r->key);
				if (e)
					return e;
				if (!eat(r, ':'))
					return -EBADMSG;
				e = read_value(r, &r->val);
				if (e)
					return e;
				cb(arg, row, r->key.p, r->val.p);
			} while (eat(r, ','));
			if (!eat(r, '}'))
				return -EBADMSG;
		}
		cb(arg, row, NULL, NULL);
		row++;
	} while (eat(r, ','));
	return eat(r, ']') ? 0 : -EBADMSG;
}

static int walk(struct json_rd *r, cli_json_row_cb cb, void *arg)
{
	if (!eat(r, '{'))
		return -EBADMSG;
	if (eat(r, '}'))
		return 0;
	do {
		int e = read_string(r, &r->key);
		if (e)
			return e;
		if (!eat(r, ':'))
			return -EBADMSG;
		skip_ws(r);
		if (strcmp(r->key.p, "rows") == 0)
			e = read_rows(r, cb, arg);
		else
			e = read_value(r, &r->val);
		if (e)
			return e;
	} while (eat(r, ','));
	if (!eat(r, '}'))
		return -EBADMSG;
	skip_ws(r);
	return r->p == r->end ? 0 : -EBADMSG;
}

int cli_json_rows_each(struct str json, cli_json_row_cb cb, void *arg)
{
	struct json_rd r = {.p = json.p, .end = json.p + json.len};
	if (!json.p)
		return -EBADMSG;
	buf_init(&r.key);
	buf_init(&r.val);
	int e = walk(&r, cb, arg);
	buf_fini(&r.key);
	buf_fini(&r.val);
	return e;
}
