/*
 * play_and_get_digits and read without a call (digits.c): FreeSWITCH's
 * argument order, the refusals, validity (min, max, regexp), and the steps
 * the state machine asks for through tries, the invalid prompt and the
 * failure at the end.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dialplan/dialplan_int.h"

static struct dialplan__digits d;

static void test_parse_pagd(void **state)
{
	char why[128];
	assert_int_equal(dialplan__digits_parse(&d, false,
						"2 5 3 7000 # prompt.wav invalid.wav my_var "
						"^\\d+$ 2500 9999 XML default",
						why, sizeof(why)),
			 0);
	assert_int_equal(d.min, 2);
	assert_int_equal(d.max, 5);
	assert_int_equal(d.tries, 3);
	assert_int_equal(d.timeout_ms, 7000);
	assert_string_equal(d.terminators, "#");
	assert_string_equal(d.file, "prompt.wav");
	assert_string_equal(d.invalid_file, "invalid.wav");
	assert_string_equal(d.var_name, "my_var");
	assert_string_equal(d.regexp, "^\\d+$");
	assert_int_equal(d.digit_timeout_ms, 2500);
	assert_string_equal(d.transfer[0], "9999");
	assert_string_equal(d.transfer[1], "XML");
	assert_string_equal(d.transfer[2], "default");
	assert_non_null(d.re);
	dialplan__digits_fini(&d);

	/* the minimum: no variable, no regexp; digit timeout = timeout; quotes */
	assert_int_equal(
	    dialplan__digits_parse(&d, false, "1 1 1 3000 none 'a b.wav' ''", why, sizeof(why)), 0);
	assert_string_equal(d.terminators, "");
	assert_string_equal(d.file, "a b.wav");
	assert_string_equal(d.invalid_file, "");
	assert_string_equal(d.var_name, "");
	assert_null(d.re);
	assert_int_equal(d.digit_timeout_ms, 3000);
	assert_null(d.transfer[0]);
	dialplan__digits_fini(&d);

	static const char *const bad[] = {
	    "",
	    "1 2 3 4000 # file",		  /* no invalid_file */
	    "x 2 3 4000 # f i",			  /* min */
	    "1 0 3 4000 # f i",			  /* max 0 */
	    "1 129 3 4000 # f i",		  /* max past CORE_DTMF_MAX */
	    "5 2 3 4000 # f i",			  /* min > max */
	    "1 2 0 4000 # f i",			  /* tries */
	    "1 2 3 0 # f i",			  /* timeout */
	    "1 2 3 4000 #x f i",		  /* terminators */
	    "1 2 3 4000 # f i v ([ab",		  /* regexp */
	    "1 2 3 4000 # f i v ^1$ abc",	  /* digit timeout */
	    "1 2 3 4000 # f i v ^1$ 100 a b c d", /* too many */
	    "1 2 3 4000 # 'f i",		  /* open quote */
	    "1 2 3 4000 0123456789*#ABCD0 f i",	  /* 17 terminators */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		why[0] = '\0';
		if (dialplan__digits_parse(&d, false, bad[i], why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_true(why[0] != '\0' || bad[i][0] == '\0');
		dialplan__digits_fini(&d);
	}
	assert_int_equal(dialplan__digits_parse(&d, false, NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(dialplan__check_pagd("1 2 3 4000 # f i", why, sizeof(why)), 0);
	assert_int_equal(dialplan__check_pagd("1 2 3", why, sizeof(why)), -EINVAL);
}

static void test_parse_read(void **state)
{
	char why[128];
	assert_int_equal(
	    dialplan__digits_parse(&d, true, "1 4 ask.wav answer 6000 *#", why, sizeof(why)), 0);
	assert_int_equal(d.min, 1);
	assert_int_equal(d.max, 4);
	assert_int_equal(d.tries, 1);
	assert_string_equal(d.file, "ask.wav");
	assert_string_equal(d.var_name, "answer");
	assert_int_equal(d.timeout_ms, 6000);
	assert_int_equal(d.digit_timeout_ms, 6000);
	assert_string_equal(d.terminators, "*#");
	assert_string_equal(d.invalid_file ? d.invalid_file : "", "");
	dialplan__digits_fini(&d);
	/* defaults: 5 s, # */
	assert_int_equal(dialplan__digits_parse(&d, true, "0 9 ask.wav v", why, sizeof(why)), 0);
	assert_int_equal(d.timeout_ms, 5000);
	assert_string_equal(d.terminators, "#");
	dialplan__digits_fini(&d);
	assert_int_equal(dialplan__check_read("1 2 f", why, sizeof(why)), -EINVAL);
	assert_int_equal(dialplan__check_read("3 2 f v", why, sizeof(why)), -EINVAL);
	assert_int_equal(dialplan__check_read("1 2 f v 0", why, sizeof(why)), -EINVAL);
	assert_int_equal(dialplan__check_read("1 2 f v 10 x", why, sizeof(why)), -EINVAL);
}

static void test_valid(void **state)
{
	char why[128];
	assert_int_equal(
	    dialplan__digits_parse(&d, false, "2 4 1 1000 # f i v ^1\\d*$", why, sizeof(why)), 0);
	assert_true(dialplan__digits_valid(&d, "12"));
	assert_true(dialplan__digits_valid(&d, "1234"));
	assert_false(dialplan__digits_valid(&d, "1"));	   /* under min */
	assert_false(dialplan__digits_valid(&d, "12345")); /* over max */
	assert_false(dialplan__digits_valid(&d, "21"));	   /* the regexp */
	assert_false(dialplan__digits_valid(&d, ""));
	dialplan__digits_fini(&d);
	/* min 0 still wants a digit: nothing entered is not an entry */
	assert_int_equal(dialplan__digits_parse(&d, false, "0 4 1 1000 # f i", why, sizeof(why)),
			 0);
	assert_false(dialplan__digits_valid(&d, ""));
	assert_true(dialplan__digits_valid(&d, "9"));
	dialplan__digits_fini(&d);
}

static void test_steps(void **state)
{
	char why[128];
	/* three tries with an invalid prompt: prompt, collect, invalid, … fail */
	assert_int_equal(
	    dialplan__digits_parse(&d, false, "4 4 3 1000 # f bad.wav v ^\\d+$", why, sizeof(why)),
	    0);
	assert_int_equal(dialplan__digits_start(&d), DP_DIGITS_PROMPT);
	assert_int_equal(d.attempt, 1);
	assert_int_equal(dialplan__digits_prompted(&d), DP_DIGITS_COLLECT);
	assert_int_equal(dialplan__digits_collected(&d, "12"), DP_DIGITS_INVALID);
	assert_int_equal(dialplan__digits_invalid_done(&d), DP_DIGITS_PROMPT);
	assert_int_equal(d.attempt, 2);
	assert_int_equal(dialplan__digits_prompted(&d), DP_DIGITS_COLLECT);
	assert_int_equal(dialplan__digits_collected(&d, ""), DP_DIGITS_INVALID); /* timeout */
	assert_int_equal(dialplan__digits_invalid_done(&d), DP_DIGITS_PROMPT);
	assert_int_equal(d.attempt, 3);
	assert_int_equal(dialplan__digits_collected(&d, "12a"), DP_DIGITS_INVALID);
	assert_int_equal(dialplan__digits_invalid_done(&d), DP_DIGITS_FAIL);
	assert_int_equal(d.invalid_count, 3);
	/* success on a later try */
	assert_int_equal(dialplan__digits_start(&d), DP_DIGITS_PROMPT);
	assert_int_equal(dialplan__digits_collected(&d, "99"), DP_DIGITS_INVALID);
	assert_int_equal(dialplan__digits_invalid_done(&d), DP_DIGITS_PROMPT);
	assert_int_equal(dialplan__digits_collected(&d, "1234"), DP_DIGITS_OK);
	dialplan__digits_fini(&d);

	/* without an invalid prompt: straight to the next try, then fail */
	assert_int_equal(dialplan__digits_parse(&d, false, "1 1 2 1000 # f ''", why, sizeof(why)),
			 0);
	assert_int_equal(dialplan__digits_start(&d), DP_DIGITS_PROMPT);
	assert_int_equal(dialplan__digits_collected(&d, ""), DP_DIGITS_PROMPT);
	assert_int_equal(dialplan__digits_collected(&d, "12"), DP_DIGITS_FAIL);
	dialplan__digits_fini(&d);

	/* read: one try */
	assert_int_equal(dialplan__digits_parse(&d, true, "1 3 f v", why, sizeof(why)), 0);
	assert_int_equal(dialplan__digits_start(&d), DP_DIGITS_PROMPT);
	assert_int_equal(dialplan__digits_collected(&d, ""), DP_DIGITS_FAIL);
	assert_int_equal(dialplan__digits_start(&d), DP_DIGITS_PROMPT);
	assert_int_equal(dialplan__digits_collected(&d, "7"), DP_DIGITS_OK);
	dialplan__digits_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_pagd),
	    cmocka_unit_test(test_parse_read),
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
