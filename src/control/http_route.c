/*
 * The HTTP door's route table and request accessors: patterns with {name}
 * segments, matching a decoded path to a route (404 / 405 otherwise), the
 * query string's split and %-decoding (RFC 3986 §2.1; '+' as a space, as
 * HTML forms send it), and a request's JSON body. Pure: no sockets, no loop.
 */
#define LOG_MODULE "http"
#include "control/http_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const method_names[HTTP_METHOD_COUNT] = {
    [HTTP_GET] = "GET",	    [HTTP_HEAD] = "HEAD",     [HTTP_POST] = "POST",
    [HTTP_PUT] = "PUT",	    [HTTP_PATCH] = "PATCH",   [HTTP_DELETE] = "DELETE",
    [HTTP_OPTIONS] = "OPTIONS", [HTTP_OTHER] = "OTHER",
};

const char *http_method_name(enum http_method m)
{
	return (unsigned)m < HTTP_METHOD_COUNT ? method_names[m] : "OTHER";
}

enum http_method http_method_parse(const char *name)
{
	for (int m = 0; m < HTTP_OTHER; m++)
		if (name && strcmp(name, method_names[m]) == 0)
			return (enum http_method)m;
	return HTTP_OTHER;
}

/* ---- patterns ---- */

/* The next '/'-separated segment of *p (advancing it); false at the end. */
static bool segment_next(const char **p, const char **seg, size_t *len)
{
	const char *s = *p;
	if (*s != '/')
		return false;
	s++;
	const char *end = strchr(s, '/');
	if (!end)
		end = s + strlen(s);
	*seg = s;
	*len = (size_t)(end - s);
	*p = end;
	return true;
}

static bool segment_is_param(const char *seg, size_t len)
{
	return len >= 3 && seg[0] == '{' && seg[len - 1] == '}';
}

static bool pattern_valid(const char *pattern)
{
	const char *p = pattern, *seg;
	size_t len, count = 0, params = 0;
	if (p[0] != '/')
		return false;
	if (strcmp(p, "/") == 0)
		return true;
	while (segment_next(&p, &seg, &len)) {
		if (len == 0 || ++count > HTTP_SEGMENTS_MAX)
			return false;
		if (segment_is_param(seg, len)) {
			if (++params > HTTP_PARAMS_MAX)
				return false;
			for (size_t i = 1; i + 1 < len; i++)
				if (seg[i] == '{' || seg[i] == '}')
					return false;
		} else if (memchr(seg, '{', len) || memchr(seg, '}', len)) {
			return false;
		}
	}
	return *p == '\0';
}

