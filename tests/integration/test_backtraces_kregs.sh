# --backtraces reads a thread that is off every CPU (asleep in a call, or runnable and waiting for
# its turn) from the user registers the kernel saved for it, with a BPF task iterator
# (attach/kregs.c), and stops none of them:
#  - 40 sleeping threads of manythreads: every one read so, with a stop of 0, and each stack is
#    eu-stack's to the program counter (eu-stack stops the threads: an independent truth), with
#    the same system calls, names and states as --always-stop sees (from /proc);
#  - 3 x nproc spinning threads (a saturated machine): every one read without a stop (registers
#    the kernel saved, or a perf sample for the few on a CPU), with eu-stack's spin functions;
#  - bpf() refused by a seccomp filter (as in a container) or --no-bpf: stopped as before, the same
#    stacks; -v says why. Nothing is left traced.
# check: alone (saturates the machine on purpose: run without other tests)
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v eu-stack >/dev/null || skip "eu-stack is not installed (make deps)"

# pcs JSON: per thread "tid pc1,pc2,…" (inlined frames left out: eu-stack shows one per pc), the
# syscall, how it was read and its stop
pcs() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["threads"]:
    pcs = [int(f["pc"], 16) for f in t["frames"] if not f.get("inlined") and f.get("pc")]
    sc = (t.get("syscall") or {}).get("name") or "-"
    how = "kregs" if t["kernel_regs"] else "sampled" if t["sampled"] else "passive" if t["passive"] else "stopped"
    print(t["tid"], ",".join("%x" % p for p in pcs) or "-", sc, how, t["stop_us"], t["name"], t["state"])
PY
}
# same_pcs OURS EU: every thread's innermost pc is eu-stack's, and eu-stack's frames are ours in
# order, pc for pc (ours may hold more: the frames symbolize/tailcalls.c restores)
same_pcs() {
	python3 - "$1" "$2" <<'PY' || fail "stacks differ from eu-stack's: $(cat "$TMP/diff")"
import sys
rows = [line.split() for line in open(sys.argv[2])]
eu = {r[0]: r[1].split(",") for r in rows if len(r) == 2}
bad, n = [], 0
for line in open(sys.argv[1]):
    tid, pcs = line.split()[:2]
    ours = pcs.split(",")
    theirs = eu.get(tid)
    n += 1
    it = iter(ours)
    if not theirs or len(theirs) < 3 or ours[0] != theirs[0] or not all(pc in it for pc in theirs):
        bad.append(f"{tid}: ours {ours} eu-stack {theirs}")
if bad or n == 0:
    open(sys.argv[2].rsplit("/", 1)[0] + "/diff", "w").write("; ".join(bad[:4]) or "no thread")
    sys.exit(1)
PY
}

# --- 1. sleeping threads: read from the kernel-saved registers, eu-stack's stacks
start_fixture manythreads 40
P=$FPID
expect_exit 0 "$CTRACE" -p $P --backtraces -f json -v -o "$TMP/kr.json"
if echo "$ERR" | grep -q "threads off a CPU: not used"; then
	skip "the BPF task iterator is not available here ($(echo "$ERR" | grep 'threads off a CPU'))"
fi
echo "$ERR" | grep -Eq "threads off a CPU: 40 of 40 threads read from the registers the kernel saved" ||
	fail "-v: not every sleeping thread read from the kernel-saved registers: $ERR"
pcs "$TMP/kr.json" >"$TMP/kr"
awk '$4 != "kregs" || $5 != 0 { exit 1 }' "$TMP/kr" || fail "a sleeping thread was stopped: $(cat "$TMP/kr")"
json_check "$TMP/kr.json" "d['stats']['max_stop_us'] == 0" || fail "a stop was counted: $(head -c 600 "$TMP/kr.json")"
eu-stack -p $P >"$TMP/eu.txt" 2>"$TMP/eu.err" || fail "eu-stack failed: $(cat "$TMP/eu.err")"
eu_stacks "$TMP/eu.txt" 2 >"$TMP/eu"
same_pcs "$TMP/kr" "$TMP/eu"
# the system call each thread waits in, as a stop reads it (a stop makes an interrupted sleep
# restart as restart_syscall, which the stop reads for it after the first: the same wait)
expect_exit 0 "$CTRACE" -p $P --backtraces --always-stop -f json -o "$TMP/st.json"
pcs "$TMP/st.json" >"$TMP/st"
# (the name and state letter too: the iterator's, against those the stop read from /proc)
awk '{ if ($3 == "restart_syscall") $3 = "clock_nanosleep"; print $1, $2, $3, $6, $7 }' "$TMP/kr" >"$TMP/kr.cmp"
awk '{ if ($3 == "restart_syscall") $3 = "clock_nanosleep"; print $1, $2, $3, $6, $7 }' "$TMP/st" >"$TMP/st.cmp"
cmp -s "$TMP/kr.cmp" "$TMP/st.cmp" || fail "not what --always-stop sees: $(diff "$TMP/kr.cmp" "$TMP/st.cmp" | head -5)"
grep -q ' stopped ' "$TMP/st" || fail "--always-stop stopped nothing: $(cat "$TMP/st")"
# text: the usual report, no marker on every thread; analyze reads the JSON back
expect_exit 0 "$CTRACE" -p $P --backtraces -o "$TMP/kr.txt"
grep -q '^Thread .*in pthread_cond_wait\|^Thread .*in futex()' "$TMP/kr.txt" || fail "text: $(head -20 "$TMP/kr.txt")"
grep -q 'read without stopping' "$TMP/kr.txt" && fail "text: every thread marked: $(head -20 "$TMP/kr.txt")"
expect_exit 0 "$CTRACE" analyze "$TMP/kr.json" -f json -o "$TMP/an.json"
json_check "$TMP/an.json" "d['summary']['threads'] == 40" || fail "analyze of the dump: $(head -c 400 "$TMP/an.json")"
assert_not_traced $P

