#!/usr/bin/env bash
# irisx as a service runs it: started with NOTIFY_SOCKET set (a datagram
# socket of this test, as systemd's Type=notify gives) and -L FILE, it
#  - sends READY=1 once "irisx ready" is in the log file, STOPPING=1 on SIGTERM;
#  - writes its log to FILE, nothing to stderr;
#  - after the file is renamed (logrotate) and SIGHUP, logs into a new FILE;
#  - refuses a -L path it cannot open, with a message, before starting.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin

ports=$(ports_pick 127.0.0.1 2) || t_die "no free ports"
read -r int ext <<<"$ports"
rtp=$((10000 + 200 * (RANDOM % 50)))
irisx_conf_prepare "$T_DIR/conf" 127.0.0.1 "$int" "$ext" "$rtp" "$((rtp + 199))"

# The service manager's end: every datagram, one a line, into notify.log.
sock=$T_DIR/notify.sock
python3 - "$sock" "$T_DIR/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "a")
while True:
    out.write(s.recv(4096).decode() + "\n")
    out.flush()
PY
T_PIDS+=("$!")
for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.05; done

log=$T_DIR/irisx.log
NOTIFY_SOCKET=$sock "$IRISX_BIN" -c "$T_DIR/conf" -s "$T_DIR/state" -L "$log" \
	>"$T_DIR/stdout" 2>"$T_DIR/stderr" &
IRISX_PID=$!
# shellcheck disable=SC2034 # read by irisx_stop (lib.sh)
IRISX_LOG=$log
T_PIDS+=("$IRISX_PID")
for ((i = 0; i < 200; i++)); do
	grep -q READY=1 "$T_DIR/notify.log" 2>/dev/null && break
	sleep 0.05
done
if grep -q '^READY=1$' "$T_DIR/notify.log" 2>/dev/null; then
	t_ok "READY=1 on the notify socket"
else
	t_dump "irisx log" "$log"
	t_die "no READY=1 on the notify socket"
fi
grep -q 'irisx ready' "$log" && t_ok "the log file has 'irisx ready'" || t_fail "'irisx ready' is not in $log"
[ -s "$T_DIR/stderr" ] && { t_dump stderr "$T_DIR/stderr"; t_fail "irisx wrote to stderr despite -L"; }

mv "$log" "$log.1"
kill -HUP "$IRISX_PID"
for ((i = 0; i < 100; i++)); do grep -qs 'SIGHUP' "$log" && break; sleep 0.05; done
grep -qs 'SIGHUP: reloading' "$log" && t_ok "after SIGHUP the log goes to a new $log" ||
	t_fail "no new log file after SIGHUP"
grep -q 'SIGHUP' "$log.1" && t_fail "the renamed file still got lines after SIGHUP"

irisx_stop
grep -q '^STOPPING=1$' "$T_DIR/notify.log" && t_ok "STOPPING=1 on SIGTERM" || {
	t_dump notify "$T_DIR/notify.log"
	t_fail "no STOPPING=1 on the notify socket"
}
grep -q 'irisx stopped' "$log" && t_ok "the log file has the stop" || t_fail "no 'irisx stopped' in $log"

rc=0
"$IRISX_BIN" -c "$T_DIR/conf" -s "$T_DIR/state" -L "$T_DIR/no/such/dir/x.log" 2>"$T_DIR/bad.err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'cannot open log file' "$T_DIR/bad.err"; then
	t_ok "an unwritable -L path: exit 1 with a message"
else
	t_fail "an unwritable -L path: exit $rc, $(cat "$T_DIR/bad.err")"
fi
t_end
