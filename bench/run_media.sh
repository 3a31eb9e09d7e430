#!/usr/bin/env bash
# bench/run_media.sh BUILD_DIR — irisx's load figures for calls with media
# (also run as a section of bench/run.sh).
#
# Starts BUILD_DIR/irisx on loopback with a copy of the default conf, to which
# it adds two extensions at the top of the `public` context:
#   bench_play   answer, a 30 s tone (tone_stream), hangup;
#   bench_short  answer, silence_stream://2000, hangup;
# raises switch.conf's max-sessions and sessions-per-second above the load,
# and widens the RTP port range (the output says by how much). Then, each
# load bounded in count and time:
#   1. concurrent calls: SIPp calls bench_play in two halves at a fixed rate
#      (100/s), each call streaming µ-law RTP to irisx (SIPp's rtp_stream)
#      until irisx hangs up. irisx's CPU% and RSS are read with no calls, with
#      half the calls up and with all up; while all are up, a few more calls
#      (rtp_peer.py + SIPp) record irisx's packets to measure its pacing: the
#      p99 deviation of the inter-packet gap from 20 ms;
#   2. calls per second: SIPp calls bench_short at 500/s for 20 s (answer,
#      2 s of audio from irisx, irisx's BYE): achieved calls/s and failures.
# The figures end in "key: value" lines (media_calls_concurrent: N, ...).
# About three minutes with the defaults; every SIPp run has a hard limit.
#
# Environment (default): BENCH_MEDIA_CALLS (1000), BENCH_MEDIA_RAMP_RATE (100),
# BENCH_MEDIA_PLAY_SECONDS (30), BENCH_MEDIA_CPS (500),
# BENCH_MEDIA_CPS_SECONDS (20), BENCH_MEDIA_SAMPLES (4).
set -u

# shellcheck source=bench_start.sh
. "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck source=bench_lib.sh
. "$src/bench/bench_lib.sh"
# shellcheck disable=SC2034 # lib.sh's prefix for messages
T_NAME=bench-media

calls=${BENCH_MEDIA_CALLS:-1000}
ramp=${BENCH_MEDIA_RAMP_RATE:-100}
play_s=${BENCH_MEDIA_PLAY_SECONDS:-30}
cps=${BENCH_MEDIA_CPS:-500}
cps_secs=${BENCH_MEDIA_CPS_SECONDS:-20}
samples=${BENCH_MEDIA_SAMPLES:-4}
for v in calls ramp play_s cps cps_secs samples; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v=${!v} is not a positive integer" >&2; exit 2; }
done
# Bounded whatever the environment says.
((calls <= 5000)) || calls=5000
((calls >= 2)) || calls=2
((play_s <= 60)) || play_s=60
((play_s >= 10)) || play_s=10
((cps_secs <= 60)) || cps_secs=60
((samples <= 10)) || samples=10
half=$((calls / 2))
cps_calls=$((cps * cps_secs))

# Admission and ports for the load: calls up at once at most (the ramp's
# calls plus the samples, or the short calls' 2 s of audio with a margin),
# two ports each.
peak=$((calls + samples))
((cps * 4 > peak)) && peak=$((cps * 4))
max_sessions=$((peak + 100))
sps=$((ramp > cps ? ramp * 2 : cps * 2))
rtp_lo=10000
rtp_hi=$((rtp_lo + 2 * peak + 200))
((rtp_hi <= 19998)) || rtp_hi=19998
play_spec="tone_stream://%(${play_s}000,0,440)"
conf_note="max-sessions $max_sessions, sessions-per-second $sps, RTP ports $rtp_lo-$rtp_hi"

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
	media_conf_extension "$dir" public "$(
		cat <<-XML
			  <extension name="bench_play">
			    <condition field="destination_number" expression="^bench_play\$">
			      <action application="answer"/>
			      <action application="playback" data="$play_spec"/>
			      <action application="hangup"/>
			    </condition>
			  </extension>
			  <extension name="bench_short">
			    <condition field="destination_number" expression="^bench_short\$">
			      <action application="answer"/>
			      <action application="playback" data="silence_stream://2000"/>
			      <action application="hangup"/>
			    </condition>
			  </extension>
		XML
	)"
}

# Each SIPp and each call's RTP sockets are file descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
fd_limit=$(ulimit -n)
if [ "$fd_limit" != unlimited ] && ((fd_limit < 2 * peak + 200)); then
	t_log "note: open files limited to $fd_limit; irisx may run out with $peak calls"
fi

t_begin
welcome=$(media_prompt welcome.wav)
irisx_start
bench_ok=1

