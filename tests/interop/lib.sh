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

# irisx_conf_no_routes DIR: empty the dialplan contexts of a conf copy, so that
# every call ends NO_ROUTE_DESTINATION (404): for tests of the SIP layer itself.
irisx_conf_no_routes()
{
	rm -f "$1"/dialplan/public/*.xml "$1"/dialplan/default/*.xml
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
			if grep -qs 'irisx ready' "$IRISX_LOG"; then
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
		if grep -qsiE 'address already in use|EADDRINUSE' "$IRISX_LOG" && [ "$attempt" -lt 3 ]; then
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

# ===========================================================================
# Media: RTP peers, prompts, conf edits and timing for calls with audio
# (test_media_*.sh, bench/run_media.sh). Nothing above depends on this part.
# ===========================================================================

T_RTP_PEER=$T_LIB_DIR/rtp_peer.py
declare -A T_PEER_PID=()
declare -A R=()

# media_sounds_dir: where the build put the prompts irisx plays.
media_sounds_dir()
{
	printf '%s/sounds\n' "$(dirname "$IRISX_BIN")"
}

# media_prompt FILE: the path of prompt FILE (relative to the sounds dir);
# dies if the build did not make it.
media_prompt()
{
	local f
	f=$(media_sounds_dir)/$1
	[ -s "$f" ] || t_die "prompt $f is missing (the build generates the prompts next to irisx)"
	printf '%s\n' "$f"
}

# rtp_peer_start NAME [ARGS...]: start rtp_peer.py run in the background as
# the media of one call: RTP port in RTP_PEER_PORT (also $T_DIR/NAME.port),
# it sends to what the SIPp scenario writes to $T_DIR/NAME.remote (pass
# -set remote_file "$T_DIR/NAME.remote" to SIPp; another --remote-file in
# ARGS overrides), and its recording goes to $T_DIR/NAME.json when it is
# stopped. ARGS are rtp_peer.py run options (--send-wav, --send-for, ...).
rtp_peer_start()
{
	local name=$1 i
	shift
	rm -f "$T_DIR/$name".{port,remote,json}
	python3 "$T_RTP_PEER" run --port-file "$T_DIR/$name.port" --out "$T_DIR/$name.json" \
		--remote-file "$T_DIR/$name.remote" --duration 50 "$@" \
		>"$T_DIR/$name.peer.log" 2>&1 &
	T_PEER_PID[$name]=$!
	T_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		if [ -s "$T_DIR/$name.port" ]; then
			# shellcheck disable=SC2034 # for the caller
			RTP_PEER_PORT=$(cat "$T_DIR/$name.port")
			return 0
		fi
		t_alive "${T_PEER_PID[$name]}" || break
		sleep 0.05
	done
	t_dump "rtp_peer $name" "$T_DIR/$name.peer.log"
	t_die "rtp_peer $name did not bind a port within 5 s"
}

# rtp_peer_stop NAME: stop the peer; its recording is then in $T_DIR/NAME.json.
rtp_peer_stop()
{
	local name=$1 pid=${T_PEER_PID[$1]}
	kill -TERM "$pid" 2>/dev/null
	if ! t_wait_exit "$pid" 10; then
		kill -KILL "$pid" 2>/dev/null
		t_wait_exit "$pid" 2
	fi
	if [ ! -s "$T_DIR/$name.json" ]; then
		t_dump "rtp_peer $name" "$T_DIR/$name.peer.log"
		t_fail "rtp_peer $name wrote no recording"
		return 1
	fi
	return 0
}

# rtp_peer_analyze NAME [ARGS...]: figures of NAME's recording (rtp_peer.py
# analyze ARGS: --from/--to wall-clock window, --ref WAV, ...) into the
# associative array R (R[packets], R[rate], R[gap_dev_p99_ms], R[corr], ...).
rtp_peer_analyze()
{
	local name=$1 k v
	shift
	R=()
	while IFS='=' read -r k v; do
		[ -n "$k" ] && R[$k]=$v
	done < <(python3 "$T_RTP_PEER" analyze "$T_DIR/$name.json" "$@" 2>"$T_DIR/$name.analyze.err")
	if [ -s "$T_DIR/$name.analyze.err" ]; then
		t_dump "rtp_peer analyze $name" "$T_DIR/$name.analyze.err" 20
		t_fail "rtp_peer analyze $name failed"
		return 1
	fi
	return 0
}

# media_corr RECORDED REFERENCE [rtp_peer.py corr options]: how well the
# recording matches the reference (normalized cross-correlation, 0..1).
media_corr()
{
	python3 "$T_RTP_PEER" corr "$@" | sed -n 's/^corr=//p'
}

# media_set KEY VALUE: put a figure of the test's own in R, for the checks.
media_set()
{
	R[$1]=$2
}

# media_expect WHAT KEY OP VALUE: check R[KEY] (numbers; OP one of < <= > >=
# == !=) and say what was seen either way.
media_expect()
{
	local what=$1 key=$2 op=$3 want=$4 have=${R[$2]:-}
	if [ -n "$have" ] && awk -v a="$have" -v b="$want" -v op="$op" 'BEGIN {
		a += 0; b += 0
		exit !((op == "<" && a < b) || (op == "<=" && a <= b) || (op == ">" && a > b) ||
		       (op == ">=" && a >= b) || (op == "==" && a == b) || (op == "!=" && a != b)) }'; then
		t_ok "$what: $key=$have ($op $want)"
		return 0
	fi
	t_fail "$what: $key=${have:-<none>}, expected $op $want"
	return 1
}

# media_expect_is WHAT KEY STRING [WHY]: R[KEY] is exactly STRING.
media_expect_is()
{
	local what=$1 key=$2 want=$3 why=${4:-}
	if [ "${R[$key]:-}" = "$want" ]; then
		t_ok "$what: $key=$want${why:+ ($why)}"
		return 0
	fi
	t_fail "$what: $key=${R[$key]:-<none>}, expected $want${why:+ ($why)}"
	return 1
}

# media_between WHAT KEY LOW HIGH: LOW <= R[KEY] <= HIGH.
media_between()
{
	local what=$1 key=$2 lo=$3 hi=$4 have=${R[$2]:-}
	if [ -n "$have" ] && awk -v a="$have" -v lo="$lo" -v hi="$hi" \
		'BEGIN { exit !(a + 0 >= lo + 0 && a + 0 <= hi + 0) }'; then
		t_ok "$what: $key=$have (in [$lo, $hi])"
		return 0
	fi
	t_fail "$what: $key=${have:-<none>}, expected within [$lo, $hi]"
	return 1
}

# _media_trace_py CMD FILE KEY NTH: from SIPp's -trace_msg file, the NTH
# message whose key (as trace_keys prints it: ">INVITE/INVITE", "<200/BYE")
# is KEY: CMD "when" prints the wall-clock time SIPp logged it (seconds since
# the epoch), "body" its body. Status 1 if there is no such message.
_media_trace_py()
{
	python3 - "$@" <<'PY'
import re, sys, time

cmd, path, want, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
try:
    text = open(path, encoding="utf-8", errors="replace").read()
except OSError:
    sys.exit(1)
parts = re.split(r"^-{20,} (\S+)\s+(\d\d:\d\d:\d\d)\.(\d+)\s*\n", text, flags=re.M)
seen = 0
for i in range(1, len(parts) - 3, 4):
    day, hms, frac, block = parts[i:i + 4]
    m = re.match(r"(UDP|TCP|TLS|SCTP) message (sent|received)[^\n]*\n\n", block)
    if not m:
        continue
    msg = block[m.end():]
    head, body = (re.split(r"\r?\n\r?\n", msg, maxsplit=1) + [""])[:2]
    lines = re.split(r"\r?\n", head)
    first = lines[0].strip()
    cseq = "?"
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "cseq" and value.split():
            cseq = value.split()[-1]
    d = ">" if m.group(2) == "sent" else "<"
    s = re.match(r"SIP/2\.0 (\d{3})", first)
    key = d + (s.group(1) if s else first.split(" ", 1)[0]) + "/" + cseq
    if key != want:
        continue
    seen += 1
    if seen != nth:
        continue
    if cmd == "when":
        t = time.mktime(time.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S"))
        print("%.6f" % (t + float("0." + frac)))
    else:
        # SIPp's trace keeps the body as sent, up to the next separator.
        sys.stdout.write(body.rstrip("\n") + "\n")
    sys.exit(0)
sys.exit(1)
PY
}

# trace_when NAME KEY [NTH]: when SIPp run NAME sent or received the NTH
# (default first) message with KEY, in seconds since the epoch.
trace_when()
{
	_media_trace_py when "$T_DIR/$1.msg" "$2" "${3:-1}"
}

# trace_body NAME KEY [NTH]: that message's body (an SDP).
trace_body()
{
	_media_trace_py body "$T_DIR/$1.msg" "$2" "${3:-1}"
}

# sdp_media_line SDP: the m=audio line of an SDP, without the CR.
sdp_media_line()
{
	printf '%s\n' "$1" | tr -d '\r' | grep -m1 '^m=audio '
}

# media_conf_profile_param DIR PROFILE NAME VALUE: set a <param> in the
# settings of sip_profiles/PROFILE.xml of conf copy DIR (added if absent).
media_conf_profile_param()
{
	_media_conf_param "$1/sip_profiles/$2.xml" "$3" "$4"
}

# media_conf_switch_param DIR NAME VALUE: the same in switch.conf.xml.
media_conf_switch_param()
{
	_media_conf_param "$1/autoload_configs/switch.conf.xml" "$2" "$3"
}

_media_conf_param()
{
	python3 - "$@" <<'PY'
import re, sys
path, name, value = sys.argv[1:4]
text = open(path).read()
param = '<param name="%s" value="%s"/>' % (name, value)
pat = re.compile(r'<param\s+name="%s"\s+value="[^"]*"\s*/>' % re.escape(name))
if pat.search(text):
    text = pat.sub(param, text)
else:
    m = re.search(r"<settings\s*>", text)
    if not m:
        sys.exit("%s: no <settings> to add %s to" % (path, name))
    text = text[:m.end()] + "\n    " + param + text[m.end():]
open(path, "w").write(text)
PY
}

