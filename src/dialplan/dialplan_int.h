/*
 * dialplan internals shared by the files of src/dialplan: the application
 * table, the compiled form of an XML dialplan, time-of-day conditions and
 * the argument parsers the applications and the loader share.
 *
 * The engine (registry.c, args.c, expand.c, xml_load.c, xml_time.c, hunt.c)
 * calls nothing of core but core_cause_parse(); the executor (exec.c,
 * apps.c) is where channels are touched.
 */
#ifndef IRISX_DIALPLAN_INT_H
#define IRISX_DIALPLAN_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>

#include "dialplan.h"

/* ---- applications: X(ID, name, usage, flags, check) in name order ---- */

#define DIALPLAN_APPS(X)                                                                           \
	X(ANSWER, "answer", "", 0, NULL)                                                           \
	X(BRIDGE, "bridge", "<dial string>", 0, dialplan__check_nonempty)                          \
	X(ECHO, "echo", "", 0, NULL)                                                               \
	X(EXPORT, "export", "[nolocal:]<name>=<value>", DIALPLAN_APP_INLINE, dialplan__check_set)  \
	X(FLUSH_DTMF, "flush_dtmf", "", 0, NULL)                                                   \
	X(HANGUP, "hangup", "[<cause>]", 0, dialplan__check_hangup)                                \
	X(IVR, "ivr", "<menu name>", 0, dialplan__check_nonempty)                                  \
	X(LOG, "log", "[<level>] <message>", DIALPLAN_APP_INLINE, NULL)                            \
	X(PARK, "park", "", 0, NULL)                                                               \
	X(PLAY_AND_GET_DIGITS, "play_and_get_digits",                                              \
	  "<min> <max> <tries> <timeout> <terminators> <file> <invalid_file> [<var_name> "         \
	  "[<regexp> [<digit_timeout> [<transfer_on_failure>]]]]",                                 \
	  0, dialplan__check_pagd)                                                                 \
	X(PLAYBACK, "playback", "<file|tone_stream://…|silence_stream://ms>", 0,                   \
	  dialplan__check_nonempty)                                                                \
	X(PRE_ANSWER, "pre_answer", "", 0, NULL)                                                   \
	X(RECORD, "record", "<path> [<time_limit_secs>] [<silence_thresh>] [<silence_hits>]", 0,   \
	  dialplan__check_record)                                                                  \
	X(RECORD_SESSION, "record_session", "<path> [+<limit_secs>]", 0, dialplan__check_nonempty) \
	X(READ, "read", "<min> <max> <sound_file> <variable> [<timeout> [<terminators>]]", 0,      \
	  dialplan__check_read)                                                                    \
	X(RESPOND, "respond", "<status> [<reason>]", 0, dialplan__check_respond)                   \
	X(RING_READY, "ring_ready", "", 0, NULL)                                                   \
	X(SEND_DTMF, "send_dtmf", "<digits>[@<ms>]", 0, dialplan__check_dtmf)                      \
	X(SET, "set", "<name>=<value>", DIALPLAN_APP_INLINE, dialplan__check_set)                  \
	X(SLEEP, "sleep", "<ms>", 0, dialplan__check_sleep)                                        \
	X(SPANDSP_START_DTMF, "spandsp_start_dtmf", "", 0, NULL)                                   \
	X(SPANDSP_STOP_DTMF, "spandsp_stop_dtmf", "", 0, NULL)                                     \
	X(SPEAK, "speak", "[[<engine>|]<voice>|]<text>", 0, dialplan__check_nonempty)              \
	X(STOP_RECORD_SESSION, "stop_record_session", "<path>|all", 0, dialplan__check_nonempty)   \
	X(START_DTMF, "start_dtmf", "", 0, NULL)                                                   \
	X(STOP_DTMF, "stop_dtmf", "", 0, NULL)                                                     \
	X(TRANSFER, "transfer", "<destination> [<dialplan> [<context>]]", 0,                       \
	  dialplan__check_nonempty)                                                                \
	X(UNSET, "unset", "<name>", DIALPLAN_APP_INLINE, dialplan__check_nonempty)

enum dialplan__app_id {
#define X(id, name, usage, flags, check) DIALPLAN__APP_##id,
	DIALPLAN_APPS(X)
#undef X
	    DIALPLAN__APP_COUNT
};

