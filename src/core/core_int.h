/*
 * What the files of src/core share and nothing else sees.
 */
#ifndef IRISX_CORE_INT_H
#define IRISX_CORE_INT_H

#include "core.h"
#include "media/media.h"
#include "sdp/sdp.h"
#include "sip/sip.h"

#include <uv.h>

struct profile;

/* A gateway of a profile (sofia.conf <gateway>) and its registration/ping (gateway.c). */
struct gateway {
	struct profile *profile;
	const struct config_gateway *cfg; /* owned by core->cfg */
	struct sip_gateway *sip;	  /* NULL until the profile's UA runs */
	uint64_t calls_in, calls_out, failed_calls_in, failed_calls_out;
};

/* A SIP profile from sofia.conf and the user agent serving it. */
struct profile {
	struct core *core;
	const struct config_profile *cfg; /* owned by core->cfg */
	struct sip_ua *ua;
	uint64_t calls_in, failed_calls_in; /* sofia status */
	uint64_t calls_out, failed_calls_out;
	struct gateway *gateways; /* cfg->gateway_count of them */
	struct sip_txn_timers timers; /* from the profile's timer-T1/T2/T4 */
};

/* ---- the event bus (event.c) ---- */

/* The ring keeps the last CORE_EVENT_RING fired events for core_events_since. */
enum { CORE_EVENT_RING = 10000, CORE_HEARTBEAT_MS = 20000 };

struct core_sub {
	struct core_sub *next;
	struct core *core;
	core_event_cb cb;
	void *arg;
	bool dead; /* unsubscribed during a delivery: freed after it */
};

struct core_bus {
	struct core_event **ring; /* CORE_EVENT_RING slots, owned references */
	size_t ring_next;	  /* the slot the next event goes to */
	size_t ring_count;
	uint64_t lost_seq; /* the newest sequence pushed out of the ring (0: none) */
	struct core_sub *subs;
	unsigned delivering; /* nesting depth of deliveries in progress */
	bool has_dead;
	char uuid[UUID_STRLEN]; /* Core-UUID */
	char hostname[256];
	char ipv4[64];
	char ipv6[64];
	uint64_t started_us;
	/* the date headers, formatted once per second */
	int64_t date_sec;
	char date_local[32];
	char date_gmt[48];
	uv_timer_t heartbeat;
	uint64_t heartbeat_count;
};

/* A global variable set by global_setvar (command.c). */
struct core_global {
	struct core_global *next;
	char *name; /* heap, with the value in the same allocation */
	char *value;
};

/* A metrics collector (core_metrics.c). */
struct core_collector {
	struct core_collector *next;
	struct core *core;
	metrics_collect_cb cb;
	void *arg;
};

/* What the core counts for /metrics: plain integers, on the loop. */
struct core_metrics {
	uint64_t calls_total[2];		/* by direction, at creation */
	uint64_t calls_ended[2][CAUSE_COUNT]; /* by direction and hangup cause */
	/* RTP of the streams closed so far (live ones are read at scrape) */
	uint64_t rtp_packets_in, rtp_packets_out, rtp_lost, rtp_dropped;
	uint64_t rtp_streams;  /* closed streams with packets in, for the jitter summary */
	double rtp_jitter_sum; /* ms, over those streams */
	uint64_t events_fired;
	struct core_collector *collectors;
	struct core_cdr_hook cdr;
	bool cdr_set;
};

/* A registered command (command.c): fn or, for an asynchronous one, afn. */
struct core_command {
	struct core_command *next;
	const char *name, *usage, *description; /* static strings */
	core_command_fn fn;
	core_command_async_fn afn;
};

/* The pending reply of an asynchronous command (command.c). */
struct core_reply {
	struct core_reply *prev, *next; /* core->replies: freed at core_destroy if left */
	struct core *core;
	struct buf out;
	core_command_done_cb cb; /* NULL once the door detached */
	void *arg;
	bool starting; /* inside the command's function: core_command_run delivers */
	bool done;     /* core_reply_done was called while starting */
};

/* The highest value seen since start, and per minute over the last five
 * (status's "peak N, last 5min M"). */
enum { CORE_PEAK_MINUTES = 5 };
struct core_peak {
	uint32_t all;
	uint32_t minute_max[CORE_PEAK_MINUTES];
	uint64_t minute[CORE_PEAK_MINUTES]; /* which minute since the epoch each slot holds */
};
/* Reads acl.conf again and makes it the set in force (the previous reloaded
 * one is freed). 0, or config_reload_acls' error with err filled. */
int core__acls_reload(struct core *core, char *err, size_t err_size);

