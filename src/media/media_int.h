/*
 * media internals shared by the RTP side of the module: packet parsers and
 * printers (rtp.c, rtcp.c), reception statistics (jitter.c), codecs
 * (codec*.c), and the engine and stream objects (engine.c, stream*.c).
 *
 * Parsers and statistics are pure (bytes in, struct out, no clock, no
 * socket), so the unit tests and the fuzz target call them directly.
 */
#ifndef IRISX_MEDIA_INT_H
#define IRISX_MEDIA_INT_H

#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include "media.h"

/* ======================================================================== */
/* RTP and RFC 4733 (rtp.c)                                                  */
/* ======================================================================== */

enum {
	MEDIA__RTP_HDR_LEN = 12,
	MEDIA__RTP_VERSION = 2,
	MEDIA__PT_CN = 13, /* comfort noise, RFC 3389 */
};

/* One parsed RTP packet (RFC 3550 §5.1); slices point into the datagram. */
struct media__rtp {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t csrc_count;
	bool has_ext;
	uint16_t ext_profile; /* the header extension's "defined by profile" */
	const uint8_t *ext;   /* extension body (ext_len bytes), after its 4-byte header */
	size_t ext_len;
	const uint8_t *payload; /* padding already removed */
	size_t payload_len;
};

/*
 * Parses and validates an RTP packet: version 2, the fixed header, CSRCs and
 * extension within the datagram, a padding count that fits (RFC 3550 §5.1,
 * A.1's header checks). A payload type in the RTCP range 64–95 (RFC 5761 §4)
 * is refused. 0 or -EBADMSG.
 */
int media__rtp_parse(struct media__rtp *out, const uint8_t *p, size_t len);
/* Writes the 12-byte fixed header (no CSRC, no extension, no padding). */
void media__rtp_print(uint8_t dst[MEDIA__RTP_HDR_LEN], bool marker, uint8_t pt, uint16_t seq,
		      uint32_t ts, uint32_t ssrc);
/* Whether a datagram on the RTP port is RTCP (RFC 5761 §4: packet types 192–223). */
bool media__rtp_is_rtcp(const uint8_t *p, size_t len);

/* One RFC 4733 §2.3 telephone-event payload. */
struct media__te {
	uint8_t event;
	bool end;
	uint8_t volume;
	uint16_t duration; /* in RTP timestamp units */
};

/* 0 or -EBADMSG (shorter than 4 bytes). */
int media__te_parse(struct media__te *out, const uint8_t *p, size_t len);
/* The DTMF digit of an event code (RFC 4733 §3.2: 0-9 * # A-D), or 0. */
char media__te_digit(uint8_t event);

/* ======================================================================== */
/* RTCP (rtcp.c)                                                             */
/* ======================================================================== */

enum {
	MEDIA__RTCP_SR = 200,
	MEDIA__RTCP_RR = 201,
	MEDIA__RTCP_SDES = 202,
	MEDIA__RTCP_BYE = 203,
	MEDIA__RTCP_APP = 204,
	MEDIA__RTCP_MAX = 256, /* the largest compound packet this side prints */
};

/* One reception report block (RFC 3550 §6.4.1). */
struct media__rtcp_block {
	uint32_t ssrc;
	uint8_t fraction; /* lost since the previous report, in 1/256 */
	int32_t lost;	  /* cumulative, a signed 24-bit value */
	uint32_t ext_max_seq;
	uint32_t jitter; /* in RTP timestamp units */
	uint32_t lsr;	 /* middle 32 bits of the last SR's NTP time, 0: none */
	uint32_t dlsr;	 /* delay since that SR, in 1/65536 s */
};

/* Sender info of an SR (RFC 3550 §6.4.1). */
struct media__rtcp_sender {
	uint64_t ntp; /* 32.32 fixed point seconds since 1900 */
	uint32_t rtp_ts;
	uint32_t packets;
	uint32_t octets;
};

/* What a compound RTCP packet says that a stream acts on. */
struct media__rtcp_info {
	uint32_t ssrc; /* the sender of the first SR or RR */
	bool has_sr;
	struct media__rtcp_sender sr;
	bool has_block; /* a report block about the `about` SSRC */
	struct media__rtcp_block block;
	bool bye;
	unsigned packets; /* how many packets the compound held */
};

/*
 * Parses a compound RTCP packet (RFC 3550 §6.1, A.2 validity checks): every
 * packet version 2 with a length inside the datagram, lengths adding up to the
 * datagram, padding only on the last. Unknown packet types are skipped. Picks
 * the report block whose SSRC is `about` (ours). 0 or -EBADMSG.
 */
