#!/usr/bin/env bash
# Call recording, with SIPp as the caller and rtp_peer.py as its media
# sending a known prompt (please_wait.wav, looped):
#  1. 9300 answers and parks; uuid_record <uuid> start rec/park-<n>.wav over
#     the Event Socket, 3 s later stop: RECORD_START and RECORD_STOP with
#     Record-File-Path reach an event listener, record_seconds is set, and
#     the file under <state>/recordings is a WAV (python's wave opens it)
#     whose audio correlates with what the caller sent. A path with ".." is
#     refused.
#  2. 9301 sets RECORD_STEREO=true, record_session, plays welcome.wav and
#     hangs up: a stereo WAV whose left channel (the caller) correlates with
#     please_wait.wav and whose right (irisx) with welcome.wav.
#  3. A recording under way when irisx is killed with SIGKILL: after a
#     restart on the same state directory, the start-up repair pass logs it
#     and the file's header covers all its audio (about as long as the call
#     was recorded, more than the header said before).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

irisx_conf_edit()
{
	local dir=$1
	esl_conf "$dir" || return 1
	cat >"$dir/dialplan/default/00_record_test.xml" <<'XML'
<include>
  <extension name="record-park">
    <condition field="destination_number" expression="^9300$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="record-stereo">
    <condition field="destination_number" expression="^9301$">
      <action application="answer"/>
      <action application="set" data="RECORD_STEREO=true"/>
      <action application="record_session" data="rec/stereo.wav"/>
      <action application="sleep" data="500"/>
      <action application="playback" data="welcome.wav"/>
      <action application="sleep" data="500"/>
      <action application="hangup"/>
    </condition>
  </extension>
</include>
XML
}

