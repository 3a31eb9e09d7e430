/*
 * Unit tests for config loading and the preprocessor: the shipped conf/
 * loads silently, a FreeSWITCH user's Twilio tree loads with warnings, the
 * X-PRE-PROCESS instructions and $${} expansion behave as FreeSWITCH's, and
 * each broken tree fails with the file and line a user has to fix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_config_util.h"

static const struct config_profile *profile(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->profile_count; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

static bool acl_allows(const struct config *cfg, const char *list, const char *ip)
{
	struct net_addr a;
	assert_int_equal(net_addr_parse(&a, str_from_cstr(ip), 0), 0);
	return acl_check(cfg->acls, list, &a);
}

/* ---- the shipped configuration ---- */

static void test_default_conf(void **state)
{
	struct config *cfg = NULL;
	char err[512], *log;

	int rc = load_logged(&cfg, SOURCE_DIR "/conf", NULL, err, sizeof(err), &log);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg->warning_count, 0);
	assert_string_equal(log, ""); /* not one warning on stderr either */
	free(log);

	assert_int_equal(cfg->sw.rtp_start_port, 16384);
	assert_int_equal(cfg->sw.rtp_end_port, 32768);
	assert_int_equal(cfg->sw.max_sessions, 1000);
	assert_int_equal(cfg->sw.sessions_per_second, 30);
	assert_string_equal(config_var(cfg, "bind_ip"), "127.0.0.1");
	assert_string_equal(config_var(cfg, "domain"), "127.0.0.1");

	assert_int_equal(cfg->profile_count, 2);
	const struct config_profile *in = profile(cfg, "internal");
	const struct config_profile *ex = profile(cfg, "external");
	assert_non_null(in);
	assert_non_null(ex);
	assert_string_equal(in->sip_ip, "127.0.0.1");
	assert_int_equal(in->sip_port, 5060);
	assert_string_equal(in->rtp_ip, "127.0.0.1");
	assert_null(in->ext_sip_ip);
	assert_null(in->ext_rtp_ip);
	assert_string_equal(in->context, "default");
	assert_string_equal(in->dialplan, "XML");
	assert_true(in->enable_udp && in->enable_tcp);
	assert_int_equal(in->inbound_acl_count, 1);
	assert_string_equal(in->inbound_acls[0], "trusted");
	assert_string_equal(in->file, SOURCE_DIR "/conf/sip_profiles/internal.xml");
	assert_string_equal(ex->sip_ip, "127.0.0.1");
	assert_int_equal(ex->sip_port, 5080);
	assert_string_equal(ex->context, "public");
	assert_int_equal(ex->gateway_count, 0); /* only the disabled .example */

	/* Loopback only: the trusted list takes 127.0.0.1 and ::1, nothing else. */
	assert_true(acl_allows(cfg, "trusted", "127.0.0.1"));
	assert_true(acl_allows(cfg, "trusted", "::1"));
	assert_false(acl_allows(cfg, "trusted", "127.0.0.2"));
	assert_false(acl_allows(cfg, "trusted", "192.0.2.1"));

	/* Both contexts exist and hold extensions (test_dialplan checks them). */
	const struct config_node *dp = config_document_section(cfg, "dialplan");
	assert_non_null(dp);
	const struct config_node *ctx = config_node_child(dp, "context");
	assert_non_null(ctx);
	assert_string_equal(config_node_attr(ctx, "name"), "default"); /* glob order */
	assert_non_null(config_node_child(ctx, "extension"));
	ctx = config_node_next(ctx, "context");
	assert_string_equal(config_node_attr(ctx, "name"), "public");
	assert_null(config_node_next(ctx, "context"));
	config_free(cfg);
}

/* The interop tests rewrite vars.xml's set lines with sed; each must stay
 * on its own line and keep its effect. */
