# Every bad input gets one clear line on stderr and its documented exit code, and leaves the target
# as it was: every option with a missing, malformed, negative, huge or conflicting value (a table),
# PIDs that are not numbers, 0, 1 without permission, our own, a kernel thread, a zombie; output
# paths that are unwritable, a directory, or a symlink planted in a world-writable directory.
# (Dump files that are empty, binary, truncated or 1 GiB of one line: test_analyze_cli.sh.)
. "$TOP/tests/integration/lib.sh"

check() { # check CODE PATTERN CMD…
	code=$1 pat=$2; shift 2
	expect_exit "$code" "$@"
	# a usage error is one line; other errors a line or two
	if [ "$code" = 64 ]; then
		[ -n "$ERR" ] && [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || fail "'$*': want one line on stderr, got: $ERR"
	fi
	[ "$(printf '%s\n' "$ERR" | wc -l)" -le 2 ] || fail "'$*' printed more than a line or two: $ERR"
	printf '%s' "$ERR" | grep -Eq -- "$pat" || fail "'$*': stderr '$ERR' does not match '$pat'"
	note "ok: $* -> $code: $ERR"
}

need_ptrace
start_fixture chain
P=$FPID
WANTS="wants a value"
# CODE | stderr pattern | arguments ($P: a live fixture). Usage errors come before the target is
# touched: the fixture must be untouched afterwards.
while IFS='|' read -r code pat args; do
	case $code in '' | '#'*) continue ;; esac
	eval "set -- $args"
	check "$code" "$pat" "$CTRACE" "$@"
done <<EOF
# no mode, no process, unknown options, stray arguments
64|say what to do|-p $P
64|which process|--backtraces
64|unknown option '--bogus'|-p $P --backtraces --bogus
64|unknown option|-x
64|unknown option '--no-inlines=yes'|-p $P --backtraces --no-inlines=yes
64|unexpected argument|-p $P --backtraces extra
# missing values
64|option '-p' $WANTS|--backtraces -p
64|option '--tid' $WANTS|-p $P --backtraces --tid
64|option '-f' $WANTS|-p $P --backtraces -f
64|option '-o' $WANTS|-p $P --backtraces -o
64|-o wants a file name|-p $P --backtraces -o ''
64|option '--timeout' $WANTS|-p $P --backtraces --timeout
64|option '--stack-bytes' $WANTS|-p $P --backtraces --stack-bytes
64|option '--unwinder' $WANTS|-p $P --backtraces --unwinder
64|option '--max-frames' $WANTS|-p $P --backtraces --max-frames
64|option '--debug-dir' $WANTS|-p $P --backtraces --debug-dir
64|option '--snapshots' $WANTS|-p $P --threads --snapshots
64|option '--interval' $WANTS|-p $P --threads --interval
64|option '--fail-on' $WANTS|-p $P --threads --fail-on
64|option '--idle' $WANTS|-p $P --threads --idle
64|--idle wants a function name|-p $P --threads --idle ''
64|option '--top' $WANTS|-p $P --memory --top
64|option '--watch' $WANTS|-p $P --memory --watch
64|option '-d' $WANTS|-p $P --profile -d
64|option '-r' $WANTS|-p $P --profile -r
64|option '--sampler' $WANTS|-p $P --profile --sampler
64|option '--mode' $WANTS|-p $P --profile --mode
# malformed values
64|wants a process ID|-p abc --backtraces
64|wants a process ID|-p 12abc --backtraces
64|wants a process ID|-p 0x10 --backtraces
64|wants a process ID|-p '' --backtraces
64|--tid wants a process ID|-p $P --backtraces --tid abc
64|unknown format|-p $P --backtraces --format yaml
64|unknown unwinder|-p $P --backtraces --unwinder magic
64|--timeout wants seconds|-p $P --backtraces --timeout soon
64|--timeout wants seconds|-p $P --backtraces --timeout nan
64|--timeout wants seconds|-p $P --backtraces --timeout inf
64|--stack-bytes wants|-p $P --backtraces --stack-bytes 1e9
64|--max-frames wants|-p $P --backtraces --max-frames x
64|--snapshots wants|-p $P --threads --snapshots x
64|--interval wants|-p $P --threads --interval 1.5
64|--fail-on wants 'deadlock' or 'stuck'|-p $P --threads --fail-on nothing
64|--top wants|-p $P --memory --top x
64|--watch wants seconds|-p $P --memory --watch x
64|-d wants seconds|-p $P --profile -d soon
64|-d wants seconds|-p $P --profile -d nan
64|-r wants|-p $P --profile -r fast
64|unknown sampler|-p $P --profile --sampler magic
64|unknown mode|-p $P --profile --mode idle
# negative and zero values
64|not a valid process ID|-p -5 --backtraces
64|not a valid process ID|-p 0 --backtraces
64|--tid: '-3' is not a valid process ID|-p $P --backtraces --tid -3
64|--timeout wants seconds|-p $P --backtraces --timeout -1
64|--timeout wants seconds|-p $P --backtraces --timeout 0
64|--stack-bytes wants|-p $P --backtraces --stack-bytes -1
64|--max-frames wants|-p $P --backtraces --max-frames 0
64|--max-frames wants|-p $P --backtraces --max-frames -1
64|--snapshots wants|-p $P --threads --snapshots 0
64|--interval wants|-p $P --threads --interval -5
64|--top wants|-p $P --memory --top 0
64|--watch wants seconds|-p $P --memory --watch -1
64|--watch wants seconds|-p $P --memory --watch 0
64|-d wants seconds|-p $P --profile -d -1
64|-d wants seconds|-p $P --profile -d 0
64|-r wants|-p $P --profile -r 0
64|-r wants|-p $P --profile -r -5
# huge values
64|not a valid process ID|-p 99999999999 --backtraces
64|--tid: '99999999999999' is not a valid process ID|-p $P --backtraces --tid 99999999999999
64|--timeout wants seconds|-p $P --backtraces --timeout 1e12
64|--stack-bytes wants|-p $P --backtraces --stack-bytes 99999999999999999999
64|--max-frames wants|-p $P --backtraces --max-frames 99999999999999999999
64|--snapshots wants|-p $P --threads --snapshots 99999999999
64|--interval wants|-p $P --threads --interval 99999999999999
64|--top wants|-p $P --memory --top 999999999999
64|--watch wants seconds|-p $P --memory --watch 1e12
64|-d wants seconds|-p $P --profile -d 1e12
64|-r wants|-p $P --profile -r 99999999999999999999
64|--stack-bytes wants|-p $P --profile --stack-bytes 999999999
# conflicting values
64|choose one mode|-p $P --backtraces --threads
64|choose one mode|-p $P --memory --profile
64|only --profile takes several|-p $P -p 1 --backtraces
64|-d goes with --watch|-p $P --memory -d 1
64|sampler ptrace|-p $P --profile --mode wall --sampler perf
64|not a live process|analyze -p $P /dev/null
64|which dump|analyze
# an option for another mode is refused, not ignored (the full matrix: tests/unit/test_options.c)
64|^ctrace: --snapshots is for --threads; --backtraces would ignore it: drop it \(see ctrace --backtraces --help\)$|-p $P --backtraces --snapshots 2
64|-r is for --memory --sites or --profile; --threads would ignore it|-p $P --threads -r 99
64|-d is for .*--backtraces would ignore it|-p $P --backtraces -d 1
64|--watch is for --memory; --profile would ignore it|-p $P --profile --watch 1
64|--inject is for --memory; --memory --sites would ignore it: drop it \(see ctrace --memory --sites --help\)|-p $P --memory --sites --inject
64|--sampler is for --profile; --memory would ignore it|-p $P --memory --sampler ptrace
64|--always-stop is for .*--memory would ignore it|-p $P --memory --always-stop
64|--sites goes with --memory|-p $P --profile --sites
64|--fail-on is for .*merge would ignore it: drop it \(see ctrace merge --help\)|merge --fail-on stuck /dev/null
64|--unwinder is for .*analyze would ignore it|analyze --unwinder fp /dev/null
EOF
[ "$(sed 's/.*) \(.\).*/\1/' /proc/$P/stat)" = S ] || fail "the fixture is not asleep after the usage errors"
assert_not_traced "$P"

