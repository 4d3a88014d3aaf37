#!/bin/sh
# Runs every unit test (cmocka binaries) and integration test (tests/integration/*.sh).
# Exit 0 passes, 77 (or a cmocka test that called skip()) skips, said loudly; anything else fails.
# Ends with "N passed, N failed, N skipped".
BUILD=${BUILD:-build}
ONLY=${ONLY:-}
export BUILD
export CTRACE="$PWD/$BUILD/ctrace"
export FIXTURES="$PWD/$BUILD/fixtures"
export TOP="$PWD"
# tests get a debug-file cache of their own, not the user's
export CTRACE_CACHE_DIR="$PWD/$BUILD/test-cache"
pass=0 fail=0 skip=0 failed=""
logdir="$BUILD/test-logs"
mkdir -p "$logdir"

run_one() {
	name=$1; shift
	log="$logdir/$(echo "$name" | tr '/' '_').log"
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	dur=$(( $(date +%s) - start ))
	# cmocka exits 0 when a test called skip(): that is a skip, said as loudly as exit 77
	if [ $rc = 0 ] && grep -q '^\[  SKIPPED \]' "$log"; then
		rc=77
		echo "skipped: $(sed -n 's/^\[  SKIPPED \] \([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' "$log" | sort -u | tr '\n' ' ')(see $log)" >>"$log"
	fi
	case $rc in
	0) pass=$((pass + 1)); echo "PASS  $name (${dur}s)" ;;
	77) skip=$((skip + 1)); echo "SKIP  $name: $(tail -n 1 "$log")" ;;
	*) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL  $name (exit $rc)"; sed 's/^/      | /' "$log" | tail -n 40 ;;
	esac
}

if [ "$ONLY" != integration ]; then
	for t in "$BUILD"/tests/unit/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" timeout -k 5 300 "$t"
	done
fi
if [ "$ONLY" != unit ]; then
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		run_one "integration/$(basename "$t" .sh)" timeout -k 5 300 sh "$t"
	done
fi
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
