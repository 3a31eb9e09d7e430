/*
 * The router and the executor, against a stand-in for core's channel API
 * defined in this file (the functions core.h declares for applications).
 * A fake channel records what the applications asked of it; pending media
 * operations are finished by the test, as the media tick would. Checks the
 * order of execution, resuming from done callbacks, a hangup while pending,
 * no route, reload keeping the old dialplan on error, and execute-one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_dialplan_util.h"

/* ---- the stand-in core ---- */

struct fake_chan {
	struct channel ch;
	bool up, answered, parked, executing, done;
	struct buf calls; /* "answer;play(x);…" */
	channel_done_cb cb;
	void *cb_arg;
	void *state;
	void (*free_cb)(void *state);
	int answer_rc, play_rc;
	struct fake_vars vars;
	channel_done_cb stopped_cb; /* what channel_stop_media interrupted */
	void *stopped_arg;
	size_t queued;			 /* digits typed ahead (channel_dtmf_queued) */
	struct channel_collect *collect; /* the collection in progress */
};

static struct core_router router;
static int fake_core_anchor;
#define FAKE_CORE ((struct core *)&fake_core_anchor)

static struct fake_chan *fc(const struct channel *ch)
{
	return container_of(ch, struct fake_chan, ch);
}

static void called(struct channel *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void called(struct channel *ch, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&fc(ch)->calls, fmt, ap);
	va_end(ap);
	buf_append_cstr(&fc(ch)->calls, ";");
}

static int start(struct channel *ch, channel_done_cb cb, void *arg)
{
	struct fake_chan *f = fc(ch);
	if (f->cb)
		fail_msg("a second media operation while one is pending");
	f->cb = cb;
	f->cb_arg = arg;
	return 0;
}

/* The commands the dialplan registers, and the channels they find. */
static struct {
	const char *name;
	core_command_fn fn;
} commands[4];
static struct {
	const char *name;
	core_command_async_fn fn;
} async_commands[2];
static struct fake_chan *live, *live2;

int core_command_register_async(struct core *core, const char *name, const char *usage,
				const char *description, core_command_async_fn fn)
{
	for (size_t i = 0; i < ARRAY_LEN(async_commands); i++)
		if (!async_commands[i].name || strcmp(async_commands[i].name, name) == 0) {
			async_commands[i].name = name;
			async_commands[i].fn = fn;
			return 0;
		}
	return -ENOSPC;
}

/* A pending reply: its text and whether the command said it is done. */
struct core_reply {
	struct buf out;
	bool done;
};

struct buf *core_reply_buf(struct core_reply *r)
{
	return &r->out;
}

void core_reply_done(struct core_reply *r)
{
	assert_false(r->done);
	r->done = true;
}

/* Starts an asynchronous command; the test reads r->out once r->done. */
static void command_async(const char *name, const char *args, struct core_reply *r)
{
	buf_init(&r->out);
	r->done = false;
	for (size_t i = 0; i < ARRAY_LEN(async_commands); i++)
		if (async_commands[i].name && strcmp(async_commands[i].name, name) == 0)
			async_commands[i].fn(FAKE_CORE, args, r);
}

static const char *reply_text(struct core_reply *r)
{
	buf_append(&r->out, "", 1);
	r->out.len--;
	return r->out.p;
}

/* The originate the bridge application and the originate command start:
 * the test plays its progress and its end. */
static struct {
	char dial[512];
	struct channel *a_leg;
	struct core_originate_cbs cbs;
	bool running;
	enum core_cause cancelled;
} orig;

int core_originate(struct core_originate **out, struct core *core, const char *dial_string,
		   struct channel *a_leg, const struct core_originate_cbs *cbs, char *err,
		   size_t err_size)
{
	if (strncmp(dial_string, "bad", 3) == 0) {
		snprintf(err, err_size, "no such endpoint");
		return -EINVAL;
	}
	assert_false(orig.running);
	snprintf(orig.dial, sizeof(orig.dial), "%s", dial_string);
	orig.a_leg = a_leg;
	orig.cbs = *cbs;
	orig.running = true;
	orig.cancelled = CAUSE_NONE;
	*out = (struct core_originate *)&orig;
	return 0;
}

void core_originate_cancel(struct core_originate *o, enum core_cause cause)
{
	assert_ptr_equal(o, &orig);
	assert_true(orig.running);
	orig.running = false;
	orig.cancelled = cause;
}

/* The end of the originate, as core reports it (then it is freed). */
static void orig_done(struct channel *b, enum core_cause cause)
{
	assert_true(orig.running);
	orig.running = false;
	orig.cbs.done_cb(orig.cbs.arg, b, cause);
}

/* Its operation's end comes later (-ECANCELED), as the core's. */
static void op_replaced(struct fake_chan *f)
{
	if (f->cb) {
		f->stopped_cb = f->cb;
		f->stopped_arg = f->cb_arg;
		f->cb = NULL;
	}
}

int channel_bridge(struct channel *a, struct channel *b, channel_done_cb cb, void *arg)
{
	called(a, "bridge(%s)", b->destination_number);
	if (a->bridged || b->bridged || !fc(b)->up)
		return -EINVAL;
	op_replaced(fc(a));
	op_replaced(fc(b));
	fc(a)->cb = cb;
	fc(a)->cb_arg = arg;
	a->bridged = b;
	b->bridged = a;
	return 0;
}

void channel_unbridge(struct channel *ch)
{
	struct channel *o = ch->bridged;
	if (!o)
		return;
	called(ch, "unbridge");
	o->bridged = NULL;
	ch->bridged = NULL;
	op_replaced(fc(ch));
	op_replaced(fc(o));
}

struct channel *channel_bridged(const struct channel *ch)
{
	return ch->bridged;
}

int channel_send_dtmf(struct channel *ch, const char *digits, uint32_t duration_ms)
{
	called(ch, "dtmf(%s,%u)", digits, duration_ms);
	return 0;
}

int channel_record_start(struct channel *ch, const char *path, uint32_t limit_secs)
{
	called(ch, "record(%s,%u)", path, limit_secs);
	return strcmp(path, "fail.wav") == 0 ? -ENOTCONN : 0;
}

int channel_record_stop(struct channel *ch, const char *path)
{
	called(ch, "record_stop(%s)", path);
	return -ENOENT;
}

static void finish(struct fake_chan *f, int status);

/* B hung up while bridged, as the core ends it: the bridge completes with 0
 * and B's cause is left on A. */
static void b_hangs_up(struct fake_chan *a, struct fake_chan *b, enum core_cause cause)
{
	channel_hangup(&b->ch, cause);
	a->ch.bridged = NULL;
	b->ch.bridged = NULL;
	channel_var_set(&a->ch, "bridge_hangup_cause", core_cause_name(cause));
	finish(a, 0);
}

int core_command_register(struct core *core, const char *name, const char *usage,
			  const char *description, core_command_fn fn)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (!commands[i].name || strcmp(commands[i].name, name) == 0) {
			commands[i].name = name;
			commands[i].fn = fn;
			return 0;
		}
	return -ENOSPC;
}

/* Runs a registered command; the reply in a static buffer. */
static const char *command(const char *name, const char *args)
{
	static char reply[512];
	struct buf out;
	buf_init(&out);
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (commands[i].name && strcmp(commands[i].name, name) == 0)
			commands[i].fn(FAKE_CORE, args, &out);
	snprintf(reply, sizeof(reply), "%.*s", (int)out.len, out.p ? out.p : "");
	buf_fini(&out);
	return reply;
}

