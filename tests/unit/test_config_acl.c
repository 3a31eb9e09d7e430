/*
 * Unit tests for ACLs: CIDR parsing, FreeSWITCH's matching rules (longest
 * prefix, first written on a tie, list default), IPv4 and IPv6, host/mask
 * nodes, the built-in *.auto lists, and reloading acl.conf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "config/config_int.h"
#include "test_config_util.h"

static bool allows(const struct acl_set *set, const char *list, const char *ip)
{
	struct net_addr a;
	if (net_addr_parse(&a, str_from_cstr(ip), 5060) != 0)
		fail_msg("bad test address %s", ip);
	return acl_check(set, list, &a);
}

static void test_cidr_parse(void **state)
{
	static const struct {
		const char *in;
		int family;
		unsigned bits;
		const char *net; /* printed network, host bits cleared */
	} good[] = {
	    {"10.0.0.0/8", AF_INET, 8, "10.0.0.0"},
	    {" 192.168.1.77/24 ", AF_INET, 24, "192.168.1.0"},
	    {"0.0.0.0/0", AF_INET, 0, "0.0.0.0"},
	    {"203.0.113.9", AF_INET, 32, "203.0.113.9"},
	    {"172.16.255.255/12", AF_INET, 12, "172.16.0.0"},
	    {"2001:db8::1/32", AF_INET6, 32, "2001:db8::"},
	    {"2001:db8:abcd:12ff::/57", AF_INET6, 57, "2001:db8:abcd:1280::"},
	    {"::/0", AF_INET6, 0, "::"},
	    {"::1", AF_INET6, 128, "::1"},
	    {"::ffff:198.51.100.0/120", AF_INET, 24, "198.51.100.0"}, /* IPv4-mapped */
	};
	static const char *const bad[] = {
	    "",
	    "/8",
	    "10.0.0.0/",
	    "10.0.0.0/33",
	    "10.0.0/8",
	    "10.0.0.0/8/8",
	    "10.0.0.0/-1",
	    "2001:db8::/129",
	    "example.com/8",
	    "10.0.0.0 /8",
	    "1.2.3.4/ 8",
	    "::1/1x",
	    "10.0.0.0/99999999999",
	};
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		struct config__acl_node n;
		char s[INET6_ADDRSTRLEN];
		if (config__cidr_parse(str_from_cstr(good[i].in), &n) != 0)
			fail_msg("'%s' did not parse", good[i].in);
		assert_int_equal(n.family, good[i].family);
		assert_int_equal(n.bits, good[i].bits);
		inet_ntop(n.family, n.addr, s, sizeof(s));
		assert_string_equal(s, good[i].net);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct config__acl_node n;
		if (config__cidr_parse(str_from_cstr(bad[i]), &n) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
	}
}

static const char ACL_XML[] =
    "<configuration name=\"acl.conf\">\n"
    "  <network-lists>\n"
    "    <list name=\"nested\" default=\"deny\">\n"
    "      <node type=\"allow\" cidr=\"10.0.0.0/8\"/>\n"
    "      <node type=\"deny\" cidr=\"10.1.0.0/16\"/>\n"
    "      <node type=\"allow\" cidr=\"10.1.2.0/24\"/>\n"
    "      <node type=\"deny\" cidr=\"10.1.2.3/32\"/>\n"
    "    </list>\n"
    "    <list name=\"tie\" default=\"allow\">\n"
    "      <node type=\"deny\" cidr=\"192.0.2.0/24\"/>\n"
    "      <node type=\"allow\" cidr=\"192.0.2.0/24\"/>\n"
    "      <node type=\"allow\" cidr=\"198.51.100.0/24\"/>\n"
    "      <node type=\"deny\" cidr=\"198.51.100.0/24\"/>\n"
    "    </list>\n"
    "    <list name=\"v6\" default=\"deny\">\n"
    "      <node type=\"allow\" cidr=\"2001:db8::/32\"/>\n"
    "      <node type=\"deny\" cidr=\"2001:db8:1::/48\"/>\n"
    "      <node type=\"allow\" cidr=\"::ffff:198.51.100.0/120\"/>\n"
    "    </list>\n"
    "    <list name=\"all_v4\" default=\"deny\">\n"
    "      <node type=\"allow\" cidr=\"0.0.0.0/0\"/>\n"
    "    </list>\n"
    "    <list name=\"hostmask\" default=\"deny\">\n"
    "      <node type=\"allow\" host=\"203.0.113.77\" mask=\"255.255.255.224\"/>\n"
    "    </list>\n"
    "    <list name=\"typeless\">\n"
    "      <node cidr=\"192.0.2.0/24\"/>\n"
    "      <node type=\"deny\" cidr=\" 192.0.2.128/25 , 2001:db8::/32,\"/>\n"
    "    </list>\n"
    "    <list name=\"ports\" default=\"deny\">\n"
    "      <node type=\"allow\" cidr=\"192.0.2.0/24\" port=\"5060\"/>\n"
    "      <node type=\"allow\" cidr=\"198.51.100.0/24\"/>\n"
    "      <node type=\"deny\" cidr=\"198.51.100.7/32\" ports=\"5060,5080\"/>\n"
    "    </list>\n"
    "    <list name=\"loopback.auto\" default=\"deny\">\n"
    "      <node type=\"allow\" cidr=\"127.0.0.2/32\"/>\n"
    "    </list>\n"
    "    <list name=\"twice\" default=\"deny\"/>\n"
    "    <list name=\"TWICE\" default=\"allow\"/>\n"
    "  </network-lists>\n"
    "</configuration>\n";

