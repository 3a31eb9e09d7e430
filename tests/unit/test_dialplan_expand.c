/*
 * Expansion of action data (${var}, nesting, substrings, $N, $$), the
 * argument forms of the applications (speak, respond, log, hangup, sleep),
 * the variable applications (set, export with export_vars, unset) and the
 * time-of-day attribute forms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_dialplan_util.h"

#define VARS "a=apple;b=x;a_x=nested;c=a;nolocal:z=zed;raw=${a};num=+15551234"

static const struct {
	const char *in;
	const char *want;
	bool caps; /* with the captures of "^(1)?(\d\d)(\d)$" on "123" */
} vectors[] = {
    {"plain text", "plain text", false},
    {"", "", false},
    {"${a}", "apple", false},
    {"<${a}><${a}>", "<apple><apple>", false},
    {"${nope}", "", false},
    {"${}", "", false},
    {"${a", "${a", false},
    {"x${a_${b}}y", "xnestedy", false},
    {"${${c}}", "apple", false},
    {"${a_${nope}}", "", false},
    {"${raw}", "${a}", false}, /* a value is never expanded again */
    {"${nolocal:z}", "zed", false},
    {"${num:1}", "15551234", false},
    {"${num:-4}", "1234", false},
    {"${num:2:3}", "555", false},
    {"${num:0:0}", "", false},
    {"${num:40}", "", false},
    {"${num:-40}", "+15551234", false},
    {"${num:1:-1}", "", false}, /* not a substring form: a variable named "num:1:-1" */
    {"$", "$", false},
    {"$x", "$x", false},
    {"a$", "a$", false},
    {"$$", "$", false},
    {"$$$", "$$", false},
    {"$${a}", "${a}", false},
    {"$$1", "$1", false},
    {"$1", "$1", false}, /* no regex applies: left as written */
    {"$1", "", true},
    {"$0|$2|$3|$4|$12", "123|12|3||", true},
    {"${v$3}", "vee", true},
    {"${a_$3}", "", true},
    {"{}}${a}}", "{}}apple}", false},
    {"${a}{${b}}", "apple{x}", false},
};

static void test_expand_vectors(void **state)
{
	struct fake_vars fv;
	struct dialplan_captures caps = {.count = 4};
	const char *subject = "123";

	caps.group[0] = str_make(subject, 3);
	caps.group[2] = str_make(subject, 2);
	caps.group[3] = str_make(subject + 2, 1);
	fake_init(&fv, VARS);
	fake_set(&fv, "v3", "vee");
	struct dialplan_vars vars = fake_vars(&fv);
	for (size_t i = 0; i < ARRAY_LEN(vectors); i++) {
		struct buf out;
		buf_init(&out);
		int rc = dialplan_expand(str_from_cstr(vectors[i].in),
					 vectors[i].caps ? &caps : NULL, &vars, &out);
		assert_int_equal(rc, 0);
		if (strcmp(out.p, vectors[i].want) != 0)
			fail_msg("'%s': got '%s', want '%s'", vectors[i].in, out.p,
				 vectors[i].want);
		buf_fini(&out);
	}
	fake_fini(&fv);
}

static void test_expand_nested_capture(void **state)
{
	struct fake_vars fv;
	struct dialplan_captures caps = {.count = 2};
	struct buf out;

	caps.group[1] = STR("3");
	fake_init(&fv, "v3=vee;a_3=three");
	struct dialplan_vars vars = fake_vars(&fv);
	buf_init(&out);
	assert_int_equal(dialplan_expand(STR("${v$1} ${a_$1}"), &caps, &vars, &out), 0);
	assert_string_equal(out.p, "vee three");
	buf_fini(&out);
	fake_fini(&fv);
}

/* Appends after what the buffer holds; NULL vars make every variable unknown. */
static void test_expand_appends(void **state)
{
	struct buf out;
	buf_init(&out);
	buf_append_cstr(&out, "pre:");
	assert_int_equal(dialplan_expand(STR("${a}x"), NULL, NULL, &out), 0);
	assert_string_equal(out.p, "pre:x");
	buf_fini(&out);
}

