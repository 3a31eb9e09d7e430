/*
 * The media engine: one per libuv loop. It owns the RTP port range and the
 * one timer that paces every stream of the loop.
 *
 * Ports (RFC 3550 §11): a stream gets an even RTP port and the odd port
 * above it for RTCP. Free pairs wait in a FIFO: a stream takes the pair at
 * the head and gives it back at the tail, so a just-freed pair is reused as
 * late as possible and stray packets still addressed to an ended call do not
 * land in a new one. A pair whose bind fails (another process holds a port)
 * goes to the tail and the next is tried.
 *
 * The tick: one repeating timer, never one per stream. Its grid is
 * origin + k * tick; each tick works on the latest grid point that has
 * passed ("nominal"), and re-arms the timer for the next point from the
 * monotonic clock, so lateness never accumulates into drift. Streams keep
 * their next send time on that grid and advance it by exactly their ptime,
 * never from "now"; a tick sends every packet a stream has due (see
 * media__stream_tick for the catch-up bound). The period is 20 ms while
 * every stream's ptime is a multiple of 20 ms, and 10 ms while some stream
 * has ptime 10, 30, 50 … ms, so that every ptime this side accepts (multiples
 * of 10 ms, see codec.c) is served on time without a timer of its own.
 * The timer never keeps the loop alive (uv_unref) and stops when no stream
 * exists.
 */
#define LOG_MODULE "media"
#include "media_int.h"

#include <assert.h>
#include <errno.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

uint64_t media__now_us(void)
{
	return uv_hrtime() / 1000;
}