wav_py()
{
	python3 - "$@" <<'PY'
import struct, sys, wave
path, what = sys.argv[1], sys.argv[2]
if what == "info":
    w = wave.open(path, "rb")
    print("channels=%d rate=%d seconds=%.3f" % (w.getnchannels(), w.getframerate(),
          w.getnframes() / w.getframerate()))
elif what == "split":  # stereo -> left.wav right.wav
    w = wave.open(path, "rb")
    data = w.readframes(w.getnframes())
    s = struct.unpack("<%dh" % (len(data) // 2), data)
    for ch, out in ((0, sys.argv[3]), (1, sys.argv[4])):
        o = wave.open(out, "wb")
        o.setnchannels(1); o.setsampwidth(2); o.setframerate(w.getframerate())
        o.writeframes(struct.pack("<%dh" % (len(s) // 2), *s[ch::2]))
        o.close()
elif what == "header_s":  # what the header alone says
    d = open(path, "rb").read(4096)
    i = d.find(b"data")
    n = struct.unpack("<I", d[i + 4:i + 8])[0]
    ch, rate = struct.unpack("<HI", d[22:28])
    print("%.3f" % (n / 2 / ch / rate))
elif what == "file_s":  # what the file holds
    import os
    d = open(path, "rb").read(4096)
    i = d.find(b"data")
    ch, rate = struct.unpack("<HI", d[22:28])
    print("%.3f" % ((os.path.getsize(path) - i - 8) / 2 / ch / rate))
PY
}



# The Unique-ID of the channel whose CHANNEL_ANSWER has Caller-Destination-Number $1.
answered_uuid()
{
	local i u
	for ((i = 0; i < 100; i++)); do
		u=$(esl_find ev --name CHANNEL_ANSWER --where "Caller-Destination-Number=$1" \
			--get Unique-ID | tail -n 1)
		[ -n "$u" ] && { echo "$u"; return 0; }
		sleep 0.05
	done
	return 1
}

t_begin
caller_wav=$(media_prompt please_wait.wav)
welcome=$(media_prompt welcome.wav)
irisx_start
STATE=${IRISX_CONF/conf./state.}
REC=$STATE/recordings
esl_wait_listen || t_die "irisx does not accept Event Socket connections"
esl_watch_start ev

# ---- 1. uuid_record on a parked call ----
rtp_peer_start park --send-wav "$caller_wav"
sipp_start park media_call_out_bye.xml "127.0.0.1:$IRISX_INT_PORT" -s 9300 -timeout 30s \
	-d 7000 -set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/park.remote"
uuid=$(answered_uuid 9300) || t_die "no CHANNEL_ANSWER for 9300"
sleep 0.5
got=$(esl_api uuid_record "$uuid" start ../escape.wav)
[ "$got" = "-ERR invalid path '../escape.wav'" ] && t_ok "a path with .. is refused" ||
	t_fail "uuid_record with ..: '$got'"
got=$(esl_api uuid_record "$uuid" start rec/park.wav 30)
[ "$got" = "+OK Success" ] && t_ok "uuid_record start: $got" || t_fail "uuid_record start: '$got'"
sleep 3
got=$(esl_api uuid_record "$uuid" stop rec/park.wav)
[ "$got" = "+OK Success" ] && t_ok "uuid_record stop: $got" || t_fail "uuid_record stop: '$got'"
secs=$(esl_api uuid_getvar "$uuid" record_seconds)
[ "$secs" = 3 ] || [ "$secs" = 2 ] && t_ok "record_seconds=$secs" || t_fail "record_seconds='$secs'"
sipp_wait park
rtp_peer_stop park

for ev in RECORD_START RECORD_STOP; do
	n=$(esl_find ev --name "$ev" --where "Unique-ID=$uuid" --where "Record-File-Path=$REC/rec/park.wav" --count)
	[ "${n:-0}" -eq 1 ] && t_ok "$ev with Record-File-Path $REC/rec/park.wav" ||
		t_fail "$ev for $uuid with Record-File-Path: $n seen"
done
if [ -s "$REC/rec/park.wav" ]; then
	info=$(wav_py "$REC/rec/park.wav" info)
	t_log "park.wav: $info"
	[[ $info =~ ^channels=1\ rate=8000\ seconds=([0-9.]+)$ ]] || t_fail "park.wav: $info"
	R[seconds]="${BASH_REMATCH[1]:-0}"
	media_expect "park.wav duration (s)" seconds ">" 2.7
	c=$(media_corr "$REC/rec/park.wav" "$caller_wav" --ref-len 2)
	R[corr]="${c:-0}"
	media_expect "park.wav against what the caller sent: correlation" corr ">" 0.8
else
	t_fail "no recording at $REC/rec/park.wav"
fi

# ---- 2. record_session, stereo, with irisx's playback on the right ----
rtp_peer_start stereo --send-wav "$caller_wav"
sipp_run stereo media_call_in_bye.xml "127.0.0.1:$IRISX_INT_PORT" -s 9301 -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/stereo.remote"
rtp_peer_stop stereo
sleep 0.5 # the writer closes the file
if [ -s "$REC/rec/stereo.wav" ]; then
	info=$(wav_py "$REC/rec/stereo.wav" info)
	t_log "stereo.wav: $info"
	[[ $info =~ ^channels=2\ rate=8000 ]] && t_ok "stereo.wav has two channels" ||
		t_fail "stereo.wav: $info"
	wav_py "$REC/rec/stereo.wav" split "$T_DIR/left.wav" "$T_DIR/right.wav"
	c=$(media_corr "$T_DIR/left.wav" "$caller_wav" --ref-len 2)
	R[corr]="${c:-0}"
	media_expect "left (the caller) against please_wait.wav" corr ">" 0.8
	c=$(media_corr "$T_DIR/right.wav" "$welcome")
	R[corr]="${c:-0}"
	media_expect "right (irisx) against welcome.wav" corr ">" 0.8
	c=$(media_corr "$T_DIR/right.wav" "$caller_wav" --ref-len 2)
	t_log "right against the caller's audio: $c (should be low)"
	awk -v c="${c:-1}" 'BEGIN { exit !(c < 0.5) }' && t_ok "the caller is not on the right" ||
		t_fail "right channel correlates with the caller's audio ($c)"
else
	t_fail "no recording at $REC/rec/stereo.wav"
fi
n=$(esl_find ev --name RECORD_STOP --where "Record-File-Path=$REC/rec/stereo.wav" --count)
[ "${n:-0}" -eq 1 ] && t_ok "RECORD_STOP at the stereo call's hangup" || t_fail "RECORD_STOP for stereo.wav: $n"
esl_watch_stop ev

# ---- 3. SIGKILL mid-recording, repaired at the next start ----
rtp_peer_start kill --send-wav "$caller_wav"
sipp_start kill media_call_out_bye.xml "127.0.0.1:$IRISX_INT_PORT" -s 9300 -timeout 30s \
	-d 20000 -set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/kill.remote"
esl_watch_start ev2
for ((i = 0; i < 100; i++)); do
	uuid=$(esl_api show channels | awk -F, '$6 == "CS_PARK" { print $1 }' | tail -n 1)
	[ -n "$uuid" ] && break
	sleep 0.05
done
got=$(esl_api uuid_record "$uuid" start "$REC/killed.wav")
[ "$got" = "+OK Success" ] || t_fail "uuid_record start before the kill: '$got'"
sleep 2.6
kill -KILL "$IRISX_PID"
t_wait_exit "$IRISX_PID" 5
t_forget "$IRISX_PID"
kill -TERM "$SIPP_PID" 2>/dev/null
rtp_peer_stop kill
said=$(wav_py "$REC/killed.wav" header_s)
held=$(wav_py "$REC/killed.wav" file_s)
t_log "killed.wav before the restart: header says $said s, the file holds $held s"
R[held]="$held"
media_expect "audio written before the kill (s)" held ">" 2.0

IRISX_LOG=$T_DIR/irisx.restart.log
"$IRISX_BIN" -c "$IRISX_CONF" -s "$STATE" >"$IRISX_LOG" 2>&1 &
IRISX_PID=$!
T_PIDS+=("$IRISX_PID")
for ((i = 0; i < 200; i++)); do
	grep -qs 'irisx ready' "$IRISX_LOG" && break
	sleep 0.05
done
grep -qs 'irisx ready' "$IRISX_LOG" || { t_dump "irisx log" "$IRISX_LOG"; t_die "no restart"; }
if grep -q "recording $REC/killed.wav was cut short: header repaired" "$IRISX_LOG"; then
	t_ok "the start-up repair pass saw killed.wav"
else
	t_fail "the restart did not repair killed.wav"
	t_dump "irisx log" "$IRISX_LOG" 30
fi
info=$(wav_py "$REC/killed.wav" info)
t_log "killed.wav after the restart: $info"
[[ $info =~ seconds=([0-9.]+)$ ]] || t_fail "python's wave cannot read killed.wav: $info"
after=${BASH_REMATCH[1]:-0}
R[after]=$after
media_expect "killed.wav duration after the repair (s)" after ">" "$(awk -v h="$held" 'BEGIN { print h - 0.01 }')"
media_expect "killed.wav duration, against the 2.6 s recorded" after ">" 2.0
c=$(media_corr "$REC/killed.wav" "$caller_wav" --ref-len 1.5)
R[corr]="${c:-0}"
media_expect "killed.wav against what the caller sent" corr ">" 0.8

irisx_alive "after the restart" && irisx_stop
irisx_check_log
t_end
