#!/usr/bin/env bash
# irisx-cli (build/irisx-cli, next to IRISX_BIN) against a running irisx:
#  - -x status / sofia status gateway gw_cli (a gateway of the conf copy) /
#    an unknown command: exit 0, 0, 1 (a reply starting with -ERR);
#  - a wrong password: exit 2 and "authentication failed" on stderr; the
#    password from IRISX_ESL_PASSWORD and from -s DIR/esl_password; nothing
#    listening: exit 2, and -r keeps retrying;
#  - during a SIPp call to an extension that answers and parks: -x "show
#    channels as json" lists it, `irisx-cli calls` (not a terminal: a table
#    per change) shows it with its callee and then without it; on an
#    80-column pseudo-terminal it draws the call in place and q leaves; the
#    interactive console on a pseudo-terminal, after /event plain ALL and
#    /log info, prints the call's CHANNEL_CREATE and its log line in the
#    level's colour; tab completes "stat" to status; Ctrl-C drops a
#    half-typed line; /nolog and /exit answer;
#    the history file gets the lines typed. The call ends with -x "uuid_kill <uuid>".
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin

CLI=$(dirname "$IRISX_BIN")/irisx-cli
[ -x "$CLI" ] || t_die "$CLI is not built"

irisx_conf_edit()
{
	esl_conf "$1" || return 1
	printf '<include>\n  <gateway name="gw_cli">\n    <param name="proxy" value="127.0.0.1:9"/>\n    <param name="register" value="false"/>\n  </gateway>\n</include>\n' \
		>"$1/sip_profiles/external/gw_cli.xml" || return 1
	media_conf_extension "$1" public '<extension name="cli_park">
  <condition field="destination_number" expression="^7101$">
    <action application="answer"/>
    <action application="park"/>
  </condition>
</extension>'
}
irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"

# cli ARGS...: irisx-cli on the test's Event Socket; stdout in $T_DIR/out,
# stderr in $T_DIR/err, status in CLI_RC.
cli()
{
	CLI_RC=0
	timeout -k 2 20 "$CLI" -b -P "$ESL_PORT" "$@" >"$T_DIR/out" 2>"$T_DIR/err" || CLI_RC=$?
}

# expect_rc WHAT RC: the last cli call exited RC.
expect_rc()
{
	if [ "$CLI_RC" -eq "$2" ]; then
		t_ok "$1: exit $2"
		return 0
	fi
	t_fail "$1: exit $CLI_RC, expected $2"
	t_dump "stdout" "$T_DIR/out" 20
	t_dump "stderr" "$T_DIR/err" 20
	return 1
}

# expect_in WHAT FILE REGEX
expect_in()
{
	if grep -qE "$3" "$2"; then
		t_ok "$1"
		return 0
	fi
	t_fail "$1: no /$3/ in $2"
	t_dump "$2" "$2" 40
	return 1
}

cli -p "$ESL_PASSWORD" -x status
expect_rc "-x status" 0 && expect_in "status says UP" "$T_DIR/out" '^UP '

cli -p "$ESL_PASSWORD" -x "sofia status gateway gw_cli"
expect_rc "-x sofia status gateway gw_cli" 0 &&
	expect_in "the gateway's report" "$T_DIR/out" 'gw_cli' &&
	expect_in "the gateway does not register" "$T_DIR/out" 'NOREG'

cli -p "$ESL_PASSWORD" -x "no_such_command"
expect_rc "-x of an unknown command (-ERR)" 1 && expect_in "the -ERR is printed" "$T_DIR/out" '^-ERR'

cli -p "wrong$ESL_PASSWORD" -x status
expect_rc "a wrong password" 2 &&
	expect_in "a clear message for a wrong password" "$T_DIR/err" 'authentication failed.*wrong password'
[ -s "$T_DIR/out" ] && t_fail "a wrong password still printed a reply"

IRISX_ESL_PASSWORD=$ESL_PASSWORD cli -x status
expect_rc "password from IRISX_ESL_PASSWORD" 0

mkdir -p "$T_DIR/pwstate" && printf '%s\n' "$ESL_PASSWORD" >"$T_DIR/pwstate/esl_password"
cli -s "$T_DIR/pwstate" -x status
expect_rc "password from -s DIR/esl_password" 0

cli -p "$ESL_PASSWORD" -H 127.0.0.1 -P 1 -x status
expect_rc "nothing listening" 2 && expect_in "says it cannot connect" "$T_DIR/err" 'cannot connect'

