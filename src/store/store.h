/*
 * store — call detail records: one per call leg, written to an fsync'd spool
 * first and from there to the configured sinks (SQLite by default,
 * PostgreSQL, a CSV file), each on its own writer thread.
 *
 * Layering: store depends on base and config only. The core fills a
 * struct cdr at CHANNEL_HANGUP_COMPLETE and hands it to cdr_store_submit()
 * (src/core/cdr.c); main.c creates the store from cdr.conf.xml.
 *
 * Durability: cdr_store_submit() (the loop thread) serializes the record to
 * one JSON line and appends it to an in-memory queue; it never touches the
 * disk. The spool thread takes the queue every few milliseconds, appends the
 * batch to the current segment file and fsyncs it (group commit). A record
 * exists only in memory between cdr_store_submit() and that fsync — at most
 * one commit interval (CDR_SPOOL_COMMIT_MS) plus the write itself. From then
 * on it survives kill -9 and is delivered to every sink, in order, from the
 * sink's fsync'd cursor (replayed at start-up).
 */
#ifndef IRISX_STORE_H
#define IRISX_STORE_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;

enum { CDR_SPOOL_COMMIT_MS = 5, CDR_EXTRA_MAX = 32 };

/* ---- the record ---- */

struct cdr_var {
	const char *name, *value;
};

/*
 * One call leg. Strings are borrowed (NULL and "" both mean "none"): from
 * the channel when the core fills it, from the parsed line after
 * cdr_parse(). Times are wall clock µs since the epoch, 0: never.
 */
struct cdr {
	const char *uuid;
	const char *other_uuid; /* the leg it was bridged to */
	const char *direction;	/* "inbound" / "outbound" */
	const char *caller_id_name, *caller_id_number, *destination_number;
	const char *context, *gateway, *sip_call_id, *remote_addr;
	uint64_t created_us, answered_us, bridged_us, ended_us;
	/* Whole seconds as FreeSWITCH's duration, billsec, progresssec and
	 * progress_mediasec variables (truncated). */
	uint64_t duration, billsec, progresssec, progress_mediasec;
	const char *hangup_cause; /* "NORMAL_CLEARING" */
	uint64_t q850;
	/* Who ended the leg: recv_bye, send_bye, recv_cancel, send_cancel,
	 * recv_refuse, send_refuse (mod_sofia's sip_hangup_disposition). */
	const char *hangup_disposition;
	const char *read_codec, *write_codec;
	uint64_t rtp_packets_in, rtp_packets_out, rtp_lost;
	double jitter_ms;
	double mos; /* 0 when no RTP arrived */
	const char *recording_path;
	struct cdr_var vars[CDR_EXTRA_MAX]; /* the configured extra variables */
	size_t var_count;
};

/*
 * The E-model (ITU-T G.107) reduced to what an RTP receiver measures:
 *   R = 93.2 - Id - Ie,eff
 *   Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl + Bpl)     (G.107 §7.4; G.711: Ie 0,
 *                                                    Bpl 25.1 with PLC, G.113)
 *   Ppl = 100 * lost / (received + lost), with the jitter buffer's discards
 *         folded in as loss: jitter above 20 ms adds (jitter - 20) / 2 % loss
 *   Id  = 0.024 d + 0.11 (d - 177.3) H(d - 177.3), d = one-way delay in ms,
 *         estimated as 20 ms packetization + 2 × jitter + 10 ms
 *   MOS = 1 + 0.035 R + 7e-6 R (R - 60)(100 - R) for 0 < R < 100 (G.107 B.4),
 *         1 below, 4.5 above.
 * Returns 0 when nothing was received (no estimate).
 */
double cdr_mos(uint64_t received, uint64_t lost, double jitter_ms);

/* Appends the record as one JSON object and a '\n' to `out`. */
void cdr_print_json(const struct cdr *c, struct buf *out);
/*
 * Parses one line made by cdr_print_json (without its '\n'). String
 * fields point into `line`, which is unescaped in place: it must stay
 * alive as long as `out` is used. -EBADMSG for anything malformed, a record
 * without a uuid included.
 */
int cdr_parse(char *line, size_t len, struct cdr *out);

/* ---- configuration (autoload_configs/cdr.conf.xml) ---- */

enum cdr_sink_kind { CDR_SINK_SQLITE, CDR_SINK_POSTGRES, CDR_SINK_CSV, CDR_SINK_KINDS };

