/*
 * What the unit tests that put a UA (or a whole core) on a real loop share:
 * running the loop for a while, and a raw UDP socket on 127.0.0.1 playing
 * the far end — sending datagrams to a port and reading what comes back,
 * parsed, while the loop runs. Header-only, for cmocka test files.
 */
#ifndef IRISX_TEST_SIP_UTIL_H
#define IRISX_TEST_SIP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

#endif