/* command() with its arguments formatted (most name a channel's uuid). */
static const char *commandf(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *commandf(const char *name, const char *fmt, ...)
{
	char args[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(args));
	return command(name, args);
}

struct channel *core_channel_find(struct core *core, const char *uuid)
{
	if (live && strcmp(live->ch.uuid, uuid) == 0)
		return &live->ch;
	return live2 && strcmp(live2->ch.uuid, uuid) == 0 ? &live2->ch : NULL;
}

/* As the core: the operation's callback comes later, with -ECANCELED. */
void channel_stop_media(struct channel *ch)
{
	struct fake_chan *f = fc(ch);
	called(ch, "stop");
	if (f->cb) {
		f->stopped_cb = f->cb;
		f->stopped_arg = f->cb_arg;
		f->cb = NULL;
	}
}

void core_set_router(struct core *core, const struct core_router *r)
{
	assert_ptr_equal(core, FAKE_CORE);
	router = *r;
}

const char *core_global_var(const struct core *core, const char *name)
{
	return strcmp(name, "domain") == 0 ? "example.org" : NULL;
}

void channel_execute(struct channel *ch, void *state, void (*free_cb)(void *state))
{
	fc(ch)->executing = true;
	fc(ch)->state = state;
	fc(ch)->free_cb = free_cb;
	ch->exec_state = state; /* what dialplan_transfer looks for */
	ch->exec_free_cb = free_cb;
}

void channel_execute_done(struct channel *ch)
{
	assert_false(fc(ch)->done);
	fc(ch)->done = true;
}

void channel_park(struct channel *ch)
{
	fc(ch)->parked = true;
	called(ch, "park");
}

bool channel_up(const struct channel *ch)
{
	return fc(ch)->up;
}

void channel_hangup(struct channel *ch, enum core_cause cause)
{
	fc(ch)->up = false;
	ch->cause = cause;
	called(ch, "hangup(%s)", core_cause_name(cause));
}

int channel_answer(struct channel *ch)
{
	called(ch, "answer");
	if (fc(ch)->answer_rc == -EPROTO)
		channel_hangup(ch, CAUSE_INCOMPATIBLE_DESTINATION);
	fc(ch)->answered = fc(ch)->answer_rc == 0;
	return fc(ch)->answer_rc;
}

bool channel_answered(const struct channel *ch)
{
	return fc(ch)->answered;
}

int channel_pre_answer(struct channel *ch)
{
	called(ch, "pre_answer");
	return 0;
}

int channel_ring_ready(struct channel *ch)
{
	called(ch, "ring_ready");
	return 0;
}

int channel_respond(struct channel *ch, uint16_t status, const char *reason)
{
	called(ch, "respond(%u,%s)", status, reason ? reason : "-");
	channel_hangup(ch, core_cause_from_sip(status));
	return 0;
}

int channel_play(struct channel *ch, const char *spec, channel_done_cb cb, void *arg)
{
	called(ch, "play(%s)", spec);
	return fc(ch)->play_rc ? fc(ch)->play_rc : start(ch, cb, arg);
}

int channel_speak(struct channel *ch, const char *text, const char *voice, channel_done_cb cb,
		  void *arg)
{
	called(ch, "speak(%s,%s)", voice ? voice : "-", text);
	return start(ch, cb, arg);
}

int channel_echo(struct channel *ch, channel_done_cb cb, void *arg)
{
	called(ch, "echo");
	return start(ch, cb, arg);
}

int channel_sleep(struct channel *ch, uint32_t ms, channel_done_cb cb, void *arg)
{
	called(ch, "sleep(%u)", ms);
	return start(ch, cb, arg);
}

size_t channel_dtmf_queued(const struct channel *ch)
{
	return fc(ch)->queued;
}

void channel_dtmf_flush(struct channel *ch)
{
	called(ch, "flush");
	fc(ch)->queued = 0;
}

void channel_dtmf_barge(struct channel *ch, bool on)
{
}

int channel_collect_digits(struct channel *ch, struct channel_collect *c, channel_done_cb cb,
			   void *arg)
{
	called(ch, "collect(%zu,%s,%u,%u)", c->max, c->terminators ? c->terminators : "",
	       c->first_timeout_ms, c->digit_timeout_ms);
	c->count = 0;
	c->digits[0] = '\0';
	c->terminator = '\0';
	fc(ch)->collect = c;
	return start(ch, cb, arg);
}

int channel_record_read(struct channel *ch, const char *path, struct channel_record_read *r,
			channel_done_cb cb, void *arg)
{
	called(ch, "record_read(%s,%u,%u,%u,%s)", path, r->limit_ms, r->silence_ms,
	       r->silence_threshold, r->terminators ? r->terminators : "-");
	if (strcmp(path, "fail.wav") == 0)
		return -EEXIST;
	return start(ch, cb, arg);
}

int channel_dtmf_detect_start(struct channel *ch)
{
	called(ch, "detect_start");
	return 0;
}

void channel_dtmf_detect_stop(struct channel *ch)
{
	called(ch, "detect_stop");
}

/* The executor's CHANNEL_EXECUTE events: not what these tests observe. */
void channel_event_fire(struct channel *ch, const char *name,
			void (*extra)(void *arg, struct core_event *ev), void *arg)
{
}

const char *channel_var(const struct channel *ch, const char *name)
{
	if (strcmp(name, "uuid") == 0)
		return ch->uuid;
	if (strcmp(name, "destination_number") == 0)
		return ch->destination_number;
	if (strcmp(name, "caller_id_number") == 0)
		return ch->caller_id_number;
	return fake_get(&fc(ch)->vars, name);
}

int channel_var_set(struct channel *ch, const char *name, const char *value)
{
	return fake_set(&fc(ch)->vars, name, value);
}

/* Finishes the pending media operation with `status`, as the media tick does. */
static void finish(struct fake_chan *f, int status)
{
	channel_done_cb cb = f->cb;
	assert_non_null(cb);
	f->cb = NULL;
	cb(&f->ch, f->cb_arg, status);
}

static void chan_init(struct fake_chan *f, const char *context, const char *dest)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->ch.uuid, sizeof(f->ch.uuid), "0a0b0c0d-0000-4000-8000-000000000001");
	f->ch.context = context;
	f->ch.destination_number = dest;
	f->ch.caller_id_number = "+15550001111";
	f->ch.caller_id_name = "Alice";
	f->ch.state = CS_ROUTING;
	f->up = true;
	arena_init(&f->ch.arena, 0);
	buf_init(&f->calls);
	fake_init(&f->vars, "");
}

/* What the channel's destruction does: the executor's state goes. */
static void chan_fini(struct fake_chan *f)
{
	if (f->free_cb)
		f->free_cb(f->state);
	arena_fini(&f->ch.arena);
	buf_fini(&f->calls);
	fake_fini(&f->vars);
}

static const char *calls(struct fake_chan *f)
{
	return f->calls.p ? f->calls.p : "";
}

/* What the channel asked for since `mark` (a length of calls() earlier). */
static const char *calls_after(struct fake_chan *f, size_t mark)
{
	return calls(f) + mark;
}

/* The last steps the channel asked for were `tail`. */
static void assert_calls_end(struct fake_chan *f, const char *tail)
{
	size_t len = strlen(calls(f)), tail_len = strlen(tail);
	assert_true(len >= tail_len);
	assert_string_equal(calls_after(f, len - tail_len), tail);
}

