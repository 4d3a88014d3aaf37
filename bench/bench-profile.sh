#!/bin/sh
# make bench-profile: accuracy and overhead of ctrace --profile against perf, measured in one run.
# cpusplit's threads spend 60/30/10 % of their CPU in hot_60/warm_30/cool_10 (the truth). For each
# profiler: the shares it measures, the fixture's throughput (rounds) while profiled, and samples
# delivered vs expected (CPU time x rate). Ratios only; the machine may be shared, so run it twice.
# Then ctrace's peak RSS profiling cpusplit with 200 threads (both samplers), samples delivered and
# lost. Knobs: SECS (profile length, default 6), RSS_SECS (the 200-thread runs, default 60),
# RSS_THREADS (default 200).
BUILD=${1:-build}
CTRACE=$BUILD/ctrace
FIX=$BUILD/fixtures/cpusplit
FG=${FLAMEGRAPH:-tests/vendor/FlameGraph}
D=${SECS:-6}
T=$(mktemp -d /tmp/ctrace-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE

# shares FOLDED: "hot warm cool total" from folded stacks
shares() {
	awk '{ n = $NF; t += n; if ($0 ~ /hot_60( |;|$)/) h += n; else if ($0 ~ /warm_30( |;|$)/) w += n;
	       else if ($0 ~ /cool_10( |;|$)/) c += n }
	     END { s = h + w + c; if (!s) s = 1; printf "%5.1f/%4.1f/%4.1f  %6d", 100*h/s, 100*w/s, 100*c/s, t }' "$1"
}

# run NAME CMD [POST]: starts cpusplit for SECS, runs CMD (with $P set) 1 s in, then POST (after the
# CPU time is read), and prints the row
run() {
	name=$1; shift
	post=${2:-}
	"$FIX" 2 >"$T/fix.out" &
	P=$!
	sleep 1
	# the fixture's rounds and CPU time over the profiled window only (SIGUSR1 prints its rounds)
	kill -USR1 $P
	t0=$(awk '{print $14 + $15}' /proc/$P/stat)
	s0=$(date +%s%N)
	if [ $# -gt 0 ]; then eval "$1" 2>"$T/err" || echo "  ($name failed: $(tail -n 1 "$T/err"))"; else sleep $D; fi
	kill -USR1 $P
	s1=$(date +%s%N)
	t1=$(awk '{print $14 + $15}' /proc/$P/stat)
	sleep 0.1
	kill $P
	wait $P 2>/dev/null
	[ -n "$post" ] && eval "$post"
	# rounds per second over the window
	rounds=$(awk -v s0=$s0 -v s1=$s1 '/^rounds/ { r[n++] = $2 } END { printf "%d", (r[1] - r[0]) * 1e9 / (s1 - s0) }' "$T/fix.out")
	[ -z "$base" ] && base=$rounds
	tck=$(getconf CLK_TCK)
	expected=$(( (t1 - t0) * 99 / tck ))
	# ctrace -v says what it expected over its sampling window alone (its start and the unwinding
	# after the end are outside it): the fairer count on a loaded machine
	own=$(sed -n 's/.*(about \([0-9]*\) expected.*/\1/p' "$T/err" 2>/dev/null | tail -n 1)
	[ -n "$own" ] && expected=$own
	rm -f "$T/err"
	if [ -s "$T/folded" ]; then
		sh=$(shares "$T/folded")
		# perf's folded counts are sample periods (ns): the sample count is taken from perf script
		[ -s "$T/nsamples" ] && sh="${sh% *} $(printf '%6d' "$(cat "$T/nsamples")")"
		printf "%-22s %s %9s %6.1f%% %8d %7.1f%%\n" "$name" "$sh" "$expected" \
			"$(echo "${sh##* } $expected" | awk '{print $2 ? 100 * $1 / $2 : 0}')" "$rounds" \
			"$(echo "$rounds $base" | awk '{print 100 * ($1 - $2) / $2}')"
	else
		printf "%-22s %-22s %9s %7s %8d %7.1f%%\n" "$name" "-" "-" "-" "$rounds" \
			"$(echo "$rounds $base" | awk '{print 100 * ($1 - $2) / $2}')"
	fi
	rm -f "$T/folded" "$T/nsamples"
}

echo "bench-profile: cpusplit, 2 threads, profiled ${D} s at 99 Hz; truth 60.0/30.0/10.0"
printf "%-22s %-15s %6s %9s %7s %8s %8s\n" "profiler" "hot/warm/cool %" "samples" "expected" "deliv." "rounds/s" "vs none"
base=
run "none"
run "ctrace perf sampler" "$CTRACE -p \$P --profile -d $D -v -o $T/folded"
run "ctrace ptrace sampler" "$CTRACE -p \$P --profile -d $D -v --sampler ptrace -o $T/folded"
if command -v perf >/dev/null && [ -f "$FG/stackcollapse-perf.pl" ]; then
	run "perf record dwarf" "perf record -q -F 99 --call-graph dwarf -p \$P -o $T/perf.data -- sleep $D >/dev/null 2>&1; true" \
		"perf script -i $T/perf.data 2>/dev/null >$T/script; grep -c 'cpu-clock' $T/script >$T/nsamples;
		 perl $FG/stackcollapse-perf.pl $T/script >$T/folded"
else
	echo "perf record dwarf       (perf or stackcollapse-perf.pl not found: skipped)"
fi
echo "samples: delivered; expected: the fixture's CPU time over the same span x 99 Hz (clock ticks,"
echo "so +-2 per run; for ctrace, over its sampling window as it reports with -v); rounds/s: the"
echo "fixture's throughput while profiled (noise: other load on the machine)"

# ctrace's memory and delivery profiling many busy threads for a long time (the goal: RSS <= 64 MB
# for 200 threads and 60 s). The fixture runs at nice 10 so ctrace is not starved by it.
RS=${RSS_SECS:-60}
RT=${RSS_THREADS:-200}
echo
echo "bench-profile: cpusplit, $RT threads (nice 10), profiled ${RS} s at 99 Hz"
printf "%-22s %9s %9s %7s %7s %10s\n" "sampler" "samples" "expected" "deliv." "lost" "max RSS"
for sampler in perf ptrace; do
	nice -n 10 "$FIX" "$RT" >"$T/many.out" &
	P=$!
	i=0
	until grep -q ready "$T/many.out"; do i=$((i + 1)); [ $i -gt 1200 ] && break; sleep 0.05; done
	/usr/bin/time -f "%M" -o "$T/rss" "$CTRACE" -p $P --profile --sampler $sampler -d "$RS" -v \
		-o "$T/many.folded" 2>"$T/many.err"
	kill $P
	wait $P 2>/dev/null
	# "N samples in S s (about E expected from the CPU time), L lost, …"
	awk -v rss="$(tail -n 1 "$T/rss")" -v name="ctrace $sampler" '/ samples in .* expected/ {
		for (i = 1; i <= NF; i++) { if ($(i+1) == "samples" && $(i+2) == "in") n = $i;
			if ($i == "(about") e = $(i+1); if ($(i+1) == "lost,") l = $i }
		printf "%-22s %9d %9d %6.1f%% %7d %7.1f MB\n", name, n, e, e ? 100 * n / e : 0, l, rss / 1024 }' "$T/many.err"
	grep -q ' samples in ' "$T/many.err" || echo "  (ctrace $sampler failed: $(tail -n 1 "$T/many.err"))"
done
echo "expected: the fixture's CPU time x 99 Hz; lost: dropped by the kernel (ring full) or by ctrace's queue"
