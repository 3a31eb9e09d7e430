/*
 * The REST resources of the HTTP API (docs/API.md, docs/openapi.json): each
 * route's handler turns a request into core calls on the loop and answers
 * JSON. Calls are channels (core_channel_find); placing one is a
 * core_originate whose answered leg runs an application or an extension;
 * gateways and profiles are read from the same `sofia status` command ESL
 * clients use, and POST /v1/api runs any registered command.
 */
#define LOG_MODULE "http"
#include "control/http_int.h"
#include "core/core.h"
#include "dialplan/dialplan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void get_openapi(struct http_req *req, void *arg)
{
	http_reply(req, 200, "application/json", http__openapi_json, http__openapi_json_len);
}

/* ---- a call as JSON ---- */

static json_t *time_json(uint64_t us)
{
	if (!us)
		return json_null();
	time_t secs = (time_t)(us / 1000000u);
	struct tm tm;
	char text[40];
	gmtime_r(&secs, &tm);
	size_t n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text + n, sizeof(text) - n, ".%03uZ", (unsigned)(us / 1000u % 1000u));
	return json_string(text);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void var_add(void *arg, const char *name, const char *value)
{
	json_object_set_new(arg, name, json_string(value));
}

static json_t *call_json(struct channel *ch, bool detail)
{
	struct channel *other = channel_bridged(ch);
	json_t *doc = json_object();
	json_object_set_new(doc, "uuid", json_string(ch->uuid));
	json_object_set_new(doc, "state", json_string(channel_state_name(ch->state)));
	json_object_set_new(doc, "direction",
			    json_string(ch->direction == CHANNEL_INBOUND ? "inbound" : "outbound"));
	json_object_set_new(doc, "caller",
			    json_pack("{s:o, s:o}", "name", str_or_null(ch->caller_id_name),
				      "number", str_or_null(ch->caller_id_number)));
	json_object_set_new(doc, "callee", str_or_null(ch->destination_number));
	json_object_set_new(doc, "created_at", time_json(ch->created_us));
	json_object_set_new(doc, "answered_at", time_json(ch->answered_us));
	json_object_set_new(doc, "answered", json_boolean(channel_answered(ch)));
	json_object_set_new(doc, "codec", str_or_null(channel_var(ch, "read_codec")));
	json_object_set_new(doc, "bridged_to", other ? json_string(other->uuid) : json_null());
	json_object_set_new(doc, "profile", str_or_null(ch->profile));
	if (ch->cause != CAUSE_NONE)
		json_object_set_new(doc, "hangup_cause", json_string(core_cause_name(ch->cause)));
	if (detail) {
		json_t *vars = json_object();
		channel_var_each(ch, var_add, vars);
		json_object_set_new(doc, "variables", vars);
	}
	return doc;
}

static void list_add(void *arg, struct channel *ch)
{
	json_array_append_new(arg, call_json(ch, false));
}

static void get_calls(struct http_req *req, void *arg)
{
	json_t *list = json_array();
	core_channel_each(http_core(req->http), list_add, list);
	http_reply_json(req, 200, json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(list),
					    "calls", list));
}

/* The call the path names, or NULL with 404 answered. */
static struct channel *call_find(struct http_req *req)
{
	const char *uuid = http_param(req, "uuid");
	struct channel *ch = uuid ? core_channel_find(http_core(req->http), uuid) : NULL;
	if (!ch)
		http_reply_error(req, 404, "not_found", "no call %s", uuid ? uuid : "");
	return ch;
}

/* The call, up, or NULL with 404 / 409 answered. */
static struct channel *call_find_up(struct http_req *req)
{
	struct channel *ch = call_find(req);
	if (ch && !channel_up(ch)) {
		http_reply_error(req, 409, "wrong_state", "call %s is hanging up", ch->uuid);
		return NULL;
	}
	return ch;
}

static void get_call(struct http_req *req, void *arg)
{
	struct channel *ch = call_find(req);
	if (ch)
		http_reply_json(req, 200, call_json(ch, true));
}

static void reply_call(struct http_req *req, struct channel *ch)
{
	http_reply_json(req, 200,
			json_pack("{s:s, s:s}", "uuid", ch->uuid, "state",
				  channel_state_name(ch->state)));
}

