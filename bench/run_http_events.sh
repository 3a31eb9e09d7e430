#!/usr/bin/env bash
# bench/run_http_events.sh BUILD_DIR — events/s to one WebSocket client of
# GET /v1/events (also run as a section of bench/run.sh).
#
# Starts BUILD_DIR/irisx on loopback with a copy of the default conf whose
# Event Socket and HTTP API listen on free ports with random secrets. One
# `ws` client (tests/interop/http, npm ci'd when missing) subscribes to
# ?events=irisx::bench while an Event Socket connection fires
# BENCH_HTTP_EVENTS CUSTOM events with pipelined `sendevent`, never more than
# 4,000 ahead of the WebSocket client (its queue holds 10,000): the rate they
# reach it, and how many were lost or came out of order (none may be).
# Target ≥ 20,000/s. The figures end in "key: value" lines.
#
# Environment (default): BENCH_HTTP_EVENTS (200000, at most 2,000,000).
set -u

# shellcheck source=bench_start.sh
. "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck source=../tests/interop/http_events_lib.sh
. "$src/tests/interop/http_events_lib.sh"
# shellcheck disable=SC2034 # lib.sh's prefix for messages
T_NAME=bench-http-events
http_dir=$src/tests/interop/http

events=${BENCH_HTTP_EVENTS:-200000}
[[ $events =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_HTTP_EVENTS=$events is not a positive integer" >&2; exit 2; }
((events <= 2000000)) || events=2000000

irisx_conf_edit()
{
	esl_conf "$1" && http_conf "$1"
}

t_begin
http_require "$http_dir"
irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"
http_wait_listen || t_die "irisx does not answer HTTP"
export ESL_PORT ESL_PASSWORD HTTP_PORT HTTP_TOKEN

kv()
{
	sed -n "s/^$2=//p" "$1" | head -n 1
}

t_log "events/s: $events CUSTOM events by sendevent to one WebSocket client"
timeout -k 5 180 node "$http_dir/bench_ws.js" "$events" >"$T_DIR/ws.txt" 2>"$T_DIR/ws.err" || {
	t_dump "bench_ws" "$T_DIR/ws.err" 20
	t_dump "bench_ws" "$T_DIR/ws.txt" 20
	t_fail "the event flood did not complete"
}
rate=$(kv "$T_DIR/ws.txt" received_per_s)
lost=$(kv "$T_DIR/ws.txt" events_lost)
disorder=$(kv "$T_DIR/ws.txt" events_out_of_order)
target=missed
awk -v r="${rate:-0}" -v l="${lost:-1}" -v d="${disorder:-1}" \
	'BEGIN { exit !(r >= 20000 && l == 0 && d == 0) }' && target=met
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$T_DIR/metrics.txt"
dropped=$(awk '$1 == "irisx_http_events_dropped_total{transport=\"websocket\"}" { print $2 }' \
	"$T_DIR/metrics.txt")
{
	printf 'WebSocket events (ws %s, node %s)\n' \
		"$(node -p 'require(process.argv[1]).version' "$http_dir/node_modules/ws/package.json")" \
		"$(node --version)"
	printf 'http_ws_events_per_s: %s\n' "${rate:-?}"
	printf 'http_ws_events: %s sent, %s received, %s lost, %s out of order, %s dropped by irisx\n' \
		"$events" "$(kv "$T_DIR/ws.txt" events_received)" "${lost:-?}" "${disorder:-?}" \
		"${dropped:-?}"
	printf 'http_ws_events_target_20000: %s\n' "$target"
}
irisx_alive "at the end" && irisx_stop
t_end
