#!/usr/bin/env bash
# The `default` context's 9195: irisx answers, speaks the caller's number with
# espeak-ng (`speak` application, ${caller_id_number} expanded) and hangs up.
# SIPp calls as "sipp"; rtp_peer.py records what arrives.
# Checks: the call goes INVITE -> 200 -> ACK -> irisx's BYE with cause 16;
# RTP at 50 packets/s; the speech is audible (level well above silence) and
# lasts about as long as "You are calling from sipp." takes to say.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
irisx_start

rtp_peer_start say
sipp_run say media_call_in_bye.xml "127.0.0.1:$IRISX_INT_PORT" -s 9195 -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/say.remote"
rtp_peer_stop say || t_die "no recording of the call's audio"

trace_match say '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$' ||
	t_die "the call did not go as expected"
media_check_reason "bye" say 16 NORMAL_CLEARING

t_answer=$(trace_when say "<200/INVITE")
t_bye=$(trace_when say "<BYE/BYE")
media_set call_s "$(awk -v a="$t_answer" -v b="$t_bye" 'BEGIN { printf "%.3f", b - a }')"
# half a second of sleep, then the sentence (a second and a half or so)
media_between "call" call_s 1.5 10

rtp_peer_analyze say --from "$(awk -v a="$t_answer" 'BEGIN { printf "%.6f", a + 0.7 }')" \
	--to "$t_bye"
media_between "speech" rate 49 51
media_expect "speech" rms_dbfs ">" -40
media_expect_is "speech" pts 0 "PCMU"

irisx_alive "after the call" && irisx_stop
t_end
