# shellcheck shell=bash
# lib.sh — shared helpers for irisx's interop tests (tests/interop/test_*.sh).
#
# A test sources this file, calls t_begin, starts its own irisx on free
# loopback ports (irisx_start), drives it with SIPp (sipp_run / sipp_start +
# sipp_wait), checks what SIPp saw on the wire in its message trace
# (trace_expect, trace_header), and ends with t_end, which exits non-zero if any
# check failed. An EXIT trap stops every process the test started and removes
# its temp dir, however the test ends.
#
# ctest runs these in parallel, so nothing here uses a fixed port: SIP ports
# are bind-tested before use and irisx is restarted on new ports if another
# process took one in between.
#
# Environment: IRISX_BIN (the daemon), IRISX_SOURCE_DIR (for conf/),
# IRISX_TEST_KEEP=1 keeps the temp dir for a post-mortem.

T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_SCEN_DIR=$T_LIB_DIR/sipp

# ---------------------------------------------------------------------------
# Test bookkeeping
# ---------------------------------------------------------------------------

T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_PIDS=()
T_DIR=

t_log()
{
	printf '[%s] %s\n' "$T_NAME" "$*" >&2
}

t_ok()
{
	printf '[%s] ok: %s\n' "$T_NAME" "$*" >&2
}

# A failed check: say why and go on, so one run reports every problem.
t_fail()
{
	printf '[%s] FAIL: %s\n' "$T_NAME" "$*" >&2
	T_FAILS=$((T_FAILS + 1))
}

# A failure the rest of the test cannot run without.
t_die()
{
	t_fail "$*"
	t_log "giving up after $T_FAILS failure(s)"
	exit 1
}

t_begin()
{
	local tool
	[ -n "${IRISX_BIN:-}" ] || t_die "IRISX_BIN is not set (run through ctest, or export it)"
	[ -x "$IRISX_BIN" ] || t_die "IRISX_BIN=$IRISX_BIN is not an executable"
	[ -n "${IRISX_SOURCE_DIR:-}" ] || t_die "IRISX_SOURCE_DIR is not set"
	[ -f "$IRISX_SOURCE_DIR/conf/vars.xml" ] ||
		t_die "$IRISX_SOURCE_DIR/conf/vars.xml is missing: no default config to copy"
	for tool in sipp python3 timeout; do
		command -v "$tool" >/dev/null || t_die "$tool is not installed"
	done
	T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/irisx-$T_NAME.XXXXXX") || t_die "mktemp failed"
	trap t_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	t_log "work dir $T_DIR"
}

