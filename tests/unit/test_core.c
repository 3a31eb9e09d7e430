/*
 * Unit tests for core: hangup causes (names, Q.850 numbers, the SIP mappings
 * FreeSWITCH users rely on) and channel state names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/core.h"

static void test_cause_names(void **state)
{
	enum core_cause c;
	assert_string_equal(core_cause_name(CAUSE_NORMAL_CLEARING), "NORMAL_CLEARING");
	assert_int_equal(core_cause_q850(CAUSE_NORMAL_CLEARING), 16);
	assert_int_equal(core_cause_q850(CAUSE_NO_ROUTE_DESTINATION), 3);
	assert_int_equal(core_cause_q850(CAUSE_ORIGINATOR_CANCEL), 487);
	assert_int_equal(core_cause_parse("USER_BUSY", &c), 0);
	assert_int_equal(c, CAUSE_USER_BUSY);
	assert_int_equal(core_cause_parse("user_busy", &c), 0);
	assert_int_equal(core_cause_parse("17", &c), 0);
	assert_int_equal(c, CAUSE_USER_BUSY);
	assert_int_equal(core_cause_parse("NOT_A_CAUSE", &c), -EINVAL);
	assert_int_equal(core_cause_parse("4", &c), -EINVAL);
	assert_int_equal(core_cause_parse("", &c), -EINVAL);
	/* every name parses back to itself */
	for (int i = 0; i < CAUSE_COUNT; i++) {
		assert_int_equal(core_cause_parse(core_cause_name((enum core_cause)i), &c), 0);
		assert_int_equal(c, i);
	}
}

static void test_cause_to_sip(void **state)
{
	static const struct {
		enum core_cause cause;
		uint16_t status;
	} v[] = {
		{CAUSE_NO_ROUTE_DESTINATION, 404}, {CAUSE_UNALLOCATED_NUMBER, 404},
		{CAUSE_USER_BUSY, 486},		   {CAUSE_NO_USER_RESPONSE, 408},
		{CAUSE_NO_ANSWER, 480},		   {CAUSE_CALL_REJECTED, 603},
		{CAUSE_ORIGINATOR_CANCEL, 487},	   {CAUSE_NORMAL_TEMPORARY_FAILURE, 503},
		{CAUSE_INCOMPATIBLE_DESTINATION, 488}, {CAUSE_INVALID_NUMBER_FORMAT, 484},
		{CAUSE_RECOVERY_ON_TIMER_EXPIRE, 504}, {CAUSE_SYSTEM_SHUTDOWN, 503},
		{CAUSE_MEDIA_TIMEOUT, 480},	   {CAUSE_OUTGOING_CALL_BARRED, 403},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(core_cause_to_sip(v[i].cause), v[i].status);
}

static void test_cause_from_sip(void **state)
{
	static const struct {
		uint16_t status;
		enum core_cause cause;
	} v[] = {
		{486, CAUSE_USER_BUSY},	     {600, CAUSE_USER_BUSY},
		{480, CAUSE_NO_USER_RESPONSE}, {404, CAUSE_UNALLOCATED_NUMBER},
		{503, CAUSE_NORMAL_TEMPORARY_FAILURE}, {487, CAUSE_ORIGINATOR_CANCEL},
		{603, CAUSE_CALL_REJECTED},  {403, CAUSE_CALL_REJECTED},
		{408, CAUSE_RECOVERY_ON_TIMER_EXPIRE}, {488, CAUSE_INCOMPATIBLE_DESTINATION},
		{484, CAUSE_INVALID_NUMBER_FORMAT}, {502, CAUSE_NETWORK_OUT_OF_ORDER},
		{200, CAUSE_NORMAL_CLEARING}, {499, CAUSE_NORMAL_UNSPECIFIED},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(core_cause_from_sip(v[i].status), v[i].cause);
}

static void test_state_names(void **state)
{
	assert_string_equal(channel_state_name(CS_NEW), "CS_NEW");
	assert_string_equal(channel_state_name(CS_ROUTING), "CS_ROUTING");
	assert_string_equal(channel_state_name(CS_DESTROY), "CS_DESTROY");
	assert_string_equal(channel_state_name((enum channel_state)99), "CS_UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cause_names),
		cmocka_unit_test(test_cause_to_sip),
		cmocka_unit_test(test_cause_from_sip),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
