/*
 * ACLs: acl.conf's network lists and the built-in *.auto lists, with
 * FreeSWITCH's matching rules (switch_network_list in switch_utils.c).
 *
 * A list is a default (allow or deny) and nodes, each an IPv4 or IPv6 prefix
 * that allows or denies. An address is compared with the nodes of its own
 * family; the longest matching prefix decides, and between equal prefixes the
 * node written first (FreeSWITCH prepends nodes and keeps a later match only
 * when it is at least as long, which comes to the same). A /0 node matches
 * everything of its family. No match: the list's default.
 *
 * Differences, all reported: nodes with domain= (users from the directory,
 * which irisx does not have) are skipped; port restrictions are not enforced,
 * so an allow node with ports is skipped and a deny node with ports denies on
 * every port (both fail closed).
 */
#include "config_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MODULE "config"

/* ---- prefixes ---- */

static void clear_host_bits(uint8_t *a, unsigned bits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned lo = (unsigned)i * 8;
		if (bits >= lo + 8)
			continue;
		a[i] = bits <= lo ? 0 : (uint8_t)(a[i] & (0xFF << (8 - (bits - lo))));
	}
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	size_t full = bits / 8;
	if (memcmp(a, net, full) != 0)
		return false;
	unsigned rem = bits % 8;
	return rem == 0 || (a[full] & (uint8_t)(0xFF << (8 - rem))) == net[full];
}

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

int config__cidr_parse(struct str s, struct config__acl_node *out)
{
	char host[INET6_ADDRSTRLEN];
	uint32_t bits;

	s = str_trim(s);
	ptrdiff_t slash = str_find_char(s, '/');
	struct str h = slash < 0 ? s : str_make(s.p, (size_t)slash);
	if (str_copy_cstr(h, host, sizeof(host)) != 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		bits = 128;
	} else {
		return -EINVAL;
	}
	if (slash >= 0) {
		uint32_t b;
		struct str rest = str_make(s.p + slash + 1, s.len - (size_t)slash - 1);
		if (str_to_u32(rest, &b) != 0 || b > bits)
			return -EINVAL;
		bits = b;
	}
	/* ::ffff:a.b.c.d/n is an IPv4 prefix: addresses are checked as IPv4. */
	if (out->family == AF_INET6 && bits >= 96 && memcmp(out->addr, V4_MAPPED, 12) == 0) {
		memmove(out->addr, out->addr + 12, 4);
		memset(out->addr + 4, 0, 12);
		out->family = AF_INET;
		bits -= 96;
	}
	out->bits = (uint8_t)bits;
	clear_host_bits(out->addr, bits, out->family == AF_INET ? 4 : 16);
	return 0;
}

/* The address's family and bytes, an IPv4-mapped IPv6 address as IPv4. */
static int addr_bytes(const struct net_addr *a, uint8_t out[16])
{
	if (a->u.sa.sa_family == AF_INET) {
		memcpy(out, &a->u.in4.sin_addr, 4);
		return AF_INET;
	}
	if (a->u.sa.sa_family != AF_INET6)
		return 0;
	const uint8_t *b = a->u.in6.sin6_addr.s6_addr;
	if (memcmp(b, V4_MAPPED, 12) == 0) {
		memcpy(out, b + 12, 4);
		return AF_INET;
	}
	memcpy(out, b, 16);
	return AF_INET6;
}

bool config__acl_nodes_check(const struct config__acl_node *nodes, size_t count, bool default_allow,
			     const struct net_addr *addr)
{
	uint8_t a[16];
	int family = addr ? addr_bytes(addr, a) : 0;
	int best = -1;
	bool allow = default_allow;

	if (!family)
		return false;
	for (size_t i = 0; i < count; i++) {
		const struct config__acl_node *n = &nodes[i];
		if (n->family != family || (int)n->bits <= best)
			continue;
		if (prefix_match(a, n->addr, n->bits)) {
			best = n->bits;
			allow = n->allow;
		}
	}
	return allow;
}

/* ---- lookups ---- */

bool acl_list_check(const struct acl_list *list, const struct net_addr *addr)
{
	return list && config__acl_nodes_check(list->nodes, list->count, list->default_allow, addr);
}

const struct acl_list *acl_find(const struct acl_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->count; i++)
		if (strcasecmp(set->lists[i].name, name) == 0)
			return &set->lists[i];
	return NULL;
}

