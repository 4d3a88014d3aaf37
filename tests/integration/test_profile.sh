#!/bin/sh
# ctrace --profile against cpusplit (threads splitting CPU 60/30/10 among hot_60, warm_30, cool_10):
# folded output in Brendan Gregg's format, rendered by flamegraph.pl; ctrace's SVG, speedscope,
# pprof, json and text; --mode wall; Ctrl-C, SIGTERM and target exit all write the profile; threads
# born late, several processes, an exec. The split each sampler measures, and the fallback when
# perf_event_open is refused: test_profile_split.sh (run alone).
. "$TOP/tests/integration/lib.sh"
need_ptrace

# check_short FILE: a short run's profile (few samples): the format, and the hottest function there.
check_short() {
	[ -s "$1" ] || fail "empty profile $1"
	bad=$(grep -Ev '^cpusplit(;[^;]+)* [0-9]+$' "$1" | head -n 3)
	[ -z "$bad" ] || fail "lines not in folded format in $1: $bad"
	grep -q "split_loop;hot_60" "$1" || fail "hot_60 missing in $1: $(cat "$1")"
}

start_fixture cpusplit 2
P=$FPID

# stdout is not a terminal: folded is the default there too; rendered by Brendan Gregg's
# flamegraph.pl, the SVG names the fixture's functions
expect_exit 0 "$CTRACE" -p $P --profile -d 3
echo "$OUT" | grep -q '^cpusplit;.* [0-9][0-9]*$' || fail "default output on a pipe is not folded: $OUT"
echo "$OUT" >"$TMP/perf.folded"
FG="$TOP/tests/vendor/FlameGraph/flamegraph.pl"
if command -v perl >/dev/null; then
	perl "$FG" "$TMP/perf.folded" >"$TMP/perf.svg" || fail "flamegraph.pl rejected the folded output"
	for fn in hot_60 warm_30 cool_10 split_loop cpusplit; do
		grep -q ">$fn<\|$fn (" "$TMP/perf.svg" || fail "flamegraph.pl's SVG does not name $fn"
	done
else
	skip_case "flamegraph.pl renders the folded output" "perl is not installed"
fi

# ctrace's own SVG: well-formed XML, a frame per function with its count in the tooltip, the script
expect_exit 0 "$CTRACE" -p $P --profile -d 2 -f svg -o "$TMP/own.svg"
python3 - "$TMP/own.svg" <<'PY' || fail "ctrace's SVG is wrong"
import sys, re, xml.etree.ElementTree as E
ns = '{http://www.w3.org/2000/svg}'
root = E.parse(sys.argv[1]).getroot()
frames = {g.get('data-n'): g for g in root.iter(ns + 'g') if g.get('class') == 'f'}
for fn in ('all', 'cpusplit', 'split_loop', 'hot_60', 'warm_30', 'cool_10'):
    assert fn in frames, fn + ' missing'
    title = frames[fn].find(ns + 'title').text
    assert re.search(r'\(\d+ samples?, [\d.]+%\)', title), title
total = int(frames['all'].get('data-w'))
assert int(frames['hot_60'].get('data-w')) > int(frames['cool_10'].get('data-w'))
assert int(frames['cpusplit'].get('data-w')) == total
assert root.find(ns + 'script') is not None and 'function zoom' in root.find(ns + 'script').text
PY
if command -v node >/dev/null; then
	sed -n '/<!\[CDATA\[/,/\]\]>/p' "$TMP/own.svg" | sed '1d;$d' >"$TMP/own.js"
	node --check "$TMP/own.js" || fail "the SVG's script does not parse"
else
	skip_case "the SVG's script parses" "node is not installed (make deps: nodejs)"
fi

