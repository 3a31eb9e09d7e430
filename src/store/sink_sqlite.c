/*
 * The SQLite sink (the default): <state dir>/cdr.sqlite in WAL mode, one
 * transaction per batch, INSERT OR IGNORE on the uuid primary key so that a
 * batch replayed after a crash adds nothing twice. synchronous=FULL: a
 * committed batch survives power loss, which the spool cursor relies on.
 */
#define LOG_MODULE "store"
#include "store_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define X_S(n) #n " TEXT NOT NULL DEFAULT '',"
#define X_U(n) #n " INTEGER NOT NULL DEFAULT 0,"
#define X_F(n) #n " REAL NOT NULL DEFAULT 0,"
const char cdr__sqlite_schema[] = "CREATE TABLE IF NOT EXISTS cdr (" CDR_FIELDS(
    X_S, X_U, X_F) "variables TEXT NOT NULL "
		   "DEFAULT '{}', PRIMARY KEY (uuid));"
		   "CREATE INDEX IF NOT EXISTS cdr_created ON cdr (created_us, uuid);";
#undef X_S
#undef X_U
#undef X_F

struct sqlite_sink {
	char path[1024];
	sqlite3 *db;
	sqlite3_stmt *insert;
	struct buf vars;
};

int cdr__sqlite_create(void **out, const struct cdr_conf *conf)
{
	struct sqlite_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->path, sizeof(s->path), "%s", conf->sqlite_path);
	buf_init(&s->vars);
	*out = s;
	return 0;
}

static void sqlite_close(void *impl)
{
	struct sqlite_sink *s = impl;
	sqlite3_finalize(s->insert);
	s->insert = NULL;
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}

static int fail(struct sqlite_sink *s, const char *what, char *err, size_t err_size)
{
	snprintf(err, err_size, "%s: %s: %s", s->path, what,
		 s->db ? sqlite3_errmsg(s->db) : "out of memory");
	return -EIO;
}

static int sqlite_open(void *impl, char *err, size_t err_size)
{
	struct sqlite_sink *s = impl;
	if (sqlite3_open_v2(s->path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		int e = fail(s, "opening", err, err_size);
		sqlite_close(s);
		return e;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, cdr__sqlite_schema, NULL, NULL, NULL) != SQLITE_OK) {
		int e = fail(s, "creating the schema", err, err_size);
		sqlite_close(s);
		return e;
	}
	struct buf sql;
	buf_init(&sql);
	buf_append_cstr(&sql, "INSERT OR IGNORE INTO cdr VALUES (");
	for (size_t i = 0; i <= cdr__field_count; i++)
		buf_append_cstr(&sql, i ? ",?" : "?");
	buf_append_cstr(&sql, ")");
	int rc = sql.failed ? SQLITE_NOMEM
			    : sqlite3_prepare_v2(s->db, sql.p, (int)sql.len, &s->insert, NULL);
	buf_fini(&sql);
	if (rc != SQLITE_OK) {
		int e = fail(s, "preparing", err, err_size);
		sqlite_close(s);
		return e;
	}
	return 0;
}

static int bind_record(struct sqlite_sink *s, const struct cdr *c)
{
	sqlite3_stmt *st = s->insert;
	int rc = SQLITE_OK;
	for (size_t i = 0; i < cdr__field_count && rc == SQLITE_OK; i++) {
		const struct cdr_field *f = &cdr__fields[i];
		const char *base = (const char *)c + f->offset;
		int col = (int)i + 1;
		switch (f->kind) {
		case CDR_STR: {
			const char *v = *(const char *const *)(const void *)base;
			rc = sqlite3_bind_text(st, col, v ? v : "", -1, SQLITE_STATIC);
			break;
		}
		case CDR_U64:
			rc = sqlite3_bind_int64(
			    st, col, (sqlite3_int64) * (const uint64_t *)(const void *)base);
			break;
		case CDR_F64:
			rc = sqlite3_bind_double(st, col, *(const double *)(const void *)base);
			break;
		}
	}
	buf_reset(&s->vars);
	cdr__vars_print(c, &s->vars);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, (int)cdr__field_count + 1, s->vars.p, (int)s->vars.len,
				       SQLITE_STATIC);
	return rc;
}

static int sqlite_write(void *impl, const struct cdr_batch *b, char *err, size_t err_size)
{
	struct sqlite_sink *s = impl;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, "BEGIN", err, err_size);
	for (size_t i = 0; i < b->count; i++) {
		int rc = bind_record(s, &b->recs[i]);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s->insert);
			rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		}
		sqlite3_reset(s->insert);
		sqlite3_clear_bindings(s->insert);
		if (rc != SQLITE_OK) {
			int e = fail(s, "INSERT", err, err_size);
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return e;
		}
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int e = fail(s, "COMMIT", err, err_size);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return e;
	}
	return 0;
}

static void sqlite_destroy(void *impl)
{
	struct sqlite_sink *s = impl;
	sqlite_close(s);
	buf_fini(&s->vars);
	free(s);
}

const struct cdr_sink_ops cdr__sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .write = sqlite_write,
    .close = sqlite_close,
    .destroy = sqlite_destroy,
};
