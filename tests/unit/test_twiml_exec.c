/*
 * The TwiML executor (exec.c, verbs.c, audio.c) on legs built straight in a
 * core that runs on the test's loop, against an HTTP application served by
 * this file on loopback threads: each path answers with a canned document
 * or WAV file, late, with an error status, with garbage, or never. The
 * `webhook` application runs through the dialplan's door
 * (dialplan_app_execute), as ESL's execute and the REST API run it; the
 * last tests take calls over SIP from a UDP socket playing the far end
 * (Reject's 603/486, the answer, Dial's B leg). Asserts what the
 * application and the caller see: the parameters and signature of each
 * request, which URLs are asked for (redirects, actions, the fallback with
 * its ErrorCode, audio downloaded once), the request cancelled when the
 * caller hangs up (the server sees the connection close), the hangup
 * cause, and the dialplan's done callback, once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core/core_int.h"
#include "dialplan/dialplan.h"
#include "test_config_util.h"
#include "test_core_leg_util.h"
#include "test_sip_util.h"
#include "twiml/exec_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define TOKEN	"12345678901234567890abcdef"
#define ACCOUNT "AC0123456789abcdef0123456789abcdef"

/* ---- the application: an HTTP server on threads of its own ---- */

enum { CONN_MAX = 64, ROUTES_MAX = 16 };

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

struct server {
	int lfd;
	uint16_t port;
	pthread_t acceptor;
	pthread_t conns[CONN_MAX];
	size_t conn_count;
	pthread_mutex_t lock;
	struct route routes[ROUTES_MAX];
	size_t route_count;
	char *requests[CONN_MAX]; /* as received: head and body */
	size_t request_count;
	size_t peers_closed; /* connections the client closed before an answer */
	volatile bool stopping;
};

static struct server srv;

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static char *read_request(int fd)
{
	size_t cap = 65536, len = 0;
	char *in = malloc(cap);
	for (;;) {
		ssize_t n = recv(fd, in + len, cap - len - 1, 0);
		if (n <= 0 || len + (size_t)n >= cap - 1) {
			free(in);
			return NULL;
		}
		len += (size_t)n;
		in[len] = '\0';
		char *end = strstr(in, "\r\n\r\n");
		if (!end)
			continue;
		size_t clen = 0;
		char *cl = strcasestr(in, "\r\nContent-Length:");
		if (cl && cl < end)
			clen = strtoul(cl + 17, NULL, 10);
		if (len >= (size_t)(end + 4 - in) + clen)
			return in;
	}
}

/* Waits up to ms for the client to close: true when it did. */
static bool peer_closes(int fd, int ms)
{
	uint64_t until = uv_hrtime() / 1000000 + (uint64_t)ms;
	while (!srv.stopping) {
		uint64_t now = uv_hrtime() / 1000000;
		if (ms >= 0 && now >= until)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		char b[256];
		if (recv(fd, b, sizeof(b), 0) <= 0) {
			pthread_mutex_lock(&srv.lock);
			srv.peers_closed++;
			pthread_mutex_unlock(&srv.lock);
			return true;
		}
	}
	return false;
}

static void answer(int fd, const char *path)
{
	struct route r = {.kind = ANSWER_STATUS, .status = "404 Not Found"};
	pthread_mutex_lock(&srv.lock);
	for (size_t i = 0; i < srv.route_count; i++)
		if (strcmp(srv.routes[i].path, path) == 0)
			r = srv.routes[i];
	pthread_mutex_unlock(&srv.lock);
	if (r.kind == ANSWER_NEVER) {
		peer_closes(fd, -1);
		return;
	}
	if (r.delay_ms && peer_closes(fd, (int)r.delay_ms))
		return;
	const char *body = r.body ? r.body : "";
	size_t len = r.body_len ? r.body_len : strlen(body);
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 r.kind == ANSWER_DOC ? "200 OK" : r.status,
			 r.body_len ? "audio/wav" : "text/xml", len);
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void *conn_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *req = read_request(fd);
	if (req) {
		char target[2048] = "";
		sscanf(req, "%*s %2047s", target);
		target[strcspn(target, "?")] = '\0';
		pthread_mutex_lock(&srv.lock);
		if (srv.request_count < CONN_MAX)
			srv.requests[srv.request_count++] = strdup(req);
		pthread_mutex_unlock(&srv.lock);
		answer(fd, target);
		free(req);
	}
	close(fd);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(srv.lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		if (srv.conn_count == CONN_MAX) {
			close(fd);
			continue;
		}
		pthread_create(&srv.conns[srv.conn_count++], NULL, conn_main, (void *)(intptr_t)fd);
	}
}

static void server_start(void)
{
	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.lock, NULL);
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv.lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv.lfd, 16), 0);
	socklen_t len = sizeof(a);
	getsockname(srv.lfd, (struct sockaddr *)&a, &len);
	srv.port = ntohs(a.sin_port);
	pthread_create(&srv.acceptor, NULL, accept_main, NULL);
}

static void server_stop(void)
{
	srv.stopping = true;
	shutdown(srv.lfd, SHUT_RDWR);
	pthread_join(srv.acceptor, NULL);
	close(srv.lfd);
	for (size_t i = 0; i < srv.conn_count; i++)
		pthread_join(srv.conns[i], NULL);
	for (size_t i = 0; i < srv.request_count; i++)
		free(srv.requests[i]);
	pthread_mutex_destroy(&srv.lock);
}

static void route(const char *path, enum answer_kind kind, const char *status, const char *body,
		  unsigned delay_ms)
{
	pthread_mutex_lock(&srv.lock);
	assert_true(srv.route_count < ROUTES_MAX);
	srv.routes[srv.route_count++] = (struct route){path, kind, status, body, delay_ms, 0};
	pthread_mutex_unlock(&srv.lock);
}

static void route_doc(const char *path, const char *body)
{
	route(path, ANSWER_DOC, NULL, body, 0);
}

/* 200 ms of 8 kHz 16-bit mono silence as a WAV file. */
static char wav[44 + 3200];

static void put_le(char *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (char)(v >> (8 * i));
}

static void route_audio(const char *path, unsigned delay_ms)
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
	pthread_mutex_lock(&srv.lock);
	assert_true(srv.route_count < ROUTES_MAX);
	srv.routes[srv.route_count++] =
	    (struct route){path, ANSWER_DOC, NULL, wav, delay_ms, sizeof(wav)};
	pthread_mutex_unlock(&srv.lock);
}

