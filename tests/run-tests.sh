#!/bin/sh
# Runs every unit test (cmocka binaries) and integration test (tests/integration/*.sh).
# Exit 0 passes, 77 skips, said loudly; anything else fails. A case skipped inside a test that ran
# (a cmocka test that called skip(), an integration test's skip_case) is a skip of its own: the
# test passes for the rest, the case is listed and counted as skipped, never as passed.
# Ends with the skips and their reasons, then "N passed, N failed, N skipped".
# Integration tests run in LANES (default 3) at once, the longest first by tests/integration/durations,
# each lane taking the next test when its last one ends; but for those whose header has a line
# "# check: alone" (they measure the CPU split of a target, or load the machine themselves): those
# run one at a time after the rest. LANES=1 runs every test alone, in order.
# make check sets CHECK_DURING_LANES, a command (the build no test needs, its warnings check, its unit
# tests under ASan) run at nice 19 while the lanes run, its output shown after them, and
# CHECK_BEFORE_ALONE, a command (the fuzz run) run after the lanes, before the alone tests; a failure
# of either fails the run.
BUILD=${BUILD:-build}
ONLY=${ONLY:-}
LANES=${LANES:-3}
export BUILD
export CTRACE="$PWD/$BUILD/ctrace"
export FIXTURES="$PWD/$BUILD/fixtures"
export TOP="$PWD"
# tests get a debug-file cache of their own, not the user's
export CTRACE_CACHE_DIR="$PWD/$BUILD/test-cache"
pass=0 fail=0 skip=0 failed=""
logdir="$BUILD/test-logs"
mkdir -p "$logdir"
skipped="$logdir/skipped"
: >"$skipped"

# The cases of a cmocka log that called skip(), one "case NAME: REASON" line each; the reason is
# the last line the test printed before it skipped.
# (its loop variable is its own: sh has no locals, and the callers' loop runs over $t)
cmocka_skips() {
	for skipped_case in $(sed -n 's/^\[  SKIPPED \] \([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' "$1" | sort -u); do
		why=$(sed -n "/^\[ RUN      \] $skipped_case\$/,/^\[  SKIPPED \] $skipped_case\$/p" "$1" | sed '1d;$d' |
			grep -v '^[[:space:]]*$' | tail -n 1 | sed 's/^SKIP: //; s/^SKIP [A-Za-z0-9_]*: //')
		echo "case $skipped_case: ${why:-skip() without a reason (see $1)}"
	done
}

