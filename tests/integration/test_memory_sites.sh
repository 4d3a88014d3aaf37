#!/bin/sh
# ctrace --memory --sites: allocation call stacks by uprobes, weighted by bytes requested.
# allocsites' threads request 70 % of their bytes from alloc_big() (malloc + realloc) and 30 % from
# alloc_small() (malloc, calloc, posix_memalign with a small alignment, which glibc hands to malloc:
# counted once). The target is never traced or stopped. Also python3 in an allocation loop.
. "$TOP/tests/integration/lib.sh"

# shares FOLDED: "big small total" in percent of the bytes
shares() {
	awk '{ n = $NF; t += n; if ($0 ~ /;alloc_big;/) b += n; else if ($0 ~ /;alloc_small;/) s += n }
	     END { if (!t) t = 1; printf "%.1f %.1f %d\n", 100 * b / t, 100 * s / t, t }' "$1"
}

start_fixture allocsites 4 50
P=$FPID

# uprobes need root or CAP_PERFMON: skip loudly where perf_event_open refuses them
"$CTRACE" -p $P --memory --sites -d 0.5 -o "$TMP/probe.folded" 2>"$TMP/probe.err"
rc=$?
if [ $rc != 0 ] && grep -q "perf_event_open refused\|no uprobe PMU" "$TMP/probe.err"; then
	skip "uprobes refused here: $(cat "$TMP/probe.err")"
fi
[ $rc = 0 ] || fail "--sites failed: $(cat "$TMP/probe.err")"

# folded: every line "allocsites;…;caller;allocator-function bytes"; the bytes split 70/30
( trap - EXIT INT TERM; sleep 1.5; assert_not_traced $P >"$TMP/during" 2>&1; echo done >>"$TMP/during" ) &
W=$!
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 3 -v -o "$TMP/sites.folded"
wait $W
if [ ! -s "$TMP/sites.folded" ]; then
	# Seen once in CI (stop 26, under the lanes' load) and never reproduced by hand since: a run
	# that exited 0 with no allocation at all. Its -v is kept; one more run must see them.
	note "RETRY: the first 3 s run saw no allocation; its stderr: $(echo "$ERR" | tr '\n' ' ')"
	note "RETRY: the fixture's threads: $(ls /proc/$P/task | tr '\n' ' ')"
	expect_exit 0 "$CTRACE" -p $P --memory --sites -d 3 -v -o "$TMP/sites.folded"
	[ -s "$TMP/sites.folded" ] || fail "no allocation seen twice in 3 s: $ERR"
fi
grep -q FAIL "$TMP/during" && fail "target traced during --sites: $(cat "$TMP/during")"
grep -q done "$TMP/during" || fail "the check during the run did not run"
assert_not_traced $P
kill -0 $P || fail "the fixture died under --sites"
bad=$(grep -Ev '^allocsites(;[^;]+)+ [0-9]+$' "$TMP/sites.folded" | head -n 3)
[ -z "$bad" ] || fail "lines not in folded format: $bad"
grep -q ';alloc_big;[^;]*realloc [0-9]' "$TMP/sites.folded" || fail "realloc under alloc_big missing: $(cat "$TMP/sites.folded"); stderr: $ERR"
grep -q ';alloc_small;[^;]*calloc [0-9]' "$TMP/sites.folded" || fail "calloc under alloc_small missing: $(cat "$TMP/sites.folded")"
set -- $(shares "$TMP/sites.folded")
note "alloc_big $1 % alloc_small $2 % of $3 bytes (truth 70/30)"
awk -v b="$1" -v s="$2" 'BEGIN { exit !(b >= 65 && b <= 75 && s >= 25 && s <= 35) }' ||
	fail "byte shares $1/$2, want 70/30 within 5 points: $(cat "$TMP/sites.folded")"

# text: top sites by bytes and by calls (alloc_small makes 30 of every 32 calls)
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 2 -f text -v
if ! echo "$OUT" | grep -q '^Top allocation sites by bytes'; then
	# Seen in CI (stop 28): this run ended at once with no call seen ("0 calls in 0.2 s"). -v now
	# says why sampling ended; one more run must see the calls.
	note "RETRY: the 2 s text run saw no allocation; its stderr: $(echo "$ERR" | tr '\n' ' ')"
	note "RETRY: the fixture's threads: $(ls /proc/$P/task | tr '\n' ' ')"
	expect_exit 0 "$CTRACE" -p $P --memory --sites -d 2 -f text -v
fi
echo "$OUT" | grep -q '^Top allocation sites by bytes' || fail "no sites-by-bytes table: $OUT; stderr: $ERR"
echo "$OUT" | grep -q '^Top allocation sites by calls' || fail "no sites-by-calls table: $OUT"
first_bytes=$(echo "$OUT" | sed -n '/^Top allocation sites by bytes/,/^$/p' | sed -n 3p)
first_calls=$(echo "$OUT" | sed -n '/^Top allocation sites by calls/,/^$/p' | sed -n 3p)
echo "$first_bytes" | grep -q 'alloc_big' || fail "alloc_big is not the top site by bytes: $OUT"
echo "$first_calls" | grep -q 'alloc_small' || fail "alloc_small is not the top site by calls: $OUT"
pc=$(echo "$first_calls" | awk '{print $1}')
awk -v p="$pc" 'BEGIN { exit !(p >= 88 && p <= 99) }' || fail "alloc_small's calls $pc %, want 93.75: $OUT"
echo "$OUT" | grep -Eq '^  (malloc|calloc|realloc) ' || fail "no per-function totals: $OUT"
echo "$OUT" | grep -q '^  posix_memalign' && fail "posix_memalign(16) counted besides malloc: $OUT"

