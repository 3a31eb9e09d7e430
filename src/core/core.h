/*
 * core — the switch: channels with FreeSWITCH's states and hangup causes,
 * the SIP endpoint that turns profiles' calls into channels, and the server
 * object that owns one loop, the configuration and everything on it.
 *
 * A channel lives on its loop (DESIGN.md principle 1) and advances through
 * its states from the loop's run queue, never from inside a network
 * callback: a burst of messages read in one turn (an INVITE and its CANCEL)
 * is all seen before any channel acts on it.
 */
#ifndef IRISX_CORE_H
#define IRISX_CORE_H

#include "base/base.h"
#include "config/config.h"

/* ---- hangup causes: X(name, Q.850 code) — FreeSWITCH's names and numbers ---- */

#define CORE_CAUSES(X)                                                                            \
	X(NONE, 0)                                                                                \
	X(UNALLOCATED_NUMBER, 1)                                                                  \
	X(NO_ROUTE_TRANSIT_NET, 2)                                                                \
	X(NO_ROUTE_DESTINATION, 3)                                                                \
	X(CHANNEL_UNACCEPTABLE, 6)                                                                \
	X(CALL_AWARDED_DELIVERED, 7)                                                              \
	X(NORMAL_CLEARING, 16)                                                                    \
	X(USER_BUSY, 17)                                                                          \
	X(NO_USER_RESPONSE, 18)                                                                   \
	X(NO_ANSWER, 19)                                                                          \
	X(SUBSCRIBER_ABSENT, 20)                                                                  \
	X(CALL_REJECTED, 21)                                                                      \
	X(NUMBER_CHANGED, 22)                                                                     \
	X(REDIRECTION_TO_NEW_DESTINATION, 23)                                                     \
	X(EXCHANGE_ROUTING_ERROR, 25)                                                             \
	X(DESTINATION_OUT_OF_ORDER, 27)                                                           \
	X(INVALID_NUMBER_FORMAT, 28)                                                              \
	X(FACILITY_REJECTED, 29)                                                                  \
	X(RESPONSE_TO_STATUS_ENQUIRY, 30)                                                         \
	X(NORMAL_UNSPECIFIED, 31)                                                                 \
	X(NORMAL_CIRCUIT_CONGESTION, 34)                                                          \
	X(NETWORK_OUT_OF_ORDER, 38)                                                               \
	X(NORMAL_TEMPORARY_FAILURE, 41)                                                           \
	X(SWITCH_CONGESTION, 42)                                                                  \
	X(ACCESS_INFO_DISCARDED, 43)                                                              \
	X(REQUESTED_CHAN_UNAVAIL, 44)                                                             \
	X(PRE_EMPTED, 45)                                                                         \
	X(FACILITY_NOT_SUBSCRIBED, 50)                                                            \
	X(OUTGOING_CALL_BARRED, 52)                                                               \
	X(INCOMING_CALL_BARRED, 54)                                                               \
	X(BEARERCAPABILITY_NOTAUTH, 57)                                                           \
	X(BEARERCAPABILITY_NOTAVAIL, 58)                                                          \
	X(SERVICE_UNAVAILABLE, 63)                                                                \
	X(BEARERCAPABILITY_NOTIMPL, 65)                                                           \
	X(CHAN_NOT_IMPLEMENTED, 66)                                                               \
	X(FACILITY_NOT_IMPLEMENTED, 69)                                                           \
	X(SERVICE_NOT_IMPLEMENTED, 79)                                                            \
	X(INVALID_CALL_REFERENCE, 81)                                                             \
	X(INCOMPATIBLE_DESTINATION, 88)                                                           \
	X(INVALID_MSG_UNSPECIFIED, 95)                                                            \
	X(MANDATORY_IE_MISSING, 96)                                                               \
	X(MESSAGE_TYPE_NONEXIST, 97)                                                              \
	X(WRONG_MESSAGE, 98)                                                                      \
	X(IE_NONEXIST, 99)                                                                        \
	X(INVALID_IE_CONTENTS, 100)                                                               \
	X(WRONG_CALL_STATE, 101)                                                                  \
	X(RECOVERY_ON_TIMER_EXPIRE, 102)                                                          \
	X(MANDATORY_IE_LENGTH_ERROR, 103)                                                         \
	X(PROTOCOL_ERROR, 111)                                                                    \
	X(INTERWORKING, 127)                                                                      \
	X(SUCCESS, 142)                                                                           \
	X(ORIGINATOR_CANCEL, 487)                                                                 \
	X(CRASH, 700)                                                                             \
	X(SYSTEM_SHUTDOWN, 701)                                                                   \
	X(LOSE_RACE, 702)                                                                         \
	X(MANAGER_REQUEST, 703)                                                                   \
	X(BLIND_TRANSFER, 800)                                                                    \
	X(ATTENDED_TRANSFER, 801)                                                                 \
	X(ALLOTTED_TIMEOUT, 802)                                                                  \
	X(USER_CHALLENGE, 803)                                                                    \
	X(MEDIA_TIMEOUT, 804)                                                                     \
	X(PICKED_OFF, 805)                                                                        \
	X(USER_NOT_REGISTERED, 806)                                                               \
	X(PROGRESS_TIMEOUT, 807)                                                                  \
	X(INVALID_GATEWAY, 808)                                                                   \
	X(GATEWAY_DOWN, 809)                                                                      \
	X(INVALID_URL, 810)                                                                       \
	X(INVALID_PROFILE, 811)                                                                   \
	X(NO_PICKUP, 812)                                                                         \
	X(SRTP_READ_ERROR, 813)                                                                    \
	X(BOWOUT, 814)                                                                            \
	X(BUSY_EVERYWHERE, 815)                                                                   \
	X(DECLINE, 816)                                                                           \
	X(DOES_NOT_EXIST_ANYWHERE, 817)                                                           \
	X(NOT_ACCEPTABLE, 818)

