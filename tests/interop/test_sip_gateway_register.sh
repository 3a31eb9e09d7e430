#!/usr/bin/env bash
# Trunk gateways (sofia.conf <gateway>) against SIPp playing the trunk:
#  - gw_reg registers to a SIPp registrar (401 challenge, then 200 granting
#    4 s): REGED in `sofia status gateway gw_reg`, refreshed with the same
#    Call-ID; SIPp killed → the refresh times out → FAILED/FAIL_WAIT; SIPp
#    back → REGED again after retry-seconds;
#  - gw_noreg (register=false, no ping) shows NOREG;
#  - gw_ping (register=false, ping=1, its proxy given by name: localhost)
#    against a SIPp OPTIONS responder is UP, and DOWN once the responder stops;
#  - the CUSTOM sofia::gateway_state events of those changes reach an Event
#    Socket client with Gateway, State, Ping-Status, Register-Network-IP/Port,
#    Status and Phrase;
#  - at shutdown the unregister (Expires: 0), challenged as every REGISTER
#    is, goes again with credentials before irisx exits.
# The external profile runs with timer-T1=50 ms so that an unanswered request
# times out in 3.2 s (64*T1) and the test stays well under a minute.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin

ports=$(ports_pick 127.0.0.1 3) || t_die "no free ports for the trunk"
read -r REG_PORT PING_PORT DEAD_PORT <<<"$ports"