# speedscope: valid against file-format-schema.json of the speedscope npm package (1.25.0, MIT,
# copied to tests/integration/speedscope-schema.json), frames shared, weights in nanoseconds
expect_exit 0 "$CTRACE" -p $P --profile -d 3 -f speedscope -o "$TMP/p.speedscope.json"
python3 - "$TMP/p.speedscope.json" "$TOP/tests/integration/speedscope-schema.json" <<'PY' || fail "speedscope output is wrong"
import sys, json, jsonschema
d = json.load(open(sys.argv[1]))
jsonschema.validate(d, json.load(open(sys.argv[2])))
names = [f['name'] for f in d['shared']['frames']]
assert len(set(names)) == len(names), 'frames not shared'
prof = d['profiles'][0]
assert prof['type'] == 'sampled' and prof['unit'] == 'nanoseconds'
assert len(prof['samples']) == len(prof['weights'])
hot = sum(w for s, w in zip(prof['samples'], prof['weights']) if names[s[-1]] == 'hot_60')
cool = sum(w for s, w in zip(prof['samples'], prof['weights']) if names[s[-1]] == 'cool_10')
assert hot > cool, (hot, cool)
assert all(names[s[0]] == 'cpusplit' for s in prof['samples'])
PY

# pprof: read back by go tool pprof (golang-go, installed by make deps)
command -v go >/dev/null || fail "go is missing: run make deps (golang-go) to test the pprof output"
expect_exit 0 "$CTRACE" -p $P --profile -d 3 -f pprof -o "$TMP/p.pb.gz"
HOME=$TMP GOCACHE=$TMP/gocache go tool pprof -top "$TMP/p.pb.gz" >"$TMP/pprof.top" 2>&1 || fail "go tool pprof: $(cat "$TMP/pprof.top")"
for fn in hot_60 warm_30 cool_10 split_loop; do
	grep -q " $fn\$" "$TMP/pprof.top" || fail "go tool pprof -top misses $fn: $(cat "$TMP/pprof.top")"
done
grep -q '^Type: cpu' "$TMP/pprof.top" || fail "pprof sample type is not cpu: $(cat "$TMP/pprof.top")"
first=$(awk '$NF ~ /^(hot_60|warm_30|cool_10)$/ {print $NF; exit}' "$TMP/pprof.top")
[ "$first" = hot_60 ] || fail "pprof's hottest function is $first, not hot_60"
HOME=$TMP GOCACHE=$TMP/gocache go tool pprof -sample_index=samples -top "$TMP/p.pb.gz" 2>&1 | grep -q 'hot_60' ||
	fail "pprof has no samples/count sample type"

# ctrace's own json: frames and stacks by index, counts adding up
expect_exit 0 "$CTRACE" -p $P --profile -d 1 -f json -o "$TMP/p.json"
python3 - "$TMP/p.json" <<'PY' || fail "json output is wrong"
import sys, json
d = json.load(open(sys.argv[1]))
assert d['version'] == 1 and d['kind'] == 'profile' and d['mode'] == 'cpu' and d['rate_hz'] == 99
assert sum(s['count'] for s in d['stacks']) == d['samples']
for s in d['stacks']:
    assert all(0 <= i < len(d['frames']) for i in s['frames'])
    assert d['frames'][s['frames'][0]]['kind'] == 'process'
assert any(f['name'] == 'hot_60' and f['file'].endswith('cpusplit.c') for f in d['frames'])
PY

# wall mode: every thread, the blocked main thread too
expect_exit 0 "$CTRACE" -p $P --profile -d 1 --mode wall -o "$TMP/wall.folded"
grep -q '^cpusplit;.*;main;.*nanosleep.* [0-9]*$' "$TMP/wall.folded" || fail "--mode wall misses main in nanosleep: $(cat "$TMP/wall.folded")"
grep -q 'split_loop' "$TMP/wall.folded" || fail "--mode wall misses the workers"
assert_not_traced $P

# text, for people: frames named as --backtraces names them ([inlined], [kernel], [vdso]), none of
# the folded annotations (_[k], _[i], _[j], [[vdso]])
expect_exit 0 "$CTRACE" -p $P --profile -d 1 --mode wall -f text -o "$TMP/wall.txt"
grep -Eq '^ +[0-9.]+ +[0-9.]+ +hot_60  \(.*cpusplit\.c\)$' "$TMP/wall.txt" || fail "text output misses hot_60: $(cat "$TMP/wall.txt")"
if grep -Eq '_\[[kij]\]|\[\[' "$TMP/wall.txt"; then fail "text output carries folded annotations: $(cat "$TMP/wall.txt")"; fi
assert_not_traced $P