/* A string field: NULL when absent; false with 400 answered when not a string. */
static bool field_str(struct http_req *req, json_t *body, const char *name, const char **out)
{
	json_t *v = json_object_get(body, name);
	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		http_reply_error(req, 400, "bad_field", "'%s' must be a non-empty string", name);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* Fields the handler does not know are refused: a typo must not be silent. */
static bool fields_known(struct http_req *req, json_t *body, const char *const *known)
{
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(key, *k) == 0;
		if (!ok) {
			http_reply_error(req, 400, "bad_field", "unknown field '%s'", key);
			return false;
		}
	}
	return true;
}

/* ---- call actions ---- */

static void hangup_with(struct http_req *req, json_t *body)
{
	static const char *const known[] = {"cause", NULL};
	const char *cause_name;
	enum core_cause cause = CAUSE_NORMAL_CLEARING;
	if (!fields_known(req, body, known) || !field_str(req, body, "cause", &cause_name))
		return;
	if (cause_name && core_cause_parse(cause_name, &cause) != 0) {
		http_reply_error(req, 400, "bad_field", "unknown cause '%s'", cause_name);
		return;
	}
	struct channel *ch = call_find_up(req);
	if (!ch)
		return;
	channel_hangup(ch, cause);
	reply_call(req, ch);
}

static void post_hangup(struct http_req *req, void *arg)
{
	json_t *body = http_body_json(req, true);
	if (body)
		hangup_with(req, body);
	json_decref(body);
}

static void delete_call(struct http_req *req, void *arg)
{
	json_t *body = http_body_json(req, true);
	if (body)
		hangup_with(req, body);
	json_decref(body);
}

static void post_answer(struct http_req *req, void *arg)
{
	struct channel *ch = call_find_up(req);
	if (!ch)
		return;
	if (channel_answered(ch)) {
		http_reply_error(req, 409, "wrong_state", "call %s is answered already", ch->uuid);
		return;
	}
	int e = channel_answer(ch);
	if (e == -EINVAL)
		http_reply_error(req, 409, "wrong_state",
				 "an outbound call is answered by the far end");
	else if (e)
		http_reply_error(req, 409, "wrong_state", "cannot answer: %s", strerror(-e));
	else
		reply_call(req, ch);
}

/* A playback repeated `left` more times (-1: until stopped). */
struct play_loop {
	int left;
	bool speak;
	char spec[];
};

static void play_done(struct channel *ch, void *arg, int status)
{
	struct play_loop *pl = arg;
	if (status == 0 && pl->left != 0 && channel_up(ch)) {
		if (pl->left > 0)
			pl->left--;
		int e = pl->speak ? channel_speak(ch, pl->spec, NULL, play_done, pl)
				  : channel_play(ch, pl->spec, play_done, pl);
		if (e == 0)
			return;
	}
	free(pl);
}

static void post_play(struct http_req *req, void *arg)
{
	static const char *const known[] = {"file", "tone", "text", "loop", NULL};
	json_t *body = http_body_json(req, false);
	const char *file, *tone, *text;
	if (!body || !fields_known(req, body, known) || !field_str(req, body, "file", &file) ||
	    !field_str(req, body, "tone", &tone) || !field_str(req, body, "text", &text))
		goto out;
	if ((file != NULL) + (tone != NULL) + (text != NULL) != 1) {
		http_reply_error(req, 400, "bad_field", "give one of 'file', 'tone' or 'text'");
		goto out;
	}
	json_t *loop = json_object_get(body, "loop");
	int left = 0;
	if (json_is_true(loop)) {
		left = -1;
	} else if (json_is_integer(loop) && json_integer_value(loop) >= 1 &&
		   json_integer_value(loop) <= 1000) {
		left = (int)json_integer_value(loop) - 1;
	} else if (loop && !json_is_false(loop)) {
		http_reply_error(req, 400, "bad_field", "'loop' is true, false or a count (1-1000)");
		goto out;
	}
	struct channel *ch = call_find_up(req);
	if (!ch)
		goto out;
	char spec[1024];
	if (tone)
		snprintf(spec, sizeof(spec), "%s%s",
			 strncmp(tone, "tone_stream://", 14) == 0 ? "" : "tone_stream://", tone);
	else
		snprintf(spec, sizeof(spec), "%s", file ? file : text);
	struct play_loop *pl = malloc(sizeof(*pl) + strlen(spec) + 1);
	if (!pl) {
		http_reply_error(req, 500, "internal", "out of memory");
		goto out;
	}
	pl->left = left;
	pl->speak = text != NULL;
	strcpy(pl->spec, spec);
	int e = pl->speak ? channel_speak(ch, spec, NULL, play_done, pl)
			  : channel_play(ch, spec, play_done, pl);
	if (e) {
		free(pl);
		if (e == -ENOENT)
			http_reply_error(req, 400, "bad_field", "no such file '%s'", spec);
		else if (e == -EINVAL)
			http_reply_error(req, 400, "bad_field", "cannot play '%s'", spec);
		else
			http_reply_error(req, 409, "wrong_state", "cannot play: %s", strerror(-e));
		goto out;
	}
	reply_call(req, ch);
out:
	json_decref(body);
}

