#!/bin/sh
# ctrace --memory: level 1 on fixtures, glibc arenas against the fixture's own mallinfo2() (every
# field within 1 %), and the bad cases: corrupted heap, arena lock held, lists changing, no heap,
# a static binary, libc without debug information, a process that exits, jemalloc (redis-server).
. "$TOP/tests/integration/lib.sh"
need_ptrace
XDG_CACHE_HOME="$TMP/cache"
unset CTRACE_CACHE_DIR # this test checks the cache under XDG_CACHE_HOME
export XDG_CACHE_HOME

# compare FILE JSON: every mallinfo2 field the fixture wrote must match within 1 %
compare() {
	python3 - "$1" "$2" <<'PY' || fail "arena numbers differ from the fixture's mallinfo2()"
import json, sys
want = dict((k, int(v)) for k, v in (l.split() for l in open(sys.argv[1])))
doc = json.load(open(sys.argv[2]))
assert doc["version"] == 1
got = doc["malloc"]["total"]
bad = [f"{k}: ctrace {got[k]} mallinfo2 {v}" for k, v in want.items()
       if abs(got[k] - v) > 0.01 * v]
print("\n".join(f"{k} {v} {got[k]}" for k, v in want.items()))
if bad:
    print("MISMATCH: " + "; ".join(bad))
    sys.exit(1)
PY
}

# 1. heapmix: main arena, three thread arenas, mmapped chunks, fragmented free lists
start_fixture heapmix "$TMP/mi.txt"
expect_exit 0 "$CTRACE" -p "$FPID" --memory -f json
echo "$OUT" >"$TMP/m.json"
compare "$TMP/mi.txt" "$TMP/m.json"
python3 - "$TMP/m.json" <<'PY' || fail "heapmix JSON lacks what it should hold"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["malloc"]
assert d["allocator"]["name"] == "glibc", d["allocator"]
assert len(m["arenas"]) == 4, len(m["arenas"])
assert m["arenas"][0]["main"] and not any(a["main"] for a in m["arenas"][1:])
assert all(a["heaps"] >= 1 for a in m["arenas"][1:])
assert not m["approximate"]
assert d["threads"] == 4 and d["stacks"]["count"] == 4, d["stacks"]
kinds = {g["kind"] for g in d["mappings"]}
assert {"heap", "arena", "stack", "file"} <= kinds, kinds
assert d["totals"]["rss"] > 0 and d["fds"] >= 3
PY
# the layout is cached per libc build-id; a second run uses it and gets the same numbers; a cache
# file that is malformed, or writable by others, is ignored
layout=$(ls "$XDG_CACHE_HOME"/ctrace/glibc-malloc-*.layout) || fail "no layout cached"
cached_run() { # cached_run True|False: the numbers still match, and the cache was (not) used
	expect_exit 0 "$CTRACE" -p "$FPID" --memory -f json
	echo "$OUT" >"$TMP/m2.json"
	compare "$TMP/mi.txt" "$TMP/m2.json"
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["malloc"]["layout_cached"])' "$TMP/m2.json" |
		grep -qx "$1" || fail "layout_cached is not $1 ($2)"
}
cached_run True "a second run"
printf 'ctrace glibc malloc layout 1\nmalloc_state.top 99999 8 1\n' >"$layout"
cached_run False "a malformed cache file"
chmod 0666 "$layout"          # the run above wrote a good one again
cached_run False "a cache file others may write"
expect_exit 0 "$CTRACE" -p "$FPID" --memory
echo "$OUT" | grep -q '^  \[heap\] ' || fail "no [heap] line: $OUT"
echo "$OUT" | grep -q 'stack of thread' || fail "no thread stacks: $OUT"
echo "$OUT" | grep -q '^allocator: glibc malloc' || fail "allocator not named: $OUT"
echo "$OUT" | grep -q '^  total ' || fail "no arena total: $OUT"
assert_not_traced "$FPID"
expect_exit 0 "$CTRACE" -p "$FPID" --memory --no-arenas -f json
echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["malloc"] is None' ||
	fail "--no-arenas still read the arenas"

# 2. a corrupted chunk header: a partial, approximate answer, no crash
start_fixture heapmix "$TMP/mi2.txt" corrupt
expect_exit 2 "$CTRACE" -p "$FPID" --memory -f json
echo "$ERR" | grep -q approximate || fail "corruption not reported: $ERR"
echo "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["malloc"]["approximate"]
bad = [a for a in d["malloc"]["arenas"] if a["problem"]]
assert bad and bad[0]["main"], d["malloc"]["arenas"]
print(bad[0]["problem"])' || fail "corrupted arena not marked"

# 2a. a fastbin that loops onto itself: cut, said, no hang
start_fixture heapmix "$TMP/mi2a.txt" loop
expect_exit 2 "$CTRACE" -p "$FPID" --memory
echo "$OUT" | grep -q 'fastbin [0-9]* loops back' || fail "fastbin loop not reported: $OUT"