/* Records value at now_ms. */
void core__peak_note(struct core_peak *pk, uint32_t value, uint64_t now_ms);
/* The highest value in the five minutes before now_ms. */
uint32_t core__peak_recent(const struct core_peak *pk, uint64_t now_ms);

struct core {
	uv_loop_t *loop;
	struct config *cfg;    /* owned */
	struct core_router router;
	struct media_engine *media;    /* RTP ports and the 20 ms tick */
	struct media_library *library; /* prompts, tones, speech */
	struct acl_set *acls;  /* the live set: cfg->acls, or a reloaded one */
	bool acls_reloaded;    /* acls is ours to free, not cfg's */
	struct profile *profiles;
	size_t profile_count;

	struct channel *channels; /* every live channel */
	size_t channel_count;
	/* channels waiting for their next state step (FIFO) */
	struct channel *runq_head, *runq_tail;
	uv_check_t runq_check;
	uv_idle_t runq_idle; /* keeps the loop from blocking while the queue is not empty */

	/* sessions-per-second: calls admitted in the current one-second window */
	uint64_t sps_window_ms;
	uint32_t sps_count;
	uint64_t sessions_total; /* channels created since start */
	/* status's "peak" and "last 5min" figures */
	struct core_peak sessions_peak, sps_peak;
	/* recordings: the writer thread and <state dir>/recordings (NULL: off) */
	struct media_record_writer *rec_writer;
	char *recordings_dir;
	/* status's idle CPU: the previous /proc/stat sample */
	uint64_t cpu_idle_prev, cpu_total_prev;

	bool started;
	bool shutting_down;
	uint64_t shutdown_deadline_ms;
	uv_timer_t shutdown_timer;
	size_t open_handles;
	size_t profiles_open;
	void (*shutdown_cb)(void *arg);
	void *shutdown_arg;

	struct core_bus bus;
	struct core_metrics metrics;
	struct core_command *commands; /* sorted by name */
	struct core_reply *replies;    /* asynchronous commands still running */
	struct core_global *globals;
	void (*app_shutdown_cb)(void *arg); /* fsctl shutdown */
	void *app_shutdown_arg;
	struct cdr_store *cdr_store; /* not owned; NULL: no CDRs */
};

/* A channel variable set by an application (the built-ins are computed). */
struct channel_var {
	struct channel_var *next;
	char *name; /* heap, with the value in the same allocation */
	char *value;
};

/* What an asynchronous application (play, speak, echo, sleep) is doing;
 * OP_BRIDGE: the channel is the A side of a bridge (bridge.c); OP_RECORD:
 * channel_record_read (channel_record_read.c). */
enum channel_op_kind {
	OP_OPENING,
	OP_PLAYING,
	OP_ECHO,
	OP_SLEEP,
	OP_BRIDGE,
	OP_COLLECT,
	OP_RECORD
};

struct channel_op {
	struct channel_op *next; /* in ops_done */
	enum channel_op_kind kind;
	channel_done_cb cb;
	void *arg;
	int status;
	uv_timer_t *timer; /* OP_SLEEP, OP_COLLECT: heap, freed by its close callback */
	struct channel_collect *collect; /* OP_COLLECT: the caller's */
	struct core__record_read *rread; /* OP_RECORD: channel_record_read.c's */
	const char *path; /* channel_play's file (PLAYBACK_* events), in the channel's arena */
};

/* Codecs one side offers or accepts, in preference order. */
enum { CORE_CODECS_MAX = 8 };

/* The call's media: its RTP stream and what was negotiated. */
struct channel_media {
	/* What an outbound leg offered (absolute_codec_string, codec_string or the
	 * profile's prefs); codec_count 0: the profile's prefs apply */
	enum sdp_codec codecs[CORE_CODECS_MAX];
	size_t codec_count;
	struct media_stream *stream;
	struct media_stream_params params;
	bool started;
	bool offer_sent;      /* late offer: our SDP went in the 2xx, the answer comes in the ACK */
	bool hold;	      /* the peer holds the call */
	uint64_t sdp_session_id;
	uint64_t sdp_version;
	const char *codec_name;
	uint32_t audio_rate;
	/* The stream's counters when it was destroyed at hangup (the CDR's). */
	struct media_stats final_stats;
	bool have_final_stats;
	/* DTMF tones sent in-band (dtmf_type=inband) play on the stream: its
	 * play_done_cb is theirs, not an operation's */
	bool inband_playing;
};

/*
 * The caller profile of the channel an outbound leg was originated for,
 * copied into the leg's arena when the leg is created (the other channel may
 * be gone before the leg): FreeSWITCH's "Other-Type: originator" and
 * Other-Leg-* headers on the leg's events.
 */