int http_route_add(struct http *h, enum http_method method, const char *pattern, unsigned flags,
		   http_handler_cb cb, void *arg)
{
	if (!h || !pattern || !cb || method >= HTTP_OTHER || !pattern_valid(pattern))
		return -EINVAL;
	for (size_t i = 0; i < h->route_count; i++)
		if (h->routes[i].method == method && strcmp(h->routes[i].pattern, pattern) == 0)
			return -EEXIST;
	struct http_route *nr = realloc(h->routes, (h->route_count + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	h->routes = nr;
	char *copy = strdup(pattern);
	if (!copy)
		return -ENOMEM;
	h->routes[h->route_count++] = (struct http_route){
	    .method = method, .pattern = copy, .flags = flags, .cb = cb, .arg = arg};
	return 0;
}

void http_route_each(const struct http *h,
		     void (*cb)(void *arg, enum http_method method, const char *pattern), void *arg)
{
	for (size_t i = 0; i < h->route_count; i++)
		cb(arg, h->routes[i].method, h->routes[i].pattern);
}

void http__routes_free(struct http *h)
{
	for (size_t i = 0; i < h->route_count; i++)
		free(h->routes[i].pattern);
	free(h->routes);
	h->routes = NULL;
	h->route_count = 0;
}

/*
 * How well `path` matches `pattern`: -1 not at all, else a score where each
 * literal segment counts more than any number of {name} ones later on
 * (literal segments win, leftmost first).
 */
static long match_score(const char *pattern, const char *path)
{
	const char *p = pattern, *q = path, *ps, *qs;
	size_t pl, ql;
	long score = 0;
	unsigned depth = 0;
	if (strcmp(pattern, "/") == 0)
		return strcmp(path, "/") == 0 ? 0 : -1;
	for (;;) {
		bool more_p = segment_next(&p, &ps, &pl);
		bool more_q = segment_next(&q, &qs, &ql);
		if (!more_p || !more_q)
			return more_p == more_q && *q == '\0' ? score : -1;
		if (ql == 0)
			return -1;
		depth++;
		if (segment_is_param(ps, pl))
			continue;
		if (pl != ql || memcmp(ps, qs, pl) != 0)
			return -1;
		score |= 1L << (HTTP_SEGMENTS_MAX - depth);
		if (depth >= HTTP_SEGMENTS_MAX)
			return -1;
	}
}

static void params_clear(struct http_req *req)
{
	for (size_t i = 0; i < req->param_count; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	req->param_count = 0;
}

static int params_fill(struct http_req *req, const char *pattern)
{
	const char *p = pattern, *q = req->path, *ps, *qs;
	size_t pl, ql;
	params_clear(req);
	while (segment_next(&p, &ps, &pl) && segment_next(&q, &qs, &ql)) {
		if (!segment_is_param(ps, pl))
			continue;
		int e = http__kv_add(req->params, &req->param_count, ps + 1, pl - 2, qs, ql);
		if (e)
			return e;
	}
	return 0;
}

const struct http_route *http__route_find(struct http *h, struct http_req *req, unsigned *status,
					  unsigned *allow)
{
	const struct http_route *best = NULL;
	long best_score = -1;
	enum http_method want = req->method == HTTP_HEAD ? HTTP_GET : req->method;
	*allow = 0;
	*status = 404;
	if (!req->path)
		return NULL;
	for (size_t i = 0; i < h->route_count; i++) {
		const struct http_route *r = &h->routes[i];
		long score = match_score(r->pattern, req->path);
		if (score < 0)
			continue;
		*allow |= 1u << r->method;
		if (r->method == HTTP_GET)
			*allow |= 1u << HTTP_HEAD;
		if (r->method == want && score > best_score) {
			best = r;
			best_score = score;
		}
	}
	if (!best) {
		*status = *allow ? 405 : 404;
		return NULL;
	}
	if (params_fill(req, best->pattern) != 0) {
		*status = 404;
		return NULL;
	}
	*status = 0;
	return best;
}

/* ---- requests ---- */

struct http_req *http__req_alloc(struct http *h)
{
	struct http_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	atomic_init(&r->refs, 1);
	atomic_init(&r->msgs, 0);
	buf_init(&r->reply_headers);
	r->http = h;
	return r;
}

int http__kv_add(struct http_kv *kv, size_t *count, const char *name, size_t name_len,
		 const char *value, size_t value_len)
{
	if (*count >= HTTP_KV_MAX)
		return -E2BIG;
	char *n = strndup(name, name_len);
	char *v = strndup(value, value_len);
	if (!n || !v) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	kv[*count].name = n;
	kv[*count].value = v;
	(*count)++;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decodes s[0..len) into out (at least len + 1 bytes); -EINVAL for a bad escape. */
static int percent_decode(const char *s, size_t len, char *out, size_t *out_len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len)
				return -EINVAL;
			int hi = hex_value(s[i + 1]);
			int lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[n++] = s[i] == '+' ? ' ' : s[i];
		}
	}
	out[n] = '\0';
	*out_len = n;
	return 0;
}

int http__query_parse(struct http_req *req, const char *query, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && query[end] != '&')
			end++;
		if (end > i) {
			const char *pair = query + i;
			size_t plen = end - i;
			const char *eq = memchr(pair, '=', plen);
			size_t nlen = eq ? (size_t)(eq - pair) : plen;
			size_t vlen = eq ? plen - nlen - 1 : 0;
			char *name = malloc(nlen + 1), *value = malloc(vlen + 1);
			size_t dn = 0, dv = 0;
			int e = name && value ? 0 : -ENOMEM;
			if (!e)
				e = percent_decode(pair, nlen, name, &dn);
			if (!e)
				e = percent_decode(eq ? eq + 1 : "", vlen, value, &dv);
			if (!e)
				e = http__kv_add(req->query, &req->query_count, name, dn, value, dv);
			free(name);
			free(value);
			if (e)
				return e;
		}
		i = end + 1;
	}
	return 0;
}

