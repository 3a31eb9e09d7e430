/*
 * The CDR record: JSON line round trips (escapes, extra variables),
 * malformed lines refused, the CSV template, and the E-model MOS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/store.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static struct cdr sample(void)
{
	struct cdr c = {
	    .uuid = "6b1c7f2e-0000-4000-8000-000000000001",
	    .other_uuid = "6b1c7f2e-0000-4000-8000-000000000002",
	    .direction = "inbound",
	    .caller_id_name = "Quote \" back\\slash\nnewline\ttab\x01",
	    .caller_id_number = "+15551234",
	    .destination_number = "9196",
	    .context = "default",
	    .gateway = NULL,
	    .sip_call_id = "abc@127.0.0.1",
	    .remote_addr = "127.0.0.1",
	    .created_us = 1700000000000001ULL,
	    .answered_us = 1700000001000000ULL,
	    .ended_us = 1700000031000000ULL,
	    .duration = 31,
	    .billsec = 30,
	    .hangup_cause = "NORMAL_CLEARING",
	    .q850 = 16,
	    .hangup_disposition = "recv_bye",
	    .read_codec = "PCMU",
	    .write_codec = "PCMU",
	    .rtp_packets_in = 1500,
	    .rtp_packets_out = 1501,
	    .rtp_lost = 3,
	    .jitter_ms = 1.25,
	    .mos = 4.3,
	    .vars = {{"account", "acme, \"inc\""}, {"empty", ""}},
	    .var_count = 2,
	};
	return c;
}

static void test_round_trip(void **state)
{
	struct cdr c = sample(), back;
	struct buf b;
	buf_init(&b);
	cdr_print_json(&c, &b);
	assert_true(b.len > 0);
	assert_int_equal(b.p[b.len - 1], '\n');
	/* One line: the newline in the caller ID name is escaped. */
	assert_ptr_equal(memchr(b.p, '\n', b.len), b.p + b.len - 1);
	assert_int_equal(cdr_parse(b.p, b.len - 1, &back), 0);
	assert_string_equal(back.uuid, c.uuid);
	assert_string_equal(back.caller_id_name, c.caller_id_name);
	assert_string_equal(back.gateway, "");
	assert_int_equal(back.created_us, c.created_us);
	assert_int_equal(back.billsec, 30);
	assert_int_equal(back.q850, 16);
	assert_int_equal(back.rtp_lost, 3);
	assert_true(fabs(back.jitter_ms - 1.25) < 1e-9);
	assert_true(fabs(back.mos - 4.3) < 1e-9);
	assert_int_equal(back.var_count, 2);
	assert_string_equal(back.vars[0].name, "account");
	assert_string_equal(back.vars[0].value, "acme, \"inc\"");
	assert_string_equal(back.vars[1].value, "");
	buf_fini(&b);
}

static int parse_str(const char *s)
{
	char line[4096];
	struct cdr c;
	snprintf(line, sizeof(line), "%s", s);
	return cdr_parse(line, strlen(line), &c);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "}",
	    "{}",					    /* no uuid */
	    "{\"uuid\":\"\"}",				    /* empty uuid */
	    "{\"uuid\":\"a\"",				    /* torn */
	    "{\"uuid\":\"a",				    /* torn inside a string */
	    "{\"uuid\":\"a\",}",			    /* trailing comma */
	    "{\"uuid\":\"a\",\"nosuch\":\"x\"}",	    /* a field we never write */
	    "{\"uuid\":\"a\",\"q850\":\"16\"}",		    /* a string for a number */
	    "{\"uuid\":\"a\",\"q850\":-1}",		    /* negative */
	    "{\"uuid\":\"a\",\"q850\":1x}",		    /* junk in a number */
	    "{\"uuid\":\"a\",\"mos\":1e999}",		    /* not finite */
	    "{\"uuid\":\"a\\q\"}",			    /* unknown escape */
	    "{\"uuid\":\"a\\u0000\"}",			    /* NUL */
	    "{\"uuid\":\"a\\u00\"}",			    /* short \u */
	    "{\"uuid\":\"a\"} x",			    /* trailing junk */
	    "{\"uuid\":\"a\",\"variables\":{\"x\":1}}",	    /* a number as a variable */
	    "{\"uuid\":\"a\",\"variables\":[]}",	    /* not an object */
	    "{\"uuid\":\"a\",\"caller_id_name\":\"\x01\"}", /* raw control character */
	    "[\"uuid\"]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_str(bad[i]) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
	}
	assert_int_equal(parse_str("{\"uuid\":\"a\"}"), 0);
	assert_int_equal(parse_str(" { \"uuid\" : \"a\" , \"q850\" : 17 } "), 0);
}

static void test_too_many_vars(void **state)
{
	struct buf b;
	buf_init(&b);
	buf_append_cstr(&b, "{\"uuid\":\"a\",\"variables\":{");
	for (int i = 0; i <= CDR_EXTRA_MAX; i++)
		buf_printf(&b, "%s\"v%d\":\"x\"", i ? "," : "", i);
	buf_append_cstr(&b, "}}");
	struct cdr c;
	assert_int_equal(cdr_parse(b.p, b.len, &c), -EBADMSG);
	buf_fini(&b);
}

static void test_csv(void **state)
{
	struct cdr c = sample();
	struct buf b;
	buf_init(&b);
	cdr_csv_print(&c, "${uuid},${billsec},${account},${nosuch},${caller_id_number}", &b);
	assert_string_equal(b.p, "\"6b1c7f2e-0000-4000-8000-000000000001\",\"30\",\"acme, "
				 "\"\"inc\"\"\",\"\",\"+15551234\"\n");
	buf_reset(&b);
	cdr_csv_print(&c, NULL, &b);
	assert_non_null(strstr(b.p, "\"NORMAL_CLEARING\""));
	buf_reset(&b);
	/* An unclosed ${ is literal text. */
	cdr_csv_print(&c, "x${uuid", &b);
	assert_string_equal(b.p, "x${uuid\n");
	buf_fini(&b);
}

static void test_mos(void **state)
{
	/* Nothing received: no estimate. */
	assert_true(cdr_mos(0, 0, 0) == 0);
	/* A clean G.711 call: R = 93.2 - 0.72 = 92.48 → MOS 4.40. */
	double clean = cdr_mos(1000, 0, 0);
	assert_true(clean > 4.38 && clean < 4.41);
	/* 1 % loss: Ie,eff = 95 · 1 / 26.1 = 3.64 → R 88.84, MOS ≈ 4.29. */
	double one = cdr_mos(990, 10, 0);
	assert_true(one > 4.25 && one < 4.33);
	/* 5 % loss is clearly worse, 20 % poor. */
	double five = cdr_mos(950, 50, 0), twenty = cdr_mos(800, 200, 0);
	assert_true(five < one && five > 3.5);
	assert_true(twenty < 3.0 && twenty >= 1.0);
	/* Jitter lowers it; a huge jitter floors it at 1. */
	assert_true(cdr_mos(1000, 0, 60) < clean);
	assert_true(cdr_mos(1000, 0, 1000) >= 1.0 && cdr_mos(1000, 0, 1000) < 1.5);
	/* Nonsense jitter is treated as none. */
	assert_true(cdr_mos(1000, 0, -5) == clean);
	assert_true(cdr_mos(1000, 0, NAN) == clean);
	/* All lost. */
	assert_true(cdr_mos(1, 1000000, 0) >= 1.0 && cdr_mos(1, 1000000, 0) < 1.6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_too_many_vars), cmocka_unit_test(test_csv),
	    cmocka_unit_test(test_mos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
