#!/usr/bin/env bash
# The "trusted" ACL admits only 127.0.0.1 and ::1. An INVITE from 127.0.0.3
# (SIPp bound there) must get 403 Forbidden at once, without 100 Trying, on
# both profiles and both transports, and the ACK nothing. A trusted INVITE
# afterwards still gets 100 + 404, so the refusal is about the source.
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
		name=acl-$profile-$transport
		quiet=800
		[ "$transport" = t1 ] && quiet=300
		SIPP_IP=127.0.0.3 sipp_run "$name" acl_403.xml "127.0.0.1:$port" \
			-t "$transport" -d "$quiet"
		trace_expect "$name" ">INVITE/INVITE <403/INVITE >ACK/ACK"
	done
	name=trusted-$profile
	sipp_run "$name" invite_404.xml "127.0.0.1:$port" -t u1 -d 200
	trace_expect "$name" ">INVITE/INVITE <100/INVITE <404/INVITE >ACK/ACK"
done

irisx_alive "after the refused INVITEs" && irisx_stop
t_end