int media__rtcp_parse(struct media__rtcp_info *out, const uint8_t *p, size_t len, uint32_t about);

/* A report this side sends: SR or RR, at most one block, SDES CNAME, maybe BYE. */
struct media__rtcp_report {
	uint32_t ssrc;
	bool sr;
	struct media__rtcp_sender sender;
	bool has_block;
	struct media__rtcp_block block;
	struct str cname; /* at most 255 bytes */
	bool bye;
};

/* Prints the compound packet into dst; its length, or 0 when cap is too small. */
size_t media__rtcp_print(uint8_t *dst, size_t cap, const struct media__rtcp_report *r);

/* ======================================================================== */
/* Reception statistics (jitter.c): RFC 3550 A.1, A.3, A.8                   */
/* ======================================================================== */

struct media__rx {
	uint16_t max_seq;
	uint32_t cycles; /* sequence wraps, shifted left 16 */
	uint32_t base_seq;
	uint32_t bad_seq;
	uint32_t received;
	uint32_t expected_prior;
	uint32_t received_prior;
	uint32_t transit;
	uint32_t jitter; /* scaled by 16 (A.8) */
	bool have_transit;
};

/* Starts tracking a source whose first packet has sequence `seq`. */
void media__rx_init(struct media__rx *rx, uint16_t seq);
/*
 * Accounts one packet's sequence number (A.1 without probation: the caller
 * latches sources). false when the packet is to be dropped: a duplicate or
 * very late one, or the first of a large jump (the second in sequence after
 * the jump restarts the count).
 */
bool media__rx_update(struct media__rx *rx, uint16_t seq);
/* Interarrival jitter (A.8): `arrival` is the arrival time in timestamp units. */
void media__rx_jitter(struct media__rx *rx, uint32_t ts, uint32_t arrival);
uint32_t media__rx_ext_max(const struct media__rx *rx);
/* Expected minus received (A.3), negative with duplicates. */
int64_t media__rx_lost(const struct media__rx *rx);
/* Jitter in timestamp units. */
uint32_t media__rx_jitter_units(const struct media__rx *rx);
/* Fills a report block's loss, sequence and jitter fields and starts a new interval. */
void media__rx_report(struct media__rx *rx, struct media__rtcp_block *b);

/* ======================================================================== */
/* Codecs (codec.c, codec_g711.c)                                            */
/* ======================================================================== */

enum {
	MEDIA__PTIME_MAX = 120,
	MEDIA__FRAME_MAX = 48 * MEDIA__PTIME_MAX, /* samples in the longest frame */
	MEDIA__PAYLOAD_MAX = 1400,		  /* Opus' 1275 and G.711 at 120 ms fit */
};

void media__ulaw_encode(uint8_t *dst, const int16_t *pcm, size_t n);
void media__ulaw_decode(int16_t *dst, const uint8_t *src, size_t n);
void media__alaw_encode(uint8_t *dst, const int16_t *pcm, size_t n);
void media__alaw_decode(int16_t *dst, const uint8_t *src, size_t n);
uint8_t media__ulaw_from_linear(int16_t x);
int16_t media__ulaw_to_linear(uint8_t code);
uint8_t media__alaw_from_linear(int16_t x);
int16_t media__alaw_to_linear(uint8_t code);

/* An encoder or decoder: G.711 needs no state, G.722 and Opus own theirs. */
struct media__codec {
	enum media_codec_id id;
	void *state; /* owned: spandsp's g722 state or an OpusEncoder/OpusDecoder */
};

bool media__codec_valid(enum media_codec_id id);
/* Rounds a negotiated ptime to one this side can send (see codec.c). */
uint32_t media__codec_ptime(enum media_codec_id id, uint32_t ptime_ms);
/* Silence as this codec's payload byte, or -1 when it must be encoded. */
int media__codec_silence_byte(enum media_codec_id id);

int media__encoder_init(struct media__codec *c, enum media_codec_id id);
int media__decoder_init(struct media__codec *c, enum media_codec_id id);
/* Frees the state of either kind; the struct may be initialised again. */
void media__codec_fini(struct media__codec *c, bool encoder);
/* Encodes `samples` at the codec's audio rate: payload bytes or -errno. */
int media__codec_encode(struct media__codec *c, const int16_t *pcm, size_t samples, uint8_t *dst,
			size_t cap);
