/*
 * The command registry shared by every door (ESL api/bgapi, REST, the CLI),
 * synchronous commands (the reply written before the function returns) and
 * asynchronous ones (originate: the reply comes later, from the loop, and a
 * door that goes away meanwhile detaches from it), the global variables
 * global_setvar sets, and the lookups commands need (channels by uuid, in
 * creation order).
 */
#define LOG_MODULE "core"
#include "core_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int command_add(struct core *core, const char *name, const char *usage,
		       const char *description, core_command_fn fn, core_command_async_fn afn)
{
	if (!core || !name || !*name || (!fn && !afn))
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
	c->afn = afn;
	c->next = *pp;
	*pp = c;
	return 0;
}

int core_command_register(struct core *core, const char *name, const char *usage,
			  const char *description, core_command_fn fn)
{
	return command_add(core, name, usage, description, fn, NULL);
}

int core_command_register_async(struct core *core, const char *name, const char *usage,
				const char *description, core_command_async_fn fn)
{
	return command_add(core, name, usage, description, NULL, fn);
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
	/* A command still running when the core goes (its work was cut short
	 * by the shutdown without it replying): nobody will read its reply. */
	while (core->replies) {
		struct core_reply *r = core->replies;
		core->replies = r->next;
		log_warn("an asynchronous command never replied");
		buf_fini(&r->out);
		free(r);
	}
}

/* "name args" split: the command (NULL: unknown), the name's length, and the
 * arguments trimmed into a heap copy (*args NULL: out of memory). */
static const struct core_command *command_parse(const struct core *core, const char *line,
						const char **name, size_t *name_len, char **args)
{
	while (*line && isspace((unsigned char)*line))
		line++;
	size_t n = 0;
	while (line[n] && !isspace((unsigned char)line[n]))
		n++;
	const char *a = line + n;
	while (*a && isspace((unsigned char)*a))
		a++;
	/* Trailing blanks (a CR LF from a console) are not part of the arguments. */
	size_t alen = strlen(a);
	while (alen && isspace((unsigned char)a[alen - 1]))
		alen--;
	*name = line;
	*name_len = n;
	*args = strndup(a, alen);
	for (const struct core_command *c = core->commands; c; c = c->next)
		if (strlen(c->name) == n && strncmp(c->name, line, n) == 0)
			return c;
	return NULL;
}

void core_command_execute(struct core *core, const char *line, struct buf *out)
{
	const char *name;
	size_t n;
	char *args;
	const struct core_command *c = command_parse(core, line, &name, &n, &args);
	if (!args)
		buf_append_cstr(out, "-ERR out of memory\n");
	else if (!c)
		buf_printf(out, "-ERR %.*s Command not found!\n", (int)n, name);
	else if (c->afn)
		buf_printf(out, "-ERR %s needs a reply handler\n", c->name);
	else
		c->fn(core, args, out);
	free(args);
}

/* ---- asynchronous commands ---- */

static void reply_free(struct core_reply *r)
{
	struct core *core = r->core;
	if (r->prev)
		r->prev->next = r->next;
	else
		core->replies = r->next;
	if (r->next)
		r->next->prev = r->prev;
	buf_fini(&r->out);
	free(r);
}

/* Hands the text to the door (when one still listens) and frees r. */
static void reply_deliver(struct core_reply *r)
{
	core_command_done_cb cb = r->cb;
	if (cb) {
		if (r->out.failed) {
			buf_reset(&r->out);
			buf_append_cstr(&r->out, "-ERR out of memory\n");
		}
		cb(r->arg, r->out.p ? r->out.p : "", r->out.len);
	}
	reply_free(r);
}

struct buf *core_reply_buf(struct core_reply *r)
{
	return &r->out;
}

void core_reply_done(struct core_reply *r)
{
	if (!r)
		return;
	if (r->starting) {
		r->done = true; /* answered at once: core_command_run delivers it */
		return;
	}
	reply_deliver(r);
}

void core_reply_detach(struct core_reply *r)
{
	if (r)
		r->cb = NULL;
}

struct core_reply *core_command_run(struct core *core, const char *line, core_command_done_cb cb,
				    void *arg)
{
	const char *name;
	size_t n;
	char *args;
	struct buf out;
	const struct core_command *c = command_parse(core, line, &name, &n, &args);

	if (!c || !args || c->fn) {
		buf_init(&out);
		if (!args)
			buf_append_cstr(&out, "-ERR out of memory\n");
		else if (!c)
			buf_printf(&out, "-ERR %.*s Command not found!\n", (int)n, name);
		else
			c->fn(core, args, &out);
		free(args);
		if (cb)
			cb(arg, out.p ? out.p : "", out.len);
		buf_fini(&out);
		return NULL;
	}
	struct core_reply *r = calloc(1, sizeof(*r));
	if (!r) {
		free(args);
		if (cb)
			cb(arg, "-ERR out of memory\n", 19);
		return NULL;
	}
	r->core = core;
	buf_init(&r->out);
	r->cb = cb;
	r->arg = arg;
	r->next = core->replies;
	if (r->next)
		r->next->prev = r;
	core->replies = r;
	r->starting = true;
	c->afn(core, args, r);
	free(args);
	r->starting = false;
	if (r->done) {
		/* A usage error or a refusal: the reply is there already. */
		reply_deliver(r);
		return NULL;
	}
	return r;
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
