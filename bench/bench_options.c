/*
 * bench_options — an OPTIONS load generator for a SIP server's UDP listener.
 *
 * Keeps a window of requests outstanding on each of one or more UDP sockets.
 * Every request is a new out-of-dialog OPTIONS (RFC 3261 §11) with its own
 * Call-ID and Via branch (§8.1.1.7), so the server sees new transactions, never
 * retransmissions. The server echoes the Via in its response (§8.2.6.2); the
 * branch carries the window slot and sequence number, which is how a 200 OK
 * finds its request without a lookup table. A request unanswered after a
 * timeout counts as lost and its slot is reused, so losses do not shrink the
 * window.
 *
 * Sockets are connected and non-blocking; messages move in batches through
 * sendmmsg/recvmmsg, and poll waits when neither way can make progress.
 * Bounded by time (-d) and count (-n). Prints throughput and latency
 * percentiles, then one "RESULT key=value ..." line for scripts.
 *
 * Self-contained on purpose: it links nothing of irisx, so it measures the
 * daemon, not shared code.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	BATCH = 64,	 /* messages per sendmmsg/recvmmsg */
	MSG_MAX = 1024,	 /* one OPTIONS or its response fits */
	RECV_MAX = 4096, /* responses may carry more headers */
	SOCKS_MAX = 8,
	WINDOW_MAX = 65536,
	FINE_BUCKETS = 10000,	/* 1 µs each: 0 to 10 ms */
	COARSE_BUCKETS = 10000, /* 1 ms each: 10 ms to 10 s */
	SCAN_INTERVAL_MS = 20,	/* how often lost requests are looked for */
};

struct bench_opts {
	const char *host;
	const char *port;
	size_t window; /* outstanding requests per socket */
	size_t nsocks;
	double seconds;	     /* how long to send */
	uint64_t count;	     /* stop sending after this many (0: no limit) */
	uint64_t timeout_ms; /* unanswered this long: lost */
};

struct bench_slot {
	uint64_t seq;	  /* of the request in flight */
	uint64_t sent_ns; /* 0: the slot is free */
};

struct bench_sock {
	int fd;
	unsigned id;
	char local[80]; /* "addr:port" for Via and Call-ID */
	struct bench_slot *slots;
	uint32_t *free_slots; /* stack of free slot indexes */
	size_t nfree;
};

struct bench_stats {
	uint64_t sent;
	uint64_t answered; /* 200 OK matched to a request in flight */
	uint64_t other;	   /* any other status code for a request in flight */
	uint64_t lost;	   /* no answer within the timeout */
	uint64_t late;	   /* answer to a request already counted lost, or a duplicate */
	uint64_t junk;	   /* datagrams we could not read as our responses */
	uint64_t errors;   /* send/recv errors other than EAGAIN */
	uint64_t fine[FINE_BUCKETS];
	uint64_t coarse[COARSE_BUCKETS];
	uint64_t overflow;
	uint64_t max_us;
	uint64_t first_ns, last_answer_ns;
};

struct bench {
	struct bench_opts opts;
	struct bench_sock socks[SOCKS_MAX];
	struct bench_stats st;
	char target[300]; /* host:port for the Request-URI, IPv6 in brackets */
	uint64_t seq;
	unsigned pid;
	char send_bufs[BATCH][MSG_MAX];
	char recv_bufs[BATCH][RECV_MAX];
};

static uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void bench_latency_add(struct bench_stats *st, uint64_t us)
{
	if (us < FINE_BUCKETS)
		st->fine[us]++;
	else if (us / 1000 < COARSE_BUCKETS)
		st->coarse[us / 1000]++;
	else
		st->overflow++;
	if (us > st->max_us)
		st->max_us = us;
}

/* The latency (µs) below which a fraction q of the answers fell; 0 if none. */
static uint64_t bench_latency_quantile(const struct bench_stats *st, double q)
{
	uint64_t total = st->answered, want, seen = 0;
	size_t i;

	if (total == 0)
		return 0;
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (i = 0; i < FINE_BUCKETS; i++) {
		seen += st->fine[i];
		if (seen > want)
			return i;
	}
	for (i = 0; i < COARSE_BUCKETS; i++) {
		seen += st->coarse[i];
		if (seen > want)
			return i * 1000 + 500;
	}
	return st->max_us;
}

