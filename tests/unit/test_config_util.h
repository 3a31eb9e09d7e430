/*
 * Helpers for the config unit tests: configuration trees written into a
 * temporary directory, and the log output of a load captured from stderr
 * (where log_write writes) so tests can assert on the warnings a user sees.
 */
#ifndef IRISX_TEST_CONFIG_UTIL_H
#define IRISX_TEST_CONFIG_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

/* A fresh directory under $TMPDIR; remove it with tree_remove(). */
static inline char *tree_create(void)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof(tmpl), "%s/irisx-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

/* Writes dir/rel (creating its directories) with `text`. */
static inline void tree_write(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		abort();
	}
	fputs(text, f);
	fclose(f);
}

static inline void tree_remove(char *dir)
{
	char cmd[PATH_MAX + 16];
	if (dir && strstr(dir, "irisx-config-")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	free(dir);
}

/* The root file most trees start from: vars.xml, then every file of
 * autoload_configs/ in the configuration section. */
#define ROOT_XML                                                                                   \
	"<?xml version=\"1.0\"?>\n"                                                                \
	"<document type=\"freeswitch/xml\">\n"                                                     \
	"  <X-PRE-PROCESS cmd=\"include\" data=\"vars.xml\"/>\n"                                   \
	"  <section name=\"configuration\">\n"                                                     \
	"    <X-PRE-PROCESS cmd=\"include\" data=\"autoload_configs/*.xml\"/>\n"                   \
	"  </section>\n"                                                                           \
	"</document>\n"

struct capture {
	int saved;
	FILE *f;
};

static inline void capture_begin(struct capture *c)
{
	fflush(stderr);
	c->f = tmpfile();
	c->saved = dup(STDERR_FILENO);
	dup2(fileno(c->f), STDERR_FILENO);
}

/* The text written to stderr since capture_begin (free()). */
static inline char *capture_end(struct capture *c)
{
	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	long n = ftell(c->f);
	char *s = malloc(n > 0 ? (size_t)n + 1 : 1);
	rewind(c->f);
	size_t got = n > 0 ? fread(s, 1, (size_t)n, c->f) : 0;
	s[got] = '\0';
	fclose(c->f);
	return s;
}

/* Loads dir, capturing the log into *log (may be NULL to discard). */
static inline int load_logged(struct config **cfg, const char *dir, const char *const *vars,
			      char *err, size_t err_size, char **log)
{
	struct capture cap;
	capture_begin(&cap);
	int rc = config_load(cfg, dir, vars, err, err_size);
	char *text = capture_end(&cap);
	if (log)
		*log = text;
	else
		free(text);
	return rc;
}

/*
 * A configuration made of ROOT_XML, an empty vars.xml and
 * autoload_configs/<file> holding `text` (NULL: an unrelated configuration
 * instead), loaded with its log discarded. The trees of the tests are valid:
 * a load error aborts.
 */
static inline struct config *config_load_one(const char *file, const char *text)
{
	struct config *cfg = NULL;
	char err[512], rel[256];
	char *dir = tree_create();
	tree_write(dir, "freeswitch.xml", ROOT_XML);
	tree_write(dir, "vars.xml", "<include/>\n");
	snprintf(rel, sizeof(rel), "autoload_configs/%s", text ? file : "other.xml");
	tree_write(dir, rel, text ? text : "<configuration name=\"x.conf\"/>\n");
	if (load_logged(&cfg, dir, NULL, err, sizeof(err), NULL) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	tree_remove(dir);
	return cfg;
}

/* How many times `needle` occurs in `hay`. */
static inline size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

#endif
