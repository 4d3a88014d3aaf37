# A target that saturates the machine (issue 19), fixtures/spinners: SATURATED_THREADS (60) threads
# spinning on 2+ CPUs.
# --backtraces captures every thread (the count /proc gives), on the spinning frames; ctrace's own
# thread is boosted for the capture (-v says how) and the target's scheduling (policy, real-time
# priority, nice, allowed CPUs, per thread, as /proc shows them) is the same after.
# --profile -d 2 keeps its rate: the kernel drops no sample (rings full), ctrace is not behind the
# target's CPU time, and -v's figures (rings read, fullest, drops, ctrace's CPU) are consistent;
# the rings are read by a thread of ctrace's own (ctrace-rings), at the session thread's nice.
# Then ctrace is killed at random moments (fixtures/killmid), SATURATED_KILLS (6) times or for
# SATURATED_SECS (10) s, whichever ends first, taking turns: SIGKILL or SIGTERM 0-300 us after
# ctrace is seen at SCHED_FIFO (mid-boost: threads seized, in flight, stopped); while ctrace, frozen
# (SIGSTOP) at random moments until one is caught, holds a target thread in tracing stop (with
# --always-stop: else the spinning threads are read from perf samples, not stopped); at a
# random time of a run. After each kill no
# thread is stopped or traced and the scheduling is unchanged; at the end the target still runs
# (its CPU time grows).
# make check runs the short form; make stress the long one (SATURATED_KILLS=90, SATURATED_SECS=900).
# check: alone (saturates the machine on purpose: run without other tests)
. "$TOP/tests/integration/lib.sh"
need_ptrace
THREADS=${SATURATED_THREADS:-60}
KILLS=${SATURATED_KILLS:-6}
SECS=${SATURATED_SECS:-10}
start_fixture spinners "$THREADS"
NT=$(ls /proc/$FPID/task | wc -l)