/* Calls cb for each CIDR of "a/n,b/m"; false when one does not parse. */
static bool cidr_list_each(const char *s, bool (*cb)(const struct config__acl_node *, void *),
			   void *arg)
{
	struct str rest = str_from_cstr(s);
	bool any = false;
	while (rest.len) {
		ptrdiff_t comma = str_find_char(rest, ',');
		struct str item = comma < 0 ? rest : str_make(rest.p, (size_t)comma);
		rest = comma < 0 ? STR_NULL
				 : str_make(rest.p + comma + 1, rest.len - (size_t)comma - 1);
		struct config__acl_node n;
		if (config__cidr_parse(item, &n) != 0)
			return false;
		any = true;
		if (cb && cb(&n, arg))
			break;
	}
	return any;
}

struct contains_arg {
	const struct net_addr *addr;
	bool hit;
};

static bool contains_cb(const struct config__acl_node *n, void *arg)
{
	struct contains_arg *ca = arg;
	struct config__acl_node allow = *n;
	allow.allow = true;
	ca->hit = config__acl_nodes_check(&allow, 1, false, ca->addr);
	return ca->hit;
}

bool acl_check(const struct acl_set *set, const char *name, const struct net_addr *addr)
{
	const struct acl_list *l = acl_find(set, name);
	if (l)
		return acl_list_check(l, addr);
	if (!name || !strchr(name, '/'))
		return false;
	/* All of it must parse: a typo denies rather than half-applies. */
	struct contains_arg ca = {addr, false};
	return cidr_list_each(name, NULL, NULL) && cidr_list_each(name, contains_cb, &ca) && ca.hit;
}

bool acl_name_valid(const struct acl_set *set, const char *name)
{
	return acl_find(set, name) ||
	       (name && strchr(name, '/') && cidr_list_each(name, NULL, NULL));
}

/* ---- building a set ---- */

void acl_set_free(struct acl_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		free(set->lists[i].nodes);
	free(set->lists);
	arena_fini(&set->arena);
	free(set);
}

/* A new empty list, or the existing one of that name emptied (a list in
 * acl.conf replaces a built-in of the same name, as in FreeSWITCH). */
static struct acl_list *list_add(struct acl_set *set, const char *name, bool default_allow,
				 const char *file, unsigned line)
{
	struct acl_list *l = (struct acl_list *)acl_find(set, name);
	if (!l) {
		if (set->count == set->cap) {
			size_t cap = set->cap ? set->cap * 2 : 16;
			struct acl_list *n = realloc(set->lists, cap * sizeof(*n));
			if (!n)
				return NULL;
			set->lists = n;
			set->cap = cap;
		}
		l = &set->lists[set->count++];
		memset(l, 0, sizeof(*l));
		if (!(l->name = arena_strdup(&set->arena, name))) {
			set->count--;
			return NULL;
		}
	}
	l->count = 0;
	l->default_allow = default_allow;
	l->file = file ? arena_strdup(&set->arena, file) : NULL;
	l->line = line;
	if (file && !l->file)
		return NULL;
	return l;
}

static int node_add(struct acl_list *l, const struct config__acl_node *n)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct config__acl_node *nn = realloc(l->nodes, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		l->nodes = nn;
		l->cap = cap;
	}
	l->nodes[l->count++] = *n;
	return 0;
}

struct add_arg {
	struct acl_list *list;
	bool allow;
	const char *file;
	unsigned line;
	int rc;
};

static bool add_cb(const struct config__acl_node *n, void *arg)
{
	struct add_arg *aa = arg;
	struct config__acl_node copy = *n;
	copy.allow = aa->allow;
	copy.file = aa->file;
	copy.line = aa->line;
	aa->rc = node_add(aa->list, &copy);
	return aa->rc != 0;
}

#define PRIVATE_V4 "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,169.254.0.0/16,172.16.0.0/12,192.168.0.0/16"

enum host_nets { HOST_NONE, HOST_ALLOW_ALL, HOST_DENY_V4 };

static const struct builtin {
	const char *name;
	bool default_allow;
	const char *allow, *deny;
	enum host_nets host;
} builtins[] = {
    {"rfc1918.auto", false, "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,fe80::/10", NULL,
     HOST_NONE},
    {"rfc6598.auto", false, "100.64.0.0/10", NULL, HOST_NONE},
    {"loopback.auto", false, "127.0.0.0/8,::1/128", NULL, HOST_NONE},
    {"wan.auto", true, NULL, PRIVATE_V4 ",127.0.0.0/8,::1/128,fc00::/7,fe80::/10", HOST_NONE},
    {"wan_v4.auto", true, NULL, PRIVATE_V4 ",127.0.0.0/8,::/0", HOST_NONE},
    {"wan_v6.auto", true, NULL, "0.0.0.0/0,::1/128,fc00::/7,fe80::/10", HOST_NONE},
    {"any_v4.auto", true, NULL, "::/0", HOST_NONE},
    {"any_v6.auto", true, NULL, "0.0.0.0/0", HOST_NONE},
    {"localnet.auto", false, "127.0.0.0/8,::1/128", NULL, HOST_ALLOW_ALL},
    /* The host's own subnet is not behind a NAT from its point of view;
     * written first, it wins over the private range containing it. */
    {"nat.auto", false, "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10", NULL,
     HOST_DENY_V4},
};