enum core_cause {
#define X(name, code) CAUSE_##name,
	CORE_CAUSES(X)
#undef X
	CAUSE_COUNT
};

/* "NORMAL_CLEARING". */
const char *core_cause_name(enum core_cause c);
/* By name ("USER_BUSY") or by Q.850 number ("17"); -EINVAL otherwise. */
int core_cause_parse(const char *s, enum core_cause *out);
/* The number FreeSWITCH reports as hangup_cause_q850 / Hangup-Cause code. */
unsigned core_cause_q850(enum core_cause c);
/* The SIP status a hangup with this cause answers an unanswered INVITE with. */
uint16_t core_cause_to_sip(enum core_cause c);
/* The cause a SIP final status from the far end means. */
enum core_cause core_cause_from_sip(uint16_t status);

/* ---- channel states (FreeSWITCH's CS_*) ---- */

#define CORE_STATES(X)                                                                            \
	X(NEW)                                                                                    \
	X(INIT)                                                                                   \
	X(ROUTING)                                                                                \
	X(SOFT_EXECUTE)                                                                           \
	X(EXECUTE)                                                                                \
	X(EXCHANGE_MEDIA)                                                                         \
	X(PARK)                                                                                   \
	X(CONSUME_MEDIA)                                                                          \
	X(HIBERNATE)                                                                              \
	X(RESET)                                                                                  \
	X(HANGUP)                                                                                 \
	X(REPORTING)                                                                              \
	X(DESTROY)

enum channel_state {
#define X(name) CS_##name,
	CORE_STATES(X)
#undef X
};

/* "CS_ROUTING". */
const char *channel_state_name(enum channel_state s);

enum channel_direction { CHANNEL_INBOUND, CHANNEL_OUTBOUND };

/*
 * A call leg. Allocated in its own arena (strings included) and freed at
 * CS_DESTROY; only its loop touches it.
 */
struct channel {
	char uuid[UUID_STRLEN];
	enum channel_state state;
	enum channel_direction direction;
	enum core_cause cause; /* CAUSE_NONE until hangup */
	const char *caller_id_name;
	const char *caller_id_number;
	const char *destination_number;
	const char *network_addr; /* the signalling source's IP */
	const char *context;
	const char *dialplan;
	const char *profile; /* the SIP profile's name */
	const char *sip_call_id;
	uint64_t created_us; /* wall clock */
	uint64_t progress_us;
	uint64_t answered_us;
	uint64_t hangup_us;
	struct arena arena;
	/* private to core (core_int.h) */
	struct core *core;
	struct sip_call *sip;
	const struct config_profile *profile_cfg;
	struct channel_var *vars;
	struct channel_var **vars_tail;
	struct channel_media *media;
	struct channel_op *op;	     /* the asynchronous operation in progress */
	struct channel_op *ops_done; /* finished ones waiting for their callbacks */
	void *exec_state;
	const char *callstate; /* the last CHANNEL_CALLSTATE's (static string), NULL: DOWN */
	void (*exec_free_cb)(void *state);
	bool answered;
	bool early_media;
	bool queued;
	/* outbound legs and bridges (originate.c, bridge.c) */
	struct gateway *gateway;	    /* the gateway an outbound leg went through, or NULL */
	struct core_originate *originating; /* the originate this leg belongs to while it rings */
	struct channel *bridged;	    /* the other leg while bridged */
	/* the channel an originated leg was placed for (its Other-Leg-* headers), or NULL */
	struct channel_peer *originator;
	struct channel_recording *recordings; /* channel_record.c; NULL: none */
	struct channel_dtmf *dtmf; /* received digits, collection, detector (channel_dtmf.c) */
	struct channel *runq_next;
	struct channel *prev, *next;
};

/* ---- recording (channel_record.c) ---- */

/*
 * Starts recording the channel's audio, both directions, to `path` (a WAV:
 * mono mixed, or stereo — the far end left, irisx right — when the channel
 * variable RECORD_STEREO is true), at the codec's audio rate. `path` is
 * absolute or relative to <state dir>/recordings; a ".." component is
 * refused. `limit_secs` > 0 stops it after that long. An unanswered inbound
 * call is pre-answered (it needs media). Fires RECORD_START (and at the end
 * RECORD_STOP) with Record-File-Path, the resolved path. The file is written
 * by the writer thread, never on the loop. 0, -EINVAL (path), -EEXIST (the
 * channel records to that path already), -ENOTCONN (no media yet, an
 * outbound leg not answered), -ESHUTDOWN (hung up), -ENOMEM.
 */
int channel_record_start(struct channel *ch, const char *path, uint32_t limit_secs);
/*
 * Stops the recording to `path` (resolved as above; "all" stops every one):
 * sets record_ms, record_seconds and record_samples, fires RECORD_STOP and
 * closes the file. -ENOENT when no such recording runs. Hangup stops all.
 */
