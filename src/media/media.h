/*
 * media — RTP streams and what they play.
 *
 *  - The engine (one per loop) owns the RTP port range and ONE 20 ms tick that
 *    paces every outgoing stream of its loop, correcting drift against the
 *    monotonic clock (never a timer or a thread per call).
 *  - A stream is one RTP/RTCP session of a call leg: an even port for RTP and
 *    the next for RTCP, symmetric RTP, SSRC/sequence/timestamp rules, RTCP
 *    SR/RR with loss and jitter, a media timeout, RFC 4733 telephone-events.
 *  - A source is what a stream plays: a file (libsndfile, any rate and channel
 *    count, resampled), a tone_stream://, a silence_stream://, synthesized speech
 *    (espeak-ng). Sources yield 16-bit mono linear PCM at the rate asked for.
 *
 * Everything here runs on one loop; disk and synthesis work go to libuv's
 * thread pool.
 */
#ifndef IRISX_MEDIA_H
#define IRISX_MEDIA_H

#include "base/base.h"

struct uv_loop_s;

/* ======================================================================== */
/* Codecs                                                                    */
/* ======================================================================== */

enum media_codec_id {
	MEDIA_CODEC_PCMU, /* G.711 µ-law, 8 kHz, static PT 0 */
	MEDIA_CODEC_PCMA, /* G.711 A-law, 8 kHz, static PT 8 */
	MEDIA_CODEC_G722, /* 16 kHz audio, 8 kHz RTP clock (RFC 3551 §4.5.2), PT 9 */
	MEDIA_CODEC_OPUS, /* 48 kHz RTP clock, dynamic PT (RFC 7587) */
};

/* The rate the codec's audio runs at (PCMU/PCMA 8000, G722 16000, OPUS 48000). */
uint32_t media_codec_audio_rate(enum media_codec_id id);
/* The RTP timestamp clock (PCMU/PCMA/G722 8000, OPUS 48000): the SDP rtpmap rate. */
uint32_t media_codec_clock_rate(enum media_codec_id id);
/* The SDP encoding name ("PCMU", "PCMA", "G722", "opus"); a static string. */
const char *media_codec_name(enum media_codec_id id);
/* The static payload type (RFC 3551 table 4), or -1 (Opus is dynamic). */
int media_codec_static_pt(enum media_codec_id id);
/* The codec an SDP encoding name means (case-insensitive): 0 or -ENOENT. */
int media_codec_find(struct str name, enum media_codec_id *out);

/* ======================================================================== */
/* Sources                                                                   */
/* ======================================================================== */

struct media_source;

struct media_source_ops {
	/*
	 * Fills `pcm` with up to `samples` mono samples at `rate` Hz and returns
	 * how many it wrote: fewer (or 0) only when the source has ended. Never
	 * blocks and never allocates on this path.
	 */
	size_t (*read)(struct media_source *src, int16_t *pcm, size_t samples, uint32_t rate);
	void (*destroy)(struct media_source *src);
};

struct media_source {
	const struct media_source_ops *ops;
};

static inline size_t media_source_read(struct media_source *src, int16_t *pcm, size_t samples,
				       uint32_t rate)
{
	return src->ops->read(src, pcm, samples, rate);
}

static inline void media_source_destroy(struct media_source *src)
{
	if (src)
		src->ops->destroy(src);
}

/*
 * The per-loop library of playable audio: decoded, resampled prompts cached
 * and shared between calls (a thousand calls playing the same prompt hold it
 * once), file decoding and speech synthesis done in the thread pool.
 */
struct media_library;

int media_library_create(struct media_library **out, struct uv_loop_s *loop,
			 const char *sounds_dir /* relative paths resolve here */);
/*
 * Pending opens are dropped (their callbacks never run); sources already
 * handed out stay valid and keep the PCM they play until destroyed. May be
 * called from a ready callback. Thread-pool work still running completes
 * later on the loop and frees itself: run the loop afterwards (as after
 * uv_close) before closing it.
 */
void media_library_destroy(struct media_library *lib);

/* Default bytes of decoded PCM the cache keeps (MEDIA_LIBRARY_CACHE_DEFAULT). */
enum { MEDIA_LIBRARY_CACHE_DEFAULT = 64 << 20 };
/*
 * PCM nobody plays is evicted, least recently used first, while the total
 * exceeds `bytes`; PCM being played is never evicted. A single prompt larger
 * than the limit fails to open with -EFBIG.
 */
void media_library_set_cache_limit(struct media_library *lib, size_t bytes);

