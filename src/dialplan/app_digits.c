/*
 * play_and_get_digits and read on a channel: digits.c decides, this file
 * plays the prompts (barge-in on: a digit stops them and stays queued for
 * the collection), collects (channel_collect_digits) and sets the
 * variables. A prompt is skipped when digits were typed ahead. Also the
 * small DTMF applications: flush_dtmf, start_dtmf / spandsp_start_dtmf and
 * their stop_*.
 *
 * Variables: <var_name> the valid entry; <var_name>_invalid the last
 * invalid one; read_result success / timeout / failure (read and
 * play_and_get_digits alike); read_terminator_used.
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE "dialplan"

struct digits_run {
	struct dialplan__digits d;
	struct channel_collect c;
	bool is_read;
	bool timed_out;
	channel_done_cb cb;
	void *arg;
};

static void run_step(struct channel *ch, struct digits_run *r, enum dialplan__digits_step step);

static void run_finish(struct channel *ch, struct digits_run *r, int status)
{
	channel_done_cb cb = r->cb;
	void *arg = r->arg;
	channel_dtmf_barge(ch, false);
	dialplan__digits_fini(&r->d);
	free(r);
	if (cb)
		cb(ch, arg, status);
}

static void prompt_done(struct channel *ch, void *arg, int status)
{
	struct digits_run *r = arg;
	channel_dtmf_barge(ch, false);
	/* stopped (not by a digit: -EINTR) or hung up: the application ends */
	if (status == -ECANCELED || !channel_up(ch)) {
		run_finish(ch, r, -ECANCELED);
		return;
	}
	if (status < 0 && status != -EINTR)
		log_warn("%s prompt failed: %s (collecting anyway)", ch->uuid, strerror(-status));
	run_step(ch, r, dialplan__digits_prompted(&r->d));
}

static void invalid_done(struct channel *ch, void *arg, int status)
{
	struct digits_run *r = arg;
	channel_dtmf_barge(ch, false);
	if (status == -ECANCELED || !channel_up(ch)) {
		run_finish(ch, r, -ECANCELED);
		return;
	}
	run_step(ch, r, dialplan__digits_invalid_done(&r->d));
}

static void collected(struct channel *ch, void *arg, int status)
{
	struct digits_run *r = arg;
	if (status != 0 && status != -ETIMEDOUT) {
		run_finish(ch, r, status);
		return;
	}
	r->timed_out = status == -ETIMEDOUT;
	if (r->c.terminator) {
		char t[2] = {r->c.terminator, '\0'};
		channel_var_set(ch, "read_terminator_used", t);
	}
	log_info("%s collected '%s'%s", ch->uuid, r->c.digits, r->timed_out ? " (timeout)" : "");
	enum dialplan__digits_step step = dialplan__digits_collected(&r->d, r->c.digits);
	if (step != DP_DIGITS_OK && *r->d.var_name) {
		char name[256];
		snprintf(name, sizeof(name), "%s_invalid", r->d.var_name);
		channel_var_set(ch, name, r->c.digits);
	}
	run_step(ch, r, step);
}

/* Plays `file` with barge-in; `done` follows (at once when digits wait). */
static void play_prompt(struct channel *ch, struct digits_run *r, const char *file,
			channel_done_cb done)
{
	if (!*file || channel_dtmf_queued(ch) > 0) {
		done(ch, r, 0);
		return;
	}
	channel_dtmf_barge(ch, true);
	int err = channel_play(ch, file, done, r);
	if (err) {
		channel_dtmf_barge(ch, false);
		log_warn("%s cannot play %s: %s", ch->uuid, file, strerror(-err));
		done(ch, r, channel_up(ch) ? err : -ECANCELED);
	}
}

static void run_fail(struct channel *ch, struct digits_run *r)
{
	channel_var_set(ch, "read_result", r->timed_out && r->c.count == 0 ? "timeout" : "failure");
	if (*r->d.var_name && !r->is_read)
		channel_var_set(ch, r->d.var_name, NULL);
	if (r->is_read && *r->d.var_name)
		channel_var_set(ch, r->d.var_name, r->c.digits); /* read keeps what came */
	if (r->d.transfer[0] && *r->d.transfer[0]) {
		const char *ext = arena_strdup(&ch->arena, r->d.transfer[0]);
		const char *ctx =
		    r->d.transfer[2] ? arena_strdup(&ch->arena, r->d.transfer[2]) : NULL;
		log_info("%s no valid entry: transfer to %s", ch->uuid, ext ? ext : "");
		/* the transfer first: this application's completion then belongs
		 * to the route left behind and is ignored */
		if (ext && dialplan__exec_transfer(ch, ext, ctx) != 0)
			log_warn("%s transfer_on_failure to %s failed", ch->uuid, ext);
		run_finish(ch, r, 0);
		return;
	}
	run_finish(ch, r, 0);
}

static void run_step(struct channel *ch, struct digits_run *r, enum dialplan__digits_step step)
{
	int err;

	switch (step) {
	case DP_DIGITS_PROMPT:
		play_prompt(ch, r, r->d.file, prompt_done);
		return;
	case DP_DIGITS_INVALID:
		channel_dtmf_flush(ch);
		play_prompt(ch, r, r->d.invalid_file, invalid_done);
		return;
	case DP_DIGITS_COLLECT:
		r->c.max = r->d.max;
		r->c.terminators = r->d.terminators;
		r->c.first_timeout_ms = r->d.timeout_ms;
		r->c.digit_timeout_ms = r->d.digit_timeout_ms;
		err = channel_collect_digits(ch, &r->c, collected, r);
		if (err)
			run_finish(ch, r, err);
		return;
	case DP_DIGITS_OK:
		channel_var_set(ch, "read_result", "success");
		if (*r->d.var_name)
			channel_var_set(ch, r->d.var_name, r->c.digits);
		run_finish(ch, r, 0);
		return;
	case DP_DIGITS_FAIL:
		run_fail(ch, r);
		return;
	}
}

int dialplan__app_digits(struct channel *ch, bool is_read, const char *data, channel_done_cb cb,
			 void *arg)
{
	char why[256];
	struct digits_run *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (dialplan__digits_parse(&r->d, is_read, data, why, sizeof(why)) != 0) {
		log_warn("%s %s: %s", ch->uuid, is_read ? "read" : "play_and_get_digits", why);
		dialplan__digits_fini(&r->d);
		free(r);
		return -EINVAL;
	}
	if (!channel_up(ch)) {
		dialplan__digits_fini(&r->d);
		free(r);
		return DIALPLAN_APP_STOP;
	}
	r->is_read = is_read;
	r->cb = cb;
	r->arg = arg;
	run_step(ch, r, dialplan__digits_start(&r->d));
	return DIALPLAN_APP_PENDING;
}

static int check(const char *data, bool is_read, char *why, size_t why_size)
{
	struct dialplan__digits *d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	int rc = dialplan__digits_parse(d, is_read, data, why, why_size);
	dialplan__digits_fini(d);
	free(d);
	return rc;
}

int dialplan__check_pagd(const char *data, char *why, size_t why_size)
{
	return check(data, false, why, why_size);
}

int dialplan__check_read(const char *data, char *why, size_t why_size)
{
	return check(data, true, why, why_size);
}
