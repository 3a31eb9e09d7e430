/*
 * Gateways in the core: a started core with one profile and two gateways
 * (sofia.conf), the test as the trunk on a UDP socket. Asserts what a user
 * sees: the CUSTOM sofia::gateway_state events and their headers, `sofia
 * status gateway <name>` laid out as mod_sofia prints it, the gateway rows of
 * `sofia status`, and the unregister at shutdown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "core/core.h"
#include "sip/sip.h"
#include "test_config_util.h"

enum { MAX_EVENTS = 32 };

struct fixture {
	uv_loop_t loop;
	struct core *core;
	struct core_sub *sub;
	int udp;
	uint16_t trunk_port, port;
	struct core_event *events[MAX_EVENTS];
	size_t event_count;
	struct buf out;
	char rbuf[65536];
};

static void event_cb(void *arg, struct core_event *ev)
{
	struct fixture *f = arg;
	if (!core_event_subclass(ev) || strcmp(core_event_subclass(ev), "sofia::gateway_state"))
		return;
	assert_true(f->event_count < MAX_EVENTS);
	f->events[f->event_count++] = core_event_ref(ev);
}

static void done_cb(void *arg)
{
	*(int *)arg = 1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512], conf[4096];
	assert_non_null(f);
	buf_init(&f->out);
	f->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(bind(f->udp, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(f->udp, (struct sockaddr *)&a, &len);
	f->trunk_port = ntohs(a.sin_port);
	assert_int_equal(uv_loop_init(&f->loop), 0);

	for (int attempt = 0; attempt < 20 && !f->core; attempt++) {
		f->port = (uint16_t)(20000 + (getpid() * 11 + attempt * 137) % 30000);
		snprintf(conf, sizeof(conf),
			 "<configuration name=\"sofia.conf\"><profiles>\n"
			 "<profile name=\"ext\"><settings>\n"
			 "<param name=\"sip-ip\" value=\"127.0.0.1\"/>\n"
			 "<param name=\"sip-port\" value=\"%u\"/>\n"
			 "<param name=\"bind-params\" value=\"transport=udp\"/>\n"
			 "<param name=\"timer-T1\" value=\"10\"/>\n"
			 "<param name=\"timer-T2\" value=\"40\"/>\n"
			 "</settings><gateways>\n"
			 "<gateway name=\"gw1\">\n"
			 "<param name=\"proxy\" value=\"127.0.0.1:%u\"/>\n"
			 "<param name=\"username\" value=\"alice\"/>\n"
			 "<param name=\"password\" value=\"secret\"/>\n"
			 "<param name=\"expire-seconds\" value=\"60\"/>\n"
			 "<param name=\"retry-seconds\" value=\"1\"/>\n"
			 "</gateway>\n"
			 "<gateway name=\"gw2\">\n"
			 "<param name=\"proxy\" value=\"127.0.0.1:%u\"/>\n"
			 "<param name=\"register\" value=\"false\"/>\n"
			 "</gateway>\n"
			 "</gateways></profile>\n"
			 "</profiles></configuration>\n",
			 f->port, f->trunk_port, f->trunk_port);
		char *dir = tree_create();
		if (!dir)
			abort(); /* no temporary directory: nothing to test with */
		tree_write(dir, "freeswitch.xml", ROOT_XML);
		tree_write(dir, "vars.xml", "<include/>\n");
		tree_write(dir, "autoload_configs/sofia.conf.xml", conf);
		struct config *cfg = NULL;
		assert_int_equal(load_logged(&cfg, dir, NULL, err, sizeof(err), NULL), 0);
		tree_remove(dir);
		assert_int_equal(core_create(&f->core, &f->loop, cfg), 0);
		if (core_start(f->core) != 0) {
			/* The port was taken: close what started and try another. */
			int done = 0;
			core_shutdown(f->core, 0, done_cb, &done);
			while (!done)
				uv_run(&f->loop, UV_RUN_ONCE);
			uv_run(&f->loop, UV_RUN_DEFAULT);
			core_destroy(f->core);
			f->core = NULL;
		}
	}
	assert_non_null(f->core);
	assert_int_equal(core_subscribe(f->core, event_cb, f, &f->sub), 0);
	*state = f;
	return 0;
}

