# --profile and --top with Ruby frames: the CPU split of tests/fixtures/rbsplit.rb (60/30/10 % of its
# own CPU time under work_a/work_b/work_c, by construction) measured with both samplers, three runs
# each: each run within five standard deviations of its sampling error, and the runs of a sampler
# pooled within +-3 points, the accuracy goal (tests/integration/pyshares.py, shared with the Python
# test); each frame at the line of its spin call. Debian's ruby 3.1 (make deps installs it). Also
# a C method's frame (Process.clock_gettime, at its caller's line) and the perf sampler's discard
# rate (said with -v). Every format, --no-lines, --no-interp and --top: test_profile_ruby_formats.sh
# (in a lane).
# check: alone (measures the CPU split of its target: run without other tests)
. "$TOP/tests/integration/lib.sh"
need_ptrace
TOL=3
SPLIT=work_a=60,work_b=30,work_c=10
RUBY=${RUBY:-/usr/bin/ruby}
[ -x "$RUBY" ] || fail "$RUBY is missing: make deps installs ruby (Debian's ruby 3.1)"
PERF=$(perf_probe)
[ "$PERF" = available ] || skip_case "perf sampler" "perf_event_open is $PERF here: the ptrace sampler only"

# the fixture, its pid in P, its lines in $TMP/lines
"$RUBY" "$TOP/tests/fixtures/rbsplit.rb" >"$TMP/lines" 2>&1 &
P=$!
PIDS="$PIDS $P"
i=0
until grep -q '^ready' "$TMP/lines" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 200 ] && fail "the fixture did not get ready: $(cat "$TMP/lines")"
	kill -0 $P 2>/dev/null || fail "the fixture died: $(cat "$TMP/lines")"
	sleep 0.05
done

# shares RUN SAMPLER: profiles P with SAMPLER and checks the split
# the perf sampler reads the control frames after the sample: a caller whose callee returned in
# between can show its next line; the popped frame is caught when the sample holds it, and what
# slips through must stay under 1 % of the samples (said in the man page); the samples it keeps
# native only (moved on before the read, counted under -v: 0-6 % seen, more under load) leave the
# denominator and must stay under 10 %: the split is that of the samples it vouched for
perf_env() {
	if [ "$1" = perf ]; then
		echo "PYSHARES_MAX_BAD=0.01 PYSHARES_NATIVE_ONLY=0.10"
	else
		echo "PYSHARES_MAX_BAD=0"
	fi
}
shares() {
	expect_exit 0 "$CTRACE" -p $P --profile --sampler "$2" -r 499 -d 2 -v -f folded -o "$TMP/$1-$2.folded"
	env $(perf_env "$2") python3 "$TOP/tests/integration/pyshares.py" "$TMP/$1-$2.folded" "$TMP/lines" \
		$SPLIT $TOL 5 >"$TMP/shares" 2>&1
	rc=$?
	res=$(tr '\n' ' ' <"$TMP/shares")
	[ $rc = 0 ] || fail "run $1 $2: $res; stderr: $ERR"
	disc=$(printf '%s\n' "$ERR" | grep '^ctrace: Ruby ' | sed 's/^ctrace: //')
	[ -n "$disc" ] || fail "run $1 $2: no Ruby line in -v: $ERR"
	note "run $1 $2: $res; $disc"
	cat "$TMP/$1-$2.folded" >>"$TMP/pooled-$2.folded"
}
for run in 1 2 3; do
	shares $run ptrace
	[ "$PERF" = available ] && shares $run perf
done
assert_not_traced $P
for s in ptrace perf; do
	[ -f "$TMP/pooled-$s.folded" ] || continue
	env $(perf_env "$s") python3 "$TOP/tests/integration/pyshares.py" "$TMP/pooled-$s.folded" "$TMP/lines" \
		$SPLIT $TOL >"$TMP/shares" 2>&1 || fail "all runs pooled, $s sampler: $(tr '\n' ' ' <"$TMP/shares")"
	note "all runs pooled, $s sampler: $(tr '\n' ' ' <"$TMP/shares")"
done

# the folded frames: method (file:line), merged at rb_vm_exec (none left between Ruby frames of one
# VM entry); --no-lines by method; --no-interp native only
L=$(awk '$2 == "work_a" {print $3}' "$TMP/lines")
grep -q ";block in <main> (.*rbsplit.rb:[0-9]*);work_a (.*rbsplit.rb:$L);spin (.*rbsplit.rb:[0-9]*)[; ]" \
	"$TMP/1-ptrace.folded" || fail "folded: no work_a;spin stack: $(head -c 2000 "$TMP/1-ptrace.folded")"
grep -q 'rb_vm_exec;work_\|work_.*;rb_vm_exec' "$TMP/1-ptrace.folded" && fail "folded: rb_vm_exec left next to Ruby frames"
# a C method's frame by owner and name, at its caller's line (Thread#backtrace_locations' place)
CL=$(grep -n '^  Process.clock_gettime' "$TOP/tests/fixtures/rbsplit.rb" | cut -d: -f1)
cat "$TMP"/pooled-*.folded | grep -q ";cpu (.*rbsplit.rb:$CL);Process.clock_gettime (.*rbsplit.rb:$CL)[; ]" ||
	fail "folded: no Process.clock_gettime frame under cpu at line $CL"
kill -KILL $P
echo "Ruby frames in profiles: shares within $TOL points with both samplers (runs pooled)"