/* The application's position in the table; DIALPLAN__APP_COUNT for a
 * registered one. */
enum dialplan__app_id dialplan__app_id(const struct dialplan_app *app);

/* An application added with dialplan_app_register. */
struct dialplan__extra {
	struct dialplan_app app;
	dialplan_app_run_cb run;
	void *arg;
};
/* The registration of app, or NULL for a built-in one. */
const struct dialplan__extra *dialplan__app_extra(const struct dialplan_app *app);

/*
 * Load-time checks of an action's data when it has nothing to expand: 0, or
 * -EINVAL with the reason in `why`.
 */
int dialplan__check_nonempty(const char *data, char *why, size_t why_size);
int dialplan__check_set(const char *data, char *why, size_t why_size);
int dialplan__check_hangup(const char *data, char *why, size_t why_size);
int dialplan__check_respond(const char *data, char *why, size_t why_size);
int dialplan__check_sleep(const char *data, char *why, size_t why_size);
int dialplan__check_dtmf(const char *data, char *why, size_t why_size);
int dialplan__check_pagd(const char *data, char *why, size_t why_size);
int dialplan__check_read(const char *data, char *why, size_t why_size);
int dialplan__check_record(const char *data, char *why, size_t why_size);
/* Runs the table's check for app on data (no check: 0). */
int dialplan__app_check(const struct dialplan_app *app, const char *data, char *why,
			size_t why_size);

/* ---- argument parsers (args.c): pure ---- */

/* "1000" → 1000 ms. Blanks around are allowed. 0 or -EINVAL. */
int dialplan__parse_ms(const char *s, uint32_t *ms);
/* "" → NORMAL_CLEARING; a cause name or Q.850 number. 0 or -EINVAL. */
int dialplan__parse_cause(const char *s, enum core_cause *cause);
/* "486 Busy Here" → 486 and "Busy Here" (reason empty when absent). 100-699. */
int dialplan__parse_respond(const char *s, uint16_t *status, struct str *reason);
/* FreeSWITCH's speak forms: "engine|voice|text", "voice|text" or "text".
 * Absent parts are empty slices. */
void dialplan__parse_speak(const char *s, struct str *engine, struct str *voice, struct str *text);
/* "[level] message": a leading FreeSWITCH level name (CONSOLE, ALERT, CRIT,
 * ERR, WARNING, NOTICE, INFO, DEBUG) picks the level; otherwise DEBUG and
 * the whole text is the message. */
void dialplan__parse_log(const char *s, enum log_level *level, const char **msg);

/*
 * The variable applications on any set of variables (a channel's, or a
 * hunt's fake one): set "name=value" (empty value unsets), export (set, and
 * append the name to export_vars), unset "name". 0 or a negative errno.
 */
int dialplan__var_set(const struct dialplan_vars *vars, const char *data);
int dialplan__var_export(const struct dialplan_vars *vars, const char *data);
int dialplan__var_unset(const struct dialplan_vars *vars, const char *data);
/* The log application: logs `data` ([level] message), after `prefix`. */
void dialplan__log(const char *prefix, const char *data);

/* ---- time-of-day conditions (xml_time.c) ---- */

enum dialplan__tfield {
	DP_T_YEAR,
	DP_T_YDAY,
	DP_T_MON,
	DP_T_MDAY,
	DP_T_WEEK,
	DP_T_MWEEK,
	DP_T_WDAY,
	DP_T_HOUR,
	DP_T_MINUTE,
	DP_T_MINDAY,
	DP_T_TOD,      /* seconds of the day, [start, end) */
	DP_T_DATETIME, /* YYYYMMDDhhmmss numbers, [start, end) */
	DP_T_COUNT
};

struct dialplan__range {
	int64_t lo, hi; /* lo > hi: wraps around (22-6) */
};

struct dialplan__time {
	struct dialplan__range *ranges[DP_T_COUNT]; /* NULL: attribute absent */
	size_t count[DP_T_COUNT];
};

/* The attribute names, indexed by enum dialplan__tfield ("minute-of-day"). */
extern const char *const dialplan__time_attrs[DP_T_COUNT];