# PIDs: gone, our own, a kernel thread, a zombie, a traced process, 1 and a root process without
# permission
check 1 "no process 4000000" "$CTRACE" -p 4000000 --backtraces
check 64 "this ctrace" sh -c 'exec "$0" -p $$ --backtraces' "$CTRACE"
# a kernel thread: PF_KTHREAD (0x200000) in the flags, the 7th field after "PID (COMM) "
kt=$(awk '{ pid = $1; sub(/.*\) /, ""); if (int($7 / 2097152) % 2) { print pid; exit } }' \
	/proc/[0-9]*/stat 2>/dev/null)
if [ -n "$kt" ]; then
	check 1 "kernel thread" "$CTRACE" -p "$kt" --backtraces
else
	skip_case "a kernel thread" "no kernel thread is visible here (a PID namespace?)"
fi
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
check 1 "has no thread 4000000" "$CTRACE" -p "$P" --tid 4000000 --backtraces
# another user without CAP_SYS_PTRACE is told why and what to do
nobody=
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	check 1 "belongs to uid 0 and ctrace runs as uid 65534 without CAP_SYS_PTRACE; run ctrace as uid 0 or as root" \
		$nobody "$CTRACE" -p "$P" --backtraces
	check 1 "process 1 .*belongs to uid 0 and ctrace runs as uid 65534" $nobody "$CTRACE" -p 1 --backtraces
else
	skip_case "another user's process (uid 0 as uid 65534)" "setpriv cannot switch to uid 65534 here"
fi

