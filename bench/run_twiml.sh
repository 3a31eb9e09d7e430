#!/usr/bin/env bash
# bench/run_twiml.sh BUILD_DIR — call flows over HTTP: how soon a call runs
# the document its application returns (also run as a section of
# bench/run.sh).
#
# Starts BUILD_DIR/irisx on loopback with a copy of the default conf plus an
# extension bench_twiml in `public` running `webhook` against the test
# application (tests/interop/http/twiml_app.js, on a free port), whose /bench
# document is
#   <Response><Play>http://…/audio/tone.wav</Play><Hangup/></Response>
# (the 1 s WAV is downloaded once, then played from irisx's cache). SIPp
# places BENCH_TWIML_CALLS calls at BENCH_TWIML_RATE a second; an Event
# Socket client records every event. Per call (by Unique-ID, from the events'
# Event-Date-Timestamp, µs):
#   answer → first audio   CHANNEL_ANSWER to the first PLAYBACK_START
#   INVITE → first audio   CHANNEL_CREATE to the first PLAYBACK_START
#                          (the document's request, the answer, the audio)
# p50/p99 of each, the first call's (it downloads the WAV) on its own, calls
# failed (SIPp) and calls that never played, and the application's view:
# document requests, WAV downloads, signatures that did not verify. The
# figures end in "key: value" lines.
#
# Environment (default): BENCH_TWIML_CALLS (200, at most 2,000),
# BENCH_TWIML_RATE (20, at most 100).
set -u

# shellcheck source=bench_start.sh
. "$(dirname "$0")/bench_start.sh" "$@"
# shellcheck source=bench_lib.sh
. "$src/bench/bench_lib.sh"
# shellcheck disable=SC2034 # lib.sh's prefix for messages
T_NAME=bench-twiml

calls=${BENCH_TWIML_CALLS:-200}
rate=${BENCH_TWIML_RATE:-20}
for v in calls rate; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench: $v=${!v} is not a positive integer" >&2; exit 2; }
done
((calls <= 2000)) || calls=2000
((rate <= 100)) || rate=100
sps=$((rate * 2))

command -v node >/dev/null || { echo "bench: node is not installed" >&2; exit 2; }
TW_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')

irisx_conf_edit()
{
	local dir=$1
	esl_conf "$dir" || return 1
	media_conf_switch_param "$dir" sessions-per-second "$sps" || return 1
	cat >"$dir/autoload_configs/twiml.conf.xml" <<EOF
<configuration name="twiml.conf">
  <settings>
    <param name="auth-token" value="$TW_TOKEN"/>
    <param name="audio-cache-dir" value="$T_DIR/audio-cache"/>
  </settings>
</configuration>
EOF
	media_conf_extension "$dir" public "<extension name=\"bench_twiml\">
  <condition field=\"destination_number\" expression=\"^bench_twiml\$\">
    <action application=\"webhook\" data=\"http://127.0.0.1:$APP_PORT/bench\"/>
  </condition>
</extension>"
}

t_begin
APP_PORT=$(ports_pick 127.0.0.1 1) || t_die "no free port for the application"
python3 "$T_RTP_PEER" tone --freq 1000 --seconds 1 --rate 8000 "$T_DIR/tone.wav" ||
	t_die "cannot make the WAV"
node "$src/tests/interop/http/twiml_app.js" "$APP_PORT" "$TW_TOKEN" "$T_DIR/app.jsonl" \
	"$T_DIR/tone.wav" >"$T_DIR/app.out" 2>&1 &
T_PIDS+=("$!")
for ((i = 0; i < 100; i++)); do
	grep -qs listening "$T_DIR/app.out" && break
	sleep 0.05
done
grep -qs listening "$T_DIR/app.out" || { t_dump "twiml_app" "$T_DIR/app.out"; t_die "the application did not start"; }

irisx_start
esl_wait_listen || t_die "the Event Socket does not answer"
read -r rtp_lo rtp_hi <<<"$(media_rtp_range)"
esl_watch_start ev
bench_ok=1

t_log "$calls calls to bench_twiml at $rate/s (webhook → Play a cached WAV → Hangup)"
limit=$((calls / rate + 60))
sipp_load twiml media_bench_short.xml bench_twiml "$rate" "$calls" "$limit"
measure $((calls / rate))
cpu=$M_CPU rss=$M_RSS
sipp_load_wait twiml || bench_ok=0
ok=$LOAD_OK failed=$LOAD_FAILED
sleep 1
esl_watch_stop ev
irisx_alive "during the load" || bench_ok=0

