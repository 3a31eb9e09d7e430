/*
 * Helpers for the media tests: a loopback "peer" (an RTP socket and the RTCP
 * socket above it, read on the test's libuv loop, every datagram recorded
 * with its arrival time), RTP packet building, a sine source, running the
 * loop for a while, a fixture (loop + engine + peer) with callback counters,
 * and a "feeder" that sends RTP from a peer on a schedule.
 */
#ifndef TEST_MEDIA_RTP_UTIL_H
#define TEST_MEDIA_RTP_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "media/media.h"
#include "media/media_int.h"

struct pkt {
	uint64_t at_us;
	struct net_addr from;
	size_t len;
	uint8_t data[1500];
};

struct peer {
	int fd[2]; /* RTP, RTCP */
	uint16_t port;
	uv_poll_t poll[2];
	struct pkt *pkts[2];
	size_t n[2], cap[2];
};

static inline uint16_t test_port_base(uint16_t span)
{
	/* spread concurrent test processes over the range; collisions are skipped anyway */
	return (uint16_t)(20000 + ((unsigned)getpid() * 7919u) % (40000u - span) / 2 * 2);
}

static inline int udp_bind(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static inline void peer_poll_cb(uv_poll_t *h, int status, int events)
{
	struct peer *p = h->data;
	int which = h == &p->poll[0] ? 0 : 1;
	for (;;) {
		if (p->n[which] == p->cap[which]) {
			p->cap[which] = p->cap[which] ? p->cap[which] * 2 : 256;
			p->pkts[which] =
			    realloc(p->pkts[which], p->cap[which] * sizeof(struct pkt));
		}
		struct pkt *k = &p->pkts[which][p->n[which]];
		socklen_t alen = sizeof(k->from);
		ssize_t r =
		    recvfrom(p->fd[which], k->data, sizeof(k->data), 0, &k->from.u.sa, &alen);
		if (r < 0)
			return;
		k->len = (size_t)r;
		k->at_us = uv_hrtime() / 1000;
		p->n[which]++;
	}
}

/* Opens an RTP/RTCP socket pair on 127.0.0.1 (even port, odd + 1). */
static inline void peer_open(uv_loop_t *loop, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	static unsigned next;
	for (unsigned i = 0; i < 2000; i++) {
		uint16_t port = (uint16_t)(test_port_base(4000) + 2000 + 2 * ((next++) % 900));
		int a = udp_bind(port);
		if (a < 0)
			continue;
		int b = udp_bind((uint16_t)(port + 1));
		if (b < 0) {
			close(a);
			continue;
		}
		p->fd[0] = a;
		p->fd[1] = b;
		p->port = port;
		break;
	}
	assert_true(p->port != 0);
	for (int i = 0; i < 2; i++) {
		uv_poll_init_socket(loop, &p->poll[i], p->fd[i]);
		p->poll[i].data = p;
		uv_poll_start(&p->poll[i], UV_READABLE, peer_poll_cb);
	}
}

static inline void peer_closed_cb(uv_handle_t *h)
{
	(void)h;
}

static inline void peer_close(struct peer *p)
{
	for (int i = 0; i < 2; i++) {
		uv_close((uv_handle_t *)&p->poll[i], peer_closed_cb);
		free(p->pkts[i]);
		p->pkts[i] = NULL;
	}
}

/* Closes the descriptors once the loop has run the close callbacks. */
static inline void peer_fini(struct peer *p)
{
	close(p->fd[0]);
	close(p->fd[1]);
}

static inline void peer_reset(struct peer *p)
{
	p->n[0] = p->n[1] = 0;
}

static inline struct net_addr loop_addr(uint16_t port)
{
	struct net_addr a;
	assert_int_equal(net_addr_parse(&a, STR("127.0.0.1"), port), 0);
	return a;
}

static inline void peer_send_to(struct peer *p, int which, uint16_t port, const void *data,
				size_t len)
{
	struct net_addr a = loop_addr(port);
	ssize_t r = sendto(p->fd[which], data, len, 0, &a.u.sa, net_addr_len(&a));
	assert_int_equal(r, (ssize_t)len);
}

/* An RTP packet with `payload_len` bytes of `fill`. */
static inline size_t rtp_make(uint8_t *dst, bool marker, uint8_t pt, uint16_t seq, uint32_t ts,
			      uint32_t ssrc, const void *payload, size_t payload_len)
{
	media__rtp_print(dst, marker, pt, seq, ts, ssrc);
	memcpy(dst + MEDIA__RTP_HDR_LEN, payload, payload_len);
	return MEDIA__RTP_HDR_LEN + payload_len;
}

static inline void stop_cb(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Runs the loop for `ms` milliseconds. */
static inline void run_for(uv_loop_t *loop, uint64_t ms)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, stop_cb, ms, 0);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* Runs the loop until nothing is left on it (after every close). */
static inline void run_out(uv_loop_t *loop)
{
	for (int i = 0; i < 100 && uv_run(loop, UV_RUN_NOWAIT); i++)
		;
}

/* ---- a deterministic source ---- */

struct sine_src {
	struct media_source base;
	double freq;
	uint64_t pos;	/* samples produced */
	uint64_t limit; /* 0: endless */
	uint32_t rate_seen;
	int *destroyed;
};

static inline int16_t sine_at(double freq, uint64_t i, uint32_t rate)
{
	return (int16_t)lrint(12000.0 * sin(2.0 * M_PI * freq * (double)i / rate));
}

static inline size_t sine_read(struct media_source *src, int16_t *pcm, size_t samples,
			       uint32_t rate)
{
	struct sine_src *s = (struct sine_src *)src;
	s->rate_seen = rate;
	if (s->limit && s->pos + samples > s->limit)
		samples = s->limit > s->pos ? (size_t)(s->limit - s->pos) : 0;
	for (size_t i = 0; i < samples; i++)
		pcm[i] = sine_at(s->freq, s->pos + i, rate);
	s->pos += samples;
	return samples;
}

static inline void sine_destroy(struct media_source *src)
{
	struct sine_src *s = (struct sine_src *)src;
	if (s->destroyed)
		(*s->destroyed)++;
	free(s);
}

static const struct media_source_ops sine_ops = {sine_read, sine_destroy};

static inline struct media_source *sine_create(double freq, uint64_t limit, int *destroyed)
{
	struct sine_src *s = calloc(1, sizeof(*s));
	s->base.ops = &sine_ops;
	s->freq = freq;
	s->limit = limit;
	s->destroyed = destroyed;
	return &s->base;
}

/* ---- a fixture: a loop, an engine, a peer ---- */

struct fx {
	uv_loop_t loop;
	struct media_engine *eng;
	struct peer peer;
	struct net_addr local;
};

struct counters {
	int timeouts;
	int play_done;
	int last_status;
	int dtmf;
	char digits[16];
	uint32_t durations[16];
};

static inline void on_timeout(void *arg)
{
	((struct counters *)arg)->timeouts++;
}

static inline void on_play_done(void *arg, int status)
{
	struct counters *c = arg;
	c->play_done++;
	c->last_status = status;
}

static inline void on_dtmf(void *arg, char digit, uint32_t ms)
{
	struct counters *c = arg;
	if (c->dtmf < 16) {
		c->digits[c->dtmf] = digit;
		c->durations[c->dtmf] = ms;
	}
	c->dtmf++;
}

static inline struct media_stream_cbs cbs_of(struct counters *c)
{
	return (struct media_stream_cbs){
	    .timeout_cb = on_timeout,
	    .play_done_cb = on_play_done,
	    .dtmf_cb = on_dtmf,
	    .arg = c,
	};
}

static inline struct media_stream_params params_of(uint16_t port, enum media_codec_id codec,
						   uint8_t pt)
{
	return (struct media_stream_params){
	    .remote = loop_addr(port),
	    .codec = codec,
	    .pt = pt,
	    .ptime_ms = 20,
	    .te_pt = 101,
	    .dir = MEDIA_SENDRECV,
	};
}

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uv_loop_init(&f->loop);
	uint16_t base = test_port_base(4000);
	assert_int_equal(media_engine_create(&f->eng, &f->loop, base, (uint16_t)(base + 1999)), 0);
	peer_open(&f->loop, &f->peer);
	f->local = loop_addr(0);
	*state = f;
	return 0;
}