/*
 * Parses one time attribute's value into ranges allocated from `arena`.
 * 0, or -EINVAL with the reason in `why`.
 */
int dialplan__time_parse(enum dialplan__tfield f, const char *value, struct arena *arena,
			 struct dialplan__range **out, size_t *count, char *why, size_t why_size);
/* Whether every attribute of t matches the broken-down time tm. */
bool dialplan__time_match(const struct dialplan__time *t, const struct tm *tm);

/* ---- the compiled dialplan ---- */

enum dialplan__break { DP_BREAK_ON_FALSE, DP_BREAK_ON_TRUE, DP_BREAK_ALWAYS, DP_BREAK_NEVER };
enum dialplan__rmode { DP_REGEX_NONE, DP_REGEX_ALL, DP_REGEX_ANY, DP_REGEX_XOR };

/* One "field =~ expression" test, with its time attributes. */
struct dialplan__test {
	const char *field;	     /* NULL: no field (an absolute or time-only test) */
	bool field_expand;	     /* the field holds '$': expand it, else a caller field */
	const char *expr;	     /* as written (flags form "/re/i" included) */
	pcre2_code *re;		     /* compiled at load; NULL when expr needs expansion */
	uint32_t re_options;	     /* for a compile at hunt time */
	const char *re_src;	     /* the pattern without a "/…/flags" wrapping */
	bool expr_expand;	     /* expr holds ${…}: compiled per hunt */
	struct dialplan__time *time; /* or NULL */
	const char *file;
	unsigned line;
};

struct dialplan__action {
	const struct dialplan_app *app;
	const char *data;
	bool is_inline;
	unsigned loop; /* times it is added (loop="N"), 1 by default */
	const char *file;
	unsigned line;
};

struct dialplan__cond {
	enum dialplan__break brk;
	enum dialplan__rmode rmode;
	bool require_nested;
	struct dialplan__test test; /* rmode NONE */
	struct dialplan__test *regexes;
	size_t regex_count;
	struct dialplan__action *actions, *anti;
	size_t action_count, anti_count;
	struct dialplan__cond *nested;
	size_t nested_count;
	const char *file;
	unsigned line;
};

struct dialplan__ext {
	const char *name;
	bool cont;
	struct dialplan__cond *conds;
	size_t cond_count;
};

struct dialplan__ctx {
	const char *name;
	struct dialplan__ext *exts;
	size_t ext_count;
};

enum {
	DIALPLAN_NEST_MAX = 16,	  /* condition nesting */
	DIALPLAN_LOOP_MAX = 1000, /* loop="N" */
	DIALPLAN_MATCH_LIMIT = 100000,
};

/* ---- IVR menus (ivr_load.c, app_ivr.c) ---- */

enum dialplan__ivr_action { DP_IVR_EXEC_APP, DP_IVR_SUB, DP_IVR_BACK, DP_IVR_TOP, DP_IVR_EXIT };

struct dialplan__ivr_menu;

struct dialplan__ivr_entry {
	const char *digits;
	enum dialplan__ivr_action action;
	const struct dialplan_app *app; /* menu-exec-app */
	const char *param;		/* its data (expanded at run time), or the sub's name */
	const struct dialplan__ivr_menu *sub; /* menu-sub */
	const char *file;
	unsigned line;
};

struct dialplan__ivr_menu {
	const char *name;
	const char *greet_long, *greet_short, *invalid_sound, *exit_sound; /* "" when unset */
	uint32_t timeout_ms, inter_digit_ms, max_failures, max_timeouts, digit_len;
	struct dialplan__ivr_entry *entries;
	size_t entry_count;
	const char *file;
	unsigned line;
};

struct dialplan_xml {
	atomic_uint refs;   /* routes on any loop hold one */
	struct arena arena; /* everything below, strings included */
	struct dialplan__ctx *ctxs;
	size_t ctx_count;
	pcre2_match_context *mctx; /* bounds backtracking on hostile input */
	pcre2_code **codes;	   /* every compiled pattern, for the destructor */
	size_t code_count, code_cap;
	unsigned warnings;
	size_t extension_count;
	struct dialplan__ivr_menu *menus; /* ivr.conf */
	size_t menu_count;
};

