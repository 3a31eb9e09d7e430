/*
 * dialplan — FreeSWITCH's XML dialplan for irisx.
 *
 *  - Loading: the configuration's <section name="dialplan"> (contexts,
 *    extensions, conditions, actions and anti-actions) is compiled once:
 *    every regular expression is compiled with PCRE2 (JIT when the CPU
 *    allows), every application name and literal argument checked, every
 *    time-of-day attribute parsed. Errors fail the load with
 *    "file:line: what is wrong"; what irisx does not support warns once with
 *    its file and line.
 *  - Hunting: a call's context is walked as FreeSWITCH's mod_dialplan_xml
 *    does (break modes, anti-actions, continue, inline actions, nested
 *    conditions, regex all/any/xor, time of day) into a route: the list of
 *    applications to run. Hunting reads variables through a callback, so it
 *    is pure and testable without channels.
 *  - Expansion: ${var} (nested ${a_${b}}, ${var:offset:length}) and $N regex
 *    captures, done once per action right before it runs, in a single pass:
 *    text a variable or a capture brings in is never expanded again.
 *  - Executing: the route runs on the channel one application at a time. An
 *    application finishes at once or is pending until its channel_done_cb;
 *    nothing blocks the loop (DESIGN.md principle 2).
 *  - One registry of applications, shared with the other doors (ESL
 *    sendmsg execute, REST) through dialplan_app_find/dialplan_app_execute.
 *
 * Threading: a loaded dialplan is immutable and reference counted; routes
 * hold a reference, so a reload never pulls strings from under a running
 * call. Everything else runs on the channel's loop.
 */
#ifndef IRISX_DIALPLAN_H
#define IRISX_DIALPLAN_H

#include <time.h>

#include "core/core.h"

/* ---- variables: how hunting and expansion read and write them ---- */

struct dialplan_vars {
	/*
	 * The value of a channel variable or caller field ("destination_number",
	 * "ani", …), or NULL when unset. The pointer need only stay valid until
	 * the next call through this struct.
	 */
	const char *(*get_cb)(void *arg, const char *name);
	/* Sets (value non-NULL) or unsets a variable; 0 or a negative errno.
	 * May be NULL: inline set/export/unset then fail. */
	int (*set_cb)(void *arg, const char *name, const char *value);
	void *arg;
};

/* ---- expansion ---- */

enum {
	DIALPLAN_CAPTURES_MAX = 10,	 /* $0 … $9 */
	DIALPLAN_EXPAND_MAX = 64 * 1024, /* bytes one expansion may produce */
	DIALPLAN_EXPAND_DEPTH_MAX = 16,	 /* ${a_${b_${c}}} nesting */
};

/* The groups of the regular expression that matched: $0 the whole match. */
struct dialplan_captures {
	struct str group[DIALPLAN_CAPTURES_MAX]; /* p NULL: the group did not take part */
	size_t count;				 /* groups the pattern has, $0 included */
};

/*
 * Appends `in` to `out` with:
 *   ${name}           the variable's value (vars->get_cb); unknown: nothing.
 *                     The name is expanded first, so ${a_${b}} and ${x_$1} work.
 *   ${name:off}       a substring from byte `off` (negative: from the end),
 *   ${name:off:len}   at most `len` bytes long.
 *   $N                capture N (all the digits are read, as FreeSWITCH does):
 *                     empty when the group did not match or does not exist;
 *                     left as written when `caps` is NULL (no regex applies).
 *   $$                one literal '$' ("$${x}" gives "${x}", "$$1" gives "$1").
 * Any other '$', and a "${" never closed, is copied as is.
 * Values and captures are inserted verbatim, never expanded again.
 * Returns 0, -E2BIG when the result would pass DIALPLAN_EXPAND_MAX (out then
 * holds the first DIALPLAN_EXPAND_MAX bytes), or -ENOMEM. `vars` may be NULL
 * (every variable is unknown).
 */
int dialplan_expand(struct str in, const struct dialplan_captures *caps,
		    const struct dialplan_vars *vars, struct buf *out);

/* ---- the application registry ---- */

enum dialplan_app_status {
	DIALPLAN_APP_DONE,    /* finished: the next action runs */
	DIALPLAN_APP_PENDING, /* running: the done callback fires once, later */
	DIALPLAN_APP_STOP,    /* the channel left the executor (hung up, parked) */
};

enum dialplan_app_flags {
	DIALPLAN_APP_INLINE = 1 << 0, /* may run while hunting (inline="true") */
};

struct dialplan_app {
	const char *name;  /* "playback" */
	const char *usage; /* "<file|tone_stream://…|silence_stream://ms>" */
	unsigned flags;	   /* enum dialplan_app_flags */
};

/* The application called `name` (exact, lower case as FreeSWITCH's), or NULL.
 * The pointer is to a static table. */
const struct dialplan_app *dialplan_app_find(const char *name);
/* Calls cb for every application, in name order. */
void dialplan_app_each(void (*cb)(void *arg, const struct dialplan_app *app), void *arg);

/*
 * Runs a registered application on ch with its data already expanded: a
 * dialplan_app_status or a negative errno, as the built-in ones. A pending
 * one calls cb(ch, cb_arg, status) once, never before it returns, and not
 * at all once the channel is destroyed. `arg` is the registration's.
 */
