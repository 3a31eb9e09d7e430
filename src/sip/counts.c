/*
 * The UA's message counters: what it received (parsed messages, counted in
 * ua_recv_cb) and what it sent (bytes, counted where they go to the
 * transport, retransmissions included). Sent messages are irisx's own, so
 * their start line and CSeq are found with a short scan instead of a parse.
 */
#include "sip_ua_int.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static uint32_t count_key(bool out, enum sip_method method, uint16_t status)
{
	return ((uint32_t)out << 24 | (uint32_t)method << 16 | status) + 1;
}

void sip__ua_count(struct sip_ua *ua, bool out, enum sip_method method, uint16_t status)
{
	uint32_t key = count_key(out, method, status);
	size_t i = (key * 2654435761u) % SIP_COUNT_SLOTS;
	for (size_t n = 0; n < SIP_COUNT_SLOTS; n++, i = (i + 1) % SIP_COUNT_SLOTS) {
		if (ua->counts[i].key == key) {
			ua->counts[i].count++;
			return;
		}
		if (ua->counts[i].key == 0) {
			ua->counts[i].key = key;
			ua->counts[i].count = 1;
			return;
		}
	}
	ua->counts_overflow++;
}

void sip__ua_count_sent(struct sip_ua *ua, const char *data, size_t len)
{
	enum sip_method method;
	uint16_t status;
	if (sip_msg_peek(data, len, &method, &status) == 0)
		sip__ua_count(ua, true, method, status);
}

uint64_t sip_ua_counts_each(const struct sip_ua *ua,
			    void (*cb)(void *arg, const struct sip_msg_count *c), void *arg)
{
	for (size_t i = 0; i < SIP_COUNT_SLOTS; i++) {
		uint32_t key = ua->counts[i].key;
		if (!key)
			continue;
		key--;
		struct sip_msg_count c = {
		    .out = key >> 24,
		    .method = (enum sip_method)((key >> 16) & 0xff),
		    .status = (uint16_t)(key & 0xffff),
		    .count = ua->counts[i].count,
		};
		cb(arg, &c);
	}
	return ua->counts_overflow;
}

/* The first token of `s` (up to a blank), advancing nothing. */
static struct str first_token(const char *p, const char *end)
{
	const char *q = p;
	while (q < end && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
		q++;
	return str_make(p, (size_t)(q - p));
}

int sip_msg_peek(const char *data, size_t len, enum sip_method *method, uint16_t *status)
{
	const char *end = data + len;
	if (len >= 4 && memcmp(data, "SIP/", 4) == 0) {
		if (len < 12 || memcmp(data, "SIP/2.0 ", 8) != 0)
			return -EBADMSG;
		uint16_t st = 0;
		for (size_t i = 8; i < 11; i++) {
			if (data[i] < '0' || data[i] > '9')
				return -EBADMSG;
			st = (uint16_t)(st * 10 + (data[i] - '0'));
		}
		if (st < 100 || st > 699)
			return -EBADMSG;
		/* The method is the CSeq's (RFC 3261 §8.1.3.1): find that header. */
		for (const char *p = data; p && p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				break;
			p = nl + 1;
			if ((size_t)(end - p) > 5 && strncasecmp(p, "CSeq", 4) == 0) {
				const char *q = p + 4;
				while (q < end && (*q == ' ' || *q == '\t'))
					q++;
				if (q >= end || *q != ':')
					continue;
				q++;
				while (q < end && (*q == ' ' || *q == '\t'))
					q++;
				while (q < end && *q >= '0' && *q <= '9')
					q++;
				while (q < end && (*q == ' ' || *q == '\t'))
					q++;
				struct str m = first_token(q, end);
				if (!m.len)
					return -EBADMSG;
				*method = sip_method_parse(m);
				*status = st;
				return 0;
			}
			if (*p == '\r' || *p == '\n')
				break; /* end of the headers */
		}
		return -EBADMSG;
	}
	struct str m = first_token(data, end);
	if (!m.len || m.len == len || data[m.len] != ' ')
		return -EBADMSG;
	*method = sip_method_parse(m);
	*status = 0;
	return 0;
}
