# Python frames merged into the native stacks, against the interpreter's own view
# (faulthandler.dump_traceback(all_threads=True), written by the fixture on SIGUSR1): Debian's
# python3.11 (make deps installs it: always run) and every pyenv CPython 3.6-3.13 found (each one
# missing is a skipped case). On 3.11+ every thread must be merged exactly (-v says how each was
# merged): 3.11 by its eval-loop calls' _PyCFrame chain, 3.12+ by their entry frames. Also
# --no-interp, the JSON fields, and a non-Python process.
. "$TOP/tests/integration/lib.sh"
need_ptrace

# check_python NAME PYTHON MINOR: the fixture under PYTHON, compared with its faulthandler dump
check_python() {
	name=$1 py=$2 minor=$3
	ids=$TMP/ids-$name dump=$TMP/dump-$name out=$TMP/out-$name
	"$py" "$TOP/tests/fixtures/pythreads.py" "$ids" "$dump" >"$out" 2>&1 &
	p=$!
	PIDS="$PIDS $p"
	i=0
	until grep -q '^ready' "$out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && fail "$name: the fixture did not get ready: $(cat "$out")"
		kill -0 $p 2>/dev/null || fail "$name: the fixture died: $(cat "$out")"
		sleep 0.05
	done
	kill -USR1 $p
	i=0
	until grep -q '^Current thread' "$dump" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "$name: faulthandler wrote no dump"
		sleep 0.05
	done
	sleep 0.1
	expect_exit 0 "$CTRACE" -p $p --backtraces --format json
	echo "$OUT" >"$TMP/$name.json"
	[ -z "$ERR" ] || fail "$name: ctrace said on stderr: $ERR"
	python3 "$TOP/tests/integration/pycompare.py" "$TMP/$name.json" "$dump" "$ids" "$minor" ||
		fail "$name: ctrace's Python frames differ from faulthandler's (above)"
	json_check "$TMP/$name.json" \
		"sum(1 for t in d['threads'] if t['gil'] == 'holder') <= 1" \
		"all(f['lang'] in ('python', 'native') for t in d['threads'] for f in t['frames'])" ||
		fail "$name: JSON fields: $OUT"
	if [ "$minor" -ge 11 ]; then
		# 3.11+: every thread (the fixture's own list of them) merged exactly, by the stack
		# addresses the eval-loop calls keep (3.11: their _PyCFrame, 3.12+: their entry frame),
		# with both unwinders that know them
		nt=$(wc -l <"$ids")
		for u in libdw libunwind; do
			expect_exit 0 "$CTRACE" -p $p --backtraces -v --unwinder $u
			printf '%s\n' "$ERR" | grep -Eq "^ctrace: Python 3\.$minor\..*threads merged: $nt exactly, 0 by counting, 0 kept apart$" ||
				fail "$name: not every one of the $nt threads merged exactly ($u): $ERR"
		done
	fi
	assert_not_traced $p
	note "$name: every thread's Python frames agree with faulthandler"
	kill -KILL $p
}

[ -x /usr/bin/python3.11 ] || fail "/usr/bin/python3.11 is missing: make deps installs it"
check_python debian-3.11 /usr/bin/python3.11 11

# --no-interp: native frames only; text marks Python frames [python]
"/usr/bin/python3.11" "$TOP/tests/fixtures/pythreads.py" "$TMP/ids-ni" "$TMP/dump-ni" >"$TMP/out-ni" 2>&1 &
p=$!
PIDS="$PIDS $p"
until grep -q '^ready' "$TMP/out-ni" 2>/dev/null; do kill -0 $p || fail "fixture died"; sleep 0.05; done
expect_exit 0 "$CTRACE" -p $p --backtraces --no-interp --format json
echo "$OUT" >"$TMP/ni.json"
json_check "$TMP/ni.json" "all(f['lang'] == 'native' for t in d['threads'] for f in t['frames'])" \
	"any(f['function'] == '_PyEval_EvalFrameDefault' for t in d['threads'] for f in t['frames'])" ||
	fail "--no-interp: $OUT"
expect_exit 0 "$CTRACE" -p $p --backtraces
echo "$OUT" | grep -Eq '^  #[0-9]+ +\[python\] +in wait_gate \(.*pythreads.py:54\)$' || fail "text frame: $OUT"
kill -KILL $p

for v in 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
	py=$(ls "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | head -n 1)
	if [ -z "$py" ]; then
		skip_case "pyenv-$v" "no pyenv CPython $v here (~/.pyenv/versions/$v.*)"
		continue
	fi
	check_python "pyenv-$v" "$py" "${v#3.}"
done

# not Python: native frames, no warning
start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
[ -z "$ERR" ] || fail "a non-Python process got a warning: $ERR"
echo "Python frames agree with the interpreters' own view"
