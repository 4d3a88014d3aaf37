#!/bin/sh
# --profile and --top with Ruby frames (tests/fixtures/rbsplit.rb, Debian's ruby 3.1): every format
# (folded with --no-lines and --no-interp, json with the frames' file and line, svg, speedscope,
# pprof read back by go tool pprof) and --top's plain tables by line, with --no-interp. The CPU split
# both samplers measure: test_profile_ruby.sh (run alone).
. "$TOP/tests/integration/lib.sh"
need_ptrace
RUBY=${RUBY:-/usr/bin/ruby}
[ -x "$RUBY" ] || fail "$RUBY is missing: make deps installs ruby (Debian's ruby 3.1)"

# the fixture, its pid in P, its lines in $TMP/lines
start_cmd rbsplit "$RUBY" "$TOP/tests/fixtures/rbsplit.rb"
P=$FPID
ln -sf "$FOUT" "$TMP/lines"

L=$(awk '$2 == "work_a" {print $3}' "$TMP/lines")
# --no-lines by method; --no-interp native only
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
echo "Ruby frames in every format, --no-lines, --no-interp, --top"
