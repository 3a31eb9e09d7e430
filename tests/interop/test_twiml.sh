#!/usr/bin/env bash
# Call flows over HTTP: the dialplan application `webhook` against a TwiML
# application (tests/interop/http/twiml_app.js, Node's http module) that
# checks X-Twilio-Signature on every request and logs each one. SIPp is the
# caller, rtp_peer.py its media; an Event Socket client records the events.
#  a. Say, Pause 1 s, Play: the caller hears speech, about a second of
#     silence, then the 1 kHz tone of the WAV the application serves (Goertzel
#     over what rtp_peer received); PLAYBACK_START and PLAYBACK_STOP on the
#     Event Socket; the first request has every call parameter.
#     Play loop="2" from the cache (no second download), Play digits="1w2"
#     (RFC 4733 events 1 then 2), for a webhook that asks with GET.
#  a'. Play of an MP3 (made with libsndfile's encoder): the tone is heard,
#     the file fetched once.
#  b. Gather: 1234 sent as RFC 4733 events → the action gets Digits=1234 with
#     the CallSid of the call (its uuid on the Event Socket); "12#" to a
#     Gather without numDigits → Digits=12, FinishedOnKey=#; a Gather that
#     gets nothing goes on to the next verb without a request, one with
#     actionOnEmptyResult requests its action with Digits empty.
#  c. Record maxLength=3: RecordingDuration 3 (±1); the file at RecordingUrl
#     (file://) is a WAV about 3 s long. A Record ended by the key 5 after
#     about 2 s → Digits=5. A Record that hears nothing goes on to the next
#     verb without a request.
#  d. Dial <Sip> (callerId, record-from-answer) to a SIPp UAS that answers
#     and hangs up 2 s later → the UAS sees the callerId in From; the action
#     gets DialCallStatus=completed, DialCallDuration ≥ 1 and a RecordingUrl
#     to a WAV of the call; to a UAS that answers 486 → DialCallStatus=busy.
#     Dial <Number>+1 (555) 000-2222</Number> goes through dial-gateway (the
#     same UAS as the carrier) as +15550002222 and completes.
#     Dial hangupOnStar: the caller's '*' (RFC 4733) hangs up the called party
#     (it gets BYE) and the action gets DialCallStatus=completed.
#  e. Every request is signed right (0 mismatches), and the application's
#     checker itself tells a wrong signature from a right one.
#  f. Failures: /error (500) → the fallback URL with ErrorCode 11200 and
#     ErrorUrl; /slow (no answer) and /broken (not XML), whose fallback fails
#     too → the fallback prompt, then a BYE within timeout + 2 s, the reason
#     in irisx's log; irisx still answers OPTIONS afterwards.
#  g. Reject reason="busy" → 486 before any answer; Reject → 603.
#  h. Redirect (GET) followed, with the call's parameters in the query; a
#     Redirect loop ends at max-requests documents (irisx hangs up).
#  i. POST /v1/calls {url, endpoint} to a SIPp UAS: the application sees
#     Direction=outbound-api, CallStatus=in-progress; its Say and Hangup run
#     (the UAS gets a BYE).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
command -v node >/dev/null || t_die "node is not installed (scripts/install-deps.sh)"
command -v curl >/dev/null || t_die "curl is not installed (scripts/install-deps.sh)"

TW_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
TW_ACCOUNT=AC$(python3 -c 'import secrets; print(secrets.token_hex(16))')
API_TOKEN=t$(python3 -c 'import secrets; print(secrets.token_hex(16))')
TIMEOUT_MS=2000
MAX_REQUESTS=8
read -r APP_PORT HTTP_PORT DIAL_UAS_PORT OUT_UAS_PORT <<<"$(ports_pick 127.0.0.1 4)" ||
	t_die "no free ports"
APP=http://127.0.0.1:$APP_PORT
APP_LOG=$T_DIR/app.jsonl

python3 "$T_RTP_PEER" tone --freq 1000 --seconds 1 --rate 8000 "$T_DIR/tone.wav" ||
	t_die "cannot make the 1 kHz WAV"

