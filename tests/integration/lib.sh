# Shared helpers for integration tests. Source it: . "$TOP/tests/integration/lib.sh"
# A test exits 0 (pass), 77 (skip, with the reason as its last line) or 1 (fail, saying why). A
# case it cannot run here while the rest runs is said with skip_case, never only with a note.
set -u
: "${CTRACE:?run through make check}" "${FIXTURES:?}" "${TOP:?}"
TMP=$(mktemp -d /tmp/ctrace-test.XXXXXX)
PIDS=""

# Background subshells inherit this trap in dash: reset it there with `trap - EXIT INT TERM`.
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
# a signal (run-tests' timeout, Ctrl-C) ends the test through EXIT, not in the middle of it
trap 'exit 1' INT TERM HUP PIPE

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "# $*"; }
# skip_case CASE REASON…: CASE is not checked here (a tool missing, a privilege lacking) and the
# rest of the test goes on. run-tests.sh counts and lists it as a skip (CT_SKIPS names the file
# it reads them from), so a test that passes the rest does not read as if it had passed CASE too.
skip_case() {
	_skip_case=$1; shift
	_skip_why=$(printf '%s' "$*" | tr '\n' ' ')
	echo "SKIP: case $_skip_case: $_skip_why"
	if [ -n "${CT_SKIPS:-}" ]; then
		printf 'case %s: %s\n' "$_skip_case" "$_skip_why" >>"$CT_SKIPS"
	fi
	return 0
}

# Skips when this machine forbids ptrace, asked without ctrace (fixtures/ptraceprobe): when the
# probe may trace and ctrace may not, ctrace is what is broken, and the test fails.
need_ptrace() {
	"$FIXTURES/chain" >"$TMP/ptrace-chain" 2>&1 &
	p=$!
	# its "ready" line (a fixed 0.2 s before: 10 s of every make check's lanes)
	i=0
	until grep -q '^ready' "$TMP/ptrace-chain" 2>/dev/null || [ $i -gt 250 ]; do
		i=$((i + 1))
		sleep 0.02
	done
	if ! "$FIXTURES/ptraceprobe" "$p" 2>"$TMP/ptrace-probe"; then
		kill -KILL $p 2>/dev/null
		skip "ptrace is not permitted here: $(cat "$TMP/ptrace-probe")"
	fi
	if ! "$CTRACE" -p "$p" --backtraces >/dev/null 2>"$TMP/ptrace-probe"; then
		kill -KILL $p 2>/dev/null
		fail "ptrace works here but ctrace -p $p --backtraces failed: $(cat "$TMP/ptrace-probe")"
	fi
	kill -KILL $p 2>/dev/null
	wait $p 2>/dev/null
}

# start_fixture NAME [ARGS…]: starts a fixture, waits for its "ready" line, sets FPID.
# FIXTURE_WRAP (words, e.g. "nice -n 10"): a command that execs the fixture, so $! is its PID;
# FIXTURE_WAIT: 50 ms steps to wait for "ready" (default 200).
start_fixture() {
	name=$1; shift
	start_cmd "$name" ${FIXTURE_WRAP:-} "$FIXTURES/$name" "$@"
}

# start_cmd NAME CMD [ARG…]: starts CMD (an interpreter and its script, a server) in the background
# and waits for its "ready" line, as start_fixture; its pid in FPID, its output in FOUT.
start_cmd() {
	name=$1; shift
	# a file of its own: a name reused by a later start (in a subshell $$ is the same) let the
	# wait below read the previous fixture's "ready" line before the new one truncated the file
	out=$(mktemp "$TMP/$name.XXXXXX") || fail "cannot create the output file of fixture $name"
	"$@" >"$out" 2>&1 &
	FPID=$!
	PIDS="$PIDS $FPID"
	i=0
	while ! grep -q '^ready' "$out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "${FIXTURE_WAIT:-200}" ] && fail "fixture $name did not get ready: $(cat "$out")"
		kill -0 $FPID 2>/dev/null || fail "fixture $name died: $(cat "$out")"
		sleep 0.05
	done
	FOUT=$out
}

