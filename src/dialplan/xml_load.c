/*
 * Loading the XML dialplan: the configuration's <section name="dialplan">
 * compiled into contexts → extensions → conditions → actions, with every
 * string copied (the configuration may be freed or reloaded afterwards),
 * every regular expression compiled with PCRE2 (and JIT-compiled when the
 * platform allows), every application name and literal argument checked.
 *
 * What is wrong fails the load with "file:line: message"; what irisx does
 * not support (an unknown element or attribute, tz-offset) is a warning
 * with its file and line, as config.h promises for the rest of the tree.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "dialplan"

struct loader {
	struct dialplan_xml *x;
	char *err;
	size_t err_size;
	int rc;
	const char *file_in, *file_copy; /* the last file name copied */
};

static void vreport(struct loader *l, bool error, const struct config_node *n, const char *fmt,
		    va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (error) {
		if (!l->rc && l->err && l->err_size)
			snprintf(l->err, l->err_size, "%s:%u: %s", n->file, n->line, msg);
		if (!l->rc)
			l->rc = -EINVAL;
	} else {
		l->x->warnings++;
		log_warn("%s:%u: %s", n->file, n->line, msg);
	}
}

static int fail(struct loader *l, const struct config_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct loader *l, const struct config_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(l, true, n, fmt, ap);
	va_end(ap);
	return l->rc;
}

static void warn(struct loader *l, const struct config_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct loader *l, const struct config_node *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(l, false, n, fmt, ap);
	va_end(ap);
}

static int oom(struct loader *l, const struct config_node *n)
{
	fail(l, n, "out of memory");
	l->rc = -ENOMEM;
	return l->rc;
}

static const char *copy(struct loader *l, const char *s)
{
	return s ? arena_strdup(&l->x->arena, s) : NULL;
}