/* Loads ivr.conf's menus into x (its arena): 0, or -EINVAL with "file:line:
 * message" in err. No ivr.conf: no menus. */
int dialplan__ivr_load(struct dialplan_xml *x, const struct config *cfg, char *err,
		       size_t err_size);
const struct dialplan__ivr_menu *dialplan__ivr_find(const struct dialplan_xml *x, const char *name);

/*
 * A condition's expression, FreeSWITCH style: "/re/flags" (i caseless,
 * s dotall, m multiline, x extended) or a bare pattern. -EINVAL with the
 * offending flag in *bad when a flag is unknown.
 */
int dialplan__regex_split(const char *expr, struct str *src, uint32_t *options, char *bad);

/* Inline applications run during a hunt: set/export/unset/log. */
int dialplan__inline_run(const struct dialplan_app *app, const struct dialplan_vars *vars,
			 const char *data, const char *prefix);

/* ---- the executor side (exec.c, apps.c): these touch channels ---- */

/*
 * Runs `app` on ch with expanded `data`: a dialplan_app_status, or a
 * negative errno. A pending application calls cb(ch, arg, status) once.
 */
int dialplan__app_run(struct channel *ch, const struct dialplan_app *app, const char *data,
		      const struct dialplan_vars *vars, channel_done_cb cb, void *arg);

/*
 * The channel leaves the dialplan it runs (uuid_bridge takes it over): the
 * application running now completes (CHANNEL_EXECUTE_COMPLETE) and no
 * further action runs; its own completion, when it comes, is ignored. A
 * later transfer routes it again. Nothing when the dialplan does not run it.
 */
void dialplan__exec_leave(struct channel *ch);

/* Where a channel's dialplan is (dialplan__exec_mark), to tell later whether
 * it was routed again since (a transfer) or not. */
struct dialplan__exec_mark {
	const void *exec; /* its executor, NULL when it has none */
	unsigned gen;	  /* the executor's generation */
};
void dialplan__exec_mark(const struct channel *ch, struct dialplan__exec_mark *m);
bool dialplan__exec_moved(const struct channel *ch, const struct dialplan__exec_mark *m);

/*
 * The B leg of a bridge a dialplan door made (the bridge application,
 * uuid_bridge). When the bridge ends without B hanging up (A transferred,
 * unbridged, its media stopped), B has nothing left to do: as FreeSWITCH,
 * it hangs up NORMAL_CLEARING — or parks with park_after_bridge=true —
 * unless it was bridged or routed again meanwhile.
 */
struct dialplan__bleg {
	char uuid[UUID_STRLEN];
	struct dialplan__exec_mark mark;
};
void dialplan__bleg_note(struct dialplan__bleg *l, const struct channel *b);
void dialplan__bleg_release(struct core *core, const struct dialplan__bleg *l);

/* app_bridge.c: bridge <dial string> (pending until it ends) and
 * send_dtmf <digits>[@<ms>]; dialplan_app_status or a negative errno. */
int dialplan__app_bridge(struct channel *ch, const char *data, channel_done_cb cb, void *arg);
int dialplan__app_send_dtmf(struct channel *ch, const char *data);
/* app_record.c: record_session <path> [+<limit_secs>], stop_record_session
 * <path>|all; dialplan_app_status or a negative errno. */
int dialplan__app_record_session(struct channel *ch, const char *data);
int dialplan__app_stop_record_session(struct channel *ch, const char *data);
/* app_record.c: record <path> [<time_limit_secs>] [<silence_thresh>]
 * [<silence_hits>] (pending until the recording ends). */
int dialplan__app_record(struct channel *ch, const char *data, channel_done_cb cb, void *arg);

/* originate_args.c (pure) */
/*
 * FreeSWITCH's argument splitting for originate: blanks separate words,
 * '…' quotes a word (the quotes go), and "&app(…)" runs to its closing
 * parenthesis across blanks. At most `max` words go NUL-terminated into buf
 * (argv pointing into it). Returns the count, or -1 when buf is too small or
 * a quote or parenthesis is left open.
 */