declare -A F=()
while IFS='=' read -r k v; do
	[ -n "$k" ] && F[$k]=$v
done < <(python3 - "$T_DIR/ev.events" "$T_DIR/app.jsonl" <<'PY'
import json, sys

created, answered, played = {}, {}, {}
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    name, uid = e.get("Event-Name"), e.get("Unique-ID")
    ts = e.get("Event-Date-Timestamp")
    if not uid or not ts or e.get("Caller-Destination-Number") not in (None, "bench_twiml"):
        continue
    t = int(ts) / 1000.0  # ms
    if name == "CHANNEL_CREATE" and e.get("Caller-Destination-Number") == "bench_twiml":
        created.setdefault(uid, t)
    elif name == "CHANNEL_ANSWER":
        answered.setdefault(uid, t)
    elif name == "PLAYBACK_START":
        played.setdefault(uid, t)

def pct(xs, q):
    if not xs:
        return "-"
    xs = sorted(xs)
    return "%.3f" % xs[min(len(xs) - 1, int(q * len(xs)))]

calls = sorted(created, key=created.get)
first = calls[0] if calls else None
rest = [u for u in calls if u != first]
ans = [played[u] - answered[u] for u in rest if u in played and u in answered]
inv = [played[u] - created[u] for u in rest if u in played]
print("channels=%d" % len(calls))
print("no_audio=%d" % sum(1 for u in calls if u not in played))
for name, xs in (("answer", ans), ("invite", inv)):
    print("%s_p50=%s" % (name, pct(xs, 0.50)))
    print("%s_p99=%s" % (name, pct(xs, 0.99)))
    print("%s_max=%s" % (name, "%.3f" % max(xs) if xs else "-"))
if first in played:
    print("first_invite=%.3f" % (played[first] - created[first]))
    if first in answered:
        print("first_answer=%.3f" % (played[first] - answered[first]))

docs = wavs = bad = 0
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e["path"] == "/bench":
        docs += 1
    elif e["path"] == "/audio/tone.wav":
        wavs += 1
    if not e["sig_ok"] and e["path"] == "/bench":
        bad += 1
print("documents=%d" % docs)
print("wav_downloads=%d" % wavs)
print("bad_signatures=%d" % bad)
PY
)
peak_kb=$(proc_kb "$IRISX_PID" VmHWM)
t_alive "$IRISX_PID" && irisx_stop

{
	printf 'TwiML webhook calls (SIPp -r %s, %s calls; node %s application on loopback)\n' \
		"$rate" "$calls" "$(node --version)"
	printf '%-36s %14s %14s %14s\n' "per call, ms" "p50" "p99" "max"
	printf '%-36s %14s %14s %14s\n' "answer -> first audio" "${F[answer_p50]:--}" \
		"${F[answer_p99]:--}" "${F[answer_max]:--}"
	printf '%-36s %14s %14s %14s\n' "INVITE -> first audio" "${F[invite_p50]:--}" \
		"${F[invite_p99]:--}" "${F[invite_max]:--}"
	printf '(the first call, which downloads the WAV, apart: INVITE -> audio %s ms)\n\n' \
		"${F[first_invite]:--}"
	printf 'twiml_answer_to_audio_ms: p50 %s p99 %s\n' "${F[answer_p50]:--}" "${F[answer_p99]:--}"
	printf 'twiml_invite_to_audio_ms: p50 %s p99 %s\n' "${F[invite_p50]:--}" "${F[invite_p99]:--}"
	printf 'twiml_first_call_invite_to_audio_ms: %s\n' "${F[first_invite]:--}"
	printf 'twiml_calls: %s ok, %s failed (of %s); %s channels, %s without audio\n' "$ok" \
		"$failed" "$calls" "${F[channels]:-?}" "${F[no_audio]:-?}"
	printf 'twiml_requests: %s documents, %s WAV downloads, %s bad signatures\n' \
		"${F[documents]:-?}" "${F[wav_downloads]:-?}" "${F[bad_signatures]:-?}"
	printf 'twiml_cpu_pct: %s\n' "$cpu"
	printf 'twiml_rss_kb: %s (peak %s)\n' "${rss:-?}" "${peak_kb:-?}"
} >"$T_DIR/twiml-table.txt"
printf '\n' >&2
cat "$T_DIR/twiml-table.txt"
[ "${F[no_audio]:-1}" = 0 ] || bench_ok=0
[ "$bench_ok" = 1 ] || t_fail "some calls failed or never played; figures above are partial"
t_end
