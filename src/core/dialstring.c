/*
 * The dial string parser (dialstring.h): FreeSWITCH's syntax for originate
 * and bridge, read once into groups of legs with their variable blocks.
 *
 * The text comes from users (dialplan, ESL api commands), so everything is
 * bounded (DIAL_MAX_*) and every refusal says what and where.
 */
#include "dialstring.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct dial_parser {
	const char *s;
	size_t len, pos;
	struct arena *a;
	char *err;
	size_t err_size;
	size_t leg_no; /* 1-based, for messages; 0 before the first leg */
	struct dial_var tmp[DIAL_MAX_VARS];
	size_t tmp_count;
};

__attribute__((format(printf, 2, 3))) static int fail(struct dial_parser *p, const char *fmt, ...)
{
	if (p->err && p->err_size) {
		char msg[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		if (p->leg_no)
			snprintf(p->err, p->err_size, "leg %zu: %s", p->leg_no, msg);
		else
			snprintf(p->err, p->err_size, "%s", msg);
	}
	return -EINVAL;
}

static bool at_end(const struct dial_parser *p)
{
	return p->pos >= p->len;
}

static char peek(const struct dial_parser *p)
{
	return at_end(p) ? '\0' : p->s[p->pos];
}

static void skip_ws(struct dial_parser *p)
{
	while (!at_end(p) && isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

/* A value up to the block's separator or end: quoted, or raw with \-escapes. */
static int parse_value(struct dial_parser *p, char sep, char close, const char *name, char **out)
{
	struct buf v;
	char q = peek(p);

	buf_init(&v);
	buf_append(&v, "", 0);
	if (q == '\'' || q == '"') {
		p->pos++;
		for (;;) {
			if (at_end(p)) {
				buf_fini(&v);
				return fail(p, "unterminated quote in the value of '%s'", name);
			}
			char c = p->s[p->pos];
			if (c == '\\' && p->pos + 1 < p->len) {
				buf_append(&v, &p->s[p->pos + 1], 1);
				p->pos += 2;
			} else if (c == q) {
				p->pos++;
				break;
			} else {
				buf_append(&v, &c, 1);
				p->pos++;
			}
		}
		skip_ws(p);
		if (peek(p) != sep && peek(p) != close) {
			buf_fini(&v);
			return at_end(p) ? fail(p, "unterminated '%c' block", close)
					 : fail(p, "text after the quoted value of '%s'", name);
		}
	} else {
		while (!at_end(p)) {
			char c = p->s[p->pos];
			if (c == '\\' && p->pos + 1 < p->len) {
				buf_append(&v, &p->s[p->pos + 1], 1);
				p->pos += 2;
				continue;
			}
			if (c == sep || c == close)
				break;
			buf_append(&v, &c, 1);
			p->pos++;
		}
		if (at_end(p)) {
			buf_fini(&v);
			return fail(p, "unterminated '%c' block", close);
		}
	}
	if (v.failed) {
		buf_fini(&v);
		return -ENOMEM;
	}
	*out = arena_strndup(p->a, str_make(v.p, v.len));
	buf_fini(&v);
	return *out ? 0 : -ENOMEM;
}

static bool name_char(char c)
{
	return isgraph((unsigned char)c) && !strchr("=\\'\"[]{}<>,|", c);
}

/* One {…}, […] or <…> block at p->pos, appended to p->tmp. */
static int parse_block(struct dial_parser *p, char open, char close)
{
	char sep = ',';

	p->pos++; /* the opening bracket */
	if (p->pos + 2 < p->len && p->s[p->pos] == '^' && p->s[p->pos + 1] == '^') {
		sep = p->s[p->pos + 2];
		if (!isgraph((unsigned char)sep) || strchr("=\\'\"", sep) || sep == close)
			return fail(p, "bad separator after ^^ in '%c' block", open);
		p->pos += 3;
	}
	for (;;) {
		skip_ws(p);
		if (at_end(p))
			return fail(p, "unterminated '%c' block", open);
		char c = p->s[p->pos];
		if (c == close) {
			p->pos++;
			return 0;
		}
		if (c == sep) { /* an empty item: {a=1,,b=2} or a trailing separator */
			p->pos++;
			continue;
		}
		size_t start = p->pos;
		while (!at_end(p) && p->s[p->pos] != sep && name_char(p->s[p->pos]))
			p->pos++;
		struct str name = str_make(p->s + start, p->pos - start);
		if (name.len == 0)
			return fail(p, "unexpected '%c' in '%c' block", peek(p), open);
		char *n = arena_strndup(p->a, name);
		if (!n)
			return -ENOMEM;
		skip_ws(p);
		if (peek(p) != '=')
			return at_end(p) ? fail(p, "unterminated '%c' block", open)
					 : fail(p, "variable '%s' has no '='", n);
		p->pos++;
		char *value = NULL;
		int err = parse_value(p, sep, close, n, &value);
		if (err)
			return err;
		if (p->tmp_count == DIAL_MAX_VARS)
			return fail(p, "more than %d variables in one block", DIAL_MAX_VARS);
		p->tmp[p->tmp_count++] = (struct dial_var){n, value};
		if (peek(p) == sep)
			p->pos++;
	}
}

/* Consecutive blocks opened by `open` (possibly none) into `out`. */
static int parse_blocks(struct dial_parser *p, char open, char close, struct dial_vars *out)
{
	p->tmp_count = 0;
	skip_ws(p);
	while (peek(p) == open) {
		int err = parse_block(p, open, close);
		if (err)
			return err;
		skip_ws(p);
	}
	out->count = p->tmp_count;
	out->items = NULL;
	if (!p->tmp_count)
		return 0;
	out->items = arena_alloc(p->a, p->tmp_count * sizeof(*out->items));
	if (!out->items)
		return -ENOMEM;
	memcpy(out->items, p->tmp, p->tmp_count * sizeof(*out->items));
	return 0;
}

static int parse_sofia(struct dial_parser *p, struct dial_leg *leg, struct str rest)
{
	ptrdiff_t slash = str_find_char(rest, '/');
	if (slash <= 0 || (size_t)slash + 1 >= rest.len)
		return fail(p, "'%s' needs sofia/<profile>/<destination>", leg->endpoint);
	struct str first = str_make(rest.p, (size_t)slash);
	struct str dest = str_make(rest.p + slash + 1, rest.len - (size_t)slash - 1);

	if (str_eq(first, STR("gateway"))) {
		ptrdiff_t s2 = str_find_char(dest, '/');
		if (s2 <= 0 || (size_t)s2 + 1 >= dest.len)
			return fail(p, "'%s' needs sofia/gateway/<gateway>/<number>",
				    leg->endpoint);
		leg->kind = DIAL_GATEWAY;
		leg->gateway = arena_strndup(p->a, str_make(dest.p, (size_t)s2));
		leg->user =
		    arena_strndup(p->a, str_make(dest.p + s2 + 1, dest.len - (size_t)s2 - 1));
		return leg->gateway && leg->user ? 0 : -ENOMEM;
	}

	leg->kind = DIAL_PROFILE;
	leg->profile = arena_strndup(p->a, first);
	if (str_starts_with_i(dest, "sip:") || str_starts_with_i(dest, "sips:"))
		leg->uri = arena_strndup(p->a, dest);
	else if (str_find_char(dest, '@') > 0)
		leg->uri = arena_printf(p->a, "sip:%.*s", (int)dest.len, dest.p);
	else
		return fail(p, "'%s' needs <user>@<host> or a sip: URI", leg->endpoint);
	if (!leg->profile || !leg->uri)
		return -ENOMEM;
	struct sip_uri u;
	if (sip_uri_parse(&u, str_from_cstr(leg->uri)) != 0 || u.host.len == 0)
		return fail(p, "'%s' is not a SIP URI", leg->uri);
	leg->user = arena_strndup(p->a, u.user);
	return leg->user ? 0 : -ENOMEM;
}

static int parse_endpoint(struct dial_parser *p, struct dial_leg *leg, struct str e)
{
	leg->endpoint = arena_strndup(p->a, e);
	if (!leg->endpoint)
		return -ENOMEM;
	for (size_t i = 0; i < e.len; i++)
		if (!isgraph((unsigned char)e.p[i]))
			return fail(p, "space or control character in '%s'", leg->endpoint);

	if (str_starts_with_i(e, "error/")) {
		struct str cause = str_make(e.p + 6, e.len - 6);
		char name[64];
		leg->kind = DIAL_ERROR;
		if (str_copy_cstr(cause, name, sizeof(name)) != 0 ||
		    core_cause_parse(name, &leg->cause) != 0)
			return fail(p, "unknown cause '%.*s'",
				    (int)(cause.len > 64 ? 64 : cause.len), cause.p);
		return 0;
	}
	if (str_starts_with_i(e, "sofia/"))
		return parse_sofia(p, leg, str_make(e.p + 6, e.len - 6));
	ptrdiff_t slash = str_find_char(e, '/');
	if (slash < 0)
		return fail(p, "'%s' is not an endpoint (sofia/… or error/…)", leg->endpoint);
	return fail(p, "endpoint type '%.*s' is not supported (sofia/… and error/… are)",
		    (int)slash, e.p);
}

static int parse_leg(struct dial_parser *p, struct dial_leg *leg)
{
	int err = parse_blocks(p, '[', ']', &leg->vars);
	if (err)
		return err;
	if (peek(p) == '{')
		return fail(p, "{…} is only allowed at the start of the dial string");
	if (peek(p) == '<')
		return fail(p, "<…> is only allowed at the start of a group");
	size_t start = p->pos;
	while (!at_end(p) && p->s[p->pos] != ',' && p->s[p->pos] != '|') {
		/* brackets stay legal: IPv6 references in URIs */
		if (strchr("{}<>", p->s[p->pos]))
			return fail(p, "unexpected '%c'", p->s[p->pos]);
		p->pos++;
	}
	struct str e = str_trim(str_make(p->s + start, p->pos - start));
	if (e.len == 0)
		return fail(p, "empty");
	return parse_endpoint(p, leg, e);
}

static int parse_all(struct dial_parser *p, struct dial_string *ds)
{
	int err = parse_blocks(p, '{', '}', &ds->vars);
	if (err)
		return err;
	ds->groups = arena_alloc(p->a, DIAL_MAX_LEGS * sizeof(*ds->groups));
	struct dial_leg *legs = arena_alloc(p->a, DIAL_MAX_LEGS * sizeof(*legs));
	if (!ds->groups || !legs)
		return -ENOMEM;
	for (;;) {
		if (ds->leg_count == DIAL_MAX_LEGS)
			return fail(p, "more than %d legs", DIAL_MAX_LEGS);
		struct dial_group *g = &ds->groups[ds->group_count++];
		p->leg_no = ds->leg_count + 1;
		err = parse_blocks(p, '<', '>', &g->vars);
		if (err)
			return err;
		g->legs = &legs[ds->leg_count];
		for (;;) {
			if (ds->leg_count == DIAL_MAX_LEGS)
				return fail(p, "more than %d legs", DIAL_MAX_LEGS);
			p->leg_no = ds->leg_count + 1;
			err = parse_leg(p, &legs[ds->leg_count]);
			if (err)
				return err;
			ds->leg_count++;
			g->leg_count++;
			if (at_end(p))
				return 0;
			if (p->s[p->pos++] == '|')
				break;
		}
	}
}

int core__dial_parse(struct dial_string *out, struct arena *a, const char *text, char *err,
		     size_t err_size)
{
	struct dial_parser *p;
	struct dial_string ds = {0};

	if (err && err_size)
		err[0] = '\0';
	if (!text || !a)
		return -EINVAL;
	size_t len = strlen(text);
	if (len > DIAL_MAX_LEN) {
		if (err && err_size)
			snprintf(err, err_size, "dial string longer than %d bytes", DIAL_MAX_LEN);
		return -EINVAL;
	}
	/* The parser's scratch (DIAL_MAX_VARS variables) is too big for a stack frame
	 * that callers may nest: it lives in the arena with the result. */
	p = arena_alloc(a, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->s = text;
	p->len = len;
	p->a = a;
	p->err = err;
	p->err_size = err_size;
	skip_ws(p);
	if (at_end(p)) {
		fail(p, "empty dial string");
		return -EINVAL;
	}
	int rc = parse_all(p, &ds);
	if (rc == -ENOMEM && err && err_size)
		snprintf(err, err_size, "out of memory");
	if (rc == 0)
		*out = ds;
	return rc;
}

const char *core__dial_vars_get(const struct dial_vars *vars, const char *name)
{
	for (size_t i = vars->count; i-- > 0;)
		if (strcmp(vars->items[i].name, name) == 0)
			return vars->items[i].value;
	return NULL;
}

const char *core__dial_leg_var(const struct dial_string *ds, const struct dial_group *g,
			       const struct dial_leg *leg, const char *name)
{
	const char *v = leg ? core__dial_vars_get(&leg->vars, name) : NULL;
	if (!v && g)
		v = core__dial_vars_get(&g->vars, name);
	if (!v)
		v = core__dial_vars_get(&ds->vars, name);
	return v;
}