# --- 1. concurrent calls with RTP both ways ------------------------------------------
python3 "$T_RTP_PEER" g711-wav "$welcome" "$T_DIR/media_bench_caller.wav" ||
	t_die "cannot make the caller's µ-law file"
limit=$((play_s + calls / ramp + 60))

measure 2
cpu0=$M_CPU rss0=$M_RSS fds0=$M_FDS streams0=$M_STREAMS
irisx_alive "before the load" || t_die "irisx is gone; no load to run"
t_log "concurrent: $calls calls to bench_play ($play_spec) at $ramp/s in two halves, RTP both ways"
sipp_load play1 media_bench_play.xml bench_play "$ramp" "$half" "$limit"
sleep "$(awk -v n="$half" -v r="$ramp" 'BEGIN { printf "%.1f", n / r + 1.5 }')"
measure 3
cpu_half=$M_CPU rss_half=$M_RSS fds_half=$M_FDS streams_half=$M_STREAMS
sipp_load play2 media_bench_play.xml bench_play "$ramp" "$((calls - half))" "$limit"
sleep "$(awk -v n="$((calls - half))" -v r="$ramp" 'BEGIN { printf "%.1f", n / r + 1.5 }')"

# Pacing samples, while every call is up: a few more calls whose RTP goes to
# rtp_peer.py, 6 s each.
declare -A SAMPLE_PID=()
for ((i = 1; i <= samples; i++)); do
	rtp_peer_start "pace$i"
	SIPP_IP=127.0.0.1 sipp_start "pace$i" media_call_out_bye.xml "127.0.0.1:$IRISX_EXT_PORT" \
		-s bench_play -d 6000 -timeout 30s -set peer_port "$RTP_PEER_PORT" -set offer "0" \
		-set remote_file "$T_DIR/pace$i.remote"
	SAMPLE_PID[$i]=$SIPP_PID
done
measure 5
cpu_full=$M_CPU rss_full=$M_RSS fds_full=$M_FDS streams_full=$M_STREAMS
cur1=$(stat_col "$T_DIR/play1-stat.csv" "CurrentCall")
cur2=$(stat_col "$T_DIR/play2-stat.csv" "CurrentCall")
up_sipp=$((cur1 + cur2))
# irisx's own count: its RTP sockets, less the pacing samples'.
up_irisx=$((streams_full - streams0 - samples))

pace_p50=() pace_p99=() pace_rate=() pace_fail=0
for ((i = 1; i <= samples; i++)); do
	SIPP_PID=${SAMPLE_PID[$i]}
	sipp_wait "pace$i" || pace_fail=$((pace_fail + 1))
	rtp_peer_stop "pace$i" || continue
	t_ack=$(trace_when "pace$i" ">ACK/ACK") || continue
	t_bye=$(trace_when "pace$i" ">BYE/BYE") || continue
	rtp_peer_analyze "pace$i" --from "$(awk -v a="$t_ack" 'BEGIN { printf "%.6f", a + 0.2 }')" \
		--to "$t_bye"
	pace_p50+=("${R[gap_dev_p50_ms]:-}")
	pace_p99+=("${R[gap_dev_p99_ms]:-}")
	pace_rate+=("${R[rate]:-}")
done
worst()
{
	printf '%s\n' "$@" | awk 'NF { if (!n++ || $1 > m) m = $1 } END { print (n ? m : "-") }'
}
pace_p99_worst=$(worst "${pace_p99[@]}")
pace_p50_worst=$(worst "${pace_p50[@]}")

t_log "waiting for irisx to end the $calls calls (${play_s} s each)"
sipp_load_wait play1
ok1=$LOAD_OK failed1=$LOAD_FAILED
sipp_load_wait play2
ok2=$LOAD_OK failed2=$LOAD_FAILED
conc_ok=$((ok1 + ok2)) conc_failed=$((failed1 + failed2))
irisx_alive "during the concurrent calls" || bench_ok=0
rss_per_call=$(awk -v a="$rss_full" -v b="$rss0" -v n="$up_irisx" \
	'BEGIN { printf "%.1f", (n > 0 ? (a - b) / n : 0) }')

