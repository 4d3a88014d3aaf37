# A target in a chroot plants symlinks to absolute paths where ctrace looks for its files: ctrace
# resolves them inside the target's root (openat2 RESOLVE_IN_ROOT on /proc/PID/root), never on the
# host. /proc/PID/maps names the target's library by its host path, $R/opt/libplugin.so; inside the
# root the target made that path a symlink to "$TMP/host-secret.so", an absolute path that exists
# only on the host. A plain open of /proc/PID/root$R/opt/libplugin.so follows it to the host's file
# (checked below); ctrace must not, whether it runs as root (it reads /proc/PID/map_files) or as
# the target's user (map_files is refused: the root is the only way). Checked by content (the
# host's library names its function plugin_wait_host) and by strace -y: no descriptor ctrace
# opens is the host's file.
. "$TOP/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for unshare --mount, mount --bind and chroot"
for c in unshare setpriv chroot strace; do command -v $c >/dev/null || skip "needs $c"; done
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
# inside the root: the host path of the library, a symlink to an absolute host path
mkdir -p "$R$R/opt"
ln -s "$TMP/host-secret.so" "$R$R/opt/libplugin.so"

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
# the trap is real: a path walk through the magic link follows the absolute symlink to the host
as_target cat "/proc/$FPID/root$R/opt/libplugin.so" | grep -q plugin_wait_host ||
	fail "harness: /proc/PID/root$R/opt/libplugin.so does not lead to the host's file"

check() { # WHO LOG
	printf '%s\n' "$OUT" | grep -q plugin_wait_host && fail "$1: symbolized from the host's file: $OUT"
	grep -E '= [0-9]+<[^>]*host-secret' "$2" && fail "$1 opened the host's file"
	assert_not_traced "$FPID"
}
# as the target's user: map_files is refused, so ctrace opens the library in the target's root
mkdir -m 700 "$TMP/nobody" && chown 65534:65534 "$TMP/nobody"
# (paths in maps are the host's, so nothing is found in the root: no symbols, exit 2, partial)
as_target strace -f -y -qq -o "$TMP/nobody/strace" -e trace=open,openat,openat2 \
	"$CTRACE" -p "$FPID" --backtraces >"$TMP/out" 2>"$TMP/err"
rc=$?
OUT=$(cat "$TMP/out")
[ $rc = 0 ] || [ $rc = 2 ] || fail "uid 65534: exit $rc: $(cat "$TMP/err")"
grep -q "openat2(.*opt/libplugin.so" "$TMP/nobody/strace" ||
	fail "uid 65534: ctrace did not look for the library in the target's root: $(grep libplugin "$TMP/nobody/strace")"
check "uid 65534" "$TMP/nobody/strace"
note "uid 65534: $(grep 'openat2(.*opt/libplugin.so' "$TMP/nobody/strace" | head -n 1)"
# as root: the library comes from /proc/PID/map_files, the file the target really mapped
expect_exit 0 strace -f -y -qq -o "$TMP/root.strace" -e trace=open,openat,openat2 "$CTRACE" -p "$FPID" --backtraces
check root "$TMP/root.strace"
printf '%s\n' "$OUT" | grep -Eq ' in plugin_wait_container\+0x[0-9a-f]+ \(libplugin\.so\)' ||
	fail "root: the library the target mapped was not used: $OUT"
printf '%s\n' "$OUT" | grep -Eq ' in main\+0x[0-9a-f]+ \(plugin\)' || fail "root: main not reached: $OUT"
exit 0