int channel_record_stop(struct channel *ch, const char *path);
/* Masked, silence is recorded in place of the audio (the recording's length
 * goes on): for card numbers read out. "all" masks every recording. */
int channel_record_mask(struct channel *ch, const char *path, bool mask);
/*
 * Where `path` goes: itself when absolute, else <recordings_dir>/<path>.
 * -EINVAL for an empty path or one with a ".." component, -ENAMETOOLONG
 * when it does not fit in `size`. Pure.
 */
int core_record_path_resolve(const char *recordings_dir, const char *path, char *out,
			     size_t size);

/* ---- the server ---- */

struct core;
struct uv_loop_s;

/*
 * Recordings go under <state_dir>/recordings (created): runs the repair pass
 * over it (WAV files cut short by a crash get their header fixed, logged)
 * and starts the writer thread. Blocking: call at start-up, before the loop
 * runs. Without it, recording fails with -ENOTSUP.
 */
int core_recordings_open(struct core *core, const char *state_dir);

/* Takes ownership of `cfg`. Nothing listens until core_start(). */
int core_create(struct core **out, struct uv_loop_s *loop, struct config *cfg);
/* Opens every profile's listeners; logs "irisx ready" when all are up. */
int core_start(struct core *core);
/*
 * SIGHUP: reloads the ACLs (and the dialplan once there is one) from disk.
 * A broken file leaves the running set in place and is logged.
 */
int core_reload(struct core *core);
/*
 * The ACLs in force: the configuration's, or the set the last SIGHUP or
 * `reloadacl` read. Borrowed: valid until the next reload, so a caller looks
 * it up each time it checks an address (the Event Socket does, per accepted
 * connection) rather than keeping it.
 */
const struct acl_set *core_acls(const struct core *core);
/*
 * SIGTERM: stops taking calls (503), hangs up the live ones with
 * SYSTEM_SHUTDOWN, waits for them to clear (at most `grace_ms`), closes
 * every socket, then calls done_cb. The loop then has nothing left to run.
 */
void core_shutdown(struct core *core, uint32_t grace_ms, void (*done_cb)(void *arg), void *arg);
/* Frees what is left after core_shutdown's done_cb (or a failed core_start). */
void core_destroy(struct core *core);

size_t core_channel_count(const struct core *core);
/*
 * Every leg's CDR goes to `st` at CHANNEL_HANGUP_COMPLETE (NULL: none). The
 * store is not owned and must outlive the core's last channel (destroy it
 * after core_destroy()).
 */
struct cdr_store;
void core_set_cdr_store(struct core *core, struct cdr_store *st);
/* Ends a channel with `cause` (the far end is told, with the cause's SIP status). */
void channel_hangup(struct channel *ch, enum core_cause cause);

/* ---- routing: how a channel in CS_ROUTING finds what to do ---- */

/*
 * The dialplan registers itself as the router. route_cb runs when a channel
 * reaches CS_ROUTING; it starts executing (channel_execute()) or hangs the
 * channel up (e.g. NO_ROUTE_DESTINATION). reload_cb runs on SIGHUP with a
 * freshly loaded configuration that is freed when it returns.
 * Without a router every call ends NO_ROUTE_DESTINATION.
 */
struct core_router {
	void (*route_cb)(void *arg, struct channel *ch);
	int (*reload_cb)(void *arg, const struct config *cfg);
	void *arg;
};
void core_set_router(struct core *core, const struct core_router *router);

/*
 * Moves the channel to CS_EXECUTE with an executor state owned by the caller:
 * `free_cb(state)` runs when the channel is destroyed. The executor calls
 * channel_execute_done() when it runs out of actions (the channel then hangs up
 * NORMAL_CLEARING unless the executor hung it up or parked it already).
 */
void channel_execute(struct channel *ch, void *state, void (*free_cb)(void *state));
void channel_execute_done(struct channel *ch);
/* CS_PARK: the channel stays up, doing nothing, until it hangs up. */
void channel_park(struct channel *ch);

/* ---- channel variables (FreeSWITCH's names) ---- */

/*
 * The value of a channel variable, or NULL. Besides the variables set by
 * applications, FreeSWITCH's built-in names resolve: uuid, destination_number,
 * caller_id_name, caller_id_number, network_addr, context, dialplan,
 * sip_call_id, sip_profile_name, direction, channel_state, hangup_cause,
 * answer_state, read_codec, write_codec. The pointer lives until the variable
 * changes or the channel is destroyed.
 */
const char *channel_var(const struct channel *ch, const char *name);
/* Sets (value non-NULL) or unsets a variable; values are copied. */
int channel_var_set(struct channel *ch, const char *name, const char *value);
/* Calls cb for every variable set on the channel (not the built-ins), in the
 * order they were first set. */
void channel_var_each(const struct channel *ch,
		      void (*cb)(void *arg, const char *name, const char *value), void *arg);
/* Global variables ($${…} from vars.xml and global_setvar), read by ${var} too. */
const char *core_global_var(const struct core *core, const char *name);

/* ---- call control for applications ---- */

/*
 * An asynchronous operation finished: status 0 when it completed, -ECANCELED
 * when it was stopped (channel_stop_media, a new playback, hangup), another
 * negative errno when it failed. Never runs before the starting call returns.
 */
