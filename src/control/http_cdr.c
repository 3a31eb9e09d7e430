/*
 * GET /v1/cdrs and GET /v1/cdrs/{uuid}: call detail records read back from
 * the SQLite store (cdr_query_run) whose path main.c puts in the settings.
 *
 * The query reads a database file, which may wait on the writer's lock for
 * a while: it runs on libuv's thread pool, never on the loop. The worker
 * builds the JSON document; the loop answers with it.
 */
#define LOG_MODULE "http"
#include "control/http_int.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CDR_CURSOR_MAX = 128, CDR_CAUSE_MAX = 64, CDR_LIMIT_MAX = 1000 };

/* Epoch seconds, or UTC "YYYY-MM-DD[THH:MM:SS[Z]]". */
static int time_arg(const char *s, uint64_t *out_us)
{
	uint64_t secs;
	if (str_to_u64(str_from_cstr(s), &secs) == 0) {
		if (secs > UINT64_MAX / 1000000u)
			return -EINVAL;
		*out_us = secs * 1000000u;
		return 0;
	}
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!end || (*end && strcmp(end, "Z") != 0))
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*out_us = (uint64_t)t * 1000000u;
	return 0;
}

/* A cause as the store writes it: NORMAL_CLEARING. */
static bool cause_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CDR_CAUSE_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* "<created_us>.<uuid>", as cdr_query_run hands out. */
static bool cursor_ok(const char *s)
{
	if (strlen(s) >= CDR_CURSOR_MAX)
		return false;
	const char *dot = strchr(s, '.');
	uint64_t us;
	if (!dot || dot == s || !dot[1] || str_to_u64(str_make(s, (size_t)(dot - s)), &us) != 0)
		return false;
	for (const char *p = dot + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '-'))
			return false;
	return true;
}

int http__cdr_query_parse(const struct http_req *req, struct cdr_query *q, char *err,
			  size_t err_size)
{
	static const char *const known[] = {"since", "until", "direction", "cause", "limit",
					    "cursor"};
	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < req->query_count; i++) {
		const char *name = req->query[i].name;
		size_t k = 0;
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], name) != 0)
			k++;
		if (k == sizeof(known) / sizeof(known[0])) {
			snprintf(err, err_size, "unknown parameter '%s'", name);
			return -EINVAL;
		}
		/* Twice is ambiguous: which one would win is a guess. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->query[j].name, name) == 0) {
				snprintf(err, err_size, "parameter '%s' given twice", name);
				return -EINVAL;
			}
	}
	const char *v;
	if ((v = http_query(req, "since")) && time_arg(v, &q->since_us) != 0) {
		snprintf(err, err_size, "since: epoch seconds or YYYY-MM-DDTHH:MM:SSZ");
		return -EINVAL;
	}
	if ((v = http_query(req, "until")) && time_arg(v, &q->until_us) != 0) {
		snprintf(err, err_size, "until: epoch seconds or YYYY-MM-DDTHH:MM:SSZ");
		return -EINVAL;
	}
	if (q->since_us && q->until_us && q->since_us >= q->until_us) {
		snprintf(err, err_size, "since must be before until");
		return -EINVAL;
	}
	if ((v = http_query(req, "direction"))) {
		if (strcmp(v, "inbound") != 0 && strcmp(v, "outbound") != 0) {
			snprintf(err, err_size, "direction: inbound or outbound");
			return -EINVAL;
		}
		q->direction = v;
	}
	if ((v = http_query(req, "cause"))) {
		if (!cause_ok(v)) {
			snprintf(err, err_size, "cause: a cause name such as NORMAL_CLEARING");
			return -EINVAL;
		}
		q->cause = v;
	}
	if ((v = http_query(req, "limit"))) {
		uint64_t n;
		if (str_to_u64(str_from_cstr(v), &n) != 0 || n < 1 || n > CDR_LIMIT_MAX) {
			snprintf(err, err_size, "limit: 1 to %d", CDR_LIMIT_MAX);
			return -EINVAL;
		}
		q->limit = (size_t)n;
	}
	if ((v = http_query(req, "cursor"))) {
		if (!cursor_ok(v)) {
			snprintf(err, err_size, "cursor: the next_cursor of a previous page");
			return -EINVAL;
		}
		q->cursor = v;
	}
	return 0;
}

/* ---- the query, on the thread pool ---- */

struct cdr_job {
	uv_work_t work;
	struct http_req *req; /* NULL once the server went away */
	char path[1024];
	struct cdr_query q;
	/* The query's strings, copied: the request may be freed before the
	 * worker is done (the server stopping). */
	char uuid[128], direction[16], cause[CDR_CAUSE_MAX + 1], cursor[CDR_CURSOR_MAX];
	bool one; /* GET /v1/cdrs/{uuid} */
	/* The worker's results. */
	int e;
	json_t *list;
	char next[CDR_CURSOR_MAX];
};

