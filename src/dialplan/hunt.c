/*
 * Hunting: walking a context's extensions for one call, as FreeSWITCH's
 * mod_dialplan_xml does, into the list of applications to run.
 *
 * Per extension, conditions are tested in order. A true condition adds its
 * actions; a false one adds its anti-actions. break= decides whether the
 * next condition is tested: on-false (the default) stops at the first false
 * one, on-true at the first true one, always after this one, never not at
 * all. Nested conditions are tested when their parent is true. The
 * extension "matched" when its last tested condition was true or had
 * anti-actions; hunting stops at the first extension that matched unless it
 * says continue="true". Actions already added stay added either way, as in
 * FreeSWITCH.
 *
 * Differences, on purpose: $N refers to the captures of the last true
 * regex condition of the extension (a condition without a field keeps the
 * ones before it), and $N and ${var} are expanded together when the action
 * runs; a condition with both a field and time attributes needs both to
 * match (FreeSWITCH lets the field decide alone).
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "dialplan"

struct hunt {
	struct dialplan_xml *x;
	const struct dialplan_hunt *in;
	struct dialplan_route *r;
	pcre2_match_data *md;
	struct tm tm;
	bool tm_ready;
	const struct dialplan_captures *caps; /* the last true regex condition's */
	const char *ext;
	const char *prefix;
	struct buf scratch;
	int rc; /* the first failure (-ENOMEM) */
};

static const char *var(struct hunt *h, const char *name)
{
	const struct dialplan_vars *v = h->in->vars;
	return v && v->get_cb ? v->get_cb(v->arg, name) : NULL;
}

/* The time every time condition of this hunt is tested against: local
 * time, or UTC plus tod_tz_offset hours when the channel sets it. */
static const struct tm *hunt_tm(struct hunt *h)
{
	if (!h->tm_ready) {
		const char *off = var(h, "tod_tz_offset");
		char *end;
		long hours = off && *off ? strtol(off, &end, 10) : 0;
		if (off && *off && *end == '\0' && hours >= -14 && hours <= 14) {
			time_t t = h->in->now + hours * 3600;
			gmtime_r(&t, &h->tm);
		} else {
			localtime_r(&h->in->now, &h->tm);
		}
		h->tm_ready = true;
	}
	return &h->tm;
}