# --- 2. bpf() refused, and --no-bpf: stopped, the same stacks, -v says why
expect_exit 0 "$FIXTURES/noperf" "$CTRACE" -p $P --backtraces -f json -v -o "$TMP/nobpf.json"
echo "$ERR" | grep -q "threads off a CPU: not used: bpf() not permitted" || fail "-v does not say bpf() was refused: $ERR"
pcs "$TMP/nobpf.json" >"$TMP/nobpf"
grep -q ' kregs ' "$TMP/nobpf" && fail "bpf() refused, yet read from kernel registers: $(cat "$TMP/nobpf")"
same_pcs "$TMP/nobpf" "$TMP/eu"
expect_exit 0 "$CTRACE" -p $P --backtraces --no-bpf -f json -v -o "$TMP/nob.json"
echo "$ERR" | grep -q "threads off a CPU" && fail "--no-bpf: $ERR"
pcs "$TMP/nob.json" >"$TMP/nob"
grep -q ' kregs ' "$TMP/nob" && fail "--no-bpf, yet read from kernel registers: $(cat "$TMP/nob")"
assert_not_traced $P
kill -KILL $P
# ctrace in a PID namespace of its own (a container's): the kernel's IDs are not the ones it sees,
# so the iterator is not used and the threads are stopped, stacks whole
if command -v unshare >/dev/null && unshare -p -f --mount-proc true 2>/dev/null; then
	unshare -p -f --mount-proc sh -c "\"$FIXTURES/manythreads\" 4 >/dev/null & sleep 0.5;
		\"$CTRACE\" -p \$! --backtraces -v -f json -o \"$TMP/ns.json\"" 2>"$TMP/ns.err" ||
		fail "in a PID namespace: $(cat "$TMP/ns.err")"
	grep -q "threads off a CPU: not used: ctrace runs in a PID namespace of its own" "$TMP/ns.err" ||
		fail "in a PID namespace, -v does not say why the iterator was not used: $(cat "$TMP/ns.err")"
	json_check "$TMP/ns.json" "len(d['threads']) == 4" "not any(t['kernel_regs'] for t in d['threads'])" \
		"'pool_worker' in funcs(thread('pool-0'))" || fail "in a PID namespace: $(cat "$TMP/ns.json")"
else
	skip_case "pid namespace" "unshare -p is not permitted here: ctrace in a container's PID namespace not checked"
fi
note "40 sleeping threads read from the kernel-saved registers, stop 0, eu-stack's pcs and --always-stop's calls"

# --- 3. a saturated machine: the spinners waiting for a CPU are read the same way
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2)
N=$(( $(nproc) * 3 ))
[ $N -gt 48 ] && N=48
start_fixture spinners $N
P=$FPID
sleep 0.3
expect_exit 0 "$CTRACE" -p $P --backtraces -f json -v -o "$TMP/sp.json"
echo "$ERR" | grep -Eq "threads off a CPU: [0-9]+ of $((N + 1)) threads read" || fail "-v: $ERR"
python3 - "$TMP/sp.json" >"$TMP/sp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["threads"]:
    if t["name"].startswith("spin-"):
        fns = [f.get("function") or "?" for f in t["frames"]]
        how = "kregs" if t["kernel_regs"] else "sampled" if t["sampled"] else "stopped"
        print(t["tid"], ",".join(fns), how, t["stop_us"])
PY
kr=$(grep -c ' kregs ' "$TMP/sp")
[ "$kr" -ge $((N / 2)) ] || fail "only $kr of $N spinners read from the kernel-saved registers: $(cat "$TMP/sp"); $ERR"
grep ' kregs ' "$TMP/sp" | grep -qv 'spin_inner,spin_mid,spin_outer,start_thread,clone3' &&
	fail "a spinner's stack is not spin_inner < spin_mid < spin_outer < start_thread < clone3: $(cat "$TMP/sp")"
if [ "$(id -u)" = 0 ] || [ "$paranoid" -le 0 ]; then
	# the rest, on a CPU, from perf samples: no spinner stopped
	awk '$3 == "stopped" { exit 1 }' "$TMP/sp" || note "a spinner was stopped (its sample did not come in time): $(grep ' stopped ' "$TMP/sp")"
fi
eu-stack -p $P >"$TMP/eusp.txt" 2>"$TMP/eu.err" || fail "eu-stack failed: $(cat "$TMP/eu.err")"
python3 - "$TMP/sp" "$TMP/eusp.txt" <<'PY' || fail "spinners' stacks differ from eu-stack's: $(cat "$TMP/sp")"
import re, sys
eu, tid = {}, None
for line in open(sys.argv[2]):
    m = re.match(r"TID (\d+):", line)
    if m:
        tid = m.group(1); eu[tid] = []
    elif line.startswith("#") and tid:
        eu[tid].append(line.split()[2])
bad = 0
for line in open(sys.argv[1]):
    tid, fns = line.split()[:2]
    keep = lambda l: [f for f in l if f.startswith("spin_") or f == "start_thread"]
    if keep(fns.split(",")) != keep(eu.get(tid, [])):
        bad += 1
sys.exit(1 if bad else 0)
PY
assert_not_traced $P
kill -KILL $P
echo "threads off a CPU read from the kernel-saved registers (sleeping: eu-stack's pcs; $kr of $N spinners), none stopped; stopped when bpf() is refused or --no-bpf"
