/*
 * cdr.conf.xml: which sinks, where, and what each record carries.
 *
 *   <configuration name="cdr.conf">
 *     <settings>
 *       <param name="store" value="sqlite"/>      (repeatable: sqlite, postgres, csv)
 *       <param name="sqlite-path" value="..."/>
 *       <param name="pg-dsn" value="host=... dbname=..."/>
 *       <param name="csv-path" value="..."/>  <param name="csv-template" value="..."/>
 *       <param name="spool-dir" value="..."/>
 *       <param name="batch-size" value="256"/>
 *       <param name="extra-variables" value="var1,var2"/>
 *     </settings>
 *   </configuration>
 *
 * Anything unknown or malformed is an error naming the file and line
 * (DESIGN.md principle 6): a CDR setting silently ignored loses records.
 */
#define LOG_MODULE "store"
#include "config/config.h"
#include "store_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { BATCH_DEFAULT = 256, BATCH_MAX = 10000 };

void cdr_conf_default(struct cdr_conf *out, const char *state_dir)
{
	const char *dir = state_dir && *state_dir ? state_dir : ".";
	memset(out, 0, sizeof(*out));
	snprintf(out->sqlite_path, sizeof(out->sqlite_path), "%s/cdr.sqlite", dir);
	snprintf(out->spool_dir, sizeof(out->spool_dir), "%s/cdr-spool", dir);
	snprintf(out->csv_path, sizeof(out->csv_path), "%s/cdr.csv", dir);
	out->batch_size = BATCH_DEFAULT;
}

static int conf_err(const struct config_node *n, char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int conf_err(const struct config_node *n, char *err, size_t err_size, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, err_size, "%s:%u: cdr.conf: %s", n->file ? n->file : "?", n->line, msg);
	return -EINVAL;
}

static int set_path(char *dst, size_t size, const char *value, const struct config_node *p,
		    char *err, size_t err_size)
{
	if (!*value)
		return conf_err(p, err, err_size, "%s must not be empty",
				config_node_attr(p, "name"));
	if (snprintf(dst, size, "%s", value) >= (int)size)
		return conf_err(p, err, err_size, "%s is too long", config_node_attr(p, "name"));
	return 0;
}

static int parse_extra(struct cdr_conf *c, const char *value, const struct config_node *p,
		       char *err, size_t err_size)
{
	const char *s = value;
	while (*s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		struct str name = str_trim(str_make(s, len));
		if (name.len) {
			if (c->extra_count >= CDR_EXTRA_MAX)
				return conf_err(p, err, err_size,
						"extra-variables: at most %d variables",
						CDR_EXTRA_MAX);
			if (name.len >= sizeof(c->extra_names[0]))
				return conf_err(p, err, err_size, "extra-variables: name too long");
			for (size_t i = 0; i < name.len; i++) {
				char ch = name.p[i];
				if (!(ch == '_' || ch == '-' || ch == '.' ||
				      (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
				      (ch >= 'A' && ch <= 'Z')))
					return conf_err(p, err, err_size,
							"extra-variables: bad variable name '%.*s'",
							(int)name.len, name.p);
			}
			memcpy(c->extra_names[c->extra_count], name.p, name.len);
			c->extra_names[c->extra_count][name.len] = '\0';
			c->extra_count++;
		}
		if (!end)
			break;
		s = end + 1;
	}
	return 0;
}

int cdr_conf_load(struct cdr_conf *out, const struct config *cfg, const char *state_dir, char *err,
		  size_t err_size)
{
	struct cdr_conf c;
	cdr_conf_default(&c, state_dir);
	const struct config_node *conf = cfg ? config_section(cfg, "cdr.conf") : NULL;
	const struct config_node *settings = conf ? config_node_child(conf, "settings") : NULL;
	const struct config_node *pg_node = NULL;
	bool any_store = false;
	int e;

	for (const struct config_node *p = settings ? config_node_child(settings, NULL) : NULL; p;
	     p = config_node_next(p, NULL)) {
		if (strcmp(p->name, "param") != 0)
			return conf_err(p, err, err_size, "unexpected <%s> in <settings>", p->name);
		const char *name = config_node_attr(p, "name");
		const char *value = config_node_attr(p, "value");
		e = 0;
		if (!name || !value)
			return conf_err(p, err, err_size, "<param> needs name and value");
		if (strcasecmp(name, "store") == 0) {
			enum cdr_sink_kind k;
			if (strcasecmp(value, "sqlite") == 0)
				k = CDR_SINK_SQLITE;
			else if (strcasecmp(value, "postgres") == 0 ||
				 strcasecmp(value, "postgresql") == 0)
				k = CDR_SINK_POSTGRES;
			else if (strcasecmp(value, "csv") == 0)
				k = CDR_SINK_CSV;
			else
				return conf_err(p, err, err_size,
						"store '%s': not sqlite, postgres or csv", value);
			if (c.sinks[k])
				return conf_err(p, err, err_size, "store '%s' given twice", value);
			c.sinks[k] = true;
			any_store = true;
			if (k == CDR_SINK_POSTGRES)
				pg_node = p;
		} else if (strcasecmp(name, "sqlite-path") == 0) {
			e = set_path(c.sqlite_path, sizeof(c.sqlite_path), value, p, err, err_size);
		} else if (strcasecmp(name, "pg-dsn") == 0) {
			e = set_path(c.pg_dsn, sizeof(c.pg_dsn), value, p, err, err_size);
		} else if (strcasecmp(name, "spool-dir") == 0) {
			e = set_path(c.spool_dir, sizeof(c.spool_dir), value, p, err, err_size);
		} else if (strcasecmp(name, "csv-path") == 0) {
			e = set_path(c.csv_path, sizeof(c.csv_path), value, p, err, err_size);
		} else if (strcasecmp(name, "csv-template") == 0) {
			e = set_path(c.csv_template, sizeof(c.csv_template), value, p, err,
				     err_size);
		} else if (strcasecmp(name, "batch-size") == 0) {
			uint32_t n;
			if (str_to_u32(str_from_cstr(value), &n) != 0 || n == 0 || n > BATCH_MAX)
				return conf_err(p, err, err_size,
						"batch-size '%s': a number from 1 to %d", value,
						BATCH_MAX);
			c.batch_size = n;
		} else if (strcasecmp(name, "extra-variables") == 0) {
			e = parse_extra(&c, value, p, err, err_size);
		} else {
			return conf_err(p, err, err_size, "unknown parameter '%s'", name);
		}
		if (e)
			return e;
	}
	if (!any_store)
		c.sinks[CDR_SINK_SQLITE] = true;
	if (c.sinks[CDR_SINK_POSTGRES] && !c.pg_dsn[0])
		return conf_err(pg_node, err, err_size, "store postgres needs a pg-dsn");
	*out = c;
	return 0;
}
