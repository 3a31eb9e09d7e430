/*
 * Unit tests for SDP parsing and printing (RFC 4566): descriptions as real
 * peers send them, each checked field by field and through parse → print →
 * parse; the canonical printed form; accessors; and malformed descriptions,
 * each of which must fail cleanly with -EBADMSG.
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

static void assert_slice(struct str got, const char *want, const char *what)
{
	if (!str_eq(got, str_from_cstr(want)))
		fail_msg("%s: got \"%.*s\", want \"%s\"", what, (int)got.len, got.p, want);
}

static int parse(struct sdp_session *s, const char *text)
{
	return sdp_session_parse(s, text, strlen(text));
}

/* parse → print → parse → print: the second print equals the first. */
static void assert_round_trip(const char *text, const struct sdp_session *s)
{
	struct sdp_session *again = malloc(sizeof(*again));
	struct buf p1, p2;

	assert_non_null(again);
	buf_init(&p1);
	buf_init(&p2);
	sdp_session_print(&p1, s);
	assert_false(p1.failed);
	if (sdp_session_parse(again, p1.p, p1.len) != 0)
		fail_msg("printed form of\n%s\ndoes not parse:\n%s", text, p1.p);
	sdp_session_print(&p2, again);
	if (p1.len != p2.len || memcmp(p1.p, p2.p, p1.len) != 0)
		fail_msg("print is not a fixed point:\n%s\n---\n%s", p1.p, p2.p);
	assert_int_equal(again->media_count, s->media_count);
	assert_int_equal(again->attr_total, s->attr_total);
	assert_int_equal(again->line_total, s->line_total);
	for (size_t i = 0; i < s->media_count; i++) {
		assert_int_equal(again->media[i].port, s->media[i].port);
		assert_int_equal(again->media[i].fmt_count, s->media[i].fmt_count);
		assert_int_equal(sdp_media_dir(again, &again->media[i]),
				 sdp_media_dir(s, &s->media[i]));
		assert_int_equal(again->media[i].ptime_ms, s->media[i].ptime_ms);
	}
	buf_fini(&p1);
	buf_fini(&p2);
	free(again);
}

/* ---- well-formed descriptions ------------------------------------------------- */

