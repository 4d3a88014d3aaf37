#!/bin/sh
# ctrace analyze on real dumps taken here by gdb ("thread apply all bt"), gstack-style gdb (pstack and
# gstack are gdb wrappers; Debian 12 ships neither, so the test runs gdb with gstack's filter),
# eu-stack (plain and -v) and ctrace itself (text and json), of the threads and chain fixtures:
# every thread is found with its functions; several dumps compare as several snapshots.
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v gdb >/dev/null || skip "gdb is not installed (make deps)"
command -v eu-stack >/dev/null || skip "eu-stack is not installed (make deps)"
start_fixture threads 3
THREADS_PID=$FPID
NTHREADS=$(ls /proc/$THREADS_PID/task | wc -l)
[ "$NTHREADS" = 10 ] || fail "the threads fixture has $NTHREADS threads, want 10"

gdb -p "$THREADS_PID" -batch -ex "thread apply all bt" >"$TMP/gdb.txt" 2>"$TMP/gdb.err" ||
	skip "gdb cannot attach here: $(tail -n 1 "$TMP/gdb.err")"
grep -q '^Thread ' "$TMP/gdb.txt" || skip "gdb printed no thread stacks: $(tail -n 3 "$TMP/gdb.err")"
gdb --quiet -nx -p "$THREADS_PID" -batch -ex "thread apply all bt" 2>&1 |
	sed -n -e 's/^\((gdb) \)*//' -e '/^#/p' -e '/^Thread/p' >"$TMP/gstack.txt"
eu-stack -p "$THREADS_PID" >"$TMP/eu.txt" 2>"$TMP/eu.err" || fail "eu-stack failed: $(cat "$TMP/eu.err")"
eu-stack -v -p "$THREADS_PID" >"$TMP/eu-v.txt" 2>&1 || fail "eu-stack -v failed"
"$CTRACE" -p "$THREADS_PID" --backtraces >"$TMP/ct.txt" || fail "ctrace --backtraces failed"
"$CTRACE" -p "$THREADS_PID" --backtraces -f json >"$TMP/ct.json" || fail "ctrace --backtraces -f json failed"
# gdb on a core file (gcore): gdb echoes the current frame first, which is not a thread
# (gcore comes with gdb, and gdb could attach above: a gcore that writes no core is a failure)
if command -v gcore >/dev/null; then
	gcore -o "$TMP/core" "$THREADS_PID" >"$TMP/gcore.out" 2>&1 && [ -s "$TMP/core.$THREADS_PID" ] ||
		fail "gcore wrote no core of $THREADS_PID: $(tail -n 3 "$TMP/gcore.out")"
	gdb -batch -ex "thread apply all bt" "$FIXTURES/threads" "$TMP/core.$THREADS_PID" >"$TMP/core.txt" 2>&1
	rm -f "$TMP/core.$THREADS_PID"
fi
assert_not_traced "$THREADS_PID"

# check_dump FILE FORMAT SNAPSHOTS: analyze FILE, then check the JSON report: format, snapshot and
# thread counts, and that each fixture function is on the stack of the thread that runs it.
check_dump() {
	expect_exit 0 "$CTRACE" analyze -v -f json "$1"
	printf '%s\n' "$OUT" >"$TMP/report.json"
	printf '%s\n' "$ERR" | grep -q ": $2 dump, $3 snapshot" || fail "$1: not read as $2 ($3 snapshots): $ERR"
	python3 - "$TMP/report.json" "$3" "$THREADS_PID" <<'PY' || fail "$1: wrong analysis (see above)"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1
assert d["snapshots"] == int(sys.argv[2]), d["snapshots"]
assert d["summary"]["threads"] == 10, d["summary"]
frames = {}
for g in d["groups"]:
    names = [f["function"] or "" for f in g["frames"]]
    for tid in g["tids"]:
        frames[tid] = names
want = {"sleeper_loop": 3, "lock_waiter": 1, "reader_loop": 1, "poller_loop": 1, "sigwaiter_loop": 1,
        "condwait_loop": 1, "spin_loop": 1, "main_wait": 1}
for fn, n in want.items():
    got = sum(1 for names in frames.values() if fn in names)
    assert got == n, (fn, got, frames)
main = frames[int(sys.argv[3])]
assert "main" in main, main
PY
}

check_dump "$TMP/gdb.txt" gdb 1
check_dump "$TMP/gstack.txt" gdb 1
if [ -e "$TMP/core.txt" ]; then
	check_dump "$TMP/core.txt" gdb 1
else
	skip_case "gdb on a core file" "no gcore here (it comes with gdb)"
fi
check_dump "$TMP/eu.txt" eu-stack 1
check_dump "$TMP/eu-v.txt" eu-stack 1
check_dump "$TMP/ct.txt" ctrace-text 1
check_dump "$TMP/ct.json" ctrace-json 1

# the text report names the functions and the thread count
expect_exit 0 "$CTRACE" analyze "$TMP/gdb.txt"
printf '%s\n' "$OUT" | grep -q "10 threads" || fail "text report without the thread count: $OUT"
printf '%s\n' "$OUT" | grep -q "sleeper_loop" || fail "text report without sleeper_loop: $OUT"

# two gdb runs appended to one file, and the same dump twice as two FILE arguments
cat "$TMP/gdb.txt" "$TMP/gdb.txt" >"$TMP/gdb2.txt"
check_dump "$TMP/gdb2.txt" gdb 2
expect_exit 0 "$CTRACE" analyze -f json "$TMP/eu.txt" "$TMP/gdb.txt" "$TMP/ct.json"
printf '%s\n' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["snapshots"] == 3, d["snapshots"]' ||
	fail "three files did not give three snapshots"
# standard input
expect_exit 0 sh -c "cat '$TMP/eu.txt' | '$CTRACE' analyze -"
printf '%s\n' "$OUT" | grep -q "sleeper_loop" || fail "stdin: $OUT"

# the chain fixture: f3 -> f2 -> f1 -> f0 -> main in that order, from gdb and eu-stack
start_fixture chain
gdb -p "$FPID" -batch -ex "thread apply all bt" >"$TMP/chain-gdb.txt" 2>/dev/null
eu-stack -p "$FPID" >"$TMP/chain-eu.txt" 2>/dev/null
assert_not_traced "$FPID"
for f in "$TMP/chain-gdb.txt" "$TMP/chain-eu.txt"; do
	expect_exit 0 "$CTRACE" analyze -f json "$f"
	printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["summary"]["threads"] == 1, d["summary"]
names = [f["function"] for f in d["groups"][0]["frames"]]
chain = [n for n in names if n in ("f3", "f2", "f1", "f0", "main")]
assert chain == ["f3", "f2", "f1", "f0", "main"], names
' || fail "$f: the chain is not f3 f2 f1 f0 main"
done
exit 0
