/*
 * Locating SIP servers (RFC 3263 §4, without NAPTR): from a SIP URI or
 * host[:port] to the transport, addresses and ports to try, in order.
 *
 *  - the transport comes from the transport= parameter, else TLS for sips
 *    and UDP for sip (§4.1 without NAPTR); maddr= replaces the host (§4);
 *  - a literal IPv4 or IPv6 address is used as is, on the URI's port or the
 *    transport's default (5060, 5061 for TLS);
 *  - a name with a port: its A and AAAA addresses (§4.2);
 *  - a name without one: SRV for _sip._udp, _sip._tcp or _sips._tcp,
 *    ordered by priority and weight (RFC 2782), each target's addresses in
 *    turn; when there is no SRV record, the name's own addresses on the
 *    default port.
 *
 * Lookups block, so they run in libuv's thread pool: SRV with res_nquery()
 * (libresolv, one resolver state per lookup, so threads share nothing), A
 * and AAAA with getaddrinfo() — or res_nquery() as well when a nameserver
 * was set for tests. Literals never reach the pool, but their callback
 * still comes from a later loop turn (a zero timer), as for names.
 *
 * DNS answers are read here rather than with libresolv's ns_parserr(), so
 * that the reader is testable on crafted packets and fuzzed.
 */
#include "sip_int.h"
#include "sip_resolve_int.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <uv.h>

#define LOG_MODULE "sip"

/* ---- reading DNS answers (RFC 1035 §4.1) ------------------------------------ */

enum {
	DNS_HEADER_LEN = 12,
	DNS_CLASS_IN = 1,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_SRV_MAX = 32, /* SRV records kept from one answer */
};

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool host_octet(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Reads the name at *off, following compression pointers (§4.1.4), and
 * moves *off past it as written there. With `out`, writes the dotted form
 * ("" for the root) and returns -EINVAL, with *off still moved, when a label
 * holds an octet a host name cannot. A pointer must point before the start
 * of the labels it continues: every jump goes strictly backwards, so a loop
 * cannot form.
 */
static int name_read(const unsigned char *msg, size_t len, size_t *off, char *out)
{
	size_t pos = *off, limit = *off, after = 0, wire = 1, n = 0;
	bool jumped = false, host = true;

	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		unsigned c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -EBADMSG;
			size_t target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (target >= limit)
				return -EBADMSG;
			if (!jumped)
				after = pos + 2;
			jumped = true;
			pos = limit = target;
			continue;
		}
		if (c & 0xc0)
			return -EBADMSG; /* 01 and 10: extended and reserved label types */
		if (c == 0) {
			pos++;
			break;
		}
		if (pos + 1 + c > len)
			return -EBADMSG;
		wire += 1 + c;
		if (wire > 255)
			return -EBADMSG;
		if (out) {
			if (n)
				out[n++] = '.';
			for (size_t i = 0; i < c; i++) {
				host = host && host_octet(msg[pos + 1 + i]);
				out[n++] = (char)msg[pos + 1 + i];
			}
		}
		pos += 1 + c;
	}
	*off = jumped ? after : pos;
	if (out)
		out[n] = '\0';
	return host ? 0 : -EINVAL;
}

struct dns_rr {
	uint16_t type, class;
	size_t rdata, rdlen; /* offset and length of the data in the message */
};

/* Checks the header and skips the question section: *off is then at the
 * first answer and *ancount says how many there are. */
static int header_read(const unsigned char *msg, size_t len, size_t *off, unsigned *ancount)
{
	if (!msg || len < DNS_HEADER_LEN)
		return -EBADMSG;
	uint16_t flags = get16(msg + 2);
	if (!(flags & 0x8000))
		return -EBADMSG; /* a query, not a response */
	if ((flags & 0xf) == DNS_RCODE_NXDOMAIN)
		return -ENOENT;
	if (flags & 0xf)
		return -EIO;
	unsigned qdcount = get16(msg + 4);
	*ancount = get16(msg + 6);
	*off = DNS_HEADER_LEN;
	for (unsigned i = 0; i < qdcount; i++) {
		int err = name_read(msg, len, off, NULL);
		if (err)
			return err;
		if (len - *off < 4)
			return -EBADMSG;
		*off += 4;
	}
	return 0;
}

