/*
 * Unit tests for the command registry and the built-in commands (their
 * FreeSWITCH-worded replies on a core without channels and with one), and
 * for the channel events a channel driven through its states fires, in order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_int.h"
#include "test_core_event_util.h"

static struct test_core t;
static struct buf out;

static const char *run(const char *line)
{
	buf_reset(&out);
	core_command_execute(t.core, line, &out);
	return out.len ? out.p : "";
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int setup(void **state)
{
	test_core_open(&t);
	buf_init(&out);
	return 0;
}

static int teardown(void **state)
{
	buf_fini(&out);
	test_core_close(&t);
	return 0;
}

static void test_status_version_uptime(void **state)
{
	const char *s = run("status");
	assert_true(starts(s, "UP 0 years, 0 days, 0 hours, 0 minutes, 0 seconds, "));
	assert_non_null(strstr(s, " milliseconds, "));
	assert_non_null(strstr(s, "\nirisx (Version " IRISX_VERSION " 64bit) is ready\n"));
	assert_non_null(strstr(s, "\n0 session(s) since startup\n"));
	assert_non_null(strstr(s, "\n0 session(s) - peak 0, last 5min 0 \n"));
	assert_non_null(strstr(s, "\n0 session(s) per Sec out of max "));
	assert_non_null(strstr(s, ", peak 0, last 5min 0 \n"));
	assert_non_null(strstr(s, "\n1000 session(s) max\n"));
	/* min idle cpu <floor>/<idle now>, both with two decimals */
	const char *cpu = strstr(s, "\nmin idle cpu 0.00/");
	assert_non_null(cpu);
	double idle = strtod(cpu + strlen("\nmin idle cpu 0.00/"), NULL);
	assert_true(idle >= 0.0 && idle <= 100.0);
	assert_non_null(strstr(s, "\nCurrent Stack Size/Max "));
	assert_true(ends(s, "K\n") || ends(s, "unlimited\n"));
	assert_true(starts(run("version"), "irisx Version " IRISX_VERSION " ("));
	assert_true(ends(out.p, " 64bit)\n"));
	assert_string_equal(run("version short"), IRISX_VERSION "\n");
	assert_string_equal(run("uptime"), "0\n");
	assert_string_equal(run("uptime s"), "0\n");
	assert_string_equal(run("uptime h"), "0\n");
	assert_true(strtoull(run("uptime us"), NULL, 10) > 0);
	assert_string_equal(run("uptime fortnights"), "-USAGE: [us|ms|s|m|h|d|y]\n");
}

static void test_help_unknown(void **state)
{
	const char *s = run("help");
	assert_true(starts(s, "name,description,syntax,ikey\n"));
	assert_non_null(strstr(s, "\nuuid_kill,Kill channel,<uuid> [cause],mod_commands\n"));
	assert_true(ends(s, "\n23 total.\n"));
	assert_non_null(strstr(s, "\nuuid_record,Record session audio,"
				  "<uuid> [start|stop|mask|unmask] <path> [<limit>],mod_commands\n"));
	assert_string_equal(run("nope"), "-ERR nope Command not found!\n");
	assert_string_equal(run("  nope  a b "), "-ERR nope Command not found!\n");
	assert_string_equal(run(""), "-ERR  Command not found!\n");
}

static void echo_cmd(struct core *core, const char *args, struct buf *o)
{
	buf_printf(o, "[%s]", args);
}

static void test_register(void **state)
{
	assert_int_equal(core_command_register(t.core, "echo", "<text>", "Echo", echo_cmd), 0);
	assert_int_equal(core_command_register(t.core, "echo", "", "", echo_cmd), -EEXIST);
	assert_int_equal(core_command_register(t.core, "", "", "", echo_cmd), -EINVAL);
	assert_string_equal(run("echo  a  b \r\n"), "[a  b]");
	assert_string_equal(run("echo"), "[]");
	assert_true(ends(run("help"), "\n24 total.\n"));
	assert_non_null(strstr(out.p, "\necho,Echo,<text>,mod_commands\n"));
}

/* ---- asynchronous commands ---- */

static void spin(void)
{
	for (int i = 0; i < 20; i++)
		uv_run(&t.loop, UV_RUN_NOWAIT);
}

