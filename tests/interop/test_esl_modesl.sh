#!/usr/bin/env bash
# FreeSWITCH's Event Socket clients against irisx, unchanged: the npm package
# modesl (pinned in esl/package-lock.json) runs the node tests in esl/*.test.js
# (node's built-in runner) against an irisx started here with the Event Socket
# on a free loopback port and a random password (event_socket.conf.xml of the
# conf copy), and a test extension: numbers 71NN in context `public` answer and
# park, for calls the tests drive over ESL. The tests make their calls with
# SIPp and rtp_peer.py themselves. Numbers 72NN run the socket application
# (outbound mode) to 127.0.0.1:ESL_OUTBOUND_PORT, where esl/outbound.test.js
# listens with modesl's esl.Server. Fails if any node test fails.
#
# Installs modesl into esl/node_modules with `npm ci` when it is missing.
# ESL_TESTS=GLOB runs only esl/GLOB.test.js (ESL_TESTS=call, ESL_TESTS='[as]*').
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
esl_dir=$T_LIB_DIR/esl

t_begin
esl_require "$esl_dir"
welcome=$(media_prompt welcome.wav)
ESL_OUTBOUND_PORT=$(ports_pick 127.0.0.1 1) || t_die "no free port for the outbound server"

irisx_conf_edit()
{
	esl_conf "$1" || return 1
	media_conf_extension "$1" public '<extension name="esl_park">
  <condition field="destination_number" expression="^71[0-9][0-9]$">
    <action application="answer"/>
    <action application="park"/>
  </condition>
</extension>' || return 1
	media_conf_extension "$1" public '<extension name="esl_outbound">
  <condition field="destination_number" expression="^72[0-9][0-9]$">
    <action application="set" data="outbound_test_var=before"/>
    <action application="socket" data="127.0.0.1:'"$ESL_OUTBOUND_PORT"' async full"/>
    <action application="set" data="outbound_after_socket=yes"/>
  </condition>
</extension>'
}
irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"

rc=0
# shellcheck disable=SC2086 # ESL_TESTS is a glob
ESL_HOST=127.0.0.1 ESL_PORT=$ESL_PORT ESL_PASSWORD=$ESL_PASSWORD \
	IRISX_IP=$IRISX_IP IRISX_EXT_PORT=$IRISX_EXT_PORT ESL_TEST_DIR=$T_DIR \
	ESL_SIPP_DIR=$T_SCEN_DIR ESL_RTP_PEER=$T_RTP_PEER ESL_PARK_PREFIX=71 \
	ESL_OUTBOUND_PORT=$ESL_OUTBOUND_PORT ESL_OUTBOUND_PREFIX=72 \
	ESL_WELCOME_WAV=$welcome \
	timeout -k 5 240 node --test "$esl_dir"/${ESL_TESTS:-*}.test.js >"$T_DIR/node.out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then
	t_ok "node --test: $(grep -E '^# (pass|fail)' "$T_DIR/node.out" | tr '\n' ' ')"
else
	t_dump "node --test" "$T_DIR/node.out" 400
	t_dump "irisx log" "$IRISX_LOG" 80
	t_fail "node --test exited $rc"
fi

irisx_alive "after the ESL tests" && irisx_stop
t_end
