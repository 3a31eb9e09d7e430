/*
 * The Event Socket over real loopback TCP: a non-blocking client speaks to
 * an esl server on a libuv loop that the test pumps while it waits for
 * frames. The bus and command registry are the small fake in
 * test_control_esl_fake.h.
 */
#include "test_control_esl_fake.h"

#include "control/control.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

static const char PASSWORD[] = "s3cret-pw";

struct fixture {
	uv_loop_t loop;
	struct esl *esl;
	uint16_t port;
};

struct client {
	int fd;
	struct fixture *fx;
	char buf[1 << 20];
	size_t len;
	bool eof;
};

struct frame {
	char head[4096]; /* header lines, NUL-terminated */
	char *body;	 /* malloc'd, NUL-terminated ("" when none) */
	size_t body_len;
};

static int setup_with(void **state, const char *acl, uint32_t queue_max)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct esl_settings s = {.listen_ip = "127.0.0.1", .listen_port = 0};
	snprintf(s.password, sizeof(s.password), "%s", PASSWORD);
	if (acl)
		snprintf(s.inbound_acl, sizeof(s.inbound_acl), "%s", acl);
	s.queue_max = queue_max;
	fake_reset();
	uv_loop_init(&fx->loop);
	assert_int_equal(esl_create(&fx->esl, &fx->loop, NULL, (struct dialplan *)&fake, &s), 0);
	fx->port = esl_port(fx->esl);
	assert_true(fx->port > 0);
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NULL, 1000);
}

static int setup_denied(void **state)
{
	return setup_with(state, "10.0.0.0/8", 1000);
}

static int setup_small_queue(void **state)
{
	return setup_with(state, NULL, 50);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	esl_destroy(fx->esl);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	free(fx);
	fake_reset();
	return 0;
}

static void pump(struct fixture *fx)
{
	uv_run(&fx->loop, UV_RUN_NOWAIT);
}

static void pump_turns(struct fixture *fx, int turns)
{
	for (int i = 0; i < turns; i++)
		pump(fx);
}

static struct client *client_open(struct fixture *fx)
{
	struct client *c = calloc(1, sizeof(*c));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(fx->port)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	c->fx = fx;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);
	int rc = connect(c->fd, (struct sockaddr *)&sin, sizeof(sin));
	assert_true(rc == 0 || errno == EINPROGRESS);
	return c;
}

static void client_close(struct client *c)
{
	close(c->fd);
	pump(c->fx);
	free(c);
}

static void client_send(struct client *c, const char *s)
{
	size_t len = strlen(s), off = 0;
	uint64_t until = clock_now_ms() + 2000;
	while (off < len && clock_now_ms() < until) {
		ssize_t n = send(c->fd, s + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		pump(c->fx);
	}
	assert_int_equal(off, len);
	pump(c->fx);
}

/* Reads what is there (non-blocking), pumping the server's loop. */
static void client_poll(struct client *c)
{
	pump(c->fx);
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK)
		c->eof = true;
	if (n <= 0) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		poll(&p, 1, 1);
	}
}

/* Cuts one server frame from the client's buffer; false when incomplete. */
static bool frame_take(struct client *c, struct frame *f)
{
	char *end = memmem(c->buf, c->len, "\n\n", 2);
	if (!end)
		return false;
	size_t hlen = (size_t)(end - c->buf) + 1;
	assert_true(hlen < sizeof(f->head));
	size_t body_len = 0;
	memcpy(f->head, c->buf, hlen);
	f->head[hlen] = '\0';
	const char *cl = strstr(f->head, "Content-Length: ");
	if (cl)
		body_len = strtoul(cl + 16, NULL, 10);
	size_t total = hlen + 1 + body_len;
	if (c->len < total)
		return false;
	f->body = malloc(body_len + 1);
	memcpy(f->body, c->buf + hlen + 1, body_len);
	f->body[body_len] = '\0';
	f->body_len = body_len;
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
	return true;
}

static void frame_read(struct client *c, struct frame *f)
{
	uint64_t until = clock_now_ms() + 3000;
	while (!frame_take(c, f)) {
		assert_false(c->eof);
		assert_true(clock_now_ms() < until);
		client_poll(c);
	}
}