static size_t requests(void)
{
	pthread_mutex_lock(&srv.lock);
	size_t n = srv.request_count;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

/* Requests whose path (without the query) is path. */
static size_t requests_to(const char *path)
{
	size_t n = 0;
	pthread_mutex_lock(&srv.lock);
	for (size_t i = 0; i < srv.request_count; i++) {
		char target[2048] = "";
		sscanf(srv.requests[i], "%*s %2047s", target);
		target[strcspn(target, "?")] = '\0';
		n += strcmp(target, path) == 0;
	}
	pthread_mutex_unlock(&srv.lock);
	return n;
}

static size_t peers_closed(void)
{
	pthread_mutex_lock(&srv.lock);
	size_t n = srv.peers_closed;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

/* The i-th request as received (it stays until the server stops). */
static const char *request(size_t i)
{
	pthread_mutex_lock(&srv.lock);
	const char *r = i < srv.request_count ? srv.requests[i] : NULL;
	pthread_mutex_unlock(&srv.lock);
	assert_non_null(r);
	return r;
}

static void request_method(size_t i, char *out, size_t size)
{
	char fmt[16];
	snprintf(fmt, sizeof(fmt), "%%%zus", size - 1);
	sscanf(request(i), fmt, out);
}

/* The request target without its query. */
static void request_path(size_t i, char *out, size_t size)
{
	char target[2048] = "";
	sscanf(request(i), "%*s %2047s", target);
	target[strcspn(target, "?")] = '\0';
	snprintf(out, size, "%s", target);
}

/* The index of the first request to path. */
static size_t request_to(const char *path)
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

static void request_query(size_t i, char *out, size_t size)
{
	char target[2048] = "";
	sscanf(request(i), "%*s %2047s", target);
	char *q = strchr(target, '?');
	snprintf(out, size, "%s", q ? q + 1 : "");
}

/* A header's value ("" when absent). */
static void request_header(size_t i, const char *name, char *out, size_t size)
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

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* Decodes application/x-www-form-urlencoded pairs into ps, in order. */
static void form_decode(const char *s, struct twiml_params *ps)
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
static void request_params(size_t i, struct twiml_params *ps)
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
static const char *param(size_t i, const char *name)
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

static const char *url_of(const char *path)
{
	static char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", srv.port, path);
	return url;
}

/* ---- irisx: a core, its dialplan and the TwiML engine on one loop ---- */

static uv_loop_t loop;
static struct core *core;
static struct dialplan *dp;
static struct twiml *tw;
static struct twiml_settings set;
static char cache_dir[128];

static void spin_ms(uint64_t ms)
{
	uint64_t end = uv_now(&loop) + ms;
	do {
		uv_run(&loop, UV_RUN_NOWAIT);
		uv_sleep(1);
		uv_update_time(&loop);
	} while (uv_now(&loop) < end);
}

static void wait_requests(size_t n)
{
	for (int i = 0; i < 3000 && requests() < n; i++)
		spin_ms(1);
	assert_int_equal(requests(), n);
}

/* A core on cfg with its dialplan, and the application's server; nothing
 * listens unless the test starts the core. */
static int irisx_open(struct config *cfg)
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
	server_start();
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

static int setup(void **state)
{
	(void)state;
	char err[512];
	struct config *cfg = NULL;
	const char *vars[] = {"state_dir=/tmp", NULL};
	if (config_load(&cfg, SOURCE_DIR "/conf", vars, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	return irisx_open(cfg);
}

/* The engine with `set` as the test left it. */
static void engine_start(void)
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

static void shutdown_done_cb(void *arg)
{
	*(int *)arg = 1;
}

static int teardown(void **state)
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
	server_stop();
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", cache_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void app_done_cb(struct channel *ch, void *arg, int status)
{
	struct app_done *d = arg;
	d->calls++;
	d->status = status;
	d->up = channel_up(ch);
	d->cause = ch->cause;
}

static void wait_done(struct app_done *d)
{
	for (int i = 0; i < 3000 && d->calls == 0; i++)
		spin_ms(1);
	assert_int_equal(d->calls, 1);
}

/* An inbound leg (answered or still ringing) parked on the loop. */
static struct channel *leg(bool answered)
{
	struct channel *ch = test_leg(core, "call", "+15551230000", "+15559870000", 101);
	ch->answered = answered;
	core__channel_schedule(ch);
	for (int i = 0; i < 100 && ch->state != CS_PARK; i++)
		spin_ms(1);
	assert_int_equal(ch->state, CS_PARK);
	return ch;
}

/* Runs `webhook <data>` on ch: the application is pending. */
static void webhook(struct channel *ch, const char *data, struct app_done *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(dialplan_app_execute(dp, ch, "webhook", data, app_done_cb, d),
			 DIALPLAN_APP_PENDING);
	assert_int_equal(d->calls, 0);
}

static void webhook_path(struct channel *ch, const char *path, struct app_done *d)
{
	webhook(ch, url_of(path), d);
}

/* The done callback ran once and stays that way; the engine lets go. */
static void assert_over(struct app_done *d)
{
	spin_ms(100);
	assert_int_equal(d->calls, 1);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.active, 0);
}

/* ---- the first request ---- */

static void test_first_request(void **state)
{
	engine_start();
	route_doc("/voice", "<Response><Hangup/></Response>");
	struct channel *ch = leg(false);
	ch->caller_id_name = "Alice Liddell";
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	webhook_path(ch, "/voice", &d);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_false(d.up);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_over(&d);
	assert_int_equal(requests(), 1);

	char s[512];
	request_method(0, s, sizeof(s));
	assert_string_equal(s, "POST");
	request_path(0, s, sizeof(s));
	assert_string_equal(s, "/voice");
	request_header(0, "Content-Type", s, sizeof(s));
	assert_string_equal(s, "application/x-www-form-urlencoded");
	assert_string_equal(param(0, "CallSid"), uuid);
	assert_string_equal(param(0, "AccountSid"), ACCOUNT);
	assert_string_equal(param(0, "From"), "+15551230000");
	assert_string_equal(param(0, "To"), "+15559870000");
	assert_string_equal(param(0, "Caller"), "+15551230000");
	assert_string_equal(param(0, "Called"), "+15559870000");
	assert_string_equal(param(0, "CallerName"), "Alice Liddell");
	assert_string_equal(param(0, "Direction"), "inbound");
	assert_string_equal(param(0, "CallStatus"), "ringing");
	assert_string_equal(param(0, "ApiVersion"), "2010-04-01");
	assert_string_equal(param(0, "Digits"), "(none)");

	/* The signature, as the application checks it: over the URL and the
	 * parameters it received; a wrong key does not match it. */
	struct twiml_params ps;
	char sig[29], header[64];
	twiml_params_init(&ps);
	request_params(0, &ps);
	request_header(0, "X-Twilio-Signature", header, sizeof(header));
	assert_int_equal(twiml_signature(TOKEN, url_of("/voice"), &ps, sig), 0);
	assert_string_equal(header, sig);
	assert_int_equal(twiml_signature("another key", url_of("/voice"), &ps, sig), 0);
	assert_string_not_equal(header, sig);
	twiml_params_fini(&ps);

	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.failures, 0);
}

/* Bad data never reaches the network. */
static void test_bad_data(void **state)
{
	engine_start();
	struct channel *ch = leg(true);
	struct app_done d = {0};
	assert_int_equal(
	    dialplan_app_execute(dp, ch, "webhook", "ftp://127.0.0.1/x", app_done_cb, &d), -EINVAL);
	assert_int_equal(
	    dialplan_app_execute(dp, ch, "webhook", "http://127.0.0.1/x PUT", app_done_cb, &d),
	    -EINVAL);
	assert_int_equal(dialplan_app_execute(dp, ch, "webhook", "", app_done_cb, &d), -EINVAL);
	spin_ms(50);
	assert_int_equal(d.calls, 0);
	assert_int_equal(requests(), 0);
	assert_true(channel_up(ch));
}

/* Over before it started (max-requests 0: no document may be fetched): the
 * application says so at once and its done callback never runs. */
static void test_over_at_once(void **state)
{
	set.max_requests = 0;
	engine_start();
	struct channel *ch = leg(true);
	struct app_done d = {0};
	assert_int_equal(dialplan_app_execute(dp, ch, "webhook", url_of("/voice"), app_done_cb, &d),
			 DIALPLAN_APP_STOP);
	assert_int_equal(ch->cause, CAUSE_NORMAL_CLEARING);
	spin_ms(100);
	assert_int_equal(d.calls, 0);
	assert_int_equal(requests(), 0);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.active, 0);
}

/* ---- the caller hangs up while the application thinks ---- */

static void test_hangup_in_flight(void **state)
{
	engine_start();
	route("/think", ANSWER_NEVER, NULL, NULL, 0);
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/think", &d);
	wait_requests(1);
	spin_ms(20);
	assert_int_equal(d.calls, 0);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.active, 1);

	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_false(d.up);
	/* the request was cancelled: the server sees the connection close, long
	 * before timeout-ms */
	for (int i = 0; i < 1000 && peers_closed() == 0; i++)
		spin_ms(1);
	assert_int_equal(peers_closed(), 1);
	assert_over(&d);
	assert_int_equal(requests(), 1);
	twiml_stats_get(tw, &st);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.fallbacks, 0);
}

