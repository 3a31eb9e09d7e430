#!/usr/bin/env bash
# INVITE then CANCEL while the INVITE is pending (RFC 3261 §9.2): 200 OK to the
# CANCEL, 487 Request Terminated to the INVITE, in that order, with the same To
# tag, and the ACK absorbed. irisx is frozen while SIPp sends both, so they
# wait in its socket (or TCP stream) and it reads the CANCEL before it routes
# the INVITE to its 404.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# SIP-level behaviour: no dialplan routes these calls (404).
irisx_conf_edit() { irisx_conf_no_routes "$1"; }
t_begin
irisx_start

for profile in internal external; do
	if [ "$profile" = internal ]; then port=$IRISX_INT_PORT; else port=$IRISX_EXT_PORT; fi
	for transport in u1 t1; do
		name=cancel-$profile-$transport
		quiet=1200
		[ "$transport" = t1 ] && quiet=300
		kill -STOP "$IRISX_PID"
		sipp_start "$name" cancel.xml "127.0.0.1:$port" -t "$transport" -nr -d "$quiet"
		sipp_wait_sent "$name" 2
		kill -CONT "$IRISX_PID"
		sipp_wait "$name"
		trace_expect "$name" ">INVITE/INVITE >CANCEL/CANCEL <100/INVITE <200/CANCEL <487/INVITE >ACK/ACK" ||
			continue
		tag487=$(trace_totag "$name" 5)
		tag200=$(trace_totag "$name" 4)
		[ -n "$tag487" ] || t_fail "$name: the 487 has no To tag"
		[ -n "$tag200" ] || t_fail "$name: the 200 to the CANCEL has no To tag"
		[ "$tag200" = "$tag487" ] ||
			t_fail "$name: To tags differ: 200/CANCEL '$tag200', 487/INVITE '$tag487' (§9.2)"
	done
done

irisx_alive "after the CANCELs" && irisx_stop
t_end
