#!/usr/bin/env bash
# A real user agent: Debian's baresip, headless (audio from a WAV file with
# its aufile module, what it sends and receives written to WAV files by its
# sndfile module, ALSA's null device as the loudspeaker), calls irisx on
# loopback with no registration:
#   echo  sip:9196 on the internal profile (answer + echo): baresip speaks a
#         sentence for a few seconds and hangs up; what it received must be
#         what it sent, delayed (normalized cross-correlation after finding
#         the delay), at a speech-like level;
#   play  sip:5550100 on the external profile (`public`: answer, a second of
#         silence, welcome.wav, hangup): what baresip received must be the
#         prompt, and the call must end from irisx's side.
# Alongside, the same echo call from SIPp with rtp_peer.py as its media
# (sipp-echo), where every packet is seen: the sentence must come back at
# 50 packets a second.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
for tool in baresip espeak-ng; do
	command -v "$tool" >/dev/null || t_die "$tool is not installed (scripts/install-deps.sh)"
done
welcome=$(media_prompt welcome.wav)
irisx_start

# What baresip says: a sentence of a few seconds, 8 kHz (aufile wants the
# codec's rate).
espeak-ng -w "$T_DIR/talk22.wav" \
	"One two three four five. The quick brown fox jumps over the lazy dog." ||
	t_die "espeak-ng failed"
python3 "$T_RTP_PEER" resample "$T_DIR/talk22.wav" "$T_DIR/talk.wav" --rate 8000 ||
	t_die "cannot resample the test sentence"

# baresip_call NAME URI SECONDS: one call from a fresh baresip with its own
# config dir, SIP port and recordings, in the background (pid in
# BS_PID[NAME]); it quits (hanging up if the call is still up) after SECONDS.
declare -A BS_PID=()
baresip_call()
{
	local name=$1 uri=$2 secs=$3 dir=$T_DIR/$1 port
	mkdir -p "$dir/rec"
	port=$(ports_pick 127.0.0.1 1) || t_die "no free port for baresip"
	cat >"$dir/config" <<-CONF
		poll_method		epoll
		sip_listen		127.0.0.1:$port
		net_interface		127.0.0.1
		call_local_timeout	20
		audio_player		alsa,null
		audio_alert		alsa,null
		audio_source		aufile,$T_DIR/talk.wav
		module_path		/usr/lib/baresip/modules
		module			g711.so
		module			aufile.so
		module			sndfile.so
		module			alsa.so
		module_tmp		account.so
		module_app		menu.so
		snd_path		$dir/rec
	CONF
	# No registration (regint=0); PCMU only, so the recordings are 8 kHz.
	printf '<sip:interop@127.0.0.1:%s>;regint=0;audio_codecs=PCMU\n' "$port" >"$dir/accounts"
	timeout -k 5 $((secs + 20)) baresip -f "$dir" -e "/dial $uri" -t "$secs" \
		>"$dir/baresip.log" 2>&1 </dev/null &
	BS_PID[$name]=$!
	T_PIDS+=("$!")
}

# baresip_wait NAME: wait for it; set BS_DEC and BS_ENC to its recordings of
# what it received (decoded) and sent (before encoding).
baresip_wait()
{
	local name=$1 dir=$T_DIR/$1 rc=0 dec enc
	wait "${BS_PID[$name]}" || rc=$?
	t_forget "${BS_PID[$name]}"
	dec=("$dir"/rec/dump-*-dec.wav)
	enc=("$dir"/rec/dump-*-enc.wav)
	BS_DEC='' BS_ENC=''
	[ -f "${dec[0]}" ] && BS_DEC=${dec[0]}
	[ -f "${enc[0]}" ] && BS_ENC=${enc[0]}
	if [ "$rc" -ne 0 ]; then
		t_dump "baresip $name" "$dir/baresip.log" 60
		t_fail "baresip $name exited $rc"
		return 1
	fi
	if ! grep -q 'Call established' "$dir/baresip.log"; then
		t_dump "baresip $name" "$dir/baresip.log" 60
		t_fail "baresip $name: the call was not established"
		return 1
	fi
	t_ok "baresip $name: call established"
	if [ -z "$BS_DEC" ] || [ -z "$BS_ENC" ]; then
		t_dump "baresip $name" "$dir/baresip.log" 60
		t_fail "baresip $name: no recordings in $dir/rec"
		return 1
	fi
	return 0
}