/* A late answer never reaches a call that hung up meanwhile. */
static void test_hangup_before_late_answer(void **state)
{
	engine_start();
	route("/late", ANSWER_DOC, NULL, "<Response><Redirect>/again</Redirect></Response>", 400);
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/late", &d);
	wait_requests(1);
	channel_hangup(ch, CAUSE_ORIGINATOR_CANCEL);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_ORIGINATOR_CANCEL);
	spin_ms(500);
	assert_int_equal(d.calls, 1);
	assert_int_equal(requests(), 1); /* no /again */
	assert_int_equal(peers_closed(), 1);
	assert_over(&d);
}

/* ---- Redirect ---- */

static void test_redirect_loop(void **state)
{
	set.max_requests = 5;
	engine_start();
	route_doc("/loop", "<Response><Redirect>loop</Redirect><Say>never</Say></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/loop", &d);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_over(&d);
	assert_int_equal(requests(), 5);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.requests, 5);
}

/* Relative URLs resolve against the document's URL; a GET carries the
 * parameters in its query and is signed over the whole URL; the document
 * it returns resolves against its URL without our query. */
static void test_redirect_relative_and_get(void **state)
{
	engine_start();
	route_doc("/app/start",
		  "<Response><Redirect method=\"GET\">next?step=2</Redirect></Response>");
	route_doc("/app/next", "<Response><Redirect>../done</Redirect></Response>");
	route_doc("/done", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	webhook_path(ch, "/app/start", &d);
	wait_done(&d);
	assert_over(&d);
	assert_int_equal(requests(), 3);

	char s[4096];
	request_method(1, s, sizeof(s));
	assert_string_equal(s, "GET");
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/app/next");
	assert_string_equal(param(1, "step"), "2");
	assert_string_equal(param(1, "CallSid"), uuid);
	assert_string_equal(param(1, "CallStatus"), "in-progress");
	request_header(1, "Content-Length", s, sizeof(s));
	assert_true(s[0] == '\0' || strcmp(s, "0") == 0);
	char url[4096 + 256], sig[29], header[64];
	request_query(1, s, sizeof(s));
	snprintf(url, sizeof(url), "%s?%s", url_of("/app/next"), s);
	assert_int_equal(twiml_signature(TOKEN, url, NULL, sig), 0);
	request_header(1, "X-Twilio-Signature", header, sizeof(header));
	assert_string_equal(header, sig);

	request_method(2, s, sizeof(s));
	assert_string_equal(s, "POST");
	request_path(2, s, sizeof(s));
	assert_string_equal(s, "/done");
	request_query(2, s, sizeof(s));
	assert_string_equal(s, "");
}

/* `webhook <url> GET`: the first request is a GET too. */
static void test_first_get(void **state)
{
	engine_start();
	route_doc("/voice", "<Response/>");
	struct channel *ch = leg(true);
	struct app_done d;
	char data[300];
	snprintf(data, sizeof(data), "%s get", url_of("/voice"));
	webhook(ch, data, &d);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING); /* the end of the document */
	assert_over(&d);
	char s[64];
	request_method(0, s, sizeof(s));
	assert_string_equal(s, "GET");
	assert_string_equal(param(0, "From"), "+15551230000");
}

/* ---- failures ---- */

static void test_fallback_on_500(void **state)
{
	snprintf(set.fallback_url, sizeof(set.fallback_url), "%s", url_of("/fallback"));
	engine_start();
	route("/broken", ANSWER_STATUS, "500 Internal Server Error", "oops", 0);
	route_doc("/fallback", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/broken", &d);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING); /* the fallback's Hangup */
	assert_over(&d);
	assert_int_equal(requests(), 2);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/fallback");
	request_method(1, s, sizeof(s));
	assert_string_equal(s, "POST");
	assert_string_equal(param(1, "ErrorCode"), "11200");
	assert_string_equal(param(1, "ErrorUrl"), url_of("/broken"));
	assert_string_equal(param(0, "ErrorCode"), "(none)");
	/* the fallback's request is signed over its own URL */
	struct twiml_params ps;
	char sig[29], header[64];
	twiml_params_init(&ps);
	request_params(1, &ps);
	assert_int_equal(twiml_signature(TOKEN, url_of("/fallback"), &ps, sig), 0);
	twiml_params_fini(&ps);
	request_header(1, "X-Twilio-Signature", header, sizeof(header));
	assert_string_equal(header, sig);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.fallbacks, 1);
}

static void test_fallback_on_garbage(void **state)
{
	snprintf(set.fallback_url, sizeof(set.fallback_url), "%s", url_of("/fallback"));
	engine_start();
	route_doc("/garbage", "this is <not> TwiML &&&");
	route_doc("/fallback", "<html><body>Not found</body></html>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/garbage", &d);
	wait_done(&d);
	/* garbage → the fallback, whose document has another root: no second
	 * fallback for the fallback's own request; the call hangs up */
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/fallback");
	assert_string_equal(param(1, "ErrorCode"), "12100");
	assert_string_equal(param(1, "ErrorUrl"), url_of("/garbage"));
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.fallbacks, 1);
}

/* A fallback document that works is a document as any: a failure after it
 * goes to the fallback again, until max-requests. */
static void test_fallback_then_failure(void **state)
{
	set.max_requests = 4;
	snprintf(set.fallback_url, sizeof(set.fallback_url), "%s", url_of("/fallback"));
	engine_start();
	route_doc("/garbage", "<Response><Say>unclosed</Response>");
	route_doc("/fallback", "<Response><Redirect>/garbage</Redirect></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/garbage", &d);
	wait_done(&d);
	assert_over(&d);
	assert_int_equal(requests(), 4);
	const char *want[] = {"/garbage", "/fallback", "/garbage", "/fallback"};
	for (size_t i = 0; i < 4; i++) {
		char s[256];
		request_path(i, s, sizeof(s));
		assert_string_equal(s, want[i]);
	}
	assert_string_equal(param(3, "ErrorCode"), "12100");
	/* the 4th document would be the 5th request: over */
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
}

