#!/bin/sh
# ctrace analyze on a jstack dump taken here from a live JVM (tests/fixtures/java/Deadlock.java:
# an AB-BA monitor deadlock and a ReentrantLock deadlock): both cycles are found, exit 3.
. "$TOP/tests/integration/lib.sh"
command -v javac >/dev/null && command -v jstack >/dev/null || skip "no JDK here (javac, jstack); tests/data holds JDK 17 dumps instead"
javac -d "$TMP" "$TOP/tests/fixtures/java/Deadlock.java" || fail "javac failed"
java -cp "$TMP" Deadlock >"$TMP/java.out" 2>&1 &
JPID=$!
PIDS="$PIDS $JPID"
i=0
while ! grep -q '^ready' "$TMP/java.out"; do
	i=$((i + 1))
	[ $i -gt 300 ] && fail "the JVM did not get ready: $(cat "$TMP/java.out")"
	kill -0 $JPID 2>/dev/null || fail "the JVM died: $(cat "$TMP/java.out")"
	sleep 0.1
done
jstack -l "$JPID" >"$TMP/j1.txt" 2>"$TMP/j.err" || skip "jstack cannot attach here: $(tail -n 1 "$TMP/j.err")"
jstack -l "$JPID" >"$TMP/j2.txt" 2>/dev/null || fail "second jstack failed"
expect_exit 3 "$CTRACE" analyze --fail-on deadlock -f json "$TMP/j1.txt" "$TMP/j2.txt"
printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["snapshots"] == 2, d["snapshots"]
cycles = sorted(sorted(t["name"] for t in dl["threads"]) for dl in d["deadlocks"])
assert cycles == [["monitor-1", "monitor-2"], ["rlock-1", "rlock-2"]], cycles
' || fail "live jstack analysis (see above)"
exit 0
