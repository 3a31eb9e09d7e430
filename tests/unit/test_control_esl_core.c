/*
 * The Event Socket against the real core (no SIP listeners started): the
 * core's command registry, its event bus and ring, and its renderings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "control/control.h"
#include "core/core.h"
#include "test_config_util.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <uv.h>

static uv_loop_t loop;
static int fd = -1;
static char in[1 << 16];
static size_t in_len;

static void pump_until(const char *needle)
{
	uint64_t until = clock_now_ms() + 3000;
	while (!memmem(in, in_len, needle, strlen(needle))) {
		assert_true(clock_now_ms() < until);
		uv_run(&loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, in + in_len, sizeof(in) - 1 - in_len, MSG_DONTWAIT);
		if (n > 0)
			in_len += (size_t)n;
		else
			poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 1);
		in[in_len] = '\0';
	}
}

static void say(const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* An asynchronous command of the test's: "later <text>" replies "+OK <text>"
 * when the test says (held). */
static struct core_reply *held;

static void later_cmd(struct core *core, const char *args, struct core_reply *r)
{
	buf_printf(core_reply_buf(r), "+OK %s\n", args);
	held = r;
}

static void pump_for(unsigned ms)
{
	uint64_t until = clock_now_ms() + ms;
	while (clock_now_ms() < until) {
		uv_run(&loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, in + in_len, sizeof(in) - 1 - in_len, MSG_DONTWAIT);
		if (n > 0)
			in_len += (size_t)n;
		else
			poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 1);
		in[in_len] = '\0';
	}
}

static void shutdown_done(void *arg)
{
	*(bool *)arg = true;
}

static void test_real_core(void **state)
{
	char err[512];
	struct config *cfg = NULL;
	char *dir = tree_create();
	tree_write(dir, "freeswitch.xml", ROOT_XML);
	tree_write(dir, "vars.xml", "<include/>\n");
	tree_write(dir, "autoload_configs/event_socket.conf.xml",
		   "<configuration name=\"event_socket.conf\"><settings>\n"
		   "<param name=\"password\" value=\"pw\"/>\n"
		   "<param name=\"apply-inbound-acl\" value=\"loopback.auto\"/>\n"
		   "</settings></configuration>\n");
	assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
	tree_remove(dir);

	struct core *core;
	struct esl *esl;
	struct esl_settings set;
	uv_loop_init(&loop);
	assert_int_equal(core_create(&core, &loop, cfg), 0);
	assert_int_equal(esl_settings_load(&set, cfg, "/nonexistent", err, sizeof(err)), 0);
	set.listen_port = 0;
	assert_int_equal(esl_create(&esl, &loop, core, NULL, &set), 0);

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(esl_port(esl))};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	pump_until("Content-Type: auth/request\n\n");
	say("auth pw\n\n");
	pump_until("+OK accepted\n\n");

	/* A command of the core's registry, and an unknown one. */
	say("api version\n\napi nosuch\n\n");
	pump_until("-ERR nosuch Command not found!\n");
	assert_non_null(strstr(in, "Content-Type: api/response\nContent-Length: "));

	/* bgapi through the real bus: the reply, then BACKGROUND_JOB. */
	say("event plain BACKGROUND_JOB CUSTOM t::x\n\n"
	    "bgapi version\nJob-UUID: 0a0a0a0a-0000-4000-8000-000000000000\n\n");
	pump_until("Job-Command: version\n");
	char *reply = strstr(in, "Reply-Text: +OK Job-UUID: 0a0a0a0a-0000-4000-8000-000000000000");
	char *event = strstr(in, "Event-Name: BACKGROUND_JOB\n");
	assert_non_null(reply);
	assert_non_null(event);
	assert_true(reply < event);

	/* An asynchronous command through the real registry: the replies after
	 * it wait for it; its bgapi answers at once and fires when it replies. */
	assert_int_equal(core_command_register_async(core, "later", "<text>", "", later_cmd), 0);
	in_len = 0;
	say("api later one\n\napi version\n\n");
	pump_for(100);
	assert_int_equal(in_len, 0);
	assert_non_null(held);
	core_reply_done(held);
	held = NULL;
	pump_until("irisx Version");
	char *one = strstr(in, "+OK one\n"), *ver = strstr(in, "irisx Version");
	assert_non_null(one);
	assert_true(one < ver);
	in_len = 0;
	say("bgapi later two\nJob-UUID: 0b0b0b0b-0000-4000-8000-000000000000\n\n");
	pump_until("Reply-Text: +OK Job-UUID: 0b0b0b0b-0000-4000-8000-000000000000\n");
	pump_for(50);
	assert_null(strstr(in, "Job-Command: later"));
	assert_non_null(held);
	core_reply_done(held);
	held = NULL;
	pump_until("Job-Command: later\n");
	/* a connection closing while its api waits: the reply goes nowhere */
	say("api later three\n\n");
	pump_for(50);
	assert_non_null(held);
	close(fd);
	pump_for(50);
	core_reply_done(held); /* under ASan: nothing of the connection is touched */
	held = NULL;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	in_len = 0;
	pump_until("Content-Type: auth/request\n\n");
	say("auth pw\n\nevent plain BACKGROUND_JOB CUSTOM t::x\n\n");
	pump_until("+OK event listener enabled plain\n\n");

	/* sendevent, with a value the plain rendering URL-encodes. */
	say("sendevent CUSTOM\nEvent-Subclass: t::x\nNote: a b\n\n");
	pump_until("Note: a%20b\n");

	/* resume: the ring replays the bgapi event for a fresh connection. */
	in_len = 0;
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	say("auth pw\n\nevent plain BACKGROUND_JOB\n\nresume 0\n\n");
	pump_until("Job-Command: version\n");
	assert_non_null(strstr(in, "+OK resuming after 0\n\n"));
	close(fd);

	/* As main does: the event socket first, then the core drains. */
	bool done = false;
	esl_destroy(esl);
	core_shutdown(core, 100, shutdown_done, &done);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(done);
	core_destroy(core);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_core),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