/* The channel enters the dialplan, as the core routes a new call. */
static void route(struct fake_chan *f)
{
	router.route_cb(router.arg, &f->ch);
}

static void new_call(struct fake_chan *f, const char *context, const char *dest)
{
	chan_init(f, context, dest);
	route(f);
}

/* The operation a stop or a bridge interrupted ends now, as the core reports
 * it: later, with -ECANCELED. */
static void stopped_op_ends(struct fake_chan *f)
{
	f->stopped_cb(&f->ch, f->stopped_arg, -ECANCELED);
}

/* ---- a dialplan on disk ---- */

static const char test_plan[] =
    "<include><context name=\"default\">\n"
    "<extension name=\"flow\">\n"
    " <condition field=\"destination_number\" expression=\"^(1\\d\\d)$\">\n"
    "  <action application=\"answer\"/>\n"
    "  <action application=\"set\" data=\"greeting=hello ${caller_id_number} at ${domain}\"/>\n"
    "  <action application=\"sleep\" data=\"0\"/>\n"
    "  <action application=\"playback\" data=\"prompts/$1.wav\"/>\n"
    "  <action application=\"speak\" data=\"espeak|en|${greeting}\"/>\n"
    "  <action application=\"sleep\" data=\"250\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "<extension name=\"busy\">\n"
    " <condition field=\"destination_number\" expression=\"^200$\">\n"
    "  <action application=\"respond\" data=\"486 Busy Here\"/>\n"
    "  <action application=\"log\" data=\"ERR never runs\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "<extension name=\"hangup\">\n"
    " <condition field=\"destination_number\" expression=\"^201$\">\n"
    "  <action application=\"ring_ready\"/>\n"
    "  <action application=\"pre_answer\"/>\n"
    "  <action application=\"hangup\" data=\"USER_BUSY\"/>\n"
    "  <action application=\"answer\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "<extension name=\"park\">\n"
    " <condition field=\"destination_number\" expression=\"^202$\">\n"
    "  <action application=\"echo\"/>\n"
    "  <action application=\"park\"/>\n"
    "  <action application=\"answer\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "</context></include>\n";

#define CTX_ECHO                                                                                   \
	"<include><context name=\"default\"><extension name=\"e\">"                                \
	"<condition field=\"destination_number\" expression=\"^201$\">"                            \
	"<action application=\"echo\"/></condition></extension></context></include>"

static struct config *config_of(const char *plan, char **dir)
{
	struct config *cfg;
	char err[512];

	*dir = tree_create();
	tree_write(*dir, "freeswitch.xml", DP_ROOT_XML);
	tree_write(*dir, "dialplan/test.xml", plan);
	assert_int_equal(config_load(&cfg, *dir, NULL, err, sizeof(err)), 0);
	return cfg;
}

static void config_drop(struct config *cfg, char *dir)
{
	config_free(cfg);
	tree_remove(dir);
}

static struct dialplan *create(const char *plan)
{
	struct dialplan *dp;
	char err[512], *dir;
	struct config *cfg = config_of(plan, &dir);

	memset(&router, 0, sizeof(router));
	assert_int_equal(dialplan_create(&dp, FAKE_CORE, cfg, err, sizeof(err)), 0);
	config_drop(cfg, dir); /* the dialplan keeps nothing of it */
	assert_non_null(router.route_cb);
	assert_ptr_equal(router.arg, dp);
	return dp;
}

static void test_flow(void **state)
{
	struct dialplan *dp = create(test_plan);
	struct fake_chan f;
	struct capture cap;

	chan_init(&f, "default", "123");
	log_set_level(LOG_INFO);
	capture_begin(&cap);
	route(&f);
	char *log = capture_end(&cap);
	log_set_level(LOG_WARNING);
	assert_true(f.executing);
	/* answer, set and sleep 0 finish at once; playback is pending */
	assert_string_equal(calls(&f), "answer;play(prompts/123.wav);");
	assert_string_equal(fake_get(&f.vars, "greeting"), "hello +15550001111 at example.org");
	assert_non_null(strstr(log, "EXECUTE [depth=0] 0a0b0c0d-0000-4000-8000-000000000001 "
				    "answer()"));
	assert_non_null(strstr(log, "EXECUTE [depth=0] 0a0b0c0d-0000-4000-8000-000000000001 "
				    "playback(prompts/123.wav)"));
	assert_null(strstr(log, "speak("));
	free(log);

	finish(&f, 0);
	assert_string_equal(calls(&f),
			    "answer;play(prompts/123.wav);speak(en,hello +15550001111 at "
			    "example.org);");
	/* a stopped operation (uuid_break) lets the dialplan go on */
	finish(&f, -ECANCELED);
	assert_calls_end(&f, "sleep(250);");
	assert_false(f.done);
	finish(&f, 0);
	assert_true(f.done); /* out of actions */
	assert_true(f.up);
	chan_fini(&f);
	dialplan_destroy(dp);
}

static void test_hangup_while_pending(void **state)
{
	struct dialplan *dp = create(test_plan);
	struct fake_chan f;

	new_call(&f, "default", "150");
	assert_string_equal(calls(&f), "answer;play(prompts/150.wav);");
	channel_hangup(&f.ch, CAUSE_NORMAL_CLEARING); /* the caller hangs up */
	finish(&f, -ECANCELED);
	assert_string_equal(calls(&f), "answer;play(prompts/150.wav);hangup(NORMAL_CLEARING);");
	assert_false(f.done);
	assert_null(f.cb);
	chan_fini(&f); /* frees the executor; ASan reports a leak otherwise */
	dialplan_destroy(dp);
}

static void test_stop_apps(void **state)
{
	struct dialplan *dp = create(test_plan);
	struct fake_chan f;

	new_call(&f, "default", "200");
	assert_string_equal(calls(&f), "respond(486,Busy Here);hangup(USER_BUSY);");
	assert_false(f.done);
	chan_fini(&f);

	new_call(&f, "default", "201");
	assert_string_equal(calls(&f), "ring_ready;pre_answer;hangup(USER_BUSY);");
	assert_int_equal(f.ch.cause, CAUSE_USER_BUSY);
	assert_false(f.done);
	chan_fini(&f);

	new_call(&f, "default", "202");
	finish(&f, -ECANCELED); /* echo stopped */
	assert_string_equal(calls(&f), "echo;park;");
	assert_true(f.parked);
	assert_false(f.done);
	chan_fini(&f);
	dialplan_destroy(dp);
}

/* A failing application is logged and the next one runs; an answer that
 * ended the call (no codec) ends the executor. */
static void test_failures(void **state)
{
	struct dialplan *dp = create(test_plan);
	struct fake_chan f;

	chan_init(&f, "default", "123");
	f.play_rc = -ENOENT;
	route(&f);
	assert_string_equal(calls(&f),
			    "answer;play(prompts/123.wav);speak(en,hello +15550001111 at "
			    "example.org);");
	chan_fini(&f);

	chan_init(&f, "default", "123");
	f.answer_rc = -EPROTO;
	route(&f);
	assert_string_equal(calls(&f), "answer;hangup(INCOMPATIBLE_DESTINATION);");
	assert_false(f.done);
	chan_fini(&f);
	dialplan_destroy(dp);
}

