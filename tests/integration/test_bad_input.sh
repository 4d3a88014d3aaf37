# Every bad input gets one clear line on stderr and its documented exit code.
. "$TOP/tests/integration/lib.sh"

check() { # check CODE PATTERN CMD…
	code=$1 pat=$2; shift 2
	expect_exit "$code" "$@"
	[ "$(printf '%s\n' "$ERR" | wc -l)" -le 2 ] || fail "'$*' printed more than a line or two: $ERR"
	printf '%s' "$ERR" | grep -Eq -- "$pat" || fail "'$*': stderr '$ERR' does not match '$pat'"
	note "ok: $* -> $code: $ERR"
}

check 64 "say what to do" "$CTRACE" -p 1
check 64 "which process" "$CTRACE" --backtraces
check 64 "wants a process ID" "$CTRACE" -p abc --backtraces
check 64 "not a valid process ID" "$CTRACE" -p -5 --backtraces
check 64 "not a valid process ID" "$CTRACE" -p 0 --backtraces
check 64 "not a valid process ID" "$CTRACE" -p 99999999999 --backtraces
check 64 "unknown option '--bogus'" "$CTRACE" -p 1 --backtraces --bogus
check 64 "unknown option" "$CTRACE" -x
check 64 "wants a value" "$CTRACE" --backtraces -p
check 64 "unknown format" "$CTRACE" -p 1 --backtraces --format yaml
check 64 "unknown unwinder" "$CTRACE" -p 1 --backtraces --unwinder magic
check 64 "--timeout wants seconds" "$CTRACE" -p 1 --backtraces --timeout -1
check 64 "--timeout wants seconds" "$CTRACE" -p 1 --backtraces --timeout soon
check 64 "--max-frames wants" "$CTRACE" -p 1 --backtraces --max-frames 0
check 64 "--stack-bytes wants" "$CTRACE" -p 1 --backtraces --stack-bytes 1e9
check 64 "unexpected argument" "$CTRACE" -p 1 --backtraces extra
check 64 "only --profile takes several" "$CTRACE" -p 1 -p 2 --backtraces
check 1 "no process 4000000" "$CTRACE" -p 4000000 --backtraces
check 64 "this ctrace" sh -c 'exec "$0" -p $$ --backtraces' "$CTRACE"
check 1 "kernel thread" "$CTRACE" -p 2 --backtraces

need_ptrace
# a zombie: the child of a process that never reaps it
sh -c 'sleep 0.05 & exec sleep 30' &
PIDS="$PIDS $!"
sleep 0.5
z=$(ps -o pid= --ppid $! | tr -d ' ')
[ -n "$z" ] || fail "could not make a zombie"
check 1 "zombie" "$CTRACE" -p "$z" --backtraces

start_fixture traced
child=$(sed -n 's/^ready //p' "$FOUT")
PIDS="$PIDS $child" # the traced child outlives its tracer otherwise
check 1 "already traced by $FPID \(traced\)" "$CTRACE" -p "$child" --backtraces

start_fixture chain
check 1 "has no thread 4000000" "$CTRACE" -p "$FPID" --tid 4000000 --backtraces
mkdir "$TMP/dir"
check 64 "is a directory" "$CTRACE" -p "$FPID" --backtraces -o "$TMP/dir"
check 64 "cannot write" "$CTRACE" -p "$FPID" --backtraces -o /nonexistent/dir/out.txt
# -o replaces a planted symlink instead of writing through it
echo precious >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/link"
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces -o "$TMP/link"
[ "$(cat "$TMP/victim")" = precious ] || fail "-o wrote through a symlink"
grep -q "f3" "$TMP/link" || fail "-o did not write the report"
[ -L "$TMP/link" ] && fail "-o left the symlink in place"
assert_not_traced "$FPID"
echo "every bad input refused clearly"
