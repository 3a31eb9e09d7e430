/*
 * IVR menus from autoload_configs/ivr.conf.xml, FreeSWITCH's subset:
 *
 *   <configuration name="ivr.conf"><menus>
 *     <menu name="demo" greet-long="…" greet-short="…" invalid-sound="…"
 *           exit-sound="…" timeout="10000" inter-digit-timeout="2000"
 *           max-failures="3" max-timeouts="3" digit-len="1">
 *       <entry action="menu-exec-app" digits="1" param="echo"/>
 *       <entry action="menu-sub" digits="2" param="other_menu"/>
 *       <entry action="menu-back" digits="8"/>
 *       <entry action="menu-top" digits="9"/>
 *       <entry action="menu-exit" digits="*"/>
 *     </menu>
 *   </menus></configuration>
 *
 * Loaded with the dialplan (same object, same reference count) so that a
 * reload replaces both at once and a menu in use stays valid. Wrong input
 * fails the load with "file:line: message"; an attribute irisx does not
 * know (tts-engine, confirm-macro…) is a warning. Entries match their
 * digits exactly (the /regex/ form is refused, not silently ignored).
 */
#include "dialplan_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "dialplan"

struct ivr_loader {
	struct dialplan_xml *x;
	char *err;
	size_t err_size;
	int rc;
};

static int ivr_fail(struct ivr_loader *l, const struct config_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ivr_fail(struct ivr_loader *l, const struct config_node *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!l->rc && l->err && l->err_size)
		snprintf(l->err, l->err_size, "%s:%u: %s", n->file, n->line, msg);
	if (!l->rc)
		l->rc = -EINVAL;
	return l->rc;
}

static const char *const menu_attrs[] = {
    "name",    "greet-long",	      "greet-short",  "invalid-sound", "exit-sound",
    "timeout", "inter-digit-timeout", "max-failures", "max-timeouts",  "digit-len"};

static bool known(const char *a, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a, list[i]) == 0)
			return true;
	return false;
}

static const char *dup_attr(struct ivr_loader *l, const struct config_node *n, const char *name)
{
	const char *v = config_node_attr(n, name);
	const char *s = arena_strdup(&l->x->arena, v ? v : "");
	if (!s)
		ivr_fail(l, n, "out of memory");
	return s;
}

static void num_attr(struct ivr_loader *l, const struct config_node *n, const char *name,
		     uint32_t lo, uint32_t hi, uint32_t *out)
{
	const char *v = config_node_attr(n, name);
	if (!v)
		return;
	if (str_to_u32(str_trim(str_from_cstr(v)), out) != 0 || *out < lo || *out > hi)
		ivr_fail(l, n, "%s=\"%s\" is not a number from %u to %u", name, v, lo, hi);
}

static bool digits_ok(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || n > CORE_DTMF_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789*#ABCD", d[i]))
			return false;
	return true;
}

static void load_entry(struct ivr_loader *l, const struct config_node *n,
		       struct dialplan__ivr_entry *e)
{
	const char *action = config_node_attr(n, "action");
	const char *digits = config_node_attr(n, "digits");
	const char *param = config_node_attr(n, "param");