# wav_corr NAME RECEIVED REFERENCE [ARGS]: rtp_peer.py corr into R[].
wav_corr()
{
	local name=$1 k v
	shift
	R=()
	while IFS='=' read -r k v; do
		[ -n "$k" ] && media_set "$k" "$v"
	done < <(python3 "$T_RTP_PEER" corr "$@" 2>"$T_DIR/$name.corr.err")
	[ -s "$T_DIR/$name.corr.err" ] && t_dump "corr $name" "$T_DIR/$name.corr.err" 20
}

# The prompt's length sets how long the play call may last, and how much of
# it to look for: baresip's buffers still hold the last few hundred ms of it
# when irisx's BYE arrives, and its recording stops there.
welcome_s=$(python3 "$T_RTP_PEER" info "$welcome" | sed -n 's/^seconds=//p')
[ -n "$welcome_s" ] || t_die "cannot read $welcome"
play_secs=$(awk -v d="$welcome_s" 'BEGIN { printf "%d", d + 5.999 }')
ref_len=$(awk -v d="$welcome_s" 'BEGIN { printf "%.3f", (d > 1.6 ? d - 0.6 : d * 0.6) }')

baresip_call echo "sip:9196@127.0.0.1:$IRISX_INT_PORT" 6
baresip_call play "sip:5550100@127.0.0.1:$IRISX_EXT_PORT" "$play_secs"

rtp_peer_start sipp-echo --send-wav "$T_DIR/talk.wav"
sipp_start sipp-echo media_call_out_bye.xml "127.0.0.1:$IRISX_INT_PORT" -s 9196 -d 4000 \
	-set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/sipp-echo.remote"

sipp_wait sipp-echo
rtp_peer_stop sipp-echo
if trace_match sipp-echo '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK >BYE/BYE <200/BYE$'; then
	rtp_peer_analyze sipp-echo --from "$(trace_when sipp-echo ">ACK/ACK")" \
		--to "$(trace_when sipp-echo ">BYE/BYE")" --ref "$T_DIR/talk.wav" --ref-from 0.5 --ref-len 2
	media_between "sipp-echo" rate 49.5 50.5
	media_expect "sipp-echo" corr ">" 0.9
	media_expect_is "sipp-echo" pts 0 "PCMU"
fi

if baresip_wait echo; then
	# 3 s of what baresip sent, from 0.5 s in, must come back, delayed by
	# irisx's and baresip's buffers. Looked for in 6 pieces of 0.5 s: an
	# echo that drops or repeats a frame when the two ends' clocks slip
	# is still a good echo.
	wav_corr echo "$BS_DEC" "$BS_ENC" --ref-from 0.5 --ref-len 3 --pieces 6
	media_expect "echo" received_rms_dbfs ">" -35
	media_expect "echo" corr ">" 0.9
	t_log "echo: the worst piece scored ${R[corr_min]:-?}, offsets spread over ${R[offset_spread_s]:-?} s"
	media_set delay_s "$(awk -v o="${R[offset_s]:-0}" 'BEGIN { printf "%.3f", o - 0.5 }')"
	media_between "echo" delay_s 0 1.0
	grep -q 'terminated' "$T_DIR/echo/baresip.log" ||
		t_fail "echo: baresip did not log the end of the call"
fi

if baresip_wait play; then
	wav_corr play "$BS_DEC" "$welcome" --ref-len "$ref_len"
	media_expect "play" corr ">" 0.9
	media_between "play" offset_s 0.7 3.0
	# irisx hung up at the end of the prompt, before baresip's time ran out
	# (baresip itself quits only then).
	dur=$(sed -n 's/.*terminated (duration: \([0-9]*\) secs).*/\1/p' "$T_DIR/play/baresip.log")
	if [ -n "$dur" ] && [ "$dur" -lt $((play_secs - 1)) ]; then
		t_ok "play: irisx ended the call: $(grep -o 'terminated (duration: [0-9]* secs)' \
			"$T_DIR/play/baresip.log")"
	else
		t_dump "baresip play" "$T_DIR/play/baresip.log" 30
		t_fail "play: the call did not end from irisx's side before baresip quit"
	fi
fi

irisx_alive "after the baresip calls" && irisx_stop
t_end