# Whether PID is a live process (a zombie counts as gone: kill -0 would not
# tell them apart, and a child we have not waited for stays a zombie).
t_alive()
{
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# Whether PID is still a child of this shell: a pid we waited for may have
# been reused by a process that is none of ours.
t_is_child()
{
	local st f
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	read -r -a f <<<"$st"
	[ "${f[1]:-}" = "$$" ]
}

# Drop PID from the processes the cleanup stops, once it has been reaped.
t_forget()
{
	local pid keep=()
	for pid in "${T_PIDS[@]}"; do
		[ "$pid" = "$1" ] || keep+=("$pid")
	done
	T_PIDS=("${keep[@]}")
}

# Wait up to SECONDS for PID (a child of this shell) to exit; its exit status
# goes to T_RC. Returns 1 if it is still running.
t_wait_exit()
{
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		t_alive "$pid" || break
		sleep 0.05
	done
	t_alive "$pid" && return 1
	T_RC=0
	wait "$pid" 2>/dev/null || T_RC=$?
	t_forget "$pid"
	return 0
}

t_cleanup()
{
	local rc=$? pid
	for pid in "${T_PIDS[@]}"; do
		t_is_child "$pid" && t_alive "$pid" || continue
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
		t_wait_exit "$pid" 3 || { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	done
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ]; then
		if [ "${IRISX_TEST_KEEP:-0}" = 1 ]; then
			t_log "kept $T_DIR"
		else
			rm -rf "$T_DIR"
		fi
	fi
	exit "$rc"
}

t_end()
{
	if [ "$T_FAILS" -ne 0 ]; then
		t_log "$T_FAILS check(s) failed"
		exit 1
	fi
	t_log "all checks passed"
	exit 0
}

# Print a file to stderr with a heading, last LINES lines (default 200).
t_dump()
{
	local title=$1 file=$2 lines=${3:-200}
	printf -- '----- %s (%s) -----\n' "$title" "$file" >&2
	if [ -s "$file" ]; then
		# sed: end with a newline even if the file does not.
		# shellcheck disable=SC1003
		tail -n "$lines" "$file" | sed '$a\' >&2
	else
		printf '(empty or missing)\n' >&2
	fi
	printf -- '----- end of %s -----\n' "$title" >&2
}

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

# ports_pick IP N [PAIRS]: print N distinct ports free for both UDP and TCP on
# IP, then PAIRS ports P (for SIPp's media) with P and P+2 free for UDP. All
# are held open until every one is found, so the answers are distinct. Ports
# come from 20000-32000: below Linux's ephemeral range (so an outgoing
# connection does not take one meanwhile) and above the usual services.
ports_pick()
{
	python3 - "$@" <<'PY'
import random, socket, sys
ip, n = sys.argv[1], int(sys.argv[2])
pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 0
fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
held, out = [], []

def grab(port, kinds):
    socks = []
    try:
        for kind in kinds:
            s = socket.socket(fam, kind)
            socks.append(s)
            s.bind((ip, port))
    except OSError:
        for s in socks:
            s.close()
        return False
    held.extend(socks)
    return True

rng = random.SystemRandom()
for want, kinds, step in ((n, (socket.SOCK_DGRAM, socket.SOCK_STREAM), 0),
                          (pairs, (socket.SOCK_DGRAM,), 2)):
    found = 0
    for _ in range(2000):
        if found == want:
            break
        p = rng.randrange(20000, 32000 - step)
        if p in out or (step and (p + step) in out):
            continue
        if not grab(p, kinds):
            continue
        if step and not grab(p + step, kinds):
            continue
        out.append(p)
        if step:
            out.append(p + step)
        found += 1
    if found != want:
        sys.exit("no free ports on %s" % ip)
# The +2 partners are only reserved, not reported.
print(" ".join(str(p) for i, p in enumerate(out) if i < n or (i - n) % 2 == 0))
PY
}

# ---------------------------------------------------------------------------
# irisx
# ---------------------------------------------------------------------------

# irisx_conf_prepare DIR IP INT_PORT EXT_PORT RTP_START RTP_END: copy the
# default conf/ to DIR and point vars.xml at the given address and ports.
irisx_conf_prepare()
{
	local dir=$1 vars kv key
	cp -r "$IRISX_SOURCE_DIR/conf" "$dir" || t_die "cannot copy $IRISX_SOURCE_DIR/conf"
	vars=$dir/vars.xml
	for kv in "bind_ip=$2" "internal_sip_port=$3" "external_sip_port=$4" \
		"rtp_start_port=$5" "rtp_end_port=$6"; do
		key=${kv%%=*}
		grep -q "<X-PRE-PROCESS cmd=\"set\" data=\"$key=[^\"]*\"/>" "$vars" ||
			t_die "conf/vars.xml has no '<X-PRE-PROCESS cmd=\"set\" data=\"$key=...\"/>' line"
		sed -i "s|<X-PRE-PROCESS cmd=\"set\" data=\"$key=[^\"]*\"/>|<X-PRE-PROCESS cmd=\"set\" data=\"$kv\"/>|" \
			"$vars"
		grep -qF "data=\"$kv\"" "$vars" || t_die "could not set $kv in $vars"
	done
}

# irisx_start [IP]: start irisx on IP (default 127.0.0.1) with a fresh copy of
# the default conf on free ports, and wait for "irisx ready". If the caller
# defines a function irisx_conf_edit, it is called with the conf copy's
# directory before irisx starts, to change more than the ports. Sets IRISX_PID,
# IRISX_IP, IRISX_INT_PORT, IRISX_EXT_PORT, IRISX_CONF, IRISX_LOG. Dies (with
# the log) if irisx does not come up within 10 s.
irisx_start()
{
	local ip=${1:-127.0.0.1} attempt ports rtp i state
	# shellcheck disable=SC2034 # for the caller
	IRISX_IP=$ip
	for attempt in 1 2 3; do
		ports=$(ports_pick "$ip" 2) || t_die "cannot find free ports on $ip"
		read -r IRISX_INT_PORT IRISX_EXT_PORT <<<"$ports"
		# RTP is not bind-tested (a range is too many ports); a random
		# block of 200 keeps parallel tests apart.
		rtp=$((10000 + 200 * (RANDOM % 50)))
		IRISX_CONF=$T_DIR/conf.$attempt
		IRISX_LOG=$T_DIR/irisx.$attempt.log
		state=$T_DIR/state.$attempt
		mkdir -p "$state"
		irisx_conf_prepare "$IRISX_CONF" "$ip" "$IRISX_INT_PORT" "$IRISX_EXT_PORT" \
			"$rtp" "$((rtp + 199))"
		if declare -F irisx_conf_edit >/dev/null; then
			irisx_conf_edit "$IRISX_CONF" || t_die "irisx_conf_edit failed on $IRISX_CONF"
		fi
		"$IRISX_BIN" -c "$IRISX_CONF" -s "$state" >"$IRISX_LOG" 2>&1 &
		IRISX_PID=$!
		T_PIDS+=("$IRISX_PID")
		for ((i = 0; i < 200; i++)); do
			if grep -q 'irisx ready' "$IRISX_LOG"; then
				t_log "irisx pid $IRISX_PID ready on $ip internal $IRISX_INT_PORT" \
					"external $IRISX_EXT_PORT (rtp $rtp-$((rtp + 199)))"
				return 0
			fi
			t_alive "$IRISX_PID" || break
			sleep 0.05
		done
		if t_alive "$IRISX_PID"; then
			t_dump "irisx log" "$IRISX_LOG"
			t_die "irisx did not log 'irisx ready' within 10 s"
		fi
		wait "$IRISX_PID"
		T_RC=$?
		t_forget "$IRISX_PID"
		if grep -qiE 'address already in use|EADDRINUSE' "$IRISX_LOG" && [ "$attempt" -lt 3 ]; then
			t_log "a port was taken meanwhile; retrying on new ports"
			continue
		fi
		t_dump "irisx log" "$IRISX_LOG"
		t_die "irisx exited with status $T_RC before it was ready"
	done
	t_die "irisx could not bind free ports in 3 attempts"
}

# irisx_check_log: fail if the sanitizers reported anything in the log.
irisx_check_log()
{
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$IRISX_LOG"; then
		t_dump "irisx log" "$IRISX_LOG"
		t_fail "sanitizer report in the irisx log"
	fi
}

# irisx_alive WHAT: fail unless irisx is still running.
irisx_alive()
{
	if t_alive "$IRISX_PID"; then
		return 0
	fi
	t_dump "irisx log" "$IRISX_LOG"
	t_fail "irisx died ($1)"
	return 1
}

# irisx_stop [SECONDS]: SIGTERM irisx and expect it to exit 0 within SECONDS
# (default 5). Fails the test otherwise.
irisx_stop()
{
	local secs=${1:-5} rc=0
	if ! t_alive "$IRISX_PID"; then
		wait "$IRISX_PID" 2>/dev/null || rc=$?
		t_forget "$IRISX_PID"
		t_dump "irisx log" "$IRISX_LOG"
		t_fail "irisx was no longer running at the end of the test (status $rc)"
		return 1
	fi
	kill -TERM "$IRISX_PID"
	if ! t_wait_exit "$IRISX_PID" "$secs"; then
		t_dump "irisx log" "$IRISX_LOG"
		t_fail "irisx still running $secs s after SIGTERM"
		return 1
	fi
	irisx_check_log
	if [ "$T_RC" -ne 0 ]; then
		t_dump "irisx log" "$IRISX_LOG"
		t_fail "irisx exited with status $T_RC after SIGTERM (expected 0)"
		return 1
	fi
	t_ok "irisx exited 0 on SIGTERM"
	return 0
}

# ---------------------------------------------------------------------------
# SIPp
# ---------------------------------------------------------------------------

sipp_status_text()
{
	case $1 in
	0) echo "all calls succeeded" ;;
	1) echo "at least one call failed (unexpected message, failed check or timeout)" ;;
	97) echo "exit on internal command" ;;
	99) echo "no call was processed" ;;
	124 | 137) echo "killed by the test's hard time limit" ;;
	254) echo "fatal error binding a socket" ;;
	255) echo "fatal error (bad scenario or option)" ;;
	*) echo "unknown status" ;;
	esac
}

