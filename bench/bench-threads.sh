#!/bin/sh
# ctrace --threads on a process of N threads (default 1000; tests/fixtures/manythreads.c) against
# three --backtraces runs and three eu-stack runs, all measured in this run on this machine.
# Prints times and ratios; the goal (issue 7) is --threads within 3x of three --backtraces runs.
# Usage: sh bench/bench-threads.sh [BUILD]   (N=… for another thread count)
set -u
BUILD=${1:-build}
N=${N:-1000}
CTRACE=$BUILD/ctrace
FIX=$BUILD/fixtures/manythreads
[ -x "$CTRACE" ] && [ -x "$FIX" ] || { echo "bench-threads: build first (make all $FIX)"; exit 1; }
OUT=$(mktemp /tmp/bench-threads.XXXXXX)
"$FIX" "$N" >"$OUT" 2>&1 &
PID=$!
trap 'kill -KILL $PID 2>/dev/null; rm -f "$OUT"' EXIT
# a signal (Ctrl-C, timeout, a closed pipe: make demo | head) ends the script through EXIT
trap 'exit 1' INT TERM HUP PIPE
i=0
while ! grep -q '^ready' "$OUT"; do
	i=$((i + 1)); [ $i -gt 400 ] && { echo "bench-threads: fixture not ready"; exit 1; }
	sleep 0.05
done

ms() { # ms CMD…: wall milliseconds of CMD (output discarded; a failure aborts the benchmark)
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "bench-threads: '$*' failed" >&2; exit 1; }
	echo $(( ($(date +%s%N) - s) / 1000000 ))
}
three() { ms sh -c "$1; $1; $1"; }

threads_default=$(ms "$CTRACE" -p "$PID" --threads)
threads_nowait=$(ms "$CTRACE" -p "$PID" --threads --interval 0)
bt3=$(three "$CTRACE -p $PID --backtraces")
if command -v eu-stack >/dev/null 2>&1; then
	eu3=$(three "eu-stack -p $PID")
else
	eu3=
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "bench-threads: $N threads, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
echo "  ctrace --threads (3 snapshots, 2 x 500 ms apart)   ${threads_default} ms"
echo "  ctrace --threads --interval 0                      ${threads_nowait} ms"
echo "  3 x ctrace --backtraces                            ${bt3} ms"
[ -n "$eu3" ] && echo "  3 x eu-stack -p                                    ${eu3} ms"
echo "  ratio --threads --interval 0 / 3 x --backtraces    $(ratio "$threads_nowait" "$bt3") (goal <= 3)"
echo "  ratio (--threads - 1000 ms waiting) / 3 x --backtraces  $(ratio $((threads_default - 1000)) "$bt3")"
[ -n "$eu3" ] && echo "  ratio --threads --interval 0 / 3 x eu-stack        $(ratio "$threads_nowait" "$eu3")"
exit 0