/* Copies the subject and the groups into the route, for $N later. */
static const struct dialplan_captures *keep_captures(struct hunt *h, const pcre2_code *re,
						     const char *subject, size_t len, int matched)
{
	struct dialplan_captures *c = arena_alloc(&h->r->arena, sizeof(*c));
	char *s = arena_strndup(&h->r->arena, str_make(subject, len));
	uint32_t groups = 0;

	if (!c || !s) {
		h->rc = -ENOMEM;
		return NULL;
	}
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	c->count = groups + 1 < DIALPLAN_CAPTURES_MAX ? groups + 1 : DIALPLAN_CAPTURES_MAX;
	/* matched == 0: more groups than the ovector holds; all of it is set */
	size_t set = matched == 0 ? DIALPLAN_CAPTURES_MAX : (size_t)matched;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(h->md);
	for (size_t i = 0; i < c->count; i++) {
		if (i < set && ov[2 * i] != PCRE2_UNSET && ov[2 * i + 1] >= ov[2 * i])
			c->group[i] = str_make(s + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
	}
	return c;
}

/* 1 when the test holds (with *caps set when a regex matched), 0 when not. */
static int test_eval(struct hunt *h, const struct dialplan__test *t,
		     const struct dialplan_captures **caps)
{
	if (t->time && !dialplan__time_match(t->time, hunt_tm(h)))
		return 0;
	if (!t->field)
		return 1;

	const char *value;
	struct buf field;
	buf_init(&field);
	if (t->field_expand) {
		if (dialplan_expand(str_from_cstr(t->field), NULL, h->in->vars, &field) == -ENOMEM)
			h->rc = -ENOMEM;
		value = field.p ? field.p : "";
	} else {
		value = var(h, t->field);
		value = value ? value : "";
	}
	size_t len = strlen(value);

	pcre2_code *re = t->re, *own = NULL;
	if (t->expr_expand && !h->rc) {
		struct str src;
		uint32_t options;
		char bad;
		int code;
		PCRE2_SIZE off;
		buf_reset(&h->scratch);
		dialplan_expand(str_from_cstr(t->expr), NULL, h->in->vars, &h->scratch);
		const char *expr = h->scratch.p ? h->scratch.p : "";
		if (dialplan__regex_split(expr, &src, &options, &bad) == 0)
			own = pcre2_compile((PCRE2_SPTR)src.p, src.len, options, &code, &off, NULL);
		if (!own)
			log_warn("%s:%u: expression '%s' (from '%s') is not a valid regular "
				 "expression: the condition is false",
				 t->file, t->line, expr, t->expr);
		re = own;
	}
	int rc = 0;
	if (re && !h->rc) {
		int m = pcre2_match(re, (PCRE2_SPTR)value, len, 0, 0, h->md, h->x->mctx);
		if (m >= 0) {
			*caps = keep_captures(h, re, value, len, m);
			rc = 1;
		} else if (m != PCRE2_ERROR_NOMATCH) {
			log_warn(
			    "%s%s%s:%u: matching '%s' gave PCRE2 error %d: the condition is false",
			    h->prefix, *h->prefix ? " " : "", t->file, t->line, t->expr, m);
		}
		log_debug("%s%sRegex (%s) [%s] %s(%s) =~ /%s/", h->prefix, *h->prefix ? " " : "",
			  rc ? "PASS" : "FAIL", h->ext, t->field, value, t->expr);
	}
	pcre2_code_free(own);
	buf_fini(&field);
	return rc;
}

static int cond_eval(struct hunt *h, const struct dialplan__cond *c,
		     const struct dialplan_captures **caps)
{
	if (c->rmode == DP_REGEX_NONE)
		return test_eval(h, &c->test, caps);
	if (c->test.time && !dialplan__time_match(c->test.time, hunt_tm(h)))
		return 0;

	size_t pass = 0, fail = 0;
	for (size_t i = 0; i < c->regex_count && !h->rc; i++) {
		const struct dialplan_captures *got = NULL;
		if (test_eval(h, &c->regexes[i], &got)) {
			pass++;
			if (got)
				*caps = got;
			if (c->rmode == DP_REGEX_ANY)
				break;
		} else {
			fail++;
			if (c->rmode == DP_REGEX_ALL)
				break;
		}
	}
	switch (c->rmode) {
	case DP_REGEX_ALL:
		return fail == 0;
	case DP_REGEX_ANY:
		return pass > 0;
	case DP_REGEX_XOR:
		return pass == 1;
	case DP_REGEX_NONE:
		break;
	}
	return 0;
}

static void route_add(struct hunt *h, const struct dialplan__action *a,
		      const struct dialplan_captures *caps)
{
	struct dialplan_route *r = h->r;
	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct dialplan_action *v = realloc((void *)r->actions, cap * sizeof(*v));
		if (!v) {
			h->rc = -ENOMEM;
			return;
		}
		r->actions = v;
		r->cap = cap;
	}
	((struct dialplan_action *)r->actions)[r->count++] = (struct dialplan_action){
	    .app = a->app,
	    .data = a->data,
	    .captures = caps,
	    .extension = h->ext,
	    .file = a->file,
	    .line = a->line,
	};
}

static void add_actions(struct hunt *h, const struct dialplan__action *v, size_t n, bool anti)
{
	for (size_t i = 0; i < n && !h->rc; i++) {
		const struct dialplan__action *a = &v[i];
		for (unsigned k = 0; k < a->loop && !h->rc; k++) {
			if (!a->is_inline) {
				route_add(h, a, h->caps);
				continue;
			}
			buf_reset(&h->scratch);
			if (dialplan_expand(str_from_cstr(a->data), h->caps, h->in->vars,
					    &h->scratch) == -ENOMEM) {
				h->rc = -ENOMEM;
				return;
			}
			const char *data = h->scratch.p ? h->scratch.p : "";
			log_debug("%s%s%s %s(%s) INLINE", h->prefix, *h->prefix ? " " : "",
				  anti ? "ANTI-Action" : "Action", a->app->name, data);
			int rc = dialplan__inline_run(a->app, h->in->vars, data, h->prefix);
			if (rc < 0)
				log_warn("%s%s%s:%u: inline %s(%s) failed: %s", h->prefix,
					 *h->prefix ? " " : "", a->file, a->line, a->app->name,
					 data, strerror(-rc));
		}
	}
}

