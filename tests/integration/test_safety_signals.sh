# Production safety: 20 captures leak no EINTR and lose no signal; nothing is left stopped.
. "$TOP/tests/integration/lib.sh"
need_ptrace

cnt="$TMP/counters"
start_fixture eintr "$cnt"
counter() { sed -n "s/^$1=//p" "$cnt"; }
rtmin=$(sed -n 's/^ready [0-9]* rtmin=//p' "$FOUT")
[ -n "$rtmin" ] || fail "fixture did not say its SIGRTMIN"

usr1=0
for i in $(seq 20); do
	# real-time signals queue, so each of the five must arrive exactly once
	(trap - EXIT INT TERM; for k in 1 2 3 4 5; do kill -s "$rtmin" "$FPID"; done) &
	kp=$!
	"$CTRACE" -p "$FPID" --backtraces >/dev/null || fail "capture $i failed"
	wait $kp
	# a standard signal coalesces only with a pending twin: send one and see it counted
	kill -USR1 "$FPID"
	usr1=$((usr1 + 1))
	n=0
	while [ "$(counter sig_usr1)" != "$usr1" ]; do
		n=$((n + 1)); [ $n -gt 100 ] && fail "SIGUSR1 number $usr1 never arrived (count $(counter sig_usr1))"
		sleep 0.02
	done
done
sleep 0.1
cat "$cnt"
for c in read nanosleep futex epoll_wait sigwaitinfo cond; do
	[ "$(counter eintr_$c)" = 0 ] || fail "$c returned EINTR $(counter eintr_$c) times"
done
[ "$(counter sig_rt)" = 100 ] || fail "100 real-time signals sent, $(counter sig_rt) arrived"
[ "$(counter sig_usr1)" = 20 ] || fail "20 SIGUSR1 sent, $(counter sig_usr1) arrived"
assert_not_traced "$FPID"

# Why passive capture exists: stopping a thread in epoll_wait or sigwaitinfo makes Linux return EINTR.
"$CTRACE" -p "$FPID" --backtraces --always-stop >/dev/null || fail "--always-stop capture failed"
sleep 0.1
[ "$(counter eintr_epoll_wait)" -ge 1 ] || fail "expected the kernel to end epoll_wait with EINTR under a stop"
note "under --always-stop: epoll_wait EINTR $(counter eintr_epoll_wait), sigwaitinfo EINTR $(counter eintr_sigwaitinfo)"
assert_not_traced "$FPID"
echo "no EINTR, no lost signal in 20 captures"