typedef void (*channel_done_cb)(struct channel *ch, void *arg, int status);

bool channel_answered(const struct channel *ch);
bool channel_up(const struct channel *ch); /* not hung up */
/*
 * Answers (200 OK with the SDP answer, or with an offer when the INVITE had
 * none). Returns 0 at once when already answered. When no codec matches, the
 * call is refused with 488 and hung up INCOMPATIBLE_DESTINATION: -EPROTO.
 * An outbound leg is answered by the far end: -EINVAL until it did, and
 * channel_pre_answer likewise; channel_ring_ready does nothing on it and
 * channel_respond refuses it (-EINVAL).
 */
int channel_answer(struct channel *ch);
/* Early media: 183 Session Progress with SDP; media flows before the answer. */
int channel_pre_answer(struct channel *ch);
/* 180 Ringing. */
int channel_ring_ready(struct channel *ch);
/* A final response to the unanswered INVITE (the respond application): the
 * channel hangs up with the cause the status means. */
int channel_respond(struct channel *ch, uint16_t status, const char *reason);
/* Plays a file, tone_stream:// or silence_stream:// (pre-answers if needed). */
int channel_play(struct channel *ch, const char *spec, channel_done_cb cb, void *arg);
/* Speaks `text` (espeak-ng; `voice` NULL: default). */
int channel_speak(struct channel *ch, const char *text, const char *voice, channel_done_cb cb,
		  void *arg);
/* Echoes the caller's audio back until the channel hangs up or media stops. */
int channel_echo(struct channel *ch, channel_done_cb cb, void *arg);
/* Waits `ms` milliseconds. */
int channel_sleep(struct channel *ch, uint32_t ms, channel_done_cb cb, void *arg);
/* Stops what channel_play/speak/echo/sleep is doing (their callback gets -ECANCELED). */
void channel_stop_media(struct channel *ch);
/* Sends DTMF (media_stream_send_dtmf's digits) to the far end in the leg's
 * mode, its dtmf_type variable: rfc2833 (RFC 4733, the default), info (SIP
 * INFO, application/dtmf-relay; pauses w/W are skipped), inband (tone pairs
 * played on the stream over what plays: a playback in progress ends with
 * -ECANCELED; the tones start once the generator is ready) or none (nothing
 * is sent: 0). -ENOTSUP when the mode needs what the leg lacks (RFC 4733: a
 * negotiated telephone-event; INFO: a dialog; inband: running media),
 * -EINVAL for bad digits. */
int channel_send_dtmf(struct channel *ch, const char *digits, uint32_t duration_ms);
/*
 * FreeSWITCH's "digits[@duration_ms]" (uuid_send_dtmf, send_dtmf): the
 * digits (0-9 * # A-D, w W pauses; at most CORE_DTMF_MAX) into `digits`,
 * the duration in *duration_ms (0 when absent: the default). 0 or -EINVAL.
 */
enum { CORE_DTMF_MAX = 128 };
int core_dtmf_parse(const char *s, char digits[CORE_DTMF_MAX + 1], uint32_t *duration_ms);

/* ---- received DTMF: one stream, whatever carried the digits ---- */

/* Where a digit came from, as FreeSWITCH's DTMF-Source names it: RTP (RFC
 * 4733 telephone-events), ENDPOINT (SIP INFO), INBAND_AUDIO (tones decoded
 * from the audio). */
enum core_dtmf_source { CORE_DTMF_RTP, CORE_DTMF_INFO, CORE_DTMF_INBAND };
const char *core_dtmf_source_name(enum core_dtmf_source src);

/*
 * A SIP INFO body carrying a digit: application/dtmf-relay ("Signal=5\r\n
 * Duration=160\r\n", the duration in ms; RFC-less but universal) or
 * application/dtmf (the digit alone). `content_type` is the header's value
 * (parameters allowed). The digit goes to *digit (0-9 * # A-D, upper case),
 * the duration to *duration_ms (0 when absent). Pure. -ENOTSUP for another
 * content type, -EBADMSG for a body that names no single valid digit (or a
 * duration that is not a number up to 60000).
 */
int core_dtmf_info_parse(struct str content_type, struct str body, char *digit,
			 uint32_t *duration_ms);

/*
 * A digit arrived on `ch`: fires DTMF (DTMF-Digit, DTMF-Duration in 8 kHz
 * samples, DTMF-Source), relays it to the bridged leg in that leg's mode when
 * the media layer has not (dtmf_type), queues it for the applications (at
 * most CORE_DTMF_QUEUE digits; more are dropped and logged), stops a prompt
 * that barge-in allows, feeds a collection. The SIP endpoint and the media
 * callbacks call it; tests may too.
 */
enum { CORE_DTMF_QUEUE = 64 };
void channel_dtmf_receive(struct channel *ch, char digit, uint32_t duration_ms,
			  enum core_dtmf_source src);
/* Takes the oldest queued digit: 0, or -EAGAIN when none is queued. */
int channel_dtmf_pop(struct channel *ch, char *digit);
size_t channel_dtmf_queued(const struct channel *ch);
/* Forgets the queued digits (flush_dtmf). */
void channel_dtmf_flush(struct channel *ch);
/*
 * While on, a digit that arrives while channel_play/channel_speak plays ends
 * it with -EINTR (PLAYBACK_STOP says "break"); the digit stays queued. Off by
 * default; prompts of read, play_and_get_digits and ivr turn it on.
 */
