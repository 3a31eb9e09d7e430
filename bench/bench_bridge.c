/*
 * bench_bridge — bridged calls (media_stream_bridge) under load on one loop.
 *
 * Creates N bridged calls (default 500): 2N streams on 127.0.0.1 on the main
 * thread's loop, streams 2i and 2i+1 bridged. A second thread owns 2N
 * loopback sockets, one far end per stream: each sends its stream a 20 ms
 * G.711 frame of a 440 Hz tone every 20 ms (the sockets' sends spread over
 * the 20 ms in ten slices, as independent phones would be) and counts what
 * comes back, which is what the other far end sent, relayed or transcoded.
 * So every call carries 2 × 50 packets a second in and 2 × 50 out.
 *
 * Two modes run one after the other, each after a one-second warm-up:
 *   relay       both legs PCMU: packets relayed as they arrive
 *   transcode   one leg PCMU, the other PCMA: decoded, queued, re-encoded
 *               on the tick
 * For each it prints "key: value" lines:
 *   cpu_engine_percent           CPU (user + system) of the engine's thread,
 *                                in % of one core (the far ends' thread is
 *                                not in it)
 *   cpu_engine_percent_per_100   the same per 100 bridged calls
 *   cpu_engine_user_percent      of cpu_engine_percent, in irisx's own code
 *                                and libraries (the rest is the kernel's)
 *   cpu_process_percent          the whole process, far ends included
 *   packets_in_per_s, packets_out_per_s, packets_relayed_per_s (the streams')
 *   far_end_sent_per_s, far_end_received_per_s, expected_per_s
 *
 * usage: bench_bridge [-n CALLS] [-t SECONDS] [-m relay|transcode|both]
 *                     [-P FIRST_PORT]
 * Loopback only; bounded in calls (≤ 5000) and time (≤ 60 s per mode).
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

#include "media/media_int.h" /* the G.711 coders, for the far ends' tone */

enum {
	FRAME = 160, /* 20 ms at 8000 Hz */
	SLICES = 10, /* the far ends send in ten groups, 2 ms apart */
	PEER_BATCH = 8,
	PEER_SLOT = 1500,
};

/* ---- G.711 of the tone the far ends send ---------------------------------- */

/* One second of 440 Hz, µ-law and A-law coded. */
static uint8_t tone_ulaw[8000], tone_alaw[8000];

static void tones_make(void)
{
	for (int i = 0; i < 8000; i++) {
		int16_t x = (int16_t)lrint(10000 * sin(2 * M_PI * 440 * i / 8000.0));
		tone_ulaw[i] = media__ulaw_from_linear(x);
		tone_alaw[i] = media__alaw_from_linear(x);
	}
}

/* ---- the far ends (their own thread and loop) ----------------------------- */

struct far_end {
	struct peers *peers;
	uv_poll_t poll;
	int fd;
	uint16_t port;
	uint16_t stream_port;
	uint8_t pt;
	const uint8_t *tone;
	uint16_t seq;
	uint32_t ts, pos;
};

struct peers {
	uv_loop_t loop;
	uv_async_t stop;
	uv_timer_t tick;
	pthread_t thread;
	struct far_end *ends;
	size_t n;
	uint64_t t0_ns, slices; /* slices of sends made since t0 */
	atomic_uint_fast64_t sent, received;
	uint8_t buf[PEER_BATCH][PEER_SLOT];
	struct iovec iov[PEER_BATCH];
	struct mmsghdr msgs[PEER_BATCH];
};

