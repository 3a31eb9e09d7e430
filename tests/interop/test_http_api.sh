#!/usr/bin/env bash
# The HTTP API against the daemon, with curl:
#  1. Every resource: the OpenAPI document, profiles, gateways, the api
#     command door, the calls list.
#  2. A call placed with POST /v1/calls reaching a SIPp UAS, seen answered in
#     GET /v1/calls/{uuid}, driven (play, dtmf, stop, record start and stop),
#     then hung up with DELETE: SIPp receives the BYE; the recording is a WAV
#     under <state>/recordings; the leg's CDR comes back from GET /v1/cdrs
#     (filtered, paged with next_cursor) and GET /v1/cdrs/{uuid}; /health
#     shows the CDR store ok.
#  3. Every error code: 400 (bad JSON, unknown or bad fields, url), 401 (no
#     or a wrong token), 404 (unknown call, gateway, route), 405 (with Allow),
#     409 (answering an answered call, acting on a call hanging up), 413 (a
#     body over max-body), 429 (a token over its rate, with Retry-After),
#     bad /v1/cdrs parameters and record bodies.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
command -v curl >/dev/null || t_die "curl is not installed (scripts/install-deps.sh)"

TOKEN=t$(python3 -c 'import secrets; print(secrets.token_hex(16))')
TOKEN2=u$(python3 -c 'import secrets; print(secrets.token_hex(16))')

irisx_conf_edit()
{
	local f=$1/autoload_configs/http.conf.xml
	HTTP_PORT=$(ports_pick 127.0.0.1 1) || return 1
	cat >"$f" <<EOF2
<configuration name="http.conf">
  <settings>
    <param name="listen-ip" value="127.0.0.1"/>
    <param name="listen-port" value="$HTTP_PORT"/>
    <param name="api-token" value="$TOKEN"/>
    <param name="api-token" value="$TOKEN2"/>
    <param name="max-body" value="1024"/>
    <param name="rate-limit" value="50"/>
    <param name="rate-burst" value="60"/>
    <param name="cors-origin" value="https://console.test"/>
  </settings>
</configuration>
EOF2
}
irisx_start
BASE=http://127.0.0.1:$HTTP_PORT

# api METHOD PATH [BODY] [TOKEN]: sets STATUS and BODY (and HEADERS).
api()
{
	local method=$1 path=$2 body=${3:-} token=${4-$TOKEN} args=()
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	[ -n "$body" ] && args+=(-H "Content-Type: application/json" --data-binary "$body")
	curl -s -m 10 -X "$method" -D "$T_DIR/headers" -o "$T_DIR/body" -w '%{http_code}' \
		"${args[@]}" "$BASE$path" >"$T_DIR/status" 2>/dev/null
	STATUS=$(cat "$T_DIR/status")
	BODY=$(cat "$T_DIR/body")
	HEADERS=$(tr -d '\r' <"$T_DIR/headers")
}

# expect WHAT STATUS [PYTHON-EXPRESSION over the JSON body `j`]
expect()
{
	local what=$1 want=$2 check=${3:-True}
	if [ "$STATUS" != "$want" ]; then
		t_fail "$what: status $STATUS, expected $want: $BODY"
		return 1
	fi
	if ! python3 -c 'import json, sys
j = json.loads(sys.argv[1]) if sys.argv[1].strip() else None
sys.exit(0 if eval(sys.argv[2]) else 1)' "$BODY" "$check" 2>"$T_DIR/py.err"; then
		t_fail "$what: body fails $check: $BODY $(cat "$T_DIR/py.err")"
		return 1
	fi
	t_ok "$what: $STATUS"
}

# json PYTHON-EXPRESSION: prints it over the last body.
json()
{
	python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$BODY" "$1"
}

# ---- 1. resources ----
api GET /v1/openapi.json "" ""
expect "openapi (no token needed)" 200 'j["openapi"].startswith("3.") and "/v1/calls/{uuid}/hangup" in j["paths"]'
api GET /v1/profiles
expect "profiles" 200 'sorted(p["name"] for p in j["profiles"]) == ["external", "internal"] and all(p["state"].startswith("RUNNING") for p in j["profiles"])'
api GET /v1/gateways
expect "gateways" 200 'j["gateways"] == []'
api GET /v1/calls
expect "no calls" 200 'j["count"] == 0 and j["calls"] == []'
api POST /v1/api '{"command":"version"}'
expect "api version" 200 'j["ok"] and j["reply"].startswith("irisx")'
api POST /v1/api '{"command":"nosuch"}'
expect "api unknown command" 200 'not j["ok"] and "Command not found" in j["reply"]'
# An asynchronous command: its reply comes when the call fails.
api POST /v1/api '{"command":"originate error/USER_BUSY &park"}'
expect "api originate (asynchronous)" 200 'j["reply"].startswith("-ERR USER_BUSY")'

