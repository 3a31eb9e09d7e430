#!/usr/bin/env bash
# The Event Socket's apply-inbound-acl follows acl.conf.xml as it changes:
#  - with a list that admits only 127.0.0.1, a client from 127.0.0.2 gets
#    text/rude-rejection;
#  - 127.0.0.2 added to the file and SIGHUP: it gets auth/request and runs api;
#  - 127.0.0.2 removed again and `reloadacl`: refused again, while the
#    connection it opened before (an event listener) stays and still hears
#    events (a BACKGROUND_JOB fired after the reload);
#  - a broken acl.conf.xml and SIGHUP: the running list stays.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

acl_xml()
{
	{
		printf '<configuration name="acl.conf" description="Network lists">\n'
		printf '  <network-lists>\n    <list name="trusted" default="deny">\n'
		printf '      <node type="allow" cidr="127.0.0.1/32"/>\n    </list>\n'
		printf '    <list name="esl_clients" default="deny">\n'
		for cidr in "$@"; do
			printf '      <node type="allow" cidr="%s"/>\n' "$cidr"
		done
		printf '    </list>\n  </network-lists>\n</configuration>\n'
	} >"$IRISX_CONF/autoload_configs/acl.conf.xml"
}

irisx_conf_edit()
{
	local dir=$1
	IRISX_CONF=$dir
	esl_conf "$dir" || return 1
	_media_conf_param "$dir/autoload_configs/event_socket.conf.xml" apply-inbound-acl esl_clients &&
		acl_xml 127.0.0.1/32
}

greet()
{
	python3 "$(dirname "$0")/esl_tool.py" greet --port "$ESL_PORT" --source "$1"
}

expect_greet()
{
	local src=$1 want=$2 what=$3 got
	got=$(greet "$src")
	if [ "$got" = "$want" ]; then
		t_ok "$what: $src gets $want"
	else
		t_fail "$what: $src gets '$got', not $want"
	fi
}

# Waits until irisx logs the n-th line matching the pattern (a reload done).
wait_log_count()
{
	local pattern=$1 n=$2 i
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c "$pattern" "$IRISX_LOG")" -ge "$n" ] && return 0
		sleep 0.05
	done
	t_fail "irisx did not log '$pattern' $n time(s)"
	return 1
}

t_begin
irisx_start
esl_wait_listen || t_die "irisx does not accept Event Socket connections"

expect_greet 127.0.0.1 auth/request "before any reload"
expect_greet 127.0.0.2 text/rude-rejection "before any reload"

acl_xml 127.0.0.1/32 127.0.0.2/32
kill -HUP "$IRISX_PID"
wait_log_count 'ACLs reloaded' 1
expect_greet 127.0.0.2 auth/request "after SIGHUP"
if ESL_SOURCE=127.0.0.2 esl_api status | grep -q '^irisx (Version .*) is ready$'; then
	t_ok "api status from 127.0.0.2 after SIGHUP"
else
	t_fail "api status from 127.0.0.2 after SIGHUP failed"
fi
ESL_SOURCE=127.0.0.2 esl_watch_start old

acl_xml 127.0.0.1/32
got=$(esl_api reloadacl)
if [ "$got" = "+OK acl reloaded" ]; then t_ok "reloadacl replies +OK acl reloaded"; else
	t_fail "reloadacl replied '$got'"; fi
expect_greet 127.0.0.2 text/rude-rejection "after reloadacl"
expect_greet 127.0.0.1 auth/request "after reloadacl"

# The listener from 127.0.0.2, connected before the reload, still hears events.
job=$(python3 "$(dirname "$0")/esl_tool.py" bgapi --port "$ESL_PORT" --password "$ESL_PASSWORD" \
	create_uuid)
seen=0
for ((i = 0; i < 100; i++)); do
	seen=$(esl_find old --name BACKGROUND_JOB --where "Job-UUID=$job" --count)
	[ "$seen" -ge 1 ] && break
	sleep 0.05
done
if [ -n "$job" ] && [ "$seen" -ge 1 ]; then
	t_ok "a connection accepted before the reload stays (BACKGROUND_JOB $job heard)"
else
	t_fail "the listener from 127.0.0.2 did not hear BACKGROUND_JOB '$job'"
	t_dump "its events" "$T_DIR/old.events" 20
fi
esl_watch_stop old

# A broken file: the running list stays (127.0.0.2 still refused, .1 allowed).
printf '<configuration name="acl.conf"><network-lists><list name="esl_clients"' \
	>"$IRISX_CONF/autoload_configs/acl.conf.xml"
kill -HUP "$IRISX_PID"
wait_log_count 'keeping the running ACLs' 1
expect_greet 127.0.0.2 text/rude-rejection "after a broken acl.conf and SIGHUP"
expect_greet 127.0.0.1 auth/request "after a broken acl.conf and SIGHUP"

irisx_alive "after the ACL reloads" && irisx_stop
irisx_check_log
t_end
