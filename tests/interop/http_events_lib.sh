# shellcheck shell=bash
# Helpers of the HTTP door's event, health and metrics tests; sourced after
# lib.sh.

# http_require DIR: node and npm there, and `ws` installed in DIR/node_modules
# (npm ci from DIR/package-lock.json when missing).
http_require()
{
	local dir=$1
	command -v curl >/dev/null || t_die "curl is not installed (scripts/install-deps.sh)"
	npm_require "$dir" ws
}

# http_conf DIR: in conf copy DIR, the HTTP API listens on 127.0.0.1 on a free
# port (HTTP_PORT) with a fresh random token (HTTP_TOKEN), no rate limit.
http_conf()
{
	local f=$1/autoload_configs/http.conf.xml
	[ -f "$f" ] || { t_log "$f is missing"; return 1; }
	python3 -c 'import re, sys
p = sys.argv[1]
t = open(p).read()
open(p, "w").write(re.sub(r"<!--.*?-->", "", t, flags=re.S))' "$f" || return 1
	HTTP_PORT=$(ports_pick 127.0.0.1 1) || return 1
	HTTP_TOKEN=t$(python3 -c 'import secrets; print(secrets.token_hex(16))') || return 1
	_media_conf_param "$f" listen-ip 127.0.0.1 &&
		_media_conf_param "$f" listen-port "$HTTP_PORT" &&
		_media_conf_param "$f" api-token "$HTTP_TOKEN" &&
		_media_conf_param "$f" rate-limit 0
}

# http_wait_listen: wait (up to 5 s) until GET /health answers on HTTP_PORT.
http_wait_listen()
{
	local i
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP_PORT/health" && return 0
		sleep 0.05
	done
	return 1
}

# http_expect STATUS METHOD PATH [--no-token]: the request answers STATUS.
http_expect()
{
	local want=$1 method=$2 path=$3 auth=(-H "Authorization: Bearer $HTTP_TOKEN") code
	[ "${4:-}" = --no-token ] && auth=()
	code=$(curl -s -o "$T_DIR/http_expect.body" -w '%{http_code}' --max-time 5 -X "$method" \
		"${auth[@]}" "http://127.0.0.1:$HTTP_PORT$path")
	if [ "$code" = "$want" ]; then
		t_ok "$method $path${4:+ $4}: $code"
	else
		t_fail "$method $path${4:+ $4}: $code, expected $want ($(head -c 300 "$T_DIR/http_expect.body"))"
	fi
}

# http_health_status: the status code of GET /health (its body in $T_DIR/health.json).
http_health_status()
{
	curl -s -o "$T_DIR/health.json" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HTTP_PORT/health"
}
