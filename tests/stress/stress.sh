# make stress: fault injection against ctrace, repeated and counted (issue 8). Exit 0 when every
# invariant held in every run, 1 otherwise; 77 when ptrace is not permitted here. Every mode of
# MODES goes through the kill and die parts; a table of the figures ends the output.
#   kill   ctrace SIGKILLed at random moments (STRESS_KILL_N runs per mode; for the modes that stop
#          threads, half of them timed from the moment a target thread is in tracing stop), then
#          SIGTERMed the same way (STRESS_TERM_N runs), 4 real-time signals sent to the target just
#          before each kill: afterwards no thread is left in 't' or traced, the target's progress
#          counter advances, every signal arrived. Also prints whether this kernel loses a signal
#          that a thread holds in signal-delivery-stop when its tracer dies (the reason ctrace
#          defers SIGTERM/SIGINT).
#   churn  a target creating and joining threads as fast as it can: ctrace's exit codes over N
#          captures, against eu-stack's failure rate on the same target
#   die    the target is SIGKILLed, exits, execs /bin/sleep or forks-and-exits at a random moment
#          of a run: ctrace exits 0, 1 (with a message) or 2, and never hangs (timeout 20 s)
# Run through make (it sets CTRACE, FIXTURES, TOP). Knobs: STRESS_PARTS (default "kill churn die"),
# STRESS_MODES (names from MODES, default all), STRESS_KILL_N (SIGKILL runs per mode, 100),
# STRESS_TERM_N (SIGTERM runs per mode, 20), STRESS_CHURN_N (100), STRESS_DIE_N (runs per mode
# and way to die, 25), STRESS_THREADS (target threads, 50), STRESS_PROFILE_SECS (-d of --profile, 1).
. "$TOP/tests/integration/lib.sh"

# Modes under stress, one per line: a name, 1 when the mode stops threads (then half of the runs are
# timed from the moment a thread is first seen in tracing stop), then ctrace's arguments after
# -p PID. The ptrace sampler runs in wall mode, where it stops every thread at each tick.
PROFILE_S=${STRESS_PROFILE_SECS:-1}
MODES="backtraces 1 --backtraces
threads 1 --threads --snapshots 2 --interval 20
memory 0 --memory
profile-perf 0 --profile -d $PROFILE_S --sampler perf
profile-ptrace 1 --profile -d $PROFILE_S --sampler ptrace --mode wall"
if [ -n "${STRESS_MODES:-}" ]; then
	MODES=$(echo "$MODES" | while read -r name rest; do
		case " $STRESS_MODES " in *" $name "*) echo "$name $rest" ;; esac
	done)
fi

PARTS=${STRESS_PARTS:-kill churn die}
KILL_N=${STRESS_KILL_N:-100}
TERM_N=${STRESS_TERM_N:-20}
CHURN_N=${STRESS_CHURN_N:-100}
DIE_N=${STRESS_DIE_N:-25}
NTHREADS=${STRESS_THREADS:-50}
BAD=0
# bad WHY: counts a violation in $TMP/bad (parts run in subshells) and says it
bad() { echo "BAD: $*"; echo x >>"$TMP/bad"; }
rnd() { od -An -N4 -tu4 /dev/urandom | tr -d ' \n'; }
now_us() { echo $(($(date +%s%N) / 1000)); }
need_ptrace

