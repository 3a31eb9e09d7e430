/*
 * The CDR spool and its writers, through the public API on a temporary
 * directory: records appended and delivered in order (CSV, SQLite), the
 * fsync'd cursor, replay at start-up without duplicates in SQLite, a torn
 * last line cut off, segments deleted once every sink is past them, a sink
 * that is down keeping its backlog, and the query's keyset pagination.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
	char dir[512];
	struct cdr_conf conf;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	snprintf(f->dir, sizeof(f->dir), "%s/irisx-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	cdr_conf_default(&f->conf, f->dir);
	f->conf.sinks[CDR_SINK_SQLITE] = false;
	f->conf.sinks[CDR_SINK_CSV] = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void submit_n(struct cdr_store *st, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		char uuid[64];
		snprintf(uuid, sizeof(uuid), "uuid-%06d", i);
		struct cdr c = {.uuid = uuid,
				.direction = i % 2 ? "outbound" : "inbound",
				.hangup_cause = i % 3 ? "NORMAL_CLEARING" : "USER_BUSY",
				.created_us = 1000000 + (uint64_t)i,
				.q850 = 16};
		assert_int_equal(cdr_store_submit(st, &c), 0);
	}
}

/* The uuids in the CSV file, in order (as numbers), and how many. */
static size_t csv_uuids(struct fx *f, int *out, size_t max)
{
	FILE *fp = fopen(f->conf.csv_path, "r");
	if (!fp)
		return 0;
	char line[1024];
	size_t n = 0;
	while (fgets(line, sizeof(line), fp)) {
		int v;
		if (sscanf(line, "\"uuid-%d\"", &v) == 1 && n < max)
			out[n++] = v;
	}
	fclose(fp);
	return n;
}

static size_t files_named(struct fx *f, const char *prefix)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cdr-spool", f->dir);
	DIR *d = opendir(path);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

