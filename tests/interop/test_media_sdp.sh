#!/usr/bin/env bash
# SDP offer/answer (RFC 3264) and what it does to the media, with SIPp for the
# signalling and rtp_peer.py as the caller's RTP endpoint:
#   pcma      an offer of PCMA alone -> the answer is PCMA, and the prompt
#             arrives A-law encoded (payload type 8) and intact;
#   gsm       an offer of GSM alone -> 488 Not Acceptable Here, ACKed;
#   late      an INVITE without SDP -> irisx offers in its 200 (PCMU among
#             its codecs), we answer in the ACK, and the prompt flows to us;
#   hold      re-INVITE a=sendonly -> 200 with a=recvonly and irisx's packets
#             stop; a=sendrecv -> they resume; the same with c=0.0.0.0; RTCP
#             came from irisx's RTP port + 1 to ours + 1 during the call;
#   symmetric irisx first sends to the address in the offer, then, once our
#             packets arrive from another port, to that port (RFC 4961);
#   timeout   with rtp-timeout-sec=3 and our RTP stopped, irisx hangs up
#             with Reason: Q.850;cause=804;text="MEDIA_TIMEOUT" within 3 + 2 s.
# One irisx takes all the calls, at the same time, so the test stays short:
# its profiles have rtp-timeout-sec=3, and every call but the timeout one
# keeps sending RTP, so only that one may time out.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
welcome=$(media_prompt welcome.wav)
irisx_conf_edit()
{
	media_conf_profile_param "$1" internal rtp-timeout-sec 3 &&
		media_conf_profile_param "$1" external rtp-timeout-sec 3
}
irisx_start
ext=127.0.0.1:$IRISX_EXT_PORT
int=127.0.0.1:$IRISX_INT_PORT

# Times are wall-clock seconds (SIPp's trace, rtp_peer's recording).
plus()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a + b }'
}

sdp_has()
{
	tr -d '\r' <<<"$1" | grep -qiE "$2"
}

# --- GSM only: nothing in common ---------------------------------------------------
sipp_run gsm media_offer_488.xml "$ext" -s 5550002 -set peer_port 20000 -set offer 3
trace_match gsm '^>INVITE/INVITE (<100/INVITE )?<488/INVITE >ACK/ACK$'

# --- the other calls, all at once ------------------------------------------------------
declare -A sipp_pid=()
call()
{
	local name=$1
	shift
	sipp_start "$name" "$@"
	sipp_pid[$name]=$SIPP_PID
}
# PCMA alone.
rtp_peer_start pcma --pt 8
call pcma media_call_in_bye.xml "$ext" -s 5550001 -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set offer "8 101" -set remote_file "$T_DIR/pcma.remote"
# Late offer.
rtp_peer_start late
call late media_late_offer.xml "$ext" -s 5550003 -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set remote_file "$T_DIR/late.remote"
# Hold and resume: 9198 plays a tone as long as the call lasts; 1.5 s
# between steps.
rtp_peer_start hold
call hold media_hold.xml "$int" -s 9198 -d 1500 -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set remote_file "$T_DIR/hold.remote"
# Symmetric RTP: the offer names peer A; peer B sends from another port,
# starting 1 s after the 200. irisx must then turn to B.
rtp_peer_start symA --no-send
port_a=$RTP_PEER_PORT
rtp_peer_start symB --remote-file "$T_DIR/symA.remote" --send-delay 1.0
call sym media_call_out_bye.xml "$int" -s 9198 -d 3000 -timeout 30s \
	-set peer_port "$port_a" -set offer "0 8 101" -set remote_file "$T_DIR/symA.remote"
# Media timeout: our peer sends for 1 s, then stops.
rtp_peer_start mto --send-for 1
call mto media_call_in_bye.xml "$int" -s 9198 -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set offer "0 8 101" -set remote_file "$T_DIR/mto.remote"

for name in pcma late hold sym mto; do
	SIPP_PID=${sipp_pid[$name]}
	sipp_wait "$name"
done
for name in pcma late hold symA symB mto; do
	rtp_peer_stop "$name"
done
irisx_alive "after the calls" && irisx_stop

# --- PCMA alone ---------------------------------------------------------------
if trace_match pcma '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$'; then
	answer=$(trace_body pcma "<200/INVITE")
	mline=$(sdp_media_line "$answer")
	if [[ $mline =~ ^m=audio\ [0-9]+\ RTP/AVP\ 8(\ 101)?$ ]]; then
		t_ok "pcma: answer $mline"
	else
		t_fail "pcma: expected 'm=audio PORT RTP/AVP 8 [101]' in the answer, got '$mline'"
	fi
	sdp_has "$answer" '^a=rtpmap:0 ' && t_fail "pcma: the answer has PCMU, which was not offered"
	media_check_answer_port "pcma" "$answer"
	rtp_peer_analyze pcma --from "$(trace_when pcma "<200/INVITE")" \
		--to "$(trace_when pcma "<BYE/BYE")" --ref "$welcome"
	media_expect_is "pcma" pts 8 "PCMA only"
	media_between "pcma" rate 49.5 50.5
	media_expect "pcma" corr ">" 0.9
	media_check_reason "pcma" pcma 16 NORMAL_CLEARING
fi