static void test_expand_limits(void **state)
{
	struct fake_vars fv;
	struct buf in, out;
	char *big = malloc(40001);

	memset(big, 'b', 40000);
	big[40000] = '\0';
	fake_init(&fv, "");
	fake_set(&fv, "big", big);
	struct dialplan_vars vars = fake_vars(&fv);

	/* the output stops at DIALPLAN_EXPAND_MAX */
	buf_init(&out);
	buf_append_cstr(&out, "already here");
	assert_int_equal(dialplan_expand(STR("${big}${big}"), NULL, &vars, &out), -E2BIG);
	assert_int_equal(out.len, strlen("already here") + DIALPLAN_EXPAND_MAX);
	buf_fini(&out);

	/* nesting past the limit is copied as text, and nothing breaks */
	buf_init(&in);
	for (int i = 0; i < DIALPLAN_EXPAND_DEPTH_MAX + 4; i++)
		buf_append_cstr(&in, "${x");
	for (int i = 0; i < DIALPLAN_EXPAND_DEPTH_MAX + 4; i++)
		buf_append_cstr(&in, "}");
	buf_init(&out);
	assert_int_equal(dialplan_expand(str_make(in.p, in.len), NULL, &vars, &out), 0);
	assert_string_equal(out.p, "");
	buf_fini(&out);
	buf_fini(&in);
	free(big);
	fake_fini(&fv);
}