struct channel_peer {
	char uuid[UUID_STRLEN];
	enum channel_direction direction;
	const char *caller_id_name, *caller_id_number, *destination_number;
	const char *network_addr, *context, *dialplan, *channel_name;
	uint64_t created_us;
};

/* event_channel.c */
/* FreeSWITCH's channel name: the channel_name variable, else
 * sofia/<profile>/<user>@<host> written into buf. */
const char *core__channel_name(const struct channel *ch, char *buf, size_t size);
/* A snapshot of ch for Other-Leg-* headers: strings borrowed from ch (the
 * name possibly in name_buf), valid while ch and name_buf are. */
void core__channel_peer_of(struct channel_peer *p, const struct channel *ch, char *name_buf,
			   size_t size);
/* The Other-Leg-* headers about `o`, with Other-Type `type` (originator, originatee). */
void core__other_leg_headers(struct core_event *ev, const char *type,
			     const struct channel_peer *o);
/* cdr.c: the leg's CDR, at CHANNEL_HANGUP_COMPLETE */
void core__cdr_write(struct channel *ch);

/* channel.c */
struct channel *core__channel_create(struct core *core, enum channel_direction dir);
void core__channel_schedule(struct channel *ch);
void core__runq_init(struct core *core);
void core__runq_run(struct core *core);
/* Frees a channel at once (shutdown past its grace period). */
void core__channel_destroy(struct channel *ch);

/* Finishes the operation in progress with `status`; its callback runs from
 * the run queue, never from inside the caller. */
void core__op_finish(struct channel *ch, int status);
/* Runs the callbacks of finished operations, oldest first (run queue). */
void core__op_deliver(struct channel *ch);
/* Starts a new operation (one in progress ends with -ECANCELED first); NULL:
 * out of memory. */
struct channel_op *core__op_begin(struct channel *ch, enum channel_op_kind kind,
				  channel_done_cb cb, void *arg);

/* bridge.c */
/* The A side's bridge operation ends (any reason): media unbridged,
 * CHANNEL_UNBRIDGE, both legs free again. */
void core__bridge_end(struct channel *a);
/* `ch` hangs up (before its media goes): the bridge it is in ends by the
 * hangup rules (the A side hanging up takes B with it; B hanging up ends
 * A's operation with 0). */
void core__bridge_hangup(struct channel *ch);
/* The Other-Leg-* headers of a bridged channel's events. */
void core__bridge_event_headers(const struct channel *ch, struct core_event *ev);

/* event.c */
int core__bus_init(struct core *core); /* opens the heartbeat timer (one handle) */
void core__bus_close(struct core *core, uv_close_cb cb); /* closes it */
void core__bus_fini(struct core *core);
/* A state change of a channel: CHANNEL_STATE (and CHANNEL_CALLSTATE when the
 * call state it implies changes). */
void core__channel_state_event(struct channel *ch);
/* CHANNEL_CALLSTATE when the call state (DOWN, RINGING, EARLY, ACTIVE, HANGUP)
 * changed since the last one, with Original-Channel-Call-State. */
void core__channel_callstate(struct channel *ch);
/* An unfired event with the channel's headers (uuid_dump); NULL: no memory. */
struct core_event *core__channel_event_build(struct channel *ch, const char *name);

/* command.c */
void core__commands_fini(struct core *core);
const char *core__command_usage(const struct core *core, const char *name);
const char *core__global_get(const struct core *core, const char *name);
int core__global_set(struct core *core, const char *name, const char *value);
/* commands.c */
int core__commands_register(struct core *core);
/* endpoint_sip.c: "sofia status [profile <name>|gateway <name>]" */
void core__sofia_status(struct core *core, const char *args, struct buf *out);

/* gateway.c */
/* Allocates every profile's gateways from the configuration (core_create). */
int core__gateways_init(struct core *core);
void core__gateways_fini(struct core *core);
/* Starts the profile's gateways on its UA (after core__profile_start). */
int core__gateways_start(struct profile *p);
/* Stops them (unregister) before the UA closes. */
void core__gateways_stop(struct profile *p);
/* A gateway by name across every profile, or NULL. */
struct gateway *core__gateway_find(struct core *core, const char *name);
/* "sofia status gateway <name>" and the gateway lines of "sofia status". */
void core__gateway_status(struct core *core, const char *name, struct buf *out);
void core__gateway_status_lines(struct core *core, const struct profile *p, struct buf *out);

