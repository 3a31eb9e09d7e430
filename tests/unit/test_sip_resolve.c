/*
 * Unit tests for locating SIP servers (RFC 3263 §4 without NAPTR): literal
 * addresses, SRV (RFC 2782) with priorities and weights, A/AAAA fallback,
 * names with a port, NXDOMAIN, cancellation, bad input; and the DNS answer
 * reader on crafted packets (RFC 1035 §4.1: compression, truncation, loops).
 *
 * No query leaves the machine: names are served by a small DNS server on
 * 127.0.0.1 run by this test (a thread), set with sip__resolve_set_nameserver;
 * every other target is a literal address. The thread pool is sized to one
 * thread so that a test can hold it and show that literals never wait for it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "sip/sip.h"
#include "sip/sip_resolve_int.h"

/* ---- building DNS packets ------------------------------------------------------- */

struct pkt {
	unsigned char b[2048];
	size_t len;
};

static void put8(struct pkt *p, unsigned v)
{
	assert_true(p->len < sizeof(p->b));
	p->b[p->len++] = (unsigned char)v;
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8 & 0xff);
	put8(p, v & 0xff);
}

static void put_bytes(struct pkt *p, const void *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(p, ((const unsigned char *)d)[i]);
}

/* "a.b.c" as labels, uncompressed; "." or "" is the root. */
static void put_name(struct pkt *p, const char *name)
{
	while (*name && strcmp(name, ".") != 0) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		put8(p, (unsigned)n);
		put_bytes(p, name, n);
		name += n + (dot ? 1 : 0);
	}
	put8(p, 0);
}

