/*
 * libFuzzer target for dial strings (core/dialstring.c): they come from ESL
 * api commands and dialplans, i.e. from the network.
 *
 * Besides "no crash, no leak, no undefined behaviour", it aborts when an
 * invariant breaks: parsing fails only with -EINVAL (with a message) or
 * -ENOMEM; a parsed string has 1..DIAL_MAX_LEGS legs spread over non-empty
 * groups, every leg has what its kind needs, and variable lookups find what
 * the blocks hold.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dialstring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_vars(const struct dial_vars *v)
{
	for (size_t i = 0; i < v->count; i++) {
		if (!v->items[i].name || !v->items[i].name[0] || !v->items[i].value)
			abort();
		if (!core__dial_vars_get(v, v->items[i].name))
			abort();
	}
}

static void check_leg(const struct dial_leg *l)
{
	check_vars(&l->vars);
	if (!l->endpoint || !l->endpoint[0])
		abort();
	switch (l->kind) {
	case DIAL_GATEWAY:
		if (!l->gateway || !l->gateway[0] || !l->user || !l->user[0])
			abort();
		break;
	case DIAL_PROFILE:
		if (!l->profile || !l->profile[0] || !l->uri || !l->user)
			abort();
		struct sip_uri u;
		if (sip_uri_parse(&u, str_from_cstr(l->uri)) != 0)
			abort();
		break;
	case DIAL_ERROR:
		if ((size_t)l->cause >= CAUSE_COUNT)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct arena a;
	struct dial_string ds;
	char err[256];

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	arena_init(&a, 0);
	int rc = core__dial_parse(&ds, &a, text, err, sizeof(err));
	if (rc == 0) {
		size_t legs = 0;
		if (ds.group_count == 0 || ds.leg_count == 0 || ds.leg_count > DIAL_MAX_LEGS)
			abort();
		check_vars(&ds.vars);
		for (size_t g = 0; g < ds.group_count; g++) {
			const struct dial_group *grp = &ds.groups[g];
			if (grp->leg_count == 0)
				abort();
			check_vars(&grp->vars);
			for (size_t i = 0; i < grp->leg_count; i++)
				check_leg(&grp->legs[i]);
			legs += grp->leg_count;
		}
		if (legs != ds.leg_count)
			abort();
	} else if (rc == -EINVAL) {
		if (!err[0])
			abort(); /* every refusal says why */
	} else if (rc != -ENOMEM) {
		abort();
	}
	arena_fini(&a);
	free(text);
	return 0;
}
