/*
 * The ivr application: runs a menu of ivr.conf (ivr_load.c) on a channel.
 *
 *   greet-long the first time a menu is entered, greet-short after that
 *   (barge-in: a digit stops it), then up to digit-len digits with the
 *   menu's timeout for the first and inter-digit-timeout between them.
 *   An entry whose digits match exactly runs: menu-exec-app runs the
 *   application (pending ones to their end) and the menu comes back;
 *   menu-sub enters another menu (its counters fresh), menu-back returns
 *   to the one before (leaves from the top menu), menu-top to the first,
 *   menu-exit leaves. No digits: a timeout; digits that match nothing: a
 *   failure (invalid-sound). max-timeouts or max-failures reached: the
 *   exit-sound plays and the application ends; the dialplan goes on.
 *
 * The menus belong to the loaded dialplan; a run holds a reference, so a
 * reload meanwhile changes nothing for calls in a menu. A stop from
 * outside (transfer, hangup: -ECANCELED) ends the run at once.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "dialplan"

enum { IVR_DEPTH_MAX = 16 };

struct ivr_run {
	struct dialplan_xml *xml; /* a reference */
	const struct dialplan__ivr_menu *stack[IVR_DEPTH_MAX];
	size_t depth;
	uint32_t failures, timeouts;
	bool greeted; /* the current menu's long greeting was played */
	struct channel_collect c;
	struct dialplan *dp; /* whose dialplan_app_execute runs menu-exec-app */
	channel_done_cb cb;
	void *arg;
};

static const struct dialplan__ivr_menu *menu(const struct ivr_run *r)
{
	return r->stack[r->depth - 1];
}

static void ivr_prompt(struct channel *ch, struct ivr_run *r);

static void ivr_finish(struct channel *ch, struct ivr_run *r, int status)
{
	channel_done_cb cb = r->cb;
	void *arg = r->arg;
	channel_dtmf_barge(ch, false);
	dialplan_xml_unref(r->xml);
	free(r);
	if (cb)
		cb(ch, arg, status);
}

/* The run goes on only when the step before ended by itself. */
static bool stopped(struct channel *ch, struct ivr_run *r, int status)
{
	channel_dtmf_barge(ch, false);
	if (status == -ECANCELED || !channel_up(ch)) {
		ivr_finish(ch, r, -ECANCELED);
		return true;
	}
	return false;
}

/* Plays file (barge-in when asked; skipped when empty, or when digits wait
 * and barge-in is allowed), then done. */
static void ivr_play(struct channel *ch, struct ivr_run *r, const char *file, bool barge,
		     channel_done_cb done)
{
	if (!*file || (barge && channel_dtmf_queued(ch) > 0)) {
		done(ch, r, 0);
		return;
	}
	channel_dtmf_barge(ch, barge);
	int err = channel_play(ch, file, done, r);
	if (err) {
		log_warn("%s ivr %s: cannot play %s: %s", ch->uuid, menu(r)->name, file,
			 strerror(-err));
		done(ch, r, channel_up(ch) ? 0 : -ECANCELED);
	}
}

static void exit_done(struct channel *ch, void *arg, int status)
{
	struct ivr_run *r = arg;
	if (stopped(ch, r, status))
		return;
	ivr_finish(ch, r, 0);
}

static void ivr_exit(struct channel *ch, struct ivr_run *r, const char *why)
{
	log_info("%s ivr %s: leaving (%s)", ch->uuid, menu(r)->name, why);
	ivr_play(ch, r, menu(r)->exit_sound, false, exit_done);
}

static void ivr_enter(struct channel *ch, struct ivr_run *r)
{
	r->greeted = false;
	r->failures = r->timeouts = 0;
	log_info("%s ivr: menu %s", ch->uuid, menu(r)->name);
	ivr_prompt(ch, r);
}

static void invalid_done(struct channel *ch, void *arg, int status)
{
	struct ivr_run *r = arg;
	if (stopped(ch, r, status))
		return;
	if (r->failures >= menu(r)->max_failures)
		ivr_exit(ch, r, "max-failures");
	else
		ivr_prompt(ch, r);
}

static void app_done(struct channel *ch, void *arg, int status)
{
	struct ivr_run *r = arg;
	if (stopped(ch, r, status))
		return;
	if (status < 0)
		log_warn("%s ivr %s: application failed: %s", ch->uuid, menu(r)->name,
			 strerror(-status));
	ivr_prompt(ch, r);
}

