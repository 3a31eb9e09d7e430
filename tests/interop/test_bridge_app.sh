#!/usr/bin/env bash
# The bridge application and the originate command end to end: SIPp calls
# numbers 75<port> of the external profile, which this test's conf bridges
# to `sofia/internal/1000@127.0.0.1:<port>`, where a second SIPp plays the
# called party (tests/interop/sipp/uas_*.xml); rtp_peer.py is each side's
# media, sending its own tone. modesl over the Event Socket watches the
# events and runs `api originate … &echo`. Checked in
# tests/interop/esl/bridge_app.js (node --test): audio both ways, B's ringing
# passed to A, B's early media bridged to a pre-answered A before B answers, a
# BYE from either side brings one to the other with the cause, A cancelling
# while B rings cancels B (ORIGINATOR_CANCEL), a busy B
# refuses A with 486 and DIALSTATUS=BUSY, originate's "+OK <uuid>" and its
# echo, its "-ERR <CAUSE>", the replies after an `api originate` waiting for
# it on that connection only (a raw socket sees the order), and a connection
# closed while its originate rings (run with an ASan build to catch a late
# reply touching it).
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
esl_dir=$T_LIB_DIR/esl

t_begin
esl_require "$esl_dir"

irisx_conf_edit()
{
	esl_conf "$1" || return 1
	media_conf_extension "$1" public '<extension name="bridge_out">
  <condition field="destination_number" expression="^75([0-9]+)$">
    <action application="set" data="hangup_after_bridge=true"/>
    <action application="bridge" data="sofia/internal/1000@127.0.0.1:$1"/>
  </condition>
</extension>'
}
irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"

python3 "$T_RTP_PEER" tone "$T_DIR/tone_a.wav" --freq 440 --seconds 4 &&
	python3 "$T_RTP_PEER" tone "$T_DIR/tone_b.wav" --freq 1230 --seconds 4 ||
	t_die "cannot write the test tones"

rc=0
ESL_HOST=127.0.0.1 ESL_PORT=$ESL_PORT ESL_PASSWORD=$ESL_PASSWORD \
	IRISX_IP=$IRISX_IP IRISX_EXT_PORT=$IRISX_EXT_PORT ESL_TEST_DIR=$T_DIR \
	ESL_SIPP_DIR=$T_SCEN_DIR ESL_RTP_PEER=$T_RTP_PEER ESL_PARK_PREFIX=73 BRIDGE_PREFIX=75 \
	BRIDGE_TONE_A=$T_DIR/tone_a.wav BRIDGE_TONE_B=$T_DIR/tone_b.wav \
	timeout -k 5 240 node --test "$esl_dir/bridge_app.js" >"$T_DIR/node.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
	t_ok "node --test: $(grep -E '^# (pass|fail)' "$T_DIR/node.out" | tr '\n' ' ')"
else
	t_dump "node --test" "$T_DIR/node.out" 400
	t_dump "irisx log" "$IRISX_LOG" 150
	t_fail "node --test exited $rc"
fi

irisx_alive "after the bridge tests" && irisx_stop
irisx_check_log
t_end