/* File names repeat on every node of a file: copy each once. */
static const char *copy_file(struct loader *l, const char *file)
{
	if (file != l->file_in) {
		l->file_in = file;
		l->file_copy = copy(l, file);
	}
	return l->file_copy;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static bool is_time_attr(const char *s)
{
	for (int f = 0; f < DP_T_COUNT; f++)
		if (strcmp(s, dialplan__time_attrs[f]) == 0)
			return true;
	return false;
}

/* Warns about every attribute of n not in `known` (nor a time attribute when
 * `time` is set). */
static void check_attrs(struct loader *l, const struct config_node *n, const char *const *known,
			bool time)
{
	for (size_t i = 0; i < n->attr_count; i++) {
		const char *a = n->attrs[i].name;
		if (in_list(a, known) || (time && is_time_attr(a)))
			continue;
		if (time && (strcmp(a, "tz-offset") == 0 || strcmp(a, "dst") == 0))
			warn(l, n, "<%s %s=…> is not supported by irisx (ignored)", n->name, a);
		else
			warn(l, n, "attribute '%s' of <%s> is not supported by irisx (ignored)", a,
			     n->name);
	}
}

static size_t count_children(const struct config_node *n, const char *name)
{
	size_t k = 0;
	for (const struct config_node *c = config_node_child(n, name); c;
	     c = config_node_next(c, name))
		k++;
	return k;
}

/* Caller-profile fields a condition may name without ${}. */
static const char *const caller_fields[] = {
    "destination_number",
    "caller_id_name",
    "caller_id_number",
    "ani",
    "aniii",
    "rdnis",
    "network_addr",
    "context",
    "dialplan",
    "uuid",
    "username",
    "source",
    "chan_name",
    NULL,
};

int dialplan__regex_split(const char *expr, struct str *src, uint32_t *options, char *bad)
{
	const char *last = expr[0] == '/' ? strrchr(expr + 1, '/') : NULL;

	*options = 0;
	if (!last) {
		*src = str_from_cstr(expr);
		return 0;
	}
	for (const char *f = last + 1; *f; f++) {
		switch (*f) {
		case 'i':
			*options |= PCRE2_CASELESS;
			break;
		case 's':
			*options |= PCRE2_DOTALL;
			break;
		case 'm':
			*options |= PCRE2_MULTILINE;
			break;
		case 'x':
			*options |= PCRE2_EXTENDED;
			break;
		default:
			*bad = *f;
			return -EINVAL;
		}
	}
	*src = str_make(expr + 1, (size_t)(last - expr - 1));
	return 0;
}

static int keep_code(struct loader *l, const struct config_node *n, pcre2_code *code)
{
	struct dialplan_xml *x = l->x;
	if (x->code_count == x->code_cap) {
		size_t cap = x->code_cap ? x->code_cap * 2 : 16;
		pcre2_code **codes = realloc(x->codes, cap * sizeof(*codes));
		if (!codes) {
			pcre2_code_free(code);
			return oom(l, n);
		}
		x->codes = codes;
		x->code_cap = cap;
	}
	x->codes[x->code_count++] = code;
	return 0;
}

static int load_time(struct loader *l, const struct config_node *n, struct dialplan__test *t)
{
	for (int f = 0; f < DP_T_COUNT; f++) {
		const char *v = config_node_attr(n, dialplan__time_attrs[f]);
		char why[256];
		if (!v)
			continue;
		if (!t->time && !(t->time = arena_alloc(&l->x->arena, sizeof(*t->time))))
			return oom(l, n);
		int rc =
		    dialplan__time_parse((enum dialplan__tfield)f, v, &l->x->arena,
					 &t->time->ranges[f], &t->time->count[f], why, sizeof(why));
		if (rc == -ENOMEM)
			return oom(l, n);
		if (rc)
			return fail(l, n, "%s", why);
	}
	return 0;
}

/* field= expression= (or an <expression> child) and time attributes of a
 * <condition> or <regex>. */
static int load_test(struct loader *l, const struct config_node *n, struct dialplan__test *t)
{
	const struct config_node *xe = config_node_child(n, "expression");
	const char *field = config_node_attr(n, "field");
	const char *expr = xe ? xe->text : config_node_attr(n, "expression");

	t->file = copy_file(l, n->file);
	t->line = n->line;
	if (load_time(l, n, t))
		return l->rc;
	if (!field) {
		if (expr)
			warn(l, n,
			     "expression without a field is ignored (the condition is "
			     "always true)");
		return 0;
	}
	t->field_expand = strchr(field, '$') != NULL;
	if (!t->field_expand && !in_list(field, caller_fields))
		warn(l, n,
		     "field '%s' is not a caller field, so it is always empty; write "
		     "field=\"${%s}\" for a channel variable",
		     field, field);
	if (!expr) {
		warn(l, n, "field '%s' has no expression (it always matches)", field);
		expr = "";
	}
	if (!(t->field = copy(l, field)) || !(t->expr = copy(l, expr)))
		return oom(l, n);
	if (strstr(expr, "${")) {
		/* it depends on the call: compiled when hunting */
		t->expr_expand = true;
		return 0;
	}
	struct str src;
	char bad = 0;
	if (dialplan__regex_split(t->expr, &src, &t->re_options, &bad) != 0)
		return fail(l, n, "unknown regular expression flag '%c' in '%s' (i, s, m, x)", bad,
			    expr);
	int code;
	PCRE2_SIZE off;
	t->re = pcre2_compile((PCRE2_SPTR)src.p, src.len, t->re_options, &code, &off, NULL);
	if (!t->re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		return fail(l, n, "bad regular expression '%s': %s at offset %zu", expr,
			    (const char *)msg, (size_t)off);
	}
	/* JIT is an optimisation: a platform without it still matches */
	(void)pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);
	return keep_code(l, n, t->re);
}

static int load_action(struct loader *l, const struct config_node *n, struct dialplan__action *a)
{
	static const char *const known[] = {"application", "data", "inline", "loop", NULL};
	const char *name = config_node_attr(n, "application");
	const char *data = n->text && *n->text ? n->text : config_node_attr(n, "data");
	const char *loop = config_node_attr(n, "loop");
	char why[256];

	check_attrs(l, n, known, false);
	if (!name || !*name)
		return fail(l, n, "<%s> without an application", n->name);
	if (!(a->app = dialplan_app_find(name)))
		return fail(l, n, "unknown application '%s'", name);
	a->is_inline = config_is_true(config_node_attr(n, "inline"));
	if (a->is_inline && !(a->app->flags & DIALPLAN_APP_INLINE))
		return fail(l, n,
			    "application '%s' cannot run inline (only set, export, unset, log)",
			    name);
	a->loop = 1;
	if (loop && (str_to_u32(str_trim(str_from_cstr(loop)), &a->loop) != 0 ||
		     a->loop > DIALPLAN_LOOP_MAX))
		return fail(l, n, "loop=\"%s\" is not a number from 0 to %d", loop,
			    DIALPLAN_LOOP_MAX);
	if (!data)
		data = "";
	if (!strchr(data, '$') && dialplan__app_check(a->app, data, why, sizeof(why)) != 0)
		return fail(l, n, "%s: %s", name, why);
	if (!(a->data = copy(l, data)))
		return oom(l, n);
	a->file = copy_file(l, n->file);
	a->line = n->line;
	return 0;
}

static int load_cond(struct loader *l, const struct config_node *n, struct dialplan__cond *c,
		     unsigned depth);

