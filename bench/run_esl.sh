#!/usr/bin/env bash
# bench/run_esl.sh BUILD_DIR — irisx's Event Socket load figures, with the
# modesl client (also run as a section of bench/run.sh).
#
# Starts BUILD_DIR/irisx on loopback with a copy of the default conf whose
# Event Socket listens on a free port with a random password, with an
# extension esl_bench in `public` (answer, silence_stream for
# BENCH_ESL_CALL_SECONDS, hangup), max-sessions and sessions-per-second above
# the load and a wide RTP range. Then, each load bounded in count and time:
#   1. events/s to one client: one modesl client subscribed to ALL (json)
#      while another connection fires BENCH_ESL_EVENTS CUSTOM events with
#      pipelined `sendevent`, never more than 4,000 ahead of the subscriber
#      (irisx's per-connection queue holds 10,000): the rate they reach the
#      subscriber, and how many were lost or came out of order (none may
#      be). Target ≥ 50,000/s.
#   2. subscribers and calls: BENCH_ESL_CLIENTS modesl clients subscribed to
#      ALL while SIPp makes BENCH_ESL_CALLS calls to esl_bench at
#      BENCH_ESL_RATE/s (so that about BENCH_ESL_RATE × call seconds are up at
#      once): every call must succeed and every client must see the
#      CHANNEL_CREATE and CHANNEL_HANGUP_COMPLETE of every call.
# The figures end in "key: value" lines (esl_events_per_s: N, ...).
#
# Environment (default): BENCH_ESL_EVENTS (300000), BENCH_ESL_CLIENTS (100),
# BENCH_ESL_CALLS (500), BENCH_ESL_RATE (100), BENCH_ESL_CALL_SECONDS (5).
set -u

# shellcheck source=bench_start.sh
. "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck disable=SC2034 # lib.sh's prefix for messages
T_NAME=bench-esl
esl_dir=$src/tests/interop/esl

events=${BENCH_ESL_EVENTS:-300000}
clients=${BENCH_ESL_CLIENTS:-100}
calls=${BENCH_ESL_CALLS:-500}
rate=${BENCH_ESL_RATE:-100}
call_s=${BENCH_ESL_CALL_SECONDS:-5}
for v in events clients calls rate call_s; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v=${!v} is not a positive integer" >&2; exit 2; }
done
# Bounded whatever the environment says.
((events <= 2000000)) || events=2000000
((clients <= 500)) || clients=500
((calls <= 5000)) || calls=5000
((call_s <= 30)) || call_s=30
peak=$((rate * call_s > calls ? calls : rate * call_s))
max_sessions=$((peak + 100))
sps=$((rate * 2))
rtp_lo=10000
rtp_hi=$((rtp_lo + 2 * peak + 200))
((rtp_hi <= 19998)) || rtp_hi=19998

