/*
 * Reading CDRs back from the SQLite store: the query behind GET /v1/cdrs
 * and `irisx cdr export`. The API reads the SQLite database, not
 * PostgreSQL: SQLite is on every node and holds every record (when it is
 * configured; cdr_query_run answers -ENOENT otherwise).
 *
 * Pages are keyset-paginated on (created_us, uuid), the cdr_created index:
 * a cursor is "<created_us>.<uuid>" of the last record returned, so a page
 * costs the same at any depth and records written meanwhile shift nothing.
 */
#define LOG_MODULE "store"
#include "store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

enum { LIMIT_DEFAULT = 100, LIMIT_MAX = 1000 };

static int row_to_cdr(sqlite3_stmt *st, struct cdr *c, char **vars_copy)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < cdr__field_count; i++) {
		const struct cdr_field *f = &cdr__fields[i];
		char *base = (char *)c + f->offset;
		int col = (int)i;
		switch (f->kind) {
		case CDR_STR: {
			const unsigned char *t = sqlite3_column_text(st, col);
			*(const char **)(void *)base = t ? (const char *)t : "";
			break;
		}
		case CDR_U64:
			*(uint64_t *)(void *)base = (uint64_t)sqlite3_column_int64(st, col);
			break;
		case CDR_F64:
			*(double *)(void *)base = sqlite3_column_double(st, col);
			break;
		}
	}
	const char *vars = (const char *)sqlite3_column_text(st, (int)cdr__field_count);
	*vars_copy = strdup(vars ? vars : "{}");
	if (!*vars_copy)
		return -ENOMEM;
	if (cdr__vars_parse(*vars_copy, strlen(*vars_copy), c) != 0)
		c->var_count = 0; /* written by something else: the fields still stand */
	return 0;
}

static int parse_cursor(const char *cursor, uint64_t *us, char *uuid, size_t uuid_size)
{
	const char *dot = strchr(cursor, '.');
	if (!dot || !dot[1] || strlen(dot + 1) >= uuid_size)
		return -EINVAL;
	if (str_to_u64(str_make(cursor, (size_t)(dot - cursor)), us) != 0)
		return -EINVAL;
	snprintf(uuid, uuid_size, "%s", dot + 1);
	return 0;
}

int cdr_query_run(const char *sqlite_path, const struct cdr_query *q,
		  void (*cb)(void *arg, const struct cdr *c), void *arg, char *next_cursor,
		  size_t next_cursor_size)
{
	if (!sqlite_path || !q || !cb || !next_cursor || next_cursor_size < 80)
		return -EINVAL;
	next_cursor[0] = '\0';
	size_t limit = q->limit ? q->limit : LIMIT_DEFAULT;
	if (limit > LIMIT_MAX)
		limit = LIMIT_MAX;
	uint64_t cur_us = 0;
	char cur_uuid[UUID_STRLEN + 64];
	if (q->cursor && *q->cursor &&
	    parse_cursor(q->cursor, &cur_us, cur_uuid, sizeof(cur_uuid)) != 0)
		return -EINVAL;

	sqlite3 *db = NULL;
	if (sqlite3_open_v2(sqlite_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return -ENOENT;
	}
	sqlite3_busy_timeout(db, 2000);
	struct buf sql;
	buf_init(&sql);
	buf_append_cstr(&sql, "SELECT ");
	for (size_t i = 0; i < cdr__field_count; i++)
		buf_printf(&sql, "%s,", cdr__fields[i].name);
	buf_append_cstr(&sql, "variables FROM cdr WHERE 1");
	if (q->uuid)
		buf_append_cstr(&sql, " AND uuid = :uuid");
	if (q->since_us)
		buf_append_cstr(&sql, " AND created_us >= :since");
	if (q->until_us)
		buf_append_cstr(&sql, " AND created_us < :until");
	if (q->direction)
		buf_append_cstr(&sql, " AND direction = :dir");
	if (q->cause)
		buf_append_cstr(&sql, " AND hangup_cause = :cause");
	if (q->cursor && *q->cursor)
		buf_append_cstr(&sql, " AND (created_us, uuid) > (:cus, :cuuid)");
	buf_printf(&sql, " ORDER BY created_us, uuid LIMIT %zu", limit + 1);

	sqlite3_stmt *st = NULL;
	int e = 0;
	if (sql.failed || sqlite3_prepare_v2(db, sql.p, -1, &st, NULL) != SQLITE_OK) {
		/* No table yet: nothing was ever stored. */
		e = sqlite3_errmsg(db) && strstr(sqlite3_errmsg(db), "no such table") ? 0 : -EIO;
		goto out;
	}
#define BIND_TEXT(name, v)                                                                         \
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, name), v, -1, SQLITE_STATIC)
#define BIND_I64(name, v)                                                                          \
	sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, name), (sqlite3_int64)(v))
	if (q->uuid)
		BIND_TEXT(":uuid", q->uuid);
	if (q->since_us)
		BIND_I64(":since", q->since_us);
	if (q->until_us)
		BIND_I64(":until", q->until_us);
	if (q->direction)
		BIND_TEXT(":dir", q->direction);
	if (q->cause)
		BIND_TEXT(":cause", q->cause);
	if (q->cursor && *q->cursor) {
		BIND_I64(":cus", cur_us);
		BIND_TEXT(":cuuid", cur_uuid);
	}
#undef BIND_TEXT
#undef BIND_I64
	size_t n = 0;
	int rc;
	uint64_t last_us = 0;
	char last_uuid[UUID_STRLEN + 64] = "";
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			snprintf(next_cursor, next_cursor_size, "%" PRIu64 ".%s", last_us,
				 last_uuid);
			break;
		}
		struct cdr c;
		char *vars = NULL;
		if ((e = row_to_cdr(st, &c, &vars)))
			break;
		last_us = c.created_us;
		snprintf(last_uuid, sizeof(last_uuid), "%s", c.uuid);
		cb(arg, &c);
		free(vars);
		n++;
	}
	if (!e && rc != SQLITE_ROW && rc != SQLITE_DONE)
		e = -EIO;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	buf_fini(&sql);
	return e;
}

struct export_ctx {
	bool json;
	FILE *out;
	struct buf line;
};

static void export_cb(void *arg, const struct cdr *c)
{
	struct export_ctx *x = arg;
	buf_reset(&x->line);
	if (x->json)
		cdr_print_json(c, &x->line);
	else
		cdr_csv_print(c, NULL, &x->line);
	fwrite(x->line.p, 1, x->line.len, x->out);
}

int cdr_export(const char *sqlite_path, bool json, uint64_t since_us, uint64_t until_us, FILE *out)
{
	struct export_ctx x = {.json = json, .out = out};
	buf_init(&x.line);
	if (!json) {
		/* The header: the default template's names. */
		const char *p = cdr_csv_template_default;
		bool first = true;
		while ((p = strstr(p, "${"))) {
			const char *close = strchr(p, '}');
			fprintf(out, "%s%.*s", first ? "" : ",", (int)(close - p - 2), p + 2);
			first = false;
			p = close + 1;
		}
		fputc('\n', out);
	}
	char cursor[128] = "", next[128];
	int e;
	do {
		struct cdr_query q = {.since_us = since_us,
				      .until_us = until_us,
				      .cursor = cursor,
				      .limit = LIMIT_MAX};
		e = cdr_query_run(sqlite_path, &q, export_cb, &x, next, sizeof(next));
		memcpy(cursor, next, sizeof(cursor));
	} while (!e && cursor[0]);
	buf_fini(&x.line);
	if (!e && ferror(out))
		e = -EIO;
	return e;
}
