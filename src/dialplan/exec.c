/*
 * The router and the executor: the core hands every channel that reaches
 * CS_ROUTING to route_cb, which hunts the channel's context and runs the
 * route on the channel, one application at a time (DESIGN.md principle 2).
 *
 * An application either finishes at once (the next one runs in the same
 * turn) or is pending: the executor returns to the loop and resumes from the
 * application's channel_done_cb. When the channel hangs up the executor
 * stops where it is; its state is freed by channel_execute's free_cb when
 * the channel is destroyed, never earlier, so a late done callback still
 * finds it. When the actions run out, channel_execute_done().
 *
 * Reload swaps the loaded dialplan; a route holds a reference to the one it
 * came from, so calls in progress are untouched.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "dialplan"

struct dialplan {
	struct core *core;
	struct dialplan_xml *xml; /* the running dialplan (one reference) */
};

/* A channel's variables as hunting and expansion read them: the channel's
 * own, FreeSWITCH's caller fields, then the globals. */
#define chan_vars dialplan__chan_vars

static const char *chan_get(void *arg, const char *name)
{
	struct chan_vars *cv = arg;
	const char *v = channel_var(cv->ch, name);
	if (v)
		return v;
	if (strcmp(name, "ani") == 0)
		return cv->ch->caller_id_number;
	return core_global_var(cv->dp->core, name);
}

static int chan_set(void *arg, const char *name, const char *value)
{
	struct chan_vars *cv = arg;
	return channel_var_set(cv->ch, name, value);
}

static void chan_vars_init(struct chan_vars *cv, struct dialplan_vars *vars, struct dialplan *dp,
			   struct channel *ch)
{
	cv->dp = dp;
	cv->ch = ch;
	*vars = (struct dialplan_vars){.get_cb = chan_get, .set_cb = chan_set, .arg = cv};
}

void dialplan__chan_vars_init(struct dialplan__chan_vars *cv, struct dialplan_vars *vars,
			      struct dialplan *dp, struct channel *ch)
{
	chan_vars_init(cv, vars, dp, ch);
}

struct dialplan *dialplan__vars_dialplan(const struct dialplan_vars *vars)
{
	return vars && vars->get_cb == chan_get ? ((struct chan_vars *)vars->arg)->dp : NULL;
}

struct dialplan_xml *dialplan__running_xml(const struct dialplan *dp)
{
	return dp->xml;
}

/* ---- CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE ---- */

/* The application being run, for its two events (FreeSWITCH's headers). */
struct exec_app {
	const char *name;
	const char *data; /* the caller's copy, alive until the completion */
	char uuid[UUID_STRLEN];
	const char *response;
};

static void exec_event_extra(void *arg, struct core_event *ev)
{
	const struct exec_app *x = arg;
	core_event_add_header(ev, "Application", "%s", x->name);
	core_event_add_header(ev, "Application-Data", "%s", x->data ? x->data : "");
	if (x->response)
		core_event_add_header(ev, "Application-Response", "%s", x->response);
	core_event_add_header(ev, "Application-UUID", "%s", x->uuid);
}

static void exec_app_begin(struct exec_app *x, struct channel *ch, const char *name,
			   const char *data)
{
	x->name = name;
	x->data = data;
	x->response = NULL;
	/* ESL sendmsg's Event-UUID names the execution, as FreeSWITCH's app_uuid. */
	const char *given = channel_var(ch, "app_uuid");
	if (given && *given && strlen(given) < sizeof(x->uuid)) {
		memcpy(x->uuid, given, strlen(given) + 1);
		channel_var_set(ch, "app_uuid", NULL);
	} else {
		uuid_generate(x->uuid);
	}
	channel_var_set(ch, "current_application", name);
	channel_var_set(ch, "current_application_data", data);
	channel_event_fire(ch, "CHANNEL_EXECUTE", exec_event_extra, x);
}

static void exec_app_end(struct exec_app *x, struct channel *ch, int status)
{
	x->response = status < 0 && status != -ECANCELED ? strerror(-status) : "_none_";
	channel_event_fire(ch, "CHANNEL_EXECUTE_COMPLETE", exec_event_extra, x);
}

/* dialplan_app_execute's applications: the caller's callback after the event.
 * In the channel's arena: a callback dropped at hangup leaks nothing. */