static void test_no_route(void **state)
{
	struct dialplan *dp = create(test_plan);
	struct fake_chan f;

	static const struct {
		const char *context, *dest, *want;
		bool executes;
	} v[] = {
	    {"default", "999", "hangup(NO_ROUTE_DESTINATION);", false},
	    {"nowhere", "123", "hangup(NO_ROUTE_DESTINATION);", false},
	    {NULL, "123", "answer;play(prompts/123.wav);", true}, /* no context: default */
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		new_call(&f, v[i].context, v[i].dest);
		assert_string_equal(calls(&f), v[i].want);
		assert_int_equal(f.executing, v[i].executes);
		chan_fini(&f);
	}
	dialplan_destroy(dp);
}

static void test_reload(void **state)
{
	struct dialplan *dp = create(test_plan);
	struct fake_chan old, f;
	struct config *cfg;
	char err[512], *dir;

	/* a call in progress on the first dialplan */
	new_call(&old, "default", "123");

	cfg = config_of("<include><context name=\"default\"><extension name=\"x\">"
			"<condition field=\"destination_number\" expression=\"^(\"/>"
			"</extension></context></include>",
			&dir);
	struct capture cap;
	capture_begin(&cap);
	assert_int_equal(router.reload_cb(router.arg, cfg), -EINVAL);
	char *log = capture_end(&cap);
	assert_non_null(strstr(log, "dialplan reload failed, the running dialplan stays: "));
	assert_non_null(strstr(log, "dialplan/test.xml:1: bad regular expression '^('"));
	free(log);
	config_drop(cfg, dir);

	new_call(&f, "default", "201");
	assert_string_equal(calls(&f), "ring_ready;pre_answer;hangup(USER_BUSY);");
	chan_fini(&f);

	cfg = config_of(CTX_ECHO, &dir);
	assert_int_equal(dialplan_reload(dp, cfg, err, sizeof(err)), 0);
	config_drop(cfg, dir);
	new_call(&f, "default", "201");
	assert_string_equal(calls(&f), "echo;");
	finish(&f, 0);
	assert_true(f.done);
	chan_fini(&f);

	/* the call from before the reload finishes on its own route */
	finish(&old, 0);
	assert_non_null(strstr(calls(&old), "speak(en,hello"));
	chan_fini(&old);
	dialplan_destroy(dp);
}

static void test_execute_one(void **state)
{
	struct dialplan *dp = create(test_plan);
	struct fake_chan f;

	chan_init(&f, "default", "123");
	fake_set(&f.vars, "file", "music.wav");
	assert_int_equal(dialplan_app_execute(dp, &f.ch, "playback", "/s/${file}", NULL, NULL),
			 DIALPLAN_APP_PENDING);
	assert_string_equal(calls(&f), "play(/s/music.wav);");
	f.cb = NULL;
	assert_int_equal(dialplan_app_execute(dp, &f.ch, "set", "a=$1 ${domain}", NULL, NULL),
			 DIALPLAN_APP_DONE);
	assert_string_equal(fake_get(&f.vars, "a"), "$1 example.org");
	assert_int_equal(dialplan_app_execute(dp, &f.ch, "conference", "room", NULL, NULL),
			 -ENOENT);
	assert_int_equal(dialplan_app_execute(dp, &f.ch, "sleep", "soon", NULL, NULL), -EINVAL);
	assert_int_equal(dialplan_app_execute(dp, &f.ch, "respond", "200", NULL, NULL), -EINVAL);
	assert_int_equal(dialplan_app_execute(dp, &f.ch, "hangup", "", NULL, NULL),
			 DIALPLAN_APP_STOP);
	assert_int_equal(f.ch.cause, CAUSE_NORMAL_CLEARING);
	chan_fini(&f);
	dialplan_destroy(dp);
}

static const char transfer_plan[] =
    "<include><context name=\"default\">\n"
    "<extension name=\"first\">\n"
    " <condition field=\"destination_number\" expression=\"^100$\">\n"
    "  <action application=\"answer\"/>\n"
    "  <action application=\"playback\" data=\"first.wav\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "<extension name=\"park\">\n"
    " <condition field=\"destination_number\" expression=\"^101$\">\n"
    "  <action application=\"park\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "</context><context name=\"other\">\n"
    "<extension name=\"second\">\n"
    " <condition field=\"destination_number\" expression=\"^(2\\d\\d)$\">\n"
    "  <action application=\"playback\" data=\"second-$1-${destination_number}.wav\"/>\n"
    " </condition>\n"
    "</extension>\n"
    "</context></include>\n";

static void test_transfer(void **state)
{
	struct dialplan *dp = create(transfer_plan);
	struct fake_chan f;
	const char *u = "0a0b0c0d-0000-4000-8000-000000000001";

	chan_init(&f, "default", "100");
	live = &f;
	route(&f);
	assert_string_equal(calls(&f), "answer;play(first.wav);");
	/* The running playback stops; the new context's route starts at once. */
	assert_string_equal(commandf("uuid_transfer", "%s 250 XML other", u), "+OK\n");
	assert_string_equal(calls(&f), "answer;play(first.wav);stop;play(second-250-250.wav);");
	assert_string_equal(f.ch.context, "other");
	assert_string_equal(f.ch.destination_number, "250");
	/* The interrupted playback's late completion changes nothing. */
	stopped_op_ends(&f);
	assert_string_equal(calls(&f), "answer;play(first.wav);stop;play(second-250-250.wav);");
	assert_false(f.done);
	finish(&f, 0);
	assert_true(f.done);

	/* <dest> <context> without a dialplan name; -both is the channel. */
	f.done = false;
	assert_string_equal(commandf("uuid_transfer", "%s -both 251 other", u), "+OK\n");
	assert_calls_end(&f, "play(second-251-251.wav);");
	finish(&f, 0);
	assert_true(f.done);

	/* Errors. */
	assert_non_null(strstr(commandf("uuid_transfer", "%s -bleg 250", u), "-ERR"));
	assert_non_null(strstr(commandf("uuid_transfer", "%s 250 LUA other", u), "-ERR"));
	assert_string_equal(command("uuid_transfer", "nosuch 250"), "-ERR No such channel!\n");
	assert_non_null(strstr(command("uuid_transfer", u), "-USAGE"));
	/* No route there: the call ends, as FreeSWITCH. */
	assert_non_null(
	    strstr(commandf("uuid_transfer", "%s 999 other", u), "-ERR transfer failed: no route"));
	assert_int_equal(f.ch.cause, CAUSE_NO_ROUTE_DESTINATION);
	assert_false(f.up);
	assert_non_null(strstr(commandf("uuid_transfer", "%s 250 other", u), "-ERR"));
	live = NULL;
	chan_fini(&f);
	dialplan_destroy(dp);
}

/* ---- play_and_get_digits and read on a channel (app_digits.c) ---- */

static const char digits_plan[] =
    "<include><context name=\"default\">\n"
    "<extension name=\"pagd\"><condition field=\"destination_number\" expression=\"^300$\">\n"
    "  <action application=\"answer\"/>\n"
    "  <action application=\"play_and_get_digits\"\n"
    "          data=\"2 3 2 4000 # ask.wav bad.wav got ^1\\d+$ 1500 900 XML default\"/>\n"
    "  <action application=\"playback\" data=\"after-${got}-${read_result}.wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"fail\"><condition field=\"destination_number\" expression=\"^900$\">\n"
    "  <action application=\"playback\" data=\"failed-${got_invalid}-${read_result}.wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"read\"><condition field=\"destination_number\" expression=\"^301$\">\n"
    "  <action application=\"read\" data=\"1 2 q.wav ans 3000 *\"/>\n"
    "  <action application=\"playback\" data=\"r-${ans}-${read_result}.wav\"/>\n"
    "</condition></extension>\n"
    "</context></include>\n";

