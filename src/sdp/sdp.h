/*
 * sdp — session descriptions (RFC 4566) and the offer/answer model (RFC 3264)
 * as irisx needs them: one audio stream per call, codecs named as FreeSWITCH
 * names them (PCMU, PCMA, G722, opus) and RFC 4733 telephone-events.
 *
 *  - sdp_session_parse() turns a body into a struct sdp_session whose slices
 *    point into the text: the caller keeps the text alive as long as the
 *    session. The struct is caller storage (a few KiB, no allocation).
 *  - sdp_session_print() writes a session back out in canonical form.
 *  - sdp_answer() answers a peer's offer, sdp_offer() makes ours, and
 *    sdp_answer_process() reads the peer's answer to it. All three report the
 *    negotiated media as a struct sdp_result, from this side's point of view.
 *
 * Pure code: no sockets, no loop, no logging, no global state.
 */
#ifndef IRISX_SDP_H
#define IRISX_SDP_H

#include "base/base.h"

/* ======================================================================== */
/* Parsed sessions                                                           */
/* ======================================================================== */

/*
 * Limits of one description. Beyond them parsing fails with -EBADMSG, as it
 * does for malformed text: a telephony trunk sends one or two m= lines and a
 * few dozen attributes; a browser's audio+video offer fits too.
 */
enum {
	SDP_MAX_MEDIA = 16,  /* m= sections */
	SDP_MAX_ATTRS = 256, /* a= lines, all sections together */
	SDP_MAX_LINES = 64,  /* i= u= e= p= b= t= r= z= k= lines, all sections together */
};

/*
 * Stream directions (RFC 3264 §5.1, §6.1), from the point of view of the side
 * whose description says it. Listed in the order of media.h's enum media_dir
 * so that a conversion is a cast the integrator can static_assert.
 */
enum sdp_dir { SDP_DIR_SENDRECV, SDP_DIR_SENDONLY, SDP_DIR_RECVONLY, SDP_DIR_INACTIVE };

/* "sendrecv", "sendonly", "recvonly", "inactive". */
const char *sdp_dir_name(enum sdp_dir dir);

enum sdp_addrtype { SDP_ADDR_NONE, SDP_ADDR_IP4, SDP_ADDR_IP6 };

/* A c= line (RFC 4566 §5.7), or the address part of a=rtcp (RFC 3605). */
struct sdp_conn {
	enum sdp_addrtype type; /* SDP_ADDR_NONE: the line is absent */
	struct str addr;	/* an IP literal or a domain name, without /ttl or /count */
	struct str suffix;	/* multicast "/ttl[/count]" as written, or empty */
};

/* An a= line (RFC 4566 §5.13): "a=name" or "a=name:value". */
struct sdp_attr {
	struct str name;
	struct str value; /* value.p == NULL: no ':' (a property attribute) */
};

/* A line irisx keeps but does not interpret: i= u= e= p= b= t= r= z= k=. */
struct sdp_line {
	char type;
	struct str value;
};

struct sdp_media {
	struct str type;     /* "audio", "video", "image", … as written */
	uint16_t port;	     /* 0: the stream is rejected or disabled (RFC 3264 §5.1) */
	uint16_t port_count; /* the "/<count>" of the m= line; 0 when absent */
	struct str proto;    /* "RTP/AVP", "RTP/SAVPF", "udptl", … as written */
	struct str fmts;     /* the format list as written ("0 8 101"); see sdp_fmt_next */
	size_t fmt_count;
	bool rtp;		   /* proto is an RTP profile: every format is a PT 0..127 */
	struct sdp_conn conn;	   /* media-level c=; see sdp_media_conn for the effective one */
	bool dir_set;		   /* a direction attribute is present at media level */
	enum sdp_dir dir;	   /* its value when dir_set */
	uint32_t ptime_ms;	   /* a=ptime, 0 when absent (a fraction is truncated) */
	uint32_t maxptime_ms;	   /* a=maxptime, 0 when absent */
	int32_t rtcp_port;	   /* a=rtcp port (RFC 3605), -1 when absent */
	struct sdp_conn rtcp_conn; /* a=rtcp address, type NONE when absent */
	bool rtcp_mux;		   /* a=rtcp-mux (RFC 5761) */
	size_t attr_first, attr_count; /* this section's a= lines in sdp_session.attrs */
	size_t line_first, line_count; /* its other kept lines in sdp_session.lines */
};

