/*
 * What the unit tests of the TwiML executor share (test_twiml_exec.c on
 * legs built straight in the core, test_twiml_exec_sip.c on calls taken over
 * SIP): the application, an HTTP server (test_http_server.h) answering each
 * path from a table of canned answers (a document, a WAV file, an error
 * status, late, or never), with readers of the request log (method, path,
 * query, headers, parameters, signature); and irisx itself, a core with its
 * dialplan and the TwiML engine on the test's loop, with the dialplan's done
 * callback as the application's end. Header-only; one test file's state.
 */
#ifndef IRISX_TEST_TWIML_UTIL_H
#define IRISX_TEST_TWIML_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/core_int.h"
#include "dialplan/dialplan.h"
#include "test_core_leg_util.h"
#include "test_http_server.h"
#include "twiml/exec_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

#define TOKEN	"12345678901234567890abcdef"
#define ACCOUNT "AC0123456789abcdef0123456789abcdef"

/* ---- the application: canned answers per path ---- */

enum { ROUTES_MAX = 16 };

enum answer_kind {
	ANSWER_DOC,    /* 200 with body (text/xml), after delay_ms */
	ANSWER_STATUS, /* status with a short body */
	ANSWER_NEVER,  /* reads the request, then waits for the client to leave */
};

struct route {
	const char *path; /* without the query */
	enum answer_kind kind;
	const char *status; /* ANSWER_STATUS: "500 Internal Server Error" */
	const char *body;
	unsigned delay_ms;
	size_t body_len; /* 0: strlen(body) */
};

/* The application's table of answers: read by the server's threads. */
struct routes {
	pthread_mutex_t lock;
	struct route r[ROUTES_MAX];
	size_t count;
};

static struct test_http_server srv;
static struct routes routes = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Answers as the route of path says; a path without a route is not found. */
static inline void route_answer_cb(void *arg, struct test_http_server *server, int fd,
				   const char *path, const char *req)
{
	struct routes *rs = arg;
	(void)req;
	struct route r = {.kind = ANSWER_STATUS, .status = "404 Not Found"};
	pthread_mutex_lock(&rs->lock);
	for (size_t i = 0; i < rs->count; i++)
		if (strcmp(rs->r[i].path, path) == 0)
			r = rs->r[i];
	pthread_mutex_unlock(&rs->lock);
	if (r.kind == ANSWER_NEVER) {
		test_http_wait_close(server, fd, -1);
		return;
	}
	if (r.delay_ms && test_http_wait_close(server, fd, (int)r.delay_ms))
		return;
	const char *body = r.body ? r.body : "";
	size_t len = r.body_len ? r.body_len : strlen(body);
	test_http_send_head(
	    fd, r.kind == ANSWER_DOC ? "200 OK" : r.status,
	    r.body_len ? "Content-Type: audio/wav\r\n" : "Content-Type: text/xml\r\n", len);
	test_http_send_all(fd, body, len);
}

static inline void route_add(struct route r)
{
	pthread_mutex_lock(&routes.lock);
	assert_true(routes.count < ROUTES_MAX);
	routes.r[routes.count++] = r;
	pthread_mutex_unlock(&routes.lock);
}

static inline void route(const char *path, enum answer_kind kind, const char *status,
			 const char *body, unsigned delay_ms)
{
	route_add((struct route){path, kind, status, body, delay_ms, 0});
}

static inline void route_doc(const char *path, const char *body)
{
	route(path, ANSWER_DOC, NULL, body, 0);
}

/* 200 ms of 8 kHz 16-bit mono silence as a WAV file. */
static char wav[44 + 3200];

static inline void put_le(char *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (char)(v >> (8 * i));
}

static inline void route_audio(const char *path, unsigned delay_ms)
{
	memset(wav, 0, sizeof(wav));
	memcpy(wav, "RIFF", 4);
	put_le(wav + 4, sizeof(wav) - 8, 4);
	memcpy(wav + 8, "WAVEfmt ", 8);
	put_le(wav + 16, 16, 4);
	put_le(wav + 20, 1, 2); /* PCM */
	put_le(wav + 22, 1, 2);
	put_le(wav + 24, 8000, 4);
	put_le(wav + 28, 16000, 4);
	put_le(wav + 32, 2, 2);
	put_le(wav + 34, 16, 2);
	memcpy(wav + 36, "data", 4);
	put_le(wav + 40, 3200, 4);
	route_add((struct route){path, ANSWER_DOC, NULL, wav, delay_ms, sizeof(wav)});
}

static inline size_t requests(void)
{
	return test_http_requests(&srv);
}

/* Requests whose path (without the query) is path. */
static inline size_t requests_to(const char *path)
{
	return test_http_requests_to(&srv, path);
}

static inline size_t peers_closed(void)
{
	return test_http_peers_closed(&srv);
}

/* The i-th request as received (it stays until the server stops). */
static inline const char *request(size_t i)
{
	return test_http_request(&srv, i);
}

