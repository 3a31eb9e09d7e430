/*
 * The dialplan's API commands, FreeSWITCH's syntax and replies:
 *  - eval [uuid:<uuid> ]<expression>: ${var} expansion against the globals,
 *    or a channel's variables (then the globals);
 *  - uuid_transfer <uuid> [-bleg|-both] <dest> [<dialplan>] [<context>]:
 *    re-routes a live channel (dialplan_transfer); -bleg is the channel it
 *    is bridged to, -both the two of them (or the one when not bridged);
 *  - uuid_bridge <uuid> <other_uuid>: takes both out of their dialplan
 *    (or park) and bridges them;
 *  - originate <call url> <exten>|&app(args) […]: asynchronous, it replies
 *    "+OK <uuid>" once the leg answered and was handed its application or
 *    its extension, "-ERR <CAUSE>" when the call failed.
 * Registered in the core's command registry by dialplan_create.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
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
	struct channel *also = NULL; /* -both: the other leg too */
	bool bleg = strcmp(dest, "-bleg") == 0, both = strcmp(dest, "-both") == 0;
	if ((bleg || both) && !word_next(&p, dest, sizeof(dest))) {
		buf_append_cstr(out, "-ERR missing destination\n");
		return;
	}
	if (bleg) {
		if (!(ch = channel_bridged(ch))) {
			buf_append_cstr(out, "-ERR no B-leg to transfer\n");
			return;
		}
	} else if (both) {
		also = channel_bridged(ch); /* none: the channel alone */
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
	/* A leg leaving for the dialplan leaves its bridge. */
	channel_unbridge(ch);
	int rc = dialplan_transfer(g_transfer_dp, ch, dest, context);
	if (rc == 0 && also)
		rc = dialplan_transfer(g_transfer_dp, also, dest, context);
	if (rc == 0)
		buf_append_cstr(out, "+OK\n");
	else
		buf_printf(out, "-ERR transfer failed: %s\n",
			   rc == -ENOENT  ? "no route"
			   : rc == -ESRCH ? "no such context or channel gone"
					  : strerror(-rc));
}

/* ---- uuid_bridge ---- */

/* A leg without media yet gets it as FreeSWITCH's uuid_bridge gives it: an
 * inbound call is answered when the other leg is, pre-answered otherwise. */
static int media_for_bridge(struct channel *leg, const struct channel *other)
{
	if (channel_answered(leg) || leg->direction != CHANNEL_INBOUND)
		return 0; /* channel_bridge says -EPROTO when it has none */
	return channel_answered(other) ? channel_answer(leg) : channel_pre_answer(leg);
}

/* The two legs uuid_bridge took out of their dialplans. */
struct uuid_bridge_legs {
	struct dialplan__bleg a, b;
};

/* The bridge uuid_bridge made ended on its A leg: B hung up (0), so A follows
 * with B's cause unless it parks; stopped while both are up (-ECANCELED: a
 * leg transferred, unbridged): the legs that were not routed or bridged
 * again have nothing left to do either. */
static void uuid_bridge_done(struct channel *a, void *arg, int status)
{
	const struct uuid_bridge_legs *legs = arg;
	if (!channel_up(a))
		return; /* B followed A already */
	if (status != 0) {
		dialplan__bleg_release(a->core, &legs->b);
		dialplan__bleg_release(a->core, &legs->a);
		return;
	}
	const char *pab = channel_var(a, "park_after_bridge");
	if (pab && config_is_true(pab)) {
		channel_park(a);
		return;
	}
	enum core_cause cause = CAUSE_NORMAL_CLEARING;
	const char *bc = channel_var(a, "bridge_hangup_cause");
	if (bc && core_cause_parse(bc, &cause) != 0)
		cause = CAUSE_NORMAL_CLEARING;
	channel_hangup(a, cause);
}