# Ctrl-C (SIGINT) and SIGTERM write the whole profile and exit 0
# (signalled 1 s after it says it samples, however slow its start on a loaded machine)
for sig in INT TERM; do
	"$CTRACE" -p $P --profile -v -o "$TMP/sig$sig.folded" 2>"$TMP/sig.err" &
	C=$!
	i=0
	until grep -q '^ctrace: sampling' "$TMP/sig.err"; do
		i=$((i + 1))
		[ $i -gt 300 ] && fail "SIG$sig: ctrace did not start sampling: $(cat "$TMP/sig.err")"
		sleep 0.05
	done
	sleep 1
	kill -$sig $C
	wait $C
	rc=$?
	[ $rc = 0 ] || fail "SIG$sig: exit $rc, want 0: $(cat "$TMP/sig.err")"
	check_short "$TMP/sig$sig.folded"
done
assert_not_traced $P

# threads born after the start are followed, with either sampler
for sampler in perf ptrace; do
	start_fixture latethreads 1
	expect_exit 0 "$CTRACE" -p $FPID --profile -d 3 --sampler $sampler -o "$TMP/late.folded"
	grep -q '^latethreads;.*;late_worker;late_spin [0-9]*$' "$TMP/late.folded" ||
		fail "$sampler sampler did not follow threads born after the start: $(cat "$TMP/late.folded")"
	kill $FPID
done

# several processes, told apart with --per-pid
start_fixture latethreads 0
expect_exit 0 "$CTRACE" -p $P -p $FPID --profile -d 3 --per-pid -o "$TMP/two.folded"
grep -q "^cpusplit-$P;.*;hot_60 [0-9]*$" "$TMP/two.folded" || fail "--per-pid: no cpusplit-$P stacks: $(cat "$TMP/two.folded")"
grep -q "^latethreads-$FPID;.*;late_spin [0-9]*$" "$TMP/two.folded" || fail "--per-pid: no latethreads-$FPID stacks"
kill $FPID

# the target executes a new program during the profile: said, and its stacks symbolized anew. The
# exec is triggered (SIGUSR1) once ctrace says it is sampling, so both programs are sampled however
# slow the start is on a loaded machine.
cp "$FIXTURES/execer" "$TMP/execer-next"
for sampler in perf ptrace; do
	start_fixture execer 0 "$TMP/execer-next"
	"$CTRACE" -p $FPID --profile -d 3 -v --sampler $sampler -o "$TMP/exec.folded" 2>"$TMP/exec.err" &
	C=$!
	i=0
	until grep -q '^ctrace: sampling' "$TMP/exec.err"; do
		i=$((i + 1))
		[ $i -gt 300 ] && fail "$sampler: ctrace did not start sampling: $(cat "$TMP/exec.err")"
		sleep 0.05
	done
	sleep 0.5
	kill -USR1 $FPID
	wait $C || fail "$sampler: ctrace failed across the exec: $(cat "$TMP/exec.err")"
	ERR=$(cat "$TMP/exec.err")
	echo "$ERR" | grep -q "executed a new program (execer-next)" || fail "$sampler: exec not said: $ERR"
	grep -q '^execer;.*;main;before_exec [0-9]*$' "$TMP/exec.folded" || fail "$sampler: no stacks before the exec: $(cat "$TMP/exec.folded")"
	grep -q '^execer-next;.*;main;after_exec [0-9]*$' "$TMP/exec.folded" || fail "$sampler: no stacks after the exec: $(cat "$TMP/exec.folded")"
	kill $FPID
done

# the target exits during the profile: the profile is written, the exit said, exit 0
start_fixture cpusplit 2 2
expect_exit 0 "$CTRACE" -p $FPID --profile -o "$TMP/exit.folded"
echo "$ERR" | grep -q "exited after" || fail "target exit not said on stderr: $ERR"
check_short "$TMP/exit.folded"
exit 0
