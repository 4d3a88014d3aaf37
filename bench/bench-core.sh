#!/bin/sh
# ctrace --core CORE --backtraces on a core of N threads (default 200; tests/fixtures/manythreads.c,
# its core written by gdb's gcore) against gdb -batch -ex 'thread apply all bt' EXE CORE and
# eu-stack --core, all measured in this run on this machine (best of 3 each). Prints times and
# ratios; the goal (issue 21) is ctrace's wall time at most 1/5 of gdb's.
# Usage: sh bench/bench-core.sh [BUILD]   (N=… for another thread count)
set -u
BUILD=${1:-build}
N=${N:-200}
CTRACE=$BUILD/ctrace
FIX=$BUILD/fixtures/manythreads
[ -x "$CTRACE" ] && [ -x "$FIX" ] || { echo "bench-core: build first (make all $FIX)"; exit 1; }
command -v gdb >/dev/null || { echo "bench-core: gdb is not installed (make deps)"; exit 1; }
DIR=$(mktemp -d /tmp/bench-core.XXXXXX)
"$FIX" "$N" >"$DIR/out" 2>&1 &
PID=$!
trap 'kill -KILL $PID 2>/dev/null; rm -rf "$DIR"' EXIT
trap 'exit 1' INT TERM HUP PIPE
i=0
while ! grep -q '^ready' "$DIR/out"; do
	i=$((i + 1)); [ $i -gt 400 ] && { echo "bench-core: fixture not ready"; exit 1; }
	sleep 0.05
done
gdb -batch -ex "gcore $DIR/core" -p "$PID" >/dev/null 2>&1 || { echo "bench-core: gcore failed"; exit 1; }
kill -KILL $PID

ms() { # ms CMD…: best wall milliseconds of 3 runs of CMD (output discarded; a failure aborts)
	best=
	for _ in 1 2 3; do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "bench-core: '$*' failed" >&2; exit 1; }
		t=$(( ($(date +%s%N) - s) / 1000000 ))
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}
ct=$(ms "$CTRACE" --core "$DIR/core" --backtraces)
ctth=$(ms "$CTRACE" --core "$DIR/core" --threads)
gdbt=$(ms gdb -batch -ex 'thread apply all bt' "$FIX" "$DIR/core")
if command -v eu-stack >/dev/null 2>&1; then
	eu=$(ms eu-stack --core "$DIR/core" --executable "$FIX")
else
	eu=
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
echo "bench-core: core of $N threads ($(( $(stat -c %s "$DIR/core") >> 20 )) MiB), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
echo "  ctrace --core --backtraces                  ${ct} ms"
echo "  ctrace --core --threads                     ${ctth} ms"
echo "  gdb -batch -ex 'thread apply all bt'        ${gdbt} ms"
[ -n "$eu" ] && echo "  eu-stack --core                             ${eu} ms"
echo "  ratio ctrace --backtraces / gdb             $(ratio "$ct" "$gdbt") (goal <= 0.2)"
[ -n "$eu" ] && echo "  ratio ctrace --backtraces / eu-stack        $(ratio "$ct" "$eu")"
exit 0
