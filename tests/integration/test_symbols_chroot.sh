# A target in a chroot: /proc/PID/maps names its files by their path from our root ($R/opt/...);
# without /proc/PID/map_files (as the target's user) ctrace opens them inside the target's root
# (openat2 RESOLVE_IN_ROOT on /proc/PID/root, $R stripped), so the target's own library is named.
# Then the target plants a symlink to an absolute path where its library was (a tmpfs mounted
# over $R/opt in its mount namespace, holding opt/libplugin.so -> "$TMP/host-secret.so", a path
# that exists only on the host): a plain open of /proc/PID/root/opt/libplugin.so follows it to the
# host's file (checked below); ctrace must not, whether it runs as root (it reads map_files) or as
# the target's user. Checked by content (the host's library names its function plugin_wait_host)
# and by strace -y: no descriptor ctrace opens is the host's file.
. "$TOP/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for unshare --mount, mount --bind and chroot"
for c in unshare nsenter setpriv chroot strace; do command -v $c >/dev/null || skip "needs $c"; done
unshare --mount --fork true 2>/dev/null || skip "unshare --mount is not permitted here"
[ -L /lib ] && [ -L /lib64 ] || skip "the chroot borrows /usr and needs a merged-/usr host (/lib -> usr/lib)"
need_ptrace

chmod 755 "$TMP"
R="$TMP/root"
mkdir -m 755 "$R" "$R/usr" "$R/opt" "$R/proc"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
cp "$FIXTURES/plugin" "$R/plugin"
cp "$FIXTURES/libplugin-container.so" "$R/opt/libplugin.so"
# on the host only: the file a symlink escaping the root would reach
cp "$FIXTURES/libplugin-host.so" "$TMP/host-secret.so"
chmod 644 "$R/opt/libplugin.so" "$TMP/host-secret.so"
grep -q plugin_wait_host "$TMP/host-secret.so" || fail "harness: the host library changed"
unshare --mount --fork sh -c "mount --bind -o ro /usr '$R/usr' &&
	exec chroot --userspec=65534:65534 '$R' /plugin /opt/libplugin.so" >"$TMP/plugin.out" 2>&1 &
PIDS="$PIDS $!"
i=0
while ! grep -q '^ready' "$TMP/plugin.out"; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "chrooted fixture did not start: $(cat "$TMP/plugin.out")"
	sleep 0.05
done
FPID=$(sed -n 's/^ready //p' "$TMP/plugin.out")
PIDS="$PIDS $FPID"
[ "$(readlink "/proc/$FPID/root")" = "$R" ] || fail "harness: $FPID is not in the chroot"
grep -q " $R/opt/libplugin.so\$" "/proc/$FPID/maps" || fail "harness: maps does not name $R/opt/libplugin.so"
as_target() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mkdir -m 700 "$TMP/nobody" && chown 65534:65534 "$TMP/nobody"

check() { # WHO LOG
	printf '%s\n' "$OUT" | grep -q plugin_wait_host && fail "$1: symbolized from the host's file: $OUT"
	grep -E '= [0-9]+<[^>]*host-secret' "$2" && fail "$1 opened the host's file"
	assert_not_traced "$FPID"
}
run() { # WHO LOG [as_target]: runs ctrace --backtraces under strace; OUT, RC
	who=$1 log=$2; shift 2
	"$@" strace -f -y -qq -o "$log" -e trace=open,openat,openat2 "$CTRACE" -p "$FPID" --backtraces \
		>"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	check "$who" "$log"
}
named() { # WHO: the target's library and main are in the backtrace
	printf '%s\n' "$OUT" | grep -Eq ' in plugin_wait_container\+0x[0-9a-f]+ \(libplugin\.so\)' ||
		fail "$1: the library the target mapped was not named: $OUT $(cat "$TMP/err")"
	printf '%s\n' "$OUT" | grep -Eq ' in main\+0x[0-9a-f]+ \(plugin\)' || fail "$1: main not reached: $OUT"
}

# as the target's user, map_files is refused: the files are opened in the target's root
run "uid 65534" "$TMP/nobody/strace1" as_target
[ $RC = 0 ] || fail "uid 65534: exit $RC: $(cat "$TMP/err")"
named "uid 65534"
grep -q 'openat2(.*"opt/libplugin.so"' "$TMP/nobody/strace1" ||
	fail "uid 65534: the library was not opened in the target's root: $(grep libplugin "$TMP/nobody/strace1")"
run root "$TMP/root1.strace"
[ $RC = 0 ] || fail "root: exit $RC: $(cat "$TMP/err")"
named root

# the trap: /opt/libplugin.so in the target's root becomes a symlink to a host path
nsenter --target "$FPID" --mount sh -c "mount -t tmpfs -o mode=755 tmpfs '$R/opt' &&
	ln -s '$TMP/host-secret.so' '$R/opt/libplugin.so'" || fail "harness: cannot mount over $R/opt"
as_target cat "/proc/$FPID/root/opt/libplugin.so" | grep -q plugin_wait_host ||
	fail "harness: /proc/PID/root/opt/libplugin.so does not lead to the host's file"
grep -q " $R/opt/libplugin.so\$" "/proc/$FPID/maps" || fail "harness: maps changed"
run "uid 65534" "$TMP/nobody/strace2" as_target
[ $RC = 0 ] || [ $RC = 2 ] || fail "uid 65534: exit $RC: $(cat "$TMP/err")"
grep -q 'openat2(.*"opt/libplugin.so"' "$TMP/nobody/strace2" ||
	fail "uid 65534: ctrace did not look for the library in the target's root: $(grep libplugin "$TMP/nobody/strace2")"
note "uid 65534: $(grep 'openat2(.*"opt/libplugin.so"' "$TMP/nobody/strace2" | head -n 1)"
run root "$TMP/root2.strace"
[ $RC = 0 ] || fail "root: exit $RC: $(cat "$TMP/err")"
named root # from map_files: the file the target mapped
exit 0