static inline void request_method(size_t i, char *out, size_t size)
{
	char fmt[16];
	snprintf(fmt, sizeof(fmt), "%%%zus", size - 1);
	sscanf(request(i), fmt, out);
}

/* The request target without its query. */
static inline void request_path(size_t i, char *out, size_t size)
{
	test_http_request_path_of(request(i), out, size);
}

/* The index of the first request to path. */
static inline size_t request_to(const char *path)
{
	for (size_t i = 0; i < requests(); i++) {
		char s[2048];
		request_path(i, s, sizeof(s));
		if (strcmp(s, path) == 0)
			return i;
	}
	fail_msg("no request to %s", path);
	return 0;
}

static inline void request_query(size_t i, char *out, size_t size)
{
	char target[2048] = "";
	sscanf(request(i), "%*s %2047s", target);
	char *q = strchr(target, '?');
	snprintf(out, size, "%s", q ? q + 1 : "");
}

/* A header's value ("" when absent). */
static inline void request_header(size_t i, const char *name, char *out, size_t size)
{
	const char *r = request(i);
	const char *end = strstr(r, "\r\n\r\n");
	size_t n = strlen(name);
	out[0] = '\0';
	for (const char *line = strstr(r, "\r\n"); line && line < end;
	     line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
			h += n + 1;
			while (*h == ' ')
				h++;
			snprintf(out, size, "%.*s", (int)strcspn(h, "\r"), h);
			return;
		}
	}
}

static inline int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* Decodes application/x-www-form-urlencoded pairs into ps, in order. */
static inline void form_decode(const char *s, struct twiml_params *ps)
{
	while (*s) {
		size_t len = strcspn(s, "&");
		char name[256], value[2048], *out = name;
		size_t n = 0, cap = sizeof(name);
		for (size_t k = 0; k < len; k++) {
			char c = s[k];
			if (c == '=' && out == name) {
				name[n] = '\0';
				out = value;
				n = 0;
				cap = sizeof(value);
				continue;
			}
			if (c == '+')
				c = ' ';
			else if (c == '%' && k + 2 < len) {
				c = (char)(hex(s[k + 1]) * 16 + hex(s[k + 2]));
				k += 2;
			}
			if (n + 1 < cap)
				out[n++] = c;
		}
		out[n] = '\0';
		if (out == name)
			value[0] = '\0';
		assert_int_equal(twiml_params_set(ps, name, value), 0);
		s += len;
		if (*s == '&')
			s++;
	}
}

/* The parameters of request i: its body (POST) or its query (GET). */
static inline void request_params(size_t i, struct twiml_params *ps)
{
	char method[8];
	request_method(i, method, sizeof(method));
	if (strcmp(method, "GET") == 0) {
		char q[4096];
		request_query(i, q, sizeof(q));
		form_decode(q, ps);
	} else {
		const char *body = strstr(request(i), "\r\n\r\n");
		assert_non_null(body);
		form_decode(body + 4, ps);
	}
}

/* One parameter of request i, into a static buffer ("(none)" when absent). */
static inline const char *param(size_t i, const char *name)
{
	static char value[2048];
	struct twiml_params ps;
	twiml_params_init(&ps);
	request_params(i, &ps);
	const char *v = twiml_params_get(&ps, name);
	snprintf(value, sizeof(value), "%s", v ? v : "(none)");
	twiml_params_fini(&ps);
	return value;
}

static inline const char *url_of(const char *path)
{
	static char url[256];
	return test_http_url(&srv, path, url, sizeof(url));
}

/* ---- irisx: a core, its dialplan and the TwiML engine on one loop ---- */

static uv_loop_t loop;
static struct core *core;
static struct dialplan *dp;
static struct twiml *tw;
static struct twiml_settings set;
static char cache_dir[128];

static inline void spin_ms(uint64_t ms)
{
	uint64_t end = uv_now(&loop) + ms;
	do {
		uv_run(&loop, UV_RUN_NOWAIT);
		uv_sleep(1);
		uv_update_time(&loop);
	} while (uv_now(&loop) < end);
}

static inline void wait_requests(size_t n)
{
	for (int i = 0; i < 3000 && requests() < n; i++)
		spin_ms(1);
	assert_int_equal(requests(), n);
}

/* A core on cfg with its dialplan, and the application's server; nothing
 * listens unless the test starts the core. */
