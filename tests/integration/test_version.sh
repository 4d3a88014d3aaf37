# ctrace --version: version, git revision, the backends linked in (checked against eu-stack's
# elfutils version) and whether perf_event_open works here (checked with its own syscall from python).
. "$TOP/tests/integration/lib.sh"
expect_exit 0 "$CTRACE" --version
echo "$OUT"
echo "$OUT" | sed -n 1p | grep -Eq '^ctrace [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{7,}|unknown)\)$' ||
	fail "first line is not 'ctrace VERSION (git REV)': $OUT"
echo "$OUT" | grep -q '^unwinders: libdw (elfutils [0-9.]*), libunwind [0-9]*\.[0-9]*, fp' ||
	fail "no unwinders line: $OUT"
if command -v eu-stack >/dev/null; then
	eu=$(eu-stack --version | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')
	echo "$OUT" | grep -q "libdw (elfutils $eu)" || fail "eu-stack uses elfutils $eu, ctrace says: $OUT"
else
	skip_case "elfutils version against eu-stack's" "eu-stack is not installed (make deps)"
fi
perf=$(echo "$OUT" | sed -n 's/^perf_event: \([a-z ]*\).*/\1/p' | sed 's/ *$//')
[ -n "$perf" ] || fail "no perf_event line: $OUT"
if ! command -v python3 >/dev/null; then
	skip_case "perf_event against a direct probe" "python3 is missing to cross-check perf_event ($perf)"
	exit 0
fi
want=$(perf_probe)
[ "$perf" = "$want" ] || fail "ctrace says perf_event is '$perf', a direct perf_event_open says '$want'"
echo "perf_event: $perf, as a direct probe says"
