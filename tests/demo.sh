#!/bin/sh
# make demo: start a fixture with named threads and show what ctrace sees, then clean up.
BUILD=${1:-build}
"$BUILD/fixtures/threads" 4 >/tmp/ctrace-demo.$$ 2>&1 &
pid=$!
trap 'kill -KILL $pid 2>/dev/null; rm -f /tmp/ctrace-demo.$$' EXIT
# a signal (Ctrl-C, timeout, a closed pipe: make demo | head) ends the script through EXIT
trap 'exit 1' INT TERM HUP PIPE
i=0
until grep -q '^ready' /tmp/ctrace-demo.$$ 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "demo fixture did not start"; exit 1; }
	sleep 0.05
done
echo "\$ ctrace -p $pid --backtraces"
"$BUILD/ctrace" -p "$pid" --backtraces
echo
echo "\$ ctrace -p $pid --threads --snapshots 2 --interval 200"
"$BUILD/ctrace" -p "$pid" --threads --snapshots 2 --interval 200
exit 0