static void test_matching(void **state)
{
	char *dir = tree_create(), err[512], *log;
	struct config *cfg;

	tree_write(dir, "freeswitch.xml", ROOT_XML);
	tree_write(dir, "vars.xml", "<include/>\n");
	tree_write(dir, "autoload_configs/acl.conf.xml", ACL_XML);
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), &log), 0);
	const struct acl_set *s = cfg->acls;

	/* The longest matching prefix decides, whatever the order. */
	assert_true(allows(s, "nested", "10.200.0.1"));
	assert_false(allows(s, "nested", "10.1.99.1"));
	assert_true(allows(s, "nested", "10.1.2.200"));
	assert_false(allows(s, "nested", "10.1.2.3"));
	assert_false(allows(s, "nested", "11.0.0.1")); /* default */
	assert_false(allows(s, "nested", "::ffff:10.1.2.3"));
	assert_true(allows(s, "nested", "::ffff:10.1.2.4"));
	/* Equal prefixes: the node written first. */
	assert_false(allows(s, "tie", "192.0.2.1"));
	assert_true(allows(s, "tie", "198.51.100.1"));
	assert_true(allows(s, "tie", "203.0.113.1"));
	/* IPv6, and an IPv4-mapped node that matches IPv4 addresses. */
	assert_true(allows(s, "v6", "2001:db8:2::1"));
	assert_false(allows(s, "v6", "2001:db8:1::1"));
	assert_false(allows(s, "v6", "2001:db9::1"));
	assert_true(allows(s, "v6", "198.51.100.7"));
	assert_true(allows(s, "v6", "::ffff:198.51.100.7"));
	assert_false(allows(s, "v6", "198.51.101.7"));
	/* A /0 node covers its own family only. */
	assert_true(allows(s, "all_v4", "8.8.8.8"));
	assert_true(allows(s, "all_v4", "0.0.0.0"));
	assert_false(allows(s, "all_v4", "2001:db8::1"));
	/* host/mask: 203.0.113.64/27. */
	assert_true(allows(s, "hostmask", "203.0.113.65"));
	assert_true(allows(s, "hostmask", "203.0.113.95"));
	assert_false(allows(s, "hostmask", "203.0.113.96"));
	/* No default= allows; a node without type= takes the list's default. */
	assert_true(allows(s, "typeless", "192.0.2.1"));
	assert_false(allows(s, "typeless", "192.0.2.200"));
	assert_false(allows(s, "typeless", "2001:db8::5"));
	assert_true(allows(s, "typeless", "8.8.8.8"));
	/* Port restrictions: the allow is dropped, the deny applies to all ports. */
	assert_false(allows(s, "ports", "192.0.2.1"));
	assert_true(allows(s, "ports", "198.51.100.1"));
	assert_false(allows(s, "ports", "198.51.100.7"));
	/* acl.conf replaces a built-in of the same name; a repeated list warns. */
	assert_false(allows(s, "loopback.auto", "127.0.0.1"));
	assert_true(allows(s, "LOOPBACK.AUTO", "127.0.0.2"));
	assert_true(allows(s, "twice", "192.0.2.1"));
	char want[PATH_MAX + 128];
	snprintf(want, sizeof(want),
		 "%s/autoload_configs/acl.conf.xml:39: list 'TWICE' defined again: this one "
		 "replaces the one at %s/autoload_configs/acl.conf.xml:38",
		 dir, dir);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want),
		 "%s/autoload_configs/acl.conf.xml:31: port restrictions are not supported by "
		 "irisx (allow node ignored)",
		 dir);
	assert_non_null(strstr(log, want));
	assert_int_equal(cfg->warning_count, 3);
	free(log);

	/* Unknown names deny; CIDRs stand for themselves, as in FreeSWITCH. */
	assert_false(allows(s, "nosuch", "127.0.0.1"));
	assert_false(allows(s, NULL, "127.0.0.1"));
	assert_true(allows(s, "10.0.0.0/8,2001:db8::/32", "10.9.9.9"));
	assert_true(allows(s, "10.0.0.0/8,2001:db8::/32", "2001:db8::9"));
	assert_false(allows(s, "10.0.0.0/8,2001:db8::/32", "11.9.9.9"));
	assert_false(allows(s, "10.0.0.0/8,garbage/8", "10.9.9.9"));
	assert_true(acl_name_valid(s, "nested"));
	assert_true(acl_name_valid(s, "rfc1918.auto"));
	assert_true(acl_name_valid(s, "192.0.2.1/32"));
	assert_false(acl_name_valid(s, "192.0.2.1/33"));
	assert_false(acl_name_valid(s, "nosuch"));
	assert_false(acl_name_valid(s, NULL));
	assert_non_null(acl_find(s, "Nested"));
	assert_null(acl_find(s, "nosuch"));
	assert_false(acl_list_check(NULL, NULL));
	config_free(cfg);
	tree_remove(dir);
}

