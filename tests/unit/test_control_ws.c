/*
 * WebSocket sessions: the handshake's accept key (RFC 6455 §1.3's example
 * and malformed keys), and a session over a socket pair streaming events as
 * text frames, answering a ping, and ending on the client's close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/control.h"
#include "test_core_event_util.h"

static void test_accept_key(void **state)
{
	char out[WS_ACCEPT_LEN + 1];
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	const char *bad[] = {"", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
			     "dGhlIHNhbXBsZSBub25jZQ=A", "dGhlIHNhbXBsZSBub25j ZQ==",
			     "dGhlIHNhbXBsZSBub25jZ\"==", NULL};
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(ws_accept_key(bad[i], out), -EINVAL);
	assert_int_equal(ws_accept_key(NULL, out), -EINVAL);
}

/* ---- a session over a socket pair; the test plays the client ---- */

struct frame {
	int opcode;
	char *payload; /* NUL-terminated copy */
	size_t len;
};

/* Reads one unmasked server frame from fd, running the loop while waiting. */
static bool read_frame(uv_loop_t *loop, int fd, struct buf *in, struct frame *f)
{
	for (int spins = 0; spins < 2000; spins++) {
		if (in->len >= 2) {
			const unsigned char *p = (const unsigned char *)in->p;
			size_t hdr = 2, len = p[1] & 0x7f;
			assert_int_equal(p[1] & 0x80, 0); /* a server never masks */
			if (len == 126 && in->len >= 4) {
				len = (size_t)p[2] << 8 | p[3];
				hdr = 4;
			} else if (len == 127 && in->len >= 10) {
				len = 0;
				for (int i = 0; i < 8; i++)
					len = len << 8 | p[2 + i];
				hdr = 10;
			}
			if ((p[1] & 0x7f) < 126 || hdr > 2) {
				if (in->len >= hdr + len) {
					assert_int_equal(p[0] & 0x80, 0x80); /* FIN */
					f->opcode = p[0] & 0x0f;
					f->payload = strndup(in->p + hdr, len);
					f->len = len;
					memmove(in->p, in->p + hdr + len, in->len - hdr - len);
					in->len -= hdr + len;
					return true;
				}
			}
		}
		char tmp[65536];
		ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n > 0) {
			buf_append(in, tmp, (size_t)n);
			continue;
		}
		if (n == 0)
			return false;
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	return false;
}

/* A masked client frame (RFC 6455 §5.3). */
static void send_frame(int fd, int opcode, const char *payload, size_t len)
{
	unsigned char f[256];
	const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
	assert_true(len < 126);
	f[0] = 0x80 | (unsigned char)opcode;
	f[1] = 0x80 | (unsigned char)len;
	memcpy(f + 2, mask, 4);
	for (size_t i = 0; i < len; i++)
		f[6 + i] = (unsigned char)payload[i] ^ mask[i % 4];
	assert_int_equal(send(fd, f, 6 + len, 0), (ssize_t)(6 + len));
}

static void closed_cb(void *arg)
{
	(*(int *)arg)++;
}

static void fire(struct core *core, const char *name, const char *uuid)
{
	struct core_event *ev;
	assert_int_equal(core_event_create(&ev, name, NULL), 0);
	core_event_add_header(ev, "Unique-ID", "%s", uuid);
	core_event_fire(core, ev);
}

static void test_session(void **state)
{
	struct test_core t;
	test_core_open(&t);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct evstream_filter f;
	assert_int_equal(evstream_filter_parse(&f, "CHANNEL_CREATE,CHANNEL_ANSWER", NULL), 0);
	struct evstream_stats stats = {0};
	struct ws_session *ws;
	int closed = 0;
	assert_int_equal(ws_session_create(&ws, &t.loop, t.core, sv[0], NULL, 0, &f, false, 0, 100, &stats,
					   closed_cb, &closed),
			 0);
	fire(t.core, "CHANNEL_CREATE", "c-1");
	fire(t.core, "CHANNEL_HANGUP", "c-1"); /* filtered out */
	fire(t.core, "CHANNEL_ANSWER", "c-1");
	struct buf in;
	buf_init(&in);
	struct frame fr;
	assert_true(read_frame(&t.loop, sv[1], &in, &fr));
	assert_int_equal(fr.opcode, 1); /* text */
	assert_non_null(strstr(fr.payload, "\"Event-Name\":\"CHANNEL_CREATE\""));
	assert_non_null(strstr(fr.payload, "\"Unique-ID\":\"c-1\""));
	assert_non_null(strstr(fr.payload, "\"Event-Sequence\":"));
	free(fr.payload);
	assert_true(read_frame(&t.loop, sv[1], &in, &fr));
	assert_non_null(strstr(fr.payload, "\"Event-Name\":\"CHANNEL_ANSWER\""));
	free(fr.payload);

	/* Many events: every one arrives, in order, through the bounded feed. */
	for (int i = 0; i < 90; i++) {
		char u[16];
		snprintf(u, sizeof(u), "n-%d", i);
		fire(t.core, "CHANNEL_CREATE", u);
	}
	for (int i = 0; i < 90; i++) {
		char u[32];
		snprintf(u, sizeof(u), "\"Unique-ID\":\"n-%d\"", i);
		assert_true(read_frame(&t.loop, sv[1], &in, &fr));
		assert_non_null(strstr(fr.payload, u));
		free(fr.payload);
	}
	assert_int_equal(stats.events_dropped, 0);
	assert_int_equal(stats.clients, 1);

	/* A ping is answered with a pong carrying the same data. */
	send_frame(sv[1], 0x9, "hi", 2);
	assert_true(read_frame(&t.loop, sv[1], &in, &fr));
	assert_int_equal(fr.opcode, 0xa);
	assert_string_equal(fr.payload, "hi");
	free(fr.payload);

	/* The client closes: the server answers with a close and the session ends. */
	send_frame(sv[1], 0x8, "\x03\xe8", 2);
	assert_true(read_frame(&t.loop, sv[1], &in, &fr));
	assert_int_equal(fr.opcode, 0x8);
	free(fr.payload);
	for (int i = 0; i < 100 && !closed; i++)
		uv_run(&t.loop, UV_RUN_NOWAIT);
	assert_int_equal(closed, 1);
	assert_int_equal(stats.clients, 0);
	close(sv[0]);
	close(sv[1]);
	buf_fini(&in);
	test_core_close(&t);
}