static void cmd_uuid_bridge(struct core *core, const char *args, struct buf *out)
{
	char ua[UUID_STRLEN + 1], ub[UUID_STRLEN + 1];
	const char *p = args;
	if (!word_next(&p, ua, sizeof(ua)) || !word_next(&p, ub, sizeof(ub))) {
		buf_append_cstr(out, "-USAGE: <uuid> <other_uuid>\n");
		return;
	}
	struct channel *a = core_channel_find(core, ua), *b = core_channel_find(core, ub);
	if (!a || !b || a == b || !channel_up(a) || !channel_up(b)) {
		buf_append_cstr(out, "-ERR Invalid uuid\n");
		return;
	}
	/* Bridged elsewhere: that bridge ends first (its owner sees -ECANCELED). */
	channel_unbridge(a);
	channel_unbridge(b);
	int rc = media_for_bridge(a, b);
	if (!rc)
		rc = media_for_bridge(b, a);
	struct uuid_bridge_legs *bl = rc ? NULL : arena_alloc(&a->arena, sizeof(*bl));
	if (!rc && !bl)
		rc = -ENOMEM;
	if (!rc)
		rc = channel_bridge(a, b, uuid_bridge_done, bl);
	if (rc) {
		buf_printf(out, "-ERR %s\n",
			   rc == -EPROTO ? "Cannot bridge a channel without media" : strerror(-rc));
		return;
	}
	/* Both leave their dialplan (or park) for good: what they ran is over,
	 * and its completion, queued by the bridge, is ignored. */
	dialplan__exec_leave(a);
	dialplan__exec_leave(b);
	dialplan__bleg_note(&bl->a, a);
	dialplan__bleg_note(&bl->b, b);
	buf_printf(out, "+OK %s\n", b->uuid);
}

/* ---- originate ---- */

#define ORIGINATE_USAGE                                                                            \
	"<call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "             \
	"[<cid_name>] [<cid_num>] [<timeout_sec>]"

enum { ORIGINATE_ARGS = 7 };

/* What to do with the leg once it answers. */
struct originate_job {
	struct core_reply *reply;
	char *app, *app_args; /* "&app(args)" */
	char *exten, *context;
};

static void originate_job_free(struct originate_job *j)
{
	free(j->app);
	free(j->app_args);
	free(j->exten);
	free(j->context);
	free(j);
}

/* &app's leg hangs up when its one application ends, as FreeSWITCH's does. */
static void originate_app_done(struct channel *ch, void *arg, int status)
{
	if (channel_up(ch))
		channel_hangup(ch, CAUSE_NORMAL_CLEARING);
}

static void originate_done_cb(void *arg, struct channel *ch, enum core_cause cause)
{
	struct originate_job *j = arg;
	struct buf *out = core_reply_buf(j->reply);
	if (!ch) {
		buf_printf(
		    out, "-ERR %s\n",
		    core_cause_name(cause != CAUSE_NONE ? cause : CAUSE_NORMAL_TEMPORARY_FAILURE));
		core_reply_done(j->reply);
		originate_job_free(j);
		return;
	}
	buf_printf(out, "+OK %s\n", ch->uuid);
	core_reply_done(j->reply);
	if (!g_transfer_dp) {
		channel_hangup(ch, CAUSE_NORMAL_TEMPORARY_FAILURE);
	} else if (j->app) {
		int rc =
		    dialplan_app_execute(g_transfer_dp, ch, j->app, j->app_args ? j->app_args : "",
					 originate_app_done, NULL);
		if (rc == DIALPLAN_APP_DONE || rc < 0) {
			if (rc < 0)
				log_warn("%s originate &%s: %s", ch->uuid, j->app, strerror(-rc));
			originate_app_done(ch, NULL, rc);
		}
	} else {
		/* Into the dialplan, as a transfer of the answered leg. */
		dialplan_transfer(g_transfer_dp, ch, j->exten, j->context);
	}
	originate_job_free(j);
}

/* "&app(args)" or "&app" into the job. */
static int originate_app_parse(struct originate_job *j, const char *word)
{
	const char *name = word + 1, *open = strchr(name, '(');
	size_t nl = open ? (size_t)(open - name) : strlen(name);
	if (nl == 0)
		return -EINVAL;
	if (open) {
		size_t al = strlen(open + 1);
		if (al == 0 || open[al] != ')')
			return -EINVAL;
		j->app_args = strndup(open + 1, al - 1);
	}
	j->app = strndup(name, nl);
	if (!j->app || (open && !j->app_args))
		return -ENOMEM;
	return dialplan_app_find(j->app) ? 0 : -ENOENT;
}

