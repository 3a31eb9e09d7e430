#!/usr/bin/env bash
# CDRs into a real PostgreSQL started by the test (initdb into $T_DIR, its
# own port, its socket in $T_DIR; run as postgres or nobody when the test
# runs as root). irisx creates the schema (cdr_schema_version = 1).
#  1. 200 SIPp calls to the echo test → 200 rows with the right Call-IDs,
#     billsec and causes.
#  2. 300 more calls; PostgreSQL is stopped (fast: connections cut) in the
#     middle and started again a few seconds later → all 300 arrive, in
#     the same order as SQLite got them, none twice.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cdr_lib.sh
. "$(dirname "$0")/cdr_lib.sh"
t_begin
trap 'rc=$?; pg_cleanup; (exit $rc); t_cleanup' EXIT
pg_require
pg_start
t_log "PostgreSQL on port $PG_PORT, socket in $T_DIR/pgsock"

irisx_conf_edit()
{
	cat >"$1/autoload_configs/cdr.conf.xml" <<XML
<configuration name="cdr.conf">
  <settings>
    <param name="store" value="sqlite"/>
    <param name="store" value="postgres"/>
    <param name="pg-dsn" value="$PG_DSN"/>
    <param name="batch-size" value="64"/>
  </settings>
</configuration>
XML
}
irisx_start
cdr_wait_count "schema version" 1 10 pg_sql "select max(version) from cdr_schema_version"

SIPP_IP=127.0.0.1
sipp_run first cdr_call.xml "127.0.0.1:$IRISX_INT_PORT" -s 9196 -d 200 -m 200 -r 25 -l 100 \
	-rtp_echo
cdr_wait_count "first 200 calls: rows in PostgreSQL" 200 15 pg_sql "select count(*) from cdr"
sipp_calls_done first | sort >"$T_DIR/first.ids"
pg_sql "select sip_call_id from cdr" | sort >"$T_DIR/pg1.ids"
if [ "$(wc -l <"$T_DIR/first.ids")" -eq 200 ] && cmp -s "$T_DIR/first.ids" "$T_DIR/pg1.ids"; then
	t_ok "the 200 rows are the 200 calls SIPp made (by Call-ID)"
else
	t_fail "Call-IDs differ: $(diff "$T_DIR/first.ids" "$T_DIR/pg1.ids" | head -5)"
fi
n=$(pg_sql "select count(*) from cdr where hangup_cause = 'NORMAL_CLEARING' and q850 = 16 and direction = 'inbound' and hangup_disposition = 'recv_bye' and billsec = 0 and ended_us - answered_us between 200000 and 700000 and rtp_packets_in > 0 and variables = '{}'::jsonb")
[ "$n" = 200 ] && t_ok "causes, dispositions, 0.2 s billed, RTP: all 200" || t_fail "only $n of 200 rows have the expected fields"

# 2. An outage in the middle of 300 calls.
sipp_start second cdr_call.xml "127.0.0.1:$IRISX_INT_PORT" -s 9196 -d 200 -m 300 -r 25 -l 100 \
	-rtp_echo
sleep 4
pg_stop || t_fail "pg_ctl stop failed"
t_log "PostgreSQL stopped"
sleep 3
pg_start
t_log "PostgreSQL started again"
sipp_wait second
cdr_wait_count "all 500 rows in PostgreSQL after the outage" 500 30 pg_sql "select count(*) from cdr"
n=$(pg_sql "select count(distinct uuid) from cdr")
[ "$n" = 500 ] && t_ok "no uuid twice" || t_fail "$n distinct uuids"
sipp_calls_done second | sort >"$T_DIR/second.ids"
pg_sql "select sip_call_id from cdr" | sort >"$T_DIR/pg2.ids"
sort -m "$T_DIR/first.ids" "$T_DIR/second.ids" >"$T_DIR/all.ids"
if [ "$(wc -l <"$T_DIR/all.ids")" -eq 500 ] && cmp -s "$T_DIR/all.ids" "$T_DIR/pg2.ids"; then
	t_ok "every one of the 500 calls is in PostgreSQL once"
else
	t_fail "Call-IDs differ after the outage: $(diff "$T_DIR/all.ids" "$T_DIR/pg2.ids" | head -5)"
fi
# Same records in SQLite, which stayed up; in the same order of arrival.
cdr_sqlite "select uuid from cdr order by rowid" >"$T_DIR/sqlite.order"
pg_sql "select uuid from cdr order by ctid" >"$T_DIR/pg.order"
if cmp -s "$T_DIR/sqlite.order" "$T_DIR/pg.order"; then
	t_ok "PostgreSQL got the records in spool order"
else
	t_fail "order differs between SQLite and PostgreSQL"
fi
grep -q "cdr postgres: ready" "$IRISX_LOG" && grep -qi "cdr postgres:.*\(terminat\|connect\|closed\|server\)" "$IRISX_LOG" &&
	t_ok "the outage and the reconnection are logged" || t_fail "no outage in the log"

irisx_alive "after the outage" && irisx_stop
pg_stop
t_end
