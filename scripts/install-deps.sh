#!/usr/bin/env bash
# Installs the Debian 12 packages irisx needs to build, run and test, skipping
# the ones already there. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
	build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
	libuv1-dev libxml2-dev libcmocka-dev libpcre2-dev libssl-dev
	libcurl4-openssl-dev libwslay-dev
	libsndfile1-dev libspeexdsp-dev libopus-dev libspandsp-dev libespeak-ng-dev espeak-ng
	libedit-dev sip-tester baresip tshark sox python3 procps iproute2 util-linux
	libsqlite3-dev libpq-dev sqlite3 postgresql
	libmicrohttpd-dev libjansson-dev curl
)
# postgresql: the CDR tests start a server of their own (initdb, pg_ctl from
# /usr/lib/postgresql/*/bin); Debian's cluster it creates is not used.

# Node.js and npm for the Event Socket tests (npm's modesl): Debian's packages,
# unless a Node.js that brings its own npm is installed already (its package
# conflicts with Debian's npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
