# Job control stays as it was, thread churn never fails a capture, a thread that cannot stop hits the deadline.
. "$TOP/tests/integration/lib.sh"
need_ptrace

# A stopped process is reported as stopped and left stopped; ctrace never sends SIGCONT.
start_fixture threads 2
kill -STOP "$FPID"
sleep 0.1
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
echo "$OUT" | grep -q "stopped by job control (left stopped)" || fail "job-control stop not reported: $OUT"
echo "$OUT" | grep -q "sleeper_loop" || fail "stopped threads not unwound: $OUT"
sleep 0.1
for s in /proc/$FPID/task/*/stat; do
	st=$(sed 's/.*) \(.\).*/\1/' "$s")
	[ "$st" = T ] || fail "thread $(basename "$(dirname "$s")") is '$st' after ctrace, want T (stopped)"
done
kill -CONT "$FPID"
sleep 0.1
assert_not_traced "$FPID"
kill -KILL "$FPID"

# Threads created and joined as fast as possible: every capture succeeds.
start_fixture churn
gone_total=0
for i in $(seq 15); do
	"$CTRACE" -p "$FPID" --backtraces --format json >"$TMP/churn.json" || fail "capture $i of a churning process failed"
	json_check "$TMP/churn.json" "'steady' in [t['name'] for t in d['threads']]" \
		"all(t['error'] is None or t['gone'] for t in d['threads'])" || fail "capture $i: $(cat "$TMP/churn.json")"
done
assert_not_traced "$FPID"
kill -KILL "$FPID"

# A thread in vfork() cannot be stopped. It waits in the kernel, so where bpf() is permitted it is
# read from the registers the kernel saved: exit 0, its stack down to main.
start_fixture vforker 4
sleep 0.2
"$CTRACE" -p "$FPID" --backtraces -v --format json >"$TMP/vk.json" 2>"$TMP/vk.err"
rc=$?
if grep -q 'threads off a CPU: not used' "$TMP/vk.err"; then
	note "no BPF task iterator here: the thread in vfork() is left to the deadline ($(cat "$TMP/vk.err"))"
else
	[ $rc = 0 ] || fail "vfork parent: exit $rc, want 0: $(cat "$TMP/vk.err")"
	json_check "$TMP/vk.json" "thread('vforker')['kernel_regs']" "thread('vforker')['error'] is None" \
		"thread('vforker')['syscall']['name'] == 'vfork'" "'main' in funcs(thread('vforker'))" \
		"'free_thread' in funcs(thread('free'))" || fail "vfork parent not read: $(cat "$TMP/vk.json")"
fi
assert_not_traced "$FPID"
# --no-bpf: ctrace gives up at --timeout, reports the rest, exits 2.
expect_exit 2 "$CTRACE" -p "$FPID" --backtraces --no-bpf --timeout 0.5 --format json
echo "$OUT" >"$TMP/vf.json"
json_check "$TMP/vf.json" "thread('vforker')['error'] is not None and 'deadline' in thread('vforker')['error']" \
	"'free_thread' in funcs(thread('free'))" || fail "deadline: $OUT"
echo "$ERR" | grep -q "not captured" || fail "no partial-result message: $ERR"
# once the vfork child exits the parent must run on, not sit in a ptrace stop
sleep 4.5
assert_not_traced "$FPID"
st=$(sed 's/.*) \(.\).*/\1/' /proc/$FPID/stat)
[ "$st" = S ] || fail "vfork parent is '$st' after its child exited, want S"
echo "job control kept, churn captured, deadline honoured"
