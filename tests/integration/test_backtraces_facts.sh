#!/bin/sh
# The thread facts --backtraces shows without reading them after the capture: each thread's name,
# state and (JSON only) wait channel come from the /proc stat the capture read just before it, and
# the wait channel is read for JSON alone. The truth: /proc/PID/task/TID/{comm,stat,wchan} read by
# the shell, before and after ctrace, for threads asleep in nanosleep (whose facts do not move once a
# first stop has turned their nanosleep into restart_syscall, which changes the wait channel).
. "$TOP/tests/integration/lib.sh"
need_ptrace
start_fixture benchsleep 4 "$TMP/gap"

truth() { # one line per sleeping thread: tid, state, wchan, comm
	for d in /proc/$FPID/task/*; do
		tid=${d##*/}
		st=$(sed 's/.*) \(.\).*/\1/' "$d/stat" 2>/dev/null) || continue
		[ "$st" = S ] || continue
		printf '%s %s %s %s\n' "$tid" "$st" "$(cat "$d/wchan" 2>/dev/null)" "$(cat "$d/comm" 2>/dev/null)"
	done | sort
}
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
before=$(truth)
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces -f json
json=$OUT
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
text=$OUT
after=$(truth)
[ "$before" = "$after" ] || fail "the sleeping threads' facts moved while ctrace ran: $before / $after"
[ "$(printf '%s\n' "$before" | grep -c .)" -ge 5 ] || fail "want the main thread and 4 sleepers asleep: $before"

printf '%s\n' "$json" | python3 -c '
import json, sys
truth = {}
for line in open(sys.argv[1]):
    tid, st, wchan, comm = line.rstrip("\n").split(" ", 3)
    truth[int(tid)] = (st, wchan, comm)
seen = 0
for t in json.load(sys.stdin)["threads"]:
    if t["tid"] not in truth:
        continue
    st, wchan, comm = truth[t["tid"]]
    want_wchan = None if wchan in ("", "0") else wchan
    if (t["state"], t["wchan"], t["name"]) != (st, want_wchan, comm):
        sys.exit("thread %d: ctrace says %r, /proc %r" % (t["tid"], (t["state"], t["wchan"], t["name"]), (st, want_wchan, comm)))
    seen += 1
if seen != len(truth):
    sys.exit("%d of %d sleeping threads in the JSON" % (seen, len(truth)))
' "$(printf '%s\n' "$before" >"$TMP/truth"; echo "$TMP/truth")" || fail "JSON facts differ from /proc"

printf '%s\n' "$before" | while read -r tid st wchan comm; do
	printf '%s\n' "$text" | grep -q "^Thread $tid \"$comm\" S (sleeping)" ||
		fail "text: thread $tid not shown as \"$comm\" S (sleeping): $text"
done || exit 1
assert_not_traced "$FPID"
echo "names, states and wait channels agree with /proc"
