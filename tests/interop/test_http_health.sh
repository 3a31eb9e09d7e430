#!/usr/bin/env bash
# GET /health against a pinged gateway: gw_ping (register=false, ping=1)
# pings a SIPp OPTIONS responder. /health answers 200 {"status":"ok"} with
# both profiles RUNNING, the gateway UP and "cdr_store" (the default SQLite
# store: "ok", nothing queued); once the responder stops, the gateway's OPTIONS time out (the
# external profile runs with timer-T1=50 ms: 3.2 s) and /health answers 503
# {"status":"fail"} naming the gateway; with the responder back it is 200
# again. /health and /metrics need no token; /metrics shows the gateway
# down and then up.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=http_events_lib.sh
. "$(dirname "$0")/http_events_lib.sh"
t_begin
command -v curl >/dev/null || t_die "curl is not installed"

ports=$(ports_pick 127.0.0.1 2) || t_die "no free ports for the trunk"
read -r PING_PORT DEAD_PORT <<<"$ports"

irisx_conf_edit()
{
	local gw=$1/sip_profiles/external
	esl_conf "$1" || return 1
	http_conf "$1" || return 1
	media_conf_profile_param "$1" external timer-T1 50 || return 1
	media_conf_profile_param "$1" external timer-T2 400 || return 1
	printf '<include>\n  <gateway name="gw_ping">\n%s\n%s\n%s\n  </gateway>\n</include>\n' \
		"    <param name=\"proxy\" value=\"127.0.0.1:$PING_PORT\"/>" \
		'    <param name="register" value="false"/>' \
		'    <param name="ping" value="1"/>' >"$gw/gw_ping.xml"
}

responder_start()
{
	sipp_start "ping$1" options_responder.xml "127.0.0.1:$DEAD_PORT" -p "$PING_PORT" \
		-timeout 60s -m 1000
	RESPONDER_PID=$SIPP_PID
}

responder_stop()
{
	kill -TERM "$RESPONDER_PID" 2>/dev/null
	t_wait_exit "$RESPONDER_PID" 5 || { kill -KILL "$RESPONDER_PID" 2>/dev/null; t_wait_exit "$RESPONDER_PID" 2; }
}

# health_wait CODE SECONDS: until GET /health answers CODE.
health_wait()
{
	local want=$1 secs=$2 i code
	for ((i = 0; i < secs * 10; i++)); do
		code=$(http_health_status)
		[ "$code" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# health_json PYTHON-EXPRESSION: evaluates it on the last /health body (h).
health_json()
{
	python3 -c 'import json, sys
h = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T_DIR/health.json" "$1"
}

responder_start 1
irisx_start
http_wait_listen || t_die "irisx does not answer HTTP on $HTTP_PORT"

if health_wait 200 5; then
	t_ok "/health: 200 while the gateway answers"
else
	t_fail "/health: $(http_health_status), not 200 ($(cat "$T_DIR/health.json"))"
fi
for check in 'h["status"] == "ok"' \
	'sorted(p["name"] for p in h["profiles"]) == ["external", "internal"]' \
	'all(p["state"] == "RUNNING" for p in h["profiles"])' \
	'[(g["name"], g["status"], g["pinged"]) for g in h["gateways"]] == [("gw_ping", "UP", True)]' \
	'h["calls"] == 0 and h["uptime"] > 0' \
	'h["cdr_store"]["status"] == "ok" and h["cdr_store"]["detail"] == "sqlite"' \
	'h["cdr_store"]["queue_depth"] == 0' \
	'"problems" not in h'; do
	health_json "$check" && t_ok "/health: $check" ||
		t_fail "/health: not $check: $(cat "$T_DIR/health.json")"
done

metric()
{
	curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$T_DIR/metrics.txt"
	python3 "$T_LIB_DIR/http_tool.py" prom "$T_DIR/metrics.txt" >"$T_DIR/metrics.samples" ||
		t_fail "/metrics does not parse"
	awk -v s="$1" '$1 == s { print $2 }' "$T_DIR/metrics.samples"
}
[ "$(metric 'irisx_gateway_up{gateway="gw_ping",profile="external"}')" = 1 ] &&
	t_ok "/metrics: gw_ping up" || t_fail "/metrics: gw_ping not up"

# ---- the trunk goes silent ----
responder_stop
if health_wait 503 10; then
	t_ok "/health: 503 once the gateway stops answering OPTIONS"
else
	t_fail "/health: still $(http_health_status) 10 s after the responder stopped"
fi
for check in 'h["status"] == "fail"' \
	'[g["status"] for g in h["gateways"]] == ["DOWN"]' \
	'any("gw_ping" in p for p in h["problems"])'; do
	health_json "$check" && t_ok "/health: $check" ||
		t_fail "/health: not $check: $(cat "$T_DIR/health.json")"
done
[ "$(metric 'irisx_gateways_up{}')" = 0 ] && t_ok "/metrics: irisx_gateways_up 0" ||
	t_fail "/metrics: irisx_gateways_up is not 0"

# ---- and comes back ----
responder_start 2
if health_wait 200 10; then
	t_ok "/health: 200 again once the gateway answers"
else
	t_fail "/health: still $(http_health_status) 10 s after the responder came back"
fi
health_json 'h["status"] == "ok"' || t_fail "/health: not ok: $(cat "$T_DIR/health.json")"
responder_stop

irisx_alive "after the health checks" && irisx_stop
irisx_check_log
t_end
