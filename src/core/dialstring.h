/*
 * FreeSWITCH dial strings, as originate and bridge take them, parsed into
 * groups of legs (dialstring.c). Pure: no channel, no loop, no logging.
 *
 *   {a=1,b=2}<c=3>[d=4]sofia/gateway/gw/15551234,error/USER_BUSY|sofia/ext/1000@host
 *
 *   {…}  variables for every leg (only at the start of the string)
 *   <…>  variables for the legs of one group (at the start of that group)
 *   […]  variables for one leg (before it; several blocks may follow each other)
 *   ,    legs rung together: the first to answer wins
 *   |    groups tried in turn: the next one when every leg of this one failed
 *
 * In a variable block, values may be quoted ('a,b' or "a,b") and any
 * character escaped with a backslash (\, for a comma); "^^X" right after the
 * opening bracket makes X the separator instead of ',' ({^^:a=1:b=2}).
 * A later variable of the same name wins; a leg's […] win over the group's
 * <…>, which win over the string's {…}.
 */
#ifndef IRISX_CORE_DIALSTRING_H
#define IRISX_CORE_DIALSTRING_H

#include "core.h"
#include "sip/sip.h"

/* Limits of one dial string; beyond them parsing fails with a message. */
enum { DIAL_MAX_LEN = 16384, DIAL_MAX_LEGS = 64, DIAL_MAX_VARS = 128 };

struct dial_var {
	const char *name;
	const char *value;
};

struct dial_vars {
	struct dial_var *items;
	size_t count;
};

enum dial_kind {
	DIAL_GATEWAY, /* sofia/gateway/<gateway>/<number> */
	DIAL_PROFILE, /* sofia/<profile>/<user>@<host[:port]> or sofia/<profile>/sip:… */
	DIAL_ERROR,   /* error/<CAUSE>: fails at once with that cause */
};

struct dial_leg {
	enum dial_kind kind;
	struct dial_vars vars; /* […] */
	const char *endpoint;  /* as written, without its […]: "sofia/gateway/gw/1555" */
	const char *profile;   /* DIAL_PROFILE: the profile's name */
	const char *gateway;   /* DIAL_GATEWAY: the gateway's name */
	/* DIAL_GATEWAY: the number dialled; DIAL_PROFILE: the URI's user part
	 * (still %-escaped; "" when the URI has none) */
	const char *user;
	const char *uri;       /* DIAL_PROFILE: "sip:user@host:port;params" */
	enum core_cause cause; /* DIAL_ERROR */
};

struct dial_group {
	struct dial_vars vars; /* <…> */
	struct dial_leg *legs;
	size_t leg_count;
};

struct dial_string {
	struct dial_vars vars; /* {…} */
	struct dial_group *groups;
	size_t group_count;
	size_t leg_count; /* over every group */
};

/*
 * Parses `text` into `out`; every string and array is allocated in `a` (the
 * caller frees the arena). Returns 0, -EINVAL with a message in `err` naming
 * what is wrong and where ("leg 2: unknown cause 'BUSY'"), or -ENOMEM.
 * `err` may be NULL.
 */
int core__dial_parse(struct dial_string *out, struct arena *a, const char *text, char *err,
		     size_t err_size);

/* The value of `name` in one block (the last one set), or NULL. */
const char *core__dial_vars_get(const struct dial_vars *vars, const char *name);
/* The value of `name` for a leg: its […], else its group's <…>, else {…}. */
const char *core__dial_leg_var(const struct dial_string *ds, const struct dial_group *g,
			       const struct dial_leg *leg, const char *name);

#endif
