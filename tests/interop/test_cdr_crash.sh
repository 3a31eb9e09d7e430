#!/usr/bin/env bash
# kill -9 of irisx under load, then a restart on the same state directory:
# every call whose BYE SIPp saw answered before the kill has its CDR (in
# SQLite, after the spool's replay), and none is there twice.
#
# A CDR is made after the 200 for the BYE leaves (the leg's hangup runs on
# the next loop turn) and counts as written once the spool thread has
# fsync'd it, a few ms later; the calls that ended within 100 ms of the kill
# are therefore not held to it (docs/ARCHITECTURE.md, "CDRs").
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cdr_lib.sh
. "$(dirname "$0")/cdr_lib.sh"
t_begin
irisx_start

SIPP_IP=127.0.0.1
sipp_start load cdr_call.xml "127.0.0.1:$IRISX_INT_PORT" -s 9196 -d 300 -m 400 -r 25 -l 100 \
	-rtp_echo
sleep 4
kill_at=$(date +%s.%N)
kill -KILL "$IRISX_PID"
wait "$IRISX_PID" 2>/dev/null
t_forget "$IRISX_PID"
t_log "irisx killed with SIGKILL"
kill -TERM "$SIPP_PID" 2>/dev/null
wait "$SIPP_PID" 2>/dev/null
t_forget "$SIPP_PID"

mapfile -t ended < <(sipp_calls_done load "$(awk -v k="$kill_at" 'BEGIN { printf "%.3f", k - 0.1 }')")
t_log "${#ended[@]} calls ended (BYE answered) more than 100 ms before the kill"
[ "${#ended[@]}" -ge 40 ] || t_fail "too few calls ended before the kill (${#ended[@]}) for the test to mean much"

# The same conf and state directory; new log.
"$IRISX_BIN" -c "$IRISX_CONF" -s "$T_DIR/state.1" >"$T_DIR/irisx.restart.log" 2>&1 &
IRISX_PID=$!
IRISX_LOG=$T_DIR/irisx.restart.log
T_PIDS+=("$IRISX_PID")
for ((i = 0; i < 200; i++)); do
	grep -qs 'irisx ready' "$IRISX_LOG" && break
	t_alive "$IRISX_PID" || break
	sleep 0.05
done
grep -qs 'irisx ready' "$IRISX_LOG" || { t_dump "irisx log" "$IRISX_LOG"; t_die "irisx did not restart"; }
t_ok "irisx restarted on the same state directory"

# The replay is done when the spool's backlog is stored: wait for the count
# to stop moving.
prev=-1
for ((i = 0; i < 50; i++)); do
	n=$(cdr_sqlite "select count(*) from cdr")
	[ "$n" = "$prev" ] && [ "$i" -gt 5 ] && break
	prev=$n
	sleep 0.2
done
t_log "$n CDRs after the restart"
missing=0
for cid in "${ended[@]}"; do
	c=$(cdr_sqlite "select count(*) from cdr where sip_call_id = '$cid'")
	[ "$c" = 1 ] || { missing=$((missing + 1)); t_log "Call-ID $cid: $c CDRs"; }
done
[ "$missing" -eq 0 ] && t_ok "all ${#ended[@]} calls ended before the kill have one CDR" ||
	t_fail "$missing of ${#ended[@]} calls ended before the kill have no CDR (or several)"
d=$(cdr_sqlite "select count(*) - count(distinct sip_call_id) from cdr")
[ "$d" = 0 ] && t_ok "no call twice" || t_fail "$d duplicate CDRs"

irisx_alive "after the restart" && irisx_stop
t_end