irisx_conf_edit()
{
	local dir=$1
	esl_conf "$dir" || return 1
	cat >"$dir/autoload_configs/twiml.conf.xml" <<EOF
<configuration name="twiml.conf">
  <settings>
    <param name="auth-token" value="$TW_TOKEN"/>
    <param name="account-sid" value="$TW_ACCOUNT"/>
    <param name="timeout-ms" value="$TIMEOUT_MS"/>
    <param name="fallback-url" value="$APP/fallback"/>
    <param name="fallback-prompt" value="tone_stream://%(500,0,660)"/>
    <param name="recording-url-base" value=""/>
    <param name="dial-profile" value="external"/>
    <param name="dial-gateway" value="carrier"/>
    <param name="audio-cache-dir" value="$T_DIR/audio-cache"/>
    <param name="max-requests" value="$MAX_REQUESTS"/>
  </settings>
</configuration>
EOF
	# <Number> goes through this gateway: the Dial UAS plays the carrier.
	cat >"$dir/sip_profiles/external/carrier.xml" <<EOF
<gateway name="carrier">
  <param name="proxy" value="127.0.0.1:$DIAL_UAS_PORT"/>
  <param name="register" value="false"/>
</gateway>
EOF
	cat >"$dir/autoload_configs/http.conf.xml" <<EOF
<configuration name="http.conf">
  <settings>
    <param name="listen-ip" value="127.0.0.1"/>
    <param name="listen-port" value="$HTTP_PORT"/>
    <param name="api-token" value="$API_TOKEN"/>
  </settings>
</configuration>
EOF
	media_conf_extension "$dir" public "<extension name=\"twiml_play\">
  <condition field=\"destination_number\" expression=\"^twiml-play\$\">
    <action application=\"webhook\" data=\"$APP/play GET\"/>
  </condition>
</extension>
<extension name=\"twiml_dial\">
  <condition field=\"destination_number\" expression=\"^twiml-dial\$\">
    <action application=\"webhook\" data=\"$APP/dial?uas=$DIAL_UAS_PORT\"/>
  </condition>
</extension>
<extension name=\"twiml_dialstar\">
  <condition field=\"destination_number\" expression=\"^twiml-dialstar\$\">
    <action application=\"webhook\" data=\"$APP/dialstar?uas=$DIAL_UAS_PORT\"/>
  </condition>
</extension>
<extension name=\"twiml\">
  <condition field=\"destination_number\" expression=\"^twiml-([a-z]+)\$\">
    <action application=\"webhook\" data=\"$APP/\$1\"/>
  </condition>
</extension>"
}

# ---- the application ----
# The same tone as MP3 (what most applications serve), through libsndfile's
# own encoder: the machine has no MP3 command-line tool.
python3 - "$T_DIR/tone.wav" "$T_DIR/tone.mp3" <<'PY' || t_die "cannot make the MP3"
import ctypes, sys, wave
class Info(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int),
                ("channels", ctypes.c_int), ("format", ctypes.c_int),
                ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]
sf = ctypes.CDLL("libsndfile.so.1")
sf.sf_open.restype = ctypes.c_void_p
sf.sf_write_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
sf.sf_close.argtypes = [ctypes.c_void_p]
w = wave.open(sys.argv[1], "rb")
n = w.getnframes()
pcm = w.readframes(n)
info = Info(0, w.getframerate(), 1, 0x230000 | 0x0082, 0, 0)  # MPEG layer III
h = sf.sf_open(sys.argv[2].encode(), 0x20, ctypes.byref(info))
assert h, "libsndfile cannot write MP3 here"
assert sf.sf_write_short(h, pcm, n) == n
sf.sf_close(h)
PY
node "$T_LIB_DIR/http/twiml_app.js" "$APP_PORT" "$TW_TOKEN" "$APP_LOG" "$T_DIR/tone.wav" \
	"$T_DIR/tone.mp3" >"$T_DIR/app.out" 2>&1 &
T_PIDS+=("$!")
for ((i = 0; i < 100; i++)); do
	grep -qs listening "$T_DIR/app.out" && break
	sleep 0.05
done
grep -qs listening "$T_DIR/app.out" || { t_dump "twiml_app" "$T_DIR/app.out"; t_die "the application did not start"; }

