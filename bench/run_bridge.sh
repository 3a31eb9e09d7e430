#!/usr/bin/env bash
# bench/run_bridge.sh BUILD_DIR — irisx as a B2BUA: calls in from one SIPp
# (the carrier's origination side) bridged out through a gateway to another
# SIPp (its termination side), RTP both ways (also run as a section of
# bench/run.sh).
#
# The conf: the default plus a gateway `bench` (register=false) whose proxy
# is the callee SIPp, and an extension `bench<N>` in `public` that bridges to
# sofia/gateway/bench/<N>. The callee answers at once and echoes RTP
# (-rtp_echo); the caller streams µ-law speech (rtp_stream) for the call's
# length, then hangs up. Two loads, each bounded in count and time:
#   1. setup latency: BENCH_BRIDGE_LAT_CPS calls/s for BENCH_BRIDGE_LAT_SECONDS,
#      1 s each. The delay irisx adds is the time from the caller's INVITE
#      leaving SIPp to the callee SIPp receiving irisx's INVITE for the same
#      number (both SIPps' -trace_shortmsg, one clock): p50/p99/max;
#   2. concurrency: BENCH_BRIDGE_CALLS calls ramped at BENCH_BRIDGE_RAMP/s and
#      held BENCH_BRIDGE_HOLD s: irisx's CPU% and RSS with all of them up.
# The figures end in "key: value" lines (bridge_calls_concurrent: N, ...).
set -u

# shellcheck source=bench_start.sh
. "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck source=bench_lib.sh
. "$src/bench/bench_lib.sh"
# shellcheck disable=SC2034 # lib.sh's prefix for messages
T_NAME=bench-bridge

calls=${BENCH_BRIDGE_CALLS:-500}
ramp=${BENCH_BRIDGE_RAMP:-100}
hold=${BENCH_BRIDGE_HOLD:-20}
lat_cps=${BENCH_BRIDGE_LAT_CPS:-100}
lat_secs=${BENCH_BRIDGE_LAT_SECONDS:-10}
for v in calls ramp hold lat_cps lat_secs; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v=${!v} is not a positive integer" >&2; exit 2; }
done
((calls <= 2000)) || calls=2000
((hold <= 60)) || hold=60
((hold >= 10)) || hold=10
((lat_secs <= 30)) || lat_secs=30
((lat_cps <= 500)) || lat_cps=500
lat_calls=$((lat_cps * lat_secs))

peak=$((calls > lat_cps * 2 ? calls : lat_cps * 2))
max_sessions=$((2 * peak + 100))
sps=$((2 * (ramp > lat_cps ? ramp : lat_cps) + 50))
rtp_lo=10000
rtp_hi=$((rtp_lo + 4 * peak + 400))
((rtp_hi <= 19998)) || rtp_hi=19998
read -r callee_port callee_mport <<<"$(ports_pick 127.0.0.1 1 1)"

