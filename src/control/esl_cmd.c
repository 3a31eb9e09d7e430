/*
 * The Event Socket's commands, inbound mode, with mod_event_socket's reply
 * texts: auth, api, bgapi, event, nixevent, noevents, filter, myevents,
 * divert_events, linger, nolinger, sendmsg, sendevent, log, nolog, exit,
 * and irisx's resume; in outbound mode connect too (esl_outbound.c). Replies go out in
 * the order the commands came (an asynchronous api holds the ones after it); bgapi's
 * job runs on a later loop turn and answers with BACKGROUND_JOB when its command
 * replies.
 */
#define LOG_MODULE "esl"
#include "control/esl_int.h"
#include "dialplan/dialplan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *str_dup(struct str s)
{
	char *p = malloc(s.len + 1);
	if (p) {
		memcpy(p, s.p, s.len);
		p[s.len] = '\0';
	}
	return p;
}

static bool word_is(struct str w, const char *s)
{
	return str_ieq_cstr(w, s);
}

/* ---- api / bgapi ---- */

/*
 * api: the reply is written when the command replies. An asynchronous one
 * (originate) leaves the connection's later commands waiting in its input
 * (FreeSWITCH replies strictly in order on a connection), while the loop,
 * every other connection and call go on.
 */
static void api_reply_cb(void *arg, const char *text, size_t len)
{
	struct esl_conn *c = arg;
	bool waited = c->api_pending != NULL;
	c->api_pending = NULL;
	esl__conn_send(c, "api/response", NULL, text, len);
	if (waited)
		esl__conn_resume(c);
}

static void cmd_api(struct esl_conn *c, struct str args)
{
	struct buf line;
	buf_init(&line);
	buf_append_str(&line, args);
	if (line.failed) {
		buf_fini(&line);
		esl__conn_send(c, "api/response", NULL, "-ERR out of memory\n", 19);
		return;
	}
	c->api_pending = core_command_run(c->esl->core, line.p ? line.p : "", api_reply_cb, c);
	buf_fini(&line);
}

static void cmd_bgapi(struct esl_conn *c, struct str args, const struct esl_frame *f)
{
	struct esl *esl = c->esl;
	struct esl_job *j = calloc(1, sizeof(*j));
	const struct str *given = esl_frame_header(f, "Job-UUID");
	if (!j || !(j->cmd = str_dup(args))) {
		free(j);
		esl__conn_reply(c, "-ERR out of memory");
		return;
	}
	j->esl = esl;
	if (given && given->len > 0 && given->len <= UUID_STRLEN)
		str_copy_cstr(*given, j->uuid, sizeof(j->uuid));
	else
		uuid_generate(j->uuid);
	*esl->jobs_tail = j;
	esl->jobs_tail = &j->next;
	esl__wake(esl);
	char extra[64 + 2 * UUID_STRLEN];
	snprintf(extra, sizeof(extra), "Reply-Text: +OK Job-UUID: %s\nJob-UUID: %s\n", j->uuid,
		 j->uuid);
	esl__conn_send(c, "command/reply", extra, NULL, 0);
}

static void job_free(struct esl_job *j)
{
	free(j->cmd);
	free(j);
}

static void running_remove(struct esl_job *j)
{
	struct esl *esl = j->esl;
	if (j->prev)
		j->prev->next = j->next;
	else
		esl->running = j->next;
	if (j->next)
		j->next->prev = j->prev;
}

/* The job's command replied: BACKGROUND_JOB carries the reply as its body. */
static void job_reply_cb(void *arg, const char *text, size_t len)
{
	struct esl_job *j = arg;
	struct esl *esl = j->esl;
	struct core_event *ev = NULL;
	if (core_event_create(&ev, "BACKGROUND_JOB", NULL) == 0) {
		struct str rest = str_from_cstr(j->cmd), name;
		esl_line_split(rest, &name, &rest);
		core_event_add_header(ev, "Job-UUID", "%s", j->uuid);
		core_event_add_header(ev, "Job-Command", "%.*s", (int)name.len, name.p);
		if (rest.len > 0)
			core_event_add_header(ev, "Job-Command-Arg", "%.*s", (int)rest.len, rest.p);
		core_event_set_body(ev, text, len);
		core_event_fire(esl->core, ev);
	}
	if (j->reply) {
		/* It replied later: it was on the running list. */
		running_remove(j);
		job_free(j);
	}
}