# sign URL [NAME=VALUE...]: Twilio's signature, computed here independently
# of the application (form parameters sorted by name, name + value).
sign()
{
	python3 - "$TW_TOKEN" "$@" <<'PY'
import base64, hashlib, hmac, sys
token, url, kv = sys.argv[1], sys.argv[2], sys.argv[3:]
params = sorted(tuple(x.split("=", 1)) for x in kv)
data = url + "".join(k + v for k, v in params)
print(base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode())
PY
}

# applog ARGS: what the application logged (python over the JSON lines):
#   count PATH              requests to PATH
#   get PATH NAME [NTH]     parameter NAME of the NTH (1-based, default 1; -1 last) request to PATH
#   field PATH KEY [NTH]    the log entry's own KEY (method, query, sig_ok, ua, t)
#   bad                     requests whose signature did not verify, one a line
applog()
{
	python3 - "$APP_LOG" "$@" <<'PY'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cmd, args = sys.argv[2], sys.argv[3:]
if cmd == "count":
    print(sum(1 for e in log if e["path"] == args[0]))
elif cmd in ("get", "field"):
    hits = [e for e in log if e["path"] == args[0]]
    n = int(args[2]) if len(args) > 2 else 1
    if not hits or n > len(hits):
        sys.exit(1)
    e = hits[n - 1] if n > 0 else hits[n]
    v = e["params"].get(args[1]) if cmd == "get" else e.get(args[1])
    if v is None:
        sys.exit(1)
    print(str(v).lower() if isinstance(v, bool) else v)
elif cmd == "bad":
    for e in log:
        if not e["sig_ok"] and not e["path"].startswith("/probe"):
            print("%s %s%s" % (e["method"], e["path"], e["query"]))
PY
}

# expect_param WHAT PATH NAME VALUE [NTH]
expect_param()
{
	local what=$1 path=$2 name=$3 want=$4 nth=${5:-1} have
	have=$(applog get "$path" "$name" "$nth") || have="<none>"
	if [ "$have" = "$want" ]; then
		t_ok "$what: $path $name=$want"
	else
		t_fail "$what: $path $name=$have, expected $want"
	fi
}

# ---- e (first half). The application's checker tells right from wrong ----
good=$(sign "$APP/probe-good?x=1" b=2 a=1)
curl -s -m 5 -o /dev/null -H "X-Twilio-Signature: $good" --data 'b=2&a=1' "$APP/probe-good?x=1"
curl -s -m 5 -o /dev/null -H "X-Twilio-Signature: $good" --data 'b=2&a=7' "$APP/probe-bad?x=1"
if [ "$(applog field /probe-good sig_ok)" = true ] && [ "$(applog field /probe-bad sig_ok)" = false ]; then
	t_ok "the application's signature check accepts a right and refuses a wrong signature"
else
	t_fail "the application's signature check is wrong (good: $(applog field /probe-good sig_ok)," \
		"bad: $(applog field /probe-bad sig_ok))"
fi

irisx_start
esl_wait_listen || t_die "the Event Socket does not answer"
esl_watch_start ev

# uuid_of NUMBER: the uuid of the last inbound call to NUMBER.
uuid_of()
{
	esl_find ev --name CHANNEL_CREATE --where "Caller-Destination-Number=$1" --get Unique-ID | tail -n 1
}

# call NAME NUMBER SCENARIO [rtp_peer options...]: one call from SIPp.
call()
{
	local name=$1 num=$2 scen=$3
	shift 3
	rtp_peer_start "$name" "$@"
	sipp_run "$name" "$scen" "127.0.0.1:$IRISX_EXT_PORT" -s "$num" -timeout 30s \
		-set peer_port "$RTP_PEER_PORT" -set offer "0 101" \
		-set remote_file "$T_DIR/$name.remote"
	rtp_peer_stop "$name"
}