static void shutdown_core(struct fixture *f)
{
	int done = 0;
	core_unsubscribe(f->sub);
	core_shutdown(f->core, 100, done_cb, &done);
	for (int i = 0; i < 1000 && !done; i++)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_true(done);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	core_destroy(f->core);
	f->core = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->core)
		shutdown_core(f);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	for (size_t i = 0; i < f->event_count; i++)
		core_event_unref(f->events[i]);
	buf_fini(&f->out);
	close(f->udp);
	free(f);
	return 0;
}

static struct sip_msg *recv_request(struct fixture *f, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		ssize_t n = recv(f->udp, f->rbuf, sizeof(f->rbuf), 0);
		if (n > 0) {
			struct sip_msg *m = NULL;
			assert_int_equal(sip_msg_parse(&m, f->rbuf, (size_t)n), 0);
			return m;
		}
		usleep(500);
	}
	return NULL;
}

static void reply(struct fixture *f, const struct sip_msg *req, uint16_t status, const char *extra)
{
	struct buf b;
	buf_init(&b);
	sip_response_print(&b, req, status, NULL, "trunk", extra, STR_NULL);
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(f->port),
				 .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(sendto(f->udp, b.p, b.len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)b.len);
	buf_fini(&b);
}

static void wait_events(struct fixture *f, size_t n)
{
	uint64_t end = clock_now_ms() + 2000;
	while (f->event_count < n && clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(500);
	}
	if (f->event_count < n)
		fail_msg("%zu sofia::gateway_state events, expected %zu", f->event_count, n);
}

static const char *run(struct fixture *f, const char *line)
{
	buf_reset(&f->out);
	core_command_execute(f->core, line, &f->out);
	return f->out.len ? f->out.p : "";
}

static void assert_header(const struct core_event *ev, const char *name, const char *want)
{
	const char *v = core_event_header(ev, name);
	if (!want) {
		if (v)
			fail_msg("%s: '%s', expected none", name, v);
		return;
	}
	if (!v || strcmp(v, want) != 0)
		fail_msg("%s: '%s', expected '%s'", name, v ? v : "(none)", want);
}

static const char rule[] = "======================================================================"
			   "===========================\n";