static void cdr_add(void *arg, const struct cdr *c)
{
	struct cdr_job *j = arg;
	struct buf line;
	buf_init(&line);
	cdr_print_json(c, &line);
	json_t *doc = line.failed ? NULL : json_loadb(line.p, line.len, 0, NULL);
	buf_fini(&line);
	if (!doc || json_array_append_new(j->list, doc) != 0)
		j->e = -ENOMEM;
}

static void cdr_work(uv_work_t *w)
{
	struct cdr_job *j = w->data;
	j->list = json_array();
	if (!j->list) {
		j->e = -ENOMEM;
		return;
	}
	int e = cdr_query_run(j->path, &j->q, cdr_add, j, j->next, sizeof(j->next));
	/* No database yet: nothing was ever stored. */
	if (e && e != -ENOENT)
		j->e = e;
}

static void cdr_abort(struct http_req *req, void *arg)
{
	struct cdr_job *j = arg;
	(void)req;
	j->req = NULL;
}

static void cdr_done(uv_work_t *w, int status)
{
	struct cdr_job *j = w->data;
	struct http_req *req = j->req;
	if (!req)
		goto out;
	http_req_on_abort(req, NULL, NULL);
	if (status != 0 || j->e == -ENOMEM) {
		http_reply_error(req, 500, "internal", "out of memory");
	} else if (j->e == -EINVAL) {
		http_reply_error(req, 400, "bad_request", "bad cursor");
	} else if (j->e) {
		http_reply_error(req, 503, "unavailable", "CDR database %s: %s", j->path,
				 strerror(-j->e));
	} else if (j->one) {
		json_t *c = json_array_get(j->list, 0);
		if (c)
			http_reply_json(req, 200, json_incref(c));
		else
			http_reply_error(req, 404, "not_found", "no CDR %s", j->uuid);
	} else {
		http_reply_json(req, 200,
				json_pack("{s:O, s:o}", "cdrs", j->list, "next_cursor",
					  j->next[0] ? json_string(j->next) : json_null()));
	}
out:
	json_decref(j->list);
	free(j);
}

static void cdr_start(struct http_req *req, struct cdr_job *j)
{
	const struct http_settings *set = http_settings_get(req->http);
	if (!set->cdr_sqlite_path[0]) {
		free(j);
		http_reply_error(req, 503, "unavailable", "no SQLite CDR store is configured");
		return;
	}
	snprintf(j->path, sizeof(j->path), "%s", set->cdr_sqlite_path);
	j->req = req;
	j->work.data = j;
	http_req_on_abort(req, cdr_abort, j);
	int e = uv_queue_work(http_loop(req->http), &j->work, cdr_work, cdr_done);
	if (e) {
		http_req_on_abort(req, NULL, NULL);
		free(j);
		http_reply_error(req, 503, "unavailable", "cannot queue the query: %s",
				 uv_strerror(e));
	}
}

static void get_cdrs(struct http_req *req, void *arg)
{
	(void)arg;
	struct cdr_job *j = calloc(1, sizeof(*j));
	if (!j) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	char err[160];
	if (http__cdr_query_parse(req, &j->q, err, sizeof(err)) != 0) {
		free(j);
		http_reply_error(req, 400, "bad_request", "%s", err);
		return;
	}
	/* Lengths were checked by the parse. */
	if (j->q.direction)
		j->q.direction = strcpy(j->direction, j->q.direction);
	if (j->q.cause)
		j->q.cause = strcpy(j->cause, j->q.cause);
	if (j->q.cursor)
		j->q.cursor = strcpy(j->cursor, j->q.cursor);
	cdr_start(req, j);
}

static void get_cdr(struct http_req *req, void *arg)
{
	(void)arg;
	const char *uuid = http_param(req, "uuid");
	struct cdr_job *j = calloc(1, sizeof(*j));
	if (!j) {
		http_reply_error(req, 500, "internal", "out of memory");
		return;
	}
	if (!uuid || strlen(uuid) >= sizeof(j->uuid)) {
		free(j);
		http_reply_error(req, 404, "not_found", "no such CDR");
		return;
	}
	snprintf(j->uuid, sizeof(j->uuid), "%s", uuid);
	j->q.uuid = j->uuid;
	j->q.limit = 1;
	j->one = true;
	cdr_start(req, j);
}

int http__cdr_register(struct http *h)
{
	int e = http_route_add(h, HTTP_GET, "/v1/cdrs", 0, get_cdrs, NULL);
	if (!e)
		e = http_route_add(h, HTTP_GET, "/v1/cdrs/{uuid}", 0, get_cdr, NULL);
	return e;
}
