#!/usr/bin/env bash
# An INVITE from a trusted address (127.0.0.1) to each profile, over UDP and
# TCP: 100 Trying, then 404 Not Found with a To tag (no dialplan routes it),
# and the ACK is absorbed — over UDP, a 404 that is not ACKed is retransmitted
# (RFC 3261 §17.2.1), so we listen 1.2 s after the ACK and expect silence.
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
		name=invite-$profile-$transport
		quiet=1200
		[ "$transport" = t1 ] && quiet=300
		sipp_run "$name" invite_404.xml "127.0.0.1:$port" -t "$transport" -d "$quiet"
		trace_expect "$name" ">INVITE/INVITE <100/INVITE <404/INVITE >ACK/ACK" || continue
		[ -n "$(trace_totag "$name" 3)" ] || t_fail "$name: the 404 has no To tag"
		[ -z "$(trace_totag "$name" 2)" ] ||
			t_log "$name: note: the 100 Trying carries a To tag (allowed, §8.2.6.1)"
	done
done

irisx_alive "after the INVITEs" && irisx_stop
t_end