static void exec_app(struct channel *ch, struct ivr_run *r, const struct dialplan__ivr_entry *e)
{
	log_info("%s ivr %s: %s runs %s(%s)", ch->uuid, menu(r)->name, e->digits, e->app->name,
		 e->param);
	/* as the executor runs it: data expanded, CHANNEL_EXECUTE and _COMPLETE */
	int rc = dialplan_app_execute(r->dp, ch, e->app->name, e->param, app_done, r);
	if (rc == DIALPLAN_APP_PENDING)
		return;
	if (rc == DIALPLAN_APP_STOP || !channel_up(ch)) {
		/* hung up, parked or transferred: the menus are over */
		ivr_finish(ch, r, 0);
		return;
	}
	app_done(ch, r, rc < 0 ? rc : 0);
}

static void act(struct channel *ch, struct ivr_run *r, const struct dialplan__ivr_entry *e)
{
	switch (e->action) {
	case DP_IVR_EXEC_APP:
		exec_app(ch, r, e);
		return;
	case DP_IVR_SUB:
		if (r->depth == IVR_DEPTH_MAX) {
			log_warn("%s ivr: menus nested past %d", ch->uuid, IVR_DEPTH_MAX);
			ivr_exit(ch, r, "nesting");
			return;
		}
		r->stack[r->depth++] = e->sub;
		ivr_enter(ch, r);
		return;
	case DP_IVR_BACK:
		if (r->depth == 1) {
			ivr_exit(ch, r, "menu-back from the top menu");
			return;
		}
		r->depth--;
		ivr_enter(ch, r);
		return;
	case DP_IVR_TOP:
		r->depth = 1;
		ivr_enter(ch, r);
		return;
	case DP_IVR_EXIT:
		ivr_exit(ch, r, "menu-exit");
		return;
	}
}

static void collected(struct channel *ch, void *arg, int status)
{
	struct ivr_run *r = arg;
	const struct dialplan__ivr_menu *m = menu(r);
	if (status != 0 && status != -ETIMEDOUT) {
		ivr_finish(ch, r, status);
		return;
	}
	if (r->c.count == 0) {
		if (++r->timeouts >= m->max_timeouts)
			ivr_exit(ch, r, "max-timeouts");
		else
			ivr_prompt(ch, r);
		return;
	}
	for (size_t i = 0; i < m->entry_count; i++)
		if (strcmp(m->entries[i].digits, r->c.digits) == 0) {
			act(ch, r, &m->entries[i]);
			return;
		}
	r->failures++;
	log_info("%s ivr %s: no entry for '%s' (%u of %u)", ch->uuid, m->name, r->c.digits,
		 r->failures, m->max_failures);
	channel_dtmf_flush(ch);
	ivr_play(ch, r, m->invalid_sound, false, invalid_done);
}

static void prompt_done(struct channel *ch, void *arg, int status)
{
	struct ivr_run *r = arg;
	if (stopped(ch, r, status))
		return;
	const struct dialplan__ivr_menu *m = menu(r);
	r->c.max = m->digit_len;
	r->c.terminators = NULL;
	r->c.first_timeout_ms = m->timeout_ms;
	r->c.digit_timeout_ms = m->inter_digit_ms;
	int err = channel_collect_digits(ch, &r->c, collected, r);
	if (err)
		ivr_finish(ch, r, err);
}

static void ivr_prompt(struct channel *ch, struct ivr_run *r)
{
	const struct dialplan__ivr_menu *m = menu(r);
	const char *file = r->greeted ? m->greet_short : m->greet_long;
	r->greeted = true;
	ivr_play(ch, r, file, true, prompt_done);
}

int dialplan__app_ivr(struct channel *ch, const char *data, const struct dialplan_vars *vars,
		      channel_done_cb cb, void *arg)
{
	struct dialplan *dp = dialplan__vars_dialplan(vars);
	char name[128];
	if (!dp)
		return -ENOTSUP;
	if (str_copy_cstr(str_trim(str_from_cstr(data)), name, sizeof(name)) || !*name)
		return -EINVAL;
	struct dialplan_xml *x = dialplan__running_xml(dp);
	const struct dialplan__ivr_menu *m = dialplan__ivr_find(x, name);
	if (!m) {
		log_warn("%s ivr: no menu named '%s' in ivr.conf", ch->uuid, name);
		return -ENOENT;
	}
	struct ivr_run *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->xml = dialplan_xml_ref(x);
	r->stack[0] = m;
	r->depth = 1;
	r->cb = cb;
	r->arg = arg;
	r->dp = dp;
	ivr_enter(ch, r);
	return DIALPLAN_APP_PENDING;
}