/* Print one request into buf; returns its length, or 0 if it did not fit. */
static size_t bench_request_print(const struct bench *b, const struct bench_sock *s, uint32_t slot,
				  uint64_t seq, char *buf, size_t size)
{
	int n;

	n = snprintf(buf, size,
		     "OPTIONS sip:bench@%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s;branch=z9hG4bK-bo.%u.%" PRIu32 ".%" PRIu64 "\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:bench@%s>;tag=bo%u.%u\r\n"
		     "To: <sip:bench@%s>\r\n"
		     "Call-ID: bo%u.%u.%" PRIu64 "@%s\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "User-Agent: irisx-bench\r\n"
		     "Content-Length: 0\r\n"
		     "\r\n",
		     b->target, s->local, s->id, slot, seq, s->local, b->pid, s->id, b->target,
		     b->pid, s->id, seq, s->local);
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

/*
 * Read a response: its status code and the slot and sequence number from our
 * branch. The branch is searched in the whole header, as the server may have
 * added parameters to the Via. Returns -EBADMSG if it is not one of ours.
 */
static int bench_response_parse(const char *p, size_t len, unsigned sock_id, int *code,
				uint32_t *slot, uint64_t *seq)
{
	static const char magic[] = "branch=z9hG4bK-bo.";
	const char *end = p + len, *q;
	unsigned long long v[3];
	size_t i;

	if (len < 12 || memcmp(p, "SIP/2.0 ", 8) != 0)
		return -EBADMSG;
	if (p[8] < '1' || p[8] > '6' || p[9] < '0' || p[9] > '9' || p[10] < '0' || p[10] > '9')
		return -EBADMSG;
	*code = (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
	q = memmem(p, len, magic, sizeof(magic) - 1);
	if (q == NULL)
		return -EBADMSG;
	q += sizeof(magic) - 1;
	for (i = 0; i < 3; i++) {
		if (q >= end || *q < '0' || *q > '9')
			return -EBADMSG;
		v[i] = 0;
		while (q < end && *q >= '0' && *q <= '9') {
			if (v[i] > (UINT64_MAX - 9) / 10)
				return -EBADMSG;
			v[i] = v[i] * 10 + (unsigned long long)(*q - '0');
			q++;
		}
		if (i < 2) {
			if (q >= end || *q != '.')
				return -EBADMSG;
			q++;
		}
	}
	if (v[0] != sock_id || v[1] >= WINDOW_MAX)
		return -EBADMSG;
	*slot = (uint32_t)v[1];
	*seq = (uint64_t)v[2];
	return 0;
}

static int bench_sock_open(struct bench *b, struct bench_sock *s, unsigned id,
			   const struct addrinfo *ai)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	char host[64], serv[16];
	int bufsize = 4 << 20, err;
	size_t i;

	s->id = id;
	s->fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* Best effort: a larger buffer absorbs bursts; the kernel caps it. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof(bufsize));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof(bufsize));
	if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) < 0)
		return -errno;
	if (getsockname(s->fd, (struct sockaddr *)&local, &len) < 0)
		return -errno;
	err = getnameinfo((struct sockaddr *)&local, len, host, sizeof(host), serv, sizeof(serv),
			  NI_NUMERICHOST | NI_NUMERICSERV);
	if (err != 0)
		return -EINVAL;
	if (snprintf(s->local, sizeof(s->local), ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		     host, serv) >= (int)sizeof(s->local))
		return -ENAMETOOLONG;
	s->slots = calloc(b->opts.window, sizeof(*s->slots));
	s->free_slots = calloc(b->opts.window, sizeof(*s->free_slots));
	if (s->slots == NULL || s->free_slots == NULL)
		return -ENOMEM;
	for (i = 0; i < b->opts.window; i++)
		s->free_slots[i] = (uint32_t)(b->opts.window - 1 - i);
	s->nfree = b->opts.window;
	return 0;
}