static int rr_read(const unsigned char *msg, size_t len, size_t *off, struct dns_rr *rr)
{
	int err = name_read(msg, len, off, NULL);
	if (err)
		return err;
	if (len - *off < 10)
		return -EBADMSG;
	const unsigned char *p = msg + *off;
	rr->type = get16(p);
	rr->class = get16(p + 2);
	rr->rdlen = get16(p + 8);
	rr->rdata = *off + 10;
	if (rr->rdlen > len - rr->rdata)
		return -EBADMSG;
	*off = rr->rdata + rr->rdlen;
	return 0;
}

int sip__dns_srv_parse(const unsigned char *msg, size_t len, struct sip_srv *out, size_t max)
{
	size_t off, n = 0, refusals = 0;
	unsigned ancount;
	struct dns_rr rr;

	int err = header_read(msg, len, &off, &ancount);
	if (err)
		return err;
	for (unsigned i = 0; i < ancount; i++) {
		if ((err = rr_read(msg, len, &off, &rr)))
			return err;
		if (rr.type != SIP_DNS_TYPE_SRV || rr.class != DNS_CLASS_IN)
			continue;
		if (rr.rdlen < 7)
			return -EBADMSG;
		struct sip_srv srv;
		const unsigned char *p = msg + rr.rdata;
		srv.priority = get16(p);
		srv.weight = get16(p + 2);
		srv.port = get16(p + 4);
		/* the target must end inside the record's data */
		size_t t = rr.rdata + 6;
		err = name_read(msg, rr.rdata + rr.rdlen, &t, srv.target);
		if (err == -EBADMSG)
			return err;
		if (err || t != rr.rdata + rr.rdlen)
			continue; /* not a host name, or bytes after the name */
		if (!srv.target[0]) {
			refusals++;
			continue;
		}
		if (srv.port == 0 || n >= max)
			continue;
		out[n++] = srv;
	}
	if (n)
		return (int)n;
	return refusals ? -ECONNREFUSED : -ENOENT;
}

int sip__dns_addr_parse(const unsigned char *msg, size_t len, int type, uint16_t port,
			struct net_addr *out, size_t max)
{
	size_t off, n = 0;
	unsigned ancount;
	struct dns_rr rr;

	if (type != SIP_DNS_TYPE_A && type != SIP_DNS_TYPE_AAAA)
		return -EINVAL;
	int err = header_read(msg, len, &off, &ancount);
	if (err)
		return err;
	for (unsigned i = 0; i < ancount; i++) {
		if ((err = rr_read(msg, len, &off, &rr)))
			return err;
		if (rr.type != type || rr.class != DNS_CLASS_IN)
			continue; /* CNAMEs on the way, other types */
		if (rr.rdlen != (type == SIP_DNS_TYPE_A ? 4u : 16u))
			return -EBADMSG;
		if (n >= max)
			continue;
		struct net_addr *a = &out[n++];
		memset(a, 0, sizeof(*a));
		if (type == SIP_DNS_TYPE_A) {
			a->u.in4.sin_family = AF_INET;
			memcpy(&a->u.in4.sin_addr, msg + rr.rdata, 4);
		} else {
			a->u.in6.sin6_family = AF_INET6;
			memcpy(&a->u.in6.sin6_addr, msg + rr.rdata, 16);
		}
		net_addr_set_port(a, port);
	}
	return n ? (int)n : -ENOENT;
}

/* ---- SRV order (RFC 2782, "Usage rules") ------------------------------------ */

/* Moves srv[from] to srv[to] (to <= from), shifting the ones between. */
static void srv_move(struct sip_srv *srv, size_t from, size_t to)
{
	if (from == to)
		return;
	struct sip_srv keep = srv[from];
	memmove(&srv[to + 1], &srv[to], (from - to) * sizeof(*srv));
	srv[to] = keep;
}

void sip__srv_order(struct sip_srv *srv, size_t n, uint32_t (*rand_cb)(void *arg), void *arg)
{
	/* stable insertion sort by priority: answers hold a handful of records */
	for (size_t i = 1; i < n; i++) {
		size_t j = i;
		while (j > 0 && srv[j - 1].priority > srv[i].priority)
			j--;
		srv_move(srv, i, j);
	}
	for (size_t start = 0; start < n;) {
		size_t end = start;
		while (end < n && srv[end].priority == srv[start].priority)
			end++;
		for (size_t k = start; k < end; k++) {
			/* weight-0 records at the front of what is left */
			size_t zeros = k;
			for (size_t m = k; m < end; m++)
				if (srv[m].weight == 0)
					srv_move(srv, m, zeros++);
			uint64_t sum = 0;
			for (size_t m = k; m < end; m++)
				sum += srv[m].weight;
			uint64_t r = sum ? rand_cb(arg) % (sum + 1) : 0, running = 0;
			size_t pick = k;
			for (size_t m = k; m < end; m++) {
				running += srv[m].weight;
				if (running >= r) {
					pick = m;
					break;
				}
			}
			srv_move(srv, pick, k);
		}
		start = end;
	}
}

