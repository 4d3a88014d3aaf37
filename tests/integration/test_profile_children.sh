#!/bin/sh
# ctrace --profile --children on a pre-fork server (prefork: a master and its workers): every
# worker is profiled, those forked during the profile too, under the process name (or NAME-PID
# with --per-pid); with either sampler. Several -p without --children: only those processes.
. "$TOP/tests/integration/lib.sh"
need_ptrace

# wait_for PATTERN FILE: until a line of FILE matches (ctrace's progress), at most 30 s
wait_for() {
	i=0
	until grep -q "$1" "$2"; do
		i=$((i + 1))
		[ $i -gt 600 ] && fail "no '$1' from ctrace: $(cat "$2")"
		sleep 0.05
	done
}

# profile_during_fork SAMPLER OUT OPTIONS…: profiles the master (at 299 Hz: the workers get little
# CPU on a loaded machine); once ctrace is sampling, has the master fork a late worker (SIGUSR1),
# and once ctrace follows it, samples 2 s more and stops ctrace with Ctrl-C (SIGINT)
profile_during_fork() {
	sampler=$1 out=$2; shift 2
	"$CTRACE" -p $M --profile -r 299 -v --sampler "$sampler" -o "$out" "$@" 2>"$TMP/err" &
	C=$!
	wait_for '^ctrace: sampling' "$TMP/err"
	kill -USR1 $M
	i=0
	while late=$(pgrep -P $M | sort -n | tail -n 1); echo "$W $L" | tr ' ' '\n' | grep -qx "$late"; do
		i=$((i + 1))
		[ $i -gt 600 ] && fail "no late worker was forked"
		sleep 0.05
	done
	L="$L $late"
	wait_for "following child process $late" "$TMP/err"
	sleep 2
	kill -INT $C
	wait $C || fail "$sampler: ctrace failed: $(cat "$TMP/err")"
}

start_fixture prefork 2
M=$FPID
W=$(pgrep -P $M | sort -n)
[ "$(echo "$W" | wc -l)" = 2 ] || fail "prefork did not fork 2 workers: $W"
L=

for sampler in perf ptrace; do
	profile_during_fork $sampler "$TMP/c.folded" --children --per-pid
	for w in $W; do
		grep -q "^prefork-$w;.*;early_worker;early_spin [0-9]*$" "$TMP/c.folded" ||
			fail "$sampler --children: worker $w missing: $(cat "$TMP/c.folded" "$TMP/err")"
	done
	grep -q "^prefork-$late;.*;master_wait;spawn;late_worker;late_spin [0-9]*$" "$TMP/c.folded" ||
		fail "$sampler --children: worker $late forked during the profile missing: $(cat "$TMP/c.folded" "$TMP/err")"
done
assert_not_traced $M

# without --per-pid the root frame is the process name, workers' samples added up under it
expect_exit 0 "$CTRACE" -p $M --children --profile -d 1 -o "$TMP/n.folded"
grep -q '^prefork;.*;early_worker;early_spin [0-9]*$' "$TMP/n.folded" || fail "--children: no prefork root: $(cat "$TMP/n.folded")"
bad=$(grep -v '^prefork;' "$TMP/n.folded" | head -n 3)
[ -z "$bad" ] || fail "--children: another root frame: $bad"

# without --children, the master alone (it waits: no samples, said) and the workers given with -p
set -- $W
expect_exit 0 "$CTRACE" -p $1 -p $2 --per-pid --profile -d 1 -o "$TMP/two.folded"
for w in $1 $2; do
	grep -q "^prefork-$w;.*;early_spin [0-9]*$" "$TMP/two.folded" || fail "-p $w: missing: $(cat "$TMP/two.folded")"
done
[ "$(cut -d';' -f1 "$TMP/two.folded" | sort -u | wc -l)" = 2 ] || fail "-p -p: other processes sampled: $(cat "$TMP/two.folded")"
kill $M
exit 0
