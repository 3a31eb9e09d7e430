/*
 * The dialplan's API commands, FreeSWITCH's syntax and replies:
 *  - eval [uuid:<uuid> ]<expression>: ${var} expansion against the globals,
 *    or a channel's variables (then the globals);
 *  - uuid_transfer <uuid> [-bleg|-both] <dest> [<dialplan>] [<context>]:
 *    re-routes a live channel (dialplan_transfer). irisx has no bridged
 *    legs yet: -bleg finds none, -both is the channel itself.
 * Registered in the core's command registry by dialplan_create.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

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

/* The dialplan uuid_transfer hunts with. Core commands carry no argument
 * and one dialplan routes a process's calls: set and cleared on its loop. */
static struct dialplan *g_transfer_dp;

/* The next blank-separated word of *p into w (NUL-terminated); false at the end. */
static bool word_next(const char **p, char *w, size_t size)
{
	const char *s = *p + strspn(*p, " \t");
	size_t n = strcspn(s, " \t");
	if (n == 0 || n >= size)
		return false;
	memcpy(w, s, n);
	w[n] = '\0';
	*p = s + n;
	return true;
}

static void cmd_uuid_transfer(struct core *core, const char *args, struct buf *out)
{
	char uuid[UUID_STRLEN + 1], dest[256], a[128], b[128];
	const char *p = args;
	if (!word_next(&p, uuid, sizeof(uuid)) || !word_next(&p, dest, sizeof(dest))) {
		buf_append_cstr(out, "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] "
				     "[<context>]\n");
		return;
	}
	struct channel *ch = core_channel_find(core, uuid);
	if (!ch) {
		buf_append_cstr(out, "-ERR No such channel!\n");
		return;
	}
	if (strcmp(dest, "-bleg") == 0) {
		buf_append_cstr(out, "-ERR no B-leg to transfer\n");
		return;
	}
	if (strcmp(dest, "-both") == 0 && !word_next(&p, dest, sizeof(dest))) {
		buf_append_cstr(out, "-ERR missing destination\n");
		return;
	}
	bool have_a = word_next(&p, a, sizeof(a));
	bool have_b = have_a && word_next(&p, b, sizeof(b));
	/* "<dest> <dialplan> <context>", or "<dest> <context>" when the one word
	 * is not a dialplan name, as FreeSWITCH reads it. */
	const char *dialplan = have_b ? a : (have_a && strcasecmp(a, "XML") == 0) ? a : NULL;
	const char *context = have_b ? b : (have_a && !dialplan) ? a : NULL;
	if (dialplan && strcasecmp(dialplan, "XML") != 0) {
		buf_printf(out, "-ERR dialplan %s is not supported (XML only)\n", dialplan);
		return;
	}
	if (!g_transfer_dp) {
		buf_append_cstr(out, "-ERR no dialplan\n");
		return;
	}
	int rc = dialplan_transfer(g_transfer_dp, ch, dest, context);
	if (rc == 0)
		buf_append_cstr(out, "+OK\n");
	else
		buf_printf(out, "-ERR transfer failed: %s\n",
			   rc == -ENOENT  ? "no route"
			   : rc == -ESRCH ? "no such context or channel gone"
					  : strerror(-rc));
}

void dialplan__commands_register(struct core *core, struct dialplan *dp)
{
	int rc = core_command_register(core, "eval", "[uuid:<uuid> ]<expression>",
				       "expand ${variables}", cmd_eval);
	if (rc && rc != -EEXIST)
		log_warn("cannot register eval: %s", strerror(-rc));
	rc = core_command_register(core, "uuid_transfer",
				   "<uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]",
				   "transfer a channel to another extension", cmd_uuid_transfer);
	if (rc && rc != -EEXIST)
		log_warn("cannot register uuid_transfer: %s", strerror(-rc));
	g_transfer_dp = dp;
}

void dialplan__commands_unregister(struct dialplan *dp)
{
	if (g_transfer_dp == dp)
		g_transfer_dp = NULL;
}