static void post_stop(struct http_req *req, void *arg)
{
	struct channel *ch = call_find_up(req);
	if (!ch)
		return;
	channel_stop_media(ch);
	reply_call(req, ch);
}

static void post_dtmf(struct http_req *req, void *arg)
{
	static const char *const known[] = {"digits", NULL};
	json_t *body = http_body_json(req, false);
	const char *digits;
	char parsed[CORE_DTMF_MAX + 1];
	uint32_t ms;
	if (!body || !fields_known(req, body, known) || !field_str(req, body, "digits", &digits))
		goto out;
	if (!digits || core_dtmf_parse(digits, parsed, &ms) != 0) {
		http_reply_error(req, 400, "bad_field",
				 "'digits' is 0-9 * # A-D w W, at most %d, and an optional @ms",
				 CORE_DTMF_MAX);
		goto out;
	}
	struct channel *ch = call_find_up(req);
	if (!ch)
		goto out;
	int e = channel_send_dtmf(ch, parsed, ms);
	if (e == -ENOTSUP)
		http_reply_error(req, 409, "wrong_state", "no telephone-event on this call");
	else if (e)
		http_reply_error(req, 409, "wrong_state", "cannot send DTMF: %s", strerror(-e));
	else
		reply_call(req, ch);
out:
	json_decref(body);
}

/*
 * {"path": "x.wav", "limit": secs} starts a recording (path relative to
 * <state dir>/recordings or absolute); {"action": "stop", "path": …} stops
 * it, or every recording without a path. One resource for both: a DELETE
 * would need a body or a query to name the file.
 */
static void post_record(struct http_req *req, void *arg)
{
	static const char *const known[] = {"path", "limit", "action", NULL};
	json_t *body = http_body_json(req, false);
	const char *path, *action;
	if (!body || !fields_known(req, body, known) || !field_str(req, body, "path", &path) ||
	    !field_str(req, body, "action", &action))
		goto out;
	bool stop = false;
	if (action && strcmp(action, "stop") == 0) {
		stop = true;
	} else if (action && strcmp(action, "start") != 0) {
		http_reply_error(req, 400, "bad_field", "'action' is start or stop");
		goto out;
	}
	json_t *limit = json_object_get(body, "limit");
	uint32_t limit_secs = 0;
	if (limit && stop) {
		http_reply_error(req, 400, "bad_field", "'limit' is for starting a recording");
		goto out;
	}
	if (limit && !json_is_null(limit)) {
		if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		    json_integer_value(limit) > 86400) {
			http_reply_error(req, 400, "bad_field", "'limit' is seconds (1-86400)");
			goto out;
		}
		limit_secs = (uint32_t)json_integer_value(limit);
	}
	if (!stop && !path) {
		http_reply_error(req, 400, "bad_field", "'path' is required");
		goto out;
	}
	struct channel *ch = call_find_up(req);
	if (!ch)
		goto out;
	if (stop) {
		int e = channel_record_stop(ch, path ? path : "all");
		if (e == -ENOENT)
			http_reply_error(req, 404, "not_found", "no recording %s on this call",
					 path ? path : "");
		else if (e == -EINVAL)
			http_reply_error(req, 400, "bad_field", "bad path '%s'", path);
		else if (e)
			http_reply_error(req, 409, "wrong_state", "cannot stop: %s", strerror(-e));
		else
			reply_call(req, ch);
		goto out;
	}
	int e = channel_record_start(ch, path, limit_secs);
	if (e == -EINVAL)
		http_reply_error(req, 400, "bad_field", "bad path '%s'", path);
	else if (e == -EEXIST)
		http_reply_error(req, 409, "wrong_state", "the call records to '%s' already", path);
	else if (e == -ENOMEM)
		http_reply_error(req, 500, "internal", "out of memory");
	else if (e)
		http_reply_error(req, 409, "wrong_state", "cannot record: %s", strerror(-e));
	else
		reply_call(req, ch);
