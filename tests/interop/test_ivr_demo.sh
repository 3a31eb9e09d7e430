#!/usr/bin/env bash
# The demo IVR menu the default configuration ships (autoload_configs/
# ivr.conf.xml, extension 5000 of the internal profile), driven with RFC 4733
# digits from rtp_peer.py:
#  - "7" while the long greeting plays: barge-in stops it, no entry has 7:
#    the invalid sound plays, then the short greeting;
#  - "2": a 440 Hz tone plays (its audio, decoded, correlates with a 440 Hz
#    reference), then the short greeting again;
#  - "9": the menu hangs up: irisx sends BYE with NORMAL_CLEARING.
# An Event Socket client checks the order of what ran (CHANNEL_EXECUTE of
# playback tone_stream… then hangup) and the PLAYBACK_STOP of the greeting
# with Playback-Status break.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin

irisx_conf_edit()
{
	esl_conf "$1"
}

irisx_start
esl_wait_listen || t_die "the Event Socket does not answer"
esl_watch_start ev

tone_ref=$T_DIR/tone440.wav
python3 "$T_RTP_PEER" tone "$tone_ref" --freq 440 --seconds 1.5 ||
	t_die "cannot make the reference tone"

# After the 200: 0.5 s sleep, then the long greeting (about 8 s); 7 at 2 s
# stops it; the invalid sound and the short greeting take about 3 s; 2 at
# 6 s plays 2 s of tone; 9 at 10 s, after it, ends the call.
rtp_peer_start ivr --dtmf 2.0:7 --dtmf 6.0:2 --dtmf 10.0:9
sipp_run ivr media_call_in_bye.xml "127.0.0.1:$IRISX_INT_PORT" -s 5000 -timeout 40s \
	-set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/ivr.remote"
rtp_peer_stop ivr || t_die "no recording of the call's audio"
sleep 0.5
esl_watch_stop ev

trace_match ivr '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$' ||
	t_fail "the call did not end with irisx's BYE"
media_check_reason "hangup" ivr 16 NORMAL_CLEARING

uuid=$(esl_find ev --name CHANNEL_CREATE --where Caller-Destination-Number=5000 --get Unique-ID |
	head -n 1)
[ -n "$uuid" ] || t_die "no CHANNEL_CREATE for 5000"
digits=$(esl_find ev --name DTMF --where "Unique-ID=$uuid" --get DTMF-Digit | tr -d '\n')
if [ "$digits" = 729 ]; then
	t_ok "DTMF events 7 2 9"
else
	t_fail "DTMF events '$digits', expected 729"
fi
apps=$(esl_find ev --name CHANNEL_EXECUTE --where "Unique-ID=$uuid" --get Application |
	tr '\n' ' ')
if [[ $apps == *"ivr playback hangup"* ]]; then
	t_ok "executed: $apps"
else
	t_fail "executed '$apps', expected ivr, then playback (the tone) and hangup from the menu"
fi
files=$(esl_find ev --name PLAYBACK_START --where "Unique-ID=$uuid" --get Playback-File-Path |
	sed 's|.*/sounds/||' | tr '\n' ' ')
if [[ $files =~ ivr/demo_long\.wav\ ivr/invalid\.wav\ ivr/demo_short\.wav\ tone_stream://%\(2000,0,440\)\ ivr/demo_short\.wav ]]; then
	t_ok "prompts in order: $files"
else
	t_fail "prompts played: '$files'"
fi
st=$(esl_find ev --name PLAYBACK_STOP --where "Unique-ID=$uuid" --get Playback-Status | head -n 1)
if [ "$st" = break ]; then
	t_ok "the digit stopped the long greeting (Playback-Status break)"
else
	t_fail "the long greeting ended with '$st', expected break"
fi

# The tone was heard: find it in the received audio.
t0=$(esl_find ev --name PLAYBACK_START --where "Unique-ID=$uuid" \
	--where "Playback-File-Path=tone_stream://%(2000,0,440)" --get Event-Date-Timestamp | head -n 1)
if [ -n "$t0" ]; then
	from=$(awk -v t="$t0" 'BEGIN { printf "%.6f", t / 1e6 }')
	to=$(awk -v t="$t0" 'BEGIN { printf "%.6f", t / 1e6 + 2.2 }')
	rtp_peer_analyze ivr --from "$from" --to "$to" --pt 0 --ref "$tone_ref"
	media_expect "tone" corr ">" 0.9
else
	t_fail "no PLAYBACK_START of the tone"
fi

irisx_alive "after the call" && irisx_stop
t_end
