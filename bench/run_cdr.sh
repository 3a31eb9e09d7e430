#!/usr/bin/env bash
# bench/run_cdr.sh BUILD_DIR — CDRs per second through the real writer
# (spool + sink; bench_cdr) into SQLite and into a PostgreSQL started here
# (initdb into the temp dir, its own port and socket, as tests/interop's
# test_cdr_postgres.sh does). Prints "key: value" lines.
#
# Environment (default): BENCH_CDR_COUNT (50000), BENCH_CDR_BATCH (256).
set -u
# shellcheck source=bench_start.sh
. "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck source=../tests/interop/cdr_lib.sh
. "$src/tests/interop/cdr_lib.sh"
T_NAME=bench_cdr
count=${BENCH_CDR_COUNT:-50000}
batch=${BENCH_CDR_BATCH:-256}
bench=$build/bench/bench_cdr
[ -x "$bench" ] || { echo "bench: $bench is missing: build first" >&2; exit 2; }

t_begin
trap 'rc=$?; pg_cleanup; (exit $rc); t_cleanup' EXIT
out=()
mkdir -p "$T_DIR/sqlite"
if r=$(timeout 180 "$bench" -k sqlite -d "$T_DIR/sqlite" -n "$count" -b "$batch"); then
	t_log "$(head -n 1 <<<"$r")"
	out+=("cdr_sqlite_per_s: $(sed -n 's/.*cdrs_per_s=\([0-9]*\).*/\1/p' <<<"$r")")
	out+=("cdr_submit_us: $(sed -n 's/.*submit_us=\([0-9.]*\).*/\1/p' <<<"$r")")
else
	t_fail "bench_cdr sqlite failed"
fi
pg_require
pg_start
mkdir -p "$T_DIR/postgres"
if r=$(timeout 180 "$bench" -k postgres -d "$T_DIR/postgres" -p "$PG_DSN" -n "$count" -b "$batch"); then
	t_log "$(head -n 1 <<<"$r")"
	out+=("cdr_postgres_per_s: $(sed -n 's/.*cdrs_per_s=\([0-9]*\).*/\1/p' <<<"$r")")
	n=$(pg_sql "select count(*) from cdr")
	[ "$n" = "$count" ] || t_fail "PostgreSQL holds $n rows, expected $count"
else
	t_fail "bench_cdr postgres failed"
fi
pg_stop
printf 'CDRs (bench_cdr: spool + sink, %s records, batch %s):\n' "$count" "$batch"
printf '%s\n' "${out[@]}"
t_end
