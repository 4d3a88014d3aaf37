# ctrace --core with Python frames: cores taken by gdb's gcore of the Python fixture while it sits
# where its faulthandler dump (faulthandler.dump_traceback(all_threads=True), the interpreter's own
# view, written on SIGUSR1) says it is; --core --backtraces must give the same Python frames
# (function, file, line) merged into the native stacks, for Debian's python3.11 (make deps: always
# run) and the pyenv CPythons 3.8, 3.10 (before 3.11: threads matched by the thread pointer, the
# core's fs_base), 3.11, 3.12 and 3.13 (each one missing is a skipped case). --core --threads names
# the Python line a thread blocks on, as a live --threads on the same process just before the core
# does, and finds pydeadlock.py's RLock deadlock with its owners (Debian's 3.11, pyenv 3.10, 3.13); --no-interp; a real crash's core (the kernel's); a core whose interpreter state is
# overwritten and a truncated core: no crash, one clear line, native frames still shown.
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v gdb >/dev/null || skip "gdb is not installed (make deps): it takes the cores"

# core_of NAME PYTHON: the fixture under PYTHON, its faulthandler dump, a live --threads, then its
# core in $TMP/NAME.core (the fixture killed after)
core_of() {
	name=$1 py=$2
	ids=$TMP/ids-$name dump=$TMP/dump-$name
	start_cmd "$name" "$py" "$TOP/tests/fixtures/pythreads.py" "$ids" "$dump"
	p=$FPID
	ask_dump $p "$dump" '^Current thread'
	expect_exit 0 "$CTRACE" -p $p --threads --snapshots 1
	printf '%s\n' "$OUT" | grep '^  waiting:.*acquire' | sort >"$TMP/live-waits-$name"
	gdb -batch -ex "gcore $TMP/$name.core" -p $p >"$TMP/gcore-$name.log" 2>&1 ||
		fail "$name: gcore failed: $(tail -3 "$TMP/gcore-$name.log")"
	[ -s "$TMP/$name.core" ] || fail "$name: gcore wrote no core: $(tail -3 "$TMP/gcore-$name.log")"
	assert_not_traced $p
	kill -KILL $p
	wait $p 2>/dev/null
}

# check_core NAME PYTHON MINOR
check_core() {
	name=$1 minor=$3
	core_of "$1" "$2"
	expect_exit 0 "$CTRACE" --core "$TMP/$name.core" --backtraces --format json
	echo "$OUT" >"$TMP/$name.json"
	[ -z "$ERR" ] || fail "$name: ctrace said on stderr: $ERR"
	python3 "$TOP/tests/integration/pycompare.py" "$TMP/$name.json" "$dump" "$ids" "$minor" ||
		fail "$name: the core's Python frames differ from faulthandler's (above)"
	json_check "$TMP/$name.json" \
		"d['source'] == 'core'" \
		"sum(1 for t in d['threads'] if t['gil'] == 'holder') <= 1" \
		"all(f['lang'] in ('python', 'native') for t in d['threads'] for f in t['frames'])" \
		"all(f['line'] > 0 for t in d['threads'] for f in t['frames'] if f['lang'] == 'python')" ||
		fail "$name: JSON fields: $OUT"
	# text: the same [python] frames as live
	expect_exit 0 "$CTRACE" --core "$TMP/$name.core" --backtraces -v
	echo "$OUT" | grep -Eq '^  #[0-9]+ +\[python\] +in wait_gate \(.*pythreads.py:54\)$' ||
		fail "$name: text frame: $OUT"
	nt=$(wc -l <"$ids")
	if [ "$minor" -ge 12 ]; then
		printf '%s\n' "$ERR" | grep -Eq "^ctrace: Python 3\.$minor\..*threads merged: [0-9]+ exactly, 0 by counting, 0 kept apart$" ||
			fail "$name: not every thread merged exactly: $ERR"
	fi
	printf '%s\n' "$ERR" | grep -Eq "^ctrace: Python 3\.$minor\.[0-9]+: .*\(0 unreadable\)" ||
		fail "$name: -v: $ERR"
	# --threads: the lock waits named with their Python lines, as the live --threads named them (a
	# wait told by its system call alone, a core does not hold)
	expect_exit 0 "$CTRACE" --core "$TMP/$name.core" --threads
	printf '%s\n' "$OUT" | grep '^  waiting:.*acquire' | sort >"$TMP/core-waits-$name"
	grep -q 'in wait_gate (.*pythreads.py:54)' "$TMP/core-waits-$name" ||
		fail "$name: --core --threads does not name wait_gate's line: $OUT"
	cmp -s "$TMP/live-waits-$name" "$TMP/core-waits-$name" ||
		fail "$name: --threads waits differ, live vs core: $(diff "$TMP/live-waits-$name" "$TMP/core-waits-$name")"
	note "$name: the core's Python frames ($nt threads) agree with faulthandler; --threads as live"
}

