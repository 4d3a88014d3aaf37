#!/bin/sh
# ctrace --core: post-mortem --backtraces and --threads from cores of gdb's gcore (the stuck
# fixture) and of real crashes (fixtures/crasher.c: abort() and a NULL store, with ulimit -c). The
# core names the same functions as a live capture just before, and every function gdb's
# `thread apply all bt` names on the same core (the independent truth). Deadlocks are found with
# owners from the core's memory; zstd, lz4 and apport cores; --sysroot; a truncated core is exit 2
# with a warning; corrupt cores, wrong --exe and options a core cannot take are one-line errors.
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v gdb >/dev/null || skip "gdb is not installed (make deps): it makes the cores and is the truth"

# functions TEXT-REPORT: "tid function function …" per thread, frames in order
functions() {
	awk '/^ *Thread [0-9]+ / { if (t) print t; t = $2 } / #[0-9]+ +0x[0-9a-f]+ in / { for (i = 1; i <= NF; i++) if ($i == "in") { f = $(i + 1); sub(/\+.*/, "", f); t = t " " f; break } } END { if (t) print t }' "$1"
}

# gdb_covered CTRACE-REPORT GDB-OUTPUT: every function gdb names in a thread is in ctrace's frames
# of that thread (by LWP); prints what is missing
gdb_covered() {
	python3 - "$1" "$2" <<'PY'
import re, sys
ours, cur = {}, None
for line in open(sys.argv[1]):
    m = re.match(r'\s*Thread (\d+) ', line)
    if m:
        cur = int(m.group(1)); ours[cur] = set(); continue
    m = re.match(r'\s*#\d+\s+0x[0-9a-f]+ in (\S+)', line)
    if m and cur is not None:
        ours[cur].add(m.group(1).split('+')[0])
bad, cur, n = [], None, 0
for line in open(sys.argv[2]):
    m = re.match(r'Thread \d+ \(.*LWP (\d+)\)', line)
    if m:
        cur = int(m.group(1)); continue
    m = re.match(r'#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(', line)
    if m and cur is not None and m.group(1) != '??':
        n += 1
        if m.group(1) not in ours.get(cur, set()):
            bad.append('%d:%s' % (cur, m.group(1)))
if n == 0:
    bad.append('gdb named no frame')
print(' '.join(bad))
PY
}

# --- gcore of the stuck fixture: backtraces and deadlocks ---
start_fixture stuck
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
printf '%s\n' "$OUT" >"$TMP/live.txt"
gdb -batch -ex "gcore $TMP/stuck.core" -p "$FPID" >"$TMP/gcore.log" 2>&1 || fail "gcore failed: $(tail -3 "$TMP/gcore.log")"
[ -s "$TMP/stuck.core" ] || fail "gcore wrote no core: $(tail -3 "$TMP/gcore.log")"
expect_exit 0 "$CTRACE" --core "$TMP/stuck.core" --backtraces
printf '%s\n' "$OUT" >"$TMP/core.txt"
head -1 "$TMP/core.txt" | grep -q "^Process $FPID (stuck) .*stuck — 15 threads, from a core file" ||
	fail "core header: $(head -1 "$TMP/core.txt")"
# every thread but the spinners (which move) names the same functions as just before, live
functions "$TMP/live.txt" | grep -v spin_cas | sort >"$TMP/live.fn"
functions "$TMP/core.txt" | grep -v spin_cas | sort >"$TMP/core.fn"
cmp -s "$TMP/live.fn" "$TMP/core.fn" || fail "core and live capture differ: $(diff "$TMP/live.fn" "$TMP/core.fn")"
gdb -batch -ex 'thread apply all bt' "$FIXTURES/stuck" "$TMP/stuck.core" >"$TMP/gdb.txt" 2>/dev/null
missing=$(gdb_covered "$TMP/core.txt" "$TMP/gdb.txt")
[ -z "$missing" ] || fail "functions gdb names on the core that ctrace does not: $missing"

expect_exit 3 "$CTRACE" --core "$TMP/stuck.core" --threads --fail-on deadlock
printf '%s\n' "$OUT" >"$TMP/threads.txt"
grep -q '^Found 2 deadlocks\.$' "$TMP/threads.txt" || fail "want 2 deadlocks from the core: $OUT"
grep -q 'A core is one snapshot' "$TMP/threads.txt" || fail "the report does not say what a core cannot tell"
grep -q 'mutex 0x[0-9a-f]*: 4 waiting (.*), held by "?" (tid [0-9]*), blocked in sleep' "$TMP/threads.txt" ||
	fail "the waiters' mutex and its holder are not named: $OUT"
