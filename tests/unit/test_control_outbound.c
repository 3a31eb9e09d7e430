/*
 * The Event Socket's outbound mode over real loopback TCP: the socket
 * application (registered through the fake dialplan registry) connects to a
 * listening socket of the test, which plays the application server: connect
 * and the channel data, myevents and sendmsg for this channel, exit, the
 * disconnect notice at hangup (with and without linger), connect failures.
 * The bus and registry are test_control_esl_fake.h's.
 */
#include "test_control_esl_fake.h"

#include "control/control.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

struct fixture {
	uv_loop_t loop;
	struct esl *esl;
	int lfd; /* the application server's listening socket */
	uint16_t lport;
	struct channel ch;
	int done_count, done_status;
	int fd; /* the accepted connection */
	char buf[1 << 16];
	size_t len;
	bool eof;
};

static void done_cb(struct channel *ch, void *arg, int status)
{
	struct fixture *fx = arg;
	(void)ch;
	fx->done_count++;
	fx->done_status = status;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct esl_settings s = {.listen_ip = "127.0.0.1", .listen_port = 0, .queue_max = 100};
	snprintf(s.password, sizeof(s.password), "pw");
	fake_reset();
	uv_loop_init(&fx->loop);
	assert_int_equal(esl_apps_register(), 0);
	assert_string_equal(fake_app_name, "socket");
	assert_int_equal(esl_create(&fx->esl, &fx->loop, NULL, (struct dialplan *)&fake, &s), 0);
	memcpy(fx->ch.uuid, fake_channel_uuid, UUID_STRLEN);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	socklen_t sl = sizeof(sin);
	fx->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(fx->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fx->lfd, 4), 0);
	getsockname(fx->lfd, (struct sockaddr *)&sin, &sl);
	fx->lport = ntohs(sin.sin_port);
	fx->fd = -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	if (fx->fd >= 0)
		close(fx->fd);
	close(fx->lfd);
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

static void pump_for(struct fixture *fx, unsigned ms)
{
	uint64_t until = clock_now_ms() + ms;
	while (clock_now_ms() < until) {
		pump(fx);
		poll(NULL, 0, 1);
	}
}

static int app_run(struct fixture *fx, const char *data)
{
	return fake_app_run(NULL, &fx->ch, data, done_cb, fx);
}

/* Runs the application and accepts its connection. */
static void start(struct fixture *fx, const char *opts)
{
	char data[128];
	snprintf(data, sizeof(data), "127.0.0.1:%u %s", fx->lport, opts);
	assert_int_equal(app_run(fx, data), DIALPLAN_APP_PENDING);
	uint64_t until = clock_now_ms() + 3000;
	while (fx->fd < 0 && clock_now_ms() < until) {
		pump(fx);
		fx->fd = accept4(fx->lfd, NULL, NULL, SOCK_NONBLOCK);
		if (fx->fd < 0)
			poll(NULL, 0, 1);
	}
	assert_true(fx->fd >= 0);
	pump_for(fx, 20);
	assert_int_equal(fx->done_count, 0);
}

