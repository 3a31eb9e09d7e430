#!/usr/bin/env bash
# bench/run_http.sh BUILD_DIR — the HTTP API's latency figures.
#
# Starts BUILD_DIR/irisx on loopback with the API on a free port (one token,
# no rate limit), max-sessions and sessions-per-second above the load and a
# wide RTP range, and SIPp as a UAS that answers every call at once
# (tests/interop/sipp/media_bench_answer.xml). Then, bounded in count:
#   1. POST /v1/calls BENCH_HTTP_CALLS times on one keep-alive connection
#      (each call to the UAS, which answers; the answered legs park): the
#      201's latency, p50 / p99 / max. Target p99 < 5 ms.
#   2. With those calls live, GET /v1/calls BENCH_HTTP_LISTS times: p50 /
#      p99. Target p99 < 20 ms with 1,000 live calls.
# The calls are then hung up (hupall). Figures end in "key: value" lines.
#
# Environment (default): BENCH_HTTP_CALLS (1000), BENCH_HTTP_LISTS (200).
set -u

# shellcheck source=bench_start.sh
. "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck disable=SC2034 # lib.sh's prefix for messages
T_NAME=bench-http

calls=${BENCH_HTTP_CALLS:-1000}
lists=${BENCH_HTTP_LISTS:-200}
for v in calls lists; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v=${!v} is not a positive integer" >&2; exit 2; }
done
((calls <= 2000)) || calls=2000
((lists <= 2000)) || lists=2000
TOKEN=b$(python3 -c 'import secrets; print(secrets.token_hex(16))')
rtp_lo=10000
rtp_hi=$((rtp_lo + 2 * calls + 200))

irisx_conf_edit()
{
	local dir=$1 kv key
	HTTP_PORT=$(ports_pick 127.0.0.1 1) || return 1
	cat >"$dir/autoload_configs/http.conf.xml" <<EOF2
<configuration name="http.conf"><settings>
  <param name="listen-ip" value="127.0.0.1"/>
  <param name="listen-port" value="$HTTP_PORT"/>
  <param name="api-token" value="$TOKEN"/>
  <param name="rate-limit" value="0"/>
</settings></configuration>
EOF2
	media_conf_switch_param "$dir" max-sessions "$((calls + 100))" || return 1
	media_conf_switch_param "$dir" sessions-per-second "$((calls * 2))" || return 1
	for kv in "rtp_start_port=$rtp_lo" "rtp_end_port=$rtp_hi"; do
		key=${kv%%=*}
		sed -i "s|<X-PRE-PROCESS cmd=\"set\" data=\"$key=[^\"]*\"/>|<X-PRE-PROCESS cmd=\"set\" data=\"$kv\"/>|" \
			"$dir/vars.xml"
		grep -qF "data=\"$kv\"" "$dir/vars.xml" || return 1
	done
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null
t_begin
irisx_start

ports=$(ports_pick 127.0.0.1 1 1) || t_die "no ports for the UAS"
read -r uas_port uas_mport <<<"$ports"
uas_cport=$(ports_pick 127.0.0.1 1) || t_die "no port for the UAS"
timeout -k 5 300 sipp -sf "$T_SCEN_DIR/media_bench_answer.xml" -m "$calls" -l "$((calls + 10))" \
	-nostdin -skip_rlimit -i 127.0.0.1 -p "$uas_port" -cp "$uas_cport" -mp "$uas_mport" \
	>"$T_DIR/uas.out" 2>&1 </dev/null &
uas_pid=$!
T_PIDS+=("$uas_pid")
sleep 0.5

t_log "POST /v1/calls x $calls (to a SIPp UAS that answers)"
timeout -k 5 200 python3 "$src/bench/http_client.py" "$HTTP_PORT" "$TOKEN" calls "$calls" \
	"sofia/internal/bench@127.0.0.1:$uas_port" >"$T_DIR/calls.txt" 2>"$T_DIR/calls.err" ||
	{ t_dump "client" "$T_DIR/calls.err" 20; t_fail "the POST load did not complete"; }
t_log "GET /v1/calls x $lists"
timeout -k 5 200 python3 "$src/bench/http_client.py" "$HTTP_PORT" "$TOKEN" list "$lists" \
	>"$T_DIR/list.txt" 2>"$T_DIR/list.err" ||
	{ t_dump "client" "$T_DIR/list.err" 20; t_fail "the GET load did not complete"; }
irisx_alive "during the HTTP load"

kv()
{
	sed -n "s/^$2=//p" "$1" | head -n 1
}
post_p99=$(kv "$T_DIR/calls.txt" post_p99_ms)
list_p99=$(kv "$T_DIR/list.txt" list_p99_ms)
post_target=missed
list_target=missed
awk -v v="${post_p99:-999}" 'BEGIN { exit !(v < 5) }' && post_target=met
awk -v v="${list_p99:-999}" 'BEGIN { exit !(v < 20) }' && list_target=met

curl -s -m 10 -H "Authorization: Bearer $TOKEN" -d '{"command":"hupall NORMAL_CLEARING"}' \
	"http://127.0.0.1:$HTTP_PORT/v1/api" >/dev/null
kill "$uas_pid" 2>/dev/null
wait "$uas_pid" 2>/dev/null
t_forget "$uas_pid"
irisx_stop 15

echo "http_post_calls_p50_ms: $(kv "$T_DIR/calls.txt" post_p50_ms)"
echo "http_post_calls_p99_ms: ${post_p99:-?} (target < 5: $post_target)"
echo "http_post_calls_max_ms: $(kv "$T_DIR/calls.txt" post_max_ms)"
echo "http_calls_created: $(kv "$T_DIR/calls.txt" calls_created)"
echo "http_calls_answered: $(kv "$T_DIR/calls.txt" calls_answered)"
echo "http_list_calls_live: $(kv "$T_DIR/list.txt" list_calls)"
echo "http_list_calls_p50_ms: $(kv "$T_DIR/list.txt" list_p50_ms)"
echo "http_list_calls_p99_ms: ${list_p99:-?} (target < 20: $list_target)"
t_end
