#!/bin/sh
# Without libc's debug information ctrace --threads says so once, shows the mutex waits without
# owners, and claims no deadlock it cannot see. /usr/lib/debug is hidden by an empty tmpfs in a
# private mount namespace of ctrace alone (needs root and unshare(1)).
. "$TOP/tests/integration/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to hide /usr/lib/debug in a private mount namespace"
command -v unshare >/dev/null 2>&1 || skip "unshare(1) is not installed"
unshare -m sh -c 'mount -t tmpfs none /usr/lib/debug' 2>/dev/null ||
	skip "cannot mount in a private mount namespace here"
need_ptrace
start_fixture stuck

export CTRACE_CACHE_DIR=off # the cache would still serve libc's inflated debug file
expect_exit 0 unshare -m sh -c "mount -t tmpfs none /usr/lib/debug && exec \"$CTRACE\" -p $FPID --threads --snapshots 2 --interval 100"
n=$(printf '%s\n' "$ERR" | grep -c 'no usable debug information for pthread_mutex_t (install its debug symbols, e.g. libc6-dbg); mutex owners are not shown')
[ "$n" = 1 ] || fail "want the missing debug information said once, got $n times: $ERR"
printf '%s\n' "$OUT" | grep -q '^No deadlock found\.$' || fail "deadlocks claimed without owners: $OUT"
printf '%s\n' "$OUT" | grep -q 'mutex 0x[0-9a-f]*: 4 waiting (waiter-\[0-3\]), holder unknown$' ||
	fail "the waiters' mutex is not shown: $OUT"
assert_not_traced "$FPID"
exit 0