static inline void fx_done_cb(void *arg)
{
	*(int *)arg = 1;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	int done = 0;
	media_engine_destroy(f->eng, fx_done_cb, &done);
	peer_close(&f->peer);
	run_out(&f->loop);
	peer_fini(&f->peer);
	assert_int_equal(done, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

/* The RTP packets a peer socket received, parsed. */
static inline size_t rtp_list(struct peer *p, struct media__rtp *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n[0] && n < max; i++)
		if (media__rtp_parse(&out[n], p->pkts[0][i].data, p->pkts[0][i].len) == 0)
			n++;
	return n;
}

/* ---- a peer that sends RTP on a schedule ---- */

struct feeder {
	uv_timer_t t;
	struct peer *p;
	uint16_t dst;
	uint8_t pt;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
	uint32_t ts_step;
	unsigned count;	      /* packets to send */
	unsigned k;	      /* next packet */
	bool jitter;	      /* odd packets 10 ms late */
	const unsigned *lose; /* indexes not sent, ended by UINT32_MAX... or NULL */
	size_t nlose;
	uint8_t payload[240];
	size_t plen;
	bool vary; /* payload bytes depend on k */
	uint64_t t0;
	unsigned sent;
};

static inline void feeder_cb(uv_timer_t *t)
{
	struct feeder *fd = t->data;
	uint64_t now = uv_hrtime() / 1000;
	while (fd->k < fd->count) {
		/* one packet per frame duration at 8 kHz; odd ones 10 ms late with jitter */
		uint64_t at = fd->t0 + (uint64_t)fd->k * fd->ts_step * 125 +
			      (fd->jitter && (fd->k & 1) ? 10000 : 0);
		if (now < at)
			return;
		bool lost = false;
		for (size_t i = 0; i < fd->nlose; i++)
			lost |= fd->lose[i] == fd->k;
		if (fd->vary)
			for (size_t i = 0; i < fd->plen; i++)
				fd->payload[i] = (uint8_t)((fd->k * 37 + i) % 120 + 1);
		if (!lost) {
			uint8_t pkt[300];
			size_t len = rtp_make(pkt, fd->k == 0, fd->pt, fd->seq, fd->ts, fd->ssrc,
					      fd->payload, fd->plen);
			peer_send_to(fd->p, 0, fd->dst, pkt, len);
			fd->sent++;
		}
		fd->seq++;
		fd->ts += fd->ts_step;
		fd->k++;
	}
	uv_timer_stop(t);
}

static inline void feeder_start(struct feeder *fd, uv_loop_t *loop, struct peer *p, uint16_t dst,
				unsigned count)
{
	fd->p = p;
	fd->dst = dst;
	fd->count = count;
	if (!fd->ts_step)
		fd->ts_step = 160;
	if (!fd->plen) {
		fd->plen = 160;
		memset(fd->payload, 0x55, fd->plen);
	}
	if (!fd->ssrc)
		fd->ssrc = 0xfeed0001;
	fd->t0 = uv_hrtime() / 1000;
	uv_timer_init(loop, &fd->t);
	fd->t.data = fd;
	uv_timer_start(&fd->t, feeder_cb, 0, 1);
}

static inline void feeder_close(struct feeder *fd)
{
	uv_close((uv_handle_t *)&fd->t, NULL);
}

#endif