out:
	json_decref(body);
}

static void post_bridge(struct http_req *req, void *arg)
{
	static const char *const known[] = {"uuid", NULL};
	json_t *body = http_body_json(req, false);
	const char *other_uuid;
	if (!body || !fields_known(req, body, known) || !field_str(req, body, "uuid", &other_uuid))
		goto out;
	if (!other_uuid) {
		http_reply_error(req, 400, "bad_field", "'uuid' (the call to bridge with) is required");
		goto out;
	}
	struct channel *ch = call_find_up(req);
	if (!ch)
		goto out;
	struct core *core = http_core(req->http);
	struct channel *other = core_channel_find(core, other_uuid);
	if (!other) {
		http_reply_error(req, 404, "not_found", "no call %s", other_uuid);
		goto out;
	}
	if (other == ch || !channel_up(other)) {
		http_reply_error(req, 409, "wrong_state", "cannot bridge %s with %s", ch->uuid,
				 other->uuid);
		goto out;
	}
	/* uuid_bridge's own path: both legs leave their dialplans the same way. */
	char line[128];
	struct buf out;
	buf_init(&out);
	snprintf(line, sizeof(line), "uuid_bridge %s %s", ch->uuid, other->uuid);
	core_command_execute(core, line, &out);
	if (out.p && strncmp(out.p, "+OK", 3) == 0)
		reply_call(req, ch);
	else
		http_reply_error(req, 409, "wrong_state", "%.*s", (int)strcspn(out.p ? out.p : "", "\n"),
				 out.p ? out.p : "");
	buf_fini(&out);
out:
	json_decref(body);
}

static void post_transfer(struct http_req *req, void *arg)
{
	static const char *const known[] = {"extension", "context", NULL};
	json_t *body = http_body_json(req, false);
	const char *ext, *context;
	if (!body || !fields_known(req, body, known) || !field_str(req, body, "extension", &ext) ||
	    !field_str(req, body, "context", &context))
		goto out;
	if (!ext) {
		http_reply_error(req, 400, "bad_field", "'extension' is required");
		goto out;
	}
	struct dialplan *dp = http_dialplan(req->http);
	if (!dp) {
		http_reply_error(req, 503, "unavailable", "no dialplan is loaded");
		goto out;
	}
	struct channel *ch = call_find_up(req);
	if (!ch)
		goto out;
	int e = dialplan_transfer(dp, ch, ext, context);
	if (e == -ESRCH && channel_up(ch))
		http_reply_error(req, 400, "bad_field", "no context '%s'", context ? context : "");
	else if (e == -ENOENT)
		http_reply_error(req, 404, "not_found", "no route for %s in %s (the call hung up)",
				 ext, context ? context : ch->context);
	else if (e)
		http_reply_error(req, 409, "wrong_state", "cannot transfer: %s", strerror(-e));
	else
		reply_call(req, ch);
out:
	json_decref(body);
}

/* ---- placing calls ---- */

struct call_job {
	struct dialplan *dp;
	char *app, *args, *extension, *context;
};

static void call_job_free(struct call_job *j)
{
	free(j->app);
	free(j->args);
	free(j->extension);
	free(j->context);
	free(j);
}

static void call_app_done(struct channel *ch, void *arg, int status)
{
	if (channel_up(ch))
		channel_hangup(ch, CAUSE_NORMAL_CLEARING);
}

/* The call answered (ch) or failed (NULL): what the POST asked for runs. */
static void call_answered(void *arg, struct channel *ch, enum core_cause cause)
{
	struct call_job *j = arg;
	if (ch && j->app) {
		int rc = dialplan_app_execute(j->dp, ch, j->app, j->args ? j->args : "",
					      call_app_done, NULL);
		if (rc == DIALPLAN_APP_DONE || rc < 0) {
			if (rc < 0)
				log_warn("%s: %s: %s", ch->uuid, j->app, strerror(-rc));
			call_app_done(ch, NULL, rc);
		}
	} else if (ch && j->extension) {
		dialplan_transfer(j->dp, ch, j->extension, j->context);
	}
	/* (neither: the answered leg parks, for the API to drive) */
	call_job_free(j);
}