static int add_host_nets(struct acl_list *l, enum host_nets how)
{
	struct config__host_addr h[64];
	size_t n = config__host_addrs(h, ARRAY_LEN(h));
	for (size_t i = 0; i < n; i++) {
		if (h[i].loopback || (how == HOST_DENY_V4 && h[i].family != AF_INET))
			continue;
		struct config__acl_node node = {
		    .family = (uint8_t)h[i].family,
		    .bits = (uint8_t)h[i].bits,
		    .allow = how == HOST_ALLOW_ALL,
		};
		memcpy(node.addr, h[i].addr, 16);
		clear_host_bits(node.addr, node.bits, node.family == AF_INET ? 4 : 16);
		if (node_add(l, &node))
			return -ENOMEM;
	}
	return 0;
}

static int builtins_add(struct acl_set *set)
{
	for (size_t i = 0; i < ARRAY_LEN(builtins); i++) {
		const struct builtin *b = &builtins[i];
		struct acl_list *l = list_add(set, b->name, b->default_allow, NULL, 0);
		if (!l)
			return -ENOMEM;
		if (b->host && add_host_nets(l, b->host))
			return -ENOMEM;
		struct add_arg aa = {.list = l};
		for (int pass = 0; pass < 2 && !aa.rc; pass++) {
			const char *cidrs = pass == 0 ? b->allow : b->deny;
			aa.allow = pass == 0;
			if (cidrs && !cidr_list_each(cidrs, add_cb, &aa))
				return -EINVAL; /* our table is wrong: the unit tests catch it */
		}
		if (aa.rc)
			return aa.rc;
	}
	return 0;
}

/* ---- acl.conf ---- */

static int parse_type(struct config__ctx *c, const struct config_node *n, const char *attr,
		      const char *v, bool *allow)
{
	if (config__ieq(v, "allow")) {
		*allow = true;
		return 0;
	}
	if (config__ieq(v, "deny")) {
		*allow = false;
		return 0;
	}
	return config__fail(c, -EINVAL, n->file, n->line, "%s '%s' is neither allow nor deny", attr,
			    v);
}

/* host="a.b.c.d" mask="255.255.255.0", FreeSWITCH's IPv4-only form. */
static int host_mask_node(struct config__ctx *c, const struct config_node *n, const char *host,
			  const char *mask, struct config__acl_node *out)
{
	struct in_addr m;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) != 1)
		return config__fail(c, -EINVAL, n->file, n->line,
				    "node host '%s' is not an IPv4 address (use cidr= for IPv6)",
				    host);
	if (inet_pton(AF_INET, mask, &m) != 1)
		return config__fail(c, -EINVAL, n->file, n->line, "node mask '%s' is not a netmask",
				    mask);
	uint32_t hm = ntohl(m.s_addr);
	unsigned bits = (unsigned)__builtin_popcount(hm);
	if (bits < 32 && hm != (bits ? ~0u << (32 - bits) : 0))
		return config__fail(c, -EINVAL, n->file, n->line,
				    "node mask '%s' is not contiguous", mask);
	out->family = AF_INET;
	out->bits = (uint8_t)bits;
	clear_host_bits(out->addr, bits, 4);
	return 0;
}

