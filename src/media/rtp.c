/*
 * RTP packets (RFC 3550 §5.1, §5.3.1) and RFC 4733 telephone-event payloads.
 *
 * Pure: bytes in, struct out, slices into the datagram. The parser applies
 * the header checks of RFC 3550 A.1 that need no state (version, lengths,
 * padding); sequence and source checks belong to the stream (jitter.c).
 */
#include "media_int.h"

#include <errno.h>

bool media__rtp_is_rtcp(const uint8_t *p, size_t len)
{
	/* RFC 5761 §4: the second byte of RTCP is its packet type 192–223,
	 * which as an RTP marker + payload type is PT 64–95, never used by RTP. */
	return len >= 2 && p[1] >= 192 && p[1] <= 223;
}

int media__rtp_parse(struct media__rtp *out, const uint8_t *p, size_t len)
{
	if (len < MEDIA__RTP_HDR_LEN || (p[0] >> 6) != MEDIA__RTP_VERSION)
		return -EBADMSG;
	if (media__rtp_is_rtcp(p, len))
		return -EBADMSG;
	bool padding = p[0] & 0x20;
	out->has_ext = p[0] & 0x10;
	out->csrc_count = p[0] & 0x0f;
	out->marker = p[1] & 0x80;
	out->pt = p[1] & 0x7f;
	out->seq = rd16(p + 2);
	out->ts = rd32(p + 4);
	out->ssrc = rd32(p + 8);

	size_t off = MEDIA__RTP_HDR_LEN + 4u * out->csrc_count;
	if (off > len)
		return -EBADMSG;
	out->ext_profile = 0;
	out->ext = NULL;
	out->ext_len = 0;
	if (out->has_ext) {
		/* §5.3.1: 16 bits profile, 16 bits length in 32-bit words, then data */
		if (len - off < 4)
			return -EBADMSG;
		out->ext_profile = rd16(p + off);
		size_t words = rd16(p + off + 2);
		off += 4;
		if (words * 4 > len - off)
			return -EBADMSG;
		out->ext = p + off;
		out->ext_len = words * 4;
		off += words * 4;
	}
	size_t end = len;
	if (padding) {
		/* The last octet counts the padding octets, itself included. */
		uint8_t pad = p[len - 1];
		if (pad == 0 || pad > len - off)
			return -EBADMSG;
		end -= pad;
	}
	out->payload = p + off;
	out->payload_len = end - off;
	return 0;
}

void media__rtp_print(uint8_t dst[MEDIA__RTP_HDR_LEN], bool marker, uint8_t pt, uint16_t seq,
		      uint32_t ts, uint32_t ssrc)
{
	dst[0] = MEDIA__RTP_VERSION << 6;
	dst[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	wr16(dst + 2, seq);
	wr32(dst + 4, ts);
	wr32(dst + 8, ssrc);
}

int media__te_parse(struct media__te *out, const uint8_t *p, size_t len)
{
	/* RFC 4733 §2.3: event, E|R|volume, duration; several blocks may be
	 * concatenated (§2.5.1.5 redundancy is a separate format): the first is
	 * the event in progress. */
	if (len < 4)
		return -EBADMSG;
	out->event = p[0];
	out->end = p[1] & 0x80;
	out->volume = p[1] & 0x3f;
	out->duration = rd16(p + 2);
	return 0;
}

char media__te_digit(uint8_t event)
{
	static const char digits[16] = "0123456789*#ABCD";
	return event < 16 ? digits[event] : 0;
}
