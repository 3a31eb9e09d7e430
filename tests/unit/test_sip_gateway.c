/*
 * Gateways end to end on loopback: a real UA on a libuv loop with short
 * transaction timers (T1 10 ms, so Timer F is 640 ms), and the test as the
 * trunk over a plain UDP socket: a registrar answering 200, 401 then 200, 423,
 * 403, or nothing, and an OPTIONS responder that goes silent and comes back.
 * Asserts what is on the wire (Request-URI, From/To, Contact, Expires,
 * Call-ID and CSeq across refreshes, credentials, the unregister) and the
 * states the owner is told.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_sip_util.h"
#include <uv.h>

#include "sip/sip.h"

enum { MAX_EVENTS = 64, MAX_BRANCHES = 256 };

struct fixture {
	uv_loop_t loop;
	struct sip_ua *ua;
	uint16_t port;
	int udp; /* the trunk's socket */
	uint16_t udp_port;
	char proxy[64];
	struct sip_gateway *gw;
	/* what the callback saw, in order */
	size_t events;
	enum sip_gateway_state states[MAX_EVENTS];
	bool ups[MAX_EVENTS];
	/* branches of requests already handed to the test: retransmissions are skipped */
	char branches[MAX_BRANCHES][64];
	size_t branch_count;
	char rbuf[65536];
};

static void gw_cb(void *arg, struct sip_gateway *gw)
{
	struct fixture *f = arg;
	struct sip_gateway_status st;
	sip_gateway_status(gw, &st);
	assert_true(f->events < MAX_EVENTS);
	f->states[f->events] = st.state;
	f->ups[f->events] = st.up;
	f->events++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	static const struct sip_txn_timers timers = {.t1_ms = 10, .t2_ms = 40, .t4_ms = 50};
	struct sip_ua_config cfg = {.name = "test",
				    .enable_udp = true,
				    .enable_tcp = true,
				    .user_agent = "irisx-test",
				    .timers = &timers};
	struct sip_ua_cbs cbs = {.arg = f};
	f->port = test_ua_create(&f->ua, &f->loop, &cfg, &cbs, 0);
	f->udp = test_udp_open(&f->udp_port);
	snprintf(f->proxy, sizeof(f->proxy), "127.0.0.1:%u", f->udp_port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->gw)
		sip_gateway_destroy(f->gw);
	test_ua_fini(&f->loop, f->ua, f->udp); /* f->ua NULL: a test closed it itself */
	free(f);
	return 0;
}

static void run_for(struct fixture *f, int ms)
{
	test_loop_run_for(&f->loop, ms);
}

/* Runs the loop until the gateway has told `n` changes in all, or fails after `ms`. */
static void wait_events(struct fixture *f, size_t n, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (f->events < n && clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	if (f->events < n)
		fail_msg("expected %zu gateway changes within %d ms, saw %zu", n, ms, f->events);
}

static bool branch_seen(struct fixture *f, struct str branch)
{
	for (size_t i = 0; i < f->branch_count; i++)
		if (str_eq(str_from_cstr(f->branches[i]), branch))
			return true;
	return false;
}

/* The next new request the trunk receives (retransmissions skipped); NULL after `ms`. */
static struct sip_msg *recv_request(struct fixture *f, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		ssize_t n = recv(f->udp, f->rbuf, sizeof(f->rbuf), 0);
		if (n <= 0) {
			usleep(500);
			continue;
		}
		struct sip_msg *m = NULL;
		assert_int_equal(sip_msg_parse(&m, f->rbuf, (size_t)n), 0);
		assert_true(m->is_request);
		if (branch_seen(f, m->via.branch)) {
			sip_msg_unref(m);
			continue;
		}
		assert_true(f->branch_count < MAX_BRANCHES);
		snprintf(f->branches[f->branch_count++], sizeof(f->branches[0]), "%.*s",
			 (int)m->via.branch.len, m->via.branch.p);
		return m;
	}
	return NULL;
}

static struct sip_msg *expect_request(struct fixture *f, enum sip_method method, int ms)
{
	struct sip_msg *m = recv_request(f, ms);
	if (!m)
		fail_msg("no %s within %d ms", sip_method_name(method), ms);
	assert_int_equal(m->method, method);
	return m;
}