struct cdr_conf {
	bool sinks[CDR_SINK_KINDS];
	char sqlite_path[1024]; /* default <state dir>/cdr.sqlite */
	char pg_dsn[1024];
	char spool_dir[1024]; /* default <state dir>/cdr-spool */
	char csv_path[1024];  /* default <state dir>/cdr.csv */
	char csv_template[2048];
	size_t batch_size; /* records per sink transaction, default 256 */
	char extra_names[CDR_EXTRA_MAX][128];
	size_t extra_count;
};

/*
 * Reads cdr.conf.xml's <settings> (no section: SQLite only, defaults).
 * Errors are "file:line: what" in err and -EINVAL.
 */
int cdr_conf_load(struct cdr_conf *out, const struct config *cfg, const char *state_dir, char *err,
		  size_t err_size);
/* The defaults: SQLite in state_dir. */
void cdr_conf_default(struct cdr_conf *out, const char *state_dir);
/* The CSV column template used when none is configured. */
extern const char cdr_csv_template_default[];
/* Expands a CSV template (${field} names, as the SQL columns) for one record:
 * every value in double quotes, quotes doubled. Appends a '\n'. */
void cdr_csv_print(const struct cdr *c, const char *template, struct buf *out);

/* ---- the store ---- */

struct cdr_store;

/*
 * Opens the spool (replaying what the sinks have not stored yet) and starts
 * the spool thread and one writer thread per sink. -errno when the spool
 * directory or a file sink cannot be opened; a PostgreSQL that is down is
 * not an error (its writer retries with back-off).
 */
int cdr_store_create(struct cdr_store **out, const struct cdr_conf *conf);
/*
 * Serializes the record and queues it for the spool thread. Never blocks on
 * I/O (a mutex held for a pointer swap). Thread-safe.
 */
int cdr_store_submit(struct cdr_store *st, const struct cdr *c);
/* Names of the extra variables to copy into every record (the config's). */
size_t cdr_store_extra_names(const struct cdr_store *st, const char *const **names);
/*
 * Waits until every submitted record is in the spool and, at most
 * `timeout_ms`, until every sink has stored them. -ETIMEDOUT otherwise.
 */
int cdr_store_flush(struct cdr_store *st, uint32_t timeout_ms);
/* Flushes the spool (not the sinks: the spool keeps their backlog), stops
 * the threads and frees everything. */
void cdr_store_destroy(struct cdr_store *st);

struct cdr_sink_stats {
	const char *name; /* "sqlite", "postgres", "csv" */
	bool up;
	char error[256];  /* the last error while down, "" otherwise */
	uint64_t backlog; /* records spooled but not yet stored by this sink */
	uint64_t stored;  /* records stored since start (replays included) */
	uint64_t failures;
};

struct cdr_store_stats {
	uint64_t submitted; /* since start */
	uint64_t spooled;   /* appended and fsync'd */
	uint64_t spool_errors;
	size_t sink_count;
	struct cdr_sink_stats sinks[CDR_SINK_KINDS];
};

/* A snapshot for /health and /metrics. Thread-safe. */
void cdr_store_stats(struct cdr_store *st, struct cdr_store_stats *out);

/* ---- reading back (GET /v1/cdrs, irisx cdr export): the SQLite store ---- */

struct cdr_query {
	uint64_t since_us, until_us; /* created_us in [since, until); 0: unbounded */
	const char *direction;	     /* NULL: any */
	const char *cause;	     /* hangup cause name, NULL: any */
	const char *uuid;	     /* one record */
	/* Keyset pagination: records after this cursor (as returned in
	 * next_cursor), ordered by (created_us, uuid). */
	const char *cursor;
	size_t limit; /* 0: 100; at most 1000 */
};

/*
 * Calls cb for each matching record in `sqlite_path`, oldest first (the
 * record and its strings live during the call). `next_cursor` (at least 80
 * bytes) gets the cursor of the next page, or "" when this was the last.
 * -ENOENT when the database does not exist, -EINVAL for a bad cursor,
 * -EIO for a database error.
 */
int cdr_query_run(const char *sqlite_path, const struct cdr_query *q,
		  void (*cb)(void *arg, const struct cdr *c), void *arg, char *next_cursor,
		  size_t next_cursor_size);

/* `irisx cdr export`: every record in [since, until) as CSV (a header and
 * the default template's columns) or JSON lines, to `out`. */
int cdr_export(const char *sqlite_path, bool json, uint64_t since_us, uint64_t until_us, FILE *out);

#endif