void channel_dtmf_barge(struct channel *ch, bool on);

/* What channel_collect_digits collects; the caller keeps it alive until its
 * callback (the results are written into it). */
struct channel_collect {
	size_t max;		   /* 1..CORE_DTMF_MAX digits */
	const char *terminators;   /* digits that end the entry, not stored (NULL: none) */
	uint32_t first_timeout_ms; /* for the first digit */
	uint32_t digit_timeout_ms; /* between digits (0: first_timeout_ms) */
	/* out */
	char digits[CORE_DTMF_MAX + 1];
	size_t count;
	char terminator; /* the terminator that ended the entry, or '\0' */
};
/*
 * Collects digits (queued ones first) into c->digits: done with status 0 at
 * `max` digits or a terminator, -ETIMEDOUT when a timeout passed first (the
 * digits so far are kept), -ECANCELED / hangup as any operation. An
 * asynchronous operation: the callback never runs before this returns.
 * -EINVAL for max 0 or above CORE_DTMF_MAX, -ESHUTDOWN when hung up.
 */
int channel_collect_digits(struct channel *ch, struct channel_collect *c, channel_done_cb cb,
			   void *arg);

/*
 * In-band DTMF detection on the received audio (spandsp's detector), off by
 * default (start_dtmf / spandsp_start_dtmf). Digits come as INBAND_AUDIO.
 * -ENOTCONN without media, -ENOMEM.
 */
int channel_dtmf_detect_start(struct channel *ch);
void channel_dtmf_detect_stop(struct channel *ch);

/* ---- recording what the caller says (channel_record_read.c) ---- */

/*
 * One direction (the record application, TwiML's <Record>): what the far
 * end says, mono at the codec's audio rate, as an asynchronous operation of
 * the channel (channel_done_cb) that ends when
 *   - limit_ms of audio is recorded, or has passed on the clock while
 *     audio was missing                           (end LIMIT, status 0),
 *   - silence_ms of silence in a row was heard     (end SILENCE, status 0):
 *     a 20 ms frame is silent when its mean absolute sample value is under
 *     silence_threshold (FreeSWITCH's silence_thresh, 200 by default), and
 *     time without any audio received counts as silence too,
 *   - a digit of `terminators` arrives             (end TERMINATOR, status 0;
 *     the digit is consumed, not queued),
 *   - channel_stop_media / another operation       (status -ECANCELED),
 *   - the channel hangs up                          (end HANGUP, as any
 *     operation).
 * The file is closed (and the results filled) before cb runs; after a stop
 * or a hangup (-ECANCELED) the results are filled and the file is in the
 * writer's hands, closed moments later. `path` is
 * resolved as channel_record_start's; a name ending ".wav" is a WAV, ".ogg"
 * or ".opus" Opus in Ogg (-ENOTSUP when libsndfile cannot write it).
 * RECORD_START / RECORD_STOP fire with Record-File-Path; the variables
 * record_ms, record_seconds, record_samples and, after a terminator,
 * playback_terminator_used are set. An unanswered inbound call is
 * pre-answered. 0, -EINVAL (path, options), -EEXIST, -ENOTCONN, -ESHUTDOWN,
 * -ENOTSUP, -ENOMEM.
 */
enum channel_record_end {
	CHANNEL_RECORD_END_LIMIT,
	CHANNEL_RECORD_END_SILENCE,
	CHANNEL_RECORD_END_TERMINATOR,
	CHANNEL_RECORD_END_STOPPED, /* channel_stop_media, a new operation */
	CHANNEL_RECORD_END_HANGUP,
};
struct channel_record_read {
	uint32_t limit_ms;	    /* 0: no limit */
	uint32_t silence_ms;	    /* 0: silence never ends it */
	uint32_t silence_threshold; /* 0: 200 */
	const char *terminators;    /* NULL or "": none; borrowed until cb */
	/* out, valid when cb runs */
	enum channel_record_end end;
	char terminator;       /* the digit that ended it, or '\0' */
	uint64_t ms;	       /* audio recorded */
	uint64_t sound_ms;     /* of which louder than silence_threshold */
	uint64_t samples;      /* at rate */
	uint32_t rate;
	char path[4096];       /* resolved */
};
int channel_record_read(struct channel *ch, const char *path, struct channel_record_read *r,
			channel_done_cb cb, void *arg);

/* ---- placing calls: originate (FreeSWITCH dial strings) ---- */

struct core_originate;

struct core_originate_cbs {
	/* A leg rang (180) or has early media (183 with SDP: `media` true). May be NULL. */
	void (*progress_cb)(void *arg, struct channel *leg, bool media);
	/*
	 * The end: `ch` is the leg that answered (cause SUCCESS; the other legs
	 * are hung up, LOSE_RACE before the answer… ORIGINATOR_CANCEL) and is the
	 * caller's to bridge, execute on (channel_execute) or park; or `ch` NULL
	 * with the cause the attempt failed with (the last leg's, as FreeSWITCH
	 * reports it: USER_BUSY, NO_ANSWER, CALL_REJECTED, INVALID_GATEWAY…). With
	 * ignore_early_media=false and a_leg bridging early media, `ch` may be
	 * the leg of the early media that then answered. The originate is freed
	 * after this returns.
	 *
	 * The answered leg waits in CS_CONSUME_MEDIA (answered, media running,
	 * nothing played). Within done_cb the caller either bridges it
	 * (channel_bridge), executes on it (channel_execute), parks it
	 * (channel_park) or hangs it up. A leg it leaves alone is parked when
	 * done_cb returns: it stays up until the far end hangs up, uuid_kill,
	 * its media timeout or shutdown — it is never leaked.
	 */
	void (*done_cb)(void *arg, struct channel *ch, enum core_cause cause);
	void *arg;
};