# output paths: a directory, a missing directory, a directory the user cannot write
mkdir "$TMP/dir"
check 64 "is a directory" "$CTRACE" -p "$P" --backtraces -o "$TMP/dir"
check 64 "cannot write" "$CTRACE" -p "$P" --backtraces -o /nonexistent/dir/out.txt
# every command that writes a report refuses a bad -o before it reads the process
for mode in --threads --memory "--memory --sites -d 1" "--profile -d 1"; do
	# shellcheck disable=SC2086
	check 64 "cannot write to .*/nonexistent/dir/out.txt.*choose another -o path" "$CTRACE" -p "$P" $mode -o /nonexistent/dir/out.txt
done
if [ -n "$nobody" ]; then
	chmod 755 "$TMP" "$TMP/dir"
	start_fixture_as_nobody() { # a chain fixture of uid 65534, for ctrace run as that user
		$nobody "$FIXTURES/chain" >"$TMP/nchain.out" 2>&1 &
		NPID=$!
		PIDS="$PIDS $NPID"
		i=0
		while ! grep -q '^ready' "$TMP/nchain.out"; do
			i=$((i + 1)); [ $i -gt 200 ] && fail "chain as uid 65534 did not start"
			sleep 0.05
		done
	}
	start_fixture_as_nobody
	# checked before the capture: no warning (the test cache is root's) comes before the error
	check 64 "cannot write to '$TMP/dir/out.txt': Permission denied" \
		$nobody "$CTRACE" -p "$NPID" --backtraces -o "$TMP/dir/out.txt"
	[ -e "$TMP/dir/out.txt" ] && fail "a report appeared in a directory its user cannot write"
	assert_not_traced "$NPID"
else
	skip_case "-o in a directory its user cannot write" "setpriv cannot switch to uid 65534 here"
fi
# -o replaces a symlink planted at its path instead of writing through it
echo precious >"$TMP/victim"
ln -s "$TMP/victim" "$TMP/link"
expect_exit 0 "$CTRACE" -p "$P" --backtraces -o "$TMP/link"
[ "$(cat "$TMP/victim")" = precious ] || fail "-o wrote through a symlink"
grep -q "f3" "$TMP/link" || fail "-o did not write the report"
[ -L "$TMP/link" ] && fail "-o left the symlink in place"
# the same in a world-writable sticky directory (like /tmp), planted by another user
if [ -n "$nobody" ]; then
	mkdir -m 1777 "$TMP/public"
	$nobody ln -s "$TMP/victim" "$TMP/public/report.txt"
	expect_exit 0 "$CTRACE" -p "$P" --backtraces -o "$TMP/public/report.txt"
	[ "$(cat "$TMP/victim")" = precious ] || fail "-o wrote through uid 65534's symlink in a sticky directory"
	grep -q "f3" "$TMP/public/report.txt" || fail "-o did not write the report in the sticky directory"
	# and the other way: root's symlink, uid 65534 running ctrace: refused (the sticky bit forbids
	# replacing it), nothing written through it, no temporary file left
	ln -s "$TMP/victim" "$TMP/public/root-link"
	chmod 666 "$TMP/victim"
	expect_exit 1 $nobody "$CTRACE" -p "$NPID" --backtraces -o "$TMP/public/root-link"
	printf '%s\n' "$ERR" | grep -q "cannot write to '$TMP/public/root-link'" || fail "sticky, other owner: $ERR"
	[ "$(cat "$TMP/victim")" = precious ] || fail "-o as uid 65534 wrote through root's symlink"
	[ -L "$TMP/public/root-link" ] || fail "root's symlink was replaced by uid 65534"
	ls "$TMP/public" | grep -q ctrace-tmp && fail "a temporary file was left in $TMP/public"
	assert_not_traced "$NPID"
else
	skip_case "-o at another user's symlink in a sticky directory" "setpriv cannot switch to uid 65534 here"
fi

# -o at a device or a pipe writes into it and never replaces it (-o /dev/null must leave /dev/null a
# device): a private null device and a FIFO with a reader stand in for the system's
mkfifo "$TMP/fifo"
cat "$TMP/fifo" >"$TMP/from-fifo" &
reader=$!
expect_exit 0 "$CTRACE" -p "$P" --backtraces -o "$TMP/fifo"
wait $reader
[ -p "$TMP/fifo" ] || fail "-o replaced a FIFO with a regular file"
grep -q "^Process $P" "$TMP/from-fifo" || fail "-o FIFO: the reader did not get the report"
if mknod "$TMP/null" c 1 3 2>/dev/null; then
	expect_exit 0 "$CTRACE" -p "$P" --backtraces -o "$TMP/null"
	[ -c "$TMP/null" ] || fail "-o replaced a character device with a regular file"
else
	skip_case "-o at a character device" "mknod is not permitted here"
fi

# a dump cut short: ctrace's own JSON, truncated, is refused with its line
expect_exit 0 "$CTRACE" -p "$P" --backtraces -f json -o "$TMP/full.json"
head -c $(($(wc -c <"$TMP/full.json") / 2)) "$TMP/full.json" >"$TMP/half.json"
check 1 "half.json:[0-9]+: .*truncated" "$CTRACE" analyze "$TMP/half.json"
assert_not_traced "$P"
echo "every bad input refused clearly"