struct media_library_stats {
	size_t bytes;	    /* decoded PCM held, cached or playing, each prompt once */
	size_t entries;	    /* prompts (file or speech, per rate) holding that PCM */
	uint64_t decodes;   /* file decodes and syntheses started */
	uint64_t hits;	    /* opens answered from the cache */
	uint64_t evictions; /* entries evicted for the limit */
};
void media_library_stats(const struct media_library *lib, struct media_library_stats *out);

/* `src` is owned by the callee; err < 0 (and src NULL) when it cannot be played. */
typedef void (*media_source_ready_cb)(void *arg, struct media_source *src, int err);

/*
 * Opens something to play at `rate` Hz: a file path (absolute, or relative to
 * sounds_dir), "tone_stream://…" (FreeSWITCH's syntax: %(on_ms,off_ms,freq[+freq…])
 * segments, ;loops=N), or "silence_stream://MS" (-1: endless). `cb` always runs
 * later on the loop, never before this returns. Returns 0 or a negative errno
 * for a spec that can never work (the callback then does not run): -EINVAL
 * for a malformed tone or silence spec or a rate outside 1000..192000.
 * Errors reach the callback as err: -ENOENT, -EACCES, -EISDIR (the file),
 * -EBADMSG (not audio libsndfile reads), -EFBIG (larger than the cache
 * limit), -ENOMEM. Files are decoded once per (path, rate, mtime, size) and
 * shared. A source read at another rate than opened converts on the fly
 * (linearly interpolated); reopen for full quality.
 */
int media_source_open(struct media_library *lib, const char *spec, uint32_t rate,
		      media_source_ready_cb cb, void *arg);
/*
 * Speech for `text` (UTF-8, plain text, at most 4096 bytes) with espeak-ng
 * (`voice` an espeak-ng voice name such as "en-us" or "de"; NULL: "en-us"),
 * as media_source_open; cached by (voice, text, rate). -EINVAL at once for an
 * empty or oversized text or a malformed voice name; -ENOENT through the
 * callback for a voice espeak-ng does not have.
 */
int media_source_speak(struct media_library *lib, const char *text, const char *voice,
		       uint32_t rate, media_source_ready_cb cb, void *arg);
/* Cancels the pending opens given `arg`: their callbacks will not run. */
void media_source_open_cancel(struct media_library *lib, void *arg);

/* ======================================================================== */
/* Engine and streams                                                        */
/* ======================================================================== */

struct media_engine;
struct media_stream;

/* Ports come from [port_min, port_max] (switch.conf rtp-start-port/rtp-end-port).
 * -EINVAL when the range holds no even/odd pair. */
int media_engine_create(struct media_engine **out, struct uv_loop_s *loop, uint16_t port_min,
			uint16_t port_max);
/* Streams must be destroyed first (any left are destroyed, with an error
 * logged). `done_cb` runs from the loop once every handle is closed. */
void media_engine_destroy(struct media_engine *eng, void (*done_cb)(void *arg), void *arg);
size_t media_engine_stream_count(const struct media_engine *eng);

enum media_dir { MEDIA_SENDRECV, MEDIA_SENDONLY, MEDIA_RECVONLY, MEDIA_INACTIVE };

struct media_stream_params {
	struct net_addr remote; /* where RTP goes until the peer's packets show otherwise */
	enum media_codec_id codec;
	uint8_t pt;	     /* payload type of the codec */
	uint32_t ptime_ms;   /* 0: 20; rounded to a multiple of 10 up to 120 (Opus: 10/20/40/60) */
	int te_pt;	     /* telephone-event payload type, -1 when not negotiated; its
				clock is the codec's RTP clock */
	enum media_dir dir;  /* from this side's point of view */
	uint32_t timeout_ms; /* no RTP for this long while receiving → timeout_cb; 0: off */
	uint32_t rtcp_interval_ms; /* mean RTCP report interval (randomized ±50%); 0: 5000 */
};

struct media_stream_cbs {
	/* No RTP arrived for params.timeout_ms (not while the peer holds the call). */
	void (*timeout_cb)(void *arg);
	/* The source given to media_stream_play() ended (0) or was stopped or
	 * replaced (-ECANCELED). The stream has destroyed it. */
	void (*play_done_cb)(void *arg, int status);
	/* An RFC 4733 event ended (retransmissions counted once); may be NULL. */
	void (*dtmf_cb)(void *arg, char digit, uint32_t duration_ms);
	void *arg;
	/* Each received audio packet, decoded: `samples` mono samples at the
	 * codec's audio rate, valid during the call only; may be NULL (nothing
	 * is then decoded). For recording, taps and detectors. */
	void (*audio_cb)(void *arg, const int16_t *pcm, size_t samples, uint32_t rate);
};