/* True when no complete frame arrives within ms. */
static bool frame_none(struct client *c, unsigned ms)
{
	struct frame f;
	uint64_t until = clock_now_ms() + ms;
	while (clock_now_ms() < until) {
		client_poll(c);
		if (frame_take(c, &f)) {
			free(f.body);
			return false;
		}
	}
	return true;
}

static void expect_eof(struct client *c)
{
	uint64_t until = clock_now_ms() + 3000;
	while (!c->eof && clock_now_ms() < until)
		client_poll(c);
	assert_true(c->eof);
}

static void expect_head(struct client *c, const char *head)
{
	struct frame f;
	frame_read(c, &f);
	assert_string_equal(f.head, head);
	free(f.body);
}

/* One frame whose head and body are exactly these. */
static void expect_frame(struct client *c, const char *head, const char *body)
{
	struct frame f;
	frame_read(c, &f);
	assert_string_equal(f.head, head);
	assert_string_equal(f.body, body);
	free(f.body);
}

static void expect_reply(struct client *c, const char *text)
{
	char head[512];
	snprintf(head, sizeof(head), "Content-Type: command/reply\nReply-Text: %s\n", text);
	expect_head(c, head);
}

static void expect_api(struct client *c, const char *body)
{
	struct frame f;
	frame_read(c, &f);
	assert_non_null(strstr(f.head, "Content-Type: api/response\n"));
	assert_string_equal(f.body, body);
	free(f.body);
}

/* The disconnect notice, then the server closing the connection; returns the
 * length of the notice's body. */
static size_t expect_disconnect(struct client *c)
{
	struct frame f;
	frame_read(c, &f);
	assert_non_null(strstr(f.head, "Content-Type: text/disconnect-notice\n"));
	size_t body_len = f.body_len;
	free(f.body);
	expect_eof(c);
	return body_len;
}

static void expect_reply_prefix(struct client *c, const char *prefix)
{
	struct frame f;
	char head[512];
	frame_read(c, &f);
	snprintf(head, sizeof(head), "Content-Type: command/reply\nReply-Text: %s", prefix);
	assert_true(strncmp(f.head, head, strlen(head)) == 0);
	free(f.body);
}

/* Sends one command (adding the blank line that ends it) and reads its reply. */
static void command(struct client *c, const char *cmd, const char *reply)
{
	char frame[512];
	int n = snprintf(frame, sizeof(frame), "%s\n\n", cmd);
	assert_true(n > 0 && (size_t)n < sizeof(frame));
	client_send(c, frame);
	expect_reply(c, reply);
}

static void subscribe_plain(struct client *c, const char *events)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "event plain %s", events);
	command(c, cmd, "+OK event listener enabled plain");
}

/* A connection that has read the greeting, before any auth. */
static struct client *client_greeted(struct fixture *fx)
{
	struct client *c = client_open(fx);
	expect_head(c, "Content-Type: auth/request\n");
	return c;
}

static struct client *client_authed(struct fixture *fx)
{
	struct client *c = client_greeted(fx);
	command(c, "auth s3cret-pw", "+OK accepted");
	return c;
}

/* The value of header `name` in a text/event-plain body, copied into out. */
static const char *event_header(const struct frame *f, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	for (const char *p = f->body; p && *p && *p != '\n';
	     p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ':' && p[nl + 1] == ' ') {
			size_t n = strcspn(p + nl + 2, "\n");
			snprintf(out, size, "%.*s", (int)n, p + nl + 2);
			return out;
		}
	}
	return NULL;
}

static void fire(const char *name, const char *subclass, const char *uuid, const char *color)
{
	struct core_event *ev = NULL;
	assert_int_equal(core_event_create(&ev, name, subclass), 0);
	if (uuid)
		core_event_add_header(ev, "Unique-ID", "%s", uuid);
	if (color)
		core_event_add_header(ev, "Color", "%s", color);
	core_event_fire(NULL, ev);
}

/* Reads one event frame and returns its Event-Name (and Color in color). */
static void expect_event(struct client *c, const char *name, const char *color)
{
	struct frame f;
	char v[256];
	frame_read(c, &f);
	assert_non_null(strstr(f.head, "Content-Type: text/event-plain\n"));
	assert_string_equal(event_header(&f, "Event-Name", v, sizeof(v)), name);
	if (color)
		assert_string_equal(event_header(&f, "Color", v, sizeof(v)), color);
	free(f.body);
}