# the other formats reuse --profile's renderers, in bytes
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 1 -f json -o "$TMP/s.json"
json_check "$TMP/s.json" 'd["version"] == 1' 'd["mode"] == "alloc"' 'd["bytes"] > 0' \
	'd["period_calls"] == 1' 'all("bytes" in s and s["count"] > 0 for s in d["stacks"])' \
	'any(f["name"] == "alloc_big" for f in d["frames"])' || fail "json output is wrong"
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 1 -f speedscope -o "$TMP/s.speedscope"
json_check "$TMP/s.speedscope" 'd["profiles"][0]["unit"] == "bytes"' 'sum(d["profiles"][0]["weights"]) > 0' ||
	fail "speedscope output is wrong"
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 1 -f svg -o "$TMP/s.svg"
grep -q 'alloc_big' "$TMP/s.svg" && grep -q ' bytes' "$TMP/s.svg" || fail "svg lacks alloc_big or bytes"
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 1 -f pprof -o "$TMP/s.pb.gz"
if command -v go >/dev/null; then
	HOME=$TMP GOCACHE=$TMP/gocache go tool pprof -sample_index=alloc_space -top "$TMP/s.pb.gz" >"$TMP/top" 2>&1 ||
		fail "go tool pprof: $(cat "$TMP/top")"
	grep -q 'alloc_big' "$TMP/top" || fail "pprof misses alloc_big: $(cat "$TMP/top")"
else
	skip_case "pprof read back by go tool pprof" "go is not installed (make deps: golang-go)"
fi

# flamegraph.pl draws the allocation flame graph from the folded output
FG="$TOP/tests/vendor/FlameGraph/flamegraph.pl"
if command -v perl >/dev/null; then
	perl "$FG" --countname bytes "$TMP/sites.folded" >"$TMP/fg.svg" || fail "flamegraph.pl rejected the folded output"
	grep -q 'alloc_big' "$TMP/fg.svg" || fail "flamegraph.pl's SVG does not name alloc_big"
else
	skip_case "flamegraph.pl renders the folded output" "perl is not installed"
fi

# 1 call in N: counts are scaled back up, the shares hold
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 3 -r 10 -o "$TMP/r10.folded"
set -- $(shares "$TMP/r10.folded")
note "-r 10: alloc_big $1 % alloc_small $2 %"
awk -v b="$1" 'BEGIN { exit !(b >= 62 && b <= 78) }' || fail "-r 10 byte shares $1/$2: $(cat "$TMP/r10.folded")"

# usage errors and perf_event_open refused (a seccomp filter, as in a container)
expect_usage "--watch is for --memory; --memory --sites would ignore it" "$CTRACE" -p $P --memory --sites --watch 1
expect_usage "--tid does not apply to --sites" "$CTRACE" -p $P --memory --sites --tid $P
expect_exit 1 "$FIXTURES/noperf" "$CTRACE" -p $P --memory --sites -d 1
echo "$ERR" | grep -q "perf_event_open refused a uprobe.*CAP_PERFMON" || fail "refusal not explained: $ERR"
assert_not_traced $P

# the target exits while sampled: what was seen is written
( trap - EXIT INT TERM; sleep 1; kill -KILL $P ) &
expect_exit 0 "$CTRACE" -p $P --memory --sites -d 10 -o "$TMP/exit.folded"
grep -q 'alloc_big' "$TMP/exit.folded" || fail "nothing written when the target exited: $ERR"

# python3 in an allocation loop: no crash, names CPython's allocation paths
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
if [ ! -x "$PY" ]; then
	skip_case "python3 in an allocation loop" "python3 is not installed"
	exit 0
fi
cat >"$TMP/pyalloc.py" <<'PYEOF'
import sys
print("ready", flush=True)
def grow():
    return [bytearray(1000 + i) for i in range(2000)]
while True:
    grow()
PYEOF
"$PY" "$TMP/pyalloc.py" >"$TMP/py.out" 2>&1 &
PP=$!
PIDS="$PIDS $PP"
i=0
until grep -q ready "$TMP/py.out"; do i=$((i + 1)); [ $i -gt 100 ] && fail "python did not start"; sleep 0.1; done
expect_exit 0 "$CTRACE" -p $PP --memory --sites -d 2 -r 10 -o "$TMP/py.folded"
kill -0 $PP || fail "python died under --sites"
assert_not_traced $PP
grep -Eq 'PyObject_Malloc|PyByteArray_Resize|PyMem_|_libc_malloc' "$TMP/py.folded" ||
	fail "no CPython or libc allocation frames: $(head -c 2000 "$TMP/py.folded")"
exit 0
