/*
 * Preprocessor variables: the table behind X-PRE-PROCESS set and $${name},
 * the built-in variables FreeSWITCH configurations expect (conf_dir,
 * local_ip_v4, …), and the expansion of $${…} in attribute values and text.
 *
 * As in FreeSWITCH, an unknown variable expands to nothing (here with a
 * warning), a variable is looked up by name without regard to case, and
 * ${…} (one dollar: a channel variable) is left for the dialplan.
 */
#include "config_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LOG_MODULE "config"

bool config__ieq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static struct config__var *var_find(const struct config__vars *vars, const char *name, size_t len)
{
	for (size_t i = 0; i < vars->count; i++) {
		struct config__var *v = &vars->v[i];
		if (strlen(v->name) == len && strncasecmp(v->name, name, len) == 0)
			return v;
	}
	return NULL;
}

const char *config__var_get(const struct config__vars *vars, const char *name, size_t len)
{
	struct config__var *v = var_find(vars, name, len);
	return v ? v->value : NULL;
}

int config__var_set(struct config__vars *vars, const char *name, size_t name_len, const char *value,
		    size_t value_len)
{
	char *nv = strndup(value, value_len);
	if (!nv)
		return -ENOMEM;
	struct config__var *v = var_find(vars, name, name_len);
	if (v) {
		free(v->value);
		v->value = nv;
		return 0;
	}
	if (vars->count == vars->cap) {
		size_t cap = vars->cap ? vars->cap * 2 : 32;
		struct config__var *n = realloc(vars->v, cap * sizeof(*n));
		if (!n) {
			free(nv);
			return -ENOMEM;
		}
		vars->v = n;
		vars->cap = cap;
	}
	char *nn = strndup(name, name_len);
	if (!nn) {
		free(nv);
		return -ENOMEM;
	}
	vars->v[vars->count++] = (struct config__var){nn, nv};
	return 0;
}

void config__vars_fini(struct config__vars *vars)
{
	for (size_t i = 0; i < vars->count; i++) {
		free(vars->v[i].name);
		free(vars->v[i].value);
	}
	free(vars->v);
	memset(vars, 0, sizeof(*vars));
}

/* ---- the host's addresses ---- */

static unsigned mask_bits(const uint8_t *m, size_t n)
{
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++)
		bits += (unsigned)__builtin_popcount(m[i]);
	return bits;
}

size_t config__host_addrs(struct config__host_addr *out, size_t max)
{
	struct ifaddrs *ifs, *i;
	size_t n = 0;

	if (getifaddrs(&ifs) != 0)
		return 0;
	for (i = ifs; i && n < max; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
			continue;
		struct config__host_addr *h = &out[n];
		memset(h, 0, sizeof(*h));
		h->loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)i->ifa_addr;
			const struct sockaddr_in *m = (const void *)i->ifa_netmask;
			h->family = AF_INET;
			memcpy(h->addr, &a->sin_addr, 4);
			h->bits = m ? mask_bits((const uint8_t *)&m->sin_addr, 4) : 32;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const void *)i->ifa_addr;
			const struct sockaddr_in6 *m = (const void *)i->ifa_netmask;
			h->family = AF_INET6;
			memcpy(h->addr, &a->sin6_addr, 16);
			h->bits = m ? mask_bits((const uint8_t *)&m->sin6_addr, 16) : 128;
		} else {
			continue;
		}
		n++;
	}
	freeifaddrs(ifs);
	return n;
}

/* FreeSWITCH's local_ip_v4: the first non-loopback IPv4 address (127.0.0.1
 * when there is none); local_ip_v6 likewise prefers a global address. */
static void host_ips(char v4[INET_ADDRSTRLEN], char mask4[INET_ADDRSTRLEN],
		     char v6[INET6_ADDRSTRLEN])
{
	struct config__host_addr h[64];
	size_t n = config__host_addrs(h, ARRAY_LEN(h));
	bool have4 = false, have6 = false;

	strcpy(v4, "127.0.0.1");
	strcpy(mask4, "255.0.0.0");
	strcpy(v6, "::1");
	for (size_t i = 0; i < n; i++) {
		if (h[i].loopback)
			continue;
		if (h[i].family == AF_INET && !have4) {
			inet_ntop(AF_INET, h[i].addr, v4, INET_ADDRSTRLEN);
			uint32_t m = h[i].bits ? htonl(~0u << (32 - h[i].bits)) : 0;
			inet_ntop(AF_INET, &m, mask4, INET_ADDRSTRLEN);
			have4 = true;
		} else if (h[i].family == AF_INET6 && !have6 &&
			   !IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)h[i].addr)) {
			inet_ntop(AF_INET6, h[i].addr, v6, INET6_ADDRSTRLEN);
			have6 = true;
		}
	}
}

/* ---- built-in variables ---- */

static int set_default(struct config__vars *vars, const char *name, const char *value)
{
	if (config__var_get(vars, name, strlen(name)))
		return 0; /* a preset wins */
	return config__var_set(vars, name, strlen(name), value, strlen(value));
}

static int set_below(struct config__vars *vars, const char *name, const char *base, const char *sub)
{
	char path[PATH_MAX];
	const char *b = config__var_get(vars, base, strlen(base));
	int n = snprintf(path, sizeof(path), "%s/%s", b ? b : ".", sub);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return set_default(vars, name, path);
}