static void test_events_status_unregister(void **state)
{
	struct fixture *f = *state;
	char want[4096], port[8];
	snprintf(port, sizeof(port), "%u", f->trunk_port);

	struct sip_msg *r1 = recv_request(f, 1000);
	assert_non_null(r1);
	assert_int_equal(r1->method, SIP_METHOD_REGISTER);
	wait_events(f, 1);
	const struct core_event *ev = f->events[0];
	assert_string_equal(core_event_name(ev), "CUSTOM");
	assert_header(ev, "Event-Subclass", "sofia::gateway_state");
	assert_header(ev, "Gateway", "gw1");
	assert_header(ev, "State", "TRYING");
	assert_header(ev, "Ping-Status", "DOWN");
	assert_header(ev, "Register-Network-IP", "127.0.0.1");
	assert_header(ev, "Register-Network-Port", port);
	assert_header(ev, "Status", NULL);

	/* Before the answer: TRYING and DOWN in the status. */
	assert_non_null(strstr(run(f, "sofia status gateway gw1"), "\nState   \tTRYING\n"));
	assert_non_null(strstr(f->out.p, "\nStatus  \tDOWN\n"));

	reply(f, r1, 200, "Expires: 60\r\n");
	wait_events(f, 2);
	ev = f->events[1];
	assert_header(ev, "Gateway", "gw1");
	assert_header(ev, "State", "REGED");
	assert_header(ev, "Ping-Status", "UP");
	assert_header(ev, "Status", "200");
	assert_header(ev, "Phrase", "OK");

	snprintf(want, sizeof(want),
		 "%s"
		 "Name    \tgw1\n"
		 "Profile \text\n"
		 "Scheme  \tDigest\n"
		 "Realm   \t127.0.0.1:%u\n"
		 "Username\talice\n"
		 "Password\tyes\n"
		 "From    \t<sip:alice@127.0.0.1:%u>\n"
		 "Contact \t<sip:alice@127.0.0.1:%u>\n"
		 "Exten   \talice\n"
		 "To      \tsip:alice@127.0.0.1:%u\n"
		 "Proxy   \tsip:127.0.0.1:%u\n"
		 "Context \tpublic\n"
		 "Expires \t60\n"
		 "Freq    \t60\n"
		 "Ping    \t0\n"
		 "PingFreq\t0\n"
		 "PingState\t0/0/0\n"
		 "State   \tREGED\n"
		 "Status  \tUP\n"
		 "Uptime  \t0s\n"
		 "CallsIN \t0\n"
		 "CallsOUT\t0\n"
		 "FailedCallsIN\t0\n"
		 "FailedCallsOUT\t0\n"
		 "%s",
		 rule, f->trunk_port, f->trunk_port, f->port, f->trunk_port, f->trunk_port, rule);
	assert_string_equal(run(f, "sofia status gateway gw1"), want);

	/* register=false: NOREG and up; nothing on the wire for it. */
	const char *s = run(f, "sofia status gateway gw2");
	assert_non_null(strstr(s, "\nState   \tNOREG\n"));
	assert_non_null(strstr(s, "\nStatus  \tUP\n"));
	assert_non_null(strstr(s, "\nPassword\tno\n"));
	assert_string_equal(run(f, "sofia status gateway nosuch"), "Invalid Gateway!\n");
	assert_string_equal(run(f, "sofia status gateway"),
			    "-USAGE: status [profile <name>|gateway <name>]\n");

	s = run(f, "sofia status");
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "sip:127.0.0.1:%u", f->trunk_port);
	snprintf(want, sizeof(want), "%25s\t%s\t  %40s\t%s\n", "ext::gw1", "gateway", proxy,
		 "REGED");
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "%25s\t%s\t  %40s\t%s\n", "ext::gw2", "gateway", proxy,
		 "NOREG");
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(run(f, "sofia status profile ext"), "\nCALLS-OUT        \t0\n"));

	/* Shutdown unregisters gw1 (and sends nothing for gw2). */
	shutdown_core(f);
	struct sip_msg *r2 = recv_request(f, 500);
	assert_non_null(r2);
	assert_int_equal(r2->method, SIP_METHOD_REGISTER);
	assert_true(str_eq(r2->call_id, r1->call_id));
	assert_int_equal(r2->cseq.num, r1->cseq.num + 1);
	const struct sip_hdr *e = sip_msg_hdr(r2, SIP_HDR_EXPIRES);
	assert_non_null(e);
	assert_true(str_eq(e->value, STR("0")));
	/* Only retransmissions of that REGISTER may follow, nothing new. */
	struct sip_msg *r3;
	while ((r3 = recv_request(f, 200))) {
		assert_true(str_eq(r3->via.branch, r2->via.branch));
		sip_msg_unref(r3);
	}
	assert_int_equal(f->event_count, 2); /* no event after the gateways stopped */
	sip_msg_unref(r1);
	sip_msg_unref(r2);
}

/* A failure: FAILED then FAIL_WAIT, each with Status and Phrase. */
static void test_failure_events(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *r1 = recv_request(f, 1000);
	assert_non_null(r1);
	reply(f, r1, 403, NULL);
	wait_events(f, 3);
	static const char *const states[] = {"TRYING", "FAILED", "FAIL_WAIT"};
	for (size_t i = 0; i < 3; i++) {
		assert_header(f->events[i], "Gateway", "gw1");
		assert_header(f->events[i], "State", states[i]);
	}
	for (size_t i = 1; i < 3; i++) {
		assert_header(f->events[i], "Status", "403");
		assert_header(f->events[i], "Phrase", "Forbidden");
		assert_header(f->events[i], "Ping-Status", "DOWN");
	}
	assert_non_null(strstr(run(f, "sofia status gateway gw1"), "\nState   \tFAIL_WAIT\n"));
	sip_msg_unref(r1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_events_status_unregister, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_events, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
