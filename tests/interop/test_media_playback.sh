#!/usr/bin/env bash
# A call to the external profile's context `public`: irisx answers, waits a
# second, plays welcome.wav and hangs up. SIPp does the signalling; the
# offer's media address is rtp_peer.py, which sends silence and records what
# arrives. Checks: INVITE -> 100 -> 200 (PCMU first in the answer, an even
# RTP port from the configured range) -> ACK; RTP from the port irisx
# announced, one packet each 20 ms (RFC 3551 §4.5.14) with continuous
# sequence numbers and timestamps (RFC 3550 §5.1); silence before the
# prompt; the prompt's audio, decoded, correlates with welcome.wav; then
# irisx's BYE with Reason: Q.850;cause=16;text="NORMAL_CLEARING" (RFC 3326)
# soon after the prompt ends, which SIPp answers 200.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
welcome=$(media_prompt welcome.wav)
irisx_start

rtp_peer_start play
sipp_run play media_call_in_bye.xml "127.0.0.1:$IRISX_EXT_PORT" -s 5551234 -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set offer "0 8 101" -set remote_file "$T_DIR/play.remote"
rtp_peer_stop play || t_die "no recording of the call's audio"

trace_match play '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$' ||
	t_die "the call did not go as expected; no point looking at its media"

# The answer: PCMU preferred (the offer has it), telephone-event kept.
answer=$(trace_body play "<200/INVITE")
mline=$(sdp_media_line "$answer")
if [[ $mline =~ ^m=audio\ [0-9]+\ RTP/AVP\ 0(\ |$) ]]; then
	t_ok "answer: $mline"
else
	t_fail "answer: expected PCMU (0) first on the m= line, got '$mline'"
fi
grep -qiE '^a=rtpmap:101 telephone-event/8000' <<<"$(tr -d '\r' <<<"$answer")" ||
	t_fail "answer: telephone-event (101) from the offer is missing"
media_check_answer_port "answer" "$answer"
irisx_media=$(sed -n 's/^c=IN IP4 \([0-9.]*\).*/\1/p' <<<"$(tr -d '\r' <<<"$answer")" | head -n 1)
irisx_media=$irisx_media:$(awk '{ print $2 }' <<<"$mline")

t_answer=$(trace_when play "<200/INVITE")
t_bye=$(trace_when play "<BYE/BYE")

# The whole call, from the 200 to the BYE.
rtp_peer_analyze play --from "$t_answer" --to "$t_bye" --ref "$welcome"
media_expect "call" packets ">=" "$(awk -v a="$t_answer" -v b="$t_bye" \
	'BEGIN { printf "%d", (b - a - 0.3) * 50 * 0.98 }')"
media_between "call" rate 49.5 50.5
media_expect_is "call" sources "$irisx_media" "the address and port of the answer"
media_expect_is "call" pts 0 "PCMU only"
media_expect_is "call" sizes 160 "20 ms of PCMU"
media_expect "call" ssrcs "==" 1
media_expect "call" seq_errors "==" 0
media_expect "call" ts_errors "==" 0
# Pacing is measured by `make bench` on a quiet machine: here, with other tests
# sharing the two cores, only report it.
t_log "call: inter-packet gap deviation p99 ${R[gap_dev_p99_ms]:-?} ms"
media_expect "call" corr ">" 0.9
ref_at=${R[ref_at]:-0} ref_s=${R[ref_s]:-0}
t_log "prompt found $(awk -v a="$t_answer" -v r="$ref_at" 'BEGIN { printf "%.3f", r - a }') s" \
	"after the 200 (correlation ${R[corr]:-?}, audible part ${ref_s} s)"

# The prompt starts after the second of sleep, and the BYE follows its end.
media_set prompt_delay_s "$(awk -v a="$t_answer" -v r="$ref_at" 'BEGIN { printf "%.3f", r - a }')"
media_set bye_after_prompt_s "$(awk -v r="$ref_at" -v l="$ref_s" -v b="$t_bye" \
	'BEGIN { printf "%.3f", b - (r + l) }')"
media_between "timing" prompt_delay_s 0.9 2.5
media_between "timing" bye_after_prompt_s -0.1 1.5

# During the prompt: 50 packets a second (±1%).
rtp_peer_analyze play --from "$ref_at" --to "$(awk -v r="$ref_at" -v l="$ref_s" \
	'BEGIN { printf "%.6f", r + l }')"
media_between "prompt" rate 49.5 50.5
# Before it: packets of silence.
rtp_peer_analyze play --from "$(awk -v a="$t_answer" 'BEGIN { printf "%.6f", a + 0.1 }')" \
	--to "$(awk -v r="$ref_at" 'BEGIN { printf "%.6f", r - 0.15 }')"
media_expect "before the prompt" packets ">=" 25
media_between "before the prompt" rate 49 51
media_expect "before the prompt" rms_dbfs "<" -50

media_check_reason "hangup" play 16 NORMAL_CLEARING

irisx_alive "after the call" && irisx_stop
t_end
