/*
 * An HTTP/1.1 server on 127.0.0.1 (a port of its own) for the unit tests of
 * what speaks HTTP to the outside: a thread accepts, and a thread per
 * connection reads one request (head and Content-Length body), logs it, and
 * hands it to the test's answer callback, which may answer at once, late,
 * with garbage, or never (waiting for the client to leave). The log keeps
 * each request as received; the count of connections the client closed
 * while the server waited tells cancellations apart. Header-only, for
 * cmocka test files.
 */
#ifndef IRISX_TEST_HTTP_SERVER_H
#define IRISX_TEST_HTTP_SERVER_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { TEST_HTTP_CONN_MAX = 64, TEST_HTTP_PATH_MAX = 2048 };

struct test_http_server;

/* Answers the request `req` (NUL-terminated, head and body) for `path` (its
 * target without the query) on connection `fd`, from the connection's
 * thread; the connection closes when it returns. */
typedef void (*test_http_answer_cb)(void *arg, struct test_http_server *srv, int fd,
				    const char *path, const char *req);

struct test_http_server {
	int lfd;
	uint16_t port;
	test_http_answer_cb answer_cb;
	void *arg;
	pthread_t acceptor;
	pthread_t conns[TEST_HTTP_CONN_MAX];
	size_t conn_count;
	pthread_mutex_t lock;
	char *requests[TEST_HTTP_CONN_MAX]; /* as received: head and body */
	size_t request_count;
	size_t peers_closed; /* connections the client closed while we waited */
	volatile bool stopping;
};

struct test_http_conn__ {
	struct test_http_server *srv;
	int fd;
};

/* Sends all of p; stops quietly when the client went away (a limit, a cancel). */
static inline void test_http_send_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		ssize_t n = send(fd, c, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		c += n;
		len -= (size_t)n;
	}
}

/* A status line, `extra` header lines (each ending in CRLF, or ""), the
 * Content-Length and Connection: close. */
static inline void test_http_send_head(int fd, const char *status, const char *extra, size_t clen)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, extra, clen);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	test_http_send_all(fd, head, (size_t)n);
}

/* Waits up to ms (< 0: until the server stops) for the client to close the
 * connection: true when it did, and counted. */
static inline bool test_http_wait_close(struct test_http_server *srv, int fd, int ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!srv->stopping) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long elapsed = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= 0 && elapsed >= ms)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		char b[256];
		if (recv(fd, b, sizeof(b), 0) <= 0) {
			pthread_mutex_lock(&srv->lock);
			srv->peers_closed++;
			pthread_mutex_unlock(&srv->lock);
			return true;
		}
	}
	return false;
}

/* Reads one request, head and body; NULL when the client closed first. */
static inline char *test_http__read_request(int fd)
{
	size_t cap = 65536, len = 0;
	char *in = malloc(cap);
	assert_non_null(in);
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			in = realloc(in, cap);
			assert_non_null(in);
		}
		ssize_t n = recv(fd, in + len, cap - len - 1, 0);
		if (n <= 0) {
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

/* The target of request `req` without its query, into out. */
static inline void test_http_request_path_of(const char *req, char *out, size_t size)
{
	char target[TEST_HTTP_PATH_MAX] = "";
	sscanf(req, "%*s %2047s", target);
	target[strcspn(target, "?")] = '\0';
	snprintf(out, size, "%s", target);
}

static inline void *test_http__conn_main(void *arg)
{
	struct test_http_conn__ c = *(struct test_http_conn__ *)arg;
	free(arg);
	char *req = test_http__read_request(c.fd);
	if (req) {
		char path[TEST_HTTP_PATH_MAX];
		test_http_request_path_of(req, path, sizeof(path));
		char *copy = strdup(req);
		pthread_mutex_lock(&c.srv->lock);
		if (c.srv->request_count < TEST_HTTP_CONN_MAX)
			c.srv->requests[c.srv->request_count++] = copy;
		else
			free(copy);
		pthread_mutex_unlock(&c.srv->lock);
		c.srv->answer_cb(c.srv->arg, c.srv, c.fd, path, req);
		free(req);
	}
	close(c.fd);
	return NULL;
}

static inline void *test_http__accept_main(void *arg)
{
	struct test_http_server *srv = arg;
	for (;;) {
		int fd = accept(srv->lfd, NULL, NULL);
		if (fd < 0)
			return NULL; /* shut down */
		if (srv->conn_count == TEST_HTTP_CONN_MAX) {
			close(fd);
			continue;
		}
		struct test_http_conn__ *c = malloc(sizeof(*c));
		assert_non_null(c);
		c->srv = srv;
		c->fd = fd;
		pthread_create(&srv->conns[srv->conn_count++], NULL, test_http__conn_main, c);
	}
}

/* Listens on 127.0.0.1, a port of the system's choosing (srv->port), and
 * answers each request with answer_cb(arg, ...). */
static inline void test_http_start(struct test_http_server *srv, test_http_answer_cb answer_cb,
				   void *arg)
{
	memset(srv, 0, sizeof(*srv));
	srv->answer_cb = answer_cb;
	srv->arg = arg;
	pthread_mutex_init(&srv->lock, NULL);
	srv->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(srv->lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(srv->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(srv->lfd, 16), 0);
	socklen_t len = sizeof(a);
	getsockname(srv->lfd, (struct sockaddr *)&a, &len);
	srv->port = ntohs(a.sin_port);
	pthread_create(&srv->acceptor, NULL, test_http__accept_main, srv);
}

/* Stops accepting, lets every connection end (those waiting give up) and
 * frees the log. */
static inline void test_http_stop(struct test_http_server *srv)
{
	srv->stopping = true;
	shutdown(srv->lfd, SHUT_RDWR);
	pthread_join(srv->acceptor, NULL);
	close(srv->lfd);
	for (size_t i = 0; i < srv->conn_count; i++)
		pthread_join(srv->conns[i], NULL);
	for (size_t i = 0; i < srv->request_count; i++)
		free(srv->requests[i]);
	pthread_mutex_destroy(&srv->lock);
}

/* The URL of `path` on the server, into out. */
static inline const char *test_http_url(const struct test_http_server *srv, const char *path,
					char *out, size_t size)
{
	int n = snprintf(out, size, "http://127.0.0.1:%u%s", srv->port, path);
	assert_true(n > 0 && (size_t)n < size);
	return out;
}

static inline size_t test_http_requests(struct test_http_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	size_t n = srv->request_count;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

/* The i-th request as received (it stays until the server stops). */
static inline const char *test_http_request(struct test_http_server *srv, size_t i)
{
	pthread_mutex_lock(&srv->lock);
	const char *r = i < srv->request_count ? srv->requests[i] : NULL;
	pthread_mutex_unlock(&srv->lock);
	assert_non_null(r);
	return r;
}

/* Requests whose path (without the query) is path. */
static inline size_t test_http_requests_to(struct test_http_server *srv, const char *path)
{
	size_t n = 0;
	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < srv->request_count; i++) {
		char p[TEST_HTTP_PATH_MAX];
		test_http_request_path_of(srv->requests[i], p, sizeof(p));
		n += strcmp(p, path) == 0;
	}
	pthread_mutex_unlock(&srv->lock);
	return n;
}

static inline size_t test_http_peers_closed(struct test_http_server *srv)
{
	pthread_mutex_lock(&srv->lock);
	size_t n = srv->peers_closed;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

/* A TCP socket bound on 127.0.0.1 and not listening (*fd, for the caller to
 * close): connections to its port are refused. Its port. */
static inline uint16_t test_tcp_port_unused(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(*fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

#endif
