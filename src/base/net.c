/*
 * Socket addresses: parsing and printing IPv4 and IPv6 literals.
 */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int net_addr_parse(struct net_addr *out, struct str host, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 8];

	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
	}
	if (str_copy_cstr(host, tmp, sizeof(tmp)))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, tmp, &out->u.in4.sin_addr) == 1) {
		out->u.in4.sin_family = AF_INET;
		out->u.in4.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, &out->u.in6.sin6_addr) == 1) {
		out->u.in6.sin6_family = AF_INET6;
		out->u.in6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

const char *net_addr_print_host(const struct net_addr *a, char *dst, size_t size)
{
	const void *src = a->u.sa.sa_family == AF_INET6 ? (const void *)&a->u.in6.sin6_addr
							: (const void *)&a->u.in4.sin_addr;
	if (size == 0)
		return dst;
	if (!inet_ntop(a->u.sa.sa_family, src, dst, (socklen_t)size))
		snprintf(dst, size, "?");
	return dst;
}

const char *net_addr_print(const struct net_addr *a, char *dst, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	net_addr_print_host(a, host, sizeof(host));
	if (a->u.sa.sa_family == AF_INET6)
		snprintf(dst, size, "[%s]:%u", host, net_addr_port(a));
	else
		snprintf(dst, size, "%s:%u", host, net_addr_port(a));
	return dst;
}

uint16_t net_addr_port(const struct net_addr *a)
{
	return ntohs(a->u.sa.sa_family == AF_INET6 ? a->u.in6.sin6_port : a->u.in4.sin_port);
}

void net_addr_set_port(struct net_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
	else
		a->u.in4.sin_port = htons(port);
}

int net_addr_family(const struct net_addr *a)
{
	return a->u.sa.sa_family;
}

socklen_t net_addr_len(const struct net_addr *a)
{
	return a->u.sa.sa_family == AF_INET6 ? sizeof(a->u.in6) : sizeof(a->u.in4);
}

bool net_addr_eq(const struct net_addr *a, const struct net_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0;
	return a->u.in4.sin_port == b->u.in4.sin_port &&
	       a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
}

bool net_addr_is_loopback(const struct net_addr *a)
{
	if (a->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr);
	return (ntohl(a->u.in4.sin_addr.s_addr) >> 24) == 127;
}