# ---- a. Say, then Play ----
call say twiml-say media_call_in_bye.xml --no-send
trace_match say '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$'
uuid=$(uuid_of twiml-say)
expect_param "say: first request" /say CallSid "$uuid"
expect_param "say: first request" /say AccountSid "$TW_ACCOUNT"
expect_param "say: first request" /say From sipp
expect_param "say: first request" /say To twiml-say
expect_param "say: first request" /say Called twiml-say
expect_param "say: first request" /say Caller sipp
expect_param "say: first request" /say Direction inbound
expect_param "say: first request (before the answer)" /say CallStatus ringing
expect_param "say: first request" /say ApiVersion 2010-04-01
ua=$(applog field /say ua)
[[ $ua == irisx/* ]] && t_ok "User-Agent: $ua" || t_fail "User-Agent '$ua', expected irisx/<version>"
[ "$(applog field /say method)" = POST ] && t_ok "say: POST by default" || t_fail "say: method $(applog field /say method)"
[ "$(applog count /audio/tone.wav)" -ge 1 ] && t_ok "say: the WAV was fetched" ||
	t_fail "say: irisx never fetched $APP/audio/tone.wav"

t_ack=$(trace_when say ">ACK/ACK")
t_bye=$(trace_when say "<BYE/BYE")
rtp_peer_analyze say --from "$t_ack" --to "$t_bye" --save-wav "$T_DIR/say-heard.wav"
# Frames of 50 ms: speech is loud but not a pure 1 kHz; the tone is (its
# Goertzel power at 1 kHz is most of the frame's energy).
read -r speech_s tone_s tone_after pause_s <<<"$(python3 - "$T_DIR/say-heard.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "rb")
rate = w.getframerate()
x = struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes()))
n = rate // 20
k = 2 * math.cos(2 * math.pi * 1000 / rate)
speech = tone = 0
first_tone = None
speech_at = []
silent_at = set()
for i in range(0, len(x) - n + 1, n):
    f = x[i:i + n]
    e = sum(v * v for v in f)
    if e / n < 300.0 ** 2:          # below about -40 dBFS: silence
        silent_at.add(i // n)
        continue
    s1 = s2 = 0.0
    for v in f:
        s1, s2 = v + k * s1 - s2, s1
    p = s1 * s1 + s2 * s2 - k * s1 * s2     # |X(1 kHz)|^2
    ratio = 2 * p / (n * e)                 # share of the frame's energy
    if ratio > 0.8:
        tone += 1
        first_tone = i if first_tone is None else first_tone
    else:
        speech += 1
        speech_at.append(i)
# The tone's edges (a frame half tone, half silence) may count as speech:
# allow two such frames after the tone starts.
after = 1 if first_tone is not None and sum(1 for i in speech_at if i > first_tone) <= 2 else 0
# The Pause: the silent frames before the tone (past the frame where the
# tone starts part way, which may count as speech), back to the speech.
gap, j = -1, (first_tone // n - 1 if first_tone is not None else -1)
if j >= 0:
    if j not in silent_at:
        j -= 1
    run = 0
    while j >= 0 and j in silent_at:
        run, j = run + 1, j - 1
    gap = run * n / rate if j >= 0 else -1
print("%.2f %.2f %d %.2f" % (speech / 20, tone / 20, after, gap))
PY
)"
R[speech_s]=$speech_s R[tone_s]=$tone_s R[tone_after_speech]=$tone_after R[pause_s]=$pause_s
media_expect "say: the caller heard speech (s)" speech_s ">=" 0.5
media_between "say: the caller heard the 1 kHz tone (s)" tone_s 0.7 1.3
media_expect_is "say: the tone came after the speech" tone_after_speech 1
# espeak ends its speech with some silence of its own.
media_between "say: silence between the speech and the tone, <Pause length=1> (s)" pause_s 0.9 1.8
n=$(esl_find ev --name PLAYBACK_START --where "Unique-ID=$uuid" --count)
m=$(esl_find ev --name PLAYBACK_STOP --where "Unique-ID=$uuid" --count)
if [ "$n" -ge 1 ] && [ "$m" -ge 1 ]; then
	t_ok "say: $n PLAYBACK_START and $m PLAYBACK_STOP on the Event Socket"
else
	t_fail "say: PLAYBACK_START $n, PLAYBACK_STOP $m (expected at least one each)"
fi

# ---- a (continued). Play loop and digits, for a GET webhook ----
call play twiml-play media_call_in_bye.xml --no-send
[ "$(applog field /play method)" = GET ] && t_ok "play: the webhook asked with GET" ||
	t_fail "play: the webhook asked with '$(applog field /play method)'"
expect_param "play: the call's parameters in the query" /play CallSid "$(uuid_of twiml-play)"
n=$(applog count /audio/tone.wav)
[ "$n" = 1 ] && t_ok "play: the WAV came from the cache (1 download in all)" ||
	t_fail "play: the WAV was downloaded $n times"
rtp_peer_analyze play --pt 0 --save-wav "$T_DIR/play-heard.wav"
R[tone_s]=$(python3 - "$T_DIR/play-heard.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "rb")
rate = w.getframerate()
x = struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes()))
n, k, tone = rate // 20, 2 * math.cos(2 * math.pi * 1000 / rate), 0
for i in range(0, len(x) - n + 1, n):
    f = x[i:i + n]
    e = sum(v * v for v in f)
    if e / n < 300.0 ** 2:
        continue
    s1 = s2 = 0.0
    for v in f:
        s1, s2 = v + k * s1 - s2, s1
    if 2 * (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * e) > 0.8:
        tone += 1
print("%.2f" % (tone / 20))
PY
)
media_between "play: loop=2, the 1 kHz tone twice (s)" tone_s 1.7 2.3
# RFC 4733 events (payload type 101): the event code is the payload's first byte.
R[events]=$(python3 - "$T_DIR/play.json" <<'PY'
import json, sys
rec = json.load(open(sys.argv[1]))
seq = []
for p in rec["rtp"]:
    if p[4] == 101 and p[8]:
        d = "0123456789*#ABCD"[int(p[8][:2], 16)] if int(p[8][:2], 16) < 16 else "?"
        if not seq or seq[-1][0] != d or seq[-1][1] != p[2]:
            seq.append((d, p[2]))
print("".join(d for d, _ in seq))
PY
)
media_expect_is "play: digits=\"1w2\" sent as RFC 4733 events" events 12

# ---- a'. Play an MP3 ----
call playmp3 twiml-mpeg media_call_in_bye.xml --no-send
t_ack=$(trace_when playmp3 ">ACK/ACK")
t_bye=$(trace_when playmp3 "<BYE/BYE")
rtp_peer_analyze playmp3 --from "$t_ack" --to "$t_bye" --save-wav "$T_DIR/playmp3-heard.wav"
R[mp3_tone_s]=$(python3 - "$T_DIR/playmp3-heard.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "rb")
rate = w.getframerate()
x = struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes()))
n = rate // 20
k = 2 * math.cos(2 * math.pi * 1000 / rate)
tone = 0
for i in range(0, len(x) - n + 1, n):
    f = x[i:i + n]
    e = sum(v * v for v in f)
    if e / n < 300.0 ** 2:
        continue
    s1 = s2 = 0.0
    for v in f:
        s1, s2 = v + k * s1 - s2, s1
    if 2 * (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * e) > 0.8:
        tone += 1
print("%.2f" % (tone * n / rate))
PY
)
media_between "play an MP3: the 1 kHz tone heard (s)" mp3_tone_s 0.7 1.2
[ "$(applog count /audio/tone.mp3)" = 1 ] && t_ok "play an MP3: fetched once" ||
	t_fail "play an MP3: fetched $(applog count /audio/tone.mp3) times"

# ---- b. Gather ----
call gather twiml-gather media_call_in_bye.xml --dtmf 1.0:1234
uuid=$(uuid_of twiml-gather)
expect_param "gather: action" /gather-done Digits 1234
expect_param "gather: action" /gather-done CallSid "$uuid"
expect_param "gather: action (after the answer)" /gather-done CallStatus in-progress
expect_param "gather: first request" /gather CallSid "$uuid"
call gatherkey twiml-gatherkey media_call_in_bye.xml --dtmf 1.0:12#
expect_param "gather until #: action" /gatherkey-done Digits 12
expect_param "gather until #: action" /gatherkey-done FinishedOnKey "#"
call gathernone twiml-gathernone media_call_in_bye.xml --no-send
n=$(applog count /gathernone-done)
[ "$n" = 0 ] && t_ok "gather without digits: no action request, the next verb ran" ||
	t_fail "gather without digits: its action was requested $n time(s)"
expect_param "gather with actionOnEmptyResult" /gatherempty-done Digits ""

# ---- c. Record ----
call record twiml-record media_call_in_bye.xml --send-tone 440
R=()
for k in RecordingDuration RecordingUrl RecordingSid CallSid; do
	R[$k]=$(applog get /record-done "$k") || R[$k]=
done
media_between "record: action" RecordingDuration 2 4
media_expect_is "record: action" CallSid "$(uuid_of twiml-record)"
[ -n "${R[RecordingSid]}" ] && t_ok "record: RecordingSid ${R[RecordingSid]}" || t_fail "record: no RecordingSid"
rec_path=${R[RecordingUrl]#file://}
if [[ ${R[RecordingUrl]} == file:///* ]] && [ -s "$rec_path" ]; then
	t_ok "record: RecordingUrl ${R[RecordingUrl]} is a file"
	secs=$(python3 -c 'import sys, wave
w = wave.open(sys.argv[1]); print("%.2f" % (w.getnframes() / w.getframerate()))' "$rec_path" 2>&1)
	R[wav_seconds]=$secs
	media_between "record: the WAV" wav_seconds 2.0 4.0
else
	t_fail "record: RecordingUrl '${R[RecordingUrl]}' is not an existing file:// path"
fi
call recordkey twiml-recordkey media_call_in_bye.xml --send-tone 440 --dtmf 2.0:5
expect_param "record until a key: action" /recordkey-done Digits 5
R=([RecordingDuration]=$(applog get /recordkey-done RecordingDuration))
media_between "record until a key: action" RecordingDuration 1 3
call recordnone twiml-recordnone media_call_in_bye.xml --no-send
if [ "$(applog count /recordnone-done)" = 0 ] && [ "$(applog count /recordnone-next)" = 1 ]; then
	t_ok "record of nothing: no action request, the next verb ran"
else
	t_fail "record of nothing: action requested $(applog count /recordnone-done) time(s)," \
		"next verb's document $(applog count /recordnone-next) time(s)"
fi

# ---- d. Dial <Sip> ----
rtp_peer_start dialb --no-send
sipp_start dialb uas_out_bye.xml 127.0.0.1 -p "$DIAL_UAS_PORT" -d 2000 \
	-set peer_port "$RTP_PEER_PORT" -set remote_file "$T_DIR/dialb.remote"
dial_uas=$SIPP_PID
call dial twiml-dial media_call_in_bye.xml --send-tone 440
SIPP_PID=$dial_uas
sipp_wait dialb
rtp_peer_stop dialb
expect_param "dial: action" /dial-done DialCallStatus completed
R=([DialCallDuration]=$(applog get /dial-done DialCallDuration))
media_expect "dial: action" DialCallDuration ">=" 1
from=$(trace_header dialb 1 From)
[[ $from == *15550001111* ]] && t_ok "dial: the callerId in From: $from" ||
	t_fail "dial: From '$from' lacks the callerId 15550001111"
R[dial_rec]=$(applog get /dial-done RecordingUrl) || R[dial_rec]=
if [[ ${R[dial_rec]} == file:///* ]] && [ -s "${R[dial_rec]#file://}" ]; then
	R[dial_rec_s]=$(python3 -c 'import sys, wave
w = wave.open(sys.argv[1]); print("%.2f" % (w.getnframes() / w.getframerate()))' "${R[dial_rec]#file://}" 2>&1)
	media_between "dial: the recording from the answer (s)" dial_rec_s 1.0 3.5
else
	t_fail "dial: RecordingUrl '${R[dial_rec]}' is not an existing file:// path"
fi
sid=$(applog get /dial-done DialCallSid)
[[ $sid =~ ^[0-9a-f-]{36}$ ]] && [ "$sid" != "$(uuid_of twiml-dial)" ] &&
	t_ok "dial: DialCallSid $sid (the B leg)" || t_fail "dial: DialCallSid '$sid'"
[ "$(applog count /dial-done)" = 1 ] && t_ok "dial: one action request" ||
	t_fail "dial: $(applog count /dial-done) action requests"
# ---- d'. Dial <Number> through the gateway ----
sipp_start dialn uas_out_bye.xml 127.0.0.1 -p "$DIAL_UAS_PORT" -d 1000 -set peer_port 9 \
	-set remote_file "$T_DIR/dialn.remote"
dial_uas=$SIPP_PID
call dialnum twiml-dialnum media_call_in_bye.xml --no-send
SIPP_PID=$dial_uas
sipp_wait dialn
expect_param "dial a number: action" /dialnum-done DialCallStatus completed
to=$(trace_header dialn 1 To)
[[ $to == *+15550002222@* ]] && t_ok "dial a number: the carrier was asked for it: $to" ||
	t_fail "dial a number: To '$to' is not +15550002222 (blanks and punctuation removed)"
# ---- d''. Dial hangupOnStar: the caller's '*' hangs up the called party ----
sipp_start dialstaruas uas_in_bye.xml 127.0.0.1 -p "$DIAL_UAS_PORT" -set peer_port 9 \
	-set remote_file "$T_DIR/dialstar-uas.remote"
dial_uas=$SIPP_PID
call dialstar twiml-dialstar media_call_in_bye.xml --send-tone 440 --dtmf '2.0:*'
SIPP_PID=$dial_uas
sipp_wait dialstaruas
expect_param "dial hangupOnStar: action" /dialstar-done DialCallStatus completed
grep -q "^BYE sip:" "$T_DIR/dialstaruas.msg" && t_ok "dial hangupOnStar: the called party got BYE" ||
	t_fail "dial hangupOnStar: no BYE to the called party"
sipp_start dialbusy uas_busy.xml 127.0.0.1 -p "$DIAL_UAS_PORT" -set peer_port 9 \
	-set remote_file "$T_DIR/dialbusy.remote"
dial_uas=$SIPP_PID
call dial2 twiml-dial media_call_in_bye.xml --no-send
SIPP_PID=$dial_uas
sipp_wait dialbusy
expect_param "dial to a busy UAS: action" /dial-done DialCallStatus busy 2
applog get /dial-done RecordingUrl 2 >/dev/null && t_fail "dial to a busy UAS: a RecordingUrl" ||
	t_ok "dial to a busy UAS: no RecordingUrl"

# ---- f. failures ----
call error twiml-error media_call_in_bye.xml --no-send
expect_param "error: fallback" /fallback ErrorCode 11200
expect_param "error: fallback" /fallback ErrorUrl "$APP/error"
expect_param "error: fallback" /fallback CallSid "$(uuid_of twiml-error)"

# slow_call NAME NUMBER CODE: the document never comes (or is not TwiML), the
# fallback fails too: the prompt plays and the call ends within timeout + 2 s.
slow_call()
{
	local name=$1 num=$2 code=$3 t0 t1 nfb uuid lo
	nfb=$(applog count /fallback)
	call "$name" "$num" media_call_in_bye.xml --no-send
	trace_match "$name" '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$'
	t0=$(trace_when "$name" ">INVITE/INVITE")
	t1=$(trace_when "$name" "<BYE/BYE")
	R=([bye_after_s]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'))
	lo=0
	[ "$name" = slow ] && lo=$((TIMEOUT_MS / 1000))
	media_between "$name: INVITE to BYE (s)" bye_after_s "$lo" "$((TIMEOUT_MS / 1000 + 2))"
	uuid=$(uuid_of "$num")
	if grep -E "warning.*$uuid.*${num#twiml-}" "$IRISX_LOG" >"$T_DIR/$name.why"; then
		t_ok "$name: irisx logged why: $(head -n 1 "$T_DIR/$name.why" | cut -c 1-160)"
	else
		t_fail "$name: no warning in irisx's log for $uuid and /${num#twiml-}"
	fi
	expect_param "$name: fallback" /fallback ErrorCode "$code" $((nfb + 1))
	expect_param "$name: fallback" /fallback ErrorUrl "$APP/${num#twiml-}" $((nfb + 1))
	rtp_peer_analyze "$name" --from "$(trace_when "$name" ">ACK/ACK")" --to "$t1"
	media_expect "$name: the fallback prompt was heard" rms_dbfs ">" -30
}
slow_call slow twiml-slow 11200
slow_call broken twiml-broken 12100
sipp_run options options.xml "127.0.0.1:$IRISX_EXT_PORT"
trace_match options '^>OPTIONS/OPTIONS <200/OPTIONS$'

# ---- g. Reject busy ----
call reject twiml-reject call_busy.xml --no-send
trace_match reject '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<486/INVITE >ACK/ACK$'
n=$(esl_find ev --name CHANNEL_ANSWER --where "Unique-ID=$(uuid_of twiml-reject)" --count)
[ "$n" = 0 ] && t_ok "reject: never answered" || t_fail "reject: the call was answered"
call rejected twiml-rejected call_declined.xml --no-send
trace_match rejected '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<603/INVITE >ACK/ACK$'

# ---- h. Redirect ----
call redirect twiml-redirect media_call_in_bye.xml --no-send
uuid=$(uuid_of twiml-redirect)
[ "$(applog field /redirected method)" = GET ] && t_ok "redirect: followed with GET" ||
	t_fail "redirect: /redirected requested with '$(applog field /redirected method)'"
expect_param "redirect: the query" /redirected via redirect
expect_param "redirect: the call's parameters in the query" /redirected CallSid "$uuid"
call loop twiml-loop media_call_in_bye.xml --no-send
trace_match loop '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$'
n=$(applog count /loop)
[ "$n" = "$MAX_REQUESTS" ] && t_ok "redirect loop: ended after $n documents (max-requests)" ||
	t_fail "redirect loop: $n documents requested, max-requests is $MAX_REQUESTS"

# ---- i. POST /v1/calls with a url ----
rtp_peer_start outb --no-send
sipp_start outb uas_in_bye.xml 127.0.0.1 -p "$OUT_UAS_PORT" -set peer_port "$RTP_PEER_PORT" \
	-set remote_file "$T_DIR/outb.remote"
out_uas=$SIPP_PID
status=$(curl -s -m 10 -o "$T_DIR/post.json" -w '%{http_code}' -H "Authorization: Bearer $API_TOKEN" \
	-H 'Content-Type: application/json' \
	--data-binary "{\"url\":\"$APP/outbound\",\"endpoint\":\"sofia/internal/1000@127.0.0.1:$OUT_UAS_PORT\"}" \
	"http://127.0.0.1:$HTTP_PORT/v1/calls")
[ "$status" = 201 ] && t_ok "POST /v1/calls with a url: 201" ||
	t_fail "POST /v1/calls with a url: $status $(cat "$T_DIR/post.json")"
SIPP_PID=$out_uas
sipp_wait outb
rtp_peer_stop outb
trace_match outb '^<INVITE/INVITE >180/INVITE >200/INVITE <ACK/ACK <BYE/BYE >200/BYE$'
out_uuid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("uuid", ""))' \
	"$T_DIR/post.json" 2>/dev/null)
expect_param "outbound" /outbound Direction outbound-api
expect_param "outbound" /outbound CallStatus in-progress
expect_param "outbound" /outbound CallSid "$out_uuid"
rtp_peer_analyze outb --from "$(trace_when outb "<ACK/ACK")" --to "$(trace_when outb "<BYE/BYE")"
media_expect "outbound: the UAS heard the Say" rms_dbfs ">" -40

# ---- e. every signature ----
bad=$(applog bad)
total=$(python3 -c 'import sys; print(sum(1 for l in open(sys.argv[1]) if "/probe" not in l))' "$APP_LOG")
if [ -z "$bad" ] && [ "$total" -ge 34 ]; then
	t_ok "all $total requests from irisx carried a right X-Twilio-Signature"
else
	t_fail "$total requests (expected at least 34); signatures that did not verify: ${bad:-none}"
fi
if grep -q "twiml.conf' is not read" "$IRISX_LOG"; then
	t_fail "irisx warns that it does not read twiml.conf (it does: the settings above took effect)"
	grep "twiml.conf' is not read" "$IRISX_LOG" >&2
else
	t_ok "twiml.conf is read without a warning"
fi

esl_watch_stop ev
irisx_alive "after the calls" && irisx_stop
t_end