# ---- 2. a call to a SIPp UAS ----
echo "0.0.0.0 0" >"$T_DIR/remote"
SIPP_IP=127.0.0.1
UAS_PORT=$(ports_pick 127.0.0.1 1) || t_die "no port for the UAS"
SIPP_EXTRA=()
uas_ports=$(ports_pick 127.0.0.1 1 1) || t_die "no ports for the UAS"
read -r UAS_CPORT UAS_MPORT <<<"$uas_ports"
timeout -k 5 40 sipp -sf "$T_SCEN_DIR/uas_in_bye.xml" -m 1 -timeout 30s -timeout_error \
	-nostdin -skip_rlimit -i 127.0.0.1 -p "$UAS_PORT" -cp "$UAS_CPORT" -mp "$UAS_MPORT" \
	-set peer_port 9 -set remote_file "$T_DIR/remote" \
	-trace_msg -message_file "$T_DIR/uas.msg" -trace_err -error_file "$T_DIR/uas.err" \
	>"$T_DIR/uas.out" 2>&1 </dev/null &
SIPP_PID=$!
T_PIDS+=("$SIPP_PID")
sleep 0.3

api POST /v1/calls "{\"endpoint\":\"sofia/internal/1000@127.0.0.1:$UAS_PORT\",\"from\":\"2000\",\"caller_id_name\":\"HTTP test\",\"timeout\":10,\"variables\":{\"x_test\":\"yes\"}}"
expect "POST /v1/calls" 201 'len(j["uuid"]) == 36'
UUID=$(json 'j["uuid"]')
grep -qi "^Location: /v1/calls/$UUID" <<<"$HEADERS" && t_ok "Location header" || t_fail "no Location: $HEADERS"

answered=
for ((i = 0; i < 100; i++)); do
	api GET "/v1/calls/$UUID"
	if [ "$STATUS" = 200 ] && [ "$(json 'j["answered"]')" = True ]; then
		answered=1
		break
	fi
	sleep 0.1
done
[ -n "$answered" ] || t_fail "the call was not answered: $STATUS $BODY"
expect "GET /v1/calls/{uuid}" 200 'j["direction"] == "outbound" and j["callee"] == "1000" and j["caller"]["number"] == "2000" and j["caller"]["name"] == "HTTP test" and j["answered_at"] and j["codec"] == "PCMU" and j["bridged_to"] is None and j["variables"]["x_test"] == "yes"'
api GET /v1/calls
expect "the call in the list" 200 "j['count'] == 1 and j['calls'][0]['uuid'] == '$UUID'"

api POST "/v1/calls/$UUID/play" '{"tone":"%(200,100,440)","loop":true}'
expect "play a tone" 200
api POST "/v1/calls/$UUID/stop"
expect "stop" 200
api POST "/v1/calls/$UUID/play" '{"text":"hello","loop":2}'
expect "speak" 200
api POST "/v1/calls/$UUID/dtmf" '{"digits":"12#"}'
expect "dtmf" 200
api POST "/v1/calls/$UUID/answer"
expect "answer an answered call" 409 'j["error"] == "wrong_state"'
api POST "/v1/calls/$UUID/record" '{"path":"http-api.wav","limit":30}'
expect "record start" 200 "j['uuid'] == '$UUID'"
api POST "/v1/calls/$UUID/record" '{"path":"http-api.wav"}'
expect "record the same file twice" 409
api POST "/v1/calls/$UUID/record" '{"path":"../x.wav"}'
expect "record outside the recordings" 400
api POST "/v1/calls/$UUID/record" '{"path":"y.wav","limit":0}'
expect "record with a bad limit" 400
api POST "/v1/calls/$UUID/record" '{"path":"y.wav","action":"pause"}'
expect "record with a bad action" 400
api POST "/v1/calls/$UUID/record" '{}'
expect "record without path" 400
sleep 1
api POST "/v1/calls/$UUID/record" '{"action":"stop","path":"http-api.wav"}'
expect "record stop" 200
api POST "/v1/calls/$UUID/record" '{"action":"stop","path":"http-api.wav"}'
expect "stop a stopped recording" 404
api POST "/v1/calls/$UUID/bridge" '{"uuid":"00000000-0000-4000-8000-000000000000"}'
expect "bridge with an unknown call" 404
api POST "/v1/calls/$UUID/bridge" "{\"uuid\":\"$UUID\"}"
expect "bridge with itself" 409
api POST "/v1/calls/$UUID/transfer" '{"context":"default"}'
expect "transfer without extension" 400
api POST "/v1/calls/$UUID/dtmf" '{"digits":"12x"}'
expect "bad digits" 400 '"digits" in j["detail"]'
api POST "/v1/calls/$UUID/hangup" '{"cause":"NO_SUCH_CAUSE"}'
expect "hangup with a bad cause" 400
api DELETE "/v1/calls/$UUID"
expect "DELETE the call" 200 "j['uuid'] == '$UUID'"
wait "$SIPP_PID"
rc=$?
t_forget "$SIPP_PID"
if [ "$rc" -eq 0 ] && grep -q "BYE sip:" "$T_DIR/uas.msg"; then
	t_ok "the UAS was called and got the BYE"
