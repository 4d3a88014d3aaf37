#!/bin/sh
# make bench-sites: what ctrace --memory --sites costs the target, and how exact its byte shares are.
# allocsites unpaced (allocsites N 0) prints its allocator calls per second; each row is the median
# second of a 4 s window, alone and under --sites at several -r. Then the paced fixture (70/30 % of
# bytes from alloc_big/alloc_small) measured at -r 1 and -r 11. Ratios only; run it on a quiet machine.
BUILD=${1:-build}
CTRACE=$BUILD/ctrace
FIX=$BUILD/fixtures/allocsites
T=$(mktemp -d /tmp/ctrace-bench.XXXXXX)
trap 'kill $P 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE

# rate THREADS [R]: calls/s of allocsites over 4 s, alone (no R) or under --sites -r R
rate() {
	"$FIX" "$1" 0 >"$T/fix.out" &
	P=$!
	sleep 1.5
	if [ -n "${2:-}" ]; then
		"$CTRACE" -p $P --memory --sites -d 5 -r "$2" -o "$T/s.folded" 2>"$T/err" &
		C=$!
		sleep 1 # probes placed and debug information loaded
	fi
	n0=$(wc -l <"$T/fix.out")
	sleep 4
	sed -n "$((n0 + 1)),\$p" "$T/fix.out" | awk '/^calls/ { print $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }'
	[ -n "${2:-}" ] && wait $C
	kill $P
	wait $P 2>/dev/null
}

echo "bench-sites: allocsites calls/s (all threads), median second of 4"
printf "%-8s %-14s %14s %9s\n" threads "ctrace" "calls/s" "vs alone"
for th in 1 4; do
	base=$(rate $th)
	printf "%-8s %-14s %14d %9s\n" $th "none" "$base" "-"
	for r in 1 101 1009; do
		v=$(rate $th $r)
		printf "%-8s %-14s %14d %8.1f%%\n" $th "--sites -r $r" "$v" "$(echo "$v $base" | awk '{ print 100 * ($1 - $2) / $2 }')"
	done
done

echo
echo "bench-sites: byte shares, allocsites 4 threads x 50 rounds/s, 5 s (truth 70.0/30.0)"
"$FIX" 4 50 >/dev/null &
P=$!
sleep 0.5
for r in 1 11; do
	/usr/bin/time -f "%e s %U user %S sys" "$CTRACE" -p $P --memory --sites -d 5 -r $r -o "$T/s.folded" 2>"$T/err"
	awk -v r=$r '{ n = $NF; t += n; if ($0 ~ /;alloc_big;/) b += n; else if ($0 ~ /;alloc_small;/) s += n }
	     END { if (!t) t = 1; printf "-r %-3s alloc_big/alloc_small %5.1f/%4.1f %%", r, 100 * b / t, 100 * s / t }' "$T/s.folded"
	printf "  ctrace %s; %s\n" "$(tail -n 1 "$T/err")" "$(grep -o 'dropped [0-9]* samples' "$T/err" || echo "no sample lost")"
done