struct sdp_session {
	/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
	struct str origin_user, sess_id, sess_version, origin_nettype, origin_addrtype, origin_addr;
	struct str name;      /* s= (may be empty or " ") */
	struct sdp_conn conn; /* session-level c= */
	bool dir_set;	      /* session-level direction attribute present */
	enum sdp_dir dir;
	uint32_t ptime_ms;    /* session-level a=ptime (tolerated there), 0 when absent */
	uint32_t maxptime_ms; /* session-level a=maxptime, 0 when absent */
	size_t attr_count;    /* session-level a= lines: attrs[0 .. attr_count) */
	size_t line_count;    /* session-level kept lines: lines[0 .. line_count) */

	struct sdp_media media[SDP_MAX_MEDIA];
	size_t media_count;

	struct sdp_attr attrs[SDP_MAX_ATTRS]; /* every a= line in order */
	size_t attr_total;
	struct sdp_line lines[SDP_MAX_LINES];
	size_t line_total;
};

/*
 * Parses `len` bytes of `text` into `s` (caller storage, overwritten). Every
 * slice in `s` points into `text`, which must outlive `s`; nothing is copied
 * and `text` is never written.
 *
 * What is accepted: lines "x=value" ending in CRLF or LF (the last one may
 * lack it; empty lines only at the end); v=0 first; exactly one o= and one s=
 * and at least one t= before the first m=; the lines RFC 4566 allows at each
 * level and no unknown type letter (§5: such a description must be ignored
 * whole); c= of IN IP4/IP6; numbers in range; RTP formats 0..127; rtpmap,
 * fmtp, ptime, maxptime, rtcp and the direction attributes well formed and
 * not contradicted within a section (a repeated identical one is tolerated);
 * every active (port ≠ 0) m= section with a c= of its own or the session's.
 * The order of lines within a level is not enforced.
 *
 * Returns 0, -EINVAL for NULL arguments, -EBADMSG for anything else.
 */
int sdp_session_parse(struct sdp_session *s, const char *text, size_t len);

/*
 * Appends the session to `out` in canonical form: CRLF endings, lines in
 * RFC 4566 order, o=, c= and m= printed from their fields and every other line
 * as kept. Parsing the output gives the same session, and printing that gives
 * the same bytes (a fixed point). Allocation failure shows as out->failed.
 */
void sdp_session_print(struct buf *out, const struct sdp_session *s);

/* The next format of a list (start with rest = media->fmts); false at the end. */
bool sdp_fmt_next(struct str *rest, struct str *fmt);

/*
 * The next a= line of a section called `name` (case-insensitive), after `prev`
 * (NULL: from the start). `m` NULL: the session level. NULL when none is left.
 */
const struct sdp_attr *sdp_attr_next(const struct sdp_session *s, const struct sdp_media *m,
				     const char *name, const struct sdp_attr *prev);

/* a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>] (RFC 4566 §6). */
struct sdp_rtpmap {
	uint8_t pt;
	struct str encoding; /* as written; compare case-insensitively (RFC 4855 §3) */
	uint32_t clock_rate;
	uint8_t channels; /* 0 when absent */
};

/* Parses an rtpmap attribute's value: 0 or -EBADMSG. */
int sdp_rtpmap_parse(struct sdp_rtpmap *out, struct str value);

/* The c= that applies to `m`: its own, else the session's (type NONE if neither). */
const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m);
/* The direction that applies to `m`: its own, else the session's, else sendrecv. */
enum sdp_dir sdp_media_dir(const struct sdp_session *s, const struct sdp_media *m);

/* ======================================================================== */
/* Offer / answer                                                            */
/* ======================================================================== */

/* FreeSWITCH's codec names; the table in negotiate.c gives their RTP details. */
enum sdp_codec { SDP_CODEC_PCMU, SDP_CODEC_PCMA, SDP_CODEC_G722, SDP_CODEC_OPUS };

enum { SDP_CODEC_COUNT = SDP_CODEC_OPUS + 1 };

/* "PCMU", "PCMA", "G722", "opus"; NULL for an unknown value. */
const char *sdp_codec_name(enum sdp_codec c);
/* Case-insensitive name → codec: 0 or -ENOENT. */
int sdp_codec_parse(struct str name, enum sdp_codec *out);

/*
 * Payload types irisx uses in its own offers for the dynamic formats: those
 * FreeSWITCH uses, so that traces look familiar. In answers the offerer's
 * numbers are kept (RFC 3264 §6.1).
 */
enum { SDP_PT_OPUS = 102, SDP_PT_TE = 101, SDP_PT_TE_48K = 103 };

