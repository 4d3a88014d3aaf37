# A binary deleted or replaced on disk while it runs (a package upgrade): its frames are still named,
# read through /proc/PID/map_files, and marked "(deleted)" / "deleted": true.
. "$TOP/tests/integration/lib.sh"
need_ptrace

check_named() { # $1: what happened to the file
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
	for f in f3 f2 f1 f0 main; do
		printf '%s\n' "$OUT" | grep -Eq " in $f\+0x[0-9a-f]+ \(chain \(deleted\)\) chain\.c:[0-9]+" ||
			fail "$1: frame $f not named and marked (deleted): $OUT"
	done
	printf '%s\n' "$ERR" | grep -q chain && fail "$1: warning about the module: $ERR"
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --format json
	printf '%s\n' "$OUT" | python3 -c '
import json, sys
fr = [f for t in json.load(sys.stdin)["threads"] for f in t["frames"]]
mine = [f for f in fr if f["module"] and f["module"].endswith("/chain")]
assert mine and all(f["deleted"] for f in mine), mine
assert not any(f["deleted"] for f in fr if "libc" in (f["module"] or "")), fr
assert "f3" in [f["function"] for f in mine]
' || fail "$1: JSON frames not marked deleted: $OUT"
	assert_not_traced "$FPID"
}

mkdir -p "$TMP/bin"
cp "$FIXTURES/chain" "$TMP/bin/chain"
FIXTURES=$TMP/bin start_fixture chain
rm "$TMP/bin/chain"
check_named deleted

# replaced: a different program renamed over the path, as dpkg and rpm do
cp "$FIXTURES/chain" "$TMP/bin/chain"
FIXTURES=$TMP/bin start_fixture chain
cp "$FIXTURES/threads" "$TMP/bin/chain.new"
mv "$TMP/bin/chain.new" "$TMP/bin/chain"
check_named replaced
exit 0