/*
 * Places the calls a FreeSWITCH dial string describes:
 *   {var=val,…}  for every leg; [var=val,…] before one leg; <var=val,…> at
 *                the start of a '|' group for its legs ([] over <> over {})
 *   a,b          simultaneous legs: the first to answer wins
 *   a|b          sequential: b is tried when a fails
 *   sofia/gateway/<gw>/<number>, sofia/<profile>/<user>@<host[:port]>,
 *   sofia/<profile>/sip:…, error/<CAUSE> (fails with that cause); loopback
 *   and user/ are not supported
 * Variables FreeSWITCH honours: origination_caller_id_number,
 * origination_caller_id_name (default: the a_leg's effective_caller_id_* or
 * caller ID, else "" and 0000000000), originate_timeout (s, default 60, for
 * each '|' group), leg_timeout (s, one leg: ALLOTTED_TIMEOUT), ignore_early_media
 * (false: a leg's early media cancels the others, as in FreeSWITCH),
 * sip_h_X-* (added as X-* headers), origination_uuid,
 * absolute_codec_string/codec_string (offer order), sip_cid_type (none,
 * pid: P-Asserted-Identity, the default; rpid: Remote-Party-ID). Every
 * variable is also set on the legs.
 * Each leg fires CHANNEL_CREATE and CHANNEL_OUTGOING (Call-Direction
 * outbound, Other-Leg-* when there is an a_leg), then CHANNEL_STATE CS_INIT,
 * CS_ROUTING and CS_CONSUME_MEDIA while it rings, CHANNEL_PROGRESS (180) or
 * CHANNEL_PROGRESS_MEDIA (183 with SDP) and CHANNEL_ANSWER.
 * `a_leg`, when not NULL, is the channel the result will be bridged to: its
 * caller ID is the default, and its variables named in export_vars are copied.
 * Returns 0 (done_cb follows later, never before this returns; *out valid
 * until then) or -EINVAL for a dial string that does not parse, with a
 * message in `err` (may be NULL).
 */
int core_originate(struct core_originate **out, struct core *core, const char *dial_string,
		   struct channel *a_leg, const struct core_originate_cbs *cbs, char *err,
		   size_t err_size);
/* Gives up: hangs up every leg still trying with `cause` (CANCEL on the
 * wire, BYE for one that answered meanwhile); done_cb does not run and `o`
 * is freed. Called from inside done_cb it does nothing; once done_cb
 * returned, `o` is gone and must not be passed here. */
void core_originate_cancel(struct core_originate *o, enum core_cause cause);

/* ---- bridging ---- */

/*
 * Bridges two live channels: their media flows between them
 * (media_stream_bridge: relayed when codecs match, transcoded otherwise),
 * each stops what it was playing, CHANNEL_BRIDGE fires (on a, with
 * Bridge-A-Unique-ID / Bridge-B-Unique-ID and Other-Leg-* headers) and the
 * variables bridge_uuid / signal_bond / last_bridge_to are set. `b` may still
 * be ringing with early media (bridge_early_media): answering it later keeps
 * the bridge.
 * The bridge is an asynchronous operation of `a` (channel_done_cb): it ends
 * with status 0 when `b` hangs up (CHANNEL_UNBRIDGE fires; `a` stays up: the
 * caller decides, e.g. hangup_after_bridge), or -ECANCELED when `a` hangs up
 * or channel_stop_media(a)/channel_unbridge() ends it. When `a` hangs up,
 * `b` follows with a's cause (ORIGINATOR_CANCEL while b has not answered),
 * or parks when b's park_after_bridge is true. When `b` hangs up, its cause
 * is left on `a` as bridge_hangup_cause and last_bridge_hangup_cause (b may
 * be gone when cb runs). While bridged, both legs' events carry the other as
 * Other-Leg-*. -EINVAL for the same channel twice, a channel that is down or
 * bridged already, -EPROTO when a leg has no running media yet.
 */
int channel_bridge(struct channel *a, struct channel *b, channel_done_cb cb, void *arg);
/* Ends a bridge without hanging up either leg (CHANNEL_UNBRIDGE). */
void channel_unbridge(struct channel *ch);
/* The channel `ch` is bridged to, or NULL. */
struct channel *channel_bridged(const struct channel *ch);

/* ======================================================================== */
/* Events (one model for every door: ESL, WebSocket, webhooks)               */
/* ======================================================================== */

/*
 * An event: a name (FreeSWITCH's: CHANNEL_CREATE, BACKGROUND_JOB, CUSTOM with
 * an Event-Subclass), ordered headers and an optional body. Built by its
 * creator, then fired: from then on it is immutable and shared by reference
 * count between the ring and every subscriber's queue.
 */
struct core_event;

