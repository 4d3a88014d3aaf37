# A set-uid (or set-gid) root copy of ctrace, run by an unprivileged user, refuses to run: as
# set-uid it would let any user read and stop any process.
. "$TOP/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to make a set-uid root copy of ctrace"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing to run ctrace as nobody"
chmod 711 "$TMP"
dir="$TMP/suid"
mkdir -m 755 "$dir"
cp "$CTRACE" "$dir/ctrace"
chown root:root "$dir/ctrace"
chmod 755 "$dir/ctrace"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody true 2>/dev/null || skip "cannot switch to uid 65534 with setpriv here"
# Without the bit, nobody may run it: the refusal below is the bit's doing.
expect_exit 0 as_nobody "$dir/ctrace" --version
if findmnt -n -o OPTIONS -T "$dir" 2>/dev/null | grep -qw nosuid; then
	skip "$TMP is on a nosuid file system: the set-uid bit would be ignored"
fi
chmod 4755 "$dir/ctrace"
expect_usage "must not run set-uid" as_nobody "$dir/ctrace" --version
[ -z "$OUT" ] || fail "set-uid copy printed: $OUT"
expect_usage "must not run set-uid" as_nobody "$dir/ctrace" -p 1 --backtraces
chmod 2755 "$dir/ctrace"
expect_usage "must not run set-uid or set-gid" as_nobody "$dir/ctrace" --version
echo "set-uid and set-gid copies refuse to run: $ERR"
