#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — irisx's load figures (`make bench`).
#
# Starts BUILD_DIR/irisx on free loopback ports with a copy of the default
# conf (tests/interop/lib.sh starts it and cleans up, as for the interop
# tests), then runs one load after another, each bounded in count and time:
#   1. OPTIONS over UDP with bench_options, a window of requests in flight:
#      requests/s, answered/s, latency percentiles;
#   2. INVITE -> 100 -> 404 -> ACK at a fixed rate with SIPp: calls/s, failed
#      calls, retransmissions, latency to the 100 and to the 404 (from SIPp's
#      short message trace, which has microsecond timestamps);
#   3. bench_sip_parse, if it was built; bench_dtmf_detect (in-band DTMF
#      detection's CPU for 500 calls), if it was built;
#   4. calls with media: bench/run_media.sh, with its own irisx (concurrent
#      calls with RTP, pacing, calls/s with a 2 s prompt); BENCH_MEDIA=0
#      leaves it out;
#   5. the Event Socket: bench/run_esl.sh, with its own irisx (events/s to
#      one modesl client, 100 clients on ALL while 500 calls run);
#      BENCH_ESL=0 leaves it out;
#   5b. the HTTP API: bench/run_http.sh, with its own irisx and a SIPp UAS
#      (POST /v1/calls -> 201 latency for 1,000 calls, GET /v1/calls with
#      those 1,000 live); BENCH_HTTP=0 leaves it out;
#   5c. live events over HTTP: bench/run_http_events.sh, with its own irisx
#      (events/s to one WebSocket client of GET /v1/events);
#      BENCH_HTTP=0 leaves 5b and 5c out;
#   6. bridged calls: bench_bridge, if it was built (500 calls with RTP both
#      ways, relayed then transcoded PCMU<->PCMA, 5 s each; the engine alone,
#      no SIP),
#      then bench/run_bridge.sh, with its own irisx and two SIPps
#      (INVITE-in to INVITE-out delay at 100 calls/s, 500 bridged calls with
#      RTP both ways); BENCH_BRIDGE=0 leaves both out;
#   7. CDRs: bench/run_cdr.sh (bench_cdr through the spool into SQLite and
#      into a PostgreSQL it starts, CDRs/s); BENCH_CDR=0 leaves it out.
#   8. call flows over HTTP: bench/run_twiml.sh, with its own irisx and the
#      node TwiML application (answer -> first audio and INVITE -> first audio
#      p50/p99 for 200 calls at 20/s running `webhook`); BENCH_TWIML=0 leaves
#      it out.
# During each load it reads irisx's CPU time (utime + stime in /proc/PID/stat)
# and memory (VmRSS, VmHWM in /proc/PID/status). It prints a table ending in
# "key: value" lines and writes the same to bench/out/latest.txt. About a
# minute in all with the defaults, plus about three for the media section.
#
# Environment (default): BENCH_OPTIONS_SECONDS (10), BENCH_OPTIONS_WINDOW (64),
# BENCH_OPTIONS_SOCKETS (2), BENCH_INVITE_RATE (500), BENCH_INVITE_CALLS (10000).
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: bench/run.sh BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
# IRISX_SOURCE_DIR may point at another tree's conf/; the default is this one.
export IRISX_BIN=$build/irisx IRISX_SOURCE_DIR=${IRISX_SOURCE_DIR:-$src}
# shellcheck source=../tests/interop/lib.sh
. "$src/tests/interop/lib.sh"
# shellcheck source=bench_lib.sh
. "$src/bench/bench_lib.sh"
T_NAME=bench