typedef int (*dialplan_app_run_cb)(void *arg, struct channel *ch, const char *data,
				   channel_done_cb cb, void *cb_arg);

enum { DIALPLAN_APPS_EXTRA_MAX = 8 };

/*
 * Adds an application that lives in another module (control's `socket`), so
 * the dialplan need not depend on it. `name` and `usage` are borrowed
 * (static strings). Call before any dialplan is loaded: the loader refuses
 * unknown names. One table per process, filled at start-up on the main
 * thread. Returns 0, -EEXIST (a name taken), -ENOSPC (table full) or
 * -EINVAL.
 */
int dialplan_app_register(const char *name, const char *usage, unsigned flags,
			  dialplan_app_run_cb run, void *arg);

/* ---- the loaded XML dialplan ---- */

struct dialplan_xml;

/*
 * Compiles config_document_section(cfg, "dialplan"). Nothing of cfg is kept:
 * cfg may be freed afterwards. A missing section loads as an empty dialplan
 * (with a warning). On failure returns a negative errno (-EINVAL: the
 * dialplan is wrong, -ENOMEM) and writes "file:line: message" into err.
 * The result has one reference.
 */
int dialplan_xml_create(struct dialplan_xml **out, const struct config *cfg, char *err,
			size_t err_size);
struct dialplan_xml *dialplan_xml_ref(struct dialplan_xml *x);
void dialplan_xml_unref(struct dialplan_xml *x);
/* Warnings logged while loading it. */
unsigned dialplan_xml_warning_count(const struct dialplan_xml *x);
/* Whether a context of that name exists. */
bool dialplan_xml_has_context(const struct dialplan_xml *x, const char *name);

/* One application of a route. Owned by its route. */
struct dialplan_action {
	const struct dialplan_app *app;
	const char *data;			  /* as written, before expansion */
	const struct dialplan_captures *captures; /* for $N in data, or NULL */
	const char *extension;			  /* the extension that added it */
	const char *file;			  /* where the action is written */
	unsigned line;
};

/* What a hunt found. Read-only for its users; destroy when done. */
struct dialplan_route {
	const struct dialplan_action *actions;
	size_t count;
	/* private */
	struct dialplan_xml *xml; /* a reference: data and names point into it */
	struct arena arena;	  /* captures */
	size_t cap;
};

struct dialplan_hunt {
	const char *context; /* NULL: "default" */
	const struct dialplan_vars *vars;
	time_t now;		/* wall clock, for time-of-day conditions */
	const char *log_prefix; /* put before hunting's debug lines (the uuid), or NULL */
};

/*
 * Hunts `in->context` and returns the route in *out. Inline actions run
 * during the hunt through in->vars. As FreeSWITCH, an unknown context falls
 * back to a context named "global" when there is one.
 * Returns 0, -ESRCH when the context does not exist, -ENOENT when hunting
 * found no action (no route), -ENOMEM.
 */
int dialplan_xml_hunt(struct dialplan_xml *x, const struct dialplan_hunt *in,
		      struct dialplan_route **out);
void dialplan_route_destroy(struct dialplan_route *r);

/* ---- the router: hunting and executing on real channels ---- */

struct dialplan;

/*
 * Loads the dialplan from cfg (as dialplan_xml_create) and registers it as
 * the core's router: every channel reaching CS_ROUTING is hunted in its
 * context and executed; no route hangs it up NO_ROUTE_DESTINATION. The
 * core's reload (SIGHUP) reloads the dialplan; a broken new one is logged
 * and the running one kept. Calls already executing keep the route they
 * were given.
 */
int dialplan_create(struct dialplan **out, struct core *core, const struct config *cfg, char *err,
		    size_t err_size);
/* Replaces the running dialplan with cfg's; on failure nothing changes. */
int dialplan_reload(struct dialplan *dp, const struct config *cfg, char *err, size_t err_size);
/* After core_destroy() (no channel may still be executing). */
void dialplan_destroy(struct dialplan *dp);

/*
 * Runs one application on `ch` — the door for ESL `sendmsg execute` and
 * REST. `data` is expanded against the channel first (${var}; $N is left
 * alone). Returns DIALPLAN_APP_DONE (cb will not run), DIALPLAN_APP_PENDING
 * (cb runs once, never before this returns), DIALPLAN_APP_STOP (the channel
 * hung up or parked; cb will not run), or a negative errno: -ENOENT unknown
 * application, -EINVAL bad data, or the error the application met.
 */
int dialplan_app_execute(struct dialplan *dp, struct channel *ch, const char *name,
			 const char *data, channel_done_cb cb, void *arg);

/*
 * Re-routes a live channel (uuid_transfer): its destination number becomes
 * `dest`, its context `context` (NULL or "": unchanged), the application
 * running now is stopped (CHANNEL_EXECUTE_COMPLETE, media stopped) and the
 * new route runs from its first action, parked channels included. A hunt
 * that finds nothing hangs the channel up NO_ROUTE_DESTINATION (as
 * FreeSWITCH) and returns its error (-ESRCH no context, -ENOENT no route).
 * -ESRCH when the channel is hung up already, -EINVAL, -ENOMEM.
 */
int dialplan_transfer(struct dialplan *dp, struct channel *ch, const char *dest,
		      const char *context);

#endif
