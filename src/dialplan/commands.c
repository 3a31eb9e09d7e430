/*
 * The dialplan's API commands: eval (${var} expansion against the globals,
 * or a channel's variables with "uuid:<uuid> " first, as FreeSWITCH's).
 * Registered in the core's command registry by dialplan_create.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <string.h>

#define LOG_MODULE "dialplan"

struct eval_vars {
	struct core *core;
	struct channel *ch; /* NULL: globals only */
};

static const char *eval_get(void *arg, const char *name)
{
	struct eval_vars *ev = arg;
	const char *v = ev->ch ? channel_var(ev->ch, name) : NULL;
	if (v)
		return v;
	if (ev->ch && strcmp(name, "ani") == 0)
		return ev->ch->caller_id_number;
	return core_global_var(ev->core, name);
}

static void cmd_eval(struct core *core, const char *args, struct buf *out)
{
	struct eval_vars ev = {.core = core};
	struct dialplan_vars vars = {.get_cb = eval_get, .arg = &ev};
	const char *expr = args;

	if (strncmp(args, "uuid:", 5) == 0) {
		char uuid[UUID_STRLEN + 1];
		const char *p = args + 5;
		size_t n = strcspn(p, " \t");
		if (n == 0 || n > UUID_STRLEN) {
			buf_append_cstr(out, "-ERR invalid uuid\n");
			return;
		}
		memcpy(uuid, p, n);
		uuid[n] = '\0';
		if (!(ev.ch = core_channel_find(core, uuid))) {
			buf_printf(out, "-ERR no such channel %s\n", uuid);
			return;
		}
		expr = p + n;
		expr += strspn(expr, " \t");
	}
	int rc = dialplan_expand(str_from_cstr(expr), NULL, &vars, out);
	if (rc == -ENOMEM)
		buf_append_cstr(out, "-ERR out of memory\n");
}

void dialplan__commands_register(struct core *core)
{
	int rc = core_command_register(core, "eval", "[uuid:<uuid> ]<expression>",
				       "expand ${variables}", cmd_eval);
	if (rc && rc != -EEXIST)
		log_warn("cannot register eval: %s", strerror(-rc));
}
