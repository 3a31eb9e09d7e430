/*
 * Arguments of the applications, parsed as FreeSWITCH reads them, and the
 * applications that only touch variables (set, export, unset, log): these
 * run on a channel's variables or, inline, on whatever a hunt reads, so they
 * take a struct dialplan_vars rather than a channel.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "dialplan"

int dialplan__parse_ms(const char *s, uint32_t *ms)
{
	return str_to_u32(str_trim(str_from_cstr(s)), ms);
}

int dialplan__parse_cause(const char *s, enum core_cause *cause)
{
	struct str t = str_trim(str_from_cstr(s));
	char name[64];

	if (t.len == 0) {
		*cause = CAUSE_NORMAL_CLEARING;
		return 0;
	}
	if (str_copy_cstr(t, name, sizeof(name)) != 0)
		return -EINVAL;
	return core_cause_parse(name, cause);
}

int dialplan__parse_respond(const char *s, uint16_t *status, struct str *reason)
{
	struct str t = str_trim(str_from_cstr(s));
	size_t digits = 0;
	uint32_t v;

	while (digits < t.len && t.p[digits] >= '0' && t.p[digits] <= '9')
		digits++;
	if (digits != 3 || (digits < t.len && t.p[digits] != ' ' && t.p[digits] != '\t'))
		return -EINVAL;
	if (str_to_u32(str_make(t.p, 3), &v) != 0 || v < 100 || v > 699)
		return -EINVAL;
	*status = (uint16_t)v;
	*reason = str_trim(str_make(t.p + 3, t.len - 3));
	return 0;
}

void dialplan__parse_speak(const char *s, struct str *engine, struct str *voice, struct str *text)
{
	struct str all = str_from_cstr(s);
	ptrdiff_t a = str_find_char(all, '|');

	*engine = *voice = STR_NULL;
	if (a < 0) {
		*text = all;
		return;
	}
	struct str rest = str_make(all.p + a + 1, all.len - (size_t)a - 1);
	ptrdiff_t b = str_find_char(rest, '|');
	if (b < 0) {
		/* two parts: voice|text */
		*voice = str_trim(str_make(all.p, (size_t)a));
		*text = rest;
		return;
	}
	*engine = str_trim(str_make(all.p, (size_t)a));
	*voice = str_trim(str_make(rest.p, (size_t)b));
	*text = str_make(rest.p + b + 1, rest.len - (size_t)b - 1);
}

static const struct {
	const char *name;
	enum log_level level;
} log_levels[] = {
    {"console", LOG_NOTICE}, {"alert", LOG_ERR}, {"crit", LOG_ERR},
    {"err", LOG_ERR},	     {"error", LOG_ERR}, {"warning", LOG_WARNING},
    {"notice", LOG_NOTICE},  {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

void dialplan__parse_log(const char *s, enum log_level *level, const char **msg)
{
	size_t n = strcspn(s, " \t");

	*level = LOG_DEBUG;
	*msg = s;
	for (size_t i = 0; i < ARRAY_LEN(log_levels); i++) {
		if (strlen(log_levels[i].name) == n && strncasecmp(log_levels[i].name, s, n) == 0) {
			*level = log_levels[i].level;
			*msg = s + n + strspn(s + n, " \t");
			return;
		}
	}
}

void dialplan__log(const char *prefix, const char *data)
{
	enum log_level level;
	const char *msg;

	dialplan__parse_log(data ? data : "", &level, &msg);
	if (log_enabled(level))
		log_write(level, LOG_MODULE, "%s%s%s", prefix ? prefix : "", prefix ? " " : "",
			  msg);
}

/* Splits "name=value" into a heap copy of the name and the value (NULL when
 * there is none or it is empty: FreeSWITCH unsets then). */
static int split_assignment(const char *data, char **name, const char **value)
{
	const char *eq = strchr(data, '=');
	size_t len = eq ? (size_t)(eq - data) : strlen(data);

	if (len == 0)
		return -EINVAL;
	*name = strndup(data, len);
	if (!*name)
		return -ENOMEM;
	*value = eq && eq[1] ? eq + 1 : NULL;
	return 0;
}

static int var_write(const struct dialplan_vars *vars, const char *name, const char *value)
{
	if (!vars || !vars->set_cb)
		return -ENOTSUP;
	return vars->set_cb(vars->arg, name, value);
}

int dialplan__var_set(const struct dialplan_vars *vars, const char *data)
{
	char *name;
	const char *value;
	int rc = split_assignment(data ? data : "", &name, &value);

	if (rc)
		return rc;
	rc = var_write(vars, name, value);
	free(name);
	return rc;
}

/* Whether the comma-separated `list` holds `name`. */
static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/*
 * As set, and the name joins export_vars so the other leg of a bridge gets
 * it. A "nolocal:" name is kept under that name here (FreeSWITCH's way of
 * saying "only for the other leg"); the bridge strips the prefix.
 */
int dialplan__var_export(const struct dialplan_vars *vars, const char *data)
{
	char *name;
	const char *value;
	int rc = split_assignment(data ? data : "", &name, &value);

	if (rc)
		return rc;
	rc = var_write(vars, name, value);
	if (rc == 0 && value) {
		const char *list = vars->get_cb ? vars->get_cb(vars->arg, "export_vars") : NULL;
		if (!list || !*list) {
			rc = var_write(vars, "export_vars", name);
		} else if (!list_has(list, name)) {
			struct buf b;
			buf_init(&b);
			buf_printf(&b, "%s,%s", list, name);
			rc = b.failed ? -ENOMEM : var_write(vars, "export_vars", b.p);
			buf_fini(&b);
		}
	}
	free(name);
	return rc;
}

int dialplan__var_unset(const struct dialplan_vars *vars, const char *data)
{
	struct str t = str_trim(str_from_cstr(data));
	if (t.len == 0)
		return -EINVAL;
	char *name = strndup(t.p, t.len);
	if (!name)
		return -ENOMEM;
	int rc = var_write(vars, name, NULL);
	free(name);
	return rc;
}