/* A value for a {var=value} list: no character the dial string gives a meaning. */
static bool dial_value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || strchr("{}[]<>|\\^", *s))
			return false;
	return true;
}

static void dial_var(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s%s=", b->len > 1 ? "," : "", name);
	for (; *value; value++) {
		if (*value == ',')
			buf_append(b, "\\", 1);
		buf_append(b, value, 1);
	}
}

static bool name_ok(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || strchr(extra, *s)))
			return false;
	return true;
}

static void post_calls(struct http_req *req, void *arg)
{
	static const char *const known[] = {"to",	 "from",	   "gateway", "endpoint",
					    "caller_id_name", "timeout", "variables", "app",
					    "args",	 "context",	   "extension", "url",
					    "method",	 NULL};
	json_t *body = http_body_json(req, false);
	const char *to, *from, *gw, *endpoint, *cid_name, *app, *args, *context, *ext, *url,
	    *method;
	char webhook_args[2100];
	struct buf dial;
	buf_init(&dial);
	if (!body || !fields_known(req, body, known) || !field_str(req, body, "to", &to) ||
	    !field_str(req, body, "from", &from) || !field_str(req, body, "gateway", &gw) ||
	    !field_str(req, body, "endpoint", &endpoint) ||
	    !field_str(req, body, "caller_id_name", &cid_name) ||
	    !field_str(req, body, "app", &app) || !field_str(req, body, "args", &args) ||
	    !field_str(req, body, "context", &context) ||
	    !field_str(req, body, "extension", &ext) || !field_str(req, body, "url", &url) ||
	    !field_str(req, body, "method", &method))
		goto out;
	if (method && !url) {
		http_reply_error(req, 400, "bad_field", "'method' goes with 'url'");
		goto out;
	}
	if (url) {
		/* A TwiML call flow: the webhook application runs once answered. */
		if (app || args || ext || context) {
			http_reply_error(req, 400, "bad_field",
					 "give 'url' or 'app' or 'extension', one of them");
			goto out;
		}
		if ((strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) ||
		    strlen(url) >= 2048 || strpbrk(url, " \t\r\n")) {
			http_reply_error(req, 400, "bad_field", "'url' is an http(s) URL");
			goto out;
		}
		if (method && strcasecmp(method, "GET") != 0 && strcasecmp(method, "POST") != 0) {
			http_reply_error(req, 400, "bad_field", "'method' is GET or POST");
			goto out;
		}
		snprintf(webhook_args, sizeof(webhook_args), "%s%s%s", url, method ? " " : "",
			 method ? method : "");
		app = "webhook";
		args = webhook_args;
	}
	if ((gw != NULL) == (endpoint != NULL)) {
		http_reply_error(req, 400, "bad_field", "give one of 'gateway' or 'endpoint'");
		goto out;
	}
	if (gw && (!to || !name_ok(to, "+*#.-@:") || !name_ok(gw, ".-"))) {
		http_reply_error(req, 400, "bad_field",
				 "with 'gateway', 'to' is the number or user to call");
		goto out;
	}
	if (endpoint && (strncmp(endpoint, "sofia/", 6) != 0 || !dial_value_ok(endpoint) ||
			 strchr(endpoint, ','))) {
		http_reply_error(req, 400, "bad_field",
				 "'endpoint' is one sofia/<profile>/<user>@<host> leg");
		goto out;
	}
	if ((app || args) && (context || ext)) {
		http_reply_error(req, 400, "bad_field",
				 "give 'app' (and 'args') or 'extension' (and 'context'), not both");
		goto out;
	}
	if ((args && !app) || (context && !ext)) {
		http_reply_error(req, 400, "bad_field",
				 args ? "'args' needs 'app'" : "'context' needs 'extension'");
		goto out;
	}
	struct dialplan *dp = http_dialplan(req->http);
	if ((app || ext) && !dp) {
		http_reply_error(req, 503, "unavailable", "no dialplan is loaded");
		goto out;
	}
	if (app && !dialplan_app_find(app)) {
		http_reply_error(req, 400, "bad_field", "no application '%s'", app);
		goto out;
	}
	json_t *timeout = json_object_get(body, "timeout");
	if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
			json_integer_value(timeout) > 3600)) {
		http_reply_error(req, 400, "bad_field", "'timeout' is seconds, 1 to 3600");
		goto out;
	}
	if ((from && !dial_value_ok(from)) || (cid_name && !dial_value_ok(cid_name))) {
		http_reply_error(req, 400, "bad_field", "'from' or 'caller_id_name' has { } [ ] | \\");
		goto out;
	}

	char uuid[UUID_STRLEN];
	uuid_generate(uuid);
	buf_append(&dial, "{", 1);
	dial_var(&dial, "origination_uuid", uuid);
	if (from)
		dial_var(&dial, "origination_caller_id_number", from);
	if (cid_name)
		dial_var(&dial, "origination_caller_id_name", cid_name);
	if (timeout) {
		char t[16];
		snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(timeout));
		dial_var(&dial, "originate_timeout", t);
	}
	json_t *vars = json_object_get(body, "variables");
	if (vars && !json_is_object(vars)) {
		http_reply_error(req, 400, "bad_field", "'variables' is an object");
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(vars, key, v) {
		char num[32];
		const char *value = NULL;
		if (json_is_string(v))
			value = json_string_value(v);
		else if (json_is_integer(v))
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v)),
			    value = num;
		else if (json_is_boolean(v))
			value = json_is_true(v) ? "true" : "false";
		if (!name_ok(key, "-") || !value || !dial_value_ok(value) ||
		    strcmp(key, "origination_uuid") == 0) {
			http_reply_error(req, 400, "bad_field", "variable '%s': bad name or value",
					 key);
			goto out;
		}
		dial_var(&dial, key, value);
	}
	buf_append(&dial, "}", 1);
	if (gw)
		buf_printf(&dial, "sofia/gateway/%s/%s", gw, to);
	else
		buf_append_cstr(&dial, endpoint);

	struct call_job *j = calloc(1, sizeof(*j));
	if (!j || dial.failed) {
		free(j);
		http_reply_error(req, 500, "internal", "out of memory");
		goto out;
	}
	j->dp = dp;
	j->app = app ? strdup(app) : NULL;
	j->args = args ? strdup(args) : NULL;
	j->extension = ext ? strdup(ext) : NULL;
	j->context = context ? strdup(context) : NULL;
	struct core_originate_cbs cbs = {.done_cb = call_answered, .arg = j};
	struct core_originate *o;
	char err[256] = "";
	int e = core_originate(&o, http_core(req->http), dial.p, NULL, &cbs, err, sizeof(err));
	if (e) {
		call_job_free(j);
		http_reply_error(req, 400, "bad_field", "cannot place the call: %s",
				 err[0] ? err : strerror(-e));
		goto out;
	}
	char location[64];
	snprintf(location, sizeof(location), "/v1/calls/%s", uuid);
	http_reply_header(req, "Location", location);
	http_reply_json(req, 201, json_pack("{s:s, s:s}", "uuid", uuid, "state", "CS_NEW"));
