/*
 * Unit tests for the typed views: switch.conf's RTP range and limits,
 * sofia.conf profiles (addresses, ports, ACLs, transports, NAT addresses)
 * and gateways (FreeSWITCH's defaults), the checks across profiles, the
 * sections irisx leaves to others, and FreeSWITCH's booleans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_config_util.h"

/* Loads a tree of ROOT_XML, vars.xml and one autoload_configs file. */
static int load_one(struct config **cfg, const char *vars, const char *conf, char **log, char *err,
		    size_t err_size)
{
	char *dir = tree_create();
	tree_write(dir, "freeswitch.xml", ROOT_XML);
	tree_write(dir, "vars.xml", vars ? vars : "<include/>\n");
	tree_write(dir, "autoload_configs/x.conf.xml", conf);
	int rc = load_logged(cfg, dir, NULL, err, err_size, log);
	tree_remove(dir);
	return rc;
}

#define SOFIA(profiles)                                                                            \
	"<configuration name=\"sofia.conf\"><profiles>\n" profiles "</profiles></configuration>\n"

static void test_switch_conf(void **state)
{
	struct config *cfg;
	char err[512], *log;

	/* Absent: the defaults. */
	assert_int_equal(load_one(&cfg, NULL, "<include/>\n", NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg->sw.rtp_start_port, 16384);
	assert_int_equal(cfg->sw.rtp_end_port, 32768);
	assert_int_equal(cfg->sw.max_sessions, 1000);
	assert_int_equal(cfg->sw.sessions_per_second, 30);
	assert_null(cfg->sw.file);
	config_free(cfg);

	/* An odd start moves to the even port above it, with a warning. */
	assert_int_equal(
	    load_one(&cfg, "<include><X-PRE-PROCESS cmd=\"set\" data=\"s=10001\"/></include>\n",
		     "<configuration name=\"switch.conf\">\n<settings>\n"
		     "<param name=\"RTP-Start-Port\" value=\"$${s}\"/>\n"
		     "<param name=\"rtp-end-port\" value=\" 10010 \"/>\n"
		     "<param name=\"max-sessions\" value=\"5\"/>\n"
		     "</settings>\n</configuration>\n",
		     &log, err, sizeof(err)),
	    0);
	assert_int_equal(cfg->sw.rtp_start_port, 10002);
	assert_int_equal(cfg->sw.rtp_end_port, 10010);
	assert_int_equal(cfg->sw.max_sessions, 5);
	assert_int_equal(cfg->sw.line, 1);
	assert_non_null(strstr(log, "/autoload_configs/x.conf.xml:3: rtp-start-port 10001 is odd"));
	assert_int_equal(cfg->warning_count, 1);
	free(log);
	config_free(cfg);

	static const struct {
		const char *params, *says;
	} bad[] = {
	    {"<param name=\"rtp-start-port\" value=\"0\"/>",
	     ":2: parameter 'rtp-start-port': '0' is not a port number (1-65535)"},
	    {"<param name=\"rtp-end-port\" value=\"65536\"/>",
	     ":2: parameter 'rtp-end-port': '65536' is not a port number (1-65535)"},
	    {"<param name=\"rtp-start-port\" value=\"\"/>",
	     ":2: parameter 'rtp-start-port': '' is not a port number (1-65535)"},
	    {"<param name=\"rtp-start-port\" value=\"20000\"/>\n"
	     "<param name=\"rtp-end-port\" value=\"20000\"/>",
	     ":3: rtp-end-port 20000 must be above rtp-start-port 20000"},
	    {"<param name=\"rtp-start-port\" value=\"40000\"/>",
	     ":2: rtp-end-port 32768 must be above rtp-start-port 40000"},
	    {"<param name=\"sessions-per-second\" value=\"0\"/>",
	     ":2: parameter 'sessions-per-second': '0' is not a rate (1-4294967295)"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char conf[512];
		cfg = NULL;
		snprintf(conf, sizeof(conf),
			 "<configuration "
			 "name=\"switch.conf\"><settings>\n%s\n</settings></configuration>\n",
			 bad[i].params);
		assert_int_equal(load_one(&cfg, NULL, conf, NULL, err, sizeof(err)), -EINVAL);
		const char *at = strstr(err, "/autoload_configs/x.conf.xml");
		if (!at || strcmp(at + strlen("/autoload_configs/x.conf.xml"), bad[i].says) != 0)
			fail_msg("case %zu: '%s'", i, err);
		assert_null(cfg);
	}
}

static void test_profile_defaults(void **state)
{
	struct config *cfg;
	char err[512], *log;

	assert_int_equal(
	    load_one(
		&cfg,
		"<include><X-PRE-PROCESS cmd=\"set\" data=\"pub=198.51.100.20\"/></include>\n",
		SOFIA("<profile name=\"bare\"/>\n"
		      "<profile name=\"nat\"><settings>\n"
		      "<param name=\"sip-ip\" value=\"::1\"/>\n"
		      "<param name=\"sip-port\" value=\"5090\"/>\n"
		      "<param name=\"rtp-ip\" value=\"127.0.0.1\"/>\n"
		      "<param name=\"rtp-ip\" value=\"::1\"/>\n"
		      "<param name=\"ext-sip-ip\" value=\"$${pub}\"/>\n"
		      "<param name=\"ext-rtp-ip\" value=\"host:sip.example.com\"/>\n"
		      "<param name=\"bind-params\" value=\"transport=tcp;maddr=1.2.3.4\"/>\n"
		      "<param name=\"apply-inbound-acl\" value=\" , rfc1918.auto ,10.0.0.0/8\"/>\n"
		      "<param name=\"context\" value=\"\"/>\n"
		      "<param value=\"orphan\"/>\n"
		      "<setting name=\"x\" value=\"y\"/>\n"
		      "</settings>\n"
		      "<aliases><alias name=\"a1\"/><alias name=\"a2\"/><bogus/></aliases>\n"
		      "<variables/>\n"
		      "</profile>\n"),
		&log, err, sizeof(err)),
	    0);
	assert_int_equal(cfg->profile_count, 2);
	const struct config_profile *b = &cfg->profiles[0], *n = &cfg->profiles[1];
	/* FreeSWITCH's defaults: the host's address, 5060, context public, XML. */
	assert_string_equal(b->name, "bare");
	assert_string_equal(b->sip_ip, config_var(cfg, "local_ip_v4"));
	assert_string_equal(b->rtp_ip, b->sip_ip);
	assert_int_equal(b->sip_port, 5060);
	assert_string_equal(b->context, "public");
	assert_string_equal(b->dialplan, "XML");
	assert_true(b->enable_udp && b->enable_tcp);
	assert_int_equal(b->inbound_acl_count, 0);
	assert_int_equal(b->gateway_count, 0);
	assert_int_equal(b->alias_count, 0);
	assert_int_equal(b->timer_t1_ms, 500); /* RFC 3261's T1, T2, T4 */
	assert_int_equal(b->timer_t2_ms, 4000);
	assert_int_equal(b->timer_t4_ms, 5000);

	assert_string_equal(n->sip_ip, "::1");
	assert_int_equal(n->sip_port, 5090);
	assert_string_equal(n->rtp_ip, "127.0.0.1"); /* the first one */
	assert_string_equal(n->ext_sip_ip, "198.51.100.20");
	assert_null(n->ext_rtp_ip);
	assert_false(n->enable_udp);
	assert_true(n->enable_tcp);
	assert_int_equal(n->inbound_acl_count, 2);
	assert_string_equal(n->inbound_acls[0], "rfc1918.auto");
	assert_string_equal(n->inbound_acls[1], "10.0.0.0/8");
	assert_string_equal(n->context, "public");
	assert_int_equal(n->alias_count, 2);
	assert_string_equal(n->aliases[1], "a2");

	static const char *const warned[] = {
	    ":7: a second rtp-ip is not supported by irisx (ignored)",
	    ":9: parameter 'ext-rtp-ip' value 'host:sip.example.com' is not supported",
	    ":10: bind-params 'maddr=1.2.3.4' is not supported by irisx (ignored)",
	    ":13: <param> without a name (ignored)",
	    ":14: element <setting> is not supported by irisx (ignored)",
	    ":16: <bogus> in <aliases> is not an <alias name=…/> (ignored)",
	    ":17: element <variables> is not supported by irisx (ignored)",
	};
	for (size_t i = 0; i < ARRAY_LEN(warned); i++)
		if (!strstr(log, warned[i]))
			fail_msg("missing '%s' in\n%s", warned[i], log);
	assert_int_equal(cfg->warning_count, ARRAY_LEN(warned));
	free(log);
	config_free(cfg);
}

static void test_profile_errors(void **state)
{
	static const struct {
		const char *profiles, *says;
	} bad[] = {
	    {"<profile name=\"a\"><settings>\n<param name=\"sip-port\" value=\"x5060\"/>\n"
	     "</settings></profile>\n",
	     ":3: parameter 'sip-port': 'x5060' is not a port number (1-65535)"},
	    {"<profile name=\"a\"><settings>\n<param name=\"rtp-ip\" value=\"auto\"/>\n"
	     "</settings></profile>\n",
	     ":3: parameter 'rtp-ip': 'auto' is not an IP address"},
	    {"<profile name=\"a\"><settings>\n<param name=\"apply-inbound-acl\" value=\"x\"/>\n"
	     "</settings></profile>\n",
	     ":3: parameter 'apply-inbound-acl': unknown ACL list 'x'"},
	    {"<profile name=\"a\"><settings>\n<param name=\"bind-params\" "
	     "value=\"transport=tls\"/>\n"
	     "</settings></profile>\n",
	     ":3: bind-params 'transport=tls' leaves no transport irisx supports (udp, tcp)"},
	    {"<profile>\n</profile>\n", ":2: <profile> without a name"},
	    {"<profile "
	     "name=\"0123456789012345678901234567890123456789012345678901234567890123\"/>\n",
	     ":2: profile name '0123456789012345678901234567890123456789012345678901234567890123' "
	     "is longer than 63 characters"},
	    {"<profile name=\"a\"><settings><param name=\"sip-port\" "
	     "value=\"5070\"/></settings></profile>\n"
	     "<profile name=\"A\"/>\n",
	     ":3: profile 'A' is already defined at "},
	    {"<profile name=\"a\"><settings><param name=\"sip-ip\" "
	     "value=\"127.0.0.1\"/></settings></profile>\n"
	     "<profile name=\"b\"><settings><param name=\"sip-ip\" "
	     "value=\"127.0.0.1\"/></settings></profile>\n",
	     ":3: profile 'b' binds 127.0.0.1 port 5060, as profile 'a' ("},
	    {"<profile name=\"a\"><settings><param name=\"sip-port\" value=\"5070\"/></settings>\n"
	     "<gateways><gateway name=\"g\"><param name=\"register\" "
	     "value=\"false\"/></gateway></gateways></profile>\n"
	     "<profile name=\"b\"><gateways>\n<gateway name=\"G\"><param name=\"register\" "
	     "value=\"no\"/></gateway>\n"
	     "</gateways></profile>\n",
	     ":5: gateway 'G' is already defined at "},
	    {"<profile name=\"a\"><settings>\n<param name=\"timer-T1\" value=\"0\"/>\n"
	     "</settings></profile>\n",
	     ":3: parameter 'timer-T1': '0' is not a number of milliseconds (1-60000)"},
	    {"<profile name=\"a\"><settings>\n<param name=\"timer-T4\" value=\"5s\"/>\n"
	     "</settings></profile>\n",
	     ":3: parameter 'timer-T4': '5s' is not a number of milliseconds (1-60000)"},
	    {"<profile name=\"a\"><settings>\n<param name=\"timer-T1\" value=\"900\"/>\n"
	     "<param name=\"timer-T2\" value=\"800\"/>\n</settings></profile>\n",
	     ":2: timer-T2 (800 ms) is shorter than timer-T1 (900 ms)"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct config *cfg = NULL;
		char conf[2048], err[512];
		snprintf(conf, sizeof(conf),
			 "<configuration "
			 "name=\"sofia.conf\"><profiles>\n%s</profiles></configuration>\n",
			 bad[i].profiles);
		assert_int_equal(load_one(&cfg, NULL, conf, NULL, err, sizeof(err)), -EINVAL);
		const char *at = strstr(err, "/autoload_configs/x.conf.xml");
		if (!at || strncmp(at + strlen("/autoload_configs/x.conf.xml"), bad[i].says,
				   strlen(bad[i].says)) != 0)
			fail_msg("case %zu: '%s'", i, err);
		assert_null(cfg);
	}
}

/* timer-T1/T2/T4 (FreeSWITCH's profile parameters): the transaction timers. */
static void test_profile_timers(void **state)
{
	struct config *cfg;
	char err[512], *log;
	assert_int_equal(load_one(&cfg, NULL,
				  SOFIA("<profile name=\"fast\"><settings>\n"
					"<param name=\"timer-T1\" value=\"50\"/>\n"
					"<param name=\"timer-T2\" value=\"400\"/>\n"
					"<param name=\"timer-T4\" value=\"1000\"/>\n"
					"</settings></profile>\n"),
				  &log, err, sizeof(err)),
			 0);
	assert_int_equal(cfg->profiles[0].timer_t1_ms, 50);
	assert_int_equal(cfg->profiles[0].timer_t2_ms, 400);
	assert_int_equal(cfg->profiles[0].timer_t4_ms, 1000);
	assert_int_equal(cfg->warning_count, 0);
	free(log);
	config_free(cfg);
}

static void test_gateways(void **state)
{
	struct config *cfg;
	char err[512], *log;

	assert_int_equal(
	    load_one(
		&cfg, NULL,
		SOFIA(
		    "<profile name=\"ext\"><gateways>\n"
		    "<gateway name=\"bare\"><param name=\"register\" value=\"false\"/></gateway>\n"
		    "<gateway name=\"reg\">\n"
		    "<param name=\"realm\" value=\"sip.example.net\"/>\n"
		    "<param name=\"username\" value=\"u\"/>\n"
		    "<param name=\"password\" value=\"p\"/>\n"
		    "<param name=\"from-user\" value=\"fu\"/>\n"
		    "<param name=\"from-domain\" value=\"fd.example\"/>\n"
		    "<param name=\"extension\" value=\"1000\"/>\n"
		    "<param name=\"expire-seconds\" value=\"600\"/>\n"
		    "<param name=\"retry-seconds\" value=\"15\"/>\n"
		    "<param name=\"register-transport\" value=\"TCP\"/>\n"
		    "<param name=\"contact-params\" value=\"line=7\"/>\n"
		    "<param name=\"caller-id-in-from\" value=\"on\"/>\n"
		    "<param name=\"ping\" value=\"25\"/>\n"
		    "<param name=\"auth-username\" value=\"other\"/>\n"
		    "</gateway>\n"
		    "<gateway name=\"tls\"><param name=\"proxy\" value=\"p.example:5061\"/>\n"
		    "<param name=\"register\" value=\"0\"/>\n"
		    "<param name=\"register-transport\" value=\"tls\"/></gateway>\n"
		    "</gateways>\n"
		    "<gateways><gateway name=\"second\"><param name=\"register\" "
		    "value=\"f\"/></gateway></gateways>\n"
		    "<settings><param name=\"sip-port\" value=\"5080\"/></settings>\n"
		    "</profile>\n"),
		&log, err, sizeof(err)),
	    0);
	const struct config_profile *p = &cfg->profiles[0];
	assert_int_equal(p->gateway_count, 4);
	const struct config_gateway *g = &p->gateways[0];
	/* FreeSWITCH's defaults, the name standing in for realm and proxy. */
	assert_string_equal(g->name, "bare");
	assert_string_equal(g->realm, "bare");
	assert_string_equal(g->proxy, "bare");
	assert_string_equal(g->username, "irisx");
	assert_string_equal(g->password, "");
	assert_string_equal(g->from_user, "irisx");
	assert_string_equal(g->from_domain, "bare");
	assert_string_equal(g->extension, "irisx");
	assert_string_equal(g->register_transport, "udp");
	assert_null(g->contact_params);
	assert_false(g->do_register);
	assert_false(g->caller_id_in_from);
	assert_int_equal(g->expire_seconds, 3600);
	assert_int_equal(g->retry_seconds, 30);
	assert_int_equal(g->ping_seconds, 0);
	assert_int_equal(g->line, 3);

	g = &p->gateways[1];
	assert_string_equal(g->proxy, "sip.example.net"); /* from the realm */
	assert_true(g->do_register);
	assert_string_equal(g->from_user, "fu");
	assert_string_equal(g->from_domain, "fd.example");
	assert_string_equal(g->extension, "1000");
	assert_int_equal(g->expire_seconds, 600);
	assert_int_equal(g->retry_seconds, 15);
	assert_string_equal(g->register_transport, "tcp");
	assert_string_equal(g->contact_params, "line=7");
	assert_true(g->caller_id_in_from);
	assert_int_equal(g->ping_seconds, 25);

	g = &p->gateways[2];
	assert_string_equal(g->realm, "p.example:5061"); /* from the proxy */
	assert_string_equal(g->register_transport, "tls");
	assert_string_equal(p->gateways[3].name, "second");
	assert_non_null(strstr(log, ":17: parameter 'auth-username' is not supported by irisx"));
	assert_non_null(strstr(log, ":21: register-transport tls is not supported by irisx yet"));
	assert_int_equal(cfg->warning_count, 2);
	free(log);
	config_free(cfg);

	static const struct {
		const char *params, *says;
	} bad[] = {
	    {"<param name=\"register\" value=\"true\"/><param name=\"username\" value=\"u\"/>",
	     "gateway 'g' registers (register defaults to true) and so needs username and "
	     "password"},
	    {"<param name=\"register\" value=\"no\"/><param name=\"expire-seconds\" value=\"0\"/>",
	     "parameter 'expire-seconds': '0' is not a number of seconds (1-604800)"},
	    {"<param name=\"register\" value=\"no\"/><param name=\"ping\" value=\"x\"/>",
	     "parameter 'ping': 'x' is not a number of seconds (0-86400)"},
	    {"<param name=\"register\" value=\"no\"/><param name=\"register-transport\" "
	     "value=\"sctp\"/>",
	     "parameter 'register-transport': 'sctp' is not udp, tcp or tls"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char conf[1024];
		cfg = NULL;
		snprintf(conf, sizeof(conf),
			 SOFIA("<profile name=\"p\"><gateways>\n<gateway name=\"g\">%s</gateway>\n"
			       "</gateways></profile>\n"),
			 bad[i].params);
		assert_int_equal(load_one(&cfg, NULL, conf, NULL, err, sizeof(err)), -EINVAL);
		const char *at = strstr(err, "/autoload_configs/x.conf.xml:3: ");
		if (!at ||
		    strcmp(at + strlen("/autoload_configs/x.conf.xml:3: "), bad[i].says) != 0)
			fail_msg("case %zu: '%s'", i, err);
		assert_null(cfg);
	}
}

static void test_sections_accounted(void **state)
{
	struct config *cfg;
	char err[512], *log;
	char *dir = tree_create();

	tree_write(dir, "freeswitch.xml",
		   "<document type=\"freeswitch/xml\">\n"
		   "  <section name=\"configuration\">\n"
		   "    <configuration name=\"switch.conf\"><settings>\n"
		   "      <param name=\"max-sessions\" value=\"7\"/></settings></configuration>\n"
		   "    <configuration name=\"SWITCH.CONF\"><settings>\n"
		   "      <param name=\"max-sessions\" value=\"9\"/></settings></configuration>\n"
		   "    <configuration name=\"voicemail.conf\"/>\n"
		   "    <configuration name=\"cdr.conf\"/>\n"
		   "    <configuration name=\"http.conf\"/>\n"
		   "    <configuration name=\"ivr.conf\"/>\n"
		   "    <configuration/>\n"
		   "    <settings/>\n"
		   "  </section>\n"
		   "  <section name=\"configuration\"/>\n"
		   "  <section name=\"dialplan\"/>\n"
		   "  <section name=\"languages\"/>\n"
		   "  <section/>\n"
		   "  <stray/>\n"
		   "</document>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), &log), 0);
	assert_int_equal(cfg->sw.max_sessions, 7); /* the first wins, as in FreeSWITCH */
	assert_non_null(config_section(cfg, "Switch.Conf"));
	assert_non_null(config_section(cfg, "cdr.conf"));
	assert_null(config_section(cfg, "nothing.conf"));
	assert_non_null(config_document_section(cfg, "DIALPLAN"));
	static const char *const warned[] = {
	    ":5: configuration 'SWITCH.CONF' appears again; irisx reads only the first",
	    ":7: configuration 'voicemail.conf' is not read by irisx (ignored)",
	    ":11: <configuration> without a name (ignored)",
	    ":12: element <settings> in section 'configuration' is not read by irisx (ignored)",
	    ":14: section 'configuration' appears again; irisx reads only the first",
	    ":16: section 'languages' is not read by irisx (ignored)",
	    ":17: <section> without a name (ignored)",
	    ":18: element <stray> in <document> is not read by irisx (ignored)",
	};
	for (size_t i = 0; i < ARRAY_LEN(warned); i++)
		if (!strstr(log, warned[i]))
			fail_msg("missing '%s' in\n%s", warned[i], log);
	assert_int_equal(cfg->warning_count, ARRAY_LEN(warned));
	free(log);
	config_free(cfg);
	tree_remove(dir);
}

static void test_is_true(void **state)
{
	static const char *const yes[] = {"true",   "TRUE",  "yes", "on", "t",	"enabled",
					  "active", "allow", "1",   "42", "-3", "007"};
	static const char *const no[] = {"false", "no", "off", "",     "0", "00",
					 "-0",	  "1x", "tru", "deny", "-", "disabled"};
	for (size_t i = 0; i < ARRAY_LEN(yes); i++)
		if (!config_is_true(yes[i]))
			fail_msg("'%s' should be true", yes[i]);
	for (size_t i = 0; i < ARRAY_LEN(no); i++)
		if (config_is_true(no[i]))
			fail_msg("'%s' should be false", no[i]);
	assert_false(config_is_true(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_switch_conf),	   cmocka_unit_test(test_profile_defaults),
	    cmocka_unit_test(test_profile_errors), cmocka_unit_test(test_profile_timers),
	    cmocka_unit_test(test_gateways),	   cmocka_unit_test(test_sections_accounted),
	    cmocka_unit_test(test_is_true),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