# run_one NAME COMMAND…: runs a test; its exit status, seconds and CPU seconds go to NAME.rc (the
# CPU of the processes it waited for: a fixture it left to init is not counted)
run_one() {
	name=$1; shift
	base=$(echo "$name" | tr '/' '_')
	log="$logdir/$base.log"
	cases="$logdir/$base.skips"
	: >"$cases"
	start=$(date +%s)
	case $cases in /*) abs=$cases ;; *) abs=$PWD/$cases ;; esac
	times >"$logdir/$base.cpu0"
	CT_SKIPS=$abs "$@" >"$log" 2>&1
	rc=$?
	times >"$logdir/$base.cpu1"
	dur=$(( $(date +%s) - start ))
	# cmocka exits 0 when a test called skip(): that case is a skip; when no test passed, the
	# whole binary is
	if grep -q '^\[  SKIPPED \] [A-Za-z_]' "$log"; then
		cmocka_skips "$log" >>"$cases"
		if [ $rc = 0 ] && grep -q '^\[  PASSED  \] 0 test' "$log"; then
			rc=77
			echo "every test skipped: $(sed 's/^case //' "$cases" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')" >>"$log"
			: >"$cases"
		fi
	fi
	cpu=$(awk 'FNR == 2 { sub(/s$/, "", $1); sub(/s$/, "", $2); split($1, u, "m"); split($2, s, "m")
		c[FILENAME] = u[1] * 60 + u[2] + s[1] * 60 + s[2] }
		END { printf "%.1f", c[ARGV[2]] - c[ARGV[1]] }' "$logdir/$base.cpu0" "$logdir/$base.cpu1")
	rm -f "$logdir/$base.cpu0" "$logdir/$base.cpu1"
	echo "$rc $dur $cpu" >"$logdir/$base.rc"
}

# report NAME: prints the verdict run_one left for NAME and counts it
report() {
	name=$1
	base=$(echo "$name" | tr '/' '_')
	log="$logdir/$base.log"
	cases="$logdir/$base.skips"
	read -r rc dur cpu <"$logdir/$base.rc"
	n=$(grep -c . "$cases")
	case $rc in
	0) pass=$((pass + 1)); echo "PASS  $name (${dur}s, CPU ${cpu}s$([ "$n" = 0 ] || echo ", $n case(s) skipped"))" ;;
	77) skip=$((skip + 1)); echo "SKIP  $name: $(tail -n 1 "$log")"
	    echo "$name: $(tail -n 1 "$log")" >>"$skipped" ;;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL  $name (exit $rc)"; sed 's/^/      | /' "$log" | tail -n 40 ;;
	esac
	# the cases skipped inside it, one count each, whatever became of the rest
	while IFS= read -r c; do
		[ -n "$c" ] || continue
		skip=$((skip + 1))
		echo "SKIP  $name: $c"
		echo "$name: $c" >>"$skipped"
	done <"$cases"
}

# queue: $logdir/lanes sorted longest first into $logdir/queue, by each test's seconds in
# tests/integration/durations (measured; 5 when not listed)
queue() {
	awk 'NR == FNR { w[$1] = $2; next }
		{ b = $0; sub(/.*\//, "", b); sub(/\.sh$/, "", b); print ((b in w) ? w[b] : 5), $0 }' \
		tests/integration/durations "$logdir/lanes" | sort -k1,1nr -k2 | cut -d' ' -f2- >"$logdir/queue"
}

# next_test: pops the first test of $logdir/queue into $t (empty when none is left); mkdir is the
# lock between the lanes
next_test() {
	until mkdir "$logdir/queue.lock" 2>/dev/null; do sleep 0.01; done
	t=$(sed -n 1p "$logdir/queue")
	sed -i 1d "$logdir/queue"
	rmdir "$logdir/queue.lock"
}

# lane K: takes the next test of the queue until none is left: the longest first, each to the lane
# that is free first, so that the lanes end together however far a test's time is from its
# durations line (lists fixed in advance ended minutes apart on a loaded machine)
lane() {
	while next_test && [ -n "$t" ]; do
		echo "$t" >>"$logdir/lane.$1"
		run_one "integration/$(basename "$t" .sh)" timeout -k 5 300 sh "$t"
	done
}

if [ "$ONLY" != integration ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" timeout -k 5 300 "$t"
		report "unit/$(basename "$t")"
	done
fi
if [ "$ONLY" != unit ]; then
	: >"$logdir/lanes"
	: >"$logdir/alone"
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		if [ "$LANES" -gt 1 ] && ! grep -q '^# check: alone' "$t"; then
			echo "$t" >>"$logdir/lanes"
		else
			echo "$t" >>"$logdir/alone"
		fi
	done
	echo "integration: $(grep -c . "$logdir/lanes") tests in $LANES lanes, then $(grep -c . "$logdir/alone") one at a time"
	t0=$(date +%s)
	# make check's build that no test needs (and its unit tests), at nice 19 while the lanes run: it
	# takes the CPU the lanes leave idle (tests waiting on fixtures, sleeping processes), and next to
	# none from them
	bg=
	if [ -n "${CHECK_DURING_LANES:-}" ] && [ -s "$logdir/lanes" ]; then
		nice -n 19 sh -c "$CHECK_DURING_LANES" >"$logdir/during-lanes.log" 2>&1 &
		bg=$!
	fi
	# the lanes at once, their verdicts in order when all are done
	if [ -s "$logdir/lanes" ]; then
		queue
		rmdir "$logdir/queue.lock" 2>/dev/null
		k=0
		while [ $k -lt "$LANES" ]; do : >"$logdir/lane.$k"; k=$((k + 1)); done
		# every lane a subshell of its own, this shell's only children then: a test's CPU
		# (run_one) is its lane's, never a neighbour's or the build's that ended meanwhile
		k=0
		lanepids=
		while [ $k -lt "$LANES" ]; do
			lane $k &
			lanepids="$lanepids $!"
			k=$((k + 1))
		done
		# shellcheck disable=SC2086 # a list of pids
		wait $lanepids
		lanecpu=0
		while IFS= read -r t; do
			report "integration/$(basename "$t" .sh)"
			lanecpu=$(awk -v a="$lanecpu" -v b="${cpu:-0}" 'BEGIN { printf "%.1f", a + b }')
		done <"$logdir/lanes"
		echo "integration: the lanes took $(($(date +%s) - t0)) s, their tests $lanecpu s of CPU"
	fi
	if [ -n "${CHECK_DURING_LANES:-}" ]; then
		t1=$(date +%s)
		if [ -n "$bg" ]; then
			# what is left of it has nothing to yield to now: back to this shell's niceness
			# (it and every process under it; where lowering a niceness is not allowed, it
			# stays at 19), or on a machine others load it would wait for them
			# shellcheck disable=SC2046 # a list of pids
			kill -0 $bg 2>/dev/null && renice -n "$(nice)" -p $(ps -eo pid=,ppid= | awk -v r=$bg '
				{ up[$1] = $2 } END { for (p in up) for (q = p; q != ""; q = up[q]) if (q == r) { print p; break } }'
				) >/dev/null 2>&1
			wait $bg
			rc=$?
		else
			sh -c "$CHECK_DURING_LANES" >"$logdir/during-lanes.log" 2>&1
			rc=$?
		fi
		if [ $rc = 0 ]; then
			cat "$logdir/during-lanes.log"
			echo "check: $CHECK_DURING_LANES, run with the lanes, ended $(($(date +%s) - t1)) s after them"
		else
			fail=$((fail + 1)); failed="$failed during-lanes"
			echo "FAIL  builds: $CHECK_DURING_LANES (exit $rc)"
			sed 's/^/      | /' "$logdir/during-lanes.log" | tail -n 60
		fi
	fi
	# make check's fuzz run: after the build, before the alone tests
	if [ -n "${CHECK_BEFORE_ALONE:-}" ]; then
		t1=$(date +%s)
		if sh -c "$CHECK_BEFORE_ALONE"; then
			echo "check: $CHECK_BEFORE_ALONE took $(($(date +%s) - t1)) s"
		else
			fail=$((fail + 1)); failed="$failed fuzz"
			echo "FAIL  $CHECK_BEFORE_ALONE (see above)"
		fi
	fi
	t1=$(date +%s)
	while IFS= read -r t; do
		run_one "integration/$(basename "$t" .sh)" timeout -k 5 300 sh "$t"
		report "integration/$(basename "$t" .sh)"
	done <"$logdir/alone"
	[ -s "$logdir/alone" ] && echo "integration: the tests run alone took $(($(date +%s) - t1)) s"
fi
echo
if [ -s "$skipped" ]; then
	echo "skipped:"
	sed 's/^/  /' "$skipped"
fi
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
