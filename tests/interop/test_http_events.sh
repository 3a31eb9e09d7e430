#!/usr/bin/env bash
# The HTTP door's live side against one SIPp call to 7301 in context public
# (ring_ready, answer, a short sleep, hangup):
#  - a WebSocket client (npm `ws`, pinned in http/package-lock.json) on
#    GET /v1/events?events=CHANNEL_CREATE,CHANNEL_ANSWER,CHANNEL_HANGUP_COMPLETE
#    and a Server-Sent Events client (curl -N) on /v1/events/sse with the same
#    filter both receive the three events of the call, in order, with the
#    same Unique-ID and increasing Event-Sequence; ?uuid= of another call
#    receives nothing; resuming the SSE stream with Last-Event-ID replays the
#    events after it; a bad filter answers 400, no token 401, a plain GET of
#    /v1/events 426;
#  - /metrics parses with a strict Prometheus text-format parser
#    (http_tool.py prom) and counts the call (inbound total, NORMAL_CLEARING,
#    INVITE in, 200 out, RTP in and out, the WebSocket client);
#  - a WebSocket client that reads nothing while 30,000 events are fired
#    through the Event Socket: the Event Socket's `api status` keeps
#    answering within a second, the client then receives the events kept,
#    in order, and irisx::events_dropped notices accounting for the rest, and
#    /metrics counts the drops;
#  - status callbacks: http.conf's default URL (form) receives initiated,
#    ringing, answered, completed for the call, in order, completed with its
#    cause and duration; a call to 7302, whose dialplan sets status_callback
#    and status_callback_format=json, reaches that URL as JSON instead.
# Installs ws into http/node_modules with `npm ci` when it is missing.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=http_events_lib.sh
. "$(dirname "$0")/http_events_lib.sh"
t_begin
http_dir=$T_LIB_DIR/http
http_require "$http_dir"

ports=$(ports_pick 127.0.0.1 1 1) || t_die "no free ports"
read -r HOOK_PORT PEER_PORT <<<"$ports"

irisx_conf_edit()
{
	# The Event Socket on a free port too: its default one may be another test's.
	esl_conf "$1" || return 1
	http_conf "$1" || return 1
	_media_conf_param "$1/autoload_configs/http.conf.xml" status-callback \
		"http://127.0.0.1:$HOOK_PORT/default" || return 1
	media_conf_extension "$1" public '<extension name="http_events">
  <condition field="destination_number" expression="^7301$">
    <action application="ring_ready"/>
    <action application="sleep" data="200"/>
    <action application="answer"/>
    <action application="sleep" data="1200"/>
    <action application="hangup"/>
  </condition>
</extension>' || return 1
	media_conf_extension "$1" public '<extension name="http_events_json">
  <condition field="destination_number" expression="^7302$">
    <action application="set" data="status_callback=http://127.0.0.1:'"$HOOK_PORT"'/json"/>
    <action application="set" data="status_callback_format=json"/>
    <action application="answer"/>
    <action application="hangup"/>
  </condition>
</extension>'
}

python3 "$T_LIB_DIR/http_tool.py" receiver --port "$HOOK_PORT" --out "$T_DIR/hooks.jsonl" \
	--ready "$T_DIR/hooks.ready" >"$T_DIR/hooks.log" 2>&1 &
T_PIDS+=("$!")
irisx_start
http_wait_listen || t_die "irisx does not answer HTTP on $HTTP_PORT"

# ---- errors first ----
http_expect 401 GET "/v1/events/sse" --no-token
http_expect 400 GET "/v1/events/sse?events=CHANNEL_CREATE,,X"
http_expect 400 GET "/v1/events/sse?uuid=not%20a%20uuid"
http_expect 400 GET "/v1/events/sse?after=abc"
http_expect 426 GET "/v1/events"

# ---- the clients ----
filter="events=CHANNEL_CREATE,CHANNEL_ANSWER,CHANNEL_HANGUP_COMPLETE"
node "$http_dir/ws_client.js" watch "ws://127.0.0.1:$HTTP_PORT/v1/events?$filter" "$HTTP_TOKEN" \
	"$T_DIR/ws.jsonl" "$T_DIR/ws.ready" >"$T_DIR/ws.log" 2>&1 &
WS_PID=$!
T_PIDS+=("$WS_PID")
node "$http_dir/ws_client.js" watch \
	"ws://127.0.0.1:$HTTP_PORT/v1/events?uuid=00000000-0000-4000-8000-000000000000" \
	"$HTTP_TOKEN" "$T_DIR/ws_other.jsonl" "$T_DIR/ws_other.ready" >"$T_DIR/ws_other.log" 2>&1 &
T_PIDS+=("$!")
curl -sN -H "Authorization: Bearer $HTTP_TOKEN" "http://127.0.0.1:$HTTP_PORT/v1/events/sse?$filter" \
	-D "$T_DIR/sse.head" -o "$T_DIR/sse.txt" &