expect_exit 0 "$CTRACE" --core "$TMP/stuck.core" --threads -f json
printf '%s\n' "$OUT" >"$TMP/threads.json"
python3 - "$TMP/threads.json" <<'PY' || fail "json report of the core: see above"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "core", d["source"]
assert d["summary"]["deadlocks"] == 2, d["summary"]
assert all(t["state"] == "?" and t["cpu_share"] is None for t in d["threads"]), "a core has no states or CPU times"
PY
expect_exit 0 "$CTRACE" --core "$TMP/stuck.core" --backtraces -f json
printf '%s\n' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["source"]=="core" and d["signal"] is None and len(d["threads"])==15, d' ||
	fail "--backtraces json of a gcore: $OUT"
expect_exit 0 "$CTRACE" --core "$TMP/stuck.core" --exe "$FIXTURES/stuck" --tid "$FPID" --backtraces
printf '%s\n' "$OUT" | grep -q 'in main_wait' || fail "--tid on a core: $OUT"

# --- compressed: zstd and lz4 (systemd-coredump), apport's CoreDump field ---
for z in zstd lz4; do
	if ! command -v $z >/dev/null; then
		skip_case "$z core" "the $z tool is not installed to compress one"
		continue
	fi
	$z -q -c "$TMP/stuck.core" >"$TMP/stuck.core.$z" || fail "$z failed"
	expect_exit 0 "$CTRACE" --core "$TMP/stuck.core.$z" --backtraces
	printf '%s\n' "$OUT" >"$TMP/z.txt"
	functions "$TMP/z.txt" | grep -v spin_cas | sort | cmp -s - "$TMP/core.fn" || fail "$z core reads differently"
	head -c $(($(stat -c %s "$TMP/stuck.core.$z") / 2)) "$TMP/stuck.core.$z" >"$TMP/cut.$z"
	expect_exit 1 "$CTRACE" --core "$TMP/cut.$z" --backtraces
	printf '%s\n' "$ERR" | grep -q "corrupt $z core\|truncated" || fail "cut $z core: $ERR"
done
python3 - "$TMP/stuck.core" "$TMP/stuck.crash" <<'PY' || fail "cannot write an apport report"
import base64, sys, zlib
# apport's problem_report format: a gzip header, raw deflate blocks and the gzip trailer, each
# base64'd on a continuation line of the CoreDump field
data = open(sys.argv[1], 'rb').read()
out = open(sys.argv[2], 'wb')
out.write(b'ProblemType: Crash\nExecutablePath: /x\nCoreDump: base64\n')
out.write(b' ' + base64.b64encode(b'\037\213\010\000\000\000\000\000\002\377') + b'\n')
c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
for i in range(0, len(data), 1 << 20):
    b = c.compress(data[i:i + (1 << 20)])
    if b:
        out.write(b' ' + base64.b64encode(b) + b'\n')
out.write(b' ' + base64.b64encode(c.flush()) + b'\n')
out.write(b' ' + base64.b64encode((zlib.crc32(data) & 0xffffffff).to_bytes(4, 'little') + (len(data) & 0xffffffff).to_bytes(4, 'little')) + b'\n')
out.write(b'Date: now\n')
PY
expect_exit 0 "$CTRACE" --core "$TMP/stuck.crash" --backtraces
printf '%s\n' "$OUT" >"$TMP/a.txt"
functions "$TMP/a.txt" | grep -v spin_cas | sort | cmp -s - "$TMP/core.fn" || fail "apport core reads differently"
printf 'ProblemType: Crash\nDate: now\n' >"$TMP/nocore.crash"
expect_exit 1 "$CTRACE" --core "$TMP/nocore.crash" --backtraces
printf '%s\n' "$ERR" | grep -q 'without a CoreDump field' || fail "apport report without a core: $ERR"
kill -KILL "$FPID"