/* ---- the lookup ------------------------------------------------------------------ */

/* Set by tests only (sip__resolve_set_nameserver); each lookup copies it at start. */
static struct {
	bool set;
	struct sockaddr_in addr;
} test_nameserver;

int sip__resolve_set_nameserver(const struct net_addr *ns)
{
	if (!ns) {
		test_nameserver.set = false;
		return 0;
	}
	if (net_addr_family(ns) != AF_INET)
		return -EAFNOSUPPORT;
	test_nameserver.addr = ns->u.in4;
	test_nameserver.set = true;
	return 0;
}

struct sip_resolve {
	uv_loop_t *loop;
	sip_resolve_cb cb;
	void *arg;
	bool literal;	  /* answered from a zero timer, not the pool */
	bool cancelled;	  /* loop thread only */
	bool answered;	  /* the callback ran (or is running) */
	uv_work_t work;	  /* names */
	uv_timer_t timer; /* literals */

	/* the question, written before the pool sees it */
	char host[SIP_DNS_NAME_MAX]; /* a name without the final '.', or a literal */
	uint16_t port;		     /* 0: none given */
	enum sip_transport transport;
	bool has_ns;
	struct sockaddr_in ns;

	/* the answer, written by the pool, read on the loop after the work */
	int err;
	struct sip_peer targets[SIP_RESOLVE_MAX_TARGETS];
	size_t count;
};

static uint16_t default_port(enum sip_transport t)
{
	return t == SIP_TRANSPORT_TLS ? 5061 : 5060;
}

static void target_add(struct sip_resolve *r, const struct net_addr *addr)
{
	if (r->count >= SIP_RESOLVE_MAX_TARGETS)
		return;
	for (size_t i = 0; i < r->count; i++)
		if (net_addr_eq(&r->targets[i].remote, addr))
			return;
	struct sip_peer *p = &r->targets[r->count++];
	memset(p, 0, sizeof(*p));
	p->transport = r->transport;
	p->remote = *addr;
}

/* A resolver state per lookup: res_n* calls share nothing between threads. */
struct dns {
	struct __res_state st;
	bool ready;
};

static int dns_init(struct dns *d, const struct sip_resolve *r)
{
	if (d->ready)
		return 0;
	memset(&d->st, 0, sizeof(d->st));
	if (res_ninit(&d->st) != 0)
		return -EIO;
	if (r->has_ns) {
		d->st.nscount = 1;
		d->st.nsaddr_list[0] = r->ns;
		d->st.retrans = 1;
		d->st.retry = 2;
	}
	d->ready = true;
	return 0;
}

/* res_nquery: the answer's length, or -ENOENT (no such name, no such
 * record), -EAGAIN (no answer, server failure), -EIO. */