static void bench_sock_close(struct bench_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->slots);
	free(s->free_slots);
	s->fd = -1;
	s->slots = NULL;
	s->free_slots = NULL;
}

static bool bench_may_send(const struct bench *b, uint64_t now, uint64_t send_until)
{
	if (now >= send_until)
		return false;
	return b->opts.count == 0 || b->seq < b->opts.count;
}

/* Fill the free slots of s with new requests. Returns -EAGAIN when the socket
 * is full, 0 otherwise. */
static int bench_sock_send(struct bench *b, struct bench_sock *s, uint64_t send_until)
{
	char(*bufs)[MSG_MAX] = b->send_bufs;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint32_t slot[BATCH];
	uint64_t seq[BATCH], now;
	int sent, i, n;

	while (s->nfree > 0) {
		now = bench_now_ns();
		if (!bench_may_send(b, now, send_until))
			return 0;
		for (n = 0; n < BATCH && (size_t)n < s->nfree; n++) {
			if (b->opts.count != 0 && b->seq + (uint64_t)n >= b->opts.count)
				break;
			slot[n] = s->free_slots[s->nfree - 1 - (size_t)n];
			seq[n] = b->seq + (uint64_t)n;
			iov[n].iov_base = bufs[n];
			iov[n].iov_len =
			    bench_request_print(b, s, slot[n], seq[n], bufs[n], MSG_MAX);
			if (iov[n].iov_len == 0)
				return -ENAMETOOLONG;
			memset(&msgs[n], 0, sizeof(msgs[n]));
			msgs[n].msg_hdr.msg_iov = &iov[n];
			msgs[n].msg_hdr.msg_iovlen = 1;
		}
		if (n == 0)
			return 0;
		sent = sendmmsg(s->fd, msgs, (unsigned)n, MSG_DONTWAIT);
		if (sent < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				return -EAGAIN;
			/* ECONNREFUSED: an ICMP error for an earlier datagram. */
			b->st.errors++;
			return -EAGAIN;
		}
		now = bench_now_ns();
		for (i = 0; i < sent; i++) {
			s->slots[slot[i]].seq = seq[i];
			s->slots[slot[i]].sent_ns = now;
		}
		s->nfree -= (size_t)sent;
		b->seq += (uint64_t)sent;
		b->st.sent += (uint64_t)sent;
		if (sent < n)
			return -EAGAIN;
	}
	return 0;
}

static void bench_sock_recv(struct bench *b, struct bench_sock *s)
{
	char(*bufs)[RECV_MAX] = b->recv_bufs;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct bench_slot *sl;
	uint64_t now, seq;
	uint32_t slot;
	int got, i, code;

	for (;;) {
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = RECV_MAX;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				b->st.errors++;
			if (errno == ECONNREFUSED)
				continue;
			return;
		}
		now = bench_now_ns();
		for (i = 0; i < got; i++) {
			if (bench_response_parse(bufs[i], msgs[i].msg_len, s->id, &code, &slot,
						 &seq) < 0 ||
			    slot >= b->opts.window) {
				b->st.junk++;
				continue;
			}
			if (code < 200)
				continue; /* a provisional answer to OPTIONS: wait for the final */
			sl = &s->slots[slot];
			if (sl->sent_ns == 0 || sl->seq != seq) {
				b->st.late++;
				continue;
			}
			if (code == 200) {
				b->st.answered++;
				bench_latency_add(&b->st, (now - sl->sent_ns) / 1000);
				b->st.last_answer_ns = now;
			} else {
				b->st.other++;
			}
			sl->sent_ns = 0;
			s->free_slots[s->nfree++] = slot;
		}
		if (got < BATCH)
			return;
	}
}

/* Count requests unanswered for longer than the timeout as lost, freeing their
 * slots. Returns how many are still in flight. */
