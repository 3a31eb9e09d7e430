/*
 * Hunting vectors: what FreeSWITCH's XML dialplan does with a call, as a
 * table of (dialplan, context, caller variables) → the applications the call
 * runs with their data expanded. Covers captures, anti-actions, the four
 * break modes, continue, inline set seen by later conditions, nested and
 * unknown variables, contexts, regex all/any/xor, nested conditions, time of
 * day and no match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_dialplan_util.h"

/* Saturday 2024-06-15 10:30:15 UTC; tod_tz_offset=0 makes it UTC */
#define SAT_1030 ((time_t)1718447415)

#define EXT(name, body)	 "<extension name=\"" name "\">" body "</extension>"
#define EXTC(name, body) "<extension name=\"" name "\" continue=\"true\">" body "</extension>"
#define DEST(re)	 "<condition field=\"destination_number\" expression=\"" re "\">"
#define ACT(app, data)	 "<action application=\"" app "\" data=\"" data "\"/>"
#define ANTI(app, data)	 "<anti-action application=\"" app "\" data=\"" data "\"/>"
#define END		 "</condition>"
#define CTX(name, body)	 "<include><context name=\"" name "\">" body "</context></include>"

struct vector {
	const char *name;
	const char *xml;
	const char *context; /* NULL: default */
	const char *vars;
	const char *want; /* NULL: no route */
	int rc;
	const char *want_var; /* "name=value" after the route ran, or NULL */
	time_t now;
};