static void reply(struct fixture *f, const struct sip_msg *req, uint16_t status, const char *extra)
{
	test_udp_respond(f->udp, f->port, req, status, "trunktag", extra, NULL);
}

static struct str hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	if (!h)
		fail_msg("no %s header", sip_hdr_name(id));
	return h->value;
}

static bool contains(struct str s, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= s.len; i++)
		if (memcmp(s.p + i, needle, n) == 0)
			return true;
	return false;
}

static void assert_str(struct str s, const char *want)
{
	if (!str_eq(s, str_from_cstr(want)))
		fail_msg("got '%.*s', expected '%s'", (int)s.len, s.p, want);
}

static void start_transport(struct fixture *f, bool do_register, uint32_t expires, uint32_t ping,
			    enum sip_transport transport)
{
	struct sip_gateway_config cfg = {
	    .name = "trunk",
	    .proxy = f->proxy,
	    .realm = "example.com",
	    .username = "alice",
	    .password = "secret",
	    .from_user = "alice",
	    .from_domain = "example.com",
	    .extension = "alice-ext",
	    .contact_params = "line=7",
	    .register_transport = transport,
	    .do_register = do_register,
	    .expire_seconds = expires,
	    .retry_seconds = 1,
	    .ping_seconds = ping,
	};
	assert_int_equal(sip_gateway_create(&f->gw, f->ua, &cfg, gw_cb, f), 0);
	/* Nothing is told before create returns. */
	assert_int_equal(f->events, 0);
	assert_string_equal(sip_gateway_name(f->gw), "trunk");
}

static void start(struct fixture *f, bool do_register, uint32_t expires, uint32_t ping)
{
	start_transport(f, do_register, expires, ping, SIP_TRANSPORT_UDP);
}

static struct sip_gateway_status status(struct fixture *f)
{
	struct sip_gateway_status st;
	sip_gateway_status(f->gw, &st);
	return st;
}

static void assert_state(struct fixture *f, size_t i, enum sip_gateway_state s)
{
	assert_true(i < f->events);
	if (f->states[i] != s)
		fail_msg("change %zu: %s, expected %s", i, sip_gateway_state_name(f->states[i]),
			 sip_gateway_state_name(s));
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(sip_gateway_state_name(SIP_GW_UNREGED), "UNREGED");
	assert_string_equal(sip_gateway_state_name(SIP_GW_REGED), "REGED");
	assert_string_equal(sip_gateway_state_name(SIP_GW_FAIL_WAIT), "FAIL_WAIT");
	assert_string_equal(sip_gateway_state_name(SIP_GW_NOREG), "NOREG");
	assert_string_equal(sip_gateway_state_name(SIP_GW_TIMEOUT), "TIMEOUT");
	assert_string_equal(sip_gateway_state_name((enum sip_gateway_state)99), "UNKNOWN");
}

/* 200 with a granted expires; the refresh at half of it keeps Call-ID and
 * From/To, takes the next CSeq; destroy sends Expires: 0. */
