#!/bin/sh
# make bench-memory: ctrace --memory level 1 and level 2 against gdb's malloc_stats() on a process
# with a 280 MB heap and 100000 free chunks, measured in the same run. Prints wall times (median of
# N runs; level 2 with libc's DWARF read and with the layout cached) and the longest time the target's heartbeat thread could not run during each tool.
# No assertion on absolute times: the numbers are for the reader.
BUILD=${1:-build}
CTRACE=$BUILD/ctrace
FIX=$BUILD/fixtures/heapmix
N=${N:-5}
TMP=$(mktemp -d /tmp/ctrace-bench.XXXXXX)
trap 'kill -KILL $P 2>/dev/null; rm -rf "$TMP"' EXIT
# a signal (Ctrl-C, timeout, a closed pipe: make demo | head) ends the script through EXIT
trap 'exit 1' INT TERM HUP PIPE

"$FIX" "$TMP/mi.txt" big >"$TMP/out" 2>&1 &
P=$!
i=0
while ! grep -q '^ready' "$TMP/out"; do
	i=$((i + 1)); [ $i -gt 600 ] && { echo "heapmix big did not start"; exit 1; }; sleep 0.05
done

now() { date +%s%N; }
# gap: the heartbeat's longest gap since the last call, in ms
gap() {
	before=$(grep -c maxgap "$TMP/out")
	kill -USR1 $P
	while [ "$(grep -c maxgap "$TMP/out")" = "$before" ]; do sleep 0.01; done
	grep maxgap "$TMP/out" | tail -n 1 | awk '{printf "%.1f", $2 / 1000}'
}
# run NAME CMD…: N runs; median wall ms and the worst heartbeat gap
run() {
	name=$1; shift
	gap >/dev/null
	: >"$TMP/times"; worst=0
	for k in $(seq "$N"); do
		t0=$(now); "$@" >"$TMP/last.out" 2>"$TMP/last.err"; rc=$?; t1=$(now)
		echo $(( (t1 - t0) / 1000 )) >>"$TMP/times"
		g=$(gap)
		worst=$(echo "$g $worst" | awk '{print ($1 > $2) ? $1 : $2}')
	done
	med=$(sort -n "$TMP/times" | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] / 1000}')
	printf "%-34s %10s ms %14s ms   (exit %s)\n" "$name" "$med" "$worst" "$rc"
	eval "T_$(echo "$name" | tr -c 'a-zA-Z0-9\n' '_')=$med"
}

rss=$(awk '/VmRSS/ {print $2}' /proc/$P/status)
echo "target: heapmix big, pid $P, RSS $((rss / 1024)) MiB, $(awk '$1 == "ordblks" {print $2}' "$TMP/mi.txt") free blocks (mallinfo2 ordblks)"
gap >/dev/null; sleep 1; echo "heartbeat gap with no tool attached: $(gap) ms (scheduling noise on this machine)"
echo
printf "%-34s %13s %17s\n" "tool" "wall (median)" "longest stop/gap"
run "ctrace level 1 (--no-arenas)" "$CTRACE" -p $P --memory --no-arenas
run "ctrace level 2, layout from DWARF" env XDG_CACHE_HOME=/proc/no-cache "$CTRACE" -p $P --memory -f json
export XDG_CACHE_HOME="$TMP/cache"
"$CTRACE" -p $P --memory --top 1 >/dev/null 2>&1 # fills the layout cache
run "ctrace level 2, layout cached" "$CTRACE" -p $P --memory -f json
cp "$TMP/last.out" "$TMP/l2.json"
if command -v gdb >/dev/null; then
	run "gdb -batch call malloc_stats()" gdb -p $P -batch -ex 'call (void)malloc_stats()'
else
	echo "gdb not installed: no comparison"
fi
echo
python3 - "$TMP/l2.json" "$TMP/mi.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); m = d["malloc"]
want = dict((k, int(v)) for k, v in (l.split() for l in open(sys.argv[2])))
print(f"ctrace level 2: walk {m['walk_ms']} ms for {sum(a['free_chunks'] for a in m['arenas'])} free chunks "
      f"in {len(m['arenas'])} arenas, {m['tries']} pass(es), approximate={m['approximate']}")
worst = max(abs(m["total"][k] - v) / v if v else 0 for k, v in want.items())
print(f"largest difference from the fixture's mallinfo2(): {worst * 100:.3f} %")
PY
echo "gdb / ctrace level 2: $(echo "${T_gdb__batch_call_malloc_stats__:-0} ${T_ctrace_level_2__layout_from_DWARF:-1} ${T_ctrace_level_2__layout_cached:-1}" |
	awk '{printf "%.1fx (layout from DWARF), %.1fx (layout cached)", $1 / $2, $1 / $3}')"
