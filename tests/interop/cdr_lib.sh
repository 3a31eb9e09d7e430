# shellcheck shell=bash
# cdr_lib.sh — helpers for the CDR interop tests (test_cdr_*.sh), sourced
# after lib.sh: the SQLite store's rows, a PostgreSQL server of the test's
# own (initdb into $T_DIR, its own port and socket directory), and the calls
# SIPp saw end, from its message trace.

PG_BIN=
PG_USER_RUN=()

# cdr_sqlite SQL: run SQL on the SQLite store of the first irisx_start.
cdr_sqlite()
{
	python3 - "$T_DIR/state.1/cdr.sqlite" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
for row in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

# cdr_wait_count WHAT EXPECTED SECONDS CMD...: poll CMD (which prints a
# number) until it prints EXPECTED; fail after SECONDS.
cdr_wait_count()
{
	local what=$1 want=$2 secs=$3 n="" i
	shift 3
	for ((i = 0; i < secs * 10; i++)); do
		n=$("$@" 2>/dev/null)
		[ "$n" = "$want" ] && break
		sleep 0.1
	done
	if [ "$n" = "$want" ]; then
		t_ok "$what: $n"
		return 0
	fi
	t_fail "$what: $n after ${secs}s, expected $want"
	return 1
}

# sipp_calls_done NAME [BEFORE_EPOCH]: the Call-IDs of the calls whose BYE
# SIPp saw answered 200 (before BEFORE_EPOCH, a time in seconds, if given),
# one a line, from $T_DIR/NAME.msg.
sipp_calls_done()
{
	python3 - "$T_DIR/$1.msg" "${2:-0}" <<'PY'
import datetime, re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
before = float(sys.argv[2])
parts = re.split(r"^-{20,} ([^\n]*)\n", text, flags=re.M)
for stamp, block in zip(parts[1::2], parts[2::2]):
    if not re.match(r"\S+ message received", block):
        continue
    if not re.search(r"^SIP/2\.0 200", block, re.M) or not re.search(r"^CSeq:\s*\d+\s+BYE", block, re.M | re.I):
        continue
    m = re.search(r"(\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d(?:\.\d+)?)", stamp)
    if before and m:
        t = datetime.datetime.fromisoformat(m.group(1) + " " + m.group(2)).timestamp()
        if t >= before:
            continue
    cid = re.search(r"^(?:Call-ID|i):\s*(\S+)", block, re.M | re.I)
    if cid:
        print(cid.group(1))
PY
}

# pg_require: find PostgreSQL's server binaries (scripts/install-deps.sh
# installs them; the test fails without them, it does not skip). As root,
# the server runs as postgres (or nobody): initdb refuses root.
pg_require()
{
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && PG_BIN=$d
	done
	[ -n "$PG_BIN" ] || t_die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (scripts/install-deps.sh)"
	# That user must be able to reach $T_DIR.
	PG_USER_RUN=()
	if [ "$(id -u)" -eq 0 ]; then
		local u=postgres
		id "$u" >/dev/null 2>&1 || u=nobody
		PG_USER_RUN=(runuser -u "$u" --)
		chmod o+x "$T_DIR"
		PG_OWNER=$u
	fi
}

# pg_start: initdb into $T_DIR/pg (first time), start on a free port with
# its socket in $T_DIR/pgsock. Sets PG_PORT and PG_DSN.
pg_start()
{
	local i
	if [ ! -d "$T_DIR/pg" ]; then
		mkdir -p "$T_DIR/pg" "$T_DIR/pgsock"
		[ -n "${PG_OWNER:-}" ] && chown "$PG_OWNER" "$T_DIR/pg" "$T_DIR/pgsock"
		"${PG_USER_RUN[@]}" "$PG_BIN/initdb" -D "$T_DIR/pg" -U irisx --auth=trust \
			-E UTF8 --no-locale >"$T_DIR/initdb.log" 2>&1 ||
			{ t_dump initdb "$T_DIR/initdb.log"; t_die "initdb failed"; }
		PG_PORT=$(ports_pick 127.0.0.1 1) || t_die "no free port for PostgreSQL"
	fi
	"${PG_USER_RUN[@]}" "$PG_BIN/pg_ctl" -D "$T_DIR/pg" -l "$T_DIR/pg/server.log" -w -t 30 \
		-o "-p $PG_PORT -k $T_DIR/pgsock -c listen_addresses=''" start >"$T_DIR/pg_ctl.log" 2>&1 ||
		{ t_dump pg_ctl "$T_DIR/pg_ctl.log"; t_dump "server log" "$T_DIR/pg/server.log"; t_die "PostgreSQL did not start"; }
	PG_DSN="host=$T_DIR/pgsock port=$PG_PORT user=irisx dbname=postgres connect_timeout=3"
	for ((i = 0; i < 50; i++)); do
		pg_sql "select 1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	t_die "PostgreSQL does not answer"
}

# pg_stop: a fast stop (connections are cut, as in an outage).
pg_stop()
{
	"${PG_USER_RUN[@]}" "$PG_BIN/pg_ctl" -D "$T_DIR/pg" -m fast -w -t 30 stop >>"$T_DIR/pg_ctl.log" 2>&1
}

# pg_cleanup: stop the server if it runs (call from an EXIT path).
pg_cleanup()
{
	[ -n "$PG_BIN" ] && [ -f "$T_DIR/pg/postmaster.pid" ] && pg_stop
	return 0
}

pg_sql()
{
	"$PG_BIN/psql" "$PG_DSN" -XAt -v ON_ERROR_STOP=1 -c "$1"
}
