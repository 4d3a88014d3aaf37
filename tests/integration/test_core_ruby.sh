# ctrace --core with Ruby frames: cores taken by gdb's gcore of the Ruby fixtures while they sit
# where their own view (Thread#backtrace_locations of every thread, written from a SIGUSR1 trap)
# says they are. --core --backtraces must give the same Ruby frames (label, file, line, C methods
# by owner) merged into the native stacks, with the GVL holder; --core --threads must name each
# wait (Mutex#lock, Queue#pop, ConditionVariable#wait, sleep, IO) with its Ruby line and find the
# Mutex deadlock with its owners, all from the core's memory. A real crash's core (the kernel's);
# a core whose VM pointer is overwritten and a truncated core: one clear line, native frames where
# the core holds them, no crash. Debian's ruby 3.1 (make deps: without it the test fails
# loudly).
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v gdb >/dev/null || skip "gdb is not installed (make deps): it takes the cores"

RUBY=${RUBY:-/usr/bin/ruby}
[ -x "$RUBY" ] || fail "$RUBY is missing: make deps installs ruby (Debian's ruby 3.1)"

# core_of NAME FIXTURE: the fixture ready, its own dump written, then its core in $TMP/NAME.core
core_of() {
	ids=$TMP/ids-$1 dump=$TMP/dump-$1
	start_cmd "$1" "$RUBY" "$TOP/tests/fixtures/$2" "$ids" "$dump"
	p=$FPID out=$FOUT
	ask_dump $p "$dump"
	sleep 0.1
	gdb -batch -ex "gcore $TMP/$1.core" -p $p >"$TMP/gcore-$1.log" 2>&1 ||
		fail "$1: gcore failed: $(tail -3 "$TMP/gcore-$1.log")"
	[ -s "$TMP/$1.core" ] || fail "$1: gcore wrote no core: $(tail -3 "$TMP/gcore-$1.log")"
	assert_not_traced $p
	kill -KILL $p
	wait $p 2>/dev/null
}

# --- backtraces: rbthreads.rb ---
core_of bt rbthreads.rb
expect_exit 0 "$CTRACE" --core "$TMP/bt.core" --backtraces --format json
echo "$OUT" >"$TMP/bt.json"
[ -z "$ERR" ] || fail "ctrace said on stderr: $ERR"
# a core holds no thread names but the main thread's: the threads are found by TID
RBCOMPARE_NO_NAMES=1 python3 "$TOP/tests/integration/rbcompare.py" "$TMP/bt.json" "$dump" "$ids" ||
	fail "the core's Ruby frames differ from Thread#backtrace_locations (above)"
json_check "$TMP/bt.json" \
	"d['source'] == 'core'" \
	"sum(1 for t in d['threads'] if t['gil'] == 'holder') == 1" \
	"all(f['lang'] in ('ruby', 'native') for t in d['threads'] for f in t['frames'])" \
	"all(f['pc'] is None for t in d['threads'] for f in t['frames'] if f['lang'] == 'ruby')" ||
	fail "JSON fields: $OUT"
expect_exit 0 "$CTRACE" --core "$TMP/bt.core" --backtraces -v
echo "$OUT" | grep -Eq '^  #[0-9]+ +\[ruby\] +in block in outer \(.*rbthreads.rb:34\)$' || fail "text frame: $OUT"
echo "$OUT" | grep -Eq '^  #[0-9]+ +\[ruby\] +in block in nap \(.*rbthreads.rb:17\)$' || fail "text frame: $OUT"
echo "$OUT" | grep -q '\[holds the GVL\]' || fail "no GVL holder marked: $OUT"
echo "$ERR" | grep -q 'Ruby 3\.1\.[0-9]*: [0-9]* frames (0 unreadable)' || fail "-v: $ERR"
# --no-interp: native frames only, rb_vm_exec among them
expect_exit 0 "$CTRACE" --core "$TMP/bt.core" --backtraces --no-interp --format json
echo "$OUT" >"$TMP/ni.json"
json_check "$TMP/ni.json" "all(f['lang'] == 'native' for t in d['threads'] for f in t['frames'])" \
	"any(f['function'] == 'rb_vm_exec' for t in d['threads'] for f in t['frames'])" ||
	fail "--no-interp: $OUT"
note "every thread's Ruby frames from the core agree with Thread#backtrace_locations"

# --- the VM pointer overwritten in the core (ruby_current_vm_ptr, where gdb says it is): one
# line saying the threads cannot be read, native frames for every thread, no crash ---
vmp=$(gdb -batch -ex 'print/x (unsigned long)&ruby_current_vm_ptr' "$RUBY" "$TMP/bt.core" 2>/dev/null |
	sed -n 's/^\$1 = \(0x[0-9a-f]*\)$/\1/p')
if [ -z "$vmp" ]; then
	skip_case "overwritten VM" "gdb did not give the address of ruby_current_vm_ptr in the core"