static int dns_query(struct dns *d, const struct sip_resolve *r, const char *name, int type,
		     unsigned char *ans, size_t size)
{
	int err = dns_init(d, r);
	if (err)
		return err;
	int n = res_nquery(&d->st, name, ns_c_in, type, ans, (int)size);
	if (n >= 0)
		return n;
	switch (d->st.res_h_errno) {
	case HOST_NOT_FOUND:
	case NO_DATA:
		return -ENOENT;
	case TRY_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

enum { DNS_ANSWER_MAX = 4096 };

/* A and AAAA of `name` on `port`, added to the targets: 0 when at least one
 * address came, else why not. */
static int addrs_lookup(struct sip_resolve *r, struct dns *d, const char *name, uint16_t port)
{
	size_t before = r->count;
	int err = -ENOENT;

	if (r->has_ns) {
		static const int types[] = {SIP_DNS_TYPE_A, SIP_DNS_TYPE_AAAA};
		unsigned char ans[DNS_ANSWER_MAX];
		for (size_t i = 0; i < ARRAY_LEN(types); i++) {
			struct net_addr addrs[SIP_RESOLVE_MAX_TARGETS];
			int n = dns_query(d, r, name, types[i], ans, sizeof(ans));
			if (n >= 0)
				n = sip__dns_addr_parse(ans, (size_t)n, types[i], port, addrs,
							ARRAY_LEN(addrs));
			if (n < 0) {
				if (err == -ENOENT)
					err = n;
				continue;
			}
			for (int k = 0; k < n; k++)
				target_add(r, &addrs[k]);
		}
	} else {
		struct addrinfo hints, *res = NULL;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_DGRAM; /* one entry per address */
		int gai = getaddrinfo(name, NULL, &hints, &res);
		if (gai == 0) {
			for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
				struct net_addr a;
				memset(&a, 0, sizeof(a));
				if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(a.u.in4))
					memcpy(&a.u.in4, ai->ai_addr, sizeof(a.u.in4));
				else if (ai->ai_family == AF_INET6 &&
					 ai->ai_addrlen >= sizeof(a.u.in6))
					memcpy(&a.u.in6, ai->ai_addr, sizeof(a.u.in6));
				else
					continue;
				net_addr_set_port(&a, port);
				target_add(r, &a);
			}
			freeaddrinfo(res);
		} else if (gai == EAI_AGAIN) {
			err = -EAGAIN;
		} else if (gai == EAI_MEMORY) {
			err = -ENOMEM;
		}
	}
	return r->count > before ? 0 : err;
}

static uint32_t random_u32(void *arg)
{
	uint32_t v;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)clock_now_ms(); /* only the spread among equal records suffers */
	return v;
}

/* SRV first when no port was given (§4.2), else the name's own addresses. */
static void lookup_work(uv_work_t *w)
{
	struct sip_resolve *r = container_of(w, struct sip_resolve, work);
	struct dns d = {.ready = false};

	r->err = -ENOENT;
	if (r->port == 0) {
		static const char *const services[] = {
		    [SIP_TRANSPORT_UDP] = "_sip._udp.",
		    [SIP_TRANSPORT_TCP] = "_sip._tcp.",
		    [SIP_TRANSPORT_TLS] = "_sips._tcp.",
		};
		char qname[SIP_DNS_NAME_MAX + 16];
		unsigned char ans[DNS_ANSWER_MAX];
		struct sip_srv srv[DNS_SRV_MAX];

		snprintf(qname, sizeof(qname), "%s%s", services[r->transport], r->host);
		int n = dns_query(&d, r, qname, SIP_DNS_TYPE_SRV, ans, sizeof(ans));
		if (n >= 0)
			n = sip__dns_srv_parse(ans, (size_t)n, srv, ARRAY_LEN(srv));
		if (n == -ECONNREFUSED)
			goto out; /* "." : no SIP service at this domain */
		if (n > 0) {
			sip__srv_order(srv, (size_t)n, random_u32, NULL);
			int err = -ENOENT;
			for (int i = 0; i < n && r->count < SIP_RESOLVE_MAX_TARGETS; i++) {
				int e = addrs_lookup(r, &d, srv[i].target, srv[i].port);
				if (e && err == -ENOENT)
					err = e;
			}
			r->err = r->count ? 0 : err;
			goto out;
		}
	}
	/* a port, or no SRV record: the name's addresses (§4.2) */
	int err = addrs_lookup(r, &d, r->host, r->port ? r->port : default_port(r->transport));
	r->err = r->count ? 0 : err;
out:
	if (d.ready)
		res_nclose(&d.st);
}

static void lookup_done(uv_work_t *w, int status)
{
	struct sip_resolve *r = container_of(w, struct sip_resolve, work);

	if (!r->cancelled && status == 0) {
		r->answered = true;
		if (r->err)
			r->cb(r->arg, r->err, NULL, 0);
		else
			r->cb(r->arg, 0, r->targets, r->count);
	}
	free(r);
}

static void literal_closed(uv_handle_t *h)
{
	free(container_of((uv_timer_t *)h, struct sip_resolve, timer));
}

static void literal_answer(uv_timer_t *t)
{
	struct sip_resolve *r = container_of(t, struct sip_resolve, timer);

	r->answered = true;
	r->cb(r->arg, 0, r->targets, r->count);
	uv_close((uv_handle_t *)&r->timer, literal_closed);
}