/* Decodes one payload: samples written (at most cap) or -errno. */
int media__codec_decode(struct media__codec *c, const uint8_t *payload, size_t len, int16_t *dst,
			size_t cap);
/* Samples (at the audio rate) one payload carries, or -EBADMSG. */
int media__codec_payload_samples(enum media_codec_id id, const uint8_t *payload, size_t len);

/* ======================================================================== */
/* Engine and streams (engine.c, stream.c, stream_rx.c)                      */
/* ======================================================================== */

enum {
	MEDIA__TICK_US = 20000,	     /* the engine's tick while every ptime is a multiple of 20 */
	MEDIA__FINE_TICK_US = 10000, /* while some stream has ptime 10, 30, 50 … */
	MEDIA__CATCHUP_US = 100000,  /* a late tick sends at most this much audio per stream */
	MEDIA__TX_BATCH = 10,	     /* packets one stream sends in one tick, at most */
	MEDIA__TX_SLOT = MEDIA__RTP_HDR_LEN + MEDIA__PAYLOAD_MAX,
	MEDIA__RX_BATCH = 8,	      /* datagrams one recvmmsg reads */
	MEDIA__RX_SLOT = 2048,	      /* larger datagrams are truncated, hence dropped */
	MEDIA__RELATCH_PACKETS = 10,  /* consecutive packets from a new address to move there */
	MEDIA__TE_STALE_US = 1000000, /* an event without an end packet for this long ended */
	MEDIA__RTCP_DEFAULT_MS = 5000,
	MEDIA__DTMF_QUEUE = 128, /* digits and pauses media_stream_send_dtmf queues, at most */
};

/*
 * The engine: one per loop. The scratch buffers are shared by every stream
 * of the loop because one loop runs one callback at a time; the receive side
 * and the send side have their own so that a callback from one cannot clobber
 * the other.
 */
struct media_engine {
	uv_loop_t *loop;
	uv_timer_t tick;
	bool tick_running;
	uint32_t tick_us;    /* MEDIA__TICK_US or MEDIA__FINE_TICK_US */
	uint64_t origin_us;  /* the tick grid: origin + k * tick_us */
	uint64_t nominal_us; /* the grid point of the last tick */

	/* Port pairs: pair k is RTP port first_port + 2k and RTCP the next. Free
	 * pairs wait in a FIFO so that a freed pair is reused last. */
	uint32_t first_port;
	uint32_t npairs;
	uint16_t *free_pairs; /* owned ring of npairs entries */
	uint32_t free_head, free_len;

	struct media_stream *streams;	/* every stream, a doubly-linked list */
	struct media_stream *iter_next; /* the tick's next stream, kept valid on destroy */
	size_t nstreams;
	size_t nfine; /* streams whose ptime needs the 10 ms tick */

	size_t open_handles; /* handles whose close callback has not run */
	bool closing;
	void (*done_cb)(void *arg);
	void *done_arg;

	uint64_t rng;
	char cname[24];

	/* send scratch */
	int16_t tx_pcm[MEDIA__FRAME_MAX];
	uint8_t tx_buf[MEDIA__TX_BATCH][MEDIA__TX_SLOT];
	struct mmsghdr tx_msgs[MEDIA__TX_BATCH];
	struct iovec tx_iov[MEDIA__TX_BATCH];

	/* receive scratch */
	int16_t rx_pcm[MEDIA__FRAME_MAX];
	int16_t tap_pcm[MEDIA__FRAME_MAX]; /* a sent frame decoded again for a tx tap */
	uint8_t rx_buf[MEDIA__RX_BATCH][MEDIA__RX_SLOT];
	struct mmsghdr rx_msgs[MEDIA__RX_BATCH];
	struct iovec rx_iov[MEDIA__RX_BATCH];
	struct sockaddr_storage rx_from[MEDIA__RX_BATCH];

	/* Relayed packets (stream_bridge.c): what one received batch relays to a
	 * bridged stream leaves in one sendmmsg at the end of the batch. They
	 * all go to relay_to (a change of target sends what was queued first). */
	struct media_stream *relay_to;
	unsigned relay_n;
	uint8_t relay_buf[MEDIA__RX_BATCH][MEDIA__TX_SLOT];
	struct mmsghdr relay_msgs[MEDIA__RX_BATCH];
	struct iovec relay_iov[MEDIA__RX_BATCH];
	int16_t rx_resampled[MEDIA__FRAME_MAX]; /* decoded audio at the bridged stream's rate */
};