static void far_poll_cb(uv_poll_t *h, int status, int events)
{
	struct far_end *fe = h->data;
	struct peers *p = fe->peers;
	for (;;) {
		for (size_t i = 0; i < PEER_BATCH; i++) {
			p->iov[i] = (struct iovec){p->buf[i], PEER_SLOT};
			p->msgs[i].msg_hdr =
			    (struct msghdr){.msg_iov = &p->iov[i], .msg_iovlen = 1};
		}
		int n = recvmmsg(fe->fd, p->msgs, PEER_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		atomic_fetch_add_explicit(&p->received, (uint64_t)n, memory_order_relaxed);
		if (n < PEER_BATCH)
			return;
	}
}

static void far_send(struct far_end *fe)
{
	uint8_t pkt[12 + FRAME];
	pkt[0] = 0x80;
	pkt[1] = fe->pt;
	pkt[2] = (uint8_t)(fe->seq >> 8);
	pkt[3] = (uint8_t)fe->seq;
	for (int i = 0; i < 4; i++)
		pkt[4 + i] = (uint8_t)(fe->ts >> (24 - 8 * i));
	uint32_t ssrc = 0x5eed0000u + fe->port;
	for (int i = 0; i < 4; i++)
		pkt[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	memcpy(pkt + 12, fe->tone + fe->pos, FRAME);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(fe->stream_port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sendto(fe->fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a)) > 0)
		atomic_fetch_add_explicit(&fe->peers->sent, 1, memory_order_relaxed);
	fe->seq++;
	fe->ts += FRAME;
	fe->pos = (fe->pos + FRAME) % 8000;
}

static void peers_tick_cb(uv_timer_t *t)
{
	struct peers *p = t->data;
	/* on a schedule from the start, so that a late timer catches up */
	uint64_t due = (uv_hrtime() - p->t0_ns) / (20000000u / SLICES) + 1;
	for (; p->slices < due; p->slices++) {
		for (size_t i = p->slices % SLICES; i < p->n; i += SLICES)
			far_send(&p->ends[i]);
	}
}

static void peers_stop_cb(uv_async_t *a)
{
	struct peers *p = a->data;
	for (size_t i = 0; i < p->n; i++)
		uv_close((uv_handle_t *)&p->ends[i].poll, NULL);
	uv_close((uv_handle_t *)&p->tick, NULL);
	uv_close((uv_handle_t *)&p->stop, NULL);
}

static void *peers_main(void *arg)
{
	struct peers *p = arg;
	uv_run(&p->loop, UV_RUN_DEFAULT);
	return NULL;
}

static int peers_open(struct peers *p, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->ends = calloc(n, sizeof(*p->ends));
	if (!p->ends || uv_loop_init(&p->loop) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct far_end *fe = &p->ends[i];
		fe->peers = p;
		fe->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fe->fd < 0)
			return -errno;
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t alen = sizeof(a);
		if (bind(fe->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(fe->fd, (struct sockaddr *)&a, &alen) != 0)
			return -errno;
		fe->port = ntohs(a.sin_port);
		uv_poll_init_socket(&p->loop, &fe->poll, fe->fd);
		fe->poll.data = fe;
	}
	uv_async_init(&p->loop, &p->stop, peers_stop_cb);
	p->stop.data = p;
	uv_timer_init(&p->loop, &p->tick);
	p->tick.data = p;
	return 0;
}

/* The far ends start talking once they know their streams' ports. */
static int peers_start(struct peers *p)
{
	for (size_t i = 0; i < p->n; i++)
		uv_poll_start(&p->ends[i].poll, UV_READABLE, far_poll_cb);
	p->t0_ns = uv_hrtime();
	uv_timer_start(&p->tick, peers_tick_cb, 0, 20 / SLICES);
	return pthread_create(&p->thread, NULL, peers_main, p) == 0 ? 0 : -EAGAIN;
}

static void peers_close(struct peers *p)
{
	uv_async_send(&p->stop);
	pthread_join(p->thread, NULL);
	uv_loop_close(&p->loop);
	for (size_t i = 0; i < p->n; i++)
		close(p->ends[i].fd);
	free(p->ends);
}

/* ---- the engine side ----------------------------------------------------------- */

struct totals {
	uint64_t in, out, relayed;
};

static struct totals totals_of(struct media_stream **s, size_t n)
{
	struct totals t = {0};
	for (size_t i = 0; i < n; i++) {
		struct media_stats st;
		media_stream_stats(s[i], &st);
		t.in += st.packets_in;
		t.out += st.packets_out;
		t.relayed += st.packets_relayed;
	}
	return t;
}

/* One mode: N bridged calls for `secs` seconds. 0 or 1 on failure. */
static int run_mode(uv_loop_t *loop, size_t calls, unsigned long secs, bool transcode,
		    uint16_t first_port)
{
	size_t n = 2 * calls;
	struct media_engine *eng;
	int r = media_engine_create(&eng, loop, first_port, (uint16_t)(first_port + 2 * n + 999));
	if (r < 0) {
		fprintf(stderr, "bench_bridge: engine: %s\n", strerror(-r));
		return 1;
	}
	static struct peers peers;
	struct media_stream **s = calloc(n, sizeof(*s));
	if (!s || (r = peers_open(&peers, n)) < 0) {
		fprintf(stderr, "bench_bridge: far ends: %s\n", strerror(r < 0 ? -r : ENOMEM));
		return 1;
	}
	struct net_addr ip;
	net_addr_parse(&ip, STR("127.0.0.1"), 0);
	for (size_t i = 0; i < n; i++) {
		r = media_stream_create(&s[i], eng, &ip, NULL);
		if (r < 0) {
			fprintf(stderr, "bench_bridge: stream %zu: %s\n", i, strerror(-r));
			return 1;
		}
		/* odd legs transcode to A-law in transcode mode */
		bool alaw = transcode && (i & 1);
		struct media_stream_params p = {
		    .codec = alaw ? MEDIA_CODEC_PCMA : MEDIA_CODEC_PCMU,
		    .pt = alaw ? 8 : 0,
		    .ptime_ms = 20,
		    .te_pt = 101,
		    .dir = MEDIA_SENDRECV,
		};
		net_addr_parse(&p.remote, STR("127.0.0.1"), peers.ends[i].port);
		r = media_stream_start(s[i], &p);
		if (r < 0) {
			fprintf(stderr, "bench_bridge: start: %s\n", strerror(-r));
			return 1;
		}
		struct far_end *fe = &peers.ends[i];
		fe->stream_port = media_stream_port(s[i]);
		fe->pt = p.pt;
		fe->tone = alaw ? tone_alaw : tone_ulaw;
		fe->pos = (uint32_t)(i * 37 % 50) * FRAME;
		if ((i & 1) && (r = media_stream_bridge(s[i - 1], s[i])) < 0) {
			fprintf(stderr, "bench_bridge: bridge: %s\n", strerror(-r));
			return 1;
		}
	}
	if ((r = peers_start(&peers)) < 0) {
		fprintf(stderr, "bench_bridge: far ends' thread: %s\n", strerror(-r));
		return 1;
	}

	bench_run_for(loop, 1000); /* warm-up */
	struct totals t0 = totals_of(s, n);
	uint64_t rx0 = atomic_load(&peers.received), tx0 = atomic_load(&peers.sent);
	double cpu0 = bench_cpu_seconds(RUSAGE_SELF), eng0 = bench_cpu_seconds(RUSAGE_THREAD);
	double user0 = bench_cpu_user_seconds(RUSAGE_THREAD);
	uint64_t w0 = uv_hrtime();
	bench_run_for(loop, secs * 1000);
	double wall = (double)(uv_hrtime() - w0) / 1e9;
	double cpu = bench_cpu_seconds(RUSAGE_SELF) - cpu0, engc = bench_cpu_seconds(RUSAGE_THREAD) - eng0;
	double user = bench_cpu_user_seconds(RUSAGE_THREAD) - user0;
	struct totals t1 = totals_of(s, n);
	uint64_t rx1 = atomic_load(&peers.received), tx1 = atomic_load(&peers.sent);
	peers_close(&peers);

	double eng_pct = 100.0 * engc / wall;
	printf("mode: %s\n", transcode ? "transcode (PCMU <-> PCMA)" : "relay (PCMU <-> PCMU)");
	printf("bridged_calls: %zu\n", calls);
	printf("seconds: %.1f\n", wall);
	printf("cpu_engine_percent: %.1f\n", eng_pct);
	printf("cpu_engine_percent_per_100: %.2f\n", eng_pct * 100.0 / (double)calls);
	printf("cpu_engine_user_percent: %.1f\n", 100.0 * user / wall);
	printf("cpu_process_percent: %.1f\n", 100.0 * cpu / wall);
	printf("packets_in_per_s: %.0f\n", (double)(t1.in - t0.in) / wall);
	printf("packets_out_per_s: %.0f\n", (double)(t1.out - t0.out) / wall);
	printf("packets_relayed_per_s: %.0f\n", (double)(t1.relayed - t0.relayed) / wall);
	printf("far_end_sent_per_s: %.0f\n", (double)(tx1 - tx0) / wall);
	printf("far_end_received_per_s: %.0f\n", (double)(rx1 - rx0) / wall);
	printf("expected_per_s: %.0f\n", (double)n * 50.0);
	printf("\n");
	fflush(stdout);

	for (size_t i = 0; i < n; i++)
		media_stream_destroy(s[i]);
	int done = 0;
	media_engine_destroy(eng, bench_flag_set, &done);
	while (!done && uv_run(loop, UV_RUN_NOWAIT))
		;
	free(s);
	return done ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned long calls = 500, secs = 5, first_port = 20000;
	bool relay = true, transcode = true;
	int opt;
	while ((opt = getopt(argc, argv, "n:t:m:P:")) != -1) {
		int r = 0;
		switch (opt) {
		case 'n':
			r = bench_parse_uint(optarg, 5000, &calls);
			break;
		case 't':
			r = bench_parse_uint(optarg, 60, &secs);
			break;
		case 'P':
			r = bench_parse_uint(optarg, 65000, &first_port);
			break;
		case 'm':
			relay = !strcmp(optarg, "relay") || !strcmp(optarg, "both");
			transcode = !strcmp(optarg, "transcode") || !strcmp(optarg, "both");
			r = relay || transcode ? 0 : -EINVAL;
			break;
		default:
			r = -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr,
				"usage: %s [-n CALLS] [-t SECONDS] [-m relay|transcode|both] "
				"[-P FIRST_PORT]\n",
				argv[0]);
			return 2;
		}
	}
	if (first_port + 4 * calls + 999 > 65535) {
		fprintf(stderr, "bench_bridge: %lu calls do not fit above port %lu\n", calls,
			first_port);
		return 2;
	}
	/* two descriptors a stream, one a far end: six a call */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 6 * calls + 64) {
		rl.rlim_cur = rl.rlim_max < 6 * calls + 64 ? rl.rlim_max : 6 * calls + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	tones_make();
	uv_loop_t *loop = uv_default_loop();
	int rc = 0;
	if (relay)
		rc |= run_mode(loop, calls, secs, false, (uint16_t)first_port);
	if (transcode)
		rc |= run_mode(loop, calls, secs, true, (uint16_t)first_port);
	return rc;
}
