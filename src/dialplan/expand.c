/*
 * ${var} and $N expansion of action data, in one pass.
 *
 * FreeSWITCH substitutes captures while hunting and expands variables when
 * the application runs, so a caller who dials "${...}" gets it expanded as
 * if the dialplan had written it. Here both happen in one pass over what the
 * dialplan wrote: what a capture or a variable brings in is copied, never
 * scanned again. Nesting is bounded (DIALPLAN_EXPAND_DEPTH_MAX) and so is
 * the output (DIALPLAN_EXPAND_MAX); the work is linear in input and output
 * times the nesting depth.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct expander {
	const struct dialplan_captures *caps;
	const struct dialplan_vars *vars;
	const struct buf *top; /* the caller's buffer, */
	size_t top_base;       /* and its length before this expansion */
	int rc;		       /* the first error */
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void put(struct expander *e, struct buf *out, const char *p, size_t len)
{
	size_t used = out == e->top ? out->len - e->top_base : out->len;
	if (len > DIALPLAN_EXPAND_MAX - used) {
		len = DIALPLAN_EXPAND_MAX - used;
		if (!e->rc)
			e->rc = -E2BIG;
	}
	if (len)
		buf_append(out, p, len);
}

/* Index just past the '}' closing the "${" at i, or 0 when it is never closed. */
static size_t closing_brace(struct str in, size_t i)
{
	unsigned level = 0;
	for (size_t j = i + 1; j < in.len; j++) {
		if (in.p[j] == '{')
			level++;
		else if (in.p[j] == '}' && --level == 0)
			return j + 1;
	}
	return 0;
}

/* A signed decimal filling the whole of s. */
static bool parse_int(struct str s, int64_t *out)
{
	bool neg = s.len && s.p[0] == '-';
	uint64_t v;
	if (neg)
		s = str_make(s.p + 1, s.len - 1);
	if (s.len == 0 || s.len > 9 || str_to_u64(s, &v) != 0)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/*
 * "name:off" or "name:off:len" with numbers: the name and the slice bounds.
 * Anything else is a plain name (variable names may hold ':', as
 * "nolocal:x" does).
 */
static bool parse_substr(struct str name, struct str *base, int64_t *off, int64_t *len)
{
	ptrdiff_t c1 = str_find_char(name, ':');
	if (c1 <= 0)
		return false;
	struct str rest = str_make(name.p + c1 + 1, name.len - (size_t)c1 - 1);
	ptrdiff_t c2 = str_find_char(rest, ':');
	struct str o = c2 < 0 ? rest : str_make(rest.p, (size_t)c2);
	*len = -1;
	if (!parse_int(o, off))
		return false;
	if (c2 >= 0 &&
	    (!parse_int(str_make(rest.p + c2 + 1, rest.len - (size_t)c2 - 1), len) || *len < 0))
		return false;
	*base = str_make(name.p, (size_t)c1);
	return true;
}

static void put_var(struct expander *e, struct buf *out, struct str name)
{
	char small[128];
	char *heap = NULL;
	const char *cname;
	struct str base = name;
	int64_t off = 0, len = -1;
	bool sub = parse_substr(name, &base, &off, &len);

	if (!e->vars || !e->vars->get_cb || base.len == 0)
		return;
	if (base.len < sizeof(small)) {
		memcpy(small, base.p, base.len);
		small[base.len] = '\0';
		cname = small;
	} else {
		heap = strndup(base.p, base.len);
		if (!heap) {
			e->rc = -ENOMEM;
			return;
		}
		cname = heap;
	}
	const char *v = e->vars->get_cb(e->vars->arg, cname);
	if (v) {
		int64_t vlen = (int64_t)strlen(v);
		int64_t start = 0, end = vlen;
		if (sub) {
			start = off < 0 ? vlen + off : off;
			if (start < 0)
				start = 0;
			if (start > vlen)
				start = vlen;
			if (len >= 0 && start + len < end)
				end = start + len;
		}
		put(e, out, v + start, (size_t)(end - start));
	}
	free(heap);
}

static void put_capture(struct expander *e, struct buf *out, struct str digits)
{
	uint64_t n;
	if (str_to_u64(digits, &n) != 0 || n >= e->caps->count || n >= DIALPLAN_CAPTURES_MAX)
		return;
	struct str g = e->caps->group[n];
	if (g.p)
		put(e, out, g.p, g.len);
}

static void expand(struct expander *e, struct str in, unsigned depth, struct buf *out)
{
	size_t i = 0;

	while (i < in.len && !e->rc) {
		const char *dollar = memchr(in.p + i, '$', in.len - i);
		size_t run = dollar ? (size_t)(dollar - (in.p + i)) : in.len - i;
		put(e, out, in.p + i, run);
		i += run;
		if (i >= in.len)
			break;
		/* in.p[i] == '$' */
		char next = i + 1 < in.len ? in.p[i + 1] : '\0';
		if (next == '$') {
			put(e, out, "$", 1);
			i += 2;
		} else if (is_digit(next) && e->caps) {
			size_t j = i + 1;
			while (j < in.len && is_digit(in.p[j]))
				j++;
			put_capture(e, out, str_make(in.p + i + 1, j - i - 1));
			i = j;
		} else if (next == '{') {
			size_t end = closing_brace(in, i);
			if (end == 0 || depth >= DIALPLAN_EXPAND_DEPTH_MAX) {
				/* never closed, or nested too deep: the rest is text */
				size_t stop = end ? end : in.len;
				put(e, out, in.p + i, stop - i);
				i = stop;
				continue;
			}
			struct str inner = str_make(in.p + i + 2, end - i - 3);
			if (memchr(inner.p, '$', inner.len)) {
				struct buf name;
				buf_init(&name);
				expand(e, inner, depth + 1, &name);
				if (name.failed && !e->rc)
					e->rc = -ENOMEM;
				if (!e->rc)
					put_var(e, out, str_make(name.p, name.len));
				buf_fini(&name);
			} else {
				put_var(e, out, inner);
			}
			i = end;
		} else {
			put(e, out, "$", 1);
			i++;
		}
	}
}

int dialplan_expand(struct str in, const struct dialplan_captures *caps,
		    const struct dialplan_vars *vars, struct buf *out)
{
	struct expander e = {.caps = caps, .vars = vars, .top = out};

	if (!out)
		return -EINVAL;
	e.top_base = out->len;
	/* an empty result is "" rather than NULL for the callers */
	buf_append(out, "", 0);
	expand(&e, in, 0, out);
	if (out->failed)
		return -ENOMEM;
	return e.rc;
}