# media_conf_extension DIR CONTEXT XML: put extension XML first in dialplan
# context CONTEXT of conf copy DIR (wherever under dialplan/ it is defined).
media_conf_extension()
{
	python3 - "$1/dialplan" "$2" "$3" <<'PY'
import os, re, sys
root, ctx, ext = sys.argv[1:4]
pat = re.compile(r'<context\s+name="%s"\s*(/?)>' % re.escape(ctx))
for d, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        if not f.endswith(".xml"):
            continue
        path = os.path.join(d, f)
        text = open(path).read()
        m = pat.search(text)
        if not m:
            continue
        if m.group(1):
            repl = '<context name="%s">\n%s\n</context>' % (ctx, ext)
        else:
            repl = m.group(0) + "\n" + ext
        open(path, "w").write(text[:m.start()] + repl + text[m.end():])
        sys.exit(0)
sys.exit("no dialplan context %s under %s" % (ctx, root))
PY
}

# media_rtp_range: the rtp_start_port and rtp_end_port irisx_start gave irisx.
media_rtp_range()
{
	local s e
	s=$(sed -n 's/.*data="rtp_start_port=\([0-9]*\)".*/\1/p' "$IRISX_CONF/vars.xml")
	e=$(sed -n 's/.*data="rtp_end_port=\([0-9]*\)".*/\1/p' "$IRISX_CONF/vars.xml")
	printf '%s %s\n' "$s" "$e"
}