static void test_args(void **state)
{
	struct str engine, voice, text, reason;
	uint16_t status;
	uint32_t ms;
	enum core_cause cause;
	enum log_level level;
	const char *msg;

	dialplan__parse_speak("flite|kal|Hello | world", &engine, &voice, &text);
	assert_true(str_eq(engine, STR("flite")) && str_eq(voice, STR("kal")));
	assert_true(str_eq(text, STR("Hello | world")));
	dialplan__parse_speak("en-us|Hello", &engine, &voice, &text);
	assert_true(engine.len == 0 && str_eq(voice, STR("en-us")) && str_eq(text, STR("Hello")));
	dialplan__parse_speak("Hello there", &engine, &voice, &text);
	assert_true(engine.len == 0 && voice.len == 0 && str_eq(text, STR("Hello there")));

	assert_int_equal(dialplan__parse_respond("486 Busy Here", &status, &reason), 0);
	assert_int_equal(status, 486);
	assert_true(str_eq(reason, STR("Busy Here")));
	assert_int_equal(dialplan__parse_respond(" 404 ", &status, &reason), 0);
	assert_int_equal(status, 404);
	assert_int_equal(reason.len, 0);
	assert_int_equal(dialplan__parse_respond("4040", &status, &reason), -EINVAL);
	assert_int_equal(dialplan__parse_respond("486Busy", &status, &reason), -EINVAL);
	assert_int_equal(dialplan__parse_respond("099", &status, &reason), -EINVAL);
	assert_int_equal(dialplan__parse_respond("", &status, &reason), -EINVAL);

	assert_int_equal(dialplan__parse_ms(" 1500 ", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(dialplan__parse_ms("1.5", &ms), -EINVAL);
	assert_int_equal(dialplan__parse_ms("-1", &ms), -EINVAL);

	assert_int_equal(dialplan__parse_cause("", &cause), 0);
	assert_int_equal(cause, CAUSE_NORMAL_CLEARING);
	assert_int_equal(dialplan__parse_cause(" user_busy ", &cause), 0);
	assert_int_equal(cause, CAUSE_USER_BUSY);
	assert_int_equal(dialplan__parse_cause("21", &cause), 0);
	assert_int_equal(cause, CAUSE_CALL_REJECTED);
	assert_int_equal(dialplan__parse_cause("BUSY", &cause), -EINVAL);

	dialplan__parse_log("INFO hello world", &level, &msg);
	assert_int_equal(level, LOG_INFO);
	assert_string_equal(msg, "hello world");
	dialplan__parse_log("err  oops", &level, &msg);
	assert_int_equal(level, LOG_ERR);
	assert_string_equal(msg, "oops");
	dialplan__parse_log("CRIT", &level, &msg);
	assert_int_equal(level, LOG_ERR);
	assert_string_equal(msg, "");
	dialplan__parse_log("informative text", &level, &msg);
	assert_int_equal(level, LOG_DEBUG);
	assert_string_equal(msg, "informative text");
}

static void test_var_apps(void **state)
{
	struct fake_vars fv;
	fake_init(&fv, "export_vars=pre");
	struct dialplan_vars vars = fake_vars(&fv);

	assert_int_equal(dialplan__var_set(&vars, "a=b=c"), 0);
	assert_string_equal(fake_get(&fv, "a"), "b=c");
	assert_int_equal(dialplan__var_set(&vars, "a"), 0); /* no '=': unset */
	assert_null(fake_get(&fv, "a"));
	assert_int_equal(dialplan__var_set(&vars, "=x"), -EINVAL);
	assert_int_equal(dialplan__var_export(&vars, "k=v"), 0);
	assert_int_equal(dialplan__var_export(&vars, "k=w"), 0);
	assert_int_equal(dialplan__var_export(&vars, "e="), 0); /* unset: not exported */
	assert_string_equal(fake_get(&fv, "k"), "w");
	assert_string_equal(fake_get(&fv, "export_vars"), "pre,k");
	assert_int_equal(dialplan__var_unset(&vars, " k "), 0);
	assert_null(fake_get(&fv, "k"));
	assert_int_equal(dialplan__var_unset(&vars, ""), -EINVAL);

	struct dialplan_vars readonly = {.get_cb = fake_get, .arg = &fv};
	assert_int_equal(dialplan__var_set(&readonly, "a=1"), -ENOTSUP);
	fake_fini(&fv);
}

static struct dialplan__time *time_of(struct arena *a, const char *attr, const char *value)
{
	struct dialplan__time *t = arena_alloc(a, sizeof(*t));
	char why[256];
	for (int f = 0; f < DP_T_COUNT; f++) {
		if (strcmp(dialplan__time_attrs[f], attr) == 0) {
			if (dialplan__time_parse((enum dialplan__tfield)f, value, a, &t->ranges[f],
						 &t->count[f], why, sizeof(why)) != 0)
				return NULL;
			return t;
		}
	}
	fail_msg("no attribute %s", attr);
	return NULL;
}

static void test_time(void **state)
{
	struct arena a;
	/* Tuesday 2024-12-31 23:59:30, day 366 of a leap year */
	struct tm tm = {.tm_year = 124,
			.tm_mon = 11,
			.tm_mday = 31,
			.tm_hour = 23,
			.tm_min = 59,
			.tm_sec = 30,
			.tm_wday = 2,
			.tm_yday = 365};
	static const struct {
		const char *attr, *value;
		int match; /* 1, 0, or -1: does not parse */
	} v[] = {
	    {"wday", "tue", 1},
	    {"wday", "Tuesday", 1},
	    {"wday", "4", 0},
	    {"wday", "sat-mon", 0},
	    {"wday", "sun-tue", 1},
	    {"wday", "fri-tue", 1}, /* wraps over the weekend */
	    {"wday", "8", -1},
	    {"wday", "tues", -1},
	    {"hour", "23", 1},
	    {"hour", "22-2", 1},
	    {"hour", "0-22", 0},
	    {"hour", "1,5,23", 1},
	    {"hour", "1, 5 ,22", 0},
	    {"hour", "24", -1},
	    {"hour", "", -1},
	    {"hour", "1,", -1},
	    {"minute", "59", 1},
	    {"minute-of-day", "1440", 1},
	    {"minute-of-day", "1441", -1},
	    {"time-of-day", "23:59-24:00", 1},
	    {"time-of-day", "23:59:31-24:00", 0},
	    {"time-of-day", "22:00-06:00", 1},
	    {"time-of-day", "00:00-23:59:30", 0}, /* the end is excluded */
	    {"time-of-day", "8:00-12:00,23:00-23:59:31", 1},
	    {"time-of-day", "24:00-01:00", -1},
	    {"time-of-day", "12:60-13:00", -1},
	    {"yday", "366", 1},
	    {"mday", "31", 1},
	    {"mday", "32", -1},
	    {"mon", "12", 1},
	    {"mon", "dec", -1},
	    {"year", "2020-2030", 1},
	    {"year", "2025", 0},
	    {"week", "53", 1},
	    {"mweek", "5", 1}, /* Dec 1 2024 was a Sunday: the 31st is in week 5 */
	    {"date-time", "2024-12-31 00:00~2025-01-01 00:00", 1},
	    {"date-time", "2024-12-31 23:59:31~2025-01-01 00:00", 0},
	    {"date-time", "2025-01-01 00:00~2024-12-31 00:00", -1},
	    {"date-time", "2024-12-31 00:00", -1},
	};

	arena_init(&a, 0);
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		struct dialplan__time *t = time_of(&a, v[i].attr, v[i].value);
		int got = t ? dialplan__time_match(t, &tm) : -1;
		if (got != v[i].match)
			fail_msg("%s=\"%s\": got %d, want %d", v[i].attr, v[i].value, got,
				 v[i].match);
	}
	arena_fini(&a);
}

int main(void)
{
	log_set_level(LOG_WARNING);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expand_vectors), cmocka_unit_test(test_expand_nested_capture),
	    cmocka_unit_test(test_expand_appends), cmocka_unit_test(test_expand_limits),
	    cmocka_unit_test(test_args),	   cmocka_unit_test(test_var_apps),
	    cmocka_unit_test(test_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