/* Echoed audio waiting for the next tick(s): a few frames, payloads or PCM. */
struct media__echo;
/* Transcoded audio from the bridged stream waiting for this stream's ticks. */
struct media__xcode;
/* Digits media_stream_send_dtmf queued and the event being sent. */
struct media__dtmf_tx;

struct media_stream {
	struct media_engine *eng;
	struct media_stream *prev, *next;
	struct media_stream_cbs cbs;
	struct media_tap tap; /* recording's copies of rx and tx audio; zeroed: none */
	struct media_stream_params params;
	bool te_relay_off; /* media_stream_dtmf_relay(s, false) */

	uv_poll_t rtp_poll, rtcp_poll;
	int rtp_fd, rtcp_fd;
	uint32_t pair;
	uint16_t port;
	int family;
	unsigned open_handles;
	bool started;
	bool closed; /* media_stream_destroy ran: no callback from now on */
	bool fine;   /* counted in eng->nfine */

	/* sending */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;	      /* timestamp of the next frame */
	uint64_t next_due_us; /* when the next frame is due, on the engine's grid */
	uint32_t ptime_us;
	uint32_t frame_samples; /* per frame at the audio rate */
	uint32_t frame_ts;	/* timestamp units per frame */
	uint32_t clock_rate;
	bool marker; /* the next packet starts a talkspurt */
	bool was_sending;
	struct media__codec enc;
	struct media__codec dec;
	struct media_source *src; /* owned */
	struct media__echo *echo; /* owned, NULL when echo is off */
	struct net_addr rtp_dest, rtcp_dest;
	bool dest_valid;		/* a real remote address: not on hold */
	uint32_t sr_packets, sr_octets; /* for SR sender info */

	/* symmetric RTP */
	bool latched;
	bool rtcp_latched;
	struct net_addr cand;
	uint32_t cand_ssrc;
	uint32_t cand_count;

	/* receiving */
	bool have_peer;
	uint32_t peer_ssrc;
	struct media__rx rx;
	int64_t lost_base; /* loss of earlier peer SSRCs */
	uint64_t expect_since_us;
	uint64_t last_rx_us;
	bool timed_out;

	/* RFC 4733 */
	bool te_active;
	uint8_t te_event;
	uint32_t te_ts;
	uint32_t te_duration;
	uint64_t te_last_us;
	bool te_done;
	uint32_t te_done_ts;

	/* bridging (stream_bridge.c); the relay_* and te_map_* fields are this
	 * stream's side as the sender of what the bridged stream receives */
	struct media_stream *bridged;
	bool relay;		 /* both sides: packets are relayed, not transcoded */
	struct media__xcode *xc; /* owned, transcoding only: audio to send */
	bool relay_sync;	 /* relay_off maps relay_ssrc's timestamps to ours */
	uint32_t relay_ssrc;
	uint32_t relay_off;
	uint64_t relay_last_us; /* a packet was last relayed out then, 0: never */
	bool ts_out_valid;	/* ts_out: the latest timestamp sent, own or relayed */
	uint32_t ts_out;
	bool te_map_valid;  /* transcoding: the relayed event te_map_in is sent */
	uint32_t te_map_in; /* with our timestamp te_map_out */
	uint32_t te_map_out;
	struct media__dtmf_tx *dtmf; /* owned, NULL until media_stream_send_dtmf */

	/* RTCP */
	uint64_t rtcp_next_us;
	uint32_t lsr;	    /* of the peer's last SR, 0: none */
	uint64_t lsr_at_us; /* when it arrived */

	struct media_stats stats;
};

/* engine.c */
uint64_t media__now_us(void);
uint32_t media__rand32(struct media_engine *eng);
/* Takes a free port pair and binds both sockets on `ip`: 0 or -EADDRINUSE when
 * every pair is taken or busy, another -errno when binding cannot work. */
int media__ports_take(struct media_engine *eng, const struct net_addr *ip, uint32_t *pair,
		      int *rtp_fd, int *rtcp_fd);
void media__ports_give(struct media_engine *eng, uint32_t pair);
/* Makes sure the tick runs (a stream was started) and picks its period. */
void media__engine_tick_update(struct media_engine *eng);
void media__engine_handle_closed(struct media_engine *eng);

/* stream.c */
void media__stream_tick(struct media_stream *s, uint64_t nominal_us, uint64_t now_us);
void media__stream_rtcp_send(struct media_stream *s, uint64_t now_us, bool bye);