void esl__jobs_run(struct esl *esl)
{
	/* Only the jobs queued before this turn: a job's event may queue more. */
	struct esl_job *list = esl->jobs;
	esl->jobs = NULL;
	esl->jobs_tail = &esl->jobs;
	while (list) {
		struct esl_job *j = list;
		list = j->next;
		j->next = NULL;
		j->reply = core_command_run(esl->core, j->cmd, job_reply_cb, j);
		if (!j->reply) {
			job_free(j); /* replied already */
			continue;
		}
		j->next = esl->running;
		if (j->next)
			j->next->prev = j;
		esl->running = j;
	}
}

void esl__jobs_drop(struct esl *esl)
{
	while (esl->jobs) {
		struct esl_job *j = esl->jobs;
		esl->jobs = j->next;
		job_free(j);
	}
	esl->jobs_tail = &esl->jobs;
	while (esl->running) {
		struct esl_job *j = esl->running;
		esl->running = j->next;
		core_reply_detach(j->reply);
		job_free(j);
	}
}

/* ---- subscriptions ---- */

static int format_parse(struct str w, enum esl_format *out)
{
	if (word_is(w, "plain"))
		*out = ESL_FMT_PLAIN;
	else if (word_is(w, "json"))
		*out = ESL_FMT_JSON;
	else if (word_is(w, "xml"))
		*out = ESL_FMT_XML;
	else
		return -EINVAL;
	return 0;
}

static const char *format_name(enum esl_format f)
{
	return f == ESL_FMT_JSON ? "json" : f == ESL_FMT_XML ? "xml" : "plain";
}

static bool name_has(const struct esl_conn *c, const char *n)
{
	for (size_t i = 0; i < c->name_count; i++)
		if (strcasecmp(c->names[i], n) == 0)
			return true;
	return false;
}

static int name_add(struct esl_conn *c, const char *n)
{
	if (name_has(c, n))
		return 0;
	char **v = realloc(c->names, (c->name_count + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->names = v;
	if (!(v[c->name_count] = strdup(n)))
		return -ENOMEM;
	c->name_count++;
	return 0;
}

static void name_remove(struct esl_conn *c, const char *n)
{
	for (size_t i = 0; i < c->name_count; i++)
		if (strcasecmp(c->names[i], n) == 0) {
			free(c->names[i]);
			c->names[i] = c->names[--c->name_count];
			return;
		}
}

static void name_apply(struct esl_conn *c, const char *n, bool add)
{
	if (add)
		name_add(c, n);
	else
		name_remove(c, n);
}

/*
 * Walks "NAME NAME CUSTOM sub sub NAME…": after CUSTOM, words are
 * subclasses until one is a plain event name again (all capitals and '_').
 * CUSTOM with no subclass after it stands for every CUSTOM event.
 */
static void names_each(struct esl_conn *c, struct str list, bool add)
{
	struct str w;
	bool custom = false;
	size_t subs = 0;
	char tmp[300];
	while (esl_word_next(&list, &w)) {
		if (w.len > 250)
			continue;
		bool upper = true;
		for (size_t i = 0; i < w.len; i++)
			if (!((w.p[i] >= 'A' && w.p[i] <= 'Z') || w.p[i] == '_' ||
			      (w.p[i] >= '0' && w.p[i] <= '9')))
				upper = false;
		if (custom && !upper) {
			snprintf(tmp, sizeof(tmp), "CUSTOM %.*s", (int)w.len, w.p);
			name_apply(c, tmp, add);
			subs++;
			continue;
		}
		if (custom && subs == 0)
			name_apply(c, "CUSTOM", add);
		custom = false;
		if (word_is(w, "CUSTOM")) {
			custom = true;
			subs = 0;
		} else if (word_is(w, "ALL")) {
			c->all_events = add;
		} else {
			snprintf(tmp, sizeof(tmp), "%.*s", (int)w.len, w.p);
			name_apply(c, tmp, add);
		}
	}
	if (custom && subs == 0)
		name_apply(c, "CUSTOM", add);
}

static void cmd_event(struct esl_conn *c, struct str args)
{
	struct str w, rest = args;
	enum esl_format fmt = ESL_FMT_PLAIN;
	struct str save = rest;
	if (esl_word_next(&rest, &w) && format_parse(w, &fmt) != 0)
		rest = save; /* "event CHANNEL_CREATE": plain */
	c->fmt = fmt;
	names_each(c, rest, true);
	esl__conn_reply(c, "+OK event listener enabled %s", format_name(fmt));
}

static void cmd_nixevent(struct esl_conn *c, struct str args)
{
	if (args.len == 0) {
		esl__conn_reply(c, "-ERR missing event names");
		return;
	}
	names_each(c, args, false);
	esl__conn_reply(c, "+OK events nixed");
}

static void filter_free_at(struct esl_conn *c, size_t i)
{
	free(c->filters[i].header);
	free(c->filters[i].value);
	pcre2_code_free(c->filters[i].re);
	c->filters[i] = c->filters[--c->filter_count];
}

static void filter_delete(struct esl_conn *c, const struct esl_filter_args *fa)
{
	bool found = false;
	for (size_t i = c->filter_count; i-- > 0;) {
		if (str_ieq_cstr(fa->header, c->filters[i].header) &&
		    (fa->value.len == 0 || str_eq(fa->value, str_from_cstr(c->filters[i].value)))) {
			filter_free_at(c, i);
			found = true;
		}
	}
	if (found)
		esl__conn_reply(c, "+OK filter deleted. [%.*s]=[%.*s]", (int)fa->header.len,
				fa->header.p, (int)fa->value.len, fa->value.p);
	else
		esl__conn_reply(c, "-ERR filter not found.");
}

/* Compiles a regex filter's pattern; the connection's match data and limit
 * are made with its first one. NULL with the reason in err. */
static pcre2_code *filter_compile(struct esl_conn *c, struct str pattern, char *err, size_t n)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern.p, pattern.len, 0, &code, &off, NULL);
	if (!re) {
		char msg[128];
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(err, n, "invalid regex at offset %zu: %s", (size_t)off, msg);
		return NULL;
	}
	if (!c->filter_md)
		c->filter_md = pcre2_match_data_create(1, NULL);
	if (!c->filter_mctx && (c->filter_mctx = pcre2_match_context_create(NULL)))
		pcre2_set_match_limit(c->filter_mctx, ESL_FILTER_MATCH_LIMIT);
	if (!c->filter_md || !c->filter_mctx) {
		pcre2_code_free(re);
		snprintf(err, n, "out of memory");
		return NULL;
	}
	return re;
}

