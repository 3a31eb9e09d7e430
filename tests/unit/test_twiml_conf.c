/*
 * twiml.conf: defaults, every param, malformed values (with file:line), the
 * signing key generated into <state_dir>/twiml_auth_token (mode 0600) and
 * read back, and the AccountSid derived from the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_config_util.h"
#include "twiml/twiml.h"

static struct config *load_conf(const char *conf)
{
	return config_load_one("twiml.conf.xml", conf);
}

#define TW_CONF(params)                                                                            \
	"<configuration name=\"twiml.conf\">\n<settings>\n" params "</settings>\n</"               \
								   "configuration>\n"

#define TOKEN "0123456789abcdef0123"

static void test_params(void **state)
{
	struct config *cfg = load_conf(
	    TW_CONF("<param name=\"auth-token\" value=\"" TOKEN "\"/>\n"
		    "<param name=\"account-sid\" value=\"AC42\"/>\n"
		    "<param name=\"timeout-ms\" value=\"1500\"/>\n"
		    "<param name=\"fallback-url\" value=\"https://app.test/fallback\"/>\n"
		    "<param name=\"fallback-prompt\" value=\"/sounds/error.wav\"/>\n"
		    "<param name=\"max-document-bytes\" value=\"4096\"/>\n"
		    "<param name=\"max-requests\" value=\"7\"/>\n"
		    "<param name=\"recording-url-base\" value=\"https://media.test/rec/\"/>\n"
		    "<param name=\"dial-gateway\" value=\"trunk\"/>\n"
		    "<param name=\"dial-profile\" value=\"internal\"/>\n"
		    "<param name=\"audio-cache-dir\" value=\"/tmp/cache\"/>\n"));
	struct twiml_settings s;
	char err[512];
	assert_int_equal(twiml_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), 0);
	assert_string_equal(s.auth_token, TOKEN);
	assert_string_equal(s.account_sid, "AC42");
	assert_int_equal(s.timeout_ms, 1500);
	assert_string_equal(s.fallback_url, "https://app.test/fallback");
	assert_string_equal(s.fallback_prompt, "/sounds/error.wav");
	assert_int_equal(s.max_document, 4096);
	assert_int_equal(s.max_requests, 7);
	assert_string_equal(s.recording_url_base, "https://media.test/rec/");
	assert_string_equal(s.dial_gateway, "trunk");
	assert_string_equal(s.dial_profile, "internal");
	assert_string_equal(s.audio_cache_dir, "/tmp/cache");
	config_free(cfg);
}

static void test_defaults_and_generated_key(void **state)
{
	char *state_dir = tree_create();
	struct config *cfg = load_conf(NULL);
	struct twiml_settings s, again;
	char err[512], path[1024];
	assert_int_equal(twiml_settings_load(&s, cfg, state_dir, err, sizeof(err)), 0);
	assert_int_equal(s.timeout_ms, 5000);
	assert_int_equal(s.max_document, 65536);
	assert_int_equal(s.max_requests, 100);
	assert_string_equal(s.dial_profile, "external");
	assert_string_equal(s.fallback_url, "");
	assert_int_equal(strlen(s.auth_token), 32);
	/* "AC" and 32 hex digits, not the key itself. */
	assert_int_equal(strlen(s.account_sid), 34);
	assert_memory_equal(s.account_sid, "AC", 2);
	assert_int_equal(strspn(s.account_sid + 2, "0123456789abcdef"), 32);
	assert_null(strstr(s.account_sid, s.auth_token));
	snprintf(path, sizeof(path), "%s/cache/twiml", state_dir);
	assert_string_equal(s.audio_cache_dir, path);
	snprintf(path, sizeof(path), "%s/twiml_auth_token", state_dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The next start reads the same key, hence the same AccountSid. */
	assert_int_equal(twiml_settings_load(&again, cfg, state_dir, err, sizeof(err)), 0);
	assert_string_equal(again.auth_token, s.auth_token);
	assert_string_equal(again.account_sid, s.account_sid);
	config_free(cfg);

	/* Another key, another AccountSid. */
	cfg = load_conf(TW_CONF("<param name=\"auth-token\" value=\"" TOKEN "\"/>\n"));
	assert_int_equal(twiml_settings_load(&again, cfg, state_dir, err, sizeof(err)), 0);
	assert_string_not_equal(again.account_sid, s.account_sid);
	config_free(cfg);
	tree_remove(state_dir);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *param, *err;
	} cases[] = {
	    {"<param name=\"auth-token\" value=\"short\"/>", ":3: bad auth-token"},
	    {"<param name=\"timeout-ms\" value=\"0\"/>", ":3: bad timeout-ms"},
	    {"<param name=\"timeout-ms\" value=\"5s\"/>", ":3: bad timeout-ms"},
	    {"<param name=\"fallback-url\" value=\"ftp://x/y\"/>", ":3: bad fallback-url"},
	    {"<param name=\"max-document-bytes\" value=\"10\"/>", ":3: bad max-document-bytes"},
	    {"<param name=\"max-requests\" value=\"0\"/>", ":3: bad max-requests"},
	    {"<param name=\"dial-profile\" value=\"\"/>", ":3: bad dial-profile"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char conf[1024];
		snprintf(conf, sizeof(conf), TW_CONF("%s\n"), cases[i].param);
		struct config *cfg = load_conf(conf);
		struct twiml_settings s;
		char err[512] = "";
		assert_int_equal(twiml_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].err))
			fail_msg("%s: got '%s'", cases[i].param, err);
		assert_non_null(strstr(err, "twiml.conf.xml"));
		config_free(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_defaults_and_generated_key),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