# media_check_answer_port WHAT SDP: the SDP's m=audio port is even and in
# irisx's RTP range (switch.conf rtp-start-port..rtp-end-port).
media_check_answer_port()
{
	local what=$1 port lo hi
	port=$(sdp_media_line "$2" | awk '{ print $2 }')
	read -r lo hi <<<"$(media_rtp_range)"
	if [[ $port =~ ^[0-9]+$ ]] && ((port % 2 == 0 && port >= lo && port <= hi)); then
		t_ok "$what: RTP port $port is even and within $lo-$hi"
		return 0
	fi
	t_fail "$what: RTP port '${port}' is not an even port within $lo-$hi"
	return 1
}

# trace_index NAME KEY [NTH]: the position (1-based, as trace_header takes
# it) of the NTH message with KEY in run NAME's trace.
trace_index()
{
	_trace_py keys "$T_DIR/$1.msg" | awk -v k="$2" -v n="${3:-1}" \
		'$0 == k && ++seen == n { print NR; found = 1; exit } END { exit !found }'
}

# media_check_reason WHAT NAME CAUSE TEXT: the BYE irisx sent in run NAME
# carries Reason: Q.850;cause=CAUSE;text="TEXT" (RFC 3326).
media_check_reason()
{
	local what=$1 name=$2 cause=$3 text=$4 n reason
	n=$(trace_index "$name" "<BYE/BYE") || { t_fail "$what: no BYE from irisx"; return 1; }
	reason=$(trace_header "$name" "$n" Reason) || {
		t_fail "$what: irisx's BYE has no Reason header"
		return 1
	}
	if grep -qiE "^Q\.850[[:space:]]*;(.*;)?[[:space:]]*cause=$cause([[:space:]]*;|$)" <<<"$reason" &&
		grep -qF "text=\"$text\"" <<<"$reason"; then
		t_ok "$what: Reason: $reason"
		return 0
	fi
	t_fail "$what: Reason: $reason (expected Q.850;cause=$cause;text=\"$text\")"
	return 1
}

