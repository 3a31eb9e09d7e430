/*
 * Internals shared by the Event Socket's files: the server, a connection,
 * its subscription and its bounded event queue.
 */
#ifndef IRISX_ESL_INT_H
#define IRISX_ESL_INT_H

#include "control/control.h"
#include "core/core.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <uv.h>

enum esl_format { ESL_FMT_NONE, ESL_FMT_PLAIN, ESL_FMT_JSON, ESL_FMT_XML };

enum {
	/* Past this many bytes waiting in the socket, events stay in the queue
	 * (and overflow it): a slow reader never grows our memory without bound. */
	ESL_WRITE_HIGH = 256 * 1024,
	/* Past this, even replies wait: we stop reading the client's commands. */
	ESL_WRITE_STOP_READ = 4 * 1024 * 1024,
	ESL_READ_MAX = ESL_HEAD_MAX + ESL_BODY_MAX,
};

struct esl_filter {
	char *header;
	char *value; /* as written: "/.../" for a regex */
	pcre2_code *re; /* NULL: value must equal the header's */
};

enum {
	/* A regex filter runs on the loop for every event: a pattern that
	 * backtracks without end fails the match instead of stalling calls. */
	ESL_FILTER_MATCH_LIMIT = 100000,
};

struct esl_outbound;

struct esl_conn {
	uv_tcp_t tcp;
	struct esl_outbound *ob; /* outbound mode (the socket application), else NULL */
	struct esl *esl; /* NULL once the server is gone */
	struct esl_conn *prev, *next;
	char *in; /* unparsed bytes */
	size_t in_len, in_cap;
	bool authed;
	bool closing;
	bool reading;
	bool linger;
	uint32_t linger_secs;
	/* subscription */
	enum esl_format fmt;
	bool all_events;
	char **names; /* event names; CUSTOM subclasses as "CUSTOM <subclass>" */
	size_t name_count;
	struct esl_filter *filters;
	size_t filter_count;
	pcre2_match_data *filter_md;	  /* for regex filters, made with the first */
	pcre2_match_context *filter_mctx; /* its match limit */
	char myevents[UUID_STRLEN + 1]; /* "" when not set */
	int log_level;			/* -1: no log forwarding */
	/* the bounded queue: a ring of references */
	struct core_event **queue;
	size_t q_head, q_len, q_cap;
	uint64_t dropped;   /* since the client was last told */
	uint64_t last_seq;  /* the newest event queued or sent */
	uint64_t sent_seq;  /* the newest event written */
	bool flush_pending; /* on the server's flush list */
	struct esl_conn *flush_next;
	/* An `api` whose command is asynchronous (originate): the commands after
	 * it wait in `in` until it replies, as FreeSWITCH answers in order. */
	struct core_reply *api_pending;
	bool resume; /* replied: the idle handle goes on with what waits in `in` */
};

struct esl_job {
	struct esl_job *next, *prev; /* prev: on the running list only */
	struct esl *esl;
	struct core_reply *reply; /* an asynchronous command still running */
	char uuid[UUID_STRLEN + 1];
	char *cmd; /* "name args" */
};

struct esl {
	uv_loop_t *loop;
	uv_thread_t thread; /* the loop's, for the log tap */
	struct core *core;
	struct dialplan *dp;
	struct esl_settings set;
	uv_tcp_t listener;
	uv_idle_t idle; /* runs background jobs and flushes queues, one handle for all */
	struct core_sub *sub;
	struct esl_conn *conns;
	struct esl_conn *flush_list;
	struct esl_job *jobs, **jobs_tail;
	struct esl_job *running; /* bgapi jobs whose asynchronous command has not replied */
	unsigned open_handles; /* listener + idle: the struct is freed when 0 */
	bool destroyed;
	unsigned in_command;  /* esl_destroy waits until the command returns */
	bool destroy_pending; /* (fsctl shutdown arrives through api) */
	struct esl_stats stats;
	struct core_collector *collector; /* the Event Socket's metrics */
};

/* esl_conn.c */
void esl__accept(struct esl *esl);
/* A connection not yet linked to the server (queue allocated, tcp
 * initialised): NULL when out of memory. */
struct esl_conn *esl__conn_new(struct esl *esl);
/* Adds c to the server's connections (events fan out to it). */
void esl__conn_link(struct esl_conn *c, struct esl *esl);
void esl__conn_read_start(struct esl_conn *c);
/* Runs the complete commands waiting in the connection's input. */
void esl__conn_process(struct esl_conn *c);
/* The connection's pending `api` replied: go on with its input (idle handle). */
void esl__conn_resume(struct esl_conn *c);
void esl__conn_close(struct esl_conn *c);
/* Writes a frame: "Content-Type: <type>\n", extra headers (may be NULL,
 * each line ending in \n), Content-Length when body_len > 0, then body. */
void esl__conn_send(struct esl_conn *c, const char *type, const char *extra, const char *body,
		    size_t body_len);
void esl__conn_reply(struct esl_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Closes after what is queued has been written. */
void esl__conn_finish(struct esl_conn *c);
/* Queues the event if the connection's subscription wants it. */
void esl__conn_offer(struct esl_conn *c, struct core_event *ev);
void esl__conn_unsubscribe(struct esl_conn *c);
void esl__wake(struct esl *esl);
void esl__conn_flush(struct esl_conn *c);
/* Writes the bytes of b as they are (b is left empty). */
void esl__conn_send_raw(struct esl_conn *c, struct buf *b);
/* core_event_cb for resume: offers events newer than what was queued. */
void esl__conn_replay(void *arg, struct core_event *ev);

/* esl_cmd.c */
void esl__command(struct esl_conn *c, const struct esl_frame *f);
void esl__jobs_run(struct esl *esl);
/* esl_destroy: jobs still waiting for their command forget it. */
void esl__jobs_drop(struct esl *esl);
void esl__conn_sub_free(struct esl_conn *c);

/* esl_outbound.c */
/* The server the socket application connects for (one per process). */
void esl__outbound_attach(struct esl *esl);
void esl__outbound_detach(struct esl *esl);
/* The connection's channel: every bus event, after the connection's offer. */
void esl__outbound_event(struct esl_conn *c, struct core_event *ev);
/* From the tcp handle's close callback, before c is freed. */
void esl__outbound_closed(struct esl_conn *c);
/* `connect`: replies with the channel's data. */
void esl__outbound_connect(struct esl_conn *c);
/* The channel's uuid ("" when inbound). */
const char *esl__outbound_uuid(const struct esl_conn *c);

#endif
