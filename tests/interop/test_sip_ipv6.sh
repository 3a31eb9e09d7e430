#!/usr/bin/env bash
# The same service over IPv6: a conf copy with bind_ip=::1 must listen on
# [::1] (UDP and TCP, both profiles), answer OPTIONS, and treat ::1 as trusted
# (the "trusted" ACL lists it): INVITE gets 100 + 404, not 403.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# SIP-level behaviour: no dialplan routes these calls (404).
irisx_conf_edit() { irisx_conf_no_routes "$1"; }
t_begin
python3 -c 'import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))' \
	2>/dev/null || t_die "this host has no IPv6 loopback (::1), which this test needs"
irisx_start ::1

for profile in internal external; do
	if [ "$profile" = internal ]; then port=$IRISX_INT_PORT; else port=$IRISX_EXT_PORT; fi
	for transport in u1 t1; do
		name=options6-$profile-$transport
		sipp_run "$name" options.xml "[::1]:$port" -t "$transport" &&
			trace_expect "$name" ">OPTIONS/OPTIONS <200/OPTIONS"
		name=invite6-$profile-$transport
		quiet=1200
		[ "$transport" = t1 ] && quiet=300
		sipp_run "$name" invite_404.xml "[::1]:$port" -t "$transport" -d "$quiet"
		trace_expect "$name" ">INVITE/INVITE <100/INVITE <404/INVITE >ACK/ACK"
	done
done

irisx_alive "after the IPv6 requests" && irisx_stop
t_end