static void test_default_conf_rewritten(void **state)
{
	char *dir = tree_create(), cmd[4 * PATH_MAX], err[512];
	struct config *cfg;

	snprintf(cmd, sizeof(cmd),
		 "cp -r '%s/conf/.' '%s' && sed -i "
		 "-e 's/bind_ip=127.0.0.1/bind_ip=127.0.0.9/' "
		 "-e 's/internal_sip_port=5060/internal_sip_port=15060/' "
		 "-e 's/external_sip_port=5080/external_sip_port=15080/' "
		 "-e 's/rtp_start_port=16384/rtp_start_port=40000/' "
		 "-e 's/rtp_end_port=32768/rtp_end_port=40100/' '%s/vars.xml'",
		 SOURCE_DIR, dir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
	assert_int_equal(cfg->warning_count, 0);
	assert_string_equal(profile(cfg, "internal")->sip_ip, "127.0.0.9");
	assert_int_equal(profile(cfg, "internal")->sip_port, 15060);
	assert_int_equal(profile(cfg, "external")->sip_port, 15080);
	assert_string_equal(profile(cfg, "external")->rtp_ip, "127.0.0.9");
	assert_int_equal(cfg->sw.rtp_start_port, 40000);
	assert_int_equal(cfg->sw.rtp_end_port, 40100);
	config_free(cfg);
	tree_remove(dir);
}

/* ---- a FreeSWITCH user's tree ---- */

static void test_twilio_tree(void **state)
{
	struct config *cfg;
	char err[512], *log;
	const char *dir = TESTS_DIR "/config/twilio";

	unsetenv("IRISX_TEST_TWILIO_SID");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), &log), 0);
	/* Every warning is one line naming its file and line. */
	assert_int_equal(count_of(log, "warning"), cfg->warning_count);
	assert_true(cfg->warning_count > 40);
	static const char *const expected[] = {
	    "/config/twilio/sip_profiles/external.xml:29: parameter 'nonce-ttl' is not "
	    "supported by irisx (ignored)",
	    "/config/twilio/sip_profiles/internal.xml:17: parameter 'rtp-timer-name' is not "
	    "supported by irisx (ignored)",
	    "/config/twilio/sip_profiles/external/twilio.xml:11: parameter 'dtmf-type' is not "
	    "supported by irisx (ignored)",
	    "/config/twilio/autoload_configs/switch.conf.xml:16: parameter 'dump-cores' is not "
	    "supported by irisx (ignored)",
	    "/config/twilio/autoload_configs/sofia.conf.xml:3: parameter 'log-level'",
	    "/config/twilio/autoload_configs/conference.conf.xml:1: configuration "
	    "'conference.conf' is not read by irisx",
	    "/config/twilio/freeswitch.xml:17: section 'directory' is not read by irisx",
	    "/config/twilio/vars.xml:14: X-PRE-PROCESS exec-set is not supported",
	    "/config/twilio/vars.xml:15: X-PRE-PROCESS stun-set is not supported",
	    "/config/twilio/vars.xml:21: X-PRE-PROCESS inside a comment is not run",
	    "/config/twilio/sip_profiles/internal.xml:26: unknown variable "
	    "$${internal_ssl_enable}",
	    "/config/twilio/sip_profiles/external.xml:35: parameter 'ext-rtp-ip' value "
	    "'stun:stun.freeswitch.org' is not supported",
	    "/config/twilio/sip_profiles/internal.xml:25: parameter 'ext-sip-ip' value "
	    "'auto-nat' is not supported",
	    "/config/twilio/autoload_configs/acl.conf.xml:19: node domain=",
	    "/config/twilio/sip_profiles/external.xml:10: domain 'all'",
	};
	for (size_t i = 0; i < ARRAY_LEN(expected); i++) {
		if (!strstr(log, expected[i]))
			fail_msg("missing warning: %s\nlog:\n%s", expected[i], log);
	}
	/* Read by later modules: recognised, not warned about. */
	assert_null(strstr(log, "event_socket.conf"));
	assert_null(strstr(log, "modules.conf"));
	assert_null(strstr(log, "'dialplan'"));
	free(log);

	assert_int_equal(cfg->sw.rtp_start_port, 20000);
	assert_int_equal(cfg->sw.rtp_end_port, 30000);
	assert_int_equal(cfg->sw.max_sessions, 2000);
	assert_int_equal(cfg->sw.sessions_per_second, 50);

	const char *ip = config_var(cfg, "local_ip_v4");
	const struct config_profile *ex = profile(cfg, "external");
	assert_non_null(ex);
	assert_string_equal(ex->sip_ip, ip);
	assert_int_equal(ex->sip_port, 5080);
	assert_string_equal(ex->ext_sip_ip, "203.0.113.10");
	assert_null(ex->ext_rtp_ip); /* stun: is not followed */
	assert_false(ex->enable_tcp);
	assert_true(ex->enable_udp);
	assert_int_equal(ex->inbound_acl_count, 3);
	assert_string_equal(ex->inbound_acls[0], "twilio");
	assert_string_equal(ex->inbound_acls[1], "loopback.auto");
	assert_string_equal(ex->inbound_acls[2], "lan");
	assert_int_equal(ex->gateway_count, 1);
	const struct config_gateway *gw = &ex->gateways[0];
	assert_string_equal(gw->name, "twilio");
	assert_string_equal(gw->proxy, "example-trunk.pstn.twilio.com");
	assert_string_equal(gw->realm, "example-trunk.pstn.twilio.com");
	assert_string_equal(gw->username, "trunkuser");
	assert_string_equal(gw->password, "s3cret");
	assert_string_equal(gw->from_user, "trunkuser");
	assert_string_equal(gw->from_domain, "example-trunk.pstn.twilio.com");
	assert_false(gw->do_register);
	assert_true(gw->caller_id_in_from);
	assert_int_equal(gw->ping_seconds, 30);
	assert_int_equal(gw->expire_seconds, 3600);
	assert_string_equal(gw->file, TESTS_DIR "/config/twilio/sip_profiles/external/twilio.xml");
	assert_int_equal(gw->line, 2);

	const struct config_profile *in = profile(cfg, "internal");
	assert_int_equal(in->alias_count, 1);
	assert_string_equal(in->aliases[0], "default");
	assert_null(in->ext_sip_ip);

	/* Twilio's edge may send calls, others may not. */
	assert_true(acl_allows(cfg, "twilio", "54.172.60.1"));
	assert_true(acl_allows(cfg, "twilio", "177.71.206.195"));
	assert_false(acl_allows(cfg, "twilio", "177.71.206.196"));
	assert_true(acl_allows(cfg, "twilio", "10.20.30.40")); /* host/mask node */
	assert_false(acl_allows(cfg, "twilio", "8.8.8.8"));
	assert_false(acl_allows(cfg, "domains", "127.0.0.1")); /* its node is skipped */

	/* The dialplan: $${} expanded, ${} and $1 kept, nested include in place. */
	const struct config_node *ctx =
	    config_node_child(config_document_section(cfg, "dialplan"), "context");
	assert_string_equal(config_node_attr(ctx, "name"), "public");
	const struct config_node *ext = config_node_child(ctx, "extension");
	assert_string_equal(config_node_attr(ext, "name"), "unloop");
	const struct config_node *cond = config_node_child(ext, "condition");
	assert_string_equal(config_node_attr(cond, "field"), "${unroll_loops}");
	ext = config_node_next(ext, "extension");
	assert_string_equal(config_node_attr(ext, "name"), "inbound-did");
	assert_string_equal(ext->file,
			    TESTS_DIR "/config/twilio/dialplan/public/00_inbound_did.xml");
	const struct config_node *act =
	    config_node_child(config_node_child(ext, "condition"), NULL);
	char want[128];
	snprintf(want, sizeof(want), "domain_name=%s", ip);
	assert_string_equal(config_node_attr(act, "data"), want);
	ext = config_node_next(ext, "extension");
	assert_string_equal(config_node_attr(ext, "name"), "to-twilio");
	act = config_node_child(config_node_child(ext, "condition"), "action");
	assert_string_equal(config_node_attr(act, "data"),
			    "effective_caller_id_number=+15005550006");
	act = config_node_next(act, "action");
	assert_string_equal(config_node_attr(act, "data"), "sofia/gateway/twilio/$1");
	/* The disabled instruction left nothing behind. */
	assert_null(config_node_child(cfg->root, "X-NO-PRE-PROCESS"));
	config_free(cfg);
}

