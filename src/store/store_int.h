/*
 * store's internals shared between its files: the record's field table,
 * the spool and the sinks' interface.
 */
#ifndef IRISX_STORE_INT_H
#define IRISX_STORE_INT_H

#include "store.h"

#include <pthread.h>

/*
 * The record's scalar fields in column order: S strings, U unsigned
 * integers, F reals. JSON keys, SQL columns and CSV ${names} are these
 * names; the extra variables follow as one "variables" JSON object.
 */
#define CDR_FIELDS(S, U, F)                                                                        \
	S(uuid)                                                                                    \
	S(other_uuid)                                                                              \
	S(direction)                                                                               \
	S(caller_id_name)                                                                          \
	S(caller_id_number)                                                                        \
	S(destination_number)                                                                      \
	S(context)                                                                                 \
	S(gateway)                                                                                 \
	S(sip_call_id)                                                                             \
	S(remote_addr)                                                                             \
	U(created_us)                                                                              \
	U(answered_us)                                                                             \
	U(bridged_us)                                                                              \
	U(ended_us)                                                                                \
	U(duration)                                                                                \
	U(billsec)                                                                                 \
	U(progresssec)                                                                             \
	U(progress_mediasec)                                                                       \
	S(hangup_cause)                                                                            \
	U(q850)                                                                                    \
	S(hangup_disposition)                                                                      \
	S(read_codec)                                                                              \
	S(write_codec)                                                                             \
	U(rtp_packets_in)                                                                          \
	U(rtp_packets_out)                                                                         \
	U(rtp_lost)                                                                                \
	F(jitter_ms)                                                                               \
	F(mos)                                                                                     \
	S(recording_path)

enum cdr_field_kind { CDR_STR, CDR_U64, CDR_F64 };

struct cdr_field {
	const char *name;
	enum cdr_field_kind kind;
	size_t offset;
};

extern const struct cdr_field cdr__fields[];
extern const size_t cdr__field_count;

/* The extra variables as a JSON object ("{}" when none). */
void cdr__vars_print(const struct cdr *c, struct buf *out);
/* Parses such an object in place into c->vars; -EBADMSG when malformed. */
int cdr__vars_parse(char *p, size_t len, struct cdr *c);
/* Appends s as a JSON string (quotes included). */
void cdr__json_str(struct buf *out, const char *s);

/* ---- the spool (spool.c) ---- */

struct cdr_spool;

/* A batch handed to a sink: parsed records and the position after the last. */
struct cdr_batch {
	struct cdr *recs;
	size_t count;
	size_t lines; /* spool lines the batch covers (unparsable ones included) */
};

/* ---- sinks (sink_*.c): each runs on its own thread ---- */

struct cdr_sink_ops {
	const char *name;
	/* Connects / opens; -errno with err filled when it cannot (retried). */
	int (*open)(void *sink, char *err, size_t err_size);
	/* Stores the batch durably (all or nothing); -errno and err otherwise,
	 * after which the sink is closed and opened again. */
	int (*write)(void *sink, const struct cdr_batch *b, char *err, size_t err_size);
	void (*close)(void *sink);
	void (*destroy)(void *sink);
};

int cdr__sqlite_create(void **out, const struct cdr_conf *conf);
int cdr__pg_create(void **out, const struct cdr_conf *conf);
int cdr__csv_create(void **out, const struct cdr_conf *conf);
extern const struct cdr_sink_ops cdr__sqlite_ops, cdr__pg_ops, cdr__csv_ops;

/* SQLite's schema (shared with the query side). */
extern const char cdr__sqlite_schema[];

#endif