# _sipp_args NAME SCENARIO TARGET: the command line shared by sipp_run and
# sipp_start, in the array SIPP_CMD. The local address is SIPP_IP if set,
# otherwise loopback of TARGET's family; extra arguments go in SIPP_EXTRA.
_sipp_args()
{
	local name=$1 scen=$2 target=$3 ip ports lport cport mport
	ip=${SIPP_IP:-}
	if [ -z "$ip" ]; then
		case $target in
		\[*) ip=::1 ;;
		*) ip=127.0.0.1 ;;
		esac
	fi
	ports=$(ports_pick "$ip" 2 1) || t_die "cannot find free ports for SIPp on $ip"
	read -r lport cport mport <<<"$ports"
	SIPP_CMD=(timeout -k 5 40 sipp "$target" -sf "$T_SCEN_DIR/$scen"
		-m 1 -timeout 15s -timeout_error -nostdin -skip_rlimit
		-i "$ip" -p "$lport" -cp "$cport" -mp "$mport"
		-trace_msg -message_file "$T_DIR/$name.msg"
		-trace_err -error_file "$T_DIR/$name.err"
		-trace_screen -screen_file "$T_DIR/$name.screen"
		"${SIPP_EXTRA[@]}")
}

_sipp_report()
{
	local name=$1 rc=$2
	if [ "$rc" -eq 0 ]; then
		t_ok "sipp $name: $(sipp_status_text 0)"
		return 0
	fi
	t_fail "sipp $name exited $rc: $(sipp_status_text "$rc")"
	t_dump "sipp $name unexpected messages / errors" "$T_DIR/$name.err" 60
	t_dump "sipp $name output" "$T_DIR/$name.out" 40
	t_dump "sipp $name message trace" "$T_DIR/$name.msg" 150
	[ -n "${IRISX_LOG:-}" ] && t_dump "irisx log" "$IRISX_LOG" 60
	return 1
}

