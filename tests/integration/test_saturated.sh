# A target that saturates the machine (issue 19), fixtures/spinners: 60 threads spinning on 2+ CPUs.
# --backtraces captures every thread (the count /proc gives), on the spinning frames; ctrace's own
# thread is boosted for the capture (-v says how) and the target's scheduling (policy, nice,
# affinity, per thread, as /proc shows them) is the same after; ctrace SIGKILLed at random moments,
# some while it runs at SCHED_FIFO, leaves no thread stopped and the process untraced.
# check: alone (saturates the machine on purpose: run without other tests)
. "$TOP/tests/integration/lib.sh"
need_ptrace
start_fixture spinners 60
NT=$(ls /proc/$FPID/task | wc -l)

# policy (stat field 41), nice (19) and allowed CPUs of every thread, in one awk (on a saturated
# machine every process started waits seconds for a CPU)
sched_of() {
	awk 'FNR == 1 { split(FILENAME, p, "/"); t = p[5] }
	     FILENAME ~ /stat$/ { sub(/.*\) /, ""); split($0, f, " "); s[t] = f[17] " " f[39] }
	     /^Cpus_allowed_list/ { c[t] = $2 }
	     END { for (t in s) print t, s[t], c[t] }' /proc/$1/task/*/stat /proc/$1/task/*/status | sort
}
# no thread of the process in tracing stop, and no tracer
untraced() {
	awk 'FILENAME ~ /stat$/ { sub(/.*\) /, ""); if (substr($0, 1, 1) == "t") bad = 1 }
	     /^TracerPid:/ && $2 != 0 { bad = 1 }
	     END { exit bad }' /proc/$1/task/*/stat /proc/$1/status ||
		fail "a thread of $1 was left stopped or traced: $(grep -l '^State:.*t (tracing' /proc/$1/task/*/status)"
}
sched_of $FPID >"$TMP/sched.before"

expect_exit 0 "$CTRACE" -p $FPID --backtraces -v
got=$(printf '%s\n' "$OUT" | grep -c '^Thread ')
[ "$got" = "$NT" ] || fail "--backtraces shows $got threads, /proc/$FPID/task has $NT"
spin=$(printf '%s\n' "$OUT" | grep -c 'in spin_inner')
[ "$spin" -ge 60 ] || fail "only $spin threads show spin_inner; output: $(printf '%s\n' "$OUT" | head -n 30)"
printf '%s\n' "$ERR" | grep -q "priority while capturing: " || fail "-v does not say ctrace's priority: $ERR"
if [ "$(id -u)" = 0 ]; then
	printf '%s\n' "$ERR" | grep -q "priority while capturing: SCHED_FIFO" ||
		fail "root, but the capture did not run at SCHED_FIFO: $ERR"
else
	skip_case fifo "not root: SCHED_FIFO is not permitted, the nice fallback is what runs"
fi
note "$(printf '%s\n' "$ERR" | grep -E 'captured|priority')"
untraced $FPID
sched_of $FPID >"$TMP/sched.after"
cmp -s "$TMP/sched.before" "$TMP/sched.after" ||
	fail "the target's scheduling changed: $(diff "$TMP/sched.before" "$TMP/sched.after" | head -n 5)"

# SIGKILL at random moments: watch ctrace's policy (stat field 41: 1 = SCHED_FIFO) and kill it the
# moment it is seen boosted, or after a random delay
tries=0 midboost=0
end=$(( $(date +%s) + 10 ))
while [ "$(date +%s)" -lt $end ] && [ $tries -lt 8 ]; do
	tries=$((tries + 1))
	"$CTRACE" -p $FPID --backtraces >/dev/null 2>&1 &
	cp=$!
	delay=$(( (tries * 7919 + $$) % 40 ))
	i=0 boosted=0
	while [ $i -lt 400 ] && kill -0 $cp 2>/dev/null; do
		pol=
		if read -r line </proc/$cp/stat 2>/dev/null; then
			set -- ${line##*) }
			pol=${39:-}
		fi
		if [ "$pol" = 1 ]; then boosted=1; break; fi
		[ $((tries % 3)) = 0 ] && [ $i -ge "$delay" ] && break
		i=$((i + 1))
		sleep 0.01
	done
	kill -KILL $cp 2>/dev/null
	wait $cp 2>/dev/null
	midboost=$((midboost + boosted))
	sleep 0.05
	untraced $FPID
done
note "ctrace SIGKILLed $tries times, $midboost of them while at SCHED_FIFO; no thread left stopped"
if [ "$(id -u)" = 0 ] && [ $midboost = 0 ]; then
	skip_case kill-midboost "no kill landed while ctrace was at SCHED_FIFO in $tries tries (the capture window is short)"
fi
sched_of $FPID >"$TMP/sched.after"
cmp -s "$TMP/sched.before" "$TMP/sched.after" || fail "the target's scheduling changed after the kills"
echo "saturated target: every thread captured, boosted capture, kills mid-boost leave nothing stopped"
