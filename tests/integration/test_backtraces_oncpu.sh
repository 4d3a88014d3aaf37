# --backtraces reads a thread that is running (state R) from a perf sample instead of stopping it
# on a saturated machine (attach/oncpu.c): spinners' threads come out sampled, never stopped, with the stacks eu-stack
# (which stops them) sees; --always-stop, a seccomp filter refusing perf_event_open and a thread
# spinning under 48 KiB of frames (deeper than a sample's 32 KiB copy) are stopped instead, with
# the same stacks. Nothing is left traced. --no-bpf throughout: the threads waiting for a CPU are
# otherwise read from the registers the kernel saved (test_backtraces_kregs), and few are left to
# the samples.
# check: alone (saturates the machine on purpose: run without other tests)
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v eu-stack >/dev/null || skip "eu-stack is not installed (make deps)"
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2)
if [ "$(id -u)" != 0 ] && [ "$paranoid" -gt 0 ]; then
	skip "cpu-wide perf events need root or perf_event_paranoid <= 0 (it is $paranoid): every thread is stopped here"
fi
[ "$(perf_probe)" = available ] || skip "perf_event_open is $(perf_probe) here"

# funcs JSON: per spinning thread "tid fn1,fn2,…" (the innermost first) and whether it was sampled
funcs() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["threads"]:
    if not t["name"].startswith("spin-"):
        continue
    fns = [f.get("function") or "?" for f in t["frames"]]
    print(t["tid"], ",".join(fns), "sampled" if t["sampled"] else "stopped", t["stop_us"])
PY
}
# same_as_eu OURS EU: every spinning thread's functions, as far as eu-stack goes, are ours
same_as_eu() {
	python3 - "$1" "$2" <<'PY' || fail "stacks differ from eu-stack's: $(cat "$TMP/diff")"
import sys
eu = {}
for line in open(sys.argv[2]):
    p = line.split()
    if len(p) == 2:
        eu[p[0]] = p[1].split(",")
bad = []
n = 0
for line in open(sys.argv[1]):
    tid, fns = line.split()[:2]
    ours = fns.split(",")
    theirs = [f for f in eu.get(tid, []) if f.startswith("spin_") or f == "start_thread"]
    mine = [f for f in ours if f.startswith("spin_") or f == "start_thread"]
    n += 1
    # a running thread moves on between the two captures, but not out of its spin loop
    if mine != theirs:
        bad.append(f"{tid}: ours {mine} eu-stack {theirs}")
open(sys.argv[1] + ".n", "w").write(str(n))
if bad or n == 0:
    open(sys.argv[2].rsplit("/", 1)[0] + "/diff", "w").write("; ".join(bad[:5]) or "no thread")
    sys.exit(1)
PY
}

# more spinning threads than CPUs: the machine is saturated (only then are they sampled)
N=$(( $(nproc) * 3 ))
[ $N -gt 48 ] && N=48
start_fixture spinners $N
P=$FPID
sleep 0.3
expect_exit 0 "$CTRACE" -p $P --backtraces --no-bpf -f json -v -o "$TMP/bt.json"
echo "$ERR" | grep -q "threads on a CPU: [0-9]* of $N read from perf samples" || fail "-v says nothing of the samples: $ERR"
funcs "$TMP/bt.json" >"$TMP/ours"
sampled=$(grep -c ' sampled ' "$TMP/ours")
# a thread may be off its CPU for more than the wait (then it is stopped); most are sampled
[ "$sampled" -ge $((N * 2 / 3)) ] || fail "only $sampled of $N spinning threads read from samples: $(cat "$TMP/ours"); $ERR"
awk '$3 == "sampled" && $4 != 0 { exit 1 }' "$TMP/ours" || fail "a sampled thread has a stop time: $(cat "$TMP/ours")"
grep ' sampled ' "$TMP/ours" | grep -qv 'spin_inner,spin_mid,spin_outer,start_thread,clone3' &&
	fail "a sampled thread's stack is not spin_inner < spin_mid < spin_outer < start_thread < clone3: $(cat "$TMP/ours")"
eu-stack -p $P >"$TMP/eu.txt" 2>"$TMP/eu.err" || fail "eu-stack failed: $(cat "$TMP/eu.err")"
eu_stacks "$TMP/eu.txt" 3 >"$TMP/eu"
same_as_eu "$TMP/ours" "$TMP/eu"
note "$N spinning threads: $sampled read from perf samples, the rest stopped; stacks as eu-stack's"
assert_not_traced $P
# the text report says how each thread was read; analyze reads the dump
expect_exit 0 "$CTRACE" -p $P --backtraces --no-bpf -o "$TMP/bt.txt"
grep -q '^Thread .* R (running) \[read without stopping: perf sample\]' "$TMP/bt.txt" || fail "text: no sampled thread: $(cat "$TMP/bt.txt")"
expect_exit 0 "$CTRACE" analyze "$TMP/bt.json" -f json -o "$TMP/an.json"
json_check "$TMP/an.json" "d['summary']['running'] + d['summary']['spinning'] == $N" ||
	fail "analyze of the dump does not see $N threads on a CPU: $(cat "$TMP/an.json")"

# --always-stop: every thread stopped, the same stacks
expect_exit 0 "$CTRACE" -p $P --backtraces --always-stop -f json -v -o "$TMP/stop.json"
echo "$ERR" | grep -q "threads on a CPU" && fail "--always-stop still sampled: $ERR"
funcs "$TMP/stop.json" >"$TMP/stop"
grep -q ' sampled ' "$TMP/stop" && fail "--always-stop: a thread was sampled: $(cat "$TMP/stop")"
same_as_eu "$TMP/stop" "$TMP/eu"

# perf_event_open refused (a seccomp filter, as in a container): stopped, the same stacks
expect_exit 0 "$FIXTURES/noperf" "$CTRACE" -p $P --backtraces -f json -v -o "$TMP/noperf.json"
echo "$ERR" | grep -q "threads on a CPU: stopped: no cpu-wide perf event" || fail "-v does not say why none was sampled: $ERR"
funcs "$TMP/noperf.json" >"$TMP/noperf"
grep -q ' sampled ' "$TMP/noperf" && fail "perf refused, yet a thread was sampled: $(cat "$TMP/noperf")"
same_as_eu "$TMP/noperf" "$TMP/eu"
assert_not_traced $P
kill -KILL $P

# 48 KiB of frames above the spin loop: a sample's 32 KiB copy cannot hold the stack, so the
# threads are stopped, and their stacks are whole (48 spin_deep frames)
D=$(( $(nproc) + 2 ))
start_fixture spinners $D 48
P=$FPID
sleep 0.3
expect_exit 0 "$CTRACE" -p $P --backtraces --no-bpf -f json -v -o "$TMP/deep.json"
echo "$ERR" | grep -Eq "threads on a CPU: 0 of $D read from perf samples .*$D stopped instead, $D of them with a stack deeper" ||
	note "deep stacks: not every thread was met running or sampled before it was handed back: $ERR"
funcs "$TMP/deep.json" >"$TMP/deep"
grep -q ' sampled ' "$TMP/deep" && fail "a thread deeper than a sample's copy was sampled: $(cat "$TMP/deep")"
awk '{ n = split($2, f, ","); d = 0; for (i = 1; i <= n; i++) d += f[i] == "spin_deep"; if (d != 48) exit 1 }' "$TMP/deep" ||
	fail "deep threads' stacks are not whole: $(cat "$TMP/deep")"
assert_not_traced $P
kill -KILL $P
echo "running threads read from perf samples, with eu-stack's stacks; stopped when refused, asked or too deep"