out:
	buf_fini(&dial);
	json_decref(body);
}

/* ---- gateways and profiles (from `sofia status`) ---- */

/* The text of a synchronous command. */
static char *command_text(struct http_req *req, const char *line)
{
	struct buf out;
	buf_init(&out);
	core_command_execute(http_core(req->http), line, &out);
	size_t len;
	char *text = buf_steal(&out, &len);
	return text ? text : strdup("");
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* The status table's rows of `type` ("profile", "gateway"): {name, data, state}. */
static json_t *status_rows(char *text, const char *type)
{
	json_t *list = json_array();
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *f[4];
		size_t n = 0;
		for (char *p = line; n < 4;) {
			f[n++] = p;
			char *tab = strchr(p, '\t');
			if (!tab)
				break;
			*tab = '\0';
			p = tab + 1;
		}
		if (n != 4 || strcmp(trim(f[1]), type) != 0)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", trim(f[0]), "data",
						      trim(f[2]), "state", trim(f[3])));
	}
	return list;
}

static void get_profiles(struct http_req *req, void *arg)
{
	char *text = command_text(req, "sofia status");
	json_t *list = status_rows(text, "profile");
	free(text);
	http_reply_json(req, 200, json_pack("{s:o}", "profiles", list));
}

static void get_gateways(struct http_req *req, void *arg)
{
	char *text = command_text(req, "sofia status");
	json_t *list = status_rows(text, "gateway");
	free(text);
	http_reply_json(req, 200, json_pack("{s:o}", "gateways", list));
}

