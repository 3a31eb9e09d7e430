/*
 * The command registry shared by every door (ESL api/bgapi, REST, the CLI),
 * the global variables global_setvar sets, and the lookups commands need
 * (channels by uuid, in creation order).
 */
#include "core_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int core_command_register(struct core *core, const char *name, const char *usage,
			  const char *description, core_command_fn fn)
{
	if (!core || !name || !*name || !fn)
		return -EINVAL;
	struct core_command **pp = &core->commands;
	while (*pp && strcmp((*pp)->name, name) < 0)
		pp = &(*pp)->next;
	if (*pp && strcmp((*pp)->name, name) == 0)
		return -EEXIST;
	struct core_command *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->name = name;
	c->usage = usage ? usage : "";
	c->description = description ? description : "";
	c->fn = fn;
	c->next = *pp;
	*pp = c;
	return 0;
}

void core__commands_fini(struct core *core)
{
	while (core->commands) {
		struct core_command *c = core->commands;
		core->commands = c->next;
		free(c);
	}
	while (core->globals) {
		struct core_global *g = core->globals;
		core->globals = g->next;
		free(g);
	}
}

void core_command_execute(struct core *core, const char *line, struct buf *out)
{
	while (*line && isspace((unsigned char)*line))
		line++;
	size_t n = 0;
	while (line[n] && !isspace((unsigned char)line[n]))
		n++;
	const char *args = line + n;
	while (*args && isspace((unsigned char)*args))
		args++;
	/* Trailing blanks (a CR LF from a console) are not part of the arguments. */
	size_t alen = strlen(args);
	while (alen && isspace((unsigned char)args[alen - 1]))
		alen--;
	char *a = strndup(args, alen);
	if (!a) {
		buf_append_cstr(out, "-ERR out of memory\n");
		return;
	}
	for (const struct core_command *c = core->commands; c; c = c->next) {
		if (strlen(c->name) == n && strncmp(c->name, line, n) == 0) {
			c->fn(core, a, out);
			free(a);
			return;
		}
	}
	free(a);
	buf_printf(out, "-ERR %.*s Command not found!\n", (int)n, line);
}

void core_command_each(const struct core *core,
		       void (*cb)(void *arg, const char *name, const char *usage,
				  const char *description),
		       void *arg)
{
	for (const struct core_command *c = core->commands; c; c = c->next)
		cb(arg, c->name, c->usage, c->description);
}

/* The usage line of a registered command, for its "-USAGE: …" reply. */
const char *core__command_usage(const struct core *core, const char *name)
{
	for (const struct core_command *c = core->commands; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c->usage;
	return "";
}

/* ---- globals ---- */

const char *core__global_get(const struct core *core, const char *name)
{
	for (const struct core_global *g = core->globals; g; g = g->next)
		if (strcmp(g->name, name) == 0)
			return g->value;
	return NULL;
}

int core__global_set(struct core *core, const char *name, const char *value)
{
	if (!name || !*name)
		return -EINVAL;
	struct core_global **pp = &core->globals;
	while (*pp && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	struct core_global *old = *pp, *g = NULL;
	if (value) {
		size_t nl = strlen(name), vl = strlen(value);
		g = malloc(sizeof(*g) + nl + vl + 2);
		if (!g)
			return -ENOMEM;
		g->name = (char *)(g + 1);
		g->value = g->name + nl + 1;
		memcpy(g->name, name, nl + 1);
		memcpy(g->value, value, vl + 1);
		g->next = old ? old->next : NULL;
		*pp = g;
	} else if (old) {
		*pp = old->next;
	}
	free(old);
	return 0;
}

/* ---- channels ---- */

struct channel *core_channel_find(struct core *core, const char *uuid)
{
	if (!uuid)
		return NULL;
	for (struct channel *ch = core->channels; ch; ch = ch->next)
		if (strcasecmp(ch->uuid, uuid) == 0)
			return ch;
	return NULL;
}

void core_channel_each(struct core *core, void (*cb)(void *arg, struct channel *ch), void *arg)
{
	/* The list is newest first: walk it back from the tail. A callback may
	 * hang a channel up (it stays listed until CS_DESTROY), not free it. */
	struct channel *ch = core->channels;
	while (ch && ch->next)
		ch = ch->next;
	while (ch) {
		struct channel *prev = ch->prev;
		cb(arg, ch);
		ch = prev;
	}
}

void core_set_shutdown_cb(struct core *core, void (*cb)(void *arg), void *arg)
{
	core->app_shutdown_cb = cb;
	core->app_shutdown_arg = arg;
}
