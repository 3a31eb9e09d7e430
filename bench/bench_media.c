/*
 * bench_media — the media engine under load on one loop.
 *
 * Creates N streams (default 1000) on 127.0.0.1 on the main thread's loop;
 * each plays a tone (so every packet is encoded) for T seconds (default 10)
 * after a one-second warm-up. Two ways to give them a peer:
 *
 *  - reflect (default): a second thread owns N loopback sockets, one per
 *    stream, like remote phones: it timestamps each arriving packet in the
 *    kernel (SO_TIMESTAMPNS) and sends it straight back, so every stream
 *    also receives 1000/ptime packets a second (and decodes them, audio_cb);
 *  - pairs (-x): streams 2i and 2i+1 send to each other, nothing else runs;
 *    the gap is taken when the receiving stream reads the packet.
 *
 * Prints "key: value" lines:
 *   cpu_engine_percent  CPU (user + system) of the engine's thread, in % of
 *                       one core: engine, codecs and their system calls
 *   cpu_process_percent the whole process (with the reflecting peer)
 *   rss_per_stream_kb   growth of the resident set from before the streams
 *                       to the end, divided by N (kernel socket buffers are
 *                       not in it; the peer's sockets are)
 *   packets_out_per_s, packets_in_per_s (the streams'), expected_per_s
 *   gap_p50_us, gap_p99_us, gap_max_us
 *                       deviation |gap - ptime| of the inter-packet gap at
 *                       the receiver
 *   lost                packets the streams counted lost (RFC 3550 A.3)
 *
 * usage: bench_media [-n STREAMS] [-t SECONDS] [-c pcmu|pcma|g722|opus]
 *                    [-p PTIME_MS] [-P FIRST_PORT] [-x]
 * Loopback only; bounded in streams (≤ 20000) and time (≤ 120 s).
 */
#include "bench_util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "media/media.h"

enum {
	GAP_BUCKET_US = 50,
	GAP_BUCKETS = 4000, /* up to 200 ms of deviation */
	PEER_BATCH = 8,
	PEER_SLOT = 1500,
};

struct gaps {
	uint64_t bucket[GAP_BUCKETS + 1];
	uint64_t n;
	uint64_t max;
};

static void gaps_add(struct gaps *g, uint64_t gap_us, uint64_t ptime_us)
{
	uint64_t dev = gap_us > ptime_us ? gap_us - ptime_us : ptime_us - gap_us;
	size_t k = dev / GAP_BUCKET_US;
	g->bucket[k < GAP_BUCKETS ? k : GAP_BUCKETS]++;
	g->n++;
	if (dev > g->max)
		g->max = dev;
}

static uint64_t gaps_percentile(const struct gaps *g, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)g->n), seen = 0;
	for (size_t k = 0; k <= GAP_BUCKETS && want; k++) {
		seen += g->bucket[k];
		if (seen >= want)
			return k * GAP_BUCKET_US + GAP_BUCKET_US / 2;
	}
	return 0;
}

/* ---- the tone every stream plays ---- */

struct tone {
	struct media_source base;
	const int16_t *table; /* one second of 440 Hz at the asked rate */
	uint32_t len;
	uint32_t pos;
};

static size_t tone_read(struct media_source *src, int16_t *pcm, size_t samples, uint32_t rate)
{
	struct tone *t = (struct tone *)src;
	for (size_t i = 0; i < samples; i++) {
		pcm[i] = t->table[t->pos];
		if (++t->pos == t->len)
			t->pos = 0;
	}
	return samples;
}

static void tone_destroy(struct media_source *src)
{
	free(src);
}

static const struct media_source_ops tone_ops = {tone_read, tone_destroy};

/* ---- the reflecting peer (its own thread and loop) ---- */

struct peer_sock {
	struct peer *peer;
	uv_poll_t poll;
	int fd;
	uint16_t port;
	uint64_t last_ns;
};

