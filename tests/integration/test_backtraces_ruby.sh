# Ruby frames merged into the native stacks, against the interpreter's own view
# (Thread#backtrace_locations of every thread, written by the fixture from a SIGUSR1 trap): Debian's
# ruby 3.1 (make deps installs it: always run; without it the test fails loudly, it is not
# skipped). Also --no-interp, the text and JSON fields, the GVL holder, and a non-Ruby process.
. "$TOP/tests/integration/lib.sh"
need_ptrace

RUBY=${RUBY:-/usr/bin/ruby}
[ -x "$RUBY" ] || fail "$RUBY is missing: make deps installs ruby (Debian's ruby 3.1)"

# start_ruby NAME: the fixture under $RUBY, ready; its pid in $p
start_ruby() {
	ids=$TMP/ids-$1 dump=$TMP/dump-$1
	start_cmd "$1" "$RUBY" "$TOP/tests/fixtures/rbthreads.rb" "$ids" "$dump"
	p=$FPID out=$FOUT
}

start_ruby cmp
ask_dump $p "$dump"
expect_exit 0 "$CTRACE" -p $p --backtraces --format json
echo "$OUT" >"$TMP/cmp.json"
[ -z "$ERR" ] || fail "ctrace said on stderr: $ERR"
python3 "$TOP/tests/integration/rbcompare.py" "$TMP/cmp.json" "$dump" "$ids" ||
	fail "ctrace's Ruby frames differ from Thread#backtrace_locations (above)"
json_check "$TMP/cmp.json" \
	"sum(1 for t in d['threads'] if t['gil'] == 'holder') <= 1" \
	"all(f['lang'] in ('ruby', 'native') for t in d['threads'] for f in t['frames'])" \
	"all(f['pc'] is None for t in d['threads'] for f in t['frames'] if f['lang'] == 'ruby')" ||
	fail "JSON fields: $OUT"
assert_not_traced $p
note "every thread's Ruby frames agree with Thread#backtrace_locations"

# text: [ruby] frames with label, file and line; the GVL holder marked (the spinner, or main)
expect_exit 0 "$CTRACE" -p $p --backtraces -v
echo "$OUT" | grep -Eq '^  #[0-9]+ +\[ruby\] +in block in outer \(.*rbthreads.rb:34\)$' || fail "text frame: $OUT"
echo "$OUT" | grep -Eq '^  #[0-9]+ +\[ruby\] +in block in nap \(.*rbthreads.rb:17\)$' || fail "text frame: $OUT"
echo "$ERR" | grep -q 'Ruby 3\.1\.[0-9]*: [0-9]* frames (0 unreadable)' || fail "-v: $ERR"
echo "$OUT" | grep -q '\[holds the GVL\]' || note "no thread held the GVL at the capture"
kill -KILL $p

# --no-interp: native frames only, rb_vm_exec among them, no warning
start_ruby ni
expect_exit 0 "$CTRACE" -p $p --backtraces --no-interp --format json
echo "$OUT" >"$TMP/ni.json"
[ -z "$ERR" ] || fail "--no-interp said on stderr: $ERR"
json_check "$TMP/ni.json" "all(f['lang'] == 'native' for t in d['threads'] for f in t['frames'])" \
	"any(f['function'] == 'rb_vm_exec' for t in d['threads'] for f in t['frames'])" ||
	fail "--no-interp: $OUT"
kill -KILL $p

# not Ruby: native frames, no warning
start_fixture chain
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
[ -z "$ERR" ] || fail "a non-Ruby process got a warning: $ERR"
echo "Ruby frames agree with the interpreter's own view"
