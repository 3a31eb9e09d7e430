/*
 * The PostgreSQL sink (libpq). It lives on its own writer thread; the
 * connection is non-blocking (PQconnectStart/PQconnectPoll, then
 * PQsendQueryParams and PQconsumeInput under poll()) so that every wait is
 * bounded by a timeout and a stopping store is never held up by a server
 * that does not answer.
 *
 * At connect the schema is created or migrated under an advisory lock
 * (several irisx nodes may share one database): cdr_schema_version holds
 * the version applied; each migration step runs in the same transaction as
 * its version bump. A batch is one transaction of multi-row
 * INSERT … ON CONFLICT (uuid) DO NOTHING (a replayed batch adds nothing).
 */
#define LOG_MODULE "store"
#include "store_int.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	PG_TIMEOUT_MS = 10000,
	PG_ROWS_PER_INSERT = 1000, /* 30 parameters a row, under libpq's 65535 */
	PG_SCHEMA_VERSION = 1,
	PG_LOCK_KEY = 0x69726973, /* "iris" */
};

#define X_S(n) #n " text NOT NULL DEFAULT '',"
#define X_U(n) #n " bigint NOT NULL DEFAULT 0,"
#define X_F(n) #n " double precision NOT NULL DEFAULT 0,"
static const char migration_1[] = "CREATE TABLE IF NOT EXISTS cdr (" CDR_FIELDS(
    X_S, X_U, X_F) "variables jsonb NOT NULL "
		   "DEFAULT '{}', PRIMARY KEY (uuid));"
		   "CREATE INDEX IF NOT EXISTS cdr_created ON cdr (created_us, uuid);";
#undef X_S
#undef X_U
#undef X_F

/* Migrations in order: index i brings the schema to version i + 1. */
static const char *const migrations[PG_SCHEMA_VERSION] = {migration_1};

struct pg_sink {
	char dsn[1024];
	PGconn *conn;
	struct buf sql, text;
	const char **values;
	size_t value_cap;
	size_t *offsets;
};

int cdr__pg_create(void **out, const struct cdr_conf *conf)
{
	struct pg_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->dsn, sizeof(s->dsn), "%s", conf->pg_dsn);
	buf_init(&s->sql);
	buf_init(&s->text);
	*out = s;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for the socket; -ETIMEDOUT past the deadline. */
static int pg_wait(PGconn *c, bool for_write, uint64_t deadline)
{
	uint64_t now = now_ms();
	if (now >= deadline)
		return -ETIMEDOUT;
	struct pollfd p = {.fd = PQsocket(c), .events = for_write ? POLLOUT : POLLIN};
	if (p.fd < 0)
		return -EBADF;
	int n = poll(&p, 1, (int)(deadline - now));
	if (n < 0 && errno != EINTR)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static void pg_close(void *impl)
{
	struct pg_sink *s = impl;
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
}

static int pg_error(struct pg_sink *s, const char *what, char *err, size_t err_size, int e)
{
	const char *msg = s->conn ? PQerrorMessage(s->conn) : "";
	size_t len = strlen(msg);
	while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	if (len)
		snprintf(err, err_size, "%s: %.*s", what, (int)len, msg);
	else
		snprintf(err, err_size, "%s: %s", what, strerror(-e));
	return e;
}

/* Sends one statement and reads its results; all must succeed. */
static int pg_exec(struct pg_sink *s, const char *sql, int nparams, const char *const *values,
		   char *err, size_t err_size)
{
	uint64_t deadline = now_ms() + PG_TIMEOUT_MS;
	int ok = nparams ? PQsendQueryParams(s->conn, sql, nparams, NULL, values, NULL, NULL, 0)
			 : PQsendQuery(s->conn, sql);
	if (!ok)
		return pg_error(s, "sending", err, err_size, -EIO);
	int e;
	for (;;) {
		int f = PQflush(s->conn);
		if (f < 0)
			return pg_error(s, "sending", err, err_size, -EIO);
		if (f == 0)
			break;
		if ((e = pg_wait(s->conn, true, deadline)))
			return pg_error(s, "sending", err, err_size, e);
	}
	int result = 0;
	for (;;) {
		while (PQisBusy(s->conn)) {
			if ((e = pg_wait(s->conn, false, deadline)))
				return pg_error(s, "waiting", err, err_size, e);
			if (!PQconsumeInput(s->conn))
				return pg_error(s, "reading", err, err_size, -EIO);
		}
		PGresult *r = PQgetResult(s->conn);
		if (!r)
			break;
		ExecStatusType st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !result) {
			const char *msg = PQresultErrorMessage(r);
			snprintf(err, err_size, "%s", msg && *msg ? msg : PQresStatus(st));
			size_t n = strlen(err);
			while (n && err[n - 1] == '\n')
				err[--n] = '\0';
			result = -EIO;
		}
		PQclear(r);
	}
	return result;
}