# -r keeps trying while nothing listens (here until timeout stops it).
rc=0
timeout 3 "$CLI" -r -P 1 -p x -x status >/dev/null 2>"$T_DIR/retry.err" || rc=$?
if [ "$rc" -eq 124 ] && [ "$(grep -c 'retrying' "$T_DIR/retry.err")" -ge 2 ]; then
	t_ok "-r retries connecting"
else
	t_fail "-r: exit $rc, $(cat "$T_DIR/retry.err")"
fi

# ---- during a call -----------------------------------------------------------

# The console on a pseudo-terminal; it reports through files in $T_DIR:
# console.ready once events are on, console.out all it printed.
python3 - "$CLI" "$ESL_PORT" "$ESL_PASSWORD" "$T_DIR" >"$T_DIR/console.log" 2>&1 <<'PY' &
import os, pty, re, select, sys, time
cli, port, password, tdir = sys.argv[1:5]
env = dict(os.environ, HOME=tdir, TERM="xterm")
pid, fd = pty.fork()
if pid == 0:
    os.execve(cli, [cli, "-P", port, "-p", password, "-q"], env)
out = open(os.path.join(tdir, "console.out"), "wb")
seen = b""  # what read_until has not matched yet
everything = b""

def pump(secs):
    global seen, everything
    r, _, _ = select.select([fd], [], [], secs)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    out.write(data)
    out.flush()
    seen += data
    everything += data
    return True

def read_until(needle, secs):
    global seen
    end = time.time() + secs
    while time.time() < end:
        if needle in seen:
            seen = seen[seen.index(needle) + len(needle):]
            return True
        if not pump(0.2):
            return False
    print("missed", needle)
    return False

def search_all(pattern, secs):
    end = time.time() + secs
    while time.time() < end:
        if re.search(pattern, everything):
            return True
        if not pump(0.2):
            break
    print("missed", pattern)
    return False

ok = read_until(b"irisx@", 10)
os.write(fd, b"stat\t\n")
ok = ok and read_until(b"UP ", 10)
# Ctrl-C drops a half-typed line: what follows is a command of its own.
os.write(fd, b"no_such_thing ")
pump(0.3)
os.write(fd, b"\x03")
ok = ok and read_until(b"irisx@", 5)
os.write(fd, b"status\n")
ok = ok and read_until(b"UP ", 10)
os.write(fd, b"/event plain ALL\n")
ok = ok and read_until(b"+OK event listener enabled plain", 10)
os.write(fd, b"/log info\n")
ok = ok and read_until(b"+OK log level", 10)
open(os.path.join(tdir, "console.ready"), "w").write("1" if ok else "0")
ok = ok and read_until(b"Event-Name: CHANNEL_CREATE", 20)
# The call's log line, coloured by its level (info: green) on a terminal.
ok = ok and search_all(rb"\x1b\[32m[^\n]*new inbound call", 10)
os.write(fd, b"/nolog\n")
ok = ok and read_until(b"+OK no longer logging", 10)
os.write(fd, b"/exit\n")
end = time.time() + 5
status = None
while time.time() < end:
    pump(0.2)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
print("console ok" if ok else "console missed something", "exit", status)
sys.exit(0 if ok and status == 0 else 1)
PY
CONSOLE_PID=$!
T_PIDS+=("$CONSOLE_PID")
for ((i = 0; i < 200; i++)); do
	[ -s "$T_DIR/console.ready" ] && break
	sleep 0.05
done
grep -q 1 "$T_DIR/console.ready" 2>/dev/null || {
	t_dump "console output" "$T_DIR/console.out" 40
	t_fail "the console on a pseudo-terminal did not come up with events on"
}

timeout -k 2 60 "$CLI" -b -P "$ESL_PORT" -p "$ESL_PASSWORD" calls >"$T_DIR/calls.out" 2>"$T_DIR/calls.err" &
CALLS_PID=$!
T_PIDS+=("$CALLS_PID")
for ((i = 0; i < 100; i++)); do
	grep -q 'CALLEE' "$T_DIR/calls.out" 2>/dev/null && break
	sleep 0.05
done

peer=$(ports_pick 127.0.0.1 1) || t_die "no port for the call's RTP"
sipp_start call media_call_in_bye.xml "127.0.0.1:$IRISX_EXT_PORT" -s 7101 -timeout 30s \
	-set peer_port "$peer" -set offer "0 8 101" -set remote_file "$T_DIR/call.remote"