/* Ends the pending collection with `digits` (and a terminator, or 0). */
static void collect_end(struct fake_chan *f, const char *digits, char term, int status)
{
	assert_non_null(f->collect);
	snprintf(f->collect->digits, sizeof(f->collect->digits), "%s", digits);
	f->collect->count = strlen(digits);
	f->collect->terminator = term;
	finish(f, status);
}

/* A call to `dest` whose prompt plays out, then the caller enters nothing. */
static void call_enters_nothing(struct fake_chan *f, const char *dest)
{
	new_call(f, "default", dest);
	finish(f, 0);
	collect_end(f, "", 0, -ETIMEDOUT);
}

static void test_play_and_get_digits(void **state)
{
	struct dialplan *dp = create(digits_plan);
	struct fake_chan f;

	new_call(&f, "default", "300");
	assert_string_equal(calls(&f), "answer;play(ask.wav);");
	finish(&f, -EINTR); /* a digit stopped the prompt: collect */
	assert_string_equal(calls(&f), "answer;play(ask.wav);collect(3,#,4000,1500);");
	/* 25# does not match ^1\d+$: the invalid prompt, then try 2 */
	collect_end(&f, "25", '#', 0);
	assert_string_equal(fake_get(&f.vars, "got_invalid"), "25");
	assert_string_equal(fake_get(&f.vars, "read_terminator_used"), "#");
	assert_string_equal(calls_after(&f, strlen("answer;play(ask.wav);collect(3,#,4000,1500);")),
			    "flush;play(bad.wav);");
	f.queued = 1; /* typed ahead during the invalid prompt: no prompt again */
	finish(&f, 0);
	assert_calls_end(&f, "play(bad.wav);collect(3,#,4000,1500);");
	collect_end(&f, "123", 0, 0);
	assert_string_equal(fake_get(&f.vars, "got"), "123");
	assert_calls_end(&f, "play(after-123-success.wav);");
	finish(&f, 0);
	assert_true(f.done);
	chan_fini(&f);

	/* two timeouts: transfer_on_failure to 900 */
	call_enters_nothing(&f, "300");
	assert_calls_end(&f, "flush;play(bad.wav);");
	finish(&f, 0);
	finish(&f, 0); /* the prompt of try 2 */
	collect_end(&f, "9", 0, -ETIMEDOUT);
	finish(&f, 0); /* the invalid prompt: tries used up */
	assert_string_equal(f.ch.destination_number, "900");
	assert_calls_end(&f, "play(failed-9-failure.wav);");
	assert_null(fake_get(&f.vars, "got"));
	finish(&f, 0);
	assert_true(f.done);
	chan_fini(&f);

	/* a hangup during the prompt ends it; nothing more runs */
	new_call(&f, "default", "300");
	channel_hangup(&f.ch, CAUSE_NORMAL_CLEARING);
	finish(&f, -ECANCELED);
	assert_null(f.cb);
	assert_false(f.done);
	chan_fini(&f);
	dialplan_destroy(dp);
}

static void test_read(void **state)
{
	struct dialplan *dp = create(digits_plan);
	struct fake_chan f;

	new_call(&f, "default", "301");
	assert_string_equal(calls(&f), "play(q.wav);");
	finish(&f, 0);
	assert_string_equal(calls(&f), "play(q.wav);collect(2,*,3000,3000);");
	collect_end(&f, "7", '*', 0);
	assert_string_equal(calls(&f), "play(q.wav);collect(2,*,3000,3000);play(r-7-success.wav);");
	finish(&f, 0);
	chan_fini(&f);

	/* nothing entered: read keeps the empty entry, read_result timeout */
	call_enters_nothing(&f, "301");
	assert_calls_end(&f, "play(r--timeout.wav);");
	finish(&f, 0);
	chan_fini(&f);
	dialplan_destroy(dp);
}

static void test_transfer_parked(void **state)
{
	struct dialplan *dp = create(transfer_plan);
	struct fake_chan f;

	chan_init(&f, "default", "101");
	live = &f;
	route(&f);
	assert_string_equal(calls(&f), "park;");
	assert_int_equal(dialplan_transfer(dp, &f.ch, "222", "other"), 0);
	assert_string_equal(calls(&f), "park;stop;play(second-222-222.wav);");
	finish(&f, 0);
	assert_true(f.done);
	live = NULL;
	chan_fini(&f);
	dialplan_destroy(dp);
}

static void test_eval(void **state)
{
	struct dialplan *dp = create(transfer_plan);
	struct fake_chan f;

	chan_init(&f, "default", "100");
	live = &f;
	fake_set(&f.vars, "color", "blue");
	assert_string_equal(command("eval", "at ${domain}: ${color}"), "at example.org: ");
	assert_string_equal(command("eval", "uuid:0a0b0c0d-0000-4000-8000-000000000001 ${color} "
					    "${destination_number} ${domain} ${nothing}|"),
			    "blue 100 example.org |");
	assert_string_equal(command("eval", "uuid:nosuch ${color}"),
			    "-ERR no such channel nosuch\n");
	assert_string_equal(command("eval", ""), "");
	live = NULL;
	chan_fini(&f);
	dialplan_destroy(dp);
}

/* An application another module registers (as control's socket). */
static int ext_run(void *arg, struct channel *ch, const char *data, channel_done_cb cb,
		   void *cb_arg)
{
	called(ch, "ext(%s,%s)", (const char *)arg, data);
	return start(ch, cb, cb_arg) == 0 ? DIALPLAN_APP_PENDING : -EIO;
}

static void test_app_register(void **state)
{
	assert_int_equal(
	    dialplan_app_register("ext_app", "<x>", DIALPLAN_APP_INLINE, ext_run, (void *)"reg"),
	    0);
	assert_int_equal(dialplan_app_register("ext_app", "", 0, ext_run, NULL), -EEXIST);
	assert_int_equal(dialplan_app_register("playback", "", 0, ext_run, NULL), -EEXIST);
	assert_int_equal(dialplan_app_register("x", "", 0, NULL, NULL), -EINVAL);
	const struct dialplan_app *a = dialplan_app_find("ext_app");
	assert_non_null(a);
	assert_int_equal(a->flags & DIALPLAN_APP_INLINE, 0); /* never while hunting */

	/* The loader knows it; the executor runs it and waits for its completion. */
	struct dialplan *dp = create("<include><context name=\"default\"><extension name=\"e\">"
				     "<condition field=\"destination_number\" expression=\"^3$\">"
				     "<action application=\"ext_app\" data=\"to ${domain}\"/>"
				     "<action application=\"answer\"/>"
				     "</condition></extension></context></include>");
	struct fake_chan f;
	new_call(&f, "default", "3");
	assert_string_equal(calls(&f), "ext(reg,to example.org);");
	finish(&f, -ECONNREFUSED); /* a failure: the dialplan goes on */
	assert_string_equal(calls(&f), "ext(reg,to example.org);answer;");
	assert_true(f.done);
	chan_fini(&f);
	dialplan_destroy(dp);
}

/* ---- bridge, send_dtmf, uuid_bridge, originate ---- */