int config__vars_init(struct config__ctx *c, const char *dir, const char *const *presets)
{
	struct config__vars *vars = c->vars;
	char abs[PATH_MAX], base[PATH_MAX], host[256];
	char v4[INET_ADDRSTRLEN], mask4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	int rc = 0;

	for (size_t i = 0; presets && presets[i]; i++) {
		const char *eq = strchr(presets[i], '=');
		if (!eq || eq == presets[i])
			return config__fail(c, -EINVAL, "preset", 0, "'%s' is not name=value",
					    presets[i]);
		rc = config__var_set(vars, presets[i], (size_t)(eq - presets[i]), eq + 1,
				     strlen(eq + 1));
		if (rc)
			return config__fail(c, rc, "preset", 0, "out of memory");
	}

	if (!realpath(dir, abs))
		snprintf(abs, sizeof(abs), "%s", dir);
	snprintf(base, sizeof(base), "%s", abs);
	char *slash = strrchr(base, '/');
	if (slash && slash != base)
		*slash = '\0';
	else if (slash)
		slash[1] = '\0';
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	host_ips(v4, mask4, v6);

	/* Order matters: later defaults are derived from earlier values, which
	 * may be presets (a preset state_dir moves recordings_dir with it). */
	static const struct {
		const char *name, *base, *sub;
	} below[] = {
	    {"state_dir", "base_dir", "var"},	     {"recordings_dir", "state_dir", "recordings"},
	    {"storage_dir", "state_dir", "storage"}, {"db_dir", "state_dir", "db"},
	    {"run_dir", "state_dir", "run"},	     {"log_dir", "state_dir", "log"},
	    {"sounds_dir", "base_dir", "sounds"},    {"script_dir", "base_dir", "scripts"},
	    {"certs_dir", "conf_dir", "tls"},
	};
	const struct {
		const char *name, *value;
	} plain[] = {
	    {"temp_dir", "/tmp"},     {"hostname", host},  {"local_ip_v4", v4},
	    {"local_mask_v4", mask4}, {"local_ip_v6", v6},
	};
	rc = set_default(vars, "conf_dir", abs);
	if (!rc)
		rc = set_default(vars, "base_dir", base);
	for (size_t i = 0; !rc && i < ARRAY_LEN(below); i++)
		rc = set_below(vars, below[i].name, below[i].base, below[i].sub);
	for (size_t i = 0; !rc && i < ARRAY_LEN(plain); i++)
		rc = set_default(vars, plain[i].name, plain[i].value);
	if (rc)
		return config__fail(c, rc, dir, 0, "cannot set the built-in variables: %s",
				    strerror(-rc));
	return 0;
}

/* ---- expansion ---- */

/* The '}' closing the '{' at s[0], counting nested braces, or NULL. */
static const char *close_brace(const char *s, const char *end)
{
	int depth = 0;
	for (const char *p = s; p < end; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

char *config__expand(struct config__ctx *c, const char *s, size_t len, const char *file,
		     unsigned line)
{
	const char *end = s + len, *p = s;
	struct buf b;
	char *out;

	if (!memmem(s, len, "$${", 3)) {
		out = arena_strndup(c->arena, str_make(s, len));
		if (!out)
			config__fail(c, -ENOMEM, file, line, "out of memory");
		return out;
	}
	buf_init(&b);
	while (p < end) {
		const char *d = memmem(p, (size_t)(end - p), "$${", 3);
		if (!d) {
			buf_append(&b, p, (size_t)(end - p));
			break;
		}
		buf_append(&b, p, (size_t)(d - p));
		/* Report against the line the reference is on, not the start. */
		unsigned at = line;
		for (const char *q = s; q < d; q++)
			at += *q == '\n';
		const char *close = close_brace(d + 2, end);
		if (!close) {
			config__warn(c, file, at, "unterminated $${ (kept as written)");
			buf_append(&b, d, (size_t)(end - d));
			break;
		}
		const char *name = d + 3;
		size_t nlen = (size_t)(close - name);
		const char *v = config__var_get(c->vars, name, nlen);
		if (v)
			buf_append_cstr(&b, v);
		else
			config__warn(c, file, at, "unknown variable $${%.*s} (expands to nothing)",
				     (int)nlen, name);
		if (b.len > CONFIG_VALUE_MAX)
			break;
		p = close + 1;
	}
	if (b.failed) {
		buf_fini(&b);
		config__fail(c, -ENOMEM, file, line, "out of memory");
		return NULL;
	}
	c->expanded += b.len;
	if (b.len > CONFIG_VALUE_MAX || c->expanded > CONFIG_EXPANDED_MAX) {
		int cap = b.len > CONFIG_VALUE_MAX ? CONFIG_VALUE_MAX : CONFIG_EXPANDED_MAX;
		buf_fini(&b);
		config__fail(c, -EINVAL, file, line,
			     "$${…} expansion grows past %d bytes (variables doubling "
			     "each other?)",
			     cap);
		return NULL;
	}
	out = arena_strndup(c->arena, str_make(b.p ? b.p : "", b.len));
	buf_fini(&b);
	if (!out)
		config__fail(c, -ENOMEM, file, line, "out of memory");
	return out;
}