static void test_builtins(void **state)
{
	struct config *cfg;
	char err[512];

	assert_int_equal(load_logged(&cfg, SOURCE_DIR "/conf", NULL, err, sizeof(err), NULL), 0);
	const struct acl_set *s = cfg->acls;
	static const struct {
		const char *list, *ip;
		bool allowed;
	} v[] = {
	    {"loopback.auto", "127.0.0.1", true},   {"loopback.auto", "127.255.0.9", true},
	    {"loopback.auto", "::1", true},	    {"loopback.auto", "10.0.0.1", false},
	    {"rfc1918.auto", "10.1.2.3", true},	    {"rfc1918.auto", "172.31.255.255", true},
	    {"rfc1918.auto", "172.32.0.1", false},  {"rfc1918.auto", "192.168.7.7", true},
	    {"rfc1918.auto", "8.8.8.8", false},	    {"rfc1918.auto", "fd00::1", true},
	    {"rfc1918.auto", "2001:db8::1", false}, {"rfc6598.auto", "100.64.0.1", true},
	    {"rfc6598.auto", "100.128.0.1", false}, {"wan.auto", "8.8.8.8", true},
	    {"wan.auto", "10.0.0.1", false},	    {"wan.auto", "127.0.0.1", false},
	    {"wan.auto", "169.254.1.1", false},	    {"wan.auto", "2001:db8::1", true},
	    {"wan.auto", "fe80::1", false},	    {"wan.auto", "::1", false},
	    {"wan_v4.auto", "8.8.8.8", true},	    {"wan_v4.auto", "192.168.1.1", false},
	    {"wan_v4.auto", "2001:db8::1", false},  {"wan_v6.auto", "2001:db8::1", true},
	    {"wan_v6.auto", "fd12::1", false},	    {"wan_v6.auto", "8.8.8.8", false},
	    {"any_v4.auto", "192.168.1.1", true},   {"any_v4.auto", "::1", false},
	    {"any_v6.auto", "::1", true},	    {"any_v6.auto", "127.0.0.1", false},
	    {"nat.auto", "10.9.9.9", true},	    {"nat.auto", "100.64.9.9", true},
	    {"nat.auto", "8.8.8.8", false},	    {"localnet.auto", "127.0.0.1", true},
	    {"localnet.auto", "::1", true},	    {"localnet.auto", "8.8.8.8", false},
	};
	for (size_t i = 0; i < ARRAY_LEN(v); i++)
		if (allows(s, v[i].list, v[i].ip) != v[i].allowed)
			fail_msg("%s %s: expected %s", v[i].list, v[i].ip,
				 v[i].allowed ? "allow" : "deny");

	/* The host's own networks: in localnet.auto, and (IPv4) out of nat.auto. */
	struct config__host_addr h[64];
	size_t n = config__host_addrs(h, ARRAY_LEN(h));
	for (size_t i = 0; i < n; i++) {
		struct net_addr a;
		memset(&a, 0, sizeof(a));
		if (h[i].family == AF_INET) {
			a.u.in4.sin_family = AF_INET;
			memcpy(&a.u.in4.sin_addr, h[i].addr, 4);
		} else {
			a.u.in6.sin6_family = AF_INET6;
			memcpy(&a.u.in6.sin6_addr, h[i].addr, 16);
		}
		assert_true(acl_check(s, "localnet.auto", &a));
		if (!h[i].loopback && h[i].family == AF_INET)
			assert_false(acl_check(s, "nat.auto", &a));
	}
	config_free(cfg);
}

