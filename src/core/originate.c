/*
 * Placing calls: core_originate() rings what a FreeSWITCH dial string
 * describes (dialstring.h) and hands the caller the leg that answered.
 *
 * A group of legs (',') rings together; the first to answer wins and the
 * others are cancelled with LOSE_RACE. When every leg of a group failed the
 * next group ('|') starts. originate_timeout bounds each group, leg_timeout
 * one leg; both share the originate's single timer. When everything failed,
 * done_cb gets the cause of the last leg that failed (NO_ANSWER when the
 * time ran out), as FreeSWITCH reports it.
 *
 * Nothing here runs inside a network callback: the endpoint and the channel
 * code only note what happened to a leg (core__originate_leg_update) and the
 * originate looks at its legs from its timer on a later turn, where it may
 * call the caller back, start the next group or finish.
 */
#define LOG_MODULE "core"
#include "core_int.h"
#include "dialstring.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { ORIGINATE_TIMEOUT_S = 60 };

struct originate_leg {
	struct channel *ch; /* while it rings; NULL once it ended (or won) */
	const struct dial_leg *dial;
	struct gateway *gw;
	struct profile *profile;
	uint64_t deadline_ms; /* leg_timeout, loop time; 0: none */
	enum core_cause cause;
	bool ended;
	bool told_ring, told_media; /* progress_cb already ran for it */
};

struct core_originate {
	struct core *core;
	struct arena arena; /* the dial string, the legs, the a-leg's copy */
	struct dial_string ds;
	struct core_originate_cbs cbs;
	struct channel_peer *a_leg; /* a copy of the originator's profile, or NULL */
	const char *a_cid_name, *a_cid_number;
	struct dial_vars exports; /* the a-leg's export_vars, copied */
	size_t group;		  /* the group ringing */
	struct originate_leg *legs;
	size_t leg_count;
	uint64_t group_deadline_ms;
	bool ignore_early_media;
	enum core_cause last_cause;
	uv_timer_t *timer; /* heap: freed by its close callback */
	unsigned depth;	   /* > 0 while one of our callbacks runs */
	bool finished;	   /* done or cancelled: freed once depth is back to 0 */
};

static void originate_timer_cb(uv_timer_t *t);

static void originate_kick(struct core_originate *o)
{
	if (!o->finished)
		uv_timer_start(o->timer, originate_timer_cb, 0, 0);
}

static void timer_closed_cb(uv_handle_t *h)
{
	free(h);
}

static void originate_free(struct core_originate *o)
{
	uv_close((uv_handle_t *)o->timer, timer_closed_cb);
	arena_fini(&o->arena);
	free(o);
}

/* ---- building a leg ---- */

static const char *leg_var(struct core_originate *o, const struct originate_leg *leg,
			   const char *name)
{
	return core__dial_leg_var(&o->ds, &o->ds.groups[o->group], leg ? leg->dial : NULL, name);
}

static uint32_t seconds_var(const char *v, uint32_t dflt)
{
	uint32_t n;
	if (!v || str_to_u32(str_trim(str_from_cstr(v)), &n) != 0 || n == 0)
		return dflt;
	return n > 86400 ? 86400 : n;
}

/* Characters RFC 3261 §25.1 allows unescaped in a user part ('%' kept: the
 * value may be escaped already). */
static bool uri_user_char(char c)
{
	return isalnum((unsigned char)c) || strchr("-_.!~*'()&=+$,;?/%", c);
}

static void append_uri_user(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (uri_user_char(*s))
			buf_append(b, s, 1);
		else
			buf_printf(b, "%%%02X", (unsigned char)*s);
	}
}

/* A quoted display name: quotes and backslashes escaped, controls dropped. */
static void append_display(struct buf *b, const char *s)
{
	buf_append_cstr(b, "\"");
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			continue;
		if (*s == '"' || *s == '\\')
			buf_append_cstr(b, "\\");
		buf_append(b, s, 1);
	}
	buf_append_cstr(b, "\"");
}