static inline int irisx_open(struct config *cfg)
{
	char err[512];
	snprintf(cache_dir, sizeof(cache_dir), "/tmp/irisx-test-twexec.XXXXXX");
	if (!mkdtemp(cache_dir))
		return -1;
	uv_loop_init(&loop);
	if (core_create(&core, &loop, cfg) != 0)
		return -1;
	if (dialplan_create(&dp, core, cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dialplan: %s\n", err);
		return -1;
	}
	/* Legs park when routed: the application runs on them as on a call
	 * ESL's execute drives. */
	core_set_router(core, &(struct core_router){.route_cb = test_park_route_cb});
	routes.count = 0;
	test_http_start(&srv, route_answer_cb, &routes);
	memset(&set, 0, sizeof(set));
	snprintf(set.auth_token, sizeof(set.auth_token), "%s", TOKEN);
	snprintf(set.account_sid, sizeof(set.account_sid), "%s", ACCOUNT);
	set.timeout_ms = 3000;
	set.max_document = 65536;
	set.max_requests = 100;
	snprintf(set.dial_profile, sizeof(set.dial_profile), "external");
	snprintf(set.audio_cache_dir, sizeof(set.audio_cache_dir), "%s", cache_dir);
	tw = NULL;
	return 0;
}

/* The engine with `set` as the test left it. */
static inline void engine_start(void)
{
	assert_int_equal(twiml_create(&tw, &loop, core, &set), 0);
}

/* What the dialplan's done callback saw. */
struct app_done {
	int calls;
	int status;
	bool up;	       /* the channel, then */
	enum core_cause cause; /* its hangup cause, then */
};

/* A call the shutdown is to end (its done callback must run, once), or NULL. */
static struct app_done *at_shutdown;

static inline void shutdown_done_cb(void *arg)
{
	*(int *)arg = 1;
}

static inline int teardown(void **state)
{
	(void)state;
	int done = 0;
	core_shutdown(core, 100, shutdown_done_cb, &done);
	for (int i = 0; i < 1000 && !done; i++)
		uv_run(&loop, UV_RUN_ONCE);
	if (!done)
		return -1;
	if (at_shutdown && at_shutdown->calls != 1) {
		fprintf(stderr, "the shutdown ended the application %d times\n",
			at_shutdown->calls);
		return -1;
	}
	at_shutdown = NULL;
	/* as irisx stops: the calls are over, the core not yet destroyed */
	twiml_destroy(tw);
	uv_run(&loop, UV_RUN_DEFAULT);
	core_destroy(core);
	dialplan_destroy(dp);
	if (uv_loop_close(&loop) != 0)
		return -1;
	test_http_stop(&srv);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", cache_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline void app_done_cb(struct channel *ch, void *arg, int status)
{
	struct app_done *d = arg;
	d->calls++;
	d->status = status;
	d->up = channel_up(ch);
	d->cause = ch->cause;
}

static inline void wait_done(struct app_done *d)
{
	for (int i = 0; i < 3000 && d->calls == 0; i++)
		spin_ms(1);
	assert_int_equal(d->calls, 1);
}

/* The done callback ran once and stays that way; the engine lets go. */
static inline void assert_over(struct app_done *d)
{
	spin_ms(100);
	assert_int_equal(d->calls, 1);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.active, 0);
}

static inline void wait_requests_to(const char *path, size_t n)
{
	for (int i = 0; i < 3000 && requests_to(path) < n; i++)
		spin_ms(1);
	assert_int_equal(requests_to(path), n);
}

/* Request i went to path (its target without the query). */
static inline void assert_path(size_t i, const char *path)
{
	char s[TEST_HTTP_PATH_MAX];
	request_path(i, s, sizeof(s));
	assert_string_equal(s, path);
}

static inline void assert_method(size_t i, const char *method)
{
	char s[16];
	request_method(i, s, sizeof(s));
	assert_string_equal(s, method);
}

/* Request i carries the signature with TOKEN of url and, for a POST
 * (with_params), of the parameters it sent. */
static inline void assert_signed(size_t i, const char *url, bool with_params)
{
	struct twiml_params ps;
	char sig[29], header[64];
	twiml_params_init(&ps);
	if (with_params)
		request_params(i, &ps);
	assert_int_equal(twiml_signature(TOKEN, url, with_params ? &ps : NULL, sig), 0);
	twiml_params_fini(&ps);
	request_header(i, "X-Twilio-Signature", header, sizeof(header));
	assert_string_equal(header, sig);
}

/* A GET (request i to path) is signed over its URL as sent, query included. */
static inline void assert_signed_get(size_t i, const char *path)
{
	char q[4096], url[4096 + 256];
	request_query(i, q, sizeof(q));
	snprintf(url, sizeof(url), "%s?%s", url_of(path), q);
	assert_signed(i, url, false);
}

/* The engine's counters; a negative value is not checked. */
static inline void assert_stats(long requests, long failures, long fallbacks)
{
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	if (requests >= 0)
		assert_int_equal(st.requests, requests);
	if (failures >= 0)
		assert_int_equal(st.failures, failures);
	if (fallbacks >= 0)
		assert_int_equal(st.fallbacks, fallbacks);
}

/* Failed requests go to path on the application's server. */
static inline void fallback_to(const char *path)
{
	snprintf(set.fallback_url, sizeof(set.fallback_url), "%s", url_of(path));
}

#endif