static int parse_node(struct config__ctx *c, struct acl_set *set, struct acl_list *l,
		      const struct config_node *ln, const struct config_node *n)
{
	/* The set outlives the tree: nodes point at the set's copy of the file
	 * name (the list's, unless the node was included from elsewhere). */
	const char *file = n->file == ln->file ? l->file : arena_strdup(&set->arena, n->file);
	bool allow = l->default_allow;
	const char *type = config_node_attr(n, "type");
	const char *cidr = config_node_attr(n, "cidr");
	const char *host = config_node_attr(n, "host"), *mask = config_node_attr(n, "mask");
	int rc;

	if (!file)
		return config__fail(c, -ENOMEM, n->file, n->line, "out of memory");
	if (type && (rc = parse_type(c, n, "node type", type, &allow)))
		return rc;
	bool ports = false;
	for (size_t i = 0; i < n->attr_count; i++) {
		const char *a = n->attrs[i].name;
		if (config__ieq(a, "port") || config__ieq(a, "ports") ||
		    config__ieq(a, "port-min") || config__ieq(a, "port-max"))
			ports = true;
		else if (!config__ieq(a, "type") && !config__ieq(a, "cidr") &&
			 !config__ieq(a, "host") && !config__ieq(a, "mask") &&
			 !config__ieq(a, "domain"))
			config__warn_always(
			    c, n->file, n->line,
			    "node attribute '%s' is not supported by irisx (ignored)", a);
	}
	if (config_node_attr(n, "domain")) {
		config__warn_always(c, n->file, n->line,
				    "node domain= (users of the directory) is not supported by "
				    "irisx (node ignored)");
		return 0;
	}
	if (ports && allow) {
		config__warn_always(c, n->file, n->line,
				    "port restrictions are not supported by irisx (allow node "
				    "ignored)");
		return 0;
	}
	if (ports)
		config__warn_always(c, n->file, n->line,
				    "port restrictions are not supported by irisx (this deny "
				    "applies to every port)");

	struct add_arg aa = {.list = l, .allow = allow, .file = file, .line = n->line};
	if (cidr) {
		struct str rest = str_from_cstr(cidr);
		while (rest.len) {
			ptrdiff_t comma = str_find_char(rest, ',');
			struct str item = comma < 0 ? rest : str_make(rest.p, (size_t)comma);
			rest = comma < 0
				   ? STR_NULL
				   : str_make(rest.p + comma + 1, rest.len - (size_t)comma - 1);
			struct config__acl_node node;
			if (str_trim(item).len == 0)
				continue;
			if (config__cidr_parse(item, &node) != 0)
				return config__fail(c, -EINVAL, n->file, n->line,
						    "node cidr '%.*s' is not an address/prefix",
						    (int)item.len, item.p);
			if (add_cb(&node, &aa))
				return config__fail(c, -ENOMEM, n->file, n->line, "out of memory");
		}
		return 0;
	}
	if (host || mask) {
		struct config__acl_node node;
		if (!host || !mask)
			return config__fail(c, -EINVAL, n->file, n->line,
					    "node needs both host= and mask=");
		if ((rc = host_mask_node(c, n, host, mask, &node)))
			return rc;
		if (add_cb(&node, &aa))
			return config__fail(c, -ENOMEM, n->file, n->line, "out of memory");
		return 0;
	}
	return config__fail(c, -EINVAL, n->file, n->line,
			    "node has no cidr=, host=/mask= or domain=");
}

static int parse_list(struct config__ctx *c, struct acl_set *set, const struct config_node *ln)
{
	const char *name = config_node_attr(ln, "name");
	const char *dflt = config_node_attr(ln, "default");
	bool default_allow = true; /* FreeSWITCH's default when none is written */
	int rc;

	if (!name || !*name)
		return config__fail(c, -EINVAL, ln->file, ln->line, "<list> without a name");
	if (dflt && (rc = parse_type(c, ln, "list default", dflt, &default_allow)))
		return rc;
	const struct acl_list *old = acl_find(set, name);
	if (old && old->file)
		config__warn_always(c, ln->file, ln->line,
				    "list '%s' defined again: this one replaces the one at %s:%u",
				    name, old->file, old->line);
	struct acl_list *l = list_add(set, name, default_allow, ln->file, ln->line);
	if (!l)
		return config__fail(c, -ENOMEM, ln->file, ln->line, "out of memory");
	for (const struct config_node *n = config_node_child(ln, NULL); n;
	     n = config_node_next(n, NULL)) {
		if (strcmp(n->name, "node") != 0) {
			config__warn_always(c, n->file, n->line,
					    "element <%s> is not supported by irisx (ignored)",
					    n->name);
			continue;
		}
		if ((rc = parse_node(c, set, l, ln, n)))
			return rc;
	}
	return 0;
}

int config__acl_set_build(struct config__ctx *c, const struct config_node *acl_conf,
			  struct acl_set **out)
{
	struct acl_set *set = calloc(1, sizeof(*set));
	int rc;

	if (!set)
		return config__fail(c, -ENOMEM, "acl.conf", 0, "out of memory");
	if ((rc = builtins_add(set))) {
		acl_set_free(set);
		return config__fail(c, rc, "acl.conf", 0, "cannot build the built-in lists");
	}
	for (const struct config_node *n = config_node_child(acl_conf, NULL); n && !rc;
	     n = config_node_next(n, NULL)) {
		if (strcmp(n->name, "network-lists") != 0) {
			config__warn_always(c, n->file, n->line,
					    "element <%s> is not supported by irisx (ignored)",
					    n->name);
			continue;
		}
		for (const struct config_node *ln = config_node_child(n, NULL); ln && !rc;
		     ln = config_node_next(ln, NULL)) {
			if (strcmp(ln->name, "list") == 0)
				rc = parse_list(c, set, ln);
			else
				config__warn_always(c, ln->file, ln->line,
						    "element <%s> is not supported by irisx "
						    "(ignored)",
						    ln->name);
		}
	}
	if (rc) {
		acl_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}
