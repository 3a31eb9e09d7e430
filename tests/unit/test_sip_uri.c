/*
 * Unit tests for the header pieces: URIs (RFC 3261 §19.1, §25.1; IPv6 per
 * RFC 5118), Via (§20.42), name-addr / addr-spec (§20.10), CSeq (§20.16),
 * generic parameters and lists (§7.3.1). Table-driven, each vector citing
 * the rule it exercises.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sip/sip.h"

static void assert_slice(struct str got, const char *want, const char *what, const char *in)
{
	if (!str_eq(got, str_from_cstr(want)))
		fail_msg("%s of \"%s\": got \"%.*s\", want \"%s\"", what, in, (int)got.len, got.p,
			 want);
}

/* ---- URIs ------------------------------------------------------------------ */

static const struct uri_vector {
	const char *in;
	int ret;
	const char *scheme, *user, *password, *host;
	uint16_t port;
	const char *params, *headers;
} uri_vectors[] = {
    /* §19.1.1 forms */
    {"sip:alice@atlanta.com", 0, "sip", "alice", "", "atlanta.com", 0, "", ""},
    {"sip:alice:secretword@atlanta.com;transport=tcp", 0, "sip", "alice", "secretword",
     "atlanta.com", 0, ";transport=tcp", ""},
    {"sips:alice@atlanta.com?subject=project%20x&priority=urgent", 0, "sips", "alice", "",
     "atlanta.com", 0, "", "subject=project%20x&priority=urgent"},
    {"sip:+1-212-555-1212:1234@gateway.com;user=phone", 0, "sip", "+1-212-555-1212", "1234",
     "gateway.com", 0, ";user=phone", ""},
    {"sips:1212@gateway.com", 0, "sips", "1212", "", "gateway.com", 0, "", ""},
    {"sip:alice@192.0.2.4", 0, "sip", "alice", "", "192.0.2.4", 0, "", ""},
    {"sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com", 0, "sip", "", "", "atlanta.com", 0,
     ";method=REGISTER", "to=alice%40atlanta.com"},
    {"sip:alice;day=tuesday@atlanta.com", 0, "sip", "alice;day=tuesday", "", "atlanta.com", 0, "",
     ""},
    {"SIP:Bob@Biloxi.COM:5061;LR", 0, "SIP", "Bob", "", "Biloxi.COM", 5061, ";LR", ""},
    /* RFC 5118: IPv6 references keep their brackets */
    {"sip:[2001:db8::10]:5070;transport=tcp", 0, "sip", "", "", "[2001:db8::10]", 5070,
     ";transport=tcp", ""},
    {"sip:alice@[::ffff:192.0.2.1]", 0, "sip", "alice", "", "[::ffff:192.0.2.1]", 0, "", ""},
    /* RFC 3966 */
    {"tel:+1-201-555-0123;phone-context=example.com", 0, "tel", "+1-201-555-0123", "", "", 0,
     ";phone-context=example.com", ""},
    /* other schemes are kept whole (a UAS answers 416) */
    {"soap.beep://192.0.2.103:3002", 0, "soap.beep", "", "", "", 0, "", ""},
    {"isbn:2983792873", 0, "isbn", "", "", "", 0, "", ""},
    /* faults */
    {.in = "", .ret = -EINVAL},
    {.in = "sip:", .ret = -EINVAL},
    {.in = "alice@atlanta.com", .ret = -EINVAL},
    {.in = "1sip:a@b", .ret = -EINVAL},
    {.in = "sip:@atlanta.com", .ret = -EINVAL},
    {.in = "sip:alice@", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com:", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com:65536", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com:0", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com:50x", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com; lr", .ret = -EINVAL}, /* RFC 4475 lwsruri */
    {.in = "sip:alice@atlanta.com;;lr", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com;a=", .ret = -EINVAL},
    {.in = "sip:al ice@atlanta.com", .ret = -EINVAL},
    {.in = "sip:al%4@atlanta.com", .ret = -EINVAL},
    {.in = "sip:al%zz@atlanta.com", .ret = -EINVAL},
    {.in = "sip:alice@[2001:db8::1", .ret = -EINVAL},
    {.in = "sip:alice@[]", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com?", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com?a", .ret = -EINVAL},
    {.in = "sip:alice@atlanta.com?a=b&", .ret = -EINVAL},
    {.in = "sip:alice@atl<anta.com", .ret = -EINVAL},
    {.in = "<sip:alice@atlanta.com>", .ret = -EINVAL}, /* RFC 4475 ltgtruri */
    {.in = "http://exa mple.com", .ret = -EINVAL},
    {.in = "tel:", .ret = -EINVAL},
};

static void test_uri_vectors(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(uri_vectors); i++) {
		const struct uri_vector *v = &uri_vectors[i];
		struct sip_uri u;
		int r = sip_uri_parse(&u, str_from_cstr(v->in));
		if (r != v->ret)
			fail_msg("\"%s\": returned %d, want %d", v->in, r, v->ret);
		if (r)
			continue;
		assert_slice(u.scheme, v->scheme, "scheme", v->in);
		assert_slice(u.user, v->user, "user", v->in);
		assert_slice(u.password, v->password, "password", v->in);
		assert_slice(u.host, v->host, "host", v->in);
		assert_int_equal(u.port, v->port);
		assert_slice(u.params, v->params, "params", v->in);
		assert_slice(u.headers, v->headers, "headers", v->in);
	}
}

/* ---- Via --------------------------------------------------------------------- */

static const struct via_vector {
	const char *in;
	int ret;
	const char *transport, *host;
	uint16_t port;
	const char *branch, *received;
	bool rport;
	uint32_t rport_value;
	const char *rest;
} via_vectors[] = {
    {"SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds", 0, "UDP", "pc33.atlanta.com", 0,
     "z9hG4bK776asdhds", "", false, 0, ""},
    {"SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKa;received=192.0.2.7;rport=5070", 0, "TCP",
     "192.0.2.1", 5060, "z9hG4bKa", "192.0.2.7", true, 5070, ""},
    /* RFC 3581: rport without a value */
    {"SIP/2.0/UDP h;rport;branch=z9hG4bKb", 0, "UDP", "h", 0, "z9hG4bKb", "", true, 0, ""},
    /* RFC 5118: IPv6 sent-by in brackets, received= without */
    {"SIP/2.0/UDP [2001:db8::9:1]:5061;received=2001:db8::9:255;branch=z9hG4bKc", 0, "UDP",
     "[2001:db8::9:1]", 5061, "z9hG4bKc", "2001:db8::9:255", false, 0, ""},
    /* §7.3.1 / RFC 4475 wsinv: LWS around '/', ':', ';' and '=' */
    {"SIP  /  2.0  / TCP   spindle.example.com : 5062 ;\r\n  branch  =  z9hG4bK9ikj8  ,"
     "\r\n SIP/2.0/UDP x",
     0, "TCP", "spindle.example.com", 5062, "z9hG4bK9ikj8", "", false, 0, "SIP/2.0/UDP x"},
    {"SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf", 0, "SCTP", "t2.example.com", 0,
     "z9hG4bKklasjdhf", "", false, 0, ""},
    {"SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKd;x=\"quoted;,value\"", 0, "WSS",
     "df7jal23ls0d.invalid", 0, "z9hG4bKd", "", false, 0, ""},
    /* faults */
    {.in = "", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP", .ret = -EINVAL},
    {.in = "SIP/2.0 UDP h", .ret = -EINVAL},
    {.in = "SIP/2.0/UDPh", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h;", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h;;branch=z9hG4bK", .ret = -EINVAL}, /* RFC 4475 badinv01 */
    {.in = "SIP/2.0/UDP h;branch=", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h:0", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h;rport=x", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h;received=not/an/address", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h,", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h junk", .ret = -EINVAL},
    {.in = "SIP/2.0/UDP h;x=\"unterminated", .ret = -EINVAL},
};

static void test_via_vectors(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(via_vectors); i++) {
		const struct via_vector *v = &via_vectors[i];
		struct sip_via via;
		struct str rest;
		int r = sip_via_parse(&via, str_from_cstr(v->in), &rest);
		if (r != v->ret)
			fail_msg("\"%s\": returned %d, want %d", v->in, r, v->ret);
		if (r)
			continue;
		assert_slice(via.transport, v->transport, "transport", v->in);
		assert_slice(via.host, v->host, "host", v->in);
		assert_int_equal(via.port, v->port);
		assert_slice(via.branch, v->branch, "branch", v->in);
		assert_slice(via.received, v->received, "received", v->in);
		assert_int_equal(via.rport, v->rport);
		assert_int_equal(via.rport_value, v->rport_value);
		assert_slice(rest, v->rest, "rest", v->in);
	}
	/* a list without room for more: rest NULL refuses a ',' */
	struct sip_via via;
	assert_int_equal(sip_via_parse(&via, STR("SIP/2.0/UDP a, SIP/2.0/UDP b"), NULL), -EINVAL);
	assert_int_equal(sip_via_parse(&via, STR("SIP/2.0/UDP a;maddr=224.2.0.1;ttl=16"), NULL), 0);
	assert_slice(via.maddr, "224.2.0.1", "maddr", "ttl");
	assert_slice(via.params, ";maddr=224.2.0.1;ttl=16", "params", "ttl");
	assert_slice(via.protocol, "SIP/2.0", "protocol", "ttl");
}

/* ---- name-addr / addr-spec ------------------------------------------------------ */

static const struct addr_vector {
	const char *in;
	int ret;
	const char *display, *uri, *params, *tag, *rest;
} addr_vectors[] = {
    {"\"Bob\" <sips:bob@biloxi.com> ;tag=a48s", 0, "Bob", "sips:bob@biloxi.com", ";tag=a48s",
     "a48s", ""},
    {"Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", 0, "Anonymous",
     "sip:c8oqz84zk7z@privacy.org", ";tag=hyh8", "hyh8", ""},
    /* §20.10: in addr-spec form the parameters belong to the header */
    {"sip:+12125551212@server.phone2net.com;tag=887s", 0, "",
     "sip:+12125551212@server.phone2net.com", ";tag=887s", "887s", ""},
    {"<sip:a@b;lr>;tag=1", 0, "", "sip:a@b;lr", ";tag=1", "1", ""},
    {"The Operator <sip:operator@cs.columbia.edu>;tag=287447", 0, "The Operator",
     "sip:operator@cs.columbia.edu", ";tag=287447", "287447", ""},
    {"\"A \\\"q\\\" \\\\\" <sip:a@b>", 0, "A \\\"q\\\" \\\\", "sip:a@b", "", "", ""},
    {"caller<sip:caller@example.com>;tag=323", 0, "caller", "sip:caller@example.com", ";tag=323",
     "323", ""},
    {"<sip:a@b>, \"x,y\" <sip:c@d>", 0, "", "sip:a@b", "", "", "\"x,y\" <sip:c@d>"},
    {"<sip:a@b> ;\r\n  tag = 98asjd8 ;q=0.7", 0, "", "sip:a@b", ";\r\n  tag = 98asjd8 ;q=0.7",
     "98asjd8", ""},
    {"<sip:[2001:db8::1]:5060>", 0, "", "sip:[2001:db8::1]:5060", "", "", ""},
    {"\"\xd0\xb8\xd0\xbc\xd1\x8f\" <tel:+358-555-1234567>", 0, "\xd0\xb8\xd0\xbc\xd1\x8f",
     "tel:+358-555-1234567", "", "", ""},
    /* faults */
    {.in = "", .ret = -EINVAL},
    {.in = "\"Mr. J. User <sip:j.user@example.com>", .ret = -EINVAL}, /* RFC 4475 quotbal */
    {.in = "\"Watson, Thomas\" < sip:t.watson@example.org >", .ret = -EINVAL},	    /* badaspec */
    {.in = "Bell, Alexander <sip:a.g.bell@example.com>", .ret = -EINVAL},	    /* baddn */
    {.in = "sip:user@example.com?Route=%3Csip:sip.example.com%3E", .ret = -EINVAL}, /* regbadct */
    {.in = "<sip:a@b", .ret = -EINVAL},
    {.in = "<sip:a@b>;", .ret = -EINVAL},
    {.in = "<sip:a@b>;;;;", .ret = -EINVAL}, /* badinv01's Contact */
    {.in = "<sip:a@b>;tag=\"x", .ret = -EINVAL},
    {.in = "<sip:a@b> junk", .ret = -EINVAL},
    {.in = "\"Bob\" sip:a@b", .ret = -EINVAL},
    {.in = "<>", .ret = -EINVAL},
    {.in = "\"A\x01\" <sip:a@b>", .ret = -EINVAL}, /* raw control character in a quoted string */
};

static void test_addr_vectors(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(addr_vectors); i++) {
		const struct addr_vector *v = &addr_vectors[i];
		struct sip_addr a;
		struct str rest;
		int r = sip_addr_parse(&a, str_from_cstr(v->in), &rest);
		if (r != v->ret)
			fail_msg("\"%s\": returned %d, want %d", v->in, r, v->ret);
		if (r)
			continue;
		assert_slice(a.display, v->display, "display", v->in);
		assert_slice(a.uri_str, v->uri, "uri", v->in);
		assert_slice(a.params, v->params, "params", v->in);
		assert_slice(a.tag, v->tag, "tag", v->in);
		assert_slice(rest, v->rest, "rest", v->in);
		assert_true(a.uri.scheme.len > 0);
	}
}

/* ---- CSeq, parameters, lists -------------------------------------------------- */

static void test_cseq(void **state)
{
	struct sip_cseq c;

	assert_int_equal(sip_cseq_parse(&c, STR("4711 INVITE")), 0);
	assert_int_equal(c.num, 4711);
	assert_int_equal(c.method, SIP_METHOD_INVITE);
	assert_int_equal(sip_cseq_parse(&c, STR(" 0009\r\n  INVITE ")), 0);
	assert_int_equal(c.num, 9);
	assert_int_equal(sip_cseq_parse(&c, STR("4294967295 NEWMETHOD")), 0);
	assert_int_equal(c.method, SIP_METHOD_UNKNOWN);
	assert_true(str_eq(c.method_name, STR("NEWMETHOD")));
	assert_int_equal(sip_cseq_parse(&c, STR("4294967296 INVITE")), -ERANGE);
	assert_int_equal(sip_cseq_parse(&c, STR("36893488147419103232 REGISTER")), -ERANGE);
	assert_int_equal(sip_cseq_parse(&c, STR("-1 INVITE")), -EINVAL);
	assert_int_equal(sip_cseq_parse(&c, STR("1INVITE")), -EINVAL);
	assert_int_equal(sip_cseq_parse(&c, STR("1 INVITE x")), -EINVAL);
	assert_int_equal(sip_cseq_parse(&c, STR("1")), -EINVAL);
	assert_int_equal(sip_cseq_parse(&c, STR("")), -EINVAL);
}

static void test_params(void **state)
{
	struct str params = STR(";lr;Transport=TCP ; q = 0.5;x=\"a;b\";empty");
	struct str v;

	assert_true(sip_param_get(params, "lr", &v));
	assert_int_equal(v.len, 0);
	assert_true(sip_param_get(params, "transport", &v)); /* names are case-insensitive */
	assert_true(str_eq(v, STR("TCP")));
	assert_true(sip_param_get(params, "q", &v));
	assert_true(str_eq(v, STR("0.5")));
	assert_true(sip_param_get(params, "x", &v)); /* quoted values keep their quotes */
	assert_true(str_eq(v, STR("\"a;b\"")));
	assert_true(sip_param_get(params, "empty", NULL));
	assert_false(sip_param_get(params, "b", &v));
	assert_false(sip_param_get(params, "l", &v));
	assert_false(sip_param_get(STR(""), "lr", &v));
	assert_false(sip_param_get(STR_NULL, "lr", &v));
}

static void test_lists(void **state)
{
	static const struct {
		const char *in;
		const char *items[5];
	} vectors[] = {
	    {"INVITE, ACK,BYE ,  CANCEL", {"INVITE", "ACK", "BYE", "CANCEL"}},
	    {"<sip:a@b;x=1,2>, \"Q, R\" <sip:c@d>", {"<sip:a@b;x=1,2>", "\"Q, R\" <sip:c@d>"}},
	    {"\"a\\\",b\", c", {"\"a\\\",b\"", "c"}},
	    {",, a ,,\r\n b,", {"a", "b"}},
	    {"", {NULL}},
	    {" , ", {NULL}},
	    {"\"unbalanced, x", {"\"unbalanced, x"}},
	};
	for (size_t i = 0; i < ARRAY_LEN(vectors); i++) {
		struct str list = str_from_cstr(vectors[i].in), item;
		size_t k = 0;
		while (sip_list_next(&list, &item)) {
			assert_non_null(vectors[i].items[k]);
			assert_slice(item, vectors[i].items[k], "item", vectors[i].in);
			k++;
		}
		assert_null(vectors[i].items[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uri_vectors),	 cmocka_unit_test(test_via_vectors),
	    cmocka_unit_test(test_addr_vectors), cmocka_unit_test(test_cseq),
	    cmocka_unit_test(test_params),	 cmocka_unit_test(test_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
