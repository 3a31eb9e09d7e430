#!/usr/bin/env bash
# The record application and Opus-in-Ogg recordings, with SIPp as the caller
# and rtp_peer.py as its media:
#  a. 9400 runs "record rec/limit.wav 3" while the caller sends please_wait.wav
#     (looped): a mono WAV of 3 s (± 0.2) whose audio correlates with what
#     the caller sent; record_seconds=3; RECORD_START / RECORD_STOP with the
#     path; the action after record ran.
#  b. 9401 runs "record rec/silence.wav 30 200 2" while the caller sends a
#     1.5 s tone then silence: it stops after 2 s of silence (the file about
#     3.5 s from the first packet), long before its 30 s limit.
#  c. 9402 sets playback_terminators=# and records; the caller sends "#" as
#     an RFC 4733 event after 1.5 s: the recording stops there,
#     playback_terminator_used=# and the dialplan goes on (a variable set
#     after it, seen on CHANNEL_HANGUP_COMPLETE).
#  d. 9403 runs "record_session rec/session.ogg": an Opus-in-Ogg file that
#     libsndfile (through python's ctypes) opens: 1 channel, 8 kHz, Ogg/Opus,
#     about as long as the call, and its audio correlates with the caller's.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

irisx_conf_edit()
{
	local dir=$1
	esl_conf "$dir" || return 1
	cat >"$dir/dialplan/default/00_record_app_test.xml" <<'XML'
<include>
  <extension name="record-limit">
    <condition field="destination_number" expression="^9400$">
      <action application="answer"/>
      <action application="record" data="rec/limit.wav 3"/>
      <action application="set" data="after_record=limit"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="record-silence">
    <condition field="destination_number" expression="^9401$">
      <action application="answer"/>
      <action application="record" data="rec/silence.wav 30 200 2"/>
      <action application="set" data="after_record=silence"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="record-terminator">
    <condition field="destination_number" expression="^9402$">
      <action application="set" data="playback_terminators=#"/>
      <action application="answer"/>
      <action application="record" data="rec/term.wav 30"/>
      <action application="set" data="after_record=terminator"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="record-ogg">
    <condition field="destination_number" expression="^9403$">
      <action application="answer"/>
      <action application="record_session" data="rec/session.ogg"/>
      <action application="sleep" data="3000"/>
      <action application="hangup"/>
    </condition>
  </extension>
</include>
XML
}

# sf_py PATH info|wav OUT: libsndfile's view of a file (any format it reads).
sf_py()
{
	python3 - "$@" <<'PY'
import ctypes, ctypes.util, struct, sys, wave
lib = ctypes.CDLL(ctypes.util.find_library("sndfile") or "libsndfile.so.1")
class Info(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int),
                ("channels", ctypes.c_int), ("format", ctypes.c_int),
                ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]
lib.sf_open.restype = ctypes.c_void_p
lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(Info)]
lib.sf_readf_short.restype = ctypes.c_int64
lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
lib.sf_close.argtypes = [ctypes.c_void_p]
path, what = sys.argv[1], sys.argv[2]
info = Info()
sf = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))  # SFM_READ
if not sf:
    print("error=cannot-open")
    sys.exit(0)
if what == "info":
    major, sub = info.format & 0x0FFF0000, info.format & 0xFFFF
    kind = {(0x200000, 0x64): "ogg-opus", (0x10000, 0x2): "wav-pcm16"}.get((major, sub), hex(info.format))
    print("channels=%d rate=%d format=%s seconds=%.3f" % (info.channels, info.samplerate,
          kind, info.frames / info.samplerate))
elif what == "wav":  # decoded, as a 16-bit WAV (channel 0)
    n = info.frames
    buf = (ctypes.c_int16 * (n * info.channels))()
    got = lib.sf_readf_short(sf, buf, n)
    w = wave.open(sys.argv[3], "wb")
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(info.samplerate)
    w.writeframes(struct.pack("<%dh" % got, *buf[0:got * info.channels:info.channels]))
    w.close()
lib.sf_close(sf)
PY
}




# hangup_var NUMBER NAME: variable NAME on the call's CHANNEL_HANGUP_COMPLETE.
hangup_var()
{
	esl_find ev --name CHANNEL_HANGUP_COMPLETE --where "Caller-Destination-Number=$1" \
		--get "variable_$2" | tail -n 1
}

# call NAME NUMBER [rtp_peer options...]: a call irisx hangs up.
call()
{
	local name=$1 num=$2
	shift 2
	rtp_peer_start "$name" "$@"
	sipp_run "$name" media_call_in_bye.xml "127.0.0.1:$IRISX_INT_PORT" -s "$num" -timeout 40s \
		-set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/$name.remote"
	rtp_peer_stop "$name"
}

