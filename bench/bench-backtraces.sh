#!/bin/bash
# make bench: ctrace --backtraces against eu-stack and gdb on the same process, in one run.
# For N sleeping threads at call depth 20 plus one thread on CPU that measures the longest gap in its
# own progress: wall time of each tool (median of RUNS) and the longest stop it caused (max of RUNS);
# its CPU time (perf stat's task-clock, median of RUNS) and its system calls (strace -f -c, one run),
# which a loaded machine changes less than wall time; and where ctrace's time went (-v, medians).
BUILD=${1:-build}
RUNS=${RUNS:-9}
CT="$BUILD/ctrace"
TMP=$(mktemp -d /tmp/ctrace-bench.XXXXXX)
trap 'kill -KILL $fpid 2>/dev/null; rm -rf "$TMP"' EXIT
# a signal (Ctrl-C, timeout, a closed pipe: make demo | head) ends the script through EXIT
trap 'exit 1' INT TERM HUP PIPE

# bash's clock, read without starting a process: $(date …) here cost 4-5 ms of fork and exec inside
# every measured interval (this machine), the same for each tool, which pulled the ratios towards 1
now_us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
gap_reset() { : >"$TMP/gap.reset"; while [ -e "$TMP/gap.reset" ]; do sleep 0.002; done; sleep 0.006; }
gap_read() { sleep 0.02; cat "$TMP/gap"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxof() { sort -n | tail -n 1; }

measure() { # measure NAME CMD… -> prints "wall_us maxgap_us cpu_us syscalls"
	name=$1; shift
	: >"$TMP/w"; : >"$TMP/g"; : >"$TMP/c"
	for r in $(seq "$RUNS"); do
		gap_reset
		t0=${EPOCHREALTIME/./}
		"$@" >/dev/null 2>"$TMP/err.$name.$r"
		t1=${EPOCHREALTIME/./}
		echo $((t1 - t0)) >>"$TMP/w"
		gap_read >>"$TMP/g"
		# CPU time in a run of its own: perf stat's start-up is not in the wall time above
		if command -v perf >/dev/null 2>&1 && timeout 60 perf stat -x, -e task-clock -o "$TMP/ps" "$@" >/dev/null 2>&1; then
			awk -F, '/task-clock/ {printf "%d\n", $1 * 1000}' "$TMP/ps" >>"$TMP/c"
		fi
	done
	sc=-
	# not gdb: its start-up forks a child that traces itself, which hangs under strace -f
	if [ "$name" != gdb ] && command -v strace >/dev/null 2>&1 && timeout 60 strace -f -c -o "$TMP/sc" "$@" >/dev/null 2>&1; then
		sc=$(awk '$NF == "total" {print $4 + 0}' "$TMP/sc")
	fi
	cpu=$(median <"$TMP/c"); echo "$(median <"$TMP/w") $(maxof <"$TMP/g") ${cpu:-0} ${sc:--}"
}

# ctrace -v's phases over the runs (medians): where its wall time went
phases() {
	for f in "$TMP"/err.ctrace.*; do
		a=$(sed -n 's/.*time: start-up \([0-9.]*\) ms (\([0-9.]*\) on a CPU, \([0-9.]*\) waiting .*modules listed \([0-9.]*\) ms.*capture \([0-9.]*\) ms, \/proc facts \([0-9.]*\) ms.*/\1 \2 \3 \4 \5 \6/p' "$f")
		b=$(sed -n 's/.*time: unwinding \([0-9.]*\) ms, symbolization \([0-9.]*\) ms.*output \([0-9.]*\) ms.*/\1 \2 \3/p' "$f")
		[ -n "$a" ] && [ -n "$b" ] && echo "$a $b"
	done >"$TMP/ph"
	[ -s "$TMP/ph" ] || return 0
	line=
	i=0
	for name in start-up "on a CPU" "waiting for one" modules capture "/proc facts" unwinding symbolization output; do
		i=$((i + 1))
		line="$line$name $(awk -v i=$i '{print $i}' "$TMP/ph" | median), "
	done
	echo "  ctrace -v, ms (medians): ${line%, }"
}

printf '%-8s %-9s %9s %15s %8s %9s %11s %10s %11s\n' threads tool "wall ms" "longest stop ms" "CPU ms" syscalls \
	"wall ratio" "CPU ratio" "stop ratio"
for n in 10 200; do
	"$BUILD/fixtures/benchsleep" $n "$TMP/gap" >"$TMP/out" 2>&1 &
	fpid=$!
	until grep -q ready "$TMP/out" 2>/dev/null; do sleep 0.05; done
	gap_reset; sleep 0.5; noise=$(gap_read)
	rm -f "$TMP"/err.*
	set -- $(measure ctrace "$CT" -p $fpid --backtraces -v); ctw=$1 ctg=$2 ctc=$3 cts=$4
	set -- $(measure eu-stack eu-stack -p $fpid); euw=$1 eug=$2 euc=$3 eus=$4
	set -- $(measure gdb gdb -p $fpid -batch -ex "thread apply all bt"); gdw=$1 gdg=$2 gdc=$3 gds=$4
	awk -v n=$n -v noise=$noise -v ctw=$ctw -v ctg=$ctg -v ctc=$ctc -v cts=$cts -v euw=$euw -v eug=$eug \
	    -v euc=$euc -v eus=$eus -v gdw=$gdw -v gdg=$gdg -v gdc=$gdc -v gds=$gds 'BEGIN {
		f = "%-8d %-9s %9.1f %15.3f %8.1f %9s %10.1fx %9.1fx %10.1fx\n"
		printf "%-8d %-9s %9.1f %15.3f %8s %9s %11s %10s %11s\n", n, "(noise)", 0, noise/1000, "", "", "", "", ""
		printf "%-8d %-9s %9.1f %15.3f %8.1f %9s %11s %10s %11s\n", n, "ctrace", ctw/1000, ctg/1000, ctc/1000, cts, "1", "1", "1"
		printf f, n, "eu-stack", euw/1000, eug/1000, euc/1000, eus, euw/ctw, euc/(ctc>0?ctc:1), eug/(ctg>0?ctg:1)
		printf f, n, "gdb", gdw/1000, gdg/1000, gdc/1000, gds, gdw/ctw, gdc/(ctc>0?ctc:1), gdg/(ctg>0?ctg:1)
	}'
	phases
	kill -KILL $fpid; wait $fpid 2>/dev/null
done
echo "(ratio = other tool / ctrace; CPU: perf stat's task-clock; goal: ctrace's longest stop within 1 ms of the noise,"
echo " wall <= 1/10 of eu-stack at 200 threads; on a machine others load, the CPU ratio is the steadier one)"
