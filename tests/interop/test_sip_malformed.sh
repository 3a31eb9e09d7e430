#!/usr/bin/env bash
# Bad input over UDP (DESIGN.md principle 6): garbage is dropped silently, an
# INVITE with a non-numeric CSeq gets 400, an unknown method 501 (or 405), and
# irisx keeps answering OPTIONS on both transports afterwards.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
irisx_start

for profile in internal external; do
	if [ "$profile" = internal ]; then port=$IRISX_INT_PORT; else port=$IRISX_EXT_PORT; fi
	name=malformed-$profile
	sipp_run "$name" malformed.xml "127.0.0.1:$port" -t u1 -nr -d 800
	trace_match "$name" \
		'^>\? >INVITE/INVITE <400/(INVITE|\?) >ACK/ACK >FROBNICATE/FROBNICATE <(405|501)/FROBNICATE >OPTIONS/OPTIONS <200/OPTIONS$'
	irisx_alive "after malformed input to the $profile profile" || break
	for transport in u1 t1; do
		name=options-after-$profile-$transport
		sipp_run "$name" options.xml "127.0.0.1:$port" -t "$transport" &&
			trace_expect "$name" ">OPTIONS/OPTIONS <200/OPTIONS"
	done
done

irisx_alive "after malformed input" && irisx_stop
t_end
