/*
 * The CDR record: its field table, its JSON line (the spool's format and
 * `irisx cdr export --format json`), the CSV template and the MOS estimate.
 *
 * The JSON is a flat object of the fields in CDR_FIELDS order plus a
 * "variables" object; strings are escaped per RFC 8259 §7 (control
 * characters as \u00XX), so a line never contains a raw newline. The parser
 * reads only what the printer writes (flat objects, strings, numbers, one
 * nested object), in place, without allocating.
 */
#define LOG_MODULE "store"
#include "store_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define X_S(n) {#n, CDR_STR, offsetof(struct cdr, n)},
#define X_U(n) {#n, CDR_U64, offsetof(struct cdr, n)},
#define X_F(n) {#n, CDR_F64, offsetof(struct cdr, n)},
const struct cdr_field cdr__fields[] = {CDR_FIELDS(X_S, X_U, X_F)};
#undef X_S
#undef X_U
#undef X_F
const size_t cdr__field_count = ARRAY_LEN(cdr__fields);

/* ---- MOS (see store.h for the formula) ---- */

double cdr_mos(uint64_t received, uint64_t lost, double jitter_ms)
{
	if (received == 0)
		return 0;
	if (jitter_ms < 0 || !isfinite(jitter_ms))
		jitter_ms = 0;
	double ppl = 100.0 * (double)lost / (double)(received + lost);
	if (jitter_ms > 20)
		ppl += (jitter_ms - 20) / 2;
	if (ppl > 100)
		ppl = 100;
	const double ie = 0, bpl = 25.1;
	double ie_eff = ie + (95 - ie) * ppl / (ppl + bpl);
	double d = 30 + 2 * jitter_ms;
	double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
	double r = 93.2 - id - ie_eff;
	if (r <= 0)
		return 1;
	if (r >= 100)
		return 4.5;
	double mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
	return mos < 1 ? 1 : mos;
}

/* ---- JSON ---- */

void cdr__json_str(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	buf_append(out, "\"", 1);
	const char *run = s;
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		buf_append(out, run, (size_t)(s - run));
		run = s + 1;
		switch (ch) {
		case '"':
			buf_append(out, "\\\"", 2);
			break;
		case '\\':
			buf_append(out, "\\\\", 2);
			break;
		case '\n':
			buf_append(out, "\\n", 2);
			break;
		case '\r':
			buf_append(out, "\\r", 2);
			break;
		case '\t':
			buf_append(out, "\\t", 2);
			break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
			buf_append(out, u, 6);
		}
		}
	}
	if (run)
		buf_append(out, run, (size_t)(s - run));
	buf_append(out, "\"", 1);
}

void cdr__vars_print(const struct cdr *c, struct buf *out)
{
	buf_append(out, "{", 1);
	for (size_t i = 0; i < c->var_count; i++) {
		if (i)
			buf_append(out, ",", 1);
		cdr__json_str(out, c->vars[i].name);
		buf_append(out, ":", 1);
		cdr__json_str(out, c->vars[i].value ? c->vars[i].value : "");
	}
	buf_append(out, "}", 1);
}

void cdr_print_json(const struct cdr *c, struct buf *out)
{
	buf_append(out, "{", 1);
	for (size_t i = 0; i < cdr__field_count; i++) {
		const struct cdr_field *f = &cdr__fields[i];
		const char *base = (const char *)c + f->offset;
		if (i)
			buf_append(out, ",", 1);
		buf_printf(out, "\"%s\":", f->name);
		switch (f->kind) {
		case CDR_STR: {
			const char *s = *(const char *const *)(const void *)base;
			cdr__json_str(out, s ? s : "");
			break;
		}
		case CDR_U64:
			buf_printf(out, "%llu",
				   (unsigned long long)*(const uint64_t *)(const void *)base);
			break;
		case CDR_F64: {
			double v = *(const double *)(const void *)base;
			buf_printf(out, "%.3f", isfinite(v) ? v : 0.0);
			break;
		}
		}
	}
	buf_append_cstr(out, ",\"variables\":");
	cdr__vars_print(c, out);
	buf_append(out, "}\n", 2);
}