static int load_cond_children(struct loader *l, const struct config_node *n,
			      struct dialplan__cond *c, unsigned depth)
{
	struct arena *ar = &l->x->arena;
	size_t na = count_children(n, "action"), nanti = count_children(n, "anti-action");
	size_t nr = count_children(n, "regex"), nn = count_children(n, "condition");

	if ((na && !(c->actions = arena_alloc(ar, na * sizeof(*c->actions)))) ||
	    (nanti && !(c->anti = arena_alloc(ar, nanti * sizeof(*c->anti)))) ||
	    (nr && !(c->regexes = arena_alloc(ar, nr * sizeof(*c->regexes)))) ||
	    (nn && !(c->nested = arena_alloc(ar, nn * sizeof(*c->nested)))))
		return oom(l, n);
	if (nr && c->rmode == DP_REGEX_NONE)
		warn(l, n,
		     "<regex> children are ignored without regex=\"all|any|xor\" on the "
		     "condition");
	if (!nr && c->rmode != DP_REGEX_NONE)
		warn(l, n, "regex=\"%s\" without <regex> children", config_node_attr(n, "regex"));
	if (c->rmode != DP_REGEX_NONE &&
	    (config_node_attr(n, "field") || config_node_attr(n, "expression")))
		warn(l, n, "field and expression are ignored on a regex=\"…\" condition");

	for (const struct config_node *k = n->first_child; k && !l->rc; k = k->next) {
		if (strcmp(k->name, "action") == 0) {
			load_action(l, k, &c->actions[c->action_count++]);
		} else if (strcmp(k->name, "anti-action") == 0) {
			load_action(l, k, &c->anti[c->anti_count++]);
		} else if (strcmp(k->name, "regex") == 0) {
			static const char *const known[] = {"field", "expression", NULL};
			if (c->rmode == DP_REGEX_NONE)
				continue;
			check_attrs(l, k, known, true);
			load_test(l, k, &c->regexes[c->regex_count++]);
		} else if (strcmp(k->name, "condition") == 0) {
			load_cond(l, k, &c->nested[c->nested_count++], depth + 1);
		} else if (strcmp(k->name, "expression") != 0) {
			warn(l, k,
			     "element <%s> in a condition is not supported by irisx (ignored)",
			     k->name);
		}
	}
	return l->rc;
}

static int load_cond(struct loader *l, const struct config_node *n, struct dialplan__cond *c,
		     unsigned depth)
{
	static const char *const known[] = {"field", "expression",     "break",
					    "regex", "require-nested", NULL};
	static const char *const breaks[] = {"on-false", "on-true", "always", "never", NULL};
	const char *brk = config_node_attr(n, "break");
	const char *rmode = config_node_attr(n, "regex");
	const char *req = config_node_attr(n, "require-nested");

	if (depth > DIALPLAN_NEST_MAX)
		return fail(l, n, "conditions nest deeper than %d", DIALPLAN_NEST_MAX);
	check_attrs(l, n, known, true);
	c->file = copy_file(l, n->file);
	c->line = n->line;
	c->brk = DP_BREAK_ON_FALSE;
	if (brk) {
		size_t i = 0;
		while (breaks[i] && strcmp(breaks[i], brk) != 0)
			i++;
		if (!breaks[i])
			return fail(
			    l, n, "break=\"%s\": expected on-false, on-true, always or never", brk);
		static const enum dialplan__break modes[] = {DP_BREAK_ON_FALSE, DP_BREAK_ON_TRUE,
							     DP_BREAK_ALWAYS, DP_BREAK_NEVER};
		c->brk = modes[i];
	}
	if (rmode) {
		if (strcmp(rmode, "all") == 0)
			c->rmode = DP_REGEX_ALL;
		else if (strcmp(rmode, "any") == 0)
			c->rmode = DP_REGEX_ANY;
		else if (strcmp(rmode, "xor") == 0)
			c->rmode = DP_REGEX_XOR;
		else
			return fail(l, n, "regex=\"%s\": expected all, any or xor", rmode);
	}
	c->require_nested = req ? config_is_true(req) : true;
	if (c->rmode == DP_REGEX_NONE) {
		if (load_test(l, n, &c->test))
			return l->rc;
	} else {
		c->test.file = c->file;
		c->test.line = c->line;
		if (load_time(l, n, &c->test))
			return l->rc;
	}
	return load_cond_children(l, n, c, depth);
}