# --- 2. calls per second with a 2 s prompt -----------------------------------------------
cps_stats="cps=0"
if t_alive "$IRISX_PID"; then
	t_log "calls/s: $cps_calls calls to bench_short at $cps/s (2 s of audio each)"
	sipp_load short media_bench_short.xml bench_short "$cps" "$cps_calls" \
		$((cps_secs + 60)) -trace_shortmsg -shortmessage_file "$T_DIR/short-msg.csv"
	measure "$cps_secs"
	cps_cpu=$M_CPU cps_rss=$M_RSS
	sipp_load_wait short
	short_ok=$LOAD_OK short_failed=$LOAD_FAILED
	# Answered calls per second, from SIPp's short trace: 200s to INVITEs
	# received over the time from the first INVITE to the last such 200.
	cps_stats=$(python3 - "$T_DIR/short-msg.csv" <<'PY'
import sys
first = last = None
answered = set()
try:
    for line in open(sys.argv[1], errors="replace"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 7:
            continue
        t, d, cid, cseq, first_line = float(f[2]), f[3], f[4], f[5], f[6]
        if d == "S" and first_line.startswith("INVITE ") and first is None:
            first = t
        elif d == "R" and first_line.startswith("SIP/2.0 200") and "INVITE" in cseq:
            if cid not in answered:
                answered.add(cid)
                last = t
except OSError:
    pass
rate = len(answered) / (last - first) if first is not None and last and last > first else 0
print("cps=%.1f" % rate)
PY
	)
	irisx_alive "during the calls/s load" || bench_ok=0
fi
cps_got=${cps_stats#cps=}
short_ok=${short_ok:-0} short_failed=${short_failed:-0}
short_pct=$(awk -v f="$short_failed" -v n="$cps_calls" 'BEGIN { printf "%.3f", (n ? 100 * f / n : 0) }')
target=missed
awk -v c="$cps_got" -v p="$short_pct" 'BEGIN { exit !(c >= 500 && p < 0.1) }' && target=met

peak_kb=$(proc_kb "$IRISX_PID" VmHWM)
t_alive "$IRISX_PID" && irisx_stop

mb()
{
	awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'
}
{
	printf 'irisx media bench  %s  %s CPU(s); load average %s\n' \
		"$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf 'conf: the default plus bench_play/bench_short in public; %s\n' "$conf_note"
	printf 'load generators (SIPp, rtp_peer.py) share the host: the figures are a floor\n\n'
	printf '%-44s %10s %12s %10s\n' "calls up (SIPp / irisx's streams)" "irisx CPU" "RSS MB" "open fds"
	printf '%-44s %9s%% %12s %10s\n' "0" "$cpu0" "$(mb "$rss0")" "$fds0"
	printf '%-44s %9s%% %12s %10s\n' "$half (ramp at $ramp/s) / $((streams_half - streams0))" \
		"$cpu_half" "$(mb "$rss_half")" "$fds_half"
	printf '%-44s %9s%% %12s %10s\n' "$up_sipp / $up_irisx" "$cpu_full" "$(mb "$rss_full")" \
		"$fds_full"
	printf '\n'
	printf 'media_calls_concurrent: %s\n' "$up_irisx"
	printf 'media_calls_concurrent_sipp: %s\n' "$up_sipp"
	printf 'media_cpu_pct_0: %s\n' "$cpu0"
	printf 'media_cpu_pct_%s: %s\n' "$half" "$cpu_half"
	printf 'media_cpu_pct_%s: %s\n' "$calls" "$cpu_full"
	printf 'media_rss_kb_0: %s\n' "${rss0:-?}"
	printf 'media_rss_kb_%s: %s\n' "$half" "${rss_half:-?}"
	printf 'media_rss_kb_%s: %s\n' "$calls" "${rss_full:-?}"
	printf 'media_rss_per_call_kb: %s\n' "$rss_per_call"
	printf 'media_calls: %s ok, %s failed (of %s)\n' "$conc_ok" "$conc_failed" "$calls"
	printf 'media_pacing_gap_dev_ms: p50 %s p99 %s (worst of %s sampled calls at %s calls)\n' \
		"$pace_p50_worst" "$pace_p99_worst" "$samples" "$calls"
	printf 'media_pacing_rate: %s\n' "$(printf '%s ' "${pace_rate[@]}" | sed 's/ $//')"
	printf 'media_pacing_failed_samples: %s\n' "$pace_fail"
	printf 'media_cps: %s\n' "$cps_got"
	printf 'media_cps_calls: %s ok, %s failed (%s%%) of %s at -r %s\n' "$short_ok" \
		"$short_failed" "$short_pct" "$cps_calls" "$cps"
	printf 'media_cps_cpu_pct: %s\n' "${cps_cpu:-?}"
	printf 'media_cps_rss_kb: %s\n' "${cps_rss:-?}"
	printf 'media_cps_target_500: %s\n' "$target"
	printf 'media_rss_peak_kb: %s\n' "${peak_kb:-?}"
} >"$T_DIR/media-table.txt"
printf '\n' >&2
cat "$T_DIR/media-table.txt"
[ "$bench_ok" = 1 ] || t_fail "some media loads did not complete; figures above are partial"
t_end