SSE_PID=$!
T_PIDS+=("$SSE_PID")
for f in ws.ready ws_other.ready sse.head hooks.ready; do
	for ((i = 0; i < 100; i++)); do
		[ -s "$T_DIR/$f" ] && break
		sleep 0.05
	done
	[ -s "$T_DIR/$f" ] || { t_dump ws "$T_DIR/ws.log"; t_die "$f did not show up"; }
done
grep -qi '^content-type: text/event-stream' "$T_DIR/sse.head" ||
	t_fail "SSE: Content-Type is not text/event-stream"

# ---- the call ----
sipp_run call media_call_in_bye.xml "127.0.0.1:$IRISX_EXT_PORT" -s 7301 -timeout 20s \
	-set peer_port "$PEER_PORT" -set offer "0" -set remote_file "$T_DIR/call.remote"
sipp_run json media_call_in_bye.xml "127.0.0.1:$IRISX_EXT_PORT" -s 7302 -timeout 20s \
	-set peer_port "$PEER_PORT" -set offer "0" -set remote_file "$T_DIR/json.remote"

# events_check WHAT FILE FORMAT: the three events of one call, in order.
events_check()
{
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys, time
what, path, fmt = sys.argv[1:4]
want = ["CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP_COMPLETE"]
def load():
    evs = []
    text = open(path).read()
    if fmt == "ws":
        for line in text.splitlines():
            ev = json.loads(line)
            if "Event-Name" in ev:
                evs.append((None, ev))
    else:
        for block in text.split("\n\n"):
            fields = {}
            for line in block.split("\n"):
                if line.startswith(":") or not line:
                    continue
                k, _, v = line.partition(":")
                fields[k] = v[1:] if v.startswith(" ") else v
            if "data" in fields:
                ev = json.loads(fields["data"])
                if fields.get("event") != ev["Event-Name"] or fields.get("id") != ev["Event-Sequence"]:
                    sys.exit("%s: event:/id: lines do not match the data: %r" % (what, fields))
                evs.append((fields["id"], ev))
    return evs
for _ in range(50):
    evs = load()
    if len(evs) >= 6:
        break
    time.sleep(0.1)
names = [e["Event-Name"] for _, e in evs]
first = [e for _, e in evs if e.get("Caller-Destination-Number") == "7301"]
if [e["Event-Name"] for e in first] != want:
    sys.exit("%s: the call's events are %s, not %s" % (what, [e["Event-Name"] for e in first], want))
if len({e["Unique-ID"] for e in first}) != 1:
    sys.exit("%s: not one Unique-ID" % what)
seqs = [int(e["Event-Sequence"]) for _, e in evs]
if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
    sys.exit("%s: Event-Sequence not increasing: %s" % (what, seqs))
if any(n not in want for n in names):
    sys.exit("%s: filtered-out events arrived: %s" % (what, names))
print(first[0]["Unique-ID"], first[0]["Event-Sequence"])
PY
}

if out=$(events_check WebSocket "$T_DIR/ws.jsonl" ws); then
	t_ok "WebSocket: CREATE, ANSWER, HANGUP_COMPLETE ($out)"
else
	t_fail "WebSocket: $out"
	t_dump ws "$T_DIR/ws.jsonl" 20
fi
read -r CALL_UUID FIRST_SEQ <<<"$out"
if out=$(events_check SSE "$T_DIR/sse.txt" sse); then
	t_ok "SSE: CREATE, ANSWER, HANGUP_COMPLETE ($out)"
else
	t_fail "SSE: $out"
	t_dump sse "$T_DIR/sse.txt" 20
fi
if [ -s "$T_DIR/ws_other.jsonl" ]; then
	t_fail "?uuid= of another call received events"
	t_dump ws_other "$T_DIR/ws_other.jsonl" 10
else
	t_ok "?uuid= of another call: nothing"
fi

# Resume: after the call's CHANNEL_CREATE, the same filter replays ANSWER
# and HANGUP_COMPLETE of both calls (and CREATE of the second).
curl -sN --max-time 2 -H "Authorization: Bearer $HTTP_TOKEN" -H "Last-Event-ID: ${FIRST_SEQ:-0}" \
	"http://127.0.0.1:$HTTP_PORT/v1/events/sse?$filter&uuid=${CALL_UUID:-x}" -o "$T_DIR/resume.txt"
got=$(sed -n 's/^event: //p' "$T_DIR/resume.txt" | tr '\n' ' ')
if [ "$got" = "CHANNEL_ANSWER CHANNEL_HANGUP_COMPLETE " ]; then
	t_ok "SSE resume with Last-Event-ID: $got"
else
	t_fail "SSE resume with Last-Event-ID $FIRST_SEQ: got '$got'"
	t_dump resume "$T_DIR/resume.txt" 20
fi

# ---- metrics ----
curl -s -D "$T_DIR/metrics.head" -o "$T_DIR/metrics.txt" "http://127.0.0.1:$HTTP_PORT/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$T_DIR/metrics.head" ||
	t_fail "/metrics: Content-Type is not text/plain; version=0.0.4"
if python3 "$T_LIB_DIR/http_tool.py" prom "$T_DIR/metrics.txt" >"$T_DIR/metrics.samples" 2>"$T_DIR/metrics.err"; then
	t_ok "/metrics parses ($(wc -l <"$T_DIR/metrics.samples") samples)"
