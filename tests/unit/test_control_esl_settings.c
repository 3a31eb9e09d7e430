/*
 * event_socket.conf: defaults, params, the refusal of the well-known
 * password, and the generated password kept in <state_dir>/esl_password.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/control.h"
#include "test_config_util.h"

static struct config *load_conf(const char *conf)
{
	return config_load_one("event_socket.conf.xml", conf);
}

#define ESL_CONF(params)                                                                           \
	"<configuration name=\"event_socket.conf\">\n<settings>\n" params                          \
	"</settings>\n</configuration>\n"

static void test_params(void **state)
{
	struct config *cfg = load_conf(ESL_CONF("<param name=\"listen-ip\" value=\"::1\"/>\n"
						"<param name=\"listen-port\" value=\"8022\"/>\n"
						"<param name=\"password\" value=\"pw1\"/>\n"
						"<param name=\"apply-inbound-acl\" "
						"value=\"127.0.0.0/8\"/>\n"));
	struct esl_settings s;
	char err[512];
	assert_int_equal(esl_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), 0);
	assert_string_equal(s.listen_ip, "::1");
	assert_int_equal(s.listen_port, 8022);
	assert_string_equal(s.password, "pw1");
	assert_string_equal(s.inbound_acl, "127.0.0.0/8");
	assert_int_equal(s.queue_max, ESL_QUEUE_MAX_DEFAULT);
	config_free(cfg);

	cfg = load_conf(ESL_CONF("<param name=\"password\" value=\"x\"/>\n"
				 "<param name=\"listen-port\" value=\"70000\"/>\n"));
	assert_int_equal(esl_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "event_socket.conf.xml:4: bad listen-port '70000'"));
	config_free(cfg);

	cfg = load_conf(ESL_CONF("<param name=\"password\" value=\"x\"/>\n"
				 "<param name=\"apply-inbound-acl\" value=\"nosuchlist\"/>\n"));
	assert_int_equal(esl_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":4: unknown ACL 'nosuchlist'"));
	config_free(cfg);
}

static void test_cluecon_refused(void **state)
{
	struct esl_settings s;
	char err[512];
	struct config *cfg = load_conf(ESL_CONF("<param name=\"password\" value=\"ClueCon\"/>\n"));
	assert_int_equal(esl_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "event_socket.conf.xml:3: "));
	assert_non_null(strstr(err, "ClueCon"));
	config_free(cfg);

	cfg = load_conf(ESL_CONF("<param name=\"password\" value=\"ClueCon\"/>\n"
				 "<param name=\"allow-default-password\" value=\"true\"/>\n"));
	assert_int_equal(esl_settings_load(&s, cfg, "/nonexistent", err, sizeof(err)), 0);
	assert_string_equal(s.password, "ClueCon");
	config_free(cfg);
}

static void test_generated_password(void **state)
{
	char *state_dir = tree_create();
	char path[PATH_MAX];
	struct esl_settings s1, s2;
	char err[512];
	struct stat st;

	/* No section at all: the defaults, and a password made and kept. */
	assert_int_equal(esl_settings_load(&s1, NULL, state_dir, err, sizeof(err)), 0);
	assert_string_equal(s1.listen_ip, "127.0.0.1");
	assert_int_equal(s1.listen_port, 8021);
	assert_int_equal(strlen(s1.password), 32);
	snprintf(path, sizeof(path), "%s/esl_password", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(esl_settings_load(&s2, NULL, state_dir, err, sizeof(err)), 0);
	assert_string_equal(s1.password, s2.password);

	/* A configured password wins over the file. */
	struct config *cfg = load_conf(ESL_CONF("<param name=\"password\" value=\"mine\"/>\n"));
	assert_int_equal(esl_settings_load(&s2, cfg, state_dir, err, sizeof(err)), 0);
	assert_string_equal(s2.password, "mine");
	config_free(cfg);
	tree_remove(state_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_cluecon_refused),
	    cmocka_unit_test(test_generated_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