# traced_threads PID: how many threads of PID are in tracing stop or have a tracer
traced_threads() {
	t=$(cat /proc/$1/task/*/stat 2>/dev/null | sed 's/.*) \(.\).*/\1/' | grep -c '^t$')
	r=$(cat /proc/$1/task/*/status 2>/dev/null | grep '^TracerPid:' | grep -vc '[[:space:]]0$')
	echo $((t + r))
}

# wait_counter FILE NAME CMP VALUE: polls FILE (rewritten every 10 ms) up to 10 s until NAME CMP VALUE
wait_counter() {
	k=0
	while :; do
		v=$(sed -n "s/^$2=//p" "$1")
		[ -n "$v" ] && [ "$v" "$3" "$4" ] && return 0
		k=$((k + 1)); [ $k -gt 500 ] && return 1
		sleep 0.02
	done
}

# pending_state PID: what the target's threads hold pending or blocked, for a loss report
pending_state() {
	pnd=$(cat /proc/$1/task/*/status 2>/dev/null | grep '^SigPnd:' | grep -vc '0000000000000000$')
	blk=$(cat /proc/$1/task/*/status 2>/dev/null | grep '^SigBlk:' | grep -vc '0000000000000000$')
	echo "threads with a signal pending $pnd, with signals blocked $blk, shared pending" \
		"$(sed -n 's/^ShdPnd:[[:space:]]*//p' /proc/$1/status 2>/dev/null)"
}

# run_ms ARGS…: milliseconds one ctrace run takes against $FPID (the window to kill it in): the
# shortest of three, so that one run slowed by a loaded machine does not make a window that every
# later run ends within ("no run was killed mid-run", seen at load 280)
run_ms() {
	best=
	for _ in 1 2 3; do
		t0=$(now_us); "$CTRACE" -p "$FPID" "$@" >/dev/null 2>&1; ms=$((($(now_us) - t0) / 1000 + 1))
		[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
	done
	echo "$best"
}

# row TABLE FIELDS…: one row of a figures table, printed at the end
row() { t=$1; shift; echo "$*" >>"$TMP/table.$t"; }

# Once: does this kernel lose a signal that a thread holds in signal-delivery-stop when its tracer
# dies? (ptrace(2) calls that restart "buggy".) A figure, not a verdict: ctrace cannot change it.
kernel_check() {
	start_fixture stressee "$TMP/kernel" 3
	rtmin=$(sed -n 's/^ready [0-9]* rtmin=//p' "$FOUT")
	[ -n "$rtmin" ] || fail "stressee said no rtmin: $(cat "$FOUT")"
	tid=$(ls "/proc/$FPID/task" | sed -n 2p)
	sent=0 kernel_lost=0
	for k in 1 2 3; do
		case $("$FIXTURES/tracerdies" "$FPID" "$tid" "$rtmin") in
		in-signal-delivery-stop) sent=$((sent + 1))
			wait_counter "$TMP/kernel" sig_rt = $sent ||
				{ kernel_lost=$((kernel_lost + 1)); sent=$((sent - 1)); } ;;
		*) bad "tracerdies could not reach signal-delivery-stop" ;;
		esac
	done
	echo "kernel $(uname -r): a signal held in signal-delivery-stop when its tracer dies is lost" \
		"in $kernel_lost of 3 tries"
	kill -KILL "$FPID"; wait "$FPID" 2>/dev/null
}

part_kill() { # MODE STOPS ARGS…
	mode=$1 stops=$2; shift 2
	cnt="$TMP/kill-$mode"
	start_fixture stressee "$cnt" "$NTHREADS"
	rtmin=$(sed -n 's/^ready [0-9]* rtmin=//p' "$FOUT")
	[ -n "$rtmin" ] || fail "stressee said no rtmin: $(cat "$FOUT")"
	dur=$(run_ms "$@")
	prog=$(sed -n 's/^progress=//p' "$cnt")
	sent=0 # signals the target has counted or should have, all runs together
	killed_any=0 # runs killed mid-run, SIGKILL and SIGTERM together
	for ksig in 9 15; do
		n_runs=$KILL_N; [ $ksig = 9 ] || n_runs=$TERM_N
		sent0=$sent killed=0 seen=0 lost=0 klost=0 left=0 stalled=0 late=0
		i=0
		while [ $i -lt "$n_runs" ]; do
			i=$((i + 1))
			if [ "$stops" = 1 ] && [ $((i % 2)) = 1 ]; then when=seized delay=$(($(rnd) % 300))
			# within the first 70 % of the shortest run: a kill after the end proves nothing
			else when=time delay=$(($(rnd) % (dur * 700))); fi
			r=$("$FIXTURES/killmid" "$FPID" $when $delay 4 "$rtmin" $ksig -- "$CTRACE" -p "$FPID" "$@" \
				2>>"$TMP/kill.err") ||
				{ bad "killmid failed: $r"; continue; }
			case $r in killed*) killed=$((killed + 1)) ;; esac
			case $r in *stopped-seen=1*) seen=$((seen + 1)) ;; esac
			sent=$((sent + ${r##*sent=}))
			n=$(traced_threads "$FPID")
			[ "$n" = 0 ] || { left=$((left + 1)); bad "$mode run $i ($r): $n threads left traced"; }
			wait_counter "$cnt" sig_rt -ge $sent
			got=$(sed -n 's/^sig_rt=//p' "$cnt"); got=${got:-0}
			if [ "$got" -lt "$sent" ]; then
				# SIGKILL can land while a thread holds a signal in signal-delivery-stop: the
				# kernel drops it (kernel_check, SAFETY in ctrace(1)). Any other loss is ours.
				if [ $ksig = 9 ]; then klost=$((klost + sent - got))
				else bad "$mode run $i ($when +${delay}us, signal $ksig, $r): $((sent - got))" \
					"real-time signals lost; $(pending_state "$FPID")"
				fi
				lost=$((lost + sent - got))
			elif [ "$got" -gt "$sent" ]; then
				# a signal counted as lost in an earlier run arrived after all, over 10 s late:
				# a fault of its own, which could also hide a loss in this run (an equality
				# test above once turned one late signal into every later run's loss)
				bad "$mode run $i: $((got - sent)) real-time signal(s) of an earlier run arrived over 10 s late"
				late=$((late + got - sent))
			fi
			sent=$got
			wait_counter "$cnt" progress -gt "$prog" || { stalled=$((stalled + 1)); bad "$mode run $i: no progress"; }
			prog=$(sed -n 's/^progress=//p' "$cnt")
		done
		total=$((sent - sent0 + lost - late))
		echo "kill/$mode/SIG$( [ $ksig = 9 ] && echo KILL || echo TERM): $n_runs runs (one run ${dur} ms)," \
			"$killed killed mid-run, $seen of them with a thread seen in tracing stop; signals sent" \
			"$total, lost $lost ($klost after SIGKILL); runs leaving a thread traced $left; runs after" \
			"which the target made no progress $stalled; counted late $late"
		row kill "$mode $( [ $ksig = 9 ] && echo KILL || echo TERM) $n_runs $dur $killed $seen $total" \
			"$((lost - klost)) $klost $left $stalled"
		killed_any=$((killed_any + killed))
	done
	# runs that ended before the kill prove nothing: at least one of this mode's must be mid-run
	[ "$killed_any" -gt 0 ] || bad "$mode: no run was killed mid-run (all ended first)"
	kill -KILL "$FPID"; wait "$FPID" 2>/dev/null || : # 137: it was killed
}

part_churn() {
	start_fixture churn
	ok=0 partial=0 other=0
	i=0
	while [ $i -lt "$CHURN_N" ]; do
		i=$((i + 1))
		timeout -k 2 20 "$CTRACE" -p "$FPID" --backtraces >"$TMP/churn.out" 2>"$TMP/churn.err"
		rc=$?
		case $rc in
		0) ok=$((ok + 1)) ;;
		2) partial=$((partial + 1)) ;;
		*) other=$((other + 1)); bad "churn run $i: exit $rc: $(cat "$TMP/churn.err")" ;;
		esac
	done
	eufail=0
	if command -v eu-stack >/dev/null; then
		i=0
		while [ $i -lt "$CHURN_N" ]; do
			i=$((i + 1))
			timeout -k 2 20 eu-stack -p "$FPID" >/dev/null 2>&1 || eufail=$((eufail + 1))
		done
		eu="eu-stack failed $eufail of $CHURN_N"
	else
		eu="eu-stack not installed"
	fi
	[ $partial = 0 ] || bad "churn: $partial captures partial"
	echo "churn: ctrace --backtraces exit 0 in $ok of $CHURN_N (partial $partial, other $other); $eu"
	assert_not_traced "$FPID"
	kill -KILL "$FPID"; wait "$FPID" 2>/dev/null
}

