# JIT frames are named from /tmp/perf-PID.map (node --perf-basic-prof) and marked jit; a map file
# owned by another user than the target's is ignored with one warning.
. "$TOP/tests/integration/lib.sh"
command -v node >/dev/null || skip "node is not installed (make deps installs nodejs)"
need_ptrace

cd "$TMP" || fail "no temp dir"
node --perf-basic-prof "$TOP/tests/fixtures/jitloop.js" >"$TMP/node.out" 2>&1 &
NPID=$!
PIDS="$PIDS $NPID"
i=0
while ! grep -q '^ready' "$TMP/node.out"; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "node did not start: $(cat "$TMP/node.out")"
	sleep 0.05
done
MAP=/tmp/perf-$NPID.map
[ -f "$MAP" ] || skip "node wrote no $MAP"
trap 'rm -f "$MAP"; cleanup' EXIT

# the optimized function may be caught in hot() or in outer(): retry a few captures
found=""
for try in 1 2 3 4 5 6 7 8 9 10; do
	expect_exit 0 "$CTRACE" -p "$NPID" --backtraces
	if printf '%s\n' "$OUT" | grep -Eq ' in JS:\*(hot|outer) .*jitloop\.js.* \[jit\]'; then found=1; break; fi
	sleep 0.1
done
[ -n "$found" ] || fail "no JIT frame named from $MAP: $OUT"
# unwinding goes on past the JIT frames into node's own code
printf '%s\n' "$OUT" | grep -q 'node::Start' || fail "unwinding stopped in JIT code: $OUT"
assert_not_traced "$NPID"

for try in 1 2 3 4 5 6 7 8 9 10; do
	expect_exit 0 "$CTRACE" -p "$NPID" --backtraces --format json
	printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
jit = [f for t in d["threads"] for f in t["frames"] if f["jit"]]
assert jit and all(f["function"].startswith("JS:") and f["module"] is None for f in jit), jit
' 2>/dev/null && break
	[ $try = 10 ] && fail "no \"jit\": true frame in JSON: $OUT"
done

# untrusted map: owned by someone else than the target (root here) -> ignored, said once
if [ "$(id -u)" != 0 ]; then
	skip_case "a map owned by another user" "it needs root to chown $MAP"
	exit 0
fi
chown 65534 "$MAP" || fail "harness: root cannot chown $MAP"
expect_exit 0 "$CTRACE" -p "$NPID" --backtraces
printf '%s\n' "$OUT" | grep -q '\[jit\]' && fail "frames named from a map owned by another user: $OUT"
n=$(printf '%s\n' "$ERR" | grep -c "perf-$NPID.map is owned by uid 65534")
[ "$n" = 1 ] || fail "want one warning about the map's owner, got $n: $ERR"
exit 0