/* ---- the question -------------------------------------------------------------- */

/*
 * Reads `target` into r's question: a literal (r->literal, with its one
 * target ready) or a name. -EINVAL when it is neither a SIP URI nor
 * host[:port], or asks for a transport irisx does not have.
 */
static int question_parse(struct sip_resolve *r, struct str target)
{
	struct sip_uri uri;
	struct net_addr addr;
	char tmp[1100];

	target = str_trim(target);
	if (!target.p || target.len == 0 || target.len > 1024 || memchr(target.p, 0, target.len))
		return -EINVAL;
	bool is_uri = str_starts_with_i(target, "sip:") || str_starts_with_i(target, "sips:");
	if (!is_uri && net_addr_parse(&addr, target, 0) == 0) {
		/* a bare IPv6 address ("2001:db8::1") cannot carry a port */
		r->transport = SIP_TRANSPORT_UDP;
		net_addr_set_port(&addr, default_port(r->transport));
		r->literal = true;
		target_add(r, &addr);
		return 0;
	}
	if (is_uri) {
		if (sip_uri_parse(&uri, target) != 0)
			return -EINVAL;
	} else {
		/* host[:port], read as the host part of a URI */
		int n = snprintf(tmp, sizeof(tmp), "sip:%.*s", (int)target.len, target.p);
		if (n < 0 || (size_t)n >= sizeof(tmp) || sip_uri_parse(&uri, str_from_cstr(tmp)) ||
		    uri.user.len || uri.password.len || uri.headers.len)
			return -EINVAL;
	}
	bool sips = SIP__IEQ(uri.scheme, "sips");
	if (!sips && !SIP__IEQ(uri.scheme, "sip"))
		return -EINVAL;

	struct str v, host = uri.host;
	r->transport = sips ? SIP_TRANSPORT_TLS : SIP_TRANSPORT_UDP;
	if (sip_param_get(uri.params, "transport", &v)) {
		if (sip_transport_parse(v, &r->transport) != 0)
			return -EINVAL;
		if (sips && r->transport == SIP_TRANSPORT_UDP)
			return -EINVAL; /* sips needs TLS over a reliable transport */
		if (sips)
			r->transport = SIP_TRANSPORT_TLS;
	}
	if (sip_param_get(uri.params, "maddr", &v) && v.len)
		host = v;
	r->port = uri.port;

	if (net_addr_parse(&addr, host, r->port ? r->port : default_port(r->transport)) == 0) {
		r->literal = true;
		target_add(r, &addr);
		return 0;
	}
	/* a name: letters, digits, '-', '_' and dots, 1..253 octets without the final dot */
	if (host.len && host.p[host.len - 1] == '.')
		host.len--;
	if (host.len == 0 || host.len > 253)
		return -EINVAL;
	for (size_t i = 0; i < host.len; i++)
		if (!host_octet((unsigned char)host.p[i]) &&
		    (host.p[i] != '.' || i == 0 || host.p[i - 1] == '.'))
			return -EINVAL;
	memcpy(r->host, host.p, host.len);
	r->host[host.len] = '\0';
	return 0;
}

int sip_resolve_start(struct sip_resolve **out, struct uv_loop_s *loop, struct str target,
		      sip_resolve_cb cb, void *arg)
{
	if (!loop || !cb)
		return -EINVAL;
	struct sip_resolve *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->cb = cb;
	r->arg = arg;
	int err = question_parse(r, target);
	if (err)
		goto fail;

	if (r->literal) {
		/* not the pool, but still a later turn: the caller is not re-entered */
		uv_timer_init(loop, &r->timer);
		uv_timer_start(&r->timer, literal_answer, 0, 0);
	} else {
		r->has_ns = test_nameserver.set;
		r->ns = test_nameserver.addr;
		err = uv_queue_work(loop, &r->work, lookup_work, lookup_done);
		if (err)
			goto fail;
	}
	if (out)
		*out = r;
	return 0;
fail:
	free(r);
	return err;
}

void sip_resolve_cancel(struct sip_resolve *r)
{
	if (!r || r->cancelled || r->answered)
		return;
	r->cancelled = true;
	if (r->literal)
		uv_close((uv_handle_t *)&r->timer, literal_closed);
	else
		uv_cancel((uv_req_t *)&r->work); /* fails harmlessly once running */
}
