/*
 * libFuzzer target for SDP: parse, print, re-parse, accessors, and the
 * offer/answer functions with fixed local descriptions (IPv4 and IPv6).
 *
 * Besides "no crash, no leak, no undefined behaviour", it aborts when an
 * invariant breaks:
 *  - a description that parses prints to one that parses, and printing that
 *    gives the same bytes (print ∘ parse is a fixed point);
 *  - parse fails only with -EBADMSG;
 *  - an answer we produce parses, has one m= per offered m=, and a rejected
 *    line keeps the offered formats with port 0 (RFC 3264 §6);
 *  - offer/answer fails only with -ENOTSUP, and then leaves the buffer alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum sdp_codec codecs[] = {SDP_CODEC_PCMU, SDP_CODEC_OPUS, SDP_CODEC_G722,
					SDP_CODEC_PCMA};

/* One allocation per input for the three sessions (they are a few KiB each). */
struct work {
	struct sdp_session in, again, answer;
};

static void accessors(const struct sdp_session *s)
{
	for (size_t i = 0; i < s->media_count; i++) {
		const struct sdp_media *m = &s->media[i];
		const struct sdp_attr *a = NULL;
		struct sdp_rtpmap rm;
		struct str rest = m->fmts, fmt;
		size_t n = 0;

		while (sdp_fmt_next(&rest, &fmt))
			n++;
		if (n != m->fmt_count)
			abort();
		while ((a = sdp_attr_next(s, m, "rtpmap", a)) != NULL)
			if (sdp_rtpmap_parse(&rm, a->value) != 0)
				abort(); /* the parser validated every rtpmap */
		(void)sdp_media_conn(s, m);
		(void)sdp_media_dir(s, m);
	}
}

static void negotiate(struct work *w, const char *addr)
{
	struct sdp_local l = {
	    .addr = addr,
	    .port = 4000,
	    .codecs = codecs,
	    .codec_count = ARRAY_LEN(codecs),
	    .ptime_ms = 20,
	    .telephone_event = true,
	    .session_id = 1,
	    .session_version = 2,
	};
	struct sdp_result res;
	struct buf b;

	buf_init(&b);
	int r = sdp_answer(&w->in, &l, &res, &b);
	if (r != 0) {
		if (r != -ENOTSUP || b.len != 0)
			abort();
	} else {
		if (sdp_session_parse(&w->answer, b.p, b.len) != 0 ||
		    w->answer.media_count != w->in.media_count ||
		    res.media_index >= w->in.media_count)
			abort();
		for (size_t i = 0; i < w->in.media_count; i++) {
			const struct sdp_media *am = &w->answer.media[i], *om = &w->in.media[i];
			if (i == res.media_index)
				continue;
			if (am->port != 0 || !str_eq(am->fmts, om->fmts))
				abort();
		}
		/* the answer read back as an answer to an offer of ours: only
		 * when it has one m= line, since ours has one */
		struct sdp_result back;
		r = sdp_answer_process(&w->answer, &l, &back);
		if (w->in.media_count == 1 && (r != 0 || back.codec != res.codec))
			abort();
		if (sdp_result_diff(&res, &res) != 0)
			abort();
	}
	buf_fini(&b);

	/* the input as an answer to our offer */
	r = sdp_answer_process(&w->in, &l, &res);
	if (r != 0 && r != -ENOTSUP && r != -EBADMSG)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct work *w = malloc(sizeof(*w));
	struct buf p1, p2;

	if (!w)
		return 0;
	int r = sdp_session_parse(&w->in, (const char *)data, size);
	if (r != 0) {
		if (r != -EBADMSG)
			abort();
		free(w);
		return 0;
	}
	accessors(&w->in);

	buf_init(&p1);
	buf_init(&p2);
	sdp_session_print(&p1, &w->in);
	if (sdp_session_parse(&w->again, p1.p, p1.len) != 0)
		abort(); /* the canonical form of a valid description must parse */
	sdp_session_print(&p2, &w->again);
	if (p1.len != p2.len || memcmp(p1.p, p2.p, p1.len) != 0)
		abort(); /* and be a fixed point */
	if (w->again.media_count != w->in.media_count || w->again.attr_total != w->in.attr_total)
		abort();
	buf_fini(&p1);
	buf_fini(&p2);

	negotiate(w, "192.0.2.1");
	negotiate(w, "2001:db8::1");
	free(w);
	return 0;
}