	e->file = n->file;
	e->line = n->line;
	for (size_t i = 0; i < n->attr_count; i++) {
		const char *a = n->attrs[i].name;
		if (strcmp(a, "action") && strcmp(a, "digits") && strcmp(a, "param")) {
			l->x->warnings++;
			log_warn("%s:%u: attribute '%s' of <entry> is not supported by irisx "
				 "(ignored)",
				 n->file, n->line, a);
		}
	}
	if (!action) {
		ivr_fail(l, n, "<entry> without action");
		return;
	}
	if (!digits || !*digits) {
		ivr_fail(l, n, "<entry> without digits");
		return;
	}
	if (digits[0] == '/') {
		ivr_fail(l, n,
			 "digits=\"%s\": regular expressions in menu entries are not "
			 "supported by irisx",
			 digits);
		return;
	}
	if (!digits_ok(digits)) {
		ivr_fail(l, n, "digits=\"%s\" is not DTMF (0-9 * # A-D)", digits);
		return;
	}
	e->digits = arena_strdup(&l->x->arena, digits);
	e->param = arena_strdup(&l->x->arena, param ? param : "");
	if (!e->digits || !e->param) {
		ivr_fail(l, n, "out of memory");
		return;
	}
	if (strcmp(action, "menu-exec-app") == 0) {
		e->action = DP_IVR_EXEC_APP;
		struct str p = str_trim(str_from_cstr(param));
		size_t k = 0;
		while (k < p.len && p.p[k] != ' ' && p.p[k] != '\t')
			k++;
		char name[64];
		if (p.len == 0 || str_copy_cstr(str_make(p.p, k), name, sizeof(name))) {
			ivr_fail(l, n, "menu-exec-app needs param=\"<application> [<data>]\"");
			return;
		}
		if (!(e->app = dialplan_app_find(name))) {
			ivr_fail(l, n, "menu-exec-app: unknown application '%s'", name);
			return;
		}
		e->param = arena_strndup(&l->x->arena, str_trim(str_make(p.p + k, p.len - k)));
		if (!e->param)
			ivr_fail(l, n, "out of memory");
		return;
	}
	if (strcmp(action, "menu-sub") == 0) {
		e->action = DP_IVR_SUB;
		if (!*e->param)
			ivr_fail(l, n, "menu-sub needs param=\"<menu name>\"");
		return;
	}
	if (strcmp(action, "menu-back") == 0)
		e->action = DP_IVR_BACK;
	else if (strcmp(action, "menu-top") == 0)
		e->action = DP_IVR_TOP;
	else if (strcmp(action, "menu-exit") == 0)
		e->action = DP_IVR_EXIT;
	else
		ivr_fail(l, n,
			 "action=\"%s\" is not one of menu-exec-app, menu-sub, menu-back, "
			 "menu-top, menu-exit",
			 action);
}

static void load_menu(struct ivr_loader *l, const struct config_node *n,
		      struct dialplan__ivr_menu *m)
{
	m->file = n->file;
	m->line = n->line;
	for (size_t i = 0; i < n->attr_count; i++)
		if (!known(n->attrs[i].name, menu_attrs, ARRAY_LEN(menu_attrs))) {
			l->x->warnings++;
			log_warn("%s:%u: attribute '%s' of <menu> is not supported by irisx "
				 "(ignored)",
				 n->file, n->line, n->attrs[i].name);
		}
	const char *name = config_node_attr(n, "name");
	if (!name || !*name) {
		ivr_fail(l, n, "<menu> without a name");
		return;
	}
	m->name = dup_attr(l, n, "name");
	m->greet_long = dup_attr(l, n, "greet-long");
	m->greet_short = dup_attr(l, n, "greet-short");
	m->invalid_sound = dup_attr(l, n, "invalid-sound");
	m->exit_sound = dup_attr(l, n, "exit-sound");
	if (l->rc)
		return;
	if (!*m->greet_short)
		m->greet_short = m->greet_long; /* as FreeSWITCH */
	m->timeout_ms = 10000;
	m->inter_digit_ms = 2000;
	m->max_failures = 3;
	m->max_timeouts = 3;
	m->digit_len = 0;
	num_attr(l, n, "timeout", 1, 3600000, &m->timeout_ms);
	num_attr(l, n, "inter-digit-timeout", 1, 3600000, &m->inter_digit_ms);
	num_attr(l, n, "max-failures", 1, 100, &m->max_failures);
	num_attr(l, n, "max-timeouts", 1, 100, &m->max_timeouts);
	num_attr(l, n, "digit-len", 1, CORE_DTMF_MAX, &m->digit_len);

