#!/bin/sh
# ctrace --threads on the stuck fixture (tests/fixtures/stuck.c documents every thread): exactly the
# two deadlocks, the holder of the waiters' mutex, the spinners and nobody else spinning, what the
# reader waits on; --fail-on exits 3; the JSON report parses and says the same.
. "$TOP/tests/integration/lib.sh"
need_ptrace
start_fixture stuck

expect_exit 0 "$CTRACE" -p "$FPID" --threads --interval 300
printf '%s\n' "$OUT" >"$TMP/text"
grep -q '^Found 2 deadlocks\.$' "$TMP/text" || fail "want 2 deadlocks: $OUT"
grep -q '^Deadlock 1 (2 threads):$' "$TMP/text" || fail "want the AB-BA deadlock first: $OUT"
grep -q '^Deadlock 2 (3 threads):$' "$TMP/text" || fail "want the 3-cycle: $OUT"
grep -q '"ab-1" (tid [0-9]*) waits for mutex 0x[0-9a-f]*, held by "ab-2"' "$TMP/text" || fail "ab-1 -> ab-2 missing"
grep -q '"ab-2" (tid [0-9]*) waits for mutex 0x[0-9a-f]*, held by "ab-1"' "$TMP/text" || fail "ab-2 -> ab-1 missing"
for i in 0 1 2; do
	j=$(( (i + 1) % 3 ))
	grep -q "\"cyc-$i\" (tid [0-9]*) waits for mutex 0x[0-9a-f]*, held by \"cyc-$j\"" "$TMP/text" ||
		fail "cyc-$i -> cyc-$j missing: $OUT"
done
grep -q 'mutex 0x[0-9a-f]*: 4 waiting (waiter-\[0-3\]), held by "holder" (tid [0-9]*), blocked in sleep' "$TMP/text" ||
	fail "the waiters' mutex and its sleeping holder are not named: $OUT"
grep -q '^2 threads spinning: spin-\[0-1\]$' "$TMP/text" || fail "spinners not grouped as spinning: $OUT"
grep -q 'waiting: read on fd [0-9]* (pipe:\[[0-9]*\])' "$TMP/text" || fail "the reader's pipe is not named: $OUT"
grep -q '^1 thread idle: pool-idle$' "$TMP/text" || fail "pool-idle not idle: $OUT"
assert_not_traced "$FPID"

expect_exit 0 "$CTRACE" -p "$FPID" --threads --snapshots 2 --interval 300 --format json
printf '%s\n' "$OUT" >"$TMP/json"
python3 - "$TMP/json" <<'PY' || fail "json report: see above"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 1, d["version"]
assert d["snapshots"] == 2
by_name = {t["name"]: t for t in d["threads"]}
tid = {t["tid"]: t["name"] for t in d["threads"]}
cycles = sorted(sorted(x["name"] for x in dl["threads"]) for dl in d["deadlocks"])
assert cycles == [["ab-1", "ab-2"], ["cyc-0", "cyc-1", "cyc-2"]], cycles
assert d["summary"]["deadlocks"] == 2
for dl in d["deadlocks"]:
    for x in dl["threads"]:
        assert tid[x["held_by"]] != x["name"]
        assert x["lock_kind"] == "mutex"
spinning = sorted(t["name"] for t in d["threads"] if t["class"] == "spinning")
assert spinning == ["spin-0", "spin-1"], spinning
holder = by_name["holder"]
assert holder["class"] == "blocked" and holder["wait"] == "sleep", holder
for i in range(4):
    w = by_name["waiter-%d" % i]
    assert w["class"] == "blocked" and w["wait"] == "mutex", w
    assert w["waits_for"] == holder["tid"], w
    assert w["lock_waiting"] in holder["locks_held"], (w, holder)
    assert w["deadlock"] is None
assert by_name["reader"]["wait"] == "io" and "read on fd" in by_name["reader"]["why"] and "pipe:" in by_name["reader"]["why"]
assert by_name["pool-idle"]["class"] == "idle" and by_name["pool-idle"]["wait"] == "condvar"
assert by_name["stuck"]["wait"] == "join"
chains = [c for c in d["chains"] if c["holders"] == [holder["tid"]]]
assert len(chains) == 1, d["chains"]
assert d["groups"][0]["count"] == 4 and d["groups"][0]["names"] == "waiter-[0-3]", d["groups"][0]
assert d["summary"]["stuck"] is True
PY

# --idle: the reader's loop declared an idle place
expect_exit 0 "$CTRACE" -p "$FPID" --threads --snapshots 1 --idle 'reader_*' --format json
printf '%s\n' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
cls = {t["name"]: t["class"] for t in d["threads"]}
assert cls["reader"] == "idle" and cls["holder"] == "blocked", cls
' || fail "--idle did not make the reader idle"

expect_exit 3 "$CTRACE" -p "$FPID" --threads --snapshots 1 --fail-on deadlock
expect_exit 3 "$CTRACE" -p "$FPID" --threads --snapshots 2 --interval 100 --fail-on stuck
assert_not_traced "$FPID"

# No deadlock in a process without one: --fail-on deadlock passes.
start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --threads --snapshots 1 --fail-on deadlock
printf '%s\n' "$OUT" | grep -q '^No deadlock found\.$' || fail "chain fixture: $OUT"
expect_usage "--fail-on wants 'deadlock' or 'stuck', got 'nothing'" "$CTRACE" -p "$FPID" --threads --fail-on nothing
exit 0
