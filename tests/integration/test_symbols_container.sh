# A target in another mount namespace whose library differs from the host's file at the same path:
# its modules are read as the target sees them (map_files as root; /proc/PID/root without
# CAP_SYS_ADMIN), never from the host's path.
. "$TOP/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root for unshare --mount and mount --bind"
command -v unshare >/dev/null && command -v setpriv >/dev/null || skip "needs unshare and setpriv (util-linux)"
unshare --mount --pid --fork true 2>/dev/null || skip "unshare --mount --pid is not permitted here"
need_ptrace

chmod 755 "$TMP"
mkdir -m 755 "$TMP/lib"
cp "$FIXTURES/libplugin-host.so" "$TMP/lib/libplugin.so"
chmod 644 "$TMP/lib/libplugin.so"
# inside the new namespace, the container build of the library is mounted over the host's one
unshare --mount --pid --fork sh -c "mount --bind '$FIXTURES/libplugin-container.so' '$TMP/lib/libplugin.so' &&
	exec setpriv --reuid=65534 --regid=65534 --clear-groups '$FIXTURES/plugin' '$TMP/lib/libplugin.so'" \
	>"$TMP/plugin.out" 2>&1 &
UPID=$!
PIDS="$PIDS $UPID"
i=0
while ! grep -q '^ready 1$' "$TMP/plugin.out"; do # PID 1 in its own namespace
	i=$((i + 1)); [ $i -gt 200 ] && fail "containerized fixture did not start: $(cat "$TMP/plugin.out")"
	sleep 0.05
done
FPID=$(pgrep -f "fixtures/plugin $TMP/lib/libplugin.so" | while read -r p; do
	[ "$(readlink /proc/$p/exe)" = "$FIXTURES/plugin" ] && echo "$p"; done | head -n 1)
[ -n "$FPID" ] || fail "cannot find the fixture's host PID"
PIDS="$PIDS $FPID"
grep -q plugin_wait_host "$TMP/lib/libplugin.so" || fail "harness: host library changed"

check() { # $1: who runs ctrace
	printf '%s\n' "$OUT" | grep -Eq ' in plugin_wait_container\+0x[0-9a-f]+ \(libplugin\.so\) plugin\.c:[0-9]+' ||
		fail "$1: the container's library was not used: $OUT"
	printf '%s\n' "$OUT" | grep -q plugin_wait_host && fail "$1: named from the host's file: $OUT"
	printf '%s\n' "$OUT" | grep -Eq ' in main\+0x[0-9a-f]+ \(plugin\)' || fail "$1: main not reached: $OUT"
	assert_not_traced "$FPID"
}
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
check root
# the target's user, without CAP_SYS_ADMIN: map_files is closed, /proc/PID/root is the way
expect_exit 0 setpriv --reuid=65534 --regid=65534 --clear-groups "$CTRACE" -p "$FPID" --backtraces
check "uid 65534"
exit 0
