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
	uint64_t hangup_us;
	struct arena arena;
	/* private to core */
	struct core *core;
	struct sip_call *sip;
	bool queued;
	struct channel *runq_next;
	struct channel *prev, *next;
};

/* ---- the server ---- */

struct core;
struct uv_loop_s;

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
 * SIGTERM: stops taking calls (503), hangs up the live ones with
 * SYSTEM_SHUTDOWN, waits for them to clear (at most `grace_ms`), closes
 * every socket, then calls done_cb. The loop then has nothing left to run.
 */
void core_shutdown(struct core *core, uint32_t grace_ms, void (*done_cb)(void *arg), void *arg);
/* Frees what is left after core_shutdown's done_cb (or a failed core_start). */
void core_destroy(struct core *core);

size_t core_channel_count(const struct core *core);
/* Ends a channel with `cause` (the far end is told, with the cause's SIP status). */
void channel_hangup(struct channel *ch, enum core_cause cause);

#endif