static const struct parse_vector {
	const char *name;
	const char *text;
	size_t media_count;
	const char *conn; /* effective c= address of media 0 (or the session's) */
	uint16_t port;	  /* media 0 */
	size_t fmt_count; /* media 0 */
	enum sdp_dir dir; /* effective direction of media 0 */
	uint32_t ptime;	  /* media 0 */
} parse_vectors[] = {
    {"SIPp's default uac offer",
     "v=0\r\n"
     "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
     "s=-\r\n"
     "c=IN IP4 127.0.0.1\r\n"
     "t=0 0\r\n"
     "m=audio 6000 RTP/AVP 0\r\n"
     "a=rtpmap:0 PCMU/8000\r\n",
     1, "127.0.0.1", 6000, 1, SDP_DIR_SENDRECV, 0},
    {"trunk offer with telephone-event, ptime, maxptime",
     "v=0\r\n"
     "o=root 1899471213 1899471213 IN IP4 198.51.100.7\r\n"
     "s=Media Gateway\r\n"
     "c=IN IP4 198.51.100.7\r\n"
     "t=0 0\r\n"
     "m=audio 14318 RTP/AVP 0 8 101\r\n"
     "a=rtpmap:0 PCMU/8000\r\n"
     "a=rtpmap:8 PCMA/8000\r\n"
     "a=rtpmap:101 telephone-event/8000\r\n"
     "a=fmtp:101 0-16\r\n"
     "a=ptime:20\r\n"
     "a=maxptime:150\r\n"
     "a=sendrecv\r\n",
     1, "198.51.100.7", 14318, 3, SDP_DIR_SENDRECV, 20},
    {"softphone offer with opus, b=, unknown attributes, rtcp",
     "v=0\r\n"
     "o=- 1917003361 1404478337 IN IP4 192.168.1.10\r\n"
     "s=-\r\n"
     "c=IN IP4 192.168.1.10\r\n"
     "b=AS:128\r\n"
     "t=0 0\r\n"
     "a=tool:softphone 1.0\r\n"
     "m=audio 10498 RTP/AVP 96 9 0 8 101\r\n"
     "b=TIAS:64000\r\n"
     "a=rtpmap:96 opus/48000/2\r\n"
     "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
     "a=rtpmap:9 G722/8000\r\n"
     "a=rtpmap:0 PCMU/8000\r\n"
     "a=rtpmap:8 PCMA/8000\r\n"
     "a=rtpmap:101 telephone-event/8000\r\n"
     "a=fmtp:101 0-15\r\n"
     "a=rtcp:10499 IN IP4 192.168.1.10\r\n"
     "a=rtcp-mux\r\n"
     "a=rtcp-rsize\r\n"
     "a=ssrc:1280262101 cname:a8b4c4f1\r\n"
     "a=sendrecv\r\n"
     "a=label:1\r\n",
     1, "192.168.1.10", 10498, 5, SDP_DIR_SENDRECV, 0},
    {"LF line endings, no final newline, i= u= e= p= z= k= r=",
     "v=0\n"
     "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\n"
     "s=SDP Seminar\n"
     "i=A Seminar on the session description protocol\n"
     "u=http://www.example.com/seminars/sdp.pdf\n"
     "e=j.doe@example.com (Jane Doe)\n"
     "p=+1 617 555-6011\n"
     "c=IN IP4 224.2.17.12/127\n"
     "t=2873397496 2873404696\n"
     "r=604800 3600 0 90000\n"
     "z=2882844526 -1h 2898848070 0\n"
     "k=prompt\n"
     "a=recvonly\n"
     "m=audio 49170 RTP/AVP 0\n"
     "m=video 51372/2 RTP/AVP 99\n"
     "i=the slides\n"
     "k=clear:secret\n"
     "a=rtpmap:99 h263-1998/90000",
     2, "224.2.17.12", 49170, 1, SDP_DIR_RECVONLY, 0},
    {"IPv6, media-level c= and direction over the session's",
     "v=0\r\n"
     "o=- 1 2 IN IP6 2001:db8::1\r\n"
     "s= \r\n"
     "c=IN IP6 2001:db8::1\r\n"
     "t=0 0\r\n"
     "a=sendonly\r\n"
     "m=audio 5004 RTP/AVP 8\r\n"
     "c=IN IP6 2001:db8::2\r\n"
     "a=inactive\r\n"
     "a=inactive\r\n"
     "m=audio 5006 RTP/AVP 0\r\n",
     2, "2001:db8::2", 5004, 1, SDP_DIR_INACTIVE, 0},
    {"rejected stream without c=, image/udptl formats, trailing blank lines",
     "v=0\r\n"
     "o=- 7 7 IN IP4 192.0.2.1\r\n"
     "s=\r\n"
     "t=0 0\r\n"
     "m=image 0 udptl t38\r\n"
     "a=T38FaxVersion:0\r\n"
     "\r\n\r\n",
     1, "", 0, 1, SDP_DIR_SENDRECV, 0},
    {"no media at all", "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n", 0, "", 0, 0,
     SDP_DIR_SENDRECV, 0},
    {"duplicate formats and rtpmaps as a trunk sends them, ptime fraction, domain c=",
     "v=0\r\n"
     "o=- 0 0 IN IP4 192.0.2.165\r\n"
     "s=on transit\r\n"
     "c=IN IP4 media.example.net\r\n"
     "t=0 0\r\n"
     "m=audio 7882 RTP/AVP 8 101 101 18 0\r\n"
     "b=AS:80\r\n"
     "a=rtpmap:8 PCMA/8000\r\n"
     "a=rtpmap:101 telephone-event/16000\r\n"
     "a=rtpmap:101 telephone-event/8000\r\n"
     "a=rtpmap:18 G729/8000\r\n"
     "a=fmtp:18 annexb=no\r\n"
     "a=ptime:20.0\r\n"
     "a=ptime:20\r\n"
     "a=silenceSupp:off - - - -\r\n"
     "a=direction:both\r\n",
     1, "media.example.net", 7882, 5, SDP_DIR_SENDRECV, 20},
    {"structured lines with trailing blanks",
     "v=0 \r\n"
     "o=- 5 5 IN IP4 192.0.2.9 \r\n"
     "s=-\r\n"
     "c=IN IP4 192.0.2.9\t\r\n"
     "t=0 0 \r\n"
     "m=audio 4000 RTP/AVP 0 8 \r\n"
     "a=ptime:30 \r\n",
     1, "192.0.2.9", 4000, 2, SDP_DIR_SENDRECV, 30},
};