# start_crashable DIR NAME CMD [ARG…]: start_cmd, with CMD run in DIR under ulimit -c unlimited,
# so that a signal that dumps core leaves its core file there.
start_crashable() {
	dir=$1; shift
	name=$1; shift
	start_cmd "$name" sh -c 'cd "$1" && ulimit -c unlimited && shift && exec "$@"' sh "$dir" "$@"
}

# ask_dump PID FILE [PATTERN]: asks an interpreter fixture for its own view of its stacks
# (SIGUSR1: faulthandler, Thread#backtrace_locations) and waits up to 5 s for it in FILE: a line
# matching PATTERN (grep), else any byte; then 0.1 s for the rest of it.
ask_dump() {
	kill -USR1 "$1"
	i=0
	while if [ -n "${3:-}" ]; then ! grep -q "$3" "$2" 2>/dev/null; else [ ! -s "$2" ]; fi; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "fixture $1 wrote no dump into $2"
		sleep 0.05
	done
	sleep 0.1
}

# No thread of PID may be left in tracing stop after ctrace ran.
assert_not_traced() {
	for s in /proc/$1/task/*/stat; do
		st=$(sed 's/.*) \(.\).*/\1/' "$s" 2>/dev/null) || continue
		[ "$st" = t ] && fail "thread $(basename "$(dirname "$s")") of $1 left in tracing stop"
	done
	tp=$(awk '/^TracerPid:/ {print $2}' /proc/$1/status)
	[ "$tp" = 0 ] || fail "process $1 still traced by $tp"
}

# expect_exit CODE CMD…: runs CMD, checks the exit code, keeps stdout in $OUT and stderr in $ERR.
expect_exit() {
	want=$1; shift
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
	[ "$got" = "$want" ] || fail "'$*' exited $got, want $want; stderr: $ERR"
}

# expect_usage PATTERN CMD…: CMD is a usage error: exit 64 and exactly one line on stderr,
# "ctrace: " and a message matching PATTERN (grep -E: the option and what is wrong with it).
expect_usage() {
	_usage_pat=$1; shift
	expect_exit 64 "$@"
	[ -n "$ERR" ] && [ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] ||
		fail "'$*': want one line on stderr, got: $ERR"
	printf '%s\n' "$ERR" | grep -Eq -- "^ctrace: .*$_usage_pat" ||
		fail "'$*': stderr '$ERR' does not say '$_usage_pat'"
}

# perf_probe [WRAP…]: "available", "not permitted" or "unavailable": what a direct perf_event_open
# of a software cpu-clock event on its own process says (python3's ctypes, not ctrace's code), run
# under WRAP (e.g. setpriv --reuid=65534 …) when given.
perf_probe() {
	py=/usr/bin/python3 # not a per-user shim that another uid may not read
	[ -x $py ] || py=python3
	"$@" $py - <<'PY'
import ctypes, errno, os, struct
libc = ctypes.CDLL(None, use_errno=True)
# struct perf_event_attr: type, size, config, sample_period, sample_type, read_format, flags
# (disabled | exclude_kernel | exclude_hv), the rest zero.
attr = struct.pack('IIQQQQQ', 1, 128, 1, 0, 0, 0, 1 | 1 << 5 | 1 << 6).ljust(128, b'\0')
buf = ctypes.create_string_buffer(attr, 128)
fd = libc.syscall(298, buf, 0, -1, -1, 8)  # __NR_perf_event_open on x86_64, PERF_FLAG_FD_CLOEXEC
if fd >= 0:
    os.close(fd); print('available')
else:
    e = ctypes.get_errno()
    print('not permitted' if e in (errno.EACCES, errno.EPERM) else 'unavailable')
PY
}

json_check() { python3 "$TOP/tests/integration/jsoncheck.py" "$@"; }

# eu_stacks FILE FIELD: eu-stack's output, one line "tid a,b,…" per thread from each frame line's
# FIELD (2: the pc, without 0x and leading zeros; 3: the function)
eu_stacks() {
	awk -v f="$2" '/^TID / { if (tid) print tid, s; tid = $2; sub(/:$/, "", tid); s = ""; next }
	     /^#/ { v = $f; if (f == 2) sub(/^0x0*/, "", v); s = s (s ? "," : "") v }
	     END { if (tid) print tid, s }' "$1"
}