static const char RELOAD_ROOT[] =
    "<document type=\"freeswitch/xml\">\n"
    "  <X-PRE-PROCESS cmd=\"include\" data=\"vars.xml\"/>\n"
    "  <section name=\"configuration\">\n"
    "    <X-PRE-PROCESS cmd=\"include\" data=\"autoload_configs/*.xml\"/>\n"
    "    <configuration name=\"sofia.conf\"><profiles><profile name=\"p\"><settings>\n"
    "      <param name=\"sip-ip\" value=\"127.0.0.1\"/>\n"
    "      <param name=\"apply-inbound-acl\" value=\"trunk\"/>\n"
    "    </settings></profile></profiles></configuration>\n"
    "  </section>\n"
    "</document>\n";

static void acl_file(const char *dir, const char *cidr)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "<configuration name=\"acl.conf\"><network-lists>\n"
		 "  <list name=\"trunk\" default=\"deny\">\n"
		 "    <node type=\"allow\" cidr=\"%s\"/>\n"
		 "  </list>\n"
		 "</network-lists></configuration>\n",
		 cidr);
	tree_write(dir, "autoload_configs/acl.conf.xml", text);
}

static void test_reload(void **state)
{
	char *dir = tree_create(), err[512], *log;
	struct config *cfg;
	struct acl_set *fresh = NULL;
	const char *presets[] = {"trunk_net=192.0.2.0/24", NULL};

	tree_write(dir, "freeswitch.xml", RELOAD_ROOT);
	tree_write(dir, "vars.xml", "<include><x v=\"$${nope}\"/></include>\n");
	acl_file(dir, "$${trunk_net}");
	assert_int_equal(load_logged(&cfg, dir, presets, err, sizeof(err), NULL), 0);
	assert_true(allows(cfg->acls, "trunk", "192.0.2.10"));
	assert_false(allows(cfg->acls, "trunk", "198.51.100.10"));

	/* The provider moved: a new set, built with the same presets. */
	acl_file(dir, "$${trunk_net},198.51.100.0/24");
	struct capture cap;
	capture_begin(&cap);
	assert_int_equal(config_reload_acls(cfg, &fresh, err, sizeof(err)), 0);
	log = capture_end(&cap);
	assert_string_equal(log, ""); /* the unknown variable was reported at start */
	free(log);
	assert_non_null(fresh);
	assert_true(allows(fresh, "trunk", "198.51.100.10"));
	assert_true(allows(fresh, "trunk", "192.0.2.10"));
	assert_false(allows(cfg->acls, "trunk", "198.51.100.10")); /* the old set is intact */
	acl_set_free(cfg->acls);
	cfg->acls = fresh;

	/* A broken acl.conf, or one that drops a list in use, changes nothing. */
	acl_file(dir, "198.51.100.0/99");
	fresh = NULL;
	assert_int_equal(config_reload_acls(cfg, &fresh, err, sizeof(err)), -EINVAL);
	assert_null(fresh);
	assert_non_null(strstr(err, "/autoload_configs/acl.conf.xml:3: node cidr"));
	tree_write(dir, "autoload_configs/acl.conf.xml",
		   "<configuration name=\"acl.conf\"><network-lists>\n"
		   "  <list name=\"other\" default=\"deny\"/>\n"
		   "</network-lists></configuration>\n");
	assert_int_equal(config_reload_acls(cfg, &fresh, err, sizeof(err)), -EINVAL);
	assert_null(fresh);
	char want[PATH_MAX + 128];
	snprintf(want, sizeof(want),
		 "%s/freeswitch.xml:5: profile 'p' uses ACL list 'trunk', which acl.conf no longer "
		 "defines (reload refused)",
		 dir);
	assert_string_equal(err, want);
	tree_write(dir, "autoload_configs/acl.conf.xml", "<configuration name=\"acl.conf\">\n");
	assert_int_equal(config_reload_acls(cfg, &fresh, err, sizeof(err)), -EINVAL);
	assert_null(fresh);
	assert_true(allows(cfg->acls, "trunk", "198.51.100.10"));
	assert_int_equal(config_reload_acls(NULL, &fresh, err, sizeof(err)), -EINVAL);
	config_free(cfg);
	tree_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_matching),
	    cmocka_unit_test(test_builtins),
	    cmocka_unit_test(test_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