int core_event_create(struct core_event **out, const char *name, const char *subclass);
/* Appends a header (value formatted); -ENOMEM. Headers keep their order. */
int core_event_add_header(struct core_event *ev, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int core_event_set_body(struct core_event *ev, const char *body, size_t len);
struct core_event *core_event_ref(struct core_event *ev);
void core_event_unref(struct core_event *ev);

const char *core_event_name(const struct core_event *ev); /* "CHANNEL_ANSWER" */
const char *core_event_subclass(const struct core_event *ev); /* or NULL */
uint64_t core_event_sequence(const struct core_event *ev); /* 0 until fired */
/* The first header of that name (case-insensitive), or NULL. */
const char *core_event_header(const struct core_event *ev, const char *name);
size_t core_event_header_count(const struct core_event *ev);
void core_event_header_at(const struct core_event *ev, size_t i, const char **name,
			  const char **value);
const char *core_event_body(const struct core_event *ev, size_t *len); /* NULL: none */

/*
 * Fires `ev` (the reference passes to the bus): stamps Event-Sequence (one
 * counter for the process, strictly increasing), Core-UUID, Event-Date-Local,
 * Event-Date-GMT, Event-Date-Timestamp (µs), FreeSWITCH-Hostname and
 * Event-Calling-* as FreeSWITCH does, keeps it in the ring of recent events
 * and hands it to every subscriber. Subscribers are called synchronously and
 * must only queue it (bounded), never block.
 */
void core_event_fire(struct core *core, struct core_event *ev);
/*
 * A channel event with FreeSWITCH's channel headers: Unique-ID,
 * Channel-Call-UUID, Channel-Name, Channel-State, Channel-State-Number,
 * Channel-Call-State, Answer-State, Call-Direction, Caller-Caller-ID-Name,
 * Caller-Caller-ID-Number, Caller-Destination-Number, Caller-Network-Addr,
 * Caller-Context, Caller-Unique-ID, Hangup-Cause (once hung up) and every
 * channel variable as variable_<name>. `extra` may add headers before firing
 * (NULL: none).
 */
void channel_event_fire(struct channel *ch, const char *name,
			void (*extra)(void *arg, struct core_event *ev), void *arg);

/* The same event built but not fired (the caller owns the reference): ESL
 * outbound's CHANNEL_DATA. NULL when out of memory. */
struct core_event *channel_event_build(struct channel *ch, const char *name);

typedef void (*core_event_cb)(void *arg, struct core_event *ev);
struct core_sub;
/* Every fired event goes to cb (borrowed: core_event_ref() to keep it). */
int core_subscribe(struct core *core, core_event_cb cb, void *arg, struct core_sub **out);
void core_unsubscribe(struct core_sub *sub);
/*
 * Replays the ring's events with a sequence above `after` to cb, oldest first.
 * -ERANGE when some of them are gone from the ring already (then none is
 * replayed); 0 otherwise.
 */
int core_events_since(struct core *core, uint64_t after, core_event_cb cb, void *arg);
/* The Core-UUID of this process run. */
const char *core_uuid(const struct core *core);

/* ESL renderings (FreeSWITCH's): text/event-plain with URL-encoded values,
 * text/event-json, text/event-xml; the body, when any, as FreeSWITCH places it. */
void core_event_print_plain(const struct core_event *ev, struct buf *out);
void core_event_print_json(const struct core_event *ev, struct buf *out);
void core_event_print_xml(const struct core_event *ev, struct buf *out);

/* ======================================================================== */
/* Commands (one registry for ESL api/bgapi, REST and the CLI)               */
/* ======================================================================== */

/*
 * A command writes its reply into `out`, in FreeSWITCH's words ("+OK …",
 * "-ERR …", or plain output such as `status`'s). It runs on the core's loop
 * and must not block.
 */
typedef void (*core_command_fn)(struct core *core, const char *args, struct buf *out);

int core_command_register(struct core *core, const char *name, const char *usage,
			  const char *description, core_command_fn fn);
/*
 * Runs "name args…". An unknown name writes "-ERR <name> Command not found!\n".
 * An asynchronous command (originate) writes "-ERR <name> needs a reply handler\n"
 * here: doors run commands with core_command_run().
 */
void core_command_execute(struct core *core, const char *line, struct buf *out);

/*
 * Commands that take time (originate waits for an answer): the function
 * starts the work and returns; core_reply_done() delivers the text later,
 * from the loop. Nothing blocks meanwhile.
 */
struct core_reply;
typedef void (*core_command_async_fn)(struct core *core, const char *args,
				      struct core_reply *reply);
int core_command_register_async(struct core *core, const char *name, const char *usage,
				const char *description, core_command_async_fn fn);
/* The buffer the reply is written into (valid until core_reply_done). */
struct buf *core_reply_buf(struct core_reply *r);
/* Delivers the reply to the door that ran the command (exactly once) and frees it. */
void core_reply_done(struct core_reply *r);

/* A command's reply: `text` of `len` bytes, borrowed for the call. */
typedef void (*core_command_done_cb)(void *arg, const char *text, size_t len);
/*
 * Runs a command for a door: synchronous commands reply (done_cb) before this
 * returns NULL, and so does an asynchronous one that replies at once (a usage
 * error); otherwise it returns its pending reply, and done_cb runs later from
 * the loop. A door that goes away first calls
 * core_reply_detach(): the command still completes, its text is dropped.
 */
struct core_reply *core_command_run(struct core *core, const char *line, core_command_done_cb cb,
				    void *arg);
void core_reply_detach(struct core_reply *r);
void core_command_each(const struct core *core,
		       void (*cb)(void *arg, const char *name, const char *usage,
				  const char *description),
		       void *arg);
/* The channel with that uuid, or NULL. */
struct channel *core_channel_find(struct core *core, const char *uuid);
/* Every live channel, oldest first. */
void core_channel_each(struct core *core, void (*cb)(void *arg, struct channel *ch), void *arg);
/*
 * What `fsctl shutdown` calls (the application's orderly stop, e.g. the same
 * path as SIGTERM); without one the command answers -ERR. Runs from inside
 * the command: it must only start the shutdown.
 */
void core_set_shutdown_cb(struct core *core, void (*cb)(void *arg), void *arg);

/* ======================================================================== */
/* Metrics (GET /metrics): Prometheus text exposition format 0.0.4           */
/* ======================================================================== */

/*
 * Nothing is counted through this API on the hot path: each module keeps
 * its counters as plain integers in its own structures (on its loop) and
 * registers a collector that writes them out when /metrics is scraped.
 * A collector declares a family (metrics_family) and then writes its
 * samples (metrics_sample); every family must be written by one collector,
 * all its samples together. Names that break the format's grammar, a
 * family declared twice or a sample outside a family are refused (and
 * counted in metrics_writer_errors), so the output always parses.
 */
enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_SUMMARY, METRIC_UNTYPED };

