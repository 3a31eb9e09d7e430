/*
 * config internals shared by the files of src/config: the arena that owns a
 * loaded configuration, the preprocessor's variable table, the loader context
 * that carries the first error and counts warnings, and the ACL pieces the
 * unit tests and fuzz targets reach directly.
 *
 * Nothing outside src/config (and its tests) includes this header.
 */
#ifndef IRISX_CONFIG_INT_H
#define IRISX_CONFIG_INT_H

#include "config.h"

#include <stdio.h>
#include <sys/types.h>

/* ---- preprocessor variables ($${name}) ---- */

struct config__var {
	char *name; /* heap */
	char *value;
};

struct config__vars {
	struct config__var *v;
	size_t count, cap;
};

/* Names compare case-insensitively, as FreeSWITCH's global variables do. */
const char *config__var_get(const struct config__vars *vars, const char *name, size_t len);
int config__var_set(struct config__vars *vars, const char *name, size_t name_len, const char *value,
		    size_t value_len);
void config__vars_fini(struct config__vars *vars);

/* ---- the loader context ---- */

enum {
	CONFIG_INCLUDE_DEPTH_MAX = 32,
	CONFIG_FILES_MAX = 4096,	 /* files read by one load */
	CONFIG_FILE_SIZE_MAX = 16 << 20, /* one file */
	CONFIG_VALUE_MAX = 1 << 20,	 /* one expanded string */
	CONFIG_EXPANDED_MAX = 64 << 20,	 /* all expanded strings of one load */
};

struct config__ctx {
	struct arena *arena;
	struct config__vars *vars;
	char *err; /* the caller's buffer, may be NULL */
	size_t err_size;
	int rc;	      /* the first error; later ones are not reported */
	bool quiet;   /* preprocessor warnings are not logged (ACL reload) */
	bool confine; /* includes may not leave the directory (fuzzing) */
	unsigned warnings;
	size_t files;
	size_t expanded;
};

/*
 * Records "file:line: message" (or "file: message" when line is 0) unless an
 * error is already recorded, and returns `code` (negative errno) either way.
 */
int config__fail(struct config__ctx *c, int code, const char *file, unsigned line, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));
/* Logs "file:line: message" as a warning and counts it. */
void config__warn(struct config__ctx *c, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A warning about a typed section: logged even when the context is quiet. */
void config__warn_always(struct config__ctx *c, const char *file, unsigned line, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));

/*
 * Sets the built-in variables (conf_dir, base_dir, state_dir, …, hostname,
 * local_ip_v4, local_ip_v6) for configuration directory `dir`, after the
 * presets ("name=value", NULL-terminated, may be NULL), which win.
 */
int config__vars_init(struct config__ctx *c, const char *dir, const char *const *presets);

/*
 * $${name} expansion of `s` for an attribute or text read at file:line.
 * Unknown names warn and expand to nothing; ${…} is left alone. Returns an
 * arena string, or NULL with the error recorded.
 */
char *config__expand(struct config__ctx *c, const char *s, size_t len, const char *file,
		     unsigned line);

/*
 * Reads and preprocesses the root file `path` into a tree allocated from the
 * context's arena. With `data`, the root's bytes come from memory instead of
 * the file (includes are still read from disk). *out is the root element.
 */
int config__preprocess(struct config__ctx *c, const char *path, const void *data, size_t len,
		       struct config_node **out);

/* ---- the loaded configuration behind struct config ---- */

struct config__impl {
	struct config pub;
	struct arena arena;
	struct config__vars vars;
	char **presets; /* heap copies, NULL-terminated, for config_reload_acls() */
	char *root_path;
};

/* The root file for `dir`: dir/irisx.xml when present, else dir/freeswitch.xml. */
char *config__root_path(const char *dir);

/* Builds the typed views of a preprocessed tree into cfg (acls first). */
int config__sections_load(struct config__ctx *c, struct config *cfg);

/* Helpers of the typed views (sections.c), for gateway.c. */
#define CONFIG_UNSUPPORTED "parameter '%s' is not supported by irisx (ignored)"
/* <param name= value=/> (value "" when missing); false, after a warning,
 * when n is something else. */
bool config__param_read(struct config__ctx *c, const struct config_node *n, const char **name,
			const char **value);
/* A decimal in [min, max], else an error naming the parameter and `what`. */
int config__parse_u32(struct config__ctx *c, const struct config_node *n, const char *pname,
		      const char *v, uint32_t min, uint32_t max, const char *what, uint32_t *out);
/* n's name= into dst, which it must fit; `what` names the element. */
int config__copy_name(struct config__ctx *c, const struct config_node *n, const char *what,
		      char dst[CONFIG_NAME_MAX]);
/* A <gateway> element. */
int config__gateway_parse(struct config__ctx *c, const struct config_node *gn,
			  struct config_gateway *gw);

/* ---- ACLs ---- */

struct config__acl_node {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bits;
	bool allow;
	uint8_t addr[16]; /* network byte order, host bits cleared */
	const char *file;
	unsigned line;
};

struct acl_list {
	const char *name;
	bool default_allow;
	struct config__acl_node *nodes;
	size_t count, cap;
	const char *file; /* NULL for a built-in list */
	unsigned line;
};

struct acl_set {
	struct acl_list *lists;
	size_t count, cap;
	struct arena arena; /* names and file names */
};

/*
 * One CIDR ("10.0.0.0/8", "2001:db8::/32") or a bare address (a host route).
 * Surrounding blanks are allowed. 0 or -EINVAL. Pure.
 */
int config__cidr_parse(struct str s, struct config__acl_node *out);
/* The first matching node decides, as acl_list_check() describes. */
bool config__acl_nodes_check(const struct config__acl_node *nodes, size_t count, bool default_allow,
			     const struct net_addr *addr);

/*
 * Builds an ACL set: the built-in *.auto lists, then the lists of `acl_conf`
 * (the acl.conf <configuration> element, may be NULL).
 */
int config__acl_set_build(struct config__ctx *c, const struct config_node *acl_conf,
			  struct acl_set **out);

/* Addresses and prefix lengths of the host's interfaces (loopback included). */
struct config__host_addr {
	int family;
	uint8_t addr[16];
	unsigned bits;
	bool loopback;
};
size_t config__host_addrs(struct config__host_addr *out, size_t max);

/*
 * For fuzzing: loads a configuration whose root file's bytes are `data`, as
 * if they were dir/freeswitch.xml. With `confine`, an include that would leave
 * `dir` is an error.
 */
int config__load_mem(struct config **out, const char *dir, const void *data, size_t len,
		     bool confine, char *err, size_t err_size);

/* Case-insensitive ASCII comparison of NUL-terminated strings. */
bool config__ieq(const char *a, const char *b);

#endif