irisx_conf_edit()
{
	local dir=$1 kv key
	media_conf_switch_param "$dir" max-sessions "$max_sessions" || return 1
	media_conf_switch_param "$dir" sessions-per-second "$sps" || return 1
	for kv in "rtp_start_port=$rtp_lo" "rtp_end_port=$rtp_hi"; do
		key=${kv%%=*}
		sed -i "s|<X-PRE-PROCESS cmd=\"set\" data=\"$key=[^\"]*\"/>|<X-PRE-PROCESS cmd=\"set\" data=\"$kv\"/>|" \
			"$dir/vars.xml"
		grep -qF "data=\"$kv\"" "$dir/vars.xml" || return 1
	done
	cat >"$dir/sip_profiles/external/bench.xml" <<-XML
		<gateway name="bench">
		  <param name="proxy" value="127.0.0.1:$callee_port"/>
		  <param name="register" value="false"/>
		</gateway>
	XML
	media_conf_extension "$dir" public '<extension name="bench_bridge">
  <condition field="destination_number" expression="^bench(\d+)$">
    <action application="bridge" data="sofia/gateway/bench/$1"/>
  </condition>
</extension>'
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null

t_begin
welcome=$(media_prompt welcome.wav)
irisx_start
bench_ok=1
python3 "$T_RTP_PEER" g711-wav "$welcome" "$T_DIR/media_bench_caller.wav" ||
	t_die "cannot make the caller's µ-law file"

# The callee: answers every call, echoes RTP; runs until the end.
(cd "$T_DIR" && exec timeout -k 5 $((lat_secs + calls / ramp + hold + 180)) sipp \
	-sf "$T_SCEN_DIR/media_bench_answer.xml" -i 127.0.0.1 -p "$callee_port" \
	-mp "$callee_mport" -rtp_echo -nostdin -skip_rlimit \
	-trace_shortmsg -shortmessage_file "$T_DIR/callee-msg.csv" \
	-trace_err -error_file "$T_DIR/callee.err" >"$T_DIR/callee.out" 2>&1 </dev/null) &
callee_pid=$!
T_PIDS+=("$callee_pid")
sleep 0.5

# --- 1. setup latency ------------------------------------------------------------
t_log "latency: $lat_calls calls at $lat_cps/s, 1 s each"
sipp_load lat media_bench_bridge.xml bench "$lat_cps" "$lat_calls" $((lat_secs + 60)) -d 1000 \
	-trace_shortmsg -shortmessage_file "$T_DIR/lat-msg.csv"
sipp_load_wait lat
lat_ok=$LOAD_OK lat_failed=$LOAD_FAILED
sleep 1
lat_stats=$(python3 - "$T_DIR/lat-msg.csv" "$T_DIR/callee-msg.csv" <<'PY'
import re, sys

def invites(path, direction, pattern):
    out = {}
    try:
        for line in open(path, errors="replace"):
            f = line.rstrip("\n").split("\t")
            if len(f) < 7 or f[3] != direction:
                continue
            m = re.match(pattern, f[6])
            if m and m.group(1) not in out:
                out[m.group(1)] = float(f[2])
    except OSError:
        pass
    return out

sent = invites(sys.argv[1], "S", r"INVITE sip:bench(\d+)@")
got = invites(sys.argv[2], "R", r"INVITE sip:(\d+)@")
d = sorted((got[k] - sent[k]) * 1000 for k in sent if k in got)
def pct(p):
    return d[min(len(d) - 1, int(p * len(d)))] if d else float("nan")
print("n=%d p50=%.3f p99=%.3f max=%.3f" % (len(d), pct(0.5), pct(0.99), d[-1] if d else float("nan")))
PY
)
t_log "INVITE in -> INVITE out: $lat_stats (ms)"
irisx_alive "after the latency load" || bench_ok=0

# --- 2. concurrent bridged calls ----------------------------------------------------
measure 2
cpu0=$M_CPU rss0=$M_RSS
t_log "concurrency: $calls calls at $ramp/s, held $hold s, RTP both ways"
sipp_load conc media_bench_bridge.xml bench "$ramp" "$calls" $((calls / ramp + hold + 60)) \
	-d $((hold * 1000))
sleep "$(awk -v n="$calls" -v r="$ramp" 'BEGIN { printf "%.1f", n / r + 2 }')"
measure 5
cpu_full=$M_CPU rss_full=$M_RSS fds_full=$M_FDS streams_full=$M_STREAMS
up_sipp=$(stat_col "$T_DIR/conc-stat.csv" "CurrentCall")
sipp_load_wait conc
conc_ok=$LOAD_OK conc_failed=$LOAD_FAILED
irisx_alive "after the concurrent calls" || bench_ok=0
legs=$streams_full
rss_per_call=$(awk -v a="$rss_full" -v b="$rss0" -v n="$legs" \
	'BEGIN { printf "%.1f", (n > 0 ? 2 * (a - b) / n : 0) }')
target=missed
awk -v c="$cpu_full" 'BEGIN { exit !(c < 25) }' && target=met
lat_target=missed
awk -v s="$lat_stats" 'BEGIN { split(s, a, /[ =]/); for (i = 1; i in a; i += 2) v[a[i]] = a[i + 1];
	exit !(v["p99"] + 0 < 1 && v["n"] + 0 > 0) }' && lat_target=met

kill "$callee_pid" 2>/dev/null
t_wait_exit "$callee_pid" 5
peak_kb=$(proc_kb "$IRISX_PID" VmHWM)
t_alive "$IRISX_PID" && irisx_stop

{
	printf 'irisx bridge bench  %s  %s CPU(s); load average %s\n' \
		"$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf 'SIPp caller -> irisx (bridge via gateway) -> SIPp callee (rtp_echo), one host\n\n'
	printf 'bridge_setup_delay_ms: %s at %s calls/s (target p99 < 1 ms: %s)\n' "$lat_stats" \
		"$lat_cps" "$lat_target"
	printf 'bridge_setup_calls: %s ok, %s failed (of %s)\n' "$lat_ok" "$lat_failed" "$lat_calls"
	printf 'bridge_calls_concurrent: %s legs up in irisx (SIPp: %s calls)\n' "$legs" "$up_sipp"
	printf 'bridge_cpu_pct_0: %s\n' "$cpu0"
	printf 'bridge_cpu_pct_%s: %s (target < 25%%: %s)\n' "$calls" "$cpu_full" "$target"
	printf 'bridge_rss_kb_0: %s\n' "${rss0:-?}"
	printf 'bridge_rss_kb_%s: %s\n' "$calls" "${rss_full:-?}"
	printf 'bridge_rss_per_call_kb: %s\n' "$rss_per_call"
	printf 'bridge_fds_%s: %s\n' "$calls" "$fds_full"
	printf 'bridge_calls: %s ok, %s failed (of %s)\n' "$conc_ok" "$conc_failed" "$calls"
	printf 'bridge_rss_peak_kb: %s\n' "${peak_kb:-?}"
} >"$T_DIR/bridge-table.txt"
printf '\n' >&2
cat "$T_DIR/bridge-table.txt"
[ "$bench_ok" = 1 ] || t_fail "some bridge loads did not complete; figures above are partial"
t_end