static void test_parse_vectors(void **state)
{
	struct sdp_session *s = malloc(sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_LEN(parse_vectors); i++) {
		const struct parse_vector *v = &parse_vectors[i];
		int r = parse(s, v->text);
		if (r != 0)
			fail_msg("%s: parse returned %d", v->name, r);
		assert_int_equal(s->media_count, v->media_count);
		if (v->media_count) {
			const struct sdp_media *m = &s->media[0];
			assert_slice(sdp_media_conn(s, m)->addr, v->conn, v->name);
			assert_int_equal(m->port, v->port);
			assert_int_equal(m->fmt_count, v->fmt_count);
			assert_int_equal(sdp_media_dir(s, m), v->dir);
			assert_int_equal(m->ptime_ms, v->ptime);
		} else {
			assert_slice(s->conn.addr, v->conn, v->name);
		}
		assert_round_trip(v->text, s);
	}
	free(s);
}

/* Field by field on the richer vectors. */
static void test_parse_fields(void **state)
{
	struct sdp_session *s = malloc(sizeof(*s));
	assert_non_null(s);

	assert_int_equal(parse(s, parse_vectors[2].text), 0);
	assert_slice(s->origin_user, "-", "o= username");
	assert_slice(s->sess_id, "1917003361", "sess-id");
	assert_slice(s->sess_version, "1404478337", "sess-version");
	assert_slice(s->origin_nettype, "IN", "nettype");
	assert_slice(s->origin_addrtype, "IP4", "addrtype");
	assert_slice(s->origin_addr, "192.168.1.10", "o= address");
	assert_slice(s->name, "-", "s=");
	assert_int_equal(s->conn.type, SDP_ADDR_IP4);
	assert_int_equal(s->attr_count, 1);
	assert_slice(s->attrs[0].name, "tool", "session attribute");
	assert_slice(s->attrs[0].value, "softphone 1.0", "session attribute value");
	const struct sdp_media *m = &s->media[0];
	assert_slice(m->type, "audio", "media");
	assert_slice(m->proto, "RTP/AVP", "proto");
	assert_slice(m->fmts, "96 9 0 8 101", "fmts");
	assert_true(m->rtp);
	assert_int_equal(m->rtcp_port, 10499);
	assert_int_equal(m->rtcp_conn.type, SDP_ADDR_IP4);
	assert_slice(m->rtcp_conn.addr, "192.168.1.10", "rtcp address");
	assert_true(m->rtcp_mux);
	assert_int_equal(m->attr_count, 13);
	assert_int_equal(m->line_count, 1);
	assert_int_equal(s->lines[m->line_first].type, 'b');
	assert_slice(s->lines[m->line_first].value, "TIAS:64000", "b=");
	const struct sdp_attr *a = sdp_attr_next(s, m, "RTCP-RSIZE", NULL);
	assert_non_null(a);
	assert_null(a->value.p); /* a property attribute */
	a = sdp_attr_next(s, m, "ssrc", NULL);
	assert_slice(a->value, "1280262101 cname:a8b4c4f1", "unknown attribute kept");

	/* every rtpmap of the section, in order */
	const char *want[] = {"opus", "G722", "PCMU", "PCMA", "telephone-event"};
	const uint32_t clocks[] = {48000, 8000, 8000, 8000, 8000};
	size_t k = 0;
	a = NULL;
	while ((a = sdp_attr_next(s, m, "rtpmap", a)) != NULL) {
		struct sdp_rtpmap rm;
		assert_true(k < ARRAY_LEN(want));
		assert_int_equal(sdp_rtpmap_parse(&rm, a->value), 0);
		assert_slice(rm.encoding, want[k], "rtpmap encoding");
		assert_int_equal(rm.clock_rate, clocks[k]);
		assert_int_equal(rm.channels, k == 0 ? 2 : 0);
		k++;
	}
	assert_int_equal(k, ARRAY_LEN(want));
	assert_null(sdp_attr_next(s, NULL, "rtpmap", NULL));

	struct str rest = m->fmts, fmt;
	const char *fmts[] = {"96", "9", "0", "8", "101"};
	k = 0;
	while (sdp_fmt_next(&rest, &fmt))
		assert_slice(fmt, fmts[k++], "format");
	assert_int_equal(k, 5);

	/* multicast c=, m= port count, session and media kept lines */
	assert_int_equal(parse(s, parse_vectors[3].text), 0);
	assert_slice(s->conn.addr, "224.2.17.12", "multicast address");
	assert_slice(s->conn.suffix, "/127", "ttl");
	assert_int_equal(s->line_count, 8);
	assert_int_equal(s->media[1].port, 51372);
	assert_int_equal(s->media[1].port_count, 2);
	assert_int_equal(s->media[1].line_count, 2);
	assert_int_equal(sdp_media_dir(s, &s->media[1]), SDP_DIR_RECVONLY);

	/* IPv6: the second stream has no c= of its own, nor a direction */
	assert_int_equal(parse(s, parse_vectors[4].text), 0);
	assert_int_equal(sdp_media_conn(s, &s->media[1])->type, SDP_ADDR_IP6);
	assert_slice(sdp_media_conn(s, &s->media[1])->addr, "2001:db8::1", "session c=");
	assert_int_equal(sdp_media_dir(s, &s->media[1]), SDP_DIR_SENDONLY);
	assert_slice(s->name, " ", "s= with one SP");

	/* non-RTP formats are tokens */
	assert_int_equal(parse(s, parse_vectors[5].text), 0);
	assert_false(s->media[0].rtp);
	assert_slice(s->media[0].fmts, "t38", "udptl format");
	free(s);
}