# ===========================================================================
# Event Socket: conf, readiness and the node client (test_esl_*.sh,
# bench/run_esl.sh). Uses media_conf_* above for the conf edits.
# ===========================================================================

# npm_require DIR PACKAGE: node and npm are there, DIR/node_modules has the
# packages of DIR/package-lock.json (`npm ci` when missing) and node loads
# PACKAGE from it. ctest runs tests in parallel and a fresh clone has no
# node_modules: one install at a time per DIR (flock), and a marker written
# only once `npm ci` succeeded tells a finished install from one under way.
npm_require()
{
	local dir=$1 pkg=$2 tool
	for tool in node npm flock; do
		command -v "$tool" >/dev/null || t_die "$tool is not installed (scripts/install-deps.sh)"
	done
	if [ ! -f "$dir/node_modules/.irisx-installed" ]; then
		(
			flock 9
			[ -f "$dir/node_modules/.irisx-installed" ] && exit 0
			echo "npm ci in $dir"
			cd "$dir" && timeout 300 npm ci --no-audit --no-fund &&
				touch node_modules/.irisx-installed
		) 9>"$dir/.npm-install.lock" >"$T_DIR/npm.out" 2>&1 || {
			t_dump "npm ci" "$T_DIR/npm.out" 40
			t_die "npm ci failed in $dir"
		}
	fi
	node -e 'require(process.argv[1])' "$dir/node_modules/$pkg" 2>"$T_DIR/node.err" || {
		t_dump "node" "$T_DIR/node.err" 20
		t_die "node cannot load $pkg from $dir/node_modules"
	}
}