# --- real crashes: abort() and SIGSEGV, with ulimit -c ---
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
crash_dir=$TMP/crash
mkdir -p "$crash_dir"
restore_pattern=
case "$pattern" in
'|'* | /*)
	# a pipe (systemd-coredump, apport) or a fixed directory: point it at our directory, and back
	if printf '%s\n' "$crash_dir/core.%p" >/proc/sys/kernel/core_pattern 2>/dev/null; then
		restore_pattern=$pattern
		trap 'printf "%s\n" "$restore_pattern" >/proc/sys/kernel/core_pattern; cleanup' EXIT
	fi
	;;
esac
crash_core() { # crash_core HOW: runs the crasher in crash_dir; sets CPID and CORE (or empty)
	rm -f "$crash_dir"/core*
	out=$TMP/crasher.out
	# emptied first: the subshell's redirection truncates it only once the subshell runs, and
	# under load the loop below read the last crasher's "ready" before that (then an empty file)
	: >"$out"
	(cd "$crash_dir" && ulimit -c unlimited && exec "$FIXTURES/crasher" "$1" 1.5) >"$out" 2>&1 &
	cpid=$!
	# up to 30 s; if it does not get ready, say where it stands
	i=0
	while ! grep -q '^ready' "$out" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	CPID=$(sed -n 's/^ready //p' "$out")
	[ -n "$CPID" ] || fail "the crasher did not get ready in $i polls: '$(cat "$out")'; its threads:$(for t in /proc/$cpid/task/*/stat; do [ -r "$t" ] && printf ' %s' "$(cut -d' ' -f1-3 "$t")"; done) $(cat /proc/$cpid/wchan 2>/dev/null)"
	"$CTRACE" -p "$CPID" --backtraces >"$TMP/crash-live.txt" 2>"$TMP/crash-live.err" ||
		fail "live capture of the crasher: $(cat "$TMP/crash-live.err")"
	wait $cpid 2>/dev/null
	CORE=$(ls "$crash_dir"/core* 2>/dev/null | head -1)
}
case "$pattern" in
'|'* | /*) [ -n "$restore_pattern" ] || pattern_note="core_pattern is '$pattern' and cannot be changed here" ;;
*) pattern_note= ;;
esac
for how in abort segv; do
	if [ "${pattern_note:-}" ]; then
		skip_case "$how crash" "$pattern_note"
		continue
	fi
	crash_core $how
	if [ -z "$CORE" ]; then
		skip_case "$how crash" "no core was written (ulimit -c unlimited refused, or core_pattern '$pattern' sends it elsewhere)"
		continue
	fi
	sig=SIGABRT; [ $how = segv ] && sig=SIGSEGV
	expect_exit 0 "$CTRACE" --core "$CORE" --backtraces
	printf '%s\n' "$OUT" >"$TMP/crash.txt"
	head -1 "$TMP/crash.txt" | grep -q "killed by $sig in thread $CPID" || fail "$how: the header does not name $sig: $(head -1 "$TMP/crash.txt")"
	functions "$TMP/crash.txt" | grep "^$CPID " | grep -q 'crash_f3 crash_f2 crash_f1 crash_f0 main' ||
		fail "$how: the crashing thread's frames: $(functions "$TMP/crash.txt" | grep "^$CPID ")"
	# the other threads were where the live capture found them just before
	functions "$TMP/crash-live.txt" | grep -v "^$CPID " | sort >"$TMP/cl.fn"
	functions "$TMP/crash.txt" | grep -v "^$CPID " | sort >"$TMP/cc.fn"
	cmp -s "$TMP/cl.fn" "$TMP/cc.fn" || fail "$how: core and live differ: $(diff "$TMP/cl.fn" "$TMP/cc.fn")"
	gdb -batch -ex 'thread apply all bt' "$FIXTURES/crasher" "$CORE" >"$TMP/gdb-crash.txt" 2>/dev/null
	missing=$(gdb_covered "$TMP/crash.txt" "$TMP/gdb-crash.txt")
	[ -z "$missing" ] || fail "$how: functions gdb names that ctrace does not: $missing"
	expect_exit 0 "$CTRACE" --core "$CORE" --threads
	printf '%s\n' "$OUT" | grep -q "mutex 0x[0-9a-f]*: 1 waiting (.*), held by \"crasher\" (tid $CPID)" ||
		fail "$how: the mutex main holds is not found from the core's memory: $OUT"
	KCORE=$CORE
done

# --- --memory: the mapping breakdown from the core's headers, glibc's arenas from its memory ---
if [ -n "${KCORE:-}" ]; then
	expect_exit 0 "$CTRACE" --core "$KCORE" --memory
	printf '%s\n' "$OUT" | grep -q "stack of thread $CPID" || fail "--memory of a core: no stacks: $OUT"
	printf '%s\n' "$OUT" | grep -q '^  main 0x[0-9a-f]* ' || fail "--memory of a core: no main arena: $OUT"
	expect_exit 0 "$CTRACE" --core "$KCORE" --memory -f json
	printf '%s\n' "$OUT" | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "--memory json of a core"
	expect_usage "--watch is for a live process" "$CTRACE" --core "$KCORE" --memory --watch 1
fi

# --- a truncated core (cut as a size limit cuts it): what is there, a warning, exit 2 ---
if [ -n "${KCORE:-}" ]; then
	size=$(stat -c %s "$KCORE")
	head -c $((size / 3)) "$KCORE" >"$TMP/trunc.core"
	expect_exit 2 "$CTRACE" --core "$TMP/trunc.core" --backtraces
	printf '%s\n' "$ERR" | grep -q 'warning: the core is truncated .*MiB of memory in [0-9]* mapping.* is missing' ||
		fail "truncated core: no warning naming what is missing: $ERR"
	printf '%s\n' "$ERR" | grep -q 'is truncated; the result is partial' || fail "truncated core: $ERR"
	printf '%s\n' "$OUT" | grep -q "^Thread $CPID " || fail "truncated core: the threads are not listed: $OUT"
	expect_exit 2 "$CTRACE" --core "$TMP/trunc.core" --threads
else
	skip_case "truncated kernel core" "no crash core was written here"
fi
# gdb puts its notes last: cut before them, nothing can be read
head -c 4000000 "$TMP/stuck.core" >"$TMP/nonotes.core"
expect_exit 1 "$CTRACE" --core "$TMP/nonotes.core" --backtraces
[ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] && printf '%s\n' "$ERR" | grep -q 'truncated core: it ends before its notes' ||
	fail "core cut before its notes: $ERR"

# --- --sysroot: the executable is gone from its place, and found under the root given ---
mkdir -p "$TMP/bin" "$TMP/root$TMP/bin"
cp "$FIXTURES/crasher" "$TMP/bin/crasher"
# (in a shell of its own, whose "Aborted (core dumped)" goes nowhere)
sh -c 'cd "$1" && rm -f core* && ulimit -c unlimited && exec "$2" abort 0.01' sh "$crash_dir" "$TMP/bin/crasher" >/dev/null 2>&1
SCORE=$(ls "$crash_dir"/core* 2>/dev/null | head -1)
if [ -n "$SCORE" ]; then
	mv "$TMP/bin/crasher" "$TMP/root$TMP/bin/crasher"
	expect_exit 0 "$CTRACE" --core "$SCORE" --backtraces
	printf '%s\n' "$OUT" | grep -q crash_f0 && fail "--sysroot case: the moved executable was found anyway"
	printf '%s\n' "$ERR" | grep -q "crasher: not found" || fail "no warning about the missing executable: $ERR"
	expect_exit 0 "$CTRACE" --core "$SCORE" --sysroot "$TMP/root" --backtraces
	printf '%s\n' "$OUT" | grep -q 'crash_f0' || fail "--sysroot: the executable was not found under the root: $OUT $ERR"
	expect_exit 0 "$CTRACE" --core "$SCORE" --exe "$TMP/root$TMP/bin/crasher" --backtraces
	printf '%s\n' "$OUT" | grep -q 'crash_f0' || fail "--exe: $OUT $ERR"
else
	skip_case "--sysroot" "no crash core was written here"
fi

# --- bad input: one line, never a crash ---
head -c 3000 /dev/urandom >"$TMP/random.core"
expect_usage "not an ELF file, nor a zstd, lz4 or apport core" "$CTRACE" --core "$TMP/random.core" --backtraces
expect_usage "an ELF program or library, not a core file" "$CTRACE" --core "$FIXTURES/stuck" --threads
: >"$TMP/empty.core"
expect_usage "not an ELF file" "$CTRACE" --core "$TMP/empty.core" --backtraces
expect_usage "is not the program that dumped this core" "$CTRACE" --core "$TMP/stuck.core" --exe "$FIXTURES/chain" --backtraces
expect_exit 1 "$CTRACE" --core "$TMP/no-such.core" --backtraces
printf '%s\n' "$ERR" | grep -q 'cannot open .*no-such.core' || fail "missing core: $ERR"
python3 - "$TMP/stuck.core" "$TMP/notes.core" <<'PY'
import struct, sys
# the first note's size made to run past its segment
d = bytearray(open(sys.argv[1], 'rb').read())
phoff, = struct.unpack_from('<Q', d, 32); phnum, = struct.unpack_from('<H', d, 56)
for i in range(phnum):
    p = phoff + i * 56
    if struct.unpack_from('<I', d, p)[0] == 4:
        off, = struct.unpack_from('<Q', d, p + 8)
        struct.pack_into('<I', d, off + 4, 0x7fffffff)
open(sys.argv[2], 'wb').write(d)
PY
expect_exit 1 "$CTRACE" --core "$TMP/notes.core" --backtraces
printf '%s\n' "$ERR" | grep -q 'corrupt core: a note runs past its segment' || fail "corrupt note: $ERR"
expect_usage "not both" "$CTRACE" --core "$TMP/stuck.core" -p 1 --backtraces
expect_usage "--timeout is for a live process" "$CTRACE" --core "$TMP/stuck.core" --timeout 2 --backtraces
expect_usage "--snapshots is for a live process" "$CTRACE" --core "$TMP/stuck.core" --snapshots 2 --threads
expect_usage "--exe goes with --core" "$CTRACE" -p 1 --exe /bin/true --backtraces
expect_usage "--unwinder libunwind needs a live process" "$CTRACE" --core "$TMP/stuck.core" --unwinder libunwind --backtraces
expect_usage "--core is for" "$CTRACE" --core "$TMP/stuck.core" --profile
exit 0