/* "host[:port]" of a gateway's proxy (or domain), which may be written as a SIP URI. */
static struct str proxy_hostport(const char *proxy)
{
	struct str s = str_trim(str_from_cstr(proxy));
	if (str_starts_with_i(s, "sip:"))
		s = str_make(s.p + 4, s.len - 4);
	else if (str_starts_with_i(s, "sips:"))
		s = str_make(s.p + 5, s.len - 5);
	ptrdiff_t at = str_find_char(s, '@');
	if (at >= 0)
		s = str_make(s.p + at + 1, s.len - (size_t)at - 1);
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] == ';' || s.p[i] == '?' || s.p[i] == '>') {
			s.len = i;
			break;
		}
	return s;
}

/* The profile's advertised "host:port" (brackets for IPv6). */
static void profile_hostport(const struct profile *p, struct buf *b)
{
	const char *host = p->cfg->ext_sip_ip ? p->cfg->ext_sip_ip : p->cfg->sip_ip;
	bool v6 = strchr(host, ':') != NULL;
	buf_printf(b, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", p->cfg->sip_port);
}

/* A header name fit for "Name: value": an RFC 3261 token. */
static bool header_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-.!%*_+`'~", *s))
			return false;
	return true;
}

static bool header_value_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

/* sip_h_X-Foo=bar → "X-Foo: bar", the leg's […] over <…> over {…}. */
static void append_sip_h(struct core_originate *o, struct originate_leg *leg, struct buf *b)
{
	const struct dial_vars *blocks[3] = {&leg->dial->vars, &o->ds.groups[o->group].vars,
					     &o->ds.vars};
	for (size_t k = 0; k < 3; k++) {
		const struct dial_vars *v = blocks[k];
		for (size_t i = 0; i < v->count; i++) {
			const char *name = v->items[i].name;
			if (strncmp(name, "sip_h_", 6) != 0)
				continue;
			/* only the value that wins, once */
			if (leg_var(o, leg, name) != v->items[i].value)
				continue;
			if (!header_token(name + 6) || !header_value_ok(v->items[i].value)) {
				log_warn("originate: ignoring %s: not a valid header", name);
				continue;
			}
			buf_printf(b, "%s: %s\r\n", name + 6, v->items[i].value);
		}
	}
}

/* P-Asserted-Identity (sip_cid_type=pid, the default), Remote-Party-ID (rpid) or none. */
static void append_cid_header(const char *type, const char *name, const char *number,
			      struct str host, struct buf *b)
{
	bool rpid = type && strcasecmp(type, "rpid") == 0;
	if (type && strcasecmp(type, "none") == 0)
		return;
	buf_append_cstr(b, rpid ? "Remote-Party-ID: " : "P-Asserted-Identity: ");
	if (*name) {
		append_display(b, name);
		buf_append_cstr(b, " ");
	}
	buf_append_cstr(b, "<sip:");
	append_uri_user(b, number);
	buf_printf(b, "@%.*s>", (int)host.len, host.p);
	if (rpid)
		buf_append_cstr(b, ";party=calling;screen=yes;privacy=off");
	buf_append_cstr(b, "\r\n");
}

/*
 * What the INVITE says: Request-URI, From, proxy, credentials and the extra
 * headers. Strings go into the channel's arena.
 */
static int leg_call_out(struct core_originate *o, struct originate_leg *leg, struct channel *ch,
			struct sip_call_out *out)
{
	struct arena *a = &ch->arena;
	const struct dial_leg *d = leg->dial;
	struct buf b, from_host;
	struct str host;

	memset(out, 0, sizeof(*out));
	buf_init(&b);
	buf_init(&from_host);
	if (leg->gw) {
		const struct config_gateway *gc = leg->gw->cfg;
		host = proxy_hostport(gc->proxy);
		buf_append_cstr(&b, "sip:");
		append_uri_user(&b, d->user);
		buf_printf(&b, "@%.*s", (int)host.len, host.p);
		out->request_uri = arena_strndup(a, str_make(b.p, b.len));
		out->proxy = gc->proxy;
		if (gc->password && *gc->password) {
			out->auth_username = gc->username;
			out->auth_password = gc->password;
		}
		/* from-domain defaults to the realm, which defaults to the proxy:
		 * it may be written as a URI too */
		buf_append_str(&from_host, proxy_hostport(gc->from_domain));
	} else {
		out->request_uri = d->uri;
		profile_hostport(leg->profile, &from_host);
	}
	host = str_make(from_host.p, from_host.len);

	buf_reset(&b);
	if (*ch->caller_id_name) {
		append_display(&b, ch->caller_id_name);
		buf_append_cstr(&b, " ");
	}
	buf_append_cstr(&b, "<sip:");
	if (leg->gw && !leg->gw->cfg->caller_id_in_from)
		append_uri_user(&b, leg->gw->cfg->from_user);
	else
		append_uri_user(&b, ch->caller_id_number);
	buf_printf(&b, "@%.*s>", (int)host.len, host.p);
	out->from = arena_strndup(a, str_make(b.p, b.len));

	buf_reset(&b);
	append_cid_header(leg_var(o, leg, "sip_cid_type"), ch->caller_id_name, ch->caller_id_number,
			  host, &b);
	append_sip_h(o, leg, &b);
	out->extra_headers = b.len ? arena_strndup(a, str_make(b.p, b.len)) : NULL;
	int err = b.failed || from_host.failed || !out->request_uri || !out->from ||
			  (b.len && !out->extra_headers)
		      ? -ENOMEM
		      : 0;
	buf_fini(&b);
	buf_fini(&from_host);
	return err;
}

static struct channel_peer *peer_copy(struct arena *a, const struct channel_peer *src)
{
	struct channel_peer *p = arena_alloc(a, sizeof(*p));
	if (!p)
		return NULL;
	*p = *src;
	p->caller_id_name = arena_strdup(a, src->caller_id_name ? src->caller_id_name : "");
	p->caller_id_number = arena_strdup(a, src->caller_id_number ? src->caller_id_number : "");
	p->destination_number =
	    arena_strdup(a, src->destination_number ? src->destination_number : "");
	p->network_addr = arena_strdup(a, src->network_addr ? src->network_addr : "");
	p->context = arena_strdup(a, src->context ? src->context : "");
	p->dialplan = arena_strdup(a, src->dialplan ? src->dialplan : "");
	p->channel_name = arena_strdup(a, src->channel_name ? src->channel_name : "");
	return p;
}

static void set_block_vars(struct channel *ch, const struct dial_vars *v)
{
	for (size_t i = 0; i < v->count; i++)
		channel_var_set(ch, v->items[i].name, v->items[i].value);
}

/* A leg that failed before it had a channel (error/, unknown gateway…). */
static void leg_fail(struct core_originate *o, struct originate_leg *leg, enum core_cause cause)
{
	leg->ended = true;
	leg->cause = cause;
	o->last_cause = cause;
	if (leg->gw)
		leg->gw->failed_calls_out++;
	if (leg->profile)
		leg->profile->failed_calls_out++;
	log_info("originate: %s failed: %s", leg->dial->endpoint, core_cause_name(cause));
}

static enum core_cause start_error_cause(int err)
{
	switch (err) {
	case -EINVAL:
		return CAUSE_INVALID_URL;
	case -ESHUTDOWN:
		return CAUSE_SYSTEM_SHUTDOWN;
	case -EAGAIN:
		return CAUSE_SWITCH_CONGESTION; /* no RTP port left */
	default:
		return CAUSE_NORMAL_TEMPORARY_FAILURE;
	}
}

/* Fills in an outbound channel as FreeSWITCH's caller profile for the leg. */
static int leg_channel_fill(struct core_originate *o, struct originate_leg *leg, struct channel *ch)
{
	struct arena *a = &ch->arena;
	const struct dial_leg *d = leg->dial;
	const struct config_profile *pc = leg->profile->cfg;
	const char *v;

	const char *num = leg_var(o, leg, "origination_caller_id_number");
	const char *name = leg_var(o, leg, "origination_caller_id_name");
	ch->caller_id_number = arena_strdup(a, num		 ? num
					       : o->a_cid_number ? o->a_cid_number
								 : "0000000000");
	ch->caller_id_name = arena_strdup(a, name ? name : o->a_cid_name ? o->a_cid_name : "");
	ch->destination_number = arena_strdup(a, *d->user ? d->user : d->uri);
	ch->context = pc->context;
	ch->dialplan = pc->dialplan;
	ch->profile = pc->name;
	ch->profile_cfg = pc;
	if (leg->gw) {
		struct str h = proxy_hostport(leg->gw->cfg->proxy);
		ptrdiff_t colon = h.len && h.p[0] != '[' ? str_find_char(h, ':') : -1;
		ch->network_addr = arena_strndup(a, colon >= 0 ? str_make(h.p, (size_t)colon) : h);
	} else {
		struct sip_uri u;
		if (sip_uri_parse(&u, str_from_cstr(d->uri)) == 0)
			ch->network_addr = arena_strndup(a, u.host);
	}
	if (!ch->caller_id_number || !ch->caller_id_name || !ch->destination_number ||
	    !ch->network_addr)
		return -ENOMEM;

	/* {…} then <…> then […]: the nearer block wins */
	set_block_vars(ch, &o->ds.vars);
	set_block_vars(ch, &o->ds.groups[o->group].vars);
	set_block_vars(ch, &d->vars);
	set_block_vars(ch, &o->exports);
	if (o->a_leg) {
		ch->originator = peer_copy(a, o->a_leg);
		if (!ch->originator)
			return -ENOMEM;
		channel_var_set(ch, "originating_leg_uuid", o->a_leg->uuid);
	}
	if (leg->gw) {
		channel_var_set(ch, "sip_gateway_name", leg->gw->cfg->name);
		v = arena_printf(a, "sofia/%s/%s@%.*s", pc->name, d->user,
				 (int)proxy_hostport(leg->gw->cfg->proxy).len,
				 proxy_hostport(leg->gw->cfg->proxy).p);
	} else {
		size_t skip = strncasecmp(d->uri, "sips:", 5) == 0 ? 5 : 4;
		v = arena_printf(a, "sofia/%s/%s", pc->name, d->uri + skip);
	}
	if (!v)
		return -ENOMEM;
	channel_var_set(ch, "channel_name", v);
	return 0;
}

static void leg_start(struct core_originate *o, struct originate_leg *leg, const struct dial_leg *d)
{
	struct core *core = o->core;
	leg->dial = d;

	if (d->kind == DIAL_ERROR) {
		leg_fail(o, leg, d->cause);
		return;
	}
	if (core->shutting_down) {
		leg_fail(o, leg, CAUSE_SYSTEM_SHUTDOWN);
		return;
	}
	if (d->kind == DIAL_GATEWAY) {
		leg->gw = core__gateway_find(core, d->gateway);
		if (!leg->gw) {
			log_warn("originate: no gateway '%s'", d->gateway);
			leg_fail(o, leg, CAUSE_INVALID_GATEWAY);
			return;
		}
		leg->profile = leg->gw->profile;
	} else {
		leg->profile = core__profile_find(core, d->profile);
		if (!leg->profile) {
			log_warn("originate: no profile '%s'", d->profile);
			leg_fail(o, leg, CAUSE_INVALID_PROFILE);
			return;
		}
	}
	const struct config_switch *sw = &core->cfg->sw;
	if (sw->max_sessions && core->channel_count >= sw->max_sessions) {
		log_warn("originate: %s: maximum calls in progress", d->endpoint);
		leg_fail(o, leg, CAUSE_SWITCH_CONGESTION);
		return;
	}

	struct channel *ch = core__channel_create(core, CHANNEL_OUTBOUND);
	if (!ch) {
		leg_fail(o, leg, CAUSE_NORMAL_TEMPORARY_FAILURE);
		return;
	}
	const char *uuid = leg_var(o, leg, "origination_uuid");
	if (uuid && strlen(uuid) == UUID_STRLEN - 1 && !core_channel_find(core, uuid))
		memcpy(ch->uuid, uuid, UUID_STRLEN);
	if (leg_channel_fill(o, leg, ch) != 0) {
		core__channel_destroy(ch);
		leg_fail(o, leg, CAUSE_NORMAL_TEMPORARY_FAILURE);
		return;
	}
	ch->gateway = leg->gw;
	ch->originating = o;
	leg->ch = ch;
	if (leg->gw)
		leg->gw->calls_out++;
	leg->profile->calls_out++;
	uint32_t lt = seconds_var(leg_var(o, leg, "leg_timeout"), 0);
	if (lt)
		leg->deadline_ms = uv_now(core->loop) + (uint64_t)lt * 1000u;

	/* What mod_sofia's outgoing channel does: the events as the leg is made,
	 * then the INVITE; the states follow from the run queue. */
	channel_event_fire(ch, "CHANNEL_CREATE", NULL, NULL);
	channel_event_fire(ch, "CHANNEL_OUTGOING", NULL, NULL);
	core__channel_schedule(ch);
	struct sip_call_out out;
	int err = leg_call_out(o, leg, ch, &out);
	if (!err)
		err = core__endpoint_call(ch, leg->profile, &out);
	if (err)
		channel_hangup(ch, start_error_cause(err)); /* detaches the leg */
}

static void group_start(struct core_originate *o, size_t gi)
{
	const struct dial_group *g = &o->ds.groups[gi];

	o->group = gi;
	o->legs = arena_alloc(&o->arena, g->leg_count * sizeof(*o->legs));
	o->leg_count = o->legs ? g->leg_count : 0;
	uint32_t timeout = seconds_var(leg_var(o, NULL, "originate_timeout"), ORIGINATE_TIMEOUT_S);
	o->group_deadline_ms = uv_now(o->core->loop) + (uint64_t)timeout * 1000u;
	o->ignore_early_media = config_is_true(leg_var(o, NULL, "ignore_early_media"));
	if (!o->legs)
		o->last_cause = CAUSE_NORMAL_TEMPORARY_FAILURE;
	for (size_t i = 0; i < o->leg_count; i++)
		leg_start(o, &o->legs[i], &g->legs[i]);
	originate_kick(o);
}

/* ---- the originate's turn ---- */

static struct originate_leg *leg_of(struct core_originate *o, const struct channel *ch)
{
	for (size_t i = 0; i < o->leg_count; i++)
		if (o->legs[i].ch == ch)
			return &o->legs[i];
	return NULL;
}

void core__originate_leg_update(struct channel *ch)
{
	struct core_originate *o = ch->originating;
	struct originate_leg *leg = o ? leg_of(o, ch) : NULL;

	if (!leg) {
		ch->originating = NULL;
		return;
	}
	if (ch->state >= CS_HANGUP) {
		leg->ended = true;
		leg->cause = ch->cause;
		leg->ch = NULL;
		ch->originating = NULL;
		o->last_cause = ch->cause;
		if (!ch->answered) {
			if (leg->gw)
				leg->gw->failed_calls_out++;
			leg->profile->failed_calls_out++;
		}
	}
	originate_kick(o);
}

/* Forgets a leg's channel and hangs it up (the far end gets CANCEL or BYE). */
static void leg_drop(struct originate_leg *leg, enum core_cause cause)
{
	struct channel *ch = leg->ch;
	if (!ch)
		return;
	leg->ch = NULL;
	leg->ended = true;
	leg->cause = cause;
	ch->originating = NULL;
	channel_hangup(ch, cause);
}

static void originate_win(struct core_originate *o, struct originate_leg *win)
{
	struct channel *ch = win->ch;

	win->ch = NULL;
	ch->originating = NULL;
	for (size_t i = 0; i < o->leg_count; i++)
		leg_drop(&o->legs[i], CAUSE_LOSE_RACE);
	o->finished = true;
	uv_timer_stop(o->timer);
	log_info("originate: [%s] %s answered", ch->uuid, win->dial->endpoint);
	o->cbs.done_cb(o->cbs.arg, ch, CAUSE_SUCCESS);
	/* Nobody took it: it stays up, parked, until uuid_kill or the far end. */
	if (channel_up(ch) && !ch->bridged && !ch->exec_free_cb &&
	    (ch->state <= CS_ROUTING || ch->state == CS_CONSUME_MEDIA))
		channel_park(ch);
}

static void originate_fail(struct core_originate *o, enum core_cause cause)
{
	o->finished = true;
	uv_timer_stop(o->timer);
	log_info("originate failed: %s", core_cause_name(cause));
	o->cbs.done_cb(o->cbs.arg, NULL, cause);
}

/* The cause FreeSWITCH reports for a failed originate: the last leg's. */
static enum core_cause final_cause(const struct core_originate *o)
{
	switch (o->last_cause) {
	case CAUSE_NONE:
		return CAUSE_NORMAL_UNSPECIFIED;
	case CAUSE_ALLOTTED_TIMEOUT: /* leg_timeout: nobody answered */
		return CAUSE_NO_ANSWER;
	default:
		return o->last_cause;
	}
}

static void originate_run(struct core_originate *o)
{
	uint64_t now = uv_now(o->core->loop);
	struct originate_leg *win = NULL;

	/* The first leg to answer wins. */
	for (size_t i = 0; i < o->leg_count; i++) {
		struct originate_leg *l = &o->legs[i];
		if (l->ch && l->ch->answered && (!win || l->ch->answered_us < win->ch->answered_us))
			win = l;
	}
	if (win) {
		originate_win(o, win);
		return;
	}

	/* Progress, once per leg and kind. Unless told to ignore it, early media
	 * settles the race: the other legs are cancelled (FreeSWITCH's
	 * ignore_early_media=false), and this one wins when it answers. */
	for (size_t i = 0; i < o->leg_count; i++) {
		struct originate_leg *l = &o->legs[i];
		if (!l->ch)
			continue;
		bool media = l->ch->early_media;
		if (media ? l->told_media : (l->told_ring || !l->ch->progress_us))
			continue;
		l->told_ring = true;
		l->told_media |= media;
		if (media && !o->ignore_early_media)
			for (size_t j = 0; j < o->leg_count; j++)
				if (j != i)
					leg_drop(&o->legs[j], CAUSE_LOSE_RACE);
		if (o->cbs.progress_cb) {
			o->cbs.progress_cb(o->cbs.arg, l->ch, media);
			if (o->finished)
				return;
		}
	}

	/* Time limits: the group's originate_timeout, each leg's leg_timeout. */
	for (size_t i = 0; i < o->leg_count; i++) {
		struct originate_leg *l = &o->legs[i];
		if (!l->ch)
			continue;
		if (now >= o->group_deadline_ms)
			channel_hangup(l->ch, CAUSE_NO_ANSWER);
		else if (l->deadline_ms && now >= l->deadline_ms)
			channel_hangup(l->ch, CAUSE_ALLOTTED_TIMEOUT);
	}

	bool live = false;
	uint64_t next = o->group_deadline_ms;
	for (size_t i = 0; i < o->leg_count; i++) {
		struct originate_leg *l = &o->legs[i];
		if (!l->ch)
			continue;
		live = true;
		if (l->deadline_ms && l->deadline_ms < next)
			next = l->deadline_ms;
	}
	if (live) {
		uv_timer_start(o->timer, originate_timer_cb, next > now ? next - now : 0, 0);
		return;
	}
	if (o->group + 1 < o->ds.group_count) {
		log_info("originate: group %zu failed (%s), trying the next one", o->group + 1,
			 core_cause_name(o->last_cause));
		group_start(o, o->group + 1);
		return;
	}
	originate_fail(o, final_cause(o));
}

static void originate_timer_cb(uv_timer_t *t)
{
	struct core_originate *o = t->data;
	o->depth++;
	originate_run(o);
	if (--o->depth == 0 && o->finished)
		originate_free(o);
}

/* ---- the API ---- */

/* The originator's caller profile and exported variables, copied now: it may
 * hang up while the legs ring. */
static int a_leg_copy(struct core_originate *o, struct channel *a)
{
	struct arena *ar = &o->arena;
	struct channel_peer p;
	char name[256];
	core__channel_peer_of(&p, a, name, sizeof(name));
	o->a_leg = peer_copy(ar, &p);
	if (!o->a_leg)
		return -ENOMEM;
	const char *n = channel_var(a, "effective_caller_id_name");
	const char *num = channel_var(a, "effective_caller_id_number");
	o->a_cid_name = arena_strdup(ar, n ? n : o->a_leg->caller_id_name);
	o->a_cid_number = arena_strdup(ar, num ? num : o->a_leg->caller_id_number);
	if (!o->a_cid_name || !o->a_cid_number)
		return -ENOMEM;

	/* export_vars: "a,b,c" — the a-leg's values of those go to every leg */
	const char *ev = channel_var(a, "export_vars");
	if (!ev || !*ev)
		return 0;
	struct str list = str_from_cstr(ev);
	size_t n_items = 1;
	for (size_t i = 0; i < list.len; i++)
		n_items += list.p[i] == ',';
	o->exports.items = arena_alloc(ar, n_items * sizeof(*o->exports.items));
	if (!o->exports.items)
		return -ENOMEM;
	while (list.len) {
		ptrdiff_t comma = str_find_char(list, ',');
		struct str item = str_trim(comma < 0 ? list : str_make(list.p, (size_t)comma));
		list = comma < 0 ? STR_NULL
				 : str_make(list.p + comma + 1, list.len - (size_t)comma - 1);
		char *vname = item.len ? arena_strndup(ar, item) : NULL;
		const char *value = vname ? channel_var(a, vname) : NULL;
		if (value && o->exports.count < n_items)
			o->exports.items[o->exports.count++] =
			    (struct dial_var){vname, arena_strdup(ar, value)};
	}
	return 0;
}

int core_originate(struct core_originate **out, struct core *core, const char *dial_string,
		   struct channel *a_leg, const struct core_originate_cbs *cbs, char *err,
		   size_t err_size)
{
	if (err && err_size)
		err[0] = '\0';
	if (!core || !dial_string || !cbs || !cbs->done_cb) {
		if (err && err_size)
			snprintf(err, err_size, "missing argument");
		return -EINVAL;
	}
	struct core_originate *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	arena_init(&o->arena, 4096);
	o->core = core;
	o->cbs = *cbs;
	int rc = core__dial_parse(&o->ds, &o->arena, dial_string, err, err_size);
	if (!rc && a_leg)
		rc = a_leg_copy(o, a_leg);
	if (!rc) {
		o->timer = malloc(sizeof(*o->timer));
		rc = o->timer ? 0 : -ENOMEM;
	}
	if (rc) {
		if (rc == -EINVAL)
			log_notice("originate: bad dial string '%s': %s", dial_string,
				   err && err_size ? err : "");
		arena_fini(&o->arena);
		free(o);
		return rc;
	}
	uv_timer_init(core->loop, o->timer);
	o->timer->data = o;
	log_info("originate %s%s%s", dial_string, a_leg ? " for " : "", a_leg ? a_leg->uuid : "");
	/* The legs of the first group start now; whatever they do is looked at
	 * from the timer, so done_cb never runs before this returns. */
	o->depth++;
	group_start(o, 0);
	o->depth--;
	if (out)
		*out = o;
	return 0;
}

void core_originate_cancel(struct core_originate *o, enum core_cause cause)
{
	if (!o || o->finished)
		return;
	o->finished = true;
	uv_timer_stop(o->timer);
	log_info("originate cancelled: %s", core_cause_name(cause));
	for (size_t i = 0; i < o->leg_count; i++)
		leg_drop(&o->legs[i], cause);
	if (o->depth == 0)
		originate_free(o);
}
