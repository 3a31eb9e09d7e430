/*
 * RTCP compound packets (RFC 3550 §6): SR and RR with reception report
 * blocks (§6.4), SDES CNAME (§6.5.1), BYE (§6.6).
 *
 * Pure and defensive: the parser reads only inside the datagram, checks the
 * A.2 rules that keep it from misreading (version, lengths that add up,
 * padding only at the end, block counts that fit), and skips packet types
 * it does not use (APP, RTPFB, PSFB, XR). It does not insist that the
 * compound begins with SR or RR, so reduced-size RTCP (RFC 5506) is read too.
 */
#include "media_int.h"

#include <errno.h>
#include <string.h>

enum {
	BLOCK_LEN = 24,
	SENDER_INFO_LEN = 20,
	SDES_CNAME = 1,
};

static void block_parse(struct media__rtcp_block *b, const uint8_t *p)
{
	b->ssrc = rd32(p);
	b->fraction = p[4];
	uint32_t lost = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	/* a signed 24-bit count: sign-extend */
	b->lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
	b->ext_max_seq = rd32(p + 8);
	b->jitter = rd32(p + 12);
	b->lsr = rd32(p + 16);
	b->dlsr = rd32(p + 20);
}

static void blocks_scan(struct media__rtcp_info *out, const uint8_t *p, unsigned count,
			uint32_t about)
{
	for (unsigned i = 0; i < count; i++, p += BLOCK_LEN) {
		if (rd32(p) == about) {
			block_parse(&out->block, p);
			out->has_block = true;
		}
	}
}

int media__rtcp_parse(struct media__rtcp_info *out, const uint8_t *p, size_t len, uint32_t about)
{
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return -EBADMSG;
	bool have_sender = false;
	size_t off = 0;
	while (off < len) {
		if (len - off < 4 || (p[off] >> 6) != MEDIA__RTP_VERSION)
			return -EBADMSG;
		bool padded = p[off] & 0x20;
		unsigned count = p[off] & 0x1f;
		uint8_t type = p[off + 1];
		size_t plen = ((size_t)rd16(p + off + 2) + 1) * 4;
		if (plen > len - off)
			return -EBADMSG;
		const uint8_t *body = p + off + 4;
		size_t blen = plen - 4;
		if (padded) {
			if (off + plen != len || blen == 0)
				return -EBADMSG; /* padding only on the last packet */
			uint8_t pad = body[blen - 1];
			if (pad == 0 || pad > blen)
				return -EBADMSG;
			blen -= pad;
		}
		switch (type) {
		case MEDIA__RTCP_SR:
			if (blen < 4 + SENDER_INFO_LEN + (size_t)count * BLOCK_LEN)
				return -EBADMSG;
			if (!have_sender) {
				have_sender = true;
				out->ssrc = rd32(body);
				out->has_sr = true;
				out->sr.ntp = (uint64_t)rd32(body + 4) << 32 | rd32(body + 8);
				out->sr.rtp_ts = rd32(body + 12);
				out->sr.packets = rd32(body + 16);
				out->sr.octets = rd32(body + 20);
			}
			blocks_scan(out, body + 4 + SENDER_INFO_LEN, count, about);
			break;
		case MEDIA__RTCP_RR:
			if (blen < 4 + (size_t)count * BLOCK_LEN)
				return -EBADMSG;
			if (!have_sender) {
				have_sender = true;
				out->ssrc = rd32(body);
			}
			blocks_scan(out, body + 4, count, about);
			break;
		case MEDIA__RTCP_BYE:
			if (blen < (size_t)count * 4)
				return -EBADMSG;
			out->bye = true;
			break;
		default:
			break; /* SDES, APP, feedback, XR: nothing this side acts on */
		}
		out->packets++;
		off += plen;
	}
	return 0;
}

static void block_print(uint8_t *p, const struct media__rtcp_block *b)
{
	int32_t lost = b->lost;
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	uint32_t l24 = (uint32_t)lost & 0xffffff;
	wr32(p, b->ssrc);
	wr32(p + 4, (uint32_t)b->fraction << 24 | l24);
	wr32(p + 8, b->ext_max_seq);
	wr32(p + 12, b->jitter);
	wr32(p + 16, b->lsr);
	wr32(p + 20, b->dlsr);
}

static void header_print(uint8_t *p, unsigned count, uint8_t type, size_t plen)
{
	p[0] = (uint8_t)(MEDIA__RTP_VERSION << 6 | count);
	p[1] = type;
	wr16(p + 2, (uint16_t)(plen / 4 - 1));
}

size_t media__rtcp_print(uint8_t *dst, size_t cap, const struct media__rtcp_report *r)
{
	size_t cname_len = r->cname.len > 255 ? 255 : r->cname.len;
	unsigned nblocks = r->has_block ? 1 : 0;
	size_t report_len = 8 + (r->sr ? SENDER_INFO_LEN : 0) + nblocks * BLOCK_LEN;
	/* SDES: header, SSRC, CNAME item (type, length, text), then at least one
	 * null octet ending the item list, padded to a 32-bit boundary (§6.5). */
	size_t sdes_len = (4 + 4 + 2 + cname_len + 1 + 3) & ~(size_t)3;
	size_t bye_len = r->bye ? 8 : 0;
	size_t total = report_len + sdes_len + bye_len;
	if (total > cap)
		return 0;

	uint8_t *p = dst;
	header_print(p, nblocks, r->sr ? MEDIA__RTCP_SR : MEDIA__RTCP_RR, report_len);
	wr32(p + 4, r->ssrc);
	p += 8;
	if (r->sr) {
		wr32(p, (uint32_t)(r->sender.ntp >> 32));
		wr32(p + 4, (uint32_t)r->sender.ntp);
		wr32(p + 8, r->sender.rtp_ts);
		wr32(p + 12, r->sender.packets);
		wr32(p + 16, r->sender.octets);
		p += SENDER_INFO_LEN;
	}
	if (nblocks) {
		block_print(p, &r->block);
		p += BLOCK_LEN;
	}

	memset(p, 0, sdes_len);
	header_print(p, 1, MEDIA__RTCP_SDES, sdes_len);
	wr32(p + 4, r->ssrc);
	p[8] = SDES_CNAME;
	p[9] = (uint8_t)cname_len;
	if (cname_len)
		memcpy(p + 10, r->cname.p, cname_len);
	p += sdes_len;

	if (r->bye) {
		header_print(p, 1, MEDIA__RTCP_BYE, bye_len);
		wr32(p + 4, r->ssrc);
		p += bye_len;
	}
	return (size_t)(p - dst);
}