static void put_header(struct pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an)
{
	p->len = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

/* A record's fixed part: owner as a pointer to the question (offset 12). */
static void put_rr_start(struct pkt *p, unsigned type, unsigned rdlen)
{
	put16(p, 0xc00c);
	put16(p, type);
	put16(p, 1); /* IN */
	put16(p, 0);
	put16(p, 60); /* TTL */
	put16(p, rdlen);
}

static void put_srv(struct pkt *p, unsigned prio, unsigned weight, unsigned port,
		    const char *target)
{
	struct pkt t = {.len = 0};
	put_name(&t, target);
	put_rr_start(p, SIP_DNS_TYPE_SRV, 6 + (unsigned)t.len);
	put16(p, prio);
	put16(p, weight);
	put16(p, port);
	put_bytes(p, t.b, t.len);
}

/* ---- the fake DNS server -------------------------------------------------------- */

static const struct zone_rr {
	const char *name;
	int type;
	unsigned prio, weight, port;
	const char *data; /* SRV target, or the address */
} zone[] = {
    {"_sip._udp.two.test", SIP_DNS_TYPE_SRV, 10, 60, 5070, "a.two.test"},
    {"_sip._udp.two.test", SIP_DNS_TYPE_SRV, 20, 0, 5072, "c.two.test"},
    {"_sip._udp.two.test", SIP_DNS_TYPE_SRV, 10, 40, 5071, "b.two.test"},
    {"a.two.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.11"},
    {"b.two.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.12"},
    {"c.two.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.13"},
    {"_sip._tcp.six.test", SIP_DNS_TYPE_SRV, 1, 0, 5080, "v6.six.test"},
    {"v6.six.test", SIP_DNS_TYPE_AAAA, 0, 0, 0, "::1"},
    {"_sips._tcp.secure.test", SIP_DNS_TYPE_SRV, 0, 0, 5061, "tls.secure.test"},
    {"tls.secure.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.30"},
    {"plain.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.20"},
    {"dual.test", SIP_DNS_TYPE_AAAA, 0, 0, 0, "::1"},
    {"dual.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.50"},
    /* "." : no SIP service here, though the name has an address */
    {"_sip._udp.none.test", SIP_DNS_TYPE_SRV, 0, 0, 0, "."},
    {"none.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.60"},
    /* an SRV target that does not exist */
    {"_sip._udp.dangling.test", SIP_DNS_TYPE_SRV, 0, 0, 5060, "gone.dangling.test"},
    {"slow.test", SIP_DNS_TYPE_A, 0, 0, 0, "127.0.0.40"},
};

enum { QUERY_LOG = 256 }; /* the latest queries, a ring */

static struct fake_dns {
	int fd;
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	/* what was asked, for tests that check a query was not made */
	char names[QUERY_LOG][256];
	int types[QUERY_LOG];
	size_t count;
} dns = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static bool query_seen(const char *name, int type)
{
	bool seen = false;
	pthread_mutex_lock(&dns.lock);
	for (size_t i = 0; i < dns.count && i < QUERY_LOG; i++)
		if (strcasecmp(dns.names[i], name) == 0 && dns.types[i] == type)
			seen = true;
	pthread_mutex_unlock(&dns.lock);
	return seen;
}

static size_t queries(void)
{
	pthread_mutex_lock(&dns.lock);
	size_t n = dns.count;
	pthread_mutex_unlock(&dns.lock);
	return n;
}

static void dns_answer(const unsigned char *q, size_t qlen, struct sockaddr_in *from,
		       socklen_t fromlen)
{
	char name[256];
	size_t off = 12, n = 0;

	if (qlen < 17)
		return;
	while (off < qlen && q[off]) {
		size_t l = q[off];
		if (off + 1 + l >= qlen || n + l + 1 >= sizeof(name))
			return;
		if (n)
			name[n++] = '.';
		memcpy(name + n, q + off + 1, l);
		n += l;
		off += 1 + l;
	}
	name[n] = '\0';
	if (off + 5 > qlen)
		return;
	int type = q[off + 1] << 8 | q[off + 2];
	size_t qend = off + 5;

	pthread_mutex_lock(&dns.lock);
	strcpy(dns.names[dns.count % QUERY_LOG], name);
	dns.types[dns.count % QUERY_LOG] = type;
	dns.count++;
	pthread_mutex_unlock(&dns.lock);

	if (strcasecmp(name, "slow.test") == 0)
		usleep(300 * 1000);

	bool exists = false;
	unsigned an = 0;
	for (size_t i = 0; i < ARRAY_LEN(zone); i++) {
		if (strcasecmp(zone[i].name, name) != 0)
			continue;
		exists = true;
		an += zone[i].type == type;
	}
	struct pkt p;
	/* QR, RD, RA; NXDOMAIN when the name has no record at all */
	put_header(&p, q[0] << 8 | q[1], 0x8180 | (exists ? 0 : 3), 1, an);
	put_bytes(&p, q + 12, qend - 12);
	for (size_t i = 0; i < ARRAY_LEN(zone); i++) {
		const struct zone_rr *rr = &zone[i];
		if (strcasecmp(rr->name, name) != 0 || rr->type != type)
			continue;
		if (type == SIP_DNS_TYPE_SRV) {
			put_srv(&p, rr->prio, rr->weight, rr->port, rr->data);
		} else if (type == SIP_DNS_TYPE_A) {
			struct in_addr a;
			inet_pton(AF_INET, rr->data, &a);
			put_rr_start(&p, type, 4);
			put_bytes(&p, &a, 4);
		} else {
			struct in6_addr a;
			inet_pton(AF_INET6, rr->data, &a);
			put_rr_start(&p, type, 16);
			put_bytes(&p, &a, 16);
		}
	}
	sendto(dns.fd, p.b, p.len, 0, (struct sockaddr *)from, fromlen);
}

static void *dns_thread(void *arg)
{
	unsigned char q[512];

	for (;;) {
		struct pollfd pfd = {.fd = dns.fd, .events = POLLIN};
		pthread_mutex_lock(&dns.lock);
		bool stop = dns.stop;
		pthread_mutex_unlock(&dns.lock);
		if (stop)
			return NULL;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(dns.fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
		if (n > 0)
			dns_answer(q, (size_t)n, &from, fromlen);
	}
}

static int dns_start(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dns.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (dns.fd < 0 || bind(dns.fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(dns.fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	dns.port = ntohs(sin.sin_port);
	if (pthread_create(&dns.thread, NULL, dns_thread, NULL) != 0)
		return -1;
	struct net_addr ns;
	if (net_addr_parse(&ns, STR("127.0.0.1"), dns.port) != 0)
		return -1;
	return sip__resolve_set_nameserver(&ns);
}

static int dns_stop(void **state)
{
	sip__resolve_set_nameserver(NULL);
	pthread_mutex_lock(&dns.lock);
	dns.stop = true;
	pthread_mutex_unlock(&dns.lock);
	pthread_join(dns.thread, NULL);
	close(dns.fd);
	return 0;
}

/* ---- running lookups ------------------------------------------------------------ */

struct result {
	int calls;
	int err;
	struct sip_peer targets[SIP_RESOLVE_MAX_TARGETS];
	size_t count;
};

static void result_cb(void *arg, int err, const struct sip_peer *targets, size_t count)
{
	struct result *res = arg;
	res->calls++;
	res->err = err;
	res->count = count;
	assert_true(err ? count == 0 : count >= 1 && count <= SIP_RESOLVE_MAX_TARGETS);
	if (count)
		memcpy(res->targets, targets, count * sizeof(*targets));
}

/* Starts a lookup, checks the callback does not run before start returns,
 * runs the loop until it did, and closes the loop (nothing left behind). */
static int resolve(const char *target, struct result *res)
{
	uv_loop_t loop;
	struct sip_resolve *r = NULL;

	memset(res, 0, sizeof(*res));
	assert_int_equal(uv_loop_init(&loop), 0);
	int err = sip_resolve_start(&r, &loop, str_from_cstr(target), result_cb, res);
	assert_int_equal(res->calls, 0);
	if (err == 0) {
		assert_non_null(r);
		uv_run(&loop, UV_RUN_DEFAULT);
		if (res->calls != 1)
			fail_msg("%s: %d callbacks", target, res->calls);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
	return err;
}

static void assert_target(const struct result *res, size_t i, enum sip_transport t,
			  const char *addr, const char *what)
{
	char got[NET_ADDR_STRLEN];
	if (i >= res->count)
		fail_msg("%s: %zu targets, no #%zu", what, res->count, i);
	net_addr_print(&res->targets[i].remote, got, sizeof(got));
	if (strcmp(got, addr) != 0 || res->targets[i].transport != t)
		fail_msg("%s #%zu: got %s %s, want %s %s", what, i,
			 sip_transport_name(res->targets[i].transport), got, sip_transport_name(t),
			 addr);
	assert_int_equal(net_addr_family(&res->targets[i].local), 0);
	assert_int_equal(res->targets[i].conn_id, 0);
}

/* ---- literals ------------------------------------------------------------------- */

static void test_literals(void **state)
{
	static const struct {
		const char *in;
		enum sip_transport t;
		const char *addr;
	} vectors[] = {
	    {"127.0.0.1", SIP_TRANSPORT_UDP, "127.0.0.1:5060"},
	    {"127.0.0.1:5080", SIP_TRANSPORT_UDP, "127.0.0.1:5080"},
	    {"::1", SIP_TRANSPORT_UDP, "[::1]:5060"},
	    {"[::1]", SIP_TRANSPORT_UDP, "[::1]:5060"},
	    {"[::1]:5070", SIP_TRANSPORT_UDP, "[::1]:5070"},
	    {" 127.0.0.2 ", SIP_TRANSPORT_UDP, "127.0.0.2:5060"},
	    {"sip:127.0.0.1", SIP_TRANSPORT_UDP, "127.0.0.1:5060"},
	    {"sip:alice@127.0.0.1:5062", SIP_TRANSPORT_UDP, "127.0.0.1:5062"},
	    {"sip:127.0.0.1;transport=tcp", SIP_TRANSPORT_TCP, "127.0.0.1:5060"},
	    {"SIP:127.0.0.1;TRANSPORT=TCP", SIP_TRANSPORT_TCP, "127.0.0.1:5060"},
	    {"sip:[::1];transport=tcp", SIP_TRANSPORT_TCP, "[::1]:5060"},
	    {"sip:+15551234567@[::1]:5090;user=phone", SIP_TRANSPORT_UDP, "[::1]:5090"},
	    {"sips:127.0.0.1", SIP_TRANSPORT_TLS, "127.0.0.1:5061"},
	    {"sips:[::1]:5081;transport=tcp", SIP_TRANSPORT_TLS, "[::1]:5081"},
	    {"sip:127.0.0.1;transport=tls", SIP_TRANSPORT_TLS, "127.0.0.1:5061"},
	    {"127.0.0.1:5070;transport=tcp", SIP_TRANSPORT_TCP, "127.0.0.1:5070"},
	    /* maddr replaces the host (RFC 3263 §4) */
	    {"sip:bob@example.test;maddr=127.0.0.9", SIP_TRANSPORT_UDP, "127.0.0.9:5060"},
	};
	size_t before = queries();
	for (size_t i = 0; i < ARRAY_LEN(vectors); i++) {
		struct result res;
		if (resolve(vectors[i].in, &res) != 0)
			fail_msg("%s: refused", vectors[i].in);
		assert_int_equal(res.err, 0);
		assert_int_equal(res.count, 1);
		assert_target(&res, 0, vectors[i].t, vectors[i].addr, vectors[i].in);
	}
	assert_int_equal(queries(), before); /* no DNS for a literal */
}

struct gate {
	uv_sem_t sem;
	bool done;
};

static void pool_block(uv_work_t *w)
{
	uv_sem_wait(&((struct gate *)w->data)->sem);
}

static void pool_unblocked(uv_work_t *w, int status)
{
	((struct gate *)w->data)->done = true;
}

/* With the pool's only thread held, a literal is still answered: it never
 * goes to the pool. A name waits for the pool. */
static void test_literal_not_in_pool(void **state)
{
	uv_loop_t loop;
	struct gate gate = {.done = false};
	uv_work_t hold;
	struct result lit, name;
	memset(&lit, 0, sizeof(lit));
	memset(&name, 0, sizeof(name));

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uv_sem_init(&gate.sem, 0), 0);
	hold.data = &gate;
	assert_int_equal(uv_queue_work(&loop, &hold, pool_block, pool_unblocked), 0);
	assert_int_equal(sip_resolve_start(NULL, &loop, STR("plain.test"), result_cb, &name), 0);
	assert_int_equal(sip_resolve_start(NULL, &loop, STR("[::1]:5999"), result_cb, &lit), 0);
	for (int i = 0; i < 20 && !lit.calls; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(lit.calls, 1);
	assert_target(&lit, 0, SIP_TRANSPORT_UDP, "[::1]:5999", "held pool");
	assert_int_equal(name.calls, 0);

	uv_sem_post(&gate.sem);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(gate.done);
	assert_int_equal(name.calls, 1);
	assert_target(&name, 0, SIP_TRANSPORT_UDP, "127.0.0.20:5060", "after the pool");
	assert_int_equal(uv_loop_close(&loop), 0);
	uv_sem_destroy(&gate.sem);
}

/* ---- names ---------------------------------------------------------------------- */

/* Two priorities, two weights at the first: both orders of the first two
 * show up over many lookups; the priority-20 target is always last. */
static void test_srv_priorities_weights(void **state)
{
	int first_a = 0, first_b = 0;
	for (int i = 0; i < 40; i++) {
		struct result res;
		assert_int_equal(resolve("two.test", &res), 0);
		assert_int_equal(res.err, 0);
		assert_int_equal(res.count, 3);
		char a[NET_ADDR_STRLEN], b[NET_ADDR_STRLEN];
		net_addr_print(&res.targets[0].remote, a, sizeof(a));
		net_addr_print(&res.targets[1].remote, b, sizeof(b));
		if (strcmp(a, "127.0.0.11:5070") == 0 && strcmp(b, "127.0.0.12:5071") == 0)
			first_a++;
		else if (strcmp(a, "127.0.0.12:5071") == 0 && strcmp(b, "127.0.0.11:5070") == 0)
			first_b++;
		else
			fail_msg("unexpected order %s, %s", a, b);
		assert_target(&res, 2, SIP_TRANSPORT_UDP, "127.0.0.13:5072", "two.test");
	}
	/* 0.6^40 + 0.4^40: this fails about once in a billion runs */
	assert_true(first_a > 0 && first_b > 0);
	assert_true(query_seen("_sip._udp.two.test", SIP_DNS_TYPE_SRV));
}

static void test_srv_transports_and_aaaa(void **state)
{
	struct result res;

	assert_int_equal(resolve("sip:six.test;transport=tcp", &res), 0);
	assert_int_equal(res.count, 1);
	assert_target(&res, 0, SIP_TRANSPORT_TCP, "[::1]:5080", "six.test");

	assert_int_equal(resolve("sips:alice@secure.test", &res), 0);
	assert_int_equal(res.count, 1);
	assert_target(&res, 0, SIP_TRANSPORT_TLS, "127.0.0.30:5061", "secure.test");

	/* the same name asked over UDP has no SRV record and no address */
	assert_int_equal(resolve("six.test", &res), 0);
	assert_int_equal(res.err, -ENOENT);
	assert_true(query_seen("_sip._udp.six.test", SIP_DNS_TYPE_SRV));
}

static void test_fallback_and_ports(void **state)
{
	struct result res;

	/* no SRV record: the name's addresses on the default port, A before AAAA */
	assert_int_equal(resolve("dual.test", &res), 0);
	assert_int_equal(res.count, 2);
	assert_target(&res, 0, SIP_TRANSPORT_UDP, "127.0.0.50:5060", "dual.test");
	assert_target(&res, 1, SIP_TRANSPORT_UDP, "[::1]:5060", "dual.test");
	assert_true(query_seen("_sip._udp.dual.test", SIP_DNS_TYPE_SRV));

	assert_int_equal(resolve("sips:plain.test.", &res), 0);
	assert_int_equal(res.count, 1);
	assert_target(&res, 0, SIP_TRANSPORT_TLS, "127.0.0.20:5061", "plain.test.");

	/* a port: no SRV query at all (RFC 3263 §4.2) */
	assert_false(query_seen("_sip._tcp.plain.test", SIP_DNS_TYPE_SRV));
	assert_int_equal(resolve("sip:plain.test:5099;transport=tcp", &res), 0);
	assert_int_equal(res.count, 1);
	assert_target(&res, 0, SIP_TRANSPORT_TCP, "127.0.0.20:5099", "plain.test:5099");
	assert_false(query_seen("_sip._tcp.plain.test", SIP_DNS_TYPE_SRV));
	assert_int_equal(resolve("two.test:5060", &res), 0);
	assert_int_equal(res.err, -ENOENT); /* two.test itself has no address */
}

static void test_not_found(void **state)
{
	struct result res;

	assert_int_equal(resolve("missing.test", &res), 0);
	assert_int_equal(res.err, -ENOENT);
	assert_int_equal(resolve("sip:bob@missing.test:5060", &res), 0);
	assert_int_equal(res.err, -ENOENT);
	/* an SRV target that does not resolve: no fallback to the domain's address */
	assert_int_equal(resolve("dangling.test", &res), 0);
	assert_int_equal(res.err, -ENOENT);
	/* "." says there is no SIP service: the domain's A record is not used */
	assert_int_equal(resolve("none.test", &res), 0);
	assert_int_equal(res.err, -ENOENT);
	assert_false(query_seen("none.test", SIP_DNS_TYPE_A));
}

static void test_cancel(void **state)
{
	uv_loop_t loop;
	struct sip_resolve *r;
	struct result res;
	memset(&res, 0, sizeof(res));

	/* a name still in the pool: it completes and frees itself, no callback */
	assert_int_equal(uv_loop_init(&loop), 0);
	size_t before;
	assert_int_equal(sip_resolve_start(&r, &loop, STR("slow.test:5060"), result_cb, &res), 0);
	sip_resolve_cancel(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(res.calls, 0);

	/* one that is surely running: the server has its query */
	before = queries();
	assert_int_equal(sip_resolve_start(&r, &loop, STR("slow.test:5060"), result_cb, &res), 0);
	for (int i = 0; i < 2000 && queries() == before; i++)
		usleep(1000);
	assert_true(queries() > before);
	sip_resolve_cancel(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(res.calls, 0);

	/* a literal waiting for its turn */
	assert_int_equal(sip_resolve_start(&r, &loop, STR("127.0.0.1"), result_cb, &res), 0);
	sip_resolve_cancel(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(res.calls, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	sip_resolve_cancel(NULL);
}

static void test_bad_input(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "sip:",
	    "sips:",
	    "tel:+15551234567",
	    "http://example.test/",
	    "sip:example.test;transport=sctp",
	    "sips:example.test;transport=udp",
	    "bad host.test",
	    "example.test:99999",
	    "example.test:",
	    "a..b.test",
	    ".test",
	    "alice@example.test",
	    "[::1",
	    "[::1]:",
	    "sip:[::1]x",
	    "\x01\x02",
	    "sip:a@b@c",
	    "example.test?x=y",
	};
	uv_loop_t loop;
	struct result res;
	memset(&res, 0, sizeof(res));
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (resolve(bad[i], &res) != -EINVAL)
			fail_msg("\"%s\": accepted", bad[i]);
		assert_int_equal(res.calls, 0);
	}
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(resolve(longname, &res), -EINVAL);

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(sip_resolve_start(NULL, NULL, STR("127.0.0.1"), result_cb, &res), -EINVAL);
	assert_int_equal(sip_resolve_start(NULL, &loop, STR("127.0.0.1"), NULL, &res), -EINVAL);
	assert_int_equal(sip_resolve_start(NULL, &loop, STR_NULL, result_cb, &res), -EINVAL);
	assert_int_equal(sip_resolve_start(NULL, &loop, STR("127.0.0.1\0x"), result_cb, &res),
			 -EINVAL);
	assert_int_equal(uv_loop_close(&loop), 0);

	struct net_addr v6;
	assert_int_equal(net_addr_parse(&v6, STR("::1"), 53), 0);
	assert_int_equal(sip__resolve_set_nameserver(&v6), -EAFNOSUPPORT);
}

/* ---- the DNS answer reader ------------------------------------------------------- */

/* A response to "_sip._udp.example.test" SRV with three records; the second
 * target is compressed against the first, the third is ".". */
static void srv_packet(struct pkt *p)
{
	put_header(p, 0x1234, 0x8180, 1, 3);
	put_name(p, "_sip._udp.example.test");
	put16(p, SIP_DNS_TYPE_SRV);
	put16(p, 1);
	put_srv(p, 10, 5, 5070, "sip1.example.test");
	size_t first_target = p->len - strlen("sip1.example.test") - 2;
	/* sip2 + pointer to "example.test" inside the first target */
	put_rr_start(p, SIP_DNS_TYPE_SRV, 6 + 5 + 2);
	put16(p, 20);
	put16(p, 0);
	put16(p, 5071);
	put8(p, 4);
	put_bytes(p, "sip2", 4);
	put16(p, 0xc000 | (unsigned)(first_target + 5));
	put_srv(p, 30, 0, 0, ".");
}

static void test_srv_parse(void **state)
{
	struct pkt p;
	struct sip_srv srv[4];

	srv_packet(&p);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), 2); /* "." skipped */
	assert_int_equal(srv[0].priority, 10);
	assert_int_equal(srv[0].weight, 5);
	assert_int_equal(srv[0].port, 5070);
	assert_string_equal(srv[0].target, "sip1.example.test");
	assert_int_equal(srv[1].priority, 20);
	assert_int_equal(srv[1].port, 5071);
	assert_string_equal(srv[1].target, "sip2.example.test");
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 1), 1);

	/* every truncation is malformed, never read past */
	for (size_t len = 0; len < p.len; len++) {
		unsigned char *copy = malloc(len ? len : 1);
		memcpy(copy, p.b, len);
		if (sip__dns_srv_parse(copy, len, srv, 4) != -EBADMSG)
			fail_msg("truncated at %zu: not -EBADMSG", len);
		free(copy);
	}

	/* rcodes and flags */
	struct pkt q = p;
	q.b[3] = 0x83;
	assert_int_equal(sip__dns_srv_parse(q.b, q.len, srv, 4), -ENOENT);
	q.b[3] = 0x82;
	assert_int_equal(sip__dns_srv_parse(q.b, q.len, srv, 4), -EIO);
	q = p;
	q.b[2] = 0x01; /* a query */
	assert_int_equal(sip__dns_srv_parse(q.b, q.len, srv, 4), -EBADMSG);

	/* no answer; only "." */
	put_header(&q, 1, 0x8180, 0, 0);
	assert_int_equal(sip__dns_srv_parse(q.b, q.len, srv, 4), -ENOENT);
	put_header(&q, 1, 0x8180, 0, 1);
	put_srv(&q, 0, 0, 0, ".");
	/* the owner pointer 0xc00c points at the record itself: fix it to the root */
	q.b[12] = 0;
	memmove(q.b + 13, q.b + 14, q.len - 14);
	q.len--;
	assert_int_equal(sip__dns_srv_parse(q.b, q.len, srv, 4), -ECONNREFUSED);
}

static void test_srv_parse_malformed(void **state)
{
	struct pkt p;
	struct sip_srv srv[4];

	/* a pointer to itself */
	put_header(&p, 1, 0x8180, 1, 0);
	put16(&p, 0xc00c);
	put16(&p, 33);
	put16(&p, 1);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);

	/* a label, then a pointer back to that label: a loop that only jumps backwards */
	put_header(&p, 1, 0x8180, 1, 0);
	put8(&p, 3);
	put_bytes(&p, "abc", 3);
	put16(&p, 0xc00c);
	put16(&p, 33);
	put16(&p, 1);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);

	/* two pointers pointing at each other (the second name points forward) */
	put_header(&p, 1, 0x8180, 2, 0);
	put16(&p, 0xc012); /* at 12 → 18 */
	put16(&p, 33);
	put16(&p, 1);
	put16(&p, 0xc00c); /* at 18 → 12 */
	put16(&p, 33);
	put16(&p, 1);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);

	/* reserved label types 01 and 10 */
	for (unsigned t = 0x40; t <= 0x80; t += 0x40) {
		put_header(&p, 1, 0x8180, 1, 0);
		put8(&p, t | 1);
		put8(&p, 'a');
		put8(&p, 0);
		put16(&p, 33);
		put16(&p, 1);
		assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);
	}

	/* a name over 255 octets */
	put_header(&p, 1, 0x8180, 1, 0);
	for (int i = 0; i < 5; i++) {
		put8(&p, 63);
		for (int k = 0; k < 63; k++)
			put8(&p, 'a');
	}
	put8(&p, 0);
	put16(&p, 33);
	put16(&p, 1);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);

	/* rdlength past the end; SRV data too short; target running past its data */
	put_header(&p, 1, 0x8180, 0, 1);
	put_rr_start(&p, SIP_DNS_TYPE_SRV, 100);
	p.b[12] = 0; /* owner: the root, not a pointer */
	memmove(p.b + 13, p.b + 14, p.len - 14);
	p.len--;
	put16(&p, 1);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);

	put_header(&p, 1, 0x8180, 0, 1);
	put8(&p, 0);
	put16(&p, 33);
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 60);
	put16(&p, 6);
	put16(&p, 1);
	put16(&p, 1);
	put16(&p, 5060);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);

	put_header(&p, 1, 0x8180, 0, 1);
	put8(&p, 0);
	put16(&p, 33);
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 60);
	put16(&p, 9);
	put16(&p, 1);
	put16(&p, 1);
	put16(&p, 5060);
	put_name(&p, "abc"); /* 5 octets, 3 fit in the data */
	put16(&p, 0);
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -EBADMSG);

	/* a target that is no host name, a port 0: skipped */
	put_header(&p, 1, 0x8180, 0, 2);
	put8(&p, 0);
	put16(&p, 33);
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 60);
	put16(&p, 6 + 5);
	put16(&p, 1);
	put16(&p, 1);
	put16(&p, 5060);
	put8(&p, 3);
	put_bytes(&p, "a b", 3);
	put8(&p, 0);
	put8(&p, 0);
	put16(&p, 33);
	put16(&p, 1);
	put16(&p, 0);
	put16(&p, 60);
	put16(&p, 6 + 5);
	put16(&p, 1);
	put16(&p, 1);
	put16(&p, 0);
	put_name(&p, "abc");
	assert_int_equal(sip__dns_srv_parse(p.b, p.len, srv, 4), -ENOENT);

	assert_int_equal(sip__dns_srv_parse(NULL, 0, srv, 4), -EBADMSG);
}