irisx_conf_edit()
{
	local dir=$1 kv key
	esl_conf "$dir" || return 1
	media_conf_switch_param "$dir" max-sessions "$max_sessions" || return 1
	media_conf_switch_param "$dir" sessions-per-second "$sps" || return 1
	for kv in "rtp_start_port=$rtp_lo" "rtp_end_port=$rtp_hi"; do
		key=${kv%%=*}
		sed -i "s|<X-PRE-PROCESS cmd=\"set\" data=\"$key=[^\"]*\"/>|<X-PRE-PROCESS cmd=\"set\" data=\"$kv\"/>|" \
			"$dir/vars.xml"
		grep -qF "data=\"$kv\"" "$dir/vars.xml" || return 1
	done
	media_conf_extension "$dir" public "<extension name=\"esl_bench\">
  <condition field=\"destination_number\" expression=\"^esl_bench\$\">
    <action application=\"answer\"/>
    <action application=\"playback\" data=\"silence_stream://${call_s}000\"/>
    <action application=\"hangup\"/>
  </condition>
</extension>"
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null

t_begin
esl_require "$esl_dir"
irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"
export ESL_PORT ESL_PASSWORD
bench_ok=1

# kv FILE KEY: the value of KEY=value in FILE.
kv()
{
	sed -n "s/^$2=//p" "$1" | head -n 1
}

# --- 1. events/s to one client ----------------------------------------------------
t_log "events/s: $events CUSTOM events by sendevent to one modesl client (ALL, json)"
timeout -k 5 180 node "$esl_dir/bench_client.js" flood "$events" >"$T_DIR/flood.txt" \
	2>"$T_DIR/flood.err" || {
	t_dump "bench_client flood" "$T_DIR/flood.err" 20
	t_fail "the event flood did not complete"
	bench_ok=0
}
ev_rate=$(kv "$T_DIR/flood.txt" delivered_per_s)
ev_lost=$(kv "$T_DIR/flood.txt" events_lost)
ev_disorder=$(kv "$T_DIR/flood.txt" events_out_of_order)
ev_target=missed
awk -v r="${ev_rate:-0}" -v l="${ev_lost:-1}" -v d="${ev_disorder:-1}" \
	'BEGIN { exit !(r >= 50000 && l == 0 && d == 0) }' && ev_target=met
[ "${ev_lost:-1}" = 0 ] || t_fail "events lost: ${ev_lost:-?} of $events"
irisx_alive "during the event flood" || bench_ok=0

# --- 2. subscribers while calls run -------------------------------------------------
t_log "$clients modesl clients on ALL while $calls calls run ($rate/s, ${call_s} s each)"
stop=$T_DIR/watch.stop
timeout -k 5 $((calls / rate + call_s + 120)) node "$esl_dir/bench_client.js" watch "$clients" \
	"$stop" >"$T_DIR/watch.txt" 2>"$T_DIR/watch.err" &
watch_pid=$!
T_PIDS+=("$watch_pid")
for ((i = 0; i < 600; i++)); do
	[ -e "$stop.ready" ] && break
	t_alive "$watch_pid" || break
	sleep 0.1
done
[ -e "$stop.ready" ] || { t_dump "bench_client watch" "$T_DIR/watch.err" 20; t_die "the clients did not subscribe"; }
read -r lport cport mport <<<"$(ports_pick 127.0.0.1 2 1)"
limit=$((calls / rate + call_s + 30))
(cd "$T_DIR" && exec timeout -k 5 $((limit + 10)) sipp "127.0.0.1:$IRISX_EXT_PORT" \
	-sf "$T_SCEN_DIR/media_bench_short.xml" -s esl_bench -r "$rate" -m "$calls" -l "$calls" \
	-nostdin -timeout "${limit}s" -i 127.0.0.1 -p "$lport" -cp "$cport" -mp "$mport" \
	-trace_stat -stf "$T_DIR/calls-stat.csv" -fd 1 \
	-trace_err -error_file "$T_DIR/calls.err" >"$T_DIR/calls.out" 2>&1 </dev/null)
sipp_rc=$?
touch "$stop"
wait "$watch_pid" || { t_dump "bench_client watch" "$T_DIR/watch.err" 20; t_fail "the watching clients failed"; bench_ok=0; }
t_forget "$watch_pid"
stat_col()
{
	python3 - "$1" "$2" <<'PY'
import csv, sys
try:
    rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
    print(rows[-1][rows[0].index(sys.argv[2])])
except (OSError, ValueError, IndexError):
    print("?")
PY
}
calls_ok=$(stat_col "$T_DIR/calls-stat.csv" "SuccessfulCall(C)")
calls_failed=$(stat_col "$T_DIR/calls-stat.csv" "FailedCall(C)")
[ "$sipp_rc" -eq 0 ] || { t_dump "SIPp errors" "$T_DIR/calls.err" 10; t_fail "SIPp exited $sipp_rc: $(sipp_status_text "$sipp_rc")"; }
read -r create_min create_max <<<"$(kv "$T_DIR/watch.txt" create_min_max)"
read -r done_min done_max <<<"$(kv "$T_DIR/watch.txt" hangup_complete_min_max)"
read -r evs_min evs_max <<<"$(kv "$T_DIR/watch.txt" events_min_max)"
gone=$(kv "$T_DIR/watch.txt" clients_disconnected)
dropped=$(kv "$T_DIR/watch.txt" dropped_notified)
watch_target=missed
[ "$calls_ok" = "$calls" ] && [ "$calls_failed" = 0 ] && [ "${create_min:-0}" = "$calls" ] &&
	[ "${done_min:-0}" = "$calls" ] && [ "${gone:-1}" = 0 ] && watch_target=met
[ "$watch_target" = met ] || t_fail "calls or their events were affected (see esl_watch_* below)"
irisx_alive "during the calls" || bench_ok=0

{
	printf 'Event Socket (modesl %s, node %s)\n' \
		"$(node -p 'require(process.argv[1]).version' "$esl_dir/node_modules/modesl/package.json")" \
		"$(node --version)"
	printf 'esl_events_per_s: %s\n' "${ev_rate:-?}"
	printf 'esl_events: %s sent (%s/s), %s received, %s lost, %s out of order\n' "$events" \
		"$(kv "$T_DIR/flood.txt" send_per_s)" "$(kv "$T_DIR/flood.txt" events_received)" \
		"${ev_lost:-?}" "${ev_disorder:-?}"
	printf 'esl_events_target_50000: %s\n' "$ev_target"
	printf 'esl_watch_clients: %s\n' "$clients"
	printf 'esl_watch_calls: %s ok, %s failed of %s at -r %s (%s s each, ~%s up at once)\n' \
		"$calls_ok" "$calls_failed" "$calls" "$rate" "$call_s" "$peak"
	printf 'esl_watch_create_per_client: min %s max %s\n' "${create_min:-?}" "${create_max:-?}"
	printf 'esl_watch_hangup_complete_per_client: min %s max %s\n' "${done_min:-?}" "${done_max:-?}"
	printf 'esl_watch_events_per_client: min %s max %s\n' "${evs_min:-?}" "${evs_max:-?}"
	printf 'esl_watch_clients_disconnected: %s\n' "${gone:-?}"
	printf 'esl_watch_events_dropped_by_irisx: %s (queue overflow notices, all clients)\n' "${dropped:-?}"
	printf 'esl_watch_no_call_affected: %s\n' "$watch_target"
}
irisx_alive "at the end" && irisx_stop
[ "$bench_ok" = 1 ] || t_fail "some loads did not complete; figures above are partial"
t_end
