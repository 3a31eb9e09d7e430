#!/usr/bin/env bash
# Process control: `irisx -t` checks a config without serving (0 on the
# default conf; non-zero with `file:line:` on a broken copy), SIGHUP leaves it
# serving, SIGTERM makes it drain and exit 0 within a few seconds.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# SIP-level behaviour: no dialplan routes these calls (404).
irisx_conf_edit() { irisx_conf_no_routes "$1"; }
t_begin

# --- irisx -t on the default conf ------------------------------------------
rc=0
(cd "$T_DIR" && timeout 10 "$IRISX_BIN" -t -c "$IRISX_SOURCE_DIR/conf") >"$T_DIR/check-ok.log" 2>&1 ||
	rc=$?
if [ "$rc" -eq 0 ]; then
	t_ok "irisx -t accepts the default conf"
else
	t_dump "irisx -t output" "$T_DIR/check-ok.log"
	t_fail "irisx -t -c conf exited $rc on the default conf (expected 0)"
fi

# --- irisx -t on a broken copy ----------------------------------------------
# A line that is not well-formed XML (unquoted attribute value), right after
# the rtp_end_port line of vars.xml: the error is on that line.
broken=$T_DIR/conf-broken
cp -r "$IRISX_SOURCE_DIR/conf" "$broken"
anchor=$(grep -n 'data="rtp_end_port=' "$broken/vars.xml" | head -n 1 | cut -d: -f1)
if [ -z "$anchor" ]; then
	t_fail "conf/vars.xml has no rtp_end_port line to break"
else
	bad_line=$((anchor + 1))
	sed -i "${anchor}a\\  <irisx-broken value=unquoted/>" "$broken/vars.xml"
	rc=0
	(cd "$T_DIR" && timeout 10 "$IRISX_BIN" -t -c "$broken") >"$T_DIR/check-bad.log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		t_fail "irisx -t exited 0 on a conf with a malformed vars.xml"
	elif [ "$rc" -ge 124 ]; then
		t_fail "irisx -t did not finish within 10 s or crashed (status $rc)"
	elif ! grep -qE "vars\.xml:$bad_line:" "$T_DIR/check-bad.log"; then
		t_dump "irisx -t output" "$T_DIR/check-bad.log"
		t_fail "irisx -t did not report 'vars.xml:$bad_line:' for the broken line"
	else
		t_ok "irisx -t rejects the broken conf: $(grep -m1 -E "vars\.xml:$bad_line:" "$T_DIR/check-bad.log")"
	fi
fi

# --- SIGHUP keeps it serving --------------------------------------------------
irisx_start
for round in 1 2; do
	kill -HUP "$IRISX_PID"
	sleep 0.5
	irisx_alive "after SIGHUP #$round" || t_end
	for transport in u1 t1; do
		name=options-hup$round-$transport
		sipp_run "$name" options.xml "127.0.0.1:$IRISX_INT_PORT" -t "$transport" &&
			trace_expect "$name" ">OPTIONS/OPTIONS <200/OPTIONS"
	done
done
name=invite-after-hup
sipp_run "$name" invite_404.xml "127.0.0.1:$IRISX_EXT_PORT" -t u1 -d 200
trace_expect "$name" ">INVITE/INVITE <100/INVITE <404/INVITE >ACK/ACK"

# --- SIGTERM: drain and exit 0 -----------------------------------------------
start=$(date +%s%N)
if irisx_stop 5; then
	t_log "exited $((($(date +%s%N) - start) / 1000000)) ms after SIGTERM"
fi
t_end
