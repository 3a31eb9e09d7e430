/*
 * The Prometheus text writer (format 0.0.4) and the core's metrics: names
 * and label values as the format's grammar requires, families declared once,
 * the CDR hook and registered collectors.
 */
#include "test_core_event_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static const char *text(struct buf *b)
{
	buf_append(b, "", 1);
	b->len--;
	return b->p;
}

static void test_family_and_samples(void **state)
{
	struct buf b;
	struct metrics_writer w;
	buf_init(&b);
	metrics_writer_init(&w, &b);
	assert_int_equal(metrics_family(&w, "x_total", METRIC_COUNTER, "Things.\nMore \\ more"), 0);
	assert_int_equal(metrics_sample_u64(&w, NULL, 18446744073709551615ull,
					    (const char *const[]){"a", "1", "b", "q\"\\\nz", NULL}),
			 0);
	assert_int_equal(metrics_sample(&w, NULL, 0.5, NULL), 0);
	assert_string_equal(text(&b), "# HELP x_total Things.\\nMore \\\\ more\n"
				      "# TYPE x_total counter\n"
				      "x_total{a=\"1\",b=\"q\\\"\\\\\\nz\"} 18446744073709551615\n"
				      "x_total 0.5\n");
	assert_int_equal(w.errors, 0);
	buf_fini(&b);
}

static void test_special_values(void **state)
{
	struct buf b;
	struct metrics_writer w;
	buf_init(&b);
	metrics_writer_init(&w, &b);
	assert_int_equal(metrics_family(&w, "j", METRIC_SUMMARY, ""), 0);
	metrics_sample(&w, "_sum", NAN, NULL);
	metrics_sample(&w, "_count", INFINITY, NULL);
	metrics_sample(&w, NULL, -INFINITY, (const char *const[]){"quantile", "0.5", NULL});
	assert_string_equal(text(&b), "# HELP j \n# TYPE j summary\nj_sum NaN\nj_count +Inf\n"
				      "j{quantile=\"0.5\"} -Inf\n");
	buf_fini(&b);
}