struct exec_wrap {
	struct exec_app x;
	channel_done_cb cb;
	void *arg;
};

static void exec_wrap_done(struct channel *ch, void *arg, int status)
{
	struct exec_wrap *w = arg;
	channel_done_cb cb = w->cb;
	void *cb_arg = w->arg;
	exec_app_end(&w->x, ch, status);
	if (cb)
		cb(ch, cb_arg, status);
}

/* ---- the executor ---- */

struct exec {
	struct chan_vars cv;
	struct dialplan_vars vars;
	struct dialplan_route *route; /* owned */
	size_t next;		      /* the next action to run */
	unsigned gen;		      /* bumped by a transfer: older completions are stale */
	bool pending;		      /* waiting for a done callback */
	bool running;		      /* inside dialplan__app_run (a transfer app) */
	struct exec_app app;	      /* the one running */
	char *data;		      /* its expanded data (heap) */
};

static void exec_free(void *state)
{
	struct exec *e = state;
	dialplan_route_destroy(e->route);
	free(e->data);
	free(e);
}

static void exec_run(struct exec *e);

/* What a pending application's callback gets: which executor generation it
 * belongs to. In the channel's arena, so a late callback finds it. */
struct exec_token {
	struct exec *e;
	unsigned gen;
};

static void exec_done(struct channel *ch, void *arg, int status)
{
	struct exec_token *t = arg;
	struct exec *e = t->e;
	if (t->gen != e->gen)
		return; /* an application the transfer interrupted: already completed */
	const struct dialplan_action *a = &e->route->actions[e->next - 1];

	if (!e->pending) {
		log_warn("%s %s: a second completion (ignored)", ch->uuid, a->app->name);
		return;
	}
	e->pending = false;
	if (status < 0 && status != -ECANCELED)
		log_warn("%s %s failed: %s", ch->uuid, a->app->name, strerror(-status));
	exec_app_end(&e->app, ch, status);
	exec_run(e);
}

static void exec_run(struct exec *e)
{
	struct channel *ch = e->cv.ch;
	struct buf data;

	buf_init(&data);
	while (e->next < e->route->count) {
		if (!channel_up(ch))
			goto out;
		const struct dialplan_action *a = &e->route->actions[e->next++];
		buf_reset(&data);
		int rc = dialplan_expand(str_from_cstr(a->data), a->captures, &e->vars, &data);
		if (rc == -ENOMEM) {
			log_err("%s out of memory expanding %s's data", ch->uuid, a->app->name);
			channel_hangup(ch, CAUSE_DESTINATION_OUT_OF_ORDER);
			goto out;
		}
		if (rc == -E2BIG)
			log_warn("%s %s:%u: %s's data expanded past %d bytes (cut)", ch->uuid,
				 a->file, a->line, a->app->name, DIALPLAN_EXPAND_MAX);
		const char *d = data.p ? data.p : "";
		log_info("EXECUTE [depth=0] %s %s(%s)", ch->uuid, a->app->name, d);
		free(e->data);
		e->data = strdup(d);
		exec_app_begin(&e->app, ch, a->app->name, e->data ? e->data : "");
		struct exec_token *t = arena_alloc(&ch->arena, sizeof(*t));
		if (!t) {
			channel_hangup(ch, CAUSE_DESTINATION_OUT_OF_ORDER);
			goto out;
		}
		t->e = e;
		t->gen = e->gen;
		e->running = true;
		rc = dialplan__app_run(ch, a->app, d, &e->vars, exec_done, t);
		e->running = false;
		if (t->gen != e->gen)
			goto out; /* the application transferred the channel: its route runs */
		if (rc == DIALPLAN_APP_PENDING) {
			e->pending = true;
			goto out;
		}
		exec_app_end(&e->app, ch, rc < 0 ? rc : 0);
		if (rc == DIALPLAN_APP_STOP)
			goto out;
		if (rc < 0)
			log_warn("%s %s:%u: %s(%s) failed: %s", ch->uuid, a->file, a->line,
				 a->app->name, d, strerror(-rc));
	}
	if (channel_up(ch))
		channel_execute_done(ch);
out:
	buf_fini(&data);
}

/* ---- the router ---- */

