/*
 * ivr.conf's menus (ivr_load.c), loaded with the dialplan as irisx loads
 * them: the attributes and their defaults, menu-sub resolved across the
 * file, and every error reported as "file:line: message" (no name, a
 * duplicate menu or digits, an unknown action or application, a missing
 * sub-menu, bad numbers, the /regex/ form) with warnings for what irisx
 * does not support.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_dialplan_util.h"

#define IVR_ROOT_XML                                                                               \
	"<?xml version=\"1.0\"?>\n"                                                                \
	"<document type=\"freeswitch/xml\">\n"                                                     \
	"  <section name=\"configuration\">\n"                                                     \
	"    <X-PRE-PROCESS cmd=\"include\" data=\"autoload_configs/*.xml\"/>\n"                   \
	"  </section>\n"                                                                           \
	"  <section name=\"dialplan\">\n"                                                          \
	"    <context name=\"default\"/>\n"                                                        \
	"  </section>\n"                                                                           \
	"</document>\n"

/* Loads `menus` (the inside of <menus>) from autoload_configs/ivr.conf.xml,
 * where <menus> opens on line 2. */
static int ivr_load(struct dialplan_xml **out, const char *menus, char *err, size_t err_size,
		    char **log)
{
	char conf[8192];
	snprintf(conf, sizeof(conf),
		 "<configuration name=\"ivr.conf\">\n<menus>\n%s</menus>\n</configuration>\n",
		 menus);
	return dp_load_tree(out, IVR_ROOT_XML, "autoload_configs/ivr.conf.xml", conf, err,
			    err_size, log);
}

static void test_menus(void **state)
{
	struct dialplan_xml *x;
	char err[512], *log;
	assert_int_equal(
	    ivr_load(
		&x,
		"<menu name=\"main\" greet-long=\"long.wav\" invalid-sound=\"bad.wav\"\n"
		"      exit-sound=\"bye.wav\" timeout=\"5000\" inter-digit-timeout=\"1500\"\n"
		"      max-failures=\"2\" max-timeouts=\"4\" tts-engine=\"flite\">\n"
		"  <entry action=\"menu-exec-app\" digits=\"1\" param=\"echo\"/>\n"
		"  <entry action=\"menu-exec-app\" digits=\"21\" param=\"  playback  x.wav\"/>\n"
		"  <entry action=\"menu-sub\" digits=\"5\" param=\"sub\"/>\n"
		"  <entry action=\"menu-top\" digits=\"*\"/>\n"
		"  <entry action=\"menu-exit\" digits=\"#\"/>\n"
		"</menu>\n"
		"<menu name=\"sub\" greet-long=\"sub.wav\" greet-short=\"s.wav\" digit-len=\"3\">\n"
		"  <entry action=\"menu-back\" digits=\"0\"/>\n"
		"</menu>\n",
		err, sizeof(err), &log),
	    0);
	assert_int_equal(x->menu_count, 2);
	const struct dialplan__ivr_menu *m = dialplan__ivr_find(x, "main");
	assert_non_null(m);
	assert_string_equal(m->greet_long, "long.wav");
	assert_string_equal(m->greet_short, "long.wav"); /* defaults to greet-long */
	assert_string_equal(m->invalid_sound, "bad.wav");
	assert_string_equal(m->exit_sound, "bye.wav");
	assert_int_equal(m->timeout_ms, 5000);
	assert_int_equal(m->inter_digit_ms, 1500);
	assert_int_equal(m->max_failures, 2);
	assert_int_equal(m->max_timeouts, 4);
	assert_int_equal(m->digit_len, 2); /* the longest entry */
	assert_int_equal(m->entry_count, 5);
	assert_int_equal(m->entries[0].action, DP_IVR_EXEC_APP);
	assert_string_equal(m->entries[0].app->name, "echo");
	assert_string_equal(m->entries[0].param, "");
	assert_string_equal(m->entries[1].app->name, "playback");
	assert_string_equal(m->entries[1].param, "x.wav");
	assert_int_equal(m->entries[2].action, DP_IVR_SUB);
	const struct dialplan__ivr_menu *sub = dialplan__ivr_find(x, "sub");
	assert_ptr_equal(m->entries[2].sub, sub); /* defined after */
	assert_int_equal(m->entries[3].action, DP_IVR_TOP);
	assert_int_equal(m->entries[4].action, DP_IVR_EXIT);
	assert_int_equal(sub->digit_len, 3);
	assert_string_equal(sub->greet_short, "s.wav");
	assert_int_equal(sub->timeout_ms, 10000); /* FreeSWITCH's defaults */
	assert_int_equal(sub->inter_digit_ms, 2000);
	assert_int_equal(sub->max_failures, 3);
	assert_int_equal(sub->max_timeouts, 3);
	assert_int_equal(sub->entries[0].action, DP_IVR_BACK);
	assert_null(dialplan__ivr_find(x, "nope"));
	/* tts-engine: a warning naming the file and line (libxml2 counts the
	 * line where the start tag ends) */
	if (!strstr(log, "autoload_configs/ivr.conf.xml:5: attribute 'tts-engine' of <menu>"))
		fail_msg("log: %s", log);
	free(log);
	dialplan_xml_unref(x);

	/* no ivr.conf at all: no menus, no error */
	assert_int_equal(
	    dp_load(&x, "<include><context name=\"c\"/></include>", err, sizeof(err), NULL), 0);
	assert_int_equal(x->menu_count, 0);
	dialplan_xml_unref(x);
}