static void test_append_in_order(void **state)
{
	struct fx *f = *state;
	snprintf(f->conf.csv_template, sizeof(f->conf.csv_template), "${uuid}");
	f->conf.batch_size = 7; /* several batches */
	struct cdr_store *st;
	assert_int_equal(cdr_store_create(&st, &f->conf), 0);
	submit_n(st, 0, 100);
	assert_int_equal(cdr_store_flush(st, 10000), 0);
	struct cdr_store_stats s;
	cdr_store_stats(st, &s);
	assert_int_equal(s.submitted, 100);
	assert_int_equal(s.spooled, 100);
	assert_int_equal(s.sink_count, 1);
	assert_string_equal(s.sinks[0].name, "csv");
	assert_true(s.sinks[0].up);
	assert_int_equal(s.sinks[0].backlog, 0);
	assert_int_equal(s.sinks[0].stored, 100);
	cdr_store_destroy(st);

	int got[200];
	assert_int_equal(csv_uuids(f, got, 200), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(got[i], i);

	/* The cursor is on disk and points at the end of the segment. */
	char path[PATH_MAX], text[64] = "";
	snprintf(path, sizeof(path), "%s/cdr-spool/cursor.csv", f->dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	unsigned long long seg, off;
	assert_int_equal(sscanf(text, "%llu %llu", &seg, &off), 2);
	snprintf(path, sizeof(path), "%s/cdr-spool/seg-%016llu.log", f->dir, seg);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal((unsigned long long)sb.st_size, off);

	/* A restart replays nothing (the cursor is at the end) and deletes the
	 * segment every sink is past. */
	assert_int_equal(cdr_store_create(&st, &f->conf), 0);
	submit_n(st, 100, 1);
	assert_int_equal(cdr_store_flush(st, 10000), 0);
	cdr_store_destroy(st);
	assert_int_equal(csv_uuids(f, got, 200), 101);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(files_named(f, "seg-"), 1);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_replay_and_torn_line(void **state)
{
	struct fx *f = *state;
	snprintf(f->conf.csv_template, sizeof(f->conf.csv_template), "${uuid}");
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cdr-spool", f->dir);
	mkdir(path, 0750);
	/* What a crash leaves: two records nobody stored, a third being appended
	 * (no newline: never fsync'd as a whole, never counted as written), and
	 * a line that is not a record, skipped. */
	snprintf(path, sizeof(path), "%s/cdr-spool/seg-%016d.log", f->dir, 3);
	write_file(path, "{\"uuid\":\"uuid-000001\"}\nnot json\n{\"uuid\":\"uuid-000002\"}\n"
			 "{\"uuid\":\"uuid-0000");
	struct cdr_store *st;
	assert_int_equal(cdr_store_create(&st, &f->conf), 0);
	assert_int_equal(cdr_store_flush(st, 10000), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), -1); /* replayed, then deleted */
	submit_n(st, 3, 1);
	assert_int_equal(cdr_store_flush(st, 10000), 0);
	struct cdr_store_stats s;
	cdr_store_stats(st, &s);
	assert_int_equal(s.sinks[0].stored, 3);
	cdr_store_destroy(st);
	int got[10];
	assert_int_equal(csv_uuids(f, got, 10), 3);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 3);
}

static void count_cb(void *arg, const struct cdr *c)
{
	(*(int *)arg)++;
}

static int sqlite_rows(struct fx *f)
{
	char next[128];
	int n = 0, total = 0;
	char cursor[128] = "";
	do {
		n = 0;
		struct cdr_query q = {.cursor = cursor, .limit = 1000};
		assert_int_equal(
		    cdr_query_run(f->conf.sqlite_path, &q, count_cb, &n, next, sizeof(next)), 0);
		total += n;
		memcpy(cursor, next, sizeof(cursor));
	} while (cursor[0]);
	return total;
}

static void test_sqlite_no_duplicates(void **state)
{
	struct fx *f = *state;
	f->conf.sinks[CDR_SINK_CSV] = false;
	f->conf.sinks[CDR_SINK_SQLITE] = true;
	struct cdr_store *st;
	assert_int_equal(cdr_store_create(&st, &f->conf), 0);
	submit_n(st, 0, 50);
	assert_int_equal(cdr_store_flush(st, 10000), 0);
	cdr_store_destroy(st);
	assert_int_equal(sqlite_rows(f), 50);

	/* Losing the cursor (stored but not yet recorded, then a crash) replays
	 * every record: the uuid key keeps one of each. */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/cdr-spool/cursor.sqlite", f->dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cdr_store_create(&st, &f->conf), 0);
	submit_n(st, 50, 10);
	assert_int_equal(cdr_store_flush(st, 10000), 0);
	cdr_store_destroy(st);
	assert_int_equal(sqlite_rows(f), 60);
}

struct collect {
	char uuids[32][64];
	int n;
};

static void collect_cb(void *arg, const struct cdr *c)
{
	struct collect *x = arg;
	snprintf(x->uuids[x->n++], sizeof(x->uuids[0]), "%s", c->uuid);
}

static void test_query(void **state)
{
	struct fx *f = *state;
	f->conf.sinks[CDR_SINK_CSV] = false;
	f->conf.sinks[CDR_SINK_SQLITE] = true;
	char next[128];
	struct collect x = {0};
	struct cdr_query q = {.limit = 10};
	/* No database yet. */
	assert_int_equal(cdr_query_run(f->conf.sqlite_path, &q, collect_cb, &x, next, sizeof(next)),
			 -ENOENT);
	struct cdr_store *st;
	assert_int_equal(cdr_store_create(&st, &f->conf), 0);
	submit_n(st, 0, 25);
	assert_int_equal(cdr_store_flush(st, 10000), 0);
	cdr_store_destroy(st);

	/* Pages of 10: 10, 10, 5, in created order, no overlap. */
	assert_int_equal(cdr_query_run(f->conf.sqlite_path, &q, collect_cb, &x, next, sizeof(next)),
			 0);
	assert_int_equal(x.n, 10);
	assert_string_equal(x.uuids[0], "uuid-000000");
	assert_true(next[0]);
	char cursor[128];
	memcpy(cursor, next, sizeof(cursor));
	q.cursor = cursor;
	x.n = 0;
	assert_int_equal(cdr_query_run(f->conf.sqlite_path, &q, collect_cb, &x, next, sizeof(next)),
			 0);
	assert_int_equal(x.n, 10);
	assert_string_equal(x.uuids[0], "uuid-000010");
	memcpy(cursor, next, sizeof(cursor));
	x.n = 0;
	assert_int_equal(cdr_query_run(f->conf.sqlite_path, &q, collect_cb, &x, next, sizeof(next)),
			 0);
	assert_int_equal(x.n, 5);
	assert_string_equal(next, "");

	/* Filters: direction, cause, time range, one uuid. */
	struct cdr_query q2 = {.direction = "outbound", .cause = "USER_BUSY", .limit = 100};
	x.n = 0;
	assert_int_equal(
	    cdr_query_run(f->conf.sqlite_path, &q2, collect_cb, &x, next, sizeof(next)), 0);
	assert_int_equal(x.n, 4); /* odd multiples of 3 below 25: 3, 9, 15, 21 */
	struct cdr_query q3 = {.since_us = 1000005, .until_us = 1000008};
	x.n = 0;
	assert_int_equal(
	    cdr_query_run(f->conf.sqlite_path, &q3, collect_cb, &x, next, sizeof(next)), 0);
	assert_int_equal(x.n, 3);
	struct cdr_query q4 = {.uuid = "uuid-000007"};
	x.n = 0;
	assert_int_equal(
	    cdr_query_run(f->conf.sqlite_path, &q4, collect_cb, &x, next, sizeof(next)), 0);
	assert_int_equal(x.n, 1);
	/* Bad cursors. */
	struct cdr_query q5 = {.cursor = "nodot"};
	assert_int_equal(
	    cdr_query_run(f->conf.sqlite_path, &q5, collect_cb, &x, next, sizeof(next)), -EINVAL);
	q5.cursor = "12x.uuid";
	assert_int_equal(
	    cdr_query_run(f->conf.sqlite_path, &q5, collect_cb, &x, next, sizeof(next)), -EINVAL);

	/* The export: a header and 25 lines. */
	char out[PATH_MAX];
	snprintf(out, sizeof(out), "%s/export.csv", f->dir);
	FILE *fp = fopen(out, "w+");
	assert_int_equal(cdr_export(f->conf.sqlite_path, false, 0, 0, fp), 0);
	rewind(fp);
	int lines = 0, c;
	while ((c = fgetc(fp)) != EOF)
		lines += c == '\n';
	fclose(fp);
	assert_int_equal(lines, 26);
}

static void test_sink_down_keeps_backlog(void **state)
{
	struct fx *f = *state;
	f->conf.sinks[CDR_SINK_CSV] = true;
	f->conf.sinks[CDR_SINK_POSTGRES] = true;
	/* A server that is not there: a socket directory that does not exist. */
	snprintf(f->conf.pg_dsn, sizeof(f->conf.pg_dsn),
		 "host=%s/nosuchdir port=1 dbname=x connect_timeout=1", f->dir);
	struct cdr_store *st;
	assert_int_equal(cdr_store_create(&st, &f->conf), 0);
	submit_n(st, 0, 20);
	assert_int_equal(cdr_store_flush(st, 300), -ETIMEDOUT);
	struct cdr_store_stats s;
	cdr_store_stats(st, &s);
	assert_int_equal(s.sink_count, 2);
	const struct cdr_sink_stats *pg = NULL, *csv = NULL;
	for (size_t i = 0; i < s.sink_count; i++) {
		if (strcmp(s.sinks[i].name, "postgres") == 0)
			pg = &s.sinks[i];
		if (strcmp(s.sinks[i].name, "csv") == 0)
			csv = &s.sinks[i];
	}
	assert_non_null(pg);
	assert_non_null(csv);
	assert_false(pg->up);
	assert_true(pg->failures >= 1);
	assert_true(strlen(pg->error) > 0);
	assert_int_equal(pg->backlog, 20);
	assert_int_equal(csv->backlog, 0);
	cdr_store_destroy(st);
	/* The spool keeps what PostgreSQL has not stored. */
	assert_int_equal(files_named(f, "seg-"), 1);
	assert_int_equal(files_named(f, "cursor.postgres"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_append_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_and_torn_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_no_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sink_down_keeps_backlog, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
