# bench/bench_lib.sh — what the load scripts share (sourced after
# tests/interop/lib.sh): irisx's CPU, memory, descriptors and RTP sockets
# from /proc, and SIPp loads in the background with per-second statistics.
# rtp_streams reads rtp_lo and rtp_hi; sipp_load sends to 127.0.0.1:LOAD_TARGET_PORT
# (IRISX_EXT_PORT unless set).

clk_tck=$(getconf CLK_TCK)

# proc_ticks PID: CPU time the process has used, in clock ticks. Fields after
# "pid (comm) ": utime and stime are the 12th and 13th (proc(5) numbers them 14, 15).
proc_ticks()
{
	local f
	f=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	# shellcheck disable=SC2086
	set -- $f
	echo $((${12} + ${13}))
}

# proc_kb PID FIELD: a VmXXX line of /proc/PID/status, in kB.
proc_kb()
{
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null
}

proc_fds()
{
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# rtp_streams: UDP sockets bound to an even port of irisx's RTP range (only
# irisx binds there; each call has one, with RTCP on the odd port above).
rtp_streams()
{
	awk -v lo="$rtp_lo" -v hi="$rtp_hi" '
		function hex(s, i, n) {
			for (i = 1; i <= length(s); i++)
				n = n * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1
			return n
		}
		NR > 1 { split($2, a, ":"); p = hex(a[2]); if (p >= lo && p <= hi && p % 2 == 0) n++ }
		END { print n + 0 }' /proc/net/udp
}

# shellcheck disable=SC2153 # IRISX_PID is irisx_start's
# measure SECONDS: irisx's CPU% of one core over the next SECONDS, then its
# RSS (kB), open file descriptors and RTP streams, in M_CPU, M_RSS, M_FDS,
# M_STREAMS.
measure()
{
	local t0 k0 t1 k1
	t0=$(date +%s%N)
	k0=$(proc_ticks "$IRISX_PID") || k0=0
	sleep "$1"
	t1=$(date +%s%N)
	k1=$(proc_ticks "$IRISX_PID") || k1=$k0
	M_CPU=$(awk -v d=$((k1 - k0)) -v hz="$clk_tck" -v ns=$((t1 - t0)) \
		'BEGIN { printf "%.1f", (ns > 0 ? 100 * d / hz / (ns / 1e9) : 0) }')
	M_RSS=$(proc_kb "$IRISX_PID" VmRSS)
	M_FDS=$(proc_fds "$IRISX_PID")
	M_STREAMS=$(rtp_streams)
}

# stat_col FILE COLUMN: COLUMN of the last row of a SIPp -trace_stat file.
stat_col()
{
	python3 - "$1" "$2" <<'PY'
import sys
try:
    rows = [l.rstrip("\n").split(";") for l in open(sys.argv[1]) if l.strip()]
    print(dict(zip(rows[0], rows[-1])).get(sys.argv[2], "0") or "0")
except (OSError, IndexError):
    print(0)
PY
}

# sipp_load NAME SCENARIO SERVICE RATE COUNT LIMIT_S [ARGS...]: SIPp in the
# background from $T_DIR (rtp_stream reads its file there), statistics each
# second in $T_DIR/NAME-stat.csv; pid in LOAD_PID[NAME].
declare -A LOAD_PID=()
sipp_load()
{
	local name=$1 scen=$2 service=$3 rate=$4 count=$5 limit=$6 lport cport mport
	shift 6
	read -r lport cport mport <<<"$(ports_pick 127.0.0.1 2 1)"
	(cd "$T_DIR" && exec timeout -k 5 $((limit + 10)) sipp "127.0.0.1:${LOAD_TARGET_PORT:-$IRISX_EXT_PORT}" \
		-sf "$T_SCEN_DIR/$scen" -s "$service" -r "$rate" -m "$count" -l "$count" \
		-nostdin -timeout "${limit}s" -i 127.0.0.1 -p "$lport" -cp "$cport" -mp "$mport" \
		-trace_stat -stf "$T_DIR/$name-stat.csv" -fd 1 \
		-trace_err -error_file "$T_DIR/$name.err" "$@" >"$T_DIR/$name.out" 2>&1 </dev/null) &
	LOAD_PID[$name]=$!
	T_PIDS+=("$!")
}

# sipp_load_wait NAME: wait for it; LOAD_OK, LOAD_FAILED from its statistics.
sipp_load_wait()
{
	local name=$1 rc=0
	wait "${LOAD_PID[$name]}" || rc=$?
	t_forget "${LOAD_PID[$name]}"
	LOAD_OK=$(stat_col "$T_DIR/$name-stat.csv" "SuccessfulCall(C)")
	LOAD_FAILED=$(stat_col "$T_DIR/$name-stat.csv" "FailedCall(C)")
	if [ "$rc" -ne 0 ]; then
		t_log "SIPp $name exited $rc: $(sipp_status_text "$rc")"
		t_dump "SIPp $name errors" "$T_DIR/$name.err" 10
	fi
	return "$rc"
}