static void test_twilio_env_set(void **state)
{
	struct config *cfg;
	char err[512];
	setenv("IRISX_TEST_TWILIO_SID", "AC123", 1);
	assert_int_equal(
	    load_logged(&cfg, TESTS_DIR "/config/twilio", NULL, err, sizeof(err), NULL), 0);
	unsetenv("IRISX_TEST_TWILIO_SID");
	assert_string_equal(config_var(cfg, "twilio_sid"), "AC123");
	assert_null(config_var(cfg, "public_ip")); /* exec-set never ran */
	assert_null(config_var(cfg, "stun_ip"));
	config_free(cfg);
}

/* ---- the preprocessor ---- */

static void test_set_order_and_expansion(void **state)
{
	char *dir = tree_create(), err[512], *log;
	struct config *cfg;

	tree_write(dir, "freeswitch.xml",
		   "<document type=\"freeswitch/xml\"><section name=\"dialplan\">\n"
		   "  <X-PRE-PROCESS cmd=\"set\" data=\"a=1\"/>\n"
		   "  <x v=\"$${a}\" w=\"${a}\" u=\"$${nope}|$$x|$${a}$${a}\">t $${a} ${b}</x>\n"
		   "  <X-PRE-PROCESS cmd=\"set\" data=\" a = 2$${a}\"/>\n"
		   "  <x v=\"$${a}\"/>\n"
		   "  <!--#set \"b=from-comment\"-->\n"
		   "  <?X-PRE-PROCESS cmd=\"set\" data=\"c=from-pi\"?>\n"
		   "  <x v=\"$${b} $${c} $${A}\"/>\n"
		   "  <x v=\"$${unterminated\"/>\n"
		   "  <!-- <X-PRE-PROCESS cmd=\"set\" data=\"a=commented\"/> -->\n"
		   "  <x v=\"$${a}\"><![CDATA[$${b}]]></x>\n"
		   "</section></document>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), &log), 0);
	const struct config_node *x =
	    config_node_child(config_document_section(cfg, "dialplan"), "x");
	assert_string_equal(config_node_attr(x, "v"), "1");
	assert_string_equal(config_node_attr(x, "w"), "${a}");
	assert_string_equal(config_node_attr(x, "u"), "|$$x|11");
	assert_string_equal(x->text, "t 1 ${b}");
	assert_int_equal(x->line, 3);
	x = config_node_next(x, "x");
	assert_string_equal(config_node_attr(x, "v"), "21"); /* set saw the old value */
	x = config_node_next(x, "x");
	assert_string_equal(config_node_attr(x, "v"), "from-comment from-pi 21");
	x = config_node_next(x, "x");
	assert_string_equal(config_node_attr(x, "v"), "$${unterminated");
	x = config_node_next(x, "x");
	assert_string_equal(config_node_attr(x, "v"), "21"); /* the comment did not run */
	assert_string_equal(x->text, "from-comment");

	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s/freeswitch.xml:3: unknown variable $${nope}", dir);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want), "%s/freeswitch.xml:9: unterminated $${", dir);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want), "%s/freeswitch.xml:10: X-PRE-PROCESS inside a comment", dir);
	assert_non_null(strstr(log, want));
	assert_int_equal(cfg->warning_count, 3);
	free(log);
	config_free(cfg);
	tree_remove(dir);
}

static void test_includes(void **state)
{
	char *dir = tree_create(), err[512], *log;
	struct config *cfg;
	char abs_inc[2 * PATH_MAX];

	snprintf(abs_inc, sizeof(abs_inc),
		 "<include><X-PRE-PROCESS cmd=\"include\" data=\"%s/abs/target.xml\"/></include>\n",
		 dir);
	tree_write(dir, "freeswitch.xml",
		   "<document type=\"freeswitch/xml\"><section name=\"dialplan\">\n"
		   "  <X-PRE-PROCESS cmd=\"include\" data=\"vars.xml\"/>\n"
		   "  <list>\n"
		   "    <X-PRE-PROCESS cmd=\"include\" data=\"parts/*.xml\"/>\n"
		   "    <X-PRE-PROCESS cmd=\"include\" data=\"empty/*.xml\"/>\n"
		   "    <X-PRE-PROCESS cmd=\"include\" data=\"nothing-matches-*.xml\"/>\n"
		   "  </list>\n"
		   "  <!--#include \"more.xml\"-->\n"
		   "  <include><wrapped/></include>\n"
		   "</section></document>\n");
	tree_write(dir, "vars.xml",
		   "<include>\n  <X-PRE-PROCESS cmd=\"set\" data=\"n=v\"/>\n</include>\n");
	/* Glob order is by name; each file shape contributes differently. */
	tree_write(dir, "parts/b.xml", "<item id=\"b-$${n}\"/>\n");
	tree_write(dir, "parts/a.xml",
		   "<?xml version=\"1.0\"?>\n<include>\n  <item id=\"a1\"/>\n  <item id=\"a2\"/>\n"
		   "</include>\n");
	tree_write(dir, "parts/c.xml", "<!-- no elements at all -->\n");
	tree_write(dir, "parts/d.xml",
		   "<?xml version=\"1.0\"?>\n<item id=\"d1\"/>\n\n<item id=\"d2\"/>\n");
	tree_write(dir, "parts/e.xml", abs_inc);
	tree_write(dir, "parts/e.txt", "<item id=\"not-xml\"/>\n");
	tree_write(dir, "parts/sub/f.xml", "<item id=\"in-a-subdirectory\"/>\n");
	tree_write(
	    dir, "abs/target.xml",
	    "<include><X-PRE-PROCESS cmd=\"include\" data=\"../nested/n.xml\"/></include>\n");
	tree_write(dir, "nested/n.xml", "<include>\n<item id=\"nested\"/>\n</include>\n");
	tree_write(dir, "more.xml", "<more/>\n");
	mkdir(strcat(strcpy(abs_inc, dir), "/empty"), 0755);

	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), &log), 0);
	assert_string_equal(log, "");
	free(log);
	static const char *const ids[] = {"a1", "a2", "b-v", "d1", "d2", "nested"};
	static const unsigned lines[] = {3, 4, 1, 2, 4, 2};
	const struct config_node *sec = config_document_section(cfg, "dialplan");
	const struct config_node *item = config_node_child(config_node_child(sec, "list"), NULL);
	for (size_t i = 0; i < ARRAY_LEN(ids); i++, item = config_node_next(item, NULL)) {
		assert_non_null(item);
		assert_string_equal(config_node_attr(item, "id"), ids[i]);
		assert_int_equal(item->line, lines[i]);
		assert_string_equal(item->parent->name, "list");
	}
	assert_null(item);
	const struct config_node *n = config_node_child(config_node_child(sec, "list"), NULL);
	n = config_node_next(config_node_next(config_node_next(n, NULL), NULL), NULL);
	snprintf(abs_inc, sizeof(abs_inc), "%s/parts/d.xml", dir);
	assert_string_equal(n->file, abs_inc);
	n = config_node_next(config_node_next(n, NULL), NULL);
	snprintf(abs_inc, sizeof(abs_inc), "%s/nested/n.xml", dir); /* abs/../ tidied */
	assert_string_equal(n->file, abs_inc);
	assert_non_null(config_node_child(sec, "more"));
	assert_non_null(config_node_child(sec, "wrapped"));
	assert_null(config_node_child(sec, "include"));
	config_free(cfg);
	tree_remove(dir);
}