/* One level of conditions; true when the extension counts as matched. */
static bool conds_run(struct hunt *h, const struct dialplan__cond *conds, size_t n,
		      bool require_nested, unsigned depth)
{
	bool proceed = false;

	for (size_t i = 0; i < n && !h->rc; i++) {
		const struct dialplan__cond *c = &conds[i];
		const struct dialplan_captures *caps = NULL;
		bool ok = cond_eval(h, c, &caps) == 1;
		if (h->rc)
			return false;
		if (ok) {
			proceed = true;
			if (caps)
				h->caps = caps;
			add_actions(h, c->actions, c->action_count, false);
		} else {
			/* anti-actions make the extension count as matched, as in FreeSWITCH */
			proceed = c->anti_count > 0;
			add_actions(h, c->anti, c->anti_count, true);
		}
		if ((ok && c->brk == DP_BREAK_ON_TRUE) || (!ok && c->brk == DP_BREAK_ON_FALSE) ||
		    c->brk == DP_BREAK_ALWAYS)
			break;
		if (ok && c->nested_count &&
		    !conds_run(h, c->nested, c->nested_count, c->require_nested, depth + 1)) {
			proceed = false;
			if (c->brk != DP_BREAK_NEVER)
				break;
		}
	}
	if (depth > 0 && !require_nested)
		proceed = true;
	return proceed;
}

static const struct dialplan__ctx *find_context(const struct dialplan_xml *x, const char *name)
{
	for (size_t i = 0; i < x->ctx_count; i++)
		if (strcmp(x->ctxs[i].name, name) == 0)
			return &x->ctxs[i];
	return NULL;
}

void dialplan_route_destroy(struct dialplan_route *r)
{
	if (!r)
		return;
	free((void *)r->actions);
	arena_fini(&r->arena);
	dialplan_xml_unref(r->xml);
	free(r);
}

int dialplan_xml_hunt(struct dialplan_xml *x, const struct dialplan_hunt *in,
		      struct dialplan_route **out)
{
	if (!x || !in || !out)
		return -EINVAL;
	const char *name = in->context && *in->context ? in->context : "default";
	const struct dialplan__ctx *ctx = find_context(x, name);
	if (!ctx && !(ctx = find_context(x, "global")))
		return -ESRCH;

	struct hunt h = {.x = x, .in = in, .prefix = in->log_prefix ? in->log_prefix : ""};
	buf_init(&h.scratch);
	if (!(h.r = calloc(1, sizeof(*h.r))))
		return -ENOMEM;
	arena_init(&h.r->arena, 1024);
	h.r->xml = dialplan_xml_ref(x);
	if (!(h.md = pcre2_match_data_create(DIALPLAN_CAPTURES_MAX, NULL)))
		h.rc = -ENOMEM;

	for (size_t i = 0; i < ctx->ext_count && !h.rc; i++) {
		const struct dialplan__ext *e = &ctx->exts[i];
		h.ext = e->name;
		h.caps = NULL;
		log_debug("%s%sparsing [%s->%s] continue=%s", h.prefix, *h.prefix ? " " : "",
			  ctx->name, e->name, e->cont ? "true" : "false");
		if (conds_run(&h, e->conds, e->cond_count, true, 0) && !e->cont)
			break;
	}
	pcre2_match_data_free(h.md);
	buf_fini(&h.scratch);
	if (!h.rc && h.r->count == 0)
		h.rc = -ENOENT;
	if (h.rc) {
		dialplan_route_destroy(h.r);
		return h.rc;
	}
	*out = h.r;
	return 0;
}
