/*
 * libFuzzer target for the DNS answers irisx reads when it locates SIP
 * servers (RFC 3263): the input is a DNS response, read for SRV records and
 * for A and AAAA addresses, and the SRV records found are put in RFC 2782
 * order.
 *
 * Besides "no crash, no leak, no undefined behaviour", it aborts when an
 * invariant breaks:
 *  - the readers return a count within the room given, or one of the
 *    documented errors;
 *  - an SRV target is a host name of at most 253 octets, with a port;
 *  - ordering keeps the same records, by ascending priority.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/sip_resolve_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t counter_rand(void *arg)
{
	uint32_t *state = arg;
	*state = *state * 1103515245u + 12345u;
	return *state;
}

static bool error_ok(int r)
{
	return r == -ENOENT || r == -EIO || r == -EBADMSG;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { MAX = 6 };
	struct sip_srv srv[MAX], copy[MAX];
	struct net_addr addrs[MAX];

	int n = sip__dns_srv_parse(data, size, srv, MAX);
	if (n <= 0 && !error_ok(n) && n != -ECONNREFUSED)
		abort();
	if (n > MAX)
		abort();
	for (int i = 0; i < n; i++) {
		size_t len = strnlen(srv[i].target, SIP_DNS_NAME_MAX);
		if (len == 0 || len > 253 || srv[i].port == 0)
			abort();
		for (size_t k = 0; k < len; k++) {
			char c = srv[i].target[k];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
				abort();
		}
	}
	if (n > 0) {
		uint32_t state = (uint32_t)size;
		memcpy(copy, srv, (size_t)n * sizeof(*srv));
		sip__srv_order(srv, (size_t)n, counter_rand, &state);
		for (int i = 0; i < n; i++) {
			if (i && srv[i - 1].priority > srv[i].priority)
				abort();
			int same = 0, want = 0;
			for (int k = 0; k < n; k++) {
				same += memcmp(&srv[k], &srv[i], sizeof(srv[i])) == 0;
				want += memcmp(&copy[k], &srv[i], sizeof(srv[i])) == 0;
			}
			if (same != want)
				abort();
		}
	}

	static const int types[] = {SIP_DNS_TYPE_A, SIP_DNS_TYPE_AAAA};
	for (size_t t = 0; t < 2; t++) {
		int a = sip__dns_addr_parse(data, size, types[t], 5060, addrs, MAX);
		if ((a <= 0 && !error_ok(a)) || a > MAX)
			abort();
		for (int i = 0; i < a; i++)
			if (net_addr_family(&addrs[i]) != (t ? AF_INET6 : AF_INET) ||
			    net_addr_port(&addrs[i]) != 5060)
				abort();
	}
	return 0;
}