gateway_xml()
{
	local name=$1 proxy=$2
	shift 2
	{
		printf '<include>\n  <gateway name="%s">\n' "$name"
		printf '    <param name="proxy" value="%s"/>\n' "$proxy"
		while [ $# -gt 0 ]; do
			printf '    <param name="%s" value="%s"/>\n' "$1" "$2"
			shift 2
		done
		printf '  </gateway>\n</include>\n'
	}
}

irisx_conf_edit()
{
	local gw=$1/sip_profiles/external
	esl_conf "$1" || return 1
	media_conf_profile_param "$1" external timer-T1 50 || return 1
	media_conf_profile_param "$1" external timer-T2 400 || return 1
	gateway_xml gw_reg "127.0.0.1:$REG_PORT" realm irisx.test username alice password secret \
		expire-seconds 4 retry-seconds 2 >"$gw/gw_reg.xml" &&
		gateway_xml gw_noreg "127.0.0.1:$DEAD_PORT" register false >"$gw/gw_noreg.xml" &&
		gateway_xml gw_ping "localhost:$PING_PORT" register false ping 1 >"$gw/gw_ping.xml"
}

# api COMMAND...: the reply of an Event Socket api command.
api()
{
	esl_api --timeout 10 "$@"
}

# gw_field GATEWAY FIELD: FIELD of `sofia status gateway GATEWAY`.
gw_field()
{
	api sofia status gateway "$1" | awk -F'\t' -v f="$2" '{ sub(/ +$/, "", $1) } $1 == f { print $2; exit }'
}

# wait_field GATEWAY FIELD REGEX SECONDS: wait until FIELD matches REGEX.
wait_field()
{
	local gw=$1 field=$2 re=$3 secs=$4 i v=
	for ((i = 0; i < secs * 5; i++)); do
		v=$(gw_field "$gw" "$field")
		if [[ $v =~ $re ]]; then
			t_ok "$gw: $field $v"
			return 0
		fi
		sleep 0.2
	done
	t_fail "$gw: $field is '$v' after $secs s, expected /$re/"
	api sofia status gateway "$gw" >&2
	return 1
}

# sipp_trunk NAME SCENARIO PORT [ARGS...]: SIPp as the trunk on 127.0.0.1:PORT
# in the background; its pid in TRUNK_PID.
sipp_trunk()
{
	local name=$1 scen=$2 port=$3
	shift 3
	sipp_start "$name" "$scen" "127.0.0.1:$DEAD_PORT" -p "$port" -timeout 40s "$@"
	TRUNK_PID=$SIPP_PID
}

sipp_stop()
{
	kill -TERM "$1" 2>/dev/null
	t_wait_exit "$1" 5 || { kill -KILL "$1" 2>/dev/null; t_wait_exit "$1" 2; }
}

# event_seen WHAT HEADER=VALUE...: a sofia::gateway_state event with those
# headers reached the Event Socket client.
event_seen()
{
	local what=$1 kv n
	shift
	local args=(--name sofia::gateway_state --where Event-Name=CUSTOM)
	for kv in "$@"; do
		args+=(--where "$kv")
	done
	n=$(esl_find gw "${args[@]}" --count)
	if [ "${n:-0}" -ge 1 ]; then
		t_ok "event: $what"
		return 0
	fi
	t_fail "no sofia::gateway_state event: $what"
	t_dump "events" "$T_DIR/gw.events" 80
	return 1
}

sipp_trunk reg registrar.xml "$REG_PORT"
REG_PID=$TRUNK_PID
sipp_trunk ping options_responder.xml "$PING_PORT" -m 1000
PING_PID=$TRUNK_PID

irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"
esl_watch_start gw

# ---- registration ----
wait_field gw_reg State '^REGED$' 5
wait_field gw_reg Status '^UP$' 1
[ "$(gw_field gw_reg Username)" = alice ] || t_fail "gw_reg: Username is not alice"
[ "$(gw_field gw_reg Password)" = yes ] || t_fail "gw_reg: Password is not yes"
[ "$(gw_field gw_reg Proxy)" = "sip:127.0.0.1:$REG_PORT" ] || t_fail "gw_reg: Proxy"
[ "$(gw_field gw_reg Profile)" = external ] || t_fail "gw_reg: Profile is not external"
[ "$(gw_field gw_reg Freq)" = 4 ] || t_fail "gw_reg: Freq is not the granted 4 s"
[ "$(api sofia status gateway nosuch)" = "Invalid Gateway!" ] ||
	t_fail "sofia status gateway nosuch: not 'Invalid Gateway!'"
status=$(api sofia status)
for row in "external::gw_reg.*gateway.*sip:127.0.0.1:$REG_PORT.*REGED" \
	"external::gw_noreg.*gateway.*sip:127.0.0.1:$DEAD_PORT.*NOREG" \
	"external::gw_ping.*gateway.*sip:localhost:$PING_PORT.*NOREG"; do
	if grep -qE "$row" <<<"$status"; then
		t_ok "sofia status: /$row/"
	else
		t_fail "sofia status has no row /$row/"
		printf '%s\n' "$status" >&2
	fi
done
wait_field gw_noreg State '^NOREG$' 1
wait_field gw_noreg Status '^UP$' 1

# The refresh (at half of the 4 s granted): challenged and accepted again, on
# the same Call-ID with growing CSeq numbers.
sleep 2.5
trace_match reg '^<REGISTER/REGISTER >401/REGISTER <REGISTER/REGISTER >200/REGISTER <REGISTER/REGISTER >401/REGISTER <REGISTER/REGISTER >200/REGISTER'
ids=$(for n in 1 3 5 7; do trace_header reg "$n" Call-ID; done | sort -u | wc -l)
if [ "$ids" = 1 ]; then
	t_ok "one Call-ID for the registration and its refresh"
else
	t_fail "$ids Call-IDs across the registration and its refresh"
fi
cseqs=$(for n in 1 3 5 7; do trace_header reg "$n" CSeq | awk '{ print $1 }'; done | tr '\n' ' ')
if [ "$cseqs" = "1 2 3 4 " ]; then
	t_ok "CSeq $cseqs"
else
	t_fail "CSeq numbers: $cseqs (expected 1 2 3 4)"
fi
if trace_header reg 3 Authorization | grep -q 'username="alice"'; then
	t_ok "credentials for alice"
else
	t_fail "the second REGISTER has no credentials for alice"
fi

# ---- the registrar goes away: the refresh times out ----
sipp_stop "$REG_PID"
wait_field gw_reg State '^(FAILED|FAIL_WAIT)$' 10
wait_field gw_reg Status '^DOWN$' 1

# ---- and comes back: registered again after retry-seconds ----
sipp_trunk reg2 registrar.xml "$REG_PORT"
REG_PID=$TRUNK_PID
wait_field gw_reg State '^REGED$' 10

# ---- ping ----
wait_field gw_ping Status '^UP \(ping\)$' 5
wait_field gw_ping State '^NOREG$' 1
sipp_stop "$PING_PID"
wait_field gw_ping Status '^DOWN \(ping\)$' 8

# ---- events ----
sleep 0.3
event_seen "gw_reg FAIL_WAIT with Status 408" Gateway=gw_reg State=FAIL_WAIT Status=408 \
	"Phrase=Request Timeout" Ping-Status=DOWN
event_seen "gw_reg REGED again from 127.0.0.1:$REG_PORT" Gateway=gw_reg State=REGED \
	Ping-Status=UP Register-Network-IP=127.0.0.1 "Register-Network-Port=$REG_PORT"
event_seen "gw_ping DOWN" Gateway=gw_ping State=NOREG Ping-Status=DOWN

# ---- shutdown unregisters: REGISTER with Expires: 0 on the same Call-ID;
# the registrar challenges it too, and it is sent again with credentials ----
irisx_alive "after the gateway checks" && irisx_stop
sleep 0.2
sipp_stop "$REG_PID"
trace_match reg2 '<REGISTER/REGISTER >401/REGISTER <REGISTER/REGISTER >200/REGISTER$'
keys=$(_trace_py keys "$T_DIR/reg2.msg")
last=$(awk '$0 == "<REGISTER/REGISTER" { p = n; n = NR } END { print p, n }' <<<"$keys")
read -r first last <<<"$last"
if [ -n "$last" ] && [ "$(trace_header reg2 "$last" Expires)" = 0 ] &&
	[ "$(trace_header reg2 "$first" Expires)" = 0 ] &&
	[ "$(trace_header reg2 "$last" Call-ID)" = "$(trace_header reg 1 Call-ID)" ]; then
	t_ok "shutdown sent REGISTER Expires: 0 on the registration's Call-ID"
else
	t_fail "no REGISTER with Expires: 0 at shutdown"
	t_dump "sipp reg2 message trace" "$T_DIR/reg2.msg" 40
fi
c1=$(trace_header reg2 "$first" CSeq) c2=$(trace_header reg2 "$last" CSeq)
if [ "${c2%% *}" = "$((${c1%% *} + 1))" ] &&
	trace_header reg2 "$last" Authorization | grep -q 'username="alice"'; then
	t_ok "the challenged unregister was sent again with credentials (CSeq $c1, then $c2)"
else
	t_fail "the unregister's answer to its challenge: CSeq '$c1' then '$c2'"
	t_dump "sipp reg2 message trace" "$T_DIR/reg2.msg" 40
fi
t_end