static int pg_migrate(struct pg_sink *s, char *err, size_t err_size)
{
	char sql[256];
	int e = pg_exec(s, "BEGIN", 0, NULL, err, err_size);
	if (e)
		return e;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)", PG_LOCK_KEY);
	if ((e = pg_exec(s, sql, 0, NULL, err, err_size)) ||
	    (e = pg_exec(s,
			 "CREATE TABLE IF NOT EXISTS cdr_schema_version (version integer NOT NULL)",
			 0, NULL, err, err_size)))
		goto rollback;
	/* The version, read synchronously enough: one tiny query. */
	uint64_t deadline = now_ms() + PG_TIMEOUT_MS;
	if (!PQsendQuery(s->conn, "SELECT coalesce(max(version), 0) FROM cdr_schema_version")) {
		e = pg_error(s, "schema version", err, err_size, -EIO);
		goto rollback;
	}
	while (PQflush(s->conn) > 0)
		if ((e = pg_wait(s->conn, true, deadline))) {
			pg_error(s, "schema version", err, err_size, e);
			goto rollback;
		}
	int version = -1;
	for (;;) {
		while (PQisBusy(s->conn)) {
			if ((e = pg_wait(s->conn, false, deadline)) || !PQconsumeInput(s->conn)) {
				e = pg_error(s, "schema version", err, err_size, e ? e : -EIO);
				goto rollback;
			}
		}
		PGresult *r = PQgetResult(s->conn);
		if (!r)
			break;
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			version = atoi(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	if (version < 0 || version > PG_SCHEMA_VERSION) {
		snprintf(err, err_size, "schema version %d: not one this irisx knows", version);
		e = -EPROTO;
		goto rollback;
	}
	for (int v = version; v < PG_SCHEMA_VERSION; v++) {
		if ((e = pg_exec(s, migrations[v], 0, NULL, err, err_size)))
			goto rollback;
		snprintf(sql, sizeof(sql), "INSERT INTO cdr_schema_version VALUES (%d)", v + 1);
		if ((e = pg_exec(s, sql, 0, NULL, err, err_size)))
			goto rollback;
		log_notice("cdr postgres: schema migrated to version %d", v + 1);
	}
	return pg_exec(s, "COMMIT", 0, NULL, err, err_size);
rollback:
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK) {
		char ignored[64];
		pg_exec(s, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	}
	return e;
}

static int pg_open(void *impl, char *err, size_t err_size)
{
	struct pg_sink *s = impl;
	uint64_t deadline = now_ms() + PG_TIMEOUT_MS;
	s->conn = PQconnectStart(s->dsn);
	if (!s->conn) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	int e = 0;
	if (PQstatus(s->conn) == CONNECTION_BAD) {
		e = pg_error(s, "connecting", err, err_size, -ECONNREFUSED);
		goto fail;
	}
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED) {
			e = pg_error(s, "connecting", err, err_size, -ECONNREFUSED);
			goto fail;
		}
		if ((e = pg_wait(s->conn, st == PGRES_POLLING_WRITING, deadline))) {
			pg_error(s, "connecting", err, err_size, e);
			goto fail;
		}
		st = PQconnectPoll(s->conn);
	}
	if (PQsetnonblocking(s->conn, 1) != 0) {
		e = pg_error(s, "non-blocking mode", err, err_size, -EIO);
		goto fail;
	}
	if ((e = pg_exec(s, "SET synchronous_commit = on", 0, NULL, err, err_size)) ||
	    (e = pg_migrate(s, err, err_size)))
		goto fail;
	return 0;