static void cmd_filter(struct esl_conn *c, struct str args)
{
	struct esl_filter_args fa;
	if (esl_filter_args_parse(args, &fa) != 0) {
		esl__conn_reply(c, "-ERR invalid syntax");
		return;
	}
	if (fa.op == ESL_FILTER_DELETE_ALL) {
		while (c->filter_count)
			filter_free_at(c, c->filter_count - 1);
		esl__conn_reply(c, "+OK filter deleted.");
		return;
	}
	if (fa.op == ESL_FILTER_DELETE) {
		filter_delete(c, &fa);
		return;
	}
	char err[192];
	pcre2_code *re = NULL;
	if (fa.is_regex && !(re = filter_compile(c, fa.pattern, err, sizeof(err)))) {
		esl__conn_reply(c, "-ERR %s", err);
		return;
	}
	struct esl_filter *f = realloc(c->filters, (c->filter_count + 1) * sizeof(*f));
	if (!f) {
		pcre2_code_free(re);
		esl__conn_reply(c, "-ERR out of memory");
		return;
	}
	c->filters = f;
	f += c->filter_count;
	f->header = str_dup(fa.header);
	f->value = str_dup(fa.value);
	f->re = re;
	if (!f->header || !f->value) {
		free(f->header);
		free(f->value);
		pcre2_code_free(re);
		esl__conn_reply(c, "-ERR out of memory");
		return;
	}
	c->filter_count++;
	esl__conn_reply(c, "+OK filter added. [%.*s]=[%.*s]", (int)fa.header.len, fa.header.p,
			(int)fa.value.len, fa.value.p);
}

static void cmd_myevents(struct esl_conn *c, struct str args)
{
	struct str w, rest = args, uuid = {0};
	enum esl_format fmt = ESL_FMT_PLAIN;
	while (esl_word_next(&rest, &w)) {
		if (format_parse(w, &fmt) != 0)
			uuid = w;
	}
	if (uuid.len == 0 && c->ob)
		uuid = str_from_cstr(esl__outbound_uuid(c)); /* outbound: this channel */
	if (uuid.len == 0 || uuid.len > UUID_STRLEN) {
		esl__conn_reply(c, "-ERR invalid uuid");
		return;
	}
	str_copy_cstr(uuid, c->myevents, sizeof(c->myevents));
	c->fmt = fmt;
	c->all_events = true;
	esl__conn_reply(c, "+OK Events Enabled");
}