static uint64_t bench_sock_expire(struct bench *b, struct bench_sock *s, uint64_t now)
{
	uint64_t timeout_ns = b->opts.timeout_ms * 1000000u, inflight = 0;
	size_t i;

	for (i = 0; i < b->opts.window; i++) {
		if (s->slots[i].sent_ns == 0)
			continue;
		if (now > s->slots[i].sent_ns && now - s->slots[i].sent_ns > timeout_ns) {
			s->slots[i].sent_ns = 0;
			s->free_slots[s->nfree++] = (uint32_t)i;
			b->st.lost++;
		} else {
			inflight++;
		}
	}
	return inflight;
}

static int bench_run(struct bench *b)
{
	struct pollfd pfd[SOCKS_MAX];
	uint64_t start, send_until, next_scan, now, inflight;
	bool blocked[SOCKS_MAX] = {false}, sending;
	size_t i;
	int err;

	start = bench_now_ns();
	b->st.first_ns = start;
	send_until = start + (uint64_t)(b->opts.seconds * 1e9);
	next_scan = start;
	for (;;) {
		now = bench_now_ns();
		sending = bench_may_send(b, now, send_until);
		for (i = 0; i < b->opts.nsocks; i++) {
			bench_sock_recv(b, &b->socks[i]);
			err = bench_sock_send(b, &b->socks[i], send_until);
			if (err == -ENAMETOOLONG)
				return err;
			blocked[i] = err == -EAGAIN;
		}
		now = bench_now_ns();
		if (now >= next_scan) {
			inflight = 0;
			for (i = 0; i < b->opts.nsocks; i++)
				inflight += bench_sock_expire(b, &b->socks[i], now);
			next_scan = now + SCAN_INTERVAL_MS * 1000000u;
			/* Done sending and nothing left to wait for. */
			if (!sending && inflight == 0)
				return 0;
		}
		for (i = 0; i < b->opts.nsocks; i++) {
			pfd[i].fd = b->socks[i].fd;
			pfd[i].events = POLLIN | (blocked[i] ? POLLOUT : 0);
			pfd[i].revents = 0;
		}
		/* Wake at least every scan interval to expire requests and to stop
		 * on time. */
		if (poll(pfd, b->opts.nsocks, SCAN_INTERVAL_MS) < 0 && errno != EINTR)
			return -errno;
	}
}

static void bench_report(const struct bench *b)
{
	const struct bench_stats *st = &b->st;
	uint64_t end = st->last_answer_ns > st->first_ns ? st->last_answer_ns : bench_now_ns();
	double secs = (double)(end - st->first_ns) / 1e9;
	double rps = secs > 0 ? (double)st->sent / secs : 0;
	double aps = secs > 0 ? (double)st->answered / secs : 0;
	uint64_t p50 = bench_latency_quantile(st, 0.50), p95 = bench_latency_quantile(st, 0.95);
	uint64_t p99 = bench_latency_quantile(st, 0.99);

	printf("bench_options: %s UDP, %zu socket(s) x window %zu, %.1f s\n", b->target,
	       b->opts.nsocks, b->opts.window, secs);
	printf("  sent %" PRIu64 ", answered 200 %" PRIu64 ", other status %" PRIu64
	       ", lost %" PRIu64 ", late %" PRIu64 ", unreadable %" PRIu64 ", errors %" PRIu64 "\n",
	       st->sent, st->answered, st->other, st->lost, st->late, st->junk, st->errors);
	printf("  requests/s %.0f, answered/s %.0f\n", rps, aps);
	printf("  latency ms: p50 %.3f, p95 %.3f, p99 %.3f, max %.3f\n", (double)p50 / 1e3,
	       (double)p95 / 1e3, (double)p99 / 1e3, (double)st->max_us / 1e3);
	printf("RESULT sent=%" PRIu64 " answered=%" PRIu64 " other=%" PRIu64 " lost=%" PRIu64
	       " seconds=%.3f rps=%.0f aps=%.0f p50_us=%" PRIu64 " p95_us=%" PRIu64
	       " p99_us=%" PRIu64 " max_us=%" PRIu64 "\n",
	       st->sent, st->answered, st->other, st->lost, secs, rps, aps, p50, p95, p99,
	       st->max_us);
}