static const char bridge_plan[] =
    "<include><context name=\"default\">\n"
    "<extension name=\"plain\"><condition field=\"destination_number\" expression=\"^300$\">\n"
    "  <action application=\"bridge\" data=\"sofia/internal/1000@127.0.0.1:5099\"/>\n"
    "  <action application=\"playback\" data=\"after-${DIALSTATUS}.wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"hab\"><condition field=\"destination_number\" expression=\"^301$\">\n"
    "  <action application=\"set\" data=\"hangup_after_bridge=true\"/>\n"
    "  <action application=\"set\" data=\"ignore_early_media=true\"/>\n"
    "  <action application=\"bridge\" data=\"{x=1}sofia/internal/${destination_number}@h\"/>\n"
    "  <action application=\"playback\" data=\"never.wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"cof\"><condition field=\"destination_number\" expression=\"^302$\">\n"
    "  <action application=\"set\" data=\"continue_on_fail=NO_ANSWER, 17\"/>\n"
    "  <action application=\"bridge\" data=\"sofia/internal/1@h\"/>\n"
    "  <action application=\"playback\" data=\"failed-${originate_disposition}-${DIALSTATUS}"
    ".wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"dtmf\"><condition field=\"destination_number\" expression=\"^303$\">\n"
    "  <action application=\"send_dtmf\" data=\"12#@200\"/>\n"
    "  <action application=\"bridge\" data=\"bad/x\"/>\n"
    "  <action application=\"playback\" data=\"never.wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"rec\"><condition field=\"destination_number\" expression=\"^304$\">\n"
    "  <action application=\"record_session\" data=\"calls/${destination_number}.wav  +30\"/>\n"
    "  <action application=\"record_session\" data=\"fail.wav\"/>\n"
    "  <action application=\"record_session\" data=\"/tmp/a+b.wav\"/>\n"
    "  <action application=\"record_session\" data=\"x.wav +abc\"/>\n"
    "  <action application=\"stop_record_session\" data=\"all\"/>\n"
    "  <action application=\"playback\" data=\"after.wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"record\"><condition field=\"destination_number\" expression=\"^305$\">\n"
    "  <action application=\"record\" data=\"msg/${destination_number}.wav 20 300 2\"/>\n"
    "  <action application=\"set\" data=\"playback_terminators=#0\"/>\n"
    "  <action application=\"record\" data=\"b.ogg  60 150\"/>\n"
    "  <action application=\"set\" data=\"playback_terminators=none\"/>\n"
    "  <action application=\"record\" data=\"fail.wav\"/>\n"
    "  <action application=\"record\" data=\"c.wav 0 0 9\"/>\n"
    "  <action application=\"playback\" data=\"after.wav\"/>\n"
    "</condition></extension>\n"
    "<extension name=\"hold\"><condition field=\"destination_number\" expression=\"^310$\">\n"
    "  <action application=\"answer\"/>\n"
    "  <action application=\"playback\" data=\"hold.wav\"/>\n"
    "</condition></extension>\n"
    "</context></include>\n";

static void chan_init_b(struct fake_chan *b, const char *dest)
{
	chan_init(b, "default", dest);
	snprintf(b->ch.uuid, sizeof(b->ch.uuid), "0a0b0c0d-0000-4000-8000-00000000000b");
}

/* A calls `dest` of bridge_plan, with no originate started before. */
static void bridge_call(struct fake_chan *a, const char *dest)
{
	chan_init(a, "default", dest);
	memset(&orig, 0, sizeof(orig));
	route(a);
}

/* A and B both in extension 310 (hold music), both found by their uuid. */
static void hold_pair(struct fake_chan *a, struct fake_chan *b)
{
	chan_init(a, "default", "310");
	chan_init_b(b, "310");
	live = a;
	live2 = b;
	route(a);
	route(b);
}

static void hold_pair_fini(struct fake_chan *a, struct fake_chan *b)
{
	live = live2 = NULL;
	chan_fini(a);
	chan_fini(b);
}

static const char *uuid_bridge(struct fake_chan *a, struct fake_chan *b)
{
	return commandf("uuid_bridge", "%s %s", a->ch.uuid, b->ch.uuid);
}

/* Loads a dialplan of the one action `app` with `data`: what the loader
 * says of it, into err. */
static int load_one_action(const char *app, const char *data, char *err, size_t err_size)
{
	struct dialplan_xml *x;
	char plan[512];
	int n = snprintf(plan, sizeof(plan),
			 "<include><context name=\"default\"><extension name=\"e\"><condition>"
			 "<action application=\"%s\" data=\"%s\"/></condition></extension>"
			 "</context></include>",
			 app, data);
	assert_true(n > 0 && (size_t)n < sizeof(plan));
	int rc = dp_load(&x, plan, err, err_size, NULL);
	if (rc == 0)
		dialplan_xml_unref(x);
	return rc;
}

/* Early media bridged before A answers, kept when that leg answers; B's
 * hangup lets A's dialplan go on. */
static void test_bridge_app_early_then_answer(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a, b;
	chan_init_b(&b, "1000");
	bridge_call(&a, "300");
	assert_string_equal(calls(&a), "sleep(4294967295);");
	assert_string_equal(orig.dial, "sofia/internal/1000@127.0.0.1:5099");
	assert_ptr_equal(orig.a_leg, &a.ch);

	orig.cbs.progress_cb(orig.cbs.arg, &b.ch, false);
	assert_string_equal(calls(&a), "sleep(4294967295);ring_ready;");
	orig.cbs.progress_cb(orig.cbs.arg, &b.ch, true);
	assert_string_equal(calls(&a), "sleep(4294967295);ring_ready;pre_answer;bridge(1000);");
	assert_ptr_equal(a.ch.bridged, &b.ch);
	/* the wait the bridge replaced ends later: nothing moves */
	size_t mark = strlen(calls(&a));
	stopped_op_ends(&a);
	assert_string_equal(calls_after(&a, mark), "");

	orig_done(&b.ch, CAUSE_NONE);
	assert_string_equal(calls_after(&a, mark), "answer;"); /* the early bridge stays */
	assert_string_equal(fake_get(&a.vars, "originate_disposition"), "SUCCESS");
	assert_true(a.up);
	assert_false(a.done);

	b_hangs_up(&a, &b, CAUSE_NORMAL_CLEARING);
	assert_true(a.up);
	assert_string_equal(calls_after(&a, mark), "answer;play(after-SUCCESS.wav);");
	finish(&a, 0);
	assert_true(a.done);
	chan_fini(&a);
	chan_fini(&b);
	dialplan_destroy(dp);
}

/* ignore_early_media: A only hears ringing; hangup_after_bridge: A follows
 * B with B's cause. */
static void test_bridge_app_hangup_after(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a, b;
	chan_init_b(&b, "301");
	bridge_call(&a, "301");
	assert_string_equal(orig.dial, "{x=1}sofia/internal/301@h");
	orig.cbs.progress_cb(orig.cbs.arg, &b.ch, true);
	assert_string_equal(calls(&a), "sleep(4294967295);ring_ready;");
	assert_null(a.ch.bridged);
	b.answered = true;
	orig_done(&b.ch, CAUSE_NONE);
	assert_string_equal(calls(&a), "sleep(4294967295);ring_ready;answer;bridge(301);");
	stopped_op_ends(&a); /* the wait: stale */
	b_hangs_up(&a, &b, CAUSE_USER_BUSY);
	assert_string_equal(calls(&a),
			    "sleep(4294967295);ring_ready;answer;bridge(301);hangup(USER_BUSY);");
	assert_false(a.up);
	assert_false(a.done);
	chan_fini(&a);
	chan_fini(&b);
	dialplan_destroy(dp);
}

/* Failures: DIALSTATUS and originate_disposition; continue_on_fail by name
 * or Q.850 number, otherwise A hangs up with the cause. */