# check_deadlock NAME PYTHON: --core --threads of pydeadlock.py's core, against faulthandler's dump
# and the fixture's id() of its locks (pythreadscheck.py, as test_threads_python does live): the
# RLock deadlock with both owners (matched by thread ident: the core's fs_base), the plain Lock's
# owner said unknown, the waits' Python lines, GIL waiters. A core where no CPU-bound thread happens
# to wait for the GIL is taken again (3 at most); everything else must hold every time.
check_deadlock() {
	name=$1 py=$2
	ids=$TMP/ids-$name dump=$TMP/dump-$name
	start_cmd "$name" "$py" "$TOP/tests/fixtures/pydeadlock.py" "$ids" "$dump"
	p=$FPID
	ask_dump $p "$dump" '^Current thread'
	try=1
	while :; do
		rm -f "$TMP/$name.core"
		gdb -batch -ex "gcore $TMP/$name.core" -p $p >"$TMP/gcore-$name.log" 2>&1 ||
			fail "$name: gcore failed: $(tail -3 "$TMP/gcore-$name.log")"
		expect_exit 3 "$CTRACE" --core "$TMP/$name.core" --threads --fail-on deadlock --format json
		echo "$OUT" >"$TMP/$name.json"
		[ -z "$ERR" ] || fail "$name: ctrace said on stderr: $ERR"
		python3 "$TOP/tests/integration/pythreadscheck.py" "$TMP/$name.json" "$dump" "$ids" >"$TMP/$name.check" && break
		grep -qv '^no burn thread waits for the GIL' "$TMP/$name.check" || [ $try -ge 3 ] && {
			cat "$TMP/$name.check"
			fail "$name: the core's --threads differs from the interpreter's view (above)"
		}
		try=$((try + 1))
	done
	[ $try -gt 1 ] && note "$name: a GIL waiter in core $try"
	expect_exit 0 "$CTRACE" --core "$TMP/$name.core" --threads
	echo "$OUT" | grep -q '^Found 1 deadlock' || fail "$name: text: no deadlock: $OUT"
	echo "$OUT" | grep -q 'owner unknown, a Lock has no owner) in wait_gate (' ||
		fail "$name: text: the Lock's owner not said unknown: $OUT"
	kill -KILL $p
	wait $p 2>/dev/null
	rm -f "$TMP/$name.core"
	note "$name: the core's RLock deadlock, lock waits and GIL waiters agree with the fixture"
}

[ -x /usr/bin/python3.11 ] || fail "/usr/bin/python3.11 is missing: make deps installs it"
check_core debian-3.11 /usr/bin/python3.11 11
check_deadlock deadlock-debian-3.11 /usr/bin/python3.11

# --no-interp on the core: native frames only
expect_exit 0 "$CTRACE" --core "$TMP/debian-3.11.core" --backtraces --no-interp --format json
echo "$OUT" >"$TMP/ni.json"
json_check "$TMP/ni.json" "all(f['lang'] == 'native' for t in d['threads'] for f in t['frames'])" \
	"any(f['function'] == '_PyEval_EvalFrameDefault' for t in d['threads'] for f in t['frames'])" ||
	fail "--core --no-interp: $OUT"

# the interpreter's state overwritten in the core (_PyRuntime, the non-PIE executable's symbol, in
# the PT_LOAD that holds it): one line saying so, every thread's native frames, no crash
rt=$(readelf -Ws --dyn-syms /usr/bin/python3.11 | awk '$8 == "_PyRuntime" { print $2; exit }')
[ -n "$rt" ] || fail "no _PyRuntime in /usr/bin/python3.11's symbols"
cp "$TMP/debian-3.11.core" "$TMP/bad.core"
python3 "$TOP/tests/integration/corepatch.py" "$TMP/bad.core" "$rt" "$(printf 'a5%.0s' $(seq 256))" ||
	fail "could not overwrite _PyRuntime in the core"