static void bench_usage(FILE *f)
{
	fprintf(f, "usage: bench_options -p PORT [-a ADDR] [-w WINDOW] [-s SOCKETS] [-d SECONDS]\n"
		   "                     [-n COUNT] [-t TIMEOUT_MS]\n"
		   "  -a  server address (default 127.0.0.1; IPv6 literal without brackets)\n"
		   "  -p  server UDP port\n"
		   "  -w  requests in flight per socket (default 128, at most 65536)\n"
		   "  -s  sockets (default 1, at most 8)\n"
		   "  -d  seconds to send (default 10, at most 600)\n"
		   "  -n  stop after this many requests (default: no limit)\n"
		   "  -t  a request unanswered this long is lost (default 1000 ms)\n");
}

static int bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
	char *end;
	int c;

	o->host = "127.0.0.1";
	o->port = NULL;
	o->window = 128;
	o->nsocks = 1;
	o->seconds = 10;
	o->count = 0;
	o->timeout_ms = 1000;
	while ((c = getopt(argc, argv, "a:p:w:s:d:n:t:h")) != -1) {
		errno = 0;
		end = NULL;
		switch (c) {
		case 'a':
			o->host = optarg;
			break;
		case 'p':
			o->port = optarg;
			break;
		case 'w':
			o->window = strtoul(optarg, &end, 10);
			break;
		case 's':
			o->nsocks = strtoul(optarg, &end, 10);
			break;
		case 'd':
			o->seconds = strtod(optarg, &end);
			break;
		case 'n':
			o->count = strtoull(optarg, &end, 10);
			break;
		case 't':
			o->timeout_ms = strtoull(optarg, &end, 10);
			break;
		case 'h':
			bench_usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
		if (end != NULL && (*end != '\0' || end == optarg || errno != 0))
			return -EINVAL;
	}
	if (o->port == NULL || optind != argc)
		return -EINVAL;
	if (o->window < 1 || o->window > WINDOW_MAX || o->nsocks < 1 || o->nsocks > SOCKS_MAX)
		return -EINVAL;
	if (!(o->seconds > 0 && o->seconds <= 600) || o->timeout_ms < 1 || o->timeout_ms > 60000)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b; /* histogram and buffers are too big for the stack */
	struct addrinfo hints, *ai = NULL;
	size_t i;
	int err;

	if (bench_opts_parse(&b.opts, argc, argv) < 0) {
		bench_usage(stderr);
		return 2;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	err = getaddrinfo(b.opts.host, b.opts.port, &hints, &ai);
	if (err != 0) {
		fprintf(stderr, "bench_options: %s:%s: %s\n", b.opts.host, b.opts.port,
			gai_strerror(err));
		return 2;
	}
	if (snprintf(b.target, sizeof(b.target), ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		     b.opts.host, b.opts.port) >= (int)sizeof(b.target)) {
		freeaddrinfo(ai);
		return 2;
	}
	b.pid = (unsigned)getpid();
	for (i = 0; i < SOCKS_MAX; i++)
		b.socks[i].fd = -1;
	for (i = 0; i < b.opts.nsocks; i++) {
		err = bench_sock_open(&b, &b.socks[i], (unsigned)i, ai);
		if (err < 0) {
			fprintf(stderr, "bench_options: socket %zu: %s\n", i, strerror(-err));
			goto out;
		}
	}
	err = bench_run(&b);
	if (err < 0)
		fprintf(stderr, "bench_options: %s\n", strerror(-err));
	bench_report(&b);
	if (err == 0 && b.st.answered == 0) {
		fprintf(stderr, "bench_options: no request was answered\n");
		err = -ENOTCONN;
	}
out:
	for (i = 0; i < SOCKS_MAX; i++)
		bench_sock_close(&b.socks[i]);
	freeaddrinfo(ai);
	return err < 0 ? 1 : 0;
}
