/*
 * Loading the XML dialplan: errors stop the load with the exact
 * "file:line: message" a user sees, unsupported-but-harmless things warn
 * with their file and line, and the shipped conf/ dialplan loads without a
 * single warning and routes its extensions as documented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_dialplan_util.h"

/* Lines 1-3; what a vector adds starts on line 4. */
#define PRE  "<include>\n<context name=\"default\">\n<extension name=\"x\">\n"
#define POST "</extension>\n</context>\n</include>\n"
#define COND "<condition field=\"destination_number\" expression=\"^1\">\n"

static const struct {
	const char *xml;
	const char *err;
} errors[] = {
    {PRE "<condition field=\"destination_number\" expression=\"^(1\"/>\n" POST,
     "dialplan/test.xml:4: bad regular expression '^(1': missing closing parenthesis at "
     "offset 3"},
    {PRE COND "<action application=\"bridgex\" data=\"user/1000\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: unknown application 'bridgex'"},
    {PRE COND "<action data=\"x\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: <action> without an application"},
    {PRE COND "<anti-action application=\"\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: <anti-action> without an application"},
    {PRE "<condition field=\"destination_number\" expression=\"^1\" break=\"sometimes\"/>\n" POST,
     "dialplan/test.xml:4: break=\"sometimes\": expected on-false, on-true, always or never"},
    {PRE "<condition regex=\"most\"/>\n" POST,
     "dialplan/test.xml:4: regex=\"most\": expected all, any or xor"},
    {PRE COND "<action application=\"answer\" inline=\"true\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: application 'answer' cannot run inline (only set, export, unset, "
     "log)"},
    {PRE COND "<action application=\"sleep\" data=\"abc\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: sleep: 'abc' is not a number of milliseconds"},
    {PRE COND "\n<action application=\"hangup\" data=\"FOO\"/>\n</condition>\n" POST,
     "dialplan/test.xml:6: hangup: 'FOO' is not a hangup cause (a name such as USER_BUSY or a "
     "Q.850 number)"},
    {PRE COND "<action application=\"respond\" data=\"200 OK\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: respond: '200 OK' is not a status irisx can respond with (180, 183 "
     "or 300-699)"},
    {PRE COND "<action application=\"playback\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: playback: needs an argument"},
    {PRE COND "<action application=\"set\" data=\"=x\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: set: needs a variable name (name=value)"},
    {PRE COND "<action application=\"log\" data=\"x\" loop=\"many\"/>\n</condition>\n" POST,
     "dialplan/test.xml:5: loop=\"many\" is not a number from 0 to 1000"},
    {PRE "<condition field=\"caller_id_name\" expression=\"/^a$/g\"/>\n" POST,
     "dialplan/test.xml:4: unknown regular expression flag 'g' in '/^a$/g' (i, s, m, x)"},
    {PRE "<condition wday=\"funday\"/>\n" POST,
     "dialplan/test.xml:4: wday=\"funday\": expected days 1-7 (Sunday is 1) or names "
     "(mon-fri)"},
    {PRE "<condition hour=\"9-25\"/>\n" POST,
     "dialplan/test.xml:4: hour=\"9-25\": expected numbers or ranges within 0-23"},
    {PRE "<condition year=\"2025-2024\"/>\n" POST,
     "dialplan/test.xml:4: year=\"2025-2024\": expected numbers or ranges within 1970-9999"},
    {PRE "<condition time-of-day=\"9:00-9:00\"/>\n" POST,
     "dialplan/test.xml:4: time-of-day=\"9:00-9:00\": expected HH:MM[:SS]-HH:MM[:SS] ranges"},
    {PRE "<condition date-time=\"2024-02-30 10:00\"/>\n" POST,
     "dialplan/test.xml:4: date-time=\"2024-02-30 10:00\": expected YYYY-MM-DD "
     "HH:MM[:SS]~YYYY-MM-DD HH:MM[:SS] ranges"},
    {PRE "<condition regex=\"any\">\n<regex field=\"destination_number\" expression=\"[\"/>\n"
	 "</condition>\n" POST,
     "dialplan/test.xml:5: bad regular expression '[': missing terminating ] for character "
     "class at offset 1"},
    {"<include>\n<context>\n</context>\n</include>\n",
     "dialplan/test.xml:2: <context> without a name"},
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(errors); i++) {
		struct dialplan_xml *x = (void *)0x1;
		char err[512];
		int rc = dp_load(&x, errors[i].xml, err, sizeof(err), NULL);
		if (rc != -EINVAL || strcmp(err, errors[i].err) != 0)
			fail_msg("vector %zu: rc %d\n  got  %s\n  want %s", i, rc, err,
				 errors[i].err);
		assert_ptr_equal(x, (void *)0x1); /* untouched on failure */
	}
}

