/*
 * cdr.conf.xml: defaults without the file, every parameter, and the errors
 * a user gets with the file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/store.h"
#include "test_config_util.h"

static struct config *load_conf(const char *conf)
{
	return config_load_one("cdr.conf.xml", conf);
}

#define CDR_CONF(params)                                                                           \
	"<configuration name=\"cdr.conf\">\n<settings>\n" params "</settings>\n</configuration>\n"

static void test_defaults(void **state)
{
	struct cdr_conf c;
	char err[512];
	struct config *cfg = load_conf(NULL);
	assert_int_equal(cdr_conf_load(&c, cfg, "/var/lib/irisx", err, sizeof(err)), 0);
	assert_true(c.sinks[CDR_SINK_SQLITE]);
	assert_false(c.sinks[CDR_SINK_POSTGRES]);
	assert_false(c.sinks[CDR_SINK_CSV]);
	assert_string_equal(c.sqlite_path, "/var/lib/irisx/cdr.sqlite");
	assert_string_equal(c.spool_dir, "/var/lib/irisx/cdr-spool");
	assert_int_equal(c.batch_size, 256);
	assert_int_equal(c.extra_count, 0);
	config_free(cfg);
	/* No configuration at all: the same. */
	assert_int_equal(cdr_conf_load(&c, NULL, "st", err, sizeof(err)), 0);
	assert_true(c.sinks[CDR_SINK_SQLITE]);
	assert_string_equal(c.sqlite_path, "st/cdr.sqlite");
}

static void test_params(void **state)
{
	struct cdr_conf c;
	char err[512];
	struct config *cfg = load_conf(
	    CDR_CONF("<param name=\"store\" value=\"postgres\"/>\n"
		     "<param name=\"store\" value=\"csv\"/>\n"
		     "<param name=\"pg-dsn\" value=\"host=/tmp dbname=cdr\"/>\n"
		     "<param name=\"csv-path\" value=\"/tmp/x.csv\"/>\n"
		     "<param name=\"csv-template\" value=\"${uuid},${billsec}\"/>\n"
		     "<param name=\"spool-dir\" value=\"/tmp/spool\"/>\n"
		     "<param name=\"batch-size\" value=\"1000\"/>\n"
		     "<param name=\"extra-variables\" value=\" account , campaign_id,x.y \"/>\n"));
	assert_int_equal(cdr_conf_load(&c, cfg, "st", err, sizeof(err)), 0);
	assert_false(c.sinks[CDR_SINK_SQLITE]); /* stores named: only those */
	assert_true(c.sinks[CDR_SINK_POSTGRES]);
	assert_true(c.sinks[CDR_SINK_CSV]);
	assert_string_equal(c.pg_dsn, "host=/tmp dbname=cdr");
	assert_string_equal(c.csv_path, "/tmp/x.csv");
	assert_string_equal(c.csv_template, "${uuid},${billsec}");
	assert_string_equal(c.spool_dir, "/tmp/spool");
	assert_int_equal(c.batch_size, 1000);
	assert_int_equal(c.extra_count, 3);
	assert_string_equal(c.extra_names[0], "account");
	assert_string_equal(c.extra_names[1], "campaign_id");
	assert_string_equal(c.extra_names[2], "x.y");
	config_free(cfg);
}

static void expect_error(const char *params, const char *msg)
{
	struct cdr_conf c;
	char err[512] = "";
	char *conf = NULL;
	size_t len = strlen(params) + 200;
	conf = malloc(len);
	snprintf(conf, len,
		 "<configuration name=\"cdr.conf\">\n<settings>\n%s</settings>\n</configuration>\n",
		 params);
	struct config *cfg = load_conf(conf);
	free(conf);
	assert_int_equal(cdr_conf_load(&c, cfg, "st", err, sizeof(err)), -EINVAL);
	if (!strstr(err, msg))
		fail_msg("expected '%s' in '%s'", msg, err);
	config_free(cfg);
}

static void test_errors(void **state)
{
	expect_error("<param name=\"store\" value=\"mysql\"/>\n",
		     "cdr.conf.xml:3: cdr.conf: store 'mysql': not sqlite, postgres or csv");
	expect_error("<param name=\"store\" value=\"sqlite\"/>\n"
		     "<param name=\"store\" value=\"sqlite\"/>\n",
		     "cdr.conf.xml:4: cdr.conf: store 'sqlite' given twice");
	expect_error("<param name=\"store\" value=\"postgres\"/>\n",
		     "cdr.conf.xml:3: cdr.conf: store postgres needs a pg-dsn");
	expect_error("<param name=\"batch-size\" value=\"0\"/>\n", ":3: cdr.conf: batch-size '0'");
	expect_error("<param name=\"batch-size\" value=\"12x\"/>\n", ":3: cdr.conf: batch-size");
	expect_error("<param name=\"batch-size\" value=\"100000\"/>\n", ":3: cdr.conf: batch-size");
	expect_error("<param name=\"sqlite-path\" value=\"\"/>\n",
		     ":3: cdr.conf: sqlite-path must not be empty");
	expect_error("<param name=\"spool-dirs\" value=\"x\"/>\n",
		     ":3: cdr.conf: unknown parameter 'spool-dirs'");
	expect_error("<param name=\"store\"/>\n", ":3: cdr.conf: <param> needs name and value");
	expect_error("<store value=\"sqlite\"/>\n", ":3: cdr.conf: unexpected <store>");
	expect_error("<param name=\"extra-variables\" value=\"a,b c\"/>\n",
		     ":3: cdr.conf: extra-variables: bad variable name 'b c'");
	char many[4096] = "<param name=\"extra-variables\" value=\"";
	for (int i = 0; i <= CDR_EXTRA_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "v%d,", i);
	strcat(many, "\"/>\n");
	expect_error(many, "extra-variables: at most");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