static void test_register_refresh_unregister(void **state)
{
	struct fixture *f = *state;
	char contact[128], want[128];
	start(f, true, 30, 0);
	assert_int_equal(status(f).state, SIP_GW_UNREGED);

	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	assert_str(r1->ruri_str, "sip:example.com");
	assert_str(r1->from.uri_str, "sip:alice@example.com");
	assert_str(r1->to.uri_str, "sip:alice@example.com");
	assert_true(r1->from.tag.len > 0);
	assert_int_equal(r1->cseq.num, 1);
	assert_str(hdr(r1, SIP_HDR_EXPIRES), "30");
	snprintf(want, sizeof(want), "<sip:alice-ext@127.0.0.1:%u;line=7>", f->port);
	assert_str(hdr(r1, SIP_HDR_CONTACT), want);
	assert_str(hdr(r1, SIP_HDR_USER_AGENT), "irisx-test");
	wait_events(f, 1, 100);
	assert_state(f, 0, SIP_GW_TRYING);

	/* The registrar grants 2 s in our Contact (and something else in Expires). */
	snprintf(contact, sizeof(contact),
		 "Contact: <sip:other@192.0.2.9:5060>;expires=99, "
		 "<sip:alice-ext@127.0.0.1:%u;line=7>;expires=2\r\nExpires: 40\r\n",
		 f->port);
	reply(f, r1, 200, contact);
	wait_events(f, 2, 1000);
	assert_state(f, 1, SIP_GW_REGED);
	struct sip_gateway_status st = status(f);
	assert_int_equal(st.expires, 2);
	assert_int_equal(st.last_status, 200);
	assert_string_equal(st.last_phrase, "OK");
	assert_int_equal(net_addr_port(&st.registrar), f->udp_port);
	assert_true(st.up); /* no ping: always up */

	/* Refresh at 1 s: same Call-ID, CSeq 2, the asked expires again. */
	uint64_t t0 = clock_now_ms();
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 2000);
	uint64_t waited = clock_now_ms() - t0;
	assert_true(waited >= 700 && waited <= 1500);
	assert_true(str_eq(r2->call_id, r1->call_id));
	assert_int_equal(r2->cseq.num, 2);
	assert_str(hdr(r2, SIP_HDR_EXPIRES), "30");
	reply(f, r2, 200, "Expires: 30\r\n"); /* no Contact: the Expires header counts */
	run_for(f, 50);
	assert_int_equal(f->events, 2); /* still REGED: a refresh is no state change */
	assert_int_equal(status(f).expires, 30);

	sip_gateway_destroy(f->gw);
	f->gw = NULL;
	struct sip_msg *r3 = expect_request(f, SIP_METHOD_REGISTER, 500);
	assert_true(str_eq(r3->call_id, r1->call_id));
	assert_int_equal(r3->cseq.num, 3);
	assert_str(hdr(r3, SIP_HDR_EXPIRES), "0");
	assert_int_equal(f->events, 2); /* no callback after destroy */
	sip_msg_unref(r1);
	sip_msg_unref(r2);
	sip_msg_unref(r3);
}

static const char challenge[] =
    "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n0nce\", qop=\"auth\", "
    "algorithm=MD5\r\n";

