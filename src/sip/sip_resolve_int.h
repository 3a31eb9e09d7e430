/*
 * sip_resolve_int.h — the pieces of resolve.c (RFC 3263 server location)
 * that tests reach directly: reading DNS answers (RFC 1035 §4.1, SRV per
 * RFC 2782), ordering SRV records, and pointing the DNS queries at a chosen
 * nameserver. Nothing outside src/sip and its tests may include it.
 *
 * The readers are pure: bytes in, records out, never reading outside [msg,
 * msg + len), whatever the packet says (compression pointers included).
 */
#ifndef IRISX_SIP_RESOLVE_INT_H
#define IRISX_SIP_RESOLVE_INT_H

#include "sip.h"

/* A dotted name and its NUL: RFC 1035 §2.3.4 allows 255 octets on the wire. */
enum { SIP_DNS_NAME_MAX = 256 };
enum { SIP_DNS_TYPE_A = 1, SIP_DNS_TYPE_AAAA = 28, SIP_DNS_TYPE_SRV = 33 };

struct sip_srv {
	uint16_t priority, weight, port;
	char target[SIP_DNS_NAME_MAX]; /* dotted, without the final '.' */
};

/*
 * The SRV records (class IN) of the answer section of a DNS response, in
 * the order found, up to `max` (more are ignored). A record whose target is
 * not a host name (octets other than letters, digits, '-', '_') or whose
 * port is 0 is skipped. Returns the count (> 0), -ENOENT for NXDOMAIN or no
 * usable record, -ECONNREFUSED when the only records say "." (RFC 2782: the
 * service is decidedly not available there), -EIO for another error rcode,
 * -EBADMSG for a malformed packet: truncated, a record running past the end,
 * a compression pointer that does not point strictly before the name it
 * continues (which rules out loops), a reserved label type, or a name over
 * 255 octets.
 */
int sip__dns_srv_parse(const unsigned char *msg, size_t len, struct sip_srv *out, size_t max);

/*
 * The addresses of the A (`type` SIP_DNS_TYPE_A) or AAAA records of the
 * answer section, each with `port`, up to `max`. Returns the count (> 0),
 * -ENOENT (NXDOMAIN or none), -EIO, or -EBADMSG as above (an A record whose
 * data is not 4 octets, an AAAA not 16, is malformed).
 */
int sip__dns_addr_parse(const unsigned char *msg, size_t len, int type, uint16_t port,
			struct net_addr *out, size_t max);

/*
 * Orders SRV records as RFC 2782 says a client tries them: lowest priority
 * first; within a priority, a weighted random draw (records of weight 0
 * first in the list each draw is made from, so they are seldom chosen while
 * others remain). `rand_cb` returns uniform 32-bit values.
 */
void sip__srv_order(struct sip_srv *srv, size_t n, uint32_t (*rand_cb)(void *arg), void *arg);

/*
 * Sends every DNS query of later lookups (SRV, and A/AAAA too instead of
 * getaddrinfo) to `ns`, an IPv4 address and port, instead of the system's
 * resolvers; NULL goes back to the system. Lookups read it when they start.
 * Meant for tests, which run their own DNS server on loopback: call it on
 * the loop's thread while no lookup is starting. -EAFNOSUPPORT for IPv6.
 */
int sip__resolve_set_nameserver(const struct net_addr *ns);

#endif