static int load_ext(struct loader *l, const struct config_node *n, struct dialplan__ext *e)
{
	static const char *const known[] = {"name", "continue", NULL};
	const char *name = config_node_attr(n, "name");

	check_attrs(l, n, known, false);
	if (!(e->name = copy(l, name ? name : "_anon_")))
		return oom(l, n);
	e->cont = config_is_true(config_node_attr(n, "continue"));
	size_t k = count_children(n, "condition");
	if (k && !(e->conds = arena_alloc(&l->x->arena, k * sizeof(*e->conds))))
		return oom(l, n);
	for (const struct config_node *c = n->first_child; c && !l->rc; c = c->next) {
		if (strcmp(c->name, "condition") == 0)
			load_cond(l, c, &e->conds[e->cond_count++], 0);
		else
			warn(l, c,
			     "element <%s> in an extension is not supported by irisx (ignored)",
			     c->name);
	}
	return l->rc;
}

static int load_context(struct loader *l, const struct config_node *n, struct dialplan__ctx *ctx)
{
	static const char *const known[] = {"name", NULL};
	const char *name = config_node_attr(n, "name");

	check_attrs(l, n, known, false);
	if (!name || !*name)
		return fail(l, n, "<context> without a name");
	for (const struct dialplan__ctx *o = l->x->ctxs; o < ctx; o++)
		if (strcmp(o->name, name) == 0)
			warn(l, n,
			     "context '%s' is defined again; calls use the first one (irisx checks "
			     "this one but never hunts it)",
			     name);
	if (!(ctx->name = copy(l, name)))
		return oom(l, n);
	size_t k = count_children(n, "extension");
	if (k && !(ctx->exts = arena_alloc(&l->x->arena, k * sizeof(*ctx->exts))))
		return oom(l, n);
	for (const struct config_node *c = n->first_child; c && !l->rc; c = c->next) {
		if (strcmp(c->name, "extension") == 0) {
			load_ext(l, c, &ctx->exts[ctx->ext_count++]);
			l->x->extension_count++;
		} else {
			warn(l, c, "element <%s> in a context is not supported by irisx (ignored)",
			     c->name);
		}
	}
	return l->rc;
}

static void xml_free(struct dialplan_xml *x)
{
	for (size_t i = 0; i < x->code_count; i++)
		pcre2_code_free(x->codes[i]);
	free(x->codes);
	pcre2_match_context_free(x->mctx);
	arena_fini(&x->arena);
	free(x);
}

int dialplan_xml_create(struct dialplan_xml **out, const struct config *cfg, char *err,
			size_t err_size)
{
	struct dialplan_xml *x;
	struct loader l = {.err = err, .err_size = err_size};

	if (err && err_size)
		err[0] = '\0';
	if (!out || !cfg)
		return -EINVAL;
	if (!(x = calloc(1, sizeof(*x))))
		return -ENOMEM;
	atomic_init(&x->refs, 1);
	arena_init(&x->arena, 16384);
	l.x = x;
	if (!(x->mctx = pcre2_match_context_create(NULL))) {
		xml_free(x);
		return -ENOMEM;
	}
	/* a caller controls the subject: bound the backtracking */
	pcre2_set_match_limit(x->mctx, DIALPLAN_MATCH_LIMIT);
	pcre2_set_depth_limit(x->mctx, DIALPLAN_MATCH_LIMIT / 10);

	const struct config_node *sec = config_document_section(cfg, "dialplan");
	if (!sec) {
		x->warnings++;
		log_warn("%s: no <section name=\"dialplan\">: every call ends NO_ROUTE_DESTINATION",
			 cfg->dir ? cfg->dir : "configuration");
	} else {
		size_t k = count_children(sec, "context");
		if (k && !(x->ctxs = arena_alloc(&x->arena, k * sizeof(*x->ctxs))))
			oom(&l, sec);
		for (const struct config_node *c = sec->first_child; c && !l.rc; c = c->next) {
			if (strcmp(c->name, "context") == 0)
				load_context(&l, c, &x->ctxs[x->ctx_count++]);
			else
				warn(&l, c,
				     "element <%s> in the dialplan section is not supported by "
				     "irisx (ignored)",
				     c->name);
		}
	}
	if (!l.rc)
		l.rc = dialplan__ivr_load(x, cfg, err, err_size);
	if (l.rc) {
		xml_free(x);
		return l.rc;
	}
	*out = x;
	return 0;
}

struct dialplan_xml *dialplan_xml_ref(struct dialplan_xml *x)
{
	atomic_fetch_add_explicit(&x->refs, 1, memory_order_relaxed);
	return x;
}

void dialplan_xml_unref(struct dialplan_xml *x)
{
	if (x && atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) == 1)
		xml_free(x);
}

unsigned dialplan_xml_warning_count(const struct dialplan_xml *x)
{
	return x->warnings;
}

bool dialplan_xml_has_context(const struct dialplan_xml *x, const char *name)
{
	for (size_t i = 0; name && i < x->ctx_count; i++)
		if (strcmp(x->ctxs[i].name, name) == 0)
			return true;
	return false;
}