struct bad {
	const char *menus;
	const char *err;
};

static void test_errors(void **state)
{
	static const struct bad v[] = {
	    {"<menu greet-long=\"a\"/>\n", "ivr.conf.xml:3: <menu> without a name"},
	    {"<menu name=\"a\"/>\n<menu name=\"a\"/>\n",
	     "ivr.conf.xml:4: menu \"a\" is defined already"},
	    {"<menu name=\"a\">\n<entry digits=\"1\"/>\n</menu>\n",
	     "ivr.conf.xml:4: <entry> without action"},
	    {"<menu name=\"a\">\n<entry action=\"menu-top\"/>\n</menu>\n",
	     "ivr.conf.xml:4: <entry> without digits"},
	    {"<menu name=\"a\">\n<entry action=\"menu-play-sound\" digits=\"1\"/>\n</menu>\n",
	     "ivr.conf.xml:4: action=\"menu-play-sound\" is not one of"},
	    {"<menu name=\"a\">\n<entry action=\"menu-exec-app\" digits=\"1\" param=\"nosuch "
	     "x\"/>\n"
	     "</menu>\n",
	     "ivr.conf.xml:4: menu-exec-app: unknown application 'nosuch'"},
	    {"<menu name=\"a\">\n<entry action=\"menu-exec-app\" digits=\"1\"/>\n</menu>\n",
	     "ivr.conf.xml:4: menu-exec-app needs param"},
	    {"<menu name=\"a\">\n<entry action=\"menu-sub\" digits=\"1\"/>\n</menu>\n",
	     "ivr.conf.xml:4: menu-sub needs param"},
	    {"<menu name=\"a\">\n\n<entry action=\"menu-sub\" digits=\"1\" "
	     "param=\"b\"/>\n</menu>\n",
	     "ivr.conf.xml:5: menu-sub: no menu named \"b\""},
	    {"<menu name=\"a\">\n<entry action=\"menu-top\" digits=\"1x\"/>\n</menu>\n",
	     "ivr.conf.xml:4: digits=\"1x\" is not DTMF"},
	    {"<menu name=\"a\">\n<entry action=\"menu-top\" digits=\"/^1$/\"/>\n</menu>\n",
	     "ivr.conf.xml:4: digits=\"/^1$/\": regular expressions"},
	    {"<menu name=\"a\">\n<entry action=\"menu-top\" digits=\"1\"/>\n"
	     "<entry action=\"menu-exit\" digits=\"1\"/>\n</menu>\n",
	     "ivr.conf.xml:5: digits \"1\" are taken already (line 4)"},
	    {"<menu name=\"a\" timeout=\"soon\"/>\n",
	     "ivr.conf.xml:3: timeout=\"soon\" is not a number"},
	    {"<menu name=\"a\" max-failures=\"0\"/>\n", "ivr.conf.xml:3: max-failures=\"0\""},
	    {"<menu name=\"a\" inter-digit-timeout=\"-1\"/>\n",
	     "ivr.conf.xml:3: inter-digit-timeout=\"-1\""},
	    {"<menu name=\"a\" digit-len=\"1\">\n<entry action=\"menu-top\" "
	     "digits=\"12\"/>\n</menu>\n",
	     "ivr.conf.xml:3: digit-len=\"1\" is shorter than an entry's 2 digits"},
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		struct dialplan_xml *x = NULL;
		char err[512] = "";
		int rc = ivr_load(&x, v[i].menus, err, sizeof(err), NULL);
		if (rc != -EINVAL || !strstr(err, v[i].err))
			fail_msg("case %zu: rc %d, err '%s', expected '%s'", i, rc, err, v[i].err);
		assert_null(x);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_menus),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
