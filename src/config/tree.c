/*
 * Reading the preprocessed tree: attributes, children, the sections of the
 * document, global variables, and FreeSWITCH's booleans.
 *
 * Element and attribute names compare exactly (XML is case-sensitive, and so
 * is FreeSWITCH's switch_xml_child); the values that name a section or a
 * configuration compare without regard to case, as switch_xml_find_child does.
 */
#include "config_int.h"

#include <ctype.h>
#include <string.h>

const char *config_node_attr(const struct config_node *n, const char *name)
{
	for (size_t i = 0; n && name && i < n->attr_count; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return n->attrs[i].value;
	return NULL;
}

static const struct config_node *first_named(const struct config_node *n, const char *name)
{
	for (; n; n = n->next)
		if (!name || strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

const struct config_node *config_node_child(const struct config_node *n, const char *name)
{
	return n ? first_named(n->first_child, name) : NULL;
}

const struct config_node *config_node_next(const struct config_node *n, const char *name)
{
	return n ? first_named(n->next, name) : NULL;
}

/* The first child `tag` whose attribute name= is `value` (any case). */
static const struct config_node *find_named(const struct config_node *n, const char *tag,
					    const char *value)
{
	for (const struct config_node *c = config_node_child(n, tag); c;
	     c = config_node_next(c, tag))
		if (config__ieq(config_node_attr(c, "name"), value))
			return c;
	return NULL;
}

const struct config_node *config_document_section(const struct config *cfg, const char *name)
{
	return cfg ? find_named(cfg->root, "section", name) : NULL;
}

const struct config_node *config_section(const struct config *cfg, const char *name)
{
	return find_named(config_document_section(cfg, "configuration"), "configuration", name);
}

int config_settings_each(const struct config *cfg, const char *conf_name, config_param_cb cb,
			 void *arg)
{
	const struct config_node *conf = cfg ? config_section(cfg, conf_name) : NULL;
	const struct config_node *settings = conf ? config_node_child(conf, "settings") : NULL;
	for (const struct config_node *p = settings ? config_node_child(settings, "param") : NULL;
	     p; p = config_node_next(p, "param")) {
		const char *name = config_node_attr(p, "name");
		const char *value = config_node_attr(p, "value");
		if (!name || !value)
			continue;
		int rc = cb(arg, p, name, value);
		if (rc)
			return rc;
	}
	return 0;
}

const char *config_var(const struct config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	const struct config__impl *impl = (const struct config__impl *)cfg;
	return config__var_get(&impl->vars, name, strlen(name));
}

bool config_is_true(const char *v)
{
	static const char *const words[] = {"yes", "on", "true", "t", "enabled", "active", "allow"};

	if (!v)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (config__ieq(v, words[i]))
			return true;
	/* A number is true when it is not zero ("0", "00" and "-0" are false). */
	const char *p = v + (*v == '-' || *v == '+');
	if (!*p)
		return false;
	bool nonzero = false;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		nonzero |= *p != '0';
	}
	return nonzero;
}
