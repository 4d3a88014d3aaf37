#!/bin/sh
# ctrace analyze: jstack deadlocks and --fail-on on the real JDK dumps in tests/data, and the
# errors people get for files that are not dumps (each names the file and the line).
. "$TOP/tests/integration/lib.sh"
DATA="$TOP/tests/data"

expect_exit 3 "$CTRACE" analyze --fail-on deadlock "$DATA/jstack-l-deadlock.txt"
printf '%s\n' "$OUT" | grep -q '^Found 2 deadlocks\.$' || fail "want 2 deadlocks: $OUT"
printf '%s\n' "$OUT" | grep -q '"monitor-1" (tid [0-9]*) waits for lock 0x000000069ec19848, held by "monitor-2"' ||
	fail "monitor-1 -> monitor-2 missing: $OUT"
printf '%s\n' "$OUT" | grep -q '"rlock-2" (tid [0-9]*) waits for lock 0x000000069ec199c0, held by "rlock-1"' ||
	fail "rlock-2 -> rlock-1 missing: $OUT"
expect_exit 3 "$CTRACE" analyze --fail-on stuck "$DATA/jstack-l-deadlock.txt"
expect_exit 0 "$CTRACE" analyze "$DATA/jstack-l-deadlock.txt"
# without -l only the monitor deadlock is visible; two dumps compare as two snapshots
expect_exit 0 "$CTRACE" analyze -f json "$DATA/jstack-deadlock.txt" "$DATA/jstack-l-deadlock.txt"
printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["source"] == "jstack" and d["snapshots"] == 2, (d["source"], d["snapshots"])
cycles = sorted(sorted(t["name"] for t in dl["threads"]) for dl in d["deadlocks"])
assert cycles == [["monitor-1", "monitor-2"], ["rlock-1", "rlock-2"]], cycles
waiter = [t for t in d["threads"] if t["name"] == "waiter"][0]
assert waiter["locks_held"] == [] and waiter["deadlock"] is None, waiter
' || fail "jstack json analysis (see above)"
expect_exit 0 "$CTRACE" analyze -f json -o "$TMP/r.json" "$DATA/jstack-deadlock.txt"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["deadlocks"]) == 1, d["deadlocks"]' "$TMP/r.json" ||
	fail "-o: want the monitor deadlock only"

# errors
expect_exit 1 "$CTRACE" analyze "$TMP/nonexistent"
printf '%s\n' "$ERR" | grep -q "cannot open $TMP/nonexistent" || fail "missing file: $ERR"
expect_exit 1 "$CTRACE" analyze "$CTRACE"
printf '%s\n' "$ERR" | grep -q "^ctrace: $CTRACE:[0-9]*: binary data" || fail "binary file: $ERR"
printf 'Thread 1 (LWP 10):\n#0  0x1 in a ()\n#1x in b ()\n' >"$TMP/bad.txt"
expect_exit 1 "$CTRACE" analyze "$TMP/bad.txt"
printf '%s\n' "$ERR" | grep -q "^ctrace: $TMP/bad.txt:3: malformed gdb frame line" || fail "bad frame: $ERR"
printf 'just some text\n' >"$TMP/text.txt"
expect_exit 1 "$CTRACE" analyze "$TMP/text.txt"
printf '%s\n' "$ERR" | grep -q "not a thread dump ctrace knows" || fail "text file: $ERR"
: >"$TMP/empty.txt"
expect_exit 1 "$CTRACE" analyze "$TMP/empty.txt"
printf '%s\n' "$ERR" | grep -q "empty" || fail "empty file: $ERR"
expect_exit 1 "$CTRACE" analyze "$TMP"
printf '%s\n' "$ERR" | grep -q "is a directory" || fail "directory: $ERR"
# a 1 GiB line (streamed, never on disk) is refused at the 1 MiB line cap, in bounded memory
python3 - "$CTRACE" <<'PY' || fail "1 GiB line (see above)"
import os, subprocess, sys
p = subprocess.Popen([sys.argv[1], "analyze", "-"], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                     stdout=subprocess.DEVNULL)
try:
    p.stdin.write(b"PID 1 - process\nTID 1:\n#0  0x1 ")
    block = b"A" * (1 << 20)
    for _ in range(1024):
        p.stdin.write(block)
    p.stdin.close()
except BrokenPipeError:
    pass
err = p.stderr.read().decode()
_, status, ru = os.wait4(p.pid, 0)
assert os.waitstatus_to_exitcode(status) == 1, status
assert "standard input:3: line longer than 1048576 bytes" in err, err
assert ru.ru_maxrss < 64 * 1024, "max rss %d KiB" % ru.ru_maxrss
PY
expect_usage "which dump\? give one or more files" "$CTRACE" analyze
expect_usage "standard input \(-\) can be read only once" "$CTRACE" analyze - -
expect_usage "analyze reads saved dumps, not a live process: drop -p" "$CTRACE" analyze -p 1 "$DATA/jstack-deadlock.txt"
expect_usage "analyze writes text or json, not folded" "$CTRACE" analyze -f folded "$DATA/jstack-deadlock.txt"
expect_usage "--fail-on wants 'deadlock' or 'stuck', got 'nothing'" "$CTRACE" analyze --fail-on nothing "$DATA/jstack-deadlock.txt"
exit 0