else
	t_fail "/metrics: $(cat "$T_DIR/metrics.err")"
fi
# metric_at_least SAMPLE MIN
metric_at_least()
{
	local v
	v=$(awk -v s="$1" '$1 == s { print $2 }' "$T_DIR/metrics.samples")
	if [ -n "$v" ] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v >= m) }'; then
		t_ok "/metrics: $1 = $v"
	else
		t_fail "/metrics: $1 = '${v}', expected at least $2"
	fi
}
metric_at_least 'irisx_calls_total{direction="inbound"}' 2
metric_at_least 'irisx_calls_ended_total{cause="NORMAL_CLEARING",direction="inbound"}' 2
metric_at_least 'irisx_sip_requests_total{direction="in",method="INVITE",profile="external"}' 2
metric_at_least 'irisx_sip_responses_total{direction="out",method="INVITE",profile="external",status="200"}' 2
metric_at_least 'irisx_sip_responses_total{direction="out",method="INVITE",profile="external",status="180"}' 1
metric_at_least 'irisx_rtp_packets_total{direction="out"}' 50
metric_at_least 'irisx_http_event_clients{transport="websocket"}' 2
metric_at_least 'irisx_http_events_sent_total{transport="sse"}' 3
metric_at_least 'irisx_esl_clients{}' 0

# ---- status callbacks ----
hooks_check()
{
	python3 - "$T_DIR/hooks.jsonl" "$1" <<'PY'
import json, sys, time
path, uuid = sys.argv[1:3]
want = ["initiated", "ringing", "answered", "completed"]
for _ in range(50):
    recs = [json.loads(l) for l in open(path)]
    mine = [r for r in recs if r["path"] == "/default" and r["form"]["CallSid"] == uuid]
    other = [r for r in recs if r["path"] == "/json"]
    if len(mine) >= 4 and len(other) >= 3:
        break
    time.sleep(0.1)
st = [r["form"]["CallStatus"] for r in mine]
if st != want:
    sys.exit("default URL: %s, not %s" % (st, want))
if any(r["method"] != "POST" or not r["type"].startswith("application/x-www-form-urlencoded") for r in mine):
    sys.exit("default URL: not form POSTs")
seqs = [int(r["form"]["SequenceNumber"]) for r in mine]
if seqs != [0, 1, 2, 3]:
    sys.exit("SequenceNumber %s" % seqs)
done = mine[3]["form"]
if done["HangupCause"] != "NORMAL_CLEARING" or done["HangupCauseCode"] != "16":
    sys.exit("completed: cause %s/%s" % (done["HangupCause"], done["HangupCauseCode"]))
if int(done["CallDuration"]) < 1 or int(done["BillSec"]) < 1 or done["To"] != "7301":
    sys.exit("completed: duration %s billsec %s to %s" % (done["CallDuration"], done["BillSec"], done["To"]))
jst = [r["form"]["CallStatus"] for r in other]
if jst != ["initiated", "answered", "completed"]:
    sys.exit("json URL: %s" % jst)
if any(not r["type"].startswith("application/json") for r in other):
    sys.exit("json URL: not JSON")
if any(r["path"] == "/default" and r["form"]["To"] == "7302" for r in recs):
    sys.exit("the 7302 call also went to the default URL")
print("%d callbacks" % len(recs))
PY
}
if out=$(hooks_check "${CALL_UUID:-x}" 2>&1); then
	t_ok "status callbacks in order: $out"
else
	t_fail "status callbacks: $out"
	t_dump hooks "$T_DIR/hooks.jsonl" 20
fi

# ---- a WebSocket client that does not read ----
# 30,000 events against its 10,000-event queue: the newest are dropped and
# announced, the Event Socket's api keeps answering, nothing else waits.
if out=$(timeout 120 python3 "$T_LIB_DIR/http_tool.py" slow --http-port "$HTTP_PORT" \
	--token "$HTTP_TOKEN" --esl-port "$ESL_PORT" --password "$ESL_PASSWORD" --events 30000 2>&1); then
	t_ok "slow WebSocket client: $out"
else
	t_fail "slow WebSocket client: $out"
fi
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" >"$T_DIR/metrics2.txt"
d=$(awk '$1 == "irisx_http_events_dropped_total{transport=\"websocket\"}" { print $2 }' "$T_DIR/metrics2.txt")
if [ "${d:-0}" -gt 0 ]; then
	t_ok "/metrics: $d events dropped for the slow client"
else
	t_fail "/metrics: no WebSocket drops counted"
fi

# ---- the server goes: the WebSocket client is closed (1001) ----
irisx_alive "after the calls" && irisx_stop
t_wait_exit "$WS_PID" 5 || t_fail "the WebSocket client was not closed when irisx stopped"
if grep -q '"closed":1001' "$T_DIR/ws.jsonl"; then
	t_ok "WebSocket closed with 1001 at shutdown"
else
	t_fail "WebSocket: no close 1001 at shutdown ($(tail -n 1 "$T_DIR/ws.jsonl"))"
fi
irisx_check_log
t_end