static struct core_reply *held; /* the "later" command's pending reply */

/* "later <text>" replies <text> when the test says; "later" alone replies a
 * usage error at once, as a command refusing its arguments does. */
static void later_cmd(struct core *core, const char *args, struct core_reply *r)
{
	if (!*args) {
		buf_append_cstr(core_reply_buf(r), "-USAGE: <text>\n");
		core_reply_done(r);
		return;
	}
	buf_printf(core_reply_buf(r), "+OK %s\n", args);
	held = r;
}

struct got {
	char text[256];
	int calls;
};

static void got_cb(void *arg, const char *text, size_t len)
{
	struct got *g = arg;
	snprintf(g->text, sizeof(g->text), "%.*s", (int)len, text);
	g->calls++;
}

static void test_command_run_sync_async(void **state)
{
	struct got g = {0};
	assert_int_equal(core_command_register_async(t.core, "later", "<text>", "Later", later_cmd),
			 0);
	assert_int_equal(core_command_register_async(t.core, "later", "", "", later_cmd), -EEXIST);
	assert_int_equal(core_command_register_async(t.core, "x", "", "", NULL), -EINVAL);
	assert_non_null(strstr(run("help"), "\nlater,Later,<text>,mod_commands\n"));

	/* a synchronous command replies before core_command_run returns */
	assert_null(core_command_run(t.core, "uptime s", got_cb, &g));
	assert_int_equal(g.calls, 1);
	assert_string_equal(g.text, "0\n");
	assert_null(core_command_run(t.core, " nope x", got_cb, &g));
	assert_int_equal(g.calls, 2);
	assert_string_equal(g.text, "-ERR nope Command not found!\n");

	/* an asynchronous one: pending, then the reply once */
	struct core_reply *r = core_command_run(t.core, "later  hello world ", got_cb, &g);
	assert_non_null(r);
	assert_ptr_equal(r, held);
	assert_int_equal(g.calls, 2);
	spin();
	assert_int_equal(g.calls, 2);
	core_reply_done(held);
	held = NULL;
	assert_int_equal(g.calls, 3);
	assert_string_equal(g.text, "+OK hello world\n");

	/* replying at once (a usage error): delivered before it returns, NULL */
	assert_null(core_command_run(t.core, "later", got_cb, &g));
	assert_int_equal(g.calls, 4);
	assert_string_equal(g.text, "-USAGE: <text>\n");

	/* a door that goes away: the command completes, nobody is called */
	r = core_command_run(t.core, "later gone", got_cb, &g);
	assert_non_null(r);
	core_reply_detach(r);
	core_reply_done(held);
	held = NULL;
	assert_int_equal(g.calls, 4);

	/* the plain execute cannot wait for it */
	assert_string_equal(run("later hi"), "-ERR later needs a reply handler\n");
	assert_null(held);

	/* one never answered is freed with the core (teardown, under ASan) */
	assert_non_null(core_command_run(t.core, "later forgotten", got_cb, &g));
	held = NULL;
}

static void test_show_empty(void **state)
{
	assert_string_equal(run("show channels"), "\n0 total.\n");
	assert_string_equal(run("show calls"), "\n0 total.\n");
	assert_string_equal(run("show channels count"), "\n0 total.\n");
	assert_string_equal(run("show channels as json"), "{\"row_count\":0}");
	assert_string_equal(run("show"), "-USAGE: channels|calls [count|as json]\n");
	assert_string_equal(run("show modules"), "-USAGE: channels|calls [count|as json]\n");
}

