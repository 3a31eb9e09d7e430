/*
 * bench_sip_parse — how many typical trunk INVITEs (~800 octets with an SDP
 * body) one core parses per second.
 *
 *   bench_sip_parse [N]     N messages per run (default 2,000,000)
 *
 * Three runs: parse alone; parse and read what a transaction and a dialog
 * read first (top Via branch, From tag, To, Call-ID, CSeq), so that the
 * eager fields are known to be real; and parse plus the lazy pieces a call
 * set-up needs (Contact, Record-Route, Supported list). Each run stops after
 * N messages or 30 seconds, whichever comes first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sip/sip.h"

static const char invite[] =
    "INVITE sip:+14155550123@203.0.113.10:5060;transport=udp SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 54.172.60.1:5060;branch=z9hG4bK8a7f.b6c9d1e2f3a4b5c6;rport\r\n"
    "Record-Route: <sip:54.172.60.1:5060;lr>\r\n"
    "Max-Forwards: 69\r\n"
    "From: \"+12125550199\" <sip:+12125550199@pstn.twilio.com>;tag=98765432_6772d868\r\n"
    "To: <sip:+14155550123@203.0.113.10>\r\n"
    "Call-ID: 7b8f2c1e4d3a9b6c5e4f3a2b1c0d9e8f@0.0.0.0\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:+12125550199@54.172.60.1:5060;transport=udp>\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY\r\n"
    "Supported: timer, replaces\r\n"
    "User-Agent: Twilio Gateway\r\n"
    "X-Twilio-CallSid: CA0123456789abcdef0123456789abcdef\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 203\r\n"
    "\r\n"
    "v=0\r\n"
    "o=root 1234567890 1234567890 IN IP4 54.172.60.1\r\n"
    "s=-\r\n"
    "c=IN IP4 54.172.60.1\r\n"
    "t=0 0\r\n"
    "m=audio 16384 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=sendrecv\r\n";

enum mode { PARSE, PARSE_EAGER, PARSE_LAZY };

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads fields so that the compiler cannot drop the work; returns a checksum. */
static size_t touch(const struct sip_msg *m, enum mode mode)
{
	size_t sum = 0;

	if (mode == PARSE)
		return m->hdr_count;
	sum += m->via.branch.len + m->from.tag.len + m->to.uri.host.len + m->call_id.len +
	       m->cseq.num + (size_t)m->via.branch.p[m->via.branch.len - 1] +
	       (size_t)m->from.tag.p[0];
	if (mode == PARSE_LAZY) {
		struct sip_addr a;
		const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTACT);
		if (h && sip_addr_parse(&a, h->value, NULL) == 0)
			sum += a.uri.host.len + a.uri.port;
		for (h = sip_msg_hdr(m, SIP_HDR_RECORD_ROUTE); h; h = sip_msg_hdr_next(m, h)) {
			struct str rest = h->value;
			while (rest.len && sip_addr_parse(&a, rest, &rest) == 0)
				sum += a.uri.params.len;
		}
		h = sip_msg_hdr(m, SIP_HDR_SUPPORTED);
		if (h) {
			struct str list = h->value, item;
			while (sip_list_next(&list, &item))
				sum += item.len;
		}
	}
	return sum;
}

static int run(const char *name, enum mode mode, long n)
{
	size_t len = sizeof(invite) - 1, sum = 0;
	long done = 0;
	double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);

	while (done < n) {
		struct sip_msg *m;
		if (sip_msg_parse(&m, invite, len) != 0) {
			fprintf(stderr, "the benchmark message does not parse\n");
			return 1;
		}
		sum += touch(m, mode);
		sip_msg_unref(m);
		/* bounded in time as well as in count */
		if ((++done & 0xffff) == 0 && clock_s(CLOCK_MONOTONIC) - w0 > 30.0)
			break;
	}
	/* CPU time is the figure: on a shared machine wall time also counts the
	 * time other processes held the core */
	double cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0, wall = clock_s(CLOCK_MONOTONIC) - w0;
	printf("%s: %ld msgs in %.3f s = %.0f msgs/s (%.0f ns/msg; wall %.3f s; %zu-octet "
	       "INVITE; checksum %zu)\n",
	       name, done, cpu, (double)done / cpu, cpu * 1e9 / (double)done, wall, len,
	       sum);
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;

	if (n <= 0) {
		fprintf(stderr, "usage: %s [N]\n", argv[0]);
		return 2;
	}
	return run("parse", PARSE, n) || run("parse+via/from/to/cseq", PARSE_EAGER, n) ||
	       run("parse+contact/record-route/supported", PARSE_LAZY, n);
}