/* Hunts ch's context into *route: 0, or the hunt's error (logged). */
static int route_hunt(struct dialplan *dp, struct channel *ch, const struct dialplan_vars *vars,
		      struct dialplan_route **route)
{
	const char *context = ch->context && *ch->context ? ch->context : "default";
	log_info("%s processing %s <%s>->%s in context %s", ch->uuid,
		 ch->caller_id_name ? ch->caller_id_name : "",
		 ch->caller_id_number ? ch->caller_id_number : "",
		 ch->destination_number ? ch->destination_number : "", context);

	struct dialplan_hunt in = {
	    .context = context,
	    .vars = vars,
	    .now = (time_t)(clock_wall_us() / 1000000),
	    .log_prefix = ch->uuid,
	};
	int rc = dialplan_xml_hunt(dp->xml, &in, route);
	if (rc) {
		if (rc == -ESRCH)
			log_warn("%s context '%s' not found", ch->uuid, context);
		else if (rc == -ENOENT)
			log_notice("%s no route for '%s' in context %s", ch->uuid,
				   ch->destination_number ? ch->destination_number : "", context);
		else
			log_err("%s hunting failed: %s", ch->uuid, strerror(-rc));
	}
	return rc;
}

static void route_cb(void *arg, struct channel *ch)
{
	struct dialplan *dp = arg;
	struct exec *e = calloc(1, sizeof(*e));

	if (!e) {
		log_err("%s out of memory routing the call", ch->uuid);
		channel_hangup(ch, CAUSE_DESTINATION_OUT_OF_ORDER);
		return;
	}
	chan_vars_init(&e->cv, &e->vars, dp, ch);
	int rc = route_hunt(dp, ch, &e->vars, &e->route);
	if (rc) {
		free(e);
		channel_hangup(ch, rc == -ENOMEM ? CAUSE_DESTINATION_OUT_OF_ORDER
						 : CAUSE_NO_ROUTE_DESTINATION);
		return;
	}
	channel_execute(ch, e, exec_free);
	exec_run(e);
}

int dialplan_transfer(struct dialplan *dp, struct channel *ch, const char *dest,
		      const char *context)
{
	if (!dp || !ch || !dest || !*dest)
		return -EINVAL;
	if (!channel_up(ch))
		return -ESRCH;
	const char *d = arena_strdup(&ch->arena, dest);
	const char *c = context && *context ? arena_strdup(&ch->arena, context) : ch->context;
	if (!d || !c)
		return -ENOMEM;
	/* Ours when the channel was routed by a dialplan (parked ones too). */
	struct exec *e = ch->exec_free_cb == exec_free ? ch->exec_state : NULL;
	bool fresh = !e;
	if (fresh) {
		if (!(e = calloc(1, sizeof(*e))))
			return -ENOMEM;
		chan_vars_init(&e->cv, &e->vars, dp, ch);
	}
	log_notice("%s transfer to %s in context %s", ch->uuid, d, c);
	ch->destination_number = d;
	ch->context = c;
	struct dialplan_route *route;
	int rc = route_hunt(dp, ch, &e->vars, &route);
	if (rc) {
		if (fresh)
			free(e);
		/* As FreeSWITCH: a transfer to nowhere ends the call. */
		channel_hangup(ch, rc == -ENOMEM ? CAUSE_DESTINATION_OUT_OF_ORDER
						 : CAUSE_NO_ROUTE_DESTINATION);
		return rc;
	}
	if (!fresh) {
		/* The application running now ends here; its own completion, when
		 * it comes, belongs to the old generation and is ignored. */
		e->gen++;
		if (e->pending || e->running) {
			/* the transfer application completes as it hands over */
			exec_app_end(&e->app, ch, e->pending ? -ECANCELED : 0);
			e->pending = false;
			e->running = false;
		}
		dialplan_route_destroy(e->route);
	}
	/* What plays now (a sendmsg playback on a parked call too) stops. */
	channel_stop_media(ch);
	e->route = route;
	e->next = 0;
	channel_execute(ch, e, exec_free);
	exec_run(e);
	return 0;
}

int dialplan__exec_transfer(struct channel *ch, const char *dest, const char *context)
{
	struct exec *e = ch->exec_free_cb == exec_free ? ch->exec_state : NULL;
	if (!e)
		return -ESRCH;
	return dialplan_transfer(e->cv.dp, ch, dest, context);
}