static void test_uuid_commands_no_channel(void **state)
{
	static const struct {
		const char *line, *want;
	} v[] = {
	    {"uuid_kill", "-USAGE: <uuid> [cause]\n"},
	    {"uuid_kill 1234", "-ERR No such channel!\n"},
	    {"uuid_answer", "-USAGE: <uuid>\n"},
	    {"uuid_answer 1234", "-ERR No such channel!\n"},
	    {"uuid_broadcast 1234", "-USAGE: <uuid> <path> [aleg|bleg|both]\n"},
	    {"uuid_broadcast 1234 /tmp/x.wav aleg", "-ERR No such channel!\n"},
	    {"uuid_break", "-USAGE: <uuid> [all]\n"},
	    {"uuid_break 1234 all", "-ERR No such channel!\n"},
	    {"uuid_getvar 1234", "-USAGE: <uuid> <var>\n"},
	    {"uuid_getvar 1234 x", "-ERR No such channel!\n"},
	    {"uuid_setvar 1234", "-USAGE: <uuid> <var> [value]\n"},
	    {"uuid_setvar 1234 x y", "-ERR No such channel!\n"},
	    {"uuid_dump", "-USAGE: <uuid> [format]\n"},
	    {"uuid_dump 1234", "-ERR No such channel!\n"},
	    {"uuid_exists 1234", "false"},
	    {"uuid_exists", "false"},
	    {"hupall", "+OK hangup all channels with cause MANAGER_REQUEST\n"},
	    {"hupall USER_BUSY", "+OK hangup all channels with cause USER_BUSY\n"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_string_equal(run(v[i].line), v[i].want);
}

static void test_create_uuid(void **state)
{
	char a[64];
	snprintf(a, sizeof(a), "%s", run("create_uuid"));
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[8], '-');
	assert_string_not_equal(run("create_uuid"), a);
}

static void test_globals(void **state)
{
	assert_string_equal(run("global_getvar"), "");
	assert_string_equal(run("global_setvar"), "-USAGE: <var>=<value>\n");
	assert_string_equal(run("global_setvar =x"), "-USAGE: <var>=<value>\n");
	assert_string_equal(run("global_setvar foo=bar baz"), "+OK\n");
	assert_string_equal(run("global_getvar foo"), "bar baz");
	assert_string_equal(core_global_var(t.core, "foo"), "bar baz");
	/* a global set at run time wins over the configuration's */
	assert_string_equal(core_global_var(t.core, "state_dir"), "/tmp");
	assert_string_equal(run("global_setvar state_dir=/var/x"), "+OK\n");
	assert_string_equal(core_global_var(t.core, "state_dir"), "/var/x");
	assert_string_equal(run("global_setvar foo=again"), "+OK\n");
	assert_string_equal(run("global_getvar"), "foo=again\nstate_dir=/var/x\n");
	assert_string_equal(run("global_getvar nothing"), "");
}

/* status's peaks: the highest since start, and over the last five minutes. */
static void test_peaks(void **state)
{
	struct core_peak pk = {0};
	const uint64_t min = 60000, t0 = 1000 * min;
	core__peak_note(&pk, 3, t0);
	core__peak_note(&pk, 7, t0 + 10);
	core__peak_note(&pk, 2, t0 + 1 * min);
	assert_int_equal(pk.all, 7);
	assert_int_equal(core__peak_recent(&pk, t0 + 1 * min), 7);
	assert_int_equal(core__peak_recent(&pk, t0 + 4 * min + 59999), 7);
	/* Five minutes on, the minute of the 7 has left the window. */
	assert_int_equal(core__peak_recent(&pk, t0 + 5 * min), 2);
	assert_int_equal(core__peak_recent(&pk, t0 + 6 * min), 0);
	/* A slot is reused for a later minute: its old maximum is forgotten. */
	core__peak_note(&pk, 1, t0 + 5 * min);
	assert_int_equal(core__peak_recent(&pk, t0 + 5 * min), 2);
	assert_int_equal(pk.all, 7);
	(void)state;
}

static void test_record_path(void **state)
{
	char res[64];
	assert_int_equal(core_record_path_resolve("/var/rec", "a/b.wav", res, sizeof(res)), 0);
	assert_string_equal(res, "/var/rec/a/b.wav");
	assert_int_equal(core_record_path_resolve("/var/rec", "/tmp/x.wav", res, sizeof(res)), 0);
	assert_string_equal(res, "/tmp/x.wav");
	assert_int_equal(core_record_path_resolve("/var/rec", "a..b/..c.wav", res, sizeof(res)), 0);
	assert_string_equal(res, "/var/rec/a..b/..c.wav");
	static const char *const bad[] = {"", "..", "../x.wav", "a/../../x.wav", "a/..",
					  "/tmp/../etc/passwd", "a//..//b.wav"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(core_record_path_resolve("/var/rec", bad[i], res, sizeof(res)),
				 -EINVAL);
	assert_int_equal(core_record_path_resolve("/var/rec", NULL, res, sizeof(res)), -EINVAL);
	assert_int_equal(core_record_path_resolve("/var/rec",
						  "a-name-much-too-long-for-the-buffer-given-here"
						  "-by-the-caller.wav",
						  res, sizeof(res)),
			 -ENAMETOOLONG);
	(void)state;
}

static void test_reload(void **state)
{
	assert_string_equal(run("reloadacl"), "+OK acl reloaded\n");
	assert_string_equal(run("reloadxml"), "+OK [Success]\n");
}

static int shutdowns;
static void shutdown_cb(void *arg)
{
	shutdowns += *(int *)arg;
}

static void test_fsctl(void **state)
{
	static int one = 1;
	assert_string_equal(run("fsctl shutdown"), "-ERR shutdown is not available\n");
	core_set_shutdown_cb(t.core, shutdown_cb, &one);
	assert_string_equal(run("fsctl"), "-USAGE: shutdown\n");
	assert_string_equal(run("fsctl reboot"), "-USAGE: shutdown\n");
	assert_int_equal(shutdowns, 0);
	assert_string_equal(run("fsctl shutdown"), "+OK\n");
	assert_int_equal(shutdowns, 1);
	core_set_shutdown_cb(t.core, NULL, NULL);
}

static void test_sofia_status(void **state)
{
	const struct config *cfg = t.core->cfg;
	assert_true(cfg->profile_count > 0);
	const char *s = run("sofia status");
	char line[512];
	snprintf(line, sizeof(line), "%25s\t%s\t  %40s\t%s\n", "Name", "   Type", "Data", "State");
	assert_true(starts(s, line));
	const char *rule = "=================================================================="
			   "===============================\n";
	assert_int_equal(strlen(rule), 98);
	assert_non_null(strstr(s, rule));
	char url[256];
	snprintf(url, sizeof(url), "sip:mod_sofia@%s:%u", cfg->profiles[0].sip_ip,
		 cfg->profiles[0].sip_port);
	snprintf(line, sizeof(line), "%25s\tprofile\t  %40s\tDOWN (0)\n", cfg->profiles[0].name,
		 url);
	assert_non_null(strstr(s, line));
	snprintf(line, sizeof(line), "%s%zu profile%s 0 aliases\n", rule, cfg->profile_count,
		 cfg->profile_count == 1 ? "" : "s");
	assert_true(ends(s, line));

	snprintf(line, sizeof(line), "sofia status profile %s", cfg->profiles[0].name);
	s = run(line);
	assert_true(starts(s, rule));
	snprintf(line, sizeof(line), "\nName             \t%s\n", cfg->profiles[0].name);
	assert_non_null(strstr(s, line));
	snprintf(line, sizeof(line), "\nURL              \t%s\n", url);
	assert_non_null(strstr(s, line));
	assert_non_null(strstr(s, "\nCALLS-IN         \t0\n"));
	assert_true(ends(s, rule));
	assert_string_equal(run("sofia status profile nosuch"), "Invalid Profile!\n");
	assert_string_equal(run("sofia"), "-USAGE: status [profile <name>|gateway <name>]\n");
	assert_string_equal(run("sofia status profile"), "-USAGE: status [profile <name>|gateway <name>]\n");
}

/* ---- a channel driven through its states ---- */

struct names {
	char list[4096];
	struct core_event *last_hangup_complete;
	struct core_event *last_callstate;
};

static void names_cb(void *arg, struct core_event *ev)
{
	struct names *n = arg;
	const char *name = core_event_name(ev);
	size_t len = strlen(n->list);
	if (strcmp(name, "CHANNEL_STATE") == 0)
		snprintf(n->list + len, sizeof(n->list) - len, "%s(%s);", name,
			 core_event_header(ev, "Channel-State"));
	else if (strcmp(name, "CHANNEL_CALLSTATE") == 0)
		snprintf(n->list + len, sizeof(n->list) - len, "%s(%s<-%s);", name,
			 core_event_header(ev, "Channel-Call-State"),
			 core_event_header(ev, "Original-Channel-Call-State"));
	else
		snprintf(n->list + len, sizeof(n->list) - len, "%s;", name);
	if (strcmp(name, "CHANNEL_HANGUP_COMPLETE") == 0)
		n->last_hangup_complete = core_event_ref(ev);
}

static void park_route_cb(void *arg, struct channel *ch)
{
	channel_execute(ch, NULL, NULL);
	channel_park(ch);
}

static void test_channel_events_and_commands(void **state)
{
	struct names n = {0};
	struct core_sub *sub;
	struct core_router r = {.route_cb = park_route_cb};
	core_set_router(t.core, &r);
	assert_int_equal(core_subscribe(t.core, names_cb, &n, &sub), 0);

	struct channel *ch = core__channel_create(t.core, CHANNEL_INBOUND);
	assert_non_null(ch);
	ch->caller_id_name = "Alice";
	ch->caller_id_number = "1000";
	ch->destination_number = "9196";
	ch->network_addr = "127.0.0.1";
	ch->context = "public";
	ch->dialplan = "XML";
	ch->profile = "internal";
	core__channel_schedule(ch);
	spin();
	assert_string_equal(n.list, "CHANNEL_CREATE;CHANNEL_STATE(CS_INIT);"
				    "CHANNEL_STATE(CS_ROUTING);CHANNEL_STATE(CS_EXECUTE);"
				    "CHANNEL_STATE(CS_PARK);");
	char uuid[UUID_STRLEN], line[256];
	memcpy(uuid, ch->uuid, sizeof(uuid));

	/* the commands on a live channel */
	snprintf(line, sizeof(line), "uuid_exists %s", uuid);
	assert_string_equal(run(line), "true");
	snprintf(line, sizeof(line), "uuid_setvar %s foo bar baz", uuid);
	assert_string_equal(run(line), "+OK\n");
	snprintf(line, sizeof(line), "uuid_getvar %s foo", uuid);
	assert_string_equal(run(line), "bar baz");
	snprintf(line, sizeof(line), "uuid_getvar %s nothing", uuid);
	assert_string_equal(run(line), "_undef_");
	snprintf(line, sizeof(line), "uuid_dump %s", uuid);
	const char *s = run(line);
	assert_true(starts(s, "Event-Name: CHANNEL_DATA\nChannel-State: CS_PARK\n"));
	snprintf(line, sizeof(line), "\nUnique-ID: %s\n", uuid);
	assert_non_null(strstr(s, line));
	assert_non_null(strstr(s, "\nCaller-Destination-Number: 9196\n"));
	assert_non_null(strstr(s, "\nvariable_foo: bar%20baz\n"));
	snprintf(line, sizeof(line), "uuid_dump %s json", uuid);
	assert_non_null(strstr(run(line), "\"variable_foo\":\"bar baz\""));
	assert_string_equal(run("show channels count"), "\n1 total.\n");
	s = run("show channels");
	assert_true(starts(s, "uuid,direction,created,created_epoch,name,state,cid_name,cid_num,"));
	snprintf(line, sizeof(line), "\n%s,inbound,", uuid);
	assert_non_null(strstr(s, line));
	assert_non_null(strstr(s, ",CS_PARK,Alice,1000,127.0.0.1,9196,"));
	assert_true(ends(s, "\n\n1 total.\n"));
	s = run("show channels as json");
	assert_true(starts(s, "{\"row_count\":1,\"rows\":[{\"uuid\":\""));
	assert_true(ends(s, "}]}"));
	snprintf(line, sizeof(line), "uuid_break %s", uuid);
	assert_string_equal(run(line), "+OK\n");
	s = run("status");
	assert_non_null(strstr(s, "\n1 session(s) since startup\n"));
	assert_non_null(strstr(s, "\n1 session(s) - peak 1, last 5min 1 \n"));
	/* uuid_record: arguments first, then what the channel can do (no
	 * writer in this core: recording is off) */
	snprintf(line, sizeof(line), "uuid_record %s start", uuid);
	assert_true(starts(run(line), "-USAGE: "));
	snprintf(line, sizeof(line), "uuid_record %s rewind x.wav", uuid);
	assert_true(starts(run(line), "-USAGE: "));
	snprintf(line, sizeof(line), "uuid_record %s start x.wav 10s", uuid);
	assert_string_equal(run(line), "-ERR invalid limit '10s'\n");
	snprintf(line, sizeof(line), "uuid_record %s start x.wav", uuid);
	assert_string_equal(run(line), "-ERR recording is not available\n");
	snprintf(line, sizeof(line), "uuid_record %s stop ../x.wav", uuid);
	assert_string_equal(run(line), "-ERR invalid path '../x.wav'\n");
	snprintf(line, sizeof(line), "uuid_record %s stop x.wav", uuid);
	assert_string_equal(run(line), "-ERR no recording to x.wav\n");
	snprintf(line, sizeof(line), "uuid_record %s mask all", uuid);
	assert_string_equal(run(line), "-ERR no recording to all\n");
	assert_string_equal(run("uuid_record 00000000-0000-0000-0000-000000000000 stop x.wav"),
			    "-ERR No such channel!\n");

	n.list[0] = '\0';
	snprintf(line, sizeof(line), "uuid_kill %s USER_BUSY", uuid);
	assert_string_equal(run(line), "+OK\n");
	spin();
	assert_string_equal(n.list, "CHANNEL_HANGUP;CHANNEL_STATE(CS_HANGUP);"
				    "CHANNEL_CALLSTATE(HANGUP<-DOWN);CHANNEL_STATE(CS_REPORTING);"
				    "CHANNEL_HANGUP_COMPLETE;CHANNEL_STATE(CS_DESTROY);"
				    "CHANNEL_DESTROY;");
	struct core_event *hc = n.last_hangup_complete;
	assert_non_null(hc);
	assert_string_equal(core_event_header(hc, "Hangup-Cause"), "USER_BUSY");
	assert_string_equal(core_event_header(hc, "variable_hangup_cause"), "USER_BUSY");
	assert_string_equal(core_event_header(hc, "variable_billsec"), "0");
	assert_string_equal(core_event_header(hc, "variable_duration"), "0");
	assert_string_equal(core_event_header(hc, "Unique-ID"), uuid);
	assert_string_equal(core_event_header(hc, "Answer-State"), "hangup");
	core_event_unref(hc);
	snprintf(line, sizeof(line), "uuid_exists %s", uuid);
	assert_string_equal(run(line), "false");
	assert_int_equal(core_channel_count(t.core), 0);
	core_unsubscribe(sub);
}

/* The cost of a channel event (FreeSWITCH's ~45 channel headers and 10
 * variables), with nobody listening: what every call pays a dozen times. */
static void test_channel_event_rate(void **state)
{
	struct channel *ch = core__channel_create(t.core, CHANNEL_INBOUND);
	assert_non_null(ch);
	ch->caller_id_name = "Alice";
	ch->caller_id_number = "1000";
	ch->destination_number = "9196";
	for (int i = 0; i < 10; i++) {
		char name[16];
		snprintf(name, sizeof(name), "var%d", i);
		assert_int_equal(channel_var_set(ch, name, "some value here"), 0);
	}
	enum { N = 20000 };
	uint64_t a = clock_wall_us();
	for (int i = 0; i < N; i++)
		channel_event_fire(ch, "CHANNEL_STATE", NULL, NULL);
	uint64_t us = clock_wall_us() - a;
	print_message("channel events: %d in %.3f s: %.0f events/s\n", N, (double)us / 1e6,
		      N / ((double)us / 1e6));
	struct names n = {0};
	struct core_sub *sub;
	assert_int_equal(core_subscribe(t.core, names_cb, &n, &sub), 0);
	channel_event_fire(ch, "CHANNEL_HANGUP_COMPLETE", NULL, NULL);
	assert_non_null(n.last_hangup_complete);
	assert_string_equal(core_event_header(n.last_hangup_complete, "variable_var9"),
			    "some value here");
	core_event_unref(n.last_hangup_complete);
	core_unsubscribe(sub);
	assert_int_equal(core_events_since(t.core, 0, NULL, NULL), -EINVAL);
	core__channel_destroy(ch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status_version_uptime, setup, teardown),
	    cmocka_unit_test(test_peaks),
	    cmocka_unit_test(test_record_path),
	    cmocka_unit_test_setup_teardown(test_help_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_show_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_command_run_sync_async, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uuid_commands_no_channel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_uuid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_globals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fsctl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sofia_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_channel_events_and_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_channel_event_rate, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