part_die() { # MODE STOPS ARGS…
	mode=$1 stops=$2; shift 2
	# one run's length, measured once per mode: the fixture is the same for every way to die (the
	# way is what it does on SIGUSR2, which run_ms does not send)
	dur=
	for how in kill exit exec fork; do
		c0=0 c1=0 c2=0 hung=0 other=0 j=0
		arg=$how sig=12 # SIGUSR2 makes the fixture exit, exec or fork
		[ $how = kill ] && arg= sig=9
		while [ $j -lt "$DIE_N" ]; do
			j=$((j + 1))
			start_fixture stressee "$TMP/die.cnt" 20 $arg
			[ -n "$dur" ] || dur=$(run_ms "$@")
			if [ "$stops" = 1 ] && [ $((j % 2)) = 1 ]; then when=seized delay=$(($(rnd) % 300))
			else when=time delay=$(($(rnd) % (dur * 1000))); fi
			r=$("$FIXTURES/killmid" "$FPID" $when $delay 1 $sig 0 -- "$CTRACE" -p "$FPID" "$@" \
				2>"$TMP/die.err")
			case $r in
			"exited 0 "*) c0=$((c0 + 1)) ;;
			"exited 1 "*) c1=$((c1 + 1))
				[ -s "$TMP/die.err" ] || bad "die/$mode/$how run $j: exit 1 without a message" ;;
			"exited 2 "*) c2=$((c2 + 1)) ;;
			hung*) hung=$((hung + 1)); bad "die/$mode/$how run $j ($when +${delay}us): ctrace hung" ;;
			*) other=$((other + 1))
				bad "die/$mode/$how run $j ($when +${delay}us): $r: $(head -c 300 "$TMP/die.err")" ;;
			esac
			kill -KILL "$FPID" 2>/dev/null; wait "$FPID" 2>/dev/null
		done
		echo "die/$mode/$how: $DIE_N runs (one run ${dur} ms): exit 0 $c0, exit 1 $c1, exit 2 $c2, hung $hung"
		row die "$mode $how $DIE_N $dur $c0 $c1 $c2 $hung $other"
	done
}

