# ctrace --memory --inject against the injectee fixture (tests/fixtures/injectee.c says what each
# thread checks): 20 runs spread over its threads leave every register, red zone and signal as they
# were (no EINTR leaked, every queued signal received, regloop's patterns intact) and each run
# reads the fake mallctl's numbers exactly; the thread in sigwaitinfo is never used; ctrace killed
# in the middle of a call leaves the process running and intact; a thread held inside the
# "allocator" is refused every time; then the real jemalloc and tcmalloc, preloaded.
. "$TOP/tests/integration/lib.sh"
need_ptrace

tid_of() { # tid_of PID COMM
	for t in /proc/$1/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && { basename "$t"; return; }
	done
	fail "no thread named $2 in $1"
}

# value JSON KEY: the injected value KEY, or "none"
value() {
	printf '%s' "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)["injected"]
print("none" if d is None else d["values"].get(sys.argv[1]))' "$2"
}

finish() { # finish PID: SIGUSR2, wait for the summary line, print it
	kill -USR2 "$1"
	i=0
	while ! grep -q '^sent=' "$FOUT" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 200 ] && fail "fixture $1 did not finish: $(cat "$FOUT")"; sleep 0.05
	done
	grep '^sent=' "$FOUT"
}

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# 1. 20 runs over the threads of the fixture (a fake mallctl linked in)
start_fixture injectee threads
P=$FPID
compute=$(tid_of $P compute); reader=$(tid_of $P reader); receiver=$(tid_of $P receiver); sender=$(tid_of $P sender)
ok=0
for i in $(seq 1 20); do
	case $((i % 5)) in
	0) tid="" ;; 1) tid=$compute ;; 2) tid=$reader ;; 3) tid=$receiver ;; 4) tid=$sender ;;
	esac
	"$CTRACE" -p $P --memory --inject ${tid:+--tid $tid} -f json >"$TMP/out" 2>"$TMP/err"
	rc=$?
	OUT=$(cat "$TMP/out")
	assert_not_traced $P
	if [ $rc = 0 ]; then
		ok=$((ok + 1))
		# after the Nth epoch refresh the fake mallctl answers 1000 * N + k
		printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)["injected"]
p, tid, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
assert d["tid"] != p, "the main thread (in sigwaitinfo, EINTR-prone) was used"
assert not tid or d["tid"] == int(tid), "--tid %s but the call ran in %d" % (tid, d["tid"])
names = ["stats.allocated", "stats.active", "stats.resident", "stats.mapped", "stats.retained", "stats.metadata"]
for k, name in enumerate(names):
    assert d["values"][name] == 1000 * n + k + 1, (name, d["values"][name], 1000 * n + k + 1)
assert d["calls"] == 7 and d["refreshed"], d' $P "$tid" $ok || fail "run $i (tid ${tid:-auto}): wrong result: $OUT"
	else
		# a refusal is allowed only for a signal on its way to the thread, and is said
		[ $rc = 2 ] || fail "run $i (tid ${tid:-auto}) exited $rc: $(cat "$TMP/err")"
		grep -q "signal" "$TMP/err" || fail "run $i refused for an unexpected reason: $(cat "$TMP/err")"
	fi
done
note "$ok of 20 runs called mallctl"
[ $ok -ge 16 ] || fail "only $ok of 20 runs could call into the fixture"
# the main thread is refused when asked for, with the reason
expect_exit 2 "$CTRACE" -p $P --memory --inject --tid $P -f json
echo "$ERR" | grep -q "EINTR" || fail "--tid of a thread in sigwaitinfo: no EINTR reason: $ERR"
[ "$(value "$OUT" stats.allocated)" = none ] || fail "a refused run still reported values"
sum=$(finish $P)
note "$sum"
[ "$(field "$sum" eintr)" = 0 ] || fail "EINTR leaked into the fixture: $sum"
[ "$(field "$sum" regbad)" = 0 ] || fail "registers or red zone not restored: $sum"
[ "$(field "$sum" misaligned)" = 0 ] || fail "a call ran on a misaligned stack: $sum"
[ "$(field "$sum" badargs)" = 0 ] || fail "mallctl got wrong arguments: $sum"
[ "$(field "$sum" epochs)" = $ok ] || fail "$ok successful runs but $(field "$sum" epochs) epoch refreshes: $sum"
[ "$(field "$sum" sent)" = "$(field "$sum" received)" ] || fail "signals lost: $sum"
[ "$(field "$sum" sent)" -gt 0 ] || fail "the sender sent nothing: $sum"
[ "$(field "$sum" rounds)" -gt 0 ] || fail "regloop never completed: $sum"

