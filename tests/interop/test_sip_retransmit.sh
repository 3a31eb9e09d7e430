#!/usr/bin/env bash
# A retransmitted INVITE (same branch) must be absorbed by the server
# transaction (RFC 3261 §17.2.1, §17.2.3): it is answered with the last
# response sent, and never starts a second call. irisx is frozen while SIPp
# sends the INVITE twice, so both datagrams wait in its socket and it reads
# them before it routes: 100, 100, then exactly one 404, and the ACK absorbed.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# SIP-level behaviour: no dialplan routes these calls (404).
irisx_conf_edit() { irisx_conf_no_routes "$1"; }
t_begin
irisx_start

for profile in internal external; do
	if [ "$profile" = internal ]; then port=$IRISX_INT_PORT; else port=$IRISX_EXT_PORT; fi
	name=retransmit-$profile
	kill -STOP "$IRISX_PID"
	sipp_start "$name" retransmit.xml "127.0.0.1:$port" -t u1 -nr -d 1200
	sipp_wait_sent "$name" 2
	kill -CONT "$IRISX_PID"
	sipp_wait "$name"
	if trace_expect "$name" \
		">INVITE/INVITE >INVITE/INVITE <100/INVITE <100/INVITE <404/INVITE >ACK/ACK"; then
		[ "$(trace_totag "$name" 3)" = "$(trace_totag "$name" 4)" ] ||
			t_fail "$name: the two 100 Trying carry different To tags"
		[ -n "$(trace_totag "$name" 5)" ] || t_fail "$name: the 404 has no To tag"
	fi
done

irisx_alive "after the retransmitted INVITEs" && irisx_stop
t_end