static const struct vector vectors[] = {
    {"capture into data",
     CTX("default", EXT("local", DEST("^(10\\d\\d)$") ACT("answer", "")
				     ACT("playback", "/sounds/$1.wav") END)),
     NULL, "destination_number=1001", "answer()|playback(/sounds/1001.wav)", 0, NULL, 0},
    {"no extension matches: no route",
     CTX("default", EXT("local", DEST("^10\\d\\d$") ACT("answer", "") END)), NULL,
     "destination_number=2000", NULL, -ENOENT, NULL, 0},
    {"first matching extension wins",
     CTX("default",
	 EXT("a", DEST("^1") ACT("log", "a") END) EXT("b", DEST("^1") ACT("log", "b") END)),
     NULL, "destination_number=123", "log(a)", 0, NULL, 0},
    {"continue=true keeps hunting",
     CTX("default",
	 EXTC("a", DEST("^1") ACT("log", "a") END) EXT("b", DEST("^1") ACT("log", "b") END)
	     EXT("c", DEST("^1") ACT("log", "c") END)),
     NULL, "destination_number=123", "log(a)|log(b)", 0, NULL, 0},
    {"anti-actions run when the condition is false, and end the hunt",
     CTX("default", EXT("a", DEST("^9") ACT("log", "yes") ANTI("log", "no") ANTI("hangup", "") END)
			EXT("b", DEST("^1") ACT("log", "b") END)),
     NULL, "destination_number=123", "log(no)|hangup()", 0, NULL, 0},
    {"break on-false (default): a false condition stops the extension",
     CTX("default", EXT("a", DEST("^9") ACT("log", "1") END DEST("^1") ACT("log", "2") END)
			EXT("b", DEST("^1") ACT("log", "b") END)),
     NULL, "destination_number=123", "log(b)", 0, NULL, 0},
    {"break never: the next condition is still tested",
     CTX("default",
	 EXT("a", "<condition field=\"destination_number\" expression=\"^9\" "
		  "break=\"never\">" ACT("log", "1") END DEST("^1") ACT("log", "2") END)),
     NULL, "destination_number=123", "log(2)", 0, NULL, 0},
    {"break on-true: the first true condition ends the extension",
     CTX("default",
	 EXT("a", "<condition field=\"destination_number\" expression=\"^1\" "
		  "break=\"on-true\">" ACT("log", "1") END DEST("^1") ACT("log", "2") END)),
     NULL, "destination_number=123", "log(1)", 0, NULL, 0},
    {"break on-true: a false condition goes on",
     CTX("default",
	 EXT("a", "<condition field=\"destination_number\" expression=\"^9\" "
		  "break=\"on-true\">" ACT("log", "1") END DEST("^1") ACT("log", "2") END)),
     NULL, "destination_number=123", "log(2)", 0, NULL, 0},
    {"break always: stops after the condition either way",
     CTX("default",
	 EXT("a", "<condition field=\"destination_number\" expression=\"^1\" "
		  "break=\"always\">" ACT("log", "1") END DEST("^1") ACT("log", "2") END)),
     NULL, "destination_number=123", "log(1)", 0, NULL, 0},
    {"actions added before a false condition stay; hunting goes on",
     CTX("default", EXT("a", "<condition field=\"destination_number\" expression=\"^1\" "
			     "break=\"never\">" ACT("log", "1") END DEST("^9") ACT("log", "2") END)
			EXT("b", DEST("^1") ACT("log", "b") END)),
     NULL, "destination_number=123", "log(1)|log(b)", 0, NULL, 0},
    {"inline set is seen by later conditions",
     CTX("default", EXTC("a", DEST("^(\\d+)$") "<action application=\"set\" data=\"who=x$1\" "
					       "inline=\"true\"/>" END)
			EXT("b", "<condition field=\"${who}\" expression=\"^x123$\">" ACT(
				     "log", "${who}") END)),
     NULL, "destination_number=123", "log(x123)", 0, "who=x123", 0},
    {"a set that is not inline runs later: conditions do not see it",
     CTX("default",
	 EXTC("a", DEST("^(\\d+)$") ACT("set", "who=x$1") END)
	     EXT("b", "<condition field=\"${who}\" expression=\"^x123$\">" ACT("log", "b") END)),
     NULL, "destination_number=123", "set(who=x123)", 0, "who=x123", 0},
    {"set then use: expansion happens when the action runs",
     CTX("default", EXT("a", DEST("^(\\d+)$") ACT("set", "n=$1") ACT("log", "INFO ${n}!") END)),
     NULL, "destination_number=42", "set(n=42)|log(INFO 42!)", 0, NULL, 0},
    {"nested and unknown variables",
     CTX("default", EXT("a", DEST("") ACT("log", "[${greet_${lang}}][${nope}][${x_${nope}}]") END)),
     NULL, "destination_number=1;lang=fr;greet_fr=bonjour", "log([bonjour][][])", 0, NULL, 0},
    {"$$ is a literal dollar; $N without a group is empty",
     CTX("default", EXT("a", DEST("^1") ACT("log", "$$5 $1 $$1") END)), NULL,
     "destination_number=1", "log($5  $1)", 0, NULL, 0},
    {"what a capture brings in is not expanded again",
     CTX("default", EXT("a", DEST("^(.*)$") ACT("log", "[$1]") END)), NULL,
     "destination_number=${secret};secret=leak", "log([${secret}])", 0, NULL, 0},
    {"$0 and a group that did not take part",
     CTX("default", EXT("a", DEST("^(1)?(\\d+)$") ACT("log", "$0/$1/$2") END)), NULL,
     "destination_number=234", "log(234//234)", 0, NULL, 0},
    {"a condition without a field is always true and keeps earlier captures",
     CTX("default",
	 EXT("a", DEST("^(\\d)(\\d)") ACT("log", "$2") END "<condition>" ACT("log", "$1") END)),
     NULL, "destination_number=789", "log(8)|log(7)", 0, NULL, 0},
    {"each true regex condition replaces the captures",
     CTX("default", EXT("a", DEST("^(\\d)") END "<condition field=\"caller_id_number\" "
						"expression=\"^(\\d\\d)\">" ACT("log", "$1") END)),
     NULL, "destination_number=789;caller_id_number=5551", "log(55)", 0, NULL, 0},
    {"contexts are separate",
     CTX("default", EXT("a", DEST("") ACT("log", "default") END))
	 CTX("public", EXT("a", DEST("") ACT("log", "public") END)),
     "public", "destination_number=1", "log(public)", 0, NULL, 0},
    {"an unknown context is no route", CTX("default", EXT("a", DEST("") ACT("log", "x") END)),
     "nowhere", "destination_number=1", NULL, -ESRCH, NULL, 0},
    {"an unknown context falls back to 'global'",
     CTX("global", EXT("a", DEST("") ACT("log", "global") END)), "nowhere", "destination_number=1",
     "log(global)", 0, NULL, 0},
    {"caller fields",
     CTX("default",
	 EXT("a", "<condition field=\"caller_id_number\" expression=\"^\\+1(\\d{3})\"/>"
		  "<condition field=\"network_addr\" expression=\"^192\\.0\\.2\\.\"/>"
		  "<condition field=\"ani\" expression=\"^\\+1\">" ACT("log", "$1") END)),
     NULL, "caller_id_number=+15551234;network_addr=192.0.2.7;ani=+15551234", "log()", 0, NULL, 0},
    {"a field naming a variable with ${}",
     CTX("default", EXT("a", "<condition field=\"${sip_h_X-Tenant}\" expression=\"^(acme)$\">" ACT(
				 "log", "tenant $1") END)),
     NULL, "sip_h_X-Tenant=acme", "log(tenant acme)", 0, NULL, 0},
    {"an expression built from a variable",
     CTX("default",
	 EXT("a", "<condition field=\"destination_number\" expression=\"^${prefix}(\\d+)$\">" ACT(
		      "log", "$1") END)),
     NULL, "destination_number=9911;prefix=99", "log(11)", 0, NULL, 0},
    {"/regex/i flags",
     CTX("default", EXT("a", "<condition field=\"caller_id_name\" expression=\"/^alice$/i\">" ACT(
				 "log", "hi") END)),
     NULL, "caller_id_name=ALICE", "log(hi)", 0, NULL, 0},
    {"an <expression> child holds the pattern",
     CTX("default",
	 EXT("a", "<condition field=\"destination_number\">"
		  "<expression><![CDATA[^(\\d+)<x>$]]></expression>" ACT("log", "$1") END)),
     NULL, "destination_number=12<x>", "log(12)", 0, NULL, 0},
    {"action data from the element's text",
     CTX("default",
	 EXT("a", DEST("^(\\d+)$") "<action application=\"log\">INFO got $1</action>" END)),
     NULL, "destination_number=5", "log(INFO got 5)", 0, NULL, 0},
    {"loop repeats an action",
     CTX("default", EXT("a", DEST("") "<action application=\"log\" data=\"x\" loop=\"3\"/>" END)),
     NULL, "destination_number=5", "log(x)|log(x)|log(x)", 0, NULL, 0},
    {"regex all: every <regex> must match; captures of the last one",
     CTX("default", EXT("a", "<condition regex=\"all\">"
			     "<regex field=\"destination_number\" expression=\"^(1)\"/>"
			     "<regex field=\"caller_id_number\" expression=\"^(5)\"/>" ACT(
				 "log", "all $1") ANTI("log", "not all") END)),
     NULL, "destination_number=12;caller_id_number=55", "log(all 5)", 0, NULL, 0},
    {"regex all: one miss is false",
     CTX("default", EXT("a", "<condition regex=\"all\">"
			     "<regex field=\"destination_number\" expression=\"^1\"/>"
			     "<regex field=\"caller_id_number\" expression=\"^6\"/>" ACT(
				 "log", "all") ANTI("log", "not all") END)),
     NULL, "destination_number=12;caller_id_number=55", "log(not all)", 0, NULL, 0},
    {"regex any",
     CTX("default", EXT("a", "<condition regex=\"any\">"
			     "<regex field=\"destination_number\" expression=\"^9\"/>"
			     "<regex field=\"caller_id_number\" expression=\"^(5)\"/>" ACT(
				 "log", "any $1") END)),
     NULL, "destination_number=12;caller_id_number=55", "log(any 5)", 0, NULL, 0},
    {"regex xor: exactly one",
     CTX("default", EXT("a", "<condition regex=\"xor\">"
			     "<regex field=\"destination_number\" expression=\"^1\"/>"
			     "<regex field=\"caller_id_number\" expression=\"^5\"/>" ACT(
				 "log", "one") ANTI("log", "not one") END)),
     NULL, "destination_number=12;caller_id_number=55", "log(not one)", 0, NULL, 0},
    {"nested conditions run when the parent is true",
     CTX("default",
	 EXT("a",
	     DEST("^1")
		 ACT("log", "outer") "<condition field=\"caller_id_number\" expression=\"^5\">" ACT(
		     "log", "inner") END END)),
     NULL, "destination_number=1;caller_id_number=5", "log(outer)|log(inner)", 0, NULL, 0},
    {"a false nested condition makes the extension not match",
     CTX("default",
	 EXT("a",
	     DEST("^1")
		 ACT("log", "outer") "<condition field=\"caller_id_number\" expression=\"^6\">" ACT(
		     "log", "inner") END END) EXT("b", DEST("") ACT("log", "b") END)),
     NULL, "destination_number=1;caller_id_number=5", "log(outer)|log(b)", 0, NULL, 0},
    {"require-nested=false: the parent alone decides",
     CTX("default",
	 EXT("a",
	     "<condition field=\"destination_number\" expression=\"^1\" "
	     "require-nested=\"false\">" ACT(
		 "log",
		 "outer") "<condition field=\"caller_id_number\" expression=\"^6\">" ACT("log",
											 "inner")
		 END END) EXT("b", DEST("") ACT("log", "b") END)),
     NULL, "destination_number=1;caller_id_number=5", "log(outer)", 0, NULL, 0},
    {"time of day: inside office hours",
     CTX("default", EXT("open", "<condition wday=\"mon-sat\" time-of-day=\"09:00-17:30\">" ACT(
				    "log", "open") ANTI("log", "closed") END)),
     NULL, "tod_tz_offset=0", "log(open)", 0, NULL, SAT_1030},
    {"time of day: outside",
     CTX("default", EXT("open", "<condition wday=\"2-6\" hour=\"9-17\">" ACT("log", "open")
				    ANTI("log", "closed") END)),
     NULL, "tod_tz_offset=0", "log(closed)", 0, NULL, SAT_1030},
    {"time of day: tod_tz_offset moves the clock",
     CTX("default", EXT("x", "<condition hour=\"12\" minute=\"30\">" ACT("log", "noon-ish") END)),
     NULL, "tod_tz_offset=2", "log(noon-ish)", 0, NULL, SAT_1030},
    {"time of day: a range across midnight",
     CTX("default",
	 EXT("x", "<condition time-of-day=\"22:00-11:00\" minute-of-day=\"600-700\" "
		  "mday=\"15\" mon=\"6\" year=\"2024\" yday=\"167\" mweek=\"3\" week=\"24\">" ACT(
		      "log", "yes") END)),
     NULL, "tod_tz_offset=0", "log(yes)", 0, NULL, SAT_1030},
    {"time of day: date-time ranges",
     CTX("default", EXT("x", "<condition date-time=\"2024-01-01 00:00~2024-06-15 10:30, "
			     "2024-06-15 10:30:15~2024-06-15 10:30:16\">" ACT("log", "yes")
				 ANTI("log", "no") END)),
     NULL, "tod_tz_offset=0", "log(yes)", 0, NULL, SAT_1030},
    {"time and field must both hold",
     CTX("default",
	 EXT("x", "<condition field=\"destination_number\" expression=\"^1\" hour=\"11\">" ACT(
		      "log", "yes") ANTI("log", "no") END)),
     NULL, "tod_tz_offset=0;destination_number=1", "log(no)", 0, NULL, SAT_1030},
    {"export records the name in export_vars",
     CTX("default", EXT("a", DEST("") ACT("export", "a=1") ACT("export", "nolocal:b=2")
				 ACT("export", "a=3") END)),
     NULL, "destination_number=1", "export(a=1)|export(nolocal:b=2)|export(a=3)", 0,
     "export_vars=a,nolocal:b", 0},
    {"unset, and set with an empty value, remove a variable",
     CTX("default", EXT("a", DEST("") ACT("set", "k=v") ACT("unset", "k") ACT("log", "[${k}]")
				 ACT("set", "k=w") ACT("set", "k=") ACT("log", "[${k}]") END)),
     NULL, "destination_number=1", "set(k=v)|unset(k)|log([])|set(k=w)|set(k=)|log([])", 0, NULL,
     0},
    {"substring of a variable",
     CTX("default",
	 EXT("a", DEST("") ACT("log", "${caller_id_number:-4}|${caller_id_number:2:3}") END)),
     NULL, "caller_id_number=+15551234", "log(1234|555)", 0, NULL, 0},
    {"an empty field matches against the empty string",
     CTX("default",
	 EXT("a", "<condition field=\"${nothing}\" expression=\"^$\">" ACT("log", "empty") END)),
     NULL, "", "log(empty)", 0, NULL, 0},
    {"inline actions alone are no route",
     CTX("default",
	 EXT("a", DEST("") "<action application=\"set\" data=\"x=1\" inline=\"true\"/>" END)),
     NULL, "", NULL, -ENOENT, "x=1", 0},
};

