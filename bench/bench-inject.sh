#!/bin/sh
# ctrace --memory --inject on redis-server (jemalloc): how long the one thread that runs the calls
# stays stopped, over 20 runs, next to gdb calling jemalloc's malloc_stats_print (which stops every
# thread of redis for the whole of gdb's run). Prints numbers only; asserts nothing.
BUILD=${1:-build}
CTRACE=$PWD/$BUILD/ctrace
command -v redis-server >/dev/null || { echo "bench-inject: redis-server not installed"; exit 0; }
TMP=$(mktemp -d /tmp/ctrace-bench-inject.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/log" 2>&1 &
RP=$!
trap 'kill $RP 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
# a signal (Ctrl-C, timeout, a closed pipe: make demo | head) ends the script through EXIT
trap 'exit 1' INT TERM HUP PIPE
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done
python3 -c '
import sys
sys.stdout.write("".join("SET key:%d %s\r\n" % (i, "v" * 300) for i in range(20000)))' |
	redis-cli -p "$port" --pipe >/dev/null
for i in $(seq 1 20); do
	"$CTRACE" -p $RP --memory --inject -f json | python3 -c '
import json, sys
d = json.load(sys.stdin)["injected"]
print(d["stop_ms"], d["calls_ms"])'
done >"$TMP/runs"
sort -n "$TMP/runs" | awk '{s[NR] = $1; c[NR] = $2} END {
	printf "ctrace --inject, 20 runs: thread stopped median %.3f ms, max %.3f ms; calls ran median %.3f ms (7 calls)\n",
		s[int((NR + 1) / 2)], s[NR], c[int((NR + 1) / 2)] }'
if command -v gdb >/dev/null; then
	t0=$(date +%s%N)
	gdb -p $RP -batch -ex 'call (void)malloc_stats_print(0, 0, 0)' >/dev/null 2>&1
	t1=$(date +%s%N)
	echo "gdb -batch call malloc_stats_print: every thread stopped $(( (t1 - t0) / 1000000 )) ms"
fi