# 1b. ctrace SIGKILLed in the middle of a call (the fake mallctl sleeps 600 ms in "epoch"): the
# thread comes back through the signal frame on its own, registers, red zone and mask intact
export INJECTEE_SLOW_MS=600
start_fixture injectee threads
unset INJECTEE_SLOW_MS
P=$FPID
compute=$(tid_of $P compute)
"$CTRACE" -p $P --memory --inject --tid $compute -f json >"$TMP/killed.out" 2>&1 &
CP=$!
i=0
while ! grep -q "in mallctl" "$FOUT"; do
	i=$((i + 1)); [ $i -gt 400 ] && fail "the call never started: $(cat "$TMP/killed.out")"; sleep 0.02
done
kill -KILL $CP
wait $CP 2>/dev/null
sleep 1 # the call finishes on its own
kill -0 $P 2>/dev/null || fail "the fixture died when ctrace was killed mid-call"
assert_not_traced $P
# its mask is the one it inherited, like its sibling sender's, which ctrace never touched
sender=$(tid_of $P sender)
[ "$(grep '^SigBlk:' /proc/$P/task/$compute/status)" = "$(grep '^SigBlk:' /proc/$P/task/$sender/status)" ] ||
	fail "the thread's signal mask was not restored: $(grep SigBlk /proc/$P/task/$compute/status)"
expect_exit 0 "$CTRACE" -p $P --memory --inject --tid $compute -f json
[ "$(value "$OUT" stats.allocated)" = 2001 ] || fail "after the killed run: $(value "$OUT" stats.allocated), want 2001"
sum=$(finish $P)
note "killed mid-call: $sum"
[ "$(field "$sum" eintr)" = 0 ] && [ "$(field "$sum" regbad)" = 0 ] && [ "$(field "$sum" badargs)" = 0 ] &&
	[ "$(field "$sum" sent)" = "$(field "$sum" received)" ] || fail "after ctrace was killed mid-call: $sum"

# 2. the only thread sits inside the allocator: every stop is refused, nothing is called
start_fixture injectee hold
expect_exit 2 "$CTRACE" -p $FPID --memory --inject
echo "$ERR" | grep -q "inside the allocator" || fail "hold: no refusal reason: $ERR"
echo "$OUT" | grep -q "inside the allocator" || fail "hold: the report does not say why: $OUT"
assert_not_traced $FPID
sum=$(finish $FPID)
[ "$(field "$sum" epochs)" = 0 ] || fail "hold: mallctl ran although the thread was inside the allocator: $sum"
[ "$(field "$sum" eintr)" = 0 ] || fail "hold: EINTR leaked: $sum"

# 3. without --inject: level 1 and a note saying what --inject would do
start_fixture injectee hold
expect_exit 0 "$CTRACE" -p $FPID --memory
echo "$OUT" | grep -q -- "--inject would call it" || fail "no --inject note: $OUT"
expect_usage "--inject reads the allocator once; run it without --watch" "$CTRACE" -p $FPID --memory --inject --watch 1
expect_usage "--tid does not apply to --memory" "$CTRACE" -p $FPID --memory --tid $FPID
finish $FPID >/dev/null

# 4. the real allocators, preloaded; the fixture keeps 32 MiB in 1 MiB blocks
for lib in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4; do
	if [ ! -e "$lib" ]; then
		skip_case "4. $(basename "$lib") preloaded" "$lib is not installed (make deps)"
		continue
	fi
	for mode in threads loop; do
		export LD_PRELOAD=$lib
		start_fixture injectee $mode
		unset LD_PRELOAD
		"$CTRACE" -p $FPID --memory --inject -f json >"$TMP/out" 2>"$TMP/err"
		rc=$?
		OUT=$(cat "$TMP/out")
		assert_not_traced $FPID
		case $lib in
		*jemalloc*) key=stats.allocated ;;
		*) key=generic.current_allocated_bytes ;;
		esac
		if [ $rc = 0 ]; then
			v=$(value "$OUT" $key)
			note "$(basename $lib) $mode: $key = $v"
			[ "$v" -ge $((32 << 20)) ] && [ "$v" -le $((40 << 20)) ] ||
				fail "$(basename $lib) $mode: $key = $v, want 32 MiB to 40 MiB"
		elif [ $mode = loop ] && [ $rc = 2 ]; then
			# the only thread loops in malloc/free: a refusal must say why
			grep -q "inside the allocator" "$TMP/err" || fail "loop: refused without the reason: $(cat "$TMP/err")"
			note "$(basename $lib) loop: refused (the thread was inside malloc at every stop)"
		else
			fail "$(basename $lib) $mode: exit $rc: $(cat "$TMP/err")"
		fi
		sum=$(finish $FPID)
		[ "$(field "$sum" eintr)" = 0 ] && [ "$(field "$sum" regbad)" = 0 ] && [ "$(field "$sum" loopbad)" = 0 ] &&
			[ "$(field "$sum" sent)" = "$(field "$sum" received)" ] || fail "$(basename $lib) $mode: $sum"
	done
done
exit 0
