/*
 * What the unit tests that put a UA (or a whole core) on a real loop share:
 * running the loop for a while, and a raw UDP socket on 127.0.0.1 playing
 * the far end — sending datagrams to a port and reading what comes back,
 * parsed, while the loop runs — and the UA on 127.0.0.1 such tests start
 * and stop; and, to check the credentials a UA sends without sip_auth_*,
 * a Digest parameter reader and MD5 from libcrypto. Header-only, for cmocka
 * test files.
 */
#ifndef IRISX_TEST_SIP_UTIL_H
#define IRISX_TEST_SIP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/evp.h>
#include <unistd.h>
#include <uv.h>

#include "base/base.h"
#include "sip/sip.h"

/* A done callback that sets the bool it is given (sip_ua_destroy, core shutdown). */
static inline void test_flag_set(void *arg)
{
	*(bool *)arg = true;
}

/* Runs `loop` without blocking for `ms` milliseconds of wall time. */
static inline void test_loop_run_for(uv_loop_t *loop, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (clock_now_ms() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

/* Sends `len` bytes from socket `fd` to 127.0.0.1:`port`; asserts it went. */
static inline void test_udp_send(int fd, uint16_t port, const char *data, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
}

__attribute__((format(printf, 3, 4))) static inline void test_udp_sendf(int fd, uint16_t port,
									const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(msg));
	test_udp_send(fd, port, msg, (size_t)n);
}

/* A UDP socket bound to 127.0.0.1 on a port the kernel picks (written to
 * *port), non-blocking: the far end a test plays. The caller closes it. */
static inline int test_udp_open(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/*
 * Creates a UA on `loop` listening on 127.0.0.1 (cfg->addr is set here) and
 * returns its port. Port 0 would give UDP and TCP two different ports, so a
 * port free for both is looked for among a few derived from the pid and
 * `salt` (which keeps two UAs of one test, and test programs run side by
 * side, from trying the same ones). Fails the test when none is free.
 */
static inline uint16_t test_ua_create(struct sip_ua **out, uv_loop_t *loop,
				      struct sip_ua_config *cfg, const struct sip_ua_cbs *cbs,
				      unsigned salt)
{
	uint16_t port = 0;
	*out = NULL;
	assert_int_equal(net_addr_parse(&cfg->addr, STR("127.0.0.1"), 0), 0);
	for (unsigned attempt = 0; attempt < 40 && !*out; attempt++) {
		port = (uint16_t)(20000 + ((unsigned)getpid() * 13 + attempt * 131 + salt) % 30000);
		net_addr_set_port(&cfg->addr, port);
		if (sip_ua_create(out, loop, cfg, cbs) != 0)
			*out = NULL;
		uv_run(loop, UV_RUN_NOWAIT); /* closes what a failed attempt opened */
	}
	assert_non_null(*out);
	return port;
}

/* Destroys `ua` and runs `loop` until its handles have closed. */
static inline void test_ua_destroy(uv_loop_t *loop, struct sip_ua *ua)
{
	bool closed = false;
	sip_ua_destroy(ua, test_flag_set, &closed);
	while (!closed)
		uv_run(loop, UV_RUN_ONCE);
}

/* The end of such a test: destroys `ua` (unless NULL, one the test closed
 * itself), closes `loop`, which must have nothing left open, and the far
 * end's socket `udp`. */
static inline void test_ua_fini(uv_loop_t *loop, struct sip_ua *ua, int udp)
{
	if (ua)
		test_ua_destroy(loop, ua);
	uv_run(loop, UV_RUN_NOWAIT); /* close callbacks queued by the last pass */
	assert_int_equal(uv_loop_close(loop), 0);
	close(udp);
}

/* Sends from socket `fd` to 127.0.0.1:`port` the response to `req` with
 * `status`, the To tag `to_tag` (NULL: none added), `extra` header lines
 * (complete with CRLF, or NULL) and `body` (or NULL). */
static inline void test_udp_respond(int fd, uint16_t port, const struct sip_msg *req,
				    uint16_t status, const char *to_tag, const char *extra,
				    const char *body)
{
	struct buf b;
	buf_init(&b);
	sip_response_print(&b, req, status, NULL, to_tag, extra, str_from_cstr(body));
	assert_false(b.failed);
	test_udp_send(fd, port, b.p, b.len);
	buf_fini(&b);
}

/* The next datagram socket `fd` receives (read into `buf`), parsed, while the
 * loop runs; NULL after `ms` without one. */
static inline struct sip_msg *test_udp_recv_msg(uv_loop_t *loop, int fd, char *buf, size_t size,
						int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (clock_now_ms() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);
		if (n > 0) {
			struct sip_msg *m = NULL;
			assert_int_equal(sip_msg_parse(&m, buf, (size_t)n), 0);
			return m;
		}
		usleep(500);
	}
	return NULL;
}

/* The next request of `method` (and CSeq `cseq` when non-zero) socket `fd`
 * receives while the loop runs; anything else (retransmissions of earlier
 * requests, responses) is skipped. NULL after `ms`. */
static inline struct sip_msg *test_udp_recv_req(uv_loop_t *loop, int fd, char *buf, size_t size,
						enum sip_method method, uint32_t cseq, int ms)
{
	uint64_t end = clock_now_ms() + (uint64_t)ms;
	while (clock_now_ms() < end) {
		struct sip_msg *m =
		    test_udp_recv_msg(loop, fd, buf, size, (int)(end - clock_now_ms()) + 1);
		if (!m)
			return NULL;
		if (m->is_request && m->method == method && (!cseq || m->cseq.num == cseq))
			return m;
		sip_msg_unref(m);
	}
	return NULL;
}

/* As test_udp_recv_req() within 3 s, failing the test without one. */
static inline struct sip_msg *test_udp_expect_req(uv_loop_t *loop, int fd, char *buf, size_t size,
						  enum sip_method method, uint32_t cseq)
{
	struct sip_msg *m = test_udp_recv_req(loop, fd, buf, size, method, cseq, 3000);
	if (!m)
		fail_msg("no %s (CSeq %u) on the wire", sip_method_name(method), (unsigned)cseq);
	return m;
}

/* Header `id` of `m` as a C string in `buf` (truncated to `size`), or NULL
 * when `m` has none. */
static inline const char *test_hdr_cstr(const struct sip_msg *m, enum sip_hdr_id id, char *buf,
					size_t size)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);
	if (!h)
		return NULL;
	snprintf(buf, size, "%.*s", (int)h->value.len, h->value.p);
	return buf;
}

