/*
 * config — FreeSWITCH-style XML configuration.
 *
 * The tree under a directory (freeswitch.xml or irisx.xml at its root) is read
 * with libxml2, the X-PRE-PROCESS instructions (set, include with globs) are
 * applied and $${var} references expanded, and the result is kept as a small
 * tree of nodes that remember the file and line they came from. Typed views
 * of the sections irisx uses (switch.conf, acl.conf, sofia.conf with its
 * profiles and gateways) are built from that tree; later modules read their
 * own sections (dialplan, event_socket.conf, …) through config_section().
 *
 * Errors: config_load() fails with "file:line: what is wrong" in the caller's
 * error buffer. A parameter irisx does not support is logged once as a
 * warning naming its file and line, and otherwise ignored.
 *
 * Ownership: every pointer reachable from a struct config (tree nodes,
 * strings, profiles, gateways) is owned by it and lives until config_free().
 * The ACL set is owned separately (cfg->acls, freed by config_free(); a set
 * returned by config_reload_acls() is the caller's). Nothing here is
 * thread-safe to mutate; reading a loaded config from several threads is fine.
 * docs/CONFIG.md describes the files and every parameter.
 */
#ifndef IRISX_CONFIG_H
#define IRISX_CONFIG_H

#include "base/base.h"

/* ---- the generic tree ---- */

struct config_attr {
	const char *name;  /* owned by the tree */
	const char *value; /* after $${var} expansion */
};

struct config_node {
	const char *name; /* element name */
	const char *text; /* trimmed text content, or "" */
	const char *file; /* the file the element was read from */
	unsigned line;
	struct config_attr *attrs;
	size_t attr_count;
	struct config_node *parent;
	struct config_node *first_child;
	struct config_node *next; /* next sibling */
};

/* The value of an attribute, or NULL. */
const char *config_node_attr(const struct config_node *n, const char *name);
/* The first child element named `name` (NULL: any), or NULL. */
const struct config_node *config_node_child(const struct config_node *n, const char *name);
/* The next sibling element named `name` (NULL: any) after `n`, or NULL. */
const struct config_node *config_node_next(const struct config_node *n, const char *name);

/* ---- ACLs (acl.conf.xml network-lists, plus the built-in *.auto lists) ---- */

struct acl_list;
struct acl_set;

/*
 * Whether `addr` is allowed by list `name` (names compare case-insensitively).
 * Matching follows FreeSWITCH: among the nodes of the address's family that
 * contain it, the longest prefix decides, and between equally long prefixes
 * the node written first; no match gives the list's default. An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is checked as IPv4. As in FreeSWITCH, a name
 * that is not a list but contains '/' is read as CIDRs ("10.0.0.0/8,::1/128")
 * that allow what they contain. Anything else unknown denies.
 */
bool acl_check(const struct acl_set *set, const char *name, const struct net_addr *addr);
/* The list named `name` (acl.conf or a built-in *.auto list), or NULL. */
const struct acl_list *acl_find(const struct acl_set *set, const char *name);
bool acl_list_check(const struct acl_list *list, const struct net_addr *addr);
/* Whether `name` is something acl_check() knows: a list or a valid CIDR list. */
bool acl_name_valid(const struct acl_set *set, const char *name);

/* ---- typed sections ---- */

enum { CONFIG_NAME_MAX = 64, CONFIG_HOST_MAX = 256 };

struct config_switch {
	uint16_t rtp_start_port;      /* 16384 */
	uint16_t rtp_end_port;	      /* 32768 */
	uint32_t max_sessions;	      /* 1000 */
	uint32_t sessions_per_second; /* 30 */
	const char *file;
	unsigned line;
};

/*
 * A gateway (sofia.conf profile <gateways>). Defaults as FreeSWITCH's: realm is
 * the proxy (or the gateway name), proxy the realm, from_user and extension the
 * username, from_domain the realm. With register=true (the default) username
 * and password are required; otherwise username defaults to "irisx" and
 * password to "". contact_params is NULL when unset; every other string is
 * non-NULL. register_transport is "udp", "tcp" or "tls" (tls warns: not yet
 * supported). ping_seconds 0: no OPTIONS ping.
 */
struct config_gateway {
	char name[CONFIG_NAME_MAX];
	const char *proxy, *realm, *username, *password, *from_user, *from_domain;
	const char *register_transport, *extension, *contact_params;
	bool do_register, caller_id_in_from;
	uint32_t expire_seconds, retry_seconds, ping_seconds; /* 3600, 30, 0 */
	const char *file;
	unsigned line;
};