static void send_str(struct fixture *fx, const char *s)
{
	size_t len = strlen(s);
	assert_int_equal(send(fx->fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
	pump(fx);
}

/* One frame's head (and body appended after a blank line) into out. */
static void frame_read(struct fixture *fx, char *out, size_t size)
{
	uint64_t until = clock_now_ms() + 3000;
	for (;;) {
		char *end = memmem(fx->buf, fx->len, "\n\n", 2);
		if (end) {
			size_t hlen = (size_t)(end - fx->buf) + 2;
			const char *cl = memmem(fx->buf, hlen, "Content-Length: ", 16);
			size_t blen = cl ? strtoul(cl + 16, NULL, 10) : 0;
			if (fx->len >= hlen + blen) {
				assert_true(hlen + blen < size);
				memcpy(out, fx->buf, hlen + blen);
				out[hlen + blen] = '\0';
				memmove(fx->buf, fx->buf + hlen + blen, fx->len - hlen - blen);
				fx->len -= hlen + blen;
				return;
			}
		}
		assert_false(fx->eof);
		assert_true(clock_now_ms() < until);
		pump(fx);
		ssize_t n = recv(fx->fd, fx->buf + fx->len, sizeof(fx->buf) - fx->len, 0);
		if (n > 0)
			fx->len += (size_t)n;
		else if (n == 0)
			fx->eof = true;
		else
			poll(NULL, 0, 1);
	}
}

static void expect_has(struct fixture *fx, const char *a, const char *b)
{
	char f[8192];
	frame_read(fx, f, sizeof(f));
	if (!strstr(f, a) || (b && !strstr(f, b)))
		fail_msg("frame lacks '%s'/'%s':\n%s", a, b ? b : "", f);
}

static void expect_eof(struct fixture *fx)
{
	uint64_t until = clock_now_ms() + 3000;
	while (!fx->eof && clock_now_ms() < until) {
		pump(fx);
		char tmp[256];
		ssize_t n = recv(fx->fd, tmp, sizeof(tmp), 0);
		if (n == 0)
			fx->eof = true;
		else
			poll(NULL, 0, 1);
	}
	assert_true(fx->eof);
	pump_for(fx, 20);
}

static void fire(const char *name, const char *uuid)
{
	struct core_event *ev = NULL;
	assert_int_equal(core_event_create(&ev, name, NULL), 0);
	core_event_add_header(ev, "Unique-ID", "%s", uuid);
	core_event_fire(NULL, ev);
}

static void connect_and_subscribe(struct fixture *fx)
{
	send_str(fx, "connect\n\n");
	expect_has(fx, "Content-Type: command/reply\nReply-Text: +OK\n", "Socket-Mode: ");
	send_str(fx, "myevents\n\n");
	expect_has(fx, "Reply-Text: +OK Events Enabled\n", NULL);
}

/* ---- tests ---- */

static void test_channel_data_myevents_sendmsg_exit(void **state)
{
	struct fixture *fx = *state;
	char f[8192];
	start(fx, "async full");
	send_str(fx, "connect\n\n");
	frame_read(fx, f, sizeof(f));
	assert_non_null(strstr(f, "Content-Type: command/reply\nReply-Text: +OK\n"));
	assert_non_null(strstr(f, "Control: full\n"));
	assert_non_null(strstr(f, "Socket-Mode: async\n"));
	assert_non_null(strstr(f, "Event-Name: CHANNEL_DATA\n"));
	assert_non_null(strstr(f, "Unique-ID: c0ffee00-0000-4000-8000-000000000001\n"));
	assert_non_null(strstr(f, "Caller-Destination-Number: 9000\n"));
	/* No password in outbound mode: commands work at once. */
	send_str(fx, "myevents\n\n");
	expect_has(fx, "Reply-Text: +OK Events Enabled\n", NULL);
	fire("CHANNEL_EXECUTE", "another-channel");
	fire("CHANNEL_ANSWER", fake_channel_uuid);
	expect_has(fx, "Content-Type: text/event-plain\n", "Event-Name: CHANNEL_ANSWER\n");
	/* sendmsg without a uuid: this channel. */
	send_str(fx, "sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
		     "execute-app-arg: hello.wav\n\n");
	expect_has(fx, "Reply-Text: +OK\n", NULL);
	assert_string_equal(fake.exec_app, "playback");
	assert_string_equal(fake.exec_arg, "hello.wav");
	send_str(fx, "sendmsg\ncall-command: hangup\nhangup-cause: USER_BUSY\n\n");
	expect_has(fx, "Reply-Text: +OK\n", NULL);
	assert_int_equal(fake.hangup_cause, CAUSE_USER_BUSY);
	assert_int_equal(fx->done_count, 0);
	/* exit: the socket closes and the application completes, successfully. */
	send_str(fx, "exit\n\n");
	expect_has(fx, "Reply-Text: +OK bye\n", NULL);
	expect_has(fx, "Content-Type: text/disconnect-notice\n", NULL);
	expect_eof(fx);
	assert_int_equal(fx->done_count, 1);
	assert_int_equal(fx->done_status, 0);
}

static void test_server_closes(void **state)
{
	struct fixture *fx = *state;
	start(fx, "");
	connect_and_subscribe(fx);
	close(fx->fd);
	fx->fd = -1;
	pump_for(fx, 50);
	assert_int_equal(fx->done_count, 1);
	assert_int_equal(fx->done_status, 0);
}

static void test_hangup_sends_notice(void **state)
{
	struct fixture *fx = *state;
	start(fx, "async");
	connect_and_subscribe(fx);
	fire("CHANNEL_HANGUP", fake_channel_uuid);
	fire("CHANNEL_HANGUP_COMPLETE", fake_channel_uuid);
	expect_has(fx, "text/event-plain", "Event-Name: CHANNEL_HANGUP\n");
	expect_has(fx, "text/event-plain", "Event-Name: CHANNEL_HANGUP_COMPLETE\n");
	expect_has(fx, "Content-Type: text/disconnect-notice\n",
		   "Controlled-Session-UUID: c0ffee00-0000-4000-8000-000000000001\n");
	expect_eof(fx);
	assert_int_equal(fx->done_count, 1);
}

static void test_linger(void **state)
{
	struct fixture *fx = *state;
	start(fx, "async full");
	connect_and_subscribe(fx);
	send_str(fx, "linger 1\n\n");
	expect_has(fx, "Reply-Text: +OK will linger 1 seconds\n", NULL);
	uint64_t t0 = clock_now_ms();
	fire("CHANNEL_HANGUP_COMPLETE", fake_channel_uuid);
	expect_has(fx, "text/event-plain", "Event-Name: CHANNEL_HANGUP_COMPLETE\n");
	/* Events still flow while lingering. */
	fire("CHANNEL_DESTROY", fake_channel_uuid);
	expect_has(fx, "text/event-plain", "Event-Name: CHANNEL_DESTROY\n");
	expect_has(fx, "Content-Type: text/disconnect-notice\n", NULL);
	uint64_t waited = clock_now_ms() - t0;
	assert_true(waited >= 900 && waited < 2500);
	expect_eof(fx);
	assert_int_equal(fx->done_count, 1);
}

static void test_connect_refused(void **state)
{
	struct fixture *fx = *state;
	char data[64];
	close(fx->lfd); /* nobody listens there now */
	fx->lfd = socket(AF_INET, SOCK_STREAM, 0);
	snprintf(data, sizeof(data), "127.0.0.1:%u async full", fx->lport);
	assert_int_equal(app_run(fx, data), DIALPLAN_APP_PENDING);
	assert_int_equal(fx->done_count, 0); /* never before it returns */
	uint64_t until = clock_now_ms() + 3000;
	while (fx->done_count == 0 && clock_now_ms() < until)
		pump_for(fx, 5);
	assert_int_equal(fx->done_count, 1);
	assert_int_equal(fx->done_status, -ECONNREFUSED);
}

static void test_bad_targets(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(app_run(fx, ""), -EINVAL);
	assert_int_equal(app_run(fx, "127.0.0.1"), -EINVAL);
	assert_int_equal(app_run(fx, "127.0.0.1:0"), -EINVAL);
	assert_int_equal(app_run(fx, "127.0.0.1:70000"), -EINVAL);
	assert_int_equal(app_run(fx, "not-an-ip:8084"), -EINVAL);
	pump_for(fx, 10);
	assert_int_equal(fx->done_count, 0);
}

static void test_ipv6_target(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t sl = sizeof(sin6);
	int l6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l6 < 0 || bind(l6, (struct sockaddr *)&sin6, sizeof(sin6)) != 0) {
		if (l6 >= 0)
			close(l6);
		skip(); /* no IPv6 loopback here */
	}
	assert_int_equal(listen(l6, 1), 0);
	getsockname(l6, (struct sockaddr *)&sin6, &sl);
	char data[64];
	snprintf(data, sizeof(data), "[::1]:%u", ntohs(sin6.sin6_port));
	assert_int_equal(app_run(fx, data), DIALPLAN_APP_PENDING);
	uint64_t until = clock_now_ms() + 3000;
	while (fx->fd < 0 && clock_now_ms() < until) {
		pump(fx);
		fx->fd = accept4(l6, NULL, NULL, SOCK_NONBLOCK);
		if (fx->fd < 0)
			poll(NULL, 0, 1);
	}
	close(l6);
	assert_true(fx->fd >= 0);
	send_str(fx, "exit\n\n");
	expect_has(fx, "Reply-Text: +OK bye\n", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_channel_data_myevents_sendmsg_exit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_server_closes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hangup_sends_notice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_linger, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_targets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6_target, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
