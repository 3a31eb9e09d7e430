/*
 * Unit tests for offer/answer (RFC 3264): table-driven offer → answer
 * vectors (codecs of RFC 3551 and RFC 7587, RFC 4733 telephone-events,
 * directions and hold of §6.1 and §8.4, ptime, IPv6, several m= lines),
 * our own offers and the processing of the answers to them, and the
 * comparison of two negotiations of one call (re-INVITE).
 *
 * Every answer produced is parsed back and checked line by line against the
 * offer: one m= per offered m= (§6), rejected ones with port 0 and the
 * offered format list.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp/sdp.h"

#define V4 "v=0\r\no=- 100 100 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
#define V6 "v=0\r\no=- 100 100 IN IP6 2001:db8::7\r\ns=-\r\nc=IN IP6 2001:db8::7\r\nt=0 0\r\n"
#define G711_TE                                                                                    \
	"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"    \
	"a=fmtp:101 0-16\r\n"

static const enum sdp_codec g711[] = {SDP_CODEC_PCMU, SDP_CODEC_PCMA};
static const enum sdp_codec all[] = {SDP_CODEC_OPUS, SDP_CODEC_G722, SDP_CODEC_PCMU,
				     SDP_CODEC_PCMA};
static const enum sdp_codec pcma_first[] = {SDP_CODEC_PCMA, SDP_CODEC_PCMU};
static const enum sdp_codec g722_only[] = {SDP_CODEC_G722};

static struct sdp_local local_make(const enum sdp_codec *codecs, size_t n)
{
	return (struct sdp_local){
	    .addr = "203.0.113.5",
	    .port = 20000,
	    .codecs = codecs,
	    .codec_count = n,
	    .ptime_ms = 20,
	    .telephone_event = true,
	    .session_id = 1000,
	    .session_version = 1001,
	    .dir = SDP_DIR_SENDRECV,
	};
}

static void assert_slice(struct str got, const char *want, const char *what)
{
	if (!str_eq(got, str_from_cstr(want)))
		fail_msg("%s: got \"%.*s\", want \"%s\"", what, (int)got.len, got.p, want);
}

/* ---- offer → answer vectors ---------------------------------------------------- */

enum { KEEP = -2 }; /* expect the offered format list: a rejected line */