/* One event, and no other behind it. */
static void expect_last_event(struct client *c, const char *name, const char *color)
{
	expect_event(c, name, color);
	assert_true(frame_none(c, 50));
}

/* An authenticated connection that receives BACKGROUND_JOB events. */
static struct client *client_job_listener(struct fixture *fx)
{
	struct client *c = client_authed(fx);
	subscribe_plain(c, "BACKGROUND_JOB");
	return c;
}

/* A bgapi with the given Job-UUID and an api behind it in the same packet:
 * both replies come at once, in order, before the job has finished. */
static void bgapi_then_api(struct client *c, const char *cmd, const char *job_uuid)
{
	char frame[512], head[512];
	snprintf(frame, sizeof(frame), "bgapi %s\nJob-UUID: %s\n\napi echo now\n\n", cmd, job_uuid);
	client_send(c, frame);
	snprintf(head, sizeof(head),
		 "Content-Type: command/reply\nReply-Text: +OK Job-UUID: %s\nJob-UUID: %s\n",
		 job_uuid, job_uuid);
	expect_head(c, head);
	expect_api(c, "now");
}

/* A bgapi that leaves the Job-UUID to the server, which names one in its reply. */
static void bgapi_without_uuid(struct client *c, const char *cmd)
{
	char frame[256];
	snprintf(frame, sizeof(frame), "bgapi %s\n\n", cmd);
	client_send(c, frame);
	expect_reply_prefix(c, "+OK Job-UUID: ");
}

/* The BACKGROUND_JOB event of a finished job: what ran and what it answered. */
static void expect_job_event(struct client *c, const char *job_uuid, const char *cmd,
			     const char *arg, const char *output)
{
	struct frame f;
	char v[128], tail[128];
	frame_read(c, &f);
	assert_string_equal(event_header(&f, "Event-Name", v, sizeof(v)), "BACKGROUND_JOB");
	assert_string_equal(event_header(&f, "Job-UUID", v, sizeof(v)), job_uuid);
	assert_string_equal(event_header(&f, "Job-Command", v, sizeof(v)), cmd);
	assert_string_equal(event_header(&f, "Job-Command-Arg", v, sizeof(v)), arg);
	snprintf(tail, sizeof(tail), "Content-Length: %zu\n\n%s", strlen(output), output);
	assert_non_null(strstr(f.body, tail));
	free(f.body);
}

/* ---- tests ---- */

static void test_greeting_and_auth(void **state)
{
	struct client *c = client_authed(*state);
	client_send(c, "api status\n\n");
	expect_frame(c, "Content-Type: api/response\nContent-Length: 19\n", "UP 0 years, 0 days\n");
	command(c, "no_such_thing", "-ERR command not found");
	command(c, "exit", "+OK bye");
	expect_disconnect(c);
	client_close(c);
}

static void destroy_cb(void *arg)
{
	struct fixture *fx = arg;
	esl_destroy(fx->esl);
}

/* The server destroyed from inside a command (fsctl shutdown over api):
 * the reply still goes out, then every client gets a disconnect notice. */
static void test_destroy_from_command(void **state)
{
	struct fixture *fx = *state;
	struct client *c = client_authed(fx);
	struct client *other = client_authed(fx);
	fake_shutdown_fn = destroy_cb;
	fake_shutdown_arg = fx;
	client_send(c, "api shutdown\n\napi status\n\n");
	expect_api(c, "+OK shutting down\n");
	expect_disconnect(c);
	expect_disconnect(other);
	fx->esl = NULL; /* gone with the loop's next turns */
	fake_shutdown_fn = NULL;
	client_close(c);
	client_close(other);
}

static void test_commands_before_auth(void **state)
{
	struct client *c = client_greeted(*state);
	command(c, "api status", "-ERR command not found");
	command(c, "auth s3cret-pw", "+OK accepted");
	client_close(c);
}

static void test_auth_fail(void **state)
{
	struct client *c = client_greeted(*state);
	command(c, "auth ClueCon", "-ERR invalid");
	assert_true(expect_disconnect(c) > 0);
	client_close(c);
}

static void test_acl_rude_rejection(void **state)
{
	struct client *c = client_open(*state);
	expect_frame(c, "Content-Type: text/rude-rejection\nContent-Length: 24\n",
		     "Access Denied, go away.\n");
	expect_eof(c);
	client_close(c);
}

