# debuginfod is off by default; --debuginfod (or DEBUGINFOD_URLS) fetches a missing debug file by
# build-id, after the capture, within the --timeout budget. A local server stands in for the network.
. "$TOP/tests/integration/lib.sh"
for t in objcopy strip readelf python3; do command -v $t >/dev/null || skip "needs $t"; done
need_ptrace

mkdir -p "$TMP/bin" "$TMP/srv"
cp "$FIXTURES/chain" "$TMP/bin/chain"
objcopy --only-keep-debug "$TMP/bin/chain" "$TMP/chain.dbg"
strip --strip-all "$TMP/bin/chain"
BID=$(readelf -n "$TMP/bin/chain" | awk '/Build ID/ {print $3}')
[ -n "$BID" ] || skip "the toolchain adds no build-id"
mkdir -p "$TMP/srv/buildid/$BID"
cp "$TMP/chain.dbg" "$TMP/srv/buildid/$BID/debuginfo"

start_server() { # $1 serve|blackhole: sets URL
	rm -f "$TMP/port" "$TMP/requests"
	python3 "$TOP/tests/fixtures/debuginfod_server.py" "$1" "$TMP/srv" "$TMP/requests" "$TMP/port" &
	SPID=$!
	PIDS="$PIDS $SPID"
	i=0
	while [ ! -s "$TMP/port" ]; do
		i=$((i + 1)); [ $i -gt 400 ] && fail "local debuginfod server did not start"; sleep 0.05
	done
	URL=http://127.0.0.1:$(cat "$TMP/port")
}
export DEBUGINFOD_CACHE_PATH="$TMP/cache"
unset DEBUGINFOD_URLS

FIXTURES=$TMP/bin start_fixture chain
start_server serve

# off by default: no option, no DEBUGINFOD_URLS -> no request, no names from elsewhere
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
printf '%s\n' "$OUT" | grep -q ' in f3+' && fail "named without debug info: $OUT"
[ ! -s "$TMP/requests" ] || fail "a request was made without opting in: $(cat "$TMP/requests")"
# the option without a server to ask: accepted, one warning, no request
expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debuginfod
printf '%s\n' "$ERR" | grep -q 'DEBUGINFOD_URLS is not set' || fail "no hint about DEBUGINFOD_URLS: $ERR"
[ ! -s "$TMP/requests" ] || fail "a request without a server configured: $(cat "$TMP/requests")"

# opted in: the debug file comes from the server, by build-id
DEBUGINFOD_URLS=$URL expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debuginfod
printf '%s\n' "$OUT" | grep -Eq ' in f3\+0x[0-9a-f]+ \(chain\) chain\.c:6' || fail "not named from debuginfod: $OUT $ERR"
grep -q "^/buildid/$BID/debuginfo$" "$TMP/requests" || fail "no request for the build-id: $(cat "$TMP/requests")"
# DEBUGINFOD_URLS alone opts in too (as for gdb and eu-stack); the file now comes from the cache
rm -f "$TMP/requests"
DEBUGINFOD_URLS=$URL expect_exit 0 "$CTRACE" -p "$FPID" --backtraces
printf '%s\n' "$OUT" | grep -Eq ' in f3\+0x[0-9a-f]+ \(chain\) chain\.c:6' || fail "DEBUGINFOD_URLS alone: $OUT $ERR"
# --profile follows the same rule (it used to ask only with --debuginfod): a fresh cache, so the
# server is asked again
rm -rf "$TMP/cache" "$TMP/requests"
DEBUGINFOD_URLS=$URL expect_exit 0 "$CTRACE" -p "$FPID" --profile --sampler ptrace --mode wall -d 0.5 -f folded
printf '%s\n' "$OUT" | grep -Eq '(^|;)f3(;| )' || fail "--profile with DEBUGINFOD_URLS: f3 not named: $OUT $ERR"
grep -q "^/buildid/$BID/debuginfo$" "$TMP/requests" || fail "--profile made no request: $(cat "$TMP/requests")"
assert_not_traced "$FPID"
kill "$SPID"

# a server that never answers: bounded by --timeout, one warning, every frame still printed
rm -rf "$TMP/cache"
start_server blackhole
DEBUGINFOD_URLS=$URL expect_exit 0 "$CTRACE" -p "$FPID" --backtraces --debuginfod --timeout 1
printf '%s\n' "$OUT" | grep -Eq ' in __libc_pause\+0x[0-9a-f]+ \(libc\.so\.6\)' || fail "libc frame lost: $OUT"
printf '%s\n' "$OUT" | grep -Eq ' in _start\+0x[0-9a-f]+ \(chain\)|#[0-9]+ .*\(chain\)$' || fail "frames lost: $OUT"
n=$(printf '%s\n' "$ERR" | grep -c 'debuginfod: timed out')
[ "$n" = 1 ] || fail "want one timeout warning, got $n: $ERR"
assert_not_traced "$FPID"
exit 0