for part in $PARTS; do
	case $part in
	kill | die)
		[ $part = kill ] && kernel_check
		# the loop runs in a subshell: a fail() in it (a fixture that did not start) ends only
		# the subshell, so its status is checked here
		echo "$MODES" | while read -r name stops args; do
			# shellcheck disable=SC2086 # args is a word list on purpose
			part_$part "$name" "$stops" $args
		done || fail "the $part part stopped early (see above)" ;;
	churn) part_churn ;;
	*) echo "stress: unknown part $part"; exit 99 ;;
	esac
done

if [ -s "$TMP/table.kill" ]; then
	echo
	echo "ctrace killed mid-run (signals: real-time signals sent to the target around the kills)"
	printf '%-15s %-4s %5s %7s %7s %7s %8s %9s %10s %7s %8s\n' mode sig runs run_ms killed seen_t \
		signals lost_ours lost_kernel traced stalled
	while read -r m s n d k st sg lo lk tr sl; do
		printf '%-15s %-4s %5s %7s %7s %7s %8s %9s %10s %7s %8s\n' "$m" "$s" "$n" "$d" "$k" "$st" "$sg" \
			"$lo" "$lk" "$tr" "$sl"
	done <"$TMP/table.kill"
fi
if [ -s "$TMP/table.die" ]; then
	echo
	echo "the target dies mid-run (exit codes of ctrace)"
	printf '%-15s %-5s %5s %7s %7s %7s %7s %5s %6s\n' mode how runs run_ms exit_0 exit_1 exit_2 hung other
	while read -r m h n d c0 c1 c2 hg ot; do
		printf '%-15s %-5s %5s %7s %7s %7s %7s %5s %6s\n' "$m" "$h" "$n" "$d" "$c0" "$c1" "$c2" "$hg" "$ot"
	done <"$TMP/table.die"
fi
[ -f "$TMP/bad" ] && BAD=$(wc -l <"$TMP/bad")
[ "$BAD" = 0 ] || fail "$BAD violations (see BAD lines)"
echo "stress: every invariant held"