struct config_profile {
	char name[CONFIG_NAME_MAX];
	const char *sip_ip; /* address to bind, never NULL */
	uint16_t sip_port;
	const char *ext_sip_ip; /* advertised in Via/Contact when set, or NULL */
	const char *rtp_ip;	/* never NULL: sip_ip unless set */
	const char *ext_rtp_ip; /* or NULL; only literal addresses are used */
	/* ACL list names (apply-inbound-acl may be repeated or comma-separated) */
	const char **inbound_acls;
	size_t inbound_acl_count;
	const char *context;  /* "public" */
	const char *dialplan; /* "XML" */
	bool enable_udp;      /* both UDP and TCP unless bind-params says otherwise */
	bool enable_tcp;      /* (transport=udp, transport=tcp, transport=udp,tcp) */
	/* inbound-codec-prefs: codec names in preference order ("PCMU,PCMA,G722,OPUS") */
	const char *codec_prefs;
	/* rtp-timeout-sec (60) and rtp-hold-timeout-sec (1800): no RTP for this long
	 * hangs the call up MEDIA_TIMEOUT; 0 turns the check off */
	uint32_t rtp_timeout_sec;
	uint32_t rtp_hold_timeout_sec;
	/* timer-T1, timer-T2, timer-T4: the RFC 3261 transaction timers in ms
	 * (500, 4000, 5000); a request unanswered for 64*T1 times out */
	uint32_t timer_t1_ms, timer_t2_ms, timer_t4_ms;
	/* <aliases><alias name=…/>: other names the profile answers to */
	const char **aliases;
	size_t alias_count;
	struct config_gateway *gateways;
	size_t gateway_count;
	const char *file;
	unsigned line;
};

struct config {
	const char *dir;	  /* the configuration directory */
	struct config_node *root; /* the whole preprocessed document */
	struct config_switch sw;
	struct config_profile *profiles;
	size_t profile_count;
	struct acl_set *acls;
	unsigned warning_count; /* warnings logged while loading */
};

/*
 * Loads the configuration under `dir` (its irisx.xml, or else its
 * freeswitch.xml). `vars` is a NULL-terminated array of preset globals
 * ("name=value", may be NULL) visible to $${…} before vars.xml runs, such as
 * "state_dir=/var/lib/irisx"; they override the built-in ones. Warnings go to
 * the log. On failure returns a negative errno (-ENOENT: root file or an
 * include target missing, -ELOOP: include cycle or depth, -ENOMEM, -EINVAL:
 * anything else wrong) and writes "file:line: message" into err.
 */
int config_load(struct config **out, const char *dir, const char *const *vars, char *err,
		size_t err_size);
void config_free(struct config *cfg);
/* Loads the same directory again with the same presets (SIGHUP, reloadxml). */
int config_reload(const struct config *cfg, struct config **out, char *err, size_t err_size);

/*
 * Reloads only acl.conf (SIGHUP, `reloadacl`): preprocesses the files on disk
 * again (with the same presets) and builds a new ACL set from them. Fails,
 * changing nothing, when the files are wrong or a profile's apply-inbound-acl
 * names a list that no longer exists. On success *out is a new set for the
 * caller to swap in (and free the old with acl_set_free()). Preprocessor
 * warnings already logged by config_load() are not repeated.
 */
int config_reload_acls(const struct config *cfg, struct acl_set **out, char *err, size_t err_size);
void acl_set_free(struct acl_set *set);

/* A preprocessed global variable ($${name}); NULL if unset. */
const char *config_var(const struct config *cfg, const char *name);

/*
 * The <configuration name="NAME"> element under <section name="configuration">
 * (e.g. "sofia.conf"), or NULL.
 */
const struct config_node *config_section(const struct config *cfg, const char *name);
/*
 * Calls cb for each <param name="…" value="…"/> of <configuration
 * name="conf_name"><settings>, in order, skipping a param without a name or
 * a value. Stops at cb's first non-zero return and returns it; 0 when there
 * is no such configuration or settings (the caller's defaults stand).
 */
typedef int (*config_param_cb)(void *arg, const struct config_node *param, const char *name,
			       const char *value);
int config_settings_each(const struct config *cfg, const char *conf_name, config_param_cb cb,
			 void *arg);
/* <section name="NAME"> (e.g. "dialplan"), or NULL. */
const struct config_node *config_document_section(const struct config *cfg, const char *name);

/* Parses a FreeSWITCH boolean: "true", "yes", "on", "t", "enabled", "active",
 * "allow" (any case) or a non-zero number. NULL is false. */
bool config_is_true(const char *v);

#endif