struct media_stats {
	uint64_t packets_in, packets_out;
	uint64_t bytes_in, bytes_out;
	uint64_t lost;		  /* expected minus received (RFC 3550 A.3) */
	double jitter_ms;	  /* interarrival jitter (RFC 3550 A.8) */
	uint64_t last_rx_ms;	  /* monotonic ms of the last packet in, 0 if none */
	uint64_t packets_dropped; /* malformed, unknown payload type, unlatched source, late */
	uint64_t rtcp_in, rtcp_out;
	/* What the peer's last RTCP report block about our stream said. */
	int64_t remote_lost; /* cumulative packets lost */
	double remote_jitter_ms;
	double rtt_ms; /* round trip from LSR/DLSR (RFC 3550 §6.4.1); 0: not known */
	/* Of packets_out: relayed from the bridged stream as they arrived. */
	uint64_t packets_relayed;
	/* RFC 4733 events media_stream_send_dtmf() sent to their last end packet
	 * (their packets are counted in packets_out and bytes_out). */
	uint64_t dtmf_out;
};

/*
 * Opens an RTP/RTCP port pair on `local_ip` (even RTP port, RTCP on +1; the
 * port is ignored). Nothing is sent until media_stream_start(). `cbs` is
 * copied (NULL: no callbacks). -EADDRINUSE when every pair of the range is
 * taken, -EAFNOSUPPORT for a non-IP address, another -errno from bind().
 */
int media_stream_create(struct media_stream **out, struct media_engine *eng,
			const struct net_addr *local_ip, const struct media_stream_cbs *cbs);
uint16_t media_stream_port(const struct media_stream *s);
/*
 * Starts (or, called again, updates: re-INVITE, hold) sending and receiving.
 * While sending is allowed a packet leaves every ptime: the current source's
 * audio, the echoed audio, or silence. An update keeps SSRC, sequence and
 * timestamp running; a new `remote` restarts symmetric latching from it. A
 * remote of 0.0.0.0 / :: (or AF_UNSPEC) holds: nothing is sent, RTCP
 * included, and no timeout runs. -EINVAL for bad parameters, -EAFNOSUPPORT
 * for a remote of the other address family, -ENOMEM; the stream is then
 * unchanged. No callback runs from inside.
 */
int media_stream_start(struct media_stream *s, const struct media_stream_params *p);
/* Plays `src` (ownership passes to the stream), replacing what was playing:
 * the replaced source's play_done_cb(-ECANCELED) runs before this returns.
 * The source is read in real time once the stream is started, also while
 * nothing is sent (hold), so that a playback ends on time. */
void media_stream_play(struct media_stream *s, struct media_source *src);
/* Stops what is playing (play_done_cb with -ECANCELED before this returns;
 * nothing when nothing plays). */
void media_stream_stop(struct media_stream *s);
/* Sends back what arrives (the echo application), a frame or two later. */
void media_stream_echo(struct media_stream *s, bool on);
void media_stream_stats(const struct media_stream *s, struct media_stats *out);
/* Closes the sockets (RTCP BYE first); no callback runs after this. A bridged
 * stream leaves its bridge first. */
void media_stream_destroy(struct media_stream *s);

/*
 * Bridges two streams of the same engine (two legs of a call): what arrives on
 * one leaves on the other, in place of its own source, echo or silence.
 *  - Same codec, clock and ptime on both: packets are relayed as they arrive,
 *    payload untouched, carrying the sending stream's own SSRC, sequence and
 *    timestamps (a gap in the input stays a gap in timestamps; marker kept).
 *  - Otherwise: decoded, resampled and encoded again on the sending stream's
 *    paced tick (a short buffer; what overflows it is dropped, oldest first).
 *  - RFC 4733 events are relayed with the other side's payload type when both
 *    negotiated telephone-event; dtmf_cb still fires on the receiving side.
 * The choice is made again whenever either stream is (re)started with new
 * parameters (re-INVITE). Streams may be bridged before they are started;
 * nothing crosses until both are. Relaying, a stream sends nothing of its
 * own while packets arrive to relay; once its bridged stream has received
 * none for 3 ptimes + 100 ms (the other leg holds or went quiet), it sends
 * silence again until they resume. Comfort noise (PT 13) is not relayed.
 * media_stream_play() on a bridged stream plays over the bridged audio
 * until the source ends or is stopped, then the bridged audio resumes.
 * Bridging a stream that is bridged already moves it. -EINVAL for the same
 * stream twice or streams of different engines (or NULL, or a destroyed
 * stream), -ENOMEM (transcoding buffers); nothing changes then. No callback
 * runs from inside.
 */