uint32_t media__rand32(struct media_engine *eng)
{
	/* xorshift64*: statistical quality enough for RTCP interval jitter */
	uint64_t x = eng->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	eng->rng = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* ---- ports ---------------------------------------------------------------- */

static int socket_open(const struct net_addr *ip, uint16_t port, int *out)
{
	int family = net_addr_family(ip);
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* DSCP EF (RFC 3246, RFC 4594 §4.5 for telephony); a hint routers may ignore */
	int tos = 0xb8;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	struct net_addr a = *ip;
	net_addr_set_port(&a, port);
	if (bind(fd, &a.u.sa, net_addr_len(&a)) != 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static int pair_bind(const struct net_addr *ip, uint16_t rtp_port, int *rtp_fd, int *rtcp_fd)
{
	int r = socket_open(ip, rtp_port, rtp_fd);
	if (r < 0)
		return r;
	r = socket_open(ip, (uint16_t)(rtp_port + 1), rtcp_fd);
	if (r < 0) {
		close(*rtp_fd);
		return r;
	}
	return 0;
}

static void pair_push(struct media_engine *eng, uint32_t pair)
{
	assert(eng->free_len < eng->npairs);
	eng->free_pairs[(eng->free_head + eng->free_len) % eng->npairs] = (uint16_t)pair;
	eng->free_len++;
}

int media__ports_take(struct media_engine *eng, const struct net_addr *ip, uint32_t *pair,
		      int *rtp_fd, int *rtcp_fd)
{
	uint32_t tries = eng->free_len;
	for (uint32_t i = 0; i < tries; i++) {
		uint32_t k = eng->free_pairs[eng->free_head];
		eng->free_head = (eng->free_head + 1) % eng->npairs;
		eng->free_len--;
		int r = pair_bind(ip, (uint16_t)(eng->first_port + 2 * k), rtp_fd, rtcp_fd);
		if (r == 0) {
			*pair = k;
			return 0;
		}
		pair_push(eng, k);
		if (r != -EADDRINUSE && r != -EACCES)
			return r; /* the address itself is wrong: no other port will do */
	}
	return -EADDRINUSE;
}

void media__ports_give(struct media_engine *eng, uint32_t pair)
{
	pair_push(eng, pair);
}

/* ---- the tick -------------------------------------------------------------- */

static void tick_cb(uv_timer_t *t);

static void tick_arm(struct media_engine *eng)
{
	/* The timer fires once the loop's millisecond clock reaches start +
	 * timeout; from a fresh loop time, rounding up makes it fire at or just
	 * after the next grid point, never before it. */
	uv_update_time(eng->loop);
	uint64_t next_us = eng->nominal_us + eng->tick_us;
	uint64_t base_us = uv_now(eng->loop) * 1000;
	uint64_t timeout = next_us > base_us ? (next_us - base_us + 999) / 1000 : 0;
	uv_timer_start(&eng->tick, tick_cb, timeout, eng->tick_us / 1000);
}

static void tick_cb(uv_timer_t *t)
{
	struct media_engine *eng = t->data;
	uint64_t now = media__now_us();
	if (now >= eng->nominal_us + eng->tick_us)
		eng->nominal_us =
		    eng->origin_us + (now - eng->origin_us) / eng->tick_us * eng->tick_us;
	uint64_t nominal = eng->nominal_us;
	/* Streams may be destroyed by their callbacks, this one or any other:
	 * media_stream_destroy moves iter_next past a stream it unlinks. */
	for (struct media_stream *s = eng->streams; s; s = eng->iter_next) {
		eng->iter_next = s->next;
		media__stream_tick(s, nominal, now);
	}
	eng->iter_next = NULL;
	if (eng->tick_running)
		tick_arm(eng);
}

void media__engine_tick_update(struct media_engine *eng)
{
	if (eng->nstreams == 0 || eng->closing) {
		if (eng->tick_running)
			uv_timer_stop(&eng->tick);
		eng->tick_running = false;
		return;
	}
	uint32_t want = eng->nfine ? MEDIA__FINE_TICK_US : MEDIA__TICK_US;
	if (eng->tick_running && want == eng->tick_us)
		return;
	if (!eng->tick_running) {
		eng->origin_us = media__now_us();
		eng->nominal_us = eng->origin_us;
	} else {
		/* a new period from the current grid point keeps the grids aligned */
		eng->origin_us = eng->nominal_us;
	}
	eng->tick_us = want;
	eng->tick_running = true;
	tick_arm(eng);
}

/* ---- engine ---------------------------------------------------------------- */

static void engine_maybe_free(struct media_engine *eng)
{
	if (!eng->closing || eng->open_handles > 0)
		return;
	void (*done)(void *) = eng->done_cb;
	void *arg = eng->done_arg;
	free(eng->free_pairs);
	free(eng);
	if (done)
		done(arg);
}

void media__engine_handle_closed(struct media_engine *eng)
{
	assert(eng->open_handles > 0);
	eng->open_handles--;
	engine_maybe_free(eng);
}

static void tick_closed_cb(uv_handle_t *h)
{
	media__engine_handle_closed(h->data);
}

int media_engine_create(struct media_engine **out, struct uv_loop_s *loop, uint16_t port_min,
			uint16_t port_max)
{
	if (!out || !loop || port_min == 0 || port_max < port_min)
		return -EINVAL;
	uint32_t first = port_min + (port_min & 1u);
	if (first + 1 > port_max)
		return -EINVAL; /* not one even/odd pair in the range */
	uint32_t npairs = (port_max - first + 1) / 2;

	struct media_engine *eng = calloc(1, sizeof(*eng));
	if (!eng)
		return -ENOMEM;
	eng->free_pairs = malloc(npairs * sizeof(*eng->free_pairs));
	if (!eng->free_pairs) {
		free(eng);
		return -ENOMEM;
	}
	eng->loop = loop;
	eng->first_port = first;
	eng->npairs = npairs;
	for (uint32_t k = 0; k < npairs; k++)
		eng->free_pairs[k] = (uint16_t)k;
	eng->free_len = npairs;
	eng->tick_us = MEDIA__TICK_US;

	uint8_t seed[12];
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		uint64_t t = uv_hrtime() ^ (uint64_t)(uintptr_t)eng;
		memcpy(seed, &t, sizeof(t));
		memset(seed + 8, 0x5a, 4);
	}
	memcpy(&eng->rng, seed, sizeof(eng->rng));
	eng->rng |= 1; /* xorshift must not start at 0 */
	/* RFC 7022: a random CNAME, the same for every stream of this engine */
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < 8; i++) {
		eng->cname[2 * i] = hex[seed[4 + i] >> 4];
		eng->cname[2 * i + 1] = hex[seed[4 + i] & 15];
	}
	eng->cname[16] = '\0';

	/* recvmmsg's vectors point at the shared receive buffers once and for all */
	for (size_t i = 0; i < MEDIA__RX_BATCH; i++) {
		eng->rx_iov[i].iov_base = eng->rx_buf[i];
		eng->rx_iov[i].iov_len = MEDIA__RX_SLOT;
		eng->rx_msgs[i].msg_hdr.msg_iov = &eng->rx_iov[i];
		eng->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		eng->rx_msgs[i].msg_hdr.msg_name = &eng->rx_from[i];
	}
	for (size_t i = 0; i < MEDIA__TX_BATCH; i++) {
		eng->tx_iov[i].iov_base = eng->tx_buf[i];
		eng->tx_msgs[i].msg_hdr.msg_iov = &eng->tx_iov[i];
		eng->tx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (size_t i = 0; i < MEDIA__RX_BATCH; i++) {
		eng->relay_iov[i].iov_base = eng->relay_buf[i];
		eng->relay_msgs[i].msg_hdr.msg_iov = &eng->relay_iov[i];
		eng->relay_msgs[i].msg_hdr.msg_iovlen = 1;
	}

	uv_timer_init(loop, &eng->tick);
	eng->tick.data = eng;
	uv_unref((uv_handle_t *)&eng->tick);
	eng->open_handles = 1;
	*out = eng;
	return 0;
}

void media_engine_destroy(struct media_engine *eng, void (*done_cb)(void *arg), void *arg)
{
	if (!eng || eng->closing)
		return;
	if (eng->nstreams) {
		log_err("media engine destroyed with %zu streams left; destroying them",
			eng->nstreams);
		while (eng->streams)
			media_stream_destroy(eng->streams);
	}
	eng->closing = true;
	eng->done_cb = done_cb;
	eng->done_arg = arg;
	media__engine_tick_update(eng);
	uv_close((uv_handle_t *)&eng->tick, tick_closed_cb);
}

size_t media_engine_stream_count(const struct media_engine *eng)
{
	return eng ? eng->nstreams : 0;
}