static void test_fallback_on_timeout(void **state)
{
	set.timeout_ms = 300;
	snprintf(set.fallback_url, sizeof(set.fallback_url), "%s", url_of("/fallback"));
	engine_start();
	route("/slow", ANSWER_NEVER, NULL, NULL, 0);
	route_doc("/fallback", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	uint64_t start = uv_hrtime();
	webhook_path(ch, "/slow", &d);
	wait_requests(2);
	uint64_t ms = (uv_hrtime() - start) / 1000000;
	assert_true(ms >= 290);
	assert_true(ms < 1500);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_over(&d);
	assert_int_equal(peers_closed(), 1); /* the timed-out request let go */
	assert_string_equal(param(1, "ErrorCode"), "11200");
	assert_string_equal(param(1, "ErrorUrl"), url_of("/slow"));
}

/* No fallback URL: the call hangs up at once. */
static void test_no_fallback(void **state)
{
	engine_start();
	route("/broken", ANSWER_STATUS, "503 Service Unavailable", "", 0);
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/broken", &d);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_over(&d);
	assert_int_equal(requests(), 1);
	struct twiml_stats st;
	twiml_stats_get(tw, &st);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.fallbacks, 0);
}

/* The fallback fails too: its own failure does not go to the fallback. */
static void test_fallback_fails(void **state)
{
	snprintf(set.fallback_url, sizeof(set.fallback_url), "%s", url_of("/fallback"));
	engine_start();
	route("/broken", ANSWER_STATUS, "500 Internal Server Error", "", 0);
	route("/fallback", ANSWER_STATUS, "500 Internal Server Error", "", 0);
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/broken", &d);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_over(&d);
	assert_int_equal(requests(), 2);
}

/* A connection refused is a failed request as well (11200). */
static void test_refused(void **state)
{
	snprintf(set.fallback_url, sizeof(set.fallback_url), "%s", url_of("/fallback"));
	engine_start();
	route_doc("/fallback", "<Response><Hangup/></Response>");
	/* a port nobody listens on: bound, never listening */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &len);
	char data[128];
	snprintf(data, sizeof(data), "http://127.0.0.1:%u/voice", ntohs(a.sin_port));
	struct channel *ch = leg(true);
	struct app_done d;
	webhook(ch, data, &d);
	wait_done(&d);
	close(s);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_over(&d);
	assert_int_equal(requests(), 1);
	assert_string_equal(param(0, "ErrorCode"), "11200");
	assert_string_equal(param(0, "ErrorUrl"), data);
}

/* With a fallback prompt the caller hears it before the hangup. */
static void test_fallback_prompt(void **state)
{
	snprintf(set.fallback_prompt, sizeof(set.fallback_prompt), "silence_stream://400");
	engine_start();
	route("/broken", ANSWER_STATUS, "500 Internal Server Error", "", 0);
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/broken", &d);
	wait_requests(1);
	uint64_t start = uv_hrtime();
	wait_done(&d);
	uint64_t ms = (uv_hrtime() - start) / 1000000;
	assert_true(ms >= 350);
	assert_int_equal(d.cause, CAUSE_NORMAL_TEMPORARY_FAILURE);
	assert_over(&d);
}

/* ---- Gather ---- */

static void test_gather_digits(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather action=\"/menu/choice\" timeout=\"3\"/>"
			   "<Say>not reached</Say></Response>");
	route_doc("/menu/choice", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/menu", &d);
	wait_requests(1);
	spin_ms(100);
	assert_int_equal(d.calls, 0);
	channel_dtmf_receive(ch, '4', 100, CORE_DTMF_RTP);
	spin_ms(20);
	channel_dtmf_receive(ch, '2', 100, CORE_DTMF_RTP);
	spin_ms(20);
	channel_dtmf_receive(ch, '#', 100, CORE_DTMF_RTP);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/menu/choice");
	assert_string_equal(param(1, "Digits"), "42");
	assert_string_equal(param(1, "FinishedOnKey"), "#");
	assert_string_equal(param(1, "CallStatus"), "in-progress");
}

/* A digit stops Gather's prompts (barge-in) and is the first collected;
 * the prompts after it do not play. */
static void test_gather_barge_in(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather numDigits=\"2\" action=\"/choice\">"
			   "<Play>silence_stream://5000</Play><Pause length=\"5\"/></Gather>"
			   "</Response>");
	route_doc("/choice", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/menu", &d);
	wait_requests(1);
	spin_ms(200);
	uint64_t start = uv_hrtime();
	channel_dtmf_receive(ch, '7', 100, CORE_DTMF_RTP);
	spin_ms(100);
	channel_dtmf_receive(ch, '3', 100, CORE_DTMF_RTP);
	wait_done(&d);
	assert_true((uv_hrtime() - start) / 1000000 < 2000);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	assert_string_equal(param(1, "Digits"), "73");
}