/* The canonical form: CRLF, RFC 4566 §5 order whatever the input order. */
static void test_print_canonical(void **state)
{
	const char *in = "v=0\n"
			 "o=- 1 1 IN IP4 192.0.2.1\n"
			 "t=0 0\n"
			 "a=group:x\n"
			 "s=reordered\n"
			 "b=CT:100\n"
			 "c=IN IP4 192.0.2.1\n"
			 "i=info\n"
			 "m=audio 1000/2 RTP/AVP 0 8 \n"
			 "a=rtpmap:0 PCMU/8000\n"
			 "b=AS:64\n"
			 "c=IN IP4 192.0.2.2\n"
			 "a=sendonly\n"
			 "i=media info\n";
	const char *want = "v=0\r\n"
			   "o=- 1 1 IN IP4 192.0.2.1\r\n"
			   "s=reordered\r\n"
			   "i=info\r\n"
			   "c=IN IP4 192.0.2.1\r\n"
			   "b=CT:100\r\n"
			   "t=0 0\r\n"
			   "a=group:x\r\n"
			   "m=audio 1000/2 RTP/AVP 0 8\r\n"
			   "i=media info\r\n"
			   "c=IN IP4 192.0.2.2\r\n"
			   "b=AS:64\r\n"
			   "a=rtpmap:0 PCMU/8000\r\n"
			   "a=sendonly\r\n";
	struct sdp_session *s = malloc(sizeof(*s));
	struct buf out;

	assert_non_null(s);
	buf_init(&out);
	assert_int_equal(parse(s, in), 0);
	sdp_session_print(&out, s);
	assert_string_equal(out.p, want);
	assert_round_trip(in, s);
	buf_fini(&out);
	free(s);
}

/* ---- malformed descriptions --------------------------------------------------- */

#define HEAD  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
#define AUDIO "m=audio 5000 RTP/AVP 0\r\n"