fail:
	pg_close(s);
	return e;
}

static int grow_values(struct pg_sink *s, size_t n)
{
	if (n <= s->value_cap)
		return 0;
	const char **v = realloc(s->values, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->values = v;
	size_t *o = realloc(s->offsets, n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	s->offsets = o;
	s->value_cap = n;
	return 0;
}

/* One INSERT of rows [from, to): every value as text in s->text, NUL
 * separated; pointers are taken once the buffer stops moving. */
static int insert_rows(struct pg_sink *s, const struct cdr_batch *b, size_t from, size_t to,
		       char *err, size_t err_size)
{
	size_t cols = cdr__field_count + 1, n = (to - from) * cols;
	if (grow_values(s, n)) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	buf_reset(&s->sql);
	buf_reset(&s->text);
	buf_append_cstr(&s->sql, "INSERT INTO cdr VALUES ");
	size_t k = 0;
	for (size_t i = from; i < to; i++) {
		const struct cdr *c = &b->recs[i];
		buf_append_cstr(&s->sql, i > from ? ",(" : "(");
		for (size_t j = 0; j < cols; j++) {
			buf_printf(&s->sql, "%s$%zu", j ? "," : "", k + 1);
			s->offsets[k++] = s->text.len;
			if (j == cdr__field_count) {
				cdr__vars_print(c, &s->text);
			} else {
				const struct cdr_field *f = &cdr__fields[j];
				const char *base = (const char *)c + f->offset;
				if (f->kind == CDR_STR) {
					const char *v = *(const char *const *)(const void *)base;
					buf_append_cstr(&s->text, v ? v : "");
				} else if (f->kind == CDR_U64) {
					buf_printf(&s->text, "%llu",
						   (unsigned long long)*(
						       const uint64_t *)(const void *)base);
				} else {
					buf_printf(&s->text, "%.6f",
						   *(const double *)(const void *)base);
				}
			}
			buf_append(&s->text, "", 1);
		}
		buf_append_cstr(&s->sql, ")");
	}
	buf_append_cstr(&s->sql, " ON CONFLICT (uuid) DO NOTHING");
	if (s->sql.failed || s->text.failed) {
		s->sql.failed = s->text.failed = false;
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		s->values[i] = s->text.p + s->offsets[i];
	return pg_exec(s, s->sql.p, (int)n, s->values, err, err_size);
}

static int pg_write(void *impl, const struct cdr_batch *b, char *err, size_t err_size)
{
	struct pg_sink *s = impl;
	int e = pg_exec(s, "BEGIN", 0, NULL, err, err_size);
	for (size_t i = 0; !e && i < b->count; i += PG_ROWS_PER_INSERT) {
		size_t to = i + PG_ROWS_PER_INSERT < b->count ? i + PG_ROWS_PER_INSERT : b->count;
		e = insert_rows(s, b, i, to, err, err_size);
	}
	if (!e)
		return pg_exec(s, "COMMIT", 0, NULL, err, err_size);
	/* The connection is dropped after a failure: the transaction with it. */
	return e;
}

static void pg_destroy(void *impl)
{
	struct pg_sink *s = impl;
	pg_close(s);
	buf_fini(&s->sql);
	buf_fini(&s->text);
	free(s->values);
	free(s->offsets);
	free(s);
}

const struct cdr_sink_ops cdr__pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .write = pg_write,
    .close = pg_close,
    .destroy = pg_destroy,
};