static void test_bridge_app_failures(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	static const struct {
		enum core_cause cause;
		const char *want;
	} v[] = {
	    {CAUSE_NO_ANSWER, "sleep(4294967295);stop;play(failed-NO_ANSWER-NOANSWER.wav);"},
	    {CAUSE_USER_BUSY, "sleep(4294967295);stop;play(failed-USER_BUSY-BUSY.wav);"},
	    {CAUSE_CALL_REJECTED, "sleep(4294967295);stop;hangup(CALL_REJECTED);"},
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		struct fake_chan a;
		bridge_call(&a, "302");
		orig_done(NULL, v[i].cause);
		assert_string_equal(calls(&a), v[i].want);
		assert_string_equal(fake_get(&a.vars, "originate_disposition"),
				    core_cause_name(v[i].cause));
		stopped_op_ends(&a); /* the wait: stale */
		assert_string_equal(calls(&a), v[i].want);
		chan_fini(&a);
	}
	dialplan_destroy(dp);
}

/* A hangs up while B rings: the originate is cancelled ORIGINATOR_CANCEL. */
static void test_bridge_app_caller_gone(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a, b;
	chan_init_b(&b, "1000");
	bridge_call(&a, "300");
	channel_hangup(&a.ch, CAUSE_NORMAL_CLEARING);
	finish(&a, -ECANCELED); /* the wait ends with the hangup */
	assert_false(orig.running);
	assert_int_equal(orig.cancelled, CAUSE_ORIGINATOR_CANCEL);
	assert_false(a.done);

	/* While the early media is bridged too. */
	chan_fini(&a);
	bridge_call(&a, "300");
	orig.cbs.progress_cb(orig.cbs.arg, &b.ch, true);
	assert_ptr_equal(a.ch.bridged, &b.ch);
	channel_hangup(&a.ch, CAUSE_NORMAL_CLEARING);
	a.ch.bridged = b.ch.bridged = NULL;
	finish(&a, -ECANCELED);
	assert_int_equal(orig.cancelled, CAUSE_ORIGINATOR_CANCEL);
	chan_fini(&a);
	chan_fini(&b);
	dialplan_destroy(dp);
}

static void test_send_dtmf_and_bad_dial(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a;
	bridge_call(&a, "303");
	/* a dial string that does not parse fails at once, as any failure */
	assert_string_equal(calls(&a), "dtmf(12#,200);sleep(4294967295);stop;hangup(INVALID_URL);");
	assert_string_equal(fake_get(&a.vars, "DIALSTATUS"), "INVALIDARGS");
	assert_false(orig.running);
	chan_fini(&a);
	dialplan_destroy(dp);

	/* send_dtmf's literal data is checked when the dialplan loads */
	char err[512];
	static const char *const bad[] = {"12x", "", "1@5", "1@abc", "@100"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(load_one_action("send_dtmf", bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "send_dtmf"));
	}
}

/* record_session runs in the background: the dialplan goes on, a failure
 * included; "+N" is a limit in seconds. */
static void test_record_session(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a;
	new_call(&a, "default", "304");
	assert_string_equal(calls(&a), "record(calls/304.wav,30);record(fail.wav,0);"
				       "record(/tmp/a+b.wav,0);record_stop(all);play(after.wav);");
	chan_fini(&a);
	dialplan_destroy(dp);
}

/* record waits for its end, then the dialplan goes on; the arguments are
 * FreeSWITCH's (seconds, threshold, seconds of silence: 3 by default with a
 * threshold, none without), the terminators playback_terminators' ("*"
 * unset, "none" for none); a failure goes on like any other. */