struct http_req *http__req_new(struct http *h, const char *method, const char *target,
			       const char *headers, const char *body, size_t body_len)
{
	struct http_req *r = http__req_alloc(h);
	if (!r)
		return NULL;
	r->stage = HTTP_STAGE_LOOP;
	r->method = http_method_parse(method);
	r->method_name = strdup(method ? method : "");
	const char *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	/* MHD decodes the path before we see it; do the same. */
	r->path = malloc(plen + 1);
	r->body = malloc(body_len + 1);
	snprintf(r->peer, sizeof(r->peer), "test");
	size_t dlen;
	if (!r->method_name || !r->path || !r->body ||
	    percent_decode(target, plen, r->path, &dlen) != 0 || strlen(r->path) != dlen)
		goto fail;
	if (body_len)
		memcpy(r->body, body, body_len);
	r->body[body_len] = '\0';
	r->body_len = body_len;
	if (q && http__query_parse(r, q + 1, strlen(q + 1)) != 0)
		goto fail;
	for (const char *line = headers; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t llen = nl ? (size_t)(nl - line) : strlen(line);
		const char *colon = memchr(line, ':', llen);
		if (colon) {
			const char *v = colon + 1;
			while (v < line + llen && *v == ' ')
				v++;
			if (http__kv_add(r->headers, &r->header_count, line, (size_t)(colon - line), v,
					 (size_t)(line + llen - v)) != 0)
				goto fail;
		}
		line = nl ? nl + 1 : line + llen;
	}
	return r;
fail:
	for (size_t i = 0; i < r->query_count; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	for (size_t i = 0; i < r->header_count; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	buf_fini(&r->reply_headers);
	free(r->method_name);
	free(r->path);
	free(r->body);
	free(r);
	return NULL;
}

/* ---- reading ---- */

static const char *kv_find(const struct http_kv *kv, size_t count, const char *name, bool nocase)
{
	for (size_t i = 0; i < count; i++)
		if ((nocase ? strcasecmp(kv[i].name, name) : strcmp(kv[i].name, name)) == 0)
			return kv[i].value;
	return NULL;
}

const char *http_param(const struct http_req *req, const char *name)
{
	return kv_find(req->params, req->param_count, name, false);
}

const char *http_query(const struct http_req *req, const char *name)
{
	return kv_find(req->query, req->query_count, name, false);
}

const char *http_header(const struct http_req *req, const char *name)
{
	return kv_find(req->headers, req->header_count, name, true);
}

json_t *http_body_json(struct http_req *req, bool empty_ok)
{
	size_t i = 0;
	while (i < req->body_len && strchr(" \t\r\n", req->body[i]))
		i++;
	if (i == req->body_len) {
		if (empty_ok)
			return json_object();
		http_reply_error(req, 400, "bad_request", "a JSON object body is required");
		return NULL;
	}
	json_error_t err;
	/* JSON_REJECT_DUPLICATES: {"to":"a","to":"b"} is a client's mistake. */
	json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!doc) {
		http_reply_error(req, 400, "bad_json", "line %d column %d: %s", err.line,
				 err.column, err.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		http_reply_error(req, 400, "bad_request", "the body must be a JSON object");
		return NULL;
	}
	return doc;
}
