#!/usr/bin/env bash
# `make install DESTDIR=…` (its install step, cmake --install of the tested
# build tree, which `make install` runs after building) lays irisx out as
# packaging/install.cmake says: binaries, prompts, man pages, the systemd
# unit and sysusers entry under the prefix, the default conf in /etc/irisx
# (kept on a second install), /var/lib/irisx. The installed conf passes
# `irisx -t`; `irisx-cli -h` runs; the unit has its hardening and passes
# `systemd-analyze verify` when systemd-analyze exists.
set -u
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
t_begin

build=$(dirname "$IRISX_BIN")
root=$T_DIR/root
DESTDIR=$root cmake --install "$build" >"$T_DIR/install.out" 2>&1 ||
	{ t_dump "cmake --install" "$T_DIR/install.out"; t_die "install failed"; }
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
t_log "prefix $prefix"

for f in bin/irisx bin/irisx-cli share/man/man8/irisx.8 share/man/man1/irisx-cli.1 \
	lib/systemd/system/irisx.service lib/sysusers.d/irisx.conf \
	share/irisx/sounds/welcome.wav; do
	if [ -f "$root$prefix/$f" ]; then t_ok "$prefix/$f"; else t_fail "$prefix/$f is missing"; fi
done
[ -x "$root$prefix/bin/irisx-cli" ] && "$root$prefix/bin/irisx-cli" -h | grep -q -- '-x CMD' &&
	t_ok "the installed irisx-cli runs" || t_fail "the installed irisx-cli does not run"
[ -f "$root/etc/irisx/freeswitch.xml" ] && t_ok "/etc/irisx/freeswitch.xml" ||
	t_fail "no default configuration in /etc/irisx"
mode=$(stat -c %a "$root/var/lib/irisx" 2>/dev/null)
[ "$mode" = 750 ] && t_ok "/var/lib/irisx (mode 750)" || t_fail "/var/lib/irisx mode '${mode}', expected 750"
if "$root$prefix/bin/irisx" -t -c "$root/etc/irisx" -s "$T_DIR/state" >"$T_DIR/check.out" 2>&1; then
	t_ok "irisx -t accepts the installed configuration"
else
	t_dump "irisx -t" "$T_DIR/check.out"
	t_fail "irisx -t rejects the installed configuration"
fi

# An admin's configuration survives a reinstall.
echo '<!-- local change -->' >>"$root/etc/irisx/vars.xml"
DESTDIR=$root cmake --install "$build" >"$T_DIR/install2.out" 2>&1 || t_fail "second install failed"
grep -q 'local change' "$root/etc/irisx/vars.xml" && t_ok "a second install keeps /etc/irisx" ||
	t_fail "a second install overwrote /etc/irisx/vars.xml"

unit=$root$prefix/lib/systemd/system/irisx.service
for want in 'Type=notify' "ExecStartPre=$prefix/bin/irisx -t " "ExecStart=$prefix/bin/irisx " \
	'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/irisx' \
	'AmbientCapabilities=CAP_NET_BIND_SERVICE' 'User=irisx'; do
	grep -q "^$want" "$unit" && t_ok "unit: $want" || t_fail "unit lacks $want"
done
grep -q '^u irisx ' "$root$prefix/lib/sysusers.d/irisx.conf" && t_ok "sysusers.d: the irisx user" ||
	t_fail "sysusers.d/irisx.conf does not create the irisx user"

if command -v systemd-analyze >/dev/null; then
	# The unit as it would be if installed at the root: its binaries are
	# looked up in the staging root, its man pages too.
	mkdir -p "$T_DIR/verify"
	sed "s|$prefix/bin/|$root$prefix/bin/|g" "$unit" >"$T_DIR/verify/irisx.service"
	if MANPATH=$root$prefix/share/man systemd-analyze verify "$T_DIR/verify/irisx.service" \
		>"$T_DIR/verify.out" 2>&1; then
		t_ok "systemd-analyze verify"
	else
		t_dump "systemd-analyze verify" "$T_DIR/verify.out"
		t_fail "systemd-analyze verify rejects the unit"
	fi
else
	t_log "SKIP: systemd-analyze is not installed; the unit was not verified"
fi
t_end
