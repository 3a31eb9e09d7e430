#!/usr/bin/env bash
# CDRs with no CDR configuration at all (the default: SQLite in the state
# directory). 40 SIPp calls to the echo test (9196 on the internal profile),
# each answered, held one second and hung up by SIPp: 40 rows, one per leg,
# each with the call's Call-ID, inbound, NORMAL_CLEARING / 16, recv_bye,
# a one-second billsec, PCMU, RTP both ways and a MOS. Then one call bridged
# to a SIPp callee (two legs: two rows pointing at each other) and
# `irisx cdr export` in both formats.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cdr_lib.sh
. "$(dirname "$0")/cdr_lib.sh"
t_begin

# No cdr.conf.xml: the store must default to SQLite. 7000 bridges to a SIPp
# callee on callee_port.
read -r callee_port callee_mport <<<"$(ports_pick 127.0.0.1 1 1)"
irisx_conf_edit()
{
	rm -f "$1/autoload_configs/cdr.conf.xml"
	cat >"$1/dialplan/default/00_cdr_bridge.xml" <<XML
<include>
  <extension name="cdr_bridge">
    <condition field="destination_number" expression="^7000\$">
      <action application="bridge" data="sofia/internal/callee@127.0.0.1:$callee_port"/>
    </condition>
  </extension>
</include>
XML
}
irisx_start

N=40
SIPP_IP=127.0.0.1
sipp_run calls cdr_call.xml "127.0.0.1:$IRISX_INT_PORT" -s 9196 -d 1000 -m "$N" -r 20 -l 40 \
	-rtp_echo
mapfile -t done_ids < <(sipp_calls_done calls)
[ "${#done_ids[@]}" -eq "$N" ] || t_fail "SIPp saw ${#done_ids[@]} BYEs answered, expected $N"

cdr_wait_count "CDRs in SQLite" "$N" 10 cdr_sqlite "select count(*) from cdr"
# Every call by its Call-ID, once.
missing=0
for cid in "${done_ids[@]}"; do
	n=$(cdr_sqlite "select count(*) from cdr where sip_call_id = '$cid'")
	[ "$n" = 1 ] || { missing=$((missing + 1)); t_log "Call-ID $cid: $n CDRs"; }
done
[ "$missing" -eq 0 ] && t_ok "every call has exactly one CDR by its Call-ID" ||
	t_fail "$missing calls without exactly one CDR"

check()
{
	local what=$1 sql=$2 want=$3 got
	got=$(cdr_sqlite "$sql")
	[ "$got" = "$want" ] && t_ok "$what: $got" || t_fail "$what: got '$got', expected '$want'"
}
check "inbound, NORMAL_CLEARING 16, recv_bye" \
	"select count(*) from cdr where direction='inbound' and hangup_cause='NORMAL_CLEARING' and q850=16 and hangup_disposition='recv_bye'" "$N"
check "billsec 1 and duration 1 (SIPp held 1 s)" \
	"select count(*) from cdr where billsec=1 and duration=1" "$N"
check "times: created <= answered < ended, ended - answered in [1.0, 1.5) s" \
	"select count(*) from cdr where created_us <= answered_us and answered_us < ended_us and ended_us - answered_us between 1000000 and 1499999" "$N"
check "caller, destination, context, remote address" \
	"select count(*) from cdr where caller_id_number like 'cdr-%' and destination_number='9196' and context='default' and remote_addr='127.0.0.1'" "$N"
check "codecs PCMU" "select count(*) from cdr where read_codec='PCMU' and write_codec='PCMU'" "$N"
check "RTP both ways (about 50 packets a second), a MOS above 4" \
	"select count(*) from cdr where rtp_packets_in >= 30 and rtp_packets_out >= 30 and mos > 4.0 and mos <= 4.5" "$N"

# A bridged call: two legs, each naming the other.
(cd "$T_DIR" && exec timeout -k 5 40 sipp -sf "$T_SCEN_DIR/media_bench_answer.xml" \
	-i 127.0.0.1 -p "$callee_port" -mp "$callee_mport" -rtp_echo -m 1 -nostdin -skip_rlimit \
	-trace_err -error_file "$T_DIR/callee.err" >"$T_DIR/callee.out" 2>&1 </dev/null) &
callee_pid=$!
T_PIDS+=("$callee_pid")
sleep 0.3
sipp_run bridged cdr_call.xml "127.0.0.1:$IRISX_INT_PORT" -s 7000 -d 1000 -rtp_echo
cid=$(sipp_calls_done bridged)
cdr_wait_count "CDRs after the bridged call" "$((N + 2))" 10 cdr_sqlite "select count(*) from cdr"
a=$(cdr_sqlite "select uuid, other_uuid, direction, billsec, hangup_cause from cdr where sip_call_id = '$cid'")
IFS='|' read -r a_uuid a_other a_dir a_bill a_cause <<<"$a"
b=$(cdr_sqlite "select uuid, other_uuid, direction, hangup_cause, destination_number from cdr where uuid = '$a_other'")
IFS='|' read -r b_uuid b_other b_dir b_cause b_dest <<<"$b"
if [ -n "$a_uuid" ] && [ "$a_dir" = inbound ] && [ "$b_dir" = outbound ] &&
	[ "$b_other" = "$a_uuid" ] && [ "$a_cause" = NORMAL_CLEARING ] && [ "$a_bill" = 1 ]; then
	t_ok "A leg $a_uuid (inbound, billsec $a_bill) and B leg $b_uuid ($b_dir to $b_dest, $b_cause) name each other"
else
	t_fail "bridged legs: A '$a', B '$b'"
fi
wait "$callee_pid" 2>/dev/null
t_forget "$callee_pid"

# irisx cdr export, both formats, while irisx runs (WAL: readers do not block).
"$IRISX_BIN" -c "$IRISX_CONF" -s "$T_DIR/state.1" cdr export --format csv >"$T_DIR/export.csv" ||
	t_fail "cdr export --format csv failed"
"$IRISX_BIN" -c "$IRISX_CONF" -s "$T_DIR/state.1" cdr export --format json >"$T_DIR/export.json" ||
	t_fail "cdr export --format json failed"
lines=$(wc -l <"$T_DIR/export.csv")
[ "$lines" -eq $((N + 3)) ] && t_ok "CSV export: a header and $((N + 2)) records" ||
	t_fail "CSV export: $lines lines, expected $((N + 3))"
python3 - "$T_DIR/export.json" "$((N + 2))" <<'PY' && t_ok "JSON export: $((N + 2)) records that parse" || t_fail "JSON export"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == int(sys.argv[2]), len(recs)
assert all(r["uuid"] and r["hangup_cause"] for r in recs)
assert recs == sorted(recs, key=lambda r: (r["created_us"], r["uuid"]))
PY
future=$("$IRISX_BIN" -c "$IRISX_CONF" -s "$T_DIR/state.1" cdr export --format json --since 2100-01-01T00:00:00Z | wc -l)
[ "$future" -eq 0 ] && t_ok "export --since in the future: nothing" || t_fail "export --since 2100: $future lines"
"$IRISX_BIN" -c "$IRISX_CONF" -s "$T_DIR/state.1" cdr export --format xml >/dev/null 2>&1 &&
	t_fail "export --format xml was accepted"

irisx_alive "after the calls" && irisx_stop
t_end