static void test_refusals(void **state)
{
	struct buf b;
	struct metrics_writer w;
	buf_init(&b);
	metrics_writer_init(&w, &b);
	/* No family yet. */
	assert_int_equal(metrics_sample_u64(&w, NULL, 1, NULL), -ENOENT);
	const char *bad[] = {"", "1abc", "a-b", "a b", "é", "a{", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(metrics_family(&w, bad[i], METRIC_GAUGE, "h"), -EINVAL);
	assert_int_equal(metrics_family(&w, NULL, METRIC_GAUGE, "h"), -EINVAL);
	/* Samples after a refused family are refused too. */
	assert_int_equal(metrics_sample_u64(&w, NULL, 1, NULL), -ENOENT);
	assert_int_equal(b.len, 0);

	assert_int_equal(metrics_family(&w, "ns:ok_1", METRIC_GAUGE, "h"), 0);
	assert_int_equal(metrics_sample_u64(&w, NULL, 1, (const char *const[]){"a:b", "x", NULL}),
			 -EINVAL); /* no colon in label names */
	assert_int_equal(metrics_sample_u64(&w, NULL, 1, (const char *const[]){"__x", "x", NULL}),
			 -EINVAL); /* reserved */
	assert_int_equal(
	    metrics_sample_u64(&w, NULL, 1, (const char *const[]){"a", "x", "a", "y", NULL}),
	    -EINVAL); /* twice */
	assert_int_equal(metrics_sample_u64(&w, "-x", 1, NULL), -EINVAL);
	size_t len = b.len;
	/* Declared twice: refused, and nothing written. */
	assert_int_equal(metrics_family(&w, "ns:ok_1", METRIC_COUNTER, "again"), -EEXIST);
	assert_int_equal(b.len, len);
	/* A family whose name is a prefix of the one declared is another family. */
	assert_int_equal(metrics_family(&w, "ns:ok", METRIC_GAUGE, "h"), 0);
	assert_int_equal(w.errors, 14);
	assert_string_equal(text(&b), "# HELP ns:ok_1 h\n# TYPE ns:ok_1 gauge\n"
				      "# HELP ns:ok h\n# TYPE ns:ok gauge\n");
	buf_fini(&b);
}

/* ---- the core's metrics ---- */

/* Every line is a comment (HELP or TYPE) or `name[{labels}] value`. */
static void assert_lines_parse(const char *s)
{
	while (*s) {
		const char *nl = strchr(s, '\n');
		assert_non_null(nl); /* every line ends with LF */
		if (*s != '#') {
			const char *sp = memchr(s, ' ', (size_t)(nl - s));
			assert_non_null(sp);
			char *end;
			double v = strtod(sp + 1, &end);
			(void)v;
			assert_ptr_equal(end, nl);
		} else {
			assert_true(strncmp(s, "# HELP ", 7) == 0 || strncmp(s, "# TYPE ", 7) == 0);
		}
		s = nl + 1;
	}
}

struct cdr_fake {
	struct core_cdr_status st;
	int calls;
};

static void cdr_status_cb(void *arg, struct core_cdr_status *out)
{
	struct cdr_fake *f = arg;
	f->calls++;
	*out = f->st;
}

static void collector_cb(void *arg, struct metrics_writer *w)
{
	int *n = arg;
	(*n)++;
	if (metrics_family(w, "test_things", METRIC_GAUGE, "Test.") == 0)
		metrics_sample_u64(w, NULL, 42, NULL);
	/* A collector cannot take over a core family. */
	assert_int_equal(metrics_family(w, "irisx_calls_total", METRIC_GAUGE, "x"), -EEXIST);
}

static void test_core_print(void **state)
{
	struct test_core t;
	struct buf b;
	test_core_open(&t);
	buf_init(&b);

	core_metrics_print(t.core, &b);
	const char *s = text(&b);
	assert_lines_parse(s);
	assert_non_null(strstr(s, "# TYPE irisx_calls_active gauge\n"
				  "irisx_calls_active{direction=\"inbound\"} 0\n"
				  "irisx_calls_active{direction=\"outbound\"} 0\n"));
	assert_non_null(strstr(s, "irisx_calls_total{direction=\"inbound\"} 0\n"));
	assert_non_null(strstr(s, "irisx_rtp_packets_total{direction=\"in\"} 0\n"));
	assert_non_null(strstr(s, "# TYPE irisx_gateways_up gauge\n"));
	/* No store hooked in: no CDR metric, and the status says so. */
	assert_null(strstr(s, "irisx_cdr"));
	struct core_cdr_status st;
	assert_int_equal(core_cdr_status(t.core, &st), -ENOENT);

	struct cdr_fake f = {.st = {.failing = true, .queue_depth = 7, .written = 3}};
	core_set_cdr_hook(t.core, &(struct core_cdr_hook){cdr_status_cb, &f});
	int n = 0;
	struct core_collector *c = NULL;
	assert_int_equal(core_metrics_register(t.core, collector_cb, &n, &c), 0);
	buf_reset(&b);
	core_metrics_print(t.core, &b);
	s = text(&b);
	assert_lines_parse(s);
	assert_non_null(strstr(s, "\nirisx_cdr_queue_depth 7\n"));
	assert_non_null(strstr(s, "\nirisx_cdr_store_up 0\n"));
	assert_non_null(strstr(s, "\nirisx_cdr_written_total 3\n"));
	assert_non_null(strstr(s, "\ntest_things 42\n"));
	assert_int_equal(n, 1);
	assert_int_equal(f.calls, 1);

	core_metrics_unregister(c);
	core_set_cdr_hook(t.core, NULL);
	buf_reset(&b);
	core_metrics_print(t.core, &b);
	s = text(&b);
	assert_null(strstr(s, "test_things"));
	assert_null(strstr(s, "irisx_cdr"));
	assert_int_equal(n, 1);

	buf_fini(&b);
	test_core_close(&t);
}

/* Gateways of the default configuration: every one is reported, none is up
 * before the core starts (a registering gateway is UNREGED). */
struct gw_seen {
	size_t count;
};

static void gw_cb(void *arg, const struct core_gateway_info *g)
{
	struct gw_seen *s = arg;
	s->count++;
	assert_non_null(g->name);
	assert_non_null(g->profile);
	assert_non_null(g->state);
}

static void profile_cb(void *arg, const struct core_profile_info *p)
{
	size_t *n = arg;
	(*n)++;
	assert_false(p->running); /* never started */
}

static void test_core_each(void **state)
{
	struct test_core t;
	test_core_open(&t);
	struct gw_seen seen = {0};
	core_gateway_each(t.core, gw_cb, &seen);
	size_t profiles = 0;
	core_profile_each(t.core, profile_cb, &profiles);
	assert_true(profiles >= 1);
	test_core_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family_and_samples),
	    cmocka_unit_test(test_special_values),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_core_print),
	    cmocka_unit_test(test_core_each),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