# esl_require DIR: npm_require DIR modesl (the Event Socket client). Exits 0 with a SKIP message if this irisx has no Event Socket yet
# (no conf/autoload_configs/event_socket.conf.xml to configure it with).
esl_require()
{
	local dir=$1
	if [ ! -f "$IRISX_SOURCE_DIR/conf/autoload_configs/event_socket.conf.xml" ]; then
		t_log "SKIP: $IRISX_SOURCE_DIR/conf has no autoload_configs/event_socket.conf.xml"
		exit 0
	fi
	npm_require "$dir" modesl
}

# esl_conf DIR: in conf copy DIR, the Event Socket listens on 127.0.0.1 on a
# free port (ESL_PORT) with a fresh random password (ESL_PASSWORD).
esl_conf()
{
	local f=$1/autoload_configs/event_socket.conf.xml
	[ -f "$f" ] || { t_log "$f is missing"; return 1; }
	# Commented-out examples (a password param) must not be what gets set.
	python3 -c 'import re, sys
p = sys.argv[1]
t = open(p).read()
open(p, "w").write(re.sub(r"<!--.*?-->", "", t, flags=re.S))' "$f" || return 1
	ESL_PORT=$(ports_pick 127.0.0.1 1) || return 1
	ESL_PASSWORD=t$(python3 -c 'import secrets; print(secrets.token_hex(12))') || return 1
	_media_conf_param "$f" listen-ip 127.0.0.1 &&
		_media_conf_param "$f" listen-port "$ESL_PORT" &&
		_media_conf_param "$f" password "$ESL_PASSWORD"
}

# esl_wait_listen: wait (up to 5 s) until irisx's Event Socket on ESL_PORT
# greets a connection with auth/request.
esl_wait_listen()
{
	python3 - "$ESL_PORT" <<'PY'
import socket, sys, time
end = time.time() + 5
while time.time() < end:
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
        data = b""
        while b"\n\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        if b"Content-Type: auth/request" in data:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit("no auth/request from 127.0.0.1:%s within 5 s" % sys.argv[1])
PY
}

# esl_api COMMAND...: run an api command on irisx's Event Socket (ESL_PORT,
# ESL_PASSWORD from esl_conf) and print its reply.
esl_api()
{
	python3 "$(dirname "${BASH_SOURCE[0]}")/esl_tool.py" api --port "$ESL_PORT" \
		--password "$ESL_PASSWORD" ${ESL_SOURCE:+--source "$ESL_SOURCE"} "$@"
}

# esl_watch_start NAME: record every event into $T_DIR/NAME.events (JSON lines)
# from now on; returns once subscribed. esl_watch_stop NAME ends it.
declare -A T_WATCH_PID
esl_watch_start()
{
	local name=$1 i
	rm -f "$T_DIR/$name.events" "$T_DIR/$name.ready"
	python3 "$(dirname "${BASH_SOURCE[0]}")/esl_tool.py" watch --port "$ESL_PORT" \
		--password "$ESL_PASSWORD" ${ESL_SOURCE:+--source "$ESL_SOURCE"} --out "$T_DIR/$name.events" \
		--ready "$T_DIR/$name.ready" >"$T_DIR/$name.watch.log" 2>&1 &
	T_WATCH_PID[$name]=$!
	T_PIDS+=("$!")
	for ((i = 0; i < 100; i++)); do
		[ -s "$T_DIR/$name.ready" ] && return 0
		sleep 0.05
	done
	t_dump "esl watch $name" "$T_DIR/$name.watch.log"
	t_die "esl watch $name did not subscribe within 5 s"
}

esl_watch_stop()
{
	local pid=${T_WATCH_PID[$1]}
	kill -TERM "$pid" 2>/dev/null
	t_wait_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null
}

# esl_find NAME [esl_tool.py find options]: the recorded events of NAME that match.
esl_find()
{
	local name=$1
	shift
	python3 "$(dirname "${BASH_SOURCE[0]}")/esl_tool.py" find "$T_DIR/$name.events" "$@"
}
