#!/usr/bin/env bash
# uuid_bridge between two inbound calls: SIPp places two calls (rtp_peer.py
# as each caller's media, each sending its own tone) to numbers 73NN of the
# external profile, which this test's conf answers and parks; modesl over
# the Event Socket bridges them with `api uuid_bridge A B` and checks what
# FreeSWITCH's clients rely on: the +OK, CHANNEL_BRIDGE's headers, each
# caller hearing the other, a BYE from one caller bringing a BYE (with the
# cause) to the other, and uuid_send_dtmf on a bridged leg
# (tests/interop/esl/bridge_uuid.js, run with node --test).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
esl_dir=$T_LIB_DIR/esl

t_begin
esl_require "$esl_dir"

irisx_conf_edit()
{
	esl_conf "$1" || return 1
	media_conf_extension "$1" public '<extension name="bridge_park">
  <condition field="destination_number" expression="^73[0-9][0-9]$">
    <action application="answer"/>
    <action application="park"/>
  </condition>
</extension>'
}
irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"

# Two tones far apart: what one caller hears tells whose audio it is.
python3 "$T_RTP_PEER" tone "$T_DIR/tone_a.wav" --freq 440 --seconds 4 &&
	python3 "$T_RTP_PEER" tone "$T_DIR/tone_b.wav" --freq 1230 --seconds 4 ||
	t_die "cannot write the test tones"

rc=0
ESL_HOST=127.0.0.1 ESL_PORT=$ESL_PORT ESL_PASSWORD=$ESL_PASSWORD \
	IRISX_IP=$IRISX_IP IRISX_EXT_PORT=$IRISX_EXT_PORT ESL_TEST_DIR=$T_DIR \
	ESL_SIPP_DIR=$T_SCEN_DIR ESL_RTP_PEER=$T_RTP_PEER ESL_PARK_PREFIX=73 \
	BRIDGE_TONE_A=$T_DIR/tone_a.wav BRIDGE_TONE_B=$T_DIR/tone_b.wav \
	timeout -k 5 200 node --test "$esl_dir/bridge_uuid.js" >"$T_DIR/node.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
	t_ok "node --test: $(grep -E '^# (pass|fail)' "$T_DIR/node.out" | tr '\n' ' ')"
else
	t_dump "node --test" "$T_DIR/node.out" 400
	t_dump "irisx log" "$IRISX_LOG" 120
	t_fail "node --test exited $rc"
fi

irisx_alive "after the bridge tests" && irisx_stop
irisx_check_log
t_end
