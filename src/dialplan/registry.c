/*
 * The application registry: one table of what irisx can run (name, usage,
 * flags), shared by the XML loader, the executor and the other doors (ESL
 * sendmsg execute, REST). Names are FreeSWITCH's. The loader checks literal
 * arguments here, so a dialplan that says "sleep abc" or "hangup FOO" fails
 * at start rather than on the first call.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct dialplan_app apps[] = {
#define X(id, name, usage, flags, check) {name, usage, flags},
    DIALPLAN_APPS(X)
#undef X
};
_Static_assert(ARRAY_LEN(apps) == DIALPLAN__APP_COUNT, "application table out of step");

static int (*const checks[])(const char *data, char *why, size_t why_size) = {
#define X(id, name, usage, flags, check) check,
    DIALPLAN_APPS(X)
#undef X
};
_Static_assert(ARRAY_LEN(checks) == DIALPLAN__APP_COUNT, "check table out of step");

/* Applications other modules add at start-up (dialplan_app_register). Written
 * before any dialplan loads, read-only afterwards. */
static struct dialplan__extra extras[DIALPLAN_APPS_EXTRA_MAX];
static size_t extra_count;

int dialplan_app_register(const char *name, const char *usage, unsigned flags,
			  dialplan_app_run_cb run, void *arg)
{
	if (!name || !*name || !run)
		return -EINVAL;
	if (dialplan_app_find(name))
		return -EEXIST;
	if (extra_count == ARRAY_LEN(extras))
		return -ENOSPC;
	/* Inline would let it run while hunting, without a channel. */
	extras[extra_count] = (struct dialplan__extra){
	    .app = {name, usage ? usage : "", flags & ~(unsigned)DIALPLAN_APP_INLINE},
	    .run = run,
	    .arg = arg,
	};
	extra_count++;
	return 0;
}

const struct dialplan__extra *dialplan__app_extra(const struct dialplan_app *app)
{
	for (size_t i = 0; i < extra_count; i++)
		if (app == &extras[i].app)
			return &extras[i];
	return NULL;
}

const struct dialplan_app *dialplan_app_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ARRAY_LEN(apps); i++)
		if (strcmp(apps[i].name, name) == 0)
			return &apps[i];
	for (size_t i = 0; i < extra_count; i++)
		if (strcmp(extras[i].app.name, name) == 0)
			return &extras[i].app;
	return NULL;
}

void dialplan_app_each(void (*cb)(void *arg, const struct dialplan_app *app), void *arg)
{
	for (size_t i = 0; i < ARRAY_LEN(apps); i++)
		cb(arg, &apps[i]);
	for (size_t i = 0; i < extra_count; i++)
		cb(arg, &extras[i].app);
}

enum dialplan__app_id dialplan__app_id(const struct dialplan_app *app)
{
	if (app < apps || app >= apps + ARRAY_LEN(apps))
		return DIALPLAN__APP_COUNT; /* a registered one */
	return (enum dialplan__app_id)(app - apps);
}

int dialplan__app_check(const struct dialplan_app *app, const char *data, char *why,
			size_t why_size)
{
	enum dialplan__app_id id = dialplan__app_id(app);
	if (id == DIALPLAN__APP_COUNT)
		return 0;
	int (*check)(const char *, char *, size_t) = checks[id];
	return check ? check(data, why, why_size) : 0;
}

int dialplan__check_nonempty(const char *data, char *why, size_t why_size)
{
	if (str_trim(str_from_cstr(data)).len)
		return 0;
	snprintf(why, why_size, "needs an argument");
	return -EINVAL;
}

int dialplan__check_set(const char *data, char *why, size_t why_size)
{
	struct str s = str_trim(str_from_cstr(data));
	ptrdiff_t eq = str_find_char(s, '=');
	if (s.len && eq != 0)
		return 0;
	snprintf(why, why_size, "needs a variable name (name=value)");
	return -EINVAL;
}

int dialplan__check_hangup(const char *data, char *why, size_t why_size)
{
	enum core_cause c;
	if (dialplan__parse_cause(data, &c) == 0)
		return 0;
	snprintf(why, why_size,
		 "'%s' is not a hangup cause (a name such as USER_BUSY or a Q.850 number)", data);
	return -EINVAL;
}

int dialplan__check_respond(const char *data, char *why, size_t why_size)
{
	uint16_t status;
	struct str reason;
	if (dialplan__parse_respond(data, &status, &reason) == 0 &&
	    (status == 180 || status == 183 || status >= 300))
		return 0;
	snprintf(why, why_size, "'%s' is not a status irisx can respond with (180, 183 or 300-699)",
		 data);
	return -EINVAL;
}

int dialplan__check_sleep(const char *data, char *why, size_t why_size)
{
	uint32_t ms;
	if (dialplan__parse_ms(data, &ms) == 0)
		return 0;
	snprintf(why, why_size, "'%s' is not a number of milliseconds", data);
	return -EINVAL;
}

int dialplan__inline_run(const struct dialplan_app *app, const struct dialplan_vars *vars,
			 const char *data, const char *prefix)
{
	switch (dialplan__app_id(app)) {
	case DIALPLAN__APP_SET:
		return dialplan__var_set(vars, data);
	case DIALPLAN__APP_EXPORT:
		return dialplan__var_export(vars, data);
	case DIALPLAN__APP_UNSET:
		return dialplan__var_unset(vars, data);
	case DIALPLAN__APP_LOG:
		dialplan__log(prefix, data);
		return 0;
	default:
		return -ENOTSUP; /* the loader lets only the above run inline */
	}
}