# sipp_run NAME SCENARIO TARGET [SIPP ARGS...]: run SIPp once in the
# foreground (one call, 15 s limit), with its message trace in $T_DIR/NAME.msg.
# Records a failure and prints SIPp's errors and trace if it does not exit 0.
# Returns SIPp's status.
sipp_run()
{
	local name=$1 scen=$2 target=$3 rc attempt
	shift 3
	SIPP_EXTRA=("$@")
	for attempt in 1 2 3; do
		rm -f "$T_DIR/$name".*
		_sipp_args "$name" "$scen" "$target"
		"${SIPP_CMD[@]}" >"$T_DIR/$name.out" 2>&1 </dev/null
		rc=$?
		# 254: SIPp could not bind; a parallel test took a port.
		[ "$rc" -eq 254 ] || break
	done
	_sipp_report "$name" "$rc"
	return "$rc"
}

# sipp_start NAME SCENARIO TARGET [SIPP ARGS...]: the same in the background;
# SIPP_PID is its pid. Finish with sipp_wait NAME.
sipp_start()
{
	local name=$1 scen=$2 target=$3
	shift 3
	SIPP_EXTRA=("$@")
	rm -f "$T_DIR/$name".*
	_sipp_args "$name" "$scen" "$target"
	"${SIPP_CMD[@]}" >"$T_DIR/$name.out" 2>&1 </dev/null &
	SIPP_PID=$!
	T_PIDS+=("$SIPP_PID")
}

# sipp_wait NAME: wait for the SIPp started by sipp_start; report as sipp_run.
sipp_wait()
{
	local name=$1 rc=0
	wait "$SIPP_PID" || rc=$?
	t_forget "$SIPP_PID"
	_sipp_report "$name" "$rc"
	return "$rc"
}

# sipp_wait_sent NAME COUNT: wait (up to 5 s) until SIPp's trace shows COUNT
# messages sent. Used while irisx is frozen, to know the datagrams are queued
# in its socket.
sipp_wait_sent()
{
	local name=$1 count=$2 i n
	for ((i = 0; i < 100; i++)); do
		n=$(grep -cE '^(UDP|TCP|TLS) message sent' "$T_DIR/$name.msg" 2>/dev/null)
		[ "${n:-0}" -ge "$count" ] && return 0
		sleep 0.05
	done
	t_fail "sipp $name did not send $count messages within 5 s"
	return 1
}

# ---------------------------------------------------------------------------
# SIPp message traces
# ---------------------------------------------------------------------------

