#!/usr/bin/env bash
# DTMF in its three forms reaching play_and_get_digits, and the dialplan
# branching on the entry. A caller (SIPp for the signalling, rtp_peer.py for
# the media) dials 7001 in context public, where irisx answers and runs
#   play_and_get_digits 4 4 2 4000 # silence_stream://3000 silence_stream://200 collected ^\d+$
#   transfer got_${collected} XML public
# and got_1234 sets branch=matched, plays a tone and hangs up. The digits
# "1234#" come
#  - as RFC 4733 telephone-events (rtp_peer --dtmf, PT 101) while the 3 s
#    prompt still plays: barge-in stops it (PLAYBACK_STOP "break");
#  - as SIP INFO (dtmf_info.xml: application/dtmf-relay, application/dtmf,
#    Signal=11 for #, and a malformed body answered 400 and ignored);
#  - as tones in the audio (rtp_peer --dtmf-mode inband) to 7002, which runs
#    start_dtmf first (spandsp's detector); without it (7003: the same
#    without start_dtmf) nothing is detected and the entry times out.
# An Event Socket client records the events: DTMF with DTMF-Digit and
# DTMF-Source (RTP, ENDPOINT, INBAND_AUDIO), and CHANNEL_HANGUP_COMPLETE
# with variable_collected=1234 and variable_branch=matched.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin

irisx_conf_edit()
{
	esl_conf "$1" || return 1
	cat >"$1/dialplan/public/00_dtmf.xml" <<'XML'
<include>
  <extension name="digits">
    <condition field="destination_number" expression="^700([123])$">
      <action application="answer"/>
      <action application="set" data="entry_kind=$1"/>
    </condition>
    <condition field="destination_number" expression="^7002$" break="never">
      <action application="start_dtmf"/>
    </condition>
    <condition field="destination_number" expression="^700[123]$">
      <action application="play_and_get_digits"
              data="4 4 2 4000 # silence_stream://3000 silence_stream://200 collected ^\d+$"/>
      <action application="transfer" data="got_${collected} XML public"/>
    </condition>
  </extension>
  <extension name="got">
    <condition field="destination_number" expression="^got_1234$">
      <action application="set" data="branch=matched"/>
      <action application="playback" data="tone_stream://%(300,0,440)"/>
      <action application="hangup"/>
    </condition>
  </extension>
  <extension name="nothing">
    <condition field="destination_number" expression="^got_$">
      <action application="set" data="branch=empty"/>
      <action application="hangup"/>
    </condition>
  </extension>
</include>
XML
}

irisx_start
esl_wait_listen || t_die "the Event Socket does not answer"
esl_watch_start ev

# call NAME NUMBER SCENARIO [rtp_peer options...]
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

# check_call NAME NUMBER SOURCE: the call's DTMF events and its outcome.
check_call()
{
	local name=$1 num=$2 src=$3 uuid digits
	uuid=$(esl_find ev --name CHANNEL_CREATE --where "Caller-Destination-Number=$num" \
		--get Unique-ID | tail -n 1)
	[ -n "$uuid" ] || { t_fail "$name: no CHANNEL_CREATE for $num"; return 1; }
	digits=$(esl_find ev --name DTMF --where "Unique-ID=$uuid" --where "DTMF-Source=$src" \
		--get DTMF-Digit | tr -d '\n')
	if [ "$digits" = "1234#" ]; then
		t_ok "$name: DTMF events 1234# with DTMF-Source $src"
	else
		t_fail "$name: DTMF events '$digits' from $src, expected 1234#"
	fi
	local c
	c=$(esl_find ev --name CHANNEL_HANGUP_COMPLETE --where "Unique-ID=$uuid" \
		--where variable_collected=1234 --where variable_branch=matched --count)
	if [ "$c" = 1 ]; then
		t_ok "$name: collected=1234 and the dialplan branched on it"
	else
		t_fail "$name: the hangup does not show collected=1234 / branch=matched"
		esl_find ev --name CHANNEL_HANGUP_COMPLETE --where "Unique-ID=$uuid" \
			--get variable_collected >&2
	fi
}

call rtp 7001 media_call_in_bye.xml --dtmf 1.0:1234#
sleep 0.5
check_call rtp 7001 RTP
uuid=$(esl_find ev --name CHANNEL_CREATE --where Caller-Destination-Number=7001 --get Unique-ID |
	tail -n 1)
if [ "$(esl_find ev --name PLAYBACK_STOP --where "Unique-ID=$uuid" \
	--where Playback-File-Path=silence_stream://3000 --get Playback-Status | head -n 1)" = break ]; then
	t_ok "rtp: the first digit stopped the prompt (PLAYBACK_STOP break)"
else
	t_fail "rtp: the prompt was not stopped by the digits"
fi

call info 7001 dtmf_info.xml
sleep 0.5
check_call info 7001 ENDPOINT

call inband 7002 media_call_in_bye.xml --dtmf 1.0:1234# --dtmf-mode inband
sleep 0.5
check_call inband 7002 INBAND_AUDIO

# The same tones without start_dtmf: detection is never on by default.
call nodetect 7003 media_call_in_bye.xml --dtmf 1.0:1234# --dtmf-mode inband
sleep 0.5
uuid=$(esl_find ev --name CHANNEL_CREATE --where Caller-Destination-Number=7003 --get Unique-ID |
	tail -n 1)
n=$(esl_find ev --name DTMF --where "Unique-ID=$uuid" --count)
c=$(esl_find ev --name CHANNEL_HANGUP_COMPLETE --where "Unique-ID=$uuid" \
	--where variable_branch=empty --count)
if [ "$n" = 0 ] && [ "$c" = 1 ]; then
	t_ok "nodetect: no DTMF from tones without start_dtmf; the entry timed out (branch=empty)"
else
	t_fail "nodetect: $n DTMF events, branch=empty seen $c times (expected 0 and 1)"
fi

esl_watch_stop ev
irisx_alive "after the calls" && irisx_stop
t_end
