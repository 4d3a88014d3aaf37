#!/bin/sh
# make bench: ctrace --backtraces against eu-stack and gdb on the same process, in one run.
# For N sleeping threads at call depth 20 plus one thread on CPU that measures the longest gap in its
# own progress: wall time of each tool (median of RUNS) and the longest stop it caused (max of RUNS).
BUILD=${1:-build}
RUNS=${RUNS:-5}
CT="$BUILD/ctrace"
TMP=$(mktemp -d /tmp/ctrace-bench.XXXXXX)
trap 'kill -KILL $fpid 2>/dev/null; rm -rf "$TMP"' EXIT
# a signal (Ctrl-C, timeout, a closed pipe: make demo | head) ends the script through EXIT
trap 'exit 1' INT TERM HUP PIPE

now_us() { echo $(( $(date +%s%N) / 1000 )); }
gap_reset() { : >"$TMP/gap.reset"; while [ -e "$TMP/gap.reset" ]; do sleep 0.002; done; sleep 0.006; }
gap_read() { sleep 0.02; cat "$TMP/gap"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxof() { sort -n | tail -n 1; }

measure() { # measure NAME CMD… -> prints "wall_us maxgap_us"
	name=$1; shift
	: >"$TMP/w"; : >"$TMP/g"
	for r in $(seq "$RUNS"); do
		gap_reset
		t0=$(now_us)
		"$@" >/dev/null 2>&1
		t1=$(now_us)
		echo $((t1 - t0)) >>"$TMP/w"
		gap_read >>"$TMP/g"
	done
	echo "$(median <"$TMP/w") $(maxof <"$TMP/g")"
}

printf '%-8s %-9s %12s %14s %12s %12s\n' threads tool "wall ms" "longest stop ms" "wall ratio" "stop ratio"
for n in 10 200; do
	"$BUILD/fixtures/benchsleep" $n "$TMP/gap" >"$TMP/out" 2>&1 &
	fpid=$!
	until grep -q ready "$TMP/out" 2>/dev/null; do sleep 0.05; done
	gap_reset; sleep 0.5; noise=$(gap_read)
	set -- $(measure ctrace "$CT" -p $fpid --backtraces); ctw=$1 ctg=$2
	set -- $(measure eu-stack eu-stack -p $fpid); euw=$1 eug=$2
	set -- $(measure gdb gdb -p $fpid -batch -ex "thread apply all bt"); gdw=$1 gdg=$2
	awk -v n=$n -v noise=$noise -v ctw=$ctw -v ctg=$ctg -v euw=$euw -v eug=$eug -v gdw=$gdw -v gdg=$gdg 'BEGIN {
		printf "%-8d %-9s %12.1f %14.3f %12s %12s\n", n, "(noise)", 0, noise/1000, "", ""
		printf "%-8d %-9s %12.1f %14.3f %12s %12s\n", n, "ctrace", ctw/1000, ctg/1000, "1", "1"
		printf "%-8d %-9s %12.1f %14.3f %11.1fx %11.1fx\n", n, "eu-stack", euw/1000, eug/1000, euw/ctw, eug/(ctg>0?ctg:1)
		printf "%-8d %-9s %12.1f %14.3f %11.1fx %11.1fx\n", n, "gdb", gdw/1000, gdg/1000, gdw/ctw, gdg/(ctg>0?ctg:1)
	}'
	kill -KILL $fpid; wait $fpid 2>/dev/null
done
echo "(ratio = other tool / ctrace; goal: ctrace's longest stop within 1 ms of the noise, wall <= 1/10 of eu-stack at 200 threads)"