static void cmd_originate(struct core *core, const char *args, struct core_reply *r)
{
	char tmp[4096], *argv[ORIGINATE_ARGS];
	struct buf *out = core_reply_buf(r);
	int n = dialplan__originate_split(args, tmp, sizeof(tmp), argv, ORIGINATE_ARGS);
	if (n < 2) {
		buf_append_cstr(out, "-USAGE: " ORIGINATE_USAGE "\n");
		core_reply_done(r);
		return;
	}
	/* FreeSWITCH's "undef" (and an empty word) leave an argument unset. */
	for (int i = 2; i < n; i++)
		if (!*argv[i] || strcmp(argv[i], "undef") == 0)
			argv[i] = NULL;
	const char *dialplan = n > 2 ? argv[2] : NULL, *context = n > 3 ? argv[3] : NULL;
	const char *timeout = n > 6 ? argv[6] : NULL;
	uint32_t secs;
	if (timeout && (str_to_u32(str_from_cstr(timeout), &secs) != 0 || secs == 0)) {
		buf_printf(out, "-ERR invalid timeout '%s'\n", timeout);
		core_reply_done(r);
		return;
	}
	struct originate_job *j = calloc(1, sizeof(*j));
	if (!j) {
		buf_append_cstr(out, "-ERR out of memory\n");
		core_reply_done(r);
		return;
	}
	j->reply = r;
	int rc = 0;
	if (argv[1][0] == '&') {
		rc = originate_app_parse(j, argv[1]);
	} else if (dialplan && strcasecmp(dialplan, "XML") != 0) {
		buf_printf(out, "-ERR dialplan %s is not supported (XML only)\n", dialplan);
		originate_job_free(j);
		core_reply_done(r);
		return;
	} else {
		j->exten = strdup(argv[1]);
		j->context = strdup(context ? context : "default");
		rc = j->exten && j->context ? 0 : -ENOMEM;
	}
	if (rc) {
		if (rc == -ENOENT)
			buf_printf(out, "-ERR no such application %s\n", j->app);
		else
			buf_printf(out, "-ERR %s\n",
				   rc == -EINVAL ? "invalid application (&app(args))"
						 : strerror(-rc));
		originate_job_free(j);
		core_reply_done(r);
		return;
	}
	struct buf dial;
	char err[256] = "";
	struct core_originate *o;
	buf_init(&dial);
	rc = dialplan__originate_dial(&dial, argv[0], n > 4 ? argv[4] : NULL,
				      n > 5 ? argv[5] : NULL, timeout);
	if (rc)
		snprintf(err, sizeof(err), "a {^^X} separator that cannot take the caller ID");
	struct core_originate_cbs cbs = {.done_cb = originate_done_cb, .arg = j};
	if (!rc)
		rc = dial.failed ? -ENOMEM
				 : core_originate(&o, core, dial.p ? dial.p : "", NULL, &cbs, err,
						  sizeof(err));
	buf_fini(&dial);
	if (rc) {
		log_notice("originate %s: %s", argv[0], err[0] ? err : strerror(-rc));
		buf_append_cstr(out, rc == -EINVAL ? "-ERR INVALID_URL\n" : "-ERR out of memory\n");
		originate_job_free(j);
		core_reply_done(r);
	}
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
	rc = core_command_register(core, "uuid_bridge", "<uuid> <other_uuid>", "Bridge call legs",
				   cmd_uuid_bridge);
	if (rc && rc != -EEXIST)
		log_warn("cannot register uuid_bridge: %s", strerror(-rc));
	rc = core_command_register_async(core, "originate", ORIGINATE_USAGE, "Originate a call",
					 cmd_originate);
	if (rc && rc != -EEXIST)
		log_warn("cannot register originate: %s", strerror(-rc));
	g_transfer_dp = dp;
}

void dialplan__commands_unregister(struct dialplan *dp)
{
	if (g_transfer_dp == dp)
		g_transfer_dp = NULL;
}