/* Conditions nest at most DIALPLAN_NEST_MAX deep. */
static void test_nesting_limit(void **state)
{
	struct buf b;
	struct dialplan_xml *x;
	char err[512];

	buf_init(&b);
	buf_append_cstr(&b, PRE);
	for (int i = 0; i < DIALPLAN_NEST_MAX + 2; i++)
		buf_append_cstr(&b, "<condition>\n");
	for (int i = 0; i < DIALPLAN_NEST_MAX + 2; i++)
		buf_append_cstr(&b, "</condition>\n");
	buf_append_cstr(&b, POST);
	assert_int_equal(dp_load(&x, b.p, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "dialplan/test.xml:21: conditions nest deeper than 16");
	buf_fini(&b);
}

/* Data that needs the call to be known is checked when it runs, not at load. */
static void test_expanded_data_not_checked(void **state)
{
	struct dialplan_xml *x;
	char err[512], *log;

	assert_int_equal(dp_load(&x,
				 PRE COND "<action application=\"sleep\" data=\"${ms}\"/>\n"
					  "<action application=\"hangup\" data=\"$1\"/>\n"
					  "</condition>\n" POST,
				 err, sizeof(err), &log),
			 0);
	assert_string_equal(log, "");
	assert_int_equal(dialplan_xml_warning_count(x), 0);
	free(log);
	dialplan_xml_unref(x);
}

static void test_warnings(void **state)
{
	struct dialplan_xml *x;
	char err[512], *log;

	int rc = dp_load(
	    &x,
	    "<include>\n"
	    "<context name=\"default\" description=\"d\">\n"			      /* 2 */
	    "<extension name=\"x\" flavour=\"y\">\n"				      /* 3 */
	    "<condition field=\"sip_from_user\" expression=\"^1\" tz-offset=\"2\">\n" /* 4 */
	    "<actoin application=\"log\"/>\n"					      /* 5 */
	    "<action application=\"log\" data=\"x\" when=\"now\"/>\n"		      /* 6 */
	    "</condition>\n"
	    "<condition expression=\"^2\"/>\n"			   /* 8 */
	    "<condition field=\"destination_number\">\n"	   /* 9 */
	    "<regex field=\"caller_id_name\" expression=\"x\"/>\n" /* 10 */
	    "</condition>\n"
	    "</extension>\n"
	    "<note/>\n" /* 13 */
	    "</context>\n"
	    "<context name=\"default\"/>\n" /* 15 */
	    "</include>\n",
	    err, sizeof(err), &log);
	assert_int_equal(rc, 0);
	static const char *const want[] = {
	    "dialplan/test.xml:2: attribute 'description' of <context> is not supported by "
	    "irisx (ignored)",
	    "dialplan/test.xml:3: attribute 'flavour' of <extension> is not supported by irisx "
	    "(ignored)",
	    "dialplan/test.xml:4: <condition tz-offset=…> is not supported by irisx (ignored)",
	    "dialplan/test.xml:4: field 'sip_from_user' is not a caller field, so it is always "
	    "empty; write field=\"${sip_from_user}\" for a channel variable",
	    "dialplan/test.xml:5: element <actoin> in a condition is not supported by irisx "
	    "(ignored)",
	    "dialplan/test.xml:6: attribute 'when' of <action> is not supported by irisx "
	    "(ignored)",
	    "dialplan/test.xml:8: expression without a field is ignored (the condition is always "
	    "true)",
	    "dialplan/test.xml:9: field 'destination_number' has no expression (it always "
	    "matches)",
	    "dialplan/test.xml:9: <regex> children are ignored without regex=\"all|any|xor\" on "
	    "the condition",
	    "dialplan/test.xml:13: element <note> in a context is not supported by irisx "
	    "(ignored)",
	    "dialplan/test.xml:15: context 'default' is defined again; calls use the first one",
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		if (!strstr(log, want[i]))
			fail_msg("missing warning: %s\nlog:\n%s", want[i], log);
	assert_int_equal(dialplan_xml_warning_count(x), ARRAY_LEN(want));
	assert_int_equal(count_of(log, "warning"), ARRAY_LEN(want));
	free(log);
	dialplan_xml_unref(x);
}

static void test_registry(void **state)
{
	static const char *const names[] = {
	    "answer",	  "bridge",  "echo",	   "export",	"hangup", "log",   "park",  "playback",
	    "pre_answer", "respond", "ring_ready", "send_dtmf", "set",	  "sleep", "speak", "unset",
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const struct dialplan_app *a = dialplan_app_find(names[i]);
		assert_non_null(a);
		assert_string_equal(a->name, names[i]);
		assert_non_null(a->usage);
		bool inl = !strcmp(names[i], "set") || !strcmp(names[i], "export") ||
			   !strcmp(names[i], "unset") || !strcmp(names[i], "log");
		assert_int_equal(!!(a->flags & DIALPLAN_APP_INLINE), inl);
	}
	assert_null(dialplan_app_find("Answer"));
	assert_null(dialplan_app_find("conference"));
	assert_null(dialplan_app_find(NULL));
}

/* ---- the shipped dialplan ---- */

static struct dialplan_xml *load_default(char **log)
{
	struct config *cfg;
	struct dialplan_xml *x;
	char err[512];
	struct capture cap;

	assert_int_equal(config_load(&cfg, SOURCE_DIR "/conf", NULL, err, sizeof(err)), 0);
	capture_begin(&cap);
	int rc = dialplan_xml_create(&x, cfg, err, sizeof(err));
	*log = capture_end(&cap);
	config_free(cfg);
	if (rc)
		fail_msg("conf/ dialplan: %s", err);
	return x;
}

static char *hunt(struct dialplan_xml *x, const char *context, const char *vars, int *rc)
{
	struct dialplan_route *r = NULL;
	struct fake_vars fv;
	char *got = NULL;

	fake_init(&fv, vars);
	struct dialplan_vars v = fake_vars(&fv);
	struct dialplan_hunt in = {.context = context, .vars = &v};
	*rc = dialplan_xml_hunt(x, &in, &r);
	if (*rc == 0)
		got = route_render(r, &v);
	dialplan_route_destroy(r);
	fake_fini(&fv);
	return got;
}

static void test_default_conf(void **state)
{
	char *log, *got;
	int rc;
	struct dialplan_xml *x = load_default(&log);

	assert_string_equal(log, "");
	assert_int_equal(dialplan_xml_warning_count(x), 0);
	free(log);
	assert_true(dialplan_xml_has_context(x, "default"));
	assert_true(dialplan_xml_has_context(x, "public"));

	static const struct {
		const char *context, *vars, *want;
	} calls[] = {
	    {"public", "destination_number=+15551230000;caller_id_number=+15559870000",
	     "answer()|sleep(1000)|playback(welcome.wav)|hangup()"},
	    {"public",
	     "destination_number=", "answer()|sleep(1000)|playback(welcome.wav)|hangup()"},
	    {"default", "destination_number=9196", "answer()|echo()"},
	    {"default", "destination_number=9198",
	     "answer()|playback(tone_stream://%(10000,0,440))|hangup()"},
	    {"default", "destination_number=9195;caller_id_number=1000",
	     "answer()|sleep(500)|speak(espeak|en|You are calling from 1000.)|hangup()"},
	    {NULL, "destination_number=9196", "answer()|echo()"},
	};
	for (size_t i = 0; i < ARRAY_LEN(calls); i++) {
		got = hunt(x, calls[i].context, calls[i].vars, &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(got, calls[i].want);
		free(got);
	}
	assert_null(hunt(x, "default", "destination_number=1234", &rc));
	assert_int_equal(rc, -ENOENT);
	assert_null(hunt(x, "nowhere", "destination_number=9196", &rc));
	assert_int_equal(rc, -ESRCH);
	dialplan_xml_unref(x);
}

/* A configuration without a dialplan section loads, with a warning. */
static void test_no_section(void **state)
{
	char *dir = tree_create(), err[512], *log;
	struct config *cfg;
	struct dialplan_xml *x;
	struct capture cap;
	int rc;

	tree_write(dir, "freeswitch.xml", "<document type=\"freeswitch/xml\"/>\n");
	assert_int_equal(config_load(&cfg, dir, NULL, err, sizeof(err)), 0);
	capture_begin(&cap);
	assert_int_equal(dialplan_xml_create(&x, cfg, err, sizeof(err)), 0);
	log = capture_end(&cap);
	assert_non_null(strstr(log, "no <section name=\"dialplan\">"));
	assert_int_equal(dialplan_xml_warning_count(x), 1);
	assert_null(hunt(x, NULL, "destination_number=1", &rc));
	assert_int_equal(rc, -ESRCH);
	free(log);
	dialplan_xml_unref(x);
	config_free(cfg);
	tree_remove(dir);
}

int main(void)
{
	log_set_level(LOG_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_nesting_limit),
	    cmocka_unit_test(test_expanded_data_not_checked),
	    cmocka_unit_test(test_warnings),
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_default_conf),
	    cmocka_unit_test(test_no_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