static void test_bgapi_then_event(void **state)
{
	struct client *c = client_job_listener(*state);
	bgapi_then_api(c, "echo hello", "11111111-2222-4333-8444-555555555555");
	expect_job_event(c, "11111111-2222-4333-8444-555555555555", "echo", "hello", "hello");
	/* A generated Job-UUID when the client gives none. */
	bgapi_without_uuid(c, "status");
	expect_event(c, "BACKGROUND_JOB", NULL);
	client_close(c);
}

/* An asynchronous api holds the replies after it on its connection (they
 * come in order once it replies); another connection is not held. */
static void test_api_async_order(void **state)
{
	struct fixture *fx = *state;
	struct client *c = client_authed(fx);
	struct client *other = client_authed(fx);
	client_send(c, "api slow first\n\napi echo second\n\nevent plain CUSTOM\n\n");
	assert_true(frame_none(c, 100));
	client_send(other, "api echo not held\n\n");
	expect_api(other, "not held");
	/* more commands arriving while it waits wait too */
	client_send(c, "api echo third\n\n");
	assert_true(frame_none(c, 50));
	/* events still flow to the waiting connection's subscription... none yet */
	assert_true(fake_slow_finish());
	expect_api(c, "first");
	expect_api(c, "second");
	expect_reply(c, "+OK event listener enabled plain");
	expect_api(c, "third");
	/* Two asynchronous ones in a row: each waits for the one before. */
	client_send(c, "api slow A\n\napi slow B\n\napi echo C\n\n");
	assert_true(frame_none(c, 50));
	assert_int_equal(fake_slow_count, 1); /* B not started before A replied */
	assert_true(fake_slow_finish());
	expect_api(c, "A");
	assert_true(frame_none(c, 50));
	assert_int_equal(fake_slow_count, 1);
	assert_true(fake_slow_finish());
	expect_api(c, "B");
	expect_api(c, "C");
	client_close(c);
	client_close(other);
}

/* bgapi answers at once; its BACKGROUND_JOB comes when the command replies. */
static void test_bgapi_async(void **state)
{
	struct client *c = client_job_listener(*state);
	bgapi_then_api(c, "slow later", "21111111-2222-4333-8444-555555555555");
	assert_true(frame_none(c, 50));
	assert_true(fake_slow_finish());
	expect_job_event(c, "21111111-2222-4333-8444-555555555555", "slow", "later", "later");
	/* A job still running when the server goes is forgotten (no leak, no event). */
	bgapi_without_uuid(c, "slow never");
	assert_true(frame_none(c, 50));
	assert_int_equal(fake_slow_count, 1);
	client_close(c);
}

/* A connection that closes while its api waits: the command completes later
 * and its reply goes nowhere (under ASan: no use of the freed connection). */
static void test_api_async_close(void **state)
{
	struct fixture *fx = *state;
	struct client *c = client_authed(fx);
	client_send(c, "api slow orphan\n\napi echo never\n\n");
	assert_true(frame_none(c, 50));
	client_close(c);
	pump_turns(fx, 20);
	assert_false(fake_slow_finish()); /* detached */
	/* The server goes on serving. */
	struct client *d = client_authed(fx);
	client_send(d, "api slow fine\n\n");
	assert_true(frame_none(d, 20));
	assert_true(fake_slow_finish());
	expect_api(d, "fine");
	/* The server going away while an api waits (an exit behind it): dropped too. */
	client_send(d, "api slow x\n\nexit\n\n");
	assert_true(frame_none(d, 20));
	esl_destroy(fx->esl);
	fx->esl = NULL;
	pump_turns(fx, 20);
	assert_false(fake_slow_finish());
	client_close(d);
}