static void run_vector(const struct vector *v)
{
	struct dialplan_xml *x = NULL;
	struct dialplan_route *r = NULL;
	struct fake_vars fv;
	char err[512];

	print_message("  %s\n", v->name);
	int rc = dp_load(&x, v->xml, err, sizeof(err), NULL);
	if (rc)
		fail_msg("%s: load failed: %s", v->name, err);
	fake_init(&fv, v->vars);
	struct dialplan_vars vars = fake_vars(&fv);
	struct dialplan_hunt in = {.context = v->context, .vars = &vars, .now = v->now};
	rc = dialplan_xml_hunt(x, &in, &r);
	if (rc != v->rc)
		fail_msg("%s: hunt gave %d, expected %d", v->name, rc, v->rc);
	if (v->want) {
		char *got = route_render(r, &vars);
		if (strcmp(got, v->want) != 0)
			fail_msg("%s:\n  got  %s\n  want %s", v->name, got, v->want);
		free(got);
	}
	if (v->want_var) {
		char *name = strdup(v->want_var), *eq = strchr(name, '=');
		*eq = '\0';
		const char *got = fake_get(&fv, name);
		if (!got || strcmp(got, eq + 1) != 0)
			fail_msg("%s: %s is '%s', expected '%s'", v->name, name,
				 got ? got : "(unset)", eq + 1);
		free(name);
	}
	dialplan_route_destroy(r);
	dialplan_xml_unref(x);
	fake_fini(&fv);
}