static void test_record(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a;
	new_call(&a, "default", "305");
	assert_string_equal(calls(&a), "record_read(msg/305.wav,20000,2000,300,*);");
	fake_set(&a.vars, "record_ms", "1500");
	finish(&a, 0);
	assert_string_equal(calls(&a), "record_read(msg/305.wav,20000,2000,300,*);"
				       "record_read(b.ogg,60000,3000,150,#0);");
	finish(&a, -ECANCELED); /* stopped: the dialplan goes on all the same */
	assert_string_equal(calls(&a), "record_read(msg/305.wav,20000,2000,300,*);"
				       "record_read(b.ogg,60000,3000,150,#0);"
				       "record_read(fail.wav,0,0,0,);record_read(c.wav,0,0,0,);");
	finish(&a, 0);
	assert_string_equal(calls(&a), "record_read(msg/305.wav,20000,2000,300,*);"
				       "record_read(b.ogg,60000,3000,150,#0);"
				       "record_read(fail.wav,0,0,0,);record_read(c.wav,0,0,0,);"
				       "play(after.wav);");
	chan_fini(&a);
	dialplan_destroy(dp);

	/* literal arguments are checked when the dialplan loads */
	char err[512];
	static const char *const bad[] = {
	    "",		"a.wav x", "a.wav 10 -1", "a.wav 1 2 3 4", "a.wav 1 99999", "a.wav 1 2 3s",
	    "a.wav 1.5"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(load_one_action("record", bad[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "record"));
	}
	static const char *const good[] = {"a.wav", "/tmp/a.wav 30", "a.opus 30 200 5",
					   "${x}.wav ${limit}"};
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		assert_int_equal(load_one_action("record", good[i], err, sizeof(err)), 0);
}

static void test_uuid_bridge(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a, b;
	char want[128];
	for (int round = 0; round < 2; round++) {
		hold_pair(&a, &b);
		assert_string_equal(calls(&a), "answer;play(hold.wav);");
		if (round == 1)
			fake_set(&a.vars, "park_after_bridge", "true");
		snprintf(want, sizeof(want), "+OK %s\n", b.ch.uuid);
		assert_string_equal(uuid_bridge(&a, &b), want);
		assert_string_equal(calls(&a), "answer;play(hold.wav);bridge(310);");
		/* what they ran ends, and their dialplans do not go on */
		stopped_op_ends(&a);
		stopped_op_ends(&b);
		assert_string_equal(calls(&b), "answer;play(hold.wav);");
		assert_false(a.done);
		assert_false(b.done);
		b_hangs_up(&a, &b, CAUSE_NORMAL_CLEARING);
		assert_string_equal(calls(&a), round == 0
						   ? "answer;play(hold.wav);bridge(310);"
						     "hangup(NORMAL_CLEARING);"
						   : "answer;play(hold.wav);bridge(310);park;");
		hold_pair_fini(&a, &b);
	}
	chan_init(&a, "default", "310");
	live = &a;
	assert_string_equal(command("uuid_bridge", ""), "-USAGE: <uuid> <other_uuid>\n");
	assert_string_equal(commandf("uuid_bridge", "%s nosuch", a.ch.uuid), "-ERR Invalid uuid\n");
	assert_string_equal(uuid_bridge(&a, &a), "-ERR Invalid uuid\n");
	live = NULL;
	chan_fini(&a);
	dialplan_destroy(dp);
}

/* A bridge that ends while both legs are up (A unbridged, transferred):
 * B, with nothing left to do, hangs up — unless routed again meanwhile. */
static void test_bridge_left_b(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan a, b;
	for (int round = 0; round < 3; round++) {
		hold_pair(&a, &b);
		if (round == 2)
			fake_set(&b.vars, "park_after_bridge", "true");
		assert_non_null(strstr(uuid_bridge(&a, &b), "+OK"));
		a.stopped_cb = NULL;
		if (round == 1) /* B goes back to a dialplan before the bridge's end comes */
			assert_int_equal(dialplan_transfer(dp, &b.ch, "310", NULL), 0);
		size_t mark = strlen(calls(&b));
		channel_unbridge(&a.ch); /* as uuid_break or a transfer of A does */
		stopped_op_ends(&a);
		assert_string_equal(calls_after(&b, mark), round == 0	? "hangup(NORMAL_CLEARING);"
							   : round == 1 ? ""
									: "park;");
		/* A, out of its dialplan too, has nothing left either */
		assert_false(a.up);
		assert_int_equal(a.ch.cause, CAUSE_NORMAL_CLEARING);
		hold_pair_fini(&a, &b);
	}

	/* uuid_transfer -bleg moves the other leg out of the bridge, -both both. */
	for (int both = 0; both < 2; both++) {
		hold_pair(&a, &b);
		assert_non_null(strstr(uuid_bridge(&a, &b), "+OK"));
		size_t ma = strlen(calls(&a)), mb = strlen(calls(&b));
		assert_string_equal(
		    commandf("uuid_transfer", "%s %s 310", a.ch.uuid, both ? "-both" : "-bleg"),
		    "+OK\n");
		assert_null(a.ch.bridged);
		assert_null(b.ch.bridged);
		/* B runs extension 310 again; A only with -both */
		assert_non_null(strstr(calls_after(&b, mb), "play(hold.wav);"));
		assert_int_equal(strstr(calls_after(&a, ma), "play(hold.wav);") != NULL, both);
		/* -bleg: the end of the bridge reaches A, left with nothing to run */
		if (a.stopped_cb)
			stopped_op_ends(&a);
		assert_int_equal(a.up, both);
		assert_true(b.up);
		hold_pair_fini(&a, &b);
	}
	chan_init(&a, "default", "310");
	live = &a;
	route(&a);
	assert_string_equal(commandf("uuid_transfer", "%s -bleg 300", a.ch.uuid),
			    "-ERR no B-leg to transfer\n");
	live = NULL;
	chan_fini(&a);

	/* The bridge application's B the same way. */
	chan_init_b(&b, "1000");
	live2 = &b;
	bridge_call(&a, "300");
	orig_done(&b.ch, CAUSE_NONE);
	assert_ptr_equal(a.ch.bridged, &b.ch);
	stopped_op_ends(&a); /* the wait: stale */
	channel_unbridge(&a.ch);
	stopped_op_ends(&a);
	assert_string_equal(calls(&b), "hangup(NORMAL_CLEARING);");
	assert_true(a.up);
	/* and A's dialplan goes on */
	assert_non_null(strstr(calls(&a), "play(after-SUCCESS.wav);"));
	live2 = NULL;
	chan_fini(&a);
	chan_fini(&b);
	dialplan_destroy(dp);
}

/* Starts the originate command with `args`, no originate running before. */
static void originate(const char *args, struct core_reply *r)
{
	memset(&orig, 0, sizeof(orig));
	command_async("originate", args, r);
}

static void test_originate(void **state)
{
	struct dialplan *dp = create(bridge_plan);
	struct fake_chan b;
	struct core_reply r;
	char want[128];

	/* &app: the one application, then the leg hangs up */
	chan_init_b(&b, "1000");
	originate("sofia/internal/1000@127.0.0.1:5099 &echo", &r);
	assert_false(r.done);
	assert_string_equal(orig.dial, "sofia/internal/1000@127.0.0.1:5099");
	assert_null(orig.a_leg);
	orig_done(&b.ch, CAUSE_NONE);
	assert_true(r.done);
	snprintf(want, sizeof(want), "+OK %s\n", b.ch.uuid);
	assert_string_equal(reply_text(&r), want);
	assert_string_equal(calls(&b), "echo;");
	finish(&b, -ECANCELED);
	assert_string_equal(calls(&b), "echo;hangup(NORMAL_CLEARING);");
	buf_fini(&r.out);
	chan_fini(&b);

	/* caller ID and timeout into the dial string; app arguments with blanks */
	chan_init_b(&b, "1000");
	originate("{a=1}sofia/x/1@h &playback(/tmp/a b.wav) undef undef 'Bob, Jr' 1000 30", &r);
	assert_string_equal(orig.dial, "{origination_caller_id_name=Bob\\, Jr,"
				       "origination_caller_id_number=1000,originate_timeout=30,"
				       "a=1}sofia/x/1@h");
	orig_done(&b.ch, CAUSE_NONE);
	assert_string_equal(calls(&b), "play(/tmp/a b.wav);");
	buf_fini(&r.out);
	chan_fini(&b);

	/* failure: the cause */
	originate("sofia/x/1@h &park() undef undef undef 5551234", &r);
	assert_string_equal(orig.dial, "{origination_caller_id_number=5551234}sofia/x/1@h");
	orig_done(NULL, CAUSE_NO_ANSWER);
	assert_string_equal(reply_text(&r), "-ERR NO_ANSWER\n");
	buf_fini(&r.out);

	/* an extension: the answered leg goes through the dialplan */
	chan_init_b(&b, "1000");
	originate("sofia/x/1@h 310 XML default", &r);
	orig_done(&b.ch, CAUSE_NONE);
	assert_true(r.done);
	assert_string_equal(calls(&b), "stop;answer;play(hold.wav);");
	assert_string_equal(b.ch.destination_number, "310");
	assert_true(b.executing);
	buf_fini(&r.out);
	chan_fini(&b);

	/* replies at once */
	static const char usage[] =
	    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
	    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n";
	static const struct {
		const char *args, *want;
	} v[] = {
	    {"", usage},
	    {"sofia/x/1@h", usage},
	    {"sofia/x/1@h &nope", "-ERR no such application nope\n"},
	    {"sofia/x/1@h &(x)", "-ERR invalid application (&app(args))\n"},
	    {"bad/x &echo", "-ERR INVALID_URL\n"},
	    /* a ^^X separator that would split the caller ID's names */
	    {"{^^a:x=1}sofia/x/1@h &echo undef undef Bob", "-ERR INVALID_URL\n"},
	    {"sofia/x/1@h &echo undef undef undef undef soon", "-ERR invalid timeout 'soon'\n"},
	    {"sofia/x/1@h 100 LUA default", "-ERR dialplan LUA is not supported (XML only)\n"},
	    {"sofia/x/1@h 'open", usage},
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		originate(v[i].args, &r);
		assert_true(r.done);
		assert_string_equal(reply_text(&r), v[i].want);
		assert_false(orig.running);
		buf_fini(&r.out);
	}
	dialplan_destroy(dp);
}

int main(void)
{
	log_set_level(LOG_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flow),
	    cmocka_unit_test(test_hangup_while_pending),
	    cmocka_unit_test(test_stop_apps),
	    cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_no_route),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_execute_one),
	    cmocka_unit_test(test_transfer),
	    cmocka_unit_test(test_transfer_parked),
	    cmocka_unit_test(test_eval),
	    cmocka_unit_test(test_app_register),
	    cmocka_unit_test(test_bridge_app_early_then_answer),
	    cmocka_unit_test(test_bridge_app_hangup_after),
	    cmocka_unit_test(test_bridge_app_failures),
	    cmocka_unit_test(test_bridge_app_caller_gone),
	    cmocka_unit_test(test_send_dtmf_and_bad_dial),
	    cmocka_unit_test(test_record_session),
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_uuid_bridge),
	    cmocka_unit_test(test_bridge_left_b),
	    cmocka_unit_test(test_originate),
	    cmocka_unit_test(test_play_and_get_digits),
	    cmocka_unit_test(test_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