static void get_gateway(struct http_req *req, void *arg)
{
	const char *name = http_param(req, "name");
	if (!name_ok(name, ".-")) {
		http_reply_error(req, 404, "not_found", "no gateway %s", name);
		return;
	}
	char line[256];
	snprintf(line, sizeof(line), "sofia status gateway %s", name);
	char *text = command_text(req, line);
	json_t *doc = json_object();
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *tab = strchr(l, '\t');
		if (!tab || l[0] == '=')
			continue;
		*tab = '\0';
		char *key = trim(l);
		for (char *c = key; *c; c++)
			*c = *c == '-' ? '_' : (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
		json_object_set_new(doc, key, json_string(trim(tab + 1)));
	}
	free(text);
	if (json_object_size(doc) == 0) {
		json_decref(doc);
		http_reply_error(req, 404, "not_found", "no gateway %s", name);
		return;
	}
	http_reply_json(req, 200, doc);
}

/* ---- POST /v1/api ---- */

static void api_done(void *arg, const char *text, size_t len)
{
	struct http_req *req = arg;
	json_t *doc = json_object();
	json_object_set_new(doc, "reply", json_stringn(text, len));
	json_object_set_new(doc, "ok", json_boolean(!(len >= 4 && strncmp(text, "-ERR", 4) == 0) &&
						    !(len >= 6 && strncmp(text, "-USAGE", 6) == 0)));
	http_reply_json(req, 200, doc);
}

static void api_abort(struct http_req *req, void *arg)
{
	core_reply_detach(arg);
}

static void post_api(struct http_req *req, void *arg)
{
	static const char *const known[] = {"command", NULL};
	json_t *body = http_body_json(req, false);
	const char *command;
	if (!body || !fields_known(req, body, known) || !field_str(req, body, "command", &command))
		goto out;
	if (!command || strpbrk(command, "\r\n")) {
		http_reply_error(req, 400, "bad_field", "'command' is one line, e.g. \"status\"");
		goto out;
	}
	/* An asynchronous command (originate) replies later: the request waits
	 * for it, and forgets it if the server stops first. */
	struct core_reply *pending = core_command_run(http_core(req->http), command, api_done, req);
	if (pending)
		http_req_on_abort(req, api_abort, pending);
out:
	json_decref(body);
}

/* ---- the table ---- */

static const struct {
	enum http_method method;
	const char *pattern;
	unsigned flags;
	http_handler_cb cb;
} routes[] = {
    {HTTP_GET, "/v1/openapi.json", HTTP_ROUTE_PUBLIC | HTTP_ROUTE_NO_LIMIT, get_openapi},
    {HTTP_POST, "/v1/calls", 0, post_calls},
    {HTTP_GET, "/v1/calls", 0, get_calls},
    {HTTP_GET, "/v1/calls/{uuid}", 0, get_call},
    {HTTP_DELETE, "/v1/calls/{uuid}", 0, delete_call},
    {HTTP_POST, "/v1/calls/{uuid}/hangup", 0, post_hangup},
    {HTTP_POST, "/v1/calls/{uuid}/answer", 0, post_answer},
    {HTTP_POST, "/v1/calls/{uuid}/play", 0, post_play},
    {HTTP_POST, "/v1/calls/{uuid}/stop", 0, post_stop},
    {HTTP_POST, "/v1/calls/{uuid}/dtmf", 0, post_dtmf},
    {HTTP_POST, "/v1/calls/{uuid}/record", 0, post_record},
    {HTTP_POST, "/v1/calls/{uuid}/bridge", 0, post_bridge},
    {HTTP_POST, "/v1/calls/{uuid}/transfer", 0, post_transfer},
    {HTTP_GET, "/v1/gateways", 0, get_gateways},
    {HTTP_GET, "/v1/gateways/{name}", 0, get_gateway},
    {HTTP_GET, "/v1/profiles", 0, get_profiles},
    {HTTP_POST, "/v1/api", 0, post_api},
};

int http__rest_register(struct http *h)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		int e = http_route_add(h, routes[i].method, routes[i].pattern, routes[i].flags,
				       routes[i].cb, NULL);
		if (e)
			return e;
	}
	return 0;
}
