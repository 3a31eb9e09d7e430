/*
 * libFuzzer target for what a stream reads from the network: RTP packets
 * (RFC 3550 §5.1), RFC 4733 event payloads, compound RTCP (RFC 3550 §6),
 * audio payloads through each codec's decoder, and sequence numbers through
 * the reception statistics.
 *
 * Besides "no crash, no UB, no read outside the input", it aborts when an
 * invariant breaks: a parsed RTP payload and extension lie inside the
 * datagram; the RTP header prints back to the same 12 bytes when it has no
 * CSRC, extension or padding; an RTCP report printed from what was parsed
 * parses again to the same values; a decoder writes no more samples than
 * the payload carries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rtp(const uint8_t *data, size_t size)
{
	struct media__rtp r;
	if (media__rtp_parse(&r, data, size) != 0)
		return;
	const uint8_t *end = data + size;
	if (r.payload < data + MEDIA__RTP_HDR_LEN || r.payload > end ||
	    r.payload_len > (size_t)(end - r.payload))
		abort();
	if (r.has_ext && (r.ext < data || r.ext + r.ext_len > r.payload))
		abort();
	if (!r.csrc_count && !r.has_ext && !(data[0] & 0x20)) {
		uint8_t hdr[MEDIA__RTP_HDR_LEN];
		media__rtp_print(hdr, r.marker, r.pt, r.seq, r.ts, r.ssrc);
		if (memcmp(hdr, data, sizeof(hdr)) != 0)
			abort();
	}
	struct media__te te;
	if (media__te_parse(&te, r.payload, r.payload_len) == 0 && r.payload_len < 4)
		abort();

	static const enum media_codec_id ids[] = {MEDIA_CODEC_PCMU, MEDIA_CODEC_PCMA,
						  MEDIA_CODEC_G722, MEDIA_CODEC_OPUS};
	static int16_t pcm[MEDIA__FRAME_MAX];
	enum media_codec_id id = ids[r.pt % 4];
	int n = media__codec_payload_samples(id, r.payload, r.payload_len);
	if (n < 0)
		return;
	struct media__codec dec;
	if (media__decoder_init(&dec, id) != 0)
		return;
	int got = media__codec_decode(&dec, r.payload, r.payload_len, pcm, MEDIA__FRAME_MAX);
	if (got > n)
		abort();
	media__codec_fini(&dec, false);
}

static void check_rtcp(const uint8_t *data, size_t size)
{
	uint32_t about = size >= 4 ? (uint32_t)data[size - 4] << 24 | (uint32_t)data[size - 3] << 16 |
					     (uint32_t)data[size - 2] << 8 | data[size - 1]
				   : 0;
	struct media__rtcp_info info;
	if (media__rtcp_parse(&info, data, size, about) != 0)
		return;
	if (info.packets == 0)
		abort();
	struct media__rtcp_report rep = {
		.ssrc = info.ssrc,
		.sr = info.has_sr,
		.sender = info.sr,
		.has_block = info.has_block,
		.block = info.block,
		.cname = STR("fuzz"),
		.bye = info.bye,
	};
	uint8_t buf[MEDIA__RTCP_MAX];
	size_t len = media__rtcp_print(buf, sizeof(buf), &rep);
	if (len == 0)
		abort();
	struct media__rtcp_info again;
	if (media__rtcp_parse(&again, buf, len, about) != 0)
		abort();
	if (again.ssrc != info.ssrc || again.has_sr != info.has_sr || again.bye != info.bye ||
	    again.has_block != info.has_block)
		abort();
	if (info.has_sr && memcmp(&again.sr, &info.sr, sizeof(info.sr)) != 0)
		abort();
	if (info.has_block && memcmp(&again.block, &info.block, sizeof(info.block)) != 0)
		abort();
}

static void check_rx(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	struct media__rx rx;
	media__rx_init(&rx, (uint16_t)(data[0] << 8 | data[1]));
	for (size_t i = 2; i + 1 < size; i += 2) {
		uint16_t seq = (uint16_t)(data[i] << 8 | data[i + 1]);
		media__rx_update(&rx, seq);
		media__rx_jitter(&rx, (uint32_t)seq * 160, (uint32_t)i * 160);
	}
	struct media__rtcp_block b;
	media__rx_report(&rx, &b);
	if (b.ext_max_seq != media__rx_ext_max(&rx))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_rtp(data, size);
	check_rtcp(data, size);
	if (size && data[0] == 0xff)
		check_rx(data + 1, size - 1);
	return 0;
}