static void test_vectors(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(vectors); i++)
		run_vector(&vectors[i]);
}

/* A route outlives the dialplan's reload: it holds the strings it uses. */
static void test_route_outlives_dialplan(void **state)
{
	struct dialplan_xml *x;
	struct dialplan_route *r;
	struct fake_vars fv;
	char err[256];

	assert_int_equal(dp_load(&x,
				 CTX("default", EXT("a", DEST("^(\\d+)$") ACT("log", "n=$1") END)),
				 err, sizeof(err), NULL),
			 0);
	fake_init(&fv, "destination_number=77");
	struct dialplan_vars vars = fake_vars(&fv);
	struct dialplan_hunt in = {.vars = &vars};
	assert_int_equal(dialplan_xml_hunt(x, &in, &r), 0);
	dialplan_xml_unref(x); /* a reload drops the running one */
	char *got = route_render(r, &vars);
	assert_string_equal(got, "log(n=77)");
	assert_string_equal(r->actions[0].extension, "a");
	assert_string_equal(r->actions[0].file + strlen(r->actions[0].file) - 18,
			    "/dialplan/test.xml");
	assert_int_equal(r->actions[0].line, 1);
	free(got);
	dialplan_route_destroy(r);
	fake_fini(&fv);
}

/* A pathological pattern on a long caller-controlled field stays bounded. */
static void test_match_limit(void **state)
{
	struct dialplan_xml *x;
	struct dialplan_route *r = NULL;
	struct fake_vars fv;
	char err[256], *log, dest[64];

	assert_int_equal(dp_load(&x,
				 CTX("default", EXT("evil", DEST("^(a+)+$") ACT("log", "match") END)
						    EXT("next", DEST("") ACT("log", "next") END)),
				 err, sizeof(err), NULL),
			 0);
	memset(dest, 'a', sizeof(dest) - 2);
	dest[sizeof(dest) - 2] = 'b';
	dest[sizeof(dest) - 1] = '\0';
	fake_init(&fv, "");
	fake_set(&fv, "destination_number", dest);
	struct dialplan_vars vars = fake_vars(&fv);
	struct dialplan_hunt in = {.vars = &vars};
	uint64_t t0 = clock_now_ms();
	struct capture cap;
	capture_begin(&cap);
	int rc = dialplan_xml_hunt(x, &in, &r);
	log = capture_end(&cap);
	assert_true(clock_now_ms() - t0 < 2000);
	assert_int_equal(rc, 0);
	char *got = route_render(r, &vars);
	assert_string_equal(got, "log(next)");
	/* the limit is reported, with the file and line of the condition */
	assert_non_null(strstr(log, "dialplan/test.xml:1: matching '^(a+)+$' gave PCRE2 error"));
	free(log);
	free(got);
	dialplan_route_destroy(r);
	dialplan_xml_unref(x);
	fake_fini(&fv);
}

int main(void)
{
	log_set_level(getenv("DP_DEBUG") ? LOG_DEBUG : LOG_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_route_outlives_dialplan),
	    cmocka_unit_test(test_match_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