else
	python3 "$TOP/tests/integration/corepatch.py" "$TMP/bt.core" "$vmp" 505a5a5a5a5a0000 ||
		fail "could not overwrite ruby_current_vm_ptr in the core"
	expect_exit 0 "$CTRACE" --core "$TMP/bt.core" --backtraces --format json
	echo "$OUT" >"$TMP/bad.json"
	[ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || fail "overwritten VM: want one line on stderr: $ERR"
	printf '%s\n' "$ERR" | grep -Eq '^ctrace: warning: Ruby 3\.1\.[0-9]+: its threads cannot be read from the core \(.*\): native frames only$' ||
		fail "overwritten VM: $ERR"
	json_check "$TMP/bad.json" "len(d['threads']) == 6" \
		"all(f['lang'] == 'native' for t in d['threads'] for f in t['frames'])" \
		"all(any(f['function'] == 'rb_vm_exec' for f in t['frames']) for t in d['threads'])" ||
		fail "overwritten VM: native frames: $OUT"
fi
rm -f "$TMP/bt.core"

# --- a real crash's core (the kernel's, SIGABRT, with ulimit -c) of rbthreads.rb after its dump:
# the same Ruby frames; then that core truncated (cut at a third, as a size limit cuts it): exit 2
# with the warning, every thread listed, no crash ---
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
case $pattern in
'|'* | /*) skip_case "crash core" "core_pattern is '$pattern': the kernel writes no core file in the current directory" ;;
*)
	crash=$TMP/crash
	mkdir -p "$crash"
	ids=$TMP/ids-crash dump=$TMP/dump-crash
	start_crashable "$crash" crash "$RUBY" "$TOP/tests/fixtures/rbthreads.rb" "$ids" "$dump"
	p=$FPID
	ask_dump $p "$dump"
	sleep 0.1
	kill -ABRT $p
	wait $p 2>/dev/null
	core=$(ls "$crash"/core* 2>/dev/null | head -n 1)
	if [ -z "$core" ]; then
		skip_case "crash core" "no core was written (ulimit -c unlimited refused, or core_pattern '$pattern')"
	else
		expect_exit 0 "$CTRACE" --core "$core" --backtraces --format json
		echo "$OUT" >"$TMP/crash.json"
		RBCOMPARE_NO_NAMES=1 python3 "$TOP/tests/integration/rbcompare.py" "$TMP/crash.json" "$dump" "$ids" ||
			fail "crash core: Ruby frames differ from Thread#backtrace_locations (above)"
		size=$(stat -c %s "$core")
		head -c $((size / 3)) "$core" >"$TMP/cut.core"
		expect_exit 2 "$CTRACE" --core "$TMP/cut.core" --backtraces --format json
		echo "$OUT" >"$TMP/cut.json"
		printf '%s\n' "$ERR" | grep -q 'warning: the core is truncated' || fail "truncated core: no warning: $ERR"
		json_check "$TMP/cut.json" "len(d['threads']) == 6" || fail "truncated core: threads missing: $OUT"
		note "truncated core: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for t in d['threads'] for f in t['frames'] if f['lang']=='ruby'), 'Ruby frames,', sum(1 for t in d['threads'] if t['interp_note']), 'notes')" "$TMP/cut.json"); $ERR"
		rm -f "$core" "$TMP/cut.core"
	fi
	;;
esac

# --- --threads: rbdeadlock.rb, waits and the Mutex deadlock from the core ---
core_of dl rbdeadlock.rb
expect_exit 0 "$CTRACE" --core "$TMP/dl.core" --threads --format json
echo "$OUT" >"$TMP/dl.json"
RBWAITS_CORE=1 python3 "$TOP/tests/integration/rbwaits.py" "$TMP/dl.json" "$dump" "$ids" ||
	fail "the core's Ruby waits differ from the fixture's own view (above)"
a=$(awk '$1 == "dead-a" {print $2}' "$ids") b=$(awk '$1 == "dead-b" {print $2}' "$ids")
m1=$(awk '$2 == "m1" {print $3}' "$ids" | sed 's/^0x0*/0x/') m2=$(awk '$2 == "m2" {print $3}' "$ids" | sed 's/^0x0*/0x/')
expect_exit 3 "$CTRACE" --core "$TMP/dl.core" --threads --fail-on deadlock
echo "$OUT" | grep -q '^Found 1 deadlock' || fail "text: $OUT"
echo "$OUT" | grep -q "(tid $a) waits for mutex $m2, held by .* (tid $b)" || fail "text: $OUT"
echo "$OUT" | grep -q "(tid $b) waits for mutex $m1, held by .* (tid $a)" || fail "text: $OUT"
rm -f "$TMP/dl.core"
note "every wait from the core named with its Ruby line; the Mutex deadlock found"
echo "Ruby frames and waits from cores agree with the interpreter's own view"