# policy (stat field 41), real-time priority (40), nice (19) and allowed CPUs (what
# sched_getaffinity returns) of every thread, in one awk (on a saturated machine every process
# started waits for a CPU)
sched_of() {
	awk 'FNR == 1 { split(FILENAME, p, "/"); t = p[5] }
	     FILENAME ~ /stat$/ { sub(/.*\) /, ""); split($0, f, " "); s[t] = f[39] " " f[38] " " f[17] }
	     /^Cpus_allowed_list/ { c[t] = $2 }
	     END { for (t in s) print t, s[t], c[t] }' /proc/$1/task/*/stat /proc/$1/task/*/status | sort
}
# no thread of the process in tracing stop, and no tracer
untraced() {
	awk 'FILENAME ~ /stat$/ { sub(/.*\) /, ""); if (substr($0, 1, 1) == "t") bad = 1 }
	     /^TracerPid:/ && $2 != 0 { bad = 1 }
	     END { exit bad }' /proc/$1/task/*/stat /proc/$1/task/*/status ||
		fail "$2: a thread of $1 was left stopped or traced: $(grep -l -e '^State:.*t (tracing' \
			-e '^TracerPid:[[:space:]]*[1-9]' /proc/$1/task/*/status | head -n 3)"
}
same_sched() {
	sched_of $FPID >"$TMP/sched.after"
	cmp -s "$TMP/sched.before" "$TMP/sched.after" ||
		fail "$1: the target's scheduling changed: $(diff "$TMP/sched.before" "$TMP/sched.after" | head -n 5)"
}
# the process's CPU time (utime + stime, stat fields 14 and 15, in clock ticks)
cpu_ticks() {
	read -r line </proc/$1/stat
	set -- ${line##*) }
	echo $((${12} + ${13}))
}
sched_of $FPID >"$TMP/sched.before"
[ "$(wc -l <"$TMP/sched.before")" = "$NT" ] || fail "cannot read the scheduling of $NT threads"

t0=$(date +%s%N)
expect_exit 0 "$CTRACE" -p $FPID --backtraces -v
run_us=$(( ($(date +%s%N) - t0) / 1000 + 1 )) # one run's length, the window random kills fall in
got=$(printf '%s\n' "$OUT" | grep -c '^Thread ')
[ "$got" = "$NT" ] || fail "--backtraces shows $got threads, /proc/$FPID/task has $NT"
spin=$(printf '%s\n' "$OUT" | grep -c 'in spin_inner')
[ "$spin" -ge "$THREADS" ] || fail "only $spin threads show spin_inner; output: $(printf '%s\n' "$OUT" | head -n 30)"
printf '%s\n' "$ERR" | grep -q "priority while capturing: " || fail "-v does not say ctrace's priority: $ERR"
if [ "$(id -u)" = 0 ]; then
	printf '%s\n' "$ERR" | grep -q "priority while capturing: SCHED_FIFO" ||
		fail "root, but the capture did not run at SCHED_FIFO: $ERR"
else
	skip_case fifo "not root: SCHED_FIFO is not permitted, the nice fallback is what runs"
fi
note "$(printf '%s\n' "$ERR" | grep -E 'captured|priority')"
untraced $FPID "after a whole run"
same_sched "after a whole run"

# --profile keeps its rate: the perf sampler's rings never fill (ctrace reads them at nice -10,
# copying each record out and unwinding after), so the kernel drops nothing and the samples are
# not behind the target's CPU time (ctrace's own check against /proc, said as a warning). -v says
# how full the rings got, how long the reads were apart, and ctrace's CPU while sampling, which
# cannot exceed its whole run's CPU time as the kernel counts it (/usr/bin/time, from outside).
if [ -x /usr/bin/time ]; then
	expect_exit 0 /usr/bin/time -f '%U %S' -o "$TMP/ptime" "$CTRACE" -p $FPID --profile -d 2 -v -o "$TMP/sat.folded"
	rings=$(printf '%s\n' "$ERR" | grep 'perf rings: read ') ||
		fail "-v does not say how the perf rings were read: $ERR"
	set -- $(printf '%s\n' "$rings" | sed -n 's/.*read \([0-9]*\) times, longest gap between reads \([0-9]*\) ms, fullest \([0-9]*\) KiB of \([0-9]*\) KiB.*dropped: \([0-9]*\) by the kernel.*, \([0-9]*\) for.*/\1 \2 \3 \4 \5 \6/p')
	[ $# = 6 ] || fail "cannot read the rings line: $rings"
	[ "$1" -ge 2 ] && [ "$3" -le "$4" ] || fail "rings line out of bounds: $rings"
	lost=$(printf '%s\n' "$ERR" | sed -n 's/.* samples in .*, \([0-9]*\) lost, .*/\1/p')
	[ "$lost" = $(($5 + $6)) ] || fail "the rings line's drops ($5 + $6) are not the summary's $lost lost: $ERR"
	if [ "$(id -u)" = 0 ]; then
		[ "$5" = 0 ] || fail "the kernel dropped $5 samples (rings full) on a saturated machine: $ERR"
	else
		skip_case profile-nolost "not root: the rings are sized by the locked-memory budget, losses are only counted"
	fi
	if printf '%s\n' "$ERR" | grep -q 'behind in sampling'; then fail "--profile fell behind the CPU time: $ERR"; fi
	cpu=$(printf '%s\n' "$ERR" | sed -n "s/.*ctrace's CPU while sampling: \([0-9]*\) ms in .*/\1/p")
	[ -n "$cpu" ] || fail "-v does not say ctrace's CPU while sampling: $ERR"
	whole=$(awk '{printf "%d", ($1 + $2) * 1000 + 10}' "$TMP/ptime")
	[ "$cpu" -le "$whole" ] || fail "ctrace says $cpu ms of CPU while sampling, the kernel $whole ms for its whole run"
	grep -q ';spin_inner [0-9]*$' "$TMP/sat.folded" || fail "--profile misses spin_inner: $(head -n 5 "$TMP/sat.folded")"
	printf '%s\n' "$ERR" | grep -q 'perf rings read by their own thread (ctrace-rings' ||
		fail "-v does not name the rings' reading thread: $ERR"
	rcpu=$(printf '%s\n' "$ERR" | sed -n 's/.*ring reader thread: \([0-9]*\) ms of CPU.*/\1/p')
	[ -n "$rcpu" ] && [ "$rcpu" -le "$cpu" ] || fail "the reader thread's CPU ($rcpu ms) is not within ctrace's ($cpu ms): $ERR"
	# the reading thread, as /proc shows it while ctrace samples: named, at the session thread's
	# nice (inherited, never raised further), and gone with ctrace
	"$CTRACE" -p $FPID --profile -d 2 -o "$TMP/sat2.folded" 2>"$TMP/sat2.err" &
	C=$!
	i=0 rt=
	while [ -z "$rt" ] && [ $i -lt 100 ] && kill -0 $C 2>/dev/null; do
		rt=$(grep -l '^ctrace-rings$' /proc/$C/task/*/comm 2>/dev/null | head -n 1)
		i=$((i + 1)); sleep 0.05
	done
	if [ -n "$rt" ]; then
		nice_of() { read -r line <"$1"; set -- ${line##*) }; echo "${17}"; }
		rn=$(nice_of "${rt%/comm}/stat"); mn=$(nice_of /proc/$C/task/$C/stat)
		[ "$rn" = "$mn" ] || fail "the reading thread runs at nice $rn, the session thread at $mn"
		note "ctrace-rings seen at nice $rn (session thread $mn)"
	else
		skip_case reader-seen "ctrace-rings not seen in /proc/$C/task in 5 s (ctrace ended or started slowly)"
	fi
	wait $C || fail "--profile -d 2 failed: $(cat "$TMP/sat2.err")"
	note "$(printf '%s\n' "$ERR" | grep -E 'perf rings|CPU while sampling| samples in ')"
else
	skip_case profile-saturated "/usr/bin/time is missing (make deps: time)"
fi

# killmid watches ctrace and the target from outside: at nice 0 among the spinners it gets a turn
# every scheduling round, too seldom to catch a stop of about a millisecond (CI: 0 seen in a try).
# As root it runs at nice -20, and ctrace with it (which ctrace would take in main anyway).
RAISED=; [ "$(id -u)" = 0 ] && RAISED="nice -n -20"
# kinds of kill, taken in turn: WHEN of killmid, the counters of the kills seen at that moment
tries=0 boosted=0 boosted_seen=0 seized=0 seized_seen=0 timed=0 killed=0 termed=0
end=$(( $(date +%s) + SECS ))
while [ "$(date +%s)" -lt $end ] && [ $tries -lt "$KILLS" ]; do
	tries=$((tries + 1))
	rnd=$(od -An -N4 -tu4 /dev/urandom | tr -d ' \n')
	sig=9; [ $(( (tries + 1) / 3 % 2)) = 1 ] && sig=15
	case $((tries % 3)) in
	1) when=boosted delay=$((rnd % 300)); boosted=$((boosted + 1)) ;;
	2) when=seized delay=$((rnd % 300)); seized=$((seized + 1)) ;;
	0) when=time delay=$((rnd % run_us)); timed=$((timed + 1)) ;;
	esac
	what="signal $sig $when +${delay} us"
	# the spinning threads are read from perf samples, never stopped (attach/oncpu.c): only
	# --always-stop has them in tracing stop for the seized kills
	stop=; [ $when = seized ] && stop=--always-stop
	r=$($RAISED "$FIXTURES/killmid" $FPID $when $delay 0 0 $sig -- "$CTRACE" -p $FPID --backtraces $stop) ||
		fail "killmid failed: $r"
	case $r in
	hung*) fail "ctrace did not end after $what: $r" ;;
	killed*) [ $sig = 9 ] && killed=$((killed + 1)) || termed=$((termed + 1)) ;;
	esac
	case $when/$r in
	boosted/*stopped-seen=1*) boosted_seen=$((boosted_seen + 1)) ;;
	seized/*stopped-seen=1*) seized_seen=$((seized_seen + 1)) ;;
	esac
	untraced $FPID "kill $tries ($what: $r)"
	same_sched "kill $tries ($what: $r)"
done
note "ctrace killed $tries times (one run $((run_us / 1000)) ms): $boosted after it was seen at SCHED_FIFO" \
	"(seen $boosted_seen times), $seized after a thread was seen in tracing stop (seen $seized_seen times)," \
	"$timed at a random time; $killed SIGKILLs and $termed SIGTERMs landed mid-run; no thread left stopped"
if [ "$(id -u)" = 0 ] && [ $boosted_seen = 0 ]; then
	skip_case kill-midboost "ctrace was not seen at SCHED_FIFO before the kill in $boosted tries"
fi
if [ $seized -gt 0 ] && [ $seized_seen = 0 ]; then
	skip_case kill-seized "no target thread was seen in tracing stop before the kill in $seized tries"
fi
c1=$(cpu_ticks $FPID)
sleep 0.3
c2=$(cpu_ticks $FPID)
[ "$c2" -gt "$c1" ] || fail "the target's CPU time did not grow after the kills ($c1, then $c2 ticks)"
echo "saturated target: every thread captured, boosted capture, --profile loses nothing, kills mid-boost and mid-stop leave nothing stopped"