uuid=
for ((i = 0; i < 100; i++)); do
	cli -p "$ESL_PASSWORD" -x "show channels as json"
	uuid=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
rows = [r for r in d.get("rows", []) if r.get("dest") == "7101" and r.get("callstate") == "ACTIVE"]
print(rows[0]["uuid"] if rows else "")' "$T_DIR/out" 2>/dev/null)
	[ -n "$uuid" ] && break
	sleep 0.1
done
if [ -n "$uuid" ]; then
	t_ok "-x show channels as json lists the call ($uuid, ACTIVE)"
else
	t_fail "-x show channels as json never listed an answered call to 7101"
	t_dump "last reply" "$T_DIR/out" 20
fi

for ((i = 0; i < 100; i++)); do
	grep -qE "^${uuid:0:8} +in +sipp +7101 +ACTIVE" "$T_DIR/calls.out" && break
	sleep 0.05
done
expect_in "irisx-cli calls shows the answered call" "$T_DIR/calls.out" \
	"^${uuid:0:8} +in +sipp +7101 +ACTIVE +[0-9]+:[0-9]{2}:[0-9]{2} +PCMU"

# The same view on an 80-column terminal: drawn in place, 'q' leaves.
if python3 - "$CLI" "$ESL_PORT" "$ESL_PASSWORD" "${uuid:0:8}" >"$T_DIR/calls_tty.log" 2>&1 <<'PY'; then
import fcntl, os, pty, re, select, struct, sys, termios, time
cli, port, password, short = sys.argv[1:5]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    os.execv(cli, [cli, "-P", port, "-p", password, "calls"])
seen = b""
end = time.time() + 10
want = re.compile((r"\x1b\[H\x1b\[2J.*\n" + short + r" +in +sipp +7101 +ACTIVE").encode(), re.S)
while time.time() < end and not want.search(seen):
    if select.select([fd], [], [], 0.2)[0]:
        seen += os.read(fd, 65536)
if not want.search(seen):
    sys.exit("no in-place table with the call: %r" % seen[-600:])
lines = seen.decode(errors="replace").split("\r\n")
if any(len(re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", l)) > 80 for l in lines):
    sys.exit("a line is longer than 80 columns")
os.write(fd, b"q")
end = time.time() + 5
while time.time() < end:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        sys.exit(0 if os.waitstatus_to_exitcode(st) == 0 else "exit status %d" % os.waitstatus_to_exitcode(st))
    if select.select([fd], [], [], 0.2)[0]:
        try:
            os.read(fd, 65536)
        except OSError:
            pass
sys.exit("q did not end irisx-cli calls")
PY
	t_ok "irisx-cli calls on an 80-column terminal: the call in place, q leaves with status 0"
else
	t_fail "irisx-cli calls on a terminal: $(cat "$T_DIR/calls_tty.log")"
fi

if t_wait_exit "$CONSOLE_PID" 25; then
	if [ "$T_RC" -eq 0 ]; then
		t_ok "the console printed the call's CHANNEL_CREATE and coloured log line, left on /exit with status 0"
	else
		t_fail "the console: $(cat "$T_DIR/console.log")"
		t_dump "console output" "$T_DIR/console.out" 60
	fi
else
	t_fail "the console did not exit"
fi
# libedit's history file encodes blanks (\040); "stat" plus a tab became "status ".
expect_in "tab completed 'stat' to status (the history file has it)" \
	"$T_DIR/.irisx_cli_history" '^status(\\040| )?$'
expect_in "the history file has the /event line" "$T_DIR/.irisx_cli_history" \
	'^/event(\\040| )plain(\\040| )ALL$'

if [ -n "$uuid" ]; then
	cli -p "$ESL_PASSWORD" -x "uuid_kill $uuid"
	expect_rc "-x uuid_kill" 0
fi
sipp_wait call

for ((i = 0; i < 100; i++)); do
	tail -n 3 "$T_DIR/calls.out" | grep -q '^0 channels' && break
	sleep 0.05
done
if tail -n 3 "$T_DIR/calls.out" | grep -q '^0 channels'; then
	t_ok "irisx-cli calls drops the call once it hung up"
else
	t_fail "irisx-cli calls still lists the call"
	t_dump "calls" "$T_DIR/calls.out" 20
fi
kill -TERM "$CALLS_PID" 2>/dev/null
t_wait_exit "$CALLS_PID" 5 || t_fail "irisx-cli calls did not stop on SIGTERM"

irisx_alive "after the console tests" && irisx_stop
t_end