static const struct bad_vector {
	const char *why;
	const char *text;
	size_t len; /* of the literal: some carry a NUL on purpose */
} bad_vectors[] = {
#define BAD(why, text)                                                                             \
	{                                                                                          \
		why, text, sizeof(text) - 1                                                        \
	}
    BAD("empty", ""),
    BAD("only blank lines", "\r\n\r\n"),
    BAD("v=1 (RFC 4566 §5.1)", "v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"),
    BAD("does not start with v=", "o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\ns=-\r\nt=0 0\r\n"),
    BAD("v= alone", "v=0\r\n"),
    BAD("no o=", "v=0\r\ns=-\r\nt=0 0\r\n"),
    BAD("no s=", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n"),
    BAD("no t=", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"),
    BAD("no t= before m=",
	"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n" AUDIO),
    BAD("two o=", HEAD "o=- 1 1 IN IP4 192.0.2.1\r\n"),
    BAD("two s=", HEAD "s=again\r\n"),
    BAD("two session c=", HEAD "c=IN IP4 192.0.2.2\r\n"),
    BAD("two session i=", HEAD "i=a\r\ni=b\r\n"),
    BAD("two z=", HEAD "z=0 0\r\nz=0 0\r\n"),
    BAD("unknown type letter (§5: ignore the whole description)", HEAD "x=1\r\n"),
    BAD("upper-case type letter", "V=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"),
    BAD("line without =", HEAD "a\r\n"),
    BAD("line with only a type after a valid one", HEAD "a=sendrecv\r\nm\r\n"),
    BAD("leading space", " v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"),
    BAD("space before =", HEAD "a =sendrecv\r\n"),
    BAD("bare CR inside a line", HEAD "a=tool:x\ry\r\n"),
    BAD("bare CR at the end", HEAD "a=sendrecv\r"),
    BAD("NUL inside a line", HEAD "a=tool:x\0y\r\n"),
    BAD("blank line in the middle", HEAD "\r\n" AUDIO),
    BAD("o= with five fields", "v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n"),
    BAD("o= with seven fields", "v=0\r\no=- 1 1 IN IP4 a b\r\ns=-\r\nt=0 0\r\n"),
    BAD("o= sess-id not a number", "v=0\r\no=- x1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"),
    BAD("o= two spaces", "v=0\r\no=-  1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"),
    BAD("c= IP5", HEAD AUDIO "c=IN IP5 192.0.2.1\r\n"),
    BAD("c= nettype ATM", HEAD AUDIO "c=ATM NSAP 47.0091\r\n"),
    BAD("c= without address", HEAD AUDIO "c=IN IP4\r\n"),
    BAD("c= octet above 255", HEAD AUDIO "c=IN IP4 300.1.1.1\r\n"),
    BAD("c= three octets", HEAD AUDIO "c=IN IP4 10.1.1\r\n"),
    BAD("c= broken IPv6", HEAD AUDIO "c=IN IP6 2001:::1\r\n"),
    BAD("c= IPv6 literal under IP4", HEAD AUDIO "c=IN IP4 2001:db8::1\r\n"),
    BAD("c= IPv4 literal under IP6", HEAD AUDIO "c=IN IP6 192.0.2.1\r\n"),
    BAD("c= underscore in a domain", HEAD AUDIO "c=IN IP4 media_1.example.com\r\n"),
    BAD("c= TTL not a number", HEAD AUDIO "c=IN IP4 224.2.1.1/x\r\n"),
    BAD("c= three multicast suffixes", HEAD AUDIO "c=IN IP4 224.2.1.1/127/3/1\r\n"),
    BAD("c= IP6 with ttl and count", HEAD AUDIO "c=IN IP6 ff15::101/3/2\r\n"),
    BAD("c= TTL above 255", HEAD AUDIO "c=IN IP4 224.2.1.1/256\r\n"),
    BAD("c= multicast count 0", HEAD AUDIO "c=IN IP4 224.2.1.1/127/0\r\n"),
    BAD("c= empty TTL", HEAD AUDIO "c=IN IP4 224.2.1.1/\r\n"),
    BAD("two c= in one m= section", HEAD AUDIO "c=IN IP4 192.0.2.2\r\nc=IN IP4 192.0.2.3\r\n"),
    BAD("active stream with no c= anywhere",
	"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n" AUDIO),
    BAD("m= without formats", HEAD "m=audio 5000 RTP/AVP\r\n"),
    BAD("m= without proto", HEAD "m=audio 5000\r\n"),
    BAD("m= port above 65535", HEAD "m=audio 65536 RTP/AVP 0\r\n"),
    BAD("m= negative port", HEAD "m=audio -1 RTP/AVP 0\r\n"),
    BAD("m= port not a number", HEAD "m=audio 50x0 RTP/AVP 0\r\n"),
    BAD("m= port count 0", HEAD "m=audio 5000/0 RTP/AVP 0\r\n"),
    BAD("m= port count empty", HEAD "m=audio 5000/ RTP/AVP 0\r\n"),
    BAD("m= RTP payload type 128", HEAD "m=audio 5000 RTP/AVP 0 128\r\n"),
    BAD("m= RTP payload type not a number", HEAD "m=audio 5000 RTP/AVP PCMU\r\n"),
    BAD("m= two spaces between formats", HEAD "m=audio 5000 RTP/AVP 0  8\r\n"),
    BAD("m= empty token in proto", HEAD "m=audio 5000 RTP//AVP 0\r\n"),
    BAD("m= proto ends in /", HEAD "m=audio 5000 RTP/AVP/ 0\r\n"),
    BAD("m= media not a token", HEAD "m=aud:io 5000 RTP/AVP 0\r\n"),
    BAD("o= at media level", HEAD AUDIO "o=- 1 1 IN IP4 192.0.2.1\r\n"),
    BAD("s= at media level", HEAD AUDIO "s=-\r\n"),
    BAD("t= at media level", HEAD AUDIO "t=0 0\r\n"),
    BAD("u= at media level", HEAD AUDIO "u=http://example.com/\r\n"),
    BAD("v= again", HEAD "v=0\r\n"),
    BAD("two k= in one section", HEAD AUDIO "k=prompt\r\nk=prompt\r\n"),
    BAD("r= before any t=", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nr=7d 1h 0 25h\r\nt=0 0\r\n"),
    BAD("t= with one field", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0\r\n"),
    BAD("t= not numbers", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=now later\r\n"),
    BAD("t= beyond 64 bits",
	"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 18446744073709551616\r\n"),
    BAD("b= without colon", HEAD "b=AS\r\n"),
    BAD("b= bandwidth not a number", HEAD "b=AS:lots\r\n"),
    BAD("b= empty type", HEAD "b=:64\r\n"),
    BAD("a= empty", HEAD AUDIO "a=\r\n"),
    BAD("a= empty name", HEAD AUDIO "a=:foo\r\n"),
    BAD("a= space in name", HEAD AUDIO "a=send recv\r\n"),
    BAD("rtpmap without value", HEAD AUDIO "a=rtpmap\r\n"),
    BAD("rtpmap payload type 200", HEAD AUDIO "a=rtpmap:200 PCMU/8000\r\n"),
    BAD("rtpmap without clock", HEAD AUDIO "a=rtpmap:0 PCMU\r\n"),
    BAD("rtpmap clock 0", HEAD AUDIO "a=rtpmap:0 PCMU/0\r\n"),
    BAD("rtpmap clock beyond 32 bits", HEAD AUDIO "a=rtpmap:0 PCMU/4294967296\r\n"),
    BAD("rtpmap 0 channels", HEAD AUDIO "a=rtpmap:0 PCMU/8000/0\r\n"),
    BAD("rtpmap channels not a number", HEAD AUDIO "a=rtpmap:0 PCMU/8000/two\r\n"),
    BAD("rtpmap empty encoding", HEAD AUDIO "a=rtpmap:0 /8000\r\n"),
    BAD("rtpmap two spaces", HEAD AUDIO "a=rtpmap:0  PCMU/8000\r\n"),
    BAD("fmtp without value", HEAD AUDIO "a=fmtp\r\n"),
    BAD("fmtp with an empty format", HEAD AUDIO "a=fmtp: 0-15\r\n"),
    BAD("ptime 0", HEAD AUDIO "a=ptime:0\r\n"),
    BAD("ptime not a number", HEAD AUDIO "a=ptime:twenty\r\n"),
    BAD("ptime beyond range", HEAD AUDIO "a=ptime:10001\r\n"),
    BAD("ptime bad fraction", HEAD AUDIO "a=ptime:20.x\r\n"),
    BAD("two different ptimes", HEAD AUDIO "a=ptime:20\r\na=ptime:30\r\n"),
    BAD("maxptime 0", HEAD AUDIO "a=maxptime:0\r\n"),
    BAD("sendonly and recvonly in one section (RFC 3264 §5.1)",
	HEAD AUDIO "a=sendonly\r\na=recvonly\r\n"),
    BAD("two session directions", HEAD "a=sendrecv\r\na=inactive\r\n" AUDIO),
    BAD("direction with a value", HEAD AUDIO "a=sendrecv:yes\r\n"),
    BAD("rtcp port above 65535 (RFC 3605)", HEAD AUDIO "a=rtcp:70000\r\n"),
    BAD("rtcp address incomplete", HEAD AUDIO "a=rtcp:5001 IN IP4\r\n"),
    BAD("rtcp bad address", HEAD AUDIO "a=rtcp:5001 IN IP4 1.2.3.400\r\n"),
    BAD("two different rtcp ports", HEAD AUDIO "a=rtcp:5001\r\na=rtcp:5003\r\n"),
    BAD("rtcp-mux with a value (RFC 5761)", HEAD AUDIO "a=rtcp-mux:1\r\n"),
};

static void test_malformed(void **state)
{
	struct sdp_session *s = malloc(sizeof(*s));
	assert_non_null(s);
	for (size_t i = 0; i < ARRAY_LEN(bad_vectors); i++) {
		const struct bad_vector *v = &bad_vectors[i];
		int r = sdp_session_parse(s, v->text, v->len);
		if (r != -EBADMSG)
			fail_msg("%s: returned %d, want -EBADMSG", v->why, r);
	}
	free(s);
}

/* Every vector is one line away from a valid description: check that the
 * valid neighbour of a few of them parses, so a vector cannot fail for a
 * reason other than its own. */
static void test_malformed_neighbours(void **state)
{
	struct sdp_session *s = malloc(sizeof(*s));
	assert_non_null(s);
	assert_int_equal(parse(s, HEAD AUDIO), 0);
	assert_int_equal(parse(s, HEAD AUDIO "c=IN IP4 192.0.2.2\r\n"), 0);
	assert_int_equal(parse(s, HEAD AUDIO "a=ptime:20\r\na=ptime:20\r\n"), 0);
	assert_int_equal(parse(s, HEAD AUDIO "a=rtcp:5001 IN IP4 192.0.2.1\r\n"), 0);
	assert_int_equal(parse(s, HEAD AUDIO "a=rtpmap:0 PCMU/8000/1\r\n"), 0);
	assert_int_equal(parse(s, HEAD AUDIO "a=fmtp:0\r\n"), 0);
	assert_int_equal(parse(s, HEAD "m=audio 5000/2 RTP/AVP 0 127\r\n"), 0);
	assert_int_equal(parse(s, HEAD AUDIO "c=IN IP6 ff15::101/3\r\n"), 0);
	assert_int_equal(parse(s, HEAD AUDIO "c=IN IP4 224.2.1.1/127/3\r\n"), 0);
	assert_int_equal(parse(s, "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nr=7d 1h 0 "
				  "25h\r\n"),
			 0);
	assert_int_equal(sdp_session_parse(NULL, "v=0", 3), -EINVAL);
	assert_int_equal(sdp_session_parse(s, NULL, 3), -EINVAL);
	free(s);
}

/* Limits: at most SDP_MAX_MEDIA sections, SDP_MAX_ATTRS attributes, SDP_MAX_LINES lines. */
static void test_limits(void **state)
{
	struct sdp_session *s = malloc(sizeof(*s));
	struct buf b;

	assert_non_null(s);
	for (int over = 0; over <= 1; over++) {
		buf_init(&b);
		buf_append_cstr(&b, HEAD);
		for (int i = 0; i < SDP_MAX_MEDIA + over; i++)
			buf_printf(&b, "m=audio %d RTP/AVP 0\r\n", 5000 + 2 * i);
		assert_int_equal(sdp_session_parse(s, b.p, b.len), over ? -EBADMSG : 0);
		buf_fini(&b);

		buf_init(&b);
		buf_append_cstr(&b, HEAD AUDIO);
		for (int i = 0; i < SDP_MAX_ATTRS + over; i++)
			buf_printf(&b, "a=x-%d\r\n", i);
		assert_int_equal(sdp_session_parse(s, b.p, b.len), over ? -EBADMSG : 0);
		buf_fini(&b);

		buf_init(&b);
		buf_append_cstr(&b, HEAD); /* HEAD's t= is one kept line */
		for (int i = 1; i < SDP_MAX_LINES + over; i++)
			buf_printf(&b, "b=X%d:%d\r\n", i, i);
		assert_int_equal(sdp_session_parse(s, b.p, b.len), over ? -EBADMSG : 0);
		buf_fini(&b);
	}
	free(s);
}

/* A text that is cut anywhere either parses or fails with -EBADMSG, and the
 * parser never reads past what it was given (ASan checks the exact copy). */
static void test_truncations(void **state)
{
	const char *full = parse_vectors[2].text;
	struct sdp_session *s = malloc(sizeof(*s));
	size_t n = strlen(full), ok = 0;

	assert_non_null(s);
	for (size_t len = 0; len <= n; len++) {
		char *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, full, len);
		int r = sdp_session_parse(s, copy, len);
		if (r != 0 && r != -EBADMSG)
			fail_msg("cut at %zu: %d", len, r);
		ok += r == 0;
		free(copy);
	}
	assert_true(ok > 10); /* cutting at a line end leaves a valid description */
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_vectors),	 cmocka_unit_test(test_parse_fields),
	    cmocka_unit_test(test_print_canonical),	 cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_malformed_neighbours), cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