static void test_subscription_and_filters(void **state)
{
	struct client *c = client_authed(*state);
	subscribe_plain(c, "CHANNEL_ANSWER CUSTOM sofia::register");
	fire("CHANNEL_CREATE", NULL, "u1", "red");
	fire("CHANNEL_ANSWER", NULL, "u1", "green");
	fire("CUSTOM", "sofia::unregister", NULL, "no");
	fire("CUSTOM", "sofia::register", NULL, "blue");
	expect_event(c, "CHANNEL_ANSWER", "green");
	expect_last_event(c, "CUSTOM", "blue");

	command(c, "filter Color yellow", "+OK filter added. [Color]=[yellow]");
	fire("CHANNEL_ANSWER", NULL, "u1", "green");
	fire("CHANNEL_ANSWER", NULL, "u2", "yellow");
	expect_last_event(c, "CHANNEL_ANSWER", "yellow");
	command(c, "filter delete Color yellow", "+OK filter deleted. [Color]=[yellow]");
	command(c, "filter delete Color yellow", "-ERR filter not found.");

	/* A /.../ value is a regular expression; any one filter passing is enough. */
	command(c, "filter Color /^(bl|gr)[a-z]+$/",
		"+OK filter added. [Color]=[/^(bl|gr)[a-z]+$/]");
	command(c, "filter unique-id u9", "+OK filter added. [unique-id]=[u9]");
	fire("CHANNEL_ANSWER", NULL, "u1", "green");
	fire("CHANNEL_ANSWER", NULL, "u1", "red");
	fire("CHANNEL_ANSWER", NULL, "u1", "greenish!");
	fire("CHANNEL_ANSWER", NULL, "u9", "red");
	fire("CHANNEL_ANSWER", NULL, "u1", NULL); /* no header: no match */
	expect_event(c, "CHANNEL_ANSWER", "green");
	expect_last_event(c, "CHANNEL_ANSWER", "red");
	/* A pattern that does not compile is refused and adds nothing. */
	client_send(c, "filter Color /(unclosed/\n\n");
	expect_reply_prefix(c, "-ERR invalid regex at offset ");
	/* delete <header>: every filter on that header, whatever its value. */
	command(c, "filter delete Unique-ID", "+OK filter deleted. [Unique-ID]=[]");
	fire("CHANNEL_ANSWER", NULL, "u9", "red");
	fire("CHANNEL_ANSWER", NULL, "u9", "blue");
	expect_last_event(c, "CHANNEL_ANSWER", "blue");
	command(c, "filter Color white", "+OK filter added. [Color]=[white]");
	command(c, "filter delete all", "+OK filter deleted.");
	fire("CHANNEL_ANSWER", NULL, "u9", "red");
	expect_event(c, "CHANNEL_ANSWER", "red");
	command(c, "filter Color", "-ERR invalid syntax");
	command(c, "filter delete", "-ERR invalid syntax");
	/* A pattern that backtracks without end fails at the match limit. */
	command(c, "filter Color /^(a+)+$/", "+OK filter added. [Color]=[/^(a+)+$/]");
	fire("CHANNEL_ANSWER", NULL, "u1", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	fire("CHANNEL_ANSWER", NULL, "u1", "aaaa");
	expect_event(c, "CHANNEL_ANSWER", "aaaa");
	command(c, "filter delete all", "+OK filter deleted.");

	command(c, "nixevent CHANNEL_ANSWER", "+OK events nixed");
	fire("CHANNEL_ANSWER", NULL, "u1", "green");
	assert_true(frame_none(c, 50));

	command(c, "noevents", "+OK no longer listening for events");
	fire("CUSTOM", "sofia::register", NULL, "blue");
	assert_true(frame_none(c, 50));

	/* CUSTOM alone: every CUSTOM event, whatever its subclass. */
	subscribe_plain(c, "CUSTOM");
	fire("CHANNEL_CREATE", NULL, "u1", "red");
	fire("CUSTOM", "any::thing", NULL, "any");
	expect_event(c, "CUSTOM", "any");
	command(c, "nixevent CUSTOM", "+OK events nixed");
	fire("CUSTOM", "any::thing", NULL, "any");
	assert_true(frame_none(c, 50));

	command(c, "event json ALL", "+OK event listener enabled json");
	fire("HEARTBEAT", NULL, NULL, "json");
	struct frame f;
	frame_read(c, &f);
	assert_non_null(strstr(f.head, "Content-Type: text/event-json\n"));
	assert_non_null(strstr(f.body, "\"Color\":\"json\""));
	free(f.body);
	client_close(c);
}

static void test_myevents(void **state)
{
	struct client *c = client_authed(*state);
	command(c, "myevents c0ffee00-0000-4000-8000-000000000001", "+OK Events Enabled");
	fire("CHANNEL_ANSWER", NULL, "someone-else", "no");
	fire("CHANNEL_ANSWER", NULL, fake_channel_uuid, "mine");
	fire("HEARTBEAT", NULL, NULL, "no");
	expect_last_event(c, "CHANNEL_ANSWER", "mine");
	client_close(c);
}

static void test_partial_reads(void **state)
{
	struct client *c = client_authed(*state);
	const char *parts[] = {"ap", "i ec", "ho split\r", "\n", "\r\n", "\n\napi echo two\n\n"};
	for (size_t i = 0; i < 4; i++) {
		client_send(c, parts[i]);
		assert_true(frame_none(c, 20));
	}
	client_send(c, parts[4]);
	expect_api(c, "split");
	client_send(c, parts[5]);
	expect_api(c, "two");
	client_close(c);
}

static void test_malformed_closes(void **state)
{
	struct client *c = client_authed(*state);
	command(c, "sendevent CUSTOM\nno colon here", "-ERR malformed command");
	expect_disconnect(c);
	client_close(c);
}

static void test_sendevent_sendmsg(void **state)
{
	struct client *c = client_authed(*state);
	subscribe_plain(c, "CUSTOM my::thing");
	client_send(c,
		    "sendevent CUSTOM\nEvent-Subclass: my::thing\nEvent-UUID: "
		    "abcdef00-0000-4000-8000-000000000002\nColor: pink\nContent-Length: 3\n\nhey");
	expect_reply(c, "+OK abcdef00-0000-4000-8000-000000000002");
	struct frame f;
	char v[64];
	frame_read(c, &f);
	assert_string_equal(event_header(&f, "Color", v, sizeof(v)), "pink");
	/* The subclass once: the client's header is not copied over the core's. */
	assert_non_null(strstr(f.body, "Event-Subclass: my::thing\n"));
	assert_null(strstr(strstr(f.body, "Event-Subclass: ") + 1, "Event-Subclass: "));
	assert_non_null(strstr(f.body, "Content-Length: 3\n\nhey"));
	free(f.body);

	command(c,
		"sendmsg c0ffee00-0000-4000-8000-000000000001\ncall-command: execute\n"
		"execute-app-name: playback\nexecute-app-arg: tone_stream://%(100,0,440)\n"
		"loops: 3\nEvent-UUID: 5e5e5e5e-0000-4000-8000-000000000003",
		"+OK");
	assert_int_equal(fake.exec_count, 3);
	assert_string_equal(fake.app_uuid, "5e5e5e5e-0000-4000-8000-000000000003");
	assert_string_equal(fake.exec_app, "playback");
	assert_string_equal(fake.exec_arg, "tone_stream://%(100,0,440)");
	command(c,
		"sendmsg c0ffee00-0000-4000-8000-000000000001\ncall-command: hangup\n"
		"hangup-cause: USER_BUSY",
		"+OK");
	assert_int_equal(fake.hangup_count, 1);
	assert_int_equal(fake.hangup_cause, CAUSE_USER_BUSY);
	command(c, "sendmsg 00000000-dead-4000-8000-000000000000\ncall-command: hangup",
		"-ERR invalid session id [00000000-dead-4000-8000-000000000000]");
	command(c, "linger 30", "+OK will linger 30 seconds");
	command(c, "nolinger", "+OK will not linger");
	command(c, "divert_events on", "+OK events diverted");
	command(c, "log debug", "+OK log level 7 [debug]");
	log_write(LOG_NOTICE, "test", "a line for %s", "esl");
	frame_read(c, &f);
	assert_non_null(strstr(f.head, "Content-Type: log/data\n"));
	assert_non_null(strstr(f.head, "Log-Level: 5\n"));
	assert_non_null(strstr(f.head, "Log-File: test\n"));
	assert_string_equal(f.body, "a line for esl\n");
	free(f.body);
	log_write(LOG_DEBUG, "test", "not shown at the process level");
	command(c, "log err", "+OK log level 3 [err]");
	log_write(LOG_NOTICE, "test", "above err: not forwarded");
	assert_true(frame_none(c, 30));
	command(c, "nolog", "+OK no longer logging");
	log_write(LOG_ERR, "test", "after nolog");
	assert_true(frame_none(c, 30));
	client_close(c);
}

/* resume <after>, and the reply, which names the same sequence number after
 * reply_lead and before reply_tail. */
static void resume(struct client *c, uint64_t after, const char *reply_lead, const char *reply_tail)
{
	char cmd[64], reply[128];
	snprintf(cmd, sizeof(cmd), "resume %llu", (unsigned long long)after);
	snprintf(reply, sizeof(reply), "%s%llu%s", reply_lead, (unsigned long long)after,
		 reply_tail);
	command(c, cmd, reply);
}

static void test_resume(void **state)
{
	struct client *c = client_authed(*state);
	uint64_t base = fake.seq;
	for (int i = 0; i < 5; i++)
		fire("HEARTBEAT", NULL, NULL, "old");
	command(c, "resume 1", "-ERR subscribe first (event plain|json|xml …)");
	subscribe_plain(c, "HEARTBEAT");
	resume(c, base + 2, "+OK resuming after ", "");
	for (int i = 3; i <= 5; i++) {
		struct frame f;
		char seq[32], v[64];
		frame_read(c, &f);
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)(base + (uint64_t)i));
		assert_string_equal(event_header(&f, "Event-Sequence", v, sizeof(v)), seq);
		free(f.body);
	}
	fire("HEARTBEAT", NULL, NULL, "live");
	expect_event(c, "HEARTBEAT", "live");
	/* Older than the ring keeps. */
	for (int i = 0; i < FAKE_RING + 2; i++)
		fire("CHANNEL_CREATE", NULL, NULL, NULL);
	resume(c, base, "-ERR events after ", " are gone");
	client_close(c);
}