/* Parameter `name` of a credentials header (`Digest username="…", …`),
 * unquoted, in `out`; NULL when the header has none. */
static inline const char *test_auth_param(const char *hdr, const char *name, char *out, size_t size)
{
	char key[32];
	snprintf(key, sizeof(key), "%s=", name);
	for (const char *p = hdr; (p = strstr(p, key)); p++) {
		if (p != hdr && p[-1] != ' ' && p[-1] != ',')
			continue; /* "nc=" inside "cnonce=" */
		p += strlen(key);
		size_t n = 0;
		if (*p == '"') {
			p++;
			while (p[n] && p[n] != '"')
				n++;
		} else {
			while (p[n] && p[n] != ',' && p[n] != ' ')
				n++;
		}
		snprintf(out, size, "%.*s", (int)n, p);
		return out;
	}
	return NULL;
}

/* MD5 of the printed string, as lower-case hex (RFC 2617 §3.2.2). */
__attribute__((format(printf, 2, 3))) static inline void test_md5_hex(char out[33], const char *fmt,
								      ...)
{
	char text[512];
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(len >= 0 && (size_t)len < sizeof(text));
	assert_int_equal(EVP_Digest(text, (size_t)len, d, &n, EVP_md5(), NULL), 1);
	assert_int_equal(n, 16);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

#endif