/* numDigits reached: no FinishedOnKey; no action: the document's own URL. */
static void test_gather_num_digits(void **state)
{
	engine_start();
	route_doc("/pin", "<Response><Gather numDigits=\"3\" method=\"GET\"/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/pin", &d);
	wait_requests(1);
	spin_ms(50);
	channel_dtmf_receive(ch, '9', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(ch, '8', 100, CORE_DTMF_RTP);
	channel_dtmf_receive(ch, '7', 100, CORE_DTMF_RTP);
	wait_requests(2);
	char s[256];
	request_method(1, s, sizeof(s));
	assert_string_equal(s, "GET");
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/pin");
	assert_string_equal(param(1, "Digits"), "987");
	assert_string_equal(param(1, "FinishedOnKey"), "(none)");
	/* the same document again: the caller hangs up in its Gather */
	spin_ms(50);
	assert_int_equal(d.calls, 0);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_done(&d);
	assert_over(&d);
	assert_int_equal(requests(), 2);
}

/* A document fetched by GET from a URL with a query of its own: a Gather
 * without action asks that URL again, with the parameters once. */
static void test_gather_get_own_query(void **state)
{
	engine_start();
	route_doc("/pin", "<Response><Gather numDigits=\"1\" method=\"GET\"/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	char data[300];
	snprintf(data, sizeof(data), "%s GET", url_of("/pin?lang=fr"));
	webhook(ch, data, &d);
	wait_requests(1);
	spin_ms(50);
	channel_dtmf_receive(ch, '5', 100, CORE_DTMF_RTP);
	wait_requests(2);
	char q[4096];
	request_query(1, q, sizeof(q));
	assert_int_equal(strncmp(q, "lang=fr&", 8), 0);
	assert_null(strstr(q + 1, "lang=fr"));
	char *sid = strstr(q, "CallSid=");
	assert_non_null(sid);
	assert_null(strstr(sid + 1, "CallSid="));
	assert_string_equal(param(1, "Digits"), "5");
	/* signed over the URL as sent */
	char url[4096 + 256], sig[29], header[64];
	snprintf(url, sizeof(url), "%s?%s", url_of("/pin"), q);
	assert_int_equal(twiml_signature(TOKEN, url, NULL, sig), 0);
	request_header(1, "X-Twilio-Signature", header, sizeof(header));
	assert_string_equal(header, sig);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_done(&d);
	assert_over(&d);
}

static void test_gather_nothing(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather timeout=\"1\" action=\"/choice\"/>"
			   "<Redirect>/nothing</Redirect></Response>");
	route_doc("/nothing", "<Response><Reject reason=\"busy\"/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	uint64_t start = uv_hrtime();
	webhook_path(ch, "/menu", &d);
	wait_requests(2);
	uint64_t ms = (uv_hrtime() - start) / 1000000;
	assert_true(ms >= 950);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/nothing"); /* not /choice */
	assert_string_equal(param(1, "Digits"), "(none)");
	wait_done(&d);
	/* Reject on an answered call: a hangup with the reason's cause */
	assert_int_equal(d.cause, CAUSE_USER_BUSY);
	assert_over(&d);
}

/* actionOnEmptyResult: the action is requested with empty Digits. */
static void test_gather_empty_result(void **state)
{
	engine_start();
	route_doc("/menu", "<Response><Gather timeout=\"1\" actionOnEmptyResult=\"true\" "
			   "action=\"/choice\"/></Response>");
	route_doc("/choice", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/menu", &d);
	wait_done(&d);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/choice");
	assert_string_equal(param(1, "Digits"), "");
}

/* ---- the verbs that end a call ---- */

static void test_reject_unanswered(void **state)
{
	engine_start();
	route_doc("/no", "<Response><Reject/></Response>");
	route_doc("/busy", "<Response><Reject reason=\"busy\"/></Response>");
	struct channel *ch = leg(false);
	struct app_done d;
	webhook_path(ch, "/no", &d);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_int_equal(d.cause, CAUSE_CALL_REJECTED);
	assert_over(&d);
	assert_string_equal(param(0, "CallStatus"), "ringing");

	ch = leg(false);
	webhook_path(ch, "/busy", &d);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_USER_BUSY);
	assert_over(&d);
}

static void test_hangup_and_end(void **state)
{
	engine_start();
	route_doc("/hangup", "<Response><Hangup/><Redirect>/never</Redirect></Response>");
	route_doc("/end", "<Response><Pause length=\"0\"/></Response>");
	route_doc("/empty", "<Response></Response>");
	const char *paths[] = {"/hangup", "/end", "/empty"};
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		struct channel *ch = leg(true);
		struct app_done d;
		webhook_path(ch, paths[i], &d);
		wait_done(&d);
		assert_int_equal(d.status, 0);
		assert_false(d.up);
		assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
		assert_over(&d);
	}
	assert_int_equal(requests(), 3);
}

/* A Pause runs on the channel: the hangup during it ends the application. */
static void test_hangup_during_verb(void **state)
{
	engine_start();
	route_doc("/wait",
		  "<Response><Pause length=\"10\"/><Redirect>/never</Redirect></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/wait", &d);
	wait_requests(1);
	spin_ms(100);
	assert_int_equal(d.calls, 0);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_over(&d);
	assert_int_equal(requests(), 1);
}

/* uuid_break (the media stopped from outside) ends the flow with
 * -ECANCELED, while it waits for a document too. */
static void test_stopped_from_outside(void **state)
{
	engine_start();
	route("/think", ANSWER_NEVER, NULL, NULL, 0);
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/think", &d);
	wait_requests(1);
	spin_ms(20);
	channel_stop_media(ch);
	wait_done(&d);
	assert_int_equal(d.status, -ECANCELED);
	assert_true(d.up);
	for (int i = 0; i < 1000 && peers_closed() == 0; i++)
		spin_ms(1);
	assert_int_equal(peers_closed(), 1);
	assert_over(&d);
	assert_true(channel_up(ch));
}

/* At shutdown a call waiting for its document lets go of it. */
static void test_shutdown_in_flight(void **state)
{
	engine_start();
	route("/think", ANSWER_NEVER, NULL, NULL, 0);
	struct channel *ch = leg(true);
	static struct app_done d;
	webhook_path(ch, "/think", &d);
	wait_requests(1);
	/* teardown: core_shutdown hangs it up, the application ends once;
	 * ASan sees nothing left */
	at_shutdown = &d;
}

/* ---- Record ---- */

/* n 20 ms frames of 8 kHz audio at a constant level, as the caller says it */
static void caller_says(struct channel *ch, int frames, int16_t level)
{
	int16_t pcm[160];
	for (int i = 0; i < 160; i++)
		pcm[i] = (int16_t)(i % 2 ? level : -level);
	for (int i = 0; i < frames; i++)
		core__record_tap_rx(ch, pcm, 160, 8000);
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void test_record(void **state)
{
	snprintf(set.recording_url_base, sizeof(set.recording_url_base), "http://127.0.0.1/rec");
	engine_start();
	assert_int_equal(core_recordings_open(core, cache_dir), 0);
	route_doc("/msg", "<Response><Record playBeep=\"false\" timeout=\"2\" finishOnKey=\"#*\" "
			  "action=\"/recorded\"/></Response>");
	route_doc("/recorded", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	webhook_path(ch, "/msg", &d);
	wait_requests(1);
	spin_ms(50);
	caller_says(ch, 75, 3000); /* 1.5 s */
	spin_ms(20);
	channel_dtmf_receive(ch, '*', 100, CORE_DTMF_RTP);
	wait_done(&d);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	char want[256], path[512];
	snprintf(want, sizeof(want), "http://127.0.0.1/rec/twiml/%s-1.wav", uuid);
	assert_string_equal(param(1, "RecordingUrl"), want);
	assert_string_equal(param(1, "RecordingDuration"), "2"); /* 1.5 s, rounded */
	assert_string_equal(param(1, "Digits"), "*");
	char sid[40] = "RE";
	for (const char *p = uuid; *p; p++)
		if (*p != '-')
			sid[strlen(sid)] = *p;
	assert_string_equal(param(1, "RecordingSid"), sid);
	snprintf(path, sizeof(path), "%s/recordings/twiml/%s-1.wav", cache_dir, uuid);
	assert_true(file_exists(path));
}

/* A recording of nothing: no request, the next verb runs, no file kept. */
static void test_record_nothing(void **state)
{
	engine_start();
	assert_int_equal(core_recordings_open(core, cache_dir), 0);
	route_doc("/msg", "<Response><Record playBeep=\"false\" timeout=\"1\"/>"
			  "<Redirect>/nothing</Redirect></Response>");
	route_doc("/nothing", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	char uuid[UUID_STRLEN];
	memcpy(uuid, ch->uuid, sizeof(uuid));
	struct app_done d;
	uint64_t start = uv_hrtime();
	webhook_path(ch, "/msg", &d);
	wait_done(&d);
	assert_true((uv_hrtime() - start) / 1000000 >= 950);
	assert_over(&d);
	assert_int_equal(requests(), 2);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/nothing");
	assert_string_equal(param(1, "RecordingUrl"), "(none)");
	char path[512];
	snprintf(path, sizeof(path), "%s/recordings/twiml/%s-1.wav", cache_dir, uuid);
	for (int i = 0; i < 500 && file_exists(path); i++)
		spin_ms(1);
	assert_false(file_exists(path));
}

/* ---- Dial that cannot ring ---- */

/* No dial-gateway for a <Number>, a <Sip> that cannot be dialled: failed,
 * posted to the action; without action the next verb runs. */
static void test_dial_failed(void **state)
{
	engine_start();
	route_doc("/dial", "<Response><Dial action=\"/dialed\"><Number>+1 555 0100</Number>"
			   "<Sip>sip:a,b@127.0.0.1</Sip></Dial></Response>");
	route_doc("/dialed",
		  "<Response><Dial>+15550100</Dial><Redirect>/next</Redirect></Response>");
	route_doc("/next", "<Response><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/dial", &d);
	wait_done(&d);
	assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
	assert_over(&d);
	assert_int_equal(requests(), 3);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/dialed");
	assert_string_equal(param(1, "DialCallStatus"), "failed");
	assert_string_equal(param(1, "DialCallSid"), "(none)");
	assert_string_equal(param(1, "DialCallDuration"), "(none)");
	request_path(2, s, sizeof(s));
	assert_string_equal(s, "/next");
	assert_string_equal(param(2, "DialCallStatus"), "(none)");
}

/* ---- <Play> of URLs (audio.c) ---- */

static void wait_requests_to(const char *path, size_t n)
{
	for (int i = 0; i < 3000 && requests_to(path) < n; i++)
		spin_ms(1);
	assert_int_equal(requests_to(path), n);
}

/* Two calls asking for the same URL share one download; a later call plays
 * the cached file. */
static void test_play_cached(void **state)
{
	engine_start();
	route_audio("/audio/hello.wav", 300);
	route_doc("/play", "<Response><Play>audio/hello.wav</Play><Redirect>/played</Redirect>"
			   "</Response>");
	route_doc("/played", "<Response><Hangup/></Response>");
	struct channel *a = leg(true), *b = leg(true);
	struct app_done da, db;
	webhook_path(a, "/play", &da);
	webhook_path(b, "/play", &db);
	wait_done(&da);
	wait_done(&db);
	assert_over(&da);
	assert_over(&db);
	assert_int_equal(requests_to("/audio/hello.wav"), 1);
	assert_int_equal(requests_to("/played"), 2);
	/* fetched as the documents are, signed: a GET over the URL alone */
	size_t i = request_to("/audio/hello.wav");
	char s[256], sig[29];
	request_method(i, s, sizeof(s));
	assert_string_equal(s, "GET");
	assert_int_equal(twiml_signature(TOKEN, url_of("/audio/hello.wav"), NULL, sig), 0);
	request_header(i, "X-Twilio-Signature", s, sizeof(s));
	assert_string_equal(s, sig);

	/* from the cache: no download, and the 200 ms of audio play */
	struct channel *c = leg(true);
	struct app_done dc;
	uint64_t start = uv_hrtime();
	webhook_path(c, "/play", &dc);
	wait_done(&dc);
	assert_true((uv_hrtime() - start) / 1000000 >= 190);
	assert_over(&dc);
	assert_int_equal(requests_to("/audio/hello.wav"), 1);
	assert_int_equal(requests_to("/played"), 3);
}

/* A URL that cannot be had: the Play is skipped, the next verb runs; the
 * failure is not cached. */
static void test_play_missing(void **state)
{
	engine_start();
	route_doc("/play", "<Response><Play loop=\"3\">/missing.wav</Play>"
			   "<Redirect>/after</Redirect></Response>");
	route_doc("/after", "<Response><Hangup/></Response>");
	for (int round = 1; round <= 2; round++) {
		struct channel *ch = leg(true);
		struct app_done d;
		webhook_path(ch, "/play", &d);
		wait_done(&d);
		assert_int_equal(d.cause, CAUSE_NORMAL_CLEARING);
		assert_over(&d);
		assert_int_equal(requests_to("/missing.wav"), (size_t)round);
		assert_int_equal(requests_to("/after"), (size_t)round);
	}
}

/* The caller hangs up while the audio downloads: the application ends at
 * once; the download goes on for the calls to come, and the engine's end
 * cancels it. */
static void test_play_hangup_while_downloading(void **state)
{
	engine_start();
	route("/never.wav", ANSWER_NEVER, NULL, NULL, 0);
	route_doc("/play", "<Response><Play>/never.wav</Play><Hangup/></Response>");
	struct channel *ch = leg(true);
	struct app_done d;
	webhook_path(ch, "/play", &d);
	wait_requests_to("/never.wav", 1);
	spin_ms(20);
	assert_int_equal(d.calls, 0);
	channel_hangup(ch, CAUSE_NORMAL_CLEARING);
	wait_done(&d);
	assert_int_equal(d.status, 0);
	assert_over(&d);
	assert_int_equal(peers_closed(), 0);
	/* teardown: twiml_destroy cancels the download */
}

/* ---- a caller over SIP: what Reject and the answer put on the wire ---- */

static int far_sock = -1;
static uint16_t far_port, sip_port;
static char far_buf[65536];
static const char *sip_app_path; /* what the router runs `webhook` on */
static struct app_done sip_done;

/* The router of the SIP tests: the call parks and runs the application. */
static void sip_route_cb(void *arg, struct channel *ch)
{
	(void)arg;
	channel_execute(ch, NULL, NULL);
	channel_park(ch);
	memset(&sip_done, 0, sizeof(sip_done));
	int rc =
	    dialplan_app_execute(dp, ch, "webhook", url_of(sip_app_path), app_done_cb, &sip_done);
	assert_int_equal(rc, DIALPLAN_APP_PENDING);
}

static int setup_sip(void **state)
{
	char text[2048], err[512];
	far_sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t len = sizeof(a);
	if (bind(far_sock, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	getsockname(far_sock, (struct sockaddr *)&a, &len);
	far_port = ntohs(a.sin_port);
	/* a port for irisx: free a moment ago */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = 0;
	len = sizeof(a);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0)
		return -1;
	getsockname(s, (struct sockaddr *)&a, &len);
	sip_port = ntohs(a.sin_port);
	close(s);
	unsigned rtp = 42000 + (unsigned)(getpid() % 500) * 20;

	char *dir = tree_create();
	tree_write(dir, "freeswitch.xml", ROOT_XML);
	tree_write(dir, "vars.xml", "<include/>\n");
	snprintf(text, sizeof(text),
		 "<configuration name=\"switch.conf\"><settings>"
		 "<param name=\"rtp-start-port\" value=\"%u\"/>"
		 "<param name=\"rtp-end-port\" value=\"%u\"/>"
		 "</settings></configuration>\n",
		 rtp, rtp + 19);
	tree_write(dir, "autoload_configs/switch.conf.xml", text);
	snprintf(text, sizeof(text),
		 "<configuration name=\"sofia.conf\"><profiles><profile name=\"in\"><settings>"
		 "<param name=\"sip-ip\" value=\"127.0.0.1\"/>"
		 "<param name=\"sip-port\" value=\"%u\"/>"
		 "<param name=\"rtp-ip\" value=\"127.0.0.1\"/>"
		 "<param name=\"bind-params\" value=\"transport=udp\"/>"
		 "<param name=\"inbound-codec-prefs\" value=\"PCMU\"/>"
		 "</settings></profile></profiles></configuration>\n",
		 sip_port);
	tree_write(dir, "autoload_configs/sofia.conf.xml", text);
	struct config *cfg = NULL;
	int rc = load_logged(&cfg, dir, NULL, err, sizeof(err), NULL);
	tree_remove(dir);
	if (rc != 0) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	if (irisx_open(cfg) != 0 || core_start(core) != 0)
		return -1;
	core_set_router(core, &(struct core_router){.route_cb = sip_route_cb});
	return 0;
}

static int teardown_sip(void **state)
{
	int rc = teardown(state);
	close(far_sock);
	far_sock = -1;
	return rc;
}

static const char far_sdp[] = "v=0\r\n"
			      "o=- 1 1 IN IP4 127.0.0.1\r\n"
			      "s=-\r\n"
			      "c=IN IP4 127.0.0.1\r\n"
			      "t=0 0\r\n"
			      "m=audio 9 RTP/AVP 0 101\r\n"
			      "a=rtpmap:0 PCMU/8000\r\n"
			      "a=rtpmap:101 telephone-event/8000\r\n";

/* Sends an INVITE from +15551230000 to 5100 with Call-ID call_id. */
static void far_invite(const char *call_id)
{
	test_udp_sendf(far_sock, sip_port,
		       "INVITE sip:5100@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-%s\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Bob\" <sip:+15551230000@127.0.0.1:%u>;tag=far-%s\r\n"
		       "To: <sip:5100@127.0.0.1:%u>\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: 1 INVITE\r\n"
		       "Contact: <sip:far@127.0.0.1:%u>\r\n"
		       "Content-Type: application/sdp\r\n"
		       "Content-Length: %zu\r\n\r\n%s",
		       sip_port, far_port, call_id, far_port, call_id, sip_port, call_id, far_port,
		       strlen(far_sdp), far_sdp);
}

/* The next response with a final status (1xx skipped); its status. */
static unsigned far_final(struct sip_msg **out)
{
	for (;;) {
		struct sip_msg *m =
		    test_udp_recv_msg(&loop, far_sock, far_buf, sizeof(far_buf), 3000);
		assert_non_null(m);
		if (!m->is_request && m->status >= 200) {
			*out = m;
			return m->status;
		}
		sip_msg_unref(m);
	}
}

/* The ACK for a final response to far_invite(call_id). */
static void far_ack(const struct sip_msg *resp, const char *call_id, bool success)
{
	const struct sip_hdr *to = sip_msg_hdr(resp, SIP_HDR_TO);
	test_udp_sendf(far_sock, sip_port,
		       "ACK sip:5100@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-%s%s\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Bob\" <sip:+15551230000@127.0.0.1:%u>;tag=far-%s\r\n"
		       "To: %.*s\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: 1 ACK\r\n"
		       "Content-Length: 0\r\n\r\n",
		       sip_port, far_port, call_id, success ? "-ack" : "", far_port, call_id,
		       (int)to->value.len, to->value.p, call_id);
}

static void sip_wait_done(void)
{
	for (int i = 0; i < 3000 && sip_done.calls == 0; i++)
		spin_ms(1);
	assert_int_equal(sip_done.calls, 1);
}

static void test_sip_reject(void **state)
{
	engine_start();
	route_doc("/reject", "<Response><Reject/></Response>");
	sip_app_path = "/reject";
	far_invite("twexec-reject-1");
	struct sip_msg *resp;
	assert_int_equal(far_final(&resp), 603);
	far_ack(resp, "twexec-reject-1", false);
	sip_msg_unref(resp);
	sip_wait_done();
	assert_int_equal(sip_done.status, 0);
	assert_int_equal(sip_done.cause, CAUSE_CALL_REJECTED);
	assert_over(&sip_done);
	/* what the application was told of the ringing call */
	assert_int_equal(requests(), 1);
	assert_string_equal(param(0, "CallStatus"), "ringing");
	assert_string_equal(param(0, "SipCallId"), "twexec-reject-1");
	assert_string_equal(param(0, "From"), "+15551230000");
	assert_string_equal(param(0, "To"), "5100");
	assert_string_equal(param(0, "CallerName"), "Bob");
	assert_string_equal(param(0, "Direction"), "inbound");

	route_doc("/busy", "<Response><Reject reason=\"busy\"/></Response>");
	sip_app_path = "/busy";
	far_invite("twexec-reject-2");
	assert_int_equal(far_final(&resp), 486);
	far_ack(resp, "twexec-reject-2", false);
	sip_msg_unref(resp);
	sip_wait_done();
	assert_int_equal(sip_done.cause, CAUSE_USER_BUSY);
	assert_over(&sip_done);
}

/* A verb that needs audio answers the call first (200 OK with SDP); the
 * document's end hangs it up: a BYE. */
static void test_sip_answer_then_end(void **state)
{
	engine_start();
	route_doc("/pause", "<Response><Pause length=\"1\"/></Response>");
	sip_app_path = "/pause";
	uint64_t start = uv_hrtime();
	far_invite("twexec-answer-1");
	struct sip_msg *resp;
	assert_int_equal(far_final(&resp), 200);
	assert_true(resp->body.len > 0);
	far_ack(resp, "twexec-answer-1", true);
	sip_msg_unref(resp);
	sip_wait_done();
	assert_true((uv_hrtime() - start) / 1000000 >= 950);
	assert_int_equal(sip_done.cause, CAUSE_NORMAL_CLEARING);
	struct sip_msg *bye = NULL;
	for (int i = 0; i < 10 && !bye; i++) {
		struct sip_msg *m =
		    test_udp_recv_msg(&loop, far_sock, far_buf, sizeof(far_buf), 2000);
		assert_non_null(m);
		if (m->is_request && m->method == SIP_METHOD_BYE)
			bye = m;
		else
			sip_msg_unref(m);
	}
	assert_non_null(bye);
	sip_msg_unref(bye);
	assert_over(&sip_done);
}

/* The next request of `method` irisx sends to the far end on a call other
 * than A's (responses and other requests skipped). */
static struct sip_msg *far_request(enum sip_method method, const char *not_call_id)
{
	for (;;) {
		struct sip_msg *m =
		    test_udp_recv_msg(&loop, far_sock, far_buf, sizeof(far_buf), 3000);
		assert_non_null(m);
		if (m->is_request && m->method == method &&
		    !str_eq(m->call_id, str_from_cstr(not_call_id)))
			return m;
		sip_msg_unref(m);
	}
}

static void far_respond(const struct sip_msg *req, uint16_t status, const char *to_tag,
			const char *body)
{
	struct buf b;
	char extra[256];
	buf_init(&b);
	snprintf(extra, sizeof(extra), "Contact: <sip:b@127.0.0.1:%u>\r\n%s", far_port,
		 body ? "Content-Type: application/sdp\r\n" : "");
	sip_response_print(&b, req, status, NULL, to_tag, extra,
			   body ? str_from_cstr(body) : STR_NULL);
	test_udp_send(far_sock, sip_port, b.p, b.len);
	buf_fini(&b);
}

/* B hangs up the call irisx placed to it (inv), whose To tag is tag. */
static void far_bye_b(const struct sip_msg *inv, const char *tag)
{
	const struct sip_hdr *from = sip_msg_hdr(inv, SIP_HDR_FROM);
	test_udp_sendf(far_sock, sip_port,
		       "BYE sip:irisx@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-byeb\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: <%.*s>;tag=%s\r\n"
		       "To: %.*s\r\n"
		       "Call-ID: %.*s\r\n"
		       "CSeq: 1 BYE\r\n"
		       "Content-Length: 0\r\n\r\n",
		       sip_port, far_port, (int)inv->to.uri_str.len, inv->to.uri_str.p, tag,
		       (int)from->value.len, from->value.p, (int)inv->call_id.len, inv->call_id.p);
}

static char dial_doc[512];

/* A calls in; its document dials B at the far end, which answers `status`;
 * the action gets what became of it. */
static void sip_dial(const char *call_id, uint16_t status)
{
	snprintf(set.dial_profile, sizeof(set.dial_profile), "in");
	engine_start();
	snprintf(dial_doc, sizeof(dial_doc),
		 "<Response><Dial action=\"/dialed\" timeout=\"5\">"
		 "<Sip>sip:b@127.0.0.1:%u</Sip></Dial></Response>",
		 far_port);
	route_doc("/dial", dial_doc);
	route_doc("/dialed", "<Response><Hangup/></Response>");
	sip_app_path = "/dial";
	far_invite(call_id);
	struct sip_msg *resp;
	assert_int_equal(far_final(&resp), 200); /* A is answered: it hears the ringback */
	far_ack(resp, call_id, true);
	sip_msg_unref(resp);
	struct sip_msg *inv = far_request(SIP_METHOD_INVITE, call_id);
	char ruri[64];
	snprintf(ruri, sizeof(ruri), "sip:b@127.0.0.1:%u", far_port);
	assert_true(str_eq(inv->ruri_str, str_from_cstr(ruri)));
	spin_ms(50);
	assert_int_equal(sip_done.calls, 0);
	if (status != 200) {
		far_respond(inv, status, "b-tag", NULL);
	} else {
		far_respond(inv, 200, "b-tag", far_sdp);
		struct sip_msg *ack = far_request(SIP_METHOD_ACK, call_id);
		sip_msg_unref(ack);
		spin_ms(1100);
		assert_int_equal(sip_done.calls, 0); /* bridged */
		far_bye_b(inv, "b-tag");
	}
	sip_msg_unref(inv);
	sip_wait_done();
	assert_int_equal(sip_done.cause, CAUSE_NORMAL_CLEARING); /* /dialed hangs up */
	assert_over(&sip_done);
	assert_int_equal(requests(), 2);
	char s[256];
	request_path(1, s, sizeof(s));
	assert_string_equal(s, "/dialed");
}

static void test_sip_dial_busy(void **state)
{
	sip_dial("twexec-dial-busy", 486);
	assert_string_equal(param(1, "DialCallStatus"), "busy");
	assert_string_equal(param(1, "DialCallDuration"), "(none)");
}

static void test_sip_dial_completed(void **state)
{
	sip_dial("twexec-dial-ok", 200);
	assert_string_equal(param(1, "DialCallStatus"), "completed");
	/* about 1.1 s bridged, rounded; a loaded machine may stretch it */
	const char *duration = param(1, "DialCallDuration");
	assert_true(strcmp(duration, "1") == 0 || strcmp(duration, "2") == 0);
	char a_sid[64];
	snprintf(a_sid, sizeof(a_sid), "%s", param(1, "CallSid"));
	const char *b_sid = param(1, "DialCallSid");
	assert_int_equal(strlen(b_sid), UUID_STRLEN - 1);
	assert_string_not_equal(b_sid, a_sid);
}

/* A hangs up (BYE in the dialog its 200 OK made) while Dial rings B: the
 * application ends and B's INVITE is cancelled. */
static void test_sip_dial_caller_gone(void **state)
{
	const char *call_id = "twexec-dial-gone";
	snprintf(set.dial_profile, sizeof(set.dial_profile), "in");
	engine_start();
	snprintf(dial_doc, sizeof(dial_doc),
		 "<Response><Dial action=\"/dialed\"><Sip>sip:b@127.0.0.1:%u</Sip></Dial>"
		 "</Response>",
		 far_port);
	route_doc("/dial", dial_doc);
	route_doc("/dialed", "<Response><Hangup/></Response>");
	sip_app_path = "/dial";
	far_invite(call_id);
	struct sip_msg *ok;
	assert_int_equal(far_final(&ok), 200);
	far_ack(ok, call_id, true);
	struct sip_msg *inv = far_request(SIP_METHOD_INVITE, call_id);
	far_respond(inv, 180, "b-tag", NULL);
	spin_ms(50);
	const struct sip_hdr *to = sip_msg_hdr(ok, SIP_HDR_TO);
	test_udp_sendf(far_sock, sip_port,
		       "BYE sip:5100@127.0.0.1:%u SIP/2.0\r\n"
		       "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-byea\r\n"
		       "Max-Forwards: 70\r\n"
		       "From: \"Bob\" <sip:+15551230000@127.0.0.1:%u>;tag=far-%s\r\n"
		       "To: %.*s\r\n"
		       "Call-ID: %s\r\n"
		       "CSeq: 2 BYE\r\n"
		       "Content-Length: 0\r\n\r\n",
		       sip_port, far_port, far_port, call_id, (int)to->value.len, to->value.p,
		       call_id);
	sip_msg_unref(ok);
	struct sip_msg *cancel = far_request(SIP_METHOD_CANCEL, call_id);
	assert_true(str_eq(cancel->call_id, inv->call_id));
	far_respond(cancel, 200, "b-tag", NULL);
	far_respond(inv, 487, "b-tag", NULL);
	sip_msg_unref(cancel);
	sip_msg_unref(inv);
	sip_wait_done();
	assert_int_equal(sip_done.status, 0);
	assert_false(sip_done.up);
	assert_int_equal(sip_done.cause, CAUSE_NORMAL_CLEARING);
	spin_ms(200);
	assert_over(&sip_done);
	assert_int_equal(requests(), 1); /* no /dialed */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	assert_int_equal(twiml_app_register(), 0);
	assert_int_equal(twiml_app_register(), 0); /* again: nothing changes */
	const struct CMUnitTest tests[] = {
	    T(test_first_request),
	    T(test_bad_data),
	    T(test_over_at_once),
	    T(test_hangup_in_flight),
	    T(test_hangup_before_late_answer),
	    T(test_redirect_loop),
	    T(test_redirect_relative_and_get),
	    T(test_first_get),
	    T(test_fallback_on_500),
	    T(test_fallback_on_garbage),
	    T(test_fallback_then_failure),
	    T(test_fallback_on_timeout),
	    T(test_no_fallback),
	    T(test_fallback_fails),
	    T(test_refused),
	    T(test_fallback_prompt),
	    T(test_gather_digits),
	    T(test_gather_barge_in),
	    T(test_gather_num_digits),
	    T(test_gather_get_own_query),
	    T(test_gather_nothing),
	    T(test_gather_empty_result),
	    T(test_reject_unanswered),
	    T(test_hangup_and_end),
	    T(test_hangup_during_verb),
	    T(test_stopped_from_outside),
	    T(test_shutdown_in_flight),
	    T(test_record),
	    T(test_record_nothing),
	    T(test_dial_failed),
	    T(test_play_cached),
	    T(test_play_missing),
	    T(test_play_hangup_while_downloading),
	    cmocka_unit_test_setup_teardown(test_sip_reject, setup_sip, teardown_sip),
	    cmocka_unit_test_setup_teardown(test_sip_answer_then_end, setup_sip, teardown_sip),
	    cmocka_unit_test_setup_teardown(test_sip_dial_busy, setup_sip, teardown_sip),
	    cmocka_unit_test_setup_teardown(test_sip_dial_completed, setup_sip, teardown_sip),
	    cmocka_unit_test_setup_teardown(test_sip_dial_caller_gone, setup_sip, teardown_sip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