else
	t_fail "SIPp UAS exited $rc"
	t_dump "uas errors" "$T_DIR/uas.err" 40
	t_dump "uas trace" "$T_DIR/uas.msg" 80
fi
gone=
for ((i = 0; i < 50; i++)); do
	api GET "/v1/calls/$UUID"
	[ "$STATUS" = 404 ] && { gone=1; break; }
	if [ "$STATUS" = 200 ]; then
		api POST "/v1/calls/$UUID/answer"
		[ "$STATUS" = 409 ] || [ "$STATUS" = 404 ] || t_fail "answer while hanging up: $STATUS"
	fi
	sleep 0.1
done
[ -n "$gone" ] && t_ok "the call is gone (404)" || t_fail "the call is still listed"

STATE=${IRISX_CONF/conf./state.}
# The writer thread closes the file (its final header) a moment after the stop.
wav_ok=
for ((i = 0; i < 30; i++)); do
	if python3 -c 'import sys, wave
w = wave.open(sys.argv[1]); assert w.getnframes() > 4000, w.getnframes()' \
		"$STATE/recordings/http-api.wav" 2>"$T_DIR/wav.err"; then
		wav_ok=1
		break
	fi
	sleep 0.1
done
[ -n "$wav_ok" ] && t_ok "/record made a WAV" || t_fail "no WAV from /record: $(cat "$T_DIR/wav.err")"

# The leg's CDR, once the SQLite writer has stored it.
found=
for ((i = 0; i < 50; i++)); do
	api GET "/v1/cdrs/$UUID"
	[ "$STATUS" = 200 ] && { found=1; break; }
	sleep 0.1
done
[ -n "$found" ] || t_fail "GET /v1/cdrs/{uuid}: $STATUS $BODY"
expect "GET /v1/cdrs/{uuid}" 200 "j['uuid'] == '$UUID' and j['direction'] == 'outbound' and j['destination_number'] == '1000' and j['hangup_cause'] == 'NORMAL_CLEARING'"
api GET "/v1/cdrs?direction=outbound&since=$(($(date +%s) - 600))"
expect "GET /v1/cdrs" 200 "'$UUID' in [c['uuid'] for c in j['cdrs']] and j['next_cursor'] is None"
api GET "/v1/cdrs?direction=inbound&cause=NORMAL_CLEARING"
expect "GET /v1/cdrs filtered out" 200 "'$UUID' not in [c['uuid'] for c in j['cdrs']]"
api GET "/v1/cdrs?limit=1"
expect "a first page" 200 "len(j['cdrs']) == 1"
seen=$(json "j['cdrs'][0]['uuid']")
cursor=$(json "j['next_cursor'] or ''")
pages=1
while [ -n "$cursor" ] && [ "$pages" -lt 20 ]; do
	api GET "/v1/cdrs?limit=1&cursor=$cursor"
	[ "$STATUS" = 200 ] || break
	seen="$seen $(json "j['cdrs'][0]['uuid']")"
	cursor=$(json "j['next_cursor'] or ''")
	pages=$((pages + 1))
done
api GET "/v1/cdrs?limit=1000"
all=$(json "' '.join(c['uuid'] for c in j['cdrs'])")
[ "$seen" = "$all" ] && t_ok "pages of one follow next_cursor through every CDR ($pages)" ||
	t_fail "paged '$seen' != all '$all'"