/* 401 is answered once with credentials in a new request of the same Call-ID. */
static void test_register_challenge(void **state)
{
	struct fixture *f = *state;
	start(f, true, 60, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	assert_null(sip_msg_hdr(r1, SIP_HDR_AUTHORIZATION));
	reply(f, r1, 401, challenge);
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	assert_true(str_eq(r2->call_id, r1->call_id));
	assert_true(str_eq(r2->from.tag, r1->from.tag));
	assert_int_equal(r2->cseq.num, 2);
	struct str auth = hdr(r2, SIP_HDR_AUTHORIZATION);
	assert_true(str_starts_with_i(auth, "Digest "));
	assert_true(contains(auth, "username=\"alice\""));
	assert_true(contains(auth, "uri=\"sip:example.com\""));
	assert_true(contains(auth, "realm=\"example.com\""));
	reply(f, r2, 200, "Expires: 60\r\n");
	wait_events(f, 2, 1000);
	assert_state(f, 0, SIP_GW_TRYING);
	assert_state(f, 1, SIP_GW_REGED);
	assert_int_equal(status(f).expires, 60);
	sip_msg_unref(r1);
	sip_msg_unref(r2);
}

/* A second challenge for the same request fails: FAILED, FAIL_WAIT, and
 * retry_seconds later a new attempt (TRYING) with the next CSeq. */
static void test_register_second_challenge_fails(void **state)
{
	struct fixture *f = *state;
	start(f, true, 60, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	reply(f, r1, 401, challenge);
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	reply(f, r2, 401, challenge);
	wait_events(f, 3, 1000);
	assert_state(f, 0, SIP_GW_TRYING);
	assert_state(f, 1, SIP_GW_FAILED);
	assert_state(f, 2, SIP_GW_FAIL_WAIT);
	struct sip_gateway_status st = status(f);
	assert_int_equal(st.last_status, 401);
	assert_string_equal(st.last_phrase, "Unauthorized");
	assert_int_equal(st.expires, 0);
	/* Nothing more until the retry. */
	assert_null(recv_request(f, 600));
	struct sip_msg *r3 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	assert_true(str_eq(r3->call_id, r1->call_id));
	assert_int_equal(r3->cseq.num, 3);
	wait_events(f, 4, 100);
	assert_state(f, 3, SIP_GW_TRYING);
	sip_msg_unref(r1);
	sip_msg_unref(r2);
	sip_msg_unref(r3);
}

/* 423 Interval Too Brief: the retry asks for Min-Expires, and keeps it. */
static void test_register_min_expires(void **state)
{
	struct fixture *f = *state;
	start(f, true, 1, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	assert_str(hdr(r1, SIP_HDR_EXPIRES), "1");
	reply(f, r1, 423, "Min-Expires: 4\r\n");
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	assert_int_equal(r2->cseq.num, 2);
	assert_str(hdr(r2, SIP_HDR_EXPIRES), "4");
	reply(f, r2, 200, NULL); /* neither Contact nor Expires: what was asked */
	wait_events(f, 2, 1000);
	assert_state(f, 1, SIP_GW_REGED);
	assert_int_equal(status(f).expires, 4);
	struct sip_msg *r3 = expect_request(f, SIP_METHOD_REGISTER, 3000);
	assert_str(hdr(r3, SIP_HDR_EXPIRES), "4");
	assert_int_equal(r3->cseq.num, 3);
	sip_msg_unref(r1);
	sip_msg_unref(r2);
	sip_msg_unref(r3);
}

/* A 423 without a usable Min-Expires is a failure like any other. */
static void test_register_423_without_min_expires(void **state)
{
	struct fixture *f = *state;
	start(f, true, 60, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	reply(f, r1, 423, "Min-Expires: 30\r\n"); /* not more than asked */
	wait_events(f, 3, 1000);
	assert_state(f, 1, SIP_GW_FAILED);
	assert_state(f, 2, SIP_GW_FAIL_WAIT);
	assert_int_equal(status(f).last_status, 423);
	sip_msg_unref(r1);
}

static void test_register_forbidden(void **state)
{
	struct fixture *f = *state;
	start(f, true, 60, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	reply(f, r1, 403, NULL);
	wait_events(f, 3, 1000);
	assert_state(f, 1, SIP_GW_FAILED);
	assert_state(f, 2, SIP_GW_FAIL_WAIT);
	assert_int_equal(status(f).last_status, 403);
	assert_string_equal(status(f).last_phrase, "Forbidden");
	/* The retry succeeds this time. */
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 2000);
	reply(f, r2, 200, "Expires: 60\r\n");
	wait_events(f, 5, 1000);
	assert_state(f, 3, SIP_GW_TRYING);
	assert_state(f, 4, SIP_GW_REGED);
	sip_msg_unref(r1);
	sip_msg_unref(r2);
}

/* No answer at all: Timer F (64*T1) fails the attempt with 408. */
static void test_register_timeout(void **state)
{
	struct fixture *f = *state;
	start(f, true, 60, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	uint64_t t0 = clock_now_ms();
	wait_events(f, 3, 3000);
	uint64_t took = clock_now_ms() - t0;
	assert_true(took >= 500 && took < 2000);
	assert_state(f, 1, SIP_GW_FAILED);
	assert_state(f, 2, SIP_GW_FAIL_WAIT);
	assert_int_equal(status(f).last_status, 408);
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 2000);
	assert_int_equal(r2->cseq.num, 2);
	sip_msg_unref(r1);
	sip_msg_unref(r2);
}

/* A refresh that fails takes a registered gateway to FAILED. */
static void test_refresh_failure(void **state)
{
	struct fixture *f = *state;
	start(f, true, 2, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	reply(f, r1, 200, NULL);
	wait_events(f, 2, 1000);
	assert_state(f, 1, SIP_GW_REGED);
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 2000);
	reply(f, r2, 500, NULL);
	wait_events(f, 4, 1000);
	assert_state(f, 2, SIP_GW_FAILED);
	assert_state(f, 3, SIP_GW_FAIL_WAIT);
	assert_int_equal(status(f).last_status, 500);
	/* A gateway that is not registered does not unregister when destroyed. */
	sip_gateway_destroy(f->gw);
	f->gw = NULL;
	assert_null(recv_request(f, 300));
	sip_msg_unref(r1);
	sip_msg_unref(r2);
}

/* register=false: NOREG, no REGISTER; OPTIONS every ping seconds: an answer
 * is UP, silence DOWN, an answer again UP. */
static void test_ping_up_down_up(void **state)
{
	struct fixture *f = *state;
	char want[64];
	start(f, false, 60, 1);
	assert_int_equal(status(f).state, SIP_GW_NOREG);
	assert_false(status(f).up);

	struct sip_msg *o1 = expect_request(f, SIP_METHOD_OPTIONS, 500);
	snprintf(want, sizeof(want), "sip:127.0.0.1:%u", f->udp_port);
	assert_str(o1->ruri_str, want);
	assert_str(o1->to.uri_str, want);
	assert_str(o1->from.uri_str, "sip:alice@example.com");
	reply(f, o1, 404, NULL); /* any answer will do */
	wait_events(f, 1, 500);
	assert_true(f->ups[0]);
	assert_int_equal(f->states[0], SIP_GW_NOREG);

	/* Silence: the next ping times out. */
	struct sip_msg *o2 = expect_request(f, SIP_METHOD_OPTIONS, 1500);
	assert_false(str_eq(o2->via.branch, o1->via.branch));
	wait_events(f, 2, 2000);
	assert_false(f->ups[1]);
	struct sip_gateway_status st = status(f);
	assert_false(st.up);
	assert_int_equal(st.last_status, 408);
	assert_true(st.pings_ok == 1 && st.pings_failed == 1);

	/* Back. */
	struct sip_msg *o3 = expect_request(f, SIP_METHOD_OPTIONS, 1500);
	reply(f, o3, 200, NULL);
	wait_events(f, 3, 500);
	assert_true(f->ups[2]);
	assert_int_equal(status(f).state, SIP_GW_NOREG);
	/* No REGISTER was ever sent: expect_request checked every method. */
	sip_msg_unref(o1);
	sip_msg_unref(o2);
	sip_msg_unref(o3);
}

static void test_bad_config(void **state)
{
	struct fixture *f = *state;
	struct sip_gateway *gw = NULL;
	struct sip_gateway_config cfg = {.name = "x", .proxy = NULL, .do_register = true};
	assert_int_equal(sip_gateway_create(&gw, f->ua, &cfg, gw_cb, f), -EINVAL);
	cfg.proxy = "bad host name with spaces";
	assert_int_equal(sip_gateway_create(&gw, f->ua, &cfg, gw_cb, f), -EINVAL);
	cfg.proxy = "";
	assert_int_equal(sip_gateway_create(&gw, f->ua, &cfg, gw_cb, f), -EINVAL);
	assert_null(gw);
}

/* A proxy given by name is located first (RFC 3263: a name with a port is
 * looked up as A/AAAA; "localhost" comes from the hosts file, no DNS): the
 * REGISTER and the ping reach it, and the registrar's address is known. */
static void test_proxy_by_name(void **state)
{
	struct fixture *f = *state;
	snprintf(f->proxy, sizeof(f->proxy), "localhost:%u", f->udp_port);
	start(f, true, 60, 1);
	struct sip_msg *m1 = recv_request(f, 2000);
	struct sip_msg *m2 = recv_request(f, 2000);
	assert_non_null(m1);
	assert_non_null(m2);
	struct sip_msg *reg = m1->method == SIP_METHOD_REGISTER ? m1 : m2;
	struct sip_msg *opt = reg == m1 ? m2 : m1;
	assert_int_equal(reg->method, SIP_METHOD_REGISTER);
	assert_int_equal(opt->method, SIP_METHOD_OPTIONS);
	char want[64];
	snprintf(want, sizeof(want), "sip:localhost:%u", f->udp_port);
	assert_str(opt->ruri_str, want);
	reply(f, reg, 200, "Expires: 60\r\n");
	reply(f, opt, 200, NULL);
	run_for(f, 100);
	struct sip_gateway_status st = status(f);
	assert_int_equal(st.state, SIP_GW_REGED);
	assert_true(st.up);
	char host[NET_ADDR_STRLEN];
	snprintf(want, sizeof(want), "127.0.0.1:%u", f->udp_port);
	assert_string_equal(net_addr_print(&st.registrar, host, sizeof(host)), want);
	/* The unregister goes to the address the registration went to. */
	sip_gateway_destroy(f->gw);
	f->gw = NULL;
	struct sip_msg *r2 = recv_request(f, 500);
	assert_non_null(r2);
	assert_int_equal(r2->method, SIP_METHOD_REGISTER);
	assert_str(hdr(r2, SIP_HDR_EXPIRES), "0");
	sip_msg_unref(m1);
	sip_msg_unref(m2);
	sip_msg_unref(r2);
}

/* 407 from a proxy: answered with Proxy-Authorization. */
static void test_register_proxy_challenge(void **state)
{
	struct fixture *f = *state;
	start(f, true, 60, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	reply(f, r1, 407,
	      "Proxy-Authenticate: Digest realm=\"proxy.example.com\", nonce=\"p1\", "
	      "algorithm=SHA-256, qop=\"auth\"\r\n");
	struct sip_msg *r2 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	assert_null(sip_msg_hdr(r2, SIP_HDR_AUTHORIZATION));
	struct str auth = hdr(r2, SIP_HDR_PROXY_AUTHORIZATION);
	assert_true(contains(auth, "realm=\"proxy.example.com\""));
	assert_true(contains(auth, "algorithm=SHA-256"));
	assert_int_equal(r2->cseq.num, 2);
	reply(f, r2, 200, NULL);
	wait_events(f, 2, 1000);
	assert_state(f, 1, SIP_GW_REGED);
	sip_msg_unref(r1);
	sip_msg_unref(r2);
}

/* Destroyed while its first REGISTER is pending: nothing more is sent, no
 * callback runs, and the late answer is dropped harmlessly. */
static void test_destroy_while_trying(void **state)
{
	struct fixture *f = *state;
	start(f, true, 60, 1);
	struct sip_msg *m1 = recv_request(f, 1000);
	struct sip_msg *m2 = recv_request(f, 1000);
	assert_non_null(m1);
	assert_non_null(m2);
	struct sip_msg *reg = m1->method == SIP_METHOD_REGISTER ? m1 : m2;
	assert_int_equal(reg->method, SIP_METHOD_REGISTER);
	size_t seen = f->events;
	sip_gateway_destroy(f->gw);
	f->gw = NULL;
	reply(f, m1, 200, NULL);
	reply(f, m2, 200, NULL);
	assert_null(recv_request(f, 1500)); /* no unregister, no further ping */
	assert_int_equal(f->events, seen);
	sip_msg_unref(m1);
	sip_msg_unref(m2);
}

/* register-transport tcp: the REGISTER goes on a TCP connection, Via and
 * Contact say TCP, and the 200 comes back on it. */
static void test_register_tcp(void **state)
{
	struct fixture *f = *state;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(ls, (struct sockaddr *)&a, &len);
	assert_int_equal(listen(ls, 4), 0);
	fcntl(ls, F_SETFL, O_NONBLOCK);
	snprintf(f->proxy, sizeof(f->proxy), "sip:127.0.0.1:%u;transport=tcp", ntohs(a.sin_port));
	start_transport(f, true, 60, 0, SIP_TRANSPORT_TCP);

	int c = -1;
	size_t got = 0;
	char *end = NULL;
	uint64_t deadline = clock_now_ms() + 2000;
	while (!end && clock_now_ms() < deadline) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		if (c < 0) {
			c = accept(ls, NULL, NULL);
			if (c >= 0)
				fcntl(c, F_SETFL, O_NONBLOCK);
		} else {
			ssize_t n = recv(c, f->rbuf + got, sizeof(f->rbuf) - 1 - got, 0);
			if (n > 0) {
				got += (size_t)n;
				f->rbuf[got] = 0;
				end = strstr(f->rbuf, "\r\n\r\n");
			}
		}
		usleep(500);
	}
	assert_non_null(end);
	struct sip_msg *r1 = NULL;
	assert_int_equal(sip_msg_parse(&r1, f->rbuf, (size_t)(end + 4 - f->rbuf)), 0);
	assert_int_equal(r1->method, SIP_METHOD_REGISTER);
	assert_str(r1->via.transport, "TCP");
	char want[128];
	snprintf(want, sizeof(want), "<sip:alice-ext@127.0.0.1:%u;transport=tcp;line=7>", f->port);
	assert_str(hdr(r1, SIP_HDR_CONTACT), want);
	struct buf b;
	buf_init(&b);
	sip_response_print(&b, r1, 200, NULL, "tcptag", "Expires: 60\r\n", STR_NULL);
	assert_int_equal(send(c, b.p, b.len, 0), (ssize_t)b.len);
	buf_fini(&b);
	wait_events(f, 2, 1000);
	assert_state(f, 1, SIP_GW_REGED);
	assert_int_equal(status(f).transport, SIP_TRANSPORT_TCP);
	sip_msg_unref(r1);
	sip_gateway_destroy(f->gw); /* the unregister goes on the connection */
	f->gw = NULL;
	run_for(f, 50);
	close(c);
	close(ls);
}

/* Registered, then stopped as the core stops a profile: the gateway, then
 * its UA. Returns the unregister (Expires: 0, CSeq 2); *closed turns true
 * once the UA has closed. */
static struct sip_msg *stop_registered(struct fixture *f, bool *closed)
{
	start(f, true, 60, 0);
	struct sip_msg *r1 = expect_request(f, SIP_METHOD_REGISTER, 1000);
	reply(f, r1, 200, "Expires: 60\r\n");
	wait_events(f, 2, 1000);
	assert_state(f, 1, SIP_GW_REGED);
	sip_gateway_destroy(f->gw);
	f->gw = NULL;
	sip_ua_destroy(f->ua, test_flag_set, closed);
	f->ua = NULL;
	struct sip_msg *u = expect_request(f, SIP_METHOD_REGISTER, 500);
	assert_true(str_eq(u->call_id, r1->call_id));
	assert_int_equal(u->cseq.num, 2);
	assert_str(hdr(u, SIP_HDR_EXPIRES), "0");
	assert_null(sip_msg_hdr(u, SIP_HDR_AUTHORIZATION));
	sip_msg_unref(r1);
	return u;
}

static void run_until_flag(struct fixture *f, const bool *flag, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (!*flag && clock_now_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

/* A carrier challenges the unregister too: the UA stays open long enough to
 * send it again with credentials (same Call-ID, CSeq + 1), then closes. */
static void test_unregister_challenged(void **state)
{
	struct fixture *f = *state;
	bool closed = false;
	struct sip_msg *u = stop_registered(f, &closed);
	assert_false(closed);
	reply(f, u, 401, challenge);
	struct sip_msg *u2 = expect_request(f, SIP_METHOD_REGISTER, 500);
	assert_true(str_eq(u2->call_id, u->call_id));
	assert_true(str_eq(u2->from.tag, u->from.tag));
	assert_int_equal(u2->cseq.num, 3);
	assert_str(hdr(u2, SIP_HDR_EXPIRES), "0");
	struct str auth = hdr(u2, SIP_HDR_AUTHORIZATION);
	assert_true(contains(auth, "username=\"alice\""));
	assert_true(contains(auth, "nonce=\"n0nce\""));
	assert_true(contains(auth, "uri=\"sip:example.com\""));
	run_for(f, 30);
	assert_false(closed); /* waits for the answer */
	reply(f, u2, 200, NULL);
	run_until_flag(f, &closed, 500);
	assert_true(closed);
	assert_int_equal(f->events, 2); /* no callback after destroy */
	sip_msg_unref(u);
	sip_msg_unref(u2);
}

/* A second challenge is final; a registrar that does not answer is not
 * waited for beyond the unregister's own timeout. */
static void test_unregister_challenged_twice(void **state)
{
	struct fixture *f = *state;
	bool closed = false;
	struct sip_msg *u = stop_registered(f, &closed);
	reply(f, u, 401, challenge);
	struct sip_msg *u2 = expect_request(f, SIP_METHOD_REGISTER, 500);
	reply(f, u2, 401, challenge);
	run_until_flag(f, &closed, 500);
	assert_true(closed);
	assert_null(recv_request(f, 100));
	sip_msg_unref(u);
	sip_msg_unref(u2);
}

static void test_unregister_unanswered(void **state)
{
	struct fixture *f = *state;
	bool closed = false;
	uint64_t t0 = clock_now_ms();
	struct sip_msg *u = stop_registered(f, &closed);
	run_until_flag(f, &closed, 3000); /* Timer F: 64 * 10 ms */
	assert_true(closed);
	assert_true(clock_now_ms() - t0 < 2500);
	sip_msg_unref(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test_setup_teardown(test_register_refresh_unregister, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_challenge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_second_challenge_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_min_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_423_without_min_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_forbidden, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_up_down_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_proxy_by_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_proxy_challenge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_while_trying, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unregister_challenged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unregister_challenged_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unregister_unanswered, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
