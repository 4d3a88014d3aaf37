# --profile and --top with Ruby frames: the CPU split of tests/fixtures/rbsplit.rb (60/30/10 % of its
# own CPU time under work_a/work_b/work_c, by construction) measured with both samplers, three runs
# each: each run within five standard deviations of its sampling error, and the runs of a sampler
# pooled within +-3 points, the accuracy goal (tests/integration/pyshares.py, shared with the Python
# test); each frame at the line of its spin call. Debian's ruby 3.1 (make deps installs it). Also
# every format (svg, speedscope, pprof, json with the frames' file and line), a C method's frame
# (Process.clock_gettime, at its caller's line), --no-lines,
# --no-interp, --top, and the perf sampler's discard rate (said with -v).
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
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f folded --no-lines
printf '%s\n' "$OUT" | grep -q ';work_a (.*rbsplit.rb);spin (.*rbsplit.rb)[; ]' || fail "--no-lines: $OUT"
printf '%s\n' "$OUT" | grep -q 'rbsplit.rb:[0-9]' && fail "--no-lines left a line: $OUT"
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f folded --no-interp
printf '%s\n' "$OUT" | grep -q 'work_a' && fail "--no-interp: Ruby frames: $OUT"
printf '%s\n' "$OUT" | grep -q 'rb_vm_exec' || fail "--no-interp: no rb_vm_exec: $OUT"

# json: file and line of the Ruby frames; svg, speedscope, pprof name them
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f json -o "$TMP/p.json"
json_check "$TMP/p.json" \
	"any(f['name'].startswith('work_a (') and f['file'].endswith('rbsplit.rb') and f['line'] == $L for f in d['frames'])" ||
	fail "json: no work_a frame with its file and line $L: $(head -c 2000 "$TMP/p.json")"
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f svg -o "$TMP/p.svg"
grep -q "work_a (.*rbsplit.rb:$L)" "$TMP/p.svg" || fail "svg: no work_a frame"
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f speedscope -o "$TMP/p.speedscope.json"
json_check "$TMP/p.speedscope.json" \
	"any(f['name'].startswith('work_a (') and f.get('file', '').endswith('rbsplit.rb') and f.get('line') == $L for f in d['shared']['frames'])" ||
	fail "speedscope: no work_a frame with its file and line: $(head -c 2000 "$TMP/p.speedscope.json")"
if command -v go >/dev/null; then
	expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f pprof -o "$TMP/p.pb.gz"
	HOME=$TMP GOCACHE=$TMP/gocache go tool pprof -top "$TMP/p.pb.gz" >"$TMP/pprof.top" 2>&1 ||
		fail "go tool pprof: $(cat "$TMP/pprof.top")"
	grep -q 'work_a (.*rbsplit.rb' "$TMP/pprof.top" || fail "pprof: no work_a: $(cat "$TMP/pprof.top")"
else
	skip_case "pprof" "go is missing (make deps installs golang-go): go tool pprof cannot read the output back"
fi

# --top, plain tables through a pipe: the Ruby methods ranked by line; --no-interp native only
expect_exit 0 sh -c "\"$CTRACE\" -p $P --top -d 2 | cat"
printf '%s\n' "$OUT" | grep -q " spin (.*rbsplit.rb:[0-9]*)" || fail "--top: no spin frame with its line: $OUT"
expect_exit 0 sh -c "\"$CTRACE\" -p $P --top --no-interp -d 1.5 | cat"
printf '%s\n' "$OUT" | grep -q 'rbsplit.rb' && fail "--top --no-interp: Ruby frames: $OUT"
kill -KILL $P
echo "Ruby frames in profiles: shares within $TOL points with both samplers (runs pooled), every format"