# --- late offer ---------------------------------------------------------------
if trace_match late '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$'; then
	offer=$(trace_body late "<200/INVITE")
	mline=$(sdp_media_line "$offer")
	if [[ $mline =~ ^m=audio\ [0-9]+\ RTP/AVP\ 0(\ [0-9]+)*$ ]]; then
		t_ok "late: irisx's offer $mline (PCMU first)"
	else
		t_fail "late: expected irisx's offer to list PCMU (0) first, got '$mline'"
	fi
	sdp_has "$offer" '^a=rtpmap:[0-9]+ telephone-event/8000' ||
		t_fail "late: irisx's offer has no telephone-event"
	media_check_answer_port "late" "$offer"
	rtp_peer_analyze late --from "$(trace_when late ">ACK/ACK")" \
		--to "$(trace_when late "<BYE/BYE")" --ref "$welcome"
	media_expect_is "late" pts 0 "PCMU, as the ACK's answer said"
	media_between "late" rate 49.5 50.5
	media_expect "late" corr ">" 0.9
fi

# --- hold and resume -------------------------------------------------------
reinv='>INVITE/INVITE (<100/INVITE )?<200/INVITE >ACK/ACK'
if trace_match hold "^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK( $reinv){4} >BYE/BYE <200/BYE$"; then
	a2=$(trace_body hold "<200/INVITE" 2)
	if sdp_has "$a2" '^a=recvonly'; then
		t_ok "hold: the answer to a=sendonly is a=recvonly"
	else
		t_fail "hold: the answer to a=sendonly has no a=recvonly"
		t_log "$(tr -d '\r' <<<"$a2")"
	fi
	for n in 3 5; do
		a=$(trace_body hold "<200/INVITE" "$n")
		if sdp_has "$a" '^a=(sendonly|recvonly|inactive)'; then
			t_fail "hold: the answer to re-INVITE $n (a=sendrecv) is not sendrecv"
		fi
	done
	# RTCP (RFC 3550 §6.2: every 5 s or so, the first sooner) from the
	# port above irisx's RTP port to the one above ours.
	rtp_peer_analyze hold
	a1=$(trace_body hold "<200/INVITE" 1)
	rtcp_from=127.0.0.1:$(($(sdp_media_line "$a1" | awk '{ print $2 }') + 1))
	media_expect "hold: RTCP" rtcp_packets ">=" 1
	media_expect_is "hold: RTCP" rtcp_sources "$rtcp_from" "the answer's RTP port + 1"
	t_ack=$(trace_when hold ">ACK/ACK" 1)
	for step in "1 sendrecv" "2 held by a=sendonly" "3 resumed" "4 held by c=0.0.0.0" "5 resumed"; do
		read -r n what <<<"$step"
		# From the 200 that changed the direction (or the first ACK) to
		# the next re-INVITE (or our BYE); the first 100/200 ms are
		# left out: packets already in flight, irisx's next tick.
		if [ "$n" = 1 ]; then from=$(plus "$t_ack" 0.1); else
			from=$(plus "$(trace_when hold "<200/INVITE" "$n")" 0.2); fi
		if [ "$n" = 5 ]; then to=$(trace_when hold ">BYE/BYE"); else
			to=$(trace_when hold ">INVITE/INVITE" $((n + 1))); fi
		rtp_peer_analyze hold --from "$from" --to "$to"
		case $what in
		held*)
			media_expect "hold ($what)" packets "==" 0
			;;
		*)
			media_expect "hold ($what)" packets ">=" 40
			media_between "hold ($what)" rate 49 51
			media_expect "hold ($what): the tone" rms_dbfs ">" -40
			;;
		esac
	done
fi

# --- symmetric RTP ---------------------------------------------------------
if trace_match sym '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK >BYE/BYE <200/BYE$'; then
	rtp_peer_analyze symB
	b_first=${R[sent_first]:-}
	t_bye=$(trace_when sym ">BYE/BYE")
	if [ -z "$b_first" ]; then
		t_fail "symmetric: peer B never sent (did the 200 carry an address?)"
	else
		rtp_peer_analyze symA --to "$b_first"
		media_expect "symmetric: to the offer's address before our RTP" packets ">=" 30
		rtp_peer_analyze symA --from "$(plus "$b_first" 0.3)"
		media_expect "symmetric: to the offer's address once our RTP came from elsewhere" \
			packets "==" 0
		rtp_peer_analyze symB --from "$(plus "$b_first" 0.3)" --to "$t_bye"
		media_expect "symmetric: to our RTP's source port" packets ">=" 65
		media_between "symmetric: to our RTP's source port" rate 49 51
	fi
fi


# --- media timeout ---------------------------------------------------------
if trace_match mto '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$'; then
	media_check_reason "timeout" mto 804 MEDIA_TIMEOUT
	rtp_peer_analyze mto
	last=${R[sent_last]:-}
	if [ -n "$last" ]; then
		media_set bye_after_last_rtp_s "$(awk -v a="$last" -v b="$(trace_when mto "<BYE/BYE")" \
			'BEGIN { printf "%.3f", b - a }')"
		media_between "timeout" bye_after_last_rtp_s 2.9 5.0
	else
		t_fail "timeout: our peer sent nothing"
	fi
fi
t_end