struct jp {
	char *p, *end;
};

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string, unescaped in place and NUL-terminated (the closing quote's or a
 * shorter escape's room holds the NUL). */
static int jp_string(struct jp *j, char **out)
{
	jp_ws(j);
	if (j->p >= j->end || *j->p != '"')
		return -EBADMSG;
	char *src = ++j->p, *dst = src;
	*out = dst;
	while (src < j->end) {
		char ch = *src++;
		if (ch == '"') {
			*dst = '\0';
			j->p = src;
			return 0;
		}
		if ((unsigned char)ch < 0x20)
			return -EBADMSG;
		if (ch != '\\') {
			*dst++ = ch;
			continue;
		}
		if (src >= j->end)
			return -EBADMSG;
		ch = *src++;
		switch (ch) {
		case '"':
		case '\\':
		case '/':
			*dst++ = ch;
			break;
		case 'n':
			*dst++ = '\n';
			break;
		case 'r':
			*dst++ = '\r';
			break;
		case 't':
			*dst++ = '\t';
			break;
		case 'b':
			*dst++ = '\b';
			break;
		case 'f':
			*dst++ = '\f';
			break;
		case 'u': {
			if (j->end - src < 4)
				return -EBADMSG;
			unsigned v = 0;
			for (int i = 0; i < 4; i++) {
				int h = hexval(src[i]);
				if (h < 0)
					return -EBADMSG;
				v = v << 4 | (unsigned)h;
			}
			src += 4;
			/* Only what the printer escapes: control characters. A
			 * NUL would end the string early: refuse it. */
			if (v == 0 || v >= 0x80)
				return -EBADMSG;
			*dst++ = (char)v;
			break;
		}
		default:
			return -EBADMSG;
		}
	}
	return -EBADMSG;
}

static int jp_expect(struct jp *j, char c)
{
	jp_ws(j);
	if (j->p >= j->end || *j->p != c)
		return -EBADMSG;
	j->p++;
	return 0;
}

static bool jp_peek(struct jp *j, char c)
{
	jp_ws(j);
	return j->p < j->end && *j->p == c;
}

/* The number's text (digits, sign, point, exponent), NUL-terminated in a
 * copy since the line has no room to spare after it. */
static int jp_number(struct jp *j, char *num, size_t size)
{
	jp_ws(j);
	size_t n = 0;
	while (j->p < j->end && strchr("0123456789+-.eE", *j->p) && *j->p) {
		if (n + 1 >= size)
			return -EBADMSG;
		num[n++] = *j->p++;
	}
	num[n] = '\0';
	return n ? 0 : -EBADMSG;
}

static int vars_object(struct jp *j, struct cdr *c)
{
	int e;
	c->var_count = 0;
	if ((e = jp_expect(j, '{')))
		return e;
	if (jp_peek(j, '}')) {
		j->p++;
		return 0;
	}
	for (;;) {
		char *name, *value;
		if ((e = jp_string(j, &name)) || (e = jp_expect(j, ':')) ||
		    (e = jp_string(j, &value)))
			return e;
		if (c->var_count >= CDR_EXTRA_MAX)
			return -EBADMSG;
		c->vars[c->var_count++] = (struct cdr_var){name, value};
		if (jp_peek(j, ',')) {
			j->p++;
			continue;
		}
		return jp_expect(j, '}');
	}
}

int cdr__vars_parse(char *p, size_t len, struct cdr *c)
{
	struct jp j = {p, p + len};
	int e = vars_object(&j, c);
	if (e)
		return e;
	jp_ws(&j);
	return j.p == j.end ? 0 : -EBADMSG;
}

static const struct cdr_field *field_find(const char *name)
{
	for (size_t i = 0; i < cdr__field_count; i++)
		if (strcmp(cdr__fields[i].name, name) == 0)
			return &cdr__fields[i];
	return NULL;
}

static int field_value(struct jp *j, struct cdr *c, const struct cdr_field *f)
{
	char *base = (char *)c + f->offset;
	char num[512], *end; /* a double printed %.3f takes up to ~320 */
	int e;
	switch (f->kind) {
	case CDR_STR:
		return jp_string(j, (char **)(void *)base);
	case CDR_U64:
		if ((e = jp_number(j, num, sizeof(num))))
			return e;
		if (num[0] == '-' || num[0] == '+')
			return -EBADMSG;
		errno = 0;
		*(uint64_t *)(void *)base = strtoull(num, &end, 10);
		return *end || errno ? -EBADMSG : 0;
	case CDR_F64:
		if ((e = jp_number(j, num, sizeof(num))))
			return e;
		*(double *)(void *)base = strtod(num, &end);
		return *end || !isfinite(*(double *)(void *)base) ? -EBADMSG : 0;
	}
	return -EBADMSG;
}

int cdr_parse(char *line, size_t len, struct cdr *out)
{
	struct cdr c = {0};
	struct jp j = {line, line + len};
	int e = jp_expect(&j, '{');
	if (e)
		return e;
	if (!jp_peek(&j, '}')) {
		for (;;) {
			char *name;
			if ((e = jp_string(&j, &name)) || (e = jp_expect(&j, ':')))
				return e;
			const struct cdr_field *f = field_find(name);
			if (f)
				e = field_value(&j, &c, f);
			else if (strcmp(name, "variables") == 0)
				e = vars_object(&j, &c);
			else
				e = -EBADMSG; /* a line we did not write */
			if (e)
				return e;
			if (jp_peek(&j, ',')) {
				j.p++;
				continue;
			}
			break;
		}
	}
	if ((e = jp_expect(&j, '}')))
		return e;
	jp_ws(&j);
	if (j.p != j.end || !c.uuid || !*c.uuid)
		return -EBADMSG;
	*out = c;
	return 0;
}

/* ---- CSV ---- */

const char cdr_csv_template_default[] =
    "${caller_id_name},${caller_id_number},${destination_number},${context},${created_us},"
    "${answered_us},${ended_us},${duration},${billsec},${hangup_cause},${uuid},${other_uuid},"
    "${direction},${gateway},${read_codec},${write_codec},${mos}";

static void csv_value(struct buf *out, const char *s)
{
	buf_append(out, "\"", 1);
	for (; s && *s; s++) {
		if (*s == '"')
			buf_append(out, "\"", 1);
		buf_append(out, s, 1);
	}
	buf_append(out, "\"", 1);
}

static void csv_field(struct buf *out, const struct cdr *c, const char *name, size_t len)
{
	char key[128];
	if (len >= sizeof(key)) {
		csv_value(out, "");
		return;
	}
	memcpy(key, name, len);
	key[len] = '\0';
	const struct cdr_field *f = field_find(key);
	char num[512];
	if (!f) {
		/* An extra variable by its name. */
		for (size_t i = 0; i < c->var_count; i++)
			if (strcmp(c->vars[i].name, key) == 0) {
				csv_value(out, c->vars[i].value);
				return;
			}
		csv_value(out, "");
		return;
	}
	const char *base = (const char *)c + f->offset;
	switch (f->kind) {
	case CDR_STR:
		csv_value(out, *(const char *const *)(const void *)base);
		break;
	case CDR_U64:
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)*(const uint64_t *)(const void *)base);
		csv_value(out, num);
		break;
	case CDR_F64:
		snprintf(num, sizeof(num), "%.3f", *(const double *)(const void *)base);
		csv_value(out, num);
		break;
	}
}

void cdr_csv_print(const struct cdr *c, const char *template, struct buf *out)
{
	const char *p = template && *template ? template : cdr_csv_template_default;
	while (*p) {
		const char *open = strstr(p, "${");
		const char *close = open ? strchr(open + 2, '}') : NULL;
		if (!open || !close) {
			buf_append_cstr(out, p);
			break;
		}
		buf_append(out, p, (size_t)(open - p));
		csv_field(out, c, open + 2, (size_t)(close - open - 2));
		p = close + 1;
	}
	buf_append(out, "\n", 1);
}