static void test_addr_parse(void **state)
{
	struct pkt p;
	struct net_addr a[4];
	char s[NET_ADDR_STRLEN];
	unsigned char v4[4] = {192, 0, 2, 7};
	struct in6_addr v6;
	inet_pton(AF_INET6, "2001:db8::7", &v6);

	/* a CNAME on the way, then A and AAAA records */
	put_header(&p, 7, 0x8180, 1, 3);
	put_name(&p, "sip.example.test");
	put16(&p, SIP_DNS_TYPE_A);
	put16(&p, 1);
	put_rr_start(&p, 5, 2); /* CNAME → pointer to the question */
	put16(&p, 0xc00c);
	put_rr_start(&p, SIP_DNS_TYPE_A, 4);
	put_bytes(&p, v4, 4);
	put_rr_start(&p, SIP_DNS_TYPE_AAAA, 16);
	put_bytes(&p, &v6, 16);

	assert_int_equal(sip__dns_addr_parse(p.b, p.len, SIP_DNS_TYPE_A, 5060, a, 4), 1);
	assert_string_equal(net_addr_print(&a[0], s, sizeof(s)), "192.0.2.7:5060");
	assert_int_equal(sip__dns_addr_parse(p.b, p.len, SIP_DNS_TYPE_AAAA, 5061, a, 4), 1);
	assert_string_equal(net_addr_print(&a[0], s, sizeof(s)), "[2001:db8::7]:5061");
	assert_int_equal(sip__dns_addr_parse(p.b, p.len, SIP_DNS_TYPE_SRV, 5061, a, 4), -EINVAL);
	for (size_t len = 0; len < p.len; len++)
		assert_int_equal(sip__dns_addr_parse(p.b, len, SIP_DNS_TYPE_A, 1, a, 4), -EBADMSG);

	/* an A record with 5 octets */
	put_header(&p, 7, 0x8180, 0, 1);
	put_rr_start(&p, SIP_DNS_TYPE_A, 5);
	p.b[12] = 0;
	memmove(p.b + 13, p.b + 14, p.len - 14);
	p.len--;
	put_bytes(&p, "\1\2\3\4\5", 5);
	assert_int_equal(sip__dns_addr_parse(p.b, p.len, SIP_DNS_TYPE_A, 1, a, 4), -EBADMSG);

	put_header(&p, 7, 0x8183, 0, 0);
	assert_int_equal(sip__dns_addr_parse(p.b, p.len, SIP_DNS_TYPE_A, 1, a, 4), -ENOENT);
}