int media_stream_bridge(struct media_stream *a, struct media_stream *b);
/* Ends the bridge the stream is in (both sides); nothing when not bridged. */
void media_stream_unbridge(struct media_stream *s);
/* The stream `s` is bridged to, or NULL. */
struct media_stream *media_stream_bridged(const struct media_stream *s);

/*
 * Sends `digits` (0-9 * # A-D, case-insensitive; 'w' a 500 ms pause, 'W' 1 s)
 * as RFC 4733 telephone-events of `duration_ms` each (0: 100; at least 40),
 * with 50 ms between digits, queued after digits still being sent: three end
 * packets per event (§2.5.1.4), the marker on the first. Audio is not sent
 * meanwhile. -ENOTSUP when no telephone-event payload type was negotiated
 * (params.te_pt < 0) or the stream is not started, -EINVAL for any other
 * character (then nothing is queued), -ENOSPC past 128 queued digits.
 * A duration longer than RFC 4733's 16-bit field holds at the codec's clock
 * (8.19 s at 8000 Hz, 1.36 s at 48000) is shortened to fit. Nothing at all
 * is sent between digits and during pauses; a playing source goes on being
 * read (unheard) meanwhile, so that it ends on time. A re-start that drops
 * telephone-event or changes the RTP clock forgets the queued digits.
 * Digits run in real time: those due while nothing may be sent (hold,
 * recvonly) pass unsent.
 */
int media_stream_send_dtmf(struct media_stream *s, const char *digits, uint32_t duration_ms);

/*
 * Taps: a copy of each frame of audio the stream receives (rx_cb, what the
 * far end sent, decoded) and of each frame it sends (tx_cb: its source,
 * echo, transcoded bridge audio or silence, as PCM; relayed packets are
 * decoded for it), `samples` mono samples at `rate` Hz, valid during the call
 * only. For recording. NULL removes the tap; the callbacks never run from
 * inside this function. A callback may not destroy the stream or change
 * its tap.
 */
struct media_tap {
	void (*rx_cb)(void *arg, const int16_t *pcm, size_t samples, uint32_t rate);
	void (*tx_cb)(void *arg, const int16_t *pcm, size_t samples, uint32_t rate);
	void *arg;
};
void media_stream_set_tap(struct media_stream *s, const struct media_tap *tap);

/* ======================================================================== */
/* Recording (record.c, record_writer.c, record_wav.c)                      */
/* ======================================================================== */

/*
 * The writer: ONE thread that owns every recording file, fed through a
 * bounded queue, so that no disk write happens on a loop. Each open file's
 * WAV header is rewritten at least once a second: a process killed mid-way
 * leaves a file whose header is at most a second short (media_wav_repair
 * fixes that at the next start).
 */
struct media_record_writer;

enum { MEDIA_RECORD_QUEUE_DEFAULT = 8 << 20 }; /* bytes of audio waiting, at most */

/* Starts the thread. queue_bytes 0: MEDIA_RECORD_QUEUE_DEFAULT. 0 or -errno. */
int media_record_writer_create(struct media_record_writer **out, size_t queue_bytes);
/* Writes what is queued, closes every file and joins the thread (blocks:
 * call it at shutdown, once the loops are done). NULL is ignored. */
void media_record_writer_destroy(struct media_record_writer *w);
/* Audio blocks dropped because the queue was full (counted, logged). */
uint64_t media_record_writer_dropped(const struct media_record_writer *w);

/*
 * A recording of one call leg: what the far end sent (rx, the caller: left
 * channel in stereo) and what irisx sent (tx: right), aligned and mixed into
 * mono (a saturating sum) or kept as two channels, 16-bit PCM WAV at `rate`.
 * Audio at another rate than the recording's is converted (linearly). The
 * two directions arrive at different moments: they are buffered and paired
 * up, and a direction silent for more than MEDIA_RECORD_LAG_MS is filled
 * with silence so that the other is not held back.
 * Everything except the file work runs on the caller's loop; the file is
 * created (with its directories) by the writer thread.
 */
struct media_recorder;

enum { MEDIA_RECORD_LAG_MS = 100 };

int media_recorder_create(struct media_recorder **out, struct media_record_writer *w,
			  const char *path, uint32_t rate, bool stereo);