/* The client goes away without a close: the session ends by itself; an
 * oversized message from the client ends it too. */
static void test_session_peer_gone(void **state)
{
	struct test_core t;
	test_core_open(&t);
	for (int oversized = 0; oversized < 2; oversized++) {
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		struct evstream_filter f;
		assert_int_equal(evstream_filter_parse(&f, NULL, NULL), 0);
		struct ws_session *ws;
		int closed = 0;
		assert_int_equal(ws_session_create(&ws, &t.loop, t.core, sv[0], NULL, 0, &f, false, 0, 100,
						   NULL, closed_cb, &closed),
				 0);
		if (oversized) {
			/* A 1 MiB text frame announced (64-bit length), masked. */
			unsigned char h[14] = {0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4};
			assert_int_equal(send(sv[1], h, sizeof(h), 0), (ssize_t)sizeof(h));
			/* The limit bites as the payload arrives: send past it. */
			static char junk[70000];
			memset(junk, 'a', sizeof(junk));
			size_t sent = 0;
			for (int i = 0; i < 1000 && sent < sizeof(junk); i++) {
				ssize_t n = send(sv[1], junk + sent, sizeof(junk) - sent, MSG_DONTWAIT);
				if (n > 0)
					sent += (size_t)n;
				uv_run(&t.loop, UV_RUN_NOWAIT);
			}
		} else {
			close(sv[1]);
		}
		for (int i = 0; i < 1000 && !closed; i++) {
			uv_run(&t.loop, UV_RUN_NOWAIT);
			usleep(1000);
		}
		if (!closed)
			fprintf(stderr, "not closed (oversized %d)\n", oversized);
		assert_int_equal(closed, 1);
		close(sv[0]);
		if (oversized)
			close(sv[1]);
	}
	test_core_close(&t);
}

/* A frame the client sent right behind its handshake (handed over as
 * `extra`) is read before the socket: a ping there is answered. */
static void test_session_early_bytes(void **state)
{
	struct test_core t;
	test_core_open(&t);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	const unsigned char ping[] = {0x89, 0x82, 1, 2, 3, 4, 'o' ^ 1, 'k' ^ 2};
	struct evstream_filter f;
	assert_int_equal(evstream_filter_parse(&f, NULL, NULL), 0);
	struct ws_session *ws;
	int closed = 0;
	assert_int_equal(ws_session_create(&ws, &t.loop, t.core, sv[0], (const char *)ping,
					   sizeof(ping), &f, false, 0, 100, NULL, closed_cb, &closed),
			 0);
	struct buf in;
	buf_init(&in);
	struct frame fr;
	assert_true(read_frame(&t.loop, sv[1], &in, &fr));
	assert_int_equal(fr.opcode, 0xa);
	assert_string_equal(fr.payload, "ok");
	free(fr.payload);
	ws_session_close(ws);
	for (int i = 0; i < 100 && !closed; i++)
		uv_run(&t.loop, UV_RUN_NOWAIT);
	assert_int_equal(closed, 1);
	/* It said goodbye: close 1001. */
	assert_true(read_frame(&t.loop, sv[1], &in, &fr));
	assert_int_equal(fr.opcode, 0x8);
	assert_int_equal((unsigned char)fr.payload[0] << 8 | (unsigned char)fr.payload[1], 1001);
	free(fr.payload);
	buf_fini(&in);
	close(sv[0]);
	close(sv[1]);
	test_core_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_key),
	    cmocka_unit_test(test_session),
	    cmocka_unit_test(test_session_peer_gone),
	    cmocka_unit_test(test_session_early_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