static const struct oa_vector {
	const char *name; /* and the rule it checks */
	const char *offer;
	const enum sdp_codec *codecs; /* NULL: g711 */
	size_t codec_count;
	bool no_te; /* local->telephone_event = false */
	enum sdp_dir local_dir;
	const char *local_addr; /* NULL: 203.0.113.5 */
	int ret;
	/* the result */
	enum sdp_codec codec;
	int pt, te_pt;
	uint32_t clock;
	uint32_t ptime;
	enum sdp_dir dir;
	bool hold;
	const char *remote_addr;
	uint16_t remote_port;
	size_t media_index;
	/* the answer's accepted m= format list, e.g. "0 101" */
	const char *fmts;
} oa_vectors[] = {
    {"PCMU with telephone-event (RFC 3264 §6.1, RFC 4733 §2.1)",
     V4 "m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = 101, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0 101"},
    {"PCMA by static payload type without rtpmap (RFC 3551 §6)", V4 "m=audio 30000 RTP/AVP 8\r\n",
     .codec = SDP_CODEC_PCMA, .pt = 8, .te_pt = -1, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "8"},
    {"G722 with an 8000 Hz RTP clock (RFC 3551 §4.5.2)",
     V4 "m=audio 30000 RTP/AVP 9 0 101\r\na=rtpmap:9 G722/8000\r\n" G711_TE, g722_only, 1,
     .codec = SDP_CODEC_G722, .pt = 9, .te_pt = 101, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "9 101"},
    {"opus at the offerer's dynamic PT, telephone-event at 48000 (RFC 7587, §6.1)",
     V4 "m=audio 30000 RTP/AVP 111 0 110 101\r\na=rtpmap:111 opus/48000/2\r\n"
	"a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:110 telephone-event/48000\r\n" G711_TE,
     all, 4, .codec = SDP_CODEC_OPUS, .pt = 111, .te_pt = 110, .clock = 48000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "111 110"},
    {"opus offered with only telephone-event/8000: no events at the wrong clock (RFC 4733 §2.1)",
     V4 "m=audio 30000 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n",
     all, 4, .codec = SDP_CODEC_OPUS, .pt = 96, .te_pt = -1, .clock = 48000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "96"},
    {"opus written without channels is still opus",
     V4 "m=audio 30000 RTP/AVP 98\r\na=rtpmap:98 OPUS/48000\r\n", all, 4, .codec = SDP_CODEC_OPUS,
     .pt = 98, .te_pt = -1, .clock = 48000, .ptime = 20, .remote_addr = "198.51.100.7",
     .remote_port = 30000, .fmts = "98"},
    {"our preference order wins over the offerer's (as inbound-codec-prefs)",
     V4 "m=audio 30000 RTP/AVP 8 0 101\r\n" G711_TE, .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = 101,
     .clock = 8000, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 30000,
     .fmts = "0 101"},
    {"our preference order wins, the other way round",
     V4 "m=audio 30000 RTP/AVP 0 8 101\r\n" G711_TE, pcma_first, 2, .codec = SDP_CODEC_PCMA,
     .pt = 8, .te_pt = 101, .clock = 8000, .ptime = 20, .remote_addr = "198.51.100.7",
     .remote_port = 30000, .fmts = "8 101"},
    {"no common codec: 488 (§6)",
     V4 "m=audio 30000 RTP/AVP 18 101\r\na=rtpmap:18 G729/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n",
     .ret = -ENOTSUP},
    {"no common codec with G722 only", V4 "m=audio 30000 RTP/AVP 0 8\r\n", g722_only, 1,
     .ret = -ENOTSUP},
    {"PCMU at a dynamic payload type keeps the offerer's number (§6.1)",
     V4 "m=audio 30000 RTP/AVP 96\r\na=rtpmap:96 pcmu/8000\r\n", .codec = SDP_CODEC_PCMU, .pt = 96,
     .te_pt = -1, .clock = 8000, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 30000,
     .fmts = "96"},
    {"a static number remapped by rtpmap is what the rtpmap says",
     V4 "m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 L16/8000\r\n", .ret = -ENOTSUP},
    {"a mono codec claiming two channels is not that codec",
     V4 "m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/2\r\n", .ret = -ENOTSUP},
    {"telephone-event absent from the offer", V4 "m=audio 30000 RTP/AVP 0 8\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"telephone-event offered but not wanted here", V4 "m=audio 30000 RTP/AVP 0 101\r\n" G711_TE,
     .no_te = true, .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"telephone-event with two rtpmaps for one number, /16000 first",
     V4 "m=audio 30000 RTP/AVP 8 101 101 0\r\na=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/16000\r\na=rtpmap:101 telephone-event/8000\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = 101, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0 101"},
    {"audio and video: video rejected with port 0 and its formats (§6)",
     V4 "m=audio 30000 RTP/AVP 0\r\nm=video 30002 RTP/AVP 96 97\r\na=rtpmap:96 H264/90000\r\n"
	"a=rtpmap:97 VP8/90000\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"two audio lines: the first without a common codec is rejected, the second taken (§6)",
     V4 "m=audio 30000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\nm=audio 30002 RTP/AVP 8\r\n",
     .codec = SDP_CODEC_PCMA, .pt = 8, .te_pt = -1, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30002, .media_index = 1, .fmts = "8"},
    {"two acceptable audio lines: only the first is taken (one stream per call)",
     V4 "m=audio 30000 RTP/AVP 8\r\nm=audio 30002 RTP/AVP 0\r\n", .codec = SDP_CODEC_PCMA, .pt = 8,
     .te_pt = -1, .clock = 8000, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 30000,
     .fmts = "8"},
    {"an offered line already at port 0 stays rejected (§8.2)",
     V4 "m=audio 0 RTP/AVP 0\r\nm=audio 30002 RTP/AVP 0\r\n", .codec = SDP_CODEC_PCMU, .pt = 0,
     .te_pt = -1, .clock = 8000, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 30002,
     .media_index = 1, .fmts = "0"},
    {"image/udptl (T.38) is rejected, audio taken",
     V4 "m=image 30004 udptl t38\r\nm=audio 30000 RTP/AVP 0\r\n", .codec = SDP_CODEC_PCMU, .pt = 0,
     .te_pt = -1, .clock = 8000, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 30000,
     .media_index = 1, .fmts = "0"},
    {"SRTP profile is not accepted", V4 "m=audio 30000 RTP/SAVP 0\r\n", .ret = -ENOTSUP},
    {"no m= line at all", V4, .ret = -ENOTSUP},
    {"peer sendonly: we recvonly, on hold (§6.1, §8.4)",
     V4 "m=audio 30000 RTP/AVP 0\r\na=sendonly\r\n", .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1,
     .clock = 8000, .ptime = 20, .dir = SDP_DIR_RECVONLY, .hold = true,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"peer inactive: inactive, on hold (§6.1)", V4 "m=audio 30000 RTP/AVP 0\r\na=inactive\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .dir = SDP_DIR_INACTIVE, .hold = true, .remote_addr = "198.51.100.7", .remote_port = 30000,
     .fmts = "0"},
    {"RFC 2543 hold: c=0.0.0.0 (§8.4)",
     "v=0\r\no=- 100 101 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
     "m=audio 30000 RTP/AVP 0\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .dir = SDP_DIR_RECVONLY, .hold = true, .remote_addr = "0.0.0.0", .remote_port = 30000,
     .fmts = "0"},
    {"c=0.0.0.0 together with sendonly",
     V4 "m=audio 30000 RTP/AVP 0\r\n"
	"c=IN IP4 0.0.0.0\r\na=sendonly\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .dir = SDP_DIR_RECVONLY, .hold = true, .remote_addr = "0.0.0.0", .remote_port = 30000,
     .fmts = "0"},
    {"peer recvonly: we sendonly, not a hold (§6.1)",
     V4 "m=audio 30000 RTP/AVP 0\r\na=recvonly\r\n", .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1,
     .clock = 8000, .ptime = 20, .dir = SDP_DIR_SENDONLY, .remote_addr = "198.51.100.7",
     .remote_port = 30000, .fmts = "0"},
    {"we hold (local sendonly) a sendrecv offer: sendonly",
     V4 "m=audio 30000 RTP/AVP 0\r\na=sendrecv\r\n", .local_dir = SDP_DIR_SENDONLY,
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .dir = SDP_DIR_SENDONLY, .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"both hold: inactive", V4 "m=audio 30000 RTP/AVP 0\r\na=sendonly\r\n",
     .local_dir = SDP_DIR_SENDONLY, .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000,
     .ptime = 20, .dir = SDP_DIR_INACTIVE, .hold = true, .remote_addr = "198.51.100.7",
     .remote_port = 30000, .fmts = "0"},
    {"peer sendonly while we are inactive: still the peer's hold",
     V4 "m=audio 30000 RTP/AVP 0\r\na=sendonly\r\n", .local_dir = SDP_DIR_INACTIVE,
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .dir = SDP_DIR_INACTIVE, .hold = true, .remote_addr = "198.51.100.7", .remote_port = 30000,
     .fmts = "0"},
    {"session-level direction applies to the stream (RFC 4566 §6)",
     V4 "a=sendonly\r\nm=audio 30000 RTP/AVP 0\r\n", .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1,
     .clock = 8000, .ptime = 20, .dir = SDP_DIR_RECVONLY, .hold = true,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"media-level direction overrides the session's",
     V4 "a=sendonly\r\nm=audio 30000 RTP/AVP 0\r\na=sendrecv\r\n", .codec = SDP_CODEC_PCMU, .pt = 0,
     .te_pt = -1, .clock = 8000, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 30000,
     .fmts = "0"},
    {"media-level c= overrides the session's (RFC 4566 §5.7)",
     V4 "m=audio 30000 RTP/AVP 0\r\nc=IN IP4 192.0.2.99\r\n", .codec = SDP_CODEC_PCMU, .pt = 0,
     .te_pt = -1, .clock = 8000, .ptime = 20, .remote_addr = "192.0.2.99", .remote_port = 30000,
     .fmts = "0"},
    {"c= only at media level",
     "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n"
     "c=IN IP4 192.0.2.98\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .remote_addr = "192.0.2.98", .remote_port = 30000, .fmts = "0"},
    {"ptime from the offer", V4 "m=audio 30000 RTP/AVP 0\r\na=ptime:30\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 30,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"ptime at session level", V4 "a=ptime:40\r\nm=audio 30000 RTP/AVP 0\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 40,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"an unusable ptime falls back to ours", V4 "m=audio 30000 RTP/AVP 0\r\na=ptime:25\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"maxptime caps ours", V4 "m=audio 30000 RTP/AVP 0\r\na=maxptime:10\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000, .ptime = 10,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "0"},
    {"opus ptime 30 is no opus frame size: 20",
     V4 "m=audio 30000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\na=ptime:30\r\n", all, 4,
     .codec = SDP_CODEC_OPUS, .pt = 96, .te_pt = -1, .clock = 48000, .ptime = 20,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "96"},
    {"opus ptime 60 with maxptime 50: 40",
     V4 "m=audio 30000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\na=ptime:60\r\n"
	"a=maxptime:50\r\n",
     all, 4, .codec = SDP_CODEC_OPUS, .pt = 96, .te_pt = -1, .clock = 48000, .ptime = 40,
     .remote_addr = "198.51.100.7", .remote_port = 30000, .fmts = "96"},
    {"IPv6 offer, IPv6 answer", V6 "m=audio 30000 RTP/AVP 0 101\r\n" G711_TE,
     .local_addr = "2001:db8::5", .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = 101, .clock = 8000,
     .ptime = 20, .remote_addr = "2001:db8::7", .remote_port = 30000, .fmts = "0 101"},
    {"IPv6 hold with c=::", V6 "m=audio 30000 RTP/AVP 0\r\nc=IN IP6 ::\r\n",
     .local_addr = "2001:db8::5", .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .clock = 8000,
     .ptime = 20, .dir = SDP_DIR_RECVONLY, .hold = true, .remote_addr = "::", .remote_port = 30000,
     .fmts = "0"},
    {"IPv6 offer to an IPv4 side: unreachable", V6 "m=audio 30000 RTP/AVP 0\r\n", .ret = -ENOTSUP},
    {"IPv4 offer to an IPv6 side: unreachable", V4 "m=audio 30000 RTP/AVP 0\r\n",
     .local_addr = "::1", .ret = -ENOTSUP},
    {"a domain name in c= is not resolved here",
     V4 "m=audio 30000 RTP/AVP 0\r\nc=IN IP4 media.example.com\r\n", .ret = -ENOTSUP},
    {"multicast is not taken", V4 "m=audio 30000 RTP/AVP 0\r\nc=IN IP4 224.2.1.1/127\r\n",
     .ret = -ENOTSUP},
};

static void check_answer(const struct oa_vector *v, const struct sdp_session *offer,
			 const struct sdp_local *l, const struct sdp_result *res, struct buf *ans)
{
	struct sdp_session *a = malloc(sizeof(*a));

	assert_non_null(a);
	if (sdp_session_parse(a, ans->p, ans->len) != 0)
		fail_msg("%s: answer does not parse:\n%s", v->name, ans->p);
	assert_int_equal(a->media_count, offer->media_count);
	assert_slice(a->conn.addr, l->addr, "answer c=");
	assert_slice(a->origin_addr, l->addr, "answer o=");
	assert_slice(a->sess_id, "1000", "answer sess-id");
	assert_slice(a->sess_version, "1001", "answer sess-version");
	for (size_t i = 0; i < a->media_count; i++) {
		const struct sdp_media *am = &a->media[i], *om = &offer->media[i];
		assert_true(str_eq(am->type, om->type));
		assert_true(str_eq(am->proto, om->proto));
		if (i != v->media_index) {
			assert_int_equal(am->port, 0);
			assert_true(str_eq(am->fmts, om->fmts));
			continue;
		}
		assert_int_equal(am->port, l->port);
		assert_slice(am->fmts, v->fmts, v->name);
		assert_int_equal(sdp_media_dir(a, am), v->dir);
		assert_int_equal(am->ptime_ms, v->ptime);

		/* the rtpmaps name what the result says */
		const struct sdp_attr *at = NULL;
		struct sdp_rtpmap rm;
		bool codec_seen = false, te_seen = false;
		while ((at = sdp_attr_next(a, am, "rtpmap", at)) != NULL) {
			assert_int_equal(sdp_rtpmap_parse(&rm, at->value), 0);
			if (rm.pt == res->pt) {
				assert_true(str_ieq_cstr(rm.encoding, sdp_codec_name(res->codec)));
				assert_int_equal(rm.clock_rate, res->clock_rate);
				codec_seen = true;
			} else {
				assert_int_equal(rm.pt, res->te_pt);
				assert_slice(rm.encoding, "telephone-event", "te rtpmap");
				assert_int_equal(rm.clock_rate, res->clock_rate);
				te_seen = true;
			}
		}
		assert_true(codec_seen);
		assert_int_equal(te_seen, res->te_pt >= 0);
	}
	free(a);
}

static void test_offer_answer_vectors(void **state)
{
	struct sdp_session *offer = malloc(sizeof(*offer));

	assert_non_null(offer);
	for (size_t i = 0; i < ARRAY_LEN(oa_vectors); i++) {
		const struct oa_vector *v = &oa_vectors[i];
		struct sdp_local l = v->codecs ? local_make(v->codecs, v->codec_count)
					       : local_make(g711, ARRAY_LEN(g711));
		struct sdp_result res;
		struct buf ans;

		l.telephone_event = !v->no_te;
		l.dir = v->local_dir;
		if (v->local_addr)
			l.addr = v->local_addr;
		if (sdp_session_parse(offer, v->offer, strlen(v->offer)) != 0)
			fail_msg("%s: the offer does not parse", v->name);
		buf_init(&ans);
		buf_append_cstr(&ans, "X"); /* the answer is appended, and only on success */
		int r = sdp_answer(offer, &l, &res, &ans);
		if (r != v->ret)
			fail_msg("%s: returned %d, want %d", v->name, r, v->ret);
		if (r != 0) {
			assert_int_equal(ans.len, 1);
			buf_fini(&ans);
			continue;
		}
		assert_int_equal(res.codec, v->codec);
		assert_int_equal(res.pt, v->pt);
		assert_int_equal(res.te_pt, v->te_pt);
		assert_int_equal(res.clock_rate, v->clock);
		assert_int_equal(res.channels, v->codec == SDP_CODEC_OPUS ? 2 : 1);
		assert_int_equal(res.ptime_ms, v->ptime);
		assert_int_equal(res.dir, v->dir);
		assert_int_equal(res.hold, v->hold);
		assert_string_equal(res.remote_addr, v->remote_addr);
		assert_int_equal(res.remote_port, v->remote_port);
		assert_int_equal(res.remote_rtcp_port, v->remote_port + 1);
		assert_int_equal(res.media_index, v->media_index);
		assert_int_equal(ans.p[0], 'X');
		struct buf body = {.p = ans.p + 1, .len = ans.len - 1};
		check_answer(v, offer, &l, &res, &body);
		buf_fini(&ans);
	}
	free(offer);
}

/* The exact text of an answer, laid out as FreeSWITCH lays out its own. */
static void test_answer_text(void **state)
{
	const char *text = V4 "m=audio 30000 RTP/AVP 8 0 101\r\na=rtcp:30011\r\n" G711_TE
			      "a=ptime:20\r\nm=video 30002 RTP/AVP 96\r\n";
	struct sdp_session *offer = malloc(sizeof(*offer));
	struct sdp_local l = local_make(g711, ARRAY_LEN(g711));
	struct sdp_result res;
	struct buf ans;

	assert_non_null(offer);
	buf_init(&ans);
	assert_int_equal(sdp_session_parse(offer, text, strlen(text)), 0);
	assert_int_equal(sdp_answer(offer, &l, &res, &ans), 0);
	assert_string_equal(ans.p, "v=0\r\n"
				   "o=irisx 1000 1001 IN IP4 203.0.113.5\r\n"
				   "s=irisx\r\n"
				   "c=IN IP4 203.0.113.5\r\n"
				   "t=0 0\r\n"
				   "m=audio 20000 RTP/AVP 0 101\r\n"
				   "a=rtpmap:0 PCMU/8000\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\n"
				   "a=fmtp:101 0-16\r\n"
				   "a=ptime:20\r\n"
				   "a=sendrecv\r\n"
				   "m=video 0 RTP/AVP 96\r\n");
	assert_int_equal(res.remote_rtcp_port, 30011); /* RFC 3605 */

	/* IPv6 in both o= and c=, normalized */
	buf_reset(&ans);
	l.addr = "2001:DB8:0::5";
	const char *text6 = V6 "m=audio 30000 RTP/AVP 0\r\n";
	assert_int_equal(sdp_session_parse(offer, text6, strlen(text6)), 0);
	assert_int_equal(sdp_answer(offer, &l, &res, &ans), 0);
	assert_non_null(strstr(ans.p, "o=irisx 1000 1001 IN IP6 2001:db8::5\r\n"));
	assert_non_null(strstr(ans.p, "c=IN IP6 2001:db8::5\r\n"));
	buf_fini(&ans);
	free(offer);
}

static void test_bad_local(void **state)
{
	const char *text = V4 "m=audio 30000 RTP/AVP 0\r\n";
	struct sdp_session *offer = malloc(sizeof(*offer));
	struct sdp_result res;
	struct buf b;
	const enum sdp_codec bogus[] = {(enum sdp_codec)7};

	assert_non_null(offer);
	buf_init(&b);
	assert_int_equal(sdp_session_parse(offer, text, strlen(text)), 0);
	struct sdp_local good = local_make(g711, 2), l;
	l = good, l.addr = NULL;
	assert_int_equal(sdp_answer(offer, &l, &res, &b), -EINVAL);
	l = good, l.addr = "media.example.com";
	assert_int_equal(sdp_answer(offer, &l, &res, &b), -EINVAL);
	l = good, l.port = 0;
	assert_int_equal(sdp_offer(&l, &b), -EINVAL);
	l = good, l.codec_count = 0;
	assert_int_equal(sdp_answer(offer, &l, &res, &b), -EINVAL);
	l = good, l.codecs = bogus, l.codec_count = 1;
	assert_int_equal(sdp_offer(&l, &b), -EINVAL);
	l = good, l.ptime_ms = 25;
	assert_int_equal(sdp_answer_process(offer, &l, &res), -EINVAL);
	l = good, l.dir = (enum sdp_dir)9;
	assert_int_equal(sdp_answer(offer, &l, &res, &b), -EINVAL);
	assert_int_equal(sdp_answer(NULL, &good, &res, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	l = good, l.ptime_ms = 0; /* 0 means 20 */
	assert_int_equal(sdp_answer(offer, &l, &res, &b), 0);
	assert_int_equal(res.ptime_ms, 20);
	buf_fini(&b);
	free(offer);
}

/* ---- our offers and the answers to them (RFC 3264 §5, §7) ----------------- */

static void test_offer_text(void **state)
{
	struct sdp_local l = local_make(all, ARRAY_LEN(all));
	struct sdp_session *s = malloc(sizeof(*s));
	struct buf b;

	assert_non_null(s);
	buf_init(&b);
	assert_int_equal(sdp_offer(&l, &b), 0);
	assert_string_equal(b.p, "v=0\r\n"
				 "o=irisx 1000 1001 IN IP4 203.0.113.5\r\n"
				 "s=irisx\r\n"
				 "c=IN IP4 203.0.113.5\r\n"
				 "t=0 0\r\n"
				 "m=audio 20000 RTP/AVP 102 9 0 8 101 103\r\n"
				 "a=rtpmap:102 opus/48000/2\r\n"
				 "a=rtpmap:9 G722/8000\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=rtpmap:103 telephone-event/48000\r\n"
				 "a=fmtp:103 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n");
	assert_int_equal(sdp_session_parse(s, b.p, b.len), 0);

	/* hold re-offer, no events, a codec listed twice appears once */
	const enum sdp_codec twice[] = {SDP_CODEC_PCMA, SDP_CODEC_PCMA, SDP_CODEC_PCMU};
	l = local_make(twice, 3);
	l.telephone_event = false;
	l.dir = SDP_DIR_SENDONLY;
	l.session_version = 1002;
	buf_reset(&b);
	assert_int_equal(sdp_offer(&l, &b), 0);
	assert_non_null(strstr(b.p, "o=irisx 1000 1002 IN IP4"));
	assert_non_null(strstr(b.p, "m=audio 20000 RTP/AVP 8 0\r\n"));
	assert_null(strstr(b.p, "telephone-event"));
	assert_non_null(strstr(b.p, "a=sendonly\r\n"));
	assert_int_equal(sdp_session_parse(s, b.p, b.len), 0);

	/* opus alone: events only at 48000 */
	const enum sdp_codec opus[] = {SDP_CODEC_OPUS};
	l = local_make(opus, 1);
	l.addr = "::1";
	buf_reset(&b);
	assert_int_equal(sdp_offer(&l, &b), 0);
	assert_non_null(strstr(b.p, "c=IN IP6 ::1\r\n"));
	assert_non_null(strstr(b.p, "m=audio 20000 RTP/AVP 102 103\r\n"));
	assert_null(strstr(b.p, "telephone-event/8000"));
	buf_fini(&b);
	free(s);
}

static const struct ap_vector {
	const char *name;
	const char *answer;
	enum sdp_dir local_dir;
	int ret;
	enum sdp_codec codec;
	int pt, te_pt;
	uint32_t ptime;
	enum sdp_dir dir;
	bool hold;
	const char *remote_addr;
	uint16_t remote_port;
} ap_vectors[] = {
    {"PCMU and telephone-event (§7)",
     V4 "m=audio 31000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = 101, .ptime = 20, .remote_addr = "198.51.100.7",
     .remote_port = 31000},
    {"opus and telephone-event/48000",
     V4 "m=audio 31000 RTP/AVP 102 103\r\na=rtpmap:102 opus/48000/2\r\n"
	"a=rtpmap:103 telephone-event/48000\r\na=ptime:40\r\n",
     .codec = SDP_CODEC_OPUS, .pt = 102, .te_pt = 103, .ptime = 40, .remote_addr = "198.51.100.7",
     .remote_port = 31000},
    {"the answerer lists several: its first one we offered",
     V4 "m=audio 31000 RTP/AVP 18 8 0\r\na=rtpmap:18 G729/8000\r\n", .codec = SDP_CODEC_PCMA,
     .pt = 8, .te_pt = -1, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 31000},
    {"opus renumbered by the answerer: we send with its number",
     V4 "m=audio 31000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n", .codec = SDP_CODEC_OPUS,
     .pt = 111, .te_pt = -1, .ptime = 20, .remote_addr = "198.51.100.7", .remote_port = 31000},
    {"stream rejected (§6: port 0)", V4 "m=audio 0 RTP/AVP 0\r\n", .ret = -ENOTSUP},
    {"a codec we did not offer", V4 "m=audio 31000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n",
     .ret = -ENOTSUP},
    {"two m= lines for our one (§6)", V4 "m=audio 31000 RTP/AVP 0\r\nm=audio 31002 RTP/AVP 0\r\n",
     .ret = -EBADMSG},
    {"no m= line (§6)", V4, .ret = -EBADMSG},
    {"answer recvonly to our sendonly hold (§6.1)", V4 "m=audio 31000 RTP/AVP 0\r\na=recvonly\r\n",
     .local_dir = SDP_DIR_SENDONLY, .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .ptime = 20,
     .dir = SDP_DIR_SENDONLY, .remote_addr = "198.51.100.7", .remote_port = 31000},
    {"answer inactive to our sendonly: the peer will not receive",
     V4 "m=audio 31000 RTP/AVP 0\r\na=inactive\r\n", .local_dir = SDP_DIR_SENDONLY,
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .ptime = 20, .dir = SDP_DIR_INACTIVE,
     .hold = true, .remote_addr = "198.51.100.7", .remote_port = 31000},
    {"answer inactive to our inactive is no hold by the peer",
     V4 "m=audio 31000 RTP/AVP 0\r\na=inactive\r\n", .local_dir = SDP_DIR_INACTIVE,
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .ptime = 20, .dir = SDP_DIR_INACTIVE,
     .remote_addr = "198.51.100.7", .remote_port = 31000},
    {"answer sendonly to our sendrecv", V4 "m=audio 31000 RTP/AVP 0\r\na=sendonly\r\n",
     .codec = SDP_CODEC_PCMU, .pt = 0, .te_pt = -1, .ptime = 20, .dir = SDP_DIR_RECVONLY,
     .hold = true, .remote_addr = "198.51.100.7", .remote_port = 31000},
};

static void test_answer_process(void **state)
{
	struct sdp_session *a = malloc(sizeof(*a));

	assert_non_null(a);
	for (size_t i = 0; i < ARRAY_LEN(ap_vectors); i++) {
		const struct ap_vector *v = &ap_vectors[i];
		struct sdp_local l = local_make(all, ARRAY_LEN(all));
		struct sdp_result res;

		l.dir = v->local_dir;
		if (sdp_session_parse(a, v->answer, strlen(v->answer)) != 0)
			fail_msg("%s: the answer does not parse", v->name);
		int r = sdp_answer_process(a, &l, &res);
		if (r != v->ret)
			fail_msg("%s: returned %d, want %d", v->name, r, v->ret);
		if (r != 0)
			continue;
		assert_int_equal(res.codec, v->codec);
		assert_int_equal(res.pt, v->pt);
		assert_int_equal(res.te_pt, v->te_pt);
		assert_int_equal(res.ptime_ms, v->ptime);
		assert_int_equal(res.dir, v->dir);
		assert_int_equal(res.hold, v->hold);
		assert_string_equal(res.remote_addr, v->remote_addr);
		assert_int_equal(res.remote_port, v->remote_port);
	}
	free(a);
}

/*
 * Both ends of a late-offer call built from this module: our offer answered
 * by a peer with other preferences, then its answer processed. Each side's
 * result must describe the same stream seen from its end.
 */
static void test_late_offer_round(void **state)
{
	const enum sdp_codec peer_codecs[] = {SDP_CODEC_PCMA, SDP_CODEC_OPUS};
	struct sdp_local us = local_make(all, ARRAY_LEN(all));
	struct sdp_local peer = local_make(peer_codecs, 2);
	struct sdp_session *o = malloc(sizeof(*o)), *a = malloc(sizeof(*a));
	struct sdp_result ours, theirs;
	struct buf ob, ab;

	assert_non_null(o);
	assert_non_null(a);
	peer.addr = "192.0.2.50";
	peer.port = 40000;
	for (int hold = 0; hold <= 1; hold++) {
		us.dir = hold ? SDP_DIR_SENDONLY : SDP_DIR_SENDRECV;
		buf_init(&ob);
		buf_init(&ab);
		assert_int_equal(sdp_offer(&us, &ob), 0);
		assert_int_equal(sdp_session_parse(o, ob.p, ob.len), 0);
		assert_int_equal(sdp_answer(o, &peer, &theirs, &ab), 0);
		assert_int_equal(sdp_session_parse(a, ab.p, ab.len), 0);
		assert_int_equal(sdp_answer_process(a, &us, &ours), 0);

		assert_int_equal(theirs.codec, SDP_CODEC_PCMA); /* the answerer's order */
		assert_int_equal(ours.codec, SDP_CODEC_PCMA);
		assert_int_equal(ours.pt, theirs.pt);
		assert_int_equal(ours.te_pt, SDP_PT_TE);
		assert_int_equal(theirs.te_pt, SDP_PT_TE);
		assert_string_equal(ours.remote_addr, "192.0.2.50");
		assert_int_equal(ours.remote_port, 40000);
		assert_string_equal(theirs.remote_addr, "203.0.113.5");
		assert_int_equal(theirs.remote_port, 20000);
		assert_int_equal(ours.dir, hold ? SDP_DIR_SENDONLY : SDP_DIR_SENDRECV);
		assert_int_equal(theirs.dir, hold ? SDP_DIR_RECVONLY : SDP_DIR_SENDRECV);
		assert_int_equal(theirs.hold, hold);
		assert_false(ours.hold);
		buf_fini(&ob);
		buf_fini(&ab);
	}

	/* opus end to end, with events at 48000 on both sides */
	const enum sdp_codec opus_first[] = {SDP_CODEC_OPUS, SDP_CODEC_PCMU};
	peer = local_make(opus_first, 2);
	buf_init(&ob);
	buf_init(&ab);
	assert_int_equal(sdp_offer(&us, &ob), 0);
	assert_int_equal(sdp_session_parse(o, ob.p, ob.len), 0);
	assert_int_equal(sdp_answer(o, &peer, &theirs, &ab), 0);
	assert_int_equal(sdp_session_parse(a, ab.p, ab.len), 0);
	assert_int_equal(sdp_answer_process(a, &us, &ours), 0);
	assert_int_equal(ours.codec, SDP_CODEC_OPUS);
	assert_int_equal(ours.pt, SDP_PT_OPUS);
	assert_int_equal(ours.te_pt, SDP_PT_TE_48K);
	assert_int_equal(ours.clock_rate, 48000);
	assert_int_equal(theirs.te_pt, SDP_PT_TE_48K);
	buf_fini(&ob);
	buf_fini(&ab);
	free(o);
	free(a);
}

/* ---- re-offers (RFC 3264 §8) ------------------------------------------------------ */

static int answer_text(const char *text, const struct sdp_local *l, struct sdp_result *res)
{
	struct sdp_session *s = malloc(sizeof(*s));
	struct buf b;
	int r;

	assert_non_null(s);
	buf_init(&b);
	assert_int_equal(sdp_session_parse(s, text, strlen(text)), 0);
	r = sdp_answer(s, l, res, &b);
	buf_fini(&b);
	free(s);
	return r;
}

static void test_reoffer_diff(void **state)
{
	struct sdp_local l = local_make(g711, ARRAY_LEN(g711));
	struct sdp_result first, again;

	assert_int_equal(answer_text(V4 "m=audio 30000 RTP/AVP 0 101\r\n" G711_TE, &l, &first), 0);

	/* a session refresh (§8: same description, even with a bumped version) */
	assert_int_equal(answer_text("v=0\r\no=- 100 101 IN IP4 198.51.100.7\r\ns=-\r\n"
				     "c=IN IP4 198.51.100.7\r\nt=0 0\r\n"
				     "m=audio 30000 RTP/AVP 0 101\r\n" G711_TE,
				     &l, &again),
			 0);
	assert_int_equal(sdp_result_diff(&first, &again), 0);

	/* hold (§8.4) and unhold */
	assert_int_equal(
	    answer_text(V4 "m=audio 30000 RTP/AVP 0 101\r\na=sendonly\r\n" G711_TE, &l, &again), 0);
	assert_int_equal(sdp_result_diff(&first, &again), SDP_CHANGE_DIR);
	assert_true(again.hold);
	struct sdp_result held = again;
	assert_int_equal(answer_text(V4 "m=audio 30000 RTP/AVP 0 101\r\n" G711_TE, &l, &again), 0);
	assert_int_equal(sdp_result_diff(&held, &again), SDP_CHANGE_DIR);
	assert_false(again.hold);
	assert_int_equal(again.dir, SDP_DIR_SENDRECV);

	/* RFC 2543 hold changes the address too */
	assert_int_equal(answer_text(V4
				     "m=audio 30000 RTP/AVP 0 101\r\nc=IN IP4 0.0.0.0\r\n" G711_TE,
				     &l, &again),
			 0);
	assert_int_equal(sdp_result_diff(&first, &again), SDP_CHANGE_ADDR | SDP_CHANGE_DIR);

	/* a new port, a new codec, no more events, another ptime */
	assert_int_equal(answer_text(V4 "m=audio 30100 RTP/AVP 0 101\r\n" G711_TE, &l, &again), 0);
	assert_int_equal(sdp_result_diff(&first, &again), SDP_CHANGE_ADDR);
	assert_int_equal(answer_text(V4 "m=audio 30000 RTP/AVP 8 101\r\n" G711_TE, &l, &again), 0);
	assert_int_equal(sdp_result_diff(&first, &again), SDP_CHANGE_CODEC);
	assert_int_equal(answer_text(V4 "m=audio 30000 RTP/AVP 0\r\n", &l, &again), 0);
	assert_int_equal(sdp_result_diff(&first, &again), SDP_CHANGE_TE);
	assert_int_equal(
	    answer_text(V4 "m=audio 30000 RTP/AVP 0 101\r\na=ptime:40\r\n" G711_TE, &l, &again), 0);
	assert_int_equal(sdp_result_diff(&first, &again), SDP_CHANGE_PTIME);
}

static void test_names(void **state)
{
	enum sdp_codec c;

	for (size_t i = 0; i < SDP_CODEC_COUNT; i++) {
		assert_int_equal(sdp_codec_parse(str_from_cstr(sdp_codec_name(i)), &c), 0);
		assert_int_equal(c, i);
	}
	assert_int_equal(sdp_codec_parse(STR("OPUS"), &c), 0);
	assert_int_equal(c, SDP_CODEC_OPUS);
	assert_int_equal(sdp_codec_parse(STR("G729"), &c), -ENOENT);
	assert_null(sdp_codec_name((enum sdp_codec)SDP_CODEC_COUNT));
	assert_string_equal(sdp_dir_name(SDP_DIR_RECVONLY), "recvonly");
	assert_string_equal(sdp_dir_name(SDP_DIR_INACTIVE), "inactive");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offer_answer_vectors),
	    cmocka_unit_test(test_answer_text),
	    cmocka_unit_test(test_bad_local),
	    cmocka_unit_test(test_offer_text),
	    cmocka_unit_test(test_answer_process),
	    cmocka_unit_test(test_late_offer_round),
	    cmocka_unit_test(test_reoffer_diff),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
