# Go binaries: the native stacks of a Go program unwind and name Go functions, with file:line even
# though Go writes no .debug_aranges.
. "$TOP/tests/integration/lib.sh"
[ -x "$FIXTURES/gospin" ] || skip "no Go fixture (golang-go not installed: make deps)"
need_ptrace

start_fixture gospin
# the spinning thread is caught in main.leaf or main.middle; main.main and runtime.main are below
found=""
for try in 1 2 3 4 5 6 7 8 9 10; do
	expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
	block=$(printf '%s\n' "$OUT" | awk -v t="Thread $FPID " 'index($0, t) == 1 {p=1} p && /^$/ {exit} p')
	if printf '%s\n' "$block" | grep -Eq ' in main\.middle\+0x[0-9a-f]+ \(gospin\) gospin\.go:[0-9]+'; then
		found=1; break
	fi
done
[ -n "$found" ] || fail "main.middle not found with file:line: $OUT"
printf '%s\n' "$block" | grep -o ' in [A-Za-z0-9_.]*' | tr '\n' ' ' |
	grep -Eq 'main\.middle +in main\.main +in runtime\.main +in runtime\.goexit' || fail "Go call chain wrong: $block"
# Go runtime threads are named too
printf '%s\n' "$OUT" | grep -Eq ' in runtime\.(usleep|futex|mstart|clone|sysmon|notesleep)' || fail "runtime threads: $OUT"
printf '%s\n' "$OUT" | grep -q ' in ?? (gospin)' && fail "unnamed Go frames: $OUT"
assert_not_traced "$FPID"
exit 0
