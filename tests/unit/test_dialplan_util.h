/*
 * Helpers for the dialplan unit tests: a dialplan written into a temporary
 * configuration tree and loaded the way irisx loads it, a table of fake
 * channel variables, and a stand-in executor that runs a route's variable
 * applications (set, export, unset) in order and renders every action as
 * "app(expanded data)" — what a call would execute.
 */
#ifndef IRISX_TEST_DIALPLAN_UTIL_H
#define IRISX_TEST_DIALPLAN_UTIL_H

#include "test_config_util.h"

#include "dialplan/dialplan_int.h"

#define DP_ROOT_XML                                                                                \
	"<?xml version=\"1.0\"?>\n"                                                                \
	"<document type=\"freeswitch/xml\">\n"                                                     \
	"  <section name=\"dialplan\">\n"                                                          \
	"    <X-PRE-PROCESS cmd=\"include\" data=\"dialplan/*.xml\"/>\n"                           \
	"  </section>\n"                                                                           \
	"</document>\n"

/*
 * Loads `xml` (the content of dialplan/test.xml: an <include> of contexts)
 * into *out (dp_load_tree: a tree of root_xml and `file` holding `content`).
 * err gets "file:line: message" with the file name relative to
 * the temporary tree ("dialplan/test.xml:3: …"); *log (may be NULL) what was
 * logged.
 */
static inline int dp_load_tree(struct dialplan_xml **out, const char *root_xml, const char *file,
				const char *content, char *err, size_t err_size, char **log)
{
	char *dir = tree_create(), full[1024];
	struct config *cfg = NULL;
	struct capture cap;

	tree_write(dir, "freeswitch.xml", root_xml);
	tree_write(dir, file, content);
	int rc = config_load(&cfg, dir, NULL, err, err_size);
	if (rc) {
		fprintf(stderr, "config_load: %s\n", err);
		abort();
	}
	capture_begin(&cap);
	rc = dialplan_xml_create(out, cfg, err, err_size);
	char *text = capture_end(&cap);
	config_free(cfg);

	/* make file names relative to the tree, so tests can spell them */
	snprintf(full, sizeof(full), "%s/", dir);
	for (char *s = err; (s = strstr(s, full));)
		memmove(s, s + strlen(full), strlen(s + strlen(full)) + 1);
	for (char *s = text; (s = strstr(s, full));)
		memmove(s, s + strlen(full), strlen(s + strlen(full)) + 1);
	if (log)
		*log = text;
	else
		free(text);
	tree_remove(dir);
	return rc;
}

static inline int dp_load(struct dialplan_xml **out, const char *xml, char *err, size_t err_size,
			  char **log)
{
	return dp_load_tree(out, DP_ROOT_XML, "dialplan/test.xml", xml, err, err_size, log);
}

/* ---- fake channel variables ---- */

enum { FAKE_VARS_MAX = 64 };

struct fake_vars {
	char *name[FAKE_VARS_MAX];
	char *value[FAKE_VARS_MAX];
	size_t count;
	size_t sets; /* set_cb calls */
};

static inline const char *fake_get(void *arg, const char *name)
{
	struct fake_vars *f = arg;
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return NULL;
}

static inline int fake_set(void *arg, const char *name, const char *value)
{
	struct fake_vars *f = arg;
	f->sets++;
	for (size_t i = 0; i < f->count; i++) {
		if (strcmp(f->name[i], name) == 0) {
			free(f->value[i]);
			if (value) {
				f->value[i] = strdup(value);
			} else {
				free(f->name[i]);
				f->count--;
				f->name[i] = f->name[f->count];
				f->value[i] = f->value[f->count];
			}
			return 0;
		}
	}
	if (!value)
		return 0;
	if (f->count == FAKE_VARS_MAX)
		return -ENOSPC;
	f->name[f->count] = strdup(name);
	f->value[f->count] = strdup(value);
	f->count++;
	return 0;
}

/* "a=1;b=2" (';' separates, the first '=' splits) */
static inline void fake_init(struct fake_vars *f, const char *list)
{
	memset(f, 0, sizeof(*f));
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ";");
		char *item = strndup(p, len), *eq = strchr(item, '=');
		if (eq) {
			*eq = '\0';
			fake_set(f, item, eq + 1);
		}
		free(item);
		p += len;
		if (*p == ';')
			p++;
	}
	f->sets = 0;
}

static inline void fake_fini(struct fake_vars *f)
{
	for (size_t i = 0; i < f->count; i++) {
		free(f->name[i]);
		free(f->value[i]);
	}
	f->count = 0;
}

static inline struct dialplan_vars fake_vars(struct fake_vars *f)
{
	return (struct dialplan_vars){.get_cb = fake_get, .set_cb = fake_set, .arg = f};
}

/*
 * Runs the route as the executor would, as far as the engine can: each
 * action's data is expanded against the variables at that point, set/
 * export/unset change them, and every action is rendered "app(data)",
 * joined by '|'. Returns a heap string.
 */
static inline char *route_render(const struct dialplan_route *r, const struct dialplan_vars *vars)
{
	struct buf out, data;
	buf_init(&out);
	buf_init(&data);
	for (size_t i = 0; i < r->count; i++) {
		const struct dialplan_action *a = &r->actions[i];
		buf_reset(&data);
		dialplan_expand(str_from_cstr(a->data), a->captures, vars, &data);
		const char *d = data.p ? data.p : "";
		if (a->app->flags & DIALPLAN_APP_INLINE)
			dialplan__inline_run(a->app, vars, d, NULL);
		buf_printf(&out, "%s%s(%s)", i ? "|" : "", a->app->name, d);
	}
	buf_fini(&data);
	buf_append(&out, "", 0);
	return buf_steal(&out, NULL);
}

#endif