struct metrics_writer {
	struct buf *out; /* borrowed */
	char family[128]; /* the family being written, "" before the first */
	enum metric_type type;
	bool family_ok;	  /* its HELP/TYPE lines went out */
	size_t errors;
};

/* A writer printing into `out` (appended to). */
void metrics_writer_init(struct metrics_writer *w, struct buf *out);
/*
 * Starts a family: "# HELP name help" and "# TYPE name type". -EINVAL for a
 * name outside [a-zA-Z_:][a-zA-Z0-9_:]*, -EEXIST when `out` declares it
 * already; its samples are then skipped.
 */
int metrics_family(struct metrics_writer *w, const char *name, enum metric_type type,
		   const char *help);
/*
 * One sample of the current family: name{labels} value. `suffix` is added
 * to the family's name ("_sum", "_count" for a summary; NULL: none).
 * `labels` is a list of name/value pairs ending with a NULL name; values
 * are escaped (\, ", 
). -EINVAL for a bad label name (or one starting
 * with "__"), -ENOENT outside a family.
 */
int metrics_sample(struct metrics_writer *w, const char *suffix, double value,
		   const char *const *labels);
/* The same for an integer counter, printed exactly. */
int metrics_sample_u64(struct metrics_writer *w, const char *suffix, uint64_t value,
		       const char *const *labels);

typedef void (*metrics_collect_cb)(void *arg, struct metrics_writer *w);
struct core_collector;
/* Adds a collector run at every scrape (after the core's own). 0, -ENOMEM. */
int core_metrics_register(struct core *core, metrics_collect_cb cb, void *arg,
			  struct core_collector **out);
void core_metrics_unregister(struct core_collector *c);
/*
 * Writes every metric: the core's (calls, SIP messages per profile, RTP,
 * gateways, events, the CDR store through its hook) and the collectors'.
 * Runs on the core's loop.
 */
void core_metrics_print(struct core *core, struct buf *out);

/*
 * The profiles and gateways as /health and the metrics report them:
 * `running` once the profile's UA listens; a gateway is `up` when its ping
 * is answered (pinged), or registered (register without ping), or always
 * (neither). Strings are borrowed for the call.
 */
struct core_profile_info {
	const char *name;
	bool running;
	uint64_t calls_in, calls_out, failed_calls_in, failed_calls_out;
};
struct core_gateway_info {
	const char *name, *profile;
	const char *state; /* "REGED", "NOREG", "FAIL_WAIT"… */
	bool pinged;	   /* ping is configured */
	bool up;
	uint16_t last_status;
};
void core_profile_each(struct core *core,
		       void (*cb)(void *arg, const struct core_profile_info *p), void *arg);
void core_gateway_each(struct core *core,
		       void (*cb)(void *arg, const struct core_gateway_info *g), void *arg);
/* Microseconds of wall clock since the core was created. */
uint64_t core_uptime_us(const struct core *core);

/*
 * The CDR store's hook (the store fills it in when it starts; without one
 * /health reports the store as "none" and no CDR metric is written).
 * status_cb fills `out`; it runs on the core's loop and must not block.
 */
struct core_cdr_status {
	bool failing;	   /* writes fail (a spool may be taking them) */
	uint64_t queue_depth; /* records waiting to be written */
	uint64_t written;  /* records written since start */
	uint64_t spooled;  /* records written to the spool instead */
	char detail[128];  /* "sqlite: var/cdr.db", or why it fails */
};
struct core_cdr_hook {
	void (*status_cb)(void *arg, struct core_cdr_status *out);
	void *arg;
};
/* Sets (hook non-NULL) or clears the hook; the hook is copied. */
void core_set_cdr_hook(struct core *core, const struct core_cdr_hook *hook);
/* The store's status: 0, or -ENOENT when no store set a hook. */
int core_cdr_status(struct core *core, struct core_cdr_status *out);

#endif