	size_t k = 0;
	for (const struct config_node *c = n->first_child; c; c = c->next)
		if (strcmp(c->name, "entry") == 0)
			k++;
	if (k && !(m->entries = arena_alloc(&l->x->arena, k * sizeof(*m->entries)))) {
		ivr_fail(l, n, "out of memory");
		return;
	}
	size_t longest = 0;
	for (const struct config_node *c = n->first_child; c && !l->rc; c = c->next) {
		if (strcmp(c->name, "entry") != 0) {
			l->x->warnings++;
			log_warn("%s:%u: element <%s> in a menu is not supported by irisx "
				 "(ignored)",
				 c->file, c->line, c->name);
			continue;
		}
		struct dialplan__ivr_entry *e = &m->entries[m->entry_count];
		load_entry(l, c, e);
		if (l->rc)
			return;
		for (size_t j = 0; j < m->entry_count; j++)
			if (strcmp(m->entries[j].digits, e->digits) == 0) {
				ivr_fail(l, c, "digits \"%s\" are taken already (line %u)",
					 e->digits, m->entries[j].line);
				return;
			}
		m->entry_count++;
		if (strlen(e->digits) > longest)
			longest = strlen(e->digits);
	}
	if (!m->digit_len)
		m->digit_len = longest ? (uint32_t)longest : 1;
	else if (longest > m->digit_len)
		ivr_fail(l, n, "digit-len=\"%u\" is shorter than an entry's %zu digits",
			 m->digit_len, longest);
}

static const struct dialplan__ivr_menu *find(const struct dialplan_xml *x, const char *name)
{
	for (size_t i = 0; i < x->menu_count; i++)
		if (strcmp(x->menus[i].name, name) == 0)
			return &x->menus[i];
	return NULL;
}

const struct dialplan__ivr_menu *dialplan__ivr_find(const struct dialplan_xml *x, const char *name)
{
	return x && name ? find(x, name) : NULL;
}

int dialplan__ivr_load(struct dialplan_xml *x, const struct config *cfg, char *err, size_t err_size)
{
	struct ivr_loader l = {.x = x, .err = err, .err_size = err_size};
	const struct config_node *conf = config_section(cfg, "ivr.conf");
	if (!conf)
		return 0;
	const struct config_node *menus = config_node_child(conf, "menus");
	if (!menus)
		return 0;
	size_t k = 0;
	for (const struct config_node *c = menus->first_child; c; c = c->next)
		if (strcmp(c->name, "menu") == 0)
			k++;
	if (k && !(x->menus = arena_alloc(&x->arena, k * sizeof(*x->menus))))
		return ivr_fail(&l, menus, "out of memory");
	for (const struct config_node *c = menus->first_child; c && !l.rc; c = c->next) {
		if (strcmp(c->name, "menu") != 0) {
			x->warnings++;
			log_warn("%s:%u: element <%s> in <menus> is not supported by irisx "
				 "(ignored)",
				 c->file, c->line, c->name);
			continue;
		}
		struct dialplan__ivr_menu *m = &x->menus[x->menu_count];
		load_menu(&l, c, m);
		if (l.rc)
			break;
		const struct dialplan__ivr_menu *dup = find(x, m->name);
		if (dup) {
			ivr_fail(&l, c, "menu \"%s\" is defined already (%s:%u)", m->name,
				 dup->file, dup->line);
			break;
		}
		x->menu_count++;
	}
	/* menu-sub may name a menu defined further down */
	for (size_t i = 0; i < x->menu_count && !l.rc; i++) {
		struct dialplan__ivr_menu *m = &x->menus[i];
		for (size_t j = 0; j < m->entry_count; j++) {
			struct dialplan__ivr_entry *e = &m->entries[j];
			if (e->action != DP_IVR_SUB)
				continue;
			if (!(e->sub = find(x, e->param))) {
				struct config_node where = {.file = e->file, .line = e->line};
				ivr_fail(&l, &where, "menu-sub: no menu named \"%s\"", e->param);
				break;
			}
		}
	}
	return l.rc;
}
