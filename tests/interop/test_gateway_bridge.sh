#!/usr/bin/env bash
# Trunk calls through a gateway, SIPp playing the carrier on both sides.
#
#  1. Carrier in (SIPp UAC, media at rtp_peer "ain") calls the external
#     profile; the dialplan bridges it to sofia/gateway/carrier/<number>. The
#     carrier's termination side (SIPp UAS, media at rtp_peer "bout")
#     challenges the INVITE with 407; irisx answers with digest credentials
#     (checked here: RFC 7616 MD5, qop=auth), then B rings and answers. Each
#     side sends speech: what one sends must reach the other through irisx.
#     The carrier's UAS hangs up: its BYE ends B, and irisx's BYE ends A.
#  2. The same call, ended by the caller: A's BYE ends B. This carrier
#     challenges the BYE too (407 with the INVITE's nonce): irisx sends it
#     again with CSeq + 1 and Proxy-Authorization for BYE, nonce count 2.
#  3. originate to the gateway with a caller ID: From (caller-id-in-from, as
#     a Twilio trunk wants) and P-Asserted-Identity carry it; +OK <uuid>.
#  4. Failures: 486 → USER_BUSY, 404 → UNALLOCATED_NUMBER, 480 →
#     NO_USER_RESPONSE, 503 → NORMAL_TEMPORARY_FAILURE, no answer within
#     originate_timeout → NO_ANSWER (the carrier sees CANCEL).
#  5. 183 with SDP from the carrier: the caller hears B's early media before
#     the answer; CHANNEL_PROGRESS_MEDIA on B.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
esl_require "$T_LIB_DIR/esl"

command -v espeak-ng >/dev/null || t_die "espeak-ng is not installed (scripts/install-deps.sh)"
espeak-ng -w "$T_DIR/a22.wav" "One two three four five. The quick brown fox jumps over the lazy dog." &&
	python3 "$T_RTP_PEER" resample "$T_DIR/a22.wav" "$T_DIR/a.wav" --rate 8000 ||
	t_die "cannot make the caller's sentence"
espeak-ng -v en-us+f3 -w "$T_DIR/b22.wav" "Six seven eight nine ten. A journey of a thousand miles begins with a single step." &&
	python3 "$T_RTP_PEER" resample "$T_DIR/b22.wav" "$T_DIR/b.wav" --rate 8000 ||
	t_die "cannot make the callee's sentence"

CARRIER_PORT=$(ports_pick 127.0.0.1 1) || t_die "no free port for the carrier"

irisx_conf_edit()
{
	esl_conf "$1" || return 1
	cat >"$1/sip_profiles/external/carrier.xml" <<EOF
<gateway name="carrier">
  <param name="proxy" value="127.0.0.1:$CARRIER_PORT"/>
  <param name="realm" value="carrier.test"/>
  <param name="username" value="alice"/>
  <param name="password" value="s3cret-pw"/>
  <param name="from-domain" value="irisx.test"/>
  <param name="register" value="false"/>
  <param name="caller-id-in-from" value="true"/>
</gateway>
EOF
	media_conf_extension "$1" public '<extension name="to_carrier">
  <condition field="destination_number" expression="^(1555\d+)$">
    <action application="bridge" data="sofia/gateway/carrier/$1"/>
  </condition>
</extension>'
}
irisx_start
esl_wait_listen || t_die "the Event Socket does not answer"
esl_watch_start ev

