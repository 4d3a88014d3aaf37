# --threads of a Ruby process (tests/fixtures/rbdeadlock.rb): each thread's wait named as Ruby names
# it (Mutex#lock, Queue#pop, ConditionVariable#wait, sleep, IO) with the line of its innermost Ruby
# frame, against the interpreter's own view (Thread#backtrace_locations from a SIGUSR1 trap); the
# two threads deadlocked on two Mutexes found as one cycle naming both threads and both Mutexes (the
# addresses Mutex#inspect shows), with --fail-on deadlock; and a Mutex wait outside a cycle
# (rbthreads.rb: the main thread holds what "locker" waits for) as a chain. Debian's ruby 3.1
# (make deps installs it: without it the test fails loudly, it is not skipped).
. "$TOP/tests/integration/lib.sh"
need_ptrace

RUBY=${RUBY:-/usr/bin/ruby}
[ -x "$RUBY" ] || fail "$RUBY is missing: make deps installs ruby (Debian's ruby 3.1)"

ids=$TMP/ids dump=$TMP/dump
start_cmd rbdeadlock "$RUBY" "$TOP/tests/fixtures/rbdeadlock.rb" "$ids" "$dump"
p=$FPID
ask_dump $p "$dump"
sleep 0.1

expect_exit 0 "$CTRACE" -p $p --threads --format json
echo "$OUT" >"$TMP/t.json"
python3 "$TOP/tests/integration/rbwaits.py" "$TMP/t.json" "$dump" "$ids" ||
	fail "ctrace's Ruby waits differ from the fixture's own view (above)"
assert_not_traced $p
note "every wait named with its Ruby line; the Mutex deadlock found"

# text: the cycle names both threads and Mutexes; --fail-on deadlock says so in the exit status
a=$(awk '$1 == "dead-a" {print $2}' "$ids") b=$(awk '$1 == "dead-b" {print $2}' "$ids")
m1=$(awk '$2 == "m1" {print $3}' "$ids" | sed 's/^0x0*/0x/') m2=$(awk '$2 == "m2" {print $3}' "$ids" | sed 's/^0x0*/0x/')
expect_exit 3 "$CTRACE" -p $p --threads --fail-on deadlock
echo "$OUT" | grep -q '^Found 1 deadlock' || fail "text: $OUT"
echo "$OUT" | grep -q "\"dead-a\" (tid $a) waits for mutex $m2, held by \"dead-b\" (tid $b)" || fail "text: $OUT"
echo "$OUT" | grep -q "\"dead-b\" (tid $b) waits for mutex $m1, held by \"dead-a\" (tid $a)" || fail "text: $OUT"

# --backtraces says the wait on the thread's line too
expect_exit 0 "$CTRACE" -p $p --backtraces
echo "$OUT" | grep -q "^Thread [0-9]* \"popper\" .*: Thread::Queue#pop in wait_job (rbdeadlock.rb:[0-9]*)$" ||
	fail "--backtraces: $OUT"
kill -KILL $p

# a wait outside a cycle: rbthreads.rb's locker waits for the Mutex its main thread locked (and
# Mutex#owned? there says so)
start_cmd rbthreads "$RUBY" "$TOP/tests/fixtures/rbthreads.rb" "$TMP/ids2" "$TMP/dump2"
p=$FPID
locker=$(awk '$1 == "locker" {print $2}' "$TMP/ids2")
expect_exit 0 "$CTRACE" -p $p --threads --snapshots 1 --format json
echo "$OUT" >"$TMP/chain.json"
json_check "$TMP/chain.json" \
	"[t['waits_for'] for t in d['threads'] if t['tid'] == $locker] == [$p]" \
	"[t['locks_held'] for t in d['threads'] if t['tid'] == $p] == [[t['lock_waiting'] for t in d['threads'] if t['tid'] == $locker]]" \
	"len(d['chains']) == 1 and d['chains'][0]['holders'] == [$p] and not d['deadlocks']" ||
	fail "the locker's Mutex is not shown held by the main thread (above)"
echo "Ruby waits and the Mutex deadlock agree with the fixture"