api GET "/v1/cdrs/00000000-0000-4000-8000-000000000000"
expect "unknown CDR" 404
api GET "/v1/cdrs?limit=0"
expect "a bad limit" 400 'j["error"] == "bad_request"'
api GET "/v1/cdrs?since=tomorrow"
expect "a bad since" 400
api GET "/v1/cdrs?cursor=nope"
expect "a bad cursor" 400
api GET "/v1/cdrs?colour=red"
expect "an unknown parameter" 400
api GET /health "" ""
expect "/health" 200 'j["cdr_store"]["status"] == "ok" and j["cdr_store"]["written"] >= 1'

# A call that fails: 201, then it is gone.
api POST /v1/calls '{"to":"1555","gateway":"nosuch","app":"park"}'
expect "POST /v1/calls to an unknown gateway" 201

# ---- 3. errors ----
api GET /v1/calls "" ""
expect "no token" 401 'j["error"] == "unauthorized"'
grep -qi '^WWW-Authenticate: Bearer' <<<"$HEADERS" && t_ok "WWW-Authenticate" || t_fail "no WWW-Authenticate"
api GET /v1/calls "" "wrong-token-0123456789"
expect "a wrong token" 401
api GET /v1/nothing
expect "unknown route" 404 'j["error"] == "not_found"'
api GET /v1/gateways/nosuch
expect "unknown gateway" 404
api GET /v1/calls/nosuch
expect "unknown call" 404
api PUT /v1/calls '{}'
expect "PUT /v1/calls" 405
grep -qi '^Allow: GET, HEAD, POST' <<<"$HEADERS" && t_ok "Allow" || t_fail "Allow: $HEADERS"
api POST /v1/calls '{"to":'
expect "bad JSON" 400 'j["error"] == "bad_json"'
api POST /v1/calls '[1,2]'
expect "not an object" 400
api POST /v1/calls '{"to":"1","gateway":"g","colour":"red"}'
expect "unknown field" 400 '"colour" in j["detail"]'
api POST /v1/calls '{"to":"1","gateway":"g","endpoint":"sofia/internal/1@127.0.0.1"}'
expect "gateway and endpoint" 400
api POST /v1/calls '{"to":"1","gateway":"g","url":"file:///etc/passwd"}'
expect "url not http" 400 '"url" in j["detail"]'
api POST /v1/calls '{"to":"1","gateway":"g","url":"http://127.0.0.1/x","extension":"9"}'
expect "url and extension" 400 '"one of them" in j["detail"]'
api POST /v1/calls '{"to":"1","gateway":"g","timeout":0}'
expect "timeout 0" 400
api POST /v1/calls '{"to":"1","gateway":"g","app":"nosuchapp"}'
expect "unknown application" 400
api POST /v1/calls '{"to":"1}","gateway":"g"}'
expect "a dial string character in to" 400
api POST /v1/calls "{\"to\":\"1\",\"gateway\":\"g\",\"variables\":{\"a\":\"$(head -c 1100 /dev/zero | tr '\0' x)\"}}"
expect "over max-body" 413 'j["error"] == "too_large"'
api OPTIONS /v1/calls "" ""
expect "preflight" 204
grep -qi '^Access-Control-Allow-Methods: GET, HEAD, POST, OPTIONS' <<<"$HEADERS" &&
	t_ok "CORS preflight" || t_fail "preflight headers: $HEADERS"

# 429: token 2 floods; token 1 is not affected. One kept-alive connection
# sends the flood, so it outruns the rate even on a loaded machine (a curl
# process per request may not); the first 429 is kept for the checks.
python3 - "$HTTP_PORT" "$TOKEN2" "$T_DIR/body" "$T_DIR/headers" >"$T_DIR/status" <<'PY'
import http.client, sys
port, token, body_file, headers_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
status = 0
for _ in range(150):
    conn.request("GET", "/v1/calls", headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    body = r.read()
    if r.status == 429:
        status = 429
        open(body_file, "wb").write(body)
        open(headers_file, "w").write("".join("%s: %s\n" % kv for kv in r.getheaders()))
        break
print(status, end="")
PY
STATUS=$(cat "$T_DIR/status")
if [ "$STATUS" = 429 ]; then
	BODY=$(cat "$T_DIR/body")
	HEADERS=$(cat "$T_DIR/headers")
	expect "over the rate" 429 'j["error"] == "rate_limited"'
	grep -qi '^Retry-After: [0-9]' <<<"$HEADERS" && t_ok "Retry-After" || t_fail "no Retry-After"
else
	t_fail "150 quick requests were never limited"
fi
api GET /v1/calls
expect "the other token still served" 200

irisx_alive "after the API tests"
irisx_stop
irisx_check_log
t_end
