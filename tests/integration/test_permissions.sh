# PERMISSIONS (issue 8): ctrace refuses to run set-uid (exit 64, says why), and an unprivileged user
# inspecting another user's process gets exit 1 with one line saying what to do, in every mode,
# and the target is left untouched.
. "$TOP/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to switch to an unprivileged user and to set the set-uid bit"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody true 2>/dev/null || skip "cannot switch to uid 65534 here"
as_nobody test -x "$CTRACE" || skip "uid 65534 cannot execute $CTRACE (a private directory)"

need_ptrace
start_fixture chain
for mode in --backtraces --threads; do
	expect_exit 1 as_nobody "$CTRACE" -p "$FPID" $mode
	echo "$ERR" | grep -q "cannot inspect process $FPID: .*root" || fail "$mode: unclear message: $ERR"
	[ "$(echo "$ERR" | wc -l)" = 1 ] || fail "$mode: more than one line: $ERR"
done
assert_not_traced "$FPID"
kill -0 "$FPID" || fail "the target died"

# a set-uid-root copy run by an unprivileged user must refuse before doing anything
chmod 755 "$TMP"
cp "$CTRACE" "$TMP/ctrace-suid"
chmod 4755 "$TMP/ctrace-suid"
if findmnt -no OPTIONS -T "$TMP" 2>/dev/null | grep -q nosuid; then
	skip_case "a set-uid-root copy" "$TMP is mounted nosuid: the set-uid bit would be ignored"
	exit 0
fi
expect_usage "must not run set-uid" as_nobody "$TMP/ctrace-suid" -p "$FPID" --backtraces
assert_not_traced "$FPID"
echo "set-uid refused, unprivileged access refused with advice, target untouched"
