#!/usr/bin/env bash
# Out-of-dialog OPTIONS (RFC 3261 §11) to both profiles, over UDP and TCP:
# each must get 200 OK carrying Allow, Accept and Supported.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin
irisx_start

for profile in internal external; do
	if [ "$profile" = internal ]; then port=$IRISX_INT_PORT; else port=$IRISX_EXT_PORT; fi
	for transport in u1 t1; do
		name=options-$profile-$transport
		sipp_run "$name" options.xml "127.0.0.1:$port" -t "$transport" || continue
		trace_expect "$name" ">OPTIONS/OPTIONS <200/OPTIONS" || continue
		for hdr in Allow Accept Supported; do
			trace_header "$name" 2 "$hdr" >/dev/null ||
				t_fail "$name: the 200 OK has no $hdr header"
		done
	done
done

irisx_stop
t_end
