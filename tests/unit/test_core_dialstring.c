/*
 * The dial string parser: FreeSWITCH's syntax ({…} <…> […], ',' and '|',
 * sofia/gateway, sofia/<profile>, error/), its escaping and quoting, and
 * the refusal of malformed strings with a message naming the fault.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/dialstring.h"

struct parsed {
	struct arena a;
	struct dial_string ds;
	char err[256];
};

static struct parsed *parse_ok(const char *text)
{
	struct parsed *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	arena_init(&p->a, 0);
	int rc = core__dial_parse(&p->ds, &p->a, text, p->err, sizeof(p->err));
	if (rc != 0)
		fail_msg("'%s' did not parse: %d %s", text, rc, p->err);
	return p;
}

static void parsed_free(struct parsed *p)
{
	arena_fini(&p->a);
	free(p);
}

/* Parsing fails and the message contains `what`. */
static void parse_bad(const char *text, const char *what)
{
	struct arena a;
	struct dial_string ds;
	char err[256];
	arena_init(&a, 0);
	int rc = core__dial_parse(&ds, &a, text, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("'%s' parsed (%d), expected an error with '%s'", text, rc, what);
	if (!strstr(err, what))
		fail_msg("'%s': error '%s' does not mention '%s'", text, err, what);
	arena_fini(&a);
}

static void test_gateway_leg(void **state)
{
	struct parsed *p = parse_ok("sofia/gateway/twilio/+15551234567");
	assert_int_equal(p->ds.group_count, 1);
	assert_int_equal(p->ds.leg_count, 1);
	assert_int_equal(p->ds.vars.count, 0);
	const struct dial_leg *l = &p->ds.groups[0].legs[0];
	assert_int_equal(l->kind, DIAL_GATEWAY);
	assert_string_equal(l->gateway, "twilio");
	assert_string_equal(l->user, "+15551234567");
	assert_string_equal(l->endpoint, "sofia/gateway/twilio/+15551234567");
	parsed_free(p);
}

static void test_profile_legs(void **state)
{
	struct parsed *p = parse_ok("sofia/internal/1000@127.0.0.1:5080,"
				    "sofia/external/sip:alice@[::1]:5062;transport=tcp,"
				    "sofia/internal/sips:example.com");
	assert_int_equal(p->ds.group_count, 1);
	assert_int_equal(p->ds.groups[0].leg_count, 3);
	const struct dial_leg *l = p->ds.groups[0].legs;
	assert_int_equal(l[0].kind, DIAL_PROFILE);
	assert_string_equal(l[0].profile, "internal");
	assert_string_equal(l[0].uri, "sip:1000@127.0.0.1:5080");
	assert_string_equal(l[0].user, "1000");
	assert_string_equal(l[1].profile, "external");
	assert_string_equal(l[1].uri, "sip:alice@[::1]:5062;transport=tcp");
	assert_string_equal(l[1].user, "alice");
	assert_string_equal(l[2].uri, "sips:example.com");
	assert_string_equal(l[2].user, "");
	parsed_free(p);
}

static void test_error_legs(void **state)
{
	struct parsed *p = parse_ok("error/USER_BUSY|error/17|error/no_answer");
	assert_int_equal(p->ds.group_count, 3);
	assert_int_equal(p->ds.groups[0].legs[0].kind, DIAL_ERROR);
	assert_int_equal(p->ds.groups[0].legs[0].cause, CAUSE_USER_BUSY);
	assert_int_equal(p->ds.groups[1].legs[0].cause, CAUSE_USER_BUSY);
	assert_int_equal(p->ds.groups[2].legs[0].cause, CAUSE_NO_ANSWER);
	parsed_free(p);
}

static void test_groups_and_legs(void **state)
{
	struct parsed *p = parse_ok(" sofia/gateway/a/1 , sofia/gateway/b/2 | error/CALL_REJECTED "
				    "| sofia/internal/x@h,sofia/internal/y@h,sofia/internal/z@h ");
	assert_int_equal(p->ds.group_count, 3);
	assert_int_equal(p->ds.leg_count, 6);
	assert_int_equal(p->ds.groups[0].leg_count, 2);
	assert_int_equal(p->ds.groups[1].leg_count, 1);
	assert_int_equal(p->ds.groups[2].leg_count, 3);
	assert_string_equal(p->ds.groups[0].legs[1].gateway, "b");
	assert_string_equal(p->ds.groups[2].legs[2].user, "z");
	parsed_free(p);
}

static void test_variables(void **state)
{
	struct parsed *p =
	    parse_ok("{origination_caller_id_number=1555,ignore_early_media=true}"
		     "<leg_timeout=10>[sip_h_X-Foo=bar][origination_caller_id_number=777]"
		     "sofia/gateway/gw/1,sofia/gateway/gw/2|sofia/gateway/gw/3");
	const struct dial_string *ds = &p->ds;
	assert_int_equal(ds->vars.count, 2);
	assert_string_equal(core__dial_vars_get(&ds->vars, "ignore_early_media"), "true");
	const struct dial_group *g0 = &ds->groups[0], *g1 = &ds->groups[1];
	assert_int_equal(g0->vars.count, 1);
	assert_int_equal(g0->legs[0].vars.count, 2);
	assert_int_equal(g0->legs[1].vars.count, 0);
	/* leg over group over global */
	assert_string_equal(
	    core__dial_leg_var(ds, g0, &g0->legs[0], "origination_caller_id_number"), "777");
	assert_string_equal(
	    core__dial_leg_var(ds, g0, &g0->legs[1], "origination_caller_id_number"), "1555");
	assert_string_equal(core__dial_leg_var(ds, g0, &g0->legs[1], "leg_timeout"), "10");
	assert_null(core__dial_leg_var(ds, g1, &g1->legs[0], "leg_timeout"));
	assert_string_equal(core__dial_leg_var(ds, g0, &g0->legs[0], "sip_h_X-Foo"), "bar");
	assert_null(core__dial_leg_var(ds, g0, &g0->legs[0], "nothing"));
	parsed_free(p);
}

static void test_escaping_and_quotes(void **state)
{
	struct parsed *p = parse_ok("{a=one\\,two,b='x,y}z',c=\"q'uote\",d=,e=back\\\\slash,"
				    "f = spaced }sofia/gateway/gw/1");
	const struct dial_vars *v = &p->ds.vars;
	assert_string_equal(core__dial_vars_get(v, "a"), "one,two");
	assert_string_equal(core__dial_vars_get(v, "b"), "x,y}z");
	assert_string_equal(core__dial_vars_get(v, "c"), "q'uote");
	assert_string_equal(core__dial_vars_get(v, "d"), "");
	assert_string_equal(core__dial_vars_get(v, "e"), "back\\slash");
	assert_string_equal(core__dial_vars_get(v, "f"), " spaced ");
	parsed_free(p);

	/* ^^X: another separator, so commas stay in values */
	p = parse_ok("{^^:absolute_codec_string=PCMU,PCMA:origination_caller_id_name=A, B}"
		     "[^^;x=1;y=2,3]sofia/gateway/gw/1");
	assert_string_equal(core__dial_vars_get(&p->ds.vars, "absolute_codec_string"), "PCMU,PCMA");
	assert_string_equal(core__dial_vars_get(&p->ds.vars, "origination_caller_id_name"), "A, B");
	assert_string_equal(core__dial_vars_get(&p->ds.groups[0].legs[0].vars, "y"), "2,3");
	parsed_free(p);

	/* the last of a repeated name wins; empty items are skipped; {} empty */
	p = parse_ok("{}{a=1,,a=2,}sofia/gateway/gw/1");
	assert_int_equal(p->ds.vars.count, 2);
	assert_string_equal(core__dial_vars_get(&p->ds.vars, "a"), "2");
	parsed_free(p);
}

static void test_malformed(void **state)
{
	parse_bad("", "empty dial string");
	parse_bad("   ", "empty dial string");
	parse_bad("{a=1", "unterminated");
	parse_bad("{a=1}", "leg 1: empty");
	parse_bad("[a='x]sofia/gateway/g/1", "unterminated quote");
	parse_bad("{a='x' y}sofia/gateway/g/1", "text after the quoted value of 'a'");
	parse_bad("{a}sofia/gateway/g/1", "variable 'a' has no '='");
	parse_bad("{=1}sofia/gateway/g/1", "unexpected '='");
	parse_bad("{^^=a=1}sofia/gateway/g/1", "bad separator");
	parse_bad("sofia/gateway/g/1,", "leg 2: empty");
	parse_bad("sofia/gateway/g/1||error/USER_BUSY", "leg 2: empty");
	parse_bad("|sofia/gateway/g/1", "leg 1: empty");
	parse_bad("sofia/gateway/g/1,{a=1}sofia/gateway/g/2", "leg 2: {…} is only allowed");
	parse_bad("sofia/gateway/g/1,<a=1>sofia/gateway/g/2", "leg 2: <…> is only allowed");
	parse_bad("sofia/gateway/g/1}", "unexpected '}'");
	parse_bad("sofia/gateway/g/1>", "unexpected '>'");
	parse_bad("sofia/gateway/g", "needs sofia/gateway/<gateway>/<number>");
	parse_bad("sofia/gateway//1", "needs sofia/gateway/<gateway>/<number>");
	parse_bad("sofia/gateway/g/", "needs sofia/gateway/<gateway>/<number>");
	parse_bad("sofia/internal", "needs sofia/<profile>/<destination>");
	parse_bad("sofia//1000@host", "needs sofia/<profile>/<destination>");
	parse_bad("sofia/internal/1000", "needs <user>@<host> or a sip: URI");
	parse_bad("sofia/internal/1000@", "is not a SIP URI");
	parse_bad("sofia/internal/sip:", "is not a SIP URI");
	parse_bad("sofia/internal/10 00@host", "space or control character");
	parse_bad("error/BUSY", "unknown cause 'BUSY'");
	parse_bad("error/", "unknown cause ''");
	parse_bad("error/4", "unknown cause '4'");
	parse_bad("user/1000@default", "endpoint type 'user' is not supported");
	parse_bad("loopback/1000", "endpoint type 'loopback' is not supported");
	parse_bad("1000", "is not an endpoint");
	parse_bad("sofia/gateway/g/1,error/USER_BUSY,user/x", "leg 3:");
}

static void test_limits(void **state)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < DIAL_MAX_LEGS; i++)
		buf_printf(&b, "%serror/USER_BUSY", i ? (i % 2 ? "," : "|") : "");
	struct parsed *p = parse_ok(b.p);
	assert_int_equal(p->ds.leg_count, DIAL_MAX_LEGS);
	parsed_free(p);
	buf_append_cstr(&b, "|error/USER_BUSY");
	parse_bad(b.p, "more than 64 legs");
	buf_reset(&b);
	buf_append_cstr(&b, "{");
	for (int i = 0; i <= DIAL_MAX_VARS; i++)
		buf_printf(&b, "v%d=%d,", i, i);
	buf_append_cstr(&b, "}error/USER_BUSY");
	parse_bad(b.p, "more than 128 variables");
	buf_reset(&b);
	for (int i = 0; i < DIAL_MAX_LEN; i++)
		buf_append_cstr(&b, " ");
	buf_append_cstr(&b, "error/USER_BUSY");
	parse_bad(b.p, "longer than");
	buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gateway_leg), cmocka_unit_test(test_profile_legs),
	    cmocka_unit_test(test_error_legs),	cmocka_unit_test(test_groups_and_legs),
	    cmocka_unit_test(test_variables),	cmocka_unit_test(test_escaping_and_quotes),
	    cmocka_unit_test(test_malformed),	cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
