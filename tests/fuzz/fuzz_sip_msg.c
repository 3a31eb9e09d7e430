/*
 * libFuzzer target for SIP messages: framing, parsing, the UAS checks, every
 * header piece parser on every header, printing and re-parsing.
 *
 * Besides "no crash, no leak", it checks two invariants and aborts when one
 * breaks: a message that parses prints to a form that parses again, and
 * that form is a fixed point of print ∘ parse; sip_msg_frame never
 * reports a message longer than its input, and resuming it (as a TCP
 * connection does) gives the answer of one look at everything.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pieces(const struct sip_msg *m)
{
	for (size_t i = 0; i < m->hdr_count; i++) {
		const struct sip_hdr *h = &m->hdrs[i];
		struct str rest, item, v;
		struct sip_via via;
		struct sip_addr addr;
		struct sip_cseq cseq;
		struct sip_uri uri;

		switch (h->id) {
		case SIP_HDR_VIA:
			rest = h->value;
			while (rest.len && sip_via_parse(&via, rest, &rest) == 0)
				;
			break;
		case SIP_HDR_FROM:
		case SIP_HDR_TO:
		case SIP_HDR_CONTACT:
		case SIP_HDR_ROUTE:
		case SIP_HDR_RECORD_ROUTE:
		case SIP_HDR_REFER_TO:
		case SIP_HDR_REFERRED_BY:
		case SIP_HDR_P_ASSERTED_IDENTITY:
		case SIP_HDR_REMOTE_PARTY_ID:
			rest = h->value;
			while (rest.len && sip_addr_parse(&addr, rest, &rest) == 0)
				sip_param_get(addr.uri.params, "lr", &v);
			break;
		case SIP_HDR_CSEQ:
			sip_cseq_parse(&cseq, h->value);
			break;
		default:
			break;
		}
		/* any value through every generic piece, as a careless caller would */
		sip_uri_parse(&uri, h->value);
		sip_param_get(h->value, "tag", &v);
		sip_addr_parse(&addr, h->value, NULL);
		sip_via_parse(&via, h->value, NULL);
		rest = h->value;
		while (sip_list_next(&rest, &item))
			sip_param_get(item, "q", &v);
		sip_msg_hdr_by_name(m, h->name);
		sip_msg_hdr_next(m, h);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t skip, len;

	int fr = sip_msg_frame(text, size, &skip, &len);
	if (fr == 0 && (skip > size || len > size - skip))
		abort();
	/* Resuming after a look at the first half that found no end of the
	 * headers frames exactly as one look at everything. */
	size_t half = size / 2, skip1, len1, skip2, len2;
	if (sip_msg_frame(text, half, &skip1, &len1) == -EAGAIN && len1 == 0 && skip1 < half) {
		int rr = sip_msg_frame_resume(text, size, half - skip1, &skip2, &len2);
		if (rr != fr || skip2 != skip || (fr == 0 && len2 != len))
			abort();
	}

	struct sip_msg *m = NULL;
	int r = sip_msg_parse(&m, text, size);
	if (!m)
		return 0;

	const char *reason;
	int status = sip_msg_check(m, &reason);
	pieces(m);

	struct buf out;
	buf_init(&out);
	if (m->is_request) {
		sip_response_print(&out, m, status ? (uint16_t)status : 200, reason, "fz", NULL,
				   STR("x"));
		struct sip_msg *resp = NULL;
		sip_msg_parse(&resp, out.p, out.len);
		sip_msg_unref(resp);
		buf_reset(&out);
	}

	sip_msg_print(&out, m);
	if (r == 0) {
		struct sip_msg *again = NULL;
		if (sip_msg_parse(&again, out.p, out.len) != 0)
			abort(); /* the canonical form of a valid message must parse */
		struct buf out2;
		buf_init(&out2);
		sip_msg_print(&out2, again);
		if (out2.len != out.len || memcmp(out2.p, out.p, out.len) != 0)
			abort(); /* and be a fixed point */
		if (again->hdr_count != m->hdr_count || sip_msg_check(again, NULL) != status)
			abort();
		buf_fini(&out2);
		sip_msg_unref(again);
	}
	buf_fini(&out);
	sip_msg_unref(m);
	return 0;
}
