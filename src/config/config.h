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
 */
#ifndef IRISX_CONFIG_H
#define IRISX_CONFIG_H

#include "base/base.h"

/* ---- the generic tree ---- */

struct config_attr {
	const char *name; /* owned by the tree */
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
 * Whether `addr` is allowed by list `name`. An unknown list denies.
 * Matching follows FreeSWITCH: the most specific matching node decides;
 * no match gives the list's default.
 */
bool acl_check(const struct acl_set *set, const char *name, const struct net_addr *addr);
const struct acl_list *acl_find(const struct acl_set *set, const char *name);
bool acl_list_check(const struct acl_list *list, const struct net_addr *addr);

/* ---- typed sections ---- */

enum { CONFIG_NAME_MAX = 64, CONFIG_HOST_MAX = 256 };

struct config_switch {
	uint16_t rtp_start_port;     /* 16384 */
	uint16_t rtp_end_port;       /* 32768 */
	uint32_t max_sessions;       /* 1000 */
	uint32_t sessions_per_second; /* 30 */
	const char *file;
	unsigned line;
};

struct config_gateway {
	char name[CONFIG_NAME_MAX];
	const char *proxy, *realm, *username, *password, *from_user, *from_domain;
	const char *register_transport, *extension, *contact_params;
	bool do_register, caller_id_in_from;
	uint32_t expire_seconds, retry_seconds, ping_seconds;
	const char *file;
	unsigned line;
};

struct config_profile {
	char name[CONFIG_NAME_MAX];
	const char *sip_ip;  /* address to bind, never NULL */
	uint16_t sip_port;
	const char *ext_sip_ip; /* advertised in Via/Contact when set, or NULL */
	const char *rtp_ip;
	const char *ext_rtp_ip;
	/* ACL list names (apply-inbound-acl may be repeated or comma-separated) */
	const char **inbound_acls;
	size_t inbound_acl_count;
	const char *context;  /* "public" */
	const char *dialplan; /* "XML" */
	bool enable_tcp;      /* both UDP and TCP unless bind-params says otherwise */
	struct config_gateway *gateways;
	size_t gateway_count;
	const char *file;
	unsigned line;
};

struct config {
	const char *dir; /* the configuration directory */
	struct config_node *root; /* the whole preprocessed document */
	struct config_switch sw;
	struct config_profile *profiles;
	size_t profile_count;
	struct acl_set *acls;
};

/*
 * Loads the configuration under `dir`. `vars` are preset globals (name=value
 * strings, may be NULL) visible to $${…} before vars.xml runs, such as
 * "state_dir=/var/lib/irisx". On failure returns a negative errno and writes
 * "file:line: message" into err.
 */
int config_load(struct config **out, const char *dir, const char *const *vars, char *err,
		size_t err_size);
void config_free(struct config *cfg);

/*
 * Reloads only acl.conf (SIGHUP, `reloadacl`): builds a new ACL set from the
 * files on disk. On success *out is a new set for the caller to swap in (and
 * free the old with acl_set_free()).
 */
int config_reload_acls(const struct config *cfg, struct acl_set **out, char *err,
		       size_t err_size);
void acl_set_free(struct acl_set *set);

/* A preprocessed global variable ($${name}); NULL if unset. */
const char *config_var(const struct config *cfg, const char *name);

/*
 * The <configuration name="NAME"> element under <section name="configuration">
 * (e.g. "sofia.conf"), or NULL.
 */
const struct config_node *config_section(const struct config *cfg, const char *name);
/* <section name="NAME"> (e.g. "dialplan"), or NULL. */
const struct config_node *config_document_section(const struct config *cfg, const char *name);

/* Parses a FreeSWITCH boolean ("true", "yes", "on", "1", "enabled"…). */
bool config_is_true(const char *v);

#endif