int dialplan__originate_split(const char *s, char *buf, size_t size, char **argv, int max);
/*
 * Appends `url` to b with the caller ID name and number and the timeout
 * (each may be NULL) as origination_caller_id_name,
 * origination_caller_id_number and originate_timeout in its {…} block
 * (merged into the url's own, whose ^^X separator is kept), every character
 * the block syntax reads escaped with a backslash. 0, or -EINVAL when the
 * url's ^^X separator is a letter, digit, '_', '=' or a backslash (the names
 * or the escapes would be split).
 */
int dialplan__originate_dial(struct buf *b, const char *url, const char *cid_name,
			     const char *cid_num, const char *timeout);

/* ---- play_and_get_digits and read (digits.c: pure; app_digits.c: glue) ---- */

enum { DIALPLAN_TERM_MAX = 16 };

struct dialplan__digits {
	uint32_t min, max, tries, timeout_ms, digit_timeout_ms;
	char terminators[DIALPLAN_TERM_MAX + 1];	     /* "" none */
	const char *file, *invalid_file, *var_name, *regexp; /* into buf; never NULL once parsed */
	const char *transfer[3]; /* transfer_on_failure: ext, dialplan, context (NULL: absent) */
	pcre2_code *re;		 /* from regexp, or NULL */
	unsigned attempt;	 /* 1-based */
	unsigned invalid_count;
	char buf[2048]; /* the split words */
};

enum dialplan__digits_step {
	DP_DIGITS_PROMPT,  /* play file (barge-in), then dialplan__digits_prompted */
	DP_DIGITS_COLLECT, /* collect, then dialplan__digits_collected */
	DP_DIGITS_INVALID, /* play invalid_file, then dialplan__digits_invalid_done */
	DP_DIGITS_OK,	   /* the entry is valid: set var_name */
	DP_DIGITS_FAIL,	   /* tries used up: transfer_on_failure, if any */
};

/* Parses play_and_get_digits' arguments (is_read: read's). 0, or -EINVAL
 * with the reason in why. dialplan__digits_fini frees the regexp. */
int dialplan__digits_parse(struct dialplan__digits *d, bool is_read, const char *data, char *why,
			   size_t why_size);
void dialplan__digits_fini(struct dialplan__digits *d);
bool dialplan__digits_valid(const struct dialplan__digits *d, const char *digits);
enum dialplan__digits_step dialplan__digits_start(struct dialplan__digits *d);
enum dialplan__digits_step dialplan__digits_prompted(struct dialplan__digits *d);
enum dialplan__digits_step dialplan__digits_collected(struct dialplan__digits *d,
						      const char *digits);
enum dialplan__digits_step dialplan__digits_invalid_done(struct dialplan__digits *d);

/* app_digits.c: play_and_get_digits, read (pending) and flush_dtmf,
 * start_dtmf / stop_dtmf (done). */
int dialplan__app_digits(struct channel *ch, bool is_read, const char *data, channel_done_cb cb,
			 void *arg);
/* A transfer from inside an application of the dialplan executor running
 * ch (transfer_on_failure). -ESRCH when no executor runs it. */
int dialplan__exec_transfer(struct channel *ch, const char *dest, const char *context);

/* A channel's variables for expansion, as the executor reads them (exec.c);
 * `cv` must live as long as `vars` is used. */
struct dialplan__chan_vars {
	struct dialplan *dp;
	struct channel *ch;
};
void dialplan__chan_vars_init(struct dialplan__chan_vars *cv, struct dialplan_vars *vars,
			      struct dialplan *dp, struct channel *ch);
/* The dialplan a channel's variables (as an application gets them) belong
 * to, or NULL for other variables. */
struct dialplan *dialplan__vars_dialplan(const struct dialplan_vars *vars);
/* The loaded dialplan now running (borrowed: dialplan_xml_ref to keep it). */
struct dialplan_xml *dialplan__running_xml(const struct dialplan *dp);

/* app_ivr.c: ivr <menu>; pending until the caller leaves the menus. */
int dialplan__app_ivr(struct channel *ch, const char *data, const struct dialplan_vars *vars,
		      channel_done_cb cb, void *arg);

/* commands.c: eval and uuid_transfer in the core's registry; the
 * dialplan uuid_transfer hunts with (commands carry no argument). */
void dialplan__commands_register(struct core *core, struct dialplan *dp);
void dialplan__commands_unregister(struct dialplan *dp);

#endif