/* ---- SRV order ------------------------------------------------------------------- */

struct script {
	const uint32_t *values;
	size_t n, next;
};

static uint32_t scripted(void *arg)
{
	struct script *s = arg;
	assert_true(s->next < s->n);
	return s->values[s->next++];
}

static void order(const char *const names[], const unsigned prio[], const unsigned weight[],
		  size_t n, const uint32_t *rand_values, size_t nrand, const char *want)
{
	struct sip_srv srv[8];
	struct script s = {rand_values, nrand, 0};
	char got[128] = "";

	for (size_t i = 0; i < n; i++) {
		srv[i].priority = (uint16_t)prio[i];
		srv[i].weight = (uint16_t)weight[i];
		srv[i].port = 5060;
		strcpy(srv[i].target, names[i]);
	}
	sip__srv_order(srv, n, scripted, &s);
	for (size_t i = 0; i < n; i++) {
		strcat(got, srv[i].target);
		strcat(got, i + 1 < n ? " " : "");
	}
	if (strcmp(got, want) != 0)
		fail_msg("got \"%s\", want \"%s\"", got, want);
}

/* RFC 2782: sum the weights S of what is left, draw r in [0, S], take the
 * first record whose running sum reaches r (weight-0 records listed first). */
static void test_srv_order(void **state)
{
	static const char *const names[] = {"a", "z", "b", "d", "c"};
	static const unsigned prio[] = {10, 10, 10, 5, 20};
	static const unsigned weight[] = {60, 0, 40, 0, 7};

	/* p5: d (no draw: S=0); p10: [z a b] S=100, r=0 → z; [a b] r=70 → b;
	 * [a] alone still draws; p20: [c] draws */
	order(names, prio, weight, 5, (const uint32_t[]){0, 70, 3, 0}, 4, "d z b a c");
	/* r = 1 passes over z (running 0), takes a; then [z b]: r = 41 % 41 = 0 → z */
	order(names, prio, weight, 5, (const uint32_t[]){1, 41, 5, 0}, 4, "d a z b c");
	/* r = 100 (S=100) → b; then [z a] S=60, r = 60 → a; then z alone, S=0 */
	order(names, prio, weight, 5, (const uint32_t[]){100, 60, 0}, 3, "d b a z c");
	/* draws are reduced modulo S+1: 202 % 101 = 0 → z */
	order(names, prio, weight, 5, (const uint32_t[]){202, 0, 0, 0}, 4, "d z a b c");
	/* all weights 0: no draw, the order is kept within a priority */
	order((const char *const[]){"x", "y", "w"}, (const unsigned[]){2, 1, 2},
	      (const unsigned[]){0, 0, 0}, 3, NULL, 0, "y x w");
}

int main(void)
{
	/* one pool thread, so test_literal_not_in_pool can hold all of it */
	setenv("UV_THREADPOOL_SIZE", "1", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_srv_parse),
	    cmocka_unit_test(test_srv_parse_malformed),
	    cmocka_unit_test(test_addr_parse),
	    cmocka_unit_test(test_srv_order),
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_literal_not_in_pool),
	    cmocka_unit_test(test_srv_priorities_weights),
	    cmocka_unit_test(test_srv_transports_and_aaaa),
	    cmocka_unit_test(test_fallback_and_ports),
	    cmocka_unit_test(test_not_found),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, dns_start, dns_stop);
}