struct peer {
	uv_loop_t loop;
	uv_async_t stop;
	pthread_t thread;
	struct peer_sock *socks;
	size_t n;
	uint64_t ptime_us;
	atomic_bool measuring;
	struct gaps gaps;
	uint64_t reflected;
	uint8_t buf[PEER_BATCH][PEER_SLOT];
	struct iovec iov[PEER_BATCH];
	struct sockaddr_storage from[PEER_BATCH];
	char ctl[PEER_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	struct mmsghdr msgs[PEER_BATCH];
};

static void peer_poll_cb(uv_poll_t *h, int status, int events)
{
	struct peer_sock *ps = h->data;
	struct peer *p = ps->peer;
	for (size_t i = 0; i < PEER_BATCH; i++) {
		p->iov[i] = (struct iovec){p->buf[i], PEER_SLOT};
		p->msgs[i].msg_hdr = (struct msghdr){.msg_name = &p->from[i],
						     .msg_namelen = sizeof(p->from[i]),
						     .msg_iov = &p->iov[i],
						     .msg_iovlen = 1,
						     .msg_control = p->ctl[i],
						     .msg_controllen = sizeof(p->ctl[i])};
	}
	int n = recvmmsg(ps->fd, p->msgs, PEER_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	bool measuring = atomic_load_explicit(&p->measuring, memory_order_relaxed);
	for (int i = 0; i < n; i++) {
		struct msghdr *m = &p->msgs[i].msg_hdr;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
				continue;
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
			if (measuring && ps->last_ns)
				gaps_add(&p->gaps, (ns - ps->last_ns) / 1000, p->ptime_us);
			ps->last_ns = ns;
		}
		/* back to the stream, as another SSRC */
		p->iov[i].iov_len = p->msgs[i].msg_len;
		if (p->msgs[i].msg_len >= 12)
			p->buf[i][8] ^= 0x5a;
		m->msg_control = NULL;
		m->msg_controllen = 0;
	}
	int sent = sendmmsg(ps->fd, p->msgs, (unsigned)n, MSG_DONTWAIT);
	if (sent > 0)
		p->reflected += (uint64_t)sent;
}

static void peer_stop_cb(uv_async_t *a)
{
	struct peer *p = a->data;
	for (size_t i = 0; i < p->n; i++)
		uv_close((uv_handle_t *)&p->socks[i].poll, NULL);
	uv_close((uv_handle_t *)&p->stop, NULL);
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	uv_run(&p->loop, UV_RUN_DEFAULT);
	return NULL;
}

static int peer_open(struct peer *p, size_t n, uint64_t ptime_us)
{
	p->n = n;
	p->ptime_us = ptime_us;
	p->socks = calloc(n, sizeof(*p->socks));
	if (!p->socks || uv_loop_init(&p->loop) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct peer_sock *ps = &p->socks[i];
		ps->peer = p;
		ps->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (ps->fd < 0)
			return -errno;
		int one = 1;
		setsockopt(ps->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t alen = sizeof(a);
		if (bind(ps->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(ps->fd, (struct sockaddr *)&a, &alen) != 0)
			return -errno;
		ps->port = ntohs(a.sin_port);
		uv_poll_init_socket(&p->loop, &ps->poll, ps->fd);
		ps->poll.data = ps;
		uv_poll_start(&ps->poll, UV_READABLE, peer_poll_cb);
	}
	uv_async_init(&p->loop, &p->stop, peer_stop_cb);
	p->stop.data = p;
	return pthread_create(&p->thread, NULL, peer_main, p) == 0 ? 0 : -EAGAIN;
}

static void peer_close(struct peer *p)
{
	uv_async_send(&p->stop);
	pthread_join(p->thread, NULL);
	uv_loop_close(&p->loop);
	for (size_t i = 0; i < p->n; i++)
		close(p->socks[i].fd);
	free(p->socks);
}

/* ---- the engine side ---- */

struct leg {
	struct bench *b;
	struct media_stream *s;
	uint64_t last_us;
};

struct bench {
	uv_loop_t *loop;
	struct media_engine *eng;
	struct leg *legs;
	size_t n;
	uint64_t ptime_us;
	bool pairs;
	bool measuring;
	struct gaps gaps; /* pairs mode */
};

static void on_audio(void *arg, const int16_t *pcm, size_t samples, uint32_t rate)
{
	struct leg *l = arg;
	struct bench *b = l->b;
	if (!b->pairs)
		return; /* decoding is the work measured; the peer measures gaps */
	uint64_t now = uv_hrtime() / 1000;
	if (b->measuring && l->last_us)
		gaps_add(&b->gaps, now - l->last_us, b->ptime_us);
	l->last_us = now;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void totals(const struct bench *b, uint64_t *out, uint64_t *in, uint64_t *lost)
{
	*out = *in = *lost = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct media_stats st;
		media_stream_stats(b->legs[i].s, &st);
		*out += st.packets_out;
		*in += st.packets_in;
		*lost += st.lost;
	}
}

int main(int argc, char **argv)
{
	unsigned long n = 1000, secs = 10, ptime = 20, first_port = 20000;
	enum media_codec_id codec = MEDIA_CODEC_PCMU;
	bool pairs = false;
	int opt;
	while ((opt = getopt(argc, argv, "n:t:c:p:P:x")) != -1) {
		int r = 0;
		switch (opt) {
		case 'n':
			r = bench_parse_uint(optarg, 20000, &n);
			break;
		case 't':
			r = bench_parse_uint(optarg, 120, &secs);
			break;
		case 'p':
			r = bench_parse_uint(optarg, 120, &ptime);
			break;
		case 'P':
			r = bench_parse_uint(optarg, 65000, &first_port);
			break;
		case 'c':
			r = media_codec_find(str_from_cstr(optarg), &codec);
			break;
		case 'x':
			pairs = true;
			break;
		default:
			r = -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr,
				"usage: %s [-n STREAMS] [-t SECONDS] [-c pcmu|pcma|g722|opus] "
				"[-p PTIME_MS] [-P FIRST_PORT] [-x]\n",
				argv[0]);
			return 2;
		}
	}
	if (pairs)
		n += n & 1;
	unsigned long last_port = first_port + 2 * n + 999;
	if (last_port > 65535) {
		fprintf(stderr, "bench_media: %lu streams do not fit above port %lu\n", n,
			first_port);
		return 2;
	}
	/* two descriptors a stream, one a peer socket */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 3 * n + 64) {
		rl.rlim_cur = rl.rlim_max < 3 * n + 64 ? rl.rlim_max : 3 * n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	struct bench b = {.loop = uv_default_loop(), .n = n, .pairs = pairs};
	b.ptime_us = ptime * 1000;
	int r = media_engine_create(&b.eng, b.loop, (uint16_t)first_port, (uint16_t)last_port);
	if (r < 0) {
		fprintf(stderr, "bench_media: engine: %s\n", strerror(-r));
		return 1;
	}
	uint32_t rate = media_codec_audio_rate(codec);
	int16_t *table = malloc(rate * sizeof(int16_t));
	b.legs = calloc(n, sizeof(*b.legs));
	static struct peer peer;
	if (!table || !b.legs)
		return 1;
	for (uint32_t i = 0; i < rate; i++)
		table[i] = (int16_t)lrint(10000 * sin(2 * M_PI * 440 * i / rate));

	long rss0 = rss_kb();
	if (!pairs && (r = peer_open(&peer, n, b.ptime_us)) < 0) {
		fprintf(stderr, "bench_media: peer sockets: %s\n", strerror(-r));
		return 1;
	}
	struct net_addr ip;
	net_addr_parse(&ip, STR("127.0.0.1"), 0);
	for (size_t i = 0; i < n; i++) {
		struct leg *l = &b.legs[i];
		l->b = &b;
		struct media_stream_cbs cbs = {.audio_cb = on_audio, .arg = l};
		r = media_stream_create(&l->s, b.eng, &ip, &cbs);
		if (r < 0) {
			fprintf(stderr, "bench_media: stream %zu: %s\n", i, strerror(-r));
			return 1;
		}
	}
	int pt = media_codec_static_pt(codec);
	for (size_t i = 0; i < n; i++) {
		struct media_stream_params p = {
		    .codec = codec,
		    .pt = (uint8_t)(pt >= 0 ? pt : 111),
		    .ptime_ms = (uint32_t)ptime,
		    .te_pt = 101,
		    .dir = MEDIA_SENDRECV,
		};
		uint16_t port = pairs ? media_stream_port(b.legs[i ^ 1].s) : peer.socks[i].port;
		net_addr_parse(&p.remote, STR("127.0.0.1"), port);
		struct tone *t = calloc(1, sizeof(*t));
		if (!t)
			return 1;
		t->base.ops = &tone_ops;
		t->table = table;
		t->len = rate;
		media_stream_play(b.legs[i].s, &t->base);
		r = media_stream_start(b.legs[i].s, &p);
		if (r < 0) {
			fprintf(stderr, "bench_media: start: %s\n", strerror(-r));
			return 1;
		}
	}

	bench_run_for(b.loop, 1000); /* warm-up */
	uint64_t out0, in0, lost0;
	totals(&b, &out0, &in0, &lost0);
	double cpu0 = bench_cpu_seconds(RUSAGE_SELF), eng0 = bench_cpu_seconds(RUSAGE_THREAD);
	uint64_t t0 = uv_hrtime();
	b.measuring = true;
	atomic_store(&peer.measuring, true);
	bench_run_for(b.loop, secs * 1000);
	atomic_store(&peer.measuring, false);
	b.measuring = false;
	double wall = (double)(uv_hrtime() - t0) / 1e9;
	double cpu = bench_cpu_seconds(RUSAGE_SELF) - cpu0, eng = bench_cpu_seconds(RUSAGE_THREAD) - eng0;
	uint64_t out1, in1, lost1;
	totals(&b, &out1, &in1, &lost1);
	long rss1 = rss_kb();
	if (!pairs)
		peer_close(&peer);
	const struct gaps *g = pairs ? &b.gaps : &peer.gaps;

	printf("mode: %s\n", pairs ? "pairs" : "reflect");
	printf("streams: %zu\n", n);
	printf("codec: %s\n", media_codec_name(codec));
	printf("ptime_ms: %lu\n", ptime);
	printf("seconds: %.1f\n", wall);
	printf("cpu_engine_percent: %.1f\n", 100.0 * eng / wall);
	printf("cpu_process_percent: %.1f\n", 100.0 * cpu / wall);
	printf("rss_per_stream_kb: %.1f\n", (double)(rss1 - rss0) / (double)n);
	printf("packets_out_per_s: %.0f\n", (double)(out1 - out0) / wall);
	printf("packets_in_per_s: %.0f\n", (double)(in1 - in0) / wall);
	printf("expected_per_s: %.0f\n", (double)n * 1000.0 / (double)ptime);
	printf("gap_measured_at: %s\n", pairs ? "receiving stream" : "peer socket (kernel time)");
	printf("gap_p50_us: %llu\n", (unsigned long long)gaps_percentile(g, 0.50));
	printf("gap_p99_us: %llu\n", (unsigned long long)gaps_percentile(g, 0.99));
	printf("gap_max_us: %llu\n", (unsigned long long)g->max);
	printf("lost: %llu\n", (unsigned long long)(lost1 - lost0));

	for (size_t i = 0; i < n; i++)
		media_stream_destroy(b.legs[i].s);
	int done = 0;
	media_engine_destroy(b.eng, bench_flag_set, &done);
	while (!done && uv_run(b.loop, UV_RUN_NOWAIT))
		;
	free(b.legs);
	free(table);
	return done ? 0 : 1;
}
