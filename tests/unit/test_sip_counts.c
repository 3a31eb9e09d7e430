/*
 * sip_msg_peek: the method and status the UA's counters file a sent message
 * under, from its start line and (responses) its CSeq; malformed input.
 */
#include "sip/sip.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static int peek(const char *s, enum sip_method *m, uint16_t *st)
{
	return sip_msg_peek(s, strlen(s), m, st);
}

static void test_requests(void **state)
{
	enum sip_method m;
	uint16_t st = 99;
	assert_int_equal(peek("INVITE sip:a@b SIP/2.0\r\nCSeq: 1 INVITE\r\n\r\n", &m, &st), 0);
	assert_int_equal(m, SIP_METHOD_INVITE);
	assert_int_equal(st, 0);
	assert_int_equal(peek("OPTIONS sip:b SIP/2.0\r\n\r\n", &m, &st), 0);
	assert_int_equal(m, SIP_METHOD_OPTIONS);
	assert_int_equal(peek("FOO sip:b SIP/2.0\r\n\r\n", &m, &st), 0);
	assert_int_equal(m, SIP_METHOD_UNKNOWN);
}

static void test_responses(void **state)
{
	enum sip_method m;
	uint16_t st;
	assert_int_equal(peek("SIP/2.0 180 Ringing\r\nVia: x\r\nCSeq: 1 INVITE\r\n\r\n", &m, &st),
			 0);
	assert_int_equal(m, SIP_METHOD_INVITE);
	assert_int_equal(st, 180);
	/* Header names are case-insensitive; blanks around the colon (RFC 3261 §7.3.1). */
	assert_int_equal(peek("SIP/2.0 200 OK\r\ncseq :\t22  BYE\r\n\r\n", &m, &st), 0);
	assert_int_equal(m, SIP_METHOD_BYE);
	assert_int_equal(st, 200);
	/* LF line ends. */
	assert_int_equal(peek("SIP/2.0 487 Terminated\nCSeq: 1 INVITE\n\n", &m, &st), 0);
	assert_int_equal(st, 487);
	/* A header that starts like CSeq is not CSeq. */
	assert_int_equal(peek("SIP/2.0 200 OK\r\nCSeqX: 1 BYE\r\nCSeq: 2 CANCEL\r\n\r\n", &m, &st),
			 0);
	assert_int_equal(m, SIP_METHOD_CANCEL);
}

static void test_malformed(void **state)
{
	enum sip_method m;
	uint16_t st;
	const char *bad[] = {
	    "",
	    "INVITE",			     /* no blank after the method */
	    " INVITE sip:a SIP/2.0\r\n",     /* empty method */
	    "SIP/2.0 2x0 OK\r\nCSeq: 1 BYE\r\n\r\n",
	    "SIP/2.0 099 Low\r\nCSeq: 1 BYE\r\n\r\n",
	    "SIP/2.0 700 High\r\nCSeq: 1 BYE\r\n\r\n",
	    "SIP/2.0 200 OK\r\nVia: x\r\n\r\nCSeq: 1 BYE\r\n", /* CSeq in the body */
	    "SIP/2.0 200 OK\r\nCSeq: 1 \r\n\r\n",	    /* no method */
	    "SIP/2.0 200 OK\r\nCSeq: 1",		    /* cut */
	    "SIP/2.0 200",
	    NULL,
	};
	for (size_t i = 0; bad[i]; i++) {
		assert_int_equal(peek(bad[i], &m, &st), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_responses),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
