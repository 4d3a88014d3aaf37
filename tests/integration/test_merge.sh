#!/bin/sh
# ctrace merge against two fixture processes profiled one by one (cpusplit: hot_60/warm_30/cool_10
# in threads split-0/1; latethreads: late_spin in threads late-0/1): pprof labels per sample, read
# by go tool pprof; merged pprof whose per-function sample counts are the inputs' sums; folded
# merge against a sum with awk; speedscope merge valid against speedscope's schema; conversions;
# bad and missing files.
. "$TOP/tests/integration/lib.sh"
need_ptrace
command -v go >/dev/null || fail "go is missing: run make deps (golang-go) to test the pprof output"
command -v python3 >/dev/null || fail "python3 is missing: run make deps"
pprof() { HOME=$TMP GOCACHE=$TMP/gocache go tool pprof "$@" 2>"$TMP/pprof.err"; }

start_fixture cpusplit 2
A=$FPID
start_fixture latethreads 0
B=$FPID

# both processes at once, each in its own file, as on two hosts
for fmt in pprof folded speedscope; do
	"$CTRACE" -p $B --profile -d 3 --format $fmt -o "$TMP/b.$fmt" 2>"$TMP/b.err" &
	C=$!
	expect_exit 0 "$CTRACE" -p $A --profile -d 3 --format $fmt -o "$TMP/a.$fmt"
	wait $C || fail "profiling $B as $fmt: $(cat "$TMP/b.err")"
done
assert_not_traced $A
assert_not_traced $B

# --- labels: host, pid, comm, thread, tid on every sample of a live pprof profile
pprof -tags "$TMP/a.pprof" >"$TMP/a.tags" || fail "go tool pprof -tags: $(cat "$TMP/pprof.err")"
host=$(hostname)
for want in "host:" " $host\$" "pid:" " $A\$" "comm:" " cpusplit\$" "thread:" " split-0\$" " split-1\$" "tid:"; do
	grep -q -- "$want" "$TMP/a.tags" || fail "pprof -tags misses '$want': $(cat "$TMP/a.tags")"
done
for t in /proc/$A/task/*; do
	name=$(cat "$t/comm")
	case $name in split-*) grep -q " ${t##*/}\$" "$TMP/a.tags" || fail "no tid label ${t##*/} ($name)";; esac
done
# samples with the same stack in two threads stay two samples (pprof -raw lists them)
pprof -raw "$TMP/a.pprof" >"$TMP/a.raw" || fail "go tool pprof -raw: $(cat "$TMP/pprof.err")"
awk '/^ +[0-9]+ +[0-9]+: / { stack = $0; sub(/^ +[0-9]+ +[0-9]+: /, "", stack); getline; 
	t = $0; sub(/.*thread:\[/, "", t); sub(/\].*/, "", t); seen[stack] = seen[stack] " " t }
	END { for (s in seen) if (seen[s] ~ /split-0/ && seen[s] ~ /split-1/) found = 1; exit !found }' "$TMP/a.raw" ||
	fail "no stack appears as two samples of two threads: $(head -n 30 "$TMP/a.raw")"

# --- pprof + pprof: every function's samples in the merged file are the inputs' sum
expect_exit 0 "$CTRACE" merge "$TMP/a.pprof" "$TMP/b.pprof" -o "$TMP/m.pb.gz"
[ -z "$OUT" ] || fail "merge -o wrote to stdout: $OUT"
top() { pprof -top -sample_index=samples -nodefraction=0 -nodecount=100000 "$1" >"$2" ||
	fail "go tool pprof -top $1: $(cat "$TMP/pprof.err")"; }
top "$TMP/a.pprof" "$TMP/a.top"
top "$TMP/b.pprof" "$TMP/b.top"
top "$TMP/m.pb.gz" "$TMP/m.top"
for fn in split_loop late_worker; do
	grep -q " $fn\$" "$TMP/m.top" || fail "merged pprof misses $fn: $(cat "$TMP/m.top")"
done
# flat and cum columns per function: merged = a + b
cols() { awk '$NF ~ /^[A-Za-z_\[]/ && $1 ~ /^[0-9]+$/ { print $NF, $1, $4 }' "$1" | sort; }
cols "$TMP/a.top" >"$TMP/a.cols"
cols "$TMP/b.top" >"$TMP/b.cols"
cols "$TMP/m.top" >"$TMP/m.cols"
[ -s "$TMP/m.cols" ] || fail "could not read go tool pprof -top: $(cat "$TMP/m.top")"
cat "$TMP/a.cols" "$TMP/b.cols" | awk '{ f[$1] += $2; c[$1] += $3 } END { for (k in f) print k, f[k], c[k] }' |
	sort >"$TMP/sum.cols"
