/*
 * Channel variables: the ones applications set (a short list in setting
 * order; a call rarely has more than a few dozen) and FreeSWITCH's built-in
 * names computed from the channel itself.
 */
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct channel_var *var_find(const struct channel *ch, const char *name)
{
	for (struct channel_var *v = ch->vars; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

static const char *answer_state(const struct channel *ch)
{
	if (ch->state >= CS_HANGUP)
		return "hangup";
	if (ch->answered)
		return "answered";
	return ch->early_media ? "early" : "ringing";
}

static const char *builtin_var(const struct channel *ch, const char *name)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{"destination_number", offsetof(struct channel, destination_number)},
		{"caller_id_name", offsetof(struct channel, caller_id_name)},
		{"caller_id_number", offsetof(struct channel, caller_id_number)},
		{"ani", offsetof(struct channel, caller_id_number)},
		{"network_addr", offsetof(struct channel, network_addr)},
		{"context", offsetof(struct channel, context)},
		{"dialplan", offsetof(struct channel, dialplan)},
		{"sip_call_id", offsetof(struct channel, sip_call_id)},
		{"sip_profile_name", offsetof(struct channel, profile)},
	};
	for (size_t i = 0; i < ARRAY_LEN(fields); i++)
		if (strcmp(name, fields[i].name) == 0)
			return *(const char *const *)((const char *)ch + fields[i].offset);
	if (strcmp(name, "uuid") == 0 || strcmp(name, "call_uuid") == 0)
		return ch->uuid;
	if (strcmp(name, "direction") == 0)
		return ch->direction == CHANNEL_INBOUND ? "inbound" : "outbound";
	if (strcmp(name, "channel_state") == 0 || strcmp(name, "state") == 0)
		return channel_state_name(ch->state);
	if (strcmp(name, "hangup_cause") == 0)
		return ch->cause == CAUSE_NONE ? NULL : core_cause_name(ch->cause);
	if (strcmp(name, "answer_state") == 0)
		return answer_state(ch);
	if (strcmp(name, "read_codec") == 0 || strcmp(name, "write_codec") == 0)
		return ch->media ? ch->media->codec_name : NULL;
	return NULL;
}

const char *channel_var(const struct channel *ch, const char *name)
{
	if (!name)
		return NULL;
	const struct channel_var *v = var_find(ch, name);
	return v ? v->value : builtin_var(ch, name);
}

int channel_var_set(struct channel *ch, const char *name, const char *value)
{
	if (!name || !*name)
		return -EINVAL;
	struct channel_var **pp = &ch->vars, *old = NULL;
	while (*pp && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	old = *pp;
	if (!value) {
		if (old) {
			*pp = old->next;
			if (ch->vars_tail == &old->next)
				ch->vars_tail = pp;
			free(old);
		}
		return 0;
	}
	size_t nlen = strlen(name), vlen = strlen(value);
	struct channel_var *v = malloc(sizeof(*v) + nlen + vlen + 2);
	if (!v)
		return -ENOMEM;
	v->name = (char *)(v + 1);
	v->value = v->name + nlen + 1;
	memcpy(v->name, name, nlen + 1);
	memcpy(v->value, value, vlen + 1);
	if (old) {
		/* Keep the variable's place in the order it was first set. */
		v->next = old->next;
		*pp = v;
		if (ch->vars_tail == &old->next)
			ch->vars_tail = &v->next;
		free(old);
	} else {
		v->next = NULL;
		if (!ch->vars_tail)
			ch->vars_tail = &ch->vars;
		*ch->vars_tail = v;
		ch->vars_tail = &v->next;
	}
	return 0;
}

void channel_var_each(const struct channel *ch,
		      void (*cb)(void *arg, const char *name, const char *value), void *arg)
{
	for (const struct channel_var *v = ch->vars; v; v = v->next)
		cb(arg, v->name, v->value);
}

void core__vars_free(struct channel *ch)
{
	struct channel_var *v = ch->vars;
	while (v) {
		struct channel_var *next = v->next;
		free(v);
		v = next;
	}
	ch->vars = NULL;
	ch->vars_tail = &ch->vars;
}

const char *core_global_var(const struct core *core, const char *name)
{
	const char *v = core__global_get(core, name);
	return v ? v : config_var(core->cfg, name);
}
