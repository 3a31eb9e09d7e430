/*
 * http.conf: defaults, every param, malformed values (with file:line), and
 * the token generated into <state_dir>/http_token (mode 0600) and read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/control.h"
#include "test_config_util.h"

static struct config *load_conf(const char *conf)
{
	return config_load_one("http.conf.xml", conf);
}

#define HTTP_CONF(params)                                                                          \
	"<configuration name=\"http.conf\">\n<settings>\n" params "</settings>\n</configuration>\n"

#define TOKEN_A "0123456789abcdef-A"
#define TOKEN_B "0123456789abcdef-B"

static void test_params(void **state)
{
	struct config *cfg = load_conf(HTTP_CONF(
	    "<param name=\"listen-ip\" value=\"::1\"/>\n"
	    "<param name=\"listen-port\" value=\"8088\"/>\n"
	    "<param name=\"api-token\" value=\"" TOKEN_A "\"/>\n"
	    "<param name=\"api-token\" value=\"" TOKEN_B "\"/>\n"
	    "<param name=\"cors-origin\" value=\"https://console.test\"/>\n"
	    "<param name=\"max-body\" value=\"2048\"/>\n"
	    "<param name=\"rate-limit\" value=\"10\"/>\n"
	    "<param name=\"rate-burst\" value=\"15\"/>\n"));
	struct http_settings s;
	char err[512];
	assert_int_equal(http_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), 0);
	assert_string_equal(s.listen_ip, "::1");
	assert_int_equal(s.listen_port, 8088);
	assert_int_equal(s.token_count, 2);
	assert_string_equal(s.tokens[0], TOKEN_A);
	assert_string_equal(s.tokens[1], TOKEN_B);
	assert_string_equal(s.cors_origin, "https://console.test");
	assert_int_equal(s.max_body, 2048);
	assert_int_equal(s.rate, 10);
	assert_int_equal(s.burst, 15);
	assert_true(s.enabled);
	config_free(cfg);

	/* No file at all: the defaults (and a generated token). */
	char *state_dir = tree_create();
	cfg = load_conf(NULL);
	assert_int_equal(http_settings_load(&s, cfg, state_dir, err, sizeof(err)), 0);
	assert_string_equal(s.listen_ip, "127.0.0.1");
	assert_int_equal(s.listen_port, 8080);
	assert_int_equal(s.max_body, HTTP_MAX_BODY_DEFAULT);
	assert_int_equal(s.rate, HTTP_RATE_DEFAULT);
	assert_int_equal(s.burst, HTTP_BURST_DEFAULT);
	assert_int_equal(s.token_count, 1);
	config_free(cfg);
	tree_remove(state_dir);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *param, *err;
	} cases[] = {
	    {"<param name=\"listen-port\" value=\"70000\"/>", ":3: bad listen-port '70000'"},
	    {"<param name=\"listen-port\" value=\"80x\"/>", ":3: bad listen-port"},
	    {"<param name=\"api-token\" value=\"short\"/>", ":3: bad api-token"},
	    {"<param name=\"api-token\" value=\"with a blank 0123456789\"/>", ":3: bad api-token"},
	    {"<param name=\"max-body\" value=\"0\"/>", ":3: bad max-body '0'"},
	    {"<param name=\"max-body\" value=\"-1\"/>", ":3: bad max-body"},
	    {"<param name=\"rate-limit\" value=\"fast\"/>", ":3: bad rate-limit 'fast'"},
	    {"<param name=\"rate-burst\" value=\"0\"/>", ":3: bad rate-burst '0'"},
	    {"<param name=\"listen-ip\" "
	     "value=\"0123456789012345678901234567890123456789012345678901234567890123456789\"/>",
	     ":3: bad listen-ip"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char conf[1024];
		snprintf(conf, sizeof(conf), HTTP_CONF("%s\n"), cases[i].param);
		struct config *cfg = load_conf(conf);
		struct http_settings s;
		char err[512] = "";
		assert_int_equal(http_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].err))
			fail_msg("%s: got '%s'", cases[i].param, err);
		assert_non_null(strstr(err, "http.conf.xml"));
		config_free(cfg);
	}

	/* Seventeen tokens are one too many. */
	char conf[4096] = "";
	struct buf b;
	buf_init(&b);
	for (int i = 0; i <= HTTP_TOKENS_MAX; i++)
		buf_printf(&b, "<param name=\"api-token\" value=\"token-number-%02d-xxxx\"/>\n", i);
	snprintf(conf, sizeof(conf), HTTP_CONF("%s"), b.p);
	buf_fini(&b);
	struct config *cfg = load_conf(conf);
	struct http_settings s;
	char err[512];
	assert_int_equal(http_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 16 api-token"));
	config_free(cfg);
}

static void test_generated_token(void **state)
{
	char *state_dir = tree_create();
	struct config *cfg = load_conf(HTTP_CONF("<param name=\"listen-port\" value=\"8081\"/>\n"));
	struct http_settings s, again;
	char err[512], path[1024];
	assert_int_equal(http_settings_load(&s, cfg, state_dir, err, sizeof(err)), 0);
	assert_int_equal(s.token_count, 1);
	assert_int_equal(strlen(s.tokens[0]), 48);
	snprintf(path, sizeof(path), "%s/http_token", state_dir);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The next start reads the same token. */
	assert_int_equal(http_settings_load(&again, cfg, state_dir, err, sizeof(err)), 0);
	assert_string_equal(again.tokens[0], s.tokens[0]);
	/* A configured token: the file is not used. */
	config_free(cfg);
	cfg = load_conf(HTTP_CONF("<param name=\"api-token\" value=\"" TOKEN_A "\"/>\n"));
	assert_int_equal(http_settings_load(&again, cfg, state_dir, err, sizeof(err)), 0);
	assert_int_equal(again.token_count, 1);
	assert_string_equal(again.tokens[0], TOKEN_A);
	config_free(cfg);
	/* An unwritable state directory is an error with its path. */
	cfg = load_conf(NULL);
	assert_true(http_settings_load(&again, cfg, "/nonexistent/dir", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/dir/http_token"));
	config_free(cfg);
	/* enabled=false: no token is made. */
	unlink(path);
	cfg = load_conf(HTTP_CONF("<param name=\"enabled\" value=\"false\"/>\n"));
	assert_int_equal(http_settings_load(&again, cfg, state_dir, err, sizeof(err)), 0);
	assert_false(again.enabled);
	assert_int_equal(again.token_count, 0);
	assert_int_not_equal(access(path, F_OK), 0);
	config_free(cfg);
	tree_remove(state_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_generated_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
