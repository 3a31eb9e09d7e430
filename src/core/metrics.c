/*
 * The Prometheus text exposition format, version 0.0.4: "# HELP", "# TYPE"
 * and sample lines `name{label="value",…} value`, one family at a time.
 * The writer checks what the format's grammar requires (metric and label
 * names, escaped label values and help text, each family declared once),
 * so that what a collector writes cannot make the whole scrape unparseable:
 * a bad family or sample is left out and counted instead.
 */
#include "core.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static bool metric_name_ok(const char *s, bool colon_ok)
{
	if (!s || !*s)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			     (colon_ok && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static const char *type_name(enum metric_type t)
{
	switch (t) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_GAUGE:
		return "gauge";
	case METRIC_SUMMARY:
		return "summary";
	case METRIC_UNTYPED:
		break;
	}
	return "untyped";
}

void metrics_writer_init(struct metrics_writer *w, struct buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

/* Whether `out` holds a TYPE line for `name` already. */
static bool family_declared(const struct buf *out, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = out->p, *end = out->p ? out->p + out->len : NULL;
	while (p && p < end) {
		if ((size_t)(end - p) > 7 + nlen && memcmp(p, "# TYPE ", 7) == 0 &&
		    memcmp(p + 7, name, nlen) == 0 && p[7 + nlen] == ' ')
			return true;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

int metrics_family(struct metrics_writer *w, const char *name, enum metric_type type,
		   const char *help)
{
	w->family_ok = false;
	w->family[0] = '\0';
	if (!metric_name_ok(name, true) || strlen(name) >= sizeof(w->family)) {
		w->errors++;
		return -EINVAL;
	}
	if (family_declared(w->out, name)) {
		w->errors++;
		return -EEXIST;
	}
	memcpy(w->family, name, strlen(name) + 1);
	w->type = type;
	w->family_ok = true;
	buf_printf(w->out, "# HELP %s ", name);
	/* HELP text escapes only backslash and line feed. */
	for (const char *p = help ? help : ""; *p; p++) {
		if (*p == '\\')
			buf_append(w->out, "\\\\", 2);
		else if (*p == '\n')
			buf_append(w->out, "\\n", 2);
		else
			buf_append(w->out, p, 1);
	}
	buf_printf(w->out, "\n# TYPE %s %s\n", name, type_name(type));
	return 0;
}

static void label_value_print(struct buf *out, const char *v)
{
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\')
			buf_append(out, "\\\\", 2);
		else if (*p == '"')
			buf_append(out, "\\\"", 2);
		else if (*p == '\n')
			buf_append(out, "\\n", 2);
		else
			buf_append(out, p, 1);
	}
}

/* The line's name and labels, or an error before anything is written. */
static int sample_head(struct metrics_writer *w, const char *suffix, const char *const *labels)
{
	if (!w->family_ok) {
		w->errors++;
		return -ENOENT;
	}
	if (suffix && !metric_name_ok(suffix, true)) {
		w->errors++;
		return -EINVAL;
	}
	for (size_t i = 0; labels && labels[i]; i += 2) {
		if (!metric_name_ok(labels[i], false) || strncmp(labels[i], "__", 2) == 0) {
			w->errors++;
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j += 2) {
			if (strcmp(labels[i], labels[j]) == 0) {
				w->errors++;
				return -EINVAL;
			}
		}
	}
	buf_printf(w->out, "%s%s", w->family, suffix ? suffix : "");
	if (labels && labels[0]) {
		buf_append(w->out, "{", 1);
		for (size_t i = 0; labels[i]; i += 2) {
			buf_printf(w->out, "%s%s=\"", i ? "," : "", labels[i]);
			label_value_print(w->out, labels[i + 1]);
			buf_append(w->out, "\"", 1);
		}
		buf_append(w->out, "}", 1);
	}
	return 0;
}

int metrics_sample(struct metrics_writer *w, const char *suffix, double value,
		   const char *const *labels)
{
	int err = sample_head(w, suffix, labels);
	if (err)
		return err;
	if (isnan(value))
		buf_append_cstr(w->out, " NaN\n");
	else if (isinf(value))
		buf_append_cstr(w->out, value > 0 ? " +Inf\n" : " -Inf\n");
	else
		buf_printf(w->out, " %.17g\n", value);
	return 0;
}

int metrics_sample_u64(struct metrics_writer *w, const char *suffix, uint64_t value,
		       const char *const *labels)
{
	int err = sample_head(w, suffix, labels);
	if (err)
		return err;
	buf_printf(w->out, " %llu\n", (unsigned long long)value);
	return 0;
}