# _trace_py CMD FILE ARGS...: read SIPp's -trace_msg file.
#   keys FILE          one line per message, in order: ">" sent / "<" received,
#                      then METHOD or status code, "/" and the CSeq method
#                      (">INVITE/INVITE", "<404/INVITE"); "?" for non-SIP text
#   totag FILE N       the To tag of message N (1-based), empty if none
#   header FILE N NAME every value of header NAME (long or compact form) in
#                      message N, one a line; status 1 if it has none
_trace_py()
{
	python3 - "$@" <<'PY'
import re, sys

COMPACT = {"i": "call-id", "m": "contact", "e": "content-encoding",
           "l": "content-length", "c": "content-type", "f": "from", "s": "subject",
           "k": "supported", "t": "to", "v": "via", "o": "event", "u": "allow-events",
           "r": "refer-to", "b": "referred-by", "x": "session-expires", "a": "accept-contact"}

def messages(path):
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return []
    out = []
    for block in re.split(r"^-{20,} [^\n]*\n", text, flags=re.M):
        m = re.match(r"(UDP|TCP|TLS|SCTP) message (sent|received)[^\n]*\n\n", block)
        if m:
            out.append((">" if m.group(2) == "sent" else "<", block[m.end():]))
    return out

def headers(msg):
    head = re.split(r"\r?\n\r?\n", msg, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head)
    hdrs = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and hdrs:  # folded continuation
            hdrs[-1] = (hdrs[-1][0], hdrs[-1][1] + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep:
            name = name.strip().lower()
            hdrs.append((COMPACT.get(name, name), value.strip()))
    return lines[0].strip(), hdrs

def values(msg, name):
    return [v for n, v in headers(msg)[1] if n == name.lower()]

def key(d, msg):
    first, _ = headers(msg)
    cseq = values(msg, "cseq")
    method = cseq[0].split()[-1] if cseq and cseq[0].split() else "?"
    m = re.match(r"SIP/2\.0 (\d{3})", first)
    if m:
        return "%s%s/%s" % (d, m.group(1), method)
    m = re.match(r"([A-Za-z!%*_+`'~.-]+) \S+ SIP/2\.0$", first)
    if m:
        return "%s%s/%s" % (d, m.group(1), method)
    return d + "?"

cmd, path = sys.argv[1], sys.argv[2]
msgs = messages(path)
if cmd == "keys":
    for d, msg in msgs:
        print(key(d, msg))
    sys.exit(0)
n = int(sys.argv[3])
if n < 1 or n > len(msgs):
    sys.exit(1)
msg = msgs[n - 1][1]
if cmd == "totag":
    to = values(msg, "to")
    m = re.search(r";\s*tag\s*=\s*([^;>\s,]+)", to[0]) if to else None
    print(m.group(1) if m else "")
elif cmd == "header":
    vals = values(msg, sys.argv[4])
    for v in vals:
        print(v)
    sys.exit(0 if vals else 1)
PY
}

trace_keys()
{
	_trace_py keys "$T_DIR/$1.msg" | tr '\n' ' ' | sed 's/ $//'
}

# trace_expect NAME "KEY KEY ...": fail unless SIPp run NAME saw exactly this
# sequence of messages (see _trace_py keys), e.g.
#   trace_expect inv ">INVITE/INVITE <100/INVITE <404/INVITE >ACK/ACK"
trace_expect()
{
	local name=$1 want=$2 got
	got=$(trace_keys "$name")
	if [ "$got" = "$want" ]; then
		t_ok "$name: $got"
		return 0
	fi
	t_fail "$name: messages on the wire differ from what was expected"
	printf '    expected: %s\n    got:      %s\n' "$want" "$got" >&2
	t_dump "sipp $name message trace" "$T_DIR/$name.msg" 150
	return 1
}

# trace_match NAME REGEX: the same, against a bash extended regex over the
# space-separated keys, for where more than one answer is right.
trace_match()
{
	local name=$1 re=$2 got
	got=$(trace_keys "$name")
	if [[ $got =~ $re ]]; then
		t_ok "$name: $got"
		return 0
	fi
	t_fail "$name: messages on the wire differ from what was expected"
	printf '    expected (regex): %s\n    got:              %s\n' "$re" "$got" >&2
	t_dump "sipp $name message trace" "$T_DIR/$name.msg" 150
	return 1
}

# trace_totag NAME N: the To tag of message N of run NAME.
trace_totag()
{
	_trace_py totag "$T_DIR/$1.msg" "$2"
}

# trace_header NAME N HEADER: the values of HEADER in message N of run NAME.
trace_header()
{
	_trace_py header "$T_DIR/$1.msg" "$2" "$3"
}