/*
 * A client that does not read while 3000 events of 4 kB are fired (the loop
 * turning every 100): the socket fills, the queue (50) overflows, and every lost event is accounted
 * for by the irisx::events_dropped notices: received + dropped == fired.
 */
static void test_queue_overflow(void **state)
{
	struct fixture *fx = *state;
	struct client *c = client_authed(fx);
	subscribe_plain(c, "CUSTOM load::test");
	enum { FIRED = 3000, BODY = 4000 };
	static char body[BODY];
	memset(body, 'x', sizeof(body));
	for (int i = 0; i < FIRED; i++) {
		struct core_event *ev;
		core_event_create(&ev, "CUSTOM", "load::test");
		core_event_set_body(ev, body, sizeof(body));
		core_event_fire(NULL, ev);
		if (i % 100 == 99)
			pump(fx);
	}
	struct esl_stats st;
	esl_stats_get(fx->esl, &st);
	assert_true(st.events_dropped > 0);

	uint64_t received = 0, dropped = 0, notices = 0;
	uint64_t until = clock_now_ms() + 10000;
	while (received + dropped < FIRED && clock_now_ms() < until) {
		struct frame f;
		frame_read(c, &f);
		char v[64];
		const char *sub = event_header(&f, "Event-Subclass", v, sizeof(v));
		assert_non_null(sub);
		if (strcmp(sub, "irisx::events_dropped") == 0) {
			dropped +=
			    strtoull(event_header(&f, "Dropped-Count", v, sizeof(v)), NULL, 10);
			notices++;
		} else {
			assert_string_equal(sub, "load::test");
			received++;
		}
		free(f.body);
	}
	assert_int_equal(received + dropped, FIRED);
	assert_int_equal(dropped, st.events_dropped);
	assert_true(notices > 0);
	client_close(c);
}