diff "$TMP/sum.cols" "$TMP/m.cols" >"$TMP/diff" || fail "merged sample counts are not the sums: $(cat "$TMP/diff")"
total() { sed -n 's/^Showing nodes accounting for .* of \([0-9]*\) total.*/\1/p' "$1"; }
[ "$(total "$TMP/m.top")" = $(( $(total "$TMP/a.top") + $(total "$TMP/b.top") )) ] ||
	fail "merged total $(total "$TMP/m.top") is not $(total "$TMP/a.top") + $(total "$TMP/b.top")"
note "pprof: $(total "$TMP/a.top") + $(total "$TMP/b.top") samples merged into $(total "$TMP/m.top")"
# ... the CPU time too, and both processes' labels survive
pprof -top -sample_index=cpu "$TMP/m.pb.gz" >"$TMP/m.cpu" || fail "no cpu sample type in the merged file"
grep -q '^Type: cpu' "$TMP/m.cpu" || fail "merged pprof type: $(head -n 3 "$TMP/m.cpu")"
pprof -tags "$TMP/m.pb.gz" >"$TMP/m.tags" || fail "go tool pprof -tags on the merged file"
for want in " $A\$" " $B\$" " cpusplit\$" " latethreads\$" " split-0\$" " late-1\$"; do
	grep -q -- "$want" "$TMP/m.tags" || fail "merged pprof -tags misses '$want': $(cat "$TMP/m.tags")"
done
# merging a merged file again adds up the same way (labels kept, nothing lost)
expect_exit 0 "$CTRACE" merge "$TMP/m.pb.gz" "$TMP/a.pprof" -o "$TMP/m2.pb.gz"
top "$TMP/m2.pb.gz" "$TMP/m2.top"
[ "$(total "$TMP/m2.top")" = $(( $(total "$TMP/m.top") + $(total "$TMP/a.top") )) ] || fail "re-merge total"

# --- folded + folded, against a sum with awk
expect_exit 0 "$CTRACE" merge "$TMP/a.folded" "$TMP/b.folded"
printf '%s\n' "$OUT" | sort >"$TMP/m.folded"
cat "$TMP/a.folded" "$TMP/b.folded" | awk '{ n = $NF; s = $0; sub(/ [0-9]+$/, "", s); c[s] += n }
	END { for (s in c) print s, c[s] }' | sort >"$TMP/sum.folded"
diff "$TMP/sum.folded" "$TMP/m.folded" >"$TMP/diff" || fail "folded merge differs from the awk sum: $(cat "$TMP/diff")"
grep -q '^cpusplit;.*;split_loop;' "$TMP/m.folded" || fail "folded merge misses cpusplit's split_loop"
grep -q '^latethreads;.*;late_worker;' "$TMP/m.folded" || fail "folded merge misses latethreads' late_worker"
# the same from standard input, and pprof converted to folded gives the same stacks
expect_exit 0 sh -c "cat '$TMP/a.folded' | '$CTRACE' merge - '$TMP/b.folded' -o '$TMP/stdin.folded'"
sort "$TMP/stdin.folded" | diff - "$TMP/m.folded" >/dev/null || fail "merge - (stdin) differs"
expect_exit 0 "$CTRACE" merge --format folded "$TMP/m.pb.gz"
n_pprof=$(printf '%s\n' "$OUT" | awk '{ t += $NF } END { print t }')
[ "$n_pprof" = "$(total "$TMP/m.top")" ] || fail "pprof to folded: $n_pprof samples, want $(total "$TMP/m.top")"
printf '%s\n' "$OUT" | grep -q '^cpusplit;.*;split_loop;[a-z_0-9]* [0-9]*$' ||
	fail "pprof to folded lost the process root frame: $OUT"

# --- speedscope + speedscope: valid against the schema, weights and counts summed
expect_exit 0 "$CTRACE" merge "$TMP/a.speedscope" "$TMP/b.speedscope" -o "$TMP/m.speedscope.json"
python3 - "$TMP/m.speedscope.json" "$TOP/tests/integration/speedscope-schema.json" "$TMP/a.speedscope" \
	"$TMP/b.speedscope" <<'PY' || fail "speedscope merge is wrong"
import sys, json, jsonschema
m = json.load(open(sys.argv[1]))
jsonschema.validate(m, json.load(open(sys.argv[2])))
ins = [json.load(open(f)) for f in sys.argv[3:]]
def by_fn(d):
    names = [f['name'] for f in d['shared']['frames']]
    p = d['profiles'][0]
    out = {}
    for s, w, c in zip(p['samples'], p['weights'], p['ctraceCounts']):
        leaf = names[s[-1]]
        w0, c0 = out.get(leaf, (0, 0))
        out[leaf] = (w0 + w, c0 + c)
    return out
