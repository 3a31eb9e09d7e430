/*
 * config_load(), config_free() and config_reload_acls(): the loader's entry
 * points, and the error and warning reporting every file of src/config uses
 * ("file:line: message").
 */
#include "config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MODULE "config"

int config__fail(struct config__ctx *c, int code, const char *file, unsigned line, const char *fmt,
		 ...)
{
	if (c->rc)
		return code;
	c->rc = code;
	if (c->err && c->err_size) {
		int n = line ? snprintf(c->err, c->err_size, "%s:%u: ", file, line)
			     : snprintf(c->err, c->err_size, "%s: ", file);
		if (n >= 0 && (size_t)n < c->err_size) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return code;
}

static void vwarn(struct config__ctx *c, bool always, const char *file, unsigned line,
		  const char *fmt, va_list ap)
{
	char msg[1024];

	c->warnings++;
	if (c->quiet && !always)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line)
		log_warn("%s:%u: %s", file, line, msg);
	else
		log_warn("%s: %s", file, msg);
}

void config__warn(struct config__ctx *c, const char *file, unsigned line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(c, false, file, line, fmt, ap);
	va_end(ap);
}

void config__warn_always(struct config__ctx *c, const char *file, unsigned line, const char *fmt,
			 ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(c, true, file, line, fmt, ap);
	va_end(ap);
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *config__root_path(const char *dir)
{
	char *p = path_join(dir, "irisx.xml");
	if (p && access(p, F_OK) == 0)
		return p;
	free(p);
	return path_join(dir, "freeswitch.xml");
}

static char **presets_copy(const char *const *vars)
{
	size_t n = 0;
	while (vars && vars[n])
		n++;
	char **copy = calloc(n + 1, sizeof(*copy));
	for (size_t i = 0; copy && i < n; i++) {
		if (!(copy[i] = strdup(vars[i]))) {
			for (size_t j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			return NULL;
		}
	}
	return copy;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	struct config__impl *impl = (struct config__impl *)cfg;
	acl_set_free(cfg->acls);
	arena_fini(&impl->arena);
	config__vars_fini(&impl->vars);
	for (size_t i = 0; impl->presets && impl->presets[i]; i++)
		free(impl->presets[i]);
	free(impl->presets);
	free(impl->root_path);
	free(impl);
}

static int load(struct config **out, const char *dir, const char *const *vars, const void *data,
		size_t len, bool confine, char *err, size_t err_size)
{
	if (err && err_size)
		err[0] = '\0';
	if (!out || !dir || !*dir) {
		if (err && err_size)
			snprintf(err, err_size, "config_load: no configuration directory");
		return -EINVAL;
	}
	struct config__impl *impl = calloc(1, sizeof(*impl));
	if (!impl) {
		if (err && err_size)
			snprintf(err, err_size, "%s: out of memory", dir);
		return -ENOMEM;
	}
	struct config__ctx c = {
	    .arena = &impl->arena,
	    .vars = &impl->vars,
	    .err = err,
	    .err_size = err_size,
	    .confine = confine,
	};
	/* "conf/" and "conf" name the same files: keep messages tidy. */
	size_t dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	char *d = arena_strndup(&impl->arena, str_make(dir, dlen));
	impl->pub.dir = d;
	impl->presets = presets_copy(vars);
	impl->root_path = d ? (data ? path_join(d, "freeswitch.xml") : config__root_path(d)) : NULL;
	int rc = 0;
	if (!d || !impl->presets || !impl->root_path)
		rc = config__fail(&c, -ENOMEM, dir, 0, "out of memory");
	if (!rc)
		rc = config__vars_init(&c, d, vars);
	if (!rc)
		rc = config__preprocess(&c, impl->root_path, data, len, &impl->pub.root);
	if (!rc)
		rc = config__sections_load(&c, &impl->pub);
	impl->pub.warning_count = c.warnings;
	if (rc) {
		config_free(&impl->pub);
		return rc;
	}
	*out = &impl->pub;
	return 0;
}

int config_load(struct config **out, const char *dir, const char *const *vars, char *err,
		size_t err_size)
{
	return load(out, dir, vars, NULL, 0, false, err, err_size);
}

int config_reload(const struct config *cfg, struct config **out, char *err, size_t err_size)
{
	const struct config__impl *impl = (const struct config__impl *)cfg;
	if (!cfg || !out)
		return -EINVAL;
	return load(out, cfg->dir, (const char *const *)impl->presets, NULL, 0, false, err,
		    err_size);
}

int config__load_mem(struct config **out, const char *dir, const void *data, size_t len,
		     bool confine, char *err, size_t err_size)
{
	return load(out, dir, NULL, data ? data : "", len, confine, err, err_size);
}

int config_reload_acls(const struct config *cfg, struct acl_set **out, char *err, size_t err_size)
{
	if (err && err_size)
		err[0] = '\0';
	if (!cfg || !out)
		return -EINVAL;
	const struct config__impl *impl = (const struct config__impl *)cfg;
	struct arena arena = {0};
	struct config__vars vars = {0};
	struct config__ctx c = {
	    .arena = &arena,
	    .vars = &vars,
	    .err = err,
	    .err_size = err_size,
	    .quiet = true, /* config_load() reported these already */
	};
	struct config_node *root = NULL;
	struct acl_set *set = NULL;

	int rc = config__vars_init(&c, cfg->dir, (const char *const *)impl->presets);
	if (!rc)
		rc = config__preprocess(&c, impl->root_path, NULL, 0, &root);
	if (!rc) {
		struct config view = {.dir = cfg->dir, .root = root};
		rc = config__acl_set_build(&c, config_section(&view, "acl.conf"), &set);
	}
	for (size_t i = 0; !rc && i < cfg->profile_count; i++) {
		const struct config_profile *p = &cfg->profiles[i];
		for (size_t j = 0; !rc && j < p->inbound_acl_count; j++)
			if (!acl_name_valid(set, p->inbound_acls[j]))
				rc = config__fail(&c, -EINVAL, p->file, p->line,
						  "profile '%s' uses ACL list '%s', which acl.conf "
						  "no longer defines (reload refused)",
						  p->name, p->inbound_acls[j]);
	}
	arena_fini(&arena);
	config__vars_fini(&vars);
	if (rc) {
		acl_set_free(set);
		return rc;
	}
	*out = set;
	return 0;
}