void dialplan__exec_leave(struct channel *ch)
{
	struct exec *e = ch->exec_free_cb == exec_free ? ch->exec_state : NULL;
	if (!e)
		return;
	/* As a transfer does: the running application's own completion, when it
	 * comes, belongs to the old generation and is ignored. */
	e->gen++;
	if (e->pending) {
		e->pending = false;
		exec_app_end(&e->app, ch, -ECANCELED);
	}
	e->next = e->route->count;
}

void dialplan__exec_mark(const struct channel *ch, struct dialplan__exec_mark *m)
{
	const struct exec *e = ch->exec_free_cb == exec_free ? ch->exec_state : NULL;
	m->exec = e;
	m->gen = e ? e->gen : 0;
}

bool dialplan__exec_moved(const struct channel *ch, const struct dialplan__exec_mark *m)
{
	struct dialplan__exec_mark now;
	dialplan__exec_mark(ch, &now);
	return now.exec != m->exec || now.gen != m->gen;
}

static int reload_cb(void *arg, const struct config *cfg)
{
	char err[512];
	return dialplan_reload(arg, cfg, err, sizeof(err));
}

static void log_loaded(const struct dialplan_xml *x, const char *what)
{
	log_notice("dialplan %s: %zu contexts, %zu extensions, %zu regular expressions (%u "
		   "warnings)",
		   what, x->ctx_count, x->extension_count, x->code_count, x->warnings);
}

int dialplan_create(struct dialplan **out, struct core *core, const struct config *cfg, char *err,
		    size_t err_size)
{
	struct dialplan *dp;
	int rc;

	if (!out || !core || !cfg)
		return -EINVAL;
	if (!(dp = calloc(1, sizeof(*dp))))
		return -ENOMEM;
	dp->core = core;
	if ((rc = dialplan_xml_create(&dp->xml, cfg, err, err_size)) != 0) {
		free(dp);
		return rc;
	}
	log_loaded(dp->xml, "loaded");
	dialplan__commands_register(core, dp);
	core_set_router(core, &(struct core_router){
				  .route_cb = route_cb,
				  .reload_cb = reload_cb,
				  .arg = dp,
			      });
	*out = dp;
	return 0;
}

int dialplan_reload(struct dialplan *dp, const struct config *cfg, char *err, size_t err_size)
{
	struct dialplan_xml *x;
	int rc = dialplan_xml_create(&x, cfg, err, err_size);

	if (rc) {
		log_err("dialplan reload failed, the running dialplan stays: %s",
			err && err_size ? err : strerror(-rc));
		return rc;
	}
	dialplan_xml_unref(dp->xml);
	dp->xml = x;
	log_loaded(x, "reloaded");
	return 0;
}

void dialplan_destroy(struct dialplan *dp)
{
	if (!dp)
		return;
	dialplan__commands_unregister(dp);
	dialplan_xml_unref(dp->xml);
	free(dp);
}

int dialplan_app_execute(struct dialplan *dp, struct channel *ch, const char *name,
			 const char *data, channel_done_cb cb, void *arg)
{
	const struct dialplan_app *app = dialplan_app_find(name);
	struct chan_vars cv;
	struct dialplan_vars vars;
	struct buf buf;

	if (!dp || !ch)
		return -EINVAL;
	if (!app)
		return -ENOENT;
	chan_vars_init(&cv, &vars, dp, ch);
	buf_init(&buf);
	int rc = dialplan_expand(str_from_cstr(data), NULL, &vars, &buf);
	if (rc != -ENOMEM) {
		const char *d = buf.p ? buf.p : "";
		log_info("EXECUTE [depth=0] %s %s(%s)", ch->uuid, app->name, d);
		struct exec_wrap *w = arena_alloc(&ch->arena, sizeof(*w));
		const char *dcopy = arena_strdup(&ch->arena, d);
		if (!w || !dcopy) {
			buf_fini(&buf);
			return -ENOMEM;
		}
		w->cb = cb;
		w->arg = arg;
		exec_app_begin(&w->x, ch, app->name, dcopy);
		rc = dialplan__app_run(ch, app, d, &vars, exec_wrap_done, w);
		if (rc != DIALPLAN_APP_PENDING)
			exec_app_end(&w->x, ch, rc < 0 ? rc : 0);
	}
	buf_fini(&buf);
	return rc;
}