/* ---- the parser ---- */

static int frame_parse(const char *in, struct esl_frame *f)
{
	return esl_frame_parse(in, strlen(in), f);
}

static void test_parse_frames(void **state)
{
	struct esl_frame f;
	const char *in = "\n\napi status\r\nX-A: 1\n\nnext";
	assert_int_equal(frame_parse(in, &f), 0);
	assert_true(str_eq(f.line, STR("api status")));
	assert_int_equal(f.header_count, 1);
	assert_true(str_eq(*esl_frame_header(&f, "x-a"), STR("1")));
	assert_int_equal(f.consumed, strlen(in) - 4);

	in = "sendevent X\nContent-Length: 4\n\nab";
	assert_int_equal(frame_parse(in, &f), -EAGAIN);
	in = "sendevent X\nContent-Length: 4\n\nabcdZ";
	assert_int_equal(frame_parse(in, &f), 0);
	assert_true(str_eq(f.body, STR("abcd")));
	assert_int_equal(f.consumed, strlen(in) - 1);

	in = "\r\n\n";
	assert_int_equal(frame_parse(in, &f), -EAGAIN);
	assert_int_equal(f.consumed, 3);
	assert_int_equal(esl_frame_parse("api", 3, &f), -EAGAIN);
}

static void test_parse_malformed(void **state)
{
	struct esl_frame f;
	const char *bad[] = {
	    "x\nno colon\n\n",
	    "x\n: empty name\n\n",
	    "x\nContent-Length: abc\n\n",
	    "x\nContent-Length: -1\n\n",
	    "x\nContent-Length: 99999999999\n\n",
	    "x\nContent-Length: 2000000\n\n",
	    " \n\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(frame_parse(bad[i], &f), -EBADMSG);
	/* Too many headers. */
	struct buf b;
	buf_init(&b);
	buf_append_cstr(&b, "sendevent X\n");
	for (int i = 0; i <= ESL_HEADERS_MAX; i++)
		buf_printf(&b, "H%d: v\n", i);
	buf_append_cstr(&b, "\n");
	assert_int_equal(esl_frame_parse(b.p, b.len, &f), -EBADMSG);
	/* A head that never ends. */
	buf_reset(&b);
	buf_append_cstr(&b, "api ");
	while (b.len <= ESL_HEAD_MAX)
		buf_append_cstr(&b, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_int_equal(esl_frame_parse(b.p, b.len, &f), -EBADMSG);
	buf_fini(&b);

	struct str line = STR("  api   echo  a b  "), verb, rest;
	esl_line_split(line, &verb, &rest);
	assert_true(str_eq(verb, STR("api")));
	assert_true(str_eq(rest, STR("echo  a b")));
}

/* filter arguments: every field the parser writes, for each valid vector. */
static void test_parse_filter_args(void **state)
{
	static const char *const invalid[] = {"", "  Event-Name  ", "delete"};
	static const struct {
		const char *in;
		enum esl_filter_op op;
		const char *header, *value, *pattern;
		bool is_regex;
	} valid[] = {
	    {"Event-Name  CHANNEL_ANSWER  ", ESL_FILTER_ADD, "Event-Name", "CHANNEL_ANSWER", "",
	     false},
	    {"Caller-Caller-ID-Number /^1 00$/", ESL_FILTER_ADD, "Caller-Caller-ID-Number",
	     "/^1 00$/", "^1 00$", true},
	    {"H //", ESL_FILTER_ADD, "H", "//", "", true},
	    {"H /", ESL_FILTER_ADD, "H", "/", "", false}, /* one slash: a literal */
	    {"H /x", ESL_FILTER_ADD, "H", "/x", "", false},
	    {"delete all", ESL_FILTER_DELETE_ALL, "", "", "", false},
	    /* A header named "all" with a value is a header. */
	    {"delete all x", ESL_FILTER_DELETE, "all", "x", "", false},
	    {"delete Unique-ID", ESL_FILTER_DELETE, "Unique-ID", "", "", false},
	};
	struct esl_filter_args fa;
	for (size_t i = 0; i < ARRAY_LEN(invalid); i++)
		assert_int_equal(esl_filter_args_parse(str_from_cstr(invalid[i]), &fa), -EINVAL);
	for (size_t i = 0; i < ARRAY_LEN(valid); i++) {
		assert_int_equal(esl_filter_args_parse(str_from_cstr(valid[i].in), &fa), 0);
		assert_int_equal(fa.op, valid[i].op);
		assert_true(str_eq(fa.header, str_from_cstr(valid[i].header)));
		assert_true(str_eq(fa.value, str_from_cstr(valid[i].value)));
		assert_true(str_eq(fa.pattern, str_from_cstr(valid[i].pattern)));
		assert_int_equal(fa.is_regex, valid[i].is_regex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_frames),
	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_parse_filter_args),
	    cmocka_unit_test_setup_teardown(test_greeting_and_auth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commands_before_auth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_from_command, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acl_rude_rejection, setup_denied, teardown),
	    cmocka_unit_test_setup_teardown(test_bgapi_then_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_api_async_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bgapi_async, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_api_async_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subscription_and_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_myevents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partial_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_closes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sendevent_sendmsg, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_overflow, setup_small_queue, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