/* What this side can do and where it receives. Read only during the call. */
struct sdp_local {
	const char *addr;		      /* IP literal advertised in c= and o= (v4 or v6) */
	uint16_t port;			      /* RTP port (≠ 0) */
	const enum sdp_codec *codecs;	      /* preference order, most wanted first */
	size_t codec_count;		      /* ≥ 1 */
	uint32_t ptime_ms;		      /* 0: 20; else 10..120 in steps of 10 */
	bool telephone_event;		      /* offer / accept RFC 4733 events */
	uint64_t session_id, session_version; /* o= line; the caller bumps the version */
	enum sdp_dir dir;		      /* this side's wish: sendrecv, or sendonly to hold */
};

/* The negotiated media, from this side's point of view. Plain data. */
struct sdp_result {
	char remote_addr[64];	   /* the peer's c= address (IP literal; 0.0.0.0 or :: on hold) */
	uint16_t remote_port;	   /* the peer's m= port */
	uint16_t remote_rtcp_port; /* a=rtcp's port, else remote_port + 1 */
	enum sdp_codec codec;
	uint8_t pt;	     /* the payload type to send the codec with */
	uint32_t clock_rate; /* RTP clock: 8000 (G722 too, RFC 3551 §4.5.2) or 48000 */
	uint8_t channels;    /* as in the rtpmap: 1, or 2 for opus (RFC 7587 §7) */
	int te_pt;	     /* telephone-event PT at clock_rate, -1 when none */
	uint32_t ptime_ms;
	enum sdp_dir dir;   /* what THIS side may do: peer sendonly → we recvonly */
	bool hold;	    /* the peer does not want our media: sendonly/inactive/0.0.0.0 */
	size_t media_index; /* which m= line of the peer's description carries it */
};

/*
 * Answers `offer` (RFC 3264 §6): appends the answer to `answer` and fills
 * `res`. The codec is chosen by OUR preference order (local->codecs) among
 * those the offer lists, as FreeSWITCH does with inbound-codec-prefs; the
 * offerer's payload type numbers are kept. The first audio RTP/AVP stream of
 * the address family of local->addr that has a common codec is accepted; every
 * other m= line is answered with port 0 and its own format list (§6). The
 * direction is the offer's mirrored (§6.1) and narrowed by local->dir; a c=
 * of 0.0.0.0 (or ::) counts as the peer not receiving (RFC 2543 hold, §8.4).
 * ptime follows the offer's a=ptime when it is usable (10..120 ms in steps of
 * 10, for opus 10/20/40/60), capped by its a=maxptime.
 *
 * Returns 0; -ENOTSUP when no stream can be accepted (answer 488); -EINVAL
 * for a bad local description; -ENOMEM (answer->failed). On -ENOTSUP and
 * -EINVAL `answer` is left as it was; `res` is written only on success.
 */
int sdp_answer(const struct sdp_session *offer, const struct sdp_local *local,
	       struct sdp_result *res, struct buf *answer);

/*
 * Appends our offer (one audio stream with every local codec in order, and
 * telephone-event at 8000 Hz and, with opus, at 48000 Hz) to `offer`.
 * Returns 0, -EINVAL for a bad local description, -ENOMEM.
 */
int sdp_offer(const struct sdp_local *local, struct buf *offer);

/*
 * Reads the peer's answer to the offer sdp_offer() made from `offered`
 * (RFC 3264 §7) and fills `res`: the first format of the answer that we
 * offered is the codec. hold is set when the peer refuses to receive what we
 * offered to send. Returns 0; -EBADMSG when the answer does not have exactly
 * one m= line (§6: one per offered line); -ENOTSUP when the stream was
 * rejected or no offered codec is in it; -EINVAL for a bad `offered`.
 */
int sdp_answer_process(const struct sdp_session *answer, const struct sdp_local *offered,
		       struct sdp_result *res);

/* What differs between two negotiations of the same call (a re-INVITE). */
enum sdp_change {
	SDP_CHANGE_ADDR = 1 << 0,  /* remote address, RTP or RTCP port */
	SDP_CHANGE_CODEC = 1 << 1, /* codec, payload type, clock or channels */
	SDP_CHANGE_TE = 1 << 2,	   /* telephone-event payload type */
	SDP_CHANGE_PTIME = 1 << 3,
	SDP_CHANGE_DIR = 1 << 4, /* direction or hold */
};

/*
 * A set of enum sdp_change bits: 0 when the re-offer leaves the media as it
 * was (a session refresh), so the stream need not be touched.
 */
unsigned sdp_result_diff(const struct sdp_result *before, const struct sdp_result *after);

#endif