expect_exit 0 "$CTRACE" --core "$TMP/bad.core" --backtraces --format json
echo "$OUT" >"$TMP/bad.json"
[ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || fail "overwritten _PyRuntime: want one line on stderr: $ERR"
printf '%s\n' "$ERR" | grep -Eq '^ctrace: warning: Python 3\.11\.[0-9]+: its thread states cannot be read from the core \(.*\): native frames only$' ||
	fail "overwritten _PyRuntime: $ERR"
json_check "$TMP/bad.json" "len(d['threads']) == $(wc -l <"$TMP/ids-debian-3.11")" \
	"all(f['lang'] == 'native' for t in d['threads'] for f in t['frames'])" \
	"all(any(f['function'] == '_PyEval_EvalFrameDefault' for f in t['frames']) for t in d['threads'])" ||
	fail "overwritten _PyRuntime: native frames: $OUT"
rm -f "$TMP/bad.core"

rm -f "$TMP/debian-3.11.core"

# a real crash's core (the kernel's, SIGABRT, with ulimit -c) of the fixture after its dump: the
# same Python frames; then that core truncated (cut at a third, as a size limit cuts it): exit 2
# with the warning, every thread listed with its native frames, no crash
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
case $pattern in
'|'* | /*) skip_case "crash core" "core_pattern is '$pattern': the kernel writes no core file in the current directory" ;;
*)
	crash=$TMP/crash
	mkdir -p "$crash"
	ids=$TMP/ids-crash dump=$TMP/dump-crash
	start_crashable "$crash" crash /usr/bin/python3.11 "$TOP/tests/fixtures/pythreads.py" "$ids" "$dump"
	p=$FPID
	ask_dump $p "$dump" '^Current thread'
	kill -ABRT $p
	wait $p 2>/dev/null
	core=$(ls "$crash"/core* 2>/dev/null | head -n 1)
	if [ -z "$core" ]; then
		skip_case "crash core" "no core was written (ulimit -c unlimited refused, or core_pattern '$pattern')"
	else
		expect_exit 0 "$CTRACE" --core "$core" --backtraces --format json
		echo "$OUT" >"$TMP/crash.json"
		python3 "$TOP/tests/integration/pycompare.py" "$TMP/crash.json" "$dump" "$ids" 11 ||
			fail "crash core: Python frames differ from faulthandler's (above)"
		json_check "$TMP/crash.json" "d['signal'] == 'SIGABRT'" || fail "crash core: not SIGABRT"
		size=$(stat -c %s "$core")
		head -c $((size / 3)) "$core" >"$TMP/cut.core"
		expect_exit 2 "$CTRACE" --core "$TMP/cut.core" --backtraces --format json
		echo "$OUT" >"$TMP/cut.json"
		printf '%s\n' "$ERR" | grep -q 'warning: the core is truncated' || fail "truncated core: no warning: $ERR"
		json_check "$TMP/cut.json" "len(d['threads']) == $(wc -l <"$ids")" \
			"all(t['frames'] and t['frames'][0]['lang'] == 'native' for t in d['threads'])" ||
			fail "truncated core: threads or native frames missing: $OUT"
		note "truncated core: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for t in d['threads'] for f in t['frames'] if f['lang']=='python'), 'Python frames,', sum(1 for t in d['threads'] if t['interp_note']), 'notes')" "$TMP/cut.json"); $ERR"
		rm -f "$core" "$TMP/cut.core"
	fi
	;;
esac

for v in 3.8 3.10 3.11 3.12 3.13; do
	py=$(ls "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | head -n 1)
	if [ -z "$py" ]; then
		skip_case "pyenv-$v" "no pyenv CPython $v here (~/.pyenv/versions/$v.*)"
		continue
	fi
	check_core "pyenv-$v" "$py" "${v#3.}"
	rm -f "$TMP/pyenv-$v.core"
	case $v in 3.10 | 3.13) check_deadlock "deadlock-pyenv-$v" "$py" ;; esac
done
echo "Python frames from cores agree with the interpreters' own view"