# 2b. the main arena's lock held by a thread of the target (blocked in malloc_stats()): read anyway,
# said to be locked, and nothing waits for the lock
start_fixture heapmix "$TMP/mi2b.txt" locked
expect_exit 0 "$CTRACE" -p "$FPID" --memory -f json
echo "$OUT" >"$TMP/l.json"
compare "$TMP/mi2b.txt" "$TMP/l.json"
python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["malloc"]["arenas"]; assert a[0]["locked"], a[0]' "$TMP/l.json" ||
	fail "held arena lock not reported"

# 3. lists changing during the walk: any answer is 0 or 2 with valid JSON
start_fixture heapmix "$TMP/mi3.txt" churn
for i in 1 2; do
	"$CTRACE" -p "$FPID" --memory -f json >"$TMP/c.json" 2>"$TMP/c.err"
	rc=$?
	[ $rc = 0 ] || [ $rc = 2 ] || fail "churn: exit $rc: $(cat "$TMP/c.err")"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))["malloc"]["total"]["arena"]' "$TMP/c.json" ||
		fail "churn: bad JSON"
done

# 4. no heap at all, and a static binary
start_fixture noheap
expect_exit 0 "$CTRACE" -p "$FPID" --memory
echo "$OUT" | grep -q 'malloc has not been called' || fail "noheap: $OUT"
start_fixture staticheap
expect_exit 0 "$CTRACE" -p "$FPID" --memory
echo "$OUT" | grep -q 'statically linked' || fail "static: $OUT"
echo "$OUT" | grep -q '^  \[heap\] ' || fail "static: no [heap]: $OUT"

# 5. libc without debug information: say so, name the package, still print level 1
if command -v objcopy >/dev/null; then
	mkdir -p "$TMP/lib"
	libc=$(ldd "$FIXTURES/heapmix" | awk '/libc.so.6/ {print $3}')
	objcopy --remove-section=.note.gnu.build-id --remove-section=.gnu_debuglink "$libc" "$TMP/lib/libc.so.6"
	LD_LIBRARY_PATH="$TMP/lib" "$FIXTURES/heapmix" "$TMP/mi5.txt" >"$TMP/nd.out" 2>&1 &
	NPID=$!
	PIDS="$PIDS $NPID"
	i=0
	while ! grep -q ready "$TMP/nd.out"; do i=$((i + 1)); [ $i -gt 100 ] && fail "no ready"; sleep 0.05; done
	expect_exit 0 "$CTRACE" -p "$NPID" --memory
	echo "$OUT" | grep -q 'libc6-dbg' || fail "no package named: $OUT"
	echo "$OUT" | grep -q '^  \[heap\] ' || fail "level 1 missing without debug info: $OUT"
else
	skip_case "5. libc without debug information" "objcopy is not installed (binutils)"
fi

# 6. a process that exits while ctrace reads it: exit 0, 1 or 2 with a message, never a crash
for i in 1 3 5; do
	"$FIXTURES/heapmix" "$TMP/mi6.txt" >/dev/null 2>&1 &
	XP=$!
	sleep 0.0$i
	kill -KILL $XP 2>/dev/null &
	"$CTRACE" -p "$XP" --memory >/dev/null 2>"$TMP/x.err"
	rc=$?
	wait $XP 2>/dev/null
	case $rc in 0|1|2) ;; *) fail "exit $rc on a process that exits: $(cat "$TMP/x.err")" ;; esac
	[ $rc = 0 ] || [ -s "$TMP/x.err" ] || fail "exit $rc without a message"
done

# 7. python3, a real program
python3 -c 'import time; x = [bytearray(100 + i % 3000) for i in range(20000)]; del x[::3]; print("ready", flush=True); time.sleep(120)' >"$TMP/py.out" &
PY=$!
PIDS="$PIDS $PY"
i=0
while ! grep -q ready "$TMP/py.out"; do i=$((i + 1)); [ $i -gt 200 ] && fail "python3 not ready"; sleep 0.05; done
expect_exit 0 "$CTRACE" -p "$PY" --memory -f json
echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["malloc"]["total"]["uordblks"] > 1000000, d["malloc"]' ||
	fail "python3: implausible arena numbers"

# 8. an allocator linked into the executable is found by its symbols
start_fixture linkedalloc
expect_exit 0 "$CTRACE" -p "$FPID" --memory -f json
echo "$OUT" | python3 -c 'import json,sys; a=json.load(sys.stdin)["allocator"]; assert a["name"] == "jemalloc" and a["linked_in"], a' ||
	fail "linked-in jemalloc not found: $OUT"

# 9. jemalloc, when redis-server is installed (Debian links it with libjemalloc2)
if command -v redis-server >/dev/null; then
	port=$((20000 + $$ % 20000))
	redis-server --port $port --save '' --appendonly no >"$TMP/redis.log" 2>&1 &
	RP=$!
	PIDS="$PIDS $RP"
	sleep 0.5
	kill -0 $RP 2>/dev/null || fail "redis-server did not start: $(cat "$TMP/redis.log")"
	expect_exit 0 "$CTRACE" -p "$RP" --memory -f json
	echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["allocator"]["name"] == "jemalloc", d["allocator"]' ||
		fail "redis-server: jemalloc not detected"
else
	skip_case "9. jemalloc in redis-server" "redis-server is not installed (make deps)"
fi
exit 0
