/*
 * Reception statistics of one RTP source (RFC 3550 appendix A): extended
 * sequence numbers across wraps (A.1), cumulative and interval loss (A.3)
 * and interarrival jitter (A.8), which fill the RR/SR report blocks.
 *
 * A.1's probation is left out: the stream only takes packets from the
 * address it latched onto (symmetric RTP), and a trunk's first packets are
 * audio the caller should hear. Its protection against a sender that
 * restarts with a far-away sequence number is kept: one such packet is
 * dropped, the next in sequence after it restarts the count.
 */
#include "media_int.h"

enum {
	SEQ_MOD = 1 << 16,
	MAX_DROPOUT = 3000,
	MAX_MISORDER = 100,
};

static void reset(struct media__rx *rx, uint16_t seq)
{
	rx->base_seq = seq;
	rx->max_seq = seq;
	rx->bad_seq = SEQ_MOD + 1; /* no sequence number equals this */
	rx->cycles = 0;
	rx->received = 0;
	rx->received_prior = 0;
	rx->expected_prior = 0;
}

void media__rx_init(struct media__rx *rx, uint16_t seq)
{
	reset(rx, seq);
	rx->received = 1;
	rx->transit = 0;
	rx->jitter = 0;
	rx->have_transit = false;
}

bool media__rx_update(struct media__rx *rx, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - rx->max_seq);
	if (udelta < MAX_DROPOUT) {
		/* in order, with a gap we accept */
		if (seq < rx->max_seq)
			rx->cycles += SEQ_MOD; /* wrapped */
		rx->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		/* a very large jump */
		if (seq != rx->bad_seq) {
			rx->bad_seq = (uint32_t)((seq + 1) & (SEQ_MOD - 1));
			return false;
		}
		/* two packets in sequence after the jump: the sender restarted */
		reset(rx, seq);
	}
	/* else: a duplicate or a packet reordered by less than MAX_MISORDER */
	rx->received++;
	return true;
}

void media__rx_jitter(struct media__rx *rx, uint32_t ts, uint32_t arrival)
{
	uint32_t transit = arrival - ts;
	if (rx->have_transit) {
		int32_t d = (int32_t)(transit - rx->transit);
		uint32_t ad = d < 0 ? (uint32_t) - (int64_t)d : (uint32_t)d;
		/* J += (|D| - J) / 16, kept scaled by 16 to stay in integers */
		rx->jitter += ad - ((rx->jitter + 8) >> 4);
	}
	rx->transit = transit;
	rx->have_transit = true;
}

uint32_t media__rx_ext_max(const struct media__rx *rx)
{
	return rx->cycles + rx->max_seq;
}

int64_t media__rx_lost(const struct media__rx *rx)
{
	int64_t expected = (int64_t)media__rx_ext_max(rx) - rx->base_seq + 1;
	return expected - rx->received;
}

uint32_t media__rx_jitter_units(const struct media__rx *rx)
{
	return rx->jitter >> 4;
}

void media__rx_report(struct media__rx *rx, struct media__rtcp_block *b)
{
	uint32_t expected = media__rx_ext_max(rx) - rx->base_seq + 1;
	uint32_t expected_interval = expected - rx->expected_prior;
	uint32_t received_interval = rx->received - rx->received_prior;
	int64_t lost_interval = (int64_t)expected_interval - received_interval;
	rx->expected_prior = expected;
	rx->received_prior = rx->received;

	int64_t lost = media__rx_lost(rx);
	b->lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : (int32_t)lost;
	b->fraction = (expected_interval == 0 || lost_interval <= 0)
			  ? 0
			  : (uint8_t)(lost_interval >= expected_interval
					  ? 255
					  : (lost_interval << 8) / expected_interval);
	b->ext_max_seq = media__rx_ext_max(rx);
	b->jitter = media__rx_jitter_units(rx);
}
