# Another tracer attached first (strace, then gdb): ctrace says who traces the process and exits 1,
# in every mode; the other tracer is undisturbed (it still traces every thread and, for strace,
# keeps logging the target's system calls).
. "$TOP/tests/integration/lib.sh"
need_ptrace

# Modes that must refuse politely, one per line (ctrace arguments after -p PID).
MODES='--backtraces
--threads --snapshots 2 --interval 20'

# tracer_of_all PID TRACER: every thread of PID is traced by TRACER
tracer_of_all() {
	for s in /proc/$1/task/*/status; do
		[ "$(awk '/^TracerPid:/ {print $2}' "$s")" = "$2" ] || return 1
	done
}

# wait_traced PID: waits up to 10 s for the tracer to have seized every thread, prints its pid
wait_traced() {
	k=0
	while :; do
		tp=$(awk '/^TracerPid:/ {print $2}' /proc/$1/status)
		if [ "$tp" != 0 ] && tracer_of_all "$1" "$tp"; then echo "$tp"; return 0; fi
		k=$((k + 1)); [ $k -gt 200 ] && return 1
		sleep 0.05
	done
}

refuse_all() { # PID TRACER-PID TRACER-NAME
	echo "$MODES" | while read -r args; do
		# shellcheck disable=SC2086 # args is a word list on purpose
		expect_exit 1 "$CTRACE" -p "$1" $args
		echo "$ERR" | grep -q "already traced by $2 ($3)" || fail "ctrace $args: unclear error: $ERR"
		[ "$(echo "$ERR" | wc -l)" = 1 ] || fail "ctrace $args: more than one line: $ERR"
		tracer_of_all "$1" "$2" || fail "after ctrace $args, $3 no longer traces every thread"
	done || exit 1
}

command -v strace >/dev/null || skip "strace is not installed (make deps)"
start_fixture stressee "$TMP/cnt" 4
strace -f -p "$FPID" -o "$TMP/strace.out" 2>/dev/null &
SPID=$!
PIDS="$PIDS $SPID"
tp=$(wait_traced "$FPID") || fail "strace did not attach"
[ "$tp" = "$SPID" ] || fail "traced by $tp, not strace $SPID"
refuse_all "$FPID" "$SPID" strace
a=$(wc -l <"$TMP/strace.out")
k=0
while [ "$(wc -l <"$TMP/strace.out")" -le "$((a + 20))" ]; do
	k=$((k + 1)); [ $k -gt 100 ] && fail "strace stopped logging after ctrace ran"
	sleep 0.05
done
grep -q 'nanosleep' "$TMP/strace.out" || fail "strace logged no nanosleep of the target"
kill -INT "$SPID"; wait "$SPID" 2>/dev/null
sleep 0.1
assert_not_traced "$FPID"
note "strace: ctrace refused in every mode, strace kept logging ($a lines, then more)"

if ! command -v gdb >/dev/null; then
	skip_case "gdb attached first" "gdb is not installed (make deps)"
	exit 0
fi
# gdb attached and sitting at its prompt (the target stopped by gdb, as users leave it)
mkfifo "$TMP/gdb.in"
gdb -q -nx -p "$FPID" <"$TMP/gdb.in" >"$TMP/gdb.out" 2>&1 &
GPID=$!
PIDS="$PIDS $GPID"
exec 3>"$TMP/gdb.in"
tp=$(wait_traced "$FPID") || fail "gdb did not attach: $(cat "$TMP/gdb.out")"
[ "$tp" = "$GPID" ] || fail "traced by $tp, not gdb $GPID"
refuse_all "$FPID" "$GPID" gdb
# gdb still controls the target: it answers, the target resumes under it and counts on
before=$(sed -n 's/^progress=//p' "$TMP/cnt")
echo 'info threads' >&3
echo 'detach' >&3
echo 'quit' >&3
exec 3>&-
wait "$GPID" 2>/dev/null
grep -q 'work-3' "$TMP/gdb.out" || fail "gdb did not list the threads after ctrace ran: $(cat "$TMP/gdb.out")"
grep -q 'Detaching from' "$TMP/gdb.out" || fail "gdb did not detach cleanly: $(tail -n 5 "$TMP/gdb.out")"
k=0
while [ "$(sed -n 's/^progress=//p' "$TMP/cnt")" -le "$before" ]; do
	k=$((k + 1)); [ $k -gt 100 ] && fail "the target did not run on after gdb detached"
	sleep 0.05
done
assert_not_traced "$FPID"
echo "strace and gdb attached first: ctrace refused clearly, both tracers undisturbed"
