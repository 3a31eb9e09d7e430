/*
 * irisx-cli's Event Socket connection: a blocking TCP socket read through
 * poll() with a deadline, frames cut by cli_frame_parse (src/cli/frame.c),
 * and the auth exchange every inbound client starts with (docs/ESL.md).
 */
#include "cli_bin.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNECT_TIMEOUT_MS = 5000, AUTH_TIMEOUT_MS = 5000 };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int connect_any(const char *host, const char *port, char *err, size_t err_size)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int e = getaddrinfo(host, port, &hints, &res);
	if (e) {
		snprintf(err, err_size, "cannot resolve %s port %s: %s", host, port,
			 gai_strerror(e));
		return -EINVAL;
	}
	int fd = -1, last = ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		last = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, err_size, "cannot connect to %s port %s: %s", host, port,
			 strerror(last));
		return -last;
	}
	return fd;
}

static int auth_exchange(struct cli_conn *c, const char *password, char *err, size_t err_size)
{
	struct cli_frame *f;
	int e = cli_conn_next(c, AUTH_TIMEOUT_MS, &f);
	if (e) {
		snprintf(err, err_size, "no greeting from the server: %s", strerror(-e));
		return e;
	}
	struct str type = cli_frame_header(f, "Content-Type");
	if (str_ieq_cstr(type, "text/rude-rejection")) {
		snprintf(err, err_size, "the server refused this address (its ACL): %.*s",
			 (int)str_trim(f->body).len, str_trim(f->body).p);
		return -EACCES;
	}
	if (!str_ieq_cstr(type, "auth/request")) {
		snprintf(err, err_size, "unexpected greeting '%.*s' (not an Event Socket?)",
			 (int)type.len, type.p);
		return -EPROTO;
	}
	char line[1024];
	if ((size_t)snprintf(line, sizeof(line), "auth %s", password) >= sizeof(line) ||
	    strpbrk(password, "\r\n")) {
		snprintf(err, err_size, "the password is too long or holds a line break");
		return -EINVAL;
	}
	e = cli_conn_request(c, line, AUTH_TIMEOUT_MS, NULL, NULL, &f);
	if (e) {
		snprintf(err, err_size, "no reply to auth: %s", strerror(-e));
		return e;
	}
	struct str text = cli_frame_header(f, "Reply-Text");
	if (!str_starts_with_i(text, "+OK")) {
		snprintf(err, err_size, "authentication failed (%.*s): wrong password?",
			 (int)text.len, text.p);
		return -EACCES;
	}
	return 0;
}

int cli_conn_open(struct cli_conn *c, const char *host, const char *port, const char *password,
		  char *err, size_t err_size)
{
	memset(c, 0, sizeof(*c));
	c->fd = connect_any(host, port, err, err_size);
	if (c->fd < 0)
		return c->fd;
	int e = auth_exchange(c, password, err, err_size);
	if (e)
		cli_conn_close(c);
	return e;
}

void cli_conn_close(struct cli_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int cli_conn_send(struct cli_conn *c, const char *line)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s\n\n", line);
	if (b.failed) {
		buf_fini(&b);
		return -ENOMEM;
	}
	size_t off = 0;
	while (off < b.len) {
		ssize_t n = send(c->fd, b.p + off, b.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			buf_fini(&b);
			return e;
		}
		off += (size_t)n;
	}
	buf_fini(&b);
	return 0;
}

/* Room for at least `want` more bytes of input. */
static int reserve(struct cli_conn *c, size_t want)
{
	if (c->in_cap - c->in_len >= want)
		return 0;
	size_t cap = c->in_cap ? c->in_cap : 65536;
	while (cap - c->in_len < want)
		cap *= 2;
	char *p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

int cli_conn_next(struct cli_conn *c, int timeout_ms, struct cli_frame **out)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;

	if (c->consumed) {
		memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
		c->in_len -= c->consumed;
		c->consumed = 0;
	}
	for (;;) {
		size_t used;
		int e = cli_frame_parse(&c->frame, c->in ? c->in : "", c->in_len, &used);
		if (e == 0) {
			c->consumed = used;
			*out = &c->frame;
			return 0;
		}
		if (e != -EAGAIN)
			return e;
		/* Polled even when the deadline has passed, so that a zero timeout
		 * still takes what the socket holds. */
		int wait = -1;
		if (timeout_ms >= 0) {
			uint64_t now = now_ms();
			wait = now >= deadline ? 0 : (int)(deadline - now);
		}
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			return -EINTR;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		e = reserve(c, 16384);
		if (e)
			return e;
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		c->in_len += (size_t)n;
	}
}

bool cli_frame_is_reply(const struct cli_frame *f)
{
	struct str type = cli_frame_header(f, "Content-Type");
	return str_ieq_cstr(type, "command/reply") || str_ieq_cstr(type, "api/response");
}

int cli_conn_request(struct cli_conn *c, const char *line, int timeout_ms, cli_frame_cb other_cb,
		     void *arg, struct cli_frame **out)
{
	int e = cli_conn_send(c, line);
	if (e)
		return e;
	for (;;) {
		struct cli_frame *f;
		e = cli_conn_next(c, timeout_ms, &f);
		if (e == -EINTR || e == -ETIMEDOUT)
			c->abandoned++; /* its reply may still come */
		if (e)
			return e;
		if (cli_frame_is_reply(f) && c->abandoned) {
			c->abandoned--;
			continue;
		}
		if (cli_frame_is_reply(f)) {
			*out = f;
			return 0;
		}
		if (str_ieq_cstr(cli_frame_header(f, "Content-Type"), "text/disconnect-notice"))
			return -EPIPE;
		if (other_cb)
			other_cb(arg, f);
	}
}

struct str cli_reply_text(const struct cli_frame *f)
{
	if (str_ieq_cstr(cli_frame_header(f, "Content-Type"), "api/response"))
		return f->body;
	return cli_frame_header(f, "Reply-Text");
}