# digest_check NAME N [NC]: message N of SIPp run NAME carries
# Proxy-Authorization answering the scenario's challenge for alice / s3cret-pw
# for its method and Request-URI (with nonce count NC when given).
digest_check()
{
	local name=$1 n=$2 nc=${3:-} pa ruri
	pa=$(trace_header "$name" "$n" Proxy-Authorization) ||
		{ t_fail "$name: message $n has no Proxy-Authorization"; return 1; }
	ruri=$(python3 - "$T_DIR/$name.msg" "$n" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
blocks = [b for b in re.split(r"^-{20,} [^\n]*\n", text, flags=re.M)
          if re.match(r"(UDP|TCP) message (sent|received)", b)]
msg = re.split(r"\n\n", blocks[int(sys.argv[2]) - 1], maxsplit=1)[1]
print(msg.split()[0], msg.split()[1])
PY
)
	if python3 - "$pa" "$ruri" "$nc" <<'PY'; then
import hashlib, re, sys
pa, (method, ruri), nc = sys.argv[1], sys.argv[2].split(" ", 1), sys.argv[3]
if not pa.lower().startswith("digest "):
    sys.exit("not Digest: " + pa)
f = dict((m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3))
         for m in re.finditer(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', pa[7:]))
def h(s):
    return hashlib.md5(s.encode()).hexdigest()
want = {"username": "alice", "realm": "carrier.test", "qop": "auth", "uri": ruri}
for k, v in want.items():
    if f.get(k) != v:
        sys.exit("%s=%r, expected %r" % (k, f.get(k), v))
if not re.fullmatch(r"[0-9a-f]{8}", f.get("nc", "")) or not f.get("cnonce"):
    sys.exit("nc/cnonce missing or malformed: %r %r" % (f.get("nc"), f.get("cnonce")))
if nc and f["nc"] != nc:
    sys.exit("nc=%s, expected %s" % (f["nc"], nc))
ha1 = h("alice:carrier.test:s3cret-pw")
ha2 = h(method + ":" + f["uri"])
resp = h(":".join([ha1, f["nonce"], f["nc"], f["cnonce"], "auth", ha2]))
if f.get("response") != resp:
    sys.exit("response %s, expected %s" % (f.get("response"), resp))
PY
		t_ok "$name: Proxy-Authorization answers the challenge (MD5, qop=auth)"
	else
		t_fail "$name: wrong Proxy-Authorization: $pa"
	fi
}

# bridged_call NAME CARRIER_SCENARIO CALLER_SCENARIO NUMBER [CALLER SIPP ARGS...]
bridged_call()
{
	local name=$1 uas=$2 uac=$3 number=$4 pid_uas
	shift 4
	rtp_peer_start "$name-b" --send-wav "$T_DIR/b.wav"
	sipp_start "$name-b" "$uas" 127.0.0.1 -p "$CARRIER_PORT" -d 4000 \
		-set peer_port "$(cat "$T_DIR/$name-b.port")" -set remote_file "$T_DIR/$name-b.remote"
	pid_uas=$SIPP_PID
	rtp_peer_start "$name-a" --send-wav "$T_DIR/a.wav"
	sipp_run "$name-a" "$uac" "127.0.0.1:$IRISX_EXT_PORT" -s "$number" \
		-set peer_port "$(cat "$T_DIR/$name-a.port")" -set offer "0 101" \
		-set remote_file "$T_DIR/$name-a.remote" "$@"
	SIPP_PID=$pid_uas
	sipp_wait "$name-b"
	rtp_peer_stop "$name-a"
	rtp_peer_stop "$name-b"
}

# audio_check NAME FROM_EVENT TO_EVENT: between the ACKs and the BYE, each
# RTP peer received the other's sentence.
audio_check()
{
	local name=$1 t0 t1
	t0=$(trace_when "$name-b" "<ACK/ACK") || return 1
	t1=$(trace_when "$name-a" "$2") || return 1
	rtp_peer_analyze "$name-a" --from "$t0" --to "$t1" --ref "$T_DIR/b.wav" --ref-from 0.3 --ref-len 2
	media_expect "$name: callee's speech at the caller" corr ">" 0.85
	media_expect_is "$name: caller's packets" pts 0 "PCMU"
	media_expect "$name: caller's packets" seq_errors "==" 0
	rtp_peer_analyze "$name-b" --from "$t0" --to "$t1" --ref "$T_DIR/a.wav" --ref-from 0.3 --ref-len 2
	media_expect "$name: caller's speech at the callee" corr ">" 0.85
	media_expect "$name: callee's packets" seq_errors "==" 0
}

# ---- 1. the carrier's side hangs up -----------------------------------------
bridged_call out carrier_uas_auth_bye.xml media_call_in_bye.xml 15551230001
trace_match out-b '^<INVITE/INVITE >407/INVITE <ACK/ACK <INVITE/INVITE >180/INVITE >200/INVITE <ACK/ACK >BYE/BYE <200/BYE$'
digest_check out-b "$(trace_index out-b "<INVITE/INVITE" 2)"
trace_match out-a '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$'
audio_check out "<BYE/BYE"
media_check_reason "out: caller's BYE" out-a 16 NORMAL_CLEARING

# ---- 2. the caller hangs up ------------------------------------------------
bridged_call in carrier_uas_bye_auth.xml media_call_out_bye.xml 15551230002 -d 4000
trace_match in-a '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK >BYE/BYE <200/BYE$'
trace_match in-b '^<INVITE/INVITE >407/INVITE <ACK/ACK <INVITE/INVITE >180/INVITE >200/INVITE <ACK/ACK <BYE/BYE >407/BYE <BYE/BYE >200/BYE$'
audio_check in ">BYE/BYE"
# §22.2: the challenged BYE again, in the same dialog with the next CSeq.
b1=$(trace_index in-b "<BYE/BYE" 1) && b2=$(trace_index in-b "<BYE/BYE" 2) || b1=
if [ -n "$b1" ]; then
	digest_check in-b "$b2" 00000002
	c1=$(trace_header in-b "$b1" CSeq) c2=$(trace_header in-b "$b2" CSeq)
	[ "${c2%% *}" = "$((${c1%% *} + 1))" ] && [ "${c2#* }" = BYE ] &&
		t_ok "in: the second BYE has CSeq $c2 after $c1" ||
		t_fail "in: BYE CSeq '$c1' then '$c2'"
	for h in Call-ID From To; do
		[ "$(trace_header in-b "$b1" "$h")" = "$(trace_header in-b "$b2" "$h")" ] &&
			t_ok "in: the second BYE keeps $h" || t_fail "in: the second BYE changed $h"
	done
else
	t_fail "in: the carrier did not see two BYEs"
fi

# The two legs of call 1, in events: B answered, bridged, both ended NORMAL_CLEARING.
sleep 0.5
n=$(esl_find ev --name CHANNEL_BRIDGE --count)
[ "$n" -ge 2 ] && t_ok "CHANNEL_BRIDGE fired for both calls" || t_fail "CHANNEL_BRIDGE: $n events"
for num in 15551230001 15551230002; do
	for dir in inbound outbound; do
		c=$(esl_find ev --name CHANNEL_HANGUP_COMPLETE --where "Caller-Destination-Number=$num" \
			--where "Call-Direction=$dir" --get Hangup-Cause)
		[ "$c" = NORMAL_CLEARING ] && t_ok "$num $dir leg: NORMAL_CLEARING" ||
			t_fail "$num $dir leg: hangup cause '$c', expected NORMAL_CLEARING"
	done
done

# ---- 3. originate with a caller ID -------------------------------------------
rtp_peer_start orig-b --send-wav "$T_DIR/b.wav"
sipp_start orig-b carrier_uas_auth_bye.xml 127.0.0.1 -p "$CARRIER_PORT" -d 1000 \
	-set peer_port "$(cat "$T_DIR/orig-b.port")" -set remote_file "$T_DIR/orig-b.remote"
reply=$(esl_api "originate {origination_caller_id_number=+15550001111,origination_caller_id_name='Alice Example'}sofia/gateway/carrier/15551239999 &echo()")
if [[ $reply =~ ^\+OK\ ([0-9a-f-]{36}) ]]; then
	t_ok "originate: $reply"
else
	t_fail "originate: '$reply', expected +OK <uuid>"
fi
sipp_wait orig-b
rtp_peer_stop orig-b
n=$(trace_index orig-b "<INVITE/INVITE" 2)
from=$(trace_header orig-b "$n" From)
pai=$(trace_header orig-b "$n" P-Asserted-Identity)
[[ $from == *'"Alice Example"'* && $from == *'sip:+15550001111@irisx.test'* ]] &&
	t_ok "originate: From: $from" || t_fail "originate: From: '$from'"
[[ $pai == *'+15550001111'* ]] && t_ok "originate: P-Asserted-Identity: $pai" ||
	t_fail "originate: P-Asserted-Identity: '$pai'"
digest_check orig-b "$n"

# ---- 4. failures and their causes --------------------------------------------
for st in 486:USER_BUSY 404:UNALLOCATED_NUMBER 480:NO_USER_RESPONSE 503:NORMAL_TEMPORARY_FAILURE; do
	code=${st%%:*} cause=${st#*:}
	sed "s|SIP/2.0 486 Busy Here|SIP/2.0 $code Refused|" "$T_SCEN_DIR/carrier_uas_status.xml" \
		>"$T_DIR/carrier_uas_$code.xml"
	T_SCEN_DIR=$T_DIR sipp_start "st$code" "carrier_uas_$code.xml" 127.0.0.1 -p "$CARRIER_PORT"
	reply=$(esl_api "originate sofia/gateway/carrier/1555000$code &echo()")
	[ "$reply" = "-ERR $cause" ] && t_ok "$code: $reply" || t_fail "$code: '$reply', expected -ERR $cause"
	sipp_wait "st$code"
done

sipp_start noans carrier_uas_ring.xml 127.0.0.1 -p "$CARRIER_PORT"
t0=$(date +%s.%N)
reply=$(esl_api "originate {originate_timeout=2}sofia/gateway/carrier/15550000000 &echo()")
t1=$(date +%s.%N)
[ "$reply" = "-ERR NO_ANSWER" ] && t_ok "no answer: $reply" || t_fail "no answer: '$reply'"
media_set waited "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
media_between "no answer: originate_timeout=2" waited 1.8 4
sipp_wait noans
trace_match noans '^<INVITE/INVITE >180/INVITE <CANCEL/CANCEL >200/CANCEL >487/INVITE <ACK/ACK$'

# ---- 5. early media ---------------------------------------------------------
rtp_peer_start early-b --send-wav "$T_DIR/b.wav"
sipp_start early-b carrier_uas_early.xml 127.0.0.1 -p "$CARRIER_PORT" -d 2500 \
	-set peer_port "$(cat "$T_DIR/early-b.port")" -set remote_file "$T_DIR/early-b.remote"
pid_uas=$SIPP_PID
rtp_peer_start early-a --no-send
sipp_run early-a media_call_out_bye.xml "127.0.0.1:$IRISX_EXT_PORT" -s 15551230005 -d 1500 \
	-set peer_port "$(cat "$T_DIR/early-a.port")" -set offer "0 101" \
	-set remote_file "$T_DIR/early-a.remote"
SIPP_PID=$pid_uas
sipp_wait early-b
rtp_peer_stop early-a
rtp_peer_stop early-b
trace_match early-a '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<183/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK >BYE/BYE <200/BYE$'
n=$(trace_index early-a "<183/INVITE")
[ -n "$(trace_body early-a "<183/INVITE")" ] && t_ok "early: the caller's 183 carries SDP" ||
	t_fail "early: the caller's 183 has no SDP"
t0=$(trace_when early-a "<183/INVITE")
t1=$(trace_when early-a "<200/INVITE")
rtp_peer_analyze early-a --from "$t0" --to "$t1" --ref "$T_DIR/b.wav" --ref-from 0.3 --ref-len 1.5
media_expect "early: callee's audio before the answer" corr ">" 0.85
c=$(esl_find ev --name CHANNEL_PROGRESS_MEDIA --where Caller-Destination-Number=15551230005 \
	--where Call-Direction=outbound --count)
[ "$c" -ge 1 ] && t_ok "early: CHANNEL_PROGRESS_MEDIA on the B leg" ||
	t_fail "early: no CHANNEL_PROGRESS_MEDIA on the B leg"

esl_watch_stop ev
irisx_alive "after the trunk calls" && irisx_stop
t_end