static void cmd_resume(struct esl_conn *c, struct str args)
{
	uint64_t seq;
	if (str_to_u64(str_trim(args), &seq) != 0) {
		esl__conn_reply(c, "-ERR invalid sequence");
		return;
	}
	if (c->fmt == ESL_FMT_NONE) {
		esl__conn_reply(c, "-ERR subscribe first (event plain|json|xml …)");
		return;
	}
	/* The replay must come before what is queued: set the queue aside (the
	 * ring holds those events too, so the replay brings them back in order),
	 * and put it back untouched if the ring has lost some of the range. */
	size_t n = c->q_len;
	struct core_event **aside = n ? malloc(n * sizeof(*aside)) : NULL;
	if (n && !aside) {
		esl__conn_reply(c, "-ERR out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		aside[i] = c->queue[(c->q_head + i) % c->q_cap];
	uint64_t keep = c->last_seq;
	c->q_len = 0;
	c->q_head = 0;
	/* What was already written on this connection is not sent twice. */
	c->last_seq = c->sent_seq > seq ? c->sent_seq : seq;
	int rc = core_events_since(c->esl->core, c->last_seq, esl__conn_replay, c);
	if (rc != 0) {
		for (size_t i = 0; i < n; i++)
			c->queue[i] = aside[i];
		c->q_len = n;
		c->last_seq = keep;
		free(aside);
		esl__conn_reply(c, "-ERR events after %llu are gone", (unsigned long long)seq);
		return;
	}
	for (size_t i = 0; i < n; i++)
		core_event_unref(aside[i]);
	free(aside);
	esl__conn_reply(c, "+OK resuming after %llu", (unsigned long long)seq);
}

/* ---- sendmsg / sendevent ---- */

struct esl_exec {
	struct dialplan *dp;
	char *app, *arg;
	uint32_t loops_left;
	char uuid[UUID_STRLEN + 1];
};

static void exec_free(struct esl_exec *x)
{
	free(x->app);
	free(x->arg);
	free(x);
}

/* Runs the remaining loops; frees x when done. The connection may be gone:
 * x holds no pointer to it. */
static void exec_continue(struct channel *ch, struct esl_exec *x);

static void exec_done_cb(struct channel *ch, void *arg, int status)
{
	struct esl_exec *x = arg;
	if (status < 0) {
		exec_free(x);
		return;
	}
	exec_continue(ch, x);
}

static void exec_continue(struct channel *ch, struct esl_exec *x)
{
	while (x->loops_left > 0) {
		x->loops_left--;
		int rc = dialplan_app_execute(x->dp, ch, x->app, x->arg, exec_done_cb, x);
		if (rc == DIALPLAN_APP_PENDING)
			return;
		if (rc != DIALPLAN_APP_DONE) {
			if (rc < 0)
				log_warn("[%s] sendmsg execute %s: %s", x->uuid, x->app,
					 strerror(-rc));
			break;
		}
	}
	exec_free(x);
}

static void cmd_sendmsg(struct esl_conn *c, struct str args, const struct esl_frame *f)
{
	char uuid[UUID_STRLEN + 1] = "";
	const struct str *h = esl_frame_header(f, "Unique-ID");
	struct str u = args.len ? args : h ? *h : (struct str){0};
	if (u.len == 0 && c->ob)
		u = str_from_cstr(esl__outbound_uuid(c)); /* outbound: this channel */
	if (u.len > 0 && u.len <= UUID_STRLEN)
		str_copy_cstr(u, uuid, sizeof(uuid));
	struct channel *ch = uuid[0] ? core_channel_find(c->esl->core, uuid) : NULL;
	if (!ch) {
		esl__conn_reply(c, "-ERR invalid session id [%s]", uuid);
		return;
	}
	const struct str *cmd = esl_frame_header(f, "call-command");
	if (cmd && str_ieq_cstr(*cmd, "hangup")) {
		const struct str *hc = esl_frame_header(f, "hangup-cause");
		enum core_cause cause = CAUSE_NORMAL_CLEARING;
		char name[64];
		if (hc && str_copy_cstr(*hc, name, sizeof(name)) == 0 &&
		    core_cause_parse(name, &cause) != 0) {
			esl__conn_reply(c, "-ERR invalid hangup-cause");
			return;
		}
		channel_hangup(ch, cause);
		esl__conn_reply(c, "+OK");
		return;
	}
	if (!cmd || !str_ieq_cstr(*cmd, "execute")) {
		esl__conn_reply(c, "-ERR unsupported call-command");
		return;
	}
	const struct str *app = esl_frame_header(f, "execute-app-name");
	const struct str *arg = esl_frame_header(f, "execute-app-arg");
	const struct str *loops = esl_frame_header(f, "loops");
	uint32_t n = 1;
	if (!app || app->len == 0) {
		esl__conn_reply(c, "-ERR missing execute-app-name");
		return;
	}
	if (loops && (str_to_u32(*loops, &n) != 0 || n == 0 || n > 1000000)) {
		esl__conn_reply(c, "-ERR invalid loops");
		return;
	}
	if (!c->esl->dp) {
		esl__conn_reply(c, "-ERR no dialplan to execute with");
		return;
	}
	struct esl_exec *x = calloc(1, sizeof(*x));
	/* Without execute-app-arg, FreeSWITCH takes the argument from the body. */
	struct str a = arg ? *arg : f->body;
	if (!x || !(x->app = str_dup(*app)) || !(x->arg = str_dup(a))) {
		if (x)
			exec_free(x);
		esl__conn_reply(c, "-ERR out of memory");
		return;
	}
	x->dp = c->esl->dp;
	x->loops_left = n;
	memcpy(x->uuid, uuid, sizeof(uuid));
	/* Event-UUID becomes the Application-UUID of the first execution's events. */
	const struct str *eu = esl_frame_header(f, "Event-UUID");
	char app_uuid[UUID_STRLEN];
	if (eu && str_copy_cstr(*eu, app_uuid, sizeof(app_uuid)) == 0)
		channel_var_set(ch, "app_uuid", app_uuid);
	/* Reply first: the application's own events follow the +OK. */
	esl__conn_reply(c, "+OK");
	exec_continue(ch, x);
}

static void cmd_sendevent(struct esl_conn *c, struct str args, const struct esl_frame *f)
{
	struct str name = str_trim(args);
	char nm[128], sub[256] = "";
	const struct str *sc = esl_frame_header(f, "Event-Subclass");
	if (name.len == 0 || str_copy_cstr(name, nm, sizeof(nm)) != 0) {
		esl__conn_reply(c, "-ERR invalid event name");
		return;
	}
	if (sc)
		str_copy_cstr(*sc, sub, sizeof(sub));
	struct core_event *ev = NULL;
	if (core_event_create(&ev, nm, sub[0] ? sub : NULL) != 0) {
		esl__conn_reply(c, "-ERR invalid event name");
		return;
	}
	char uuid[UUID_STRLEN + 1];
	bool have_uuid = false;
	for (size_t i = 0; i < f->header_count; i++) {
		const struct esl_header *h = &f->headers[i];
		char hn[128];
		/* Framing, the name and bus-stamped headers are set by the core. */
		if (str_ieq_cstr(h->name, "Content-Length") ||
		    str_ieq_cstr(h->name, "Event-Sequence") ||
		    str_ieq_cstr(h->name, "Event-Name") ||
		    str_ieq_cstr(h->name, "Event-Subclass") ||
		    str_copy_cstr(h->name, hn, sizeof(hn)) != 0)
			continue;
		if (str_ieq_cstr(h->name, "Event-UUID") && h->value.len <= UUID_STRLEN) {
			have_uuid = true;
			str_copy_cstr(h->value, uuid, sizeof(uuid));
		}
		core_event_add_header(ev, hn, "%.*s", (int)h->value.len, h->value.p);
	}
	if (!have_uuid) {
		uuid_generate(uuid);
		core_event_add_header(ev, "Event-UUID", "%s", uuid);
	}
	if (f->body.len > 0)
		core_event_set_body(ev, f->body.p, f->body.len);
	/* Reply before firing: a client subscribed to its own event gets the +OK first. */
	esl__conn_reply(c, "+OK %s", uuid);
	core_event_fire(c->esl->core, ev);
}

/* ---- log, linger, the dispatcher ---- */

/* FreeSWITCH's log levels by number and name (0 console … 7 debug). */
static const char *const fs_levels[] = {"console", "alert",  "crit", "err",
					"warning", "notice", "info", "debug"};

static void cmd_log(struct esl_conn *c, struct str args)
{
	int level = 7;
	struct str a = str_trim(args);
	if (a.len > 0) {
		uint32_t n;
		level = -1;
		if (str_to_u32(a, &n) == 0 && n < ARRAY_LEN(fs_levels))
			level = (int)n;
		for (size_t i = 0; level < 0 && i < ARRAY_LEN(fs_levels); i++)
			if (str_ieq_cstr(a, fs_levels[i]))
				level = (int)i;
		if (level < 0 && str_ieq_cstr(a, "warn"))
			level = 4;
		if (level < 0) {
			esl__conn_reply(c, "-ERR invalid log level");
			return;
		}
	}
	c->log_level = level;
	esl__conn_reply(c, "+OK log level %d [%s]", level, fs_levels[level]);
}

static void cmd_linger(struct esl_conn *c, struct str args)
{
	uint32_t secs = 0;
	struct str a = str_trim(args);
	if (a.len > 0 && str_to_u32(a, &secs) != 0) {
		esl__conn_reply(c, "-ERR invalid linger time");
		return;
	}
	c->linger = true;
	c->linger_secs = secs;
	if (secs)
		esl__conn_reply(c, "+OK will linger %u seconds", secs);
	else
		esl__conn_reply(c, "+OK will linger");
}

static void cmd_auth(struct esl_conn *c, struct str args)
{
	struct str pw = str_trim(args);
	const char *want = c->esl->set.password;
	/* Compare every byte whatever the length, so timing says nothing. */
	size_t wl = strlen(want);
	unsigned diff = (unsigned)(pw.len != wl);
	for (size_t i = 0; i < pw.len; i++)
		diff |= (unsigned char)pw.p[i] ^ (unsigned char)want[i % (wl ? wl : 1)];
	if (diff == 0 && wl > 0) {
		c->authed = true;
		esl__conn_reply(c, "+OK accepted");
		return;
	}
	log_notice("event socket: authentication failed");
	esl__conn_reply(c, "-ERR invalid");
	esl__conn_finish(c);
}

void esl__command(struct esl_conn *c, const struct esl_frame *f)
{
	struct str verb, args;
	esl_line_split(f->line, &verb, &args);

	if (!c->authed) {
		if (word_is(verb, "auth"))
			cmd_auth(c, args);
		else if (word_is(verb, "exit")) {
			esl__conn_reply(c, "+OK bye");
			esl__conn_finish(c);
		} else
			esl__conn_reply(c, "-ERR command not found");
		return;
	}
	if (c->ob && word_is(verb, "connect"))
		esl__outbound_connect(c);
	else if (word_is(verb, "api"))
		cmd_api(c, args);
	else if (word_is(verb, "bgapi"))
		cmd_bgapi(c, args, f);
	else if (word_is(verb, "event"))
		cmd_event(c, args);
	else if (word_is(verb, "nixevent"))
		cmd_nixevent(c, args);
	else if (word_is(verb, "noevents")) {
		esl__conn_unsubscribe(c);
		esl__conn_reply(c, "+OK no longer listening for events");
	} else if (word_is(verb, "filter"))
		cmd_filter(c, args);
	else if (word_is(verb, "myevents"))
		cmd_myevents(c, args);
	else if (word_is(verb, "divert_events")) {
		bool on = str_ieq_cstr(args, "on");
		if (!on && !str_ieq_cstr(args, "off"))
			esl__conn_reply(c, "-ERR usage: divert_events on|off");
		else
			esl__conn_reply(c, on ? "+OK events diverted" : "+OK events not diverted");
	} else if (word_is(verb, "linger"))
		cmd_linger(c, args);
	else if (word_is(verb, "nolinger")) {
		c->linger = false;
		esl__conn_reply(c, "+OK will not linger");
	} else if (word_is(verb, "sendmsg"))
		cmd_sendmsg(c, args, f);
	else if (word_is(verb, "sendevent"))
		cmd_sendevent(c, args, f);
	else if (word_is(verb, "log"))
		cmd_log(c, args);
	else if (word_is(verb, "nolog")) {
		c->log_level = -1;
		esl__conn_reply(c, "+OK no longer logging");
	} else if (word_is(verb, "resume"))
		cmd_resume(c, args);
	else if (word_is(verb, "exit")) {
		esl__conn_reply(c, "+OK bye");
		esl__conn_finish(c);
	} else if (word_is(verb, "auth"))
		esl__conn_reply(c, "-ERR already authenticated");
	else
		esl__conn_reply(c, "-ERR command not found");
}