opt_secs=${BENCH_OPTIONS_SECONDS:-10}
opt_window=${BENCH_OPTIONS_WINDOW:-64}
opt_socks=${BENCH_OPTIONS_SOCKETS:-2}
inv_rate=${BENCH_INVITE_RATE:-500}
inv_calls=${BENCH_INVITE_CALLS:-10000}
for v in opt_secs opt_window opt_socks inv_rate inv_calls; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v=${!v} is not a positive integer" >&2; exit 2; }
done
# Keep every load bounded: 60 s of OPTIONS, 120 s of INVITEs at most.
[ "$opt_secs" -le 60 ] || opt_secs=60
[ $((inv_calls / inv_rate)) -le 120 ] || inv_calls=$((inv_rate * 120))

bench_options=$build/bench/bench_options
[ -x "$bench_options" ] || { echo "bench: $bench_options is missing: build first" >&2; exit 2; }

# The default conf admits 30 new calls a second (switch.conf's
# sessions-per-second, as FreeSWITCH's); beyond that irisx answers 503. The
# INVITE load is meant to measure irisx, not that limit, so its copy allows
# twice the load's rate.
sps=$((inv_rate * 2))
sps_note="sessions-per-second raised to $sps"
irisx_conf_edit()
{
	local switch_conf=$1/autoload_configs/switch.conf.xml
	if ! grep -q '<param name="sessions-per-second" value="[^"]*"/>' "$switch_conf" 2>/dev/null; then
		sps_note="no sessions-per-second param found in switch.conf.xml to raise"
		t_log "note: $sps_note; INVITEs may meet the limit"
		return 0
	fi
	sed -i "s|<param name=\"sessions-per-second\" value=\"[^\"]*\"/>|<param name=\"sessions-per-second\" value=\"$sps\"/>|" \
		"$switch_conf"
}

t_begin
irisx_start

measure_begin()
{
	M_T0=$(date +%s%N)
	M_TICKS0=$(proc_ticks "$IRISX_PID")
}

# Sets M_CPU (percent of one core since measure_begin), M_RSS and M_HWM (kB).
measure_end()
{
	local t1 ticks1
	t1=$(date +%s%N)
	ticks1=$(proc_ticks "$IRISX_PID") || ticks1=$M_TICKS0
	M_CPU=$(awk -v d=$((ticks1 - M_TICKS0)) -v hz="$clk_tck" -v ns=$((t1 - M_T0)) \
		'BEGIN { printf "%.1f", (ns > 0 ? 100 * d / hz / (ns / 1e9) : 0) }')
	M_RSS=$(proc_kb "$IRISX_PID" VmRSS)
	M_HWM=$(proc_kb "$IRISX_PID" VmHWM)
}

mb()
{
	awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'
}

idle_rss=$(proc_kb "$IRISX_PID" VmRSS)
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
bench_ok=1

# --- 1. OPTIONS throughput ---------------------------------------------------
opts=(-a "$IRISX_IP" -p "$IRISX_INT_PORT" -w "$opt_window" -s "$opt_socks")
t_log "OPTIONS: warm-up 2 s, then ${opt_secs} s, $opt_socks socket(s) x window $opt_window"
"$bench_options" "${opts[@]}" -d 2 >"$T_DIR/options-warmup.txt" 2>&1
measure_begin
"$bench_options" "${opts[@]}" -d "$opt_secs" >"$T_DIR/options.txt" 2>&1
rc=$?
measure_end
opt_cpu=$M_CPU opt_rss=$M_RSS opt_hwm=$M_HWM
cat "$T_DIR/options.txt" >&2
declare -A O=([sent]=0 [answered]=0 [lost]=0 [rps]=0 [aps]=0 [p50_us]=0 [p95_us]=0
	[p99_us]=0 [max_us]=0)