static void test_exec_never_runs(void **state)
{
	char *dir = tree_create(), err[512], marker[PATH_MAX], xml[3 * PATH_MAX];
	struct config *cfg;

	snprintf(marker, sizeof(marker), "%.*s/ran", PATH_MAX - 8, dir);
	snprintf(xml, sizeof(xml),
		 "<document type=\"freeswitch/xml\">\n"
		 "  <X-PRE-PROCESS cmd=\"exec-set\" data=\"x=touch %s\"/>\n"
		 "  <X-PRE-PROCESS cmd=\"exec\" data=\"touch %s\"/>\n"
		 "  <X-PRE-PROCESS cmd=\"frobnicate\" data=\"x\"/>\n"
		 "</document>\n",
		 marker, marker);
	tree_write(dir, "freeswitch.xml", xml);
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
	assert_int_equal(access(marker, F_OK), -1);
	assert_null(config_var(cfg, "x"));
	assert_int_equal(cfg->warning_count, 3);
	config_free(cfg);
	tree_remove(dir);
}

static void test_builtin_vars(void **state)
{
	char *dir = tree_create(), err[512], real[PATH_MAX], want[PATH_MAX + 32];
	struct config *cfg;
	const char *presets[] = {"state_dir=/srv/irisx", "local_ip_v4=192.0.2.7", NULL};

	tree_write(dir, "freeswitch.xml",
		   "<document type=\"freeswitch/xml\"><x a=\"$${local_ip_v4}\"/></document>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
	assert_non_null(realpath(dir, real));
	assert_string_equal(config_var(cfg, "conf_dir"), real);
	snprintf(want, sizeof(want), "%s/var/recordings", config_var(cfg, "base_dir"));
	assert_string_equal(config_var(cfg, "recordings_dir"), want);
	assert_non_null(config_var(cfg, "hostname"));
	assert_non_null(config_var(cfg, "local_ip_v6"));
	struct net_addr a;
	assert_int_equal(net_addr_parse(&a, str_from_cstr(config_var(cfg, "local_ip_v4")), 0), 0);
	assert_int_equal(net_addr_family(&a), AF_INET);
	config_free(cfg);

	/* Presets win, and the directories below state_dir follow it. */
	assert_int_equal(load_logged(&cfg, dir, presets, err, sizeof(err), NULL), 0);
	assert_string_equal(config_var(cfg, "state_dir"), "/srv/irisx");
	assert_string_equal(config_var(cfg, "recordings_dir"), "/srv/irisx/recordings");
	assert_string_equal(config_node_attr(config_node_child(cfg->root, "x"), "a"), "192.0.2.7");
	config_free(cfg);

	const char *bad[] = {"novalue", NULL};
	assert_int_equal(load_logged(&cfg, dir, bad, err, sizeof(err), NULL), -EINVAL);
	assert_string_equal(err, "preset: 'novalue' is not name=value");
	tree_remove(dir);
}

static void test_root_choice(void **state)
{
	char *dir = tree_create(), err[512];
	struct config *cfg = NULL;

	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), -ENOENT);
	assert_non_null(strstr(err, "/freeswitch.xml: cannot read: No such file"));
	assert_null(cfg);
	tree_write(dir, "freeswitch.xml", "<document><x n=\"fs\"/></document>\n");
	tree_write(dir, "irisx.xml", "<document><x n=\"irisx\"/></document>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
	assert_string_equal(config_node_attr(config_node_child(cfg->root, "x"), "n"), "irisx");
	config_free(cfg);
	tree_write(dir, "irisx.xml", "<configuration/>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), -EINVAL);
	assert_non_null(strstr(err, "/irisx.xml:1: the root element is <configuration>"));
	tree_write(dir, "irisx.xml", "<include/>\n"); /* a wrapper: nothing inside */
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), -EINVAL);
	assert_non_null(strstr(err, "/irisx.xml: no <document type=\"freeswitch/xml\"> element"));
	tree_write(dir, "irisx.xml", "<document/>\n<document/>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), -EINVAL);
	assert_non_null(strstr(err, "/irisx.xml:2: Extra content at the end of the document"));
	tree_remove(dir);
}