/* core_metrics.c */
/* A channel is freed: count its end (direction, cause). */
void core__metrics_channel_end(struct channel *ch);
/* A stream closes: add its RTP counters to the totals. */
void core__metrics_stream_end(struct core *core, const struct media_stats *st);
void core__metrics_fini(struct core *core);

/* channel_var.c */
void core__vars_free(struct channel *ch);

/* channel_dtmf.c */
/* Digits ending a collection now waiting in the queue (OP_COLLECT began). */
void core__collect_start(struct channel *ch);
/* Frees the detector (media goes). */
void core__dtmf_hangup(struct channel *ch);
/* The bridge between a and b begins: each leg's dtmf_type decides whether
 * RFC 4733 events are relayed to it by the media layer. */
void core__dtmf_bridge(struct channel *a, struct channel *b);

/* channel_media.c */
/* Media ends with the channel: stop what plays, close the stream. */
void core__media_hangup(struct channel *ch);
/* Pre-answers an unanswered inbound call: 0 once the channel has a stream. */
int core__media_ready(struct channel *ch);
/* Stops every recording of the channel (hangup, media going away). */
void core__record_hangup(struct channel *ch);

/* channel_record.c */
/* Sets or removes the stream's tap after a recording began or ended. */
void core__record_tap_update(struct channel *ch);
/* Whether a recording of the channel writes to `path` (resolved). */
bool core__record_path_busy(const struct channel *ch, const char *path);
/* What the tap heard from the far end (the stream's rx tap; tests call it). */
void core__record_tap_rx(struct channel *ch, const int16_t *pcm, size_t samples, uint32_t rate);

/* channel_record_read.c */
/* Whether channel_record_read is recording (the tap must stay on). */
bool core__record_read_active(const struct channel *ch);
/* The resolved path it records to, or NULL. */
const char *core__record_read_path(const struct channel *ch);
/* The far end's audio for the recording in progress (OP_RECORD). */
void core__record_read_rx(struct channel *ch, const int16_t *pcm, size_t samples, uint32_t rate);
/* A digit waits in the queue: a terminator ends the recording (OP_RECORD). */
void core__record_read_digits(struct channel *ch);
/* The operation ends (stop, hangup, a new one, or its own end): the file
 * goes to the writer and the results are filled. */
void core__record_read_stop(struct channel *ch, struct channel_op *op);
/* The stream callbacks a channel's media uses. */
const struct media_stream_cbs *core__media_cbs(struct channel *ch, struct media_stream_cbs *cbs);

/* originate.c */
/* Something happened to a ringing leg (ch->originating is set): progress,
 * answer, hangup or destruction. The originate looks at it on a later turn;
 * a leg that hung up is detached from it at once. */
void core__originate_leg_update(struct channel *ch);

/* endpoint_out.c: outbound legs */
/* Makes the SDP offer (media stream opened first) and sends the INVITE with
 * `out` on the profile's UA; ch->sip is set on success. */
int core__endpoint_call(struct channel *ch, struct profile *p, struct sip_call_out *out);
/* The UA's progress_cb and answer_cb for outbound calls. */
void core__endpoint_progress(struct channel *ch, const struct sip_msg *resp);
void core__endpoint_answered(struct channel *ch, const struct sip_msg *resp);

/* endpoint_sip.c */
int core__profile_start(struct profile *p);
/* A profile by name or alias, or NULL. */
struct profile *core__profile_find(struct core *core, const char *name);
/* The channel reached CS_HANGUP: tell the SIP side. */
void core__endpoint_hangup(struct channel *ch);
/* The profile a channel arrived on. */
const struct config_profile *core__channel_profile(const struct channel *ch);
/* SDP: answer the INVITE's offer (or make one) and start media; 0, -EPROTO (no
 * common codec), or a negative errno. `early`: 183 instead of 200. */
int core__endpoint_answer(struct channel *ch, bool early);
/* A re-INVITE/UPDATE offer (empty: one wanted): the status to answer, the SDP in `answer`. */
uint16_t core__endpoint_offer(struct channel *ch, struct str body, struct buf *answer);
/* The ACK of a late offer: its answer starts the media. */
void core__endpoint_ack(struct channel *ch, const struct sip_msg *ack);
/* An outbound leg's offer: opens the stream, offers `codecs` (NULL: the
 * profile's prefs; FreeSWITCH's codec string syntax) with telephone-event. */
int core__endpoint_offer_make(struct channel *ch, const char *codecs, struct buf *out);
/* The far end's answer to that offer (a 183's or the 2xx's SDP) starts or
 * updates the stream: 0, -EPROTO (nothing usable), -EBADMSG (malformed). */
int core__endpoint_answer_apply(struct channel *ch, struct str body);

#endif