line=$(grep -m1 '^RESULT ' "$T_DIR/options.txt")
for kv in ${line#RESULT }; do
	O[${kv%%=*}]=${kv#*=}
done
if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
	t_fail "bench_options exited $rc"
	bench_ok=0
fi
irisx_alive "during the OPTIONS load" || bench_ok=0

# --- 2. SIPp INVITE load -------------------------------------------------------
declare -A I=([ok]=0 [failed]=0 [retrans]=0 [cps]=0 [p50_100]=- [p95_100]=- [p99_100]=-
	[p50_final]=- [p95_final]=- [p99_final]=-)
if t_alive "$IRISX_PID"; then
	read -r lport cport mport <<<"$(ports_pick 127.0.0.1 2 1)"
	limit=$((inv_calls / inv_rate + 45))
	t_log "INVITE: $inv_calls calls at $inv_rate/s (SIPp, UDP)"
	measure_begin
	timeout -k 5 $((limit + 15)) sipp "127.0.0.1:$IRISX_INT_PORT" \
		-sf "$T_SCEN_DIR/invite_404.xml" -r "$inv_rate" -m "$inv_calls" -d 0 \
		-nostdin -skip_rlimit -timeout "${limit}s" \
		-i 127.0.0.1 -p "$lport" -cp "$cport" -mp "$mport" \
		-trace_stat -stf "$T_DIR/invite-stat.csv" -fd 5 \
		-trace_shortmsg -shortmessage_file "$T_DIR/invite-short.csv" \
		-trace_err -error_file "$T_DIR/invite.err" >"$T_DIR/invite.out" 2>&1
	rc=$?
	measure_end
	inv_cpu=$M_CPU inv_rss=$M_RSS inv_hwm=$M_HWM
	while IFS='=' read -r k v; do
		I[$k]=$v
	done < <(python3 - "$T_DIR/invite-stat.csv" "$T_DIR/invite-short.csv" <<'PY'
import sys

def pct(xs, q):
    if not xs:
        return "-"
    xs = sorted(xs)
    return "%.3f" % xs[min(len(xs) - 1, int(q * len(xs)))]

stat, short = sys.argv[1], sys.argv[2]
try:
    rows = [l.rstrip("\n").split(";") for l in open(stat) if l.strip()]
    col = dict(zip(rows[0], rows[-1]))
    print("ok=%s" % col.get("SuccessfulCall(C)", 0))
    print("failed=%s" % col.get("FailedCall(C)", 0))
    print("retrans=%s" % col.get("Retransmissions(C)", 0))
except (OSError, IndexError):
    pass
# Short trace: date, time, epoch seconds, S/R, Call-ID, CSeq, first line.
invite, t100, tfinal = {}, {}, {}
first = last = None
try:
    for line in open(short, errors="replace"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 7:
            continue
        t, d, cid, first_line = float(f[2]), f[3], f[4], f[6]
        if d == "S" and first_line.startswith("INVITE ") and cid not in invite:
            invite[cid] = t
            first = t if first is None else first
        elif d == "R" and cid in invite and first_line.startswith("SIP/2.0 "):
            code = first_line[8:11]
            if code == "100" and cid not in t100:
                t100[cid] = (t - invite[cid]) * 1e3
            elif code >= "200" and cid not in tfinal:
                tfinal[cid] = (t - invite[cid]) * 1e3
                last = t
except OSError:
    pass
if first is not None and last is not None and last > first:
    print("cps=%.1f" % (len(tfinal) / (last - first)))
for name, d in (("100", t100), ("final", tfinal)):
    for q in (50, 95, 99):
        print("p%d_%s=%s" % (q, name, pct(list(d.values()), q / 100)))
PY
	)
	if [ "$rc" -ne 0 ]; then
		t_fail "SIPp INVITE load exited $rc: $(sipp_status_text "$rc")"
		t_dump "SIPp errors" "$T_DIR/invite.err" 20
		bench_ok=0
	fi
	irisx_alive "during the INVITE load" || bench_ok=0
fi

# --- 3. parser micro-benchmark -----------------------------------------------------
parse_out=
if [ -x "$build/bench/bench_sip_parse" ]; then
	t_log "bench_sip_parse"
	timeout 120 "$build/bench/bench_sip_parse" >"$T_DIR/parse.txt" 2>&1 ||
		t_fail "bench_sip_parse exited $?"
	parse_out=$(grep -v '^[[:space:]]*$' "$T_DIR/parse.txt" | tail -n 5)
fi

# --- in-band DTMF detection ---------------------------------------------------------
dtmf_out=
if [ -x "$build/bench/bench_dtmf_detect" ]; then
	t_log "bench_dtmf_detect"
	timeout 120 "$build/bench/bench_dtmf_detect" 500 20 >"$T_DIR/dtmf.txt" 2>&1 ||
		t_fail "bench_dtmf_detect exited $?"
	dtmf_out=$(grep -v '^[[:space:]]*$' "$T_DIR/dtmf.txt")
fi

# --- the table -------------------------------------------------------------------
ms()
{
	awk -v u="${1:-0}" 'BEGIN { printf "%.3f", u / 1000 }'
}
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
row()
{
	printf '%-34s %-26s %-26s %9s %17s\n' "$@"
}
{
	printf 'irisx bench  %s  commit %s (%s build)  %s CPU(s): %s\n' \
		"$(date -u '+%Y-%m-%d %H:%M UTC')" "$commit" "${build_type:-?}" "$(nproc)" \
		"${cpu_model:-unknown}"
	printf 'load average before the run: %s (other work on the host skews the figures)\n' \
		"$loadavg"
	printf 'conf: the default, on loopback; %s\n' "$sps_note"
	printf '\n'
	row "load" "throughput" "latency ms p50/p95/p99" "irisx CPU" "RSS / peak MB"
	row "idle after start" "-" "-" "-" "$(mb "$idle_rss")"
	row "OPTIONS UDP (${opt_socks}x window ${opt_window})" \
		"${O[aps]}/s of ${O[rps]}/s sent" \
		"$(ms "${O[p50_us]}")/$(ms "${O[p95_us]}")/$(ms "${O[p99_us]}")" "${opt_cpu}%" \
		"$(mb "$opt_rss") / $(mb "$opt_hwm")"
	if [ -n "${inv_cpu:-}" ]; then
		row "INVITE->404 UDP (SIPp -r $inv_rate)" \
			"${I[cps]} calls/s, ${I[failed]} failed" \
			"${I[p50_final]}/${I[p95_final]}/${I[p99_final]}" "${inv_cpu}%" \
			"$(mb "$inv_rss") / $(mb "$inv_hwm")"
		row "  INVITE->100 Trying" "-" \
			"${I[p50_100]}/${I[p95_100]}/${I[p99_100]}" "" ""
	fi
	if [ -n "$parse_out" ]; then
		printf '\nbench_sip_parse:\n%s\n' "$parse_out"
	fi
	if [ -n "$dtmf_out" ]; then
		printf '\nbench_dtmf_detect (500 calls):\n%s\n' "$dtmf_out"
	fi
	printf '\n'
	printf 'options/s: %s\n' "${O[aps]}"
	printf 'options_sent/s: %s\n' "${O[rps]}"
	printf 'options_lost: %s of %s\n' "${O[lost]}" "${O[sent]}"
	printf 'options_latency_ms: p50 %s p95 %s p99 %s max %s\n' "$(ms "${O[p50_us]}")" \
		"$(ms "${O[p95_us]}")" "$(ms "${O[p99_us]}")" "$(ms "${O[max_us]}")"
	printf 'options_cpu_pct: %s\n' "$opt_cpu"
	# What one core would answer if irisx had it to itself: the load tool,
	# not irisx, often sets the pace on a small host.
	printf 'options_per_cpu_second: %s\n' "$(awk -v a="${O[aps]}" -v c="$opt_cpu" \
		'BEGIN { printf "%.0f", (c > 0 ? a * 100 / c : 0) }')"
	if [ -n "${inv_cpu:-}" ]; then
		printf 'invite_calls/s: %s\n' "${I[cps]}"
		printf 'invite_calls: %s ok, %s failed, %s retransmissions\n' "${I[ok]}" \
			"${I[failed]}" "${I[retrans]}"
		printf 'invite_final_ms: p50 %s p95 %s p99 %s\n' "${I[p50_final]}" \
			"${I[p95_final]}" "${I[p99_final]}"
		printf 'invite_trying_ms: p50 %s p95 %s p99 %s\n' "${I[p50_100]}" \
			"${I[p95_100]}" "${I[p99_100]}"
		printf 'invite_cpu_pct: %s\n' "$inv_cpu"
	fi
	parse_rate=$(sed -n 's/.* \([0-9][0-9]*\) msgs\/s.*/\1/p' <<<"$parse_out" | head -n 1)
	[ -z "$parse_rate" ] || printf 'sip_parse_msgs/s: %s\n' "$parse_rate"
	printf 'rss_idle_kb: %s\n' "${idle_rss:-?}"
	peak=$(proc_kb "$IRISX_PID" VmHWM)
	printf 'rss_peak_kb: %s\n' "${peak:-${inv_hwm:-$opt_hwm}}"
} >"$T_DIR/table.txt"

t_alive "$IRISX_PID" && irisx_stop

# run_section NAME LABEL: bench/run_NAME.sh, its figures appended to the
# table (lib.sh's own "[name] …" lines left out); a failure is reported and
# the other sections still run.
run_section()
{
	local name=$1 label=$2
	t_log "$label: bench/run_$name.sh"
	if ! bash "$src/bench/run_$name.sh" "$build" >"$T_DIR/run_$name.txt"; then
		t_fail "bench/run_$name.sh failed"
		bench_ok=0
	fi
	{
		printf '\n'
		grep -v '^\[' "$T_DIR/run_$name.txt"
	} >>"$T_DIR/table.txt"
}

# --- 4. calls with media -------------------------------------------------------------
if [ "${BENCH_MEDIA:-1}" != 0 ]; then
	run_section media "calls with media"
fi

# --- 5. the Event Socket ---------------------------------------------------------------
if [ "${BENCH_ESL:-1}" != 0 ]; then
	run_section esl "Event Socket"
fi

# --- 5b. the HTTP API -----------------------------------------------------------------
if [ "${BENCH_HTTP:-1}" != 0 ]; then
	run_section http "HTTP API"

	# --- 5c. live events over HTTP ---------------------------------------------------------
	run_section http_events "WebSocket events"
fi

# --- 6. bridged calls ------------------------------------------------------------------
if [ "${BENCH_BRIDGE:-1}" != 0 ] && [ -x "$build/bench/bench_bridge" ]; then
	t_log "bridged calls: bench_bridge"
	if timeout 120 "$build/bench/bench_bridge" -n 500 -t 5 >"$T_DIR/bridge.txt" 2>&1; then
		{
			printf '\nbridged calls (bench_bridge: media engine only, RTP both ways):\n'
			cat "$T_DIR/bridge.txt"
		} >>"$T_DIR/table.txt"
	else
		t_fail "bench_bridge exited $?"
		bench_ok=0
	fi
fi
if [ "${BENCH_BRIDGE:-1}" != 0 ]; then
	run_section bridge "bridged calls"
fi

# --- 7. CDRs ------------------------------------------------------------------------
if [ "${BENCH_CDR:-1}" != 0 ]; then
	run_section cdr "CDRs"
fi

# --- 8. call flows over HTTP (TwiML) -------------------------------------------------
if [ "${BENCH_TWIML:-1}" != 0 ]; then
	run_section twiml "TwiML webhooks"
fi

mkdir -p "$src/bench/out"
cp "$T_DIR/table.txt" "$src/bench/out/latest.txt"
printf '\n' >&2
cat "$T_DIR/table.txt"
[ "$bench_ok" = 1 ] || t_fail "some loads did not complete; figures above are partial"
t_end
