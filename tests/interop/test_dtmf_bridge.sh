#!/usr/bin/env bash
# DTMF across a bridge, each leg in its own mode: SIPp calls 76<port> of the
# external profile, bridged to `{dtmf_type=info}sofia/internal/1000@…:<port>`
# where a second SIPp (uas_info_dtmf.xml) answers. A's RTP peer sends "12#"
# as RFC 4733 telephone-events; B wants INFO: it must get three INFOs
# (application/dtmf-relay, Signal=1, 2, #, each answered 200) and no
# telephone-event packet on its RTP (the media layer's relay is off for it).
# Then B hangs up, and A gets irisx's BYE (hangup_after_bridge).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin

irisx_conf_edit()
{
	media_conf_extension "$1" public '<extension name="bridge_info">
  <condition field="destination_number" expression="^76([0-9]+)$">
    <action application="set" data="hangup_after_bridge=true"/>
    <action application="bridge" data="{dtmf_type=info}sofia/internal/1000@127.0.0.1:$1"/>
  </condition>
</extension>'
}
irisx_start

port=$(ports_pick 127.0.0.1 1) || t_die "no free port for the called party"
rtp_peer_start b --no-send
sipp_start b uas_info_dtmf.xml 127.0.0.1 -p "$port" -set peer_port "$RTP_PEER_PORT" \
	-set remote_file "$T_DIR/b.remote"
pid_b=$SIPP_PID
rtp_peer_start a --dtmf 1.5:12#
sipp_run a media_call_in_bye.xml "127.0.0.1:$IRISX_EXT_PORT" -s "76$port" -timeout 30s \
	-set peer_port "$RTP_PEER_PORT" -set offer "0 101" -set remote_file "$T_DIR/a.remote"
SIPP_PID=$pid_b
sipp_wait b && t_ok "B got 1, 2 and # as SIP INFO (application/dtmf-relay) and hung up"
rtp_peer_stop a
rtp_peer_stop b || t_die "no recording of B's audio"

n=$(python3 -c 'import json, sys
rec = json.load(open(sys.argv[1]))
print(sum(1 for p in rec["rtp"] if p[4] == 101))' "$T_DIR/b.json")
audio=$(python3 -c 'import json, sys
rec = json.load(open(sys.argv[1]))
print(sum(1 for p in rec["rtp"] if p[4] == 0))' "$T_DIR/b.json")
if [ "$n" = 0 ] && [ "${audio:-0}" -gt 50 ]; then
	t_ok "B's RTP: $audio audio packets, no telephone-event (relay off for an INFO leg)"
else
	t_fail "B's RTP: $n telephone-event packets and $audio audio packets (expected 0 and > 50)"
fi
trace_match a '^>INVITE/INVITE (<1[0-9][0-9]/INVITE )*<200/INVITE >ACK/ACK <BYE/BYE >200/BYE$' ||
	t_fail "A's call did not end with irisx's BYE"

irisx_alive "after the call" && irisx_stop
t_end