void media_recorder_rx(struct media_recorder *r, const int16_t *pcm, size_t samples, uint32_t rate);
void media_recorder_tx(struct media_recorder *r, const int16_t *pcm, size_t samples, uint32_t rate);
/* Masked, silence is written in place of the audio (the length goes on). */
void media_recorder_mask(struct media_recorder *r, bool on);
/* Sample frames handed to the writer so far (mixing waits count once out). */
uint64_t media_recorder_frames(const struct media_recorder *r);
uint32_t media_recorder_rate(const struct media_recorder *r);
/* Pads the direction behind with silence, hands everything to the writer,
 * asks it to close the file, and frees r. */
void media_recorder_destroy(struct media_recorder *r);

/*
 * One direction only: what the far end sent (media_recorder_rx), mono, no
 * pairing and no lag; media_recorder_tx is ignored. For the record
 * application.
 */
int media_recorder_create_rx(struct media_recorder **out, struct media_record_writer *w,
			     const char *path, uint32_t rate);
/*
 * media_recorder_destroy, and closed_cb(arg) once the writer thread has
 * closed the file (or found it could not be created). closed_cb runs ON THE
 * WRITER THREAD: it may only signal (uv_async_send). 0, or -ENOMEM when the
 * close could not be queued: r is freed, the file is closed at shutdown and
 * closed_cb never runs.
 */
int media_recorder_close(struct media_recorder *r, void (*closed_cb)(void *arg), void *arg);

/*
 * The file's format follows its name: ".ogg" or ".opus" is Opus in Ogg
 * (libsndfile's), any other name a 16-bit PCM WAV. Opus takes 8, 12, 16, 24
 * or 48 kHz: another rate is recorded at the next legal one above it
 * (media_recorder_rate tells), and a libsndfile without Opus makes
 * media_recorder_create* return -ENOTSUP. An Ogg file is a sequence of
 * self-delimiting pages, written at most MEDIA_RECORD_OGG_PAGE_MS apart:
 * a process killed mid-way leaves a file readable up to its last page.
 */
enum { MEDIA_RECORD_OGG_PAGE_MS = 1000 };
bool media_record_path_is_opus(const char *path);

/*
 * Fixes the sizes in a RIFF/WAVE file's header from the file's length (the
 * RIFF size, and the data chunk's, rounded down to whole sample frames):
 * what a process killed mid-recording leaves. Returns 1 when it rewrote the
 * header, 0 when it was right, -EBADMSG for a file that is not a WAV with
 * a fmt and a data chunk, another -errno from the file system.
 */
int media_wav_repair(const char *path);
/*
 * media_wav_repair on every *.wav under dir (subdirectories too); *fixed
 * (may be NULL) counts the repaired ones. A missing dir is no error.
 * Blocking: for start-up.
 */
int media_wav_repair_dir(const char *dir, unsigned *fixed);

/*
 * Whether RFC 4733 events arriving on the stream bridged to `s` are relayed
 * out of `s` (on by default). Off, they are dropped there: the owner sends
 * the digits its own way (SIP INFO) or not at all. dtmf_cb still fires on
 * the receiving stream.
 */
void media_stream_dtmf_relay(struct media_stream *s, bool on);
/* Replaces the stream's audio_cb (NULL: no audio is decoded for it), e.g.
 * to run a detector only while it is wanted. */
void media_stream_set_audio_cb(struct media_stream *s,
			       void (*audio_cb)(void *arg, const int16_t *pcm, size_t samples,
						uint32_t rate));

/* ---- in-band DTMF detection (spandsp's detector) ---- */

struct media_dtmf_detector;
/*
 * A detector of DTMF tone pairs (ITU-T Q.24 levels and twist, as spandsp
 * judges them) for audio at `rate` Hz (a multiple of 8000: the audio is
 * averaged down to 8 kHz). `digit_cb` runs from media_dtmf_detector_feed()
 * when a tone ends, with its duration. -EINVAL for another rate, -ENOMEM.
 */
int media_dtmf_detector_create(struct media_dtmf_detector **out, uint32_t rate,
			       void (*digit_cb)(void *arg, char digit, uint32_t duration_ms),
			       void *arg);
/* Feeds audio (at the detector's rate). */
void media_dtmf_detector_feed(struct media_dtmf_detector *d, const int16_t *pcm, size_t samples);
uint32_t media_dtmf_detector_rate(const struct media_dtmf_detector *d);
void media_dtmf_detector_destroy(struct media_dtmf_detector *d);

#endif