t_begin
caller_wav=$(media_prompt please_wait.wav)
irisx_start
STATE=${IRISX_CONF/conf./state.}
REC=$STATE/recordings
esl_wait_listen || t_die "irisx does not accept Event Socket connections"
esl_watch_start ev

# ---- a. a time limit ----
call limit 9400 --send-wav "$caller_wav"
sleep 0.3
info=$(sf_py "$REC/rec/limit.wav" info)
t_log "limit.wav: $info"
if [[ $info =~ ^channels=1\ rate=8000\ format=wav-pcm16\ seconds=([0-9.]+)$ ]]; then
	R[seconds]="${BASH_REMATCH[1]}"
	media_between "limit.wav duration (s)" seconds 2.8 3.2
	c=$(media_corr "$REC/rec/limit.wav" "$caller_wav" --ref-len 2)
	R[corr]="${c:-0}"
	media_expect "limit.wav against what the caller sent: correlation" corr ">" 0.8
else
	t_fail "limit.wav: $info"
fi
v=$(hangup_var 9400 record_seconds)
[ "$v" = 3 ] && t_ok "record_seconds=3" || t_fail "record_seconds='$v'"
v=$(hangup_var 9400 after_record)
[ "$v" = limit ] && t_ok "the dialplan went on after record" || t_fail "after_record='$v'"
uuid=$(esl_find ev --name CHANNEL_HANGUP_COMPLETE --where Caller-Destination-Number=9400 \
	--get Unique-ID | tail -n 1)
for e in RECORD_START RECORD_STOP; do
	n=$(esl_find ev --name "$e" --where "Unique-ID=$uuid" \
		--where "Record-File-Path=$REC/rec/limit.wav" --count)
	[ "${n:-0}" -eq 1 ] && t_ok "$e with Record-File-Path" || t_fail "$e for limit.wav: $n seen"
done

# ---- b. silence ----
python3 - "$T_DIR/tone_then_silence.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
tone = [int(8000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(12000)]
w.writeframes(struct.pack("<%dh" % len(tone), *tone) + b"\0\0" * 8000 * 40)
w.close()
PY
start=$(date +%s.%N)
call silence 9401 --send-wav "$T_DIR/tone_then_silence.wav"
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
t_log "the silence call lasted $took s"
R[took]="$took"
media_between "the silence call's length (s)" took 3.0 8.0
info=$(sf_py "$REC/rec/silence.wav" info)
t_log "silence.wav: $info"
if [[ $info =~ seconds=([0-9.]+)$ ]]; then
	R[seconds]="${BASH_REMATCH[1]}"
	media_between "silence.wav: the tone and 2 s of silence (s)" seconds 3.3 3.9
else
	t_fail "silence.wav: $info"
fi
v=$(hangup_var 9401 after_record)
[ "$v" = silence ] && t_ok "the dialplan went on after the silence" || t_fail "after_record='$v'"

# ---- c. a terminator ----
call term 9402 --send-wav "$caller_wav" --dtmf 1.5:#
v=$(hangup_var 9402 playback_terminator_used)
[ "$v" = "#" ] && t_ok "playback_terminator_used=#" || t_fail "playback_terminator_used='$v'"
v=$(hangup_var 9402 after_record)
[ "$v" = terminator ] && t_ok "the dialplan went on after the terminator" ||
	t_fail "after_record='$v'"
info=$(sf_py "$REC/rec/term.wav" info)
t_log "term.wav: $info"
if [[ $info =~ seconds=([0-9.]+)$ ]]; then
	R[seconds]="${BASH_REMATCH[1]}"
	media_between "term.wav: until the digit (s)" seconds 1.2 2.0
else
	t_fail "term.wav: $info"
fi

# ---- d. record_session to Opus in Ogg ----
call ogg 9403 --send-wav "$caller_wav"
sleep 0.3
info=$(sf_py "$REC/rec/session.ogg" info)
t_log "session.ogg: $info"
if [[ $info =~ ^channels=1\ rate=8000\ format=ogg-opus\ seconds=([0-9.]+)$ ]]; then
	t_ok "session.ogg is Opus in Ogg, mono, 8 kHz"
	R[seconds]="${BASH_REMATCH[1]}"
	media_between "session.ogg duration (s)" seconds 2.7 3.6
	sf_py "$REC/rec/session.ogg" wav "$T_DIR/session.wav"
	c=$(media_corr "$T_DIR/session.wav" "$caller_wav" --ref-len 2)
	R[corr]="${c:-0}"
	media_expect "session.ogg against what the caller sent: correlation" corr ">" 0.6
else
	t_fail "session.ogg: $info"
fi

esl_watch_stop ev
irisx_alive "after the calls" && irisx_stop
irisx_check_log
t_end