/* stream_rx.c */
void media__stream_rx_rtp(struct media_stream *s, const uint8_t *p, size_t len,
			  const struct net_addr *from, uint64_t now_us);
void media__stream_rx_rtcp(struct media_stream *s, const uint8_t *p, size_t len,
			   const struct net_addr *from, uint64_t now_us);
void media__stream_poll_cb(uv_poll_t *h, int status, int events);
/* Echo ring: stream_rx.c fills it, stream.c drains it. */
int media__echo_create(struct media__echo **out, enum media_codec_id id, uint32_t frame_samples);
void media__echo_destroy(struct media__echo *e);
/* The next frame: its payload (returns > 0 bytes, copied into dst), or PCM
 * (returns 0, frame_samples written into pcm), or -ENOENT when empty. */
int media__echo_pop(struct media__echo *e, uint8_t *dst, size_t cap, int16_t *pcm);
void media__stream_te_flush(struct media_stream *s);

/* stream_bridge.c */
struct media__bridge_plan {
	bool relay;
	/* the FIFOs s and its bridged stream are to have (kept, new or NULL) */
	struct media__xcode *xc_s, *xc_peer;
};
/*
 * What bridging `s` (to be started or not, with `codec` and `ptime` ms) to
 * `peer` takes: relay or transcode, and the FIFOs to allocate, so that
 * media_stream_start can fail before it changes anything. `reuse`: keep
 * FIFOs that already fit (a re-INVITE that changes nothing keeps its audio).
 * 0 or -ENOMEM (nothing then allocated).
 */
int media__bridge_prepare(struct media__bridge_plan *plan, const struct media_stream *s,
			  const struct media_stream *peer, bool started, enum media_codec_id codec,
			  uint32_t ptime_ms, bool reuse);
/* Installs a prepared plan on s and s->bridged; cannot fail. */
void media__bridge_commit(struct media_stream *s, struct media__bridge_plan *plan);
/* Frees what a plan allocated and commit did not install. */
void media__bridge_plan_drop(const struct media_stream *s, struct media__bridge_plan *plan);
/* Relays one received packet (audio or, `event`, RFC 4733) of `in` out of
 * its bridged stream, when the bridge relays it (see media.h). */
void media__bridge_relay(struct media_stream *in, const struct media__rtp *r, bool event,
			 uint64_t now_us);
/* Whether decoded audio of the stream bridged to `out` is wanted in out's FIFO. */
bool media__bridge_wants_audio(const struct media_stream *out);
/* Puts decoded audio of out's bridged stream (at its rate) into out's FIFO. */
void media__bridge_feed(struct media_stream *out, const int16_t *pcm, size_t n);
/* The next frame of bridged audio (`pcm` NULL: dropped), false on underrun. */
bool media__xcode_pop(struct media__xcode *xc, int16_t *pcm, size_t n);
/* Whether the bridged stream's packets are being relayed out of `s` now (its
 * own pacing then sends nothing). */
bool media__bridge_relaying(const struct media_stream *s, uint64_t now_us);
/* Sends the relayed packets waiting in the engine. */
void media__relay_flush(struct media_engine *eng);

/* stream_dtmf.c */
/* Whether digits are queued or being sent. */
bool media__dtmf_busy(const struct media_stream *s);
/*
 * The DTMF part of one frame slot, whose timestamp is s->ts: -1 when no
 * digit is queued (audio may go), 0 when the slot belongs to DTMF but
 * carries nothing (a pause, the gap between digits), or the length of a
 * telephone-event payload written to `payload`, to be sent with timestamp
 * *ts and the marker *marker. `sent`: whether the stream sends it (not on
 * hold), for the statistics; digits go on in real time either way.
 */
int media__dtmf_slot(struct media_stream *s, uint8_t *payload, uint32_t *ts, bool *marker,
		     bool sent);
/* Forgets what is queued (the clock or telephone-event changed, destroy). */
void media__dtmf_fini(struct media_stream *s);

static inline bool media__may_send(const struct media_stream *s)
{
	return s->dest_valid &&
	       (s->params.dir == MEDIA_SENDRECV || s->params.dir == MEDIA_SENDONLY);
}

/* NTP time (RFC 3550 §4) of a wall-clock microsecond count. */
uint64_t media__ntp_from_wall_us(uint64_t us);

/* Network byte order, for the RTP and RTCP packet codecs. */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