/* ---- broken trees ---- */

static void test_broken_fixtures(void **state)
{
	static const struct {
		const char *dir;
		int rc;
		const char *prefix; /* under TESTS_DIR/config/broken/ */
		const char *says;
	} cases[] = {
	    {"malformed", -EINVAL, "malformed/autoload_configs/acl.conf.xml:5: ",
	     "Opening and ending tag mismatch: list line 3 and lists"},
	    {"bad_port", -EINVAL, "bad_port/sip_profiles/internal.xml:5: ",
	     "parameter 'sip-port': '50x0' is not a port number"},
	    {"unknown_acl", -EINVAL,
	     "unknown_acl/sip_profiles/internal.xml:5: ", "unknown ACL list 'trustd'"},
	    {"cycle", -ELOOP, "cycle/inc/b.xml:3: ", "include cycle"},
	    {"missing", -ENOENT, "missing/freeswitch.xml:3: ",
	     "cannot include '" TESTS_DIR "/config/broken/missing/vars.xml': No such file"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char dir[PATH_MAX], want[PATH_MAX], err[512];
		struct config *cfg = NULL;
		snprintf(dir, sizeof(dir), "%s/config/broken/%s", TESTS_DIR, cases[i].dir);
		snprintf(want, sizeof(want), "%s/config/broken/%s", TESTS_DIR, cases[i].prefix);
		int rc = load_logged(&cfg, dir, NULL, err, sizeof(err), NULL);
		if (rc != cases[i].rc || strncmp(err, want, strlen(want)) != 0 ||
		    !strstr(err, cases[i].says))
			fail_msg("%s: rc %d, err '%s'", cases[i].dir, rc, err);
		assert_null(cfg);
	}
}

static void test_include_depth(void **state)
{
	char *dir = tree_create(), err[512], name[32], text[256];
	struct config *cfg;

	tree_write(dir, "freeswitch.xml",
		   "<document>\n<X-PRE-PROCESS cmd=\"include\" data=\"d0.xml\"/>\n</document>\n");
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "d%d.xml", i);
		snprintf(
		    text, sizeof(text),
		    "<include>\n  <X-PRE-PROCESS cmd=\"include\" data=\"d%d.xml\"/>\n</include>\n",
		    i + 1);
		tree_write(dir, name, text);
	}
	tree_write(dir, "d40.xml", "<include/>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), -ELOOP);
	assert_non_null(strstr(err, "/d31.xml:2: includes nested deeper than 32 levels"));
	/* 32 levels are fine. */
	tree_write(dir, "d31.xml", "<include/>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
	config_free(cfg);
	tree_remove(dir);
}

static void test_broken_values(void **state)
{
	static const struct {
		const char *file, *text, *says;
	} cases[] = {
	    {"autoload_configs/s.xml",
	     "<configuration name=\"switch.conf\"><settings>\n"
	     "<param name=\"rtp-start-port\" value=\"30000\"/>\n"
	     "<param name=\"rtp-end-port\" value=\"20000\"/>\n</settings></configuration>\n",
	     "/autoload_configs/s.xml:3: rtp-end-port 20000 must be above rtp-start-port 30000"},
	    {"autoload_configs/s.xml",
	     "<configuration name=\"switch.conf\"><settings>\n"
	     "<param name=\"max-sessions\" value=\"-1\"/>\n</settings></configuration>\n",
	     "/autoload_configs/s.xml:2: parameter 'max-sessions': '-1' is not a session count "
	     "(1-4294967295)"},
	    {"autoload_configs/s.xml",
	     "<configuration name=\"sofia.conf\"><profiles>\n<profile name=\"p\"><settings>\n"
	     "<param name=\"sip-ip\" value=\"example.com\"/>\n</settings></profile>\n"
	     "</profiles></configuration>\n",
	     "/autoload_configs/s.xml:3: parameter 'sip-ip': 'example.com' is not an IP address"},
	    {"autoload_configs/s.xml",
	     "<configuration name=\"sofia.conf\"><profiles>\n<profile name=\"p\"><gateways>\n"
	     "<gateway name=\"g\"><param name=\"proxy\" value=\"x\"/></gateway>\n"
	     "</gateways></profile></profiles></configuration>\n",
	     "/autoload_configs/s.xml:3: gateway 'g' registers (register defaults to true) and "
	     "so needs username and password"},
	    {"autoload_configs/s.xml",
	     "<configuration name=\"acl.conf\"><network-lists>\n"
	     "<list name=\"l\">\n<node type=\"allow\" cidr=\"10.0.0.0/33\"/>\n"
	     "</list></network-lists></configuration>\n",
	     "/autoload_configs/s.xml:3: node cidr '10.0.0.0/33' is not an address/prefix"},
	    {"autoload_configs/s.xml",
	     "<configuration name=\"acl.conf\"><network-lists>\n"
	     "<list name=\"l\" default=\"maybe\"/>\n</network-lists></configuration>\n",
	     "/autoload_configs/s.xml:2: list default 'maybe' is neither allow nor deny"},
	    {"vars.xml", "<include>\n<x>\n</include>\n",
	     "/vars.xml:3: Opening and ending tag mismatch: x line 2 and include"},
	    {"vars.xml", "<a/>\n<b>\n",
	     "/vars.xml:3: Opening and ending tag mismatch: b line 2 "
	     "and end of file"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *dir = tree_create(), err[512];
		struct config *cfg = NULL;
		tree_write(dir, "freeswitch.xml", ROOT_XML);
		if (strcmp(cases[i].file, "vars.xml") != 0)
			tree_write(dir, "vars.xml", "<include/>\n");
		tree_write(dir, cases[i].file, cases[i].text);
		int rc = load_logged(&cfg, dir, NULL, err, sizeof(err), NULL);
		if (rc != -EINVAL || strncmp(err, dir, strlen(dir)) != 0 ||
		    strcmp(err + strlen(dir), cases[i].says) != 0)
			fail_msg("case %zu: rc %d, err '%s'", i, rc, err);
		assert_null(cfg);
		tree_remove(dir);
	}
}

static void test_error_buffer_small(void **state)
{
	char err[16];
	struct config *cfg;
	assert_int_equal(
	    load_logged(&cfg, TESTS_DIR "/config/broken/bad_port", NULL, err, sizeof(err), NULL),
	    -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(
	    load_logged(&cfg, TESTS_DIR "/config/broken/bad_port", NULL, NULL, 0, NULL), -EINVAL);
	assert_int_equal(config_load(NULL, "conf", NULL, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_conf),
	    cmocka_unit_test(test_default_conf_rewritten),
	    cmocka_unit_test(test_twilio_tree),
	    cmocka_unit_test(test_twilio_env_set),
	    cmocka_unit_test(test_set_order_and_expansion),
	    cmocka_unit_test(test_includes),
	    cmocka_unit_test(test_exec_never_runs),
	    cmocka_unit_test(test_builtin_vars),
	    cmocka_unit_test(test_root_choice),
	    cmocka_unit_test(test_broken_fixtures),
	    cmocka_unit_test(test_include_depth),
	    cmocka_unit_test(test_broken_values),
	    cmocka_unit_test(test_error_buffer_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