want = {}
for d in ins:
    for k, (w, c) in by_fn(d).items():
        w0, c0 = want.get(k, (0, 0))
        want[k] = (w0 + w, c0 + c)
got = by_fn(m)
assert got == want, (got, want)
names = [f['name'] for f in m['shared']['frames']]
assert 'cpusplit' in names and 'latethreads' in names and 'late_worker' in names, names
assert len(set((f['name'], f.get('file')) for f in m['shared']['frames'])) == len(names), 'frames not shared'
p = m['profiles'][0]
assert p['unit'] == 'nanoseconds' and p['endValue'] == sum(p['weights'])
PY

# --- mixed formats: --format says which; the counts add up across formats
expect_usage "say which to write with --format" "$CTRACE" merge "$TMP/a.folded" "$TMP/b.pprof"
expect_exit 0 "$CTRACE" merge --format folded "$TMP/a.folded" "$TMP/b.pprof" "$TMP/b.speedscope"
got=$(printf '%s\n' "$OUT" | awk '{ t += $NF } END { print t }')
want=$(awk '{ t += $NF } END { print t }' "$TMP/a.folded")
ss=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["profiles"][0]["ctraceCounts"]))' "$TMP/b.speedscope")
want=$((want + $(total "$TMP/b.top") + ss))
[ "$got" = "$want" ] || fail "folded + pprof + speedscope: $got samples, want $want"
expect_exit 0 "$CTRACE" merge --format pprof "$TMP/a.folded" "$TMP/b.folded" -o "$TMP/f.pb.gz"
echo "$ERR" | grep -q . && fail "folded to pprof said: $ERR"
top "$TMP/f.pb.gz" "$TMP/f.top"
[ "$(total "$TMP/f.top")" = "$(cat "$TMP/a.folded" "$TMP/b.folded" | awk '{ t += $NF } END { print t }')" ] ||
	fail "folded to pprof: $(total "$TMP/f.top") samples"
expect_exit 0 "$CTRACE" merge --format pprof "$TMP/a.folded" "$TMP/b.pprof" -o "$TMP/mix.pb.gz"
echo "$ERR" | grep -q "have no times" || fail "folded + pprof: the missing times not said: $ERR"

# --- bad input: a missing, a malformed and a truncated file are skipped (exit 2), all bad: 1
printf 'main;work 3\nmain;oops\n' >"$TMP/bad.folded"
head -c 100 "$TMP/a.pprof" >"$TMP/cut.pb.gz"
expect_exit 2 "$CTRACE" merge "$TMP/a.folded" "$TMP/nonexistent" "$TMP/bad.folded" "$TMP/cut.pb.gz" -o "$TMP/p.folded"
echo "$ERR" | grep -q "cannot read $TMP/nonexistent: No such file or directory; skipped" || fail "missing file: $ERR"
echo "$ERR" | grep -q "$TMP/bad.folded:2: not a folded stack" || fail "malformed line not named: $ERR"
echo "$ERR" | grep -q "$TMP/cut.pb.gz: bad gzip data (truncated)" || fail "truncated pprof: $ERR"
[ "$(echo "$ERR" | wc -l)" = 3 ] || fail "one line per bad file, got: $ERR"
sort "$TMP/a.folded" >"$TMP/a.sorted"
sort "$TMP/p.folded" | diff - "$TMP/a.sorted" >/dev/null ||
	fail "the readable file was not written alone: $(cat "$TMP/p.folded")"
expect_exit 1 "$CTRACE" merge "$TMP/bad.folded" /nonexistent -o "$TMP/none.folded"
[ -e "$TMP/none.folded" ] && fail "nothing readable, yet a file was written"
echo '{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[]},"profiles":[{"type":"sampled","unit":"none","samples":[[7]],"weights":[1]}]}' >"$TMP/bad.json"
expect_exit 1 "$CTRACE" merge "$TMP/bad.json"
echo "$ERR" | grep -q "names frame 7 of 0" || fail "bad speedscope index: $ERR"
expect_usage "merge wants profile files" "$CTRACE" merge
expect_usage "merge writes --format folded, pprof or speedscope, not svg" "$CTRACE" merge --format svg "$TMP/a.folded"
expect_usage "merge reads profile files; -p is for live processes" "$CTRACE" merge -p $A "$TMP/a.folded"
expect_usage "cannot write to '$TMP': it is a directory" "$CTRACE" merge "$TMP/a.folded" -o "$TMP"
# -o is replaced atomically: no temporary file left beside it
ls "$TMP" | grep -q 'ctrace-tmp' && fail "a temporary file was left: $(ls "$TMP")"
echo "merge sums pprof, folded and speedscope profiles of two processes"
