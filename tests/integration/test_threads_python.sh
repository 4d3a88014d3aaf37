# --threads on a Python program whose threads wait in known ways (tests/fixtures/pydeadlock.py):
# two threads deadlocked on two RLocks, a thread blocked on a plain Lock, CPU-bound threads waiting
# for the GIL, a sleeper. Checked against the interpreter's own view: the line each thread waits
# at against faulthandler's dump, the locks against the fixture's id() of them. Debian's
# python3.11 (make deps installs it: always run) and every pyenv CPython 3.6-3.13 found (each one
# missing is a skipped case). Also ctrace analyze of a saved --backtraces report.
. "$TOP/tests/integration/lib.sh"
need_ptrace

# check_python NAME PYTHON
check_python() {
	name=$1 py=$2
	ids=$TMP/ids-$name dump=$TMP/dump-$name out=$TMP/out-$name
	"$py" "$TOP/tests/fixtures/pydeadlock.py" "$ids" "$dump" >"$out" 2>&1 &
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
	# A thread waits for the GIL only now and then (the holder hands it over every 5 ms): a capture
	# may catch every CPU-bound thread between two waits. So a run whose only miss is the GIL
	# waiter is taken again, up to 5 times; everything else must hold at every run.
	try=1
	while :; do
		# a deadlock found is exit 3 with --fail-on deadlock
		expect_exit 3 "$CTRACE" -p $p --threads --snapshots 2 --interval 200 --fail-on deadlock --format json
		echo "$OUT" >"$TMP/$name.json"
		[ -z "$ERR" ] || fail "$name: ctrace said on stderr: $ERR"
		python3 "$TOP/tests/integration/pythreadscheck.py" "$TMP/$name.json" "$dump" "$ids" >"$TMP/$name.check" && break
		grep -qv '^no burn thread waits for the GIL' "$TMP/$name.check" || [ $try -ge 5 ] && {
			cat "$TMP/$name.check"
			fail "$name: ctrace's --threads differs from the interpreter's view (above)"
		}
		try=$((try + 1))
	done
	[ $try -gt 1 ] && note "$name: a GIL waiter in the JSON at run $try"
	# the text says it too
	try=1
	while :; do
		expect_exit 0 "$CTRACE" -p $p --threads --snapshots 1
		echo "$OUT" | grep -Eq '^  ([0-9]+ "[^"]*": )?waiting for the GIL in burn \(.*pydeadlock\.py:[0-9]+\)(, held by "[^"]*" \(tid [0-9]+\))?$' && break
		[ $try -ge 5 ] && fail "$name: text: no thread said waiting for the GIL in 5 runs: $OUT"
		try=$((try + 1))
	done
	[ $try -gt 1 ] && note "$name: a GIL waiter in the text at run $try"
	echo "$OUT" | grep -q '^Found 1 deadlock' || fail "$name: text: no deadlock: $OUT"
	echo "$OUT" | grep -q 'owner unknown, a Lock has no owner) in wait_gate (' ||
		fail "$name: text: the Lock's owner not said unknown: $OUT"
	# a saved --backtraces report gives ctrace analyze the same deadlock and lines
	expect_exit 0 "$CTRACE" -p $p --backtraces --format json -o "$TMP/$name-bt.json"
	expect_exit 3 "$CTRACE" analyze --fail-on deadlock --format json "$TMP/$name-bt.json"
	echo "$OUT" >"$TMP/$name-an.json"
	json_check "$TMP/$name-an.json" "d['summary']['deadlocks'] == 1" \
		"any('(RLock.acquire) in dead_a (' in (t['why'] or '') and 'pydeadlock.py:' in t['why'] for t in d['threads'])" ||
		fail "$name: analyze of the saved report: $OUT"
	assert_not_traced $p
	note "$name: the RLock deadlock, the Lock, the GIL waiters and every blocking line agree"
	kill -KILL $p
}

[ -x /usr/bin/python3.11 ] || fail "/usr/bin/python3.11 is missing: make deps installs it"
check_python debian-3.11 /usr/bin/python3.11

for v in 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
	py=$(ls "$HOME"/.pyenv/versions/$v.*/bin/python$v 2>/dev/null | head -n 1)
	if [ -z "$py" ]; then
		skip_case "pyenv-$v" "no pyenv CPython $v here (~/.pyenv/versions/$v.*)"
		continue
	fi
	check_python "pyenv-$v" "$py"
done
echo "--threads speaks Python on every interpreter found"
